//! Any bytes as a PDF through extraction + parse + validate: no panic escapes, no hang, every
//! figure finite (scripts/fuzz runs it, seeded with the corpus PDFs). A panic inside the PDF
//! library is caught by `extract` and reported as UNREADABLE, so it is printed, not fatal.
#![no_main]

mod caught;

use libfuzzer_sys::fuzz_target;
use nianbao::extract::Kind;
use nianbao::Hints;

fuzz_target!(|data: &[u8]| {
    caught::tolerate_dependency_panics();
    // Past the cheap checks (signature, %%EOF at the end) into the PDF reader itself.
    let mut pdf = Vec::with_capacity(data.len() + 16);
    if !data.starts_with(b"%PDF-") {
        pdf.extend_from_slice(b"%PDF-1.7\n");
    }
    pdf.extend_from_slice(data);
    pdf.extend_from_slice(b"\n%%EOF\n");
    let hints = Hints {
        content_type: Kind::Pdf.mime().to_owned(),
        ..Default::default()
    };
    let report = nianbao::parse_document(&pdf, &hints);
    for (path, value) in nianbao::catalogue::facts(&report) {
        assert!(value.is_finite(), "{path} = {value}");
    }
});
