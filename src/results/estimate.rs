//! The estimators of SPEC §9.3 (normative) as pure functions over one department's estimation
//! sample r — the drawn units whose result is `compliant` or `violation`, each with y (violation
//! or not), its inclusion probability π as drawn and its stratum: the Hájek rate, Brewer's
//! variance approximation by linearisation with strata of fewer than 2 units of r pooled into one
//! collapsed stratum (R `survey` with `pps = "brewer"`), the Korn–Graubard 95 % interval (R
//! `svyciprop(method = "beta")`), the hit rate and the caught share. Domains are given as a
//! membership test over r; units of r outside the domain have z = 0 but still count in their
//! stratum, as in `survey`'s domain estimation.

use super::special::{beta_quantile, t_quantile};

/// One unit of a department's estimation sample r.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// y = 1: the inspection found a violation.
    pub violation: bool,
    /// The unit's inclusion probability for the department, as drawn (0 < π ≤ 1).
    pub pi: f64,
    /// The draw's stratum of the unit (any dense or sparse id).
    pub stratum: u32,
}

/// The strata of r after pooling: strata with fewer than 2 units of r form one collapsed stratum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Design {
    /// The pooled stratum of each unit of r, dense from 0.
    pub stratum: Vec<u32>,
    /// Units of r per pooled stratum.
    pub sizes: Vec<usize>,
}

impl Design {
    /// Pools the strata of `r` (SPEC §9.3). The collapsed stratum, if any, comes last.
    pub fn new(r: &[Observation]) -> Design {
        let mut count: std::collections::BTreeMap<u32, usize> = Default::default();
        for o in r {
            *count.entry(o.stratum).or_default() += 1;
        }
        let mut dense: std::collections::HashMap<u32, u32> = Default::default();
        let mut sizes = Vec::new();
        for (&s, &n) in &count {
            if n >= 2 {
                dense.insert(s, sizes.len() as u32);
                sizes.push(n);
            }
        }
        let small: usize = count.values().filter(|&&n| n < 2).sum();
        let pooled = sizes.len() as u32;
        if small > 0 {
            sizes.push(small);
        }
        let stratum = r
            .iter()
            .map(|o| dense.get(&o.stratum).copied().unwrap_or(pooled))
            .collect();
        Design { stratum, sizes }
    }
}

/// The estimate for one domain D of one department (SPEC §9.3). Figures that do not exist are
/// `None`: no rate without a unit of D in r, no interval when n_D < 2 or df < 1.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Estimate {
    /// n_D: units of D in r (inspected: compliant or violation).
    pub n: usize,
    /// Σ_{r∩D} y: violations found.
    pub violations: usize,
    /// The Hájek rate p.
    pub rate: Option<f64>,
    /// The linearised standard error √v.
    pub se: Option<f64>,
    /// The Korn–Graubard 95 % interval.
    pub ci: Option<(f64, f64)>,
    /// Violations found per inspection, Σy / n_D.
    pub hit_rate: Option<f64>,
    /// The Horvitz–Thompson total of violators Σ_{r∩D} y/π.
    pub ht_violators: f64,
    /// N̂ = Σ_{r∩D} 1/π.
    pub ht_units: f64,
    /// df = n_D − H_D (H_D the pooled strata holding units of D); 0 when there is no unit.
    pub df: usize,
}

/// Estimates the violation rate of the domain `member` (a test on positions in `r`), with
/// `design = Design::new(r)`.
///
/// Worked example of SPEC §9.3 (checked there against R's `survey`):
/// ```
/// use spotcheck::results::estimate::{Design, Observation, estimate};
/// let r: Vec<Observation> = [(0.2, false), (0.4, true), (0.5, false), (0.6, true)]
///     .iter()
///     .map(|&(pi, violation)| Observation { violation, pi, stratum: 0 })
///     .collect();
/// let e = estimate(&r, &Design::new(&r), |_| true);
/// assert!((e.rate.unwrap() - 0.37313).abs() < 1e-5);
/// assert!((e.se.unwrap() - 0.23060).abs() < 1e-5);
/// let (lo, hi) = e.ci.unwrap();
/// assert!((lo - 0.03418).abs() < 1e-5 && (hi - 0.86008).abs() < 1e-5);
/// ```
pub fn estimate(r: &[Observation], design: &Design, member: impl Fn(usize) -> bool) -> Estimate {
    let members: Vec<u32> = (0..r.len() as u32)
        .filter(|&i| member(i as usize))
        .collect();
    estimate_members(r, design, &Strata::new(r, design), &members)
}

