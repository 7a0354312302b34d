//! What `train`, `evaluate` and `psi` report, and how the reports read on a terminal
//! (`to_text(Lang::En | Lang::Zh)`; `Display` is the English text). Plain data: the CLI may also
//! serialise them.

use std::fmt;

use serde::Serialize;

use super::frame::FeatureKind;
use super::metrics::PsiBand;
use super::model::{Metrics, ModelMetrics, TargetKind, TargetSpec, feature_label};
use crate::schema::Lang;

/// What became of a candidate feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureStatus {
    /// In the model.
    Used,
    /// Auto-chosen but its IV is under the minimum.
    LowIv,
    /// Its coefficient came out ≥ 0 (reversed, or no effect once the other features are in).
    Reversed,
    /// One value only.
    Constant,
    /// An identifier column (统一社会信用代码, 企业名称): never a feature unless listed explicitly.
    Identifier,
    /// Text with this many distinct values: an identifier.
    TooManyLevels(usize),
    /// A column type that cannot be read as text.
    Unreadable(String),
}

impl FeatureStatus {
    fn text(&self, lang: Lang) -> String {
        match (self, lang) {
            (FeatureStatus::Used, Lang::En) => "used".into(),
            (FeatureStatus::Used, Lang::Zh) => "入模".into(),
            (FeatureStatus::LowIv, Lang::En) => "dropped: IV under the minimum".into(),
            (FeatureStatus::LowIv, Lang::Zh) => "剔除: IV 低于下限".into(),
            (FeatureStatus::Reversed, Lang::En) => {
                "dropped: coefficient reversed or null next to the other features".into()
            }
            (FeatureStatus::Reversed, Lang::Zh) => "剔除: 系数方向相反或为零".into(),
            (FeatureStatus::Identifier, Lang::En) => "skipped: identifier".into(),
            (FeatureStatus::Identifier, Lang::Zh) => "跳过: 标识列".into(),
            (FeatureStatus::Constant, Lang::En) => "skipped: one value only".into(),
            (FeatureStatus::Constant, Lang::Zh) => "跳过: 只有一个取值".into(),
            (FeatureStatus::TooManyLevels(n), Lang::En) => {
                format!("skipped: {n} distinct text values (an identifier?)")
            }
            (FeatureStatus::TooManyLevels(n), Lang::Zh) => {
                format!("跳过: {n} 个不同取值(疑似标识列)")
            }
            (FeatureStatus::Unreadable(t), Lang::En) => format!("skipped: type {t} not readable"),
            (FeatureStatus::Unreadable(t), Lang::Zh) => format!("跳过: 类型 {t} 无法读取"),
        }
    }
}

/// One candidate feature in the training report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureReport {
    pub name: String,
    pub kind: Option<FeatureKind>,
    pub status: FeatureStatus,
    /// IV on the training rows, when binned.
    pub iv: Option<f64>,
    /// Number of bins (with the missing bin), 0 when not binned.
    pub bins: usize,
    /// Logistic coefficient, when fitted.
    pub coefficient: Option<f64>,
}

impl FeatureReport {
    pub(crate) fn skipped(name: &str, status: FeatureStatus) -> Self {
        FeatureReport {
            name: name.to_string(),
            kind: None,
            status,
            iv: None,
            bins: 0,
            coefficient: None,
        }
    }
}

/// The report of `train`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainReport {
    pub target: TargetSpec,
    pub rows_read: u64,
    pub rows_labelled: u64,
    pub train_rows: u64,
    pub holdout_rows: u64,
    /// Every candidate feature: used ones first, by IV.
    pub features: Vec<FeatureReport>,
    pub base_points: f64,
    pub cutoffs: Vec<f64>,
    pub metrics: ModelMetrics,
    pub data_sha256: String,
}

fn opt(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "-".to_string(), |v| format!("{v:.digits$}"))
}

fn metrics_text(m: &Metrics, lang: Lang, out: &mut String) {
    let zh = lang == Lang::Zh;
    out.push_str(&format!(
        "  {} {}  {} {}  AUC {}  KS {}  Gini {}\n",
        if zh { "行数" } else { "rows" },
        m.rows,
        if zh { "坏样本" } else { "bads" },
        m.bads,
        opt(m.auc, 4),
        opt(m.ks, 4),
        opt(m.gini, 4)
    ));
    if let Some(c) = &m.confusion {
        out.push_str(&format!(
            "  {} {}  {} {}\n",
            if zh { "准确率" } else { "accuracy" },
            opt(m.accuracy, 4),
            if zh {
                "相差不超过一类"
            } else {
                "within one class"
            },
            opt(m.within_one, 4)
        ));
        for line in c.to_text(lang).lines() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
    }
}

