//! Where a table sits in its file, as bureaus' exports lay it out (SPEC §12): the header row is
//! found among the first rows (a title row such as `2026年11月 企业名单` above it is passed over),
//! blank rows and total rows (`合计`, `总计`, `小计`) are skipped and counted, never rejected, and
//! every data row keeps its real row number in the file. Also the limits a reader enforces on
//! hostile input (line length, column count, JSON nesting).
//!
//! Row numbers follow the rejects file's convention: the file's row (as Excel or a text editor
//! numbers it, 1-based) minus one — with the header on the first row, the data-row number.

use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int32Type};

use crate::schema::Col;

/// How many rows from the top of a sheet or CSV file are searched for the header.
pub const HEADER_SEARCH_ROWS: usize = 20;

/// Longest CSV or JSON line read (bytes): longer lines are an error, not an allocation.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// Most columns a table may have.
pub const MAX_COLUMNS: usize = 10_000;

/// Deepest nesting of arrays and objects in a JSON line.
pub const MAX_JSON_DEPTH: usize = 64;

/// Default limit on the bytes an XLSX workbook's parts decompress to (`--max-xlsx-bytes`).
pub const DEFAULT_MAX_XLSX_BYTES: u64 = 1 << 30;

/// Decides whether a row of cells is the header: given the row's trimmed texts.
pub type HeaderProbe = Arc<dyn Fn(&[String]) -> bool + Send + Sync>;

/// A probe that accepts the first row naming every column of `required` (by English name,
/// Chinese header or alias).
pub fn header_probe(required: &'static [Col]) -> HeaderProbe {
    Arc::new(move |names: &[String]| required.iter().all(|c| names.iter().any(|n| c.matches(n))))
}

/// Rows passed over while reading: blank rows and total rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Skipped {
    /// Rows with no value in any cell.
    pub blank: u64,
    /// Rows whose first cells hold `合计`, `总计` or `小计` (or `total`, `subtotal`).
    pub total: u64,
}

impl Skipped {
    /// All skipped rows.
    pub fn rows(&self) -> u64 {
        self.blank + self.total
    }

    /// Adds another count.
    pub fn add(&mut self, other: Skipped) {
        self.blank += other.blank;
        self.total += other.total;
    }
}

/// How a table was found in its file: which sheet, which row held the header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// The XLSX sheet read (None for other formats).
    pub sheet: Option<String>,
    /// Its 1-based number in the workbook (0 for other formats).
    pub sheet_index: u64,
    /// Whether the sheet was chosen because it was the first with the required columns (not the
    /// first sheet, not named with `--sheet`).
    pub sheet_searched: bool,
    /// The 1-based row of the file that held the header (1 for formats with a schema).
    pub header_row: u64,
}

