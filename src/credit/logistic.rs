//! The logistic regression (逻辑回归) of the scorecard, fitted with `linfa-logistic` on the WoE
//! values: `logit P(bad) = intercept + Σ coefᵢ·WoEᵢ`.
//!
//! For classes A–D it fits a cumulative-logit (proportional-odds) model with one shared slope per
//! feature: each row is stacked three times, once per split k ∈ {A|BCD, AB|CD, ABC|D}, with the
//! target "class beyond split k" and two indicator columns that give each split its own intercept.
//! Maximising this stacked (composite) likelihood estimates the shared slopes consistently; the
//! result is one score and three ordered intercepts θ₀ ≤ θ₁ ≤ θ₂.
//!
//! With row weights (`train --weight`, e.g. design weights 1/π) the fit maximises the weighted
//! (pseudo-)likelihood Σ wᵢ·ℓᵢ − α/2·‖coefs‖² by Newton's method (iteratively reweighted least
//! squares, step halving, the intercepts unpenalised as in linfa); weights are scaled to mean 1
//! by the caller, so α means the same as without weights. linfa-logistic has no row weights.

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};

/// Fitted coefficients: `intercepts` has one entry for a binary target and three (splits A|BCD,
/// AB|CD, ABC|D) for classes; `coefs` has one per feature column.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    pub intercepts: Vec<f64>,
    pub coefs: Vec<f64>,
}

fn solver(alpha: f64, rows: usize) -> LogisticRegression<f64> {
    // The loss is summed over rows, so its gradient grows with n: the tolerance does too
    // (1e-6 per row on average).
    LogisticRegression::default()
        .alpha(alpha)
        .max_iterations(1000)
        .gradient_tolerance(1e-6 * rows.max(1) as f64)
}

/// Binary fit: `x` is n×p (WoE values), `bad` the target. `Err` carries linfa's message.
pub fn fit_binary(x: &Array2<f64>, bad: &[bool], alpha: f64) -> Result<Fitted, String> {
    let y = Array1::from(bad.to_vec());
    let ds = Dataset::new(x.clone(), y);
    let m = solver(alpha, x.nrows())
        .fit(&ds)
        .map_err(|e| e.to_string())?;
    // linfa labels the larger value (true = bad) as the positive class, so the linear predictor
    // is the log-odds of bad.
    if m.labels().pos.class {
        Ok(Fitted {
            intercepts: vec![m.intercept()],
            coefs: m.params().to_vec(),
        })
    } else {
        Ok(Fitted {
            intercepts: vec![-m.intercept()],
            coefs: m.params().iter().map(|c| -c).collect(),
        })
    }
}

/// Cumulative-logit fit for classes: `class[i]` ∈ 0..=3 (A..D).
pub fn fit_cumulative(x: &Array2<f64>, class: &[usize], alpha: f64) -> Result<Fitted, String> {
    let (n, p) = x.dim();
    let mut xs = Array2::<f64>::zeros((3 * n, p + 2));
    let mut ys = Vec::with_capacity(3 * n);
    for k in 0..3 {
        for (i, &c) in class.iter().enumerate().take(n) {
            let r = k * n + i;
            xs.row_mut(r).slice_mut(ndarray::s![..p]).assign(&x.row(i));
            if k > 0 {
                xs[[r, p + k - 1]] = 1.0;
            }
            ys.push(c > k);
        }
    }
    let f = fit_binary(&xs, &ys, alpha)?;
    let b0 = f.intercepts[0];
    Ok(Fitted {
        intercepts: vec![b0, b0 + f.coefs[p], b0 + f.coefs[p + 1]],
        coefs: f.coefs[..p].to_vec(),
    })
}

/// Solves the symmetric positive definite system `a·x = b` (Gaussian elimination with partial
/// pivoting); `None` when it is singular.
// Matrix code reads best with the indices of the formulas.
#[allow(clippy::needless_range_loop)]
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for k in 0..n {
        let piv = (k..n).max_by(|&i, &j| a[i][k].abs().total_cmp(&a[j][k].abs()))?;
        if a[piv][k].abs() < 1e-300 {
            return None;
        }
        a.swap(k, piv);
        b.swap(k, piv);
        let (top, rest) = a.split_at_mut(k + 1);
        let pivot = &top[k];
        for (i, ai) in rest.iter_mut().enumerate() {
            let f = ai[k] / pivot[k];
            if f != 0.0 {
                for (x, p) in ai[k..].iter_mut().zip(&pivot[k..]) {
                    *x -= f * p;
                }
                b[k + 1 + i] -= f * b[k];
            }
        }
    }
    let mut x = vec![0.0; n];
    for k in (0..n).rev() {
        let s: f64 = (k + 1..n).map(|j| a[k][j] * x[j]).sum();
        x[k] = (b[k] - s) / a[k][k];
    }
    Some(x)
}

