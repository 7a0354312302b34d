//! Tests of the 正面清单 lifecycle: every status transition of SPEC §5, expiry on the exact day,
//! renewal dates (29 February), the district cap and its ranking with ties, removal reasons, the
//! summary; then the files: the workbook read back cell by cell with calamine, our outputs and
//! hand-edited lists read back as `--previous`, bad rows, and byte-identical repeated output.
//! Expected dates are calendar arithmetic on the as-of date (SPEC §5: listed_on + 3 years).

use std::path::{Path, PathBuf};

use super::*;
use crate::schema::PermitClass::{Key, Registration, Simplified};
use crate::table::ReadOptions;

/// A valid USCC, distinct and increasing with `n` (check character from GB 32100-2015).
fn code(n: u32) -> String {
    // Invariant: the 17 characters are digits and 'M', 'A', all in the code's character set.
    crate::uscc::complete(&format!("91110108MA{n:07}")).expect("valid characters")
}

fn d(s: &str) -> Date {
    // Test dates are literals.
    Date::parse(s).expect("test date")
}

fn cand(n: u32, district: u32, eligible: bool, permit: Option<PermitClass>) -> Candidate {
    Candidate {
        uscc: code(n),
        name: format!("企业{n}"),
        district,
        positive_list: eligible,
        reasons: Vec::new(),
        risk_score: 10.0,
        pe_total: Some(100.0),
        permit_class: permit,
    }
}

fn prev(n: u32, district: u32, listed_on: &str, expires_on: &str) -> PreviousEntry {
    PreviousEntry {
        uscc: code(n),
        name: format!("企业{n}"),
        district,
        status: Some(Status::Retained),
        listed_on: d(listed_on),
        expires_on: d(expires_on),
    }
}

fn params(as_of: &str) -> WhitelistParams {
    WhitelistParams {
        as_of: d(as_of),
        validity_years: 3,
        cap_share: None,
    }
}

fn find(l: &Whitelist, n: u32) -> &Entry {
    let c = code(n);
    l.entries
        .iter()
        .find(|e| e.uscc == c)
        .unwrap_or_else(|| panic!("{c} not in the list"))
}

fn statuses(l: &Whitelist) -> Vec<(String, Status)> {
    l.entries
        .iter()
        .map(|e| (e.uscc.clone(), e.status))
        .collect()
}

mod lifecycle {
    use super::*;

    #[test]
    fn new_listing_starts_on_the_as_of_date() {
        let l = update(
            &[cand(1, 110108, true, Some(Key))],
            &[],
            &params("2026-07-01"),
        );
        let e = find(&l, 1);
        assert_eq!(e.status, Status::New);
        assert_eq!(e.listed_on, Some(d("2026-07-01")));
        assert_eq!(e.expires_on, Some(d("2029-07-01")));
        assert!(e.reasons.is_empty());
        assert_eq!(l.entries.len(), 1);
    }

    #[test]
    fn retained_keeps_its_dates() {
        let l = update(
            &[cand(1, 110108, true, Some(Key))],
            &[prev(1, 110108, "2025-03-15", "2028-03-15")],
            &params("2026-07-01"),
        );
        let e = find(&l, 1);
        assert_eq!(e.status, Status::Retained);
        assert_eq!(e.listed_on, Some(d("2025-03-15")));
        assert_eq!(e.expires_on, Some(d("2028-03-15")));
    }

    #[test]
    fn expiry_on_the_exact_day_renews_and_the_day_before_retains() {
        let c = [cand(1, 110108, true, Some(Key))];
        let p = [prev(1, 110108, "2023-07-01", "2026-07-01")];
        // expires_on == as-of → renewed, listed again from as-of for 3 years.
        let e = update(&c, &p, &params("2026-07-01")).entries[0].clone();
        assert_eq!(e.status, Status::Renewed);
        assert_eq!(e.listed_on, Some(d("2026-07-01")));
        assert_eq!(e.expires_on, Some(d("2029-07-01")));
        // The day before expiry → retained with the old dates.
        let e = update(&c, &p, &params("2026-06-30")).entries[0].clone();
        assert_eq!(e.status, Status::Retained);
        assert_eq!(e.listed_on, Some(d("2023-07-01")));
        assert_eq!(e.expires_on, Some(d("2026-07-01")));
        // Long overdue (a period was skipped) → renewed from as-of.
        let e = update(&c, &p, &params("2027-01-15")).entries[0].clone();
        assert_eq!(e.status, Status::Renewed);
        assert_eq!(e.expires_on, Some(d("2030-01-15")));
    }

    #[test]
    fn the_29th_of_february_expires_on_the_28th() {
        // New on 2028-02-29 (leap) → 2031-02-28; with 4 years of validity → 2032-02-29.
        let c = [cand(1, 110108, true, Some(Key))];
        let e = &update(&c, &[], &params("2028-02-29")).entries[0];
        assert_eq!(e.expires_on, Some(d("2031-02-28")));
        let p4 = WhitelistParams {
            validity_years: 4,
            ..params("2028-02-29")
        };
        assert_eq!(
            update(&c, &[], &p4).entries[0].expires_on,
            Some(d("2032-02-29"))
        );
        // Renewed on a 29 February.
        let p = [prev(1, 110108, "2025-02-28", "2028-02-28")];
        let e = &update(&c, &p, &params("2028-02-29")).entries[0];
        assert_eq!(e.status, Status::Renewed);
        assert_eq!(e.expires_on, Some(d("2031-02-28")));
    }

    #[test]
    fn removed_with_exactly_the_failed_criteria() {
        let mut c = cand(1, 110108, false, Some(Key));
        c.reasons = [
            "CREDIT_DEFAULTED",
            "ECO_PENALTY",
            "MARKET_RELIEF_SPECIALIZED",
            " ECO_INCIDENT",
        ]
        .map(String::from)
        .to_vec();
        let l = update(
            &[c],
            &[prev(1, 110108, "2025-03-15", "2028-03-15")],
            &params("2026-07-01"),
        );
        let e = find(&l, 1);
        assert_eq!(e.status, Status::Removed);
        assert_eq!(e.reasons, vec!["ECO_PENALTY", "ECO_INCIDENT"]);
        // A removed enterprise keeps the dates of the listing it left.
        assert_eq!(e.listed_on, Some(d("2025-03-15")));
        assert_eq!(e.expires_on, Some(d("2028-03-15")));
        assert_eq!(e.risk_score, Some(10.0));
    }

