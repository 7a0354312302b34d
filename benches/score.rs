//! Benchmarks of the scoring kernel (SPEC §8: ≥ 20 M enterprises/s on in-memory batches):
//! `score_batch` on generated batches of 1e4 and 1e6 enterprises, without and with an emissions
//! table, and the emissions aggregation itself. Data comes from a fixed-seed ChaCha generator so
//! every run scores the same rows.
//!
//! Run: `cargo bench --bench score` (or `-- --quick` for a short run).

use std::hint::black_box;
use std::sync::Arc;

use arrow::array::StringArray;
use arrow::datatypes::Schema;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use spotcheck::input::EnterpriseBatch;
use spotcheck::input::enterprise::Hj941Input;
use spotcheck::policy::Policy;
use spotcheck::schema::{CreditClass, EnvRiskLevel, Medium, PermitClass, Sensitivity, Tier};
use spotcheck::score::pollutants::{PollutantId, Pollutants};
use spotcheck::score::{EmissionAggregate, EmissionTotals, score_batch, score_batches};
use spotcheck::uscc;

const DISTRICTS: [u32; 6] = [110108, 110105, 110106, 110114, 110115, 110302];

fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

fn maybe<T>(rng: &mut ChaCha8Rng, p_null: f64, v: T) -> Option<T> {
    if rng.random_bool(p_null) {
        None
    } else {
        Some(v)
    }
}

/// `n` generated enterprises: every column filled with a realistic mix of values and nulls.
fn enterprises(n: usize, seed: u64) -> EnterpriseBatch {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut codes = Vec::with_capacity(n);
    let mut district = Vec::with_capacity(n);
    for i in 0..n {
        let d = pick(&mut rng, &DISTRICTS);
        // 91 + district + 9-character body built from the row number: unique and valid.
        let body: String = format!("{:09}", i)
            .bytes()
            .map(|b| {
                uscc::CHARSET[((b - b'0') as usize + rng.random_range(0..3) * 10) % 31] as char
            })
            .collect();
        let code = uscc::complete(&format!("91{d}{body}")).unwrap_or_default();
        codes.push(code);
        district.push(d);
    }
    let hj = |rng: &mut ChaCha8Rng| {
        let q = rng.random_range(0.0..150.0);
        let m = rng.random_range(0.0..80.0);
        let e = pick(rng, &[Sensitivity::E1, Sensitivity::E2, Sensitivity::E3]);
        Hj941Input {
            q: maybe(rng, 0.4, q),
            m: maybe(rng, 0.3, m),
            e: maybe(rng, 0.3, e),
        }
    };
    let mut b = EnterpriseBatch {
        row: (1..=n as u64).collect(),
        uscc: StringArray::from_iter_values(codes.iter()),
        uscc_checksum_bad: vec![false; n],
        name: StringArray::from_iter_values((0..n).map(|i| format!("企业{i}"))),
        district,
        industry: StringArray::from(vec![None::<&str>; n]),
        tier: Vec::with_capacity(n),
        credit_class: Vec::with_capacity(n),
        permit_class: Vec::with_capacity(n),
        pe_air: Vec::with_capacity(n),
        pe_water: Vec::with_capacity(n),
        env_risk_level: Vec::with_capacity(n),
        air: Vec::with_capacity(n),
        water: Vec::with_capacity(n),
        env_penalties_24m: Vec::with_capacity(n),
        env_incidents_24m: Vec::with_capacity(n),
        env_serious_violation_36m: Vec::with_capacity(n),
        online_monitoring: Vec::with_capacity(n),
        raw: RecordBatch::try_new_with_options(
            Arc::new(Schema::empty()),
            vec![],
            &RecordBatchOptions::new().with_row_count(Some(n)),
        )
        .expect("an empty batch with a row count"),
    };
    for _ in 0..n {
        b.tier.push(pick(
            &mut rng,
            &[
                Tier::Innovative,
                Tier::Specialized,
                Tier::LittleGiant,
                Tier::None,
                Tier::None,
            ],
        ));
        let class = pick(
            &mut rng,
            &[
                CreditClass::A,
                CreditClass::A,
                CreditClass::B,
                CreditClass::C,
                CreditClass::D,
            ],
        );
        b.credit_class.push(maybe(&mut rng, 0.03, class));
        let permit = pick(
            &mut rng,
            &[
                PermitClass::Key,
                PermitClass::Simplified,
                PermitClass::Registration,
                PermitClass::None,
            ],
        );
        b.permit_class.push(maybe(&mut rng, 0.1, permit));
        let pe = rng.random_range(0.0f64..1.0).powi(4) * 40000.0;
        b.pe_air.push(maybe(&mut rng, 0.2, pe));
        b.pe_water.push(maybe(&mut rng, 0.5, pe / 3.0));
        let level = pick(
            &mut rng,
            &[
                EnvRiskLevel::General,
                EnvRiskLevel::Larger,
                EnvRiskLevel::Major,
            ],
        );
        b.env_risk_level.push(maybe(&mut rng, 0.6, level));
        let (a, w) = (hj(&mut rng), hj(&mut rng));
        b.air.push(a);
        b.water.push(w);
        let pen = pick(&mut rng, &[0, 0, 0, 0, 1, 2]);
        b.env_penalties_24m.push(maybe(&mut rng, 0.1, pen));
        let inc = pick(&mut rng, &[0, 0, 0, 0, 0, 1]);
        b.env_incidents_24m.push(maybe(&mut rng, 0.1, inc));
        let v = rng.random_bool(0.05);
        b.env_serious_violation_36m.push(maybe(&mut rng, 0.2, v));
        let m = rng.random_bool(0.6);
        b.online_monitoring.push(maybe(&mut rng, 0.2, m));
    }
    b
}

