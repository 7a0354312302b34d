//! `spotcheck score` and `spotcheck explain` end to end: the worked examples of
//! reference/scoring-examples through the real binary, every output format, Chinese output read
//! back, row-order independence, and failed runs that leave nothing behind.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{Work, read_csv, repo, text};

fn examples() -> PathBuf {
    repo().join("src/score/testdata")
}

/// Rows of a CSV keyed by their first column (uscc), as header → value maps.
fn by_uscc(rows: &[Vec<String>]) -> BTreeMap<String, BTreeMap<String, String>> {
    let header = &rows[0];
    rows[1..]
        .iter()
        .map(|r| {
            (
                r[0].clone(),
                header.iter().cloned().zip(r.iter().cloned()).collect(),
            )
        })
        .collect()
}

fn score_examples(w: &Work, out: &str, extra: &[&str]) -> std::process::Output {
    let e = examples();
    let ent = e.join("enterprises.csv");
    let emi = e.join("emissions.csv");
    let mut args = vec![
        "score",
        ent.to_str().unwrap(),
        "--emissions",
        emi.to_str().unwrap(),
        "-o",
        out,
        "--no-model",
    ];
    args.extend_from_slice(extra);
    w.run(&args)
}

#[test]
fn worked_examples_match_expected() {
    let w = Work::new();
    let o = score_examples(&w, "scored.csv", &[]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("read 10 = accepted 10 + rejected 0"), "{out}");
    let got = by_uscc(&read_csv(&w.path("scored.csv")));
    let expected = by_uscc(&read_csv(&examples().join("expected.csv")));
    assert_eq!(got.len(), 10);
    for (uscc, exp) in &expected {
        let row = &got[uscc];
        for (col, want) in exp {
            if want.starts_with('(') || col == "uscc" {
                continue; // "(model or default)": depends on the model
            }
            if col == "reasons_include" {
                for code in want.split(';').filter(|c| !c.is_empty()) {
                    assert!(
                        row["reasons"].split(';').any(|r| r == code),
                        "{uscc}: {code} missing in {}",
                        row["reasons"]
                    );
                }
                continue;
            }
            let have = &row[col];
            match (want.parse::<f64>(), have.parse::<f64>()) {
                (Ok(a), Ok(b)) => assert!(
                    (a - b).abs() < 1e-6,
                    "{uscc} {col}: want {want}, have {have}"
                ),
                _ => assert_eq!(have, want, "{uscc} {col}"),
            }
        }
    }
    // Without a model the tenth example takes the policy's missing class B (SPEC §3.1).
    let ten = &got["91110108EXAMPLE094"];
    assert_eq!(ten["credit_class"], "B");
    assert_eq!(ten["credit_source"], "default");
    assert!(ten["reasons"].contains("CREDIT_DEFAULTED"));
    // The rejects file exists and is empty but for its header.
    assert_eq!(read_csv(&w.path("scored.rejects.csv")).len(), 1);
}

#[test]
fn every_format_and_chinese_output_read_back() {
    let w = Work::new();
    for out in ["s.parquet", "s.arrow", "s.jsonl", "s.xlsx", "s_zh.csv"] {
        let extra: &[&str] = if out.contains("zh") {
            &["--lang", "zh", "--bom"]
        } else {
            &[]
        };
        let o = score_examples(&w, out, extra);
        assert_eq!(o.status.code(), Some(0), "{out}: {:?}", text(&o));
        // Every scored file is read back by the positive-list command.
        let list = format!("{out}.list.csv");
        let o = w.run(&["whitelist", out, "--as-of", "2026-12-01", "-o", &list]);
        let (so, se) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{out}: {so}{se}");
        assert!(so.contains("listed 3 (new 3"), "{out}: {so}");
    }
    let zh = read_csv(&w.path("s_zh.csv"));
    assert_eq!(zh[0][0], "统一社会信用代码");
    assert!(zh[0].contains(&"纳入正面清单".to_string()));
    assert!(
        std::fs::read(w.path("s_zh.csv"))
            .unwrap()
            .starts_with(b"\xEF\xBB\xBF")
    );
}

