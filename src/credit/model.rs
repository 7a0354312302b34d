//! The trained credit scorecard (`CreditModel`) and its JSON model file: what it holds (features,
//! bins, WoE, coefficients, points, class cut-offs, training data SHA-256, seed, metrics,
//! spotcheck version), how it is written (keys sorted at every level, two-space indentation,
//! floats rounded when the model is built, so the same data and seed give byte-identical files),
//! how it is read back and checked, and how it scores rows: points = base points + the points of
//! each feature's bin, the class from the cut-offs, and the top-3 reason codes.
//!
//! Scoring reads cells from the batch as they come (see `frame`): a missing value scores in the
//! missing bin, a category unseen in training scores 0 points (WoE 0, the population's odds), a
//! value that cannot be read as the feature's kind (`abc` in a numeric column) makes the row
//! unscorable (`None`).

use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::binning::{BinRule, Lookup, Slot};
use super::frame::{self, Cell, FeatureKind};
use super::metrics::Confusion;
use super::params::{Monotonic, Scaling};
use super::scorecard;
use crate::predict::{CreditPrediction, CreditPredictor};
use crate::schema::{CreditClass, Lang};
use crate::{Error, Result};

/// Format tag written in every model file.
pub const MODEL_FORMAT: &str = "spotcheck-credit-scorecard/1";

/// What the model predicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TargetKind {
    /// Good/bad; `bad` is the (normalised) value that means bad.
    Binary { bad: String },
    /// The ordinal credit classes A < B < C < D (信用风险分类).
    Classes,
}

/// The target the model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetSpec {
    /// Column name in the training table (canonical English name when it is a known column).
    pub column: String,
    #[serde(flatten)]
    pub kind: TargetKind,
}

/// One bin of a feature in the model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinSpec {
    /// Which values fall in the bin.
    pub rule: BinRule,
    /// Readable form of the rule.
    pub label: String,
    /// Training rows in the bin.
    pub count: u64,
    /// Good and bad weight of those rows (for classes: see `woe::Stats`).
    pub good: f64,
    pub bad: f64,
    /// Weight of evidence, ln(%good/%bad), rounded to 6 decimals.
    pub woe: f64,
    /// Scorecard points of the bin, rounded to 3 decimals.
    pub points: f64,
}

/// One feature of the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    /// Column name (canonical English name for the known credit features of SPEC §1.1).
    pub name: String,
    pub kind: FeatureKind,
    /// Information value on the training rows, rounded to 6 decimals.
    pub iv: f64,
    /// Logistic coefficient of the feature's WoE (negative: higher WoE, lower risk).
    pub coefficient: f64,
    pub bins: Vec<BinSpec>,
}

/// Metrics of the model on one set of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Rows scored with a known target.
    pub rows: u64,
    /// Bad rows (binary) or C/D rows (classes).
    pub bads: u64,
    /// AUC, KS and Gini of bad (C/D vs A/B for classes) against the points; `None` without both
    /// goods and bads.
    pub auc: Option<f64>,
    pub ks: Option<f64>,
    pub gini: Option<f64>,
    /// Classes only: share of rows whose class is right, and within one class.
    pub accuracy: Option<f64>,
    pub within_one: Option<f64>,
    /// Classes only: `counts[actual][predicted]`.
    pub confusion: Option<Confusion>,
}

/// Where the model came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    /// SHA-256 of the training data: of the file's bytes when the caller gave it, else of the
    /// canonical serialisation of the batches (`frame::canonical_sha256`).
    pub data_sha256: String,
    /// Seed of the holdout split.
    pub seed: u64,
    /// Share of rows held out.
    pub holdout_share: f64,
    /// Rows read, rows with a target, rows trained on, rows held out.
    pub rows_read: u64,
    pub rows_labelled: u64,
    pub train_rows: u64,
    pub holdout_rows: u64,
    /// Binning and fitting options.
    pub monotonic: Monotonic,
    pub min_bin_share: f64,
    pub prebins: usize,
    pub alpha: f64,
    /// How the class cut-offs were fitted.
    pub cutoff_rule: String,
    /// The column of row weights the fit used (`train --weight`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_column: Option<String>,
    /// Whether the saved model was refitted on every labelled row after the holdout was measured
    /// (then `train_rows` counts them all). Written only when true; absent means false (the
    /// shipped model and models of earlier versions).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refit: bool,
}

