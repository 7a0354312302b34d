//! Tests of the whole draw: the reference vectors of `reference/sampling-vectors.json`, the
//! exactness of the selection probabilities, sample sizes, row-order independence, history rules,
//! joint visits, a pinned golden draw, the published vectors in `tests/vectors/`, and the
//! manifest/verify round trip.

use std::collections::{BTreeMap, HashMap, HashSet};

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::*;
use crate::schema::{CreditClass, Department, Mode, Tier};
use crate::uscc;

const REF_SEED: &str = "2026年12月 市场监管 双随机 公开摇号 第1期";
const SAMPLING: SamplingParams = SamplingParams {
    cooldown_months: 3,
    team_size: 2,
};

fn params(
    seed: &str,
    month: &str,
    department: DrawDepartment,
    strata: Strata,
    capacity: Capacity,
) -> DrawParams {
    DrawParams {
        seed: seed.into(),
        month: Month::parse(month).unwrap(),
        department,
        strata,
        capacity,
        sampling: SAMPLING,
        algorithm: Algorithm::Systematic,
    }
}

fn cap(market: Option<u64>, ecology: Option<u64>) -> Capacity {
    Capacity { market, ecology }
}

fn unit(uscc: &str, district: u32, tier: Tier, market: (f64, u32), eco: (f64, u32)) -> FrameUnit {
    FrameUnit {
        uscc: uscc.into(),
        name: format!("企业{}", &uscc[uscc.len() - 4..]),
        district,
        tier,
        credit_class: Some(CreditClass::B),
        market_ratio: market.0,
        market_max_per_year: market.1,
        eco_ratio: eco.0,
        eco_max_per_year: eco.1,
        risk_score: Some(40.0),
    }
}

/// A synthetic frame with the ratios SPEC §3.4/§3.5 produce, valid codes, four districts.
fn synthetic(n: usize, seed: u64) -> Vec<FrameUnit> {
    const DISTRICTS: [u32; 4] = [110101, 110105, 110108, 110302];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut seen = HashSet::new();
    let mut units = Vec::with_capacity(n);
    while units.len() < n {
        let district = DISTRICTS[rng.random_range(0..DISTRICTS.len())];
        let org: String = (0..9)
            .map(|_| uscc::CHARSET[rng.random_range(0..31)] as char)
            .collect();
        // uscc::complete only fails on characters outside the set; these come from it.
        let code = uscc::complete(&format!("91{district}{org}")).unwrap();
        if !seen.insert(code.clone()) {
            continue;
        }
        let tier = Tier::ALL[rng.random_range(0..4)];
        let credit = match rng.random_range(0..100) {
            0..30 => CreditClass::A,
            30..75 => CreditClass::B,
            75..93 => CreditClass::C,
            _ => CreditClass::D,
        };
        let (mut market, mut max) = match credit {
            CreditClass::A => (0.03, 1),
            CreditClass::B => (0.10, 1),
            CreditClass::C => (0.30, 2),
            CreditClass::D => (0.80, 4),
        };
        if credit == CreditClass::A && tier != Tier::None {
            // Rounded to 4 decimals as `spotcheck score` writes it (SPEC §3.6).
            market = crate::score::round::ratio(market * [0.8, 0.6, 0.5, 1.0][tier.index()]);
            max = 1;
        }
        let positive = tier != Tier::None && rng.random_bool(0.25);
        let eco = if positive {
            (0.0, 0)
        } else {
            let base = [0.2, 0.1, 0.05, 0.02, 0.1][rng.random_range(0..5)];
            let risk = [1.0, 1.5, 2.0][rng.random_range(0..3)];
            let band = [0.8, 1.0, 1.5][rng.random_range(0..3)];
            let r = crate::score::round::ratio;
            (r(f64::clamp(r(r(base * risk) * band), 0.01, 1.0)), 2)
        };
        units.push(FrameUnit {
            name: format!("示例企业{:03}有限公司", units.len() + 1),
            uscc: code,
            district,
            tier,
            credit_class: Some(credit),
            market_ratio: market,
            market_max_per_year: max,
            eco_ratio: eco.0,
            eco_max_per_year: eco.1,
            risk_score: Some(f64::from(rng.random_range(0u32..1000)) / 10.0),
        });
    }
    units
}

fn run(units: &[FrameUnit], history: &HistoryIndex, p: &DrawParams) -> Draw {
    draw(&SampleFrame::from_units(units), history, p).unwrap()
}

fn selected_usccs(d: &Draw) -> Vec<String> {
    d.selected.iter().map(|s| s.uscc.clone()).collect()
}

// ---------------------------------------------------------------------------------------------
// reference/sampling-vectors.json (copied to tests/vectors/reference-sampling-vectors.json)

fn reference() -> Value {
    serde_json::from_str(include_str!(
        "../../tests/vectors/reference-sampling-vectors.json"
    ))
    .unwrap()
}

#[test]
fn reference_keys_and_starts() {
    let v = reference();
    let month = v["month"].as_str().unwrap();
    assert_eq!(v["seed"], REF_SEED);
    for k in v["keys"].as_array().unwrap() {
        let d = Department::parse(k["department"].as_str().unwrap()).unwrap();
        let expected: u64 = k["key"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            order_key(REF_SEED, d, month, k["uscc"].as_str().unwrap()),
            expected
        );
    }
    for s in v["starts"].as_array().unwrap() {
        let d = Department::parse(s["department"].as_str().unwrap()).unwrap();
        let stratum = s["stratum"].as_str().unwrap();
        let u: u64 = s["u64"].as_str().unwrap().parse().unwrap();
        assert_eq!(stratum_start_u64(REF_SEED, d, month, stratum), u);
        assert_eq!(
            stratum_start(REF_SEED, d, month, stratum),
            s["start"].as_f64().unwrap()
        );
    }
}

