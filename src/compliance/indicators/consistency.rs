//! The report against itself: the agency and year it states in several places, and the
//! narrative's claims against its tables. PURE.
//!
//! Both read the text folded to simplified characters ([`crate::decode::fold::to_simplified`],
//! which keeps every offset, so a span of the folded text is the same span of the text), the
//! way the parser reads it. Both are conservative: only statements whose meaning is fixed
//! (a title, a statistics period, a sentence naming the report's author, a claim that every
//! application was concluded) are compared, and a pair the words do not decide is left out.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

use super::super::text::Outline;
use super::{doubted, is, text_evidence};
use crate::compliance::{Evidence, Fault, Indicator, IndicatorId as Id};
use crate::model::catalogue;
use crate::model::finding::Code;
use crate::model::form::{APPLICANT_COLUMNS, FORWARD, T3_TOTAL_COLUMN};
use crate::parse::meta;
use crate::pb::Report;

/// The head of a document (in bytes) where the sentences naming the report's author are
/// looked for: the preface and the start of section 一 (as [`meta`] reads the agency).
const HEAD_BYTES: usize = 8000;

/// Words of a title line that make it the title of another document (a notice on
/// compiling the reports, an interpretation) or a link to another report (上一篇).
const NOT_THIS_REPORT: [&str; 12] = [
    "关于",
    "通知",
    "解读",
    "会议",
    "指南",
    "目录",
    "培训",
    "图解",
    "上一篇",
    "下一篇",
    "上一条",
    "下一条",
];

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("static pattern"))
}

// ---------------------------------------------------------------------------------------
// Agency and year
// ---------------------------------------------------------------------------------------

/// A year or a body the document states, where, and what the statement is.
struct Stated<T> {
    value: T,
    what: &'static str,
    evidence: Evidence,
}

