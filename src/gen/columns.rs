//! Column buffers of the generated tables and their Arrow schemas: typed rows from `model` and
//! `history` are pushed here and turned into `RecordBatch`es with the English column names of
//! `schema` (SPEC §1.1–§1.3) and English enum values. Text is appended straight into Arrow string
//! builders, so no row allocates.

use std::fmt::Write as _;
use std::sync::{Arc, LazyLock};

use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, RecordBatch, StringArray, StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::history::{HistRow, format_date};
use super::model::{
    DISTRICT_WEIGHTS, EmiRow, EntRow, INDUSTRIES, MediumRisk, PERMITS, TAX_GRADES,
    TRADE_NAME_CHARS,
};
use crate::schema::{Tier, emi, ent, feat, hist};

/// An 18-byte unified social credit code.
pub(crate) type Code = [u8; 18];

fn field(name: &str, data_type: DataType, nullable: bool) -> Field {
    Field::new(name, data_type, nullable)
}

static ENTERPRISE_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    use DataType::{Boolean, Float64, Int32, Utf8};
    Arc::new(Schema::new(vec![
        field(ent::USCC.name, Utf8, false),
        field(ent::NAME.name, Utf8, false),
        field(ent::DISTRICT.name, Utf8, false),
        field(ent::INDUSTRY.name, Utf8, true),
        field(ent::TIER.name, Utf8, false),
        field(ent::CREDIT_CLASS.name, Utf8, true),
        field(feat::YEARS_IN_OPERATION.name, Int32, true),
        field(feat::REGISTERED_CAPITAL_WAN.name, Float64, true),
        field(feat::EMPLOYEES.name, Int32, true),
        field(feat::ABNORMAL_LIST_3Y.name, Int32, true),
        field(feat::ADMIN_PENALTIES_3Y.name, Int32, true),
        field(feat::SERIOUS_ILLEGAL.name, Boolean, true),
        field(feat::ANNUAL_REPORT_LATE_3Y.name, Int32, true),
        field(feat::TAX_CREDIT_GRADE.name, Utf8, true),
        field(feat::JUDGMENT_DEBTOR.name, Boolean, true),
        field(feat::COMPLAINTS_12M.name, Int32, true),
        field(ent::PERMIT_CLASS.name, Utf8, true),
        field(ent::PE_AIR.name, Float64, true),
        field(ent::PE_WATER.name, Float64, true),
        field(ent::ENV_RISK_LEVEL.name, Utf8, true),
        field(ent::AIR_Q.name, Float64, true),
        field(ent::AIR_M.name, Float64, true),
        field(ent::AIR_E.name, Utf8, true),
        field(ent::WATER_Q.name, Float64, true),
        field(ent::WATER_M.name, Float64, true),
        field(ent::WATER_E.name, Utf8, true),
        field(ent::ENV_PENALTIES_24M.name, Int32, true),
        field(ent::ENV_INCIDENTS_24M.name, Int32, true),
        field(ent::ENV_SERIOUS_VIOLATION_36M.name, Boolean, true),
        field(ent::ONLINE_MONITORING.name, Boolean, true),
    ]))
});

static EMISSIONS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    use DataType::{Float64, Utf8};
    Arc::new(Schema::new(vec![
        field(emi::USCC.name, Utf8, false),
        field(emi::OUTLET.name, Utf8, false),
        field(emi::MEDIUM.name, Utf8, false),
        field(emi::POLLUTANT.name, Utf8, false),
        field(emi::AMOUNT_KG.name, Float64, false),
    ]))
});

static HISTORY_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    use DataType::Utf8;
    Arc::new(Schema::new(vec![
        field(hist::USCC.name, Utf8, false),
        field(hist::DATE.name, Utf8, false),
        field(hist::DEPARTMENT.name, Utf8, false),
        field(hist::MODE.name, Utf8, false),
    ]))
});

/// Schema of the generated enterprise table: every column of SPEC §1.1 with the credit features
/// after `credit_class`. Text columns are Utf8, counts Int32, flags Boolean, amounts Float64.
pub fn enterprise_schema() -> SchemaRef {
    ENTERPRISE_SCHEMA.clone()
}

