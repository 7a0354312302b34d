//! The SHA-256 constructions of SPEC §4 (normative, bit for bit): the order key of a unit (§4.3),
//! the random start of a stratum (§4.4), the inspector tie key (§4.6) and the permanent random
//! number of a coordinated joint draw (§4.7). Every hash is taken over
//! UTF-8 bytes of its parts joined by the unit separator 0x1F. A `HashPrefix` absorbs the parts that
//! are the same for every unit once, so that hashing a unit only adds its code: with a long seed the
//! prefix fills SHA-256's first 64-byte block and each unit costs one compression instead of two.
//! This file also owns hex encoding (sha2 0.11 digests do not format with `{:x}`).

use sha2::block_api::compress256;
use sha2::{Digest, Sha256};

use crate::schema::Department;

/// The separator between the parts of every hashed message (ASCII unit separator).
pub const SEP: u8 = 0x1F;

/// 2⁻⁵³: turns the top 53 bits of a u64 into a float in [0, 1) without rounding.
const TWO_POW_MINUS_53: f64 = 1.0 / 9_007_199_254_740_992.0;

/// SHA-256's initial hash value H⁽⁰⁾ (FIPS 180-4 §5.3.3).
const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// A SHA-256 computation that has absorbed `part₁ ‖ 0x1F ‖ part₂ ‖ 0x1F ‖ … ‖ partₙ ‖ 0x1F`:
/// the state after the prefix's whole 64-byte blocks, and the bytes left over. Hashing one more
/// part copies the state, appends the part and the padding (FIPS 180-4 §5.1.1) and runs the
/// compression function (`sha2::block_api::compress256`, SHA-NI when the CPU has it) on the one
/// or two blocks left — no hasher object is cloned or finalized per unit.
#[derive(Clone)]
pub struct HashPrefix {
    state: [u32; 8],
    tail: Vec<u8>,
    len: u64,
}

impl HashPrefix {
    /// Absorbs the given parts, each followed by the separator.
    pub fn new(parts: &[&str]) -> HashPrefix {
        let mut msg = Vec::new();
        for p in parts {
            msg.extend_from_slice(p.as_bytes());
            msg.push(SEP);
        }
        let (blocks, tail) = msg.as_chunks::<64>();
        let mut state = IV;
        compress256(&mut state, blocks);
        HashPrefix {
            state,
            tail: tail.to_vec(),
            len: msg.len() as u64,
        }
    }

    /// The prefix followed by `last` and the padding (FIPS 180-4 §5.1.1), when that fills one
    /// 64-byte block: when the prefix's bytes past its whole blocks, the part and the 9 bytes of
    /// padding fit in 64 (the usual case: an 18-byte code leaves room for 37 such bytes).
    #[inline]
    fn one_block(&self, last: &[u8]) -> Option<[u8; 64]> {
        let mut buf = [0u8; 64];
        self.fill_block(&mut buf, last).then_some(buf)
    }

    /// Writes the one block of [`Self::one_block`] into `buf` (all zero on entry); false when
    /// the message needs more than one block.
    #[inline(always)]
    fn fill_block(&self, buf: &mut [u8; 64], last: &[u8]) -> bool {
        let (t, l) = (self.tail.len(), last.len());
        if t + l + 9 > 64 {
            return false;
        }
        buf[..t].copy_from_slice(&self.tail);
        buf[t..t + l].copy_from_slice(last);
        buf[t + l] = 0x80;
        buf[56..].copy_from_slice(&((self.len + l as u64) * 8).to_be_bytes());
        true
    }

    /// The final hash state of the prefix followed by `last` (no separator after it).
    #[inline]
    fn state_with(&self, last: &[u8]) -> [u32; 8] {
        let mut state = self.state;
        if let Some(block) = self.one_block(last) {
            compress256(&mut state, std::slice::from_ref(&block));
            return state;
        }
        let (t, l) = (self.tail.len(), last.len());
        let bit_len = (self.len + l as u64) * 8;
        if t + l + 9 <= 128 {
            // Two blocks on the stack.
            let mut buf = [0u8; 128];
            buf[..t].copy_from_slice(&self.tail);
            buf[t..t + l].copy_from_slice(last);
            buf[t + l] = 0x80;
            buf[120..].copy_from_slice(&bit_len.to_be_bytes());
            compress256(&mut state, buf.as_chunks::<64>().0);
        } else {
            let mut buf = Vec::with_capacity(t + l + 72);
            buf.extend_from_slice(&self.tail);
            buf.extend_from_slice(last);
            buf.push(0x80);
            while buf.len() % 64 != 56 {
                buf.push(0);
            }
            buf.extend_from_slice(&bit_len.to_be_bytes());
            compress256(&mut state, buf.as_chunks::<64>().0);
        }
        state
    }

