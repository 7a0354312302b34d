//! Fuzzes the sample manifest reader (`spotcheck verify MANIFEST.json`): parsing and turning the
//! manifest into draw parameters.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let path = std::path::Path::new("fuzz.json");
        if let Ok(m) = spotcheck::sample::manifest::Manifest::from_json(text, path) {
            let _ = m.draw_params(path);
        }
    }
});
