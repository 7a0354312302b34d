//! `evaluate` and `psi`: how a trained model does on another labelled table (AUC, KS, Gini, and
//! for classes accuracy and the confusion matrix, plus each feature's IV on that table with the
//! model's bins), and how stable the population is between two tables (PSI of the points over
//! the deciles of the first table, and of each feature over the model's bins).

use arrow::record_batch::RecordBatch;

use super::binning::Slot;
use super::frame;
use super::metrics::{self, PsiBand};
use super::model::{CreditModel, TargetKind};
use super::report::{EvalFeature, EvalReport, PsiLine, PsiReport};
use super::scorecard::round_to;
use super::target;
use super::train::measure;
use super::woe::{Stats, woe_iv};
use crate::{Error, Result};

/// Scored rows of a table: per row the points (`None`: unscorable) and per feature the slots.
struct Scoring {
    points: Vec<Option<f64>>,
    /// `slots[feature][row]`.
    slots: Vec<Vec<Slot>>,
}

fn score_all(model: &CreditModel, batches: &[RecordBatch]) -> Result<Scoring> {
    let n_feat = model.spec().features.len();
    let mut points = Vec::new();
    let mut slots: Vec<Vec<Slot>> = vec![Vec::new(); n_feat];
    for b in batches {
        let cells = model.read_features(b)?;
        let s = model.slots(&cells);
        for r in 0..b.num_rows() {
            points.push(model.row_points(&s, r));
        }
        for (all, part) in slots.iter_mut().zip(s) {
            all.extend(part);
        }
    }
    Ok(Scoring { points, slots })
}

/// Evaluates a model on labelled batches; `target` names the label column.
pub fn evaluate(model: &CreditModel, batches: &[RecordBatch], target: &str) -> Result<EvalReport> {
    let bad_data = |message: String| Error::Model {
        path: model.path().to_path_buf(),
        message,
    };
    let scoring = score_all(model, batches)?;
    let kind = &model.spec().target.kind;
    let mut labels: Vec<Option<usize>> = Vec::with_capacity(scoring.points.len());
    for b in batches {
        let i = match frame::find_column(b, target) {
            Ok(Some(i)) => i,
            Ok(None) => {
                return Err(bad_data(format!(
                    "the table has no target column {target:?}"
                )));
            }
            Err((x, y)) => {
                return Err(bad_data(format!(
                    "columns {x:?} and {y:?} both mean {target:?}"
                )));
            }
        };
        let text = frame::text_values(b.column(i).as_ref())
            .ok_or_else(|| bad_data(format!("target column {target:?} cannot be read as text")))?;
        for t in text {
            let row = labels.len() + 1;
            labels.push(match t {
                None => None,
                Some(t) => Some(target::label(kind, &t).ok_or_else(|| {
                    bad_data(format!(
                        "target {target:?}, row {row}: {t:?} is not a credit class (A, B, C, D)"
                    ))
                })?),
            });
        }
    }
    let mut pts = Vec::new();
    let mut ls = Vec::new();
    let mut used = Vec::new();
    let (mut unscorable, mut unlabelled) = (0u64, 0u64);
    for (r, (p, l)) in scoring.points.iter().zip(&labels).enumerate() {
        match (p, l) {
            (None, _) => unscorable += 1,
            (Some(_), None) => unlabelled += 1,
            (Some(p), Some(l)) => {
                pts.push(*p);
                ls.push(*l);
                used.push(r);
            }
        }
    }
    let m = measure(kind, &pts, &ls, &model.spec().cutoffs);
    let features = model
        .spec()
        .features
        .iter()
        .zip(&scoring.slots)
        .map(|(f, s)| {
            // One more bin for categories unseen in training.
            let mut stats = vec![Stats::default(); f.bins.len() + 1];
            let mut unseen = 0u64;
            for (&r, &l) in used.iter().zip(&ls) {
                let (g, b) = target::weights(kind, l);
                match s[r] {
                    Slot::Bin(k) => stats[k].add(g, b),
                    Slot::Unseen => {
                        unseen += 1;
                        stats[f.bins.len()].add(g, b);
                    }
                    Slot::Invalid => {}
                }
            }
            EvalFeature {
                name: f.name.clone(),
                iv_train: f.iv,
                iv: round_to(woe_iv(&stats).1, 6),
                unseen,
            }
        })
        .collect();
    Ok(EvalReport {
        target: target.to_string(),
        classes: matches!(kind, TargetKind::Classes),
        rows_read: scoring.points.len() as u64,
        rows_unscorable: unscorable,
        rows_without_target: unlabelled,
        metrics: m,
        features,
    })
}

/// Population stability between `expected` (e.g. the training table) and `actual` (e.g. this
/// month's enterprises): PSI of the points over ten quantile bins of the expected points, and of
/// every feature over the model's bins (plus one for categories unseen in training). Rows that
/// cannot be scored are left out of the points' PSI.
pub fn psi(
    model: &CreditModel,
    expected: &[RecordBatch],
    actual: &[RecordBatch],
) -> Result<PsiReport> {
    let e = score_all(model, expected)?;
    let a = score_all(model, actual)?;
    let ep: Vec<f64> = e.points.iter().flatten().copied().collect();
    let ap: Vec<f64> = a.points.iter().flatten().copied().collect();
    let edges = metrics::quantile_edges(&ep, 10);
    let eh = metrics::histogram(&ep, &edges);
    let ah = metrics::histogram(&ap, &edges);
    let mut labels = Vec::with_capacity(eh.len());
    for i in 0..eh.len() {
        let lo = if i == 0 { None } else { Some(edges[i - 1]) };
        let hi = edges.get(i).copied();
        labels.push(
            super::binning::BinRule::Range {
                lower: lo,
                upper: hi,
            }
            .label(),
        );
    }
    let score = line("points", labels, &eh, &ah);
    let features = model
        .spec()
        .features
        .iter()
        .zip(e.slots.iter().zip(&a.slots))
        .map(|(f, (es, as_))| {
            let count = |s: &[Slot]| {
                let mut c = vec![0.0; f.bins.len() + 1];
                for x in s {
                    match x {
                        Slot::Bin(k) => c[*k] += 1.0,
                        Slot::Unseen => c[f.bins.len()] += 1.0,
                        Slot::Invalid => {}
                    }
                }
                c
            };
            let mut labels: Vec<String> = f.bins.iter().map(|b| b.label.clone()).collect();
            labels.push("unseen".into());
            line(&f.name, labels, &count(es), &count(as_))
        })
        .collect();
    Ok(PsiReport {
        expected_rows: e.points.len() as u64,
        actual_rows: a.points.len() as u64,
        score,
        features,
    })
}

fn line(name: &str, labels: Vec<String>, e: &[f64], a: &[f64]) -> PsiLine {
    let value = metrics::psi(e, a).map(|p| round_to(p, 6));
    let (te, ta) = (e.iter().sum::<f64>(), a.iter().sum::<f64>());
    let share = |x: f64, t: f64| if t > 0.0 { round_to(x / t, 6) } else { 0.0 };
    PsiLine {
        name: name.to_string(),
        psi: value,
        band: value.map(PsiBand::of),
        bins: labels
            .into_iter()
            .zip(e.iter().zip(a))
            .map(|(l, (x, y))| (l, share(*x, te), share(*y, ta)))
            .collect(),
    }
}
