//! A draw's results as one piece of work over a re-derived draw (`sample::run::rederive`): each
//! drawn unit of a department with the outcome its result row gives (pending without one), and
//! the frame's units per domain for N_D — what `estimate_department` (SPEC §9.3) takes. Shared by
//! `spotcheck results` and the console; it never prints.

use std::collections::HashMap;

use crate::Result;
use crate::results::category::Kind;
use crate::results::estimates::{DrawnUnit, FrameCounts, Outcome};
use crate::results::io::ResultRow;
use crate::sample::run::Rederived;
use crate::sample::{DrawParams, prepare};
use crate::schema::Department;

/// The drawn units of department `dep` in sample order, each with its outcome: `results` maps a
/// unit's position in the draw to its row in `rows`.
pub fn drawn_units(
    d: &Rederived,
    dep: Department,
    results: &HashMap<usize, usize>,
    rows: &[ResultRow],
) -> Vec<DrawnUnit> {
    let frame = &d.loaded.frame;
    d.draw
        .selected
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let u = s.by(dep)?;
            Some(DrawnUnit {
                pi: u.pi,
                stratum: s.stratum.clone(),
                district: frame.district[s.index],
                tier: frame.tier[s.index],
                credit_class: frame.credit_class[s.index],
                outcome: match results.get(&i).map(|&r| rows[r].kind()) {
                    None => Outcome::Pending,
                    Some(Kind::OutOfScope) => Outcome::OutOfScope,
                    Some(Kind::Compliant) => Outcome::Compliant,
                    Some(Kind::Violation) => Outcome::Violation,
                },
            })
        })
        .collect()
}

/// The frame's units per domain with their π for `dep` (N_D and `not_covered` of §9.3).
pub fn frame_counts(d: &Rederived, params: &DrawParams, dep: Department) -> Result<FrameCounts> {
    let frame = &d.loaded.frame;
    let df = prepare(frame, &d.loaded.history, params, dep)?;
    let mut pi = vec![0.0; frame.len()];
    for u in &df.units {
        pi[u.frame_index()] = u.pi;
    }
    let mut fc = FrameCounts::default();
    for (i, &p) in pi.iter().enumerate() {
        fc.add(frame.district[i], frame.tier[i], frame.credit_class[i], p);
    }
    Ok(fc)
}
