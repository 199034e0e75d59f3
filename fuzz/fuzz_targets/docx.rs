//! Word files through extraction + parse + validate: any bytes as a .docx (the zip reader),
//! and any bytes as the document.xml inside a well-formed .docx (the XML and table reader).
//! No panic escapes, no hang, every figure finite (scripts/fuzz runs it).
#![no_main]

mod caught;

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use nianbao::extract::Kind;
use nianbao::Hints;

fuzz_target!(|data: &[u8]| {
    caught::tolerate_dependency_panics();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = if mode % 4 == 0 {
        rest.to_vec()
    } else {
        wrap(rest)
    };
    let hints = Hints {
        content_type: Kind::Docx.mime().to_owned(),
        ..Default::default()
    };
    let report = nianbao::parse_document(&bytes, &hints);
    for (path, value) in nianbao::catalogue::facts(&report) {
        assert!(value.is_finite(), "{path} = {value}");
    }
});

/// `xml` as word/document.xml of a minimal .docx.
fn wrap(xml: &[u8]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("[Content_Types].xml", opts).unwrap();
    zip.write_all(b"<Types/>").unwrap();
    zip.start_file("word/document.xml", opts).unwrap();
    zip.write_all(xml).unwrap();
    zip.finish().unwrap();
    out.into_inner()
}
