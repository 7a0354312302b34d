//! 正面清单: the ecology bureau's positive list (生态环境监督执法正面清单) and its lifecycle from one
//! period to the next (SPEC §5, normative for statuses). `update` is a pure function: this period's
//! scored enterprises (`Candidate`s) plus the previous list (`PreviousEntry`s, see `previous`) give
//! every enterprise that is listed, waitlisted or removed, with its dates and reasons. Reading the
//! previous list back lives in `previous`, writing CSV / JSON Lines / the Excel workbook in
//! `workbook`, and the reason sentences in `reasons`. Nothing here reads files or prints.
//! `update_counted` is the same with the cap's permit holders counted by the caller, so that a
//! reader of a national file need only keep the enterprises that can change the list.
//!
//! Decisions where SPEC §5 is silent (documented again where they are made):
//! - Under the district cap (`cap_share`), enterprises already on the list keep their place ahead
//!   of newcomers: a listed firm leaves only when it fails a criterion, never because a newcomer
//!   ranks better. Only if the incumbents alone exceed the cap (the district's number of permit
//!   holders fell) are the lowest-ranked incumbents waitlisted too. Newcomers fill the remaining
//!   places in rank order (`risk_score`, then `pe_total`, then `uscc`, all ascending: lower risk
//!   first; a missing `pe_total` ranks last).
//! - The cap counts key + simplified permit holders only (广东's rule): the cap of a district is
//!   ⌊cap_share × its key + simplified permit holders among all candidates⌋, and it limits how many
//!   of those holders are listed. Registration-only and permit-free enterprises are never capped.
//! - A removed enterprise keeps the dates it was listed with; a waitlisted one has no dates.
//! - Output order: status (new, retained, renewed, waitlisted, removed), then district, then uscc
//!   (waitlisted: district, then place in line).

pub mod build;
pub mod previous;
pub mod reasons;
pub mod workbook;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

pub use build::{ScoredRead, from_scored};
pub use previous::read_previous;
pub use workbook::{InputFile, OutputOptions, write_list, write_table, write_xlsx};

use crate::date::Date;
use crate::schema::{Lang, PermitClass, norm};
use crate::table::xlsx::text_width;
use crate::{Error, Result};

/// Where an enterprise stands on this period's positive list (SPEC §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// 新增: eligible now and not on the previous list; listed from the as-of date.
    New,
    /// 保留: on the previous list, eligible, not yet expired; keeps its dates.
    Retained,
    /// 续期: on the previous list, eligible, and `expires_on` ≤ as-of; listed again from as-of.
    Renewed,
    /// 候补: eligible, but over its district's cap.
    Waitlisted,
    /// 移出: on the previous list and no longer eligible (or no longer in the data).
    Removed,
}

impl Status {
    /// Every status, in output order.
    pub const ALL: [Status; 5] = [
        Status::New,
        Status::Retained,
        Status::Renewed,
        Status::Waitlisted,
        Status::Removed,
    ];

    /// What a status cell may hold, for error messages.
    pub const EXPECTED: &'static str =
        "a list status (new/新增, retained/保留, renewed/续期, waitlisted/候补, removed/移出)";

    /// The English value.
    pub fn en(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Retained => "retained",
            Status::Renewed => "renewed",
            Status::Waitlisted => "waitlisted",
            Status::Removed => "removed",
        }
    }

    /// The Chinese value.
    pub fn zh(self) -> &'static str {
        match self {
            Status::New => "新增",
            Status::Retained => "保留",
            Status::Renewed => "续期",
            Status::Waitlisted => "候补",
            Status::Removed => "移出",
        }
    }

    /// The value in a language.
    pub fn label(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en(),
            Lang::Zh => self.zh(),
        }
    }

    /// Parses the English or Chinese value or a common spelling of it.
    pub fn parse(s: &str) -> Option<Status> {
        let n = norm(s);
        let any = |words: &[&str]| words.iter().any(|w| n == norm(w));
        if any(&["new", "新增", "新纳入", "新列入"]) {
            Some(Status::New)
        } else if any(&["retained", "保留", "继续保留", "保持"]) {
            Some(Status::Retained)
        } else if any(&["renewed", "续期", "到期续期", "延续"]) {
            Some(Status::Renewed)
        } else if any(&["waitlisted", "候补", "待纳入", "候补名单"]) {
            Some(Status::Waitlisted)
        } else if any(&["removed", "移出", "已移出", "退出", "移除"]) {
            Some(Status::Removed)
        } else {
            None
        }
    }

    /// Whether an enterprise with this status is on the list.
    pub fn is_listed(self) -> bool {
        matches!(self, Status::New | Status::Retained | Status::Renewed)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.en())
    }
}

