//! Reason codes of a scored row (SPEC §3.6 `reasons`): a closed table of codes in the order the
//! scoring rules run, each with an English and a Chinese sentence, and `Reasons`, the set of codes of
//! one row as a `u32` bitmask (no allocation per row). English output writes the codes joined by
//! `;`; Chinese output writes the Chinese sentences joined by `；`; parsing accepts codes, English
//! and Chinese sentences, so a scored file in either language reads back to the same set.

use crate::schema::{Lang, Tier};

/// Declares the reason table: variant, code, English sentence, Chinese sentence, in rule order.
macro_rules! reasons {
    ($( $(#[$m:meta])* $v:ident = $code:literal, $en:literal, $zh:literal; )+) => {
        /// One reason code. Declaration order is rule order (SPEC §2.1, §3.1, §3.3, §3.4, §3.5).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Reason {
            $( $(#[$m])* $v, )+
        }

        impl Reason {
            /// Every reason, in rule order.
            pub const ALL: &'static [Reason] = &[ $( Reason::$v, )+ ];

            /// The code, e.g. `ECO_PENALTY`.
            pub fn code(self) -> &'static str {
                match self { $( Reason::$v => $code, )+ }
            }

            /// The English sentence.
            pub fn en(self) -> &'static str {
                match self { $( Reason::$v => $en, )+ }
            }

            /// The Chinese sentence, e.g. `近24个月受到生态环境行政处罚`.
            pub fn zh(self) -> &'static str {
                match self { $( Reason::$v => $zh, )+ }
            }
        }
    };
}

reasons! {
    /// SPEC §2.1: the code's check character is wrong (row kept).
    UsccChecksum = "USCC_CHECKSUM",
        "the credit code's check character is wrong",
        "统一社会信用代码校验位错误";
    /// SPEC §3.1: no class given, none predicted: the policy's default class was used.
    CreditDefaulted = "CREDIT_DEFAULTED",
        "no credit class given or predicted: the policy's default class was used",
        "未提供信用风险分类且模型无法预测，采用默认分类";
    /// SPEC §3.3: the filed level differs from the level computed from the HJ 941 inputs.
    EnvRiskMismatch = "ENV_RISK_MISMATCH",
        "the filed environmental risk level differs from the HJ 941 computation",
        "备案的突发环境事件风险等级与HJ 941计算结果不一致";
    /// SPEC §3.4: market relief for an innovative SME.
    MarketReliefInnovative = "MARKET_RELIEF_INNOVATIVE",
        "market spot-check ratio lowered for an innovative SME",
        "创新型中小企业，降低市场监管抽查比例和频次";
    /// SPEC §3.4: market relief for a specialized SME.
    MarketReliefSpecialized = "MARKET_RELIEF_SPECIALIZED",
        "market spot-check ratio lowered for a specialized SME",
        "专精特新中小企业，降低市场监管抽查比例和频次";
    /// SPEC §3.4: market relief for a little giant.
    MarketReliefLittleGiant = "MARKET_RELIEF_LITTLE_GIANT",
        "market spot-check ratio lowered for a little giant",
        "专精特新\"小巨人\"企业，降低市场监管抽查比例和频次";
    /// SPEC §3.5 criterion 1.
    EcoNotZjtx = "ECO_NOT_ZJTX",
        "not a 专精特新 enterprise",
        "非专精特新企业";
    /// SPEC §3.5 criterion 2.
    EcoEmissionNotLow = "ECO_EMISSION_NOT_LOW",
        "pollutant emissions are not low",
        "污染物排放量不属于低排放";
    /// SPEC §3.5 criterion 2, null pollution equivalents.
    EcoEmissionUnknown = "ECO_EMISSION_UNKNOWN",
        "pollutant emissions are unknown",
        "污染物排放量未知";
    /// SPEC §3.5 criterion 3.
    EcoRiskNotLow = "ECO_RISK_NOT_LOW",
        "environmental risk level is not general",
        "突发环境事件风险等级不是一般";
    /// SPEC §3.5 criterion 3, no level.
    EcoRiskUnknown = "ECO_RISK_UNKNOWN",
        "environmental risk level is unknown",
        "突发环境事件风险等级未知";
    /// SPEC §3.5 criterion 4.
    EcoPenalty = "ECO_PENALTY",
        "administrative environmental penalty in the last 24 months",
        "近24个月受到生态环境行政处罚";
    /// SPEC §3.5 criterion 4, null count.
    EcoPenaltyUnknown = "ECO_PENALTY_UNKNOWN",
        "environmental penalties of the last 24 months are unknown",
        "近24个月生态环境行政处罚情况未知";
    /// SPEC §3.5 criterion 5.
    EcoIncident = "ECO_INCIDENT",
        "environmental incident in the last 24 months",
        "近24个月发生突发环境事件";
    /// SPEC §3.5 criterion 5, null count.
    EcoIncidentUnknown = "ECO_INCIDENT_UNKNOWN",
        "environmental incidents of the last 24 months are unknown",
        "近24个月突发环境事件情况未知";
    /// SPEC §3.5 criterion 6.
    EcoPermitUnknown = "ECO_PERMIT_UNKNOWN",
        "pollutant discharge permit class is unknown",
        "排污许可管理类别未知";
    /// SPEC §3.5 criterion 7.
    EcoNoMonitoring = "ECO_NO_MONITORING",
        "key permit holder without connected automatic monitoring",
        "重点管理单位未安装自动监控或未联网";
    /// SPEC §3.5 criterion 8.
    EcoCredit = "ECO_CREDIT",
        "credit class is not one the positive list admits",
        "信用风险分类不符合正面清单要求";
}

