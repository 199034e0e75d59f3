//! Spreadsheets and OFDs through extraction + parse + validate: any bytes as a whole file (the
//! zip, compound-file and BIFF readers), any bytes as the worksheet of a well-formed .xlsx, and
//! any bytes as the page content of a well-formed .ofd (the XML readers). No panic escapes, no
//! hang, every figure finite (scripts/fuzz runs it).
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
    let (bytes, kind) = match mode % 6 {
        0 => (rest.to_vec(), Kind::Xlsx),
        1 => (rest.to_vec(), Kind::Xls),
        2 => (rest.to_vec(), Kind::Ofd),
        3 | 4 => (xlsx(rest), Kind::Xlsx),
        _ => (ofd(rest), Kind::Ofd),
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

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let opts = zip::write::SimpleFileOptions::default();
    for (name, bytes) in entries {
        zip.start_file(*name, opts).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

/// `xml` as the one worksheet of a minimal .xlsx.
fn xlsx(xml: &[u8]) -> Vec<u8> {
    zip_of(&[
        (
            "_rels/.rels",
            br#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            br#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            br#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
        ("xl/worksheets/sheet1.xml", xml),
    ])
}

/// `xml` as the one page's content of a minimal .ofd.
fn ofd(xml: &[u8]) -> Vec<u8> {
    zip_of(&[
        (
            "OFD.xml",
            b"<ofd:OFD><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        ),
        (
            "Doc_0/Document.xml",
            br#"<ofd:Document><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>"#,
        ),
        ("Doc_0/Pages/Page_0/Content.xml", xml),
    ])
}
