//! Tests of the SQL functions: each agrees with the kernel it wraps, on values worked out in
//! SPEC §3–4 and `reference/sampling-vectors.json`, and errors quote the bad value.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{Float64Type, Int64Type, UInt64Type};

use super::*;
use crate::schema::Department;

async fn one(sql: &str) -> RecordBatch {
    let ctx = local_context(&Policy::default());
    let (_, batches) = query(&ctx, sql).await.unwrap();
    assert_eq!(
        batches.iter().map(|b| b.num_rows()).sum::<usize>(),
        1,
        "{sql}"
    );
    batches.into_iter().find(|b| b.num_rows() == 1).unwrap()
}

fn f64_at(b: &RecordBatch, col: usize) -> f64 {
    b.column(col).as_primitive::<Float64Type>().value(0)
}

fn str_at(b: &RecordBatch, col: usize) -> String {
    b.column(col).as_string::<i32>().value(0).to_string()
}

#[tokio::test]
async fn market_ratio_with_relief_matches_the_kernel() {
    // SPEC §3.4: A, 小巨人 → 0.03 × 0.5 = 0.015, at most once a year; Chinese values read too.
    let b = one("SELECT spotcheck_market_ratio('A', 'little_giant'), \
         spotcheck_market_max_per_year('C类', '非专精特新企业'), \
         spotcheck_market_ratio('D', 'none')")
    .await;
    assert_eq!(f64_at(&b, 0), 0.015);
    assert_eq!(b.column(1).as_primitive::<Int64Type>().value(0), 2);
    assert_eq!(f64_at(&b, 2), 0.8);
}

#[tokio::test]
async fn band_risk_and_eco_ratio_follow_spec_3() {
    let b = one(
        "SELECT spotcheck_emission_band(1999.0), spotcheck_emission_band(20000), \
         spotcheck_emission_band(NULL), spotcheck_risk_score('B', 'larger', 'medium'), \
         spotcheck_eco_ratio('none', 'high', 'major', 0, 0, 'key', 'true', 'C'), \
         spotcheck_positive_list('specialized', 'low', 'general', 0, 0, 'registration', 'false', 'A'), \
         spotcheck_eco_ratio('specialized', 'low', 'general', 0, 0, 'registration', 'false', 'A'), \
         spotcheck_positive_list('specialized', 'low', 'general', NULL, 0, 'registration', 'false', 'A')",
    )
    .await;
    assert_eq!(str_at(&b, 0), "low");
    assert_eq!(str_at(&b, 1), "high");
    assert_eq!(str_at(&b, 2), "unknown");
    // 100 × (0.5·1/3 + 0.25·0.5 + 0.25·0.5) = 41.67 (rounded to 2 decimals).
    assert_eq!(f64_at(&b, 3), 41.67);
    // key 0.20 × major 2.0 × high 1.5 = 0.6.
    assert_eq!(f64_at(&b, 4), 0.6);
    assert!(b.column(5).as_boolean().value(0));
    assert_eq!(f64_at(&b, 6), 0.0);
    // A null count fails its criterion (SPEC §3.5), it does not make the answer null.
    assert!(!b.column(7).is_null(0));
    assert!(!b.column(7).as_boolean().value(0));
}

#[tokio::test]
async fn hj941_gives_the_standards_notation() {
    // The example of score::envrisk::assess: air Q1-M2-E1, water Q0.
    let b = one(
        "SELECT spotcheck_hj941_level(5.0, 30.0, 'E1', 0.5, NULL, NULL, 'false'), \
         spotcheck_hj941_detail(5.0, 30.0, 'E1', 0.5, NULL, NULL, NULL), \
         spotcheck_hj941_level(NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    )
    .await;
    assert_eq!(str_at(&b, 0), "larger");
    assert_eq!(str_at(&b, 1), "较大[较大-大气(Q1-M2-E1)+一般-水(Q0)]");
    assert_eq!(str_at(&b, 2), "unknown");
}

#[tokio::test]
async fn sampling_functions_are_the_section_4_keys() {
    let (seed, month, uscc) = ("20261201-beijing", "2026-12", "91110108MA9UTKPF5U");
    let b = one(&format!(
        "SELECT spotcheck_order_key('{seed}', 'market', '{month}', '{uscc}'), \
         spotcheck_stratum_start('{seed}', '生态环境', '{month}', '110108'), \
         spotcheck_prn('{seed}', '{month}', '{uscc}'), spotcheck_pi(0.3)"
    ))
    .await;
    assert_eq!(
        b.column(0).as_primitive::<UInt64Type>().value(0),
        order_key_of(seed, Department::Market, month, uscc)
    );
    assert_eq!(
        f64_at(&b, 1),
        crate::sample::stratum_start(seed, Department::Ecology, month, "110108")
    );
    assert_eq!(f64_at(&b, 2), crate::sample::prn(seed, month, uscc));
    // reference/sampling-vectors.json: ratio 0.3 → 0.024999999999999998.
    assert_eq!(f64_at(&b, 3), 0.024999999999999998);
}

fn order_key_of(seed: &str, d: Department, month: &str, uscc: &str) -> u64 {
    crate::sample::order_key(seed, d, month, uscc)
}

#[tokio::test]
async fn pollution_equivalents_and_the_emissions_aggregate() {
    // 2 outlets; the two `so2` rows of DA001 are summed before the division (SPEC §1.2).
    let ctx = local_context(&Policy::default());
    ctx.sql(
        "CREATE TABLE emissions (uscc VARCHAR, outlet VARCHAR, medium VARCHAR, pollutant VARCHAR, \
         amount_kg DOUBLE) AS VALUES \
         ('91110108MA9UTKPF5U', 'DA001', 'air', 'so2', 95.0), \
         ('91110108MA9UTKPF5U', 'DA001', '大气', 'so2', 95.0), \
         ('91110108MA9UTKPF5U', 'DW001', 'water', 'cod', 100.0)",
    )
    .await
    .unwrap()
    .collect()
    .await
    .unwrap();
    let (_, b) = query(&ctx, &emission_totals_sql("emissions"))
        .await
        .unwrap();
    let b = b.into_iter().find(|b| b.num_rows() > 0).unwrap();
    let p = crate::score::pollutants::Pollutants::builtin();
    let eq = |m, n| p.equivalent_kg(p.lookup(m, n).unwrap());
    let air = 190.0 / eq(crate::schema::Medium::Air, "so2");
    let water = 100.0 / eq(crate::schema::Medium::Water, "cod");
    assert_eq!(str_at(&b, 0), "91110108MA9UTKPF5U");
    assert_eq!(f64_at(&b, 1), air);
    assert_eq!(f64_at(&b, 2), water);
    assert_eq!(f64_at(&b, 3), air + water);
}

#[tokio::test]
async fn a_value_outside_its_domain_is_an_error_that_quotes_it() {
    let ctx = local_context(&Policy::default());
    let e = query(&ctx, "SELECT spotcheck_market_ratio('E', 'none')")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("spotcheck_market_ratio: \"E\" is not a credit risk class"),
        "{e}"
    );
    let e = query(&ctx, "SELECT spotcheck_pe('air', 'unobtainium', 1.0)")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"unobtainium\" is not an air pollutant"), "{e}");
}

#[test]
fn table_names_are_checked() {
    assert!(check_table_name("scored_2026").is_ok());
    assert!(check_table_name("2026").is_err());
    assert!(check_table_name("a b").is_err());
    assert!(check_table_name("").is_err());
}
