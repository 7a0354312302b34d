//! The rejects file (SPEC §2.2): every input row that is not accepted is written here with its
//! file, 1-based data-row number (the header is not counted), column, offending value, reason
//! code and a sentence. With `--strict` the first rejection becomes an error instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};

use super::write::{WriteOptions, create};
use crate::schema::{Lang, rej};
use crate::{Error, Result};

/// One rejected row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// The input file's path as given.
    pub file: String,
    /// 1-based data-row number in that file.
    pub row: u64,
    /// The column whose value caused the rejection (its header as written in the file).
    pub column: String,
    /// The offending value (empty for a missing required value).
    pub value: String,
    /// Reason code, e.g. `USCC_MALFORMED`.
    pub reason: &'static str,
    /// What was expected, in a sentence.
    pub detail: String,
}

/// The rejections of one run, with counts per reason.
#[derive(Debug, Default)]
pub struct Rejects {
    items: Vec<Reject>,
    strict: bool,
}

impl Rejects {
    /// A collector; `strict` turns the first rejection into an error.
    pub fn new(strict: bool) -> Self {
        Rejects {
            items: Vec::new(),
            strict,
        }
    }

    /// Records a rejection, or fails with `Error::Strict` under `--strict`.
    pub fn push(&mut self, r: Reject) -> Result<()> {
        if self.strict {
            return Err(Error::Strict {
                path: PathBuf::from(&r.file),
                row: r.row,
                column: r.column,
                value: r.value,
                reason: format!("{}: {}", r.reason, r.detail),
            });
        }
        self.items.push(r);
        Ok(())
    }

    /// Whether the first rejection is an error (`--strict`).
    pub fn is_strict(&self) -> bool {
        self.strict
    }

    /// All rejections so far, in the order they were found.
    pub fn items(&self) -> &[Reject] {
        &self.items
    }

    /// Row, column, value and reason of each rejection, in order (what tests compare).
    #[cfg(test)]
    pub(crate) fn cells(&self) -> Vec<(u64, &str, &str, &'static str)> {
        self.items
            .iter()
            .map(|r| (r.row, r.column.as_str(), r.value.as_str(), r.reason))
            .collect()
    }

    /// Number of rejected rows of one file.
    pub fn count_for(&self, file: &str) -> u64 {
        self.items.iter().filter(|r| r.file == file).count() as u64
    }

    /// Number of rejections.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing was rejected.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Counts per (file, reason), sorted.
    pub fn counts(&self) -> BTreeMap<(String, &'static str), u64> {
        let mut m = BTreeMap::new();
        for r in &self.items {
            *m.entry((r.file.clone(), r.reason)).or_insert(0) += 1;
        }
        m
    }

    /// The rejections as a record batch with the columns of `schema::rej`.
    pub fn to_batch(&self, lang: Lang) -> Result<RecordBatch> {
        let schema = Arc::new(Schema::new(
            rej::ALL
                .iter()
                .map(|c| {
                    let t = if c.name == "row" {
                        DataType::UInt64
                    } else {
                        DataType::Utf8
                    };
                    Field::new(c.header(lang), t, false)
                })
                .collect::<Vec<_>>(),
        ));
        let s = |f: fn(&Reject) -> &str| -> ArrayRef {
            Arc::new(StringArray::from_iter_values(self.items.iter().map(f)))
        };
        let cols: Vec<ArrayRef> = vec![
            s(|r| &r.file),
            Arc::new(UInt64Array::from_iter_values(
                self.items.iter().map(|r| r.row),
            )),
            s(|r| &r.column),
            s(|r| &r.value),
            s(|r| r.reason),
            s(|r| &r.detail),
        ];
        RecordBatch::try_new(schema, cols).map_err(|source| Error::Arrow {
            path: PathBuf::from("rejects"),
            source,
        })
    }

    /// Writes the rejects file (any table format, by extension), atomically.
    pub fn write(&self, path: &Path, lang: Lang, opts: &WriteOptions) -> Result<()> {
        let batch = self.to_batch(lang)?;
        let mut w = create(path, batch.schema(), opts)?;
        w.write(&batch)?;
        w.finish()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(row: u64, reason: &'static str) -> Reject {
        Reject {
            file: "e.csv".into(),
            row,
            column: "uscc".into(),
            value: "X".into(),
            reason,
            detail: "d".into(),
        }
    }

    #[test]
    fn counts_and_strict() {
        let mut rs = Rejects::new(false);
        rs.push(r(3, "USCC_MALFORMED")).unwrap();
        rs.push(r(5, "USCC_MALFORMED")).unwrap();
        rs.push(r(7, "USCC_DUPLICATE")).unwrap();
        assert_eq!(rs.count_for("e.csv"), 3);
        assert_eq!(rs.counts()[&("e.csv".to_string(), "USCC_MALFORMED")], 2);
        let b = rs.to_batch(Lang::En).unwrap();
        assert_eq!(b.num_rows(), 3);
        assert_eq!(b.schema().field(1).name(), "row");
        let mut strict = Rejects::new(true);
        let e = strict.push(r(9, "USCC_MALFORMED")).unwrap_err().to_string();
        assert!(e.contains("row 9") && e.contains("--strict"), "{e}");
    }
}
