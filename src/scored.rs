//! The score output table (SPEC §3.6) both ways — the edge between the scoring kernels of
//! `score` and the table formats of `table`. `ScoredBatch::to_record_batch` writes the columns
//! of §3.6 in order (English, or Chinese headers, enum values and reason sentences with
//! `Lang::Zh`), then passes the input's unknown columns through. `ScoredTable` reads a scored file
//! back — English or Chinese headers and values, any Arrow types (numbers may arrive as text, text
//! as dictionaries) — into typed `ScoredRows`, which is what sampling, the positive list and the
//! report consume. No file I/O here: callers hand in `RecordBatch`es. (It lived in `score/`
//! before; moved out so that `score/` is pure kernels and reads no table internals.)

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, StringBuilder,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;

use crate::district;
use crate::schema::{
    Col, CreditClass, CreditSource, EmissionBand, EnvRiskLevel, EnvRiskSource, Lang, Mode,
    PermitClass, Tier, bool_label, ent, feat, out, parse_bool,
};
use crate::score::ScoredBatch;
use crate::score::reasons::Reasons;
use crate::table::ReadOptions;
use crate::table::cells::{Memo, Num, NumColumn};
use crate::{Error, Result};

pub use crate::score::labels::{credit_reasons_label, level_label, unknown_level_label};

/// Parses a `credit_reasons` cell in either language back to `;`-joined feature names.
fn parse_credit_reasons(cell: &str) -> String {
    cell.split([';', '；'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            feat::ALL
                .iter()
                .find(|c| c.matches(s))
                .map_or(s, |c| c.name)
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn is_output_or_known(header: &str) -> bool {
    ent::ALL.iter().any(|c| c.matches(header)) || out::ALL.iter().any(|c| c.matches(header))
}

fn utf8_of<'a, I: Iterator<Item = &'a str>>(iter: I) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(iter))
}

/// Numbers as decimal text (what `u32::to_string` gives), without a string per row.
fn decimal_strings(values: &[u32]) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(values.len(), values.len() * 6);
    let mut buf = [0u8; 10];
    for &v in values {
        let mut i = buf.len();
        let mut x = v;
        loop {
            i -= 1;
            buf[i] = b'0' + (x % 10) as u8;
            x /= 10;
            if x == 0 {
                break;
            }
        }
        // Invariant: the buffer holds ASCII digits only.
        b.append_value(std::str::from_utf8(&buf[i..]).unwrap_or_default());
    }
    Arc::new(b.finish())
}

/// The `reasons` column: each row's codes joined (`Reasons::join`), each distinct set of codes
/// joined once per batch (a batch holds a few hundred distinct sets at most).
fn joined_reasons(reasons: &[Reasons], lang: Lang) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(reasons.len(), reasons.len() * 32);
    let mut memo: std::collections::HashMap<
        u32,
        String,
        std::hash::BuildHasherDefault<crate::score::emissions::UsccHasher>,
    > = Default::default();
    for r in reasons {
        let s = memo.entry(r.0).or_insert_with(|| r.join(lang));
        b.append_value(s.as_str());
    }
    Arc::new(b.finish())
}

/// The `env_risk_detail` column: each distinct detail formatted once per batch (a batch holds a
/// few dozen distinct ones: levels × bands × sensitivities), not once per row.
fn details(details: &[Option<crate::score::envrisk::Hj941Detail>]) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(details.len(), details.len() * 40);
    let mut memo: std::collections::HashMap<crate::score::envrisk::Hj941Detail, String> =
        std::collections::HashMap::new();
    for d in details {
        match d {
            Some(d) => {
                let s = memo.entry(*d).or_insert_with(|| d.to_string());
                b.append_value(s.as_str());
            }
            None => b.append_null(),
        }
    }
    Arc::new(b.finish())
}

