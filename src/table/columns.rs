//! Header matching (SPEC §1): each known column is found by its English name or Chinese header,
//! trimmed and case-insensitively; a missing required column or two headers meaning the same
//! column is an error naming the file. Columns that match nothing are "unknown" and pass through.

use std::path::Path;

use arrow::datatypes::Schema;

use crate::schema::Col;
use crate::{Error, Result};

/// Where each known column sits in a table's schema.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    known: Vec<(Col, usize)>,
    unknown: Vec<usize>,
}

impl ColumnMap {
    /// Matches `schema`'s headers against `known`; every column of `required` must be present.
    pub fn resolve(schema: &Schema, known: &[Col], required: &[Col], path: &Path) -> Result<Self> {
        let mut found: Vec<(Col, usize)> = Vec::new();
        let mut unknown = Vec::new();
        for (i, field) in schema.fields().iter().enumerate() {
            match known.iter().find(|c| c.matches(field.name())) {
                Some(col) => {
                    if let Some((_, j)) = found.iter().find(|(c, _)| c.name == col.name) {
                        return Err(Error::DuplicateColumn {
                            path: path.to_path_buf(),
                            column: col.name.to_string(),
                            first: schema.field(*j).name().clone(),
                            second: field.name().clone(),
                        });
                    }
                    found.push((*col, i));
                }
                None => unknown.push(i),
            }
        }
        for req in required {
            if !found.iter().any(|(c, _)| c.name == req.name) {
                return Err(Error::MissingColumn {
                    path: path.to_path_buf(),
                    column: req.name.to_string(),
                    aliases: aliases(req),
                });
            }
        }
        Ok(ColumnMap {
            known: found,
            unknown,
        })
    }

    /// The index of a known column, if the table has it.
    pub fn get(&self, col: &Col) -> Option<usize> {
        self.known
            .iter()
            .find(|(c, _)| c.name == col.name)
            .map(|(_, i)| *i)
    }

    /// Indices of the columns that matched no known column, in schema order.
    pub fn unknown(&self) -> &[usize] {
        &self.unknown
    }
}

/// The other spellings of a column, for the missing-column message.
pub fn aliases(col: &Col) -> String {
    let mut v = vec![col.zh.to_string()];
    v.extend(col.aliases.iter().map(|a| a.to_string()));
    v.iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Finds a column by name (English, Chinese or alias), for tables without a fixed schema.
pub fn find(schema: &Schema, col: &Col) -> Option<usize> {
    schema.fields().iter().position(|f| col.matches(f.name()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ent;
    use arrow::datatypes::{DataType, Field};

    fn schema(names: &[&str]) -> Schema {
        Schema::new(
            names
                .iter()
                .map(|n| Field::new(*n, DataType::Utf8, true))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn resolves_english_chinese_and_unknown() {
        let s = schema(&["统一社会信用代码", " Name ", "所属区", "企业梯度", "备注"]);
        let m = ColumnMap::resolve(&s, ent::ALL, ent::REQUIRED, Path::new("e.csv")).unwrap();
        assert_eq!(m.get(&ent::USCC), Some(0));
        assert_eq!(m.get(&ent::NAME), Some(1));
        assert_eq!(m.get(&ent::TIER), Some(3));
        assert_eq!(m.get(&ent::CREDIT_CLASS), None);
        assert_eq!(m.unknown(), &[4]);
    }

    #[test]
    fn missing_and_duplicate_columns_are_errors() {
        let s = schema(&["uscc", "name", "tier"]);
        let e = ColumnMap::resolve(&s, ent::ALL, ent::REQUIRED, Path::new("e.csv"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("e.csv") && e.contains("\"district\"") && e.contains("所属区"),
            "{e}"
        );
        let s = schema(&["uscc", "统一社会信用代码", "name", "district", "tier"]);
        let e = ColumnMap::resolve(&s, ent::ALL, ent::REQUIRED, Path::new("e.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("both mean \"uscc\""), "{e}");
    }
}
