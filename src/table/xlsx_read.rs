//! Reading an XLSX worksheet as bureaus export them (SPEC §12): the workbook's parts are measured
//! before anything is parsed (an XLSX bomb — a small zip whose parts decompress to gigabytes — is
//! refused past `--max-xlsx-bytes`, counting the bytes actually inflated, since a zip's size
//! headers can lie); the sheet is `--sheet NAME|N` or the first whose first rows hold the
//! required columns; the header is the first of the first rows that holds them (a merged title
//! row above it is passed over); cells are streamed (never a dense range, so a stray cell at
//! `XFD1048576` costs nothing), more than 10 000 columns is an error; merged regions in data rows
//! read as their top-left value; blank and total rows are skipped and counted. Every row keeps
//! its row number in the sheet. The writer is `xlsx.rs`.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use arrow::datatypes::SchemaRef;
use calamine::{DataRef, Reader, Xlsx};

use super::layout::{
    HEADER_SEARCH_ROWS, HeaderProbe, Layout, MAX_COLUMNS, Numbered, RowKind, Skipped, classify,
    human_bytes,
};
use crate::date::Date;
use crate::{Error, Result};

/// A worksheet read whole: its header, its data rows in batches, where it was found.
pub(crate) struct XlsxTable {
    pub schema: SchemaRef,
    pub batches: Vec<Numbered>,
    pub layout: Layout,
    pub skipped: Skipped,
}

fn bad(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::BadFile {
        path: path.to_path_buf(),
        format: "XLSX",
        message: message.to_string(),
    }
}

fn too_large(path: &Path, total: u64, limit: u64) -> Error {
    Error::TooLarge {
        path: path.to_path_buf(),
        what: format!(
            "the workbook's parts decompress to {} or more",
            if total > limit {
                human_bytes(total)
            } else {
                format!("more than {}", human_bytes(limit))
            }
        ),
        limit: human_bytes(limit),
        hint: "; raise --max-xlsx-bytes if the workbook is genuine, or save it as CSV".into(),
    }
}

/// Inflates every part of the workbook, counting bytes, and fails once they pass `limit`: the
/// declared sizes first (cheap), then the bytes actually produced (memory stays one buffer).
pub(crate) fn check_zip_sizes(path: &Path, limit: u64) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| bad(path, format!("not an XLSX workbook (a zip archive): {e}")))?;
    let declared: u64 = (0..zip.len())
        .filter_map(|i| zip.by_index_raw(i).ok().map(|f| f.size()))
        .fold(0u64, u64::saturating_add);
    if declared > limit {
        return Err(too_large(path, declared, limit));
    }
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..zip.len() {
        let mut part = zip
            .by_index(i)
            .map_err(|e| bad(path, format!("part {i} of the workbook: {e}")))?;
        loop {
            let n = match part.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let name = part.name().map(|n| n.into_owned()).unwrap_or_default();
                    return Err(bad(path, format!("part {name:?} of the workbook: {e}")));
                }
            };
            total += n as u64;
            if total > limit {
                return Err(too_large(path, total, limit));
            }
        }
    }
    Ok(())
}

/// A cell as text: whole numbers without `.0`, dates as `YYYY-MM-DD`, errors as `#NAME`.
fn cell_text(cell: &DataRef<'_>) -> Option<String> {
    match cell {
        DataRef::Empty => None,
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Some(s.clone()),
        DataRef::SharedString(s) => Some((*s).to_string()),
        DataRef::Int(i) => Some(i.to_string()),
        DataRef::Float(f) => Some(if f.fract() == 0.0 && f.abs() < 1e15 {
            format!("{}", *f as i64)
        } else {
            f.to_string()
        }),
        DataRef::Bool(b) => Some(b.to_string()),
        DataRef::DateTime(d) => Some(Date::from_excel_serial(d.as_f64()).to_string()),
        DataRef::Error(e) => Some(format!("#{e:?}")),
    }
}

/// Streams a sheet's rows: (0-based row index, cells as text, trailing empties trimmed).
struct Rows<'a, R: Read + std::io::Seek> {
    cells: calamine::XlsxCellReader<'a, R>,
    path: &'a Path,
    held: Option<(u32, u32, Option<String>)>,
    done: bool,
}

