//! From Arrow batches to the cells the scorecard works on: finding a column by name (trimmed,
//! case-insensitive, or by the Chinese header of a known column), reading a feature column as
//! numbers, booleans or category labels whatever its Arrow type (Utf8, Int64, Float64, Boolean …),
//! detecting a feature's kind from the data, reading the target, the canonical SHA-256 of a table
//! and the deterministic holdout split. No file I/O: batches come from the caller.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type};
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::schema::{self, Col, norm, parse_bool};

/// How a feature's cells are read and binned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// Numbers, binned by ranges.
    Numeric,
    /// Text labels, one bin per level (rare levels pooled).
    Categorical,
    /// true/false (also 1/0, yes/no, 是/否), two bins.
    Boolean,
}

/// One cell of a feature as the scorecard sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Null, empty text or NaN: scored in the feature's missing bin.
    Missing,
    /// A number (numeric features).
    Num(f64),
    /// A boolean (boolean features).
    Bool(bool),
    /// A category label, normalised with `schema::norm` (categorical features).
    Text(String),
    /// A value that cannot be read as the feature's kind (e.g. `abc` in a numeric column): the row
    /// cannot be scored.
    Invalid(String),
}

/// Every known column whose Chinese header or aliases a feature or target name may use.
fn known_columns() -> impl Iterator<Item = &'static Col> {
    schema::feat::ALL.iter().chain(schema::ent::ALL.iter())
}

/// The canonical name of a column header: the English name of a known column (so that `经营年限`
/// and `years_in_operation` are the same feature), else the trimmed header.
pub fn canonical_name(header: &str) -> String {
    match known_columns().find(|c| c.matches(header)) {
        Some(c) => c.name.to_string(),
        None => header.trim().to_string(),
    }
}

/// Whether `header` names the column `name` (both canonicalised, then compared after `norm`).
pub fn same_column(header: &str, name: &str) -> bool {
    norm(&canonical_name(header)) == norm(&canonical_name(name))
}

/// Index of the column `name` in `batch`; `Err` with both headers when two columns match.
pub fn find_column(batch: &RecordBatch, name: &str) -> Result<Option<usize>, (String, String)> {
    find_columns(batch, &[name]).remove(0)
}

/// [`find_column`] for several names at once (each header is canonicalised once, not once per
/// name: scoring looks up every feature in every batch).
pub fn find_columns(
    batch: &RecordBatch,
    names: &[&str],
) -> Vec<Result<Option<usize>, (String, String)>> {
    let schema = batch.schema();
    let headers: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| norm(&canonical_name(f.name())))
        .collect();
    names
        .iter()
        .map(|name| {
            let want = norm(&canonical_name(name));
            let mut found: Option<usize> = None;
            for (i, h) in headers.iter().enumerate() {
                if *h == want {
                    if let Some(j) = found {
                        return Err((
                            schema.field(j).name().clone(),
                            schema.field(i).name().clone(),
                        ));
                    }
                    found = Some(i);
                }
            }
            Ok(found)
        })
        .collect()
}

fn is_numeric_type(t: &DataType) -> bool {
    t.is_numeric() || matches!(t, DataType::Boolean)
}

fn as_text(array: &dyn Array) -> Option<ArrayRef> {
    cast(array, &DataType::Utf8).ok()
}

/// Reads a column as text, trimmed; `None` for null or empty. `None` overall when the type
/// cannot be cast to text.
pub fn text_values(array: &dyn Array) -> Option<Vec<Option<String>>> {
    let text = as_text(array)?;
    let s = text.as_string::<i32>();
    Some(
        (0..s.len())
            .map(|i| {
                if s.is_null(i) {
                    None
                } else {
                    let v = s.value(i).trim();
                    (!v.is_empty()).then(|| v.to_string())
                }
            })
            .collect(),
    )
}

/// Reads one feature column as cells of the given kind.
pub fn read_cells(array: &dyn Array, kind: FeatureKind) -> Vec<Cell> {
    match kind {
        FeatureKind::Numeric => read_numeric(array),
        FeatureKind::Boolean => read_boolean(array),
        FeatureKind::Categorical => match text_values(array) {
            Some(v) => v
                .into_iter()
                .map(|c| c.map_or(Cell::Missing, |s| Cell::Text(norm(&s))))
                .collect(),
            None => vec![Cell::Invalid(array.data_type().to_string()); array.len()],
        },
    }
}

