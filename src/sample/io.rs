//! The sample's tables: reading the frame from a scored file (only the columns a draw needs, so a
//! national file is read fast), writing the sample (SPEC §4: `seq, uscc, name, district, tier,
//! credit_class, departments, pi, ratio, risk_score, inspectors`; a joint draw adds `pi_market,
//! pi_ecology`, a coordinated one also `u`) and its public version for
//! publication (一公开: no ratios, scores or inspectors; the seed and algorithm id on every row),
//! and reading a sample file back for `verify`. Rows that cannot be used go to the rejects file.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Float64Builder, Int32Array, RecordBatch, StringArray,
    UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Schema};

use super::draw::{Departments, Draw, DrawParams};
use super::frame::{FileNames, Names, OptionalF64s, SampleFrame};
use super::inspectors::{Assignment, Inspector};
use super::verify::SampleLine;
use crate::input::Counts;
use crate::input::enterprise::reason;
use crate::schema::{Col, CreditClass, Department, Lang, Tier, out};
use crate::table::cells::{EnumColumn, Memo, Num, NumColumn, TextColumn};
use crate::table::codes::{Grouped, RepeatFinder, check_key};
use crate::table::read::ColumnFilter;
use crate::table::{ColumnMap, Format, ReadOptions, Reject, Rejects};
use crate::{Error, Result, district};

/// Columns of the sample output (SPEC §4), with Chinese headers.
pub mod cols {
    use crate::schema::Col;
    const fn c(name: &'static str, zh: &'static str) -> Col {
        Col {
            name,
            zh,
            aliases: &[],
        }
    }
    pub const SEQ: Col = c("seq", "序号");
    pub const DEPARTMENTS: Col = c("departments", "检查部门");
    pub const PI: Col = c("pi", "入样概率");
    pub const RATIO: Col = c("ratio", "抽查比例");
    pub const INSPECTORS: Col = c("inspectors", "执法人员");
    pub const INSPECTOR_NAMES: Col = c("inspector_names", "执法人员姓名");
    pub const PI_MARKET: Col = c("pi_market", "市场监管入样概率");
    pub const PI_ECOLOGY: Col = c("pi_ecology", "生态环境入样概率");
    pub const MONTH: Col = c("month", "抽查月份");
    pub const SEED: Col = c("seed", "随机种子");
    pub const ALGORITHM: Col = c("algorithm", "抽取算法");
    pub const U: Col = c("u", "永久随机数");
}

/// The scored columns a draw reads.
const FRAME_COLS: [Col; 10] = [
    out::USCC,
    out::NAME,
    out::DISTRICT,
    out::TIER,
    out::CREDIT_CLASS,
    out::MARKET_RATIO,
    out::MARKET_MAX_PER_YEAR,
    out::ECO_RATIO,
    out::ECO_MAX_PER_YEAR,
    out::RISK_SCORE,
];
const FRAME_REQUIRED: [Col; 7] = [
    out::USCC,
    out::DISTRICT,
    out::TIER,
    out::MARKET_RATIO,
    out::MARKET_MAX_PER_YEAR,
    out::ECO_RATIO,
    out::ECO_MAX_PER_YEAR,
];

/// Read options that keep only the frame's columns (Parquet skips the rest on disk) and read
/// the district, tier and class as dictionaries.
pub fn frame_read_options(base: &ReadOptions) -> ReadOptions {
    let keep: ColumnFilter = Arc::new(|h: &str| FRAME_COLS.iter().any(|c| c.matches(h)));
    let dictionary: ColumnFilter = Arc::new(|h: &str| {
        [out::DISTRICT, out::TIER, out::CREDIT_CLASS]
            .iter()
            .any(|c| c.matches(h))
    });
    ReadOptions {
        keep: Some(keep),
        dictionary: Some(dictionary),
        ..base.clone()
    }
}

struct Problem {
    col: Col,
    value: String,
    reason: &'static str,
    detail: String,
}

/// One batch of the scored file parsed into its slots of the frame's columns (`FrameSlots`, one
/// slot per row of the batch, codes upper-cased): the rows that failed, in row order (their
/// slots are left as they were and removed once the file is read), which rows have a risk score,
/// and the names (as in the file) of the rows that did not fail. Codes are not yet checked
/// against the other rows.
struct FramePart {
    /// File row number of the batch's first row, and its rows.
    first_row: u64,
    rows: usize,
    /// Bit `j % 64` of word `j / 64`: row `j` of the batch has a risk score.
    risk_present: Vec<u64>,
    name: StringArray,
    failed: Vec<(u64, Problem)>,
    /// The codes of the rows that did not fail, grouped for the repeat finder.
    codes: Grouped,
}

/// Parses one batch whose first row has 1-based number `first_row` into `s`, its slots (one per
/// row; pure apart from writing them: batches are parsed in parallel, each into its own slots),
/// and groups the codes of its rows that did not fail for the repeat finder, here rather than
/// on the one thread that adds the parsed batches to the frame.
fn parse_frame_batch(
    batch: &RecordBatch,
    map: &ColumnMap,
    path: &Path,
    first_row: u64,
    mut s: FrameSlots<'_>,
) -> Result<FramePart> {
    let mut part = parse_frame_cells(batch, map, path, first_row, &mut s)?;
    let mut failed = part
        .failed
        .iter()
        .map(|(row, _)| (row - first_row) as usize)
        .peekable();
    part.codes = Grouped::new(s.codes.iter().enumerate().filter_map(|(j, c)| {
        if failed.peek() == Some(&j) {
            failed.next();
            None
        } else {
            Some(c)
        }
    }));
    Ok(part)
}

