//! Tests of the generator: determinism, valid and unique codes, the documented shares, the
//! dependence of the credit class on the features, and the consistency of the four tables.

use std::collections::{HashMap, HashSet};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Float64Type, Int32Type};

use super::*;
use crate::schema::{CreditClass, Tier};
use crate::uscc::UsccCheck;

const ALL_TABLES: Tables = Tables {
    emissions: true,
    history: Month::new(2026, 6),
};

fn run(rows: u64, seed: u64, tables: Tables) -> Vec<GenBatch> {
    Generator::new(GenParams::new(rows, seed))
        .unwrap()
        .batches(tables)
        .collect()
}

fn concat(batches: &[RecordBatch]) -> RecordBatch {
    arrow::compute::concat_batches(&batches[0].schema(), batches).unwrap()
}

fn enterprises(bs: &[GenBatch]) -> RecordBatch {
    concat(&bs.iter().map(|b| b.enterprises.clone()).collect::<Vec<_>>())
}

fn emissions(bs: &[GenBatch]) -> RecordBatch {
    concat(
        &bs.iter()
            .filter_map(|b| b.emissions.clone())
            .collect::<Vec<_>>(),
    )
}

fn history(bs: &[GenBatch]) -> RecordBatch {
    concat(
        &bs.iter()
            .filter_map(|b| b.history.clone())
            .collect::<Vec<_>>(),
    )
}

fn strings(b: &RecordBatch, col: &str) -> Vec<Option<String>> {
    let a = b.column_by_name(col).unwrap().as_string::<i32>();
    (0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i).to_string()))
        .collect()
}

fn ints(b: &RecordBatch, col: &str) -> Vec<Option<i32>> {
    let a = b.column_by_name(col).unwrap().as_primitive::<Int32Type>();
    (0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i)))
        .collect()
}

fn floats(b: &RecordBatch, col: &str) -> Vec<Option<f64>> {
    let a = b.column_by_name(col).unwrap().as_primitive::<Float64Type>();
    (0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i)))
        .collect()
}

fn bools(b: &RecordBatch, col: &str) -> Vec<Option<bool>> {
    let a = b.column_by_name(col).unwrap().as_boolean();
    (0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i)))
        .collect()
}

fn share<T: PartialEq>(xs: &[T], v: &T) -> f64 {
    xs.iter().filter(|x| *x == v).count() as f64 / xs.len() as f64
}

#[test]
fn same_params_same_batches_different_seed_different_data() {
    let a = run(20_000, 7, ALL_TABLES);
    let b = run(20_000, 7, ALL_TABLES);
    assert_eq!(a.len(), 1);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.enterprises, y.enterprises);
        assert_eq!(x.emissions, y.emissions);
        assert_eq!(x.history, y.history);
    }
    let g = Generator::new(GenParams::new(20_000, 7)).unwrap();
    assert_eq!(g.inspectors(), g.inspectors());

    let c = run(20_000, 8, ALL_TABLES);
    let (ea, ec) = (enterprises(&a), enterprises(&c));
    for col in ["uscc", "name", "district", "tier", "credit_class"] {
        let (x, y) = (strings(&ea, col), strings(&ec, col));
        let same = x.iter().zip(&y).filter(|(p, q)| p == q).count();
        // Even the 4-valued tier column agrees on well under 90 % of rows by chance.
        assert!(
            same < x.len() * 9 / 10,
            "{col}: {same} of {} equal",
            x.len()
        );
    }
    assert_ne!(emissions(&a), emissions(&c));
}

