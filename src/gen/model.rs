//! What the synthetic Beijing looks like: every target share and every dependency between columns,
//! as documented constants and per-row draws. `block.rs` calls these functions row by row and
//! collects the values into columns; nothing here allocates per row or touches Arrow.
//!
//! The numbers are choices made to resemble Beijing (DOMAIN.md §6.3 and §7), not statistics:
//! - districts: 海淀 and 朝阳 largest (26.5 % and 17.5 %), then 丰台, 经开区 and 昌平 (7 % each), down
//!   to 门头沟 and 延庆 (1 %); the registration code in the USCC is the district's own for 95 % of
//!   enterprises and another district's for 5 % (DOMAIN.md §5 caution 3);
//! - tiers: `little_giant` : (`little_giant` + `specialized`) = 1035 : 8754, Beijing's 2024 counts;
//!   `innovative` 1.5 × the 专精特新 count (Beijing's count was not found; the national ratio is about
//!   4 : 1, Beijing's upper tiers are denser); `none` 75 %, so that 10⁵ rows hold about 1 200 小巨人;
//! - credit: a hidden risk z drives the observable features; the class is a logistic-style score of
//!   the *features* plus noise, cut at `CLASS_CUTS` into A 40 %, B 45 %, C 12 %, D 3 %; the class is
//!   left empty for 3 % of rows so the credit model gets used;
//! - environment: permit classes by industry sector; emissions, HJ 941 inputs, filed levels,
//!   penalties and monitoring by permit class (see the tables below).

use super::draw::{Draw, Weighted};
use crate::schema::{CreditClass, EnvRiskLevel, Medium, PermitClass, Sensitivity, Tier};

/// District codes (GB/T 2260, plus 110302 for the BDA) and their weights in per mille.
pub const DISTRICT_WEIGHTS: [(u32, f64); 17] = [
    (110101, 30.0),  // 东城区
    (110102, 40.0),  // 西城区
    (110105, 175.0), // 朝阳区
    (110106, 70.0),  // 丰台区
    (110107, 25.0),  // 石景山区
    (110108, 265.0), // 海淀区
    (110109, 10.0),  // 门头沟区
    (110111, 30.0),  // 房山区
    (110112, 50.0),  // 通州区
    (110113, 55.0),  // 顺义区
    (110114, 70.0),  // 昌平区
    (110115, 55.0),  // 大兴区
    (110116, 20.0),  // 怀柔区
    (110117, 15.0),  // 平谷区
    (110118, 15.0),  // 密云区
    (110119, 10.0),  // 延庆区
    (110302, 70.0),  // 北京经济技术开发区
];

/// Share of enterprises whose USCC carries another district's registration code.
pub const REGISTERED_ELSEWHERE: f64 = 0.05;

/// Target tier shares: 1035 / 8754 of the 10 % 专精特新 share are 小巨人 (DOMAIN.md §6.3).
pub const TIER_SHARES: [(Tier, f64); 4] = [
    (Tier::Innovative, 0.15),
    (Tier::Specialized, 0.10 * (8754.0 - 1035.0) / 8754.0),
    (Tier::LittleGiant, 0.10 * 1035.0 / 8754.0),
    (Tier::None, 0.75),
];

/// Target credit class shares among rows that have a class.
pub const CLASS_SHARES: [(CreditClass, f64); 4] = [
    (CreditClass::A, 0.40),
    (CreditClass::B, 0.45),
    (CreditClass::C, 0.12),
    (CreditClass::D, 0.03),
];

/// Share of rows whose `credit_class` is left empty (to be predicted).
pub const CLASS_MISSING: f64 = 0.03;

/// Cut points of the credit risk score into A | B | C | D. Calibrated so the shares match
/// `CLASS_SHARES`: empirical 40 %, 85 % and 97 % quantiles of `credit_score` over 10⁶ generated
/// rows (seed 1), rounded to 0.01 (see the `class_cut_calibration` test, which recomputes them).
pub const CLASS_CUTS: [f64; 3] = [-0.76, 1.02, 2.70];

