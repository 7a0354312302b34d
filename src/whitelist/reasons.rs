//! Why an enterprise left the 正面清单 (positive list) or waits for a place on it: one Chinese and
//! one English sentence per reason code. The ECO_* codes are the eight criteria of SPEC §3.5 (with
//! their "unknown" variants), one sentence per failed criterion; `NOT_IN_DATA`, `NOT_ELIGIBLE` and
//! `CAP_FULL` are the lifecycle's own. This is the only place these texts live (the scorer's
//! `score::reasons` has its own table until the two are merged).

use crate::schema::Lang;

/// One reason code and its sentences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReasonText {
    /// The code as written in the `reasons` column, e.g. `ECO_PENALTY`.
    pub code: &'static str,
    /// The criterion of SPEC §3.5 it belongs to (1–8), or 0 for the lifecycle's own codes.
    pub criterion: u8,
    /// English sentence.
    pub en: &'static str,
    /// Chinese sentence (the 移出 sheet shows these).
    pub zh: &'static str,
}

/// Enterprise on the previous list but absent from the scored table.
pub const NOT_IN_DATA: &str = "NOT_IN_DATA";
/// Not eligible according to the scored table, but no failed criterion was recorded.
pub const NOT_ELIGIBLE: &str = "NOT_ELIGIBLE";
/// Eligible, but its district's cap on listed permit holders is reached (waitlisted).
pub const CAP_FULL: &str = "CAP_FULL";

/// Every code, criteria of SPEC §3.5 in their order first.
pub const REASONS: &[ReasonText] = &[
    ReasonText {
        code: "ECO_NOT_ZJTX",
        criterion: 1,
        en: "not a 专精特新 enterprise (tier is none)",
        zh: "非专精特新企业",
    },
    ReasonText {
        code: "ECO_EMISSION_NOT_LOW",
        criterion: 2,
        en: "pollution equivalents are not below the low-emission threshold",
        zh: "污染物排放量不属于“排放量小”（污染当量数未低于阈值）",
    },
    ReasonText {
        code: "ECO_EMISSION_UNKNOWN",
        criterion: 2,
        en: "pollution equivalents are unknown",
        zh: "污染当量数未知，无法认定排放量小",
    },
    ReasonText {
        code: "ECO_RISK_NOT_LOW",
        criterion: 3,
        en: "environmental risk level (HJ 941) is above general",
        zh: "突发环境事件风险等级高于一般（较大或重大）",
    },
    ReasonText {
        code: "ECO_RISK_UNKNOWN",
        criterion: 3,
        en: "environmental risk level (HJ 941) is unknown",
        zh: "突发环境事件风险等级未知",
    },
    ReasonText {
        code: "ECO_PENALTY",
        criterion: 4,
        en: "administrative penalty for an environmental offence in the last 24 months",
        zh: "近24个月受到生态环境行政处罚",
    },
    ReasonText {
        code: "ECO_PENALTY_UNKNOWN",
        criterion: 4,
        en: "environmental penalties in the last 24 months are unknown",
        zh: "近24个月生态环境行政处罚情况未知",
    },
    ReasonText {
        code: "ECO_INCIDENT",
        criterion: 5,
        en: "environmental emergency incident in the last 24 months",
        zh: "近24个月发生突发环境事件",
    },
    ReasonText {
        code: "ECO_INCIDENT_UNKNOWN",
        criterion: 5,
        en: "environmental emergency incidents in the last 24 months are unknown",
        zh: "近24个月突发环境事件情况未知",
    },
    ReasonText {
        code: "ECO_PERMIT_UNKNOWN",
        criterion: 6,
        en: "pollutant discharge permit class is unknown",
        zh: "排污许可管理类别未知",
    },
    ReasonText {
        code: "ECO_NO_MONITORING",
        criterion: 7,
        en: "key-management permit holder without connected automatic monitoring",
        zh: "重点管理排污单位未安装自动监控或未联网",
    },
    ReasonText {
        code: "ECO_CREDIT",
        criterion: 8,
        en: "credit risk class is not A or B",
        zh: "企业信用风险分类不是A类或B类",
    },
    ReasonText {
        code: NOT_IN_DATA,
        criterion: 0,
        en: "not in the current data",
        zh: "本期数据中无此企业",
    },
    ReasonText {
        code: NOT_ELIGIBLE,
        criterion: 0,
        en: "not eligible in the current scoring (no failed criterion recorded)",
        zh: "本期评分未纳入正面清单（未记录未满足的条件）",
    },
    ReasonText {
        code: CAP_FULL,
        criterion: 0,
        en: "the district's cap on listed permit holders is reached",
        zh: "本区正面清单名额已满，列入候补",
    },
];