#[test]
fn batching_and_threads_do_not_change_the_rows() {
    let rows = 3 * BLOCK_ROWS as u64 + 123;
    let big = run(rows, 11, ALL_TABLES);
    let small_params = GenParams {
        batch_rows: BLOCK_ROWS,
        ..GenParams::new(rows, 11)
    };
    let g = Generator::new(small_params).unwrap();
    assert_eq!(g.batch_count(), 4);
    // The parallel iterator gives what one-at-a-time generation on this thread gives, even when
    // the batches are made last first.
    let small: Vec<GenBatch> = g.batches(ALL_TABLES).collect();
    let mut direct: Vec<GenBatch> = (0..4).rev().map(|i| g.batch(i, &ALL_TABLES)).collect();
    direct.reverse();
    assert_eq!(small.len(), 4);
    assert_eq!(small[3].first_row, 3 * BLOCK_ROWS as u64);
    assert_eq!(small[3].enterprises.num_rows(), 123);
    assert_eq!(enterprises(&big), enterprises(&small));
    assert_eq!(emissions(&big), emissions(&small));
    assert_eq!(history(&big), history(&small));
    assert_eq!(enterprises(&direct), enterprises(&small));

    // A smaller run is a prefix of a larger one.
    let prefix = enterprises(&run(1000, 11, ALL_TABLES));
    assert_eq!(prefix, enterprises(&big).slice(0, 1000));
    // Asking for fewer tables leaves the enterprises unchanged.
    assert_eq!(
        enterprises(&run(rows, 11, Tables::default())),
        enterprises(&big)
    );
}

#[test]
fn codes_are_valid_unique_and_addressable() {
    let rows = 200_000;
    let bs = run(rows, 3, Tables::default());
    let e = enterprises(&bs);
    let codes = strings(&e, "uscc");
    let districts = strings(&e, "district");
    let mut seen = HashSet::with_capacity(codes.len());
    let mut elsewhere = 0usize;
    for (code, district) in codes.iter().zip(&districts) {
        let code = code.as_deref().unwrap();
        assert!(matches!(uscc::check(code), UsccCheck::Valid(_)), "{code}");
        assert!(code.starts_with("91"), "{code}");
        let reg: u32 = code[2..8].parse().unwrap();
        assert!(crate::district::name(reg).is_some(), "{code}");
        assert_eq!(&code[8..10], "MA");
        assert_eq!(
            org_check(&code.as_bytes()[8..16]),
            code.as_bytes()[16],
            "{code}"
        );
        if code[2..8] != *district.as_deref().unwrap() {
            elsewhere += 1;
        }
        assert!(seen.insert(code.to_string()), "duplicate {code}");
    }
    assert_eq!(seen.len(), rows as usize);
    // REGISTERED_ELSEWHERE = 5 %, less the draws that land on the same district (≈ 14 % of them).
    let f = elsewhere as f64 / rows as f64;
    assert!((0.035..0.05).contains(&f), "registered elsewhere {f}");

    let g = Generator::new(GenParams::new(rows, 3)).unwrap();
    for row in [0u64, 1, 65_535, 65_536, 199_999] {
        assert_eq!(g.uscc(row), codes[row as usize]);
        assert_eq!(
            g.district(row).map(|d| d.to_string()),
            districts[row as usize]
        );
    }
    assert_eq!(g.uscc(rows), None);
}

#[test]
fn organisation_code_check_character() {
    // GB 11714 worked example from DOMAIN.md §5: 59467239-9.
    assert_eq!(org_check(b"59467239"), b'9');
    // 11 − (Σ mod 11) = 11 → '0': all zeros sum to 0.
    assert_eq!(org_check(b"00000000"), b'0');
    // "00000001": Σ = 2, 11 − 2 = 9.
    assert_eq!(org_check(b"00000001"), b'9');
    // "00000050": Σ = 5·4 = 20, 20 mod 11 = 9, 11 − 9 = 2.
    assert_eq!(org_check(b"00000050"), b'2');
    // "10000000": Σ = 3 → 8; "00000005": Σ = 10 → 1; "0000000A": A = 10, Σ = 20 ≡ 9 → 2.
    assert_eq!(org_check(b"10000000"), b'8');
    assert_eq!(org_check(b"00000005"), b'1');
    assert_eq!(org_check(b"0000000A"), b'2');
    // Σ = 1 needs weight·value ≡ 1 (mod 11): 4·3 = 12 ≡ 1 at position 7 → check 10 = X.
    assert_eq!(org_check(b"00000030"), b'X');
}

