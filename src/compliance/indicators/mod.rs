//! How each indicator is decided, from the report's cells and findings and the text's
//! numbered sections. PURE. Every function answers PASS, FAIL (with whose fault) or
//! NOT_ASSESSABLE, with the evidence it rests on; where the text does not decide, it does
//! not guess.
//!
//! The report against itself beyond the tables' arithmetic is in [`consistency`]; against
//! the year before beyond carry-over and copied text, in [`trend`].

pub mod consistency;
pub mod trend;

pub use consistency::{agency_year_consistent, no_contradiction};
pub use trend::{stock_continuous, year_over_year_jumps};

use super::text::{self, han_count, quote, Outline, Span};
use super::{BodyKind, Evidence, Fault, Indicator, IndicatorId as Id, Others, Previous, Profile};
use crate::model::catalogue;
use crate::model::finding::Code;
use crate::model::form::{APPLICANT_COLUMNS, CARRIED_OVER, FORWARD, NEW, T3_TOTAL_COLUMN};
use crate::pb::{Finding, Report, Template};
use crate::validate;

/// The first report year due in the 2021 format, and for which the 2021 notice's contents
/// (five aspects of 总体情况, the 信息处理费 statement) are asked.
const FORMAT_2021_FROM: i32 = 2021;

/// Art. 49: departments of governments at county level and above publish by 31 January.
const DEPARTMENT_DEADLINE: &str = "01-31";
/// Art. 49: county-level and higher local governments publish by 31 March.
const GOVERNMENT_DEADLINE: &str = "03-31";

/// Sections whose heading stands next to a table: 三 and 四 head tables 三 and 四, 五
/// follows table 四.
const SECTIONS_BESIDE_TABLES: [u8; 3] = [3, 4, 5];

/// How many characters a quote in the evidence holds.
const QUOTE_CHARS: usize = 60;

/// Fewer Han characters than this in section 五 say nothing about problems and their
/// improvement (本单位无。 / 暂无 / 无存在的主要问题 are all shorter; the shortest real
/// substantive section 五 seen says at least one problem and one measure, ~40 characters).
const MIN_PROBLEMS_HAN: usize = 20;

/// Section 六 with fewer Han characters than this is taken as cut short, not as silent on
/// fees (无其他需要报告的事项 alone is 10).
const MIN_SECTION6_HAN: usize = 8;

/// A narrative with fewer distinct shingles than this is too short for a share to mean
/// anything (a few sentences of boilerplate repeat honestly).
const MIN_SHINGLES: usize = 100;

/// Findings that mean a table was not read with certainty: an arithmetic failure in such a
/// table may be the reading's, not the document's.
const READING_DOUBTS: [Code; 5] = [
    Code::RowUnreadable,
    Code::Ambiguous,
    Code::OcrUnconfirmed,
    Code::CellInferred,
    Code::OrderRecovered,
];

/// The rules of the tables' arithmetic (domain.md rules 1-4 and 6).
const ARITHMETIC: [Code; 6] = [
    Code::Balance,
    Code::OutcomesSum,
    Code::RowTotal,
    Code::GroupTotal,
    Code::NegativeCount,
    Code::NotInteger,
];

/// The five aspects of 总体情况 (国办公开办函〔2021〕30号), each with the words that show it
/// is covered (the aspect's own name first, then what publishers write under it).
const ASPECTS: [(&str, &[&str]); 5] = [
    ("主动公开", &["主动公开", "信息发布"]),
    ("依申请公开", &["依申请", "申请"]),
    ("政府信息管理", &["信息管理", "信息资源", "规范性文件"]),
    (
        "政府信息公开平台建设",
        &["平台", "网站", "新媒体", "公开专栏"],
    ),
    ("监督保障", &["监督", "保障", "考核", "培训"]),
];

/// Art. 50(4): what a government reports besides, each with the word that shows it.
const ASSESSMENT_WORDS: [(&str, &str); 3] = [
    ("工作考核", "考核"),
    ("社会评议", "评议"),
    ("责任追究", "追究"),
];

/// Words of a statement on fees in section 六; the table 二 row 行政事业性收费 is another
/// thing and is taken out first.
const FEE_WORDS: [&str; 4] = ["处理费", "收费", "费用", "收取"];
const NOT_THE_FEE: &str = "行政事业性收费";

