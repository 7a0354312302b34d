//! 监管月报: the monthly supervision report's numbers. `build` is a pure function from the scored
//! enterprises (`ScoredRows`, SPEC §3.6), and optionally the drawn sample (SPEC §4), this period's
//! 正面清单 (SPEC §5) and last period's scored enterprises, to a `ReportData`: counts by credit
//! class, tier and district; the distribution of the market and ecology ratios; the expected
//! on-site inspections of the month (Σ of the monthly π) against the drawn sample; the positive
//! list's changes with their reasons; what changed since last period; the policy in force and the
//! input hashes. `html::render` turns it into one self-contained page (charts from `svg`) and only
//! formats: every number it shows is a field here. Reading the sample and the list files back is
//! in `read`; nothing else here does I/O.
//!
//! Decisions where the spec is silent (documented again where they are made):
//! - Expected inspections are SPEC §4's π without a capacity, `min(1, ratio / 12)`, summed over
//!   every scored enterprise. The inspection history (yearly maxima, cool-down) is not an input of
//!   the report, so this is the expectation of a month with no enterprise excluded: an upper bound
//!   for the draw when history excludes some.
//! - Market and ecology are drawn independently (SPEC §4 step 5), so the expected joint visits
//!   are Σ π_market · π_ecology and the expected visits (doors knocked on) are
//!   Σ (π_market + π_ecology − π_market · π_ecology).
//! - Ratio histograms use fixed bands (0 exactly, then 0–5 %, 5–10 %, 10–20 %, 20–30 %, 30–50 %,
//!   50–80 %, 80–100 %), lower bound included: the ratios of SPEC §3.4/§3.5 cluster on a few
//!   values, and fixed bands keep two months' charts comparable.
//! - Enterprises are matched across files by their credit code, trimmed and upper-cased.
//! - A coordinated draw (SPEC §4.7, `prn-poisson-sha256/1`) is known from its manifest: the
//!   report then shows what coordination bought exactly as `spotcheck sample` printed it (joint
//!   visits and visits in all, drawn and expected, against the independent draw's expectation
//!   with the same π), from the manifest's figures, which include capacity and history.

pub mod charts;
pub mod html;
pub mod markup;
pub mod read;
pub mod svg;

use std::collections::{BTreeMap, HashMap, HashSet};

pub use read::{Departments, ListRow, SampleRow, read_list, read_sample};

use crate::policy::Policy;
use crate::sample::Coordination;
use crate::schema::{CreditClass, Lang, Tier, out};
use crate::scored::ScoredRows;
use crate::whitelist::Status;

/// Months in a year: the monthly π of an annual ratio is `min(1, ratio / 12)` (SPEC §4 step 2).
pub const MONTHS: f64 = 12.0;

/// Lower bounds of the ratio bands after the "exactly 0" band; the last band ends at 1 inclusive.
pub const RATIO_BANDS: [f64; 7] = [0.0, 0.05, 0.10, 0.20, 0.30, 0.50, 0.80];

/// What an input file was to the report (for the input-hash table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileRole {
    /// 评分结果: the scored enterprises (`SCORED`).
    Scored,
    /// 抽查样本: the drawn sample (`--sample`).
    Sample,
    /// 正面清单: this period's list (`--whitelist`).
    Whitelist,
    /// 上期评分结果: last period's scored enterprises (`--previous-scored`).
    PreviousScored,
    /// 政策文件: the policy in force (`--policy`, or the built-in default).
    Policy,
    /// 抽取记录: the draw's manifest (`--manifest`, or found beside the sample).
    Manifest,
    /// 抽查结果估计: the estimates of `spotcheck results` (`--results`).
    Results,
}

