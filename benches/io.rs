//! Benchmarks of `spotcheck score`'s stages other than the kernel (SPEC §8), each on the same
//! fixed-seed generated data (2¹⁸ enterprises and their emissions, written as `spotcheck gen`
//! writes them): decoding the Parquet inputs, validating the enterprise table (cells parsed,
//! codes checked against the earlier rows), reading and aggregating the emissions table
//! (sequential reference path and the parallel one `score` uses), building the output batches,
//! encoding the output as Parquet with `table::write::parquet_properties` and as CSV (with the
//! formula guard's scan alone, SPEC §12), and reading that file
//! back as `spotcheck sample`'s frame. The kernel is in
//! `benches/score.rs`, sampling in `benches/sample.rs`, the I/O floor in `benches/io_floor.rs`.
//!
//! Run: `cargo bench --bench io` (or `-- --quick`).

#[path = "support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use spotcheck::input::EnterpriseReader;
use spotcheck::policy::Policy;
use spotcheck::schema::Lang;
use spotcheck::score::pollutants::Pollutants;
use spotcheck::score::{EmissionAggregate, score_batch};
use spotcheck::table::{ReadOptions, Rejects, WriteOptions, create, open};

fn stages(c: &mut Criterion) {
    let f = support::fixture();
    let opts = ReadOptions::default();
    let policy = Policy::default();
    let rows = support::ROWS;

    let mut g = c.benchmark_group("parquet_read");
    g.sample_size(10).warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Elements(rows));
    g.bench_function("enterprises_2e18", |b| {
        b.iter(|| {
            let mut n = 0;
            for batch in open(&f.enterprises, &opts).expect("open") {
                n += black_box(batch.expect("batch")).num_rows();
            }
            assert_eq!(n as u64, rows);
        })
    });
    g.throughput(Throughput::Elements(f.emission_rows as u64));
    g.bench_function("emissions", |b| {
        b.iter(|| {
            let mut n = 0;
            for batch in open(&f.emissions, &opts).expect("open") {
                n += black_box(batch.expect("batch")).num_rows();
            }
            assert_eq!(n, f.emission_rows);
        })
    });
    g.finish();

    let mut g = c.benchmark_group("validate");
    g.sample_size(10).warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Elements(rows));
    g.bench_function("sequential_2e18", |b| {
        b.iter(|| {
            let mut r = EnterpriseReader::open(&f.enterprises, &opts).expect("open");
            let mut rejects = Rejects::new(false);
            while let Some(batch) = r.next_batch(&mut rejects).expect("batch") {
                black_box(batch.len());
            }
            assert_eq!(r.counts().accepted, rows);
        })
    });
    g.bench_function("read_ahead_parallel_2e18", |b| {
        b.iter(|| {
            let mut r = EnterpriseReader::open(&f.enterprises, &opts)
                .expect("open")
                .prefetch(4);
            let mut rejects = Rejects::new(false);
            while !r.next_batches(4, &mut rejects).expect("batches").is_empty() {}
            assert_eq!(r.counts().accepted, rows);
        })
    });
    g.finish();

    let mut g = c.benchmark_group("emissions");
    g.sample_size(10).warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Elements(f.emission_rows as u64));
    g.bench_function("read_and_aggregate_sequential", |b| {
        b.iter(|| black_box(support::totals(&f)).enterprises())
    });
    g.bench_function("read_and_aggregate_parallel", |b| {
        b.iter(|| {
            let pollutants = Pollutants::builtin();
            let mut agg = EmissionAggregate::new();
            let mut rejects = Rejects::new(false);
            spotcheck::input::tables::read_emissions_batched(
                &f.emissions,
                &opts,
                &mut rejects,
                &|m, s| pollutants.lookup(m, s).map(|id| id.0),
                |rows| agg.add_rows(rows),
            )
            .expect("read");
            black_box(agg.finish(pollutants, &policy.tax)).enterprises()
        })
    });
    g.finish();

    // Output: ScoredBatch → RecordBatch, then Parquet encoding of those batches.
    let totals = support::totals(&f);
    let mut reader = EnterpriseReader::open(&f.enterprises, &opts).expect("open");
    let mut rejects = Rejects::new(false);
    let mut scored = Vec::new();
    while let Some(b) = reader.next_batch(&mut rejects).expect("read") {
        scored.push(score_batch(&b, Some(&totals), None, &policy).expect("score"));
    }
    let out: Vec<_> = scored
        .iter()
        .map(|s| s.to_record_batch(Lang::En).expect("output"))
        .collect();
    let mut g = c.benchmark_group("output");
    g.sample_size(10).warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Elements(rows));
    g.bench_function("to_record_batch_2e18", |b| {
        b.iter(|| {
            for s in &scored {
                black_box(s.to_record_batch(Lang::En).expect("output"));
            }
        })
    });
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("scored.parquet");
    g.bench_function("parquet_write_2e18", |b| {
        b.iter(|| {
            let mut w = create(&path, out[0].schema(), &WriteOptions::default()).expect("create");
            for batch in &out {
                w.write(batch).expect("write");
            }
            assert_eq!(w.finish().expect("finish"), rows);
        })
    });
    // CSV: the formula guard's scan (one byte test per text cell; nothing to guard in generated
    // names), then the whole CSV write it is part of.
    g.bench_function("csv_formula_scan_2e18", |b| {
        b.iter(|| {
            for batch in &out {
                let guarded = spotcheck::table::write::neutralise_formulas(batch).expect("scan");
                assert!(guarded.is_none());
            }
        })
    });
    let csv_path = dir.path().join("scored.csv");
    g.bench_function("csv_write_2e18", |b| {
        b.iter(|| {
            let mut w =
                create(&csv_path, out[0].schema(), &WriteOptions::default()).expect("create");
            for batch in &out {
                w.write(batch).expect("write");
            }
            assert_eq!(w.finish().expect("finish"), rows);
        })
    });
    g.finish();

    // Reading it back as `spotcheck sample` does: the frame's 10 columns, parsed, repeats
    // looked for.
    let mut w = create(&path, out[0].schema(), &WriteOptions::default()).expect("create");
    for batch in &out {
        w.write(batch).expect("write");
    }
    w.finish().expect("finish");
    let mut g = c.benchmark_group("sample_frame");
    g.sample_size(10).warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Elements(rows));
    g.bench_function("read_frame_2e18", |b| {
        b.iter(|| {
            let mut rejects = Rejects::new(false);
            let (frame, counts) =
                spotcheck::sample::io::read_frame(&path, &opts, &mut rejects).expect("frame");
            assert_eq!(counts.accepted, rows);
            black_box(frame.len())
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
