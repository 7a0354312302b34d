//! Inclusion probabilities π of the eligible units (SPEC §4.2, normative bit for bit).
//!
//! Without a capacity `π = min(1, ratio / 12)`: the annual ratio spread over twelve monthly draws.
//! With a capacity C (检查力量: how many visits the bureau can make) over E eligible units: all get
//! π = 1 when C ≥ E; otherwise units are ranked by ratio descending (ties by order key ascending,
//! then code), and for k = 0, 1, …: `c = (C − k) / S_k`, S_k being the sum of the ratios of the
//! units ranked k and after, summed from the last rank upwards; when `c × ratio_(k) ≤ 1` the loop
//! stops, else unit k gets π = 1. The rest get `π = c × ratio`.
//!
//! The kernel never sorts all units. Equal ratios are equal floats, so S_k depends only on the
//! sorted multiset of ratio values, which a count per distinct value gives; the tie order by key
//! matters only inside the one group of equal ratios where the capping stops, and only that group
//! is sorted. `pi_with_capacity_naive` (tests) runs the spec's text literally and must agree bit for
//! bit.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use rayon::prelude::*;

use super::keys::U64Hasher;

type CountMap = HashMap<u64, usize, BuildHasherDefault<U64Hasher>>;

/// Months in a year: without a capacity the annual ratio is spread over twelve monthly draws.
pub const MONTHS: f64 = 12.0;

/// π without a capacity: `min(1, ratio / 12)`.
///
/// ```
/// use spotcheck::sample::probability::pi_uncapped;
/// // reference/sampling-vectors.json: ratio 0.3 → 0.024999999999999998.
/// assert_eq!(pi_uncapped(0.3), 0.024999999999999998);
/// assert_eq!(pi_uncapped(0.8), 0.8 / 12.0);
/// ```
#[inline]
pub fn pi_uncapped(ratio: f64) -> f64 {
    (ratio / MONTHS).min(1.0)
}

/// π with a capacity of `capacity` visits over the units whose ratios are given (all > 0 and
/// finite). `tie(a, b)` orders two units of equal ratio (by order key, then code); it is called
/// only inside the group of equal ratios where the capping stops. Returns π per unit, aligned
/// with `ratios`.
///
/// ```
/// use spotcheck::sample::probability::pi_with_capacity;
/// // Capacity 2 over ratios 0.9, 0.1, 0.1: c = 2 / 1.1 makes 0.9 exceed 1, so it gets π = 1;
/// // then c = 1 / 0.2 = 5 and the others get 0.5 each.
/// let pi = pi_with_capacity(&[0.9, 0.1, 0.1], 2, |a, b| a.cmp(&b));
/// assert_eq!(pi, vec![1.0, 0.5, 0.5]);
/// ```
pub fn pi_with_capacity(
    ratios: &[f64],
    capacity: u64,
    tie: impl Fn(usize, usize) -> Ordering,
) -> Vec<f64> {
    let e = ratios.len();
    let c_units = usize::try_from(capacity).unwrap_or(usize::MAX);
    if c_units >= e {
        return vec![1.0; e];
    }
    // Distinct ratio values with their counts, largest first (ranks 0.. in groups).
    let counts = ratios
        .par_iter()
        .fold(CountMap::default, |mut m, r| {
            *m.entry(r.to_bits()).or_default() += 1;
            m
        })
        .reduce(CountMap::default, |mut a, b| {
            for (k, n) in b {
                *a.entry(k).or_default() += n;
            }
            a
        });
    let mut groups: Vec<(f64, usize)> = counts
        .into_iter()
        .map(|(bits, n)| (f64::from_bits(bits), n))
        .collect();
    groups.sort_by(|a, b| b.0.total_cmp(&a.0));

    // S_k for the ranks the loop can reach (k ≤ C < E), summed from the last rank upwards.
    let kmax = c_units;
    let mut s = vec![0.0f64; kmax + 1];
    let mut acc = 0.0f64;
    let mut rank = e;
    for &(v, n) in groups.iter().rev() {
        for _ in 0..n {
            rank -= 1;
            acc += v;
            if rank <= kmax {
                s[rank] = acc;
            }
        }
    }

    // The capping loop; it stops at k = C at the latest, where c = 0.
    let mut g = 0; // group of rank k
    let mut g_end = groups[0].1; // first rank after group g
    let mut k = 0usize;
    let c = loop {
        while k >= g_end {
            g += 1;
            g_end += groups[g].1;
        }
        let c = (capacity - k as u64) as f64 / s[k];
        if c * groups[g].0 <= 1.0 {
            break c;
        }
        k += 1;
    };

    // Ranks < k get π = 1: every group above g entirely, and the first k − start(g) of group g
    // in tie order (none when k = start(g)).
    let boundary = groups[g].0;
    let g_start = g_end - groups[g].1;
    let capped_in_boundary = k - g_start;
    let mut pi: Vec<f64> = ratios
        .par_iter()
        .map(|&r| if r > boundary { 1.0 } else { c * r })
        .collect();
    if capped_in_boundary > 0 {
        let mut members: Vec<usize> = (0..e)
            .filter(|&i| ratios[i].to_bits() == boundary.to_bits())
            .collect();
        members.sort_by(|&a, &b| tie(a, b));
        for &i in &members[..capped_in_boundary] {
            pi[i] = 1.0;
        }
    }
    pi
}

