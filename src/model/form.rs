//! The printed forms' shape, shared by the parser, the validator and the index. PURE.
//!
//! The parser reads tables 三 and 四 by this shape and the validator checks them by it, so it
//! is written once, here: which rows table 三 prints in each format and in what order, its
//! seven applicant columns, and table 四's three groups of five cells. How printed labels are matched to these rows is the parser's own business
//! (`parse::labels`).

use std::sync::OnceLock;

use crate::model::catalogue::METRICS;
use crate::pb::Template;

// ---------------------------------------------------------------------------------------
// Table 三
// ---------------------------------------------------------------------------------------

/// Figures in a row of table 三: six applicant columns and the total.
pub const T3_COLUMNS: usize = 7;

/// The kinds of applicant table 三 counts (its columns before the total).
pub const APPLICANT_KINDS: usize = T3_COLUMNS - 1;

/// The column of table 三 that holds a row's total, after the applicant kinds.
pub const T3_TOTAL_COLUMN: usize = APPLICANT_KINDS;

/// The seven columns of table 三, in printed order (catalogue field names).
pub const APPLICANT_COLUMNS: [&str; T3_COLUMNS] = [
    "natural_person",
    "commercial_enterprise",
    "research_institution",
    "social_welfare_org",
    "legal_service_org",
    "other_org",
    "total",
];

/// The seven columns of table 三 as the form heads them, in [`APPLICANT_COLUMNS`] order.
pub const APPLICANT_LABELS: [&str; T3_COLUMNS] = [
    "自然人",
    "商业企业",
    "科研机构",
    "社会公益组织",
    "法律服务机构",
    "其他组织",
    "总计",
];

/// Table 三's first row: 一、本年新收政府信息公开申请数量.
pub const NEW: &str = "applications.new_received";
/// Table 三's second row: 二、上年结转政府信息公开申请数量.
pub const CARRIED_OVER: &str = "applications.carried_over";
/// Table 三's last row but one: 三、（七）总计, the sum of the outcome rows.
pub const CLOSED: &str = "applications.closed_total";
/// Table 三's last row: 四、结转下年度继续办理.
pub const FORWARD: &str = "applications.carried_forward";
/// （六）其他处理: a printed row in 2019; in 2021 the sum of its three sub-rows, not printed.
pub const OTHER_HANDLING_TOTAL: &str = "applications.other_handling.total";

/// Rows of table 三 before its outcome rows: [`NEW`] and [`CARRIED_OVER`].
const ROWS_BEFORE_OUTCOMES: usize = 2;
/// Rows of table 三 after its outcome rows: [`CLOSED`] and [`FORWARD`].
const ROWS_AFTER_OUTCOMES: usize = 2;

/// Table 三's rows in printed order for a format, derived from the catalogue (proto field
/// order is the printed order): 23 rows in 2019, 25 in 2021, where `other_handling.total` is
/// not printed but derived. Unknown formats read as 2019, the rows both formats share best.
pub fn t3_rows(template: Template) -> &'static [&'static str] {
    static ROWS_2019: OnceLock<Vec<&'static str>> = OnceLock::new();
    static ROWS_2021: OnceLock<Vec<&'static str>> = OnceLock::new();
    let build = |is2021: bool| {
        let mut rows: Vec<&'static str> = Vec::new();
        for m in METRICS
            .iter()
            .filter(|m| m.path.starts_with("applications."))
        {
            let printed = if is2021 {
                m.formats.f2021
            } else {
                m.formats.f2019
            };
            let Some((row, _)) = m.path.rsplit_once('.') else {
                continue;
            };
            if printed && !(is2021 && row == OTHER_HANDLING_TOTAL) && rows.last() != Some(&row) {
                rows.push(row);
            }
        }
        rows
    };
    match template {
        Template::Template2021 => ROWS_2021.get_or_init(|| build(true)),
        _ => ROWS_2019.get_or_init(|| build(false)),
    }
}

/// The outcome rows whose sum is `closed_total`, per format: every row between the two
/// that open table 三 and the two that close it.
pub fn t3_outcome_rows(template: Template) -> &'static [&'static str] {
    let rows = t3_rows(template);
    &rows[ROWS_BEFORE_OUTCOMES..rows.len() - ROWS_AFTER_OUTCOMES]
}

/// How many figures a complete table 三 of a format prints: its rows times seven columns
/// (175 in 2021, 161 in 2019), which tells the format when the labels do not.
pub fn t3_cells(template: Template) -> usize {
    t3_rows(template).len() * T3_COLUMNS
}

