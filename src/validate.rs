//! The rules of domain.md over a Report. PURE.
//!
//! [`validate`] appends the findings of rules 1-9 (and the blank cells of rule 5) to a
//! report; rule 11's missing pieces are found while parsing. [`cross_year`] is rule 10, over
//! two reports of one body; the store calls it with a report and the neighbouring years it
//! holds. A finding never rejects a report. A sum with an absent addend is unverifiable,
//! never failed. The tables' shape (rows, columns, cells) is the form's
//! ([`crate::model::form`]) and its sums and tolerance are [`crate::model::rules`]: here is
//! only how a broken sum is reported. Nothing here knows how a table is read.

use crate::model::catalogue::{self, label_of, MetricKind, METRICS};
use crate::model::finding::{finding, Code};
use crate::model::form::{
    t3_rows, APPLICANT_COLUMNS, APPLICANT_LABELS, CARRIED_OVER, FORWARD, NEW, T3_COLUMNS,
    T3_TOTAL_COLUMN, T4_GROUPS, T4_GROUP_CELLS, T4_PATHS,
};
use crate::model::rules::{self, column_sums, Rule, GROUP_TOTAL, ROW_TOTAL};
use crate::pb::{Finding, Report, Template};

/// The most addends of a column sum in any format (rule 2: 21 outcome rows in 2021, 19 in
/// 2019).
const MAX_ADDENDS: usize = 21;

/// Below this magnitude a whole figure prints without a decimal point (it is exact in f64
/// and fits an i64).
const WHOLE_PRINT_LIMIT: f64 = 1e15;

/// The first report year due in the 2021 format (国办公开办函〔2021〕30号).
const FORMAT_2021_FROM: i32 = 2021;
/// The formats as a FORMAT_YEAR finding's expected and actual values.
const FORMAT_2019: f64 = 2019.0;
const FORMAT_2021: f64 = 2021.0;

/// The fewest non-zero cells identical tables must share to be called a copy.
const MIN_COPIED_CELLS: usize = 3;

fn value(report: &Report, path: &str) -> Option<f64> {
    catalogue::index_of(path).and_then(|i| catalogue::get(report, i))
}

/// Column `c` (0..7, [`APPLICANT_COLUMNS`] order) of table 三's row `row` (a full path).
fn app(report: &Report, row: &str, c: usize) -> Option<f64> {
    catalogue::children(row)
        .get(c)
        .and_then(|&i| catalogue::get(report, i))
}

fn template_of(report: &Report) -> Template {
    Template::try_from(report.template).unwrap_or(Template::Unknown)
}

fn has_prefix(report: &Report, prefix: &str) -> bool {
    (0..METRICS.len())
        .any(|i| METRICS[i].path.starts_with(prefix) && catalogue::get(report, i).is_some())
}

/// Appends the findings of the single-report rules to `report.findings`.
pub fn validate(report: &mut Report) {
    let mut out = Vec::new();
    let template = template_of(report);
    let t3_present = has_prefix(report, "applications.");
    let t4_present = T4_PATHS.iter().any(|p| value(report, p).is_some());
    if t3_present {
        arithmetic_t3(report, template, &mut out);
        blanks(report, template, &mut out);
    }
    if t4_present {
        arithmetic_t4(report, &mut out);
    }
    signs(report, &mut out);
    narrative(report, &mut out);
    format_year(report, template, &mut out);
    regulations(report, &mut out);
    report.findings.extend(out);
}

/// Compares a sum of addends with a printed total: a finding when they differ, an
/// unverifiable note when an addend or the total is absent but something was printed.
/// `describe` gives the finding's path and what the sum is; it runs only when a finding is
/// made, so a report whose sums hold costs no formatting.
fn check_sum(
    out: &mut Vec<Finding>,
    code: Code,
    addends: &[Option<f64>],
    total: Option<f64>,
    describe: impl FnOnce() -> (String, String),
) {
    let sum: Option<f64> = addends.iter().copied().sum();
    match (sum, total) {
        (Some(s), Some(t)) if !rules::same(s, t) => {
            let (path, what) = describe();
            out.push(finding(
                code,
                path,
                Some(s),
                Some(t),
                format!("{what}：分项之和为 {}，表中为 {}", fmt(s), fmt(t)),
            ))
        }
        (Some(_), Some(_)) => {}
        _ => {
            let printed = addends.iter().flatten().count() + usize::from(total.is_some());
            if printed > 0 {
                let (path, what) = describe();
                out.push(finding(
                    Code::Unverifiable,
                    path,
                    None,
                    total,
                    format!("{what}：有空缺单元格，无法核对"),
                ));
            }
        }
    }
}

