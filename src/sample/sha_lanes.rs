//! Four SHA-256 block compressions at once with the CPU's SHA extensions (SHA-NI), for the one
//! place where millions of independent one-block hashes are taken: the order keys of §4.3 and the
//! permanent random numbers of §4.7 (`keys::HashPrefix::first_u64_x4`). One compression is a
//! chain of 32 dependent `sha256rnds2` steps, and the processor does not overlap the chains of
//! consecutive calls; issuing four chains step by step lets it do so, which here takes a block
//! from ≈ 47 ns to ≈ 25 ns. The result is the compression function of FIPS 180-4 §6.2.2, bit for
//! bit (the tests compare it with `sha2`'s); on a CPU without SHA-NI, `compress4` says so and the
//! caller compresses one block at a time.

#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

/// SHA-256's round constants K (FIPS 180-4 §4.2.2).
#[cfg(target_arch = "x86_64")]
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// Whether this CPU can run [`compress4`] (checked once; the standard library caches it).
#[inline]
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("sha")
            && std::arch::is_x86_feature_detected!("sse4.1")
            && std::arch::is_x86_feature_detected!("ssse3")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Compresses one 64-byte block into each of four states (lane `l`: `blocks[l]` into
/// `states[l]`), as four calls of the compression function would. Returns false, touching
/// nothing, when the CPU has no SHA-NI ([`available`]).
#[inline]
pub fn compress4(states: &mut [[u32; 8]; 4], blocks: &[[u8; 64]; 4]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if available() {
        // SAFETY: the CPU has the features `lanes` is compiled for (checked just above).
        unsafe { lanes(states, blocks) };
        return true;
    }
    let _ = (states, blocks);
    false
}

/// The four interleaved compressions. State words are kept as SHA-NI wants them (ABEF, CDGH);
/// each group of four rounds adds K to the message words, runs two `sha256rnds2` per lane, and
/// extends the message schedule (`sha256msg1`/`sha256msg2`) for the group twelve rounds ahead.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn lanes(states: &mut [[u32; 8]; 4], blocks: &[[u8; 64]; 4]) {
    const N: usize = 4;
    // Big-endian words: reverse the bytes of each 32-bit lane.
    let swap = _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203);
    let mut abef = [_mm_setzero_si128(); N];
    let mut cdgh = [_mm_setzero_si128(); N];
    let mut w = [[_mm_setzero_si128(); 4]; N];
    for l in 0..N {
        // SAFETY (the loads and stores below): unaligned 16-byte accesses within the arrays.
        let (dcba, hgfe) = unsafe {
            (
                _mm_loadu_si128(states[l].as_ptr().cast()),
                _mm_loadu_si128(states[l].as_ptr().add(4).cast()),
            )
        };
        let cdab = _mm_shuffle_epi32(dcba, 0xB1);
        let efgh = _mm_shuffle_epi32(hgfe, 0x1B);
        abef[l] = _mm_alignr_epi8(cdab, efgh, 8);
        cdgh[l] = _mm_blend_epi16(efgh, cdab, 0xF0);
        for (j, word) in w[l].iter_mut().enumerate() {
            let raw = unsafe { _mm_loadu_si128(blocks[l].as_ptr().add(16 * j).cast()) };
            *word = _mm_shuffle_epi8(raw, swap);
        }
    }
    let (abef0, cdgh0) = (abef, cdgh);
    // Written out group by group (the macro) so that every index is a constant and the words
    // stay in registers.
    macro_rules! group {
        ($i:literal) => {{
            let k = unsafe { _mm_loadu_si128(K.as_ptr().add(4 * $i).cast()) };
            for l in 0..N {
                let m = _mm_add_epi32(w[l][$i % 4], k);
                cdgh[l] = _mm_sha256rnds2_epu32(cdgh[l], abef[l], m);
                abef[l] = _mm_sha256rnds2_epu32(abef[l], cdgh[l], _mm_shuffle_epi32(m, 0x0E));
            }
            if $i < 12 {
                for wl in w.iter_mut() {
                    // W[i+4] from W[i], W[i+1], W[i+2], W[i+3] (four words each).
                    let s = _mm_sha256msg1_epu32(wl[$i % 4], wl[($i + 1) % 4]);
                    let s =
                        _mm_add_epi32(s, _mm_alignr_epi8(wl[($i + 3) % 4], wl[($i + 2) % 4], 4));
                    wl[$i % 4] = _mm_sha256msg2_epu32(s, wl[($i + 3) % 4]);
                }
            }
        }};
    }
    group!(0);
    group!(1);
    group!(2);
    group!(3);
    group!(4);
    group!(5);
    group!(6);
    group!(7);
    group!(8);
    group!(9);
    group!(10);
    group!(11);
    group!(12);
    group!(13);
    group!(14);
    group!(15);
    for l in 0..N {
        let abef = _mm_add_epi32(abef[l], abef0[l]);
        let cdgh = _mm_add_epi32(cdgh[l], cdgh0[l]);
        let feba = _mm_shuffle_epi32(abef, 0x1B);
        let dchg = _mm_shuffle_epi32(cdgh, 0xB1);
        let dcba = _mm_blend_epi16(feba, dchg, 0xF0);
        let hgfe = _mm_alignr_epi8(dchg, feba, 8);
        unsafe {
            _mm_storeu_si128(states[l].as_mut_ptr().cast(), dcba);
            _mm_storeu_si128(states[l].as_mut_ptr().add(4).cast(), hgfe);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::block_api::compress256;

    #[test]
    fn four_lanes_equal_four_compressions() {
        if !available() {
            eprintln!(
                "no SHA-NI on this CPU: compress4 declines, which is what the callers expect"
            );
            let mut s = [[0u32; 8]; 4];
            assert!(!compress4(&mut s, &[[0u8; 64]; 4]));
            return;
        }
        // Pseudo-random states and blocks (a xorshift), including all-zero and all-one bytes.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..2000 {
            let mut states = [[0u32; 8]; 4];
            let mut blocks = [[0u8; 64]; 4];
            for l in 0..4 {
                states[l].iter_mut().for_each(|w| *w = next() as u32);
                blocks[l].iter_mut().for_each(|b| *b = next() as u8);
            }
            if round == 0 {
                blocks[1] = [0xFF; 64];
                blocks[2] = [0; 64];
            }
            let mut want = states;
            for l in 0..4 {
                compress256(&mut want[l], std::slice::from_ref(&blocks[l]));
            }
            assert!(compress4(&mut states, &blocks));
            assert_eq!(states, want, "round {round}");
        }
    }
}