/// Economic sector of an industry, which drives permits and emissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sector {
    /// Software, IT and R&D services: almost no emissions.
    Service,
    /// Assembly-type manufacturing: some permits, small emissions.
    Light,
    /// Chemical-, pharmaceutical- and surface-treatment-type manufacturing.
    Process,
}

/// One industry (GB/T 4754-2017 class) with the word used in company names.
#[derive(Debug, Clone, Copy)]
pub struct Industry {
    pub code: &'static str,
    pub name_word: &'static str,
    pub sector: Sector,
    pub weight: f64,
}

/// Industries of the synthetic enterprises (专精特新 are mostly software and manufacturing).
pub const INDUSTRIES: [Industry; 18] = [
    ind("I6513", "软件技术", Sector::Service, 16.0), // 应用软件开发
    ind("I6531", "信息技术", Sector::Service, 8.0),  // 信息系统集成服务
    ind("I6550", "信息咨询", Sector::Service, 4.0),  // 信息技术咨询服务
    ind("I6560", "数据科技", Sector::Service, 4.0),  // 数据处理和存储支持服务
    ind("M7320", "科技", Sector::Service, 8.0),      // 工程和技术研究和试验发展
    ind("C3973", "集成电路", Sector::Process, 3.0),  // 集成电路制造
    ind("C3981", "电子", Sector::Light, 6.0),        // 电阻电容电感元件制造
    ind("C3581", "医疗器械", Sector::Light, 6.0),    // 医疗诊断、监护及治疗设备制造
    ind("C4011", "自动化设备", Sector::Light, 5.0),  // 工业自动控制系统装置制造
    ind("C3499", "智能装备", Sector::Light, 5.0),    // 其他未列明通用设备制造业
    ind("C3670", "汽车零部件", Sector::Light, 4.0),  // 汽车零部件及配件制造
    ind("C3919", "计算机", Sector::Light, 3.0),      // 其他计算机制造
    ind("C3311", "钢结构工程", Sector::Light, 2.0),  // 金属结构制造
    ind("C2720", "药业", Sector::Process, 4.0),      // 化学药品制剂制造
    ind("C2761", "生物科技", Sector::Process, 4.0),  // 生物药品制造
    ind("C2641", "涂料", Sector::Process, 1.0),      // 涂料制造
    ind("C3360", "金属表面处理", Sector::Process, 1.0), // 金属表面处理及热处理加工
    ind("C2614", "化工", Sector::Process, 1.0),      // 有机化学原料制造
];

const fn ind(code: &'static str, name_word: &'static str, sector: Sector, weight: f64) -> Industry {
    Industry {
        code,
        name_word,
        sector,
        weight,
    }
}

/// Characters of the trade names (字号): two are drawn per enterprise.
pub const TRADE_NAME_CHARS: [&str; 48] = [
    "中", "华", "科", "创", "新", "远", "航", "博", "睿", "智", "达", "信", "诚", "安", "泰", "恒",
    "瑞", "鑫", "海", "天", "宇", "星", "辰", "光", "明", "盛", "隆", "兴", "源", "同", "方", "联",
    "正", "德", "通", "益", "汇", "康", "嘉", "润", "和", "云", "峰", "凯", "腾", "飞", "昊", "铭",
];

/// Permit class weights per sector, in the order key, simplified, registration, none, unknown.
const PERMIT_WEIGHTS: [[f64; 5]; 3] = [
    [0.00, 0.01, 0.15, 0.82, 0.02], // Service
    [0.05, 0.30, 0.50, 0.13, 0.02], // Light
    [0.35, 0.45, 0.15, 0.03, 0.02], // Process
];

/// Permit classes in the order of the weight tables; the last slot is "unknown" (null).
pub const PERMITS: [Option<PermitClass>; 5] = [
    Some(PermitClass::Key),
    Some(PermitClass::Simplified),
    Some(PermitClass::Registration),
    Some(PermitClass::None),
    None,
];