/// The agency and the year agree across the document.
///
/// Years compared: every title line's year ([`meta::titles`]; lines of notices and links
/// to other reports left out), the statistics period (统计期限自2021年1月1日起至2021年12月31日止,
/// each year printed in it), and the year of a sentence that names the report itself
/// (现向社会公布潞城镇2020年度…年度报告). The title's year is the reference; where no title
/// states one, the report's year. Section 一's opening year is not read: it may rightly
/// name last year (海关总署 2020 opens 2019年，…海关总署被评为优秀单位。2020年，…).
///
/// Bodies compared: the body a title names against the bodies the text names as the
/// report's author (本报告由X编制, 现向社会公布X2021年…报告, 现将X2021年…). Two names agree
/// when one contains the other once the office (办公室, 办公厅) and the organ's word
/// (人民政府, 政府, 办事处, 管委会) are taken off; they disagree only when both end in a
/// division of the same kind (乡, 镇, 街道, 县, 区, 市, 旗) and that division's name differs
/// (松木塘镇 against 灰山港镇). A department's abbreviation (市科委, 国资委) or a rename is
/// not decided by the words, and is not counted either way. The site's metadata (发布机构,
/// 来源) is the website's, not the document's, and is not compared.
///
/// FAIL (the publisher's; the reader's when the text was read by OCR, whose digits may be
/// misread) on any disagreement; PASS when at least one pair was compared and all agree;
/// NOT_ASSESSABLE when the document states each at most once.
pub fn agency_year_consistent(report: &Report, text: &str) -> Indicator {
    let id = Id::AgencyYearConsistent;
    let folded = crate::decode::fold::to_simplified(text);
    let folded: &str = &folded;
    let titles: Vec<String> = meta::titles(folded)
        .into_iter()
        .filter(|t| !NOT_THIS_REPORT.iter().any(|w| t.contains(w)))
        .collect();

    // Years.
    let title_years: Vec<Stated<i32>> = titles
        .iter()
        .filter_map(|t| {
            let y = meta::year("", std::slice::from_ref(t))?;
            Some(Stated {
                value: y,
                what: "标题",
                evidence: note(format!("标题：{}", t.replace('\n', " "))),
            })
        })
        .collect();
    let named = self_named(text, folded);
    let mut years: Vec<Stated<i32>> = period_years(text, folded);
    years.extend(named.iter().filter_map(|s| {
        Some(Stated {
            value: s.year?,
            what: "正文自称的报告年度",
            evidence: s.evidence.clone(),
        })
    }));
    let reference = title_years.first().map(|s| s.value).or(report.year);
    let mut faults = Vec::new();
    let mut evidence = Vec::new();
    let mut compared = 0usize;
    let distinct_titles: Vec<i32> = {
        let mut v: Vec<i32> = title_years.iter().map(|s| s.value).collect();
        v.dedup();
        v
    };
    if title_years.len() > 1 {
        compared += 1;
        if distinct_titles.len() > 1 {
            faults.push(format!(
                "标题所载年度不一：{}",
                distinct_titles
                    .iter()
                    .map(|y| y.to_string())
                    .collect::<Vec<_>>()
                    .join("、")
            ));
        }
    }
    evidence.extend(title_years.iter().map(|s| s.evidence.clone()));
    if let Some(reference) = reference {
        for s in &years {
            // Without a title, the report's year may come from this very statement.
            if title_years.is_empty() && years.len() < 2 {
                break;
            }
            compared += 1;
            evidence.push(s.evidence.clone());
            if s.value != reference {
                faults.push(format!(
                    "{}为 {} 年，{}为 {reference} 年",
                    s.what,
                    s.value,
                    if title_years.is_empty() {
                        "报告年度"
                    } else {
                        "标题"
                    }
                ));
            }
        }
    }

    // Agency.
    let title_name = titles
        .iter()
        .find_map(|t| meta::agency("", std::slice::from_ref(t)));
    if let Some(name) = &title_name {
        for s in named {
            match names_agree(name, &s.value) {
                Some(true) => {
                    compared += 1;
                    evidence.push(s.evidence);
                }
                Some(false) => {
                    compared += 1;
                    faults.push(format!("标题为「{name}」，{}为「{}」", s.what, s.value));
                    evidence.push(s.evidence);
                }
                None => evidence.push(note(format!(
                    "{}「{}」与标题「{name}」的异同无法从字面判定，未计入",
                    s.what, s.value
                ))),
            }
        }
    }

    if !faults.is_empty() {
        let fault = if report.findings.iter().any(|f| is(f, Code::OcrUnconfirmed)) {
            Fault::Reader
        } else {
            Fault::Publisher
        };
        return Indicator::fail(id, fault, faults.join("；"), evidence);
    }
    if compared == 0 {
        return Indicator::not_assessable(
            id,
            "正文中机关名称和年度各至多载明一处，无从比对",
            evidence,
        );
    }
    Indicator::pass(
        id,
        format!("{compared} 处所载机关名称或年度前后一致"),
        evidence,
    )
}

fn note(s: String) -> Evidence {
    Evidence::Note { text: s }
}

/// The years of the statistics period (统计期限自2021年1月1日起至2021年12月31日止, 统计时限
/// 为2024年1月1日至12月31日, 自 2023 年 1 月 1 日⏎起至 2023 年 12 月 31 日止): its first year,
/// and its last when printed.
fn period_years(text: &str, folded: &str) -> Vec<Stated<i32>> {
    static PERIOD: OnceLock<Regex> = OnceLock::new();
    let period = re(
        &PERIOD,
        r"(?:统计|数据)[^。\n]{0,16}?((?:19|20)\d\d)\s*年\s*0?1\s*月\s*0?1\s*日\s*(?:起|始)?\s*[,，]?\s*(?:至|到|—|-|~|－)\s*(?:((?:19|20)\d\d)\s*年\s*)?12\s*月\s*31\s*日",
    );
    let mut out = Vec::new();
    for c in period.captures_iter(folded) {
        let m = c.get(0).expect("whole match");
        let first = c.get(1).map(|g| g.as_str());
        let last = c.get(2).map(|g| g.as_str()).filter(|l| Some(*l) != first);
        for y in [first, last].into_iter().flatten() {
            if let Ok(y) = y.parse() {
                out.push(Stated {
                    value: y,
                    what: "统计期限",
                    evidence: text_evidence(text, m.start(), m.end()),
                });
            }
        }
    }
    out
}

/// A body the text names as the report's author, and the year it names with it.
struct Named {
    value: String,
    year: Option<i32>,
    what: &'static str,
    evidence: Evidence,
}

