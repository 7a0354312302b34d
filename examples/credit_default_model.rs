//! Trains the shipped credit model `models/credit-default.json` and writes its model card
//! `models/README.md`, from a table made by `spotcheck gen` (any format spotcheck reads).
//!
//! Usage: `cargo run --example credit_default_model -- DATA [OUT_DIR]` (OUT_DIR defaults to
//! `models`). The target is `credit_class`; the features are the credit features of SPEC §1.1
//! that the table has; holdout 30 %, seed 42, every other parameter at its default. The model
//! records the SHA-256 of DATA's bytes, so the card and the file name the data exactly.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use spotcheck::credit::model::Metrics;
use spotcheck::credit::{CreditModel, FeatureSelection, TrainParams, TrainReport, train};
use spotcheck::schema::{Lang, feat};
use spotcheck::table::{ReadOptions, open, sha256_file};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (data, out) = match args.as_slice() {
        [_, d] => (PathBuf::from(d), PathBuf::from("models")),
        [_, d, o] => (PathBuf::from(d), PathBuf::from(o)),
        _ => bail!("usage: credit_default_model DATA [OUT_DIR]"),
    };
    let batches = open(&data, &ReadOptions::default())
        .with_context(|| format!("open {}", data.display()))?
        .read_all()?;
    let Some(first) = batches.first() else {
        bail!("{}: no rows", data.display());
    };
    let features: Vec<String> = feat::ALL
        .iter()
        .filter(|c| first.schema().fields().iter().any(|f| c.matches(f.name())))
        .map(|c| c.name.to_string())
        .collect();
    if features.is_empty() {
        bail!(
            "{}: none of the credit features of SPEC §1.1",
            data.display()
        );
    }
    // The shipped model keeps its holdout out of the fit (it predates refitting by default).
    let params = TrainParams::new("credit_class")
        .refit(false)
        .features(FeatureSelection::Include(features))
        .holdout(0.3)
        .seed(42)
        .data_sha256(sha256_file(&data)?)
        .check()?;
    let (model, report) = train(&batches, &params)?;
    std::fs::create_dir_all(&out)?;
    model.save(out.join("credit-default.json"))?;
    std::fs::write(out.join("README.md"), card(&model, &report, &data))?;
    print!("{report}");
    Ok(())
}

fn metrics_rows(name: &str, m: &Metrics, s: &mut String) {
    let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.3}"));
    let _ = writeln!(
        s,
        "| {name} | {} | {} | {} | {} | {} | {} | {} |",
        m.rows,
        m.bads,
        f(m.auc),
        f(m.ks),
        f(m.gini),
        f(m.accuracy),
        f(m.within_one)
    );
}

