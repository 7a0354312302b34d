//! Unit tests of the report's numbers (`build`, `changes`, `ratio_histogram`, `detect_lang`) and of
//! reading the sample and list files back. Expected values are worked out by hand in the comments
//! from SPEC §4 step 2 (π = min(1, ratio / 12)) and the rows each test builds.

use super::*;
use crate::Error;
use crate::schema::{CreditSource, Tier};
use crate::table::ReadOptions;
use crate::whitelist::{
    Candidate, PreviousEntry, WhitelistParams, update, write_table, write_xlsx,
};

/// A valid USCC, distinct and increasing with `n` (check character from GB 32100-2015).
fn code(n: u32) -> String {
    // Invariant: the 17 characters are digits and 'M', 'A', all in the code's character set.
    crate::uscc::complete(&format!("91110108MA{n:07}")).expect("valid characters")
}

/// One scored enterprise: code number, district, tier, class, market and eco ratios, listed.
type Spec = (u32, u32, Tier, CreditClass, f64, f64, bool);

fn scored(spec: &[Spec]) -> ScoredRows {
    let mut s = ScoredRows::default();
    for (i, &(n, district, tier, class, mr, er, pl)) in spec.iter().enumerate() {
        s.row.push(i as u64 + 1);
        s.uscc.push(code(n));
        s.name.push(format!("企业{n}"));
        s.district.push(district);
        s.tier.push(tier);
        s.credit_class.push(class);
        s.credit_source.push(Some(if n.is_multiple_of(2) {
            CreditSource::Given
        } else {
            CreditSource::Default
        }));
        s.credit_points.push(None);
        s.credit_reasons.push(None);
        s.pe_air.push(None);
        s.pe_water.push(None);
        s.pe_total.push(None);
        s.env_tax_cny.push(None);
        s.emission_band.push(crate::schema::EmissionBand::Low);
        s.env_risk_level.push(None);
        s.env_risk_source.push(None);
        s.env_risk_detail.push(None);
        s.market_ratio.push(mr);
        s.market_max_per_year.push(1);
        s.eco_ratio.push(er);
        s.eco_max_per_year.push(if pl { 0 } else { 2 });
        s.eco_mode.push(if pl {
            crate::schema::Mode::NonSite
        } else {
            crate::schema::Mode::Onsite
        });
        s.positive_list.push(pl);
        s.risk_score.push(10.0);
        s.reasons.push(Default::default());
        s.permit_class.push(None);
    }
    s
}

const HAIDIAN: u32 = 110108;
const CHAOYANG: u32 = 110105;

fn four() -> ScoredRows {
    use CreditClass::*;
    scored(&[
        (1, HAIDIAN, Tier::Specialized, A, 0.018, 0.0, true),
        (2, HAIDIAN, Tier::None, C, 0.3, 0.24, false),
        (3, CHAOYANG, Tier::LittleGiant, B, 0.1, 0.12, false),
        (4, CHAOYANG, Tier::None, D, 0.8, 0.6, false),
    ])
}

