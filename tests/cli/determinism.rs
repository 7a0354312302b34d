//! Determinism (SPEC §12): the same inputs give the same bytes whatever the number of threads.
//! The whole monthly chain — `gen`, `score` (CSV and Parquet, with emissions), `whitelist`,
//! `sample` (joint, with history, inspectors, manifest and public list), `report` — runs with
//! `RAYON_NUM_THREADS` = 1, 2 and 5, each in its own folder with the same file names, and every
//! file must be byte-identical across the three. 140 000 rows make three input batches of
//! 64 Ki rows, so the batches really are scored on different threads.

use std::collections::BTreeMap;

use super::{Work, text};

/// Runs the chain with `threads` rayon threads; returns every file's bytes by name.
fn chain(threads: &str) -> BTreeMap<String, Vec<u8>> {
    let w = Work::new();
    let env = [("RAYON_NUM_THREADS", threads)];
    let steps: &[&[&str]] = &[
        &[
            "gen",
            "--rows",
            "140000",
            "--seed",
            "5",
            "-o",
            "e.csv",
            "--emissions",
            "em.csv",
            "--history",
            "h.csv",
            "--inspectors",
            "i.csv",
            "-q",
        ],
        &[
            "score",
            "e.csv",
            "--emissions",
            "em.csv",
            "-o",
            "s.csv",
            "-q",
        ],
        &[
            "score",
            "e.csv",
            "--emissions",
            "em.csv",
            "-o",
            "s.parquet",
            "-q",
            "--lang",
            "zh",
        ],
        &[
            "whitelist",
            "s.csv",
            "--as-of",
            "2026-12-01",
            "-o",
            "list.csv",
            "-q",
        ],
        &[
            "whitelist",
            "s.parquet",
            "--as-of",
            "2026-12-01",
            "-o",
            "list.xlsx",
            "-q",
        ],
        &[
            "sample",
            "s.csv",
            "--month",
            "2026-12",
            "--department",
            "joint",
            "--seed",
            "2026年12月 第1期",
            "--history",
            "h.csv",
            "--inspectors",
            "i.csv",
            "--capacity",
            "market=2000,ecology=1500",
            "-o",
            "sample.csv",
            "--public",
            "public.csv",
            "-q",
        ],
        &[
            "report",
            "s.csv",
            "--sample",
            "sample.csv",
            "--whitelist",
            "list.csv",
            "--month",
            "2026-12",
            "-o",
            "report.html",
        ],
    ];
    for args in steps {
        let o = w.run_env(args, &env);
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{threads} threads, {args:?}: {:?}",
            text(&o)
        );
    }
    w.files()
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(w.path(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

#[test]
fn same_bytes_with_1_2_and_5_threads() {
    let one = chain("1");
    for f in [
        "e.csv",
        "em.csv",
        "s.csv",
        "s.parquet",
        "list.csv",
        "list.xlsx",
        "sample.csv",
        "sample.manifest.json",
        "public.csv",
        "report.html",
    ] {
        assert!(one.contains_key(f), "{f} not written: {:?}", one.keys());
    }
    for threads in ["2", "5"] {
        let other = chain(threads);
        assert_eq!(
            one.keys().collect::<Vec<_>>(),
            other.keys().collect::<Vec<_>>(),
            "{threads} threads: other files"
        );
        for (f, bytes) in &one {
            assert!(
                other[f] == *bytes,
                "{f} differs between 1 and {threads} threads"
            );
        }
    }
}
