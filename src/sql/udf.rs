//! spotcheck's kernels as DataFusion scalar functions (`ScalarUDFImpl`), so that SQL over a table
//! file — on one machine or on a Ballista cluster — computes what `spotcheck score` and `spotcheck
//! sample` compute, with the same code: every function here converts its argument arrays and calls
//! a pure kernel of `score/`, `sample/` or `uscc` row by row; none re-implements a rule.
//!
//! Arguments are coerced by DataFusion before the call: text arguments to `Utf8` (dictionaries,
//! views and numbers become text), numbers to `Float64`, flags to `Utf8` (then read as SPEC §1.1
//! booleans, `true/false/1/0/是/否`). Domain values are read in English or Chinese, as the scored
//! file writes them in either language. A null argument gives a null result, except where the
//! kernel itself gives null a meaning (a null HJ 941 input, a null count of the positive list:
//! SPEC §3.5's "null inputs fail"). A value that is no member of its domain is an error that
//! quotes it. The functions depend on the policy they were made with (`spotcheck sql --policy`).

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, UInt64Array,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::{as_float64_array, as_string_array};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::input::enterprise::Hj941Input;
use crate::policy::Policy;
use crate::sample::keys::{order_key, prn, stratum_start};
use crate::sample::probability::pi_uncapped;
use crate::schema::{
    CreditClass, Department, EmissionBand, EnvRiskLevel, Medium, PermitClass, Sensitivity, Tier,
    parse_bool,
};
use crate::score::ecology::{self, EcoInputs};
use crate::score::pollutants::Pollutants;
use crate::score::{envrisk, market, risk_score};

/// What an argument is coerced to before the kernel sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Arg {
    /// `Utf8`: codes, domain values, seeds, months.
    Text,
    /// `Float64`: ratios, amounts, HJ 941 Q and M, counts.
    Num,
    /// `Utf8`, read as a SPEC §1.1 boolean.
    Flag,
}

impl Arg {
    fn data_type(self) -> DataType {
        match self {
            Arg::Text | Arg::Flag => DataType::Utf8,
            Arg::Num => DataType::Float64,
        }
    }
}

/// What a kernel reads besides its arguments.
#[derive(Debug)]
struct Context {
    policy: Arc<Policy>,
    pollutants: &'static Pollutants,
}

type Eval = fn(&Context, &[ArrayRef], usize) -> Result<ArrayRef>;

/// One kernel as a scalar UDF.
#[derive(Debug)]
struct Kernel {
    name: &'static str,
    args: &'static [Arg],
    ret: DataType,
    eval: Eval,
    signature: Signature,
    context: Arc<Context>,
    /// The policy's SHA-256: two instances are the same function when name and policy agree.
    policy_sha: String,
}

impl PartialEq for Kernel {
    fn eq(&self, other: &Kernel) -> bool {
        self.name == other.name && self.policy_sha == other.policy_sha
    }
}

impl Eq for Kernel {}

impl Hash for Kernel {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.policy_sha.hash(state);
    }
}

impl ScalarUDFImpl for Kernel {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.ret.clone())
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != self.args.len() {
            return Err(DataFusionError::Plan(format!(
                "{} takes {} argument(s), got {}",
                self.name,
                self.args.len(),
                arg_types.len()
            )));
        }
        Ok(self.args.iter().map(|a| a.data_type()).collect())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out = (self.eval)(&self.context, &arrays, n)?;
        Ok(ColumnarValue::Array(out))
    }
}

