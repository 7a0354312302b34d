//! Bureau exports as they are (SPEC §12): a notes sheet in front, a merged title row above the
//! header, blank rows, a merged district cell, numbers written as text with separators or
//! full-width digits, a trailing 合计 row — validated without editing, with real row numbers in
//! the rejects file. And the limits on hostile input: an XLSX bomb, a 40 MiB CSV line, too many
//! columns, JSON nested too deep — exit 2 with a sentence naming the file and the limit, in
//! bounded memory.

use std::collections::HashMap;

use super::{Work, text};

/// A CSV file's rows as maps from header to cell.
fn read_csv(path: &std::path::Path) -> Vec<HashMap<String, String>> {
    let rows = super::read_csv(path);
    let (header, body) = rows.split_first().expect("a header");
    body.iter()
        .map(|r| header.iter().cloned().zip(r.iter().cloned()).collect())
        .collect()
}

use rust_xlsxwriter::{Format, Workbook};

/// A workbook as a district bureau exports it. Sheet 1 is notes; sheet 2 (`企业名单`) has a title
/// merged over A1:F1 on row 1, a blank row 2, the header on row 3, and data from row 4:
/// - row 4: a good row, district merged down over rows 4–5;
/// - row 5: a good row (its district is the merged cell's value), capital `1,234.50`;
/// - row 6: blank;
/// - row 7: a malformed code (rejected: reported as row 6, Excel's row minus one);
/// - row 8: a good row, employees `１２３` and pollution equivalents `１２．５` in full-width
///   digits;
/// - row 9: `合计` (skipped).
fn bureau_workbook(w: &Work) -> std::path::PathBuf {
    let mut wb = Workbook::new();
    let notes = wb.add_worksheet();
    notes.set_name("说明").unwrap();
    notes.write(0, 0, "本表由区市场监管局导出").unwrap();
    notes.write(1, 0, "数据截至2026年10月31日").unwrap();
    let s = wb.add_worksheet();
    s.set_name("企业名单").unwrap();
    let f = Format::new();
    s.merge_range(0, 0, 0, 6, "2026年11月 企业名单", &f)
        .unwrap();
    let header = [
        "统一社会信用代码",
        "企业名称",
        "所属区",
        "企业梯度",
        "注册资本(万元)",
        "从业人数",
        "大气污染当量数",
    ];
    for (j, h) in header.iter().enumerate() {
        s.write(2, j as u16, *h).unwrap();
    }
    s.merge_range(3, 2, 4, 2, "海淀区", &f).unwrap();
    let rows: [(u32, [&str; 7]); 4] = [
        (
            3,
            [
                "91110108EXAMPLE008",
                "甲公司",
                "",
                "little_giant",
                "100",
                "10",
                "3",
            ],
        ),
        (
            4,
            [
                "91110108EXAMPLE016",
                "乙公司",
                "",
                "none",
                "1,234.50",
                "20",
                "1,234.5",
            ],
        ),
        (
            6,
            [
                "91110108EXAMPLE0O8",
                "丙公司",
                "朝阳区",
                "none",
                "5",
                "1",
                "",
            ],
        ),
        (
            7,
            [
                "91110105EXAMPLE011",
                "丁公司",
                "朝阳区",
                "innovative",
                "7",
                "１２３",
                "１２．５",
            ],
        ),
    ];
    for (r, cells) in rows {
        for (j, c) in cells.iter().enumerate() {
            if !c.is_empty() {
                s.write(r, j as u16, *c).unwrap();
            }
        }
    }
    s.write(8, 0, "合计").unwrap();
    s.write(8, 4, 1346.5).unwrap();
    let p = w.path("bureau.xlsx");
    wb.save(&p).unwrap();
    p
}

#[test]
fn a_bureau_workbook_validates_without_editing() {
    let w = Work::new();
    bureau_workbook(&w);
    let o = w.run(&["validate", "bureau.xlsx", "--rejects", "rej.csv"]);
    let (out, err) = text(&o);
    // One row rejected (the malformed code): exit 1, not 2.
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        out.contains(
            "bureau.xlsx: read 4 = accepted 3 + rejected 1; skipped 2 blank or total rows; header found on row 3 of sheet 2"
        ),
        "{out}"
    );
    let rej = read_csv(&w.path("rej.csv"));
    assert_eq!(rej.len(), 1, "{rej:?}");
    // Excel shows the row as 7: the rejects file says 6 (row minus one, as for a header on row 1).
    assert_eq!(rej[0]["row"], "6", "{rej:?}");
    assert_eq!(rej[0]["reason"], "USCC_MALFORMED");
}

