//! The vocabulary of spotcheck: the domain enums (信用风险分类, 企业梯度, 排污许可管理类别 …), how a cell
//! parses into them (English values, Chinese values, the spellings bureaus' exports use) and how
//! they are written back (`Lang::En` / `Lang::Zh`), plus the column names of every table of SPEC §1
//! and §3.6 with their Chinese headers. It owns no I/O: readers and writers in `table/` use it.

use std::fmt;

/// Output language of headers, enum values and reason texts (`--lang en|zh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// Parses `en` / `zh` (also `cn`, `中文`).
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" | "english" => Some(Lang::En),
            "zh" | "cn" | "zh-cn" | "中文" => Some(Lang::Zh),
            _ => None,
        }
    }
}

/// Normalises a cell for enum matching: trims (a byte-order mark too: two files joined with
/// `cat` leave the second one's BOM at the start of its header line), lower-cases ASCII,
/// unifies quote marks and full-width letters so that `专精特新“小巨人”企业`, `A类` and `Ａ` all
/// match.
pub fn norm(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .chars()
    {
        let ch = match ch {
            '“' | '”' | '「' | '」' | '＂' | '\'' | '‘' | '’' => '"',
            // full-width ASCII (Ａ..Ｚ, ０..９) to half-width
            c @ '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        };
        out.extend(ch.to_lowercase());
    }
    out
}

/// Declares a closed domain enum with its English value, Chinese value and accepted spellings.
macro_rules! domain_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $en:literal, $zh:literal $(, $alias:literal)* ; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];
            /// What the values are, for error messages.
            pub const EXPECTED: &'static str = concat!($what, " (", $( $en, "/", $zh, " " ),+ , ")");

            /// The English value, as written in outputs with `--lang en`.
            pub fn en(self) -> &'static str {
                match self { $( $name::$variant => $en, )+ }
            }

            /// The Chinese value, as written in outputs with `--lang zh`.
            pub fn zh(self) -> &'static str {
                match self { $( $name::$variant => $zh, )+ }
            }

            /// The value in the given language.
            pub fn label(self, lang: Lang) -> &'static str {
                match lang { Lang::En => self.en(), Lang::Zh => self.zh() }
            }

            /// Parses English, Chinese or an accepted alias; `None` when it is none of them.
            pub fn parse(s: &str) -> Option<$name> {
                let n = norm(s);
                $(
                    if n == norm($en) || n == norm($zh) $( || n == norm($alias) )* {
                        return Some($name::$variant);
                    }
                )+
                None
            }

            /// Dense index of the variant (declaration order), for lookup tables.
            pub fn index(self) -> usize {
                self as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.en())
            }
        }
    };
}

domain_enum! {
    /// 企业信用风险分类: SAMR's four credit risk classes, A (lowest risk) to D.
    CreditClass, "a credit risk class" {
        A = "A", "A类", "信用风险低", "低风险", "a类";
        B = "B", "B类", "信用风险一般", "一般风险";
        C = "C", "C类", "信用风险较高", "较高风险";
        D = "D", "D类", "信用风险高", "高风险";
    }
}

domain_enum! {
    /// 企业梯度: the 专精特新 tier of an enterprise (`None` is scored but gets no relief).
    Tier, "a tier" {
        Innovative = "innovative", "创新型中小企业", "创新型";
        Specialized = "specialized", "专精特新中小企业", "专精特新";
        LittleGiant = "little_giant", "专精特新\"小巨人\"企业", "小巨人", "专精特新小巨人", "专精特新小巨人企业", "\"小巨人\"企业", "little giant";
        None = "none", "非专精特新企业", "无", "非专精特新", "否";
    }
}

domain_enum! {
    /// 排污许可管理类别: the pollutant discharge permit class.
    PermitClass, "a permit class" {
        Key = "key", "重点管理";
        Simplified = "simplified", "简化管理";
        Registration = "registration", "登记管理";
        None = "none", "无", "无需排污许可";
    }
}

domain_enum! {
    /// 突发环境事件风险等级 (HJ 941-2018): general 一般, larger 较大, major 重大.
    EnvRiskLevel, "an environmental risk level" {
        General = "general", "一般", "一般环境风险";
        Larger = "larger", "较大", "较大环境风险";
        Major = "major", "重大", "重大环境风险";
    }
}

