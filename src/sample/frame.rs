//! `SampleFrame`: the sampling frame (抽查对象名录库) a draw reads, one unit per scored enterprise,
//! column by column like `EnterpriseBatch`. The CLI fills it from a scored table (SPEC §3.6); the
//! sampler needs the code, district and tier (strata), and per department the ratio and the yearly
//! maximum; name, credit class and risk score ride along for the output rows. Codes must be
//! unique, as the readers guarantee (§2.1 `USCC_DUPLICATE`); the draw still refuses two eligible
//! units with the same code. Names are kept in the pieces they were read in (`Names`): only the
//! drawn units' names are ever looked at.

use arrow::array::{Array, StringArray};

use crate::schema::{CreditClass, Department, Tier};
use crate::{Error, Result};

/// One unit, row-wise: what `SampleFrame::from_units` takes (tests, vectors, small frames).
#[derive(Debug, Clone, PartialEq)]
pub struct FrameUnit {
    /// 统一社会信用代码, upper-cased.
    pub uscc: String,
    /// 企业名称.
    pub name: String,
    /// 所属区, 6-digit code.
    pub district: u32,
    /// 企业梯度.
    pub tier: Tier,
    /// 信用风险分类 (as scored).
    pub credit_class: Option<CreditClass>,
    /// 市场监管抽查比例, in [0, 1].
    pub market_ratio: f64,
    /// 市场监管年度抽查上限.
    pub market_max_per_year: u32,
    /// 生态环境现场检查比例, in [0, 1] (0 for 正面清单 enterprises).
    pub eco_ratio: f64,
    /// 生态环境年度现场检查上限.
    pub eco_max_per_year: u32,
    /// 综合风险分.
    pub risk_score: Option<f64>,
}

/// The frame's names, kept in the pieces they were read in (one per record batch, so a
/// national frame's names are never copied into one array); only drawn units' names are looked
/// up.
#[derive(Debug, Clone, Default)]
pub struct Names {
    parts: Vec<StringArray>,
    /// Index of the first name of each part.
    starts: Vec<usize>,
    len: usize,
}

impl Names {
    /// Adds the names of the next rows.
    pub fn push(&mut self, part: StringArray) {
        if part.is_empty() {
            return;
        }
        self.starts.push(self.len);
        self.len += part.len();
        self.parts.push(part);
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no name.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Name `i`, trimmed; empty when null.
    ///
    /// # Panics
    /// When `i` is not below `len()`, like indexing.
    pub fn get(&self, i: usize) -> &str {
        assert!(i < self.len, "name {i} of {}", self.len);
        let p = self.starts.partition_point(|&s| s <= i) - 1;
        let a = &self.parts[p];
        let j = i - self.starts[p];
        if a.is_null(j) { "" } else { a.value(j).trim() }
    }
}

impl Names {
    /// The names whose `keep` is true (`keep` has one flag per name).
    pub fn filter(&self, keep: &[bool]) -> std::result::Result<Names, arrow::error::ArrowError> {
        let mut out = Names::default();
        for (part, &start) in self.parts.iter().zip(&self.starts) {
            let flags = keep.get(start..start + part.len()).unwrap_or_default();
            let mask = arrow::array::BooleanArray::from(flags.to_vec());
            let kept = arrow::compute::filter(part, &mask)?;
            out.push(arrow::array::AsArray::as_string::<i32>(&kept).clone());
        }
        Ok(out)
    }
}

impl<'a> FromIterator<Option<&'a str>> for Names {
    fn from_iter<I: IntoIterator<Item = Option<&'a str>>>(iter: I) -> Names {
        Names::from(iter.into_iter().collect::<StringArray>())
    }
}

impl From<StringArray> for Names {
    fn from(a: StringArray) -> Names {
        let mut n = Names::default();
        n.push(a);
        n
    }
}

/// The sampling frame, column by column; every column has `len()` entries.
#[derive(Debug, Clone)]
pub struct SampleFrame {
    /// 统一社会信用代码, upper-cased, no nulls, unique.
    pub uscc: StringArray,
    /// 企业名称 as in the file (null reads as empty; [`SampleFrame::name`] trims).
    pub name: Names,
    /// 所属区 as its 6-digit code.
    pub district: Vec<u32>,
    pub tier: Vec<Tier>,
    pub credit_class: Vec<Option<CreditClass>>,
    pub market_ratio: Vec<f64>,
    pub market_max_per_year: Vec<u32>,
    pub eco_ratio: Vec<f64>,
    pub eco_max_per_year: Vec<u32>,
    pub risk_score: Vec<Option<f64>>,
}

