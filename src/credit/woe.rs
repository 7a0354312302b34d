//! Weight of evidence (WoE, 证据权重) and information value (IV, 信息值) of a binned feature: the
//! pure arithmetic over per-bin good/bad weights. Convention (Siddiqi): `WoE = ln(%good / %bad)`,
//! so a higher WoE means lower risk. A bin without goods or without bads gets 0.5 added to both of
//! its weights before the shares are taken (the totals stay as they are); a bin with no rows at all
//! (a missing-value bin never seen in training) has WoE 0, the population's own odds.

use serde::{Deserialize, Serialize};

/// Rows and good/bad weights falling in one bin. For a binary target a good row weighs (1, 0) and
/// a bad row (0, 1); for classes A–D a row of class c weighs (3 − c, c), i.e. it is counted once
/// in each of the three cumulative splits A|BCD, AB|CD, ABC|D.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Stats {
    /// Rows in the bin.
    pub count: u64,
    /// Good weight.
    pub good: f64,
    /// Bad weight.
    pub bad: f64,
}

impl Stats {
    /// Adds one row with the given weights.
    pub fn add(&mut self, good: f64, bad: f64) {
        self.count += 1;
        self.good += good;
        self.bad += bad;
    }

    /// The union of two bins.
    pub fn merged(self, other: Stats) -> Stats {
        Stats {
            count: self.count + other.count,
            good: self.good + other.good,
            bad: self.bad + other.bad,
        }
    }

    /// Bad share of the weight (the event rate); 0 for an empty bin.
    pub fn bad_rate(&self) -> f64 {
        let w = self.good + self.bad;
        if w > 0.0 { self.bad / w } else { 0.0 }
    }
}

/// WoE of every bin and the feature's IV. Totals are taken over all bins given.
pub fn woe_iv(bins: &[Stats]) -> (Vec<f64>, f64) {
    let total_good: f64 = bins.iter().map(|b| b.good).sum();
    let total_bad: f64 = bins.iter().map(|b| b.bad).sum();
    if total_good <= 0.0 || total_bad <= 0.0 {
        return (vec![0.0; bins.len()], 0.0);
    }
    let mut iv = 0.0;
    let woe = bins
        .iter()
        .map(|b| {
            if b.count == 0 {
                return 0.0;
            }
            let (g, d) = if b.good <= 0.0 || b.bad <= 0.0 {
                (b.good + 0.5, b.bad + 0.5)
            } else {
                (b.good, b.bad)
            };
            let pg = g / total_good;
            let pb = d / total_bad;
            let w = (pg / pb).ln();
            iv += (pg - pb) * w;
            w
        })
        .collect();
    (woe, iv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(good: f64, bad: f64) -> Stats {
        Stats {
            count: (good + bad) as u64,
            good,
            bad,
        }
    }

    #[test]
    fn woe_and_iv_by_hand() {
        // Goods 60/40 (G = 100), bads 10/30 (B = 40).
        // bin 1: ln((60/100)/(10/40)) = ln(0.6/0.25) = ln 2.4 = 0.875469
        // bin 2: ln((40/100)/(30/40)) = ln(0.4/0.75) = ln 0.533333 = −0.628609
        // IV = (0.6−0.25)·0.875469 + (0.4−0.75)·(−0.628609) = 0.306414 + 0.220013 = 0.526427
        let (w, iv) = woe_iv(&[s(60.0, 10.0), s(40.0, 30.0)]);
        assert!((w[0] - 0.875_468_737).abs() < 1e-8);
        assert!((w[1] + 0.628_608_659).abs() < 1e-8);
        assert!((iv - 0.526_427_088).abs() < 1e-8);
    }

    #[test]
    fn empty_and_pure_bins() {
        // Pure bin (20 goods, 0 bads) is smoothed to (20.5, 0.5): ln((20.5/50)/(0.5/10)) = ln 8.2.
        let (w, _) = woe_iv(&[s(20.0, 0.0), s(30.0, 10.0), Stats::default()]);
        assert!((w[0] - 8.2f64.ln()).abs() < 1e-12);
        assert_eq!(w[2], 0.0);
        // A single class has no evidence at all.
        let (w, iv) = woe_iv(&[s(5.0, 0.0), s(7.0, 0.0)]);
        assert_eq!((w, iv), (vec![0.0, 0.0], 0.0));
    }
}
