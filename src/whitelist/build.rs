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

/// The list built from `scored` and `previous` with `params`, and the number of scored rows read.
pub fn from_scored(
    scored: &Path,
    previous: &[PreviousEntry],
    params: &WhitelistParams,
    opts: &ReadOptions,
) -> Result<(Whitelist, u64)> {
    let on_previous: HashSet<String> = previous
        .iter()
        .filter(|p| p.on_list())
        .map(|p| p.uscc.trim().to_ascii_uppercase())
        .collect();
    let reader = crate::table::open(scored, opts)?;
    let table = ScoredTable::from_schema(&reader.schema(), scored)?;
    let mut seen = CodeSet::new();
    let mut seen_odd: HashSet<String> = Default::default();
    let mut holders = PermitHolders::default();
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut next = 1u64;
    for batch in reader {
        let batch = batch?;
        let rows = table.parse(&batch, next)?;
        next += batch.num_rows() as u64;
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
    Ok((list, next - 1))
}