/// The columns of the list outputs, with Chinese headers and the spellings accepted on input.
pub mod cols {
    use crate::schema::{Col, ent, out};

    pub const USCC: Col = ent::USCC;
    pub const NAME: Col = ent::NAME;
    pub const DISTRICT: Col = ent::DISTRICT;
    /// Lifecycle status (`Status`).
    pub const STATUS: Col = Col {
        name: "status",
        zh: "状态",
        aliases: &["清单状态", "变动情况", "变动类型"],
    };
    /// 纳入日期: the day the current listing began.
    pub const LISTED_ON: Col = Col {
        name: "listed_on",
        zh: "纳入日期",
        aliases: &[
            "上榜日期",
            "列入日期",
            "纳入时间",
            "列入时间",
            "入选日期",
            "listed",
        ],
    };
    /// 有效期至: the last day the listing is valid without renewal.
    pub const EXPIRES_ON: Col = Col {
        name: "expires_on",
        zh: "有效期至",
        aliases: &[
            "到期日期",
            "有效期截止",
            "有效期截至",
            "截止日期",
            "到期日",
            "有效期",
            "expires",
        ],
    };
    /// Reason codes, `;`-joined.
    pub const REASONS: Col = Col {
        name: "reasons",
        zh: "原因代码",
        aliases: &["原因"],
    };
    /// Reason sentences, one per code.
    pub const REASON_TEXT: Col = Col {
        name: "reason_text",
        zh: "原因说明",
        aliases: &["移出原因"],
    };
    pub const DISTRICT_NAME: Col = Col {
        name: "district_name",
        zh: "所属区名称",
        aliases: &[],
    };
    pub const PERMIT_CLASS: Col = ent::PERMIT_CLASS;
    pub const RISK_SCORE: Col = out::RISK_SCORE;
    pub const PE_TOTAL: Col = out::PE_TOTAL;
    /// 候补顺位: place on the district's waitlist (1 = next in line).
    pub const WAITLIST_RANK: Col = Col {
        name: "waitlist_rank",
        zh: "候补顺位",
        aliases: &[],
    };

    /// CSV / JSON Lines columns, in order.
    pub const TABLE: &[Col] = &[
        USCC,
        NAME,
        DISTRICT,
        STATUS,
        LISTED_ON,
        EXPIRES_ON,
        REASONS,
        REASON_TEXT,
        DISTRICT_NAME,
        PERMIT_CLASS,
        RISK_SCORE,
        PE_TOTAL,
        WAITLIST_RANK,
    ];
}

/// One scored enterprise, as the CLI builds it from a scored table (SPEC §3.6).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// 统一社会信用代码 (compared trimmed and upper-cased).
    pub uscc: String,
    pub name: String,
    /// 所属区, 6-digit code.
    pub district: u32,
    /// Eligible for the positive list this period (SPEC §3.5).
    pub positive_list: bool,
    /// Reason codes of the scored row; the `ECO_*` ones are the failed criteria of SPEC §3.5.
    /// Other codes (e.g. `CREDIT_DEFAULTED`) may be present and are not exit reasons.
    pub reasons: Vec<String>,
    pub risk_score: f64,
    pub pe_total: Option<f64>,
    pub permit_class: Option<PermitClass>,
}

/// The policy settings the lifecycle uses (`policy.eco.validity_years`, `policy.eco.cap_share`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WhitelistParams {
    /// The as-of date of this period's list (`--as-of`).
    pub as_of: Date,
    /// Years a listing is valid (default 3).
    pub validity_years: u32,
    /// At most this share of a district's key + simplified permit holders may be listed.
    pub cap_share: Option<f64>,
}

/// Largest validity the engine accepts (dates must stay within four-digit years).
pub const MAX_VALIDITY_YEARS: u32 = 100;

