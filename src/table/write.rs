//! Writing a table in any output format (CSV with optional BOM, Parquet with zstd, Arrow IPC,
//! JSON Lines, XLSX). Every writer writes to a temporary file in the target's folder and renames
//! it into place in `finish`; dropped unfinished, it deletes the temporary file, so a failed run
//! leaves no partial output (SPEC §2.2). `WriteBehind` runs a writer on its own thread (encoding
//! overlaps the caller's work).
//!
//! CSV output is neutralised against formula injection (SPEC §12, OWASP): a text cell or header
//! that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is written with a leading `'`,
//! so a list opened in Excel never runs a formula ([`neutralise_formulas`]). Numeric columns are
//! numbers and are never touched; a text cell that is a plain decimal number (`-5`, `+1.5`, a
//! passed-through input column) is not a formula and is left as it is. XLSX cells are written as
//! strings (`write_string`), never as formulas; reading strips nothing.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::Format;
use super::atomic::TempFile;
pub use super::atomic::temp_path;
use super::parquet_write::ParallelParquet;
use super::xlsx::{MAX_DATA_ROWS, SheetWriter, new_workbook};
use crate::{Error, Result};

/// How to write a table.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// CSV: start with a UTF-8 byte-order mark so that Excel shows Chinese text (`--bom`).
    pub bom: bool,
    /// XLSX: the worksheet's name.
    pub sheet: String,
    /// Parquet: rows per row group.
    pub row_group_rows: usize,
    /// XLSX: text columns (by header) whose plain decimal numbers are written as numbers — the
    /// columns a command passes through from a CSV input, where every cell arrives as text.
    pub numeric_text_columns: Vec<String>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            bom: false,
            sheet: "Sheet1".into(),
            row_group_rows: 1024 * 1024,
            numeric_text_columns: Vec::new(),
        }
    }
}

impl WriteOptions {
    /// Whether CSV output starts with a UTF-8 byte-order mark (SPEC §12): Chinese output (`--lang
    /// zh`) does by default, so that a double-click opens it in Chinese Excel without mojibake;
    /// English output does not (analysts' tools expect none). `--bom` asks for one in English too,
    /// `--no-bom` leaves it out in Chinese. The one place this default is decided: every command
    /// that writes CSV calls it.
    ///
    /// ```
    /// use spotcheck::schema::Lang;
    /// use spotcheck::table::WriteOptions;
    /// assert!(WriteOptions::csv_bom(Lang::Zh, false, false));
    /// assert!(!WriteOptions::csv_bom(Lang::Zh, false, true));
    /// assert!(!WriteOptions::csv_bom(Lang::En, false, false));
    /// assert!(WriteOptions::csv_bom(Lang::En, true, false));
    /// ```
    pub fn csv_bom(lang: crate::schema::Lang, bom: bool, no_bom: bool) -> bool {
        !no_bom && (bom || lang == crate::schema::Lang::Zh)
    }
}

/// The Parquet settings spotcheck writes with (the I/O-floor bench uses the same).
pub fn parquet_properties(row_group_rows: usize) -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default()))
        .set_max_row_group_row_count(Some(row_group_rows.max(1)))
        .set_created_by(format!("spotcheck {}", env!("CARGO_PKG_VERSION")))
        .build()
}

enum Inner {
    Csv(arrow::csv::Writer<BufWriter<File>>),
    Parquet(Box<ParallelParquet<File>>),
    Ipc(arrow::ipc::writer::FileWriter<BufWriter<File>>),
    Jsonl(arrow::json::LineDelimitedWriter<BufWriter<File>>),
    Xlsx(Box<XlsxState>),
}

struct XlsxState {
    workbook: rust_xlsxwriter::Workbook,
    sheet: SheetWriter,
}

/// A table being written; call `finish` to put it in place.
pub struct TableWriter {
    path: PathBuf,
    /// `None` once committed.
    tmp: Option<TempFile>,
    format: Format,
    schema: SchemaRef,
    inner: Option<Inner>,
    rows: u64,
}

