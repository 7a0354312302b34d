//! Scoring (SPEC §3, normative): one pure function over an [`EnterpriseBatch`] that gives each
//! enterprise its credit class and where it came from (§3.1), pollution equivalents, tax estimate
//! and emission band (§3.2), HJ 941 environmental risk level (§3.3), market-supervision ratio and
//! frequency with the relief of measure (二十四) (§3.4), 正面清单 eligibility, ecology ratio and
//! mode (§3.5), the composite risk score and the reason codes (§3.6). The result is struct-of-arrays
//! ([`ScoredBatch`]); per row nothing is allocated except the credit model's reasons. Output as an
//! Arrow batch and the reverse (reading a scored file back) are in [`output`]; the plain-language
//! account of one enterprise is in [`explain`].
//!
//! The kernels are in their own files: [`pollutants`], [`emissions`], [`envrisk`], [`market`],
//! [`ecology`], [`reasons`].

pub mod ecology;
pub mod emissions;
pub mod envrisk;
pub mod explain;
pub mod file;
pub mod lookup;
pub mod market;
pub mod output;
pub mod pollutants;
pub mod reasons;

#[cfg(test)]
mod examples;
#[cfg(test)]
mod pipeline_tests;

use arrow::array::{Array, StringArray};
use arrow::record_batch::RecordBatch;

use crate::input::EnterpriseBatch;
use crate::policy::{Policy, RiskScorePolicy};
use crate::predict::{CreditPrediction, CreditPredictor};
use crate::schema::{
    CreditClass, CreditSource, EmissionBand, EnvRiskLevel, EnvRiskSource, Mode, PermitClass, Tier,
};
use crate::{Error, Result};

pub use emissions::{EmissionAggregate, EmissionTotals};
pub use envrisk::Hj941Detail;
pub use explain::explain;
pub use output::{ScoredRows, ScoredTable};
pub use reasons::{Reason, Reasons};

/// The scored enterprises of one batch, column by column (SPEC §3.6). All vectors have the
/// batch's length and its row order.
#[derive(Debug, Clone)]
pub struct ScoredBatch {
    /// 1-based source row numbers (from the input batch).
    pub row: Vec<u64>,
    pub uscc: StringArray,
    pub name: StringArray,
    pub district: Vec<u32>,
    pub tier: Vec<Tier>,
    /// Final 信用风险分类 (given, model or default).
    pub credit_class: Vec<CreditClass>,
    pub credit_source: Vec<CreditSource>,
    /// The credit model's answers for the rows whose class it gave, as (row index, answer) in
    /// row order. Sparse because most classes are given; read them with
    /// [`ScoredBatch::credit_points`] and [`ScoredBatch::credit_reasons`].
    pub model_answers: Vec<(usize, CreditPrediction)>,
    pub pe_air: Vec<Option<f64>>,
    pub pe_water: Vec<Option<f64>>,
    pub pe_total: Vec<Option<f64>>,
    /// 环境保护税 estimate; `Some` only with an emissions table.
    pub env_tax_cny: Vec<Option<f64>>,
    pub emission_band: Vec<EmissionBand>,
    /// Final level (given, else computed); `None` = unknown.
    pub env_risk_level: Vec<Option<EnvRiskLevel>>,
    pub env_risk_source: Vec<EnvRiskSource>,
    /// The HJ 941 computation when the inputs allowed one (also when a level was given).
    pub env_risk_detail: Vec<Option<Hj941Detail>>,
    pub market_ratio: Vec<f64>,
    pub market_max_per_year: Vec<u8>,
    pub eco_ratio: Vec<f64>,
    pub eco_max_per_year: Vec<u8>,
    pub eco_mode: Vec<Mode>,
    pub positive_list: Vec<bool>,
    pub risk_score: Vec<f64>,
    pub reasons: Vec<Reasons>,
    /// 排污许可管理类别 as given, written after `reasons` so that the positive list's district cap
    /// (`eco.cap_share`, which counts key + simplified permit holders) works from a scored file.
    pub permit_class: Vec<Option<PermitClass>>,
    /// The input rows as read, for the pass-through of unknown columns.
    pub raw: RecordBatch,
}