    /// SHA-256 of the prefix followed by `last` (no separator after it).
    pub fn digest(&self, last: &str) -> [u8; 32] {
        let state = self.state_with(last.as_bytes());
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// The first 8 bytes of `digest(last)`, big-endian: the first two state words.
    #[inline]
    pub fn first_u64(&self, last: &str) -> u64 {
        let state = self.state_with(last.as_bytes());
        (u64::from(state[0]) << 32) | u64::from(state[1])
    }

    /// `first_u64` of four messages at once: when each fits one block and the CPU has SHA-NI,
    /// the four compressions run interleaved ([`super::sha_lanes`]), about twice as fast as one
    /// after another; otherwise one at a time. Same values either way.
    #[inline]
    pub fn first_u64_x4(&self, last: [&str; 4]) -> [u64; 4] {
        let mut blocks = [[0u8; 64]; 4];
        let mut fit = true;
        for (b, m) in blocks.iter_mut().zip(last) {
            fit &= self.fill_block(b, m.as_bytes());
        }
        if fit {
            let mut states = [self.state; 4];
            if super::sha_lanes::compress4(&mut states, &blocks) {
                return states.map(|s| (u64::from(s[0]) << 32) | u64::from(s[1]));
            }
        }
        last.map(|m| self.first_u64(m))
    }
}

/// Order keys of one draw (§4.3): `key(u) = first 8 bytes, big-endian, of
/// SHA-256(seed ‖ 0x1F ‖ d ‖ 0x1F ‖ month ‖ 0x1F ‖ uscc)`, with the prefix hashed once.
#[derive(Clone)]
pub struct OrderKeys(HashPrefix);

impl OrderKeys {
    /// Keys for `seed`, department `dept` (`market` / `ecology`) and `month` (`YYYY-MM`).
    pub fn new(seed: &str, dept: Department, month: &str) -> OrderKeys {
        OrderKeys(HashPrefix::new(&[seed, dept.en(), month]))
    }

    /// The order key of one enterprise.
    #[inline]
    pub fn key(&self, uscc: &str) -> u64 {
        self.0.first_u64(uscc)
    }

    /// The order keys of four enterprises (the same as four calls of `key`, faster).
    #[inline]
    pub fn key_x4(&self, uscc: [&str; 4]) -> [u64; 4] {
        self.0.first_u64_x4(uscc)
    }
}

/// The order key of one unit (§4.3).
///
/// ```
/// use spotcheck::sample::order_key;
/// use spotcheck::schema::Department;
/// // reference/sampling-vectors.json, first key.
/// let seed = "2026年12月 市场监管 双随机 公开摇号 第1期";
/// assert_eq!(order_key(seed, Department::Market, "2026-12", "91110105JH4BXKFLJU"), 17340206390249867789);
/// ```
pub fn order_key(seed: &str, dept: Department, month: &str, uscc: &str) -> u64 {
    OrderKeys::new(seed, dept, month).key(uscc)
}

/// The 64-bit value behind a stratum's start: first 8 bytes, big-endian, of
/// `SHA-256(seed ‖ 0x1F ‖ d ‖ 0x1F ‖ month ‖ 0x1F ‖ "start" ‖ 0x1F ‖ stratum)`.
pub fn stratum_start_u64(seed: &str, dept: Department, month: &str, stratum: &str) -> u64 {
    HashPrefix::new(&[seed, dept.en(), month, "start"]).first_u64(stratum)
}

/// The random start of a stratum's systematic walk (§4.4): `(u64 >> 11) × 2⁻⁵³`, in [0, 1).
///
/// ```
/// use spotcheck::sample::stratum_start;
/// use spotcheck::schema::Department;
/// // reference/sampling-vectors.json, first start.
/// let seed = "2026年12月 市场监管 双随机 公开摇号 第1期";
/// assert_eq!(stratum_start(seed, Department::Market, "2026-12", "110105"), 0.04733690891829079);
/// ```
pub fn stratum_start(seed: &str, dept: Department, month: &str, stratum: &str) -> f64 {
    start_from_u64(stratum_start_u64(seed, dept, month, stratum))
}

/// `(u >> 11) × 2⁻⁵³`: exact, since `u >> 11` < 2⁵³ converts to f64 without rounding.
#[inline]
pub fn start_from_u64(u: u64) -> f64 {
    (u >> 11) as f64 * TWO_POW_MINUS_53
}

/// Permanent random numbers of a coordinated joint draw (§4.7, `prn-poisson-sha256/1`): one per
/// enterprise and month, shared by both departments, `u = (first 8 bytes, big-endian, of
/// SHA-256(seed ‖ 0x1F ‖ "prn" ‖ 0x1F ‖ month ‖ 0x1F ‖ uscc) >> 11) × 2⁻⁵³`, with the prefix hashed
/// once.
#[derive(Clone)]
pub struct PrnKeys(HashPrefix);

impl PrnKeys {
    /// Numbers for `seed` and `month` (`YYYY-MM`).
    pub fn new(seed: &str, month: &str) -> PrnKeys {
        PrnKeys(HashPrefix::new(&[seed, "prn", month]))
    }