impl Layout {
    /// A sentence for the command's output when the table was not where a plain table has it
    /// (header on the first row of the first sheet), e.g. `sheet "企业名单", header found on row 3`.
    pub fn note(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(s) = &self.sheet
            && self.sheet_searched
        {
            parts.push(format!("sheet {s:?} (the first with the required columns)"));
        }
        if self.header_row > 1 {
            parts.push(format!("header found on row {}", self.header_row));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// [`Layout::note`] followed by the blank or total rows skipped, for a command's output
    /// (`header found on row 3; skipped 1 blank or total row`); `None` for a plain table.
    pub fn note_with(&self, skipped: Skipped) -> Option<String> {
        let n = skipped.rows();
        let note = [
            self.note(),
            (n > 0).then(|| {
                format!(
                    "skipped {n} blank or total row{}",
                    if n == 1 { "" } else { "s" }
                )
            }),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
        (!note.is_empty()).then(|| note.join("; "))
    }
}

/// What a row is, for skipping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Data,
    Blank,
    Total,
}

/// Whether a cell's text marks a total row: `合计`, `总计`, `小计` (spaces inside and a trailing
/// colon allowed, e.g. `合 计：`), or `total` / `subtotal` / `grand total` in any case. Only the
/// whole cell counts, so a name such as `小计算机有限公司` is not a total.
pub fn is_total_text(s: &str) -> bool {
    let s = s.trim();
    // Fast path (every cell of every row comes here): a total starts with one of these.
    if s.len() > 40 || !s.starts_with(['合', '总', '小', 't', 'T', 's', 'S', 'g', 'G']) {
        return false;
    }
    let squeezed: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .trim_end_matches([':', '：'])
        .to_ascii_lowercase();
    matches!(
        squeezed.as_str(),
        "合计" | "总计" | "小计" | "total" | "subtotal" | "grandtotal"
    )
}

/// How many leading cells of a row are looked at for a total marker.
pub const TOTAL_CELLS: usize = 3;

/// Classifies a row given its cells as text (`None` = empty).
pub fn classify<'a>(cells: impl IntoIterator<Item = Option<&'a str>>) -> RowKind {
    let mut blank = true;
    for (j, c) in cells.into_iter().enumerate() {
        let Some(c) = c else { continue };
        if c.trim().is_empty() {
            continue;
        }
        if j < TOTAL_CELLS && is_total_text(c) {
            return RowKind::Total;
        }
        blank = false;
        if j >= TOTAL_CELLS {
            break;
        }
    }
    if blank { RowKind::Blank } else { RowKind::Data }
}

/// A cell of an Arrow array as text for classification: `Some(text)` for string cells, `Some("")`
/// … never allocated; non-text cells that are not null count as a value.
enum CellView<'a> {
    Null,
    Text(&'a str),
    Value,
}

fn cell<'a>(a: &'a dyn Array, i: usize) -> CellView<'a> {
    if a.is_null(i) {
        return CellView::Null;
    }
    match a.data_type() {
        DataType::Utf8 => CellView::Text(a.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => CellView::Text(a.as_string::<i64>().value(i)),
        DataType::Utf8View => CellView::Text(a.as_string_view().value(i)),
        DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8 => {
            let d = a.as_dictionary::<Int32Type>();
            let key = d.keys().value(i) as usize;
            let values = d.values().as_string::<i32>();
            if key < values.len() && !values.is_null(key) {
                CellView::Text(values.value(key))
            } else {
                CellView::Null
            }
        }
        _ => CellView::Value,
    }
}

/// Classifies row `i` of a batch.
pub fn classify_batch_row(batch: &RecordBatch, i: usize) -> RowKind {
    let mut blank = true;
    for (j, col) in batch.columns().iter().enumerate() {
        match cell(col.as_ref(), i) {
            CellView::Null => continue,
            CellView::Text(t) => {
                if t.trim().is_empty() {
                    continue;
                }
                if j < TOTAL_CELLS && is_total_text(t) {
                    return RowKind::Total;
                }
            }
            CellView::Value => {}
        }
        blank = false;
        if j >= TOTAL_CELLS {
            break;
        }
    }
    if blank { RowKind::Blank } else { RowKind::Data }
}

/// A batch of data rows and the file row number (rejects convention) of its first row; the rows
/// of one `Numbered` batch are consecutive rows of the file.
#[derive(Debug, Clone)]
pub struct Numbered {
    pub batch: RecordBatch,
    pub first_row: u64,
}

/// Splits a batch whose rows are consecutive in the file, the first numbered `first_row`, into
/// runs of data rows, dropping blank and total rows and counting them in `skipped`. A batch with
/// nothing to skip comes back whole (no copy).
pub fn split_skipped(batch: RecordBatch, first_row: u64, skipped: &mut Skipped) -> Vec<Numbered> {
    let n = batch.num_rows();
    let mut kinds: Option<Vec<RowKind>> = None;
    for i in 0..n {
        let k = classify_batch_row(&batch, i);
        if k != RowKind::Data {
            let v = kinds.get_or_insert_with(|| vec![RowKind::Data; n]);
            v[i] = k;
        }
    }
    let Some(kinds) = kinds else {
        return vec![Numbered { batch, first_row }];
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        match kinds[i] {
            RowKind::Blank => {
                skipped.blank += 1;
                i += 1;
            }
            RowKind::Total => {
                skipped.total += 1;
                i += 1;
            }
            RowKind::Data => {
                let start = i;
                while i < n && kinds[i] == RowKind::Data {
                    i += 1;
                }
                let part = if start == 0 && i == n {
                    batch.clone()
                } else {
                    batch.slice(start, i - start)
                };
                out.push(Numbered {
                    batch: part,
                    first_row: first_row + start as u64,
                });
            }
        }
    }
    out
}

