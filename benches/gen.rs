//! Benchmarks of the synthetic-data generator (SPEC §7, §8: `spotcheck gen` of 10 M rows ≤ 10 s
//! including writing Parquet). Generation of 10⁶ enterprises, alone and with emissions and history,
//! and generation plus Parquet encoding into a sink (the CLI's writing cost without the disk);
//! criterion reports rows/s, and 10⁷ rows take ten times the 10⁶ time since batches stream.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use spotcheck::r#gen::{GenParams, Generator, Month, Tables, enterprise_schema};

const ROWS: u64 = 1_000_000;
const SEED: u64 = 20_241_116;

fn generate(c: &mut Criterion) {
    let g = Generator::new(GenParams::new(ROWS, SEED)).expect("valid parameters");
    let mut group = c.benchmark_group("gen");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(15))
        .throughput(Throughput::Elements(ROWS));

    group.bench_function("enterprises_1e6", |b| {
        b.iter(|| {
            let rows: usize = g
                .batches(Tables::default())
                .map(|batch| black_box(batch.enterprises).num_rows())
                .sum();
            assert_eq!(rows as u64, ROWS);
        })
    });

    let all = Tables {
        emissions: true,
        history: Month::new(2026, 6),
    };
    group.bench_function("all_tables_1e6", |b| {
        b.iter(|| {
            let rows: usize = g
                .batches(all)
                .map(|batch| black_box(batch).enterprises.num_rows())
                .sum();
            assert_eq!(rows as u64, ROWS);
        })
    });

    // The unique text columns (uscc, name) gain nothing from dictionary encoding; the last case
    // shows what turning it off for them saves the writer.
    for (label, compression, key_dictionary) in [
        ("parquet_snappy_1e6", Compression::SNAPPY, true),
        (
            "parquet_zstd1_1e6",
            Compression::ZSTD(ZstdLevel::default()),
            true,
        ),
        ("parquet_snappy_plain_keys_1e6", Compression::SNAPPY, false),
    ] {
        group.bench_function(label, |b| {
            b.iter(|| {
                let props = WriterProperties::builder()
                    .set_compression(compression)
                    .set_column_dictionary_enabled(ColumnPath::from("uscc"), key_dictionary)
                    .set_column_dictionary_enabled(ColumnPath::from("name"), key_dictionary)
                    .build();
                let mut w = ArrowWriter::try_new(std::io::sink(), enterprise_schema(), Some(props))
                    .expect("writer on a sink");
                for batch in g.batches(Tables::default()) {
                    w.write(&batch.enterprises).expect("encode batch");
                }
                black_box(w.close().expect("close writer"));
            })
        });
    }
    group.finish();
}

criterion_group!(benches, generate);
criterion_main!(benches);
