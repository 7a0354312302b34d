//! The coordinated joint draw of SPEC §4.7 (`--department joint --coordinate`, algorithm
//! `prn-poisson-sha256/1`, normative bit for bit): every enterprise gets one permanent random
//! number for the month, `u = (first 8 bytes of SHA-256(seed ‖ 0x1F ‖ "prn" ‖ 0x1F ‖ month ‖ 0x1F
//! ‖ uscc) >> 11) × 2⁻⁵³`, shared by both departments, and department d takes every unit eligible
//! for d with `u < π_d`. Eligibility, π (capacity included) and the strata are those of §4.1–4.3,
//! computed by `draw::prepare_with` exactly as for a systematic draw; only the selection differs.
//!
//! Each department still selects each unit with probability exactly π_d (u is uniform on the 2⁵³
//! multiples of 2⁻⁵³ in [0, 1), so P(u < π) = ⌈π·2⁵³⌉·2⁻⁵³, within 2⁻⁵³ of π), and a unit is drawn
//! by both when `u < min(π_m, π_e)` — the largest joint probability any design with these π can
//! give (进一次门、查多项事). Sample sizes are random: mean Σπ_d, variance Σπ_d(1−π_d), recorded
//! per department and stratum.
//!
//! Output order (the spec says only that strata group the output): strata in ascending byte
//! order, then u ascending, then code — the order in which a citizen reading the u column sees
//! the selection happen. This file does not read, write or print anything.

use std::collections::HashMap;

use rayon::prelude::*;

use super::draw::{
    Coordination, DepartmentFrame, DepartmentStats, Departments, Draw, EligibleUnit, Selected,
    StratumStats, UnitDraw,
};
use super::frame::SampleFrame;
use super::keys::PrnKeys;
use crate::Result;
use crate::schema::Department;

/// A selected unit and its permanent random number u.
type Pick = (EligibleUnit, f64);

/// One department's selection: per stratum its stats, and the selected units with their u.
struct Taken {
    stats: DepartmentStats,
    strata: Vec<StratumStats>,
    selected: Vec<Pick>,
}

/// Selects `u < π` over one department frame (units in processing order).
fn take(df: &DepartmentFrame, prn: &PrnKeys, frame: &SampleFrame) -> Taken {
    let per: Vec<(StratumStats, f64, Vec<Pick>)> = df
        .strata
        .par_iter()
        .map(|slice| {
            let units = &df.units[slice.eligible.clone()];
            // Σπ and Σπ(1−π) in processing order, as the systematic walk accumulates Σπ.
            let (mut pi_sum, mut var) = (0.0f64, 0.0f64);
            for u in units {
                pi_sum += u.pi;
                var += u.pi * (1.0 - u.pi);
            }
            let selected: Vec<Pick> = units
                .par_chunks(4096)
                .flat_map_iter(|chunk| {
                    let mut picks = Vec::new();
                    // Numbers four at a time (interleaved SHA-256 compressions), the rest one by
                    // one; the same numbers either way.
                    let mut fours = chunk.chunks_exact(4);
                    for q in &mut fours {
                        let code = |j: usize| frame.uscc(q[j].frame_index());
                        let us = prn.u_x4([code(0), code(1), code(2), code(3)]);
                        for (e, u) in q.iter().zip(us) {
                            if u < e.pi {
                                picks.push((*e, u));
                            }
                        }
                    }
                    for e in fours.remainder() {
                        let u = prn.u(frame.uscc(e.frame_index()));
                        if u < e.pi {
                            picks.push((*e, u));
                        }
                    }
                    picks
                })
                .collect();
            let stats = StratumStats {
                department: df.department,
                stratum: slice.label.clone(),
                units: slice.units,
                eligible: units.len(),
                start_u64: None,
                start: None,
                pi_sum,
                size_sd: Some(var.sqrt()),
                selected: selected.len(),
            };
            (stats, var, selected)
        })
        .collect();
    let (mut expected, mut var) = (0.0f64, 0.0f64);
    let mut strata = Vec::with_capacity(per.len());
    let mut selected = Vec::new();
    for (stats, v, sel) in per {
        expected += stats.pi_sum;
        var += v;
        strata.push(stats);
        selected.extend(sel);
    }
    Taken {
        stats: DepartmentStats {
            department: df.department,
            capacity: df.capacity,
            exclusions: df.exclusions,
            expected: Some(expected),
            size_sd: Some(var.sqrt()),
            selected: selected.len(),
        },
        strata,
        selected,
    }
}

