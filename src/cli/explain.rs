//! `spotcheck explain USCC`: the scoring decision for one enterprise, in sentences.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use spotcheck::input::EnterpriseReader;
use spotcheck::schema::Lang;
use spotcheck::score::{explain, score_batch};
use spotcheck::uscc::{UsccCheck, check};

use super::common::{load_policy, read_emission_totals};
use super::{InputOpts, parse_lang};

/// Explain one enterprise's score: its class, relief, ratios and every positive-list criterion.
///
/// Scores the enterprise exactly as `spotcheck score` would and prints, in plain sentences, which
/// credit class it has and where it came from, which relief applies, how the market and ecology
/// ratios were computed, and each 正面清单 criterion passed or failed with what would have to
/// change.
///
/// Example: spotcheck explain 91110108EXAMPLE008 --input data/sample/enterprises.csv
/// --emissions data/sample/emissions.csv --lang zh
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The enterprise's unified social credit code (统一社会信用代码).
    pub uscc: String,
    /// The enterprise table.
    #[arg(long, short = 'i', value_name = "FILE")]
    pub input: PathBuf,
    /// Emissions table (SPEC §1.2).
    #[arg(long, value_name = "FILE")]
    pub emissions: Option<PathBuf>,
    /// Policy file (default: the shipped data/policy/default.toml, built in).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Language of the explanation: en (default) or zh.
    #[arg(long, default_value = "en", value_parser = parse_lang)]
    pub lang: Lang,
    #[command(flatten)]
    pub model: super::ModelOpts,
    #[command(flatten)]
    pub opts: InputOpts,
}

pub fn run(a: ExplainArgs) -> Result<ExitCode> {
    let code = match check(&a.uscc) {
        UsccCheck::Valid(c) | UsccCheck::BadChecksum(c) => c,
        UsccCheck::Malformed => bail!(
            "{:?} is not a unified social credit code (18 characters from 0-9 and A-Y without I, O, S, V, Z)",
            a.uscc
        ),
    };
    let policy = load_policy(a.policy.as_deref())?;
    let opts = a.opts.read_options();
    let mut rejects = a.opts.rejects();
    let emissions = match &a.emissions {
        Some(p) => Some(read_emission_totals(p, &opts, &mut rejects, &policy)?.0),
        None => None,
    };
    let mut reader =
        EnterpriseReader::open(&a.input, &opts).context("reading the enterprise table")?;
    let model = a.model.load_for(&reader.schema())?;
    while let Some(batch) = reader.next_batch(&mut rejects)? {
        let Some(i) = (0..batch.len()).find(|&i| batch.uscc.value(i) == code) else {
            continue;
        };
        let scored = score_batch(&batch, emissions.as_ref(), model.as_deref(), &policy)?;
        println!("{}", explain(&batch, &scored, i, &policy, a.lang)?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(r) = rejects
        .items()
        .iter()
        .find(|r| r.value.eq_ignore_ascii_case(&code))
    {
        bail!(
            "{code} is in {} but its row {} was rejected: {} ({}) — fix the row and try again",
            a.input.display(),
            r.row,
            r.reason,
            r.detail
        );
    }
    bail!("no enterprise with code {code} in {}", a.input.display())
}
