//! Reading the report's extra inputs back into typed rows: the drawn 双随机 sample (`spotcheck
//! sample`'s output, SPEC §4: `seq, uscc, name, district, tier, credit_class, departments, pi,
//! ratio, risk_score, inspectors`, English or Chinese headers) and this period's 正面清单 (the flat
//! CSV / JSON Lines table of `spotcheck whitelist`, or its workbook's 正面清单 / 移出 / 候补 sheets,
//! SPEC §5). A file without a needed column, or with a cell that is not what its column holds, is
//! an error naming the file, the row and the column; these files are our own outputs, so nothing
//! is skipped silently. As every reader does (SPEC §12, `table::layout`), the header is the first
//! of the first rows naming the required columns, blank and total rows are passed over, and rows
//! are numbered as the file has them. The scored file itself is read by `scored::ScoredTable`.

use std::path::Path;

use crate::district;
use crate::schema::{Col, CreditClass, Department, Lang, Tier, norm};
use crate::table::cells::{Num, NumColumn, TextColumn};
use crate::table::layout::header_probe;
use crate::table::{ColumnMap, Format, Numbered, ReadOptions};
use crate::uscc::{UsccCheck, check};
use crate::whitelist::{Status, cols as list_cols, reasons::CAP_FULL};
use crate::{Error, Result};

/// Columns of the sample file (SPEC §4 "Sample output"), with their Chinese headers.
pub mod sample_cols {
    use crate::schema::{Col, ent, out};

    /// 序号: 1-based position in the draw's output order.
    pub const SEQ: Col = Col {
        name: "seq",
        zh: "序号",
        aliases: &[],
    };
    pub const USCC: Col = ent::USCC;
    pub const NAME: Col = ent::NAME;
    pub const DISTRICT: Col = ent::DISTRICT;
    pub const TIER: Col = ent::TIER;
    pub const CREDIT_CLASS: Col = ent::CREDIT_CLASS;
    /// 检查部门: market, ecology, or market+ecology for a joint visit.
    pub const DEPARTMENTS: Col = Col {
        name: "departments",
        zh: "检查部门",
        aliases: &["department", "部门"],
    };
    /// 入样概率: the unit's inclusion probability π.
    pub const PI: Col = Col {
        name: "pi",
        zh: "入样概率",
        aliases: &["π"],
    };
    /// 抽查比例: the annual ratio π was derived from.
    pub const RATIO: Col = Col {
        name: "ratio",
        zh: "抽查比例",
        aliases: &[],
    };
    pub const RISK_SCORE: Col = out::RISK_SCORE;
    /// 执法人员: the inspectors assigned, as the sample command writes them.
    pub const INSPECTORS: Col = Col {
        name: "inspectors",
        zh: "执法人员",
        aliases: &["检查人员"],
    };

    /// Every column, in SPEC §4 order.
    pub const ALL: &[Col] = &[
        SEQ,
        USCC,
        NAME,
        DISTRICT,
        TIER,
        CREDIT_CLASS,
        DEPARTMENTS,
        PI,
        RATIO,
        RISK_SCORE,
        INSPECTORS,
    ];
    /// What the report cannot do without: who, where, by which department.
    pub const REQUIRED: &[Col] = &[USCC, DISTRICT, DEPARTMENTS];
}

/// Which departments visit a drawn enterprise (SPEC §4 step 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Departments {
    /// 市场监管 only.
    Market,
    /// 生态环境 only.
    Ecology,
    /// Both, in one joint visit (进一次门，查多项事).
    Joint,
}

impl Departments {
    /// Every value, in report order.
    pub const ALL: [Departments; 3] = [
        Departments::Market,
        Departments::Ecology,
        Departments::Joint,
    ];

    /// What a departments cell may hold, for error messages.
    pub const EXPECTED: &'static str =
        "market, ecology or market+ecology (市场监管, 生态环境, 市场监管+生态环境)";

