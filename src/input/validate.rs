//! Reading the enterprise table (SPEC §1.1) into `EnterpriseBatch`es: header matching, one typed
//! parse per cell, and the rules of SPEC §2 — a malformed code, a bad value or a missing required
//! value rejects the row (first failing column recorded), a wrong check character keeps it
//! flagged, a repeated code rejects the later row. Every row read is either in a batch or in the
//! rejects: `read = accepted + rejected`.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringBuilder};
use arrow::compute::filter_record_batch;

use super::enterprise::{EnterpriseBatch, Hj941Input, reason};
use crate::schema::{self, Col, CreditClass, EnvRiskLevel, PermitClass, Sensitivity, Tier, ent};
use crate::table::cells::{Num, NumColumn, TextColumn};
use crate::table::{ColumnMap, ReadOptions, Reject, Rejects, TableReader};
use crate::uscc::{UsccCheck, check};
use crate::{Error, Result, district};

/// Row counts of one input file (SPEC §2.2: `read = accepted + rejected`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// Accepted rows flagged `USCC_CHECKSUM`.
    pub flagged: u64,
}

/// A cell problem found while parsing a row: the column, the value and the reason.
pub(crate) struct CellError {
    pub col: usize,
    pub value: String,
    pub reason: &'static str,
    pub detail: String,
}

/// Streams an enterprise table as validated batches.
pub struct EnterpriseReader {
    reader: TableReader,
    map: ColumnMap,
    file: String,
    seen: HashSet<[u8; 18]>,
    counts: Counts,
}

impl EnterpriseReader {
    /// Opens and checks the header (missing required column → error naming it).
    pub fn open(path: &Path, opts: &ReadOptions) -> Result<Self> {
        let reader = crate::table::open(path, opts)?;
        let map = ColumnMap::resolve(&reader.schema(), ent::ALL, ent::REQUIRED, path)?;
        Ok(EnterpriseReader {
            reader,
            map,
            file: path.display().to_string(),
            seen: HashSet::new(),
            counts: Counts::default(),
        })
    }

    /// The table's columns, as read.
    pub fn schema(&self) -> arrow::datatypes::SchemaRef {
        self.reader.schema()
    }

    /// Counts so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Whether the table has `pe_air` or `pe_water` columns (ignored when emissions are given).
    pub fn has_pe_columns(&self) -> bool {
        self.map.get(&ent::PE_AIR).is_some() || self.map.get(&ent::PE_WATER).is_some()
    }

    /// An empty batch with this table's columns (for writing the header of an empty output).
    pub fn empty_batch(&mut self) -> Result<EnterpriseBatch> {
        let raw = RecordBatch::new_empty(self.reader.schema());
        let mut rejects = Rejects::new(false);
        validate_batch(
            &raw,
            &self.map,
            1,
            &self.file,
            self.reader.path(),
            &mut self.seen,
            &mut rejects,
        )
    }

    /// The columns of the file that spotcheck does not know (passed through).
    pub fn unknown_columns(&self) -> Vec<String> {
        let s = self.reader.schema();
        self.map
            .unknown()
            .iter()
            .map(|&i| s.field(i).name().clone())
            .collect()
    }

    /// The next batch of accepted rows (rejections go to `rejects`); `None` at the end.
    pub fn next_batch(&mut self, rejects: &mut Rejects) -> Result<Option<EnterpriseBatch>> {
        let first_row = self.counts.read + 1;
        let Some(raw) = self.reader.next().transpose()? else {
            return Ok(None);
        };
        let batch = validate_batch(
            &raw,
            &self.map,
            first_row,
            &self.file,
            self.reader.path(),
            &mut self.seen,
            rejects,
        )?;
        self.counts.read += raw.num_rows() as u64;
        self.counts.accepted += batch.len() as u64;
        self.counts.rejected += (raw.num_rows() - batch.len()) as u64;
        self.counts.flagged += batch.uscc_checksum_bad.iter().filter(|b| **b).count() as u64;
        Ok(Some(batch))
    }
}

/// Parses an optional enum cell.
fn enum_cell<T>(
    t: &Option<TextColumn>,
    i: usize,
    col: Option<usize>,
    parse: fn(&str) -> Option<T>,
    reason: &'static str,
    expected: &str,
) -> std::result::Result<Option<T>, CellError> {
    let (Some(t), Some(col)) = (t, col) else {
        return Ok(None);
    };
    match t.get(i) {
        None => Ok(None),
        Some(s) => parse(s).map(Some).ok_or_else(|| CellError {
            col,
            value: s.to_string(),
            reason,
            detail: format!("expected {expected}"),
        }),
    }
}

