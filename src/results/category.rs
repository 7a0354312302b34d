//! The result categories of an inspection (SPEC §9.1, 抽查结果): `data/result-categories.csv`,
//! compiled in, one source of truth — each with its code, Chinese and English name and its kind
//! (`compliant`, `violation`, or `out_of_scope`: the enterprise no longer does what was to be
//! checked). A result cell may give the code, the Chinese or the English name.

use std::sync::OnceLock;

/// The shipped table (copied from the project's reference `result-categories.csv`).
pub const CATEGORIES_CSV: &str = include_str!("../../data/result-categories.csv");

/// What a result means for the estimates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// 未发现问题: no problem found (y = 0).
    Compliant,
    /// A problem was found (y = 1).
    Violation,
    /// 不在抽查范围: the unit leaves the estimation sample (closed, deregistered, moved out …).
    OutOfScope,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        match s {
            "compliant" => Some(Kind::Compliant),
            "violation" => Some(Kind::Violation),
            "out_of_scope" => Some(Kind::OutOfScope),
            _ => None,
        }
    }
}

/// One result category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub code: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub kind: Kind,
}

/// Every category, in the table's order.
pub fn all() -> &'static [Category] {
    static TABLE: OnceLock<Vec<Category>> = OnceLock::new();
    TABLE.get_or_init(|| {
        CATEGORIES_CSV
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                // The shipped file is checked by a unit test: four fields, no quoting, known kinds.
                let f: Vec<&'static str> = l.trim_end_matches('\r').split(',').collect();
                Category {
                    code: f[0],
                    zh: f[1],
                    en: f[2],
                    kind: Kind::parse(f[3]).expect("data/result-categories.csv: a known kind"),
                }
            })
            .collect()
    })
}

/// The category whose code, Chinese or English name is `s` (surrounding spaces ignored; the
/// code and English name in any case). Returns its index in [`all`].
pub fn lookup(s: &str) -> Option<usize> {
    let s = s.trim();
    all()
        .iter()
        .position(|c| c.code.eq_ignore_ascii_case(s) || c.zh == s || c.en.eq_ignore_ascii_case(s))
}

/// What `RESULT_UNKNOWN` tells the user.
pub const EXPECTED: &str = "a result category of data/result-categories.csv: its code (e.g. no_problem), Chinese or English name";
