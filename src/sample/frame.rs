//! `SampleFrame`: the sampling frame (抽查对象名录库) a draw reads, one unit per scored enterprise,
//! column by column like `EnterpriseBatch`. The CLI fills it from a scored table (SPEC §3.6); the
//! sampler needs the code, district and tier (strata), and per department the ratio and the yearly
//! maximum; name, credit class and risk score ride along for the output rows. Codes must be
//! unique, as the readers guarantee (§2.1 `USCC_DUPLICATE`); the draw still refuses two eligible
//! units with the same code. Names are kept in the pieces they were read in (`Names`), or, for a
//! Parquet or Arrow IPC frame, left in the file and read back for the drawn units only (a
//! national frame then holds no names): only the drawn units' names are ever looked at.

use std::path::{Path, PathBuf};

use arrow::array::{Array, StringArray};
use rayon::prelude::*;

use crate::schema::{CreditClass, Department, Tier};
use crate::{Error, Result};

/// One unit, row-wise: what `SampleFrame::from_units` takes (tests, vectors, small frames).
#[derive(Debug, Clone, PartialEq)]
pub struct FrameUnit {
    /// 统一社会信用代码, upper-cased.
    pub uscc: String,
    /// 企业名称.
    pub name: String,
    /// 所属区, 6-digit code.
    pub district: u32,
    /// 企业梯度.
    pub tier: Tier,
    /// 信用风险分类 (as scored).
    pub credit_class: Option<CreditClass>,
    /// 市场监管抽查比例, in [0, 1].
    pub market_ratio: f64,
    /// 市场监管年度抽查上限.
    pub market_max_per_year: u32,
    /// 生态环境现场检查比例, in [0, 1] (0 for 正面清单 enterprises).
    pub eco_ratio: f64,
    /// 生态环境年度现场检查上限.
    pub eco_max_per_year: u32,
    /// 综合风险分.
    pub risk_score: Option<f64>,
}

/// The frame's names, kept in the pieces they were read in (one per record batch, so a
/// national frame's names are never copied into one array); only drawn units' names are looked
/// up.
#[derive(Debug, Clone, Default)]
pub struct Names {
    parts: Vec<StringArray>,
    /// Index of the first name of each part.
    starts: Vec<usize>,
    len: usize,
    /// Names left in their file (a Parquet or Arrow IPC frame): read back for the units asked
    /// for (`SampleFrame::fetch_names`), so a national frame holds no names at all.
    file: Option<FileNames>,
}

/// Where the names of a frame left in its file are: the file, its name column, and for every
/// run of units the file row of the first (units of a run are consecutive rows).
#[derive(Debug, Clone)]
pub struct FileNames {
    path: PathBuf,
    /// The name column's header in the file.
    column: String,
    /// Size and modification time when the frame was read: a file changed since is refused.
    stamp: (u64, Option<std::time::SystemTime>),
    /// `(first unit, its file row)` of each run, by first unit ascending.
    runs: Vec<(usize, u64)>,
    /// The names read back, by unit, ascending.
    fetched: Fetched,
}

/// Names read back from the file: the units ascending, and their names in the same order (apart,
/// so looking a unit up searches a compact array of numbers).
#[derive(Debug, Clone, Default)]
struct Fetched {
    units: Vec<usize>,
    names: Vec<String>,
}

impl Fetched {
    /// From `(unit, name)` pairs in any order.
    fn new(mut pairs: Vec<(usize, String)>) -> Fetched {
        pairs.sort_unstable_by_key(|(u, _)| *u);
        let (units, names) = pairs.into_iter().unzip();
        Fetched { units, names }
    }

    /// The name of `unit`, if it was read back.
    fn get(&self, unit: usize) -> Option<&str> {
        let k = self.units.binary_search(&unit).ok()?;
        Some(self.names[k].as_str())
    }
}

/// Size and modification time of a file.
fn stamp(path: &Path) -> Result<(u64, Option<std::time::SystemTime>)> {
    let m = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    Ok((m.len(), m.modified().ok()))
}

impl FileNames {
    /// Names of the units of `path` (a Parquet or Arrow IPC file whose name column is headed
    /// `column`), to be read back later; the file's size and time are taken now.
    pub fn new(path: &Path, column: &str) -> Result<FileNames> {
        Ok(FileNames {
            path: path.to_path_buf(),
            column: column.to_string(),
            stamp: stamp(path)?,
            runs: Vec::new(),
            fetched: Fetched::default(),
        })
    }

