//! Ecology (生态环境监督执法): the emission band from pollution equivalents (SPEC §3.2), the eight
//! criteria of the 正面清单 positive list with their failure reasons (SPEC §3.5; a null input always
//! fails), and the on-site inspection ratio and yearly maximum that follow from them. Pure.

use crate::policy::EcoPolicy;
use crate::schema::{CreditClass, EmissionBand, EnvRiskLevel, Mode, PermitClass, Tier};
use crate::score::reasons::{Reason, Reasons};
use crate::score::round;

/// `emission_band` of pe_total: low below `low_pe_below`, high from `high_pe_from`, else medium;
/// null (or NaN) → unknown.
#[inline]
pub fn emission_band(pe_total: Option<f64>, policy: &EcoPolicy) -> EmissionBand {
    const BANDS: [EmissionBand; 3] = [EmissionBand::Low, EmissionBand::Medium, EmissionBand::High];
    match pe_total {
        Some(pe) if !pe.is_nan() => {
            BANDS[(pe >= policy.low_pe_below) as usize + (pe >= policy.high_pe_from) as usize]
        }
        _ => EmissionBand::Unknown,
    }
}

/// What the positive-list criteria look at, for one enterprise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EcoInputs {
    pub tier: Tier,
    pub band: EmissionBand,
    /// The final environmental risk level (given, else computed); `None` = unknown.
    pub level: Option<EnvRiskLevel>,
    pub penalties_24m: Option<u32>,
    pub incidents_24m: Option<u32>,
    pub permit: Option<PermitClass>,
    pub online_monitoring: Option<bool>,
    /// The final credit class (given, model or default).
    pub credit: CreditClass,
}

/// The failed positive-list criteria (SPEC §3.5), as `ECO_*` reasons in criterion order; empty
/// means the enterprise is eligible.
#[inline]
pub fn criteria(x: &EcoInputs, policy: &EcoPolicy) -> Reasons {
    let mut r = Reasons::EMPTY;
    // 1. tier ≠ none
    if x.tier == Tier::None {
        r.insert(Reason::EcoNotZjtx);
    }
    // 2. emission band low
    match x.band {
        EmissionBand::Low => {}
        EmissionBand::Unknown => r.insert(Reason::EcoEmissionUnknown),
        _ => r.insert(Reason::EcoEmissionNotLow),
    }
    // 3. environmental risk level general
    match x.level {
        Some(EnvRiskLevel::General) => {}
        Some(_) => r.insert(Reason::EcoRiskNotLow),
        None => r.insert(Reason::EcoRiskUnknown),
    }
    // 4. no environmental penalty in 24 months
    match x.penalties_24m {
        Some(0) => {}
        Some(_) => r.insert(Reason::EcoPenalty),
        None => r.insert(Reason::EcoPenaltyUnknown),
    }
    // 5. no environmental incident in 24 months
    match x.incidents_24m {
        Some(0) => {}
        Some(_) => r.insert(Reason::EcoIncident),
        None => r.insert(Reason::EcoIncidentUnknown),
    }
    // 6. permit class known; 7. key permit holders have connected online monitoring (a null
    // flag fails). An unknown permit class fails criterion 6 only: 7 asks nothing of it.
    match x.permit {
        None => r.insert(Reason::EcoPermitUnknown),
        Some(PermitClass::Key) if x.online_monitoring != Some(true) => {
            r.insert(Reason::EcoNoMonitoring)
        }
        Some(_) => {}
    }
    // 8. credit class admitted
    if !policy.positive_list_credit_classes[x.credit.index()] {
        r.insert(Reason::EcoCredit);
    }
    r
}

/// The ecology decision for one enterprise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EcoDecision {
    /// `positive_list`.
    pub positive_list: bool,
    /// `eco_mode`: non_site for listed enterprises, onsite otherwise.
    pub mode: Mode,
    /// `eco_ratio`.
    pub ratio: f64,
    /// `eco_max_per_year`.
    pub max_per_year: u8,
}

