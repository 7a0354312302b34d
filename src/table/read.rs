//! Opening a table in any input format as a stream of Arrow record batches. CSV, JSON Lines and
//! XLSX cells arrive as `Utf8` text (blank = null); Parquet and Arrow IPC keep their types. A file
//! that cannot be read at all is an error naming the file and what was expected — never a panic.
//! `Prefetch` reads a table ahead on its own thread (decoding overlaps the caller's work). Parquet
//! text columns of a few distinct values can be read as dictionaries (`ReadOptions::dictionary`),
//! and a Parquet reader knows its row count before reading (`TableReader::rows_hint`).
//!
//! Bureau exports as they are (SPEC §12, see `layout`): in CSV and XLSX the header is the first of
//! the first rows that the caller's probe accepts (`ReadOptions::header`), blank and total rows are
//! skipped and counted in every format, and each batch comes with the file row number of its
//! first row (`TableReader::next_numbered`). Hostile input meets limits, not allocations: CSV and
//! JSON lines over 16 MiB, more than 10 000 columns, JSON nested deeper than 64, XLSX parts past
//! `ReadOptions::max_xlsx_bytes`.

use std::collections::VecDeque;
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
use super::layout::{
    DEFAULT_MAX_XLSX_BYTES, HEADER_SEARCH_ROWS, HeaderProbe, Layout, MAX_COLUMNS, MAX_JSON_DEPTH,
    MAX_LINE_BYTES, Numbered, Skipped, human_bytes, json_depth_exceeds, split_skipped,
};
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
    /// XLSX: the sheet to read, by name or 1-based number (`--sheet NAME|N`; default: the first
    /// sheet whose first rows hold a header `header` accepts, else the first sheet).
    pub sheet: Option<String>,
    /// CSV and XLSX: which of the first rows is the header (default: the first row). Readers of
    /// tables with required columns pass [`super::layout::header_probe`], so a title row above the
    /// header is passed over.
    pub header: Option<HeaderProbe>,
    /// XLSX: the most bytes the workbook's parts may decompress to (`--max-xlsx-bytes`).
    pub max_xlsx_bytes: u64,
    /// Keep only the columns whose header passes (Parquet skips the others on disk).
    pub keep: Option<ColumnFilter>,
    /// Parquet: text columns whose header passes are read as dictionary arrays (Arrow
    /// `Dictionary(Int32, Utf8)`), for columns of a few distinct values (districts, tiers,
    /// classes): each distinct value is then decoded and parsed once, not once per row.
    pub dictionary: Option<ColumnFilter>,
    /// Parquet and Arrow IPC: skip no row as blank or total, so that rows are read by
    /// position (reading back one column of rows read before, where a row blank in that column
    /// alone is still a row). Default: off (blank and total rows are skipped and counted).
    pub every_row: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            encoding: Encoding::Utf8,
            batch_rows: 64 * 1024,
            sheet: None,
            header: None,
            max_xlsx_bytes: DEFAULT_MAX_XLSX_BYTES,
            keep: None,
            dictionary: None,
            every_row: false,
        }
    }
}

impl std::fmt::Debug for ReadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOptions")
            .field("encoding", &self.encoding)
            .field("batch_rows", &self.batch_rows)
            .field("sheet", &self.sheet)
            .field("header", &self.header.is_some())
            .field("max_xlsx_bytes", &self.max_xlsx_bytes)
            .field("keep", &self.keep.is_some())
            .field("dictionary", &self.dictionary.is_some())
            .field("every_row", &self.every_row)
            .finish()
    }
}

enum Inner {
    Csv(Box<arrow::csv::reader::BufReader<BufReader<Box<dyn Read + Send>>>>),
    Parquet(ParquetRecordBatchReader),
    IpcFile(FileReader<BufReader<File>>),
    IpcStream(StreamReader<BufReader<File>>),
    Numbered(std::vec::IntoIter<Numbered>),
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
    layout: Layout,
    skipped: Skipped,
    /// Batches split around skipped rows, not yet handed out.
    pending: VecDeque<Numbered>,
    /// File row number (rejects convention) of the next raw row, for formats whose raw batches
    /// are consecutive rows (CSV, Parquet, Arrow IPC).
    next_row: u64,
    /// Hand out every decoded row, skipping none as blank or total ([`ReadOptions::every_row`]).
    every_row: bool,
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

