//! The draw itself (SPEC §4.1–4.5): the parameters of a draw, and `draw`, which turns a frame, the
//! inspection history and the parameters into the selected units in output order plus the
//! per-department and per-stratum statistics the manifest records.
//!
//! Per department d: eligibility (§4.1) → order keys for the eligible units (§4.3, hashed in
//! parallel) → π (§4.2) → processing order: stratum (ascending byte order of its value), then key,
//! then code → a systematic walk per stratum from its hashed start (§4.4). The input's row order
//! never matters: nothing here depends on a unit's position except as a handle.
//!
//! Joint draws (§4.5) draw market and ecology independently; a unit drawn by both becomes one
//! visit `market+ecology`. Output order (the spec only says "by stratum and order"): strata in
//! ascending byte order; inside a stratum first the units market drew (joint visits included) in
//! market order, then the units only ecology drew in ecology order. Coordinated joint draws
//! (§4.7, `--coordinate`) share eligibility, keys and π with these and select in `coordinated`.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::eligibility::{self, Exclusion, HistoryIndex, Window};
use super::frame::{SampleFrame, frame_error};
use super::keys::{OrderKeys, start_from_u64, stratum_start_u64};
use super::probability::{pi_uncapped, pi_with_capacity};
use super::systematic::systematic;
use crate::date::Month;
use crate::schema::{Department, Tier, norm};
use crate::{Error, Result};

/// Which department(s) a draw is for (`--department`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DrawDepartment {
    /// 市场监管 only.
    Market,
    /// 生态环境 only.
    Ecology,
    /// Both, drawn independently; units drawn twice get one joint visit (联合检查).
    Joint,
}

impl DrawDepartment {
    /// What `--department` accepts, for error messages.
    pub const EXPECTED: &'static str = "market, ecology or joint (市场监管, 生态环境, 联合)";

    /// Parses `market` / `ecology` / `joint` or their Chinese names.
    pub fn parse(s: &str) -> Option<DrawDepartment> {
        match norm(s).as_str() {
            "joint" | "联合" | "联合检查" | "market+ecology" => Some(DrawDepartment::Joint),
            other => Department::parse(other).map(DrawDepartment::from),
        }
    }

    /// The English value recorded in the manifest.
    pub fn en(self) -> &'static str {
        match self {
            DrawDepartment::Market => "market",
            DrawDepartment::Ecology => "ecology",
            DrawDepartment::Joint => "joint",
        }
    }

    /// The departments drawn, market first.
    pub fn departments(self) -> &'static [Department] {
        match self {
            DrawDepartment::Market => &[Department::Market],
            DrawDepartment::Ecology => &[Department::Ecology],
            DrawDepartment::Joint => &[Department::Market, Department::Ecology],
        }
    }
}

impl From<Department> for DrawDepartment {
    fn from(d: Department) -> DrawDepartment {
        match d {
            Department::Market => DrawDepartment::Market,
            Department::Ecology => DrawDepartment::Ecology,
        }
    }
}

impl FromStr for DrawDepartment {
    type Err = Error;
    fn from_str(s: &str) -> Result<DrawDepartment> {
        DrawDepartment::parse(s).ok_or_else(|| Error::Argument {
            argument: "department".into(),
            message: format!("{s:?} is not {}", DrawDepartment::EXPECTED),
        })
    }
}

impl fmt::Display for DrawDepartment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.en())
    }
}

/// How units are stratified (`--strata`, SPEC §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strata {
    /// By 所属区: the stratum value is the district's 6-digit code (the default).
    #[default]
    District,
    /// By 企业梯度: the tier's English value.
    Tier,
    /// One stratum, the empty string.
    None,
}

impl Strata {
    /// What `--strata` accepts, for error messages.
    pub const EXPECTED: &'static str = "district, tier or none";

    /// Parses `district` / `tier` / `none` (also 区, 企业梯度, 不分层).
    pub fn parse(s: &str) -> Option<Strata> {
        match norm(s).as_str() {
            "district" | "所属区" | "区" => Some(Strata::District),
            "tier" | "企业梯度" | "梯度" => Some(Strata::Tier),
            "none" | "不分层" | "" => Some(Strata::None),
            _ => None,
        }
    }

    /// The English value recorded in the manifest.
    pub fn en(self) -> &'static str {
        match self {
            Strata::District => "district",
            Strata::Tier => "tier",
            Strata::None => "none",
        }
    }
}

impl FromStr for Strata {
    type Err = Error;
    fn from_str(s: &str) -> Result<Strata> {
        Strata::parse(s).ok_or_else(|| Error::Argument {
            argument: "strata".into(),
            message: format!("{s:?} is not {}", Strata::EXPECTED),
        })
    }
}

impl fmt::Display for Strata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.en())
    }
}

/// Monthly visit capacity per department (`--capacity N` or `--capacity market=N,ecology=M`);
/// `None` = no capacity (π = min(1, ratio / 12)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Capacity {
    pub market: Option<u64>,
    pub ecology: Option<u64>,
}

impl Capacity {
    /// No capacity for either department.
    pub const NONE: Capacity = Capacity {
        market: None,
        ecology: None,
    };

