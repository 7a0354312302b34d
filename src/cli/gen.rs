//! `spotcheck gen`: writes a reproducible synthetic Beijing (SPEC §7) — enterprises, and on
//! request emissions, inspection history and inspectors — streaming batches to any table format.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;

use spotcheck::r#gen::{GenParams, Generator, Tables, parse_month};
use spotcheck::table::{TableWriter, WriteBehind, WriteOptions, create};

use super::common::check_output;

/// Generate a synthetic Beijing: enterprises, emissions, inspection history and inspectors.
///
/// District shares skewed as in reality (海淀, 朝阳 largest), tiers in the ratio of Beijing's
/// counts, credit classes that depend on the credit features, valid unique credit codes,
/// emissions with many zeros and a heavy tail, HJ 941 inputs, penalties and monitoring flags.
/// The same --rows and --seed always give identical files. With --emissions, the enterprise table
/// leaves out pe_air/pe_water (they come from the emissions table instead).
///
/// Example: spotcheck gen --rows 10000 --seed 7 -o enterprises.parquet --emissions
/// emissions.parquet --history history.csv --inspectors inspectors.csv
#[derive(Debug, Args)]
pub struct GenArgs {
    /// Number of enterprises.
    #[arg(long)]
    pub rows: u64,
    /// Seed of the generator (any whole number); the same seed gives the same data.
    #[arg(long)]
    pub seed: u64,
    /// The enterprise table to write (.parquet .csv .arrow .jsonl .xlsx).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Also write the emissions table (SPEC §1.2).
    #[arg(long, value_name = "FILE")]
    pub emissions: Option<PathBuf>,
    /// Also write an inspection history (SPEC §1.3) for the year before --month.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// The month the history leads up to (YYYY-MM).
    #[arg(long, default_value = "2026-12", value_name = "YYYY-MM")]
    pub month: String,
    /// Also write the inspectors table (SPEC §1.4).
    #[arg(long, value_name = "FILE")]
    pub inspectors: Option<PathBuf>,
    /// Write a UTF-8 byte-order mark at the start of CSV outputs.
    #[arg(long)]
    pub bom: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(a: GenArgs) -> Result<ExitCode> {
    let month = parse_month(&a.month).context("--month")?;
    let generator = Generator::new(GenParams::new(a.rows, a.seed))?;
    let tables = Tables {
        emissions: a.emissions.is_some(),
        history: a.history.as_ref().map(|_| month),
    };
    let opts = WriteOptions {
        bom: a.bom,
        ..WriteOptions::default()
    };
    let mut outputs = vec![a.output.clone()];
    outputs.extend(a.emissions.iter().cloned());
    outputs.extend(a.history.iter().cloned());
    outputs.extend(a.inspectors.iter().cloned());
    for (i, p) in outputs.iter().enumerate() {
        check_output(p, &[])?;
        if outputs[..i].contains(p) {
            anyhow::bail!("{} is given for two tables", p.display());
        }
    }
    let open = |p: &PathBuf, schema| -> Result<TableWriter> {
        create(p, schema, &opts).with_context(|| format!("writing {}", p.display()))
    };
    // Each table is encoded and written on its own thread, behind the generator.
    let behind = |w: TableWriter| WriteBehind::new(w, 2);
    // With an emissions table the enterprise table leaves out pe_air/pe_water: they would be
    // ignored by `score` anyway (SPEC §1.1), and a bureau has one or the other.
    let full = spotcheck::r#gen::enterprise_schema();
    let keep: Vec<usize> = (0..full.fields().len())
        .filter(|&i| {
            let n = full.field(i).name();
            a.emissions.is_none() || (n != "pe_air" && n != "pe_water")
        })
        .collect();
    let mut ent = behind(open(&a.output, Arc::new(full.project(&keep)?))?);
    let mut emi = a
        .emissions
        .as_ref()
        .map(|p| open(p, spotcheck::r#gen::emissions_schema()).map(behind))
        .transpose()?;
    let mut his = a
        .history
        .as_ref()
        .map(|p| open(p, spotcheck::r#gen::history_schema()).map(behind))
        .transpose()?;
    let progress = super::progress::Progress::new(a.quiet, "generating", Some(a.rows));
    for b in generator.batches(tables) {
        ent.write(b.enterprises.project(&keep)?)?;
        if let (Some(w), Some(batch)) = (emi.as_mut(), b.emissions) {
            w.write(batch)?;
        }
        if let (Some(w), Some(batch)) = (his.as_mut(), b.history) {
            w.write(batch)?;
        }
        progress.inc(b.enterprises.num_rows() as u64);
    }
    progress.finish();
    let rows = ent.finish()?;
    let mut summary = vec![format!("{rows} enterprises → {}", a.output.display())];
    if let (Some(w), Some(p)) = (emi, &a.emissions) {
        summary.push(format!("{} emission rows → {}", w.finish()?, p.display()));
    }
    if let (Some(w), Some(p)) = (his, &a.history) {
        summary.push(format!("{} inspections → {}", w.finish()?, p.display()));
    }
    if let Some(p) = &a.inspectors {
        let batch = generator.inspectors();
        let mut w = open(p, batch.schema())?;
        w.write(&batch)?;
        summary.push(format!("{} inspectors → {}", batch.num_rows(), p.display()));
        w.finish()?;
    }
    for s in summary {
        println!("{s}");
    }
    Ok(ExitCode::SUCCESS)
}