    /// Where the table was found in its file (sheet, header row).
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Blank and total rows skipped so far (all of them once the reader is exhausted).
    pub fn skipped(&self) -> Skipped {
        self.skipped
    }

    /// The next batch of data rows with the file row number of its first row (rows of one batch
    /// are consecutive in the file; blank and total rows are skipped between batches).
    pub fn next_numbered(&mut self) -> Option<Result<Numbered>> {
        loop {
            if let Some(n) = self.pending.pop_front() {
                self.rows += n.batch.num_rows() as u64;
                return Some(Ok(n));
            }
            let raw: std::result::Result<Numbered, String> = match &mut self.inner {
                Inner::Numbered(r) => Ok(r.next()?),
                Inner::Jsonl(r) => match r.next_batch() {
                    Ok(Some(n)) => Ok(n),
                    Ok(None) => {
                        self.skipped.blank += std::mem::take(&mut r.blank_lines);
                        return None;
                    }
                    Err(e) => Err(e),
                },
                inner => {
                    let next = match inner {
                        Inner::Csv(r) => r.next().map(|b| b.map_err(|e| e.to_string())),
                        Inner::Parquet(r) => guarded(|| r.next())
                            .unwrap_or_else(|m| {
                                Some(Err(arrow::error::ArrowError::ParquetError(m)))
                            })
                            .map(|b| b.map_err(|e| e.to_string())),
                        Inner::IpcFile(r) => guarded(|| r.next())
                            .unwrap_or_else(|m| Some(Err(arrow::error::ArrowError::IpcError(m))))
                            .map(|b| b.map_err(|e| e.to_string())),
                        Inner::IpcStream(r) => guarded(|| r.next())
                            .unwrap_or_else(|m| Some(Err(arrow::error::ArrowError::IpcError(m))))
                            .map(|b| b.map_err(|e| e.to_string())),
                        Inner::Numbered(_) | Inner::Jsonl(_) => unreachable!("matched above"),
                    };
                    next?.map(|batch| {
                        let first_row = self.next_row;
                        self.next_row += batch.num_rows() as u64;
                        Numbered { batch, first_row }
                    })
                }
            };
            let Numbered { batch, first_row } = match raw {
                Ok(n) => n,
                Err(e) => return Some(Err(self.bad(e))),
            };
            if let Inner::Jsonl(r) = &mut self.inner {
                self.skipped.blank += std::mem::take(&mut r.blank_lines);
            }
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
            if self.every_row {
                self.pending.push_back(Numbered { batch, first_row });
            } else {
                self.pending
                    .extend(split_skipped(batch, first_row, &mut self.skipped));
            }
        }
    }

    fn bad(&self, message: impl std::fmt::Display) -> Error {
        let message = message.to_string();
        if let Some(offset) = line_too_long_offset(&message) {
            return line_too_long(&self.path, offset);
        }
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
        self.next_numbered().map(|r| r.map(|n| n.batch))
    }
}

/// A table read ahead on its own thread: the next `depth` record batches are decoded while the
/// caller works on the current one (Parquet decompression and decoding then run on the other
/// core). Batches arrive in file order; errors arrive where they happened. Dropping the reader
/// stops the thread at its next batch.
pub struct Prefetch {
    rx: std::sync::mpsc::Receiver<(Result<Numbered>, Skipped)>,
    handle: Option<std::thread::JoinHandle<Skipped>>,
    schema: SchemaRef,
    path: PathBuf,
    rows_hint: Option<u64>,
    layout: Layout,
    skipped: Skipped,
}

impl Prefetch {
    /// Starts reading `reader` ahead, at most `depth` batches (at least 1).
    pub fn new(reader: TableReader, depth: usize) -> Prefetch {
        let schema = reader.schema();
        let path = reader.path().to_path_buf();
        let rows_hint = reader.rows_hint();
        let layout = reader.layout().clone();
        let mut reader = reader;
        let (tx, rx) = std::sync::mpsc::sync_channel(depth.max(1));
        let work = move || {
            while let Some(batch) = reader.next_numbered() {
                let failed = batch.is_err();
                if tx.send((batch, reader.skipped())).is_err() || failed {
                    break;
                }
            }
            reader.skipped()
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
            layout,
            skipped: Skipped::default(),
        }
    }

