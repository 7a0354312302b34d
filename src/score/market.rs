//! Market-supervision (市场监管 双随机) inspection ratio and yearly frequency (SPEC §3.4): the base
//! ratio and maximum of the credit class, the relief of measure (二十四) for 专精特新 enterprises of a
//! relief class (ratio × tier factor, maximum capped), then the clamp to [min_ratio, 1]; the ratio is
//! rounded to 4 decimals after every factor and the clamp (SPEC §3.6, [`round`]). Pure.

use crate::policy::MarketPolicy;
use crate::schema::{CreditClass, Tier};
use crate::score::reasons::Reason;
use crate::score::round;

/// The market decision for one enterprise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarketDecision {
    /// `market_ratio`: annual probability of an on-site spot check, in [min_ratio, 1].
    pub ratio: f64,
    /// `market_max_per_year`.
    pub max_per_year: u8,
    /// `MARKET_RELIEF_<TIER>` when relief applied.
    pub relief: Option<Reason>,
}

/// Computes `market_ratio` and `market_max_per_year` (SPEC §3.4).
///
/// ```
/// use spotcheck::policy::Policy;
/// use spotcheck::schema::{CreditClass, Tier};
/// use spotcheck::score::market::market;
/// let d = market(CreditClass::A, Tier::Specialized, &Policy::default().market);
/// assert!((d.ratio - 0.018).abs() < 1e-12); // 0.03 × 0.6
/// assert_eq!(d.max_per_year, 1);
/// ```
#[inline]
pub fn market(class: CreditClass, tier: Tier, policy: &MarketPolicy) -> MarketDecision {
    let c = class.index();
    let mut ratio = round::ratio(policy.base_ratio[c]);
    let mut max_per_year = policy.max_per_year[c];
    let mut relief = None;
    if policy.relief_classes[c] && tier != Tier::None {
        ratio = round::ratio(ratio * policy.relief_factor[tier.index()]);
        max_per_year = max_per_year.min(policy.relief_max_per_year);
        relief = Reason::market_relief(tier);
    }
    MarketDecision {
        ratio: round::ratio(ratio.clamp(policy.min_ratio, 1.0)),
        max_per_year,
        relief,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    fn p() -> MarketPolicy {
        Policy::default().market
    }

    #[test]
    fn base_ratios_without_relief() {
        // SPEC §3.4 table: A 0.03/1, B 0.10/1, C 0.30/2, D 0.80/4; tier none gets no relief.
        for (class, ratio, max) in [
            (CreditClass::A, 0.03, 1),
            (CreditClass::B, 0.10, 1),
            (CreditClass::C, 0.30, 2),
            (CreditClass::D, 0.80, 4),
        ] {
            let d = market(class, Tier::None, &p());
            assert_eq!((d.ratio, d.max_per_year, d.relief), (ratio, max, None));
        }
    }

    #[test]
    fn relief_per_tier() {
        // SPEC §3.4: A × 0.8 / 0.6 / 0.5, max capped at 1.
        for (tier, factor, reason) in [
            (Tier::Innovative, 0.8, Reason::MarketReliefInnovative),
            (Tier::Specialized, 0.6, Reason::MarketReliefSpecialized),
            (Tier::LittleGiant, 0.5, Reason::MarketReliefLittleGiant),
        ] {
            let d = market(CreditClass::A, tier, &p());
            assert!((d.ratio - 0.03 * factor).abs() < 1e-15, "{tier:?}");
            assert_eq!(d.max_per_year, 1);
            assert_eq!(d.relief, Some(reason));
        }
    }

    #[test]
    fn class_not_in_relief_list_gets_none() {
        for class in [CreditClass::B, CreditClass::C, CreditClass::D] {
            let d = market(class, Tier::LittleGiant, &p());
            assert_eq!(d.relief, None, "{class:?}");
            assert_eq!(d.ratio, p().base_ratio[class.index()]);
        }
        // A policy relieving B too: B little giant → 0.10 × 0.5, and C's max 2 capped at 1.
        let mut q = p();
        q.relief_classes = [true, true, true, false];
        let d = market(CreditClass::B, Tier::LittleGiant, &q);
        assert!((d.ratio - 0.05).abs() < 1e-15);
        let d = market(CreditClass::C, Tier::Innovative, &q);
        assert_eq!(d.max_per_year, 1);
        assert!((d.ratio - 0.24).abs() < 1e-15); // 0.30 × 0.8
    }

    #[test]
    fn clamping() {
        // min_ratio raises a relieved A: 0.03 × 0.5 = 0.015 → 0.02.
        let mut q = p();
        q.min_ratio = 0.02;
        let d = market(CreditClass::A, Tier::LittleGiant, &q);
        assert_eq!(d.ratio, 0.02);
        // Unrelieved values above the floor are untouched.
        assert_eq!(market(CreditClass::C, Tier::None, &q).ratio, 0.30);
        // A floor of 1 forces every ratio to 1 (upper clamp holds).
        q.min_ratio = 1.0;
        assert_eq!(market(CreditClass::A, Tier::Innovative, &q).ratio, 1.0);
    }
}
