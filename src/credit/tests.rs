//! End-to-end tests of the credit scorecard on synthetic labelled enterprises (ChaCha8Rng, fixed
//! seeds) whose class follows a known latent risk: more years in operation lowers it, penalties,
//! a serious-violation flag and a poor tax grade raise it, a missing years value raises it a
//! little, and `noise` has no effect at all.

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use arrow::record_batch::RecordBatch;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::binning::BinRule;
use super::report::FeatureStatus;
use super::*;
use crate::Error;
use crate::predict::CreditPredictor;
use crate::schema::CreditClass;

/// Latent-risk thresholds of classes B, C, D (A below the first).
const CUTS: [f64; 3] = [-1.0, 0.6, 1.8];

struct Synth {
    uscc: Vec<String>,
    years: Vec<Option<f64>>,
    pen: Vec<i64>,
    serious: Vec<bool>,
    grade: Vec<&'static str>,
    noise: Vec<f64>,
    class: Vec<&'static str>,
    default: Vec<i64>,
    /// Class of the latent risk without its noise: what a perfect model of the drivers predicts.
    oracle: Vec<usize>,
}

fn synth(n: usize, seed: u64, years_shift: f64) -> Synth {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let grades = ["A", "B", "M", "C", "D"];
    let grade_w = [0.35, 0.35, 0.10, 0.12, 0.08];
    let grade_eff = [-0.6, 0.0, 0.5, 1.0, 1.8];
    let mut s = Synth {
        uscc: Vec::new(),
        years: Vec::new(),
        pen: Vec::new(),
        serious: Vec::new(),
        grade: Vec::new(),
        noise: Vec::new(),
        class: Vec::new(),
        default: Vec::new(),
        oracle: Vec::new(),
    };
    for i in 0..n {
        let years: f64 = rng.random_range(0.0..30.0) + years_shift;
        let years_missing = rng.random::<f64>() < 0.05;
        let mut pen = 0i64;
        while pen < 6 && rng.random::<f64>() < 0.35 {
            pen += 1;
        }
        let serious = rng.random::<f64>() < 0.03;
        let u: f64 = rng.random();
        let mut acc = 0.0;
        let mut g = 0;
        for (k, w) in grade_w.iter().enumerate() {
            acc += w;
            if u < acc {
                g = k;
                break;
            }
        }
        let noise: f64 = rng.random();
        let e: f64 = rng.random_range(1e-9..1.0);
        let logistic_noise = (e / (1.0 - e)).ln();
        let years_eff = if years_missing { -1.0 } else { -0.1 * years };
        let z = years_eff
            + 0.8 * pen as f64
            + 3.0 * f64::from(u8::from(serious))
            + grade_eff[g]
            + 0.6 * logistic_noise
            + 1.0;
        let class = CUTS.iter().filter(|&&c| z >= c).count();
        let z0 = z - 0.6 * logistic_noise;
        s.oracle.push(CUTS.iter().filter(|&&c| z0 >= c).count());
        s.uscc.push(format!("9111{i:014}"));
        s.years
            .push((!years_missing).then(|| (years * 10.0).round() / 10.0));
        s.pen.push(pen);
        s.serious.push(serious);
        s.grade.push(grades[g]);
        s.noise.push(noise);
        s.class.push(["A", "B", "C", "D"][class]);
        s.default.push(i64::from(class >= 2));
    }
    s
}

fn batch(s: &Synth, chinese: bool) -> RecordBatch {
    let h = |en: &'static str, zh: &'static str| if chinese { zh } else { en };
    RecordBatch::try_from_iter([
        (
            h("uscc", "统一社会信用代码"),
            Arc::new(StringArray::from(s.uscc.clone())) as ArrayRef,
        ),
        (
            h("years_in_operation", "经营年限"),
            Arc::new(Float64Array::from(s.years.clone())) as ArrayRef,
        ),
        (
            h("admin_penalties_3y", "行政处罚次数"),
            Arc::new(Int64Array::from(s.pen.clone())) as ArrayRef,
        ),
        (
            h("serious_illegal", "严重违法失信名单"),
            Arc::new(BooleanArray::from(s.serious.clone())) as ArrayRef,
        ),
        (
            h("tax_credit_grade", "纳税信用等级"),
            Arc::new(StringArray::from(s.grade.clone())) as ArrayRef,
        ),
        (
            "noise",
            Arc::new(Float64Array::from(s.noise.clone())) as ArrayRef,
        ),
        (
            h("credit_class", "信用风险分类"),
            Arc::new(StringArray::from(s.class.clone())) as ArrayRef,
        ),
        (
            "default",
            Arc::new(Int64Array::from(s.default.clone())) as ArrayRef,
        ),
    ])
    .unwrap()
}

