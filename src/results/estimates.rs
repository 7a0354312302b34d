//! The estimates table of SPEC §9.3: one row per month × department × domain — the department as
//! a whole (`all`), each district, credit class and tier — with the counts (frame units, drawn,
//! inspected, pending, out of scope, violations) and the estimators of `estimate`. Pure: the
//! drawn units with their outcomes and the frame's counts in, rows out; `estimates_batch` lays
//! the rows out as an Arrow table in English or Chinese.
//!
//! Decided where the text is silent: `inspected` counts the units of the estimation sample r
//! (compliant or violation), so `drawn = inspected + out_of_scope + pending`; units without a
//! credit class belong to no `credit_class` domain; a domain is listed when the frame has a unit
//! of it with π > 0 or the draw holds one; `caught_share` and `not_covered` (defined by §9.3 for
//! the whole department) are two extra columns after `lift`, filled on `all` rows only;
//! `not_covered` counts the frame's units with π = 0 for the department (ratio 0, yearly maximum
//! reached, in cool-down, or no capacity left), whom the estimate does not speak for.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Builder, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};

use rayon::prelude::*;

use super::estimate::{Design, Observation, Strata, caught_share, estimate_members, lift};
use crate::sample::Month;
use crate::schema::{Col, CreditClass, Department, Lang, Tier};
use crate::{Error, Result};

/// What became of a drawn unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No result row yet.
    Pending,
    OutOfScope,
    Compliant,
    Violation,
}

/// One unit a department drew, with what the inspection found.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnUnit {
    /// π for the department as drawn.
    pub pi: f64,
    /// The draw's stratum value (district code, tier, or empty).
    pub stratum: String,
    pub district: u32,
    pub tier: Tier,
    pub credit_class: Option<CreditClass>,
    pub outcome: Outcome,
}

/// A domain of SPEC §9.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Domain {
    All,
    District(u32),
    CreditClass(CreditClass),
    Tier(Tier),
}

impl Domain {
    /// The `domain_kind` column: `all`/`district`/`credit_class`/`tier` (全部/区/信用风险分类/企业梯度).
    pub fn kind(self, lang: Lang) -> &'static str {
        let (en, zh) = match self {
            Domain::All => ("all", "全部"),
            Domain::District(_) => ("district", "区"),
            Domain::CreditClass(_) => ("credit_class", "信用风险分类"),
            Domain::Tier(_) => ("tier", "企业梯度"),
        };
        match lang {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }

    /// The `domain` column: `all` (全部), the district's 6-digit code, the class, the tier.
    pub fn value(self, lang: Lang) -> String {
        match self {
            Domain::All => match lang {
                Lang::En => "all".into(),
                Lang::Zh => "全部".into(),
            },
            Domain::District(c) => c.to_string(),
            Domain::CreditClass(c) => c.label(lang).to_string(),
            Domain::Tier(t) => t.label(lang).to_string(),
        }
    }

    /// Parses a (`domain_kind`, `domain`) pair as written in either language.
    pub fn parse(kind: &str, value: &str) -> Option<Domain> {
        match kind.trim() {
            "all" | "全部" => Some(Domain::All),
            "district" | "区" => value.trim().parse().ok().map(Domain::District),
            "credit_class" | "信用风险分类" => {
                CreditClass::parse(value).map(Domain::CreditClass)
            }
            "tier" | "企业梯度" => Tier::parse(value).map(Domain::Tier),
            _ => None,
        }
    }

    /// Whether a unit with these attributes is in the domain.
    pub fn holds_parts(self, district: u32, tier: Tier, class: Option<CreditClass>) -> bool {
        match self {
            Domain::All => true,
            Domain::District(c) => district == c,
            Domain::CreditClass(c) => class == Some(c),
            Domain::Tier(t) => tier == t,
        }
    }

    /// The domains a unit belongs to (all, its district, its class if any, its tier).
    pub fn of(
        district: u32,
        tier: Tier,
        class: Option<CreditClass>,
    ) -> impl Iterator<Item = Domain> {
        [
            Some(Domain::All),
            Some(Domain::District(district)),
            class.map(Domain::CreditClass),
            Some(Domain::Tier(tier)),
        ]
        .into_iter()
        .flatten()
    }
}

/// The frame of one department's draw, counted: units with π > 0 per domain (N_D) and the units
/// with π = 0.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FrameCounts {
    pub units: BTreeMap<Domain, u64>,
    pub not_covered: u64,
}