/// The Chinese head of table 三's column `c`, for a finding's message.
fn col_label(c: usize) -> &'static str {
    APPLICANT_LABELS[c]
}

/// The Chinese name of a table 四 group, for a finding's message.
fn group_label(group: &str) -> &'static str {
    match group {
        "review" => "行政复议",
        "litigation_direct" => "行政诉讼（未经复议直接起诉）",
        _ => "行政诉讼（复议后起诉）",
    }
}

/// A figure as a finding's message prints it: whole figures without a decimal point.
fn fmt(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < WHOLE_PRINT_LIMIT {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Rules 1-3 on table 三.
fn arithmetic_t3(report: &Report, template: Template, out: &mut Vec<Finding>) {
    let rows = t3_rows(template);
    let sums = column_sums(template);
    for (c, column) in APPLICANT_COLUMNS.iter().enumerate() {
        // Rule 1, the balance, then rule 2, the outcome rows.
        for sum in &sums {
            let mut addends = [None; MAX_ADDENDS];
            for (slot, r) in addends.iter_mut().zip(sum.parts) {
                *slot = app(report, r, c);
            }
            let (_, whole) = sum.sides(c, |r, c| app(report, r, c));
            let code = match sum.rule {
                Rule::Balance => Code::Balance,
                _ => Code::OutcomesSum,
            };
            check_sum(out, code, &addends[..sum.parts.len()], whole, || {
                let what = match sum.rule {
                    Rule::Balance => format!(
                        "勾稽关系（{}）：本年新收+上年结转 应等于 办理结果总计+结转下年度",
                        col_label(c)
                    ),
                    _ => format!(
                        "办理结果（{}）：（一）至（六）之和应等于（七）总计",
                        col_label(c)
                    ),
                };
                (format!("{}.{column}", sum.at()), what)
            });
        }
    }
    // Rule 3: each row's total = its six applicant columns.
    for row in rows {
        let cells = catalogue::children(row);
        let mut values = [None; T3_COLUMNS];
        for (v, &i) in values.iter_mut().zip(cells) {
            *v = catalogue::get(report, i);
        }
        let (addends, total) = (&values[..ROW_TOTAL.parts], values[ROW_TOTAL.total()]);
        if addends.iter().all(Option::is_none) && total.is_none() {
            continue;
        }
        check_sum(out, Code::RowTotal, addends, total, || {
            (
                format!("{row}.total"),
                format!("「{}」行：六类申请人之和应等于总计", label_of(row)),
            )
        });
    }
}

/// Rule 4 on table 四.
fn arithmetic_t4(report: &Report, out: &mut Vec<Finding>) {
    for group in T4_GROUPS {
        let mut cells = [None; T4_GROUP_CELLS];
        for (v, &i) in cells.iter_mut().zip(catalogue::children(group)) {
            *v = catalogue::get(report, i);
        }
        let (addends, total) = (&cells[..GROUP_TOTAL.parts], cells[GROUP_TOTAL.total()]);
        if addends.iter().all(Option::is_none) && total.is_none() {
            continue;
        }
        check_sum(out, Code::GroupTotal, addends, total, || {
            (
                format!("{group}.total"),
                format!(
                    "{}：结果维持+结果纠正+其他结果+尚未审结 应等于总计",
                    group_label(group)
                ),
            )
        });
    }
}

/// Rule 5: every cell of a present table that is absent, unless reading already said why.
fn blanks(report: &Report, template: Template, out: &mut Vec<Finding>) {
    let explained: std::collections::HashSet<&str> = report
        .findings
        .iter()
        .filter(|f| {
            matches!(
                Code::parse(&f.code),
                Some(Code::CellBlank | Code::RowUnreadable | Code::NotInteger | Code::TableMissing)
            )
        })
        .map(|f| f.path.as_str())
        .collect();
    // A path is explained when it or one of its ancestors was reported.
    let is_explained = |path: &str| {
        let mut p = path;
        loop {
            if explained.contains(p) {
                return true;
            }
            match p.rsplit_once('.') {
                Some((parent, _)) => p = parent,
                None => return false,
            }
        }
    };
    for &row in t3_rows(template) {
        if template == Template::Unknown && row.starts_with("applications.other_handling") {
            continue;
        }
        let cells = catalogue::children(row);
        let missing: Vec<usize> = cells
            .iter()
            .copied()
            .filter(|&i| catalogue::get(report, i).is_none())
            .collect();
        if missing.is_empty() || is_explained(row) {
            continue;
        }
        if missing.len() == cells.len() {
            out.push(finding(
                Code::CellBlank,
                row,
                None,
                None,
                format!("表三「{}」整行未印出或无法读取", label_of(row)),
            ));
            continue;
        }
        for i in missing {
            let path = METRICS[i].path;
            if !is_explained(path) {
                out.push(finding(
                    Code::CellBlank,
                    path,
                    None,
                    None,
                    "表三该单元格为空",
                ));
            }
        }
    }
    if T4_PATHS.iter().any(|p| value(report, p).is_some()) {
        for path in T4_PATHS {
            if value(report, path).is_none() && !is_explained(path) {
                out.push(finding(
                    Code::CellBlank,
                    path,
                    None,
                    None,
                    "表四该单元格为空",
                ));
            }
        }
    }
}

/// Rule 6: counts are non-negative; only the 2019 本年增/减 columns are signed.
fn signs(report: &Report, out: &mut Vec<Finding>) {
    for (i, m) in METRICS.iter().enumerate() {
        if m.kind != MetricKind::Count {
            continue;
        }
        if let Some(v) = catalogue::get(report, i) {
            if v < 0.0 {
                out.push(finding(
                    Code::NegativeCount,
                    m.path,
                    None,
                    Some(v),
                    format!("「{}」为负数 {}", m.label, fmt(v)),
                ));
            }
        }
    }
}

/// Rule 7: section 一's stated total of received applications against table 三.
fn narrative(report: &Report, out: &mut Vec<Finding>) {
    let Some(stated) = value(report, "overview.applications_received") else {
        return;
    };
    let Some(new) = app(report, NEW, T3_TOTAL_COLUMN) else {
        return;
    };
    let with_carried = app(report, CARRIED_OVER, T3_TOTAL_COLUMN).map(|c| c + new);
    if !rules::same(stated, new) && with_carried.is_none_or(|w| !rules::same(stated, w)) {
        out.push(finding(
            Code::NarrativeMismatch,
            "overview.applications_received",
            Some(new),
            Some(stated),
            format!(
                "总体情况称收到申请 {} 件，表三本年新收为 {} 件",
                fmt(stated),
                fmt(new)
            ),
        ));
    }
}

/// Rule 8: the 2021 format from the 2021 reports on; the 2019 format before.
fn format_year(report: &Report, template: Template, out: &mut Vec<Finding>) {
    let Some(year) = report.year else { return };
    match template {
        Template::Template2019 if year >= FORMAT_2021_FROM => out.push(finding(
            Code::FormatYear,
            "template",
            Some(FORMAT_2021),
            Some(FORMAT_2019),
            format!("{year} 年度报告仍使用 2019 年版表格（应使用国办公开办函〔2021〕30号格式）"),
        )),
        Template::Template2021 if year < FORMAT_2021_FROM => out.push(finding(
            Code::FormatYear,
            "template",
            Some(FORMAT_2019),
            Some(FORMAT_2021),
            format!("{year} 年度报告使用了 2021 年版表格"),
        )),
        _ => {}
    }
}

/// Rule 9: only governments of cities with districts and above make 规章.
fn regulations(report: &Report, out: &mut Vec<Finding>) {
    let Some(region) = report.region.as_ref() else {
        return;
    };
    let level = if !region.township.is_empty() {
        "乡镇、街道"
    } else if !region.county.is_empty() {
        "县级"
    } else {
        return;
    };
    for column in [
        "new_made",
        "new_published",
        "total_published",
        "issued",
        "in_force",
    ] {
        let path = format!("proactive.regulations.{column}");
        if let Some(v) = value(report, &path) {
            if v > 0.0 {
                out.push(finding(
                    Code::RegulationsImplausible,
                    path,
                    Some(0.0),
                    Some(v),
                    format!(
                        "{level}机关「{}」报告了规章 {} 件，规章只能由设区的市级以上政府制定",
                        report.agency,
                        fmt(v)
                    ),
                ));
            }
        }
    }
}

/// Rule 10, over two reports of one body: `previous` for year N-1, `current` for year N.
pub fn cross_year(previous: &Report, current: &Report) -> Vec<Finding> {
    let mut out = Vec::new();
    if let (Some(p), Some(c)) = (previous.year, current.year) {
        if c != p + 1 {
            return out;
        }
    }
    for (c, column) in APPLICANT_COLUMNS.iter().enumerate() {
        let forward = app(previous, FORWARD, c);
        let over = app(current, CARRIED_OVER, c);
        if let (Some(f), Some(o)) = (forward, over) {
            if !rules::same(f, o) {
                out.push(finding(
                    Code::CarryOverMismatch,
                    format!("{CARRIED_OVER}.{column}"),
                    Some(f),
                    Some(o),
                    format!(
                        "上年结转（{}）为 {}，而上一年度报告的结转下年度为 {}",
                        col_label(c),
                        fmt(o),
                        fmt(f)
                    ),
                ));
            }
        }
    }
    let tables = |r: &Report| -> Vec<(&'static str, f64)> {
        catalogue::facts(r)
            .into_iter()
            .filter(|(p, _)| !p.starts_with("overview.") && !p.starts_with("fee_collection."))
            .collect()
    };
    let (a, b) = (tables(previous), tables(current));
    // All-zero tables repeat honestly; a copy needs figures worth copying.
    let nonzero = b.iter().filter(|(_, v)| *v != 0.0).count();
    if !b.is_empty() && a == b && nonzero >= MIN_COPIED_CELLS {
        out.push(finding(
            Code::CopiedReport,
            "applications",
            None,
            None,
            format!(
                "{} 年度报告的表格与上一年度完全相同（{} 个非零单元格），疑为照抄",
                current.year.unwrap_or_default(),
                nonzero
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::form::{t3_outcome_rows, CLOSED};
    use crate::pb::Region;

    fn set(r: &mut Report, path: &str, v: f64) {
        catalogue::set(r, catalogue::index_of(path).expect(path), Some(v));
    }

    fn clear(r: &mut Report, path: &str) {
        catalogue::set(r, catalogue::index_of(path).expect(path), None);
    }

    /// A report whose every sum holds: one natural-person application per outcome row.
    fn consistent(template: Template) -> Report {
        let year = if template == Template::Template2021 {
            2022
        } else {
            2020
        };
        let mut r = Report {
            template: template as i32,
            year: Some(year),
            agency: "某市人民政府".into(),
            ..Default::default()
        };
        for row in t3_rows(template) {
            for c in APPLICANT_COLUMNS {
                set(&mut r, &format!("{row}.{c}"), 0.0);
            }
        }
        let outcomes = t3_outcome_rows(template);
        for row in outcomes {
            set(&mut r, &format!("{row}.natural_person"), 1.0);
            set(&mut r, &format!("{row}.total"), 1.0);
        }
        let n = outcomes.len() as f64;
        for row in [NEW, CLOSED] {
            set(&mut r, &format!("{row}.natural_person"), n);
            set(&mut r, &format!("{row}.total"), n);
        }
        for (i, p) in T4_PATHS.iter().enumerate() {
            set(&mut r, p, if i % 5 == 0 || i % 5 == 4 { 2.0 } else { 0.0 });
        }
        r
    }

    fn codes(mut r: Report) -> Vec<(String, String)> {
        validate(&mut r);
        r.findings.into_iter().map(|f| (f.code, f.path)).collect()
    }

    fn has(found: &[(String, String)], code: Code, path: &str) -> bool {
        found.iter().any(|(c, p)| c == code.as_str() && p == path)
    }

    #[test]
    fn column_sums_fit_the_addends() {
        for t in [Template::Template2019, Template::Template2021] {
            assert!(t3_outcome_rows(t).len() <= MAX_ADDENDS, "{t:?}");
            for sum in column_sums(t) {
                assert!(sum.parts.len() <= MAX_ADDENDS, "{t:?} {:?}", sum.rule);
            }
        }
    }

    #[test]
    fn a_consistent_report_has_no_findings() {
        for t in [Template::Template2019, Template::Template2021] {
            assert_eq!(codes(consistent(t)), vec![], "{t:?}");
        }
    }

    #[test]
    fn each_rule_reports_at_its_path() {
        type Break = fn(&mut Report);
        let cases: &[(&str, Break, Code, &str)] = &[
            (
                "balance",
                |r| {
                    set(r, "applications.carried_over.legal_service_org", 1.0);
                    set(r, "applications.carried_over.total", 1.0);
                },
                Code::Balance,
                "applications.carried_forward.legal_service_org",
            ),
            (
                "outcomes",
                |r| set(r, "applications.closed_total.natural_person", 7.0),
                Code::OutcomesSum,
                "applications.closed_total.natural_person",
            ),
            (
                "row total",
                |r| set(r, "applications.disclosed.total", 5.0),
                Code::RowTotal,
                "applications.disclosed.total",
            ),
            (
                "group total",
                |r| set(r, "litigation_direct.total", 9.0),
                Code::GroupTotal,
                "litigation_direct.total",
            ),
            (
                "blank t3",
                |r| clear(r, "applications.withheld.state_secret.other_org"),
                Code::CellBlank,
                "applications.withheld.state_secret.other_org",
            ),
            (
                "unverifiable",
                |r| clear(r, "applications.withheld.state_secret.other_org"),
                Code::Unverifiable,
                "applications.withheld.state_secret.total",
            ),
            (
                "blank row",
                |r| {
                    for c in APPLICANT_COLUMNS {
                        clear(r, &format!("applications.disclosed.{c}"));
                    }
                },
                Code::CellBlank,
                "applications.disclosed",
            ),
            (
                "blank t4",
                |r| clear(r, "review.pending"),
                Code::CellBlank,
                "review.pending",
            ),
            (
                "negative",
                |r| set(r, "proactive.penalty.decisions", -3.0),
                Code::NegativeCount,
                "proactive.penalty.decisions",
            ),
            (
                "narrative",
                |r| set(r, "overview.applications_received", 5.0),
                Code::NarrativeMismatch,
                "overview.applications_received",
            ),
            (
                "format year",
                |r| r.year = Some(2022),
                Code::FormatYear,
                "template",
            ),
            (
                "regulations",
                |r| {
                    r.region = Some(Region {
                        township: "黑庄户乡".into(),
                        ..Default::default()
                    });
                    set(r, "proactive.regulations.new_made", 2.0);
                },
                Code::RegulationsImplausible,
                "proactive.regulations.new_made",
            ),
        ];
        for (name, break_it, code, path) in cases {
            let mut r = consistent(Template::Template2019);
            break_it(&mut r);
            let found = codes(r);
            assert!(has(&found, *code, path), "{name}: {found:?}");
        }
    }

    #[test]
    fn signed_change_and_matching_narrative_are_fine() {
        let mut r = consistent(Template::Template2019);
        set(&mut r, "proactive.penalty.change", -105.0);
        set(&mut r, "overview.applications_received", 19.0);
        set(&mut r, "proactive.regulations.new_made", 2.0);
        assert_eq!(codes(r), vec![]);
    }

    #[test]
    fn cross_year_carry_over_and_copies() {
        let prev = consistent(Template::Template2019);
        let mut cur = consistent(Template::Template2019);
        cur.year = Some(2021);
        // Identical tables with figures: a copy.
        let found: Vec<String> = cross_year(&prev, &cur)
            .into_iter()
            .map(|f| f.code)
            .collect();
        assert!(found.contains(&"COPIED_REPORT".to_owned()), "{found:?}");
        // A carry-over that does not match the previous carry-forward.
        set(&mut cur, "applications.carried_over.natural_person", 4.0);
        let found = cross_year(&prev, &cur);
        let f = found
            .iter()
            .find(|f| f.code == "CARRY_OVER_MISMATCH")
            .expect("carry-over finding");
        assert_eq!(f.path, "applications.carried_over.natural_person");
        assert_eq!((f.expected, f.actual), (Some(0.0), Some(4.0)));
        assert!(!found.iter().any(|f| f.code == "COPIED_REPORT"));
        // Years that are not consecutive are not compared.
        cur.year = Some(2023);
        assert!(cross_year(&prev, &cur).is_empty());
    }
}
