//! `spotcheck report`: the monthly supervision report (监管月报) as one self-contained HTML page,
//! from a scored file and optionally the drawn sample, this period's positive list and last
//! period's scored file. Reads the inputs, hashes them, calls `report::build` and
//! `report::html::render`, and writes the page atomically.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use spotcheck::date::Month;
use spotcheck::report::{self, FileRole, InputFile, ReportInputs};
use spotcheck::sample::Manifest;
use spotcheck::schema::Lang;
use spotcheck::scored::ScoredTable;
use spotcheck::table::sha256_file;

use super::common::{check_output, load_policy};
use super::scored::read_scored;
use super::{TableOpts, parse_lang};

/// Write the monthly supervision report: one HTML page with charts, for the bureau head.
///
/// The page answers how many on-site inspections this month, where and of whom (expected from the
/// scored ratios, against the drawn sample), who joined or left the positive list (正面清单) and
/// why, and what changed since last period; then the enterprises by credit class, tier and
/// district, the distribution of the market and ecology ratios, the policy in force and the
/// SHA-256 of every input. Everything is inside the one file (no script, no font, no link), so it
/// opens from a USB stick on an offline PC and prints in black and white.
///
/// The page is in Chinese when the scored file has Chinese headers (`spotcheck score --lang zh`),
/// else in English; --lang chooses.
///
/// Example: spotcheck report scored.csv --sample sample-2026-12.csv --whitelist list-2026-12.csv
/// --previous-scored scored-2026-11.csv --month 2026-12 -o report-2026-12.html
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The scored enterprises (output of `spotcheck score`, any format, English or Chinese).
    pub scored: PathBuf,
    /// The month's drawn sample (output of `spotcheck sample`; needs the columns uscc, district
    /// and departments, English or Chinese headers).
    #[arg(long, value_name = "FILE")]
    pub sample: Option<PathBuf>,
    /// The sample's manifest (written by `spotcheck sample`). Default: <sample stem>.manifest.json
    /// beside --sample, when it exists and records that sample. For a coordinated draw
    /// (--coordinate) the report then shows the joint visits and visits in all, drawn and
    /// expected, against an independent draw.
    #[arg(long, value_name = "FILE", requires = "sample")]
    pub manifest: Option<PathBuf>,
    /// This period's positive list (output of `spotcheck whitelist`: .xlsx, .csv or .jsonl).
    #[arg(long, value_name = "FILE")]
    pub whitelist: Option<PathBuf>,
    /// Last period's scored enterprises, to count changes of class and of list eligibility.
    #[arg(long, value_name = "FILE")]
    pub previous_scored: Option<PathBuf>,
    /// The estimates written by `spotcheck results` (any format, English or Chinese): adds "what
    /// the inspections found" — the estimated violation rate and its interval per department,
    /// hit rate and lift per credit class (table and chart), the enterprises not covered.
    #[arg(long, value_name = "FILE")]
    pub results: Option<PathBuf>,
    /// Policy file the scores were made with (default: the shipped data/policy/default.toml,
    /// built in).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The month reported on, shown in the title (YYYY-MM; default: none).
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
    pub month: Option<String>,
    /// Language of the page: en or zh (default: zh when the scored file has Chinese headers,
    /// else en).
    #[arg(long, value_parser = parse_lang)]
    pub lang: Option<Lang>,
    /// How the input tables are read (the same flags as `score` and `validate`; --sheet and
    /// --max-xlsx-bytes apply to every .xlsx input).
    #[command(flatten)]
    pub table: TableOpts,
    /// The HTML file to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// No progress spinner (shown on a terminal when the report takes more than a second).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Parses `--month YYYY-MM` (strictly, as `sample --month`), written back as `YYYY-MM`.
pub fn parse_month(s: &str) -> std::result::Result<String, String> {
    Month::parse(s)
        .map(|m| m.to_string())
        .ok_or_else(|| format!("{s:?} is not a month YYYY-MM"))
}

fn input(role: FileRole, path: &Path) -> Result<InputFile> {
    Ok(InputFile {
        role,
        path: path.display().to_string(),
        sha256: sha256_file(path).with_context(|| format!("hashing {}", path.display()))?,
    })
}

/// The manifest of the sample: the one given (an error when it does not record this sample), or
/// `<sample stem>.manifest.json` beside it when that exists and records it (else none, with a
/// note on stderr when it names another sample file).
fn sample_manifest(
    sample: &Path,
    given: Option<&Path>,
    sample_sha: &str,
) -> Result<Option<(PathBuf, Manifest)>> {
    let path = match given {
        Some(p) => p.to_path_buf(),
        None => {
            let stem = sample
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let p = sample.with_file_name(format!("{stem}.manifest.json"));
            if !p.is_file() {
                return Ok(None);
            }
            p
        }
    };
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let m = Manifest::from_json(&text, &path)?;
    if m.output.sha256 != sample_sha {
        let why = format!(
            "{}: this manifest records another sample file than {} (SHA-256 {} in the manifest, {} \
             now): was the sample edited or redrawn?",
            path.display(),
            sample.display(),
            m.output.sha256,
            sample_sha
        );
        if given.is_some() {
            anyhow::bail!(why);
        }
        eprintln!("note: not using {why}");
        return Ok(None);
    }
    Ok(Some((path, m)))
}