#[test]
fn shares_match_the_documented_targets() {
    let e = enterprises(&run(100_000, 5, Tables::default()));
    let n = e.num_rows() as f64;
    let tiers = strings(&e, "tier");
    for (tier, target) in TIER_SHARES {
        let s = share(&tiers, &Some(tier.en().to_string()));
        // Binomial standard error at n = 1e5 is ≤ 0.0014; allow about 4 of them.
        assert!((s - target).abs() < 0.006, "{tier}: {s} vs {target}");
    }
    // 小巨人 : 专精特新 = 1035 : 8754 (DOMAIN.md §6.3) within sampling error.
    let lg = share(&tiers, &Some("little_giant".into()));
    let sp = share(&tiers, &Some("specialized".into()));
    let ratio = lg / (lg + sp);
    assert!(
        (ratio - 1035.0 / 8754.0).abs() < 0.012,
        "little giant ratio {ratio}"
    );

    let districts = strings(&e, "district");
    let total: f64 = DISTRICT_WEIGHTS.iter().map(|(_, w)| w).sum();
    for (code, w) in DISTRICT_WEIGHTS {
        let s = share(&districts, &Some(code.to_string()));
        assert!(
            (s - w / total).abs() < 0.006,
            "{code}: {s} vs {}",
            w / total
        );
    }
    let s = |c: u32| share(&districts, &Some(c.to_string()));
    let (haidian, chaoyang) = (s(110108), s(110105));
    for (code, _) in DISTRICT_WEIGHTS {
        if code != 110108 && code != 110105 {
            assert!(s(code) < chaoyang && chaoyang < haidian, "{code}");
        }
    }

    let classes = strings(&e, "credit_class");
    let missing = share(&classes, &None);
    assert!(
        (missing - CLASS_MISSING).abs() < 0.004,
        "missing class {missing}"
    );
    let given = classes.iter().flatten().count() as f64;
    for (class, target) in CLASS_SHARES {
        let s = classes
            .iter()
            .filter(|c| c.as_deref() == Some(class.en()))
            .count() as f64
            / given;
        assert!((s - target).abs() < 0.012, "{class}: {s} vs {target}");
    }
    assert_eq!(e.num_rows() as f64, n);
}

#[test]
fn class_cut_calibration() {
    // CLASS_CUTS are the 40/85/97 % quantiles of the credit score (model.rs); recomputed here on
    // fresh draws they must agree to within the sampling error of 3·10⁵ draws.
    let m = Model::new();
    let mut d = Draw::new(chacha(stream_key(1, "calibration"), 0));
    let mut s: Vec<f64> = (0..300_000)
        .map(|_| model::enterprise(&m, &mut d).1)
        .collect();
    s.sort_by(f64::total_cmp);
    for (q, cut) in [0.40, 0.85, 0.97].into_iter().zip(model::CLASS_CUTS) {
        let v = s[(q * s.len() as f64) as usize];
        assert!((v - cut).abs() < 0.06, "quantile {q}: {v} vs cut {cut}");
    }
}

