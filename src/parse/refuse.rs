//! What kind of document a text is, when it is plainly not one yearly disclosure report:
//! the rules [`super::not_a_report`] applies before it looks for a report's title, sections
//! and tables. PURE: no I/O.
//!
//! Each rule decides by the document's lead (its first short lines: the title block) and its
//! shape (section headings found, figures read, table labels printed), never by the
//! separators of one file. A rule refuses only what no report can be: a comparison of two
//! years, a stub or fragment with no body, the blank format or a notice that prints it, a
//! compilation of sample reports, another kind of yearly report. A document the rules cannot
//! tell from a report is left to the report-shaped checks, which keep it.

use super::Sections;

/// The short lines read as a document's lead (its title block, breadcrumbs and dates).
const LEAD_LINES: usize = 6;
/// The longest line (in characters) that may be part of a lead.
const LEAD_LINE_CHARS: usize = 60;
/// A document with fewer non-blank characters than this, or with at most
/// [`FRAGMENT_LINES`] lines, and without a report's sections or a table's worth of figures,
/// is a stub or a fragment: a title-only page is 20–60 characters, a report's section 一
/// alone runs to several hundred.
const STUB_CHARS: usize = 150;
/// A text of this many lines or fewer is one line of a PDF (or a title and a date).
const FRAGMENT_LINES: usize = 2;
/// Figures that make a table, not a stray row: table 四 alone prints fifteen.
const TABLE_FIGURES: usize = 15;
/// Section headings that make a document report-shaped.
const REPORT_SECTIONS: usize = 2;
/// How often a comparison tool prints its overlap rate (重复率): once per section and table.
const OVERLAP_RATES: usize = 3;
/// Row labels of table 三 that make a printed (if empty) table: a notice or a narrative names
/// one or two, the blank form prints them all.
const PRINTED_ROWS: usize = 8;
/// Below this many CJK characters of narrative between 总体情况 and table 二, section 一 is
/// empty or a placeholder (（文字描述）): a real section 一 runs to hundreds.
const THIN_OVERVIEW_CHARS: usize = 40;

/// Table 三's row labels, as the blank 2019 and 2021 forms print them.
const T3_ROW_LABELS: [&str; 14] = [
    "本年新收政府信息公开申请数量",
    "上年结转政府信息公开申请数量",
    "予以公开",
    "部分公开",
    "属于国家秘密",
    "其他法律行政法规禁止公开",
    "保护第三方合法权益",
    "属于三类内部事务信息",
    "属于四类过程性信息",
    "本机关不掌握相关政府信息",
    "信访举报投诉类申请",
    "重复申请",
    "要求提供公开出版物",
    "结转下年度继续办理",
];

/// Words of a lead that name a comparison or a compilation of several reports.
const SEVERAL_REPORTS: [&str; 7] = ["比对", "对比", "比较", "汇编", "范文", "合集", "重复率"];

/// Words of a lead that name the format or a template rather than a report.
const FORMAT_WORDS: [&str; 6] = ["报告格式", "格式模板", "模板", "样表", "样本", "范本"];

/// Other yearly documents, named in the lead. Checked when no table was read and no line
/// reads as a disclosure report's title (a site's menu may name them above a real report).
const OTHER_KINDS: [&str; 7] = [
    "法治政府建设",
    "网站工作年度报表",
    "网站年度报表",
    "网站监管年度报表",
    "工作要点",
    "统计公报",
    "政府工作报告",
];

/// What the rules of this module see of one document.
pub(super) struct Shape<'a> {
    pub text: &'a str,
    pub sec: &'a Sections,
    /// Figures read from tables 二, 三 and 四 together.
    pub figures: usize,
    /// A line reads as a disclosure report's title ([`super::meta::has_report_title`]).
    pub titled: bool,
}

