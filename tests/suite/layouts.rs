//! Generalisation: each corpus report re-rendered in the other layouts of domain.md must read
//! the same; glued (crawler) cells may lose figures but must never change one.

use std::collections::BTreeMap;
use std::path::Path;

use nianbao::{catalogue, parse_document, Hints};

fn corpus_texts() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "txt").then(|| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
        })
        .collect();
    out.sort();
    out
}

fn facts(bytes: &[u8]) -> BTreeMap<&'static str, f64> {
    let report = parse_document(bytes, &Hints::default());
    catalogue::facts(&report).into_iter().collect()
}

fn same_facts(
    name: &str,
    layout: &str,
    original: &BTreeMap<&str, f64>,
    variant: &BTreeMap<&str, f64>,
) {
    assert!(!original.is_empty() || variant.is_empty());
    for (path, v) in original {
        assert_eq!(variant.get(path), Some(v), "{name} as {layout}: {path}");
    }
    for (path, v) in variant {
        assert!(
            original.contains_key(path),
            "{name} as {layout}: extra {path} = {v}"
        );
    }
}

/// Tab-separated files only: the other transforms re-render tab cells.
fn tabbed() -> Vec<(String, String)> {
    corpus_texts()
        .into_iter()
        .filter(|(_, t)| t.contains('\t'))
        .collect()
}

#[test]
fn gb18030_bytes_read_the_same() {
    for (name, text) in corpus_texts() {
        let (gbk, _, errors) = encoding_rs::GB18030.encode(&text);
        assert!(!errors);
        same_facts(&name, "GB18030", &facts(text.as_bytes()), &facts(&gbk));
    }
}

#[test]
fn crlf_and_full_width_digits_read_the_same() {
    for (name, text) in corpus_texts() {
        let crlf = text.replace('\n', "\r\n");
        same_facts(
            &name,
            "CRLF",
            &facts(text.as_bytes()),
            &facts(crlf.as_bytes()),
        );
        let wide: String = text
            .chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap()
                } else {
                    c
                }
            })
            .collect();
        same_facts(
            &name,
            "full-width digits",
            &facts(text.as_bytes()),
            &facts(wide.as_bytes()),
        );
    }
}