#[test]
fn a_bureau_workbook_scores_with_merged_districts_and_bureau_numbers() {
    let w = Work::new();
    bureau_workbook(&w);
    let o = w.run(&[
        "score",
        "bureau.xlsx",
        "-o",
        "scored.csv",
        "--no-model",
        "-q",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let rows = read_csv(&w.path("scored.csv"));
    let by = |code: &str| rows.iter().find(|r| r["uscc"] == *code).unwrap();
    // Row 5's district is the merged cell's value.
    assert_eq!(by("91110108EXAMPLE016")["district"], "110108", "{rows:?}");
    // Pollution equivalents written as text with a separator or in full-width digits.
    assert_eq!(by("91110108EXAMPLE016")["pe_air"], "1234.5", "{rows:?}");
    assert_eq!(by("91110105EXAMPLE011")["pe_air"], "12.5", "{rows:?}");
    assert_eq!(rows.len(), 3, "{rows:?}");
    let o = w.run(&["validate", "bureau.xlsx", "--sheet", "说明"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(err.contains("missing required column"), "{err}");
    let o = w.run(&[
        "validate",
        "bureau.xlsx",
        "--sheet",
        "2",
        "--rejects",
        "r.csv",
    ]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    let o = w.run(&["validate", "bureau.xlsx", "--sheet", "9"]);
    let (_, err) = text(&o);
    assert!(
        err.contains("no sheet named \"9\"") && err.contains("说明, 企业名单"),
        "{err}"
    );
}

#[test]
fn a_csv_with_a_title_line_and_a_total_row() {
    let w = Work::new();
    w.write(
        "e.csv",
        "2026年11月 企业名单,,,,\n\
         uscc,name,district,tier,credit_class\n\
         91110108EXAMPLE008,甲,海淀区,little_giant,A\n\
         ,,,,\n\
         91110108EXAMPLE0O8,乙,海淀区,none,B\n\
         合计,2,,,\n",
    );
    let o = w.run(&["validate", "e.csv", "--rejects", "rej.csv"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        out.contains(
            "read 2 = accepted 1 + rejected 1; skipped 2 blank or total rows; header found on row 2"
        ),
        "{out}"
    );
    let rej = read_csv(&w.path("rej.csv"));
    // The bad code is on line 5 of the file: row 4.
    assert_eq!(rej[0]["row"], "4", "{rej:?}");
}

#[test]
fn history_dates_as_bureaus_write_them() {
    let w = Work::new();
    w.write(
        "h.csv",
        "uscc,date,department,mode\n\
         91110108EXAMPLE008,2026/11/3,market,onsite\n\
         91110108EXAMPLE008,2026年11月4日,market,onsite\n\
         91110108EXAMPLE008,46329,ecology,onsite\n\
         91110108EXAMPLE008,2026-11-31,ecology,onsite\n",
    );
    w.write(
        "e.csv",
        "uscc,name,district,tier\n91110108EXAMPLE008,甲,海淀区,little_giant\n",
    );
    let o = w.run(&[
        "validate",
        "e.csv",
        "--history",
        "h.csv",
        "--rejects",
        "r.csv",
    ]);
    let (out, err) = text(&o);
    assert!(
        out.contains("h.csv: read 4 = accepted 3 + rejected 1"),
        "{out}{err}"
    );
    let rej = read_csv(&w.path("r.csv"));
    assert_eq!(rej[0]["value"], "2026-11-31", "{rej:?}");
    assert_eq!(rej[0]["row"], "4", "{rej:?}");
}

/// Peak resident memory of a finished child, in KiB, from GNU time (None when not installed).
fn peak_kib(w: &Work, args: &[&str]) -> Option<(i32, String, u64)> {
    let time = std::path::Path::new("/usr/bin/time");
    if !time.exists() {
        return None;
    }
    let bin = assert_cmd::cargo::cargo_bin("spotcheck");
    let o = std::process::Command::new(time)
        .arg("-v")
        .arg(bin)
        .args(args)
        .current_dir(w.dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let kib = err
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())?;
    Some((o.status.code().unwrap_or(-1), err, kib))
}

/// A zip holding a valid workbook's parts with the worksheet replaced by `huge` bytes of XML
/// (deflate makes 2 GiB of repetition a few MiB).
fn xlsx_bomb(w: &Work, huge: u64) -> std::path::PathBuf {
    use std::io::Write;
    let mut wb = Workbook::new();
    wb.add_worksheet().write(0, 0, "uscc").unwrap();
    let good = wb.save_to_buffer().unwrap();
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(good)).unwrap();
    let p = w.path("bomb.xlsx");
    let mut out = zip::ZipWriter::new(std::fs::File::create(&p).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for i in 0..src.len() {
        let mut f = src.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        out.start_file(&name, opts).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            let head = b"<?xml version=\"1.0\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>";
            out.write_all(head).unwrap();
            let chunk = vec![b' '; 1 << 20];
            let mut left = huge;
            while left > 0 {
                let n = left.min(chunk.len() as u64) as usize;
                out.write_all(&chunk[..n]).unwrap();
                left -= n as u64;
            }
            out.write_all(b"</sheetData></worksheet>").unwrap();
        } else {
            std::io::copy(&mut f, &mut out).unwrap();
        }
    }
    out.finish().unwrap();
    p
}

#[test]
fn an_xlsx_bomb_is_refused_in_bounded_memory() {
    let w = Work::new();
    // 3 GiB of worksheet XML in a small file; the limit is lowered to 256 MiB to keep the test
    // quick (the default, 1 GiB, behaves the same).
    let p = xlsx_bomb(&w, 3 << 30);
    assert!(std::fs::metadata(&p).unwrap().len() < 8 << 20);
    let args = ["validate", "bomb.xlsx", "--max-xlsx-bytes", "256M"];
    let o = w.run(&args);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(
        err.contains("bomb.xlsx") && err.contains("over the limit of 256 MiB"),
        "{err}"
    );
    if let Some((code, err, kib)) = peak_kib(&w, &args) {
        assert_eq!(code, 2, "{err}");
        assert!(kib < 200 * 1024, "peak {kib} KiB\n{err}");
    }
}

#[test]
fn an_xlsx_whose_size_headers_lie_is_refused() {
    let w = Work::new();
    // 64 MiB of worksheet XML whose local and central headers claim 1000 bytes.
    let p = xlsx_bomb(&w, 64 << 20);
    let mut b = std::fs::read(&p).unwrap();
    let name = b"xl/worksheets/sheet1.xml";
    let mut patched = 0;
    let mut i = 0;
    while let Some(k) = b[i..].windows(name.len()).position(|x| x == name) {
        let at = i + k;
        if at >= 30 && &b[at - 30..at - 26] == b"PK\x03\x04" {
            b[at - 30 + 22..at - 30 + 26].copy_from_slice(&1000u32.to_le_bytes());
            patched += 1;
        }
        if at >= 46 && &b[at - 46..at - 42] == b"PK\x01\x02" {
            b[at - 46 + 24..at - 46 + 28].copy_from_slice(&1000u32.to_le_bytes());
            patched += 1;
        }
        i = at + 1;
    }
    assert_eq!(patched, 2, "both headers found");
    std::fs::write(&p, &b).unwrap();
    let o = w.run(&["validate", "bomb.xlsx", "--max-xlsx-bytes", "16M"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(
        err.contains("bomb.xlsx") && err.contains("xl/worksheets/sheet1.xml"),
        "{err}"
    );
}

#[test]
fn a_40_mib_csv_line_is_refused_in_bounded_memory() {
    let w = Work::new();
    let mut body = b"uscc,name,district,tier\n91110108EXAMPLE008,".to_vec();
    body.extend(std::iter::repeat_n(b'x', 40 << 20));
    body.extend(",海淀区,none\n".as_bytes());
    w.write("long.csv", &body);
    let args = ["validate", "long.csv"];
    let o = w.run(&args);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(
        err.contains("long.csv") && err.contains("over the limit of 16 MiB"),
        "{err}"
    );
    if let Some((code, err, kib)) = peak_kib(&w, &args) {
        assert_eq!(code, 2, "{err}");
        assert!(kib < 200 * 1024, "peak {kib} KiB\n{err}");
    }
}

#[test]
fn too_many_columns_and_too_deep_json_are_refused() {
    let w = Work::new();
    let mut header = String::from("uscc,name,district,tier");
    for i in 0..10_001 {
        header.push_str(&format!(",c{i}"));
    }
    w.write("wide.csv", format!("{header}\n"));
    let o = w.run(&["validate", "wide.csv"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("wide.csv") && err.contains("over the limit of 10000 columns"),
        "{err}"
    );
    // A workbook with one stray cell far to the right (and far down): refused by the column
    // limit, without building a dense range of 16 384 × 1 048 576 cells.
    let mut wb = Workbook::new();
    let s = wb.add_worksheet();
    for (j, h) in ["uscc", "name", "district", "tier"].iter().enumerate() {
        s.write(0, j as u16, *h).unwrap();
    }
    s.write(1_048_575, 16_383, "x").unwrap();
    wb.save(w.path("stray.xlsx")).unwrap();
    let o = w.run(&["validate", "stray.xlsx"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("stray.xlsx")
            && err.contains("row 1048576 has a cell in column 16384")
            && err.contains("over the limit of 10000 columns"),
        "{err}"
    );
    let deep = format!(
        "{{\"uscc\":\"91110108EXAMPLE008\",\"x\":{}1{}}}\n",
        "[".repeat(100),
        "]".repeat(100)
    );
    w.write("deep.jsonl", deep);
    let o = w.run(&["validate", "deep.jsonl"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("deep.jsonl") && err.contains("nested deeper than 64"),
        "{err}"
    );
}