/// The cells of [`parse_frame_batch`].
fn parse_frame_cells(
    batch: &RecordBatch,
    map: &ColumnMap,
    path: &Path,
    first_row: u64,
    s: &mut FrameSlots<'_>,
) -> Result<FramePart> {
    // Enum and district columns hold a few distinct texts: each is parsed once per batch.
    let mut districts = Memo::new(district::parse);
    let mut tiers = Memo::new(Tier::parse);
    let mut classes = Memo::new(CreditClass::parse);
    let text = |c: &Col| -> Result<Option<TextColumn>> {
        map.get(c)
            .map(|i| TextColumn::new(batch.column(i), path))
            .transpose()
    };
    let num = |c: &Col| -> Result<Option<NumColumn>> {
        map.get(c)
            .map(|i| NumColumn::new(batch.column(i), path))
            .transpose()
    };
    let (tu, tn) = (text(&out::USCC)?, text(&out::NAME)?);
    let (td, tt, tc) = (
        map.get(&out::DISTRICT)
            .map(|i| EnumColumn::new(batch.column(i), path, &mut districts))
            .transpose()?,
        map.get(&out::TIER)
            .map(|i| EnumColumn::new(batch.column(i), path, &mut tiers))
            .transpose()?,
        map.get(&out::CREDIT_CLASS)
            .map(|i| EnumColumn::new(batch.column(i), path, &mut classes))
            .transpose()?,
    );
    let (mr, mm, er, em, rs) = (
        num(&out::MARKET_RATIO)?,
        num(&out::MARKET_MAX_PER_YEAR)?,
        num(&out::ECO_RATIO)?,
        num(&out::ECO_MAX_PER_YEAR)?,
        num(&out::RISK_SCORE)?,
    );
    let n = batch.num_rows();
    debug_assert_eq!(s.district.len(), n);
    let mut risk_present = vec![0u64; n.div_ceil(64)];
    // A batch typed as `score` writes it whose cells are all valid (the usual case) goes column
    // by column; otherwise row by row below, which finds the rejects (and writes every slot again).
    let typed = || -> Option<Typed<'_>> {
        fn num(c: &Option<NumColumn>) -> Option<&Float64Array> {
            match c {
                Some(NumColumn::Float(a)) => Some(a),
                _ => None,
            }
        }
        Some(Typed {
            uscc: tu.as_ref()?.array(),
            district: td.as_ref()?.coded()?,
            tier: tt.as_ref()?.coded()?,
            class: match &tc {
                None => None,
                Some(c) => Some(c.coded()?),
            },
            market_ratio: num(&mr)?,
            market_max: num(&mm)?,
            eco_ratio: num(&er)?,
            eco_max: num(&em)?,
            risk: rs.as_ref(),
        })
    };
    if typed().is_some_and(|t| t.fill(s, &mut risk_present)) {
        let name = match &tn {
            Some(t) => t.array().clone(),
            None => StringArray::new_null(n),
        };
        return Ok(FramePart {
            first_row,
            rows: n,
            risk_present,
            name,
            failed: Vec::new(),
            codes: Grouped::default(),
        });
    }
    // The rows that failed (row, problem), in row order; codes are checked against the other
    // rows once the whole file is read.
    let mut failed: Vec<(u64, Problem)> = Vec::new();
    risk_present.fill(0);
    for i in 0..n {
        let row = first_row + i as u64;
        let parsed = (|| -> std::result::Result<(), Problem> {
            let missing = |col: Col| Problem {
                col,
                value: String::new(),
                reason: reason::VALUE_MISSING,
                detail: format!("column {:?} may not be empty", col.name),
            };
            let code_s = tu
                .as_ref()
                .and_then(|t| t.get(i))
                .ok_or_else(|| missing(out::USCC))?;
            let Some((key, _)) = check_key(code_s) else {
                return Err(Problem {
                    col: out::USCC,
                    value: code_s.to_string(),
                    reason: reason::USCC_MALFORMED,
                    detail: "expected a unified social credit code".into(),
                });
            };
            let d = td
                .as_ref()
                .and_then(|t| t.get(i, &mut districts))
                .ok_or_else(|| missing(out::DISTRICT))?
                .map_err(|s| Problem {
                    col: out::DISTRICT,
                    value: s.to_string(),
                    reason: reason::DISTRICT_UNKNOWN,
                    detail: format!("expected {}", district::EXPECTED),
                })?;
            let tier = tt
                .as_ref()
                .and_then(|t| t.get(i, &mut tiers))
                .ok_or_else(|| missing(out::TIER))?
                .map_err(|s| Problem {
                    col: out::TIER,
                    value: s.to_string(),
                    reason: reason::TIER_UNKNOWN,
                    detail: format!("expected {}", Tier::EXPECTED),
                })?;
            let class = match tc.as_ref().and_then(|t| t.get(i, &mut classes)) {
                None => None,
                Some(Ok(c)) => Some(c),
                Some(Err(s)) => {
                    return Err(Problem {
                        col: out::CREDIT_CLASS,
                        value: s.to_string(),
                        reason: reason::CREDIT_CLASS_INVALID,
                        detail: format!("expected {}", CreditClass::EXPECTED),
                    });
                }
            };
            let ratio = |n: &Option<NumColumn>, col: Col| -> std::result::Result<f64, Problem> {
                match n.as_ref().map(|n| n.get(i)) {
                    Some(Num::Value(v)) if (0.0..=1.0).contains(&v) => Ok(v),
                    Some(Num::Value(v)) => Err(Problem {
                        col,
                        value: v.to_string(),
                        reason: reason::NUMBER_INVALID,
                        detail: "a ratio must be between 0 and 1".into(),
                    }),
                    Some(Num::Bad(s)) => Err(Problem {
                        col,
                        value: s.to_string(),
                        reason: reason::NUMBER_INVALID,
                        detail: "expected a number between 0 and 1".into(),
                    }),
                    _ => Err(missing(col)),
                }
            };
            let count = |n: &Option<NumColumn>, col: Col| -> std::result::Result<u32, Problem> {
                match n.as_ref().map(|n| n.get(i)) {
                    Some(Num::Value(v)) if v >= 0.0 && v.fract() == 0.0 && v <= 1e6 => Ok(v as u32),
                    Some(Num::Value(v)) => Err(Problem {
                        col,
                        value: v.to_string(),
                        reason: reason::INTEGER_INVALID,
                        detail: "expected a whole number ≥ 0".into(),
                    }),
                    Some(Num::Bad(s)) => Err(Problem {
                        col,
                        value: s.to_string(),
                        reason: reason::INTEGER_INVALID,
                        detail: "expected a whole number ≥ 0".into(),
                    }),
                    _ => Err(missing(col)),
                }
            };
            let market_ratio = ratio(&mr, out::MARKET_RATIO)?;
            let market_max = count(&mm, out::MARKET_MAX_PER_YEAR)?;
            let eco_ratio = ratio(&er, out::ECO_RATIO)?;
            let eco_max = count(&em, out::ECO_MAX_PER_YEAR)?;
            let risk = match rs.as_ref().map(|n| n.get(i)) {
                Some(Num::Value(v)) => Some(v),
                _ => None,
            };
            s.codes[i] = key;
            s.district[i] = d;
            s.tier[i] = tier;
            s.credit_class[i] = class;
            s.market_ratio[i] = market_ratio;
            s.market_max_per_year[i] = market_max;
            s.eco_ratio[i] = eco_ratio;
            s.eco_max_per_year[i] = eco_max;
            s.risk[i] = risk.unwrap_or(0.0);
            risk_present[i / 64] |= u64::from(risk.is_some()) << (i % 64);
            Ok(())
        })();
        if let Err(p) = parsed {
            failed.push((row, p));
        }
    }
    // Names are kept as they are (no copy) unless rows failed; a missing column reads as nulls.
    let name = match &tn {
        Some(t) if failed.is_empty() => t.array().clone(),
        Some(t) => {
            let keep: arrow::array::BooleanArray = {
                let mut bad = failed
                    .iter()
                    .map(|(row, _)| (row - first_row) as usize)
                    .peekable();
                (0..n)
                    .map(|i| {
                        let b = bad.peek() == Some(&i);
                        if b {
                            bad.next();
                        }
                        Some(!b)
                    })
                    .collect()
            };
            arrow::compute::filter(t.array(), &keep)
                .map(|a| a.as_string::<i32>().clone())
                .map_err(|source| Error::Arrow {
                    path: path.to_path_buf(),
                    source,
                })?
        }
        None => StringArray::new_null(n - failed.len()),
    };
    Ok(FramePart {
        first_row,
        rows: n,
        risk_present,
        name,
        failed,
        codes: Grouped::default(),
    })
}

