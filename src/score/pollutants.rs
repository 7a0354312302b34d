//! The taxable pollutants and their 污染当量值 (pollution-equivalent values, kg) of the
//! Environmental Protection Tax Law's 应税污染物和当量值表 (DOMAIN.md §4): 44 air and 61 water
//! pollutants from `data/pollutants.csv` (embedded at build time and parsed at the edge, in
//! `table::pollutants`; this file is the pure lookup). A pollutant is named in an
//! emissions table by its code (`cod`) or Chinese name (`化学需氧量(CODcr)`), unique within its
//! medium; the name without its parenthesis (`化学需氧量`) and the parenthesis alone (`CODcr`) are
//! accepted when they too are unique. Water pollutants carry their class (第一类 / 第二类, GB
//! 8978-1996) and whether they belong to the COD/BOD5/TOC group of which only one is taxed.

use std::collections::HashMap;

use crate::schema::{Medium, norm};

/// Dense index of a pollutant in [`Pollutants::builtin`] (the CSV's row order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PollutantId(pub u16);

/// 第一类 / 第二类 water pollutants (GB 8978-1996): top 5 and top 3 per outlet are taxed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaterClass {
    One,
    Two,
}

/// One taxable pollutant.
#[derive(Debug, Clone, PartialEq)]
pub struct Pollutant {
    /// Short code, e.g. `so2`, `cod`, `hg`.
    pub code: String,
    /// Chinese name as in the law's table, e.g. `化学需氧量(CODcr)`.
    pub name_zh: String,
    pub medium: Medium,
    /// `Some` for water pollutants.
    pub water_class: Option<WaterClass>,
    /// 污染当量值 in kg: pe = amount_kg / equivalent_kg.
    pub equivalent_kg: f64,
    /// COD, BOD5 or TOC: of these only the largest is taxed per outlet (tax law 附表二 note).
    pub oxygen_demand_group: bool,
}

/// The pollutant table with lookups by code or name within a medium.
#[derive(Debug)]
pub struct Pollutants {
    list: Vec<Pollutant>,
    /// Per medium (`Medium::index()`): exact codes and names, then their normalised forms.
    exact: [HashMap<String, PollutantId>; 2],
    normalised: [HashMap<String, PollutantId>; 2],
}

impl Pollutants {
    /// The lookup table over a list of pollutants (from the law's table, parsed at the edge by
    /// `crate::table::pollutants`). Codes and full Chinese names must be unique within a medium;
    /// returns a description of the first clash.
    pub fn from_list(list: Vec<Pollutant>) -> std::result::Result<Pollutants, String> {
        if list.len() > u16::MAX as usize {
            return Err("too many pollutants".into());
        }
        let mut exact: [HashMap<String, PollutantId>; 2] = Default::default();
        let mut normalised: [HashMap<String, PollutantId>; 2] = Default::default();
        // Primary spellings: the code and the full Chinese name must be unique within a medium.
        for (i, p) in list.iter().enumerate() {
            let id = PollutantId(i as u16);
            let m = p.medium.index();
            for key in [p.code.clone(), p.name_zh.clone()] {
                if exact[m]
                    .insert(key.clone(), id)
                    .is_some_and(|prev| prev != id)
                {
                    return Err(format!("{key:?} names two {} pollutants", p.medium));
                }
                normalised[m].insert(norm(&key), id);
            }
        }
        // Secondary spellings: the name without its parenthesis and the parenthesis alone, kept
        // only when they name one pollutant of the medium and are not a primary spelling.
        let mut secondary: [HashMap<String, Option<PollutantId>>; 2] = Default::default();
        for (i, p) in list.iter().enumerate() {
            let id = PollutantId(i as u16);
            let m = p.medium.index();
            if let Some((base, rest)) = p.name_zh.split_once(['(', '（']) {
                let inner = rest.trim_end_matches([')', '）']);
                for alias in [base, inner] {
                    let key = norm(alias);
                    if key.is_empty() || normalised[m].contains_key(&key) {
                        continue;
                    }
                    secondary[m]
                        .entry(key)
                        .and_modify(|v| {
                            if *v != Some(id) {
                                *v = None
                            }
                        })
                        .or_insert(Some(id));
                }
            }
        }
        for (m, map) in secondary.into_iter().enumerate() {
            for (k, v) in map {
                if let Some(id) = v {
                    normalised[m].insert(k, id);
                }
            }
        }
        Ok(Pollutants {
            list,
            exact,
            normalised,
        })
    }

