//! Discrimination and stability metrics of a scorecard, as pure functions over slices: AUC
//! (Mann–Whitney, ties counted one half), KS (the largest gap between the cumulative score
//! distributions of bads and goods), Gini (= 2·AUC − 1), the confusion matrix and accuracy of the
//! A–D classes, and PSI (population stability index, 群体稳定性指数) with its usual bands.
//!
//! Convention: `risk` is higher for riskier rows (use the negated scorecard points), `bad` marks
//! the event (default, or class C/D).

use serde::{Deserialize, Serialize};

use crate::schema::{CreditClass, Lang};

/// Area under the ROC curve: the probability that a random bad row has a higher risk than a
/// random good one, ties counting one half. `None` without both goods and bads.
pub fn auc(risk: &[f64], bad: &[bool]) -> Option<f64> {
    let n_bad = bad.iter().filter(|b| **b).count() as f64;
    let n_good = bad.len() as f64 - n_bad;
    if n_bad == 0.0 || n_good == 0.0 {
        return None;
    }
    let mut order: Vec<usize> = (0..risk.len()).collect();
    order.sort_by(|&a, &b| risk[a].total_cmp(&risk[b]));
    // Sum of the (average) ranks of the bads, ranks 1-based.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && risk[order[j + 1]] == risk[order[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        let bads = order[i..=j].iter().filter(|&&k| bad[k]).count() as f64;
        rank_sum += avg_rank * bads;
        i = j + 1;
    }
    Some((rank_sum - n_bad * (n_bad + 1.0) / 2.0) / (n_bad * n_good))
}

/// Kolmogorov–Smirnov statistic: max over thresholds t of |F_bad(t) − F_good(t)|, where F is the
/// share of rows with risk ≤ t; thresholds are the distinct risk values. `None` without both.
pub fn ks(risk: &[f64], bad: &[bool]) -> Option<f64> {
    let n_bad = bad.iter().filter(|b| **b).count() as f64;
    let n_good = bad.len() as f64 - n_bad;
    if n_bad == 0.0 || n_good == 0.0 {
        return None;
    }
    let mut order: Vec<usize> = (0..risk.len()).collect();
    order.sort_by(|&a, &b| risk[a].total_cmp(&risk[b]));
    let (mut cb, mut cg, mut best) = (0.0f64, 0.0f64, 0.0f64);
    let mut i = 0;
    while i < order.len() {
        let v = risk[order[i]];
        while i < order.len() && risk[order[i]] == v {
            if bad[order[i]] {
                cb += 1.0;
            } else {
                cg += 1.0;
            }
            i += 1;
        }
        best = best.max((cb / n_bad - cg / n_good).abs());
    }
    Some(best)
}

/// Gini coefficient (accuracy ratio) from the AUC: 2·AUC − 1.
pub fn gini(auc: f64) -> f64 {
    2.0 * auc - 1.0
}

/// Confusion matrix of the credit classes: `counts[actual][predicted]`, A..D.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Confusion {
    pub counts: [[u64; 4]; 4],
}

impl Confusion {
    /// Tallies pairs of (actual, predicted).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (CreditClass, CreditClass)>) -> Confusion {
        let mut c = Confusion::default();
        for (a, p) in pairs {
            c.counts[a.index()][p.index()] += 1;
        }
        c
    }

    /// Rows tallied.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Share of rows whose predicted class is the actual one; `None` when empty.
    pub fn accuracy(&self) -> Option<f64> {
        let t = self.total();
        (t > 0).then(|| (0..4).map(|i| self.counts[i][i]).sum::<u64>() as f64 / t as f64)
    }

    /// Share of rows predicted within one class of the actual one; `None` when empty.
    pub fn within_one(&self) -> Option<f64> {
        let t = self.total();
        let near: u64 = (0..4usize)
            .flat_map(|i| (0..4).map(move |j| (i, j)))
            .filter(|(i, j)| i.abs_diff(*j) <= 1)
            .map(|(i, j)| self.counts[i][j])
            .sum();
        (t > 0).then(|| near as f64 / t as f64)
    }

    /// The matrix as text lines, actual classes down, predicted across.
    pub fn to_text(&self, lang: Lang) -> String {
        let (corner, across) = match lang {
            Lang::En => ("actual\\predicted", ""),
            Lang::Zh => ("实际\\预测", ""),
        };
        let mut s = format!("{corner:>18}{across}");
        for c in CreditClass::ALL {
            s.push_str(&format!("{:>8}", c.en()));
        }
        s.push('\n');
        for a in CreditClass::ALL {
            s.push_str(&format!("{:>18}", a.en()));
            for p in CreditClass::ALL {
                s.push_str(&format!("{:>8}", self.counts[a.index()][p.index()]));
            }
            s.push('\n');
        }
        s
    }
}