/// Schema of the generated emissions table (SPEC §1.2).
pub fn emissions_schema() -> SchemaRef {
    EMISSIONS_SCHEMA.clone()
}

/// Schema of the generated inspection history (SPEC §1.3); `date` is text `YYYY-MM-DD`.
pub fn history_schema() -> SchemaRef {
    HISTORY_SCHEMA.clone()
}

fn code_str(code: &Code) -> &str {
    // Codes are built from ASCII digits and the USCC character set only.
    std::str::from_utf8(code).unwrap_or_default()
}

fn batch(schema: SchemaRef, columns: Vec<ArrayRef>) -> RecordBatch {
    // Every column is built here to the schema's type and all have the rows pushed, so this
    // cannot fail; a failure would be a bug in this file, not a data problem.
    RecordBatch::try_new(schema, columns).expect("generated columns match their schema")
}

/// Enterprise rows being collected.
pub(crate) struct EntCols {
    uscc: StringBuilder,
    name: StringBuilder,
    district: Vec<u8>,
    rows: Vec<EntRow>,
    pe: Vec<(Option<f64>, Option<f64>)>,
}

impl EntCols {
    pub(crate) fn with_capacity(n: usize) -> EntCols {
        EntCols {
            uscc: StringBuilder::with_capacity(n, 18 * n),
            name: StringBuilder::with_capacity(n, 40 * n),
            district: Vec::with_capacity(n),
            rows: Vec::with_capacity(n),
            pe: Vec::with_capacity(n),
        }
    }

    /// Appends one enterprise; `name` gives the two trade-name characters and the suffix choice.
    pub(crate) fn push(
        &mut self,
        code: &Code,
        district: usize,
        row: EntRow,
        name: (usize, usize, bool),
        pe: (Option<f64>, Option<f64>),
    ) {
        self.uscc.append_value(code_str(code));
        let (c1, c2, joint_stock) = name;
        let suffix = if joint_stock { "股份有限公司" } else { "有限公司" };
        for part in [
            "北京",
            TRADE_NAME_CHARS[c1],
            TRADE_NAME_CHARS[c2],
            INDUSTRIES[row.industry].name_word,
            suffix,
        ] {
            // Writing into a String builder cannot fail.
            let _ = self.name.write_str(part);
        }
        self.name.append_value("");
        self.district.push(district as u8);
        self.rows.push(row);
        self.pe.push(pe);
    }

    pub(crate) fn finish(mut self) -> RecordBatch {
        let r = &self.rows;
        let q = |m: &MediumRisk| m.q;
        let districts: Vec<String> = DISTRICT_WEIGHTS.iter().map(|(c, _)| c.to_string()).collect();
        let district: ArrayRef = Arc::new(
            self.district
                .iter()
                .map(|&d| Some(districts[d as usize].as_str()))
                .collect::<StringArray>(),
        );
        let pe_air: ArrayRef = Arc::new(self.pe.iter().map(|p| p.0).collect::<Float64Array>());
        let pe_water: ArrayRef = Arc::new(self.pe.iter().map(|p| p.1).collect::<Float64Array>());
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.uscc.finish()),
            Arc::new(self.name.finish()),
            district,
            text(r, |x| Some(INDUSTRIES[x.industry].code)),
            text(r, |x| Some(Tier::en(x.tier))),
            text(r, |x| x.credit_class.map(|c| c.en())),
            int(r, |x| Some(x.years_in_operation)),
            float(r, |x| Some(x.registered_capital_wan)),
            int(r, |x| x.employees),
            int(r, |x| Some(x.abnormal_list_3y)),
            int(r, |x| Some(x.admin_penalties_3y)),
            flag(r, |x| Some(x.serious_illegal)),
            int(r, |x| Some(x.annual_report_late_3y)),
            text(r, |x| x.tax_grade.map(|g| TAX_GRADES[g])),
            flag(r, |x| Some(x.judgment_debtor)),
            int(r, |x| Some(x.complaints_12m)),
            text(r, |x| PERMITS[x.permit].map(|p| p.en())),
            pe_air,
            pe_water,
            text(r, |x| x.env_risk_level.map(|l| l.en())),
            float(r, |x| q(&x.air)),
            float(r, |x| x.air.m),
            text(r, |x| x.air.e.map(|e| e.en())),
            float(r, |x| q(&x.water)),
            float(r, |x| x.water.m),
            text(r, |x| x.water.e.map(|e| e.en())),
            int(r, |x| x.env_penalties_24m),
            int(r, |x| x.env_incidents_24m),
            flag(r, |x| x.env_serious_violation_36m),
            flag(r, |x| x.online_monitoring),
        ];
        batch(enterprise_schema(), columns)
    }
}