/// The frame's columns of a batch as `score` writes them (enums read as dictionaries, numbers
/// as numbers), for [`Typed::fill`].
struct Typed<'a> {
    uscc: &'a StringArray,
    district: EnumCodes<'a, u32>,
    tier: EnumCodes<'a, Tier>,
    /// `None`: the file has no credit class column.
    class: Option<EnumCodes<'a, CreditClass>>,
    market_ratio: &'a Float64Array,
    market_max: &'a Float64Array,
    eco_ratio: &'a Float64Array,
    eco_max: &'a Float64Array,
    risk: Option<&'a NumColumn>,
}

/// A dictionary column's keys and its values parsed (see [`EnumColumn::coded`]).
type EnumCodes<'a, T> = (&'a Int32Array, &'a [Option<Option<T>>]);

impl Typed<'_> {
    /// Fills the slots column by column with what `parse_frame_batch` reads row by row, when
    /// every row of the batch would be accepted; returns false as soon as one would not (the
    /// slots are then partly written, and the caller parses the batch row by row).
    fn fill(&self, s: &mut FrameSlots<'_>, risk_present: &mut [u64]) -> bool {
        let n = s.district.len();
        if self.uscc.len() != n || self.uscc.null_count() != 0 {
            return false;
        }
        for (slot, i) in s.codes.iter_mut().zip(0..n) {
            // check_key trims, as the row-by-row reading does before it.
            match check_key(self.uscc.value(i)) {
                Some((key, _)) => *slot = key,
                None => return false,
            }
        }
        // Per dictionary value, the value a cell holding it gives (None: it would be rejected).
        fn required<T: Copy>((keys, parsed): EnumCodes<'_, T>, out: &mut [T]) -> bool {
            let by_key: Vec<Option<T>> = parsed.iter().map(|p| p.flatten()).collect();
            keys.null_count() == 0
                && keys.len() == out.len()
                && out.iter_mut().zip(keys.values()).all(|(o, &k)| {
                    match usize::try_from(k).ok().and_then(|k| by_key.get(k)) {
                        Some(&Some(v)) => {
                            *o = v;
                            true
                        }
                        _ => false,
                    }
                })
        }
        if !required(self.district, s.district) || !required(self.tier, s.tier) {
            return false;
        }
        match self.class {
            None => s.credit_class.fill(None),
            Some((keys, parsed)) => {
                // A null or blank class is no class; a text that is no class is rejected.
                let by_key: Vec<Option<Option<CreditClass>>> = parsed
                    .iter()
                    .map(|p| match p {
                        None => Some(None),
                        Some(Some(c)) => Some(Some(*c)),
                        Some(None) => None,
                    })
                    .collect();
                if keys.len() != n {
                    return false;
                }
                for (i, o) in s.credit_class.iter_mut().enumerate() {
                    if keys.is_null(i) {
                        *o = None;
                        continue;
                    }
                    match usize::try_from(keys.value(i))
                        .ok()
                        .and_then(|k| by_key.get(k))
                    {
                        Some(&Some(c)) => *o = c,
                        _ => return false,
                    }
                }
            }
        }
        let ratios = |a: &Float64Array, out: &mut [f64]| {
            let ok = a.null_count() == 0
                && a.len() == out.len()
                && a.values().iter().all(|v| (0.0..=1.0).contains(v));
            if ok {
                out.copy_from_slice(a.values());
            }
            ok
        };
        // A whole number from 0 to 10⁶ (what `v >= 0 && v.fract() == 0 && v <= 1e6` accepts).
        let counts = |a: &Float64Array, out: &mut [u32]| {
            let ok = a.null_count() == 0
                && a.len() == out.len()
                && a.values()
                    .iter()
                    .all(|&v| (0.0..=1e6).contains(&v) && f64::from(v as u32) == v);
            if ok {
                out.iter_mut()
                    .zip(a.values())
                    .for_each(|(o, &v)| *o = v as u32);
            }
            ok
        };
        if !ratios(self.market_ratio, s.market_ratio)
            || !counts(self.market_max, s.market_max_per_year)
            || !ratios(self.eco_ratio, s.eco_ratio)
            || !counts(self.eco_max, s.eco_max_per_year)
        {
            return false;
        }
        risk_present.fill(0);
        match self.risk {
            // NaN and infinities read as no score (`NumColumn::get`), as text that is no number.
            Some(NumColumn::Float(a))
                if a.len() == n
                    && a.null_count() == 0
                    && a.values().iter().all(|v| v.is_finite()) =>
            {
                s.risk.copy_from_slice(a.values());
                risk_present.fill(u64::MAX);
                if !n.is_multiple_of(64)
                    && let Some(last) = risk_present.last_mut()
                {
                    *last = (1u64 << (n % 64)) - 1;
                }
            }
            Some(c) => {
                for (i, o) in s.risk.iter_mut().enumerate() {
                    *o = match c.get(i) {
                        Num::Value(v) => {
                            risk_present[i / 64] |= 1 << (i % 64);
                            v
                        }
                        _ => 0.0,
                    };
                }
            }
            None => s.risk.fill(0.0),
        }
        true
    }
}

