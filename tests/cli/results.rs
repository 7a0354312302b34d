//! `spotcheck results` end to end on a generated month: gen → score → sample (joint) → results
//! made up in the test → estimates, public list, history and labels; every reject reason; the
//! history feeding next month's draw (visited units are in cool-down); a changed sample refused;
//! Chinese in and out.

use std::collections::{HashMap, HashSet};

use super::{Work, read_csv, text};

/// gen → score → joint sample for 2026-12 in `w`: s.csv, h.csv, sample.csv, sample.manifest.json.
fn setup(w: &Work) {
    for args in [
        &[
            "gen",
            "--rows",
            "3000",
            "--seed",
            "11",
            "-o",
            "e.csv",
            "--history",
            "h.csv",
            "--month",
            "2026-12",
            "-q",
        ][..],
        &["score", "e.csv", "-o", "s.csv", "-q"],
        &[
            "sample",
            "s.csv",
            "--month",
            "2026-12",
            "--department",
            "joint",
            "--seed",
            "results test",
            "--history",
            "h.csv",
            "--capacity",
            "market=60,ecology=40",
            "-o",
            "sample.csv",
            "-q",
        ],
    ] {
        let o = w.run(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {:?}", text(&o));
    }
}

/// The sample's rows as maps from header to cell.
fn rows(w: &Work, name: &str) -> Vec<HashMap<String, String>> {
    let t = read_csv(&w.path(name));
    t[1..]
        .iter()
        .map(|r| t[0].iter().cloned().zip(r.iter().cloned()).collect())
        .collect()
}

/// A deterministic outcome per (seq, department): every 7th pending, every 11th out of scope,
/// class C/D or every 3rd violation, else compliant. Returns the results CSV body lines.
fn outcomes(sample: &[HashMap<String, String>]) -> Vec<(String, String, String, &'static str)> {
    let mut out = Vec::new();
    for r in sample {
        let seq: usize = r["seq"].parse().unwrap();
        for (k, d) in r["departments"].split('+').enumerate() {
            let n = seq * 2 + k;
            if n.is_multiple_of(7) {
                continue; // pending
            }
            let result = if n.is_multiple_of(11) {
                "closed"
            } else if matches!(r["credit_class"].as_str(), "C" | "D") || n.is_multiple_of(3) {
                "problem_corrected"
            } else {
                "no_problem"
            };
            out.push((
                r["uscc"].clone(),
                d.to_string(),
                format!("2026-12-{:02}", 1 + n % 28),
                result,
            ));
        }
    }
    out
}

#[test]
fn a_month_of_results_is_estimated_published_and_fed_forward() {
    let w = Work::new();
    setup(&w);
    let sample = rows(&w, "sample.csv");
    let res = outcomes(&sample);
    let mut csv =
        String::from("uscc,month,department,inspected_on,result,violations,penalty_cny,note\n");
    for (u, d, day, r) in &res {
        csv += &format!("{u},2026-12,{d},{day},{r},,,\n");
    }
    let good = res.len();
    // One row of each reject reason, after the good rows.
    let (u0, d0, _, _) = &res[0];
    let not_drawn = "91110108MA00000000"; // checksum aside, not in the sample
    csv += &format!("{u0},2026-12,{d0},2026-12-20,no_problem,,,second row\n"); // RESULT_DUPLICATE
    csv += &format!("{},2026-12,market,2026-12-20,fined,,,\n", res[1].0); // RESULT_UNKNOWN (or dup)
    csv += &format!("{not_drawn},2026-12,market,2026-12-20,no_problem,,,\n"); // RESULT_NOT_DRAWN
    csv += &format!(
        "{},2026-12,{},2026-11-30,no_problem,,,\n",
        res[2].0, res[2].1
    ); // DATE_INVALID
    csv += &format!("{},2027-01,market,2027-01-05,no_problem,,,\n", res[3].0); // not drawn in 2027-01
    w.write("results.csv", csv);
    let o = w.run(&[
        "results",
        "sample.manifest.json",
        "results.csv",
        "-o",
        "est.csv",
        "--public",
        "pub.csv",
        "--history-out",
        "h2.csv",
        "--labels-out",
        "labels.csv",
        "-q",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(
        out.contains(&format!(
            "results.csv: read {} = accepted {good} + rejected 5",
            good + 5
        )),
        "{out}"
    );

    // Rejects: each reason with its row, column and value.
    let rej = rows(&w, "est.rejects.csv");
    let reason_at = |row: usize| {
        let r = rej
            .iter()
            .find(|r| r["row"] == row.to_string())
            .expect("rejected row");
        (r["reason"].clone(), r["column"].clone(), r["value"].clone())
    };
    assert_eq!(
        reason_at(good + 1),
        ("RESULT_DUPLICATE".into(), "uscc".into(), u0.clone())
    );
    assert_eq!(reason_at(good + 2).0, "RESULT_UNKNOWN");
    assert_eq!(reason_at(good + 2).1, "result");
    assert_eq!(reason_at(good + 2).2, "fined");
    assert_eq!(reason_at(good + 3).0, "RESULT_NOT_DRAWN");
    assert_eq!(
        reason_at(good + 4),
        (
            "DATE_INVALID".into(),
            "inspected_on".into(),
            "2026-11-30".into()
        )
    );
    assert_eq!(reason_at(good + 5).0, "RESULT_NOT_DRAWN");

    // Estimates: the `all` rows count what the results say, and the rate is the Hájek ratio.
    let est = rows(&w, "est.csv");
    for dep in ["market", "ecology"] {
        let all = est
            .iter()
            .find(|r| r["department"] == dep && r["domain_kind"] == "all")
            .expect("an all row");
        let pi_col = format!("pi_{dep}");
        let drawn: Vec<&HashMap<String, String>> =
            sample.iter().filter(|r| !r[&pi_col].is_empty()).collect();
        let kinds: HashMap<&str, &str> = res
            .iter()
            .filter(|(_, d, _, _)| d == dep)
            .map(|(u, _, _, r)| (u.as_str(), *r))
            .collect();
        let (mut num, mut den, mut inspected, mut viol, mut oos) = (0.0, 0.0, 0, 0, 0);
        for r in &drawn {
            let pi: f64 = r[&pi_col].parse().unwrap();
            match kinds.get(r["uscc"].as_str()) {
                Some(&"closed") => oos += 1,
                Some(&k) => {
                    inspected += 1;
                    den += 1.0 / pi;
                    if k == "problem_corrected" {
                        viol += 1;
                        num += 1.0 / pi;
                    }
                }
                None => {}
            }
        }
        assert_eq!(all["drawn"], drawn.len().to_string(), "{dep}");
        assert_eq!(all["inspected"], inspected.to_string(), "{dep}");
        assert_eq!(all["out_of_scope"], oos.to_string(), "{dep}");
        assert_eq!(
            all["pending"],
            (drawn.len() - inspected - oos).to_string(),
            "{dep}"
        );
        assert_eq!(all["violations"], viol.to_string(), "{dep}");
        let rate: f64 = all["rate"].parse().unwrap();
        assert!(
            (rate - num / den).abs() < 1e-12,
            "{dep}: {rate} vs {}",
            num / den
        );
        let (lo, hi): (f64, f64) = (
            all["ci_low"].parse().unwrap(),
            all["ci_high"].parse().unwrap(),
        );
        assert!(lo < rate && rate < hi, "{dep}: {lo} {rate} {hi}");
        // Every domain kind is there, and the districts' drawn counts add up.
        for kind in ["district", "credit_class", "tier"] {
            let sum: usize = est
                .iter()
                .filter(|r| r["department"] == dep && r["domain_kind"] == kind)
                .map(|r| r["drawn"].parse::<usize>().unwrap())
                .sum();
            assert_eq!(sum, drawn.len(), "{dep} {kind}");
        }
    }

    // The report shows them: rate and interval per department, lift per class as a chart.
    let o = w.run(&[
        "report",
        "s.csv",
        "--sample",
        "sample.csv",
        "--results",
        "est.csv",
        "-o",
        "r.html",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let page = std::fs::read_to_string(w.path("r.html")).unwrap();
    let found = &page[page
        .find("1b. What the inspections found")
        .expect("the section")..];
    let market = est
        .iter()
        .find(|r| r["department"] == "market" && r["domain_kind"] == "all")
        .unwrap();
    let rate: f64 = market["rate"].parse().unwrap();
    assert!(
        found.contains(&format!("{:.1}%", rate * 100.0)),
        "market rate missing"
    );
    let svg = found.find("<svg").expect("a chart");
    assert!(found[svg..].contains("Lift of risk targeting by credit class"));
    assert!(found.contains(&format!("<td class=\"n\">{}</td>", market["not_covered"])));

    // The public list: one row per accepted result, in sample order, with the English name.
    let public = rows(&w, "pub.csv");
    assert_eq!(public.len(), good);
    let seqs: Vec<u64> = public.iter().map(|r| r["seq"].parse().unwrap()).collect();
    assert!(seqs.windows(2).all(|p| p[0] <= p[1]));
    assert!(
        public
            .iter()
            .any(|r| r["result"] == "problem found; corrected on order")
    );

    // Labels: compliant and violation results only, design weight 1/π.
    let labels = rows(&w, "labels.csv");
    let labelled = res.iter().filter(|r| r.3 != "closed").count();
    assert_eq!(labels.len(), labelled);
    for l in &labels {
        let s = sample.iter().find(|s| s["uscc"] == l["uscc"]).unwrap();
        let pi: f64 = s[&format!("pi_{}", l["department"])].parse().unwrap();
        let wgt: f64 = l["design_weight"].parse().unwrap();
        assert!((wgt - 1.0 / pi).abs() < 1e-9 * wgt);
        assert!(l.contains_key("risk_score") && l.contains_key("credit_class"));
        assert!(l["violation"] == "0" || l["violation"] == "1");
    }

    // The labels train a model that learns the population: weighted by design_weight.
    let o = w.run(&[
        "train",
        "labels.csv",
        "--target",
        "violation",
        "--weight",
        "design_weight",
        "--exclude",
        "department,credit_class,credit_source,credit_points,credit_reasons",
        "-o",
        "v.json",
        "-q",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(out.contains("rows weighted by design_weight"), "{out}");
    assert!(out.contains("saved model refitted on all"), "{out}");
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("v.json")).unwrap()).unwrap();
    assert_eq!(model["training"]["weight_column"], "design_weight");
    assert_eq!(model["training"]["refit"], true);
    assert!(
        model["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["name"] != "design_weight")
    );

    // History: the old rows, then one onsite row per result (out of scope included).
    let h0 = rows(&w, "h.csv");
    let h2 = rows(&w, "h2.csv");
    assert_eq!(h2.len(), h0.len() + good);
    assert!(h2[h0.len()..].iter().all(|r| r["mode"] == "onsite"));

    // Next month, with that history, every visited unit is in cool-down: none is drawn again
    // by the department that visited it.
    let o = w.run(&[
        "sample",
        "s.csv",
        "--month",
        "2027-01",
        "--department",
        "joint",
        "--seed",
        "next",
        "--history",
        "h2.csv",
        "--capacity",
        "market=60,ecology=40",
        "-o",
        "next.csv",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let visited: HashSet<(String, String)> = res
        .iter()
        .map(|(u, d, _, _)| (u.clone(), d.clone()))
        .collect();
    let next = rows(&w, "next.csv");
    for r in &next {
        for d in r["departments"].split('+') {
            assert!(
                !visited.contains(&(r["uscc"].clone(), d.to_string())),
                "{} drawn again by {d}",
                r["uscc"]
            );
        }
    }
    // And the manifest counts them: more units in cool-down than with the old history.
    let o = w.run(&[
        "sample",
        "s.csv",
        "--month",
        "2027-01",
        "--department",
        "joint",
        "--seed",
        "next",
        "--history",
        "h.csv",
        "--capacity",
        "market=60,ecology=40",
        "-o",
        "next0.csv",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let cooldown = |f: &str| -> u64 {
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(w.path(f)).unwrap()).unwrap();
        m["departments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["exclusions"]["cooldown"].as_u64().unwrap())
            .sum()
    };
    assert!(cooldown("next.manifest.json") > cooldown("next0.manifest.json"));
}

#[test]
fn a_changed_sample_is_refused() {
    let w = Work::new();
    setup(&w);
    let sample = rows(&w, "sample.csv");
    w.write(
        "results.csv",
        format!(
            "uscc,month,department,inspected_on,result\n{},2026-12,market,2026-12-03,no_problem\n",
            sample[0]["uscc"]
        ),
    );
    // Drop the last unit from the sample.
    let text0 = std::fs::read_to_string(w.path("sample.csv")).unwrap();
    let mut lines: Vec<&str> = text0.lines().collect();
    lines.pop();
    w.write("sample.csv", lines.join("\n") + "\n");
    let o = w.run(&[
        "results",
        "sample.manifest.json",
        "results.csv",
        "-o",
        "est.csv",
        "-q",
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("does not match its manifest"), "{err}");
    assert!(!w.path("est.csv").exists());
}

#[test]
fn chinese_headers_and_names_in_and_out() {
    let w = Work::new();
    setup(&w);
    let sample = rows(&w, "sample.csv");
    let mut csv = String::from("统一社会信用代码,抽查月份,检查部门,检查日期,检查结果\n");
    for (i, r) in sample.iter().enumerate() {
        let d = r["departments"].split('+').next().unwrap();
        let dep = if d == "market" {
            "市场监管"
        } else {
            "生态环境"
        };
        let result = if i % 2 == 0 {
            "未发现问题"
        } else {
            "发现问题经责令已改正"
        };
        csv += &format!("{},2026-12,{dep},2026-12-1{},{result}\n", r["uscc"], i % 10);
    }
    w.write("结果.csv", csv);
    let o = w.run(&[
        "results",
        "sample.manifest.json",
        "结果.csv",
        "-o",
        "估计.csv",
        "--public",
        "公示.csv",
        "--lang",
        "zh",
        "-q",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(
        out.contains(&format!("accepted {} + rejected 0", sample.len())),
        "{out}"
    );
    let est = read_csv(&w.path("估计.csv"));
    assert_eq!(&est[0][..4], ["抽查月份", "检查部门", "范围类型", "范围"]);
    assert_eq!(&est[1][..4], ["2026-12", "市场监管", "全部", "全部"]);
    assert!(
        est.iter()
            .any(|r| r[2] == "企业梯度" && r[3] == "创新型中小企业")
    );
    let public = rows(&w, "公示.csv");
    assert_eq!(public.len(), sample.len());
    assert_eq!(public[0]["检查结果"], "未发现问题");
    assert_eq!(public[1]["检查结果"], "发现问题经责令已改正");
}
