//! Eligibility of a unit for a department's draw (SPEC §4.1) and the inspection-history index it
//! reads. A unit is eligible for department d when its ratio for d is above 0, it had fewer on-site
//! (现场) inspections by d from 1 January of the month's year up to (not including) the month's
//! first day than its `max_per_year` for d, and none by d in the cooldown window (the
//! `cooldown_months` months before the month). Off-site (非现场) rows never count. History rows
//! dated on or after the month's first day are ignored: a draw for 2026-12 is the same whether it is
//! made in November or re-derived in January with December's inspections already recorded.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::date::{Date, Month};
use crate::schema::{Department, Mode};

/// A department's on-site rows keyed by the draw's order keys and sorted by (key, code), so that
/// units walked in key order find their rows with a forward-moving cursor — a merge join, with
/// sequential memory access instead of a hash probe per unit. A match is confirmed by comparing
/// the code, so two codes sharing a 64-bit key cannot be confused.
pub struct KeyedHistory<'a> {
    keys: Vec<u64>,
    codes: Vec<&'a str>,
    dates: Vec<Date>,
}

impl<'a> KeyedHistory<'a> {
    /// Whether the department has no on-site row at all.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// A cursor for units whose keys come in non-decreasing order, starting at `first_key`.
    pub fn cursor(&self, first_key: u64) -> HistoryCursor<'_, 'a> {
        HistoryCursor {
            history: self,
            at: self.keys.partition_point(|&k| k < first_key),
        }
    }
}

/// A forward-only position in a `KeyedHistory`.
pub struct HistoryCursor<'k, 'a> {
    history: &'k KeyedHistory<'a>,
    at: usize,
}

impl<'k> HistoryCursor<'k, '_> {
    /// The on-site dates of the unit with this key whose code satisfies `is_code` (asked only
    /// when a row has the same key, so the unit's code is rarely read); keys must not decrease
    /// from one call to the next.
    #[inline]
    pub fn onsite(&mut self, key: u64, is_code: impl Fn(&str) -> bool) -> &'k [Date] {
        let h = self.history;
        while self.at < h.keys.len() && h.keys[self.at] < key {
            self.at += 1;
        }
        let mut j = self.at;
        while j < h.keys.len() && h.keys[j] == key {
            let code = h.codes[j];
            let mut end = j + 1;
            while end < h.keys.len() && h.keys[end] == key && h.codes[end] == code {
                end += 1;
            }
            if is_code(code) {
                return &h.dates[j..end];
            }
            j = end;
        }
        &[]
    }
}

/// The on-site rows of the inspection history (§1.3), one entry per row: code, department, date.
/// Off-site rows are not kept (§4.1 counts `onsite` rows only). Codes are matched as given: pass
/// them upper-cased, as the readers store them.
#[derive(Debug, Clone, Default)]
pub struct HistoryIndex {
    rows: Vec<(Box<str>, Department, Date)>,
}

impl HistoryIndex {
    /// An empty history (every unit has no inspection on record).
    pub fn new() -> HistoryIndex {
        HistoryIndex::default()
    }

    /// Records one history row; off-site rows are ignored.
    pub fn add(&mut self, uscc: &str, department: Department, mode: Mode, date: Date) {
        if mode == Mode::Onsite {
            self.rows.push((uscc.into(), department, date));
        }
    }

    /// The on-site dates of one enterprise by one department, in insertion order (a scan of all
    /// rows: for explaining one enterprise, not for the draw).
    pub fn onsite(&self, uscc: &str, department: Department) -> Vec<Date> {
        self.rows
            .iter()
            .filter(|r| r.1 == department && &*r.0 == uscc)
            .map(|r| r.2)
            .collect()
    }

    /// The department's rows keyed by `key(code)` (the draw's order keys, hashed in parallel)
    /// and sorted by key, then code.
    pub fn keyed(
        &self,
        department: Department,
        key: impl Fn(&str) -> u64 + Sync,
    ) -> KeyedHistory<'_> {
        let mut rows: Vec<(u64, &str, Date)> = self
            .rows
            .par_iter()
            .filter(|r| r.1 == department)
            .map(|r| (key(&r.0), &*r.0, r.2))
            .collect();
        rows.par_sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        KeyedHistory {
            keys: rows.iter().map(|r| r.0).collect(),
            codes: rows.iter().map(|r| r.1).collect(),
            dates: rows.iter().map(|r| r.2).collect(),
        }
    }

    /// Number of on-site rows recorded.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no on-site row is recorded.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// The date windows of §4.1 for one month: `[year_start, first_day)` for the yearly cap and