impl ScoredBatch {
    /// The score output of SPEC §3.6: its columns in order (headers, enum values and reason texts
    /// in `lang`), then the input's columns that are neither enterprise columns of §1.1 nor
    /// output columns, passed through as read. Types: numbers Float64, `*_max_per_year` Int64,
    /// `positive_list` Boolean (English) or 是/否 text (Chinese), everything else Utf8. Every
    /// field is nullable, so batches of one run share one schema.
    pub fn to_record_batch(&self, lang: Lang) -> Result<RecordBatch> {
        let n = self.len();
        let mut fields: Vec<Field> = Vec::with_capacity(out::ALL.len());
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(out::ALL.len());
        let mut push = |col: Col, array: ArrayRef| {
            fields.push(Field::new(
                col.header(lang),
                array.data_type().clone(),
                true,
            ));
            columns.push(array);
        };
        let f64s = |v: &[Option<f64>]| -> ArrayRef { Arc::new(Float64Array::from(v.to_vec())) };
        let counts = |v: &[u8]| -> ArrayRef {
            Arc::new(Int64Array::from_iter_values(v.iter().map(|&x| x as i64)))
        };

        push(out::USCC, Arc::new(self.uscc.clone()));
        push(out::NAME, Arc::new(self.name.clone()));
        push(out::DISTRICT, decimal_strings(&self.district));
        push(out::TIER, utf8_of(self.tier.iter().map(|t| t.label(lang))));
        push(
            out::CREDIT_CLASS,
            utf8_of(self.credit_class.iter().map(|c| c.label(lang))),
        );
        push(
            out::CREDIT_SOURCE,
            utf8_of(self.credit_source.iter().map(|c| c.label(lang))),
        );
        let points: Vec<Option<f64>> = (0..n).map(|i| self.credit_points(i)).collect();
        push(out::CREDIT_POINTS, f64s(&points));
        let mut reasons = StringBuilder::new();
        for i in 0..n {
            if self.credit_source[i] == CreditSource::Model {
                reasons.append_value(credit_reasons_label(self.credit_reasons(i), lang));
            } else {
                reasons.append_null();
            }
        }
        push(out::CREDIT_REASONS, Arc::new(reasons.finish()));
        push(out::PE_AIR, f64s(&self.pe_air));
        push(out::PE_WATER, f64s(&self.pe_water));
        push(out::PE_TOTAL, f64s(&self.pe_total));
        push(out::ENV_TAX_CNY, f64s(&self.env_tax_cny));
        push(
            out::EMISSION_BAND,
            utf8_of(self.emission_band.iter().map(|b| b.label(lang))),
        );
        push(
            out::ENV_RISK_LEVEL,
            utf8_of(self.env_risk_level.iter().map(|l| level_label(*l, lang))),
        );
        push(
            out::ENV_RISK_SOURCE,
            utf8_of(self.env_risk_source.iter().map(|s| s.label(lang))),
        );
        push(out::ENV_RISK_DETAIL, details(&self.env_risk_detail));
        push(
            out::MARKET_RATIO,
            Arc::new(Float64Array::from(self.market_ratio.clone())),
        );
        push(out::MARKET_MAX_PER_YEAR, counts(&self.market_max_per_year));
        push(
            out::ECO_RATIO,
            Arc::new(Float64Array::from(self.eco_ratio.clone())),
        );
        push(out::ECO_MAX_PER_YEAR, counts(&self.eco_max_per_year));
        push(
            out::ECO_MODE,
            utf8_of(self.eco_mode.iter().map(|m| m.label(lang))),
        );
        let listed: ArrayRef = match lang {
            Lang::En => Arc::new(BooleanArray::from(self.positive_list.clone())),
            Lang::Zh => utf8_of(self.positive_list.iter().map(|&b| bool_label(b, lang))),
        };
        push(out::POSITIVE_LIST, listed);
        push(
            out::RISK_SCORE,
            Arc::new(Float64Array::from(self.risk_score.clone())),
        );
        push(out::REASONS, joined_reasons(&self.reasons, lang));
        // After the §3.6 columns: the permit class, which the positive list's cap needs.
        push(
            ent::PERMIT_CLASS,
            Arc::new(StringArray::from_iter(
                self.permit_class.iter().map(|p| p.map(|p| p.label(lang))),
            )),
        );

        let raw_schema = self.raw.schema();
        for (i, f) in raw_schema.fields().iter().enumerate() {
            if !is_output_or_known(f.name()) {
                // Credit features get their Chinese header in Chinese output (the model reads
                // either); other columns pass through as they were named.
                let header = crate::schema::feat::ALL
                    .iter()
                    .find(|c| c.matches(f.name()))
                    .map_or_else(|| f.name().clone(), |c| c.header(lang).to_string());
                fields.push(f.as_ref().clone().with_name(header).with_nullable(true));
                columns.push(self.raw.column(i).clone());
            }
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|source| {
            Error::Arrow {
                path: PathBuf::from("<score output>"),
                source,
            }
        })
    }