pub fn run(a: ReportArgs) -> Result<ExitCode> {
    let mut ins: Vec<&Path> = vec![&a.scored];
    ins.extend(
        [
            &a.sample,
            &a.manifest,
            &a.whitelist,
            &a.previous_scored,
            &a.policy,
        ]
        .into_iter()
        .flatten()
        .map(PathBuf::as_path),
    );
    check_output(&a.output, &ins)?;
    if !a
        .output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
    {
        anyhow::bail!(
            "{}: the report is an HTML page: give an output name ending in .html",
            a.output.display()
        );
    }
    let policy = load_policy(a.policy.as_deref())?;
    let opts = a.table.read_options();
    let lang = match a.lang {
        Some(l) => l,
        None => {
            let r = spotcheck::table::open(&a.scored, &ScoredTable::read_options(&opts))
                .with_context(|| format!("reading the scored file {}", a.scored.display()))?;
            report::detect_lang(&r.schema())
        }
    };
    let progress = super::progress::Progress::phases(a.quiet, "report");
    progress.phase("reading the scored file");
    let (scored, scored_note) = read_scored(&a.scored, &opts)?;
    progress.phase("reading the sample, the positive list and the previous period");
    let sample = a
        .sample
        .as_ref()
        .map(|p| {
            report::read_sample(p, &opts)
                .with_context(|| format!("reading the sample {}", p.display()))
        })
        .transpose()?;
    let list = a
        .whitelist
        .as_ref()
        .map(|p| {
            report::read_list(p, &opts)
                .with_context(|| format!("reading the positive list {}", p.display()))
        })
        .transpose()?;
    let previous = a
        .previous_scored
        .as_ref()
        .map(|p| read_scored(p, &opts))
        .transpose()?;
    let (previous, previous_note) = match previous {
        Some((rows, note)) => (Some(rows), note),
        None => (None, None),
    };

    let mut files = vec![input(FileRole::Scored, &a.scored)?];
    if let Some(p) = &a.sample {
        files.push(input(FileRole::Sample, p)?);
    }
    let manifest = match &a.sample {
        Some(sample) => sample_manifest(sample, a.manifest.as_deref(), &files[1].sha256)?,
        None => None,
    };
    if let Some((p, _)) = &manifest {
        files.push(input(FileRole::Manifest, p)?);
    }
    if let Some(p) = &a.whitelist {
        files.push(input(FileRole::Whitelist, p)?);
    }
    if let Some(p) = &a.previous_scored {
        files.push(input(FileRole::PreviousScored, p)?);
    }
    if let Some(p) = &a.results {
        files.push(input(FileRole::Results, p)?);
    }
    files.push(InputFile {
        role: FileRole::Policy,
        path: match &a.policy {
            Some(p) => p.display().to_string(),
            None => format!("{} (built in)", policy.path().display()),
        },
        sha256: policy.sha256_hex(),
    });

    let data = report::build(&ReportInputs {
        scored: &scored,
        sample: sample.as_deref(),
        list: list.as_deref(),
        previous: previous.as_ref(),
        policy: &policy,
        files: &files,
        month: a.month.as_deref(),
        coordination: manifest.as_ref().and_then(|(_, m)| m.coordination.as_ref()),
    });
    progress.phase("writing the page");
    let mut data = data;
    if let Some(p) = &a.results {
        let rows = spotcheck::results::io::read_estimates(p, &opts)
            .with_context(|| format!("reading the estimates {}", p.display()))?;
        data.results = Some(rows);
    }
    let page = report::html::render(&data, lang);
    spotcheck::table::atomic::write_atomic(&a.output, page.as_bytes())
        .with_context(|| format!("writing {}", a.output.display()))?;
    progress.finish();
    let notes = [
        (Some(&a.scored), scored_note),
        (a.previous_scored.as_ref(), previous_note),
    ];
    for (path, note) in notes {
        if let (Some(p), Some(n)) = (path, note) {
            println!("{}: {n}", p.display());
        }
    }
    println!(
        "{}: {} enterprises; {:.1} on-site visits expected this month{}",
        a.scored.display(),
        data.enterprises,
        data.expected.visits,
        data.sample
            .as_ref()
            .map(|s| format!(", {} drawn", s.drawn.visits()))
            .unwrap_or_default()
    );
    if let Some(c) = data.sample.as_ref().and_then(|s| s.coordination.as_ref()) {
        println!(
            "coordinated draw: {} joint visits (expected {:.1}, independently {:.2}), {} visits in all (expected {:.1}, independently {:.1})",
            c.joint_drawn,
            c.joint_expected,
            c.independent_joint_expected,
            c.visits_drawn,
            c.visits_expected,
            c.independent_visits_expected
        );
    }
    println!("→ {}", a.output.display());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months() {
        assert_eq!(parse_month("2026-12"), Ok("2026-12".into()));
        assert!(parse_month("2026-13").is_err());
        assert!(parse_month("2026-1").is_err());
        assert!(parse_month("26-12-01").is_err());
        assert_eq!(parse_month(" 2026-01 "), Ok("2026-01".into()));
        // The sign a number parse would take, and year 0, are not months.
        assert!(parse_month("2026-+1").is_err());
        assert!(parse_month("0000-01").is_err());
    }
}
