//! The report's charts as inline SVG: horizontal bar charts (categories down the left, for
//! districts and tiers) and vertical bar charts (categories along the bottom, for credit classes
//! and ratio bands), each with one or more series. Made to be read on paper in black and white:
//! series differ by grey level *and* outline (solid dark, dashed light, dotted mid grey), every bar
//! carries its number, every chart has a title and both axis labels. No `url(…)` references (no
//! pattern fills, no gradients, no markers), no script, no external font: the page must open from a
//! USB stick on an offline office PC. Text is escaped here; numbers arrive already formatted.

use std::fmt::Write;

use super::markup::escape;

/// One category of a chart: its label, one value per series, and the text written at each bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub values: Vec<f64>,
    pub texts: Vec<String>,
}

/// A chart: title, axis labels, series names (a legend is drawn when there are two or more) and
/// its bars.
#[derive(Debug, Clone, Copy)]
pub struct Chart<'a> {
    pub title: &'a str,
    /// Label of the axis the categories are on.
    pub category_axis: &'a str,
    /// Label of the axis the values are on.
    pub value_axis: &'a str,
    pub series: &'a [&'a str],
    pub bars: &'a [Bar],
}

/// Fill, stroke and dash of series k (black-and-white safe: grey level and outline both differ).
fn style(k: usize) -> (&'static str, &'static str, &'static str) {
    match k % 3 {
        0 => ("#4a4a4a", "#000", ""),
        1 => ("#e0e0e0", "#000", " stroke-dasharray=\"4 2\""),
        _ => ("#a0a0a0", "#000", " stroke-dasharray=\"1 2\""),
    }
}

/// Width of a text in ems: CJK and full-width characters count 1, others about 0.6.
pub fn text_em(s: &str) -> f64 {
    s.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 1.0 } else { 0.6 })
        .sum()
}