domain_enum! {
    /// HJ 941 environmental sensitivity (环境敏感程度) E1 (most sensitive) to E3.
    Sensitivity, "an environmental sensitivity" {
        E1 = "E1", "E1", "e1";
        E2 = "E2", "E2", "e2";
        E3 = "E3", "E3", "e3";
    }
}

domain_enum! {
    /// The medium an emission goes to: air 大气 or water 水.
    Medium, "a medium" {
        Air = "air", "大气", "废气", "气";
        Water = "water", "水", "废水";
    }
}

domain_enum! {
    /// The inspecting department: 市场监管 (market) or 生态环境 (ecology).
    Department, "a department" {
        Market = "market", "市场监管", "市场监管部门", "市场";
        Ecology = "ecology", "生态环境", "生态环境部门", "生态";
    }
}

domain_enum! {
    /// How an inspection is done: 现场 (on site) or 非现场 (off site).
    Mode, "an inspection mode" {
        Onsite = "onsite", "现场", "on_site", "on-site";
        NonSite = "non_site", "非现场", "nonsite", "non-site", "off_site";
    }
}

domain_enum! {
    /// Emission band from pollution equivalents (SPEC §3.2); `Unknown` when pe is null.
    EmissionBand, "an emission band" {
        Low = "low", "低";
        Medium = "medium", "中";
        High = "high", "高";
        Unknown = "unknown", "未知";
    }
}

domain_enum! {
    /// Where the credit class came from (SPEC §3.1).
    CreditSource, "a credit source" {
        Given = "given", "给定";
        Model = "model", "模型";
        Default = "default", "默认";
    }
}

domain_enum! {
    /// Where the environmental risk level came from (SPEC §3.3).
    EnvRiskSource, "an environmental risk source" {
        Given = "given", "给定";
        Computed = "computed", "计算";
        Unknown = "unknown", "未知";
    }
}

/// Parses a boolean cell: `true/false/1/0/yes/no/是/否` (SPEC §1.1), case-insensitively.
pub fn parse_bool(s: &str) -> Option<bool> {
    match norm(s).as_str() {
        "true" | "1" | "yes" | "y" | "是" | "t" => Some(true),
        "false" | "0" | "no" | "n" | "否" | "f" => Some(false),
        _ => None,
    }
}

/// The word for a boolean in the output language.
pub fn bool_label(b: bool, lang: Lang) -> &'static str {
    match (lang, b) {
        (Lang::En, true) => "true",
        (Lang::En, false) => "false",
        (Lang::Zh, true) => "是",
        (Lang::Zh, false) => "否",
    }
}

/// A column of an input or output table: its canonical English name and its Chinese header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    /// Canonical name, as written with `--lang en`.
    pub name: &'static str,
    /// Chinese header, as written with `--lang zh` and accepted on input.
    pub zh: &'static str,
    /// Further accepted spellings (matched case-insensitively after trimming).
    pub aliases: &'static [&'static str],
}

impl Col {
    /// The header in the given language.
    pub fn header(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.name,
            Lang::Zh => self.zh,
        }
    }

    /// Whether a header cell names this column (trimmed, case-insensitive, English or Chinese).
    pub fn matches(&self, header: &str) -> bool {
        let h = norm(header);
        h == norm(self.name) || h == norm(self.zh) || self.aliases.iter().any(|a| h == norm(a))
    }
}

const fn col(name: &'static str, zh: &'static str) -> Col {
    Col {
        name,
        zh,
        aliases: &[],
    }
}

const fn col_a(name: &'static str, zh: &'static str, aliases: &'static [&'static str]) -> Col {
    Col { name, zh, aliases }
}