impl FileRole {
    /// The role's name in a language.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (FileRole::Scored, Lang::En) => "scored enterprises",
            (FileRole::Sample, Lang::En) => "drawn sample",
            (FileRole::Whitelist, Lang::En) => "positive list",
            (FileRole::PreviousScored, Lang::En) => "previous scored enterprises",
            (FileRole::Policy, Lang::En) => "policy",
            (FileRole::Results, Lang::En) => "inspection results: estimates",
            (FileRole::Results, Lang::Zh) => "抽查结果估计",
            (FileRole::Scored, Lang::Zh) => "评分结果",
            (FileRole::Sample, Lang::Zh) => "抽查样本",
            (FileRole::Whitelist, Lang::Zh) => "正面清单",
            (FileRole::PreviousScored, Lang::Zh) => "上期评分结果",
            (FileRole::Policy, Lang::Zh) => "政策文件",
            (FileRole::Manifest, Lang::En) => "draw manifest",
            (FileRole::Manifest, Lang::Zh) => "抽取记录",
        }
    }
}

/// One input of the report and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    pub role: FileRole,
    /// The path as given on the command line.
    pub path: String,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// Everything the report is built from.
#[derive(Debug, Clone, Copy)]
pub struct ReportInputs<'a> {
    /// This period's scored enterprises.
    pub scored: &'a ScoredRows,
    /// The drawn sample of the month, if given.
    pub sample: Option<&'a [SampleRow]>,
    /// This period's positive list, if given.
    pub list: Option<&'a [ListRow]>,
    /// Last period's scored enterprises, if given.
    pub previous: Option<&'a ScoredRows>,
    /// The policy in force.
    pub policy: &'a Policy,
    /// The input files and their hashes, in the order to show them.
    pub files: &'a [InputFile],
    /// The month reported on (`YYYY-MM`), shown in the title, if known.
    pub month: Option<&'a str>,
    /// What a coordinated draw bought (SPEC §4.7), from the sample's manifest, if the sample was
    /// drawn coordinated.
    pub coordination: Option<&'a Coordination>,
}

/// Expected on-site inspections of one month (SPEC §4 π without capacity).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Expected {
    /// Σ min(1, market_ratio / 12).
    pub market: f64,
    /// Σ min(1, eco_ratio / 12).
    pub ecology: f64,
    /// Σ π_market · π_ecology: both departments draw the enterprise (one joint visit).
    pub joint: f64,
    /// Σ (π_market + π_ecology − π_market · π_ecology): enterprises visited at all.
    pub visits: f64,
}

impl Expected {
    fn add(&mut self, market_ratio: f64, eco_ratio: f64) {
        let pm = monthly_pi(market_ratio);
        let pe = monthly_pi(eco_ratio);
        self.market += pm;
        self.ecology += pe;
        self.joint += pm * pe;
        self.visits += pm + pe - pm * pe;
    }
}

/// The monthly inclusion probability of an annual ratio: `min(1, ratio / 12)` (SPEC §4 step 2,
/// without capacity). A ratio outside [0, 1] cannot come out of `ScoredRows` (it checks them).
///
/// ```
/// assert_eq!(spotcheck::report::monthly_pi(0.3), 0.3 / 12.0);
/// assert_eq!(spotcheck::report::monthly_pi(0.0), 0.0);
/// ```
pub fn monthly_pi(ratio: f64) -> f64 {
    (ratio / MONTHS).min(1.0)
}

/// The drawn sample's visits of one district or of all: market only, ecology only, joint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Drawn {
    /// Indexed by `Departments::index()`.
    pub by_departments: [usize; 3],
}

impl Drawn {
    /// Every drawn enterprise (one visit each).
    pub fn visits(&self) -> usize {
        self.by_departments.iter().sum()
    }

    /// Visits the market department takes part in (market only + joint).
    pub fn market(&self) -> usize {
        self.by_departments[Departments::Market.index()]
            + self.by_departments[Departments::Joint.index()]
    }

    /// Visits the ecology department takes part in (ecology only + joint).
    pub fn ecology(&self) -> usize {
        self.by_departments[Departments::Ecology.index()]
            + self.by_departments[Departments::Joint.index()]
    }

    /// Joint visits.
    pub fn joint(&self) -> usize {
        self.by_departments[Departments::Joint.index()]
    }
}

