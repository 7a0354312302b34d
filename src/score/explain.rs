//! `spotcheck explain`: one enterprise's scoring decision as plain sentences (SPEC §3.6), in English
//! or Chinese — which credit class and where it came from, whether relief applied and the market
//! ratio arithmetic, the emission band, the environmental risk level, every positive-list criterion
//! passed or failed with what would have to change, the ecology ratio arithmetic and the risk
//! score. It recomputes nothing: it reads the inputs and the scored row and states the policy's
//! numbers, so the text always matches the scored output.

use crate::input::EnterpriseBatch;
use crate::policy::Policy;
use crate::schema::{
    CreditClass, CreditSource, EmissionBand, EnvRiskLevel, EnvRiskSource, Lang, PermitClass, Tier,
};
use crate::score::ScoredBatch;
use crate::score::labels::{credit_reasons_label, level_label};
use crate::score::reasons::Reason;
use crate::{Error, Result};

/// Formats a number for sentences: whole numbers without decimals, others to 6 decimals with
/// trailing zeros removed (`0.018`, `41.666667`).
pub fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" { "0".into() } else { s.into() }
    }
}

/// One sentence in the output language (format strings capture local variables).
macro_rules! say {
    ($lang:expr, $en:literal, $zh:literal) => {
        match $lang {
            Lang::En => format!($en),
            Lang::Zh => format!($zh),
        }
    };
}

fn classes(set: &[bool; 4], lang: Lang) -> String {
    let names: Vec<&str> = CreditClass::ALL
        .iter()
        .filter(|c| set[c.index()])
        .map(|c| c.label(lang))
        .collect();
    match lang {
        Lang::En => names.join(", "),
        Lang::Zh => names.join("、"),
    }
}

