//! Opening a table in any input format as a stream of Arrow record batches. CSV, JSON Lines and
//! XLSX cells arrive as `Utf8` text (blank = null); Parquet and Arrow IPC keep their types. A file
//! that cannot be read at all is an error naming the file and what was expected — never a panic.
//! `Prefetch` reads a table ahead on its own thread (decoding overlaps the caller's work). Parquet
//! text columns of a few distinct values can be read as dictionaries (`ReadOptions::dictionary`),
//! and a Parquet reader knows its row count before reading (`TableReader::rows_hint`).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchReader, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::ipc::reader::{FileReader, StreamReader};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};

use super::Format;
use super::encoding::{DecodeReader, bad_text_offset};
use crate::date::Date;
use crate::{Error, Result};

/// Text encoding of CSV input (`--encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8, with or without a byte-order mark.
    #[default]
    Utf8,
    /// GB18030 (and so GBK and GB2312), as saved by Chinese-locale Excel.
    Gb18030,
}

impl Encoding {
    /// Parses `utf-8` / `utf8` / `gb18030` / `gbk` / `gb2312`.
    pub fn parse(s: &str) -> Option<Encoding> {
        match s.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "gb18030" | "gbk" | "gb2312" => Some(Encoding::Gb18030),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Gb18030 => "GB18030",
        }
    }
}

/// Which columns to keep when reading (by header); `None` keeps all.
pub type ColumnFilter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// How to read a table.
#[derive(Clone)]
pub struct ReadOptions {
    /// Encoding of CSV input.
    pub encoding: Encoding,
    /// Rows per record batch.
    pub batch_rows: usize,
    /// XLSX: the sheet to read (default: the first).
    pub sheet: Option<String>,
    /// Keep only the columns whose header passes (Parquet skips the others on disk).
    pub keep: Option<ColumnFilter>,
    /// Parquet: text columns whose header passes are read as dictionary arrays (Arrow
    /// `Dictionary(Int32, Utf8)`), for columns of a few distinct values (districts, tiers,
    /// classes): each distinct value is then decoded and parsed once, not once per row.
    pub dictionary: Option<ColumnFilter>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            encoding: Encoding::Utf8,
            batch_rows: 64 * 1024,
            sheet: None,
            keep: None,
            dictionary: None,
        }
    }
}

impl std::fmt::Debug for ReadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOptions")
            .field("encoding", &self.encoding)
            .field("batch_rows", &self.batch_rows)
            .field("sheet", &self.sheet)
            .field("keep", &self.keep.is_some())
            .field("dictionary", &self.dictionary.is_some())
            .finish()
    }
}

enum Inner {
    Csv(Box<arrow::csv::reader::BufReader<BufReader<Box<dyn Read + Send>>>>),
    Parquet(ParquetRecordBatchReader),
    IpcFile(FileReader<BufReader<File>>),
    IpcStream(StreamReader<BufReader<File>>),
    Batches(std::vec::IntoIter<RecordBatch>),
    Jsonl(JsonlReader),
}

/// A table being read: its schema, then its record batches in file order.
pub struct TableReader {
    path: PathBuf,
    format: Format,
    encoding: Encoding,
    schema: SchemaRef,
    /// Columns of the file's schema kept (for formats filtered after decoding).
    projection: Option<Vec<usize>>,
    inner: Inner,
    rows: u64,
    rows_hint: Option<u64>,
}

impl TableReader {
    /// The table's schema (after column filtering).
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The file this reader reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The format being read.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Rows read so far.
    pub fn rows_read(&self) -> u64 {
        self.rows
    }

    /// The number of data rows the file says it holds, when its format records it (Parquet,
    /// XLSX): for sizing buffers once, never for counting (the rows read are what count).
    pub fn rows_hint(&self) -> Option<u64> {
        self.rows_hint
    }

    /// Reads every remaining batch.
    pub fn read_all(self) -> Result<Vec<RecordBatch>> {
        self.collect()
    }

    fn bad(&self, message: impl std::fmt::Display) -> Error {
        let message = message.to_string();
        if let Some(offset) = bad_text_offset(&message) {
            return Error::Encoding {
                path: self.path.clone(),
                encoding: self.encoding.name(),
                offset,
            };
        }
        Error::BadFile {
            path: self.path.clone(),
            format: self.format.name(),
            message,
        }
    }
}

