//! Rounding of the published numbers (SPEC §3.6, normative): `market_ratio` and `eco_ratio` to 4
//! decimal places after every factor and the clamp of §3.4–3.5, `risk_score` and `env_tax_cny` to
//! 2, each as `round_ties_even(x × 10ᵏ) / 10ᵏ` in f64. The rounded value is the one written and
//! the one sampling uses, so a CSV shows `0.24`, never `0.24000000000000002`. Pollution
//! equivalents are not rounded. Pure.

/// Decimal places of `market_ratio` and `eco_ratio`.
pub const RATIO_DECIMALS: i32 = 4;
/// Decimal places of `risk_score` and `env_tax_cny`.
pub const AMOUNT_DECIMALS: i32 = 2;

/// `round_ties_even(x × 10ᵏ) / 10ᵏ` in f64 (SPEC §3.6). `10ᵏ` is exact for the `k` used here,
/// so the only rounding steps are the product, the integer rounding and the division.
///
/// ```
/// use spotcheck::score::round::round_to;
/// assert_eq!(round_to(0.20 * 1.5 * 0.8, 4), 0.24); // 0.24000000000000002 in f64
/// assert_eq!(round_to(100.0 * (0.5 / 3.0 + 0.25), 2), 41.67);
/// assert_eq!(round_to(0.00125, 4), 0.0012); // 12.5 → 12: ties go to the even integer
/// ```
#[inline]
pub fn round_to(x: f64, k: i32) -> f64 {
    let p = 10f64.powi(k);
    (x * p).round_ties_even() / p
}

/// A ratio rounded to [`RATIO_DECIMALS`].
#[inline]
pub fn ratio(x: f64) -> f64 {
    round_to(x, RATIO_DECIMALS)
}

/// A score or an amount in yuan rounded to [`AMOUNT_DECIMALS`].
#[inline]
pub fn amount(x: f64) -> f64 {
    round_to(x, AMOUNT_DECIMALS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_and_two_decimals() {
        // The artefacts of f64 products disappear.
        assert_eq!(ratio(0.1 * 0.75), 0.075); // 0.07500000000000001
        assert_eq!(ratio(0.2 * 1.5), 0.3); // 0.30000000000000004
        assert_eq!(ratio(0.03 * 0.6), 0.018);
        assert_eq!(amount(100.0 * (1.0 / 3.0 * 0.5 + 0.125)), 29.17); // 29.166666666666664
        assert_eq!(amount(1791.044776119403), 1791.04);
        assert_eq!(amount(252631.57894736843), 252631.58);
        // Ties to even on the scaled value: 2.5 → 2, 3.5 → 4 (0.5 is exact in binary).
        assert_eq!(round_to(0.25, 1), 0.2);
        // 0.35 is 0.34999… in f64, but 0.35 × 10 rounds to exactly 3.5 in f64, a tie → 4: the
        // formula is taken literally, product first.
        assert_eq!(round_to(0.35, 1), 0.4);
        assert_eq!(round_to(2.5, 0), 2.0);
        assert_eq!(round_to(3.5, 0), 4.0);
        // Already round values are unchanged; zero, one and negative values too.
        for x in [0.0, 1.0, 0.8, 0.015, 0.0001, 75.0, -0.5] {
            assert_eq!(ratio(x), x);
        }
        assert!(ratio(f64::NAN).is_nan());
    }

    #[test]
    fn shortest_text_is_the_rounded_decimal() {
        // What a CSV shows: Rust's shortest round-trip text of the rounded double.
        assert_eq!(ratio(0.1 * 0.75).to_string(), "0.075");
        assert_eq!(
            amount(100.0 * (2.0 / 3.0 * 0.5 + 0.25)).to_string(),
            "58.33"
        );
    }
}
