//! Golden files: every subcommand's `--help`, and the outputs of `score` on the bundled
//! data/sample in English CSV and Chinese CSV and of `sample` on it — the first rows verbatim
//! and the SHA-256 of the whole file, so that no refactor silently changes a number or a draw.
//! Update deliberately with `INSTA_UPDATE=always cargo test --test cli golden` and review the diff.

use super::{Work, repo, text};

fn sha256(bytes: &[u8]) -> String {
    spotcheck::table::sha256_bytes(bytes)
}

/// The first `n` lines and the hash of the whole file.
fn head_and_hash(path: &std::path::Path, n: usize) -> String {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let head: Vec<&str> = text.lines().take(n).collect();
    format!(
        "{}\n… {} lines, sha256 {}",
        head.join("\n"),
        text.lines().count(),
        sha256(&bytes)
    )
}

#[test]
fn help_texts() {
    let w = Work::new();
    for cmd in [
        "validate",
        "score",
        "explain",
        "sample",
        "verify",
        "results",
        "whitelist",
        "train",
        "evaluate",
        "gen",
        "report",
    ] {
        let o = w.run(&[cmd, "--help"]);
        assert_eq!(o.status.code(), Some(0));
        insta::assert_snapshot!(format!("help_{cmd}"), text(&o).0);
    }
    #[cfg(feature = "serve")]
    for (name, args) in [
        ("serve", &["serve", "--help"][..]),
        ("users_add", &["users", "add", "--help"][..]),
    ] {
        let o = w.run(args);
        assert_eq!(o.status.code(), Some(0));
        insta::assert_snapshot!(format!("help_{name}"), text(&o).0);
    }
    let o = w.run(&["--help"]);
    insta::assert_snapshot!("help", text(&o).0);
}

#[test]
fn sample_data_scores_and_draw() {
    let w = Work::new();
    let d = repo().join("data/sample");
    let ent = d.join("enterprises.csv");
    let emi = d.join("emissions.csv");
    let (ent, emi) = (ent.to_str().unwrap(), emi.to_str().unwrap());
    let o = w.run(&["score", ent, "--emissions", emi, "-o", "en.csv"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    insta::assert_snapshot!("score_sample_en", head_and_hash(&w.path("en.csv"), 8));
    let o = w.run(&[
        "score",
        ent,
        "--emissions",
        emi,
        "-o",
        "zh.csv",
        "--lang",
        "zh",
    ]);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!("score_sample_zh", head_and_hash(&w.path("zh.csv"), 8));
    let h = d.join("history.csv");
    let i = d.join("inspectors.csv");
    let o = w.run(&[
        "sample",
        "en.csv",
        "--month",
        "2026-12",
        "--department",
        "joint",
        "--seed",
        "2026年12月 第1期",
        "--history",
        h.to_str().unwrap(),
        "--inspectors",
        i.to_str().unwrap(),
        "-o",
        "draw.csv",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    insta::assert_snapshot!("sample_draw", head_and_hash(&w.path("draw.csv"), 100));
}