/// Parses an optional non-negative number cell.
pub(crate) fn num_cell(
    n: &Option<NumColumn>,
    i: usize,
    col: Option<usize>,
) -> std::result::Result<Option<f64>, CellError> {
    let (Some(n), Some(col)) = (n, col) else {
        return Ok(None);
    };
    match n.get(i) {
        Num::Null => Ok(None),
        Num::Value(v) if v >= 0.0 => Ok(Some(v)),
        Num::Value(v) => Err(CellError {
            col,
            value: v.to_string(),
            reason: reason::NUMBER_NEGATIVE,
            detail: "expected a number ≥ 0".into(),
        }),
        Num::Bad(s) => Err(CellError {
            col,
            value: s.to_string(),
            reason: reason::NUMBER_INVALID,
            detail: "expected a number".into(),
        }),
    }
}

/// Parses an optional count (a whole number ≥ 0).
fn count_cell(
    n: &Option<NumColumn>,
    i: usize,
    col: Option<usize>,
) -> std::result::Result<Option<u32>, CellError> {
    match num_cell(n, i, col)? {
        None => Ok(None),
        Some(v) if v.fract() == 0.0 && v <= f64::from(u32::MAX) => Ok(Some(v as u32)),
        Some(v) => Err(CellError {
            col: col.unwrap_or(0),
            value: v.to_string(),
            reason: reason::INTEGER_INVALID,
            detail: "expected a whole number ≥ 0".into(),
        }),
    }
}

fn text_col(raw: &RecordBatch, idx: Option<usize>, path: &Path) -> Result<Option<TextColumn>> {
    idx.map(|i| TextColumn::new(raw.column(i), path))
        .transpose()
}

fn num_col(raw: &RecordBatch, idx: Option<usize>, path: &Path) -> Result<Option<NumColumn>> {
    idx.map(|i| NumColumn::new(raw.column(i), path)).transpose()
}

