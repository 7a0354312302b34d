//! The scoring policy: every number of SPEC §3 and the keys sampling and the positive list need,
//! read from a TOML file (`data/policy/default.toml` is embedded and is the default). The file is
//! parsed into `PolicyFile` (serde, unknown keys rejected) and then validated into `Policy`, the only
//! type engine functions take: ratios in [0, 1], thresholds in order, a value for every credit
//! class, tier, permit class, risk level and emission band. Errors are `Error::Policy` naming the
//! dotted key (`market.base_ratio.D`). `Policy` keeps the exact bytes it came from so manifests can
//! record their SHA-256. This file owns no scoring logic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::schema::{CreditClass, EmissionBand, EnvRiskLevel, PermitClass, Tier, norm};
use crate::{Error, Result};

/// The policy shipped with spotcheck (SPEC §3 defaults, each key commented with its source).
pub const DEFAULT_POLICY_TOML: &str = include_str!("../data/policy/default.toml");

/// The path shown in messages about the embedded default policy.
pub const DEFAULT_POLICY_PATH: &str = "data/policy/default.toml";

/// Keys that may be left out of a policy file (everything else is required).
const OPTIONAL_KEYS: &[&str] = &["eco.cap_share"];

// ---------------------------------------------------------------------------------------------
// The file as written (serde mirror of data/policy/default.toml)
// ---------------------------------------------------------------------------------------------

/// A policy file as written, before validation. Mirrors `data/policy/default.toml`, where every
/// key is documented; engine code never takes this type, only the validated [`Policy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    pub credit: CreditFile,
    pub market: MarketFile,
    pub tax: TaxFile,
    pub hj941: Hj941File,
    pub eco: EcoFile,
    pub risk_score: RiskScoreFile,
    pub sampling: SamplingFile,
}

/// `[credit]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditFile {
    pub missing_class: String,
}

/// `[market]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketFile {
    pub base_ratio: BTreeMap<String, f64>,
    pub max_per_year: BTreeMap<String, i64>,
    pub relief_classes: Vec<String>,
    pub relief_factor: BTreeMap<String, f64>,
    pub relief_max_per_year: i64,
    pub min_ratio: f64,
}

/// `[tax]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxFile {
    pub air_cny: f64,
    pub water_cny: f64,
    pub air_top_n: i64,
    pub water_class1_top_n: i64,
    pub water_class2_top_n: i64,
}

/// `[hj941]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hj941File {
    pub q_bounds: Vec<f64>,
    pub m_bounds: Vec<f64>,
    pub serious_violation_raise: i64,
}

/// `[eco]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcoFile {
    pub low_pe_below: f64,
    pub high_pe_from: f64,
    pub positive_list_credit_classes: Vec<String>,
    pub positive_list_onsite_ratio: f64,
    pub positive_list_max_per_year: i64,
    pub max_per_year: i64,
    pub min_ratio: f64,
    pub base_ratio: BTreeMap<String, f64>,
    pub risk_mult: BTreeMap<String, f64>,
    pub emission_mult: BTreeMap<String, f64>,
    pub validity_years: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_share: Option<f64>,
}

/// `[risk_score]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskScoreFile {
    pub weight_credit: f64,
    pub weight_env_risk: f64,
    pub weight_emission: f64,
    pub credit: BTreeMap<String, f64>,
    pub env_risk: BTreeMap<String, f64>,
    pub emission: BTreeMap<String, f64>,
}

/// `[sampling]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplingFile {
    pub cooldown_months: i64,
    pub team_size: i64,
}

// ---------------------------------------------------------------------------------------------
// The validated policy
// ---------------------------------------------------------------------------------------------

/// `[credit]`, validated (SPEC §3.1).
#[derive(Debug, Clone, PartialEq)]
pub struct CreditPolicy {
    /// Class used when none is given and the model cannot predict one.
    pub missing_class: CreditClass,
}

/// `[market]`, validated (SPEC §3.4). Arrays are indexed by `CreditClass::index()` / `Tier::index()`.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketPolicy {
    /// Annual on-site spot-check probability per credit class.
    pub base_ratio: [f64; 4],
    /// Maximum market spot checks a year per credit class.
    pub max_per_year: [u8; 4],
    /// Whether a credit class qualifies for relief.
    pub relief_classes: [bool; 4],
    /// Relief multiplier per tier; `Tier::None` holds 1.0 and never applies.
    pub relief_factor: [f64; 4],
    /// Cap on `max_per_year` for relieved enterprises.
    pub relief_max_per_year: u8,
    /// Lower clamp of `market_ratio`.
    pub min_ratio: f64,
}

