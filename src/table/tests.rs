//! Round trips and bad files for every table format: what is written reads back equal; a missing
//! column, an empty file, binary garbage, a truncated Parquet file and a wrong encoding are
//! errors naming the file, and a failed write leaves no file behind.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};

use super::cells::TextColumn;
use super::*;
use crate::Error;

fn sample_batch() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("uscc", DataType::Utf8, true),
        Field::new("企业名称", DataType::Utf8, true),
        Field::new("pe_total", DataType::Float64, true),
        Field::new("count", DataType::Int64, true),
        Field::new("positive_list", DataType::Boolean, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![
            Some("91110108EXAMPLE008"),
            Some("91110105EXAMPLE010"),
            None,
        ])),
        Arc::new(StringArray::from(vec![
            Some("甲, \"引号\""),
            Some("乙\n换行"),
            Some(""),
        ])),
        Arc::new(Float64Array::from(vec![Some(149.253731), None, Some(0.1)])),
        Arc::new(Int64Array::from(vec![Some(1), Some(-2), None])),
        Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
    ];
    RecordBatch::try_new(schema, cols).unwrap()
}

/// Every cell as text (typed formats keep types; text formats read everything as text).
fn cells(batches: &[RecordBatch]) -> Vec<Vec<Option<String>>> {
    let mut rows = Vec::new();
    for b in batches {
        let cols: Vec<TextColumn> = b
            .columns()
            .iter()
            .map(|c| TextColumn::new(c, Path::new("t")).unwrap())
            .collect();
        for i in 0..b.num_rows() {
            rows.push(cols.iter().map(|c| c.get(i).map(str::to_string)).collect());
        }
    }
    rows
}

fn write_read(name: &str, opts: &WriteOptions) -> (Vec<String>, Vec<RecordBatch>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    let b = sample_batch();
    let mut w = create(&path, b.schema(), opts).unwrap();
    w.write(&b).unwrap();
    assert_eq!(w.finish().unwrap(), 3);
    let r = open(&path, &ReadOptions::default()).unwrap();
    let names = r
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    (names, r.read_all().unwrap())
}

#[test]
fn every_format_round_trips() {
    let expected = cells(&[sample_batch()]);
    for name in ["t.csv", "t.parquet", "t.arrow", "t.jsonl", "t.xlsx"] {
        let (names, got) = write_read(name, &WriteOptions::default());
        assert_eq!(
            names,
            vec!["uscc", "企业名称", "pe_total", "count", "positive_list"],
            "{name}"
        );
        let mut got = cells(&got);
        // JSON Lines omits nulls and XLSX skips blank cells: a blank name reads back as null,
        // which is what SPEC §1.1 says blank cells are anyway.
        let mut exp = expected.clone();
        if name != "t.parquet" && name != "t.arrow" {
            exp[2][1] = None;
            got[2][1] = got[2][1].clone().filter(|s| !s.is_empty());
        }
        assert_eq!(got, exp, "{name}");
    }
    // Typed formats keep their types.
    let (_, got) = write_read("t.parquet", &WriteOptions::default());
    assert_eq!(got[0].schema().field(2).data_type(), &DataType::Float64);
}

#[test]
fn csv_with_bom_gb18030_and_chinese_headers() {
    let dir = tempfile::tempdir().unwrap();
    let text = "统一社会信用代码,企业名称,所属区\n91110108EXAMPLE008,示例一,海淀区\n";
    // BOM
    let p = dir.path().join("bom.csv");
    std::fs::write(&p, format!("\u{FEFF}{text}")).unwrap();
    let r = open(&p, &ReadOptions::default()).unwrap();
    assert_eq!(r.schema().field(0).name(), "统一社会信用代码");
    assert_eq!(
        cells(&r.read_all().unwrap())[0][1].as_deref(),
        Some("示例一")
    );
    // GB18030
    let p = dir.path().join("gbk.csv");
    let (bytes, _, _) = encoding_rs::GB18030.encode(text);
    std::fs::write(&p, &bytes).unwrap();
    let opts = ReadOptions {
        encoding: Encoding::Gb18030,
        ..ReadOptions::default()
    };
    let r = open(&p, &opts).unwrap();
    assert_eq!(r.schema().field(2).name(), "所属区");
    assert_eq!(
        cells(&r.read_all().unwrap())[0][2].as_deref(),
        Some("海淀区")
    );
    // The same GB18030 file read as UTF-8: an encoding error naming the file and the fix.
    let e = open(&p, &ReadOptions::default()).err().unwrap().to_string();
    assert!(e.contains("gbk.csv") && e.contains("gb18030"), "{e}");
    // CSV written with --bom starts with the BOM.
    let out = dir.path().join("out.csv");
    let b = sample_batch();
    let mut w = create(
        &out,
        b.schema(),
        &WriteOptions {
            bom: true,
            ..WriteOptions::default()
        },
    )
    .unwrap();
    w.write(&b).unwrap();
    w.finish().unwrap();
    assert!(
        std::fs::read(&out)
            .unwrap()
            .starts_with(b"\xEF\xBB\xBFuscc,")
    );
}

