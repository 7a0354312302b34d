//! The month page's summary of the scored month: enterprises by credit class, by tier and by
//! district — counts and shares, eligible for the 正面清单 positive list, the market and ecology
//! draw populations, the expected on-site inspections of the month, the mean ratios. Every number
//! is the monthly report's (`report::build` over the month's stored scored table, the same
//! function `spotcheck report` calls); this file only reads the stored table and lays the numbers
//! out. The numbers of a stored scored table never change (its name is its SHA-256), so they are
//! kept for the last few tables shown instead of being read again on every view.

use std::sync::{Arc, Mutex};

use axum::response::Response;
use maud::{Markup, html};

use super::api_error;
use crate::policy::Policy;
use crate::report::{ReportData, ReportInputs};
use crate::schema::{CreditClass, Lang, Tier};
use crate::scored::{ScoredRows, ScoredTable};
use crate::serve::AppState;
use crate::serve::error::ApiError;
use crate::serve::session::Ctx;
use crate::table::ReadOptions;

/// Scored tables whose numbers are kept.
const KEPT: usize = 4;

/// The numbers of the last [`KEPT`] scored tables shown, by their stored path.
static KEPT_NUMBERS: Mutex<Vec<(std::path::PathBuf, Arc<ReportData>)>> = Mutex::new(Vec::new());

/// Reads a scored table (any format, English or Chinese) into the report's typed rows.
fn read_scored(path: &std::path::Path) -> crate::Result<ScoredRows> {
    let opts = ReadOptions::default();
    let mut reader = crate::table::open(path, &opts)?;
    let table = ScoredTable::from_schema(&reader.schema(), path)?;
    let mut rows: Option<ScoredRows> = None;
    while let Some(numbered) = reader.next_numbered() {
        let numbered = numbered?;
        let part = table.parse(&numbered.batch, numbered.first_row)?;
        match rows.as_mut() {
            Some(r) => r.extend(part),
            None => rows = Some(part),
        }
    }
    match rows {
        Some(r) => Ok(r),
        None => {
            let empty = arrow::array::RecordBatch::new_empty(reader.schema());
            table.parse(&empty, 1)
        }
    }
}

/// The report's numbers for a stored scored table (kept, see the module doc). Blocking.
pub fn numbers(path: &std::path::Path, month: &str) -> Result<Arc<ReportData>, ApiError> {
    let kept = |p: &std::path::Path| {
        KEPT_NUMBERS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(k, _)| k == p)
            .map(|(_, d)| d.clone())
    };
    if let Some(d) = kept(path) {
        return Ok(d);
    }
    let scored = read_scored(path)?;
    let policy = Policy::default();
    let d = Arc::new(crate::report::build(&ReportInputs {
        scored: &scored,
        sample: None,
        list: None,
        previous: None,
        policy: &policy,
        files: &[],
        month: Some(month),
        coordination: None,
    }));
    let mut k = KEPT_NUMBERS.lock().unwrap_or_else(|e| e.into_inner());
    k.retain(|(p, _)| p != path);
    k.push((path.to_path_buf(), d.clone()));
    if k.len() > KEPT {
        k.remove(0);
    }
    Ok(d)
}

fn pct(v: f64) -> String {
    format!("{:.1}%", 100.0 * v)
}

fn one(v: f64) -> String {
    format!("{v:.1}")
}

fn district_label(code: u32) -> String {
    crate::district::name(code).map_or_else(|| code.to_string(), str::to_string)
}

/// The summary section of the month page for the month's latest scored table `file`.
pub async fn section(
    state: &AppState,
    ctx: &Ctx,
    month: &str,
    file: &str,
) -> Result<Markup, Response> {
    let (path, m) = (state.store.file_path(file), month.to_string());
    let d = tokio::task::spawn_blocking(move || numbers(&path, &m))
        .await
        .map_err(ApiError::from)
        .and_then(|r| r)
        .map_err(|e| api_error(ctx, e))?;
    Ok(render(ctx, &d))
}