type EmissionRow = ([u8; 18], &'static str, PollutantId, f64);

/// Emission rows for about 30% of the enterprises: 1–3 outlets with 1–5 pollutants each.
fn emission_rows(batch: &EnterpriseBatch, seed: u64) -> Vec<EmissionRow> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let table = Pollutants::builtin();
    let of = |m: Medium| -> Vec<PollutantId> {
        table
            .iter()
            .filter(|(_, p)| p.medium == m)
            .map(|(i, _)| i)
            .collect()
    };
    let (air, water) = (of(Medium::Air), of(Medium::Water));
    let mut rows = Vec::new();
    for i in 0..batch.len() {
        if !rng.random_bool(0.3) {
            continue;
        }
        let key: [u8; 18] = batch
            .uscc
            .value(i)
            .as_bytes()
            .try_into()
            .unwrap_or([b'0'; 18]);
        for (outlet, ids) in [("DA001", &air), ("DW001", &water), ("DA002", &air)]
            .into_iter()
            .take(rng.random_range(1..=3))
        {
            for _ in 0..rng.random_range(1..=5) {
                rows.push((
                    key,
                    outlet,
                    pick(&mut rng, ids),
                    rng.random_range(0.0..500.0),
                ));
            }
        }
    }
    rows
}

fn aggregate(rows: &[EmissionRow], policy: &Policy) -> EmissionTotals {
    let mut agg = EmissionAggregate::new();
    for &(key, outlet, id, amount) in rows {
        agg.add(key, outlet, id, amount);
    }
    agg.finish(Pollutants::builtin(), &policy.tax)
}

fn bench_score(c: &mut Criterion) {
    let policy = Policy::default();
    let mut group = c.benchmark_group("score_batch");
    for n in [10_000usize, 1_000_000] {
        let batch = enterprises(n, 20260101);
        let totals = aggregate(&emission_rows(&batch, 7), &policy);
        group.throughput(Throughput::Elements(n as u64));
        if n >= 1_000_000 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::new("no_emissions", n), &batch, |b, batch| {
            b.iter(|| score_batch(black_box(batch), None, None, &policy).map(|s| s.len()))
        });
        group.bench_with_input(BenchmarkId::new("with_emissions", n), &batch, |b, batch| {
            b.iter(|| score_batch(black_box(batch), Some(&totals), None, &policy).map(|s| s.len()))
        });
    }
    // The pipeline scores a file in batches: 16 batches of 65536 rows (2^20 enterprises), each
    // scored and dropped in turn, so the allocator reuses the output buffers.
    let batches: Vec<EnterpriseBatch> = (0..16).map(|k| enterprises(65536, 1000 + k)).collect();
    let rows: usize = batches.iter().map(EnterpriseBatch::len).sum();
    group.throughput(Throughput::Elements(rows as u64));
    group.sample_size(10);
    group.bench_function(BenchmarkId::new("streamed_65536", rows), |b| {
        b.iter(|| {
            let mut scored = 0;
            for batch in &batches {
                scored += score_batch(black_box(batch), None, None, &policy).map_or(0, |s| s.len());
            }
            scored
        })
    });
    group.bench_function(BenchmarkId::new("streamed_65536_parallel", rows), |b| {
        b.iter(|| {
            score_batches(black_box(&batches), None, None, &policy)
                .map_or(0, |v| v.iter().map(|s| s.len()).sum::<usize>())
        })
    });
    group.finish();

    let mut group = c.benchmark_group("emissions");
    let batch = enterprises(1_000_000, 20260101);
    let rows = emission_rows(&batch, 7);
    group.throughput(Throughput::Elements(rows.len() as u64));
    group.sample_size(10);
    group.bench_function(BenchmarkId::new("aggregate_and_finish", rows.len()), |b| {
        b.iter(|| aggregate(black_box(&rows), &policy).enterprises())
    });
    group.finish();
}

criterion_group!(benches, bench_score);
criterion_main!(benches);
