//! The I/O floor of `spotcheck score` (SPEC §8), in process, on fixed-seed generated data
//! (2¹⁸ enterprises and their emissions): only reading score's input files and writing a table
//! shaped like its output — the real score output of the same data, held in memory — with the same
//! Parquet settings (`table::create`, so `table::write::parquet_properties`), read ahead and
//! written behind on their own threads as `score` does. The end-to-end target is `score` ≤ 1.5 ×
//! this; `benches/e2e.sh` measures both on 10⁶ and 10⁷ enterprises with `examples/io_floor.rs`.
//!
//! Run: `cargo bench --bench io_floor` (or `-- --quick`).

#[path = "support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use spotcheck::table::{Prefetch, ReadOptions, WriteBehind, WriteOptions, create, open};

fn floor(c: &mut Criterion) {
    let f = support::fixture();
    let out = support::scored(&f);
    let opts = ReadOptions::default();
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("floor.parquet");

    let mut g = c.benchmark_group("io_floor");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(support::ROWS));
    g.bench_function("read_inputs_write_output_2e18", |b| {
        b.iter(|| {
            for batch in Prefetch::new(open(&f.emissions, &opts).expect("open"), 4) {
                black_box(batch.expect("batch"));
            }
            let mut w = WriteBehind::new(
                create(&path, out[0].schema(), &WriteOptions::default()).expect("create"),
                2,
            );
            let mut template = out.iter();
            for batch in Prefetch::new(open(&f.enterprises, &opts).expect("open"), 4) {
                black_box(batch.expect("batch"));
                // The output has one batch per input batch (no rejects in generated data).
                w.write(
                    template
                        .next()
                        .expect("one output batch per input batch")
                        .clone(),
                )
                .expect("write");
            }
            assert_eq!(w.finish().expect("finish"), support::ROWS);
        })
    });
    g.finish();
}

criterion_group!(benches, floor);
criterion_main!(benches);