/// Lays the report's numbers out (tables that print; no chart needed to read them).
pub fn render(ctx: &Ctx, d: &ReportData) -> Markup {
    let lang = ctx.lang;
    let class_label = |c: CreditClass| c.label(lang);
    // As the monthly report names them.
    let tier_label = |t: Tier| match (t, lang) {
        (t, Lang::Zh) => t.zh(),
        (Tier::Innovative, Lang::En) => "innovative SME",
        (Tier::Specialized, Lang::En) => "specialized SME",
        (Tier::LittleGiant, Lang::En) => "little giant",
        (Tier::None, Lang::En) => "not 专精特新",
    };
    html! {
        section #summary {
            h2 { (ctx.t("本月评分概况", "The scored month at a glance")) }
            ul.glance {
                li { b #summary-enterprises { (d.enterprises) } (ctx.t("家企业已评分", "enterprises scored")) }
                li { b #summary-positive { (d.positive_eligible) } (ctx.t("家符合正面清单条件（", "eligible for the positive list (")) (pct(d.share(d.positive_eligible))) (ctx.t("）", ")")) }
                li { b { (d.market_population) } (ctx.t("家可被市场监管抽取（比例 > 0）", "in the market draw's population (ratio > 0)")) }
                li { b { (d.ecology_population) } (ctx.t("家可被生态环境现场抽取", "in the ecology on-site draw's population")) }
                li { b { (one(d.expected.visits)) } (ctx.t("户次本月预计现场检查（市场 ", "on-site visits expected this month (market ")) (one(d.expected.market)) (ctx.t("，生态 ", ", ecology ")) (one(d.expected.ecology)) (ctx.t("）", ")")) }
                li { b { (pct(d.market_hist.mean)) " / " (pct(d.eco_hist.mean)) } (ctx.t("平均年度抽查比例（市场 / 生态）", "mean yearly inspection ratio (market / ecology)")) }
            }
            div.summary-grid {
                div.table-wrap { table #summary-class {
                    caption { (ctx.t("按信用风险分类（A 类风险最低）", "By credit risk class (A lowest risk)")) }
                    thead { tr {
                        th scope="col" { (ctx.t("信用风险分类", "Credit class")) }
                        th scope="col" { (ctx.t("企业数", "Enterprises")) }
                        th scope="col" { (ctx.t("占比", "Share")) }
                    } }
                    tbody { @for c in CreditClass::ALL { tr {
                        td { (class_label(*c)) }
                        td.num { (d.credit[c.index()]) }
                        td.num { (pct(d.share(d.credit[c.index()]))) }
                    } } }
                } }
                div.table-wrap { table #summary-tier {
                    caption { (ctx.t("按企业梯度（专精特新）", "By tier (专精特新)")) }
                    thead { tr {
                        th scope="col" { (ctx.t("企业梯度", "Tier")) }
                        th scope="col" { (ctx.t("企业数", "Enterprises")) }
                        th scope="col" { (ctx.t("占比", "Share")) }
                    } }
                    tbody { @for t in Tier::ALL { tr {
                        td { (tier_label(*t)) }
                        td.num { (d.tiers[t.index()]) }
                        td.num { (pct(d.share(d.tiers[t.index()]))) }
                    } } }
                } }
            }
            @if d.credit_defaulted > 0 {
                p.note { (d.credit_defaulted) (ctx.t(" 家企业未提供且无法预测信用风险分类，按政策默认分类。", " enterprises had no credit class given or predicted and got the policy's default class.")) }
            }
            div.table-wrap { table #summary-district {
                caption { (ctx.t("按区", "By district")) }
                thead { tr {
                    th scope="col" { (ctx.t("所属区", "District")) }
                    th scope="col" { (ctx.t("区划代码", "Code")) }
                    th scope="col" { (ctx.t("企业数", "Enterprises")) }
                    @for c in CreditClass::ALL { th scope="col" { (class_label(*c)) } }
                    th scope="col" { (ctx.t("符合正面清单条件", "Positive-list eligible")) }
                    th scope="col" { (ctx.t("预计市场监管检查", "Expected market visits")) }
                    th scope="col" { (ctx.t("预计生态环境检查", "Expected ecology visits")) }
                } }
                tbody {
                    @for r in &d.districts { tr {
                        td { (district_label(r.district)) }
                        td { (r.district) }
                        td.num { (r.enterprises) }
                        @for c in CreditClass::ALL { td.num { (r.credit[c.index()]) } }
                        td.num { (r.positive_eligible) }
                        td.num { (one(r.expected.market)) }
                        td.num { (one(r.expected.ecology)) }
                    } }
                    tr.total {
                        td { (ctx.t("合计", "Total")) }
                        td {}
                        td.num { (d.enterprises) }
                        @for c in CreditClass::ALL { td.num { (d.credit[c.index()]) } }
                        td.num { (d.positive_eligible) }
                        td.num { (one(d.expected.market)) }
                        td.num { (one(d.expected.ecology)) }
                    }
                }
            } }
            p.note { (ctx.t(
                "数字与月度报告（spotcheck report）相同：预计检查数为本月各企业入样概率之和（未计检查记录和检查能力）。",
                "The numbers are the monthly report's (spotcheck report): expected visits are the month's inclusion probabilities summed (before history and capacity)."
            )) }
        }
    }
}
