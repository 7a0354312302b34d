//! Pollution equivalents and the environmental-tax estimate per enterprise (SPEC §3.2) from the long
//! emissions table (one row per enterprise, outlet and pollutant; unsorted; possibly more rows than
//! enterprises). `EmissionAggregate` collects rows compactly (credit codes as `[u8; 18]` keys,
//! outlets interned, 24 bytes a row) in 64 shards by code, so rows are added and totals computed
//! on every core (`add_rows`, `finish`) and no table is ever resized whole; `finish` sums duplicates (same enterprise, outlet and
//! pollutant) and applies the per-outlet top-N rule of 环境保护税法 Art. 9: air, the 3 largest pe;
//! water, the 5 largest 第一类 plus the 3 largest 第二类 where of COD, BOD5 and TOC only the largest
//! counts; taxable pe × the policy's rates. The result, `EmissionTotals`, answers per credit code and
//! remembers which codes the enterprise table asked for, so rows of unknown enterprises (orphans)
//! are listed afterwards, never silently dropped.
//!
//! Sums are taken in a canonical order (enterprise, outlet name, pollutant, amount), so the result
//! is the same bit for bit whatever the order of the input rows: duplicate amounts are summed first,
//! then `pe = Σ amount / equivalent_kg` per (outlet, pollutant), then `pe_air`/`pe_water` = Σ pe over
//! outlets and pollutants in that order; tax = Σ taxable air pe × air rate + Σ taxable water pe ×
//! water rate.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::policy::TaxPolicy;
use crate::schema::Medium;
use crate::score::pollutants::{PollutantId, Pollutants, WaterClass};

/// A fast hasher for credit-code keys (FxHash-style multiply-rotate, finalised with a 64-bit
/// mixer). Not DoS-resistant: keys come from the bureau's own files.
#[derive(Default, Clone, Copy)]
pub struct UsccHasher(u64);