/// Ratio, mode and maximum from the criteria's failures (SPEC §3.5).
#[inline]
pub fn decide(x: &EcoInputs, failures: Reasons, policy: &EcoPolicy) -> EcoDecision {
    if failures.eco().is_empty() {
        EcoDecision {
            positive_list: true,
            mode: Mode::NonSite,
            ratio: round::ratio(policy.positive_list_onsite_ratio),
            max_per_year: policy.positive_list_max_per_year,
        }
    } else {
        EcoDecision {
            positive_list: false,
            mode: Mode::Onsite,
            ratio: onsite_ratio(x, policy),
            max_per_year: policy.max_per_year,
        }
    }
}

/// `clamp(base[permit] × risk_mult[level] × emission_mult[band], min_ratio, 1)`, rounded to 4
/// decimals after every factor and after the clamp (SPEC §3.6): `r(clamp(r(r(r(base) × risk) ×
/// emission)))` with `r` = [`round::ratio`].
#[inline]
pub fn onsite_ratio(x: &EcoInputs, policy: &EcoPolicy) -> f64 {
    let r = round::ratio;
    let base = r(policy.base_for(x.permit));
    let with_risk = r(base * policy.risk_mult_for(x.level));
    let with_band = r(with_risk * policy.emission_mult[x.band.index()]);
    r(with_band.clamp(policy.min_ratio, 1.0))
}

/// Dense index of a count for the criteria tables: 0 = zero, 1 = some, 2 = null.
#[inline]
pub fn count_index(c: Option<u32>) -> usize {
    match c {
        Some(0) => 0,
        Some(_) => 1,
        None => 2,
    }
}

/// Dense index of a flag: 0 = false, 1 = true, 2 = null.
#[inline]
pub fn flag_index(b: Option<bool>) -> usize {
    match b {
        Some(false) => 0,
        Some(true) => 1,
        None => 2,
    }
}

/// [`criteria`] as lookup tables, one per input it reads (criterion 7 reads permit class and
/// monitoring together), each filled by calling `criteria` over that input's whole domain and
/// keeping the reasons that input can cause. A row's failures are the OR of seven lookups: no
/// data-dependent branch. The exhaustive test `table_equals_criteria` checks every combination.
#[derive(Debug, Clone, PartialEq)]
pub struct CriteriaTable {
    tier: [u32; 4],
    band: [u32; 4],
    level: [u32; 4],
    penalties: [u32; 3],
    incidents: [u32; 3],
    permit_monitoring: [[u32; 3]; 5],
    credit: [u32; 4],
}

/// The domains of the criteria's inputs, in index order.
const LEVELS: [Option<EnvRiskLevel>; 4] = [
    Some(EnvRiskLevel::General),
    Some(EnvRiskLevel::Larger),
    Some(EnvRiskLevel::Major),
    None,
];
const COUNTS: [Option<u32>; 3] = [Some(0), Some(1), None];
const FLAGS: [Option<bool>; 3] = [Some(false), Some(true), None];
const PERMITS: [Option<PermitClass>; 5] = [
    Some(PermitClass::Key),
    Some(PermitClass::Simplified),
    Some(PermitClass::Registration),
    Some(PermitClass::None),
    None,
];

