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
    let s = crate::table::cells::trim_cell(s);
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

/// What each cell of a column is to [`classify_batch_row`], for a whole column at once.
const NULL: u8 = 0;
const FILLED: u8 = 1;
const TOTAL: u8 = 2;

/// The kind of text cell `t`: blank (as null), a total marker (only looked for when `totals`), or
/// a value.
#[inline]
fn text_kind(t: &str, totals: bool) -> u8 {
    // A digit first (a code, a number) is neither blank nor a total marker.
    if t.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return FILLED;
    }
    let t = crate::table::cells::trim_cell(t);
    if t.is_empty() {
        NULL
    } else if totals && is_total_text(t) {
        TOTAL
    } else {
        FILLED
    }
}

/// The kind of every row of a batch, column by column: exactly what [`classify_batch_row`] says
/// row by row (a total marker in one of the first [`TOTAL_CELLS`] cells makes a total row;
/// otherwise a row whose every cell is null or blank text is blank), but each column's type is
/// looked at once, a dictionary's values classified once, and columns past the first
/// [`TOTAL_CELLS`] read only while some row is still blank. `None` when every row is data (the
/// common case).
pub fn batch_row_kinds(batch: &RecordBatch) -> Option<Vec<RowKind>> {
    let n = batch.num_rows();
    // Per row: the strongest cell kind seen (TOTAL > FILLED > NULL).
    let mut seen = vec![NULL; n];
    let mut blank_left = n;
    for (j, col) in batch.columns().iter().enumerate() {
        let totals = j < TOTAL_CELLS;
        if !totals && blank_left == 0 {
            break;
        }
        let a = col.as_ref();
        let mut mark = |i: usize, k: u8| {
            if k > seen[i] {
                if seen[i] == NULL {
                    blank_left -= 1;
                }
                seen[i] = k;
            }
        };
        let nulls = a.nulls();
        let valid = |i: usize| nulls.is_none_or(|b| b.is_valid(i));
        match a.data_type() {
            DataType::Utf8 => {
                let s = a.as_string::<i32>();
                (0..n)
                    .filter(|&i| valid(i))
                    .for_each(|i| mark(i, text_kind(s.value(i), totals)));
            }
            DataType::LargeUtf8 => {
                let s = a.as_string::<i64>();
                (0..n)
                    .filter(|&i| valid(i))
                    .for_each(|i| mark(i, text_kind(s.value(i), totals)));
            }
            DataType::Utf8View => {
                let s = a.as_string_view();
                (0..n)
                    .filter(|&i| valid(i))
                    .for_each(|i| mark(i, text_kind(s.value(i), totals)));
            }
            DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8 => {
                let d = a.as_dictionary::<Int32Type>();
                let values = d.values().as_string::<i32>();
                let kinds: Vec<u8> = (0..values.len())
                    .map(|v| {
                        if values.is_null(v) {
                            NULL
                        } else {
                            text_kind(values.value(v), totals)
                        }
                    })
                    .collect();
                let keys = d.keys();
                (0..n).filter(|&i| valid(i)).for_each(|i| {
                    let key = keys.value(i) as usize;
                    mark(i, kinds.get(key).copied().unwrap_or(NULL));
                });
            }
            _ => {
                if a.null_count() == 0 {
                    (0..n).for_each(|i| mark(i, FILLED));
                } else {
                    (0..n).filter(|&i| valid(i)).for_each(|i| mark(i, FILLED));
                }
            }
        }
    }
    if blank_left == 0 && !seen.contains(&TOTAL) {
        return None;
    }
    Some(
        seen.into_iter()
            .map(|k| match k {
                TOTAL => RowKind::Total,
                FILLED => RowKind::Data,
                _ => RowKind::Blank,
            })
            .collect(),
    )
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
    let Some(kinds) = batch_row_kinds(&batch) else {
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
    fn row_kinds_column_by_column_equal_classify_row_by_row() {
        use arrow::array::{DictionaryArray, Float64Array, LargeStringArray, StringViewArray};
        // Cells drawn from text that is blank, padded, a total marker or a value; columns of
        // every text type, dictionaries (with null values and keys), numbers with nulls; the
        // total marker in and past the first three columns.
        let pool = [
            None,
            Some(""),
            Some("  "),
            Some("合计"),
            Some(" 小 计： "),
            Some("Total"),
            Some("a"),
            Some(" 企业 "),
            Some("小计算机"),
        ];
        let state = std::cell::Cell::new(7u64);
        let next = |m: usize| {
            let s = state
                .get()
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state.set(s);
            ((s >> 33) % m as u64) as usize
        };
        for round in 0..300 {
            let n = 1 + next(40);
            let ncols = 1 + next(6);
            let mut cols: Vec<(String, ArrayRef)> = Vec::new();
            for j in 0..ncols {
                // Mostly blank in some rounds, so that later columns decide.
                let sparse = round % 3 == 0;
                let cell = || {
                    if sparse && next(4) != 0 {
                        pool[next(3)]
                    } else {
                        pool[next(pool.len())]
                    }
                };
                let a: ArrayRef = match next(6) {
                    0 => Arc::new(StringArray::from_iter((0..n).map(|_| cell()))),
                    1 => Arc::new(LargeStringArray::from_iter((0..n).map(|_| cell()))),
                    2 => Arc::new(StringViewArray::from_iter((0..n).map(|_| cell()))),
                    3 => {
                        let values = StringArray::from_iter((0..4).map(|_| cell()));
                        let keys = arrow::array::Int32Array::from_iter(
                            (0..n).map(|_| (next(5) != 0).then(|| next(4) as i32)),
                        );
                        Arc::new(DictionaryArray::try_new(keys, Arc::new(values)).unwrap())
                    }
                    4 => Arc::new(Float64Array::from_iter(
                        (0..n).map(|_| (next(3) == 0).then_some(1.5)),
                    )),
                    _ => Arc::new(Int64Array::from_iter((0..n).map(|_| Some(1)))),
                };
                cols.push((format!("c{j}"), a));
            }
            let batch = RecordBatch::try_from_iter(cols).unwrap();
            let want: Vec<RowKind> = (0..n).map(|i| classify_batch_row(&batch, i)).collect();
            let got = batch_row_kinds(&batch).unwrap_or_else(|| vec![RowKind::Data; n]);
            assert_eq!(got, want, "round {round}");
            if want.iter().all(|k| *k == RowKind::Data) {
                assert!(batch_row_kinds(&batch).is_none(), "round {round}");
            }
        }
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
