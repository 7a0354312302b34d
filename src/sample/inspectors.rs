//! Random assignment of inspectors (随机选派执法检查人员, SPEC §4.6). Tasks are staffed in output
//! order; each gets `team_size` inspectors of its department — a joint visit one market and one
//! ecology inspector first, then the rest from either — never one whose conflicts list the
//! enterprise (回避, 行政处罚法 Art. 43). Among the candidates for a place the assignment prefers (a)
//! an inspector of the task's district (district `*` counts as every district), then (b) the fewest
//! tasks so far, then (c) the lowest `SHA-256(seed ‖ 0x1F ‖ "inspector" ‖ 0x1F ‖ month ‖ 0x1F ‖ uscc
//! ‖ 0x1F ‖ inspector_id)` compared as bytes (then the id, should two digests ever agree).
//!
//! Decisions where the spec is silent: a joint visit has at least two inspectors even with
//! `team_size = 1` (one of each department); a task that cannot be fully staffed gets nobody (no
//! half team, and nobody's load grows for it) and is listed in `Assignment::unstaffed` with the
//! reason; `ensure_staffed` turns that list into the error the CLI exits on.

use std::collections::HashMap;
use std::fmt;

use super::draw::{Departments, Draw};
use super::frame::SampleFrame;
use super::keys::InspectorKeys;
use crate::schema::Department;
use crate::{Error, Result};

/// One inspector of the 执法检查人员名录库 (SPEC §1.4).
#[derive(Debug, Clone, PartialEq)]
pub struct Inspector {
    pub id: String,
    pub name: String,
    pub department: Department,
    /// 6-digit district code; `None` for `*` (any district).
    pub district: Option<u32>,
    /// Codes of enterprises the inspector must not be sent to (回避).
    pub conflicts: Vec<String>,
}

/// One spot-check task: a selected unit, in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Task<'a> {
    pub seq: u64,
    pub uscc: &'a str,
    pub district: u32,
    pub departments: Departments,
}

/// The tasks of a draw, in output order.
pub fn tasks<'a>(draw: &'a Draw, frame: &SampleFrame) -> Vec<Task<'a>> {
    draw.selected
        .iter()
        .map(|s| Task {
            seq: s.seq,
            uscc: &s.uscc,
            district: frame.district[s.index],
            departments: s.departments,
        })
        .collect()
}

/// A task that could not be staffed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unstaffed {
    pub seq: u64,
    pub uscc: String,
    /// The department short of inspectors; `None` for the places either department may fill.
    pub department: Option<Department>,
    /// Inspectors the task needs from that pool.
    pub needed: usize,
    /// Inspectors of that pool in the table.
    pub in_table: usize,
    /// Of those, how many must recuse themselves (回避) from this enterprise.
    pub conflicted: usize,
}

impl Unstaffed {
    /// The reason, as one sentence.
    pub fn reason(&self) -> String {
        let who = match self.department {
            Some(d) => format!("{d} inspector"),
            None => "market or ecology inspector".to_owned(),
        };
        let plural = if self.needed == 1 { "" } else { "s" };
        let available = self.in_table - self.conflicted;
        format!(
            "needs {} {who}{plural}, {} available ({} in the inspectors table, {} must recuse: 回避)",
            self.needed, available, self.in_table, self.conflicted
        )
    }
}

impl fmt::Display for Unstaffed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {} ({}): {}", self.seq, self.uscc, self.reason())
    }
}

/// The teams of every task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Per task (same order as the tasks), the inspectors' positions in the inspector list, in
    /// the order they were picked; empty for an unstaffed task.
    pub teams: Vec<Vec<usize>>,
    /// Tasks per inspector, after the whole assignment.
    pub load: Vec<usize>,
    /// Tasks that could not be staffed.
    pub unstaffed: Vec<Unstaffed>,
}