#[test]
fn credit_class_depends_on_the_features() {
    let e = enterprises(&run(100_000, 9, Tables::default()));
    let classes = strings(&e, "credit_class");
    let by_class = |col: &str| -> HashMap<String, f64> {
        let v = ints(&e, col);
        let mut sum: HashMap<String, (f64, f64)> = HashMap::new();
        for (c, x) in classes.iter().zip(&v) {
            if let (Some(c), Some(x)) = (c, x) {
                let s = sum.entry(c.clone()).or_default();
                s.0 += f64::from(*x);
                s.1 += 1.0;
            }
        }
        sum.into_iter().map(|(k, (s, n))| (k, s / n)).collect()
    };
    for col in [
        "abnormal_list_3y",
        "admin_penalties_3y",
        "annual_report_late_3y",
        "complaints_12m",
    ] {
        let m = by_class(col);
        assert!(
            m["A"] < m["B"] && m["B"] < m["C"] && m["C"] < m["D"],
            "{col}: {m:?}"
        );
    }
    let flags = |col: &str, class: &str| {
        let v = bools(&e, col);
        let (mut yes, mut n) = (0.0, 0.0);
        for (c, x) in classes.iter().zip(&v) {
            if c.as_deref() == Some(class) {
                n += 1.0;
                yes += f64::from(u8::from(x.unwrap()));
            }
        }
        yes / n
    };
    assert!(flags("judgment_debtor", "D") > 5.0 * flags("judgment_debtor", "A"));
    assert!(flags("serious_illegal", "D") > 5.0 * flags("serious_illegal", "A"));
    let tax = strings(&e, "tax_credit_grade");
    let tax_share = |grade: &str, class: &str| {
        let rows: Vec<_> = classes
            .iter()
            .zip(&tax)
            .filter(|(c, _)| c.as_deref() == Some(class))
            .map(|(_, t)| t.clone())
            .collect();
        share(&rows, &Some(grade.to_string()))
    };
    assert!(tax_share("A", "A") > 2.0 * tax_share("A", "D"));
    assert!(tax_share("D", "D") > 5.0 * tax_share("D", "A"));

    // Better tiers are safer: the A share of little giants exceeds that of `none`.
    let tiers = strings(&e, "tier");
    let a_share = |tier: Tier| {
        let rows: Vec<_> = classes
            .iter()
            .zip(&tiers)
            .filter(|(c, t)| c.is_some() && t.as_deref() == Some(tier.en()))
            .map(|(c, _)| c.clone())
            .collect();
        share(&rows, &Some(CreditClass::A.en().to_string()))
    };
    assert!(a_share(Tier::LittleGiant) > a_share(Tier::None) + 0.05);
}

/// pollutants.csv of the reference folder: `code → (medium, equivalent_kg)`.
fn reference_pollutants() -> HashMap<String, (String, f64)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        root.join("data/pollutants.csv"),
        root.join("../shared/reference/pollutants.csv"),
        root.join("../../shared/reference/pollutants.csv"),
    ];
    let path = candidates
        .iter()
        .find(|p| p.exists())
        .expect("pollutants.csv: in data/ or in shared/reference/ beside the checkout");
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = HashMap::new();
    for line in text.lines().skip(1) {
        // Quoted names hold commas, but code, medium, class and value never do: split from both ends.
        let code = line.split(',').next().unwrap().to_string();
        let fields: Vec<&str> = line.rsplitn(4, ',').collect();
        let equivalent: f64 = fields[0].parse().unwrap();
        let medium = fields[2].to_string();
        out.insert(code, (medium, equivalent));
    }
    out
}

#[test]
fn pollutant_tables_match_the_reference() {
    let reference = reference_pollutants();
    assert!(reference.len() > 100);
    for p in AIR_POLLUTANTS.iter().chain(&WATER_POLLUTANTS) {
        let (medium, eq) = &reference[p.code];
        assert_eq!(medium, p.medium.en(), "{}", p.code);
        assert_eq!(*eq, p.equivalent_kg, "{}", p.code);
    }
}