/// Every spotcheck function, made with `policy`. Their names all start with `spotcheck_`.
///
/// ```
/// use spotcheck::policy::Policy;
/// let names: Vec<String> = spotcheck::sql::udfs(&Policy::default())
///     .iter().map(|f| f.name().to_string()).collect();
/// assert!(names.contains(&"spotcheck_market_ratio".to_string()));
/// ```
pub fn udfs(policy: &Policy) -> Vec<ScalarUDF> {
    use Arg::{Flag, Num, Text};
    let context = Arc::new(Context {
        policy: Arc::new(policy.clone()),
        pollutants: Pollutants::builtin(),
    });
    let sha = policy.sha256_hex();
    let make = |name: &'static str, args: &'static [Arg], ret: DataType, eval: Eval| {
        ScalarUDF::from(Kernel {
            name,
            args,
            ret,
            eval,
            signature: Signature::user_defined(Volatility::Immutable),
            context: context.clone(),
            policy_sha: sha.clone(),
        })
    };
    const ECO: &[Arg] = &[Text, Text, Text, Num, Num, Text, Flag, Text];
    const HJ941: &[Arg] = &[Num, Num, Text, Num, Num, Text, Flag];
    vec![
        make(
            "spotcheck_uscc_valid",
            &[Text],
            DataType::Boolean,
            uscc_valid,
        ),
        make("spotcheck_medium", &[Text], DataType::Utf8, medium),
        make(
            "spotcheck_pollutant",
            &[Text, Text],
            DataType::Utf8,
            pollutant,
        ),
        make("spotcheck_pe", &[Text, Text, Num], DataType::Float64, pe),
        make("spotcheck_emission_band", &[Num], DataType::Utf8, band),
        make("spotcheck_hj941_level", HJ941, DataType::Utf8, hj941_level),
        make(
            "spotcheck_hj941_detail",
            HJ941,
            DataType::Utf8,
            hj941_detail,
        ),
        make(
            "spotcheck_market_ratio",
            &[Text, Text],
            DataType::Float64,
            market_ratio,
        ),
        make(
            "spotcheck_market_max_per_year",
            &[Text, Text],
            DataType::Int64,
            market_max,
        ),
        make(
            "spotcheck_positive_list",
            ECO,
            DataType::Boolean,
            positive_list,
        ),
        make("spotcheck_eco_ratio", ECO, DataType::Float64, eco_ratio),
        make("spotcheck_eco_max_per_year", ECO, DataType::Int64, eco_max),
        make(
            "spotcheck_risk_score",
            &[Text, Text, Text],
            DataType::Float64,
            risk,
        ),
        make(
            "spotcheck_order_key",
            &[Text, Text, Text, Text],
            DataType::UInt64,
            key,
        ),
        make(
            "spotcheck_stratum_start",
            &[Text, Text, Text, Text],
            DataType::Float64,
            start,
        ),
        make(
            "spotcheck_prn",
            &[Text, Text, Text],
            DataType::Float64,
            prn_u,
        ),
        make("spotcheck_pi", &[Num], DataType::Float64, pi),
    ]
}

// ---- argument readers -------------------------------------------------------------------------

fn text(a: &ArrayRef) -> Result<&StringArray> {
    as_string_array(a)
}

fn num(a: &ArrayRef) -> Result<&Float64Array> {
    as_float64_array(a)
}

fn get_text(a: &StringArray, i: usize) -> Option<&str> {
    a.is_valid(i).then(|| a.value(i))
}

fn get_num(a: &Float64Array, i: usize) -> Option<f64> {
    a.is_valid(i).then(|| a.value(i))
}

fn bad(function: &str, value: &str, expected: &str) -> DataFusionError {
    DataFusionError::Execution(format!("{function}: {value:?} is not {expected}"))
}

/// A domain value in English or Chinese; null stays `None`, anything else is an error.
fn domain<T>(
    function: &str,
    a: &StringArray,
    i: usize,
    parse: fn(&str) -> Option<T>,
    expected: &str,
) -> Result<Option<T>> {
    match get_text(a, i) {
        None => Ok(None),
        Some(s) => parse(s).map(Some).ok_or_else(|| bad(function, s, expected)),
    }
}

/// An environmental risk level where `unknown`/`未知` (as the scored file writes it) and null
/// both mean unknown.
fn level(function: &str, a: &StringArray, i: usize) -> Result<Option<EnvRiskLevel>> {
    match get_text(a, i) {
        None => Ok(None),
        Some(s) if EmissionBand::parse(s) == Some(EmissionBand::Unknown) => Ok(None),
        Some(s) => EnvRiskLevel::parse(s)
            .map(Some)
            .ok_or_else(|| bad(function, s, EnvRiskLevel::EXPECTED)),
    }
}