    /// The 64-bit hash value behind one enterprise's number.
    #[inline]
    pub fn u64(&self, uscc: &str) -> u64 {
        self.0.first_u64(uscc)
    }

    /// The permanent random number of one enterprise, in [0, 1).
    #[inline]
    pub fn u(&self, uscc: &str) -> f64 {
        start_from_u64(self.u64(uscc))
    }

    /// The numbers of four enterprises (the same as four calls of `u`, faster).
    #[inline]
    pub fn u_x4(&self, uscc: [&str; 4]) -> [f64; 4] {
        self.0.first_u64_x4(uscc).map(start_from_u64)
    }
}

/// The permanent random number u of one enterprise for a month (§4.7).
///
/// ```
/// use spotcheck::sample::prn;
/// // tests/vectors/cases.json, "prn" (u64 11167916130789182047).
/// let u = prn("2026年12月 双随机 公开摇号 第1期", "2026-12", "91110302XF5XPUNX10");
/// assert_eq!(u, 0.605413946556877);
/// ```
pub fn prn(seed: &str, month: &str, uscc: &str) -> f64 {
    PrnKeys::new(seed, month).u(uscc)
}

/// The inspector tie key of §4.6 for one task: `SHA-256(seed ‖ 0x1F ‖ "inspector" ‖ 0x1F ‖ month
/// ‖ 0x1F ‖ uscc ‖ 0x1F ‖ inspector_id)`, compared as bytes (lowest first).
#[derive(Clone)]
pub struct InspectorKeys(HashPrefix);

impl InspectorKeys {
    /// Tie keys for the task of enterprise `uscc` in `month`.
    pub fn new(seed: &str, month: &str, uscc: &str) -> InspectorKeys {
        InspectorKeys(HashPrefix::new(&[seed, "inspector", month, uscc]))
    }

    /// The tie key of one inspector for this task.
    pub fn key(&self, inspector_id: &str) -> [u8; 32] {
        self.0.digest(inspector_id)
    }
}

/// A hasher for u64 map keys (order keys, float bits): the splitmix64 finalizer, so that keys
/// with structure (the bits of 0.5, 0.25 …) spread as well as SHA-256 output does. The draw's maps
/// hold the bureau's own data, so there is no adversary to defend against with SipHash.
#[derive(Debug, Clone, Copy, Default)]
pub struct U64Hasher(u64);

impl std::hash::Hasher for U64Hasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed with this hasher; anything else is folded in bytewise.
        for &b in bytes {
            self.write_u64(self.0.rotate_left(8) ^ u64::from(b));
        }
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        let mut z = v ^ self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        self.0 = z ^ (z >> 31);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

pub use crate::table::{hex, sha256_bytes as sha256_hex};

/// Lower-case hex SHA-256 of everything a reader yields, read in 64 KiB pieces.
pub fn sha256_hex_reader(mut reader: impl std::io::Read) -> std::io::Result<String> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "2026年12月 市场监管 双随机 公开摇号 第1期";

    #[test]
    fn prefix_equals_whole_message() {
        // The prefix trick must hash exactly seed‖0x1F‖d‖0x1F‖month‖0x1F‖uscc.
        let mut msg = Vec::new();
        for p in [SEED, "ecology", "2026-12"] {
            msg.extend_from_slice(p.as_bytes());
            msg.push(SEP);
        }
        msg.extend_from_slice(b"91110105K0XTF8H76J");
        let whole = Sha256::digest(&msg);
        let k = u64::from_be_bytes(whole[..8].try_into().unwrap());
        assert_eq!(
            order_key(SEED, Department::Ecology, "2026-12", "91110105K0XTF8H76J"),
            k
        );
        // reference/sampling-vectors.json lists this key as 12031570904909226289.
        assert_eq!(k, 12031570904909226289);
    }