#[test]
fn emissions_belong_to_generated_enterprises_and_sum_to_pe() {
    let bs = run(50_000, 13, ALL_TABLES);
    let (e, m) = (enterprises(&bs), emissions(&bs));
    let reference = reference_pollutants();
    let codes = strings(&e, "uscc");
    let index: HashMap<&str, usize> = codes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_deref().unwrap(), i))
        .collect();
    let (pe_air, pe_water) = (floats(&e, "pe_air"), floats(&e, "pe_water"));
    let mut sums = vec![(0.0f64, 0.0f64); codes.len()];
    let mut outlets: HashMap<(usize, String), HashSet<String>> = HashMap::new();
    let (mu, me, mp, ma) = (
        strings(&m, "uscc"),
        strings(&m, "medium"),
        strings(&m, "pollutant"),
        floats(&m, "amount_kg"),
    );
    let mo = strings(&m, "outlet");
    for i in 0..m.num_rows() {
        let row = index[mu[i].as_deref().unwrap()];
        let (medium, pollutant) = (me[i].clone().unwrap(), mp[i].clone().unwrap());
        let (ref_medium, eq) = &reference[&pollutant];
        assert_eq!(*ref_medium, medium);
        let amount = ma[i].unwrap();
        assert!(amount >= 0.0 && amount.is_finite());
        let outlet = mo[i].clone().unwrap();
        assert_eq!(&outlet[..2], if medium == "air" { "DA" } else { "DW" });
        assert!(outlets.entry((row, outlet)).or_default().insert(pollutant));
        if medium == "air" {
            sums[row].0 += amount / eq;
        } else {
            sums[row].1 += amount / eq;
        }
    }
    for (i, (a, w)) in sums.iter().enumerate() {
        match (pe_air[i], pe_water[i]) {
            (Some(pa), Some(pw)) => {
                assert!((pa - a).abs() <= 1e-9 * a.max(1.0), "row {i}: {pa} vs {a}");
                assert!((pw - w).abs() <= 1e-9 * w.max(1.0), "row {i}: {pw} vs {w}");
            }
            (None, None) => assert_eq!((*a, *w), (0.0, 0.0), "row {i} has rows but null pe"),
            other => panic!("row {i}: half-null pe {other:?}"),
        }
    }
    // Most enterprises have no emission rows; outlets have 1–4 pollutants; at most 3 outlets.
    let with_rows: HashSet<usize> = outlets.keys().map(|(r, _)| *r).collect();
    let f = with_rows.len() as f64 / codes.len() as f64;
    assert!((0.05..0.5).contains(&f), "share with emissions {f}");
    assert!(outlets.values().all(|p| (1..=4).contains(&p.len())));
    let mut per_ent: HashMap<usize, usize> = HashMap::new();
    for (r, _) in outlets.keys() {
        *per_ent.entry(*r).or_default() += 1;
    }
    assert!(per_ent.values().all(|n| (1..=3).contains(n)));
    // Heavy tail: the top 1 % of emitters hold a large share of all pollution equivalents.
    let mut totals: Vec<f64> = sums
        .iter()
        .map(|(a, w)| a + w)
        .filter(|t| *t > 0.0)
        .collect();
    totals.sort_by(|x, y| y.total_cmp(x));
    let all: f64 = totals.iter().sum();
    let top: f64 = totals[..totals.len() / 100].iter().sum();
    assert!(top / all > 0.2, "top 1 % hold {}", top / all);
    // Key permit holders: every emission band occurs (SPEC §3.2 thresholds 2000 / 20000).
    let permits = strings(&e, "permit_class");
    let bands: HashSet<u8> = (0..codes.len())
        .filter(|&i| permits[i].as_deref() == Some("key"))
        .map(|i| {
            let t = sums[i].0 + sums[i].1;
            u8::from(t >= 2000.0) + u8::from(t >= 20_000.0)
        })
        .collect();
    assert_eq!(bands.len(), 3, "bands of key permit holders {bands:?}");
}

