//! Reading a previous 正面清单 back (SPEC §5, `--previous`): any format `spotcheck whitelist`
//! writes (the XLSX's 正面清单 sheet, CSV with or without BOM, JSON Lines), also after a person
//! edited it in Excel — extra or reordered columns, Chinese headers, dates as Excel dates or as
//! text (`2026-01-05`, `2026/1/5`, `2026年1月5日`, `20260105`). Rows whose status is removed or
//! waitlisted are not on the list and are skipped; a blank status, or a file without a status
//! column, means the row is on the list. A bad row is an error naming the file, the row (1-based,
//! header excluded), the column as headed in the file and the value.

use std::collections::HashMap;
use std::path::Path;

use super::{PreviousEntry, Status, cols};
use crate::date::Date;
use crate::table::cells::TextColumn;
use crate::table::{ColumnMap, Format, ReadOptions};
use crate::uscc::{UsccCheck, check};
use crate::{Error, Result, district};

/// The sheet of our workbook that holds the list.
pub const LIST_SHEET: &str = "正面清单";

/// Status words of hand-made lists that mean "on the list" without a lifecycle status.
const ON_LIST_WORDS: &[&str] = &[
    "listed",
    "on list",
    "在列",
    "在清单",
    "已纳入",
    "纳入",
    "正常",
    "有效",
];

/// Dates a cell may hold, for error messages.
const DATE_EXPECTED: &str = "a date such as 2026-01-05 (also 2026/1/5, 2026年1月5日)";

/// Reads the enterprises on a previous list.
///
/// For an XLSX file the sheet named 正面清单 is read when it exists (else `opts.sheet`, else the
/// first sheet). Required columns: uscc, name, district, listed_on, expires_on (English or Chinese
/// headers, see `cols`); status is optional. Returns the rows on the list in file order.
pub fn read_previous(path: &Path, opts: &ReadOptions) -> Result<Vec<PreviousEntry>> {
    let format = Format::from_path(path)?;
    let mut opts = opts.clone();
    if format == Format::Xlsx && opts.sheet.is_none() {
        // Measured before calamine opens it (an XLSX bomb is refused here, not read).
        crate::table::xlsx_read::check_zip_sizes(path, opts.max_xlsx_bytes)?;
        if has_sheet(path, LIST_SHEET) {
            opts.sheet = Some(LIST_SHEET.to_string());
        }
    }
    let known = [
        cols::USCC,
        cols::NAME,
        cols::DISTRICT,
        cols::STATUS,
        cols::LISTED_ON,
        cols::EXPIRES_ON,
    ];
    let required = [
        cols::USCC,
        cols::NAME,
        cols::DISTRICT,
        cols::LISTED_ON,
        cols::EXPIRES_ON,
    ];
    // A title row above the header (a list someone retitled in Excel) is passed over.
    opts.header = Some(std::sync::Arc::new(move |names: &[String]| {
        required.iter().all(|c| names.iter().any(|n| c.matches(n)))
    }));
    let mut reader = crate::table::open(path, &opts)?;
    let schema = reader.schema();
    let map = ColumnMap::resolve(&schema, &known, &required, path)?;
    // Invariant: resolve() checked that every required column is present.
    let [cu, cn, cd, cl, ce] = required.map(|c| map.get(&c).expect("required column resolved"));
    let cs = map.get(&cols::STATUS);
    let header = |j: usize| schema.field(j).name().clone();
    let bad = |row: u64, j: usize, value: &str, expected: &str| Error::BadValue {
        path: path.to_path_buf(),
        row,
        column: header(j),
        value: value.to_string(),
        expected: expected.to_string(),
    };
    let excel = format == Format::Xlsx;

    let mut out: Vec<PreviousEntry> = Vec::new();
    let mut first_row: HashMap<String, u64> = HashMap::new();
    while let Some(numbered) = reader.next_numbered() {
        let numbered = numbered?;
        let batch = numbered.batch;
        let text = |j: usize| TextColumn::new(batch.column(j), path);
        let (us, na, di, li, ex) = (text(cu)?, text(cn)?, text(cd)?, text(cl)?, text(ce)?);
        let st = cs.map(text).transpose()?;
        for i in 0..batch.num_rows() {
            // The file's row minus one (blank and total rows skipped keep their numbers).
            let row = numbered.first_row + i as u64;
            let status = match st.as_ref().and_then(|s| s.get(i)) {
                None => None,
                Some(s) if is_on_list_word(s) => None,
                // Invariant: cs is Some whenever st is.
                Some(s) => Some(
                    Status::parse(s)
                        .ok_or_else(|| bad(row, cs.expect("status column"), s, Status::EXPECTED))?,
                ),
            };
            if status.is_some_and(|s| !s.is_listed()) {
                continue;
            }
            let code = us.get(i).unwrap_or("");
            let uscc = match check(code) {
                UsccCheck::Valid(c) | UsccCheck::BadChecksum(c) => c,
                UsccCheck::Malformed => {
                    return Err(bad(
                        row,
                        cu,
                        code,
                        "an 18-character unified social credit code (GB 32100-2015)",
                    ));
                }
            };
            if let Some(first) = first_row.get(&uscc) {
                return Err(bad(
                    row,
                    cu,
                    &uscc,
                    &format!("listed once (it is already on row {first})"),
                ));
            }
            let d = di.get(i).unwrap_or("");
            let district = district::parse(d).ok_or_else(|| bad(row, cd, d, district::EXPECTED))?;
            let date = |col: &TextColumn, j: usize| {
                let s = col.get(i).unwrap_or("");
                parse_date(s, excel).ok_or_else(|| bad(row, j, s, DATE_EXPECTED))
            };
            let listed_on = date(&li, cl)?;
            let expires_on = date(&ex, ce)?;
            if expires_on <= listed_on {
                return Err(bad(
                    row,
                    ce,
                    ex.get(i).unwrap_or(""),
                    &format!("a date after the listing date {listed_on}"),
                ));
            }
            first_row.insert(uscc.clone(), row);
            out.push(PreviousEntry {
                uscc,
                name: na.get(i).unwrap_or("").to_string(),
                district,
                status,
                listed_on,
                expires_on,
            });
        }
    }
    Ok(out)
}

