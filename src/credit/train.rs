//! `train`: from labelled Arrow batches to a `CreditModel` and its `TrainReport`. The steps, in
//! order: read the target and decide its kind; choose the features (explicit, or auto-detected
//! minus exclusions); split off the holdout (stratified, SHA-256 keyed); bin every feature on the
//! training rows and compute WoE and IV; drop auto-chosen features under the minimum IV; fit the
//! logistic regression on the WoE values (cumulative logit for classes), dropping features whose
//! coefficient comes out reversed or null, one at a time; turn the fit into PDO-scaled points;
//! fit the class cut-offs; measure train and holdout metrics.

use arrow::array::Array;
use arrow::record_batch::RecordBatch;
use ndarray::Array2;
use rayon::prelude::*;

use super::binning::{BinOptions, FittedBin, Lookup, Slot, bin_feature};
use super::frame::{self, Cell, Detected, FeatureKind};
use super::logistic;
use super::metrics::{self, Confusion};
use super::model::{
    BinSpec, CreditModel, FeatureSpec, MODEL_FORMAT, Metrics, ModelMetrics, ModelSpec, TargetKind,
    TargetSpec, TrainingInfo,
};
use super::params::{FeatureSelection, ValidTrainParams};
use super::report::{FeatureReport, FeatureStatus, TrainReport};
use super::scorecard::{self, round_to};
use super::target;
use crate::schema::CreditClass;
use crate::{Error, Result};

/// What `CreditModel::path` says for a model trained in memory and not yet saved.
pub const IN_MEMORY: &str = "(trained in memory)";

fn training(message: String) -> Error {
    Error::Training { message }
}

/// A column of every batch, found by name.
fn column_in_all<'a>(batches: &'a [RecordBatch], name: &str) -> Result<Option<Vec<&'a dyn Array>>> {
    let mut out = Vec::with_capacity(batches.len());
    for (k, b) in batches.iter().enumerate() {
        match frame::find_column(b, name) {
            Ok(Some(i)) => out.push(b.column(i).as_ref()),
            Ok(None) if k == 0 => return Ok(None),
            Ok(None) => {
                return Err(training(format!(
                    "batch {} of the table has no column {name:?} although the first has",
                    k + 1
                )));
            }
            Err((a, b)) => {
                return Err(training(format!(
                    "columns {a:?} and {b:?} both mean {name:?}"
                )));
            }
        }
    }
    Ok(Some(out))
}

/// A candidate feature: canonical name and its arrays.
struct Candidate<'a> {
    name: String,
    arrays: Vec<&'a dyn Array>,
    explicit: bool,
}

/// Columns auto-detection never takes: identifiers.
fn is_identifier(name: &str) -> bool {
    crate::schema::ent::USCC.matches(name) || crate::schema::ent::NAME.matches(name)
}