    /// See [`TableReader::layout`].
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// See [`TableReader::skipped`]: the rows skipped before the last batch handed out, and all
    /// of them once the reader is exhausted.
    pub fn skipped(&self) -> Skipped {
        self.skipped
    }

    /// See [`TableReader::next_numbered`].
    pub fn next_numbered(&mut self) -> Option<Result<Numbered>> {
        match self.rx.recv() {
            Ok((b, skipped)) => {
                self.skipped = skipped;
                Some(b)
            }
            Err(_) => {
                // The thread has finished: a panic there is a bug, reported rather than lost.
                if let Some(h) = self.handle.take() {
                    match h.join() {
                        Ok(skipped) => self.skipped = skipped,
                        Err(_) => {
                            return Some(Err(Error::BadFile {
                                path: self.path.clone(),
                                format: "table",
                                message: "the reading thread stopped unexpectedly".into(),
                            }));
                        }
                    }
                }
                None
            }
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
        self.next_numbered().map(|r| r.map(|n| n.batch))
    }
}

/// Walks the messages of an Arrow IPC stream (or of the stream inside an IPC file, from byte
/// `start`) without decoding them: each message's metadata length and body length must fit in
/// what is left of the file, and the metadata must verify as an IPC message. Stops at the
/// end-of-stream marker or at the file's end. Reads only the metadata.
fn check_ipc_framing(file: &mut File, start: u64) -> std::result::Result<(), String> {
    use std::io::{Seek, SeekFrom};
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    let mut pos = start;
    file.seek(SeekFrom::Start(pos)).map_err(|e| e.to_string())?;
    let mut word = [0u8; 4];
    loop {
        if size.saturating_sub(pos) < 4 || file.read_exact(&mut word).is_err() {
            return Ok(());
        }
        pos += 4;
        if word == [0xFF; 4] {
            if size.saturating_sub(pos) < 4 || file.read_exact(&mut word).is_err() {
                return Ok(());
            }
            pos += 4;
        }
        let meta_len = i32::from_le_bytes(word);
        if meta_len == 0 {
            return Ok(());
        }
        let at = pos;
        let past = |what: &str, n: i64| {
            format!(
                "the file is damaged: a message at byte {at} claims {what} of {n} bytes, past the file's end ({size} bytes)"
            )
        };
        if meta_len < 0 || meta_len as u64 > size - pos {
            return Err(past("metadata", i64::from(meta_len)));
        }
        let mut meta = vec![0u8; meta_len as usize];
        file.read_exact(&mut meta).map_err(|e| e.to_string())?;
        pos += meta_len as u64;
        // Arrow reads the metadata without verifying it; a message that does not verify is
        // refused here, before arrow trusts its lengths.
        let message = arrow::ipc::root_as_message(&meta).map_err(|e| {
            format!("the file is damaged: the message at byte {at} cannot be read ({e})")
        })?;
        let body = message.bodyLength();
        if body < 0 || body as u64 > size - pos {
            return Err(past("a body", body));
        }
        pos += body as u64;
        file.seek(SeekFrom::Start(pos)).map_err(|e| e.to_string())?;
    }
}

/// The footer of an Arrow IPC file: it must verify, and every record batch and dictionary block it
/// lists must lie inside the file (arrow allocates a block's claimed size before reading it).
fn check_ipc_footer(file: &mut File) -> std::result::Result<(), String> {
    use std::io::{Seek, SeekFrom};
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    let damaged = |what: String| format!("the file is damaged: {what}");
    if size < 18 {
        return Err(damaged(format!(
            "{size} bytes is too short for an Arrow IPC file"
        )));
    }
    let mut tail = [0u8; 10];
    file.seek(SeekFrom::Start(size - 10))
        .map_err(|e| e.to_string())?;
    file.read_exact(&mut tail).map_err(|e| e.to_string())?;
    let footer_len = i32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    if footer_len < 0 || footer_len as u64 > size - 18 {
        return Err(damaged(format!(
            "its footer claims {footer_len} bytes in a file of {size}"
        )));
    }
    let mut footer = vec![0u8; footer_len as usize];
    file.seek(SeekFrom::Start(size - 10 - footer_len as u64))
        .map_err(|e| e.to_string())?;
    file.read_exact(&mut footer).map_err(|e| e.to_string())?;
    let footer = arrow::ipc::root_as_footer(&footer)
        .map_err(|e| damaged(format!("its footer cannot be read ({e})")))?;
    let blocks = footer
        .recordBatches()
        .into_iter()
        .flatten()
        .chain(footer.dictionaries().into_iter().flatten());
    for b in blocks {
        let (offset, meta, body) = (b.offset(), i64::from(b.metaDataLength()), b.bodyLength());
        let end = offset.checked_add(meta).and_then(|x| x.checked_add(body));
        if offset < 0 || meta < 0 || body < 0 || end.is_none_or(|e| e as u64 > size) {
            return Err(damaged(format!(
                "its footer lists a block at byte {offset} of {meta} + {body} bytes, past the file's end ({size} bytes)"
            )));
        }
    }
    Ok(())
}

fn open_file(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::io(path, e))
}