/// The indicators that read only this report and its text (whose `outline` the caller
/// made once), in [`super::IndicatorId::ALL`] order (they come before those of
/// [`against_previous`]).
pub fn own(
    report: &Report,
    text: &str,
    outline: &Outline,
    profile: &Profile,
    body: BodyKind,
) -> Vec<Indicator> {
    vec![
        timeliness(report, body, profile),
        sections(text, outline),
        tables_present(report, text, outline),
        no_blank_cells(report),
        template(report),
        overview_aspects(report, text, outline),
        assessment_reported(body, text, outline),
        problems_substantive(text, outline),
        fee_statement(report, text, outline),
        arithmetic(report),
        narrative_matches_tables(report),
        agency_year_consistent(report, text),
        no_contradiction(report, text, outline),
    ]
}

/// The indicators that compare the report `now` (with its narrative, [`text::narrative`])
/// with the body's report of the year before, in [`super::IndicatorId::ALL`] order.
pub fn against_previous(
    now: Previous<'_>,
    previous: Option<Previous<'_>>,
    profile: &Profile,
) -> Vec<Indicator> {
    let report = now.report;
    vec![
        carry_over(report, previous.map(|p| p.report)),
        not_copied(now, previous, profile.copy_threshold),
        stock_continuous(report, previous.map(|p| p.report)),
        year_over_year_jumps(
            report,
            previous.map(|p| p.report),
            profile.jump_factor,
            profile.jump_floor,
        ),
    ]
}

fn finding_evidence(f: &Finding) -> Evidence {
    Evidence::Finding {
        code: f.code.clone(),
        path: f.path.clone(),
        message: f.message.clone(),
    }
}

fn is(f: &Finding, code: Code) -> bool {
    f.code == code.as_str()
}

fn text_evidence(text: &str, start: usize, end: usize) -> Evidence {
    Evidence::Text {
        start,
        end,
        quote: quote(&text[start..end], QUOTE_CHARS),
    }
}

fn note(s: impl Into<String>) -> Evidence {
    Evidence::Note { text: s.into() }
}

// ---------------------------------------------------------------------------------------
// Timeliness
// ---------------------------------------------------------------------------------------

/// A date `YYYY-MM-DD` as (year, month, day), when it is one.
fn ymd(s: &str) -> Option<(i32, u32, u32)> {
    let mut it = s.trim().splitn(3, '-');
    let y = it.next()?.parse().ok()?;
    let m = it.next()?.parse().ok()?;
    let d = it.next()?.parse().ok()?;
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
}

/// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
fn days(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The statutory deadline's month and day for a kind of body (art. 49), if it sets one.
pub fn statutory_deadline(body: BodyKind) -> Option<&'static str> {
    match body {
        BodyKind::Government => Some(GOVERNMENT_DEADLINE),
        BodyKind::Department => Some(DEPARTMENT_DEADLINE),
        _ => None,
    }
}

/// Published by the deadline of the year after the report's: the profile's local deadline
/// for the kind of body when it sets one (local deadlines are earlier), else art. 49's.
pub fn timeliness(report: &Report, body: BodyKind, profile: &Profile) -> Indicator {
    let id = Id::Timeliness;
    let Some(year) = report.year else {
        return Indicator::not_assessable(id, "报告年度未知", vec![]);
    };
    let local = profile.deadlines.get(&body).map(String::as_str);
    let statutory = statutory_deadline(body);
    let Some(md) = local.or(statutory) else {
        return Indicator::not_assessable(
            id,
            format!(
                "条例第四十九条未规定{}的公开期限，配置也未规定",
                kind_name(body)
            ),
            vec![],
        );
    };
    let deadline = format!("{}-{md}", year + 1);
    let what = if local.is_some() {
        "本地规定的公开期限"
    } else {
        "条例第四十九条规定的公开期限"
    };
    let mut evidence = vec![Evidence::Date {
        what: what.into(),
        date: deadline.clone(),
    }];
    let publication = report.publication.as_ref();
    let date = publication.map_or("", |p| p.date.as_str());
    let Some((y, m, d)) = ymd(date) else {
        return Indicator::not_assessable(id, "没有发布日期", evidence);
    };
    let source = match publication.map(|p| p.date_source) {
        Some(s) if s == crate::pb::DateSource::Client as i32 => "发布日期（采集时记录）",
        Some(s) if s == crate::pb::DateSource::Text as i32 => "发布日期（正文所载）",
        _ => "发布日期",
    };
    evidence.insert(
        0,
        Evidence::Date {
            what: source.into(),
            date: date.to_owned(),
        },
    );
    let Some((dy, dm, dd)) = ymd(&deadline) else {
        return Indicator::not_assessable(id, "期限格式有误", evidence);
    };
    let published = days(y, m, d);
    if published < days(year + 1, 1, 1) {
        return Indicator::not_assessable(
            id,
            format!("所载日期 {date} 早于报告年度结束，不是本报告的发布日期"),
            evidence,
        );
    }
    let late = published - days(dy, dm, dd);
    if late <= 0 {
        Indicator::pass(
            id,
            format!("{date} 发布，在期限 {deadline} 之前 {} 天", -late),
            evidence,
        )
    } else {
        Indicator::fail(
            id,
            Fault::Publisher,
            format!("{date} 发布，超过期限 {deadline} {late} 天"),
            evidence,
        )
    }
}