fn read_numeric(array: &dyn Array) -> Vec<Cell> {
    if is_numeric_type(array.data_type())
        && let Ok(f) = cast(array, &DataType::Float64)
    {
        let f = f.as_primitive::<Float64Type>();
        return (0..f.len())
            .map(|i| {
                let v = f.value(i);
                if f.is_null(i) || v.is_nan() {
                    Cell::Missing
                } else if v.is_finite() {
                    Cell::Num(v)
                } else {
                    Cell::Invalid(v.to_string())
                }
            })
            .collect();
    }
    match text_values(array) {
        Some(v) => v
            .into_iter()
            .map(|c| match c {
                None => Cell::Missing,
                Some(s) if s.trim().eq_ignore_ascii_case("nan") => Cell::Missing,
                // Numbers as bureaus write them: `1,234.5`, full-width digits (SPEC §12).
                Some(s) => match crate::table::cells::parse_number(&s) {
                    Some(x) => Cell::Num(x),
                    None => Cell::Invalid(s),
                },
            })
            .collect(),
        None => vec![Cell::Invalid(array.data_type().to_string()); array.len()],
    }
}

fn read_boolean(array: &dyn Array) -> Vec<Cell> {
    if let DataType::Boolean = array.data_type() {
        let b = array.as_boolean();
        return (0..b.len())
            .map(|i| {
                if b.is_null(i) {
                    Cell::Missing
                } else {
                    Cell::Bool(b.value(i))
                }
            })
            .collect();
    }
    if array.data_type().is_numeric() {
        return read_numeric(array)
            .into_iter()
            .map(|c| match c {
                Cell::Num(0.0) => Cell::Bool(false),
                Cell::Num(1.0) => Cell::Bool(true),
                Cell::Num(x) => Cell::Invalid(x.to_string()),
                other => other,
            })
            .collect();
    }
    match text_values(array) {
        Some(v) => v
            .into_iter()
            .map(|c| match c {
                None => Cell::Missing,
                Some(s) => parse_bool(&s).map_or(Cell::Invalid(s), Cell::Bool),
            })
            .collect(),
        None => vec![Cell::Invalid(array.data_type().to_string()); array.len()],
    }
}

/// What auto-detection makes of a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Detected {
    /// Usable as a feature of this kind.
    Feature(FeatureKind),
    /// Every non-missing value is the same (or there is none); the kind its values read as.
    Constant(FeatureKind),
    /// Text with more distinct values than the limit: an identifier, not a feature.
    TooManyLevels(usize),
    /// A type that cannot be read as text.
    Unreadable(String),
}

/// Detects a feature's kind from the training columns (one array per batch): Arrow booleans and
/// text that is all true/false words are `Boolean`; numbers and text that all parses as numbers
/// are `Numeric`; any other text is `Categorical`.
pub fn detect_kind(arrays: &[&dyn Array], max_levels: usize) -> Detected {
    let Some(first) = arrays.first() else {
        return Detected::Constant(FeatureKind::Numeric);
    };
    let dt = first.data_type().clone();
    if matches!(dt, DataType::Boolean) {
        let cells: Vec<Cell> = arrays.iter().flat_map(|a| read_boolean(*a)).collect();
        return constant_or(cells, FeatureKind::Boolean);
    }
    if dt.is_numeric() {
        let cells: Vec<Cell> = arrays.iter().flat_map(|a| read_numeric(*a)).collect();
        return constant_or(cells, FeatureKind::Numeric);
    }
    let mut values: Vec<String> = Vec::new();
    for a in arrays {
        match text_values(*a) {
            Some(v) => values.extend(v.into_iter().flatten()),
            None => return Detected::Unreadable(a.data_type().to_string()),
        }
    }
    let mut distinct: Vec<String> = values.iter().map(|s| norm(s)).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let kind = if values
        .iter()
        .all(|s| crate::table::cells::parse_number(s).is_some())
    {
        FeatureKind::Numeric
    } else if values.iter().all(|s| parse_bool(s).is_some()) {
        FeatureKind::Boolean
    } else {
        FeatureKind::Categorical
    };
    if distinct.len() <= 1 {
        return Detected::Constant(kind);
    }
    if kind != FeatureKind::Categorical {
        return Detected::Feature(kind);
    }
    if distinct.len() > max_levels {
        return Detected::TooManyLevels(distinct.len());
    }
    Detected::Feature(FeatureKind::Categorical)
}