/// One district's line of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct DistrictRow {
    /// 所属区, 6-digit code.
    pub district: u32,
    /// Scored enterprises in the district.
    pub enterprises: usize,
    /// By credit class, indexed by `CreditClass::index()`.
    pub credit: [usize; 4],
    /// Eligible for the positive list (scored `positive_list = true`).
    pub positive_eligible: usize,
    /// Expected on-site inspections this month.
    pub expected: Expected,
    /// Drawn visits (with a sample; zero for a district the sample does not reach).
    pub drawn: Drawn,
}

/// One band of a ratio histogram: `lo ≤ ratio < hi` (the last band includes 1), or exactly 0
/// when `lo == hi == 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bin {
    pub lo: f64,
    pub hi: f64,
    pub count: usize,
}

/// A ratio histogram over `RATIO_BANDS`.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub bins: Vec<Bin>,
    /// Mean of the ratios (0 without enterprises).
    pub mean: f64,
}

/// Counts ratios in [0, 1] into the bands "exactly 0", then `RATIO_BANDS` (lower bound included,
/// the last band up to 1 inclusive).
///
/// ```
/// let h = spotcheck::report::ratio_histogram(&[0.0, 0.03, 0.1, 0.8, 1.0]);
/// let counts: Vec<usize> = h.bins.iter().map(|b| b.count).collect();
/// assert_eq!(counts, [1, 1, 0, 1, 0, 0, 0, 2]);
/// ```
pub fn ratio_histogram(ratios: &[f64]) -> Histogram {
    let mut bins = vec![Bin {
        lo: 0.0,
        hi: 0.0,
        count: 0,
    }];
    for (k, &lo) in RATIO_BANDS.iter().enumerate() {
        let hi = RATIO_BANDS.get(k + 1).copied().unwrap_or(1.0);
        bins.push(Bin { lo, hi, count: 0 });
    }
    let mut sum = 0.0;
    for &r in ratios {
        sum += r;
        let k = if r <= 0.0 {
            0
        } else {
            // Bands after the zero band: the last whose lower bound is ≤ r.
            1 + RATIO_BANDS.iter().rposition(|&lo| r >= lo).unwrap_or(0)
        };
        bins[k].count += 1;
    }
    let mean = if ratios.is_empty() {
        0.0
    } else {
        sum / ratios.len() as f64
    };
    Histogram { bins, mean }
}

/// The drawn sample summed up.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleSummary {
    /// Drawn enterprises (rows of the sample file).
    pub rows: usize,
    /// Visits by departments, all districts.
    pub drawn: Drawn,
    /// Drawn enterprises by credit class (`CreditClass::index()`): the sample's own column, else
    /// the scored file's class.
    pub by_credit: [usize; 4],
    /// Drawn enterprises whose class neither file gives.
    pub credit_unknown: usize,
    /// Drawn enterprises by tier (`Tier::index()`), found the same way.
    pub by_tier: [usize; 4],
    /// Drawn enterprises whose tier neither file gives.
    pub tier_unknown: usize,
    /// Drawn enterprises with inspectors assigned.
    pub staffed: usize,
    /// Drawn enterprises whose credit code is not in the scored file.
    pub not_in_scored: usize,
    /// The drawn enterprises in file order.
    pub rows_in_order: Vec<SampleRow>,
    /// A coordinated draw's figures (SPEC §4.7), as its manifest records them.
    pub coordination: Option<Coordination>,
}

/// This period's positive list summed up.
#[derive(Debug, Clone, PartialEq)]
pub struct ListSummary {
    /// By status, indexed by position in `Status::ALL`.
    pub counts: [usize; 5],
    /// On the list (new + retained + renewed).
    pub listed: usize,
    /// Entered this period, by district then code.
    pub new: Vec<ListRow>,
    /// Left this period, with reasons, by district then code.
    pub removed: Vec<ListRow>,
    /// Eligible but over their district's cap, by district then code.
    pub waitlisted: Vec<ListRow>,
    /// Reason codes of the removed, with how many removed enterprises each concerns; most
    /// frequent first, then by code.
    pub removal_reasons: Vec<(String, usize)>,
    /// Listed enterprises whose scored row this period says not eligible (a list built from
    /// another scoring than this report's).
    pub listed_not_eligible: usize,
}

