//! `spotcheck sample`: the monthly 双随机 draw of SPEC §4 from a scored file, with inspector teams,
//! the manifest that lets anyone re-derive it, and the public list; `spotcheck verify` re-derives a
//! draw from its manifest and says exactly what differs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use spotcheck::input::Counts;
use spotcheck::input::tables::{read_history, read_inspectors};
use spotcheck::policy::Policy;
use spotcheck::sample::io::{
    inspectors_from_rows, public_batch, read_frame, read_sample_lines, sample_batch,
};
use spotcheck::sample::{
    Algorithm, Assignment, Capacity, Date, Draw, DrawDepartment, DrawParams, FileRecord,
    HistoryIndex, InputRecord, Inspector, Manifest, Month, SampleFrame, SampleLine, SamplingParams,
    Strata, assign, draw, tasks, verify,
};
use spotcheck::schema::Lang;
use spotcheck::table::{ReadOptions, Rejects, WriteOptions, create, sha256_file};

use super::common::{check_output, load_policy, print_counts};
use super::{InputOpts, parse_lang};

/// Draw the monthly 双随机 spot-check sample and assign inspectors (SPEC §4).
///
/// Eligible are enterprises with a ratio above 0 for the department, under their yearly maximum
/// of on-site checks and not checked on site in the policy's cooldown (default 3 months), per
/// --history. Each is drawn with probability π = min(1, ratio/12), or scaled to --capacity
/// visits, by systematic πps over SHA-256 keys of the seed: the same seed, inputs and policy
/// always give the same list, and anyone can re-derive it (`spotcheck verify`). With
/// --inspectors, each task gets a team (policy sampling.team_size, default 2) from its
/// department, never an inspector who must recuse (回避), preferring the same district and the
/// least loaded.
///
/// Example: spotcheck sample scored.csv --month 2026-12 --department joint --seed "2026年12月 第1期"
/// --history data/sample/history.csv --inspectors data/sample/inspectors.csv -o sample.xlsx
/// --manifest sample.manifest.json --public public.csv
///
/// Exit codes: 0 done; 1 the sample is written but some tasks could not be staffed (listed);
/// 2 an input cannot be used.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// The scored enterprises (output of `spotcheck score`, any format, English or Chinese).
    pub scored: PathBuf,
    /// The month of the draw (YYYY-MM).
    #[arg(long, value_name = "YYYY-MM")]
    pub month: String,
    /// market (市场监管), ecology (生态环境) or joint (both; a unit drawn by both gets one visit).
    #[arg(long, value_name = "market|ecology|joint")]
    pub department: String,
    /// The seed announced before the draw (a lottery number, a public beacon). Required.
    #[arg(long)]
    pub seed: String,
    /// Inspection history (SPEC §1.3) for the yearly maximum and the cooldown.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Visits available this month: N, or market=N,ecology=M. Default: none (π = ratio/12).
    #[arg(long, value_name = "N")]
    pub capacity: Option<String>,
    /// Strata: district (default), tier or none.
    #[arg(long, default_value = "district")]
    pub strata: String,
    /// Inspectors (SPEC §1.4): assign a team to every task.
    #[arg(long, value_name = "FILE")]
    pub inspectors: Option<PathBuf>,
    /// Policy file (default: the shipped data/policy/default.toml, built in).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The sample (any format; .xlsx for the bureau).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// The manifest (JSON) to re-derive and verify the draw (default: <output stem>.manifest.json).
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Also write the list for publication (一公开): no ratios, scores or inspectors.
    #[arg(long, value_name = "FILE")]
    pub public: Option<PathBuf>,
    /// Language of headers and values: en (default) or zh.
    #[arg(long, default_value = "en", value_parser = parse_lang)]
    pub lang: Lang,
    /// Write a UTF-8 byte-order mark at the start of CSV outputs.
    #[arg(long)]
    pub bom: bool,
    #[command(flatten)]
    pub input: InputOpts,
}

fn bad_arg(name: &str, value: &str, expected: &str) -> anyhow::Error {
    anyhow::anyhow!("--{name} {value:?}: expected {expected}")
}

/// Everything a draw reads, loaded and validated.
struct Loaded {
    frame: SampleFrame,
    history: HistoryIndex,
    inspectors: Vec<Inspector>,
    inputs: Vec<InputRecord>,
    counts: Vec<(PathBuf, Counts)>,
}

