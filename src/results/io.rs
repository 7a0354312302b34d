//! Reading the results table of SPEC §9.1 — `uscc, month, department, inspected_on, result`
//! and optionally `violations, penalty_cny, note`, in any table format with English or Chinese
//! headers — into typed rows, every bad row in the rejects file with its reason
//! (`RESULT_NOT_DRAWN`, `RESULT_DUPLICATE`, `RESULT_UNKNOWN`, `DATE_INVALID`, and the shared
//! `VALUE_MISSING`, `USCC_MALFORMED`, `DEPARTMENT_INVALID`, `INTEGER_INVALID`, `NUMBER_INVALID`,
//! `NUMBER_NEGATIVE`), `read = accepted + rejected`. Whether a unit was drawn is the caller's
//! question (it knows the draws); the first row of a unit and department wins, later ones are
//! duplicates.

use std::collections::HashSet;
use std::path::Path;

use rayon::prelude::*;

use super::category;
use crate::Result;
use crate::date::Date;
use crate::input::Counts;
use crate::input::enterprise::reason;
use crate::sample::Month;
use crate::schema::{Col, Department};
use crate::table::cells::{Num, NumColumn, TextColumn};
use crate::table::codes::check_key;
use crate::table::{ColumnMap, ReadOptions, Reject, Rejects};

/// Reason codes of the results table (SPEC §9.1).
pub mod reasons {
    /// The unit and department are not in any given draw of that month.
    pub const RESULT_NOT_DRAWN: &str = "RESULT_NOT_DRAWN";
    /// A second row for the same unit, department and month.
    pub const RESULT_DUPLICATE: &str = "RESULT_DUPLICATE";
    /// The result is not a category of `data/result-categories.csv`.
    pub const RESULT_UNKNOWN: &str = "RESULT_UNKNOWN";
}

/// Columns of the results table and of the tables `spotcheck results` writes.
pub mod cols {
    use crate::schema::{Col, ent};
    const fn c(name: &'static str, zh: &'static str, aliases: &'static [&'static str]) -> Col {
        Col { name, zh, aliases }
    }
    pub const USCC: Col = ent::USCC;
    pub const MONTH: Col = c("month", "抽查月份", &["月份", "抽查批次"]);
    pub const DEPARTMENT: Col = c("department", "检查部门", &["部门", "抽查部门"]);
    pub const INSPECTED_ON: Col = c("inspected_on", "检查日期", &["检查时间", "日期"]);
    pub const RESULT: Col = c("result", "检查结果", &["抽查结果", "抽查检查结果", "结果"]);
    pub const VIOLATIONS: Col = c("violations", "问题数", &["违法违规数", "问题数量"]);
    pub const PENALTY_CNY: Col = c("penalty_cny", "罚没金额(元)", &["罚没金额", "罚款金额"]);
    pub const NOTE: Col = c("note", "备注", &["说明"]);
    pub const ALL: &[Col] = &[
        USCC,
        MONTH,
        DEPARTMENT,
        INSPECTED_ON,
        RESULT,
        VIOLATIONS,
        PENALTY_CNY,
        NOTE,
    ];
    pub const REQUIRED: &[Col] = &[USCC, MONTH, DEPARTMENT, INSPECTED_ON, RESULT];
}

/// One accepted result row.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    /// 1-based data row in the file.
    pub row: u64,
    pub uscc: String,
    pub month: Month,
    pub department: Department,
    pub inspected_on: Date,
    /// Index into [`category::all`].
    pub category: usize,
    pub violations: Option<u64>,
    pub penalty_cny: Option<f64>,
    pub note: Option<String>,
}

impl ResultRow {
    /// The category's kind.
    pub fn kind(&self) -> category::Kind {
        category::all()[self.category].kind
    }
}

struct Bad {
    col: usize,
    value: String,
    reason: &'static str,
    detail: String,
}

fn bad(col: usize, value: &str, reason: &'static str, detail: impl Into<String>) -> Bad {
    Bad {
        col,
        value: value.to_string(),
        reason,
        detail: detail.into(),
    }
}

fn required<'a>(
    t: &'a TextColumn,
    i: usize,
    col: usize,
    name: &str,
) -> std::result::Result<&'a str, Bad> {
    t.get(i).ok_or_else(|| {
        bad(
            col,
            "",
            reason::VALUE_MISSING,
            format!("column {name:?} is required and may not be empty"),
        )
    })
}