    #[test]
    fn ineligible_without_a_recorded_criterion_is_still_explained() {
        let l = update(
            &[cand(1, 110108, false, Some(Key))],
            &[prev(1, 110108, "2025-03-15", "2028-03-15")],
            &params("2026-07-01"),
        );
        assert_eq!(find(&l, 1).reasons, vec![reasons::NOT_ELIGIBLE]);
    }

    #[test]
    fn missing_from_the_data_is_removed_not_dropped() {
        let mut p = prev(9, 110101, "2024-02-29", "2027-02-28");
        p.name = "旧企业".into();
        let l = update(
            &[cand(1, 110108, true, Some(Key))],
            &[p],
            &params("2026-07-01"),
        );
        let e = find(&l, 9);
        assert_eq!(e.status, Status::Removed);
        assert_eq!(e.reasons, vec![reasons::NOT_IN_DATA]);
        assert_eq!((e.name.as_str(), e.district), ("旧企业", 110101));
        assert_eq!(e.listed_on, Some(d("2024-02-29")));
        assert_eq!((e.risk_score, e.permit_class), (None, None));
        assert_eq!(l.entries.len(), 2);
    }

    #[test]
    fn removed_and_waitlisted_rows_of_the_previous_list_are_not_on_it() {
        let mut removed = prev(1, 110108, "2025-03-15", "2028-03-15");
        removed.status = Some(Status::Removed);
        let mut waiting = prev(2, 110108, "2025-03-15", "2028-03-15");
        waiting.status = Some(Status::Waitlisted);
        let mut no_status = prev(3, 110108, "2025-03-15", "2028-03-15");
        no_status.status = None;
        let mut gone = prev(4, 110108, "2025-03-15", "2028-03-15");
        gone.status = Some(Status::Removed);
        let c = [
            cand(1, 110108, true, Some(Key)),
            cand(2, 110108, true, Some(Key)),
            cand(3, 110108, true, Some(Key)),
        ];
        let l = update(
            &c,
            &[removed, waiting, no_status, gone],
            &params("2026-07-01"),
        );
        // Eligible again after removal → new from as-of; a row without status is on the list.
        assert_eq!(
            statuses(&l),
            vec![
                (code(1), Status::New),
                (code(2), Status::New),
                (code(3), Status::Retained),
            ]
        );
        assert_eq!(find(&l, 1).listed_on, Some(d("2026-07-01")));
    }

    #[test]
    fn ineligible_and_never_listed_is_not_in_the_output() {
        let mut c = cand(1, 110108, false, Some(Key));
        c.reasons = vec!["ECO_PENALTY".into()];
        let l = update(&[c], &[], &params("2026-07-01"));
        assert!(l.entries.is_empty());
        assert_eq!(l.summary().total, StatusCounts::default());
    }

    #[test]
    fn codes_match_whatever_their_case_and_a_later_duplicate_is_ignored() {
        let mut c = cand(1, 110108, true, Some(Key));
        c.uscc = format!(" {} ", code(1).to_ascii_lowercase());
        let mut dup = cand(1, 110105, false, Some(Key));
        dup.reasons = vec!["ECO_PENALTY".into()];
        let l = update(
            &[c, dup],
            &[prev(1, 110108, "2025-03-15", "2028-03-15")],
            &params("2026-07-01"),
        );
        assert_eq!(statuses(&l), vec![(code(1), Status::Retained)]);
        assert_eq!(l.entries[0].district, 110108);
    }

    #[test]
    fn output_is_sorted_and_independent_of_input_order() {
        let mut c = vec![
            cand(5, 110108, true, Some(Key)),
            cand(4, 110101, true, Some(Key)),
            cand(3, 110108, false, Some(Key)),
            cand(2, 110105, true, Some(Key)),
            cand(1, 110108, true, Some(Key)),
        ];
        let p = vec![
            prev(3, 110108, "2025-01-01", "2028-01-01"),
            prev(1, 110108, "2025-01-01", "2028-01-01"),
            prev(7, 110102, "2025-01-01", "2028-01-01"),
        ];
        let a = update(&c, &p, &params("2026-07-01"));
        assert_eq!(
            statuses(&a),
            vec![
                (code(4), Status::New),
                (code(2), Status::New),
                (code(5), Status::New),
                (code(1), Status::Retained),
                (code(7), Status::Removed),
                (code(3), Status::Removed),
            ]
        );
        c.reverse();
        let mut p2 = p.clone();
        p2.reverse();
        assert_eq!(update(&c, &p2, &params("2026-07-01")), a);
    }

    #[test]
    fn cap_ranks_by_risk_then_pe_then_code() {
        // Ten key/simplified holders in 海淀 → cap ⌊0.2 × 10⌋ = 2.
        let mut c: Vec<Candidate> = (1..=10)
            .map(|n| {
                cand(
                    n,
                    110108,
                    false,
                    Some(if n % 2 == 0 { Key } else { Simplified }),
                )
            })
            .collect();
        let set = |c: &mut Candidate, risk: f64, pe: Option<f64>| {
            c.positive_list = true;
            c.risk_score = risk;
            c.pe_total = pe;
        };
        set(&mut c[0], 10.0, Some(5.0)); // #1: ties #2 and #4 on risk, loses on pe
        set(&mut c[1], 10.0, Some(3.0)); // #2: ties #4 on risk and pe, wins on code
        set(&mut c[3], 10.0, Some(3.0)); // #4
        set(&mut c[2], 5.0, Some(900.0)); // #3: lowest risk wins despite its pe
        set(&mut c[4], 10.0, None); // #5: missing pe ranks after every known pe
        // A registration-only enterprise is outside the cap.
        let mut r = cand(11, 110108, true, Some(Registration));
        r.risk_score = 99.0;
        c.push(r);
        let p = WhitelistParams {
            cap_share: Some(0.2),
            ..params("2026-07-01")
        };
        let l = update(&c, &[], &p);
        let got: Vec<(String, Status, Option<u32>)> = l
            .entries
            .iter()
            .map(|e| (e.uscc.clone(), e.status, e.waitlist_rank))
            .collect();
        assert_eq!(
            got,
            vec![
                (code(2), Status::New, None),
                (code(3), Status::New, None),
                (code(11), Status::New, None),
                (code(4), Status::Waitlisted, Some(1)),
                (code(1), Status::Waitlisted, Some(2)),
                (code(5), Status::Waitlisted, Some(3)),
            ]
        );
        assert_eq!(find(&l, 4).reasons, vec![reasons::CAP_FULL]);
        assert_eq!(
            (find(&l, 4).listed_on, find(&l, 4).expires_on),
            (None, None)
        );
        assert_eq!(
            l.caps,
            vec![DistrictCap {
                district: 110108,
                permit_holders: 10,
                cap: 2
            }]
        );
    }