fn text(r: &[EntRow], f: impl Fn(&EntRow) -> Option<&'static str>) -> ArrayRef {
    Arc::new(r.iter().map(f).collect::<StringArray>())
}

fn int(r: &[EntRow], f: impl Fn(&EntRow) -> Option<i32>) -> ArrayRef {
    Arc::new(r.iter().map(f).collect::<Int32Array>())
}

fn float(r: &[EntRow], f: impl Fn(&EntRow) -> Option<f64>) -> ArrayRef {
    Arc::new(r.iter().map(f).collect::<Float64Array>())
}

fn flag(r: &[EntRow], f: impl Fn(&EntRow) -> Option<bool>) -> ArrayRef {
    Arc::new(r.iter().map(f).collect::<BooleanArray>())
}

/// Emission rows being collected.
pub(crate) struct EmiCols {
    uscc: StringBuilder,
    outlet: StringBuilder,
    rows: Vec<EmiRow>,
}

impl EmiCols {
    pub(crate) fn with_capacity(n: usize) -> EmiCols {
        EmiCols {
            uscc: StringBuilder::with_capacity(n, 18 * n),
            outlet: StringBuilder::with_capacity(n, 5 * n),
            rows: Vec::with_capacity(n),
        }
    }

    pub(crate) fn push(&mut self, code: &Code, row: EmiRow) {
        self.uscc.append_value(code_str(code));
        let prefix = match row.medium {
            crate::schema::Medium::Air => "DA",
            crate::schema::Medium::Water => "DW",
        };
        let n = row.outlet;
        let digits = [
            prefix.as_bytes()[0],
            prefix.as_bytes()[1],
            b'0' + (n / 100 % 10) as u8,
            b'0' + (n / 10 % 10) as u8,
            b'0' + (n % 10) as u8,
        ];
        // Two ASCII letters and three digits.
        self.outlet.append_value(std::str::from_utf8(&digits).unwrap_or_default());
        self.rows.push(row);
    }

    pub(crate) fn finish(mut self) -> RecordBatch {
        let r = &self.rows;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.uscc.finish()),
            Arc::new(self.outlet.finish()),
            Arc::new(r.iter().map(|e| Some(e.medium.en())).collect::<StringArray>()),
            Arc::new(r.iter().map(|e| Some(e.pollutant.code)).collect::<StringArray>()),
            Arc::new(r.iter().map(|e| Some(e.amount_kg)).collect::<Float64Array>()),
        ];
        batch(emissions_schema(), columns)
    }
}

/// Inspection history rows being collected.
pub(crate) struct HistCols {
    uscc: StringBuilder,
    date: StringBuilder,
    rows: Vec<HistRow>,
}

impl HistCols {
    pub(crate) fn with_capacity(n: usize) -> HistCols {
        HistCols {
            uscc: StringBuilder::with_capacity(n, 18 * n),
            date: StringBuilder::with_capacity(n, 10 * n),
            rows: Vec::with_capacity(n),
        }
    }

    pub(crate) fn push(&mut self, code: &Code, row: HistRow) {
        self.uscc.append_value(code_str(code));
        let mut buf = [0u8; 10];
        format_date(row.day, &mut buf);
        // format_date writes ASCII digits and dashes only.
        self.date.append_value(std::str::from_utf8(&buf).unwrap_or_default());
        self.rows.push(row);
    }

    pub(crate) fn finish(mut self) -> RecordBatch {
        let r = &self.rows;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.uscc.finish()),
            Arc::new(self.date.finish()),
            Arc::new(r.iter().map(|h| Some(h.department.en())).collect::<StringArray>()),
            Arc::new(r.iter().map(|h| Some(h.mode.en())).collect::<StringArray>()),
        ];
        batch(history_schema(), columns)
    }
}