    /// Adds `n` units read from file rows `first_row..`, except the rows in `skip` (ascending):
    /// the units of a run of a batch; `units` is the number of units before them.
    pub fn push_rows(&mut self, units: usize, first_row: u64, n: usize, skip: &[u64]) {
        let mut unit = units;
        let mut skip = skip.iter().peekable();
        let mut open = false;
        for row in first_row..first_row + n as u64 {
            if skip.peek() == Some(&&row) {
                skip.next();
                open = false;
                continue;
            }
            if !open {
                self.runs.push((unit, row));
                open = true;
            }
            unit += 1;
        }
    }

    /// The file row of unit `i`.
    fn row(&self, i: usize) -> u64 {
        let r = self.runs.partition_point(|&(u, _)| u <= i) - 1;
        let (u, row) = self.runs[r];
        row + (i - u) as u64
    }

    /// Keeps the units whose `keep` is true (one flag per unit).
    fn retain(&mut self, keep: &[bool]) {
        let mut runs = Vec::with_capacity(self.runs.len());
        let mut unit = 0;
        let mut last: Option<u64> = None;
        for (i, &k) in keep.iter().enumerate() {
            if !k {
                last = None;
                continue;
            }
            let row = self.row(i);
            if last.is_none_or(|l| l + 1 != row) {
                runs.push((unit, row));
            }
            last = Some(row);
            unit += 1;
        }
        self.runs = runs;
    }
}

impl Names {
    /// `len` names left in their file.
    pub fn in_file(file: FileNames, len: usize) -> Names {
        Names {
            len,
            file: Some(file),
            ..Names::default()
        }
    }

    /// Whether the names are left in their file (read back with [`Names::fetch`]).
    pub fn is_in_file(&self) -> bool {
        self.file.is_some()
    }

    /// Reads back the names of `units` (frame positions) when they were left in the file; the
    /// names fetched before are replaced. Nothing to do when the names are in memory.
    pub fn fetch(&mut self, units: impl IntoIterator<Item = usize>) -> Result<()> {
        let Some(f) = self.file.as_mut() else {
            return Ok(());
        };
        let mut wanted: Vec<(u64, usize)> = units
            .into_iter()
            .filter(|&i| i < self.len)
            .map(|i| (f.row(i), i))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        f.fetched = Fetched::default();
        if wanted.is_empty() {
            return Ok(());
        }
        let changed = || Error::BadFile {
            path: f.path.clone(),
            format: "table",
            message: "the file changed while the draw was being made: draw again".into(),
        };
        if stamp(&f.path)? != f.stamp {
            return Err(changed());
        }
        if crate::table::Format::from_path(&f.path)? == crate::table::Format::Parquet {
            // Only the row groups and pages holding a wanted row are read (the file's data rows
            // are numbered from 1, as `table::open` numbers them).
            let rows = wanted
                .iter()
                .map(|(row, _)| row.checked_sub(1))
                .collect::<Option<Vec<u64>>>()
                .ok_or_else(changed)?;
            let names = crate::table::read::parquet_rows_text(&f.path, &f.column, &rows)?;
            let fetched: Vec<(usize, String)> =
                wanted.iter().map(|&(_, unit)| unit).zip(names).collect();
            if stamp(&f.path)? != f.stamp {
                return Err(changed());
            }
            f.fetched = Fetched::new(fetched);
            return Ok(());
        }
        let column = f.column.clone();
        let keep: crate::table::read::ColumnFilter =
            std::sync::Arc::new(move |h: &str| h == column);
        // Every row, so a row whose name alone is blank is not skipped as a blank row.
        let opts = crate::table::ReadOptions {
            keep: Some(keep),
            every_row: true,
            ..crate::table::ReadOptions::default()
        };
        let mut reader = crate::table::open(&f.path, &opts)?;
        let mut next = wanted.iter().peekable();
        let mut fetched = Vec::with_capacity(wanted.len());
        while let Some(numbered) = reader.next_numbered() {
            let numbered = numbered?;
            let (first, n) = (numbered.first_row, numbered.batch.num_rows() as u64);
            if next.peek().is_none_or(|(row, _)| *row >= first + n) {
                continue;
            }
            let col = numbered
                .batch
                .column_by_name(&f.column)
                .ok_or_else(changed)?;
            let text = crate::table::cells::TextColumn::new(col, &f.path)?;
            while let Some(&&(row, unit)) = next.peek() {
                if row >= first + n {
                    break;
                }
                if row < first {
                    return Err(changed());
                }
                let j = (row - first) as usize;
                fetched.push((unit, text.get(j).unwrap_or("").to_string()));
                next.next();
            }
            if next.peek().is_none() {
                break;
            }
        }
        if next.peek().is_some() || stamp(&f.path)? != f.stamp {
            return Err(changed());
        }
        f.fetched = Fetched::new(fetched);
        Ok(())
    }

