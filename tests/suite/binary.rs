//! Binary documents through the real binary and a real server: PDFs and OFDs read by glyph
//! positions, Word files and spreadsheets by their cells, hostile files refused with a clear
//! reason, scans through OCR (with the `ocr` feature).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use nianbao::pb::ingest_service_client::IngestServiceClient;
use nianbao::pb::report_service_client::ReportServiceClient;
use nianbao::pb::{Document, GetReportRequest, Outcome};
use nianbao::server::ServerOptions;
use serde_json::Value;

use crate::common;
use common::{check_expected, parse_facts};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// A document of `files/`, the project's own or a public one from ../shared.
fn file(name: &str) -> PathBuf {
    common::corpus_path(&format!("files/{name}"))
}

macro_rules! binary_test {
    ($name:ident, $expected:literal) => {
        #[test]
        fn $name() {
            let problems = check_expected(&root(), &root().join("files/expected").join($expected));
            assert!(problems.is_empty(), "{}", problems.join("\n"));
        }
    };
}

binary_test!(
    huaian_pdf_reads_exactly_with_table_four_by_glyph_positions,
    "huaian-city-2024-pdf.json"
);
binary_test!(hongze_pdf_reads_exactly, "hongze-district-2023.json");
binary_test!(huaian_docx_reads_exactly, "huaian-city-2024.json");
binary_test!(
    chaoyang_docx_reads_exactly,
    "beijing-chaoyang-district-2022.json"
);
binary_test!(
    pingtan_docx_reads_exactly,
    "fujian-pingtan-experimental-zone-2023.json"
);
binary_test!(huaian_doc_reads_exactly, "huaian-city-2024-doc.json");
binary_test!(
    chaoyang_rtf_reads_exactly,
    "beijing-chaoyang-district-2022-rtf.json"
);
binary_test!(
    pingtan_mhtml_reads_exactly,
    "fujian-pingtan-experimental-zone-2023-mht.json"
);
binary_test!(
    chaoyang_xlsx_reads_exactly_by_its_cells,
    "beijing-chaoyang-district-2022-xlsx.json"
);
binary_test!(
    pingtan_xls_reads_exactly_by_its_cells,
    "fujian-pingtan-experimental-zone-2023-xls.json"
);
binary_test!(
    huaian_ofd_reads_exactly_by_character_positions,
    "huaian-city-2024-ofd.json"
);

#[test]
fn every_binary_expected_file_has_a_test() {
    let count = std::fs::read_dir(root().join("files/expected"))
        .unwrap()
        .count();
    assert_eq!(count, 11, "a new expected file needs its binary_test! line");
}

fn text_of(path: &Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("parse")
        .arg("--text")
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

fn finding<'a>(report: &'a Value, code: &str) -> Option<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
}

#[test]
fn fonts_without_tounicode_read_their_figures() {
    for name in [
        "cjk-font-without-tounicode-ucs2.pdf",
        "cjk-font-without-tounicode-gbk.pdf",
        "hostile-encrypted-empty-password.pdf",
    ] {
        let (ok, text, err) = text_of(&file(name));
        assert!(ok, "{name}: {err}");
        let words: Vec<&str> = text.split_whitespace().collect();
        assert!(text.contains("行政复议"), "{name}: {text:?}");
        let figures: Vec<&str> = words
            .iter()
            .map(|w| w.trim_start_matches("行政复议"))
            .filter(|w| !w.is_empty())
            .collect();
        assert_eq!(figures, ["72", "64", "178"], "{name}: {text:?}");
    }
}

#[test]
fn a_pdf_that_is_not_a_report_says_so() {
    let report = parse_facts(&file("not-a-report-department-accounts-2024.pdf"));
    assert!(
        finding(&report, "NOT_A_REPORT").is_some(),
        "{:?}",
        codes(&report)
    );
    assert!(report["facts"].as_object().unwrap().is_empty());
}

