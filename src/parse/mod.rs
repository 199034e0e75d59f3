//! The text of one report to a [`Report`]. PURE: no I/O, no tonic, no sled.
//!
//! The steps: find the sections and tables by their headings (table 三's own rows
//! 三、本年度办理结果 and 四、结转下年度继续办理 do not cut it), decide the format from the
//! headers, read each table ([`tables`]), read the metadata and the narrative figures
//! ([`meta`]). The findings made here are those of reading (blank, fused or unplaceable
//! cells, missing sections); the domain rules are the validator's ([`crate::validate`]), and
//! [`crate::read`] runs one after the other. Nothing here decodes bytes or validates.

pub mod cells;
pub mod confirm;
pub mod labels;
pub mod meta;
pub mod published;
mod refuse;
pub mod sheet;
pub mod solve;
pub mod tables;

use crate::decode;
use crate::model::finding::Code;
use crate::model::form::{t3_cells, T3_COLUMNS, T4_GROUPS};
use crate::model::hints::Hints;
use crate::pb::{Report, Template};
use sheet::Sheet;

/// The sections a report prints, 一 to 六.
pub const SECTIONS: usize = 6;

/// The sections' headings as the 2019 and 2021 forms print them.
const SECTION_NAMES: [&str; SECTIONS] = [
    "一、总体情况",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、行政复议、行政诉讼情况",
    "五、存在的主要问题及改进情况",
    "六、其他需要报告的事项",
];

/// The tables a report prints: 二, 三 and 四.
const TABLES: usize = 3;

/// The section that holds table 二; tables 三 and 四 follow in the next two (sections 二,
/// 三 and 四 are the tables).
const FIRST_TABLE_SECTION: usize = 1;

/// The tables' names in a TABLE_MISSING finding.
const TABLE_NAMES: [&str; TABLES] = [
    "表二（主动公开）",
    "表三（依申请公开）",
    "表四（行政复议、行政诉讼）",
];

/// The paths a TABLE_MISSING finding names for each table.
const TABLE_PATHS: [&[&str]; TABLES] = [&["proactive"], &["applications"], &T4_GROUPS];

/// How far (in bytes) after 行政复议 table 四's heading goes on to 行政诉讼.
const T4_HEADING_SPAN: usize = 40;

/// Where the sections and tables of a report start and end (byte offsets into the text).
#[derive(Debug, Default, Clone)]
pub struct Sections {
    /// Narrative before table 二 (section 一 and anything above it).
    pub overview: (usize, usize),
    pub t2: Option<(usize, usize)>,
    pub t3: Option<(usize, usize)>,
    pub t4: Option<(usize, usize)>,
    pub s5: Option<usize>,
    pub s6: Option<(usize, usize)>,
    /// Which headings were found (for the missing-section findings).
    pub headings: [bool; SECTIONS],
}

/// The first `needle` in `text` at or after `from`: its (start, end).
fn find_from(text: &str, from: usize, needle: &str) -> Option<(usize, usize)> {
    find(text.get(from..)?, needle).map(|i| (from + i, from + i + needle.len()))
}

/// `text.find(needle)` by memchr's vectorised search, which finds the same first occurrence
/// (a match of whole UTF-8 sequences starts on a char boundary) at a fraction of the
/// instructions of the two-way search of `str::find` over whole reports.
fn find(text: &str, needle: &str) -> Option<usize> {
    memchr::memmem::find(text.as_bytes(), needle.as_bytes())
}

/// The occurrence of `needle` that is a section heading: numbered `numeral、` just before it
/// (`二、行政机关主动公开政府信息情况`), else followed within a short distance by one of
/// `table_words` (its table), else none: a bare mention is not a heading. Returns the heading's (start, end).
fn heading(
    text: &str,
    from: usize,
    needle: &str,
    numeral: char,
    table_words: &[&str],
) -> Option<(usize, usize)> {
    const BEFORE: usize = 30;
    const AFTER: usize = 600;
    let mut all = Vec::new();
    let mut at = from;
    while let Some(found) = find_from(text, at, needle) {
        all.push(found);
        at = found.1;
    }
    let window = |a: usize, b: usize| {
        let mut a = a.min(text.len());
        let mut b = b.min(text.len());
        while !text.is_char_boundary(a) {
            a -= 1;
        }
        while !text.is_char_boundary(b) {
            b -= 1;
        }
        &text[a..b]
    };
    let numbered = |(s, _): &(usize, usize)| {
        let before = window(s.saturating_sub(BEFORE), *s);
        before.rfind(numeral).is_some_and(|i| {
            before[i + numeral.len_utf8()..]
                .trim_start()
                .starts_with(['、', '.', ',', '是'])
        })
    };
    let followed = |(_, e): &(usize, usize)| {
        let after = window(*e, e + AFTER);
        table_words.iter().any(|w| find(after, w).is_some())
    };
    all.iter()
        .find(|h| numbered(h) && followed(h))
        .or_else(|| all.iter().find(|h| followed(h)))
        .or_else(|| all.iter().find(|h| numbered(h)))
        .copied()
}

