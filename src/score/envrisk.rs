//! HJ 941-2018 《企业突发环境事件风险分级方法》 (SPEC §3.3, normative): the Q band (hazardous
//! quantity ÷ 临界量), the M band (process and control-measure score), the Q×M×E matrix per medium
//! (大气 / 水), the enterprise level as the higher of the media, the one-step raise after a serious
//! violation (capped at 重大), and the standard's notation `较大[较大-大气(Q1-M2-E1)+一般-水(Q0)]`.
//! Pure, allocation-free: an assessment is a small `Copy` value that formats itself on output.

use std::fmt;

use crate::input::enterprise::Hj941Input;
use crate::policy::Hj941Policy;
use crate::schema::{EnvRiskLevel, Medium, Sensitivity};

/// Q band: Q0 q<1, Q1 1≤q<10, Q2 10≤q<100, Q3 q≥100 (bounds from the policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QBand {
    Q0,
    Q1,
    Q2,
    Q3,
}

/// M band: M1 m<25, M2 25≤m<45, M3 45≤m<60, M4 m≥60 (bounds from the policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MBand {
    M1,
    M2,
    M3,
    M4,
}

/// The Q band of q (`bounds` = lower bounds of Q1, Q2, Q3, strictly increasing). Counts the
/// bounds at or below q, so it compiles without branches; NaN counts no bound (Q0) — callers treat
/// a NaN q as absent before banding.
#[inline]
pub fn q_band(q: f64, bounds: &[f64; 3]) -> QBand {
    const BANDS: [QBand; 4] = [QBand::Q0, QBand::Q1, QBand::Q2, QBand::Q3];
    BANDS[(q >= bounds[0]) as usize + (q >= bounds[1]) as usize + (q >= bounds[2]) as usize]
}

/// The M band of m (`bounds` = lower bounds of M2, M3, M4, strictly increasing); NaN → M1.
#[inline]
pub fn m_band(m: f64, bounds: &[f64; 3]) -> MBand {
    const BANDS: [MBand; 4] = [MBand::M1, MBand::M2, MBand::M3, MBand::M4];
    BANDS[(m >= bounds[0]) as usize + (m >= bounds[1]) as usize + (m >= bounds[2]) as usize]
}

/// The HJ 941 matrix (SPEC §3.3 table; DOMAIN.md §3.4): level of one medium. Q0 → general.
#[inline]
pub fn matrix(e: Sensitivity, q: QBand, m: MBand) -> EnvRiskLevel {
    use EnvRiskLevel::{General as G, Larger as L, Major as X};
    // [E1, E2, E3][Q0, Q1, Q2, Q3][M1..M4]; the Q0 rows are general whatever M and E.
    const TABLE: [[[EnvRiskLevel; 4]; 4]; 3] = [
        [[G, G, G, G], [L, L, X, X], [L, X, X, X], [X, X, X, X]],
        [[G, G, G, G], [G, L, L, X], [L, L, X, X], [L, X, X, X]],
        [[G, G, G, G], [G, G, L, L], [G, L, L, X], [L, L, X, X]],
    ];
    TABLE[e.index()][q as usize][m as usize]
}

/// Raises a level by `steps`, capped at major.
#[inline]
pub fn raise(level: EnvRiskLevel, steps: u8) -> EnvRiskLevel {
    match level.index() + steps as usize {
        0 => EnvRiskLevel::General,
        1 => EnvRiskLevel::Larger,
        _ => EnvRiskLevel::Major,
    }
}

/// The assessment of one medium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MediumLevel {
    pub level: EnvRiskLevel,
    pub q: QBand,
    /// `None` for Q0 (graded 一般 directly, M and E not needed).
    pub m: Option<MBand>,
    pub e: Option<Sensitivity>,
}