/// Train and holdout metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetrics {
    pub train: Metrics,
    pub holdout: Option<Metrics>,
}

/// Everything the model file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Always [`MODEL_FORMAT`].
    pub format: String,
    /// spotcheck version that trained the model.
    pub spotcheck_version: String,
    pub target: TargetSpec,
    pub scaling: Scaling,
    /// Points every row starts from: offset − factor·(anchor intercept).
    pub base_points: f64,
    /// Logistic intercepts: one (binary) or three, for splits A|BCD, AB|CD, ABC|D (classes).
    pub intercepts: Vec<f64>,
    pub features: Vec<FeatureSpec>,
    /// Classes only: `[A/B, B/C, C/D]` cut-offs on the points, descending.
    pub cutoffs: Vec<f64>,
    pub training: TrainingInfo,
    pub metrics: ModelMetrics,
}

/// One scored row.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// Scorecard points (higher = lower risk).
    pub points: f64,
    /// Class from the cut-offs (class models only).
    pub class: Option<CreditClass>,
    /// Names of up to three features pushing the row towards higher risk, most important first.
    pub reasons: Vec<String>,
}

/// A trained credit scorecard, ready to score.
#[derive(Debug, Clone)]
pub struct CreditModel {
    spec: ModelSpec,
    lookups: Vec<Lookup>,
    /// Best bin points of each feature (reason codes measure the distance to it).
    best: Vec<f64>,
    path: PathBuf,
}

impl PartialEq for CreditModel {
    fn eq(&self, other: &Self) -> bool {
        self.spec == other.spec
    }
}

impl CreditModel {
    /// Builds a model from its specification, checking that it is usable. `path` is only used in
    /// error messages (the file it came from, or a description).
    pub fn from_spec(spec: ModelSpec, path: impl Into<PathBuf>) -> Result<CreditModel> {
        let path = path.into();
        let bad = |message: String| Error::Model {
            path: path.clone(),
            message,
        };
        if spec.format != MODEL_FORMAT {
            return Err(bad(format!(
                "format {:?} is not {MODEL_FORMAT:?}",
                spec.format
            )));
        }
        if spec.features.is_empty() {
            return Err(bad("the model has no feature".into()));
        }
        if !spec.base_points.is_finite() {
            return Err(bad("base_points is not a finite number".into()));
        }
        match spec.target.kind {
            TargetKind::Classes => {
                let c = &spec.cutoffs;
                if c.len() != 3
                    || !(c[0] >= c[1] && c[1] >= c[2])
                    || c.iter().any(|x| !x.is_finite())
                {
                    return Err(bad(format!(
                        "a class model needs 3 descending cut-offs, found {c:?}"
                    )));
                }
            }
            TargetKind::Binary { .. } => {
                if !spec.cutoffs.is_empty() {
                    return Err(bad("a binary model has no class cut-offs".into()));
                }
            }
        }
        let mut lookups = Vec::with_capacity(spec.features.len());
        let mut best = Vec::with_capacity(spec.features.len());
        for (i, f) in spec.features.iter().enumerate() {
            if spec.features[..i]
                .iter()
                .any(|g| frame::same_column(&g.name, &f.name))
            {
                return Err(bad(format!("feature {:?} appears twice", f.name)));
            }
            let rules: Vec<&BinRule> = f.bins.iter().map(|b| &b.rule).collect();
            let lk = Lookup::new(f.kind, &rules)
                .map_err(|m| bad(format!("feature {:?}: {m}", f.name)))?;
            if f.bins.iter().any(|b| !b.points.is_finite()) {
                return Err(bad(format!("feature {:?}: points are not finite", f.name)));
            }
            lookups.push(lk);
            best.push(f.bins.iter().map(|b| b.points).fold(0.0f64, f64::max));
        }
        Ok(CreditModel {
            spec,
            lookups,
            best,
            path,
        })
    }

