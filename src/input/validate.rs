//! Reading the enterprise table (SPEC §1.1) into `EnterpriseBatch`es: header matching, one typed
//! parse per cell, and the rules of SPEC §2 — a malformed code, a bad value or a missing required
//! value rejects the row (first failing column recorded), a wrong check character keeps it
//! flagged, a repeated code rejects the later row. Every row read is either in a batch or in the
//! rejects: `read = accepted + rejected`.
//!
//! Validation has two halves so that both cores can work (SPEC §8): `parse_batch` parses every
//! cell of a batch (pure; batches in parallel), `ParsedBatch::dedup_with` then sends the failed
//! rows to the rejects and rejects repeated codes, in file order, against a compact `CodeSet` of
//! the codes seen (filled a round of batches at a time). The result is the same as row by row.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, StringBuilder};
use arrow::compute::filter_record_batch;

use super::enterprise::{EnterpriseBatch, Hj941Input, reason};
use crate::schema::{self, Col, CreditClass, EnvRiskLevel, PermitClass, Sensitivity, Tier, ent};
use crate::table::cells::{BoolColumn, EnumColumn, Memo, Num, NumColumn, TextColumn};
use crate::table::codes::{CodeSet, check_key};
use crate::table::{ColumnMap, Prefetch, ReadOptions, Reject, Rejects, TableReader};
use crate::{Error, Result, district};

/// Row counts of one input file (SPEC §2.2: `read = accepted + rejected`). Blank rows and
/// total rows (`合计`, `总计`, `小计`) are not read rows: they are `skipped` (SPEC §12), so the rows
/// below the header are `read + skipped`. Manifests record `skipped` only when it is not zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// Accepted rows flagged `USCC_CHECKSUM`.
    pub flagged: u64,
    /// Blank and total rows passed over (not read, not rejected).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped: u64,
    /// The file row that held the header, when it was not the first (a title row above it).
    #[serde(default, skip_serializing_if = "is_first")]
    pub header_row: u64,
    /// The 1-based number of the XLSX sheet read, when it was not the first (found as the first
    /// sheet with the required columns, or named with `--sheet`).
    #[serde(default, skip_serializing_if = "is_first")]
    pub sheet: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_first(n: &u64) -> bool {
    *n <= 1
}

impl Counts {
    /// `read N = accepted A + rejected R`, and `; skipped S blank or total rows` when any were.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "read {} = accepted {} + rejected {}",
            self.read, self.accepted, self.rejected
        );
        if self.skipped > 0 {
            s.push_str(&format!(
                "; skipped {} blank or total row{}",
                self.skipped,
                if self.skipped == 1 { "" } else { "s" }
            ));
        }
        match (self.header_row > 1, self.sheet > 1) {
            (true, true) => s.push_str(&format!(
                "; header found on row {} of sheet {}",
                self.header_row, self.sheet
            )),
            (true, false) => s.push_str(&format!("; header found on row {}", self.header_row)),
            (false, true) => s.push_str(&format!("; read sheet {}", self.sheet)),
            (false, false) => {}
        }
        s
    }

    /// Records where the table was found (header row, sheet).
    pub fn set_layout(&mut self, layout: &crate::table::Layout) {
        self.header_row = layout.header_row;
        self.sheet = layout.sheet_index;
    }
}

/// A cell problem found while parsing a row: the column, the value and the reason.
pub(crate) struct CellError {
    pub col: usize,
    pub value: String,
    pub reason: &'static str,
    pub detail: String,
}

/// Where the raw batches come from: read on demand, or read ahead on another thread.
enum Source {
    Direct(Box<TableReader>),
    Ahead(Prefetch),
}

impl Source {
    fn next(&mut self) -> Option<Result<crate::table::Numbered>> {
        match self {
            Source::Direct(r) => r.next_numbered(),
            Source::Ahead(r) => r.next_numbered(),
        }
    }

    fn skipped(&self) -> u64 {
        match self {
            Source::Direct(r) => r.skipped().rows(),
            Source::Ahead(r) => r.skipped().rows(),
        }
    }

    fn layout(&self) -> &crate::table::Layout {
        match self {
            Source::Direct(r) => r.layout(),
            Source::Ahead(r) => r.layout(),
        }
    }

    fn schema(&self) -> arrow::datatypes::SchemaRef {
        match self {
            Source::Direct(r) => r.schema(),
            Source::Ahead(r) => r.schema(),
        }
    }

    fn path(&self) -> &Path {
        match self {
            Source::Direct(r) => r.path(),
            Source::Ahead(r) => r.path(),
        }
    }
}

/// Streams an enterprise table as validated batches.
pub struct EnterpriseReader {
    reader: Source,
    map: ColumnMap,
    file: String,
    seen: CodeSet,
    counts: Counts,
}

impl EnterpriseReader {
    /// Opens and checks the header (missing required column → error naming it).
    pub fn open(path: &Path, opts: &ReadOptions) -> Result<Self> {
        // Parquet enum columns are read as dictionaries: each distinct value parsed once.
        let enums: crate::table::read::ColumnFilter = std::sync::Arc::new(|h: &str| {
            [
                &ent::DISTRICT,
                &ent::TIER,
                &ent::CREDIT_CLASS,
                &ent::PERMIT_CLASS,
                &ent::ENV_RISK_LEVEL,
                &ent::AIR_E,
                &ent::WATER_E,
            ]
            .iter()
            .any(|c| c.matches(h))
        });
        let opts = ReadOptions {
            dictionary: Some(enums),
            header: Some(crate::table::layout::header_probe(ent::REQUIRED)),
            ..opts.clone()
        };
        let reader = crate::table::open(path, &opts)?;
        let map = ColumnMap::resolve(&reader.schema(), ent::ALL, ent::REQUIRED, path)?;
        let mut counts = Counts::default();
        counts.set_layout(reader.layout());
        Ok(EnterpriseReader {
            reader: Source::Direct(Box::new(reader)),
            map,
            file: path.display().to_string(),
            seen: CodeSet::new(),
            counts,
        })
    }

    /// The table's columns, as read.
    pub fn schema(&self) -> arrow::datatypes::SchemaRef {
        self.reader.schema()
    }

    /// Where the table was found in its file (sheet, header row), for the command's output.
    pub fn layout(&self) -> &crate::table::Layout {
        self.reader.layout()
    }

    /// Reads the file ahead on another thread, `depth` raw batches at most (see [`Prefetch`]).
    /// The codes accepted so far (upper-cased): every code of a row read without rejection.
    pub fn accepted_codes(&self) -> &CodeSet {
        &self.seen
    }

    pub fn prefetch(self, depth: usize) -> Self {
        let reader = match self.reader {
            Source::Direct(r) => Source::Ahead(Prefetch::new(*r, depth)),
            ahead => ahead,
        };
        EnterpriseReader { reader, ..self }
    }