    /// Parses `N` (the same capacity for each department drawn) or `market=N,ecology=M` (either
    /// part may be left out; Chinese department names are accepted).
    ///
    /// ```
    /// use spotcheck::sample::Capacity;
    /// let c = Capacity::parse("market=40, 生态环境=12").unwrap();
    /// assert_eq!((c.market, c.ecology), (Some(40), Some(12)));
    /// assert_eq!(Capacity::parse("25").unwrap().ecology, Some(25));
    /// assert!(Capacity::parse("market=-1").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Capacity> {
        let bad = |message: String| Error::Argument {
            argument: "capacity".into(),
            message,
        };
        let number = |v: &str| {
            v.trim().parse::<u64>().map_err(|_| {
                bad(format!(
                    "{:?} is not a whole number of visits (0 or more)",
                    v.trim()
                ))
            })
        };
        if !s.contains('=') {
            let n = number(s)?;
            return Ok(Capacity {
                market: Some(n),
                ecology: Some(n),
            });
        }
        let mut c = Capacity::NONE;
        for part in s.split(',') {
            let Some((name, value)) = part.split_once('=') else {
                return Err(bad(format!(
                    "{:?} is not department=N (write market=N,ecology=M)",
                    part.trim()
                )));
            };
            let slot = match Department::parse(name) {
                Some(Department::Market) => &mut c.market,
                Some(Department::Ecology) => &mut c.ecology,
                None => {
                    return Err(bad(format!(
                        "{:?} is not a department (market or ecology)",
                        name.trim()
                    )));
                }
            };
            if slot.is_some() {
                return Err(bad(format!("{:?} is given twice", name.trim())));
            }
            *slot = Some(number(value)?);
        }
        Ok(c)
    }

    /// The capacity of one department.
    pub fn get(&self, d: Department) -> Option<u64> {
        match d {
            Department::Market => self.market,
            Department::Ecology => self.ecology,
        }
    }
}

/// The policy keys the sampler reads (`sampling.*` of the policy file), passed in plainly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamplingParams {
    /// `sampling.cooldown_months`: months without a repeat on-site check (0 = none).
    pub cooldown_months: u32,
    /// `sampling.team_size`: inspectors per task (行政处罚法 Art. 42: at least two).
    pub team_size: usize,
}

/// The sampling algorithm of a draw, recorded by its id in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// `sys-pps-sha256/1` (§4.3–4.5): systematic πps per department and stratum; a joint draw's
    /// departments are drawn independently.
    #[default]
    Systematic,
    /// `prn-poisson-sha256/1` (§4.7, `--coordinate`): one permanent random number u per
    /// enterprise shared by both departments; department d takes every eligible unit with
    /// u < π_d (Poisson sampling, coordinated). Joint draws only.
    Coordinated,
}

impl Algorithm {
    /// Every algorithm this spotcheck implements.
    pub const ALL: [Algorithm; 2] = [Algorithm::Systematic, Algorithm::Coordinated];

    /// The id recorded in the manifest and the public list.
    pub fn id(self) -> &'static str {
        match self {
            Algorithm::Systematic => "sys-pps-sha256/1",
            Algorithm::Coordinated => "prn-poisson-sha256/1",
        }
    }

    /// The algorithm of an id, if this spotcheck implements it.
    ///
    /// ```
    /// use spotcheck::sample::Algorithm;
    /// assert_eq!(Algorithm::from_id("prn-poisson-sha256/1"), Some(Algorithm::Coordinated));
    /// assert_eq!(Algorithm::from_id("sys-pps-sha256/2"), None);
    /// ```
    pub fn from_id(id: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.id() == id)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Everything a draw depends on besides the frame and the history.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawParams {
    /// The announced seed, hashed as given (UTF-8, no trimming).
    pub seed: String,
    pub month: Month,
    pub department: DrawDepartment,
    pub strata: Strata,
    pub capacity: Capacity,
    pub sampling: SamplingParams,
    /// Systematic (the default) or coordinated (`--coordinate`, joint draws only).
    pub algorithm: Algorithm,
}

