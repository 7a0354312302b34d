//! Calendar values without a time zone, one type each for the whole crate: `Date`, a day
//! (`YYYY-MM-DD` printing, the lenient parsing of cells as bureaus write them, day arithmetic,
//! adding years — a 29 February moves to 28 February — and Excel serial numbers, days since
//! 1899-12-30), and `Month`, the `YYYY-MM` a draw is for (SPEC §4, part of every draw's hash),
//! which parses strictly and knows the windows eligibility and the generator need: its first day,
//! 1 January of its year, and the first day of the month `n` months earlier. Inspection history,
//! results, the positive list's validity, XLSX date cells, sampling and the generator all use them.
//! A `Date` is four bytes (history indexes hold many) and both types order chronologically.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A proleptic Gregorian calendar date. `new`, `parse` and `parse_cell` make real days of the
/// years 1–9999 (the parsers only 1000–9999); `add_years` and `from_days` may leave that range,
/// saturating at the ends of the `i16` year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    // Field order makes the derived ordering chronological.
    year: i16,
    month: u8,
    day: u8,
}

/// A calendar month, 0001-01 to 9999-12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i16,
    month: u8,
}

impl Date {
    /// 0001-01-01, the first day of the first `Month`: cooldown windows reaching before it start
    /// here. No date read from a file is earlier.
    pub const MIN: Date = Date {
        year: 1,
        month: 1,
        day: 1,
    };

    /// The earliest and latest dates the type holds (`from_days` clamps to them).
    const FIRST: Date = Date {
        year: i16::MIN,
        month: 1,
        day: 1,
    };
    const LAST: Date = Date {
        year: i16::MAX,
        month: 12,
        day: 31,
    };