/// Why the document is plainly not one yearly report, by its kind, or `None`.
pub(super) fn refusal(shape: &Shape) -> Option<String> {
    let lead = lead(shape.text);
    several_reports(shape, &lead)
        .or_else(|| stub(shape))
        .or_else(|| format_or_notice(shape, &lead))
        .or_else(|| other_kind(shape, &lead))
}

/// The lead: the first [`LEAD_LINES`] short non-blank lines, whitespace removed, with the
/// compatibility forms of PDF text (⽐ for 比, ⼀ for 一) read as the characters they stand for.
fn lead(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && l.chars().count() <= LEAD_LINE_CHARS)
        .take(LEAD_LINES)
        .map(|l| {
            l.chars()
                .filter(|c| !c.is_whitespace())
                .map(kangxi_to_unified)
                .collect()
        })
        .collect()
}

/// The few Kangxi radicals (U+2F00…) that PDF text extraction leaves in place of the
/// characters the leads here look for.
fn kangxi_to_unified(c: char) -> char {
    match c {
        '\u{2F00}' => '一',
        '\u{2F50}' => '比',
        '\u{2F42}' => '文',
        '\u{2F47}' => '日',
        '\u{2F64}' => '用',
        _ => c,
    }
}

fn first_in<'w>(lead: &[String], words: &[&'w str]) -> Option<&'w str> {
    words
        .iter()
        .find(|w| lead.iter().any(|l| l.contains(**w)))
        .copied()
}

fn count(text: &str, needle: &str) -> usize {
    memchr::memmem::find_iter(text.as_bytes(), needle.as_bytes()).count()
}

/// A comparison of two years' reports, or a compilation of several: the lead says so
/// (比对, 汇编, 范文…), sets two years side by side (`2023 vs 2024`), or the text prints an
/// overlap rate for every part. Refused even when tables were read: the figures are those of
/// several reports at once.
fn several_reports(shape: &Shape, lead: &[String]) -> Option<String> {
    let why = if let Some(w) = first_in(lead, &SEVERAL_REPORTS) {
        format!("标题写明「{w}」")
    } else if lead.iter().any(|l| two_years_side_by_side(l)) {
        "标题并列两个年度".to_owned()
    } else if count(shape.text, "重复率") >= OVERLAP_RATES {
        "逐部分列出「重复率」".to_owned()
    } else {
        return None;
    };
    Some(format!(
        "不是政府信息公开工作年度报告：是多份年报的比对或汇编（{why}），不是一个机关一年的报告"
    ))
}

/// `2023 vs 2024`, `2023年与2024年`, `2023—2024年度对照`: two different years joined in one
/// short line by a comparison word.
fn two_years_side_by_side(line: &str) -> bool {
    let years = years_in(line);
    let two = years.len() >= 2 && years.iter().any(|y| *y != years[0]);
    two && ["vs", "VS", "与", "和", "对照"]
        .iter()
        .any(|w| line.contains(w))
}

/// The four-digit years (2000–2099) printed in a line.
fn years_in(line: &str) -> Vec<u32> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 4 <= b.len() {
        let w = &b[i..i + 4];
        let boundary = |j: usize| b.get(j).is_none_or(|c| !c.is_ascii_digit());
        if w.iter().all(u8::is_ascii_digit)
            && w.starts_with(b"20")
            && (i == 0 || boundary(i - 1))
            && boundary(i + 4)
        {
            out.push(w.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')));
            i += 4;
        } else {
            i += 1;
        }
    }
    out
}

/// Report-shaped: at least [`REPORT_SECTIONS`] section headings, or a table's worth of figures.
fn report_shaped(shape: &Shape) -> bool {
    let headings = shape.sec.headings.iter().filter(|h| **h).count();
    headings >= REPORT_SECTIONS || shape.figures >= TABLE_FIGURES
}

