//! Reading and writing tables in every format spotcheck supports (SPEC §1): CSV (UTF-8 with or
//! without BOM, or GB18030), Parquet, Arrow IPC (file or stream), JSON Lines and XLSX, chosen by
//! the file's extension; `-` is CSV on standard input. Readers stream Arrow `RecordBatch`es;
//! text formats arrive as all-`Utf8` columns (parsing is `input`'s job). Writers write to a
//! temporary file beside the target and rename it into place when complete, so a failed or killed
//! run never leaves a partial output (`atomic`); Parquet column chunks are encoded in parallel
//! (`parquet_write`, the same bytes as one thread). Also here: header matching (`columns`), the rejects file (`rejects`)
//! and file hashing for manifests.

pub mod atomic;
pub mod cells;
pub mod codes;
pub mod columns;
mod encoding;
pub mod layout;
pub mod parquet_write;
pub mod pollutants;
pub mod read;
pub mod rejects;
pub mod write;
pub mod xlsx;
pub(crate) mod xlsx_read;

use std::path::Path;

pub use columns::ColumnMap;
pub use layout::{Layout, Numbered, Skipped};
pub use read::{Encoding, Prefetch, ReadOptions, TableReader, open};
pub use rejects::{Reject, Rejects};
pub use write::{TableWriter, WriteBehind, WriteOptions, create};

use crate::{Error, Result};

/// A table file format, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
    Arrow,
    Jsonl,
    Xlsx,
}

/// The extensions spotcheck understands, for error messages.
pub const EXTENSIONS: &str =
    ".csv .parquet .arrow .ipc .feather .jsonl .ndjson .xlsx (or - for CSV on stdin)";

impl Format {
    /// The format a path's extension names; `-` is CSV.
    pub fn from_path(path: &Path) -> Result<Format> {
        if path.as_os_str() == "-" {
            return Ok(Format::Csv);
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "csv" | "txt" => Ok(Format::Csv),
            "parquet" | "pq" => Ok(Format::Parquet),
            "arrow" | "ipc" | "feather" | "arrows" => Ok(Format::Arrow),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            "xlsx" => Ok(Format::Xlsx),
            _ => Err(Error::UnknownFormat {
                path: path.to_path_buf(),
                extension: ext,
                expected: EXTENSIONS,
            }),
        }
    }

    /// The format's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::Parquet => "Parquet",
            Format::Arrow => "Arrow IPC",
            Format::Jsonl => "JSON Lines",
            Format::Xlsx => "XLSX",
        }
    }
}

/// Lower-case hex of bytes (sha2 0.11 digests do not format with `{:x}`).
pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// SHA-256 of a file's bytes, hex-encoded (manifests record it for every input and output).
pub fn sha256_file(path: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    // 128 KiB: the block read and then hashed stays in the core's L2 cache.
    let mut buf = vec![0u8; 128 << 10];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// SHA-256 of bytes, hex-encoded.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn formats_by_extension() {
        assert_eq!(Format::from_path(Path::new("a.CSV")).unwrap(), Format::Csv);
        assert_eq!(Format::from_path(Path::new("-")).unwrap(), Format::Csv);
        assert_eq!(
            Format::from_path(Path::new("x.feather")).unwrap(),
            Format::Arrow
        );
        assert_eq!(
            Format::from_path(Path::new("x.ndjson")).unwrap(),
            Format::Jsonl
        );
        let e = Format::from_path(Path::new("x.xls"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.xls") && e.contains("\"xls\""), "{e}");
    }

    #[test]
    fn hex_and_hash() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
        // SHA-256("abc") from FIPS 180-2 appendix B.1.
        assert_eq!(
            sha256_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

#[cfg(test)]
mod tests;