fn class_params() -> ValidTrainParams {
    TrainParams::new("credit_class")
        .features(FeatureSelection::Exclude(vec!["default".into()]))
        .check()
        .unwrap()
}

fn status_of<'a>(r: &'a TrainReport, name: &str) -> &'a FeatureStatus {
    &r.features.iter().find(|f| f.name == name).unwrap().status
}

#[test]
fn classes_are_recovered_well_above_chance() {
    let s = synth(6000, 1, 0.0);
    let (model, report) = train(&[batch(&s, false)], &class_params()).unwrap();
    let h = report.metrics.holdout.as_ref().unwrap();
    // Chance: always predicting the most common class.
    let mut counts = [0usize; 4];
    for c in &s.class {
        counts[CreditClass::parse(c).unwrap().index()] += 1;
    }
    let chance = *counts.iter().max().unwrap() as f64 / s.class.len() as f64;
    let oracle = s
        .oracle
        .iter()
        .zip(&s.class)
        .filter(|(o, c)| CreditClass::ALL[**o].en() == **c)
        .count() as f64
        / s.class.len() as f64;
    let acc = h.accuracy.unwrap();
    assert!(
        acc >= chance + 0.15 && acc >= oracle - 0.05,
        "holdout accuracy {acc} vs chance {chance}, noiseless latent {oracle}"
    );
    eprintln!("holdout accuracy {acc} vs chance {chance}, noiseless latent {oracle}");
    assert!(h.within_one.unwrap() >= 0.95, "{h:?}");
    assert!(h.auc.unwrap() >= 0.85, "C/D vs A/B AUC {:?}", h.auc);
    assert_eq!(h.rows, 1800);
    // The identifier and the noise are not in the model; the real drivers are.
    assert_eq!(status_of(&report, "uscc"), &FeatureStatus::Identifier);
    assert_eq!(status_of(&report, "noise"), &FeatureStatus::LowIv);
    let mut names = model.feature_names();
    names.sort();
    assert_eq!(
        names,
        [
            "admin_penalties_3y",
            "serious_illegal",
            "tax_credit_grade",
            "years_in_operation"
        ]
    );
    // Cut-offs descend, and more points mean a better class.
    let c = &model.spec().cutoffs;
    assert!(c[0] > c[1] && c[1] > c[2], "{c:?}");
    assert!(model.spec().intercepts.windows(2).all(|w| w[0] >= w[1]));
    let text = report.to_string();
    assert!(
        text.contains("holdout:") && text.contains("accuracy"),
        "{text}"
    );
}