/// Reads the results table. `drawn(month, department, code)` says whether that draw holds the
/// unit with this 18-character code; rows for units it does not are rejected `RESULT_NOT_DRAWN`.
/// Rows are checked in parallel, batch by batch; which of two rows for the same unit is the
/// duplicate is decided in file order, so the output does not depend on the thread count.
pub fn read_results(
    path: &Path,
    opts: &ReadOptions,
    rejects: &mut Rejects,
    drawn: &(dyn Fn(Month, Department, &[u8; 18]) -> bool + Sync),
) -> Result<(Vec<ResultRow>, Counts)> {
    // Batches are decoded ahead on another thread while the last one is checked.
    let reader = crate::table::Prefetch::new(crate::table::open(path, opts)?, 2);
    let schema = reader.schema();
    let map = ColumnMap::resolve(&schema, cols::ALL, cols::REQUIRED, path)?;
    let file = path.display().to_string();
    let at = |c: &Col| map.get(c);
    let [cu, cm, cd, ci, cr] = [
        cols::USCC,
        cols::MONTH,
        cols::DEPARTMENT,
        cols::INSPECTED_ON,
        cols::RESULT,
    ]
    // Invariant: resolve() checked that every required column is present.
    .map(|c| at(&c).expect("required column resolved"));
    let (cv, cp, cn) = (
        at(&cols::VIOLATIONS),
        at(&cols::PENALTY_CNY),
        at(&cols::NOTE),
    );
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let mut counts = Counts::default();
    let mut out = Vec::new();
    let mut seen: HashSet<([u8; 18], Month, Department)> = HashSet::new();
    for raw in reader {
        let raw = raw?;
        let text = |c: usize| TextColumn::new(raw.column(c), path);
        let num = |c: Option<usize>| {
            c.map(|c| NumColumn::new(raw.column(c), path).map(|n| (n, c)))
                .transpose()
        };
        let batch = Batch {
            names: &names,
            us: (text(cu)?, cu),
            mo: (text(cm)?, cm),
            de: (text(cd)?, cd),
            io: (text(ci)?, ci),
            re: (text(cr)?, cr),
            vi: num(cv)?,
            pe: num(cp)?,
            no: cn.map(text).transpose()?,
        };
        let first = counts.read + 1;
        let parsed: Vec<_> = (0..raw.num_rows())
            .into_par_iter()
            .map(|i| batch.row(i, first + i as u64, drawn))
            .collect();
        for (i, parsed) in parsed.into_iter().enumerate() {
            counts.read += 1;
            let row = first + i as u64;
            let parsed = parsed.and_then(|(r, key)| {
                if seen.insert((key, r.month, r.department)) {
                    Ok(r)
                } else {
                    Err(bad(
                        cu,
                        &r.uscc,
                        reasons::RESULT_DUPLICATE,
                        format!(
                            "{} already has a {} result for {} on an earlier row",
                            r.uscc,
                            r.department.en(),
                            r.month
                        ),
                    ))
                }
            });
            match parsed {
                Ok(r) => {
                    counts.accepted += 1;
                    out.push(r);
                }
                Err(e) => {
                    counts.rejected += 1;
                    rejects.push(Reject {
                        file: file.clone(),
                        row,
                        column: names[e.col].to_string(),
                        value: e.value,
                        reason: e.reason,
                        detail: e.detail,
                    })?;
                }
            }
        }
    }
    Ok((out, counts))
}

/// One batch of the results table, its columns viewed as text or numbers with their positions.
struct Batch<'a> {
    names: &'a [&'a str],
    us: (TextColumn, usize),
    mo: (TextColumn, usize),
    de: (TextColumn, usize),
    io: (TextColumn, usize),
    re: (TextColumn, usize),
    vi: Option<(NumColumn, usize)>,
    pe: Option<(NumColumn, usize)>,
    no: Option<TextColumn>,
}