    /// Up to `max` next batches, their cells parsed in parallel (rayon) and their codes checked
    /// against the earlier rows in file order: the same batches, rejects and counts as that many
    /// calls of [`EnterpriseReader::next_batch`]. Empty at the end of the file.
    pub fn next_batches(
        &mut self,
        max: usize,
        rejects: &mut Rejects,
    ) -> Result<Vec<EnterpriseBatch>> {
        use rayon::prelude::*;
        let mut raws = Vec::with_capacity(max);
        while raws.len() < max.max(1) {
            let Some(raw) = self.reader.next().transpose()? else {
                break;
            };
            raws.push((raw.batch, raw.first_row));
        }
        let path = self.reader.path().to_path_buf();
        let parsed: Vec<ParsedBatch> = raws
            .par_iter()
            .map(|(raw, first)| parse_batch(raw, &self.map, *first, &path))
            .collect::<Result<_>>()?;
        // Codes of the whole round into the set at once (same answers as row by row).
        let codes: Vec<[u8; 18]> = parsed.iter().flat_map(|p| p.codes().copied()).collect();
        let new = self.seen.insert_many(&codes);
        let mut out = Vec::with_capacity(parsed.len());
        let mut at = 0;
        for p in parsed {
            let n = p.raw_rows() as u64;
            let k = p.codes().count();
            let batch = p.dedup_with(&self.file, &path, &new[at..at + k], rejects)?;
            at += k;
            self.count(n, &batch);
            out.push(batch);
        }
        self.counts.skipped = self.reader.skipped();
        Ok(out)
    }

    fn count(&mut self, raw_rows: u64, batch: &EnterpriseBatch) {
        self.counts.read += raw_rows;
        self.counts.accepted += batch.len() as u64;
        self.counts.rejected += raw_rows - batch.len() as u64;
        self.counts.flagged += batch.uscc_checksum_bad.iter().filter(|b| **b).count() as u64;
    }

    /// Counts so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Whether the table has `pe_air` or `pe_water` columns (ignored when emissions are given).
    pub fn has_pe_columns(&self) -> bool {
        self.map.get(&ent::PE_AIR).is_some() || self.map.get(&ent::PE_WATER).is_some()
    }

    /// An empty batch with this table's columns (for writing the header of an empty output).
    pub fn empty_batch(&mut self) -> Result<EnterpriseBatch> {
        let raw = RecordBatch::new_empty(self.reader.schema());
        let mut rejects = Rejects::new(false);
        validate_batch(
            &raw,
            &self.map,
            1,
            &self.file,
            self.reader.path(),
            &mut self.seen,
            &mut rejects,
        )
    }

    /// The columns of the file that spotcheck does not know (passed through).
    pub fn unknown_columns(&self) -> Vec<String> {
        let s = self.reader.schema();
        self.map
            .unknown()
            .iter()
            .map(|&i| s.field(i).name().clone())
            .collect()
    }

    /// The next batch of accepted rows (rejections go to `rejects`); `None` at the end.
    pub fn next_batch(&mut self, rejects: &mut Rejects) -> Result<Option<EnterpriseBatch>> {
        let Some(raw) = self.reader.next().transpose()? else {
            self.counts.skipped = self.reader.skipped();
            return Ok(None);
        };
        self.counts.skipped = self.reader.skipped();
        let first_row = raw.first_row;
        let raw = raw.batch;
        let batch = validate_batch(
            &raw,
            &self.map,
            first_row,
            &self.file,
            self.reader.path(),
            &mut self.seen,
            rejects,
        )?;
        self.count(raw.num_rows() as u64, &batch);
        Ok(Some(batch))
    }
}

/// Parses an optional enum cell (dictionary values once each, text through a memo of the
/// column's distinct texts).
fn enum_cell<T: Copy, F: FnMut(&str) -> Option<T>>(
    t: &Option<EnumColumn<T>>,
    memo: &mut Memo<T, F>,
    i: usize,
    col: Option<usize>,
    reason: &'static str,
    expected: &str,
) -> std::result::Result<Option<T>, CellError> {
    let (Some(t), Some(col)) = (t, col) else {
        return Ok(None);
    };
    match t.get(i, memo) {
        None => Ok(None),
        Some(Ok(v)) => Ok(Some(v)),
        Some(Err(s)) => Err(CellError {
            col,
            value: s.to_string(),
            reason,
            detail: format!("expected {expected}"),
        }),
    }
}

/// A required enum cell; missing → `VALUE_MISSING`.
fn required_enum<T: Copy, F: FnMut(&str) -> Option<T>>(
    t: &Option<EnumColumn<T>>,
    memo: &mut Memo<T, F>,
    i: usize,
    col: Option<usize>,
    c: &Col,
    reason: &'static str,
    expected: &str,
) -> std::result::Result<T, CellError> {
    enum_cell(t, memo, i, col, reason, expected)?.ok_or_else(|| CellError {
        col: col.unwrap_or(0),
        value: String::new(),
        reason: reason::VALUE_MISSING,
        detail: format!("column {:?} is required and may not be empty", c.name),
    })
}

/// Parses an optional boolean cell (Arrow booleans directly, text through the memo).
fn bool_cell(
    b: &Option<BoolColumn>,
    memo: &mut Memo<bool, impl FnMut(&str) -> Option<bool>>,
    i: usize,
    col: Option<usize>,
) -> std::result::Result<Option<bool>, CellError> {
    let (Some(b), Some(col)) = (b, col) else {
        return Ok(None);
    };
    match b {
        BoolColumn::Bool(a) => Ok((!a.is_null(i)).then(|| a.value(i))),
        BoolColumn::Text(t) => match t.get(i) {
            None => Ok(None),
            Some(s) => memo.get(s).map(Some).ok_or_else(|| CellError {
                col,
                value: s.to_string(),
                reason: reason::BOOL_INVALID,
                detail: "expected true/false/1/0/yes/no/是/否".into(),
            }),
        },
    }
}

/// A required text cell (trimmed); missing → `VALUE_MISSING`.
fn required<'a>(
    tc: &'a Option<TextColumn>,
    i: usize,
    col: Option<usize>,
    c: &Col,
) -> std::result::Result<&'a str, CellError> {
    match tc.as_ref().and_then(|t| t.get(i)) {
        Some(s) => Ok(s),
        None => Err(CellError {
            col: col.unwrap_or(0),
            value: String::new(),
            reason: reason::VALUE_MISSING,
            detail: format!("column {:?} is required and may not be empty", c.name),
        }),
    }
}

/// Parses an optional non-negative number cell.
pub(crate) fn num_cell(
    n: &Option<NumColumn>,
    i: usize,
    col: Option<usize>,
) -> std::result::Result<Option<f64>, CellError> {
    let (Some(n), Some(col)) = (n, col) else {
        return Ok(None);
    };
    match n.get(i) {
        Num::Null => Ok(None),
        Num::Value(v) if v >= 0.0 => Ok(Some(v)),
        Num::Value(v) => Err(CellError {
            col,
            value: v.to_string(),
            reason: reason::NUMBER_NEGATIVE,
            detail: "expected a number ≥ 0".into(),
        }),
        Num::Bad(s) => Err(CellError {
            col,
            value: s.to_string(),
            reason: reason::NUMBER_INVALID,
            detail: "expected a number".into(),
        }),
    }
}

