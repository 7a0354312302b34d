//! Criterion benches of `spotcheck results` past verification (SPEC §9, issue 12: 10⁶ result rows
//! in ≤ 2 s): reading and checking a results CSV of 10⁶ rows (`read_results`, every row looked up
//! in the draw and checked for repeats), and the §9.3 estimates of one department over every
//! domain (`estimate_department`) for 10⁶ drawn units. Fixed-seed data (ChaCha8Rng 912).
//! Verification re-derives the draw first; its cost is `verify`'s (`benches/sample.rs` and
//! `benches/e2e.sh`).

use std::collections::HashMap;
use std::hint::black_box;
use std::io::Write;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use spotcheck::results::estimates::{Domain, DrawnUnit, FrameCounts, Outcome, estimate_department};
use spotcheck::results::io::read_results;
use spotcheck::sample::Month;
use spotcheck::schema::{CreditClass, Department, Tier};
use spotcheck::table::{ReadOptions, Rejects};
use spotcheck::uscc;

const N: usize = 1_000_000;
const DISTRICTS: [u32; 17] = [
    110101, 110102, 110105, 110106, 110107, 110108, 110109, 110111, 110112, 110113, 110114, 110115,
    110116, 110117, 110118, 110119, 110302,
];

fn code(i: usize, d: u32) -> String {
    let mut org = [b'0'; 9];
    let mut v = i;
    for c in org.iter_mut().rev() {
        *c = uscc::CHARSET[v % 31];
        v /= 31;
    }
    let first17 = format!("91{d}{}", std::str::from_utf8(&org).unwrap_or("000000000"));
    uscc::complete(&first17).unwrap_or(first17)
}

fn bench_results(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(912);
    let month = Month::parse("2026-12").expect("a month");
    let mut units = Vec::with_capacity(N);
    let mut codes = Vec::with_capacity(N);
    let mut frame = FrameCounts::default();
    for i in 0..N {
        let d = DISTRICTS[rng.random_range(0..DISTRICTS.len())];
        let tier = Tier::ALL[rng.random_range(0..4)];
        let class = CreditClass::ALL[rng.random_range(0..4)];
        let pi = 0.01 + 0.99 * rng.random::<f64>().powi(3);
        let outcome = match rng.random_range(0..100) {
            0..5 => Outcome::Pending,
            5..8 => Outcome::OutOfScope,
            8..30 => Outcome::Violation,
            _ => Outcome::Compliant,
        };
        units.push(DrawnUnit {
            pi,
            stratum: d.to_string(),
            district: d,
            tier,
            credit_class: Some(class),
            outcome,
        });
        codes.push(code(i, d));
        // The frame: each drawn unit stands for about 1/π units.
        for dom in Domain::of(d, tier, Some(class)) {
            *frame.units.entry(dom).or_default() += (1.0 / pi) as u64;
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("results.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        writeln!(
            f,
            "uscc,month,department,inspected_on,result,violations,penalty_cny,note"
        )
        .unwrap();
        let names = [
            "no_problem",
            "problem_corrected",
            "未发现问题",
            "closed",
            "disclosure_missing",
        ];
        for (i, c) in codes.iter().enumerate() {
            writeln!(
                f,
                "{c},2026-12,market,2026-12-{:02},{},{},,",
                1 + i % 28,
                names[i % 5],
                i % 3
            )
            .unwrap();
        }
    }
    let drawn: HashMap<[u8; 18], usize> = codes
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((<[u8; 18]>::try_from(c.as_bytes()).ok()?, i)))
        .collect();
    let mut g = c.benchmark_group("results");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("read_results_csv_1e6", |b| {
        b.iter(|| {
            let mut rejects = Rejects::new(false);
            let is_drawn = |_: Month, _: Department, u: &[u8; 18]| drawn.contains_key(u);
            let (rows, counts) =
                read_results(&path, &ReadOptions::default(), &mut rejects, &is_drawn)
                    .expect("read");
            assert_eq!(counts.accepted as usize, N);
            black_box(rows.len())
        })
    });
    g.bench_function("estimate_department_1e6", |b| {
        b.iter(|| black_box(estimate_department(month, Department::Market, &units, &frame).len()))
    });
    g.finish();
}

criterion_group!(benches, bench_results);
criterion_main!(benches);
