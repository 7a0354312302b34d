//! Tests of the whole kernel: the ten worked examples of `reference/scoring-examples/` (copied to
//! `src/score/testdata/`, expected values checked by hand there; the ratios, scores and tax are
//! the rounded values of SPEC §3.6 and are compared exactly), row-order independence, the
//! credit-model path, output → read-back round trips in both languages, and `explain`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};

use super::*;
use crate::input::enterprise::Hj941Input;
use crate::predict::CreditPrediction;
use crate::schema::{Lang, Medium, PermitClass, Sensitivity, parse_bool};
use crate::score::pollutants::Pollutants;
use crate::scored::ScoredRows;
use crate::uscc::{UsccCheck, check};

const ENTERPRISES: &str = include_str!("testdata/enterprises.csv");
const EMISSIONS: &str = include_str!("testdata/emissions.csv");
const EXPECTED: &str = include_str!("testdata/expected.csv");

/// Rows of a CSV without quoted fields, as header → cell maps in order.
fn csv(text: &str) -> Vec<Vec<(String, String)>> {
    let mut lines = text.lines().filter(|l| !l.is_empty());
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(str::to_owned))
                .collect()
        })
        .collect()
}

fn cell<'a>(row: &'a [(String, String)], key: &str) -> Option<&'a str> {
    row.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn empty_raw(n: usize) -> RecordBatch {
    RecordBatch::try_new_with_options(
        Arc::new(Schema::empty()),
        vec![],
        &RecordBatchOptions::new().with_row_count(Some(n)),
    )
    .unwrap()
}

/// The enterprise table of the examples as an `EnterpriseBatch` (rows in `order`).
fn batch_from(rows: &[Vec<(String, String)>], raw: Option<RecordBatch>) -> EnterpriseBatch {
    let n = rows.len();
    let f = |r: &[(String, String)], k: &str| cell(r, k).map(|v| v.parse::<f64>().unwrap());
    let u = |r: &[(String, String)], k: &str| cell(r, k).map(|v| v.parse::<u32>().unwrap());
    let b = |r: &[(String, String)], k: &str| cell(r, k).map(|v| parse_bool(v).unwrap());
    let hj = |r: &[(String, String)], m: &str| Hj941Input {
        q: f(r, &format!("{m}_q")),
        m: f(r, &format!("{m}_m")),
        e: cell(r, &format!("{m}_e")).map(|v| Sensitivity::parse(v).unwrap()),
    };
    EnterpriseBatch {
        row: (1..=n as u64).collect(),
        uscc: StringArray::from_iter_values(rows.iter().map(|r| cell(r, "uscc").unwrap())),
        uscc_checksum_bad: rows
            .iter()
            .map(|r| matches!(check(cell(r, "uscc").unwrap()), UsccCheck::BadChecksum(_)))
            .collect(),
        name: StringArray::from_iter_values(rows.iter().map(|r| cell(r, "name").unwrap())),
        district: rows
            .iter()
            .map(|r| crate::district::parse(cell(r, "district").unwrap()).unwrap())
            .collect(),
        industry: StringArray::from(vec![None::<&str>; n]),
        tier: rows
            .iter()
            .map(|r| Tier::parse(cell(r, "tier").unwrap()).unwrap())
            .collect(),
        credit_class: rows
            .iter()
            .map(|r| cell(r, "credit_class").map(|v| CreditClass::parse(v).unwrap()))
            .collect(),
        permit_class: rows
            .iter()
            .map(|r| cell(r, "permit_class").map(|v| PermitClass::parse(v).unwrap()))
            .collect(),
        pe_air: rows.iter().map(|r| f(r, "pe_air")).collect(),
        pe_water: rows.iter().map(|r| f(r, "pe_water")).collect(),
        env_risk_level: rows
            .iter()
            .map(|r| cell(r, "env_risk_level").map(|v| EnvRiskLevel::parse(v).unwrap()))
            .collect(),
        air: rows.iter().map(|r| hj(r, "air")).collect(),
        water: rows.iter().map(|r| hj(r, "water")).collect(),
        env_penalties_24m: rows.iter().map(|r| u(r, "env_penalties_24m")).collect(),
        env_incidents_24m: rows.iter().map(|r| u(r, "env_incidents_24m")).collect(),
        env_serious_violation_36m: rows
            .iter()
            .map(|r| b(r, "env_serious_violation_36m"))
            .collect(),
        online_monitoring: rows.iter().map(|r| b(r, "online_monitoring")).collect(),
        raw: raw.unwrap_or_else(|| empty_raw(n)),
    }
}