pub(crate) fn utf8_schema(names: &[String]) -> SchemaRef {
    Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ))
}

thread_local! {
    static IN_DECODER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is inside a third-party decoder (Parquet, Arrow IPC) that may panic on a
/// damaged file instead of returning an error; the binary's panic hook stays quiet then, since
/// the panic becomes an ordinary "cannot read" error (found by fuzzing, `fuzz/regressions/`).
pub fn in_decoder() -> bool {
    IN_DECODER.with(|c| c.get())
}

/// Runs a decoder step, turning a panic inside it into the sentence of an error.
fn guarded<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    let was = IN_DECODER.with(|c| c.replace(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    IN_DECODER.with(|c| c.set(was));
    r.map_err(|p| {
        let why = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        format!("the file is damaged (its decoder stopped: {why})")
    })
}

/// The text of column `column` (header exactly) at the 0-based data rows `rows` (ascending, no
/// repeats) of a Parquet file, trimmed, blank or null as `""`: what reading the whole column
/// with [`open`] and [`super::cells::TextColumn`] gives at those rows, but only the row groups
/// holding a wanted row are read, each on its own rayon task, and within one only the rows
/// asked for are decoded (a row selection; with the file's offset index, pages without a wanted
/// row are not even decompressed). `sample` reads its drawn units' names back this way.
pub fn parquet_rows_text(path: &Path, column: &str, rows: &[u64]) -> Result<Vec<String>> {
    use parquet::arrow::arrow_reader::{RowSelection, RowSelector};
    use parquet::file::metadata::PageIndexPolicy;
    use rayon::prelude::*;
    let bad = |message: String| Error::BadFile {
        path: path.to_path_buf(),
        format: Format::Parquet.name(),
        message,
    };
    if rows.windows(2).any(|w| w[0] >= w[1]) {
        return Err(bad("rows asked for out of order".into()));
    }
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let file = open_file(path)?;
    let options = ArrowReaderOptions::new().with_offset_index_policy(PageIndexPolicy::Optional);
    let meta = guarded(|| ArrowReaderMetadata::load(&file, options))
        .map_err(bad)?
        .map_err(|e| bad(e.to_string()))?;
    let Some(root) = meta
        .schema()
        .fields()
        .iter()
        .position(|f| f.name() == column)
    else {
        return Err(bad(format!("it has no column {column}")));
    };
    let mask = ProjectionMask::roots(meta.parquet_schema(), [root]);
    // The wanted rows of each row group, as offsets into it.
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut start = 0u64;
    let mut next = rows.iter().peekable();
    for (g, rg) in meta.metadata().row_groups().iter().enumerate() {
        let n = u64::try_from(rg.num_rows()).unwrap_or(0);
        let mut mine = Vec::new();
        while let Some(&&r) = next.peek() {
            if r >= start + n {
                break;
            }
            mine.push((r - start) as usize);
            next.next();
        }
        if !mine.is_empty() {
            groups.push((g, mine));
        }
        start += n;
    }
    if next.peek().is_some() {
        return Err(bad(format!(
            "it has {start} rows, fewer than the row asked for"
        )));
    }
    let parts: Vec<Vec<String>> = groups
        .into_par_iter()
        .map(|(g, offsets)| -> Result<Vec<String>> {
            // Skip the gaps, select runs of consecutive rows as one (every row asked for, as
            // `sample --cluster` does, is one selector per row group).
            let mut selectors: Vec<RowSelector> = Vec::new();
            let mut at = 0usize;
            for &o in &offsets {
                if o > at {
                    selectors.push(RowSelector::skip(o - at));
                    selectors.push(RowSelector::select(1));
                } else if let Some(last) = selectors.last_mut().filter(|l| !l.skip) {
                    last.row_count += 1;
                } else {
                    selectors.push(RowSelector::select(1));
                }
                at = o + 1;
            }
            let file = open_file(path)?;
            let read = || -> std::result::Result<Vec<String>, String> {
                let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta.clone())
                    .with_projection(mask.clone())
                    .with_row_groups(vec![g])
                    .with_row_selection(RowSelection::from(selectors))
                    .with_batch_size(8192)
                    .build()
                    .map_err(|e| e.to_string())?;
                let mut out = Vec::with_capacity(offsets.len());
                for batch in reader {
                    let batch = batch.map_err(|e| e.to_string())?;
                    let text = super::cells::TextColumn::new(batch.column(0), path)
                        .map_err(|e| e.to_string())?;
                    out.extend(
                        (0..batch.num_rows()).map(|j| text.get(j).unwrap_or("").to_string()),
                    );
                }
                Ok(out)
            };
            let out = guarded(read).map_err(bad)?.map_err(bad)?;
            if out.len() != offsets.len() {
                return Err(bad(format!(
                    "row group {g} gave {} of the {} rows asked for",
                    out.len(),
                    offsets.len()
                )));
            }
            Ok(out)
        })
        .collect::<Result<_>>()?;
    Ok(parts.into_iter().flatten().collect())
}

/// Opens a table; the format follows the extension (`-` = CSV on standard input).
pub fn open(path: &Path, opts: &ReadOptions) -> Result<TableReader> {
    let format = Format::from_path(path)?;
    match format {
        Format::Parquet | Format::Arrow => guarded(|| open_format(path, opts, format))
            .unwrap_or_else(|message| {
                Err(Error::BadFile {
                    path: path.to_path_buf(),
                    format: format.name(),
                    message,
                })
            }),
        _ => open_format(path, opts, format),
    }
}

fn open_format(path: &Path, opts: &ReadOptions, format: Format) -> Result<TableReader> {
    let bad = |message: String| Error::BadFile {
        path: path.to_path_buf(),
        format: format.name(),
        message,
    };
    let mut rows_hint = None;
    let mut layout = Layout {
        header_row: 1,
        ..Layout::default()
    };
    let mut skipped = Skipped::default();
    // The file row number (rejects convention) of the first raw row: the header's row.
    let mut next_row = 1;
    let (schema, inner): (SchemaRef, Inner) = match format {
        Format::Csv => {
            let (schema, inner, header_row) = open_csv(path, opts)?;
            layout.header_row = header_row;
            next_row = header_row;
            (schema, inner)
        }
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
            // A damaged length prefix makes arrow allocate what it claims (up to 2 GiB) before
            // reading: every message is checked against the file's size first.
            let start = if &magic[..n] == b"ARROW1" { 8 } else { 0 };
            check_ipc_framing(&mut file, start).map_err(bad)?;
            if start == 8 {
                check_ipc_footer(&mut file).map_err(bad)?;
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
            let t = super::xlsx_read::read_xlsx(
                path,
                opts.sheet.as_deref(),
                opts.header.as_ref(),
                opts.max_xlsx_bytes,
                opts.batch_rows,
            )?;
            rows_hint = Some(t.batches.iter().map(|b| b.batch.num_rows() as u64).sum());
            layout = t.layout;
            skipped = t.skipped;
            (t.schema, Inner::Numbered(t.batches.into_iter()))
        }
    };
    if schema.fields().len() > MAX_COLUMNS {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            what: format!("the table has {} columns", schema.fields().len()),
            limit: format!("{MAX_COLUMNS} columns"),
            hint: String::new(),
        });
    }
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
        layout,
        skipped,
        pending: VecDeque::new(),
        next_row,
        every_row: opts.every_row,
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
        Ok(Box::new(LineLimit::new(DecodeReader::new(
            std::io::Cursor::new(buf),
            gb,
        ))))
    } else {
        Ok(Box::new(LineLimit::new(DecodeReader::new(
            BufReader::with_capacity(1 << 20, open_file(path)?),
            gb,
        ))))
    }
}