/// The sentences of a code, if it is known.
pub fn lookup(code: &str) -> Option<&'static ReasonText> {
    REASONS.iter().find(|r| r.code == code)
}

/// Whether a code is an exit reason of SPEC §3.5 (an `ECO_*` criterion code).
pub fn is_criterion(code: &str) -> bool {
    lookup(code).is_some_and(|r| r.criterion > 0)
}

/// The sentence of a code in a language; an unknown code is shown as itself.
pub fn text(code: &str, lang: Lang) -> &str {
    match (lookup(code), lang) {
        (Some(r), Lang::En) => r.en,
        (Some(r), Lang::Zh) => r.zh,
        (None, _) => code,
    }
}

/// The sentences of several codes, one per code in the same order, joined with `; ` (English)
/// or `；` (Chinese).
pub fn join(codes: &[String], lang: Lang) -> String {
    let sep = match lang {
        Lang::En => "; ",
        Lang::Zh => "；",
    };
    codes
        .iter()
        .map(|c| text(c, lang))
        .collect::<Vec<_>>()
        .join(sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The twelve failure codes of SPEC §3.5's table, with the criterion each belongs to.
    const SPEC_CODES: [(&str, u8); 12] = [
        ("ECO_NOT_ZJTX", 1),
        ("ECO_EMISSION_NOT_LOW", 2),
        ("ECO_EMISSION_UNKNOWN", 2),
        ("ECO_RISK_NOT_LOW", 3),
        ("ECO_RISK_UNKNOWN", 3),
        ("ECO_PENALTY", 4),
        ("ECO_PENALTY_UNKNOWN", 4),
        ("ECO_INCIDENT", 5),
        ("ECO_INCIDENT_UNKNOWN", 5),
        ("ECO_PERMIT_UNKNOWN", 6),
        ("ECO_NO_MONITORING", 7),
        ("ECO_CREDIT", 8),
    ];

    #[test]
    fn every_spec_code_has_its_own_sentences() {
        for (code, criterion) in SPEC_CODES {
            let r = lookup(code).unwrap_or_else(|| panic!("{code} missing"));
            assert_eq!(r.criterion, criterion, "{code}");
            assert!(is_criterion(code));
        }
        let criteria = REASONS.iter().filter(|r| r.criterion > 0).count();
        assert_eq!(criteria, SPEC_CODES.len(), "no codes beyond SPEC §3.5");
        // One to one: no two codes share a sentence in either language.
        for (i, a) in REASONS.iter().enumerate() {
            for b in &REASONS[i + 1..] {
                assert_ne!(a.code, b.code);
                assert_ne!(a.zh, b.zh, "{} and {}", a.code, b.code);
                assert_ne!(a.en, b.en, "{} and {}", a.code, b.code);
            }
        }
        assert!(!is_criterion(NOT_IN_DATA) && !is_criterion("CREDIT_DEFAULTED"));
    }

    #[test]
    fn texts_and_joining() {
        // The wording the task and issue 6 quote for ECO_PENALTY and NOT_IN_DATA.
        assert_eq!(
            text("ECO_PENALTY", Lang::Zh),
            "近24个月受到生态环境行政处罚"
        );
        assert_eq!(text(NOT_IN_DATA, Lang::Zh), "本期数据中无此企业");
        assert_eq!(text(NOT_IN_DATA, Lang::En), "not in the current data");
        assert_eq!(text("SOMETHING_ELSE", Lang::Zh), "SOMETHING_ELSE");
        let codes = vec!["ECO_PENALTY".to_string(), "ECO_INCIDENT".to_string()];
        assert_eq!(
            join(&codes, Lang::Zh),
            "近24个月受到生态环境行政处罚；近24个月发生突发环境事件"
        );
        assert_eq!(join(&[], Lang::En), "");
    }
}