/// The bodies the text names as the report's author, in sentences about the report itself
/// (现向社会公布潞城镇2020年度…报告), with the year the sentence gives the report.
fn self_named(text: &str, folded: &str) -> Vec<Named> {
    static SELF: OnceLock<Regex> = OnceLock::new();
    let pattern = re(
        &SELF,
        r"(?:现向社会公布|向社会公布|向社会公开|现公布|现予公布|现将)\s*(?:((?:19|20)\d\d)\s*年度?\s*(\p{Han}{2,30}?)\s*(?:政府信息公开|信息公开|政务公开)|(\p{Han}{2,30}?)\s*((?:19|20)\d\d)\s*年)|本报告由\s*(\p{Han}{2,30}?)\s*(?:根据|依据|按照|负责|编制)",
    );
    let head = prefix(folded, HEAD_BYTES);
    let mut out = Vec::new();
    for c in pattern.captures_iter(head) {
        let Some(g) = c.get(2).or_else(|| c.get(3)).or_else(|| c.get(5)) else {
            continue;
        };
        let year = c
            .get(1)
            .or_else(|| c.get(4))
            .and_then(|y| y.as_str().parse().ok());
        let name = g.as_str();
        if !looks_like_a_body(name) {
            continue;
        }
        let m = c.get(0).expect("whole match");
        out.push(Named {
            value: text[g.start()..g.end()].to_owned(),
            year,
            what: "正文自称",
            evidence: text_evidence(text, m.start(), m.end()),
        });
    }
    out
}