fn constant_or(cells: Vec<Cell>, kind: FeatureKind) -> Detected {
    let mut first: Option<&Cell> = None;
    for c in &cells {
        if matches!(c, Cell::Missing) {
            continue;
        }
        match first {
            None => first = Some(c),
            Some(f) if f != c => return Detected::Feature(kind),
            Some(_) => {}
        }
    }
    Detected::Constant(kind)
}

/// SHA-256 (lower-case hex) of a canonical serialisation of the batches: the header names, then
/// every row, each cell as Arrow displays it (null as empty), cells separated by 0x1F and rows
/// ended by 0x1E. The same table gives the same hash however it is split into batches.
pub fn canonical_sha256(batches: &[RecordBatch]) -> String {
    let mut h = Sha256::new();
    if let Some(b) = batches.first() {
        let names: Vec<&str> = b
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        h.update(names.join("\u{1f}").as_bytes());
        h.update([0x1e]);
    }
    let opts = FormatOptions::default().with_null("");
    for b in batches {
        let fmts: Vec<Option<ArrayFormatter<'_>>> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).ok())
            .collect();
        let mut line = String::new();
        for row in 0..b.num_rows() {
            line.clear();
            for (i, f) in fmts.iter().enumerate() {
                if i > 0 {
                    line.push('\u{1f}');
                }
                if let Some(f) = f {
                    use std::fmt::Write;
                    // Writing into a String cannot fail; a formatter error leaves the cell empty.
                    let _ = write!(line, "{}", f.value(row));
                }
            }
            line.push('\u{1e}');
            h.update(line.as_bytes());
        }
    }
    hex(&h.finalize())
}

pub use crate::table::hex;

/// The holdout split: within each stratum (the target's class), rows are ordered by the first 8
/// bytes (big-endian) of `SHA-256("spotcheck-holdout" ‖ 0x1F ‖ seed as 8 bytes LE ‖ row as 8 bytes
/// LE)` and the first `round(share × stratum size)` are held out. Returns one flag per row
/// (`true` = holdout). Deterministic, independent of any random-number library.
pub fn holdout_split(strata: &[usize], share: f64, seed: u64) -> Vec<bool> {
    let mut out = vec![false; strata.len()];
    if share <= 0.0 {
        return out;
    }
    let n_strata = strata.iter().copied().max().map_or(0, |m| m + 1);
    for s in 0..n_strata {
        let mut rows: Vec<(u64, usize)> = strata
            .iter()
            .enumerate()
            .filter(|&(_, &k)| k == s)
            .map(|(i, _)| (split_key(seed, i as u64), i))
            .collect();
        rows.sort_unstable();
        let take = (share * rows.len() as f64).round() as usize;
        for &(_, i) in rows.iter().take(take) {
            out[i] = true;
        }
    }
    out
}