fn is_on_list_word(s: &str) -> bool {
    let n = crate::schema::norm(s);
    ON_LIST_WORDS.iter().any(|w| crate::schema::norm(w) == n)
}

fn has_sheet(path: &Path, sheet: &str) -> bool {
    use calamine::Reader;
    // Any failure here is reported properly by table::open, which opens the file again.
    match calamine::open_workbook::<calamine::Xlsx<_>, _>(path) {
        Ok(wb) => wb.sheet_names().iter().any(|s| s == sheet),
        Err(_) => false,
    }
}

/// Parses a date cell: `YYYY-MM-DD` (and `/` or `.` separators), `YYYY年M月D日`, `YYYYMMDD`, and,
/// in an XLSX file, an Excel serial number (a date cell formatted as a number).
pub fn parse_date(s: &str, excel: bool) -> Option<Date> {
    let s = s.trim();
    if let Some(d) = Date::parse_cell(s) {
        return Some(d);
    }
    if excel {
        let v: f64 = s.parse().ok()?;
        // 1 = 1900-01-01 … 2958465 = 9999-12-31, Excel's own range.
        if (1.0..=2_958_465.0).contains(&v) {
            return Some(Date::from_excel_serial(v));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_spellings() {
        let d = Date::new(2026, 1, 5);
        assert_eq!(parse_date("2026-01-05", false), d);
        assert_eq!(parse_date("2026/1/5", false), d);
        assert_eq!(parse_date("2026年1月5日", false), d);
        assert_eq!(parse_date("20260105", false), d);
        assert_eq!(parse_date("2026-01-05 00:00:00", false), d);
        // Excel shows serial 46027 as 2026-01-05 (46357 is 2026-12-01, see date.rs; 330 days earlier).
        assert_eq!(parse_date("46027", true), d);
        // Serials of 1950–2099 read from any format (a CSV saved from Excel keeps the number);
        // wider ones only from XLSX, where a cell is known to be a number.
        assert_eq!(parse_date("46027", false), d);
        assert_eq!(parse_date("2026", false), None);
        assert_eq!(parse_date("2026", true), Date::new(1905, 7, 18));
        assert_eq!(parse_date("2026年2月30日", false), None);
        assert_eq!(parse_date("明年", true), None);
        assert_eq!(parse_date("", true), None);
    }

    #[test]
    fn status_words() {
        assert!(is_on_list_word("在列"));
        assert!(is_on_list_word(" Listed "));
        assert!(!is_on_list_word("移出"));
    }
}