impl CriteriaTable {
    /// Evaluates [`criteria`] over each input's domain.
    pub fn new(policy: &EcoPolicy) -> CriteriaTable {
        let base = EcoInputs {
            tier: Tier::LittleGiant,
            band: EmissionBand::Low,
            level: Some(EnvRiskLevel::General),
            penalties_24m: Some(0),
            incidents_24m: Some(0),
            permit: Some(PermitClass::Registration),
            online_monitoring: Some(true),
            credit: CreditClass::A,
        };
        let bits = |rs: &[Reason]| rs.iter().fold(0u32, |acc, r| acc | r.bit());
        let eval = |edit: &dyn Fn(&mut EcoInputs), mask: u32| {
            let mut x = base;
            edit(&mut x);
            criteria(&x, policy).0 & mask
        };
        let mut t = CriteriaTable {
            tier: [0; 4],
            band: [0; 4],
            level: [0; 4],
            penalties: [0; 3],
            incidents: [0; 3],
            permit_monitoring: [[0; 3]; 5],
            credit: [0; 4],
        };
        let m_tier = Reason::EcoNotZjtx.bit();
        let m_band = bits(&[Reason::EcoEmissionNotLow, Reason::EcoEmissionUnknown]);
        let m_level = bits(&[Reason::EcoRiskNotLow, Reason::EcoRiskUnknown]);
        let m_pen = bits(&[Reason::EcoPenalty, Reason::EcoPenaltyUnknown]);
        let m_inc = bits(&[Reason::EcoIncident, Reason::EcoIncidentUnknown]);
        let m_permit = bits(&[Reason::EcoPermitUnknown, Reason::EcoNoMonitoring]);
        let m_credit = Reason::EcoCredit.bit();
        for (i, &v) in Tier::ALL.iter().enumerate() {
            t.tier[i] = eval(&|x| x.tier = v, m_tier);
        }
        for (i, &v) in EmissionBand::ALL.iter().enumerate() {
            t.band[i] = eval(&|x| x.band = v, m_band);
        }
        for (i, &v) in LEVELS.iter().enumerate() {
            t.level[i] = eval(&|x| x.level = v, m_level);
        }
        for (i, &v) in COUNTS.iter().enumerate() {
            t.penalties[i] = eval(&|x| x.penalties_24m = v, m_pen);
            t.incidents[i] = eval(&|x| x.incidents_24m = v, m_inc);
        }
        for (i, &p) in PERMITS.iter().enumerate() {
            for (j, &f) in FLAGS.iter().enumerate() {
                t.permit_monitoring[i][j] = eval(
                    &|x| {
                        x.permit = p;
                        x.online_monitoring = f
                    },
                    m_permit,
                );
            }
        }
        for (i, &v) in CreditClass::ALL.iter().enumerate() {
            t.credit[i] = eval(&|x| x.credit = v, m_credit);
        }
        t
    }

    /// The same reasons as [`criteria`], by seven table lookups.
    #[inline]
    pub fn failures(&self, x: &EcoInputs) -> Reasons {
        Reasons(
            self.tier[x.tier.index()]
                | self.band[x.band.index()]
                | self.level[x.level.map_or(3, |l| l.index())]
                | self.penalties[count_index(x.penalties_24m)]
                | self.incidents[count_index(x.incidents_24m)]
                | self.permit_monitoring[x.permit.map_or(4, |p| p.index())]
                    [flag_index(x.online_monitoring)]
                | self.credit[x.credit.index()],
        )
    }
}

/// [`onsite_ratio`] for every permit class (and unknown) × level (and unknown) × band.
#[derive(Debug, Clone, PartialEq)]
pub struct OnsiteRatioTable([[[f64; 4]; 4]; 5]);

impl OnsiteRatioTable {
    /// Evaluates [`onsite_ratio`] over its whole domain.
    pub fn new(policy: &EcoPolicy) -> OnsiteRatioTable {
        let mut t = [[[0.0; 4]; 4]; 5];
        for (i, &permit) in PERMITS.iter().enumerate() {
            for (j, &level) in LEVELS.iter().enumerate() {
                for (k, &band) in EmissionBand::ALL.iter().enumerate() {
                    let x = EcoInputs {
                        tier: Tier::None,
                        band,
                        level,
                        penalties_24m: None,
                        incidents_24m: None,
                        permit,
                        online_monitoring: None,
                        credit: CreditClass::D,
                    };
                    t[i][j][k] = onsite_ratio(&x, policy);
                }
            }
        }
        OnsiteRatioTable(t)
    }