/// Per pooled stratum of a design, Σ(1 − π) over its units of r: what the units outside a domain
/// (z = 0) add to the stratum's sum of squares, so a domain's estimate needs only its own units.
#[derive(Debug, Clone, PartialEq)]
pub struct Strata {
    one_minus_pi: Vec<f64>,
}

impl Strata {
    /// Sums 1 − π per pooled stratum of `design` over r.
    pub fn new(r: &[Observation], design: &Design) -> Strata {
        let mut one_minus_pi = vec![0.0; design.sizes.len()];
        for (o, &s) in r.iter().zip(&design.stratum) {
            one_minus_pi[s as usize] += 1.0 - o.pi;
        }
        Strata { one_minus_pi }
    }
}

/// [`estimate`] for the domain whose units of r are `members` (positions in r, ascending), in
/// time proportional to the domain's size: a unit outside the domain has z/π = 0, so its stratum's
/// Σ(1 − π)(z/π − z̄)² gains z̄²·(1 − π) from it, and those terms together are z̄² times the
/// stratum's Σ(1 − π) less the members' share of it.
pub fn estimate_members(
    r: &[Observation],
    design: &Design,
    strata: &Strata,
    members: &[u32],
) -> Estimate {
    let mut e = Estimate::default();
    let mut ys = 0.0;
    for &i in members {
        let o = &r[i as usize];
        e.n += 1;
        let w = 1.0 / o.pi;
        e.ht_units += w;
        if o.violation {
            e.violations += 1;
            ys += w;
        }
    }
    e.ht_violators = ys;
    if e.n == 0 {
        return e;
    }
    let p = ys / e.ht_units;
    e.rate = Some(p);
    e.hit_rate = Some(e.violations as f64 / e.n as f64);

    // Linearisation: z_i = (y_i − p)/N̂ for units of D, 0 for the other units of r; per pooled
    // stratum, the mean of z/π over all its units of r, then Σ (1 − π)(z/π − mean)² × n_h/(n_h − 1).
    let h = design.sizes.len();
    let z_over_pi = |o: &Observation| ((o.violation as u8 as f64) - p) / e.ht_units / o.pi;
    let mut sum = vec![0.0; h];
    let mut own = vec![0.0; h];
    let mut holds = vec![false; h];
    for &i in members {
        let s = design.stratum[i as usize] as usize;
        let o = &r[i as usize];
        sum[s] += z_over_pi(o);
        own[s] += 1.0 - o.pi;
        holds[s] = true;
    }
    let mut dev = vec![0.0; h];
    for &i in members {
        let s = design.stratum[i as usize] as usize;
        let o = &r[i as usize];
        let d = z_over_pi(o) - sum[s] / design.sizes[s] as f64;
        dev[s] += (1.0 - o.pi) * d * d;
    }
    let v: f64 = (0..h)
        .filter(|&s| design.sizes[s] >= 2)
        .map(|s| {
            let n = design.sizes[s] as f64;
            let mean = sum[s] / n;
            // The units of the stratum outside D; never below 0 through rounding.
            let others = (strata.one_minus_pi[s] - own[s]).max(0.0);
            n / (n - 1.0) * (dev[s] + mean * mean * others)
        })
        .sum();
    e.se = Some(v.sqrt());

    // Korn–Graubard: the effective sample size, corrected for the design's degrees of freedom.
    let h_d = holds.iter().filter(|&&x| x).count();
    e.df = e.n - h_d;
    if e.n < 2 || e.df < 1 {
        return e;
    }
    let n_eff = if v == 0.0 {
        e.n as f64
    } else {
        let ratio = t_quantile(0.025, (e.n - 1) as f64) / t_quantile(0.025, e.df as f64);
        p * (1.0 - p) / v * ratio * ratio
    };
    let low = if p == 0.0 {
        0.0
    } else {
        beta_quantile(0.025, n_eff * p, n_eff * (1.0 - p) + 1.0)
    };
    let high = if p == 1.0 {
        1.0
    } else {
        beta_quantile(0.975, n_eff * p + 1.0, n_eff * (1.0 - p))
    };
    e.ci = Some((low, high));
    e
}

/// `caught_share = Σ_r y ÷ Σ_r y/π` for a whole department: the share of its estimated violators
/// that this draw visited. `None` when no violation was found.
pub fn caught_share(all: &Estimate) -> Option<f64> {
    (all.violations > 0).then(|| all.violations as f64 / all.ht_violators)
}

/// `lift = hit_rate / p_all`: how much better than a uniform draw the targeting finds violators.
/// `None` without a hit rate or when the department's rate is 0.
pub fn lift(domain: &Estimate, p_all: Option<f64>) -> Option<f64> {
    match (domain.hit_rate, p_all) {
        (Some(h), Some(p)) if p > 0.0 => Some(h / p),
        _ => None,
    }
}