/// Parses an optional count (a whole number ≥ 0).
fn count_cell(
    n: &Option<NumColumn>,
    i: usize,
    col: Option<usize>,
) -> std::result::Result<Option<u32>, CellError> {
    match num_cell(n, i, col)? {
        None => Ok(None),
        Some(v) if v.fract() == 0.0 && v <= f64::from(u32::MAX) => Ok(Some(v as u32)),
        Some(v) => Err(CellError {
            col: col.unwrap_or(0),
            value: v.to_string(),
            reason: reason::INTEGER_INVALID,
            detail: "expected a whole number ≥ 0".into(),
        }),
    }
}

fn text_col(raw: &RecordBatch, idx: Option<usize>, path: &Path) -> Result<Option<TextColumn>> {
    idx.map(|i| TextColumn::new(raw.column(i), path))
        .transpose()
}

fn num_col(raw: &RecordBatch, idx: Option<usize>, path: &Path) -> Result<Option<NumColumn>> {
    idx.map(|i| NumColumn::new(raw.column(i), path)).transpose()
}

fn bool_col(raw: &RecordBatch, idx: Option<usize>, path: &Path) -> Result<Option<BoolColumn>> {
    idx.map(|i| BoolColumn::new(raw.column(i), path))
        .transpose()
}

/// One raw batch with every cell parsed but codes not yet checked against earlier rows: the
/// first, pure half of [`validate_batch`], which can run on several batches in parallel. Finish it
/// in file order with [`ParsedBatch::dedup`].
pub struct ParsedBatch {
    raw: RecordBatch,
    first_row: u64,
    /// Column of the credit code in `raw`.
    uscc_col: usize,
    /// Rows whose cells parse, as (index in `raw`, upper-cased code), in row order.
    ok: Vec<(u32, [u8; 18])>,
    /// Rows that failed, as (index in `raw`, the first failing cell), in row order.
    errors: Vec<(u32, CellError)>,
    out: EnterpriseBatchBuilder,
    /// Whether the column-by-column fast path parsed it (tests check that it was taken).
    #[cfg(test)]
    by_columns: bool,
}

/// A row that parsed: its index in the raw batch and its upper-cased code.
type RowCode = (u32, [u8; 18]);

/// Parses every cell of one raw batch whose first row has 1-based number `first_row` (SPEC §1.1,
/// §2): a malformed code, a bad value or a missing required value fails the row (first failing
/// column recorded). Pure: no rejects are written and no code is remembered yet.
pub fn parse_batch(
    raw: &RecordBatch,
    map: &ColumnMap,
    first_row: u64,
    path: &Path,
) -> Result<ParsedBatch> {
    parse_batch_with(raw, map, first_row, path, true)
}

