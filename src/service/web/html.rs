//! The pages as HTML text. PURE: each function takes what a page shows and returns the
//! page; no I/O, no store. Plain server-rendered HTML with a little CSS and no script,
//! readable on a phone (wide tables scroll sideways inside their box).

use std::fmt::Write as _;

use crate::model::catalogue::{self, MetricKind, METRICS};
use crate::model::finding::severity_name;
use crate::model::form::template_name;
use crate::pb::{
    AggregateResponse, Compliance, Finding, Report, ReportSummary, Severity, Template,
};

/// Text escaped for HTML (element content and quoted attributes).
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,'PingFang SC','Noto Sans CJK SC',sans-serif;\
margin:0 auto;max-width:72rem;padding:0.8rem;line-height:1.45;color:#1d1d1f}\
h1{font-size:1.3rem}h2{font-size:1.1rem;margin-top:1.6rem}.scroll{overflow-x:auto}\
table{border-collapse:collapse;font-size:0.9rem}th,td{border:1px solid #ccc;\
padding:0.2rem 0.45rem;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}\
th{background:#f3f3f3;text-align:left;font-weight:600}td.error{background:#fdd;\
outline:2px solid #c00}td.warning{background:#fff1c4}td.info{background:#e6f0ff}\
td.absent{color:#999}.meta{color:#555}.prev{color:#777;font-size:0.78rem;display:block}\
a{color:#0b57d0}li{margin-bottom:0.3rem}.sev-error{color:#b00}.sev-warning{color:#8a5a00}\
form label{margin-right:0.6rem}";

/// A whole page around `body`.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\
         <p class=\"meta\"><a href=\"/\">nianbao</a> · <a href=\"/rankings\">排名</a></p>\
         {body}</body></html>",
        esc(title)
    )
}

/// What a report's page shows.
pub struct Card<'a> {
    pub id: &'a str,
    pub report: &'a Report,
    /// Findings against other reports (a revision's changes).
    pub changes: &'a [Finding],
    pub renditions: &'a [String],
    pub counted: &'a str,
    pub revisions: &'a [String],
    /// The body's report of the year before, when one is stored: its id and reading.
    pub previous: Option<(&'a str, &'a Report)>,
    /// The compliance assessment, when it could be made.
    pub compliance: Option<&'a Compliance>,
}

/// The three tables a report prints, by their catalogue prefixes.
const TABLES: [(&str, &[&str]); 3] = [
    ("二、主动公开政府信息情况", &["proactive."]),
    ("三、收到和处理政府信息公开申请情况", &["applications."]),
    (
        "四、政府信息公开行政复议、行政诉讼情况",
        &["review.", "litigation_direct.", "litigation_after_review."],
    ),
];

/// One table of the form as a grid: its rows (a path prefix and the row's label) and its
/// columns (a last path segment and its label), each in catalogue order.
struct Grid {
    rows: Vec<(&'static str, String)>,
    columns: Vec<(&'static str, &'static str)>,
}

/// The grid of the table under `prefixes` as `template` prints it (both formats' cells
/// when the format is not known).
fn grid(prefixes: &[&str], template: Template) -> Grid {
    let mut rows: Vec<(&'static str, String)> = Vec::new();
    let mut columns: Vec<(&'static str, &'static str)> = Vec::new();
    let printed = |m: &&catalogue::Metric| match template {
        Template::Template2019 => m.formats.f2019,
        Template::Template2021 => m.formats.f2021,
        _ => true,
    };
    for m in METRICS
        .iter()
        .filter(|m| prefixes.iter().any(|p| m.path.starts_with(p)))
        .filter(printed)
    {
        let (row, column) = m.path.rsplit_once('.').unwrap_or((m.path, ""));
        let labels: Vec<&'static str> = m.label.split(" / ").collect();
        let column_label = labels.last().copied().unwrap_or(column);
        // The row's label: the labels between the table's heading and the column's.
        let row_label = match labels.len() {
            0..=2 => labels.first().copied().unwrap_or(row).to_owned(),
            n => labels[1..n - 1].join(" / "),
        };
        if !rows.iter().any(|(r, _)| *r == row) {
            rows.push((row, row_label));
        }
        if !columns.iter().any(|(c, _)| *c == column) {
            columns.push((column, column_label));
        }
    }
    Grid { rows, columns }
}

/// The findings on the cell `path` (on it, or on the row it is in), worst first.
fn findings_on<'a>(findings: &[&'a Finding], path: &str) -> Vec<&'a Finding> {
    let (row, _) = path.rsplit_once('.').unwrap_or((path, ""));
    let mut on: Vec<&Finding> = findings
        .iter()
        .copied()
        .filter(|f| f.path == path || f.path == row)
        .collect();
    on.sort_by_key(|f| rank(f.severity));
    on
}

