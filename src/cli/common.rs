//! Pieces several subcommands share: loading the policy and the credit model, and reading the
//! emissions table into per-enterprise totals (with orphan rows sent to the rejects file).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use spotcheck::input::Counts;
use spotcheck::input::enterprise::reason;
use spotcheck::input::tables::{read_emissions, read_emissions_batched};
use spotcheck::policy::Policy;
use spotcheck::schema::emi;
use spotcheck::score::pollutants::Pollutants;
use spotcheck::score::{EmissionAggregate, EmissionTotals};
use spotcheck::table::{ReadOptions, Reject, Rejects};

/// The policy of `--policy`, or the embedded default.
pub fn load_policy(path: Option<&Path>) -> Result<Policy> {
    match path {
        Some(p) => Policy::load(p).with_context(|| format!("loading the policy {}", p.display())),
        None => Ok(Policy::default()),
    }
}

/// Reads the emissions table into totals; returns the totals and the table's row counts so far
/// (orphans are added by `report_orphans` after scoring).
pub fn read_emission_totals(
    path: &Path,
    opts: &ReadOptions,
    rejects: &mut Rejects,
    policy: &Policy,
) -> Result<(EmissionTotals, Counts)> {
    let pollutants = Pollutants::builtin();
    let mut agg = EmissionAggregate::new();
    let counts = read_emissions_batched(
        path,
        opts,
        rejects,
        &|m, s| pollutants.lookup(m, s).map(|id| id.0),
        |rows| agg.add_rows(rows),
    )
    .context("reading the emissions table")?;
    Ok((agg.finish(pollutants, &policy.tax), counts))
}

/// After scoring: every emission row whose code no enterprise asked for goes to the rejects file
/// as `EMISSION_ORPHAN` (a second pass over the file, only when there are orphans).
pub fn report_orphans(
    path: &Path,
    opts: &ReadOptions,
    totals: &EmissionTotals,
    counts: &mut Counts,
    rejects: &mut Rejects,
) -> Result<u64> {
    let orphans = totals.orphans();
    if orphans.is_empty() {
        return Ok(0);
    }
    let set: std::collections::HashSet<&[u8]> = orphans.iter().map(|o| o.uscc.as_bytes()).collect();
    let header = {
        let r = spotcheck::table::open(path, opts)?;
        let s = r.schema();
        spotcheck::table::columns::find(&s, &emi::USCC)
            .map(|i| s.field(i).name().clone())
            .unwrap_or_else(|| "uscc".into())
    };
    let file = path.display().to_string();
    let mut found = Vec::new();
    let pollutants = Pollutants::builtin();
    // Re-read with a throw-away rejects collector: the bad rows were recorded on the first pass.
    let mut scratch = Rejects::new(false);
    read_emissions(
        path,
        opts,
        &mut scratch,
        &|m, s| pollutants.lookup(m, s).map(|id| id.0),
        |row| {
            if set.contains(&row.uscc[..]) {
                found.push((row.row, String::from_utf8_lossy(&row.uscc).into_owned()));
            }
        },
    )?;
    for (row, code) in &found {
        rejects.push(Reject {
            file: file.clone(),
            row: *row,
            column: header.clone(),
            value: code.clone(),
            reason: reason::EMISSION_ORPHAN,
            detail: "no enterprise with this code in the enterprise table (orphan emission row)"
                .into(),
        })?;
    }
    let n = found.len() as u64;
    counts.accepted -= n;
    counts.rejected += n;
    Ok(n)
}

/// Prints `file: read N = accepted A + rejected R`, with the blank and total rows skipped and
/// the header row when it was not the first (see `Counts::summary`).
pub fn print_counts(file: &Path, c: &Counts) {
    println!("{}: {}", file.display(), c.summary());
}

/// Resolves `-o` relative paths as given; refuses to overwrite an input file; removes the
/// temporary files of dead runs from the output's folder.
pub fn check_output(output: &Path, inputs: &[&Path]) -> Result<PathBuf> {
    for i in inputs {
        if let (Ok(a), Ok(b)) = (std::fs::canonicalize(output), std::fs::canonicalize(i))
            && a == b
        {
            anyhow::bail!(
                "the output {} is also an input: choose another file name",
                output.display()
            );
        }
    }
    // Temporary files of dead runs in the output's folder go first (SPEC §12).
    spotcheck::table::atomic::sweep_folder_of(output);
    Ok(output.to_path_buf())
}
