//! The legacy word-processor readers on any bytes: Word 97–2003 / WPS (.doc, .wps), RTF and
//! MHTML, called directly so that a panic in them is a crash here (`extract` would catch it),
//! then the whole document through extraction + parse + validate. The first byte picks the
//! reader; RTF and MHTML input gets the header that leads past the cheap checks. No panic,
//! no hang, every figure finite (scripts/fuzz runs it, seeded with the corpus files).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nianbao::extract::{doc, mhtml, rtf, Kind, Limits};
use nianbao::Hints;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let limits = Limits::default();
    let (bytes, kind) = match mode % 3 {
        0 => {
            let _ = doc::to_html(rest, &limits);
            (rest.to_vec(), Kind::Doc)
        }
        1 => {
            let mut bytes = Vec::with_capacity(rest.len() + 8);
            if !rest.starts_with(b"{\\rtf") {
                bytes.extend_from_slice(b"{\\rtf1 ");
            }
            bytes.extend_from_slice(rest);
            let _ = rtf::to_html(&bytes, &limits);
            (bytes, Kind::Rtf)
        }
        _ => {
            let mut bytes = Vec::with_capacity(rest.len() + 80);
            if !mhtml::looks_like_mhtml(rest) {
                bytes.extend_from_slice(
                    b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"b\"\r\n\r\n",
                );
            }
            bytes.extend_from_slice(rest);
            let _ = mhtml::page(&bytes);
            (bytes, Kind::Mhtml)
        }
    };
    let hints = Hints {
        content_type: kind.mime().to_owned(),
        ..Default::default()
    };
    let report = nianbao::parse_document(&bytes, &hints);
    for (path, value) in nianbao::catalogue::facts(&report) {
        assert!(value.is_finite(), "{path} = {value}");
    }
});