/// The file is refused with an UNREADABLE finding whose message holds `why`, and no figure.
fn assert_unreadable(path: &Path, why: &str) {
    let report = parse_facts(path);
    let f = finding(&report, "UNREADABLE")
        .unwrap_or_else(|| panic!("{}: {:?}", path.display(), codes(&report)));
    assert!(
        f["message"].as_str().unwrap().contains(why),
        "{}: {}",
        path.display(),
        f["message"]
    );
    assert!(report["facts"].as_object().unwrap().is_empty());
}

#[test]
fn encrypted_and_cut_pdfs_are_unreadable_with_the_reason() {
    assert_unreadable(&file("hostile-encrypted-password.pdf"), "加密");
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.pdf");
    let whole = std::fs::read(file("huaian-city-2024.pdf")).unwrap();
    std::fs::write(&cut, &whole[..whole.len() * 3 / 4]).unwrap();
    assert_unreadable(&cut, "不完整");
    let broken = dir.path().join("broken.pdf");
    std::fs::write(&broken, b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%EOF\n").unwrap();
    assert_unreadable(&broken, "PDF");
}

/// A Word file whose document.xml inflates to `size` bytes from a few hundred KiB.
fn zip_bomb(size: usize) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("[Content_Types].xml", opts).unwrap();
    zip.write_all(br#"<?xml version="1.0"?><Types/>"#).unwrap();
    zip.start_file("word/document.xml", opts).unwrap();
    zip.write_all(b"<w:document><w:body><w:p><w:r><w:t>")
        .unwrap();
    let block = vec![b' '; 1 << 20];
    for _ in 0..size >> 20 {
        zip.write_all(&block).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

#[test]
fn a_zip_bomb_is_unreadable_and_its_memory_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.docx");
    let bytes = zip_bomb(256 << 20);
    assert!(bytes.len() < 2 << 20, "{}", bytes.len());
    std::fs::write(&bomb, bytes).unwrap();
    assert_unreadable(&bomb, "MiB");
}

#[test]
fn spreadsheets_and_ofds_cut_short_or_broken_are_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    for (name, why) in [
        ("beijing-chaoyang-district-2022.xlsx", "zip"),
        ("fujian-pingtan-experimental-zone-2023.xls", "Excel"),
        ("huaian-city-2024.ofd", "zip"),
    ] {
        let whole = std::fs::read(file(name)).unwrap();
        let cut = dir.path().join(name);
        std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
        assert_unreadable(&cut, why);
    }
    // An OFD whose only document lies outside the package.
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    zip.start_file("OFD.xml", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"<ofd:OFD><ofd:DocBody><ofd:DocRoot>../../etc/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>")
        .unwrap();
    zip.finish().unwrap();
    let path = dir.path().join("outside.ofd");
    std::fs::write(&path, out.into_inner()).unwrap();
    assert_unreadable(&path, "之外");
}

#[test]
fn a_broken_word_file_is_unreadable_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    // The OLE2 signature and a directory entry naming the Word stream, and nothing sound.
    let mut doc = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    doc.resize(512, 0);
    doc.extend("WordDocument".encode_utf16().flat_map(u16::to_le_bytes));
    let path = dir.path().join("report.doc");
    std::fs::write(&path, doc).unwrap();
    assert_unreadable(&path, "OLE");
    let cut = dir.path().join("cut.doc");
    let whole = std::fs::read(file("huaian-city-2024.doc")).unwrap();
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    assert_unreadable(&cut, "Word");
}

/// Kingsoft WPS Writer saves .wps files in the Word binary format; no real .wps was found
/// to commit (tests/corpus/README.md), so the .doc fixture stands in under the name.
#[test]
fn a_wps_file_reads_as_the_word_file_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let wps = dir.path().join("report.wps");
    std::fs::copy(file("huaian-city-2024.doc"), &wps).unwrap();
    let doc = parse_facts(&file("huaian-city-2024.doc"));
    let got = parse_facts(&wps);
    assert_eq!(got["facts"], doc["facts"]);
    assert_eq!(got["facts"].as_object().unwrap().len(), 207);
}

