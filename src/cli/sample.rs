//! `spotcheck sample`: the monthly 双随机 draw of SPEC §4 from a scored file, with inspector teams,
//! the manifest that lets anyone re-derive it, and the public list; `spotcheck verify` re-derives a
//! draw from its manifest and says exactly what differs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use spotcheck::sample::run::{
    DrawFiles, load, policy_record, rederive, run_draw, sampling_params, write_public,
    write_sample, write_text,
};
use spotcheck::sample::{
    Algorithm, Capacity, DrawDepartment, DrawParams, FileRecord, Manifest, Month, Strata,
};
use spotcheck::schema::Lang;

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
/// With --department joint --coordinate (SPEC §4.7, algorithm prn-poisson-sha256/1) both
/// departments draw from one random number per enterprise (u, a SHA-256 of the seed): each
/// department takes the units with u below its π, so each keeps its π exactly and an enterprise
/// drawn by both gets one joint visit as often as possible (进一次门、查多项事). Sample sizes are
/// then random around Σπ; the summary and the manifest give the expected size and its standard
/// deviation per department and stratum, and the joint visits and visits in all against an
/// independent draw. Example: spotcheck sample scored.csv --month 2026-12 --department joint
/// --coordinate --seed "2026年12月 第1期" -o sample.csv
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
    /// Coordinate a joint draw (needs --department joint): one random number per enterprise
    /// shared by both departments, so that enterprises drawn by both get one joint visit as often
    /// as possible (SPEC §4.7, prn-poisson-sha256/1). Default: off (each department drawn
    /// independently by systematic πps, sys-pps-sha256/1).
    #[arg(long)]
    pub coordinate: bool,
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
    /// Read the scored table on the Ballista cluster whose scheduler is at df://HOST:PORT (see
    /// spotcheck cluster): the executors read the file (Parquet or an Arrow IPC file, not a
    /// stream; at the same path) and stream the frame's columns back into a scratch folder
    /// beside the output (.NAME.cluster-PID, removed at the end); the draw runs here, so sample
    /// and manifest are the ones the command gives without --cluster. Default: read the file
    /// here. Example: --cluster df://127.0.0.1:50050
    #[cfg(feature = "cluster")]
    #[arg(long, value_name = "df://HOST:PORT")]
    pub cluster: Option<String>,
    /// Language of headers and values: en (default) or zh.
    #[arg(long, default_value = "en", value_parser = parse_lang)]
    pub lang: Lang,
    #[command(flatten)]
    pub bom: super::BomOpts,
    #[command(flatten)]
    pub input: InputOpts,
}

fn bad_arg(name: &str, value: &str, expected: &str) -> anyhow::Error {
    anyhow::anyhow!("--{name} {value:?}: expected {expected}")
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
        algorithm: if a.coordinate {
            Algorithm::Coordinated
        } else {
            Algorithm::Systematic
        },
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
    let files = DrawFiles {
        scored: &a.scored,
        history: a.history.as_deref(),
        inspectors: a.inspectors.as_deref(),
    };
    // On a cluster, the frame's rows come back into a scratch folder beside the output, kept
    // (by `_gathered`) until the sample is written: the drawn units' names are read from it.
    #[cfg(feature = "cluster")]
    let (mut loaded, _gathered) = match &a.cluster {
        Some(url) => {
            let (loaded, gathered) = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the runtime")?
                .block_on(spotcheck::sql::cluster::load_draw(
                    url,
                    &policy,
                    files,
                    &opts,
                    &mut rejects,
                    &output,
                ))
                .with_context(|| {
                    format!("reading the inputs of the draw on the cluster at {url}")
                })?;
            (loaded, Some(gathered))
        }
        None => (
            load(files, &opts, &mut rejects).context("reading the inputs of the draw")?,
            None,
        ),
    };
    #[cfg(not(feature = "cluster"))]
    let mut loaded = load(files, &opts, &mut rejects).context("reading the inputs of the draw")?;
    progress.phase("drawing");
    let (d, assignment) = run_draw(&mut loaded, &params)?;
    progress.phase("writing the sample");
    let sha = write_sample(
        &output,
        &loaded,
        &d,
        assignment.as_ref(),
        &params,
        a.lang,
        a.bom.bom(a.lang),
    )?;
    if let Some(p) = &a.public {
        write_public(p, &loaded, &d, &params, a.lang, a.bom.bom(a.lang))?;
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
        // A coordinated draw's size is random: its standard deviation follows the expectation.
        let sd = dep
            .size_sd
            .map(|sd| format!(" ± {sd:.2}"))
            .unwrap_or_default();
        println!(
            "{}: {eligible} eligible (excluded: ratio 0 {}, yearly maximum reached {}, cooldown {}), expected {pi:.2}{sd}, drawn {}",
            dep.department,
            dep.exclusions.zero_ratio,
            dep.exclusions.yearly_cap,
            dep.exclusions.cooldown,
            dep.selected
        );
        if dep.size_sd.is_some() {
            for st in d.strata.iter().filter(|s| s.department == dep.department) {
                let label = if st.stratum.is_empty() {
                    "(all)"
                } else {
                    st.stratum.as_str()
                };
                println!(
                    "  stratum {label}: {} eligible, expected {:.2} ± {:.2}, drawn {}",
                    st.eligible,
                    st.pi_sum,
                    st.size_sd.unwrap_or_default(),
                    st.selected
                );
            }
        }
    }
    if let Some(c) = &d.coordination {
        println!(
            "coordinated ({}): {} joint visits (expected {:.1}; drawn independently {:.2}), {} visits in all (expected {:.1}; drawn independently {:.1})",
            params.algorithm,
            c.joint_drawn,
            c.joint_expected,
            c.independent_joint_expected,
            c.visits_drawn,
            c.visits_expected,
            c.independent_visits_expected
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

/// Re-derive a draw from its manifest and check every hash and every selected unit.
///
/// Reads the manifest written by `spotcheck sample`, re-reads the scored file, history,
/// inspectors and policy it names, draws again with the recorded algorithm (sys-pps-sha256/1, or
/// prn-poisson-sha256/1 for a coordinated joint draw), seed, month, department, strata and
/// capacity, and compares: input files and policy (SHA-256), the sample file (edited after the
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

pub fn run_verify(a: VerifyArgs) -> Result<ExitCode> {
    let policy = match &a.policy {
        Some(p) => Some(load_policy(Some(p))?),
        None => None,
    };
    let opts = a.input.read_options();
    let r = rederive(&a.manifest, policy, &opts)
        .with_context(|| format!("verifying {}", a.manifest.display()))?;
    for diff in &r.report.differences {
        println!("{diff}");
    }
    if r.report.is_match() {
        println!(
            "verified: {} visits re-derived from seed {:?}; every hash and every unit matches",
            r.draw.selected.len(),
            r.params.seed
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!("NOT verified: {} difference(s)", r.report.differences.len());
        Ok(ExitCode::from(1))
    }
}