#[test]
fn bad_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Empty CSV
    std::fs::write(d.join("empty.csv"), "").unwrap();
    let e = open(&d.join("empty.csv"), &ReadOptions::default())
        .err()
        .unwrap();
    assert!(matches!(e, Error::EmptyFile { .. }), "{e}");
    assert!(e.to_string().contains("empty.csv"));
    // Binary garbage as Parquet, Arrow, JSON Lines, XLSX
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    for name in ["g.parquet", "g.arrow", "g.jsonl", "g.xlsx"] {
        std::fs::write(d.join(name), &garbage).unwrap();
        let res = open(&d.join(name), &ReadOptions::default()).and_then(|r| r.read_all());
        let e = res
            .err()
            .unwrap_or_else(|| panic!("{name} should fail"))
            .to_string();
        assert!(e.contains(name), "{name}: {e}");
    }
    // Garbage as CSV: not UTF-8 → encoding error with the offset.
    std::fs::write(d.join("g.csv"), &garbage).unwrap();
    let res = open(&d.join("g.csv"), &ReadOptions::default()).and_then(|r| r.read_all());
    assert!(res.err().unwrap().to_string().contains("g.csv"));
    // Truncated Parquet
    let b = sample_batch();
    let p = d.join("full.parquet");
    let mut w = create(&p, b.schema(), &WriteOptions::default()).unwrap();
    w.write(&b).unwrap();
    w.finish().unwrap();
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(d.join("cut.parquet"), &bytes[..bytes.len() / 2]).unwrap();
    let e = open(&d.join("cut.parquet"), &ReadOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("cut.parquet") && e.contains("Parquet"), "{e}");
    // Unknown extension
    let e = open(&d.join("x.xls"), &ReadOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("x.xls") && e.contains(".csv"), "{e}");
}

