//! Credit codes at national scale: the allocation-free form of the SPEC §2.1 check
//! ([`check_key`], the same answers as [`crate::uscc::check`] as fixed bytes), the 90-bit packing
//! of a code ([`pack`]), [`CodeSet`], the exact set of codes already seen that the streaming
//! readers use to reject a repeated code (`USCC_DUPLICATE`) across batches, and [`RepeatFinder`],
//! which finds the repeats of a whole table at once when the table is held anyway (`sample`).
//!
//! Memory of a [`CodeSet`]: a code packs into 90 bits, kept as three `u32` words (12 bytes) in an
//! open-addressing table split into [`CodeSet::PARTS`] parts that grow independently (so a resize
//! never doubles the whole set at once). Each part stays between 3/8 and 3/4 full: about 12 / 0.56
//! ≈ 21 bytes per distinct code on average, 32 at worst — some 210 MB for 10⁷ enterprises, against
//! about 32 bytes for a `HashSet<[u8; 18]>` (plus a transient doubling on each resize).

use crate::uscc;

/// A credit code checked as SPEC §2.1 says: upper-cased bytes and whether the check character was
/// wrong. `None` when the code is malformed (wrong length or a character outside the set).
///
/// Agrees with [`uscc::check`] on every input (`Valid` → `Some((code, false))`, `BadChecksum` →
/// `Some((code, true))`, `Malformed` → `None`) without allocating.
///
/// ```
/// use spotcheck::table::codes::check_key;
/// assert_eq!(check_key(" 91350100m000100y43 "), Some((*b"91350100M000100Y43", false)));
/// assert_eq!(check_key("91350100M000100Y44"), Some((*b"91350100M000100Y44", true)));
/// assert_eq!(check_key("9135010"), None);
/// ```
#[inline]
pub fn check_key(code: &str) -> Option<([u8; 18], bool)> {
    let bytes = crate::table::cells::trim_cell(code).as_bytes();
    let bytes: &[u8; 18] = bytes.try_into().ok()?;
    let mut up = [0u8; 18];
    let mut sum = 0u32;
    for (i, &b) in bytes.iter().enumerate() {
        let u = b.to_ascii_uppercase();
        let v = uscc::value(u)?;
        if i < 17 {
            sum += v * uscc::WEIGHTS[i];
        }
        up[i] = u;
    }
    let c18 = uscc::CHARSET[((31 - sum % 31) % 31) as usize];
    Some((up, c18 != up[17]))
}

/// Packs an upper-cased, well-formed code into 90 bits: 5 bits per character value (0..=30), the
/// first character highest. Distinct codes give distinct numbers; characters outside the set
/// (which [`check_key`] never returns) are packed as 31.
#[inline]
pub fn pack(code: &[u8; 18]) -> u128 {
    // Two halves of 45 bits in 64-bit arithmetic, then put together.
    let half = |s: &[u8]| {
        s.iter().fold(0u64, |x, &b| {
            (x << 5) | u64::from(uscc::value(b).unwrap_or(31))
        })
    };
    (u128::from(half(&code[..9])) << 45) | u128::from(half(&code[9..]))
}

/// The three words a packed code is stored as; `[0, 0, 0]` is the empty slot, so stored words are
/// the packed code plus one (90 bits + 1 never overflows 96).
#[inline]
fn words(code: &[u8; 18]) -> [u32; 3] {
    let x = pack(code) + 1;
    [(x >> 64) as u32, (x >> 32) as u32, x as u32]
}

