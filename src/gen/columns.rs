//! Column buffers of the generated tables and their Arrow schemas: typed rows from `model` and
//! `history` are pushed here and turned into `RecordBatch`es with the English column names of
//! `schema` (SPEC §1.1–§1.3) and English enum values. Text is appended straight into Arrow string
//! builders, so no row allocates.

use std::fmt::Write as _;
use std::sync::{Arc, LazyLock};

use arrow::array::BooleanBufferBuilder;
use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, RecordBatch, StringArray, StringBuilder,
};
use arrow::buffer::{BooleanBuffer, NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::history::{HistRow, format_date};
use super::model::{
    DISTRICT_WEIGHTS, EmiRow, EntRow, INDUSTRIES, PERMITS, TAX_GRADES, TRADE_NAME_CHARS,
};
use crate::schema::{
    CreditClass, Department, EnvRiskLevel, Medium, Mode, PermitClass, Sensitivity, Tier, emi, ent,
    feat, hist,
};

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

/// One column being built: its values (a default where null) and, once a null has been seen,
/// their validity bits.
struct Column<T> {
    values: Vec<T>,
    valid: Option<BooleanBufferBuilder>,
}

impl<T: Copy + Default> Column<T> {
    fn with_capacity(n: usize) -> Column<T> {
        Column {
            values: Vec::with_capacity(n),
            valid: None,
        }
    }

    #[inline(always)]
    fn push(&mut self, v: Option<T>) {
        match v {
            Some(x) => self.put(x),
            None => {
                let n = self.values.len();
                let valid = self.valid.get_or_insert_with(|| {
                    let mut b = BooleanBufferBuilder::new(self.values.capacity().max(n + 1));
                    b.append_n(n, true);
                    b
                });
                valid.append(false);
                self.values.push(T::default());
            }
        }
    }

    #[inline(always)]
    fn put(&mut self, v: T) {
        self.values.push(v);
        if let Some(valid) = self.valid.as_mut() {
            valid.append(true);
        }
    }

    fn null_buffer(&mut self) -> Option<NullBuffer> {
        self.valid.take().map(|mut b| NullBuffer::new(b.finish()))
    }
}

impl Column<i32> {
    fn finish(mut self) -> ArrayRef {
        let nulls = self.null_buffer();
        Arc::new(Int32Array::new(self.values.into(), nulls))
    }
}

impl Column<f64> {
    fn finish(mut self) -> ArrayRef {
        let nulls = self.null_buffer();
        Arc::new(Float64Array::new(self.values.into(), nulls))
    }
}

impl Column<bool> {
    fn finish(mut self) -> ArrayRef {
        let nulls = self.null_buffer();
        Arc::new(BooleanArray::new(BooleanBuffer::from(self.values), nulls))
    }
}

impl Column<u8> {
    /// A text column whose values are `labels[code]`.
    fn finish_labels(mut self, labels: &[&str]) -> ArrayRef {
        let nulls = self.null_buffer();
        let longest = labels.iter().map(|l| l.len()).max().unwrap_or(0);
        let mut offsets: Vec<i32> = Vec::with_capacity(self.values.len() + 1);
        let mut bytes: Vec<u8> = Vec::with_capacity(self.values.len() * longest);
        offsets.push(0);
        for (i, &code) in self.values.iter().enumerate() {
            if nulls.as_ref().is_none_or(|n| n.is_valid(i)) {
                bytes.extend_from_slice(labels[usize::from(code)].as_bytes());
            }
            // A batch holds at most a few MB of label text, far below i32::MAX.
            offsets.push(bytes.len() as i32);
        }
        Arc::new(StringArray::new(
            OffsetBuffer::new(offsets.into()),
            bytes.into(),
            nulls,
        ))
    }
}

/// The 6-digit district codes as text, in `DISTRICT_WEIGHTS` order.
static DISTRICT_CODES: LazyLock<Vec<String>> = LazyLock::new(|| {
    DISTRICT_WEIGHTS
        .iter()
        .map(|(c, _)| c.to_string())
        .collect()
});

fn enum_index<T: Copy + PartialEq>(all: &[T], v: T) -> u8 {
    // `all` is the enum's ALL list, which holds every variant.
    all.iter().position(|x| *x == v).unwrap_or(0) as u8
}

/// Enterprise rows being collected, column by column (one pass over each row while it is hot).
pub(crate) struct EntCols {
    uscc: StringBuilder,
    name: StringBuilder,
    district: Column<u8>,
    industry: Column<u8>,
    tier: Column<u8>,
    credit_class: Column<u8>,
    years: Column<i32>,
    capital: Column<f64>,
    employees: Column<i32>,
    abnormal: Column<i32>,
    penalties: Column<i32>,
    serious: Column<bool>,
    late: Column<i32>,
    tax: Column<u8>,
    judgment: Column<bool>,
    complaints: Column<i32>,
    permit: Column<u8>,
    pe_air: Column<f64>,
    pe_water: Column<f64>,
    level: Column<u8>,
    air_q: Column<f64>,
    air_m: Column<f64>,
    air_e: Column<u8>,
    water_q: Column<f64>,
    water_m: Column<f64>,
    water_e: Column<u8>,
    env_penalties: Column<i32>,
    env_incidents: Column<i32>,
    env_serious: Column<bool>,
    monitoring: Column<bool>,
}

impl EntCols {
    pub(crate) fn with_capacity(n: usize) -> EntCols {
        EntCols {
            uscc: StringBuilder::with_capacity(n, 18 * n),
            name: StringBuilder::with_capacity(n, 40 * n),
            district: Column::with_capacity(n),
            industry: Column::with_capacity(n),
            tier: Column::with_capacity(n),
            credit_class: Column::with_capacity(n),
            years: Column::with_capacity(n),
            capital: Column::with_capacity(n),
            employees: Column::with_capacity(n),
            abnormal: Column::with_capacity(n),
            penalties: Column::with_capacity(n),
            serious: Column::with_capacity(n),
            late: Column::with_capacity(n),
            tax: Column::with_capacity(n),
            judgment: Column::with_capacity(n),
            complaints: Column::with_capacity(n),
            permit: Column::with_capacity(n),
            pe_air: Column::with_capacity(n),
            pe_water: Column::with_capacity(n),
            level: Column::with_capacity(n),
            air_q: Column::with_capacity(n),
            air_m: Column::with_capacity(n),
            air_e: Column::with_capacity(n),
            water_q: Column::with_capacity(n),
            water_m: Column::with_capacity(n),
            water_e: Column::with_capacity(n),
            env_penalties: Column::with_capacity(n),
            env_incidents: Column::with_capacity(n),
            env_serious: Column::with_capacity(n),
            monitoring: Column::with_capacity(n),
        }
    }

    /// Appends one enterprise; `name` gives the two trade-name characters and the suffix choice.
    pub(crate) fn push(
        &mut self,
        code: &Code,
        district: usize,
        r: &EntRow,
        name: (usize, usize, bool),
        pe: (Option<f64>, Option<f64>),
    ) {
        self.uscc.append_value(code_str(code));
        let (c1, c2, joint_stock) = name;
        let suffix = if joint_stock {
            "股份有限公司"
        } else {
            "有限公司"
        };
        for part in [
            "北京",
            TRADE_NAME_CHARS[c1],
            TRADE_NAME_CHARS[c2],
            INDUSTRIES[r.industry].name_word,
            suffix,
        ] {
            // Writing into a String builder cannot fail.
            let _ = self.name.write_str(part);
        }
        self.name.append_value("");
        let sens = |e: Option<Sensitivity>| e.map(|e| enum_index(Sensitivity::ALL, e));
        self.district.put(district as u8);
        self.industry.put(r.industry as u8);
        self.tier.put(enum_index(Tier::ALL, r.tier));
        self.credit_class
            .push(r.credit_class.map(|c| enum_index(CreditClass::ALL, c)));
        self.years.put(r.years_in_operation);
        self.capital.put(r.registered_capital_wan);
        self.employees.push(r.employees);
        self.abnormal.put(r.abnormal_list_3y);
        self.penalties.put(r.admin_penalties_3y);
        self.serious.put(r.serious_illegal);
        self.late.put(r.annual_report_late_3y);
        self.tax.push(r.tax_grade.map(|g| g as u8));
        self.judgment.put(r.judgment_debtor);
        self.complaints.put(r.complaints_12m);
        self.permit
            .push(PERMITS[r.permit].map(|p| enum_index(PermitClass::ALL, p)));
        self.pe_air.push(pe.0);
        self.pe_water.push(pe.1);
        self.level
            .push(r.env_risk_level.map(|l| enum_index(EnvRiskLevel::ALL, l)));
        self.air_q.push(r.air.q);
        self.air_m.push(r.air.m);
        self.air_e.push(sens(r.air.e));
        self.water_q.push(r.water.q);
        self.water_m.push(r.water.m);
        self.water_e.push(sens(r.water.e));
        self.env_penalties.push(r.env_penalties_24m);
        self.env_incidents.push(r.env_incidents_24m);
        self.env_serious.push(r.env_serious_violation_36m);
        self.monitoring.push(r.online_monitoring);
    }

    pub(crate) fn finish(mut self) -> RecordBatch {
        let districts: Vec<&str> = DISTRICT_CODES.iter().map(String::as_str).collect();
        let industries = INDUSTRIES.map(|i| i.code);
        let tiers = Tier::ALL.iter().map(|t| t.en()).collect::<Vec<_>>();
        let classes = CreditClass::ALL.iter().map(|c| c.en()).collect::<Vec<_>>();
        let permits = PermitClass::ALL.iter().map(|c| c.en()).collect::<Vec<_>>();
        let levels = EnvRiskLevel::ALL.iter().map(|c| c.en()).collect::<Vec<_>>();
        let sens = Sensitivity::ALL.iter().map(|c| c.en()).collect::<Vec<_>>();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.uscc.finish()),
            Arc::new(self.name.finish()),
            self.district.finish_labels(&districts),
            self.industry.finish_labels(&industries),
            self.tier.finish_labels(&tiers),
            self.credit_class.finish_labels(&classes),
            self.years.finish(),
            self.capital.finish(),
            self.employees.finish(),
            self.abnormal.finish(),
            self.penalties.finish(),
            self.serious.finish(),
            self.late.finish(),
            self.tax.finish_labels(&TAX_GRADES),
            self.judgment.finish(),
            self.complaints.finish(),
            self.permit.finish_labels(&permits),
            self.pe_air.finish(),
            self.pe_water.finish(),
            self.level.finish_labels(&levels),
            self.air_q.finish(),
            self.air_m.finish(),
            self.air_e.finish_labels(&sens),
            self.water_q.finish(),
            self.water_m.finish(),
            self.water_e.finish_labels(&sens),
            self.env_penalties.finish(),
            self.env_incidents.finish(),
            self.env_serious.finish(),
            self.monitoring.finish(),
        ];
        batch(enterprise_schema(), columns)
    }
}

