//! Any bytes, as text or as HTML, through decode + parse + validate: no panic, no hang,
//! and every figure read is finite and in the catalogue (scripts/fuzz runs it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nianbao::Hints;

fuzz_target!(|data: &[u8]| {
    let content_type = match data.first() {
        Some(b) if b % 3 == 0 => "text/html",
        Some(b) if b % 3 == 1 => "text/plain",
        _ => "",
    };
    let hints = Hints {
        content_type: content_type.to_owned(),
        ..Default::default()
    };
    let report = nianbao::parse_document(data, &hints);
    for (path, value) in nianbao::catalogue::facts(&report) {
        assert!(value.is_finite(), "{path} = {value}");
    }
    let _ = nianbao::output::facts_json(&report);
});