    /// A date if the fields form a real day of the years 1–9999.
    pub const fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let Some(m) = Month::new(year, month) else {
            return None;
        };
        if day < 1 || day > days_in_month(m.year, m.month) as u32 {
            return None;
        }
        // 1 ≤ day ≤ 31 by the check above.
        Some(Date {
            year: m.year,
            month: m.month,
            day: day as u8,
        })
    }

    /// The year.
    pub fn year(self) -> i16 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, 1–31.
    pub fn day(self) -> u8 {
        self.day
    }

    /// Parses `YYYY-MM-DD` (also `YYYY/MM/DD` and `YYYY.MM.DD`, one-digit month/day allowed);
    /// a trailing time (`2026-01-05 00:00:00`, `T…`) is ignored.
    ///
    /// ```
    /// use spotcheck::date::Date;
    /// assert_eq!(Date::parse("2026/2/3").unwrap().to_string(), "2026-02-03");
    /// assert!(Date::parse("2024-02-29").is_some());
    /// assert!(Date::parse("2026-02-29").is_none());
    /// ```
    pub fn parse(s: &str) -> Option<Date> {
        let s = s.trim();
        let s = s.split([' ', 'T']).next()?;
        let mut it = s.split(['-', '/', '.']);
        let y: i32 = it.next()?.parse().ok()?;
        let m: u32 = it.next()?.parse().ok()?;
        let d: u32 = it.next()?.parse().ok()?;
        if it.next().is_some() || !(1000..=9999).contains(&y) {
            return None;
        }
        Date::new(y, m, d)
    }

    /// Days since 1970-01-01 (negative before).
    pub fn to_days(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146097 + doe - 719468
    }

    /// The date `days` after 1970-01-01; days beyond the `i16` years clamp to their ends.
    pub fn from_days(days: i64) -> Date {
        let days = days.clamp(Date::FIRST.to_days(), Date::LAST.to_days());
        // Howard Hinnant's civil_from_days.
        let z = days + 719468;
        let era = if z >= 0 { z } else { z - 146096 } / 146097;
        let doe = z - era * 146097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        // The clamp keeps y within i16; m is 1–12 and d 1–31.
        Date {
            year: y as i16,
            month: m as u8,
            day: d as u8,
        }
    }

    /// The same day `n` years later; 29 February becomes 28 February in a common year.
    pub fn add_years(self, n: i32) -> Date {
        let year = i32::from(self.year)
            .saturating_add(n)
            .clamp(i32::from(i16::MIN), i32::from(i16::MAX));
        // Within i16 by the clamp.
        let year = year as i16;
        let day = self.day.min(days_in_month(year, self.month));
        Date {
            year,
            month: self.month,
            day,
        }
    }

    /// The Excel serial number (1900 date system) of this date.
    pub fn to_excel_serial(self) -> f64 {
        (self.to_days() - Date::EXCEL_EPOCH_DAYS) as f64
    }

    /// The date of an Excel serial number (fractions, i.e. times, are dropped). Serials outside
    /// Excel's own range (0 = 1899-12-30 … 2958465 = 9999-12-31; NaN) are clamped into it, so a
    /// hostile cell cannot overflow the arithmetic.
    pub fn from_excel_serial(serial: f64) -> Date {
        let serial = if serial.is_nan() {
            0.0
        } else {
            serial.clamp(0.0, 2_958_465.0)
        };
        Date::from_days(serial.floor() as i64 + Date::EXCEL_EPOCH_DAYS)
    }

    /// Parses a date cell as bureaus write them (SPEC §12): everything [`Date::parse`] reads,
    /// `2026年11月3日` (the `日` may be left out), `20261103`, full-width digits and separators,
    /// and Excel serial numbers of the years 1950–2099 (`46329`, as an XLSX date cell saved as a
    /// number shows; a bare year such as `2026` is not a serial).
    pub fn parse_cell(s: &str) -> Option<Date> {
        let s = s.trim();
        if let Some(d) = Date::parse(s) {
            return Some(d);
        }
        let norm: String = s
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
                '／' => '/',
                '－' => '-',
                '．' => '.',
                '\u{3000}' => ' ',
                c => c,
            })
            .collect();
        let s = norm.trim();
        if let Some(d) = Date::parse(s) {
            return Some(d);
        }
        if let Some((y, rest)) = s.split_once('年') {
            let (m, d) = rest.split_once('月')?;
            let d = d.trim().strip_suffix('日').unwrap_or(d.trim());
            let n = |t: &str| t.trim().parse::<u32>().ok();
            let y = i32::try_from(n(y)?)
                .ok()
                .filter(|y| (1000..=9999).contains(y))?;
            return Date::new(y, n(m)?, n(d)?);
        }
        if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
            let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
            let y = i32::try_from(n(0..4)?).ok().filter(|y| *y >= 1000)?;
            return Date::new(y, n(4..6)?, n(6..8)?);
        }
        let v: f64 = s.parse().ok()?;
        // 18264 = 1950-01-01, 73050 = 2099-12-31.
        (18_264.0..73_051.0)
            .contains(&v)
            .then(|| Date::from_excel_serial(v))
    }

    /// 1899-12-30 in days since 1970-01-01.
    const EXCEL_EPOCH_DAYS: i64 = -25569;
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Month {
    /// A month, or `None` outside 0001-01..=9999-12.
    pub const fn new(year: i32, month: u32) -> Option<Month> {
        if year < 1 || year > 9999 || month < 1 || month > 12 {
            return None;
        }
        // Both within their types by the check above.
        Some(Month {
            year: year as i16,
            month: month as u8,
        })
    }

    /// Parses `YYYY-MM` exactly (surrounding spaces allowed).
    ///
    /// ```
    /// use spotcheck::date::Month;
    /// let m = Month::parse("2026-12").unwrap();
    /// assert_eq!(m.to_string(), "2026-12");
    /// assert_eq!(m.cooldown_start(3).to_string(), "2026-09-01");
    /// assert!(Month::parse("2026-13").is_none());
    /// assert!(Month::parse("2026-1").is_none());
    /// ```
    pub fn parse(s: &str) -> Option<Month> {
        let b = s.trim().as_bytes();
        if b.len() != 7 || b[4] != b'-' {
            return None;
        }
        Month::new(i32::from(digits(&b[0..4])?), u32::from(digits(&b[5..7])?))
    }

    /// The year, 1–9999.
    pub fn year(self) -> i16 {
        self.year
    }

    /// The month of the year, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The first day of the month (history rows from this day on are ignored by eligibility).
    pub fn first_day(self) -> Date {
        Date {
            year: self.year,
            month: self.month,
            day: 1,
        }
    }

    /// 1 January of the month's year (start of the yearly-cap window, §4.1).
    pub fn year_start(self) -> Date {
        Date {
            year: self.year,
            month: 1,
            day: 1,
        }
    }

    /// The month `n` months earlier, or `None` before 0001-01.
    pub fn minus(self, n: u32) -> Option<Month> {
        // year ≥ 1, so the index is not negative.
        let index = u32::from(self.year.unsigned_abs()) * 12 + u32::from(self.month) - 1;
        let back = index.checked_sub(n)?;
        Month::new(i32::try_from(back / 12).ok()?, back % 12 + 1)
    }

    /// First day of the window of `months` months before this month: for 2026-12 and 3 months,
    /// 2026-09-01 (the cooldown of §4.1; 12 months is the generator's history window). Windows
    /// reaching before year 1 start at `Date::MIN`.
    pub fn cooldown_start(self, months: u32) -> Date {
        self.minus(months).map_or(Date::MIN, Month::first_day)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = Error;

    fn from_str(s: &str) -> Result<Month, Error> {
        Month::parse(s).ok_or_else(|| Error::Argument {
            argument: "month".into(),
            message: format!("{s:?} is not a month written YYYY-MM, such as 2026-12"),
        })
    }
}

/// The value of a run of ASCII digits, or `None` if one byte is not a digit.
fn digits(b: &[u8]) -> Option<u16> {
    b.iter().try_fold(0u16, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + u16::from(d - b'0'))
    })
}