/// Columns of the enterprise table (SPEC §1.1). Names are the constants' lower-case names.
pub mod ent {
    use super::{Col, col, col_a};
    pub const USCC: Col = col_a("uscc", "统一社会信用代码", &["信用代码", "社会信用代码"]);
    pub const NAME: Col = col_a("name", "企业名称", &["名称", "单位名称"]);
    pub const DISTRICT: Col = col_a("district", "所属区", &["区", "所属区县", "行政区划"]);
    pub const INDUSTRY: Col = col_a("industry", "行业代码", &["国民经济行业代码"]);
    pub const TIER: Col = col("tier", "企业梯度");
    pub const CREDIT_CLASS: Col = col_a("credit_class", "信用风险分类", &["信用风险分类结果"]);
    pub const PERMIT_CLASS: Col = col("permit_class", "排污许可管理类别");
    pub const PE_AIR: Col = col("pe_air", "大气污染当量数");
    pub const PE_WATER: Col = col("pe_water", "水污染当量数");
    pub const ENV_RISK_LEVEL: Col = col("env_risk_level", "突发环境事件风险等级");
    pub const AIR_Q: Col = col("air_q", "大气Q值");
    pub const AIR_M: Col = col("air_m", "大气M值");
    pub const AIR_E: Col = col("air_e", "大气E等级");
    pub const WATER_Q: Col = col("water_q", "水Q值");
    pub const WATER_M: Col = col("water_m", "水M值");
    pub const WATER_E: Col = col("water_e", "水E等级");
    pub const ENV_PENALTIES_24M: Col = col("env_penalties_24m", "近24个月生态环境行政处罚次数");
    pub const ENV_INCIDENTS_24M: Col = col("env_incidents_24m", "近24个月突发环境事件次数");
    pub const ENV_SERIOUS_VIOLATION_36M: Col =
        col("env_serious_violation_36m", "近36个月环境违法处罚");
    pub const ONLINE_MONITORING: Col = col("online_monitoring", "自动监控联网");

    /// Every known column of the enterprise table, in SPEC order.
    pub const ALL: &[Col] = &[
        USCC,
        NAME,
        DISTRICT,
        INDUSTRY,
        TIER,
        CREDIT_CLASS,
        PERMIT_CLASS,
        PE_AIR,
        PE_WATER,
        ENV_RISK_LEVEL,
        AIR_Q,
        AIR_M,
        AIR_E,
        WATER_Q,
        WATER_M,
        WATER_E,
        ENV_PENALTIES_24M,
        ENV_INCIDENTS_24M,
        ENV_SERIOUS_VIOLATION_36M,
        ONLINE_MONITORING,
    ];
    /// Required columns.
    pub const REQUIRED: &[Col] = &[USCC, NAME, DISTRICT, TIER];
}

/// Credit features (SPEC §1.1) with Chinese headers; the model file names which it uses.
pub mod feat {
    use super::{Col, col};
    pub const YEARS_IN_OPERATION: Col = col("years_in_operation", "经营年限");
    pub const REGISTERED_CAPITAL_WAN: Col = col("registered_capital_wan", "注册资本(万元)");
    pub const EMPLOYEES: Col = col("employees", "从业人数");
    pub const ABNORMAL_LIST_3Y: Col = col("abnormal_list_3y", "经营异常名录次数");
    pub const ADMIN_PENALTIES_3Y: Col = col("admin_penalties_3y", "行政处罚次数");
    pub const SERIOUS_ILLEGAL: Col = col("serious_illegal", "严重违法失信名单");
    pub const ANNUAL_REPORT_LATE_3Y: Col = col("annual_report_late_3y", "年报逾期次数");
    pub const TAX_CREDIT_GRADE: Col = col("tax_credit_grade", "纳税信用等级");
    pub const JUDGMENT_DEBTOR: Col = col("judgment_debtor", "失信被执行人");
    pub const COMPLAINTS_12M: Col = col("complaints_12m", "近12个月投诉举报次数");
    /// Every credit feature spotcheck knows a Chinese header for.
    pub const ALL: &[Col] = &[
        YEARS_IN_OPERATION,
        REGISTERED_CAPITAL_WAN,
        EMPLOYEES,
        ABNORMAL_LIST_3Y,
        ADMIN_PENALTIES_3Y,
        SERIOUS_ILLEGAL,
        ANNUAL_REPORT_LATE_3Y,
        TAX_CREDIT_GRADE,
        JUDGMENT_DEBTOR,
        COMPLAINTS_12M,
    ];
}