impl ListSummary {
    /// The count of one status.
    pub fn count(&self, s: Status) -> usize {
        // Status::ALL holds every status, so the position always exists.
        self.counts[Status::ALL.iter().position(|x| *x == s).unwrap_or(0)]
    }
}

/// What changed since the previous period's scoring.
#[derive(Debug, Clone, PartialEq)]
pub struct Changes {
    /// Enterprises in the previous scored file.
    pub previous_enterprises: usize,
    /// In both files.
    pub matched: usize,
    /// Only in this period's file.
    pub new_enterprises: usize,
    /// Only in the previous file.
    pub gone_enterprises: usize,
    /// Matched enterprises whose credit class changed.
    pub class_changed: usize,
    /// … to a better class (e.g. B → A).
    pub class_improved: usize,
    /// … to a worse class (e.g. A → C).
    pub class_worsened: usize,
    /// `[previous][current]` counts of matched enterprises by `CreditClass::index()`.
    pub transitions: [[usize; 4]; 4],
    /// Matched enterprises eligible for the positive list now and not before.
    pub eligibility_gained: usize,
    /// Matched enterprises eligible before and not now.
    pub eligibility_lost: usize,
}

/// Every number of the report.
#[derive(Debug, Clone)]
pub struct ReportData {
    /// The month reported on (`YYYY-MM`), if known.
    pub month: Option<String>,
    /// Scored enterprises.
    pub enterprises: usize,
    /// By credit class (`CreditClass::index()`).
    pub credit: [usize; 4],
    /// Enterprises whose class is the policy's default (`credit_source = default`).
    pub credit_defaulted: usize,
    /// By tier (`Tier::index()`).
    pub tiers: [usize; 4],
    /// One row per district of the scored file or the sample, by code.
    pub districts: Vec<DistrictRow>,
    /// Expected on-site inspections this month, all districts.
    pub expected: Expected,
    /// Enterprises with a market ratio above 0 (the market draw's population).
    pub market_population: usize,
    /// Enterprises with an ecology on-site ratio above 0.
    pub ecology_population: usize,
    /// Distribution of `market_ratio`.
    pub market_hist: Histogram,
    /// Distribution of `eco_ratio`.
    pub eco_hist: Histogram,
    /// Eligible for the positive list this period (scored `positive_list = true`).
    pub positive_eligible: usize,
    /// With `--sample`.
    pub sample: Option<SampleSummary>,
    /// With `--whitelist`.
    pub list: Option<ListSummary>,
    /// With `--previous-scored`.
    pub changes: Option<Changes>,
    /// The policy in force.
    pub policy: Policy,
    /// The input files and their hashes.
    pub files: Vec<InputFile>,
    /// With `--results`: the estimates of `spotcheck results` (SPEC §9.3), as written.
    pub results: Option<Vec<crate::results::estimates::EstimateRow>>,
}

impl ReportData {
    /// A count's share of the scored enterprises (0 without enterprises).
    pub fn share(&self, count: usize) -> f64 {
        if self.enterprises == 0 {
            0.0
        } else {
            count as f64 / self.enterprises as f64
        }
    }
}

/// A credit code as the report matches it: trimmed, upper-cased.
fn key(uscc: &str) -> String {
    uscc.trim().to_ascii_uppercase()
}

/// Counts of values by their dense index.
fn tally<T: Copy>(values: &[T], index: impl Fn(T) -> usize) -> [usize; 4] {
    let mut c = [0usize; 4];
    for &v in values {
        c[index(v)] += 1;
    }
    c
}

/// The line of a district, created empty on first use.
fn district_row(map: &mut BTreeMap<u32, DistrictRow>, district: u32) -> &mut DistrictRow {
    map.entry(district).or_insert_with(|| DistrictRow {
        district,
        enterprises: 0,
        credit: [0; 4],
        positive_eligible: 0,
        expected: Expected::default(),
        drawn: Drawn::default(),
    })
}