fn card(model: &CreditModel, report: &TrainReport, data: &Path) -> String {
    let spec = model.spec();
    let t = &spec.training;
    let mut s = String::new();
    let _ = writeln!(s, "# Model card: `credit-default.json`\n");
    let _ = writeln!(
        s,
        "The credit-class scorecard `spotcheck score` uses for enterprises whose 信用风险分类 is \
         not given (SPEC §3.1). A WoE scorecard: each feature binned, a cumulative-logit \
         (proportional-odds) logistic regression on the WoE values fitted with linfa, points \
         scaled to {} at A/B : C/D odds of {}:1 with PDO {}, and class cut-offs on the points \
         fitted to maximise training accuracy.\n",
        spec.scaling.points, spec.scaling.odds, spec.scaling.pdo
    );
    let _ = writeln!(s, "## Data\n");
    let _ = writeln!(
        s,
        "- `{}`, made by `spotcheck gen` (synthetic Beijing enterprises; SPEC §7), SHA-256 \
         `{}`.",
        data.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        t.data_sha256
    );
    let _ = writeln!(
        s,
        "- {} rows read, {} with a class; {} trained on, {} held out (stratified by class, seed {}).",
        t.rows_read, t.rows_labelled, t.train_rows, t.holdout_rows, t.seed
    );
    let _ = writeln!(
        s,
        "- Made with `cargo run --example credit_default_model -- {}` (spotcheck {}). The same \
         command on the same file rebuilds the same bytes.\n",
        data.display(),
        spec.spotcheck_version
    );
    let _ = writeln!(s, "## Features\n");
    let _ = writeln!(s, "| feature | 中文 | kind | IV | coefficient | bins |");
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for f in &spec.features {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {:.3} | {:.3} | {} |",
            f.name,
            spotcheck::credit::feature_label(&f.name, Lang::Zh),
            format!("{:?}", f.kind).to_lowercase(),
            f.iv,
            f.coefficient,
            f.bins.len()
        );
    }
    let dropped: Vec<String> = report
        .features
        .iter()
        .filter(|f| f.status != spotcheck::credit::report::FeatureStatus::Used)
        .map(|f| format!("`{}` ({:?})", f.name, f.status))
        .collect();
    if !dropped.is_empty() {
        let _ = writeln!(s, "\nLeft out: {}.", dropped.join(", "));
    }
    let _ = writeln!(s, "\n## Metrics\n");
    let _ = writeln!(
        s,
        "AUC, KS and Gini are for C/D against A/B on the points; accuracy is the share of \
         exact classes, within-one the share at most one class off.\n"
    );
    let _ = writeln!(
        s,
        "| set | rows | C/D | AUC | KS | Gini | accuracy | within one |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    metrics_rows("train", &spec.metrics.train, &mut s);
    if let Some(h) = &spec.metrics.holdout {
        metrics_rows("holdout", h, &mut s);
        if let Some(c) = &h.confusion {
            let _ = writeln!(
                s,
                "\nHoldout confusion matrix:\n\n```\n{}```",
                c.to_text(Lang::En)
            );
        }
    }
    if let [a, b, c] = spec.cutoffs.as_slice() {
        let _ = writeln!(
            s,
            "\nCut-offs: A ≥ {a} > B ≥ {b} > C ≥ {c} > D points; base points {}.",
            spec.base_points
        );
    }
    let _ = writeln!(s, "\n## Limits\n");
    let _ = writeln!(
        s,
        "- Trained on synthetic data: it shows how the engine works, not how a bureau's \
         enterprises behave. Its numbers say how well it recovers the generator's rule, nothing \
         about real credit risk.\n\
         - The real SAMR classification uses indicators spotcheck does not see; a predicted class \
         is an estimate for enterprises without one, never a replacement for the published class.\n\
         - Categories unseen in training score 0 points for that feature (the population's odds); \
         a value that cannot be read (text in a numeric column) leaves the class to the policy's \
         default.\n\
         - Watch the population: `spotcheck evaluate --psi-against` gives the PSI of the points \
         and of each feature; above 0.25, retrain.\n"
    );
    let _ = writeln!(s, "## Retraining on a bureau's own history\n");
    let _ = writeln!(
        s,
        "Export last month's enterprises with their published 信用风险分类 and the credit \
         features, then:\n\n```\nspotcheck train history.xlsx --target 信用风险分类 -o \
         models/credit-bureau.json\nspotcheck evaluate next-month.xlsx --model \
         models/credit-bureau.json --target 信用风险分类\n```\n\nand score with `--model \
         models/credit-bureau.json`. Keep the model file with the data's SHA-256 it records."
    );
    let _ = writeln!(
        s,
        "\n`spotcheck train` measures on the holdout, then by default refits the saved model on \
         every labelled row (the file records `\"refit\": true` and `train_rows` counts them \
         all); `--no-refit` saves the model fitted without the holdout, as this shipped model \
         was.\n\n## Learning from inspection results\n\n`spotcheck results … --labels-out \
         labels.csv` gives each inspected enterprise its scored row, `violation` (0/1) and \
         `design_weight` = 1/π. The sample is risk-targeted, so an unweighted model learns the \
         sample; weighted, it learns the population:\n\n```\nspotcheck train labels.csv \
         --target violation --weight design_weight --exclude department -o \
         models/violation.json\n```\n\nWith `--weight COL` the weights (scaled to mean 1) \
         multiply each row's good/bad counts in the bins, the WoE and the IV, and its \
         log-likelihood in the logistic regression, which is then fitted by Newton's method \
         (linfa has no row weights; with weights of 1 both agree to 1e-3). Minimum bin sizes, \
         the class cut-offs and the printed metrics stay counts of rows. The model file \
         records `weight_column`."
    );
    s
}