#[inline]
fn hash(w: &[u32; 3]) -> u64 {
    // murmur3 fmix64 over the two halves: both the part (high bits) and the slot (low bits)
    // depend on every character.
    let mut h = (u64::from(w[0]) << 32 | u64::from(w[1])) ^ u64::from(w[2]).rotate_left(29);
    h = h.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// One open-addressing table (linear probing) of packed codes.
#[derive(Debug, Default, Clone)]
struct Part {
    slots: Vec<[u32; 3]>,
    len: usize,
}

impl Part {
    /// Inserts; `false` when already present.
    fn insert(&mut self, w: [u32; 3], h: u64) -> bool {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = (h as usize) & mask;
        loop {
            let s = self.slots[i];
            if s == [0, 0, 0] {
                self.slots[i] = w;
                self.len += 1;
                return true;
            }
            if s == w {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    /// Grows until `extra` more codes fit without another resize.
    fn reserve(&mut self, extra: usize) {
        while (self.len + extra) * 4 > self.slots.len() * 3 {
            self.grow();
        }
    }

    fn contains(&self, w: &[u32; 3], h: u64) -> bool {
        if self.slots.is_empty() {
            return false;
        }
        let mask = self.slots.len() - 1;
        let mut i = (h as usize) & mask;
        loop {
            let s = &self.slots[i];
            if *s == [0, 0, 0] {
                return false;
            }
            if s == w {
                return true;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let cap = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![[0; 3]; cap]);
        let mask = cap - 1;
        for w in old.into_iter().filter(|w| *w != [0, 0, 0]) {
            let mut i = (hash(&w) as usize) & mask;
            while self.slots[i] != [0, 0, 0] {
                i = (i + 1) & mask;
            }
            self.slots[i] = w;
        }
    }
}

/// The exact set of credit codes seen so far (see the file comment for its memory).
#[derive(Debug, Clone)]
pub struct CodeSet {
    parts: Vec<Part>,
    len: usize,
}

impl Default for CodeSet {
    fn default() -> Self {
        CodeSet::new()
    }
}

impl CodeSet {
    /// Number of independently grown parts.
    pub const PARTS: usize = 1024;

    /// An empty set.
    pub fn new() -> Self {
        CodeSet {
            parts: vec![Part::default(); Self::PARTS],
            len: 0,
        }
    }

    /// Adds a code (upper-cased, as [`check_key`] returns it); `false` when it was already there.
    #[inline]
    pub fn insert(&mut self, code: &[u8; 18]) -> bool {
        let w = words(code);
        let h = hash(&w);
        let part = (h >> 54) as usize; // the top 10 bits: 1024 parts
        let added = self.parts[part].insert(w, h);
        self.len += usize::from(added);
        added
    }

    /// Adds many codes, as if one by one in the order given, and says for each whether it was
    /// new (`false`: already in the set, or earlier in `codes`). The codes are grouped by part
    /// first, so each part's table is touched in one go (it stays in cache), and the parts are
    /// filled in parallel (rayon).
    pub fn insert_many(&mut self, codes: &[[u8; 18]]) -> Vec<bool> {
        use rayon::prelude::*;
        let prepared: Vec<([u32; 3], u64)> = codes
            .iter()
            .map(|c| {
                let w = words(c);
                (w, hash(&w))
            })
            .collect();
        // Counting sort of the indices by part, keeping the given order within a part.
        let mut start = vec![0u32; Self::PARTS + 1];
        for (_, h) in &prepared {
            start[(h >> 54) as usize + 1] += 1;
        }
        for p in 0..Self::PARTS {
            start[p + 1] += start[p];
        }
        let mut fill = start.clone();
        let mut order = vec![0u32; codes.len()];
        for (i, (_, h)) in prepared.iter().enumerate() {
            let p = (h >> 54) as usize;
            order[fill[p] as usize] = i as u32;
            fill[p] += 1;
        }
        let mut added = vec![false; codes.len()];
        let per_part: Vec<Vec<(u32, bool)>> = self
            .parts
            .par_iter_mut()
            .enumerate()
            .map(|(p, part)| {
                let idx = &order[start[p] as usize..start[p + 1] as usize];
                if idx.is_empty() {
                    return Vec::new();
                }
                // Sized once, then the codes go in by home slot: the part's table is swept in
                // address order (few cache and TLB misses) instead of hit at random. The sort is
                // stable, so repeats of a code (same slot) keep their order and the first wins.
                part.reserve(idx.len());
                let mask = part.slots.len() - 1;
                let mut by_slot: Vec<(u32, u32)> = idx
                    .iter()
                    .map(|&i| ((prepared[i as usize].1 as usize & mask) as u32, i))
                    .collect();
                by_slot.sort_by_key(|&(slot, _)| slot);
                by_slot
                    .iter()
                    .map(|&(_, i)| {
                        let (w, h) = prepared[i as usize];
                        (i, part.insert(w, h))
                    })
                    .collect()
            })
            .collect();
        for (i, new) in per_part.into_iter().flatten() {
            added[i as usize] = new;
            self.len += usize::from(new);
        }
        added
    }

    /// Whether a code is in the set.
    pub fn contains(&self, code: &[u8; 18]) -> bool {
        let w = words(code);
        let h = hash(&w);
        self.parts[(h >> 54) as usize].contains(&w, h)
    }

    /// Number of codes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held by the tables (for the memory notes of the benchmarks).
    pub fn heap_bytes(&self) -> usize {
        self.parts.iter().map(|p| p.slots.capacity() * 12).sum()
    }
}

/// Finds, among codes numbered 0, 1, 2, … in the order they were pushed, those equal to an
/// earlier one — the same answers as asking a [`CodeSet`] code by code, found faster when the
/// whole table is read before anything is decided (the sampling frame).
///
/// Codes are pushed into [`CodeSet::PARTS`] buckets by hash (16 bytes each: the packed code and
/// its number); [`RepeatFinder::repeats`] then checks each bucket against a table of its own,
/// sized once and small enough to stay in the cache, buckets in parallel. A `CodeSet` instead
/// keeps one table per part that grows as the file is read, so each code is a cache miss.
#[derive(Debug, Clone)]
pub struct RepeatFinder {
    buckets: Vec<Vec<([u32; 3], u32)>>,
    len: u32,
}

impl Default for RepeatFinder {
    fn default() -> Self {
        RepeatFinder::new()
    }
}

impl RepeatFinder {
    /// No code yet.
    pub fn new() -> Self {
        RepeatFinder {
            buckets: vec![Vec::new(); CodeSet::PARTS],
            len: 0,
        }
    }

    /// No code yet, with room for about `n` codes (no bucket grows until then, unless the
    /// codes are unevenly spread).
    pub fn with_capacity(n: usize) -> Self {
        let per = (n / CodeSet::PARTS) + (n / CodeSet::PARTS) / 8 + 16;
        RepeatFinder {
            buckets: (0..CodeSet::PARTS)
                .map(|_| Vec::with_capacity(if n == 0 { 0 } else { per }))
                .collect(),
            len: 0,
        }
    }

    /// Adds the next code (upper-cased, as [`check_key`] returns it); its number is [`len`]
    /// before the call.
    ///
    /// # Panics
    /// After 2³² − 1 codes (a frame of four billion rows does not fit in memory anyway).
    ///
    /// [`len`]: RepeatFinder::len
    #[inline]
    pub fn push(&mut self, code: &[u8; 18]) {
        let w = words(code);
        let part = (hash(&w) >> 54) as usize;
        self.buckets[part].push((w, self.len));
        self.len = self
            .len
            .checked_add(1)
            .expect("at most 2^32 - 1 codes in one RepeatFinder");
    }

    /// Adds batches of codes grouped ahead ([`Grouped`]), in order: the same as pushing each
    /// batch's codes one by one, the buckets filled in parallel.
    ///
    /// # Panics
    /// After 2³² − 1 codes, as [`RepeatFinder::push`].
    pub fn push_grouped(&mut self, batches: &[Grouped]) {
        use rayon::prelude::*;
        let mut bases = Vec::with_capacity(batches.len());
        let mut len = u64::from(self.len);
        for g in batches {
            bases.push(len as u32);
            len += g.items.len() as u64;
        }
        self.len = u32::try_from(len).expect("at most 2^32 - 1 codes in one RepeatFinder");
        self.buckets
            .par_iter_mut()
            .with_min_len(64)
            .enumerate()
            .for_each(|(p, bucket)| {
                for (g, &base) in batches.iter().zip(&bases) {
                    let r = g.starts[p] as usize..g.starts[p + 1] as usize;
                    bucket.extend(g.items[r].iter().map(|&(w, n)| (w, base + n)));
                }
            });
    }

    /// Number of codes pushed.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether no code was pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The numbers of the codes equal to an earlier code, ascending.
    pub fn repeats(&self) -> Vec<u32> {
        use rayon::prelude::*;
        let mut found: Vec<u32> = self
            .buckets
            .par_iter()
            .with_min_len(16)
            .fold(
                || (Vec::new(), Vec::<[u32; 3]>::new()),
                |(mut found, mut table), bucket| {
                    if bucket.is_empty() {
                        return (found, table);
                    }
                    // At most half full; the bucket's codes are in push order, so the first of
                    // equal codes is the one kept.
                    let cap = (bucket.len() * 2).next_power_of_two().max(16);
                    table.clear();
                    table.resize(cap, [0, 0, 0]);
                    let mask = cap - 1;
                    for &(w, n) in bucket {
                        let mut i = (hash(&w) as usize) & mask;
                        loop {
                            let s = table[i];
                            if s == [0, 0, 0] {
                                table[i] = w;
                                break;
                            }
                            if s == w {
                                found.push(n);
                                break;
                            }
                            i = (i + 1) & mask;
                        }
                    }
                    (found, table)
                },
            )
            .map(|(found, _)| found)
            .reduce(Vec::new, |mut a, mut b| {
                a.append(&mut b);
                a
            });
        found.sort_unstable();
        found
    }

    /// Bytes held by the buckets (for the memory notes of the benchmarks).
    pub fn heap_bytes(&self) -> usize {
        self.buckets.iter().map(|b| b.capacity() * 16).sum()
    }
}

/// One batch's codes packed and put in [`RepeatFinder`]'s buckets ahead, where the batch is
/// parsed (batches in parallel), for [`RepeatFinder::push_grouped`]; each bucket keeps the
/// codes' order.
#[derive(Debug, Clone, Default)]
pub struct Grouped {
    /// Bucket `p`'s codes are `items[starts[p]..starts[p + 1]]`.
    starts: Vec<u32>,
    /// The packed code and its number in the batch (from 0).
    items: Vec<([u32; 3], u32)>,
}

impl Grouped {
    /// Groups codes (upper-cased, as [`check_key`] returns them), numbered in the order given.
    pub fn new<'a>(codes: impl Iterator<Item = &'a [u8; 18]>) -> Grouped {
        let packed: Vec<([u32; 3], u16)> = codes
            .map(|c| {
                let w = words(c);
                (w, (hash(&w) >> 54) as u16)
            })
            .collect();
        let mut starts = vec![0u32; CodeSet::PARTS + 1];
        for &(_, p) in &packed {
            starts[usize::from(p) + 1] += 1;
        }
        for p in 0..CodeSet::PARTS {
            starts[p + 1] += starts[p];
        }
        let mut next = starts.clone();
        let mut items = vec![([0u32; 3], 0u32); packed.len()];
        for (n, &(w, p)) in packed.iter().enumerate() {
            let at = &mut next[usize::from(p)];
            items[*at as usize] = (w, n as u32);
            *at += 1;
        }
        Grouped { starts, items }
    }

    /// Number of codes.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is no code.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uscc::{UsccCheck, check};

    #[test]
    fn check_key_agrees_with_the_reference_check() {
        // The standard's example (GB 32100-2015 附录), a known bad check character (DOMAIN.md §5),
        // lower case, spaces, a forbidden letter (O), wrong lengths, non-ASCII.
        for s in [
            "91350100M000100Y43",
            "91350100m000100y43",
            " 91350100M000100Y43\t",
            "91350203M0001QAY9B",
            "91350100M000100Y44",
            "91110108EXAMPLE0O8",
            "9135010",
            "91350100M000100Y431",
            "",
            "91350100M000100Y4中",
        ] {
            let want = match check(s) {
                UsccCheck::Valid(c) => Some((c, false)),
                UsccCheck::BadChecksum(c) => Some((c, true)),
                UsccCheck::Malformed => None,
            };
            let got = check_key(s).map(|(k, bad)| (String::from_utf8(k.to_vec()).unwrap(), bad));
            assert_eq!(got, want, "{s:?}");
        }
    }

    #[test]
    fn packing_is_injective_on_neighbours() {
        let a = *b"91350100M000100Y43";
        let mut b = a;
        b[17] = b'4';
        let mut c = a;
        c[0] = b'8';
        assert_ne!(pack(&a), pack(&b));
        assert_ne!(pack(&a), pack(&c));
        // All zeros packs to 0 and is still storable (stored as 0 + 1).
        let z = [b'0'; 18];
        assert_eq!(pack(&z), 0);
        let mut s = CodeSet::new();
        assert!(s.insert(&z));
        assert!(!s.insert(&z));
        assert!(s.contains(&z));
        // The largest code YYY…Y: 18 × 5 bits of value 30.
        let y = [b'Y'; 18];
        assert!(pack(&y) < 1u128 << 90);
        // Character by character, the first highest, 5 bits each (31 outside the set).
        for code in [
            a,
            b,
            c,
            z,
            y,
            *b"0123456789ABCDEFGH",
            *b"JKLMNPQRTUWXY0O1I9",
        ] {
            let want = code.iter().fold(0u128, |x, &ch| {
                (x << 5) | u128::from(uscc::value(ch).unwrap_or(31))
            });
            assert_eq!(pack(&code), want);
        }
    }

    #[test]
    fn set_is_exact_over_many_codes() {
        // 200 000 generated codes, every one inserted twice: the first insert adds, the second
        // finds it; a std HashSet gives the same answers.
        let mut set = CodeSet::new();
        let mut reference = std::collections::HashSet::new();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut codes = Vec::new();
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut k = [0u8; 18];
            let mut y = x;
            for b in k.iter_mut() {
                *b = uscc::CHARSET[(y % 31) as usize];
                y = (y / 31) ^ x.rotate_left(11);
            }
            codes.push(k);
        }
        for k in &codes {
            assert_eq!(set.insert(k), reference.insert(*k));
        }
        for k in &codes {
            assert!(!set.insert(k));
            assert!(set.contains(k));
        }
        assert_eq!(set.len(), reference.len());
        // In bulk: the same answers as one by one, repeats within the call included.
        let mut bulk = CodeSet::new();
        let mut twice = codes[..1000].to_vec();
        twice.extend_from_slice(&codes[..1000]);
        let flags = bulk.insert_many(&twice);
        let mut one_by_one = CodeSet::new();
        let expected: Vec<bool> = twice.iter().map(|k| one_by_one.insert(k)).collect();
        assert_eq!(flags, expected);
        assert_eq!(flags.iter().filter(|f| **f).count(), 1000);
        assert_eq!(bulk.len(), one_by_one.len());
        assert!(!set.contains(b"91350100M000100Y43") || reference.contains(b"91350100M000100Y43"));
        // Memory: at most 32 bytes per code once past the initial slots.
        assert!(set.heap_bytes() <= 32 * set.len() + CodeSet::PARTS * 16 * 12);
        // All at once: the repeats are exactly the codes a CodeSet did not add, in order.
        let mut finder = RepeatFinder::new();
        let mut one_by_one = CodeSet::new();
        let mut expected = Vec::new();
        let all: Vec<[u8; 18]> = codes.iter().chain(&codes[..5000]).copied().collect();
        for (n, k) in all.iter().enumerate() {
            finder.push(k);
            if !one_by_one.insert(k) {
                expected.push(n as u32);
            }
        }
        assert_eq!(finder.len(), all.len());
        let got = finder.repeats();
        assert_eq!(got, expected);
        assert!(got.len() >= 5000, "the second copies at least");
        assert!(RepeatFinder::new().repeats().is_empty());
        // Grouped ahead in batches of uneven sizes (an empty one too), pushed a few batches at
        // a time after some single pushes: the same numbers and repeats.
        let mut grouped = RepeatFinder::new();
        for k in &all[..7] {
            grouped.push(k);
        }
        let mut at = 7;
        let sizes = [1usize, 0, 999, 4096, 3, 20_000];
        let mut i = 0;
        while at < all.len() {
            let batches: Vec<Grouped> = (0..3)
                .map(|_| {
                    let size = sizes[i % sizes.len()].min(all.len() - at);
                    i += 1;
                    let g = Grouped::new(all[at..at + size].iter());
                    at += size;
                    g
                })
                .collect();
            grouped.push_grouped(&batches);
        }
        assert_eq!(grouped.len(), all.len());
        assert_eq!(grouped.repeats(), expected);
    }
}