#[test]
fn binary_target_and_monotonic_numeric_bins() {
    let s = synth(5000, 2, 0.0);
    let params = TrainParams::new("default")
        .features(FeatureSelection::Exclude(vec!["credit_class".into()]))
        .check()
        .unwrap();
    let (model, report) = train(&[batch(&s, false)], &params).unwrap();
    assert!(matches!(&model.spec().target.kind, TargetKind::Binary { bad } if bad == "1"));
    assert!(model.spec().cutoffs.is_empty());
    let h = report.metrics.holdout.as_ref().unwrap();
    assert!(h.auc.unwrap() >= 0.85, "{h:?}");
    assert!((h.gini.unwrap() - (2.0 * h.auc.unwrap() - 1.0)).abs() < 1e-5);
    assert!(h.confusion.is_none());
    // Years: WoE rises with the value (older firms are safer), missing in its own bin.
    let years = &model
        .spec()
        .features
        .iter()
        .find(|f| f.name == "years_in_operation")
        .unwrap();
    let ranges: Vec<f64> = years
        .bins
        .iter()
        .filter(|b| matches!(b.rule, BinRule::Range { .. }))
        .map(|b| b.woe)
        .collect();
    assert!(ranges.len() >= 3, "{ranges:?}");
    assert!(ranges.windows(2).all(|w| w[0] <= w[1]), "{ranges:?}");
    let missing = years.bins.last().unwrap();
    assert_eq!(missing.rule, BinRule::Missing);
    let n_missing = s.years.iter().filter(|y| y.is_none()).count() as u64;
    // Refitted on every labelled row after the holdout was measured (the default): the bins
    // count them all.
    assert_eq!(missing.count, n_missing);
    let t = &model.spec().training;
    assert!(t.refit);
    assert_eq!(t.train_rows, t.rows_labelled);
    assert!(t.holdout_rows > 0);
    // --no-refit: the saved model is the one measured, trained without the holdout rows.
    let params = TrainParams::new("default")
        .features(FeatureSelection::Exclude(vec!["credit_class".into()]))
        .refit(false)
        .check()
        .unwrap();
    let (kept, kept_report) = train(&[batch(&s, false)], &params).unwrap();
    let years = kept
        .spec()
        .features
        .iter()
        .find(|f| f.name == "years_in_operation")
        .unwrap();
    let missing = years.bins.last().unwrap();
    assert!(missing.count > 0 && missing.count < n_missing);
    assert!(!kept.spec().training.refit);
    assert_eq!(
        kept.spec().training.train_rows + kept.spec().training.holdout_rows,
        t.rows_labelled
    );
    // The holdout measurement is the same either way.
    assert_eq!(kept_report.metrics.holdout, report.metrics.holdout);
    // A binary model gives no class to `score`.
    let e = model.predict_batch(&batch(&s, false)).unwrap_err();
    assert!(e.to_string().contains("no credit class"), "{e}");
}

#[test]
fn same_data_and_seed_give_the_same_bytes() {
    let s = synth(3000, 3, 0.0);
    let b = batch(&s, false);
    let (m1, _) = train(std::slice::from_ref(&b), &class_params()).unwrap();
    // The same table split into two batches is the same data.
    let (m2, _) = train(&[b.slice(0, 1000), b.slice(1000, 2000)], &class_params()).unwrap();
    assert_eq!(m1.to_json(), m2.to_json());
    let other = TrainParams::new("credit_class")
        .features(FeatureSelection::Exclude(vec!["default".into()]))
        .seed(43)
        .check()
        .unwrap();
    let b2 = b.clone();
    let (m3, _) = train(&[b], &other).unwrap();
    assert_ne!(m1.to_json(), m3.to_json());
    assert_eq!(
        m1.spec().training.data_sha256,
        m3.spec().training.data_sha256
    );
    let json = m1.to_json();
    assert!(
        json.starts_with("{\n  \"base_points\": "),
        "{}",
        &json[..60]
    );
    assert!(json.contains("\"spotcheck_version\": \"0.1.0\""));
    let hash = frame::canonical_sha256(std::slice::from_ref(&b2));
    assert!(json.contains(&format!("\"data_sha256\": \"{hash}\"")));
    assert!(json.contains("\"seed\": 42,"));
    for key in [
        "\"woe\": ",
        "\"points\": ",
        "\"coefficient\": ",
        "\"cutoffs\": [",
        "\"holdout\": {",
    ] {
        assert!(json.contains(key), "{key} missing");
    }
    // A caller-supplied file hash is recorded instead of the canonical one.
    let given = "AB".repeat(32);
    let p = TrainParams::new("credit_class")
        .features(FeatureSelection::Exclude(vec!["default".into()]))
        .data_sha256(&given)
        .check()
        .unwrap();
    let (m4, _) = train(&[b2], &p).unwrap();
    assert_eq!(m4.spec().training.data_sha256, "ab".repeat(32));
}