fn record(role: &str, path: &Path, c: &Counts) -> Result<InputRecord> {
    record_hashed(role, path, c, sha256_file(path)?)
}

fn record_hashed(role: &str, path: &Path, c: &Counts, sha256: String) -> Result<InputRecord> {
    Ok(InputRecord {
        role: role.into(),
        path: path.display().to_string(),
        sha256,
        rows_read: c.read,
        rows_accepted: c.accepted,
        rows_rejected: c.rejected,
    })
}

fn load(
    scored: &Path,
    history: Option<&Path>,
    inspectors: Option<&Path>,
    opts: &ReadOptions,
    rejects: &mut Rejects,
) -> Result<Loaded> {
    // The scored file's hash (for the manifest) is taken on another thread while it is read.
    let hashing = {
        let p = scored.to_path_buf();
        std::thread::spawn(move || sha256_file(&p))
    };
    let (frame, fc) = read_frame(scored, opts, rejects).context("reading the scored file")?;
    let sha = hashing
        .join()
        .map_err(|_| anyhow::anyhow!("hashing {} stopped unexpectedly", scored.display()))??;
    let mut inputs = vec![record_hashed("scored", scored, &fc, sha)?];
    let mut counts = vec![(scored.to_path_buf(), fc)];
    let mut index = HistoryIndex::new();
    if let Some(p) = history {
        let (rows, c) = read_history(p, opts, rejects).context("reading the history")?;
        for r in rows {
            // Invariant: crate::date::Date holds real calendar days in years 1000–9999.
            let d = Date::new(r.date.year as u16, r.date.month as u8, r.date.day as u8)
                .expect("a validated date is a real calendar day");
            index.add(&r.uscc, r.department, r.mode, d);
        }
        inputs.push(record("history", p, &c)?);
        counts.push((p.to_path_buf(), c));
    }
    let mut team = Vec::new();
    if let Some(p) = inspectors {
        let (rows, c) = read_inspectors(p, opts, rejects).context("reading the inspectors")?;
        team = inspectors_from_rows(&rows);
        inputs.push(record("inspectors", p, &c)?);
        counts.push((p.to_path_buf(), c));
    }
    Ok(Loaded {
        frame,
        history: index,
        inspectors: team,
        inputs,
        counts,
    })
}

fn sampling_params(policy: &Policy) -> SamplingParams {
    SamplingParams {
        cooldown_months: policy.sampling.cooldown_months,
        team_size: policy.sampling.team_size,
    }
}

/// Draws and assigns.
fn run_draw(l: &Loaded, params: &DrawParams) -> Result<(Draw, Option<Assignment>)> {
    let d = draw(&l.frame, &l.history, params)?;
    let a = if l.inspectors.is_empty() {
        None
    } else {
        let t = tasks(&d, &l.frame);
        Some(assign(
            &t,
            &l.inspectors,
            &params.seed,
            &params.month.to_string(),
            params.sampling.team_size,
        )?)
    };
    Ok((d, a))
}

/// Writes the sample table and returns its SHA-256.
fn write_sample(
    path: &Path,
    l: &Loaded,
    d: &Draw,
    a: Option<&Assignment>,
    params: &DrawParams,
    lang: Lang,
    bom: bool,
) -> Result<String> {
    let batch = sample_batch(
        d,
        &l.frame,
        a,
        &l.inspectors,
        params.department == DrawDepartment::Joint,
        lang,
    )?;
    let opts = WriteOptions {
        bom,
        sheet: match lang {
            Lang::En => "sample".into(),
            Lang::Zh => "抽查名单".into(),
        },
        ..WriteOptions::default()
    };
    let mut w = create(path, batch.schema(), &opts)?;
    w.write(&batch)?;
    w.finish()?;
    Ok(sha256_file(path)?)
}

fn policy_record(policy: &Policy) -> FileRecord {
    FileRecord {
        path: policy.path().display().to_string(),
        sha256: policy.sha256_hex(),
    }
}