impl FrameCounts {
    /// Counts one frame unit with its π for the department.
    pub fn add(&mut self, district: u32, tier: Tier, class: Option<CreditClass>, pi: f64) {
        if pi > 0.0 {
            for d in Domain::of(district, tier, class) {
                *self.units.entry(d).or_default() += 1;
            }
        } else {
            self.not_covered += 1;
        }
    }
}

/// One row of the estimates table.
#[derive(Debug, Clone, PartialEq)]
pub struct EstimateRow {
    pub month: Month,
    pub department: Department,
    pub domain: Domain,
    pub frame_units: u64,
    pub drawn: u64,
    pub inspected: u64,
    pub pending: u64,
    pub out_of_scope: u64,
    pub violations: u64,
    pub hit_rate: Option<f64>,
    pub rate: Option<f64>,
    pub se: Option<f64>,
    pub ci: Option<(f64, f64)>,
    pub est_violators: Option<f64>,
    pub lift: Option<f64>,
    /// `all` rows only.
    pub caught_share: Option<f64>,
    /// `all` rows only.
    pub not_covered: Option<u64>,
}

/// The rows of one month and department: `all` first, then districts, credit classes and tiers,
/// each in ascending order.
pub fn estimate_department(
    month: Month,
    department: Department,
    units: &[DrawnUnit],
    frame: &FrameCounts,
) -> Vec<EstimateRow> {
    // The estimation sample r, and the positions in r of each domain's units.
    let mut r = Vec::new();
    let mut labels: BTreeMap<&str, u32> = BTreeMap::new();
    let mut members: BTreeMap<Domain, Vec<u32>> = BTreeMap::new();
    // Drawn, pending and out of scope per domain, in the same pass.
    let mut counts: BTreeMap<Domain, [u64; 3]> = BTreeMap::new();
    for u in units {
        let next = labels.len() as u32;
        let stratum = *labels.entry(u.stratum.as_str()).or_insert(next);
        let inspected = matches!(u.outcome, Outcome::Compliant | Outcome::Violation);
        for d in Domain::of(u.district, u.tier, u.credit_class) {
            let c = counts.entry(d).or_default();
            c[0] += 1;
            c[1] += u64::from(u.outcome == Outcome::Pending);
            c[2] += u64::from(u.outcome == Outcome::OutOfScope);
            if inspected {
                members.entry(d).or_default().push(r.len() as u32);
            }
        }
        if inspected {
            r.push(Observation {
                violation: u.outcome == Outcome::Violation,
                pi: u.pi,
                stratum,
            });
        }
    }
    let design = Design::new(&r);
    let strata = Strata::new(&r, &design);
    let mut domains: Vec<Domain> = frame.units.keys().copied().collect();
    domains.extend(counts.keys().copied());
    domains.sort();
    domains.dedup();
    // Each domain's estimate reads only its own units; domains are independent of each other.
    let none = Vec::new();
    let found: Vec<_> = domains
        .par_iter()
        .map(|d| estimate_members(&r, &design, &strata, members.get(d).unwrap_or(&none)))
        .collect();
    let mut rows = Vec::with_capacity(domains.len());
    let mut p_all = None;
    for (dom, e) in domains.into_iter().zip(found) {
        let frame_units = frame.units.get(&dom).copied().unwrap_or(0);
        if dom == Domain::All {
            p_all = e.rate;
        }
        let [drawn, pending, out_of_scope] = counts.get(&dom).copied().unwrap_or_default();
        rows.push(EstimateRow {
            month,
            department,
            domain: dom,
            frame_units,
            drawn,
            inspected: e.n as u64,
            pending,
            out_of_scope,
            violations: e.violations as u64,
            hit_rate: e.hit_rate,
            rate: e.rate,
            se: e.se,
            ci: e.ci,
            est_violators: e.rate.map(|p| p * frame_units as f64),
            lift: lift(&e, p_all),
            caught_share: (dom == Domain::All).then(|| caught_share(&e)).flatten(),
            not_covered: (dom == Domain::All).then_some(frame.not_covered),
        });
    }
    rows
}

const fn c(name: &'static str, zh: &'static str) -> Col {
    Col {
        name,
        zh,
        aliases: &[],
    }
}

