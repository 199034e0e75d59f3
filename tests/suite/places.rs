//! Places: every text of the corpus resolved to the administrative divisions and compared
//! with the place read by hand from the text (`tests/corpus/places.tsv`).
//!
//! Asserted: no wrong level (a level the resolver states equals the label, and it states no
//! level the label leaves empty); at least [`MIN_PROVINCE`], [`MIN_PREFECTURE`] and
//! [`MIN_COUNTY`] of the labelled levels resolved. The figures are printed
//! (`cargo test --release --test suite -- places:: --nocapture`).

use std::path::Path;
use std::time::Instant;

use nianbao::pb::Region;
use nianbao::Hints;

/// Shares of the labelled levels resolved, as measured on the corpus when written: province
/// 78/80, prefecture 60/62, county 62/64 (township 33/36), no level wrong.
const MIN_PROVINCE: f64 = 0.95;
const MIN_PREFECTURE: f64 = 0.95;
const MIN_COUNTY: f64 = 0.95;

#[derive(Default)]
struct Level {
    labelled: usize,
    resolved: usize,
    wrong: usize,
}

impl Level {
    fn tally(
        &mut self,
        label: &str,
        got: &str,
        file: &str,
        what: &str,
        problems: &mut Vec<String>,
    ) {
        if !label.is_empty() {
            self.labelled += 1;
            if got == label {
                self.resolved += 1;
            }
        }
        // A code is right when it is the label's, or the label's cut to a shallower level.
        let agrees = if what == "code" {
            let significant = |c: &str| {
                let mut c = c.to_owned();
                while c.len() > 2 && c.len() <= 6 && c.ends_with("00") {
                    c.truncate(c.len() - 2);
                }
                c
            };
            label.starts_with(&significant(got))
        } else {
            got == label
        };
        if !got.is_empty() && !agrees {
            self.wrong += 1;
            problems.push(format!("{file}: {what} {got:?}, the text says {label:?}"));
        }
    }

    fn share(&self) -> f64 {
        self.resolved as f64 / self.labelled.max(1) as f64
    }
}

#[test]
fn places_are_resolved_as_the_text_says_and_never_guessed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let labels = std::fs::read_to_string(root.join("places.tsv")).unwrap();
    let mut levels: [Level; 5] = Default::default();
    let names = ["province", "prefecture", "county", "township", "code"];
    let mut problems = Vec::new();
    let mut reports = 0;
    let mut real = 0;
    let mut real_with = [0usize; 3];
    for line in labels
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = line.split('\t').collect();
        let bytes = std::fs::read(root.join(f[0])).unwrap();
        let report = nianbao::parse_document(&bytes, &Hints::default());
        let r: Region = report.region.unwrap_or_default();
        let got = [&r.province, &r.city, &r.county, &r.township, &r.code];
        for (k, level) in levels.iter_mut().enumerate() {
            level.tally(f[k + 1], got[k], f[0], names[k], &mut problems);
        }
        reports += 1;
        if f[0].starts_with("real/") {
            real += 1;
            for (k, n) in real_with.iter_mut().enumerate() {
                *n += usize::from(!got[k].is_empty());
            }
        }
    }
    for (name, l) in names.iter().zip(&levels) {
        println!(
            "{name:>10}: {}/{} labelled resolved ({:.0}%), wrong {}",
            l.resolved,
            l.labelled,
            100.0 * l.share(),
            l.wrong
        );
    }
    println!(
        "real reports: {real}; with a province {}, a prefecture {}, a county {}",
        real_with[0], real_with[1], real_with[2]
    );
    assert!(reports >= 80, "{reports} labelled texts");
    assert!(
        problems.is_empty(),
        "wrong places:\n{}",
        problems.join("\n")
    );
    let [p, c, k, ..] = &levels;
    assert!(p.share() >= MIN_PROVINCE, "province {:.2}", p.share());
    assert!(c.share() >= MIN_PREFECTURE, "prefecture {:.2}", c.share());
    assert!(k.share() >= MIN_COUNTY, "county {:.2}", k.share());
}

/// The resolver alone, on the folded texts of the corpus: its time per report.
#[test]
fn resolving_takes_tens_of_microseconds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/real");
    let mut texts = Vec::new();
    for e in std::fs::read_dir(&root).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "txt") {
            let raw = std::fs::read_to_string(&p).unwrap();
            texts.push(nianbao::decode::fold::to_simplified(&raw).into_owned());
        }
    }
    let resolve = |t: &str, titles: &[String]| {
        nianbao::place::resolve(&nianbao::place::Clues {
            agency: "",
            text: t,
            titles,
            year: Some(2022),
            ..Default::default()
        })
    };
    let titles: Vec<Vec<String>> = texts
        .iter()
        .map(|t| nianbao::parse::meta::titles(t))
        .collect();
    resolve(&texts[0], &titles[0]); // builds the gazetteer
    let start = Instant::now();
    let rounds = 5;
    for _ in 0..rounds {
        for (t, ti) in texts.iter().zip(&titles) {
            std::hint::black_box(resolve(t, ti));
        }
    }
    let per = start.elapsed().as_secs_f64() * 1e6 / (rounds * texts.len()) as f64;
    println!(
        "resolve: {per:.1} µs per report ({} reports, agency unknown: the slow path)",
        texts.len()
    );
}
