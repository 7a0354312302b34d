//! Binning (分箱) of one feature for the scorecard, and the lookup that puts a cell in its bin.
//!
//! - Numeric: quantile pre-bins `[lower, upper)` whose edges are data values; bins under the
//!   minimum size are merged into the neighbour with the closer event rate; with monotonic `auto`
//!   adjacent violators are pooled (PAVA) into an ascending and into a descending trend and the
//!   trend keeping the larger IV wins.
//! - Categorical: one bin per level; levels under the minimum size are pooled into one bin, which
//!   joins the level with the closest event rate when it is itself still too small.
//! - Boolean: always the two bins false and true (a rare flag such as 严重违法失信 stays its own bin).
//! - Every feature has a missing-value bin, even when training saw no missing value.
//!
//! A category never seen in training is not in any bin: the scorecard scores it with WoE 0 (the
//! population's odds, 0 points) — the documented fallback.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::frame::{Cell, FeatureKind};
use super::params::Monotonic;
use super::woe::{Stats, woe_iv};

/// The values a bin holds. In the model file: `{"type": "range", "lower": 1.0, "upper": 3.0}`,
/// `{"type": "levels", "levels": ["a", "b"]}`, `{"type": "bool", "value": true}`,
/// `{"type": "missing"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BinRule {
    /// Null, empty or NaN.
    Missing,
    /// Numbers in `[lower, upper)`; `None` is unbounded.
    Range {
        lower: Option<f64>,
        upper: Option<f64>,
    },
    /// These category labels (normalised).
    Levels { levels: Vec<String> },
    /// This boolean value.
    Bool { value: bool },
}

impl BinRule {
    /// Human-readable label: `[1, 3)`, `< 1`, `>= 3`, `missing`, `a | b`, `true`.
    pub fn label(&self) -> String {
        match self {
            BinRule::Missing => "missing".to_string(),
            BinRule::Range { lower, upper } => match (lower, upper) {
                (None, None) => "all".to_string(),
                (None, Some(u)) => format!("< {u}"),
                (Some(l), None) => format!(">= {l}"),
                (Some(l), Some(u)) => format!("[{l}, {u})"),
            },
            BinRule::Levels { levels } => levels.join(" | "),
            BinRule::Bool { value } => value.to_string(),
        }
    }
}

/// Binning options, from the validated training parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinOptions {
    /// Number of quantile pre-bins.
    pub prebins: usize,
    /// Minimum rows of a bin (a share of all training rows, rounded up, at least 1).
    pub min_count: u64,
    /// Monotonic merging of numeric bins.
    pub monotonic: Monotonic,
}

/// One fitted bin: its rule, and the training rows and weights that fell in it.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedBin {
    pub rule: BinRule,
    pub stats: Stats,
}

/// Bins one feature from its training cells and the rows' (good, bad) weights. `Err(row)` names
/// the first cell that is `Invalid` or of another kind.
pub fn bin_feature(
    kind: FeatureKind,
    cells: &[Cell],
    weights: &[(f64, f64)],
    opts: &BinOptions,
) -> Result<Vec<FittedBin>, usize> {
    let mut missing = Stats::default();
    let bins = match kind {
        FeatureKind::Numeric => {
            let mut vals: Vec<(f64, f64, f64)> = Vec::with_capacity(cells.len());
            for (i, (c, &(g, b))) in cells.iter().zip(weights).enumerate() {
                match c {
                    Cell::Num(x) => vals.push((*x, g, b)),
                    Cell::Missing => missing.add(g, b),
                    _ => return Err(i),
                }
            }
            bin_numeric(vals, opts)
        }
        FeatureKind::Categorical => {
            let mut levels: BTreeMap<String, Stats> = BTreeMap::new();
            for (i, (c, &(g, b))) in cells.iter().zip(weights).enumerate() {
                match c {
                    Cell::Text(s) => levels.entry(s.clone()).or_default().add(g, b),
                    Cell::Missing => missing.add(g, b),
                    _ => return Err(i),
                }
            }
            bin_categorical(levels, opts.min_count)
        }
        FeatureKind::Boolean => {
            let mut st = [Stats::default(); 2];
            for (i, (c, &(g, b))) in cells.iter().zip(weights).enumerate() {
                match c {
                    Cell::Bool(v) => st[usize::from(*v)].add(g, b),
                    Cell::Missing => missing.add(g, b),
                    _ => return Err(i),
                }
            }
            vec![
                FittedBin {
                    rule: BinRule::Bool { value: false },
                    stats: st[0],
                },
                FittedBin {
                    rule: BinRule::Bool { value: true },
                    stats: st[1],
                },
            ]
        }
    };
    let mut bins = bins;
    bins.push(FittedBin {
        rule: BinRule::Missing,
        stats: missing,
    });
    Ok(bins)
}