    /// The model's specification (everything in the file).
    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// The path the model was loaded from (or a description for a model trained in memory).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Names of the features the model needs.
    pub fn feature_names(&self) -> Vec<&str> {
        self.spec.features.iter().map(|f| f.name.as_str()).collect()
    }

    /// Whether the model predicts credit classes A–D (it was trained on classes, not good/bad).
    pub fn predicts_classes(&self) -> bool {
        matches!(self.spec.target.kind, TargetKind::Classes)
    }

    /// The model file: JSON with sorted keys and two-space indentation, ending in a newline.
    pub fn to_json(&self) -> String {
        // A derived Serialize of plain structs cannot fail; the fallback keeps the function total.
        let v = serde_json::to_value(&self.spec).unwrap_or(Value::Null);
        let mut out = String::new();
        write_canonical(&v, 0, &mut out);
        out.push('\n');
        out
    }

    /// Reads a model file's text; `path` names it in errors.
    pub fn from_json(text: &str, path: impl Into<PathBuf>) -> Result<CreditModel> {
        let path = path.into();
        let spec: ModelSpec = serde_json::from_str(text).map_err(|e| Error::Model {
            path: path.clone(),
            message: format!("not a spotcheck credit model: {e}"),
        })?;
        CreditModel::from_spec(spec, path)
    }

    /// Reads a model file.
    pub fn load(path: impl AsRef<Path>) -> Result<CreditModel> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        CreditModel::from_json(&text, path)
    }

    /// Writes the model file (to a temporary file in the same folder, then renamed into place).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, self.to_json()).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    }

    /// Column index of every feature in `batch`; the error names every missing feature.
    pub fn feature_columns(&self, batch: &RecordBatch) -> Result<Vec<usize>> {
        let mut idx = Vec::with_capacity(self.spec.features.len());
        let mut missing = Vec::new();
        let names: Vec<&str> = self.spec.features.iter().map(|f| f.name.as_str()).collect();
        for (f, found) in self
            .spec
            .features
            .iter()
            .zip(frame::find_columns(batch, &names))
        {
            match found {
                Ok(Some(i)) => idx.push(i),
                Ok(None) => missing.push(f.name.as_str()),
                Err((a, b)) => {
                    return Err(Error::Model {
                        path: self.path.clone(),
                        message: format!("columns {a:?} and {b:?} both mean feature {:?}", f.name),
                    });
                }
            }
        }
        if missing.is_empty() {
            Ok(idx)
        } else {
            Err(Error::Model {
                path: self.path.clone(),
                message: format!(
                    "the table lacks {} feature column(s) the model needs: {}",
                    missing.len(),
                    missing.join(", ")
                ),
            })
        }
    }

    /// Reads the feature cells of a batch, one vector per feature.
    pub(crate) fn read_features(&self, batch: &RecordBatch) -> Result<Vec<Vec<Cell>>> {
        let idx = self.feature_columns(batch)?;
        Ok(self
            .spec
            .features
            .iter()
            .zip(idx)
            .map(|(f, i)| frame::read_cells(batch.column(i).as_ref(), f.kind))
            .collect())
    }

    /// The bin slot of each feature for each row: `slots[feature][row]`.
    pub(crate) fn slots(&self, cells: &[Vec<Cell>]) -> Vec<Vec<Slot>> {
        cells
            .iter()
            .zip(&self.lookups)
            .map(|(c, lk)| c.iter().map(|x| lk.slot(x)).collect())
            .collect()
    }

    /// Points of one row from its slots; `None` if a cell is invalid.
    pub(crate) fn row_points(&self, slots: &[Vec<Slot>], row: usize) -> Option<f64> {
        let mut p = self.spec.base_points;
        for (f, s) in self.spec.features.iter().zip(slots) {
            match s[row] {
                Slot::Bin(b) => p += f.bins[b].points,
                Slot::Unseen => {}
                Slot::Invalid => return None,
            }
        }
        Some(scorecard::round_to(p, 3))
    }

    /// Class of a score (class models only).
    pub fn class_of(&self, points: f64) -> Option<CreditClass> {
        match self.spec.cutoffs.as_slice() {
            [a, b, c] if self.predicts_classes() => {
                Some(scorecard::classify(points, &[*a, *b, *c]))
            }
            _ => None,
        }
    }

    fn row_reasons(&self, slots: &[Vec<Slot>], row: usize) -> Vec<String> {
        let gaps: Vec<f64> = self
            .spec
            .features
            .iter()
            .zip(slots)
            .zip(&self.best)
            .map(|((f, s), best)| match s[row] {
                Slot::Bin(b) => best - f.bins[b].points,
                _ => *best,
            })
            .collect();
        scorecard::top_reasons(&gaps)
            .into_iter()
            .map(|i| self.spec.features[i].name.clone())
            .collect()
    }

    /// Scores every row of a batch: `None` where a feature cell cannot be read. Errors when the
    /// batch lacks a feature column.
    pub fn score_batch(&self, batch: &RecordBatch) -> Result<Vec<Option<Scored>>> {
        let cells = self.read_features(batch)?;
        let slots = self.slots(&cells);
        Ok((0..batch.num_rows())
            .map(|r| {
                self.row_points(&slots, r).map(|points| Scored {
                    points,
                    class: self.class_of(points),
                    reasons: self.row_reasons(&slots, r),
                })
            })
            .collect())
    }
}