/// Validates one raw batch whose first row has 1-based number `first_row`.
pub fn validate_batch(
    raw: &RecordBatch,
    map: &ColumnMap,
    first_row: u64,
    file: &str,
    path: &Path,
    seen: &mut HashSet<[u8; 18]>,
    rejects: &mut Rejects,
) -> Result<EnterpriseBatch> {
    let n = raw.num_rows();
    let ix = |c: &Col| map.get(c);
    let t = |c: &Col| text_col(raw, ix(c), path);
    let nm = |c: &Col| num_col(raw, ix(c), path);
    let uscc_t = t(&ent::USCC)?;
    let name_t = t(&ent::NAME)?;
    let district_t = t(&ent::DISTRICT)?;
    let industry_t = t(&ent::INDUSTRY)?;
    let tier_t = t(&ent::TIER)?;
    let credit_t = t(&ent::CREDIT_CLASS)?;
    let permit_t = t(&ent::PERMIT_CLASS)?;
    let level_t = t(&ent::ENV_RISK_LEVEL)?;
    let air_e_t = t(&ent::AIR_E)?;
    let water_e_t = t(&ent::WATER_E)?;
    let serious_t = t(&ent::ENV_SERIOUS_VIOLATION_36M)?;
    let online_t = t(&ent::ONLINE_MONITORING)?;
    let pe_air_n = nm(&ent::PE_AIR)?;
    let pe_water_n = nm(&ent::PE_WATER)?;
    let air_q_n = nm(&ent::AIR_Q)?;
    let air_m_n = nm(&ent::AIR_M)?;
    let water_q_n = nm(&ent::WATER_Q)?;
    let water_m_n = nm(&ent::WATER_M)?;
    let pen_n = nm(&ent::ENV_PENALTIES_24M)?;
    let inc_n = nm(&ent::ENV_INCIDENTS_24M)?;

    let mut out = EnterpriseBatchBuilder::with_capacity(n);
    let mut keep = Vec::with_capacity(n);
    let schema = raw.schema();
    for i in 0..n {
        let row = first_row + i as u64;
        let parsed = (|| -> std::result::Result<(), CellError> {
            let required =
                |tc: &Option<TextColumn>, c: &Col| -> std::result::Result<String, CellError> {
                    let col = ix(c).unwrap_or(0);
                    match tc.as_ref().and_then(|t| t.get(i)) {
                        Some(s) => Ok(s.to_string()),
                        None => Err(CellError {
                            col,
                            value: String::new(),
                            reason: reason::VALUE_MISSING,
                            detail: format!("column {:?} is required and may not be empty", c.name),
                        }),
                    }
                };
            let code_raw = required(&uscc_t, &ent::USCC)?;
            let (code, bad_sum) = match check(&code_raw) {
                UsccCheck::Valid(c) => (c, false),
                UsccCheck::BadChecksum(c) => (c, true),
                UsccCheck::Malformed => {
                    return Err(CellError {
                        col: ix(&ent::USCC).unwrap_or(0),
                        value: code_raw,
                        reason: reason::USCC_MALFORMED,
                        detail: "expected 18 characters from 0-9 and A-Y without I, O, S, V, Z (GB 32100-2015)".into(),
                    });
                }
            };
            let name = required(&name_t, &ent::NAME)?;
            let dist_s = required(&district_t, &ent::DISTRICT)?;
            let district = district::parse(&dist_s).ok_or_else(|| CellError {
                col: ix(&ent::DISTRICT).unwrap_or(0),
                value: dist_s.clone(),
                reason: reason::DISTRICT_UNKNOWN,
                detail: format!("expected {}", district::EXPECTED),
            })?;
            let tier_s = required(&tier_t, &ent::TIER)?;
            let tier = Tier::parse(&tier_s).ok_or_else(|| CellError {
                col: ix(&ent::TIER).unwrap_or(0),
                value: tier_s.clone(),
                reason: reason::TIER_UNKNOWN,
                detail: format!("expected {}", Tier::EXPECTED),
            })?;
            let credit = enum_cell(
                &credit_t,
                i,
                ix(&ent::CREDIT_CLASS),
                CreditClass::parse,
                reason::CREDIT_CLASS_INVALID,
                CreditClass::EXPECTED,
            )?;
            let permit = enum_cell(
                &permit_t,
                i,
                ix(&ent::PERMIT_CLASS),
                PermitClass::parse,
                reason::PERMIT_CLASS_INVALID,
                PermitClass::EXPECTED,
            )?;
            let level = enum_cell(
                &level_t,
                i,
                ix(&ent::ENV_RISK_LEVEL),
                EnvRiskLevel::parse,
                reason::ENV_RISK_LEVEL_INVALID,
                EnvRiskLevel::EXPECTED,
            )?;
            let air_e = enum_cell(
                &air_e_t,
                i,
                ix(&ent::AIR_E),
                Sensitivity::parse,
                reason::SENSITIVITY_INVALID,
                Sensitivity::EXPECTED,
            )?;
            let water_e = enum_cell(
                &water_e_t,
                i,
                ix(&ent::WATER_E),
                Sensitivity::parse,
                reason::SENSITIVITY_INVALID,
                Sensitivity::EXPECTED,
            )?;
            let serious = enum_cell(
                &serious_t,
                i,
                ix(&ent::ENV_SERIOUS_VIOLATION_36M),
                schema::parse_bool,
                reason::BOOL_INVALID,
                "true/false/1/0/yes/no/是/否",
            )?;
            let online = enum_cell(
                &online_t,
                i,
                ix(&ent::ONLINE_MONITORING),
                schema::parse_bool,
                reason::BOOL_INVALID,
                "true/false/1/0/yes/no/是/否",
            )?;
            let pe_air = num_cell(&pe_air_n, i, ix(&ent::PE_AIR))?;
            let pe_water = num_cell(&pe_water_n, i, ix(&ent::PE_WATER))?;
            let air_q = num_cell(&air_q_n, i, ix(&ent::AIR_Q))?;
            let air_m = num_cell(&air_m_n, i, ix(&ent::AIR_M))?;
            let water_q = num_cell(&water_q_n, i, ix(&ent::WATER_Q))?;
            let water_m = num_cell(&water_m_n, i, ix(&ent::WATER_M))?;
            let pen = count_cell(&pen_n, i, ix(&ent::ENV_PENALTIES_24M))?;
            let inc = count_cell(&inc_n, i, ix(&ent::ENV_INCIDENTS_24M))?;
            let mut key = [0u8; 18];
            key.copy_from_slice(code.as_bytes());
            if !seen.insert(key) {
                return Err(CellError {
                    col: ix(&ent::USCC).unwrap_or(0),
                    value: code,
                    reason: reason::USCC_DUPLICATE,
                    detail:
                        "this code already appeared on an earlier row; the later row is rejected"
                            .into(),
                });
            }
            out.row.push(row);
            out.uscc.append_value(&code);
            out.bad_sum.push(bad_sum);
            out.name.append_value(&name);
            out.district.push(district);
            match industry_t.as_ref().and_then(|t| t.get(i)) {
                Some(s) => out.industry.append_value(s),
                None => out.industry.append_null(),
            }
            out.tier.push(tier);
            out.credit.push(credit);
            out.permit.push(permit);
            out.pe_air.push(pe_air);
            out.pe_water.push(pe_water);
            out.level.push(level);
            out.air.push(Hj941Input {
                q: air_q,
                m: air_m,
                e: air_e,
            });
            out.water.push(Hj941Input {
                q: water_q,
                m: water_m,
                e: water_e,
            });
            out.pen.push(pen);
            out.inc.push(inc);
            out.serious.push(serious);
            out.online.push(online);
            Ok(())
        })();
        match parsed {
            Ok(()) => keep.push(true),
            Err(e) => {
                keep.push(false);
                rejects.push(Reject {
                    file: file.to_string(),
                    row,
                    column: schema.field(e.col).name().clone(),
                    value: e.value,
                    reason: e.reason,
                    detail: e.detail,
                })?;
            }
        }
    }
    let raw_kept = if keep.iter().all(|k| *k) {
        raw.clone()
    } else {
        filter_record_batch(raw, &BooleanArray::from(keep)).map_err(|source| Error::Arrow {
            path: path.to_path_buf(),
            source,
        })?
    };
    Ok(out.finish(raw_kept))
}

