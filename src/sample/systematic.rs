//! Systematic πps selection within one stratum (SPEC §4.4, normative bit for bit): walk the units in
//! processing order with a running sum T of their π (T₀ = 0, `T ← T + π` in f64, in that order);
//! a unit is selected when `n(T_after) > n(T_before)`, with `n(T) = max(0, ⌈T − start⌉)` and
//! `start` in [0, 1) from the stratum's hash. Each unit is selected with probability exactly π over
//! the start, and the stratum yields ⌊Σπ⌋ or ⌈Σπ⌉ units.

/// `n(T) = max(0, ⌈T − start⌉)`, kept as f64 (an integer value; comparing floats is exact here).
#[inline]
fn n(t: f64, start: f64) -> f64 {
    (t - start).ceil().max(0.0)
}

/// Outcome of one stratum's walk.
#[derive(Debug, Clone, PartialEq)]
pub struct Walk {
    /// Positions (in processing order) of the selected units.
    pub selected: Vec<usize>,
    /// Σπ: the final running sum T, accumulated exactly as the walk does.
    pub pi_sum: f64,
}

/// Walks `pi` (already in processing order: key ascending, then code) from `start`.
///
/// ```
/// use spotcheck::sample::systematic::systematic;
/// // π = 0.5 each, start 0.25: T crosses 0.25, 1.25 → units 0 and 2.
/// let w = systematic([0.5, 0.5, 0.5, 0.5], 0.25);
/// assert_eq!(w.selected, vec![0, 2]);
/// assert_eq!(w.pi_sum, 2.0);
/// ```
pub fn systematic(pi: impl IntoIterator<Item = f64>, start: f64) -> Walk {
    let mut selected = Vec::new();
    let mut t = 0.0f64;
    let mut n_before = n(t, start);
    for (pos, p) in pi.into_iter().enumerate() {
        t += p;
        let n_after = n(t, start);
        if n_after > n_before {
            selected.push(pos);
        }
        n_before = n_after;
    }
    Walk {
        selected,
        pi_sum: t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_stratum_110105() {
        // reference/sampling-vectors.json, draw 1, stratum 110105. Market keys ascending:
        // 5QYJ 2695672942285255481 (π 0.0666…), L4UX 14828198012677180812 (0.024999999999999998),
        // K0XT 15102368926718520188 (0.00125), JH4B 17340206390249867789 (0.0025); the reference
        // start is 0.04733690891829079. T passes the start at the first unit: 5QYJ is the only
        // one selected, as the reference says.
        let start = 0.04733690891829079;
        let w = systematic(
            [0.06666666666666667, 0.024999999999999998, 0.00125, 0.0025],
            start,
        );
        assert_eq!(w.selected, vec![0]);
        assert_eq!(
            w.pi_sum,
            ((0.06666666666666667f64 + 0.024999999999999998) + 0.00125) + 0.0025
        );
    }

    #[test]
    fn size_is_floor_or_ceil_and_ones_always_selected() {
        let pi = [1.0, 0.3, 0.7, 1.0, 0.45, 0.55, 0.2];
        let total: f64 = pi.iter().sum();
        for i in 0..1000 {
            let start = i as f64 / 1000.0;
            let w = systematic(pi, start);
            let k = w.selected.len() as f64;
            assert!(
                k == total.floor() || k == total.ceil(),
                "start {start}: {k}"
            );
            assert!(w.selected.contains(&0) && w.selected.contains(&3));
        }
    }

    #[test]
    fn start_zero_and_empty() {
        // start 0: n(T) = ⌈T⌉, so the first unit with π > 0 is always selected.
        assert_eq!(systematic([0.1, 0.2], 0.0).selected, vec![0]);
        let w = systematic(std::iter::empty(), 0.5);
        assert!(w.selected.is_empty());
        assert_eq!(w.pi_sum, 0.0);
        // π = 0 units are never selected.
        assert_eq!(
            systematic([0.0, 0.0, 0.0], 0.0).selected,
            Vec::<usize>::new()
        );
    }
}