/// Emission rows being collected.
pub(crate) struct EmiCols {
    uscc: StringBuilder,
    outlet: StringBuilder,
    medium: Column<u8>,
    pollutant: StringBuilder,
    amount: Column<f64>,
}

impl EmiCols {
    pub(crate) fn with_capacity(n: usize) -> EmiCols {
        EmiCols {
            uscc: StringBuilder::with_capacity(n, 18 * n),
            outlet: StringBuilder::with_capacity(n, 5 * n),
            medium: Column::with_capacity(n),
            pollutant: StringBuilder::with_capacity(n, 4 * n),
            amount: Column::with_capacity(n),
        }
    }

    pub(crate) fn push(&mut self, code: &Code, row: EmiRow) {
        self.uscc.append_value(code_str(code));
        let prefix = match row.medium {
            Medium::Air => b"DA",
            Medium::Water => b"DW",
        };
        let n = row.outlet;
        let outlet = [
            prefix[0],
            prefix[1],
            b'0' + (n / 100 % 10) as u8,
            b'0' + (n / 10 % 10) as u8,
            b'0' + (n % 10) as u8,
        ];
        // Two ASCII letters and three digits.
        self.outlet
            .append_value(std::str::from_utf8(&outlet).unwrap_or_default());
        self.medium.put(enum_index(Medium::ALL, row.medium));
        self.pollutant.append_value(row.pollutant.code);
        self.amount.put(row.amount_kg);
    }