impl Assignment {
    /// The ids of a task's team.
    pub fn team_ids<'a>(&self, task: usize, inspectors: &'a [Inspector]) -> Vec<&'a str> {
        self.teams[task]
            .iter()
            .map(|&i| inspectors[i].id.as_str())
            .collect()
    }

    /// `Err(Error::Unstaffed)` naming every task that could not be staffed.
    pub fn ensure_staffed(&self) -> Result<()> {
        if self.unstaffed.is_empty() {
            return Ok(());
        }
        let detail = self
            .unstaffed
            .iter()
            .map(Unstaffed::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        Err(Error::Unstaffed {
            count: self.unstaffed.len(),
            detail,
        })
    }
}

/// Checks the inspector list: ids present and unique.
fn validate(inspectors: &[Inspector]) -> Result<()> {
    let mut seen = HashMap::new();
    for (i, ins) in inspectors.iter().enumerate() {
        let id = ins.id.trim();
        if id.is_empty() {
            return Err(Error::SampleInput {
                what: "inspector",
                id: format!("#{}", i + 1),
                field: "inspector_id",
                value: ins.id.clone(),
                expected: "a non-empty id",
            });
        }
        if seen.insert(id, i).is_some() {
            return Err(Error::SampleInput {
                what: "inspector",
                id: id.to_owned(),
                field: "inspector_id",
                value: id.to_owned(),
                expected: "unique in the inspectors table (it appears twice)",
            });
        }
    }
    Ok(())
}

/// Staffs every task (§4.6). `month` is `YYYY-MM`, as hashed.
pub fn assign(
    tasks: &[Task<'_>],
    inspectors: &[Inspector],
    seed: &str,
    month: &str,
    team_size: usize,
) -> Result<Assignment> {
    validate(inspectors)?;
    let mut conflicts: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, ins) in inspectors.iter().enumerate() {
        for c in &ins.conflicts {
            let c = c.trim().to_ascii_uppercase();
            if !c.is_empty() {
                conflicts.entry(c).or_default().push(i);
            }
        }
    }
    let market: Vec<usize> = pool(inspectors, &[Department::Market]);
    let ecology: Vec<usize> = pool(inspectors, &[Department::Ecology]);
    let both: Vec<usize> = pool(inspectors, &[Department::Market, Department::Ecology]);

    let mut load = vec![0usize; inspectors.len()];
    let mut blocked = vec![false; inspectors.len()]; // conflicted or already in the team
    let mut teams = Vec::with_capacity(tasks.len());
    let mut unstaffed = Vec::new();
    for task in tasks {
        // Places: (pool, its department, how many places the task needs from that pool).
        let places: Vec<(&[usize], Option<Department>, usize)> = match task.departments {
            Departments::Market => vec![(&market, Some(Department::Market), team_size); team_size],
            Departments::Ecology => {
                vec![(&ecology, Some(Department::Ecology), team_size); team_size]
            }
            Departments::Joint => {
                let size = team_size.max(2);
                let mut p = vec![
                    (&market[..], Some(Department::Market), 1),
                    (&ecology[..], Some(Department::Ecology), 1),
                ];
                p.extend(std::iter::repeat_n((&both[..], None, size), size - 2));
                p
            }
        };
        let task_conflicts: &[usize] = conflicts
            .get(&task.uscc.to_ascii_uppercase())
            .map_or(&[], Vec::as_slice);
        for &i in task_conflicts {
            blocked[i] = true;
        }
        let keys = InspectorKeys::new(seed, month, task.uscc);
        let mut team = Vec::with_capacity(places.len());
        let mut failed = None;
        for &(candidates, department, needed) in &places {
            match best(
                candidates,
                inspectors,
                task.district,
                &load,
                &blocked,
                &keys,
            ) {
                Some(i) => {
                    blocked[i] = true;
                    team.push(i);
                }
                None => {
                    let conflicted = candidates
                        .iter()
                        .filter(|i| task_conflicts.contains(i))
                        .count();
                    failed = Some(Unstaffed {
                        seq: task.seq,
                        uscc: task.uscc.to_owned(),
                        department,
                        needed,
                        in_table: candidates.len(),
                        conflicted,
                    });
                    break;
                }
            }
        }
        for &i in task_conflicts.iter().chain(&team) {
            blocked[i] = false;
        }
        match failed {
            None => {
                for &i in &team {
                    load[i] += 1;
                }
                teams.push(team);
            }
            Some(u) => {
                unstaffed.push(u);
                teams.push(Vec::new());
            }
        }
    }
    Ok(Assignment {
        teams,
        load,
        unstaffed,
    })
}

