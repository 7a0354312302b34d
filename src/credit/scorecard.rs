//! Scorecard arithmetic (评分卡): PDO-scaled points from the logistic fit, the class cut-offs on
//! the points, and reason codes.
//!
//! Score = offset + factor·ln(good:bad odds) with factor = PDO/ln 2 and offset = P₀ − factor·ln(O₀)
//! (600 points at 50:1, PDO 20 by default). With `logit P(bad) = a + Σ βᵢ·WoEᵢ` the score splits
//! into base points `offset − factor·a` and, per feature, bin points `−factor·βᵢ·WoE_bin`. For
//! classes the anchor intercept `a` is the AB|CD split's, so 600 points means A/B : C/D odds of
//! 50:1. Points are rounded to 3 decimals and predictions add the rounded numbers stored in the
//! model file, so the same file gives the same points on every platform.

use crate::schema::CreditClass;

/// Rounds to `decimals` places (half away from zero).
pub fn round_to(x: f64, decimals: i32) -> f64 {
    let m = 10f64.powi(decimals);
    (x * m).round() / m
}

/// Points of one bin: −factor·β·WoE, rounded to 3 decimals.
pub fn bin_points(coef: f64, woe: f64, factor: f64) -> f64 {
    round_to(-factor * coef * woe, 3) + 0.0
}

/// Base points: offset − factor·a, rounded to 3 decimals.
pub fn base_points(anchor_intercept: f64, offset: f64, factor: f64) -> f64 {
    round_to(offset - factor * anchor_intercept, 3)
}

/// Up to three reason codes: the features whose points fall furthest below their best bin's,
/// most important first (ties: the earlier feature). `gaps[i]` = best points − row's points of
/// feature i; features with no gap give no reason.
pub fn top_reasons(gaps: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..gaps.len()).filter(|&i| gaps[i] > 1e-9).collect();
    idx.sort_by(|&a, &b| gaps[b].total_cmp(&gaps[a]).then(a.cmp(&b)));
    idx.truncate(3);
    idx
}

/// Class cut-offs on the points, fitted on training rows to maximise the number of rows whose
/// class is right, with A the highest points: returns `[c_AB, c_BC, c_CD]`, descending; a row
/// gets A when points ≥ c_AB, B when ≥ c_BC, C when ≥ c_CD, else D. Found exactly by dynamic
/// programming over the distinct point values (ties: the lower cut); a cut between two distinct
/// values sits half-way. A class that wins no rows gets an empty interval (two equal cut-offs).
/// `None` without rows.
pub fn fit_cutoffs(points: &[f64], class: &[usize]) -> Option<[f64; 3]> {
    if points.is_empty() {
        return None;
    }
    // Distinct values, highest first, with class counts.
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| points[b].total_cmp(&points[a]));
    let mut groups: Vec<(f64, [u64; 4])> = Vec::new();
    for i in order {
        match groups.last_mut() {
            Some((v, c)) if *v == points[i] => c[class[i]] += 1,
            _ => {
                let mut c = [0u64; 4];
                c[class[i]] += 1;
                groups.push((points[i], c));
            }
        }
    }
    let g = groups.len();
    // best[k][j]: most correct rows when groups 0..j use classes 0..=k (monotone in class).
    let mut best = vec![vec![0u64; g + 1]; 4];
    let mut from_prev = vec![vec![false; g + 1]; 4];
    for k in 0..4 {
        for j in 0..=g {
            let stay = if j > 0 {
                best[k][j - 1] + groups[j - 1].1[k]
            } else {
                0
            };
            let (prev, take_prev) = if k > 0 {
                (best[k - 1][j], true)
            } else {
                (0, false)
            };
            if take_prev && prev >= stay {
                best[k][j] = prev;
                from_prev[k][j] = true;
            } else {
                best[k][j] = stay;
            }
        }
    }
    // Backtrack: start[k] = first group of class k.
    let mut start = [0usize; 4];
    let (mut k, mut j) = (3usize, g);
    loop {
        if from_prev[k][j] {
            start[k] = j;
            k -= 1;
        } else if j == 0 {
            start[..=k].fill(0);
            break;
        } else {
            j -= 1;
        }
    }
    let cut = |s: usize| -> f64 {
        if s == 0 {
            groups[0].0 + 1.0
        } else if s >= g {
            groups[g - 1].0 - 1.0
        } else {
            round_to((groups[s - 1].0 + groups[s].0) / 2.0, 3)
        }
    };
    Some([cut(start[1]), cut(start[2]), cut(start[3])])
}