/// Creates a writer for `path` (format by extension).
pub fn create(path: &Path, schema: SchemaRef, opts: &WriteOptions) -> Result<TableWriter> {
    let format = Format::from_path(path)?;
    if path.as_os_str() == "-" {
        return Err(Error::Argument {
            argument: "output".into(),
            message: "writing to standard output is not supported: give a file name".into(),
        });
    }
    let tmp = TempFile::new(path);
    let arrow_err = |source| Error::Arrow {
        path: path.to_path_buf(),
        source,
    };
    let open = || -> Result<File> { File::create(tmp.tmp()).map_err(|e| Error::io(path, e)) };
    let inner = match format {
        Format::Csv => {
            let mut f = BufWriter::with_capacity(1 << 20, open()?);
            if opts.bom {
                f.write_all(b"\xEF\xBB\xBF")
                    .map_err(|e| Error::io(path, e))?;
            }
            Inner::Csv(arrow::csv::WriterBuilder::new().with_header(true).build(f))
        }
        Format::Parquet => {
            let w = ParallelParquet::try_new(
                open()?,
                schema.clone(),
                parquet_properties(opts.row_group_rows),
            )
            .map_err(|e| arrow_err(e.into()))?;
            Inner::Parquet(Box::new(w))
        }
        Format::Arrow => {
            let f = BufWriter::with_capacity(1 << 20, open()?);
            Inner::Ipc(arrow::ipc::writer::FileWriter::try_new(f, &schema).map_err(arrow_err)?)
        }
        Format::Jsonl => {
            let f = BufWriter::with_capacity(1 << 20, open()?);
            Inner::Jsonl(arrow::json::LineDelimitedWriter::new(f))
        }
        Format::Xlsx => {
            let mut workbook = new_workbook();
            let ws = workbook.add_worksheet();
            let xerr = |e: rust_xlsxwriter::XlsxError| Error::Xlsx {
                path: path.to_path_buf(),
                message: e.to_string(),
            };
            ws.set_name(&opts.sheet).map_err(xerr)?;
            let headers: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            let numeric = headers
                .iter()
                .map(|h| opts.numeric_text_columns.iter().any(|c| c == h))
                .collect();
            let sheet = SheetWriter::new(ws, &headers)
                .map_err(xerr)?
                .with_numeric_text(numeric);
            Inner::Xlsx(Box::new(XlsxState { workbook, sheet }))
        }
    };
    Ok(TableWriter {
        path: path.to_path_buf(),
        tmp: Some(tmp),
        format,
        schema,
        inner: Some(inner),
        rows: 0,
    })
}

