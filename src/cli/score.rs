//! `spotcheck score`: reads the enterprise table (and emissions), scores every accepted
//! enterprise as SPEC §3 says and writes the columns of §3.6, batch by batch, atomically.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use spotcheck::input::EnterpriseReader;
use spotcheck::schema::Lang;
use spotcheck::scoring::{ScoreOutcome, Scoring, score_to_file};
use spotcheck::table::WriteOptions;

use super::common::{
    check_output, load_policy, print_counts, read_emission_totals, report_orphans,
};
use super::{InputOpts, parse_lang};

/// Score enterprises: credit class, pollution equivalents, HJ 941 risk, inspection ratios,
/// positive-list eligibility and the reasons for each (SPEC §3).
///
/// Writes one row per accepted enterprise with the columns uscc, name, district, tier,
/// credit_class … risk_score, reasons (SPEC §3.6), then the input's own extra columns. Rejected
/// input rows go to the rejects file (default: <output stem>.rejects.csv beside the output).
///
/// Example: spotcheck score data/sample/enterprises.csv --emissions data/sample/emissions.csv
/// -o scored.xlsx --lang zh
///
/// Exit codes: 0 done (rejected rows, if any, are in the rejects file); 2 an input or the policy
/// cannot be used.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The enterprise table (SPEC §1.1): .csv .parquet .arrow .jsonl .xlsx, or - for CSV on stdin.
    pub enterprises: PathBuf,
    /// Emissions table (SPEC §1.2); when given, pe_air/pe_water of the enterprise table are ignored.
    #[arg(long, value_name = "FILE")]
    pub emissions: Option<PathBuf>,
    /// Policy file (default: the shipped data/policy/default.toml, built in).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Output file; the format follows the extension (.csv .parquet .arrow .jsonl .xlsx).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Language of headers, values and reasons: en (default) or zh.
    #[arg(long, default_value = "en", value_parser = parse_lang)]
    pub lang: Lang,
    #[command(flatten)]
    pub bom: super::BomOpts,
    #[command(flatten)]
    pub model: super::ModelOpts,
    /// Read the input tables on the Ballista cluster whose scheduler is at df://HOST:PORT (see
    /// spotcheck cluster): the executors read the files (Parquet or Arrow IPC files, not
    /// streams; at the same paths) and stream their rows back in file order into a scratch
    /// folder beside the output (.NAME.cluster-PID, removed at the end); the scoring and the
    /// credit model run here, so the
    /// scored file, rejects and counts are the ones the command gives without --cluster. Default:
    /// read the files here. Example: --cluster df://127.0.0.1:50050
    #[cfg(feature = "cluster")]
    #[arg(long, value_name = "df://HOST:PORT")]
    pub cluster: Option<String>,
    #[command(flatten)]
    pub input: InputOpts,
}

pub fn run(a: ScoreArgs) -> Result<ExitCode> {
    let policy = load_policy(a.policy.as_deref())?;
    let mut inputs = vec![a.enterprises.as_path()];
    if let Some(e) = &a.emissions {
        inputs.push(e);
    }
    let output = check_output(&a.output, &inputs)?;
    #[cfg(feature = "cluster")]
    if let Some(url) = &a.cluster {
        return run_on_cluster(&a, url, &policy, &output);
    }
    let mut rejects = a.input.rejects();
    let read = Read {
        enterprises: &a.enterprises,
        emissions: a.emissions.as_deref(),
    };
    let outcome = score(&a, &policy, &output, read, &mut rejects)?;
    finish(&a, &output, outcome, &rejects)
}

/// `score --cluster`: the executors read the tables, this machine scores their rows with the
/// same code as without the flag; rejected rows and messages name the user's files.
#[cfg(feature = "cluster")]
fn run_on_cluster(
    a: &ScoreArgs,
    url: &str,
    policy: &spotcheck::policy::Policy,
    output: &Path,
) -> Result<ExitCode> {
    let mut tables = vec![a.enterprises.as_path()];
    if let Some(e) = &a.emissions {
        tables.push(e);
    }
    let gathered = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the cluster client")?
        .block_on(spotcheck::sql::cluster::gather_tables(
            url, policy, &tables, output,
        ))
        .with_context(|| format!("reading the input tables on the cluster at {url}"))?;
    let mut scratch = a.input.rejects();
    let read = Read {
        enterprises: gathered.local(&a.enterprises),
        emissions: a.emissions.as_deref().map(|p| gathered.local(p)),
    };
    let outcome = score(a, policy, output, read, &mut scratch)
        .map_err(|e| anyhow::anyhow!(gathered.restore_text(&format!("{e:#}"))))?;
    let mut rejects = a.input.rejects();
    gathered.restore_rejects(scratch, &mut rejects)?;
    finish(a, output, outcome, &rejects)
}

