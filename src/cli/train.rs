//! `spotcheck train`: fits a credit-class scorecard (SPEC §6) on any labelled table and writes the
//! model file; `spotcheck evaluate` measures a model on another table and the population's drift.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use spotcheck::credit::{
    CreditModel, FeatureSelection, Monotonic, Scaling, TrainParams, evaluate, psi, train,
};
use spotcheck::schema::Lang;
use spotcheck::table::{ReadOptions, open, sha256_file};

use super::{InputOpts, parse_lang};

/// Train a credit-class scorecard: WoE binning, logistic regression, PDO points, class cut-offs.
///
/// The target is binary (two values; --bad names the bad one when it is not obvious) or the
/// ordinal classes A < B < C < D (also A类 … or 信用风险低 …). Features are detected from the data
/// (numeric or categorical; missing values get their own bin) unless --features or --exclude say
/// otherwise. A share --holdout of the rows (default 0.3, stratified, chosen by --seed) is kept
/// out of training and measured; then the saved model is refitted on every labelled row (the
/// holdout's figures describe how well this way of fitting does on unseen rows); --no-refit saves
/// the model fitted without the holdout instead. Points: 600 at odds 50:1, 20 points to double
/// the odds.
///
/// --weight COL gives each row a weight (e.g. design_weight = 1/π from `spotcheck results
/// --labels-out`, so that a model trained on inspected units learns the whole population, not the
/// risk-targeted sample): the weights, scaled to mean 1, multiply each row's good/bad counts in
/// the bins, WoE and IV, and its log-likelihood in the logistic fit (Newton's method). Bin
/// minimum sizes, the class cut-offs and the reported metrics stay unweighted (of the rows).
///
/// Example: spotcheck train history.xlsx --target 信用风险分类 -o models/credit-bureau.json
///
/// Example: spotcheck train labels.csv --target violation --weight design_weight --exclude
/// department,credit_class -o models/violation.json
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The labelled table (any format).
    pub data: PathBuf,
    /// The target column (English or Chinese header).
    #[arg(long)]
    pub target: String,
    /// Use exactly these feature columns (comma-separated).
    #[arg(long, value_delimiter = ',', conflicts_with = "exclude")]
    pub features: Vec<String>,
    /// Detect features automatically, but not these (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// The bad value of a binary target.
    #[arg(long)]
    pub bad: Option<String>,
    /// Share of rows held out for measurement (0 = none).
    #[arg(long, default_value_t = 0.3)]
    pub holdout: f64,
    /// Seed of the holdout split.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// A column of row weights > 0 (e.g. design_weight from `spotcheck results --labels-out`);
    /// it is never a feature. Default: none (every row weighs 1).
    #[arg(long, value_name = "COL")]
    pub weight: Option<String>,
    /// Save the model fitted without the holdout rows, instead of refitting it on every
    /// labelled row after measuring (the default).
    #[arg(long)]
    pub no_refit: bool,
    /// Merge numeric bins to a monotonic event-rate trend: auto (default) or none.
    #[arg(long, default_value = "auto", value_parser = parse_monotonic)]
    pub monotonic: Monotonic,
    /// Scorecard points at the anchor odds.
    #[arg(long, default_value_t = 600.0)]
    pub points: f64,
    /// Good:bad anchor odds.
    #[arg(long, default_value_t = 50.0)]
    pub odds: f64,
    /// Points to double the odds.
    #[arg(long, default_value_t = 20.0)]
    pub pdo: f64,
    /// The model file to write (JSON).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Language of the report: en (default) or zh.
    #[arg(long, default_value = "en", value_parser = parse_lang)]
    pub lang: Lang,
    #[command(flatten)]
    pub input: InputOpts,
}

fn parse_monotonic(s: &str) -> std::result::Result<Monotonic, String> {
    Monotonic::parse(s).ok_or_else(|| format!("{s:?}: use auto or none"))
}

fn read(path: &std::path::Path, opts: &ReadOptions) -> Result<Vec<arrow::array::RecordBatch>> {
    open(path, opts)
        .and_then(|r| r.read_all())
        .context("reading")
}

pub fn run_train(a: TrainArgs) -> Result<ExitCode> {
    let opts = a.input.read_options();
    let batches = read(&a.data, &opts)?;
    let features = if !a.features.is_empty() {
        FeatureSelection::Include(a.features.clone())
    } else if !a.exclude.is_empty() {
        FeatureSelection::Exclude(a.exclude.clone())
    } else {
        FeatureSelection::Auto
    };
    let mut params = TrainParams::new(a.target.clone())
        .features(features)
        .holdout(a.holdout)
        .seed(a.seed)
        .monotonic(a.monotonic)
        .scaling(Scaling {
            points: a.points,
            odds: a.odds,
            pdo: a.pdo,
        })
        .refit(!a.no_refit)
        .data_sha256(sha256_file(&a.data)?);
    if let Some(b) = &a.bad {
        params = params.bad(b.clone());
    }
    if let Some(w) = &a.weight {
        params = params.weight(w.clone());
    }
    let params = params.check()?;
    let progress = super::progress::Progress::new(a.input.quiet, "training", None);
    let (model, report) = train(&batches, &params)?;
    progress.finish();
    model
        .save(&a.output)
        .with_context(|| format!("writing {}", a.output.display()))?;
    print!("{}", report.to_text(a.lang));
    let t = &model.spec().training;
    if let Some(w) = &t.weight_column {
        println!("rows weighted by {w} (scaled to mean 1) in the bins, WoE, IV and the fit");
    }
    if t.refit {
        println!(
            "saved model refitted on all {} labelled rows after measuring the {} holdout rows (--no-refit keeps them out)",
            t.train_rows, t.holdout_rows
        );
    } else if t.holdout_rows > 0 {
        println!(
            "saved model fitted on {} rows; the {} holdout rows are not in it (--no-refit)",
            t.train_rows, t.holdout_rows
        );
    }
    println!("model → {}", a.output.display());
    Ok(ExitCode::SUCCESS)
}

/// Measure a credit model on a labelled table, and the population's stability (PSI).
///
/// Prints AUC, KS and Gini (binary, or C/D against A/B for classes), accuracy and the confusion
/// matrix for classes, and IV per feature. With --psi-against OTHER, also the population
/// stability index of the points and of each feature between DATA and OTHER (below 0.1 stable,
/// 0.1–0.25 watch, above 0.25 retrain).
///
/// Example: spotcheck evaluate next-month.csv --model models/credit-default.json --target
/// credit_class --psi-against last-month.csv
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The labelled table to measure on.
    pub data: PathBuf,
    /// The model file.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// The target column.
    #[arg(long)]
    pub target: String,
    /// Another table (e.g. the training data) to compare populations with.
    #[arg(long, value_name = "FILE")]
    pub psi_against: Option<PathBuf>,
    /// Language of the report: en (default) or zh.
    #[arg(long, default_value = "en", value_parser = parse_lang)]
    pub lang: Lang,
    #[command(flatten)]
    pub input: InputOpts,
}

pub fn run_evaluate(a: EvaluateArgs) -> Result<ExitCode> {
    let opts = a.input.read_options();
    let model = CreditModel::load(&a.model)?;
    let batches = read(&a.data, &opts)?;
    let report = evaluate(&model, &batches, &a.target)?;
    print!("{}", report.to_text(a.lang));
    if let Some(other) = &a.psi_against {
        let expected = read(other, &opts)?;
        let p = psi(&model, &expected, &batches)?;
        print!("{}", p.to_text(a.lang));
    }
    Ok(ExitCode::SUCCESS)
}