/// The coordinated draw over the prepared department frames (market first, then ecology), with
/// the strata's labels in processing order. `draw` validates the parameters (a joint draw) and
/// prepares the frames.
pub(crate) fn draw_coordinated(
    frame: &SampleFrame,
    labels: &[String],
    prepare: impl Fn(Department) -> Result<DepartmentFrame>,
    seed: &str,
    month: &str,
) -> Result<Draw> {
    let prn = PrnKeys::new(seed, month);
    // Market first, then ecology, each department's frame dropped once it is taken: of the
    // market's frame only its units' positions and π in processing order are kept (12 bytes a
    // unit, for the expected joint visits), so both frames are never held at once.
    let market = prepare(Department::Market)?;
    let taken_market = take(&market, &prn, frame);
    let market_order: Vec<u32> = market.units.iter().map(|u| u.index).collect();
    let market_pi: Vec<f64> = market.units.iter().map(|u| u.pi).collect();
    drop(market);
    let ecology = prepare(Department::Ecology)?;
    let taken_ecology = take(&ecology, &prn, frame);
    // π_e by frame position (0 where ecology cannot draw the unit).
    let mut pi_e = vec![0.0f64; frame.len()];
    for u in &ecology.units {
        pi_e[u.frame_index()] = u.pi;
    }
    drop(ecology);
    let taken = vec![taken_market, taken_ecology];

    // The output rows: one per unit drawn by either department.
    struct Row {
        stratum: u32,
        u: f64,
        index: u32,
        market: Option<UnitDraw>,
        ecology: Option<UnitDraw>,
    }
    let mut rows: Vec<Row> = Vec::new();
    let mut at: HashMap<u32, usize> = HashMap::new();
    for t in &taken {
        let d = t.stats.department;
        for &(e, u) in &t.selected {
            let ud = UnitDraw {
                key: e.key,
                pi: e.pi,
                ratio: frame.ratio(e.frame_index(), d),
            };
            let k = *at.entry(e.index).or_insert_with(|| {
                rows.push(Row {
                    stratum: e.stratum,
                    u,
                    index: e.index,
                    market: None,
                    ecology: None,
                });
                rows.len() - 1
            });
            match d {
                Department::Market => rows[k].market = Some(ud),
                Department::Ecology => rows[k].ecology = Some(ud),
            }
        }
    }
    let uscc = |r: &Row| frame.uscc(r.index as usize);
    rows.sort_unstable_by(|a, b| {
        a.stratum
            .cmp(&b.stratum)
            .then(a.u.total_cmp(&b.u))
            .then_with(|| uscc(a).cmp(uscc(b)))
    });
    let selected: Vec<Selected> = rows
        .iter()
        .enumerate()
        .map(|(k, r)| Selected {
            seq: k as u64 + 1,
            index: r.index as usize,
            uscc: uscc(r).to_owned(),
            stratum: labels[r.stratum as usize].clone(),
            departments: match (r.market.is_some(), r.ecology.is_some()) {
                (true, true) => Departments::Joint,
                (true, false) => Departments::Market,
                _ => Departments::Ecology,
            },
            market: r.market,
            ecology: r.ecology,
            u: Some(r.u),
        })
        .collect();

    let coordination = coordination(&market_order, &market_pi, &pi_e, &taken, &selected);
    let mut departments = Vec::with_capacity(taken.len());
    let mut strata = Vec::new();
    for t in taken {
        departments.push(t.stats);
        strata.extend(t.strata);
    }
    Ok(Draw {
        selected,
        departments,
        strata,
        coordination: Some(coordination),
    })
}

/// The figures of `Coordination` (sums in market's processing order; see its doc): the market's
/// units by frame position and their π in processing order, ecology's π by frame position.
fn coordination(
    market_order: &[u32],
    market_pi: &[f64],
    pi_e: &[f64],
    taken: &[Taken],
    selected: &[Selected],
) -> Coordination {
    let expected = |d: Department| {
        taken
            .iter()
            .find(|t| t.stats.department == d)
            .and_then(|t| t.stats.expected)
            .unwrap_or_default()
    };
    let (mut joint, mut independent) = (0.0f64, 0.0f64);
    for (&i, &pm) in market_order.iter().zip(market_pi) {
        let pe = pi_e[i as usize];
        joint += pm.min(pe);
        independent += pm * pe;
    }
    let both = expected(Department::Market) + expected(Department::Ecology);
    Coordination {
        joint_drawn: selected
            .iter()
            .filter(|s| s.departments == Departments::Joint)
            .count(),
        joint_expected: joint,
        visits_drawn: selected.len(),
        visits_expected: both - joint,
        independent_joint_expected: independent,
        independent_visits_expected: both - independent,
    }
}