/// Table 四's heading: 行政复议 and 行政诉讼 close together, then 情况.
fn find_t4_heading(text: &str, from: usize) -> Option<(usize, usize)> {
    let mut at = from;
    while let Some((s, e)) = find_from(text, at, "行政复议") {
        let window_end = (e + T4_HEADING_SPAN).min(text.len());
        let mut we = window_end;
        while !text.is_char_boundary(we) {
            we -= 1;
        }
        let window = &text[e..we];
        if let Some(i) = find(window, "行政诉讼") {
            let after = &window[i..];
            if let Some(j) = find(after, "情况") {
                return Some((s, e + i + j + "情况".len()));
            }
        }
        at = e;
    }
    None
}

/// Locates the sections by their headings, with fallbacks on table contents.
pub fn sections(text: &str) -> Sections {
    let mut s = Sections::default();
    // A preamble often lists the sections by name (本报告由总体情况、主动公开政府信息情况、
    // 收到和处理政府信息公开申请情况…组成): a heading is the occurrence numbered as one
    // (`三、`) or followed by its table's own words (a narrative also says 自然人 and 规章).
    let t3 = heading(
        text,
        0,
        "收到和处理政府信息公开申请",
        '三',
        &["申请人情况", "本年新收", "商业企业", "法人或其他组织"],
    )
    .or_else(|| find_from(text, 0, "申请人情况"))
    .or_else(|| find_from(text, 0, "本年新收"));
    // Table 二's heading: the best one before table 三 (a caption may repeat it).
    let t2_limit = t3.map_or(text.len(), |t| t.0);
    let t2 = heading(
        &text[..t2_limit],
        0,
        "主动公开政府信息情况",
        '二',
        &["第二十条", "信息内容", "制发件数", "新制作数量"],
    )
    .or_else(|| find_from(&text[..t2_limit], 0, "第二十条"));
    // Without table 二 or 三, table 四 is looked for after section 一's numbered heading: the
    // preamble's list of sections (…行政复议、行政诉讼情况…) stands before it and is no heading.
    let one = heading(text, 0, "总体情况", '一', &[]).map_or(0, |h| h.1);
    let t4_from = t3.map_or(t2.map_or(one, |t| t.1), |t| t.1);
    let t4 = find_t4_heading(text, t4_from).or_else(|| {
        // No heading: the header row of the table itself, after table 三's last row.
        let after = find_from(text, t4_from, "结转下年度").map_or(t4_from, |x| x.1);
        find_from(text, after, "行政复议")
    });
    let s5_from = t4.or(t3).or(t2).map_or(0, |t| t.1);
    let s5 = find_from(text, s5_from, "存在的主要问题")
        .or_else(|| find_from(text, s5_from, "主要问题及改进"));
    let s6_from = s5.map_or(s5_from, |x| x.1);
    let s6 = find_from(text, s6_from, "其他需要报告的事项");

    // A document that begins inside table 三 (the last pages of a report scanned on their
    // own, a page range): no heading of table 二 or 三, but table 三's closing row
    // (结转下年度继续办理) with its figures stands before table 四. Everything before it is
    // read as table 三's tail; the heading stays missing.
    let t3 = t3.or_else(|| {
        if t2.is_some() {
            return None;
        }
        let end = t4.or(s5).map_or(text.len(), |t| t.0);
        let row = find_from(&text[..end], 0, "结转下年度继续办理")?;
        let line_end = text[row.1..end].find('\n').map_or(end, |i| row.1 + i);
        let figures = text[row.1..line_end]
            .split(|c: char| c.is_whitespace())
            .filter(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()))
            .count();
        (figures >= T3_COLUMNS).then_some((0, 0))
    });
    let overview_end = t2.or(t3).or(t4).map_or(text.len(), |t| t.0);
    s.overview = (0, overview_end);
    let next_after = |start: usize, candidates: &[Option<(usize, usize)>]| -> usize {
        candidates
            .iter()
            .flatten()
            .map(|c| c.0)
            .filter(|c| *c >= start)
            .min()
            .unwrap_or(text.len())
    };
    s.t2 = t2.map(|t| (t.1, next_after(t.1, &[t3, t4, s5, s6])));
    s.t3 = t3.map(|t| (t.0, next_after(t.1, &[t4, s5, s6])));
    s.t4 = t4.map(|t| (t.1, next_after(t.1, &[s5, s6])));
    s.s5 = s5.map(|x| x.0);
    s.s6 = s6.map(|x| (x.1, text.len()));
    s.headings = [
        text[..overview_end].contains("总体情况"),
        t2.is_some(),
        t3.is_some_and(|t| t.1 > t.0),
        t4.is_some(),
        s5.is_some(),
        s6.is_some(),
    ];
    s
}

