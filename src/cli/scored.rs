//! Reading a scored file (the output of `spotcheck score`, in any format and either language)
//! back into typed rows batch by batch, for the commands that count over scores (report).

use std::path::Path;

use anyhow::{Context, Result};

use spotcheck::scored::{ScoredRows, ScoredTable};
use spotcheck::table::ReadOptions;

/// Reads a scored file batch by batch, handing each batch's rows to `f` in file order (nothing
/// of the file is kept here: for the commands that only count). Its header is found as the first
/// of the first rows naming the required columns (a title row above it, a notes sheet in front
/// passed over). Returns where the table was found and the blank or total rows skipped, as a
/// sentence for the output when it is not a plain table (`header found on row 3; skipped 1 blank
/// or total row`).
pub fn for_each_scored(
    path: &Path,
    opts: &ReadOptions,
    mut f: impl FnMut(ScoredRows),
) -> Result<Option<String>> {
    let opts = &ScoredTable::read_options(opts);
    let reader = spotcheck::table::open(path, opts).context("reading the scored file")?;
    let table = ScoredTable::from_schema(&reader.schema(), path)?;
    // Batches are decoded ahead on their own thread while the last one is parsed and counted.
    let mut reader = spotcheck::table::Prefetch::new(reader, 2);
    while let Some(numbered) = reader.next_numbered() {
        let numbered = numbered?;
        f(table.parse(&numbered.batch, numbered.first_row)?);
    }
    Ok(reader.layout().note_with(reader.skipped()))
}