fn emissions_from(rows: &[Vec<(String, String)>]) -> EmissionTotals {
    let t = Pollutants::builtin();
    let mut agg = EmissionAggregate::new();
    for r in rows {
        let medium = Medium::parse(cell(r, "medium").unwrap()).unwrap();
        let id = t.lookup(medium, cell(r, "pollutant").unwrap()).unwrap();
        agg.add(
            cell(r, "uscc").unwrap().as_bytes().try_into().unwrap(),
            cell(r, "outlet").unwrap(),
            id,
            cell(r, "amount_kg").unwrap().parse().unwrap(),
        );
    }
    agg.finish(t, &Policy::default().tax)
}

fn scored_examples() -> (EnterpriseBatch, ScoredBatch, EmissionTotals) {
    let batch = batch_from(&csv(ENTERPRISES), None);
    let totals = emissions_from(&csv(EMISSIONS));
    let s = score_batch(&batch, Some(&totals), None, &Policy::default()).unwrap();
    (batch, s, totals)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6
}

#[test]
fn the_ten_scoring_examples() {
    let (_, s, totals) = scored_examples();
    let expected = csv(EXPECTED);
    assert_eq!(expected.len(), 10);
    assert_eq!(s.len(), 10);
    let lang = Lang::En;
    for e in &expected {
        let code = cell(e, "uscc").unwrap();
        let i = s.position(code).unwrap();
        let ctx = |k: &str| format!("{code} {k}");
        // Cells marked "(…)" depend on the credit class (example 10): checked below.
        let get = |k: &str| cell(e, k).filter(|v| !v.starts_with('('));
        if let Some(v) = get("credit_class") {
            assert_eq!(s.credit_class[i].label(lang), v, "{}", ctx("credit_class"));
        }
        for (k, col) in [
            ("pe_air", &s.pe_air),
            ("pe_water", &s.pe_water),
            ("pe_total", &s.pe_total),
        ] {
            let want: f64 = get(k).unwrap().parse().unwrap();
            let got = col[i].unwrap();
            assert!(close(got, want), "{}: {got} vs {want}", ctx(k));
        }
        assert_eq!(
            s.emission_band[i].label(lang),
            get("emission_band").unwrap(),
            "{}",
            ctx("emission_band")
        );
        assert_eq!(
            labels::level_label(s.env_risk_level[i], lang),
            get("env_risk_level").unwrap(),
            "{}",
            ctx("env_risk_level")
        );
        assert_eq!(
            s.env_risk_source[i].label(lang),
            get("env_risk_source").unwrap(),
            "{}",
            ctx("env_risk_source")
        );
        // Rounded columns (SPEC §3.6) equal the expected decimal exactly, and print as it.
        let tax = s.env_tax_cny[i].unwrap();
        let want = get("env_tax_cny").unwrap();
        assert_eq!(tax, want.parse::<f64>().unwrap(), "{}", ctx("env_tax_cny"));
        assert_eq!(
            tax.to_string(),
            want.trim_end_matches(".0"),
            "{}",
            ctx("env_tax_cny")
        );
        for (k, col) in [
            ("market_ratio", &s.market_ratio),
            ("eco_ratio", &s.eco_ratio),
            ("risk_score", &s.risk_score),
        ] {
            if let Some(v) = get(k) {
                let want: f64 = v.parse().unwrap();
                assert_eq!(col[i], want, "{}: {} vs {want}", ctx(k), col[i]);
                assert_eq!(col[i].to_string(), v.trim_end_matches(".0"), "{}", ctx(k));
            }
        }
        for (k, col) in [
            ("market_max_per_year", &s.market_max_per_year),
            ("eco_max_per_year", &s.eco_max_per_year),
        ] {
            if let Some(v) = get(k) {
                assert_eq!(col[i].to_string(), v, "{}", ctx(k));
            }
        }
        if let Some(v) = get("eco_mode") {
            assert_eq!(s.eco_mode[i].label(lang), v, "{}", ctx("eco_mode"));
        }
        if let Some(v) = get("positive_list") {
            assert_eq!(
                s.positive_list[i].to_string(),
                v,
                "{}",
                ctx("positive_list")
            );
        }
        if let Some(v) = get("reasons_include") {
            for code in v.split(';') {
                let r = Reason::parse(code).unwrap();
                assert!(s.reasons[i].contains(r), "{}: {code}", ctx("reasons"));
            }
        }
    }
    // Every emissions row belongs to an enterprise of the table: no orphans.
    assert!(totals.orphans().is_empty());
}

