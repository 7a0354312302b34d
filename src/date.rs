//! Calendar dates without a time zone: `YYYY-MM-DD` parsing and printing, day arithmetic, adding
//! years (a 29 February moves to 28 February), and Excel serial numbers (days since 1899-12-30).
//! Inspection history, the positive list's validity and XLSX date cells all use it.

use std::fmt;

/// A proleptic Gregorian calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// A date if the fields form a real one.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        (1..=12).contains(&month).then_some(())?;
        (day >= 1 && day <= days_in_month(year, month)).then_some(Date { year, month, day })
    }

    /// Parses `YYYY-MM-DD` (also `YYYY/MM/DD` and `YYYY.MM.DD`, one-digit month/day allowed);
    /// a trailing time (`2026-01-05 00:00:00`, `T…`) is ignored.
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

    /// The date `days` after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        // Howard Hinnant's civil_from_days.
        let z = days + 719468;
        let era = if z >= 0 { z } else { z - 146096 } / 146097;
        let doe = z - era * 146097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i64::from(m <= 2);
        Date {
            year: y as i32,
            month: m,
            day: d,
        }
    }

    /// The same day `n` years later; 29 February becomes 28 February in a common year.
    pub fn add_years(self, n: i32) -> Date {
        let year = self.year + n;
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

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Number of days in a month.
pub fn days_in_month(year: i32, month: u32) -> u32 {
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
}