/// [`parse_batch`]; `try_fast` = false skips the column-by-column fast path (tests compare the
/// two).
fn parse_batch_with(
    raw: &RecordBatch,
    map: &ColumnMap,
    first_row: u64,
    path: &Path,
    try_fast: bool,
) -> Result<ParsedBatch> {
    let n = raw.num_rows();
    let ix = |c: &Col| map.get(c);
    let t = |c: &Col| text_col(raw, ix(c), path);
    let nm = |c: &Col| num_col(raw, ix(c), path);
    let uscc_t = t(&ent::USCC)?;
    let name_t = t(&ent::NAME)?;
    let industry_t = t(&ent::INDUSTRY)?;
    // Enum columns hold a handful of distinct texts: each is normalised once per batch (once
    // per dictionary value when the column was read as a dictionary).
    let mut district_m = Memo::new(district::parse);
    let mut tier_m = Memo::new(Tier::parse);
    let mut credit_m = Memo::new(CreditClass::parse);
    let mut permit_m = Memo::new(PermitClass::parse);
    let mut level_m = Memo::new(EnvRiskLevel::parse);
    let mut air_e_m = Memo::new(Sensitivity::parse);
    let mut water_e_m = Memo::new(Sensitivity::parse);
    let mut serious_m = Memo::new(schema::parse_bool);
    let mut online_m = Memo::new(schema::parse_bool);
    fn en<T: Copy, F: FnMut(&str) -> Option<T>>(
        raw: &RecordBatch,
        idx: Option<usize>,
        path: &Path,
        memo: &mut Memo<T, F>,
    ) -> Result<Option<EnumColumn<T>>> {
        idx.map(|i| EnumColumn::new(raw.column(i), path, memo))
            .transpose()
    }
    let district_t = en(raw, ix(&ent::DISTRICT), path, &mut district_m)?;
    let tier_t = en(raw, ix(&ent::TIER), path, &mut tier_m)?;
    let credit_t = en(raw, ix(&ent::CREDIT_CLASS), path, &mut credit_m)?;
    let permit_t = en(raw, ix(&ent::PERMIT_CLASS), path, &mut permit_m)?;
    let level_t = en(raw, ix(&ent::ENV_RISK_LEVEL), path, &mut level_m)?;
    let air_e_t = en(raw, ix(&ent::AIR_E), path, &mut air_e_m)?;
    let water_e_t = en(raw, ix(&ent::WATER_E), path, &mut water_e_m)?;
    let serious_b = bool_col(raw, ix(&ent::ENV_SERIOUS_VIOLATION_36M), path)?;
    let online_b = bool_col(raw, ix(&ent::ONLINE_MONITORING), path)?;
    let pe_air_n = nm(&ent::PE_AIR)?;
    let pe_water_n = nm(&ent::PE_WATER)?;
    let air_q_n = nm(&ent::AIR_Q)?;
    let air_m_n = nm(&ent::AIR_M)?;
    let water_q_n = nm(&ent::WATER_Q)?;
    let water_m_n = nm(&ent::WATER_M)?;
    let pen_n = nm(&ent::ENV_PENALTIES_24M)?;
    let inc_n = nm(&ent::ENV_INCIDENTS_24M)?;
    let [c_uscc, c_name, c_district, c_tier] =
        [&ent::USCC, &ent::NAME, &ent::DISTRICT, &ent::TIER].map(&ix);
    let [c_credit, c_permit, c_level, c_air_e, c_water_e] = [
        &ent::CREDIT_CLASS,
        &ent::PERMIT_CLASS,
        &ent::ENV_RISK_LEVEL,
        &ent::AIR_E,
        &ent::WATER_E,
    ]
    .map(&ix);
    let [c_serious, c_online] = [&ent::ENV_SERIOUS_VIOLATION_36M, &ent::ONLINE_MONITORING].map(&ix);
    let [
        c_pe_air,
        c_pe_water,
        c_air_q,
        c_air_m,
        c_water_q,
        c_water_m,
        c_pen,
        c_inc,
    ] = [
        &ent::PE_AIR,
        &ent::PE_WATER,
        &ent::AIR_Q,
        &ent::AIR_M,
        &ent::WATER_Q,
        &ent::WATER_M,
        &ent::ENV_PENALTIES_24M,
        &ent::ENV_INCIDENTS_24M,
    ]
    .map(&ix);

    // Fast path: every cell of the batch valid (the usual case), parsed column by column in tight
    // loops. The first cell that would fail sends the whole batch to the row-by-row path below,
    // which finds each failing row's first bad cell; so both paths give the same batch.
    let fast = try_fast.then(|| -> Option<(EnterpriseBatchBuilder, Vec<RowCode>)> {
        let mut out = EnterpriseBatchBuilder::with_capacity(n);
        let mut ok = Vec::with_capacity(n);
        c_uscc?;
        let ut = uscc_t.as_ref()?;
        for i in 0..n {
            let (code, bad_sum) = check_key(ut.get(i)?)?;
            // Invariant: check_key returns bytes from the code character set, which are ASCII.
            out.uscc
                .append_value(std::str::from_utf8(&code).unwrap_or_default());
            out.bad_sum.push(bad_sum);
            ok.push((i as u32, code));
        }
        c_name?;
        let nt = name_t.as_ref()?;
        for i in 0..n {
            out.name.append_value(nt.get(i)?);
        }
        fn all<T: Copy, F: FnMut(&str) -> Option<T>>(
            t: &Option<EnumColumn<T>>,
            col: Option<usize>,
            memo: &mut Memo<T, F>,
            n: usize,
            required: bool,
        ) -> Option<Vec<Option<T>>> {
            let (Some(t), Some(_)) = (t, col) else {
                return (!required).then(|| vec![None; n]);
            };
            (0..n)
                .map(|i| match t.get(i, memo) {
                    None if required => None,
                    None => Some(None),
                    Some(Ok(v)) => Some(Some(v)),
                    Some(Err(_)) => None,
                })
                .collect()
        }
        let district = all(&district_t, c_district, &mut district_m, n, true)?;
        out.district = district.into_iter().flatten().collect();
        let tier = all(&tier_t, c_tier, &mut tier_m, n, true)?;
        out.tier = tier.into_iter().flatten().collect();
        out.credit = all(&credit_t, c_credit, &mut credit_m, n, false)?;
        out.permit = all(&permit_t, c_permit, &mut permit_m, n, false)?;
        out.level = all(&level_t, c_level, &mut level_m, n, false)?;
        let air_e = all(&air_e_t, c_air_e, &mut air_e_m, n, false)?;
        let water_e = all(&water_e_t, c_water_e, &mut water_e_m, n, false)?;
        fn bools(
            b: &Option<BoolColumn>,
            col: Option<usize>,
            memo: &mut Memo<bool, impl FnMut(&str) -> Option<bool>>,
            n: usize,
        ) -> Option<Vec<Option<bool>>> {
            (0..n).map(|i| bool_cell(b, memo, i, col).ok()).collect()
        }
        out.serious = bools(&serious_b, c_serious, &mut serious_m, n)?;
        out.online = bools(&online_b, c_online, &mut online_m, n)?;
        fn nums(c: &Option<NumColumn>, col: Option<usize>, n: usize) -> Option<Vec<Option<f64>>> {
            match (c, col) {
                (Some(NumColumn::Float(a)), Some(_)) => {
                    // As `num_cell`: NaN, infinities and negative numbers fail.
                    if a.iter()
                        .any(|x| x.is_some_and(|x| !x.is_finite() || x < 0.0))
                    {
                        return None;
                    }
                    Some(a.iter().collect())
                }
                _ => (0..n).map(|i| num_cell(c, i, col).ok()).collect(),
            }
        }
        fn counts(c: &Option<NumColumn>, col: Option<usize>, n: usize) -> Option<Vec<Option<u32>>> {
            match (c, col) {
                (Some(NumColumn::Float(a)), Some(_)) => a
                    .iter()
                    .map(|x| match x {
                        None => Some(None),
                        // As `count_cell`: a whole number ≥ 0 that fits.
                        Some(v) if v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) => {
                            Some(Some(v as u32))
                        }
                        Some(_) => None,
                    })
                    .collect(),
                _ => (0..n).map(|i| count_cell(c, i, col).ok()).collect(),
            }
        }
        out.pe_air = nums(&pe_air_n, c_pe_air, n)?;
        out.pe_water = nums(&pe_water_n, c_pe_water, n)?;
        let air_q = nums(&air_q_n, c_air_q, n)?;
        let air_m = nums(&air_m_n, c_air_m, n)?;
        let water_q = nums(&water_q_n, c_water_q, n)?;
        let water_m = nums(&water_m_n, c_water_m, n)?;
        out.pen = counts(&pen_n, c_pen, n)?;
        out.inc = counts(&inc_n, c_inc, n)?;
        out.air = (0..n)
            .map(|i| Hj941Input {
                q: air_q[i],
                m: air_m[i],
                e: air_e[i],
            })
            .collect();
        out.water = (0..n)
            .map(|i| Hj941Input {
                q: water_q[i],
                m: water_m[i],
                e: water_e[i],
            })
            .collect();
        out.row = (0..n as u64).map(|i| first_row + i).collect();
        for i in 0..n {
            match industry_t.as_ref().and_then(|t| t.get(i)) {
                Some(s) => out.industry.append_value(s),
                None => out.industry.append_null(),
            }
        }
        Some((out, ok))
    });
    if let Some(Some((out, ok))) = fast {
        return Ok(ParsedBatch {
            raw: raw.clone(),
            first_row,
            uscc_col: c_uscc.unwrap_or(0),
            ok,
            errors: Vec::new(),
            out,
            #[cfg(test)]
            by_columns: true,
        });
    }

    let mut out = EnterpriseBatchBuilder::with_capacity(n);
    let mut ok = Vec::with_capacity(n);
    let mut errors = Vec::new();
    for i in 0..n {
        let parsed = (|| -> std::result::Result<[u8; 18], CellError> {
            let code_raw = required(&uscc_t, i, c_uscc, &ent::USCC)?;
            let Some((code, bad_sum)) = check_key(code_raw) else {
                return Err(CellError {
                    col: c_uscc.unwrap_or(0),
                    value: code_raw.to_string(),
                    reason: reason::USCC_MALFORMED,
                    detail: "expected 18 characters from 0-9 and A-Y without I, O, S, V, Z (GB 32100-2015)".into(),
                });
            };
            let name = required(&name_t, i, c_name, &ent::NAME)?;
            let district = required_enum(
                &district_t,
                &mut district_m,
                i,
                c_district,
                &ent::DISTRICT,
                reason::DISTRICT_UNKNOWN,
                district::EXPECTED,
            )?;
            let tier = required_enum(
                &tier_t,
                &mut tier_m,
                i,
                c_tier,
                &ent::TIER,
                reason::TIER_UNKNOWN,
                Tier::EXPECTED,
            )?;
            let credit = enum_cell(
                &credit_t,
                &mut credit_m,
                i,
                c_credit,
                reason::CREDIT_CLASS_INVALID,
                CreditClass::EXPECTED,
            )?;
            let permit = enum_cell(
                &permit_t,
                &mut permit_m,
                i,
                c_permit,
                reason::PERMIT_CLASS_INVALID,
                PermitClass::EXPECTED,
            )?;
            let level = enum_cell(
                &level_t,
                &mut level_m,
                i,
                c_level,
                reason::ENV_RISK_LEVEL_INVALID,
                EnvRiskLevel::EXPECTED,
            )?;
            let air_e = enum_cell(
                &air_e_t,
                &mut air_e_m,
                i,
                c_air_e,
                reason::SENSITIVITY_INVALID,
                Sensitivity::EXPECTED,
            )?;
            let water_e = enum_cell(
                &water_e_t,
                &mut water_e_m,
                i,
                c_water_e,
                reason::SENSITIVITY_INVALID,
                Sensitivity::EXPECTED,
            )?;
            let serious = bool_cell(&serious_b, &mut serious_m, i, c_serious)?;
            let online = bool_cell(&online_b, &mut online_m, i, c_online)?;
            let pe_air = num_cell(&pe_air_n, i, c_pe_air)?;
            let pe_water = num_cell(&pe_water_n, i, c_pe_water)?;
            let air_q = num_cell(&air_q_n, i, c_air_q)?;
            let air_m = num_cell(&air_m_n, i, c_air_m)?;
            let water_q = num_cell(&water_q_n, i, c_water_q)?;
            let water_m = num_cell(&water_m_n, i, c_water_m)?;
            let pen = count_cell(&pen_n, i, c_pen)?;
            let inc = count_cell(&inc_n, i, c_inc)?;
            out.row.push(first_row + i as u64);
            // Invariant: check_key returns bytes from the code character set, which are ASCII.
            out.uscc
                .append_value(std::str::from_utf8(&code).unwrap_or_default());
            out.bad_sum.push(bad_sum);
            out.name.append_value(name);
            out.district.push(district);
            match industry_t.as_ref().and_then(|t| t.get(i)) {
                Some(s) => out.industry.append_value(s),
                None => out.industry.append_null(),
            }
            out.tier.push(tier);
            out.credit.push(credit);
            out.permit.push(permit);
            out.pe_air.push(pe_air);
            out.pe_water.push(pe_water);
            out.level.push(level);
            out.air.push(Hj941Input {
                q: air_q,
                m: air_m,
                e: air_e,
            });
            out.water.push(Hj941Input {
                q: water_q,
                m: water_m,
                e: water_e,
            });
            out.pen.push(pen);
            out.inc.push(inc);
            out.serious.push(serious);
            out.online.push(online);
            Ok(code)
        })();
        match parsed {
            Ok(code) => ok.push((i as u32, code)),
            Err(e) => errors.push((i as u32, e)),
        }
    }
    Ok(ParsedBatch {
        raw: raw.clone(),
        first_row,
        uscc_col: c_uscc.unwrap_or(0),
        ok,
        errors,
        out,
        #[cfg(test)]
        by_columns: false,
    })
}