/// Weighted binary fit: maximises Σ wᵢ[yᵢ ln μᵢ + (1 − yᵢ) ln(1 − μᵢ)] − α/2·Σ coef², μ the
/// logistic of `intercept + x·coefs`, by Newton's method. `Err` when it does not converge.
// Matrix code reads best with the indices of the formulas.
#[allow(clippy::needless_range_loop)]
pub fn fit_binary_weighted(
    x: &Array2<f64>,
    bad: &[bool],
    w: &[f64],
    alpha: f64,
) -> Result<Fitted, String> {
    let (n, p) = x.dim();
    let q = p + 1;
    let mut beta = vec![0.0; q];
    let row = |i: usize, b: &[f64]| b[0] + (0..p).map(|j| x[[i, j]] * b[j + 1]).sum::<f64>();
    let objective = |b: &[f64]| {
        let mut l = 0.0;
        for i in 0..n {
            let eta = row(i, b);
            // ln σ(η) = −ln(1 + e^−η), computed stably.
            let log1pexp = |t: f64| {
                if t > 0.0 {
                    t + (-t).exp().ln_1p()
                } else {
                    t.exp().ln_1p()
                }
            };
            l += w[i]
                * if bad[i] {
                    -log1pexp(-eta)
                } else {
                    -log1pexp(eta)
                };
        }
        l - 0.5 * alpha * b[1..].iter().map(|c| c * c).sum::<f64>()
    };
    let mut current = objective(&beta);
    for _ in 0..200 {
        let mut grad = vec![0.0; q];
        let mut hess = vec![vec![0.0; q]; q];
        for i in 0..n {
            let mu = 1.0 / (1.0 + (-row(i, &beta)).exp());
            let r = w[i] * ((bad[i] as u8 as f64) - mu);
            let h = w[i] * mu * (1.0 - mu);
            let xi: Vec<f64> = std::iter::once(1.0)
                .chain(x.row(i).iter().copied())
                .collect();
            for (a, row) in hess.iter_mut().enumerate() {
                grad[a] += r * xi[a];
                for (cell, xb) in row.iter_mut().zip(&xi) {
                    *cell += h * xi[a] * xb;
                }
            }
        }
        for j in 1..q {
            grad[j] -= alpha * beta[j];
            hess[j][j] += alpha;
        }
        let step = solve(hess, grad).ok_or("the weighted fit's information matrix is singular")?;
        let mut t = 1.0;
        loop {
            let next: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + t * s).collect();
            let value = objective(&next);
            if value >= current - 1e-12 * current.abs() {
                let moved = step.iter().map(|s| (t * s).abs()).fold(0.0, f64::max);
                beta = next;
                current = value;
                if moved < 1e-10 {
                    return Ok(Fitted {
                        intercepts: vec![beta[0]],
                        coefs: beta[1..].to_vec(),
                    });
                }
                break;
            }
            t /= 2.0;
            if t < 1e-12 {
                return Ok(Fitted {
                    intercepts: vec![beta[0]],
                    coefs: beta[1..].to_vec(),
                });
            }
        }
    }
    Err("the weighted logistic fit did not converge in 200 Newton steps".into())
}