impl Iterator for TableReader {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Result<RecordBatch>> {
        let next: Option<std::result::Result<RecordBatch, String>> = match &mut self.inner {
            Inner::Csv(r) => r.next().map(|b| b.map_err(|e| e.to_string())),
            Inner::Parquet(r) => r.next().map(|b| b.map_err(|e| e.to_string())),
            Inner::IpcFile(r) => r.next().map(|b| b.map_err(|e| e.to_string())),
            Inner::IpcStream(r) => r.next().map(|b| b.map_err(|e| e.to_string())),
            Inner::Batches(r) => r.next().map(Ok),
            Inner::Jsonl(r) => r.next_batch().transpose(),
        };
        let batch = match next? {
            Ok(b) => b,
            Err(e) => return Some(Err(self.bad(e))),
        };
        let batch = match &self.projection {
            Some(p) => match batch.project(p) {
                Ok(b) => b,
                Err(e) => return Some(Err(self.bad(e))),
            },
            None => batch,
        };
        // Attach the (possibly renamed) schema so every batch reports the same one.
        let batch = match RecordBatch::try_new(self.schema.clone(), batch.columns().to_vec()) {
            Ok(b) => b,
            Err(e) => return Some(Err(self.bad(e))),
        };
        self.rows += batch.num_rows() as u64;
        Some(Ok(batch))
    }
}

/// A table read ahead on its own thread: the next `depth` record batches are decoded while the
/// caller works on the current one (Parquet decompression and decoding then run on the other
/// core). Batches arrive in file order; errors arrive where they happened. Dropping the reader
/// stops the thread at its next batch.
pub struct Prefetch {
    rx: std::sync::mpsc::Receiver<Result<RecordBatch>>,
    handle: Option<std::thread::JoinHandle<()>>,
    schema: SchemaRef,
    path: PathBuf,
    rows_hint: Option<u64>,
}

impl Prefetch {
    /// Starts reading `reader` ahead, at most `depth` batches (at least 1).
    pub fn new(reader: TableReader, depth: usize) -> Prefetch {
        let schema = reader.schema();
        let path = reader.path().to_path_buf();
        let rows_hint = reader.rows_hint();
        let (tx, rx) = std::sync::mpsc::sync_channel(depth.max(1));
        let work = move || {
            for batch in reader {
                let failed = batch.is_err();
                if tx.send(batch).is_err() || failed {
                    break;
                }
            }
        };
        // Spawning fails only when the OS is out of threads: not something a user input causes.
        let handle = std::thread::Builder::new()
            .name("spotcheck-read".into())
            .spawn(work)
            .expect("the OS could not start the reading thread");
        Prefetch {
            rx,
            handle: Some(handle),
            schema,
            path,
            rows_hint,
        }
    }

    /// See [`TableReader::rows_hint`].
    pub fn rows_hint(&self) -> Option<u64> {
        self.rows_hint
    }

    /// The table's schema.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Iterator for Prefetch {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Result<RecordBatch>> {
        match self.rx.recv() {
            Ok(b) => Some(b),
            Err(_) => {
                // The thread has finished: a panic there is a bug, reported rather than lost.
                if let Some(h) = self.handle.take()
                    && h.join().is_err()
                {
                    return Some(Err(Error::BadFile {
                        path: self.path.clone(),
                        format: "table",
                        message: "the reading thread stopped unexpectedly".into(),
                    }));
                }
                None
            }
        }
    }
}

fn open_file(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::io(path, e))
}

fn utf8_schema(names: &[String]) -> SchemaRef {
    Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ))
}

