//! spotcheck: a differentiated-supervision (差异化监管) engine.
//!
//! The pipeline runs one way: tables are read (`table`) and validated into typed batches (`input`,
//! with every bad row in the rejects file), scored (`score`: credit class, pollution equivalents,
//! HJ 941 environmental risk, market and ecology inspection ratios, 正面清单 eligibility and reasons),
//! then sampled (`sample`: the 双随机 draw of SPEC §4, re-derivable from the published seed) or kept
//! as the positive list (`whitelist`). `credit` trains and applies the credit-class scorecard;
//! `gen` makes a synthetic Beijing for tests and benchmarks. The library never prints or exits:
//! the `spotcheck` binary does that.

pub mod credit;
pub mod date;
pub mod district;
pub mod error;
/// Synthetic data (SPEC §7). `gen` is a reserved word in Rust 2024, hence the raw identifier.
pub mod r#gen;
pub mod input;
pub mod policy;
pub mod predict;
pub mod report;
pub mod results;
pub mod sample;
pub mod schema;
pub mod score;
pub mod scored;
pub mod scoring;
#[cfg(feature = "serve")]
pub mod serve;
/// SQL over table files with DataFusion, and the Ballista cluster (SPEC §11).
#[cfg(feature = "datafusion")]
pub mod sql;
pub mod table;
pub mod uscc;
pub mod whitelist;

pub use error::{Error, Result};
