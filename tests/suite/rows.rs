//! No row placed by its position, as a property: real reports whose table 三 rows print their
//! label and seven numbers on one line are rewritten with some labels stripped (the numbers
//! stay, the label cells are emptied) and the stripped rows shuffled among themselves, as a
//! converter that moves merged label cells out of their rows prints them. The variant may lose
//! figures, but every figure it states is the one the original states (or, where the
//! original's reading leaves it unset, the one the hand label gives), and it keeps every
//! figure of the tables the rewrite leaves alone (a recall floor: stating nothing fails).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nianbao::{catalogue, parse_document, Hints};
use proptest::prelude::*;

/// The fewest such rows a report needs to be used.
const MIN_ROWS: usize = 5;

/// A line's cells split at tabs and pipes.
fn cells(line: &str) -> Vec<&str> {
    line.split(['\t', '|']).collect()
}

fn is_count(cell: &str) -> bool {
    let c = cell.trim();
    !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit())
}

/// Lines holding a label and exactly seven counts: table 三 rows printed whole.
fn labelled_rows(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let cs = cells(l);
            cs.iter().filter(|c| is_count(c)).count() == 7
                && cs.iter().any(|c| !c.trim().is_empty() && !is_count(c))
        })
        .map(|(i, _)| i)
        .collect()
}

/// `line` with every text cell emptied, separators kept.
fn strip_label(line: &str) -> String {
    let mut out = String::new();
    let mut cell = String::new();
    let flush = |cell: &mut String, out: &mut String| {
        if is_count(cell) || cell.trim().is_empty() {
            out.push_str(cell);
        }
        cell.clear();
    };
    for ch in line.chars() {
        if ch == '\t' || ch == '|' {
            flush(&mut cell, &mut out);
            out.push(ch);
        } else {
            cell.push(ch);
        }
    }
    flush(&mut cell, &mut out);
    out
}

/// The figures the hand label of `text` gives (facts and optional), when it has one.
fn labelled(text: &Path) -> BTreeMap<String, f64> {
    let name = text.file_stem().unwrap().to_string_lossy();
    let label = text
        .parent()
        .unwrap()
        .join("expected")
        .join(format!("{name}.json"));
    let Ok(raw) = std::fs::read_to_string(label) else {
        return BTreeMap::new();
    };
    let doc: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let mut out = BTreeMap::new();
    for key in ["facts", "optional"] {
        if let Some(map) = doc[key].as_object() {
            for (p, v) in map {
                if let Some(v) = v.as_f64() {
                    out.insert(p.clone(), v);
                }
            }
        }
    }
    out
}

/// The corpus texts with at least [`MIN_ROWS`] table 三 rows printed whole on a line.
fn reports() -> Vec<(PathBuf, String, Vec<usize>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut out = Vec::new();
    for dir in [root.clone(), root.join("real")] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "txt" || x == "md"))
            .collect();
        paths.sort();
        for p in paths {
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            let rows = labelled_rows(&text);
            if rows.len() >= MIN_ROWS {
                out.push((p, text, rows));
            }
        }
    }
    out
}

fn facts(text: &str) -> BTreeMap<&'static str, f64> {
    let report = parse_document(text.as_bytes(), &Hints::default());
    catalogue::facts(&report)
        .into_iter()
        .filter(|(p, _)| !p.starts_with("overview."))
        .collect()
}

#[test]
fn the_corpus_has_reports_to_rewrite() {
    assert!(
        reports().len() >= 3,
        "too few reports print table 三 rows whole on a line"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn stripped_and_shuffled_rows_never_change_a_figure(
        pick in any::<prop::sample::Index>(),
        strip in proptest::collection::vec(any::<bool>(), 30),
        order in proptest::collection::vec(any::<u32>(), 30),
    ) {
        let all = reports();
        let (path, original, rows) = &all[pick.index(all.len())];
        let stripped: Vec<usize> = rows
            .iter()
            .zip(&strip)
            .filter(|(_, s)| **s)
            .map(|(r, _)| *r)
            .collect();
        prop_assume!(!stripped.is_empty());
        // The stripped rows, in an order drawn from `order`.
        let mut shuffled = stripped.clone();
        shuffled.sort_by_key(|r| order[stripped.iter().position(|x| x == r).unwrap_or(0) % order.len()]);
        let lines: Vec<&str> = original.lines().collect();
        let variant: Vec<String> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| match stripped.iter().position(|r| *r == i) {
                Some(k) => strip_label(lines[shuffled[k]]),
                None => (*l).to_owned(),
            })
            .collect();
        let truth = facts(original);
        let label = labelled(path);
        let read = facts(&variant.join("\n"));
        for (p, v) in &read {
            let want = truth.get(p).or_else(|| label.get(*p));
            prop_assert_eq!(
                want,
                Some(v),
                "{}: {} stated as {} with rows {:?} stripped, printed as {:?}",
                path.display(), p, v, stripped, shuffled
            );
        }
        // A recall floor, so that a reader stating nothing cannot pass: the tables the
        // rewrite does not touch (二 and 四) are read whole, as in the original.
        for (p, v) in truth.iter().filter(|(p, _)| !p.starts_with("applications.")) {
            prop_assert_eq!(
                read.get(p),
                Some(v),
                "{}: {} not read once table 三 rows {:?} were stripped",
                path.display(), p, stripped
            );
        }
        prop_assert!(
            truth.keys().any(|p| !p.starts_with("applications.")),
            "{}: the original states nothing outside table 三 to hold the floor",
            path.display()
        );
    }
}