impl<'a, R: Read + std::io::Seek> Rows<'a, R> {
    fn next_row(&mut self) -> Result<Option<(u32, Vec<Option<String>>)>> {
        let mut row: Option<(u32, Vec<Option<String>>)> = None;
        loop {
            let cell = match self.held.take() {
                Some(c) => Some(c),
                None if self.done => None,
                None => match self.cells.next_cell().map_err(|e| bad(self.path, e))? {
                    Some(c) => {
                        let (r, col) = c.get_position();
                        Some((r, col, cell_text(c.get_value())))
                    }
                    None => {
                        self.done = true;
                        None
                    }
                },
            };
            let Some((r, c, text)) = cell else {
                return Ok(row);
            };
            if c as usize >= MAX_COLUMNS {
                return Err(Error::TooLarge {
                    path: self.path.to_path_buf(),
                    what: format!(
                        "row {} has a cell in column {}",
                        u64::from(r) + 1,
                        u64::from(c) + 1
                    ),
                    limit: format!("{MAX_COLUMNS} columns"),
                    hint: String::new(),
                });
            }
            match &mut row {
                Some((at, _)) if *at != r => {
                    self.held = Some((r, c, text));
                    return Ok(row);
                }
                Some((_, cells)) => put(cells, c as usize, text),
                None => {
                    let mut cells = Vec::new();
                    put(&mut cells, c as usize, text);
                    row = Some((r, cells));
                }
            }
        }
    }
}

fn put(cells: &mut Vec<Option<String>>, c: usize, text: Option<String>) {
    if text.is_none() {
        return;
    }
    if cells.len() <= c {
        cells.resize(c + 1, None);
    }
    cells[c] = text;
}

fn trimmed(cells: &[Option<String>]) -> Vec<String> {
    cells
        .iter()
        .map(|c| c.as_deref().unwrap_or("").trim().to_string())
        .collect()
}

fn is_blank(cells: &[Option<String>]) -> bool {
    cells
        .iter()
        .all(|c| c.as_deref().is_none_or(|s| s.trim().is_empty()))
}

/// The first of the first rows of `sheet` that `probe` accepts, as (row index, names).
fn find_header<R: Read + std::io::Seek>(
    wb: &mut Xlsx<R>,
    sheet: &str,
    path: &Path,
    probe: &HeaderProbe,
) -> Result<Option<u32>> {
    let cells = wb.worksheet_cells_reader(sheet).map_err(|e| bad(path, e))?;
    let mut rows = Rows {
        cells,
        path,
        held: None,
        done: false,
    };
    for _ in 0..HEADER_SEARCH_ROWS {
        let Some((r, cells)) = rows.next_row()? else {
            break;
        };
        if probe(&trimmed(&cells)) {
            return Ok(Some(r));
        }
    }
    Ok(None)
}