impl DrawParams {
    /// Checks the parameters: a seed that is not blank, a team of at least one, no capacity
    /// given only for a department that is not drawn, and coordination only for a joint draw.
    pub fn validate(&self) -> Result<()> {
        if self.algorithm == Algorithm::Coordinated && self.department != DrawDepartment::Joint {
            return Err(Error::Argument {
                argument: "coordinate".into(),
                message: format!(
                    "coordination shares one random number per enterprise between market and \
                     ecology: it needs --department joint, not {}",
                    self.department
                ),
            });
        }
        if self.seed.trim().is_empty() {
            return Err(Error::Argument {
                argument: "seed".into(),
                message: "the seed is empty: give the seed announced before the draw".into(),
            });
        }
        if self.sampling.team_size == 0 {
            return Err(Error::Argument {
                argument: "sampling.team_size".into(),
                message: "must be at least 1".into(),
            });
        }
        let drawn = self.department.departments();
        for d in [Department::Market, Department::Ecology] {
            let other_given = self.capacity.get(d).is_some()
                && drawn
                    .iter()
                    .all(|x| *x != d && self.capacity.get(*x).is_none());
            if other_given {
                return Err(Error::Argument {
                    argument: "capacity".into(),
                    message: format!(
                        "a capacity is given for {d} but the draw is for {}",
                        self.department
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Which departments visit a selected unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Departments {
    #[serde(rename = "market")]
    Market,
    #[serde(rename = "ecology")]
    Ecology,
    /// 进一次门，查多项事: one joint visit.
    #[serde(rename = "market+ecology")]
    Joint,
}

impl Departments {
    /// `market`, `ecology` or `market+ecology`.
    pub fn en(self) -> &'static str {
        match self {
            Departments::Market => "market",
            Departments::Ecology => "ecology",
            Departments::Joint => "market+ecology",
        }
    }

    /// 市场监管, 生态环境 or 市场监管+生态环境.
    pub fn zh(self) -> &'static str {
        match self {
            Departments::Market => "市场监管",
            Departments::Ecology => "生态环境",
            Departments::Joint => "市场监管+生态环境",
        }
    }

    /// Parses either language (as written back by the sample output).
    pub fn parse(s: &str) -> Option<Departments> {
        let n = norm(s);
        [
            Departments::Market,
            Departments::Ecology,
            Departments::Joint,
        ]
        .into_iter()
        .find(|d| n == d.en() || n == norm(d.zh()))
    }

    /// Whether this visit includes department `d`.
    pub fn includes(self, d: Department) -> bool {
        matches!(
            (self, d),
            (Departments::Joint, _)
                | (Departments::Market, Department::Market)
                | (Departments::Ecology, Department::Ecology)
        )
    }
}

impl fmt::Display for Departments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.en())
    }
}

/// One eligible unit of a department, with its order key and π (24 bytes: frames hold at most
/// `u32::MAX` units, which `SampleFrame::validate` checks).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EligibleUnit {
    pub key: u64,
    pub pi: f64,
    /// Position of the unit in the frame.
    pub index: u32,
    /// Rank of its stratum (index into `DepartmentFrame::strata`).
    pub stratum: u32,
}

/// The frame's units after pass 1 of a department: which are eligible so far (a bit per unit)
/// and, for those, their order key, both indexed by frame position (8 bytes and a bit per
/// unit; the stratum is looked up again from the frame). `order` places them in processing
/// order as `EligibleUnit`s, with the ratio read from the frame on the way.
struct KeyedFrame {
    keys: Vec<u64>,
    eligible: Vec<u64>,
}

impl KeyedFrame {
    /// The eligible units' frame positions in chunk `c` (`CHUNK` units), ascending.
    #[inline]
    fn each(&self, c: usize, mut f: impl FnMut(usize)) {
        let words = CHUNK / 64;
        let end = self.eligible.len().min((c + 1) * words);
        for (w, &bits) in self.eligible[(c * words).min(end)..end].iter().enumerate() {
            let base = (c * words + w) * 64;
            let mut bits = bits;
            while bits != 0 {
                f(base + bits.trailing_zeros() as usize);
                bits &= bits - 1;
            }
        }
    }

    /// Number of chunks.
    fn chunks(&self) -> usize {
        self.keys.len().div_ceil(CHUNK)
    }
}

impl EligibleUnit {
    /// Position of the unit in the frame.
    #[inline]
    pub fn frame_index(&self) -> usize {
        self.index as usize
    }
}

/// Counts of §4.1 for one department over the whole frame: `units = eligible + excluded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Exclusions {
    pub units: usize,
    pub eligible: usize,
    /// Ratio 0 (e.g. 正面清单 for ecology on-site checks).
    pub zero_ratio: usize,
    /// At the yearly maximum of on-site checks.
    pub yearly_cap: usize,
    /// Checked on site within the cooldown.
    pub cooldown: usize,
}

impl Exclusions {
    fn exclude(&mut self, why: Exclusion) {
        match why {
            Exclusion::ZeroRatio => self.zero_ratio += 1,
            Exclusion::YearlyCap => self.yearly_cap += 1,
            Exclusion::Cooldown => self.cooldown += 1,
        }
    }

    /// Sums the exclusion reasons (`units` and `eligible` are set once at the end).
    fn add(mut self, o: Exclusions) -> Exclusions {
        self.zero_ratio += o.zero_ratio;
        self.yearly_cap += o.yearly_cap;
        self.cooldown += o.cooldown;
        self
    }
}

/// One stratum of a department frame.
#[derive(Debug, Clone, PartialEq)]
pub struct StratumSlice {
    /// The stratum value s (district code, tier, or empty).
    pub label: String,
    /// Units of the frame in this stratum, eligible or not.
    pub units: usize,
    /// Its eligible units, as a range of `DepartmentFrame::units`.
    pub eligible: Range<usize>,
}

/// A department's eligible units in processing order (§4.1–§4.3), ready for the walk.
#[derive(Debug, Clone)]
pub struct DepartmentFrame {
    pub department: Department,
    pub capacity: Option<u64>,
    /// Eligible units: by stratum (ascending byte order), then key, then code.
    pub units: Vec<EligibleUnit>,
    /// Every stratum present in the frame, in processing order.
    pub strata: Vec<StratumSlice>,
    pub exclusions: Exclusions,
}

/// Statistics of one stratum of one department (recorded in the manifest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StratumStats {
    #[serde(with = "serde_department")]
    pub department: Department,
    pub stratum: String,
    /// Units of the frame in the stratum.
    pub units: usize,
    pub eligible: usize,
    /// The start's 64-bit hash value (decimal text in JSON) and the start `(u64 >> 11) × 2⁻⁵³`
    /// (systematic draws; a coordinated draw has no start).
    #[serde(
        with = "serde_opt_u64_text",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub start_u64: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// Σπ as the walk accumulated it (units in processing order): the expected sample size.
    pub pi_sum: f64,
    /// Coordinated draws: the standard deviation of the sample size, √Σπ(1−π) (accumulated in
    /// processing order). A systematic draw's size is ⌊Σπ⌋ or ⌈Σπ⌉ and has none recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_sd: Option<f64>,
    pub selected: usize,
}