/// A contiguous numeric range under construction.
#[derive(Debug, Clone, Copy)]
struct Range {
    lower: Option<f64>,
    upper: Option<f64>,
    stats: Stats,
}

impl Range {
    fn join(self, right: Range) -> Range {
        Range {
            lower: self.lower,
            upper: right.upper,
            stats: self.stats.merged(right.stats),
        }
    }
}

/// Numeric binning of `(value, good, bad)` rows (non-missing).
fn bin_numeric(mut vals: Vec<(f64, f64, f64)>, opts: &BinOptions) -> Vec<FittedBin> {
    if vals.is_empty() {
        return Vec::new();
    }
    vals.sort_by(|a, b| a.0.total_cmp(&b.0));
    let edges = prebin_edges(&vals, opts.prebins);
    // Aggregate rows into the pre-bins [edge_{i-1}, edge_i).
    let mut ranges: Vec<Range> = Vec::with_capacity(edges.len() + 1);
    let mut lower = None;
    for &e in &edges {
        ranges.push(Range {
            lower,
            upper: Some(e),
            stats: Stats::default(),
        });
        lower = Some(e);
    }
    ranges.push(Range {
        lower,
        upper: None,
        stats: Stats::default(),
    });
    let mut k = 0;
    for &(x, g, b) in &vals {
        while k < edges.len() && x >= edges[k] {
            k += 1;
        }
        ranges[k].stats.add(g, b);
    }
    let ranges = merge_small(ranges, opts.min_count);
    let ranges = match opts.monotonic {
        Monotonic::None => ranges,
        Monotonic::Auto => {
            let up = pava(&ranges, true);
            let down = pava(&ranges, false);
            let iv = |r: &[Range]| woe_iv(&r.iter().map(|r| r.stats).collect::<Vec<_>>()).1;
            // Ties keep the descending trend (bad rate falling as the value grows): arbitrary
            // but fixed, so the same data always gives the same bins.
            if iv(&up) > iv(&down) { up } else { down }
        }
    };
    ranges
        .into_iter()
        .map(|r| FittedBin {
            rule: BinRule::Range {
                lower: r.lower,
                upper: r.upper,
            },
            stats: r.stats,
        })
        .collect()
}

/// Pre-bin edges: every distinct value (but the smallest) when there are at most `prebins` of
/// them, else the values at ranks ⌊q·n/prebins⌋, q = 1..prebins−1, without repeats. Each edge is a
/// data value, so no pre-bin is empty.
fn prebin_edges(sorted: &[(f64, f64, f64)], prebins: usize) -> Vec<f64> {
    let mut distinct: Vec<f64> = sorted.iter().map(|v| v.0).collect();
    distinct.dedup();
    if distinct.len() <= prebins {
        return distinct[1..].to_vec();
    }
    let n = sorted.len();
    let min = sorted[0].0;
    let mut edges: Vec<f64> = Vec::with_capacity(prebins);
    for q in 1..prebins {
        let e = sorted[q * n / prebins].0;
        if e > min && edges.last().is_none_or(|&l| e > l) {
            edges.push(e);
        }
    }
    edges
}

/// Merges the smallest range under `min_count` into the neighbour with the closer event rate
/// (ties: the smaller neighbour, then the left one), until every range is large enough or one is
/// left.
fn merge_small(mut r: Vec<Range>, min_count: u64) -> Vec<Range> {
    while r.len() > 1 {
        let Some((i, _)) = r
            .iter()
            .enumerate()
            .filter(|(_, x)| x.stats.count < min_count)
            .min_by_key(|(i, x)| (x.stats.count, *i))
        else {
            break;
        };
        let j = if i == 0 {
            1
        } else if i + 1 == r.len() {
            i - 1
        } else {
            let rate = r[i].stats.bad_rate();
            let dl = (r[i - 1].stats.bad_rate() - rate).abs();
            let dr = (r[i + 1].stats.bad_rate() - rate).abs();
            if dl < dr || (dl == dr && r[i - 1].stats.count <= r[i + 1].stats.count) {
                i - 1
            } else {
                i + 1
            }
        };
        let (a, b) = (i.min(j), i.max(j));
        r[a] = r[a].join(r[b]);
        r.remove(b);
    }
    r
}