    pub(crate) fn finish(mut self) -> RecordBatch {
        let media = Medium::ALL.iter().map(|m| m.en()).collect::<Vec<_>>();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.uscc.finish()),
            Arc::new(self.outlet.finish()),
            self.medium.finish_labels(&media),
            Arc::new(self.pollutant.finish()),
            self.amount.finish(),
        ];
        batch(emissions_schema(), columns)
    }
}

/// Inspection history rows being collected.
pub(crate) struct HistCols {
    uscc: StringBuilder,
    date: StringBuilder,
    department: Column<u8>,
    mode: Column<u8>,
}

impl HistCols {
    pub(crate) fn with_capacity(n: usize) -> HistCols {
        HistCols {
            uscc: StringBuilder::with_capacity(n, 18 * n),
            date: StringBuilder::with_capacity(n, 10 * n),
            department: Column::with_capacity(n),
            mode: Column::with_capacity(n),
        }
    }

    pub(crate) fn push(&mut self, code: &Code, row: HistRow) {
        self.uscc.append_value(code_str(code));
        let mut buf = [0u8; 10];
        format_date(row.day, &mut buf);
        // format_date writes ASCII digits and dashes only.
        self.date
            .append_value(std::str::from_utf8(&buf).unwrap_or_default());
        self.department
            .put(enum_index(Department::ALL, row.department));
        self.mode.put(enum_index(Mode::ALL, row.mode));
    }

    pub(crate) fn finish(mut self) -> RecordBatch {
        let depts = Department::ALL.iter().map(|d| d.en()).collect::<Vec<_>>();
        let modes = Mode::ALL.iter().map(|m| m.en()).collect::<Vec<_>>();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.uscc.finish()),
            Arc::new(self.date.finish()),
            self.department.finish_labels(&depts),
            self.mode.finish_labels(&modes),
        ];
        batch(history_schema(), columns)
    }
}