/// Assesses one medium: `None` unless q is present (and not NaN) and either below the Q1 bound or
/// accompanied by m (not NaN) and e (SPEC §3.3). Written with selects rather than early returns:
/// null patterns in real tables are irregular, and mispredicted branches dominate the kernel.
#[inline]
pub fn assess_medium(input: &Hj941Input, policy: &Hj941Policy) -> Option<MediumLevel> {
    let q = input.q.unwrap_or(f64::NAN);
    let m = input.m.unwrap_or(f64::NAN);
    let qb = q_band(q, &policy.q_bounds);
    let mb = m_band(m, &policy.m_bounds);
    let q0 = qb == QBand::Q0;
    let valid = !q.is_nan() & (q0 | (!m.is_nan() & input.e.is_some()));
    let level = matrix(input.e.unwrap_or(Sensitivity::E3), qb, mb);
    valid.then_some(MediumLevel {
        level,
        q: qb,
        m: if q0 { None } else { Some(mb) },
        e: if q0 { None } else { input.e },
    })
}

/// The computed enterprise level with its per-medium detail; `Display` writes the standard's
/// notation, e.g. `较大[较大-大气(Q1-M2-E1)+一般-水(Q0)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hj941Detail {
    /// Enterprise level: the higher medium, raised after a serious violation.
    pub level: EnvRiskLevel,
    /// Whether the level was raised for `env_serious_violation_36m`.
    pub raised: bool,
    pub air: Option<MediumLevel>,
    pub water: Option<MediumLevel>,
}

/// Computes the enterprise level from both media (SPEC §3.3); `None` when neither medium can be
/// assessed. `serious_violation` = `env_serious_violation_36m` (only `Some(true)` raises).
///
/// ```
/// use spotcheck::input::enterprise::Hj941Input;
/// use spotcheck::policy::Policy;
/// use spotcheck::schema::Sensitivity;
/// use spotcheck::score::envrisk::assess;
/// let p = Policy::default();
/// let air = Hj941Input { q: Some(5.0), m: Some(30.0), e: Some(Sensitivity::E1) };
/// let water = Hj941Input { q: Some(0.5), m: None, e: None };
/// let d = assess(&air, &water, None, &p.hj941).unwrap();
/// assert_eq!(d.to_string(), "较大[较大-大气(Q1-M2-E1)+一般-水(Q0)]");
/// ```
#[inline]
pub fn assess(
    air: &Hj941Input,
    water: &Hj941Input,
    serious_violation: Option<bool>,
    policy: &Hj941Policy,
) -> Option<Hj941Detail> {
    let a = assess_medium(air, policy);
    let w = assess_medium(water, policy);
    let base = match (a, w) {
        (None, None) => return None,
        (Some(x), None) | (None, Some(x)) => x.level,
        (Some(x), Some(y)) => x.level.max(y.level),
    };
    let raised = serious_violation == Some(true) && policy.serious_violation_raise > 0;
    let level = if raised {
        raise(base, policy.serious_violation_raise)
    } else {
        base
    };
    Some(Hj941Detail {
        level,
        raised,
        air: a,
        water: w,
    })
}

impl fmt::Display for QBand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Q{}", *self as u8)
    }
}

impl fmt::Display for MBand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "M{}", *self as u8 + 1)
    }
}

impl Hj941Detail {
    fn write_medium(f: &mut fmt::Formatter<'_>, medium: Medium, m: &MediumLevel) -> fmt::Result {
        write!(f, "{}-{}({}", m.level.zh(), medium.zh(), m.q)?;
        if let (Some(mb), Some(e)) = (m.m, m.e) {
            write!(f, "-{mb}-{}", e.en())?;
        }
        f.write_str(")")
    }
}