/// Pool-adjacent-violators: merges adjacent ranges until the event rate is non-decreasing
/// (`increasing`) or non-increasing along the value axis.
fn pava(r: &[Range], increasing: bool) -> Vec<Range> {
    let mut out: Vec<Range> = Vec::with_capacity(r.len());
    for &x in r {
        out.push(x);
        while out.len() >= 2 {
            let n = out.len();
            let (a, b) = (out[n - 2].stats.bad_rate(), out[n - 1].stats.bad_rate());
            let violates = if increasing { a > b } else { a < b };
            if !violates {
                break;
            }
            // `out` has at least two elements here, so pop cannot fail.
            let top = out.pop().unwrap_or(x);
            let last = n - 2;
            out[last] = out[last].join(top);
        }
    }
    out
}

/// Categorical binning: a bin per level, rare levels pooled.
fn bin_categorical(levels: BTreeMap<String, Stats>, min_count: u64) -> Vec<FittedBin> {
    let mut bins: Vec<(Vec<String>, Stats)> = Vec::new();
    let mut rare: (Vec<String>, Stats) = (Vec::new(), Stats::default());
    for (level, st) in levels {
        if st.count >= min_count {
            bins.push((vec![level], st));
        } else {
            rare.0.push(level);
            rare.1 = rare.1.merged(st);
        }
    }
    if !rare.0.is_empty() {
        if rare.1.count >= min_count || bins.is_empty() {
            bins.push(rare);
        } else {
            let rate = rare.1.bad_rate();
            // `bins` is not empty in this branch, so a closest bin exists.
            let j = (0..bins.len())
                .min_by(|&a, &b| {
                    let da = (bins[a].1.bad_rate() - rate).abs();
                    let db = (bins[b].1.bad_rate() - rate).abs();
                    da.total_cmp(&db).then(a.cmp(&b))
                })
                .unwrap_or(0);
            bins[j].0.extend(rare.0);
            bins[j].0.sort();
            bins[j].1 = bins[j].1.merged(rare.1);
        }
    }
    // Lowest risk first, then by first label, for a readable and fixed order.
    bins.sort_by(|a, b| {
        a.1.bad_rate()
            .total_cmp(&b.1.bad_rate())
            .then_with(|| a.0.cmp(&b.0))
    });
    bins.into_iter()
        .map(|(levels, stats)| FittedBin {
            rule: BinRule::Levels { levels },
            stats,
        })
        .collect()
}

/// Where a cell falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// In this bin (index into the feature's bins).
    Bin(usize),
    /// A category not seen in training: scored with WoE 0, 0 points.
    Unseen,
    /// Not readable as the feature's kind: the row cannot be scored.
    Invalid,
}

/// A feature's bins compiled for fast assignment.
#[derive(Debug, Clone)]
pub enum Lookup {
    Numeric {
        /// Lower edges of the range bins but the first, ascending.
        edges: Vec<f64>,
        /// Bin index of each range, in ascending order.
        ranges: Vec<usize>,
        missing: usize,
    },
    Categorical {
        levels: HashMap<String, usize>,
        missing: usize,
    },
    Boolean {
        values: [Option<usize>; 2],
        missing: usize,
    },
}

