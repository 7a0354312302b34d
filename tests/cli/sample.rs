//! `spotcheck sample` and `spotcheck verify` end to end on generated data: the same seed gives the
//! same bytes, another seed another sample, shuffled input changes nothing, history exclusions
//! hold, inspectors are never conflicted, and verify catches an edited input, policy and sample.

use std::collections::HashSet;

use super::{Work, read_csv, text};

/// Generates and scores a small Beijing in `w`: s.csv (scored), h.csv, i.csv.
fn setup(w: &Work) {
    let o = w.run(&[
        "gen",
        "--rows",
        "2000",
        "--seed",
        "5",
        "-o",
        "e.csv",
        "--emissions",
        "m.csv",
        "--history",
        "h.csv",
        "--inspectors",
        "i.csv",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let o = w.run(&[
        "score",
        "e.csv",
        "--emissions",
        "m.csv",
        "-o",
        "s.csv",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
}

fn sample(w: &Work, seed: &str, scored: &str, out: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "sample",
        scored,
        "--month",
        "2026-12",
        "--department",
        "joint",
        "--seed",
        seed,
        "--history",
        "h.csv",
        "--inspectors",
        "i.csv",
        "-o",
        out,
    ];
    args.extend_from_slice(extra);
    w.run(&args)
}

#[test]
fn same_seed_same_bytes_and_verify_catches_edits() {
    let w = Work::new();
    setup(&w);
    let o = sample(&w, "第1期", "s.csv", "a.csv", &["--public", "pub.csv"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let o = sample(&w, "第1期", "s.csv", "b.csv", &[]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        std::fs::read(w.path("a.csv")).unwrap(),
        std::fs::read(w.path("b.csv")).unwrap()
    );
    let o = sample(&w, "第2期", "s.csv", "c.csv", &[]);
    assert_eq!(o.status.code(), Some(0));
    assert_ne!(
        std::fs::read(w.path("a.csv")).unwrap(),
        std::fs::read(w.path("c.csv")).unwrap()
    );

    // The public list has no internal fields, and the seed and algorithm on every row.
    let public = read_csv(&w.path("pub.csv"));
    assert_eq!(
        public[0],
        [
            "seq",
            "uscc",
            "name",
            "district",
            "departments",
            "month",
            "seed",
            "algorithm"
        ]
    );
    assert!(
        public[1..]
            .iter()
            .all(|r| r[6] == "第1期" && r[7] == "sys-pps-sha256/1")
    );

    // Untouched: verified.
    let o = w.run(&["verify", "a.manifest.json"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("verified"), "{out}");

    // An edited sample: a unit replaced.
    let original = std::fs::read_to_string(w.path("a.csv")).unwrap();
    let rows = read_csv(&w.path("a.csv"));
    let victim = rows[1][1].clone();
    w.write("a.csv", original.replacen(&victim, "91110108MA00000000", 1));
    let o = w.run(&["verify", "a.manifest.json"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("sample edited") && out.contains(&victim),
        "{out}"
    );
    w.write("a.csv", &original);

    // An edited input: one ratio changed in the scored file.
    let scored = std::fs::read_to_string(w.path("s.csv")).unwrap();
    w.write("s.csv", scored.replacen(",0.1,1,", ",0.9,1,", 1));
    let o = w.run(&["verify", "a.manifest.json"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("input changed: scored"), "{out}");
    w.write("s.csv", &scored);

    // An edited policy: a shorter cooldown changes who is eligible.
    w.write(
        "p.toml",
        std::fs::read_to_string(super::repo().join("data/policy/default.toml"))
            .unwrap()
            .replace("cooldown_months = 3", "cooldown_months = 1"),
    );
    let o = w.run(&["verify", "a.manifest.json", "--policy", "p.toml"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("policy changed"), "{out}");
}

#[test]
fn shuffled_input_gives_the_same_sample() {
    let w = Work::new();
    setup(&w);
    let src = std::fs::read_to_string(w.path("s.csv")).unwrap();
    let mut lines: Vec<&str> = src.lines().collect();
    let header = lines.remove(0);
    lines.reverse();
    w.write("r.csv", format!("{header}\n{}\n", lines.join("\n")));
    assert_eq!(
        sample(&w, "x", "s.csv", "a.csv", &[]).status.code(),
        Some(0)
    );
    assert_eq!(
        sample(&w, "x", "r.csv", "b.csv", &[]).status.code(),
        Some(0)
    );
    assert_eq!(
        std::fs::read(w.path("a.csv")).unwrap(),
        std::fs::read(w.path("b.csv")).unwrap()
    );
}

#[test]
fn history_and_inspector_rules_hold() {
    let w = Work::new();
    setup(&w);
    assert_eq!(
        sample(
            &w,
            "y",
            "s.csv",
            "a.csv",
            &["--capacity", "market=60,ecology=40"]
        )
        .status
        .code(),
        Some(0)
    );
    let rows = read_csv(&w.path("a.csv"));
    let h = &rows[0];
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    // Enterprises checked on site since 2026-09-01 (cooldown) are never drawn by that department.
    let hist = read_csv(&w.path("h.csv"));
    let mut cooled: HashSet<(String, String)> = HashSet::new();
    for r in &hist[1..] {
        if r[3] == "onsite" && r[1].as_str() >= "2026-09-01" && r[1].as_str() < "2026-12-01" {
            cooled.insert((r[0].clone(), r[2].clone()));
        }
    }
    assert!(
        !cooled.is_empty(),
        "the generated history has recent inspections"
    );
    let ins = read_csv(&w.path("i.csv"));
    let conflicts: HashSet<(String, String)> = ins[1..]
        .iter()
        .flat_map(|r| {
            r[4].split(';')
                .filter(|c| !c.is_empty())
                .map(|c| (r[0].clone(), c.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    let dept_of: std::collections::HashMap<String, String> = ins[1..]
        .iter()
        .map(|r| (r[0].clone(), r[2].clone()))
        .collect();
    let mut positive: HashSet<String> = HashSet::new();
    let scored = read_csv(&w.path("s.csv"));
    let sp = scored[0].iter().position(|x| x == "positive_list").unwrap();
    for r in &scored[1..] {
        if r[sp] == "true" {
            positive.insert(r[0].clone());
        }
    }
    assert!(rows.len() > 20, "a sample was drawn");
    for r in &rows[1..] {
        let uscc = &r[col("uscc")];
        let deps = &r[col("departments")];
        for d in deps.split('+') {
            assert!(
                !cooled.contains(&(uscc.clone(), d.to_string())),
                "{uscc} drawn by {d} in cooldown"
            );
            if d == "ecology" {
                assert!(
                    !positive.contains(uscc),
                    "{uscc} is on the positive list but drawn for on-site ecology"
                );
            }
        }
        let team: Vec<&str> = r[col("inspectors")].split(';').collect();
        assert_eq!(team.len(), 2, "two inspectors per task: {r:?}");
        for i in &team {
            assert!(
                !conflicts.contains(&(i.to_string(), uscc.clone())),
                "{i} must recuse from {uscc}"
            );
        }
        if deps == "market+ecology" {
            let ds: HashSet<&str> = team.iter().map(|i| dept_of[*i].as_str()).collect();
            assert_eq!(
                ds.len(),
                2,
                "a joint visit has one inspector of each department: {team:?}"
            );
        }
    }
}

#[test]
fn unstaffable_task_exits_nonzero_naming_it() {
    let w = Work::new();
    setup(&w);
    // Only one market inspector: no team of two can be formed.
    w.write(
        "one.csv",
        "inspector_id,name,department,district,conflicts\nM1,张三,market,*,\n",
    );
    let o = w.run(&[
        "sample",
        "s.csv",
        "--month",
        "2026-12",
        "--department",
        "market",
        "--seed",
        "z",
        "--inspectors",
        "one.csv",
        "-o",
        "a.csv",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        err.contains("could not be staffed") && err.contains("task 1"),
        "{err}"
    );
}

#[test]
fn bad_arguments_are_clear() {
    let w = Work::new();
    setup(&w);
    let o = w.run(&[
        "sample",
        "s.csv",
        "--month",
        "2026-13",
        "--department",
        "market",
        "--seed",
        "z",
        "-o",
        "a.csv",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("2026-13"), "{:?}", text(&o));
    let o = w.run(&[
        "sample",
        "s.csv",
        "--month",
        "2026-12",
        "--department",
        "police",
        "--seed",
        "z",
        "-o",
        "a.csv",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("police"));
    let o = w.run(&[
        "sample",
        "s.csv",
        "--month",
        "2026-12",
        "--department",
        "market",
        "-o",
        "a.csv",
    ]);
    assert_eq!(o.status.code(), Some(2), "the seed is required");
    assert!(!w.path("a.csv").exists());
}
