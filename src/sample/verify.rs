//! `verify`'s comparison (SPEC §4, issue 5): given the recorded manifest and sample, and a manifest
//! and sample re-derived from the files as they are now, list exactly what differs — which input or
//! the policy changed (their SHA-256), whether the sample file was edited after the draw (its
//! SHA-256 against the manifest), which parameters or per-stratum figures differ, and which units
//! were added to, removed from or changed in the sample. The CLI reads the files and re-draws; this
//! file only compares. A different spotcheck version is noted but is not a mismatch.

use std::collections::HashMap;
use std::fmt;

use super::draw::{Departments, Draw};
use super::inspectors::{Assignment, Inspector};
use super::manifest::Manifest;

/// One row of a sample as far as verification is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleLine {
    pub seq: u64,
    pub uscc: String,
    pub departments: Departments,
    /// Inspector ids in team order (empty without assignment).
    pub inspectors: Vec<String>,
}

impl SampleLine {
    /// The lines a draw (and its assignment) produce.
    pub fn from_draw(
        draw: &Draw,
        assignment: Option<&Assignment>,
        inspectors: &[Inspector],
    ) -> Vec<SampleLine> {
        draw.selected
            .iter()
            .enumerate()
            .map(|(t, s)| SampleLine {
                seq: s.seq,
                uscc: s.uscc.clone(),
                departments: s.departments,
                inspectors: assignment
                    .map(|a| {
                        a.team_ids(t, inspectors)
                            .into_iter()
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    }
}

/// What kind of difference was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiffKind {
    /// An input file's content changed (hash or row counts).
    Input,
    /// The policy file changed.
    Policy,
    /// The sample file is not the one the manifest recorded (edited after the draw).
    Output,
    /// A draw parameter or the algorithm differs.
    Parameter,
    /// A per-department or per-stratum figure differs.
    Statistic,
    /// A unit is in the recorded sample but not in the re-derived one.
    UnitAdded,
    /// A unit of the re-derived sample is missing from the recorded one.
    UnitRemoved,
    /// A unit is in both, with a different seq, departments or team.
    UnitChanged,
    /// Another spotcheck version wrote the manifest (informational only).
    Version,
}

/// One difference: what, about which subject, recorded value and re-derived value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub kind: DiffKind,
    pub subject: String,
    pub recorded: String,
    pub derived: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, r, d) = (&self.subject, &self.recorded, &self.derived);
        match self.kind {
            DiffKind::Input => write!(f, "input changed: {s}: recorded {r}, now {d}"),
            DiffKind::Policy => write!(f, "policy changed: {s}: recorded {r}, now {d}"),
            DiffKind::Output => write!(f, "sample edited: {s}: manifest says {r}, file is {d}"),
            DiffKind::Parameter => write!(f, "parameter differs: {s}: recorded {r}, now {d}"),
            DiffKind::Statistic => write!(f, "figure differs: {s}: recorded {r}, re-derived {d}"),
            DiffKind::UnitAdded => {
                write!(f, "unit added: {s} is in the sample at {r} but not drawn")
            }
            DiffKind::UnitRemoved => {
                write!(f, "unit removed: {s} is drawn at {d} but not in the sample")
            }
            DiffKind::UnitChanged => {
                write!(f, "unit changed: {s}: sample says {r}, re-derived {d}")
            }
            DiffKind::Version => write!(f, "note: written by spotcheck {r}, checked with {d}"),
        }
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyReport {
    pub differences: Vec<Difference>,
}

impl VerifyReport {
    /// True when nothing but notes differs: every hash and every selected unit matches.
    pub fn is_match(&self) -> bool {
        self.differences.iter().all(|d| d.kind == DiffKind::Version)
    }

    /// The differences of one kind.
    pub fn of(&self, kind: DiffKind) -> impl Iterator<Item = &Difference> {
        self.differences.iter().filter(move |d| d.kind == kind)
    }
}

/// Compares a recorded draw with its re-derivation.
///
/// `derived` is the manifest of the re-derived draw, with the current files' hashes and its
/// `output.sha256` that of the re-derived sample rendered as the recorded one was;
/// `sample_file_sha256` is the hash of the recorded sample file as it is now.
pub fn verify(
    recorded: &Manifest,
    derived: &Manifest,
    sample_file_sha256: &str,
    recorded_lines: &[SampleLine],
    derived_lines: &[SampleLine],
) -> VerifyReport {
    let mut out = Vec::new();
    let mut diff = |kind, subject: String, r: String, d: String| {
        if r != d {
            out.push(Difference {
                kind,
                subject,
                recorded: r,
                derived: d,
            });
        }
    };
    diff(
        DiffKind::Version,
        "spotcheck_version".into(),
        recorded.spotcheck_version.clone(),
        derived.spotcheck_version.clone(),
    );

    // Parameters.
    for (name, r, d) in [
        ("algorithm", &recorded.algorithm, &derived.algorithm),
        ("seed", &recorded.seed, &derived.seed),
        ("month", &recorded.month, &derived.month),
        ("department", &recorded.department, &derived.department),
        ("strata", &recorded.strata, &derived.strata),
    ] {
        diff(DiffKind::Parameter, name.into(), r.clone(), d.clone());
    }
    diff(
        DiffKind::Parameter,
        "capacity".into(),
        format!("{:?}", recorded.capacity),
        format!("{:?}", derived.capacity),
    );
    diff(
        DiffKind::Parameter,
        "sampling".into(),
        format!("{:?}", recorded.sampling),
        format!("{:?}", derived.sampling),
    );

    // Policy and inputs, by role.
    diff(
        DiffKind::Policy,
        recorded.policy.path.clone(),
        recorded.policy.sha256.clone(),
        derived.policy.sha256.clone(),
    );
    let now: HashMap<&str, _> = derived
        .inputs
        .iter()
        .map(|i| (i.role.as_str(), i))
        .collect();
    for r in &recorded.inputs {
        match now.get(r.role.as_str()) {
            None => diff(
                DiffKind::Input,
                format!("{} ({})", r.role, r.path),
                r.sha256.clone(),
                "not given".into(),
            ),
            Some(d) => {
                let subject = format!("{} ({})", r.role, r.path);
                diff(
                    DiffKind::Input,
                    subject.clone(),
                    r.sha256.clone(),
                    d.sha256.clone(),
                );
                diff(
                    DiffKind::Input,
                    format!("{subject} rows read/accepted/rejected"),
                    format!("{}/{}/{}", r.rows_read, r.rows_accepted, r.rows_rejected),
                    format!("{}/{}/{}", d.rows_read, d.rows_accepted, d.rows_rejected),
                );
            }
        }
    }
    for d in &derived.inputs {
        if !recorded.inputs.iter().any(|r| r.role == d.role) {
            diff(
                DiffKind::Input,
                format!("{} ({})", d.role, d.path),
                "not recorded".into(),
                d.sha256.clone(),
            );
        }
    }

    // The sample file itself.
    diff(
        DiffKind::Output,
        recorded.output.path.clone(),
        recorded.output.sha256.clone(),
        sample_file_sha256.to_owned(),
    );

    // Figures. Σπ is compared exactly: serde_json reads back the shortest round-trip decimal it
    // wrote bit for bit (feature `float_roundtrip`).
    let dept_text = |s: &super::draw::DepartmentStats| {
        let e = &s.exclusions;
        format!(
            "units {} eligible {} zero_ratio {} yearly_cap {} cooldown {} selected {}{}",
            e.units,
            e.eligible,
            e.zero_ratio,
            e.yearly_cap,
            e.cooldown,
            s.selected,
            match (s.expected, s.size_sd) {
                (Some(x), Some(sd)) => format!(" expected {x} sd {sd}"),
                _ => String::new(),
            }
        )
    };
    let n = recorded.departments.len().max(derived.departments.len());
    for k in 0..n {
        let r = recorded.departments.get(k);
        let d = derived.departments.get(k);
        let subject = r.or(d).map_or(String::new(), |s| s.department.to_string());
        diff(
            DiffKind::Statistic,
            subject,
            r.map_or("absent".into(), dept_text),
            d.map_or("absent".into(), dept_text),
        );
    }
    let key = |s: &super::draw::StratumStats| (s.department, s.stratum.clone());
    let now: HashMap<_, _> = derived.per_stratum.iter().map(|s| (key(s), s)).collect();
    for r in &recorded.per_stratum {
        let subject = format!("{} stratum {:?}", r.department, r.stratum);
        let text = |s: &super::draw::StratumStats| {
            let mut t = format!("units {} eligible {}", s.units, s.eligible);
            if let Some(start) = s.start_u64 {
                t.push_str(&format!(" start {start}"));
            }
            if let Some(sd) = s.size_sd {
                t.push_str(&format!(" sd {sd}"));
            }
            t.push_str(&format!(" selected {}", s.selected));
            t
        };
        match now.get(&key(r)) {
            None => diff(DiffKind::Statistic, subject, text(r), "absent".into()),
            Some(d) => {
                diff(DiffKind::Statistic, subject.clone(), text(r), text(d));
                diff(
                    DiffKind::Statistic,
                    format!("{subject} Σπ"),
                    r.pi_sum.to_string(),
                    d.pi_sum.to_string(),
                );
            }
        }
    }
    for d in &derived.per_stratum {
        if !recorded.per_stratum.iter().any(|r| key(r) == key(d)) {
            diff(
                DiffKind::Statistic,
                format!("{} stratum {:?}", d.department, d.stratum),
                "absent".into(),
                format!("eligible {} selected {}", d.eligible, d.selected),
            );
        }
    }

    // What coordination bought (coordinated draws).
    let coordination = |c: &Option<super::draw::Coordination>| match c {
        None => "absent".to_owned(),
        Some(c) => format!(
            "joint visits {} (expected {}), visits {} (expected {}); independent: joint {}, \
             visits {}",
            c.joint_drawn,
            c.joint_expected,
            c.visits_drawn,
            c.visits_expected,
            c.independent_joint_expected,
            c.independent_visits_expected
        ),
    };
    diff(
        DiffKind::Statistic,
        "coordination".into(),
        coordination(&recorded.coordination),
        coordination(&derived.coordination),
    );

    // Units.
    let derived_by: HashMap<&str, &SampleLine> =
        derived_lines.iter().map(|l| (l.uscc.as_str(), l)).collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for r in recorded_lines {
        let count = seen.entry(r.uscc.as_str()).or_default();
        *count += 1;
        if *count > 1 {
            out.push(Difference {
                kind: DiffKind::UnitAdded,
                subject: format!("{} (a second row)", r.uscc),
                recorded: format!("seq {}", r.seq),
                derived: String::new(),
            });
            continue;
        }
        match derived_by.get(r.uscc.as_str()) {
            None => out.push(Difference {
                kind: DiffKind::UnitAdded,
                subject: r.uscc.clone(),
                recorded: format!("seq {}", r.seq),
                derived: String::new(),
            }),
            Some(d) => {
                let mut unit = |field: &str, rv: String, dv: String| {
                    if rv != dv {
                        out.push(Difference {
                            kind: DiffKind::UnitChanged,
                            subject: format!("{} {field}", r.uscc),
                            recorded: rv,
                            derived: dv,
                        });
                    }
                };
                unit("seq", r.seq.to_string(), d.seq.to_string());
                unit(
                    "departments",
                    r.departments.to_string(),
                    d.departments.to_string(),
                );
                unit("inspectors", r.inspectors.join(";"), d.inspectors.join(";"));
            }
        }
    }
    for d in derived_lines {
        if !seen.contains_key(d.uscc.as_str()) {
            out.push(Difference {
                kind: DiffKind::UnitRemoved,
                subject: d.uscc.clone(),
                recorded: String::new(),
                derived: format!("seq {}", d.seq),
            });
        }
    }
    VerifyReport { differences: out }
}