fn kind_name(body: BodyKind) -> &'static str {
    match body {
        BodyKind::Government => "县级以上人民政府",
        BodyKind::TownshipGovernment => "乡镇人民政府",
        BodyKind::StreetOffice => "街道办事处",
        BodyKind::Zone => "开发区、管委会等派出机构",
        BodyKind::Department => "政府部门",
        BodyKind::Unknown => "名称不明的机关",
    }
}

// ---------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------

/// Six sections, each numbered once with its own numeral, in order. Positive evidence
/// fails it (a heading numbered wrongly or twice, out of order, a section missing between
/// two found, unless its heading stands next to a table: then the reader's); a section
/// missing at the start or the end of the text may be the text's cut, not the publisher's
/// omission, and leaves it NOT_ASSESSABLE.
pub fn sections(text: &str, outline: &Outline) -> Indicator {
    let id = Id::Sections;
    let hs = &outline.headings;
    let evidence: Vec<Evidence> = hs
        .iter()
        .map(|h| text_evidence(text, h.start, h.end))
        .collect();
    if hs.is_empty() {
        return Indicator::not_assessable(id, "正文中未找到编号的部分标题", evidence);
    }
    let mut faults = Vec::new();
    for h in hs {
        if h.numeral != h.section {
            faults.push(format!(
                "「{}」编号为{}，应为{}",
                h.title,
                numeral(h.numeral),
                numeral(h.section)
            ));
        }
    }
    for s in 1..=6u8 {
        let n = hs.iter().filter(|h| h.section == s).count();
        if n > 1 {
            faults.push(format!("「{}」出现 {n} 次", section_title(s)));
        }
    }
    let firsts: Vec<u8> = {
        let mut seen = Vec::new();
        for h in hs {
            if !seen.contains(&h.section) {
                seen.push(h.section);
            }
        }
        seen
    };
    if firsts.windows(2).any(|w| w[0] > w[1]) {
        faults.push(format!(
            "部分顺序为 {}",
            firsts.iter().map(|s| numeral(*s)).collect::<String>()
        ));
    }
    let lo = *firsts.iter().min().unwrap_or(&1);
    let hi = *firsts.iter().max().unwrap_or(&6);
    let gaps: Vec<u8> = (lo..=hi).filter(|s| !firsts.contains(s)).collect();
    // A heading that stands next to a table (三 and 四 head tables, 五 follows table 四) is
    // often lost with the table's extraction: its absence is not proof.
    let (beside_table, lost): (Vec<u8>, Vec<u8>) = gaps
        .iter()
        .partition(|s| SECTIONS_BESIDE_TABLES.contains(s));
    for s in &lost {
        faults.push(format!("缺少「{}」", section_title(*s)));
    }
    if !faults.is_empty() {
        return Indicator::fail(id, Fault::Publisher, faults.join("；"), evidence);
    }
    if !beside_table.is_empty() {
        let names: Vec<&str> = beside_table.iter().map(|s| section_title(*s)).collect();
        return Indicator::fail(
            id,
            Fault::Reader,
            format!(
                "未找到「{}」：紧邻表格的标题可能在提取时丢失，须看原件",
                names.join("」「")
            ),
            evidence,
        );
    }
    // A text may begin mid-report (a page range, a crawler's excerpt; a page header names
    // the report on every page): sections missing before the first found are not proof.
    if lo > 1 {
        return Indicator::not_assessable(
            id,
            format!(
                "正文从「{}」开始，前面的部分可能未采集到",
                section_title(lo)
            ),
            evidence,
        );
    }
    if hi < 6 {
        return Indicator::not_assessable(
            id,
            format!(
                "正文在「{}」之后没有后续部分标题，可能被截断",
                section_title(hi)
            ),
            evidence,
        );
    }
    Indicator::pass(id, "六个部分齐全，按顺序各编号一次", evidence)
}

