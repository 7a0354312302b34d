//! Tests of the §9.3 estimators: the worked example (R `survey` figures), the special functions
//! against SciPy, the category table, and a simulation of the interval's coverage.

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::category::{self, Kind};
use super::estimate::{Design, Estimate, Observation, caught_share, estimate, lift};
use super::special::{beta_cdf, beta_quantile, ln_gamma, t_quantile};
use crate::sample::systematic::systematic;

fn worked() -> Vec<Observation> {
    // SPEC §9.3: units 1, 5, 7, 9 of one stratum, π .2 .4 .5 .6, y 0 1 0 1.
    [(0.2, false), (0.4, true), (0.5, false), (0.6, true)]
        .iter()
        .map(|&(pi, violation)| Observation {
            violation,
            pi,
            stratum: 7,
        })
        .collect()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn worked_example_of_spec_9_3() {
    let r = worked();
    let d = Design::new(&r);
    let all = estimate(&r, &d, |_| true);
    // Figures from SPEC §9.3 (R 4.2.2, survey 4.1-1, sampling 2.9).
    assert!(close(all.rate.unwrap(), 0.37313, 1e-5), "{all:?}");
    assert!(close(all.se.unwrap(), 0.23060, 1e-5), "{all:?}");
    let (lo, hi) = all.ci.unwrap();
    assert!(close(lo, 0.03418, 1e-5), "{lo}");
    assert!(close(hi, 0.86008, 1e-5), "{hi}");
    assert!(close(all.ht_violators, 4.16667, 1e-5));
    assert_eq!((all.n, all.violations, all.df), (4, 2, 3));
    assert_eq!(all.hit_rate, Some(0.5));
    // Caught share: 2 found of 4.16667 estimated.
    assert!(close(
        caught_share(&all).unwrap(),
        2.0 / 4.166_666_666_666_667,
        1e-12
    ));

    let a = estimate(&r, &d, |i| i == 0 || i == 3); // units 1 and 9
    assert!(close(a.rate.unwrap(), 0.25, 1e-5), "{a:?}");
    assert!(close(a.se.unwrap(), 0.23717, 1e-5), "{a:?}");
    let b = estimate(&r, &d, |i| i == 1 || i == 2); // units 5 and 7
    assert!(close(b.rate.unwrap(), 0.55556, 1e-5), "{b:?}");
    assert!(close(b.se.unwrap(), 0.29903, 1e-5), "{b:?}");
    // n_D = 2 in one stratum: df = 1, so the domains have an interval too.
    assert_eq!(a.df, 1);
    assert!(a.ci.is_some());
    // Lift of domain {5, 7}: hit rate 1/2 over the department's 0.37313.
    assert!(close(
        lift(&b, all.rate).unwrap(),
        0.5 / all.rate.unwrap(),
        1e-12
    ));
}

#[test]
fn small_strata_are_pooled_and_empty_domains_have_no_rate() {
    // Strata 1 and 2 hold one unit each: pooled into one stratum of 2; stratum 3 holds 3.
    let r: Vec<Observation> = [
        (1, 0.5, true),
        (2, 0.25, false),
        (3, 0.5, false),
        (3, 0.5, true),
        (3, 0.2, false),
    ]
    .iter()
    .map(|&(stratum, pi, violation)| Observation {
        violation,
        pi,
        stratum,
    })
    .collect();
    let d = Design::new(&r);
    assert_eq!(d.sizes, vec![3, 2]);
    assert_eq!(d.stratum, vec![1, 1, 0, 0, 0]);
    let all = estimate(&r, &d, |_| true);
    assert_eq!(all.df, 5 - 2);
    // Hand computation: N̂ = 2+4+2+2+5 = 15, Σy/π = 4, p = 4/15.
    let p = 4.0 / 15.0;
    assert!(close(all.rate.unwrap(), p, 1e-15));
    let n_hat = 15.0;
    let zp = |y: f64, pi: f64| (y - p) / n_hat / pi;
    let strat = |u: &[(f64, f64)]| {
        let v: Vec<f64> = u.iter().map(|&(y, pi)| zp(y, pi)).collect();
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let n = v.len() as f64;
        n / (n - 1.0)
            * u.iter()
                .zip(&v)
                .map(|(&(_, pi), z)| (1.0 - pi) * (z - m) * (z - m))
                .sum::<f64>()
    };
    let v = strat(&[(0.0, 0.5), (1.0, 0.5), (0.0, 0.2)]) + strat(&[(1.0, 0.5), (0.0, 0.25)]);
    assert!(close(all.se.unwrap(), v.sqrt(), 1e-15));
    // A domain nobody in r belongs to.
    let none = estimate(&r, &d, |_| false);
    assert_eq!(none, Estimate::default());
    // A single unit: a rate, no interval.
    let one = estimate(&r, &d, |i| i == 0);
    assert_eq!(one.rate, Some(1.0));
    assert_eq!(one.ci, None);
    // Two units in two pooled strata... here both in the collapsed one: df = 1.
    let two = estimate(&r, &d, |i| i < 2);
    assert_eq!(two.df, 1);
    assert!(two.ci.is_some());
}

#[test]
fn rate_zero_and_one_have_one_sided_intervals() {
    let r: Vec<Observation> = (0..6)
        .map(|i| Observation {
            violation: false,
            pi: 0.1 + 0.1 * i as f64,
            stratum: 0,
        })
        .collect();
    let d = Design::new(&r);
    let e = estimate(&r, &d, |_| true);
    assert_eq!(e.rate, Some(0.0));
    assert_eq!(e.se, Some(0.0));
    // v = 0: n_eff = n_D = 6; the upper end is the Clopper-Pearson 1 − 0.025^(1/6).
    let (lo, hi) = e.ci.unwrap();
    assert_eq!(lo, 0.0);
    assert!(close(hi, 1.0 - 0.025f64.powf(1.0 / 6.0), 1e-12), "{hi}");
    assert_eq!(caught_share(&e), None);
    assert_eq!(lift(&e, e.rate), None);
    let r1: Vec<Observation> = r
        .iter()
        .map(|o| Observation {
            violation: true,
            ..*o
        })
        .collect();
    let e1 = estimate(&r1, &Design::new(&r1), |_| true);
    let (lo, hi) = e1.ci.unwrap();
    assert_eq!(hi, 1.0);
    assert!(close(lo, 0.025f64.powf(1.0 / 6.0), 1e-12), "{lo}");
}

#[derive(serde::Deserialize)]
struct Vectors {
    scipy: String,
    beta_cdf: Vec<[f64; 4]>,
    beta_quantile: Vec<[f64; 4]>,
    t_quantile: Vec<[f64; 3]>,
}

#[test]
fn special_functions_match_scipy() {
    // benches/compare/results/special_vectors.py (SciPy's betainc, betaincinv, t.ppf).
    let v: Vectors =
        serde_json::from_str(include_str!("testdata/special.json")).expect("valid vectors");
    assert!(v.scipy.starts_with('1'));
    let rel = |got: f64, want: f64| (got - want).abs() / want.abs().max(1e-300);
    let mut worst = (0.0, String::new());
    for &[x, a, b, want] in &v.beta_cdf {
        let got = beta_cdf(x, a, b);
        // Absolute for values near 0 (a relative error there is below f64's reach).
        let err = if want < 1e-200 {
            (got - want).abs()
        } else {
            rel(got, want).min((got - want).abs() * 1e3)
        };
        if err > worst.0 {
            worst = (err, format!("I_{x}({a}, {b}) = {got}, scipy {want}"));
        }
    }
    assert!(worst.0 < 1e-9, "worst beta_cdf: {}", worst.1);
    let mut worst = (0.0, String::new());
    for &[p, a, b, want] in &v.beta_quantile {
        let got = beta_quantile(p, a, b);
        let err = rel(got, want).min((got - want).abs() * 1e3);
        if err > worst.0 {
            worst = (err, format!("Beta⁻¹({p}; {a}, {b}) = {got}, scipy {want}"));
        }
    }
    assert!(worst.0 < 1e-9, "worst beta_quantile: {}", worst.1);
    let mut worst = (0.0, String::new());
    for &[p, df, want] in &v.t_quantile {
        let got = t_quantile(p, df);
        let err = rel(got, want);
        if err > worst.0 {
            worst = (err, format!("qt({p}, {df}) = {got}, scipy {want}"));
        }
    }
    assert!(worst.0 < 1e-9, "worst t_quantile: {}", worst.1);
    // ln Γ at integers: ln((n−1)!).
    let mut f = 0.0f64;
    for n in 1..60 {
        assert!(close(ln_gamma(n as f64), f, 1e-12 * f.max(1.0)), "lnΓ({n})");
        f += (n as f64).ln();
    }
}

#[test]
fn the_shipped_categories_are_read_whole() {
    let all = category::all();
    assert_eq!(all.len(), category::CATEGORIES_CSV.lines().count() - 1);
    assert_eq!(all.len(), 14);
    let kinds = |k: Kind| all.iter().filter(|c| c.kind == k).count();
    assert_eq!(
        (
            kinds(Kind::Compliant),
            kinds(Kind::Violation),
            kinds(Kind::OutOfScope)
        ),
        (1, 7, 6)
    );
    let no = category::lookup("no_problem").unwrap();
    assert_eq!(category::lookup("未发现问题"), Some(no));
    assert_eq!(category::lookup(" No problem found "), Some(no));
    assert_eq!(all[category::lookup("注销").unwrap()].code, "deregistered");
    assert_eq!(
        all[category::lookup("problem_corrected").unwrap()].kind,
        Kind::Violation
    );
    assert_eq!(category::lookup("fine"), None);
    assert_eq!(category::lookup(""), None);
}

/// One simulated month: a fixed population (true rate known), a πps draw by systematic sampling
/// over a random order per stratum, the estimate. Returns whether the interval covers the truth
/// for the whole population and for one district-sized domain.
fn simulate(pop: &[(u32, f64, bool)], truth: (f64, f64), rng: &mut ChaCha8Rng) -> (bool, bool) {
    let mut r = Vec::new();
    let mut dom = Vec::new();
    for s in 0..4u32 {
        let mut units: Vec<&(u32, f64, bool)> = pop.iter().filter(|u| u.0 == s).collect();
        units.shuffle(rng);
        let walk = systematic(units.iter().map(|u| u.1), rng.random::<f64>());
        for &k in &walk.selected {
            let u = units[k];
            // 10 % of the visits find the unit out of scope or are still pending: they leave r.
            if rng.random::<f64>() < 0.1 {
                continue;
            }
            r.push(Observation {
                violation: u.2,
                pi: u.1,
                stratum: s,
            });
            dom.push(s == 1);
        }
    }
    let d = Design::new(&r);
    let covers = |e: Estimate, t: f64| e.ci.is_some_and(|(lo, hi)| lo <= t && t <= hi);
    (
        covers(estimate(&r, &d, |_| true), truth.0),
        covers(estimate(&r, &d, |i| dom[i]), truth.1),
    )
}

#[test]
fn the_interval_covers_the_true_rate_about_95_percent_of_the_time() {
    // A population of 4000 units in 4 strata; π from a risk score in [0.01, 0.4]; riskier units
    // violate more often (targeting works), so the unweighted hit rate overstates the truth and
    // only the design-weighted estimate can cover it.
    let mut rng = ChaCha8Rng::seed_from_u64(9_31);
    let pop: Vec<(u32, f64, bool)> = (0..4000)
        .map(|i| {
            let risk: f64 = rng.random();
            let pi = 0.01 + 0.39 * risk * risk;
            let violation = rng.random::<f64>() < 0.05 + 0.4 * risk;
            (i % 4, pi, violation)
        })
        .collect();
    let rate = |f: &dyn Fn(&(u32, f64, bool)) -> bool| {
        let n = pop.iter().filter(|u| f(u)).count() as f64;
        pop.iter().filter(|u| f(u) && u.2).count() as f64 / n
    };
    let truth = (rate(&|_| true), rate(&|u| u.0 == 1));
    let reps = 2000;
    let (mut all, mut dom) = (0, 0);
    for seed in 0..reps {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (a, d) = simulate(&pop, truth, &mut rng);
        all += a as u32;
        dom += d as u32;
    }
    let (ca, cd) = (all as f64 / reps as f64, dom as f64 / reps as f64);
    // Measured (2000 draws, this fixed population): whole population 0.950, one stratum 0.9345.
    eprintln!("coverage: all {ca:.4}, domain {cd:.4} (truth {truth:?})");
    assert!(
        (0.93..=0.975).contains(&ca),
        "coverage of the whole population {ca}"
    );
    assert!((0.92..=0.98).contains(&cd), "coverage of a domain {cd}");
}

/// The domain estimator reads only the domain's units; it must give what the textbook formula
/// gives over every unit of r (z = 0 outside the domain), stratum by stratum, on random designs
/// with singleton strata (pooled) and domains of every size.
#[test]
fn a_domain_estimate_equals_the_formula_over_all_of_r() {
    let mut rng = ChaCha8Rng::seed_from_u64(44);
    for case in 0..200 {
        let n = rng.random_range(2..60);
        let strata = rng.random_range(1..8);
        let r: Vec<Observation> = (0..n)
            .map(|_| Observation {
                violation: rng.random_bool(0.3),
                pi: rng.random_range(0.02..1.0),
                stratum: rng.random_range(0..strata),
            })
            .collect();
        let share = rng.random_range(0.0..1.0);
        let member: Vec<bool> = (0..n).map(|_| rng.random_bool(share)).collect();
        let design = Design::new(&r);
        let e = estimate(&r, &design, |i| member[i]);

        // The textbook: z_i = (y_i − p)/N̂ in D, 0 elsewhere; per pooled stratum
        // n_h/(n_h − 1) Σ (1 − π)(z/π − mean z/π)².
        let (mut ht, mut ys) = (0.0, 0.0);
        for (o, &m) in r.iter().zip(&member) {
            if m {
                ht += 1.0 / o.pi;
                ys += f64::from(u8::from(o.violation)) / o.pi;
            }
        }
        if ht == 0.0 {
            assert_eq!(e.rate, None, "case {case}");
            continue;
        }
        let p = ys / ht;
        let zp: Vec<f64> = r
            .iter()
            .zip(&member)
            .map(|(o, &m)| {
                if m {
                    (f64::from(u8::from(o.violation)) - p) / ht / o.pi
                } else {
                    0.0
                }
            })
            .collect();
        let mut v = 0.0;
        for (s, &size) in design.sizes.iter().enumerate() {
            let at: Vec<usize> = (0..n)
                .filter(|&i| design.stratum[i] as usize == s)
                .collect();
            assert_eq!(at.len(), size);
            if size < 2 {
                continue;
            }
            let mean = at.iter().map(|&i| zp[i]).sum::<f64>() / size as f64;
            let dev: f64 = at
                .iter()
                .map(|&i| (1.0 - r[i].pi) * (zp[i] - mean).powi(2))
                .sum();
            v += size as f64 / (size as f64 - 1.0) * dev;
        }
        assert!(close(e.rate.unwrap(), p, 1e-12), "case {case}");
        let se = e.se.unwrap();
        assert!(
            (se - v.sqrt()).abs() <= 1e-12 + 1e-9 * v.sqrt(),
            "case {case}: se {se} vs {}",
            v.sqrt()
        );
    }
}

#[test]
fn results_batch_writes_a_table_that_reads_back_to_the_same_rows() {
    use crate::results::io::{read_results, results_batch};
    use crate::table::{ReadOptions, Rejects, WriteOptions, create};
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    // Chinese and English names, a code, optional cells empty and full, a note with a comma,
    // a quote and a line break.
    std::fs::write(
        &input,
        "统一社会信用代码,抽查月份,检查部门,检查日期,检查结果,问题数,罚没金额,备注\n\
         91110101MAE7DD8M66,2026-12,市场监管,2026-12-15,未发现问题,,,\n\
         91110105MANKE694X1,2026-12,ecology,2026/12/20,problem found; corrected on order,2,5000.5,\"罚款，\"\"已改正\"\"\n见附件\"\n\
         91110108MA7GNG6X10,2026-12,market,2026-12-31,closed,0,0,迁址\n",
    )
    .unwrap();
    let all = |_: crate::sample::Month, _: crate::schema::Department, _: &[u8; 18]| true;
    let read = |p: &std::path::Path| {
        let mut rejects = Rejects::new(false);
        let (rows, counts) = read_results(p, &ReadOptions::default(), &mut rejects, &all).unwrap();
        assert_eq!(
            (counts.read, counts.rejected),
            (3, 0),
            "{:?}",
            rejects.items()
        );
        rows
    };
    let rows = read(&input);
    assert_eq!(rows[1].violations, Some(2));
    assert_eq!(rows[1].penalty_cny, Some(5000.5));
    assert_eq!(rows[1].note.as_deref(), Some("罚款，\"已改正\"\n见附件"));
    for ext in ["csv", "xlsx"] {
        let out = dir.path().join(format!("out.{ext}"));
        let batch = results_batch(&rows).unwrap();
        let headers: Vec<&str> = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(
            headers,
            [
                "uscc",
                "month",
                "department",
                "inspected_on",
                "result",
                "violations",
                "penalty_cny",
                "note"
            ]
        );
        let mut w = create(&out, batch.schema(), &WriteOptions::default()).unwrap();
        w.write(&batch).unwrap();
        w.finish().unwrap();
        let back = read(&out);
        assert_eq!(back, rows, "{ext}");
    }
    let text = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    assert!(
        text.starts_with("uscc,month,department,inspected_on,result,violations,penalty_cny,note\n91110101MAE7DD8M66,2026-12,market,2026-12-15,no_problem,,,\n"),
        "{text}"
    );
}

/// A typed (Parquet) penalty that is NaN or infinite is rejected as an invalid number, as text
/// that is no number would be, and the other rows are read.
#[test]
fn nan_and_infinite_penalties_in_a_typed_file_are_rejected() {
    use crate::input::enterprise::reason;
    use crate::results::io::{read_results, results_batch};
    use crate::table::{ReadOptions, Rejects, WriteOptions, create};
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(
        &input,
        "uscc,month,department,inspected_on,result,penalty_cny\n\
         91110101MAE7DD8M66,2026-12,market,2026-12-15,no_problem,\n\
         91110105MANKE694X1,2026-12,ecology,2026-12-20,problem_corrected,1\n\
         91110108MA7GNG6X10,2026-12,market,2026-12-31,closed,0\n",
    )
    .unwrap();
    let all = |_: crate::sample::Month, _: crate::schema::Department, _: &[u8; 18]| true;
    let read = |p: &std::path::Path| {
        let mut rejects = Rejects::new(false);
        let (rows, counts) = read_results(p, &ReadOptions::default(), &mut rejects, &all).unwrap();
        (rows, counts, rejects)
    };
    let (mut rows, counts, _) = read(&input);
    assert_eq!((counts.read, counts.rejected), (3, 0));
    rows[0].penalty_cny = Some(f64::NAN);
    rows[1].penalty_cny = Some(f64::INFINITY);
    let typed = dir.path().join("typed.parquet");
    let batch = results_batch(&rows).unwrap();
    let mut w = create(&typed, batch.schema(), &WriteOptions::default()).unwrap();
    w.write(&batch).unwrap();
    w.finish().unwrap();
    let (back, counts, rejects) = read(&typed);
    assert_eq!((counts.read, counts.rejected), (3, 2));
    assert_eq!(back, rows[2..]);
    let got = rejects.cells();
    assert_eq!(
        got,
        [
            (1, "penalty_cny", "NaN", reason::NUMBER_INVALID),
            (2, "penalty_cny", "inf", reason::NUMBER_INVALID),
        ]
    );
}