    /// Reads every name back from the file and keeps them in memory, so the file may go away
    /// (`sample --cluster` reads its frame through a temporary file). Nothing to do when the names
    /// are in memory.
    pub fn load_all(&mut self) -> Result<()> {
        if self.file.is_none() {
            return Ok(());
        }
        self.fetch(0..self.len)?;
        let len = self.len;
        if let Some(f) = self.file.take() {
            // fetch() read back every unit's name, ascending by unit.
            let all = StringArray::from_iter_values(f.fetched.names.iter().map(String::as_str));
            *self = Names::default();
            self.push(all);
        }
        debug_assert_eq!(self.len, len);
        Ok(())
    }

    /// Adds the names of the next rows.
    pub fn push(&mut self, part: StringArray) {
        if part.is_empty() {
            return;
        }
        self.starts.push(self.len);
        self.len += part.len();
        self.parts.push(part);
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no name.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Name `i`, trimmed; empty when null.
    ///
    /// # Panics
    /// When `i` is not below `len()`, like indexing.
    pub fn get(&self, i: usize) -> &str {
        assert!(i < self.len, "name {i} of {}", self.len);
        if let Some(f) = &self.file {
            // Invariant: only the names of drawn units are looked at, and the draw fetches them.
            let name = f.fetched.get(i);
            return name
                .unwrap_or_else(|| panic!("name of unit {i} was not read back"))
                .trim();
        }
        let p = self.starts.partition_point(|&s| s <= i) - 1;
        let a = &self.parts[p];
        let j = i - self.starts[p];
        if a.is_null(j) { "" } else { a.value(j).trim() }
    }
}

impl Names {
    /// The names whose `keep` is true (`keep` has one flag per name).
    pub fn filter(&self, keep: &[bool]) -> std::result::Result<Names, arrow::error::ArrowError> {
        if let Some(f) = &self.file {
            let mut f = f.clone();
            f.retain(keep);
            return Ok(Names::in_file(f, keep.iter().filter(|k| **k).count()));
        }
        let mut out = Names::default();
        for (part, &start) in self.parts.iter().zip(&self.starts) {
            let flags = keep.get(start..start + part.len()).unwrap_or_default();
            let mask = arrow::array::BooleanArray::from(flags.to_vec());
            let kept = arrow::compute::filter(part, &mask)?;
            out.push(arrow::array::AsArray::as_string::<i32>(&kept).clone());
        }
        Ok(out)
    }
}

impl<'a> FromIterator<Option<&'a str>> for Names {
    fn from_iter<I: IntoIterator<Item = Option<&'a str>>>(iter: I) -> Names {
        Names::from(iter.into_iter().collect::<StringArray>())
    }
}

impl From<StringArray> for Names {
    fn from(a: StringArray) -> Names {
        let mut n = Names::default();
        n.push(a);
        n
    }
}

/// The sampling frame, column by column; every column has `len()` entries.
#[derive(Debug, Clone)]
pub struct SampleFrame {
    /// 统一社会信用代码, upper-cased, no nulls, unique.
    pub uscc: StringArray,
    /// 企业名称 as in the file (null reads as empty; [`SampleFrame::name`] trims).
    pub name: Names,
    /// 所属区 as its 6-digit code.
    pub district: Vec<u32>,
    pub tier: Vec<Tier>,
    pub credit_class: Vec<Option<CreditClass>>,
    pub market_ratio: Vec<f64>,
    pub market_max_per_year: Vec<u32>,
    pub eco_ratio: Vec<f64>,
    pub eco_max_per_year: Vec<u32>,
    pub risk_score: OptionalF64s,
}

/// A column of optional numbers in 8 bytes and a bit per value (`Vec<Option<f64>>` takes 16).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptionalF64s {
    values: Vec<f64>,
    /// Bit `i % 64` of word `i / 64`: value `i` is present.
    present: Vec<u64>,
}

impl OptionalF64s {
    /// Room for `n` values.
    pub fn with_capacity(n: usize) -> Self {
        OptionalF64s {
            values: Vec::with_capacity(n),
            present: Vec::with_capacity(n.div_ceil(64)),
        }
    }