    /// The typed rows of this batch, as [`ScoredTable::parse`] reads them back from its output.
    pub fn to_rows(&self) -> ScoredRows {
        let n = self.len();
        ScoredRows {
            row: self.row.clone(),
            uscc: (0..n).map(|i| self.uscc.value(i).to_owned()).collect(),
            name: (0..n).map(|i| self.name.value(i).to_owned()).collect(),
            district: self.district.clone(),
            tier: self.tier.clone(),
            credit_class: self.credit_class.clone(),
            credit_source: self.credit_source.iter().map(|&s| Some(s)).collect(),
            credit_points: (0..n).map(|i| self.credit_points(i)).collect(),
            credit_reasons: (0..n)
                .map(|i| {
                    (self.credit_source[i] == CreditSource::Model)
                        .then(|| self.credit_reasons(i).join(";"))
                })
                .collect(),
            pe_air: self.pe_air.clone(),
            pe_water: self.pe_water.clone(),
            pe_total: self.pe_total.clone(),
            env_tax_cny: self.env_tax_cny.clone(),
            emission_band: self.emission_band.clone(),
            env_risk_level: self.env_risk_level.clone(),
            env_risk_source: self.env_risk_source.iter().map(|&s| Some(s)).collect(),
            env_risk_detail: self
                .env_risk_detail
                .iter()
                .map(|d| d.map(|d| d.to_string()))
                .collect(),
            market_ratio: self.market_ratio.clone(),
            market_max_per_year: self.market_max_per_year.clone(),
            eco_ratio: self.eco_ratio.clone(),
            eco_max_per_year: self.eco_max_per_year.clone(),
            eco_mode: self.eco_mode.clone(),
            positive_list: self.positive_list.clone(),
            risk_score: self.risk_score.clone(),
            reasons: self.reasons.clone(),
            permit_class: self.permit_class.clone(),
        }
    }
}

/// The headers of the input columns a score output passes through (after the §3.6 columns and
/// the permit class), for writers that treat them apart (XLSX writes their numbers as numbers).
pub fn passed_through(schema: &Schema) -> Vec<String> {
    schema
        .fields()
        .iter()
        .skip(out::ALL.len() + 1)
        .map(|f| f.name().clone())
        .collect()
}

/// Typed rows of a scored file (SPEC §3.6), column by column. Optional columns missing from the
/// file read as null (`emission_band` as unknown, `reasons` as none, `eco_mode` from
/// `positive_list`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScoredRows {
    /// 1-based row number in the scored file.
    pub row: Vec<u64>,
    pub uscc: Vec<String>,
    pub name: Vec<String>,
    pub district: Vec<u32>,
    pub tier: Vec<Tier>,
    pub credit_class: Vec<CreditClass>,
    pub credit_source: Vec<Option<CreditSource>>,
    pub credit_points: Vec<Option<f64>>,
    /// `;`-joined feature names (Chinese headers are mapped back).
    pub credit_reasons: Vec<Option<String>>,
    pub pe_air: Vec<Option<f64>>,
    pub pe_water: Vec<Option<f64>>,
    pub pe_total: Vec<Option<f64>>,
    pub env_tax_cny: Vec<Option<f64>>,
    pub emission_band: Vec<EmissionBand>,
    pub env_risk_level: Vec<Option<EnvRiskLevel>>,
    pub env_risk_source: Vec<Option<EnvRiskSource>>,
    pub env_risk_detail: Vec<Option<String>>,
    pub market_ratio: Vec<f64>,
    pub market_max_per_year: Vec<u8>,
    pub eco_ratio: Vec<f64>,
    pub eco_max_per_year: Vec<u8>,
    pub eco_mode: Vec<Mode>,
    pub positive_list: Vec<bool>,
    pub risk_score: Vec<f64>,
    pub reasons: Vec<Reasons>,
    /// 排污许可管理类别, when the scored file carries a `permit_class` column (the §3.6 output does
    /// not; the positive list's `cap_share` needs it).
    pub permit_class: Vec<Option<PermitClass>>,
}

