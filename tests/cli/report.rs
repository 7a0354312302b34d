//! `spotcheck report` end to end: the page of a generated and scored Beijing is well-formed HTML,
//! self-contained (no URL, script, import or external reference), and its numbers equal the ones
//! computed here from the scored file; the text of the page made from the hand-made files of
//! tests/golden/report/ equals the golden text (English and Chinese); the language follows the
//! scored file's headers; names are escaped; bad inputs fail naming the file and the column and
//! leave nothing behind.
//!
//! Set SPOTCHECK_UPDATE_GOLDEN=1 to rewrite the golden texts after an intended change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Work, read_csv, repo, text};

fn golden_dir() -> PathBuf {
    repo().join("tests/golden/report")
}

/// Decodes the five entities the page writes.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Elements that have no end tag in HTML.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Checks that every element is closed in order, quotes in tags are balanced and no raw `<` is
/// left in text (everything from files is escaped). Returns the tag names in document order.
fn check_balanced(html: &str) -> Vec<String> {
    let mut stack: Vec<String> = Vec::new();
    let mut names = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let after = &rest[i + 1..];
        if let Some(c) = after.strip_prefix("!--") {
            let end = c.find("-->").expect("comment closed");
            rest = &c[end + 3..];
            continue;
        }
        let end = after.find('>').expect("tag closed with >");
        let tag = &after[..end];
        rest = &after[end + 1..];
        assert!(!tag.contains('<'), "a '<' inside a tag: <{tag}>");
        assert_eq!(
            tag.matches('"').count() % 2,
            0,
            "unbalanced quotes in <{tag}>"
        );
        if tag.starts_with('!') {
            assert!(tag.eq_ignore_ascii_case("!DOCTYPE html"), "<{tag}>");
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("</{name}> closes nothing"));
            assert_eq!(open, name.trim(), "</{name}> closes <{open}>");
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>();
        assert!(!name.is_empty(), "a '<' that starts no tag: <{tag}>");
        names.push(name.clone());
        if tag.ends_with('/') || VOID.contains(&name.as_str()) {
            continue;
        }
        if name == "style" {
            let end = rest.find("</style>").expect("style closed");
            rest = &rest[end + "</style>".len()..];
            continue;
        }
        stack.push(name);
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    names
}

/// Everything that would make the page reach outside itself.
fn check_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for bad in [
        "http://",
        "https://",
        "<script",
        "@import",
        "url(",
        "src=",
        "href=",
        "<link",
        "<iframe",
        "<object",
        "<embed",
        "@font-face",
        "javascript:",
    ] {
        assert!(!lower.contains(bad), "the page contains {bad:?}");
    }
}