/// `[tax]`, validated (SPEC §3.2; 环境保护税法 Art. 9).
#[derive(Debug, Clone, PartialEq)]
pub struct TaxPolicy {
    /// CNY per air pollution equivalent.
    pub air_cny: f64,
    /// CNY per water pollution equivalent.
    pub water_cny: f64,
    /// Air pollutants taxed per outlet (largest pe first).
    pub air_top_n: usize,
    /// 第一类 water pollutants taxed per outlet.
    pub water_class1_top_n: usize,
    /// 第二类 water pollutants taxed per outlet (COD/BOD5/TOC count once).
    pub water_class2_top_n: usize,
}

/// `[hj941]`, validated (SPEC §3.3).
#[derive(Debug, Clone, PartialEq)]
pub struct Hj941Policy {
    /// Lower bounds of Q1, Q2, Q3, strictly increasing.
    pub q_bounds: [f64; 3],
    /// Lower bounds of M2, M3, M4, strictly increasing.
    pub m_bounds: [f64; 3],
    /// Steps a computed level is raised after a serious violation (capped at major).
    pub serious_violation_raise: u8,
}

/// `[eco]`, validated (SPEC §3.2 bands, §3.5, §5).
#[derive(Debug, Clone, PartialEq)]
pub struct EcoPolicy {
    /// `low` band: pe_total below this.
    pub low_pe_below: f64,
    /// `high` band: pe_total at or above this.
    pub high_pe_from: f64,
    /// Credit classes that may be on the positive list (criterion 8), by `CreditClass::index()`.
    pub positive_list_credit_classes: [bool; 4],
    /// On-site ratio of positive-list enterprises.
    pub positive_list_onsite_ratio: f64,
    /// Yearly on-site maximum of positive-list enterprises.
    pub positive_list_max_per_year: u8,
    /// Yearly on-site maximum of everyone else.
    pub max_per_year: u8,
    /// Lower clamp of `eco_ratio` off the list.
    pub min_ratio: f64,
    /// Base ratio by `PermitClass::index()`, then index 4 = unknown permit class.
    pub base_ratio: [f64; 5],
    /// Multiplier by `EnvRiskLevel::index()`, then index 3 = unknown level.
    pub risk_mult: [f64; 4],
    /// Multiplier by `EmissionBand::index()` (its `Unknown` included).
    pub emission_mult: [f64; 4],
    /// Years a listing is valid.
    pub validity_years: u32,
    /// Optional cap on the listed share of each district's key + simplified permit holders.
    pub cap_share: Option<f64>,
}

impl EcoPolicy {
    /// `base[permit]`, with the `unknown` value for a null permit class.
    #[inline]
    pub fn base_for(&self, permit: Option<PermitClass>) -> f64 {
        self.base_ratio[permit.map_or(4, |p| p.index())]
    }

    /// `risk_mult[level]`, with the `unknown` value for a null level.
    #[inline]
    pub fn risk_mult_for(&self, level: Option<EnvRiskLevel>) -> f64 {
        self.risk_mult[level.map_or(3, |l| l.index())]
    }
}

/// `[risk_score]`, validated (SPEC §3.6).
#[derive(Debug, Clone, PartialEq)]
pub struct RiskScorePolicy {
    pub weight_credit: f64,
    pub weight_env_risk: f64,
    pub weight_emission: f64,
    /// Component per `CreditClass::index()`.
    pub credit: [f64; 4],
    /// Component per `EnvRiskLevel::index()`, then index 3 = unknown.
    pub env_risk: [f64; 4],
    /// Component per `EmissionBand::index()`.
    pub emission: [f64; 4],
}

/// `[sampling]`, validated (SPEC §4).
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingPolicy {
    /// Months without an on-site check of the department before the month drawn.
    pub cooldown_months: u32,
    /// Inspectors per task.
    pub team_size: usize,
}

/// A validated policy: what every engine function takes. Build it with [`Policy::default`],
/// [`Policy::load`] or [`Policy::parse`].
///
/// ```
/// use spotcheck::policy::Policy;
/// let p = Policy::default();
/// assert_eq!(p.market.base_ratio[0], 0.03); // class A, SPEC §3.4
/// assert_eq!(p.sha256_hex().len(), 64);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub credit: CreditPolicy,
    pub market: MarketPolicy,
    pub tax: TaxPolicy,
    pub hj941: Hj941Policy,
    pub eco: EcoPolicy,
    pub risk_score: RiskScorePolicy,
    pub sampling: SamplingPolicy,
    source: String,
    path: PathBuf,
    sha256: [u8; 32],
}

