//! The generator's random draws: a `Draw` wraps one explicitly seeded `ChaCha8Rng` stream and turns
//! its 64-bit words into the few distributions the synthetic data needs (uniform, Bernoulli,
//! normal, log-normal, small Poisson counts, weighted choices). No other source of randomness is
//! used, so a stream's key and position fix every value drawn from it.

use std::sync::LazyLock;

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

/// Derives the 32-byte ChaCha key of one named stream family from the user's seed:
/// `SHA-256("spotcheck-gen/1" ‖ 0x1F ‖ name ‖ 0x1F ‖ seed as 8 little-endian bytes)`.
pub(crate) fn stream_key(seed: u64, name: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"spotcheck-gen/1");
    h.update([0x1F]);
    h.update(name.as_bytes());
    h.update([0x1F]);
    h.update(seed.to_le_bytes());
    h.finalize().into()
}

/// A ChaCha8 generator for stream `stream` under `key`, positioned at its start.
pub(crate) fn chacha(key: [u8; 32], stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(stream);
    rng
}

/// Random draws from one ChaCha8 stream.
pub(crate) struct Draw {
    rng: ChaCha8Rng,
}

impl Draw {
    pub(crate) fn new(rng: ChaCha8Rng) -> Draw {
        Draw { rng }
    }

    /// A uniform 64-bit word.
    #[inline]
    pub(crate) fn word(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// Uniform in [0, 1), 53 bits.
    #[inline]
    pub(crate) fn unit(&mut self) -> f64 {
        (self.word() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `true` with probability `p` (p outside [0, 1] behaves as clamped).
    #[inline]
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform integer in `0..n` (n > 0), by the multiply-high method (bias below 2^-32 for the
    /// small n used here).
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.word()) * u128::from(n)) >> 64) as u64
    }

    /// Standard normal by the ziggurat method of Marsaglia and Tsang (2000), 128 layers: one
    /// 64-bit word and a table look-up for about 99 % of draws, exact for the rest (wedges and
    /// the tail beyond r = 3.4426 are sampled by rejection).
    pub(crate) fn normal(&mut self) -> f64 {
        let z = &*ZIGGURAT;
        loop {
            let w = self.word();
            // Low 32 bits: signed abscissa; bits 32..39: the layer (separate bits, so the layer
            // and the value are independent).
            let hz = w as u32 as i32;
            let iz = ((w >> 32) & 127) as usize;
            let x = f64::from(hz) * z.w[iz];
            if hz.unsigned_abs() < z.k[iz] {
                return x;
            }
            if iz == 0 {
                // Tail beyond r: Marsaglia's exponential rejection.
                loop {
                    let a = -(1.0 - self.unit()).ln() / ZIGGURAT_R;
                    let b = -(1.0 - self.unit()).ln();
                    if b + b >= a * a {
                        return if hz > 0 {
                            ZIGGURAT_R + a
                        } else {
                            -ZIGGURAT_R - a
                        };
                    }
                }
            }
            // Wedge: accept under the density.
            if z.f[iz] + self.unit() * (z.f[iz - 1] - z.f[iz]) < (-0.5 * x * x).exp() {
                return x;
            }
        }
    }

    /// Log-normal with median `median` and log-scale standard deviation `sigma`.
    #[inline]
    pub(crate) fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// Poisson count with mean `lambda` (small, ≤ ~20), by inversion; capped at 50.
    pub(crate) fn poisson(&mut self, lambda: f64) -> u32 {
        let u = self.unit();
        if u < 1.0 - lambda {
            // e^{-λ} ≥ 1 − λ, so u is below P(0) and inversion gives 0: skip the exponential
            // (most draws here have small λ).
            return 0;
        }
        let mut p = (-lambda).exp();
        let mut cum = p;
        let mut k = 0u32;
        while u >= cum && k < 50 {
            k += 1;
            p *= lambda / f64::from(k);
            cum += p;
        }
        k
    }

    /// Index drawn from a weighted table.
    #[inline]
    pub(crate) fn pick(&mut self, table: &Weighted) -> usize {
        table.index(self.unit())
    }
}

/// Start of the normal tail of the 128-layer ziggurat.
const ZIGGURAT_R: f64 = 3.442_619_855_899;
/// Area of each layer of the 128-layer ziggurat.
const ZIGGURAT_V: f64 = 9.912_563_035_262_17e-3;

/// Tables of the 128-layer ziggurat for the standard normal (Marsaglia and Tsang 2000, `zigset`):
/// `k` are the acceptance thresholds on |hz|, `w` the scale from hz to x, `f` the density at
/// each layer's edge.
struct Ziggurat {
    k: [u32; 128],
    w: [f64; 128],
    f: [f64; 128],
}

