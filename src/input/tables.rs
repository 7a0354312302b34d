//! Reading the optional tables of SPEC §1.2–1.4 — emissions, inspection history, inspectors —
//! into typed rows, with the same rules as the enterprise table: header matching by English or
//! Chinese name, one rejects entry per bad row, `read = accepted + rejected`.
//! Emission rows are streamed to a callback (the table may be larger than memory would like);
//! history and inspectors are small and returned whole.

use arrow::array::ArrayRef;
use std::collections::HashSet;
use std::path::Path;

use super::enterprise::reason;
use super::validate::{CellError, Counts, num_cell};
use crate::date::Date;
use crate::schema::{Department, Medium, Mode, emi, hist, insp};
use crate::table::cells::{EnumColumn, Memo, NumColumn, TextColumn};
use crate::table::codes::check_key;
use crate::table::{ColumnMap, Prefetch, ReadOptions, Reject, Rejects};
use crate::uscc::{UsccCheck, check};
use crate::{Result, district};

/// One accepted emission row (SPEC §1.2). `pollutant` is the resolved pollutant id.
#[derive(Debug, Clone, PartialEq)]
pub struct EmissionRow<'a> {
    pub row: u64,
    pub uscc: [u8; 18],
    pub outlet: &'a str,
    pub medium: Medium,
    pub pollutant: u16,
    pub amount_kg: f64,
}

fn required<'a>(
    t: &'a TextColumn,
    i: usize,
    col: usize,
    name: &str,
) -> std::result::Result<&'a str, CellError> {
    t.get(i).ok_or_else(|| CellError {
        col,
        value: String::new(),
        reason: reason::VALUE_MISSING,
        detail: format!("column {name:?} is required and may not be empty"),
    })
}

fn uscc_key(s: &str, col: usize) -> std::result::Result<[u8; 18], CellError> {
    match check_key(s) {
        Some((k, _)) => Ok(k),
        None => Err(CellError {
            col,
            value: s.to_string(),
            reason: reason::USCC_MALFORMED,
            detail: "expected 18 characters from 0-9 and A-Y without I, O, S, V, Z (GB 32100-2015)"
                .into(),
        }),
    }
}

fn reject(
    rejects: &mut Rejects,
    file: &str,
    row: u64,
    schema: &arrow::datatypes::Schema,
    e: CellError,
) -> Result<()> {
    rejects.push(Reject {
        file: file.to_string(),
        row,
        column: schema.field(e.col).name().clone(),
        value: e.value,
        reason: e.reason,
        detail: e.detail,
    })
}

