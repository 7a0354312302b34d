//! The seam between scoring and the credit model (SPEC §3.1): scoring asks a `CreditPredictor` for
//! the class of rows that have none given. The trained scorecard in `credit` implements it; tests
//! may implement it too. A predictor sees the accepted rows as read (all columns), picks its
//! features by name, and answers `None` for a row that lacks a feature it needs.

use arrow::record_batch::RecordBatch;

use crate::Result;
use crate::schema::CreditClass;

/// The model's answer for one enterprise.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditPrediction {
    /// Predicted 信用风险分类.
    pub class: CreditClass,
    /// Scorecard points (higher = lower risk), PDO-scaled.
    pub points: f64,
    /// Up to three features pushing this enterprise towards higher risk, most important first.
    pub reasons: Vec<String>,
}

/// Anything that can predict credit classes for a batch of enterprise rows.
pub trait CreditPredictor: Send + Sync {
    /// One answer per row of `raw`; `None` where the row lacks a feature the model needs.
    fn predict_batch(&self, raw: &RecordBatch) -> Result<Vec<Option<CreditPrediction>>>;
}