    /// The column of `values` whose presence bits are `present` (bit `i % 64` of word `i / 64`:
    /// value `i` is present; an absent value is kept as whatever `values` holds there). Words
    /// missing at the end read as absent; bits past the last value are cleared.
    pub fn from_parts(values: Vec<f64>, mut present: Vec<u64>) -> Self {
        let n = values.len();
        present.resize(n.div_ceil(64), 0);
        if let Some(last) = present.last_mut()
            && !n.is_multiple_of(64)
        {
            *last &= (1u64 << (n % 64)) - 1;
        }
        OptionalF64s { values, present }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Adds a value at the end.
    pub fn push(&mut self, v: Option<f64>) {
        let i = self.values.len();
        if i.is_multiple_of(64) {
            self.present.push(0);
        }
        if let Some(w) = self.present.last_mut() {
            *w |= u64::from(v.is_some()) << (i % 64);
        }
        self.values.push(v.unwrap_or(0.0));
    }

    /// Value `i`.
    ///
    /// # Panics
    /// When `i` is not below `len()`, like indexing.
    #[inline]
    pub fn get(&self, i: usize) -> Option<f64> {
        let v = self.values[i];
        (self.present[i / 64] >> (i % 64) & 1 == 1).then_some(v)
    }

    /// Appends the values of another column.
    pub fn append(&mut self, other: &OptionalF64s) {
        self.values.reserve(other.len());
        for i in 0..other.len() {
            self.push(other.get(i));
        }
    }

    /// Keeps the values whose `keep` is true (one flag per value; missing flags keep).
    pub fn retain(&mut self, keep: &[bool]) {
        let old = std::mem::take(self);
        *self = OptionalF64s::with_capacity(old.len());
        for i in 0..old.len() {
            if keep.get(i).copied().unwrap_or(true) {
                self.push(old.get(i));
            }
        }
    }
}

impl FromIterator<Option<f64>> for OptionalF64s {
    fn from_iter<I: IntoIterator<Item = Option<f64>>>(iter: I) -> Self {
        let mut c = OptionalF64s::default();
        for v in iter {
            c.push(v);
        }
        c
    }
}

impl SampleFrame {
    /// Builds a frame from rows.
    pub fn from_units(units: &[FrameUnit]) -> SampleFrame {
        SampleFrame {
            uscc: units.iter().map(|u| Some(u.uscc.as_str())).collect(),
            name: units.iter().map(|u| Some(u.name.as_str())).collect(),
            district: units.iter().map(|u| u.district).collect(),
            tier: units.iter().map(|u| u.tier).collect(),
            credit_class: units.iter().map(|u| u.credit_class).collect(),
            market_ratio: units.iter().map(|u| u.market_ratio).collect(),
            market_max_per_year: units.iter().map(|u| u.market_max_per_year).collect(),
            eco_ratio: units.iter().map(|u| u.eco_ratio).collect(),
            eco_max_per_year: units.iter().map(|u| u.eco_max_per_year).collect(),
            risk_score: units.iter().map(|u| u.risk_score).collect(),
        }
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.district.len()
    }

    /// Reads back the names of `units` when the frame left them in its file (see [`Names`]):
    /// a draw calls it with its drawn units before their rows are written.
    pub fn fetch_names(&mut self, units: impl IntoIterator<Item = usize>) -> Result<()> {
        self.name.fetch(units)
    }

    /// Reads every name back into memory when the frame left them in its file (see
    /// [`Names::load_all`]).
    pub fn load_names(&mut self) -> Result<()> {
        self.name.load_all()
    }

    /// Whether the frame has no unit.
    pub fn is_empty(&self) -> bool {
        self.district.is_empty()
    }

    /// The code of unit `i`.
    #[inline]
    pub fn uscc(&self, i: usize) -> &str {
        self.uscc.value(i)
    }

    /// The name of unit `i`, trimmed (empty when null). Names are kept as the file has them
    /// and trimmed here: only the drawn units' names are ever looked at.
    pub fn name(&self, i: usize) -> &str {
        self.name.get(i)
    }

    /// Unit `i`'s ratio for a department.
    #[inline]
    pub fn ratio(&self, i: usize, d: Department) -> f64 {
        match d {
            Department::Market => self.market_ratio[i],
            Department::Ecology => self.eco_ratio[i],
        }
    }

