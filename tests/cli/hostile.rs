//! Hostile input and published files (SPEC §12): formula injection through every CSV writer
//! (scored, sample, public list, positive list, rejects) and XLSX cells that stay text, the
//! byte-order mark of Chinese CSV, and the rounded numbers of SPEC §3.6 as they appear in files.

use std::io::Read;

use super::{Work, read_csv, repo, text};

const HYPERLINK: &str = "=HYPERLINK(\"http://x\",\"点击\")";
const CMD: &str = "+cmd|\"/C calc\"!A0";

/// The worked examples with hostile names on the first two rows (the first is on the positive
/// list), a `@`-name, a passed-through column of signed numbers and text, and a row with a
/// malformed code that starts with `=` (rejected).
fn hostile_enterprises(w: &Work) -> std::path::PathBuf {
    let src = std::fs::read_to_string(repo().join("src/score/testdata/enterprises.csv")).unwrap();
    let mut out = String::new();
    for (i, line) in src.lines().enumerate() {
        let (code, rest) = line.split_once(',').unwrap();
        let (_, rest) = rest.split_once(',').unwrap();
        let (name, extra) = match i {
            0 => ("name".to_string(), "balance,remark".to_string()),
            1 => (
                format!("\"{}\"", HYPERLINK.replace('"', "\"\"")),
                "-5,-2+3".into(),
            ),
            2 => (
                format!("\"{}\"", CMD.replace('"', "\"\"")),
                "+1.5,\tx".into(),
            ),
            3 => ("@SUM(A1)".into(), "7,-".into()),
            _ => (format!("示例{i}"), "0,ok".into()),
        };
        out.push_str(&format!("{code},{name},{rest},{extra}\n"));
    }
    out.push_str("=1+1,坏行,110108,none,B,key,general,,,,,,,0,0,false,false,1,x\n");
    w.write("hostile.csv", out)
}

fn cell<'a>(rows: &'a [Vec<String>], code: &str, column: &str) -> &'a str {
    let j = rows[0].iter().position(|h| h == column).unwrap();
    let row = rows.iter().find(|r| r[0] == code).unwrap();
    &row[j]
}

