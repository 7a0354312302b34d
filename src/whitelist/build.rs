//! This period's 正面清单 from a scored file (SPEC §5), as `spotcheck whitelist` and the console
//! both build it: the scored file is read batch by batch; every row counts towards its district's
//! permit holders (the cap), but only the enterprises that can change the list are kept — those
//! eligible this period and those on the previous list — so a national file fits in memory. A
//! repeated code counts once, at its first row (the scorer rejects repeats anyway).

use std::collections::HashSet;
use std::path::Path;

use crate::Result;
use crate::scored::ScoredTable;
use crate::table::ReadOptions;
use crate::table::codes::CodeSet;

use super::{Candidate, PermitHolders, PreviousEntry, Whitelist, WhitelistParams, update_counted};

/// What reading the scored file found: rows read, and where the table was found when it was
/// not a plain table (`header found on row 3; skipped 1 blank or total row`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoredRead {
    pub rows: u64,
    pub note: Option<String>,
}

/// The list built from `scored` and `previous` with `params`, and what was read. The scored
/// file's header is searched for like every table's (a title row above it, a notes sheet in
/// front, total rows below are passed over).
pub fn from_scored(
    scored: &Path,
    previous: &[PreviousEntry],
    params: &WhitelistParams,
    opts: &ReadOptions,
) -> Result<(Whitelist, ScoredRead)> {
    let on_previous: HashSet<String> = previous
        .iter()
        .filter(|p| p.on_list())
        .map(|p| p.uscc.trim().to_ascii_uppercase())
        .collect();
    let mut reader = crate::table::open(scored, &ScoredTable::read_options(opts))?;
    let table = ScoredTable::from_schema(&reader.schema(), scored)?;
    let mut seen = CodeSet::new();
    let mut seen_odd: HashSet<String> = Default::default();
    let mut holders = PermitHolders::default();
    let mut candidates: Vec<Candidate> = Vec::new();
    while let Some(numbered) = reader.next_numbered() {
        let numbered = numbered?;
        let rows = table.parse(&numbered.batch, numbered.first_row)?;
        for i in 0..rows.len() {
            // Codes are read back trimmed and upper-cased; a hand-edited file may hold one that
            // is not 18 characters long.
            let code = &rows.uscc[i];
            let first = match <[u8; 18]>::try_from(code.as_bytes()) {
                Ok(k) => seen.insert(&k),
                Err(_) => seen_odd.insert(code.clone()),
            };
            if !first {
                continue;
            }
            holders.add(rows.district[i], rows.permit_class[i]);
            if rows.positive_list[i] || on_previous.contains(code) {
                candidates.push(Candidate {
                    uscc: code.clone(),
                    name: rows.name[i].clone(),
                    district: rows.district[i],
                    positive_list: rows.positive_list[i],
                    reasons: rows.reasons[i]
                        .iter()
                        .map(|r| r.code().to_string())
                        .collect(),
                    risk_score: rows.risk_score[i],
                    pe_total: rows.pe_total[i],
                    permit_class: rows.permit_class[i],
                });
            }
        }
    }
    params.validate()?;
    let list = update_counted(&candidates, previous, params, Some(&holders));
    let read = ScoredRead {
        rows: reader.rows_read(),
        note: reader.layout().note_with(reader.skipped()),
    };
    Ok((list, read))
}