fn flag(function: &str, a: &StringArray, i: usize) -> Result<Option<bool>> {
    domain(
        function,
        a,
        i,
        parse_bool,
        "a boolean (true/false/1/0/是/否)",
    )
}

/// A count (penalties, incidents): a whole number ≥ 0, or null.
fn count(function: &str, a: &Float64Array, i: usize) -> Result<Option<u32>> {
    match get_num(a, i) {
        None => Ok(None),
        Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= u32::MAX as f64 => Ok(Some(x as u32)),
        Some(x) => Err(bad(function, &x.to_string(), "a whole number ≥ 0")),
    }
}

// ---- kernels ----------------------------------------------------------------------------------

fn uscc_valid(_: &Context, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let codes = text(&a[0])?;
    let out: BooleanArray = (0..n)
        .map(|i| {
            get_text(codes, i)
                .map(|c| matches!(crate::uscc::check(c), crate::uscc::UsccCheck::Valid(_)))
        })
        .collect();
    Ok(Arc::new(out))
}

fn medium(_: &Context, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let m = text(&a[0])?;
    let out = (0..n)
        .map(|i| {
            domain("spotcheck_medium", m, i, Medium::parse, Medium::EXPECTED)
                .map(|v| v.map(Medium::en))
        })
        .collect::<Result<StringArray>>()?;
    Ok(Arc::new(out))
}

/// The pollutant of an emission row, by code or Chinese name within its medium (SPEC §1.2).
fn lookup(
    c: &Context,
    function: &str,
    m: &StringArray,
    p: &StringArray,
    i: usize,
) -> Result<Option<crate::score::pollutants::PollutantId>> {
    let (Some(medium), Some(name)) = (
        domain(function, m, i, Medium::parse, Medium::EXPECTED)?,
        get_text(p, i),
    ) else {
        return Ok(None);
    };
    c.pollutants.lookup(medium, name).map(Some).ok_or_else(|| {
        let what = match medium {
            Medium::Air => "an air pollutant (reference/pollutants.csv)",
            Medium::Water => "a water pollutant (reference/pollutants.csv)",
        };
        bad(function, name, what)
    })
}

fn pollutant(c: &Context, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let (m, p) = (text(&a[0])?, text(&a[1])?);
    let out = (0..n)
        .map(|i| {
            Ok(lookup(c, "spotcheck_pollutant", m, p, i)?
                .map(|id| c.pollutants.get(id).code.clone()))
        })
        .collect::<Result<StringArray>>()?;
    Ok(Arc::new(out))
}

/// `pe = amount_kg / equivalent_kg` (SPEC §3.2).
fn pe(c: &Context, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let (m, p, amount) = (text(&a[0])?, text(&a[1])?, num(&a[2])?);
    let out = (0..n)
        .map(|i| {
            let id = lookup(c, "spotcheck_pe", m, p, i)?;
            Ok(match (id, get_num(amount, i)) {
                (Some(id), Some(x)) => Some(x / c.pollutants.equivalent_kg(id)),
                _ => None,
            })
        })
        .collect::<Result<Float64Array>>()?;
    Ok(Arc::new(out))
}

fn band(c: &Context, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let pe = num(&a[0])?;
    let out: StringArray = (0..n)
        .map(|i| Some(ecology::emission_band(get_num(pe, i), &c.policy.eco).en()))
        .collect();
    Ok(Arc::new(out))
}

fn hj941(
    c: &Context,
    function: &str,
    a: &[ArrayRef],
    n: usize,
) -> Result<Vec<Option<envrisk::Hj941Detail>>> {
    let medium = |q: &ArrayRef, m: &ArrayRef, e: &ArrayRef, i: usize| -> Result<Hj941Input> {
        Ok(Hj941Input {
            q: get_num(num(q)?, i),
            m: get_num(num(m)?, i),
            e: domain(
                function,
                text(e)?,
                i,
                Sensitivity::parse,
                Sensitivity::EXPECTED,
            )?,
        })
    };
    let violation = text(&a[6])?;
    (0..n)
        .map(|i| {
            let air = medium(&a[0], &a[1], &a[2], i)?;
            let water = medium(&a[3], &a[4], &a[5], i)?;
            let v = flag(function, violation, i)?;
            Ok(envrisk::assess(&air, &water, v, &c.policy.hj941))
        })
        .collect()
}