impl ParsedBatch {
    /// Rows of the raw batch.
    pub fn raw_rows(&self) -> usize {
        self.raw.num_rows()
    }

    /// The second, sequential half of [`validate_batch`]: in row order, sends every failed row to
    /// `rejects` and rejects a code already in `seen` (`USCC_DUPLICATE`, the later row), adding the
    /// others to `seen`. Batches must be finished in file order.
    pub fn dedup(
        self,
        file: &str,
        path: &Path,
        seen: &mut CodeSet,
        rejects: &mut Rejects,
    ) -> Result<EnterpriseBatch> {
        let new: Vec<bool> = self.ok.iter().map(|(_, code)| seen.insert(code)).collect();
        self.dedup_with(file, path, &new, rejects)
    }

    /// The codes of the rows whose cells parse, in row order (what [`ParsedBatch::dedup_with`]
    /// needs to know about).
    pub fn codes(&self) -> impl Iterator<Item = &[u8; 18]> {
        self.ok.iter().map(|(_, c)| c)
    }

    /// [`ParsedBatch::dedup`] with the answers of the code set given: `new[k]` says whether the
    /// k-th code of [`ParsedBatch::codes`] was not seen before (see [`CodeSet::insert_many`]).
    pub fn dedup_with(
        self,
        file: &str,
        path: &Path,
        new: &[bool],
        rejects: &mut Rejects,
    ) -> Result<EnterpriseBatch> {
        let ParsedBatch {
            raw,
            first_row,
            uscc_col,
            ok,
            errors,
            mut out,
            ..
        } = self;
        let schema = raw.schema();
        let mut keep_ok = Vec::new(); // filled only once a duplicate turns up
        let mut errors = errors.into_iter().peekable();
        let reject = |rejects: &mut Rejects, i: u32, e: CellError| {
            rejects.push(Reject {
                file: file.to_string(),
                row: first_row + u64::from(i),
                column: schema.field(e.col).name().clone(),
                value: e.value,
                reason: e.reason,
                detail: e.detail,
            })
        };
        for (k, (i, code)) in ok.iter().enumerate() {
            while let Some((j, _)) = errors.peek()
                && j < i
            {
                let Some((j, e)) = errors.next() else { break };
                reject(rejects, j, e)?;
            }
            if !new.get(k).copied().unwrap_or(true) {
                if keep_ok.is_empty() {
                    keep_ok = vec![true; ok.len()];
                }
                keep_ok[k] = false;
                reject(
                    rejects,
                    *i,
                    CellError {
                        col: uscc_col,
                        value: String::from_utf8_lossy(code).into_owned(),
                        reason: reason::USCC_DUPLICATE,
                        detail:
                            "this code already appeared on an earlier row; the later row is rejected"
                                .into(),
                    },
                )?;
            }
        }
        for (j, e) in errors {
            reject(rejects, j, e)?;
        }
        if !keep_ok.is_empty() {
            out.retain(&keep_ok);
        }
        let kept = out.row.len();
        let raw_kept = if kept == raw.num_rows() {
            raw
        } else {
            let mut keep = vec![false; raw.num_rows()];
            for (k, (i, _)) in ok.iter().enumerate() {
                keep[*i as usize] = keep_ok.get(k).copied().unwrap_or(true);
            }
            filter_record_batch(&raw, &BooleanArray::from(keep)).map_err(|source| Error::Arrow {
                path: path.to_path_buf(),
                source,
            })?
        };
        Ok(out.finish(raw_kept))
    }
}

/// Validates one raw batch whose first row has 1-based number `first_row`: [`parse_batch`], then
/// [`ParsedBatch::dedup`] against the codes of the earlier batches in `seen`.
pub fn validate_batch(
    raw: &RecordBatch,
    map: &ColumnMap,
    first_row: u64,
    file: &str,
    path: &Path,
    seen: &mut CodeSet,
    rejects: &mut Rejects,
) -> Result<EnterpriseBatch> {
    parse_batch(raw, map, first_row, path)?.dedup(file, path, seen, rejects)
}