#[test]
fn the_examples_reasons_exactly() {
    // The expected file lists reasons that must be included; these are the complete lists,
    // in rule order (SPEC §3.6), checked against the criteria of §3.5 by hand.
    let (_, s, _) = scored_examples();
    let want = [
        ("91110108EXAMPLE008", "MARKET_RELIEF_LITTLE_GIANT"),
        (
            "91110105EXAMPLE010",
            "MARKET_RELIEF_SPECIALIZED;ECO_NO_MONITORING",
        ),
        (
            "91110302EXAMPLE022",
            "ECO_EMISSION_NOT_LOW;ECO_RISK_NOT_LOW",
        ),
        (
            "91110106EXAMPLE03L",
            "ECO_NOT_ZJTX;ECO_RISK_NOT_LOW;ECO_PENALTY;ECO_CREDIT",
        ),
        (
            "91110108EXAMPLE04L",
            "ENV_RISK_MISMATCH;ECO_EMISSION_NOT_LOW;ECO_RISK_NOT_LOW;ECO_PENALTY;ECO_CREDIT",
        ),
        ("91110114EXAMPLE05D", "ENV_RISK_MISMATCH"),
        (
            "91110115EXAMPLE06Y",
            "MARKET_RELIEF_INNOVATIVE;ECO_EMISSION_NOT_LOW",
        ),
        (
            "91110112EXAMPLE07N",
            "ECO_RISK_UNKNOWN;ECO_PENALTY_UNKNOWN;ECO_INCIDENT_UNKNOWN;ECO_PERMIT_UNKNOWN",
        ),
        (
            "91110101EXAMPLE08U",
            "MARKET_RELIEF_LITTLE_GIANT;ECO_RISK_NOT_LOW",
        ),
        ("91110108EXAMPLE094", "CREDIT_DEFAULTED"),
    ];
    for (code, reasons) in want {
        let i = s.position(code).unwrap();
        assert_eq!(s.reasons[i].join(Lang::En), reasons, "{code}");
    }
    // The standard's notation for the computed levels (SPEC §3.3).
    let detail = |c: &str| s.env_risk_detail[s.position(c).unwrap()].map(|d| d.to_string());
    // Example 3: air q=12 (Q2) m=30 (M2) E2 → larger; water q=0.5 → Q0 general.
    assert_eq!(
        detail("91110302EXAMPLE022").as_deref(),
        Some("较大[较大-大气(Q2-M2-E2)+一般-水(Q0)]")
    );
    // Example 4: q=150 (Q3) m=70 (M4) E1 → major; the raise is capped at major.
    assert_eq!(
        detail("91110106EXAMPLE03L").as_deref(),
        Some("重大[重大-大气(Q3-M4-E1)]")
    );
    // Example 5: q=5 (Q1) m=10 (M1) E3 → general, filed larger → mismatch.
    assert_eq!(
        detail("91110108EXAMPLE04L").as_deref(),
        Some("一般[一般-大气(Q1-M1-E3)]")
    );
    // Example 9: Q0 → general, raised one step to larger for the serious violation.
    assert_eq!(
        detail("91110101EXAMPLE08U").as_deref(),
        Some("较大[一般-大气(Q0)]")
    );
    assert_eq!(detail("91110108EXAMPLE008"), None);
}

#[test]
fn example_ten_defaulted_class_b() {
    // No class and no model → policy.credit.missing_class = B (SPEC §3.1): B's market ratio 0.10
    // and maximum 1; registration permit, general level, low emissions, no penalty or incident,
    // class B admitted → on the list, off site, eco ratio 0; risk 100 × 0.5 × 1/3 = 16.666667,
    // rounded to 16.67 (SPEC §3.6).
    let (_, s, _) = scored_examples();
    let i = s.position("91110108EXAMPLE094").unwrap();
    assert_eq!(s.credit_class[i], CreditClass::B);
    assert_eq!(s.credit_source[i], CreditSource::Default);
    assert_eq!((s.market_ratio[i], s.market_max_per_year[i]), (0.10, 1));
    assert!(s.positive_list[i]);
    assert_eq!((s.eco_ratio[i], s.eco_max_per_year[i]), (0.0, 0));
    assert_eq!(s.eco_mode[i], Mode::NonSite);
    assert_eq!(s.risk_score[i], 16.67);
    assert_eq!(s.credit_points(i), None);
}

/// A model that answers class C with fixed points and reasons for every row, counting calls.
struct FixedModel {
    calls: std::sync::atomic::AtomicUsize,
    answer: Option<CreditPrediction>,
}

impl CreditPredictor for FixedModel {
    fn predict_batch(&self, raw: &RecordBatch) -> Result<Vec<Option<CreditPrediction>>> {
        self.calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(vec![self.answer.clone(); raw.num_rows()])
    }
}