impl Lookup {
    /// Compiles the bins of a feature; `Err` explains what is inconsistent (a gap between
    /// ranges, a level in two bins, a rule of the wrong kind, no missing bin).
    pub fn new(kind: FeatureKind, rules: &[&BinRule]) -> Result<Lookup, String> {
        let missing = rules
            .iter()
            .position(|r| matches!(r, BinRule::Missing))
            .ok_or("no missing-value bin")?;
        if rules
            .iter()
            .filter(|r| matches!(r, BinRule::Missing))
            .count()
            > 1
        {
            return Err("two missing-value bins".into());
        }
        let others = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| !matches!(r, BinRule::Missing));
        match kind {
            FeatureKind::Numeric => {
                let mut ranges: Vec<(Option<f64>, Option<f64>, usize)> = Vec::new();
                for (i, r) in others {
                    match r {
                        BinRule::Range { lower, upper } => ranges.push((*lower, *upper, i)),
                        _ => return Err(format!("bin {} is not a range", i + 1)),
                    }
                }
                ranges.sort_by(|a, b| match (a.0, b.0) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, _) => std::cmp::Ordering::Less,
                    (_, None) => std::cmp::Ordering::Greater,
                    (Some(x), Some(y)) => x.total_cmp(&y),
                });
                if let Some(first) = ranges.first()
                    && (first.0.is_some() || ranges.last().is_some_and(|l| l.1.is_some()))
                {
                    return Err("the ranges do not cover all numbers".into());
                }
                for w in ranges.windows(2) {
                    if w[0].1.is_none() || w[0].1 != w[1].0 {
                        return Err(format!(
                            "ranges {} and {} do not meet",
                            BinRule::Range {
                                lower: w[0].0,
                                upper: w[0].1
                            }
                            .label(),
                            BinRule::Range {
                                lower: w[1].0,
                                upper: w[1].1
                            }
                            .label()
                        ));
                    }
                }
                Ok(Lookup::Numeric {
                    edges: ranges.iter().skip(1).filter_map(|r| r.0).collect(),
                    ranges: ranges.iter().map(|r| r.2).collect(),
                    missing,
                })
            }
            FeatureKind::Categorical => {
                let mut levels = HashMap::new();
                for (i, r) in others {
                    match r {
                        BinRule::Levels { levels: ls } => {
                            for l in ls {
                                if levels.insert(crate::schema::norm(l), i).is_some() {
                                    return Err(format!("level {l:?} is in two bins"));
                                }
                            }
                        }
                        _ => return Err(format!("bin {} is not a set of levels", i + 1)),
                    }
                }
                Ok(Lookup::Categorical { levels, missing })
            }
            FeatureKind::Boolean => {
                let mut values = [None, None];
                for (i, r) in others {
                    match r {
                        BinRule::Bool { value } => {
                            if values[usize::from(*value)].replace(i).is_some() {
                                return Err(format!("two bins for {value}"));
                            }
                        }
                        _ => return Err(format!("bin {} is not true/false", i + 1)),
                    }
                }
                Ok(Lookup::Boolean { values, missing })
            }
        }
    }

    /// The bin of one cell.
    pub fn slot(&self, cell: &Cell) -> Slot {
        match (self, cell) {
            (Lookup::Numeric { missing, .. }, Cell::Missing)
            | (Lookup::Categorical { missing, .. }, Cell::Missing)
            | (Lookup::Boolean { missing, .. }, Cell::Missing) => Slot::Bin(*missing),
            // No range bin at all (training saw only missing values): a number is unseen.
            (Lookup::Numeric { edges, ranges, .. }, Cell::Num(x)) => ranges
                .get(edges.partition_point(|e| *e <= *x))
                .map_or(Slot::Unseen, |&b| Slot::Bin(b)),
            (Lookup::Categorical { levels, .. }, Cell::Text(s)) => {
                levels.get(s).map_or(Slot::Unseen, |&i| Slot::Bin(i))
            }
            (Lookup::Boolean { values, .. }, Cell::Bool(v)) => {
                values[usize::from(*v)].map_or(Slot::Unseen, Slot::Bin)
            }
            _ => Slot::Invalid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(min_count: u64, monotonic: Monotonic) -> BinOptions {
        BinOptions {
            prebins: 10,
            min_count,
            monotonic,
        }
    }

    fn rates(bins: &[FittedBin]) -> Vec<f64> {
        bins.iter()
            .filter(|b| !matches!(b.rule, BinRule::Missing))
            .map(|b| b.stats.bad_rate())
            .collect()
    }

    /// Ten values 0..9, 100 rows each; bad rate by value is a zig-zag around a falling trend.
    fn zigzag() -> (Vec<Cell>, Vec<(f64, f64)>) {
        let bad_per_100 = [50, 40, 45, 30, 35, 20, 25, 10, 15, 5];
        let mut cells = Vec::new();
        let mut w = Vec::new();
        for (v, &bad) in bad_per_100.iter().enumerate() {
            for k in 0..100 {
                cells.push(Cell::Num(v as f64));
                w.push(if k < bad { (0.0, 1.0) } else { (1.0, 0.0) });
            }
        }
        (cells, w)
    }

    #[test]
    fn monotonic_auto_pools_the_zigzag_into_a_falling_trend() {
        let (cells, w) = zigzag();
        let none =
            bin_feature(FeatureKind::Numeric, &cells, &w, &opts(1, Monotonic::None)).unwrap();
        // Without the option every distinct value keeps its bin (10 ranges + missing).
        assert_eq!(none.len(), 11);
        let bins =
            bin_feature(FeatureKind::Numeric, &cells, &w, &opts(1, Monotonic::Auto)).unwrap();
        let r = rates(&bins);
        assert!(r.windows(2).all(|p| p[0] >= p[1]), "not monotonic: {r:?}");
        // PAVA pools (40,45), (30,35), (20,25), (10,15): 50, 42.5, 32.5, 22.5, 12.5, 5 per 100.
        let want = [0.5, 0.425, 0.325, 0.225, 0.125, 0.05];
        assert_eq!(r.len(), want.len());
        for (a, b) in r.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{r:?}");
        }
        assert_eq!(
            bins[1].rule,
            BinRule::Range {
                lower: Some(1.0),
                upper: Some(3.0)
            }
        );
    }

    #[test]
    fn missing_values_get_their_own_bin() {
        let cells = vec![
            Cell::Num(1.0),
            Cell::Missing,
            Cell::Num(2.0),
            Cell::Missing,
            Cell::Missing,
        ];
        let w = vec![(1.0, 0.0), (0.0, 1.0), (1.0, 0.0), (0.0, 1.0), (1.0, 0.0)];
        let bins =
            bin_feature(FeatureKind::Numeric, &cells, &w, &opts(1, Monotonic::None)).unwrap();
        let m = bins.last().unwrap();
        assert_eq!(m.rule, BinRule::Missing);
        assert_eq!(
            m.stats,
            Stats {
                count: 3,
                good: 1.0,
                bad: 2.0
            }
        );
        // Missing rows are nowhere else.
        let others: u64 = bins[..bins.len() - 1].iter().map(|b| b.stats.count).sum();
        assert_eq!(others, 2);
        // Without any missing value in training the bin still exists, empty.
        let bins = bin_feature(
            FeatureKind::Numeric,
            &cells[..1],
            &w[..1],
            &opts(1, Monotonic::None),
        )
        .unwrap();
        assert_eq!(bins.last().unwrap().stats.count, 0);
    }

    #[test]
    fn small_bins_merge_with_the_closer_rate() {
        // Values 0,1,2 with 10, 2, 10 rows; value 1 (rate 1.0) is closer to value 2 (rate 0.8)
        // than to value 0 (rate 0.0), so it joins value 2.
        let mut cells = Vec::new();
        let mut w = Vec::new();
        for (v, n, bad) in [(0.0, 10, 0), (1.0, 2, 2), (2.0, 10, 8)] {
            for k in 0..n {
                cells.push(Cell::Num(v));
                w.push(if k < bad { (0.0, 1.0) } else { (1.0, 0.0) });
            }
        }
        let bins =
            bin_feature(FeatureKind::Numeric, &cells, &w, &opts(5, Monotonic::None)).unwrap();
        assert_eq!(bins.len(), 3);
        assert_eq!(
            bins[1].rule,
            BinRule::Range {
                lower: Some(1.0),
                upper: None
            }
        );
        assert_eq!(bins[1].stats.count, 12);
    }

    #[test]
    fn quantile_prebins_on_many_values() {
        let vals: Vec<(f64, f64, f64)> = (0..1000).map(|i| (i as f64, 1.0, 0.0)).collect();
        // ranks ⌊q·1000/10⌋ = 100, 200, …, 900.
        assert_eq!(
            prebin_edges(&vals, 10),
            vec![
                100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 900.0
            ]
        );
    }

    #[test]
    fn rare_levels_pool_and_unseen_levels_fall_back() {
        let mut cells = Vec::new();
        let mut w = Vec::new();
        for (l, n, bad) in [("a", 50, 5), ("b", 50, 25), ("x", 3, 2), ("y", 2, 1)] {
            for k in 0..n {
                cells.push(Cell::Text(l.into()));
                w.push(if k < bad { (0.0, 1.0) } else { (1.0, 0.0) });
            }
        }
        let bins = bin_feature(
            FeatureKind::Categorical,
            &cells,
            &w,
            &opts(5, Monotonic::Auto),
        )
        .unwrap();
        // x and y (5 rows, rate 0.6) are pooled; the pool has 5 rows ≥ 5, so it stays a bin.
        let labels: Vec<String> = bins.iter().map(|b| b.rule.label()).collect();
        assert_eq!(labels, vec!["a", "b", "x | y", "missing"]);
        let rules: Vec<&BinRule> = bins.iter().map(|b| &b.rule).collect();
        let lk = Lookup::new(FeatureKind::Categorical, &rules).unwrap();
        assert_eq!(lk.slot(&Cell::Text("y".into())), Slot::Bin(2));
        assert_eq!(lk.slot(&Cell::Text("never".into())), Slot::Unseen);
        assert_eq!(lk.slot(&Cell::Missing), Slot::Bin(3));
        assert_eq!(lk.slot(&Cell::Num(1.0)), Slot::Invalid);
    }

    #[test]
    fn numeric_lookup_uses_left_closed_ranges() {
        let rules = [
            BinRule::Range {
                lower: None,
                upper: Some(1.0),
            },
            BinRule::Range {
                lower: Some(1.0),
                upper: Some(3.0),
            },
            BinRule::Range {
                lower: Some(3.0),
                upper: None,
            },
            BinRule::Missing,
        ];
        let refs: Vec<&BinRule> = rules.iter().collect();
        let lk = Lookup::new(FeatureKind::Numeric, &refs).unwrap();
        assert_eq!(lk.slot(&Cell::Num(0.99)), Slot::Bin(0));
        assert_eq!(lk.slot(&Cell::Num(1.0)), Slot::Bin(1));
        assert_eq!(lk.slot(&Cell::Num(3.0)), Slot::Bin(2));
        assert_eq!(lk.slot(&Cell::Missing), Slot::Bin(3));
        let gap = [&rules[0], &rules[2], &rules[3]];
        assert!(Lookup::new(FeatureKind::Numeric, &gap).is_err());
        // Only a missing bin (training saw no number): numbers are unseen, not a panic.
        let only_missing = Lookup::new(FeatureKind::Numeric, &[&rules[3]]).unwrap();
        assert_eq!(only_missing.slot(&Cell::Num(5.0)), Slot::Unseen);
        assert_eq!(only_missing.slot(&Cell::Missing), Slot::Bin(0));
    }

    proptest::proptest! {
        /// Any numeric data: every row lands in exactly one bin, each bin holds the rows its
        /// rule says, no bin but the missing one is under the minimum size (unless only one is
        /// left), and with monotonic `auto` the event rate is monotonic.
        #[test]
        fn numeric_binning_invariants(
            rows in proptest::collection::vec((proptest::option::of(-50i32..50), proptest::bool::ANY), 1..300),
            min_count in 1u64..40,
        ) {
            let cells: Vec<Cell> = rows
                .iter()
                .map(|(v, _)| v.map_or(Cell::Missing, |x| Cell::Num(f64::from(x))))
                .collect();
            let w: Vec<(f64, f64)> = rows
                .iter()
                .map(|(_, bad)| if *bad { (0.0, 1.0) } else { (1.0, 0.0) })
                .collect();
            let bins = bin_feature(FeatureKind::Numeric, &cells, &w, &opts(min_count, Monotonic::Auto)).unwrap();
            let rules: Vec<&BinRule> = bins.iter().map(|b| &b.rule).collect();
            let lk = Lookup::new(FeatureKind::Numeric, &rules).unwrap();
            let mut counts = vec![0u64; bins.len()];
            for c in &cells {
                match lk.slot(c) {
                    Slot::Bin(i) => counts[i] += 1,
                    other => proptest::prop_assert!(false, "{other:?}"),
                }
            }
            let stored: Vec<u64> = bins.iter().map(|b| b.stats.count).collect();
            proptest::prop_assert_eq!(counts, stored);
            let ranges: Vec<&FittedBin> = bins.iter().filter(|b| b.rule != BinRule::Missing).collect();
            if ranges.len() > 1 {
                proptest::prop_assert!(ranges.iter().all(|b| b.stats.count >= min_count));
            }
            let r: Vec<f64> = ranges.iter().map(|b| b.stats.bad_rate()).collect();
            let up = r.windows(2).all(|p| p[0] <= p[1]);
            let down = r.windows(2).all(|p| p[0] >= p[1]);
            proptest::prop_assert!(up || down, "{r:?}");
        }
    }

    #[test]
    fn booleans_keep_both_bins_even_when_rare() {
        let cells: Vec<Cell> = (0..100).map(|i| Cell::Bool(i < 2)).collect();
        let w: Vec<(f64, f64)> = (0..100)
            .map(|i| if i < 2 { (0.0, 1.0) } else { (1.0, 0.0) })
            .collect();
        let bins =
            bin_feature(FeatureKind::Boolean, &cells, &w, &opts(5, Monotonic::Auto)).unwrap();
        assert_eq!(bins.len(), 3);
        assert_eq!(bins[1].stats.count, 2);
        assert_eq!(
            bin_feature(
                FeatureKind::Boolean,
                &[Cell::Num(1.0)],
                &[(1.0, 0.0)],
                &opts(1, Monotonic::Auto)
            ),
            Err(0)
        );
    }
}
