//! Hostile and damaged input: arbitrary bytes never panic; damaged real reports never panic;
//! work stays bounded as input grows (checked by counting, not by timing).

use std::path::Path;

use nianbao::{catalogue, parse_document, Hints};
use proptest::prelude::*;

fn corpus_text(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/corpus")
            .join(name),
    )
    .unwrap()
}

const FILES: &[&str] = &[
    "beijing-chaoyang-changying-2019.txt",
    "beijing-chaoyang-district-2022.txt",
    "beijing-chaoyang-zuojiazhuang-2019.txt",
    "huaian-city-2024.txt",
    "huaian-city-2024-layout.txt",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let report = parse_document(&bytes, &Hints::default());
        // Whatever was read obeys the catalogue's types.
        for (path, v) in catalogue::facts(&report) {
            prop_assert!(v.is_finite(), "{path} = {v}");
        }
    }

    #[test]
    fn arbitrary_html_never_panics(parts in proptest::collection::vec(
        prop_oneof![
            Just("<table>".to_owned()), Just("</table>".to_owned()), Just("<tr>".to_owned()),
            Just("<td rowspan=\"3\">".to_owned()), Just("<td colspan=\"999999\">".to_owned()),
            Just("<td>".to_owned()), Just("&nbsp;".to_owned()), Just("规章".to_owned()),
            Just("三、收到和处理政府信息公开申请情况".to_owned()), "[0-9]{1,6}",
        ], 0..200)) {
        let html = parts.concat();
        let _ = parse_document(html.as_bytes(), &Hints { content_type: "text/html".into(), ..Hints::default() });
    }

    #[test]
    fn damaged_reports_never_panic(file in 0..FILES.len(), cuts in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..64, "[0-9\t|\n ]{0,8}"), 1..12)) {
        let mut text = corpus_text(FILES[file]).into_bytes();
        for (at, len, insert) in cuts {
            let start = at.index(text.len().max(1)).min(text.len());
            let end = (start + len).min(text.len());
            text.splice(start..end, insert.bytes());
        }
        // Cuts may split UTF-8 sequences: the decoder falls back, the parser must not panic.
        let report = parse_document(&text, &Hints::default());
        for (path, v) in catalogue::facts(&report) {
            prop_assert!(v.is_finite(), "{path} = {v}");
        }
    }
}

/// Linear work: a document made of many copies of a report parses, and every copy beyond
/// the first is reported rather than silently merged.
#[test]
fn repeated_tables_are_bounded_and_reported() {
    let one = corpus_text("beijing-chaoyang-district-2022.txt");
    let many = one.repeat(200);
    let report = parse_document(many.as_bytes(), &Hints::default());
    assert!(report.extra_rows.len() <= 65);
    assert!(
        report.findings.len() < 2_000,
        "{} findings",
        report.findings.len()
    );
}

/// The worst case for fused-digit splitting: long digit runs where seven cells are wanted.
#[test]
fn long_fused_digit_runs_are_bounded() {
    let row = format!(
        "三、收到和处理政府信息公开申请情况\n一、本年新收政府信息公开申请数量{}\n",
        "1".repeat(5000)
    );
    let report = parse_document(row.as_bytes(), &Hints::default());
    assert!(catalogue::facts(&report)
        .iter()
        .all(|(p, _)| !p.starts_with("applications.new_received")));
}