/// A stub (a page whose body is its title) or a fragment (one line of a PDF): too little text
/// for any report, not one report section and not one table figure. A fragment that prints a
/// table row's figures (`行政复议72 64 178`) may be a damaged page of a report, and a short
/// text that opens a section (`一、总体情况` and a sentence) may be a report cut short: both
/// are kept, with the findings of what is missing.
fn stub(shape: &Shape) -> Option<String> {
    let headings = shape.sec.headings.iter().filter(|h| **h).count();
    if report_shaped(shape) || shape.figures > 0 || headings > 0 {
        return None;
    }
    let chars = shape.text.chars().filter(|c| !c.is_whitespace()).count();
    let lines = shape.text.lines().filter(|l| !l.trim().is_empty()).count();
    if chars >= STUB_CHARS && lines > FRAGMENT_LINES {
        return None;
    }
    Some(format!(
        "不是政府信息公开工作年度报告：只有标题或片段（{lines} 行、{chars} 字），没有年报的部分和表格"
    ))
}

/// The blank format, or a notice that prints it: the tables' row labels printed without a
/// single figure, and the lead names the format or a notice, or section 一 is empty or a
/// placeholder. Also the format's own title (…年度报告格式) with no figure, printed or not.
fn format_or_notice(shape: &Shape, lead: &[String]) -> Option<String> {
    if shape.figures > 0 {
        return None;
    }
    let rows = T3_ROW_LABELS
        .iter()
        .filter(|l| memchr::memmem::find(shape.text.as_bytes(), l.as_bytes()).is_some())
        .count();
    let format_word = first_in(lead, &FORMAT_WORDS);
    let notice = lead.iter().any(|l| is_notice_title(l));
    if rows >= PRINTED_ROWS && (format_word.is_some() || notice || thin_overview(shape.text)) {
        return Some(
            "不是政府信息公开工作年度报告：印有年报表格但没有任何数字（空白格式或印发格式的通知）"
                .to_owned(),
        );
    }
    if let Some(w) = format_word {
        return Some(format!(
            "不是政府信息公开工作年度报告：标题写明「{w}」，是年报格式而非一份年报，且没有任何数字"
        ));
    }
    if notice && !report_shaped(shape) {
        return Some(
            "不是政府信息公开工作年度报告：标题是一份通知，没有年报的部分和表格".to_owned(),
        );
    }
    None
}

/// A lead line that is a notice's title: it ends in 通知 (…的通知, 有关事项的通知).
fn is_notice_title(line: &str) -> bool {
    line.trim_end_matches(|c: char| !c.is_alphanumeric())
        .ends_with("通知")
}

/// Section 一 holds fewer than [`THIN_OVERVIEW_CHARS`] CJK characters up to table 二's
/// heading (or up to the next numbered heading).
fn thin_overview(text: &str) -> bool {
    let Some(start) = text.find("总体情况") else {
        return true;
    };
    let body = &text[start + "总体情况".len()..];
    let end = ["二、", "主动公开政府信息情况"]
        .iter()
        .filter_map(|w| body.find(w))
        .min()
        .unwrap_or(body.len());
    let cjk = body[..end]
        .chars()
        .filter(|c| ('\u{4E00}'..='\u{9FFF}').contains(c))
        .count();
    // A placeholder such as （文字描述） is not a narrative.
    let placeholder = ["文字描述", "XX", "××"]
        .iter()
        .any(|p| body[..end].contains(p));
    cjk < THIN_OVERVIEW_CHARS || placeholder && cjk < THIN_OVERVIEW_CHARS * 4
}