impl Default for Policy {
    /// The embedded `data/policy/default.toml`.
    fn default() -> Self {
        // The embedded file is validated by the unit test `default_policy_is_valid`, so this
        // cannot fail at run time.
        Policy::parse(DEFAULT_POLICY_TOML, Path::new(DEFAULT_POLICY_PATH))
            .expect("the embedded default policy is valid (checked by tests)")
    }
}

impl Policy {
    /// Reads and validates a policy file.
    pub fn load(path: &Path) -> Result<Policy> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let text = String::from_utf8(bytes).map_err(|e| Error::Policy {
            path: path.to_path_buf(),
            key: String::new(),
            message: format!(
                "the file is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        })?;
        Policy::parse(&text, path)
    }

    /// Parses and validates policy text; `path` is only used in messages and kept for manifests.
    pub fn parse(text: &str, path: &Path) -> Result<Policy> {
        let file = PolicyFile::parse(text, path)?;
        let mut policy = file.validate(path)?;
        policy.source = text.to_owned();
        policy.path = path.to_path_buf();
        policy.sha256 = Sha256::digest(text.as_bytes()).into();
        Ok(policy)
    }

    /// The exact text the policy was read from.
    pub fn source_text(&self) -> &str {
        &self.source
    }

    /// Where the policy was read from (`data/policy/default.toml` for the embedded default).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lower-case hex SHA-256 of the exact bytes the policy was read from.
    pub fn sha256_hex(&self) -> String {
        hex(&self.sha256)
    }
}

pub use crate::table::hex;

// ---------------------------------------------------------------------------------------------
// Parsing: TOML → PolicyFile, with errors naming the dotted key
// ---------------------------------------------------------------------------------------------

impl PolicyFile {
    /// Parses policy text. Syntax errors name the line; unknown and missing keys, and values of the
    /// wrong type, name the dotted key.
    pub fn parse(text: &str, path: &Path) -> Result<PolicyFile> {
        let err = |key: String, message: String| Error::Policy {
            path: path.to_path_buf(),
            key,
            message,
        };
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(0);
            err(
                format!("line {line}"),
                format!("not valid TOML: {}", e.message()),
            )
        })?;
        check_key_set(&table, path)?;
        PolicyFile::deserialize(table).map_err(|e| {
            // Deserializing from a `Table` records the key path as "in `a.b`" after the message.
            let shown = e.to_string();
            let key = shown
                .split_once("in `")
                .and_then(|(_, rest)| rest.split_once('`'))
                .map(|(k, _)| k.to_owned())
                .unwrap_or_default();
            err(key, e.message().to_owned())
        })
    }