/// Streams the emissions table: each accepted row goes to `sink`, in file order. `lookup`
/// resolves a pollutant code or Chinese name within its medium to an id (unknown → the row is
/// rejected).
pub fn read_emissions(
    path: &Path,
    opts: &ReadOptions,
    rejects: &mut Rejects,
    lookup: &(dyn Fn(Medium, &str) -> Option<u16> + Sync),
    mut sink: impl FnMut(EmissionRow<'_>) + Send,
) -> Result<Counts> {
    read_emissions_batched(path, opts, rejects, lookup, |rows| {
        for r in rows {
            sink(r.clone());
        }
    })
}

/// The accepted rows and the failures of one batch.
type Parsed = (Vec<ParsedEmission>, Vec<(u64, CellError)>);

/// Batches read and parsed together (in parallel) by [`read_emissions_batched`].
const ROUND: usize = 4;

/// The columns of one raw emissions batch, viewed as text and numbers.
struct EmissionCols {
    first_row: u64,
    len: usize,
    us: TextColumn,
    ou: TextColumn,
    /// Medium and pollutant as read (dictionary arrays from Parquet): parsed per batch in
    /// `parse_emissions`, each distinct value once.
    me: ArrayRef,
    po: ArrayRef,
    am: Option<NumColumn>,
}

/// An accepted emission row of a batch, its outlet given by position in the batch (so parsed rows
/// can wait for their turn without borrowing the batch).
struct ParsedEmission {
    row: u64,
    at: u32,
    uscc: [u8; 18],
    medium: Medium,
    pollutant: u16,
    amount_kg: f64,
}

/// Parses the cells of one emissions batch: the accepted rows and the failures, in row order.
fn parse_emissions(
    c: &EmissionCols,
    [cu, co, cm, cp, ca]: [usize; 5],
    lookup: &(dyn Fn(Medium, &str) -> Option<u16> + Sync),
    path: &Path,
) -> Result<Parsed> {
    let mut media = Memo::new(Medium::parse);
    // Pollutant names repeat: each (medium, text) is looked up once per batch (once per
    // dictionary value for a dictionary column).
    let mut air = Memo::new(|s: &str| lookup(Medium::Air, s));
    let mut water = Memo::new(|s: &str| lookup(Medium::Water, s));
    let me = EnumColumn::new(&c.me, path, &mut media)?;
    let po_air = EnumColumn::new(&c.po, path, &mut air)?;
    let po_water = EnumColumn::new(&c.po, path, &mut water)?;
    let missing = |col: usize, name: &str| CellError {
        col,
        value: String::new(),
        reason: reason::VALUE_MISSING,
        detail: format!("column {name:?} is required and may not be empty"),
    };
    let mut ok = Vec::with_capacity(c.len);
    let mut bad = Vec::new();
    for i in 0..c.len {
        let row = c.first_row + i as u64;
        let parsed = (|| {
            let uscc = uscc_key(required(&c.us, i, cu, "uscc")?, cu)?;
            required(&c.ou, i, co, "outlet")?;
            let medium = me
                .get(i, &mut media)
                .ok_or_else(|| missing(cm, "medium"))?
                .map_err(|m| CellError {
                    col: cm,
                    value: m.to_string(),
                    reason: reason::MEDIUM_INVALID,
                    detail: format!("expected {}", Medium::EXPECTED),
                })?;
            let found = match medium {
                Medium::Air => po_air.get(i, &mut air),
                Medium::Water => po_water.get(i, &mut water),
            };
            let pollutant = found
                .ok_or_else(|| missing(cp, "pollutant"))?
                .map_err(|p| CellError {
                    col: cp,
                    value: p.to_string(),
                    reason: reason::POLLUTANT_UNKNOWN,
                    detail: format!(
                        "not {} pollutant of the Environmental Protection Tax Law's table (data/pollutants.csv: code or Chinese name)",
                        match medium {
                            Medium::Air => "an air",
                            Medium::Water => "a water",
                        }
                    ),
                })?;
            let amount_kg = num_cell(&c.am, i, Some(ca))?.ok_or_else(|| CellError {
                col: ca,
                value: String::new(),
                reason: reason::VALUE_MISSING,
                detail: "column \"amount_kg\" is required and may not be empty".into(),
            })?;
            Ok::<_, CellError>(ParsedEmission {
                row,
                at: i as u32,
                uscc,
                medium,
                pollutant,
                amount_kg,
            })
        })();
        match parsed {
            Ok(r) => ok.push(r),
            Err(e) => bad.push((row, e)),
        }
    }
    Ok((ok, bad))
}

/// Like [`read_emissions`], handing the accepted rows to `sink` a record batch at a time, in file
/// order. The file is decoded ahead on its own thread and the cells of a few batches at a time
/// are parsed in parallel (rayon); rejects are recorded in row order as the sequential reader
/// would.
pub fn read_emissions_batched(
    path: &Path,
    opts: &ReadOptions,
    rejects: &mut Rejects,
    lookup: &(dyn Fn(Medium, &str) -> Option<u16> + Sync),
    mut sink: impl FnMut(&[EmissionRow<'_>]) + Send,
) -> Result<Counts> {
    use rayon::prelude::*;
    // Parquet medium and pollutant columns are read as dictionaries (a handful of values).
    let enums: crate::table::read::ColumnFilter =
        std::sync::Arc::new(|h: &str| [emi::MEDIUM, emi::POLLUTANT].iter().any(|c| c.matches(h)));
    let opts = ReadOptions {
        dictionary: Some(enums),
        header: Some(crate::table::layout::header_probe(emi::REQUIRED)),
        ..opts.clone()
    };
    let reader = crate::table::open(path, &opts)?;
    let schema = reader.schema();
    let map = ColumnMap::resolve(&schema, emi::ALL, emi::REQUIRED, path)?;
    // Decode ahead on another thread while this one checks and adds up the rows.
    let mut reader = Prefetch::new(reader, 4);
    let file = path.display().to_string();
    let [cu, co, cm, cp, ca] = [
        emi::USCC,
        emi::OUTLET,
        emi::MEDIUM,
        emi::POLLUTANT,
        emi::AMOUNT_KG,
    ]
    // Invariant: resolve() checked that every required column is present.
    .map(|c| map.get(&c).expect("required column resolved"));
    let mut counts = Counts::default();
    counts.set_layout(reader.layout());
    // Round k+1 is parsed while the rows of round k go to the sink (rayon::join).
    let mut pending: Option<(Vec<EmissionCols>, Vec<Parsed>)> = None;
    loop {
        let mut round = Vec::with_capacity(ROUND);
        while round.len() < ROUND {
            let Some(numbered) = reader.next_numbered().transpose()? else {
                break;
            };
            let raw = numbered.batch;
            round.push(EmissionCols {
                first_row: numbered.first_row,
                len: raw.num_rows(),
                us: TextColumn::new(raw.column(cu), path)?,
                ou: TextColumn::new(raw.column(co), path)?,
                me: raw.column(cm).clone(),
                po: raw.column(cp).clone(),
                am: Some(NumColumn::new(raw.column(ca), path)?),
            });
        }
        let (parsed, handed) = rayon::join(
            || {
                round
                    .par_iter()
                    .map(|c| parse_emissions(c, [cu, co, cm, cp, ca], lookup, path))
                    .collect::<Result<Vec<_>>>()
            },
            || -> Result<()> {
                let Some((cols, parsed)) = pending.take() else {
                    return Ok(());
                };
                for (c, (ok, bad)) in cols.iter().zip(parsed) {
                    counts.read += c.len as u64;
                    counts.accepted += ok.len() as u64;
                    counts.rejected += bad.len() as u64;
                    for (row, e) in bad {
                        reject(rejects, &file, row, &schema, e)?;
                    }
                    let rows: Vec<EmissionRow<'_>> = ok
                        .iter()
                        .map(|p| EmissionRow {
                            row: p.row,
                            uscc: p.uscc,
                            // The parser checked that the outlet is there.
                            outlet: c.ou.get(p.at as usize).unwrap_or_default(),
                            medium: p.medium,
                            pollutant: p.pollutant,
                            amount_kg: p.amount_kg,
                        })
                        .collect();
                    sink(&rows);
                }
                Ok(())
            },
        );
        handed?;
        let parsed = parsed?;
        if round.is_empty() {
            break;
        }
        pending = Some((round, parsed));
    }
    counts.skipped = reader.skipped().rows();
    Ok(counts)
}

/// One inspection of the history table (SPEC §1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub uscc: String,
    pub date: Date,
    pub department: Department,
    pub mode: Mode,
}

/// Reads the inspection history.
pub fn read_history(
    path: &Path,
    opts: &ReadOptions,
    rejects: &mut Rejects,
) -> Result<(Vec<HistoryRow>, Counts)> {
    let opts = ReadOptions {
        header: Some(crate::table::layout::header_probe(hist::REQUIRED)),
        ..opts.clone()
    };
    let mut reader = crate::table::open(path, &opts)?;
    let schema = reader.schema();
    let map = ColumnMap::resolve(&schema, hist::ALL, hist::REQUIRED, path)?;
    let file = path.display().to_string();
    let [cu, cd, cp, cm] = [hist::USCC, hist::DATE, hist::DEPARTMENT, hist::MODE]
        // Invariant: resolve() checked that every required column is present.
        .map(|c| map.get(&c).expect("required column resolved"));
    let mut counts = Counts::default();
    counts.set_layout(reader.layout());
    let mut out = Vec::new();
    while let Some(numbered) = reader.next_numbered() {
        let numbered = numbered?;
        let raw = numbered.batch;
        let [us, da, de, mo] = [cu, cd, cp, cm].map(|c| TextColumn::new(raw.column(c), path));
        let (us, da, de, mo) = (us?, da?, de?, mo?);
        for i in 0..raw.num_rows() {
            let row = numbered.first_row + i as u64;
            counts.read += 1;
            let parsed = (|| {
                let u = uscc_key(required(&us, i, cu, "uscc")?, cu)?;
                let d = required(&da, i, cd, "date")?;
                let date = Date::parse_cell(d).ok_or_else(|| CellError {
                    col: cd,
                    value: d.to_string(),
                    reason: reason::DATE_INVALID,
                    detail: "expected a date YYYY-MM-DD (also 2026/11/3, 2026年11月3日, 20261103 or an Excel date number)".into(),
                })?;
                let p = required(&de, i, cp, "department")?;
                let department = Department::parse(p).ok_or_else(|| CellError {
                    col: cp,
                    value: p.to_string(),
                    reason: reason::DEPARTMENT_INVALID,
                    detail: format!("expected {}", Department::EXPECTED),
                })?;
                let m = required(&mo, i, cm, "mode")?;
                let mode = Mode::parse(m).ok_or_else(|| CellError {
                    col: cm,
                    value: m.to_string(),
                    reason: reason::MODE_INVALID,
                    detail: format!("expected {}", Mode::EXPECTED),
                })?;
                Ok::<_, CellError>(HistoryRow {
                    uscc: String::from_utf8_lossy(&u).into_owned(),
                    date,
                    department,
                    mode,
                })
            })();
            match parsed {
                Ok(r) => {
                    counts.accepted += 1;
                    out.push(r);
                }
                Err(e) => {
                    counts.rejected += 1;
                    reject(rejects, &file, row, &schema, e)?;
                }
            }
        }
    }
    counts.skipped = reader.skipped().rows();
    Ok((out, counts))
}

/// One inspector (SPEC §1.4). `district = None` means any district (`*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectorRow {
    pub inspector_id: String,
    pub name: String,
    pub department: Department,
    pub district: Option<u32>,
    /// Codes of enterprises this inspector must not inspect (回避).
    pub conflicts: Vec<String>,
}

/// Reads the inspectors table.
pub fn read_inspectors(
    path: &Path,
    opts: &ReadOptions,
    rejects: &mut Rejects,
) -> Result<(Vec<InspectorRow>, Counts)> {
    let opts = ReadOptions {
        header: Some(crate::table::layout::header_probe(insp::REQUIRED)),
        ..opts.clone()
    };
    let mut reader = crate::table::open(path, &opts)?;
    let schema = reader.schema();
    let map = ColumnMap::resolve(&schema, insp::ALL, insp::REQUIRED, path)?;
    let file = path.display().to_string();
    let [ci, cn, cp, cd] = [
        insp::INSPECTOR_ID,
        insp::NAME,
        insp::DEPARTMENT,
        insp::DISTRICT,
    ]
    // Invariant: resolve() checked that every required column is present.
    .map(|c| map.get(&c).expect("required column resolved"));
    let cc = map.get(&insp::CONFLICTS);
    let mut counts = Counts::default();
    counts.set_layout(reader.layout());
    let mut out = Vec::new();
    let mut ids = HashSet::new();
    while let Some(numbered) = reader.next_numbered() {
        let numbered = numbered?;
        let raw = numbered.batch;
        let [id, na, de, di] = [ci, cn, cp, cd].map(|c| TextColumn::new(raw.column(c), path));
        let (id, na, de, di) = (id?, na?, de?, di?);
        let co = cc
            .map(|c| TextColumn::new(raw.column(c), path))
            .transpose()?;
        for i in 0..raw.num_rows() {
            let row = numbered.first_row + i as u64;
            counts.read += 1;
            let parsed = (|| {
                let inspector_id = required(&id, i, ci, "inspector_id")?.to_string();
                let name = required(&na, i, cn, "name")?.to_string();
                let p = required(&de, i, cp, "department")?;
                let department = Department::parse(p).ok_or_else(|| CellError {
                    col: cp,
                    value: p.to_string(),
                    reason: reason::DEPARTMENT_INVALID,
                    detail: format!("expected {}", Department::EXPECTED),
                })?;
                let d = required(&di, i, cd, "district")?;
                let district = if d == "*" {
                    None
                } else {
                    Some(district::parse(d).ok_or_else(|| CellError {
                        col: cd,
                        value: d.to_string(),
                        reason: reason::DISTRICT_UNKNOWN,
                        detail: format!("expected * (any district) or {}", district::EXPECTED),
                    })?)
                };
                let mut conflicts = Vec::new();
                if let (Some(co), Some(c)) = (&co, cc) {
                    for code in co.get(i).unwrap_or("").split([';', '；', ',']) {
                        let code = code.trim();
                        if code.is_empty() {
                            continue;
                        }
                        match check(code) {
                            UsccCheck::Valid(s) | UsccCheck::BadChecksum(s) => conflicts.push(s),
                            UsccCheck::Malformed => {
                                return Err(CellError {
                                    col: c,
                                    value: code.to_string(),
                                    reason: reason::CONFLICT_INVALID,
                                    detail: "expected ;-separated unified social credit codes"
                                        .into(),
                                });
                            }
                        }
                    }
                }
                if !ids.insert(inspector_id.clone()) {
                    return Err(CellError {
                        col: ci,
                        value: inspector_id,
                        reason: reason::INSPECTOR_DUPLICATE,
                        detail: "this inspector_id already appeared on an earlier row".into(),
                    });
                }
                Ok::<_, CellError>(InspectorRow {
                    inspector_id,
                    name,
                    department,
                    district,
                    conflicts,
                })
            })();
            match parsed {
                Ok(r) => {
                    counts.accepted += 1;
                    out.push(r);
                }
                Err(e) => {
                    counts.rejected += 1;
                    reject(rejects, &file, row, &schema, e)?;
                }
            }
        }
    }
    counts.skipped = reader.skipped().rows();
    Ok((out, counts))
}