    /// Unit `i`'s yearly maximum of on-site inspections for a department.
    #[inline]
    pub fn max_per_year(&self, i: usize, d: Department) -> u32 {
        match d {
            Department::Market => self.market_max_per_year[i],
            Department::Ecology => self.eco_max_per_year[i],
        }
    }

    /// Unit `i` as a row.
    pub fn unit(&self, i: usize) -> FrameUnit {
        FrameUnit {
            uscc: self.uscc(i).to_owned(),
            name: self.name(i).to_owned(),
            district: self.district[i],
            tier: self.tier[i],
            credit_class: self.credit_class[i],
            market_ratio: self.market_ratio[i],
            market_max_per_year: self.market_max_per_year[i],
            eco_ratio: self.eco_ratio[i],
            eco_max_per_year: self.eco_max_per_year[i],
            risk_score: self.risk_score.get(i),
        }
    }

    /// Checks what the draw relies on: equal column lengths, codes present, ratios in [0, 1],
    /// 6-digit districts. The first problem in frame order is reported.
    pub fn validate(&self) -> Result<()> {
        let n = self.len();
        if u32::try_from(n).is_err() {
            return Err(frame_error(
                "",
                "uscc",
                format!("{n} units"),
                "a frame of at most 4294967295 units",
            ));
        }
        let lengths = [
            ("uscc", self.uscc.len()),
            ("name", self.name.len()),
            ("tier", self.tier.len()),
            ("credit_class", self.credit_class.len()),
            ("market_ratio", self.market_ratio.len()),
            ("market_max_per_year", self.market_max_per_year.len()),
            ("eco_ratio", self.eco_ratio.len()),
            ("eco_max_per_year", self.eco_max_per_year.len()),
            ("risk_score", self.risk_score.len()),
        ];
        for (column, len) in lengths {
            if len != n {
                return Err(frame_error(
                    "",
                    column,
                    format!("{len} values for {n} units"),
                    "one value per unit",
                ));
            }
        }
        // Chunks in parallel; the first problem of the first chunk that has one is reported. A
        // chunk is first checked column by column (the usual case: nothing wrong), and only one
        // that fails is looked at unit by unit, for the first problem and its message.
        const CHUNK: usize = 1 << 16;
        let offsets = self.uscc.value_offsets();
        let clean = |r: std::ops::Range<usize>| {
            let ratio = |v: &[f64]| v[r.clone()].iter().all(|x| (0.0..=1.0).contains(x));
            (self.uscc.null_count() == 0 || (r.clone()).all(|i| !self.uscc.is_null(i)))
                && offsets[r.start..=r.end].windows(2).all(|w| w[1] > w[0])
                && ratio(&self.market_ratio)
                && ratio(&self.eco_ratio)
                && self.district[r.clone()]
                    .iter()
                    .all(|d| (100_000..=999_999).contains(d))
        };
        let problem = (0..n.div_ceil(CHUNK)).into_par_iter().find_map_first(|c| {
            let r = c * CHUNK..n.min((c + 1) * CHUNK);
            if clean(r.clone()) {
                None
            } else {
                r.into_iter().find_map(|i| self.problem(i))
            }
        });
        match problem {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// What is wrong with unit `i` for a draw, if anything (see [`SampleFrame::validate`]).
    fn problem(&self, i: usize) -> Option<Error> {
        if self.uscc.is_null(i) || self.uscc(i).is_empty() {
            return Some(frame_error(
                "",
                "uscc",
                format!("an empty code at unit {}", i + 1),
                "a unified social credit code",
            ));
        }
        for (column, r) in [
            ("market_ratio", self.market_ratio[i]),
            ("eco_ratio", self.eco_ratio[i]),
        ] {
            if !(0.0..=1.0).contains(&r) {
                return Some(frame_error(
                    self.uscc(i),
                    column,
                    r.to_string(),
                    "a ratio between 0 and 1",
                ));
            }
        }
        if !(100_000..=999_999).contains(&self.district[i]) {
            return Some(frame_error(
                self.uscc(i),
                "district",
                self.district[i].to_string(),
                "a 6-digit district code",
            ));
        }
        None
    }
}

/// An `Error::SampleInput` about an enterprise of the frame.
pub(crate) fn frame_error(
    uscc: &str,
    field: &'static str,
    value: String,
    expected: &'static str,
) -> Error {
    Error::SampleInput {
        what: "enterprise",
        id: uscc.to_owned(),
        field,
        value,
        expected,
    }
}
