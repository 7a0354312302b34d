//! 双随机 spot-check sampling (SPEC §4, normative bit for bit): random enterprises (随机抽取检查对象)
//! and random inspectors (随机选派执法检查人员), re-derivable by anyone from the published seed
//! (一公开). Algorithm `sys-pps-sha256/1`:
//!
//! 1. `eligibility` — who may be drawn this month (ratio > 0, under the yearly cap, out of cooldown);
//! 2. `probability` — inclusion probabilities π, with or without a capacity;
//! 3. `keys` — SHA-256 order keys and stratum starts;
//! 4. `systematic` — systematic πps per stratum; `draw` runs 1–4 per department and merges joint
//!    visits (§4.5);
//! 5. `inspectors` — teams with recusal, district preference and balanced load (§4.6);
//! 6. `manifest` and `verify` — the JSON record of a draw and the comparison `spotcheck verify`
//!    reports;
//! 7. `run` — the same steps as work over files (load and hash the inputs, draw, write the
//!    sample, re-derive a manifest), shared by the CLI, `results` and the console.
//!
//! Algorithm `prn-poisson-sha256/1` (§4.7, `--department joint --coordinate`) shares steps 1–2
//! and replaces 3–4 and the merge: `coordinated` selects with one permanent random number per
//! enterprise shared by both departments.
//!
//! Everything but `io` and `run` is pure: in-memory frames in, plain values out. Printing belongs
//! to the CLI.

pub mod coordinated;
pub mod draw;
pub mod eligibility;
pub mod frame;
pub mod inspectors;
pub mod io;
pub mod keys;
pub mod manifest;
pub mod probability;
pub mod run;
pub mod sha_lanes;
pub mod systematic;
pub mod verify;

pub use crate::date::{Date, Month};
pub use draw::{
    Algorithm, Capacity, Coordination, DepartmentFrame, DepartmentStats, Departments, Draw,
    DrawDepartment, DrawParams, EligibleUnit, Exclusions, SamplingParams, Selected, Strata,
    StratumSlice, StratumStats, UnitDraw, draw, prepare,
};
pub use eligibility::{Exclusion, HistoryIndex, Window};
pub use frame::{FrameUnit, SampleFrame};
pub use inspectors::{Assignment, Inspector, Task, Unstaffed, assign, tasks};
pub use keys::{OrderKeys, PrnKeys, order_key, prn, stratum_start, stratum_start_u64};
pub use manifest::{ALGORITHM, FileRecord, InputRecord, Manifest};
pub use verify::{DiffKind, Difference, SampleLine, VerifyReport, verify};

#[cfg(test)]
mod tests;