#[derive(Default)]
struct EnterpriseBatchBuilder {
    row: Vec<u64>,
    uscc: StringBuilder,
    bad_sum: Vec<bool>,
    name: StringBuilder,
    district: Vec<u32>,
    industry: StringBuilder,
    tier: Vec<Tier>,
    credit: Vec<Option<CreditClass>>,
    permit: Vec<Option<PermitClass>>,
    pe_air: Vec<Option<f64>>,
    pe_water: Vec<Option<f64>>,
    level: Vec<Option<EnvRiskLevel>>,
    air: Vec<Hj941Input>,
    water: Vec<Hj941Input>,
    pen: Vec<Option<u32>>,
    inc: Vec<Option<u32>>,
    serious: Vec<Option<bool>>,
    online: Vec<Option<bool>>,
}

impl EnterpriseBatchBuilder {
    fn with_capacity(n: usize) -> Self {
        EnterpriseBatchBuilder {
            row: Vec::with_capacity(n),
            uscc: StringBuilder::with_capacity(n, n * 18),
            bad_sum: Vec::with_capacity(n),
            name: StringBuilder::with_capacity(n, n * 32),
            district: Vec::with_capacity(n),
            industry: StringBuilder::with_capacity(n, n * 5),
            tier: Vec::with_capacity(n),
            credit: Vec::with_capacity(n),
            permit: Vec::with_capacity(n),
            pe_air: Vec::with_capacity(n),
            pe_water: Vec::with_capacity(n),
            level: Vec::with_capacity(n),
            air: Vec::with_capacity(n),
            water: Vec::with_capacity(n),
            pen: Vec::with_capacity(n),
            inc: Vec::with_capacity(n),
            serious: Vec::with_capacity(n),
            online: Vec::with_capacity(n),
        }
    }

    /// Keeps the rows whose `keep` is true (rows are rarely dropped here: only repeated codes).
    fn retain(&mut self, keep: &[bool]) {
        fn keep_vec<T>(v: &mut Vec<T>, keep: &[bool]) {
            let mut k = keep.iter();
            v.retain(|_| *k.next().unwrap_or(&true));
        }
        fn keep_str(b: &mut StringBuilder, keep: &[bool]) {
            let a = b.finish();
            for (i, k) in keep.iter().enumerate() {
                if *k {
                    if a.is_null(i) {
                        b.append_null();
                    } else {
                        b.append_value(a.value(i));
                    }
                }
            }
        }
        keep_vec(&mut self.row, keep);
        keep_str(&mut self.uscc, keep);
        keep_vec(&mut self.bad_sum, keep);
        keep_str(&mut self.name, keep);
        keep_vec(&mut self.district, keep);
        keep_str(&mut self.industry, keep);
        keep_vec(&mut self.tier, keep);
        keep_vec(&mut self.credit, keep);
        keep_vec(&mut self.permit, keep);
        keep_vec(&mut self.pe_air, keep);
        keep_vec(&mut self.pe_water, keep);
        keep_vec(&mut self.level, keep);
        keep_vec(&mut self.air, keep);
        keep_vec(&mut self.water, keep);
        keep_vec(&mut self.pen, keep);
        keep_vec(&mut self.inc, keep);
        keep_vec(&mut self.serious, keep);
        keep_vec(&mut self.online, keep);
    }

    fn finish(mut self, raw: RecordBatch) -> EnterpriseBatch {
        EnterpriseBatch {
            row: self.row,
            uscc: self.uscc.finish(),
            uscc_checksum_bad: self.bad_sum,
            name: self.name.finish(),
            district: self.district,
            industry: self.industry.finish(),
            tier: self.tier,
            credit_class: self.credit,
            permit_class: self.permit,
            pe_air: self.pe_air,
            pe_water: self.pe_water,
            env_risk_level: self.level,
            air: self.air,
            water: self.water,
            env_penalties_24m: self.pen,
            env_incidents_24m: self.inc,
            env_serious_violation_36m: self.serious,
            online_monitoring: self.online,
            raw,
        }
    }
}

