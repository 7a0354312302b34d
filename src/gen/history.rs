//! Inspection history of the synthetic enterprises (SPEC §1.3): the reference month (a
//! `crate::date::Month` of 1900–9999), its 12-month window in days, and the per-enterprise draws
//! of past inspections.
//! Market checks follow the enterprise's credit class at the default policy ratios (A 3 %, B 10 %,
//! C 30 %, D 80 % a year); ecology checks follow its permit class, with off-site checks for key
//! permit holders that are connected to automatic monitoring.

use super::draw::Draw;
use super::model::EntRow;
use crate::date::{Date, Month};
use crate::error::{Error, Result};
use crate::schema::{CreditClass, Department, Mode};

/// Parses the `YYYY-MM` month a history is generated for, of the years 1900–9999 (the dates of
/// its 12-month window are then four-digit years Excel can show).
///
/// ```
/// use spotcheck::r#gen::{Month, parse_month};
/// assert_eq!(parse_month("2026-06").unwrap(), Month::new(2026, 6).unwrap());
/// assert!(parse_month("2026-13").is_err());
/// assert!(parse_month("2026/06").is_err());
/// assert!(parse_month("1850-01").is_err());
/// ```
pub fn parse_month(s: &str) -> Result<Month> {
    Month::parse(s)
        .filter(|m| m.year() >= 1900)
        .ok_or_else(|| Error::Argument {
            argument: "month".into(),
            message: format!("{s:?} is not a month written YYYY-MM, e.g. 2026-06"),
        })
}

/// The history window of `month` as days since 1970-01-01: `[first day 12 months earlier, first
/// day)`. Generated history dates lie in it.
pub(crate) fn history_window(month: Month) -> (i32, i32) {
    let days = |d: Date| {
        // Dates of months 0001-01..=9999-12 are within ±4 million days.
        d.to_days() as i32
    };
    (days(month.cooldown_start(12)), days(month.first_day()))
}

/// Writes a day number as `YYYY-MM-DD` (years 1–9999) without allocating.
pub(crate) fn format_date(day: i32, out: &mut [u8; 10]) {
    let date = Date::from_days(i64::from(day));
    let digits = |v: u32, buf: &mut [u8]| {
        let mut v = v;
        for b in buf.iter_mut().rev() {
            *b = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    digits(u32::from(date.year().unsigned_abs()), &mut out[0..4]);
    out[4] = b'-';
    digits(u32::from(date.month()), &mut out[5..7]);
    out[7] = b'-';
    digits(u32::from(date.day()), &mut out[8..10]);
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
    fn dates_print_as_iso() {
        let mut buf = [0u8; 10];
        // 2024-02-29 is day 19782: 54 years of 365 days + 13 leap days + 59 days.
        format_date(19_782, &mut buf);
        assert_eq!(&buf, b"2024-02-29");
        for day in (-25_567..2_932_896).step_by(997) {
            format_date(day, &mut buf);
            assert_eq!(
                std::str::from_utf8(&buf).unwrap(),
                Date::from_days(i64::from(day)).to_string()
            );
        }
    }

    #[test]
    fn months_and_windows() {
        let m = parse_month("2026-03").unwrap();
        let (from, to) = history_window(m);
        assert_eq!(from, Date::new(2025, 3, 1).unwrap().to_days() as i32);
        assert_eq!(to, Date::new(2026, 3, 1).unwrap().to_days() as i32);
        assert_eq!(to - from, 365);
        assert_eq!(m.to_string(), "2026-03");
        assert!(parse_month("1900-01").is_ok());
        for bad in [
            "2026-3",
            "26-03",
            "2026-00",
            "abcd-ef",
            "",
            "2026-03-01",
            "1899-12",
            "0001-01",
        ] {
            let err = parse_month(bad).unwrap_err().to_string();
            assert!(err.contains("YYYY-MM, e.g. 2026-06"), "{bad}: {err}");
        }
    }
}