impl Batch<'_> {
    /// Row `i` of a required column, or `VALUE_MISSING`.
    fn required<'c>(
        &self,
        (t, col): &'c (TextColumn, usize),
        i: usize,
    ) -> std::result::Result<&'c str, Bad> {
        required(t, i, *col, self.names[*col])
    }

    /// Checks row `i` of the batch (data row `row` of the file) on its own: everything but
    /// repeats, which depend on the rows before it.
    fn row(
        &self,
        i: usize,
        row: u64,
        drawn: &(dyn Fn(Month, Department, &[u8; 18]) -> bool + Sync),
    ) -> std::result::Result<(ResultRow, [u8; 18]), Bad> {
        let ((_, cu), (_, cm), (_, cd), (_, ci), (_, cr)) =
            (&self.us, &self.mo, &self.de, &self.io, &self.re);
        let (cu, cm, cd, ci, cr) = (*cu, *cm, *cd, *ci, *cr);

        let u = self.required(&self.us, i)?;
        let (key, _) = check_key(u).ok_or_else(|| {
            bad(
                cu,
                u,
                reason::USCC_MALFORMED,
                "expected 18 characters from 0-9 and A-Y without I, O, S, V, Z (GB 32100-2015)",
            )
        })?;
        let m = self.required(&self.mo, i)?;
        let month = Month::parse(m).ok_or_else(|| {
            bad(
                cm,
                m,
                reason::DATE_INVALID,
                "expected the draw's month as YYYY-MM",
            )
        })?;
        let d = self.required(&self.de, i)?;
        let department = Department::parse(d).ok_or_else(|| {
            bad(
                cd,
                d,
                reason::DEPARTMENT_INVALID,
                format!("expected {}", Department::EXPECTED),
            )
        })?;
        let r = self.required(&self.re, i)?;
        let found = category::lookup(r);
        let cat = found.ok_or_else(|| bad(cr, r, reasons::RESULT_UNKNOWN, category::EXPECTED))?;
        let o = self.required(&self.io, i)?;
        let inspected_on = Date::parse(o)
            .ok_or_else(|| bad(ci, o, reason::DATE_INVALID, "expected a date YYYY-MM-DD"))?;
        if inspected_on < month.first_day() {
            return Err(bad(
                ci,
                o,
                reason::DATE_INVALID,
                format!("inspected before the draw month {month}"),
            ));
        }
        let violations = match &self.vi {
            Some((v, c)) => match v.get(i) {
                Num::Null => None,
                Num::Value(x) if x >= 0.0 && x.fract() == 0.0 && x < 1e15 => Some(x as u64),
                Num::Value(x) if x < 0.0 => {
                    return Err(bad(
                        *c,
                        &x.to_string(),
                        reason::NUMBER_NEGATIVE,
                        "expected an integer ≥ 0",
                    ));
                }
                Num::Value(x) => {
                    return Err(bad(
                        *c,
                        &x.to_string(),
                        reason::INTEGER_INVALID,
                        "expected an integer ≥ 0",
                    ));
                }
                Num::Bad(s) => {
                    return Err(bad(
                        *c,
                        s,
                        reason::INTEGER_INVALID,
                        "expected an integer ≥ 0",
                    ));
                }
            },
            _ => None,
        };
        let penalty_cny = match &self.pe {
            Some((v, c)) => match v.get(i) {
                Num::Null => None,
                Num::Value(x) if x >= 0.0 => Some(x),
                Num::Value(x) => {
                    return Err(bad(
                        *c,
                        &x.to_string(),
                        reason::NUMBER_NEGATIVE,
                        "expected an amount in yuan ≥ 0",
                    ));
                }
                Num::Bad(s) => {
                    return Err(bad(
                        *c,
                        s,
                        reason::NUMBER_INVALID,
                        "expected an amount in yuan ≥ 0",
                    ));
                }
            },
            _ => None,
        };
        if !drawn(month, department, &key) {
            // Valid key bytes are ASCII.
            let uscc = String::from_utf8_lossy(&key);
            return Err(bad(
                cu,
                u,
                reasons::RESULT_NOT_DRAWN,
                format!(
                    "{uscc} is not in the {} draw of {month} given to this run",
                    department.en()
                ),
            ));
        }
        Ok((
            ResultRow {
                row,
                uscc: String::from_utf8_lossy(&key).into_owned(),
                month,
                department,
                inspected_on,
                category: cat,
                violations,
                penalty_cny,
                note: self.no.as_ref().and_then(|t| t.get(i)).map(str::to_string),
            },
            key,
        ))
    }
}