fn section_title(s: u8) -> &'static str {
    text::SECTION_TITLES[usize::from(s.clamp(1, 6)) - 1]
}

fn numeral(n: u8) -> char {
    ['一', '二', '三', '四', '五', '六'][usize::from(n.clamp(1, 6)) - 1]
}

// ---------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------

/// The tables 二, 三, 四 and the sections that hold them.
const TABLES: [(&str, &str, u8); 3] = [
    ("表二", "proactive", 2),
    ("表三", "applications", 3),
    ("表四", "review", 4),
];

/// Tables 二/三/四 in the text. A TABLE_MISSING finding is the publisher's only when the
/// text shows the table's place empty: its section's heading and the next section's heading
/// both stand, with no figure between them (the table is an image or left out). Else the
/// table may be cut off or dropped by the scraper: the reader's.
pub fn tables_present(report: &Report, text: &str, outline: &Outline) -> Indicator {
    let id = Id::TablesPresent;
    let missing: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| is(f, Code::TableMissing))
        .collect();
    if report.findings.iter().any(|f| is(f, Code::NotAReport)) {
        return Indicator::not_assessable(id, "不是年度报告", vec![]);
    }
    if missing.is_empty() {
        return Indicator::pass(id, "表二、表三、表四均已读出", vec![]);
    }
    let mut publisher = Vec::new();
    let mut reader = Vec::new();
    let mut evidence = Vec::new();
    for (name, path, section) in TABLES {
        let Some(f) = missing
            .iter()
            .find(|f| f.path == path || f.path.starts_with(&format!("{path}.")))
        else {
            continue;
        };
        evidence.push(finding_evidence(f));
        match outline.span(section, text.len()) {
            Some(Span {
                start,
                end,
                bounded: true,
            }) if !text[start..end].chars().any(|c| c.is_ascii_digit()) => {
                evidence.push(text_evidence(text, start, end));
                publisher.push(name);
            }
            _ => reader.push(name),
        }
    }
    if !publisher.is_empty() {
        Indicator::fail(
            id,
            Fault::Publisher,
            format!(
                "{}的位置在正文中为空（部分标题在，表格无数字：以图片公布或遗漏）",
                publisher.join("、")
            ),
            evidence,
        )
    } else {
        Indicator::fail(
            id,
            Fault::Reader,
            format!(
                "未读出{}（文本可能不完整或表格为图片），须看原件",
                reader.join("、")
            ),
            evidence,
        )
    }
}

/// No blank cell in the tables read: CELL_BLANK findings (the publisher printed a blank or
/// "/"); cells the reader could not place are other findings and do not count here.
pub fn no_blank_cells(report: &Report) -> Indicator {
    let id = Id::NoBlankCells;
    // A blank on a cell's path is a printed blank; one on a row's path is a row not printed
    // at all or not read (the text may be cut short): not proof of a blank.
    let (cells, rows): (Vec<&Finding>, Vec<&Finding>) = report
        .findings
        .iter()
        .filter(|f| is(f, Code::CellBlank))
        .partition(|f| catalogue::index_of(&f.path).is_some());
    if !cells.is_empty() {
        return Indicator::fail(
            id,
            Fault::Publisher,
            format!("{} 处空项", cells.len()),
            cells.iter().map(|f| finding_evidence(f)).collect(),
        );
    }
    if !rows.is_empty() {
        return Indicator::fail(
            id,
            Fault::Reader,
            format!("{} 行未印出或未读出（文本可能不完整）", rows.len()),
            rows.iter().map(|f| finding_evidence(f)).collect(),
        );
    }
    let read = catalogue::facts(report)
        .iter()
        .any(|(p, _)| p.starts_with("applications."));
    if !read {
        return Indicator::not_assessable(id, "未读出表三", vec![]);
    }
    Indicator::pass(id, "已读出的表格无空项", vec![])
}