#[derive(Default)]
struct EnterpriseBatchBuilder {
    row: Vec<u64>,
    uscc: StringBuilder,
    bad_sum: Vec<bool>,
    name: StringBuilder,
    district: Vec<u32>,
    industry: StringBuilder,
    tier: Vec<Tier>,
    credit: Vec<Option<CreditClass>>,
    permit: Vec<Option<PermitClass>>,
    pe_air: Vec<Option<f64>>,
    pe_water: Vec<Option<f64>>,
    level: Vec<Option<EnvRiskLevel>>,
    air: Vec<Hj941Input>,
    water: Vec<Hj941Input>,
    pen: Vec<Option<u32>>,
    inc: Vec<Option<u32>>,
    serious: Vec<Option<bool>>,
    online: Vec<Option<bool>>,
}

impl EnterpriseBatchBuilder {
    fn with_capacity(n: usize) -> Self {
        EnterpriseBatchBuilder {
            row: Vec::with_capacity(n),
            uscc: StringBuilder::with_capacity(n, n * 18),
            name: StringBuilder::with_capacity(n, n * 24),
            ..Default::default()
        }
    }

    fn finish(mut self, raw: RecordBatch) -> EnterpriseBatch {
        EnterpriseBatch {
            row: self.row,
            uscc: self.uscc.finish(),
            uscc_checksum_bad: self.bad_sum,
            name: self.name.finish(),
            district: self.district,
            industry: self.industry.finish(),
            tier: self.tier,
            credit_class: self.credit,
            permit_class: self.permit,
            pe_air: self.pe_air,
            pe_water: self.pe_water,
            env_risk_level: self.level,
            air: self.air,
            water: self.water,
            env_penalties_24m: self.pen,
            env_incidents_24m: self.inc,
            env_serious_violation_36m: self.serious,
            online_monitoring: self.online,
            raw,
        }
    }
}