impl Hasher for UsccHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            // chunks_exact(8) yields 8-byte slices, so the conversion cannot fail.
            let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(K);
        }
    }

    #[inline]
    fn write_usize(&mut self, _len: usize) {
        // The length prefix of a fixed-size key carries no information.
    }

    #[inline]
    fn finish(&self) -> u64 {
        // murmur3 fmix64, so both high and low bits depend on every byte.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// Map from credit code to a dense slot.
pub type UsccMap<V> = HashMap<[u8; 18], V, BuildHasherDefault<UsccHasher>>;

#[derive(Debug, Clone, Copy)]
struct Row {
    ent: u32,
    outlet: u32,
    pollutant: PollutantId,
    amount_kg: f64,
}

/// Number of shards the aggregate and the totals are split into by credit code, so that rows are
/// added and totals computed on every core, and no table is ever resized as a whole.
const SHARDS: usize = 64;

/// The shard of a credit code: a hash independent of the maps' own (`UsccHasher`), so the codes
/// of one shard still spread over their map.
#[inline]
fn shard_of(uscc: &[u8; 18]) -> usize {
    let mut h: u64 = 0;
    for c in uscc.chunks(6) {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    (h >> 58) as usize
}

/// The rows of the enterprises of one shard.
#[derive(Debug, Default)]
struct Shard {
    ent_index: UsccMap<u32>,
    ent_uscc: Vec<[u8; 18]>,
    outlet_index: HashMap<Box<str>, u32, BuildHasherDefault<UsccHasher>>,
    outlet_names: Vec<Box<str>>,
    rows: Vec<Row>,
    /// The enterprise and outlet of the row added last: an enterprise's rows usually come
    /// together (outlet by outlet), so most rows skip both map lookups.
    last: Option<([u8; 18], u32, u32)>,
}

impl Shard {
    fn add(&mut self, uscc: [u8; 18], outlet: &str, id: PollutantId, amount_kg: f64) {
        let outlet_name = crate::table::cells::trim_cell(outlet);
        let (ent, outlet) = match self.last {
            Some((code, ent, o))
                if code == uscc && *self.outlet_names[o as usize] == *outlet_name =>
            {
                (ent, o)
            }
            Some((code, ent, _)) if code == uscc => (ent, self.outlet_id(outlet_name)),
            _ => {
                let next = self.ent_uscc.len() as u32;
                let ent = *self.ent_index.entry(uscc).or_insert_with(|| next);
                if ent == next {
                    self.ent_uscc.push(uscc);
                }
                (ent, self.outlet_id(outlet_name))
            }
        };
        self.last = Some((uscc, ent, outlet));
        self.rows.push(Row {
            ent,
            outlet,
            pollutant: id,
            amount_kg,
        });
    }

    /// The number of an outlet name in this shard (a new number for a new name).
    fn outlet_id(&mut self, name: &str) -> u32 {
        match self.outlet_index.get(name) {
            Some(&o) => o,
            None => {
                let o = self.outlet_names.len() as u32;
                self.outlet_names.push(name.into());
                self.outlet_index.insert(name.into(), o);
                o
            }
        }
    }
}

/// Collects emission rows (SPEC §1.2). Rows are checked by the reader (known pollutant, amount ≥ 0);
/// this type only adds them up.
///
/// Memory: 24 bytes per row until [`EmissionAggregate::finish`], plus per distinct enterprise its
/// code (18 bytes) and a map slot (about 25 / 0.7 bytes); `finish` frees the rows shard by shard
/// and keeps per enterprise the map slot and 32 bytes of totals.
#[derive(Debug)]
pub struct EmissionAggregate {
    shards: Vec<Shard>,
    /// Per-shard row indices of the batch being added (reused).
    buckets: Vec<Vec<u32>>,
}

impl Default for EmissionAggregate {
    fn default() -> Self {
        EmissionAggregate {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            buckets: vec![Vec::new(); SHARDS],
        }
    }
}

impl EmissionAggregate {
    /// An empty aggregate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one row: `amount_kg` (finite, ≥ 0) of pollutant `id` from `outlet` of enterprise
    /// `uscc` (upper-cased here). Rows with the same enterprise, outlet and pollutant are summed.
    pub fn add(&mut self, uscc: [u8; 18], outlet: &str, id: PollutantId, amount_kg: f64) {
        let uscc = uscc.map(|b| b.to_ascii_uppercase());
        self.shards[shard_of(&uscc)].add(uscc, outlet, id, amount_kg);
    }

    /// Adds many rows at once, the shards filled in parallel (rayon): the same result as adding
    /// them one by one with [`EmissionAggregate::add`].
    pub fn add_rows(&mut self, rows: &[crate::input::tables::EmissionRow<'_>]) {
        use rayon::prelude::*;
        for b in &mut self.buckets {
            b.clear();
        }
        let codes: Vec<[u8; 18]> = rows
            .iter()
            .map(|r| r.uscc.map(|b| b.to_ascii_uppercase()))
            .collect();
        for (i, c) in codes.iter().enumerate() {
            self.buckets[shard_of(c)].push(i as u32);
        }
        self.shards
            .par_iter_mut()
            .zip(&self.buckets)
            .for_each(|(shard, idx)| {
                for &i in idx {
                    let r = &rows[i as usize];
                    shard.add(
                        codes[i as usize],
                        r.outlet,
                        PollutantId(r.pollutant),
                        r.amount_kg,
                    );
                }
            });
    }

    /// Number of rows added.
    pub fn rows(&self) -> usize {
        self.shards.iter().map(|s| s.rows.len()).sum()
    }

    /// Number of distinct enterprises among the rows.
    pub fn enterprises(&self) -> usize {
        self.shards.iter().map(|s| s.ent_uscc.len()).sum()
    }

    /// Sums duplicates and computes per enterprise `pe_air`, `pe_water` and `env_tax_cny` (the
    /// shards in parallel).
    pub fn finish(self, pollutants: &Pollutants, tax: &TaxPolicy) -> EmissionTotals {
        use rayon::prelude::*;
        let rows = self.rows() as u64;
        let shards: Vec<TotalsShard> = self
            .shards
            .into_par_iter()
            .map(|s| finish_shard(s, pollutants, tax))
            .collect();
        EmissionTotals { shards, rows }
    }
}

/// The totals of one shard: rows sorted into the canonical order, then summed enterprise by
/// enterprise, outlet by outlet.
fn finish_shard(mut s: Shard, pollutants: &Pollutants, tax: &TaxPolicy) -> TotalsShard {
    // Rank outlets by name so that the summation order does not depend on input order.
    let mut by_name: Vec<u32> = (0..s.outlet_names.len() as u32).collect();
    by_name.sort_unstable_by(|&a, &b| s.outlet_names[a as usize].cmp(&s.outlet_names[b as usize]));
    let mut rank = vec![0u32; by_name.len()];
    for (r, &o) in by_name.iter().enumerate() {
        rank[o as usize] = r as u32;
    }
    drop(by_name);
    s.outlet_index = HashMap::default();
    s.outlet_names = Vec::new();
    for row in &mut s.rows {
        row.outlet = rank[row.outlet as usize];
    }
    drop(rank);
    s.rows.sort_unstable_by(|a, b| {
        (a.ent, a.outlet, a.pollutant)
            .cmp(&(b.ent, b.outlet, b.pollutant))
            .then(a.amount_kg.total_cmp(&b.amount_kg))
    });

    let n = s.ent_uscc.len();
    let mut totals = vec![EnterpriseEmissions::default(); n];
    let mut row_counts = vec![0u32; n];
    let mut outlet = OutletBuffers::default();
    let rows = &s.rows;
    let mut i = 0;
    while i < rows.len() {
        let ent = rows[i].ent;
        let mut acc = Accumulator::default();
        while i < rows.len() && rows[i].ent == ent {
            let o = rows[i].outlet;
            outlet.clear();
            while i < rows.len() && rows[i].ent == ent && rows[i].outlet == o {
                let pid = rows[i].pollutant;
                let mut amount = 0.0;
                while i < rows.len()
                    && rows[i].ent == ent
                    && rows[i].outlet == o
                    && rows[i].pollutant == pid
                {
                    amount += rows[i].amount_kg;
                    row_counts[ent as usize] += 1;
                    i += 1;
                }
                let p = pollutants.get(pid);
                let pe = amount / p.equivalent_kg;
                match (p.medium, p.water_class) {
                    (Medium::Air, _) => {
                        acc.pe_air += pe;
                        outlet.air.push(pe);
                    }
                    (Medium::Water, _) if p.oxygen_demand_group => {
                        acc.pe_water += pe;
                        outlet.oxygen_demand = Some(outlet.oxygen_demand.map_or(pe, |x| x.max(pe)));
                    }
                    (Medium::Water, Some(WaterClass::One)) => {
                        acc.pe_water += pe;
                        outlet.water1.push(pe);
                    }
                    (Medium::Water, _) => {
                        acc.pe_water += pe;
                        outlet.water2.push(pe);
                    }
                }
            }
            if let Some(od) = outlet.oxygen_demand {
                outlet.water2.push(od);
            }
            acc.taxable_air += top_sum(&mut outlet.air, tax.air_top_n);
            acc.taxable_water += top_sum(&mut outlet.water1, tax.water_class1_top_n)
                + top_sum(&mut outlet.water2, tax.water_class2_top_n);
        }
        totals[ent as usize] = EnterpriseEmissions {
            pe_air: acc.pe_air,
            pe_water: acc.pe_water,
            env_tax_cny: acc.taxable_air * tax.air_cny + acc.taxable_water * tax.water_cny,
        };
    }
    s.rows = Vec::new();
    s.ent_index.shrink_to_fit();
    TotalsShard {
        index: s.ent_index,
        totals,
        rows: row_counts,
        seen: (0..n).map(|_| AtomicBool::new(false)).collect(),
    }
}

#[derive(Default)]
struct Accumulator {
    pe_air: f64,
    pe_water: f64,
    taxable_air: f64,
    taxable_water: f64,
}

/// Per-outlet buffers, reused from outlet to outlet.
#[derive(Default)]
struct OutletBuffers {
    air: Vec<f64>,
    water1: Vec<f64>,
    water2: Vec<f64>,
    oxygen_demand: Option<f64>,
}

impl OutletBuffers {
    fn clear(&mut self) {
        self.air.clear();
        self.water1.clear();
        self.water2.clear();
        self.oxygen_demand = None;
    }
}

/// Sum of the `n` largest values, added largest first.
fn top_sum(values: &mut [f64], n: usize) -> f64 {
    values.sort_unstable_by(|a, b| b.total_cmp(a));
    values.iter().take(n).sum()
}

/// Pollution equivalents and tax of one enterprise.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EnterpriseEmissions {
    /// Σ pe over air rows (all outlets, all pollutants).
    pub pe_air: f64,
    /// Σ pe over water rows.
    pub pe_water: f64,
    /// 环境保护税 estimate (CNY): taxable pe × rate, no concentration reductions.
    pub env_tax_cny: f64,
}

/// A credit code of the emissions table that no enterprise row asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    pub uscc: String,
    /// Emission rows of that code.
    pub rows: u64,
}

/// The totals of the enterprises of one shard: the code → slot map and, by slot, the totals,
/// the row counts and whether scoring asked for the code.
#[derive(Debug)]
struct TotalsShard {
    index: UsccMap<u32>,
    totals: Vec<EnterpriseEmissions>,
    rows: Vec<u32>,
    seen: Vec<AtomicBool>,
}

/// Per-enterprise emissions, looked up by credit code while scoring (thread-safe).
#[derive(Debug)]
pub struct EmissionTotals {
    shards: Vec<TotalsShard>,
    rows: u64,
}

impl EmissionTotals {
    /// The emissions of an enterprise, recording that the code was asked for (see
    /// [`EmissionTotals::orphans`]); `None` when the table has no row for it (pe = 0).
    #[inline]
    pub fn get(&self, uscc: &[u8; 18]) -> Option<EnterpriseEmissions> {
        let s = &self.shards[shard_of(uscc)];
        let slot = *s.index.get(uscc)? as usize;
        let seen = &s.seen[slot];
        // Skip the store when already set: avoids writing a shared cache line on every lookup.
        if !seen.load(Ordering::Relaxed) {
            seen.store(true, Ordering::Relaxed);
        }
        Some(s.totals[slot])
    }

    /// Like [`EmissionTotals::get`] without recording the lookup.
    pub fn peek(&self, uscc: &[u8; 18]) -> Option<EnterpriseEmissions> {
        let s = &self.shards[shard_of(uscc)];
        s.index.get(uscc).map(|&slot| s.totals[slot as usize])
    }

    /// Codes of the emissions table never asked for, sorted, with their row counts.
    pub fn orphans(&self) -> Vec<Orphan> {
        let mut out: Vec<Orphan> = self
            .shards
            .iter()
            .flat_map(|s| {
                s.index
                    .iter()
                    .filter(|(_, slot)| !s.seen[**slot as usize].load(Ordering::Relaxed))
                    .map(|(k, slot)| Orphan {
                        uscc: String::from_utf8_lossy(k).into_owned(),
                        rows: u64::from(s.rows[*slot as usize]),
                    })
            })
            .collect();
        out.sort_unstable_by(|a, b| a.uscc.cmp(&b.uscc));
        out
    }

    /// Rows added in total (duplicates counted separately).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Distinct enterprises in the emissions table.
    pub fn enterprises(&self) -> usize {
        self.shards.iter().map(|s| s.index.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    fn code(s: &str) -> [u8; 18] {
        s.as_bytes().try_into().unwrap()
    }

    const E1: &str = "91110108MA01ABCD1X";
    const E2: &str = "91110105MA01ABCD2Y";

    fn id(m: Medium, s: &str) -> PollutantId {
        Pollutants::builtin().lookup(m, s).unwrap()
    }

    /// A hand-worked enterprise with two air outlets and two water outlets.
    fn rows() -> Vec<(&'static str, &'static str, Medium, &'static str, f64)> {
        use Medium::{Air, Water};
        vec![
            // DA001: so2 950/0.95 = 1000 (two quarters: 500 + 450), nox 475/0.95 = 500,
            //        dust 400/4 = 100, toluene_air 9/0.18 = 50 → taxed: 1000+500+100 = 1600
            (E1, "DA001", Air, "so2", 500.0),
            (E1, "DA001", Air, "二氧化硫", 450.0),
            (E1, "DA001", Air, "nox", 475.0),
            (E1, "DA001", Air, "一般性粉尘", 400.0),
            (E1, "DA001", Air, "toluene_air", 9.0),
            // DA002: co 167/16.7 = 10 → taxed 10
            (E1, "DA002", Air, "co", 167.0),
            // DW001: class 1: hg 0.001/0.0005 = 2, cd 0.05/0.005 = 10, cr 0.4/0.04 = 10,
            //        cr6 0.02/0.02 = 1, as 0.06/0.02 = 3, pb 0.025/0.025 = 1 → top 5: 10+10+3+2+1 = 26
            //        class 2: cod 300/1 = 300, bod5 100/0.5 = 200, toc 98/0.49 = 200 → one item 300;
            //        nh3n 40/0.8 = 50, ss 80/4 = 20, tp 2.5/0.25 = 10 → top 3: 300+50+20 = 370
            (E1, "DW001", Water, "hg", 0.001),
            (E1, "DW001", Water, "总镉", 0.05),
            (E1, "DW001", Water, "cr", 0.4),
            (E1, "DW001", Water, "cr6", 0.02),
            (E1, "DW001", Water, "as", 0.06),
            (E1, "DW001", Water, "pb", 0.025),
            (E1, "DW001", Water, "化学需氧量(CODcr)", 300.0),
            (E1, "DW001", Water, "bod5", 100.0),
            (E1, "DW001", Water, "toc", 98.0),
            (E1, "DW001", Water, "氨氮", 40.0),
            (E1, "DW001", Water, "ss", 80.0),
            (E1, "DW001", Water, "tp", 2.5),
            // DW002: bod5 150/0.5 = 300 is the largest of the group here → taxed 300
            (E1, "DW002", Water, "bod5", 150.0),
            // Another enterprise, lower-case code in the file.
            (E2, "DA001", Air, "so2", 95.0),
        ]
    }

    fn aggregate(rows: &[(&str, &str, Medium, &str, f64)]) -> EmissionTotals {
        let mut agg = EmissionAggregate::new();
        for (u, o, m, p, a) in rows {
            agg.add(code(u), o, id(*m, p), *a);
        }
        agg.finish(Pollutants::builtin(), &Policy::default().tax)
    }

    #[test]
    fn hand_worked_enterprise() {
        let t = aggregate(&rows());
        let e = t.get(&code(E1)).unwrap();
        // pe_air = 1000 + 500 + 100 + 50 + 10 = 1660
        assert!((e.pe_air - 1660.0).abs() < 1e-9, "{}", e.pe_air);
        // pe_water = (2+10+10+1+3+1) + (300+200+200) + (50+20+10) + 300 = 27 + 700 + 80 + 300 = 1107
        assert!((e.pe_water - 1107.0).abs() < 1e-9, "{}", e.pe_water);
        // taxable air = 1600 + 10 = 1610 → × 12 = 19320
        // taxable water = DW001 (26 + 370) + DW002 300 = 696 → × 14 = 9744
        // tax = 19320 + 9744 = 29064
        assert!((e.env_tax_cny - 29064.0).abs() < 1e-6, "{}", e.env_tax_cny);
        let e2 = t.get(&code(E2)).unwrap();
        assert!((e2.pe_air - 100.0).abs() < 1e-9);
        assert!((e2.env_tax_cny - 1200.0).abs() < 1e-9);
    }

    #[test]
    fn duplicates_are_summed_before_the_top_n() {
        // Four quarters of nox (4 × 118.75 = 475 kg → 500 pe) must count as one pollutant: with
        // so2 1000, dust 100 and toluene 50 the top 3 are 1000 + 500 + 100 = 1600, not
        // 1000 + 125 + 125.
        let mut r: Vec<_> = rows().into_iter().filter(|r| r.3 != "nox").collect();
        for _ in 0..4 {
            r.push((E1, "DA001", Medium::Air, "氮氧化物", 118.75));
        }
        let a = aggregate(&rows()).peek(&code(E1)).unwrap();
        let b = aggregate(&r).peek(&code(E1)).unwrap();
        assert!((a.env_tax_cny - b.env_tax_cny).abs() < 1e-9);
        assert!((a.pe_air - b.pe_air).abs() < 1e-9);
    }

    #[test]
    fn row_order_changes_nothing() {
        let base = aggregate(&rows());
        let mut r = rows();
        r.reverse();
        r.swap(3, 11);
        let other = aggregate(&r);
        for u in [E1, E2] {
            // Bit for bit: sums run in a canonical order.
            assert_eq!(base.peek(&code(u)), other.peek(&code(u)));
        }
    }

    #[test]
    fn top_n_follows_the_policy() {
        let mut tax = Policy::default().tax;
        tax.air_top_n = 1;
        let mut agg = EmissionAggregate::new();
        for (u, o, m, p, a) in rows() {
            agg.add(code(u), o, id(m, p), a);
        }
        let t = agg.finish(Pollutants::builtin(), &tax);
        let e = t.peek(&code(E1)).unwrap();
        // taxable air = DA001 1000 + DA002 10 = 1010 → 12120; water unchanged 9744.
        assert!((e.env_tax_cny - (12120.0 + 9744.0)).abs() < 1e-6);
    }

    #[test]
    fn orphans_are_the_codes_never_asked_for() {
        let t = aggregate(&rows());
        assert_eq!(t.rows(), 20);
        assert_eq!(t.enterprises(), 2);
        assert_eq!(t.orphans().len(), 2);
        // peek does not count as a lookup.
        t.peek(&code(E1));
        assert_eq!(t.orphans().len(), 2);
        assert!(t.get(&code(E1)).is_some());
        assert_eq!(
            t.orphans(),
            [Orphan {
                uscc: E2.into(),
                rows: 1
            }]
        );
        assert!(t.get(&code("91110108MA01ABCD3Z")).is_none());
        t.get(&code(E2));
        assert!(t.orphans().is_empty());
    }

    #[test]
    fn codes_are_upper_cased() {
        let mut agg = EmissionAggregate::new();
        agg.add(
            code(&E1.to_lowercase()),
            "DA001",
            id(Medium::Air, "so2"),
            9.5,
        );
        let t = agg.finish(Pollutants::builtin(), &Policy::default().tax);
        assert!((t.get(&code(E1)).unwrap().pe_air - 10.0).abs() < 1e-12);
    }

    #[test]
    fn hasher_spreads_codes() {
        use std::hash::BuildHasher;
        let b = BuildHasherDefault::<UsccHasher>::default();
        let h1 = b.hash_one(code(E1));
        let h2 = b.hash_one(code(E2));
        assert_ne!(h1, h2);
        // Codes differing only in the last byte must differ in the low bits too.
        let mut seen = std::collections::HashSet::new();
        for c in b"0123456789ABCDEFGHJKLMNPQRTUWXY" {
            let mut k = code(E1);
            k[17] = *c;
            seen.insert(b.hash_one(k) & 0xff);
        }
        assert!(seen.len() > 20, "{}", seen.len());
    }
}
