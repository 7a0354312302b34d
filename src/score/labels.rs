//! How the scoring decisions read in either language: the label of an optional environmental
//! risk level and the credit model's reasons, shared by the score output (`scored`) and the
//! plain-language account (`explain`). Pure.

use crate::schema::{EnvRiskLevel, EnvRiskSource, Lang, feat};
use crate::score::reasons::Reasons;

/// The word for an unknown environmental risk level (`env_risk_level` column).
pub fn unknown_level_label(lang: Lang) -> &'static str {
    EnvRiskSource::Unknown.label(lang)
}

/// The label of an optional level: its value, or `unknown` / `未知`.
pub fn level_label(level: Option<EnvRiskLevel>, lang: Lang) -> &'static str {
    level.map_or(unknown_level_label(lang), |l| l.label(lang))
}

/// Credit-model reasons (feature names) as written: `;`-joined names in English, `；`-joined
/// Chinese headers (when spotcheck knows one) in Chinese.
pub fn credit_reasons_label(reasons: &[String], lang: Lang) -> String {
    let mut s = String::new();
    for r in reasons {
        if !s.is_empty() {
            s.push_str(Reasons::separator(lang));
        }
        let text = match lang {
            Lang::En => r.as_str(),
            Lang::Zh => feat::ALL
                .iter()
                .find(|c| c.name == r)
                .map_or(r.as_str(), |c| c.zh),
        };
        s.push_str(text);
    }
    s
}
