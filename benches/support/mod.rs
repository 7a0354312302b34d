//! Fixtures shared by the stage benches (`io`, `io_floor`): a fixed-seed synthetic Beijing from
//! `spotcheck gen`'s generator written to Parquet exactly as `spotcheck gen` writes it (the
//! enterprise table without pe columns, plus the emissions table), and its score output as
//! in-memory batches.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use spotcheck::r#gen::{GenParams, Generator, Tables, emissions_schema, enterprise_schema};
use spotcheck::input::EnterpriseReader;
use spotcheck::policy::Policy;
use spotcheck::schema::Lang;
use spotcheck::score::pollutants::{PollutantId, Pollutants};
use spotcheck::score::{EmissionAggregate, EmissionTotals, score_batch};
use spotcheck::table::{ReadOptions, Rejects, WriteOptions, create};

/// Enterprises in the bench data (2¹⁸: four read batches of 65 536).
pub const ROWS: u64 = 1 << 18;
/// The generator's seed for every bench.
pub const SEED: u64 = 20_260_801;

/// Generated input files in a temporary folder.
pub struct Fixture {
    _dir: tempfile::TempDir,
    pub enterprises: PathBuf,
    pub emissions: PathBuf,
    pub emission_rows: usize,
}

/// Writes `ROWS` generated enterprises and their emissions as Parquet.
pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temporary folder");
    let enterprises = dir.path().join("enterprises.parquet");
    let emissions = dir.path().join("emissions.parquet");
    let g = Generator::new(GenParams::new(ROWS, SEED)).expect("valid parameters");
    let full = enterprise_schema();
    let keep: Vec<usize> = (0..full.fields().len())
        .filter(|&i| !matches!(full.field(i).name().as_str(), "pe_air" | "pe_water"))
        .collect();
    let opts = WriteOptions::default();
    let mut ent = create(
        &enterprises,
        Arc::new(full.project(&keep).expect("projection")),
        &opts,
    )
    .expect("create");
    let mut emi = create(&emissions, emissions_schema(), &opts).expect("create");
    let mut emission_rows = 0;
    let tables = Tables {
        emissions: true,
        history: None,
    };
    for b in g.batches(tables) {
        ent.write(&b.enterprises.project(&keep).expect("projection"))
            .expect("write");
        if let Some(e) = b.emissions {
            emission_rows += e.num_rows();
            emi.write(&e).expect("write");
        }
    }
    ent.finish().expect("finish");
    emi.finish().expect("finish");
    Fixture {
        _dir: dir,
        enterprises,
        emissions,
        emission_rows,
    }
}

/// The emissions of the fixture aggregated (sequential reference path).
pub fn totals(f: &Fixture) -> EmissionTotals {
    let pollutants = Pollutants::builtin();
    let mut agg = EmissionAggregate::new();
    let mut rejects = Rejects::new(false);
    spotcheck::input::tables::read_emissions(
        &f.emissions,
        &ReadOptions::default(),
        &mut rejects,
        &|m, s| pollutants.lookup(m, s).map(|id| id.0),
        |r| agg.add(r.uscc, r.outlet, PollutantId(r.pollutant), r.amount_kg),
    )
    .expect("read emissions");
    agg.finish(pollutants, &Policy::default().tax)
}

/// The score output of the fixture (English), batch by batch, as `spotcheck score --no-model`
/// writes it.
pub fn scored(f: &Fixture) -> Vec<RecordBatch> {
    let totals = totals(f);
    let policy = Policy::default();
    let mut reader = EnterpriseReader::open(&f.enterprises, &ReadOptions::default()).expect("open");
    let mut rejects = Rejects::new(false);
    let mut out = Vec::new();
    while let Some(b) = reader.next_batch(&mut rejects).expect("read") {
        let s = score_batch(&b, Some(&totals), None, &policy).expect("score");
        out.push(s.to_record_batch(Lang::En).expect("output"));
    }
    out
}