    /// Dense index in `ALL` order.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The value as the sample file writes it in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Departments::Market, Lang::En) => "market",
            (Departments::Ecology, Lang::En) => "ecology",
            (Departments::Joint, Lang::En) => "market+ecology",
            (Departments::Market, Lang::Zh) => "市场监管",
            (Departments::Ecology, Lang::Zh) => "生态环境",
            (Departments::Joint, Lang::Zh) => "市场监管+生态环境",
        }
    }

    /// Parses `market`, `ecology`, `market+ecology` (any order; `+`, `＋`, `、`, `,`, `;`, `/`
    /// between), their Chinese names, or `joint` / `联合`.
    pub fn parse(s: &str) -> Option<Departments> {
        let n = norm(s);
        if n == "joint" || n == "联合" || n == "联合检查" {
            return Some(Departments::Joint);
        }
        let mut market = false;
        let mut ecology = false;
        for part in n.split(['+', '＋', '、', ',', '，', ';', '；', '/']) {
            match Department::parse(part)? {
                Department::Market => market = true,
                Department::Ecology => ecology = true,
            }
        }
        match (market, ecology) {
            (true, true) => Some(Departments::Joint),
            (true, false) => Some(Departments::Market),
            (false, true) => Some(Departments::Ecology),
            // split always yields at least one part, each parsed or rejected above.
            (false, false) => None,
        }
    }

    /// Whether the market department takes part.
    pub fn market(self) -> bool {
        matches!(self, Departments::Market | Departments::Joint)
    }

    /// Whether the ecology department takes part.
    pub fn ecology(self) -> bool {
        matches!(self, Departments::Ecology | Departments::Joint)
    }
}

/// One drawn enterprise of the sample file.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRow {
    /// Row number as the rejects file counts rows: the file's row minus one (with the header on
    /// the first row, the 1-based data row).
    pub row: u64,
    pub seq: Option<u64>,
    /// 统一社会信用代码, trimmed and upper-cased.
    pub uscc: String,
    pub name: Option<String>,
    /// 所属区, 6-digit code.
    pub district: u32,
    pub tier: Option<Tier>,
    pub credit_class: Option<CreditClass>,
    pub departments: Departments,
    pub inspectors: Option<String>,
}

/// One enterprise of this period's positive list file (listed, waitlisted or removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    /// 统一社会信用代码, trimmed and upper-cased.
    pub uscc: String,
    pub name: String,
    /// 所属区, 6-digit code.
    pub district: u32,
    pub status: Status,
    /// Reason codes (`ECO_*`, `NOT_IN_DATA`, `NOT_ELIGIBLE`, `CAP_FULL`), in file order.
    pub reasons: Vec<String>,
}

