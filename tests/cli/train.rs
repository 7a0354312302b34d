//! `spotcheck train` and `spotcheck evaluate` end to end: a model trained on generated data
//! recovers the classes well above chance, is byte-identical when retrained, scores enterprises
//! without a class in `score --model`, and a table without the features fails clearly.

use super::{Work, read_csv, text};

#[test]
fn train_evaluate_and_score_with_the_model() {
    let w = Work::new();
    for (seed, out) in [("3", "train.csv"), ("4", "next.csv")] {
        let o = w.run(&["gen", "--rows", "6000", "--seed", seed, "-o", out]);
        assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    }
    let o = w.run(&[
        "train",
        "train.csv",
        "--target",
        "credit_class",
        "--exclude",
        "district,industry",
        "-o",
        "m1.json",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("holdout"), "{out}");
    let o = w.run(&[
        "train",
        "train.csv",
        "--target",
        "credit_class",
        "--exclude",
        "district,industry",
        "-o",
        "m2.json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        std::fs::read(w.path("m1.json")).unwrap(),
        std::fs::read(w.path("m2.json")).unwrap(),
        "same data and seed, same bytes"
    );

    let o = w.run(&[
        "evaluate",
        "next.csv",
        "--model",
        "m1.json",
        "--target",
        "credit_class",
        "--psi-against",
        "train.csv",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    // The C/D-vs-A/B AUC on fresh data is far above chance (0.5).
    let auc: f64 = out
        .split("AUC")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no AUC in {out}"));
    assert!(auc > 0.8, "AUC {auc}: {out}");
    assert!(out.contains("PSI") || out.contains("psi"), "{out}");

    // score --model: enterprises without a class get one from the model, with points and reasons.
    let o = w.run(&[
        "score", "next.csv", "--model", "m1.json", "-o", "s.csv", "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let rows = read_csv(&w.path("s.csv"));
    let h = &rows[0];
    let src = h.iter().position(|x| x == "credit_source").unwrap();
    let pts = h.iter().position(|x| x == "credit_points").unwrap();
    let why = h.iter().position(|x| x == "credit_reasons").unwrap();
    let model_rows: Vec<&Vec<String>> = rows[1..].iter().filter(|r| r[src] == "model").collect();
    assert!(
        !model_rows.is_empty(),
        "the generator leaves some classes empty"
    );
    let class = h.iter().position(|x| x == "credit_class").unwrap();
    for r in model_rows {
        assert!(r[pts].parse::<f64>().is_ok(), "{r:?}");
        // A risky class always comes with the features that pushed it there (an enterprise in
        // the best bin of every feature has none to name).
        if r[class] == "C" || r[class] == "D" {
            assert!(!r[why].is_empty(), "{r:?}");
        }
    }

    // A table without the model's features: a clear error naming them.
    w.write(
        "bare.csv",
        "uscc,name,district,tier\n91110108EXAMPLE008,甲,海淀区,none\n",
    );
    let o = w.run(&["score", "bare.csv", "--model", "m1.json", "-o", "x.csv"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("tax_credit_grade") || err.contains("abnormal_list_3y"),
        "{err}"
    );
    assert!(!w.path("x.csv").exists());
}