#[cfg(not(feature = "ocr"))]
#[test]
fn scans_without_ocr_are_unreadable_and_ocr_is_a_clear_error() {
    assert_unreadable(&file("scanned-page-huaian-2024-p5.png"), "OCR");
    let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(["parse", "--ocr"])
        .arg(file("scanned-page-huaian-2024-p5.png"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--features ocr"));
}

/// OCR'd figures of the scanned Huai'an page: each stated figure equals the PDF's reading
/// (0 wrong), and tables 三 (its tail) and 四 are read.
#[cfg(feature = "ocr")]
fn check_scan(name: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(["parse", "--facts", "--ocr"])
        .arg(file(name))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let exp: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("files/expected/huaian-city-2024-pdf.json")).unwrap(),
    )
    .unwrap();
    let facts = got["facts"].as_object().unwrap();
    let mut wrong = Vec::new();
    for (path, have) in facts {
        let want = exp["facts"].get(path).or_else(|| exp["optional"].get(path));
        if want.and_then(Value::as_f64) != have.as_f64() {
            wrong.push(format!("{path}: {have} (want {want:?})"));
        }
    }
    assert!(wrong.is_empty(), "{name}: wrong {wrong:?}");
    let t3 = facts
        .keys()
        .filter(|k| k.starts_with("applications."))
        .count();
    let t4 = facts.keys().filter(|k| k.starts_with("litigation")).count();
    assert!(t3 >= 40 && t4 >= 5, "{name}: t3 {t3} t4 {t4}");
}

#[cfg(feature = "ocr")]
#[test]
fn scanned_page_image_reads_by_ocr_zero_wrong() {
    check_scan("scanned-page-huaian-2024-p5.png");
}

#[cfg(feature = "ocr")]
#[test]
fn scanned_pdf_with_ocr_layer_reads_by_ocr_zero_wrong() {
    check_scan("scanned-page-huaian-2024-p5-ocr-layer.pdf");
}