/// A department's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartmentStats {
    #[serde(with = "serde_department")]
    pub department: Department,
    pub capacity: Option<u64>,
    pub exclusions: Exclusions,
    /// Coordinated draws: the expected sample size Σπ (the strata's Σπ added in stratum order)
    /// and its standard deviation √(Σ over strata of Σπ(1−π)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_sd: Option<f64>,
    pub selected: usize,
}

/// What one department's draw gives a selected unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitDraw {
    pub key: u64,
    pub pi: f64,
    pub ratio: f64,
}

/// One row of the sample, in output order.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected {
    /// 1-based position in the output.
    pub seq: u64,
    /// Position of the unit in the frame (name, district, tier … are there).
    pub index: usize,
    pub uscc: String,
    pub stratum: String,
    pub departments: Departments,
    /// Market's key, π and ratio when market drew the unit.
    pub market: Option<UnitDraw>,
    /// Ecology's key, π and ratio when ecology drew the unit.
    pub ecology: Option<UnitDraw>,
    /// The permanent random number u of a coordinated draw (§4.7); `None` in a systematic one.
    pub u: Option<f64>,
}

impl Selected {
    /// What department `d` gave this unit, if it drew it.
    pub fn by(&self, d: Department) -> Option<UnitDraw> {
        match d {
            Department::Market => self.market,
            Department::Ecology => self.ecology,
        }
    }
}

/// The result of a draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Draw {
    /// The sample in output order.
    pub selected: Vec<Selected>,
    /// Per department drawn, market first.
    pub departments: Vec<DepartmentStats>,
    /// Per department and stratum, in processing order.
    pub strata: Vec<StratumStats>,
    /// What coordination bought (coordinated draws only).
    pub coordination: Option<Coordination>,
}

/// What a coordinated joint draw bought (§4.7), against the independent joint draw of §4.5 with
/// the same π: joint visits (进一次门、查多项事) and visits in all, drawn and expected.
///
/// The sums run over the units eligible for market in market's processing order (stratum, key,
/// code), with π_e = 0 for a unit ecology cannot draw: `joint_expected = Σ min(π_m, π_e)`,
/// `independent_joint_expected = Σ π_m·π_e`; then `visits_expected = Σπ_m + Σπ_e −
/// joint_expected` (= Σ max(π_m, π_e)) and `independent_visits_expected = Σπ_m + Σπ_e −
/// independent_joint_expected`, with Σπ_d the department's expected size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Coordination {
    /// Units drawn by both departments (u < min(π_m, π_e)): one joint visit each.
    pub joint_drawn: usize,
    pub joint_expected: f64,
    /// Units drawn by either department: one visit each.
    pub visits_drawn: usize,
    pub visits_expected: f64,
    /// The same π drawn independently (§4.5): expected joint visits and visits in all.
    pub independent_joint_expected: f64,
    pub independent_visits_expected: f64,
}

/// How a unit's stratum rank is found.
enum Lookup {
    /// `--strata none`: one stratum.
    One,
    /// Rank by `district − lo`, over the range of codes present.
    District { lo: u32, table: Vec<u32> },
    /// Rank by `Tier::index()`.
    Tier([u32; 4]),
}

/// The strata of a frame: labels in ascending byte order, how to find a unit's, units per stratum.
pub(crate) struct StrataIndex {
    pub(crate) labels: Vec<String>,
    lookup: Lookup,
    units: Vec<usize>,
}

impl StrataIndex {
    fn build(frame: &SampleFrame, strata: Strata) -> StrataIndex {
        let (labels, lookup) = match strata {
            Strata::None => {
                let labels = if frame.is_empty() {
                    vec![]
                } else {
                    vec![String::new()]
                };
                (labels, Lookup::One)
            }
            Strata::District => {
                // A table over the codes' range (110101..=110302 for Beijing: 202 entries).
                let lo = frame.district.par_iter().copied().min().unwrap_or(0);
                let hi = frame.district.par_iter().copied().max().unwrap_or(0);
                // One table per rayon task (a few), not per chunk: a national frame's districts
                // span up to 900 000 codes.
                let len = (hi - lo) as usize + 1;
                let present = frame
                    .district
                    .par_iter()
                    .fold(
                        || vec![false; len],
                        |mut p, &d| {
                            p[(d - lo) as usize] = true;
                            p
                        },
                    )
                    .reduce_with(|mut a, b| {
                        a.iter_mut().zip(b).for_each(|(x, y)| *x |= y);
                        a
                    })
                    .unwrap_or_else(|| vec![false; len]);
                let codes: Vec<u32> = (lo..=hi).filter(|&c| present[(c - lo) as usize]).collect();
                let (labels, rank) = ranked_labels(codes.iter().map(u32::to_string).collect());
                let mut table = vec![0u32; present.len()];
                for (pos, &c) in codes.iter().enumerate() {
                    table[(c - lo) as usize] = rank[pos];
                }
                (labels, Lookup::District { lo, table })
            }
            Strata::Tier => {
                let mut present = [false; 4];
                for t in &frame.tier {
                    present[t.index()] = true;
                }
                let tiers: Vec<Tier> = Tier::ALL
                    .iter()
                    .copied()
                    .filter(|t| present[t.index()])
                    .collect();
                let (labels, rank) =
                    ranked_labels(tiers.iter().map(|t| t.en().to_owned()).collect());
                let mut by_tier = [0u32; 4];
                for (pos, t) in tiers.iter().enumerate() {
                    by_tier[t.index()] = rank[pos];
                }
                (labels, Lookup::Tier(by_tier))
            }
        };
        let mut index = StrataIndex {
            labels,
            lookup,
            units: Vec::new(),
        };
        let k = index.labels.len();
        index.units = (0..frame.len())
            .into_par_iter()
            .fold(
                || vec![0usize; k],
                |mut c, i| {
                    c[index.of(frame, i) as usize] += 1;
                    c
                },
            )
            .reduce(
                || vec![0usize; k],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                    a
                },
            );
        index
    }

    /// The stratum rank of unit `i`.
    #[inline]
    fn of(&self, frame: &SampleFrame, i: usize) -> u32 {
        match &self.lookup {
            Lookup::One => 0,
            Lookup::District { lo, table } => table[(frame.district[i] - lo) as usize],
            Lookup::Tier(by_tier) => by_tier[frame.tier[i].index()],
        }
    }
}