    #[test]
    fn incumbents_keep_their_place_ahead_of_better_ranked_newcomers() {
        // Two holders, cap ⌊0.5 × 2⌋ = 1: the listed firm stays although the newcomer ranks better.
        let mut inc = cand(1, 110108, true, Some(Key));
        inc.risk_score = 30.0;
        let mut newc = cand(2, 110108, true, Some(Simplified));
        newc.risk_score = 0.0;
        let p = WhitelistParams {
            cap_share: Some(0.5),
            ..params("2026-07-01")
        };
        let l = update(
            &[inc.clone(), newc.clone()],
            &[prev(1, 110108, "2023-07-01", "2026-07-01")],
            &p,
        );
        assert_eq!(
            statuses(&l),
            vec![(code(1), Status::Renewed), (code(2), Status::Waitlisted)]
        );
        // Cap 1 but two incumbents (the district lost holders): the better-ranked one stays, the
        // other waits ahead of the newcomer.
        let mut inc2 = cand(3, 110108, true, Some(Key));
        inc2.risk_score = 20.0;
        let l = update(
            &[inc, newc, inc2],
            &[
                prev(1, 110108, "2025-01-01", "2028-01-01"),
                prev(3, 110108, "2025-01-01", "2028-01-01"),
            ],
            &WhitelistParams {
                cap_share: Some(0.34),
                ..p
            },
        );
        let got: Vec<_> = l
            .entries
            .iter()
            .map(|e| (e.uscc.clone(), e.status, e.waitlist_rank))
            .collect();
        assert_eq!(
            got,
            vec![
                (code(3), Status::Retained, None),
                (code(1), Status::Waitlisted, Some(1)),
                (code(2), Status::Waitlisted, Some(2)),
            ]
        );
    }

    #[test]
    fn caps_are_per_district_and_floored() {
        assert_eq!(district_cap(0.29, 100), 29, "0.29 × 100 is 28.999… in f64");
        assert_eq!(district_cap(0.2, 4), 0);
        assert_eq!(district_cap(0.2, 5), 1);
        assert_eq!(district_cap(1.0, 7), 7);
        // 朝阳 has 5 holders (cap 1), 海淀 4 (cap 0): each district on its own.
        let mut c: Vec<Candidate> = (1..=5).map(|n| cand(n, 110105, true, Some(Key))).collect();
        c.extend((6..=9).map(|n| cand(n, 110108, true, Some(Key))));
        let p = WhitelistParams {
            cap_share: Some(0.2),
            ..params("2026-07-01")
        };
        let s = update(&c, &[], &p).summary();
        let by: Vec<(u32, usize, usize)> = s
            .districts
            .iter()
            .map(|d| (d.district, d.counts.listed(), d.counts.waitlisted))
            .collect();
        assert_eq!(by, vec![(110105, 1, 4), (110108, 0, 4)]);
    }

    #[test]
    fn summary_counts_and_display() {
        let mut gone = cand(3, 110108, false, Some(Key));
        gone.reasons = vec!["ECO_CREDIT".into()];
        let l = update(
            &[
                cand(1, 110108, true, Some(Key)),
                cand(2, 110108, true, Some(Key)),
                gone,
                cand(4, 110105, true, Some(Key)),
            ],
            &[
                prev(2, 110108, "2025-01-01", "2028-01-01"),
                prev(3, 110108, "2025-01-01", "2028-01-01"),
            ],
            &params("2026-07-01"),
        );
        let s = l.summary();
        assert_eq!(
            s.total,
            StatusCounts {
                new: 2,
                retained: 1,
                renewed: 0,
                waitlisted: 0,
                removed: 1
            }
        );
        assert_eq!(s.total.listed(), 3);
        assert_eq!(s.districts.len(), 2);
        assert_eq!(s.districts[1].counts.get(Status::Removed), 1);
        let text = s.to_string();
        let expected = "\
positive list as of 2026-07-01 (valid 3 years, no cap)
listed 3 (new 2, retained 1, renewed 0), waitlisted 0, removed 1
district                   listed  new  retained  renewed  waitlisted  removed
110105 朝阳区                   1    1         0        0           0        0
110108 海淀区                   2    1         1        0           0        1
";
        assert_eq!(text, expected);
    }

    #[test]
    fn summary_display_with_a_cap() {
        let c: Vec<Candidate> = (1..=3).map(|n| cand(n, 110302, true, Some(Key))).collect();
        let p = WhitelistParams {
            cap_share: Some(0.07),
            ..params("2026-07-01")
        };
        // Three holders in 经开区: cap ⌊0.07 × 3⌋ = 0, so all three wait.
        let text = update(&c, &[], &p).summary().to_string();
        let expected = "\
positive list as of 2026-07-01 (valid 3 years, cap 7% of key + simplified permit holders per district)
listed 0 (new 0, retained 0, renewed 0), waitlisted 3, removed 0
district                   listed  new  retained  renewed  waitlisted  removed  cap
110302 北京经济技术开发区       0    0         0        0           3        0  0/3
";
        assert_eq!(text, expected);
    }

    #[test]
    fn params_and_as_of_are_checked() {
        assert!(params("2026-07-01").validate().is_ok());
        let bad = WhitelistParams {
            validity_years: 0,
            ..params("2026-07-01")
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("eco.validity_years")
        );
        for share in [0.0, 1.5, f64::NAN] {
            let bad = WhitelistParams {
                cap_share: Some(share),
                ..params("2026-07-01")
            };
            assert!(
                bad.validate()
                    .unwrap_err()
                    .to_string()
                    .contains("eco.cap_share")
            );
        }
        let p = [prev(1, 110108, "2026-08-01", "2029-08-01")];
        let e = check_as_of(&p, d("2026-07-01")).unwrap_err().to_string();
        assert!(
            e.contains("--as-of") && e.contains("2026-08-01") && e.contains(&code(1)),
            "{e}"
        );
        assert!(check_as_of(&p, d("2026-08-01")).is_ok());
    }