/// The computed HJ 941 level (SPEC §3.3), `unknown` when the inputs allow none.
fn hj941_level(c: &Context, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let d = hj941(c, "spotcheck_hj941_level", a, n)?;
    let out: StringArray = d
        .iter()
        .map(|d| Some(d.map_or(EmissionBand::Unknown.en(), |d| d.level.en())))
        .collect();
    Ok(Arc::new(out))
}

/// The computation the way the standard writes it, e.g. `较大[较大-大气(Q1-M2-E1)+一般-水(Q0)]`.
fn hj941_detail(c: &Context, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let d = hj941(c, "spotcheck_hj941_detail", a, n)?;
    let out: StringArray = d.iter().map(|d| d.map(|d| d.to_string())).collect();
    Ok(Arc::new(out))
}

fn market_decisions(
    c: &Context,
    function: &str,
    a: &[ArrayRef],
    n: usize,
) -> Result<Vec<Option<market::MarketDecision>>> {
    let (class, tier) = (text(&a[0])?, text(&a[1])?);
    (0..n)
        .map(|i| {
            let c1 = domain(
                function,
                class,
                i,
                CreditClass::parse,
                CreditClass::EXPECTED,
            )?;
            let t = domain(function, tier, i, Tier::parse, Tier::EXPECTED)?;
            Ok(match (c1, t) {
                (Some(k), Some(t)) => Some(market::market(k, t, &c.policy.market)),
                _ => None,
            })
        })
        .collect()
}

/// `market_ratio` of SPEC §3.4, relief included, rounded.
fn market_ratio(c: &Context, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let d = market_decisions(c, "spotcheck_market_ratio", a, n)?;
    Ok(Arc::new(
        d.iter()
            .map(|d| d.map(|d| d.ratio))
            .collect::<Float64Array>(),
    ))
}

fn market_max(c: &Context, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let d = market_decisions(c, "spotcheck_market_max_per_year", a, n)?;
    Ok(Arc::new(
        d.iter()
            .map(|d| d.map(|d| d.max_per_year as i64))
            .collect::<Int64Array>(),
    ))
}

/// SPEC §3.5 for each row: (tier, emission_band, env_risk_level, env_penalties_24m,
/// env_incidents_24m, permit_class, online_monitoring, credit_class) → the decision.
fn eco_decisions(
    c: &Context,
    function: &str,
    a: &[ArrayRef],
    n: usize,
) -> Result<Vec<Option<ecology::EcoDecision>>> {
    let (tier, band, lvl) = (text(&a[0])?, text(&a[1])?, text(&a[2])?);
    let (pen, inc) = (num(&a[3])?, num(&a[4])?);
    let (permit, mon, class) = (text(&a[5])?, text(&a[6])?, text(&a[7])?);
    (0..n)
        .map(|i| {
            let t = domain(function, tier, i, Tier::parse, Tier::EXPECTED)?;
            let b = domain(
                function,
                band,
                i,
                EmissionBand::parse,
                EmissionBand::EXPECTED,
            )?;
            let k = domain(
                function,
                class,
                i,
                CreditClass::parse,
                CreditClass::EXPECTED,
            )?;
            let (Some(tier), Some(band), Some(credit)) = (t, b, k) else {
                return Ok(None);
            };
            let x = EcoInputs {
                tier,
                band,
                level: level(function, lvl, i)?,
                penalties_24m: count(function, pen, i)?,
                incidents_24m: count(function, inc, i)?,
                permit: domain(
                    function,
                    permit,
                    i,
                    PermitClass::parse,
                    PermitClass::EXPECTED,
                )?,
                online_monitoring: flag(function, mon, i)?,
                credit,
            };
            let failures = ecology::criteria(&x, &c.policy.eco);
            Ok(Some(ecology::decide(&x, failures, &c.policy.eco)))
        })
        .collect()
}