/// Reads the sampling frame from a scored file (English or Chinese headers and values).
///
/// The file is decoded ahead on its own thread; a few batches at a time are parsed in parallel.
/// Repeated codes are looked for once the whole file is read ([`RepeatFinder`]: a repeated code
/// rejects the later row), and the rejects are written in row order, so rejects and frame are
/// those of a row-by-row reading. With `--strict` reading stops at the round of batches where
/// the first rejection is, and that one is reported.
pub fn read_frame(
    path: &Path,
    opts: &ReadOptions,
    rejects: &mut Rejects,
) -> Result<(SampleFrame, Counts)> {
    use rayon::prelude::*;
    let opts = ReadOptions {
        header: Some(crate::table::layout::header_probe(&FRAME_REQUIRED)),
        ..frame_read_options(opts)
    };
    let mut reader = crate::table::open(path, &opts)?;
    let mut schema = reader.schema();
    let mut map = ColumnMap::resolve(&schema, &FRAME_COLS, &FRAME_REQUIRED, path)?;
    // A columnar file (Parquet, Arrow IPC) keeps its names: the frame is read without them and
    // only the drawn units' names are read back (`SampleFrame::fetch_names`), so a national
    // frame holds no names. Row numbers there are positions, the same whatever columns are read.
    let mut names_file = None;
    if let (Format::Parquet | Format::Arrow, Some(i)) = (reader.format(), map.get(&out::NAME)) {
        let column = schema.field(i).name().clone();
        let skip_name = column.clone();
        let keep = opts.keep.clone();
        let without: ColumnFilter =
            Arc::new(move |h: &str| h != skip_name && keep.as_ref().is_none_or(|k| k(h)));
        let opts = ReadOptions {
            keep: Some(without),
            ..opts.clone()
        };
        names_file = Some(FileNames::new(path, &column)?);
        reader = crate::table::open(path, &opts)?;
        schema = reader.schema();
        map = ColumnMap::resolve(&schema, &FRAME_COLS, &FRAME_REQUIRED, path)?;
    }
    let arrow_err = |source| Error::Arrow {
        path: path.to_path_buf(),
        source,
    };
    let mut counts = Counts::default();
    counts.set_layout(reader.layout());
    let mut reader = crate::table::Prefetch::new(reader, 4);
    // Columns sized once from the row count the file records (no doubling copies of a national
    // frame), and each batch parsed straight into its slots of them; names stay in the arrays
    // they were decoded into.
    let hint = reader.rows_hint().unwrap_or(0).min(MAX_ROWS_HINT) as usize;
    let mut slots = FrameVecs::with_len(hint);
    let mut acc = FrameAcc {
        names: Names::default(),
        names_file,
        units: 0,
        slots: 0,
        finder: RepeatFinder::with_capacity(hint),
        risk_present: Vec::with_capacity(hint.div_ceil(64)),
        holes: Vec::new(),
        failed: Vec::new(),
    };
    let per_round = 2 * rayon::current_num_threads();
    // Round k + 1 is parsed (in parallel, each batch into its own slots) while round k, parsed
    // into the slots before `written`, is added to the frame.
    let mut pending: Vec<FramePart> = Vec::new();
    let mut written = 0;
    loop {
        let mut round = Vec::with_capacity(per_round);
        while round.len() < per_round {
            let Some(numbered) = reader.next_numbered().transpose()? else {
                break;
            };
            counts.read += numbered.batch.num_rows() as u64;
            round.push((numbered.batch, numbered.first_row));
        }
        counts.skipped = reader.skipped().rows();
        if round.is_empty() && pending.is_empty() {
            break;
        }
        let rows: usize = round.iter().map(|(b, _)| b.num_rows()).sum();
        slots.grow_to(written + rows);
        let mut todo = slots.slots(written..written + rows);
        let mut targets = Vec::with_capacity(round.len());
        for (batch, _) in &round {
            let (head, tail) = todo.split_at(batch.num_rows());
            targets.push(head);
            todo = tail;
        }
        let parts = std::mem::take(&mut pending);
        let (parsed, ()) = rayon::join(
            || {
                round
                    .par_iter()
                    .zip(targets)
                    .map(|((batch, first), s)| parse_frame_batch(batch, &map, path, *first, s))
                    .collect::<Result<Vec<FramePart>>>()
            },
            || acc.add(parts),
        );
        pending = parsed?;
        written += rows;
        // Under --strict the first rejection is an error: every row before the first failure
        // is in the frame once the pending round is added, so the repeats are all known.
        if rejects.is_strict() && pending.iter().any(|p| !p.failed.is_empty()) {
            acc.add(std::mem::take(&mut pending));
        }
        if rejects.is_strict() && !acc.failed.is_empty() {
            break;
        }
    }
    // Every parsed round is added by now (the loop ends on an empty round with nothing pending,
    // or under --strict right after adding).
    debug_assert!(pending.is_empty() && acc.slots == written);
    slots.truncate(written);
    let FrameAcc {
        names,
        names_file,
        finder,
        risk_present,
        holes,
        mut failed,
        ..
    } = acc;
    let mut risk = OptionalF64s::from_parts(std::mem::take(&mut slots.risk), risk_present);
    // The slots of the rows that failed are removed (frame index k is then the k-th row that
    // did not fail, as the repeat finder numbered them).
    if !holes.is_empty() {
        let mut keep = vec![true; written];
        for &h in &holes {
            keep[h] = false;
        }
        slots.retain(&keep);
        risk.retain(&keep);
    }
    let mut f = slots;
    let mut uscc = codes_array(std::mem::take(&mut f.codes), path)?;
    let mut name = match names_file {
        Some(file) => Names::in_file(file, f.district.len()),
        None => names,
    };
    // A repeated code rejects the later row (USCC_DUPLICATE), as if checked row by row.
    let repeats = finder.repeats();
    drop(finder);
    if !repeats.is_empty() {
        failed.sort_unstable_by_key(|(row, _)| *row);
        let failed_rows: Vec<u64> = failed.iter().map(|(row, _)| *row).collect();
        let mut keep = vec![true; f.district.len()];
        // Frame index k is the k-th row (from 0) that is not among the failed rows.
        let mut skipped = 0;
        for &k in &repeats {
            let mut row = u64::from(k) + 1 + skipped as u64;
            while skipped < failed_rows.len() && failed_rows[skipped] <= row {
                skipped += 1;
                row += 1;
            }
            keep[k as usize] = false;
            failed.push((
                row,
                Problem {
                    col: out::USCC,
                    value: uscc.value(k as usize).to_string(),
                    reason: reason::USCC_DUPLICATE,
                    detail:
                        "this code already appeared on an earlier row; the later row is rejected"
                            .into(),
                },
            ));
        }
        f.retain(&keep);
        risk.retain(&keep);
        name = name.filter(&keep).map_err(arrow_err)?;
        let mask = arrow::array::BooleanArray::from(keep);
        uscc = arrow::compute::filter(&uscc, &mask)
            .map(|a| a.as_string::<i32>().clone())
            .map_err(arrow_err)?;
    }
    failed.sort_by_key(|(row, _)| *row);
    counts.rejected = failed.len() as u64;
    counts.accepted = f.district.len() as u64;
    let file = path.display().to_string();
    for (row, p) in failed {
        let column = map
            .get(&p.col)
            .map(|i| schema.field(i).name().clone())
            .unwrap_or_else(|| p.col.name.to_string());
        rejects.push(Reject {
            file: file.clone(),
            row,
            column,
            value: p.value,
            reason: p.reason,
            detail: p.detail,
        })?;
    }
    let frame = SampleFrame {
        uscc,
        name,
        district: f.district,
        tier: f.tier,
        credit_class: f.credit_class,
        market_ratio: f.market_ratio,
        market_max_per_year: f.market_max_per_year,
        eco_ratio: f.eco_ratio,
        eco_max_per_year: f.eco_max_per_year,
        risk_score: risk,
    };
    Ok((frame, counts))
}