/// Per permit slot (as in `PERMITS`): probability that the enterprise has emission rows.
const HAS_EMISSIONS: [f64; 5] = [0.95, 0.70, 0.25, 0.03, 0.15];
/// Per permit slot: median pollution equivalents of one emission row (log-normal, σ = `PE_SIGMA`).
const PE_MEDIAN: [f64; 5] = [300.0, 40.0, 6.0, 1.5, 20.0];
const PE_SIGMA: f64 = 1.6;
/// Per permit slot: probability of HJ 941 inputs (q, m, E) for at least one medium.
const HAS_HJ941: [f64; 5] = [0.80, 0.40, 0.08, 0.01, 0.10];
/// Per permit slot: probability of a filed risk level when there are no HJ 941 inputs.
const FILED_WITHOUT_INPUTS: [f64; 5] = [0.60, 0.30, 0.05, 0.0, 0.05];
/// Probability of a filed risk level besides HJ 941 inputs (it may then disagree with them).
const FILED_WITH_INPUTS: f64 = 0.15;
/// Per permit slot: probability of at least one environmental penalty in 24 months (× e^{0.4z}).
const PENALTY_ANY: [f64; 5] = [0.08, 0.05, 0.02, 0.005, 0.03];
/// Per permit slot: probability of an environmental incident in 24 months.
const INCIDENT_ANY: [f64; 5] = [0.01, 0.004, 0.001, 0.0002, 0.002];
/// Per permit slot: probability of a serious environmental violation in 36 months (× e^{0.4z}).
const SERIOUS_VIOLATION: [f64; 5] = [0.02, 0.01, 0.004, 0.001, 0.005];
/// Per permit slot: probability that automatic monitoring is connected.
const MONITORING: [f64; 5] = [0.85, 0.30, 0.05, 0.01, 0.10];
/// Share of nulls in each of the penalty, incident, violation and monitoring columns.
const ENV_NULL: f64 = 0.02;
/// Share of enterprises without emission rows whose `pe_air`/`pe_water` are null, not 0.
const PE_NULL_WITHOUT_ROWS: f64 = 0.03;

/// A pollutant the generator emits: code of reference/pollutants.csv, its medium, its
/// 污染当量值 (kg per equivalent, from the same file) and its weight among that medium's rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pollutant {
    pub code: &'static str,
    pub medium: Medium,
    pub equivalent_kg: f64,
    pub weight: f64,
}

const fn pol(code: &'static str, medium: Medium, equivalent_kg: f64, weight: f64) -> Pollutant {
    Pollutant {
        code,
        medium,
        equivalent_kg,
        weight,
    }
}

/// Air pollutants (大气污染物) drawn for air outlets.
pub const AIR_POLLUTANTS: [Pollutant; 15] = [
    pol("so2", Medium::Air, 0.95, 20.0),
    pol("nox", Medium::Air, 0.95, 25.0),
    pol("dust", Medium::Air, 4.0, 20.0),
    pol("soot", Medium::Air, 2.18, 8.0),
    pol("co", Medium::Air, 16.7, 3.0),
    pol("nh3", Medium::Air, 9.09, 3.0),
    pol("hcl", Medium::Air, 10.75, 2.0),
    pol("sulfuric_acid_mist", Medium::Air, 0.6, 2.0),
    pol("toluene_air", Medium::Air, 0.18, 4.0),
    pol("xylene_air", Medium::Air, 0.27, 4.0),
    pol("benzene_air", Medium::Air, 0.05, 1.0),
    pol("formaldehyde_air", Medium::Air, 0.09, 2.0),
    pol("methanol", Medium::Air, 0.67, 2.0),
    pol("h2s", Medium::Air, 0.29, 1.0),
    pol("fluoride_air", Medium::Air, 0.87, 1.0),
];