impl ScoredRows {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.uscc.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.uscc.is_empty()
    }

    /// Appends the rows of another batch of the same file.
    pub fn extend(&mut self, other: ScoredRows) {
        macro_rules! ext {
            ($($f:ident),*) => { $( self.$f.extend(other.$f); )* };
        }
        ext!(
            row,
            uscc,
            name,
            district,
            tier,
            credit_class,
            credit_source,
            credit_points,
            credit_reasons,
            pe_air,
            pe_water,
            pe_total,
            env_tax_cny,
            emission_band,
            env_risk_level,
            env_risk_source,
            env_risk_detail,
            market_ratio,
            market_max_per_year,
            eco_ratio,
            eco_max_per_year,
            eco_mode,
            positive_list,
            risk_score,
            reasons,
            permit_class
        );
    }
}

/// Columns a scored file must have (the rest of §3.6 is optional when reading back).
const REQUIRED: &[Col] = &[
    out::USCC,
    out::NAME,
    out::DISTRICT,
    out::TIER,
    out::CREDIT_CLASS,
    out::MARKET_RATIO,
    out::MARKET_MAX_PER_YEAR,
    out::ECO_RATIO,
    out::ECO_MAX_PER_YEAR,
    out::POSITIVE_LIST,
    out::RISK_SCORE,
];

/// Where each §3.6 column sits in a scored file's schema; resolves headers once per file.
#[derive(Debug, Clone)]
pub struct ScoredTable {
    path: PathBuf,
    /// Index in the schema per `out::ALL` column.
    index: Vec<Option<usize>>,
    permit_class: Option<usize>,
}

impl ScoredTable {
    /// `opts` for reading a scored file: its header is the first of the first rows that names
    /// every required column (a title row above it, a notes sheet in front are passed over).
    pub fn read_options(opts: &ReadOptions) -> ReadOptions {
        ReadOptions {
            header: Some(crate::table::layout::header_probe(REQUIRED)),
            ..opts.clone()
        }
    }