    #[test]
    fn status_labels_parse_back() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.en()), Some(s));
            assert_eq!(Status::parse(s.zh()), Some(s));
            assert_eq!(Status::parse(&s.en().to_uppercase()), Some(s));
        }
        assert_eq!(Status::parse("到期续期"), Some(Status::Renewed));
        assert_eq!(Status::parse("maybe"), None);
        assert!(Status::New.is_listed() && !Status::Waitlisted.is_listed());
    }
}

/// The small case of the file tests: every status once, two districts plus one gone, a cap.
///
/// 海淀 (110108) has 6 key/simplified holders (#1 #2 #3 #4 #5 #7), cap ⌊0.5 × 6⌋ = 3: incumbents
/// #1 (retained) and #2 (renewed: expires on the as-of date) keep their places, newcomer #3 (risk
/// 5) takes the third, newcomer #5 (risk 15) waits. #4 fails two criteria; #6 (朝阳, registration
/// only) is outside the cap; #8 was listed in 东城 and is no longer in the data.
fn case() -> (Vec<Candidate>, Vec<PreviousEntry>, WhitelistParams) {
    let mut c = vec![
        cand(1, 110108, true, Some(Key)),
        cand(2, 110108, true, Some(Simplified)),
        cand(3, 110108, true, Some(Key)),
        cand(4, 110108, false, Some(Key)),
        cand(5, 110108, true, Some(Key)),
        cand(6, 110105, true, Some(Registration)),
        cand(7, 110108, false, Some(Simplified)),
    ];
    let score = [
        (10.0, 100.0),
        (20.0, 50.0),
        (5.0, 10.0),
        (40.0, 3000.0),
        (15.0, 20.0),
        (0.0, 0.0),
        (50.0, 1.5),
    ];
    for (c, (r, pe)) in c.iter_mut().zip(score) {
        c.risk_score = r;
        c.pe_total = Some(pe);
    }
    c[3].reasons = vec!["ECO_PENALTY".into(), "ECO_NO_MONITORING".into()];
    c[6].reasons = vec!["ECO_CREDIT".into()];
    let p = vec![
        prev(1, 110108, "2024-07-01", "2027-07-01"),
        prev(2, 110108, "2023-07-01", "2026-07-01"),
        prev(4, 110108, "2025-01-10", "2028-01-10"),
        PreviousEntry {
            name: "旧企业".into(),
            ..prev(8, 110101, "2024-02-29", "2027-02-28")
        },
    ];
    let params = WhitelistParams {
        as_of: d("2026-07-01"),
        validity_years: 3,
        cap_share: Some(0.5),
    };
    (c, p, params)
}

fn case_list() -> Whitelist {
    let (c, p, params) = case();
    update(&c, &p, &params)
}

fn inputs() -> Vec<InputFile> {
    vec![InputFile {
        role: "评分结果".into(),
        path: "scored.parquet".into(),
        sha256: "ab".repeat(32),
    }]
}

mod files {
    use super::*;
    use calamine::{Data, Reader};

    fn tmp() -> tempfile::TempDir {
        // Test scaffolding: a temp dir must be creatable.
        tempfile::tempdir().expect("temp dir")
    }