/// Water pollutants (水污染物) drawn for water outlets.
pub const WATER_POLLUTANTS: [Pollutant; 15] = [
    pol("cod", Medium::Water, 1.0, 25.0),
    pol("nh3n", Medium::Water, 0.8, 20.0),
    pol("ss", Medium::Water, 4.0, 12.0),
    pol("tp", Medium::Water, 0.25, 8.0),
    pol("bod5", Medium::Water, 0.5, 6.0),
    pol("petroleum", Medium::Water, 0.1, 5.0),
    pol("animal_vegetable_oil", Medium::Water, 0.16, 4.0),
    pol("las", Medium::Water, 0.2, 3.0),
    pol("cu", Medium::Water, 0.1, 2.0),
    pol("zn", Medium::Water, 0.2, 2.0),
    pol("ni", Medium::Water, 0.025, 1.0),
    pol("cr6", Medium::Water, 0.02, 1.0),
    pol("pb", Medium::Water, 0.025, 1.0),
    pol("toc", Medium::Water, 0.49, 1.0),
    pol("volatile_phenol", Medium::Water, 0.08, 1.0),
];

/// 纳税信用等级 values, in the order of `EntRow::tax_grade`.
pub const TAX_GRADES: [&str; 5] = ["A", "B", "M", "C", "D"];

/// Weighted tables built once per generator from the constants above.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub district: Weighted,
    pub tier: Weighted,
    pub industry: Weighted,
    pub permit: [Weighted; 3],
    pub air: Weighted,
    pub water: Weighted,
    pub sensitivity: Weighted,
    pub filed_level: Weighted,
    /// ln(1 + years) for years 0..=MAX_YEARS.
    pub ln_1p_years: [f64; MAX_YEARS as usize + 1],
}

impl Model {
    pub(crate) fn new() -> Model {
        let w = |xs: &[f64]| Weighted::new(xs);
        Model {
            district: w(&DISTRICT_WEIGHTS.map(|(_, x)| x)),
            tier: w(&TIER_SHARES.map(|(_, x)| x)),
            industry: w(&INDUSTRIES.map(|i| i.weight)),
            permit: PERMIT_WEIGHTS.map(|ws| Weighted::new(&ws)),
            air: w(&AIR_POLLUTANTS.map(|p| p.weight)),
            water: w(&WATER_POLLUTANTS.map(|p| p.weight)),
            // Beijing is dense: more E1/E2 than a national mix.
            sensitivity: w(&[0.20, 0.40, 0.40]),
            filed_level: w(&[0.80, 0.15, 0.05]),
            ln_1p_years: std::array::from_fn(|y| (y as f64).ln_1p()),
        }
    }
}

/// Where an enterprise is: index into `DISTRICT_WEIGHTS` of its district and of its registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geo {
    pub district: usize,
    pub registered: usize,
}

impl Geo {
    /// Geography from one 64-bit word of the district stream: the high 32 bits choose the
    /// district, bits 16..32 whether it is registered elsewhere, bits 0..16 where.
    pub(crate) fn from_word(model: &Model, w: u64) -> Geo {
        let unit32 = |x: u64| x as f64 / 4_294_967_296.0;
        let unit16 = |x: u64| x as f64 / 65_536.0;
        let district = model.district.index(unit32(w >> 32));
        let elsewhere = unit16((w >> 16) & 0xFFFF) < REGISTERED_ELSEWHERE;
        let registered = if elsewhere {
            model.district.index(unit16(w & 0xFFFF))
        } else {
            district
        };
        Geo {
            district,
            registered,
        }
    }
}

/// HJ 941 inputs of one medium.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct MediumRisk {
    pub q: Option<f64>,
    pub m: Option<f64>,
    pub e: Option<Sensitivity>,
}

