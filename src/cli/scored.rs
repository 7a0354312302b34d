//! Reading a scored file (the output of `spotcheck score`, in any format and either language)
//! back into typed rows batch by batch, for the commands that count over scores (report).

use std::path::Path;

use anyhow::{Context, Result};

use spotcheck::scored::{ScoredRows, ScoredTable};
use spotcheck::table::ReadOptions;

/// Reads a scored file batch by batch, handing each batch's rows to `f` in file order (nothing
/// of the file is kept here: for the commands that only count).
pub fn for_each_scored(
    path: &Path,
    opts: &ReadOptions,
    mut f: impl FnMut(ScoredRows),
) -> Result<()> {
    let reader = spotcheck::table::open(path, opts).context("reading the scored file")?;
    let table = ScoredTable::from_schema(&reader.schema(), path)?;
    // Batches are decoded ahead on their own thread while the last one is parsed and counted.
    let mut reader = spotcheck::table::Prefetch::new(reader, 2);
    while let Some(numbered) = reader.next_numbered() {
        let numbered = numbered?;
        f(table.parse(&numbered.batch, numbered.first_row)?);
    }
    Ok(())
}
