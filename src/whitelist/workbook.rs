//! Writing the 正面清单 (SPEC §5): a flat table for CSV (optionally with a BOM) and JSON Lines —
//! one row per listed, waitlisted or removed enterprise, columns `cols::TABLE` — and the ecology
//! bureau's Excel workbook: sheets 正面清单 (the current list), 新增 (new), 移出 (removed, with one
//! Chinese sentence per failed criterion), 候补 (waitlisted, only when a cap is set) and 说明
//! (policy settings, as-of date, counts per status and district, input file hashes). Chinese
//! headers, a frozen bold header row, fitted widths, dates as real Excel dates, a fixed creation
//! time so that the same list gives the same bytes. Every file is written to a temporary file
//! beside the target and renamed into place when complete.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Float64Array, RecordBatch, StringArray, UInt32Array};
use arrow::datatypes::{Field, Schema};
use rust_xlsxwriter::{ExcelDateTime, Format as XFormat, Workbook, Worksheet, XlsxError};

use super::{Entry, Status, Whitelist, cols, district_label, reasons};
use crate::date::Date;
use crate::schema::Lang;
use crate::table::atomic::TempFile;
use crate::table::xlsx::{SheetWriter, new_workbook, text_width};
use crate::table::{Format, WriteOptions};
use crate::{Error, Result};

/// One input of the run, recorded in the 说明 sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// What the file is, e.g. "评分结果" or "上期正面清单" or "policy".
    pub role: String,
    /// The path as given on the command line.
    pub path: String,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
}

/// How to write the flat table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputOptions {
    /// CSV: start with a UTF-8 byte-order mark so that Excel shows Chinese text (`--bom`).
    pub bom: bool,
    /// Headers, statuses, permit classes and reason sentences in English or Chinese (`--lang`).
    pub lang: Lang,
}

/// Sheet names of the workbook.
pub mod sheets {
    pub const LIST: &str = super::super::previous::LIST_SHEET;
    pub const NEW: &str = "新增";
    pub const REMOVED: &str = "移出";
    pub const WAITLIST: &str = "候补";
    pub const NOTES: &str = "说明";
}

/// Writes the list to `path`, the format chosen by its extension: `.xlsx` gives the workbook,
/// anything else `table::create` writes (`.csv`, `.jsonl`, also Parquet and Arrow IPC) the flat
/// table. Returns the number of rows of the flat table, or of the 正面清单 sheet.
pub fn write_list(
    path: &Path,
    list: &Whitelist,
    inputs: &[InputFile],
    opts: &OutputOptions,
) -> Result<u64> {
    match Format::from_path(path)? {
        Format::Xlsx => {
            write_xlsx(path, list, inputs)?;
            Ok(list.listed().count() as u64)
        }
        _ => write_table(path, list, opts),
    }
}

/// Writes the flat table (CSV, JSON Lines, Parquet, Arrow IPC) atomically; returns its rows.
pub fn write_table(path: &Path, list: &Whitelist, opts: &OutputOptions) -> Result<u64> {
    let batch = table_batch(list, opts.lang, path)?;
    let wopts = WriteOptions {
        bom: opts.bom,
        ..WriteOptions::default()
    };
    let mut w = crate::table::create(path, batch.schema(), &wopts)?;
    w.write(&batch)?;
    w.finish()
}

/// Column-by-column construction of a record batch.
struct Builder<'a> {
    path: &'a Path,
    fields: Vec<Field>,
    arrays: Vec<ArrayRef>,
}

fn days(d: Option<Date>) -> Option<i32> {
    // Dates of the list are within four-digit years, far inside i32 days.
    d.map(|d| d.to_days() as i32)
}

impl<'a> Builder<'a> {
    fn new(path: &'a Path) -> Self {
        Builder {
            path,
            fields: Vec::new(),
            arrays: Vec::new(),
        }
    }

    fn push(&mut self, name: &str, array: ArrayRef) {
        self.fields
            .push(Field::new(name, array.data_type().clone(), true));
        self.arrays.push(array);
    }

    fn text<S: AsRef<str>>(&mut self, name: &str, v: impl Iterator<Item = Option<S>>) {
        self.push(name, Arc::new(v.collect::<StringArray>()));
    }

    fn date(&mut self, name: &str, v: impl Iterator<Item = Option<Date>>) {
        self.push(name, Arc::new(v.map(days).collect::<Date32Array>()));
    }

    fn num(&mut self, name: &str, v: impl Iterator<Item = Option<f64>>) {
        self.push(name, Arc::new(v.collect::<Float64Array>()));
    }