/// Another yearly document (法治政府建设 report, the government website's yearly table, a
/// statistical bulletin, the 政府工作报告, the year's 工作要点) named in the lead, with no table
/// of a disclosure report read.
fn other_kind(shape: &Shape, lead: &[String]) -> Option<String> {
    if shape.figures > 0 || shape.titled {
        return None;
    }
    let w = first_in(lead, &OTHER_KINDS)?;
    Some(format!(
        "不是政府信息公开工作年度报告：标题写明「{w}」，是另一类文件，且没有年报表格"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::sections;

    fn refused(text: &str, figures: usize) -> Option<String> {
        let sec = sections(text);
        refusal(&Shape {
            text,
            sec: &sec,
            figures,
            titled: crate::parse::meta::has_report_title(&crate::parse::meta::titles(text)),
        })
    }

    #[test]
    fn a_title_only_stub_is_refused() {
        let text = "北京市朝阳区某某乡人民政府2023年政府信息公开工作年度报告\n发布时间：2024-01-20";
        let why = refused(text, 0).expect("a stub");
        assert!(why.contains("只有标题或片段"), "{why}");
    }

    #[test]
    fn a_one_line_fragment_is_refused_unless_it_prints_figures() {
        assert!(refused("- 3 -", 0).is_some());
        assert!(refused("政府信息公开工作年度报告（节选）", 0).is_some());
        // A row of a report's table may be a damaged page of a report: the reader cannot tell.
        assert_eq!(refused("行政复议72\t64\t178", 3), None);
    }

    #[test]
    fn a_report_cut_short_after_section_one_is_not_a_stub() {
        let text = "测试1县人民政府2022年政府信息公开工作年度报告\n一、总体情况\n收到政府信息公开申请1件。\n";
        assert_eq!(refused(text, 0), None);
    }

    #[test]
    fn a_short_report_with_its_sections_is_not_a_stub() {
        let text = "一、总体情况\n本年主动公开信息3条。\n二、主动公开政府信息情况\n三、收到和处理政府信息公开申请情况\n五、存在的主要问题及改进情况\n无。";
        assert_eq!(refused(text, 0), None);
    }

    #[test]
    fn a_blank_template_is_refused() {
        let mut text = String::from(
            "政府信息公开工作年度报告\n一、总体情况\n（文字描述）\n二、主动公开政府信息情况\n",
        );
        for l in T3_ROW_LABELS {
            text.push_str(l);
            text.push_str("\t\t\t\t\t\t\t\n");
        }
        let why = refused(&text, 0).expect("a blank template");
        assert!(why.contains("没有任何数字"), "{why}");
        // The same tables with their figures are a report.
        assert_eq!(refused(&text, 175), None);
    }

    #[test]
    fn the_format_title_is_refused_without_figures() {
        let text = "中华人民共和国\n政府信息公开工作年度报告格式\n政府信息公开工作年度报告（以下简称年度报告），是法定制度安排。".repeat(3);
        assert!(refused(&text, 0).is_some());
    }

    #[test]
    fn a_comparison_of_two_years_is_refused_even_with_tables() {
        let text = "宿迁市政务公开年报\u{2F50}对\n年份:2023 vs 2024\t文字重复率:42%\n一、总体情况(重复率:40%)";
        let why = refused(text, 172).expect("a comparison");
        assert!(why.contains("比对"), "{why}");
        let text =
            "某市2023年与2024年政府信息公开工作年度报告\n一、总体情况\n二、主动公开政府信息情况";
        assert!(refused(text, 172).is_some());
    }

    #[test]
    fn a_report_that_compares_in_its_body_is_kept() {
        let body = "与上年相比，主动公开信息增加12条，重复申请2件。".repeat(10);
        let text = format!(
            "某县2023年政府信息公开工作年度报告\n一、总体情况\n{body}\n二、主动公开政府信息情况\n三、收到和处理政府信息公开申请情况"
        );
        assert_eq!(refused(&text, 200), None);
    }

    #[test]
    fn other_yearly_reports_are_refused() {
        let body = "一、区政府主要负责同志履行推进法治建设第一责任人职责情况\n".repeat(5);
        let text = format!("静海区2023年度法治政府建设情况报告\n{body}");
        assert!(refused(&text, 0).unwrap().contains("法治政府建设"));
    }

    #[test]
    fn years_are_read_whole() {
        assert_eq!(years_in("2023vs2024"), vec![2023, 2024]);
        assert_eq!(years_in("12023 2019年"), vec![2019]);
        assert!(!two_years_side_by_side("2023年与2023年"));
    }
}