/// Columns of the emissions table (SPEC §1.2).
pub mod emi {
    use super::{Col, col_a};
    pub const USCC: Col = super::ent::USCC;
    pub const OUTLET: Col = col_a("outlet", "排放口编号", &["排放口"]);
    pub const MEDIUM: Col = col_a("medium", "介质", &["排放类型", "污染物类别"]);
    pub const POLLUTANT: Col = col_a("pollutant", "污染物", &["污染物名称", "污染物代码"]);
    pub const AMOUNT_KG: Col = col_a("amount_kg", "年排放量(千克)", &["排放量(kg)", "排放量"]);
    pub const ALL: &[Col] = &[USCC, OUTLET, MEDIUM, POLLUTANT, AMOUNT_KG];
    pub const REQUIRED: &[Col] = ALL;
}

/// Columns of the inspection history table (SPEC §1.3).
pub mod hist {
    use super::{Col, col_a};
    pub const USCC: Col = super::ent::USCC;
    pub const DATE: Col = col_a("date", "检查日期", &["日期"]);
    pub const DEPARTMENT: Col = col_a("department", "部门", &["检查部门"]);
    pub const MODE: Col = col_a("mode", "检查方式", &["方式"]);
    pub const ALL: &[Col] = &[USCC, DATE, DEPARTMENT, MODE];
    pub const REQUIRED: &[Col] = ALL;
}

/// Columns of the inspectors table (SPEC §1.4).
pub mod insp {
    use super::{Col, col_a};
    pub const INSPECTOR_ID: Col = col_a("inspector_id", "执法人员编号", &["检查人员编号", "工号"]);
    pub const NAME: Col = col_a("name", "姓名", &["执法人员姓名"]);
    pub const DEPARTMENT: Col = col_a("department", "部门", &["所属部门"]);
    pub const DISTRICT: Col = col_a("district", "所属区", &["区"]);
    pub const CONFLICTS: Col = col_a("conflicts", "回避企业", &["回避"]);
    pub const ALL: &[Col] = &[INSPECTOR_ID, NAME, DEPARTMENT, DISTRICT, CONFLICTS];
    pub const REQUIRED: &[Col] = &[INSPECTOR_ID, NAME, DEPARTMENT, DISTRICT];
}

/// Columns of the score output (SPEC §3.6), in output order.
pub mod out {
    use super::{Col, col};
    pub const USCC: Col = super::ent::USCC;
    pub const NAME: Col = super::ent::NAME;
    pub const DISTRICT: Col = super::ent::DISTRICT;
    pub const TIER: Col = super::ent::TIER;
    pub const CREDIT_CLASS: Col = super::ent::CREDIT_CLASS;
    pub const CREDIT_SOURCE: Col = col("credit_source", "信用分类来源");
    pub const CREDIT_POINTS: Col = col("credit_points", "信用评分");
    pub const CREDIT_REASONS: Col = col("credit_reasons", "信用评分主要原因");
    pub const PE_AIR: Col = super::ent::PE_AIR;
    pub const PE_WATER: Col = super::ent::PE_WATER;
    pub const PE_TOTAL: Col = col("pe_total", "污染当量数合计");
    pub const ENV_TAX_CNY: Col = col("env_tax_cny", "环境保护税估算(元)");
    pub const EMISSION_BAND: Col = col("emission_band", "排放量等级");
    pub const ENV_RISK_LEVEL: Col = super::ent::ENV_RISK_LEVEL;
    pub const ENV_RISK_SOURCE: Col = col("env_risk_source", "环境风险等级来源");
    pub const ENV_RISK_DETAIL: Col = col("env_risk_detail", "环境风险等级表征");
    pub const MARKET_RATIO: Col = col("market_ratio", "市场监管抽查比例");
    pub const MARKET_MAX_PER_YEAR: Col = col("market_max_per_year", "市场监管年度抽查上限");
    pub const ECO_RATIO: Col = col("eco_ratio", "生态环境现场检查比例");
    pub const ECO_MAX_PER_YEAR: Col = col("eco_max_per_year", "生态环境年度现场检查上限");
    pub const ECO_MODE: Col = col("eco_mode", "生态环境检查方式");
    pub const POSITIVE_LIST: Col = col("positive_list", "纳入正面清单");
    pub const RISK_SCORE: Col = col("risk_score", "综合风险分");
    pub const REASONS: Col = col("reasons", "原因");
    /// The score output's columns in SPEC §3.6 order.
    pub const ALL: &[Col] = &[
        USCC,
        NAME,
        DISTRICT,
        TIER,
        CREDIT_CLASS,
        CREDIT_SOURCE,
        CREDIT_POINTS,
        CREDIT_REASONS,
        PE_AIR,
        PE_WATER,
        PE_TOTAL,
        ENV_TAX_CNY,
        EMISSION_BAND,
        ENV_RISK_LEVEL,
        ENV_RISK_SOURCE,
        ENV_RISK_DETAIL,
        MARKET_RATIO,
        MARKET_MAX_PER_YEAR,
        ECO_RATIO,
        ECO_MAX_PER_YEAR,
        ECO_MODE,
        POSITIVE_LIST,
        RISK_SCORE,
        REASONS,
    ];
}