#[test]
fn example_ten_with_a_model() {
    let batch = batch_from(&csv(ENTERPRISES), None);
    let model = FixedModel {
        calls: Default::default(),
        answer: Some(CreditPrediction {
            class: CreditClass::C,
            points: 571.5,
            reasons: vec!["admin_penalties_3y".into(), "complaints_12m".into()],
        }),
    };
    let s = score_batch(&batch, None, Some(&model), &Policy::default()).unwrap();
    assert_eq!(model.calls.load(std::sync::atomic::Ordering::Relaxed), 1);
    let i = s.position("91110108EXAMPLE094").unwrap();
    assert_eq!(s.credit_class[i], CreditClass::C);
    assert_eq!(s.credit_source[i], CreditSource::Model);
    assert_eq!(s.credit_points(i), Some(571.5));
    assert_eq!(
        s.credit_reasons(i),
        ["admin_penalties_3y", "complaints_12m"]
    );
    // Class C: ratio 0.30, 2 a year; ECO_CREDIT; off the list: registration 0.05 × general 1.0
    // × band unknown 1.0 (no emissions table, no pe given) = 0.05; risk 100 × 0.5 × 2/3 + 25 × 0.5.
    assert_eq!((s.market_ratio[i], s.market_max_per_year[i]), (0.30, 2));
    assert_eq!(
        s.reasons[i].join(Lang::En),
        "ECO_EMISSION_UNKNOWN;ECO_CREDIT"
    );
    assert!(close(s.eco_ratio[i], 0.05));
    // 100 × (0.5 × 2/3 + 0.25 × 0.5) = 45.833333…, rounded to 45.83 (SPEC §3.6).
    assert_eq!(s.risk_score[i], 45.83);
    // Given classes ignore the model.
    let j = s.position("91110108EXAMPLE008").unwrap();
    assert_eq!(s.credit_source[j], CreditSource::Given);
    assert_eq!(s.credit_points(j), None);
    // A model that cannot answer → default B with CREDIT_DEFAULTED.
    let silent = FixedModel {
        calls: Default::default(),
        answer: None,
    };
    let s = score_batch(&batch, None, Some(&silent), &Policy::default()).unwrap();
    assert_eq!(s.credit_source[i], CreditSource::Default);
    assert!(s.reasons[i].contains(Reason::CreditDefaulted));
    // No row lacks a class → the model is not asked.
    let mut full = batch.clone();
    full.credit_class[i] = Some(CreditClass::A);
    score_batch(&full, None, Some(&model), &Policy::default()).unwrap();
    assert_eq!(model.calls.load(std::sync::atomic::Ordering::Relaxed), 1);
}

#[test]
fn wrong_prediction_count_is_an_error() {
    // The model is asked only about the rows without a class (one in the ten examples); a
    // predictor answering for one row more than it was given is refused.
    struct Long;
    impl CreditPredictor for Long {
        fn predict_batch(&self, raw: &RecordBatch) -> Result<Vec<Option<CreditPrediction>>> {
            Ok(vec![None; raw.num_rows() + 1])
        }
    }
    let batch = batch_from(&csv(ENTERPRISES), None);
    let e = score_batch(&batch, None, Some(&Long), &Policy::default()).unwrap_err();
    assert!(matches!(
        e,
        Error::PredictionCount {
            expected: 1,
            got: 2
        }
    ));
    let mut bad = batch.clone();
    bad.tier.pop();
    assert!(matches!(
        score_batch(&bad, None, None, &Policy::default()),
        Err(Error::BatchShape { column: "tier", .. })
    ));
}

#[test]
fn parallel_batches_equal_one_by_one() {
    let rows = csv(ENTERPRISES);
    let totals = emissions_from(&csv(EMISSIONS));
    let batches = [batch_from(&rows[..4], None), batch_from(&rows[4..], None)];
    let p = Policy::default();
    let par = score_batches(&batches, Some(&totals), None, &p).unwrap();
    assert_eq!(par.len(), 2);
    for (b, s) in batches.iter().zip(&par) {
        let one = score_batch(b, Some(&totals), None, &p).unwrap();
        assert_eq!(one.to_rows(), s.to_rows());
    }
    assert_eq!(par[1].uscc.value(0), "91110108EXAMPLE04L");
}

#[test]
fn pe_from_the_enterprise_table() {
    // SPEC §3.2 without an emissions table: a missing pe counts as 0 when the other is present;
    // both missing → pe_total null → band unknown; no tax estimate.
    let mut batch = batch_from(&csv(ENTERPRISES), None);
    batch.pe_air = vec![
        Some(1500.0),
        None,
        Some(2500.0),
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ];
    batch.pe_water = vec![
        Some(600.0),
        Some(30.0),
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ];
    let s = score_batch(&batch, None, None, &Policy::default()).unwrap();
    assert_eq!(s.pe_total[0], Some(2100.0));
    assert_eq!(s.emission_band[0], EmissionBand::Medium);
    assert_eq!(s.pe_total[1], Some(30.0));
    assert_eq!((s.pe_air[1], s.pe_water[1]), (None, Some(30.0)));
    assert_eq!(s.pe_total[2], Some(2500.0));
    assert_eq!(s.pe_total[3], None);
    assert_eq!(s.emission_band[3], EmissionBand::Unknown);
    assert!(s.reasons[3].contains(Reason::EcoEmissionUnknown));
    assert!(s.env_tax_cny.iter().all(Option::is_none));
    // The given pe is ignored with an emissions table.
    let totals = emissions_from(&csv(EMISSIONS));
    let s = score_batch(&batch, Some(&totals), None, &Policy::default()).unwrap();
    // Example 1's emissions: methanol 100 kg / 0.67 kg = 149.253731 pe.
    assert!(close(s.pe_total[0].unwrap(), 149.253731));
}