impl TableWriter {
    /// The schema being written.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Appends a batch (its schema must match the writer's).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let path = self.path.clone();
        let arrow_err = |source| Error::Arrow {
            path: path.clone(),
            source,
        };
        match self.inner.as_mut() {
            Some(Inner::Csv(w)) => match neutralise_formulas(batch).map_err(arrow_err)? {
                Some(safe) => w.write(&safe).map_err(arrow_err)?,
                None => w.write(batch).map_err(arrow_err)?,
            },
            Some(Inner::Parquet(w)) => w.write(batch).map_err(|e| arrow_err(e.into()))?,
            Some(Inner::Ipc(w)) => w.write(batch).map_err(arrow_err)?,
            Some(Inner::Jsonl(w)) => w.write(batch).map_err(arrow_err)?,
            Some(Inner::Xlsx(x)) => {
                if self.rows + batch.num_rows() as u64 > MAX_DATA_ROWS {
                    return Err(Error::Xlsx {
                        path: self.path.clone(),
                        message: format!(
                            "an Excel sheet holds at most {MAX_DATA_ROWS} rows; write .csv or .parquet for larger tables"
                        ),
                    });
                }
                let ws = x
                    .workbook
                    .worksheet_from_index(0)
                    .map_err(|e| Error::Xlsx {
                        path: path.clone(),
                        message: e.to_string(),
                    })?;
                x.sheet.write_batch(ws, batch).map_err(|e| Error::Xlsx {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            }
            None => {}
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Completes the file and renames it into place; returns the number of rows written.
    pub fn finish(mut self) -> Result<u64> {
        let path = self.path.clone();
        let arrow_err = |source| Error::Arrow {
            path: path.clone(),
            source,
        };
        let io = |e| Error::io(&path, e);
        match self.inner.take() {
            Some(Inner::Csv(mut w)) => {
                if self.rows == 0 {
                    // arrow writes the header with the first batch: write an empty one.
                    let empty = RecordBatch::new_empty(self.schema.clone());
                    let safe = neutralise_formulas(&empty).map_err(arrow_err)?;
                    w.write(safe.as_ref().unwrap_or(&empty))
                        .map_err(arrow_err)?;
                }
                w.into_inner().flush().map_err(io)?;
            }
            Some(Inner::Parquet(w)) => {
                w.close().map_err(|e| arrow_err(e.into()))?;
            }
            Some(Inner::Ipc(mut w)) => {
                w.finish().map_err(arrow_err)?;
                w.into_inner().map_err(arrow_err)?.flush().map_err(io)?;
            }
            Some(Inner::Jsonl(mut w)) => {
                w.finish().map_err(arrow_err)?;
                w.into_inner().flush().map_err(io)?;
            }
            Some(Inner::Xlsx(mut x)) => {
                let xerr = |e: rust_xlsxwriter::XlsxError| Error::Xlsx {
                    path: path.clone(),
                    message: e.to_string(),
                };
                let XlsxState { workbook, sheet } = &mut *x;
                let ws = workbook.worksheet_from_index(0).map_err(xerr)?;
                let sheet = std::mem::replace(sheet, SheetWriter::placeholder());
                sheet.finish(ws).map_err(xerr)?;
                let Some(tmp) = &self.tmp else {
                    return Err(Error::io(&path, std::io::Error::other("already finished")));
                };
                workbook.save(tmp.tmp()).map_err(xerr)?;
            }
            None => {}
        }
        if let Some(tmp) = self.tmp.take() {
            tmp.commit()?;
        }
        Ok(self.rows)
    }

    /// The format being written.
    pub fn format(&self) -> Format {
        self.format
    }
}

/// A [`TableWriter`] on its own thread: [`WriteBehind::write`] hands a batch over and returns at
/// once (up to `depth` batches wait), so encoding and compression (Parquet's zstd, CSV
/// formatting) overlap the caller's work on the next batch. Batches are written in the order
/// given. An error of the writer surfaces at the next `write` or at `finish`; dropped without
/// `finish` (the run failed), the file is not put in place.
pub struct WriteBehind {
    /// `Some(batch)` to write, `None` to finish.
    tx: Option<std::sync::mpsc::SyncSender<Option<RecordBatch>>>,
    handle: Option<std::thread::JoinHandle<Result<u64>>>,
    path: PathBuf,
}

impl WriteBehind {
    /// Moves `writer` to a thread that writes what it is given.
    pub fn new(writer: TableWriter, depth: usize) -> WriteBehind {
        let path = writer.path.clone();
        let (tx, rx) = std::sync::mpsc::sync_channel::<Option<RecordBatch>>(depth.max(1));
        let work = move || {
            let mut writer = writer;
            for msg in rx {
                match msg {
                    Some(batch) => writer.write(&batch)?,
                    None => return writer.finish(),
                }
            }
            // The sender went away without asking to finish: the run failed. Dropping the
            // writer removes its temporary file.
            Err(Error::Io {
                path: writer.path.clone(),
                source: std::io::Error::other("the output was abandoned before it was complete"),
            })
        };
        // Spawning fails only when the OS is out of threads: not something a user input causes.
        let handle = std::thread::Builder::new()
            .name("spotcheck-write".into())
            .spawn(work)
            .expect("the OS could not start the writing thread");
        WriteBehind {
            tx: Some(tx),
            handle: Some(handle),
            path,
        }
    }

    /// Queues a batch; fails when the writer has already failed (with its error).
    pub fn write(&mut self, batch: RecordBatch) -> Result<()> {
        let sent = self.tx.as_ref().map(|tx| tx.send(Some(batch)).is_ok());
        if sent == Some(true) {
            return Ok(());
        }
        // The thread stopped: it returned an error (or panicked). Report it.
        self.tx = None;
        match self.join() {
            Err(e) => Err(e),
            Ok(_) => Err(self.stopped()),
        }
    }

    /// Writes what is queued, completes the file and renames it into place; returns the rows.
    pub fn finish(mut self) -> Result<u64> {
        if let Some(tx) = self.tx.take() {
            // A failed send means the thread already stopped; join reports why.
            let _ = tx.send(None);
        }
        self.join()
    }

    fn join(&mut self) -> Result<u64> {
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(r)) => r,
            _ => Err(self.stopped()),
        }
    }

    fn stopped(&self) -> Error {
        Error::Io {
            path: self.path.clone(),
            source: std::io::Error::other("the writing thread stopped unexpectedly"),
        }
    }
}

impl Drop for WriteBehind {
    fn drop(&mut self) {
        // Unfinished: closing the channel makes the thread drop its writer (which removes the
        // temporary file); wait for that so nothing is left behind when the process exits.
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Whether text written to a CSV cell as is could start a formula in a spreadsheet: it begins
/// with `=`, `+`, `-`, `@`, a tab or a carriage return (OWASP's list, SPEC §12) and is not a
/// plain decimal number (`-5` and `+1.5` are numbers to Excel, not formulas). One byte test for
/// almost every cell; the number check runs only on cells that begin with one of those bytes.
#[inline]
pub fn needs_formula_guard(s: &str) -> bool {
    match s.as_bytes().first() {
        Some(b'=' | b'@' | b'\t' | b'\r') => true,
        Some(b'+' | b'-') => !is_plain_number(s),
        _ => false,
    }
}

/// `[+-]digits[.digits]` (a sign, then decimal digits with at most one point): what Excel reads as
/// a number, never as a formula. Exponents, `inf` and `nan` are not plain.
fn is_plain_number(s: &str) -> bool {
    let body = &s.as_bytes()[1..];
    let mut digits = 0;
    let mut points = 0;
    for &b in body {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' => points += 1,
            _ => return false,
        }
    }
    digits > 0 && points <= 1
}

/// The text a CSV cell gets: `'` before text that could start a formula ([`needs_formula_guard`]).
///
/// ```
/// use spotcheck::table::write::guard_formula;
/// assert_eq!(guard_formula("=HYPERLINK(\"http://x\",\"点击\")"), "'=HYPERLINK(\"http://x\",\"点击\")");
/// assert_eq!(guard_formula("+cmd|\"/C calc\"!A0"), "'+cmd|\"/C calc\"!A0");
/// assert_eq!(guard_formula("-5"), "-5");
/// assert_eq!(guard_formula("北京示例有限公司"), "北京示例有限公司");
/// ```
pub fn guard_formula(s: &str) -> std::borrow::Cow<'_, str> {
    if needs_formula_guard(s) {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// The batch as it must be written to CSV: `None` when no header and no text cell needs the
/// formula guard (the common case: one byte test per text cell, nothing copied), else a copy whose
/// guarded text columns (`Utf8`, `LargeUtf8`, `Utf8View`, dictionaries of them) are `Utf8` with
/// `'` before each cell that needs it, and whose guarded headers are prefixed the same way.
pub fn neutralise_formulas(
    batch: &RecordBatch,
) -> std::result::Result<Option<RecordBatch>, arrow::error::ArrowError> {
    use arrow::array::{Array, ArrayRef, AsArray, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn text_needs_guard(col: &dyn Array) -> bool {
        match col.data_type() {
            DataType::Utf8 => col
                .as_string::<i32>()
                .iter()
                .flatten()
                .any(needs_formula_guard),
            DataType::LargeUtf8 => col
                .as_string::<i64>()
                .iter()
                .flatten()
                .any(needs_formula_guard),
            DataType::Utf8View => col
                .as_string_view()
                .iter()
                .flatten()
                .any(needs_formula_guard),
            DataType::Dictionary(_, v) if is_text(v) => {
                text_needs_guard(col.as_any_dictionary().values().as_ref())
            }
            _ => false,
        }
    }
    fn is_text(t: &DataType) -> bool {
        matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
    }

    let schema = batch.schema();
    let header_guard = schema
        .fields()
        .iter()
        .any(|f| needs_formula_guard(f.name()));
    let guard: Vec<bool> = batch
        .columns()
        .iter()
        .map(|c| text_needs_guard(c.as_ref()))
        .collect();
    if !header_guard && !guard.iter().any(|&g| g) {
        return Ok(None);
    }
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
    for ((f, col), g) in schema.fields().iter().zip(batch.columns()).zip(guard) {
        let name = guard_formula(f.name()).into_owned();
        if g {
            let text = arrow::compute::cast(col, &DataType::Utf8)?;
            let text = text.as_string::<i32>();
            let safe: StringArray = text.iter().map(|v| v.map(guard_formula)).collect();
            fields.push(Field::new(name, DataType::Utf8, f.is_nullable()));
            columns.push(Arc::new(safe));
        } else {
            fields.push(f.as_ref().clone().with_name(name));
            columns.push(col.clone());
        }
    }
    let options =
        arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), columns, &options).map(Some)
}

impl Drop for TableWriter {
    fn drop(&mut self) {
        // Unfinished: drop the writer first (closing the file); the TempFile then removes the
        // partial file.
        self.inner.take();
    }
}

#[cfg(test)]
mod formula_tests {
    use std::sync::Arc;