    /// Validates the file into a [`Policy`]; [`Policy::parse`] then records the source text and
    /// its hash, so a `Policy` always knows the bytes it came from.
    fn validate(&self, path: &Path) -> Result<Policy> {
        let v = Validator { path };
        let class_idx = |s: &str| CreditClass::parse(s).map(|c| c.index());
        const CLASSES: &[&str] = &["A", "B", "C", "D"];

        // [credit]
        let missing_class = CreditClass::parse(&self.credit.missing_class).ok_or_else(|| {
            v.err(
                "credit.missing_class",
                format!(
                    "{:?} is not a credit class (expected A, B, C or D)",
                    self.credit.missing_class
                ),
            )
        })?;

        // [market]
        let m = &self.market;
        let base_ratio: [f64; 4] =
            v.keyed("market.base_ratio", &m.base_ratio, CLASSES, class_idx)?;
        for (c, r) in CLASSES.iter().zip(base_ratio) {
            v.ratio(&format!("market.base_ratio.{c}"), r)?;
        }
        let max_raw: [i64; 4] =
            v.keyed("market.max_per_year", &m.max_per_year, CLASSES, class_idx)?;
        let mut max_per_year = [0u8; 4];
        for (i, (c, n)) in CLASSES.iter().zip(max_raw).enumerate() {
            max_per_year[i] = v.count(&format!("market.max_per_year.{c}"), n)?;
        }
        let relief_classes = v.class_set("market.relief_classes", &m.relief_classes)?;
        let tier_idx = |s: &str| Tier::parse(s).map(|t| t.index());
        const TIERS: &[&str] = &["innovative", "specialized", "little_giant"];
        for k in m.relief_factor.keys() {
            if Tier::parse(k) == Some(Tier::None) {
                return Err(v.err(
                    format!("market.relief_factor.{k}"),
                    "tier `none` (not 专精特新) never gets relief: remove this key".into(),
                ));
            }
        }
        let rf3: [f64; 3] = v.keyed("market.relief_factor", &m.relief_factor, TIERS, tier_idx)?;
        let mut relief_factor = [1.0; 4];
        for (i, (t, f)) in TIERS.iter().zip(rf3).enumerate() {
            relief_factor[i] = v.ratio(&format!("market.relief_factor.{t}"), f)?;
        }
        debug_assert_eq!(Tier::None.index(), 3);
        let market = MarketPolicy {
            base_ratio,
            max_per_year,
            relief_classes,
            relief_factor,
            relief_max_per_year: v.count("market.relief_max_per_year", m.relief_max_per_year)?,
            min_ratio: v.ratio("market.min_ratio", m.min_ratio)?,
        };

        // [tax]
        let t = &self.tax;
        let tax = TaxPolicy {
            air_cny: v.nonneg("tax.air_cny", t.air_cny)?,
            water_cny: v.nonneg("tax.water_cny", t.water_cny)?,
            air_top_n: v.top_n("tax.air_top_n", t.air_top_n)?,
            water_class1_top_n: v.top_n("tax.water_class1_top_n", t.water_class1_top_n)?,
            water_class2_top_n: v.top_n("tax.water_class2_top_n", t.water_class2_top_n)?,
        };

        // [hj941]
        let h = &self.hj941;
        let hj941 = Hj941Policy {
            q_bounds: v.bounds("hj941.q_bounds", &h.q_bounds)?,
            m_bounds: v.bounds("hj941.m_bounds", &h.m_bounds)?,
            serious_violation_raise: match h.serious_violation_raise {
                n @ 0..=2 => n as u8,
                n => {
                    return Err(v.err(
                        "hj941.serious_violation_raise",
                        format!("{n} is not 0, 1 or 2 (steps between 一般, 较大 and 重大)"),
                    ));
                }
            },
        };

        // [eco]
        let e = &self.eco;
        let low_pe_below = v.nonneg("eco.low_pe_below", e.low_pe_below)?;
        let high_pe_from = v.nonneg("eco.high_pe_from", e.high_pe_from)?;
        if high_pe_from < low_pe_below {
            return Err(v.err(
                "eco.high_pe_from",
                format!(
                    "{high_pe_from} is below eco.low_pe_below = {low_pe_below}: thresholds must be in order"
                ),
            ));
        }
        const PERMITS: &[&str] = &["key", "simplified", "registration", "none", "unknown"];
        let permit_idx = |s: &str| {
            if norm(s) == "unknown" {
                Some(4)
            } else {
                PermitClass::parse(s).map(|p| p.index())
            }
        };
        let eco_base: [f64; 5] = v.keyed("eco.base_ratio", &e.base_ratio, PERMITS, permit_idx)?;
        for (k, r) in PERMITS.iter().zip(eco_base) {
            v.ratio(&format!("eco.base_ratio.{k}"), r)?;
        }
        const LEVELS: &[&str] = &["general", "larger", "major", "unknown"];
        let level_idx = |s: &str| {
            if norm(s) == "unknown" {
                Some(3)
            } else {
                EnvRiskLevel::parse(s).map(|l| l.index())
            }
        };
        let risk_mult: [f64; 4] = v.keyed("eco.risk_mult", &e.risk_mult, LEVELS, level_idx)?;
        for (k, x) in LEVELS.iter().zip(risk_mult) {
            v.nonneg(&format!("eco.risk_mult.{k}"), x)?;
        }
        const BANDS: &[&str] = &["low", "medium", "high", "unknown"];
        let band_idx = |s: &str| EmissionBand::parse(s).map(|b| b.index());
        let emission_mult: [f64; 4] =
            v.keyed("eco.emission_mult", &e.emission_mult, BANDS, band_idx)?;
        for (k, x) in BANDS.iter().zip(emission_mult) {
            v.nonneg(&format!("eco.emission_mult.{k}"), x)?;
        }
        let eco = EcoPolicy {
            low_pe_below,
            high_pe_from,
            positive_list_credit_classes: v.class_set(
                "eco.positive_list_credit_classes",
                &e.positive_list_credit_classes,
            )?,
            positive_list_onsite_ratio: v.ratio(
                "eco.positive_list_onsite_ratio",
                e.positive_list_onsite_ratio,
            )?,
            positive_list_max_per_year: v.count(
                "eco.positive_list_max_per_year",
                e.positive_list_max_per_year,
            )?,
            max_per_year: v.count("eco.max_per_year", e.max_per_year)?,
            min_ratio: v.ratio("eco.min_ratio", e.min_ratio)?,
            base_ratio: eco_base,
            risk_mult,
            emission_mult,
            validity_years: match e.validity_years {
                n @ 1..=100 => n as u32,
                n => {
                    return Err(v.err(
                        "eco.validity_years",
                        format!("{n} is not a number of years between 1 and 100"),
                    ));
                }
            },
            cap_share: match e.cap_share {
                Some(x) => Some(v.ratio("eco.cap_share", x)?),
                None => None,
            },
        };

        // [risk_score]
        let r = &self.risk_score;
        let weight_credit = v.ratio("risk_score.weight_credit", r.weight_credit)?;
        let weight_env_risk = v.ratio("risk_score.weight_env_risk", r.weight_env_risk)?;
        let weight_emission = v.ratio("risk_score.weight_emission", r.weight_emission)?;
        let sum = weight_credit + weight_env_risk + weight_emission;
        if (sum - 1.0).abs() > 1e-9 {
            return Err(v.err(
                "risk_score.weight_emission",
                format!("the three weights add up to {sum}, not 1"),
            ));
        }
        let rc: [f64; 4] = v.keyed("risk_score.credit", &r.credit, CLASSES, class_idx)?;
        let re: [f64; 4] = v.keyed("risk_score.env_risk", &r.env_risk, LEVELS, level_idx)?;
        let rm: [f64; 4] = v.keyed("risk_score.emission", &r.emission, BANDS, band_idx)?;
        for (k, x) in CLASSES.iter().zip(rc) {
            v.ratio(&format!("risk_score.credit.{k}"), x)?;
        }
        for (k, x) in LEVELS.iter().zip(re) {
            v.ratio(&format!("risk_score.env_risk.{k}"), x)?;
        }
        for (k, x) in BANDS.iter().zip(rm) {
            v.ratio(&format!("risk_score.emission.{k}"), x)?;
        }
        let risk_score = RiskScorePolicy {
            weight_credit,
            weight_env_risk,
            weight_emission,
            credit: rc,
            env_risk: re,
            emission: rm,
        };

        // [sampling]
        let s = &self.sampling;
        let sampling = SamplingPolicy {
            cooldown_months: match s.cooldown_months {
                n @ 0..=120 => n as u32,
                n => {
                    return Err(v.err(
                        "sampling.cooldown_months",
                        format!("{n} is not a number of months between 0 and 120"),
                    ));
                }
            },
            team_size: match s.team_size {
                n @ 1..=20 => n as usize,
                n => {
                    return Err(v.err(
                        "sampling.team_size",
                        format!("{n} is not a team size between 1 and 20"),
                    ));
                }
            },
        };

        Ok(Policy {
            credit: CreditPolicy { missing_class },
            market,
            tax,
            hj941,
            eco,
            risk_score,
            sampling,
            source: String::new(),
            path: path.to_path_buf(),
            sha256: [0; 32],
        })
    }
}