impl Reason {
    /// The bit of this reason in a [`Reasons`] mask.
    #[inline]
    pub const fn bit(self) -> u32 {
        1 << (self as u8)
    }

    /// The text written in outputs: the code in English, the sentence in Chinese.
    pub fn label(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.code(),
            Lang::Zh => self.zh(),
        }
    }

    /// The market relief reason of a tier (`None` for tier `none`).
    pub fn market_relief(tier: Tier) -> Option<Reason> {
        match tier {
            Tier::Innovative => Some(Reason::MarketReliefInnovative),
            Tier::Specialized => Some(Reason::MarketReliefSpecialized),
            Tier::LittleGiant => Some(Reason::MarketReliefLittleGiant),
            Tier::None => None,
        }
    }

    /// Whether this is a positive-list failure (`ECO_*`).
    pub fn is_eco(self) -> bool {
        self >= Reason::EcoNotZjtx
    }

    /// Parses a code (any case), its English sentence or its Chinese sentence.
    pub fn parse(s: &str) -> Option<Reason> {
        let t = s.trim();
        Reason::ALL.iter().copied().find(|r| {
            r.code().eq_ignore_ascii_case(t) || r.en().eq_ignore_ascii_case(t) || r.zh() == t
        })
    }
}

/// The reasons of one row, as a bitmask over [`Reason`]; iterates in rule order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Reasons(pub u32);

impl Reasons {
    /// No reason.
    pub const EMPTY: Reasons = Reasons(0);

    /// Adds a reason.
    #[inline]
    pub fn insert(&mut self, r: Reason) {
        self.0 |= r.bit();
    }

    /// Whether the set holds `r`.
    #[inline]
    pub fn contains(self, r: Reason) -> bool {
        self.0 & r.bit() != 0
    }

    /// Whether the set is empty.
    #[inline]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Number of reasons.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The reasons in rule order.
    pub fn iter(self) -> impl Iterator<Item = Reason> {
        Reason::ALL
            .iter()
            .copied()
            .filter(move |&r| self.contains(r))
    }

    /// Only the positive-list (`ECO_*`) reasons.
    pub fn eco(self) -> Reasons {
        Reasons(self.0 & !(Reason::EcoNotZjtx.bit() - 1))
    }