/// Weighted cumulative-logit fit (the stacked design of [`fit_cumulative`], each copy of a row
/// with the row's weight).
pub fn fit_cumulative_weighted(
    x: &Array2<f64>,
    class: &[usize],
    w: &[f64],
    alpha: f64,
) -> Result<Fitted, String> {
    let (n, p) = x.dim();
    let mut xs = Array2::<f64>::zeros((3 * n, p + 2));
    let mut ys = Vec::with_capacity(3 * n);
    let mut ws = Vec::with_capacity(3 * n);
    for k in 0..3 {
        for (i, &c) in class.iter().enumerate().take(n) {
            let r = k * n + i;
            xs.row_mut(r).slice_mut(ndarray::s![..p]).assign(&x.row(i));
            if k > 0 {
                xs[[r, p + k - 1]] = 1.0;
            }
            ys.push(c > k);
            ws.push(w[i]);
        }
    }
    // The two split indicators are intercept shifts: linfa penalises them like any column, and
    // so does this fit, to stay comparable.
    let f = fit_binary_weighted(&xs, &ys, &ws, alpha)?;
    let b0 = f.intercepts[0];
    Ok(Fitted {
        intercepts: vec![b0, b0 + f.coefs[p], b0 + f.coefs[p + 1]],
        coefs: f.coefs[..p].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One feature x ∈ {−1, 1}, bad rates 0.8 and 0.2 (4:1 and 1:4 odds). Unpenalised maximum
    /// likelihood: logit = 0 + (−ln 4)·x = −1.386294·x (each group's log-odds is ±ln 4).
    #[test]
    fn binary_fit_recovers_group_log_odds() {
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for (x, bads) in [(-1.0, 80), (1.0, 20)] {
            for k in 0..100 {
                xs.push(x);
                ys.push(k < bads);
            }
        }
        let x = Array2::from_shape_vec((200, 1), xs).unwrap();
        let f = fit_binary(&x, &ys, 0.0).unwrap();
        assert!((f.coefs[0] + 4f64.ln()).abs() < 1e-3, "{f:?}");
        assert!(f.intercepts[0].abs() < 1e-3, "{f:?}");
    }

    /// Weights of 1 give linfa's fit; integer weights equal repeating the rows.
    #[test]
    fn weighted_fit_agrees_with_linfa_and_with_repeated_rows() {
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for (k, x) in [-1.0, -0.3, 0.2, 0.9, 1.5].iter().enumerate() {
            for j in 0..20 {
                xs.push(*x);
                ys.push((j * 7 + k * 3) % 10 < 3 + 2 * k);
            }
        }
        let x = Array2::from_shape_vec((100, 1), xs.clone()).unwrap();
        let ones = vec![1.0; 100];
        for alpha in [0.0, 1.0] {
            let a = fit_binary(&x, &ys, alpha).unwrap();
            let b = fit_binary_weighted(&x, &ys, &ones, alpha).unwrap();
            assert!((a.coefs[0] - b.coefs[0]).abs() < 1e-3, "{a:?} {b:?}");
            assert!(
                (a.intercepts[0] - b.intercepts[0]).abs() < 1e-3,
                "{a:?} {b:?}"
            );
        }
        // Weight 3 on the first half = those rows three times.
        let w: Vec<f64> = (0..100).map(|i| if i < 50 { 3.0 } else { 1.0 }).collect();
        let (mut x2, mut y2) = (Vec::new(), Vec::new());
        for i in 0..100 {
            for _ in 0..w[i] as usize {
                x2.push(xs[i]);
                y2.push(ys[i]);
            }
        }
        let rep = fit_binary_weighted(
            &Array2::from_shape_vec((x2.len(), 1), x2).unwrap(),
            &y2,
            &vec![1.0; y2.len()],
            1.0,
        )
        .unwrap();
        let wtd = fit_binary_weighted(&x, &ys, &w, 1.0).unwrap();
        assert!(
            (rep.coefs[0] - wtd.coefs[0]).abs() < 1e-9,
            "{rep:?} {wtd:?}"
        );
        assert!((rep.intercepts[0] - wtd.intercepts[0]).abs() < 1e-9);
    }

    /// Without features the cumulative intercepts are the logits of the cumulative shares:
    /// classes 40/30/20/10 per 100 → P(>A) = 0.6, P(>B) = 0.3, P(>C) = 0.1, so θ = logit(0.6),
    /// logit(0.3), logit(0.1) = 0.405465, −0.847298, −2.197225.
    #[test]
    fn cumulative_intercepts_are_the_cumulative_logits() {
        let mut class = Vec::new();
        for (c, n) in [(0, 40), (1, 30), (2, 20), (3, 10)] {
            class.extend(std::iter::repeat_n(c, n));
        }
        // A constant-zero feature keeps the design non-empty; its slope stays 0.
        let x = Array2::<f64>::zeros((100, 1));
        let f = fit_cumulative(&x, &class, 0.0).unwrap();
        let logit = |p: f64| (p / (1.0 - p)).ln();
        for (got, p) in f.intercepts.iter().zip([0.6, 0.3, 0.1]) {
            assert!((got - logit(p)).abs() < 1e-3, "{f:?}");
        }
        assert!(f.coefs[0].abs() < 1e-9);
    }
}