const fn is_leap(y: i16) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Number of days in a month (0 for a month that is not 1–12).
const fn days_in_month(year: i16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_as_bureaus_write_them() {
        let d = Date::new(2026, 11, 3);
        for t in [
            "2026-11-03",
            "2026/11/3",
            "2026年11月3日",
            "2026年11月3",
            " 2026 年 11 月 3 日 ",
            "２０２６年１１月３日",
            "２０２６／１１／３",
            "20261103",
            "46329",
            "46329.5",
            "2026-11-03 08:00:00",
        ] {
            assert_eq!(Date::parse_cell(t), d, "{t}");
        }
        for t in [
            "2026",
            "2026年13月1日",
            "46329x",
            "",
            "1e9",
            "NaN",
            "3/11/2026",
        ] {
            assert_eq!(Date::parse_cell(t), None, "{t}");
        }
        // Out-of-range serials clamp instead of overflowing.
        assert_eq!(Date::from_excel_serial(f64::MAX).to_string(), "9999-12-31");
        assert_eq!(Date::from_excel_serial(f64::NAN).to_string(), "1899-12-30");
    }

    #[test]
    fn parse_print_and_arithmetic() {
        let d = Date::parse("2026-12-01").unwrap();
        assert_eq!(d.to_string(), "2026-12-01");
        assert_eq!(Date::parse("2026/2/3 08:00:00"), Date::new(2026, 2, 3));
        assert_eq!(Date::parse("2026-02-29"), None);
        assert_eq!(Date::parse("2026-13-01"), None);
        assert_eq!(Date::parse("26-1-1"), None);
        assert_eq!(Date::new(1970, 1, 1).unwrap().to_days(), 0);
        // 2000-03-01 is day 11017 (Unix epoch days, e.g. `date -d 2000-03-01 +%s` / 86400).
        assert_eq!(Date::new(2000, 3, 1).unwrap().to_days(), 11017);
        for days in [-800_000, -1, 0, 59, 11016, 20_000, 2_000_000] {
            assert_eq!(Date::from_days(days).to_days(), days);
        }
        assert_eq!(
            Date::parse("2024-02-29").unwrap().add_years(3).to_string(),
            "2027-02-28"
        );
        assert_eq!(
            Date::parse("2024-02-29").unwrap().add_years(4).to_string(),
            "2028-02-29"
        );
        // Excel shows serial 46357 as 2026-12-01.
        assert_eq!(d.to_excel_serial(), 46357.0);
        assert_eq!(Date::from_excel_serial(46357.75), d);
    }

    #[test]
    fn compact_and_clamped() {
        assert_eq!(std::mem::size_of::<Date>(), 4);
        assert_eq!(std::mem::size_of::<Month>(), 4);
        // Years outside 1–9999 are not made by new; far day numbers clamp to the i16 years.
        assert_eq!(Date::new(0, 1, 1), None);
        assert_eq!(Date::new(10_000, 1, 1), None);
        assert_eq!(Date::new(2026, 257, 1), None);
        assert_eq!(Date::new(2026, 1, 257), None);
        assert_eq!(Date::from_days(i64::MAX).to_string(), "32767-12-31");
        assert_eq!(Date::from_days(i64::MIN), Date::from_days(-100_000_000));
        assert_eq!(Date::from_days(i64::MIN).year(), i16::MIN);
        // A listing in 9999 expires past it (as before the dates became compact).
        let late = Date::new(9999, 6, 1).unwrap();
        assert_eq!(late.add_years(3).to_string(), "10002-06-01");
        assert_eq!(late.add_years(i32::MAX).year(), i16::MAX);
        // The lenient parse reads what the old strict sampling date refused, and refuses the rest.
        let d = Date::parse(" 2026-09-01 ").unwrap();
        assert_eq!((d.year(), d.month(), d.day()), (2026, 9, 1));
        assert_eq!(Date::parse("2026/09/01"), Some(d));
        assert_eq!(Date::parse("2026-9-01"), Some(d));
        for bad in [
            "2026-09-31",
            "2026-00-10",
            "0000-01-01",
            "0999-01-01",
            "20260901",
            "2026-09-0x",
            "",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        // Leap years: 2000 is one (÷400), 1900 is not (÷100).
        assert!(Date::parse("2000-02-29").is_some());
        assert!(Date::parse("1900-02-29").is_none());
    }

    #[test]
    fn dates_order_chronologically() {
        let a = Date::parse("2025-12-31").unwrap();
        let b = Date::parse("2026-01-01").unwrap();
        let c = Date::parse("2026-10-02").unwrap();
        let e = Date::parse("2026-10-12").unwrap();
        assert!(a < b && b < c && c < e);
        assert!(Date::MIN < a);
        assert!(Month::parse("2025-12").unwrap() < Month::parse("2026-01").unwrap());
    }

    #[test]
    fn month_windows() {
        let m: Month = "2026-12".parse().unwrap();
        assert_eq!((m.year(), m.month()), (2026, 12));
        assert_eq!(m.first_day().to_string(), "2026-12-01");
        assert_eq!(m.year_start().to_string(), "2026-01-01");
        // SPEC §4.1's example: for 2026-12 the 3-month cooldown starts 2026-09-01.
        assert_eq!(m.cooldown_start(3).to_string(), "2026-09-01");
        assert_eq!(m.cooldown_start(0).to_string(), "2026-12-01");
        // Across a year boundary.
        let feb = Month::parse("2027-02").unwrap();
        assert_eq!(feb.cooldown_start(3).to_string(), "2026-11-01");
        assert_eq!(feb.cooldown_start(14).to_string(), "2025-12-01");
        assert_eq!(feb.minus(12), Month::new(2026, 2));
        assert_eq!(
            Month::parse("0001-02").unwrap().cooldown_start(5),
            Date::MIN
        );
        assert_eq!(Month::parse("0001-02").unwrap().minus(1), Month::new(1, 1));
        assert_eq!(Month::parse("0001-02").unwrap().minus(2), None);
        assert_eq!(Month::parse("9999-12").unwrap().minus(u32::MAX), None);
        for bad in [
            "2026-13",
            "2026-00",
            "0000-01",
            "2026-1",
            "26-03",
            "2026/06",
            "abcd-ef",
            "",
            "2026-03-01",
        ] {
            assert_eq!(Month::parse(bad), None, "{bad}");
        }
        assert_eq!(Month::parse(" 2026-06 "), Month::new(2026, 6));
        let err = "2026-13".parse::<Month>().unwrap_err().to_string();
        assert!(
            err.contains("\"2026-13\"") && err.contains("YYYY-MM"),
            "{err}"
        );
    }
}