    /// The separator written between reasons.
    pub fn separator(lang: Lang) -> &'static str {
        match lang {
            Lang::En => ";",
            Lang::Zh => "；",
        }
    }

    /// Codes joined by `;` (English) or Chinese sentences joined by `；` (Chinese).
    ///
    /// ```
    /// use spotcheck::schema::Lang;
    /// use spotcheck::score::reasons::{Reason, Reasons};
    /// let mut r = Reasons::EMPTY;
    /// r.insert(Reason::EcoPenalty);
    /// r.insert(Reason::EnvRiskMismatch);
    /// assert_eq!(r.join(Lang::En), "ENV_RISK_MISMATCH;ECO_PENALTY");
    /// assert_eq!(Reasons::parse(&r.join(Lang::Zh)), Ok(r));
    /// ```
    pub fn join(self, lang: Lang) -> String {
        let mut s = String::new();
        for r in self.iter() {
            if !s.is_empty() {
                s.push_str(Reasons::separator(lang));
            }
            s.push_str(r.label(lang));
        }
        s
    }

    /// Parses a cell written by [`Reasons::join`] in either language (`;` or `；` between items;
    /// empty = no reason). On failure returns the item that is no known reason.
    pub fn parse(cell: &str) -> std::result::Result<Reasons, String> {
        let mut out = Reasons::EMPTY;
        for item in cell.split([';', '；']) {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            match Reason::parse(item) {
                Some(r) => out.insert(r),
                None => return Err(item.to_owned()),
            }
        }
        Ok(out)
    }
}

impl FromIterator<Reason> for Reasons {
    fn from_iter<I: IntoIterator<Item = Reason>>(iter: I) -> Self {
        let mut out = Reasons::EMPTY;
        for r in iter {
            out.insert(r);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_complete_and_unambiguous() {
        assert_eq!(Reason::ALL.len(), 18);
        assert!(Reason::ALL.len() <= 32, "Reasons is a u32 mask");
        for (i, r) in Reason::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i);
            assert_eq!(Reason::parse(r.code()), Some(*r));
            assert_eq!(Reason::parse(&r.code().to_lowercase()), Some(*r));
            assert_eq!(Reason::parse(r.en()), Some(*r));
            assert_eq!(Reason::parse(r.zh()), Some(*r));
            // Sentences must not contain a separator, or joined cells would not split back.
            for t in [r.en(), r.zh()] {
                assert!(!t.contains([';', '；']), "{t}");
            }
        }
        assert_eq!(Reason::EcoPenalty.zh(), "近24个月受到生态环境行政处罚");
        assert_eq!(Reason::parse("NO_SUCH_CODE"), None);
    }

    #[test]
    fn join_is_in_rule_order_and_parses_back() {
        let r: Reasons = [
            Reason::EcoCredit,
            Reason::UsccChecksum,
            Reason::MarketReliefLittleGiant,
            Reason::EcoRiskUnknown,
        ]
        .into_iter()
        .collect();
        assert_eq!(
            r.join(Lang::En),
            "USCC_CHECKSUM;MARKET_RELIEF_LITTLE_GIANT;ECO_RISK_UNKNOWN;ECO_CREDIT"
        );
        assert_eq!(
            r.join(Lang::Zh),
            "统一社会信用代码校验位错误；专精特新\"小巨人\"企业，降低市场监管抽查比例和频次；突发环境事件风险等级未知；信用风险分类不符合正面清单要求"
        );
        assert_eq!(Reasons::parse(&r.join(Lang::En)), Ok(r));
        assert_eq!(Reasons::parse(&r.join(Lang::Zh)), Ok(r));
        assert_eq!(Reasons::parse(""), Ok(Reasons::EMPTY));
        assert_eq!(Reasons::parse("ECO_PENALTY; bogus"), Err("bogus".into()));
        assert_eq!(r.len(), 4);
        assert_eq!(
            r.eco().iter().collect::<Vec<_>>(),
            [Reason::EcoRiskUnknown, Reason::EcoCredit]
        );
    }
}
