//! Tables 二, 三 and 四: a region's cells to catalogue values. PURE.
//!
//! Rows are anchored on their labels where the labels are readable; numbers that follow no
//! label of their own (PDF text scrambles merged label cells) take the next rows in the
//! official order; a row that prints fewer cells than it has is placed by its grid position
//! when the line is gridded, else by the arithmetic rules when they force a single reading,
//! else left absent with a finding.
//!
//! One part per table: [`read_t2`] (table 二, the proactive disclosures), [`read_t3`] (table
//! 三, the applications) and [`read_t4`] (table 四, reviews and suits). What they share is
//! here: the count of a region's numbers, and a gridded row's cells. The sums they place rows
//! by are the form's ([`crate::model::rules`]).

mod t2;
mod t3;
mod t4;
mod whole;

pub use t2::read_t2;
pub use t3::read_t3;
pub use t4::read_t4;

use super::cells::{Cell, Number, Tok};
use super::sheet::Sheet;
use crate::model::finding::Code;

/// Where a row's label stands (its line and column in the cell grid), when it has one.
type LabelAt = Option<(u32, u16)>;

/// How many numbers a region held, so the caller can tell a missing table.
pub struct Read {
    pub numbers: usize,
}

/// The numbers among a row's cells, blanks and labels dropped.
fn numbers_of<'a>(toks: &[Cell<'a>]) -> Vec<Number<'a>> {
    toks.iter()
        .filter_map(|c| match c.tok {
            Tok::Num(n) => Some(n),
            _ => None,
        })
        .collect()
}

