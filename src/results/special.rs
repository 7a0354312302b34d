//! Special functions the interval of SPEC §9.3 needs: log-gamma, the regularized incomplete beta
//! function I_x(a, b), its inverse (the Beta quantile `Beta⁻¹(p; a, b)`, R's `qbeta`) and Student's
//! t quantile (R's `qt`). Pure `f64` code, no dependency: log-gamma by Lanczos (g = 7, 9 terms),
//! I_x(a, b) by its continued fraction evaluated with the modified Lentz method (Numerical Recipes
//! §6.4), the inverse by Newton's method safeguarded by bisection, and the t quantile through the
//! identity P(|T| ≤ t) = I_{t²/(ν+t²)}(½, ν/2). Checked against SciPy 1.17 at many points
//! (`results::tests`, vectors from `benches/compare/results/special_vectors.py`): relative error
//! below 1e-9 everywhere tested.

use std::f64::consts::PI;

const LANCZOS_G: f64 = 7.0;
const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// ln Γ(x) for x > 0 (Lanczos approximation; reflection below ½).
pub fn ln_gamma(x: f64) -> f64 {
    if x < 0.5 {
        // Γ(x)Γ(1−x) = π / sin(πx); x > 0 here, so sin(πx) > 0.
        return (PI / (PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = LANCZOS[0];
    for (i, c) in LANCZOS.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    let t = x + LANCZOS_G + 0.5;
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b).
fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// The continued fraction of I_x(a, b) (modified Lentz), valid for x < (a + 1)/(a + b + 2).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-16;
    // Converges in O(√max(a, b)) terms; the cap only guards against a non-finite argument.
    const MAX_TERMS: usize = 1_000_000;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..MAX_TERMS {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function I_x(a, b) = P(X ≤ x) for X ~ Beta(a, b), a, b > 0.
///
/// ```
/// use spotcheck::results::special::beta_cdf;
/// // Beta(2, 3) ≤ ½ ⇔ at least 2 of 4 fair coins: 11/16.
/// assert!((beta_cdf(0.5, 2.0, 3.0) - 0.6875).abs() < 1e-14);
/// ```
pub fn beta_cdf(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (a * x.ln() + b * (-x).ln_1p() - ln_beta(a, b)).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

/// The density of Beta(a, b) at x in (0, 1).
fn beta_pdf(x: f64, a: f64, b: f64) -> f64 {
    ((a - 1.0) * x.ln() + (b - 1.0) * (-x).ln_1p() - ln_beta(a, b)).exp()
}

/// The Beta quantile `Beta⁻¹(p; a, b)`: the x in [0, 1] with I_x(a, b) = p (R `qbeta(p, a, b)`),
/// for p in [0, 1] and a, b > 0. Newton's method on I_x − p, kept inside a shrinking bracket
/// (a bisection step whenever Newton would leave it), to a relative precision of about 1e-14.
///
/// ```
/// use spotcheck::results::special::beta_quantile;
/// // Beta(1, 1) is uniform; Beta(2, 1) has CDF x².
/// assert!((beta_quantile(0.3, 1.0, 1.0) - 0.3).abs() < 1e-12);
/// assert!((beta_quantile(0.25, 2.0, 1.0) - 0.5).abs() < 1e-12);
/// ```
pub fn beta_quantile(p: f64, a: f64, b: f64) -> f64 {
    if p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    let mut x = (a / (a + b)).clamp(1e-3, 1.0 - 1e-3);
    for _ in 0..400 {
        let f = beta_cdf(x, a, b) - p;
        if f == 0.0 {
            return x;
        }
        if f < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let dens = beta_pdf(x, a, b);
        let newton = x - f / dens;
        let next = if dens.is_finite() && dens > 0.0 && newton > lo && newton < hi {
            newton
        } else if lo == 0.0 && hi < 1.0 {
            // Far in the lower tail: halve geometrically so tiny quantiles are reached quickly.
            hi / 2.0
        } else {
            0.5 * (lo + hi)
        };
        if (next - x).abs() <= 1e-15 * x.max(1e-300) || hi - lo <= 1e-15 * hi {
            return next;
        }
        x = next;
    }
    x
}

/// Student's t quantile: the t with P(T ≤ t) = p for T with `df` degrees of freedom (R
/// `qt(p, df)`), p in (0, 1), df > 0.
///
/// ```
/// use spotcheck::results::special::t_quantile;
/// assert!((t_quantile(0.975, 1.0) - 12.706_204_736_174_7).abs() < 1e-9); // tan(0.475π)
/// assert!((t_quantile(0.025, 3.0) + 3.182_446_305_284_263).abs() < 1e-9);
/// ```
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if p == 0.5 {
        return 0.0;
    }
    // Two-sided: P(|T| ≤ t) = q, and t²/(df + t²) ~ Beta(½, df/2).
    let q = (2.0 * p - 1.0).abs();
    let y = beta_quantile(q, 0.5, df / 2.0);
    let t = (df * y / (1.0 - y)).sqrt();
    if p < 0.5 { -t } else { t }
}