fn prefix(text: &str, bytes: usize) -> &str {
    let mut end = bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Endings of a body's name as a sentence names it.
const BODY_ENDINGS: [&str; 20] = [
    "人民政府",
    "政府",
    "办公室",
    "办公厅",
    "办事处",
    "街道",
    "管委会",
    "委员会",
    "委",
    "局",
    "厅",
    "署",
    "部",
    "中心",
    "乡",
    "镇",
    "县",
    "区",
    "市",
    "旗",
];

/// Characters that start a phrase, not a name (我局, 本机关, 全县).
const NOT_A_NAME_START: [char; 6] = ['我', '本', '全', '各', '该', '此'];

fn looks_like_a_body(name: &str) -> bool {
    !name.starts_with(NOT_A_NAME_START)
        && BODY_ENDINGS.iter().any(|e| name.ends_with(e))
        && stem(name).chars().count() >= 2
}

/// The organ's words taken off a name before names are compared: the office that compiles
/// the report for its government, and the word for the government or office itself.
const OFFICE_ENDINGS: [&str; 6] = [
    "人民政府办公室",
    "人民政府办公厅",
    "政府办公室",
    "政府办公厅",
    "办公室",
    "办公厅",
];
const ORGAN_ENDINGS: [&str; 5] = ["人民政府", "政府", "办事处", "管理委员会", "管委会"];

/// The place a name stands for, without its organ's words.
fn stem(name: &str) -> String {
    let mut s: String = name.chars().filter(|c| !c.is_whitespace()).collect();
    for set in [&OFFICE_ENDINGS[..], &ORGAN_ENDINGS[..]] {
        if let Some(e) = set.iter().find(|e| s.ends_with(*e)) {
            s.truncate(s.len() - e.len());
        }
    }
    s
}

/// Endings of an administrative division, for the last division a name ends in.
const DIVISION_ENDINGS: [&str; 7] = ["街道", "乡", "镇", "县", "区", "市", "旗"];

/// The last division of a place (沿江街道 of 泰州市高港区沿江街道) and its ending, when the
/// place ends in one.
fn last_division(place: &str) -> Option<(&str, &'static str)> {
    let ending = DIVISION_ENDINGS.iter().find(|e| place.ends_with(*e))?;
    let head = &place[..place.len() - ending.len()];
    // The division's name starts after the previous division's ending.
    let start = head
        .char_indices()
        .filter(|(_, c)| "省市区县旗乡镇州盟".contains(*c))
        .map(|(i, c)| i + c.len_utf8())
        .next_back()
        .unwrap_or(0);
    Some((&place[start..], ending))
}

/// Whether two names of the reporting body agree: `Some(true)` when one contains the
/// other (organ's words off), `Some(false)` when both end in a division of the same kind
/// with different names, `None` when the words do not decide.
fn names_agree(a: &str, b: &str) -> Option<bool> {
    let (sa, sb) = (stem(a), stem(b));
    if sa.is_empty() || sb.is_empty() {
        return None;
    }
    if sa.contains(&sb) || sb.contains(&sa) {
        return Some(true);
    }
    match (last_division(&sa), last_division(&sb)) {
        (Some((da, ea)), Some((db, eb))) if ea == eb && da != db => Some(false),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// The narrative against the tables
// ---------------------------------------------------------------------------------------

/// Words that claim every application was concluded.
const ALL_CONCLUDED: [&str; 16] = [
    "全部办结",
    "均已办结",
    "均办结",
    "均已按时办结",
    "全部按时办结",
    "已全部答复",
    "全部予以答复",
    "均已答复",
    "均已予以答复",
    "全部办理完毕",
    "均已办理完毕",
    "办结率100%",
    "办结率为100%",
    "办结率达100%",
    "办结率达到100%",
    "全部依法答复",
];

/// A sentence with one of these is about something else than this year's applications
/// (last year's carried-over ones, reviews and lawsuits, petitions, proposals, hotline
/// messages), or denies the claim.
const NOT_THIS_CLAIM: [&str; 14] = [
    "结转",
    "上年",
    "去年",
    "复议",
    "诉讼",
    "提案",
    "建议",
    "信访",
    "投诉",
    "热线",
    "留言",
    "未全部",
    "尚未",
    "12345",
];

/// A rate of those concluded in time (按时办结率100%): no claim that all were concluded.
const ON_TIME_RATE: &str = "按时办结率";

/// What ends a sentence.
const SENTENCE_ENDS: [char; 6] = ['。', '；', ';', '\n', '！', '!'];

/// The narrative does not say every application was concluded while table 三 carries
/// applications forward (结转下年度继续办理 total above 0).
///
/// Read: the text before section 二's heading (the preface and section 一), sentence by
/// sentence; a claim counts in a sentence about applications (申请) that is not about last
/// year's carried-over ones, reviews, lawsuits, petitions or proposals, and does not deny
/// it ([`NOT_THIS_CLAIM`]). PASS when nothing is carried forward (every claim is then true)
/// or no sentence claims it; FAIL (the publisher's; the reader's when table 三 was read
/// with doubts, [`doubted`]) with the sentence and the cell; NOT_ASSESSABLE when the cell
/// was not read, or something is carried forward and section 一 is not found.
pub fn no_contradiction(report: &Report, text: &str, outline: &Outline) -> Indicator {
    let id = Id::NoContradiction;
    let path = format!("{FORWARD}.{}", APPLICANT_COLUMNS[T3_TOTAL_COLUMN]);
    let forward = catalogue::index_of(&path).and_then(|i| catalogue::get(report, i));
    let cell = Evidence::Cell {
        path: path.clone(),
        value: forward,
        other: None,
    };
    let Some(forward) = forward else {
        return Indicator::not_assessable(id, "未读出表三的结转下年度继续办理总计", vec![]);
    };
    if forward <= 0.0 {
        return Indicator::pass(id, "表三无结转下年度的申请，文字无从矛盾", vec![cell]);
    }
    let folded = crate::decode::fold::to_simplified(text);
    // A text with nothing to fold has the caller's outline.
    let refolded;
    let outline = match &folded {
        Cow::Borrowed(_) => outline,
        Cow::Owned(f) => {
            refolded = Outline::of(f);
            &refolded
        }
    };
    let folded: &str = &folded;
    if outline.first(1).is_none() {
        return Indicator::not_assessable(id, "未找到「一、总体情况」", vec![cell]);
    }
    let end = outline
        .headings
        .iter()
        .find(|h| h.section >= 2)
        .map_or(folded.len(), |h| h.start);
    let mut claims: Vec<Evidence> = claimed(&folded[..end])
        .map(|(a, b)| text_evidence(text, a, b))
        .collect();
    if claims.is_empty() {
        return Indicator::pass(
            id,
            format!("表三结转下年度 {forward} 件，文字未称全部办结"),
            vec![cell],
        );
    }
    let fault = if doubted(report, &path) {
        Fault::Reader
    } else {
        Fault::Publisher
    };
    claims.push(cell);
    Indicator::fail(
        id,
        fault,
        format!("文字称申请已全部办结，表三却有 {forward} 件结转下年度继续办理"),
        claims,
    )
}

/// Whether a sentence claims every application was concluded: a word of
/// [`ALL_CONCLUDED`] once [`ON_TIME_RATE`] is taken out, 申请, and none of
/// [`NOT_THIS_CLAIM`].
fn is_claim(sentence: &str) -> bool {
    // 按时办结率100% says those concluded were on time, not that all were.
    let sentence = sentence.replace(ON_TIME_RATE, "");
    ALL_CONCLUDED.iter().any(|w| sentence.contains(w))
        && sentence.contains("申请")
        && !NOT_THIS_CLAIM.iter().any(|w| sentence.contains(w))
}

/// Words one of which every word of [`ALL_CONCLUDED`] and [`ON_TIME_RATE`] holds.
const CLAIM_CORES: [&str; 3] = ["办结", "答复", "办理完毕"];

/// The sentences of `section` (split after each of [`SENTENCE_ENDS`]) that are claims
/// ([`is_claim`]), as byte spans in order. Only the sentences around a word of
/// [`CLAIM_CORES`], each found by a vectorised search, are looked at: a claim holds a word
/// of [`ALL_CONCLUDED`], or held [`ON_TIME_RATE`] before it was taken out, so it holds a
/// core; and no core spans two sentences.
fn claimed(section: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut cores: Vec<(usize, usize)> = CLAIM_CORES
        .iter()
        .flat_map(|w| {
            memchr::memmem::find_iter(section.as_bytes(), w.as_bytes()).map(|at| (at, at + w.len()))
        })
        .collect();
    cores.sort_unstable();
    let mut last = None;
    cores.into_iter().filter_map(move |(start, end)| {
        let a = section[..start]
            .char_indices()
            .rev()
            .find(|(_, c)| SENTENCE_ENDS.contains(c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        if last == Some(a) {
            return None;
        }
        last = Some(a);
        let b = section[end..]
            .char_indices()
            .find(|(_, c)| SENTENCE_ENDS.contains(c))
            .map_or(section.len(), |(i, c)| end + i + c.len_utf8());
        is_claim(&section[a..b]).then_some((a, b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_claim_word_holds_a_core() {
        for w in ALL_CONCLUDED.iter().chain([&ON_TIME_RATE]) {
            assert!(CLAIM_CORES.iter().any(|c| w.contains(c)), "{w}");
        }
    }

    proptest::proptest! {
        /// The sentences found around the anchor words are exactly the claims among all
        /// the sentences.
        #[test]
        fn claims_found_around_their_words_are_every_claim(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "全部办结", "均已办结", "办结率100%", "按时办结率", "按时办结率100%", "答复",
                    "均已予以答复", "办理完毕", "全部办理", "完毕",
                    "申请", "结转", "办", "结", "全部", "依法答复", "本年度", "。", "；",
                    ";", "\n", "！", "!", "，", "政府信息公开", "尚未",
                ]),
                0..60,
            )
        ) {
            let section: String = pieces.concat();
            let mut slow = Vec::new();
            let mut start = 0;
            for piece in section.split_inclusive(SENTENCE_ENDS) {
                let (a, b) = (start, start + piece.len());
                start = b;
                if is_claim(piece) {
                    slow.push((a, b));
                }
            }
            let fast: Vec<(usize, usize)> = claimed(&section).collect();
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    #[test]
    fn names_agree_by_their_divisions() {
        for (a, b, want) in [
            ("洪泽区人民政府", "淮安市洪泽区人民政府办公室", Some(true)),
            ("桂花坪街道", "桂花坪街道办事处", Some(true)),
            ("沟赵办事处", "郑州高新区沟赵办事处", Some(true)),
            (
                "后山苗族布依族乡",
                "遵义市仁怀市后山苗族布依族乡",
                Some(true),
            ),
            (
                "桃江县松木塘镇人民政府",
                "桃江县灰山港镇人民政府",
                Some(false),
            ),
            (
                "沿江街道",
                "泰州市高港区人民政府永安洲街道办事处",
                Some(false),
            ),
            ("上海市科委", "上海市科学技术委员会", None),
            ("沐阳县人民政府", "沭阳县人民政府", Some(false)),
        ] {
            assert_eq!(names_agree(a, b), want, "{a} / {b}");
        }
    }
}