// ---------------------------------------------------------------------------------------
// Table 四
// ---------------------------------------------------------------------------------------

/// Table 四's groups in printed order: 行政复议, 行政诉讼 未经复议直接起诉, 复议后起诉.
pub const T4_GROUPS: [&str; 3] = ["review", "litigation_direct", "litigation_after_review"];

/// The results of a table-四 group (维持, 纠正, 其他结果, 尚未审结) before its total.
pub const T4_RESULTS: usize = 4;

/// Cells of one table-四 group: its results and its total.
pub const T4_GROUP_CELLS: usize = T4_RESULTS + 1;

/// Cells of table 四: three groups of five.
pub const T4_CELLS: usize = T4_GROUPS.len() * T4_GROUP_CELLS;

/// The fifteen cells of table 四, in printed order.
pub const T4_PATHS: [&str; T4_CELLS] = [
    "review.upheld",
    "review.corrected",
    "review.other",
    "review.pending",
    "review.total",
    "litigation_direct.upheld",
    "litigation_direct.corrected",
    "litigation_direct.other",
    "litigation_direct.pending",
    "litigation_direct.total",
    "litigation_after_review.upheld",
    "litigation_after_review.corrected",
    "litigation_after_review.other",
    "litigation_after_review.pending",
    "litigation_after_review.total",
];

/// The name a template goes by in the facts JSON and the query API: "2019", "2021", "unknown".
pub fn template_name(template: i32) -> &'static str {
    match Template::try_from(template).unwrap_or(Template::Unknown) {
        Template::Template2019 => "2019",
        Template::Template2021 => "2021",
        Template::Unknown => "unknown",
    }
}

/// The format a template name ("2019", "2021", "unknown") names; `None` for any other text.
pub fn template_by_name(name: &str) -> Option<Template> {
    [
        Template::Template2019,
        Template::Template2021,
        Template::Unknown,
    ]
    .into_iter()
    .find(|t| template_name(*t as i32) == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalogue;

    #[test]
    fn rows_per_format_in_printed_order() {
        let r2019 = t3_rows(Template::Template2019);
        let r2021 = t3_rows(Template::Template2021);
        assert_eq!((r2019.len(), r2021.len()), (23, 25));
        assert_eq!(r2019[0], "applications.new_received");
        assert_eq!(r2019[20], "applications.other_handling.total");
        assert_eq!(
            r2021[20..23],
            [
                "applications.other_handling.overdue_correction",
                "applications.other_handling.unpaid_fee",
                "applications.other_handling.other"
            ]
        );
        assert_eq!(*r2021.last().unwrap(), "applications.carried_forward");
    }

    #[test]
    fn rows_open_and_close_alike_in_every_format() {
        for t in [
            Template::Unknown,
            Template::Template2019,
            Template::Template2021,
        ] {
            let rows = t3_rows(t);
            assert_eq!(rows[..2], [NEW, CARRIED_OVER], "{t:?}");
            assert_eq!(rows[rows.len() - 2..], [CLOSED, FORWARD], "{t:?}");
        }
    }

    #[test]
    fn outcome_rows_per_format() {
        assert_eq!(t3_outcome_rows(Template::Template2019).len(), 19);
        assert_eq!(t3_outcome_rows(Template::Template2021).len(), 21);
        assert_eq!(
            t3_outcome_rows(Template::Template2021)[0],
            "applications.disclosed"
        );
        assert_eq!(
            *t3_outcome_rows(Template::Template2021).last().unwrap(),
            "applications.other_handling.other"
        );
    }

    #[test]
    fn cells_per_format() {
        assert_eq!(t3_cells(Template::Template2019), 161);
        assert_eq!(t3_cells(Template::Template2021), 175);
    }

    #[test]
    fn shapes_match_the_catalogue() {
        for row in t3_rows(Template::Template2021) {
            let columns: Vec<&str> = catalogue::children(row)
                .iter()
                .map(|&i| catalogue::METRICS[i].path.rsplit_once('.').unwrap().1)
                .collect();
            assert_eq!(columns, APPLICANT_COLUMNS, "{row}");
        }
        let t4: Vec<&str> = T4_GROUPS
            .iter()
            .flat_map(|g| catalogue::children(g))
            .map(|&i| catalogue::METRICS[i].path)
            .collect();
        assert_eq!(t4, T4_PATHS);
    }
}
