//! Rendering `ReportData` as one self-contained HTML page in Chinese or English: inline CSS with a
//! print stylesheet, inline SVG charts (`svg`), no script, no font file, no link to anything
//! outside the page, so that it opens from a USB stick on an offline office PC and prints in black
//! and white. The page answers, in this order: how many on-site inspections this month, where and
//! of whom (expected against drawn); who joined or left the 正面清单 and why; what changed since
//! last period; then the enterprises by class, tier and district, the ratio distributions, the
//! policy in force and the input hashes. This file only formats: every number is a field or
//! method of `ReportData`. Every text from a file (names, paths) is escaped.

use std::fmt::Write;

use super::svg::{self, Bar, Chart};
use super::{Departments, DistrictRow, Histogram, ListRow, ListSummary, ReportData, SampleSummary};
use crate::schema::{CreditClass, EmissionBand, EnvRiskLevel, Lang, PermitClass, Tier};
use crate::whitelist::{Status, reasons};

/// Most drawn enterprises listed by name; the sample file has them all.
pub const MAX_SAMPLE_ROWS: usize = 500;
/// Most enterprises listed by name per positive-list table (new, removed, waitlisted).
pub const MAX_LIST_ROWS: usize = 500;

/// Tables of at most this many rows are kept on one printed page.
const KEEP_TABLE_ROWS: usize = 25;

pub use super::markup::escape;

/// Picks the English or the Chinese text.
fn tr(lang: Lang, en: &'static str, zh: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

/// A number with `decimals` decimals.
fn num(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}")
}

/// A ratio as a percentage with at most two decimals: 0.03 → 3%, 0.024 → 2.4%.
fn pct(v: f64) -> String {
    let s = format!("{:.2}", v * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// A share as a percentage with one decimal: 0.3895 → 39.0%.
fn share(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// A plain number without float noise: 0.8 → 0.8, 2000 → 2000.
fn plain(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn district_name(code: u32) -> String {
    crate::district::name(code).map_or_else(|| code.to_string(), str::to_string)
}

fn class_label(c: CreditClass, lang: Lang) -> &'static str {
    match lang {
        Lang::En => c.en(),
        Lang::Zh => c.zh(),
    }
}

fn tier_label(t: Tier, lang: Lang) -> &'static str {
    match (t, lang) {
        (Tier::Innovative, Lang::En) => "innovative SME",
        (Tier::Specialized, Lang::En) => "specialized SME",
        (Tier::LittleGiant, Lang::En) => "little giant",
        (Tier::None, Lang::En) => "not 专精特新",
        (t, Lang::Zh) => t.zh(),
    }
}

fn status_label(s: Status, lang: Lang) -> &'static str {
    s.label(lang)
}

fn dept_label(d: Departments, lang: Lang) -> &'static str {
    d.label(lang)
}