/// The frame as it is put together, round by round (the columns themselves are `FrameVecs`).
struct FrameAcc {
    /// The names, when they are kept in memory.
    names: Names,
    /// Where the names are, when they are left in the file.
    names_file: Option<FileNames>,
    /// Units so far (rows that did not fail) and slots so far (rows).
    units: usize,
    slots: usize,
    finder: RepeatFinder,
    /// Bit `k % 64` of word `k / 64`: slot `k` has a risk score.
    risk_present: Vec<u64>,
    /// The slots of the rows that failed, ascending.
    holes: Vec<usize>,
    failed: Vec<(u64, Problem)>,
}

impl FrameAcc {
    /// Adds parsed batches, in row order.
    fn add(&mut self, mut parts: Vec<FramePart>) {
        let grouped: Vec<Grouped> = parts
            .iter_mut()
            .map(|p| std::mem::take(&mut p.codes))
            .collect();
        self.finder.push_grouped(&grouped);
        drop(grouped);
        for part in parts {
            let skip: Vec<u64> = part.failed.iter().map(|(row, _)| *row).collect();
            self.holes.extend(
                skip.iter()
                    .map(|row| self.slots + (row - part.first_row) as usize),
            );
            append_bits(
                &mut self.risk_present,
                self.slots,
                &part.risk_present,
                part.rows,
            );
            if let Some(file) = self.names_file.as_mut() {
                file.push_rows(self.units, part.first_row, part.rows, &skip);
            } else {
                self.names.push(part.name);
            }
            self.units += part.rows - part.failed.len();
            self.slots += part.rows;
            self.failed.extend(part.failed);
        }
    }
}

