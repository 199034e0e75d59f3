//! Never guess, as a property: ambiguous variants of real reports (cells fused with no
//! separator, a cell dropped from a row, table 四's groups interleaved as PDF text scrambles
//! them) may lose figures, but every figure the parser states equals the truth.

use std::collections::BTreeMap;
use std::path::Path;

use nianbao::{catalogue, parse_document, Hints};
use proptest::prelude::*;

/// The tab-separated corpus reports: their cells are known, so variants can be made of them.
const TABBED: &[&str] = &[
    "beijing-chaoyang-changying-2019.txt",
    "beijing-chaoyang-heizhuanghu-2020.txt",
    "beijing-chaoyang-zuojiazhuang-2019.txt",
    "beijing-chaoyang-district-2022.txt",
];

fn text(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/corpus")
            .join(name),
    )
    .unwrap()
}

fn facts(text: &str) -> BTreeMap<&'static str, f64> {
    let report = parse_document(text.as_bytes(), &Hints::default());
    catalogue::facts(&report)
        .into_iter()
        .filter(|(p, _)| !p.starts_with("overview.") && !p.starts_with("fee_collection."))
        .collect()
}

/// Every figure stated in `variant` is the one `truth` states for the same path.
fn never_differs(
    truth: &BTreeMap<&str, f64>,
    variant: &BTreeMap<&str, f64>,
) -> Result<(), TestCaseError> {
    for (path, v) in variant {
        prop_assert_eq!(truth.get(path), Some(v), "{} stated as {}", path, v);
    }
    Ok(())
}

/// Lines that hold at least two numeric tab cells (table rows).
fn numeric_rows(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            l.split('\t')
                .filter(|c| !c.trim().is_empty() && c.trim().bytes().all(|b| b.is_ascii_digit()))
                .count()
                >= 2
        })
        .map(|(i, _)| i)
        .collect()
}

fn rewrite(text: &str, rows: &[usize], f: impl Fn(&str, usize) -> String) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| match rows.iter().position(|r| *r == i) {
            Some(k) => f(l, k),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Some rows' numbers run together with no separator (crawler text).
    #[test]
    fn fused_rows_never_change_a_figure(
        file in 0..TABBED.len(),
        picks in proptest::collection::vec(any::<prop::sample::Index>(), 1..12),
    ) {
        let original = text(TABBED[file]);
        let rows = numeric_rows(&original);
        prop_assume!(!rows.is_empty());
        let chosen: Vec<usize> = picks.iter().map(|p| rows[p.index(rows.len())]).collect();
        let variant = rewrite(&original, &chosen, |line, _| {
            // The label stays a cell of its own; the numbers after it are glued.
            let mut cells = line.split('\t');
            let label = cells.next().unwrap_or("");
            let digits: String = cells.map(str::trim).collect();
            format!("{label}\t{digits}")
        });
        never_differs(&facts(&original), &facts(&variant))?;
    }

    /// One cell dropped from some rows, as pages that drop empty cells do (the columns after
    /// it shift left).
    #[test]
    fn dropped_cells_never_change_a_figure(
        file in 0..TABBED.len(),
        picks in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..12),
    ) {
        let original = text(TABBED[file]);
        let rows = numeric_rows(&original);
        prop_assume!(!rows.is_empty());
        let chosen: Vec<usize> = picks.iter().map(|(p, _)| rows[p.index(rows.len())]).collect();
        let variant = rewrite(&original, &chosen, |line, k| {
            let mut cells: Vec<&str> = line.split('\t').collect();
            // A number or an empty cell, never a label (dropping one would make another
            // document, e.g. a split row 行政检查 read as its parent row).
            let droppable: Vec<usize> = (0..cells.len())
                .filter(|&i| cells[i].trim().bytes().all(|b| b.is_ascii_digit() || b == b'.'))
                .collect();
            if !droppable.is_empty() {
                cells.remove(droppable[picks[k].1.index(droppable.len())]);
            }
            cells.join("\t")
        });
        never_differs(&facts(&original), &facts(&variant))?;
    }

    /// Table 四's fifteen numbers with its three groups interleaved (each group keeps its own
    /// order and the review group opens the stream, as scrambled PDF text prints them).
    #[test]
    fn interleaved_table_four_never_states_a_wrong_cell(
        outcomes in proptest::collection::vec(0u32..6, 12),
        owners in proptest::collection::vec(0usize..3, 14),
    ) {
        let mut groups: Vec<Vec<u32>> = outcomes
            .chunks(4)
            .map(|g| {
                let mut v = g.to_vec();
                v.push(g.iter().sum());
                v
            })
            .collect();
        let truth: Vec<u32> = groups.concat();
        // The stream: review's first number, then numbers taken from the groups in the drawn
        // order (a group that is used up passes its turn to the next one).
        let mut stream = vec![groups[0].remove(0)];
        for owner in owners {
            let g = (0..3).map(|d| (owner + d) % 3).find(|g| !groups[*g].is_empty());
            if let Some(g) = g {
                stream.push(groups[g].remove(0));
            }
        }
        for g in &mut groups {
            stream.append(g);
        }
        // A stream that adds up in printed order reads as printed: the text says so, and no
        // reader could tell it was moved. Only streams that show the move are kept.
        let holds_as_printed = stream
            .chunks(5)
            .all(|g| g[..4].iter().sum::<u32>() == g[4]);
        prop_assume!(!holds_as_printed || stream == truth);
        let body: String = stream.iter().map(|v| format!("{v}\n")).collect();
        let doc = format!(
            "某县人民政府2023年政府信息公开工作年度报告\n一、总体情况\n四、政府信息公开行政复议、行政诉讼情况\n\
             行政复议\n行政诉讼\n未经复议直接起诉\n复议后起诉\n{body}五、存在的主要问题及改进情况\n"
        );
        let report = parse_document(doc.as_bytes(), &Hints::default());
        let paths = ["review", "litigation_direct", "litigation_after_review"]
            .iter()
            .flat_map(|g| ["upheld", "corrected", "other", "pending", "total"].map(|d| format!("{g}.{d}")))
            .collect::<Vec<_>>();
        let stated: BTreeMap<&str, f64> = catalogue::facts(&report).into_iter().collect();
        for (path, want) in paths.iter().zip(&truth) {
            if let Some(v) = stated.get(path.as_str()) {
                prop_assert_eq!(*v, f64::from(*want), "{} in stream {:?}", path, stream);
            }
        }
    }
}