impl TrainReport {
    /// The report as terminal text.
    pub fn to_text(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        let mut s = String::new();
        let kind = match (&self.target.kind, zh) {
            (TargetKind::Classes, false) => "credit classes A-D (cumulative logit)".to_string(),
            (TargetKind::Classes, true) => "信用风险分类 A-D (累积 logit)".to_string(),
            (TargetKind::Binary { bad }, false) => format!("binary, bad = {bad:?}"),
            (TargetKind::Binary { bad }, true) => format!("二分类, 坏 = {bad:?}"),
        };
        s.push_str(&format!(
            "{} {:?}: {kind}\n",
            if zh { "目标" } else { "target" },
            self.target.column
        ));
        s.push_str(&format!(
            "{} {}, {} {}, {} {}, {} {}\n",
            if zh { "读入" } else { "rows read" },
            self.rows_read,
            if zh { "有标签" } else { "labelled" },
            self.rows_labelled,
            if zh { "训练" } else { "train" },
            self.train_rows,
            if zh { "留出" } else { "holdout" },
            self.holdout_rows
        ));
        s.push_str(&format!(
            "{}\n",
            if zh {
                "特征 (IV, 分箱数, 系数):"
            } else {
                "features (IV, bins, coefficient):"
            }
        ));
        for f in &self.features {
            s.push_str(&format!(
                "  {:<28} {:>8} {:>4} {:>9}  {}\n",
                feature_label(&f.name, lang),
                opt(f.iv, 4),
                f.bins,
                opt(f.coefficient, 4),
                f.status.text(lang)
            ));
        }
        s.push_str(&format!(
            "{} {:.3}",
            if zh { "基础分" } else { "base points" },
            self.base_points
        ));
        if let [a, b, c] = self.cutoffs.as_slice() {
            s.push_str(&format!(
                "; {} A >= {a:.3} > B >= {b:.3} > C >= {c:.3} > D",
                if zh { "分类切点" } else { "cut-offs" }
            ));
        }
        s.push('\n');
        s.push_str(if zh { "训练集:\n" } else { "train:\n" });
        metrics_text(&self.metrics.train, lang, &mut s);
        if let Some(h) = &self.metrics.holdout {
            s.push_str(if zh { "留出集:\n" } else { "holdout:\n" });
            metrics_text(h, lang, &mut s);
        }
        s.push_str(&format!(
            "{} sha256 {}\n",
            if zh { "训练数据" } else { "training data" },
            self.data_sha256
        ));
        s
    }
}

impl fmt::Display for TrainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text(Lang::En))
    }
}

/// One feature in the evaluation report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalFeature {
    pub name: String,
    /// IV on the training rows (from the model file).
    pub iv_train: f64,
    /// IV on the evaluated rows, with the model's bins.
    pub iv: f64,
    /// Evaluated rows with a category unseen in training.
    pub unseen: u64,
}

/// The report of `evaluate`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    pub target: String,
    /// Whether the model predicts classes (accuracy and confusion matrix are then filled).
    pub classes: bool,
    pub rows_read: u64,
    /// Rows with a value the model cannot read.
    pub rows_unscorable: u64,
    /// Rows with an empty target.
    pub rows_without_target: u64,
    pub metrics: Metrics,
    pub features: Vec<EvalFeature>,
}

impl EvalReport {
    /// The report as terminal text.
    pub fn to_text(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        let mut s = String::new();
        s.push_str(&format!(
            "{} {}, {} {}, {} {}\n",
            if zh { "读入" } else { "rows read" },
            self.rows_read,
            if zh { "无法评分" } else { "unscorable" },
            self.rows_unscorable,
            if zh { "无目标值" } else { "without target" },
            self.rows_without_target
        ));
        metrics_text(&self.metrics, lang, &mut s);
        s.push_str(if zh {
            "特征 IV (训练 → 本表), 未见类别行数:\n"
        } else {
            "feature IV (train -> this table), rows with unseen categories:\n"
        });
        for f in &self.features {
            s.push_str(&format!(
                "  {:<28} {:>8.4} -> {:>8.4} {:>6}\n",
                feature_label(&f.name, lang),
                f.iv_train,
                f.iv,
                f.unseen
            ));
        }
        s
    }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text(Lang::En))
    }
}

/// PSI of one distribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PsiLine {
    /// `points`, or a feature name.
    pub name: String,
    /// `None` when one side has no rows.
    pub psi: Option<f64>,
    pub band: Option<PsiBand>,
    /// (bin label, expected share, actual share).
    pub bins: Vec<(String, f64, f64)>,
}

/// The report of `psi`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PsiReport {
    pub expected_rows: u64,
    pub actual_rows: u64,
    pub score: PsiLine,
    pub features: Vec<PsiLine>,
}

impl PsiReport {
    /// The report as terminal text.
    pub fn to_text(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        let mut s = format!(
            "PSI ({} {} → {} {}; <0.1 {}, 0.1-0.25 {}, >=0.25 {})\n",
            if zh { "基准" } else { "expected" },
            self.expected_rows,
            if zh { "实际" } else { "actual" },
            self.actual_rows,
            PsiBand::Stable.label(lang),
            PsiBand::Moderate.label(lang),
            PsiBand::Shift.label(lang),
        );
        for l in std::iter::once(&self.score).chain(&self.features) {
            let name = if l.name == "points" && std::ptr::eq(l, &self.score) {
                if zh {
                    "评分".to_string()
                } else {
                    "points".to_string()
                }
            } else {
                feature_label(&l.name, lang)
            };
            s.push_str(&format!(
                "  {:<28} {:>8}  {}\n",
                name,
                opt(l.psi, 4),
                l.band.map_or("-", |b| b.label(lang))
            ));
        }
        s
    }
}

impl fmt::Display for PsiReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text(Lang::En))
    }
}