/// The format of the report's year: the 2021 format from the 2021 reports on, the 2019
/// format before.
pub fn template(report: &Report) -> Indicator {
    let id = Id::Template;
    let template = Template::try_from(report.template).unwrap_or(Template::Unknown);
    let Some(year) = report.year else {
        return Indicator::not_assessable(id, "报告年度未知", vec![]);
    };
    let (printed, due) = match template {
        Template::Template2019 => ("2019", year < FORMAT_2021_FROM),
        Template::Template2021 => ("2021", year >= FORMAT_2021_FROM),
        Template::Unknown => {
            return Indicator::not_assessable(id, "表格格式未能判定", vec![]);
        }
    };
    let evidence = vec![note(format!("{year} 年度报告，表格为 {printed} 年格式"))];
    if due {
        Indicator::pass(id, format!("使用 {printed} 年格式"), evidence)
    } else {
        Indicator::fail(
            id,
            Fault::Publisher,
            format!("{year} 年度报告使用了 {printed} 年格式"),
            evidence,
        )
    }
}

// ---------------------------------------------------------------------------------------
// Narrative sections
// ---------------------------------------------------------------------------------------

/// 总体情况 covers 主动公开、依申请公开、政府信息管理、政府信息公开平台建设、监督保障
/// (2021 notice; reports of 2021 on). Needs section 一 bounded by a later heading.
pub fn overview_aspects(report: &Report, text: &str, outline: &Outline) -> Indicator {
    let id = Id::OverviewAspects;
    if report.year.is_some_and(|y| y < FORMAT_2021_FROM) {
        return Indicator::not_assessable(id, "五个方面是2021年格式通知的要求", vec![]);
    }
    let Some(span) = outline.span(1, text.len()).filter(|s| s.bounded) else {
        return Indicator::not_assessable(id, "未找到完整的「一、总体情况」", vec![]);
    };
    if report.year.is_none() {
        return Indicator::not_assessable(id, "报告年度未知", vec![]);
    }
    let body = &text[span.start..span.end];
    let missing: Vec<&str> = ASPECTS
        .iter()
        .filter(|(_, words)| !words.iter().any(|w| body.contains(w)))
        .map(|(name, _)| *name)
        .collect();
    let evidence = vec![text_evidence(text, span.start, span.end)];
    if missing.is_empty() {
        Indicator::pass(id, "总体情况涵盖五个方面", evidence)
    } else {
        Indicator::fail(
            id,
            Fault::Publisher,
            format!("总体情况未涉及：{}", missing.join("、")),
            evidence,
        )
    }
}

/// Governments (各级人民政府, art. 50(4)) report 工作考核、社会评议和责任追究: each named
/// somewhere in the narrative. Needs the text to reach section 六 (else it may be cut).
pub fn assessment_reported(body: BodyKind, text: &str, outline: &Outline) -> Indicator {
    let id = Id::AssessmentReported;
    if !body.is_government() {
        return Indicator::not_assessable(
            id,
            format!(
                "条例第五十条第四项只要求人民政府报告（本机关为{}）",
                kind_name(body)
            ),
            vec![],
        );
    }
    if outline.first(6).is_none() {
        return Indicator::not_assessable(id, "正文未到「六、其他需要报告的事项」", vec![]);
    }
    let missing: Vec<&str> = ASSESSMENT_WORDS
        .iter()
        .filter(|(_, w)| !text.contains(w))
        .map(|(name, _)| *name)
        .collect();
    let evidence: Vec<Evidence> = ASSESSMENT_WORDS
        .iter()
        .filter_map(|(_, w)| text.find(w).map(|at| (at, at + w.len())))
        .map(|(a, b)| {
            let from = text[..a].char_indices().rev().nth(15).map_or(0, |(i, _)| i);
            text_evidence(text, from, b)
        })
        .collect();
    if missing.is_empty() {
        Indicator::pass(id, "报告了工作考核、社会评议和责任追究", evidence)
    } else {
        Indicator::fail(
            id,
            Fault::Publisher,
            format!("未报告：{}", missing.join("、")),
            evidence,
        )
    }
}