fn rank(severity: i32) -> u8 {
    match Severity::try_from(severity) {
        Ok(Severity::Error) => 0,
        Ok(Severity::Warning) => 1,
        _ => 2,
    }
}

fn number(kind: MetricKind, v: f64) -> String {
    match kind {
        MetricKind::Amount if v.fract() != 0.0 => format!("{v}"),
        _ => format!("{v:.0}"),
    }
}

/// Columns above which a table is shown one cell a line (table 二, whose rows each have
/// their own columns) rather than as a grid.
const GRID_COLUMNS: usize = 8;

/// A table of the form with the report's figures, the year before's under each, and the
/// cells behind a finding marked by its severity (the messages on hover and in the list).
fn table(out: &mut String, heading: &str, grid: &Grid, card: &Card, findings: &[&Finding]) {
    let _ = write!(
        out,
        "<h2>{}</h2><div class=\"scroll\"><table>",
        esc(heading)
    );
    if grid.columns.len() > GRID_COLUMNS {
        out.push_str("<tr><th>项目</th><th>指标</th><th>数值</th></tr>");
        for (row, label) in &grid.rows {
            for (column, column_label) in &grid.columns {
                let path = format!("{row}.{column}");
                if catalogue::index_of(&path).is_some() {
                    let _ = write!(
                        out,
                        "<tr><th>{}</th><th>{}</th>",
                        esc(label),
                        esc(column_label)
                    );
                    cell(out, &path, card, findings);
                    out.push_str("</tr>");
                }
            }
        }
    } else {
        out.push_str("<tr><th></th>");
        for (_, label) in &grid.columns {
            let _ = write!(out, "<th>{}</th>", esc(label));
        }
        out.push_str("</tr>");
        for (row, label) in &grid.rows {
            let _ = write!(out, "<tr><th>{}</th>", esc(label));
            for (column, _) in &grid.columns {
                cell(out, &format!("{row}.{column}"), card, findings);
            }
            out.push_str("</tr>");
        }
    }
    out.push_str("</table></div>");
}

/// One cell: the report's figure (`·` where it prints none), the year before's under it,
/// marked by the worst finding on it.
fn cell(out: &mut String, path: &str, card: &Card, findings: &[&Finding]) {
    let Some(m) = catalogue::index_of(path) else {
        out.push_str("<td class=\"absent\"></td>");
        return;
    };
    let kind = METRICS[m].kind;
    let value = catalogue::get(card.report, m);
    let on = findings_on(findings, path);
    let class = match (on.first(), value) {
        (Some(f), _) => severity_name(f.severity),
        (None, None) => "absent",
        (None, Some(_)) => "",
    };
    let title: Vec<String> = on.iter().map(|f| f.message.clone()).collect();
    let _ = write!(
        out,
        "<td class=\"n {class}\" data-path=\"{}\" title=\"{}\">{}",
        esc(path),
        esc(&title.join("\n")),
        value.map_or("·".to_owned(), |v| number(kind, v))
    );
    if let Some(before) = card.previous.and_then(|(_, p)| catalogue::get(p, m)) {
        let _ = write!(
            out,
            "<span class=\"prev\">上年 {}</span>",
            number(kind, before)
        );
    }
    out.push_str("</td>");
}