/// The format the tables print, by the words of their headers and labels.
pub fn template(tables_text: &str) -> Template {
    let (v2019, v2021) = labels::template_votes(tables_text);
    match v2019.cmp(&v2021) {
        std::cmp::Ordering::Greater => Template::Template2019,
        std::cmp::Ordering::Less => Template::Template2021,
        std::cmp::Ordering::Equal => Template::Unknown,
    }
}

/// Parses normalised text (see [`decode::normalize`]); the findings are those of reading.
/// [`crate::read::read_text`] also validates the result.
pub fn parse_text(original: &str, hints: &Hints) -> Report {
    parse_text_as(original, hints, false)
}

/// [`parse_text`]; `ocr` text (read by OCR from a scan) has every figure its tables' rules
/// do not confirm unset.
///
/// The steps: fold the text to simplified characters; find the sections; decide the format;
/// read the three tables and note the tables, rows and report shape that are missing; read
/// the narrative figures, the agency and the year; note the missing sections; fill the
/// report, derive the 2021 其他处理 total, and withhold OCR figures no rule confirms.
pub fn parse_text_as(original: &str, hints: &Hints, ocr: bool) -> Report {
    // Labels and headings are matched on simplified characters; names are cut from the
    // original at the same offsets (the fold keeps every offset).
    // Pinyin glosses of mirror sites are dropped first (with a map back to the original).
    let glossless = decode::fold::without_glosses(original);
    let plain: &str = glossless.as_ref().map_or(original, |(t, _)| t.as_str());
    let folded = decode::fold::to_simplified(plain);
    let text: &str = &folded;
    let sec = sections(text);
    let titles = meta::titles(text);
    let mut sheet = Sheet::default();
    let slice = |r: Option<(usize, usize)>| r.map_or("", |(a, b)| &text[a..b.max(a)]);

    let mut template = template_of(text, &sec);
    let t2 = tables::read_t2(slice(sec.t2), template, &mut sheet);
    // The text ends inside table 三 when nothing after it was found.
    let t3_cut = sec.t3.is_some_and(|(_, end)| end == text.len()) && sec.t4.is_none();
    let t3 = tables::read_t3(slice(sec.t3), template, t3_cut, &mut sheet);
    let t4 = tables::read_t4(slice(sec.t4), &mut sheet);
    let found = [t2.numbers > 0, t3.numbers > 0, t4.numbers > 0];
    note_missing_tables(&mut sheet, &sec, found);
    if !found.iter().any(|f| *f) {
        template = Template::Unknown;
    }
    note_missing_rows(&mut sheet, template, found);
    let figures = t2.numbers + t3.numbers + t4.numbers;
    if let Some(why) = not_a_report(text, &titles, &sec, found, figures) {
        sheet.note(Code::NotAReport, "", why);
    }
    read_narrative(text, &sec, &mut sheet);

    let mut report = Report {
        template: template as i32,
        ..Default::default()
    };
    let text_agency = meta::agency(text, &titles).map(|a| {
        let map = glossless.as_ref().map(|(_, m)| m.as_slice());
        as_printed(original, text, map, a)
    });
    let text_year = meta::year(text, &titles);
    resolve_meta(&mut report, &mut sheet, text_agency, text_year, hints);
    let place = crate::place::resolve(&crate::place::Clues {
        agency: &report.agency,
        text,
        titles: &titles,
        source: Some(hints.source.as_str()).filter(|s| !s.is_empty()),
        url: hints.url(),
        year: report.year,
    });
    if let Some(why) = place.reason {
        sheet.note(Code::PlaceUnresolved, "", why);
    }
    report.region = Some(place.region);
    report.source = hints.source.clone();
    report.publication = published::publication(text, report.year, hints, &mut sheet);
    note_missing_sections(&mut sheet, &sec, found);
    sheet.fill(&mut report);
    derive_other_handling_total(&mut report);
    if ocr {
        confirm::withhold_unconfirmed(&mut report);
    }
    report
}