/// The page's stylesheet: screen and print (A4, black text, tables and charts kept whole).
const CSS: &str = r#"
:root { color-scheme: light; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "SimSun", "Songti SC", sans-serif;
  color: #000; background: #fff; max-width: 980px; margin: 0 auto; padding: 16px 24px 40px; line-height: 1.5; font-size: 14px; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #000; }
h3 { font-size: 16px; margin: 18px 0 6px; }
p.sub, p.note { color: #333; margin: 4px 0; }
p.note { font-size: 13px; }
p.warn { border-left: 4px solid #000; padding: 4px 8px; background: #f2f2f2; }
.glance { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
.glance div { border: 1px solid #000; padding: 8px 12px; min-width: 150px; flex: 1 1 150px; }
.glance b { display: block; font-size: 22px; }
.glance span { font-size: 12px; color: #333; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13px; }
th, td { border: 1px solid #888; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #e8e8e8; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; border-top: 2px solid #000; }
.code { font-family: monospace; font-size: 12px; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 8px 0 16px; font-family: inherit; }
footer { margin-top: 32px; font-size: 12px; color: #333; border-top: 1px solid #888; padding-top: 6px; }
@media print {
  @page { size: A4; margin: 15mm 12mm; }
  body { max-width: none; padding: 0; font-size: 11pt; }
  table { font-size: 9pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  table.keep, svg.chart, .glance { break-inside: avoid; page-break-inside: avoid; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  th { background: #e8e8e8 !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  p.warn { background: none; }
}
"#;

/// Builds the page.
struct Page<'a> {
    d: &'a ReportData,
    lang: Lang,
    out: String,
}

impl Page<'_> {
    fn t(&self, en: &'static str, zh: &'static str) -> &'static str {
        tr(self.lang, en, zh)
    }

    fn push(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn h2(&mut self, text: &str) {
        let _ = writeln!(self.out, "<h2>{}</h2>", escape(text));
    }

    fn h3(&mut self, text: &str) {
        let _ = writeln!(self.out, "<h3>{}</h3>", escape(text));
    }

    fn note(&mut self, text: &str) {
        let _ = writeln!(self.out, "<p class=\"note\">{}</p>", escape(text));
    }

    fn warn(&mut self, text: &str) {
        let _ = writeln!(self.out, "<p class=\"warn\">{}</p>", escape(text));
    }

    /// A table: header cells (a leading `#` marks a numeric column) and rows of cells (already
    /// escaped HTML); `total` marks the last row as a total.
    fn table(&mut self, head: &[&str], rows: &[Vec<String>], total: bool) {
        let numeric: Vec<bool> = head.iter().map(|h| h.starts_with('#')).collect();
        // Short tables stay on one printed page; long ones break between rows (the header repeats).
        if rows.len() <= KEEP_TABLE_ROWS {
            self.push("<table class=\"keep\">\n<thead><tr>");
        } else {
            self.push("<table>\n<thead><tr>");
        }
        for h in head {
            let (cls, h) = match h.strip_prefix('#') {
                Some(h) => (" class=\"n\"", h),
                None => ("", *h),
            };
            let _ = write!(self.out, "<th{cls}>{}</th>", escape(h));
        }
        self.push("</tr></thead>\n<tbody>\n");
        for (i, r) in rows.iter().enumerate() {
            if total && i + 1 == rows.len() {
                self.push("<tr class=\"total\">");
            } else {
                self.push("<tr>");
            }
            for (j, c) in r.iter().enumerate() {
                let cls = if numeric.get(j).copied().unwrap_or(false) {
                    " class=\"n\""
                } else if c.len() == 18 && c.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    " class=\"code\""
                } else {
                    ""
                };
                let _ = write!(self.out, "<td{cls}>{c}</td>");
            }
            self.push("</tr>\n");
        }
        self.push("</tbody>\n</table>\n");
    }

    fn chart_h(&mut self, c: &Chart<'_>) {
        let s = svg::hbar(c);
        self.push(&s);
        self.push("\n");
    }

    fn chart_v(&mut self, c: &Chart<'_>) {
        let s = svg::vbar(c);
        self.push(&s);
        self.push("\n");
    }
}

/// Renders the report as one HTML page in `lang`.
pub fn render(d: &ReportData, lang: Lang) -> String {
    let mut p = Page {
        d,
        lang,
        out: String::with_capacity(64 * 1024),
    };
    head(&mut p);
    glance(&mut p);
    inspections(&mut p);
    findings(&mut p);
    positive_list(&mut p);
    changes(&mut p);
    enterprises(&mut p);
    ratios(&mut p);
    policy(&mut p);
    inputs(&mut p);
    let _ = write!(
        p.out,
        "<footer>{} spotcheck {}</footer>\n</body>\n</html>\n",
        escape(p.t("Made by", "生成程序")),
        env!("CARGO_PKG_VERSION")
    );
    p.out
}

fn title(d: &ReportData, lang: Lang) -> String {
    let base = tr(
        lang,
        "Differentiated supervision: monthly report",
        "差异化监管月度报告",
    );
    match (&d.month, lang) {
        (Some(m), Lang::En) => format!("{base}, {m}"),
        (Some(m), Lang::Zh) => format!("{m} {base}"),
        (None, _) => base.to_string(),
    }
}

fn head(p: &mut Page<'_>) {
    let t = title(p.d, p.lang);
    let html_lang = p.t("en", "zh-CN");
    let _ = write!(
        p.out,
        "<!DOCTYPE html>\n<html lang=\"{html_lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{t}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{t}</h1>\n",
        t = escape(&t),
    );
    let sub = p.t(
        "Market supervision (市场监管) and ecology (生态环境) on-site inspections, the positive list (正面清单) and the scores behind them.",
        "市场监管与生态环境现场检查、生态环境监督执法正面清单及其评分依据。",
    );
    p.note(sub);
}

fn glance(p: &mut Page<'_>) {
    let d = p.d;
    let mut cards: Vec<(String, String)> = vec![(
        d.enterprises.to_string(),
        p.t("enterprises scored", "评分企业（家）").to_string(),
    )];
    cards.push((
        num(d.expected.visits, 1),
        p.t(
            "on-site visits expected this month",
            "本月预计现场检查（户）",
        )
        .to_string(),
    ));
    if let Some(s) = &d.sample {
        cards.push((
            s.drawn.visits().to_string(),
            p.t("on-site visits drawn this month", "本月抽取现场检查（户）")
                .to_string(),
        ));
    }
    match &d.list {
        Some(l) => {
            cards.push((
                l.listed.to_string(),
                p.t("on the positive list", "正面清单在列（家）")
                    .to_string(),
            ));
            cards.push((
                format!("+{} / −{}", l.count(Status::New), l.count(Status::Removed)),
                p.t("joined / left the list", "本期新增 / 移出（家）")
                    .to_string(),
            ));
        }
        None => cards.push((
            d.positive_eligible.to_string(),
            p.t("eligible for the positive list", "符合正面清单条件（家）")
                .to_string(),
        )),
    }
    if let Some(c) = &d.changes {
        cards.push((
            c.class_changed.to_string(),
            p.t("changed credit class", "信用风险分类变化（家）")
                .to_string(),
        ));
    }
    p.push("<div class=\"glance\">");
    for (v, l) in cards {
        let _ = write!(
            p.out,
            "<div><b>{}</b><span>{}</span></div>",
            escape(&v),
            escape(&l)
        );
    }
    p.push("</div>\n");
}

fn inspections(p: &mut Page<'_>) {
    let d = p.d;
    let lang = p.lang;
    p.h2(p.t("1. On-site inspections this month", "一、本月现场检查"));
    let e = &d.expected;
    let text = match lang {
        Lang::En => format!(
            "Expected this month (Σ of the monthly inclusion probability π = min(1, annual ratio / 12) over the scored enterprises): market supervision {}, ecology {}, joint {}; visits in all {}. Enterprises with a market ratio above 0: {}; with an ecology on-site ratio above 0: {}. The inspection history (yearly maxima, {}-month cool-down) is not counted here, so the draw may be smaller.",
            num(e.market, 1),
            num(e.ecology, 1),
            num(e.joint, 1),
            num(e.visits, 1),
            d.market_population,
            d.ecology_population,
            d.policy.sampling.cooldown_months,
        ),
        Lang::Zh => format!(
            "本月预计（各评分企业月度入样概率 π = min(1, 年度抽查比例 ÷ 12) 之和）：市场监管 {} 户次，生态环境 {} 户次，其中联合检查 {} 户；合计检查 {} 户。市场监管抽查比例大于 0 的企业 {} 家，生态环境现场检查比例大于 0 的企业 {} 家。此处未扣除检查历史（年度次数上限、{} 个月冷却期），实际抽取数可能更少。",
            num(e.market, 1),
            num(e.ecology, 1),
            num(e.joint, 1),
            num(e.visits, 1),
            d.market_population,
            d.ecology_population,
            d.policy.sampling.cooldown_months,
        ),
    };
    p.note(&text);
    match &d.sample {
        Some(s) => {
            let text = match lang {
                Lang::En => format!(
                    "Drawn (the sample file): {} visits in all; market supervision {}, ecology {}; joint (one visit, both departments): {}.",
                    s.drawn.visits(),
                    s.drawn.market(),
                    s.drawn.ecology(),
                    s.drawn.joint(),
                ),
                Lang::Zh => format!(
                    "实际抽取（抽查样本）：共 {} 户，市场监管 {} 户，生态环境 {} 户，其中联合检查 {} 户（进一次门，查多项事）。",
                    s.drawn.visits(),
                    s.drawn.market(),
                    s.drawn.ecology(),
                    s.drawn.joint(),
                ),
            };
            p.note(&text);
            if let Some(c) = &s.coordination {
                coordination(p, c);
            }
            if s.not_in_scored > 0 {
                let w = match lang {
                    Lang::En => format!(
                        "Drawn enterprises not in the scored file: {}. Was the sample drawn from another scoring?",
                        s.not_in_scored
                    ),
                    Lang::Zh => format!(
                        "有 {} 家抽中企业不在本期评分结果中：样本是否抽自其他评分结果？",
                        s.not_in_scored
                    ),
                };
                p.warn(&w);
            }
        }
        None => p.note(p.t(
            "No drawn sample was given (--sample): only the expected numbers are shown.",
            "未提供抽查样本（--sample），仅列出预计数。",
        )),
    }

    p.h3(p.t("Where: by district", "检查分布：按区"));
    district_inspection_table(p);
    district_inspection_charts(p);

    if let Some(s) = &d.sample {
        p.h3(p.t("Of whom: the drawn enterprises", "检查对象：抽中企业"));
        sample_profile(p, s);
        sample_list(p, s);
    }
}

/// What a coordinated draw (SPEC §4.7) bought, as `spotcheck sample` printed it.
fn coordination(p: &mut Page<'_>, c: &crate::sample::Coordination) {
    let text = match p.lang {
        Lang::En => format!(
            "Coordinated draw (prn-poisson-sha256/1: one random number per enterprise shared by both departments, so that an enterprise both draw gets one visit): {} joint visits (expected {}; {} if the departments had drawn independently), {} visits in all (expected {}, instead of {} drawn independently). Figures of the draw's manifest, with its capacity and history.",
            c.joint_drawn,
            num(c.joint_expected, 1),
            num(c.independent_joint_expected, 2),
            c.visits_drawn,
            num(c.visits_expected, 1),
            num(c.independent_visits_expected, 1),
        ),
        Lang::Zh => format!(
            "协同抽取（prn-poisson-sha256/1：两部门共用每家企业同一个随机数，两部门都抽中的企业只检查一次，进一次门、查多项事）：联合检查 {} 户（预计 {} 户；两部门各自独立抽取时预计 {} 户），合计检查 {} 户（预计 {} 户，独立抽取时预计 {} 户）。数字取自抽取记录（manifest），已计入检查能力和检查历史。",
            c.joint_drawn,
            num(c.joint_expected, 1),
            num(c.independent_joint_expected, 2),
            c.visits_drawn,
            num(c.visits_expected, 1),
            num(c.independent_visits_expected, 1),
        ),
    };
    p.note(&text);
}

/// "What the inspections found" (`report --results`, SPEC §9.3): per department the estimated
/// violation rate of the whole population with its 95 % interval, per credit class the hit rate
/// and the lift of risk targeting (table and chart), and the units the estimate does not cover.
fn findings(p: &mut Page<'_>) {
    use crate::results::estimates::Domain;
    let Some(rows) = &p.d.results else {
        return;
    };
    let lang = p.lang;
    p.h2(p.t("1b. What the inspections found", "一（续）、检查发现"));
    p.note(p.t(
        "From the results of the drawn enterprises (spotcheck results). Each inspected enterprise stands for 1/π enterprises (π its inclusion probability), so the estimated violation rate is of all enterprises that could be drawn, not of the risk-targeted sample; the 95 % interval is Korn–Graubard's (SPEC §9.3). Pending and out-of-scope visits are not counted.",
        "依据抽中企业的检查结果（spotcheck results）估计。每户被检查企业代表 1/π 户企业（π 为入样概率），因此违法违规率估计针对全部可抽企业，而非按风险抽取的样本；95% 置信区间采用 Korn–Graubard 方法（规格 §9.3）。待检查和不在检查范围的不计入。",
    ));
    let dep = |d: crate::schema::Department| d.label(lang).to_string();
    let opt = |x: Option<f64>, f: &dyn Fn(f64) -> String| x.map(f).unwrap_or_else(|| "–".into());
    let all: Vec<_> = rows.iter().filter(|r| r.domain == Domain::All).collect();
    let head = [
        p.t("Month", "抽查月份"),
        p.t("Department", "检查部门"),
        p.t("#Drawn", "#抽中"),
        p.t("#Inspected", "#已检查"),
        p.t("#Pending", "#待检查"),
        p.t("#Out of scope", "#不在检查范围"),
        p.t("#Violations found", "#发现问题"),
        p.t("#Estimated rate", "#违法违规率估计"),
        p.t("95 % interval", "95% 置信区间"),
        p.t("#Estimated violators", "#违法违规企业数估计"),
        p.t("#Of them visited", "#本次检查覆盖"),
        p.t("#Not covered", "#未覆盖企业"),
    ];
    let table: Vec<Vec<String>> = all
        .iter()
        .map(|r| {
            vec![
                r.month.to_string(),
                escape(&dep(r.department)),
                r.drawn.to_string(),
                r.inspected.to_string(),
                r.pending.to_string(),
                r.out_of_scope.to_string(),
                r.violations.to_string(),
                opt(r.rate, &share),
                r.ci.map(|(lo, hi)| format!("{} – {}", share(lo), share(hi)))
                    .unwrap_or_else(|| "–".into()),
                opt(r.est_violators, &|v| num(v, 0)),
                opt(r.caught_share, &share),
                r.not_covered.map(|n| n.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    p.table(&head, &table, false);
    for r in &all {
        if let Some(n) = r.not_covered.filter(|&n| n > 0) {
            let text = match lang {
                Lang::En => format!(
                    "{} {}: {n} enterprises could not be drawn (ratio 0, yearly maximum reached or in cool-down); the estimate does not speak for them.",
                    r.month,
                    dep(r.department)
                ),
                Lang::Zh => format!(
                    "{} {}：{n} 家企业本月不可能被抽中（抽查比例为 0、已达年度上限或在冷却期内），估计不涵盖这些企业。",
                    r.month,
                    dep(r.department)
                ),
            };
            p.note(&text);
        }
    }

    // Targeting: per credit class, of the latest month.
    let Some(month) = rows.iter().map(|r| r.month).max() else {
        return;
    };
    let classes: Vec<_> = rows
        .iter()
        .filter(|r| r.month == month && matches!(r.domain, Domain::CreditClass(_)))
        .collect();
    if classes.is_empty() {
        return;
    }
    p.h3(p.t(
        "Does risk targeting find violators? By credit class",
        "风险靶向是否找到违法违规企业？按信用风险分类",
    ));
    let head = [
        p.t("Department", "检查部门"),
        p.t("Credit class", "信用风险分类"),
        p.t("#Inspected", "#已检查"),
        p.t("#Violations found", "#发现问题"),
        p.t("#Hit rate", "#问题发现率"),
        p.t("#Estimated rate", "#违法违规率估计"),
        p.t("#Lift", "#靶向提升倍数"),
    ];
    let table: Vec<Vec<String>> = classes
        .iter()
        .map(|r| {
            vec![
                escape(&dep(r.department)),
                escape(&r.domain.value(lang)),
                r.inspected.to_string(),
                r.violations.to_string(),
                opt(r.hit_rate, &share),
                opt(r.rate, &share),
                opt(r.lift, &|v| format!("{v:.2}×")),
            ]
        })
        .collect();
    p.table(&head, &table, false);
    p.note(p.t(
        "Hit rate: violations found per inspection. Lift: the hit rate over the department's estimated rate — how many times more often an inspection finds a violation than a uniform draw would.",
        "问题发现率：每次检查发现问题的比例。靶向提升倍数：问题发现率与该部门违法违规率估计之比，即比均匀随机抽查多发现问题的倍数。",
    ));
    if let Some(chart) = super::charts::lift_chart(rows, lang) {
        p.push(&chart);
        p.push("\n");
    }
}

fn district_inspection_table(p: &mut Page<'_>) {
    let d = p.d;
    let with_sample = d.sample.is_some();
    let mut head: Vec<&str> = vec![
        p.t("District", "所属区"),
        p.t("Code", "区划代码"),
        p.t("#Enterprises", "#企业数"),
        p.t("#Market expected", "#市场监管预计"),
        p.t("#Ecology expected", "#生态环境预计"),
        p.t("#Visits expected", "#预计检查户数"),
    ];
    if with_sample {
        head.extend([
            p.t("#Market drawn", "#市场监管抽取"),
            p.t("#Ecology drawn", "#生态环境抽取"),
            p.t("#Joint drawn", "#其中联合"),
            p.t("#Visits drawn", "#抽取户数"),
        ]);
    }
    let row = |name: String, code: String, n: usize, r: &DistrictRow| -> Vec<String> {
        let mut v = vec![
            escape(&name),
            code,
            n.to_string(),
            num(r.expected.market, 2),
            num(r.expected.ecology, 2),
            num(r.expected.visits, 2),
        ];
        if with_sample {
            v.extend([
                r.drawn.market().to_string(),
                r.drawn.ecology().to_string(),
                r.drawn.joint().to_string(),
                r.drawn.visits().to_string(),
            ]);
        }
        v
    };
    let mut rows: Vec<Vec<String>> = d
        .districts
        .iter()
        .map(|r| {
            row(
                district_name(r.district),
                r.district.to_string(),
                r.enterprises,
                r,
            )
        })
        .collect();
    let total = DistrictRow {
        district: 0,
        enterprises: d.enterprises,
        credit: d.credit,
        positive_eligible: d.positive_eligible,
        expected: d.expected,
        drawn: d.sample.as_ref().map(|s| s.drawn).unwrap_or_default(),
    };
    rows.push(row(
        p.t("Total", "合计").to_string(),
        String::new(),
        d.enterprises,
        &total,
    ));
    p.table(&head, &rows, true);
}

fn district_inspection_charts(p: &mut Page<'_>) {
    let d = p.d;
    let lang = p.lang;
    let label = |r: &DistrictRow| district_name(r.district);
    match &d.sample {
        Some(_) => {
            for (market, title) in [
                (
                    true,
                    tr(
                        lang,
                        "Market supervision: expected and drawn inspections by district",
                        "市场监管：各区预计与抽取检查户数",
                    ),
                ),
                (
                    false,
                    tr(
                        lang,
                        "Ecology: expected and drawn on-site inspections by district",
                        "生态环境：各区预计与抽取现场检查户数",
                    ),
                ),
            ] {
                let bars: Vec<Bar> = d
                    .districts
                    .iter()
                    .map(|r| {
                        let (e, n) = if market {
                            (r.expected.market, r.drawn.market())
                        } else {
                            (r.expected.ecology, r.drawn.ecology())
                        };
                        Bar {
                            label: label(r),
                            values: vec![e, n as f64],
                            texts: vec![num(e, 1), n.to_string()],
                        }
                    })
                    .collect();
                p.chart_h(&Chart {
                    title,
                    category_axis: tr(lang, "District", "所属区"),
                    value_axis: tr(lang, "Inspections this month", "本月检查户数"),
                    series: &[tr(lang, "expected", "预计"), tr(lang, "drawn", "抽取")],
                    bars: &bars,
                });
            }
        }
        None => {
            let bars: Vec<Bar> = d
                .districts
                .iter()
                .map(|r| Bar {
                    label: label(r),
                    values: vec![r.expected.market, r.expected.ecology],
                    texts: vec![num(r.expected.market, 1), num(r.expected.ecology, 1)],
                })
                .collect();
            p.chart_h(&Chart {
                title: tr(
                    lang,
                    "Expected on-site inspections this month by district",
                    "各区本月预计现场检查户数",
                ),
                category_axis: tr(lang, "District", "所属区"),
                value_axis: tr(lang, "Expected inspections", "预计检查户数"),
                series: &[
                    tr(lang, "market supervision", "市场监管"),
                    tr(lang, "ecology", "生态环境"),
                ],
                bars: &bars,
            });
        }
    }
}

fn sample_profile(p: &mut Page<'_>, s: &SampleSummary) {
    let lang = p.lang;
    let mut rows: Vec<Vec<String>> = CreditClass::ALL
        .iter()
        .map(|c| {
            vec![
                escape(class_label(*c, lang)),
                s.by_credit[c.index()].to_string(),
            ]
        })
        .collect();
    if s.credit_unknown > 0 {
        rows.push(vec![
            escape(p.t("unknown", "未知")),
            s.credit_unknown.to_string(),
        ]);
    }
    rows.push(vec![escape(p.t("Total", "合计")), s.rows.to_string()]);
    p.table(
        &[p.t("Credit class", "信用风险分类"), p.t("#Drawn", "#抽中")],
        &rows,
        true,
    );
    let mut rows: Vec<Vec<String>> = Tier::ALL
        .iter()
        .map(|t| {
            vec![
                escape(tier_label(*t, lang)),
                s.by_tier[t.index()].to_string(),
            ]
        })
        .collect();
    if s.tier_unknown > 0 {
        rows.push(vec![
            escape(p.t("unknown", "未知")),
            s.tier_unknown.to_string(),
        ]);
    }
    rows.push(vec![escape(p.t("Total", "合计")), s.rows.to_string()]);
    p.table(
        &[p.t("Tier", "企业梯度"), p.t("#Drawn", "#抽中")],
        &rows,
        true,
    );
    let staffed = match lang {
        Lang::En => format!(
            "Drawn enterprises with inspectors assigned: {} of {}.",
            s.staffed, s.rows
        ),
        Lang::Zh => format!("{} 家抽中企业中 {} 家已分配执法人员。", s.rows, s.staffed),
    };
    p.note(&staffed);
}

fn sample_list(p: &mut Page<'_>, s: &SampleSummary) {
    let lang = p.lang;
    let head = [
        p.t("#No.", "#序号"),
        p.t("Enterprise", "企业名称"),
        p.t("Credit code", "统一社会信用代码"),
        p.t("District", "所属区"),
        p.t("Departments", "检查部门"),
        p.t("Credit class", "信用风险分类"),
        p.t("Inspectors", "执法人员"),
    ];
    let rows: Vec<Vec<String>> = s
        .rows_in_order
        .iter()
        .take(MAX_SAMPLE_ROWS)
        .enumerate()
        .map(|(i, r)| {
            vec![
                r.seq.unwrap_or(i as u64 + 1).to_string(),
                escape(r.name.as_deref().unwrap_or("")),
                escape(&r.uscc),
                escape(&district_name(r.district)),
                escape(dept_label(r.departments, lang)),
                escape(r.credit_class.map_or("", |c| class_label(c, lang))),
                escape(r.inspectors.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    p.table(&head, &rows, false);
    if s.rows_in_order.len() > MAX_SAMPLE_ROWS {
        let more = s.rows_in_order.len() - MAX_SAMPLE_ROWS;
        let t = match lang {
            Lang::En => format!("… and {more} more: see the sample file."),
            Lang::Zh => format!("……另有 {more} 家，见抽查样本文件。"),
        };
        p.note(&t);
    }
}

fn positive_list(p: &mut Page<'_>) {
    let d = p.d;
    let lang = p.lang;
    p.h2(p.t(
        "2. The positive list (正面清单)",
        "二、生态环境监督执法正面清单",
    ));
    let eligible = match lang {
        Lang::En => format!(
            "{} of {} scored enterprises meet all eight criteria of the positive list this period (they are checked off site only, on-site ratio {}).",
            d.positive_eligible,
            d.enterprises,
            pct(d.policy.eco.positive_list_onsite_ratio)
        ),
        Lang::Zh => format!(
            "本期 {} 家评分企业中 {} 家符合正面清单全部八项条件（原则上只开展非现场检查，现场检查比例 {}）。",
            d.enterprises,
            d.positive_eligible,
            pct(d.policy.eco.positive_list_onsite_ratio)
        ),
    };
    p.note(&eligible);
    let Some(l) = &d.list else {
        p.note(p.t(
            "No list file was given (--whitelist): the entries, exits and their reasons are not shown.",
            "未提供正面清单文件（--whitelist），不列出本期新增、移出及原因。",
        ));
        return;
    };
    list_counts(p, l);
    if l.listed_not_eligible > 0 {
        let w = match lang {
            Lang::En => format!(
                "Listed enterprises not eligible in this scored file: {}. Was the list built from another scoring?",
                l.listed_not_eligible
            ),
            Lang::Zh => format!(
                "有 {} 家在列企业在本期评分结果中不符合条件：清单是否依据其他评分结果生成？",
                l.listed_not_eligible
            ),
        };
        p.warn(&w);
    }
    if !l.removal_reasons.is_empty() {
        p.h3(p.t("Why enterprises left the list", "移出原因"));
        let rows: Vec<Vec<String>> = l
            .removal_reasons
            .iter()
            .map(|(code, n)| {
                vec![
                    escape(reasons::text(code, lang)),
                    escape(code),
                    n.to_string(),
                ]
            })
            .collect();
        p.table(
            &[
                p.t("Reason", "原因"),
                p.t("Code", "代码"),
                p.t("#Enterprises", "#企业数"),
            ],
            &rows,
            false,
        );
        p.note(p.t(
            "An enterprise that fails several criteria is counted under each.",
            "同时不满足多项条件的企业在每项下各计一次。",
        ));
    }
    entry_table(
        p,
        tr(lang, "Joined the list", "本期新增"),
        &l.new,
        false,
        tr(lang, "No enterprise joined the list.", "本期无新增。"),
    );
    entry_table(
        p,
        tr(lang, "Left the list, and why", "本期移出及原因"),
        &l.removed,
        true,
        tr(lang, "No enterprise left the list.", "本期无移出。"),
    );
    if !l.waitlisted.is_empty() || l.count(Status::Waitlisted) > 0 {
        entry_table(
            p,
            tr(lang, "Waitlisted, and why", "候补及原因"),
            &l.waitlisted,
            true,
            "",
        );
    }
}

fn list_counts(p: &mut Page<'_>, l: &ListSummary) {
    let lang = p.lang;
    let mut rows: Vec<Vec<String>> = Status::ALL
        .iter()
        .map(|s| vec![escape(status_label(*s, lang)), l.count(*s).to_string()])
        .collect();
    rows.push(vec![
        escape(p.t(
            "On the list (new + retained + renewed)",
            "在列合计（新增＋保留＋续期）",
        )),
        l.listed.to_string(),
    ]);
    p.table(
        &[p.t("Status", "状态"), p.t("#Enterprises", "#企业数")],
        &rows,
        true,
    );
    let bars: Vec<Bar> = Status::ALL
        .iter()
        .map(|s| Bar {
            label: status_label(*s, lang).to_string(),
            values: vec![l.count(*s) as f64],
            texts: vec![l.count(*s).to_string()],
        })
        .collect();
    p.chart_v(&Chart {
        title: tr(lang, "The positive list this period", "本期正面清单变动"),
        category_axis: tr(lang, "Status", "状态"),
        value_axis: tr(lang, "Enterprises", "企业数"),
        series: &[tr(lang, "enterprises", "企业数")],
        bars: &bars,
    });
}

fn entry_table(p: &mut Page<'_>, title: &str, rows: &[ListRow], with_reasons: bool, empty: &str) {
    let lang = p.lang;
    p.h3(title);
    if rows.is_empty() {
        if !empty.is_empty() {
            p.note(empty);
        }
        return;
    }
    let mut head = vec![
        p.t("Enterprise", "企业名称"),
        p.t("Credit code", "统一社会信用代码"),
        p.t("District", "所属区"),
    ];
    if with_reasons {
        head.push(p.t("Reasons", "原因"));
    }
    let body: Vec<Vec<String>> = rows
        .iter()
        .take(MAX_LIST_ROWS)
        .map(|r| {
            let mut v = vec![
                escape(&r.name),
                escape(&r.uscc),
                escape(&district_name(r.district)),
            ];
            if with_reasons {
                v.push(escape(&reasons::join(&r.reasons, lang)));
            }
            v
        })
        .collect();
    p.table(&head, &body, false);
    if rows.len() > MAX_LIST_ROWS {
        let more = rows.len() - MAX_LIST_ROWS;
        let t = match lang {
            Lang::En => format!("… and {more} more: see the list file."),
            Lang::Zh => format!("……另有 {more} 家，见正面清单文件。"),
        };
        p.note(&t);
    }
}

fn changes(p: &mut Page<'_>) {
    let d = p.d;
    let lang = p.lang;
    p.h2(p.t("3. Changes since the previous period", "三、与上期相比"));
    let Some(c) = &d.changes else {
        p.note(p.t(
            "No previous scored file was given (--previous-scored).",
            "未提供上期评分结果（--previous-scored）。",
        ));
        return;
    };
    let rows = vec![
        vec![
            escape(p.t("Enterprises last period", "上期企业数")),
            c.previous_enterprises.to_string(),
        ],
        vec![
            escape(p.t("In both periods", "两期均有")),
            c.matched.to_string(),
        ],
        vec![
            escape(p.t("New this period", "本期新增企业")),
            c.new_enterprises.to_string(),
        ],
        vec![
            escape(p.t("Gone since last period", "本期不再出现的企业")),
            c.gone_enterprises.to_string(),
        ],
        vec![
            escape(p.t("Credit class changed", "信用风险分类变化")),
            c.class_changed.to_string(),
        ],
        vec![
            escape(p.t("… to a lower-risk class", "其中：风险降低")),
            c.class_improved.to_string(),
        ],
        vec![
            escape(p.t("… to a higher-risk class", "其中：风险升高")),
            c.class_worsened.to_string(),
        ],
        vec![
            escape(p.t(
                "Became eligible for the positive list",
                "新符合正面清单条件",
            )),
            c.eligibility_gained.to_string(),
        ],
        vec![
            escape(p.t(
                "No longer eligible for the positive list",
                "不再符合正面清单条件",
            )),
            c.eligibility_lost.to_string(),
        ],
    ];
    p.table(
        &[p.t("Change", "变化"), p.t("#Enterprises", "#企业数")],
        &rows,
        false,
    );
    p.h3(p.t(
        "Credit class: last period (rows) → this period (columns)",
        "信用风险分类：上期（行）→ 本期（列）",
    ));
    let mut head: Vec<String> = vec![p.t("Last period", "上期").to_string()];
    head.extend(
        CreditClass::ALL
            .iter()
            .map(|k| format!("#{}", class_label(*k, lang))),
    );
    let head_ref: Vec<&str> = head.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = CreditClass::ALL
        .iter()
        .map(|from| {
            let mut r = vec![escape(class_label(*from, lang))];
            r.extend(
                CreditClass::ALL
                    .iter()
                    .map(|to| c.transitions[from.index()][to.index()].to_string()),
            );
            r
        })
        .collect();
    p.table(&head_ref, &rows, false);
}

fn enterprises(p: &mut Page<'_>) {
    let d = p.d;
    let lang = p.lang;
    p.h2(p.t("4. The enterprises", "四、企业构成"));
    p.h3(p.t("By credit risk class", "按信用风险分类"));
    let bars: Vec<Bar> = CreditClass::ALL
        .iter()
        .map(|c| Bar {
            label: class_label(*c, lang).to_string(),
            values: vec![d.credit[c.index()] as f64],
            texts: vec![format!(
                "{} ({})",
                d.credit[c.index()],
                share(d.share(d.credit[c.index()]))
            )],
        })
        .collect();
    p.chart_v(&Chart {
        title: tr(
            lang,
            "Enterprises by credit risk class",
            "各信用风险分类企业数",
        ),
        category_axis: tr(
            lang,
            "Credit risk class (A lowest risk)",
            "信用风险分类（A类风险最低）",
        ),
        value_axis: tr(lang, "Enterprises", "企业数"),
        series: &[tr(lang, "enterprises", "企业数")],
        bars: &bars,
    });
    if d.credit_defaulted > 0 {
        let t = match lang {
            Lang::En => format!(
                "Enterprises with no class given or predicted, given the policy's default class {1}: {0}.",
                d.credit_defaulted,
                d.policy.credit.missing_class.en()
            ),
            Lang::Zh => format!(
                "{} 家企业未提供且无法预测信用风险分类，按政策默认为 {}。",
                d.credit_defaulted,
                d.policy.credit.missing_class.zh()
            ),
        };
        p.note(&t);
    }
    p.h3(p.t("By tier", "按企业梯度"));
    let bars: Vec<Bar> = Tier::ALL
        .iter()
        .map(|t| Bar {
            label: tier_label(*t, lang).to_string(),
            values: vec![d.tiers[t.index()] as f64],
            texts: vec![format!(
                "{} ({})",
                d.tiers[t.index()],
                share(d.share(d.tiers[t.index()]))
            )],
        })
        .collect();
    p.chart_h(&Chart {
        title: tr(lang, "Enterprises by tier", "各梯度企业数"),
        category_axis: tr(lang, "Tier", "企业梯度"),
        value_axis: tr(lang, "Enterprises", "企业数"),
        series: &[tr(lang, "enterprises", "企业数")],
        bars: &bars,
    });
    p.h3(p.t("By district", "按区"));
    let bars: Vec<Bar> = d
        .districts
        .iter()
        .map(|r| Bar {
            label: district_name(r.district),
            values: vec![r.enterprises as f64],
            texts: vec![r.enterprises.to_string()],
        })
        .collect();
    p.chart_h(&Chart {
        title: tr(lang, "Enterprises by district", "各区企业数"),
        category_axis: tr(lang, "District", "所属区"),
        value_axis: tr(lang, "Enterprises", "企业数"),
        series: &[tr(lang, "enterprises", "企业数")],
        bars: &bars,
    });
    let mut head: Vec<String> = vec![
        p.t("District", "所属区").to_string(),
        p.t("Code", "区划代码").to_string(),
        p.t("#Enterprises", "#企业数").to_string(),
    ];
    head.extend(
        CreditClass::ALL
            .iter()
            .map(|c| format!("#{}", class_label(*c, lang))),
    );
    head.push(
        p.t("#Positive-list eligible", "#符合正面清单条件")
            .to_string(),
    );
    let head_ref: Vec<&str> = head.iter().map(String::as_str).collect();
    let row = |name: String, code: String, n: usize, credit: &[usize; 4], pl: usize| {
        let mut v = vec![escape(&name), code, n.to_string()];
        v.extend(credit.iter().map(usize::to_string));
        v.push(pl.to_string());
        v
    };
    let mut rows: Vec<Vec<String>> = d
        .districts
        .iter()
        .map(|r| {
            row(
                district_name(r.district),
                r.district.to_string(),
                r.enterprises,
                &r.credit,
                r.positive_eligible,
            )
        })
        .collect();
    rows.push(row(
        p.t("Total", "合计").to_string(),
        String::new(),
        d.enterprises,
        &d.credit,
        d.positive_eligible,
    ));
    p.table(&head_ref, &rows, true);
}

fn band_label(lo: f64, hi: f64) -> String {
    if hi <= 0.0 {
        "0".to_string()
    } else {
        let a = pct(lo);
        let b = pct(hi);
        format!("{}–{}", a.trim_end_matches('%'), b)
    }
}

fn histogram(p: &mut Page<'_>, h: &Histogram, title: &str, axis: &str) {
    let lang = p.lang;
    let bars: Vec<Bar> = h
        .bins
        .iter()
        .map(|b| Bar {
            label: band_label(b.lo, b.hi),
            values: vec![b.count as f64],
            texts: vec![b.count.to_string()],
        })
        .collect();
    p.chart_v(&Chart {
        title,
        category_axis: axis,
        value_axis: tr(lang, "Enterprises", "企业数"),
        series: &[tr(lang, "enterprises", "企业数")],
        bars: &bars,
    });
    let t = match lang {
        Lang::En => format!("Mean ratio: {}.", pct(h.mean)),
        Lang::Zh => format!("平均比例：{}。", pct(h.mean)),
    };
    p.note(&t);
}

fn ratios(p: &mut Page<'_>) {
    let d = p.d;
    let lang = p.lang;
    p.h2(p.t(
        "5. Distribution of the inspection ratios",
        "五、检查比例分布",
    ));
    p.note(p.t(
        "Annual probability of an on-site check per enterprise. Bands include their lower bound; the first band is exactly 0 (no on-site check drawn: market relief to 0, or the positive list).",
        "每家企业一年内被现场检查的概率。各区间含下限；第一栏为恰好 0（不抽取现场检查：市场监管减免至 0 或纳入正面清单）。",
    ));
    histogram(
        p,
        &d.market_hist,
        tr(
            lang,
            "Market supervision spot-check ratio",
            "市场监管抽查比例分布",
        ),
        tr(lang, "market_ratio (% a year)", "市场监管抽查比例（%/年）"),
    );
    histogram(
        p,
        &d.eco_hist,
        tr(
            lang,
            "Ecology on-site inspection ratio",
            "生态环境现场检查比例分布",
        ),
        tr(lang, "eco_ratio (% a year)", "生态环境现场检查比例（%/年）"),
    );
}

fn policy(p: &mut Page<'_>) {
    let d = p.d;
    let lang = p.lang;
    let pol = &d.policy;
    p.h2(p.t("6. The policy in force", "六、执行的政策参数"));
    let by_class = |v: &dyn Fn(CreditClass) -> String| -> String {
        CreditClass::ALL
            .iter()
            .map(|c| format!("{} {}", class_label(*c, lang), v(*c)))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let relief_classes: Vec<&str> = CreditClass::ALL
        .iter()
        .filter(|c| pol.market.relief_classes[c.index()])
        .map(|c| class_label(*c, lang))
        .collect();
    let relief = Tier::ALL
        .iter()
        .filter(|t| **t != Tier::None)
        .map(|t| {
            format!(
                "{} × {}",
                tier_label(*t, lang),
                plain(pol.market.relief_factor[t.index()])
            )
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let permits = PermitClass::ALL
        .iter()
        .map(|k| (k.label(lang), pol.eco.base_ratio[k.index()]))
        .chain(std::iter::once((
            tr(lang, "unknown", "未知"),
            pol.eco.base_ratio[4],
        )))
        .map(|(l, v)| format!("{l} {}", pct(v)))
        .collect::<Vec<_>>()
        .join(" · ");
    let levels = EnvRiskLevel::ALL
        .iter()
        .map(|k| (k.label(lang), pol.eco.risk_mult[k.index()]))
        .chain(std::iter::once((
            tr(lang, "unknown", "未知"),
            pol.eco.risk_mult[3],
        )))
        .map(|(l, v)| format!("{l} × {}", plain(v)))
        .collect::<Vec<_>>()
        .join(" · ");
    let bands = EmissionBand::ALL
        .iter()
        .map(|k| {
            format!(
                "{} × {}",
                k.label(lang),
                plain(pol.eco.emission_mult[k.index()])
            )
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let pl_classes: Vec<&str> = CreditClass::ALL
        .iter()
        .filter(|c| pol.eco.positive_list_credit_classes[c.index()])
        .map(|c| class_label(*c, lang))
        .collect();
    let cap = match pol.eco.cap_share {
        Some(s) => pct(s),
        None => tr(lang, "none", "不设上限").to_string(),
    };
    let rows: Vec<(&str, String)> = vec![
        (
            tr(
                lang,
                "Market: annual spot-check ratio by class",
                "市场监管：各类抽查比例（年）",
            ),
            by_class(&|c| pct(pol.market.base_ratio[c.index()])),
        ),
        (
            tr(
                lang,
                "Market: checks a year at most",
                "市场监管：年度抽查次数上限",
            ),
            by_class(&|c| pol.market.max_per_year[c.index()].to_string()),
        ),
        (
            tr(lang, "Market relief: classes", "市场监管减免：适用分类"),
            relief_classes.join(", "),
        ),
        (
            tr(
                lang,
                "Market relief: factor by tier",
                "市场监管减免：各梯度系数",
            ),
            relief,
        ),
        (
            tr(
                lang,
                "Market relief: checks a year at most",
                "市场监管减免：年度抽查次数上限",
            ),
            pol.market.relief_max_per_year.to_string(),
        ),
        (
            tr(
                lang,
                "Emission band: low below / high from (pollution equivalents)",
                "排放量等级：低于 / 高于（污染当量数）",
            ),
            format!(
                "{} / {}",
                plain(pol.eco.low_pe_below),
                plain(pol.eco.high_pe_from)
            ),
        ),
        (
            tr(
                lang,
                "Ecology: base ratio by permit class",
                "生态环境：各排污许可类别基础比例",
            ),
            permits,
        ),
        (
            tr(
                lang,
                "Ecology: factor by risk level (HJ 941)",
                "生态环境：环境风险等级系数",
            ),
            levels,
        ),
        (
            tr(
                lang,
                "Ecology: factor by emission band",
                "生态环境：排放量等级系数",
            ),
            bands,
        ),
        (
            tr(
                lang,
                "Ecology: lowest ratio off the list / checks a year at most",
                "生态环境：非清单企业比例下限 / 年度上限",
            ),
            format!("{} / {}", pct(pol.eco.min_ratio), pol.eco.max_per_year),
        ),
        (
            tr(
                lang,
                "Positive list: on-site ratio / checks a year at most",
                "正面清单企业：现场检查比例 / 年度上限",
            ),
            format!(
                "{} / {}",
                pct(pol.eco.positive_list_onsite_ratio),
                pol.eco.positive_list_max_per_year
            ),
        ),
        (
            tr(
                lang,
                "Positive list: credit classes admitted",
                "正面清单：信用风险分类条件",
            ),
            pl_classes.join(", "),
        ),
        (
            tr(
                lang,
                "Positive list: years valid / district cap",
                "正面清单：有效期（年）/ 名额上限比例",
            ),
            format!("{} / {}", pol.eco.validity_years, cap),
        ),
        (
            tr(
                lang,
                "Composite risk score weights: credit / env. risk / emissions",
                "综合风险分权重：信用 / 环境风险 / 排放量",
            ),
            format!(
                "{} / {} / {}",
                plain(pol.risk_score.weight_credit),
                plain(pol.risk_score.weight_env_risk),
                plain(pol.risk_score.weight_emission)
            ),
        ),
        (
            tr(
                lang,
                "Sampling: cool-down months / inspectors per task",
                "抽查：冷却期（月）/ 每组执法人员",
            ),
            format!(
                "{} / {}",
                pol.sampling.cooldown_months, pol.sampling.team_size
            ),
        ),
        (
            tr(
                lang,
                "Class when none is given or predicted",
                "缺少信用风险分类时默认",
            ),
            class_label(pol.credit.missing_class, lang).to_string(),
        ),
    ];
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(k, v)| vec![escape(k), escape(&v)])
        .collect();
    p.table(
        &[p.t("Setting", "参数"), p.t("Value", "取值")],
        &rows,
        false,
    );
}

fn inputs(p: &mut Page<'_>) {
    let d = p.d;
    let lang = p.lang;
    p.h2(p.t("7. Input files", "七、输入文件"));
    let rows: Vec<Vec<String>> = d
        .files
        .iter()
        .map(|f| {
            vec![
                escape(f.role.label(lang)),
                escape(&f.path),
                format!("<span class=\"code\">{}</span>", escape(&f.sha256)),
            ]
        })
        .collect();
    p.table(
        &[p.t("File", "文件"), p.t("Path", "路径"), "SHA-256"],
        &rows,
        false,
    );
    p.note(p.t(
        "Anyone holding the same files gets the same SHA-256, and the same report.",
        "持有相同文件者可核对 SHA-256，并得到相同的报告。",
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(pct(0.03), "3%");
        assert_eq!(pct(0.024), "2.4%");
        assert_eq!(pct(0.0), "0%");
        assert_eq!(pct(1.0), "100%");
        assert_eq!(plain(0.8), "0.8");
        assert_eq!(plain(2000.0), "2000");
        assert_eq!(band_label(0.0, 0.0), "0");
        assert_eq!(band_label(0.0, 0.05), "0–5%");
        assert_eq!(band_label(0.8, 1.0), "80–100%");
        assert_eq!(num(2.345, 1), "2.3");
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("A & B <c> \"d\" 'e'"),
            "A &amp; B &lt;c&gt; &quot;d&quot; &#39;e&#39;"
        );
        assert_eq!(escape("海淀区"), "海淀区");
    }
}