#[test]
fn model_round_trip_predicts_the_same() {
    let s = synth(3000, 4, 0.0);
    let (model, _) = train(&[batch(&s, false)], &class_params()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.json");
    model.save(&path).unwrap();
    let loaded = CreditModel::load(&path).unwrap();
    assert_eq!(loaded, model);
    assert_eq!(loaded.to_json(), std::fs::read_to_string(&path).unwrap());
    let fresh = batch(&synth(500, 40, 0.0), false);
    let a = model.predict_batch(&fresh).unwrap();
    let b = loaded.predict_batch(&fresh).unwrap();
    assert_eq!(a, b);
    assert!(a.iter().all(Option::is_some));
    // The prediction is the class of the points, and the reasons name model features.
    let p = a[0].as_ref().unwrap();
    assert_eq!(Some(p.class), loaded.class_of(p.points));
    assert!(p.reasons.len() <= 3);
    for r in &p.reasons {
        assert!(loaded.feature_names().contains(&r.as_str()));
    }
}

#[test]
fn a_table_missing_features_fails_clearly() {
    let s = synth(2000, 5, 0.0);
    let (model, _) = train(&[batch(&s, false)], &class_params()).unwrap();
    let b = batch(&s, false);
    let keep: Vec<usize> = b
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| f.name() != "admin_penalties_3y" && f.name() != "tax_credit_grade")
        .map(|(i, _)| i)
        .collect();
    let cut = b.project(&keep).unwrap();
    let e = model.predict_batch(&cut).unwrap_err();
    match &e {
        Error::Model { message, .. } => {
            assert!(
                message.contains("lacks 2 feature column(s)")
                    && message.contains("admin_penalties_3y")
                    && message.contains("tax_credit_grade"),
                "{message}"
            );
        }
        other => panic!("wrong error {other:?}"),
    }
    let e = evaluate(&model, &[cut], "credit_class").unwrap_err();
    assert!(matches!(e, Error::Model { .. }));
    // A damaged model file fails as a model error naming the file.
    let e = CreditModel::from_json("{\"format\": 1}", "bad.json").unwrap_err();
    assert!(e.to_string().starts_with("model bad.json: "), "{e}");
}

/// One enterprise with the given tax grade and penalties, 29 years old (the safest years bin) and
/// not on the serious-violation list (the safe value).
fn one_row(grade: &str, pen: &str) -> RecordBatch {
    RecordBatch::try_from_iter([
        (
            "years_in_operation",
            Arc::new(StringArray::from(vec!["29"])) as ArrayRef,
        ),
        (
            "admin_penalties_3y",
            Arc::new(StringArray::from(vec![pen])) as ArrayRef,
        ),
        (
            "serious_illegal",
            Arc::new(StringArray::from(vec!["否"])) as ArrayRef,
        ),
        (
            "tax_credit_grade",
            Arc::new(StringArray::from(vec![grade])) as ArrayRef,
        ),
    ])
    .unwrap()
}

#[test]
fn unseen_categories_score_zero_points_and_bad_cells_no_row() {
    let s = synth(3000, 6, 0.0);
    let (model, _) = train(&[batch(&s, false)], &class_params()).unwrap();
    let spec = model.spec();
    let grade = spec
        .features
        .iter()
        .position(|f| f.name == "tax_credit_grade")
        .unwrap();
    let grade_points = |level: &str| {
        spec.features[grade]
            .bins
            .iter()
            .find(|b| matches!(&b.rule, BinRule::Levels { levels } if levels.iter().any(|l| l == level)))
            .unwrap()
            .points
    };
    let seen = model.score_batch(&one_row("A", "0")).unwrap()[0]
        .clone()
        .unwrap();
    let unseen = model.score_batch(&one_row("Z", "0")).unwrap()[0]
        .clone()
        .unwrap();
    // Documented fallback: an unseen level adds 0 points (WoE 0) in place of its bin's points.
    assert!(
        (seen.points - grade_points("a") - unseen.points).abs() < 1e-9,
        "{seen:?} {unseen:?}"
    );
    // Text cells read as numbers and booleans ("29", "否") and the row scores; "abc" does not.
    let bad = model.score_batch(&one_row("A", "abc")).unwrap();
    assert_eq!(bad[0], None);
    assert_eq!(
        model.predict_batch(&one_row("A", "abc")).unwrap(),
        vec![None]
    );
    // Reason codes: many penalties and a D tax grade are the two top reasons.
    let worst = model.score_batch(&one_row("D", "6")).unwrap()[0]
        .clone()
        .unwrap();
    assert_eq!(worst.reasons.len(), 2, "{worst:?}");
    let mut r = worst.reasons.clone();
    r.sort();
    assert_eq!(r, ["admin_penalties_3y", "tax_credit_grade"]);
    assert!(worst.points < seen.points);
}