    /// Finds a pollutant of `medium` by code or Chinese name (trimmed, case-insensitive,
    /// full-width brackets accepted). Allocation-free when the spelling is exact.
    ///
    /// ```
    /// use spotcheck::schema::Medium;
    /// use spotcheck::score::pollutants::Pollutants;
    /// let t = Pollutants::builtin();
    /// let cod = t.lookup(Medium::Water, "化学需氧量(CODcr)").unwrap();
    /// assert_eq!(t.lookup(Medium::Water, "cod"), Some(cod));
    /// assert_eq!(t.lookup(Medium::Water, "化学需氧量"), Some(cod));
    /// assert_eq!(t.lookup(Medium::Air, "cod"), None);
    /// ```
    pub fn lookup(&self, medium: Medium, name: &str) -> Option<PollutantId> {
        let m = medium.index();
        if let Some(&id) = self.exact[m].get(name) {
            return Some(id);
        }
        self.normalised[m].get(&norm(name)).copied()
    }

    /// The pollutant of an id. Ids come from this table, so indexing cannot fail for them.
    #[inline]
    pub fn get(&self, id: PollutantId) -> &Pollutant {
        &self.list[id.0 as usize]
    }

    /// 污染当量值 (kg per pollution equivalent).
    #[inline]
    pub fn equivalent_kg(&self, id: PollutantId) -> f64 {
        self.list[id.0 as usize].equivalent_kg
    }

    /// Number of pollutants.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether the table is empty (never for the builtin table).
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// All pollutants in table order.
    pub fn iter(&self) -> impl Iterator<Item = (PollutantId, &Pollutant)> {
        self.list
            .iter()
            .enumerate()
            .map(|(i, p)| (PollutantId(i as u16), p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_has_105_pollutants() {
        let t = Pollutants::builtin();
        // DOMAIN.md §4.1: 44 air pollutants; §4.2: 10 第一类 + 51 第二类 water pollutants.
        assert_eq!(t.len(), 105);
        let count = |f: &dyn Fn(&Pollutant) -> bool| t.iter().filter(|(_, p)| f(p)).count();
        assert_eq!(count(&|p| p.medium == Medium::Air), 44);
        assert_eq!(count(&|p| p.water_class == Some(WaterClass::One)), 10);
        assert_eq!(count(&|p| p.water_class == Some(WaterClass::Two)), 51);
        assert_eq!(count(&|p| p.oxygen_demand_group), 3);
    }

    #[test]
    fn lookups_by_code_and_name() {
        let t = Pollutants::builtin();
        let e = |m, s| t.get(t.lookup(m, s).unwrap()).equivalent_kg;
        // DOMAIN.md §4.1 / §4.2 values.
        assert_eq!(e(Medium::Air, "so2"), 0.95);
        assert_eq!(e(Medium::Air, "二氧化硫"), 0.95);
        assert_eq!(e(Medium::Air, "SO2"), 0.95);
        assert_eq!(e(Medium::Air, " 甲醇 "), 0.67);
        assert_eq!(e(Medium::Water, "总汞"), 0.0005);
        assert_eq!(e(Medium::Water, "生化需氧量（BOD5）"), 0.5); // full-width brackets
        assert_eq!(e(Medium::Water, "BOD5"), 0.5);
        assert_eq!(e(Medium::Water, "2,4-二硝基氯苯"), 0.02); // quoted in the CSV
        assert_eq!(e(Medium::Water, "2,4,6-三氯酚"), 0.02);
        // Same Chinese name, different medium and value (氟化物: air 0.87, water 0.5).
        assert_eq!(e(Medium::Air, "氟化物"), 0.87);
        assert_eq!(e(Medium::Water, "氟化物"), 0.5);
        // 苯并(a)芘: air 0.000002, water 0.0000003.
        assert_eq!(e(Medium::Air, "苯并(a)芘"), 0.000002);
        assert_eq!(e(Medium::Water, "苯并(a)芘"), 0.0000003);
        assert_eq!(t.lookup(Medium::Water, "so2"), None);
        assert_eq!(t.lookup(Medium::Air, "VOCs"), None); // not in the law (DOMAIN.md §4.1)
        assert_eq!(t.lookup(Medium::Water, "总氮"), None); // not in the law (DOMAIN.md §4.2)
        // "以P计" would name two pollutants (单质磷, 有机磷农药): ambiguous, so not accepted.
        assert_eq!(t.lookup(Medium::Water, "以P计"), None);
        assert!(t.lookup(Medium::Water, "单质磷").is_some());
        let hg = t.get(t.lookup(Medium::Water, "hg").unwrap());
        assert_eq!(hg.water_class, Some(WaterClass::One));
        assert!(
            t.get(t.lookup(Medium::Water, "toc").unwrap())
                .oxygen_demand_group
        );
        assert!(
            !t.get(t.lookup(Medium::Water, "nh3n").unwrap())
                .oxygen_demand_group
        );
    }
}
