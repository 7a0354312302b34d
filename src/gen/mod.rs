//! `gen`: a reproducible synthetic Beijing (SPEC §7) for tests and benchmarks. It makes the four
//! tables of SPEC §1 as Arrow `RecordBatch`es — enterprises (every column of §1.1 and the credit
//! features), emissions (§1.2, long format), inspection history (§1.3) and inspectors (§1.4) — and
//! leaves writing them to the caller (the CLI's table writers).
//!
//! Reproducibility: rows are generated in blocks of `BLOCK_ROWS`; each block draws from its own
//! `ChaCha8Rng` stream, keyed by SHA-256 of the seed and the table (see `draw::stream_key`) and
//! numbered by the block. A batch is a run of whole blocks, so batches are independent and are
//! generated in parallel (rayon) with output identical whatever the thread count, and the data do
//! not depend on `batch_rows` either: the first N rows of a larger run are the N rows of a smaller
//! one. The enterprise's district comes from its own stream at word position 2·row, so the code and
//! district of any row can be recomputed without generating its batch (inspectors' 回避 lists use
//! this). The shares and dependencies are documented in `model`.
//!
//! ```
//! use spotcheck::r#gen::{GenParams, Generator, Tables};
//! let g = Generator::new(GenParams::new(10_000, 42))?;
//! let mut rows = 0;
//! for b in g.batches(Tables { emissions: true, history: None }) {
//!     rows += b.enterprises.num_rows();
//!     assert!(b.emissions.is_some());
//! }
//! assert_eq!(rows, 10_000);
//! # Ok::<(), spotcheck::Error>(())
//! ```

mod columns;
mod draw;
mod history;
mod inspectors;
mod model;

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use arrow::record_batch::RecordBatch;
use rand::Rng;

pub use crate::date::Month;
pub use columns::{emissions_schema, enterprise_schema, history_schema};
pub use history::parse_month;
pub use inspectors::inspectors_schema;
pub use model::{
    AIR_POLLUTANTS, CLASS_MISSING, CLASS_SHARES, DISTRICT_WEIGHTS, INDUSTRIES, Industry, Pollutant,
    REGISTERED_ELSEWHERE, Sector, TIER_SHARES, WATER_POLLUTANTS,
};

use crate::error::{Error, Result};
use crate::uscc;
use columns::{Code, EmiCols, EntCols, HistCols};
use draw::{Draw, chacha, stream_key};
use model::{Geo, Model};

/// Rows per random stream. Batches are whole numbers of blocks.
pub const BLOCK_ROWS: usize = 4096;
/// Default rows per batch (16 blocks).
pub const DEFAULT_BATCH_ROWS: usize = 65_536;
/// Most rows one run can make: the 6 free characters of the organisation code (`MA` + 6 of the
/// 31-character set) give 31⁶ distinct codes.
pub const MAX_ROWS: u64 = 31u64.pow(6);

/// What to generate: how many enterprises, from which seed, in batches of how many rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenParams {
    /// Number of enterprises (0 ≤ rows ≤ `MAX_ROWS`).
    pub rows: u64,
    /// The seed; the same seed and rows give the same tables.
    pub seed: u64,
    /// Rows per output batch: a positive multiple of `BLOCK_ROWS`. It changes only how rows are
    /// cut into batches, never the rows themselves.
    pub batch_rows: usize,
}

impl GenParams {
    /// `rows` enterprises from `seed`, in batches of `DEFAULT_BATCH_ROWS`.
    pub fn new(rows: u64, seed: u64) -> GenParams {
        GenParams {
            rows,
            seed,
            batch_rows: DEFAULT_BATCH_ROWS,
        }
    }

    fn validate(&self) -> Result<()> {
        if self.rows > MAX_ROWS {
            return Err(Error::Argument {
                argument: "rows".into(),
                message: format!(
                    "{} rows is more than the {MAX_ROWS} distinct credit codes the generator can make",
                    self.rows
                ),
            });
        }
        if self.batch_rows == 0 || !self.batch_rows.is_multiple_of(BLOCK_ROWS) {
            return Err(Error::Argument {
                argument: "batch_rows".into(),
                message: format!(
                    "{} is not a positive multiple of {BLOCK_ROWS}",
                    self.batch_rows
                ),
            });
        }
        Ok(())
    }
}

/// Which tables besides enterprises to generate with each batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tables {
    /// Generate the emissions table (SPEC §1.2).
    pub emissions: bool,
    /// Generate inspection history dated in the 12 months before this month (SPEC §1.3).
    pub history: Option<Month>,
}

/// One batch of generated tables: the enterprises of rows `[first_row, first_row + n)` and the
/// emission and history rows of exactly those enterprises.
#[derive(Debug, Clone)]
pub struct GenBatch {
    /// Index of the batch.
    pub index: usize,
    /// Row number (0-based) of the batch's first enterprise.
    pub first_row: u64,
    /// Enterprise rows (`enterprise_schema`).
    pub enterprises: RecordBatch,
    /// Emission rows (`emissions_schema`), when asked for.
    pub emissions: Option<RecordBatch>,
    /// Inspection history rows (`history_schema`), when asked for.
    pub history: Option<RecordBatch>,
}

