//! Fuzzes the previous positive-list reader (`spotcheck whitelist --previous`) on CSV bytes (the
//! XLSX container is the `xlsx` target's; this one reaches the list's own rules: statuses, dates,
//! repeated codes).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = spotcheck_fuzz::file_with(data, "csv");
    let opts = spotcheck_fuzz::options(spotcheck::table::Encoding::Utf8);
    let _ = spotcheck::whitelist::previous::read_previous(&path, &opts);
});
