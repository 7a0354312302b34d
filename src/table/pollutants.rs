//! Loading the pollutant table (应税污染物和当量值表, `data/pollutants.csv`, embedded at build time)
//! from its CSV text into the scoring kernels' lookup (`score::pollutants::Pollutants`): the I/O
//! edge of that table, so that `score/` reads no table internals.

use std::sync::OnceLock;

use crate::schema::Medium;
use crate::score::pollutants::{Pollutant, Pollutants, WaterClass};
use crate::table::read::split_csv_record as split_csv_line;

/// The embedded pollutant table (copy of `reference/pollutants.csv`).
pub const POLLUTANTS_CSV: &str = include_str!("../../data/pollutants.csv");

impl Pollutants {
    /// The table of `data/pollutants.csv`, parsed once.
    pub fn builtin() -> &'static Pollutants {
        static TABLE: OnceLock<Pollutants> = OnceLock::new();
        TABLE.get_or_init(|| {
            // The embedded CSV is checked by the unit test `builtin_table_has_105_pollutants`.
            Pollutants::from_csv(POLLUTANTS_CSV).expect("the embedded pollutant table is valid")
        })
    }

    /// Parses a table with the columns `code,name_zh,medium,water_class,equivalent_kg`.
    /// Returns a description of the first bad line on failure.
    pub fn from_csv(text: &str) -> std::result::Result<Pollutants, String> {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header = lines.next().ok_or("empty pollutant table")?;
        if split_csv_line(header) != ["code", "name_zh", "medium", "water_class", "equivalent_kg"] {
            return Err(format!("unexpected header {header:?}"));
        }
        let mut list = Vec::new();
        for (n, line) in lines.enumerate() {
            let f = split_csv_line(line);
            let bad = |what: &str| format!("line {}: {what}: {line:?}", n + 2);
            if f.len() != 5 {
                return Err(bad("expected 5 fields"));
            }
            let medium = Medium::parse(&f[2]).ok_or_else(|| bad("unknown medium"))?;
            let water_class = match (medium, f[3].trim()) {
                (Medium::Air, "") => None,
                (Medium::Water, "1") => Some(WaterClass::One),
                (Medium::Water, "2") => Some(WaterClass::Two),
                _ => return Err(bad("water_class must be 1 or 2 for water, empty for air")),
            };
            let equivalent_kg: f64 = f[4]
                .trim()
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite() && *x > 0.0)
                .ok_or_else(|| bad("equivalent_kg must be a number > 0"))?;
            let code = f[0].trim().to_owned();
            list.push(Pollutant {
                oxygen_demand_group: medium == Medium::Water
                    && matches!(code.as_str(), "cod" | "bod5" | "toc"),
                code,
                name_zh: f[1].trim().to_owned(),
                medium,
                water_class,
                equivalent_kg,
            });
        }
        Pollutants::from_list(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_tables_are_refused() {
        let h = "code,name_zh,medium,water_class,equivalent_kg\n";
        assert!(Pollutants::from_csv(&format!("{h}x,甲,air,,0\n")).is_err());
        assert!(Pollutants::from_csv(&format!("{h}x,甲,air,1,1\n")).is_err());
        assert!(Pollutants::from_csv(&format!("{h}x,甲,soil,,1\n")).is_err());
        assert!(Pollutants::from_csv(&format!("{h}x,甲,air,,1\ny,甲,air,,2\n")).is_err());
        assert!(Pollutants::from_csv("a,b\n").is_err());
    }
}