/// One enterprise row, every column typed, plus the hidden variables later draws depend on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EntRow {
    pub industry: usize,
    pub tier: Tier,
    pub credit_class: Option<CreditClass>,
    pub years_in_operation: i32,
    pub registered_capital_wan: f64,
    pub employees: Option<i32>,
    pub abnormal_list_3y: i32,
    pub admin_penalties_3y: i32,
    pub serious_illegal: bool,
    pub annual_report_late_3y: i32,
    /// Index into `TAX_GRADES`, `None` when not reported.
    pub tax_grade: Option<usize>,
    pub judgment_debtor: bool,
    pub complaints_12m: i32,
    /// Index into `PERMITS`.
    pub permit: usize,
    pub env_risk_level: Option<EnvRiskLevel>,
    pub air: MediumRisk,
    pub water: MediumRisk,
    pub env_penalties_24m: Option<i32>,
    pub env_incidents_24m: Option<i32>,
    pub env_serious_violation_36m: Option<bool>,
    pub online_monitoring: Option<bool>,
    /// Hidden: e^{0.3·size}, the enterprise's scale factor on its emissions.
    pub emission_scale: f64,
    /// The credit class the features imply, before 3 % are blanked (history uses it).
    pub true_class: CreditClass,
}

/// Oldest enterprise, in years of operation.
const MAX_YEARS: i32 = 45;
/// e³ and e⁵: median employees and registered capital (万元) of a size-0 enterprise.
const E_3: f64 = 20.085_536_923_187_668;
const E_5: f64 = 148.413_159_102_576_6;

fn tier_shift(tier: Tier) -> (f64, f64, f64) {
    // (risk shift, size shift, median years): better tiers are safer, bigger and older.
    match tier {
        Tier::None => (0.0, 0.0, 7.0),
        Tier::Innovative => (0.15, 0.3, 6.0),
        Tier::Specialized => (0.30, 0.8, 10.0),
        Tier::LittleGiant => (0.45, 1.4, 14.0),
    }
}

