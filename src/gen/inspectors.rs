//! The generated inspectors table (SPEC §1.4, 执法检查人员名录库): per district and department a
//! team sized to the district's expected number of enterprises (one market inspector per 1 500, one
//! ecology inspector per 4 000, at least 4 and 3, at most 2 000 each), plus a municipal team of two
//! per department with district `*`. About 5 % of inspectors must avoid (回避) one or two
//! enterprises of their own district; those codes are real rows of the same run.

use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, RecordBatch, StringArray, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::Generator;
use super::draw::{Draw, chacha};
use super::model::DISTRICT_WEIGHTS;
use crate::schema::{Department, insp};

const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗",
];
const GIVEN: [&str; 28] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超",
    "秀", "霞", "平", "刚", "华", "鹏", "宇", "婷", "晨", "浩", "欣", "悦",
];

/// Enterprises per market inspector and per ecology inspector.
const PER_MARKET: f64 = 1500.0;
const PER_ECOLOGY: f64 = 4000.0;
/// Share of inspectors with 回避 conflicts.
const CONFLICT_SHARE: f64 = 0.05;
/// Rows tried when looking for an enterprise of a given district.
const CONFLICT_TRIES: usize = 2000;

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new(insp::INSPECTOR_ID.name, DataType::Utf8, false),
        Field::new(insp::NAME.name, DataType::Utf8, false),
        Field::new(insp::DEPARTMENT.name, DataType::Utf8, false),
        Field::new(insp::DISTRICT.name, DataType::Utf8, false),
        Field::new(insp::CONFLICTS.name, DataType::Utf8, true),
    ]))
});

/// Schema of the generated inspectors table (SPEC §1.4); `conflicts` is null when there are none.
pub fn inspectors_schema() -> SchemaRef {
    SCHEMA.clone()
}

pub(crate) fn generate(g: &Generator) -> RecordBatch {
    let mut d = Draw::new(chacha(g.insp_key, 0));
    let rows = g.params.rows;
    let total_weight: f64 = DISTRICT_WEIGHTS.iter().map(|(_, w)| w).sum();
    let mut id = StringBuilder::new();
    let mut name = StringBuilder::new();
    let mut dept = StringBuilder::new();
    let mut district = StringBuilder::new();
    let mut conflicts = StringBuilder::new();

    // Municipal teams first, then each district in code order; market before ecology.
    let mut teams: Vec<(Option<u32>, Department, usize)> = vec![
        (None, Department::Market, 2),
        (None, Department::Ecology, 2),
    ];
    for &(code, w) in &DISTRICT_WEIGHTS {
        let expected = rows as f64 * w / total_weight;
        let size = |per: f64, min: f64| (expected / per).ceil().clamp(min, 2000.0) as usize;
        teams.push((Some(code), Department::Market, size(PER_MARKET, 4.0)));
        teams.push((Some(code), Department::Ecology, size(PER_ECOLOGY, 3.0)));
    }

    for (code, department, size) in teams {
        let prefix = match department {
            Department::Market => "MKT",
            Department::Ecology => "ECO",
        };
        let place = code.map_or_else(|| "*".to_string(), |c| c.to_string());
        let tag = code.map_or_else(|| "CITY".to_string(), |c| c.to_string());
        for k in 1..=size {
            id.append_value(format!("{prefix}-{tag}-{k:04}"));
            let mut full = String::from(SURNAMES[d.below(SURNAMES.len() as u64) as usize]);
            for _ in 0..1 + d.below(2) {
                full.push_str(GIVEN[d.below(GIVEN.len() as u64) as usize]);
            }
            name.append_value(&full);
            dept.append_value(department.en());
            district.append_value(&place);
            if rows > 0 && d.chance(CONFLICT_SHARE) {
                let wanted = 1 + d.below(2) as usize;
                let mut found: Vec<String> = Vec::with_capacity(wanted);
                for _ in 0..CONFLICT_TRIES {
                    if found.len() == wanted {
                        break;
                    }
                    let row = d.below(rows);
                    if code.is_some() && g.district(row) != code {
                        continue;
                    }
                    if let Some(c) = g.uscc(row)
                        && !found.contains(&c)
                    {
                        found.push(c);
                    }
                }
                if found.is_empty() {
                    conflicts.append_null();
                } else {
                    conflicts.append_value(found.join(";"));
                }
            } else {
                conflicts.append_null();
            }
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(name.finish()),
        Arc::new(dept.finish()),
        Arc::new(district.finish()),
        Arc::new(conflicts.finish()) as Arc<StringArray>,
    ];
    // Five string columns of equal length, built to the schema above: cannot fail.
    RecordBatch::try_new(inspectors_schema(), columns)
        .expect("inspector columns match their schema")
}