/// A "nice" step (1, 2 or 5 × 10ⁿ) that cuts `0..max` into at most about `ticks` pieces.
///
/// ```
/// assert_eq!(spotcheck::report::svg::nice_step(47.0, 5), 10.0);
/// assert_eq!(spotcheck::report::svg::nice_step(0.9, 5), 0.2);
/// ```
pub fn nice_step(max: f64, ticks: usize) -> f64 {
    if max.is_nan() || max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let raw = max / ticks.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// A tick value without float noise: whole numbers plain, others with as few decimals as needed.
fn tick_text(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The value axis: its end (a multiple of the step at or above the largest value) and its step
/// (at least 1 when every value is a whole number).
fn axis(bars: &[Bar]) -> (f64, f64) {
    let max = bars
        .iter()
        .flat_map(|b| b.values.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let mut step = nice_step(max, 5);
    // Counts get whole-number ticks: no "0.5 enterprises".
    let whole = bars
        .iter()
        .flat_map(|b| b.values.iter())
        .all(|v| v.fract() == 0.0);
    if whole {
        step = step.max(1.0);
    }
    let end = ((max / step).ceil() * step).max(step);
    (end, step)
}

const FONT: f64 = 12.0;
const WIDTH: f64 = 720.0;

fn open_svg(out: &mut String, height: f64, title: &str) {
    // Invariant: writing to a String cannot fail (here and below).
    let _ = write!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {height:.0}\" \
         width=\"{WIDTH}\" height=\"{height:.0}\" role=\"img\" aria-label=\"{t}\">\
         <title>{t}</title>\
         <text x=\"{x}\" y=\"18\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{t}</text>",
        t = escape(title),
        x = WIDTH / 2.0,
    );
}

/// The legend (two or more series), centred under the title; returns its height.
fn legend(out: &mut String, series: &[&str], y: f64) -> f64 {
    if series.len() < 2 {
        return 0.0;
    }
    let widths: Vec<f64> = series
        .iter()
        .map(|s| 22.0 + text_em(s) * FONT + 18.0)
        .collect();
    let mut x = (WIDTH - widths.iter().sum::<f64>()) / 2.0;
    for (k, s) in series.iter().enumerate() {
        let (fill, stroke, dash) = style(k);
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{ry:.1}\" width=\"16\" height=\"11\" fill=\"{fill}\" stroke=\"{stroke}\"{dash}/>\
             <text x=\"{tx:.1}\" y=\"{y:.1}\" font-size=\"{FONT}\">{s}</text>",
            ry = y - 10.0,
            tx = x + 22.0,
            s = escape(s),
        );
        x += widths[k];
    }
    20.0
}

/// A horizontal bar chart: categories down the left, values along the bottom.
pub fn hbar(chart: &Chart<'_>) -> String {
    let ns = chart.series.len().max(1);
    let bar_h = 14.0;
    let gap = if ns > 1 { 10.0 } else { 6.0 };
    let label_w = chart
        .bars
        .iter()
        .map(|b| text_em(&b.label) * FONT)
        .fold(40.0f64, f64::max)
        + 12.0;
    let text_w = chart
        .bars
        .iter()
        .flat_map(|b| b.texts.iter())
        .map(|t| text_em(t) * FONT)
        .fold(24.0f64, f64::max)
        + 10.0;
    let left = label_w + 8.0;
    let right = WIDTH - text_w - 8.0;
    let mut top = 34.0;
    let mut out = String::new();
    let rows = chart.bars.len() as f64;
    let plot_h = rows * (ns as f64 * bar_h + gap) + gap;
    let legend_h = if chart.series.len() > 1 { 20.0 } else { 0.0 };
    let height = top + legend_h + plot_h + 46.0;
    open_svg(&mut out, height, chart.title);
    top += legend(&mut out, chart.series, top + 4.0);
    let (end, step) = axis(chart.bars);
    let scale = |v: f64| left + (right - left) * (v / end).clamp(0.0, 1.0);
    let bottom = top + plot_h;
    // Grid and ticks.
    let mut t = 0.0;
    while t <= end + step * 1e-9 {
        let x = scale(t);
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\" stroke=\"#d0d0d0\" stroke-width=\"0.6\"/>\
             <text x=\"{x:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\" font-size=\"11\">{v}</text>",
            ty = bottom + 14.0,
            v = tick_text(t),
        );
        t += step;
    }
    let _ = write!(
        out,
        "<line x1=\"{left:.1}\" y1=\"{top:.1}\" x2=\"{left:.1}\" y2=\"{bottom:.1}\" stroke=\"#000\"/>\
         <line x1=\"{left:.1}\" y1=\"{bottom:.1}\" x2=\"{right:.1}\" y2=\"{bottom:.1}\" stroke=\"#000\"/>\
         <text x=\"{cx:.1}\" y=\"{ay:.1}\" text-anchor=\"middle\" font-size=\"{FONT}\">{va}</text>\
         <text x=\"8\" y=\"{cy:.1}\" font-size=\"{FONT}\" font-style=\"italic\">{ca}</text>",
        cx = (left + right) / 2.0,
        ay = bottom + 32.0,
        va = escape(chart.value_axis),
        cy = top - 6.0,
        ca = escape(chart.category_axis),
    );
    let mut y = top + gap;
    for b in chart.bars {
        let group_h = ns as f64 * bar_h;
        let _ = write!(
            out,
            "<text x=\"{lx:.1}\" y=\"{ly:.1}\" text-anchor=\"end\" font-size=\"{FONT}\">{l}</text>",
            lx = left - 6.0,
            ly = y + group_h / 2.0 + FONT * 0.35,
            l = escape(&b.label),
        );
        for k in 0..ns {
            let v = b.values.get(k).copied().unwrap_or(0.0);
            let (fill, stroke, dash) = style(k);
            let w = (scale(v) - left).max(0.0);
            let by = y + k as f64 * bar_h;
            let _ = write!(
                out,
                "<rect x=\"{left:.1}\" y=\"{by:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"0.8\"{dash}/>\
                 <text x=\"{tx:.1}\" y=\"{ty:.1}\" font-size=\"11\">{txt}</text>",
                h = bar_h - 2.0,
                tx = left + w + 4.0,
                ty = by + bar_h - 4.0,
                txt = escape(b.texts.get(k).map_or("", String::as_str)),
            );
        }
        y += group_h + gap;
    }
    out.push_str("</svg>");
    out
}