/// Explains row `row` of `scored` (scored from `input` with `policy`) in `lang`.
///
/// Returns `Error::Argument` when `row` is out of range or the two batches differ in length.
pub fn explain(
    input: &EnterpriseBatch,
    scored: &ScoredBatch,
    row: usize,
    policy: &Policy,
    lang: Lang,
) -> Result<String> {
    if input.len() != scored.len() || row >= scored.len() {
        return Err(Error::Argument {
            argument: "row".into(),
            message: format!(
                "row {row} is not in a scored batch of {} rows (input {} rows)",
                scored.len(),
                input.len()
            ),
        });
    }
    let i = row;
    let mut lines: Vec<String> = Vec::new();
    let uscc = scored.uscc.value(i);
    let name = scored.name.value(i);
    let tier = scored.tier[i];
    // Prose, not a cell value: `little giant`, not `little_giant`.
    let tier_l = tier.label(lang).replace('_', " ");
    let district = scored.district[i];
    let district_name = crate::district::name(district).unwrap_or("");
    lines.push(say!(
        lang,
        "{uscc} {name}: tier {tier_l}, district {district} {district_name}.",
        "{uscc} {name}：{tier_l}，所属区 {district} {district_name}。"
    ));
    if scored.reasons[i].contains(Reason::UsccChecksum) {
        lines.push(say!(
            lang,
            "Note: the credit code's check character is wrong (USCC_CHECKSUM); the row was kept.",
            "注意：统一社会信用代码校验位错误（USCC_CHECKSUM），该行已保留。"
        ));
    }

    // §3.1 credit class
    let class = scored.credit_class[i];
    let c = class.label(lang);
    lines.push(match scored.credit_source[i] {
        CreditSource::Given => say!(
            lang,
            "Credit class {c}: given in the enterprise table.",
            "信用风险分类 {c}：企业表中给定。"
        ),
        CreditSource::Model => {
            let points = scored.credit_points(i).map(num).unwrap_or_default();
            let why = credit_reasons_label(scored.credit_reasons(i), lang);
            say!(
                lang,
                "Credit class {c}: not given, predicted by the credit model ({points} points; main risk factors: {why}).",
                "信用风险分类 {c}：未给定，由信用评分模型预测（{points} 分；主要风险因素：{why}）。"
            )
        }
        CreditSource::Default => say!(
            lang,
            "Credit class {c}: not given and the credit model could not predict it, so the policy default applies (CREDIT_DEFAULTED).",
            "信用风险分类 {c}：未给定且模型无法预测，采用政策默认分类（CREDIT_DEFAULTED）。"
        ),
    });

    // §3.4 market
    let mp = &policy.market;
    let base = num(mp.base_ratio[class.index()]);
    let base_max = mp.max_per_year[class.index()];
    let ratio = num(scored.market_ratio[i]);
    let max = scored.market_max_per_year[i];
    let min = num(mp.min_ratio);
    let relief_set = classes(&mp.relief_classes, lang);
    let relieved = Reason::market_relief(tier).filter(|r| scored.reasons[i].contains(*r));
    lines.push(match relieved {
        Some(r) => {
            let factor = num(mp.relief_factor[tier.index()]);
            let product = num(crate::score::round::ratio(
                crate::score::round::ratio(mp.base_ratio[class.index()])
                    * mp.relief_factor[tier.index()],
            ));
            let code = r.code();
            let cap = mp.relief_max_per_year;
            say!(
                lang,
                "Market supervision: relief for a {tier_l} of class {c} ({code}): base ratio {base} × {factor} = {product}, clamped to [{min}, 1] → market ratio {ratio}; at most min({base_max}, {cap}) = {max} spot check(s) a year.",
                "市场监管：{tier_l}且信用风险分类为 {c}，享受降低抽查比例（{code}）：基准比例 {base} × {factor} = {product}，限定在 [{min}, 1] 内 → 抽查比例 {ratio}；每年最多抽查 min({base_max}, {cap}) = {max} 次。"
            )
        }
        None => {
            let why = if tier == Tier::None {
                say!(
                    lang,
                    "no relief, as it is not a 专精特新 enterprise",
                    "非专精特新企业，不享受降低抽查比例"
                )
            } else {
                say!(
                    lang,
                    "no relief, which is for classes {relief_set} only",
                    "不享受降低抽查比例（仅限信用风险分类 {relief_set}）"
                )
            };
            say!(
                lang,
                "Market supervision: class {c} has base ratio {base}; {why}; clamped to [{min}, 1] → market ratio {ratio}; at most {max} spot check(s) a year.",
                "市场监管：信用风险分类 {c} 的基准抽查比例为 {base}；{why}；限定在 [{min}, 1] 内 → 抽查比例 {ratio}；每年最多抽查 {max} 次。"
            )
        }
    });

    // §3.2 emissions
    let ep = &policy.eco;
    let low = num(ep.low_pe_below);
    let high = num(ep.high_pe_from);
    let band = scored.emission_band[i];
    let band_l = band.label(lang);
    lines.push(match scored.pe_total[i] {
        Some(total) => {
            let a = num(scored.pe_air[i].unwrap_or(0.0));
            let w = num(scored.pe_water[i].unwrap_or(0.0));
            let t = num(total);
            let mut s = say!(
                lang,
                "Emissions: {a} air + {w} water = {t} pollution equivalents → band {band_l} (low below {low}, high from {high}).",
                "排放：大气污染当量数 {a} + 水污染当量数 {w} = {t} → 排放量等级 {band_l}（低于 {low} 为低，{high} 及以上为高）。"
            );
            if let Some(tax) = scored.env_tax_cny[i] {
                let tax = num(tax);
                if lang == Lang::En {
                    s.push(' ');
                }
                s.push_str(&say!(
                    lang,
                    "Estimated environmental protection tax: {tax} CNY a year.",
                    "环境保护税估算：每年 {tax} 元。"
                ));
            }
            s
        }
        None => say!(
            lang,
            "Emissions: no pollution equivalents known → band {band_l}.",
            "排放：污染当量数未知 → 排放量等级 {band_l}。"
        ),
    });

    // §3.3 environmental risk
    let level = scored.env_risk_level[i];
    let lv = level_label(level, lang);
    let detail = scored.env_risk_detail[i];
    lines.push(match (scored.env_risk_source[i], detail) {
        (EnvRiskSource::Given, Some(d)) if scored.reasons[i].contains(Reason::EnvRiskMismatch) => {
            let computed = d.level.label(lang);
            say!(
                lang,
                "Environmental risk: {lv}, as filed; the HJ 941 inputs give {computed} ({d}): they differ (ENV_RISK_MISMATCH), the filed level is used.",
                "环境风险：{lv}（备案等级）；按HJ 941输入计算为 {computed}（{d}），两者不一致（ENV_RISK_MISMATCH），采用备案等级。"
            )
        }
        (EnvRiskSource::Given, Some(d)) => say!(
            lang,
            "Environmental risk: {lv}, as filed; the HJ 941 inputs agree ({d}).",
            "环境风险：{lv}（备案等级），与HJ 941计算结果一致（{d}）。"
        ),
        (EnvRiskSource::Given, None) => say!(
            lang,
            "Environmental risk: {lv}, as filed.",
            "环境风险：{lv}（备案等级）。"
        ),
        (_, Some(d)) if d.raised => say!(
            lang,
            "Environmental risk: {lv}, computed by HJ 941 ({d}), raised one step for an environmental offence in the last 36 months.",
            "环境风险：{lv}，按HJ 941计算（{d}），因近36个月环境违法处罚上调一级。"
        ),
        (_, Some(d)) => say!(
            lang,
            "Environmental risk: {lv}, computed by HJ 941 ({d}).",
            "环境风险：{lv}，按HJ 941计算（{d}）。"
        ),
        (_, None) => say!(
            lang,
            "Environmental risk: unknown (no filed level and not enough HJ 941 inputs).",
            "环境风险：未知（无备案等级，HJ 941输入不足）。"
        ),
    });

    // §3.5 positive list, criterion by criterion
    let r = scored.reasons[i];
    let listed = scored.positive_list[i];
    lines.push(if listed {
        say!(
            lang,
            "Positive list (正面清单): eligible, every criterion passes:",
            "生态环境监督执法正面清单：符合全部条件，纳入："
        )
    } else {
        say!(
            lang,
            "Positive list (正面清单): not eligible; criteria:",
            "生态环境监督执法正面清单：不符合条件，逐项如下："
        )
    });
    let pass = say!(lang, "passed", "符合");
    let fail = say!(lang, "failed", "不符合");
    let mark = |failed: bool| if failed { fail.clone() } else { pass.clone() };

    // 1
    let s = if r.contains(Reason::EcoNotZjtx) {
        say!(
            lang,
            "not a 专精特新 enterprise; it would have to be recognised as innovative, specialized or little giant (ECO_NOT_ZJTX)",
            "非专精特新企业；需被认定为创新型中小企业、专精特新中小企业或\"小巨人\"企业（ECO_NOT_ZJTX）"
        )
    } else {
        tier_l.to_owned()
    };
    let m = mark(r.contains(Reason::EcoNotZjtx));
    lines.push(say!(
        lang,
        "  1. 专精特新 tier: {m} — {s}.",
        "  1. 专精特新企业：{m} — {s}。"
    ));
    // 2
    let t = scored.pe_total[i].map(num).unwrap_or_default();
    let s = match band {
        EmissionBand::Low => say!(lang, "pe_total {t} < {low}", "污染当量数 {t} < {low}"),
        EmissionBand::Unknown => say!(
            lang,
            "pollution equivalents unknown; an emissions table or pe_air/pe_water would have to be given (ECO_EMISSION_UNKNOWN)",
            "污染当量数未知；需提供排放表或大气/水污染当量数（ECO_EMISSION_UNKNOWN）"
        ),
        _ => say!(
            lang,
            "pe_total {t} would have to fall below {low} (ECO_EMISSION_NOT_LOW)",
            "污染当量数 {t} 需降至 {low} 以下（ECO_EMISSION_NOT_LOW）"
        ),
    };
    let m = mark(band != EmissionBand::Low);
    lines.push(say!(
        lang,
        "  2. low emissions: {m} — {s}.",
        "  2. 污染物排放量小：{m} — {s}。"
    ));
    // 3
    let s = match level {
        Some(EnvRiskLevel::General) => lv.to_owned(),
        Some(_) => say!(
            lang,
            "level {lv}; it would have to be general (ECO_RISK_NOT_LOW)",
            "等级为 {lv}；需为一般（ECO_RISK_NOT_LOW）"
        ),
        None => say!(
            lang,
            "unknown; a filed env_risk_level or the HJ 941 inputs (air_q/air_m/air_e, water_q/water_m/water_e) would have to be given (ECO_RISK_UNKNOWN)",
            "未知；需提供备案的突发环境事件风险等级或HJ 941输入（Q、M、E）（ECO_RISK_UNKNOWN）"
        ),
    };
    let m = mark(level != Some(EnvRiskLevel::General));
    lines.push(say!(
        lang,
        "  3. environmental risk general: {m} — {s}.",
        "  3. 环境风险低：{m} — {s}。"
    ));
    // 4 and 5
    for (k, value, hit, unknown, en_what, zh_what) in [
        (
            4,
            input.env_penalties_24m[i],
            Reason::EcoPenalty,
            Reason::EcoPenaltyUnknown,
            "environmental penalties",
            "生态环境行政处罚",
        ),
        (
            5,
            input.env_incidents_24m[i],
            Reason::EcoIncident,
            Reason::EcoIncidentUnknown,
            "environmental incidents",
            "突发环境事件",
        ),
    ] {
        let s = match value {
            Some(0) => say!(lang, "none in 24 months", "近24个月无{zh_what}"),
            Some(count) => {
                let code = hit.code();
                say!(
                    lang,
                    "{count} in 24 months; there would have to be none in the last 24 months ({code})",
                    "近24个月{zh_what} {count} 次；需近24个月内为 0 次（{code}）"
                )
            }
            None => {
                let code = unknown.code();
                say!(
                    lang,
                    "not given; the count would have to be given and be 0 ({code})",
                    "未提供；需提供且为 0 次（{code}）"
                )
            }
        };
        let m = mark(value != Some(0));
        lines.push(say!(
            lang,
            "  {k}. no {en_what}: {m} — {s}.",
            "  {k}. 无{zh_what}：{m} — {s}。"
        ));
    }
    // 6
    let permit = input.permit_class[i];
    let s = match permit {
        Some(p) => p.label(lang).to_owned(),
        None => say!(
            lang,
            "not given; permit_class would have to be given (ECO_PERMIT_UNKNOWN)",
            "未提供；需提供排污许可管理类别（ECO_PERMIT_UNKNOWN）"
        ),
    };
    let m = mark(permit.is_none());
    lines.push(say!(
        lang,
        "  6. permit class known: {m} — {s}.",
        "  6. 排污许可管理类别明确：{m} — {s}。"
    ));
    // 7
    let failed7 = r.contains(Reason::EcoNoMonitoring);
    let s = match (permit, failed7) {
        (Some(PermitClass::Key), true) => say!(
            lang,
            "a key permit holder without connected automatic monitoring; monitoring would have to be installed and connected (ECO_NO_MONITORING)",
            "重点管理单位未安装自动监控或未联网；需安装自动监控并联网（ECO_NO_MONITORING）"
        ),
        (Some(PermitClass::Key), false) => {
            say!(lang, "automatic monitoring connected", "自动监控已联网")
        }
        _ => say!(
            lang,
            "not required (not a key permit holder)",
            "不要求（非重点管理单位）"
        ),
    };
    let m = mark(failed7);
    lines.push(say!(
        lang,
        "  7. online monitoring for key permit holders: {m} — {s}.",
        "  7. 重点管理单位自动监控联网：{m} — {s}。"
    ));
    // 8
    let admitted = classes(&ep.positive_list_credit_classes, lang);
    let failed8 = r.contains(Reason::EcoCredit);
    let s = if failed8 {
        say!(
            lang,
            "class {c}; it would have to be {admitted} (ECO_CREDIT)",
            "分类为 {c}；需为 {admitted}（ECO_CREDIT）"
        )
    } else {
        say!(lang, "class {c}", "分类为 {c}")
    };
    let m = mark(failed8);
    lines.push(say!(
        lang,
        "  8. credit class {admitted}: {m} — {s}.",
        "  8. 信用风险分类为 {admitted}：{m} — {s}。"
    ));

    // §3.5 ecology ratio
    let eco_ratio = num(scored.eco_ratio[i]);
    let eco_max = scored.eco_max_per_year[i];
    lines.push(if listed {
        say!(
            lang,
            "Ecology: on the positive list, checked off site (non_site); on-site ratio {eco_ratio}, at most {eco_max} on-site check(s) a year.",
            "生态环境：纳入正面清单，以非现场检查为主；现场检查比例 {eco_ratio}，每年最多现场检查 {eco_max} 次。"
        )
    } else {
        let b = num(ep.base_for(permit));
        let rm = num(ep.risk_mult_for(level));
        let em = num(ep.emission_mult[band.index()]);
        let r = crate::score::round::ratio;
        let product =
            num(r(r(r(ep.base_for(permit)) * ep.risk_mult_for(level))
                * ep.emission_mult[band.index()]));
        let permit_l = permit.map_or(level_label(None, lang), |p| p.label(lang));
        let emin = num(ep.min_ratio);
        say!(
            lang,
            "Ecology: on-site checks: base {b} ({permit_l}) × risk {rm} ({lv}) × emission {em} ({band_l}) = {product}, clamped to [{emin}, 1] → eco ratio {eco_ratio}; at most {eco_max} on-site check(s) a year.",
            "生态环境：现场检查：基准 {b}（{permit_l}）× 风险系数 {rm}（{lv}）× 排放系数 {em}（{band_l}）= {product}，限定在 [{emin}, 1] 内 → 现场检查比例 {eco_ratio}；每年最多现场检查 {eco_max} 次。"
        )
    });

    // §3.6 risk score
    let rp = &policy.risk_score;
    let (wc, we, wm) = (
        num(rp.weight_credit),
        num(rp.weight_env_risk),
        num(rp.weight_emission),
    );
    let cv = num(rp.credit[class.index()]);
    let ev = num(rp.env_risk[level.map_or(3, |l| l.index())]);
    let mv = num(rp.emission[band.index()]);
    let score = num(scored.risk_score[i]);
    lines.push(say!(
        lang,
        "Risk score: 100 × ({wc} × {cv} credit + {we} × {ev} environmental risk + {wm} × {mv} emissions) = {score}.",
        "综合风险分：100 × ({wc} × {cv} 信用 + {we} × {ev} 环境风险 + {wm} × {mv} 排放) = {score}。"
    ));

    let mut text = lines.join("\n");
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(num(0.018), "0.018");
        assert_eq!(num(0.03 * 0.6), "0.018"); // 0.018000000000000002 in f64
        assert_eq!(num(24128.0), "24128");
        assert_eq!(num(100.0 * (0.5 / 3.0 + 0.25)), "41.666667");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(-0.0000001), "0");
        assert_eq!(num(1.5), "1.5");
    }
}