/// Section 五 (存在的主要问题及改进情况) says something: at least [`MIN_PROBLEMS_HAN`]
/// Han characters between its heading and section 六's.
pub fn problems_substantive(text: &str, outline: &Outline) -> Indicator {
    let id = Id::ProblemsSubstantive;
    let Some(span) = outline.span(5, text.len()).filter(|s| s.bounded) else {
        return Indicator::not_assessable(
            id,
            "未找到以下一部分标题结束的「五、存在的主要问题及改进情况」",
            vec![],
        );
    };
    let body = &text[span.start..span.end];
    let n = han_count(body);
    let evidence = vec![text_evidence(text, span.start, span.end)];
    if n >= MIN_PROBLEMS_HAN {
        Indicator::pass(id, format!("第五部分 {n} 字"), evidence)
    } else {
        Indicator::fail(
            id,
            Fault::Publisher,
            format!("第五部分只有 {n} 字：{}", quote(body, QUOTE_CHARS)),
            evidence,
        )
    }
}

/// Section 六 states the 信息处理费 (2021 format): a figure the parser read into
/// `fee_collection`, or a statement on fees in section 六's text (行政事业性收费, table 二's
/// row, is not one).
pub fn fee_statement(report: &Report, text: &str, outline: &Outline) -> Indicator {
    let id = Id::FeeStatement;
    let format_2021 = report.template == Template::Template2021 as i32
        || report.year.is_some_and(|y| y >= FORMAT_2021_FROM);
    if !format_2021 {
        return Indicator::not_assessable(id, "信息处理费的说明是2021年格式的要求", vec![]);
    }
    let read: Vec<Evidence> = catalogue::facts(report)
        .into_iter()
        .filter(|(p, _)| p.starts_with("fee_collection."))
        .map(|(p, v)| Evidence::Cell {
            path: p.to_owned(),
            value: Some(v),
            other: None,
        })
        .collect();
    if !read.is_empty() {
        return Indicator::pass(id, "第六部分载有信息处理费数字", read);
    }
    let Some(span) = outline.span(6, text.len()) else {
        return Indicator::not_assessable(id, "未找到「六、其他需要报告的事项」", vec![]);
    };
    let body = text[span.start..span.end].replace(NOT_THE_FEE, "");
    let evidence = vec![text_evidence(text, span.start, span.end)];
    if FEE_WORDS.iter().any(|w| body.contains(w)) {
        return Indicator::pass(id, "第六部分说明了收费情况", evidence);
    }
    if han_count(&body) < MIN_SECTION6_HAN {
        return Indicator::not_assessable(id, "第六部分几乎无文字，正文可能被截断", evidence);
    }
    Indicator::fail(
        id,
        Fault::Publisher,
        "第六部分未说明信息处理费的收取情况",
        evidence,
    )
}

// ---------------------------------------------------------------------------------------
// Arithmetic
// ---------------------------------------------------------------------------------------

/// The table a catalogue path belongs to, for matching a failure with the reading's doubts:
/// table 四's three groups are one table.
fn table_of(path: &str) -> &str {
    let head = path.split('.').next().unwrap_or("");
    match head {
        "review" | "litigation_direct" | "litigation_after_review" => "review",
        other => other,
    }
}

/// Whether the reading of the table holding `path` has a doubt (a finding of
/// [`READING_DOUBTS`] in the same table, or one that names no table).
fn doubted(report: &Report, path: &str) -> bool {
    let table = table_of(path);
    report.findings.iter().any(|f| {
        READING_DOUBTS.iter().any(|c| is(f, *c))
            && (f.path.is_empty() || table_of(&f.path) == table)
    })
}

/// Every arithmetic rule holds. A failure is the publisher's unless the reading of its table
/// is in doubt; sums that could not be checked (an absent addend) leave it NOT_ASSESSABLE.
pub fn arithmetic(report: &Report) -> Indicator {
    let id = Id::Arithmetic;
    let failures: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| ARITHMETIC.iter().any(|c| is(f, *c)))
        .collect();
    let (reader, publisher): (Vec<&Finding>, Vec<&Finding>) =
        failures.iter().partition(|f| doubted(report, &f.path));
    if !publisher.is_empty() {
        return Indicator::fail(
            id,
            Fault::Publisher,
            format!("{} 处不合勾稽关系或数值规则", publisher.len()),
            publisher.iter().map(|f| finding_evidence(f)).collect(),
        );
    }
    if !reader.is_empty() {
        return Indicator::fail(
            id,
            Fault::Reader,
            format!("{} 处不合，但该表读取存疑", reader.len()),
            reader.iter().map(|f| finding_evidence(f)).collect(),
        );
    }
    let read = catalogue::facts(report)
        .iter()
        .any(|(p, _)| p.starts_with("applications."));
    if !read {
        return Indicator::not_assessable(id, "未读出表三", vec![]);
    }
    let unverifiable: Vec<Evidence> = report
        .findings
        .iter()
        .filter(|f| is(f, Code::Unverifiable))
        .map(finding_evidence)
        .collect();
    if !unverifiable.is_empty() {
        return Indicator::not_assessable(
            id,
            format!("{} 处因空缺单元格无法核对，其余相符", unverifiable.len()),
            unverifiable,
        );
    }
    Indicator::pass(id, "各项勾稽关系均相符", vec![])
}