impl WhitelistParams {
    /// Checks the settings: 1 ≤ validity_years ≤ 100 and 0 < cap_share ≤ 1.
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_VALIDITY_YEARS).contains(&self.validity_years) {
            return Err(Error::Argument {
                argument: "eco.validity_years".into(),
                message: format!(
                    "{} is not a number of years from 1 to {MAX_VALIDITY_YEARS}",
                    self.validity_years
                ),
            });
        }
        if let Some(s) = self.cap_share
            && !(s > 0.0 && s <= 1.0)
        {
            return Err(Error::Argument {
                argument: "eco.cap_share".into(),
                message: format!("{s} is not a share above 0 and at most 1"),
            });
        }
        Ok(())
    }

    /// The expiry of a listing that begins on `listed_on` (29 February → 28 February).
    pub fn expiry(&self, listed_on: Date) -> Date {
        // validate() bounds validity_years by 100; the clamp keeps the conversion total anyway.
        listed_on.add_years(self.validity_years.min(MAX_VALIDITY_YEARS) as i32)
    }
}

/// One row of the previous list that is on it (see `previous::read_previous`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousEntry {
    pub uscc: String,
    pub name: String,
    pub district: u32,
    /// The status the row had (`None` when the file has no status column or the cell is blank).
    pub status: Option<Status>,
    pub listed_on: Date,
    pub expires_on: Date,
}

impl PreviousEntry {
    /// Whether the row counts as being on the list (no status, or new/retained/renewed).
    pub fn on_list(&self) -> bool {
        self.status.is_none_or(Status::is_listed)
    }
}

/// One enterprise of this period's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub uscc: String,
    pub name: String,
    pub district: u32,
    pub status: Status,
    /// Listed: the start of the current listing. Removed: the start of the listing it left.
    pub listed_on: Option<Date>,
    /// Listed: the end of validity. Removed: the end of the listing it left.
    pub expires_on: Option<Date>,
    /// Removed: failed criteria (`ECO_*`) or `NOT_IN_DATA` / `NOT_ELIGIBLE`; waitlisted: `CAP_FULL`.
    pub reasons: Vec<String>,
    pub permit_class: Option<PermitClass>,
    pub risk_score: Option<f64>,
    pub pe_total: Option<f64>,
    /// Waitlisted: place in the district's waitlist, 1-based.
    pub waitlist_rank: Option<u32>,
}

/// The cap of one district (only when `cap_share` is set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DistrictCap {
    pub district: u32,
    /// Key + simplified permit holders among the candidates of the district.
    pub permit_holders: usize,
    /// How many of them may be listed.
    pub cap: usize,
}

/// This period's positive list and everything that changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Whitelist {
    pub params: WhitelistParams,
    /// Every listed, waitlisted or removed enterprise, sorted by status, district, uscc
    /// (waitlisted ones by district, then place in line).
    pub entries: Vec<Entry>,
    /// Per-district caps, by district code (empty without `cap_share`).
    pub caps: Vec<DistrictCap>,
}

fn key(uscc: &str) -> String {
    uscc.trim().to_ascii_uppercase()
}

/// Whether an eligible enterprise counts against its district's cap (key or simplified permit;
/// an unknown class cannot show it is outside the capped group, though §3.5 #6 makes that rare).
fn capped(p: Option<PermitClass>) -> bool {
    matches!(
        p,
        Some(PermitClass::Key) | Some(PermitClass::Simplified) | None
    )
}

/// The waitlist order of SPEC §5: `risk_score`, then `pe_total` (missing last), then `uscc`.
pub fn rank_cmp(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    let pe = |c: &Candidate| c.pe_total.unwrap_or(f64::INFINITY);
    a.risk_score
        .total_cmp(&b.risk_score)
        .then_with(|| pe(a).total_cmp(&pe(b)))
        .then_with(|| key(&a.uscc).cmp(&key(&b.uscc)))
}

/// ⌊share × holders⌋, with a tolerance so that e.g. 0.29 × 100 gives 29, not 28.
fn district_cap(share: f64, holders: usize) -> usize {
    (share * holders as f64 + 1e-9).floor().max(0.0) as usize
}

/// The exit reasons of an ineligible candidate: its `ECO_*` codes (the failed criteria of SPEC
/// §3.5, in the scorer's order), or `NOT_ELIGIBLE` when it recorded none.
pub fn exit_reasons(c: &Candidate) -> Vec<String> {
    let mut reasons: Vec<String> = c
        .reasons
        .iter()
        .map(|r| r.trim())
        .filter(|r| r.starts_with("ECO_"))
        .map(str::to_string)
        .collect();
    if reasons.is_empty() {
        reasons.push(reasons::NOT_ELIGIBLE.to_string());
    }
    reasons
}

/// Each district's key + simplified permit holders among `candidates` and its cap, by code.
pub fn district_caps(candidates: &[&Candidate], share: f64) -> Vec<DistrictCap> {
    let mut holders = PermitHolders::default();
    for c in candidates {
        holders.add(c.district, c.permit_class);
    }
    holders.caps(share)
}

