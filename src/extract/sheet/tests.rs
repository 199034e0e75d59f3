use std::io::{Cursor, Write};

use super::book::number;
use super::*;
use crate::extract::zipped::tests::{zero_bomb, zip_of};

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const BOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/></Relationships>"#;
const BOOK: &str = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="表三" sheetId="1" r:id="rId1"/><sheet name="草稿" sheetId="2" state="hidden" r:id="rId2"/></sheets></workbook>"#;

fn sheet_xml(rows: &str, merges: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData>{merges}</worksheet>"#
    )
}

fn xlsx_of(sheet1: &str) -> Vec<u8> {
    let hidden = sheet_xml(r#"<row r="1"><c r="A1"><v>999</v></c></row>"#, "");
    zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("_rels/.rels", RELS.as_bytes()),
        ("xl/workbook.xml", BOOK.as_bytes()),
        ("xl/_rels/workbook.xml.rels", BOOK_RELS.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet1.as_bytes()),
        ("xl/worksheets/sheet2.xml", hidden.as_bytes()),
    ])
}

fn s(r: &str, text: &str) -> String {
    format!(r#"<c r="{r}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

#[test]
fn an_xlsx_sheet_becomes_its_name_and_a_table_with_merges_as_a_browser_shows_them() {
    let rows = format!(
        r#"<row r="1">{}{}</row><row r="2">{}<c r="B2"><v>3050</v></c><c r="C2"><v>1E6</v></c></row><row r="4">{}<c r="B4"><f>B2+1</f><v>3051.0000000000005</v></c><c r="C4"><v>0.25</v></c></row>"#,
        s("A1", "申请人情况"),
        s("B1", "旧值"),
        s("A2", "一、本年新收"),
        s("A4", "其中&amp;合计")
    );
    let xml = sheet_xml(
        &rows,
        r#"<mergeCells count="1"><mergeCell ref="A1:C1"/></mergeCells>"#,
    );
    let read = to_html(&xlsx_of(&xml), Kind::Xlsx, &Limits::default()).unwrap();
    let html = read.html;
    assert!(html.contains("<p>表三</p>\n<table>"), "{html}");
    assert!(
        html.contains("<tr><td>申请人情况</td><td></td><td></td></tr>"),
        "{html}"
    );
    assert!(
        html.contains("<tr><td>一、本年新收</td><td>3050</td><td>1000000</td></tr>"),
        "{html}"
    );
    assert!(
        html.contains("<tr><td>其中&amp;合计</td><td>3051</td><td>0.25</td></tr>"),
        "{html}"
    );
    assert!(!html.contains("草稿") && !html.contains("999"), "{html}");
    assert!(read.notes.is_empty());
}

#[test]
fn an_xlsx_through_extract_gives_tab_separated_cells() {
    let rows = format!(
        r#"<row r="1">{}<c r="B1"><v>72</v></c><c r="C1"><v>64</v></c></row>"#,
        s("A1", "行政复议")
    );
    let bytes = xlsx_of(&sheet_xml(&rows, ""));
    assert_eq!(super::super::detect(&bytes, None), Kind::Xlsx);
    let got = super::super::extract(&bytes, "", None, &Limits::default()).unwrap();
    assert!(got.text.contains("行政复议\t72\t64"), "{:?}", got.text);
}

#[test]
fn a_sheet_that_cannot_be_read_is_left_out_with_a_note() {
    let book = BOOK.replace(r#" state="hidden""#, "");
    let rows = format!(
        r#"<row r="1">{}<c r="B1"><v>7</v></c></row>"#,
        s("A1", "规章")
    );
    let bytes = zip_of(&[
        ("_rels/.rels", RELS.as_bytes()),
        ("xl/workbook.xml", book.as_bytes()),
        ("xl/_rels/workbook.xml.rels", BOOK_RELS.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet_xml(&rows, "").as_bytes()),
        (
            "xl/worksheets/sheet2.xml",
            b"<worksheet><sheetData><row><c><v>1",
        ),
    ]);
    let read = to_html(&bytes, Kind::Xlsx, &Limits::default()).unwrap();
    assert!(
        read.html.contains("<tr><td>规章</td><td>7</td></tr>"),
        "{}",
        read.html
    );
    assert!(read.notes[0].message.contains("草稿"), "{:?}", read.notes);
    // When no sheet can be read, the workbook cannot.
    let bytes = zip_of(&[
        ("_rels/.rels", RELS.as_bytes()),
        ("xl/workbook.xml", book.as_bytes()),
        ("xl/_rels/workbook.xml.rels", BOOK_RELS.as_bytes()),
    ]);
    assert!(to_html(&bytes, Kind::Xlsx, &Limits::default()).is_err());
}

#[test]
fn cells_stop_at_the_budget_with_a_note() {
    let rows: String = (1..=50)
        .map(|r| format!(r#"<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>"#))
        .collect();
    let limits = Limits {
        max_cells: 10,
        ..Limits::default()
    };
    let read = to_html(&xlsx_of(&sheet_xml(&rows, "")), Kind::Xlsx, &limits).unwrap();
    assert_eq!(read.html.matches("<tr>").count(), 10, "{}", read.html);
    assert_eq!(read.notes.len(), 1);
    // Cells far apart: a small count spanning a huge area is not drawn.
    let rows = r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="9000"><c r="XFD9000"><v>2</v></c></row><row r="5000"><c r="M5000"><v>3</v></c></row>"#;
    let limits = Limits {
        max_cells: 8,
        ..Limits::default()
    };
    let read = to_html(&xlsx_of(&sheet_xml(rows, "")), Kind::Xlsx, &limits).unwrap();
    assert!(!read.html.contains("<table>"), "{}", read.html);
    assert!(read.notes[0].message.contains("上限"), "{:?}", read.notes);
}

#[test]
fn extensions_and_content_types_name_the_spreadsheet_and_ofd_kinds() {
    for (ext, kind) in [
        ("xls", Kind::Xls),
        ("ET", Kind::Xls),
        ("ett", Kind::Xls),
        ("xlsx", Kind::Xlsx),
        ("xlsm", Kind::Xlsx),
        ("ofd", Kind::Ofd),
    ] {
        assert_eq!(Kind::from_extension(ext), Some(kind), "{ext}");
        assert_eq!(Kind::from_content_type(kind.mime()), Some(kind), "{ext}");
        assert_eq!(Kind::from_content_type(kind.name()), Some(kind), "{ext}");
    }
    assert_eq!(Kind::Ofd.mime(), "application/ofd");
}

#[test]
fn numbers_print_as_the_sheet_shows_them() {
    for (f, want) in [
        (3050.0, "3050"),
        (1e6, "1000000"),
        (1e21, "1000000000000000000000"),
        (-0.0, "0"),
        (2.9999999999999996, "3"),
        (0.1 + 0.2, "0.3"),
        (12.5, "12.5"),
        (-7.25, "-7.25"),
        (f64::NAN, ""),
    ] {
        assert_eq!(number(f), want, "{f}");
    }
}

#[test]
fn an_xlsx_bomb_is_refused_without_inflating_it() {
    let started = std::time::Instant::now();
    let others: Vec<(&str, &[u8])> = vec![
        ("_rels/.rels", RELS.as_bytes()),
        ("xl/workbook.xml", BOOK.as_bytes()),
        ("xl/_rels/workbook.xml.rels", BOOK_RELS.as_bytes()),
    ];
    for stated in [1u32 << 30, 2048] {
        let bytes = zero_bomb(&others, "xl/worksheets/sheet1.xml", 1 << 30, stated);
        let err = to_html(&bytes, Kind::Xlsx, &Limits::default()).unwrap_err();
        assert!(err.reason.contains("压缩"), "{}", err.reason);
    }
    assert!(started.elapsed().as_secs() < 20);
}

#[test]
fn a_shared_string_count_the_part_cannot_hold_is_refused() {
    let sst = r#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="999999999999999"><si><t>a</t></si></sst>"#;
    let bytes = zip_of(&[
        ("_rels/.rels", RELS.as_bytes()),
        ("xl/workbook.xml", BOOK.as_bytes()),
        ("xl/_rels/workbook.xml.rels", BOOK_RELS.as_bytes()),
        ("xl/sharedStrings.xml", sst.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet_xml("", "").as_bytes()),
    ]);
    let err = to_html(&bytes, Kind::Xlsx, &Limits::default()).unwrap_err();
    assert!(err.reason.contains("字符串"), "{}", err.reason);
}

#[test]
fn broken_and_truncated_workbooks_are_unreadable() {
    let good = xlsx_of(&sheet_xml(r#"<row r="1"><c r="A1"><v>1</v></c></row>"#, ""));
    for cut in [10, good.len() / 3, good.len() - 30] {
        assert!(to_html(&good[..cut], Kind::Xlsx, &Limits::default()).is_err());
    }
    let deep = format!("{}{}", "<x>".repeat(100_000), "</x>".repeat(100_000));
    let _ = to_html(&xlsx_of(&deep), Kind::Xlsx, &Limits::default());
    assert!(to_html(b"not a workbook", Kind::Xls, &Limits::default()).is_err());
    assert!(to_html(&good, Kind::Xls, &Limits::default()).is_err());
}

/// One BIFF record.
fn rec(typ: u16, data: &[u8]) -> Vec<u8> {
    let mut out = typ.to_le_bytes().to_vec();
    out.extend((data.len() as u16).to_le_bytes());
    out.extend(data);
    out
}

/// A BIFF8 workbook stream with one sheet named `name` holding `cells` (its records).
fn biff(name: &str, globals: &[u8], cells: &[u8]) -> Vec<u8> {
    let bof = |dt: u16| {
        let mut d = 0x0600u16.to_le_bytes().to_vec();
        d.extend(dt.to_le_bytes());
        d.extend([0u8; 12]);
        rec(0x0809, &d)
    };
    let name16: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let boundsheet = |pos: u32| {
        let mut d = pos.to_le_bytes().to_vec();
        d.extend([0, 0, name.encode_utf16().count() as u8, 1]);
        d.extend(&name16);
        rec(0x0085, &d)
    };
    let head_len = bof(5).len() + globals.len() + boundsheet(0).len() + rec(0x000A, &[]).len();
    let mut out = bof(5);
    out.extend(globals);
    out.extend(boundsheet(head_len as u32));
    out.extend(rec(0x000A, &[]));
    out.extend(bof(0x10));
    out.extend(cells);
    out.extend(rec(0x000A, &[]));
    out
}

fn number_rec(row: u16, col: u16, v: f64) -> Vec<u8> {
    let mut d = row.to_le_bytes().to_vec();
    d.extend(col.to_le_bytes());
    d.extend(0u16.to_le_bytes());
    d.extend(v.to_le_bytes());
    rec(0x0203, &d)
}

fn label_rec(row: u16, col: u16, text: &str) -> Vec<u8> {
    let mut d = row.to_le_bytes().to_vec();
    d.extend(col.to_le_bytes());
    d.extend(0u16.to_le_bytes());
    d.extend((text.encode_utf16().count() as u16).to_le_bytes());
    d.push(1);
    d.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    rec(0x0204, &d)
}

fn ole(streams: &[(&str, &[u8])]) -> Vec<u8> {
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    for (name, bytes) in streams {
        let mut s = file.create_stream(format!("/{name}")).unwrap();
        s.write_all(bytes).unwrap();
    }
    file.flush().unwrap();
    file.into_inner().into_inner()
}

#[test]
fn an_xls_sheet_reads_through_calamine() {
    let mut cells = label_rec(0, 0, "行政复议");
    cells.extend(number_rec(0, 1, 72.0));
    cells.extend(number_rec(0, 3, 1e6));
    let bytes = ole(&[("Workbook", &biff("表四", &[], &cells))]);
    assert_eq!(super::super::detect(&bytes, None), Kind::Xls);
    let read = to_html(&bytes, Kind::Xls, &Limits::default()).unwrap();
    assert!(read.html.contains("<p>表四</p>"), "{}", read.html);
    assert!(
        read.html
            .contains("<tr><td>行政复议</td><td>72</td><td>1000000</td></tr>"),
        "{}",
        read.html
    );
}

#[test]
fn a_formula_gives_its_cached_value_whatever_its_tokens_say() {
    // A FORMULA whose token stream claims 50 bytes and has 2 (calamine's parser would
    // slice past the record), and a defined name with a cut formula.
    let mut formula = 0u16.to_le_bytes().to_vec();
    formula.extend(1u16.to_le_bytes());
    formula.extend(0u16.to_le_bytes());
    formula.extend(3050f64.to_le_bytes());
    formula.extend([0u8; 6]);
    formula.extend(50u16.to_le_bytes());
    formula.extend([0x1F, 0x00]);
    let mut cells = label_rec(0, 0, "总计");
    cells.extend(rec(0x0006, &formula));
    cells.extend(rec(0x0006, &formula[..20]));
    let lbl = rec(
        0x0018,
        &[0, 0, 0, 1, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'x', 0x3a],
    );
    let bytes = ole(&[("Workbook", &biff("表", &lbl, &cells))]);
    let read = to_html(&bytes, Kind::Xls, &Limits::default()).unwrap();
    assert!(
        read.html.contains("<tr><td>总计</td><td>3050</td></tr>"),
        "{}",
        read.html
    );
}

#[test]
fn hostile_xls_files_are_refused_before_calamine_reads_them() {
    let limits = Limits::default();
    // A DIMENSIONS record stating four billion rows (calamine would reserve them all).
    let mut dims = 0u32.to_le_bytes().to_vec();
    dims.extend(u32::MAX.to_le_bytes());
    dims.extend([0, 0, 0xFF, 0, 0, 0]);
    let bytes = ole(&[("Workbook", &biff("a", &[], &rec(0x0200, &dims)))]);
    let err = to_html(&bytes, Kind::Xls, &limits).unwrap_err();
    assert!(err.reason.contains("上限"), "{}", err.reason);
    // A DIMENSIONS record whose last row comes before its first.
    let mut dims = 9u32.to_le_bytes().to_vec();
    dims.extend(2u32.to_le_bytes());
    dims.extend([0, 0, 2, 0, 0, 0]);
    let bytes = ole(&[("Workbook", &biff("a", &[], &rec(0x0200, &dims)))]);
    assert!(to_html(&bytes, Kind::Xls, &limits).is_err());
    // Two cells at opposite corners: a bounding box of 65536 x 256 cells.
    let mut cells = number_rec(0, 0, 1.0);
    cells.extend(number_rec(65535, 255, 2.0));
    let bytes = ole(&[("Workbook", &biff("a", &[], &cells))]);
    let err = to_html(&bytes, Kind::Xls, &limits).unwrap_err();
    assert!(err.reason.contains("上限"), "{}", err.reason);
    // A MULRK whose last column comes before its first (calamine subtracts them), one
    // whose length disagrees with its columns, and a good one beside them.
    let mulrk = |first: u16, last: u16, cells: usize| {
        let mut d = 0u16.to_le_bytes().to_vec();
        d.extend(first.to_le_bytes());
        d.extend(std::iter::repeat_n([0u8, 0, 0x02, 0, 0, 0], cells).flatten());
        d.extend(last.to_le_bytes());
        rec(0x00BD, &d)
    };
    for bad in [mulrk(5, 2, 1), mulrk(0, 3, 2), rec(0x00BD, &[0, 0, 1])] {
        let bytes = ole(&[("Workbook", &biff("a", &[], &bad))]);
        let err = to_html(&bytes, Kind::Xls, &limits).unwrap_err();
        assert!(err.reason.contains("MULRK"), "{}", err.reason);
    }
    let bytes = ole(&[("Workbook", &biff("a", &[], &mulrk(1, 2, 2)))]);
    assert!(to_html(&bytes, Kind::Xls, &limits).is_ok());
    // Workbook records cut shorter than calamine reads them (it slices without looking):
    // CODEPAGE, DATEMODE, EXTERNSHEET and a BOF with no version, a BOUNDSHEET with no
    // visibility byte.
    for short in [
        rec(0x0042, &[]),
        rec(0x0022, &[1]),
        rec(0x0017, &[]),
        rec(0x0809, &[6]),
        rec(0x0085, &[0, 0, 0, 0, 0]),
    ] {
        let bytes = ole(&[("Workbook", &biff("a", &short, &[]))]);
        let err = to_html(&bytes, Kind::Xls, &limits).unwrap_err();
        assert!(err.reason.contains("过短"), "{}", err.reason);
    }
    let codepage = rec(0x0042, &1200u16.to_le_bytes());
    let bytes = ole(&[("Workbook", &biff("a", &codepage, &number_rec(0, 0, 7.0)))]);
    assert!(to_html(&bytes, Kind::Xls, &limits).is_ok());
    // Encrypted: a FILEPASS record, or an encrypted OOXML package in OLE.
    let bytes = ole(&[("Workbook", &biff("a", &rec(0x002F, &[1, 0]), &[]))]);
    let err = to_html(&bytes, Kind::Xls, &limits).unwrap_err();
    assert!(err.reason.contains("加密"), "{}", err.reason);
    let bytes = ole(&[("EncryptionInfo", b"x"), ("EncryptedPackage", b"y")]);
    let err = to_html(&bytes, Kind::Xls, &limits).unwrap_err();
    assert!(err.reason.contains("加密"), "{}", err.reason);
    // No workbook at all, and a record running past the stream's end.
    let bytes = ole(&[("WordDocument", b"x")]);
    assert!(to_html(&bytes, Kind::Xls, &limits).is_err());
    let mut cut = biff("a", &[], &number_rec(0, 0, 1.0));
    cut.truncate(cut.len() - 7);
    let bytes = ole(&[("Workbook", &cut)]);
    let _ = to_html(&bytes, Kind::Xls, &limits);
}