    fn uint(&mut self, name: &str, v: impl Iterator<Item = Option<u32>>) {
        self.push(name, Arc::new(v.collect::<UInt32Array>()));
    }

    fn finish(self) -> Result<RecordBatch> {
        RecordBatch::try_new(Arc::new(Schema::new(self.fields)), self.arrays).map_err(|source| {
            Error::Arrow {
                path: self.path.to_path_buf(),
                source,
            }
        })
    }
}

fn nonempty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// The flat table of every entry (columns `cols::TABLE`), headers and values in `lang`.
/// `path` only names the file in an error.
pub fn table_batch(list: &Whitelist, lang: Lang, path: &Path) -> Result<RecordBatch> {
    let e = &list.entries;
    let h = |c: crate::schema::Col| c.header(lang);
    let mut b = Builder::new(path);
    b.text(h(cols::USCC), e.iter().map(|e| Some(&e.uscc)));
    b.text(h(cols::NAME), e.iter().map(|e| Some(&e.name)));
    b.text(
        h(cols::DISTRICT),
        e.iter().map(|e| Some(e.district.to_string())),
    );
    b.text(
        h(cols::STATUS),
        e.iter().map(|e| Some(e.status.label(lang))),
    );
    b.date(h(cols::LISTED_ON), e.iter().map(|e| e.listed_on));
    b.date(h(cols::EXPIRES_ON), e.iter().map(|e| e.expires_on));
    b.text(
        h(cols::REASONS),
        e.iter().map(|e| nonempty(e.reasons.join(";"))),
    );
    b.text(
        h(cols::REASON_TEXT),
        e.iter().map(|e| nonempty(reasons::join(&e.reasons, lang))),
    );
    b.text(
        h(cols::DISTRICT_NAME),
        e.iter().map(|e| Some(district_label(e.district))),
    );
    b.text(
        h(cols::PERMIT_CLASS),
        e.iter().map(|e| e.permit_class.map(|p| p.label(lang))),
    );
    b.num(h(cols::RISK_SCORE), e.iter().map(|e| e.risk_score));
    b.num(h(cols::PE_TOTAL), e.iter().map(|e| e.pe_total));
    b.uint(h(cols::WAITLIST_RANK), e.iter().map(|e| e.waitlist_rank));
    b.finish()
}

/// Entries sorted by district, then uscc (the order of every sheet but 候补).
fn by_district<'a>(it: impl Iterator<Item = &'a Entry>) -> Vec<&'a Entry> {
    let mut v: Vec<&Entry> = it.collect();
    v.sort_by(|a, b| (a.district, &a.uscc).cmp(&(b.district, &b.uscc)));
    v
}

fn list_sheet(rows: &[&Entry], with_status: bool, path: &Path) -> Result<RecordBatch> {
    let z = Lang::Zh;
    let mut b = Builder::new(path);
    b.text(cols::USCC.zh, rows.iter().map(|e| Some(&e.uscc)));
    b.text(cols::NAME.zh, rows.iter().map(|e| Some(&e.name)));
    b.text(
        cols::DISTRICT.zh,
        rows.iter().map(|e| Some(district_label(e.district))),
    );
    if with_status {
        b.text(cols::STATUS.zh, rows.iter().map(|e| Some(e.status.zh())));
    }
    b.date(cols::LISTED_ON.zh, rows.iter().map(|e| e.listed_on));
    b.date(cols::EXPIRES_ON.zh, rows.iter().map(|e| e.expires_on));
    b.text(
        cols::PERMIT_CLASS.zh,
        rows.iter().map(|e| e.permit_class.map(|p| p.label(z))),
    );
    b.num(cols::RISK_SCORE.zh, rows.iter().map(|e| e.risk_score));
    b.num(cols::PE_TOTAL.zh, rows.iter().map(|e| e.pe_total));
    b.finish()
}

fn removed_sheet(rows: &[&Entry], as_of: Date, path: &Path) -> Result<RecordBatch> {
    let mut b = Builder::new(path);
    b.text(cols::USCC.zh, rows.iter().map(|e| Some(&e.uscc)));
    b.text(cols::NAME.zh, rows.iter().map(|e| Some(&e.name)));
    b.text(
        cols::DISTRICT.zh,
        rows.iter().map(|e| Some(district_label(e.district))),
    );
    b.date("原纳入日期", rows.iter().map(|e| e.listed_on));
    b.date("原有效期至", rows.iter().map(|e| e.expires_on));
    b.date("移出日期", rows.iter().map(|_| Some(as_of)));
    b.text(
        "移出原因",
        rows.iter()
            .map(|e| Some(reasons::join(&e.reasons, Lang::Zh))),
    );
    b.text(
        cols::REASONS.zh,
        rows.iter().map(|e| Some(e.reasons.join(";"))),
    );
    b.finish()
}