impl CreditPredictor for CreditModel {
    fn predict_batch(&self, raw: &RecordBatch) -> Result<Vec<Option<CreditPrediction>>> {
        if !self.predicts_classes() {
            return Err(Error::Model {
                path: self.path.clone(),
                message: "the model was trained on a good/bad target and predicts no credit class A–D; train it on a credit_class column".into(),
            });
        }
        Ok(self
            .score_batch(raw)?
            .into_iter()
            .map(|s| {
                s.and_then(|s| {
                    s.class.map(|class| CreditPrediction {
                        class,
                        points: s.points,
                        reasons: s.reasons,
                    })
                })
            })
            .collect())
    }
}

/// A feature name in the output language: the Chinese header of a known credit feature with
/// `Lang::Zh`, else the name itself.
pub fn feature_label(name: &str, lang: Lang) -> String {
    match lang {
        Lang::En => name.to_string(),
        Lang::Zh => crate::schema::feat::ALL
            .iter()
            .find(|c| c.name == name)
            .map_or_else(|| name.to_string(), |c| c.zh.to_string()),
    }
}

/// Writes JSON with object keys sorted (byte order) at every level and two-space indentation,
/// whatever map type serde_json was built with.
fn write_canonical(v: &Value, indent: usize, out: &mut String) {
    let pad = |n: usize, out: &mut String| out.extend(std::iter::repeat_n(' ', n));
    match v {
        Value::Object(m) if !m.is_empty() => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push_str("{\n");
            for (i, k) in keys.iter().enumerate() {
                pad(indent + 2, out);
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push_str(": ");
                write_canonical(&m[k.as_str()], indent + 2, out);
                if i + 1 < keys.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            pad(indent, out);
            out.push('}');
        }
        Value::Array(a) if !a.is_empty() => {
            out.push_str("[\n");
            for (i, x) in a.iter().enumerate() {
                pad(indent + 2, out);
                write_canonical(x, indent + 2, out);
                if i + 1 < a.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            pad(indent, out);
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys() {
        let v: Value =
            serde_json::from_str(r#"{"b": [1, {"z": 1.5, "a": null}], "a": "x"}"#).unwrap();
        let mut s = String::new();
        write_canonical(&v, 0, &mut s);
        assert_eq!(
            s,
            "{\n  \"a\": \"x\",\n  \"b\": [\n    1,\n    {\n      \"a\": null,\n      \"z\": 1.5\n    }\n  ]\n}"
        );
    }

    #[test]
    fn feature_labels_in_chinese() {
        assert_eq!(
            feature_label("admin_penalties_3y", Lang::Zh),
            "行政处罚次数"
        );
        assert_eq!(feature_label("my_col", Lang::Zh), "my_col");
        assert_eq!(feature_label("employees", Lang::En), "employees");
    }
}