fn doc(tag: &str, content: Vec<u8>, content_type: &str) -> Document {
    Document {
        content,
        content_type: content_type.to_owned(),
        source: format!("file://{tag}"),
        tag: tag.to_owned(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_documents_over_grpc_hostile_ones_rejected_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, stop) = common::serve(dir.path(), ServerOptions::default()).await;
    let channel = common::connect(addr.rsplit(':').next().unwrap().parse().unwrap()).await;
    let read = |n: &str| std::fs::read(file(n)).unwrap();
    let huaian = read("huaian-city-2024.pdf");
    let docs = vec![
        doc("huaian", huaian.clone(), "application/pdf"),
        doc(
            "cut",
            huaian[..huaian.len() / 2].to_vec(),
            "application/pdf",
        ),
        doc("bomb", zip_bomb(128 << 20), ""),
        doc("locked", read("hostile-encrypted-password.pdf"), ""),
        doc(
            "accounts",
            read("not-a-report-department-accounts-2024.pdf"),
            "",
        ),
        doc("hongze", read("hongze-district-2023.pdf"), ""),
        doc("docx", read("huaian-city-2024.docx"), "docx"),
        doc("ofd", read("huaian-city-2024.ofd"), ""),
        doc(
            "xls",
            read("fujian-pingtan-experimental-zone-2023.xls"),
            "application/vnd.ms-excel",
        ),
        doc(
            "cut-ofd",
            read("huaian-city-2024.ofd")[..4000].to_vec(),
            "ofd",
        ),
    ];
    let mut client = IngestServiceClient::new(channel.clone());
    let mut stream = client
        .ingest(tokio_stream::iter(docs))
        .await
        .unwrap()
        .into_inner();
    let mut results = Vec::new();
    while let Some(r) = stream.message().await.unwrap() {
        results.push((r.tag.clone(), r.outcome, r.reason.clone()));
    }
    let outcome = |tag: &str| {
        results
            .iter()
            .find(|r| r.0 == tag)
            .unwrap_or_else(|| panic!("no answer for {tag}: {results:?}"))
            .clone()
    };
    for tag in ["huaian", "hongze", "xls"] {
        assert_eq!(outcome(tag).1, Outcome::Stored as i32, "{results:?}");
    }
    // The Word file and the OFD hold the same body's 2024 report: renditions of the PDF's.
    for tag in ["docx", "ofd"] {
        assert_eq!(outcome(tag).1, Outcome::Rendition as i32, "{results:?}");
    }
    for (tag, why) in [
        ("cut", "unreadable"),
        ("cut-ofd", "unreadable"),
        ("bomb", "unreadable"),
        ("locked", "unreadable"),
        ("accounts", "not a report"),
    ] {
        let (_, got, reason) = outcome(tag);
        assert_eq!(got, Outcome::Rejected as i32, "{tag}: {results:?}");
        assert!(reason.starts_with(why), "{tag}: {reason}");
    }

    let mut q = ReportServiceClient::new(channel);
    let got = q
        .get_report(GetReportRequest {
            id: nianbao::store::report_id(&huaian),
            include_text: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(got.text.contains("行政复议"), "{}", got.text);
    let report = got.report.unwrap();
    assert_eq!(report.year, Some(2024));
    assert!(
        report.agency.contains("淮安市人民政府"),
        "{}",
        report.agency
    );
    let _ = stop.send(());
}

/// `nianbao parse` reads a PDF in a worker process under its CPU budget: a 27 KB PDF of
/// three million text operators (3 s of CPU to interpret) is stopped at a budget of one
/// second and reported unreadable with that budget; the same file in the process
/// (`--extract-in-process`) is read to its glyph limit.
#[test]
fn an_operator_flood_is_stopped_at_its_cpu_budget() {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(b"BT /F1 9 Tf 10 10 Td\n").unwrap();
    let ops = b"(a)Tj\n".repeat(100_000);
    for _ in 0..30 {
        z.write_all(&ops).unwrap();
    }
    z.write_all(b"ET").unwrap();
    let pdf = common::pdf_pages(&[z.finish().unwrap()], "/Filter /FlateDecode");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flood.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
            .args(["parse", "--facts"])
            .args(args)
            .arg(&path)
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let stopped = run(&["--extract-cpu-secs", "1"]);
    let f = finding(&stopped, "UNREADABLE").unwrap_or_else(|| panic!("{stopped}"));
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("CPU 时间预算（1 秒）"),
        "{}",
        f["message"]
    );
    let read = run(&["--extract-in-process"]);
    assert!(finding(&read, "UNREADABLE").is_none(), "{read}");
}

/// One reader per server: GetReport's text of a scan stored by an `--ocr` server is the OCR'd
/// text its figures were read from (it used to be "OCR is not enabled": the query handler
/// made a reader of its own, without OCR).
#[cfg(feature = "ocr")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_report_text_of_a_scan_is_read_with_the_servers_ocr() {
    let dir = tempfile::tempdir().unwrap();
    let options = ServerOptions {
        reader: nianbao::config::engine(true).unwrap(),
        ..Default::default()
    };
    let (addr, stop) = common::serve(dir.path(), options).await;
    let channel = common::connect(addr.rsplit(':').next().unwrap().parse().unwrap()).await;
    let scan = std::fs::read(file("scanned-page-huaian-2024-p5.png")).unwrap();
    let stored = IngestServiceClient::new(channel.clone())
        .ingest_one(doc("scan", scan, ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.outcome, Outcome::Stored as i32, "{stored:?}");
    let got = ReportServiceClient::new(channel)
        .get_report(GetReportRequest {
            id: stored.id,
            include_text: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!got.text.contains("OCR"), "{}", got.text);
    assert!(got.text.contains("申请"), "{}", got.text);
    let _ = stop.send(());
}