/// Builds every number of the report from its inputs (see the module doc for the rules).
pub fn build(inputs: &ReportInputs<'_>) -> ReportData {
    let s = inputs.scored;
    let n = s.len();
    let mut districts: BTreeMap<u32, DistrictRow> = BTreeMap::new();
    let mut expected = Expected::default();
    for i in 0..n {
        let d = district_row(&mut districts, s.district[i]);
        d.enterprises += 1;
        d.credit[s.credit_class[i].index()] += 1;
        d.positive_eligible += usize::from(s.positive_list[i]);
        d.expected.add(s.market_ratio[i], s.eco_ratio[i]);
        expected.add(s.market_ratio[i], s.eco_ratio[i]);
    }

    // The scored row of each code the sample and the list name (the first row of a code the
    // scorer would have rejected as a repeat): only those codes are indexed, not every row.
    let wanted: HashSet<String> = inputs
        .sample
        .into_iter()
        .flatten()
        .map(|r| key(&r.uscc))
        .chain(inputs.list.into_iter().flatten().map(|r| key(&r.uscc)))
        .collect();
    let mut index: HashMap<String, usize> = HashMap::with_capacity(wanted.len());
    if !wanted.is_empty() {
        for i in 0..n {
            let k = key(&s.uscc[i]);
            if wanted.contains(&k) {
                index.entry(k).or_insert(i);
            }
        }
    }
    let sample = inputs.sample.map(|rows| {
        let mut sum = SampleSummary {
            rows: rows.len(),
            drawn: Drawn::default(),
            by_credit: [0; 4],
            credit_unknown: 0,
            by_tier: [0; 4],
            tier_unknown: 0,
            staffed: 0,
            not_in_scored: 0,
            rows_in_order: rows.to_vec(),
            coordination: inputs.coordination.copied(),
        };
        for r in rows {
            let d = district_row(&mut districts, r.district);
            d.drawn.by_departments[r.departments.index()] += 1;
            sum.drawn.by_departments[r.departments.index()] += 1;
            let scored = index.get(&key(&r.uscc)).copied();
            if scored.is_none() {
                sum.not_in_scored += 1;
            }
            match r.credit_class.or(scored.map(|i| s.credit_class[i])) {
                Some(c) => sum.by_credit[c.index()] += 1,
                None => sum.credit_unknown += 1,
            }
            match r.tier.or(scored.map(|i| s.tier[i])) {
                Some(t) => sum.by_tier[t.index()] += 1,
                None => sum.tier_unknown += 1,
            }
            sum.staffed += usize::from(r.inspectors.is_some());
        }
        sum
    });

    let list = inputs.list.map(|rows| list_summary(rows, s, &index));
    let changes = inputs.previous.map(|p| changes(p, s));

    ReportData {
        month: inputs.month.map(str::to_string),
        enterprises: n,
        credit: tally(&s.credit_class, CreditClass::index),
        credit_defaulted: s
            .credit_source
            .iter()
            .filter(|c| **c == Some(crate::schema::CreditSource::Default))
            .count(),
        tiers: tally(&s.tier, Tier::index),
        districts: districts.into_values().collect(),
        expected,
        market_population: s.market_ratio.iter().filter(|r| **r > 0.0).count(),
        ecology_population: s.eco_ratio.iter().filter(|r| **r > 0.0).count(),
        market_hist: ratio_histogram(&s.market_ratio),
        eco_hist: ratio_histogram(&s.eco_ratio),
        positive_eligible: s.positive_list.iter().filter(|b| **b).count(),
        sample,
        list,
        changes,
        policy: inputs.policy.clone(),
        files: inputs.files.to_vec(),
        results: None,
    }
}

