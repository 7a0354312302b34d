//! Reading a scored file (the output of `spotcheck score`, in any format and either language)
//! back into typed rows, for the commands that work on scores: sample, whitelist, report.

use std::path::Path;

use anyhow::{Context, Result};

use spotcheck::scored::{ScoredRows, ScoredTable};
use spotcheck::table::ReadOptions;

/// Reads every row of a scored file, its header found as the first of the first rows naming the
/// required columns (a title row above it, a notes sheet in front passed over). Also returns
/// where the table was found and the blank or total rows skipped, as a sentence for the output
/// when it is not a plain table (`header found on row 3; skipped 1 blank or total row`).
pub fn read_scored(path: &Path, opts: &ReadOptions) -> Result<(ScoredRows, Option<String>)> {
    let opts = &ScoredTable::read_options(opts);
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
    let skipped = reader.skipped().rows();
    let note = [
        reader.layout().note(),
        (skipped > 0).then(|| {
            format!(
                "skipped {skipped} blank or total row{}",
                if skipped == 1 { "" } else { "s" }
            )
        }),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>();
    let note = (!note.is_empty()).then(|| note.join("; "));
    let rows = match rows {
        Some(r) => r,
        None => table.parse(&arrow::array::RecordBatch::new_empty(reader.schema()), 1)?,
    };
    Ok((rows, note))
}