fn inputs<'a>(s: &'a ScoredRows, policy: &'a Policy) -> ReportInputs<'a> {
    ReportInputs {
        scored: s,
        sample: None,
        list: None,
        previous: None,
        policy,
        files: &[],
        month: Some("2026-12"),
        coordination: None,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn counts_by_class_tier_and_district() {
    let s = four();
    let p = Policy::default();
    let d = build(&inputs(&s, &p));
    assert_eq!(d.enterprises, 4);
    assert_eq!(d.credit, [1, 1, 1, 1]);
    // Tier::ALL order: innovative, specialized, little giant, none.
    assert_eq!(d.tiers, [0, 1, 1, 2]);
    // Odd code numbers were given credit_source = default: 1 and 3.
    assert_eq!(d.credit_defaulted, 2);
    assert_eq!(d.positive_eligible, 1);
    assert_eq!(d.market_population, 4);
    assert_eq!(d.ecology_population, 3);
    let codes: Vec<u32> = d.districts.iter().map(|r| r.district).collect();
    assert_eq!(codes, [CHAOYANG, HAIDIAN], "districts by code");
    let hd = &d.districts[1];
    assert_eq!(hd.enterprises, 2);
    assert_eq!(hd.credit, [1, 0, 1, 0]);
    assert_eq!(hd.positive_eligible, 1);
    assert_eq!(d.month.as_deref(), Some("2026-12"));
    assert!(close(d.share(1), 0.25));
}

#[test]
fn expected_inspections_are_sums_of_monthly_pi() {
    let s = four();
    let p = Policy::default();
    let d = build(&inputs(&s, &p));
    // SPEC §4 step 2, π = min(1, ratio / 12). 海淀: market 0.018/12 + 0.3/12 = 0.0265;
    // ecology 0 + 0.24/12 = 0.02; joint 0.0015·0 + 0.025·0.02 = 0.0005;
    // visits 0.0265 + 0.02 − 0.0005 = 0.046.
    let hd = &d.districts[1].expected;
    assert!(close(hd.market, 0.0265), "{hd:?}");
    assert!(close(hd.ecology, 0.02), "{hd:?}");
    assert!(close(hd.joint, 0.0005), "{hd:?}");
    assert!(close(hd.visits, 0.046), "{hd:?}");
    // 朝阳: market (0.1 + 0.8)/12 = 0.075; ecology (0.12 + 0.6)/12 = 0.06;
    // joint 0.1/12·0.12/12 + 0.8/12·0.6/12 = 0.0000833… + 0.0033333… = 0.0034166…
    let cy = &d.districts[0].expected;
    assert!(close(cy.market, 0.075), "{cy:?}");
    assert!(close(cy.ecology, 0.06), "{cy:?}");
    assert!(
        close(cy.joint, 0.1 / 12.0 * 0.01 + 0.8 / 12.0 * 0.05),
        "{cy:?}"
    );
    // Totals are the sums of the districts.
    assert!(close(d.expected.market, 0.1015));
    assert!(close(d.expected.ecology, 0.08));
    assert!(close(d.expected.visits, hd.visits + cy.visits));
    // A ratio of 1 is a monthly π of 1/12; π never exceeds 1.
    assert!(close(monthly_pi(1.0), 1.0 / 12.0));
    assert!(close(monthly_pi(24.0), 1.0));
}

#[test]
fn histogram_bands_include_their_lower_bound() {
    // Bands: [0], (0, 0.05), [0.05, 0.1), [0.1, 0.2), [0.2, 0.3), [0.3, 0.5), [0.5, 0.8), [0.8, 1].
    let h = ratio_histogram(&[0.0, 0.0499, 0.05, 0.1, 0.2999, 0.3, 0.5, 0.8, 1.0]);
    let counts: Vec<usize> = h.bins.iter().map(|b| b.count).collect();
    assert_eq!(counts, [1, 1, 1, 1, 1, 1, 1, 2]);
    assert_eq!((h.bins[0].lo, h.bins[0].hi), (0.0, 0.0));
    assert_eq!((h.bins[7].lo, h.bins[7].hi), (0.8, 1.0));
    // Mean of the nine values: (0.0499 + 0.05 + 0.1 + 0.2999 + 0.3 + 0.5 + 0.8 + 1) / 9 = 3.0998 / 9.
    assert!(close(h.mean, 3.0998 / 9.0), "{}", h.mean);
    let empty = ratio_histogram(&[]);
    assert_eq!(empty.bins.len(), 8);
    assert_eq!(empty.mean, 0.0);
    // The scored rows' histograms: market 0.018, 0.3, 0.1, 0.8; eco 0, 0.24, 0.12, 0.6.
    let p = Policy::default();
    let s = four();
    let d = build(&inputs(&s, &p));
    let m: Vec<usize> = d.market_hist.bins.iter().map(|b| b.count).collect();
    assert_eq!(m, [0, 1, 0, 1, 0, 1, 0, 1]);
    let e: Vec<usize> = d.eco_hist.bins.iter().map(|b| b.count).collect();
    assert_eq!(e, [1, 0, 0, 1, 1, 0, 1, 0]);
}

fn sample_row(n: u32, district: u32, dep: Departments, class: Option<CreditClass>) -> SampleRow {
    SampleRow {
        row: u64::from(n),
        seq: Some(u64::from(n)),
        uscc: code(n),
        name: Some(format!("企业{n}")),
        district,
        tier: None,
        credit_class: class,
        departments: dep,
        inspectors: n.is_multiple_of(2).then(|| "M001;M002".to_string()),
    }
}

#[test]
fn the_drawn_sample_by_district_department_class_and_tier() {
    let s = four();
    let p = Policy::default();
    let rows = vec![
        // 2: class from the sample (B, though scored C); tier from the scored file (none).
        sample_row(2, HAIDIAN, Departments::Joint, Some(CreditClass::B)),
        // 4: class and tier from the scored file (D, none).
        sample_row(4, CHAOYANG, Departments::Market, None),
        // 3: 朝阳, ecology only, class from the scored file (B), tier little giant.
        sample_row(3, CHAOYANG, Departments::Ecology, None),
        // 9: not in the scored file, in 东城: class and tier unknown.
        sample_row(9, 110101, Departments::Market, None),
    ];
    let d = build(&ReportInputs {
        sample: Some(&rows),
        ..inputs(&s, &p)
    });
    let sm = d.sample.as_ref().expect("sample summary");
    assert_eq!(sm.rows, 4);
    assert_eq!(sm.drawn.by_departments, [2, 1, 1]);
    assert_eq!(
        (sm.drawn.market(), sm.drawn.ecology(), sm.drawn.joint()),
        (3, 2, 1)
    );
    assert_eq!(sm.drawn.visits(), 4);
    assert_eq!(sm.by_credit, [0, 2, 0, 1]);
    assert_eq!(sm.credit_unknown, 1);
    assert_eq!(sm.by_tier, [0, 0, 1, 2]);
    assert_eq!(sm.tier_unknown, 1);
    assert_eq!(sm.not_in_scored, 1);
    assert_eq!(sm.staffed, 2);
    assert_eq!(sm.rows_in_order, rows);
    // 东城 appears only through the sample: a district line with no enterprise.
    let codes: Vec<u32> = d.districts.iter().map(|r| r.district).collect();
    assert_eq!(codes, [110101, CHAOYANG, HAIDIAN]);
    assert_eq!(d.districts[0].enterprises, 0);
    assert_eq!(d.districts[0].drawn.by_departments, [1, 0, 0]);
    assert_eq!(d.districts[1].drawn.by_departments, [1, 1, 0]);
    assert_eq!(d.districts[2].drawn.by_departments, [0, 0, 1]);
}

fn list_row(n: u32, status: Status, reasons: &[&str]) -> ListRow {
    ListRow {
        uscc: code(n),
        name: format!("企业{n}"),
        district: if n.is_multiple_of(2) {
            HAIDIAN
        } else {
            CHAOYANG
        },
        status,
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
    }
}

#[test]
fn the_list_by_status_with_removal_reasons() {
    let s = four();
    let p = Policy::default();
    let rows = vec![
        list_row(1, Status::Retained, &[]),
        // Listed, but code 2 is not eligible in the scored rows: counted as a mismatch.
        list_row(2, Status::New, &[]),
        list_row(12, Status::New, &[]),
        list_row(5, Status::Removed, &["ECO_PENALTY", "ECO_CREDIT"]),
        list_row(6, Status::Removed, &["ECO_PENALTY"]),
        list_row(7, Status::Removed, &["NOT_IN_DATA"]),
        list_row(8, Status::Waitlisted, &["CAP_FULL"]),
    ];
    let d = build(&ReportInputs {
        list: Some(&rows),
        ..inputs(&s, &p)
    });
    let l = d.list.as_ref().expect("list summary");
    assert_eq!(l.counts, [2, 1, 0, 1, 3]);
    assert_eq!(l.listed, 3);
    assert_eq!(l.count(Status::Removed), 3);
    assert_eq!(l.listed_not_eligible, 1);
    // Most frequent first, then by code.
    assert_eq!(
        l.removal_reasons,
        [
            ("ECO_PENALTY".to_string(), 2),
            ("ECO_CREDIT".to_string(), 1),
            ("NOT_IN_DATA".to_string(), 1)
        ]
    );
    // By district, then code: 朝阳 (odd) before 海淀 (even).
    let removed: Vec<&str> = l.removed.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(removed, ["企业5", "企业7", "企业6"]);
    let new: Vec<&str> = l.new.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(new, ["企业2", "企业12"]);
    assert_eq!(l.waitlisted.len(), 1);
}

#[test]
fn changes_match_by_code() {
    use CreditClass::*;
    let before = scored(&[
        (1, HAIDIAN, Tier::Specialized, B, 0.1, 0.0, true),
        (2, HAIDIAN, Tier::None, C, 0.3, 0.24, false),
        (3, CHAOYANG, Tier::LittleGiant, A, 0.1, 0.12, true),
        (5, CHAOYANG, Tier::None, D, 0.8, 0.6, false),
        (6, CHAOYANG, Tier::None, D, 0.8, 0.6, false),
    ]);
    let mut now = four();
    // The same code written in lower case with spaces still matches.
    now.uscc[0] = format!(" {} ", now.uscc[0].to_ascii_lowercase());
    let c = changes(&before, &now);
    // Matched: 1 (B→A, better), 2 (C→C), 3 (A→B, worse). New: 4. Gone: 5, 6.
    assert_eq!(c.previous_enterprises, 5);
    assert_eq!(c.matched, 3);
    assert_eq!(c.new_enterprises, 1);
    assert_eq!(c.gone_enterprises, 2);
    assert_eq!(c.class_changed, 2);
    assert_eq!(c.class_improved, 1);
    assert_eq!(c.class_worsened, 1);
    let mut t = [[0usize; 4]; 4];
    t[1][0] = 1;
    t[2][2] = 1;
    t[0][1] = 1;
    assert_eq!(c.transitions, t);
    // 1 stays listed; 3 was eligible and is not now.
    assert_eq!((c.eligibility_gained, c.eligibility_lost), (0, 1));
    let p = Policy::default();
    let d = build(&ReportInputs {
        previous: Some(&before),
        ..inputs(&now, &p)
    });
    assert_eq!(d.changes, Some(c));
}

#[test]
fn language_follows_the_headers() {
    use arrow::datatypes::{DataType, Field, Schema};
    let s = |names: &[&str]| {
        Schema::new(
            names
                .iter()
                .map(|n| Field::new(*n, DataType::Utf8, true))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        detect_lang(&s(&["统一社会信用代码", "企业名称", "所属区", "extra"])),
        Lang::Zh
    );
    assert_eq!(detect_lang(&s(&["uscc", "name", "所属区"])), Lang::En);
    assert_eq!(detect_lang(&s(&["x"])), Lang::En);
}

fn tmp() -> tempfile::TempDir {
    // Test scaffolding: the OS temp dir is writable.
    tempfile::tempdir().expect("temp dir")
}

#[test]
fn a_sample_reads_back_with_chinese_headers() {
    let dir = tmp();
    let path = dir.path().join("样本.csv");
    let text = format!(
        "\u{FEFF}序号,统一社会信用代码,企业名称,所属区,企业梯度,信用风险分类,检查部门,入样概率,抽查比例,综合风险分,执法人员\n\
         1,{},\"北京<甲>&乙\",海淀区,小巨人,A类,市场监管+生态环境,0.05,0.6,12.5,M001；E002\n\
         2,{},丙,110105,,,生态环境,,,,\n",
        code(1),
        code(2).to_ascii_lowercase()
    );
    std::fs::write(&path, text).expect("write");
    let rows = read_sample(&path, &ReadOptions::default()).expect("reads");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].seq, Some(1));
    assert_eq!(rows[0].name.as_deref(), Some("北京<甲>&乙"));
    assert_eq!(rows[0].district, HAIDIAN);
    assert_eq!(rows[0].tier, Some(Tier::LittleGiant));
    assert_eq!(rows[0].credit_class, Some(CreditClass::A));
    assert_eq!(rows[0].departments, Departments::Joint);
    assert_eq!(rows[0].inspectors.as_deref(), Some("M001；E002"));
    assert_eq!(rows[1].uscc, code(2), "upper-cased");
    assert_eq!(rows[1].district, CHAOYANG);
    assert_eq!(rows[1].departments, Departments::Ecology);
    assert_eq!((rows[1].tier, rows[1].seq), (None, Some(2)));
}

#[test]
fn a_sample_without_a_needed_column_or_with_a_bad_cell_is_an_error() {
    let dir = tmp();
    let path = dir.path().join("sample.csv");
    std::fs::write(&path, format!("uscc,district\n{},110108\n", code(1))).expect("write");
    let e = read_sample(&path, &ReadOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(&e, Error::MissingColumn { column, .. } if column == "departments"),
        "{msg}"
    );
    assert!(
        msg.contains("sample.csv") && msg.contains("检查部门"),
        "{msg}"
    );

    std::fs::write(
        &path,
        format!(
            "uscc,district,departments\n{},110108,market\n{},110108,tax\n",
            code(1),
            code(2)
        ),
    )
    .expect("write");
    let msg = read_sample(&path, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("row 2") && msg.contains("\"departments\"") && msg.contains("\"tax\""),
        "{msg}"
    );

    std::fs::write(&path, "uscc,district,departments\nNOTACODE,110108,market\n").expect("write");
    let msg = read_sample(&path, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("row 1") && msg.contains("NOTACODE"), "{msg}");

    // π, ratio and risk score are not read: whatever the sample writes there cannot break it.
    std::fs::write(
        &path,
        format!(
            "uscc,district,departments,pi,ratio\n{},110108,market+ecology,0.01;0.02,n/a\n",
            code(1)
        ),
    )
    .expect("write");
    let rows = read_sample(&path, &ReadOptions::default()).expect("reads");
    assert_eq!(rows[0].departments, Departments::Joint);
}

/// A list with every status: 1 retained, 2 new, 3 removed (penalty), 4 removed (not in the data),
/// 5 and 6 eligible key permit holders of a district with four (7 and 8 not eligible) under a 25 %
/// cap of one place: 5 (lower risk score) listed, 6 waitlisted. Registration holders are never capped.
fn whitelist() -> crate::whitelist::Whitelist {
    use crate::schema::PermitClass::{Key, Registration};
    let d = |s: &str| crate::date::Date::parse(s).expect("test date");
    let cand = |n: u32, eligible: bool, reasons: &[&str], permit| Candidate {
        uscc: code(n),
        name: format!("企业{n}"),
        district: HAIDIAN,
        positive_list: eligible,
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
        risk_score: f64::from(n),
        pe_total: Some(1.0),
        permit_class: permit,
    };
    let candidates = vec![
        cand(1, true, &[], Some(Registration)),
        cand(2, true, &[], Some(Registration)),
        cand(3, false, &["ECO_PENALTY"], Some(Registration)),
        cand(5, true, &[], Some(Key)),
        cand(6, true, &[], Some(Key)),
        cand(7, false, &["ECO_CREDIT"], Some(Key)),
        cand(8, false, &["ECO_CREDIT"], Some(Key)),
    ];
    let prev = |n: u32| PreviousEntry {
        uscc: code(n),
        name: format!("企业{n}"),
        district: HAIDIAN,
        status: None,
        listed_on: d("2026-01-01"),
        expires_on: d("2029-01-01"),
    };
    let params = WhitelistParams {
        as_of: d("2026-12-01"),
        validity_years: 3,
        cap_share: Some(0.25),
    };
    update(&candidates, &[prev(1), prev(3), prev(4)], &params)
}

fn statuses(rows: &[ListRow]) -> Vec<(String, Status, Vec<String>)> {
    let mut v: Vec<(String, Status, Vec<String>)> = rows
        .iter()
        .map(|r| (r.name.clone(), r.status, r.reasons.clone()))
        .collect();
    v.sort();
    v
}

#[test]
fn a_list_reads_back_from_the_flat_table_and_the_workbook() {
    let list = whitelist();
    let want = vec![
        ("企业1".to_string(), Status::Retained, vec![]),
        ("企业2".to_string(), Status::New, vec![]),
        (
            "企业3".to_string(),
            Status::Removed,
            vec!["ECO_PENALTY".to_string()],
        ),
        (
            "企业4".to_string(),
            Status::Removed,
            vec!["NOT_IN_DATA".to_string()],
        ),
        ("企业5".to_string(), Status::New, vec![]),
        (
            "企业6".to_string(),
            Status::Waitlisted,
            vec!["CAP_FULL".to_string()],
        ),
    ];
    let dir = tmp();
    for (name, lang) in [
        ("l.csv", Lang::En),
        ("l-zh.csv", Lang::Zh),
        ("l.jsonl", Lang::Zh),
    ] {
        let path = dir.path().join(name);
        let opts = crate::whitelist::OutputOptions { bom: true, lang };
        write_table(&path, &list, &opts).expect("write");
        let rows = read_list(&path, &ReadOptions::default()).expect("reads");
        assert_eq!(statuses(&rows), want, "{name}");
    }
    let path = dir.path().join("l.xlsx");
    write_xlsx(&path, &list, &[]).expect("write");
    let rows = read_list(&path, &ReadOptions::default()).expect("reads");
    assert_eq!(statuses(&rows), want, "workbook");
    assert!(rows.iter().all(|r| r.district == HAIDIAN));
}

#[test]
fn a_list_without_a_status_column_is_an_error_naming_it() {
    let dir = tmp();
    let path = dir.path().join("list.csv");
    std::fs::write(
        &path,
        format!("uscc,name,district\n{},甲,110108\n", code(1)),
    )
    .expect("write");
    let msg = read_list(&path, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("list.csv") && msg.contains("\"status\"") && msg.contains("状态"),
        "{msg}"
    );
}

#[test]
fn a_coordinated_draw_shows_what_coordination_bought() {
    let s = four();
    let p = Policy::default();
    let rows = vec![
        sample_row(2, HAIDIAN, Departments::Joint, None),
        sample_row(4, CHAOYANG, Departments::Market, None),
    ];
    let c = crate::sample::Coordination {
        joint_drawn: 1,
        joint_expected: 10.94,
        visits_drawn: 2,
        visits_expected: 35.21,
        independent_joint_expected: 0.162,
        independent_visits_expected: 45.93,
    };
    let d = build(&ReportInputs {
        sample: Some(&rows),
        coordination: Some(&c),
        ..inputs(&s, &p)
    });
    assert_eq!(d.sample.as_ref().unwrap().coordination, Some(c));
    let en = super::html::render(&d, Lang::En);
    assert!(
        en.contains("1 joint visits (expected 10.9; 0.16 if the departments had drawn independently), 2 visits in all (expected 35.2, instead of 45.9 drawn independently)"),
        "{en}"
    );
    let zh = super::html::render(&d, Lang::Zh);
    assert!(zh.contains("联合检查 1 户（预计 10.9 户；两部门各自独立抽取时预计 0.16 户）"));
    // Without a manifest (an independent draw, or none given) the page says nothing of it.
    let plain = build(&ReportInputs {
        sample: Some(&rows),
        ..inputs(&s, &p)
    });
    assert!(!super::html::render(&plain, Lang::En).contains("Coordinated draw"));
}