/// Opens a CSV file: the header is the first of the first records the probe accepts (the first
/// record without a probe); returns the schema, the reader positioned after the header and the
/// header's 1-based record number. Rows above the header are neither read nor skipped rows.
fn open_csv(path: &Path, opts: &ReadOptions) -> Result<(SchemaRef, Inner, u64)> {
    let bad_text = |e: &std::io::Error| {
        let msg = e.to_string();
        if let Some(offset) = line_too_long_offset(&msg) {
            return Some(line_too_long(path, offset));
        }
        bad_text_offset(&msg).map(|offset| Error::Encoding {
            path: path.to_path_buf(),
            encoding: opts.encoding.name(),
            offset,
        })
    };
    let mut reader = BufReader::with_capacity(1 << 20, decoded(path, opts)?);
    // Records are read one at a time from the top (a quoted field may span lines), so the reader
    // stays right after the header for arrow's parser.
    let read_record = |reader: &mut BufReader<Box<dyn Read + Send>>| -> Result<Option<Vec<u8>>> {
        let mut bytes = Vec::new();
        loop {
            let n = reader
                .read_until(b'\n', &mut bytes)
                .map_err(|e| bad_text(&e).unwrap_or_else(|| Error::io(path, e)))?;
            if n == 0 && bytes.is_empty() {
                return Ok(None);
            }
            // A quoted header may span lines: stop once the quotes balance.
            if n == 0 || bytes.iter().filter(|&&b| b == b'"').count() % 2 == 0 {
                break;
            }
        }
        Ok(Some(bytes))
    };
    let fields = |bytes: &[u8]| -> Result<Vec<String>> {
        let line = String::from_utf8_lossy(bytes);
        let names = split_csv_record(line.trim_end_matches(['\n', '\r']));
        if names.len() > MAX_COLUMNS {
            return Err(Error::TooLarge {
                path: path.to_path_buf(),
                what: format!("a row has {} columns", names.len()),
                limit: format!("{MAX_COLUMNS} columns"),
                hint: String::new(),
            });
        }
        Ok(names)
    };
    let empty = || Error::EmptyFile {
        path: path.to_path_buf(),
        expected: "a header row".into(),
    };
    let Some(probe) = &opts.header else {
        let bytes = read_record(&mut reader)?.ok_or_else(empty)?;
        let names = fields(&bytes)?;
        if names.iter().all(|n| n.trim().is_empty()) {
            return Err(empty());
        }
        return finish_csv(path, opts, names, reader, 1);
    };
    // Search the first rows; keep their bytes in case none is the header.
    let mut seen: Vec<Vec<u8>> = Vec::new();
    while seen.len() < HEADER_SEARCH_ROWS {
        let Some(bytes) = read_record(&mut reader)? else {
            break;
        };
        let names = fields(&bytes)?;
        let trimmed: Vec<String> = names.iter().map(|n| n.trim().to_string()).collect();
        seen.push(bytes);
        // The rows searched hold at most one long line's worth of memory.
        let held: usize = seen.iter().map(Vec::len).sum();
        if trimmed.iter().all(String::is_empty) {
            continue;
        }
        if probe(&trimmed) {
            return finish_csv(path, opts, names, reader, seen.len() as u64);
        }
        if held > MAX_LINE_BYTES {
            break;
        }
    }
    // No row is the header: the first non-blank row is taken (the missing-column error then names
    // what it lacks), and the rows after it are read again.
    let Some(at) = seen.iter().position(|b| {
        !String::from_utf8_lossy(b)
            .trim()
            .trim_matches(',')
            .trim()
            .is_empty()
    }) else {
        return Err(empty());
    };
    let names = fields(&seen[at])?;
    let rest: Vec<u8> = seen[at + 1..].concat();
    let chained: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(rest).chain(reader));
    finish_csv(
        path,
        opts,
        names,
        BufReader::with_capacity(1 << 20, chained),
        at as u64 + 1,
    )
}