#[test]
fn chinese_headers_train_and_english_headers_score() {
    let s = synth(3000, 7, 0.0);
    let params = TrainParams::new("信用风险分类")
        .features(FeatureSelection::Include(vec![
            "经营年限".into(),
            "admin_penalties_3y".into(),
            "纳税信用等级".into(),
        ]))
        .check()
        .unwrap();
    let (model, _) = train(&[batch(&s, true)], &params).unwrap();
    assert_eq!(
        model.feature_names(),
        [
            "years_in_operation",
            "admin_penalties_3y",
            "tax_credit_grade"
        ]
    );
    assert_eq!(model.spec().target.column, "credit_class");
    let english = batch(&synth(200, 70, 0.0), false);
    assert!(
        model
            .predict_batch(&english)
            .unwrap()
            .iter()
            .all(Option::is_some)
    );
    let report = evaluate(&model, &[english], "credit_class").unwrap();
    assert_eq!(report.rows_read, 200);
    assert!(report.metrics.accuracy.unwrap() > 0.5, "{report}");
}

#[test]
fn evaluate_on_fresh_data_and_psi_bands() {
    let s = synth(5000, 8, 0.0);
    let b = batch(&s, false);
    let (model, report) = train(std::slice::from_ref(&b), &class_params()).unwrap();
    let fresh = batch(&synth(3000, 80, 0.0), false);
    let ev = evaluate(&model, std::slice::from_ref(&fresh), "credit_class").unwrap();
    let h = report.metrics.holdout.unwrap();
    assert!(
        (ev.metrics.auc.unwrap() - h.auc.unwrap()).abs() < 0.05,
        "{ev}"
    );
    assert!(
        (ev.metrics.accuracy.unwrap() - h.accuracy.unwrap()).abs() < 0.05,
        "{ev}"
    );
    assert_eq!(ev.metrics.confusion.unwrap().total(), 3000);
    // Same population: every PSI stable. Older firms (years + 15): years and the points shift.
    let same = psi(
        &model,
        std::slice::from_ref(&b),
        std::slice::from_ref(&fresh),
    )
    .unwrap();
    assert_eq!(same.score.band, Some(PsiBand::Stable), "{same}");
    assert!(
        same.features
            .iter()
            .all(|f| f.band == Some(PsiBand::Stable)),
        "{same}"
    );
    let older = batch(&synth(3000, 81, 15.0), false);
    let shifted = psi(&model, &[b], &[older]).unwrap();
    let years = shifted
        .features
        .iter()
        .find(|f| f.name == "years_in_operation")
        .unwrap();
    assert_eq!(years.band, Some(PsiBand::Shift), "{shifted}");
    assert!(shifted.score.psi.unwrap() >= 0.1, "{shifted}");
    let pen = shifted
        .features
        .iter()
        .find(|f| f.name == "admin_penalties_3y")
        .unwrap();
    assert_eq!(pen.band, Some(PsiBand::Stable), "{shifted}");
}

#[test]
fn training_errors_name_the_problem() {
    let s = synth(500, 9, 0.0);
    let b = batch(&s, false);
    let e = train(
        std::slice::from_ref(&b),
        &TrainParams::new("klass").check().unwrap(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no target column \"klass\""), "{e}");
    let e = train(
        std::slice::from_ref(&b),
        &TrainParams::new("credit_class")
            .features(FeatureSelection::Include(vec!["employees".into()]))
            .check()
            .unwrap(),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("feature \"employees\" is not a column"),
        "{e}"
    );
    let bad_cell = RecordBatch::try_from_iter([
        (
            "x",
            Arc::new(Float64Array::from(vec![1.0, f64::INFINITY, 3.0, 4.0])) as ArrayRef,
        ),
        (
            "y",
            Arc::new(StringArray::from(vec!["A", "C", "B", "D"])) as ArrayRef,
        ),
    ])
    .unwrap();
    let e = train(&[bad_cell], &TrainParams::new("y").check().unwrap()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "training data: feature \"x\", row 2: \"inf\" is not a number"
    );
    let e = target_only_goods();
    assert!(e.to_string().contains("C or D"), "{e}");
}