fn waitlist_sheet(rows: &[&Entry], path: &Path) -> Result<RecordBatch> {
    let mut b = Builder::new(path);
    b.text(cols::USCC.zh, rows.iter().map(|e| Some(&e.uscc)));
    b.text(cols::NAME.zh, rows.iter().map(|e| Some(&e.name)));
    b.text(
        cols::DISTRICT.zh,
        rows.iter().map(|e| Some(district_label(e.district))),
    );
    b.uint(cols::WAITLIST_RANK.zh, rows.iter().map(|e| e.waitlist_rank));
    b.text(
        cols::PERMIT_CLASS.zh,
        rows.iter().map(|e| e.permit_class.map(|p| p.zh())),
    );
    b.num(cols::RISK_SCORE.zh, rows.iter().map(|e| e.risk_score));
    b.num(cols::PE_TOTAL.zh, rows.iter().map(|e| e.pe_total));
    b.text(
        "候补原因",
        rows.iter()
            .map(|e| Some(reasons::join(&e.reasons, Lang::Zh))),
    );
    b.finish()
}

fn add_sheet(wb: &mut Workbook, name: &str, batch: &RecordBatch) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    let headers: Vec<&str> = batch
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    let mut w = SheetWriter::new(ws, &headers)?;
    w.write_batch(ws, batch)?;
    w.finish(ws)
}

/// A cell of the 说明 sheet.
enum Cell {
    Text(String),
    Num(f64),
    Date(Date),
}