static ZIGGURAT: LazyLock<Ziggurat> = LazyLock::new(|| {
    let m1 = 2_147_483_648.0_f64;
    let (mut k, mut w, mut f) = ([0u32; 128], [0f64; 128], [0f64; 128]);
    let mut dn = ZIGGURAT_R;
    let mut tn = dn;
    let q = ZIGGURAT_V / (-0.5 * dn * dn).exp();
    k[0] = ((dn / q) * m1) as u32;
    k[1] = 0;
    w[0] = q / m1;
    w[127] = dn / m1;
    f[0] = 1.0;
    f[127] = (-0.5 * dn * dn).exp();
    for i in (1..=126).rev() {
        dn = (-2.0 * (ZIGGURAT_V / dn + (-0.5 * dn * dn).exp()).ln()).sqrt();
        k[i + 1] = ((dn / tn) * m1) as u32;
        tn = dn;
        f[i] = (-0.5 * dn * dn).exp();
        w[i] = dn / m1;
    }
    Ziggurat { k, w, f }
});

/// A discrete distribution over `0..n` given by non-negative weights.
#[derive(Debug, Clone)]
pub(crate) struct Weighted {
    /// Cumulative probabilities; the last is exactly 1.
    cum: Vec<f64>,
}

impl Weighted {
    /// Builds the table; weights need not sum to 1 but must not all be zero.
    pub(crate) fn new(weights: &[f64]) -> Weighted {
        let total: f64 = weights.iter().sum();
        debug_assert!(total > 0.0, "a weighted table needs a positive weight");
        let mut acc = 0.0;
        let mut cum: Vec<f64> = weights
            .iter()
            .map(|w| {
                acc += w;
                acc / total
            })
            .collect();
        if let Some(last) = cum.last_mut() {
            *last = 1.0;
        }
        Weighted { cum }
    }

    /// The index whose cumulative interval holds `u` ∈ [0, 1).
    #[inline]
    pub(crate) fn index(&self, u: f64) -> usize {
        // Tables are short (≤ 20 entries): a linear scan beats a binary search here.
        self.cum
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.cum.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draw(stream: u64) -> Draw {
        Draw::new(chacha(stream_key(7, "test"), stream))
    }

    #[test]
    fn streams_are_keyed_and_separate() {
        let a: Vec<u64> = (0..4).map(|_| draw(0).word()).collect();
        let mut d0 = draw(0);
        let mut d1 = draw(1);
        let x: Vec<u64> = (0..4).map(|_| d0.word()).collect();
        let y: Vec<u64> = (0..4).map(|_| d1.word()).collect();
        assert_ne!(x, y);
        // A fresh stream 0 always starts with the same word.
        assert!(a.iter().all(|w| *w == x[0]));
        assert_ne!(stream_key(7, "a"), stream_key(7, "b"));
        assert_ne!(stream_key(7, "a"), stream_key(8, "a"));
    }

    #[test]
    fn moments_of_the_distributions() {
        // Expected values from the definitions: N(0,1) has mean 0 and variance 1; Poisson(λ) has
        // mean λ; a log-normal's median is its `median` parameter.
        let mut d = draw(3);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| d.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
        // Tails, which exercise the ziggurat's wedges and its tail beyond 3.44: P(|Z| > 2) =
        // 0.0455 and P(|Z| > 3.5) = 4.65e-4 (standard normal table).
        let beyond = |t: f64| xs.iter().filter(|x| x.abs() > t).count() as f64 / n as f64;
        assert!(
            (beyond(2.0) - 0.0455).abs() < 0.002,
            "P(|Z|>2) {}",
            beyond(2.0)
        );
        assert!(
            (beyond(3.5) - 4.65e-4).abs() < 1.5e-4,
            "P(|Z|>3.5) {}",
            beyond(3.5)
        );
        assert!(
            (beyond(1.0) - 0.3173).abs() < 0.004,
            "P(|Z|>1) {}",
            beyond(1.0)
        );

        let pm = (0..n).map(|_| f64::from(d.poisson(0.7))).sum::<f64>() / n as f64;
        assert!((pm - 0.7).abs() < 0.01, "poisson mean {pm}");

        let mut ls: Vec<f64> = (0..n).map(|_| d.lognormal(50.0, 1.5)).collect();
        ls.sort_by(f64::total_cmp);
        let median = ls[n / 2];
        assert!((median / 50.0 - 1.0).abs() < 0.03, "median {median}");

        let w = Weighted::new(&[1.0, 3.0, 0.0, 6.0]);
        let mut counts = [0usize; 4];
        for _ in 0..n {
            counts[d.pick(&w)] += 1;
        }
        assert_eq!(counts[2], 0);
        assert!(
            (counts[3] as f64 / n as f64 - 0.6).abs() < 0.01,
            "{counts:?}"
        );
        assert!(
            (counts[0] as f64 / n as f64 - 0.1).abs() < 0.01,
            "{counts:?}"
        );

        let b: Vec<u64> = (0..n).map(|_| d.below(3)).collect();
        assert!(b.iter().all(|x| *x < 3));
        assert!(b.contains(&0) && b.contains(&2));
    }
}