/// Population stability index between two distributions over the same bins, given as counts (or
/// weights): Σ (aᵢ − eᵢ)·ln(aᵢ/eᵢ) over the shares eᵢ (expected) and aᵢ (actual). A bin empty on
/// one side gets 0.5 added to its count on both sides (shares are then taken over the adjusted
/// totals), so one empty bin does not make PSI infinite; a bin empty on both sides is skipped.
/// `None` when either side is empty.
pub fn psi(expected: &[f64], actual: &[f64]) -> Option<f64> {
    let te: f64 = expected.iter().sum();
    let ta: f64 = actual.iter().sum();
    if te <= 0.0 || ta <= 0.0 || expected.len() != actual.len() {
        return None;
    }
    let smoothed: Vec<(f64, f64)> = expected
        .iter()
        .zip(actual)
        .filter(|(e, a)| **e > 0.0 || **a > 0.0)
        .map(|(&e, &a)| {
            if e == 0.0 || a == 0.0 {
                (e + 0.5, a + 0.5)
            } else {
                (e, a)
            }
        })
        .collect();
    let te: f64 = smoothed.iter().map(|x| x.0).sum();
    let ta: f64 = smoothed.iter().map(|x| x.1).sum();
    let mut s = 0.0;
    for (e, a) in smoothed {
        let (pe, pa) = (e / te, a / ta);
        s += (pa - pe) * (pa / pe).ln();
    }
    Some(s)
}

/// The usual reading of a PSI value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PsiBand {
    /// PSI < 0.1: no significant change.
    Stable,
    /// 0.1 ≤ PSI < 0.25: some change, worth a look.
    Moderate,
    /// PSI ≥ 0.25: significant shift; the model may need retraining.
    Shift,
}

impl PsiBand {
    /// The band of a PSI value.
    pub fn of(psi: f64) -> PsiBand {
        if psi < 0.1 {
            PsiBand::Stable
        } else if psi < 0.25 {
            PsiBand::Moderate
        } else {
            PsiBand::Shift
        }
    }

    /// The band's name in the given language.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (PsiBand::Stable, Lang::En) => "stable",
            (PsiBand::Moderate, Lang::En) => "moderate shift",
            (PsiBand::Shift, Lang::En) => "significant shift",
            (PsiBand::Stable, Lang::Zh) => "稳定",
            (PsiBand::Moderate, Lang::Zh) => "轻度偏移",
            (PsiBand::Shift, Lang::Zh) => "显著偏移",
        }
    }
}

/// Quantile edges for PSI of a continuous score: the values at ranks ⌊q·n/k⌋ of the sorted
/// expected scores, q = 1..k−1, without repeats; bins are `[edge_{i−1}, edge_i)`.
pub fn quantile_edges(values: &[f64], k: usize) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() || k < 2 {
        return Vec::new();
    }
    v.sort_by(f64::total_cmp);
    let mut edges: Vec<f64> = Vec::new();
    for q in 1..k {
        let e = v[q * v.len() / k];
        if e > v[0] && edges.last().is_none_or(|&l| e > l) {
            edges.push(e);
        }
    }
    edges
}