    /// `onsite_ratio` of the inputs.
    #[inline]
    pub fn get(
        &self,
        permit: Option<PermitClass>,
        level: Option<EnvRiskLevel>,
        band: EmissionBand,
    ) -> f64 {
        self.0[permit.map_or(4, |p| p.index())][level.map_or(3, |l| l.index())][band.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    fn p() -> EcoPolicy {
        Policy::default().eco
    }

    /// An enterprise that passes every criterion (a 小巨人 with a registration permit).
    fn listed() -> EcoInputs {
        EcoInputs {
            tier: Tier::LittleGiant,
            band: EmissionBand::Low,
            level: Some(EnvRiskLevel::General),
            penalties_24m: Some(0),
            incidents_24m: Some(0),
            permit: Some(PermitClass::Key),
            online_monitoring: Some(true),
            credit: CreditClass::A,
        }
    }

    #[test]
    fn table_equals_criteria() {
        // Every combination of the inputs' domains (4·4·4·4·4·5·3·4 = 61440, counts with two
        // non-zero values), under the default policy and one admitting only class C.
        let mut q = p();
        q.positive_list_credit_classes = [false, false, true, false];
        for policy in [p(), q] {
            let t = CriteriaTable::new(&policy);
            let counts = [Some(0), Some(1), Some(7), None];
            for &tier in Tier::ALL {
                for &band in EmissionBand::ALL {
                    for level in LEVELS {
                        for pen in counts {
                            for inc in counts {
                                for permit in PERMITS {
                                    for mon in FLAGS {
                                        for &credit in CreditClass::ALL {
                                            let x = EcoInputs {
                                                tier,
                                                band,
                                                level,
                                                penalties_24m: pen,
                                                incidents_24m: inc,
                                                permit,
                                                online_monitoring: mon,
                                                credit,
                                            };
                                            assert_eq!(
                                                t.failures(&x),
                                                criteria(&x, &policy),
                                                "{x:?}"
                                            );
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let r = OnsiteRatioTable::new(&policy);
            // key 0.20 × larger 1.5 × high 1.5 = 0.45
            assert!(
                (r.get(
                    Some(PermitClass::Key),
                    Some(EnvRiskLevel::Larger),
                    EmissionBand::High
                ) - 0.45)
                    .abs()
                    < 1e-15
            );
            // unknown 0.10 × unknown 1.5 × low 0.8 = 0.12 (scoring example 8)
            assert!((r.get(None, None, EmissionBand::Low) - 0.12).abs() < 1e-15);
        }
    }

    #[test]
    fn bands_and_their_boundaries() {
        // SPEC §3.2: low < 2000 ≤ medium < 20000 ≤ high; null → unknown.
        let b = |x| emission_band(x, &p());
        assert_eq!(b(Some(0.0)), EmissionBand::Low);
        assert_eq!(b(Some(1999.999)), EmissionBand::Low);
        assert_eq!(b(Some(2000.0)), EmissionBand::Medium);
        assert_eq!(b(Some(19999.999)), EmissionBand::Medium);
        assert_eq!(b(Some(20000.0)), EmissionBand::High);
        assert_eq!(b(None), EmissionBand::Unknown);
        assert_eq!(b(Some(f64::NAN)), EmissionBand::Unknown);
    }

    #[test]
    fn all_pass_gives_the_list() {
        let x = listed();
        let f = criteria(&x, &p());
        assert!(f.is_empty());
        let d = decide(&x, f, &p());
        // SPEC §3.5: listed → non_site, ratio 0, max 0.
        assert_eq!(
            d,
            EcoDecision {
                positive_list: true,
                mode: Mode::NonSite,
                ratio: 0.0,
                max_per_year: 0
            }
        );
    }

    #[test]
    fn each_criterion_failing_alone() {
        type Edit = fn(&mut EcoInputs);
        let cases: [(Edit, Reason); 14] = [
            (|x| x.tier = Tier::None, Reason::EcoNotZjtx),
            (|x| x.band = EmissionBand::Medium, Reason::EcoEmissionNotLow),
            (|x| x.band = EmissionBand::High, Reason::EcoEmissionNotLow),
            (
                |x| x.band = EmissionBand::Unknown,
                Reason::EcoEmissionUnknown,
            ),
            (
                |x| x.level = Some(EnvRiskLevel::Larger),
                Reason::EcoRiskNotLow,
            ),
            (|x| x.level = None, Reason::EcoRiskUnknown),
            (|x| x.penalties_24m = Some(1), Reason::EcoPenalty),
            (|x| x.penalties_24m = None, Reason::EcoPenaltyUnknown),
            (|x| x.incidents_24m = Some(2), Reason::EcoIncident),
            (|x| x.incidents_24m = None, Reason::EcoIncidentUnknown),
            (|x| x.permit = None, Reason::EcoPermitUnknown),
            (
                |x| x.online_monitoring = Some(false),
                Reason::EcoNoMonitoring,
            ),
            (|x| x.online_monitoring = None, Reason::EcoNoMonitoring),
            (|x| x.credit = CreditClass::C, Reason::EcoCredit),
        ];
        for (edit, reason) in cases {
            let mut x = listed();
            edit(&mut x);
            let f = criteria(&x, &p());
            assert_eq!(f.iter().collect::<Vec<_>>(), [reason], "{x:?}");
            let d = decide(&x, f, &p());
            assert!(!d.positive_list);
            assert_eq!((d.mode, d.max_per_year), (Mode::Onsite, 2));
        }
        // D fails criterion 8 too; B passes.
        let mut x = listed();
        x.credit = CreditClass::D;
        assert!(criteria(&x, &p()).contains(Reason::EcoCredit));
        x.credit = CreditClass::B;
        assert!(criteria(&x, &p()).is_empty());
    }

    #[test]
    fn monitoring_only_matters_for_key_permits() {
        for permit in [
            PermitClass::Simplified,
            PermitClass::Registration,
            PermitClass::None,
        ] {
            let mut x = listed();
            x.permit = Some(permit);
            x.online_monitoring = None;
            assert!(criteria(&x, &p()).is_empty(), "{permit:?}");
        }
        // Unknown permit class: criterion 6 fails, 7 asks nothing.
        let mut x = listed();
        x.permit = None;
        x.online_monitoring = None;
        assert_eq!(
            criteria(&x, &p()).iter().collect::<Vec<_>>(),
            [Reason::EcoPermitUnknown]
        );
    }

    #[test]
    fn onsite_ratio_arithmetic_and_clamping() {
        let mut x = listed();
        x.tier = Tier::None; // off the list
        // SPEC §3.5: key 0.20 × general 1.0 × low 0.8 = 0.16.
        assert!((decide(&x, criteria(&x, &p()), &p()).ratio - 0.16).abs() < 1e-15);
        // simplified 0.10 × larger 1.5 × medium 1.0 = 0.15 (scoring example 3).
        x.permit = Some(PermitClass::Simplified);
        x.level = Some(EnvRiskLevel::Larger);
        x.band = EmissionBand::Medium;
        assert!((onsite_ratio(&x, &p()) - 0.15).abs() < 1e-15);
        // unknown 0.10 × unknown 1.5 × unknown 1.0 = 0.15.
        x.permit = None;
        x.level = None;
        x.band = EmissionBand::Unknown;
        assert!((onsite_ratio(&x, &p()) - 0.15).abs() < 1e-15);
        // none 0.02 × general 1.0 × low 0.8 = 0.016 (above the 0.01 floor).
        x.permit = Some(PermitClass::None);
        x.level = Some(EnvRiskLevel::General);
        x.band = EmissionBand::Low;
        assert!((onsite_ratio(&x, &p()) - 0.016).abs() < 1e-15);
        // A floor of 0.05 lifts it.
        let mut q = p();
        q.min_ratio = 0.05;
        assert_eq!(onsite_ratio(&x, &q), 0.05);
        // Above 1 is clamped: key 0.8 × major 2.0 × high 1.5 = 2.4 → 1.
        q.base_ratio[PermitClass::Key.index()] = 0.8;
        x.permit = Some(PermitClass::Key);
        x.level = Some(EnvRiskLevel::Major);
        x.band = EmissionBand::High;
        assert_eq!(onsite_ratio(&x, &q), 1.0);
    }
}