impl ScoredBatch {
    /// Number of enterprises.
    pub fn len(&self) -> usize {
        self.row.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.row.is_empty()
    }

    /// Scorecard points of row `i`; `Some` only when its class came from the model.
    pub fn credit_points(&self, i: usize) -> Option<f64> {
        self.model_answer(i).map(|p| p.points)
    }

    /// The model's top reasons (feature names) for row `i`; empty unless its class came from the
    /// model.
    pub fn credit_reasons(&self, i: usize) -> &[String] {
        self.model_answer(i).map_or(&[], |p| p.reasons.as_slice())
    }

    fn model_answer(&self, i: usize) -> Option<&CreditPrediction> {
        self.model_answers
            .binary_search_by_key(&i, |(row, _)| *row)
            .ok()
            .map(|k| &self.model_answers[k].1)
    }

    /// Row index of a credit code, if present.
    pub fn position(&self, uscc: &str) -> Option<usize> {
        let u = uscc.trim();
        (0..self.uscc.len()).find(|&i| self.uscc.value(i).eq_ignore_ascii_case(u))
    }
}

/// `risk_score = 100 × (w_c·c[class] + w_e·e[level] + w_m·m[band])` (SPEC §3.6).
#[inline]
pub fn risk_score(
    class: CreditClass,
    level: Option<EnvRiskLevel>,
    band: EmissionBand,
    p: &RiskScorePolicy,
) -> f64 {
    100.0
        * (p.weight_credit * p.credit[class.index()]
            + p.weight_env_risk * p.env_risk[level.map_or(3, |l| l.index())]
            + p.weight_emission * p.emission[band.index()])
}

/// Scores several batches in parallel (rayon), in order: the pipeline's way to use every core,
/// since [`score_batch`] itself is one thread. `emissions` lookups are thread-safe.
pub fn score_batches(
    batches: &[EnterpriseBatch],
    emissions: Option<&EmissionTotals>,
    credit: Option<&dyn CreditPredictor>,
    policy: &Policy,
) -> Result<Vec<ScoredBatch>> {
    use rayon::prelude::*;
    batches
        .par_iter()
        .map(|b| score_batch(b, emissions, credit, policy))
        .collect()
}

/// The policy's decisions over their finite domains, evaluated once per batch with the reference
/// kernels (`market::market`, `risk_score`, `ecology::criteria`, `ecology::onsite_ratio`), so the
/// row loop is lookups rather than branches.
struct Tables {
    market: [[market::MarketDecision; 4]; 4],
    risk: [[[f64; 4]; 4]; 4],
    criteria: ecology::CriteriaTable,
    onsite: ecology::OnsiteRatioTable,
}

impl Tables {
    fn new(policy: &Policy) -> Tables {
        let mut mk = [[market::market(CreditClass::A, Tier::None, &policy.market); 4]; 4];
        for &c in CreditClass::ALL {
            for &tier in Tier::ALL {
                mk[c.index()][tier.index()] = market::market(c, tier, &policy.market);
            }
        }
        let levels = [
            Some(EnvRiskLevel::General),
            Some(EnvRiskLevel::Larger),
            Some(EnvRiskLevel::Major),
            None,
        ];
        let mut risk = [[[0.0; 4]; 4]; 4];
        for &c in CreditClass::ALL {
            for (j, &l) in levels.iter().enumerate() {
                for &b in EmissionBand::ALL {
                    risk[c.index()][j][b.index()] = risk_score(c, l, b, &policy.risk_score);
                }
            }
        }
        Tables {
            market: mk,
            risk,
            criteria: ecology::CriteriaTable::new(&policy.eco),
            onsite: ecology::OnsiteRatioTable::new(&policy.eco),
        }
    }
}

fn check_len(column: &'static str, len: usize, expected: usize) -> Result<()> {
    if len == expected {
        Ok(())
    } else {
        Err(Error::BatchShape {
            column,
            len,
            expected,
        })
    }
}