impl fmt::Display for Hj941Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[", self.level.zh())?;
        if let Some(a) = &self.air {
            Hj941Detail::write_medium(f, Medium::Air, a)?;
        }
        if let Some(w) = &self.water {
            if self.air.is_some() {
                f.write_str("+")?;
            }
            Hj941Detail::write_medium(f, Medium::Water, w)?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use EnvRiskLevel::{General, Larger, Major};
    use Sensitivity::{E1, E2, E3};

    fn p() -> Hj941Policy {
        Policy::default().hj941
    }

    fn input(q: f64, m: f64, e: Sensitivity) -> Hj941Input {
        Hj941Input {
            q: Some(q),
            m: Some(m),
            e: Some(e),
        }
    }

    #[test]
    fn every_matrix_cell() {
        // SPEC §3.3 table, row by row (= DOMAIN.md §3.4, HJ 941-2018).
        let expected: [(Sensitivity, QBand, [EnvRiskLevel; 4]); 9] = [
            (E1, QBand::Q1, [Larger, Larger, Major, Major]),
            (E1, QBand::Q2, [Larger, Major, Major, Major]),
            (E1, QBand::Q3, [Major, Major, Major, Major]),
            (E2, QBand::Q1, [General, Larger, Larger, Major]),
            (E2, QBand::Q2, [Larger, Larger, Major, Major]),
            (E2, QBand::Q3, [Larger, Major, Major, Major]),
            (E3, QBand::Q1, [General, General, Larger, Larger]),
            (E3, QBand::Q2, [General, Larger, Larger, Major]),
            (E3, QBand::Q3, [Larger, Larger, Major, Major]),
        ];
        // A representative q and m for each band, so the cell is also reached through `assess`.
        let q_of = |q: QBand| [0.5, 5.0, 50.0, 500.0][q as usize];
        let ms = [MBand::M1, MBand::M2, MBand::M3, MBand::M4];
        let m_of = [10.0, 30.0, 50.0, 70.0];
        for (e, q, row) in expected {
            for (j, level) in row.into_iter().enumerate() {
                assert_eq!(matrix(e, q, ms[j]), level, "{e:?} {q:?} M{}", j + 1);
                let d = assess(
                    &input(q_of(q), m_of[j], e),
                    &Hj941Input::default(),
                    None,
                    &p(),
                );
                assert_eq!(d.unwrap().level, level, "{e:?} {q:?} M{}", j + 1);
            }
        }
        for e in [E1, E2, E3] {
            for m in ms {
                assert_eq!(matrix(e, QBand::Q0, m), General);
            }
        }
    }

    #[test]
    fn q_and_m_boundaries() {
        let b = p();
        let below = |x: f64| x - x * f64::EPSILON;
        let above = |x: f64| x + x * f64::EPSILON;
        // Q: 1, 10, 100 (SPEC §3.3): just below → lower band, at and just above → upper band.
        for (bound, lo, hi) in [
            (1.0, QBand::Q0, QBand::Q1),
            (10.0, QBand::Q1, QBand::Q2),
            (100.0, QBand::Q2, QBand::Q3),
        ] {
            assert_eq!(q_band(below(bound), &b.q_bounds), lo, "below {bound}");
            assert_eq!(q_band(bound, &b.q_bounds), hi, "at {bound}");
            assert_eq!(q_band(above(bound), &b.q_bounds), hi, "above {bound}");
        }
        assert_eq!(q_band(0.0, &b.q_bounds), QBand::Q0);
        assert_eq!(q_band(1e12, &b.q_bounds), QBand::Q3);
        // M: 25, 45, 60.
        for (bound, lo, hi) in [
            (25.0, MBand::M1, MBand::M2),
            (45.0, MBand::M2, MBand::M3),
            (60.0, MBand::M3, MBand::M4),
        ] {
            assert_eq!(m_band(below(bound), &b.m_bounds), lo, "below {bound}");
            assert_eq!(m_band(bound, &b.m_bounds), hi, "at {bound}");
            assert_eq!(m_band(above(bound), &b.m_bounds), hi, "above {bound}");
        }
        assert_eq!(m_band(0.0, &b.m_bounds), MBand::M1);
        assert_eq!(m_band(100.0, &b.m_bounds), MBand::M4);
    }

    #[test]
    fn q0_is_general_without_m_and_e() {
        let water = Hj941Input {
            q: Some(0.99),
            m: None,
            e: None,
        };
        let d = assess(&Hj941Input::default(), &water, None, &p()).unwrap();
        assert_eq!(d.level, General);
        assert_eq!(d.to_string(), "一般[一般-水(Q0)]");
        // Q0 even with M and E that would grade Q1 as major.
        let d = assess(&input(0.5, 90.0, E1), &Hj941Input::default(), None, &p()).unwrap();
        assert_eq!(d.level, General);
        assert_eq!(d.to_string(), "一般[一般-大气(Q0)]");
    }

    #[test]
    fn medium_needs_m_and_e_above_q0() {
        let no_m = Hj941Input {
            q: Some(5.0),
            m: None,
            e: Some(E1),
        };
        let no_e = Hj941Input {
            q: Some(5.0),
            m: Some(30.0),
            e: None,
        };
        let no_q = Hj941Input {
            q: None,
            m: Some(30.0),
            e: Some(E1),
        };
        for i in [no_m, no_e, no_q, Hj941Input::default()] {
            assert_eq!(assess_medium(&i, &p()), None, "{i:?}");
            assert_eq!(assess(&i, &i, Some(true), &p()), None);
        }
        // The other medium still counts.
        let d = assess(&no_m, &input(20.0, 50.0, E2), None, &p()).unwrap();
        assert_eq!(d.level, Major); // E2 Q2 M3
        assert_eq!(d.to_string(), "重大[重大-水(Q2-M3-E2)]");
    }

    #[test]
    fn enterprise_level_is_the_higher_medium_and_notation() {
        // SPEC §3.3 example: 较大[较大-大气(Q1-M2-E1)+一般-水(Q0)].
        let air = input(5.0, 30.0, E1);
        let water = Hj941Input {
            q: Some(0.2),
            m: None,
            e: None,
        };
        let d = assess(&air, &water, Some(false), &p()).unwrap();
        assert_eq!(d.level, Larger);
        assert!(!d.raised);
        assert_eq!(d.to_string(), "较大[较大-大气(Q1-M2-E1)+一般-水(Q0)]");
        // Water higher than air.
        let d = assess(&input(5.0, 10.0, E3), &input(150.0, 70.0, E3), None, &p()).unwrap();
        assert_eq!(d.level, Major);
        assert_eq!(d.to_string(), "重大[一般-大气(Q1-M1-E3)+重大-水(Q3-M4-E3)]");
    }

    #[test]
    fn serious_violation_raises_one_step_capped_at_major() {
        let general = input(5.0, 10.0, E3); // E3 Q1 M1 → general
        let larger = input(5.0, 10.0, E1); // E1 Q1 M1 → larger
        let major = input(500.0, 10.0, E1); // E1 Q3 → major
        let none = Hj941Input::default();
        let lvl = |i: &Hj941Input, v| assess(i, &none, v, &p()).unwrap();
        assert_eq!(lvl(&general, Some(true)).level, Larger);
        assert!(lvl(&general, Some(true)).raised);
        assert_eq!(lvl(&larger, Some(true)).level, Major);
        assert_eq!(lvl(&major, Some(true)).level, Major);
        // Only `true` raises: false and null do not.
        assert_eq!(lvl(&general, Some(false)).level, General);
        assert_eq!(lvl(&general, None).level, General);
        // The raise is applied once, after taking the higher medium.
        let d = assess(&general, &larger, Some(true), &p()).unwrap();
        assert_eq!(d.level, Major);
        assert_eq!(d.to_string(), "重大[一般-大气(Q1-M1-E3)+较大-水(Q1-M1-E1)]");
        // A policy with two steps goes general → major; zero steps disables the raise.
        let mut two = p();
        two.serious_violation_raise = 2;
        assert_eq!(
            assess(&general, &none, Some(true), &two).unwrap().level,
            Major
        );
        let mut zero = p();
        zero.serious_violation_raise = 0;
        let d = assess(&general, &none, Some(true), &zero).unwrap();
        assert_eq!((d.level, d.raised), (General, false));
        assert_eq!(raise(General, 0), General);
        assert_eq!(raise(Major, 1), Major);
    }

    #[test]
    fn nan_inputs_count_as_absent() {
        let nan_q = Hj941Input {
            q: Some(f64::NAN),
            m: Some(30.0),
            e: Some(E1),
        };
        assert_eq!(assess_medium(&nan_q, &p()), None);
        let nan_m = Hj941Input {
            q: Some(5.0),
            m: Some(f64::NAN),
            e: Some(E1),
        };
        assert_eq!(assess_medium(&nan_m, &p()), None);
    }
}