/// Opens a table; the format follows the extension (`-` = CSV on standard input).
pub fn open(path: &Path, opts: &ReadOptions) -> Result<TableReader> {
    let format = Format::from_path(path)?;
    let bad = |message: String| Error::BadFile {
        path: path.to_path_buf(),
        format: format.name(),
        message,
    };
    let mut rows_hint = None;
    let (schema, inner): (SchemaRef, Inner) = match format {
        Format::Csv => open_csv(path, opts)?,
        Format::Parquet => {
            let file = open_file(path)?;
            if file.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
                return Err(Error::EmptyFile {
                    path: path.to_path_buf(),
                    expected: "a Parquet file".into(),
                });
            }
            let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
                .map_err(|e| bad(e.to_string()))?;
            let meta = match &opts.dictionary {
                Some(dict) => {
                    let fields: Vec<Field> = meta
                        .schema()
                        .fields()
                        .iter()
                        .map(|f| match f.data_type() {
                            DataType::Utf8 if dict(f.name()) => Field::new(
                                f.name(),
                                DataType::Dictionary(
                                    Box::new(DataType::Int32),
                                    Box::new(DataType::Utf8),
                                ),
                                f.is_nullable(),
                            )
                            .with_metadata(f.metadata().clone()),
                            _ => f.as_ref().clone(),
                        })
                        .collect();
                    let schema = Arc::new(Schema::new_with_metadata(
                        fields,
                        meta.schema().metadata().clone(),
                    ));
                    ArrowReaderMetadata::try_new(
                        meta.metadata().clone(),
                        ArrowReaderOptions::new().with_schema(schema),
                    )
                    .map_err(|e| bad(e.to_string()))?
                }
                None => meta,
            };
            let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta)
                .with_batch_size(opts.batch_rows);
            rows_hint = u64::try_from(builder.metadata().file_metadata().num_rows()).ok();
            let builder = match &opts.keep {
                Some(keep) => {
                    let roots: Vec<usize> = builder
                        .schema()
                        .fields()
                        .iter()
                        .enumerate()
                        .filter(|(_, f)| keep(f.name()))
                        .map(|(i, _)| i)
                        .collect();
                    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
                    builder.with_projection(mask)
                }
                None => builder,
            };
            let reader = builder.build().map_err(|e| bad(e.to_string()))?;
            (reader.schema(), Inner::Parquet(reader))
        }
        Format::Arrow => {
            let mut file = open_file(path)?;
            let mut magic = [0u8; 6];
            let n = file.read(&mut magic).map_err(|e| Error::io(path, e))?;
            if n == 0 {
                return Err(Error::EmptyFile {
                    path: path.to_path_buf(),
                    expected: "an Arrow IPC file or stream".into(),
                });
            }
            let file = open_file(path)?;
            if &magic[..n] == b"ARROW1" {
                let r = FileReader::try_new(BufReader::new(file), None)
                    .map_err(|e| bad(e.to_string()))?;
                (r.schema(), Inner::IpcFile(r))
            } else {
                let r = StreamReader::try_new(BufReader::new(file), None)
                    .map_err(|e| bad(e.to_string()))?;
                (r.schema(), Inner::IpcStream(r))
            }
        }
        Format::Jsonl => {
            let r = JsonlReader::open(path, opts.batch_rows)?;
            (r.schema.clone(), Inner::Jsonl(r))
        }
        Format::Xlsx => {
            let (schema, batches) = read_xlsx(path, opts)?;
            rows_hint = Some(batches.iter().map(|b| b.num_rows() as u64).sum());
            (schema, Inner::Batches(batches.into_iter()))
        }
    };
    if schema.fields().is_empty() {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
            expected: "a header row".into(),
        });
    }
    // Parquet already projected on disk; the others are filtered per batch.
    let (schema, projection) = match (&opts.keep, format) {
        (Some(keep), f) if f != Format::Parquet => {
            let idx: Vec<usize> = schema
                .fields()
                .iter()
                .enumerate()
                .filter(|(_, f)| keep(f.name()))
                .map(|(i, _)| i)
                .collect();
            let s = Arc::new(schema.project(&idx).map_err(|e| bad(e.to_string()))?);
            (s, Some(idx))
        }
        _ => (schema, None),
    };
    Ok(TableReader {
        path: path.to_path_buf(),
        format,
        encoding: opts.encoding,
        schema,
        projection,
        inner,
        rows: 0,
        rows_hint,
    })
}

fn decoded(path: &Path, opts: &ReadOptions) -> Result<Box<dyn Read + Send>> {
    let gb = opts.encoding == Encoding::Gb18030;
    if path.as_os_str() == "-" {
        // Standard input can be read once only: buffer it (CSV on stdin is for small tables).
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| Error::io("-", e))?;
        Ok(Box::new(DecodeReader::new(std::io::Cursor::new(buf), gb)))
    } else {
        Ok(Box::new(DecodeReader::new(
            BufReader::with_capacity(1 << 20, open_file(path)?),
            gb,
        )))
    }
}

