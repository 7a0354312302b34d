//! Criterion benches of the sampling kernels (SPEC §4, §8): order keys alone, `prepare`
//! (eligibility + keys + π + processing order) and the whole `draw` (plus the systematic walk and
//! the joint merge) over a fixed-seed frame of 1e6 units. `SPOTCHECK_BENCH_UNITS=10000000` runs the
//! same benches at 1e7 (the `spotcheck sample` target is 3 s there, I/O included).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use spotcheck::sample::Date;
use spotcheck::sample::{
    Algorithm, Capacity, DrawDepartment, DrawParams, HistoryIndex, Month, OrderKeys, SampleFrame,
    SamplingParams, Strata, draw, prepare,
};
use spotcheck::schema::{CreditClass, Department, Mode, Tier};
use spotcheck::uscc;

const SEED: &str = "2026年12月 市场监管 双随机 公开摇号 第1期";

/// A frame of `n` units with SPEC §3.4/§3.5 ratios, from ChaCha8Rng seed 2026.
fn frame(n: usize) -> SampleFrame {
    const DISTRICTS: [u32; 17] = [
        110101, 110102, 110105, 110106, 110107, 110108, 110109, 110111, 110112, 110113, 110114,
        110115, 110116, 110117, 110118, 110119, 110302,
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let mut codes = Vec::with_capacity(n);
    let mut district = Vec::with_capacity(n);
    let mut tier = Vec::with_capacity(n);
    let mut credit = Vec::with_capacity(n);
    let mut market_ratio = Vec::with_capacity(n);
    let mut market_max = Vec::with_capacity(n);
    let mut eco_ratio = Vec::with_capacity(n);
    let mut eco_max = Vec::with_capacity(n);
    for i in 0..n {
        let d = DISTRICTS[rng.random_range(0..DISTRICTS.len())];
        // A serial number in base 31 keeps the codes unique.
        let mut org = [b'0'; 9];
        let mut v = i;
        for c in org.iter_mut().rev() {
            *c = uscc::CHARSET[v % 31];
            v /= 31;
        }
        let first17 = format!("91{d}{}", std::str::from_utf8(&org).unwrap_or("000000000"));
        codes.push(uscc::complete(&first17).unwrap_or(first17));
        district.push(d);
        let t = Tier::ALL[rng.random_range(0..4)];
        tier.push(t);
        let (c, r, m) = match rng.random_range(0..100) {
            0..30 => (CreditClass::A, 0.03, 1),
            30..75 => (CreditClass::B, 0.10, 1),
            75..93 => (CreditClass::C, 0.30, 2),
            _ => (CreditClass::D, 0.80, 4),
        };
        credit.push(Some(c));
        market_ratio.push(if c == CreditClass::A && t != Tier::None {
            r * 0.6
        } else {
            r
        });
        market_max.push(m);
        if t != Tier::None && rng.random_bool(0.25) {
            eco_ratio.push(0.0);
            eco_max.push(0);
        } else {
            eco_ratio.push([0.2, 0.1, 0.05, 0.02, 0.15, 0.3][rng.random_range(0..6)]);
            eco_max.push(2);
        }
    }
    SampleFrame {
        uscc: codes.iter().map(|s| Some(s.as_str())).collect(),
        name: (0..n).map(|_| Some("示例企业有限公司")).collect(),
        district,
        tier,
        credit_class: credit,
        market_ratio,
        market_max_per_year: market_max,
        eco_ratio,
        eco_max_per_year: eco_max,
        risk_score: std::iter::repeat_n(Some(40.0), n).collect(),
    }
}

/// On-site history for every 10th unit: a market check in March, an ecology one in October.
fn history(f: &SampleFrame) -> HistoryIndex {
    let mut h = HistoryIndex::new();
    let march = Date::parse("2026-03-15").unwrap_or(Date::MIN);
    let october = Date::parse("2026-10-15").unwrap_or(Date::MIN);
    for i in (0..f.len()).step_by(10) {
        h.add(f.uscc(i), Department::Market, Mode::Onsite, march);
        h.add(f.uscc(i), Department::Ecology, Mode::Onsite, october);
    }
    h
}

fn params(department: DrawDepartment, capacity: Capacity, strata: Strata) -> DrawParams {
    DrawParams {
        seed: SEED.into(),
        month: Month::parse("2026-12").unwrap_or_else(|| unreachable!()),
        department,
        strata,
        capacity,
        sampling: SamplingParams {
            cooldown_months: 3,
            team_size: 2,
        },
        algorithm: Algorithm::Systematic,
    }
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("SPOTCHECK_BENCH_UNITS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let f = frame(n);
    let empty = HistoryIndex::new();
    let hist = history(&f);
    let mut g = c.benchmark_group("sample");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);

    let keys = OrderKeys::new(SEED, Department::Market, "2026-12");
    g.bench_function(BenchmarkId::new("keys_1_thread", n), |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for i in 0..f.len() {
                acc ^= keys.key(f.uscc(i));
            }
            black_box(acc)
        })
    });
    g.bench_function(BenchmarkId::new("keys_rayon", n), |b| {
        b.iter(|| {
            let v: Vec<u64> = (0..f.len())
                .into_par_iter()
                .map(|i| keys.key(f.uscc(i)))
                .collect();
            black_box(v)
        })
    });
    let market = params(DrawDepartment::Market, Capacity::NONE, Strata::District);
    g.bench_function(BenchmarkId::new("prepare_market", n), |b| {
        b.iter(|| black_box(prepare(&f, &empty, &market, Department::Market)))
    });
    g.bench_function(BenchmarkId::new("draw_market", n), |b| {
        b.iter(|| black_box(draw(&f, &empty, &market)))
    });
    let cap = (n / 100) as u64;
    let capped = params(
        DrawDepartment::Market,
        Capacity {
            market: Some(cap),
            ecology: None,
        },
        Strata::District,
    );
    g.bench_function(BenchmarkId::new("draw_market_capacity", n), |b| {
        b.iter(|| black_box(draw(&f, &empty, &capped)))
    });
    let joint = params(
        DrawDepartment::Joint,
        Capacity {
            market: Some(cap),
            ecology: Some(cap / 2),
        },
        Strata::District,
    );
    g.bench_function(BenchmarkId::new("draw_joint_capacity_history", n), |b| {
        b.iter(|| black_box(draw(&f, &hist, &joint)))
    });
    // The same joint draw coordinated (SPEC §4.7): one more hash per eligible unit and
    // department (u), no walk.
    let coordinated = DrawParams {
        algorithm: Algorithm::Coordinated,
        ..joint.clone()
    };
    g.bench_function(
        BenchmarkId::new("draw_joint_coordinated_capacity_history", n),
        |b| b.iter(|| black_box(draw(&f, &hist, &coordinated))),
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
