//! Fuzzes the policy file parser and validator (`--policy`, TOML) on arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = spotcheck::policy::Policy::parse(text, std::path::Path::new("fuzz.toml"));
    }
});