fn open_csv(path: &Path, opts: &ReadOptions) -> Result<(SchemaRef, Inner)> {
    let bad_text = |e: &std::io::Error| {
        bad_text_offset(&e.to_string()).map(|offset| Error::Encoding {
            path: path.to_path_buf(),
            encoding: opts.encoding.name(),
            offset,
        })
    };
    let mut reader = BufReader::with_capacity(1 << 20, decoded(path, opts)?);
    // The header: the first record. Read it with the csv crate's rules via arrow's parser on the
    // first line(s), so quoted headers with commas work.
    let mut header_bytes = Vec::new();
    loop {
        let n = reader
            .read_until(b'\n', &mut header_bytes)
            .map_err(|e| bad_text(&e).unwrap_or_else(|| Error::io(path, e)))?;
        // A quoted header may span lines: stop once the quotes balance.
        if n == 0 || header_bytes.iter().filter(|&&b| b == b'"').count() % 2 == 0 {
            break;
        }
    }
    let header_line = String::from_utf8_lossy(&header_bytes);
    let header_line = header_line.trim_end_matches(['\n', '\r']);
    if header_line.trim().is_empty() {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
            expected: "a header row".into(),
        });
    }
    let names = split_csv_record(header_line);
    let schema = utf8_schema(&names);
    let r = arrow::csv::ReaderBuilder::new(schema.clone())
        .with_header(false)
        .with_batch_size(opts.batch_rows)
        .build_buffered(reader)
        .map_err(|e| Error::BadFile {
            path: path.to_path_buf(),
            format: "CSV",
            message: e.to_string(),
        })?;
    Ok((schema, Inner::Csv(Box::new(r))))
}