/// Appends the first `n` bits of `src` (bit `j % 64` of word `j / 64`; the bits past `n` are
/// clear) to the `len` bits of `dst` (whose bits past `len` are clear).
fn append_bits(dst: &mut Vec<u64>, len: usize, src: &[u64], n: usize) {
    let words = (len + n).div_ceil(64);
    dst.resize(words, 0);
    let shift = len % 64;
    for (k, &w) in src.iter().enumerate().take(n.div_ceil(64)) {
        let i = len / 64 + k;
        dst[i] |= w << shift;
        if shift != 0 && i + 1 < words {
            dst[i + 1] |= w >> (64 - shift);
        }
    }
}

/// The frame's codes as a text column (every code is 18 ASCII bytes: one buffer, no copy).
fn codes_array(codes: Vec<[u8; 18]>, path: &Path) -> Result<StringArray> {
    let n = codes.len();
    let offsets = arrow::buffer::OffsetBuffer::from_lengths(std::iter::repeat_n(18, n));
    let values = arrow::buffer::Buffer::from_vec(codes.into_flattened());
    StringArray::try_new(offsets, values, None).map_err(|source| Error::Arrow {
        path: path.to_path_buf(),
        source,
    })
}

/// Frames are sized ahead from the row count a file records up to this many rows (a damaged
/// file's count cannot make spotcheck reserve absurd memory; bigger frames simply grow).
const MAX_ROWS_HINT: u64 = 100_000_000;

/// The frame's columns as they are read: one slot per row of the file (a row that fails leaves
/// its slot, removed once the file is read). Sized ahead from the row count the file records:
/// the numeric columns then start as zeroed pages that the parsing threads fill in place, each
/// batch its own slots (no per-batch copy, each page first touched by the thread that fills it).
struct FrameVecs {
    codes: Vec<[u8; 18]>,
    district: Vec<u32>,
    tier: Vec<Tier>,
    credit_class: Vec<Option<CreditClass>>,
    market_ratio: Vec<f64>,
    market_max_per_year: Vec<u32>,
    eco_ratio: Vec<f64>,
    eco_max_per_year: Vec<u32>,
    /// The risk score, 0 where there is none (which rows have one: `FrameAcc::risk_present`).
    risk: Vec<f64>,
}

/// Mutable views of consecutive slots of the frame's columns.
struct FrameSlots<'a> {
    codes: &'a mut [[u8; 18]],
    district: &'a mut [u32],
    tier: &'a mut [Tier],
    credit_class: &'a mut [Option<CreditClass>],
    market_ratio: &'a mut [f64],
    market_max_per_year: &'a mut [u32],
    eco_ratio: &'a mut [f64],
    eco_max_per_year: &'a mut [u32],
    risk: &'a mut [f64],
}

impl<'a> FrameSlots<'a> {
    /// The first `n` slots and the rest.
    fn split_at(self, n: usize) -> (FrameSlots<'a>, FrameSlots<'a>) {
        let (codes, codes_b) = self.codes.split_at_mut(n);
        let (district, district_b) = self.district.split_at_mut(n);
        let (tier, tier_b) = self.tier.split_at_mut(n);
        let (credit_class, credit_class_b) = self.credit_class.split_at_mut(n);
        let (market_ratio, market_ratio_b) = self.market_ratio.split_at_mut(n);
        let (market_max_per_year, market_max_per_year_b) = self.market_max_per_year.split_at_mut(n);
        let (eco_ratio, eco_ratio_b) = self.eco_ratio.split_at_mut(n);
        let (eco_max_per_year, eco_max_per_year_b) = self.eco_max_per_year.split_at_mut(n);
        let (risk, risk_b) = self.risk.split_at_mut(n);
        (
            FrameSlots {
                codes,
                district,
                tier,
                credit_class,
                market_ratio,
                market_max_per_year,
                eco_ratio,
                eco_max_per_year,
                risk,
            },
            FrameSlots {
                codes: codes_b,
                district: district_b,
                tier: tier_b,
                credit_class: credit_class_b,
                market_ratio: market_ratio_b,
                market_max_per_year: market_max_per_year_b,
                eco_ratio: eco_ratio_b,
                eco_max_per_year: eco_max_per_year_b,
                risk: risk_b,
            },
        )
    }
}

impl FrameVecs {
    /// Room for `n` slots: the numeric columns as `n` blank slots of zeroed memory (untouched
    /// until a parsing thread writes them), the small ones (a byte a row) empty, grown by
    /// [`FrameVecs::grow_to`] as rows come (a damaged row count then costs no memory).
    fn with_len(n: usize) -> FrameVecs {
        FrameVecs {
            codes: vec![[0; 18]; n],
            district: vec![0; n],
            tier: Vec::with_capacity(n),
            credit_class: Vec::with_capacity(n),
            market_ratio: vec![0.0; n],
            market_max_per_year: vec![0; n],
            eco_ratio: vec![0.0; n],
            eco_max_per_year: vec![0; n],
            risk: vec![0.0; n],
        }
    }

