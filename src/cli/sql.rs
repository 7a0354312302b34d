//! `spotcheck sql` (SPEC §11, cargo feature `datafusion`): one SQL query over table files with
//! Apache DataFusion and spotcheck's scoring and sampling functions; the result is printed as a
//! text table or written to a file in any format spotcheck writes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use datafusion::arrow::record_batch::RecordBatch;
use spotcheck::sql::{local_context, query, register_table};
use spotcheck::table::{Encoding, Format, ReadOptions, WriteOptions, create};

use super::common::load_policy;

/// Run one SQL query over table files with Apache DataFusion, spotcheck's functions included.
///
/// A table file can be named by its path in quotes (FROM 'out/scored.parquet': Parquet, Arrow
/// IPC, CSV, JSON) or registered under a name with --table NAME=FILE (every format spotcheck
/// reads, GB18030 CSV and XLSX included). The functions are spotcheck's kernels: spotcheck_uscc_valid(uscc),
/// spotcheck_medium(medium), spotcheck_pollutant(medium, pollutant), spotcheck_pe(medium,
/// pollutant, amount_kg), spotcheck_emission_band(pe_total), spotcheck_hj941_level(air_q, air_m,
/// air_e, water_q, water_m, water_e, env_serious_violation_36m) and spotcheck_hj941_detail(same),
/// spotcheck_market_ratio(credit_class, tier), spotcheck_market_max_per_year(credit_class, tier),
/// spotcheck_positive_list, spotcheck_eco_ratio and spotcheck_eco_max_per_year(tier,
/// emission_band, env_risk_level, env_penalties_24m, env_incidents_24m, permit_class,
/// online_monitoring, credit_class), spotcheck_risk_score(credit_class, env_risk_level,
/// emission_band), spotcheck_order_key(seed, department, month, uscc),
/// spotcheck_stratum_start(seed, department, month, stratum), spotcheck_prn(seed, month, uscc)
/// and spotcheck_pi(ratio). They read values in English or Chinese. SELECT DISTINCT routine_name
/// FROM information_schema.routines WHERE routine_name LIKE 'spotcheck%' lists them (SHOW
/// FUNCTIONS leaves them out).
///
/// Example: spotcheck sql "SELECT district, count(*) AS n, avg(market_ratio) AS mean FROM
/// 'scored.parquet' GROUP BY district ORDER BY district"
///
/// Example: spotcheck sql --table e=data/sample/emissions.csv "SELECT uscc,
/// sum(spotcheck_pe(medium, pollutant, amount_kg)) AS pe FROM e GROUP BY uscc" -o pe.xlsx
///
/// Exit codes: 0 done; 2 the query, a table file or the output cannot be used.
#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The query: one SQL statement (DataFusion's dialect).
    pub query: String,
    /// Register a table file under a name, NAME=FILE; repeat for more tables. Default: none (quoted
    /// paths in FROM still work).
    #[arg(long = "table", value_name = "NAME=FILE")]
    pub tables: Vec<String>,
    /// Write the result to FILE (.csv .parquet .arrow .jsonl .xlsx) instead of printing it as a
    /// text table (the default).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print at most N rows of the result (the rest is counted in a sentence; -o writes every
    /// row). 0 prints all. Default: 50.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub max_rows: usize,
    /// Policy file the spotcheck_* functions use (default: the shipped data/policy/default.toml,
    /// built in).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Text encoding of CSV files given with --table: utf-8 (default) or gb18030.
    #[arg(long, default_value = "utf-8", value_parser = super::parse_encoding)]
    pub encoding: Encoding,
    /// XLSX files given with --table: the sheet to read, by name or number. Default: the first
    /// sheet.
    #[arg(long, value_name = "NAME|N")]
    pub sheet: Option<String>,
    /// Run the query on the Ballista cluster whose scheduler is at df://HOST:PORT (see spotcheck
    /// cluster) instead of on this machine; tables must then be Parquet or Arrow IPC files the
    /// executors can read at the same path. Default: this machine.
    #[cfg(feature = "cluster")]
    #[arg(long, value_name = "df://HOST:PORT")]
    pub cluster: Option<String>,
}

/// Splits `NAME=FILE`.
fn parse_table(s: &str) -> Result<(String, PathBuf)> {
    match s.split_once('=') {
        Some((name, file)) if !name.is_empty() && !file.is_empty() => {
            Ok((name.to_string(), PathBuf::from(file)))
        }
        _ => anyhow::bail!("--table {s:?}: expected NAME=FILE, e.g. scored=out/scored.parquet"),
    }
}

pub fn run(a: SqlArgs) -> Result<ExitCode> {
    let policy = load_policy(a.policy.as_deref())?;
    let tables = a
        .tables
        .iter()
        .map(|t| parse_table(t))
        .collect::<Result<Vec<_>>>()?;
    if let Some(path) = &a.output {
        // Before the query runs (which may take long): an output that cannot be written.
        Format::from_path(path)?;
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(dir) = parent.filter(|d| !d.is_dir()) {
            anyhow::bail!(
                "cannot write {}: the folder {} does not exist",
                path.display(),
                dir.display()
            );
        }
    }
    let opts = ReadOptions {
        encoding: a.encoding,
        sheet: a.sheet.clone(),
        ..ReadOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the query runtime")?;
    let (schema, batches) = runtime.block_on(async {
        #[cfg(feature = "cluster")]
        let ctx = match &a.cluster {
            Some(url) => spotcheck::sql::cluster::connect(url, &policy)
                .await
                .with_context(|| format!("connecting to the cluster at {url}"))?,
            None => local_context(&policy),
        };
        #[cfg(not(feature = "cluster"))]
        let ctx = local_context(&policy);
        for (name, path) in &tables {
            register_table(&ctx, name, path, &opts).await?;
        }
        anyhow::Ok(query(&ctx, &a.query).await?)
    })?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    match &a.output {
        Some(path) => {
            let mut w = create(path, schema, &WriteOptions::default())
                .with_context(|| format!("writing {}", path.display()))?;
            for b in &batches {
                w.write(b)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            w.finish()
                .with_context(|| format!("writing {}", path.display()))?;
            println!("{rows} row(s) → {}", path.display());
        }
        None => {
            let shown = if a.max_rows == 0 {
                batches
            } else {
                first_rows(batches, a.max_rows)
            };
            let text =
                datafusion::arrow::util::pretty::pretty_format_batches_with_schema(schema, &shown)
                    .context("formatting the result")?;
            println!("{text}");
            let printed: usize = shown.iter().map(|b| b.num_rows()).sum();
            if printed < rows {
                println!(
                    "{rows} row(s); the first {printed} shown (--max-rows 0 prints all, -o FILE \
                     writes all)"
                );
            } else {
                println!("{rows} row(s)");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The first `n` rows of `batches` (zero-copy slices).
fn first_rows(batches: Vec<RecordBatch>, n: usize) -> Vec<RecordBatch> {
    let mut left = n;
    let mut out = Vec::new();
    for b in batches {
        if left == 0 {
            break;
        }
        let take = left.min(b.num_rows());
        out.push(b.slice(0, take));
        left -= take;
    }
    out
}