/// Section 一's stated received applications against table 三 (rule 7's NARRATIVE_MISMATCH).
pub fn narrative_matches_tables(report: &Report) -> Indicator {
    let id = Id::NarrativeMatchesTables;
    let get = |p: &str| catalogue::index_of(p).and_then(|i| catalogue::get(report, i));
    let stated = get("overview.applications_received");
    let table = get(&format!("{NEW}.{}", APPLICANT_COLUMNS[T3_TOTAL_COLUMN]));
    let evidence = vec![Evidence::Cell {
        path: "overview.applications_received".into(),
        value: stated,
        other: table,
    }];
    if let Some(f) = report
        .findings
        .iter()
        .find(|f| is(f, Code::NarrativeMismatch))
    {
        let fault = if doubted(report, "applications") {
            Fault::Reader
        } else {
            Fault::Publisher
        };
        return Indicator::fail(id, fault, f.message.clone(), vec![finding_evidence(f)]);
    }
    match (stated, table) {
        (Some(_), Some(_)) => Indicator::pass(id, "总体情况所述申请数与表三相符", evidence),
        _ => Indicator::not_assessable(id, "总体情况未载明确的申请数，或表三未读出", evidence),
    }
}

// ---------------------------------------------------------------------------------------
// Across years
// ---------------------------------------------------------------------------------------

/// 上年结转 of this report against 结转下年度继续办理 of the body's previous year, per column
/// (the validator's rule 10, [`validate::cross_year`]). A column absent on either side is not
/// compared (absent is absent, never 0).
pub fn carry_over(report: &Report, previous: Option<&Report>) -> Indicator {
    let id = Id::CarryOver;
    let Some(previous) = previous else {
        return Indicator::not_assessable(id, "没有上一年度的报告", vec![]);
    };
    match (previous.year, report.year) {
        (Some(p), Some(c)) if c == p + 1 => {}
        (p, c) => {
            return Indicator::not_assessable(
                id,
                format!("两份报告不是相邻年度（{p:?}、{c:?}）"),
                vec![],
            )
        }
    }
    let get = |r: &Report, row: &str, col: &str| {
        catalogue::index_of(&format!("{row}.{col}")).and_then(|i| catalogue::get(r, i))
    };
    let mut evidence = Vec::new();
    for col in APPLICANT_COLUMNS {
        let (now, before) = (get(report, CARRIED_OVER, col), get(previous, FORWARD, col));
        if let (Some(_), Some(_)) = (now, before) {
            evidence.push(Evidence::Cell {
                path: format!("{CARRIED_OVER}.{col}"),
                value: now,
                other: before,
            });
        }
    }
    if evidence.is_empty() {
        return Indicator::not_assessable(id, "两年中没有可比的结转数", vec![]);
    }
    let mismatches: Vec<Finding> = validate::cross_year(previous, report)
        .into_iter()
        .filter(|f| is(f, Code::CarryOverMismatch))
        .collect();
    if mismatches.is_empty() {
        return Indicator::pass(
            id,
            format!("{} 列上年结转与上一年度结转下年度相符", evidence.len()),
            evidence,
        );
    }
    let fault = if doubted(report, "applications") || doubted(previous, "applications") {
        Fault::Reader
    } else {
        Fault::Publisher
    };
    let reason = format!("{} 列不衔接", mismatches.len());
    let mut ev: Vec<Evidence> = mismatches.iter().map(finding_evidence).collect();
    ev.extend(evidence);
    Indicator::fail(id, fault, reason, ev)
}

