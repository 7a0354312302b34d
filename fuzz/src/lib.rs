//! What every fuzz target does with its bytes: write them to a file with the extension of the
//! format under test (spotcheck's readers take paths, as the binary does) and read it the way the
//! commands do — the table reader with the enterprise table's header probe, then the enterprise
//! validator — discarding results. Errors are fine; a panic, an abort or an allocation past
//! libFuzzer's `-rss_limit_mb` is a bug. The same files replayed through the real binary are the
//! main crate's regression tests (`tests/cli/fuzz_regressions.rs`).

use std::path::PathBuf;

use spotcheck::table::{Encoding, ReadOptions};

/// A file in a per-process temporary folder holding `bytes`, named `input.<ext>`.
pub fn file_with(bytes: &[u8], ext: &str) -> PathBuf {
    quiet_inside_decoders();
    let dir = std::env::temp_dir().join(format!("spotcheck-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let p = dir.join(format!("input.{ext}"));
    std::fs::write(&p, bytes).expect("the fuzzer can write its temporary file");
    p
}

/// Options as the commands use them, with a small XLSX limit so a bomb cannot exhaust the
/// fuzzer's memory.
pub fn options(encoding: Encoding) -> ReadOptions {
    ReadOptions {
        encoding,
        batch_rows: 7,
        max_xlsx_bytes: 32 << 20,
        ..ReadOptions::default()
    }
}

/// Reads a table file as every command does: raw batches with row numbers, then through the
/// enterprise validator (header probe, typed parsing, rejects).
pub fn read_table(bytes: &[u8], ext: &str, encoding: Encoding) {
    let path = file_with(bytes, ext);
    let opts = options(encoding);
    if let Ok(mut r) = spotcheck::table::open(&path, &opts) {
        while let Some(b) = r.next_numbered() {
            if b.is_err() {
                break;
            }
        }
        let _ = r.skipped();
    }
    let opts = ReadOptions {
        header: Some(spotcheck::table::layout::header_probe(
            spotcheck::schema::ent::REQUIRED,
        )),
        ..opts
    };
    if let Ok(mut r) = spotcheck::input::EnterpriseReader::open(&path, &opts) {
        let mut rejects = spotcheck::table::Rejects::new(false);
        while let Ok(Some(_)) = r.next_batch(&mut rejects) {}
    }
    let mut rejects = spotcheck::table::Rejects::new(false);
    let _ = spotcheck::input::tables::read_history(&path, &opts, &mut rejects);
}

/// libFuzzer's panic hook aborts on every panic, even one that is caught. The Parquet and Arrow
/// IPC decoders run under `catch_unwind` (`table::read::in_decoder`), where a panic on a damaged
/// file is turned into an ordinary error — the binary's own hook stays quiet there too — so this
/// hook lets those through and still aborts on any other panic.
fn quiet_inside_decoders() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !spotcheck::table::read::in_decoder() {
                abort(info)
            }
        }));
    });
}