/// Columns of the estimates table, in order (SPEC §9.3, then `caught_share`, `not_covered`).
pub mod cols {
    use super::c;
    use crate::schema::Col;
    pub const MONTH: Col = super::super::io::cols::MONTH;
    pub const DEPARTMENT: Col = c("department", "检查部门");
    pub const DOMAIN_KIND: Col = c("domain_kind", "范围类型");
    pub const DOMAIN: Col = c("domain", "范围");
    pub const FRAME_UNITS: Col = c("frame_units", "可抽企业数");
    pub const DRAWN: Col = c("drawn", "抽中数");
    pub const INSPECTED: Col = c("inspected", "已检查数");
    pub const PENDING: Col = c("pending", "待检查数");
    pub const OUT_OF_SCOPE: Col = c("out_of_scope", "不在检查范围数");
    pub const VIOLATIONS: Col = c("violations", "发现问题数");
    pub const HIT_RATE: Col = c("hit_rate", "问题发现率");
    pub const RATE: Col = c("rate", "违法违规率估计");
    pub const SE: Col = c("se", "标准误");
    pub const CI_LOW: Col = c("ci_low", "95%置信下限");
    pub const CI_HIGH: Col = c("ci_high", "95%置信上限");
    pub const EST_VIOLATORS: Col = c("est_violators", "违法违规企业数估计");
    pub const LIFT: Col = c("lift", "靶向提升倍数");
    pub const CAUGHT_SHARE: Col = c("caught_share", "本次抽中违法违规企业占比");
    pub const NOT_COVERED: Col = c("not_covered", "未覆盖企业数");
    pub const ALL: &[Col] = &[
        MONTH,
        DEPARTMENT,
        DOMAIN_KIND,
        DOMAIN,
        FRAME_UNITS,
        DRAWN,
        INSPECTED,
        PENDING,
        OUT_OF_SCOPE,
        VIOLATIONS,
        HIT_RATE,
        RATE,
        SE,
        CI_LOW,
        CI_HIGH,
        EST_VIOLATORS,
        LIFT,
        CAUGHT_SHARE,
        NOT_COVERED,
    ];
}

/// The estimates table as one batch (headers and values in `lang`; null where no value).
// The column tables pair a header with its getter; naming that pair type would not help.
#[allow(clippy::type_complexity)]
pub fn estimates_batch(rows: &[EstimateRow], lang: Lang) -> Result<RecordBatch> {
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    let mut text = |c: &Col, v: Vec<String>, fields: &mut Vec<Field>| {
        fields.push(Field::new(c.header(lang), DataType::Utf8, false));
        columns.push(Arc::new(StringArray::from(v)));
    };
    text(
        &cols::MONTH,
        rows.iter().map(|r| r.month.to_string()).collect(),
        &mut fields,
    );
    text(
        &cols::DEPARTMENT,
        rows.iter()
            .map(|r| r.department.label(lang).to_string())
            .collect(),
        &mut fields,
    );
    text(
        &cols::DOMAIN_KIND,
        rows.iter()
            .map(|r| r.domain.kind(lang).to_string())
            .collect(),
        &mut fields,
    );
    text(
        &cols::DOMAIN,
        rows.iter().map(|r| r.domain.value(lang)).collect(),
        &mut fields,
    );
    type Count = fn(&EstimateRow) -> u64;
    type Figure = fn(&EstimateRow) -> Option<f64>;
    let ints: [(&Col, Count); 6] = [
        (&cols::FRAME_UNITS, |r| r.frame_units),
        (&cols::DRAWN, |r| r.drawn),
        (&cols::INSPECTED, |r| r.inspected),
        (&cols::PENDING, |r| r.pending),
        (&cols::OUT_OF_SCOPE, |r| r.out_of_scope),
        (&cols::VIOLATIONS, |r| r.violations),
    ];
    for (c, f) in ints {
        fields.push(Field::new(c.header(lang), DataType::UInt64, false));
        columns.push(Arc::new(rows.iter().map(f).collect::<UInt64Array>()));
    }
    let floats: [(&Col, Figure); 8] = [
        (&cols::HIT_RATE, |r| r.hit_rate),
        (&cols::RATE, |r| r.rate),
        (&cols::SE, |r| r.se),
        (&cols::CI_LOW, |r| r.ci.map(|c| c.0)),
        (&cols::CI_HIGH, |r| r.ci.map(|c| c.1)),
        (&cols::EST_VIOLATORS, |r| r.est_violators),
        (&cols::LIFT, |r| r.lift),
        (&cols::CAUGHT_SHARE, |r| r.caught_share),
    ];
    for (c, f) in floats {
        fields.push(Field::new(c.header(lang), DataType::Float64, true));
        let mut b = Float64Builder::with_capacity(rows.len());
        for r in rows {
            b.append_option(f(r));
        }
        columns.push(Arc::new(b.finish()));
    }
    fields.push(Field::new(
        cols::NOT_COVERED.header(lang),
        DataType::UInt64,
        true,
    ));
    columns.push(Arc::new(
        rows.iter().map(|r| r.not_covered).collect::<UInt64Array>(),
    ));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|source| Error::Arrow {
        path: "<estimates>".into(),
        source,
    })
}