/// Reports each cell of `toks` printed so that no number can be read (`--253`) or signed
/// where the table prints no signed column (`+5` in table 三 or 四), with the text as
/// printed. `paths` are the cells' paths in order when the row's positions give them, else
/// the finding stands at `fallback`. A malformed cell stays unset; a signed one keeps its
/// figure.
fn note_bad_signs(toks: &[Cell<'_>], paths: Option<&[&str]>, fallback: &str, sheet: &mut Sheet) {
    let data: Vec<&Cell<'_>> = toks
        .iter()
        .filter(|c| !matches!(c.tok, Tok::Text(_)))
        .collect();
    // Positions count only when every cell, blanks included, has its column.
    let paths = paths.filter(|p| p.len() == data.len());
    for (i, c) in data.iter().enumerate() {
        let path = paths.map_or(fallback, |p| p[i]);
        match c.tok {
            Tok::Malformed(t) => sheet.note(
                Code::NotInteger,
                path,
                format!("单元格印为「{t}」，不是可读的数，未采用"),
            ),
            Tok::Num(n) if n.plus => sheet.note_values(
                Code::NotInteger,
                path,
                None,
                Some(n.value),
                format!("单元格印为「+{}」：此表各列都不带正负号", n.raw),
            ),
            _ => {}
        }
    }
}

/// Numbers as the text prints them, for a finding's message.
fn printed(nums: &[Number<'_>]) -> String {
    nums.iter().map(|n| n.raw).collect::<Vec<_>>().join(" ")
}

/// The cells after a label on the label's own gridded line, when every number of the row is
/// on that line: trailing blanks dropped, and leading blanks (merged label columns) dropped
/// while the row is wider than `width`. `None` unless exactly `width` cells remain.
fn grid_cells<'a>(
    label: LabelAt,
    toks: &[Cell<'a>],
    width: usize,
) -> Option<Vec<Option<Number<'a>>>> {
    let (line, _) = label?;
    if toks.is_empty() || toks.iter().any(|c| c.line != line || !c.gridded) {
        return None;
    }
    let mut row: Vec<Option<Number<'a>>> = toks
        .iter()
        .map(|c| match c.tok {
            Tok::Num(n) => Some(n),
            _ => None,
        })
        .collect();
    while row.last().is_some_and(Option::is_none) {
        row.pop();
    }
    let leading = row.iter().take_while(|c| c.is_none()).count();
    let skip = leading.min(row.len().saturating_sub(width));
    (row.len() - skip == width).then(|| row.split_off(skip))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::Template;

    /// The (code, path, message) of every finding of a sheet.
    fn findings(sheet: &Sheet) -> Vec<(String, String, String)> {
        sheet
            .findings
            .iter()
            .map(|f| (f.code.clone(), f.path.clone(), f.message.clone()))
            .collect()
    }

    fn has(sheet: &Sheet, code: &str, path: &str, text: &str) -> bool {
        findings(sheet)
            .iter()
            .any(|(c, p, m)| c == code && p == path && m.contains(text))
    }

    const T2_2019: &str = "信息内容\t上一年项目数量\t本年增/减\t处理决定数量\n";

    #[test]
    fn a_plus_sign_outside_the_change_column_is_reported_and_kept() {
        let mut sheet = Sheet::default();
        read_t2(
            &format!("{T2_2019}行政许可\t+22\t+3\t40\n"),
            Template::Template2019,
            &mut sheet,
        );
        assert_eq!(sheet.get("proactive.licensing.previous"), Some(22.0));
        assert_eq!(sheet.get("proactive.licensing.change"), Some(3.0));
        assert!(
            has(&sheet, "NOT_INTEGER", "proactive.licensing.previous", "+22"),
            "{:?}",
            findings(&sheet)
        );
        // The change column is signed: its plus sign is fine.
        assert!(!findings(&sheet)
            .iter()
            .any(|(_, p, _)| p == "proactive.licensing.change"));
    }

    #[test]
    fn a_doubled_sign_stays_unset_with_its_text() {
        let mut sheet = Sheet::default();
        read_t2(
            &format!("{T2_2019}行政处罚\t177\t--253\t73\n"),
            Template::Template2019,
            &mut sheet,
        );
        assert_eq!(sheet.get("proactive.penalty.previous"), Some(177.0));
        assert_eq!(sheet.get("proactive.penalty.change"), None);
        assert_eq!(sheet.get("proactive.penalty.decisions"), Some(73.0));
        assert!(
            has(&sheet, "NOT_INTEGER", "proactive.penalty.change", "--253"),
            "{:?}",
            findings(&sheet)
        );
        // One per line: the columns are not known, the row is reported.
        let mut sheet = Sheet::default();
        read_t2(
            &format!("{T2_2019}行政处罚\n177\n--253\n73\n"),
            Template::Template2019,
            &mut sheet,
        );
        assert_eq!(sheet.get("proactive.penalty.change"), None);
        assert!(
            has(&sheet, "NOT_INTEGER", "proactive.penalty", "--253"),
            "{:?}",
            findings(&sheet)
        );
    }

    #[test]
    fn blank_pipe_cells_of_a_row_with_a_total_are_reported() {
        let mut sheet = Sheet::default();
        read_t2(
            &format!("{T2_2019}| 行政强制 | 5 | | 9 |\n"),
            Template::Template2019,
            &mut sheet,
        );
        assert_eq!(sheet.get("proactive.enforcement.previous"), Some(5.0));
        assert!(
            has(&sheet, "CELL_BLANK", "proactive.enforcement.change", ""),
            "{:?}",
            findings(&sheet)
        );
    }

    #[test]
    fn blank_cells_of_table_three_name_the_printed_total() {
        let mut sheet = Sheet::default();
        read_t3(
            "申请人情况\t自然人\t商业企业\t科研机构\t社会公益组织\t法律服务机构\t其他\t总计\n\
             | 一、本年新收政府信息公开申请数量 | 3 | | | | | | 3 |\n\
             | 二、上年结转政府信息公开申请数量 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |\n",
            Template::Template2021,
            false,
            &mut sheet,
        );
        assert_eq!(sheet.get("applications.new_received.total"), Some(3.0));
        assert_eq!(sheet.get("applications.new_received.other_org"), None);
        assert!(
            has(
                &sheet,
                "CELL_BLANK",
                "applications.new_received.other_org",
                "总计印为「3」"
            ),
            "{:?}",
            findings(&sheet)
        );
    }

    #[test]
    fn signs_in_table_three_are_reported_at_their_cell() {
        let mut sheet = Sheet::default();
        read_t3(
            "申请人情况\t自然人\t商业企业\t科研机构\t社会公益组织\t法律服务机构\t其他\t总计\n\
             一、本年新收政府信息公开申请数量\t+3\t0\t0\t0\t0\t0\t3\n\
             二、上年结转政府信息公开申请数量\t0\t0\t0\t0\t0\t--1\t0\n",
            Template::Template2021,
            false,
            &mut sheet,
        );
        assert_eq!(
            sheet.get("applications.new_received.natural_person"),
            Some(3.0)
        );
        assert!(
            has(
                &sheet,
                "NOT_INTEGER",
                "applications.new_received.natural_person",
                "+3"
            ),
            "{:?}",
            findings(&sheet)
        );
        assert_eq!(sheet.get("applications.carried_over.other_org"), None);
        assert!(
            has(
                &sheet,
                "NOT_INTEGER",
                "applications.carried_over.other_org",
                "--1"
            ),
            "{:?}",
            findings(&sheet)
        );
    }
}