    /// Blank slots up to `n` in every column (more rows than the file recorded, or than fit
    /// in the room made).
    fn grow_to(&mut self, n: usize) {
        fn to<T: Clone>(v: &mut Vec<T>, n: usize, blank: T) {
            if v.len() < n {
                v.resize(n, blank);
            }
        }
        to(&mut self.codes, n, [0; 18]);
        to(&mut self.district, n, 0);
        to(&mut self.tier, n, Tier::ALL[0]);
        to(&mut self.credit_class, n, None);
        to(&mut self.market_ratio, n, 0.0);
        to(&mut self.market_max_per_year, n, 0);
        to(&mut self.eco_ratio, n, 0.0);
        to(&mut self.eco_max_per_year, n, 0);
        to(&mut self.risk, n, 0.0);
    }

    /// Drops the slots from `n` on (rows the file recorded but did not hold: blank rows).
    fn truncate(&mut self, n: usize) {
        self.codes.truncate(n);
        self.district.truncate(n);
        self.tier.truncate(n);
        self.credit_class.truncate(n);
        self.market_ratio.truncate(n);
        self.market_max_per_year.truncate(n);
        self.eco_ratio.truncate(n);
        self.eco_max_per_year.truncate(n);
        self.risk.truncate(n);
    }

    /// The slots of `range`, to be filled.
    fn slots(&mut self, range: std::ops::Range<usize>) -> FrameSlots<'_> {
        FrameSlots {
            codes: &mut self.codes[range.clone()],
            district: &mut self.district[range.clone()],
            tier: &mut self.tier[range.clone()],
            credit_class: &mut self.credit_class[range.clone()],
            market_ratio: &mut self.market_ratio[range.clone()],
            market_max_per_year: &mut self.market_max_per_year[range.clone()],
            eco_ratio: &mut self.eco_ratio[range.clone()],
            eco_max_per_year: &mut self.eco_max_per_year[range.clone()],
            risk: &mut self.risk[range],
        }
    }

    /// Keeps the slots whose `keep` is true.
    fn retain(&mut self, keep: &[bool]) {
        fn by<T>(v: &mut Vec<T>, keep: &[bool]) {
            let mut k = keep.iter();
            v.retain(|_| *k.next().unwrap_or(&true));
        }
        by(&mut self.codes, keep);
        by(&mut self.district, keep);
        by(&mut self.tier, keep);
        by(&mut self.credit_class, keep);
        by(&mut self.market_ratio, keep);
        by(&mut self.market_max_per_year, keep);
        by(&mut self.eco_ratio, keep);
        by(&mut self.eco_max_per_year, keep);
        by(&mut self.risk, keep);
    }
}

fn field(c: &Col, lang: Lang, t: DataType) -> Field {
    Field::new(c.header(lang), t, true)
}

fn strings<S: AsRef<str>>(it: impl Iterator<Item = Option<S>>) -> ArrayRef {
    Arc::new(it.collect::<StringArray>())
}

/// The sample table of SPEC §4 in output order. For a joint draw, `pi`/`ratio` are those of the
/// department that drew the unit (market when both did) and `pi_market`/`pi_ecology` follow (each
/// empty when that department did not draw the unit); a coordinated draw (§4.7) ends with `u`,
/// the unit's permanent random number (department d drew it because u < π_d).
pub fn sample_batch(
    draw: &Draw,
    frame: &SampleFrame,
    assignment: Option<&Assignment>,
    inspectors: &[Inspector],
    joint: bool,
    lang: Lang,
) -> Result<RecordBatch> {
    let sel = &draw.selected;
    let mut fields = vec![
        field(&cols::SEQ, lang, DataType::UInt64),
        field(&out::USCC, lang, DataType::Utf8),
        field(&out::NAME, lang, DataType::Utf8),
        field(&out::DISTRICT, lang, DataType::Utf8),
        field(&out::TIER, lang, DataType::Utf8),
        field(&out::CREDIT_CLASS, lang, DataType::Utf8),
        field(&cols::DEPARTMENTS, lang, DataType::Utf8),
        field(&cols::PI, lang, DataType::Float64),
        field(&cols::RATIO, lang, DataType::Float64),
        field(&out::RISK_SCORE, lang, DataType::Float64),
        field(&cols::INSPECTORS, lang, DataType::Utf8),
        field(&cols::INSPECTOR_NAMES, lang, DataType::Utf8),
    ];
    let mut seq = UInt64Builder::new();
    let mut pi = Float64Builder::new();
    let mut ratio = Float64Builder::new();
    let mut risk = Float64Builder::new();
    for s in sel {
        seq.append_value(s.seq);
        let first = s.market.or(s.ecology);
        pi.append_option(first.map(|u| u.pi));
        ratio.append_option(first.map(|u| u.ratio));
        risk.append_option(frame.risk_score.get(s.index));
    }
    let team = |t: usize, by_name: bool| -> Option<String> {
        assignment.map(|a| {
            a.teams[t]
                .iter()
                .map(|&i| {
                    if by_name {
                        inspectors[i].name.as_str()
                    } else {
                        inspectors[i].id.as_str()
                    }
                })
                .collect::<Vec<_>>()
                .join(";")
        })
    };
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(seq.finish()),
        strings(sel.iter().map(|s| Some(s.uscc.as_str()))),
        strings(sel.iter().map(|s| Some(frame.name(s.index)))),
        strings(
            sel.iter()
                .map(|s| Some(frame.district[s.index].to_string())),
        ),
        strings(sel.iter().map(|s| Some(frame.tier[s.index].label(lang)))),
        strings(
            sel.iter()
                .map(|s| frame.credit_class[s.index].map(|c| c.label(lang))),
        ),
        strings(sel.iter().map(|s| {
            Some(match lang {
                Lang::En => s.departments.en(),
                Lang::Zh => s.departments.zh(),
            })
        })),
        Arc::new(pi.finish()),
        Arc::new(ratio.finish()),
        Arc::new(risk.finish()),
        strings((0..sel.len()).map(|t| team(t, false))),
        strings((0..sel.len()).map(|t| team(t, true))),
    ];
    if joint {
        for (c, d) in [
            (cols::PI_MARKET, Department::Market),
            (cols::PI_ECOLOGY, Department::Ecology),
        ] {
            fields.push(field(&c, lang, DataType::Float64));
            let mut b = Float64Builder::new();
            for s in sel {
                b.append_option(s.by(d).map(|u| u.pi));
            }
            columns.push(Arc::new(b.finish()));
        }
    }
    if draw.coordination.is_some() {
        fields.push(field(&cols::U, lang, DataType::Float64));
        let mut b = Float64Builder::new();
        for s in sel {
            b.append_option(s.u);
        }
        columns.push(Arc::new(b.finish()));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|source| Error::Arrow {
        path: "<sample>".into(),
        source,
    })
}