/// Key + simplified permit holders per district (every district seen counts, with 0 holders
/// too): the denominator of the cap (`policy.eco.cap_share`). A reader that keeps only the
/// candidates that matter (eligible, or on the previous list) counts every row here first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermitHolders(BTreeMap<u32, usize>);

impl PermitHolders {
    /// Counts one scored enterprise.
    pub fn add(&mut self, district: u32, permit_class: Option<PermitClass>) {
        let n = self.0.entry(district).or_default();
        if matches!(
            permit_class,
            Some(PermitClass::Key) | Some(PermitClass::Simplified)
        ) {
            *n += 1;
        }
    }

    /// Each district's holders and cap, by code.
    pub fn caps(&self, share: f64) -> Vec<DistrictCap> {
        self.0
            .iter()
            .map(|(&district, &permit_holders)| DistrictCap {
                district,
                permit_holders,
                cap: district_cap(share, permit_holders),
            })
            .collect()
    }
}

/// Fills `cap` places: incumbents first (ranked among themselves), then newcomers in rank order
/// (`rank_cmp`). Returns the admitted and the waitlist in order.
pub fn allocate<'a>(
    mut incumbents: Vec<&'a Candidate>,
    mut newcomers: Vec<&'a Candidate>,
    cap: usize,
) -> (Vec<&'a Candidate>, Vec<&'a Candidate>) {
    incumbents.sort_by(|a, b| rank_cmp(a, b));
    newcomers.sort_by(|a, b| rank_cmp(a, b));
    let mut all = incumbents;
    all.append(&mut newcomers);
    let waiting = all.split_off(cap.min(all.len()));
    (all, waiting)
}

/// Builds this period's list from the scored candidates and the previous list (SPEC §5).
///
/// `candidates` should be every scored enterprise (the cap's denominator counts the permit
/// holders among all of them); a later duplicate `uscc` is ignored, as the scorer rejects it
/// (SPEC §2.1). Previous rows that are not on the list (removed, waitlisted) are ignored.
///
/// ```
/// use spotcheck::date::Date;
/// use spotcheck::whitelist::{update, Candidate, Status, WhitelistParams};
/// let c = Candidate {
///     uscc: "91350100M000100Y43".into(), name: "甲".into(), district: 110108,
///     positive_list: true, reasons: vec![], risk_score: 16.7, pe_total: Some(12.0),
///     permit_class: None,
/// };
/// let p = WhitelistParams { as_of: Date::new(2026, 7, 1).unwrap(), validity_years: 3, cap_share: None };
/// let list = update(&[c], &[], &p);
/// assert_eq!(list.entries[0].status, Status::New);
/// assert_eq!(list.entries[0].expires_on, Date::new(2029, 7, 1));
/// ```
pub fn update(
    candidates: &[Candidate],
    previous: &[PreviousEntry],
    params: &WhitelistParams,
) -> Whitelist {
    update_counted(candidates, previous, params, None)
}