    use arrow::array::{
        Array, ArrayRef, AsArray, DictionaryArray, Float64Array, LargeStringArray, StringArray,
        StringViewArray,
    };
    use arrow::datatypes::{DataType, Field, Int32Type, Schema};

    use super::*;

    #[test]
    fn which_text_is_guarded() {
        for s in [
            "=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "-", "+", "--5", "-1e5", "-1.2.3",
        ] {
            assert!(needs_formula_guard(s), "{s:?}");
        }
        for s in [
            "", "示例", "'=1", " =1", "a=b", "-5", "+1.5", "-0.25", "-.5", "12",
        ] {
            assert!(!needs_formula_guard(s), "{s:?}");
        }
    }

    #[test]
    fn batches_without_formulas_are_not_copied() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, true),
            Field::new("x", DataType::Float64, true),
        ]));
        let b = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("甲"), None, Some("-5")])),
                Arc::new(Float64Array::from(vec![-1.0, -2.0, 3.0])),
            ],
        )
        .unwrap();
        assert!(neutralise_formulas(&b).unwrap().is_none());
    }

    #[test]
    fn every_text_type_and_the_header_are_guarded_numbers_untouched() {
        let dict: DictionaryArray<Int32Type> = vec!["=a", "b", "=a"].into_iter().collect();
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![
                Some("=HYPERLINK(\"x\")"),
                None,
                Some("ok"),
            ])),
            Arc::new(LargeStringArray::from(vec!["+cmd", "a", "-1"])),
            Arc::new(StringViewArray::from(vec!["@x", "b", "c"])),
            Arc::new(dict),
            Arc::new(Float64Array::from(vec![-1.5, 0.0, 2.0])),
        ];
        let schema = Arc::new(Schema::new(
            cols.iter()
                .enumerate()
                .map(|(j, c)| {
                    let name = if j == 4 {
                        "=evil".to_string()
                    } else {
                        format!("c{j}")
                    };
                    Field::new(name, c.data_type().clone(), true)
                })
                .collect::<Vec<_>>(),
        ));
        let b = RecordBatch::try_new(schema, cols).unwrap();
        let safe = neutralise_formulas(&b).unwrap().unwrap();
        let text = |j: usize| -> Vec<Option<String>> {
            safe.column(j)
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_owned))
                .collect()
        };
        assert_eq!(
            text(0),
            [Some("'=HYPERLINK(\"x\")".into()), None, Some("ok".into())]
        );
        assert_eq!(
            text(1),
            [Some("'+cmd".into()), Some("a".into()), Some("-1".into())]
        );
        assert_eq!(
            text(2),
            [Some("'@x".into()), Some("b".into()), Some("c".into())]
        );
        assert_eq!(
            text(3),
            [Some("'=a".into()), Some("b".into()), Some("'=a".into())]
        );
        // The numeric column is the same array; only its header is guarded.
        assert_eq!(safe.schema().field(4).name(), "'=evil");
        assert_eq!(safe.column(4).as_ref(), b.column(4).as_ref());
        assert_eq!(safe.column(4).null_count(), 0);
    }

    #[test]
    fn csv_file_is_guarded_and_header_only_files_too() {
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("=h", DataType::Utf8, true)]));
        let p = dir.path().join("a.csv");
        let w = create(&p, schema.clone(), &WriteOptions::default()).unwrap();
        w.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "'=h\n");
        let p = dir.path().join("b.csv");
        let mut w = create(&p, schema.clone(), &WriteOptions::default()).unwrap();
        let b = RecordBatch::try_new(
            schema,
            vec![Arc::new(StringArray::from(vec!["=1+1", "-3"]))],
        )
        .unwrap();
        w.write(&b).unwrap();
        w.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "'=h\n'=1+1\n-3\n");
    }
}
