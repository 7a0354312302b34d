//! `EnterpriseBatch`: one batch of accepted enterprise rows (SPEC §1.1), struct-of-arrays, every
//! cell already parsed into its domain type. Nulls are `None`. `raw` keeps the accepted rows of the
//! source batch (all columns, as read) so that unknown columns pass through and the credit model can
//! pull its features by name.

use arrow::array::StringArray;
use arrow::record_batch::RecordBatch;

use crate::schema::{CreditClass, EnvRiskLevel, PermitClass, Sensitivity, Tier};

/// HJ 941 inputs of one medium (SPEC §3.3): Q (quantity ratio), M (process score), E (sensitivity).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Hj941Input {
    pub q: Option<f64>,
    pub m: Option<f64>,
    pub e: Option<Sensitivity>,
}

/// One batch of accepted enterprises, column by column. All vectors have length `len()`.
#[derive(Debug, Clone)]
pub struct EnterpriseBatch {
    /// 1-based row number in the source file (header excluded), for messages and rejects.
    pub row: Vec<u64>,
    /// 统一社会信用代码, upper-cased, 18 ASCII bytes.
    pub uscc: StringArray,
    /// Whether the code's check character was wrong (`USCC_CHECKSUM`, kept and flagged).
    pub uscc_checksum_bad: Vec<bool>,
    /// 企业名称.
    pub name: StringArray,
    /// 所属区 as its current 6-digit code (see `district`).
    pub district: Vec<u32>,
    /// 行业代码 (GB/T 4754-2017), nullable.
    pub industry: StringArray,
    /// 企业梯度.
    pub tier: Vec<Tier>,
    /// 信用风险分类 as given; `None` → model or default (SPEC §3.1).
    pub credit_class: Vec<Option<CreditClass>>,
    /// 排污许可管理类别.
    pub permit_class: Vec<Option<PermitClass>>,
    /// 大气污染当量数 / 水污染当量数 given in the table (used only without an emissions table).
    pub pe_air: Vec<Option<f64>>,
    pub pe_water: Vec<Option<f64>>,
    /// 突发环境事件风险等级 as filed.
    pub env_risk_level: Vec<Option<EnvRiskLevel>>,
    /// HJ 941 inputs per medium.
    pub air: Vec<Hj941Input>,
    pub water: Vec<Hj941Input>,
    /// 近24个月生态环境行政处罚次数.
    pub env_penalties_24m: Vec<Option<u32>>,
    /// 近24个月突发环境事件次数.
    pub env_incidents_24m: Vec<Option<u32>>,
    /// 近36个月环境违法处罚.
    pub env_serious_violation_36m: Vec<Option<bool>>,
    /// 自动监控联网.
    pub online_monitoring: Vec<Option<bool>>,
    /// The accepted rows of the source batch, every column as read (pass-through and credit features).
    pub raw: RecordBatch,
}

impl EnterpriseBatch {
    /// Number of enterprises in the batch.
    pub fn len(&self) -> usize {
        self.row.len()
    }

    /// Whether the batch holds no enterprise.
    pub fn is_empty(&self) -> bool {
        self.row.is_empty()
    }
}

/// Reason codes for rejected input rows (SPEC §2), shared by every table's validation.
pub mod reason {
    pub const USCC_MALFORMED: &str = "USCC_MALFORMED";
    pub const USCC_DUPLICATE: &str = "USCC_DUPLICATE";
    pub const VALUE_MISSING: &str = "VALUE_MISSING";
    pub const DISTRICT_UNKNOWN: &str = "DISTRICT_UNKNOWN";
    pub const TIER_UNKNOWN: &str = "TIER_UNKNOWN";
    pub const CREDIT_CLASS_INVALID: &str = "CREDIT_CLASS_INVALID";
    pub const PERMIT_CLASS_INVALID: &str = "PERMIT_CLASS_INVALID";
    pub const ENV_RISK_LEVEL_INVALID: &str = "ENV_RISK_LEVEL_INVALID";
    pub const SENSITIVITY_INVALID: &str = "SENSITIVITY_INVALID";
    pub const NUMBER_INVALID: &str = "NUMBER_INVALID";
    pub const NUMBER_NEGATIVE: &str = "NUMBER_NEGATIVE";
    pub const INTEGER_INVALID: &str = "INTEGER_INVALID";
    pub const BOOL_INVALID: &str = "BOOL_INVALID";
    pub const MEDIUM_INVALID: &str = "MEDIUM_INVALID";
    pub const POLLUTANT_UNKNOWN: &str = "POLLUTANT_UNKNOWN";
    pub const EMISSION_ORPHAN: &str = "EMISSION_ORPHAN";
    pub const DATE_INVALID: &str = "DATE_INVALID";
    pub const DEPARTMENT_INVALID: &str = "DEPARTMENT_INVALID";
    pub const MODE_INVALID: &str = "MODE_INVALID";
    pub const INSPECTOR_DUPLICATE: &str = "INSPECTOR_DUPLICATE";
    pub const CONFLICT_INVALID: &str = "CONFLICT_INVALID";
}
