//! The charts of the inspection findings (SPEC §9.3) as inline SVG, from the estimates rows:
//! the estimated violation rate with its 95 % interval per department, and the lift of risk
//! targeting (with the hit rate) per credit class. Shared by the monthly report (`html`, which
//! shows the lift chart under its targeting table) and the console's estimates page, so both
//! draw the same picture with the same code (`svg`).

use super::svg::{self, Bar, Chart};
use crate::results::estimates::{Domain, EstimateRow};
use crate::schema::{Department, Lang};

fn tr(lang: Lang, en: &'static str, zh: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

/// A share as a percentage with one decimal: 0.3895 → 39.0%.
fn share(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// The departments of `rows`, in their order.
fn departments(rows: &[&EstimateRow]) -> Vec<Department> {
    let mut v: Vec<_> = rows.iter().map(|r| r.department).collect();
    v.sort_by_key(|d| *d as u8);
    v.dedup();
    v
}

/// Lift of risk targeting per credit class (hit rate in brackets), one series per department,
/// of the latest month in `rows`; `None` without credit-class rows.
pub fn lift_chart(rows: &[EstimateRow], lang: Lang) -> Option<String> {
    let month = rows.iter().map(|r| r.month).max()?;
    let classes: Vec<&EstimateRow> = rows
        .iter()
        .filter(|r| r.month == month && matches!(r.domain, Domain::CreditClass(_)))
        .collect();
    if classes.is_empty() {
        return None;
    }
    let dep = |d: Department| d.label(lang).to_string();
    let departments = departments(&classes);
    let series_names: Vec<String> = departments.iter().map(|d| dep(*d)).collect();
    let series: Vec<&str> = series_names.iter().map(String::as_str).collect();
    let bars: Vec<Bar> = crate::schema::CreditClass::ALL
        .iter()
        .map(|&c| {
            let (mut values, mut texts) = (Vec::new(), Vec::new());
            for d in &departments {
                let r = classes
                    .iter()
                    .find(|r| r.department == *d && r.domain == Domain::CreditClass(c));
                let lift = r.and_then(|r| r.lift);
                values.push(lift.unwrap_or(0.0));
                texts.push(match (lift, r.and_then(|r| r.hit_rate)) {
                    (Some(l), Some(h)) => format!("{l:.1}× ({})", share(h)),
                    _ => "–".into(),
                });
            }
            Bar {
                label: c.label(lang).to_string(),
                values,
                texts,
            }
        })
        .collect();
    Some(svg::hbar(&Chart {
        title: tr(
            lang,
            "Lift of risk targeting by credit class (hit rate in brackets)",
            "各信用风险分类的靶向提升倍数（括号内为问题发现率）",
        ),
        category_axis: tr(lang, "Credit class", "信用风险分类"),
        value_axis: tr(
            lang,
            "Lift (× the estimated rate)",
            "提升倍数（相对违法违规率估计）",
        ),
        series: &series,
        bars: &bars,
    }))
}

/// The estimated violation rate per department with its 95 % interval (in the bar's text), of
/// the latest month in `rows`; `None` when no department has a rate yet.
pub fn rate_chart(rows: &[EstimateRow], lang: Lang) -> Option<String> {
    let month = rows.iter().map(|r| r.month).max()?;
    let all: Vec<&EstimateRow> = rows
        .iter()
        .filter(|r| r.month == month && r.domain == Domain::All && r.rate.is_some())
        .collect();
    if all.is_empty() {
        return None;
    }
    let bars: Vec<Bar> = all
        .iter()
        .map(|r| {
            let rate = r.rate.unwrap_or(0.0);
            let text = match r.ci {
                Some((lo, hi)) => format!("{} ({} – {})", share(rate), share(lo), share(hi)),
                None => share(rate),
            };
            Bar {
                label: r.department.label(lang).to_string(),
                values: vec![100.0 * rate],
                texts: vec![text],
            }
        })
        .collect();
    Some(svg::hbar(&Chart {
        title: tr(
            lang,
            "Estimated violation rate by department (95 % interval in brackets)",
            "各部门违法违规率估计（括号内为 95% 置信区间）",
        ),
        category_axis: tr(lang, "Department", "检查部门"),
        value_axis: tr(lang, "Estimated rate, %", "违法违规率估计（%）"),
        series: &[tr(lang, "estimated rate", "违法违规率估计")],
        bars: &bars,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::CreditClass;

    fn row(department: Department, domain: Domain, rate: f64, lift: Option<f64>) -> EstimateRow {
        EstimateRow {
            month: crate::sample::Month::parse("2026-12").unwrap(),
            department,
            domain,
            frame_units: 10,
            drawn: 4,
            inspected: 4,
            pending: 0,
            out_of_scope: 0,
            violations: 2,
            hit_rate: Some(0.5),
            rate: Some(rate),
            se: Some(0.23060),
            ci: (domain == Domain::All).then_some((0.03418, 0.86008)),
            est_violators: Some(3.7),
            lift,
            caught_share: None,
            not_covered: None,
        }
    }

    #[test]
    fn rate_and_lift_charts_carry_their_numbers() {
        // The worked example of SPEC §9.3: rate 0.37313, interval (0.03418, 0.86008).
        let rows = vec![
            row(Department::Market, Domain::All, 0.37313, None),
            row(
                Department::Market,
                Domain::CreditClass(CreditClass::C),
                0.5,
                Some(1.34),
            ),
        ];
        let rate = rate_chart(&rows, Lang::En).unwrap();
        assert!(rate.starts_with("<svg"), "{rate}");
        assert!(rate.contains("37.3% (3.4% – 86.0%)"), "{rate}");
        assert!(!rate.contains("<script") && !rate.contains("url("));
        let lift = lift_chart(&rows, Lang::Zh).unwrap();
        assert!(lift.contains("1.3× (50.0%)"), "{lift}");
        assert!(lift.contains("靶向提升倍数"), "{lift}");
        // Nothing to draw: no chart.
        assert_eq!(rate_chart(&[], Lang::En), None);
        assert_eq!(lift_chart(&rows[..1], Lang::En), None);
    }
}
