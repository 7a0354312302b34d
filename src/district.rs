//! Beijing's districts (GB/T 2260, DOMAIN.md §7): the 16 district codes with their Chinese names,
//! the BDA (北京经济技术开发区, 经开区) under the registration code 110302, and retired codes mapped
//! forward (110103→110101, 110104→110102, and the old county codes). A district cell may hold the
//! 6-digit code, the Chinese name (with or without 区) or a retired code; it is stored as the code.

/// One district-like unit: its 6-digit code and Chinese name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct District {
    pub code: u32,
    pub name: &'static str,
}

/// The 16 districts and the BDA, in code order.
pub const DISTRICTS: &[District] = &[
    District {
        code: 110101,
        name: "东城区",
    },
    District {
        code: 110102,
        name: "西城区",
    },
    District {
        code: 110105,
        name: "朝阳区",
    },
    District {
        code: 110106,
        name: "丰台区",
    },
    District {
        code: 110107,
        name: "石景山区",
    },
    District {
        code: 110108,
        name: "海淀区",
    },
    District {
        code: 110109,
        name: "门头沟区",
    },
    District {
        code: 110111,
        name: "房山区",
    },
    District {
        code: 110112,
        name: "通州区",
    },
    District {
        code: 110113,
        name: "顺义区",
    },
    District {
        code: 110114,
        name: "昌平区",
    },
    District {
        code: 110115,
        name: "大兴区",
    },
    District {
        code: 110116,
        name: "怀柔区",
    },
    District {
        code: 110117,
        name: "平谷区",
    },
    District {
        code: 110118,
        name: "密云区",
    },
    District {
        code: 110119,
        name: "延庆区",
    },
    District {
        code: 110302,
        name: "北京经济技术开发区",
    },
];

/// Retired codes still found in old data, and the code that replaced each (DOMAIN.md §7).
pub const RETIRED: &[(u32, u32)] = &[
    (110103, 110101),
    (110104, 110102),
    (110110, 110111),
    (110221, 110114),
    (110222, 110113),
    (110223, 110112),
    (110224, 110115),
    (110225, 110111),
    (110226, 110117),
    (110227, 110116),
    (110228, 110118),
    (110229, 110119),
];

/// What a district cell may hold, for error messages.
pub const EXPECTED: &str = "a Beijing district: a 6-digit code 110101…110119 or 110302, or its Chinese name such as 海淀区 or 经开区";

/// Parses a district cell into its current 6-digit code.
///
/// ```
/// use spotcheck::district::parse;
/// assert_eq!(parse("海淀区"), Some(110108));
/// assert_eq!(parse("海淀"), Some(110108));
/// assert_eq!(parse("110103"), Some(110101));
/// assert_eq!(parse("经开区"), Some(110302));
/// assert_eq!(parse("110120"), None);
/// ```
pub fn parse(cell: &str) -> Option<u32> {
    let s = cell.trim();
    if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
        let code: u32 = s.parse().ok()?;
        return canonical(code);
    }
    if let Some(stripped) = s.strip_suffix(".0") {
        // Excel and JSON sometimes turn the code into a float.
        return parse(stripped);
    }
    match s {
        "北京经济技术开发区"
        | "经开区"
        | "北京经开区"
        | "亦庄"
        | "经济技术开发区"
        | "BDA"
        | "bda" => {
            return Some(110302);
        }
        "崇文区" | "崇文" => return Some(110101),
        "宣武区" | "宣武" => return Some(110102),
        _ => {}
    }
    let bare = s.strip_prefix("北京市").unwrap_or(s);
    DISTRICTS
        .iter()
        .find(|d| d.name == bare || d.name.strip_suffix('区') == Some(bare))
        .map(|d| d.code)
}

/// Maps a numeric code to its current code, or `None` when it is not a Beijing district.
pub fn canonical(code: u32) -> Option<u32> {
    if DISTRICTS.iter().any(|d| d.code == code) {
        return Some(code);
    }
    RETIRED
        .iter()
        .find(|(old, _)| *old == code)
        .map(|(_, new)| *new)
}

/// The Chinese name of a current code.
pub fn name(code: u32) -> Option<&'static str> {
    DISTRICTS.iter().find(|d| d.code == code).map(|d| d.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_district_by_code_and_name() {
        for d in DISTRICTS {
            assert_eq!(parse(&d.code.to_string()), Some(d.code));
            assert_eq!(parse(d.name), Some(d.code));
            assert_eq!(name(d.code), Some(d.name));
        }
        assert_eq!(DISTRICTS.len(), 17);
    }

    #[test]
    fn retired_and_unknown() {
        assert_eq!(parse("110104"), Some(110102));
        assert_eq!(parse("110228"), Some(110118));
        assert_eq!(parse("110108.0"), Some(110108));
        assert_eq!(parse("110100"), None);
        assert_eq!(parse("310101"), None);
        assert_eq!(parse("上海"), None);
        assert_eq!(parse(""), None);
    }
}