/// Sorts labels by their bytes; returns them sorted and, per input position, its rank.
fn ranked_labels(labels: Vec<String>) -> (Vec<String>, Vec<u32>) {
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|&a, &b| labels[a].as_bytes().cmp(labels[b].as_bytes()));
    let mut rank = vec![0u32; labels.len()];
    for (r, &pos) in order.iter().enumerate() {
        // At most a handful of strata (17 districts, 4 tiers): always fits in u32.
        rank[pos] = r as u32;
    }
    let sorted = order.iter().map(|&p| labels[p].clone()).collect();
    (sorted, rank)
}

/// Eligibility, keys, π and processing order for one department (§4.1–§4.3).
///
/// Checks the parameters and the frame first, like `draw`.
pub fn prepare(
    frame: &SampleFrame,
    history: &HistoryIndex,
    params: &DrawParams,
    department: Department,
) -> Result<DepartmentFrame> {
    params.validate()?;
    frame.validate()?;
    let strata = StrataIndex::build(frame, params.strata);
    let window = Window::new(params.month, params.sampling.cooldown_months);
    prepare_with(frame, history, params, department, &strata, &window)
}

pub(crate) fn prepare_with(
    frame: &SampleFrame,
    history: &HistoryIndex,
    params: &DrawParams,
    d: Department,
    strata: &StrataIndex,
    window: &Window,
) -> Result<DepartmentFrame> {
    let n = frame.len();
    let month = params.month.to_string();
    let capacity = params.capacity.get(d);
    let hasher = OrderKeys::new(&params.seed, d, &month);

    // Pass 1, in parallel over chunks of the frame: units with a ratio above 0 and a yearly
    // maximum above 0 are marked eligible and get their order key (§4.3).
    let mut keyed = KeyedFrame {
        keys: Vec::with_capacity(n),
        eligible: vec![0u64; n.div_ceil(64)],
    };
    // Written on every thread (their pages first touched in parallel, not by one thread).
    keyed
        .keys
        .par_extend(rayon::iter::repeat_n(0u64, n).with_min_len(CHUNK));
    let mut exclusions = keyed
        .keys
        .par_chunks_mut(CHUNK)
        .zip(keyed.eligible.par_chunks_mut(CHUNK / 64))
        .enumerate()
        .map(|(c, (keys, bits))| {
            let first = c * CHUNK;
            let mut ex = Exclusions::default();
            let mut units: Vec<u32> = Vec::with_capacity(keys.len());
            for j in 0..keys.len() {
                let i = first + j;
                // History comes in pass 2; here only the ratio and the maximum can exclude.
                match eligibility::check(
                    frame.ratio(i, d),
                    frame.max_per_year(i, d),
                    window,
                    || &[],
                ) {
                    Some(why) => ex.exclude(why),
                    None => {
                        bits[j / 64] |= 1 << (j % 64);
                        units.push(j as u32);
                    }
                }
            }
            // Keys four at a time (interleaved SHA-256 compressions), the rest one by one.
            let code = |j: u32| frame.uscc(first + j as usize);
            let mut fours = units.chunks_exact(4);
            for q in &mut fours {
                let k = hasher.key_x4([code(q[0]), code(q[1]), code(q[2]), code(q[3])]);
                q.iter().zip(k).for_each(|(&j, k)| keys[j as usize] = k);
            }
            for &j in fours.remainder() {
                keys[j as usize] = hasher.key(code(j));
            }
            ex
        })
        .reduce(Exclusions::default, Exclusions::add);
    let uscc = |u: &EligibleUnit| frame.uscc(u.frame_index());
    // §4.3: processing order — stratum, key, code.
    let (mut units, twice) = order(
        keyed,
        strata.labels.len(),
        &|i: usize| strata.of(frame, i),
        &uscc,
        &|i: usize| frame.ratio(i, d),
    );
    // A code that two units share: the first such pair in processing order is reported.
    if let Some(u) = twice {
        let code = uscc(&u);
        return Err(frame_error(
            code,
            "uscc",
            code.to_owned(),
            "unique in the scored table (it appears twice)",
        ));
    }

    // Pass 2 (§4.1 with history): per stratum, units in key order meet the history sorted by
    // the same keys; units at the yearly cap or in cooldown are dropped.
    let keyed = history.keyed(d, |code| hasher.key(code));
    if !keyed.is_empty() {
        let mut ranges = Vec::with_capacity(strata.labels.len());
        let mut at = 0;
        while at < units.len() {
            let s = units[at].stratum;
            let end = at + units[at..].partition_point(|u| u.stratum == s);
            ranges.push(at..end);
            at = end;
        }
        let verdicts: Vec<Vec<Option<Exclusion>>> = ranges
            .into_par_iter()
            .map(|r| {
                let slice = &units[r];
                let mut cursor = keyed.cursor(slice[0].key);
                slice
                    .iter()
                    .map(|u| {
                        let dates = cursor.onsite(u.key, |code| code == uscc(u));
                        if dates.is_empty() {
                            return None;
                        }
                        let max = frame.max_per_year(u.frame_index(), d);
                        eligibility::check(u.pi, max, window, || dates)
                    })
                    .collect()
            })
            .collect();
        let mut verdict = verdicts.into_iter().flatten();
        units.retain(|_| {
            // One verdict per unit, in order: the ranges cover `units` exactly.
            match verdict.next().flatten() {
                Some(why) => {
                    exclusions.exclude(why);
                    false
                }
                None => true,
            }
        });
    }
    exclusions.units = n;
    exclusions.eligible = units.len();

    // §4.2: π (the ratio is in `pi` until here); units are in processing order, so the tie
    // order of the capacity ranking (key, then code) is their order here.
    match capacity {
        None => units.par_iter_mut().for_each(|u| u.pi = pi_uncapped(u.pi)),
        Some(c) => {
            let ratios: Vec<f64> = units.iter().map(|u| u.pi).collect();
            let pi = pi_with_capacity(&ratios, c, |a, b| {
                let (x, y) = (&units[a], &units[b]);
                x.key.cmp(&y.key).then_with(|| uscc(x).cmp(uscc(y)))
            });
            units.iter_mut().zip(pi).for_each(|(u, p)| u.pi = p);
        }
    }

    let mut eligible_per = vec![0usize; strata.labels.len()];
    for u in &units {
        eligible_per[u.stratum as usize] += 1;
    }
    let mut at = 0;
    let strata = strata
        .labels
        .iter()
        .zip(&eligible_per)
        .zip(&strata.units)
        .map(|((label, &count), &total)| {
            let slice = StratumSlice {
                label: label.clone(),
                units: total,
                eligible: at..at + count,
            };
            at += count;
            slice
        })
        .collect();
    Ok(DepartmentFrame {
        department: d,
        capacity,
        units,
        strata,
        exclusions,
    })
}

