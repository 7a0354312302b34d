//! Calendar values of a draw: `Month`, the `YYYY-MM` a draw is for (SPEC §4, also part of every
//! hash), and `Date`, a history row's `YYYY-MM-DD` (SPEC §1.3). Both parse strictly (four-digit
//! year, two-digit month and day, real calendar days) and order chronologically. A `Month` knows the
//! windows eligibility needs: its first day, 1 January of its year, and the first day of the month
//! `n` months earlier (the cooldown start).

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A calendar day, 0001-01-01 to 9999-12-31.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    // Field order makes the derived ordering chronological.
    year: u16,
    month: u8,
    day: u8,
}

/// A calendar month, 0001-01 to 9999-12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: u16,
    month: u8,
}

fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The value of a run of ASCII digits, or `None` if one byte is not a digit.
fn digits(b: &[u8]) -> Option<u16> {
    b.iter().try_fold(0u16, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + u16::from(d - b'0'))
    })
}

impl Date {
    /// The earliest date there is; cooldown windows reaching before it start here.
    pub const MIN: Date = Date {
        year: 1,
        month: 1,
        day: 1,
    };

    /// A date, or `None` when it is not a real calendar day in years 1..=9999.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let ok = (1..=9999).contains(&year) && day >= 1 && day <= days_in_month(year, month);
        ok.then_some(Date { year, month, day })
    }

    /// Parses `YYYY-MM-DD` exactly (surrounding spaces allowed).
    ///
    /// ```
    /// use spotcheck::sample::Date;
    /// assert!(Date::parse("2024-02-29").is_some());
    /// assert!(Date::parse("2026-02-29").is_none());
    /// assert!(Date::parse("2026-2-1").is_none());
    /// ```
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.trim().as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let month = u8::try_from(digits(&b[5..7])?).ok()?;
        let day = u8::try_from(digits(&b[8..10])?).ok()?;
        Date::new(digits(&b[0..4])?, month, day)
    }

    pub fn year(self) -> u16 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    pub fn day(self) -> u8 {
        self.day
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Month {
    /// A month, or `None` outside 0001-01..=9999-12.
    pub fn new(year: u16, month: u8) -> Option<Month> {
        ((1..=9999).contains(&year) && (1..=12).contains(&month)).then_some(Month { year, month })
    }

    /// Parses `YYYY-MM` exactly (surrounding spaces allowed).
    ///
    /// ```
    /// use spotcheck::sample::Month;
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
        Month::new(digits(&b[0..4])?, u8::try_from(digits(&b[5..7])?).ok()?)
    }

    pub fn year(self) -> u16 {
        self.year
    }

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
        let index = u32::from(self.year) * 12 + u32::from(self.month) - 1;
        let back = index.checked_sub(n)?;
        // back / 12 ≤ 9999 and back % 12 < 12, so both conversions hold.
        let year = u16::try_from(back / 12).ok()?;
        let month = u8::try_from(back % 12 + 1).ok()?;
        Month::new(year, month)
    }

    /// First day of the cooldown window of `months` months (§4.1): for 2026-12 and 3 months,
    /// 2026-09-01. Windows reaching before year 1 start at `Date::MIN`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_strictly() {
        let d = Date::parse(" 2026-09-01 ").unwrap();
        assert_eq!((d.year(), d.month(), d.day()), (2026, 9, 1));
        assert_eq!(d.to_string(), "2026-09-01");
        for bad in [
            "2026-09-31",
            "2026-00-10",
            "0000-01-01",
            "2026/09/01",
            "2026-9-01",
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
        assert!(a < b && b < c);
    }

    #[test]
    fn month_windows() {
        let m: Month = "2026-12".parse().unwrap();
        assert_eq!(m.first_day().to_string(), "2026-12-01");
        assert_eq!(m.year_start().to_string(), "2026-01-01");
        // SPEC §4.1's example: for 2026-12 the 3-month cooldown starts 2026-09-01.
        assert_eq!(m.cooldown_start(3).to_string(), "2026-09-01");
        assert_eq!(m.cooldown_start(0).to_string(), "2026-12-01");
        // Across a year boundary.
        let feb = Month::parse("2027-02").unwrap();
        assert_eq!(feb.cooldown_start(3).to_string(), "2026-11-01");
        assert_eq!(feb.cooldown_start(14).to_string(), "2025-12-01");
        assert_eq!(
            Month::parse("0001-02").unwrap().cooldown_start(5),
            Date::MIN
        );
        let err = "2026-13".parse::<Month>().unwrap_err().to_string();
        assert!(
            err.contains("\"2026-13\"") && err.contains("YYYY-MM"),
            "{err}"
        );
    }
}