#[test]
fn usc_checksum_flag_becomes_a_reason() {
    let mut batch = batch_from(&csv(ENTERPRISES), None);
    batch.uscc_checksum_bad[2] = true;
    let s = score_batch(&batch, None, None, &Policy::default()).unwrap();
    assert_eq!(s.reasons[2].iter().next(), Some(Reason::UsccChecksum));
    assert!(!s.reasons[1].contains(Reason::UsccChecksum));
}

#[test]
fn row_order_changes_no_value() {
    let rows = csv(ENTERPRISES);
    let emission_rows = csv(EMISSIONS);
    let base = score_batch(
        &batch_from(&rows, None),
        Some(&emissions_from(&emission_rows)),
        None,
        &Policy::default(),
    )
    .unwrap();
    // A fixed permutation of both tables (reverse, then rotate by 3).
    let mut r2 = rows.clone();
    r2.reverse();
    r2.rotate_left(3);
    let mut e2 = emission_rows.clone();
    e2.reverse();
    e2.rotate_left(5);
    let other = score_batch(
        &batch_from(&r2, None),
        Some(&emissions_from(&e2)),
        None,
        &Policy::default(),
    )
    .unwrap();
    let a = base.to_rows();
    let b = other.to_rows();
    for i in 0..a.len() {
        let j = b.uscc.iter().position(|u| *u == a.uscc[i]).unwrap();
        // Bit for bit equal floats.
        assert_eq!(a.pe_total[i], b.pe_total[j]);
        assert_eq!(a.env_tax_cny[i], b.env_tax_cny[j]);
        assert_eq!(a.market_ratio[i], b.market_ratio[j]);
        assert_eq!(a.eco_ratio[i], b.eco_ratio[j]);
        assert_eq!(a.risk_score[i], b.risk_score[j]);
        assert_eq!(a.reasons[i], b.reasons[j]);
        assert_eq!(a.env_risk_detail[i], b.env_risk_detail[j]);
        assert_eq!(a.positive_list[i], b.positive_list[j]);
    }
}

/// The examples with a model-scored row and two pass-through columns (one unknown, one that is
/// an enterprise column and must not be passed through).
fn examples_with_raw() -> ScoredBatch {
    let rows = csv(ENTERPRISES);
    let n = rows.len();
    let raw = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("uscc", DataType::Utf8, false),
            Field::new("内部编号", DataType::Int64, true),
            Field::new("complaints_12m", DataType::Float64, true),
        ])),
        vec![
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| cell(r, "uscc").unwrap()),
            )),
            Arc::new(Int64Array::from_iter_values(0..n as i64)),
            Arc::new(Float64Array::from(vec![Some(1.0); n])),
        ],
    )
    .unwrap();
    let batch = batch_from(&rows, Some(raw));
    let model = FixedModel {
        calls: Default::default(),
        answer: Some(CreditPrediction {
            class: CreditClass::B,
            points: 612.25,
            reasons: vec!["complaints_12m".into(), "custom_feature".into()],
        }),
    };
    score_batch(
        &batch,
        Some(&emissions_from(&csv(EMISSIONS))),
        Some(&model),
        &Policy::default(),
    )
    .unwrap()
}

