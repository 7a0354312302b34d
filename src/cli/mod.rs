//! Command-line wiring: the clap definition of every subcommand (one file each, with its help
//! text) and the options they share — how tables are read (encoding, sheet, XLSX limit),
//! `--strict`, the rejects file, `--quiet`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use spotcheck::table::{Encoding, ReadOptions, Rejects, WriteOptions};

#[cfg(feature = "cluster")]
pub mod cluster;
pub mod common;
pub mod explain;
pub mod r#gen;
pub mod interrupt;
pub mod progress;
pub mod report;
pub mod results;
pub mod sample;
pub mod score;
pub mod scored;
#[cfg(feature = "serve")]
pub mod serve;
#[cfg(feature = "datafusion")]
pub mod sql;
pub mod train;
#[cfg(feature = "serve")]
pub mod users;
pub mod validate;
pub mod whitelist;

/// spotcheck: differentiated supervision (差异化监管) for market and ecology bureaus.
///
/// Scores enterprises (credit class, pollution equivalents, HJ 941 environmental risk) into
/// inspection ratios and 正面清单 eligibility, draws the monthly 双随机 spot-check sample from a
/// published seed, and keeps the positive list. Tables are read from and written to .csv, .parquet,
/// .arrow/.ipc/.feather, .jsonl/.ndjson and .xlsx files, chosen by extension.
#[derive(Debug, Parser)]
#[command(name = "spotcheck", version, about, long_about, term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Validate(validate::ValidateArgs),
    Score(score::ScoreArgs),
    Explain(explain::ExplainArgs),
    Whitelist(whitelist::WhitelistArgs),
    Report(report::ReportArgs),
    Gen(r#gen::GenArgs),
    Sample(sample::SampleArgs),
    Verify(sample::VerifyArgs),
    Results(results::ResultsArgs),
    Train(train::TrainArgs),
    Evaluate(train::EvaluateArgs),
    #[cfg(feature = "serve")]
    Serve(serve::ServeArgs),
    #[cfg(feature = "serve")]
    Users(users::UsersArgs),
    #[cfg(feature = "datafusion")]
    Sql(sql::SqlArgs),
    #[cfg(feature = "cluster")]
    Cluster(cluster::ClusterArgs),
}

impl Command {
    /// Whether this is a `spotcheck cluster scheduler|executor` process (Ballista handles its
    /// Ctrl-C and SIGTERM; see `main`).
    pub fn is_cluster_process(&self) -> bool {
        #[cfg(feature = "cluster")]
        if let Command::Cluster(_) = self {
            return true;
        }
        false
    }

    /// Whether the command holds network connections: a server (`serve`, `cluster`) or a client
    /// of a cluster (`--cluster`). Their HTTP/2 libraries write to sockets with `writev`, which
    /// raises SIGPIPE when the peer has gone (a scheduler checks an executor's port and hangs up;
    /// a browser closes a tab), so these commands keep SIGPIPE ignored and see the write fail
    /// instead of being killed; see `main`.
    pub fn uses_network(&self) -> bool {
        match self {
            #[cfg(feature = "serve")]
            Command::Serve(_) => true,
            #[cfg(feature = "cluster")]
            Command::Cluster(_) => true,
            #[cfg(feature = "cluster")]
            Command::Sql(a) => a.cluster.is_some(),
            #[cfg(feature = "cluster")]
            Command::Sample(a) => a.cluster.is_some(),
            #[cfg(feature = "cluster")]
            Command::Score(a) => a.cluster.is_some(),
            _ => false,
        }
    }
}

/// How input tables are read: every command that reads tables takes these (`report` too).
#[derive(Debug, Clone, Args)]
pub struct TableOpts {
    /// Text encoding of CSV inputs: utf-8 (default; a BOM is fine) or gb18030 (GBK files saved by
    /// Chinese Excel).
    #[arg(long, default_value = "utf-8", value_parser = parse_encoding)]
    pub encoding: Encoding,
    /// XLSX inputs: the sheet to read, by name or number (`--sheet 企业名单`, `--sheet 2`). Default:
    /// the first sheet whose first 20 rows hold the table's required columns (a notes sheet in
    /// front is passed over), else the first sheet.
    #[arg(long, value_name = "NAME|N")]
    pub sheet: Option<String>,
    /// XLSX inputs: refuse a workbook whose parts decompress to more than this many bytes (an
    /// XLSX bomb); suffixes K, M, G (powers of 1024) allowed. Default: 1G. Example:
    /// --max-xlsx-bytes 4G for a national workbook.
    #[arg(long, value_name = "BYTES", default_value = "1G", value_parser = parse_bytes)]
    pub max_xlsx_bytes: u64,
}

impl TableOpts {
    /// The reader's options from the flags.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            encoding: self.encoding,
            sheet: self.sheet.clone(),
            max_xlsx_bytes: self.max_xlsx_bytes,
            ..ReadOptions::default()
        }
    }
}