    #[test]
    fn prefix_padding_matches_sha2_at_every_length() {
        // Every split of prefix and last part around the block and padding boundaries (0..150
        // bytes each, multi-byte UTF-8 included) must give SHA-256 of the joined message.
        let text: String = "双随机abcdefghij".chars().cycle().take(150).collect();
        for p in 0..=150 {
            let prefix: String = text.chars().take(p).collect();
            let hp = HashPrefix::new(&[&prefix]);
            for l in [
                0usize, 1, 17, 18, 30, 46, 47, 54, 55, 56, 63, 64, 65, 119, 120, 150,
            ] {
                let last: String = text.chars().rev().take(l).collect();
                let mut msg = prefix.clone().into_bytes();
                msg.push(SEP);
                msg.extend_from_slice(last.as_bytes());
                let want = Sha256::digest(&msg);
                assert_eq!(
                    &hp.digest(&last)[..],
                    &want[..],
                    "prefix {p} chars, last {l}"
                );
                assert_eq!(
                    hp.first_u64(&last),
                    u64::from_be_bytes(want[..8].try_into().unwrap())
                );
            }
            // Four at once (SHA-NI lanes when all four fit one block, one by one otherwise)
            // give what one at a time gives, at every mix of lengths.
            let lasts: Vec<String> = [0usize, 17, 18, 30, 46, 47, 55, 64]
                .iter()
                .map(|&l| text.chars().skip(p % 7).take(l).collect())
                .collect();
            for w in lasts.windows(4) {
                let four = [w[0].as_str(), w[1].as_str(), w[2].as_str(), w[3].as_str()];
                assert_eq!(
                    hp.first_u64_x4(four),
                    four.map(|m| hp.first_u64(m)),
                    "prefix {p} chars"
                );
            }
        }
    }

    #[test]
    fn starts_of_the_reference() {
        // reference/sampling-vectors.json, "starts": u64 and start of the empty stratum.
        assert_eq!(
            stratum_start_u64(SEED, Department::Market, "2026-12", ""),
            10420303584476262202
        );
        assert_eq!(
            stratum_start(SEED, Department::Market, "2026-12", ""),
            0.5648857892123825
        );
        assert_eq!(start_from_u64(u64::MAX), 1.0 - TWO_POW_MINUS_53);
        assert_eq!(start_from_u64(2047), 0.0);
    }

    #[test]
    fn hex_and_sha256() {
        assert_eq!(hex(&[0x00, 0x0F, 0xA5, 0xFF]), "000fa5ff");
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_hex(b"abc"), abc);
        assert_eq!(sha256_hex_reader(&b"abc"[..]).unwrap(), abc);
    }

    #[test]
    fn prn_is_the_joined_message() {
        let whole = Sha256::digest("s\x1fprn\x1f2026-12\x1f91110105K0XTF8H76J".as_bytes());
        let v = u64::from_be_bytes(whole[..8].try_into().unwrap());
        let keys = PrnKeys::new("s", "2026-12");
        assert_eq!(keys.u64("91110105K0XTF8H76J"), v);
        assert_eq!(
            keys.u("91110105K0XTF8H76J"),
            (v >> 11) as f64 / 2f64.powi(53)
        );
        let codes = [
            "91110105K0XTF8H76J",
            "91110105JH4BXKFLJU",
            "91110302XF5XPUNX10",
            "91350100M000100Y43",
        ];
        assert_eq!(keys.u_x4(codes), codes.map(|c| keys.u(c)));
        let order = OrderKeys::new("s", Department::Ecology, "2026-12");
        assert_eq!(order.key_x4(codes), codes.map(|c| order.key(c)));
        // Not the department's order key: "prn" stands where the department would.
        assert_ne!(
            v,
            order_key("s", Department::Market, "2026-12", "91110105K0XTF8H76J")
        );
    }

    #[test]
    fn inspector_key_is_the_joined_message() {
        let k = InspectorKeys::new("s", "2026-12", "U").key("I7");
        let whole = Sha256::digest(b"s\x1finspector\x1f2026-12\x1fU\x1fI7");
        assert_eq!(&k[..], &whole[..]);
    }
}