#[test]
fn output_columns_in_order_with_pass_through() {
    let s = examples_with_raw();
    let en = s.to_record_batch(Lang::En).unwrap();
    let names: Vec<String> = en
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut want: Vec<String> = crate::schema::out::ALL
        .iter()
        .map(|c| c.name.to_owned())
        .collect();
    want.push("permit_class".into());
    want.push("内部编号".into());
    want.push("complaints_12m".into());
    assert_eq!(names, want);
    assert_eq!(en.num_rows(), 10);
    let col = |b: &RecordBatch, k: &str| b.column_by_name(k).unwrap().clone();
    assert_eq!(col(&en, "positive_list").data_type(), &DataType::Boolean);
    assert_eq!(
        col(&en, "market_max_per_year").data_type(),
        &DataType::Int64
    );
    assert_eq!(col(&en, "risk_score").data_type(), &DataType::Float64);
    let reasons = col(&en, "reasons");
    let reasons = reasons.as_any().downcast_ref::<StringArray>().unwrap();
    let i = s.position("91110108EXAMPLE04L").unwrap();
    assert_eq!(
        reasons.value(i),
        "ENV_RISK_MISMATCH;ECO_EMISSION_NOT_LOW;ECO_RISK_NOT_LOW;ECO_PENALTY;ECO_CREDIT"
    );
    let k = s.position("91110108EXAMPLE094").unwrap();
    let cr = col(&en, "credit_reasons");
    let cr = cr.as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(cr.value(k), "complaints_12m;custom_feature");
    assert!(cr.is_null(i));

    let zh = s.to_record_batch(Lang::Zh).unwrap();
    let names: Vec<String> = zh
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names[0], "统一社会信用代码");
    assert_eq!(names[21], "纳入正面清单");
    let text = |k: &str, row: usize| {
        let c = col(&zh, k);
        c.as_any()
            .downcast_ref::<StringArray>()
            .unwrap()
            .value(row)
            .to_owned()
    };
    assert_eq!(text("纳入正面清单", k), "是");
    assert_eq!(text("企业梯度", i), "专精特新中小企业");
    assert_eq!(text("突发环境事件风险等级", i), "较大");
    assert_eq!(text("生态环境检查方式", i), "现场");
    assert_eq!(
        text("原因", i),
        "备案的突发环境事件风险等级与HJ 941计算结果不一致；污染物排放量不属于低排放；突发环境事件风险等级不是一般；近24个月受到生态环境行政处罚；信用风险分类不符合正面清单要求"
    );
    assert_eq!(
        text("信用评分主要原因", k),
        "近12个月投诉举报次数；custom_feature"
    );
    assert_eq!(text("信用风险分类", k), "B类");
}

#[test]
fn output_parses_back_equal_in_both_languages() {
    let s = examples_with_raw();
    let want = s.to_rows();
    for lang in [Lang::En, Lang::Zh] {
        let b = s.to_record_batch(lang).unwrap();
        let got = ScoredRows::from_record_batch(&b, std::path::Path::new("scored"), 1).unwrap();
        assert_eq!(got, want, "{lang:?}");
    }
    // Text-only columns (as from CSV) with numbers as text read back the same.
    let b = s.to_record_batch(Lang::Zh).unwrap();
    let as_text: Vec<ArrayRef> = b
        .columns()
        .iter()
        .map(|c| arrow::compute::cast(c, &DataType::Utf8).unwrap())
        .collect();
    let schema = Schema::new(
        b.schema()
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), DataType::Utf8, true))
            .collect::<Vec<_>>(),
    );
    let text_batch = RecordBatch::try_new(Arc::new(schema), as_text).unwrap();
    let got = ScoredRows::from_record_batch(&text_batch, std::path::Path::new("s.csv"), 1).unwrap();
    assert_eq!(got.reasons, want.reasons);
    assert_eq!(got.market_ratio, want.market_ratio);
    assert_eq!(got.risk_score, want.risk_score);
    assert_eq!(got.positive_list, want.positive_list);
    assert_eq!(got.env_risk_level, want.env_risk_level);
}

#[test]
fn reading_back_reports_what_is_wrong() {
    let s = examples_with_raw();
    let b = s.to_record_batch(Lang::En).unwrap();
    let path = std::path::Path::new("scored.csv");
    // A missing required column.
    let without = b
        .project(&(1..b.num_columns()).collect::<Vec<_>>())
        .unwrap();
    match ScoredRows::from_record_batch(&without, path, 1) {
        Err(Error::MissingColumn { column, .. }) => assert_eq!(column, "uscc"),
        other => panic!("{other:?}"),
    }
    // A bad enum value, with its file row.
    let idx = b.schema().index_of("tier").unwrap();
    let mut cols = b.columns().to_vec();
    let mut tiers: Vec<String> = (0..b.num_rows())
        .map(|i| {
            cols[idx]
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .value(i)
                .to_owned()
        })
        .collect();
    tiers[3] = "giant".into();
    cols[idx] = Arc::new(StringArray::from_iter_values(tiers));
    let bad = RecordBatch::try_new(b.schema(), cols).unwrap();
    match ScoredRows::from_record_batch(&bad, path, 101) {
        Err(Error::BadValue {
            row, column, value, ..
        }) => {
            assert_eq!(
                (row, column.as_str(), value.as_str()),
                (104, "tier", "giant")
            );
        }
        other => panic!("{other:?}"),
    }
    // A NaN risk score in a typed column, and "inf" as text, are not numbers.
    let idx = b.schema().index_of("risk_score").unwrap();
    let mut scores: Vec<Option<f64>> = cols_f64(&b, idx);
    scores[2] = Some(f64::NAN);
    let mut cols = b.columns().to_vec();
    cols[idx] = Arc::new(Float64Array::from(scores));
    let bad_value = |batch: &RecordBatch, path: &str| match ScoredRows::from_record_batch(
        batch,
        std::path::Path::new(path),
        1,
    ) {
        Err(Error::BadValue {
            row, column, value, ..
        }) => (row, column, value),
        other => panic!("{other:?}"),
    };
    let bad = RecordBatch::try_new(b.schema(), cols.clone()).unwrap();
    assert_eq!(
        bad_value(&bad, "scored.parquet"),
        (3, "risk_score".into(), "NaN".into())
    );
    let mut text: Vec<Option<String>> = cols_f64(&b, idx)
        .iter()
        .map(|v| v.map(|v| v.to_string()))
        .collect();
    text[4] = Some(" inf ".into());
    let mut fields: Vec<Field> = b
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields[idx] = Field::new("risk_score", DataType::Utf8, true);
    cols[idx] = Arc::new(StringArray::from(text));
    let bad = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap();
    assert_eq!(
        bad_value(&bad, "scored.csv"),
        (5, "risk_score".into(), "inf".into())
    );
}