/// SPEC §4.2 with capacity, read literally: sort all units, sum from the last rank upwards, cap.
/// The reference the fast kernel is tested against.
#[cfg(test)]
pub(crate) fn pi_with_capacity_naive(
    ratios: &[f64],
    capacity: u64,
    tie: impl Fn(usize, usize) -> Ordering,
) -> Vec<f64> {
    let e = ratios.len();
    if capacity as usize >= e {
        return vec![1.0; e];
    }
    let mut rank: Vec<usize> = (0..e).collect();
    rank.sort_by(|&a, &b| ratios[b].total_cmp(&ratios[a]).then_with(|| tie(a, b)));
    let mut s = vec![0.0; e];
    let mut acc = 0.0;
    for k in (0..e).rev() {
        acc += ratios[rank[k]];
        s[k] = acc;
    }
    let mut pi = vec![f64::NAN; e];
    let mut k = 0;
    let c = loop {
        let c = (capacity as f64 - k as f64) / s[k];
        if c * ratios[rank[k]] <= 1.0 {
            break c;
        }
        pi[rank[k]] = 1.0;
        k += 1;
    };
    for &i in &rank[k..] {
        pi[i] = c * ratios[i];
    }
    pi
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reference_capacity_three_strata_none() {
        // reference/sampling-vectors.json, draw 2 (capacity 3, 12 units): nothing is capped,
        // c = 3 / S_0 and the ratio-0.8 units get 0.9170806266717616.
        let ratios = [
            0.03, 0.015, 0.1, 0.3, 0.8, 0.024, 0.1, 0.1, 0.018, 0.3, 0.8, 0.03,
        ];
        let pi = pi_with_capacity(&ratios, 3, |a, b| a.cmp(&b));
        assert_eq!(pi[4], 0.9170806266717616);
        assert_eq!(pi[10], 0.9170806266717616);
        assert_eq!(pi[0], 0.034390523500191054);
        assert_eq!(pi[8], 0.020634314100114633);
        // reference draw 3 (capacity 5): both 0.8 units are capped at 1, c = 3 / S_2.
        let pi = pi_with_capacity(&ratios, 5, |a, b| a.cmp(&b));
        assert_eq!(pi[4], 1.0);
        assert_eq!(pi[10], 1.0);
        assert_eq!(pi[3], 0.8849557522123893);
        assert_eq!(pi[8], 0.053097345132743355);
    }

    #[test]
    fn enough_capacity_draws_everyone() {
        assert_eq!(pi_with_capacity(&[0.1, 0.2], 2, |a, b| a.cmp(&b)), [1.0; 2]);
        assert_eq!(pi_with_capacity(&[0.1, 0.2], 9, |a, b| a.cmp(&b)), [1.0; 2]);
        assert_eq!(
            pi_with_capacity(&[], 0, |a, b| a.cmp(&b)),
            Vec::<f64>::new()
        );
        // Capacity 0: nobody.
        assert_eq!(pi_with_capacity(&[0.1, 0.2], 0, |a, b| a.cmp(&b)), [0.0; 2]);
    }

    #[test]
    fn equal_ratios_are_capped_together() {
        // Capacity 3 over 0.9, 0.9 and ten at 0.01 (hand computation): k = 0: c = 3 / 1.9,
        // c·0.9 = 1.42 > 1 → π = 1; k = 1: c = 2 / 1.0, c·0.9 = 1.8 > 1 → π = 1; k = 2:
        // c = 1 / 0.1 (S_2 summed in floats: 0.09999999999999999), c·0.01 ≈ 0.1 ≤ 1 → stop.
        let mut ratios = vec![0.9, 0.9];
        ratios.extend([0.01; 10]);
        let pi = pi_with_capacity(&ratios, 3, |a, b| a.cmp(&b));
        assert_eq!(&pi[..2], &[1.0, 1.0]);
        for &p in &pi[2..] {
            assert!((p - 0.1).abs() < 1e-15, "{p}");
        }
        assert_eq!(pi, pi_with_capacity_naive(&ratios, 3, |a, b| a.cmp(&b)));
    }

    #[test]
    fn loop_stopping_inside_a_tie_group() {
        // 0.3, 0.3 and ten at 0.15 with capacity 7 sit exactly on the capping border
        // (0.3 · (7 − 2) = 10 · 0.15). In floats S_0 = 2.0999999999999996 gives c·0.3 =
        // 1.0000000000000002 > 1 (cap rank 0), S_1 = 1.7999999999999998 gives exactly 1.0 (stop):
        // the loop stops inside the group of equal ratios, so the tie order decides which 0.3
        // unit is capped (found by searching border cases with Python floats). Both end at 1.0.
        let mut ratios = vec![0.3, 0.3];
        ratios.extend([0.15; 10]);
        for tie in [
            |a: usize, b: usize| a.cmp(&b),
            |a: usize, b: usize| b.cmp(&a),
        ] {
            let pi = pi_with_capacity(&ratios, 7, tie);
            assert_eq!(pi, pi_with_capacity_naive(&ratios, 7, tie));
            assert_eq!(&pi[..2], &[1.0, 1.0]);
            assert!(pi[2..].iter().all(|&p| p == 0.5));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// The grouped kernel equals the literal reading of §4.2, bit for bit, and Σπ ≈ C.
        #[test]
        fn fast_equals_naive(
            picks in prop::collection::vec(0usize..8, 1..80),
            capacity in 0u64..90,
        ) {
            // Few distinct values, so ties and partially capped groups are common.
            const VALUES: [f64; 8] = [0.8, 0.3, 0.1, 0.03, 0.024, 0.5, 1.0, 0.0015];
            let ratios: Vec<f64> = picks.iter().map(|&p| VALUES[p]).collect();
            let tie = |a: usize, b: usize| (a * 7919 % 97).cmp(&(b * 7919 % 97)).then(a.cmp(&b));
            let fast = pi_with_capacity(&ratios, capacity, tie);
            let naive = pi_with_capacity_naive(&ratios, capacity, tie);
            let fast_bits: Vec<u64> = fast.iter().map(|p| p.to_bits()).collect();
            let naive_bits: Vec<u64> = naive.iter().map(|p| p.to_bits()).collect();
            prop_assert_eq!(fast_bits, naive_bits);
            prop_assert!(fast.iter().all(|&p| (0.0..=1.0).contains(&p)));
            let total: f64 = fast.iter().sum();
            let expected = (capacity as f64).min(ratios.len() as f64);
            prop_assert!((total - expected).abs() < 1e-9, "Σπ = {} for C = {}", total, capacity);
        }
    }
}
