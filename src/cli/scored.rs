//! Reading a scored file (the output of `spotcheck score`, in any format and either language)
//! back into typed rows, for the commands that work on scores: sample, whitelist, report.

use std::path::Path;

use anyhow::{Context, Result};

use spotcheck::scored::{ScoredRows, ScoredTable};
use spotcheck::table::ReadOptions;

/// Reads every row of a scored file.
pub fn read_scored(path: &Path, opts: &ReadOptions) -> Result<ScoredRows> {
    let reader = spotcheck::table::open(path, opts).context("reading the scored file")?;
    let table = ScoredTable::from_schema(&reader.schema(), path)?;
    let mut rows: Option<ScoredRows> = None;
    let mut next = 1u64;
    for batch in reader {
        let batch = batch?;
        let part = table.parse(&batch, next)?;
        next += batch.num_rows() as u64;
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