fn binomial3(d: &mut Draw, p: f64) -> i32 {
    (0..3).filter(|_| d.chance(p)).count() as i32
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// The credit risk score the class is cut from: a logistic-style linear score of the observable
/// features (higher = riskier) plus N(0, 0.7²) noise for what the features do not show.
/// `log_years` is ln(1 + years_in_operation).
pub(crate) fn credit_score(r: &EntRow, log_years: f64, noise: f64) -> f64 {
    const TAX_WEIGHT: [f64; 5] = [-0.6, 0.0, 0.3, 1.0, 2.0]; // A B M C D
    let tax = r.tax_grade.map_or(0.0, |g| TAX_WEIGHT[g]);
    0.9 * f64::from(r.abnormal_list_3y.min(5))
        + 0.55 * f64::from(r.admin_penalties_3y.min(5))
        + 2.2 * f64::from(u8::from(r.serious_illegal))
        + 0.5 * f64::from(r.annual_report_late_3y)
        + 1.3 * f64::from(u8::from(r.judgment_debtor))
        + 0.12 * f64::from(r.complaints_12m.min(10))
        + tax
        - 0.35 * log_years
        + 0.7 * noise
}

/// The class of a credit score under `CLASS_CUTS`.
pub(crate) fn class_of(score: f64) -> CreditClass {
    match score {
        s if s < CLASS_CUTS[0] => CreditClass::A,
        s if s < CLASS_CUTS[1] => CreditClass::B,
        s if s < CLASS_CUTS[2] => CreditClass::C,
        _ => CreditClass::D,
    }
}

/// Draws one enterprise (everything but its name, code and emissions). Also returns the raw
/// credit score, for calibration.
pub(crate) fn enterprise(model: &Model, d: &mut Draw) -> (EntRow, f64) {
    let tier = TIER_SHARES[d.pick(&model.tier)].0;
    let industry = d.pick(&model.industry);
    let (risk_shift, size_shift, median_years) = tier_shift(tier);

    let years = (d.lognormal(median_years, 0.75).floor() as i32).clamp(0, MAX_YEARS);
    let log_years = model.ln_1p_years[years as usize];
    let z = d.normal() - risk_shift - 0.3 * (log_years - 2.0);
    let size = 0.9 * d.normal() + size_shift + 0.25 * log_years;
    // Powers of e^{z/10} and e^{size/10} stand for the several e^{k·z}, e^{k·size} below: two
    // exponentials per row instead of ten.
    let ez = (0.1 * z).exp();
    let (ez2, es) = (ez * ez, (0.1 * size).exp());
    let ez4 = ez2 * ez2;
    let (ez5, ez8) = (ez4 * ez, ez4 * ez4);
    let ez10 = ez8 * ez2;
    let (es2, es3) = (es * es, es * es * es);
    let es10 = (es2 * es3) * (es2 * es3);
    let employees = (E_3 * es10).round().max(1.0) as i32;
    let capital = round_to(E_5 * es10 * (0.7 * d.normal()).exp(), 2);

    let abnormal = d.poisson(0.06 * ez10) as i32;
    let penalties = d.poisson(0.08 * ez8 * es2) as i32;
    let serious = d.chance(0.003 * ez10 * ez4);
    let late = binomial3(d, (0.04 * ez8).min(0.9));
    let judgment = d.chance(0.012 * ez10 * ez);
    let complaints = d.poisson((0.25 * ez5 * es3).min(20.0)) as i32;
    let tax = if years < 1 && d.chance(0.7) {
        2 // M: too new to be graded
    } else {
        let t = -0.9 * z + 0.7 * d.normal();
        match t {
            t if t > 0.6 => 0,
            t if t > -0.7 => 1,
            t if t > -1.8 => 3,
            _ => 4,
        }
    };

    let sector = INDUSTRIES[industry].sector as usize;
    let permit = d.pick(&model.permit[sector]);

    let mut row = EntRow {
        industry,
        tier,
        credit_class: None,
        years_in_operation: years,
        registered_capital_wan: capital,
        employees: Some(employees),
        abnormal_list_3y: abnormal,
        admin_penalties_3y: penalties,
        serious_illegal: serious,
        annual_report_late_3y: late,
        tax_grade: Some(tax),
        judgment_debtor: judgment,
        complaints_12m: complaints,
        permit,
        env_risk_level: None,
        air: MediumRisk::default(),
        water: MediumRisk::default(),
        env_penalties_24m: None,
        env_incidents_24m: None,
        env_serious_violation_36m: None,
        online_monitoring: None,
        emission_scale: es3,
        true_class: CreditClass::B,
    };
    let score = credit_score(&row, log_years, d.normal());
    row.true_class = class_of(score);
    row.credit_class = (!d.chance(CLASS_MISSING)).then_some(row.true_class);
    // Features go missing at random after the class is set, as in a real register.
    if d.chance(0.03) {
        row.employees = None;
    }
    if d.chance(0.02) {
        row.tax_grade = None;
    }

    environment(model, d, &mut row, ez4);
    (row, score)
}

/// HJ 941 inputs, filed level, penalties, incidents and monitoring, by permit class; `risk` is
/// e^{0.4·z}, the hidden credit risk's pull on penalties and violations.
fn environment(model: &Model, d: &mut Draw, r: &mut EntRow, risk: f64) {
    let p = r.permit;
    if d.chance(HAS_HJ941[p]) {
        let air = d.chance(0.85);
        let water = !air || d.chance(0.45);
        if air {
            r.air = medium_risk(model, d);
        }
        if water {
            r.water = medium_risk(model, d);
        }
        if d.chance(FILED_WITH_INPUTS) {
            r.env_risk_level = Some(EnvRiskLevel::ALL[d.pick(&model.filed_level)]);
        }
    } else if d.chance(FILED_WITHOUT_INPUTS[p]) {
        r.env_risk_level = Some(EnvRiskLevel::ALL[d.pick(&model.filed_level)]);
    }
    r.env_penalties_24m = (!d.chance(ENV_NULL)).then(|| {
        if d.chance(PENALTY_ANY[p] * risk) {
            1 + d.poisson(0.4) as i32
        } else {
            0
        }
    });
    r.env_incidents_24m = (!d.chance(ENV_NULL)).then(|| i32::from(d.chance(INCIDENT_ANY[p])));
    r.env_serious_violation_36m =
        (!d.chance(ENV_NULL)).then(|| d.chance(SERIOUS_VIOLATION[p] * risk));
    r.online_monitoring = (!d.chance(ENV_NULL)).then(|| d.chance(MONITORING[p]));
}

/// HJ 941 inputs of one medium: q log-normal around 1 (about half Q0), M and E present whenever
/// q ≥ 1 (so the level is computable) and for half of the q < 1 cases.
fn medium_risk(model: &Model, d: &mut Draw) -> MediumRisk {
    let q = round_to(d.lognormal(1.0, 2.2), 3);
    let full = q >= 1.0 || d.chance(0.5);
    if !full {
        return MediumRisk {
            q: Some(q),
            m: None,
            e: None,
        };
    }
    let m = (32.0 + 14.0 * d.normal()).round().clamp(0.0, 100.0);
    let e = Sensitivity::ALL[d.pick(&model.sensitivity)];
    MediumRisk {
        q: Some(q),
        m: Some(m),
        e: Some(e),
    }
}

/// One emission row: outlet number within its medium, pollutant and amount.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct EmiRow {
    pub medium: Medium,
    /// 1-based outlet number; written `DA001` (air) or `DW001` (water) as in permits.
    pub outlet: u16,
    pub pollutant: &'static Pollutant,
    pub amount_kg: f64,
}

