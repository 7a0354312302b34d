//! The I/O floor of `spotcheck score` (SPEC §8): the time it takes only to read score's input
//! files and write a table shaped like its output with the same Parquet settings — the
//! denominator of the end-to-end target (`score` ≤ 1.5 × this).
//!
//! It does what `score` does minus every computation: the emissions table is decoded batch by
//! batch (read ahead on a thread, as `score` does) and dropped; then the enterprise table is
//! decoded the same way and, for each batch read, a batch of scored rows of the same size is handed
//! to the same write-behind Parquet writer (`table::create`, `WriteOptions::default()`, so
//! `table::write::parquet_properties`). The written rows come from a template: the first row group
//! (10⁶ rows) of a real score output of the same data, loaded before the clock starts and cycled,
//! so each written row group has the content, and so the encoding and compression cost, of a real
//! one.
//!
//! Usage: `cargo run --release --example io_floor -- ENTERPRISES.parquet EMISSIONS.parquet
//! SCORED.parquet OUT.parquet` — prints `io_floor: <seconds> s (read emissions …, enterprises
//! and write …) rows …` on standard output.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use arrow::record_batch::RecordBatch;

use spotcheck::table::{Prefetch, ReadOptions, WriteBehind, WriteOptions, create, open};

fn main() -> Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [enterprises, emissions, scored, out] = args.as_slice() else {
        bail!("usage: io_floor ENTERPRISES EMISSIONS SCORED OUT");
    };
    let opts = ReadOptions::default();
    let wopts = WriteOptions::default();

    // Untimed: the template, the first row group of a real output, as 64 Ki-row batches.
    let mut template: Vec<RecordBatch> = Vec::new();
    let mut held = 0usize;
    for b in open(scored, &opts).with_context(|| format!("reading {}", scored.display()))? {
        let b = b?;
        held += b.num_rows();
        template.push(b);
        if held >= wopts.row_group_rows {
            break;
        }
    }
    if template.is_empty() {
        bail!("{} has no rows to use as a template", scored.display());
    }
    let schema = template[0].schema();

    let start = Instant::now();
    let mut emission_rows = 0usize;
    for b in Prefetch::new(open(emissions, &opts)?, 4) {
        emission_rows += b?.num_rows();
    }
    let t_emissions = start.elapsed();

    let mut writer = WriteBehind::new(create(out, schema, &wopts)?, 2);
    let mut next = template.iter().cycle().peekable();
    let mut rows = 0usize;
    for b in Prefetch::new(open(enterprises, &opts)?, 4) {
        let mut need = b?.num_rows();
        rows += need;
        while need > 0 {
            // Invariant: the template is not empty, so the cycle never ends.
            let t = next.next().expect("cycled template");
            let take = need.min(t.num_rows());
            writer.write(t.slice(0, take))?;
            need -= take;
        }
    }
    let written = writer.finish()?;
    let total = start.elapsed();
    println!(
        "io_floor: {:.3} s (read emissions {:.3} s, then enterprises and write {:.3} s) rows {rows} emission_rows {emission_rows} written {written}",
        total.as_secs_f64(),
        t_emissions.as_secs_f64(),
        (total - t_emissions).as_secs_f64()
    );
    Ok(())
}