/// A Float64 column's cells.
fn cols_f64(b: &RecordBatch, idx: usize) -> Vec<Option<f64>> {
    let a = b
        .column(idx)
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    (0..a.len())
        .map(|i| (!a.is_null(i)).then(|| a.value(i)))
        .collect()
}

#[test]
fn explain_states_the_decision() {
    let (batch, s, _) = scored_examples();
    let p = Policy::default();
    let at = |c: &str| s.position(c).unwrap();
    // Example 2: specialized A, key permit without monitoring.
    let en = explain(&batch, &s, at("91110105EXAMPLE010"), &p, Lang::En).unwrap();
    assert!(en.contains("Credit class A: given"), "{en}");
    assert!(en.contains("base ratio 0.03 × 0.6 = 0.018"), "{en}");
    assert!(en.contains("market ratio 0.018"), "{en}");
    assert!(
        en.contains("7. online monitoring for key permit holders: failed"),
        "{en}"
    );
    assert!(
        en.contains("monitoring would have to be installed and connected"),
        "{en}"
    );
    assert!(en.contains("1. 专精特新 tier: passed"), "{en}");
    assert!(
        en.contains("base 0.2 (key) × risk 1 (general) × emission 0.8 (low) = 0.16"),
        "{en}"
    );
    assert!(en.contains("= 0\n") || en.contains(") = 0."), "{en}");
    // Example 3 in Chinese: the HJ 941 computation and the emission threshold to reach.
    let zh = explain(&batch, &s, at("91110302EXAMPLE022"), &p, Lang::Zh).unwrap();
    assert!(zh.contains("较大[较大-大气(Q2-M2-E2)+一般-水(Q0)]"), "{zh}");
    assert!(zh.contains("污染当量数 2402 需降至 2000 以下"), "{zh}");
    assert!(
        zh.contains("不享受降低抽查比例（仅限信用风险分类 A类）"),
        "{zh}"
    );
    assert!(zh.contains("环境保护税估算：每年 24128 元"), "{zh}");
    assert!(zh.contains("= 41.67"), "{zh}");
    // Example 8: unknowns say what would have to be given.
    let en = explain(&batch, &s, at("91110112EXAMPLE07N"), &p, Lang::En).unwrap();
    assert!(
        en.contains("4. no environmental penalties: failed — not given"),
        "{en}"
    );
    assert!(en.contains("6. permit class known: failed"), "{en}");
    // Example 1: listed.
    let en = explain(&batch, &s, at("91110108EXAMPLE008"), &p, Lang::En).unwrap();
    assert!(en.contains("eligible, every criterion passes"), "{en}");
    assert!(!en.contains("failed"), "{en}");
    // Example 10: defaulted.
    let zh = explain(&batch, &s, at("91110108EXAMPLE094"), &p, Lang::Zh).unwrap();
    assert!(zh.contains("采用政策默认分类（CREDIT_DEFAULTED）"), "{zh}");
    assert!(explain(&batch, &s, 10, &p, Lang::En).is_err());
}

mod properties {
    //! Invariants of the kernel on random batches (proptest): ratios in [0, 1], risk score in
    //! [0, 100], the positive list exactly when no ECO_* reason, and the same values per
    //! enterprise whatever the row order.
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    struct Spec {
        tier: usize,
        class: Option<usize>,
        permit: Option<usize>,
        pe: (Option<f64>, Option<f64>),
        level: Option<usize>,
        air: (Option<f64>, Option<f64>, Option<usize>),
        water: (Option<f64>, Option<f64>, Option<usize>),
        counts: (Option<u32>, Option<u32>),
        flags: (Option<bool>, Option<bool>),
    }