fn finding_item(out: &mut String, f: &Finding) {
    let value = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v}"));
    let _ = write!(
        out,
        "<li><span class=\"sev-{sev}\">{sev}</span> <code>{}</code> {} {}{}</li>",
        esc(&f.code),
        if f.path.is_empty() {
            String::new()
        } else {
            format!("<code>{}</code>", esc(&f.path))
        },
        esc(&f.message),
        if f.expected.is_some() || f.actual.is_some() {
            format!("（应为 {}，表中为 {}）", value(f.expected), value(f.actual))
        } else {
            String::new()
        },
        sev = severity_name(f.severity),
    );
}

fn report_link(out: &mut String, id: &str, note: &str) {
    let _ = write!(
        out,
        "<li><a href=\"/reports/{id}\"><code>{}</code></a>{}</li>",
        esc(&id[..id.len().min(16)]),
        esc(note)
    );
}

/// A report's page: who and when, its three tables as printed with the cells behind each
/// finding marked, every finding, the year before beside each figure, and its renditions
/// and revisions.
pub fn card(card: &Card) -> String {
    let r = card.report;
    let region = r.region.clone().unwrap_or_default();
    let place: Vec<&str> = [
        region.province.as_str(),
        region.city.as_str(),
        region.county.as_str(),
        region.township.as_str(),
    ]
    .into_iter()
    .filter(|p| !p.is_empty())
    .collect();
    let year = r.year.map_or("?".to_owned(), |y| y.to_string());
    let agency = if r.agency.is_empty() {
        "（机关未定）"
    } else {
        r.agency.as_str()
    };
    let title = format!("{agency} {year} 年政府信息公开工作年度报告");
    let published = r
        .publication
        .as_ref()
        .map(|p| p.date.as_str())
        .filter(|d| !d.is_empty())
        .unwrap_or("未知");
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{}</h1><p class=\"meta\">地区 {} · 格式 {} · 发布日期 {} · 来源 {} · id <code>{}</code></p>",
        esc(&title),
        esc(&if place.is_empty() { "未定".to_owned() } else { place.join(" ") }),
        esc(template_name(r.template)),
        esc(published),
        esc(&r.source),
        esc(card.id)
    );
    let findings: Vec<&Finding> = r.findings.iter().chain(card.changes).collect();
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s as i32).count();
    let _ = write!(
        body,
        "<p>{} 个错误 · {} 个警告 · {} 个提示</p>",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    );
    if let Some((id, p)) = card.previous {
        let _ = write!(
            body,
            "<p class=\"meta\">每格下方的“上年”来自同一机关 {} 年度的报告 <a href=\"/reports/{id}\"><code>{}</code></a>。</p>",
            p.year.map_or("?".to_owned(), |y| y.to_string()),
            esc(&id[..id.len().min(16)])
        );
    }
    if let Some(c) = card.compliance {
        compliance(&mut body, c);
    }
    for (heading, prefixes) in TABLES {
        let template = Template::try_from(r.template).unwrap_or(Template::Unknown);
        table(
            &mut body,
            heading,
            &grid(prefixes, template),
            card,
            &findings,
        );
    }
    body.push_str("<h2>发现的问题</h2>");
    if findings.is_empty() {
        body.push_str("<p>无。</p>");
    } else {
        let mut sorted = findings.clone();
        sorted.sort_by_key(|f| rank(f.severity));
        body.push_str("<ul>");
        for f in sorted {
            finding_item(&mut body, f);
        }
        body.push_str("</ul>");
    }
    body.push_str("<h2>版本</h2><ul>");
    for id in card.renditions {
        let note = if id == card.counted {
            "（计入统计的版本）"
        } else {
            ""
        };
        report_link(&mut body, id, note);
    }
    body.push_str("</ul>");
    if card.revisions.len() > 1 {
        body.push_str("<h2>修订</h2><ul>");
        for id in card.revisions {
            report_link(&mut body, id, if id == card.id { "（本页）" } else { "" });
        }
        body.push_str("</ul>");
    }
    page(&title, &body)
}