/// The format of a report's tables: by the words of their headers and labels, else by how
/// many figures table 三 prints (a complete table of either format has its own count).
fn template_of(text: &str, sec: &Sections) -> Template {
    let tables_text = match (sec.t2, sec.t3) {
        (Some((a, _)), Some((_, b))) if a <= b => &text[a..b],
        (Some(r), _) | (None, Some(r)) => &text[r.0..r.1],
        (None, None) => "",
    };
    let template = template(tables_text);
    let t3_region = sec.t3.map_or("", |(a, b)| &text[a..b.max(a)]);
    if template != Template::Unknown || t3_region.is_empty() {
        return template;
    }
    // Labels alone do not tell; 25 rows of seven numbers (or 23 of them) do.
    let count = cells::cells(t3_region)
        .iter()
        .filter(|c| matches!(c.tok, cells::Tok::Num(_)))
        .count();
    [Template::Template2021, Template::Template2019]
        .into_iter()
        .find(|t| t3_cells(*t) == count)
        .unwrap_or(Template::Unknown)
}

/// A TABLE_MISSING finding for each table that printed no figure, saying whether its
/// heading stands (the table may be an image) or nothing of it was found.
fn note_missing_tables(sheet: &mut Sheet, sec: &Sections, found: [bool; TABLES]) {
    for (i, (ok, paths)) in found.iter().zip(TABLE_PATHS).enumerate() {
        if *ok {
            continue;
        }
        let name = TABLE_NAMES[i];
        let why = if sec.headings[i + FIRST_TABLE_SECTION] {
            "仅存标题，表格可能为图片"
        } else {
            "未找到该表"
        };
        for p in paths {
            sheet.note(Code::TableMissing, *p, format!("{name}缺失：{why}"));
        }
    }
}

/// The figures of the narrative: section 一's totals of published items and received
/// applications, section 六's fees.
fn read_narrative(text: &str, sec: &Sections, sheet: &mut Sheet) {
    let (proactive, received) = meta::overview(&unwrapped(&text[sec.overview.0..sec.overview.1]));
    if let Some(v) = proactive {
        sheet.set("overview.proactive_published", v as f64);
    }
    if let Some(v) = received {
        sheet.set("overview.applications_received", v as f64);
    }
    if let Some((a, b)) = sec.s6 {
        let (notices, billed, collected) = meta::fees(&text[a..b]);
        if let Some(v) = notices {
            sheet.set("fee_collection.notices", v as f64);
        }
        if let Some(v) = billed {
            sheet.set("fee_collection.billed_yuan", v);
        }
        if let Some(v) = collected {
            sheet.set("fee_collection.collected_yuan", v);
        }
    }
}

/// `text` with the line breaks a PDF puts inside sentences removed (`受理政府\n信息公开申请`):
/// a break stays only after a sentence's end.
fn unwrapped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        let ended =
            out.trim_end().chars().next_back().is_none_or(|c| {
                matches!(c, '。' | '！' | '？' | '；' | '：' | '!' | '?' | ';' | ':')
            });
        if i > 0 && ended {
            out.push('\n');
        }
        out.push_str(line.trim_end_matches('\r'));
    }
    out
}