/// The public list (一公开): who is inspected this month, without internal fields, with the
/// month, seed and algorithm id on every row so that anyone can re-derive it.
pub fn public_batch(
    draw: &Draw,
    frame: &SampleFrame,
    params: &DrawParams,
    lang: Lang,
) -> Result<RecordBatch> {
    let sel = &draw.selected;
    let n = sel.len();
    let fields = vec![
        field(&cols::SEQ, lang, DataType::UInt64),
        field(&out::USCC, lang, DataType::Utf8),
        field(&out::NAME, lang, DataType::Utf8),
        field(&out::DISTRICT, lang, DataType::Utf8),
        field(&cols::DEPARTMENTS, lang, DataType::Utf8),
        field(&cols::MONTH, lang, DataType::Utf8),
        field(&cols::SEED, lang, DataType::Utf8),
        field(&cols::ALGORITHM, lang, DataType::Utf8),
    ];
    let mut seq = UInt64Builder::new();
    for s in sel {
        seq.append_value(s.seq);
    }
    let constant = |v: String| strings(std::iter::repeat_n(Some(v), n));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(seq.finish()),
        strings(sel.iter().map(|s| Some(s.uscc.clone()))),
        strings(sel.iter().map(|s| Some(frame.name(s.index).to_string()))),
        strings(sel.iter().map(|s| {
            let code = frame.district[s.index];
            Some(match lang {
                Lang::En => code.to_string(),
                Lang::Zh => district::name(code).unwrap_or("").to_string(),
            })
        })),
        strings(sel.iter().map(|s| {
            Some(match lang {
                Lang::En => s.departments.en().to_string(),
                Lang::Zh => s.departments.zh().to_string(),
            })
        })),
        constant(params.month.to_string()),
        constant(params.seed.clone()),
        constant(params.algorithm.id().to_string()),
    ];
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|source| Error::Arrow {
        path: "<public sample>".into(),
        source,
    })
}

/// Reads a sample file back (any format, English or Chinese) for `verify`; also says which
/// language its headers are in, so the re-derived sample can be rendered the same way.
pub fn read_sample_lines(path: &Path, opts: &ReadOptions) -> Result<(Vec<SampleLine>, Lang)> {
    let reader = crate::table::open(path, opts)?;
    let schema = reader.schema();
    let known = [cols::SEQ, out::USCC, cols::DEPARTMENTS, cols::INSPECTORS];
    let map = ColumnMap::resolve(&schema, &known, &known[..3], path)?;
    let lang = if schema.fields().iter().any(|f| f.name() == cols::SEQ.zh) {
        Lang::Zh
    } else {
        Lang::En
    };
    let mut lines = Vec::new();
    let mut row = 0u64;
    for batch in reader {
        let batch = batch?;
        let col = |c: &Col| -> Result<Option<TextColumn>> {
            map.get(c)
                .map(|i| TextColumn::new(batch.column(i), path))
                .transpose()
        };
        let (seq, uscc, deps, ins) = (
            col(&cols::SEQ)?,
            col(&out::USCC)?,
            col(&cols::DEPARTMENTS)?,
            col(&cols::INSPECTORS)?,
        );
        for i in 0..batch.num_rows() {
            row += 1;
            let bad = |column: &str, value: &str, expected: &str| Error::BadValue {
                path: path.to_path_buf(),
                row,
                column: column.to_string(),
                value: value.to_string(),
                expected: expected.to_string(),
            };
            fn get(t: &Option<TextColumn>, i: usize) -> &str {
                t.as_ref().and_then(|t| t.get(i)).unwrap_or("")
            }
            let s = get(&seq, i);
            let seq_v: u64 = s.parse().map_err(|_| bad("seq", s, "a whole number"))?;
            let d = get(&deps, i);
            let departments = Departments::parse(d)
                .ok_or_else(|| bad("departments", d, "market, ecology or market+ecology"))?;
            let inspectors = get(&ins, i)
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            lines.push(SampleLine {
                seq: seq_v,
                uscc: get(&uscc, i).to_ascii_uppercase(),
                departments,
                inspectors,
            });
        }
    }
    Ok((lines, lang))
}

/// Converts validated inspector rows into the sampler's inspectors.
pub fn inspectors_from_rows(rows: &[crate::input::tables::InspectorRow]) -> Vec<Inspector> {
    rows.iter()
        .map(|r| Inspector {
            id: r.inspector_id.clone(),
            name: r.name.clone(),
            department: r.department,
            district: r.district,
            conflicts: r.conflicts.clone(),
        })
        .collect()
}