/// Rejects unknown sections and keys, and reports missing ones, by comparing with the embedded
/// default file (which holds every key; `OPTIONAL_KEYS` may be absent). Keys inside per-class maps
/// (`base_ratio.A`) are checked by validation instead.
fn check_key_set(table: &toml::Table, path: &Path) -> Result<()> {
    let err = |key: String, message: String| Error::Policy {
        path: path.to_path_buf(),
        key,
        message,
    };
    // The embedded default parses (test `default_policy_is_valid`); an empty table would only make
    // every key look unknown, never panic.
    let reference: toml::Table = DEFAULT_POLICY_TOML.parse().unwrap_or_default();
    let known = |t: &toml::Table| t.keys().cloned().collect::<Vec<_>>().join(", ");
    for (section, value) in table {
        let Some(ref_section) = reference.get(section).and_then(|v| v.as_table()) else {
            return Err(err(
                section.clone(),
                format!("unknown section (expected one of: {})", known(&reference)),
            ));
        };
        let Some(t) = value.as_table() else {
            return Err(err(section.clone(), "expected a [section] of keys".into()));
        };
        for k in t.keys() {
            let dotted = format!("{section}.{k}");
            if !ref_section.contains_key(k) && !OPTIONAL_KEYS.contains(&dotted.as_str()) {
                let mut expected = known(ref_section);
                for o in OPTIONAL_KEYS {
                    if let Some(rest) = o.strip_prefix(&format!("{section}.")) {
                        expected.push_str(", ");
                        expected.push_str(rest);
                    }
                }
                return Err(err(
                    dotted,
                    format!("unknown key (expected one of: {expected})"),
                ));
            }
        }
    }
    for (section, value) in &reference {
        let Some(t) = table.get(section).and_then(|v| v.as_table()) else {
            return Err(err(section.clone(), "missing section".into()));
        };
        if let Some(ref_section) = value.as_table() {
            for k in ref_section.keys() {
                if !t.contains_key(k) {
                    return Err(err(format!("{section}.{k}"), "missing key".into()));
                }
            }
        }
    }
    Ok(())
}