/// The tables of the page: rows of cell texts (header row first), tags stripped and unescaped.
fn tables(html: &str) -> Vec<Vec<Vec<String>>> {
    html.split("<table")
        .skip(1)
        .map(|t| {
            let t = t.split("</table>").next().unwrap_or("");
            let t = &t[t.find('>').map_or(0, |i| i + 1)..];
            t.split("<tr")
                .skip(1)
                .map(|r| {
                    r.split("</tr>")
                        .next()
                        .unwrap_or("")
                        .split("</t")
                        .filter_map(|c| {
                            let start = c.rfind("<td").or_else(|| c.rfind("<th"))?;
                            let c = &c[start..];
                            let body = &c[c.find('>')? + 1..];
                            Some(unescape(&strip_tags(body)).trim().to_string())
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The table whose header row starts with these cells.
fn table_with<'a>(ts: &'a [Vec<Vec<String>>], head: &[&str]) -> &'a Vec<Vec<String>> {
    ts.iter()
        .find(|t| {
            t.first()
                .is_some_and(|h| h.len() >= head.len() && h.iter().zip(head).all(|(a, b)| a == b))
        })
        .unwrap_or_else(|| panic!("no table headed {head:?}"))
}

/// The cell of the row whose first cell is `row`, in the column headed `col`.
fn cell<'a>(t: &'a [Vec<String>], row: &str, col: &str) -> &'a str {
    let j = t[0]
        .iter()
        .position(|h| h == col)
        .unwrap_or_else(|| panic!("no column {col:?} in {:?}", t[0]));
    let r = t
        .iter()
        .find(|r| r.first().is_some_and(|c| c == row))
        .unwrap_or_else(|| panic!("no row {row:?}"));
    &r[j]
}

/// The page's text content, one block per line: tags stripped, cells separated by " | ", the
/// stylesheet left out. What the golden files hold.
fn text_of(html: &str) -> String {
    let mut s = html.to_string();
    if let (Some(a), Some(b)) = (s.find("<style>"), s.find("</style>")) {
        s.replace_range(a..b + "</style>".len(), "");
    }
    for end in [
        "</tr>",
        "</p>",
        "</h1>",
        "</h2>",
        "</h3>",
        "</div>",
        "</b>",
        "</title>",
        "</text>",
        "</footer>",
        "</svg>",
    ] {
        s = s.replace(end, &format!("{end}\n"));
    }
    s = s.replace("</td>", " | ").replace("</th>", " | ");
    let s = unescape(&strip_tags(&s));
    s.lines()
        .map(|l| l.trim().trim_end_matches('|').trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Generates 2000 enterprises (seed 1) with emissions and scores them without a model.
fn generated(w: &Work, scored: &str, extra: &[&str]) {
    let o = w.run(&[
        "gen",
        "--rows",
        "2000",
        "--seed",
        "1",
        "-o",
        "e.csv",
        "--emissions",
        "m.csv",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let mut args = vec![
        "score",
        "e.csv",
        "--emissions",
        "m.csv",
        "-o",
        scored,
        "--no-model",
        "-q",
    ];
    args.extend_from_slice(extra);
    let o = w.run(&args);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
}

/// Rows of a CSV as header → value maps.
fn records(path: &Path) -> Vec<BTreeMap<String, String>> {
    let rows = read_csv(path);
    rows[1..]
        .iter()
        .map(|r| rows[0].iter().cloned().zip(r.iter().cloned()).collect())
        .collect()
}

#[test]
fn the_page_of_a_scored_beijing_is_self_contained_html_with_the_scored_numbers() {
    let w = Work::new();
    generated(&w, "scored.csv", &[]);
    let o = w.run(&[
        "whitelist",
        "scored.csv",
        "--as-of",
        "2026-12-01",
        "-o",
        "list.csv",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let scored = records(&w.path("scored.csv"));

    // A hand-made sample: the first three 海淀 enterprises and the first 朝阳 one.
    let pick = |d: &str, n: usize| -> Vec<&BTreeMap<String, String>> {
        scored
            .iter()
            .filter(|r| r["district"] == d)
            .take(n)
            .collect()
    };
    let mut sample = String::from("seq,uscc,name,district,departments,inspectors\n");
    let deps = ["market", "ecology", "market+ecology"];
    for (i, r) in pick("110108", 3)
        .into_iter()
        .chain(pick("110105", 1))
        .enumerate()
    {
        sample.push_str(&format!(
            "{},{},{},{},{},M{i:03}\n",
            i + 1,
            r["uscc"],
            r["name"],
            r["district"],
            deps[i % 3]
        ));
    }
    w.write("sample.csv", sample);

    let o = w.run(&[
        "report",
        "scored.csv",
        "--sample",
        "sample.csv",
        "--whitelist",
        "list.csv",
        "--month",
        "2026-12",
        "-o",
        "report.html",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("2000 enterprises"), "{out}");
    let html = std::fs::read_to_string(w.path("report.html")).expect("report written");
    let names = check_balanced(&html);
    for once in ["html", "head", "body", "style"] {
        assert_eq!(
            names.iter().filter(|n| *n == once).count(),
            1,
            "<{once}> once"
        );
    }
    assert!(names.iter().filter(|n| *n == "svg").count() >= 7, "charts");
    check_self_contained(&html);
    assert!(html.contains("@media print"));
    assert!(
        html.contains("<html lang=\"en\">"),
        "English headers → English page"
    );
    // Nothing but the page is left in the folder.
    assert!(
        !w.files().iter().any(|f| f.ends_with(".tmp")),
        "{:?}",
        w.files()
    );

    let ts = tables(&html);
    // Total and class A, from the district-by-class table's total row.
    let by_class = table_with(&ts, &["District", "Code", "Enterprises", "A"]);
    assert_eq!(cell(by_class, "Total", "Enterprises"), "2000");
    let class_a = scored.iter().filter(|r| r["credit_class"] == "A").count();
    assert_eq!(cell(by_class, "Total", "A"), class_a.to_string());
    let class_d_haidian = scored
        .iter()
        .filter(|r| r["credit_class"] == "D" && r["district"] == "110108")
        .count();
    assert_eq!(cell(by_class, "海淀区", "D"), class_d_haidian.to_string());
    // The positive list: everyone eligible is new (no previous list).
    let eligible = scored
        .iter()
        .filter(|r| r["positive_list"] == "true")
        .count();
    assert!(eligible > 0);
    let statuses = table_with(&ts, &["Status", "Enterprises"]);
    assert_eq!(
        cell(
            statuses,
            "On the list (new + retained + renewed)",
            "Enterprises"
        ),
        eligible.to_string()
    );
    assert_eq!(cell(statuses, "new", "Enterprises"), eligible.to_string());
    assert_eq!(
        cell(by_class, "Total", "Positive-list eligible"),
        eligible.to_string()
    );
    // Σπ of 海淀, SPEC §4 step 2: Σ min(1, ratio / 12) over its enterprises, in file order.
    let pi = |col: &str, d: &str| -> f64 {
        scored
            .iter()
            .filter(|r| r["district"] == d)
            .map(|r| (r[col].parse::<f64>().expect("ratio") / 12.0).min(1.0))
            .sum()
    };
    let insp = table_with(&ts, &["District", "Code", "Enterprises", "Market expected"]);
    assert_eq!(
        cell(insp, "海淀区", "Market expected"),
        format!("{:.2}", pi("market_ratio", "110108"))
    );
    assert_eq!(
        cell(insp, "朝阳区", "Ecology expected"),
        format!("{:.2}", pi("eco_ratio", "110105"))
    );
    // Drawn, from the hand-made sample: 海淀 market, ecology, joint; 朝阳 market.
    assert_eq!(cell(insp, "海淀区", "Market drawn"), "2");
    assert_eq!(cell(insp, "海淀区", "Ecology drawn"), "2");
    assert_eq!(cell(insp, "海淀区", "Joint drawn"), "1");
    assert_eq!(cell(insp, "海淀区", "Visits drawn"), "3");
    assert_eq!(cell(insp, "朝阳区", "Visits drawn"), "1");
    assert_eq!(cell(insp, "Total", "Visits drawn"), "4");
    assert_eq!(cell(insp, "东城区", "Visits drawn"), "0");
    // The drawn enterprises are listed by name.
    let first = pick("110108", 1)[0];
    assert!(html.contains(first["name"].as_str()));
}

fn golden_run(w: &Work, lang: &str) -> String {
    for f in ["scored.csv", "sample.csv", "list.csv", "previous.csv"] {
        std::fs::copy(golden_dir().join(f), w.path(f)).expect("copy fixture");
    }
    let o = w.run(&[
        "report",
        "scored.csv",
        "--sample",
        "sample.csv",
        "--whitelist",
        "list.csv",
        "--previous-scored",
        "previous.csv",
        "--month",
        "2026-12",
        "--lang",
        lang,
        "-o",
        "report.html",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    std::fs::read_to_string(w.path("report.html")).expect("report written")
}

fn compare_golden(got: &str, name: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("SPOTCHECK_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).expect("write golden");
        return;
    }
    let want =
        std::fs::read_to_string(&path).expect("golden file (SPOTCHECK_UPDATE_GOLDEN=1 writes it)");
    if got != want {
        let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
        let at = g
            .iter()
            .zip(&w)
            .position(|(a, b)| a != b)
            .unwrap_or(g.len().min(w.len()));
        panic!(
            "{name} differs at line {}:\n  got:  {:?}\n  want: {:?}\n(SPOTCHECK_UPDATE_GOLDEN=1 rewrites it)",
            at + 1,
            g.get(at),
            w.get(at)
        );
    }
}

#[test]
fn golden_text_of_the_hand_made_month() {
    for (lang, file) in [("en", "report.en.txt"), ("zh", "report.zh.txt")] {
        let w = Work::new();
        let html = golden_run(&w, lang);
        check_balanced(&html);
        check_self_contained(&html);
        compare_golden(&text_of(&html), file);
    }
}

#[test]
fn names_from_files_are_escaped() {
    let w = Work::new();
    let html = golden_run(&w, "en");
    // Enterprise 2 of the fixtures is named 北京<乙>&"丙"有限公司, and is drawn.
    assert!(html.contains("北京&lt;乙&gt;&amp;&quot;丙&quot;有限公司"));
    assert!(!html.contains("<乙>"));
    // A name that tries to be markup stays text.
    let sample = std::fs::read_to_string(w.path("sample.csv")).expect("sample");
    let sample = sample.replace(
        "北京庚电子有限公司",
        "<script>alert('x')</script><b onclick=\"y\">",
    );
    w.write("sample.csv", sample);
    let o = w.run(&[
        "report",
        "scored.csv",
        "--sample",
        "sample.csv",
        "-o",
        "r2.html",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let html = std::fs::read_to_string(w.path("r2.html")).expect("report");
    check_balanced(&html);
    check_self_contained(&html);
    assert!(html.contains(
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;b onclick=&quot;y&quot;&gt;"
    ));
}

#[test]
fn the_language_follows_the_scored_headers_unless_chosen() {
    let w = Work::new();
    generated(&w, "scored-zh.csv", &["--lang", "zh"]);
    let o = w.run(&["report", "scored-zh.csv", "-o", "zh.html"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let zh = std::fs::read_to_string(w.path("zh.html")).expect("report");
    assert!(zh.contains("<html lang=\"zh-CN\">"));
    assert!(zh.contains("差异化监管月度报告"));
    assert!(zh.contains("未提供抽查样本"), "no sample → said so");
    let ts = tables(&zh);
    let by_class = table_with(&ts, &["所属区", "区划代码", "企业数", "A类"]);
    assert_eq!(cell(by_class, "合计", "企业数"), "2000");
    let o = w.run(&["report", "scored-zh.csv", "--lang", "en", "-o", "en.html"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let en = std::fs::read_to_string(w.path("en.html")).expect("report");
    assert!(en.contains("<html lang=\"en\">"));
    assert!(!en.contains("差异化监管月度报告"));
    // The same numbers either way: the district tables agree cell for cell after the header.
    let en_t = tables(&en);
    let by_class_en = table_with(&en_t, &["District", "Code", "Enterprises", "A"]);
    assert_eq!(
        by_class[1..by_class.len() - 1],
        by_class_en[1..by_class_en.len() - 1]
    );
}

#[test]
fn a_sample_without_the_needed_columns_is_an_error_naming_file_and_column() {
    let w = Work::new();
    std::fs::copy(golden_dir().join("scored.csv"), w.path("scored.csv")).expect("copy");
    // A sample with uscc and district but no departments column.
    w.write(
        "sample.csv",
        "seq,uscc,district\n1,91110101MA0000006P,110101\n",
    );
    let o = w.run(&[
        "report",
        "scored.csv",
        "--sample",
        "sample.csv",
        "-o",
        "r.html",
    ]);
    let (out, err) = text(&o);
    assert_ne!(o.status.code(), Some(0), "{out}");
    assert!(
        err.contains("sample.csv") && err.contains("\"departments\"") && err.contains("检查部门"),
        "{err}"
    );
    assert!(!w.path("r.html").exists(), "no page after a failure");
    assert!(
        !w.files().iter().any(|f| f.ends_with(".tmp")),
        "{:?}",
        w.files()
    );

    // A bad departments cell names the row and the value.
    w.write(
        "sample.csv",
        "uscc,district,departments\n91110101MA0000006P,110101,税务\n",
    );
    let o = w.run(&[
        "report",
        "scored.csv",
        "--sample",
        "sample.csv",
        "-o",
        "r.html",
    ]);
    let (_, err) = text(&o);
    assert_ne!(o.status.code(), Some(0));
    assert!(err.contains("row 1") && err.contains("税务"), "{err}");

    // Not an HTML name, and the output may not overwrite an input.
    let o = w.run(&["report", "scored.csv", "-o", "r.csv"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(text(&o).1.contains(".html"), "{:?}", text(&o));
    let o = w.run(&["report", "scored.csv", "--month", "2026-13", "-o", "r.html"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(text(&o).1.contains("2026-13"), "{:?}", text(&o));
}

/// Writes the rows of a CSV (header first) into `sheet` of a workbook as a district bureau lays
/// it out: a title merged over the columns on row 1, the header on row `title_rows + 1`, the data
/// with a blank row after the first data row, and a `合计` row at the end; with `notes`, a sheet
/// `说明` of notes comes first. All cells are text, as exports often have them.
fn bureau_workbook(rows: &[Vec<String>], path: &Path, sheet: &str, notes: bool) {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    if notes {
        let n = wb.add_worksheet();
        n.set_name("说明").unwrap();
        n.write(0, 0, "本表由区生态环境局导出").unwrap();
        n.write(1, 0, "评分口径见政策文件").unwrap();
    }
    let s = wb.add_worksheet();
    s.set_name(sheet).unwrap();
    let width = rows[0].len() as u16;
    s.merge_range(0, 0, 0, width - 1, "2026年12月 评分结果", &Format::new())
        .unwrap();
    let mut r = 2u32;
    for (k, cells) in rows.iter().enumerate() {
        for (j, c) in cells.iter().enumerate() {
            s.write(r, j as u16, c.as_str()).unwrap();
        }
        r += 1;
        if k == 1 {
            r += 1; // a blank row between the first and the second enterprise
        }
    }
    s.write(r, 0, "合计").unwrap();
    s.write(r, 1, format!("{} 户", rows.len() - 1)).unwrap();
    wb.save(path).unwrap();
}

#[test]
fn a_bureau_workbook_is_read_with_sheet_and_the_xlsx_limit_holds() {
    let w = Work::new();
    for f in ["scored.csv", "sample.csv", "list.csv", "previous.csv"] {
        std::fs::copy(golden_dir().join(f), w.path(f)).expect("copy fixture");
    }
    let page = |scored: &str, extra: &[&str]| -> (String, String) {
        let mut args = vec![
            "report",
            scored,
            "--sample",
            "sample.csv",
            "--whitelist",
            "list.csv",
            "--previous-scored",
            "previous.csv",
            "--month",
            "2026-12",
            "--lang",
            "en",
            "-o",
            "r.html",
        ];
        args.extend_from_slice(extra);
        let o = w.run(&args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{out}{err}");
        let html = std::fs::read_to_string(w.path("r.html")).expect("page written");
        // The inputs table names the scored file and its hash: the one line that may differ.
        let body = text_of(&html)
            .lines()
            .filter(|l| !l.contains("scored.csv") && !l.contains("scored.xlsx"))
            .collect::<Vec<_>>()
            .join("\n");
        (body, out)
    };
    let (plain, _) = page("scored.csv", &[]);
    bureau_workbook(
        &read_csv(&w.path("scored.csv")),
        &w.path("scored.xlsx"),
        "评分结果",
        true,
    );

    // The data sheet named with --sheet: the same page; where the table was is said.
    let (named, out) = page("scored.xlsx", &["--sheet", "评分结果"]);
    assert_eq!(named, plain);
    assert!(
        out.contains("scored.xlsx: header found on row 3; skipped 2 blank or total rows"),
        "{out}"
    );
    // By number, and found without --sheet as the first sheet with the required columns.
    assert_eq!(page("scored.xlsx", &["--sheet", "2"]).0, plain);
    let (found, out) = page("scored.xlsx", &[]);
    assert_eq!(found, plain);
    assert!(
        out.contains(
            "scored.xlsx: sheet \"评分结果\" (the first with the required columns), header found on row 3"
        ),
        "{out}"
    );

    // The notes sheet named: exit 2 naming the file and the column, no page.
    std::fs::remove_file(w.path("r.html")).unwrap();
    let o = w.run(&["report", "scored.xlsx", "--sheet", "说明", "-o", "r.html"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(
        err.contains("scored.xlsx") && err.contains("missing required column"),
        "{err}"
    );
    assert!(!w.path("r.html").exists());

    // A workbook decompressing past --max-xlsx-bytes: exit 2 with a sentence naming the file
    // and the limit, no page.
    let o = w.run(&[
        "report",
        "scored.xlsx",
        "--max-xlsx-bytes",
        "2K",
        "-o",
        "r.html",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(
        err.contains("scored.xlsx") && err.contains("over the limit of 2 KiB"),
        "{err}"
    );
    assert!(!w.path("r.html").exists());
    assert!(
        !w.files().iter().any(|f| f.ends_with(".tmp")),
        "{:?}",
        w.files()
    );
    // The limit holds for every .xlsx input, the sample too.
    let sample = read_csv(&w.path("sample.csv"));
    bureau_workbook(&sample, &w.path("sample.xlsx"), "抽查名单", false);
    let o = w.run(&[
        "report",
        "scored.csv",
        "--sample",
        "sample.xlsx",
        "--max-xlsx-bytes",
        "2K",
        "-o",
        "r.html",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(
        err.contains("sample.xlsx") && err.contains("over the limit of 2 KiB"),
        "{err}"
    );
}

#[test]
fn a_sample_and_list_under_a_title_row_keep_their_row_numbers() {
    let w = Work::new();
    std::fs::copy(golden_dir().join("scored.csv"), w.path("scored.csv")).expect("copy");
    let mut sample = read_csv(&golden_dir().join("sample.csv"));
    // The third enterprise's district is not one (Excel row 7: title, empty row, header, two
    // enterprises, the blank row, then this one).
    let district = sample[0].iter().position(|h| h == "district").unwrap();
    sample[3][district] = "火星区".into();
    bureau_workbook(&sample, &w.path("sample.xlsx"), "抽查名单", false);
    let o = w.run(&[
        "report",
        "scored.csv",
        "--sample",
        "sample.xlsx",
        "-o",
        "r.html",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    // The rejects convention: Excel's row minus one.
    assert!(
        err.contains("sample.xlsx") && err.contains("row 6") && err.contains("火星区"),
        "{err}"
    );

    // The same sample without the bad cell, and the list, as titled workbooks: the page is the
    // one of the CSV files.
    for f in ["sample.csv", "list.csv"] {
        std::fs::copy(golden_dir().join(f), w.path(f)).expect("copy fixture");
    }
    let page = |sample: &str, list: &str| -> String {
        let o = w.run(&[
            "report",
            "scored.csv",
            "--sample",
            sample,
            "--whitelist",
            list,
            "--month",
            "2026-12",
            "-o",
            "r.html",
        ]);
        assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
        let html = std::fs::read_to_string(w.path("r.html")).expect("page written");
        text_of(&html)
            .lines()
            .filter(|l| !l.contains("sample.") && !l.contains("list."))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let plain = page("sample.csv", "list.csv");
    bureau_workbook(
        &read_csv(&w.path("sample.csv")),
        &w.path("sample.xlsx"),
        "抽查名单",
        false,
    );
    bureau_workbook(
        &read_csv(&w.path("list.csv")),
        &w.path("list.xlsx"),
        "名单",
        false,
    );
    assert_eq!(page("sample.xlsx", "list.xlsx"), plain);
}
