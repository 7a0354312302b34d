//! Fuzzes the arrow table reader (Utf8) and the enterprise validator on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    spotcheck_fuzz::read_table(data, "arrow", spotcheck::table::Encoding::Utf8);
});
