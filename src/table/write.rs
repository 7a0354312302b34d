//! Writing a table in any output format (CSV with optional BOM, Parquet with zstd, Arrow IPC,
//! JSON Lines, XLSX). Every writer writes to a temporary file in the target's folder and renames
//! it into place in `finish`; dropped unfinished, it deletes the temporary file, so a failed run
//! leaves no partial output (SPEC §2.2). `WriteBehind` runs a writer on its own thread (encoding
//! overlaps the caller's work).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::Format;
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
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            bom: false,
            sheet: "Sheet1".into(),
            row_group_rows: 1024 * 1024,
        }
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
    Parquet(Box<ArrowWriter<File>>),
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
    tmp: PathBuf,
    format: Format,
    schema: SchemaRef,
    inner: Option<Inner>,
    rows: u64,
    done: bool,
}

/// The temporary path beside `path` that a writer fills before renaming.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    path.with_file_name(format!(".{name}.spotcheck-{}.tmp", std::process::id()))
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
    let tmp = temp_path(path);
    let arrow_err = |source| Error::Arrow {
        path: path.to_path_buf(),
        source,
    };
    let open = || -> Result<File> { File::create(&tmp).map_err(|e| Error::io(path, e)) };
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
            let w = ArrowWriter::try_new(
                open()?,
                schema.clone(),
                Some(parquet_properties(opts.row_group_rows)),
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
            let sheet = SheetWriter::new(ws, &headers).map_err(xerr)?;
            Inner::Xlsx(Box::new(XlsxState { workbook, sheet }))
        }
    };
    Ok(TableWriter {
        path: path.to_path_buf(),
        tmp,
        format,
        schema,
        inner: Some(inner),
        rows: 0,
        done: false,
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
            Some(Inner::Csv(w)) => w.write(batch).map_err(arrow_err)?,
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
                    w.write(&RecordBatch::new_empty(self.schema.clone()))
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
                workbook.save(&self.tmp).map_err(xerr)?;
            }
            None => {}
        }
        commit(&self.tmp, &self.path)?;
        self.done = true;
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

/// Renames a finished temporary file into place.
pub fn commit(tmp: &Path, path: &Path) -> Result<()> {
    std::fs::rename(tmp, path).map_err(|e| Error::io(path, e))
}

impl Drop for TableWriter {
    fn drop(&mut self) {
        if !self.done {
            // Unfinished: drop the writer first (closing the file), then remove the partial file.
            self.inner.take();
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
