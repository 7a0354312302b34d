//! `spotcheck sample` and `spotcheck verify` end to end on generated data: the same seed gives the
//! same bytes, another seed another sample, shuffled input changes nothing, history exclusions
//! hold, inspectors are never conflicted, and verify catches an edited input, policy and sample;
//! and the coordinated joint draw (`--coordinate`, SPEC §4.7) on data/sample.

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

    // Untouched: verified. The scratch folder a killed verify left beside the manifest is
    // removed (its process is gone); a running one's is not.
    let dead = std::process::Command::new("true")
        .spawn()
        .and_then(|mut c| c.wait().map(|_| c.id()))
        .unwrap();
    let killed = w.path(&format!(".spotcheck-verify-{dead}-0"));
    let running = w.path(&format!(".spotcheck-verify-{}-0", std::process::id()));
    for d in [&killed, &running] {
        std::fs::create_dir(d).unwrap();
        std::fs::write(d.join("sample.csv"), "x").unwrap();
    }
    let o = w.run(&["verify", "a.manifest.json"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("verified"), "{out}");
    assert!(!killed.exists() && running.exists());
    std::fs::remove_dir_all(&running).unwrap();

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

/// Scores data/sample (3000 enterprises) into `scored.csv` in `w`.
fn score_data_sample(w: &Work) {
    let data = super::repo().join("data/sample");
    let o = w.run(&[
        "score",
        data.join("enterprises.csv").to_str().unwrap(),
        "--emissions",
        data.join("emissions.csv").to_str().unwrap(),
        "-o",
        "scored.csv",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
}

fn coordinated(w: &Work, out: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "sample",
        "scored.csv",
        "--month",
        "2026-12",
        "--department",
        "joint",
        "--coordinate",
        "--seed",
        "2026年12月 第1期",
        "-o",
        out,
    ];
    args.extend_from_slice(extra);
    w.run(&args)
}

#[test]
fn coordinated_draw_on_data_sample_verifies_and_catches_edits() {
    let w = Work::new();
    score_data_sample(&w);
    let o = coordinated(&w, "a.csv", &[]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    // What coordination bought on data/sample (no history, no capacity): expected Σ min(π_m, π_e)
    // = 10.9 joint visits against Σ π_m·π_e = 0.16 drawn independently, and Σ max(π_m, π_e) =
    // 35.2 visits in all against 45.9 (the figures of issue 17 and SPEC §4.7).
    assert!(
        out.contains("coordinated (prn-poisson-sha256/1): 9 joint visits (expected 10.9; drawn independently 0.16), 39 visits in all (expected 35.2; drawn independently 45.9)"),
        "{out}"
    );
    // Per department and stratum: expected size ± its standard deviation, and the drawn size.
    assert!(out.contains("market: 3000 eligible"), "{out}");
    assert!(out.contains("expected 29.34 ± 5.35, drawn 32"), "{out}");
    assert!(
        out.contains("  stratum 110108: 811 eligible, expected 7.80 ± 2.76, drawn 10"),
        "{out}"
    );

    // The rows: u, pi_market, pi_ecology; each department drew exactly the units with u < π_d.
    let rows = read_csv(&w.path("a.csv"));
    let head = &rows[0];
    assert_eq!(
        head[head.len() - 3..],
        ["pi_market".to_string(), "pi_ecology".into(), "u".into()]
    );
    assert_eq!(rows.len() - 1, 39);
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let (c_uscc, c_dep, c_pm, c_pe, c_u) = (
        col("uscc"),
        col("departments"),
        col("pi_market"),
        col("pi_ecology"),
        col("u"),
    );
    let mut joint = 0;
    for r in &rows[1..] {
        let u: f64 = r[c_u].parse().unwrap();
        assert_eq!(
            u,
            spotcheck::sample::prn("2026年12月 第1期", "2026-12", &r[c_uscc])
        );
        let below = |c: usize| !r[c].is_empty() && u < r[c].parse::<f64>().unwrap();
        let want = match (below(c_pm), below(c_pe)) {
            (true, true) => "market+ecology",
            (true, false) => "market",
            (false, true) => "ecology",
            (false, false) => panic!("{r:?}: u above both π"),
        };
        assert_eq!(r[c_dep], want, "{r:?}");
        joint += usize::from(want == "market+ecology");
    }
    assert_eq!(joint, 9);

    // The manifest records the algorithm and what coordination bought.
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("a.manifest.json")).unwrap()).unwrap();
    assert_eq!(m["algorithm"], "prn-poisson-sha256/1");
    assert_eq!(m["coordination"]["joint_drawn"], 9);
    assert_eq!(m["coordination"]["visits_drawn"], 39);
    assert!(m["per_stratum"][0]["size_sd"].as_f64().unwrap() > 0.0);
    assert!(m["per_stratum"][0].get("start_u64").is_none());

    // Deterministic: the same seed gives the same bytes.
    let o = coordinated(&w, "b.csv", &[]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        std::fs::read(w.path("a.csv")).unwrap(),
        std::fs::read(w.path("b.csv")).unwrap()
    );

    // Verified as drawn; an edited row is caught.
    let o = w.run(&["verify", "a.manifest.json"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("verified: 39 visits"), "{out}");
    let original = std::fs::read_to_string(w.path("a.csv")).unwrap();
    let victim = &rows[1];
    let edited_line = original.lines().nth(1).unwrap().replacen(
        &format!(",{},", victim[c_dep]),
        ",market+ecology,",
        1,
    );
    let edited = original.replacen(original.lines().nth(1).unwrap(), &edited_line, 1);
    assert_ne!(edited, original);
    w.write("a.csv", &edited);
    let o = w.run(&["verify", "a.manifest.json"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("sample edited")
            && out.contains(&format!("unit changed: {} departments", victim[c_uscc])),
        "{out}"
    );
    w.write("a.csv", &original);

    // The monthly report shows the same figures, from the manifest beside the sample.
    let o = w.run(&["report", "scored.csv", "--sample", "a.csv", "-o", "r.html"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("coordinated draw: 9 joint visits (expected 10.9, independently 0.16), 39 visits in all (expected 35.2, independently 45.9)"),
        "{out}"
    );
    let html = std::fs::read_to_string(w.path("r.html")).unwrap();
    assert!(html.contains("9 joint visits (expected 10.9; 0.16 if the departments had drawn independently), 39 visits in all (expected 35.2, instead of 45.9 drawn independently)"));
    assert!(html.contains("a.manifest.json"));
}

#[test]
fn coordinated_draw_with_history_inspectors_and_capacity() {
    let w = Work::new();
    score_data_sample(&w);
    let data = super::repo().join("data/sample");
    let (h, i) = (data.join("history.csv"), data.join("inspectors.csv"));
    let o = coordinated(
        &w,
        "a.xlsx",
        &[
            "--history",
            h.to_str().unwrap(),
            "--inspectors",
            i.to_str().unwrap(),
            "--capacity",
            "market=40,ecology=20",
            "--strata",
            "none",
            "--public",
            "pub.csv",
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    // With a capacity each department's expected size is its capacity (C < eligible units).
    assert!(out.contains("expected 40.00 ± "), "{out}");
    assert!(out.contains("expected 20.00 ± "), "{out}");
    assert!(out.contains("  stratum (all): "), "{out}");
    let public = read_csv(&w.path("pub.csv"));
    assert!(public[1..].iter().all(|r| r[7] == "prn-poisson-sha256/1"));
    let o = w.run(&["verify", "a.manifest.json"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");

    // --coordinate is for joint draws only.
    let o = w.run(&[
        "sample",
        "scored.csv",
        "--month",
        "2026-12",
        "--department",
        "market",
        "--coordinate",
        "--seed",
        "z",
        "-o",
        "m.csv",
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--department joint"), "{err}");
    assert!(!w.path("m.csv").exists());
}