/// A SECTION_MISSING finding for each section whose heading was not found, unless it is a
/// table that was read (its figures stand for its heading).
fn note_missing_sections(sheet: &mut Sheet, sec: &Sections, found: [bool; TABLES]) {
    let table_read = |section: usize| {
        section
            .checked_sub(FIRST_TABLE_SECTION)
            .and_then(|t| found.get(t))
            .is_some_and(|f| *f)
    };
    for (i, name) in SECTION_NAMES.iter().enumerate() {
        if !sec.headings[i] && !table_read(i) {
            sheet.note(Code::SectionMissing, "", format!("未找到「{name}」部分"));
        }
    }
}

/// The agency as the original prints it, pinyin glosses left out (`國家機(jī)關(guān)…` reads
/// 國家機關…): the folded name found in the folded text is cut from the original at the same
/// offsets (the fold keeps them; `map` takes them back across removed pinyin glosses).
fn as_printed(original: &str, folded: &str, map: Option<&[u32]>, name: String) -> String {
    let Some(at) = folded.find(name.as_str()) else {
        return name;
    };
    let end = at + name.len();
    let (a, b) = match map {
        Some(m) if m.len() == folded.len() + 1 => (m[at] as usize, m[end] as usize),
        Some(_) => return name,
        None if original.len() == folded.len() => (at, end),
        None => return name,
    };
    // The original's glosses inside the name are not part of it.
    original.get(a..b).map_or(name.clone(), |printed| {
        decode::fold::without_glosses(printed).map_or_else(|| printed.to_owned(), |(t, _)| t)
    })
}

/// The longest line (in characters) that may be part of a document's title.
const TITLE_LINE_CHARS: usize = 60;
/// The short lines a document's title is read from, when it has no section 一.
const TITLE_LINES: usize = 2;
/// Section headings that make a document without a report title or tables a report: one
/// could be a mention; a report that speaks of itself or opens with 一、总体情况 counts as
/// having them.
const REPORT_HEADINGS: usize = 2;

/// Why a document is plainly not a yearly disclosure report, or `None` when it may be one.
/// A real report is never thrown away for what could not be read: its title, its numbered
/// sections or its tables are enough. Other government documents have none of them, or only
/// mention the sections (a notice on compiling reports, an interpretation, a news page).
/// Before that, [`refuse::refusal`] turns away what no report can be whatever its title:
/// a comparison or compilation, a stub or fragment, the blank format or a notice printing
/// it, another kind of yearly document.
fn not_a_report(
    text: &str,
    titles: &[String],
    sec: &Sections,
    found: [bool; TABLES],
    figures: usize,
) -> Option<String> {
    let titled = meta::has_report_title(titles);
    let shape = refuse::Shape {
        text,
        sec,
        figures,
        titled,
    };
    if let Some(why) = refuse::refusal(&shape) {
        return Some(why);
    }
    if titled || found.iter().any(|f| *f) {
        return None;
    }
    let headings = sec.headings.iter().filter(|h| **h).count();
    // What the document says it is: the short lines before section 一 (its title), or its
    // first two short lines.
    let before_overview = text.find("总体情况").map_or(text, |i| &text[..i]);
    let lead: String = before_overview
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && l.chars().count() <= TITLE_LINE_CHARS)
        .take(TITLE_LINES)
        .collect();
    let about = [
        "解读",
        "通知",
        "会议",
        "部署",
        "召开",
        "决算",
        "预算",
        "指南",
        "目录",
        "统计公报",
        "政府工作报告",
        "新闻",
    ]
    .iter()
    .find(|w| lead.contains(**w));
    // A report speaks of itself (本报告, 现将…报告如下) and opens with 一、总体情况.
    let speaks_of_itself = ["本报告", "报告如下", "年度报告》", "年度報告》"]
        .iter()
        .any(|w| text.contains(w));
    let opens_like_one = text.contains("一、总体情况");
    let headings = if speaks_of_itself || opens_like_one {
        headings.max(REPORT_HEADINGS)
    } else {
        headings
    };
    match about {
        None if headings >= REPORT_HEADINGS => None,
        Some(w) => Some(format!(
            "不是政府信息公开工作年度报告：无年报标题、无年报表格，标题写明「{w}」"
        )),
        None => Some(format!(
            "不是政府信息公开工作年度报告：无年报标题、无年报表格，只有 {headings} 个年报部分标题"
        )),
    }
}