/// Scores one batch (SPEC §3). Pure: same inputs, same outputs, whatever the row order.
///
/// - `emissions`: the aggregated emissions table, when one was given (then the batch's own
///   `pe_air`/`pe_water` are ignored and every enterprise without rows has pe 0); looking an
///   enterprise up marks it, so [`EmissionTotals::orphans`] lists the rest afterwards.
/// - `credit`: the credit model, asked only when some row has no class.
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::StringArray;
/// use arrow::datatypes::Schema;
/// use arrow::record_batch::{RecordBatch, RecordBatchOptions};
/// use spotcheck::input::EnterpriseBatch;
/// use spotcheck::input::enterprise::Hj941Input;
/// use spotcheck::policy::Policy;
/// use spotcheck::schema::{CreditClass, PermitClass, EnvRiskLevel, Tier};
/// use spotcheck::score::score_batch;
///
/// let raw = RecordBatch::try_new_with_options(
///     Arc::new(Schema::empty()), vec![], &RecordBatchOptions::new().with_row_count(Some(1)))?;
/// let batch = EnterpriseBatch {
///     row: vec![1],
///     uscc: StringArray::from(vec!["91110108EXAMPLE008"]),
///     uscc_checksum_bad: vec![false],
///     name: StringArray::from(vec!["示例"]),
///     district: vec![110108],
///     industry: StringArray::from(vec![None::<&str>]),
///     tier: vec![Tier::LittleGiant],
///     credit_class: vec![Some(CreditClass::A)],
///     permit_class: vec![Some(PermitClass::Registration)],
///     pe_air: vec![Some(149.25)],
///     pe_water: vec![None],
///     env_risk_level: vec![Some(EnvRiskLevel::General)],
///     air: vec![Hj941Input::default()],
///     water: vec![Hj941Input::default()],
///     env_penalties_24m: vec![Some(0)],
///     env_incidents_24m: vec![Some(0)],
///     env_serious_violation_36m: vec![Some(false)],
///     online_monitoring: vec![Some(false)],
///     raw,
/// };
/// let s = score_batch(&batch, None, None, &Policy::default())?;
/// assert_eq!(s.market_ratio[0], 0.015); // 0.03 × 0.5 (小巨人 relief)
/// assert!(s.positive_list[0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn score_batch(
    batch: &EnterpriseBatch,
    emissions: Option<&EmissionTotals>,
    credit: Option<&dyn CreditPredictor>,
    policy: &Policy,
) -> Result<ScoredBatch> {
    let n = batch.len();
    check_len("uscc", batch.uscc.len(), n)?;
    check_len("uscc_checksum_bad", batch.uscc_checksum_bad.len(), n)?;
    check_len("name", batch.name.len(), n)?;
    check_len("district", batch.district.len(), n)?;
    check_len("tier", batch.tier.len(), n)?;
    check_len("credit_class", batch.credit_class.len(), n)?;
    check_len("permit_class", batch.permit_class.len(), n)?;
    check_len("pe_air", batch.pe_air.len(), n)?;
    check_len("pe_water", batch.pe_water.len(), n)?;
    check_len("env_risk_level", batch.env_risk_level.len(), n)?;
    check_len("air", batch.air.len(), n)?;
    check_len("water", batch.water.len(), n)?;
    check_len("env_penalties_24m", batch.env_penalties_24m.len(), n)?;
    check_len("env_incidents_24m", batch.env_incidents_24m.len(), n)?;
    check_len(
        "env_serious_violation_36m",
        batch.env_serious_violation_36m.len(),
        n,
    )?;
    check_len("online_monitoring", batch.online_monitoring.len(), n)?;
    check_len("raw", batch.raw.num_rows(), n)?;

    // §3.1: ask the model only about the rows whose class is missing, once for the batch (the
    // model answers row by row, so a row's answer does not depend on the other rows asked).
    let mut predictions = match credit {
        Some(model) if batch.credit_class.iter().any(Option::is_none) => {
            let missing: Vec<u32> = (0..n as u32)
                .filter(|&i| batch.credit_class[i as usize].is_none())
                .collect();
            let arrow_err = |source| Error::Arrow {
                path: std::path::PathBuf::from("<credit model input>"),
                source,
            };
            let asked = if missing.len() == n {
                batch.raw.clone()
            } else if batch.raw.num_columns() == 0 {
                RecordBatch::try_new_with_options(
                    batch.raw.schema(),
                    vec![],
                    &arrow::record_batch::RecordBatchOptions::new()
                        .with_row_count(Some(missing.len())),
                )
                .map_err(arrow_err)?
            } else {
                let idx = arrow::array::UInt32Array::from(missing.clone());
                arrow::compute::take_record_batch(&batch.raw, &idx).map_err(arrow_err)?
            };
            let p = model.predict_batch(&asked)?;
            if p.len() != missing.len() {
                return Err(Error::PredictionCount {
                    expected: missing.len(),
                    got: p.len(),
                });
            }
            let mut all = vec![None; n];
            for (i, answer) in missing.iter().zip(p) {
                all[*i as usize] = answer;
            }
            all
        }
        _ => Vec::new(),
    };

    let t = Tables::new(policy);
    let eco = &policy.eco;

    // Each section of SPEC §3 is one columnar pass: tight loops over a few columns that collect
    // into exactly-sized vectors (no per-row capacity checks, no branches on the data where a
    // table lookup will do). The reasons column is built up pass by pass, in rule order.

    // §2.1
    let checksum = Reason::UsccChecksum.bit();
    let mut reasons: Vec<Reasons> = batch.uscc_checksum_bad[..n]
        .iter()
        .map(|&bad| Reasons(bad as u32 * checksum))
        .collect();

    // §3.1 credit class: given, else the model's, else the policy default.
    let mut credit_class = Vec::with_capacity(n);
    let mut credit_source = Vec::with_capacity(n);
    let mut model_answers = Vec::new();
    for (i, (given, r)) in batch.credit_class[..n].iter().zip(&mut reasons).enumerate() {
        let (class, source) = match given {
            Some(c) => (*c, CreditSource::Given),
            None => match predictions.get_mut(i).and_then(Option::take) {
                Some(p) => {
                    let class = p.class;
                    model_answers.push((i, p));
                    (class, CreditSource::Model)
                }
                None => {
                    r.insert(Reason::CreditDefaulted);
                    (policy.credit.missing_class, CreditSource::Default)
                }
            },
        };
        credit_class.push(class);
        credit_source.push(source);
    }

    // §3.2 pollution equivalents and emission band.
    let (pe_air, pe_water, pe_total, env_tax_cny): (Vec<_>, Vec<_>, Vec<Option<f64>>, Vec<_>) =
        match emissions {
            Some(totals) => {
                let e: Vec<emissions::EnterpriseEmissions> = (0..n)
                    .map(|i| {
                        let key: Option<&[u8; 18]> = batch.uscc.value(i).as_bytes().try_into().ok();
                        key.and_then(|k| totals.get(k)).unwrap_or_default()
                    })
                    .collect();
                (
                    e.iter().map(|e| Some(e.pe_air)).collect(),
                    e.iter().map(|e| Some(e.pe_water)).collect(),
                    e.iter().map(|e| Some(e.pe_air + e.pe_water)).collect(),
                    e.iter().map(|e| Some(e.env_tax_cny)).collect(),
                )
            }
            None => {
                let (a, w) = (&batch.pe_air[..n], &batch.pe_water[..n]);
                let total = a
                    .iter()
                    .zip(w)
                    .map(|(a, w)| {
                        (a.is_some() | w.is_some()).then(|| a.unwrap_or(0.0) + w.unwrap_or(0.0))
                    })
                    .collect();
                (a.to_vec(), w.to_vec(), total, vec![None; n])
            }
        };
    let emission_band: Vec<EmissionBand> = pe_total
        .iter()
        .map(|&pe| ecology::emission_band(pe, eco))
        .collect();

    // §3.3 environmental risk level: given, else computed by HJ 941; mismatch flagged.
    let env_risk_detail: Vec<Option<Hj941Detail>> = batch.air[..n]
        .iter()
        .zip(&batch.water[..n])
        .zip(&batch.env_serious_violation_36m[..n])
        .map(|((a, w), &v)| envrisk::assess(a, w, v, &policy.hj941))
        .collect();
    let given_level = &batch.env_risk_level[..n];
    let env_risk_level: Vec<Option<EnvRiskLevel>> = given_level
        .iter()
        .zip(&env_risk_detail)
        .map(|(g, d)| g.or(d.map(|d| d.level)))
        .collect();
    const SOURCES: [EnvRiskSource; 3] = [
        EnvRiskSource::Unknown,
        EnvRiskSource::Computed,
        EnvRiskSource::Given,
    ];
    let env_risk_source: Vec<EnvRiskSource> = given_level
        .iter()
        .zip(&env_risk_detail)
        .map(|(g, d)| SOURCES[if g.is_some() { 2 } else { d.is_some() as usize }])
        .collect();
    let mismatch = Reason::EnvRiskMismatch.bit();
    for ((r, g), d) in reasons.iter_mut().zip(given_level).zip(&env_risk_detail) {
        let differs = match (g, d) {
            (Some(g), Some(d)) => *g != d.level,
            _ => false,
        };
        r.0 |= differs as u32 * mismatch;
    }

    // §3.4 market ratio and frequency, relief included (table of `market::market`).
    let tier = &batch.tier[..n];
    let mut market_ratio = Vec::with_capacity(n);
    let mut market_max_per_year = Vec::with_capacity(n);
    for ((c, tr), r) in credit_class.iter().zip(tier).zip(&mut reasons) {
        let m = &t.market[c.index()][tr.index()];
        market_ratio.push(m.ratio);
        market_max_per_year.push(m.max_per_year);
        r.0 |= m.relief.map_or(0, Reason::bit);
    }

    // §3.5 positive-list criteria (table of `ecology::criteria`), then ratio, mode, maximum.
    let permit = &batch.permit_class[..n];
    let penalties = &batch.env_penalties_24m[..n];
    let incidents = &batch.env_incidents_24m[..n];
    let monitoring = &batch.online_monitoring[..n];
    let failures: Vec<Reasons> = (0..n)
        .map(|i| {
            t.criteria.failures(&ecology::EcoInputs {
                tier: tier[i],
                band: emission_band[i],
                level: env_risk_level[i],
                penalties_24m: penalties[i],
                incidents_24m: incidents[i],
                permit: permit[i],
                online_monitoring: monitoring[i],
                credit: credit_class[i],
            })
        })
        .collect();
    let positive_list: Vec<bool> = failures.iter().map(|f| f.is_empty()).collect();
    let eco_ratio: Vec<f64> = (0..n)
        .map(|i| {
            if positive_list[i] {
                eco.positive_list_onsite_ratio
            } else {
                t.onsite.get(permit[i], env_risk_level[i], emission_band[i])
            }
        })
        .collect();
    let eco_max_per_year: Vec<u8> = positive_list
        .iter()
        .map(|&l| {
            if l {
                eco.positive_list_max_per_year
            } else {
                eco.max_per_year
            }
        })
        .collect();
    let eco_mode: Vec<Mode> = positive_list
        .iter()
        .map(|&l| if l { Mode::NonSite } else { Mode::Onsite })
        .collect();
    for (r, f) in reasons.iter_mut().zip(&failures) {
        r.0 |= f.0;
    }

    // §3.6 composite risk score (table of `risk_score`).
    let risk_score: Vec<f64> = (0..n)
        .map(|i| {
            t.risk[credit_class[i].index()][env_risk_level[i].map_or(3, |l| l.index())]
                [emission_band[i].index()]
        })
        .collect();

    Ok(ScoredBatch {
        row: batch.row.clone(),
        uscc: batch.uscc.clone(),
        name: batch.name.clone(),
        district: batch.district.clone(),
        tier: batch.tier.clone(),
        credit_class,
        credit_source,
        model_answers,
        pe_air,
        pe_water,
        pe_total,
        env_tax_cny,
        emission_band,
        env_risk_level,
        env_risk_source,
        env_risk_detail,
        market_ratio,
        market_max_per_year,
        eco_ratio,
        eco_max_per_year,
        eco_mode,
        positive_list,
        risk_score,
        reasons,
        permit_class: batch.permit_class.clone(),
        raw: batch.raw.clone(),
    })
}