/// A vertical bar chart: categories along the bottom, values up the left.
pub fn vbar(chart: &Chart<'_>) -> String {
    let ns = chart.series.len().max(1);
    let left = 64.0;
    let right = WIDTH - 16.0;
    let mut top = 34.0;
    let plot_h = 200.0;
    let mut out = String::new();
    let legend_h = if chart.series.len() > 1 { 20.0 } else { 0.0 };
    let height = top + legend_h + 16.0 + plot_h + 52.0;
    open_svg(&mut out, height, chart.title);
    top += legend(&mut out, chart.series, top + 4.0);
    top += 16.0; // room for the numbers above the tallest bar
    let bottom = top + plot_h;
    let (end, step) = axis(chart.bars);
    let scale = |v: f64| bottom - plot_h * (v / end).clamp(0.0, 1.0);
    let mut t = 0.0;
    while t <= end + step * 1e-9 {
        let y = scale(t);
        let _ = write!(
            out,
            "<line x1=\"{left:.1}\" y1=\"{y:.1}\" x2=\"{right:.1}\" y2=\"{y:.1}\" stroke=\"#d0d0d0\" stroke-width=\"0.6\"/>\
             <text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"end\" font-size=\"11\">{v}</text>",
            tx = left - 6.0,
            ty = y + 4.0,
            v = tick_text(t),
        );
        t += step;
    }
    let _ = write!(
        out,
        "<line x1=\"{left:.1}\" y1=\"{top:.1}\" x2=\"{left:.1}\" y2=\"{bottom:.1}\" stroke=\"#000\"/>\
         <line x1=\"{left:.1}\" y1=\"{bottom:.1}\" x2=\"{right:.1}\" y2=\"{bottom:.1}\" stroke=\"#000\"/>\
         <text x=\"{cx:.1}\" y=\"{ay:.1}\" text-anchor=\"middle\" font-size=\"{FONT}\">{ca}</text>\
         <text x=\"16\" y=\"{vy:.1}\" text-anchor=\"middle\" font-size=\"{FONT}\" transform=\"rotate(-90 16 {vy:.1})\">{va}</text>",
        cx = (left + right) / 2.0,
        ay = bottom + 40.0,
        ca = escape(chart.category_axis),
        vy = (top + bottom) / 2.0,
        va = escape(chart.value_axis),
    );
    let n = chart.bars.len().max(1) as f64;
    let slot = (right - left) / n;
    let bar_w = (slot * 0.7 / ns as f64).min(70.0);
    for (i, b) in chart.bars.iter().enumerate() {
        let cx = left + slot * (i as f64 + 0.5);
        let x0 = cx - bar_w * ns as f64 / 2.0;
        for k in 0..ns {
            let v = b.values.get(k).copied().unwrap_or(0.0);
            let (fill, stroke, dash) = style(k);
            let y = scale(v);
            let x = x0 + k as f64 * bar_w;
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"0.8\"{dash}/>\
                 <text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\" font-size=\"11\">{txt}</text>",
                w = bar_w - 2.0,
                h = bottom - y,
                tx = x + (bar_w - 2.0) / 2.0,
                ty = y - 4.0,
                txt = escape(b.texts.get(k).map_or("", String::as_str)),
            );
        }
        let _ = write!(
            out,
            "<text x=\"{cx:.1}\" y=\"{ly:.1}\" text-anchor=\"middle\" font-size=\"{FONT}\">{l}</text>",
            ly = bottom + 18.0,
            l = escape(&b.label),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars() -> Vec<Bar> {
        vec![
            Bar {
                label: "海淀区 <x>".into(),
                values: vec![3.0, 5.0],
                texts: vec!["3.0".into(), "5".into()],
            },
            Bar {
                label: "A".into(),
                values: vec![0.0, 1.0],
                texts: vec!["0.0".into(), "1".into()],
            },
        ]
    }

    #[test]
    fn steps_are_nice() {
        // 1-2-5 steps: 47/5 = 9.4 → 10; 0.9/5 = 0.18 → 0.2; 3/5 = 0.6 → 1; 12000/5 = 2400 → 5000.
        assert_eq!(nice_step(47.0, 5), 10.0);
        assert!((nice_step(0.9, 5) - 0.2).abs() < 1e-12);
        assert_eq!(nice_step(3.0, 5), 1.0);
        assert_eq!(nice_step(12000.0, 5), 5000.0);
        assert_eq!(nice_step(0.0, 5), 1.0);
        assert_eq!(tick_text(0.30000000000000004), "0.3");
        assert_eq!(tick_text(10.0), "10");
    }

    #[test]
    fn charts_label_every_bar_escape_text_and_reference_nothing() {
        let b = bars();
        let c = Chart {
            title: "T & t",
            category_axis: "区",
            value_axis: "家数",
            series: &["expected", "drawn"],
            bars: &b,
        };
        for svg in [hbar(&c), vbar(&c)] {
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
            assert!(svg.contains("<title>T &amp; t</title>"), "{svg}");
            assert!(svg.contains("海淀区 &lt;x&gt;"));
            assert!(!svg.contains("<x>"));
            for t in [
                "3.0", ">5<", "0.0", ">1<", "expected", "drawn", ">区<", ">家数<",
            ] {
                assert!(svg.contains(t), "{t} missing");
            }
            assert!(!svg.contains("url("));
            // Two series × two categories, plus two legend swatches.
            assert_eq!(svg.matches("<rect").count(), 6);
        }
        // With one series there is no legend.
        let one = Chart {
            series: &["n"],
            ..c
        };
        assert_eq!(hbar(&one).matches("<rect").count(), 2);
    }

    #[test]
    fn bar_lengths_follow_values() {
        // Axis end for max 5 is 5 (step 1): a value of 5 spans the whole plot, 0 has width 0.
        let b = bars();
        let c = Chart {
            title: "t",
            category_axis: "",
            value_axis: "",
            series: &["a", "b"],
            bars: &b,
        };
        let svg = hbar(&c);
        assert!(svg.contains("width=\"0.0\""), "{svg}");
        let widths: Vec<f64> = svg
            .split("<rect ")
            .skip(3)
            .filter_map(|r| {
                let w = r.split("width=\"").nth(1)?.split('"').next()?;
                w.parse().ok()
            })
            .collect();
        // Bars in order: 3, 5, 0, 1 → widths proportional.
        assert_eq!(widths.len(), 4);
        assert!((widths[0] / widths[1] - 0.6).abs() < 1e-3, "{widths:?}");
        assert!((widths[3] / widths[1] - 0.2).abs() < 1e-3, "{widths:?}");
    }
}