#[test]
fn environmental_columns_are_plausible() {
    let e = enterprises(&run(100_000, 17, Tables::default()));
    let permits = strings(&e, "permit_class");
    let monitoring = bools(&e, "online_monitoring");
    let penalties = ints(&e, "env_penalties_24m");
    let rate = |permit: &str, f: &dyn Fn(usize) -> bool| {
        let rows: Vec<usize> = (0..permits.len())
            .filter(|&i| permits[i].as_deref() == Some(permit))
            .collect();
        rows.iter().filter(|&&i| f(i)).count() as f64 / rows.len() as f64
    };
    // MONITORING: key 0.85, none 0.01 (less the 2 % nulls).
    let key_mon = rate("key", &|i| monitoring[i] == Some(true));
    assert!(
        (key_mon - 0.85 * 0.98).abs() < 0.03,
        "key monitoring {key_mon}"
    );
    assert!(rate("none", &|i| monitoring[i] == Some(true)) < 0.03);
    // Penalties are mostly 0.
    let zero = share(&penalties, &Some(0));
    assert!(zero > 0.9, "penalty-free share {zero}");
    assert!(penalties.iter().flatten().all(|p| *p >= 0));
    assert!(share(&permits, &None) > 0.005);

    // HJ 941: whenever q ≥ 1 the medium has M and E (so a level can be computed).
    for (q, m, x) in [
        ("air_q", "air_m", "air_e"),
        ("water_q", "water_m", "water_e"),
    ] {
        let (q, m, x) = (floats(&e, q), floats(&e, m), strings(&e, x));
        let mut levels = HashSet::new();
        for i in 0..q.len() {
            if let Some(q) = q[i] {
                assert!(q >= 0.0);
                if q >= 1.0 {
                    assert!(m[i].is_some() && x[i].is_some(), "row {i}");
                    levels.insert(u8::from(q >= 10.0) + u8::from(q >= 100.0));
                }
            } else {
                assert!(m[i].is_none() && x[i].is_none());
            }
        }
        assert_eq!(levels.len(), 3, "Q1, Q2 and Q3 all occur");
    }
    let filed = strings(&e, "env_risk_level");
    for level in ["general", "larger", "major"] {
        assert!(share(&filed, &Some(level.to_string())) > 0.0005, "{level}");
    }
}

#[test]
fn history_lies_in_the_window_before_the_month() {
    let bs = run(30_000, 21, ALL_TABLES);
    let (e, h) = (enterprises(&bs), history(&bs));
    let codes: HashSet<String> = strings(&e, "uscc").into_iter().flatten().collect();
    let dates = strings(&h, "date");
    let depts = strings(&h, "department");
    let modes = strings(&h, "mode");
    assert!(h.num_rows() > 3000, "{} history rows", h.num_rows());
    let mut months = HashSet::new();
    for (i, u) in strings(&h, "uscc").iter().enumerate() {
        assert!(codes.contains(u.as_deref().unwrap()));
        let d = dates[i].as_deref().unwrap();
        // ALL_TABLES.history is 2026-06: dates from 2025-06-01 to 2026-05-31.
        assert!(("2025-06-01"..="2026-05-31").contains(&d), "{d}");
        months.insert(d[..7].to_string());
        assert!(matches!(depts[i].as_deref(), Some("market" | "ecology")));
        assert!(matches!(modes[i].as_deref(), Some("onsite" | "non_site")));
    }
    assert_eq!(months.len(), 12);
    // Market on-site checks follow the class: D enterprises are checked far more often than A.
    let classes = strings(&e, "credit_class");
    let class_of: HashMap<String, Option<String>> = strings(&e, "uscc")
        .into_iter()
        .flatten()
        .zip(classes)
        .collect();
    let mut checks: HashMap<String, f64> = HashMap::new();
    for (i, u) in strings(&h, "uscc").iter().enumerate() {
        if depts[i].as_deref() == Some("market")
            && modes[i].as_deref() == Some("onsite")
            && let Some(Some(c)) = class_of.get(u.as_deref().unwrap())
        {
            *checks.entry(c.clone()).or_default() += 1.0;
        }
    }
    let per = |c: &str| {
        checks.get(c).copied().unwrap_or(0.0)
            / class_of
                .values()
                .filter(|x| x.as_deref() == Some(c))
                .count() as f64
    };
    assert!(
        per("D") > 10.0 * per("A"),
        "D {} vs A {}",
        per("D"),
        per("A")
    );
}