impl SampleFrame {
    /// Builds a frame from rows.
    pub fn from_units(units: &[FrameUnit]) -> SampleFrame {
        SampleFrame {
            uscc: units.iter().map(|u| Some(u.uscc.as_str())).collect(),
            name: units.iter().map(|u| Some(u.name.as_str())).collect(),
            district: units.iter().map(|u| u.district).collect(),
            tier: units.iter().map(|u| u.tier).collect(),
            credit_class: units.iter().map(|u| u.credit_class).collect(),
            market_ratio: units.iter().map(|u| u.market_ratio).collect(),
            market_max_per_year: units.iter().map(|u| u.market_max_per_year).collect(),
            eco_ratio: units.iter().map(|u| u.eco_ratio).collect(),
            eco_max_per_year: units.iter().map(|u| u.eco_max_per_year).collect(),
            risk_score: units.iter().map(|u| u.risk_score).collect(),
        }
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.district.len()
    }

    /// Whether the frame has no unit.
    pub fn is_empty(&self) -> bool {
        self.district.is_empty()
    }

    /// The code of unit `i`.
    #[inline]
    pub fn uscc(&self, i: usize) -> &str {
        self.uscc.value(i)
    }

    /// The name of unit `i`, trimmed (empty when null). Names are kept as the file has them
    /// and trimmed here: only the drawn units' names are ever looked at.
    pub fn name(&self, i: usize) -> &str {
        self.name.get(i)
    }

    /// Unit `i`'s ratio for a department.
    #[inline]
    pub fn ratio(&self, i: usize, d: Department) -> f64 {
        match d {
            Department::Market => self.market_ratio[i],
            Department::Ecology => self.eco_ratio[i],
        }
    }

    /// Unit `i`'s yearly maximum of on-site inspections for a department.
    #[inline]
    pub fn max_per_year(&self, i: usize, d: Department) -> u32 {
        match d {
            Department::Market => self.market_max_per_year[i],
            Department::Ecology => self.eco_max_per_year[i],
        }
    }

    /// Unit `i` as a row.
    pub fn unit(&self, i: usize) -> FrameUnit {
        FrameUnit {
            uscc: self.uscc(i).to_owned(),
            name: self.name(i).to_owned(),
            district: self.district[i],
            tier: self.tier[i],
            credit_class: self.credit_class[i],
            market_ratio: self.market_ratio[i],
            market_max_per_year: self.market_max_per_year[i],
            eco_ratio: self.eco_ratio[i],
            eco_max_per_year: self.eco_max_per_year[i],
            risk_score: self.risk_score[i],
        }
    }

    /// Checks what the draw relies on: equal column lengths, codes present, ratios in [0, 1],
    /// 6-digit districts. The first problem in frame order is reported.
    pub fn validate(&self) -> Result<()> {
        let n = self.len();
        if u32::try_from(n).is_err() {
            return Err(frame_error(
                "",
                "uscc",
                format!("{n} units"),
                "a frame of at most 4294967295 units",
            ));
        }
        let lengths = [
            ("uscc", self.uscc.len()),
            ("name", self.name.len()),
            ("tier", self.tier.len()),
            ("credit_class", self.credit_class.len()),
            ("market_ratio", self.market_ratio.len()),
            ("market_max_per_year", self.market_max_per_year.len()),
            ("eco_ratio", self.eco_ratio.len()),
            ("eco_max_per_year", self.eco_max_per_year.len()),
            ("risk_score", self.risk_score.len()),
        ];
        for (column, len) in lengths {
            if len != n {
                return Err(frame_error(
                    "",
                    column,
                    format!("{len} values for {n} units"),
                    "one value per unit",
                ));
            }
        }
        for i in 0..n {
            if self.uscc.is_null(i) || self.uscc(i).is_empty() {
                return Err(frame_error(
                    "",
                    "uscc",
                    format!("an empty code at unit {}", i + 1),
                    "a unified social credit code",
                ));
            }
            for (column, r) in [
                ("market_ratio", self.market_ratio[i]),
                ("eco_ratio", self.eco_ratio[i]),
            ] {
                if !(0.0..=1.0).contains(&r) {
                    return Err(frame_error(
                        self.uscc(i),
                        column,
                        r.to_string(),
                        "a ratio between 0 and 1",
                    ));
                }
            }
            if !(100_000..=999_999).contains(&self.district[i]) {
                return Err(frame_error(
                    self.uscc(i),
                    "district",
                    self.district[i].to_string(),
                    "a 6-digit district code",
                ));
            }
        }
        Ok(())
    }
}

/// An `Error::SampleInput` about an enterprise of the frame.
pub(crate) fn frame_error(
    uscc: &str,
    field: &'static str,
    value: String,
    expected: &'static str,
) -> Error {
    Error::SampleInput {
        what: "enterprise",
        id: uscc.to_owned(),
        field,
        value,
        expected,
    }
}