#[test]
fn formulas_are_neutralised_in_every_csv_output() {
    let w = Work::new();
    let ent = hostile_enterprises(&w);
    let o = w.run(&[
        "score",
        ent.to_str().unwrap(),
        "-o",
        "scored.csv",
        "--no-model",
    ]);
    let (so, se) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{so}{se}");
    assert!(so.contains("read 11 = accepted 10 + rejected 1"), "{so}");

    // Scored: names guarded, signed numbers in a text column are numbers, not formulas.
    let s = read_csv(&w.path("scored.csv"));
    assert_eq!(
        cell(&s, "91110108EXAMPLE008", "name"),
        format!("'{HYPERLINK}")
    );
    assert_eq!(cell(&s, "91110105EXAMPLE010", "name"), format!("'{CMD}"));
    assert_eq!(cell(&s, "91110302EXAMPLE022", "name"), "'@SUM(A1)");
    assert_eq!(cell(&s, "91110108EXAMPLE008", "balance"), "-5");
    assert_eq!(cell(&s, "91110105EXAMPLE010", "balance"), "+1.5");
    assert_eq!(cell(&s, "91110108EXAMPLE008", "remark"), "'-2+3");
    assert_eq!(cell(&s, "91110105EXAMPLE010", "remark"), "'\tx");
    assert_eq!(cell(&s, "91110302EXAMPLE022", "remark"), "'-");
    assert_eq!(cell(&s, "91110114EXAMPLE05D", "name"), "示例6");
    // Rejects: the offending value is guarded too.
    let r = read_csv(&w.path("scored.rejects.csv"));
    assert_eq!(r.len(), 2, "{r:?}");
    assert!(r[1].iter().any(|c| c == "'=1+1"), "{r:?}");
    assert!(!r[1].iter().any(|c| c.starts_with('=')), "{r:?}");

    // Reading strips nothing: the guarded name is read back as it is written and not guarded
    // twice (it now begins with ').
    let o = w.run(&[
        "sample",
        "scored.csv",
        "--month",
        "2026-12",
        "--department",
        "market",
        "--seed",
        "s",
        "--capacity",
        "10",
        "--strata",
        "none",
        "-o",
        "sample.csv",
        "--public",
        "public.csv",
    ]);
    let (so, se) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{so}{se}");
    // The draw re-derives from its manifest: the guarded file is what verify renders too.
    let o = w.run(&["verify", "sample.manifest.json"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    for f in ["sample.csv", "public.csv"] {
        let rows = read_csv(&w.path(f));
        let j = rows[0].iter().position(|h| h == "name").unwrap();
        let names: Vec<&str> = rows[1..].iter().map(|r| r[j].as_str()).collect();
        assert!(
            names.contains(&format!("'{HYPERLINK}").as_str()),
            "{f}: {names:?}"
        );
        assert!(
            names.contains(&format!("'{CMD}").as_str()),
            "{f}: {names:?}"
        );
        for r in &rows {
            for c in r {
                assert!(
                    !c.starts_with(['=', '+', '@', '\t', '\r']),
                    "{f}: a cell starts a formula: {c:?}"
                );
            }
        }
    }

    // The positive list, from the scored file and from the original names (a scored file
    // written as Parquet keeps the raw name; the CSV list guards it).
    let emissions = repo().join("src/score/testdata/emissions.csv");
    let o = w.run(&[
        "score",
        ent.to_str().unwrap(),
        "--emissions",
        emissions.to_str().unwrap(),
        "-o",
        "scored.parquet",
        "--no-model",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let o = w.run(&[
        "whitelist",
        "scored.parquet",
        "--as-of",
        "2026-12-01",
        "-o",
        "list.csv",
    ]);
    let (so, se) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{so}{se}");
    let l = read_csv(&w.path("list.csv"));
    let j = l[0].iter().position(|h| h == "name").unwrap();
    assert!(
        l[1..].iter().any(|r| r[j] == format!("'{HYPERLINK}")),
        "{l:?}"
    );
    for r in &l {
        assert!(!r.iter().any(|c| c.starts_with('=')), "{r:?}");
    }
}

/// The XML of the first worksheet of a workbook.
fn sheet_xml(path: &std::path::Path) -> String {
    let f = std::fs::File::open(path).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let mut s = String::new();
    z.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    s
}

#[test]
fn xlsx_cells_are_text_never_formulas_and_numbers_stay_numbers() {
    let w = Work::new();
    let ent = hostile_enterprises(&w);
    let o = w.run(&["score", ent.to_str().unwrap(), "-o", "s.xlsx", "--no-model"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let xml = sheet_xml(&w.path("s.xlsx"));
    assert!(!xml.contains("<f>"), "a formula cell: {xml}");
    // The names are in the shared strings, as text, verbatim (XLSX needs no guard).
    let f = std::fs::File::open(w.path("s.xlsx")).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let mut strings = String::new();
    z.by_name("xl/sharedStrings.xml")
        .unwrap()
        .read_to_string(&mut strings)
        .unwrap();
    assert!(
        strings.contains(&format!("<t>{HYPERLINK}</t>")),
        "{strings}"
    );
    assert!(strings.contains(&format!("<t>{CMD}</t>")), "{strings}");
    // Rounded numbers are number cells: risk 41.67 of example 3, ratio 0.018 (0.03 × 0.6).
    assert!(xml.contains("<c r=\"W4\" s=\"2\"><v>41.67</v>"), "{xml}");
    assert!(xml.contains("<c r=\"Q3\" s=\"2\"><v>0.018</v>"), "{xml}");
    // The passed-through numeric column is numbers (-5, 1.5), its text cells stay text.
    assert!(xml.contains("<v>-5</v>"), "{xml}");
    assert!(xml.contains("<v>1.5</v>"), "{xml}");
    assert!(strings.contains("-2+3"), "{strings}");
}

#[test]
fn chinese_csv_has_a_bom_by_default_english_has_none() {
    let w = Work::new();
    let ex = repo().join("src/score/testdata");
    let ent = ex.join("enterprises.csv");
    let bom = |f: &str| {
        std::fs::read(w.path(f))
            .unwrap()
            .starts_with(b"\xEF\xBB\xBF")
    };
    for (out, extra, want) in [
        ("zh.csv", &["--lang", "zh"][..], true),
        ("zh_nobom.csv", &["--lang", "zh", "--no-bom"][..], false),
        ("en.csv", &[][..], false),
        ("en_bom.csv", &["--bom"][..], true),
    ] {
        let mut args = vec!["score", ent.to_str().unwrap(), "-o", out, "--no-model"];
        args.extend_from_slice(extra);
        let o = w.run(&args);
        assert_eq!(o.status.code(), Some(0), "{out}: {:?}", text(&o));
        assert_eq!(bom(out), want, "{out}");
    }
    // --bom and --no-bom together are a usage error.
    let o = w.run(&[
        "score",
        ent.to_str().unwrap(),
        "-o",
        "x.csv",
        "--bom",
        "--no-bom",
    ]);
    assert_eq!(o.status.code(), Some(2));
    // Sample, public list and positive list in Chinese: BOM; in English: none.
    for (lang, want) in [("zh", true), ("en", false)] {
        let sample = format!("sample_{lang}.csv");
        let public = format!("public_{lang}.csv");
        let o = w.run(&[
            "sample",
            "zh.csv",
            "--month",
            "2026-12",
            "--department",
            "joint",
            "--seed",
            "s",
            "-o",
            &sample,
            "--public",
            &public,
            "--lang",
            lang,
        ]);
        assert!(
            o.status.code() == Some(0) || o.status.code() == Some(1),
            "{:?}",
            text(&o)
        );
        assert_eq!(bom(&sample), want, "{sample}");
        assert_eq!(bom(&public), want, "{public}");
        let list = format!("list_{lang}.csv");
        let o = w.run(&[
            "whitelist",
            "zh.csv",
            "--as-of",
            "2026-12-01",
            "-o",
            &list,
            "--lang",
            lang,
        ]);
        assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
        assert_eq!(bom(&list), want, "{list}");
    }
    let o = w.run(&[
        "sample",
        "zh.csv",
        "--month",
        "2026-12",
        "--department",
        "joint",
        "--seed",
        "s",
        "-o",
        "nobom.csv",
        "--public",
        "nobom_public.csv",
        "--lang",
        "zh",
        "--no-bom",
    ]);
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(1),
        "{:?}",
        text(&o)
    );
    assert!(!bom("nobom.csv") && !bom("nobom_public.csv"));
}

#[test]
fn csv_shows_rounded_numbers() {
    let w = Work::new();
    let ex = repo().join("src/score/testdata");
    let o = w.run(&[
        "score",
        ex.join("enterprises.csv").to_str().unwrap(),
        "--emissions",
        ex.join("emissions.csv").to_str().unwrap(),
        "-o",
        "s.csv",
        "--no-model",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let s = read_csv(&w.path("s.csv"));
    // SPEC §3.6: 100 × 0.5 × 1/3 + … = 41.666… → 41.67; tax 1791.0447… → 1791.04.
    assert_eq!(cell(&s, "91110302EXAMPLE022", "risk_score"), "41.67");
    assert_eq!(cell(&s, "91110112EXAMPLE07N", "risk_score"), "29.17");
    assert_eq!(cell(&s, "91110108EXAMPLE008", "env_tax_cny"), "1791.04");
    assert_eq!(cell(&s, "91110115EXAMPLE06Y", "env_tax_cny"), "252631.58");
    for r in &s[1..] {
        for col in ["market_ratio", "eco_ratio", "risk_score", "env_tax_cny"] {
            let j = s[0].iter().position(|h| h == col).unwrap();
            let decimals = r[j].split_once('.').map_or(0, |(_, d)| d.len());
            assert!(decimals <= 4, "{col}: {}", r[j]);
        }
    }
}

/// The README documents `spotcheck sql`, `spotcheck cluster` and `--cluster`; a build without
/// their cargo features says how to get them (exit 2) instead of clap's "unrecognized
/// subcommand", and writes nothing.
#[cfg(not(feature = "cluster"))]
#[test]
fn what_this_build_leaves_out_is_named_with_the_feature_to_build() {
    let w = Work::new();
    let mut cases = vec![
        (
            vec![
                "score",
                "e.csv",
                "--cluster",
                "df://127.0.0.1:50050",
                "-o",
                "s.csv",
            ],
            "`spotcheck score --cluster` is not in this build",
            "--features cluster",
        ),
        (
            vec!["sample", "s.csv", "--cluster=df://h:1", "-o", "d.csv"],
            "`spotcheck sample --cluster` is not in this build",
            "--features cluster",
        ),
        (
            vec!["cluster", "scheduler", "--listen", "127.0.0.1:50050"],
            "`spotcheck cluster` is not in this build",
            "--features cluster",
        ),
    ];
    if !cfg!(feature = "datafusion") {
        cases.push((
            vec!["sql", "SELECT 1", "-o", "q.csv"],
            "`spotcheck sql` is not in this build",
            "--features datafusion",
        ));
    }
    for (args, says, feature) in cases {
        let o = w.run(&args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {out}{err}");
        assert!(
            err.contains(says) && err.contains(feature),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert!(w.files().is_empty(), "{:?}", w.files());
}