fn target_only_goods() -> Error {
    let b = RecordBatch::try_from_iter([
        (
            "x",
            Arc::new(Int64Array::from(vec![1, 2, 3, 4])) as ArrayRef,
        ),
        (
            "y",
            Arc::new(StringArray::from(vec!["A", "B", "B", "A"])) as ArrayRef,
        ),
    ])
    .unwrap();
    train(&[b], &TrainParams::new("y").check().unwrap()).unwrap_err()
}

#[test]
fn row_weights_enter_the_woe_and_the_fit() {
    // Bads weigh 3, goods 1 (as if goods had been sampled three times as often). WoE is a ratio
    // of shares within goods and within bads, so it does not move; the bad totals triple
    // relative to the goods, and the intercept (log-odds of bad) rises by about ln 3.
    let s = synth(4000, 5, 0.0);
    let b = batch(&s, false);
    let w: Vec<f64> = s
        .default
        .iter()
        .map(|&d| if d == 1 { 3.0 } else { 1.0 })
        .collect();
    let mut cols: Vec<(String, ArrayRef)> = b
        .schema()
        .fields()
        .iter()
        .zip(b.columns())
        .map(|(f, c)| (f.name().clone(), c.clone()))
        .collect();
    cols.push(("w".into(), Arc::new(Float64Array::from(w)) as ArrayRef));
    let weighted = RecordBatch::try_from_iter(cols).unwrap();
    let base = || {
        TrainParams::new("default")
            .features(FeatureSelection::Include(vec![
                "years_in_operation".into(),
                "admin_penalties_3y".into(),
            ]))
            .holdout(0.0)
    };
    let (plain, _) = train(std::slice::from_ref(&weighted), &base().check().unwrap()).unwrap();
    let (wtd, _) = train(&[weighted], &base().weight("w").check().unwrap()).unwrap();
    assert_eq!(wtd.spec().training.weight_column.as_deref(), Some("w"));
    assert_eq!(plain.spec().training.weight_column, None);
    let totals = |m: &CreditModel| {
        let f = &m.spec().features[0];
        let g: f64 = f.bins.iter().map(|b| b.good).sum();
        let d: f64 = f.bins.iter().map(|b| b.bad).sum();
        d / g
    };
    assert!((totals(&wtd) / totals(&plain) - 3.0).abs() < 1e-9);
    // (Numeric bins may be cut elsewhere: pre-bins and merges follow the weighted rates.
    // Where a bin is the same, so is its WoE.)
    let mut same = 0;
    for (a, b) in plain.spec().features.iter().zip(&wtd.spec().features) {
        for x in &a.bins {
            if let Some(y) = b
                .bins
                .iter()
                .find(|y| y.rule == x.rule && y.count == x.count)
            {
                assert!((x.woe - y.woe).abs() < 1e-5, "{} {x:?} {y:?}", a.name);
                same += 1;
            }
        }
    }
    assert!(same >= 2, "{same} bins in common");
    let shift = wtd.spec().intercepts[0] - plain.spec().intercepts[0];
    assert!(
        (shift - 3f64.ln()).abs() < 0.05,
        "intercept moved by {shift}"
    );
    // A weight that is not > 0 is refused with its row.
    let mut bad = s.default.iter().map(|_| 1.0).collect::<Vec<f64>>();
    bad[6] = 0.0;
    let b2 = RecordBatch::try_from_iter([
        (
            "default",
            Arc::new(arrow::array::Int64Array::from(s.default.clone())) as ArrayRef,
        ),
        (
            "years_in_operation",
            Arc::new(Float64Array::from(s.years.clone())) as ArrayRef,
        ),
        ("w", Arc::new(Float64Array::from(bad)) as ArrayRef),
    ])
    .unwrap();
    let e = train(
        &[b2],
        &TrainParams::new("default").weight("w").check().unwrap(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("row 7"), "{e}");
}