/// Columns of the rejects file (SPEC §2.2).
pub mod rej {
    use super::col;
    pub const FILE: super::Col = col("file", "文件");
    pub const ROW: super::Col = col("row", "行号");
    pub const COLUMN: super::Col = col("column", "列");
    pub const VALUE: super::Col = col("value", "值");
    pub const REASON: super::Col = col("reason", "原因代码");
    pub const DETAIL: super::Col = col("detail", "说明");
    pub const ALL: &[super::Col] = &[FILE, ROW, COLUMN, VALUE, REASON, DETAIL];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_english_chinese_and_aliases() {
        assert_eq!(CreditClass::parse("A类"), Some(CreditClass::A));
        assert_eq!(CreditClass::parse(" b "), Some(CreditClass::B));
        assert_eq!(CreditClass::parse("信用风险较高"), Some(CreditClass::C));
        assert_eq!(CreditClass::parse("信用风险高"), Some(CreditClass::D));
        assert_eq!(CreditClass::parse("E"), None);
        assert_eq!(Tier::parse("专精特新“小巨人”企业"), Some(Tier::LittleGiant));
        assert_eq!(Tier::parse("小巨人"), Some(Tier::LittleGiant));
        assert_eq!(Tier::parse("LITTLE_GIANT"), Some(Tier::LittleGiant));
        assert_eq!(Tier::parse("创新型中小企业"), Some(Tier::Innovative));
        assert_eq!(PermitClass::parse("重点管理"), Some(PermitClass::Key));
        assert_eq!(Medium::parse("大气"), Some(Medium::Air));
        assert_eq!(Mode::parse("非现场"), Some(Mode::NonSite));
        assert_eq!(Sensitivity::parse("e2"), Some(Sensitivity::E2));
        assert_eq!(CreditClass::parse("Ａ"), Some(CreditClass::A));
        assert!(ent::USCC.matches("\u{feff}统一社会信用代码"));
        assert!(ent::USCC.matches("\u{feff} uscc "));
    }

    #[test]
    fn every_label_parses_back() {
        for lang in [Lang::En, Lang::Zh] {
            for v in Tier::ALL {
                assert_eq!(Tier::parse(v.label(lang)), Some(*v));
            }
            for v in CreditClass::ALL {
                assert_eq!(CreditClass::parse(v.label(lang)), Some(*v));
            }
            for v in EmissionBand::ALL {
                assert_eq!(EmissionBand::parse(v.label(lang)), Some(*v));
            }
            for v in EnvRiskLevel::ALL {
                assert_eq!(EnvRiskLevel::parse(v.label(lang)), Some(*v));
            }
            for v in PermitClass::ALL {
                assert_eq!(PermitClass::parse(v.label(lang)), Some(*v));
            }
            for b in [true, false] {
                assert_eq!(parse_bool(bool_label(b, lang)), Some(b));
            }
        }
    }

    #[test]
    fn columns_match_both_headers() {
        assert!(ent::USCC.matches(" USCC "));
        assert!(ent::USCC.matches("统一社会信用代码"));
        assert!(ent::TIER.matches("企业梯度"));
        assert!(!ent::TIER.matches("tiers"));
        assert!(parse_bool("是").unwrap());
        assert!(!parse_bool("No").unwrap());
        assert_eq!(parse_bool("maybe"), None);
    }
}