pub fn run_sample(a: SampleArgs) -> Result<ExitCode> {
    let policy = load_policy(a.policy.as_deref())?;
    let month = Month::parse(&a.month)
        .ok_or_else(|| bad_arg("month", &a.month, "YYYY-MM, e.g. 2026-12"))?;
    let department = DrawDepartment::parse(&a.department)
        .ok_or_else(|| bad_arg("department", &a.department, "market, ecology or joint"))?;
    let strata = Strata::parse(&a.strata)
        .ok_or_else(|| bad_arg("strata", &a.strata, "district, tier or none"))?;
    let capacity = match &a.capacity {
        Some(c) => Capacity::parse(c)?,
        None => Capacity::NONE,
    };
    let params = DrawParams {
        seed: a.seed.clone(),
        month,
        department,
        strata,
        capacity,
        sampling: sampling_params(&policy),
        algorithm: Algorithm::Systematic,
    };
    params.validate()?;
    let mut ins: Vec<&Path> = vec![&a.scored];
    ins.extend(a.history.as_deref());
    ins.extend(a.inspectors.as_deref());
    let output = check_output(&a.output, &ins)?;
    let manifest_path = a.manifest.clone().unwrap_or_else(|| {
        let stem = output
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        output.with_file_name(format!("{stem}.manifest.json"))
    });
    let opts = a.input.read_options();
    let mut rejects = a.input.rejects();
    let progress = super::progress::Progress::phases(a.input.quiet, "sample");
    progress.phase("reading the scored file");
    let loaded = load(
        &a.scored,
        a.history.as_deref(),
        a.inspectors.as_deref(),
        &opts,
        &mut rejects,
    )?;
    progress.phase("drawing");
    let (d, assignment) = run_draw(&loaded, &params)?;
    progress.phase("writing the sample");
    let sha = write_sample(
        &output,
        &loaded,
        &d,
        assignment.as_ref(),
        &params,
        a.lang,
        a.bom,
    )?;
    if let Some(p) = &a.public {
        let batch = public_batch(&d, &loaded.frame, &params, a.lang)?;
        let wopts = WriteOptions {
            bom: a.bom,
            sheet: match a.lang {
                Lang::En => "public".into(),
                Lang::Zh => "抽查结果公示".into(),
            },
            ..WriteOptions::default()
        };
        let mut w = create(p, batch.schema(), &wopts)?;
        w.write(&batch)?;
        w.finish()?;
    }
    let manifest = Manifest::new(
        &params,
        &d,
        assignment.as_ref(),
        policy_record(&policy),
        loaded.inputs.clone(),
        FileRecord {
            path: output.display().to_string(),
            sha256: sha,
        },
    );
    write_text(&manifest_path, &manifest.to_json())?;
    progress.phase("writing the rejects");
    let rejects_path = a.input.rejects_path(&output);
    super::write_rejects(&rejects, &rejects_path)?;
    progress.finish();
    for (p, c) in &loaded.counts {
        print_counts(p, c);
    }
    for dep in &d.departments {
        let eligible: usize = d
            .strata
            .iter()
            .filter(|s| s.department == dep.department)
            .map(|s| s.eligible)
            .sum();
        let pi: f64 = d
            .strata
            .iter()
            .filter(|s| s.department == dep.department)
            .map(|s| s.pi_sum)
            // + 0.0: an empty sum is -0.0 in Rust, which would print as "-0.00".
            .sum::<f64>()
            + 0.0;
        println!(
            "{}: {eligible} eligible (excluded: ratio 0 {}, yearly maximum reached {}, cooldown {}), expected {pi:.2}, drawn {}",
            dep.department,
            dep.exclusions.zero_ratio,
            dep.exclusions.yearly_cap,
            dep.exclusions.cooldown,
            dep.selected
        );
    }
    println!("{} visits → {}", d.selected.len(), output.display());
    println!("manifest → {}", manifest_path.display());
    if let Some(p) = &a.public {
        println!("public list → {}", p.display());
    }
    if !rejects.is_empty() {
        println!(
            "{} rejected row(s) → {}",
            rejects.len(),
            rejects_path.display()
        );
    }
    if let Some(asg) = &assignment
        && !asg.unstaffed.is_empty()
    {
        eprintln!(
            "error: {} task(s) could not be staffed:",
            asg.unstaffed.len()
        );
        for u in &asg.unstaffed {
            eprintln!("  {u}");
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes a text file atomically (temp + rename).
fn write_text(path: &Path, text: &str) -> Result<()> {
    let tmp = spotcheck::table::write::temp_path(path);
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", path.display()))?;
    spotcheck::table::write::commit(&tmp, path)?;
    Ok(())
}

/// Re-derive a draw from its manifest and check every hash and every selected unit.
///
/// Reads the manifest written by `spotcheck sample`, re-reads the scored file, history,
/// inspectors and policy it names, draws again with the recorded seed, month, department, strata
/// and capacity, and compares: input files and policy (SHA-256), the sample file (edited after the
/// draw?), per-stratum figures, and every unit (added, removed, changed team). Paths are tried as
/// recorded, then relative to the manifest's folder.
///
/// Example: spotcheck verify sample.manifest.json
///
/// Exit codes: 0 everything matches; 1 something differs (listed); 2 a file cannot be read.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The manifest written by `spotcheck sample`.
    pub manifest: PathBuf,
    /// Policy file to use instead of the recorded one.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputOpts,
}

/// A recorded path, as given or relative to the manifest's folder.
fn locate(recorded: &str, manifest: &Path) -> PathBuf {
    let p = PathBuf::from(recorded);
    if p.exists() || p.is_absolute() {
        return p;
    }
    match manifest.parent() {
        Some(dir) if dir.join(&p).exists() => dir.join(&p),
        _ => p,
    }
}

pub fn run_verify(a: VerifyArgs) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&a.manifest)
        .with_context(|| format!("reading {}", a.manifest.display()))?;
    let recorded = Manifest::from_json(&text, &a.manifest)?;
    let mut params = recorded.draw_params(&a.manifest)?;
    let policy = match &a.policy {
        Some(p) => load_policy(Some(p))?,
        None => {
            let p = locate(&recorded.policy.path, &a.manifest);
            if p.exists() {
                load_policy(Some(&p))?
            } else {
                Policy::default()
            }
        }
    };
    params.sampling = sampling_params(&policy);
    let find = |role: &str| {
        recorded
            .inputs
            .iter()
            .find(|i| i.role == role)
            .map(|i| locate(&i.path, &a.manifest))
    };
    let Some(scored) = find("scored") else {
        bail!(
            "{}: the manifest names no scored input",
            a.manifest.display()
        );
    };
    let opts = a.input.read_options();
    let mut rejects = Rejects::new(false);
    let loaded = load(
        &scored,
        find("history").as_deref(),
        find("inspectors").as_deref(),
        &opts,
        &mut rejects,
    )?;
    let (d, assignment) = run_draw(&loaded, &params)?;
    let sample_path = locate(&recorded.output.path, &a.manifest);
    let (recorded_lines, lang) =
        read_sample_lines(&sample_path, &opts).context("reading the sample")?;
    let sample_sha = sha256_file(&sample_path)?;
    // Render the re-derived sample the way the recorded one was (format and language) and hash it.
    let dir = tempfile_dir(&a.manifest)?;
    let ext = sample_path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("csv");
    let rendered = dir.join(format!("rederived.{ext}"));
    let bom = std::fs::read(&sample_path)
        .map(|b| b.starts_with(b"\xEF\xBB\xBF"))
        .unwrap_or(false);
    let derived_sha = write_sample(
        &rendered,
        &loaded,
        &d,
        assignment.as_ref(),
        &params,
        lang,
        bom,
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    let derived = Manifest::new(
        &params,
        &d,
        assignment.as_ref(),
        policy_record(&policy),
        loaded.inputs.clone(),
        FileRecord {
            path: recorded.output.path.clone(),
            sha256: derived_sha,
        },
    );
    let derived_lines = SampleLine::from_draw(&d, assignment.as_ref(), &loaded.inspectors);
    let report = verify(
        &recorded,
        &derived,
        &sample_sha,
        &recorded_lines,
        &derived_lines,
    );
    for diff in &report.differences {
        println!("{diff}");
    }
    if report.is_match() {
        println!(
            "verified: {} visits re-derived from seed {:?}; every hash and every unit matches",
            d.selected.len(),
            params.seed
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!("NOT verified: {} difference(s)", report.differences.len());
        Ok(ExitCode::from(1))
    }
}

/// A fresh scratch folder beside the manifest (removed after use).
fn tempfile_dir(manifest: &Path) -> Result<PathBuf> {
    let base = manifest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!(".spotcheck-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