/// Draws an enterprise's emission rows (most have none): 1–3 outlets × 1–4 pollutants, each with
/// log-normal pollution equivalents; `emit` receives each row. Returns (pe_air, pe_water) as the
/// sums of `amount_kg / equivalent_kg` over the rows, or `None` for the few without rows whose
/// equivalents the bureau does not know.
pub(crate) fn emissions(
    model: &Model,
    d: &mut Draw,
    r: &EntRow,
    mut emit: impl FnMut(EmiRow),
) -> (Option<f64>, Option<f64>) {
    let p = r.permit;
    if !d.chance(HAS_EMISSIONS[p]) {
        if d.chance(PE_NULL_WITHOUT_ROWS) {
            return (None, None);
        }
        return (Some(0.0), Some(0.0));
    }
    let sector = INDUSTRIES[r.industry].sector;
    let water_share = match sector {
        Sector::Service => 0.3,
        Sector::Light => 0.2,
        Sector::Process => 0.4,
    };
    let outlets = if p == 0 {
        1 + d.below(3) as usize
    } else {
        [1, 1, 1, 1, 1, 1, 2, 2, 2, 3][d.below(10) as usize]
    };
    let scale = r.emission_scale;
    let (mut pe_air, mut pe_water) = (0.0, 0.0);
    let (mut n_air, mut n_water) = (0u16, 0u16);
    for _ in 0..outlets {
        let water = d.chance(water_share);
        let (table, list, n) = if water {
            n_water += 1;
            (&model.water, &WATER_POLLUTANTS, n_water)
        } else {
            n_air += 1;
            (&model.air, &AIR_POLLUTANTS, n_air)
        };
        let k = 1 + d.below(4) as usize;
        let mut chosen = [usize::MAX; 4];
        for slot in 0..k {
            // Distinct pollutants per outlet; a repeat draw is simply dropped.
            let i = d.pick(table);
            if chosen[..slot].contains(&i) {
                continue;
            }
            chosen[slot] = i;
            let pollutant = &list[i];
            let amount = round_to(
                d.lognormal(PE_MEDIAN[p], PE_SIGMA) * scale * pollutant.equivalent_kg,
                3,
            );
            let pe = amount / pollutant.equivalent_kg;
            if water {
                pe_water += pe;
            } else {
                pe_air += pe;
            }
            emit(EmiRow {
                medium: pollutant.medium,
                outlet: n,
                pollutant,
                amount_kg: amount,
            });
        }
    }
    (Some(pe_air), Some(pe_water))
}
