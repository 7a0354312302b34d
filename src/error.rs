//! The library's one error type. Every variant carries the data a user needs to find the problem
//! (the file, the row, the column, the value, what was expected); messages are lowercase and quote
//! the offending value, ripgrep style. The binary wraps these in `anyhow` with more context.

use std::path::PathBuf;

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in spotcheck's library code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened, read, written or renamed (the cause follows in the chain).
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file's extension names no format spotcheck reads or writes.
    #[error("{path}: unknown file format {extension:?} (expected one of {expected})")]
    UnknownFormat {
        path: PathBuf,
        extension: String,
        expected: &'static str,
    },
    /// The file is not what its extension says, or is damaged (truncated Parquet, garbage).
    #[error("{path}: cannot read as {format}: {message}")]
    BadFile {
        path: PathBuf,
        format: &'static str,
        message: String,
    },
    /// The file goes past one of the limits that keep memory bounded on hostile input (SPEC §12):
    /// an XLSX that decompresses past `--max-xlsx-bytes`, a CSV or JSON line over 16 MiB, more
    /// than 10 000 columns, JSON nested deeper than 64.
    #[error("{path}: {what}, over the limit of {limit}; spotcheck does not read such files{hint}")]
    TooLarge {
        path: PathBuf,
        what: String,
        limit: String,
        /// Empty, or `"; …"` with what the user can do.
        hint: String,
    },
    /// The file has no rows at all, not even a header.
    #[error("{path}: the file is empty (expected a header row with at least {expected})")]
    EmptyFile { path: PathBuf, expected: String },
    /// A required column is missing.
    #[error("{path}: missing required column {column:?} (also accepted: {aliases})")]
    MissingColumn {
        path: PathBuf,
        column: String,
        aliases: String,
    },
    /// Two columns of one file map to the same field (e.g. `uscc` and `统一社会信用代码`).
    #[error("{path}: columns {first:?} and {second:?} both mean {column:?}")]
    DuplicateColumn {
        path: PathBuf,
        column: String,
        first: String,
        second: String,
    },
    /// A cell that cannot be used, in a context where the row cannot simply be rejected.
    #[error("{path}: row {row}, column {column:?}: {value:?} is not {expected}")]
    BadValue {
        path: PathBuf,
        row: u64,
        column: String,
        value: String,
        expected: String,
    },
    /// `--strict` and a row was rejected.
    #[error(
        "{path}: row {row}, column {column:?}: {value:?} rejected ({reason}); stopping because of --strict"
    )]
    Strict {
        path: PathBuf,
        row: u64,
        column: String,
        value: String,
        reason: String,
    },
    /// The text encoding could not be decoded.
    #[error(
        "{path}: not valid {encoding} text near byte {offset} (try --encoding gb18030 for files saved by Chinese Excel)"
    )]
    Encoding {
        path: PathBuf,
        encoding: &'static str,
        offset: u64,
    },
    /// A policy file key is missing, unknown or out of range.
    #[error("policy {path}: key {key:?}: {message}")]
    Policy {
        path: PathBuf,
        key: String,
        message: String,
    },
    /// A credit model file is unusable or does not fit the data.
    #[error("model {path}: {message}")]
    Model { path: PathBuf, message: String },
    /// A command-line argument or combination that is invalid.
    #[error("{argument}: {message}")]
    Argument { argument: String, message: String },
    /// Arrow or Parquet failed while encoding or decoding (the cause follows in the chain).
    #[error("{path}")]
    Arrow {
        path: PathBuf,
        #[source]
        source: arrow::error::ArrowError,
    },
    /// Writing an Excel workbook failed.
    #[error("{path}: cannot write xlsx: {message}")]
    Xlsx { path: PathBuf, message: String },
    /// Spot-check tasks that could not be staffed with inspectors.
    #[error("{count} task(s) could not be staffed: {detail}")]
    Unstaffed { count: usize, detail: String },
    /// A value handed to the sampler that it cannot use (SPEC §4): a ratio outside [0, 1], a
    /// district that is not a 6-digit code, two units or inspectors with the same code.
    #[error("sampling: {what} {id:?}, {field}: {value:?} is not {expected}")]
    SampleInput {
        /// `enterprise` or `inspector`.
        what: &'static str,
        /// Its code or id.
        id: String,
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    /// Training data that cannot yield a model.
    #[error("training data: {message}")]
    Training { message: String },
    /// A typed batch whose columns do not all have the same length (a bug in the code building it).
    #[error("enterprise batch column {column:?} has {len} rows, expected {expected}")]
    BatchShape {
        column: &'static str,
        len: usize,
        expected: usize,
    },
    /// The credit model answered for a different number of rows than it was asked about.
    #[error("the credit model returned {got} predictions for {expected} rows")]
    PredictionCount { expected: usize, got: usize },
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
