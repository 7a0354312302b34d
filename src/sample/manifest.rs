//! The manifest of a draw (SPEC §4): a JSON record of everything needed to re-derive and check the
//! sample (一公开) — the spotcheck version, the algorithm id (`sys-pps-sha256/1`, or
//! `prn-poisson-sha256/1` for a coordinated joint draw, §4.7), the seed, month, department,
//! strata, capacity and sampling keys, the policy file's SHA-256, each input's path, SHA-256 and
//! row counts, per department the exclusions of §4.1, per stratum the start (systematic),
//! eligible units, Σπ (the expected size), its standard deviation (coordinated) and selected
//! count, what coordination bought (coordinated), unstaffed tasks, and the output's SHA-256.
//! Fields a coordinated draw adds are left out of a systematic draw's manifest, so manifests
//! written before §4.7 read and verify unchanged. Hashing files is the
//! CLI's job (`keys::sha256_hex_reader` helps); this file only builds, writes and reads the record.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::draw::{
    Algorithm, Capacity, Coordination, DepartmentStats, Draw, DrawDepartment, DrawParams,
    SamplingParams, Strata, StratumStats,
};
use super::inspectors::Assignment;
use crate::date::Month;
use crate::{Error, Result};

/// The algorithm id of SPEC §4.3–4.5 (systematic πps), the default; `Algorithm::id` gives every
/// id this version re-derives.
pub const ALGORITHM: &str = "sys-pps-sha256/1";

/// A file and its SHA-256 (lower-case hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub path: String,
    pub sha256: String,
}

/// An input table: its role (`scored`, `history`, `inspectors`), file, hash and row accounting
/// (SPEC §2.2: `rows_read = rows_accepted + rows_rejected`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRecord {
    pub role: String,
    pub path: String,
    pub sha256: String,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
}

/// A task without inspectors, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnstaffedRecord {
    pub seq: u64,
    pub uscc: String,
    pub reason: String,
}

/// The manifest of one draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub spotcheck_version: String,
    pub algorithm: String,
    pub seed: String,
    pub month: String,
    pub department: String,
    pub strata: String,
    pub capacity: Capacity,
    pub sampling: SamplingParams,
    pub policy: FileRecord,
    pub inputs: Vec<InputRecord>,
    pub departments: Vec<DepartmentStats>,
    pub per_stratum: Vec<StratumStats>,
    /// What coordination bought (coordinated draws only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordination: Option<Coordination>,
    pub selected: usize,
    /// Whether inspectors were assigned (an inspectors table was given).
    pub inspectors_assigned: bool,
    pub unstaffed: Vec<UnstaffedRecord>,
    pub output: FileRecord,
}

impl Manifest {
    /// The manifest of a finished draw. `output` is the written sample file and its hash.
    pub fn new(
        params: &DrawParams,
        draw: &Draw,
        assignment: Option<&Assignment>,
        policy: FileRecord,
        inputs: Vec<InputRecord>,
        output: FileRecord,
    ) -> Manifest {
        Manifest {
            spotcheck_version: env!("CARGO_PKG_VERSION").to_owned(),
            algorithm: params.algorithm.id().to_owned(),
            seed: params.seed.clone(),
            month: params.month.to_string(),
            department: params.department.en().to_owned(),
            strata: params.strata.en().to_owned(),
            capacity: params.capacity,
            sampling: params.sampling,
            policy,
            inputs,
            departments: draw.departments.clone(),
            per_stratum: draw.strata.clone(),
            coordination: draw.coordination,
            selected: draw.selected.len(),
            inspectors_assigned: assignment.is_some(),
            unstaffed: assignment
                .map(|a| {
                    a.unstaffed
                        .iter()
                        .map(|u| UnstaffedRecord {
                            seq: u.seq,
                            uscc: u.uscc.clone(),
                            reason: u.reason(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            output,
        }
    }

    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        // A struct of strings, numbers, options and vectors always serializes.
        let mut s = serde_json::to_string_pretty(self).expect("manifest serializes");
        s.push('\n');
        s
    }

    /// Reads a manifest written by `to_json`; `path` names the file in errors.
    pub fn from_json(text: &str, path: &Path) -> Result<Manifest> {
        serde_json::from_str(text).map_err(|e| Error::BadFile {
            path: path.to_path_buf(),
            format: "spotcheck manifest JSON",
            message: e.to_string(),
        })
    }

    /// The parameters to re-derive the draw with (`spotcheck verify`); refuses another algorithm.
    pub fn draw_params(&self, path: &Path) -> Result<DrawParams> {
        let bad = |key: &str, value: &str, expected: &str| Error::BadValue {
            path: path.to_path_buf(),
            row: 0,
            column: key.to_owned(),
            value: value.to_owned(),
            expected: expected.to_owned(),
        };
        let Some(algorithm) = Algorithm::from_id(&self.algorithm) else {
            let ids: Vec<&str> = Algorithm::ALL.iter().map(|a| a.id()).collect();
            return Err(bad(
                "algorithm",
                &self.algorithm,
                &format!(
                    "{} (the algorithms this spotcheck implements)",
                    ids.join(" or ")
                ),
            ));
        };
        let month =
            Month::parse(&self.month).ok_or_else(|| bad("month", &self.month, "YYYY-MM"))?;
        let department = DrawDepartment::parse(&self.department)
            .ok_or_else(|| bad("department", &self.department, DrawDepartment::EXPECTED))?;
        let strata = Strata::parse(&self.strata)
            .ok_or_else(|| bad("strata", &self.strata, Strata::EXPECTED))?;
        Ok(DrawParams {
            seed: self.seed.clone(),
            month,
            department,
            strata,
            capacity: self.capacity,
            sampling: self.sampling,
            algorithm,
        })
    }
}