/// [`update`] where the cap's permit holders were counted over the whole scored file
/// (`holders`), so that `candidates` need only hold the enterprises that can change the list:
/// those eligible this period and those on the previous list (each code once, its first row).
/// With `holders` `None`, they are counted among `candidates`, as `update` does.
pub fn update_counted(
    candidates: &[Candidate],
    previous: &[PreviousEntry],
    params: &WhitelistParams,
    holders: Option<&PermitHolders>,
) -> Whitelist {
    let as_of = params.as_of;
    let mut prev: HashMap<String, &PreviousEntry> = HashMap::new();
    for p in previous.iter().filter(|p| p.on_list()) {
        prev.entry(key(&p.uscc)).or_insert(p);
    }

    let mut seen: HashSet<String> = HashSet::new();
    let mut all: Vec<&Candidate> = Vec::with_capacity(candidates.len());
    for c in candidates {
        if seen.insert(key(&c.uscc)) {
            all.push(c);
        }
    }

    let mut entries: Vec<Entry> = Vec::new();
    let entry = |c: &Candidate, status: Status| Entry {
        uscc: key(&c.uscc),
        name: c.name.clone(),
        district: c.district,
        status,
        listed_on: None,
        expires_on: None,
        reasons: Vec::new(),
        permit_class: c.permit_class,
        risk_score: Some(c.risk_score),
        pe_total: c.pe_total,
        waitlist_rank: None,
    };
    // Listing an eligible enterprise: new, retained or renewed.
    let listed = |c: &Candidate| -> Entry {
        match prev.get(&key(&c.uscc)) {
            None => Entry {
                listed_on: Some(as_of),
                expires_on: Some(params.expiry(as_of)),
                ..entry(c, Status::New)
            },
            Some(p) if p.expires_on <= as_of => Entry {
                listed_on: Some(as_of),
                expires_on: Some(params.expiry(as_of)),
                ..entry(c, Status::Renewed)
            },
            Some(p) => Entry {
                listed_on: Some(p.listed_on),
                expires_on: Some(p.expires_on),
                ..entry(c, Status::Retained)
            },
        }
    };

    // Eligible enterprises competing for capped places, per district: (incumbents, newcomers).
    type Contest<'a> = (Vec<&'a Candidate>, Vec<&'a Candidate>);
    let mut contests: BTreeMap<u32, Contest> = BTreeMap::new();
    for &c in &all {
        let was_listed = prev.get(&key(&c.uscc));
        if c.positive_list {
            if params.cap_share.is_some() && capped(c.permit_class) {
                let slot = contests.entry(c.district).or_default();
                if was_listed.is_some() {
                    slot.0.push(c);
                } else {
                    slot.1.push(c);
                }
            } else {
                entries.push(listed(c));
            }
        } else if let Some(p) = was_listed {
            entries.push(Entry {
                listed_on: Some(p.listed_on),
                expires_on: Some(p.expires_on),
                reasons: exit_reasons(c),
                ..entry(c, Status::Removed)
            });
        }
    }

    // On the previous list, absent from the data: removed, never silently dropped.
    let mut gone: Vec<&&PreviousEntry> = prev
        .iter()
        .filter(|(k, _)| !seen.contains(*k))
        .map(|(_, p)| p)
        .collect();
    gone.sort_by_key(|p| key(&p.uscc));
    for p in gone {
        entries.push(Entry {
            uscc: key(&p.uscc),
            name: p.name.clone(),
            district: p.district,
            status: Status::Removed,
            listed_on: Some(p.listed_on),
            expires_on: Some(p.expires_on),
            reasons: vec![reasons::NOT_IN_DATA.to_string()],
            permit_class: None,
            risk_score: None,
            pe_total: None,
            waitlist_rank: None,
        });
    }

    let caps = match (params.cap_share, holders) {
        (Some(share), Some(h)) => h.caps(share),
        (Some(share), None) => district_caps(&all, share),
        (None, _) => Vec::new(),
    };
    for (district, (incumbents, newcomers)) in contests {
        let cap = caps
            .iter()
            .find(|c| c.district == district)
            .map_or(0, |c| c.cap);
        let (admitted, waiting) = allocate(incumbents, newcomers, cap);
        entries.extend(admitted.into_iter().map(listed));
        for (i, c) in waiting.into_iter().enumerate() {
            entries.push(Entry {
                reasons: vec![reasons::CAP_FULL.to_string()],
                // A district's waitlist is far shorter than u32::MAX.
                waitlist_rank: Some(i as u32 + 1),
                ..entry(c, Status::Waitlisted)
            });
        }
    }

    // Waitlisted entries follow their place in line; the rank is None for every other status.
    entries.sort_by(|a, b| {
        (a.status, a.district, a.waitlist_rank, &a.uscc).cmp(&(
            b.status,
            b.district,
            b.waitlist_rank,
            &b.uscc,
        ))
    });
    Whitelist {
        params: *params,
        entries,
        caps,
    }
}

/// Checks that no listing of the previous list starts after the as-of date (a wrong `--as-of` or
/// a list from the future would otherwise be "retained" with dates ahead of the period).
pub fn check_as_of(previous: &[PreviousEntry], as_of: Date) -> Result<()> {
    match previous
        .iter()
        .filter(|p| p.on_list() && p.listed_on > as_of)
        .min_by_key(|p| (p.listed_on, key(&p.uscc)))
    {
        None => Ok(()),
        Some(p) => Err(Error::Argument {
            argument: "--as-of".into(),
            message: format!(
                "{as_of} is before the previous list's listing of {} on {}: give an as-of date on or after the previous list's dates",
                p.uscc, p.listed_on
            ),
        }),
    }
}

/// Counts of each status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusCounts {
    pub new: usize,
    pub retained: usize,
    pub renewed: usize,
    pub waitlisted: usize,
    pub removed: usize,
}

