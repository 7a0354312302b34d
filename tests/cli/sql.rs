//! `spotcheck sql` (cargo feature `datafusion`, SPEC §11): spotcheck's functions over the scored
//! output of data/sample agree with the columns `spotcheck score` wrote, row by row; the emissions
//! aggregate written as SQL agrees with score's pollution equivalents; bad queries and tables
//! fail with a sentence and exit 2.

use super::{Work, read_csv, repo, text};

/// Scores data/sample (3000 enterprises, with emissions) into `scored.parquet`.
fn score(w: &Work) {
    let data = repo().join("data/sample");
    let o = w.run(&[
        "score",
        data.join("enterprises.csv").to_str().unwrap(),
        "--emissions",
        data.join("emissions.csv").to_str().unwrap(),
        "-o",
        "scored.parquet",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
}

/// Runs `spotcheck sql` writing `out` (CSV) and returns its rows, header first.
fn sql(w: &Work, extra: &[&str], query: &str, out: &str) -> Vec<Vec<String>> {
    let mut args = vec!["sql", query, "-o", out];
    args.extend_from_slice(extra);
    let o = w.run(&args);
    assert_eq!(o.status.code(), Some(0), "{query}: {:?}", text(&o));
    read_csv(&w.path(out))
}

#[test]
fn functions_agree_with_the_scored_columns_on_every_row() {
    let w = Work::new();
    score(&w);
    let ent = repo().join("data/sample/enterprises.csv");
    let table = format!("e={}", ent.display());
    // Each count is of rows where the function and score's column disagree; all must be 0, over
    // all 3000 rows (the join finds every one).
    let rows = sql(
        &w,
        &["--table", &table, "--table", "s=scored.parquet"],
        "SELECT count(*) AS n,
           sum(CASE WHEN spotcheck_market_ratio(s.credit_class, s.tier) <> s.market_ratio THEN 1 ELSE 0 END) AS market,
           sum(CASE WHEN spotcheck_market_max_per_year(s.credit_class, s.tier) <> s.market_max_per_year THEN 1 ELSE 0 END) AS market_max,
           sum(CASE WHEN spotcheck_emission_band(s.pe_total) <> s.emission_band THEN 1 ELSE 0 END) AS band,
           sum(CASE WHEN spotcheck_risk_score(s.credit_class, s.env_risk_level, s.emission_band) <> s.risk_score THEN 1 ELSE 0 END) AS risk,
           sum(CASE WHEN spotcheck_positive_list(s.tier, s.emission_band, s.env_risk_level, e.env_penalties_24m, e.env_incidents_24m, e.permit_class, e.online_monitoring, s.credit_class) <> s.positive_list THEN 1 ELSE 0 END) AS listed,
           sum(CASE WHEN spotcheck_eco_ratio(s.tier, s.emission_band, s.env_risk_level, e.env_penalties_24m, e.env_incidents_24m, e.permit_class, e.online_monitoring, s.credit_class) <> s.eco_ratio THEN 1 ELSE 0 END) AS eco,
           sum(CASE WHEN s.env_risk_source = 'computed' AND spotcheck_hj941_detail(e.air_q, e.air_m, e.air_e, e.water_q, e.water_m, e.water_e, e.env_serious_violation_36m) <> s.env_risk_detail THEN 1 ELSE 0 END) AS hj941,
           sum(CASE WHEN s.env_risk_source = 'computed' THEN 1 ELSE 0 END) AS computed,
           sum(CASE WHEN s.positive_list THEN 1 ELSE 0 END) AS on_list,
           sum(CASE WHEN spotcheck_uscc_valid(s.uscc) THEN 1 ELSE 0 END) AS valid
         FROM s JOIN e ON s.uscc = e.uscc",
        "check.csv",
    );
    assert_eq!(
        rows[0],
        [
            "n",
            "market",
            "market_max",
            "band",
            "risk",
            "listed",
            "eco",
            "hj941",
            "computed",
            "on_list",
            "valid"
        ]
    );
    let v: Vec<u64> = rows[1].iter().map(|c| c.parse().unwrap()).collect();
    assert_eq!(v[0], 3000, "every scored row joined");
    assert_eq!(
        &v[1..8],
        &[0, 0, 0, 0, 0, 0, 0],
        "disagreements: {:?}",
        rows[1]
    );
    assert!(
        v[8] > 0,
        "some levels were computed by HJ 941: {:?}",
        rows[1]
    );
    assert!(
        v[9] > 0,
        "some enterprises are on the positive list: {:?}",
        rows[1]
    );
    assert_eq!(v[10], 3000, "data/sample's codes are all valid");
}

#[test]
fn the_emissions_aggregate_in_sql_gives_scores_pollution_equivalents() {
    let w = Work::new();
    score(&w);
    let em = repo().join("data/sample/emissions.csv");
    let totals = spotcheck::sql::emission_totals_sql("em");
    let query = format!(
        "WITH t AS ({totals})
         SELECT count(*) AS n,
           sum(CASE WHEN abs(t.pe_total - s.pe_total) > 1e-9 * greatest(1.0, s.pe_total) THEN 1 ELSE 0 END) AS off,
           sum(CASE WHEN t.pe_total = s.pe_total THEN 1 ELSE 0 END) AS exact
         FROM t JOIN 'scored.parquet' s ON t.uscc = s.uscc"
    );
    let rows = sql(
        &w,
        &["--table", &format!("em={}", em.display())],
        &query,
        "pe.csv",
    );
    let v: Vec<u64> = rows[1].iter().map(|c| c.parse().unwrap()).collect();
    assert!(v[0] > 100, "enterprises with emissions: {:?}", rows[1]);
    assert_eq!(
        v[1], 0,
        "totals off by more than 1e-9 relative: {:?}",
        rows[1]
    );
    // The summation order of SQL's SUM is not the library's; most totals still agree exactly.
    assert!(v[2] * 2 > v[0], "{:?}", rows[1]);
}

#[test]
fn a_result_is_printed_as_a_table_and_bad_input_fails_clearly() {
    let w = Work::new();
    let o = w.run(&[
        "sql",
        "SELECT spotcheck_market_ratio('A类', '小巨人') AS r, spotcheck_pi(0.3) AS pi",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("| 0.015 |"), "{out}");
    assert!(out.contains("0.024999999999999998"), "{out}");
    assert!(out.ends_with("1 row(s)\n"), "{out}");

    let o = w.run(&["sql", "SELECT spotcheck_market_ratio('E', 'none')"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("\"E\" is not a credit risk class"), "{err}");

    let o = w.run(&["sql", "SELECT * FROM t", "--table", "t=missing.parquet"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("missing.parquet"), "{err}");

    let o = w.run(&["sql", "SELECT 1", "--table", "nofile"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("expected NAME=FILE"), "{:?}", text(&o));

    // A failed query writes no output.
    let o = w.run(&["sql", "SELEC 1", "-o", "out.csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!w.path("out.csv").exists());
}

/// Runs a query that must fail: exit 2, one line on stderr containing `expect`, no Rust debug
/// text, and no `out` file when one was asked for.
fn fails(w: &Work, args: &[&str], expect: &str) {
    let o = w.run(args);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {out} {err}");
    assert!(err.contains(expect), "{args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    for debug in [
        "ParserError(",
        "Os {",
        "tonic",
        "panicked",
        "Parquet error: Parquet error",
    ] {
        assert!(!err.contains(debug), "{args:?}: {err}");
    }
    assert!(
        w.files().iter().all(|f| !f.starts_with("out")),
        "{args:?} left {:?}",
        w.files()
    );
}

#[test]
fn an_analyst_queries_the_chinese_workbook_and_bad_queries_are_one_sentence() {
    let w = Work::new();
    let data = repo().join("data/sample");
    let ent = data.join("enterprises.csv").display().to_string();
    let o = w.run(&[
        "score",
        &ent,
        "--emissions",
        data.join("emissions.csv").to_str().unwrap(),
        "-o",
        "scored.xlsx",
        "--lang",
        "zh",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    // Chinese column names unquoted, the result written as XLSX, Parquet and CSV, then read back.
    let q = "SELECT 所属区, count(*) AS n, max(综合风险分) AS top FROM s GROUP BY 所属区 \
             ORDER BY 所属区";
    for out in ["d.xlsx", "d.parquet", "d.csv"] {
        let o = w.run(&["sql", q, "--table", "s=scored.xlsx", "-o", out]);
        assert_eq!(o.status.code(), Some(0), "{out}: {:?}", text(&o));
    }
    let rows = sql(
        &w,
        &["--table", "x=d.xlsx"],
        "SELECT a.所属区, a.n, b.n AS n2, c.n AS n3 FROM x a \
         JOIN 'd.parquet' b ON a.所属区 = b.所属区 JOIN 'd.csv' c ON a.所属区 = c.所属区 \
         ORDER BY a.所属区",
        "back.csv",
    );
    assert_eq!(rows[0], ["所属区", "n", "n2", "n3"]);
    assert!(rows.len() > 3, "{rows:?}");
    let total: u64 = rows[1..].iter().map(|r| r[1].parse::<u64>().unwrap()).sum();
    assert_eq!(total, 3000);
    assert!(rows[1..].iter().all(|r| r[1] == r[2] && r[1] == r[3]));

    // Printed: a table with the Chinese headers, at most 50 rows and a sentence for the rest.
    let o = w.run(&["sql", "SELECT 企业名称 FROM s", "--table", "s=scored.xlsx"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("| 企业名称"), "{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("| ")).count(), 51);
    assert!(
        out.ends_with(
            "3000 row(s); the first 50 shown (--max-rows 0 prints all, -o FILE writes all)\n"
        ),
        "{out}"
    );
    let o = w.run(&[
        "sql",
        "SELECT 企业名称 FROM s",
        "--table",
        "s=scored.xlsx",
        "--max-rows",
        "0",
    ]);
    assert_eq!(
        text(&o).0.lines().filter(|l| l.starts_with("| ")).count(),
        3001
    );

    // Bad input: exit 2, one sentence, no output file.
    w.write("bad.parquet", "not,parquet\n");
    let t = format!("t={ent}");
    for (args, expect) in [
        (
            &["sql", "SELEC 1", "-o", "out.csv"][..],
            "the query is not valid SQL: Expected",
        ),
        (
            &["sql", "SELECT * FROM nope", "-o", "out.csv"],
            "no table named nope",
        ),
        (
            &["sql", "SELECT nocol FROM t", "--table", &t, "-o", "out.csv"],
            "No field named nocol",
        ),
        (
            &["sql", "SELECT foo(1)", "-o", "out.csv"],
            "Invalid function 'foo'",
        ),
        (
            &["sql", "SELECT * FROM 'missing.parquet'", "-o", "out.csv"],
            "missing.parquet: no such table file",
        ),
        (
            &["sql", "SELECT * FROM 'scored.xlsx'", "-o", "out.csv"],
            "register this one with --table t=scored.xlsx",
        ),
        (
            &[
                "sql",
                "SELECT * FROM t",
                "--table",
                "t=bad.parquet",
                "-o",
                "out.csv",
            ],
            "not a Parquet file spotcheck can read",
        ),
        (
            &["sql", "SELECT 1", "--table", "scored.parquet"],
            "expected NAME=FILE",
        ),
        (
            &["sql", "SELECT 1", "-o", "nodir/out.csv"],
            "the folder nodir does not exist",
        ),
        (
            &["sql", "SELECT 1", "-o", "out.docx"],
            "unknown file format \"docx\"",
        ),
    ] {
        fails(&w, args, expect);
    }
}