/// Reads an estimates table written by `spotcheck results` (any format, English or Chinese
/// headers and values) back into rows, for `report --results`. Empty cells are `None`; a cell
/// that cannot be read is an error naming its row and column.
pub fn read_estimates(
    path: &Path,
    opts: &ReadOptions,
) -> Result<Vec<super::estimates::EstimateRow>> {
    use super::estimates::{Domain, EstimateRow, cols as ec};
    let opts = crate::table::ReadOptions {
        header: Some(crate::table::layout::header_probe(ec::ALL)),
        ..opts.clone()
    };
    let mut reader = crate::table::open(path, &opts)?;
    let schema = reader.schema();
    let map = ColumnMap::resolve(&schema, ec::ALL, ec::ALL, path)?;
    // Invariant: resolve() checked that every column is present.
    let at = |c: &Col| map.get(c).expect("required column resolved");
    let mut out = Vec::new();
    let bad = |row: u64, c: &Col, value: &str, expected: &str| crate::Error::BadValue {
        path: path.to_path_buf(),
        row,
        column: c.name.to_string(),
        value: value.to_string(),
        expected: expected.to_string(),
    };
    while let Some(numbered) = reader.next_numbered() {
        let crate::table::Numbered {
            batch: raw,
            first_row,
        } = numbered?;
        let text = |c: &Col| TextColumn::new(raw.column(at(c)), path);
        let num = |c: &Col| NumColumn::new(raw.column(at(c)), path);
        let (mo, de, dk, dv) = (
            text(&ec::MONTH)?,
            text(&ec::DEPARTMENT)?,
            text(&ec::DOMAIN_KIND)?,
            text(&ec::DOMAIN)?,
        );
        let nums: Vec<NumColumn> = ec::ALL[4..].iter().map(num).collect::<Result<_>>()?;
        for i in 0..raw.num_rows() {
            let row = first_row + i as u64;
            let m = mo.get(i).unwrap_or("");
            let month = Month::parse(m).ok_or_else(|| bad(row, &ec::MONTH, m, "YYYY-MM"))?;
            let d = de.get(i).unwrap_or("");
            let department = Department::parse(d)
                .ok_or_else(|| bad(row, &ec::DEPARTMENT, d, Department::EXPECTED))?;
            let (k, v) = (dk.get(i).unwrap_or(""), dv.get(i).unwrap_or(""));
            let domain = Domain::parse(k, v).ok_or_else(|| {
                bad(
                    row,
                    &ec::DOMAIN,
                    &format!("{k} {v}"),
                    "a domain kind and value as `results` writes them",
                )
            })?;
            let mut f = Vec::with_capacity(nums.len());
            for (c, n) in ec::ALL[4..].iter().zip(&nums) {
                f.push(match n.get(i) {
                    Num::Null => None,
                    Num::Value(x) => Some(x),
                    Num::Bad(s) => return Err(bad(row, c, s, "a number")),
                });
            }
            let count = |x: Option<f64>| x.unwrap_or(0.0) as u64;
            out.push(EstimateRow {
                month,
                department,
                domain,
                frame_units: count(f[0]),
                drawn: count(f[1]),
                inspected: count(f[2]),
                pending: count(f[3]),
                out_of_scope: count(f[4]),
                violations: count(f[5]),
                hit_rate: f[6],
                rate: f[7],
                se: f[8],
                ci: f[9].zip(f[10]),
                est_violators: f[11],
                lift: f[12],
                caught_share: f[13],
                not_covered: f[14].map(|x| x as u64),
            });
        }
    }
    Ok(out)
}

/// Accepted result rows as the results table of SPEC §9.1 (English headers, the category's
/// code, every column in order), ready for any table writer: what `read_results` reads back to
/// the same rows. The console writes the month's consolidated results with it.
pub fn results_batch(rows: &[ResultRow]) -> Result<arrow::record_batch::RecordBatch> {
    use arrow::array::{ArrayRef, Float64Array, StringArray, UInt64Array};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;
    let text = |f: &dyn Fn(&ResultRow) -> Option<String>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    let fields = vec![
        Field::new(cols::USCC.name, DataType::Utf8, false),
        Field::new(cols::MONTH.name, DataType::Utf8, false),
        Field::new(cols::DEPARTMENT.name, DataType::Utf8, false),
        Field::new(cols::INSPECTED_ON.name, DataType::Utf8, false),
        Field::new(cols::RESULT.name, DataType::Utf8, false),
        Field::new(cols::VIOLATIONS.name, DataType::UInt64, true),
        Field::new(cols::PENALTY_CNY.name, DataType::Float64, true),
        Field::new(cols::NOTE.name, DataType::Utf8, true),
    ];
    let columns: Vec<ArrayRef> = vec![
        text(&|r| Some(r.uscc.clone())),
        text(&|r| Some(r.month.to_string())),
        text(&|r| Some(r.department.en().to_string())),
        text(&|r| Some(r.inspected_on.to_string())),
        text(&|r| Some(category::all()[r.category].code.to_string())),
        Arc::new(rows.iter().map(|r| r.violations).collect::<UInt64Array>()),
        Arc::new(rows.iter().map(|r| r.penalty_cny).collect::<Float64Array>()),
        text(&|r| r.note.clone()),
    ];
    arrow::record_batch::RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(
        |source| crate::Error::Arrow {
            path: "<results table>".into(),
            source,
        },
    )
}