/// The class of a score given cut-offs `[c_AB, c_BC, c_CD]`.
pub fn classify(points: f64, cutoffs: &[f64; 3]) -> CreditClass {
    if points >= cutoffs[0] {
        CreditClass::A
    } else if points >= cutoffs[1] {
        CreditClass::B
    } else if points >= cutoffs[2] {
        CreditClass::C
    } else {
        CreditClass::D
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credit::params::Scaling;

    #[test]
    fn pdo_points_by_hand() {
        let s = Scaling::default();
        // At log-odds of bad a = −ln 50 (good:bad 50:1) and no feature effect, the score is 600.
        let base = base_points(-(50f64.ln()), s.offset(), s.factor());
        assert_eq!(base, 600.0);
        // Doubling the odds (a = −ln 100) adds PDO = 20 points.
        assert_eq!(base_points(-(100f64.ln()), s.offset(), s.factor()), 620.0);
        // β = −0.8, WoE = 0.5: −28.853901·(−0.8)·0.5 = 11.54156 → 11.542.
        assert_eq!(bin_points(-0.8, 0.5, s.factor()), 11.542);
    }

    #[test]
    fn reasons_pick_the_largest_gaps() {
        assert_eq!(top_reasons(&[5.0, 0.0, 12.0, 5.0, 3.0]), vec![2, 0, 3]);
        assert_eq!(top_reasons(&[0.0, 0.0]), Vec::<usize>::new());
    }

    #[test]
    fn cutoffs_maximise_training_accuracy() {
        // Points 100..=91 with classes A A B B B C C D D D: the split A = {100, 99},
        // B = {98, 97, 96}, C = {95, 94}, D = {93, 92, 91} is right for all 10 rows, and the cuts
        // sit half-way: 98.5, 95.5, 93.5.
        let points: Vec<f64> = (91..=100).rev().map(f64::from).collect();
        let class = [0, 0, 1, 1, 1, 2, 2, 3, 3, 3];
        assert_eq!(fit_cutoffs(&points, &class).unwrap(), [98.5, 95.5, 93.5]);
    }

    #[test]
    fn cutoffs_match_brute_force() {
        // 40 rows on 12 distinct point values, classes drawn with a rising risk plus noise
        // (a fixed LCG); the DP must reach the brute-force optimum over all monotone splits.
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        let mut points = Vec::new();
        let mut class = Vec::new();
        for _ in 0..40 {
            let p = next() % 12;
            let c = ((11 - p) / 3 + next() % 3).saturating_sub(1).min(3);
            points.push(p as f64);
            class.push(c);
        }
        let right = |c: &[f64; 3]| {
            points
                .iter()
                .zip(&class)
                .filter(|(p, k)| classify(**p, c).index() == **k)
                .count()
        };
        let dp = right(&fit_cutoffs(&points, &class).unwrap());
        let mut best = 0;
        let cuts: Vec<f64> = (0..=12).map(|v| v as f64 - 0.5).collect();
        for a in 0..cuts.len() {
            for b in 0..=a {
                for d in 0..=b {
                    best = best.max(right(&[cuts[a], cuts[b], cuts[d]]));
                }
            }
        }
        assert_eq!(dp, best);
        assert!(best > 10);
    }

    #[test]
    fn a_class_without_rows_gets_an_empty_interval() {
        // Only A and D rows: B and C never predicted.
        let points = [10.0, 9.0, 2.0, 1.0];
        let class = [0, 0, 3, 3];
        let c = fit_cutoffs(&points, &class).unwrap();
        assert_eq!(classify(9.0, &c), CreditClass::A);
        assert_eq!(classify(2.0, &c), CreditClass::D);
        assert!(c[0] >= c[1] && c[1] >= c[2]);
    }
}