#[test]
fn pipe_rows_read_the_same() {
    for (name, text) in tabbed() {
        let piped: String = text
            .lines()
            .map(|l| {
                if l.contains('\t') {
                    format!("| {} |", l.split('\t').collect::<Vec<_>>().join(" | "))
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        same_facts(
            &name,
            "pipe rows",
            &facts(text.as_bytes()),
            &facts(piped.as_bytes()),
        );
    }
}

#[test]
fn html_tables_read_the_same() {
    for (name, text) in tabbed() {
        let mut html =
            String::from("<html><head><meta charset=\"utf-8\"><title>t</title></head><body>\n");
        let mut in_table = false;
        for line in text.lines() {
            if line.contains('\t') {
                if !in_table {
                    html.push_str("<table border=\"1\">\n");
                    in_table = true;
                }
                html.push_str("<tr>");
                for cell in line.split('\t') {
                    let cell = if cell.trim().is_empty() {
                        "&nbsp;".to_owned()
                    } else {
                        cell.replace('&', "&amp;").replace('<', "&lt;")
                    };
                    html.push_str(&format!("<td>{cell}</td>"));
                }
                html.push_str("</tr>\n");
            } else {
                if in_table {
                    html.push_str("</table>\n");
                    in_table = false;
                }
                if !line.trim().is_empty() {
                    html.push_str(&format!(
                        "<p>{}</p>\n",
                        line.replace('&', "&amp;").replace('<', "&lt;")
                    ));
                }
            }
        }
        if in_table {
            html.push_str("</table>\n");
        }
        html.push_str("</body></html>\n");
        same_facts(
            &name,
            "HTML",
            &facts(text.as_bytes()),
            &facts(html.as_bytes()),
        );
    }
}

#[test]
fn one_cell_per_line_reads_the_same_where_rows_are_whole() {
    for (name, text) in tabbed() {
        let flat: String = text
            .lines()
            .flat_map(|l| {
                l.split('\t')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
            .join("\n");
        let original = facts(text.as_bytes());
        let variant = facts(flat.as_bytes());
        // Gridded blanks lose their position once cells are on their own lines: such cells
        // may go absent, but every figure read must be the same figure.
        for (path, v) in &variant {
            assert_eq!(
                original.get(path),
                Some(v),
                "{name} one cell per line: {path}"
            );
        }
        assert!(
            variant.len() * 10 >= original.len() * 9,
            "{name}: {} of {} facts",
            variant.len(),
            original.len()
        );
    }
}

#[test]
fn crawler_glued_cells_never_change_a_figure() {
    for (name, text) in tabbed() {
        // Cells concatenated with no separator at all, as some crawlers store tables.
        let glued: String = text
            .lines()
            .map(|l| l.replace('\t', ""))
            .collect::<Vec<_>>()
            .join("\n");
        let original = facts(text.as_bytes());
        let variant = facts(glued.as_bytes());
        for (path, v) in &variant {
            if path.starts_with("overview.") || path.starts_with("fee_collection.") {
                continue;
            }
            assert_eq!(
                original.get(path),
                Some(v),
                "{name} glued: {path} read as {v}"
            );
        }
    }
}

#[test]
fn space_aligned_columns_never_change_a_figure() {
    for (name, text) in tabbed() {
        // pdftotext -layout: columns aligned by spaces; empty cells vanish.
        let spaced = text.replace('\t', "    ");
        let original = facts(text.as_bytes());
        let variant = facts(spaced.as_bytes());
        for (path, v) in &variant {
            assert_eq!(original.get(path), Some(v), "{name} space-aligned: {path}");
        }
        assert!(
            variant.len() * 10 >= original.len() * 9,
            "{name}: {} of {} facts",
            variant.len(),
            original.len()
        );
    }
}

/// Mirror sites print pinyin glosses after characters, inside the body's name too: the name
/// is read without them, in the characters it is printed in.
#[test]
fn pinyin_glosses_are_not_part_of_the_agency() {
    let text = "國家機(jī)關(guān)事務(wù)管理局2020年政府信息公開工作年度報告\n一、總體情況\n本年度收到申請3件。\n";
    let report = parse_document(text.as_bytes(), &Hints::default());
    assert_eq!(report.agency, "國家機關事務管理局");
    assert_eq!(report.year, Some(2020));
}

/// Crawled pages that print one cell per line (`0 |`) print an empty cell as a lone `|`: a
/// table 三 row with such a line reads as the same row printed on one line, its blank cell
/// unset and reported where the row prints its total.
#[test]
fn a_lone_pipe_line_is_the_blank_cell_of_its_row() {
    let mut tried = 0;
    for (name, text) in tabbed() {
        // Blank the second count of the first table 三 row printed whole on a tab line.
        let Some(at) = text.lines().position(|l| {
            let cells: Vec<&str> = l.split('\t').map(str::trim).collect();
            cells
                .iter()
                .filter(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()))
                .count()
                == 7
                && l.contains("申请")
        }) else {
            continue;
        };
        tried += 1;
        let blanked: Vec<String> = text
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i != at {
                    return l.to_owned();
                }
                let mut cells: Vec<String> = l.split('\t').map(str::to_owned).collect();
                let second = cells
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| {
                        !c.trim().is_empty() && c.trim().bytes().all(|b| b.is_ascii_digit())
                    })
                    .nth(1)
                    .map(|(k, _)| k)
                    .unwrap();
                cells[second] = String::new();
                cells.join("\t")
            })
            .collect();
        let tabbed_text = blanked.join("\n");
        let per_line: String = blanked
            .iter()
            .flat_map(|l| {
                if !l.contains('\t') {
                    return vec![l.clone()];
                }
                let cells: Vec<&str> = l.split('\t').map(str::trim).collect();
                // Empty cells before the first number (merged label cells' fillers) and after
                // the last are the tab layout's, not the row's.
                let is_count = |c: &&str| !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit());
                let shown = |c: &&str| {
                    if c.is_empty() {
                        "|".to_owned()
                    } else {
                        format!("{c} |")
                    }
                };
                let Some(first) = cells.iter().position(is_count) else {
                    return cells.iter().filter(|c| !c.is_empty()).map(shown).collect();
                };
                let last = cells.iter().rposition(|c| !c.is_empty()).unwrap_or(first);
                cells[..first]
                    .iter()
                    .filter(|c| !c.is_empty())
                    .chain(&cells[first..=last])
                    .map(shown)
                    .collect()
            })
            .collect::<Vec<_>>()
            .join("\n");
        // Every figure read is the one the text before the blanking states; the blanked
        // cell is read nowhere and reported.
        let truth = facts(text.as_bytes());
        assert!(!facts(tabbed_text.as_bytes()).is_empty());
        let report = parse_document(per_line.as_bytes(), &Hints::default());
        let variant: BTreeMap<&str, f64> = catalogue::facts(&report).into_iter().collect();
        for (path, v) in &variant {
            assert_eq!(truth.get(path), Some(v), "{name} one cell per line: {path}");
        }
        let blank = report.findings.iter().find(|f| f.code == "CELL_BLANK");
        assert!(
            blank.is_some_and(|f| f.path.ends_with(".commercial_enterprise")
                && !variant.contains_key(f.path.as_str())),
            "{name}: no CELL_BLANK at the emptied cell: {:?}",
            report
                .findings
                .iter()
                .map(|f| (&f.path, &f.message))
                .collect::<Vec<_>>()
        );
    }
    assert!(tried >= 2, "too few tab texts with a whole table 三 row");
}