/// The files [`score`] reads: the ones the user named, or their copies gathered on a cluster
/// (messages and counts name the user's files either way).
#[derive(Clone, Copy)]
struct Read<'a> {
    enterprises: &'a Path,
    emissions: Option<&'a Path>,
}

/// What [`score`] found, for [`finish`] to write and print.
struct Scored {
    outcome: ScoreOutcome,
    emission_counts: Option<(PathBuf, spotcheck::input::Counts)>,
}

/// Scores the tables (read from `read`) into `output`; rejected rows go to `rejects`.
fn score(
    a: &ScoreArgs,
    policy: &spotcheck::policy::Policy,
    output: &Path,
    read: Read<'_>,
    rejects: &mut spotcheck::table::Rejects,
) -> Result<Scored> {
    let opts = a.input.read_options();
    let emissions_in = read.emissions;
    let progress = super::progress::Progress::new(a.input.quiet, "scoring", None);
    progress.phase("reading the emissions");
    let emissions = match emissions_in {
        Some(p) => Some(read_emission_totals(p, &opts, rejects, policy)?),
        None => None,
    };
    let reader =
        EnterpriseReader::open(read.enterprises, &opts).context("reading the enterprise table")?;
    let model = a.model.load_for(&reader.schema())?;
    if emissions.is_some() && reader.has_pe_columns() {
        eprintln!(
            "warning: {} has pe_air/pe_water columns; they are ignored because an emissions table is given",
            a.enterprises.display()
        );
    }
    let wopts = WriteOptions {
        bom: a.bom.bom(a.lang),
        sheet: match a.lang {
            Lang::En => "scored".into(),
            Lang::Zh => "评分结果".into(),
        },
        ..WriteOptions::default()
    };
    // The pipeline (SPEC §8) is the library's: decoded ahead, scored in parallel, written behind.
    progress.phase("scoring");
    let scoring = Scoring {
        model: model.as_deref(),
        policy,
        output,
        lang: a.lang,
        write: &wopts,
    };
    let outcome = score_to_file(
        reader,
        emissions.as_ref().map(|(t, _)| t),
        &scoring,
        rejects,
        &mut |n| progress.inc(n),
    )?;
    progress.phase("finishing the output");
    let mut emission_counts = None;
    if let (Some(p), Some(read), Some((totals, counts))) = (&a.emissions, emissions_in, emissions) {
        let mut counts = counts;
        report_orphans(read, &opts, &totals, &mut counts, rejects)?;
        emission_counts = Some((p.clone(), counts));
    }
    progress.finish();
    Ok(Scored {
        outcome,
        emission_counts,
    })
}

/// Writes the rejects file and prints the counts.
fn finish(
    a: &ScoreArgs,
    output: &Path,
    scored: Scored,
    rejects: &spotcheck::table::Rejects,
) -> Result<ExitCode> {
    let Scored {
        outcome:
            ScoreOutcome {
                rows,
                by_class,
                listed,
                counts: ec,
            },
        emission_counts,
    } = scored;
    let rejects_path = a.input.rejects_path(output);
    super::write_rejects(rejects, &rejects_path)?;
    print_counts(&a.enterprises, &ec);
    if let Some((p, c)) = &emission_counts {
        print_counts(p, c);
    }
    if ec.flagged > 0 {
        println!(
            "  {} code(s) kept but flagged USCC_CHECKSUM (wrong check character)",
            ec.flagged
        );
    }
    let classes = if by_class.is_empty() {
        "none".to_string()
    } else {
        by_class
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "scored {rows} enterprises → {}  (credit classes: {classes}; positive list: {listed})",
        output.display(),
    );
    if !rejects.is_empty() {
        println!(
            "{} rejected row(s) → {}",
            rejects.len(),
            rejects_path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