#[test]
fn unfinished_writer_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.parquet");
    {
        let b = sample_batch();
        let mut w = create(&path, b.schema(), &WriteOptions::default()).unwrap();
        w.write(&b).unwrap();
        // dropped without finish: a failed run
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // A writer to a folder that does not exist fails naming the path.
    let e = create(
        &dir.path().join("no/such/out.csv"),
        sample_batch().schema(),
        &WriteOptions::default(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("out.csv"), "{e}");
}

#[test]
fn column_filter_projects_every_format() {
    let keep: read::ColumnFilter = Arc::new(|h: &str| h == "uscc" || h == "pe_total");
    for name in ["t.csv", "t.parquet", "t.jsonl"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        let b = sample_batch();
        let mut w = create(&path, b.schema(), &WriteOptions::default()).unwrap();
        w.write(&b).unwrap();
        w.finish().unwrap();
        let opts = ReadOptions {
            keep: Some(keep.clone()),
            ..ReadOptions::default()
        };
        let r = open(&path, &opts).unwrap();
        assert_eq!(r.schema().fields().len(), 2, "{name}");
        let got = cells(&r.read_all().unwrap());
        assert_eq!(
            got[0],
            vec![
                Some("91110108EXAMPLE008".to_string()),
                Some("149.253731".to_string())
            ],
            "{name}"
        );
    }
}

#[test]
fn parquet_text_columns_can_be_read_as_dictionaries() {
    // Only Parquet text columns that pass the filter change type; the cells read the same, and
    // the file's row count is known before reading.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.parquet");
    let b = sample_batch();
    let mut w = create(&path, b.schema(), &WriteOptions::default()).unwrap();
    w.write(&b).unwrap();
    w.finish().unwrap();
    let plain = open(&path, &ReadOptions::default()).unwrap();
    assert_eq!(plain.rows_hint(), Some(b.num_rows() as u64));
    let opts = ReadOptions {
        dictionary: Some(Arc::new(|h: &str| h == "uscc" || h == "pe_total")),
        ..ReadOptions::default()
    };
    let r = open(&path, &opts).unwrap();
    let schema = r.schema();
    assert!(matches!(
        schema.field_with_name("uscc").unwrap().data_type(),
        arrow::datatypes::DataType::Dictionary(_, _)
    ));
    assert_eq!(
        schema.field_with_name("pe_total").unwrap().data_type(),
        plain
            .schema()
            .field_with_name("pe_total")
            .unwrap()
            .data_type(),
        "numbers are left alone"
    );
    assert_eq!(
        cells(&r.read_all().unwrap()),
        cells(&plain.read_all().unwrap())
    );
}

#[test]
fn parquet_rows_text_reads_what_the_whole_column_holds_at_those_rows() {
    // Several row groups of several pages each (so rows, pages and whole row groups are
    // skipped), nulls, blanks and padded text, a numeric column read as text; rows asked for
    // in the first and last row of a group, in neighbouring groups, and not at all in others.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.parquet");
    let n = 10_000usize;
    let schema = Arc::new(Schema::new(vec![
        Field::new("code", DataType::Utf8, false),
        Field::new("名称", DataType::Utf8, true),
        Field::new("x", DataType::Float64, true),
    ]));
    let names: Vec<Option<String>> = (0..n)
        .map(|i| match i % 97 {
            0 => None,
            1 => Some("   ".into()),
            2 => Some(format!("  企业{i}  ")),
            _ => Some(format!("企业{i}")),
        })
        .collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("c{i}")),
            )),
            Arc::new(StringArray::from(names.clone())),
            Arc::new(Float64Array::from_iter(
                (0..n).map(|i| (i % 5 != 0).then_some(i as f64 / 4.0)),
            )),
        ],
    )
    .unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(1000))
        .set_data_page_row_count_limit(64)
        .set_write_batch_size(64)
        .build();
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&path).unwrap(),
        schema,
        Some(props),
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();

    // Every row of the column, as `TextColumn` gives it (`open` would skip the rows whose only
    // read cell is blank, as it skips blank rows).
    let whole = |column: &str| -> Vec<String> {
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            std::fs::File::open(&path).unwrap(),
        )
        .unwrap()
        .build()
        .unwrap();
        let mut out = Vec::new();
        for b in reader {
            let b = b.unwrap();
            let t = TextColumn::new(b.column_by_name(column).unwrap(), &path).unwrap();
            out.extend((0..b.num_rows()).map(|j| t.get(j).unwrap_or("").to_string()));
        }
        assert_eq!(out.len(), n);
        out
    };
    let rows: Vec<u64> = [0u64, 1, 2, 63, 64, 65, 97, 98, 999, 1000, 1999, 2000, 2500]
        .into_iter()
        .chain((5000..6000).step_by(7))
        .chain([9998, 9999])
        .collect();
    for column in ["名称", "x"] {
        let all = whole(column);
        let got = read::parquet_rows_text(&path, column, &rows).unwrap();
        let want: Vec<String> = rows.iter().map(|&r| all[r as usize].clone()).collect();
        assert_eq!(got, want, "{column}");
    }
    assert_eq!(read::parquet_rows_text(&path, "名称", &[97]).unwrap(), [""]);
    assert_eq!(
        read::parquet_rows_text(&path, "名称", &[2]).unwrap(),
        ["企业2"]
    );
    assert!(
        read::parquet_rows_text(&path, "名称", &[])
            .unwrap()
            .is_empty()
    );
    // Rows past the end, out of order, or a column the file lacks: errors, not wrong names.
    assert!(read::parquet_rows_text(&path, "名称", &[10_000]).is_err());
    assert!(read::parquet_rows_text(&path, "名称", &[5, 3]).is_err());
    assert!(read::parquet_rows_text(&path, "名称", &[5, 5]).is_err());
    let err = read::parquet_rows_text(&path, "name", &[1])
        .unwrap_err()
        .to_string();
    assert!(err.contains("name"), "{err}");
}