/// Builds a raw all-text batch from rows of cells (tests and small tables).
pub fn text_batch(headers: &[&str], rows: &[Vec<Option<&str>>]) -> RecordBatch {
    use arrow::datatypes::{DataType, Field, Schema};
    let schema = Arc::new(Schema::new(
        headers
            .iter()
            .map(|h| Field::new(*h, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let cols: Vec<ArrayRef> = (0..headers.len())
        .map(|j| {
            let mut b = StringBuilder::new();
            for r in rows {
                match r.get(j).copied().flatten() {
                    Some(s) => b.append_value(s),
                    None => b.append_null(),
                }
            }
            Arc::new(b.finish()) as ArrayRef
        })
        .collect();
    // Invariant: every column has rows.len() entries and the schema has one field per column.
    RecordBatch::try_new(schema, cols).expect("columns match the schema by construction")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{CreditClass, Tier};

    fn run(headers: &[&str], rows: &[Vec<Option<&str>>]) -> (EnterpriseBatch, Rejects) {
        let raw = text_batch(headers, rows);
        let map =
            ColumnMap::resolve(&raw.schema(), ent::ALL, ent::REQUIRED, Path::new("e.csv")).unwrap();
        let mut rejects = Rejects::new(false);
        let mut seen = HashSet::new();
        let b = validate_batch(
            &raw,
            &map,
            1,
            "e.csv",
            Path::new("e.csv"),
            &mut seen,
            &mut rejects,
        )
        .unwrap();
        (b, rejects)
    }

    const H: &[&str] = &[
        "统一社会信用代码",
        "企业名称",
        "所属区",
        "企业梯度",
        "信用风险分类",
        "env_penalties_24m",
        "备注",
    ];

    #[test]
    fn chinese_headers_and_values_parse() {
        let (b, r) = run(
            H,
            &[vec![
                Some("91110108example008"),
                Some("甲"),
                Some("海淀区"),
                Some("专精特新“小巨人”企业"),
                Some("A类"),
                Some("0"),
                Some("x"),
            ]],
        );
        assert!(r.is_empty(), "{:?}", r.items());
        assert_eq!(b.len(), 1);
        assert_eq!(b.uscc.value(0), "91110108EXAMPLE008");
        assert_eq!(b.district[0], 110108);
        assert_eq!(b.tier[0], Tier::LittleGiant);
        assert_eq!(b.credit_class[0], Some(CreditClass::A));
        assert_eq!(b.env_penalties_24m[0], Some(0));
        assert_eq!(b.raw.num_columns(), 7);
    }

    #[test]
    fn each_reject_reason_names_row_column_value() {
        let ok = "91110108EXAMPLE008";
        let rows = vec![
            vec![
                Some(ok),
                Some("a"),
                Some("110108"),
                Some("none"),
                None,
                None,
                None,
            ],
            vec![
                Some("91110108EXAMPLE0O8"),
                Some("b"),
                Some("110108"),
                Some("none"),
                None,
                None,
                None,
            ],
            vec![
                Some(ok),
                Some("c"),
                Some("110108"),
                Some("none"),
                None,
                None,
                None,
            ],
            vec![
                Some("91110105EXAMPLE010"),
                Some("d"),
                Some("上海"),
                Some("none"),
                None,
                None,
                None,
            ],
            vec![
                Some("91110105EXAMPLE010"),
                Some("e"),
                Some("110105"),
                Some("big"),
                None,
                None,
                None,
            ],
            vec![
                Some("91110105EXAMPLE010"),
                Some("f"),
                Some("110105"),
                Some("none"),
                Some("E"),
                None,
                None,
            ],
            vec![
                Some("91110105EXAMPLE010"),
                Some("g"),
                Some("110105"),
                Some("none"),
                None,
                Some("1.5"),
                None,
            ],
            vec![
                Some("91110105EXAMPLE010"),
                None,
                Some("110105"),
                Some("none"),
                None,
                None,
                None,
            ],
            vec![
                Some("91110105EXAMPLE011"),
                Some("h"),
                Some("110105"),
                Some("none"),
                None,
                Some("0"),
                None,
            ],
            vec![
                Some("91110105EXAMPLE012"),
                Some("i"),
                Some("110105"),
                Some("none"),
                None,
                Some("-1"),
                None,
            ],
        ];
        let (b, r) = run(H, &rows);
        assert_eq!(b.len(), 2, "rows 1 and 9 are accepted");
        assert!(
            b.uscc_checksum_bad[1],
            "…011 has a wrong check character: kept, flagged"
        );
        let got: Vec<(u64, &str, &str, &str)> = r
            .items()
            .iter()
            .map(|x| (x.row, x.column.as_str(), x.value.as_str(), x.reason))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    2,
                    "统一社会信用代码",
                    "91110108EXAMPLE0O8",
                    "USCC_MALFORMED"
                ),
                (3, "统一社会信用代码", ok, "USCC_DUPLICATE"),
                (4, "所属区", "上海", "DISTRICT_UNKNOWN"),
                (5, "企业梯度", "big", "TIER_UNKNOWN"),
                (6, "信用风险分类", "E", "CREDIT_CLASS_INVALID"),
                (7, "env_penalties_24m", "1.5", "INTEGER_INVALID"),
                (8, "企业名称", "", "VALUE_MISSING"),
                (10, "env_penalties_24m", "-1", "NUMBER_NEGATIVE"),
            ]
        );
        assert_eq!(b.row, vec![1, 9]);
        assert_eq!(b.raw.num_rows(), 2);
    }
}

#[cfg(test)]
mod properties {
    //! Property: whatever rows arrive (valid, malformed, duplicated, blank cells), every row read is
    //! accepted or rejected exactly once, and every accepted row keeps its values.

    use super::*;
    use proptest::prelude::*;

    /// A cell of the code column: a valid code from a small pool (so duplicates happen), a code
    /// with a wrong check character, a malformed one, or blank.
    fn code() -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            6 => (0u32..40).prop_map(|i| crate::uscc::complete(&format!("91110108MA{i:07}"))),
            1 => (0u32..40).prop_map(|i| {
                let mut c = crate::uscc::complete(&format!("91110105MA{i:07}")).unwrap();
                let last = c.pop().unwrap();
                c.push(if last == '0' { '1' } else { '0' });
                Some(c)
            }),
            1 => "[a-z0-9]{0,20}".prop_map(Some),
            1 => Just(None),
        ]
    }

    fn cell(pool: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            4 => proptest::sample::select(pool).prop_map(|s| Some(s.to_string())),
            1 => Just(None),
        ]
    }

    type Row = Vec<Option<String>>;

    fn row() -> impl Strategy<Value = Row> {
        (
            code(),
            cell(&["甲", "乙公司", "Name, Inc."]),
            cell(&["110108", "海淀区", "经开区", "110103", "上海", "9"]),
            cell(&["none", "小巨人", "specialized", "huge"]),
            cell(&["A", "B类", "信用风险高", "E"]),
            cell(&["0", "1", "2.5", "-1", "x"]),
        )
            .prop_map(|(a, b, c, d, e, f)| vec![a, b, c, d, e, f])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn every_row_accounted_for_and_values_kept(rows in proptest::collection::vec(row(), 0..60)) {
            let headers = ["uscc", "name", "district", "tier", "credit_class", "env_penalties_24m"];
            let cells: Vec<Vec<Option<&str>>> = rows
                .iter()
                .map(|r| r.iter().map(|c| c.as_deref()).collect())
                .collect();
            let raw = text_batch(&headers, &cells);
            let map = ColumnMap::resolve(&raw.schema(), ent::ALL, ent::REQUIRED, Path::new("p.csv")).unwrap();
            let mut rejects = Rejects::new(false);
            let mut seen = HashSet::new();
            let b = validate_batch(&raw, &map, 1, "p.csv", Path::new("p.csv"), &mut seen, &mut rejects).unwrap();
            prop_assert_eq!(b.len() + rejects.len(), rows.len());
            // Rejected and accepted row numbers partition 1..=n.
            let mut all: Vec<u64> = b.row.clone();
            all.extend(rejects.items().iter().map(|r| r.row));
            all.sort_unstable();
            prop_assert_eq!(all, (1..=rows.len() as u64).collect::<Vec<_>>());
            // Accepted rows keep their values.
            for i in 0..b.len() {
                let src = &rows[(b.row[i] - 1) as usize];
                prop_assert_eq!(b.uscc.value(i), src[0].as_deref().unwrap().to_ascii_uppercase());
                prop_assert_eq!(b.name.value(i), src[1].as_deref().unwrap());
                prop_assert_eq!(Some(b.district[i]), district::parse(src[2].as_deref().unwrap()));
                prop_assert_eq!(Some(b.tier[i]), Tier::parse(src[3].as_deref().unwrap()));
                prop_assert_eq!(b.credit_class[i], src[4].as_deref().and_then(CreditClass::parse));
                prop_assert_eq!(b.env_penalties_24m[i], src[5].as_deref().map(|s| s.parse::<u32>().unwrap()));
                prop_assert_eq!(b.raw.num_rows(), b.len());
            }
            // No code is accepted twice.
            let mut codes: Vec<&str> = (0..b.len()).map(|i| b.uscc.value(i)).collect();
            codes.sort_unstable();
            let n = codes.len();
            codes.dedup();
            prop_assert_eq!(codes.len(), n);
        }
    }
}
