//! Fuzzes the inspection-results reader (`spotcheck results`, SPEC §9.1) on CSV bytes: header
//! resolution in English and Chinese, categories by code or Chinese name, months, departments,
//! dates, counts and amounts, duplicates. The draw it checks against holds every code whose last
//! character is not `X`, so both the accepted and the `RESULT_NOT_DRAWN` paths are reached.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = spotcheck_fuzz::file_with(data, "csv");
    let opts = spotcheck_fuzz::options(spotcheck::table::Encoding::Utf8);
    let mut rejects = spotcheck::table::Rejects::new(false);
    let drawn = |_: spotcheck::sample::Month, _: spotcheck::schema::Department, u: &[u8; 18]| {
        u[17] != b'X'
    };
    let _ = spotcheck::results::io::read_results(&path, &opts, &mut rejects, &drawn);
});