/// Builds a raw all-text batch from rows of cells (tests and small tables).
pub fn text_batch(headers: &[&str], rows: &[Vec<Option<&str>>]) -> RecordBatch {
    use arrow::datatypes::{DataType, Field, Schema};
    let schema = Arc::new(Schema::new(
        headers
            .iter()
            .map(|h| Field::new(*h, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let cols: Vec<ArrayRef> = (0..headers.len())
        .map(|j| {
            let mut b = StringBuilder::new();
            for r in rows {
                match r.get(j).copied().flatten() {
                    Some(s) => b.append_value(s),
                    None => b.append_null(),
                }
            }
            Arc::new(b.finish()) as ArrayRef
        })
        .collect();
    // Invariant: every column has rows.len() entries and the schema has one field per column.
    RecordBatch::try_new(schema, cols).expect("columns match the schema by construction")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{CreditClass, Tier};

    fn run(headers: &[&str], rows: &[Vec<Option<&str>>]) -> (EnterpriseBatch, Rejects) {
        run_batch(&text_batch(headers, rows), "e.csv")
    }

    /// Validates one batch read from `file` (first row 1).
    fn run_batch(raw: &RecordBatch, file: &str) -> (EnterpriseBatch, Rejects) {
        let map =
            ColumnMap::resolve(&raw.schema(), ent::ALL, ent::REQUIRED, Path::new(file)).unwrap();
        let mut rejects = Rejects::new(false);
        let mut seen = CodeSet::new();
        let b =
            validate_batch(raw, &map, 1, file, Path::new(file), &mut seen, &mut rejects).unwrap();
        (b, rejects)
    }

    const H: &[&str] = &[
        "统一社会信用代码",
        "企业名称",
        "所属区",
        "企业梯度",
        "信用风险分类",
        "env_penalties_24m",
        "备注",
    ];

    /// Both ways of parsing a batch (column by column when every cell is valid, else row by row)
    /// give the same accepted batch, rejects and codes: typed columns as `score` writes them
    /// (numbers, counts, booleans, enum columns read as dictionaries, nulls where optional),
    /// text columns as a CSV gives them, and a batch with one bad cell (the fast path gives up).
    #[test]
    fn the_column_by_column_path_agrees_with_the_row_by_row_one() {
        use arrow::array::{BooleanArray, DictionaryArray, Float64Array, Int32Array, StringArray};
        use arrow::datatypes::{DataType, Field, Int32Type, Schema};
        let dict = |v: &[Option<&str>]| -> ArrayRef {
            Arc::new(v.iter().copied().collect::<DictionaryArray<Int32Type>>())
        };
        let fields = vec![
            Field::new("uscc", DataType::Utf8, false),
            Field::new("name", DataType::Utf8, false),
            Field::new(
                "district",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                false,
            ),
            Field::new("industry", DataType::Utf8, true),
            Field::new(
                "tier",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                false,
            ),
            Field::new(
                "credit_class",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                true,
            ),
            Field::new("permit_class", DataType::Utf8, true),
            Field::new("env_risk_level", DataType::Utf8, true),
            Field::new("air_q", DataType::Float64, true),
            Field::new("air_m", DataType::Float64, true),
            Field::new("air_e", DataType::Utf8, true),
            Field::new("water_q", DataType::Float64, false),
            Field::new("env_penalties_24m", DataType::Int32, true),
            Field::new("env_incidents_24m", DataType::Utf8, true),
            Field::new("env_serious_violation_36m", DataType::Boolean, true),
            Field::new("online_monitoring", DataType::Utf8, true),
            Field::new("employees", DataType::Int32, true),
        ];
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![
                "91110108EXAMPLE008",
                " 91350100m000100y43 ",
                "91350100M000100Y44",
                "91110108EXAMPLE008",
            ])),
            Arc::new(StringArray::from(vec![
                "甲",
                " 乙公司 ",
                "Name, Inc.",
                "丁",
            ])),
            dict(&[
                Some("110108"),
                Some("海淀区"),
                Some("110108"),
                Some("经开区"),
            ]),
            Arc::new(StringArray::from(vec![
                Some("C39"),
                None,
                Some(" "),
                Some("I65"),
            ])),
            dict(&[
                Some("none"),
                Some("小巨人"),
                Some("specialized"),
                Some("none"),
            ]),
            dict(&[Some("A"), None, Some("C类"), Some("D")]),
            Arc::new(StringArray::from(vec![
                Some("key"),
                None,
                Some("登记管理"),
                Some("simplified"),
            ])),
            Arc::new(StringArray::from(vec![
                None,
                Some("较大"),
                Some("general"),
                None,
            ])),
            Arc::new(Float64Array::from(vec![
                Some(5.0),
                None,
                Some(0.5),
                Some(120.0),
            ])),
            Arc::new(Float64Array::from(vec![Some(30.0), None, None, Some(-0.0)])),
            Arc::new(StringArray::from(vec![Some("E1"), None, None, Some("e3")])),
            Arc::new(Float64Array::from(vec![0.0, 2.5, 11.0, 1e9])),
            Arc::new(Int32Array::from(vec![Some(0), None, Some(3), Some(1)])),
            Arc::new(StringArray::from(vec![
                Some("0"),
                Some(" 2 "),
                None,
                Some("1"),
            ])),
            Arc::new(BooleanArray::from(vec![
                Some(true),
                None,
                Some(false),
                Some(false),
            ])),
            Arc::new(StringArray::from(vec![
                Some("是"),
                Some("no"),
                None,
                Some("1"),
            ])),
            Arc::new(Int32Array::from(vec![Some(12), None, Some(7), Some(1)])),
        ];
        let typed = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
        let text = text_batch(
            H,
            &[
                vec![
                    Some("91110108example008"),
                    Some("甲"),
                    Some("海淀区"),
                    Some("小巨人"),
                    Some("A类"),
                    Some("0"),
                    Some("x"),
                ],
                vec![
                    Some("91350100M000100Y43"),
                    Some(" 乙 "),
                    Some("110105"),
                    Some("none"),
                    None,
                    None,
                    None,
                ],
            ],
        );
        let mut bad_rows: Vec<Vec<Option<&str>>> = (0..3)
            .map(|_| {
                vec![
                    Some("91350100M000100Y43"),
                    Some("乙"),
                    Some("110105"),
                    Some("none"),
                    None,
                    Some("1"),
                    None,
                ]
            })
            .collect();
        bad_rows[1][5] = Some("-1");
        let bad = text_batch(H, &bad_rows);
        for (raw, all_valid) in [(typed, true), (text, true), (bad, false)] {
            let map = ColumnMap::resolve(
                &raw.schema(),
                ent::ALL,
                ent::REQUIRED,
                Path::new("e.parquet"),
            )
            .unwrap();
            let finish = |fast: bool| {
                let p = parse_batch_with(&raw, &map, 7, Path::new("e.parquet"), fast).unwrap();
                assert_eq!(p.by_columns, fast && all_valid);
                let codes: Vec<[u8; 18]> = p.codes().copied().collect();
                let mut rejects = Rejects::new(false);
                let mut seen = CodeSet::new();
                let b = p
                    .dedup("e.parquet", Path::new("e.parquet"), &mut seen, &mut rejects)
                    .unwrap();
                (format!("{b:?}"), format!("{:?}", rejects.items()), codes)
            };
            let (fast, rows) = (finish(true), finish(false));
            assert_eq!(fast, rows);
        }
    }

    /// NaN and infinities in a typed number column (they never come from text) are invalid
    /// numbers, not accepted values nor "negative" ones; a negative number stays NUMBER_NEGATIVE.
    #[test]
    fn nan_and_infinities_in_typed_columns_are_invalid_numbers() {
        use arrow::array::{Float64Array, StringArray};
        use arrow::datatypes::{DataType, Field, Schema};
        let codes = [
            "91110108EXAMPLE008",
            "91350100M000100Y43",
            "91350100M000100Y44",
            "91350203M0001QAY9B",
            "91110105MA01ABCD2Y",
        ];
        let q = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 5.0];
        let raw = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("uscc", DataType::Utf8, false),
                Field::new("name", DataType::Utf8, false),
                Field::new("district", DataType::Utf8, false),
                Field::new("tier", DataType::Utf8, false),
                Field::new("air_q", DataType::Float64, true),
            ])),
            vec![
                Arc::new(StringArray::from(codes.to_vec())),
                Arc::new(StringArray::from(vec!["甲"; 5])),
                Arc::new(StringArray::from(vec!["110108"; 5])),
                Arc::new(StringArray::from(vec!["none"; 5])),
                Arc::new(Float64Array::from(q.to_vec())),
            ],
        )
        .unwrap();
        let (b, rejects) = run_batch(&raw, "e.parquet");
        assert_eq!(b.len(), 1);
        assert_eq!(b.air[0].q, Some(5.0));
        let got = rejects.cells();
        assert_eq!(
            got,
            vec![
                (1, "air_q", "NaN", reason::NUMBER_INVALID),
                (2, "air_q", "inf", reason::NUMBER_INVALID),
                (3, "air_q", "-inf", reason::NUMBER_INVALID),
                (4, "air_q", "-1", reason::NUMBER_NEGATIVE),
            ]
        );
    }

    #[test]
    fn chinese_headers_and_values_parse() {
        let (b, r) = run(
            H,
            &[vec![
                Some("91110108example008"),
                Some("甲"),
                Some("海淀区"),
                Some("专精特新“小巨人”企业"),
                Some("A类"),
                Some("0"),
                Some("x"),
            ]],
        );
        assert!(r.is_empty(), "{:?}", r.items());
        assert_eq!(b.len(), 1);
        assert_eq!(b.uscc.value(0), "91110108EXAMPLE008");
        assert_eq!(b.district[0], 110108);
        assert_eq!(b.tier[0], Tier::LittleGiant);
        assert_eq!(b.credit_class[0], Some(CreditClass::A));
        assert_eq!(b.env_penalties_24m[0], Some(0));
        assert_eq!(b.raw.num_columns(), 7);
    }

    #[test]
    fn each_reject_reason_names_row_column_value() {
        let ok = "91110108EXAMPLE008";
        let rows = vec![
            vec![
                Some(ok),
                Some("a"),
                Some("110108"),
                Some("none"),
                None,
                None,
                None,
            ],
            vec![
                Some("91110108EXAMPLE0O8"),
                Some("b"),
                Some("110108"),
                Some("none"),
                None,
                None,
                None,
            ],
            vec![
                Some(ok),
                Some("c"),
                Some("110108"),
                Some("none"),
                None,
                None,
                None,
            ],
            vec![
                Some("91110105EXAMPLE010"),
                Some("d"),
                Some("上海"),
                Some("none"),
                None,
                None,
                None,
            ],
            vec![
                Some("91110105EXAMPLE010"),
                Some("e"),
                Some("110105"),
                Some("big"),
                None,
                None,
                None,
            ],
            vec![
                Some("91110105EXAMPLE010"),
                Some("f"),
                Some("110105"),
                Some("none"),
                Some("E"),
                None,
                None,
            ],
            vec![
                Some("91110105EXAMPLE010"),
                Some("g"),
                Some("110105"),
                Some("none"),
                None,
                Some("1.5"),
                None,
            ],
            vec![
                Some("91110105EXAMPLE010"),
                None,
                Some("110105"),
                Some("none"),
                None,
                None,
                None,
            ],
            vec![
                Some("91110105EXAMPLE011"),
                Some("h"),
                Some("110105"),
                Some("none"),
                None,
                Some("0"),
                None,
            ],
            vec![
                Some("91110105EXAMPLE012"),
                Some("i"),
                Some("110105"),
                Some("none"),
                None,
                Some("-1"),
                None,
            ],
        ];
        let (b, r) = run(H, &rows);
        assert_eq!(b.len(), 2, "rows 1 and 9 are accepted");
        assert!(
            b.uscc_checksum_bad[1],
            "…011 has a wrong check character: kept, flagged"
        );
        let got: Vec<(u64, &str, &str, &str)> = r
            .items()
            .iter()
            .map(|x| (x.row, x.column.as_str(), x.value.as_str(), x.reason))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    2,
                    "统一社会信用代码",
                    "91110108EXAMPLE0O8",
                    "USCC_MALFORMED"
                ),
                (3, "统一社会信用代码", ok, "USCC_DUPLICATE"),
                (4, "所属区", "上海", "DISTRICT_UNKNOWN"),
                (5, "企业梯度", "big", "TIER_UNKNOWN"),
                (6, "信用风险分类", "E", "CREDIT_CLASS_INVALID"),
                (7, "env_penalties_24m", "1.5", "INTEGER_INVALID"),
                (8, "企业名称", "", "VALUE_MISSING"),
                (10, "env_penalties_24m", "-1", "NUMBER_NEGATIVE"),
            ]
        );
        assert_eq!(b.row, vec![1, 9]);
        assert_eq!(b.raw.num_rows(), 2);
    }
}