/// Splits one CSV record (RFC 4180 quoting) into its fields.
pub(crate) fn split_csv_record(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// JSON Lines reader: a first pass collects the keys (in order of first appearance), the second
/// streams batches with every value as text (numbers as written, booleans `true`/`false`).
struct JsonlReader {
    path: PathBuf,
    schema: SchemaRef,
    lines: std::io::Lines<BufReader<File>>,
    line_no: u64,
    batch_rows: usize,
}

impl JsonlReader {
    fn open(path: &Path, batch_rows: usize) -> Result<Self> {
        let mut keys: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let reader = BufReader::new(open_file(path)?);
        for (i, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| jsonl_io(path, i as u64 + 1, e))?;
            if line.trim().is_empty() {
                continue;
            }
            let obj = parse_object(path, i as u64 + 1, &line)?;
            for k in obj.keys() {
                if seen.insert(k.clone()) {
                    keys.push(k.clone());
                }
            }
        }
        if keys.is_empty() {
            return Err(Error::EmptyFile {
                path: path.to_path_buf(),
                expected: "JSON objects, one per line".into(),
            });
        }
        Ok(JsonlReader {
            path: path.to_path_buf(),
            schema: utf8_schema(&keys),
            lines: BufReader::new(open_file(path)?).lines(),
            line_no: 0,
            batch_rows,
        })
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>, String> {
        let n = self.schema.fields().len();
        let mut builders: Vec<StringBuilder> = (0..n).map(|_| StringBuilder::new()).collect();
        let mut rows = 0;
        while rows < self.batch_rows {
            let Some(line) = self.lines.next() else { break };
            self.line_no += 1;
            let line = line.map_err(|e| jsonl_io(&self.path, self.line_no, e).to_string())?;
            if line.trim().is_empty() {
                continue;
            }
            let obj = parse_object(&self.path, self.line_no, &line).map_err(|e| e.to_string())?;
            for (f, b) in self.schema.fields().iter().zip(builders.iter_mut()) {
                match obj.get(f.name()) {
                    None | Some(serde_json::Value::Null) => b.append_null(),
                    Some(serde_json::Value::String(s)) => b.append_value(s),
                    Some(v) => b.append_value(v.to_string()),
                }
            }
            rows += 1;
        }
        if rows == 0 {
            return Ok(None);
        }
        let cols: Vec<ArrayRef> = builders
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        RecordBatch::try_new(self.schema.clone(), cols)
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

fn jsonl_io(path: &Path, line: u64, e: std::io::Error) -> Error {
    Error::BadFile {
        path: path.to_path_buf(),
        format: "JSON Lines",
        message: format!("line {line}: {e} (JSON Lines must be UTF-8)"),
    }
}

fn parse_object(
    path: &Path,
    line: u64,
    text: &str,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(Error::BadFile {
            path: path.to_path_buf(),
            format: "JSON Lines",
            message: format!("line {line}: expected a JSON object {{...}}"),
        }),
        Err(e) => Err(Error::BadFile {
            path: path.to_path_buf(),
            format: "JSON Lines",
            message: format!("line {line}: {e}"),
        }),
    }
}

/// Formats an XLSX cell as text: whole numbers without `.0`, dates as `YYYY-MM-DD`.
fn xlsx_cell_text(cell: &calamine::Data) -> Option<String> {
    use calamine::Data;
    match cell {
        Data::Empty => None,
        Data::String(s) => Some(s.clone()),
        Data::Int(i) => Some(i.to_string()),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                Some(format!("{}", *f as i64))
            } else {
                Some(f.to_string())
            }
        }
        Data::Bool(b) => Some(b.to_string()),
        Data::DateTime(d) => Some(Date::from_excel_serial(d.as_f64()).to_string()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Some(s.clone()),
        Data::Error(e) => Some(format!("#{e:?}")),
    }
}

fn read_xlsx(path: &Path, opts: &ReadOptions) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    use calamine::Reader;
    let bad = |message: String| Error::BadFile {
        path: path.to_path_buf(),
        format: "XLSX",
        message,
    };
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(path).map_err(|e| match e {
        calamine::XlsxError::Io(e) => Error::io(path, e),
        e => bad(e.to_string()),
    })?;
    let names = wb.sheet_names();
    let sheet = match &opts.sheet {
        Some(s) => {
            if !names.contains(s) {
                return Err(bad(format!(
                    "no sheet named {s:?} (sheets: {})",
                    names.join(", ")
                )));
            }
            s.clone()
        }
        None => names
            .first()
            .cloned()
            .ok_or_else(|| bad("the workbook has no sheet".into()))?,
    };
    let range = wb.worksheet_range(&sheet).map_err(|e| bad(e.to_string()))?;
    let mut rows = range.rows();
    let header: Vec<String> = match rows.next() {
        Some(h) => h
            .iter()
            .map(|c| xlsx_cell_text(c).unwrap_or_default())
            .collect(),
        None => {
            return Err(Error::EmptyFile {
                path: path.to_path_buf(),
                expected: format!("a header row in sheet {sheet:?}"),
            });
        }
    };
    // Trailing blank header cells are not columns.
    let width = header
        .iter()
        .rposition(|h| !h.trim().is_empty())
        .map_or(0, |i| i + 1);
    let header = &header[..width];
    let schema = utf8_schema(header);
    let mut batches = Vec::new();
    let mut builders: Vec<StringBuilder> = (0..width).map(|_| StringBuilder::new()).collect();
    let mut n = 0;
    for row in rows {
        if row.iter().all(|c| matches!(c, calamine::Data::Empty)) {
            continue;
        }
        for (j, b) in builders.iter_mut().enumerate() {
            match row.get(j).and_then(xlsx_cell_text) {
                Some(s) => b.append_value(s),
                None => b.append_null(),
            }
        }
        n += 1;
        if n == opts.batch_rows {
            batches.push(finish_batch(&schema, &mut builders).map_err(bad)?);
            n = 0;
        }
    }
    if n > 0 {
        batches.push(finish_batch(&schema, &mut builders).map_err(bad)?);
    }
    Ok((schema, batches))
}

fn finish_batch(
    schema: &SchemaRef,
    builders: &mut [StringBuilder],
) -> std::result::Result<RecordBatch, String> {
    let cols: Vec<ArrayRef> = builders
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    RecordBatch::try_new(schema.clone(), cols).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_header_split() {
        assert_eq!(
            split_csv_record("a,\"b,c\",\"d\"\"e\""),
            vec!["a", "b,c", "d\"e"]
        );
        assert_eq!(split_csv_record("a"), vec!["a"]);
    }
}
