//! Figures read by OCR are stated only where the table's own arithmetic confirms them. PURE.
//!
//! OCR misreads digits (a table border becomes a 1: 37 → 137), and a misread figure is
//! worse than none. So in an OCR'd document a table-三 row is kept only when its six
//! applicant cells add up to its printed total, and no column rule (rule 1 or 2) that adds
//! its cells fails; a table-四 group only when its four results add up to its total. Every
//! other figure (table 二, the narrative) has no rule to confirm it and is withheld. What
//! is withheld is listed in one finding per row or table. The rules themselves live in
//! [`crate::model::rules`].

use crate::model::catalogue::{self, METRICS};
use crate::model::finding::{finding, Code};
use crate::model::form::{t3_rows, T3_COLUMNS, T4_GROUPS};
use crate::model::rules::{column_sums, GROUP_TOTAL, ROW_TOTAL};
use crate::pb::{Report, Template};

fn row_values(report: &Report, row: &str) -> Vec<Option<f64>> {
    catalogue::children(row)
        .iter()
        .map(|&i| catalogue::get(report, i))
        .collect()
}

fn clear(report: &mut Report, indices: &[usize]) -> usize {
    let mut cleared = 0;
    for &i in indices {
        if catalogue::get(report, i).is_some() {
            catalogue::set(report, i, None);
            cleared += 1;
        }
    }
    cleared
}

/// Columns (0..7) where a column rule over rows that are all printed fails: the balance
/// (new + carried over = closed + carried forward) or the outcomes' sum.
fn failing_columns(report: &Report, template: Template) -> [bool; T3_COLUMNS] {
    let mut failing = [false; T3_COLUMNS];
    let cell = |row: &str, c: usize| {
        catalogue::children(row)
            .get(c)
            .and_then(|&i| catalogue::get(report, i))
    };
    for (c, fail) in failing.iter_mut().enumerate() {
        *fail = column_sums(template).iter().any(|sum| sum.fails(c, cell));
    }
    failing
}

/// Unsets every figure of an OCR'd report that no rule confirms, with findings.
pub fn withhold_unconfirmed(report: &mut Report) {
    let template = Template::try_from(report.template).unwrap_or(Template::Unknown);
    let mut kept = vec![false; METRICS.len()];
    let mut notes = Vec::new();
    let columns = failing_columns(report, template);
    for row in t3_rows(template) {
        let values = row_values(report, row);
        if values.iter().all(Option::is_none) {
            continue;
        }
        let cells = catalogue::children(row);
        if ROW_TOTAL.holds_printed(&values) && !columns.iter().any(|&f| f) {
            cells.iter().for_each(|&i| kept[i] = true);
        } else {
            let why = if ROW_TOTAL.holds_printed(&values) {
                "所在列的合计关系不成立"
            } else {
                "六类申请人之和与总计不符或有空缺"
            };
            notes.push((
                format!("{row}.total"),
                format!(
                    "「{}」行为 OCR 识别结果，{why}，未采用",
                    catalogue::label_of(row)
                ),
            ));
        }
    }
    for group in T4_GROUPS {
        let values = row_values(report, group);
        if values.iter().all(Option::is_none) {
            continue;
        }
        if GROUP_TOTAL.holds_printed(&values) {
            catalogue::children(group)
                .iter()
                .for_each(|&i| kept[i] = true);
        } else {
            notes.push((
                format!("{group}.total"),
                format!(
                    "表四「{}」组为 OCR 识别结果，四项之和与总计不符或有空缺，未采用",
                    catalogue::label_of(group)
                ),
            ));
        }
    }
    let rest: Vec<usize> = (0..METRICS.len()).filter(|&i| !kept[i]).collect();
    let unconfirmed: Vec<&str> = rest
        .iter()
        .filter(|&&i| catalogue::get(report, i).is_some())
        .map(|&i| METRICS[i].path)
        .filter(|p| !p.starts_with("applications.") && !is_t4(p))
        .collect();
    if !unconfirmed.is_empty() {
        notes.push((
            String::new(),
            format!(
                "{} 个数字（表二、正文等）为 OCR 识别结果，没有合计关系可核对，未采用",
                unconfirmed.len()
            ),
        ));
    }
    clear(report, &rest);
    let inferred = std::mem::take(&mut report.inferred);
    report.inferred = inferred
        .into_iter()
        .filter(|p| catalogue::index_of(p).is_some_and(|i| catalogue::get(report, i).is_some()))
        .collect();
    for (path, message) in notes {
        report
            .findings
            .push(finding(Code::OcrUnconfirmed, path, None, None, message));
    }
}

fn is_t4(path: &str) -> bool {
    path.starts_with("review.") || path.starts_with("litigation_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(r: &mut Report, path: &str, v: f64) {
        catalogue::set(r, catalogue::index_of(path).expect(path), Some(v));
    }

    fn get(r: &Report, path: &str) -> Option<f64> {
        catalogue::get(r, catalogue::index_of(path).unwrap())
    }

    #[test]
    fn a_group_that_adds_up_stays_one_that_does_not_goes_with_a_finding() {
        let mut r = Report {
            template: Template::Template2021 as i32,
            ..Report::default()
        };
        for (i, v) in [72.0, 64.0, 178.0, 37.0, 351.0].iter().enumerate() {
            set(&mut r, METRICS[catalogue::children("review")[i]].path, *v);
        }
        // 37 read as 137: the group no longer adds up.
        for (i, v) in [13.0, 4.0, 8.0, 101.0, 26.0].iter().enumerate() {
            set(
                &mut r,
                METRICS[catalogue::children("litigation_direct")[i]].path,
                *v,
            );
        }
        set(&mut r, "proactive.regulations.new_made", 3.0);
        withhold_unconfirmed(&mut r);
        assert_eq!(get(&r, "review.total"), Some(351.0));
        assert_eq!(get(&r, "litigation_direct.upheld"), None);
        assert_eq!(get(&r, "proactive.regulations.new_made"), None);
        let codes: Vec<&str> = r.findings.iter().map(|f| f.path.as_str()).collect();
        assert!(codes.contains(&"litigation_direct.total"), "{codes:?}");
        assert!(r.findings.iter().all(|f| f.code == "OCR_UNCONFIRMED"));
    }
}