/// Units per chunk of the eligibility pass.
const CHUNK: usize = 1 << 16;

/// Sorts units by (stratum, key, code) without one big comparison sort: a counting pass on the
/// stratum and the key's top bits puts units in buckets of 16 384 to 32 768 (keys are uniform,
/// being SHA-256 output), then each bucket is sorted by (key, code) in parallel
/// ([`sort_by_key_bits`]).
///
/// Also returns the first unit, in that order, whose code the next unit repeats: equal codes
/// have equal keys and strata, so they meet in one bucket, where equal keys are put in code
/// order anyway.
fn order<'a>(
    keyed: KeyedFrame,
    nstrata: usize,
    stratum: &(impl Fn(usize) -> u32 + Sync),
    uscc: &(impl Fn(&EligibleUnit) -> &'a str + Sync),
    ratio: &(impl Fn(usize) -> f64 + Sync),
) -> (Vec<EligibleUnit>, Option<EligibleUnit>) {
    let total = keyed
        .eligible
        .par_iter()
        .map(|w| w.count_ones() as usize)
        .sum::<usize>();
    let per_stratum = total / nstrata.max(1);
    // Buckets of 16 384 units or more. With buckets of ≈ 256 (40 000 of them at 10⁷), the
    // stores scattered over them were the draw's largest single cost; a few hundred streams of
    // stores are far cheaper (benches/README.md, sixth session).
    let bits = (per_stratum / 16384).max(1).ilog2().min(18);
    let bucket = |i: usize| {
        let top = if bits == 0 {
            0
        } else {
            keyed.keys[i] >> (64 - bits)
        };
        ((stratum(i) as usize) << bits) | top as usize
    };
    let nbuckets = nstrata.max(1) << bits;
    let counts = (0..keyed.chunks())
        .into_par_iter()
        .fold(
            || vec![0usize; nbuckets],
            |mut c, chunk| {
                keyed.each(chunk, |i| c[bucket(i)] += 1);
                c
            },
        )
        .reduce(
            || vec![0usize; nbuckets],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        );
    let blank = EligibleUnit {
        key: 0,
        pi: 0.0,
        index: 0,
        stratum: 0,
    };
    // Filled on every thread (its pages first touched in parallel, not by one thread).
    let mut out = Vec::with_capacity(total);
    out.par_extend(rayon::iter::repeat_n(blank, total));
    // The buckets are split into one run per thread, of about equal size; each thread reads
    // every unit and places those of its run (disjoint parts of `out`, so no locking).
    let threads = rayon::current_num_threads().max(1);
    let mut runs: Vec<(std::ops::Range<usize>, &mut [EligibleUnit])> = Vec::with_capacity(threads);
    let mut rest = &mut out[..];
    let mut b = 0;
    for t in 0..threads {
        let first = b;
        let mut size = 0;
        let want = (total * (t + 1)).div_ceil(threads) - (total * t).div_ceil(threads);
        while b < nbuckets && (size < want || t + 1 == threads) {
            size += counts[b];
            b += 1;
        }
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(size);
        runs.push((first..b, head));
        rest = tail;
    }
    runs.into_par_iter().for_each(|(range, part)| {
        let mut next = Vec::with_capacity(range.len());
        let mut at = 0;
        for &c in &counts[range.clone()] {
            next.push(at);
            at += c;
        }
        for chunk in 0..keyed.chunks() {
            keyed.each(chunk, |i| {
                let b = bucket(i);
                if range.contains(&b) {
                    let slot = &mut next[b - range.start];
                    part[*slot] = EligibleUnit {
                        key: keyed.keys[i],
                        pi: ratio(i),
                        // validate() keeps frames within u32::MAX units.
                        index: i as u32,
                        stratum: (b >> bits) as u32,
                    };
                    *slot += 1;
                }
            });
        }
    });
    let mut buckets = Vec::with_capacity(counts.len());
    let mut rest = &mut out[..];
    for &c in &counts {
        let (head, tail) = rest.split_at_mut(c);
        buckets.push(head);
        rest = tail;
    }
    let twice = buckets
        .into_par_iter()
        .with_min_len(4)
        .map_init(Vec::new, |scratch, b| {
            // By key; units with equal keys, which almost never happen, are then put in code
            // order.
            sort_by_key_bits(b, bits, scratch);
            let mut twice = None;
            let mut at = 0;
            while at + 1 < b.len() {
                if b[at + 1].key != b[at].key {
                    at += 1;
                    continue;
                }
                let end = at + b[at..].iter().take_while(|u| u.key == b[at].key).count();
                let run = &mut b[at..end];
                run.sort_unstable_by(|x, y| uscc(x).cmp(uscc(y)));
                if twice.is_none() {
                    twice = run
                        .windows(2)
                        .find(|w| uscc(&w[0]) == uscc(&w[1]))
                        .map(|w| w[0]);
                }
                at = end;
            }
            twice
        })
        .find_first(Option::is_some)
        .flatten();
    (out, twice)
}