/// `[cooldown_start, first_day)` for the cooldown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub year_start: Date,
    pub cooldown_start: Date,
    pub first_day: Date,
}

impl Window {
    /// The windows of `month` with a cooldown of `cooldown_months` (0 = no cooldown).
    pub fn new(month: Month, cooldown_months: u32) -> Window {
        Window {
            year_start: month.year_start(),
            cooldown_start: month.cooldown_start(cooldown_months),
            first_day: month.first_day(),
        }
    }
}

/// Why a unit is not eligible, checked in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// The department's ratio is 0 (e.g. 正面清单 enterprises for ecology on-site checks).
    ZeroRatio,
    /// As many on-site inspections this year as `max_per_year` allows (年度抽查上限).
    YearlyCap,
    /// An on-site inspection in the cooldown window.
    Cooldown,
}

impl Exclusion {
    /// The reason's code, as in the manifest.
    pub fn code(self) -> &'static str {
        match self {
            Exclusion::ZeroRatio => "zero_ratio",
            Exclusion::YearlyCap => "yearly_cap",
            Exclusion::Cooldown => "cooldown",
        }
    }
}

/// Checks one unit for one department (§4.1); `None` means eligible. `onsite` is called only when
/// the ratio is above 0, so units that can never be drawn cost no history lookup.
///
/// ```
/// use spotcheck::sample::{eligibility::{check, Exclusion, Window}, Date, Month};
/// let w = Window::new(Month::parse("2026-12").unwrap(), 3);
/// let march = [Date::parse("2026-03-10").unwrap()];
/// assert_eq!(check(0.1, 2, &w, || &march[..]), None);
/// assert_eq!(check(0.1, 1, &w, || &march[..]), Some(Exclusion::YearlyCap));
/// assert_eq!(check(0.0, 2, &w, || &march[..]), Some(Exclusion::ZeroRatio));
/// ```
#[inline]
pub fn check<'a>(
    ratio: f64,
    max_per_year: u32,
    window: &Window,
    onsite: impl FnOnce() -> &'a [Date],
) -> Option<Exclusion> {
    // NaN counts as no ratio, though frames are validated before this runs.
    if ratio.is_nan() || ratio <= 0.0 {
        return Some(Exclusion::ZeroRatio);
    }
    if max_per_year == 0 {
        return Some(Exclusion::YearlyCap);
    }
    let dates = onsite();
    let mut this_year = 0u32;
    let mut cooldown = false;
    for &d in dates {
        if d >= window.first_day {
            continue;
        }
        if d >= window.year_start {
            this_year += 1;
        }
        if d >= window.cooldown_start {
            cooldown = true;
        }
    }
    if this_year >= max_per_year {
        Some(Exclusion::YearlyCap)
    } else if cooldown {
        Some(Exclusion::Cooldown)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    /// `check` with the history given as date texts.
    fn at(ratio: f64, max: u32, w: &Window, dates: &[&str]) -> Option<Exclusion> {
        let dates: Vec<Date> = dates.iter().map(|s| d(s)).collect();
        check(ratio, max, w, || &dates[..])
    }

    #[test]
    fn windows_follow_spec_example() {
        // SPEC §4.1: for 2026-12 the cooldown is 2026-09-01 up to, not including, 2026-12-01.
        let w = Window::new(Month::parse("2026-12").unwrap(), 3);
        assert_eq!(check(0.1, 4, &w, || &[][..]), None);
        assert_eq!(at(0.1, 4, &w, &["2026-09-01"]), Some(Exclusion::Cooldown));
        assert_eq!(at(0.1, 4, &w, &["2026-11-30"]), Some(Exclusion::Cooldown));
        assert_eq!(at(0.1, 4, &w, &["2026-08-31"]), None);
        // On or after the month's first day: ignored for both counts.
        assert_eq!(at(0.1, 1, &w, &["2026-12-01", "2027-01-05"]), None);
    }

    #[test]
    fn yearly_cap_counts_this_year_only() {
        let w = Window::new(Month::parse("2026-12").unwrap(), 3);
        let two = [d("2026-01-01"), d("2026-05-20"), d("2025-12-31")];
        // 2 rows in 2026 before December (2025-12-31 is last year): cap 2 reached, cap 3 not.
        assert_eq!(check(0.3, 2, &w, || &two[..]), Some(Exclusion::YearlyCap));
        assert_eq!(check(0.3, 3, &w, || &two[..]), None);
        // max_per_year 0 (positive-list ecology): never eligible, and no lookup needed.
        assert_eq!(
            check(0.3, 0, &w, || panic!("no lookup")),
            Some(Exclusion::YearlyCap)
        );
        assert_eq!(
            check(0.0, 2, &w, || panic!("no lookup")),
            Some(Exclusion::ZeroRatio)
        );
        assert_eq!(
            check(f64::NAN, 2, &w, || panic!("no lookup")),
            Some(Exclusion::ZeroRatio)
        );
    }

    #[test]
    fn cooldown_crosses_the_year() {
        // 2027-01 with 3 months: cooldown from 2026-10-01; the yearly count starts 2027-01-01.
        let w = Window::new(Month::parse("2027-01").unwrap(), 3);
        assert_eq!(at(0.1, 1, &w, &["2026-10-01"]), Some(Exclusion::Cooldown));
        assert_eq!(at(0.1, 1, &w, &["2026-09-30"]), None);
        // No cooldown configured.
        let w0 = Window::new(Month::parse("2027-01").unwrap(), 0);
        assert_eq!(at(0.1, 1, &w0, &["2026-12-31"]), None);
    }

    #[test]
    fn index_keeps_onsite_rows_per_department() {
        let mut h = HistoryIndex::new();
        assert!(h.onsite("X", Department::Market).is_empty());
        h.add("X", Department::Market, Mode::Onsite, d("2026-03-01"));
        h.add("X", Department::Market, Mode::NonSite, d("2026-04-01"));
        h.add("X", Department::Ecology, Mode::Onsite, d("2026-05-01"));
        h.add("Y", Department::Ecology, Mode::Onsite, d("2026-06-01"));
        h.add("X", Department::Market, Mode::Onsite, d("2026-01-09"));
        assert_eq!(h.len(), 4);
        assert_eq!(
            h.onsite("X", Department::Market),
            [d("2026-03-01"), d("2026-01-09")]
        );
        assert_eq!(h.onsite("X", Department::Ecology), [d("2026-05-01")]);
        assert!(h.onsite("Y", Department::Market).is_empty());
        assert!(h.onsite("Z", Department::Ecology).is_empty());
        // Keyed by a toy key that gives "X" and "Z" the same key: the code tells them apart.
        h.add("Z", Department::Market, Mode::Onsite, d("2026-07-01"));
        h.add("Y", Department::Market, Mode::Onsite, d("2026-08-01"));
        let k = h.keyed(Department::Market, |c| if c == "Y" { 5 } else { 1 });
        let mut cur = k.cursor(0);
        let mut x = cur.onsite(1, |c| c == "X").to_vec();
        x.sort();
        assert_eq!(x, [d("2026-01-09"), d("2026-03-01")]);
        assert_eq!(cur.onsite(1, |c| c == "Z"), [d("2026-07-01")]);
        assert!(cur.onsite(1, |c| c == "W").is_empty());
        assert!(cur.onsite(3, |c| c == "V").is_empty());
        assert_eq!(cur.onsite(5, |c| c == "Y"), [d("2026-08-01")]);
        assert_eq!(k.cursor(2).onsite(5, |c| c == "Y"), [d("2026-08-01")]);
        let eco = h.keyed(Department::Ecology, |_| 0);
        assert!(eco.cursor(0).onsite(0, |c| c == "W").is_empty());
        assert_eq!(eco.cursor(0).onsite(0, |c| c == "Y"), [d("2026-06-01")]);
    }
}