/// Builds arrow's CSV reader for the records after the header.
fn finish_csv(
    path: &Path,
    opts: &ReadOptions,
    names: Vec<String>,
    reader: BufReader<Box<dyn Read + Send>>,
    header_row: u64,
) -> Result<(SchemaRef, Inner, u64)> {
    let schema = utf8_schema(&names);
    let r = arrow::csv::ReaderBuilder::new(schema.clone())
        .with_header(false)
        .with_truncated_rows(true)
        .with_batch_size(opts.batch_rows)
        .build_buffered(reader)
        .map_err(|e| Error::BadFile {
            path: path.to_path_buf(),
            format: "CSV",
            message: e.to_string(),
        })?;
    Ok((schema, Inner::Csv(Box::new(r)), header_row))
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
/// streams batches with every value as text (numbers as written, booleans `true`/`false`). Each
/// line is a row numbered by its line; blank lines are skipped rows; lines over 16 MiB, objects
/// nested deeper than 64 and more than 10 000 keys are errors.
struct JsonlReader {
    path: PathBuf,
    schema: SchemaRef,
    lines: std::io::Split<BufReader<LineLimit<File>>>,
    line_no: u64,
    batch_rows: usize,
    /// Blank lines passed since the last batch.
    blank_lines: u64,
    /// A row read but not yet in a batch (it did not follow the batch's last line).
    held: Option<(u64, serde_json::Map<String, serde_json::Value>)>,
}

fn jsonl_lines(path: &Path) -> Result<std::io::Split<BufReader<LineLimit<File>>>> {
    Ok(BufReader::new(LineLimit::new(open_file(path)?)).split(b'\n'))
}

/// The next line as text, or an error naming the line.
fn jsonl_line(path: &Path, line_no: u64, line: std::io::Result<Vec<u8>>) -> Result<String> {
    let bytes = line.map_err(|e| match line_too_long_offset(&e.to_string()) {
        Some(offset) => line_too_long(path, offset),
        None => jsonl_io(path, line_no, e),
    })?;
    String::from_utf8(bytes).map_err(|_| Error::BadFile {
        path: path.to_path_buf(),
        format: "JSON Lines",
        message: format!("line {line_no}: not UTF-8 (JSON Lines must be UTF-8)"),
    })
}

impl JsonlReader {
    fn open(path: &Path, batch_rows: usize) -> Result<Self> {
        let mut keys: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, line) in jsonl_lines(path)?.enumerate() {
            let line = jsonl_line(path, i as u64 + 1, line)?;
            if line.trim().is_empty() {
                continue;
            }
            let obj = parse_object(path, i as u64 + 1, &line)?;
            for k in obj.keys() {
                if seen.insert(k.clone()) {
                    keys.push(k.clone());
                    if keys.len() > MAX_COLUMNS {
                        return Err(Error::TooLarge {
                            path: path.to_path_buf(),
                            what: format!(
                                "line {} brings the keys to more than {MAX_COLUMNS}",
                                i + 1
                            ),
                            limit: format!("{MAX_COLUMNS} columns"),
                            hint: String::new(),
                        });
                    }
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
            lines: jsonl_lines(path)?,
            line_no: 0,
            batch_rows,
            blank_lines: 0,
            held: None,
        })
    }

    /// The next batch of consecutive lines with the line number of its first.
    fn next_batch(&mut self) -> Result<Option<Numbered>, String> {
        let n = self.schema.fields().len();
        let mut builders: Vec<StringBuilder> = (0..n).map(|_| StringBuilder::new()).collect();
        let mut rows = 0;
        let mut first = 0;
        while rows < self.batch_rows {
            let (line_no, obj) = match self.held.take() {
                Some(h) => h,
                None => {
                    let Some(line) = self.lines.next() else { break };
                    self.line_no += 1;
                    let line =
                        jsonl_line(&self.path, self.line_no, line).map_err(|e| e.to_string())?;
                    if line.trim().is_empty() {
                        self.blank_lines += 1;
                        if rows > 0 {
                            break;
                        }
                        continue;
                    }
                    let obj =
                        parse_object(&self.path, self.line_no, &line).map_err(|e| e.to_string())?;
                    (self.line_no, obj)
                }
            };
            if rows == 0 {
                first = line_no;
            } else if line_no != first + rows as u64 {
                self.held = Some((line_no, obj));
                break;
            }
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
            .map(|batch| {
                Some(Numbered {
                    batch,
                    first_row: first,
                })
            })
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
    if json_depth_exceeds(text, MAX_JSON_DEPTH) {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            what: format!("line {line} is JSON nested deeper than {MAX_JSON_DEPTH} levels"),
            limit: format!("{MAX_JSON_DEPTH} levels"),
            hint: String::new(),
        });
    }
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

/// Marker inside the `io::Error` of [`LineLimit`], so callers can turn it into
/// `Error::TooLarge`.
const LINE_TOO_LONG: &str = "spotcheck-line-too-long-at-byte ";

fn line_too_long_offset(msg: &str) -> Option<u64> {
    let i = msg.find(LINE_TOO_LONG)?;
    msg[i + LINE_TOO_LONG.len()..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn line_too_long(path: &Path, offset: u64) -> Error {
    Error::TooLarge {
        path: path.to_path_buf(),
        what: format!("the line starting at byte {offset} is longer"),
        limit: human_bytes(MAX_LINE_BYTES as u64),
        hint: String::new(),
    }
}

/// A reader that fails once a line (bytes between two `\n`) grows past [`MAX_LINE_BYTES`], so no
/// parser above it ever buffers more than that for one line.
pub(crate) struct LineLimit<R> {
    inner: R,
    /// Bytes since the last newline.
    run: usize,
    /// Bytes handed out so far.
    offset: u64,
}

impl<R: Read> LineLimit<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineLimit {
            inner,
            run: 0,
            offset: 0,
        }
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let got = &buf[..n];
        match got.iter().position(|&b| b == b'\n') {
            Some(first) => {
                if self.run + first > MAX_LINE_BYTES {
                    self.run += first;
                    self.offset += first as u64;
                    return Err(self.too_long());
                }
                // Only a line running to the end of the buffer can pass the limit across reads;
                // one within the buffer is shorter than the buffer (reads are far below 16 MiB).
                let last = got.iter().rposition(|&b| b == b'\n').unwrap_or(first);
                self.run = n - last - 1;
            }
            None => self.run += n,
        }
        self.offset += n as u64;
        if self.run > MAX_LINE_BYTES {
            return Err(self.too_long());
        }
        Ok(n)
    }
}

impl<R> LineLimit<R> {
    fn too_long(&self) -> std::io::Error {
        let start = (self.offset).saturating_sub(self.run as u64);
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{LINE_TOO_LONG}{start}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipc_length_past_the_files_end_is_refused_before_arrow_allocates_it() {
        // Found by fuzzing: a 3 KiB stream whose first message claimed 1.3 GB of metadata made
        // arrow allocate it. Here: continuation marker, then 1 GiB claimed, in a 16-byte file.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("damaged.arrows");
        let mut bytes = vec![0xFF; 4];
        bytes.extend_from_slice(&(1i32 << 30).to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
        std::fs::write(&p, &bytes).unwrap();
        let e = open(&p, &ReadOptions::default()).err().expect("refused");
        let msg = e.to_string();
        assert!(
            msg.contains("claims metadata of 1073741824 bytes, past the file's end (16 bytes)"),
            "{msg}"
        );
        // A well-formed stream still reads: an empty table written by arrow itself.
        let schema = Arc::new(Schema::new(vec![Field::new("uscc", DataType::Utf8, true)]));
        let ok = dir.path().join("ok.arrows");
        let mut w =
            arrow::ipc::writer::StreamWriter::try_new(File::create(&ok).unwrap(), &schema).unwrap();
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(arrow::array::StringArray::from(vec!["a", "b"])) as ArrayRef],
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.finish().unwrap();
        let mut r = open(&ok, &ReadOptions::default()).expect("a good stream");
        let rows: usize = std::iter::from_fn(|| r.next_numbered())
            .map(|b| b.unwrap().batch.num_rows())
            .sum();
        assert_eq!(rows, 2);
    }

    #[test]
    fn csv_header_split() {
        assert_eq!(
            split_csv_record("a,\"b,c\",\"d\"\"e\""),
            vec!["a", "b,c", "d\"e"]
        );
        assert_eq!(split_csv_record("a"), vec!["a"]);
    }
}