#[test]
fn reference_draws() {
    let v = reference();
    let month = v["month"].as_str().unwrap();
    for case in v["draws"].as_array().unwrap() {
        let units: Vec<FrameUnit> = case["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                unit(
                    u["uscc"].as_str().unwrap(),
                    u["district"].as_str().unwrap().parse().unwrap(),
                    Tier::Specialized,
                    (
                        u["market_ratio"].as_f64().unwrap(),
                        u["market_max_per_year"].as_u64().unwrap() as u32,
                    ),
                    (0.0, 0),
                )
            })
            .collect();
        let p = params(
            REF_SEED,
            month,
            DrawDepartment::parse(case["department"].as_str().unwrap()).unwrap(),
            Strata::parse(case["strata"].as_str().unwrap()).unwrap(),
            cap(case["capacity"].as_u64(), None),
        );
        let frame = SampleFrame::from_units(&units);
        let df = prepare(&frame, &HistoryIndex::new(), &p, Department::Market).unwrap();
        let expected_pi = case["pi"].as_object().unwrap();
        assert_eq!(df.units.len(), expected_pi.len());
        for u in &df.units {
            let want = expected_pi[frame.uscc(u.frame_index())].as_f64().unwrap();
            assert_eq!(
                u.pi.to_bits(),
                want.to_bits(),
                "{}",
                frame.uscc(u.frame_index())
            );
        }
        let d = draw(&frame, &HistoryIndex::new(), &p).unwrap();
        let expected: Vec<&str> = case["selected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(
            selected_usccs(&d),
            expected,
            "capacity {}",
            case["capacity"]
        );
        assert!(
            d.selected
                .iter()
                .all(|s| s.departments == Departments::Market)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Probabilities and sizes

#[test]
fn empirical_frequency_matches_pi() {
    // Eight units in two districts, market capacity 3 → π between 0.1 and 1 (one unit is
    // capped at 1). Over N fixed seeds each unit's selection count is Binomial(N, π) when the
    // hashed starts behave as uniform: the tolerance is 5 binomial σ (√(π(1−π)/N)); for the
    // eight units P(any |z| > 5) ≈ 8 × 5.7e-7 under the null, so a failure means bias, not bad
    // luck (and the seeds are fixed, so the test is deterministic).
    let units = vec![
        unit("91110105AAAAAAAA01", 110105, Tier::None, (0.8, 4), (0.0, 0)),
        unit("91110105AAAAAAAA02", 110105, Tier::None, (0.3, 2), (0.0, 0)),
        unit("91110105AAAAAAAA03", 110105, Tier::None, (0.1, 1), (0.0, 0)),
        unit("91110105AAAAAAAA04", 110105, Tier::None, (0.1, 1), (0.0, 0)),
        unit("91110108AAAAAAAA05", 110108, Tier::None, (0.3, 2), (0.0, 0)),
        unit(
            "91110108AAAAAAAA06",
            110108,
            Tier::None,
            (0.03, 1),
            (0.0, 0),
        ),
        unit("91110108AAAAAAAA07", 110108, Tier::None, (0.1, 1), (0.0, 0)),
        unit("91110108AAAAAAAA08", 110108, Tier::None, (0.2, 1), (0.0, 0)),
    ];
    let frame = SampleFrame::from_units(&units);
    let n = 20_000;
    let mut counts: HashMap<String, u32> = HashMap::new();
    let mut pi: HashMap<String, f64> = HashMap::new();
    for i in 0..n {
        let p = params(
            &format!("exactness-{i}"),
            "2026-12",
            DrawDepartment::Market,
            Strata::District,
            cap(Some(3), None),
        );
        let d = draw(&frame, &HistoryIndex::new(), &p).unwrap();
        for s in &d.selected {
            *counts.entry(s.uscc.clone()).or_default() += 1;
        }
        if i == 0 {
            let df = prepare(&frame, &HistoryIndex::new(), &p, Department::Market).unwrap();
            for u in &df.units {
                pi.insert(frame.uscc(u.frame_index()).to_owned(), u.pi);
            }
        }
    }
    // The ratio-0.8 unit is capped: c = 3 / 1.93 > 1/0.8.
    assert_eq!(pi["91110105AAAAAAAA01"], 1.0);
    for u in &units {
        let p = pi[&u.uscc];
        let f = f64::from(counts.get(&u.uscc).copied().unwrap_or(0)) / f64::from(n);
        let sigma = (p * (1.0 - p) / f64::from(n)).sqrt();
        assert!(
            (f - p).abs() <= 5.0 * sigma + 1e-12,
            "{}: frequency {f} vs π {p} (σ {sigma})",
            u.uscc
        );
    }
}

#[test]
fn sizes_are_floor_or_ceil_per_stratum_and_exactly_c_without_strata() {
    let units = synthetic(400, 7);
    for (i, strata) in [Strata::District, Strata::Tier, Strata::None]
        .into_iter()
        .enumerate()
    {
        for c in [None, Some(13u64), Some(40)] {
            for s in 0..20 {
                let p = params(
                    &format!("size-{i}-{s}"),
                    "2026-12",
                    DrawDepartment::Joint,
                    strata,
                    cap(c, c),
                );
                let d = run(&units, &HistoryIndex::new(), &p);
                for st in &d.strata {
                    let k = st.selected as f64;
                    assert!(
                        k == st.pi_sum.floor() || k == st.pi_sum.ceil(),
                        "{strata:?} {c:?}: stratum {:?} Σπ {} selected {k}",
                        st.stratum,
                        st.pi_sum
                    );
                }
                if let (Strata::None, Some(c)) = (strata, c) {
                    for dep in &d.departments {
                        assert_eq!(dep.selected as u64, c, "{:?}", dep.department);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Determinism

#[test]
fn processing_order_in_a_frame_large_enough_for_buckets() {
    // 80 000 units: the ordering splits each stratum by the keys' top bits and each of those
    // parts again (more than 16 384 units per stratum without strata); the result must still be
    // every eligible unit once, with its own key, in (stratum, key, code) order.
    let units = synthetic(80_000, 3);
    let frame = SampleFrame::from_units(&units);
    let eligible = units
        .iter()
        .filter(|u| u.market_ratio > 0.0 && u.market_max_per_year > 0)
        .count();
    for strata in [Strata::None, Strata::District] {
        let p = params(
            "large",
            "2026-12",
            DrawDepartment::Market,
            strata,
            Capacity::NONE,
        );
        let df = prepare(&frame, &HistoryIndex::new(), &p, Department::Market).unwrap();
        let got: Vec<(u32, u64, &str)> = df
            .units
            .iter()
            .map(|u| (u.stratum, u.key, frame.uscc(u.frame_index())))
            .collect();
        let mut want = got.clone();
        want.sort();
        assert!(got == want, "{strata:?}: not in processing order");
        assert_eq!(got.len(), eligible);
        for &(_, key, code) in &got {
            assert_eq!(key, order_key("large", Department::Market, "2026-12", code));
        }
        let mut codes: Vec<&str> = got.iter().map(|g| g.2).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), eligible, "a unit placed twice");
    }
}

#[test]
fn row_order_never_matters_and_seeds_do() {
    let mut units = synthetic(600, 11);
    let mut history = HistoryIndex::new();
    for u in units.iter().step_by(9) {
        history.add(
            &u.uscc,
            Department::Market,
            Mode::Onsite,
            Date::parse("2026-10-15").unwrap(),
        );
    }
    let p = params(
        "shuffle",
        "2026-12",
        DrawDepartment::Joint,
        Strata::District,
        cap(Some(60), Some(30)),
    );
    let summary = |d: &Draw| -> Vec<(String, Departments, Option<u64>, Option<u64>)> {
        d.selected
            .iter()
            .map(|s| {
                (
                    s.uscc.clone(),
                    s.departments,
                    s.market.map(|m| m.pi.to_bits()),
                    s.ecology.map(|e| e.pi.to_bits()),
                )
            })
            .collect()
    };
    let before = run(&units, &history, &p);
    assert!(before.selected.len() > 50);
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for _ in 0..3 {
        units.shuffle(&mut rng);
        let after = run(&units, &history, &p);
        assert_eq!(summary(&after), summary(&before));
        assert_eq!(after.strata, before.strata);
    }
    let other = run(
        &units,
        &history,
        &DrawParams {
            seed: "shuffle ".into(), // one trailing space is another seed
            ..p.clone()
        },
    );
    let a: HashSet<String> = selected_usccs(&before).into_iter().collect();
    let b: HashSet<String> = selected_usccs(&other).into_iter().collect();
    assert_ne!(a, b);
    // Capacities hold either way: about as many units, mostly different ones.
    assert!(a.intersection(&b).count() < a.len() / 2, "{}", a.len());
}

// ---------------------------------------------------------------------------------------------
// Eligibility

#[test]
fn capped_cooling_and_positive_list_units_are_never_drawn() {
    // Capacity far above the frame: every eligible unit gets π = 1 and is drawn, so the drawn
    // set is exactly the eligible set.
    let units = vec![
        // In cooldown for market (2026-10-20 is within 2026-09-01..2026-12-01).
        unit("91110105COOL000001", 110105, Tier::None, (0.3, 2), (0.2, 2)),
        // At the yearly cap for market (1 on-site check in 2026, max 1).
        unit("91110105CAPP000002", 110105, Tier::None, (0.1, 1), (0.2, 2)),
        // Under the cap: one check in 2026 with max 2, outside the cooldown.
        unit("91110105FINE000003", 110105, Tier::None, (0.3, 2), (0.2, 2)),
        // Positive list (正面清单): eco ratio 0, eco max 0.
        unit(
            "91110105POSL000004",
            110105,
            Tier::Specialized,
            (0.1, 1),
            (0.0, 0),
        ),
        // Only off-site checks and a check dated in the draw month: both ignored.
        unit("91110105OFFS000005", 110105, Tier::None, (0.1, 1), (0.2, 2)),
        // A check last year does not count towards this year's cap.
        unit("91110105LAST000006", 110105, Tier::None, (0.1, 1), (0.2, 2)),
    ];
    let d = |s: &str| Date::parse(s).unwrap();
    let mut h = HistoryIndex::new();
    h.add(
        "91110105COOL000001",
        Department::Market,
        Mode::Onsite,
        d("2026-10-20"),
    );
    h.add(
        "91110105CAPP000002",
        Department::Market,
        Mode::Onsite,
        d("2026-02-03"),
    );
    h.add(
        "91110105FINE000003",
        Department::Market,
        Mode::Onsite,
        d("2026-04-03"),
    );
    h.add(
        "91110105OFFS000005",
        Department::Market,
        Mode::NonSite,
        d("2026-11-03"),
    );
    h.add(
        "91110105OFFS000005",
        Department::Market,
        Mode::Onsite,
        d("2026-12-01"),
    );
    h.add(
        "91110105LAST000006",
        Department::Market,
        Mode::Onsite,
        d("2025-06-01"),
    );
    // Ecology history of the cooling unit does not affect market, and vice versa.
    h.add(
        "91110105FINE000003",
        Department::Ecology,
        Mode::Onsite,
        d("2026-11-30"),
    );

    let p = params(
        "eligibility",
        "2026-12",
        DrawDepartment::Joint,
        Strata::District,
        cap(Some(100), Some(100)),
    );
    for _ in 0..2 {
        let draw = run(&units, &h, &p);
        let by: HashMap<&str, Departments> = draw
            .selected
            .iter()
            .map(|s| (s.uscc.as_str(), s.departments))
            .collect();
        assert_eq!(by["91110105COOL000001"], Departments::Ecology);
        assert_eq!(by["91110105CAPP000002"], Departments::Ecology);
        assert_eq!(by["91110105FINE000003"], Departments::Market);
        assert_eq!(by["91110105POSL000004"], Departments::Market);
        assert_eq!(by["91110105OFFS000005"], Departments::Joint);
        assert_eq!(by["91110105LAST000006"], Departments::Joint);
        let m = &draw.departments[0].exclusions;
        assert_eq!(
            (m.units, m.eligible, m.zero_ratio, m.yearly_cap, m.cooldown),
            (6, 4, 0, 1, 1)
        );
        let e = &draw.departments[1].exclusions;
        assert_eq!((e.eligible, e.zero_ratio, e.cooldown), (4, 1, 1));
    }
    // Without capacity as well: many seeds, the excluded never appear.
    for s in 0..300 {
        let p = params(
            &format!("never-{s}"),
            "2026-12",
            DrawDepartment::Joint,
            Strata::None,
            Capacity::NONE,
        );
        for sel in &run(&units, &h, &p).selected {
            let market_banned = ["91110105COOL000001", "91110105CAPP000002"];
            let eco_banned = ["91110105POSL000004", "91110105FINE000003"];
            assert!(!(sel.market.is_some() && market_banned.contains(&sel.uscc.as_str())));
            assert!(!(sel.ecology.is_some() && eco_banned.contains(&sel.uscc.as_str())));
        }
    }
}

#[test]
fn joint_visits_merge_and_keep_stratum_order() {
    let units = synthetic(300, 5);
    let p = params(
        "joint",
        "2026-12",
        DrawDepartment::Joint,
        Strata::District,
        cap(Some(120), Some(120)),
    );
    let d = run(&units, &HistoryIndex::new(), &p);
    let joint = d
        .selected
        .iter()
        .filter(|s| s.departments == Departments::Joint)
        .count();
    assert!(joint > 10, "{joint}");
    // Each department's count equals its own selections; a unit appears once.
    let m = d.selected.iter().filter(|s| s.market.is_some()).count();
    let e = d.selected.iter().filter(|s| s.ecology.is_some()).count();
    assert_eq!(m, d.departments[0].selected);
    assert_eq!(e, d.departments[1].selected);
    assert_eq!(d.selected.len(), m + e - joint);
    let unique: HashSet<&str> = d.selected.iter().map(|s| s.uscc.as_str()).collect();
    assert_eq!(unique.len(), d.selected.len());
    // Output order: strata ascending; in a stratum, market draws by market key, then
    // ecology-only by ecology key; seq counts 1, 2, 3 …
    for (i, w) in d.selected.windows(2).enumerate() {
        let (a, b) = (&w[0], &w[1]);
        assert_eq!(a.seq, i as u64 + 1);
        assert!(a.stratum <= b.stratum);
        if a.stratum == b.stratum {
            match (a.market, b.market) {
                (Some(x), Some(y)) => assert!(x.key < y.key),
                (None, Some(_)) => panic!("market draw after an ecology-only one"),
                (Some(_), None) => {}
                (None, None) => assert!(a.ecology.unwrap().key < b.ecology.unwrap().key),
            }
        }
    }
}

#[test]
fn bad_frames_and_parameters_are_refused() {
    let ok = unit("91110105AAAAAAAA01", 110105, Tier::None, (0.3, 2), (0.2, 2));
    let p = params(
        "x",
        "2026-12",
        DrawDepartment::Market,
        Strata::District,
        Capacity::NONE,
    );
    let err = |units: Vec<FrameUnit>, p: &DrawParams| {
        draw(&SampleFrame::from_units(&units), &HistoryIndex::new(), p)
            .unwrap_err()
            .to_string()
    };
    let mut nan = ok.clone();
    nan.market_ratio = f64::NAN;
    let e = err(vec![nan], &p);
    assert!(e.contains("market_ratio") && e.contains("NaN"), "{e}");
    let mut big = ok.clone();
    big.eco_ratio = 1.5;
    assert!(err(vec![big], &p).contains("between 0 and 1"));
    let mut district = ok.clone();
    district.district = 1101;
    assert!(err(vec![district], &p).contains("6-digit"));
    let mut empty = ok.clone();
    empty.uscc = String::new();
    let other = unit("91110105AAAAAAAA02", 110105, Tier::None, (0.3, 2), (0.2, 2));
    let e = err(vec![other, empty], &p);
    assert!(e.contains("an empty code at unit 2"), "{e}");
    let e = err(vec![ok.clone(), ok.clone()], &p);
    assert!(e.contains("appears twice"), "{e}");
    // In a frame big enough for the ordering's buckets (over 512 units per stratum), the
    // repeated code is still found, and of two repeated codes the one first in processing
    // order (stratum, then key) is named.
    let mut many = synthetic(3000, 7);
    many.iter_mut().for_each(|u| u.market_ratio = 0.5);
    let (a, b) = (many[10].clone(), many[2000].clone());
    let mut first = [a.clone(), b.clone()];
    first.sort_by_key(|u| {
        (
            u.district,
            order_key(&p.seed, Department::Market, "2026-12", &u.uscc),
        )
    });
    many.push(b);
    many.insert(500, a);
    let e = err(many, &p);
    assert!(
        e.contains("appears twice") && e.contains(&first[0].uscc),
        "{e} (expected {})",
        first[0].uscc
    );
    let blank = DrawParams {
        seed: " ".into(),
        ..p.clone()
    };
    assert!(err(vec![ok.clone()], &blank).contains("seed"));
    let wrong_cap = DrawParams {
        capacity: cap(None, Some(3)),
        ..p.clone()
    };
    let e = err(vec![ok.clone()], &wrong_cap);
    assert!(e.contains("capacity is given for ecology"), "{e}");
    // Empty frames draw nothing, without error.
    let d = draw(&SampleFrame::from_units(&[]), &HistoryIndex::new(), &p).unwrap();
    assert!(d.selected.is_empty() && d.strata.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Published vectors (tests/vectors/) and the golden draw

const VECTOR_SEEDS: [&str; 3] = [
    "2026年12月 双随机 公开摇号 第1期",
    "2026年12月 双随机 公开摇号 第2期",
    "上证指数收盘 2026-12-31 3345.67",
];

/// The fixed frame, history and inspectors of the published vectors.
#[allow(clippy::type_complexity)] // a test fixture: three plain vectors
fn vector_inputs() -> (
    Vec<FrameUnit>,
    Vec<(String, Date, Department, Mode)>,
    Vec<Inspector>,
) {
    let units = synthetic(48, 20_261_201);
    let d = |s: &str| Date::parse(s).unwrap();
    let mut history = Vec::new();
    for (i, u) in units.iter().enumerate() {
        let code = u.uscc.clone();
        match i % 6 {
            0 => history.push((code, d("2026-10-12"), Department::Market, Mode::Onsite)),
            1 => {
                history.push((
                    code.clone(),
                    d("2026-03-02"),
                    Department::Market,
                    Mode::Onsite,
                ));
                history.push((code, d("2026-06-18"), Department::Ecology, Mode::Onsite));
            }
            2 => history.push((code, d("2026-11-20"), Department::Ecology, Mode::NonSite)),
            3 => history.push((code, d("2026-12-03"), Department::Ecology, Mode::Onsite)),
            4 if i % 12 == 4 => {
                history.push((code, d("2025-11-30"), Department::Market, Mode::Onsite))
            }
            _ => {}
        }
    }
    let ins =
        |id: &str, dep: Department, district: Option<u32>, conflicts: Vec<String>| Inspector {
            id: id.into(),
            name: format!("执法人员{id}"),
            department: dep,
            district,
            conflicts,
        };
    let inspectors = vec![
        ins(
            "SJ01",
            Department::Market,
            Some(110105),
            vec![units[3].uscc.clone()],
        ),
        ins("SJ02", Department::Market, Some(110108), vec![]),
        ins("SJ03", Department::Market, None, vec![]),
        ins("SJ04", Department::Market, Some(110101), vec![]),
        ins(
            "SJ05",
            Department::Market,
            Some(110302),
            vec![units[7].uscc.clone(), units[8].uscc.clone()],
        ),
        // ST01 and ST03 must recuse from unit 18 (drawn for ecology in the joint cases): its
        // task cannot get two ecology inspectors, so the vectors show an unstaffed task.
        ins(
            "ST01",
            Department::Ecology,
            Some(110105),
            vec![units[17].uscc.clone()],
        ),
        ins(
            "ST02",
            Department::Ecology,
            None,
            vec![units[10].uscc.clone()],
        ),
        ins(
            "ST03",
            Department::Ecology,
            Some(110108),
            vec![units[17].uscc.clone()],
        ),
    ];
    (units, history, inspectors)
}

struct VectorCase {
    name: &'static str,
    seed: &'static str,
    month: &'static str,
    department: DrawDepartment,
    strata: Strata,
    capacity: Capacity,
    history: bool,
    inspectors: bool,
    algorithm: Algorithm,
}

fn vector_cases() -> Vec<VectorCase> {
    let case = |name, seed, month, department, strata, capacity, history, inspectors| VectorCase {
        name,
        seed,
        month,
        department,
        strata,
        capacity,
        history,
        inspectors,
        algorithm: Algorithm::Systematic,
    };
    let coordinated = |c: VectorCase| VectorCase {
        algorithm: Algorithm::Coordinated,
        ..c
    };
    vec![
        case(
            "market-uncapped-district",
            VECTOR_SEEDS[0],
            "2026-12",
            DrawDepartment::Market,
            Strata::District,
            Capacity::NONE,
            false,
            false,
        ),
        case(
            "market-capacity-none",
            VECTOR_SEEDS[0],
            "2026-12",
            DrawDepartment::Market,
            Strata::None,
            cap(Some(8), None),
            true,
            false,
        ),
        case(
            "ecology-capacity-tier",
            VECTOR_SEEDS[1],
            "2026-12",
            DrawDepartment::Ecology,
            Strata::Tier,
            cap(None, Some(6)),
            true,
            false,
        ),
        case(
            "joint-capacity-district-inspectors",
            VECTOR_SEEDS[2],
            "2026-12",
            DrawDepartment::Joint,
            Strata::District,
            cap(Some(10), Some(7)),
            true,
            true,
        ),
        case(
            "joint-january-cooldown",
            VECTOR_SEEDS[1],
            "2027-01",
            DrawDepartment::Joint,
            Strata::None,
            cap(Some(5), Some(5)),
            true,
            true,
        ),
        // §4.7: the same frame, seed and capacities as "joint-capacity-district-inspectors",
        // coordinated; then uncapped by tier without history.
        coordinated(case(
            "joint-coordinated-capacity-district-inspectors",
            VECTOR_SEEDS[2],
            "2026-12",
            DrawDepartment::Joint,
            Strata::District,
            cap(Some(10), Some(7)),
            true,
            true,
        )),
        coordinated(case(
            "joint-coordinated-uncapped-tier",
            VECTOR_SEEDS[0],
            "2026-12",
            DrawDepartment::Joint,
            Strata::Tier,
            Capacity::NONE,
            false,
            false,
        )),
    ]
}

fn frame_csv(units: &[FrameUnit]) -> String {
    let mut s = String::from(
        "uscc,name,district,tier,credit_class,market_ratio,market_max_per_year,eco_ratio,eco_max_per_year,positive_list,risk_score\n",
    );
    for u in units {
        s.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{}\n",
            u.uscc,
            u.name,
            u.district,
            u.tier,
            u.credit_class.map_or(String::new(), |c| c.to_string()),
            u.market_ratio,
            u.market_max_per_year,
            u.eco_ratio,
            u.eco_max_per_year,
            u.eco_ratio == 0.0,
            u.risk_score.map_or(String::new(), |r| r.to_string()),
        ));
    }
    s
}

fn history_csv(rows: &[(String, Date, Department, Mode)]) -> String {
    let mut s = String::from("uscc,date,department,mode\n");
    for (u, d, dep, mode) in rows {
        s.push_str(&format!("{u},{d},{dep},{mode}\n"));
    }
    s
}

fn inspectors_csv(list: &[Inspector]) -> String {
    let mut s = String::from("inspector_id,name,department,district,conflicts\n");
    for i in list {
        let district = i.district.map_or("*".to_owned(), |d| d.to_string());
        s.push_str(&format!(
            "{},{},{},{},{}\n",
            i.id,
            i.name,
            i.department,
            district,
            i.conflicts.join(";")
        ));
    }
    s
}

/// The expected outcome of every case, as published in tests/vectors/cases.json.
fn vector_json() -> String {
    let (units, history_rows, inspectors) = vector_inputs();
    let frame = SampleFrame::from_units(&units);
    let mut history = HistoryIndex::new();
    for (u, d, dep, mode) in &history_rows {
        history.add(u, *dep, *mode, *d);
    }
    let empty = HistoryIndex::new();
    let mut keys = Vec::new();
    for u in &units {
        for dep in [Department::Market, Department::Ecology] {
            keys.push(json!({
                "department": dep.en(),
                "uscc": u.uscc,
                "key": order_key(VECTOR_SEEDS[0], dep, "2026-12", &u.uscc).to_string(),
            }));
        }
    }
    let prn_keys = PrnKeys::new(VECTOR_SEEDS[0], "2026-12");
    let prn: Vec<Value> = units
        .iter()
        .map(|u| {
            json!({
                "uscc": u.uscc,
                "u64": prn_keys.u64(&u.uscc).to_string(),
                "u": prn_keys.u(&u.uscc),
            })
        })
        .collect();
    let mut cases = Vec::new();
    for c in vector_cases() {
        let p = DrawParams {
            algorithm: c.algorithm,
            ..params(c.seed, c.month, c.department, c.strata, c.capacity)
        };
        let coordinated = c.algorithm == Algorithm::Coordinated;
        let h = if c.history { &history } else { &empty };
        let d = draw(&frame, h, &p).unwrap();
        let mut departments = Vec::new();
        for dep in c.department.departments() {
            let df = prepare(&frame, h, &p, *dep).unwrap();
            let pi: BTreeMap<&str, f64> = df
                .units
                .iter()
                .map(|u| (frame.uscc(u.frame_index()), u.pi))
                .collect();
            let stats = d.departments.iter().find(|s| s.department == *dep).unwrap();
            let strata: Vec<Value> = d
                .strata
                .iter()
                .filter(|s| s.department == *dep)
                .map(|s| serde_json::to_value(s).unwrap())
                .collect();
            let mut entry = json!({
                "department": dep.en(),
                "exclusions": stats.exclusions,
                "selected": stats.selected,
                "pi": pi,
                "strata": strata,
            });
            if coordinated {
                entry["expected"] = json!(stats.expected);
                entry["size_sd"] = json!(stats.size_sd);
            }
            departments.push(entry);
        }
        let assignment = c.inspectors.then(|| {
            assign(
                &tasks(&d, &frame),
                &inspectors,
                c.seed,
                c.month,
                SAMPLING.team_size,
            )
            .unwrap()
        });
        let sample: Vec<Value> = d
            .selected
            .iter()
            .enumerate()
            .map(|(t, s)| {
                let mut row = json!({
                    "seq": s.seq,
                    "uscc": s.uscc,
                    "stratum": s.stratum,
                    "departments": s.departments.en(),
                    "inspectors": assignment.as_ref().map(|a| a.team_ids(t, &inspectors)),
                });
                if let Some(u) = s.u {
                    row["u"] = json!(u);
                }
                row
            })
            .collect();
        let unstaffed: Vec<Value> = assignment
            .as_ref()
            .map(|a| {
                a.unstaffed
                    .iter()
                    .map(|u| json!({"seq": u.seq, "uscc": u.uscc, "reason": u.reason()}))
                    .collect()
            })
            .unwrap_or_default();
        let mut case = json!({
            "name": c.name,
            "seed": c.seed,
            "month": c.month,
            "department": c.department.en(),
            "strata": c.strata.en(),
            "capacity": c.capacity,
            "history": c.history,
            "inspectors": c.inspectors,
            "departments": departments,
            "sample": sample,
            "unstaffed": unstaffed,
        });
        if coordinated {
            case["algorithm"] = json!(c.algorithm.id());
            case["coordination"] = json!(d.coordination);
        }
        cases.push(case);
    }
    let doc = json!({
        "about": "Test vectors of SPEC §4 (sys-pps-sha256/1; cases with \"algorithm\" prn-poisson-sha256/1, §4.7) on frame.csv, history.csv and inspectors.csv; see README.md. u64 values are decimal strings; floats are shortest round-trip decimals.",
        "algorithm": ALGORITHM,
        "sampling": SAMPLING,
        "keys": {"seed": VECTOR_SEEDS[0], "month": "2026-12", "keys": keys},
        "prn": {"seed": VECTOR_SEEDS[0], "month": "2026-12", "units": prn},
        "cases": cases,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap();
    s.push('\n');
    s
}

#[test]
fn published_vectors_are_current() {
    // The files in tests/vectors/ are what this code produces; `SPOTCHECK_BLESS=1 cargo test
    // --lib published_vectors` rewrites them (then run tests/vectors/check.py, the independent
    // Python implementation, which must agree).
    let (units, history, inspectors) = vector_inputs();
    let files = [
        ("frame.csv", frame_csv(&units)),
        ("history.csv", history_csv(&history)),
        ("inspectors.csv", inspectors_csv(&inspectors)),
        ("cases.json", vector_json()),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    for (name, text) in files {
        let path = dir.join(name);
        if std::env::var_os("SPOTCHECK_BLESS").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with SPOTCHECK_BLESS=1)", path.display()));
        assert!(
            on_disk == text,
            "{name} differs from what the code produces"
        );
    }
}

#[test]
fn golden_joint_draw_is_pinned() {
    // The exact draw of vectors case "joint-capacity-district-inspectors" (seed "上证指数收盘
    // 2026-12-31 3345.67", 2026-12, market capacity 10, ecology 7, by district, with history and
    // inspectors). Written out here so that re-blessing tests/vectors cannot silently change it;
    // tests/vectors/check.py, an independent Python implementation of SPEC §4, derives the same.
    let (units, history_rows, inspectors) = vector_inputs();
    let frame = SampleFrame::from_units(&units);
    let mut history = HistoryIndex::new();
    for (u, d, dep, mode) in &history_rows {
        history.add(u, *dep, *mode, *d);
    }
    let p = params(
        VECTOR_SEEDS[2],
        "2026-12",
        DrawDepartment::Joint,
        Strata::District,
        cap(Some(10), Some(7)),
    );
    let d = draw(&frame, &history, &p).unwrap();
    let a = assign(
        &tasks(&d, &frame),
        &inspectors,
        VECTOR_SEEDS[2],
        "2026-12",
        2,
    )
    .unwrap();
    let got: Vec<String> = d
        .selected
        .iter()
        .enumerate()
        .map(|(t, s)| {
            format!(
                "{} {} {} {}",
                s.seq,
                s.uscc,
                s.departments,
                a.team_ids(t, &inspectors).join(";")
            )
        })
        .collect();
    let expected = [
        "1 91110101YUTP7UE7LQ market SJ03;SJ04",
        "2 91110101LTD5Q4RYD4 market SJ03;SJ04",
        "3 91110101H0YYXY7A1Q ecology ",
        "4 91110105WMPW4Y16MG market+ecology SJ01;ST02",
        "5 91110105Q17P4HR6XW market SJ01;SJ03",
        "6 91110105WGA6XXRB53 market SJ01;SJ03",
        "7 91110108KFY5M0TG3L market SJ02;SJ03",
        "8 911101083P2YHA1BU3 ecology ST03;ST02",
        "9 9111030227BR00JLJ7 market SJ03;SJ02",
        "10 9111030237A4W50C9Q market SJ03;SJ02",
        "11 911103024WK1F1P0PF market SJ05;SJ03",
        "12 91110302DLM6TQ3F2N ecology ST02;ST01",
        "13 911103020WC0Y93EHC ecology ST02;ST01",
        "14 911103023CU0JN6TWT ecology ST02;ST03",
    ];
    assert_eq!(got, expected);
    // Task 3 is unstaffed: two of the three ecology inspectors must recuse from it.
    assert_eq!(a.unstaffed.len(), 1);
    assert_eq!(a.unstaffed[0].seq, 3);
    assert!(a.ensure_staffed().is_err());
}

// ---------------------------------------------------------------------------------------------
// Manifest and verify

fn file(path: &str, sha: &str) -> FileRecord {
    FileRecord {
        path: path.into(),
        sha256: sha.into(),
    }
}

fn input(role: &str, sha: &str, rows: u64) -> InputRecord {
    InputRecord {
        role: role.into(),
        path: format!("{role}.csv"),
        sha256: sha.into(),
        rows_read: rows,
        rows_accepted: rows,
        rows_rejected: 0,
    }
}

#[test]
fn manifest_round_trips_and_verify_names_every_difference() {
    let (units, history_rows, inspectors) = vector_inputs();
    let mut history = HistoryIndex::new();
    for (u, d, dep, mode) in &history_rows {
        history.add(u, *dep, *mode, *d);
    }
    let p = params(
        VECTOR_SEEDS[2],
        "2026-12",
        DrawDepartment::Joint,
        Strata::District,
        cap(Some(10), Some(7)),
    );
    let derive = |units: &[FrameUnit], input_sha: &str, policy_sha: &str| {
        let frame = SampleFrame::from_units(units);
        let d = draw(&frame, &history, &p).unwrap();
        let a = assign(&tasks(&d, &frame), &inspectors, &p.seed, "2026-12", 2).unwrap();
        let lines = SampleLine::from_draw(&d, Some(&a), &inspectors);
        let m = Manifest::new(
            &p,
            &d,
            Some(&a),
            file("policy.toml", policy_sha),
            vec![input("scored", input_sha, 48), input("history", "h1", 40)],
            file("sample.csv", "out1"),
        );
        (m, lines)
    };
    let (recorded, lines) = derive(&units, "in1", "pol1");

    // JSON round trip, bit for bit (Σπ and starts included), and back to the parameters.
    let path = std::path::Path::new("m.json");
    let json = recorded.to_json();
    assert!(json.contains("\"algorithm\": \"sys-pps-sha256/1\""));
    assert!(json.contains("\"unstaffed\""));
    let back = Manifest::from_json(&json, path).unwrap();
    assert_eq!(back, recorded);
    assert_eq!(back.draw_params(path).unwrap(), p);
    assert_eq!(recorded.selected, 14);
    assert!(
        Manifest::from_json("{", path)
            .unwrap_err()
            .to_string()
            .contains("m.json")
    );
    let mut other = recorded.clone();
    other.algorithm = "sys-pps-sha256/2".into();
    assert!(other.draw_params(path).is_err());

    // Nothing changed.
    let report = verify(&recorded, &recorded, "out1", &lines, &lines);
    assert!(report.is_match(), "{:?}", report.differences);
    // Another version only notes it.
    let mut newer = recorded.clone();
    newer.spotcheck_version = "9.9.9".into();
    let report = verify(&recorded, &newer, "out1", &lines, &lines);
    assert!(report.is_match());
    assert_eq!(report.of(DiffKind::Version).count(), 1);

    // An edited input: one unit's market ratio raised; its hash changes and so does the draw.
    let mut edited = units.clone();
    let target = edited
        .iter()
        .position(|u| u.uscc == "91110105Q17P4HR6XW")
        .unwrap();
    edited[target].market_ratio = 0.03;
    let (derived, derived_lines) = derive(&edited, "in2", "pol1");
    let report = verify(&recorded, &derived, "out1", &lines, &derived_lines);
    assert!(!report.is_match());
    let inputs: Vec<String> = report.of(DiffKind::Input).map(|d| d.to_string()).collect();
    assert_eq!(
        inputs,
        ["input changed: scored (scored.csv): recorded in1, now in2"]
    );
    assert!(report.of(DiffKind::Statistic).count() >= 1);
    assert!(
        report
            .of(DiffKind::UnitAdded)
            .any(|d| d.subject == "91110105Q17P4HR6XW"),
        "{:#?}",
        report.differences
    );

    // An edited policy.
    let (derived, derived_lines) = derive(&units, "in1", "pol2");
    let report = verify(&recorded, &derived, "out1", &lines, &derived_lines);
    let policy: Vec<String> = report.of(DiffKind::Policy).map(|d| d.to_string()).collect();
    assert_eq!(
        policy,
        ["policy changed: policy.toml: recorded pol1, now pol2"]
    );
    assert_eq!(report.differences.len(), 1);

    // An edited sample: a row removed, a row added, a team changed, a row duplicated.
    let mut tampered = lines.clone();
    let removed = tampered.remove(4);
    tampered.push(SampleLine {
        seq: 15,
        uscc: "91110105ZZZZZZZZZZ".into(),
        departments: Departments::Market,
        inspectors: vec![],
    });
    tampered[0].inspectors = vec!["SJ04".into(), "SJ01".into()];
    tampered.push(tampered[1].clone());
    let report = verify(&recorded, &recorded, "out2", &tampered, &lines);
    let kinds = |k| report.of(k).map(|d| d.subject.clone()).collect::<Vec<_>>();
    assert_eq!(kinds(DiffKind::Output), ["sample.csv"]);
    assert_eq!(
        kinds(DiffKind::UnitRemoved),
        std::slice::from_ref(&removed.uscc)
    );
    assert_eq!(
        kinds(DiffKind::UnitAdded),
        [
            "91110105ZZZZZZZZZZ".to_owned(),
            format!("{} (a second row)", lines[1].uscc)
        ]
    );
    assert_eq!(
        kinds(DiffKind::UnitChanged),
        [format!("{} inspectors", lines[0].uscc)]
    );
    // Rows after the removed one moved up: their seq no longer matches.
    assert!(
        report
            .of(DiffKind::UnitChanged)
            .all(|d| d.subject.ends_with("inspectors"))
    );
}

#[test]
fn names_in_pieces_read_like_one_array() {
    use super::frame::Names;
    use arrow::array::StringArray;
    let mut names = Names::default();
    names.push(StringArray::from(vec![Some(" 甲 "), None]));
    names.push(StringArray::from(Vec::<Option<&str>>::new()));
    names.push(StringArray::from(vec![Some("乙"), Some("丙"), Some("丁 ")]));
    assert_eq!(names.len(), 5);
    let all: Vec<&str> = (0..5).map(|i| names.get(i)).collect();
    assert_eq!(all, ["甲", "", "乙", "丙", "丁"]);
    let kept = names.filter(&[true, false, false, true, true]).unwrap();
    assert_eq!(kept.len(), 3);
    assert_eq!(
        (0..3).map(|i| kept.get(i)).collect::<Vec<_>>(),
        ["甲", "丙", "丁"]
    );
    assert!(std::panic::catch_unwind(|| names.get(5)).is_err());
}

// ---------------------------------------------------------------------------------------------
// Coordinated joint draws (§4.7, prn-poisson-sha256/1)

fn coordinated(p: DrawParams) -> DrawParams {
    DrawParams {
        algorithm: Algorithm::Coordinated,
        ..p
    }
}

/// π of every eligible unit of a department, by code.
fn pis(
    frame: &SampleFrame,
    h: &HistoryIndex,
    p: &DrawParams,
    d: Department,
) -> HashMap<String, f64> {
    prepare(frame, h, p, d)
        .unwrap()
        .units
        .iter()
        .map(|u| (frame.uscc(u.frame_index()).to_owned(), u.pi))
        .collect()
}

#[test]
fn coordinated_draw_takes_u_below_pi_and_orders_by_u() {
    let units = synthetic(500, 21);
    let frame = SampleFrame::from_units(&units);
    let mut history = HistoryIndex::new();
    for u in units.iter().step_by(7) {
        history.add(
            &u.uscc,
            Department::Market,
            Mode::Onsite,
            Date::parse("2026-10-02").unwrap(),
        );
    }
    for (strata, capacity) in [
        (Strata::District, Capacity::NONE),
        (Strata::Tier, cap(Some(60), Some(25))),
        (Strata::None, cap(Some(500), None)),
    ] {
        let p = coordinated(params(
            "coordinated",
            "2026-12",
            DrawDepartment::Joint,
            strata,
            capacity,
        ));
        let d = draw(&frame, &history, &p).unwrap();
        // π are those of the systematic draw with the same parameters (steps 1–2 unchanged).
        let pm = pis(&frame, &history, &p, Department::Market);
        let pe = pis(&frame, &history, &p, Department::Ecology);
        let sys = DrawParams {
            algorithm: Algorithm::Systematic,
            ..p.clone()
        };
        assert_eq!(pm, pis(&frame, &history, &sys, Department::Market));
        let prn = PrnKeys::new(&p.seed, "2026-12");
        // Every unit: drawn by d exactly when eligible for d and u < π_d; u as hashed.
        let by: HashMap<&str, &Selected> =
            d.selected.iter().map(|s| (s.uscc.as_str(), s)).collect();
        let (mut joint, mut visits) = (0usize, 0usize);
        for u in &units {
            let x = prn.u(&u.uscc);
            let m = pm.get(&u.uscc).is_some_and(|&pi| x < pi);
            let e = pe.get(&u.uscc).is_some_and(|&pi| x < pi);
            let got = by.get(u.uscc.as_str());
            assert_eq!(got.is_some(), m || e, "{}", u.uscc);
            if let Some(s) = got {
                assert_eq!(s.u, Some(x));
                assert_eq!(s.market.map(|v| v.pi), m.then(|| pm[&u.uscc]));
                assert_eq!(s.ecology.map(|v| v.pi), e.then(|| pe[&u.uscc]));
                let want = match (m, e) {
                    (true, true) => Departments::Joint,
                    (true, false) => Departments::Market,
                    _ => Departments::Ecology,
                };
                assert_eq!(s.departments, want);
            }
            joint += usize::from(m && e);
            visits += usize::from(m || e);
        }
        // A unit is drawn by both exactly when u < min(π_m, π_e); stats add up.
        let c = d.coordination.unwrap();
        assert_eq!((c.joint_drawn, c.visits_drawn), (joint, visits));
        assert_eq!(d.selected.len(), visits);
        let min_sum: f64 = units
            .iter()
            .map(|u| {
                let a = pm.get(&u.uscc).copied().unwrap_or(0.0);
                let b = pe.get(&u.uscc).copied().unwrap_or(0.0);
                a.min(b)
            })
            .sum();
        assert!((c.joint_expected - min_sum).abs() < 1e-9);
        let (sm, se): (f64, f64) = (pm.values().sum(), pe.values().sum());
        assert!((c.visits_expected - (sm + se - min_sum)).abs() < 1e-9);
        assert!(c.independent_joint_expected <= c.joint_expected);
        assert!(c.visits_expected <= c.independent_visits_expected);
        for dep in &d.departments {
            let x = if dep.department == Department::Market {
                sm
            } else {
                se
            };
            assert!((dep.expected.unwrap() - x).abs() < 1e-9);
            let strata: Vec<&StratumStats> = d
                .strata
                .iter()
                .filter(|s| s.department == dep.department)
                .collect();
            let selected: usize = strata.iter().map(|s| s.selected).sum();
            assert_eq!(selected, dep.selected);
            let var: f64 = strata.iter().map(|s| s.size_sd.unwrap().powi(2)).sum();
            assert!((dep.size_sd.unwrap() - var.sqrt()).abs() < 1e-9);
            assert!(
                strata
                    .iter()
                    .all(|s| s.start.is_none() && s.start_u64.is_none())
            );
        }
        // Output: by stratum, then u, then code; seq 1, 2, 3 …
        for (i, w) in d.selected.windows(2).enumerate() {
            assert_eq!(w[0].seq, i as u64 + 1);
            assert!(
                (w[0].stratum.as_str(), w[0].u.unwrap()) < (w[1].stratum.as_str(), w[1].u.unwrap()),
                "{:?} {:?}",
                w[0],
                w[1]
            );
        }
        // The same draw from the rows in another order.
        let mut shuffled = units.clone();
        shuffled.shuffle(&mut ChaCha8Rng::seed_from_u64(3));
        let again = draw(&SampleFrame::from_units(&shuffled), &history, &p).unwrap();
        assert_eq!(selected_usccs(&again), selected_usccs(&d));
        assert_eq!(again.strata, d.strata);
        assert_eq!(again.coordination, d.coordination);
    }
}

#[test]
fn coordination_needs_a_joint_draw() {
    let units = vec![unit(
        "91110105AAAAAAAA01",
        110105,
        Tier::None,
        (0.3, 2),
        (0.2, 2),
    )];
    let p = coordinated(params(
        "s",
        "2026-12",
        DrawDepartment::Market,
        Strata::District,
        Capacity::NONE,
    ));
    let e = draw(&SampleFrame::from_units(&units), &HistoryIndex::new(), &p)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("--department joint") && e.contains("market"),
        "{e}"
    );
}

#[test]
fn coordinated_frequencies_match_pi_and_joint_matches_min() {
    // Ten units in two districts, each eligible for both departments except two (ratio 0 for
    // one department), capacity 4 for each (market: the two 0.8 units get π = 1, the rest
    // 1.504 × ratio; ecology: π = ratio, Σ = 4): over N fixed seeds each unit's
    // market and ecology selection counts are Binomial(N, π_d) and its joint count
    // Binomial(N, min(π_m, π_e)) when the hashed u behave as uniform. Tolerance 5 binomial σ, as
    // in `empirical_frequency_matches_pi`: P(any of the 30 |z| > 5) ≈ 2e-5 under the null, and
    // the seeds are fixed, so the test is deterministic. The independent draw's joint rate
    // π_m·π_e is far outside these bounds for the units where it differs from the minimum.
    let units = vec![
        unit("91110105AAAAAAAA01", 110105, Tier::None, (0.8, 4), (0.6, 2)),
        unit("91110105AAAAAAAA02", 110105, Tier::None, (0.3, 2), (0.9, 2)),
        unit("91110105AAAAAAAA03", 110105, Tier::None, (0.1, 1), (0.3, 2)),
        unit("91110105AAAAAAAA04", 110105, Tier::None, (0.1, 1), (0.0, 0)),
        unit("91110105AAAAAAAA05", 110105, Tier::None, (0.3, 2), (1.0, 2)),
        unit(
            "91110108AAAAAAAA06",
            110108,
            Tier::None,
            (0.3, 2),
            (0.45, 2),
        ),
        unit(
            "91110108AAAAAAAA07",
            110108,
            Tier::None,
            (0.03, 1),
            (0.2, 2),
        ),
        unit("91110108AAAAAAAA08", 110108, Tier::None, (0.0, 0), (0.3, 2)),
        unit(
            "91110108AAAAAAAA09",
            110108,
            Tier::None,
            (0.2, 1),
            (0.15, 2),
        ),
        unit("91110108AAAAAAAA10", 110108, Tier::None, (0.8, 4), (0.1, 2)),
    ];
    let frame = SampleFrame::from_units(&units);
    let n = 20_000u32;
    let mut counts: HashMap<String, [u32; 3]> = HashMap::new();
    let at = |i: u32| {
        coordinated(params(
            &format!("coordination-{i}"),
            "2026-12",
            DrawDepartment::Joint,
            Strata::District,
            cap(Some(4), Some(4)),
        ))
    };
    for i in 0..n {
        let d = draw(&frame, &HistoryIndex::new(), &at(i)).unwrap();
        for s in &d.selected {
            let c = counts.entry(s.uscc.clone()).or_default();
            c[0] += u32::from(s.market.is_some());
            c[1] += u32::from(s.ecology.is_some());
            c[2] += u32::from(s.departments == Departments::Joint);
        }
    }
    let h = HistoryIndex::new();
    let pm = pis(&frame, &h, &at(0), Department::Market);
    let pe = pis(&frame, &h, &at(0), Department::Ecology);
    assert_eq!(pm["91110105AAAAAAAA01"], 1.0);
    assert_eq!(pm["91110108AAAAAAAA10"], 1.0);
    assert_eq!(pe["91110105AAAAAAAA02"], 0.9);
    let mut independent_far = 0;
    for u in &units {
        let m = pm.get(&u.uscc).copied().unwrap_or(0.0);
        let e = pe.get(&u.uscc).copied().unwrap_or(0.0);
        let c = counts.get(&u.uscc).copied().unwrap_or_default();
        for (what, p, k) in [
            ("market", m, c[0]),
            ("ecology", e, c[1]),
            ("joint", m.min(e), c[2]),
        ] {
            let f = f64::from(k) / f64::from(n);
            let sigma = (p * (1.0 - p) / f64::from(n)).sqrt();
            assert!(
                (f - p).abs() <= 5.0 * sigma + 1e-12,
                "{} {what}: frequency {f} vs {p} (σ {sigma})",
                u.uscc
            );
            if what == "joint" && (f - m * e).abs() > 5.0 * sigma.max(1e-3) {
                independent_far += 1;
            }
        }
    }
    // The test can tell coordination from independence: the five units eligible for both with
    // π_m·π_e ≠ min(π_m, π_e) (neither π is 1) have joint rates far from π_m·π_e.
    assert_eq!(independent_far, 5, "{independent_far}");
}

#[test]
fn coordinated_manifest_round_trips_and_verify_sees_tampering() {
    let (units, history_rows, _) = vector_inputs();
    let mut history = HistoryIndex::new();
    for (u, d, dep, mode) in &history_rows {
        history.add(u, *dep, *mode, *d);
    }
    let frame = SampleFrame::from_units(&units);
    let p = coordinated(params(
        VECTOR_SEEDS[2],
        "2026-12",
        DrawDepartment::Joint,
        Strata::District,
        cap(Some(10), Some(7)),
    ));
    let d = draw(&frame, &history, &p).unwrap();
    let lines = SampleLine::from_draw(&d, None, &[]);
    let m = Manifest::new(
        &p,
        &d,
        None,
        file("policy.toml", "pol"),
        vec![input("scored", "in", 48)],
        file("sample.csv", "out"),
    );
    let json = m.to_json();
    assert!(json.contains("\"algorithm\": \"prn-poisson-sha256/1\""));
    assert!(json.contains("\"size_sd\"") && json.contains("\"joint_expected\""));
    assert!(!json.contains("\"start\""));
    let path = std::path::Path::new("m.json");
    let back = Manifest::from_json(&json, path).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.draw_params(path).unwrap(), p);
    assert!(verify(&m, &back, "out", &lines, &lines).is_match());

    // Re-derived systematically, the same files give another algorithm, figures and units.
    let sys = DrawParams {
        algorithm: Algorithm::Systematic,
        ..p.clone()
    };
    let ds = draw(&frame, &history, &sys).unwrap();
    let ms = Manifest::new(
        &sys,
        &ds,
        None,
        file("policy.toml", "pol"),
        vec![input("scored", "in", 48)],
        file("sample.csv", "out"),
    );
    let report = verify(
        &m,
        &ms,
        "out",
        &lines,
        &SampleLine::from_draw(&ds, None, &[]),
    );
    let params: Vec<String> = report
        .of(DiffKind::Parameter)
        .map(|d| d.subject.clone())
        .collect();
    assert_eq!(params, ["algorithm"]);
    assert!(
        report
            .of(DiffKind::Statistic)
            .any(|d| d.subject == "coordination")
    );

    // A systematic manifest carries none of the coordinated fields: manifests written before
    // §4.7 are the same text, and they still read and re-derive.
    let sys_json = ms.to_json();
    for field in ["size_sd", "coordination", "expected"] {
        assert!(!sys_json.contains(field), "{field}");
    }
    assert!(sys_json.contains("\"start_u64\": \""));
    let back = Manifest::from_json(&sys_json, path).unwrap();
    assert_eq!(back.draw_params(path).unwrap(), sys);
    assert_eq!(back, ms);

    // A tampered figure or an unknown algorithm is caught.
    let mut edited = m.clone();
    edited.coordination.as_mut().unwrap().joint_drawn += 1;
    assert!(!verify(&edited, &m, "out", &lines, &lines).is_match());
    let mut edited = m.clone();
    edited.per_stratum[0].size_sd = Some(0.5);
    assert!(!verify(&edited, &m, "out", &lines, &lines).is_match());
    let mut other = m.clone();
    other.algorithm = "prn-poisson-sha256/2".into();
    let e = other.draw_params(path).unwrap_err().to_string();
    assert!(e.contains("prn-poisson-sha256/1"), "{e}");
}
