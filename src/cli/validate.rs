//! `spotcheck validate`: reads the input tables, applies every check of SPEC §2 and reports what
//! would be accepted, rejected (with reasons) or flagged — without scoring anything.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use spotcheck::input::tables::{read_history, read_inspectors};
use spotcheck::input::{Counts, EnterpriseReader};

use super::InputOpts;

/// Check input tables without scoring: counts, reject reasons and flagged codes.
///
/// Reads the enterprise table (and the emissions, history and inspectors tables when given),
/// applies every validation rule, prints `read = accepted + rejected` per file with counts by
/// reason, and writes each rejected row (file, row, column, value, reason) to the rejects file.
///
/// Example: spotcheck validate data/sample/enterprises.csv --emissions data/sample/emissions.csv
///
/// Exit codes: 0 nothing rejected; 1 some rows rejected (see the rejects file); 2 an input cannot
/// be used at all (missing file or required column, unreadable format or encoding).
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The enterprise table (SPEC §1.1).
    pub enterprises: PathBuf,
    /// Emissions table (SPEC §1.2): uscc, outlet, medium, pollutant, amount_kg.
    #[arg(long, value_name = "FILE")]
    pub emissions: Option<PathBuf>,
    /// Inspection history (SPEC §1.3): uscc, date, department, mode.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Inspectors (SPEC §1.4): inspector_id, name, department, district, conflicts.
    #[arg(long, value_name = "FILE")]
    pub inspectors: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputOpts,
}

fn line(file: &str, c: &Counts) {
    println!("{file}: {}", c.summary());
}

pub fn run(a: ValidateArgs) -> Result<ExitCode> {
    let opts = a.input.read_options();
    let mut rejects = a.input.rejects();
    // Decoded ahead on another thread, a round of batches parsed in parallel (as `score` does).
    let mut ent = EnterpriseReader::open(&a.enterprises, &opts)?.prefetch(2);
    let per_round = 2 * rayon::current_num_threads();
    let mut flagged: Vec<(u64, String)> = Vec::new();
    loop {
        let round = ent.next_batches(per_round, &mut rejects)?;
        if round.is_empty() {
            break;
        }
        for b in &round {
            for i in 0..b.len() {
                if b.uscc_checksum_bad[i] {
                    flagged.push((b.row[i], b.uscc.value(i).to_string()));
                }
            }
        }
    }
    // The accepted codes, for finding orphan emission rows: the reader's compact exact set
    // (about 21 bytes a code), not a heap string per enterprise.
    let codes = ent.accepted_codes();
    let ec = ent.counts();
    line(&a.enterprises.display().to_string(), &ec);
    // Columns outside the enterprise table of SPEC §1.1: the credit model's features, and
    // anything else (passed through to the scored output as it is).
    let (features, other): (Vec<String>, Vec<String>) = ent
        .unknown_columns()
        .into_iter()
        .partition(|h| spotcheck::schema::feat::ALL.iter().any(|c| c.matches(h)));
    if !features.is_empty() {
        println!(
            "  credit features (for the credit model, passed through to the output): {}",
            features.join(", ")
        );
    }
    if !other.is_empty() {
        println!(
            "  other columns passed through as they are: {}",
            other.join(", ")
        );
    }
    if !flagged.is_empty() {
        println!(
            "  {} code(s) flagged USCC_CHECKSUM (wrong check character, kept): {}",
            flagged.len(),
            flagged
                .iter()
                .take(5)
                .map(|(r, c)| format!("row {r} {c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(p) = &a.emissions {
        let pollutants = spotcheck::score::pollutants::Pollutants::builtin();
        let mut orphans: Vec<(u64, String)> = Vec::new();
        let mut c = spotcheck::input::tables::read_emissions(
            p,
            &opts,
            &mut rejects,
            &|m, s| pollutants.lookup(m, s).map(|id| id.0),
            |row| {
                if !codes.contains(&row.uscc) {
                    orphans.push((row.row, String::from_utf8_lossy(&row.uscc).into_owned()));
                }
            },
        )?;
        let file = p.display().to_string();
        let column = find_header(p, &opts, &spotcheck::schema::emi::USCC)?;
        let distinct: std::collections::BTreeSet<&str> =
            orphans.iter().map(|(_, c)| c.as_str()).collect();
        for (row, code) in &orphans {
            rejects.push(spotcheck::table::Reject {
                file: file.clone(),
                row: *row,
                column: column.clone(),
                value: code.clone(),
                reason: spotcheck::input::enterprise::reason::EMISSION_ORPHAN,
                detail:
                    "no enterprise with this code in the enterprise table (orphan emission row)"
                        .into(),
            })?;
        }
        c.accepted -= orphans.len() as u64;
        c.rejected += orphans.len() as u64;
        line(&file, &c);
        if !orphans.is_empty() {
            println!(
                "  {} emission row(s) for {} enterprise(s) not in the enterprise table (orphans)",
                orphans.len(),
                distinct.len()
            );
        }
    }
    if let Some(p) = &a.history {
        let (_, c) = read_history(p, &opts, &mut rejects)?;
        line(&p.display().to_string(), &c);
    }
    if let Some(p) = &a.inspectors {
        let (_, c) = read_inspectors(p, &opts, &mut rejects)?;
        line(&p.display().to_string(), &c);
    }
    if rejects.is_empty() {
        println!("nothing rejected");
        return Ok(ExitCode::SUCCESS);
    }
    println!("rejected rows by reason:");
    for ((file, reason), n) in rejects.counts() {
        println!("  {file}: {reason} × {n}");
    }
    for r in rejects.items().iter().take(5) {
        println!(
            "  e.g. {} row {}, column {:?}: {:?} — {}: {}",
            r.file, r.row, r.column, r.value, r.reason, r.detail
        );
    }
    let path = a.input.rejects.clone().unwrap_or_else(|| {
        super::default_rejects_path(std::path::Path::new(
            a.enterprises.file_name().unwrap_or_default(),
        ))
    });
    super::write_rejects(&rejects, &path).context("validate")?;
    println!(
        "all {} rejected row(s) written to {}",
        rejects.len(),
        path.display()
    );
    Ok(ExitCode::from(1))
}

/// The header the file uses for a known column (for rejects written after reading).
fn find_header(
    path: &std::path::Path,
    opts: &spotcheck::table::ReadOptions,
    col: &spotcheck::schema::Col,
) -> Result<String> {
    let r = spotcheck::table::open(path, opts)?;
    let schema = r.schema();
    Ok(spotcheck::table::columns::find(&schema, col)
        .map(|i| schema.field(i).name().clone())
        .unwrap_or_else(|| col.name.to_string()))
}