fn list_summary(rows: &[ListRow], s: &ScoredRows, index: &HashMap<String, usize>) -> ListSummary {
    let mut counts = [0usize; 5];
    let pos = |st: Status| Status::ALL.iter().position(|x| *x == st).unwrap_or(0);
    let mut new = Vec::new();
    let mut removed = Vec::new();
    let mut waitlisted = Vec::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut listed_not_eligible = 0;
    for r in rows {
        counts[pos(r.status)] += 1;
        match r.status {
            Status::New => new.push(r.clone()),
            Status::Removed => {
                let distinct: HashSet<&str> = r.reasons.iter().map(String::as_str).collect();
                for code in distinct {
                    *reasons.entry(code.to_string()).or_default() += 1;
                }
                removed.push(r.clone());
            }
            Status::Waitlisted => waitlisted.push(r.clone()),
            Status::Retained | Status::Renewed => {}
        }
        if r.status.is_listed()
            && index
                .get(&key(&r.uscc))
                .is_some_and(|&i| !s.positive_list[i])
        {
            listed_not_eligible += 1;
        }
    }
    let order =
        |v: &mut Vec<ListRow>| v.sort_by(|a, b| (a.district, &a.uscc).cmp(&(b.district, &b.uscc)));
    order(&mut new);
    order(&mut removed);
    order(&mut waitlisted);
    let mut removal_reasons: Vec<(String, usize)> = reasons.into_iter().collect();
    removal_reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ListSummary {
        counts,
        listed: counts[0] + counts[1] + counts[2],
        new,
        removed,
        waitlisted,
        removal_reasons,
        listed_not_eligible,
    }
}

/// Compares two periods' scorings, matched by credit code (a later duplicate code is ignored,
/// as the scorer rejects it).
pub fn changes(previous: &ScoredRows, current: &ScoredRows) -> Changes {
    let mut before: HashMap<String, usize> = HashMap::with_capacity(previous.len());
    for i in 0..previous.len() {
        before.entry(key(&previous.uscc[i])).or_insert(i);
    }
    let mut seen: HashSet<String> = HashSet::with_capacity(current.len());
    let mut c = Changes {
        previous_enterprises: before.len(),
        matched: 0,
        new_enterprises: 0,
        gone_enterprises: 0,
        class_changed: 0,
        class_improved: 0,
        class_worsened: 0,
        transitions: [[0; 4]; 4],
        eligibility_gained: 0,
        eligibility_lost: 0,
    };
    for i in 0..current.len() {
        let k = key(&current.uscc[i]);
        if !seen.insert(k.clone()) {
            continue;
        }
        let Some(&j) = before.get(&k) else {
            c.new_enterprises += 1;
            continue;
        };
        c.matched += 1;
        let (old, new) = (previous.credit_class[j], current.credit_class[i]);
        c.transitions[old.index()][new.index()] += 1;
        if old != new {
            c.class_changed += 1;
            // A is the lowest risk: a smaller index is a better class.
            if new.index() < old.index() {
                c.class_improved += 1;
            } else {
                c.class_worsened += 1;
            }
        }
        match (previous.positive_list[j], current.positive_list[i]) {
            (false, true) => c.eligibility_gained += 1,
            (true, false) => c.eligibility_lost += 1,
            _ => {}
        }
    }
    c.gone_enterprises = c.previous_enterprises - c.matched;
    c
}

/// The report's language for a scored file: Chinese when more of its SPEC §3.6 headers are the
/// Chinese ones than the English ones (`spotcheck score --lang zh` writes them all in Chinese).
///
/// ```
/// use arrow::datatypes::{DataType, Field, Schema};
/// use spotcheck::schema::Lang;
/// let s = |names: &[&str]| Schema::new(
///     names.iter().map(|n| Field::new(*n, DataType::Utf8, true)).collect::<Vec<_>>());
/// assert_eq!(spotcheck::report::detect_lang(&s(&["统一社会信用代码", "企业名称"])), Lang::Zh);
/// assert_eq!(spotcheck::report::detect_lang(&s(&["uscc", "name"])), Lang::En);
/// ```
pub fn detect_lang(schema: &arrow::datatypes::Schema) -> Lang {
    let (mut zh, mut en) = (0, 0);
    for f in schema.fields() {
        let h = crate::schema::norm(f.name());
        for c in out::ALL {
            if h == crate::schema::norm(c.zh) {
                zh += 1;
            } else if h == crate::schema::norm(c.name) {
                en += 1;
            }
        }
    }
    if zh > en { Lang::Zh } else { Lang::En }
}

#[cfg(test)]
mod tests;