/// Range checks that turn into `Error::Policy` naming the key.
struct Validator<'a> {
    path: &'a Path,
}

impl Validator<'_> {
    fn err(&self, key: impl Into<String>, message: String) -> Error {
        Error::Policy {
            path: self.path.to_path_buf(),
            key: key.into(),
            message,
        }
    }

    fn ratio(&self, key: &str, x: f64) -> Result<f64> {
        if (0.0..=1.0).contains(&x) {
            Ok(x)
        } else {
            Err(self.err(key, format!("{x} is not a ratio between 0 and 1")))
        }
    }

    fn nonneg(&self, key: &str, x: f64) -> Result<f64> {
        if x.is_finite() && x >= 0.0 {
            Ok(x)
        } else {
            Err(self.err(key, format!("{x} is not a finite number ≥ 0")))
        }
    }

    fn count(&self, key: &str, n: i64) -> Result<u8> {
        u8::try_from(n).map_err(|_| self.err(key, format!("{n} is not a count between 0 and 255")))
    }

    fn top_n(&self, key: &str, n: i64) -> Result<usize> {
        match n {
            1..=64 => Ok(n as usize),
            _ => Err(self.err(
                key,
                format!("{n} is not a number of taxed pollutants between 1 and 64"),
            )),
        }
    }

    fn bounds(&self, key: &str, b: &[f64]) -> Result<[f64; 3]> {
        let arr: [f64; 3] = b
            .try_into()
            .map_err(|_| self.err(key, format!("expected 3 lower bounds, found {}", b.len())))?;
        for (i, x) in arr.iter().enumerate() {
            if !x.is_finite() || *x < 0.0 {
                return Err(self.err(
                    format!("{key}[{i}]"),
                    format!("{x} is not a finite number ≥ 0"),
                ));
            }
        }
        if !(arr[0] < arr[1] && arr[1] < arr[2]) {
            return Err(self.err(
                key,
                format!("{arr:?}: thresholds must be strictly increasing"),
            ));
        }
        Ok(arr)
    }

    /// A set of credit classes from a list such as `["A", "B"]`.
    fn class_set(&self, key: &str, list: &[String]) -> Result<[bool; 4]> {
        let mut set = [false; 4];
        for (i, s) in list.iter().enumerate() {
            let c = CreditClass::parse(s).ok_or_else(|| {
                self.err(
                    format!("{key}[{i}]"),
                    format!("{s:?} is not a credit class (expected A, B, C or D)"),
                )
            })?;
            set[c.index()] = true;
        }
        Ok(set)
    }

    /// A value for every name of `names` (index order), from a map whose keys may be any accepted
    /// spelling; unknown, doubled and missing names are errors naming `key.name`.
    fn keyed<T: Copy + Default, const N: usize>(
        &self,
        key: &str,
        map: &BTreeMap<String, T>,
        names: &[&str],
        index: impl Fn(&str) -> Option<usize>,
    ) -> Result<[T; N]> {
        debug_assert_eq!(names.len(), N);
        let mut out = [T::default(); N];
        let mut seen = [false; N];
        for (k, val) in map {
            let i = index(k).filter(|&i| i < N).ok_or_else(|| {
                self.err(
                    format!("{key}.{k}"),
                    format!("unknown name (expected one of: {})", names.join(", ")),
                )
            })?;
            if seen[i] {
                return Err(self.err(format!("{key}.{k}"), format!("{} is given twice", names[i])));
            }
            seen[i] = true;
            out[i] = *val;
        }
        if let Some(i) = seen.iter().position(|s| !s) {
            return Err(self.err(
                format!("{key}.{}", names[i]),
                format!("missing (every one of {} needs a value)", names.join(", ")),
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(edit: impl Fn(&str) -> String) -> (String, String) {
        let text = edit(DEFAULT_POLICY_TOML);
        assert_ne!(
            text, DEFAULT_POLICY_TOML,
            "the edit did not change the policy"
        );
        match Policy::parse(&text, Path::new("p.toml")) {
            Err(Error::Policy { key, message, path }) => {
                assert_eq!(path, Path::new("p.toml"));
                (key, message)
            }
            other => panic!("expected a policy error, got {other:?}"),
        }
    }

    #[test]
    fn default_policy_is_valid() {
        let p = Policy::parse(DEFAULT_POLICY_TOML, Path::new(DEFAULT_POLICY_PATH)).unwrap();
        assert_eq!(p, Policy::default());
        // SPEC §3.4
        assert_eq!(p.market.base_ratio, [0.03, 0.10, 0.30, 0.80]);
        assert_eq!(p.market.max_per_year, [1, 1, 2, 4]);
        assert_eq!(p.market.relief_classes, [true, false, false, false]);
        assert_eq!(p.market.relief_factor, [0.8, 0.6, 0.5, 1.0]);
        assert_eq!(p.market.relief_max_per_year, 1);
        // SPEC §3.2 / §3.5
        assert_eq!(p.tax.air_cny, 12.0);
        assert_eq!(p.tax.water_cny, 14.0);
        assert_eq!(
            (
                p.tax.air_top_n,
                p.tax.water_class1_top_n,
                p.tax.water_class2_top_n
            ),
            (3, 5, 3)
        );
        assert_eq!(p.eco.base_ratio, [0.20, 0.10, 0.05, 0.02, 0.10]);
        assert_eq!(p.eco.risk_mult, [1.0, 1.5, 2.0, 1.5]);
        assert_eq!(p.eco.emission_mult, [0.8, 1.0, 1.5, 1.0]);
        assert_eq!((p.eco.low_pe_below, p.eco.high_pe_from), (2000.0, 20000.0));
        assert_eq!(p.eco.min_ratio, 0.01);
        assert_eq!(p.eco.max_per_year, 2);
        assert_eq!(p.eco.positive_list_max_per_year, 0);
        assert_eq!(
            p.eco.positive_list_credit_classes,
            [true, true, false, false]
        );
        assert_eq!(p.eco.validity_years, 3);
        assert_eq!(p.eco.cap_share, None);
        assert_eq!(p.credit.missing_class, CreditClass::B);
        // SPEC §3.3
        assert_eq!(p.hj941.q_bounds, [1.0, 10.0, 100.0]);
        assert_eq!(p.hj941.m_bounds, [25.0, 45.0, 60.0]);
        // SPEC §3.6: 1/3 and 2/3 exactly as f64
        assert_eq!(p.risk_score.credit, [0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0]);
        assert_eq!(p.sampling.cooldown_months, 3);
        assert_eq!(p.sampling.team_size, 2);
    }

    #[test]
    fn hash_is_of_the_exact_bytes() {
        let p = Policy::default();
        assert_eq!(p.source_text(), DEFAULT_POLICY_TOML);
        let expected = hex(&Sha256::digest(DEFAULT_POLICY_TOML.as_bytes()));
        assert_eq!(p.sha256_hex(), expected);
        // A comment changes the bytes, hence the hash, not the values.
        let q = Policy::parse(
            &format!("# local copy\n{DEFAULT_POLICY_TOML}"),
            Path::new("x"),
        )
        .unwrap();
        assert_ne!(q.sha256_hex(), p.sha256_hex());
        assert_eq!(q.market, p.market);
        // SHA-256("abc"), FIPS 180-2 appendix B.1
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn cap_share_is_optional() {
        let p = Policy::parse(
            &DEFAULT_POLICY_TOML.replace("# cap_share = 0.20", "cap_share = 0.20"),
            Path::new("x"),
        )
        .unwrap();
        assert_eq!(p.eco.cap_share, Some(0.20));
        let (key, _) = bad(|t| t.replace("# cap_share = 0.20", "cap_share = 1.2"));
        assert_eq!(key, "eco.cap_share");
    }

    #[test]
    fn unknown_key_is_named() {
        let (key, msg) = bad(|t| t.replace("min_ratio = 0.0\n", "min_ratio = 0.0\nminratio = 1\n"));
        assert_eq!(key, "market.minratio");
        assert!(msg.contains("unknown key"), "{msg}");
        assert!(msg.contains("min_ratio"), "{msg}");
        let (key, _) = bad(|t| format!("{t}\n[extra]\nx = 1\n"));
        assert_eq!(key, "extra");
    }

    #[test]
    fn missing_key_is_named() {
        let (key, msg) = bad(|t| t.replace("relief_max_per_year = 1\n", ""));
        assert_eq!(key, "market.relief_max_per_year");
        assert!(msg.contains("missing"), "{msg}");
    }

    #[test]
    fn ratio_out_of_range_is_named() {
        let (key, msg) = bad(|t| t.replace("B = 0.10, C = 0.30", "B = 1.5, C = 0.30"));
        assert_eq!(key, "market.base_ratio.B");
        assert!(msg.contains("1.5"), "{msg}");
        let (key, _) = bad(|t| t.replace("min_ratio = 0.01", "min_ratio = -0.01"));
        assert_eq!(key, "eco.min_ratio");
        let (key, _) = bad(|t| t.replace("specialized = 0.6", "specialized = 1.6"));
        assert_eq!(key, "market.relief_factor.specialized");
    }

    #[test]
    fn thresholds_out_of_order_are_named() {
        let (key, msg) = bad(|t| t.replace("high_pe_from = 20000.0", "high_pe_from = 1000.0"));
        assert_eq!(key, "eco.high_pe_from");
        assert!(msg.contains("order"), "{msg}");
        let (key, _) = bad(|t| t.replace("[25.0, 45.0, 60.0]", "[25.0, 60.0, 45.0]"));
        assert_eq!(key, "hj941.m_bounds");
        let (key, _) = bad(|t| t.replace("[1.0, 10.0, 100.0]", "[1.0, 10.0]"));
        assert_eq!(key, "hj941.q_bounds");
    }

    #[test]
    fn missing_class_tier_permit_level_are_named() {
        let (key, msg) = bad(|t| t.replace(", D = 0.80 }", " }"));
        assert_eq!(key, "market.base_ratio.D");
        assert!(msg.contains("missing"), "{msg}");
        let (key, _) = bad(|t| t.replace(", little_giant = 0.5 }", " }"));
        assert_eq!(key, "market.relief_factor.little_giant");
        let (key, _) = bad(|t| t.replace(" none = 0.02,", ""));
        assert_eq!(key, "eco.base_ratio.none");
        let (key, _) = bad(|t| t.replace("major = 2.0, ", ""));
        assert_eq!(key, "eco.risk_mult.major");
        let (key, _) = bad(|t| t.replace("{ A = 1, B = 1,", "{ A = 1, E = 1,"));
        assert_eq!(key, "market.max_per_year.E");
        let (key, _) = bad(|t| t.replace("{ A = 1, B = 1,", "{ A = 1, \"A类\" = 1,"));
        assert_eq!(key, "market.max_per_year.A类");
        let (key, _) = bad(|t| t.replace("missing_class = \"B\"", "missing_class = \"E\""));
        assert_eq!(key, "credit.missing_class");
        let (key, _) = bad(|t| t.replace("relief_classes = [\"A\"]", "relief_classes = [\"X\"]"));
        assert_eq!(key, "market.relief_classes[0]");
        let (key, _) =
            bad(|t| t.replace("little_giant = 0.5 }", "little_giant = 0.5, none = 1.0 }"));
        assert_eq!(key, "market.relief_factor.none");
    }

    #[test]
    fn wrong_type_and_syntax_are_named() {
        let (key, msg) = bad(|t| t.replace("air_cny = 12.0", "air_cny = \"twelve\""));
        assert_eq!(key, "tax.air_cny");
        assert!(msg.contains("invalid type"), "{msg}");
        let (key, msg) = bad(|t| t.replace("[credit]", "[credit"));
        assert!(key.starts_with("line "), "{key}");
        assert!(msg.contains("TOML"), "{msg}");
        let (key, _) = bad(|t| t.replace("weight_credit = 0.5", "weight_credit = 0.6"));
        assert_eq!(key, "risk_score.weight_emission");
        let (key, _) = bad(|t| t.replace("team_size = 2", "team_size = 0"));
        assert_eq!(key, "sampling.team_size");
    }

    #[test]
    fn load_reads_a_file_and_reports_a_missing_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            DEFAULT_POLICY_TOML.replace("air_cny = 12.0", "air_cny = 6.0"),
        )
        .unwrap();
        let p = Policy::load(&path).unwrap();
        assert_eq!(p.tax.air_cny, 6.0);
        assert_eq!(p.path(), path);
        assert!(matches!(
            Policy::load(&dir.path().join("none.toml")),
            Err(Error::Io { .. })
        ));
    }
}