/// Error for a cell that is not what its column holds.
fn bad(path: &Path, row: u64, header: &str, value: &str, expected: &str) -> Error {
    Error::BadValue {
        path: path.to_path_buf(),
        row,
        column: header.to_string(),
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

/// A credit code cell: valid or with a wrong check character (kept, as the scorer keeps it).
fn parse_uscc(path: &Path, row: u64, header: &str, cell: Option<&str>) -> Result<String> {
    let s = cell.unwrap_or("");
    match check(s) {
        UsccCheck::Valid(c) | UsccCheck::BadChecksum(c) => Ok(c),
        UsccCheck::Malformed => Err(bad(
            path,
            row,
            header,
            s,
            "an 18-character unified social credit code (GB 32100-2015)",
        )),
    }
}

fn parse_district(path: &Path, row: u64, header: &str, cell: Option<&str>) -> Result<u32> {
    let s = cell.unwrap_or("");
    district::parse(s).ok_or_else(|| bad(path, row, header, s, district::EXPECTED))
}

/// An optional enum cell: blank is `None`, anything else must parse.
fn parse_opt<T>(
    path: &Path,
    row: u64,
    header: &str,
    cell: Option<&str>,
    expected: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>> {
    match cell {
        None => Ok(None),
        Some(s) => parse(s)
            .map(Some)
            .ok_or_else(|| bad(path, row, header, s, expected)),
    }
}

/// The cell of an optional numeric column (`Null` when the file lacks the column).
fn numcell(c: &Option<NumColumn>, i: usize) -> Num<'_> {
    c.as_ref().map_or(Num::Null, |c| c.get(i))
}

fn number(path: &Path, row: u64, header: &str, cell: Num<'_>) -> Result<Option<f64>> {
    match cell {
        Num::Null => Ok(None),
        Num::Value(v) => Ok(Some(v)),
        Num::Bad(s) => Err(bad(path, row, header, s, "a number")),
    }
}

/// Reads a drawn sample (SPEC §4 output) in any table format, English or Chinese headers.
///
/// Required columns: `uscc`, `district`, `departments` (`统一社会信用代码`, `所属区`, `检查部门`);
/// `seq`, `name`, `tier`, `credit_class` and `inspectors` are read when present. `pi`, `ratio`
/// and `risk_score` are recognised but not read: the report takes those numbers from the scored
/// file, so how the sample writes them (e.g. two π of a joint visit) cannot break it. Rows come
/// back in file order.
pub fn read_sample(path: &Path, opts: &ReadOptions) -> Result<Vec<SampleRow>> {
    let opts = ReadOptions {
        header: Some(header_probe(sample_cols::REQUIRED)),
        ..opts.clone()
    };
    let mut reader = crate::table::open(path, &opts)?;
    let schema = reader.schema();
    let map = ColumnMap::resolve(&schema, sample_cols::ALL, sample_cols::REQUIRED, path)?;
    let header = |c: &Col| -> String {
        map.get(c)
            .map_or_else(|| c.name.to_string(), |j| schema.field(j).name().clone())
    };
    let [hu, hd, ht, hc, hp, hs] = [
        sample_cols::USCC,
        sample_cols::DISTRICT,
        sample_cols::TIER,
        sample_cols::CREDIT_CLASS,
        sample_cols::DEPARTMENTS,
        sample_cols::SEQ,
    ]
    .map(|c| header(&c));
    let mut out = Vec::new();
    while let Some(numbered) = reader.next_numbered() {
        let Numbered { batch, first_row } = numbered?;
        let text = |c: &Col| -> Result<Option<TextColumn>> {
            map.get(c)
                .map(|j| TextColumn::new(batch.column(j), path))
                .transpose()
        };
        let num = |c: &Col| -> Result<Option<NumColumn>> {
            map.get(c)
                .map(|j| NumColumn::new(batch.column(j), path))
                .transpose()
        };
        let us = text(&sample_cols::USCC)?;
        let na = text(&sample_cols::NAME)?;
        let di = text(&sample_cols::DISTRICT)?;
        let ti = text(&sample_cols::TIER)?;
        let cc = text(&sample_cols::CREDIT_CLASS)?;
        let de = text(&sample_cols::DEPARTMENTS)?;
        let ins = text(&sample_cols::INSPECTORS)?;
        let seq = num(&sample_cols::SEQ)?;
        let cell = |c: &Option<TextColumn>, i: usize| -> Option<String> {
            c.as_ref().and_then(|c| c.get(i)).map(str::to_string)
        };
        for i in 0..batch.num_rows() {
            let row = first_row + i as u64;
            let uscc = parse_uscc(path, row, &hu, cell(&us, i).as_deref())?;
            let district = parse_district(path, row, &hd, cell(&di, i).as_deref())?;
            let dep = cell(&de, i);
            let departments = dep.as_deref().and_then(Departments::parse).ok_or_else(|| {
                bad(
                    path,
                    row,
                    &hp,
                    dep.as_deref().unwrap_or(""),
                    Departments::EXPECTED,
                )
            })?;
            let seq = match number(path, row, &hs, numcell(&seq, i))? {
                None => None,
                Some(v) if v >= 1.0 && v.fract() == 0.0 && v <= u64::MAX as f64 => Some(v as u64),
                Some(v) => {
                    return Err(bad(path, row, &hs, &v.to_string(), "a whole number from 1"));
                }
            };
            out.push(SampleRow {
                row,
                seq,
                uscc,
                name: cell(&na, i),
                district,
                tier: parse_opt(
                    path,
                    row,
                    &ht,
                    cell(&ti, i).as_deref(),
                    Tier::EXPECTED,
                    Tier::parse,
                )?,
                credit_class: parse_opt(
                    path,
                    row,
                    &hc,
                    cell(&cc, i).as_deref(),
                    CreditClass::EXPECTED,
                    CreditClass::parse,
                )?,
                departments,
                inspectors: cell(&ins, i),
            });
        }
    }
    Ok(out)
}

/// Sheet names of the `spotcheck whitelist` workbook the report reads.
const LIST_SHEET: &str = crate::whitelist::workbook::sheets::LIST;
const REMOVED_SHEET: &str = crate::whitelist::workbook::sheets::REMOVED;
const WAITLIST_SHEET: &str = crate::whitelist::workbook::sheets::WAITLIST;

/// Columns a positive list's rows need: with the status column (the flat table, the 正面清单
/// sheet), and without (the 移出 and 候补 sheets, whose rows all have one status).
const LIST_REQUIRED_WITH_STATUS: &[Col] = &[
    list_cols::USCC,
    list_cols::NAME,
    list_cols::DISTRICT,
    list_cols::STATUS,
];
const LIST_REQUIRED: &[Col] = &[list_cols::USCC, list_cols::NAME, list_cols::DISTRICT];

/// How the status of a sheet's rows is known.
#[derive(Clone, Copy)]
enum SheetStatus {
    /// From the status column (required).
    Column,
    /// Every row has this status (the 移出 and 候补 sheets).
    Fixed(Status),
}

/// Reads this period's positive list as `spotcheck whitelist` writes it: the flat table (CSV, JSON
/// Lines, Parquet, Arrow IPC; columns `uscc, name, district, status` required, `reasons` codes
/// read when present) or the workbook (.xlsx with the sheets 正面清单, 移出 and, with a cap, 候补;
/// a workbook without a 正面清单 sheet is read as a flat table from its first sheet). Rows come
/// back in file order (workbook: listed, then removed, then waitlisted).
pub fn read_list(path: &Path, opts: &ReadOptions) -> Result<Vec<ListRow>> {
    if Format::from_path(path)? == Format::Xlsx && opts.sheet.is_none() {
        let names = sheet_names(path)?;
        if names.iter().any(|s| s == LIST_SHEET) {
            let mut out = read_list_sheet(path, opts, Some(LIST_SHEET), SheetStatus::Column)?;
            if names.iter().any(|s| s == REMOVED_SHEET) {
                out.extend(read_list_sheet(
                    path,
                    opts,
                    Some(REMOVED_SHEET),
                    SheetStatus::Fixed(Status::Removed),
                )?);
            }
            if names.iter().any(|s| s == WAITLIST_SHEET) {
                out.extend(read_list_sheet(
                    path,
                    opts,
                    Some(WAITLIST_SHEET),
                    SheetStatus::Fixed(Status::Waitlisted),
                )?);
            }
            return Ok(out);
        }
    }
    read_list_sheet(path, opts, None, SheetStatus::Column)
}

fn sheet_names(path: &Path) -> Result<Vec<String>> {
    use calamine::Reader;
    let wb = calamine::open_workbook::<calamine::Xlsx<_>, _>(path).map_err(|e| Error::BadFile {
        path: path.to_path_buf(),
        format: "XLSX",
        message: e.to_string(),
    })?;
    Ok(wb.sheet_names().to_vec())
}

fn read_list_sheet(
    path: &Path,
    opts: &ReadOptions,
    sheet: Option<&str>,
    status: SheetStatus,
) -> Result<Vec<ListRow>> {
    let mut opts = ReadOptions {
        header: Some(header_probe(match status {
            SheetStatus::Column => LIST_REQUIRED_WITH_STATUS,
            SheetStatus::Fixed(_) => LIST_REQUIRED,
        })),
        ..opts.clone()
    };
    if let Some(s) = sheet {
        opts.sheet = Some(s.to_string());
    }
    let mut reader = crate::table::open(path, &opts)?;
    let schema = reader.schema();
    let known = [
        list_cols::USCC,
        list_cols::NAME,
        list_cols::DISTRICT,
        list_cols::STATUS,
        list_cols::REASONS,
    ];
    let required = match status {
        SheetStatus::Column => LIST_REQUIRED_WITH_STATUS,
        SheetStatus::Fixed(_) => LIST_REQUIRED,
    };
    let map =
        ColumnMap::resolve(&schema, &known, required, path).map_err(|e| match (e, sheet) {
            // Name the sheet too: "移出" of a workbook is not obvious from the path alone.
            (
                Error::MissingColumn {
                    path,
                    column,
                    aliases,
                },
                Some(s),
            ) => Error::MissingColumn {
                path: std::path::PathBuf::from(format!("{} (sheet {s})", path.display())),
                column,
                aliases,
            },
            (e, _) => e,
        })?;
    let header = |c: &Col| -> String {
        map.get(c)
            .map_or_else(|| c.name.to_string(), |j| schema.field(j).name().clone())
    };
    let (hu, hd, hs) = (
        header(&list_cols::USCC),
        header(&list_cols::DISTRICT),
        header(&list_cols::STATUS),
    );
    let mut out = Vec::new();
    while let Some(numbered) = reader.next_numbered() {
        let Numbered { batch, first_row } = numbered?;
        let text = |c: &Col| -> Result<Option<TextColumn>> {
            map.get(c)
                .map(|j| TextColumn::new(batch.column(j), path))
                .transpose()
        };
        let (us, na, di, st, re) = (
            text(&list_cols::USCC)?,
            text(&list_cols::NAME)?,
            text(&list_cols::DISTRICT)?,
            text(&list_cols::STATUS)?,
            text(&list_cols::REASONS)?,
        );
        let cell = |c: &Option<TextColumn>, i: usize| -> Option<String> {
            c.as_ref().and_then(|c| c.get(i)).map(str::to_string)
        };
        for i in 0..batch.num_rows() {
            let row = first_row + i as u64;
            let uscc = parse_uscc(path, row, &hu, cell(&us, i).as_deref())?;
            let district = parse_district(path, row, &hd, cell(&di, i).as_deref())?;
            let status = match status {
                SheetStatus::Fixed(s) => s,
                SheetStatus::Column => {
                    let s = cell(&st, i).unwrap_or_default();
                    Status::parse(&s).ok_or_else(|| bad(path, row, &hs, &s, Status::EXPECTED))?
                }
            };
            let mut reasons: Vec<String> = cell(&re, i)
                .unwrap_or_default()
                .split([';', '；'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            if status == Status::Waitlisted && reasons.is_empty() {
                // The workbook's 候补 sheet carries only the sentence; its one reason is CAP_FULL.
                reasons.push(CAP_FULL.to_string());
            }
            out.push(ListRow {
                uscc,
                name: cell(&na, i).unwrap_or_default(),
                district,
                status,
                reasons,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departments_parse_every_spelling() {
        assert_eq!(Departments::parse("market"), Some(Departments::Market));
        assert_eq!(Departments::parse("生态环境"), Some(Departments::Ecology));
        assert_eq!(
            Departments::parse("market+ecology"),
            Some(Departments::Joint)
        );
        assert_eq!(
            Departments::parse("生态环境＋市场监管"),
            Some(Departments::Joint)
        );
        assert_eq!(Departments::parse("联合"), Some(Departments::Joint));
        assert_eq!(Departments::parse("tax"), None);
        assert_eq!(Departments::parse("market+tax"), None);
        for d in Departments::ALL {
            for lang in [Lang::En, Lang::Zh] {
                assert_eq!(Departments::parse(d.label(lang)), Some(d));
            }
        }
        assert!(Departments::Joint.market() && Departments::Joint.ecology());
        assert!(!Departments::Market.ecology() && !Departments::Ecology.market());
    }
}