/// Positions of the inspectors of the given departments.
fn pool(inspectors: &[Inspector], departments: &[Department]) -> Vec<usize> {
    (0..inspectors.len())
        .filter(|&i| departments.contains(&inspectors[i].department))
        .collect()
}

/// The preferred free candidate: (a) same district or `*`, (b) fewest tasks, (c) lowest tie
/// digest, then id. Digests are computed only for the candidates tied on (a) and (b).
fn best(
    candidates: &[usize],
    inspectors: &[Inspector],
    district: u32,
    load: &[usize],
    blocked: &[bool],
    keys: &InspectorKeys,
) -> Option<usize> {
    let rank = |i: usize| {
        let elsewhere = inspectors[i].district.is_some_and(|d| d != district);
        (elsewhere, load[i])
    };
    let top = candidates
        .iter()
        .filter(|&&i| !blocked[i])
        .map(|&i| rank(i))
        .min()?;
    candidates
        .iter()
        .filter(|&&i| !blocked[i] && rank(i) == top)
        .map(|&i| (keys.key(&inspectors[i].id), inspectors[i].id.as_str(), i))
        .min()
        .map(|(_, _, i)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(id: &str, d: Department, district: Option<u32>, conflicts: &[&str]) -> Inspector {
        Inspector {
            id: id.into(),
            name: format!("检查员{id}"),
            department: d,
            district,
            conflicts: conflicts.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn task(seq: u64, uscc: &str, district: u32, departments: Departments) -> Task<'_> {
        Task {
            seq,
            uscc,
            district,
            departments,
        }
    }

    use Department::{Ecology as E, Market as M};

    #[test]
    fn district_then_load_then_digest() {
        let list = vec![
            ins("m1", M, Some(110108), &[]),
            ins("m2", M, Some(110105), &[]),
            ins("m3", M, None, &[]),
            ins("m4", M, Some(110105), &[]),
        ];
        let t = [task(1, "91110105AAAAAAAAAA", 110105, Departments::Market)];
        let a = assign(&t, &list, "s", "2026-12", 2).unwrap();
        // m2, m3 (`*`) and m4 are "same district"; m1 is not. Loads are all 0, so the two
        // lowest digests among m2, m3, m4 win.
        let mut expected: Vec<(Vec<u8>, usize)> = [1usize, 2, 3]
            .iter()
            .map(|&i| {
                let k = InspectorKeys::new("s", "2026-12", "91110105AAAAAAAAAA").key(&list[i].id);
                (k.to_vec(), i)
            })
            .collect();
        expected.sort();
        assert_eq!(a.teams[0], vec![expected[0].1, expected[1].1]);
        assert!(!a.teams[0].contains(&0));
    }

    #[test]
    fn load_is_balanced_across_tasks() {
        // Four same-district inspectors, six tasks of two: loads must end 3, 3, 3, 3.
        let list: Vec<Inspector> = (0..4)
            .map(|i| ins(&format!("m{i}"), M, Some(110101), &[]))
            .collect();
        let codes: Vec<String> = (0..6).map(|i| format!("9111010100000000{i:02}")).collect();
        let t: Vec<Task> = codes
            .iter()
            .enumerate()
            .map(|(i, c)| task(i as u64 + 1, c, 110101, Departments::Market))
            .collect();
        let a = assign(&t, &list, "seed", "2026-12", 2).unwrap();
        assert_eq!(a.load, vec![3, 3, 3, 3]);
        // After tasks 1 and 2 every inspector has exactly one task: nobody repeats early.
        let mut first_two: Vec<usize> = a.teams[0].iter().chain(&a.teams[1]).copied().collect();
        first_two.sort();
        assert_eq!(first_two, vec![0, 1, 2, 3]);
        assert!(a.unstaffed.is_empty());
    }

    #[test]
    fn recusal_and_other_district_fallback() {
        let list = vec![
            ins("m1", M, Some(110105), &["91110105XXXXXXXXXX"]),
            ins("m2", M, Some(110105), &[]),
            ins("m3", M, Some(110108), &[]),
        ];
        // m1 must recuse (conflicts are matched case-insensitively); the team is m2 (same
        // district) then m3 (another district, the only one left).
        let t = [task(1, "91110105xxxxxxxxxx", 110105, Departments::Market)];
        let a = assign(&t, &list, "s", "2026-12", 2).unwrap();
        assert_eq!(a.teams[0], vec![1, 2]);
    }

    #[test]
    fn joint_gets_one_of_each_department_first() {
        let list = vec![
            ins("m1", M, Some(110105), &[]),
            ins("m2", M, Some(110105), &[]),
            ins("e1", E, Some(110108), &[]),
            ins("e2", E, Some(110105), &[]),
        ];
        let t = [task(1, "91110105AAAAAAAAAA", 110105, Departments::Joint)];
        let a = assign(&t, &list, "s", "2026-12", 2).unwrap();
        let team = &a.teams[0];
        assert_eq!(team.len(), 2);
        assert_eq!(list[team[0]].department, M);
        assert_eq!(
            team[1], 3,
            "e2 is the ecology inspector of the task's district"
        );
        // team_size 3: the third place may come from either department.
        let a3 = assign(&t, &list, "s", "2026-12", 3).unwrap();
        assert_eq!(a3.teams[0].len(), 3);
        assert_eq!(&a3.teams[0][..2], &team[..]);
        // team_size 1: a joint visit still gets one of each.
        let a1 = assign(&t, &list, "s", "2026-12", 1).unwrap();
        assert_eq!(a1.teams[0].len(), 2);
    }

    #[test]
    fn unstaffable_task_is_reported_and_gets_nobody() {
        let list = vec![
            ins("m1", M, Some(110105), &["91110105BBBBBBBBBB"]),
            ins("m2", M, Some(110105), &[]),
            ins("m3", M, Some(110105), &[]),
        ];
        let t = [
            task(1, "91110105AAAAAAAAAA", 110105, Departments::Market),
            task(2, "91110105BBBBBBBBBB", 110105, Departments::Joint),
            task(3, "91110105CCCCCCCCCC", 110105, Departments::Market),
        ];
        let a = assign(&t, &list, "s", "2026-12", 2).unwrap();
        assert_eq!(a.teams[0].len(), 2);
        assert!(a.teams[1].is_empty());
        assert_eq!(a.teams[2].len(), 2);
        assert_eq!(a.unstaffed.len(), 1);
        let u = &a.unstaffed[0];
        assert_eq!(
            (u.seq, u.department, u.needed, u.in_table),
            (2, Some(E), 1, 0)
        );
        // Nobody's load grew for the unstaffed task: 4 places over 3 inspectors.
        assert_eq!(a.load.iter().sum::<usize>(), 4);
        let err = a.ensure_staffed().unwrap_err().to_string();
        assert!(err.starts_with("1 task(s) could not be staffed"), "{err}");
        assert!(
            err.contains("task 2 (91110105BBBBBBBBBB): needs 1 ecology inspector, 0 available"),
            "{err}"
        );

        // Recusal leaves too few: needs 2 market, 3 in the table, 2 must recuse.
        let list2 = vec![
            ins("m1", M, None, &["91110105AAAAAAAAAA"]),
            ins("m2", M, None, &["91110105AAAAAAAAAA"]),
            ins("m3", M, None, &[]),
        ];
        let a2 = assign(&t[..1], &list2, "s", "2026-12", 2).unwrap();
        assert_eq!(
            a2.unstaffed[0].reason(),
            "needs 2 market inspectors, 1 available (3 in the inspectors table, 2 must recuse: 回避)"
        );
    }

    #[test]
    fn duplicate_or_empty_ids_are_refused() {
        let list = vec![ins("m1", M, None, &[]), ins("m1", M, None, &[])];
        let err = assign(&[], &list, "s", "2026-12", 2)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("inspector \"m1\"") && err.contains("unique"),
            "{err}"
        );
        let list = vec![ins(" ", M, None, &[])];
        assert!(assign(&[], &list, "s", "2026-12", 2).is_err());
    }
}
