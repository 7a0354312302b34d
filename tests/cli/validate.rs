//! `spotcheck validate`: exit codes 0/1/2, counts, and the rejects file's row, column and value.

use super::{Work, read_csv, text};

const HEADER: &str = "uscc,name,district,tier,credit_class\n";

#[test]
fn clean_file_exits_0() {
    let w = Work::new();
    w.write(
        "e.csv",
        format!("{HEADER}91110108EXAMPLE008,甲,海淀区,little_giant,A\n"),
    );
    let o = w.run(&["validate", "e.csv"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("read 1 = accepted 1 + rejected 0"), "{out}");
    assert!(out.contains("nothing rejected"));
}

#[test]
fn broken_rows_exit_1_and_name_row_column_value() {
    let w = Work::new();
    w.write(
        "e.csv",
        format!(
            "{HEADER}91110108EXAMPLE008,甲,海淀区,little_giant,A\n\
             91110108EXAMPLE0O8,乙,海淀区,none,B\n\
             91110108EXAMPLE008,丙,海淀区,none,B\n\
             91110105EXAMPLE011,丁,朝阳区,none,X\n\
             91110105EXAMPLE010,戊,火星区,none,C\n"
        ),
    );
    let o = w.run(&["validate", "e.csv", "--rejects", "bad.csv"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(out.contains("read 5 = accepted 1 + rejected 4"), "{out}");
    let rows = read_csv(&w.path("bad.csv"));
    assert_eq!(
        rows[0],
        vec!["file", "row", "column", "value", "reason", "detail"]
    );
    let got: Vec<(&str, &str, &str, &str)> = rows[1..]
        .iter()
        .map(|r| (r[1].as_str(), r[2].as_str(), r[3].as_str(), r[4].as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("2", "uscc", "91110108EXAMPLE0O8", "USCC_MALFORMED"),
            ("3", "uscc", "91110108EXAMPLE008", "USCC_DUPLICATE"),
            ("4", "credit_class", "X", "CREDIT_CLASS_INVALID"),
            ("5", "district", "火星区", "DISTRICT_UNKNOWN"),
        ]
    );
}

#[test]
fn unusable_inputs_exit_2_with_clear_errors() {
    let w = Work::new();
    w.write(
        "nodistrict.csv",
        "uscc,name,tier\n91110108EXAMPLE008,甲,none\n",
    );
    let o = w.run(&["validate", "nodistrict.csv"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("nodistrict.csv") && err.contains("\"district\"") && err.contains("所属区"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    w.write("empty.csv", "");
    let o = w.run(&["validate", "empty.csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("empty.csv"));

    let o = w.run(&["validate", "missing.csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("missing.csv"));

    w.write(
        "garbage.parquet",
        [0u8, 159, 146, 150, 1, 2, 3, 255].repeat(100),
    );
    let o = w.run(&["validate", "garbage.parquet"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("garbage.parquet") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn gb18030_needs_the_flag() {
    let w = Work::new();
    let (bytes, _, _) = encoding_rs::GB18030.encode(
        "统一社会信用代码,企业名称,所属区,企业梯度\n91110108EXAMPLE008,示例,海淀区,小巨人\n",
    );
    w.write("gbk.csv", &bytes);
    let o = w.run(&["validate", "gbk.csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("gb18030"), "{}", text(&o).1);
    let o = w.run(&["validate", "gbk.csv", "--encoding", "gb18030"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
}

#[test]
fn strict_stops_at_first_rejection() {
    let w = Work::new();
    w.write(
        "e.csv",
        format!(
            "{HEADER}91110108EXAMPLE008,甲,海淀区,none,A\n91110108EXAMPLE0O8,乙,海淀区,none,B\n"
        ),
    );
    let o = w.run(&["validate", "e.csv", "--strict"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("row 2") && err.contains("--strict"), "{err}");
}

#[test]
fn emissions_orphans_and_unknown_pollutants() {
    let w = Work::new();
    w.write(
        "e.csv",
        format!("{HEADER}91110108EXAMPLE008,甲,海淀区,none,A\n"),
    );
    w.write(
        "m.csv",
        "uscc,outlet,medium,pollutant,amount_kg\n\
         91110108EXAMPLE008,DA001,air,so2,10\n\
         91110108EXAMPLE008,DA001,大气,二氧化硫,5\n\
         91110108EXAMPLE008,DA001,air,unobtainium,5\n\
         91110108EXAMPLE008,DW001,water,cod,-1\n\
         91110105EXAMPLE010,DA001,air,so2,1\n",
    );
    let o = w.run(&[
        "validate",
        "e.csv",
        "--emissions",
        "m.csv",
        "--rejects",
        "r.csv",
    ]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("m.csv: read 5 = accepted 2 + rejected 3"),
        "{out}"
    );
    assert!(out.contains("orphans"), "{out}");
    let rows = read_csv(&w.path("r.csv"));
    assert_eq!(
        rows[1][1..5],
        ["3", "pollutant", "unobtainium", "POLLUTANT_UNKNOWN"]
    );
    assert_eq!(rows[2][1..5], ["4", "amount_kg", "-1", "NUMBER_NEGATIVE"]);
    assert_eq!(
        rows[3][1..5],
        ["5", "uscc", "91110105EXAMPLE010", "EMISSION_ORPHAN"]
    );
}