fn positive_list(c: &Context, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let d = eco_decisions(c, "spotcheck_positive_list", a, n)?;
    Ok(Arc::new(
        d.iter()
            .map(|d| d.map(|d| d.positive_list))
            .collect::<BooleanArray>(),
    ))
}

fn eco_ratio(c: &Context, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let d = eco_decisions(c, "spotcheck_eco_ratio", a, n)?;
    Ok(Arc::new(
        d.iter()
            .map(|d| d.map(|d| d.ratio))
            .collect::<Float64Array>(),
    ))
}

fn eco_max(c: &Context, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let d = eco_decisions(c, "spotcheck_eco_max_per_year", a, n)?;
    Ok(Arc::new(
        d.iter()
            .map(|d| d.map(|d| d.max_per_year as i64))
            .collect::<Int64Array>(),
    ))
}

/// `risk_score` of SPEC §3.6 from (credit_class, env_risk_level, emission_band).
fn risk(c: &Context, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    const F: &str = "spotcheck_risk_score";
    let (class, lvl, band) = (text(&a[0])?, text(&a[1])?, text(&a[2])?);
    let out = (0..n)
        .map(|i| {
            let k = domain(F, class, i, CreditClass::parse, CreditClass::EXPECTED)?;
            let b = domain(F, band, i, EmissionBand::parse, EmissionBand::EXPECTED)?;
            let l = level(F, lvl, i)?;
            Ok(match (k, b) {
                (Some(k), Some(b)) => Some(risk_score(k, l, b, &c.policy.risk_score)),
                _ => None,
            })
        })
        .collect::<Result<Float64Array>>()?;
    Ok(Arc::new(out))
}

/// Reads (seed, department, month, last) rows: the common shape of the §4 hash functions.
fn hashed<T>(
    function: &str,
    a: &[ArrayRef],
    n: usize,
    f: impl Fn(&str, Department, &str, &str) -> T,
) -> Result<Vec<Option<T>>> {
    let (seed, dept, month, last) = (text(&a[0])?, text(&a[1])?, text(&a[2])?, text(&a[3])?);
    (0..n)
        .map(|i| {
            let d = domain(function, dept, i, Department::parse, Department::EXPECTED)?;
            Ok(
                match (get_text(seed, i), d, get_text(month, i), get_text(last, i)) {
                    (Some(s), Some(d), Some(m), Some(l)) => Some(f(s, d, m, l)),
                    _ => None,
                },
            )
        })
        .collect()
}

/// `key(u)` of SPEC §4 step 3: (seed, department, month, uscc) → the order key.
fn key(_: &Context, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let k = hashed("spotcheck_order_key", a, n, |s, d, m, u| {
        order_key(s, d, m, u)
    })?;
    Ok(Arc::new(k.into_iter().collect::<UInt64Array>()))
}

/// The stratum's start of SPEC §4 step 4: (seed, department, month, stratum) → [0, 1).
fn start(_: &Context, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let k = hashed("spotcheck_stratum_start", a, n, |s, d, m, st| {
        stratum_start(s, d, m, st)
    })?;
    Ok(Arc::new(k.into_iter().collect::<Float64Array>()))
}

/// The permanent random number `u` of SPEC §4 step 7: (seed, month, uscc) → [0, 1).
fn prn_u(_: &Context, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let (seed, month, uscc) = (text(&a[0])?, text(&a[1])?, text(&a[2])?);
    let out: Float64Array = (0..n)
        .map(
            |i| match (get_text(seed, i), get_text(month, i), get_text(uscc, i)) {
                (Some(s), Some(m), Some(u)) => Some(prn(s, m, u)),
                _ => None,
            },
        )
        .collect();
    Ok(Arc::new(out))
}

/// π without a capacity, SPEC §4 step 2: `min(1, ratio / 12)`.
fn pi(_: &Context, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let r = num(&a[0])?;
    let out: Float64Array = (0..n).map(|i| get_num(r, i).map(pi_uncapped)).collect();
    Ok(Arc::new(out))
}
