//! The publication date read from the text, against the hand labels of
//! `tests/corpus/dates.tsv` (every text of `tests/corpus/real/` and `tests/corpus/`, the date a
//! person reads in it, or none).
//!
//! Asserted: every text is labelled; no date is wrong (a date where the label has another or
//! none); at least [`MIN_FOUND`] of the labelled dates are read. The figures are printed
//! (`cargo test --release --test suite -- dates:: --nocapture`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nianbao::pb::DateSource;
use nianbao::Hints;

/// Labelled dates that must be read, as measured when the reader was written (35 of 35).
const MIN_FOUND: usize = 35;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// file (relative to tests/corpus) -> the labelled date ("" for none).
fn labels() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(corpus().join("dates.tsv")).unwrap();
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.starts_with("file\t") || line.trim().is_empty() {
            continue;
        }
        let mut cols = line.split('\t');
        let (Some(file), Some(date), Some(_where)) = (cols.next(), cols.next(), cols.next()) else {
            panic!("dates.tsv line {}: want file<TAB>date<TAB>where", i + 1);
        };
        assert!(
            date.is_empty() || nianbao::parse::published::client_date(date).is_some(),
            "dates.tsv line {}: {date:?} is not a date",
            i + 1
        );
        let again = out.insert(file.to_owned(), date.to_owned());
        assert!(again.is_none(), "dates.tsv line {}: {file} twice", i + 1);
    }
    out
}

/// The texts the labels must cover.
fn texts() -> Vec<String> {
    let mut out = Vec::new();
    for (dir, prefix) in [(corpus().join("real"), "real/"), (corpus(), "")] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "txt") {
                out.push(format!(
                    "{prefix}{}",
                    p.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn publication_dates_read_from_the_text() {
    let labels = labels();
    let texts = texts();
    let unlabelled: Vec<&String> = texts.iter().filter(|t| !labels.contains_key(*t)).collect();
    assert!(unlabelled.is_empty(), "not in dates.tsv: {unlabelled:?}");
    assert!(texts.len() >= 80, "the corpus holds {} texts", texts.len());

    let (mut labelled, mut found, mut wrong) = (0, 0, Vec::new());
    let mut missed = Vec::new();
    for file in &texts {
        let path = corpus().join(file);
        let bytes = std::fs::read(&path).unwrap();
        let hints = Hints {
            source: path.display().to_string(),
            ..Default::default()
        };
        let report = nianbao::read::parse_document(&bytes, &hints);
        let got = report.publication.as_ref().map_or("", |p| p.date.as_str());
        if let Some(p) = &report.publication {
            assert!(p.url.is_empty(), "{file}: a URL from nowhere");
            if !p.date.is_empty() {
                assert_eq!(p.date_source, DateSource::Text as i32, "{file}");
            }
        }
        let want = labels[file].as_str();
        if !want.is_empty() {
            labelled += 1;
        }
        match (want, got) {
            (w, g) if w == g => found += usize::from(!w.is_empty()),
            (w, "") => missed.push(format!("{file}: missed {w}")),
            (w, g) => wrong.push(format!("{file}: read {g}, the text says {w:?}")),
        }
    }
    println!(
        "publication dates: {found} of {labelled} labelled read, {} wrong, {} texts ({} print none)",
        wrong.len(),
        texts.len(),
        texts.len() - labelled
    );
    for m in &missed {
        println!("  {m}");
    }
    assert!(wrong.is_empty(), "wrong dates:\n{}", wrong.join("\n"));
    assert!(
        found >= MIN_FOUND,
        "{found} of {labelled} dates read, want at least {MIN_FOUND}"
    );
}
