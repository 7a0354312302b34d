//! Replays the inputs that once crashed a fuzz target (`fuzz/regressions/<target>/`), and the
//! seed corpora (`fuzz/seeds/<target>/`), through the real binary with the command that reads
//! that kind of file: every one must end with exit 0, 1 or 2 and a sentence, never a panic. CI
//! runs these; the fuzzers themselves are run by hand (fuzz/README.md).

use std::path::{Path, PathBuf};

use super::{Work, text};

/// The files of `fuzz/<kind>/<target>/`, sorted.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// The extension the target's reader expects.
fn extension(target: &str) -> &'static str {
    match target {
        "csv_utf8" | "csv_gb18030" | "previous" => "csv",
        "parquet" => "parquet",
        "arrow_ipc" => "arrow",
        "jsonl" => "jsonl",
        "xlsx" => "xlsx",
        "policy" => "toml",
        "manifest" => "json",
        _ => unreachable!("a target without a command: {target}"),
    }
}

const ENTERPRISES: &str =
    "uscc,name,district,tier,credit_class\n91110108EXAMPLE008,甲,海淀区,little_giant,A\n";

/// Runs the command that reads a file of `target`'s kind on `input`; returns (exit code, stderr).
fn replay(w: &Work, target: &str, input: &Path) -> (Option<i32>, String, String) {
    let name = format!("input.{}", extension(target));
    std::fs::copy(input, w.path(&name)).unwrap();
    let args: Vec<&str> = match target {
        "csv_gb18030" => vec![
            "validate",
            &name,
            "--encoding",
            "gb18030",
            "--history",
            &name,
        ],
        "policy" => vec![
            "score",
            "e.csv",
            "-o",
            "s.csv",
            "--no-model",
            "-q",
            "--policy",
            &name,
        ],
        "manifest" => vec!["verify", &name],
        "previous" => vec![
            "whitelist",
            "s.csv",
            "--as-of",
            "2026-12-01",
            "-o",
            "wl.csv",
            "-q",
            "--previous",
            &name,
        ],
        _ => vec![
            "validate",
            &name,
            "--history",
            &name,
            "--max-xlsx-bytes",
            "64M",
        ],
    };
    let o = w.run(&args);
    let (out, err) = text(&o);
    (o.status.code(), out, err)
}

fn check(kind: &str) -> usize {
    let w = Work::new();
    w.write("e.csv", ENTERPRISES);
    let o = w.run(&["score", "e.csv", "-o", "s.csv", "--no-model", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let mut n = 0;
    for target in [
        "csv_utf8",
        "csv_gb18030",
        "parquet",
        "arrow_ipc",
        "jsonl",
        "xlsx",
        "policy",
        "manifest",
        "previous",
    ] {
        for input in inputs(kind, target) {
            let (code, out, err) = replay(&w, target, &input);
            assert!(
                matches!(code, Some(0..=2)) && !err.contains("panicked"),
                "{}: exit {code:?}\n{out}\n{err}",
                input.display()
            );
            n += 1;
        }
    }
    n
}

#[test]
fn fuzz_regressions_end_with_a_sentence() {
    check("regressions");
}

#[test]
fn fuzz_seeds_end_with_a_sentence() {
    // Every target has seeds: a corpus that went missing would make the fuzzers start blind.
    assert!(check("seeds") >= 9);
}
