//! Writing Arrow record batches into Excel worksheets for bureau staff: a bold, frozen header row,
//! numbers as numbers, booleans as 是/否-style text only if the batch says so, `Date32` columns as
//! real Excel dates, and column widths that fit their contents (CJK characters count double).
//! Text cells are always written as strings (`write_string`), never as formulas, whatever they
//! begin with. Text columns the caller marks as numeric (columns passed through from a CSV input,
//! where every cell arrives as text) have their plain decimal numbers written as numbers.
//! Used by the generic XLSX writer and by commands that build multi-sheet workbooks.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Float64Type, Int32Type, Int64Type, UInt8Type, UInt32Type, UInt64Type,
};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use crate::date::Date;

/// Excel's last row index is 1 048 575 (one of them the header).
pub const MAX_DATA_ROWS: u64 = 1_048_575;

/// A workbook whose bytes depend only on its contents (fixed creation time).
pub fn new_workbook() -> Workbook {
    let mut wb = Workbook::new();
    // A fixed creation time keeps the file reproducible (SPEC: same inputs → same bytes).
    if let Ok(t) = ExcelDateTime::from_ymd(2000, 1, 1) {
        wb.set_properties(&DocProperties::new().set_creation_datetime(&t));
    }
    wb
}

/// Display width of text in Excel character units (CJK and full-width count 2).
pub fn text_width(s: &str) -> f64 {
    s.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2.0 } else { 1.0 })
        .sum()
}

/// Writes a header and batches into one worksheet, tracking column widths.
pub struct SheetWriter {
    widths: Vec<f64>,
    next_row: u32,
    header: Format,
    date: Format,
    number: Format,
    /// Per column: text that is a plain decimal number is written as a number.
    numeric_text: Vec<bool>,
}

/// A plain decimal number as text, the way a number passed through from a CSV input looks:
/// `[+-]digits[.digits]`, no leading zero before other digits (`007` is a code, not 7), at most 15
/// significant digits (an 18-digit identifier stays text: Excel would round it).
///
/// ```
/// use spotcheck::table::xlsx::plain_number;
/// assert_eq!(plain_number("5"), Some(5.0));
/// assert_eq!(plain_number("-202.85"), Some(-202.85));
/// assert_eq!(plain_number("0.5"), Some(0.5));
/// assert_eq!(plain_number("007"), None);
/// assert_eq!(plain_number("911101081234567890"), None);
/// assert_eq!(plain_number("1e5"), None);
/// assert_eq!(plain_number("-2+3"), None);
/// ```
pub fn plain_number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let body = match b.first()? {
        b'+' | b'-' => &b[1..],
        _ => b,
    };
    let (int, frac) = match body.iter().position(|&c| c == b'.') {
        Some(k) => (&body[..k], Some(&body[k + 1..])),
        None => (body, None),
    };
    let digits = |d: &[u8]| d.iter().all(u8::is_ascii_digit);
    let ok = !int.is_empty()
        && digits(int)
        && (int.len() == 1 || int[0] != b'0')
        && frac.is_none_or(|f| !f.is_empty() && digits(f));
    let significant = int.iter().skip_while(|&&c| c == b'0').count() + frac.map_or(0, <[u8]>::len);
    if !ok || significant > 15 {
        return None;
    }
    s.parse().ok()
}