/// Stream names: one ChaCha key per table family.
const GEO: &str = "district";
const ENTERPRISE: &str = "enterprise";
const EMISSIONS: &str = "emissions";
const HISTORY: &str = "history";
const INSPECTORS: &str = "inspectors";
const CODES: &str = "codes";

/// The synthetic Beijing of one `GenParams`: validated parameters, stream keys and model tables.
#[derive(Debug, Clone)]
pub struct Generator {
    params: GenParams,
    model: Model,
    geo_key: [u8; 32],
    ent_key: [u8; 32],
    emi_key: [u8; 32],
    hist_key: [u8; 32],
    insp_key: [u8; 32],
    /// Affine bijection `row ↦ (a·row + c) mod 31⁶` giving each row its organisation-code body.
    code_a: u64,
    code_c: u64,
}

impl Generator {
    /// Checks the parameters and prepares the streams.
    pub fn new(params: GenParams) -> Result<Generator> {
        params.validate()?;
        let seed = params.seed;
        let mut codes = Draw::new(chacha(stream_key(seed, CODES), 0));
        // a must be coprime with 31⁶, i.e. not a multiple of 31, for the map to be a bijection.
        let mut code_a = 1 + codes.below(MAX_ROWS - 1);
        if code_a.is_multiple_of(31) {
            code_a += 1;
        }
        let code_c = codes.below(MAX_ROWS);
        Ok(Generator {
            params,
            model: Model::new(),
            geo_key: stream_key(seed, GEO),
            ent_key: stream_key(seed, ENTERPRISE),
            emi_key: stream_key(seed, EMISSIONS),
            hist_key: stream_key(seed, HISTORY),
            insp_key: stream_key(seed, INSPECTORS),
            code_a,
            code_c,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &GenParams {
        &self.params
    }

    /// Number of batches: ⌈rows / batch_rows⌉.
    pub fn batch_count(&self) -> usize {
        self.params.rows.div_ceil(self.params.batch_rows as u64) as usize
    }

    /// The 18-character credit code of row `row` (0-based), or `None` past the last row.
    pub fn uscc(&self, row: u64) -> Option<String> {
        (row < self.params.rows).then(|| {
            let code = self.code(row, self.geo(row).registered);
            String::from_utf8_lossy(&code).into_owned()
        })
    }

    /// The district code (6 digits, e.g. 110108) of row `row`, or `None` past the last row.
    pub fn district(&self, row: u64) -> Option<u32> {
        (row < self.params.rows).then(|| DISTRICT_WEIGHTS[self.geo(row).district].0)
    }

    fn geo(&self, row: u64) -> Geo {
        let mut rng = chacha(self.geo_key, 0);
        rng.set_word_pos(2 * u128::from(row));
        Geo::from_word(&self.model, rng.next_u64())
    }

    /// `91` + registration district + `MA` + 6 characters + GB 11714 check + GB 32100 check.
    fn code(&self, row: u64, registered: usize) -> Code {
        let mut c = [b'0'; 18];
        c[0] = b'9';
        c[1] = b'1';
        let mut district = DISTRICT_WEIGHTS[registered].0;
        for b in c[2..8].iter_mut().rev() {
            *b = b'0' + (district % 10) as u8;
            district /= 10;
        }
        c[8] = b'M';
        c[9] = b'A';
        // row < 31⁶ < 2^30 and a < 2^30, so the product fits in u64.
        let mut body = (self.code_a * row % MAX_ROWS + self.code_c) % MAX_ROWS;
        for b in c[10..16].iter_mut().rev() {
            *b = uscc::CHARSET[(body % 31) as usize];
            body /= 31;
        }
        c[16] = org_check(&c[8..16]);
        // The first 17 characters are all from the USCC character set, so a check exists.
        c[17] = uscc::check_char(&c[..17]).unwrap_or(b'0');
        c
    }

    /// Generates batch `index` (0 ≤ index < `batch_count`). A pure function of the parameters,
    /// the index and `tables`.
    pub fn batch(&self, index: usize, tables: &Tables) -> GenBatch {
        let br = self.params.batch_rows as u64;
        let start = (index as u64 * br).min(self.params.rows);
        let end = (start + br).min(self.params.rows);
        let n = (end - start) as usize;
        let mut ent = EntCols::with_capacity(n);
        let mut emi = tables.emissions.then(|| EmiCols::with_capacity(n / 2));
        let mut hist = tables.history.map(|_| HistCols::with_capacity(n / 3));
        let window = tables.history.map(history::history_window);
        let mut geo = chacha(self.geo_key, 0);
        geo.set_word_pos(2 * u128::from(start));
        let m = &self.model;
        let mut block_start = start;
        while block_start < end {
            let block = block_start / BLOCK_ROWS as u64;
            let block_end = (block_start + BLOCK_ROWS as u64).min(end);
            let mut de = Draw::new(chacha(self.ent_key, block));
            let mut dm = Draw::new(chacha(self.emi_key, block));
            let mut dh = Draw::new(chacha(self.hist_key, block));
            for row in block_start..block_end {
                let place = Geo::from_word(m, geo.next_u64());
                let (r, _) = model::enterprise(m, &mut de);
                let k = model::TRADE_NAME_CHARS.len() as u64;
                let joint = if r.tier == crate::schema::Tier::None {
                    0.1
                } else {
                    0.4
                };
                let name = (de.below(k) as usize, de.below(k) as usize, de.chance(joint));
                let code = self.code(row, place.registered);
                let pe = model::emissions(m, &mut dm, &r, |e| {
                    if let Some(cols) = emi.as_mut() {
                        cols.push(&code, e);
                    }
                });
                if let (Some(cols), Some(w)) = (hist.as_mut(), window) {
                    history::inspections(&mut dh, &r, w, |h| cols.push(&code, h));
                }
                ent.push(&code, place.district, &r, name, pe);
            }
            block_start = block_end;
        }
        GenBatch {
            index,
            first_row: start,
            enterprises: ent.finish(),
            emissions: emi.map(EmiCols::finish),
            history: hist.map(HistCols::finish),
        }
    }

    /// All batches in order. A background thread keeps up to 2 × (rayon threads) batches in
    /// generation on the rayon pool, so generating overlaps with whatever the consumer does
    /// (writing); batches come out in index order whatever order they finish in. Dropping the
    /// iterator stops the generation.
    pub fn batches(&self, tables: Tables) -> Batches {
        let total = self.batch_count();
        let ahead = 2 * rayon::current_num_threads().max(1);
        // Finished batches wait in their own one-slot channels; one more waits here. So at most
        // ahead + 2 batches are in memory.
        let (tx, rx) = sync_channel(1);
        let g = Arc::new(self.clone());
        let worker = std::thread::spawn(move || {
            let mut inflight: VecDeque<Receiver<std::thread::Result<GenBatch>>> = VecDeque::new();
            let mut next = 0;
            loop {
                while inflight.len() < ahead && next < total {
                    let (done, result) = sync_channel(1);
                    let g = Arc::clone(&g);
                    let index = next;
                    rayon::spawn(move || {
                        // A panic here is a bug; carry it to the consumer instead of letting
                        // rayon abort the process.
                        let out = catch_unwind(AssertUnwindSafe(|| g.batch(index, &tables)));
                        let _ = done.send(out);
                    });
                    inflight.push_back(result);
                    next += 1;
                }
                let Some(result) = inflight.pop_front() else {
                    return;
                };
                match result.recv() {
                    Ok(Ok(batch)) => {
                        if tx.send(batch).is_err() {
                            return; // the consumer has gone
                        }
                    }
                    Ok(Err(panic)) => resume_unwind(panic),
                    // The task ended without sending: only possible if it could not run at all.
                    Err(_) => panic!("a batch generation task ended without a result"),
                }
            }
        });
        Batches {
            rx: Some(rx),
            worker: Some(worker),
            remaining: total,
        }
    }

    /// The inspectors table (SPEC §1.4): per district and department a team sized to the district's
    /// enterprises, plus a small municipal team (`district = *`); about 5 % of inspectors have
    /// one or two 回避 conflicts with enterprises of their district.
    pub fn inspectors(&self) -> RecordBatch {
        inspectors::generate(self)
    }
}

/// GB 11714 check character of an 8-character organisation code body: weights 3 7 9 10 5 8 4 2,
/// digits count as themselves and letters A–Z as 10–35; `11 − (Σ mod 11)`, 10 → X, 11 → 0.
fn org_check(body: &[u8]) -> u8 {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .iter()
        .zip(W)
        .map(|(&b, w)| {
            let v = if b.is_ascii_digit() {
                u32::from(b - b'0')
            } else {
                u32::from(b - b'A') + 10
            };
            v * w
        })
        .sum();
    match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        d => b'0' + d as u8,
    }
}

/// Iterator over the generated batches, in index order (see `Generator::batches`).
pub struct Batches {
    rx: Option<Receiver<GenBatch>>,
    worker: Option<JoinHandle<()>>,
    remaining: usize,
}

impl Iterator for Batches {
    type Item = GenBatch;

    fn next(&mut self) -> Option<GenBatch> {
        let got = self.rx.as_ref().and_then(|rx| rx.recv().ok());
        match got {
            Some(b) => {
                self.remaining -= 1;
                Some(b)
            }
            None => {
                self.rx = None;
                // The worker has finished or died: a panic there is a bug and must not look
                // like a short, complete table.
                if let Some(w) = self.worker.take()
                    && let Err(panic) = w.join()
                {
                    std::panic::resume_unwind(panic);
                }
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Batches {}

impl Drop for Batches {
    fn drop(&mut self) {
        // Closing the channel first makes the worker's next send fail, so it stops.
        self.rx = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests;
