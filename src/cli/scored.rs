//! Reading a scored file (the output of `spotcheck score`, in any format and either language)
//! back into typed rows, for the commands that work on scores: sample, whitelist, report.

use std::path::Path;

use anyhow::{Context, Result};

use spotcheck::scored::{ScoredRows, ScoredTable};
use spotcheck::table::ReadOptions;

/// Reads every row of a scored file.
pub fn read_scored(path: &Path, opts: &ReadOptions) -> Result<ScoredRows> {
    let mut reader = spotcheck::table::open(path, opts).context("reading the scored file")?;
    let table = ScoredTable::from_schema(&reader.schema(), path)?;
    let mut rows: Option<ScoredRows> = None;
    // Row numbers as the file has them (blank and total rows an analyst added are skipped).
    while let Some(numbered) = reader.next_numbered() {
        let numbered = numbered?;
        let part = table.parse(&numbered.batch, numbered.first_row)?;
        match rows.as_mut() {
            Some(r) => r.extend(part),
            None => rows = Some(part),
        }
    }
    match rows {
        Some(r) => Ok(r),
        None => {
            let empty =
                arrow::array::RecordBatch::new_empty(spotcheck::table::open(path, opts)?.schema());
            Ok(table.parse(&empty, 1)?)
        }
    }
}
