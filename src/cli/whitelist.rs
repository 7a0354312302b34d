//! `spotcheck whitelist`: this period's 正面清单 from a scored file and the previous list (SPEC §5),
//! built by the library (`whitelist::from_scored`); this file reads the flags, writes and prints.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use spotcheck::date::Date;
use spotcheck::schema::Lang;
use spotcheck::whitelist::{
    InputFile, OutputOptions, WhitelistParams, check_as_of, from_scored, read_previous, write_list,
};

use super::common::load_policy;
use super::{InputOpts, parse_lang};

/// Keep the ecology bureau's positive list (正面清单): new, retained, renewed, removed, waitlisted.
///
/// Takes the scored enterprises (the output of `spotcheck score`) and last period's list, and
/// writes this period's: eligible enterprises not yet listed are `new`; listed and still eligible
/// are `retained`, or `renewed` when their listing expires on or before --as-of; listed but no
/// longer eligible (or no longer in the data) are `removed` with the failed criteria as reasons.
/// A listing is valid for policy eco.validity_years (default 3) years. With eco.cap_share set in
/// the policy, at most that share of each district's key + simplified permit holders is listed and
/// the rest are `waitlisted`, ranked by risk_score, then pe_total, then code.
///
/// The .xlsx output has the sheets 正面清单, 新增, 移出 and 说明 (policy, date, counts, input hashes);
/// .csv and .jsonl hold one row per enterprise listed, waitlisted or removed.
///
/// Example: spotcheck whitelist scored.csv --as-of 2026-12-01 --previous list-2026-06.xlsx
/// -o list-2026-12.xlsx
#[derive(Debug, Args)]
pub struct WhitelistArgs {
    /// The scored enterprises (output of `spotcheck score`, any format, English or Chinese).
    pub scored: PathBuf,
    /// The date of this list (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Date,
    /// Last period's list (.xlsx, .csv or .jsonl as written by this command, or edited by hand).
    #[arg(long, value_name = "FILE")]
    pub previous: Option<PathBuf>,
    /// Policy file (default: the shipped data/policy/default.toml, built in).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Output: .xlsx (the bureau's workbook), .csv or .jsonl.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Language of the CSV/JSON Lines headers and values: en (default) or zh. The workbook is
    /// always Chinese.
    #[arg(long, default_value = "en", value_parser = parse_lang)]
    pub lang: Lang,
    #[command(flatten)]
    pub bom: super::BomOpts,
    #[command(flatten)]
    pub input: InputOpts,
}

/// Parses `--as-of`.
pub fn parse_date(s: &str) -> std::result::Result<Date, String> {
    Date::parse(s).ok_or_else(|| format!("{s:?} is not a date YYYY-MM-DD"))
}

pub fn run(a: WhitelistArgs) -> Result<ExitCode> {
    let policy = load_policy(a.policy.as_deref())?;
    let opts = a.input.read_options();
    let previous = match &a.previous {
        Some(p) => read_previous(p, &opts).context("reading the previous list")?,
        None => Vec::new(),
    };
    check_as_of(&previous, a.as_of)?;
    let params = WhitelistParams {
        as_of: a.as_of,
        validity_years: policy.eco.validity_years,
        cap_share: policy.eco.cap_share,
    };
    let (list, read) =
        from_scored(&a.scored, &previous, &params, &opts).context("reading the scored file")?;
    let mut inputs = vec![InputFile {
        role: "评分结果 scored".into(),
        path: a.scored.display().to_string(),
        sha256: spotcheck::table::sha256_file(&a.scored)?,
    }];
    if let Some(p) = &a.previous {
        inputs.push(InputFile {
            role: "上期正面清单 previous list".into(),
            path: p.display().to_string(),
            sha256: spotcheck::table::sha256_file(p)?,
        });
    }
    inputs.push(InputFile {
        role: "政策文件 policy".into(),
        path: policy.path().display().to_string(),
        sha256: policy.sha256_hex(),
    });
    let out = OutputOptions {
        bom: a.bom.bom(a.lang),
        lang: a.lang,
    };
    write_list(&a.output, &list, &inputs, &out)
        .with_context(|| format!("writing {}", a.output.display()))?;
    println!(
        "{}: read {} scored enterprises; {} on the previous list",
        a.scored.display(),
        read.rows,
        previous.len()
    );
    if let Some(note) = &read.note {
        println!("  ({note})");
    }
    println!("{}", list.summary());
    println!("→ {}", a.output.display());
    Ok(ExitCode::SUCCESS)
}