fn split_key(seed: u64, row: u64) -> u64 {
    let mut h = Sha256::new();
    h.update(b"spotcheck-holdout\x1f");
    h.update(seed.to_le_bytes());
    h.update(row.to_le_bytes());
    let d = h.finalize();
    let mut k = [0u8; 8];
    k.copy_from_slice(&d[..8]);
    u64::from_be_bytes(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{BooleanArray, Float64Array, Int64Array, StringArray};
    use std::sync::Arc;

    #[test]
    fn columns_match_by_english_chinese_and_case() {
        let b = RecordBatch::try_from_iter([
            ("经营年限", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
            (
                " Credit_Class ",
                Arc::new(StringArray::from(vec!["A"])) as ArrayRef,
            ),
            (
                "my_feature",
                Arc::new(Int64Array::from(vec![1])) as ArrayRef,
            ),
        ])
        .unwrap();
        assert_eq!(find_column(&b, "years_in_operation"), Ok(Some(0)));
        assert_eq!(find_column(&b, "信用风险分类"), Ok(Some(1)));
        assert_eq!(find_column(&b, "MY_FEATURE"), Ok(Some(2)));
        assert_eq!(find_column(&b, "employees"), Ok(None));
        assert_eq!(canonical_name("经营年限"), "years_in_operation");
        let dup = RecordBatch::try_from_iter([
            ("employees", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
            ("从业人数", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
        ])
        .unwrap();
        assert!(find_column(&dup, "employees").is_err());
    }

    #[test]
    fn cells_read_from_any_arrow_type() {
        let s = StringArray::from(vec![Some(" 3.5"), Some(""), None, Some("abc"), Some("NaN")]);
        assert_eq!(
            read_cells(&s, FeatureKind::Numeric),
            vec![
                Cell::Num(3.5),
                Cell::Missing,
                Cell::Missing,
                Cell::Invalid("abc".into()),
                Cell::Missing
            ]
        );
        let i = Int64Array::from(vec![Some(1), None, Some(0), Some(2)]);
        assert_eq!(
            read_cells(&i, FeatureKind::Boolean),
            vec![
                Cell::Bool(true),
                Cell::Missing,
                Cell::Bool(false),
                Cell::Invalid("2".into())
            ]
        );
        let t = StringArray::from(vec![Some("是"), Some("否"), Some("maybe")]);
        assert_eq!(
            read_cells(&t, FeatureKind::Boolean),
            vec![
                Cell::Bool(true),
                Cell::Bool(false),
                Cell::Invalid("maybe".into())
            ]
        );
        let c = Float64Array::from(vec![1.0, 2.5]);
        assert_eq!(
            read_cells(&c, FeatureKind::Categorical),
            vec![Cell::Text("1.0".into()), Cell::Text("2.5".into())]
        );
    }

    #[test]
    fn kinds_are_detected_from_the_data() {
        let num = StringArray::from(vec!["1", "2", "", "3.5"]);
        assert_eq!(
            detect_kind(&[&num], 100),
            Detected::Feature(FeatureKind::Numeric)
        );
        let yn = StringArray::from(vec!["是", "否", "是"]);
        assert_eq!(
            detect_kind(&[&yn], 100),
            Detected::Feature(FeatureKind::Boolean)
        );
        let b = BooleanArray::from(vec![true, true]);
        assert_eq!(
            detect_kind(&[&b], 100),
            Detected::Constant(FeatureKind::Boolean)
        );
        let one = StringArray::from(vec![Some("x"), None, Some(" x")]);
        assert_eq!(
            detect_kind(&[&one], 100),
            Detected::Constant(FeatureKind::Categorical)
        );
        let cat = StringArray::from(vec!["A", "B", "M"]);
        assert_eq!(
            detect_kind(&[&cat], 100),
            Detected::Feature(FeatureKind::Categorical)
        );
        assert_eq!(detect_kind(&[&cat], 2), Detected::TooManyLevels(3));
    }

    #[test]
    fn canonical_hash_ignores_batch_boundaries() {
        let whole = RecordBatch::try_from_iter([(
            "x",
            Arc::new(Int64Array::from(vec![Some(1), None, Some(3)])) as ArrayRef,
        )])
        .unwrap();
        let a = whole.slice(0, 1);
        let b = whole.slice(1, 2);
        assert_eq!(
            canonical_sha256(std::slice::from_ref(&whole)),
            canonical_sha256(&[a, b])
        );
        let other = RecordBatch::try_from_iter([(
            "x",
            Arc::new(Int64Array::from(vec![Some(1), None, Some(4)])) as ArrayRef,
        )])
        .unwrap();
        assert_ne!(canonical_sha256(&[whole]), canonical_sha256(&[other]));
        // sha256("") from FIPS 180-2 test vectors.
        assert_eq!(
            hex(&Sha256::digest(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn holdout_is_stratified_and_seeded() {
        let strata: Vec<usize> = (0..1000).map(|i| usize::from(i % 4 == 0)).collect();
        let h = holdout_split(&strata, 0.3, 7);
        // 750 goods → round(225) held out, 250 bads → round(75).
        let held_bad = h
            .iter()
            .zip(&strata)
            .filter(|(h, s)| **h && **s == 1)
            .count();
        let held_good = h
            .iter()
            .zip(&strata)
            .filter(|(h, s)| **h && **s == 0)
            .count();
        assert_eq!((held_good, held_bad), (225, 75));
        assert_eq!(h, holdout_split(&strata, 0.3, 7));
        assert_ne!(h, holdout_split(&strata, 0.3, 8));
        assert!(holdout_split(&strata, 0.0, 7).iter().all(|x| !x));
    }
}
