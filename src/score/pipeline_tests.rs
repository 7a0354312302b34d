//! The parallel pipeline against the sequential one: the enterprise table read in rounds of
//! batches parsed in parallel (`EnterpriseReader::next_batches`, read ahead on a thread), the
//! emissions parsed in parallel and added shard by shard (`read_emissions_batched`,
//! `EmissionAggregate::add_rows`), and the batches scored in parallel must give exactly what the
//! row-by-row, batch-by-batch path gives: the same accepted rows, the same rejects in the same
//! order, the same totals bit for bit and the same output table. Also the sampling frame's
//! batch-at-a-time duplicate check against the row-by-row rule.

use std::io::Write;
use std::path::{Path, PathBuf};

use arrow::array::Array;
use arrow::compute::concat_batches;
use arrow::record_batch::RecordBatch;
use rayon::prelude::*;

use crate::input::EnterpriseReader;
use crate::input::tables::{read_emissions, read_emissions_batched};
use crate::policy::Policy;
use crate::schema::Lang;
use crate::score::pollutants::{PollutantId, Pollutants};
use crate::score::{EmissionAggregate, EmissionTotals, score_batch};
use crate::table::{ReadOptions, Reject, Rejects};

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/sample")
        .join(name)
}

/// The bundled sample enterprises with trouble added at the end: repeats of earlier codes (one
/// in lower case), a malformed code, a repeat with a bad cell (rejected for the cell, so its
/// code is not remembered) followed by the same code again, an unknown district.
fn troubled_enterprises(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(sample("enterprises.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = lines.join("\n");
    out.push('\n');
    for k in [5usize, 700, 2999] {
        out.push_str(lines[k]);
        out.push('\n');
    }
    out.push_str(&lines[40].to_lowercase());
    out.push('\n');
    let first = lines[1].split(',').next().unwrap();
    out.push_str(&lines[1].replacen(first, "9111010", 1));
    out.push('\n');
    // A brand-new code whose first row has a bad tier (rejected for the tier), then a good row
    // with the same code (accepted: the bad row did not count).
    let fresh = crate::uscc::complete("91110108MA0000001").unwrap();
    let good = lines[2].replacen(lines[2].split(',').next().unwrap(), &fresh, 1);
    out.push_str(&good.replacen(",none,", ",giant,", 1));
    out.push('\n');
    out.push_str(&good);
    out.push('\n');
    let mut cells: Vec<String> = lines[3].split(',').map(String::from).collect();
    cells[0] = crate::uscc::complete("91110108MA0000002").unwrap();
    cells[2] = "上海".into();
    out.push_str(&cells.join(","));
    out.push('\n');
    let path = dir.join("troubled.csv");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(out.as_bytes())
        .unwrap();
    path
}

fn totals_sequential(path: &Path, opts: &ReadOptions, rejects: &mut Rejects) -> EmissionTotals {
    let pollutants = Pollutants::builtin();
    let mut agg = EmissionAggregate::new();
    read_emissions(
        path,
        opts,
        rejects,
        &|m, s| pollutants.lookup(m, s).map(|id| id.0),
        |r| agg.add(r.uscc, r.outlet, PollutantId(r.pollutant), r.amount_kg),
    )
    .unwrap();
    agg.finish(pollutants, &Policy::default().tax)
}

fn totals_parallel(path: &Path, opts: &ReadOptions, rejects: &mut Rejects) -> EmissionTotals {
    let pollutants = Pollutants::builtin();
    let mut agg = EmissionAggregate::new();
    read_emissions_batched(
        path,
        opts,
        rejects,
        &|m, s| pollutants.lookup(m, s).map(|id| id.0),
        |rows| agg.add_rows(rows),
    )
    .unwrap();
    agg.finish(pollutants, &Policy::default().tax)
}

#[test]
fn parallel_pipeline_equals_sequential() {
    let dir = tempfile::tempdir().unwrap();
    let ent = troubled_enterprises(dir.path());
    let emi = sample("emissions.csv");
    // Small batches, so a round spans several and duplicates cross batch boundaries.
    let opts = ReadOptions {
        batch_rows: 97,
        ..ReadOptions::default()
    };
    let policy = Policy::default();

    // Sequential: row by row, batch by batch.
    let mut rej_a = Rejects::new(false);
    let totals_a = totals_sequential(&emi, &opts, &mut rej_a);
    let mut reader = EnterpriseReader::open(&ent, &opts).unwrap();
    let mut out_a: Vec<RecordBatch> = Vec::new();
    while let Some(b) = reader.next_batch(&mut rej_a).unwrap() {
        let s = score_batch(&b, Some(&totals_a), None, &policy).unwrap();
        out_a.push(s.to_record_batch(Lang::En).unwrap());
    }
    let counts_a = reader.counts();

    // Parallel: read ahead, rounds of 3 batches parsed and scored in parallel.
    let mut rej_b = Rejects::new(false);
    let totals_b = totals_parallel(&emi, &opts, &mut rej_b);
    let mut reader = EnterpriseReader::open(&ent, &opts).unwrap().prefetch(2);
    let mut out_b: Vec<RecordBatch> = Vec::new();
    loop {
        let batches = reader.next_batches(3, &mut rej_b).unwrap();
        if batches.is_empty() {
            break;
        }
        let scored: Vec<RecordBatch> = batches
            .par_iter()
            .map(|b| {
                score_batch(b, Some(&totals_b), None, &policy)
                    .unwrap()
                    .to_record_batch(Lang::En)
                    .unwrap()
            })
            .collect();
        out_b.extend(scored);
    }
    let counts_b = reader.counts();

    assert_eq!(counts_a, counts_b);
    // 3000 sample rows + 8 added: 4 repeats, 1 malformed, 1 bad tier, 1 unknown district
    // rejected; the fresh code's second row is accepted.
    assert_eq!(counts_a.read, 3008);
    assert_eq!(counts_a.rejected, 7, "{:?}", rej_a.items());
    let reasons: Vec<&str> = rej_a.items().iter().map(|r: &Reject| r.reason).collect();
    assert_eq!(
        reasons,
        [
            "USCC_DUPLICATE",
            "USCC_DUPLICATE",
            "USCC_DUPLICATE",
            "USCC_DUPLICATE",
            "USCC_MALFORMED",
            "TIER_UNKNOWN",
            "DISTRICT_UNKNOWN"
        ]
    );
    assert_eq!(rej_a.items(), rej_b.items());

    // Emission totals bit for bit, and the same orphans.
    assert_eq!(totals_a.rows(), totals_b.rows());
    assert_eq!(totals_a.enterprises(), totals_b.enterprises());
    assert_eq!(totals_a.orphans(), totals_b.orphans());
    let a = concat_batches(&out_a[0].schema(), &out_a).unwrap();
    let b = concat_batches(&out_b[0].schema(), &out_b).unwrap();
    assert_eq!(a.num_rows(), 3001);
    assert_eq!(a, b);
    // Batches keep file order: the same batch boundaries too.
    let sizes = |v: &[RecordBatch]| v.iter().map(RecordBatch::num_rows).collect::<Vec<_>>();
    assert_eq!(sizes(&out_a), sizes(&out_b));
}

#[test]
fn sampling_frame_rejects_repeated_codes_in_row_order() {
    // The frame reader looks for repeated codes once the file is read (RepeatFinder); the rejects
    // must be those of a row-by-row check, in row order, and the frame must keep the first of
    // each code. The same from CSV and from Parquet (district, tier and class read as
    // dictionaries), and under --strict the first of them is the error.
    let dir = tempfile::tempdir().unwrap();
    let opts = ReadOptions {
        batch_rows: 50,
        ..ReadOptions::default()
    };
    let mut rejects = Rejects::new(false);
    let mut reader = EnterpriseReader::open(&sample("enterprises.csv"), &opts).unwrap();
    let scored_csv = dir.path().join("scored.csv");
    let mut w = None;
    while let Some(b) = reader.next_batch(&mut rejects).unwrap() {
        let rb = score_batch(&b, None, None, &Policy::default())
            .unwrap()
            .to_record_batch(Lang::En)
            .unwrap();
        let w = w.get_or_insert_with(|| {
            crate::table::create(&scored_csv, rb.schema(), &Default::default()).unwrap()
        });
        w.write(&rb).unwrap();
    }
    w.unwrap().finish().unwrap();
    let text = std::fs::read_to_string(&scored_csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = lines.join("\n");
    // Row 3001: a repeat of row 10; row 3002: a malformed code; row 3003: a repeat of row 3000;
    // row 3004: row 3001 again (a repeat of a repeat).
    for extra in [
        lines[10].to_string(),
        lines[1].replacen(&lines[1][..18], "9111010", 1),
        lines[3000].to_string(),
        lines[10].to_string(),
    ] {
        out.push('\n');
        out.push_str(&extra);
    }
    out.push('\n');
    std::fs::write(&scored_csv, out).unwrap();

    let mut rejects = Rejects::new(false);
    let (frame, counts) = crate::sample::io::read_frame(&scored_csv, &opts, &mut rejects).unwrap();
    assert_eq!(
        (counts.read, counts.accepted, counts.rejected),
        (3004, 3000, 4)
    );
    let got: Vec<(u64, &str)> = rejects.items().iter().map(|r| (r.row, r.reason)).collect();
    assert_eq!(
        got,
        [
            (3001, "USCC_DUPLICATE"),
            (3002, "USCC_MALFORMED"),
            (3003, "USCC_DUPLICATE"),
            (3004, "USCC_DUPLICATE")
        ]
    );
    assert_eq!(frame.uscc.len(), 3000);
    assert_eq!(frame.district.len(), 3000);
    assert_eq!(frame.uscc.value(9), &lines[10][..18]);
    assert_eq!(frame.uscc.value(2999), &lines[3000][..18]);
    // Names stay with their rows, also in the last batch where a row failed.
    let name_of = |line: &str| line.split(',').nth(1).unwrap().trim().to_string();
    assert_eq!(frame.name(9), name_of(lines[10]));
    assert_eq!(frame.name(2999), name_of(lines[3000]));

    let scored_pq = dir.path().join("scored.parquet");
    let batches = crate::table::open(&scored_csv, &opts)
        .unwrap()
        .read_all()
        .unwrap();
    let mut w = crate::table::create(&scored_pq, batches[0].schema(), &Default::default()).unwrap();
    for b in &batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap();
    let mut pq_rejects = Rejects::new(false);
    let (mut pq_frame, pq_counts) =
        crate::sample::io::read_frame(&scored_pq, &opts, &mut pq_rejects).unwrap();
    assert_eq!(
        (pq_counts.read, pq_counts.accepted, pq_counts.rejected),
        (3004, 3000, 4)
    );
    let strip = |r: &crate::table::Reject| (r.row, r.column.clone(), r.value.clone(), r.reason);
    assert_eq!(
        pq_rejects.items().iter().map(strip).collect::<Vec<_>>(),
        rejects.items().iter().map(strip).collect::<Vec<_>>()
    );
    assert_eq!(pq_frame.uscc, frame.uscc);
    assert_eq!(pq_frame.district, frame.district);
    assert_eq!(pq_frame.tier, frame.tier);
    assert_eq!(pq_frame.credit_class, frame.credit_class);
    assert_eq!(pq_frame.market_ratio, frame.market_ratio);
    // A Parquet frame leaves its names in the file; those asked for are read back, past the
    // failed and repeated rows.
    assert!(pq_frame.name.is_in_file());
    pq_frame.fetch_names((0..3000).rev()).unwrap();
    assert!((0..3000).all(|i| pq_frame.name(i) == frame.name(i)));
    pq_frame.fetch_names([2999, 9]).unwrap();
    assert_eq!(pq_frame.name(9), name_of(lines[10]));
    assert_eq!(pq_frame.name(2999), name_of(lines[3000]));
    let unfetched = std::panic::AssertUnwindSafe(|| pq_frame.name(10).len());
    assert!(std::panic::catch_unwind(unfetched).is_err());
    // A file changed since the frame was read is refused, not read for the wrong rows.
    std::fs::write(&scored_pq, b"changed").unwrap();
    let err = pq_frame.fetch_names([9]).unwrap_err().to_string();
    assert!(err.contains("changed"), "{err}");
    std::fs::remove_file(&scored_pq).unwrap();
    w = crate::table::create(&scored_pq, batches[0].schema(), &Default::default()).unwrap();
    for b in &batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap();

    let mut strict = Rejects::new(true);
    let err = crate::sample::io::read_frame(&scored_pq, &opts, &mut strict)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("3001") && err.contains("USCC_DUPLICATE"),
        "{err}"
    );
}

#[test]
fn blank_names_of_a_parquet_or_arrow_frame_read_back_blank() {
    // Names are read back by position (from Parquet, from the row groups holding the drawn rows
    // only). A blank or missing name is a name like any other (it once made the read-back think
    // the file had changed: reading the name column alone skipped those rows as blank rows).
    let dir = tempfile::tempdir().unwrap();
    let opts = ReadOptions::default();
    let all = scored_sample();
    let n = all.num_rows();
    let name_at = all.schema().index_of("name").unwrap();
    let names: Vec<Option<String>> = (0..n)
        .map(|i| {
            let s = all
                .column(name_at)
                .as_any()
                .downcast_ref::<arrow::array::StringArray>();
            match i % 7 {
                0 => None,
                3 => Some("  ".to_string()),
                _ => Some(format!(" {} ", s.unwrap().value(i))),
            }
        })
        .collect();
    let mut cols = all.columns().to_vec();
    cols[name_at] = std::sync::Arc::new(arrow::array::StringArray::from(names.clone()));
    let all = RecordBatch::try_new(all.schema(), cols).unwrap();
    let scored_pq = dir.path().join("scored.parquet");
    let wopts = crate::table::WriteOptions {
        row_group_rows: 700,
        ..Default::default()
    };
    let mut w = crate::table::create(&scored_pq, all.schema(), &wopts).unwrap();
    w.write(&all).unwrap();
    w.finish().unwrap();
    let (mut frame, counts) =
        crate::sample::io::read_frame(&scored_pq, &opts, &mut Rejects::new(false)).unwrap();
    assert_eq!(counts.accepted, n as u64);
    assert!(frame.name.is_in_file());
    let want = |i: usize| names[i].as_deref().unwrap_or("").trim().to_string();
    frame.fetch_names((0..n).rev()).unwrap();
    assert!((0..n).all(|i| frame.name(i) == want(i)));
    frame.fetch_names([0, 3, 699, 700, 2101, n - 1]).unwrap();
    for i in [0, 3, 699, 700, 2101, n - 1] {
        assert_eq!(frame.name(i), want(i), "unit {i}");
    }
    assert_eq!(frame.name(0), "");
    assert_eq!(frame.name(3), "");
    assert_eq!(frame.name(699), want(699));
    assert!(!want(699).is_empty());
    // The same from Arrow IPC (read back through `table::open`, every row by position).
    let scored_ipc = dir.path().join("scored.arrow");
    let mut w = crate::table::create(&scored_ipc, all.schema(), &wopts).unwrap();
    w.write(&all).unwrap();
    w.finish().unwrap();
    let (mut frame, _) =
        crate::sample::io::read_frame(&scored_ipc, &opts, &mut Rejects::new(false)).unwrap();
    assert!(frame.name.is_in_file());
    frame.fetch_names([0, 3, 699, 700, 2101, n - 1]).unwrap();
    for i in [0, 3, 699, 700, 2101, n - 1] {
        assert_eq!(frame.name(i), want(i), "unit {i}");
    }
    frame.fetch_names((0..n).rev()).unwrap();
    assert!((0..n).all(|i| frame.name(i) == want(i)));
}

#[test]
fn a_parquet_frame_read_column_by_column_equals_the_row_by_row_reading() {
    // A Parquet frame's batches whose cells are all valid are read column by column straight
    // into the frame's slots; a batch with a rejected row is read row by row and its failed
    // rows' slots removed afterwards. The same table as Arrow IPC (no dictionaries: always row
    // by row) must give the same frame unit for unit, the same names and the same rejects.
    use arrow::array::{Float64Array, StringArray};
    let dir = tempfile::tempdir().unwrap();
    let all = scored_sample();
    let n = all.num_rows();
    assert!(n > 2600);
    let at = |c: &str| all.schema().index_of(c).unwrap();
    let strings = |c: &str| {
        let a = all
            .column(at(c))
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        (0..n)
            .map(|i| (!a.is_null(i)).then(|| a.value(i).to_string()))
            .collect::<Vec<_>>()
    };
    let floats = |c: &str| {
        let a = all
            .column(at(c))
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        (0..n)
            .map(|i| (!a.is_null(i)).then(|| a.value(i)))
            .collect::<Vec<_>>()
    };
    let (mut uscc, mut district, mut ratio, mut risk) = (
        strings("uscc"),
        strings("district"),
        floats("market_ratio"),
        floats("risk_score"),
    );
    // Rejects in the batches of rows 300..600 and 1 200..1 500; rows 1 800..2 100 have risk
    // scores missing but nothing rejected; row 2 500 repeats the code of row 10.
    ratio[305] = Some(1.5);
    district[310] = None;
    uscc[1_499] = Some("not a code".into());
    uscc[2_500] = uscc[10].clone();
    for (i, r) in risk.iter_mut().enumerate() {
        *r = (!(1_800..2_100).contains(&i) || i % 3 != 0).then_some(i as f64 / 10.0);
    }
    // A NaN and an infinite score in a batch with nothing rejected read as no score.
    risk[2_250] = Some(f64::NAN);
    risk[2_260] = Some(f64::NEG_INFINITY);
    let mut cols = all.columns().to_vec();
    cols[at("uscc")] = std::sync::Arc::new(StringArray::from(uscc));
    cols[at("district")] = std::sync::Arc::new(StringArray::from(district));
    cols[at("market_ratio")] = std::sync::Arc::new(Float64Array::from(ratio));
    cols[at("risk_score")] = std::sync::Arc::new(Float64Array::from(risk.clone()));
    let all = RecordBatch::try_new(all.schema(), cols).unwrap();
    let wopts = crate::table::WriteOptions {
        row_group_rows: 700,
        ..Default::default()
    };
    let read = |ext: &str| {
        let path = dir.path().join(format!("scored.{ext}"));
        let mut w = crate::table::create(&path, all.schema(), &wopts).unwrap();
        w.write(&all).unwrap();
        w.finish().unwrap();
        // Batches of 300 rows: rounds of several batches, some read each way.
        let opts = ReadOptions {
            batch_rows: 300,
            ..ReadOptions::default()
        };
        let mut rejects = Rejects::new(false);
        let (mut frame, counts) =
            crate::sample::io::read_frame(&path, &opts, &mut rejects).unwrap();
        frame.fetch_names(0..frame.len()).unwrap();
        let rejected: Vec<(u64, &'static str)> =
            rejects.items().iter().map(|r| (r.row, r.reason)).collect();
        (frame, counts, rejected)
    };
    let (pq, pq_counts, pq_rejects) = read("parquet");
    let (ipc, ipc_counts, ipc_rejects) = read("arrow");
    assert_eq!(
        pq_rejects,
        [
            (306, "NUMBER_INVALID"),
            (311, "VALUE_MISSING"),
            (1_500, "USCC_MALFORMED"),
            (2_501, "USCC_DUPLICATE"),
        ]
    );
    assert_eq!(pq_rejects, ipc_rejects);
    assert_eq!(
        (pq_counts.read, pq_counts.accepted),
        (n as u64, n as u64 - 4)
    );
    assert_eq!(
        (ipc_counts.read, ipc_counts.accepted),
        (pq_counts.read, pq_counts.accepted)
    );
    assert_eq!(pq.len(), n - 4);
    for i in 0..pq.len() {
        assert_eq!(pq.unit(i), ipc.unit(i), "unit {i}");
    }
    // Unit i is the i-th row kept: the risk scores (present or not) follow their rows across
    // the removed slots.
    let row_of = |i: usize| {
        let mut row = i;
        for k in [305, 310, 1_499, 2_500] {
            if row >= k {
                row += 1;
            }
        }
        row
    };
    for i in 0..pq.len() {
        let want = risk[row_of(i)].filter(|r| r.is_finite());
        assert_eq!(pq.risk_score.get(i), want, "unit {i}");
        assert_eq!(pq.uscc(i), ipc.uscc(i));
    }
    assert_eq!(row_of(1_797), 1_800);
    assert_eq!(pq.risk_score.get(1_797), None);
    assert_eq!(pq.risk_score.get(1_798), Some(180.1));
    assert_eq!(row_of(2_247), 2_250);
    assert_eq!(pq.risk_score.get(2_247), None);
    assert_eq!(pq.risk_score.get(2_248), Some(225.1));
}

/// The bundled sample's enterprises scored (no emissions, no model, English), as one batch.
fn scored_sample() -> RecordBatch {
    let mut reader =
        EnterpriseReader::open(&sample("enterprises.csv"), &ReadOptions::default()).unwrap();
    let mut batches = Vec::new();
    while let Some(b) = reader.next_batch(&mut Rejects::new(false)).unwrap() {
        batches.push(
            score_batch(&b, None, None, &Policy::default())
                .unwrap()
                .to_record_batch(Lang::En)
                .unwrap(),
        );
    }
    concat_batches(&batches[0].schema(), &batches).unwrap()
}
