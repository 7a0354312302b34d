//! The credit classification model (信用风险分类模型, SPEC §6): a WoE scorecard trained on any
//! labelled table and applied to enterprises without a given class (SPEC §3.1).
//!
//! Pipeline: `frame` reads Arrow columns (any type) as cells → `binning` bins each feature
//! (quantile pre-bins, minimum size, monotonic trend; missing values in their own bin) → `woe`
//! gives WoE and IV → `logistic` fits linfa's logistic regression on the WoE values (a cumulative
//! logit with one shared slope per feature for classes A–D) → `scorecard` turns it into PDO-scaled
//! points, class cut-offs (fitted to maximise training accuracy) and reason codes → `model` holds
//! the result, writes and reads the JSON model file and scores rows (`CreditPredictor`) →
//! `metrics` measures AUC, KS, Gini, accuracy and PSI. Entry points for the CLI: [`train`],
//! [`evaluate`], [`psi`], [`CreditModel::load`] / [`CreditModel::save`].
//!
//! ```
//! use std::sync::Arc;
//! use arrow::array::{ArrayRef, Int64Array, StringArray};
//! use arrow::record_batch::RecordBatch;
//! use spotcheck::credit::{train, TrainParams};
//!
//! // Penalties 0..=3 and the class they lead to (more penalties, worse class).
//! let pen: Vec<i64> = (0..400).map(|i| i % 4).collect();
//! let class: Vec<&str> = (0..400)
//!     .map(|i| ["A", "B", "C", "D"][(i % 4 + (i / 4) % 2).min(3) as usize])
//!     .collect();
//! let batch = RecordBatch::try_from_iter([
//!     ("admin_penalties_3y", Arc::new(Int64Array::from(pen)) as ArrayRef),
//!     ("credit_class", Arc::new(StringArray::from(class)) as ArrayRef),
//! ])?;
//! let params = TrainParams::new("credit_class").holdout(0.0).min_bin_share(0.01).check()?;
//! let (model, report) = train(&[batch], &params)?;
//! assert_eq!(model.feature_names(), ["admin_penalties_3y"]);
//! assert!(report.metrics.train.auc.unwrap() > 0.8);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod binning;
pub mod evaluate;
pub mod frame;
pub mod logistic;
pub mod metrics;
pub mod model;
pub mod params;
pub mod report;
pub mod scorecard;
pub mod target;
pub mod train;
pub mod woe;

pub use evaluate::{evaluate, psi};
pub use frame::FeatureKind;
pub use metrics::{Confusion, PsiBand};
pub use model::{CreditModel, ModelSpec, Scored, TargetKind, feature_label};
pub use params::{FeatureSelection, Monotonic, Scaling, TrainParams, ValidTrainParams};
pub use report::{EvalReport, PsiReport, TrainReport};
pub use train::train;

/// The shipped credit model (models/credit-default.json), built in so that scoring works from any
/// folder and in the console.
pub const DEFAULT_MODEL_JSON: &str = include_str!("../../models/credit-default.json");

#[cfg(test)]
mod tests;
