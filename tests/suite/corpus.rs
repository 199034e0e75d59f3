//! Every corpus file against its expected reading, through the real binary:
//! `nianbao parse --facts FILE`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn check(expected_name: &str) -> Vec<String> {
    common::check_expected(&corpus(), &corpus().join("expected").join(expected_name))
}

macro_rules! corpus_test {
    ($name:ident, $file:literal) => {
        #[test]
        fn $name() {
            let problems = check($file);
            assert!(problems.is_empty(), "{}", problems.join("\n"));
        }
    };
}

corpus_test!(
    changying_2019_dropped_cell_is_inferred_or_reported,
    "beijing-chaoyang-changying-2019.json"
);
corpus_test!(
    district_2019_image_tables_stay_absent,
    "beijing-chaoyang-district-2019.json"
);
corpus_test!(
    district_2022_one_cell_per_line,
    "beijing-chaoyang-district-2022.json"
);
corpus_test!(
    heizhuanghu_2020_signed_change_and_split_rows,
    "beijing-chaoyang-heizhuanghu-2020.json"
);
corpus_test!(
    zuojiazhuang_2019_blank_review_and_bad_sums,
    "beijing-chaoyang-zuojiazhuang-2019.json"
);
corpus_test!(
    huaian_2024_pdf_text_scrambled_labels_litigation_groups_stay_unstated,
    "huaian-city-2024.json"
);
corpus_test!(huaian_2024_pdftotext_layout, "huaian-city-2024-layout.json");

#[test]
fn every_expected_file_has_a_test() {
    let mut names: Vec<String> = std::fs::read_dir(corpus().join("expected"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        7,
        "a new corpus file needs its corpus_test! line: {names:?}"
    );
}

#[test]
fn parse_prints_proto3_json() {
    let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(["parse", "--json"])
        .arg(corpus().join("beijing-chaoyang-district-2022.txt"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["template"], "TEMPLATE_2021");
    assert_eq!(v["applications"]["newReceived"]["total"], "2209");
    assert_eq!(v["proactive"]["fees"]["amountWanYuan"], 16265.755);
}

/// `parse` for people: one line per file, a report's body, year, kind, figures and findings;
/// a document that is no report says so with the reason and the exit code is 1 (with
/// --facts, for programs, it is 0: the JSON says it).
#[test]
fn parse_prints_a_verdict_per_file_and_fails_for_a_non_report() {
    let report = corpus().join("beijing-chaoyang-district-2022.txt");
    let dir = tempfile::tempdir().unwrap();
    let note = dir.path().join("notice.txt");
    std::fs::write(&note, "关于召开会议的通知\n请各单位准时参加。\n").unwrap();
    let run = |args: &[&str], files: &[&Path]| {
        Command::new(env!("CARGO_BIN_EXE_nianbao"))
            .arg("parse")
            .args(args)
            .args(files)
            .output()
            .unwrap()
    };
    let out = run(&[], &[&report]);
    assert!(out.status.success());
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(line.lines().count(), 1, "{line}");
    for part in [
        "北京市朝阳区人民政府 2022",
        "template 2021",
        "text:",
        "figures;",
        "errors",
    ] {
        assert!(line.contains(part), "{part:?} missing from {line}");
    }
    let out = run(&[], &[&report, &note]);
    assert_eq!(out.status.code(), Some(1));
    let lines = String::from_utf8_lossy(&out.stdout).into_owned();
    let second = lines.lines().nth(1).unwrap();
    assert!(
        second.contains("notice.txt: NOT A REPORT (text): "),
        "{second}"
    );
    assert_eq!(run(&["--facts"], &[&note]).status.code(), Some(0));
}

#[test]
fn missing_file_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(["parse", "/nonexistent/report.txt"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/report.txt"));
}