fn t(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn n(v: usize) -> Cell {
    Cell::Num(v as f64)
}

/// The 说明 sheet, row by row; header-like rows are flagged.
fn notes_rows(list: &Whitelist, inputs: &[InputFile]) -> Vec<(bool, Vec<Cell>)> {
    let p = &list.params;
    let s = list.summary();
    let mut rows: Vec<(bool, Vec<Cell>)> = vec![
        (
            false,
            vec![
                t("生成程序"),
                t(format!("spotcheck {}", env!("CARGO_PKG_VERSION"))),
            ],
        ),
        (false, vec![t("基准日期"), Cell::Date(p.as_of)]),
        (
            false,
            vec![t("有效期（年）"), Cell::Num(f64::from(p.validity_years))],
        ),
    ];
    match p.cap_share {
        Some(share) => {
            rows.push((
                false,
                vec![
                    t("名额上限比例（占本区重点管理和简化管理排污单位数）"),
                    Cell::Num(share),
                ],
            ));
            rows.push((
                false,
                vec![
                    t("名额分配规则"),
                    t("已在清单的企业优先保留；其余符合条件的企业按综合风险分、污染当量数合计、统一社会信用代码从低到高依次纳入，超出名额的列入候补；登记管理和无需排污许可的企业不占名额"),
                ],
            ));
        }
        None => rows.push((false, vec![t("名额上限比例"), t("不设上限")])),
    }
    let c = &s.total;
    rows.extend([
        (false, vec![t("纳入正面清单（合计）"), n(c.listed())]),
        (false, vec![t("其中：新增"), n(c.new)]),
        (false, vec![t("其中：保留"), n(c.retained)]),
        (false, vec![t("其中：续期"), n(c.renewed)]),
        (false, vec![t("候补"), n(c.waitlisted)]),
        (false, vec![t("移出"), n(c.removed)]),
        (false, vec![]),
        (true, vec![t("输入文件"), t("路径"), t("SHA-256")]),
    ]);
    for f in inputs {
        rows.push((false, vec![t(&f.role), t(&f.path), t(&f.sha256)]));
    }
    rows.push((false, vec![]));
    let mut head = vec![
        t("所属区"),
        t("区划代码"),
        t("清单合计"),
        t(Status::New.zh()),
        t(Status::Retained.zh()),
        t(Status::Renewed.zh()),
        t(Status::Waitlisted.zh()),
        t(Status::Removed.zh()),
    ];
    if p.cap_share.is_some() {
        head.push(t("重点+简化管理排污单位数"));
        head.push(t("名额上限"));
    }
    rows.push((true, head));
    let counts = |c: &super::StatusCounts| {
        vec![
            n(c.listed()),
            n(c.new),
            n(c.retained),
            n(c.renewed),
            n(c.waitlisted),
            n(c.removed),
        ]
    };
    for d in &s.districts {
        let mut r = vec![t(district_label(d.district)), t(d.district.to_string())];
        r.extend(counts(&d.counts));
        if let Some(cap) = d.cap {
            r.push(n(cap.permit_holders));
            r.push(n(cap.cap));
        }
        rows.push((false, r));
    }
    let mut total = vec![t("合计"), t("")];
    total.extend(counts(c));
    rows.push((false, total));
    rows
}

fn write_notes(
    ws: &mut Worksheet,
    list: &Whitelist,
    inputs: &[InputFile],
) -> Result<(), XlsxError> {
    let bold = XFormat::new().set_bold().set_background_color(0xE7E6E6);
    let date = XFormat::new().set_num_format("yyyy-mm-dd");
    let mut widths: Vec<f64> = Vec::new();
    ws.write_string_with_format(0, 0, "项目", &bold)?;
    ws.write_string_with_format(0, 1, "内容", &bold)?;
    ws.set_freeze_panes(1, 0)?;
    for (i, (header, cells)) in notes_rows(list, inputs).into_iter().enumerate() {
        let r = i as u32 + 1;
        for (j, cell) in cells.iter().enumerate() {
            let c = j as u16;
            let w = match cell {
                Cell::Text(s) if header => {
                    ws.write_string_with_format(r, c, s, &bold)?;
                    text_width(s)
                }
                Cell::Text(s) => {
                    ws.write_string(r, c, s)?;
                    text_width(s)
                }
                Cell::Num(v) => {
                    ws.write_number(r, c, *v)?;
                    format!("{v}").len() as f64
                }
                Cell::Date(d) => {
                    let dt = ExcelDateTime::from_serial_datetime(d.to_excel_serial())?;
                    ws.write_datetime_with_format(r, c, &dt, &date)?;
                    10.0
                }
            };
            if widths.len() <= j {
                widths.resize(j + 1, text_width("项目") + 2.0);
            }
            widths[j] = widths[j].max(w + 2.0);
        }
    }
    for (j, w) in widths.iter().enumerate() {
        ws.set_column_width(j as u16, w.min(60.0))?;
    }
    Ok(())
}

fn build_workbook(list: &Whitelist, inputs: &[InputFile], path: &Path) -> Result<Workbook> {
    let xerr = |e: XlsxError| Error::Xlsx {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let listed = by_district(list.listed());
    let new = by_district(list.with_status(Status::New));
    let removed = by_district(list.with_status(Status::Removed));
    let mut waitlisted: Vec<&Entry> = list.with_status(Status::Waitlisted).collect();
    waitlisted.sort_by(|a, b| {
        (a.district, a.waitlist_rank, &a.uscc).cmp(&(b.district, b.waitlist_rank, &b.uscc))
    });
    let max = crate::table::xlsx::MAX_DATA_ROWS as usize;
    if [listed.len(), removed.len(), waitlisted.len()]
        .iter()
        .any(|&n| n > max)
    {
        return Err(Error::Xlsx {
            path: path.to_path_buf(),
            message: format!(
                "an Excel sheet holds at most {max} rows; write .csv or .jsonl for a list this long"
            ),
        });
    }
    let mut wb = new_workbook();
    add_sheet(&mut wb, sheets::LIST, &list_sheet(&listed, true, path)?).map_err(xerr)?;
    add_sheet(&mut wb, sheets::NEW, &list_sheet(&new, false, path)?).map_err(xerr)?;
    add_sheet(
        &mut wb,
        sheets::REMOVED,
        &removed_sheet(&removed, list.params.as_of, path)?,
    )
    .map_err(xerr)?;
    if list.params.cap_share.is_some() {
        add_sheet(
            &mut wb,
            sheets::WAITLIST,
            &waitlist_sheet(&waitlisted, path)?,
        )
        .map_err(xerr)?;
    }
    let ws = wb.add_worksheet();
    ws.set_name(sheets::NOTES).map_err(xerr)?;
    write_notes(ws, list, inputs).map_err(xerr)?;
    Ok(wb)
}

/// Writes the workbook atomically (temporary file beside `path`, then rename).
pub fn write_xlsx(path: &Path, list: &Whitelist, inputs: &[InputFile]) -> Result<()> {
    let mut wb = build_workbook(list, inputs, path)?;
    // Removed again if saving or renaming fails: nothing is left behind.
    let tmp = TempFile::new(path);
    wb.save(tmp.tmp()).map_err(|e| Error::Xlsx {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    tmp.commit()
}
