//! Kill-safety (SPEC §12): real runs of `score`, `whitelist` and `sample` are killed with SIGKILL
//! at seeded random moments; every time the output is either the old file or the complete new
//! one (the same bytes, since a run is deterministic), never partial; the next clean run removes
//! the dead runs' temporary files and leaves none of its own. Ctrl-C (SIGINT) removes the
//! temporary file at once.

#![cfg(unix)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Work, text};

fn spawn(w: &Work, args: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin!("spotcheck"))
        .current_dir(w.dir.path())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spotcheck starts")
}

fn sha(path: &Path) -> String {
    spotcheck::table::sha256_file(path).expect("output readable")
}

/// Names of spotcheck's temporary files in the work directory.
fn temp_files(w: &Work) -> Vec<String> {
    w.files()
        .into_iter()
        .filter(|f| spotcheck::table::atomic::temp_owner(f).is_some())
        .collect()
}

const SCORE: &[&str] = &["score", "e.csv", "-o", "s.csv", "-q", "--no-model"];
const WHITELIST: &[&str] = &[
    "whitelist",
    "s.csv",
    "--as-of",
    "2026-12-01",
    "-o",
    "list.csv",
    "-q",
];
const SAMPLE: &[&str] = &[
    "sample",
    "s.csv",
    "--month",
    "2026-12",
    "--department",
    "joint",
    "--seed",
    "k",
    "-o",
    "sample.csv",
    "--public",
    "public.csv",
    "-q",
];

#[test]
fn sigkill_at_random_moments_leaves_old_or_complete_output() {
    let w = Work::new();
    let o = w.run(&[
        "gen", "--rows", "200000", "--seed", "13", "-o", "e.csv", "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    // Clean runs: the outputs to protect, and how long each command takes here.
    let mut runs = Vec::new();
    for (args, outputs) in [
        (SCORE, &["s.csv"][..]),
        (WHITELIST, &["list.csv"][..]),
        (SAMPLE, &["sample.csv", "public.csv"][..]),
    ] {
        let t = Instant::now();
        let o = w.run(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {:?}", text(&o));
        let took = t.elapsed();
        let hashes: Vec<(String, String)> = outputs
            .iter()
            .map(|f| (f.to_string(), sha(&w.path(f))))
            .collect();
        runs.push((args, hashes, took));
    }
    let before = w.files();
    let mut rng = ChaCha8Rng::seed_from_u64(20261213);
    let mut temps_seen = 0;
    for k in 0..9 {
        let (args, hashes, took) = &runs[k % runs.len()];
        // A moment anywhere in the run (and a little past it: a run that finished must have put
        // the complete output in place).
        let at = took.mul_f64(rng.random_range(0.0..1.1));
        let mut child = spawn(&w, args);
        std::thread::sleep(at);
        let _ = child.kill(); // SIGKILL; fails only if the run already ended
        let _ = child.wait();
        temps_seen += temp_files(&w).len();
        for (f, h) in hashes {
            assert_eq!(
                &sha(&w.path(f)),
                h,
                "{args:?} killed after {at:?}: {f} is neither the old nor the complete output"
            );
        }
        // Nothing but the outputs and, perhaps, temporary files of the killed run.
        let extra: Vec<String> = w
            .files()
            .into_iter()
            .filter(|f| !before.contains(f) && spotcheck::table::atomic::temp_owner(f).is_none())
            .collect();
        assert!(extra.is_empty(), "{args:?}: unexpected files {extra:?}");
    }
    // The killed runs did leave temporary files behind at some point (else the test proves
    // little); a clean run of any command sweeps them and leaves none of its own.
    assert!(
        temps_seen > 0,
        "no kill landed while a temporary file existed"
    );
    let o = w.run(WHITELIST);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(temp_files(&w), Vec::<String>::new());
    assert_eq!(w.files(), before);
}

#[test]
fn ctrl_c_removes_the_temporary_file_at_once() {
    let w = Work::new();
    let o = w.run(&[
        "gen", "--rows", "200000", "--seed", "14", "-o", "e.csv", "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    w.write("s.csv", "old output\n");
    let mut child = spawn(&w, SCORE);
    // Wait for the temporary output to appear, then interrupt.
    let t = Instant::now();
    while temp_files(&w).is_empty() {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "no temporary file appeared"
        );
        if child.try_wait().unwrap().is_some() {
            panic!("the run ended before it was interrupted");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: sends SIGINT to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
    assert_eq!(temp_files(&w), Vec::<String>::new());
    assert_eq!(
        std::fs::read_to_string(w.path("s.csv")).unwrap(),
        "old output\n"
    );
}