impl StatusCounts {
    /// Enterprises on the list (new + retained + renewed).
    pub fn listed(&self) -> usize {
        self.new + self.retained + self.renewed
    }

    /// The count of one status.
    pub fn get(&self, s: Status) -> usize {
        match s {
            Status::New => self.new,
            Status::Retained => self.retained,
            Status::Renewed => self.renewed,
            Status::Waitlisted => self.waitlisted,
            Status::Removed => self.removed,
        }
    }

    fn add(&mut self, s: Status) {
        *match s {
            Status::New => &mut self.new,
            Status::Retained => &mut self.retained,
            Status::Renewed => &mut self.renewed,
            Status::Waitlisted => &mut self.waitlisted,
            Status::Removed => &mut self.removed,
        } += 1;
    }
}

/// The counts of one district.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DistrictSummary {
    pub district: u32,
    pub counts: StatusCounts,
    /// The district's cap, when `cap_share` is set.
    pub cap: Option<DistrictCap>,
}

/// What a run did, for the terminal and the 说明 sheet: counts per status and per district.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub params: WhitelistParams,
    pub total: StatusCounts,
    /// Districts with at least one entry, by code.
    pub districts: Vec<DistrictSummary>,
}

impl Whitelist {
    /// Entries on the list (new, retained, renewed).
    pub fn listed(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.status.is_listed())
    }

    /// Entries with one status.
    pub fn with_status(&self, s: Status) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(move |e| e.status == s)
    }

    /// Counts per status and per district.
    pub fn summary(&self) -> Summary {
        let mut total = StatusCounts::default();
        let mut by: BTreeMap<u32, StatusCounts> = BTreeMap::new();
        for e in &self.entries {
            total.add(e.status);
            by.entry(e.district).or_default().add(e.status);
        }
        let districts = by
            .into_iter()
            .map(|(district, counts)| DistrictSummary {
                district,
                counts,
                cap: self.caps.iter().find(|c| c.district == district).copied(),
            })
            .collect();
        Summary {
            params: self.params,
            total,
            districts,
        }
    }
}

/// The district's Chinese name, or its code when it has none.
pub fn district_label(code: u32) -> String {
    crate::district::name(code).map_or_else(|| code.to_string(), str::to_string)
}

/// Width of the district column of the summary: "110302 北京经济技术开发区", the longest, is 25.
const DISTRICT_WIDTH: usize = 25;

fn pad(s: &str, width: usize) -> String {
    let w = text_width(s) as usize;
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

impl fmt::Display for Summary {
    /// ```text
    /// positive list as of 2026-07-01 (valid 3 years, cap 50% of key + simplified permit holders per district)
    /// listed 3 (new 1, retained 1, renewed 1), waitlisted 1, removed 0
    /// district                   listed  new  retained  renewed  waitlisted  removed  cap
    /// 110108 海淀区                   3    1         1        1           1        0  3/6
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.params;
        write!(
            f,
            "positive list as of {} (valid {} years, ",
            p.as_of, p.validity_years
        )?;
        match p.cap_share {
            Some(s) => writeln!(
                f,
                "cap {}% of key + simplified permit holders per district)",
                // Two decimals at most, so that 0.07 shows as 7, not 7.000000000000001.
                (s * 10_000.0).round() / 100.0
            )?,
            None => writeln!(f, "no cap)")?,
        }
        let t = &self.total;
        writeln!(
            f,
            "listed {} (new {}, retained {}, renewed {}), waitlisted {}, removed {}",
            t.listed(),
            t.new,
            t.retained,
            t.renewed,
            t.waitlisted,
            t.removed
        )?;
        if self.districts.is_empty() {
            return Ok(());
        }
        let cap_col = p.cap_share.is_some();
        write!(
            f,
            "{}  listed  new  retained  renewed  waitlisted  removed",
            pad("district", DISTRICT_WIDTH)
        )?;
        writeln!(f, "{}", if cap_col { "  cap" } else { "" })?;
        for d in &self.districts {
            let c = &d.counts;
            write!(
                f,
                "{}  {:>6}  {:>3}  {:>8}  {:>7}  {:>10}  {:>7}",
                pad(
                    &format!("{} {}", d.district, district_label(d.district)),
                    DISTRICT_WIDTH
                ),
                c.listed(),
                c.new,
                c.retained,
                c.renewed,
                c.waitlisted,
                c.removed
            )?;
            match d.cap {
                Some(cap) if cap_col => writeln!(f, "  {}/{}", cap.cap, cap.permit_holders)?,
                _ => writeln!(f)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
