//! Inspection history of the synthetic enterprises (SPEC §1.3): the reference `Month`, the
//! calendar arithmetic for its 12-month window, and the per-enterprise draws of past inspections.
//! Market checks follow the enterprise's credit class at the default policy ratios (A 3 %, B 10 %,
//! C 30 %, D 80 % a year); ecology checks follow its permit class, with off-site checks for key
//! permit holders that are connected to automatic monitoring.

use super::draw::Draw;
use super::model::EntRow;
use crate::error::{Error, Result};
use crate::schema::{CreditClass, Department, Mode};

/// A calendar month `YYYY-MM`: the month a sample will be drawn for. Generated history dates lie
/// in the 12 months before it (from the first day of the same month a year earlier, up to but not
/// including the month's first day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// A month of the years 1900–9999.
    pub fn new(year: i32, month: u32) -> Result<Month> {
        if !(1900..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(Error::Argument {
                argument: "month".into(),
                message: format!("{year:04}-{month:02} is not a month of the years 1900–9999"),
            });
        }
        Ok(Month { year, month })
    }

    /// Parses `YYYY-MM`.
    ///
    /// ```
    /// use spotcheck::r#gen::Month;
    /// assert_eq!(Month::parse("2026-06").unwrap(), Month { year: 2026, month: 6 });
    /// assert!(Month::parse("2026-13").is_err());
    /// assert!(Month::parse("2026/06").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Month> {
        let bad = || Error::Argument {
            argument: "month".into(),
            message: format!("{s:?} is not a month written YYYY-MM, e.g. 2026-06"),
        };
        let t = s.trim();
        let (y, m) = t.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 || !(y.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        Month::new(year, month).map_err(|_| bad())
    }

    /// Days since 1970-01-01 of the month's first day.
    pub fn first_day(self) -> i32 {
        days_from_civil(self.year, self.month, 1)
    }

    /// The month `k` months earlier.
    pub fn minus(self, k: u32) -> Month {
        let idx = self.year * 12 + self.month as i32 - 1 - k as i32;
        Month {
            year: idx.div_euclid(12),
            month: idx.rem_euclid(12) as u32 + 1,
        }
    }

    /// The history window as days since 1970-01-01: `[first day 12 months earlier, first day)`.
    pub fn history_window(self) -> (i32, i32) {
        (self.minus(12).first_day(), self.first_day())
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i32 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of `days_from_civil`).
pub(crate) fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Writes a day number as `YYYY-MM-DD` (years 1000–9999) without allocating.
pub(crate) fn format_date(day: i32, out: &mut [u8; 10]) {
    let (y, m, d) = civil_from_days(day);
    let digits = |v: u32, buf: &mut [u8]| {
        let mut v = v;
        for b in buf.iter_mut().rev() {
            *b = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    digits(y as u32, &mut out[0..4]);
    out[4] = b'-';
    digits(m, &mut out[5..7]);
    out[7] = b'-';
    digits(d, &mut out[8..10]);
}

/// One past inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HistRow {
    pub day: i32,
    pub department: Department,
    pub mode: Mode,
}

/// Annual probability of an on-site market check per credit class (the default policy ratios).
const MARKET_ONSITE: [f64; 4] = [0.03, 0.10, 0.30, 0.80];
/// Per permit slot (see `model::PERMITS`): annual probability of an on-site ecology check.
const ECOLOGY_ONSITE: [f64; 5] = [0.50, 0.20, 0.05, 0.01, 0.10];

/// Draws an enterprise's inspections in `window` (days, half-open); `emit` receives each.
pub(crate) fn inspections(
    d: &mut Draw,
    r: &EntRow,
    window: (i32, i32),
    mut emit: impl FnMut(HistRow),
) {
    let (from, to) = window;
    let span = (to - from).max(1) as u64;
    let day = |d: &mut Draw| from + d.below(span) as i32;
    let class = r.true_class;
    let mut market_onsite = u32::from(d.chance(MARKET_ONSITE[class.index()]));
    if class == CreditClass::D && d.chance(0.3) {
        market_onsite += 1;
    }
    for _ in 0..market_onsite {
        emit(HistRow {
            day: day(d),
            department: Department::Market,
            mode: Mode::Onsite,
        });
    }
    if d.chance(0.05) {
        emit(HistRow {
            day: day(d),
            department: Department::Market,
            mode: Mode::NonSite,
        });
    }
    let penalised = r.env_penalties_24m.unwrap_or(0) > 0;
    let eco_onsite =
        u32::from(d.chance(ECOLOGY_ONSITE[r.permit])) + u32::from(penalised && d.chance(0.5));
    for _ in 0..eco_onsite {
        emit(HistRow {
            day: day(d),
            department: Department::Ecology,
            mode: Mode::Onsite,
        });
    }
    let eco_offsite = match (r.permit, r.online_monitoring) {
        (0, Some(true)) => 1 + d.below(3) as u32,
        (1, _) => u32::from(d.chance(0.10)),
        _ => 0,
    };
    for _ in 0..eco_offsite {
        emit(HistRow {
            day: day(d),
            department: Department::Ecology,
            mode: Mode::NonSite,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips() {
        // Fixed points: the epoch, 2000-03-01 = day 11017, 2024-02-29 = day 19782 (both by
        // counting: 30 years of 365 days + 7 leap days + 59 days = 11017).
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        for day in -800_000..800_000 {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        let mut buf = [0u8; 10];
        format_date(19_782, &mut buf);
        assert_eq!(&buf, b"2024-02-29");
    }

    #[test]
    fn months_and_windows() {
        let m = Month::parse("2026-03").unwrap();
        assert_eq!(
            m.minus(12),
            Month {
                year: 2025,
                month: 3
            }
        );
        assert_eq!(
            m.minus(3),
            Month {
                year: 2025,
                month: 12
            }
        );
        let (from, to) = m.history_window();
        assert_eq!(from, days_from_civil(2025, 3, 1));
        assert_eq!(to, days_from_civil(2026, 3, 1));
        assert_eq!(m.to_string(), "2026-03");
        for bad in ["2026-3", "26-03", "2026-00", "abcd-ef", "", "2026-03-01"] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
    }
}