    /// Finds the §3.6 columns (English or Chinese headers) in a scored file's schema. `path` is
    /// only used in messages.
    pub fn from_schema(schema: &Schema, path: &Path) -> Result<ScoredTable> {
        let find = |col: &Col| -> Result<Option<usize>> {
            let mut found: Option<usize> = None;
            for (i, f) in schema.fields().iter().enumerate() {
                if col.matches(f.name()) {
                    if let Some(first) = found {
                        return Err(Error::DuplicateColumn {
                            path: path.to_path_buf(),
                            column: col.name.into(),
                            first: schema.field(first).name().clone(),
                            second: f.name().clone(),
                        });
                    }
                    found = Some(i);
                }
            }
            Ok(found)
        };
        let mut index = Vec::with_capacity(out::ALL.len());
        for col in out::ALL {
            let i = find(col)?;
            if i.is_none() && REQUIRED.contains(col) {
                return Err(Error::MissingColumn {
                    path: path.to_path_buf(),
                    column: col.name.into(),
                    aliases: std::iter::once(col.zh)
                        .chain(col.aliases.iter().copied())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            index.push(i);
        }
        Ok(ScoredTable {
            path: path.to_path_buf(),
            index,
            permit_class: find(&ent::PERMIT_CLASS)?,
        })
    }

    fn column<'a>(&self, batch: &'a RecordBatch, col: Col) -> Option<&'a ArrayRef> {
        let k = out::ALL.iter().position(|c| *c == col)?;
        self.index[k].map(|i| batch.column(i))
    }

    fn bad(&self, row: u64, col: Col, value: &str, expected: &str) -> Error {
        Error::BadValue {
            path: self.path.clone(),
            row,
            column: col.name.into(),
            value: value.into(),
            expected: expected.into(),
        }
    }

    fn arrow_err(&self, source: arrow::error::ArrowError) -> Error {
        Error::Arrow {
            path: self.path.clone(),
            source,
        }
    }

    /// A column as text (any Arrow type), or `None` when the file lacks it.
    fn text(&self, batch: &RecordBatch, col: Col) -> Result<Option<StringArray>> {
        let Some(a) = self.column(batch, col) else {
            return Ok(None);
        };
        let c = cast(a.as_ref(), &DataType::Utf8).map_err(|e| self.arrow_err(e))?;
        // `cast` to Utf8 returns a StringArray.
        Ok(c.as_any().downcast_ref::<StringArray>().cloned())
    }

    /// Parses a text column cell by cell; empty cells and nulls are `None`.
    fn parse_text<T>(
        &self,
        batch: &RecordBatch,
        first_row: u64,
        col: Col,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<Vec<Option<T>>>> {
        let Some(a) = self.text(batch, col)? else {
            return Ok(None);
        };
        let mut v = Vec::with_capacity(a.len());
        for i in 0..a.len() {
            if a.is_null(i) || a.value(i).trim().is_empty() {
                v.push(None);
                continue;
            }
            let s = a.value(i);
            match parse(s) {
                Some(x) => v.push(Some(x)),
                None => return Err(self.bad(first_row + i as u64, col, s, expected)),
            }
        }
        Ok(Some(v))
    }

    /// [`ScoredTable::parse_text`] for an enum column: each distinct text is parsed once per batch
    /// (`Memo`), not once per row.
    fn parse_enum<T: Copy>(
        &self,
        batch: &RecordBatch,
        first_row: u64,
        col: Col,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<Vec<Option<T>>>> {
        let memo = std::cell::RefCell::new(Memo::new(parse));
        self.parse_text(batch, first_row, col, expected, |s| {
            memo.borrow_mut().get(s)
        })
    }

    /// A numeric column, read as every input's numbers are (`NumColumn`): cast directly when
    /// numeric (exact), parsed when text; NaN, infinities and text that is no number are errors.
    fn numbers(
        &self,
        batch: &RecordBatch,
        first_row: u64,
        col: Col,
    ) -> Result<Option<Vec<Option<f64>>>> {
        let Some(a) = self.column(batch, col) else {
            return Ok(None);
        };
        let n = NumColumn::new(a, &self.path)?;
        (0..a.len())
            .map(|i| match n.get(i) {
                Num::Null => Ok(None),
                Num::Value(v) => Ok(Some(v)),
                Num::Bad(s) => Err(self.bad(first_row + i as u64, col, s, "a number")),
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// A required column with no null.
    fn required<T>(
        &self,
        v: Option<Vec<Option<T>>>,
        first_row: u64,
        col: Col,
        expected: &str,
    ) -> Result<Vec<T>> {
        // Required columns were checked in `from_schema`; a missing one reads as all-null here.
        let v = v.unwrap_or_default();
        let mut out = Vec::with_capacity(v.len());
        for (i, x) in v.into_iter().enumerate() {
            match x {
                Some(x) => out.push(x),
                None => return Err(self.bad(first_row + i as u64, col, "", expected)),
            }
        }
        Ok(out)
    }

    fn count(&self, v: Vec<f64>, first_row: u64, col: Col) -> Result<Vec<u8>> {
        v.into_iter()
            .enumerate()
            .map(|(i, x)| {
                if x.fract() == 0.0 && (0.0..=255.0).contains(&x) {
                    Ok(x as u8)
                } else {
                    Err(self.bad(
                        first_row + i as u64,
                        col,
                        &x.to_string(),
                        "a whole number of checks between 0 and 255",
                    ))
                }
            })
            .collect()
    }

    fn ratio(&self, v: Vec<f64>, first_row: u64, col: Col) -> Result<Vec<f64>> {
        for (i, x) in v.iter().enumerate() {
            if !(0.0..=1.0).contains(x) {
                return Err(self.bad(
                    first_row + i as u64,
                    col,
                    &x.to_string(),
                    "a ratio between 0 and 1",
                ));
            }
        }
        Ok(v)
    }

    /// Reads one batch of a scored file. `first_row` is the 1-based file row of the batch's first
    /// row (for messages and `ScoredRows::row`).
    pub fn parse(&self, batch: &RecordBatch, first_row: u64) -> Result<ScoredRows> {
        let n = batch.num_rows();
        let fr = first_row;
        let text_col = |col: Col| -> Result<Vec<Option<String>>> {
            Ok(self
                .text(batch, col)?
                .map(|a| {
                    (0..a.len())
                        .map(|i| (!a.is_null(i)).then(|| a.value(i).to_owned()))
                        .collect()
                })
                .unwrap_or_else(|| vec![None; n]))
        };
        let uscc = self.required(
            text_col(out::USCC)?
                .into_iter()
                .map(|s| {
                    s.map(|s| s.trim().to_ascii_uppercase())
                        .filter(|s| !s.is_empty())
                })
                .collect::<Vec<_>>()
                .into(),
            fr,
            out::USCC,
            "a credit code",
        )?;
        let name = text_col(out::NAME)?
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect();
        let district = self.required(
            self.parse_enum(
                batch,
                fr,
                out::DISTRICT,
                district::EXPECTED,
                district::parse,
            )?,
            fr,
            out::DISTRICT,
            district::EXPECTED,
        )?;
        let tier = self.required(
            self.parse_enum(batch, fr, out::TIER, Tier::EXPECTED, Tier::parse)?,
            fr,
            out::TIER,
            Tier::EXPECTED,
        )?;
        let credit_class = self.required(
            self.parse_enum(
                batch,
                fr,
                out::CREDIT_CLASS,
                CreditClass::EXPECTED,
                CreditClass::parse,
            )?,
            fr,
            out::CREDIT_CLASS,
            CreditClass::EXPECTED,
        )?;
        let all_null = |v: Option<Vec<Option<f64>>>| v.unwrap_or_else(|| vec![None; n]);
        let credit_source = self
            .parse_enum(
                batch,
                fr,
                out::CREDIT_SOURCE,
                CreditSource::EXPECTED,
                CreditSource::parse,
            )?
            .unwrap_or_else(|| vec![None; n]);
        let credit_points = all_null(self.numbers(batch, fr, out::CREDIT_POINTS)?);
        let credit_reasons = text_col(out::CREDIT_REASONS)?
            .into_iter()
            .map(|s| s.map(|s| parse_credit_reasons(&s)))
            .collect();
        let pe_air = all_null(self.numbers(batch, fr, out::PE_AIR)?);
        let pe_water = all_null(self.numbers(batch, fr, out::PE_WATER)?);
        let pe_total = all_null(self.numbers(batch, fr, out::PE_TOTAL)?);
        let env_tax_cny = all_null(self.numbers(batch, fr, out::ENV_TAX_CNY)?);
        let emission_band = self
            .parse_enum(
                batch,
                fr,
                out::EMISSION_BAND,
                EmissionBand::EXPECTED,
                EmissionBand::parse,
            )?
            .map(|v| {
                v.into_iter()
                    .map(|b| b.unwrap_or(EmissionBand::Unknown))
                    .collect()
            })
            .unwrap_or_else(|| vec![EmissionBand::Unknown; n]);
        // `unknown` / `未知` is a valid level cell meaning "no level".
        let level_expected =
            "an environmental risk level (general/一般, larger/较大, major/重大, unknown/未知)";
        let env_risk_level = self
            .parse_enum(batch, fr, out::ENV_RISK_LEVEL, level_expected, |s| {
                if EnvRiskSource::parse(s) == Some(EnvRiskSource::Unknown) {
                    Some(None)
                } else {
                    EnvRiskLevel::parse(s).map(Some)
                }
            })?
            .map(|v| v.into_iter().map(Option::flatten).collect())
            .unwrap_or_else(|| vec![None; n]);
        let env_risk_source = self
            .parse_enum(
                batch,
                fr,
                out::ENV_RISK_SOURCE,
                EnvRiskSource::EXPECTED,
                EnvRiskSource::parse,
            )?
            .unwrap_or_else(|| vec![None; n]);
        let env_risk_detail = text_col(out::ENV_RISK_DETAIL)?
            .into_iter()
            .map(|s| s.filter(|s| !s.trim().is_empty()))
            .collect();
        let number = "a number";
        let market_ratio = self.ratio(
            self.required(
                self.numbers(batch, fr, out::MARKET_RATIO)?,
                fr,
                out::MARKET_RATIO,
                number,
            )?,
            fr,
            out::MARKET_RATIO,
        )?;
        let market_max_per_year = self.count(
            self.required(
                self.numbers(batch, fr, out::MARKET_MAX_PER_YEAR)?,
                fr,
                out::MARKET_MAX_PER_YEAR,
                number,
            )?,
            fr,
            out::MARKET_MAX_PER_YEAR,
        )?;
        let eco_ratio = self.ratio(
            self.required(
                self.numbers(batch, fr, out::ECO_RATIO)?,
                fr,
                out::ECO_RATIO,
                number,
            )?,
            fr,
            out::ECO_RATIO,
        )?;
        let eco_max_per_year = self.count(
            self.required(
                self.numbers(batch, fr, out::ECO_MAX_PER_YEAR)?,
                fr,
                out::ECO_MAX_PER_YEAR,
                number,
            )?,
            fr,
            out::ECO_MAX_PER_YEAR,
        )?;
        let bool_expected = "true/false (是/否)";
        let positive_list = match self.column(batch, out::POSITIVE_LIST) {
            Some(a) if a.data_type() == &DataType::Boolean => {
                let b = a.as_any().downcast_ref::<BooleanArray>();
                let v: Vec<Option<bool>> = b.map(|b| b.iter().collect()).unwrap_or_default();
                self.required(Some(v), fr, out::POSITIVE_LIST, bool_expected)?
            }
            _ => self.required(
                self.parse_enum(batch, fr, out::POSITIVE_LIST, bool_expected, parse_bool)?,
                fr,
                out::POSITIVE_LIST,
                bool_expected,
            )?,
        };
        let eco_mode =
            match self.parse_enum(batch, fr, out::ECO_MODE, Mode::EXPECTED, Mode::parse)? {
                Some(v) => v
                    .into_iter()
                    .zip(&positive_list)
                    .map(|(m, &listed)| {
                        m.unwrap_or(if listed { Mode::NonSite } else { Mode::Onsite })
                    })
                    .collect(),
                None => positive_list
                    .iter()
                    .map(|&l| if l { Mode::NonSite } else { Mode::Onsite })
                    .collect(),
            };
        let risk_score = self.required(
            self.numbers(batch, fr, out::RISK_SCORE)?,
            fr,
            out::RISK_SCORE,
            number,
        )?;
        let reasons = match self.text(batch, out::REASONS)? {
            Some(a) => {
                let mut v = Vec::with_capacity(n);
                let mut seen: std::collections::HashMap<&str, Reasons> = Default::default();
                for i in 0..n {
                    if a.is_null(i) {
                        v.push(Reasons::EMPTY);
                        continue;
                    }
                    let cell = a.value(i);
                    if let Some(r) = seen.get(cell) {
                        v.push(*r);
                        continue;
                    }
                    match Reasons::parse(cell) {
                        Ok(r) => {
                            // A batch holds a few hundred distinct sets at most.
                            if seen.len() < 4096 {
                                seen.insert(cell, r);
                            }
                            v.push(r)
                        }
                        Err(item) => {
                            return Err(self.bad(
                                fr + i as u64,
                                out::REASONS,
                                &item,
                                "reason codes of SPEC §3.6 (or their Chinese texts)",
                            ));
                        }
                    }
                }
                v
            }
            None => vec![Reasons::EMPTY; n],
        };
        let permit_class = match self.permit_class {
            Some(i) => {
                let a = cast(batch.column(i).as_ref(), &DataType::Utf8)
                    .map_err(|e| self.arrow_err(e))?;
                let a = a.as_any().downcast_ref::<StringArray>().cloned();
                let mut v = Vec::with_capacity(n);
                let mut memo = Memo::new(PermitClass::parse);
                for j in 0..n {
                    let cell = a
                        .as_ref()
                        .filter(|a| !a.is_null(j))
                        .map(|a| a.value(j).trim())
                        .unwrap_or("");
                    if cell.is_empty() {
                        v.push(None);
                    } else {
                        v.push(Some(memo.get(cell).ok_or_else(|| {
                            self.bad(
                                fr + j as u64,
                                ent::PERMIT_CLASS,
                                cell,
                                PermitClass::EXPECTED,
                            )
                        })?));
                    }
                }
                v
            }
            None => vec![None; n],
        };
        Ok(ScoredRows {
            row: (0..n as u64).map(|i| fr + i).collect(),
            uscc,
            name,
            district,
            tier,
            credit_class,
            credit_source,
            credit_points,
            credit_reasons,
            pe_air,
            pe_water,
            pe_total,
            env_tax_cny,
            emission_band,
            env_risk_level,
            env_risk_source,
            env_risk_detail,
            market_ratio,
            market_max_per_year,
            eco_ratio,
            eco_max_per_year,
            eco_mode,
            positive_list,
            risk_score,
            reasons,
            permit_class,
        })
    }
}

impl ScoredRows {
    /// Reads one batch of a scored file (resolving its headers first); see [`ScoredTable`].
    pub fn from_record_batch(batch: &RecordBatch, path: &Path, first_row: u64) -> Result<Self> {
        ScoredTable::from_schema(batch.schema().as_ref(), path)?.parse(batch, first_row)
    }
}

/// The §3.6 headers in a language, in order (for writers that need them up front).
pub fn headers(lang: Lang) -> Vec<&'static str> {
    out::ALL.iter().map(|c| c.header(lang)).collect()
}