/// The score, each deduction, and every indicator with its verdict, whose fault a failure
/// is, why, and its evidence.
fn compliance(out: &mut String, c: &Compliance) {
    let round = |v: f64| format!("{}", (v * 10.0).round() / 10.0);
    let _ = write!(
        out,
        "<h2>合规评分</h2><p class=\"score\"><strong>{}</strong> / {} · 方案 {} · 机关类别 {} · <span class=\"coverage\">已评估方案权重的 {:.0}%</span></p>",
        c.score.map_or("—".to_owned(), round),
        round(c.max),
        esc(&c.profile),
        esc(&c.body),
        c.coverage * 100.0
    );
    if !c.other.is_empty() {
        let _ = write!(
            out,
            "<p>库中文字部分与本报告相近的同年度其他单位报告：<a href=\"/reports/{0}\">{0}</a></p>",
            esc(&c.other)
        );
    }
    if !c.deductions.is_empty() {
        out.push_str("<ul class=\"deductions\">");
        for d in &c.deductions {
            let _ = write!(
                out,
                "<li>−{} {}（{}）</li>",
                round(d.points),
                esc(&d.item),
                esc(&d.indicators.join(", "))
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("<div class=\"scroll\"><table><tr><th>指标</th><th>结论</th><th>原因</th><th>依据</th></tr>");
    for i in &c.indicators {
        let verdict = match (i.status.as_str(), i.fault.as_str()) {
            ("PASS", _) => "通过".to_owned(),
            ("FAIL", "reader") => "未通过（读取所致，不扣分）".to_owned(),
            ("FAIL", _) => "未通过".to_owned(),
            _ => "无法评估".to_owned(),
        };
        let class = match (i.status.as_str(), i.fault.as_str()) {
            ("FAIL", "publisher") => "error",
            ("FAIL", _) => "warning",
            _ => "",
        };
        let _ = write!(
            out,
            "<tr data-indicator=\"{}\"><th>{}</th><td class=\"{class}\">{}</td><td>{}</td><td><small>{}</small></td></tr>",
            esc(&i.id),
            esc(&i.title),
            esc(&verdict),
            esc(&i.reason),
            i.evidence.iter().map(|e| esc(e)).collect::<Vec<_>>().join("<br>")
        );
    }
    out.push_str("</table></div>");
}

/// What the ranking page was asked.
pub struct RankingQuery<'a> {
    pub order: &'a str,
    pub by: &'a str,
    pub year: Option<i32>,
    pub province: &'a str,
}

/// A group's mean compliance score, with how many reports it is the mean of, how much of
/// the profile they assessed, and how many were left out for assessing too little.
fn score_cell(c: &crate::pb::GroupCompliance) -> String {
    let mean = c.mean.map_or("—".to_owned(), |m| format!("{m:.1}"));
    let mut out = format!(
        "{mean}（{} 份，平均评估权重 {:.0}%",
        c.scored,
        c.coverage.unwrap_or(0.0) * 100.0
    );
    if c.below_coverage > 0 {
        let _ = write!(
            out,
            "；另 {} 份评估不足 {:.0}% 未计",
            c.below_coverage,
            c.min_coverage * 100.0
        );
    }
    out.push('）');
    out
}

/// The ranking page: a form, then the groups as a table.
pub fn ranking(query: &RankingQuery, answer: Result<&AggregateResponse, &str>) -> String {
    let mut body = String::from("<h1>排名</h1>");
    let _ = write!(
        body,
        "<form method=\"get\" action=\"/rankings\"><label>按 <input name=\"order\" value=\"{}\" size=\"34\"></label>\
         <label>分组 <select name=\"by\">{}</select></label>\
         <label>年度 <input name=\"year\" value=\"{}\" size=\"5\"></label>\
         <label>省份 <input name=\"province\" value=\"{}\" size=\"8\"></label>\
         <button>查询</button></form>",
        esc(query.order),
        ["province", "city", "county", "agency", "year"]
            .iter()
            .map(|d| format!(
                "<option{}>{d}</option>",
                if *d == query.by { " selected" } else { "" }
            ))
            .collect::<String>(),
        query.year.map_or(String::new(), |y| y.to_string()),
        esc(query.province)
    );
    match answer {
        Err(why) => {
            let _ = write!(body, "<p class=\"sev-error\">{}</p>", esc(why));
        }
        Ok(answer) => {
            let _ = write!(
                body,
                "<p class=\"meta\">{} 组，{} 份报告</p><div class=\"scroll\"><table><tr><th>#</th>",
                answer.total_groups, answer.reports
            );
            for dim in &answer.group_by {
                let _ = write!(body, "<th>{}</th>", esc(dim));
            }
            let _ = write!(body, "<th>报告</th><th>{}</th></tr>", esc(query.order));
            for (i, g) in answer.groups.iter().enumerate() {
                let _ = write!(body, "<tr><td class=\"n\">{}</td>", i + 1);
                for key in &g.key {
                    let _ = write!(body, "<td>{}</td>", esc(key));
                }
                let value = g
                    .sums
                    .iter()
                    .find(|s| s.metric == query.order)
                    .map(|s| (s.reports > 0).then(|| format!("{}", s.sum)))
                    .or_else(|| {
                        g.rates.iter().find(|r| r.name == query.order).map(|r| {
                            r.value.map(|v| {
                                format!("{:.1}%（{}/{}）", v * 100.0, r.numerator, r.denominator)
                            })
                        })
                    })
                    .flatten()
                    .or_else(|| g.compliance.as_ref().map(score_cell))
                    .unwrap_or_else(|| "—".to_owned());
                let _ = write!(
                    body,
                    "<td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    g.reports,
                    esc(&value)
                );
            }
            body.push_str("</table></div>");
        }
    }
    page("排名", &body)
}

/// The home page: the reports stored last, newest first.
pub fn home(reports: &[ReportSummary], total: u64) -> String {
    let mut body = format!("<h1>年度报告</h1><p class=\"meta\">共 {total} 份（每个机关每年计一份）</p><div class=\"scroll\"><table><tr><th>机关</th><th>年度</th><th>地区</th><th>错误</th><th>警告</th></tr>");
    for r in reports {
        let region = r.region.clone().unwrap_or_default();
        let place = [region.province, region.city, region.county]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let _ = write!(
            body,
            "<tr><td><a href=\"/reports/{}\">{}</a></td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&r.id),
            esc(if r.agency.is_empty() { "（机关未定）" } else { &r.agency }),
            r.year.map_or(String::new(), |y| y.to_string()),
            esc(&place),
            r.errors,
            r.warnings
        );
    }
    body.push_str("</table></div>");
    page("年度报告", &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::finding::{finding, Code};

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn table_three_is_a_grid_of_its_rows_and_seven_columns() {
        let g = grid(&["applications."], Template::Template2021);
        assert_eq!(g.columns.len(), 7, "{:?}", g.columns);
        assert_eq!(g.columns[0], ("natural_person", "自然人"));
        assert_eq!(g.rows[0].0, "applications.new_received");
        assert!(g.rows[0].1.contains("本年新收"), "{}", g.rows[0].1);
    }

    #[test]
    fn a_cell_behind_a_finding_is_marked_with_its_severity_and_message() {
        let mut report = Report {
            agency: "淮安市人民政府".into(),
            year: Some(2024),
            ..Default::default()
        };
        let m = catalogue::index_of("applications.new_received.total").unwrap();
        catalogue::set(&mut report, m, Some(12.0));
        report.findings.push(finding(
            Code::RowTotal,
            "applications.new_received",
            Some(11.0),
            Some(12.0),
            "分项之和为 11，表中为 12",
        ));
        let html = card(&Card {
            id: "ab",
            report: &report,
            changes: &[],
            renditions: &[],
            counted: "",
            revisions: &[],
            previous: None,
            compliance: None,
        });
        let cell = html
            .split("data-path=\"applications.new_received.total\"")
            .next()
            .unwrap();
        assert!(
            cell.ends_with("<td class=\"n error\" "),
            "{}",
            &cell[cell.len() - 40..]
        );
        assert!(html.contains("分项之和为 11，表中为 12"));
        assert!(html.contains("淮安市人民政府 2024 年"));
    }
}
