//! The target column of training and evaluation: deciding whether it is binary (good/bad) or the
//! ordinal credit classes A < B < C < D, and turning its cells into labels (binary: 0 good, 1 bad;
//! classes: 0..=3 for A..D) and into the good/bad weights binning uses.

use crate::schema::{CreditClass, norm, parse_bool};

use super::model::TargetKind;

/// Decides the target's kind from its (trimmed, non-empty) values.
///
/// - `bad` given → binary, that value is bad and every other value good;
/// - every value a credit class (`A`, `B类`, `信用风险高` …) → classes;
/// - exactly two distinct values that read as a boolean or as 0/1 (`true`/`false`, `1`/`0`,
///   `是`/`否`, `1.0`/`0.0`) → binary, the true/1 value is bad; two values one of which is `bad`
///   → that one is bad;
/// - anything else → `Err` with a message for the user.
pub fn detect(values: &[&str], bad: Option<&str>) -> Result<TargetKind, String> {
    let mut distinct: Vec<String> = values.iter().map(|v| norm(v)).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let shown = || {
        let mut d: Vec<String> = distinct.iter().take(8).map(|s| format!("{s:?}")).collect();
        if distinct.len() > 8 {
            d.push("…".into());
        }
        d.join(", ")
    };
    if let Some(b) = bad {
        let b = norm(b);
        if !distinct.contains(&b) {
            return Err(format!(
                "the bad value {b:?} does not occur in the target (values: {})",
                shown()
            ));
        }
        if distinct.len() < 2 {
            return Err(format!("the target has only the value {b:?}"));
        }
        return Ok(TargetKind::Binary { bad: b });
    }
    if distinct.is_empty() {
        return Err("the target column has no value".into());
    }
    if values.iter().all(|v| CreditClass::parse(v).is_some()) {
        let classes: Vec<usize> = values
            .iter()
            .filter_map(|v| CreditClass::parse(v).map(|c| c.index()))
            .collect();
        let low = classes.iter().any(|&c| c <= 1);
        let high = classes.iter().any(|&c| c >= 2);
        if !(low && high) {
            return Err(
                "credit classes need rows of A or B and rows of C or D to fit the C/D vs A/B score"
                    .into(),
            );
        }
        return Ok(TargetKind::Classes);
    }
    if distinct.len() == 2 {
        let truth = |s: &str| {
            parse_bool(s).or_else(|| match crate::table::cells::parse_number(s).ok_or(()) {
                Ok(1.0) => Some(true),
                Ok(0.0) => Some(false),
                _ => None,
            })
        };
        match (truth(&distinct[0]), truth(&distinct[1])) {
            (Some(a), Some(b)) if a != b => {
                let bad = if a { &distinct[0] } else { &distinct[1] };
                return Ok(TargetKind::Binary { bad: bad.clone() });
            }
            _ => {}
        }
        if let Some(b) = distinct.iter().find(|d| *d == "bad") {
            return Ok(TargetKind::Binary { bad: b.clone() });
        }
        return Err(format!(
            "the target has two values ({}): say which one is bad (--bad)",
            shown()
        ));
    }
    Err(format!(
        "the target has {} distinct values ({}); expected two (good/bad) or the credit classes A–D",
        distinct.len(),
        shown()
    ))
}

/// Label of one target value: binary 0 good / 1 bad, classes 0..=3; `None` when the value is not
/// a credit class of a class target.
pub fn label(kind: &TargetKind, value: &str) -> Option<usize> {
    match kind {
        TargetKind::Binary { bad } => Some(usize::from(norm(value) == *bad)),
        TargetKind::Classes => CreditClass::parse(value).map(|c| c.index()),
    }
}

/// Good and bad weight of a label (see `woe::Stats`): binary (1, 0) or (0, 1); class c
/// (3 − c, c).
pub fn weights(kind: &TargetKind, label: usize) -> (f64, f64) {
    match kind {
        TargetKind::Binary { .. } => {
            if label == 1 {
                (0.0, 1.0)
            } else {
                (1.0, 0.0)
            }
        }
        TargetKind::Classes => ((3 - label) as f64, label as f64),
    }
}

/// Whether a label counts as bad for AUC, KS and Gini: bad (binary) or C/D (classes).
pub fn is_bad(kind: &TargetKind, label: usize) -> bool {
    match kind {
        TargetKind::Binary { .. } => label == 1,
        TargetKind::Classes => label >= 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(
            detect(&["A类", "B", "D", "信用风险较高"], None),
            Ok(TargetKind::Classes)
        );
        assert!(detect(&["A", "B"], None).unwrap_err().contains("C or D"));
        assert_eq!(
            detect(&["0", "1", "1"], None),
            Ok(TargetKind::Binary { bad: "1".into() })
        );
        assert_eq!(
            detect(&["1.0", "0.0"], None),
            Ok(TargetKind::Binary { bad: "1.0".into() })
        );
        assert_eq!(
            detect(&["good", "bad"], None),
            Ok(TargetKind::Binary { bad: "bad".into() })
        );
        assert!(detect(&["x", "y"], None).unwrap_err().contains("--bad"));
        assert_eq!(
            detect(&["x", "y", "z"], Some("Y")),
            Ok(TargetKind::Binary { bad: "y".into() })
        );
        assert!(
            detect(&["x", "y"], Some("w"))
                .unwrap_err()
                .contains("does not occur")
        );
        assert!(
            detect(&["1", "2", "3"], None)
                .unwrap_err()
                .contains("3 distinct")
        );
    }

    #[test]
    fn labels_and_weights() {
        let k = TargetKind::Classes;
        assert_eq!(label(&k, "C类"), Some(2));
        assert_eq!(label(&k, "E"), None);
        assert_eq!(weights(&k, 0), (3.0, 0.0));
        assert_eq!(weights(&k, 2), (1.0, 2.0));
        assert!(is_bad(&k, 2) && !is_bad(&k, 1));
        let b = TargetKind::Binary { bad: "y".into() };
        assert_eq!(label(&b, " Y "), Some(1));
        assert_eq!(label(&b, "n"), Some(0));
        assert_eq!(weights(&b, 1), (0.0, 1.0));
    }
}
