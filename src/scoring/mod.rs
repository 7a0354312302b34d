//! Scoring a whole file (SPEC §3, §8): the streaming pipeline that `spotcheck score` and the
//! console's score job both run. The enterprise file is decoded ahead on its own thread, a few
//! batches at a time are validated and scored in parallel (rayon), and the output is encoded and
//! written behind on another thread, atomically; batches keep file order throughout. Also here:
//! the emissions table read into per-enterprise totals, and its orphan rows found after scoring.
//! Progress goes to a callback (rows done); this module prints nothing. It is the edge around the
//! pure kernels of `score/`: files in, files out (`lookup`: one enterprise's decision from files).

pub mod lookup;

use std::collections::BTreeMap;
use std::path::Path;

use arrow::record_batch::RecordBatch;
use rayon::prelude::*;

use crate::Result;
use crate::input::enterprise::reason;
use crate::input::tables::{read_emissions, read_emissions_batched};
use crate::input::{Counts, EnterpriseBatch, EnterpriseReader};
use crate::policy::Policy;
use crate::predict::CreditPredictor;
use crate::schema::{CreditClass, Lang, emi};
use crate::score::pollutants::Pollutants;
use crate::score::{EmissionAggregate, EmissionTotals, score_batch};
use crate::table::{ReadOptions, Reject, Rejects, WriteBehind, WriteOptions, create};

/// Raw batches decoded ahead of the validation.
const PREFETCH: usize = 2;
/// Batches validated and scored per round, per rayon thread.
const PER_ROUND_PER_THREAD: usize = 1;

/// What a scoring run wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreOutcome {
    /// Rows written (the accepted enterprises).
    pub rows: u64,
    /// Enterprises per credit class (English letter), classes with none left out.
    pub by_class: BTreeMap<String, u64>,
    /// Enterprises eligible for the 正面清单 positive list.
    pub listed: u64,
    /// The enterprise table's row counts (`read = accepted + rejected`).
    pub counts: Counts,
}

/// Scores every batch of `reader` and writes the columns of SPEC §3.6 to `output` (format by
/// extension), atomically. `on_rows` is called with the number of rows of each batch written, in
/// file order. Rejected rows go to `rejects`. An empty input still gets a header.
pub fn score_to_file(
    reader: EnterpriseReader,
    emissions: Option<&EmissionTotals>,
    s: &Scoring<'_>,
    rejects: &mut Rejects,
    on_rows: &mut dyn FnMut(u64),
) -> Result<ScoreOutcome> {
    let Scoring {
        model,
        policy,
        output,
        lang,
        write: wopts,
    } = *s;
    let mut reader = reader.prefetch(PREFETCH);
    let per_round = PER_ROUND_PER_THREAD * rayon::current_num_threads();
    let mut writer: Option<WriteBehind> = None;
    let mut by_class: BTreeMap<String, u64> = BTreeMap::new();
    let mut listed = 0u64;
    let score_all = |batches: &[EnterpriseBatch]| {
        batches
            .par_iter()
            .map(|batch| {
                let scored = score_batch(batch, emissions, model, policy)?;
                let mut classes = [0u64; 4];
                for c in &scored.credit_class {
                    classes[c.index()] += 1;
                }
                let listed = scored.positive_list.iter().filter(|p| **p).count() as u64;
                Ok((scored.to_record_batch(lang)?, classes, listed))
            })
            .collect::<Result<Vec<(RecordBatch, [u64; 4], u64)>>>()
    };
    let mut batches = reader.next_batches(per_round, rejects)?;
    if batches.is_empty() {
        // An empty input still gets a header.
        batches.push(reader.empty_batch()?);
    }
    while !batches.is_empty() {
        // The next round is read, parsed and checked while this one is scored.
        let (next, scored) = rayon::join(
            || reader.next_batches(per_round, rejects),
            || score_all(&batches),
        );
        for (batch, (rb, classes, l)) in batches.iter().zip(scored?) {
            for (c, k) in CreditClass::ALL.iter().zip(classes) {
                if k > 0 {
                    *by_class.entry(c.en().to_string()).or_default() += k;
                }
            }
            listed += l;
            if writer.is_none() {
                let wopts = WriteOptions {
                    numeric_text_columns: crate::scored::passed_through(&rb.schema()),
                    ..wopts.clone()
                };
                writer = Some(WriteBehind::new(create(output, rb.schema(), &wopts)?, 2));
            }
            if let Some(w) = writer.as_mut() {
                w.write(rb)?;
            }
            on_rows(batch.len() as u64);
        }
        batches = next?;
    }
    let counts = reader.counts();
    // Invariant: the loop always creates the writer (an empty input gets an empty batch).
    let w = writer.expect("writer created for the first batch");
    let rows = w.finish()?;
    Ok(ScoreOutcome {
        rows,
        by_class,
        listed,
        counts,
    })
}