/// Sorts units whose keys share their top `used` bits by key: the units are copied to
/// `scratch` and placed back split by the keys' next bits (a counting pass) into parts of about
/// 256 — the bucket is in cache by now — and each part is sorted with a plain u64 compare.
fn sort_by_key_bits(b: &mut [EligibleUnit], used: u32, scratch: &mut Vec<EligibleUnit>) {
    if b.len() <= 512 || used >= 48 {
        b.sort_unstable_by_key(|u| u.key);
        return;
    }
    let more = (b.len() / 256).ilog2().min(12);
    let part = |u: &EligibleUnit| ((u.key << used) >> (64 - more)) as usize;
    let mut starts = vec![0usize; (1 << more) + 1];
    for u in b.iter() {
        starts[part(u) + 1] += 1;
    }
    for p in 0..1 << more {
        starts[p + 1] += starts[p];
    }
    scratch.clear();
    scratch.extend_from_slice(b);
    let mut next = starts.clone();
    for u in scratch.iter() {
        let at = &mut next[part(u)];
        b[*at] = *u;
        *at += 1;
    }
    for w in starts.windows(2) {
        b[w[0]..w[1]].sort_unstable_by_key(|u| u.key);
    }
}

/// A department's walk: stats per stratum and the selected units (stratum rank, unit) in order.
struct DepartmentDraw {
    stats: DepartmentStats,
    strata: Vec<StratumStats>,
    selected: Vec<EligibleUnit>,
}

/// §4.4 over every stratum of a department frame.
fn walk(df: &DepartmentFrame, seed: &str, month: &str) -> DepartmentDraw {
    let walks: Vec<(StratumStats, Vec<EligibleUnit>)> = df
        .strata
        .par_iter()
        .map(|slice| {
            let start_u64 = stratum_start_u64(seed, df.department, month, &slice.label);
            let start = start_from_u64(start_u64);
            let units = &df.units[slice.eligible.clone()];
            let w = systematic(units.iter().map(|u| u.pi), start);
            let stats = StratumStats {
                department: df.department,
                stratum: slice.label.clone(),
                units: slice.units,
                eligible: units.len(),
                start_u64: Some(start_u64),
                start: Some(start),
                pi_sum: w.pi_sum,
                size_sd: None,
                selected: w.selected.len(),
            };
            (stats, w.selected.iter().map(|&p| units[p]).collect())
        })
        .collect();
    let mut strata = Vec::with_capacity(walks.len());
    let mut selected = Vec::new();
    for (stats, sel) in walks {
        strata.push(stats);
        selected.extend(sel);
    }
    DepartmentDraw {
        stats: DepartmentStats {
            department: df.department,
            capacity: df.capacity,
            exclusions: df.exclusions,
            expected: None,
            size_sd: None,
            selected: selected.len(),
        },
        strata,
        selected,
    }
}