#[test]
fn inspectors_cover_every_district_with_real_conflicts() {
    let rows = 200_000;
    let g = Generator::new(GenParams::new(rows, 2)).unwrap();
    let t = g.inspectors();
    let ids = strings(&t, "inspector_id");
    let dept = strings(&t, "department");
    let dist = strings(&t, "district");
    let conf = strings(&t, "conflicts");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
    for (code, _) in DISTRICT_WEIGHTS.iter().map(|(c, w)| (c.to_string(), w)) {
        for d in ["market", "ecology"] {
            let n = (0..ids.len())
                .filter(|&i| dist[i].as_deref() == Some(&code) && dept[i].as_deref() == Some(d))
                .count();
            assert!(n >= 3, "{code} {d}: {n}");
        }
    }
    assert!(dist.iter().any(|d| d.as_deref() == Some("*")));
    // 海淀: 26.5 % of 200 000 = 53 000 enterprises → ⌈53 000 / 1 500⌉ = 36 market inspectors.
    let haidian = (0..ids.len())
        .filter(|&i| dist[i].as_deref() == Some("110108") && dept[i].as_deref() == Some("market"))
        .count();
    assert_eq!(haidian, 36);
    let all: HashMap<String, u32> = (0..rows)
        .map(|r| (g.uscc(r).unwrap(), g.district(r).unwrap()))
        .collect();
    let mut with_conflicts = 0;
    for i in 0..ids.len() {
        if let Some(c) = &conf[i] {
            with_conflicts += 1;
            for code in c.split(';') {
                let d = all
                    .get(code)
                    .expect("a conflict names a generated enterprise");
                if dist[i].as_deref() != Some("*") {
                    assert_eq!(Some(d.to_string()), dist[i]);
                }
            }
        }
    }
    assert!(
        with_conflicts >= 3,
        "{with_conflicts} inspectors with conflicts"
    );
}

#[test]
fn parameters_are_checked() {
    let bad_batch = GenParams {
        batch_rows: 1000,
        ..GenParams::new(10, 1)
    };
    assert!(matches!(
        Generator::new(bad_batch),
        Err(Error::Argument { ref argument, .. }) if argument == "batch_rows"
    ));
    assert!(matches!(
        Generator::new(GenParams::new(MAX_ROWS + 1, 1)),
        Err(Error::Argument { ref argument, .. }) if argument == "rows"
    ));
    let empty = Generator::new(GenParams::new(0, 1)).unwrap();
    assert_eq!(empty.batch_count(), 0);
    assert_eq!(empty.batches(ALL_TABLES).count(), 0);
    assert!(empty.inspectors().num_rows() > 0);
    // Schemas carry the English names of SPEC §1.
    let names: Vec<String> = enterprise_schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    for col in crate::schema::ent::ALL
        .iter()
        .chain(crate::schema::feat::ALL)
    {
        assert!(names.contains(&col.name.to_string()), "{}", col.name);
    }
    assert_eq!(
        names.len(),
        crate::schema::ent::ALL.len() + crate::schema::feat::ALL.len()
    );
}

#[test]
fn dropping_the_iterator_early_stops_cleanly() {
    let g = Generator::new(GenParams {
        batch_rows: BLOCK_ROWS,
        ..GenParams::new(40 * BLOCK_ROWS as u64, 1)
    })
    .unwrap();
    let mut it = g.batches(Tables::default());
    assert_eq!(it.len(), 40);
    let first = it.next().unwrap();
    assert_eq!(first.index, 0);
    assert_eq!(it.len(), 39);
    drop(it); // must not hang or panic
}