fn candidates<'a>(
    batches: &'a [RecordBatch],
    params: &ValidTrainParams,
) -> Result<Vec<Candidate<'a>>> {
    let first = &batches[0];
    let headers: Vec<String> = first
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut out: Vec<Candidate<'a>> = Vec::new();
    match params.features() {
        FeatureSelection::Include(list) => {
            for name in list {
                if frame::same_column(name, params.target()) {
                    return Err(training(format!("{name:?} is the target, not a feature")));
                }
                if params.weight().is_some_and(|w| frame::same_column(name, w)) {
                    return Err(training(format!("{name:?} is the weight, not a feature")));
                }
                let Some(arrays) = column_in_all(batches, name)? else {
                    return Err(training(format!(
                        "feature {name:?} is not a column of the table (columns: {})",
                        headers.join(", ")
                    )));
                };
                out.push(Candidate {
                    name: frame::canonical_name(name),
                    arrays,
                    explicit: true,
                });
            }
        }
        FeatureSelection::Auto | FeatureSelection::Exclude(_) => {
            let exclude: &[String] = match params.features() {
                FeatureSelection::Exclude(x) => x,
                _ => &[],
            };
            for x in exclude {
                if !headers.iter().any(|h| frame::same_column(h, x)) {
                    return Err(training(format!(
                        "excluded column {x:?} is not in the table (columns: {})",
                        headers.join(", ")
                    )));
                }
            }
            for h in &headers {
                if frame::same_column(h, params.target())
                    || params.weight().is_some_and(|w| frame::same_column(h, w))
                    || exclude.iter().any(|x| frame::same_column(h, x))
                {
                    continue;
                }
                if let Some(arrays) = column_in_all(batches, h)? {
                    out.push(Candidate {
                        name: frame::canonical_name(h),
                        arrays,
                        explicit: false,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// A feature being fitted.
struct Working {
    name: String,
    kind: FeatureKind,
    explicit: bool,
    bins: Vec<FittedBin>,
    woe: Vec<f64>,
    iv: f64,
    /// Slot of every labelled row.
    slots: Vec<Slot>,
}

/// Trains a credit scorecard on labelled batches (all with the same columns).
pub fn train(
    batches: &[RecordBatch],
    params: &ValidTrainParams,
) -> Result<(CreditModel, TrainReport)> {
    let rows_read: usize = batches.iter().map(|b| b.num_rows()).sum();
    if rows_read == 0 {
        return Err(training("the table has no rows".into()));
    }
    // Target.
    let Some(target_arrays) = column_in_all(batches, params.target())? else {
        let cols: Vec<String> = batches[0]
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        return Err(training(format!(
            "no target column {:?} (columns: {})",
            params.target(),
            cols.join(", ")
        )));
    };
    let mut target_text: Vec<Option<String>> = Vec::with_capacity(rows_read);
    for a in &target_arrays {
        target_text.extend(frame::text_values(*a).ok_or_else(|| {
            training(format!(
                "target column {:?} of type {} cannot be read as text",
                params.target(),
                a.data_type()
            ))
        })?);
    }
    let present: Vec<&str> = target_text.iter().flatten().map(String::as_str).collect();
    let kind = target::detect(&present, params.bad()).map_err(training)?;
    // Labelled rows (global index) and their labels.
    let mut rows: Vec<usize> = Vec::new();
    let mut labels: Vec<usize> = Vec::new();
    for (i, t) in target_text.iter().enumerate() {
        if let Some(t) = t {
            match target::label(&kind, t) {
                Some(l) => {
                    rows.push(i);
                    labels.push(l);
                }
                None => {
                    return Err(training(format!(
                        "target {:?}, row {}: {t:?} is not a credit class (A, B, C, D)",
                        params.target(),
                        i + 1
                    )));
                }
            }
        }
    }
    let weights: Vec<(f64, f64)> = labels.iter().map(|&l| target::weights(&kind, l)).collect();

    // Row weights (`--weight`), scaled to mean 1 over the labelled rows.
    let row_weights: Option<Vec<f64>> = match params.weight() {
        Some(col) => Some(read_row_weights(batches, col, &rows)?),
        None => None,
    };
    let weights: Vec<(f64, f64)> = match &row_weights {
        Some(w) => weights
            .iter()
            .zip(w)
            .map(|(&(g, b), &x)| (g * x, b * x))
            .collect(),
        None => weights,
    };

    // Split.
    let holdout = frame::holdout_split(&labels, params.holdout(), params.seed());
    let train_idx: Vec<usize> = (0..rows.len()).filter(|&i| !holdout[i]).collect();
    let hold_idx: Vec<usize> = (0..rows.len()).filter(|&i| holdout[i]).collect();
    {
        let bads = train_idx
            .iter()
            .filter(|&&i| target::is_bad(&kind, labels[i]))
            .count();
        if bads == 0 || bads == train_idx.len() {
            return Err(training(
                "the training rows hold only goods or only bads: nothing to learn".into(),
            ));
        }
    }
    let cands = candidates(batches, params)?;
    for (i, c) in cands.iter().enumerate() {
        if cands[..i].iter().any(|d| d.name == c.name) {
            return Err(training(format!(
                "two columns are the feature {:?} (an English and a Chinese header?)",
                c.name
            )));
        }
    }
    let ctx = FitContext {
        params,
        kind: &kind,
        cands: &cands,
        rows: &rows,
        labels: &labels,
        weights: &weights,
        row_weights: row_weights.as_deref(),
    };
    // Fit on the training rows and measure on the holdout; then, unless told not to, fit again
    // on every labelled row: that is the model saved (its train metrics are over all rows).
    let first = fit_on(&ctx, &train_idx)?;
    let holdout_metrics = (!hold_idx.is_empty()).then(|| {
        let pts: Vec<f64> = hold_idx.iter().map(|&i| first.points_of(i)).collect();
        let ls: Vec<usize> = hold_idx.iter().map(|&i| labels[i]).collect();
        measure(&kind, &pts, &ls, &first.cutoffs)
    });
    let refit = params.refit() && !hold_idx.is_empty();
    let all_idx: Vec<usize> = (0..rows.len()).collect();
    let (fit, fit_idx) = if refit {
        (fit_on(&ctx, &all_idx)?, &all_idx)
    } else {
        (first, &train_idx)
    };
    let fit_points: Vec<f64> = fit_idx.iter().map(|&i| fit.points_of(i)).collect();
    let fit_labels: Vec<usize> = fit_idx.iter().map(|&i| labels[i]).collect();
    let train_metrics = measure(&kind, &fit_points, &fit_labels, &fit.cutoffs);
    let Fit {
        working,
        features,
        base_points,
        cutoffs,
        fitted,
        mut report,
    } = fit;
    let scaling = params.scaling();

    let data_sha256 = params
        .data_sha256()
        .map(|h| h.to_ascii_lowercase())
        .unwrap_or_else(|| frame::canonical_sha256(batches));
    let spec = ModelSpec {
        format: MODEL_FORMAT.to_string(),
        spotcheck_version: env!("CARGO_PKG_VERSION").to_string(),
        target: TargetSpec {
            column: frame::canonical_name(params.target()),
            kind: kind.clone(),
        },
        scaling,
        base_points,
        intercepts: fitted.intercepts.iter().map(|&x| round_to(x, 6)).collect(),
        features,
        cutoffs: cutoffs.clone(),
        training: TrainingInfo {
            data_sha256: data_sha256.clone(),
            seed: params.seed(),
            holdout_share: params.holdout(),
            rows_read: rows_read as u64,
            rows_labelled: rows.len() as u64,
            train_rows: fit_idx.len() as u64,
            holdout_rows: hold_idx.len() as u64,
            monotonic: params.monotonic(),
            min_bin_share: params.min_bin_share(),
            prebins: params.prebins(),
            alpha: params.alpha(),
            cutoff_rule: match kind {
                TargetKind::Binary { .. } => "none".into(),
                TargetKind::Classes => "max-training-accuracy".into(),
            },
            weight_column: params.weight().map(frame::canonical_name),
            refit,
        },
        metrics: ModelMetrics {
            train: train_metrics,
            holdout: holdout_metrics,
        },
    };
    for (w, f) in working.iter().zip(&spec.features) {
        report.push(FeatureReport {
            name: w.name.clone(),
            kind: Some(w.kind),
            status: FeatureStatus::Used,
            iv: Some(f.iv),
            bins: f.bins.len(),
            coefficient: Some(f.coefficient),
        });
    }
    // Used features first, then the rest; each group by IV, highest first, then name.
    report.sort_by(|a, b| {
        (a.status != FeatureStatus::Used)
            .cmp(&(b.status != FeatureStatus::Used))
            .then(b.iv.unwrap_or(-1.0).total_cmp(&a.iv.unwrap_or(-1.0)))
            .then_with(|| a.name.cmp(&b.name))
    });
    let model = CreditModel::from_spec(spec, IN_MEMORY)?;
    let report = TrainReport {
        target: model.spec().target.clone(),
        rows_read: rows_read as u64,
        rows_labelled: rows.len() as u64,
        train_rows: fit_idx.len() as u64,
        holdout_rows: hold_idx.len() as u64,
        features: report,
        base_points,
        cutoffs,
        metrics: model.spec().metrics.clone(),
        data_sha256,
    };
    Ok((model, report))
}

/// What `fit_on` needs from `train`.
struct FitContext<'a, 'b> {
    params: &'a ValidTrainParams,
    kind: &'a TargetKind,
    cands: &'a [Candidate<'b>],
    /// Global index of each labelled row, its label and good/bad weights (row weight included).
    rows: &'a [usize],
    labels: &'a [usize],
    weights: &'a [(f64, f64)],
    row_weights: Option<&'a [f64]>,
}

/// A scorecard fitted on some of the labelled rows, able to score any labelled row.
struct Fit {
    working: Vec<Working>,
    features: Vec<FeatureSpec>,
    base_points: f64,
    cutoffs: Vec<f64>,
    fitted: logistic::Fitted,
    /// Features left out (skipped, low IV, reversed).
    report: Vec<FeatureReport>,
}

impl Fit {
    /// The points of labelled row `i`.
    fn points_of(&self, i: usize) -> f64 {
        let mut p = self.base_points;
        for (w, f) in self.working.iter().zip(&self.features) {
            if let Slot::Bin(b) = w.slots[i] {
                p += f.bins[b].points;
            }
        }
        round_to(p, 3)
    }
}

/// Bins, WoE/IV, logistic fit, points and cut-offs on the labelled rows `idx` (positions in
/// `ctx.rows`).
fn fit_on(ctx: &FitContext<'_, '_>, idx: &[usize]) -> Result<Fit> {
    let FitContext {
        params,
        kind,
        cands,
        rows,
        labels,
        weights,
        row_weights,
    } = *ctx;
    let kind = kind.clone();
    let train_idx = idx;
    let train_labels: Vec<usize> = train_idx.iter().map(|&i| labels[i]).collect();
    let train_weights: Vec<(f64, f64)> = train_idx.iter().map(|&i| weights[i]).collect();
    let opts = BinOptions {
        prebins: params.prebins(),
        min_count: ((params.min_bin_share() * train_idx.len() as f64).ceil() as u64).max(1),
        monotonic: params.monotonic(),
    };
    let mut report: Vec<FeatureReport> = Vec::new();
    // Kinds and bins of the candidate features.
    let binned: Vec<Result<std::result::Result<Working, FeatureReport>>> = cands
        .par_iter()
        .map(|c| {
            if !c.explicit && is_identifier(&c.name) {
                return Ok(Err(FeatureReport::skipped(
                    &c.name,
                    FeatureStatus::Identifier,
                )));
            }
            let detected = frame::detect_kind(&c.arrays, params.max_levels());
            let kind = match detected {
                Detected::Feature(k) => k,
                // An explicitly requested column is used even when it is an identifier-like
                // text or a constant (it then gets one bin and no weight).
                Detected::TooManyLevels(_) if c.explicit => FeatureKind::Categorical,
                Detected::Constant(k) if c.explicit => k,
                Detected::Constant(_) => {
                    return Ok(Err(FeatureReport::skipped(
                        &c.name,
                        FeatureStatus::Constant,
                    )));
                }
                Detected::TooManyLevels(n) => {
                    let status = FeatureStatus::TooManyLevels(n);
                    return Ok(Err(FeatureReport::skipped(&c.name, status)));
                }
                Detected::Unreadable(t) => {
                    let status = FeatureStatus::Unreadable(t);
                    return Ok(Err(FeatureReport::skipped(&c.name, status)));
                }
            };
            let all: Vec<Cell> = c
                .arrays
                .iter()
                .flat_map(|a| frame::read_cells(*a, kind))
                .collect();
            let cells: Vec<Cell> = rows.iter().map(|&r| all[r].clone()).collect();
            let invalid = cells.iter().enumerate().find_map(|(k, x)| match x {
                Cell::Invalid(v) => Some((k, v)),
                _ => None,
            });
            if let Some((k, v)) = invalid {
                return Err(training(format!(
                    "feature {:?}, row {}: {v:?} is not {}",
                    c.name,
                    rows[k] + 1,
                    match kind {
                        FeatureKind::Numeric => "a number",
                        FeatureKind::Boolean => "true/false",
                        FeatureKind::Categorical => "text",
                    }
                )));
            }
            let train_cells: Vec<Cell> = train_idx.iter().map(|&i| cells[i].clone()).collect();
            let bins = bin_feature(kind, &train_cells, &train_weights, &opts).map_err(|k| {
                training(format!(
                    "feature {:?}, row {}: value of the wrong kind",
                    c.name,
                    rows[train_idx[k]] + 1
                ))
            })?;
            let stats: Vec<_> = bins.iter().map(|b| b.stats).collect();
            let (woe, iv) = super::woe::woe_iv(&stats);
            let rules: Vec<_> = bins.iter().map(|b| &b.rule).collect();
            let lookup = Lookup::new(kind, &rules)
                .map_err(|m| training(format!("feature {:?}: inconsistent bins: {m}", c.name)))?;
            let slots: Vec<Slot> = cells.iter().map(|x| lookup.slot(x)).collect();
            Ok(Ok(Working {
                name: c.name.clone(),
                kind,
                explicit: c.explicit,
                bins,
                woe,
                iv,
                slots,
            }))
        })
        .collect();
    let mut working: Vec<Working> = Vec::new();
    for b in binned {
        match b? {
            Ok(w) => {
                if !w.explicit && w.iv < params.min_iv() {
                    report.push(FeatureReport {
                        name: w.name.clone(),
                        kind: Some(w.kind),
                        status: FeatureStatus::LowIv,
                        iv: Some(w.iv),
                        bins: w.bins.len(),
                        coefficient: None,
                    });
                } else {
                    working.push(w);
                }
            }
            Err(r) => report.push(r),
        }
    }
    if working.is_empty() {
        return Err(training(format!(
            "no usable feature (each column was constant, an identifier, or under the minimum IV {})",
            params.min_iv()
        )));
    }

    // Fit, dropping reversed coefficients one at a time.
    let woe_of = |w: &Working, i: usize| match w.slots[i] {
        Slot::Bin(b) => w.woe[b],
        _ => 0.0,
    };
    let fitted = loop {
        let p = working.len();
        let mut x = Array2::<f64>::zeros((train_idx.len(), p));
        for (r, &i) in train_idx.iter().enumerate() {
            for (j, w) in working.iter().enumerate() {
                x[[r, j]] = woe_of(w, i);
            }
        }
        let w: Option<Vec<f64>> = row_weights.map(|rw| train_idx.iter().map(|&i| rw[i]).collect());
        let f = match (&kind, &w) {
            (TargetKind::Binary { .. }, None) => {
                let bad: Vec<bool> = train_labels.iter().map(|&l| l == 1).collect();
                logistic::fit_binary(&x, &bad, params.alpha())
            }
            (TargetKind::Binary { .. }, Some(w)) => {
                let bad: Vec<bool> = train_labels.iter().map(|&l| l == 1).collect();
                logistic::fit_binary_weighted(&x, &bad, w, params.alpha())
            }
            (TargetKind::Classes, None) => {
                logistic::fit_cumulative(&x, &train_labels, params.alpha())
            }
            (TargetKind::Classes, Some(w)) => {
                logistic::fit_cumulative_weighted(&x, &train_labels, w, params.alpha())
            }
        }
        .map_err(|m| training(format!("the logistic regression failed: {m}")))?;
        // WoE = ln(%good/%bad), so a sound coefficient on the log-odds of bad is negative.
        let worst = (0..p)
            .filter(|&j| f.coefs[j] > -1e-6)
            .max_by(|&a, &b| f.coefs[a].total_cmp(&f.coefs[b]).then(b.cmp(&a)));
        match worst {
            Some(j) if p > 1 => {
                let w = working.remove(j);
                report.push(FeatureReport {
                    name: w.name,
                    kind: Some(w.kind),
                    status: FeatureStatus::Reversed,
                    iv: Some(w.iv),
                    bins: w.bins.len(),
                    coefficient: Some(round_to(f.coefs[j], 6)),
                });
            }
            Some(_) => {
                return Err(training(format!(
                    "the only feature left, {:?}, does not separate goods from bads",
                    working[0].name
                )));
            }
            None => break f,
        }
    };

    // Points.
    let scaling = params.scaling();
    let (factor, offset) = (scaling.factor(), scaling.offset());
    let anchor = match kind {
        TargetKind::Binary { .. } => fitted.intercepts[0],
        TargetKind::Classes => fitted.intercepts[1],
    };
    let base_points = scorecard::base_points(anchor, offset, factor);
    let features: Vec<FeatureSpec> = working
        .iter()
        .zip(&fitted.coefs)
        .map(|(w, &coef)| FeatureSpec {
            name: w.name.clone(),
            kind: w.kind,
            iv: round_to(w.iv, 6),
            coefficient: round_to(coef, 6),
            bins: w
                .bins
                .iter()
                .zip(&w.woe)
                .map(|(b, &woe)| BinSpec {
                    rule: b.rule.clone(),
                    label: b.rule.label(),
                    count: b.stats.count,
                    good: b.stats.good,
                    bad: b.stats.bad,
                    woe: round_to(woe, 6) + 0.0,
                    points: scorecard::bin_points(coef, woe, factor),
                })
                .collect(),
        })
        .collect();
    let mut fit = Fit {
        working,
        features,
        base_points,
        cutoffs: Vec::new(),
        fitted,
        report,
    };
    if let TargetKind::Classes = kind {
        let train_points: Vec<f64> = train_idx.iter().map(|&i| fit.points_of(i)).collect();
        fit.cutoffs = scorecard::fit_cutoffs(&train_points, &train_labels)
            .map(|c| c.to_vec())
            .unwrap_or_default();
    }
    Ok(fit)
}

/// The `--weight` column of the labelled rows, each finite and > 0, scaled to mean 1.
fn read_row_weights(batches: &[RecordBatch], column: &str, rows: &[usize]) -> Result<Vec<f64>> {
    let Some(arrays) = column_in_all(batches, column)? else {
        return Err(training(format!("no weight column {column:?}")));
    };
    let mut all: Vec<Option<f64>> = Vec::new();
    for a in arrays {
        let f = arrow::compute::cast(a, &arrow::datatypes::DataType::Float64)
            .map_err(|e| training(format!("weight column {column:?} is not numeric: {e}")))?;
        let f = f
            .as_any()
            .downcast_ref::<arrow::array::Float64Array>()
            .ok_or_else(|| training(format!("weight column {column:?} is not numeric")))?;
        all.extend(f.iter());
    }
    let mut w = Vec::with_capacity(rows.len());
    for &r in rows {
        match all[r] {
            Some(x) if x.is_finite() && x > 0.0 => w.push(x),
            other => {
                return Err(training(format!(
                    "weight column {column:?}, row {}: {} is not a weight > 0",
                    r + 1,
                    other.map_or("an empty cell".to_string(), |x| x.to_string())
                )));
            }
        }
    }
    let mean = w.iter().sum::<f64>() / w.len() as f64;
    Ok(w.into_iter().map(|x| x / mean).collect())
}

/// Metrics of scored rows: AUC, KS and Gini of bad (C/D) against the points, and for classes the
/// confusion matrix and accuracy of the cut-offs. Rounded to 6 decimals for the model file.
pub(crate) fn measure(
    kind: &TargetKind,
    points: &[f64],
    labels: &[usize],
    cutoffs: &[f64],
) -> Metrics {
    let risk: Vec<f64> = points.iter().map(|p| -p).collect();
    let bad: Vec<bool> = labels.iter().map(|&l| target::is_bad(kind, l)).collect();
    let auc = metrics::auc(&risk, &bad);
    let r6 = |x: f64| round_to(x, 6);
    let confusion = match (kind, cutoffs) {
        (TargetKind::Classes, [a, b, c]) => {
            Some(Confusion::from_pairs(points.iter().zip(labels).map(
                |(&p, &l)| (CreditClass::ALL[l], scorecard::classify(p, &[*a, *b, *c])),
            )))
        }
        _ => None,
    };
    Metrics {
        rows: points.len() as u64,
        bads: bad.iter().filter(|b| **b).count() as u64,
        auc: auc.map(r6),
        ks: metrics::ks(&risk, &bad).map(r6),
        gini: auc.map(|a| r6(metrics::gini(a))),
        accuracy: confusion.and_then(|c| c.accuracy()).map(r6),
        within_one: confusion.and_then(|c| c.within_one()).map(r6),
        confusion,
    }
}