/// Options every command that reads input rows (and rejects bad ones) shares.
#[derive(Debug, Clone, Args)]
pub struct InputOpts {
    #[command(flatten)]
    pub table: TableOpts,
    /// Stop with an error at the first rejected row instead of writing it to the rejects file.
    #[arg(long)]
    pub strict: bool,
    /// Where to write rejected rows (default: <output stem>.rejects.csv beside the output).
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The byte-order mark of CSV outputs (SPEC §12), shared by every command that writes CSV in a
/// chosen language; the default is [`WriteOptions::csv_bom`]'s.
#[derive(Debug, Clone, Args)]
pub struct BomOpts {
    /// Start CSV output with a UTF-8 byte-order mark. Default: yes with --lang zh (so Excel opens
    /// Chinese text without mojibake), no in English. Example: --lang en --bom.
    #[arg(long, conflicts_with = "no_bom")]
    pub bom: bool,
    /// Leave out the byte-order mark that Chinese CSV output starts with by default. Example:
    /// --lang zh --no-bom (for tools that do not expect one).
    #[arg(long)]
    pub no_bom: bool,
}

impl BomOpts {
    /// Whether CSV output in `lang` starts with a BOM.
    pub fn bom(&self, lang: spotcheck::schema::Lang) -> bool {
        WriteOptions::csv_bom(lang, self.bom, self.no_bom)
    }
}

/// Parses `--lang en|zh`.
pub fn parse_lang(s: &str) -> std::result::Result<spotcheck::schema::Lang, String> {
    spotcheck::schema::Lang::parse(s)
        .ok_or_else(|| format!("{s:?} is not a language: use en or zh"))
}

/// Which credit model predicts the class of enterprises that have none (SPEC §3.1).
#[derive(Debug, Clone, Args)]
pub struct ModelOpts {
    /// Credit model file (default: the shipped models/credit-default.json, built in).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Use no model: enterprises without a class get the policy's missing class.
    #[arg(long, conflicts_with = "model")]
    pub no_model: bool,
}

/// The shipped model, built into the binary so that `score` works from any folder.
const DEFAULT_MODEL: &str = spotcheck::credit::DEFAULT_MODEL_JSON;

impl ModelOpts {
    /// The predictor for a table with `schema`, if any: `--model`, else the built-in default,
    /// unless `--no-model`. A table without the default model's feature columns gets no model
    /// (rows without a class take the policy's default, SPEC §3.1) and a notice on stderr; a
    /// model named with `--model` that does not fit the table is an error naming the columns.
    pub fn load_for(
        &self,
        schema: &arrow::datatypes::SchemaRef,
    ) -> Result<Option<Box<dyn spotcheck::predict::CreditPredictor>>> {
        if self.no_model {
            return Ok(None);
        }
        let model = match &self.model {
            Some(p) => spotcheck::credit::CreditModel::load(p)
                .with_context(|| format!("loading the credit model {}", p.display()))?,
            None => spotcheck::credit::CreditModel::from_json(
                DEFAULT_MODEL,
                "models/credit-default.json (built in)",
            )?,
        };
        if !model.predicts_classes() {
            anyhow::bail!(
                "the credit model predicts good/bad, not the classes A–D: train it with --target credit_class"
            );
        }
        let empty = arrow::array::RecordBatch::new_empty(schema.clone());
        if let Err(e) = model.feature_columns(&empty) {
            if self.model.is_some() {
                return Err(e.into());
            }
            eprintln!(
                "note: the enterprise table lacks the credit model's features ({}); enterprises without a credit class get the policy's default class",
                model.feature_names().join(", ")
            );
            return Ok(None);
        }
        Ok(Some(Box::new(model)))
    }
}

pub(crate) fn parse_encoding(s: &str) -> std::result::Result<Encoding, String> {
    Encoding::parse(s)
        .ok_or_else(|| format!("{s:?} is not an encoding spotcheck reads (utf-8, gb18030)"))
}

/// Parses a byte count: `1073741824`, `512M`, `1G`, `64K` (powers of 1024).
pub fn parse_bytes(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mult: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => {
                    return Err(format!(
                        "{s:?} is not a size: use a number of bytes or K, M, G"
                    ));
                }
            };
            (&t[..i], mult)
        }
        _ => (t, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{s:?} is not a size: use a number of bytes or K, M, G"))
}

impl InputOpts {
    pub fn read_options(&self) -> ReadOptions {
        self.table.read_options()
    }

    pub fn rejects(&self) -> Rejects {
        Rejects::new(self.strict)
    }

    /// The rejects path: `--rejects`, else `<output stem>.rejects.csv` beside `output`.
    pub fn rejects_path(&self, output: &Path) -> PathBuf {
        self.rejects
            .clone()
            .unwrap_or_else(|| default_rejects_path(output))
    }
}

/// `<stem>.rejects.csv` beside `path`.
pub fn default_rejects_path(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "spotcheck".into());
    path.with_file_name(format!("{stem}.rejects.csv"))
}

/// Writes the rejects file (CSV with BOM when it is .csv, so Excel shows the Chinese) and returns
/// its path.
pub fn write_rejects(rejects: &Rejects, path: &Path) -> Result<()> {
    let opts = WriteOptions {
        bom: true,
        sheet: "rejects".into(),
        ..WriteOptions::default()
    };
    rejects
        .write(path, spotcheck::schema::Lang::En, &opts)
        .with_context(|| format!("writing the rejects file {}", path.display()))
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Validate(a) => validate::run(a),
        Command::Score(a) => score::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Whitelist(a) => whitelist::run(a),
        Command::Report(a) => report::run(a),
        Command::Gen(a) => r#gen::run(a),
        Command::Sample(a) => sample::run_sample(a),
        Command::Verify(a) => sample::run_verify(a),
        Command::Results(a) => results::run(a),
        Command::Train(a) => train::run_train(a),
        Command::Evaluate(a) => train::run_evaluate(a),
        #[cfg(feature = "serve")]
        Command::Serve(a) => serve::run(a),
        #[cfg(feature = "serve")]
        Command::Users(a) => users::run(a),
        #[cfg(feature = "datafusion")]
        Command::Sql(a) => sql::run(a),
        #[cfg(feature = "cluster")]
        Command::Cluster(a) => cluster::run(a),
    }
}