impl SheetWriter {
    /// Writes the header row (bold, frozen) and prepares widths.
    pub fn new(ws: &mut Worksheet, headers: &[&str]) -> Result<Self, XlsxError> {
        let header = Format::new().set_bold().set_background_color(0xE7E6E6);
        for (j, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, j as u16, *h, &header)?;
        }
        ws.set_freeze_panes(1, 0)?;
        Ok(SheetWriter {
            widths: headers.iter().map(|h| text_width(h) + 2.0).collect(),
            next_row: 1,
            header,
            date: Format::new().set_num_format("yyyy-mm-dd"),
            number: Format::new().set_num_format("General"),
            numeric_text: vec![false; headers.len()],
        })
    }

    /// Marks the text columns whose plain decimal numbers ([`plain_number`]) are written as
    /// numbers (`numeric[j]` for sheet column j): the columns a command passes through from its
    /// input as text.
    pub fn with_numeric_text(mut self, numeric: Vec<bool>) -> Self {
        self.numeric_text = numeric;
        self
    }

    /// Rows written so far (header excluded).
    pub fn rows(&self) -> u64 {
        u64::from(self.next_row - 1)
    }

    /// The header format, for extra header-like rows.
    pub fn header_format(&self) -> &Format {
        &self.header
    }

    fn widen(&mut self, j: usize, w: f64) {
        if let Some(cur) = self.widths.get_mut(j) {
            *cur = cur.max(w + 2.0);
        }
    }

    /// Appends a batch's rows; column j of the batch goes to sheet column j.
    pub fn write_batch(
        &mut self,
        ws: &mut Worksheet,
        batch: &RecordBatch,
    ) -> Result<(), XlsxError> {
        for (j, col) in batch.columns().iter().enumerate() {
            let c = j as u16;
            for i in 0..batch.num_rows() {
                let r = self.next_row + i as u32;
                if col.is_null(i) {
                    continue;
                }
                match col.data_type() {
                    DataType::Utf8 => {
                        let s = col.as_string::<i32>().value(i);
                        let number = self
                            .numeric_text
                            .get(j)
                            .copied()
                            .unwrap_or(false)
                            .then(|| plain_number(s))
                            .flatten();
                        match number {
                            Some(v) => {
                                ws.write_number_with_format(r, c, v, &self.number)?;
                            }
                            None => {
                                ws.write_string(r, c, s)?;
                            }
                        }
                        self.widen(j, text_width(s));
                    }
                    DataType::LargeUtf8 => {
                        let s = col.as_string::<i64>().value(i);
                        ws.write_string(r, c, s)?;
                        self.widen(j, text_width(s));
                    }
                    DataType::Boolean => {
                        ws.write_boolean(r, c, col.as_boolean().value(i))?;
                        self.widen(j, 5.0);
                    }
                    DataType::Date32 => {
                        let d = Date::from_days(i64::from(
                            col.as_primitive::<arrow::datatypes::Date32Type>().value(i),
                        ));
                        let dt = ExcelDateTime::from_serial_datetime(d.to_excel_serial())?;
                        ws.write_datetime_with_format(r, c, &dt, &self.date)?;
                        self.widen(j, 10.0);
                    }
                    t => {
                        let v = match t {
                            DataType::Float64 => Some(col.as_primitive::<Float64Type>().value(i)),
                            DataType::Int64 => {
                                Some(col.as_primitive::<Int64Type>().value(i) as f64)
                            }
                            DataType::Int32 => {
                                Some(f64::from(col.as_primitive::<Int32Type>().value(i)))
                            }
                            DataType::UInt64 => {
                                Some(col.as_primitive::<UInt64Type>().value(i) as f64)
                            }
                            DataType::UInt32 => {
                                Some(f64::from(col.as_primitive::<UInt32Type>().value(i)))
                            }
                            DataType::UInt8 => {
                                Some(f64::from(col.as_primitive::<UInt8Type>().value(i)))
                            }
                            _ => None,
                        };
                        match v {
                            Some(v) => {
                                ws.write_number_with_format(r, c, v, &self.number)?;
                                self.widen(j, format!("{v}").len().min(14) as f64);
                            }
                            None => {
                                let s = arrow::util::display::array_value_to_string(col, i)
                                    .unwrap_or_default();
                                ws.write_string(r, c, &s)?;
                                self.widen(j, text_width(&s));
                            }
                        }
                    }
                }
            }
        }
        self.next_row += batch.num_rows() as u32;
        Ok(())
    }

    /// Sets the fitted column widths (capped at 60 characters).
    pub fn finish(self, ws: &mut Worksheet) -> Result<(), XlsxError> {
        for (j, w) in self.widths.iter().enumerate() {
            ws.set_column_width(j as u16, w.min(60.0))?;
        }
        Ok(())
    }
}

impl SheetWriter {
    /// An empty writer, used only to move a real one out of a struct.
    pub(crate) fn placeholder() -> Self {
        SheetWriter {
            widths: Vec::new(),
            next_row: 1,
            header: Format::new(),
            date: Format::new(),
            number: Format::new(),
            numeric_text: Vec::new(),
        }
    }
}