/// Rows of a table that was read in part but that the text does not print at all: a page cut
/// short (the commonest reason), or a row left out. Each gets a ROW_MISSING finding unless a
/// finding already explains it.
fn note_missing_rows(sheet: &mut Sheet, template: Template, found: [bool; TABLES]) {
    use crate::model::form::{t3_rows, NEW};
    use labels::T2Row;
    if template == Template::Unknown {
        return;
    }
    let [t2_read, t3_read, _] = found;
    // A table whose heading stands but whose rows are all gone (a page cut short just after
    // it): its first row is where the text stops.
    let first_missing = |read: bool, path: &str, sheet: &mut Sheet| {
        if !read {
            sheet.note(
                Code::RowMissing,
                path,
                "文本在这一行之前中止（页面可能被截断）",
            );
        }
    };
    first_missing(t2_read, "proactive.regulations", sheet);
    first_missing(t3_read, NEW, sheet);
    let mut rows: Vec<&'static str> = Vec::new();
    if t2_read {
        rows.extend(
            [
                T2Row::Regulations,
                T2Row::NormativeDocuments,
                T2Row::Licensing,
                T2Row::OtherServices,
                T2Row::Penalty,
                T2Row::Enforcement,
                T2Row::Fees,
                T2Row::Procurement,
            ]
            .into_iter()
            .filter(|row| !row.columns(template).is_empty())
            .map(T2Row::path),
        );
    }
    if t3_read {
        rows.extend_from_slice(t3_rows(template));
    }
    for path in rows {
        // The row's cells, by catalogue index (no path is formatted per cell).
        let read = crate::model::catalogue::children(path)
            .iter()
            .any(|&i| sheet.get_at(i).is_some());
        let explained = sheet.findings.iter().any(|f| {
            f.path.starts_with(path) || f.path.contains('.') && path.starts_with(f.path.as_str())
        });
        if read || explained {
            continue;
        }
        sheet.note(
            Code::RowMissing,
            path,
            "文本中没有这一行（页面可能被截断，或该行被省略）",
        );
    }
}

/// Agency and year: the text wins; a hint fills what the text lacks; a disagreement is noted.
fn resolve_meta(
    report: &mut Report,
    sheet: &mut Sheet,
    agency: Option<String>,
    year: Option<i32>,
    hints: &Hints,
) {
    let hint_agency = hints
        .agency
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    match (agency, hint_agency) {
        (Some(a), Some(h)) => {
            if !a.contains(h) && !h.contains(a.as_str()) {
                sheet.note(
                    Code::HintMismatch,
                    "agency",
                    format!("正文机关「{a}」与提示「{h}」不一致，以正文为准"),
                );
            }
            report.agency = a;
        }
        (Some(a), None) => report.agency = a,
        (None, Some(h)) => report.agency = h.to_owned(),
        (None, None) => sheet.note(Code::AgencyMissing, "agency", "未能识别报告机关"),
    }
    match (year, hints.year) {
        (Some(y), Some(h)) => {
            if y != h {
                sheet.note_values(
                    Code::HintMismatch,
                    "year",
                    Some(f64::from(h)),
                    Some(f64::from(y)),
                    format!("正文年度 {y} 与提示年度 {h} 不一致，以正文为准"),
                );
            }
            report.year = Some(y);
        }
        (Some(y), None) => report.year = Some(y),
        (None, Some(h)) => report.year = Some(h),
        (None, None) => sheet.note(Code::YearMissing, "year", "未能识别报告年度"),
    }
}

/// 2021 prints three 其他处理 rows; `other_handling.total` is their sum, marked inferred, so
/// that aggregates over both formats can use one path.
fn derive_other_handling_total(report: &mut Report) {
    use crate::model::{catalogue, rules};
    let template = Template::try_from(report.template).unwrap_or(Template::Unknown);
    let Some(subtotal) = rules::other_handling(template) else {
        return;
    };
    let target = catalogue::children(subtotal.at());
    for (c, &t) in target.iter().enumerate() {
        if catalogue::get(report, t).is_some() {
            continue;
        }
        let (sum, _) = subtotal.sides(c, |row, c| {
            catalogue::children(row)
                .get(c)
                .and_then(|&i| catalogue::get(report, i))
        });
        if let Some(sum) = sum {
            catalogue::set(report, t, Some(sum));
            report.inferred.push(catalogue::METRICS[t].path.to_owned());
        }
    }
}
