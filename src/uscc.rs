//! 统一社会信用代码 (GB 32100-2015): the check of SPEC §2.1 (normative). An 18-character code over
//! `0123456789ABCDEFGHJKLMNPQRTUWXY`; the 18th character is a mod-31 check over the first 17.
//! A wrong length or character rejects the row; a wrong check character only flags it, since real
//! registers hold a few such codes. This file also makes valid codes, for the generator and tests.

/// The 31 characters a code may use; a character's value is its index here.
pub const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of positions 1..=17: 3^(i−1) mod 31.
pub const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Outcome of checking one code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsccCheck {
    /// Well formed and the check character matches; holds the upper-cased code.
    Valid(String),
    /// Well formed but the check character is wrong (`USCC_CHECKSUM`: kept and flagged).
    BadChecksum(String),
    /// Wrong length or a character outside the set (`USCC_MALFORMED`: rejected).
    Malformed,
}

/// Value of one character (upper-case expected), or `None` when it is not in the set.
#[inline]
pub fn value(c: u8) -> Option<u32> {
    const TABLE: [u8; 256] = {
        let mut t = [255u8; 256];
        let mut i = 0;
        while i < 31 {
            t[CHARSET[i] as usize] = i as u8;
            i += 1;
        }
        t
    };
    match TABLE[c as usize] {
        255 => None,
        v => Some(v as u32),
    }
}

/// The check character for the first 17 characters, or `None` if one is outside the set.
pub fn check_char(first17: &[u8]) -> Option<u8> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.iter().zip(WEIGHTS) {
        sum += value(c.to_ascii_uppercase())? * w;
    }
    let c18 = (31 - sum % 31) % 31;
    Some(CHARSET[c18 as usize])
}

/// Checks a code as SPEC §2.1 says; surrounding spaces are trimmed and lower case upper-cased.
///
/// ```
/// use spotcheck::uscc::{check, UsccCheck};
/// assert!(matches!(check("91350100M000100Y43"), UsccCheck::Valid(_)));
/// assert!(matches!(check("91350100M000100Y44"), UsccCheck::BadChecksum(_)));
/// assert_eq!(check("9135010"), UsccCheck::Malformed);
/// ```
pub fn check(code: &str) -> UsccCheck {
    let code = code.trim();
    let bytes = code.as_bytes();
    if bytes.len() != 18 {
        return UsccCheck::Malformed;
    }
    let mut up = [0u8; 18];
    for (i, b) in bytes.iter().enumerate() {
        let u = b.to_ascii_uppercase();
        if value(u).is_none() {
            return UsccCheck::Malformed;
        }
        up[i] = u;
    }
    // Every byte is one of the 31 ASCII characters, so this is valid UTF-8.
    let s = String::from_utf8_lossy(&up).into_owned();
    match check_char(&up[..17]) {
        Some(c) if c == up[17] => UsccCheck::Valid(s),
        _ => UsccCheck::BadChecksum(s),
    }
}

/// Completes 17 characters into a valid 18-character code; `None` if one is outside the set.
pub fn complete(first17: &str) -> Option<String> {
    let b = first17.as_bytes();
    let c = check_char(b)?;
    let mut s = first17.to_ascii_uppercase();
    s.push(c as char);
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes() {
        // 91350100M000100Y43 is the standard's published example (GB 32100-2015 附录).
        assert!(matches!(check("91350100M000100Y43"), UsccCheck::Valid(_)));
        assert!(
            matches!(check("91350100m000100y43"), UsccCheck::Valid(ref s) if s == "91350100M000100Y43")
        );
        // DOMAIN.md §5: real-life code that fails the mod-31 check: flagged, not rejected.
        assert!(matches!(
            check("91350203M0001QAY9B"),
            UsccCheck::BadChecksum(_)
        ));
        // The scoring examples' codes are valid.
        for c in [
            "91110302EXAMPLE022",
            "91110108EXAMPLE04L",
            "91110108EXAMPLE008",
        ] {
            assert!(matches!(check(c), UsccCheck::Valid(_)), "{c}");
        }
        assert_eq!(check("91110108EXAMPLE0O8"), UsccCheck::Malformed); // O not in the set
        assert_eq!(check("9111010"), UsccCheck::Malformed);
        assert_eq!(check(""), UsccCheck::Malformed);
        assert_eq!(check("91110108EXAMPLE0088"), UsccCheck::Malformed);
    }

    #[test]
    fn check_of_31_is_zero() {
        // Search a code whose weighted sum is 0 mod 31: its check char must be '0', never 31.
        let c = complete("00000000000000000").unwrap();
        assert_eq!(c.as_bytes()[17], b'0');
    }

    #[test]
    fn every_single_character_corruption_is_caught() {
        let good = complete("91110108MA01ABCD1").unwrap();
        assert!(matches!(check(&good), UsccCheck::Valid(_)));
        for pos in 0..18 {
            for &b in CHARSET.iter().chain(b"IOSVZ!a ".iter()) {
                let mut v = good.clone().into_bytes();
                if v[pos] == b || v[pos] == b.to_ascii_uppercase() {
                    continue;
                }
                v[pos] = b;
                let s = String::from_utf8(v).unwrap();
                match check(&s) {
                    UsccCheck::Valid(_) => panic!("corruption at {pos} to {} passed", b as char),
                    UsccCheck::BadChecksum(_) => assert!(value(b.to_ascii_uppercase()).is_some()),
                    UsccCheck::Malformed => assert!(value(b.to_ascii_uppercase()).is_none()),
                }
            }
        }
    }
}