/// Opens an XLSX file and reads the chosen sheet (see the module comment).
pub(crate) fn read_xlsx(
    path: &Path,
    sheet: Option<&str>,
    probe: Option<&HeaderProbe>,
    max_bytes: u64,
    batch_rows: usize,
) -> Result<XlsxTable> {
    check_zip_sizes(path, max_bytes)?;
    let mut wb: Xlsx<_> = calamine::open_workbook(path).map_err(|e| match e {
        calamine::XlsxError::Io(e) => Error::io(path, e),
        e => bad(path, e),
    })?;
    let names = wb.sheet_names();
    if names.is_empty() {
        return Err(bad(path, "the workbook has no sheet"));
    }
    let mut searched = false;
    let mut header_at: Option<u32> = None;
    let chosen = match sheet {
        Some(s) => {
            if names.iter().any(|n| n == s) {
                s.to_string()
            } else if let Some(n) = s
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=names.len()).contains(n))
            {
                names[n - 1].clone()
            } else {
                return Err(bad(
                    path,
                    format!(
                        "no sheet named {s:?} and no sheet number {s} (sheets: {})",
                        names.join(", ")
                    ),
                ));
            }
        }
        None => {
            let mut chosen = names[0].clone();
            if let Some(p) = probe {
                for (k, n) in names.iter().enumerate() {
                    if let Some(r) = find_header(&mut wb, n, path, p)? {
                        chosen = n.clone();
                        searched = k > 0;
                        header_at = Some(r);
                        break;
                    }
                }
            }
            chosen
        }
    };
    if header_at.is_none()
        && let Some(p) = probe
    {
        header_at = find_header(&mut wb, &chosen, path, p)?;
    }
    let merged = wb
        .merge_cells_by_sheet_name(&chosen)
        .map_err(|e| bad(path, e))?;
    let cells = wb
        .worksheet_cells_reader(&chosen)
        .map_err(|e| bad(path, e))?;
    let mut rows = Rows {
        cells,
        path,
        held: None,
        done: false,
    };
    // The header: the row found above, else the first row with a value.
    let (header_row, header) = loop {
        let Some((r, cells)) = rows.next_row()? else {
            return Err(Error::EmptyFile {
                path: path.to_path_buf(),
                expected: format!("a header row in sheet {chosen:?}"),
            });
        };
        let take = match header_at {
            Some(h) => r >= h,
            None => !is_blank(&cells),
        };
        if take {
            break (r, trimmed(&cells));
        }
    };
    let width = header
        .iter()
        .rposition(|h| !h.is_empty())
        .map_or(0, |i| i + 1);
    let header = &header[..width];
    let schema = super::read::utf8_schema(header);
    let mut fill = MergeFill::new(merged, header_row, width);
    let mut skipped = Skipped::default();
    let mut batches = Vec::new();
    let mut builders: Vec<StringBuilder> = (0..width).map(|_| StringBuilder::new()).collect();
    let mut first: Option<u32> = None;
    let mut last = header_row;
    let mut n = 0usize;
    let flush = |builders: &mut [StringBuilder], first: u32, batches: &mut Vec<Numbered>| {
        let cols: Vec<ArrayRef> = builders
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), cols).map_err(|e| bad(path, e))?;
        batches.push(Numbered {
            batch,
            first_row: u64::from(first),
        });
        Ok::<(), Error>(())
    };
    while let Some((r, mut cells)) = rows.next_row()? {
        // Rows absent from the sheet between two present ones are blank rows.
        skipped.blank += u64::from(r.saturating_sub(last.saturating_add(1)));
        last = r;
        cells.truncate(width);
        fill.remember(r, &cells);
        let kind = if is_blank(&cells) {
            RowKind::Blank
        } else {
            fill.apply(r, &mut cells);
            classify(cells.iter().map(|c| c.as_deref()))
        };
        match kind {
            RowKind::Blank => skipped.blank += 1,
            RowKind::Total => skipped.total += 1,
            RowKind::Data => {}
        }
        let contiguous = first.is_some_and(|f| r as usize == f as usize + n);
        if (kind != RowKind::Data || !contiguous || n == batch_rows)
            && let Some(f) = first.take()
        {
            flush(&mut builders, f, &mut batches)?;
            n = 0;
        }
        if kind != RowKind::Data {
            continue;
        }
        if first.is_none() {
            first = Some(r);
        }
        for (j, b) in builders.iter_mut().enumerate() {
            match cells.get(j).and_then(|c| c.as_deref()) {
                Some(s) => b.append_value(s),
                None => b.append_null(),
            }
        }
        n += 1;
    }
    if let Some(f) = first {
        flush(&mut builders, f, &mut batches)?;
    }
    Ok(XlsxTable {
        schema,
        batches,
        layout: Layout {
            sheet_index: names
                .iter()
                .position(|n| *n == chosen)
                .map_or(0, |i| i as u64 + 1),
            sheet: Some(chosen),
            sheet_searched: searched,
            header_row: u64::from(header_row) + 1,
        },
        skipped,
    })
}

/// Merged regions below the header: each cell of a region reads as the region's top-left value
/// (a district merged down the rows of its enterprises, say). The header row itself is not
/// filled, so a header merged across two columns does not name both.
struct MergeFill {
    /// Regions that reach below the header, by first row.
    regions: Vec<calamine::Dimensions>,
    /// Top-left values seen, by region index.
    values: HashMap<usize, String>,
    /// The first region whose first row has not been reached.
    next: usize,
    width: usize,
}

impl MergeFill {
    fn new(mut regions: Vec<calamine::Dimensions>, header_row: u32, width: usize) -> Self {
        regions.retain(|d| d.end.0 > header_row && (d.start.1 as usize) < width);
        regions.sort_by_key(|d| d.start);
        MergeFill {
            regions,
            values: HashMap::new(),
            next: 0,
            width,
        }
    }

    /// Records the top-left values of regions starting on row `r` (rows come in order), and
    /// forgets regions that ended above it.
    fn remember(&mut self, r: u32, cells: &[Option<String>]) {
        while self.next < self.regions.len() && self.regions[self.next].start.0 <= r {
            let d = self.regions[self.next];
            if d.start.0 == r
                && let Some(Some(v)) = cells.get(d.start.1 as usize)
            {
                self.values.insert(self.next, v.clone());
            }
            self.next += 1;
        }
        let regions = &self.regions;
        self.values.retain(|k, _| regions[*k].end.0 >= r);
    }

    /// Fills the empty cells of row `r` that lie in a region whose top-left value is known.
    fn apply(&self, r: u32, cells: &mut Vec<Option<String>>) {
        if self.values.is_empty() {
            return;
        }
        for (k, v) in &self.values {
            let d = &self.regions[*k];
            if r < d.start.0 || r > d.end.0 {
                continue;
            }
            let hi = (d.end.1 as usize).min(self.width.saturating_sub(1));
            for c in d.start.1 as usize..=hi {
                if cells.len() <= c {
                    cells.resize(c + 1, None);
                }
                if cells[c].is_none() {
                    cells[c] = Some(v.clone());
                }
            }
        }
    }
}
