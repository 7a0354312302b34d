//! The one integration-test binary: runs the real `spotcheck` executable, each test in a fresh
//! temporary directory, with a module per subcommand.

use std::path::{Path, PathBuf};
use std::process::Output;

mod bureau;
#[cfg(feature = "cluster")]
mod cluster;
#[cfg(feature = "serve")]
mod console;
mod determinism;
mod fuzz_regressions;
mod r#gen;
mod golden;
mod hostile;
mod kill;
mod report;
mod results;
mod sample;
mod score;
#[cfg(feature = "serve")]
mod serve;
#[cfg(feature = "datafusion")]
mod sql;
mod train;
mod validate;
mod whitelist;

/// A fresh working directory for one test.
pub struct Work {
    pub dir: tempfile::TempDir,
}

impl Default for Work {
    fn default() -> Self {
        Self::new()
    }
}

impl Work {
    pub fn new() -> Self {
        Work {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Path of a file in the work directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file into the work directory and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, contents).expect("write fixture");
        p
    }

    /// Runs spotcheck with `args` in the work directory.
    pub fn run(&self, args: &[&str]) -> Output {
        assert_cmd::Command::cargo_bin("spotcheck")
            .expect("binary built")
            .current_dir(self.dir.path())
            .args(args)
            .output()
            .expect("spotcheck runs")
    }

    /// Runs spotcheck with `args` and extra environment variables in the work directory.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = assert_cmd::Command::cargo_bin("spotcheck").expect("binary built");
        c.current_dir(self.dir.path()).args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("spotcheck runs")
    }

    /// Names of the files in the work directory, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

/// stdout and stderr as text.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The repository's folder (for data/ and fixtures).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Reads a CSV written by spotcheck into rows of cells (header first), BOM stripped.
pub fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).expect("read csv");
    let text = text.trim_start_matches('\u{FEFF}');
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            ('\r', false) => {}
            (c, _) => cell.push(c),
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        rows.push(row);
    }
    rows
}