/// A report's narrative's shingles: the ones its caller made, or made now.
fn shingles_of<'a>(p: &Previous<'a>) -> Option<std::borrow::Cow<'a, text::Shingles>> {
    match p.shingles {
        Some(s) => Some(std::borrow::Cow::Borrowed(s)),
        None => p
            .narrative
            .map(|n| std::borrow::Cow::Owned(text::Shingles::of(n))),
    }
}

/// The share of the narrative found in `other`'s, as evidence.
fn share_evidence(sim: &text::Similarity, other: &Report) -> Evidence {
    Evidence::Share {
        share: sim.share,
        jaccard: sim.jaccard,
        shingles: sim.shingles,
        other_agency: other.agency.clone(),
        other_year: other.year,
    }
}

/// Not copied from the body's previous year: the share of this year's narrative (sections
/// 一, 五, 六) found in last year's, by [`text::SHINGLE`]-character shingles; more than
/// `threshold` fails (宿迁: 与上年度重复率 > 50 %).
pub fn not_copied(now: Previous<'_>, previous: Option<Previous<'_>>, threshold: f64) -> Indicator {
    let id = Id::NotCopied;
    let report = now.report;
    let Some(previous) = previous else {
        return Indicator::not_assessable(id, "没有上一年度的报告", vec![]);
    };
    if let (Some(p), Some(c)) = (previous.report.year, report.year) {
        if c != p + 1 {
            return Indicator::not_assessable(
                id,
                format!("两份报告不是相邻年度（{p}、{c}）"),
                vec![],
            );
        }
    }
    let (Some(now), Some(before)) = (shingles_of(&now), shingles_of(&previous)) else {
        return Indicator::not_assessable(id, "一份报告中未找到总体情况等文字部分", vec![]);
    };
    let sim = now.similarity(&before);
    let evidence = vec![share_evidence(&sim, previous.report)];
    if sim.shingles < MIN_SHINGLES {
        return Indicator::not_assessable(id, "文字部分太短，重复率无意义", evidence);
    }
    let pct = sim.share * 100.0;
    if sim.share > threshold {
        Indicator::fail(
            id,
            Fault::Publisher,
            format!(
                "文字部分 {pct:.0}% 与上一年度相同（阈值 {:.0}%）",
                threshold * 100.0
            ),
            evidence,
        )
    } else {
        Indicator::pass(id, format!("文字部分 {pct:.0}% 与上一年度相同"), evidence)
    }
}

/// Not 雷同 with another body's report of the same year: the share of this narrative found
/// in the narrative of the report the store's search found ([`Others`]); more than
/// `threshold` fails. Each of two such reports fails on its own share, whoever copied whom:
/// the schemes that count it (泉州鲤城: 与其他单位雷同) charge the likeness, not the
/// direction.
pub fn not_copied_from_others(now: Previous<'_>, others: Others<'_>, threshold: f64) -> Indicator {
    let id = Id::NotCopiedFromOthers;
    let Some(now) = shingles_of(&now) else {
        return Indicator::not_assessable(id, "未找到总体情况等文字部分", vec![]);
    };
    if now.len() < text::SIMHASH_MIN_SHINGLES {
        return Indicator::not_assessable(id, "文字部分太短，雷同无意义", vec![]);
    }
    let other = match others {
        Others::NotSearched => {
            return Indicator::not_assessable(
                id,
                "未与库中同年度其他单位的报告比较（单独评分）",
                vec![],
            )
        }
        Others::NoneFound => {
            return Indicator::pass(id, "库中同年度其他单位的报告未见与本报告雷同的文字", vec![])
        }
        Others::Found(other) => other,
    };
    let Some(theirs) = shingles_of(&other) else {
        return Indicator::not_assessable(id, "另一份报告中未找到文字部分", vec![]);
    };
    let sim = now.similarity(&theirs);
    let evidence = vec![share_evidence(&sim, other.report)];
    let pct = sim.share * 100.0;
    let whose = if other.report.agency.is_empty() {
        "另一单位".to_owned()
    } else {
        other.report.agency.clone()
    };
    if sim.share > threshold {
        Indicator::fail(
            id,
            Fault::Publisher,
            format!(
                "文字部分 {pct:.0}% 与{whose}同年度的报告相同（阈值 {:.0}%）",
                threshold * 100.0
            ),
            evidence,
        )
    } else {
        Indicator::pass(
            id,
            format!("与最相近的{whose}同年度报告 {pct:.0}% 相同"),
            evidence,
        )
    }
}
