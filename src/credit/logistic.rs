//! The logistic regression (逻辑回归) of the scorecard, fitted with `linfa-logistic` on the WoE
//! values: `logit P(bad) = intercept + Σ coefᵢ·WoEᵢ`.
//!
//! For classes A–D it fits a cumulative-logit (proportional-odds) model with one shared slope per
//! feature: each row is stacked three times, once per split k ∈ {A|BCD, AB|CD, ABC|D}, with the
//! target "class beyond split k" and two indicator columns that give each split its own intercept.
//! Maximising this stacked (composite) likelihood estimates the shared slopes consistently; the
//! result is one score and three ordered intercepts θ₀ ≤ θ₁ ≤ θ₂.

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
