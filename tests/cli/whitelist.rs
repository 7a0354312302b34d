//! `spotcheck whitelist` end to end: a first list from a scored file, then the next period with
//! that list as --previous, where a penalty removes an enterprise with its reason.

use super::{Work, read_csv, text};

#[test]
fn lifecycle_over_two_periods() {
    let w = Work::new();
    let o = w.run(&[
        "gen",
        "--rows",
        "3000",
        "--seed",
        "11",
        "-o",
        "e.csv",
        "--emissions",
        "m.csv",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let o = w.run(&[
        "score",
        "e.csv",
        "--emissions",
        "m.csv",
        "-o",
        "s1.csv",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let o = w.run(&[
        "whitelist",
        "s1.csv",
        "--as-of",
        "2026-06-01",
        "-o",
        "list1.xlsx",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let o = w.run(&[
        "whitelist",
        "s1.csv",
        "--as-of",
        "2026-06-01",
        "-o",
        "list1.csv",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let list1 = read_csv(&w.path("list1.csv"));
    assert_eq!(
        list1[0][..7],
        [
            "uscc",
            "name",
            "district",
            "status",
            "listed_on",
            "expires_on",
            "reasons"
        ]
    );
    assert!(list1.len() > 10, "some enterprises are listed");
    assert!(
        list1[1..]
            .iter()
            .all(|r| r[3] == "new" && r[4] == "2026-06-01" && r[5] == "2029-06-01")
    );
    let victim = list1[1][0].clone();

    // Next period: the first listed enterprise gets a penalty.
    let ent = std::fs::read_to_string(w.path("e.csv")).unwrap();
    let header: Vec<&str> = ent.lines().next().unwrap().split(',').collect();
    let pen = header
        .iter()
        .position(|h| *h == "env_penalties_24m")
        .unwrap();
    let edited: Vec<String> = ent
        .lines()
        .map(|l| {
            if l.starts_with(&victim) {
                let mut cells: Vec<&str> = l.split(',').collect();
                cells[pen] = "1";
                cells.join(",")
            } else {
                l.to_string()
            }
        })
        .collect();
    w.write("e2.csv", edited.join("\n") + "\n");
    let o = w.run(&[
        "score",
        "e2.csv",
        "--emissions",
        "m.csv",
        "-o",
        "s2.csv",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let o = w.run(&[
        "whitelist",
        "s2.csv",
        "--as-of",
        "2026-12-01",
        "--previous",
        "list1.xlsx",
        "-o",
        "list2.csv",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let list2 = read_csv(&w.path("list2.csv"));
    let row = list2
        .iter()
        .find(|r| r[0] == victim)
        .expect("the victim is in the new list file");
    assert_eq!(row[3], "removed");
    assert!(row[6].contains("ECO_PENALTY"), "{row:?}");
    let retained = list2.iter().filter(|r| r[3] == "retained").count();
    assert_eq!(retained, list1.len() - 2, "everyone else stays: {out}");
    // Chinese reasons in the Chinese CSV.
    let o = w.run(&[
        "whitelist",
        "s2.csv",
        "--as-of",
        "2026-12-01",
        "--previous",
        "list1.xlsx",
        "-o",
        "zh.csv",
        "--lang",
        "zh",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let zh = std::fs::read_to_string(w.path("zh.csv")).unwrap();
    assert!(zh.contains("近24个月受到生态环境行政处罚"), "{zh}");
}

#[test]
fn bad_previous_list_is_a_clear_error() {
    let w = Work::new();
    let o = w.run(&["gen", "--rows", "500", "--seed", "1", "-o", "e.csv"]);
    assert_eq!(o.status.code(), Some(0));
    let o = w.run(&["score", "e.csv", "-o", "s.csv", "-q"]);
    assert_eq!(o.status.code(), Some(0));
    w.write("prev.csv", "uscc,name,district,listed_on,expires_on\n91110108EXAMPLE008,甲,海淀区,2026-02-30,2029-02-28\n");
    let o = w.run(&[
        "whitelist",
        "s.csv",
        "--as-of",
        "2026-06-01",
        "--previous",
        "prev.csv",
        "-o",
        "l.csv",
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("prev.csv") && err.contains("2026-02-30"),
        "{err}"
    );
    assert!(!w.path("l.csv").exists());
}

#[test]
fn a_scored_file_with_a_title_row_and_a_total_row_gives_the_same_list() {
    let w = Work::new();
    let o = w.run(&[
        "gen",
        "--rows",
        "400",
        "--seed",
        "12",
        "-o",
        "e.csv",
        "--emissions",
        "m.csv",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let o = w.run(&[
        "score",
        "e.csv",
        "--emissions",
        "m.csv",
        "-o",
        "s.csv",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    // As an analyst hands it back after opening it in Excel: a title above, a total below.
    let plain = std::fs::read_to_string(w.path("s.csv")).unwrap();
    let pad = ",".repeat(plain.lines().next().unwrap().split(',').count() - 2);
    w.write(
        "titled.csv",
        format!("2026年12月 评分结果,{pad}\n{plain},{pad}\n合计,400{pad}\n"),
    );
    let args = |input: &'static str, out: &'static str| {
        ["whitelist", input, "--as-of", "2026-12-01", "-o", out]
    };
    let o = w.run(&args("s.csv", "plain-list.csv"));
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let o = w.run(&args("titled.csv", "titled-list.csv"));
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("read 400 scored enterprises"), "{out}");
    assert!(
        out.contains("(header found on row 2; skipped 2 blank or total rows)"),
        "{out}"
    );
    let plain_list = read_csv(&w.path("plain-list.csv"));
    assert!(plain_list.len() > 1, "the sample must list someone");
    assert_eq!(plain_list, read_csv(&w.path("titled-list.csv")));
}