/// Draws the sample of SPEC §4.1–4.5, or §4.7 when `params.algorithm` is `Coordinated`.
///
/// ```
/// use spotcheck::sample::{draw, Algorithm, Capacity, DrawDepartment, DrawParams, FrameUnit,
///     HistoryIndex, Month, SampleFrame, SamplingParams, Strata};
/// use spotcheck::schema::{CreditClass, Tier};
/// let unit = |uscc: &str, ratio: f64| FrameUnit {
///     uscc: uscc.into(), name: String::new(), district: 110105, tier: Tier::Specialized,
///     credit_class: Some(CreditClass::B), market_ratio: ratio, market_max_per_year: 1,
///     eco_ratio: 0.0, eco_max_per_year: 0, risk_score: None,
/// };
/// let frame = SampleFrame::from_units(&[unit("91110105JH4BXKFLJU", 0.03), unit("91110105K0XTF8H76J", 0.8)]);
/// let params = DrawParams {
///     seed: "2026年12月 市场监管 双随机 公开摇号 第1期".into(),
///     month: Month::parse("2026-12").unwrap(),
///     department: DrawDepartment::Market,
///     strata: Strata::None,
///     capacity: Capacity { market: Some(1), ecology: None },
///     sampling: SamplingParams { cooldown_months: 3, team_size: 2 },
///     algorithm: Algorithm::Systematic,
/// };
/// let d = draw(&frame, &HistoryIndex::new(), &params).unwrap();
/// assert_eq!(d.selected.len(), 1); // capacity 1 with --strata none: exactly one visit
/// ```
pub fn draw(frame: &SampleFrame, history: &HistoryIndex, params: &DrawParams) -> Result<Draw> {
    params.validate()?;
    frame.validate()?;
    let strata = StrataIndex::build(frame, params.strata);
    let window = Window::new(params.month, params.sampling.cooldown_months);
    let month = params.month.to_string();
    let prepare = |d: Department| prepare_with(frame, history, params, d, &strata, &window);
    if params.algorithm == Algorithm::Coordinated {
        return super::coordinated::draw_coordinated(
            frame,
            &strata.labels,
            prepare,
            &params.seed,
            &month,
        );
    }
    // One department at a time: a department's frame of eligible units is dropped once it is
    // walked, so a joint draw never holds both (the draws are independent, §4.5).
    let mut draws = Vec::with_capacity(2);
    for &d in params.department.departments() {
        let df = prepare(d)?;
        draws.push(walk(&df, &params.seed, &month));
    }
    Ok(merge(frame, &strata, draws))
}

/// Builds the output rows (§4.5 and the output order in the file's doc).
fn merge(frame: &SampleFrame, strata: &StrataIndex, draws: Vec<DepartmentDraw>) -> Draw {
    let unit_draw = |d: Department, u: &EligibleUnit| UnitDraw {
        key: u.key,
        pi: u.pi,
        ratio: frame.ratio(u.frame_index(), d),
    };
    let empty: &[EligibleUnit] = &[];
    let selected_by = |d: Department| {
        draws
            .iter()
            .find(|x| x.stats.department == d)
            .map_or(empty, |x| x.selected.as_slice())
    };
    let m_sel = selected_by(Department::Market);
    let e_sel = selected_by(Department::Ecology);
    let by_ecology: HashMap<u32, UnitDraw> = e_sel
        .iter()
        .map(|u| (u.index, unit_draw(Department::Ecology, u)))
        .collect();
    let by_market: HashSet<u32> = m_sel.iter().map(|u| u.index).collect();

    let mut selected: Vec<Selected> = Vec::with_capacity(m_sel.len() + e_sel.len());
    let mut push = |u: &EligibleUnit, m: Option<UnitDraw>, e: Option<UnitDraw>| {
        let departments = match (m.is_some(), e.is_some()) {
            (true, true) => Departments::Joint,
            (true, false) => Departments::Market,
            _ => Departments::Ecology,
        };
        selected.push(Selected {
            seq: selected.len() as u64 + 1,
            index: u.frame_index(),
            uscc: frame.uscc(u.frame_index()).to_owned(),
            stratum: strata.labels[u.stratum as usize].clone(),
            departments,
            market: m,
            ecology: e,
            u: None,
        });
    };
    // Both lists are in processing order, so stratum ranks ascend along each.
    let (mut mi, mut ei) = (0, 0);
    for s in 0..strata.labels.len() as u32 {
        while mi < m_sel.len() && m_sel[mi].stratum == s {
            let u = &m_sel[mi];
            let e = by_ecology.get(&u.index).copied();
            push(u, Some(unit_draw(Department::Market, u)), e);
            mi += 1;
        }
        while ei < e_sel.len() && e_sel[ei].stratum == s {
            let u = &e_sel[ei];
            if !by_market.contains(&u.index) {
                push(u, None, Some(unit_draw(Department::Ecology, u)));
            }
            ei += 1;
        }
    }

    let mut departments = Vec::new();
    let mut stats = Vec::new();
    for d in draws {
        departments.push(d.stats);
        stats.extend(d.strata);
    }
    Draw {
        selected,
        departments,
        strata: stats,
        coordination: None,
    }
}

/// Serde for `Department` as its English value (schema.rs keeps serde out of the vocabulary).
pub(crate) mod serde_department {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    use crate::schema::Department;

    pub fn serialize<S: Serializer>(d: &Department, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(d.en())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Department, D::Error> {
        let text = String::deserialize(d)?;
        Department::parse(&text)
            .ok_or_else(|| D::Error::custom(format!("{text:?} is not {}", Department::EXPECTED)))
    }
}

/// Serde for an optional 64-bit hash value as decimal text (absent when `None`).
pub(crate) mod serde_opt_u64_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_str(&v.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| {
            t.parse()
                .map_err(|_| D::Error::custom(format!("{t:?} is not a decimal u64")))
        })
        .transpose()
    }
}