#[cfg(test)]
mod properties {
    //! Property: whatever rows arrive (valid, malformed, duplicated, blank cells), every row read is
    //! accepted or rejected exactly once, and every accepted row keeps its values.

    use super::*;
    use proptest::prelude::*;

    /// A cell of the code column: a valid code from a small pool (so duplicates happen), a code
    /// with a wrong check character, a malformed one, or blank.
    fn code() -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            6 => (0u32..40).prop_map(|i| crate::uscc::complete(&format!("91110108MA{i:07}"))),
            1 => (0u32..40).prop_map(|i| {
                let mut c = crate::uscc::complete(&format!("91110105MA{i:07}")).unwrap();
                let last = c.pop().unwrap();
                c.push(if last == '0' { '1' } else { '0' });
                Some(c)
            }),
            1 => "[a-z0-9]{0,20}".prop_map(Some),
            1 => Just(None),
        ]
    }

    fn cell(pool: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            4 => proptest::sample::select(pool).prop_map(|s| Some(s.to_string())),
            1 => Just(None),
        ]
    }

    type Row = Vec<Option<String>>;

    fn row() -> impl Strategy<Value = Row> {
        (
            code(),
            cell(&["甲", "乙公司", "Name, Inc."]),
            cell(&["110108", "海淀区", "经开区", "110103", "上海", "9"]),
            cell(&["none", "小巨人", "specialized", "huge"]),
            cell(&["A", "B类", "信用风险高", "E"]),
            cell(&["0", "1", "2.5", "-1", "x"]),
        )
            .prop_map(|(a, b, c, d, e, f)| vec![a, b, c, d, e, f])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn every_row_accounted_for_and_values_kept(rows in proptest::collection::vec(row(), 0..60)) {
            let headers = ["uscc", "name", "district", "tier", "credit_class", "env_penalties_24m"];
            let cells: Vec<Vec<Option<&str>>> = rows
                .iter()
                .map(|r| r.iter().map(|c| c.as_deref()).collect())
                .collect();
            let raw = text_batch(&headers, &cells);
            let map = ColumnMap::resolve(&raw.schema(), ent::ALL, ent::REQUIRED, Path::new("p.csv")).unwrap();
            let mut rejects = Rejects::new(false);
            let mut seen = CodeSet::new();
            let b = validate_batch(&raw, &map, 1, "p.csv", Path::new("p.csv"), &mut seen, &mut rejects).unwrap();
            prop_assert_eq!(b.len() + rejects.len(), rows.len());
            // Rejected and accepted row numbers partition 1..=n.
            let mut all: Vec<u64> = b.row.clone();
            all.extend(rejects.items().iter().map(|r| r.row));
            all.sort_unstable();
            prop_assert_eq!(all, (1..=rows.len() as u64).collect::<Vec<_>>());
            // Accepted rows keep their values.
            for i in 0..b.len() {
                let src = &rows[(b.row[i] - 1) as usize];
                prop_assert_eq!(b.uscc.value(i), src[0].as_deref().unwrap().to_ascii_uppercase());
                prop_assert_eq!(b.name.value(i), src[1].as_deref().unwrap());
                prop_assert_eq!(Some(b.district[i]), district::parse(src[2].as_deref().unwrap()));
                prop_assert_eq!(Some(b.tier[i]), Tier::parse(src[3].as_deref().unwrap()));
                prop_assert_eq!(b.credit_class[i], src[4].as_deref().and_then(CreditClass::parse));
                prop_assert_eq!(b.env_penalties_24m[i], src[5].as_deref().map(|s| s.parse::<u32>().unwrap()));
                prop_assert_eq!(b.raw.num_rows(), b.len());
            }
            // No code is accepted twice.
            let mut codes: Vec<&str> = (0..b.len()).map(|i| b.uscc.value(i)).collect();
            codes.sort_unstable();
            let n = codes.len();
            codes.dedup();
            prop_assert_eq!(codes.len(), n);
        }
    }
}