#[test]
fn row_order_does_not_change_any_value() {
    let w = Work::new();
    let src = std::fs::read_to_string(examples().join("enterprises.csv")).unwrap();
    let mut lines: Vec<&str> = src.lines().collect();
    let header = lines.remove(0);
    lines.reverse();
    lines.rotate_left(3);
    w.write("shuffled.csv", format!("{header}\n{}\n", lines.join("\n")));
    let e = examples();
    let emi = e.join("emissions.csv");
    let o = w.run(&[
        "score",
        "shuffled.csv",
        "--emissions",
        emi.to_str().unwrap(),
        "-o",
        "b.csv",
        "--no-model",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let o = score_examples(&w, "a.csv", &[]);
    assert_eq!(o.status.code(), Some(0));
    let a = by_uscc(&read_csv(&w.path("a.csv")));
    let b = by_uscc(&read_csv(&w.path("b.csv")));
    assert_eq!(a, b);
}

#[test]
fn failed_runs_leave_no_output() {
    let w = Work::new();
    w.write("bad.toml", "[market]\nnot_a_key = 1\n");
    let e = examples();
    let ent = e.join("enterprises.csv");
    let o = w.run(&[
        "score",
        ent.to_str().unwrap(),
        "--policy",
        "bad.toml",
        "-o",
        "out.csv",
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("bad.toml"), "{err}");
    // A garbage emissions file.
    w.write("garbage.parquet", b"PAR1 this is not parquet");
    let o = w.run(&[
        "score",
        ent.to_str().unwrap(),
        "--emissions",
        "garbage.parquet",
        "-o",
        "out.csv",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("garbage.parquet"));
    let files = w.files();
    assert_eq!(
        files,
        vec!["bad.toml", "garbage.parquet"],
        "no output, no temp file"
    );
}

#[test]
fn explain_says_why_not_on_the_list() {
    let w = Work::new();
    let e = examples();
    let ent = e.join("enterprises.csv");
    let emi = e.join("emissions.csv");
    let o = w.run(&[
        "explain",
        "91110105EXAMPLE010",
        "-i",
        ent.to_str().unwrap(),
        "--emissions",
        emi.to_str().unwrap(),
        "--no-model",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("ECO_NO_MONITORING"), "{out}");
    assert!(out.contains("0.018"), "market ratio 0.03 × 0.6: {out}");
    let o = w.run(&[
        "explain",
        "91110105EXAMPLE010",
        "-i",
        ent.to_str().unwrap(),
        "--lang",
        "zh",
        "--no-model",
    ]);
    assert!(text(&o).0.contains("自动监控"), "{:?}", text(&o));
    let o = w.run(&[
        "explain",
        "91110101EXAMPLE999",
        "-i",
        ent.to_str().unwrap(),
        "--no-model",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o)
            .1
            .contains("no enterprise with code 91110101EXAMPLE999")
    );
}

#[test]
fn parquet_and_csv_inputs_score_the_same() {
    // The same generated tables as CSV (text cells) and as Parquet (typed cells; district, tier,
    // classes, medium and pollutant read as dictionaries) give the same scores.
    let w = Work::new();
    for ext in ["csv", "parquet"] {
        let o = w.run(&[
            "gen",
            "--rows",
            "4000",
            "--seed",
            "11",
            "-o",
            &format!("e.{ext}"),
            "--emissions",
            &format!("m.{ext}"),
        ]);
        assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
        let o = w.run(&[
            "score",
            &format!("e.{ext}"),
            "--emissions",
            &format!("m.{ext}"),
            "-o",
            &format!("s-{ext}.csv"),
        ]);
        assert_eq!(o.status.code(), Some(0), "{ext}: {:?}", text(&o));
    }
    let (a, b) = (
        read_csv(&w.path("s-csv.csv")),
        read_csv(&w.path("s-parquet.csv")),
    );
    assert_eq!(a.len(), 4001);
    assert_eq!(a[0], b[0]);
    // The scored columns (the input's own columns after them are passed through as typed).
    let scored = a[0].iter().position(|h| h == "permit_class").unwrap() + 1;
    for (ra, rb) in a.iter().zip(&b) {
        assert_eq!(ra[..scored], rb[..scored]);
    }
}

#[test]
fn a_table_with_only_its_header_scores_and_samples_to_empty_files() {
    // A district with nothing to report this month still gets its files, and plain words.
    let w = Work::new();
    let header = std::fs::read_to_string(examples().join("enterprises.csv")).unwrap();
    w.write("none.csv", format!("{}\n", header.lines().next().unwrap()));
    let o = w.run(&["score", "none.csv", "-o", "scored.parquet"]);
    let (so, se) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{so}{se}");
    assert!(
        so.contains("scored 0 enterprises") && so.contains("credit classes: none"),
        "{so}"
    );
    let o = w.run(&[
        "sample",
        "scored.parquet",
        "--month",
        "2026-12",
        "--department",
        "joint",
        "--seed",
        "1",
        "-o",
        "sample.csv",
    ]);
    let (so, se) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{so}{se}");
    assert!(
        so.contains("expected 0.00, drawn 0") && !so.contains("-0.00"),
        "{so}"
    );
    assert!(so.contains("0 visits"), "{so}");
    assert_eq!(read_csv(&w.path("sample.csv")).len(), 1, "just the header");
}
