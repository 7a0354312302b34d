//! Pieces several subcommands share: loading the policy and the credit model, and reading the
//! emissions table into per-enterprise totals (with orphan rows sent to the rejects file).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use spotcheck::input::Counts;
use spotcheck::policy::Policy;
use spotcheck::score::EmissionTotals;
use spotcheck::table::{ReadOptions, Rejects};

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
    spotcheck::scoring::read_emission_totals(path, opts, rejects, policy)
        .context("reading the emissions table")
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
    Ok(spotcheck::scoring::report_orphans(
        path, opts, totals, counts, rejects,
    )?)
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