/// Reads the emissions table into totals; returns the totals and the table's row counts so far
/// (orphans are added by [`report_orphans`] after scoring).
pub fn read_emission_totals(
    path: &Path,
    opts: &ReadOptions,
    rejects: &mut Rejects,
    policy: &Policy,
) -> Result<(EmissionTotals, Counts)> {
    let pollutants = Pollutants::builtin();
    let mut agg = EmissionAggregate::new();
    let counts = read_emissions_batched(
        path,
        opts,
        rejects,
        &|m, s| pollutants.lookup(m, s).map(|id| id.0),
        |rows| agg.add_rows(rows),
    )?;
    Ok((agg.finish(pollutants, &policy.tax), counts))
}

/// After scoring: every emission row whose code no enterprise asked for goes to the rejects file
/// as `EMISSION_ORPHAN` (a second pass over the file, only when there are orphans). Returns how
/// many rows moved from accepted to rejected in `counts`.
pub fn report_orphans(
    path: &Path,
    opts: &ReadOptions,
    totals: &EmissionTotals,
    counts: &mut Counts,
    rejects: &mut Rejects,
) -> Result<u64> {
    let orphans = totals.orphans();
    if orphans.is_empty() {
        return Ok(0);
    }
    let set: std::collections::HashSet<&[u8]> = orphans.iter().map(|o| o.uscc.as_bytes()).collect();
    let header = {
        let r = crate::table::open(path, opts)?;
        let s = r.schema();
        crate::table::columns::find(&s, &emi::USCC)
            .map(|i| s.field(i).name().clone())
            .unwrap_or_else(|| "uscc".into())
    };
    let file = path.display().to_string();
    let mut found = Vec::new();
    let pollutants = Pollutants::builtin();
    // Re-read with a throw-away rejects collector: the bad rows were recorded on the first pass.
    let mut scratch = Rejects::new(false);
    read_emissions(
        path,
        opts,
        &mut scratch,
        &|m, s| pollutants.lookup(m, s).map(|id| id.0),
        |row| {
            if set.contains(&row.uscc[..]) {
                found.push((row.row, String::from_utf8_lossy(&row.uscc).into_owned()));
            }
        },
    )?;
    for (row, code) in &found {
        rejects.push(Reject {
            file: file.clone(),
            row: *row,
            column: header.clone(),
            value: code.clone(),
            reason: reason::EMISSION_ORPHAN,
            detail: "no enterprise with this code in the enterprise table (orphan emission row)"
                .into(),
        })?;
    }
    let n = found.len() as u64;
    counts.accepted -= n;
    counts.rejected += n;
    Ok(n)
}

/// How to score and where the scored table goes.
#[derive(Clone, Copy)]
pub struct Scoring<'a> {
    /// The credit model for rows without a class, if any.
    pub model: Option<&'a dyn CreditPredictor>,
    pub policy: &'a Policy,
    /// The scored output (format by extension).
    pub output: &'a Path,
    /// Language of headers, values and reasons.
    pub lang: Lang,
    pub write: &'a WriteOptions,
}

/// Everything [`score_files`] reads, and how it scores.
pub struct ScoreFiles<'a> {
    /// The enterprise table (SPEC §1.1).
    pub enterprises: &'a Path,
    /// The emissions table (SPEC §1.2), if any.
    pub emissions: Option<&'a Path>,
    pub read: &'a ReadOptions,
    pub scoring: Scoring<'a>,
}

/// A whole scoring run as one call: emissions totals, the scored file, the orphan emission rows.
/// Returns the outcome and the emissions table's counts (when there is one).
pub fn score_files(
    f: &ScoreFiles<'_>,
    rejects: &mut Rejects,
    on_rows: &mut dyn FnMut(u64),
) -> Result<(ScoreOutcome, Option<Counts>)> {
    let emissions = match f.emissions {
        Some(p) => Some(read_emission_totals(p, f.read, rejects, f.scoring.policy)?),
        None => None,
    };
    let reader = EnterpriseReader::open(f.enterprises, f.read)?;
    let outcome = score_to_file(
        reader,
        emissions.as_ref().map(|(t, _)| t),
        &f.scoring,
        rejects,
        on_rows,
    )?;
    let mut emission_counts = None;
    if let (Some(p), Some((totals, mut counts))) = (f.emissions, emissions) {
        report_orphans(p, f.read, &totals, &mut counts, rejects)?;
        emission_counts = Some(counts);
    }
    Ok((outcome, emission_counts))
}