    /// Every cell of a sheet: text as is, numbers as `n:…`, dates as `d:YYYY-MM-DD`, blank as "".
    fn sheet(path: &Path, name: &str) -> Vec<Vec<String>> {
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(path).unwrap();
        let range = wb.worksheet_range(name).unwrap();
        range
            .rows()
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        Data::Empty => String::new(),
                        Data::String(s) => s.clone(),
                        Data::Float(f) => format!("n:{f}"),
                        Data::Int(i) => format!("n:{i}"),
                        Data::DateTime(x) => {
                            format!("d:{}", Date::from_excel_serial(x.as_f64()))
                        }
                        other => format!("?{other:?}"),
                    })
                    .collect()
            })
            .collect()
    }

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_case_has_every_status() {
        let l = case_list();
        let got: Vec<(String, Status, Option<u32>)> = l
            .entries
            .iter()
            .map(|e| (e.uscc.clone(), e.status, e.waitlist_rank))
            .collect();
        assert_eq!(
            got,
            vec![
                (code(6), Status::New, None),
                (code(3), Status::New, None),
                (code(1), Status::Retained, None),
                (code(2), Status::Renewed, None),
                (code(5), Status::Waitlisted, Some(1)),
                (code(8), Status::Removed, None),
                (code(4), Status::Removed, None),
            ]
        );
    }

    #[test]
    fn workbook_cells_read_back_with_calamine() {
        let dir = tmp();
        let path = dir.path().join("list.xlsx");
        write_xlsx(&path, &case_list(), &inputs()).unwrap();
        let wb: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
        assert_eq!(
            wb.sheet_names(),
            vec!["正面清单", "新增", "移出", "候补", "说明"]
        );
        drop(wb);

        let c = |n| code(n);
        let list_header = row(&[
            "统一社会信用代码",
            "企业名称",
            "所属区",
            "状态",
            "纳入日期",
            "有效期至",
            "排污许可管理类别",
            "综合风险分",
            "污染当量数合计",
        ]);
        assert_eq!(
            sheet(&path, "正面清单"),
            vec![
                list_header.clone(),
                row(&[
                    &c(6),
                    "企业6",
                    "朝阳区",
                    "新增",
                    "d:2026-07-01",
                    "d:2029-07-01",
                    "登记管理",
                    "n:0",
                    "n:0"
                ]),
                row(&[
                    &c(1),
                    "企业1",
                    "海淀区",
                    "保留",
                    "d:2024-07-01",
                    "d:2027-07-01",
                    "重点管理",
                    "n:10",
                    "n:100"
                ]),
                row(&[
                    &c(2),
                    "企业2",
                    "海淀区",
                    "续期",
                    "d:2026-07-01",
                    "d:2029-07-01",
                    "简化管理",
                    "n:20",
                    "n:50"
                ]),
                row(&[
                    &c(3),
                    "企业3",
                    "海淀区",
                    "新增",
                    "d:2026-07-01",
                    "d:2029-07-01",
                    "重点管理",
                    "n:5",
                    "n:10"
                ]),
            ]
        );
        let mut new_header = list_header.clone();
        new_header.remove(3);
        assert_eq!(
            sheet(&path, "新增"),
            vec![
                new_header,
                row(&[
                    &c(6),
                    "企业6",
                    "朝阳区",
                    "d:2026-07-01",
                    "d:2029-07-01",
                    "登记管理",
                    "n:0",
                    "n:0"
                ]),
                row(&[
                    &c(3),
                    "企业3",
                    "海淀区",
                    "d:2026-07-01",
                    "d:2029-07-01",
                    "重点管理",
                    "n:5",
                    "n:10"
                ]),
            ]
        );
        assert_eq!(
            sheet(&path, "移出"),
            vec![
                row(&[
                    "统一社会信用代码",
                    "企业名称",
                    "所属区",
                    "原纳入日期",
                    "原有效期至",
                    "移出日期",
                    "移出原因",
                    "原因代码"
                ]),
                row(&[
                    &c(8),
                    "旧企业",
                    "东城区",
                    "d:2024-02-29",
                    "d:2027-02-28",
                    "d:2026-07-01",
                    "本期数据中无此企业",
                    "NOT_IN_DATA"
                ]),
                row(&[
                    &c(4),
                    "企业4",
                    "海淀区",
                    "d:2025-01-10",
                    "d:2028-01-10",
                    "d:2026-07-01",
                    "近24个月受到生态环境行政处罚；重点管理排污单位未安装自动监控或未联网",
                    "ECO_PENALTY;ECO_NO_MONITORING"
                ]),
            ]
        );
        assert_eq!(
            sheet(&path, "候补"),
            vec![
                row(&[
                    "统一社会信用代码",
                    "企业名称",
                    "所属区",
                    "候补顺位",
                    "排污许可管理类别",
                    "综合风险分",
                    "污染当量数合计",
                    "候补原因"
                ]),
                row(&[
                    &c(5),
                    "企业5",
                    "海淀区",
                    "n:1",
                    "重点管理",
                    "n:15",
                    "n:20",
                    "本区正面清单名额已满，列入候补"
                ]),
            ]
        );
        let version = format!("spotcheck {}", env!("CARGO_PKG_VERSION"));
        let sha = "ab".repeat(32);
        let notes = sheet(&path, "说明");
        // calamine pads every row of the range to its widest (10 columns here).
        let trimmed: Vec<Vec<String>> = notes
            .into_iter()
            .map(|mut r| {
                while r.last().is_some_and(|s| s.is_empty()) {
                    r.pop();
                }
                r
            })
            .collect();
        assert_eq!(
            trimmed,
            vec![
                row(&["项目", "内容"]),
                row(&["生成程序", &version]),
                row(&["基准日期", "d:2026-07-01"]),
                row(&["有效期（年）", "n:3"]),
                row(&[
                    "名额上限比例（占本区重点管理和简化管理排污单位数）",
                    "n:0.5"
                ]),
                row(&[
                    "名额分配规则",
                    "已在清单的企业优先保留；其余符合条件的企业按综合风险分、污染当量数合计、统一社会信用代码从低到高依次纳入，超出名额的列入候补；登记管理和无需排污许可的企业不占名额"
                ]),
                row(&["纳入正面清单（合计）", "n:4"]),
                row(&["其中：新增", "n:2"]),
                row(&["其中：保留", "n:1"]),
                row(&["其中：续期", "n:1"]),
                row(&["候补", "n:1"]),
                row(&["移出", "n:2"]),
                row(&[]),
                row(&["输入文件", "路径", "SHA-256"]),
                row(&["评分结果", "scored.parquet", &sha]),
                row(&[]),
                row(&[
                    "所属区",
                    "区划代码",
                    "清单合计",
                    "新增",
                    "保留",
                    "续期",
                    "候补",
                    "移出",
                    "重点+简化管理排污单位数",
                    "名额上限"
                ]),
                row(&["东城区", "110101", "n:0", "n:0", "n:0", "n:0", "n:0", "n:1"]),
                row(&[
                    "朝阳区",
                    "110105",
                    "n:1",
                    "n:1",
                    "n:0",
                    "n:0",
                    "n:0",
                    "n:0",
                    "n:0",
                    "n:0"
                ]),
                row(&[
                    "海淀区",
                    "110108",
                    "n:3",
                    "n:1",
                    "n:1",
                    "n:1",
                    "n:1",
                    "n:1",
                    "n:6",
                    "n:3"
                ]),
                row(&["合计", "", "n:4", "n:2", "n:1", "n:1", "n:1", "n:2"]),
            ]
        );
    }

    #[test]
    fn chinese_reasons_match_the_failed_criteria_one_to_one() {
        // Enterprise i fails criterion code i alone; enterprise 99 fails all twelve at once.
        let codes: Vec<&str> = reasons::REASONS
            .iter()
            .filter(|r| r.criterion > 0)
            .map(|r| r.code)
            .collect();
        assert_eq!(codes.len(), 12);
        let mut c = Vec::new();
        let mut p = Vec::new();
        for (i, code_) in codes.iter().enumerate() {
            let n = i as u32 + 1;
            let mut x = cand(n, 110108, false, Some(Key));
            x.reasons = vec![code_.to_string()];
            c.push(x);
            p.push(prev(n, 110108, "2025-01-01", "2028-01-01"));
        }
        let mut all = cand(99, 110108, false, Some(Key));
        all.reasons = codes.iter().map(|s| s.to_string()).collect();
        c.push(all);
        p.push(prev(99, 110108, "2025-01-01", "2028-01-01"));
        let dir = tmp();
        let path = dir.path().join("removed.xlsx");
        write_xlsx(&path, &update(&c, &p, &params("2026-07-01")), &[]).unwrap();
        let rows = sheet(&path, "移出");
        assert_eq!(rows.len(), 1 + 13);
        let zh_to_code = |s: &str| {
            reasons::REASONS
                .iter()
                .find(|r| r.zh == s)
                .map(|r| r.code.to_string())
                .unwrap_or_else(|| panic!("{s:?} is no reason sentence"))
        };
        for r in &rows[1..] {
            let from_text: Vec<String> = r[6].split('；').map(zh_to_code).collect();
            let from_codes: Vec<String> = r[7].split(';').map(str::to_string).collect();
            assert_eq!(from_text, from_codes, "{}", r[0]);
        }
        // Rows are by uscc: #1 … #12 with one sentence each, then #99 with all twelve in order.
        for (i, code_) in codes.iter().enumerate() {
            assert_eq!(rows[1 + i][7], *code_);
            assert_eq!(rows[1 + i][6], reasons::text(code_, Lang::Zh));
        }
        assert_eq!(rows[13][7], codes.join(";"));
        assert_eq!(rows[13][6].split('；').count(), 12);
    }

    #[test]
    fn workbook_has_frozen_bold_headers_and_fitted_widths() {
        // Inspect the sheet XML inside the zip: pane frozen at A2, column widths set, a bold font.
        let dir = tmp();
        let path = dir.path().join("list.xlsx");
        write_xlsx(&path, &case_list(), &inputs()).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let mut zip = zip_entries(&bytes);
        zip.sort();
        let sheet1 = zip
            .iter()
            .find(|(n, _)| n == "xl/worksheets/sheet1.xml")
            .map(|(_, x)| x.clone())
            .unwrap();
        assert!(
            sheet1.contains(
                r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#
            ),
            "{sheet1}"
        );
        // 统一社会信用代码: 8 CJK characters → 16 + 2; the codes are 18 wide → 20.
        assert!(
            sheet1.contains(r#"<col min="1" max="1" width="20.7109375" customWidth="1"/>"#),
            "{sheet1}"
        );
        let styles = zip
            .iter()
            .find(|(n, _)| n == "xl/styles.xml")
            .map(|(_, x)| x.clone())
            .unwrap();
        assert!(styles.contains("<b/>"));
    }

    /// The XML members of an XLSX by name (calamine does not expose panes or column widths).
    fn zip_entries(bytes: &[u8]) -> Vec<(String, String)> {
        let cursor = std::io::Cursor::new(bytes.to_vec());
        let mut z = zip::ZipArchive::new(cursor).unwrap();
        let mut out = Vec::new();
        for i in 0..z.len() {
            let mut f = z.by_index(i).unwrap();
            let name = f.name().map(|n| n.to_string()).unwrap_or_default();
            let mut s = String::new();
            use std::io::Read;
            if f.read_to_string(&mut s).is_ok() {
                out.push((name, s));
            }
        }
        out
    }

    #[test]
    fn our_workbook_is_the_next_previous_list() {
        let dir = tmp();
        let path = dir.path().join("list.xlsx");
        write_xlsx(&path, &case_list(), &inputs()).unwrap();
        let p = read_previous(&path, &ReadOptions::default()).unwrap();
        let got: Vec<(String, u32, Option<Status>, String, String)> = p
            .iter()
            .map(|e| {
                (
                    e.uscc.clone(),
                    e.district,
                    e.status,
                    e.listed_on.to_string(),
                    e.expires_on.to_string(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    code(6),
                    110105,
                    Some(Status::New),
                    "2026-07-01".into(),
                    "2029-07-01".into()
                ),
                (
                    code(1),
                    110108,
                    Some(Status::Retained),
                    "2024-07-01".into(),
                    "2027-07-01".into()
                ),
                (
                    code(2),
                    110108,
                    Some(Status::Renewed),
                    "2026-07-01".into(),
                    "2029-07-01".into()
                ),
                (
                    code(3),
                    110108,
                    Some(Status::New),
                    "2026-07-01".into(),
                    "2029-07-01".into()
                ),
            ]
        );
        // One year on, same data: #1 expires on the day and is renewed, the others stay, #5 still waits.
        let (c, _, params) = case();
        let next = update(
            &c,
            &p,
            &WhitelistParams {
                as_of: d("2027-07-01"),
                ..params
            },
        );
        let got: Vec<(String, Status)> = statuses(&next);
        assert_eq!(
            got,
            vec![
                (code(6), Status::Retained),
                (code(2), Status::Retained),
                (code(3), Status::Retained),
                (code(1), Status::Renewed),
                (code(5), Status::Waitlisted),
            ]
        );
    }

    #[test]
    fn csv_is_exact_and_reads_back() {
        let dir = tmp();
        let path = dir.path().join("list.csv");
        let rows = write_list(&path, &case_list(), &inputs(), &OutputOptions::default()).unwrap();
        assert_eq!(rows, 7);
        let text = std::fs::read_to_string(&path).unwrap();
        let c = code;
        let expected = format!(
            "uscc,name,district,status,listed_on,expires_on,reasons,reason_text,district_name,permit_class,risk_score,pe_total,waitlist_rank\n\
{},企业6,110105,new,2026-07-01,2029-07-01,,,朝阳区,registration,0.0,0.0,\n\
{},企业3,110108,new,2026-07-01,2029-07-01,,,海淀区,key,5.0,10.0,\n\
{},企业1,110108,retained,2024-07-01,2027-07-01,,,海淀区,key,10.0,100.0,\n\
{},企业2,110108,renewed,2026-07-01,2029-07-01,,,海淀区,simplified,20.0,50.0,\n\
{},企业5,110108,waitlisted,,,CAP_FULL,the district's cap on listed permit holders is reached,海淀区,key,15.0,20.0,1\n\
{},旧企业,110101,removed,2024-02-29,2027-02-28,NOT_IN_DATA,not in the current data,东城区,,,,\n\
{},企业4,110108,removed,2025-01-10,2028-01-10,ECO_PENALTY;ECO_NO_MONITORING,administrative penalty for an environmental offence in the last 24 months; key-management permit holder without connected automatic monitoring,海淀区,key,40.0,3000.0,\n",
            c(6),
            c(3),
            c(1),
            c(2),
            c(5),
            c(8),
            c(4)
        );
        assert_eq!(text, expected);
        let back: Vec<String> = read_previous(&path, &ReadOptions::default())
            .unwrap()
            .into_iter()
            .map(|e| e.uscc)
            .collect();
        assert_eq!(back, vec![c(6), c(3), c(1), c(2)]);
    }

    #[test]
    fn chinese_bom_csv_and_jsonl_read_back() {
        let dir = tmp();
        let l = case_list();
        let listed: Vec<String> = vec![code(6), code(3), code(1), code(2)];
        for (name, opts) in [
            (
                "zh.csv",
                OutputOptions {
                    bom: true,
                    lang: Lang::Zh,
                },
            ),
            ("en.jsonl", OutputOptions::default()),
            (
                "zh.jsonl",
                OutputOptions {
                    bom: false,
                    lang: Lang::Zh,
                },
            ),
            ("en.parquet", OutputOptions::default()),
        ] {
            let path = dir.path().join(name);
            write_list(&path, &l, &inputs(), &opts).unwrap();
            let back = read_previous(&path, &ReadOptions::default()).unwrap();
            let got: Vec<String> = back.iter().map(|e| e.uscc.clone()).collect();
            assert_eq!(got, listed, "{name}");
            assert_eq!(back[2].listed_on, d("2024-07-01"), "{name}");
            assert_eq!(back[2].status, Some(Status::Retained), "{name}");
        }
        let bytes = std::fs::read(dir.path().join("zh.csv")).unwrap();
        assert!(bytes.starts_with("\u{feff}统一社会信用代码,企业名称,所属区,状态,纳入日期,有效期至,原因代码,原因说明,".as_bytes()));
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.contains(
                ",旧企业,110101,移出,2024-02-29,2027-02-28,NOT_IN_DATA,本期数据中无此企业,东城区,"
            ),
            "{text}"
        );
        let jsonl = std::fs::read_to_string(dir.path().join("en.jsonl")).unwrap();
        let first: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
        assert_eq!(first["status"], "new");
        assert_eq!(first["listed_on"], "2026-07-01");
        assert_eq!(first["district"], "110105");
    }

    #[test]
    fn hand_edited_csv_with_bom_chinese_headers_and_extra_columns() {
        let dir = tmp();
        let path = dir.path().join("edited.csv");
        let text = format!(
            "\u{feff}备注,有效期至,企业名称,状态,统一社会信用代码,上榜日期,所属区,联系人\n\
             老企业,2028/3/15,企业一,保留,{},2025/3/15,海淀区,张三\n\
             ,2027年2月28日,企业二,,{},2024年2月29日,110105,\n\
             已处罚,,企业三,移出,{},,海淀,\n\
             ,,企业四,候补,{},,,\n\
             手工加,20290701,企业五,在列,{},20260701,110103,\n",
            code(1),
            code(2).to_ascii_lowercase(),
            code(3),
            code(4),
            code(5)
        );
        std::fs::write(&path, text).unwrap();
        let p = read_previous(&path, &ReadOptions::default()).unwrap();
        assert_eq!(
            p,
            vec![
                PreviousEntry {
                    uscc: code(1),
                    name: "企业一".into(),
                    district: 110108,
                    status: Some(Status::Retained),
                    listed_on: d("2025-03-15"),
                    expires_on: d("2028-03-15"),
                },
                PreviousEntry {
                    uscc: code(2),
                    name: "企业二".into(),
                    district: 110105,
                    status: None,
                    listed_on: d("2024-02-29"),
                    expires_on: d("2027-02-28"),
                },
                PreviousEntry {
                    uscc: code(5),
                    name: "企业五".into(),
                    district: 110101,
                    status: None,
                    listed_on: d("2026-07-01"),
                    expires_on: d("2029-07-01"),
                },
            ]
        );
    }

    #[test]
    fn hand_made_workbook_without_status_and_with_excel_dates() {
        // A bureau's own sheet: other sheet name, no status column, one date cell a real date,
        // one a date typed as text, one a date cell reformatted as a plain number.
        let dir = tmp();
        let path = dir.path().join("bureau.xlsx");
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("2025年清单").unwrap();
        let date_fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy年m月d日");
        for (j, h) in [
            "序号",
            "企业名称",
            "社会信用代码",
            "区",
            "列入日期",
            "到期日期",
        ]
        .iter()
        .enumerate()
        {
            ws.write_string(0, j as u16, *h).unwrap();
        }
        let serial = |s: &str| d(s).to_excel_serial();
        let dt = |s: &str| rust_xlsxwriter::ExcelDateTime::from_serial_datetime(serial(s)).unwrap();
        ws.write_number(1, 0, 1).unwrap();
        ws.write_string(1, 1, "企业一").unwrap();
        ws.write_string(1, 2, code(1)).unwrap();
        ws.write_string(1, 3, "海淀区").unwrap();
        ws.write_datetime_with_format(1, 4, dt("2025-03-15"), &date_fmt)
            .unwrap();
        ws.write_string(1, 5, "2028-03-15").unwrap();
        ws.write_number(2, 0, 2).unwrap();
        ws.write_string(2, 1, "企业二").unwrap();
        ws.write_string(2, 2, code(2)).unwrap();
        ws.write_number(2, 3, 110105).unwrap();
        ws.write_number(2, 4, serial("2024-02-29")).unwrap();
        ws.write_datetime_with_format(2, 5, dt("2027-02-28"), &date_fmt)
            .unwrap();
        wb.save(&path).unwrap();
        let p = read_previous(&path, &ReadOptions::default()).unwrap();
        let got: Vec<(String, u32, Option<Status>, Date, Date)> = p
            .into_iter()
            .map(|e| (e.uscc, e.district, e.status, e.listed_on, e.expires_on))
            .collect();
        assert_eq!(
            got,
            vec![
                (code(1), 110108, None, d("2025-03-15"), d("2028-03-15")),
                (code(2), 110105, None, d("2024-02-29"), d("2027-02-28")),
            ]
        );
    }

    fn err_of(csv_body: &str) -> String {
        let dir = tmp();
        let path = dir.path().join("bad.csv");
        std::fs::write(
            &path,
            format!("uscc,name,district,status,listed_on,expires_on\n{csv_body}"),
        )
        .unwrap();
        read_previous(&path, &ReadOptions::default())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn bad_rows_name_file_row_column_and_value() {
        let c1 = code(1);
        let ok = format!("{c1},甲,海淀区,retained,2025-01-01,2028-01-01\n");
        let cases: Vec<(String, &str, &str)> = vec![
            (
                format!("{ok}{},乙,海淀区,new,2025-13-01,2028-01-01\n", code(2)),
                "row 2, column \"listed_on\": \"2025-13-01\"",
                "a date",
            ),
            (
                format!("{ok}{},乙,上海,new,2025-01-01,2028-01-01\n", code(2)),
                "row 2, column \"district\": \"上海\"",
                "Beijing district",
            ),
            (
                format!("{ok}91110108EXAMPLE0O8,乙,海淀区,new,2025-01-01,2028-01-01\n"),
                "row 2, column \"uscc\": \"91110108EXAMPLE0O8\"",
                "18-character",
            ),
            (
                format!("{ok}{},乙,海淀区,kept,2025-01-01,2028-01-01\n", code(2)),
                "row 2, column \"status\": \"kept\"",
                "list status",
            ),
            (
                format!("{ok}{c1},乙,海淀区,new,2025-01-01,2028-01-01\n"),
                "row 2, column \"uscc\"",
                "already on row 1",
            ),
            (
                format!("{ok}{},乙,海淀区,new,2025-01-01,2024-01-01\n", code(2)),
                "row 2, column \"expires_on\": \"2024-01-01\"",
                "after the listing date 2025-01-01",
            ),
            (
                format!("{ok}{},乙,海淀区,new,2025-01-01,\n", code(2)),
                "row 2, column \"expires_on\": \"\"",
                "a date",
            ),
        ];
        for (body, at, what) in cases {
            let e = err_of(&body);
            assert!(
                e.contains("bad.csv") && e.contains(at) && e.contains(what),
                "{e}"
            );
        }
        // A missing required column names the column and its Chinese header.
        let dir = tmp();
        let path = dir.path().join("nodates.csv");
        std::fs::write(&path, format!("uscc,name,district\n{c1},甲,海淀区\n")).unwrap();
        let e = read_previous(&path, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("nodates.csv") && e.contains("\"listed_on\"") && e.contains("纳入日期"),
            "{e}"
        );
        // A removed row's blank dates are not an error: it is not on the list.
        assert!(err_of_ok(&format!("{ok}{},乙,海淀区,移出,,\n", code(2))));
    }

    fn err_of_ok(csv_body: &str) -> bool {
        let dir = tmp();
        let path = dir.path().join("ok.csv");
        std::fs::write(
            &path,
            format!("uscc,name,district,status,listed_on,expires_on\n{csv_body}"),
        )
        .unwrap();
        read_previous(&path, &ReadOptions::default()).is_ok_and(|p| p.len() == 1)
    }

    #[test]
    fn same_inputs_give_identical_bytes() {
        let dir = tmp();
        let (mut c, mut p, params) = case();
        let a = update(&c, &p, &params);
        c.reverse();
        p.reverse();
        let b = update(&c, &p, &params);
        let paths = |n: &str| -> (PathBuf, PathBuf) {
            (
                dir.path().join(format!("a.{n}")),
                dir.path().join(format!("b.{n}")),
            )
        };
        for ext in ["csv", "jsonl", "xlsx"] {
            let (pa, pb) = paths(ext);
            write_list(
                &pa,
                &a,
                &inputs(),
                &OutputOptions {
                    bom: true,
                    lang: Lang::En,
                },
            )
            .unwrap();
            write_list(
                &pb,
                &b,
                &inputs(),
                &OutputOptions {
                    bom: true,
                    lang: Lang::En,
                },
            )
            .unwrap();
            assert_eq!(
                std::fs::read(&pa).unwrap(),
                std::fs::read(&pb).unwrap(),
                "{ext}"
            );
        }
        let (pa, pb) = paths("xlsx");
        for s in ["正面清单", "新增", "移出", "候补", "说明"] {
            assert_eq!(sheet(&pa, s), sheet(&pb, s), "{s}");
        }
        // No temporary files are left beside the outputs.
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec!["a.csv", "a.jsonl", "a.xlsx", "b.csv", "b.jsonl", "b.xlsx"]
        );
    }

    #[test]
    fn a_failed_write_leaves_nothing() {
        let dir = tmp();
        let path = dir.path().join("missing-dir").join("list.xlsx");
        let e = write_xlsx(&path, &case_list(), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("list.xlsx"), "{e}");
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn no_cap_means_no_waitlist_sheet() {
        let dir = tmp();
        let path = dir.path().join("list.xlsx");
        let (c, p, params) = case();
        let l = update(
            &c,
            &p,
            &WhitelistParams {
                cap_share: None,
                ..params
            },
        );
        assert_eq!(l.summary().total.waitlisted, 0);
        write_xlsx(&path, &l, &inputs()).unwrap();
        let wb: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
        assert_eq!(wb.sheet_names(), vec!["正面清单", "新增", "移出", "说明"]);
        drop(wb);
        let notes = sheet(&path, "说明");
        assert_eq!(notes[4][..2], row(&["名额上限比例", "不设上限"])[..]);
    }
}

#[test]
fn keeping_only_the_candidates_that_matter_changes_nothing() {
    // What `spotcheck whitelist` does with a national file: every row counts towards the permit
    // holders, later repeats are skipped, and only the eligible and previously listed
    // enterprises are kept. The list must be the one `update` makes from every row.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    let permits = [None, Some(Key), Some(Simplified), Some(Registration)];
    for share in [None, Some(0.3), Some(0.05)] {
        let mut all = Vec::new();
        for i in 0..3000u32 {
            // Some codes come back (a repeat of an earlier row, maybe with other values).
            let n = if i > 100 && next(20) == 0 {
                next(u64::from(i)) as u32
            } else {
                i
            };
            let mut c = cand(
                n,
                [110101, 110105, 110108][next(3) as usize],
                next(4) == 0,
                permits[next(4) as usize],
            );
            c.risk_score = next(50) as f64;
            all.push(c);
        }
        let previous: Vec<PreviousEntry> = (0..400)
            .map(|k| {
                let n = (next(3500)) as u32;
                let mut p = prev(n, 110105, "2024-03-01", ["2026-12-01", "2027-06-30"][k % 2]);
                if k % 7 == 0 {
                    p.status = Some(Status::Removed);
                }
                p
            })
            .collect();
        let p = WhitelistParams {
            cap_share: share,
            ..params("2026-12-01")
        };
        let whole = update(&all, &previous, &p);
        let has = |st: Status| whole.entries.iter().any(|e| e.status == st);
        assert!(has(Status::New) && has(Status::Retained) && has(Status::Renewed));
        assert!(has(Status::Removed));
        assert_eq!(has(Status::Waitlisted), share.is_some(), "{share:?}");

        let on_previous: HashSet<String> = previous
            .iter()
            .filter(|p| p.on_list())
            .map(|p| key(&p.uscc))
            .collect();
        let mut seen = HashSet::new();
        let mut holders = PermitHolders::default();
        let mut kept = Vec::new();
        for c in &all {
            if !seen.insert(key(&c.uscc)) {
                continue;
            }
            holders.add(c.district, c.permit_class);
            if c.positive_list || on_previous.contains(&key(&c.uscc)) {
                kept.push(c.clone());
            }
        }
        assert!(kept.len() < all.len() / 2, "the point is to keep few");
        let streamed = update_counted(&kept, &previous, &p, Some(&holders));
        assert_eq!(streamed.entries, whole.entries, "cap share {share:?}");
        assert_eq!(streamed.caps, whole.caps, "cap share {share:?}");
    }
}