/// The nesting depth of a JSON text (arrays and objects; strings are skipped), stopping early
/// once it passes `max`.
pub fn json_depth_exceeds(text: &str, max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for b in text.bytes() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// A human size: `16 MiB`, `1 GiB`, `1234 bytes`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if n >= size && n.is_multiple_of(size) {
            return format!("{} {unit}", n / size);
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, Int64Array, StringArray};

    #[test]
    fn totals_are_whole_cells() {
        for t in [
            "合计",
            " 合 计： ",
            "总计",
            "小计:",
            "Total",
            "GRAND TOTAL",
            "合　计",
        ] {
            assert!(is_total_text(t), "{t}");
        }
        for t in [
            "小计算机有限公司",
            "合计数",
            "",
            "totals",
            "91110108MA01ABCD1X",
        ] {
            assert!(!is_total_text(t), "{t}");
        }
    }

    #[test]
    fn rows_are_classified() {
        assert_eq!(classify([None, Some(" "), Some("")]), RowKind::Blank);
        assert_eq!(classify([Some("合计"), None, Some("12")]), RowKind::Total);
        assert_eq!(classify([None, Some("小计"), Some("12")]), RowKind::Total);
        assert_eq!(classify([Some("1"), Some("合计")]), RowKind::Total);
        // A total word beyond the first cells is data (a remark column, say).
        assert_eq!(
            classify([Some("a"), Some("b"), Some("c"), Some("合计")]),
            RowKind::Data
        );
        assert_eq!(classify([Some("x")]), RowKind::Data);
    }

    #[test]
    fn batches_split_around_skipped_rows_and_keep_their_numbers() {
        let text: ArrayRef = Arc::new(StringArray::from(vec![
            Some("a"),
            None,
            Some("b"),
            Some("c"),
            Some("合计"),
        ]));
        let nums: ArrayRef = Arc::new(Int64Array::from(vec![
            Some(1),
            None,
            None,
            Some(3),
            Some(9),
        ]));
        let batch = RecordBatch::try_from_iter([("t", text), ("n", nums)]).unwrap();
        let mut skipped = Skipped::default();
        let parts = split_skipped(batch, 10, &mut skipped);
        let got: Vec<(u64, usize)> = parts
            .iter()
            .map(|p| (p.first_row, p.batch.num_rows()))
            .collect();
        assert_eq!(got, vec![(10, 1), (12, 2)]);
        assert_eq!(skipped, Skipped { blank: 1, total: 1 });
        // A typed value makes a row non-blank even when its text cells are empty.
        let text: ArrayRef = Arc::new(StringArray::from(vec![None::<&str>]));
        let nums: ArrayRef = Arc::new(Int64Array::from(vec![Some(1)]));
        let batch = RecordBatch::try_from_iter([("t", text), ("n", nums)]).unwrap();
        let parts = split_skipped(batch, 1, &mut skipped);
        assert_eq!(parts.len(), 1);
    }

    #[test]
    fn json_depth() {
        let deep = "[".repeat(65) + &"]".repeat(65);
        assert!(json_depth_exceeds(&deep, 64));
        let ok = "[".repeat(64) + &"]".repeat(64);
        assert!(!json_depth_exceeds(&ok, 64));
        assert!(!json_depth_exceeds(
            r#"{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}"#,
            64
        ));
    }

    #[test]
    fn sizes() {
        assert_eq!(human_bytes(16 << 20), "16 MiB");
        assert_eq!(human_bytes(1 << 30), "1 GiB");
        assert_eq!(human_bytes(1000), "1000 bytes");
    }
}