/// Counts of values per bin `[edge_{i−1}, edge_i)` (edges.len() + 1 bins).
pub fn histogram(values: &[f64], edges: &[f64]) -> Vec<f64> {
    let mut c = vec![0.0; edges.len() + 1];
    for &x in values {
        c[edges.partition_point(|e| *e <= x)] += 1.0;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_ks_gini_by_hand() {
        // risk: goods 1, 2, 3, 5; bads 3, 4, 6.
        // Pairs (bad, good) with bad > good: bad 3 > {1,2} = 2, tie with 3 = ½; bad 4 > {1,2,3} = 3;
        // bad 6 > all 4 = 4. AUC = (2 + 0.5 + 3 + 4) / (3·4) = 9.5/12 = 0.791667.
        let risk = [1.0, 2.0, 3.0, 5.0, 3.0, 4.0, 6.0];
        let bad = [false, false, false, false, true, true, true];
        let a = auc(&risk, &bad).unwrap();
        assert!((a - 9.5 / 12.0).abs() < 1e-12);
        assert!((gini(a) - 7.0 / 12.0).abs() < 1e-12);
        // KS: at t = 3: F_good = 3/4, F_bad = 1/3 → 0.416667; at t = 4: 3/4 vs 2/3 → 0.083;
        // at t = 2: 2/4 vs 0 → 0.5 (the maximum); at t = 5: 1 vs 2/3 → 0.333.
        assert!((ks(&risk, &bad).unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(auc(&risk, &[false; 7]), None);
    }

    /// Fixed table: 20 rows (risk, bad), 9 bads. Reference values computed once with
    /// scikit-learn 1.9.1: `sklearn.metrics.roc_auc_score(bad, risk)` = 0.8686868686868687, and
    /// SciPy 1.17.1: `scipy.stats.ks_2samp(risk[bad], risk[~bad]).statistic` = 0.6363636363636364;
    /// PSI of fixed bin counts with NumPy = 0.04238657178335584.
    /// (Script: benches/compare/credit/metrics_reference.py.)
    #[test]
    fn auc_and_ks_match_independent_libraries() {
        let risk = [
            0.12, 0.35, 0.35, 0.8, 0.05, 0.6, 0.6, 0.22, 0.91, 0.47, 0.33, 0.7, 0.15, 0.88, 0.52,
            0.29, 0.64, 0.41, 0.99, 0.08,
        ];
        let bad = [
            false, true, false, true, false, false, true, false, true, false, false, true, false,
            false, true, false, true, true, true, false,
        ];
        assert!((auc(&risk, &bad).unwrap() - 0.868_686_868_686_868_7).abs() < 1e-12);
        assert!((ks(&risk, &bad).unwrap() - 0.636_363_636_363_636_4).abs() < 1e-12);
        let expected = [120.0, 340.0, 280.0, 160.0, 100.0];
        let actual = [90.0, 300.0, 310.0, 200.0, 150.0];
        assert!((psi(&expected, &actual).unwrap() - 0.042_386_571_783_355_84).abs() < 1e-12);
    }

    #[test]
    fn psi_by_hand_and_bands() {
        // Expected shares 0.5/0.5, actual 0.25/0.75:
        // (0.25−0.5)·ln(0.25/0.5) + (0.75−0.5)·ln(0.75/0.5) = 0.25·ln 2 + 0.25·ln 1.5
        // = 0.173287 + 0.101366 = 0.274653 → significant shift.
        let p = psi(&[50.0, 50.0], &[25.0, 75.0]).unwrap();
        assert!((p - (0.25 * 2f64.ln() + 0.25 * 1.5f64.ln())).abs() < 1e-12);
        assert_eq!(PsiBand::of(p), PsiBand::Shift);
        assert_eq!(psi(&[10.0, 20.0], &[20.0, 40.0]), Some(0.0));
        assert_eq!(PsiBand::of(0.099), PsiBand::Stable);
        assert_eq!(PsiBand::of(0.1), PsiBand::Moderate);
        // Empty bin on one side: counts (10, 0) vs (5, 5) become (10, 0.5) vs (5, 5.5), totals
        // 10.5 each: (5/10.5 − 10/10.5)·ln(5/10) + (5.5/10.5 − 0.5/10.5)·ln(5.5/0.5)
        // = (−5/10.5)·(−0.693147) + (5/10.5)·2.397895 = 0.330070 + 1.141855 = 1.471926.
        let want = (5.0 / 10.5) * -(0.5f64.ln()) + (5.0 / 10.5) * 11f64.ln();
        assert!((psi(&[10.0, 0.0], &[5.0, 5.0]).unwrap() - want).abs() < 1e-12);
    }

    #[test]
    fn confusion_accuracy() {
        use CreditClass::*;
        let c = Confusion::from_pairs([(A, A), (A, B), (B, B), (C, C), (D, B), (D, D)]);
        assert_eq!(c.total(), 6);
        assert!((c.accuracy().unwrap() - 4.0 / 6.0).abs() < 1e-12);
        // (D, B) is two classes off: 5 of 6 within one.
        assert!((c.within_one().unwrap() - 5.0 / 6.0).abs() < 1e-12);
        assert_eq!(c.counts[3][1], 1);
    }

    #[test]
    fn quantile_edges_and_histogram() {
        let v: Vec<f64> = (0..100).map(f64::from).collect();
        let e = quantile_edges(&v, 4);
        assert_eq!(e, vec![25.0, 50.0, 75.0]);
        assert_eq!(histogram(&v, &e), vec![25.0, 25.0, 25.0, 25.0]);
    }
}