    fn spec() -> impl Strategy<Value = Spec> {
        let hj = (
            proptest::option::of(0.0..200.0f64),
            proptest::option::of(0.0..100.0f64),
            proptest::option::of(0..3usize),
        );
        (
            0..4usize,
            proptest::option::of(0..4usize),
            proptest::option::of(0..4usize),
            (
                proptest::option::of(0.0..50000.0f64),
                proptest::option::of(0.0..50000.0f64),
            ),
            proptest::option::of(0..3usize),
            hj.clone(),
            hj,
            (proptest::option::of(0..3u32), proptest::option::of(0..3u32)),
            (any::<Option<bool>>(), any::<Option<bool>>()),
        )
            .prop_map(
                |(tier, class, permit, pe, level, air, water, counts, flags)| Spec {
                    tier,
                    class,
                    permit,
                    pe,
                    level,
                    air,
                    water,
                    counts,
                    flags,
                },
            )
    }

    fn build(specs: &[(String, Spec)]) -> EnterpriseBatch {
        let n = specs.len();
        let hj = |(q, m, e): (Option<f64>, Option<f64>, Option<usize>)| Hj941Input {
            q,
            m,
            e: e.map(|e| Sensitivity::ALL[e]),
        };
        EnterpriseBatch {
            row: (1..=n as u64).collect(),
            uscc: StringArray::from_iter_values(specs.iter().map(|(u, _)| u.as_str())),
            uscc_checksum_bad: vec![false; n],
            name: StringArray::from_iter_values(specs.iter().map(|(u, _)| u.as_str())),
            district: vec![110108; n],
            industry: StringArray::from(vec![None::<&str>; n]),
            tier: specs.iter().map(|(_, s)| Tier::ALL[s.tier]).collect(),
            credit_class: specs
                .iter()
                .map(|(_, s)| s.class.map(|c| CreditClass::ALL[c]))
                .collect(),
            permit_class: specs
                .iter()
                .map(|(_, s)| s.permit.map(|p| PermitClass::ALL[p]))
                .collect(),
            pe_air: specs.iter().map(|(_, s)| s.pe.0).collect(),
            pe_water: specs.iter().map(|(_, s)| s.pe.1).collect(),
            env_risk_level: specs
                .iter()
                .map(|(_, s)| s.level.map(|l| EnvRiskLevel::ALL[l]))
                .collect(),
            air: specs.iter().map(|(_, s)| hj(s.air)).collect(),
            water: specs.iter().map(|(_, s)| hj(s.water)).collect(),
            env_penalties_24m: specs.iter().map(|(_, s)| s.counts.0).collect(),
            env_incidents_24m: specs.iter().map(|(_, s)| s.counts.1).collect(),
            env_serious_violation_36m: specs.iter().map(|(_, s)| s.flags.0).collect(),
            online_monitoring: specs.iter().map(|(_, s)| s.flags.1).collect(),
            raw: empty_raw(n),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn invariants_and_row_order(specs in proptest::collection::vec(spec(), 1..40)) {
            let named: Vec<(String, Spec)> = specs
                .into_iter()
                .enumerate()
                .map(|(i, s)| (crate::uscc::complete(&format!("91110108MA{i:07}")).unwrap(), s))
                .collect();
            let p = Policy::default();
            let a = score_batch(&build(&named), None, None, &p).unwrap();
            for (i, (_, s)) in named.iter().enumerate() {
                prop_assert!((0.0..=1.0).contains(&a.market_ratio[i]));
                prop_assert!((0.0..=1.0).contains(&a.eco_ratio[i]));
                prop_assert!((0.0..=100.0).contains(&a.risk_score[i]));
                prop_assert_eq!(a.positive_list[i], a.reasons[i].eco().is_empty());
                prop_assert_eq!(a.eco_mode[i] == Mode::NonSite, a.positive_list[i]);
                prop_assert_eq!(
                    a.reasons[i].contains(Reason::CreditDefaulted),
                    a.credit_source[i] == CreditSource::Default
                );
                // The detail's level is what the reference kernel computes row by row.
                let hj = |(q, m, e): (Option<f64>, Option<f64>, Option<usize>)| Hj941Input {
                    q, m, e: e.map(|e| Sensitivity::ALL[e]),
                };
                prop_assert_eq!(
                    a.env_risk_detail[i],
                    envrisk::assess(&hj(s.air), &hj(s.water), s.flags.0, &p.hj941)
                );
            }
            let mut reversed = named.clone();
            reversed.reverse();
            let b = score_batch(&build(&reversed), None, None, &p).unwrap();
            let (ra, rb) = (a.to_rows(), b.to_rows());
            let n = ra.len();
            for i in 0..n {
                let j = n - 1 - i;
                prop_assert_eq!(&ra.uscc[i], &rb.uscc[j]);
                prop_assert_eq!(ra.market_ratio[i], rb.market_ratio[j]);
                prop_assert_eq!(ra.eco_ratio[i], rb.eco_ratio[j]);
                prop_assert_eq!(ra.risk_score[i], rb.risk_score[j]);
                prop_assert_eq!(ra.reasons[i], rb.reasons[j]);
                prop_assert_eq!(ra.pe_total[i], rb.pe_total[j]);
            }
        }
    }
}
