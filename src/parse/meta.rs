//! Metadata and narrative figures: the agency, the year, the region path, the section 一
//! totals and the section 六 fee figures. PURE.
//!
//! A narrative figure is read only when the text states one exact figure: `5500余条`,
//! `约`, `近`, `超过`, `万条` are not exact, and two different stated figures cancel out.

use std::sync::OnceLock;

use regex::Regex;

use crate::model::rules;
use crate::parse::labels;

/// The head of a document (in bytes) where its titles, year and agency are looked for.
const HEAD_BYTES: usize = 8000;
/// The first lines of the head (non-empty) that may hold a title.
const TITLE_SEARCH_LINES: usize = 40;
/// The longest line (in characters) read as a title.
const MAX_TITLE_CHARS: usize = 80;
/// The longest line (in characters) read as a body's name standing above or before a title.
const MAX_NAME_LINE_CHARS: usize = 40;
/// The shortest and longest body name (in characters).
const MIN_NAME_CHARS: usize = 2;
const MAX_NAME_CHARS: usize = 40;
/// The shortest and longest place stem of a street or township named in the narrative
/// (左家庄 of 左家庄街道), in characters.
const MIN_STEM_CHARS: usize = 2;
const MAX_STEM_CHARS: usize = 6;
/// How often the narrative must name a body before it is taken as the author: once may be
/// a phrase of a sentence.
const MIN_MENTIONS: usize = 2;
/// The characters before a figure that may say it is a category of a breakdown (其他…).
const CATEGORY_CHARS: usize = 3;
/// The characters before a figure that may hedge it (约, 超过, 大约).
const HEDGE_CHARS: usize = 4;
/// Yuan in one 万元.
const YUAN_PER_WAN: f64 = 10_000.0;

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("static pattern"))
}

/// The report year, from the strongest evidence the text gives: the title line, then the
/// statistics period, then the year that opens a paragraph of section 一 (`2022年,…`), then a
/// title quoted in the narrative (which may name last year's report, so it comes last).
pub fn year(text: &str, titles: &[String]) -> Option<i32> {
    static TITLE: OnceLock<Regex> = OnceLock::new();
    static PERIOD: OnceLock<Regex> = OnceLock::new();
    static OPENING: OnceLock<Regex> = OnceLock::new();
    let head = prefix(text, HEAD_BYTES);
    let title = re(
        &TITLE,
        r"((?:19|20)\d\d)\s*年\s*度?\s*[^\n。,，]{0,24}?信息公开(?:工作)?\s*(?:年度)?\s*(?:工作)?\s*(?:报告|年报|年度报)",
    );
    if let Some(y) = titles
        .iter()
        .find_map(|t| title.captures(t).and_then(|c| c[1].parse().ok()))
    {
        return Some(y);
    }
    let period = re(
        &PERIOD,
        r"((?:19|20)\d\d)\s*年\s*0?1\s*月\s*0?1\s*日\s*(?:起)?\s*(?:至|到|—|-|~)",
    );
    if let Some(y) = period.captures(head).and_then(|c| c[1].parse().ok()) {
        return Some(y);
    }
    let opening = re(
        &OPENING,
        r"(?m)(?:^|[。:：])\s*(?:\(?[一二三]\)?[、.]?\s*)?((?:19|20)\d\d)\s*年度?\s*(?:[,，]|以来|全年|我|本)",
    );
    let overview = head.find("总体情况").map_or(head, |i| &head[i..]);
    if let Some(y) = opening.captures(overview).and_then(|c| c[1].parse().ok()) {
        return Some(y);
    }
    title.captures(head).and_then(|c| c[1].parse().ok())
}

/// True when a title line names a yearly disclosure report itself, not a document about
/// one (a notice on compiling them, an interpretation, a meeting, a guide or catalogue).
pub fn has_report_title(titles: &[String]) -> bool {
    const ABOUT: &[&str] = &[
        "解读", "通知", "关于", "会议", "部署", "指南", "目录", "培训", "图解", "决算", "预算",
    ];
    titles.iter().any(|t| {
        let line = t.rsplit('\n').next().unwrap_or(t);
        !ABOUT.iter().any(|w| line.contains(w))
    })
}

/// Lines that look like a report's title (computed once per document), with a title broken over two lines joined
/// (`北京市通州区张家湾镇人民政府2021年` / `政府信息公开工作年度报告`). Whitespace is removed.
pub fn titles(text: &str) -> Vec<String> {
    let head = prefix(text, HEAD_BYTES);
    // A title is short: a longer line is never part of one, and is not copied.
    const MAX_TITLE_BYTES: usize = 320;
    let lines: Vec<Option<String>> = head
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(TITLE_SEARCH_LINES)
        .map(|l| (l.len() <= MAX_TITLE_BYTES).then(|| labels::without_whitespace(l)))
        .collect();
    let is_title = |l: &str| {
        l.contains("信息公开")
            && (l.contains("报告") || l.contains("年度报") || l.contains("年报"))
            && l.chars().count() <= MAX_TITLE_CHARS
            && !l.contains("根据")
            && !l.contains("依据")
            && !l.contains("按照")
    };
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(l) = l else { continue };
        let above = i.checked_sub(1).and_then(|k| lines[k].as_deref());
        if is_title(l) {
            // The body's name may stand on the line above: keep both readings.
            match above {
                Some(a) if !a.contains("信息公开") && a.chars().count() <= MAX_NAME_LINE_CHARS => {
                    out.push(format!("{a}\n{l}"))
                }
                _ => out.push(l.clone()),
            }
        } else if let Some(Some(next)) = lines.get(i + 1) {
            if l.chars().count() <= MAX_NAME_LINE_CHARS
                && !l.contains("信息公开")
                && next.starts_with(['政', '信', '工', '年'])
            {
                let joined = format!("{l}{next}");
                if is_title(&joined) {
                    out.push(joined);
                }
            }
        }
    }
    out
}

fn prefix(text: &str, bytes: usize) -> &str {
    if text.len() <= bytes {
        return text;
    }
    let mut end = bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Suffixes that end the name of a reporting body.
const BODY_SUFFIXES: &[&str] = &[
    "人民政府办公厅",
    "人民政府办公室",
    "人民政府",
    "街道办事处",
    "地区办事处",
    "办事处",
    "委员会",
    "管理委员会",
    "管委会",
    "办公厅",
    "办公室",
    "总署",
    "局",
    "厅",
    "委",
    "署",
    "院",
    "中心",
    "街道",
    "乡",
    "镇",
    "政府",
    "部",
    "会",
    "处",
    "所",
    "队",
    "站",
    "馆",
    "场",
    "社",
    "苏木",
    // Tianjin's street offices: 佳荣里街.
    "街",
];

/// Place names that stand for their government in a title (`三亚市2024年…报告`).
const PLACE_SUFFIXES: &[&str] = &["市", "县", "区", "旗", "州", "盟"];

/// A body's name: Han characters (a parenthesised part allowed, `海关总署(本级机关)`) ending
/// in a body suffix, or in a place suffix where `places` allows it.
fn looks_like_body_or_place(name: &str, places: bool) -> bool {
    let n = name.chars().count();
    if !(MIN_NAME_CHARS..=MAX_NAME_CHARS).contains(&n)
        || !name
            .chars()
            .all(|c| is_han(c) || matches!(c, '(' | ')' | '（' | '）' | '·'))
    {
        return false;
    }
    let core = match name.strip_suffix(')').or_else(|| name.strip_suffix('）')) {
        Some(inner) => inner.rfind(['(', '（']).map_or(inner, |i| &inner[..i]),
        None => name,
    };
    let starts_badly =
        core.starts_with(|c: char| FUNCTION_CHARS.contains(&c) || c == '年' || c == '度');
    // Words of a sentence, never of a name (现向社会公布北海市…).
    let sentence = ["公布", "发布", "现将", "向社会", "编制", "根据", "按照"]
        .iter()
        .any(|w| core.contains(w));
    !starts_badly
        && !sentence
        && core.chars().count() >= MIN_NAME_CHARS
        && (BODY_SUFFIXES.iter().any(|s| core.ends_with(s))
            || places && PLACE_SUFFIXES.iter().any(|s| core.ends_with(s)))
}

fn looks_like_body(name: &str) -> bool {
    looks_like_body_or_place(name, false)
}

fn is_han(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c)
}

/// Characters that start a phrase of a sentence, never a body's name (`我局`, `为街道办事处`).
const FUNCTION_CHARS: &[char] = &[
    '我', '本', '全', '在', '由', '对', '经', '为', '与', '和', '了', '即', '各', '该', '此', '的',
    '是', '及', '到', '将', '向', '从', '按', '据', '于',
];

/// The name a title line gives: `<name><year>年…信息公开…报告`, `<year>年度<name>信息公开…`, or
/// the body alone on the line above the title.
fn title_name(title: &str) -> Option<String> {
    let (above, line) = match title.split_once('\n') {
        Some((a, l)) => (Some(a), l),
        None => (None, title),
    };
    // A breadcrumb (首页 > … > 信息公开年报): only its last step can be the title.
    let line = line.rsplit(['>', '》']).next().unwrap_or(line);
    let pos = line.find("信息公开")?;
    let before = &line[..pos];
    let before = before.strip_suffix("政府").unwrap_or(before);
    let before = before.strip_suffix("工作").unwrap_or(before);
    // Breadcrumbs or field names may precede the title on its line (标题: ..., 首页 > ...).
    let start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !(is_han(*c) || c.is_ascii_digit() || matches!(c, '(' | ')' | '（' | '）')))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let before = &before[start..];
    // `<name><year>年度` or `<year>年度<name>`.
    let year_at = before.find(|c: char| c.is_ascii_digit());
    let candidates: Vec<&str> = match year_at {
        Some(i) => {
            let name = &before[..i];
            let after = before[i..].trim_start_matches(|c: char| c.is_ascii_digit());
            let after = after.trim_start_matches(['年', '度']);
            vec![name, after]
        }
        None => vec![before],
    };
    for name in candidates {
        let name = name.trim_end_matches(['年', '度']);
        if looks_like_body_or_place(name, true) {
            return Some(name.to_owned());
        }
    }
    above.filter(|a| looks_like_body(a)).map(str::to_owned)
}

/// The reporting body as printed: in the title, on the line above the title, in a
/// 发布机构 field, in a title quoted by the narrative, at the head of a sentence of section 一
/// (`2022年,句容市水利局认真贯彻…`), or the body the narrative names most.
pub fn agency(text: &str, titles: &[String]) -> Option<String> {
    agency_as_named(text, titles).map(|name| {
        // A body's disclosure office (交通运输部政府信息公开办公室, 青龙镇政府信息公开领导小组
        // 办公室) stands for the body.
        match ["政府信息公开", "政务公开", "信息公开"]
            .iter()
            .find_map(|w| name.find(w))
        {
            Some(i) if i > 0 && looks_like_body_or_place(&name[..i], true) => name[..i].to_owned(),
            _ => name,
        }
    })
}

fn agency_as_named(text: &str, titles: &[String]) -> Option<String> {
    let head = prefix(text, HEAD_BYTES);
    // Titles that state a year first: a breadcrumb (`… > 信息公开年报`) states none.
    let has_year = |t: &String| t.contains("年") && t.bytes().any(|b| b.is_ascii_digit());
    let titled = titles
        .iter()
        .filter(|t| has_year(t))
        .find_map(|t| title_name(t))
        .or_else(|| titles.iter().find_map(|t| title_name(t)));
    if let Some(name) = titled {
        return Some(name);
    }
    static PUBLISHER: OnceLock<Regex> = OnceLock::new();
    let publisher = re(
        &PUBLISHER,
        r"(?:发布机构|发文机关|来源|来源单位|发布单位)\s*[:|｜]?\s*\|?\s*([\p{Han}（）()]{2,40})",
    );
    for c in publisher.captures_iter(head) {
        let name = c[1].trim();
        if looks_like_body(name) {
            return Some(name.to_owned());
        }
    }
    static QUOTED: OnceLock<Regex> = OnceLock::new();
    let quoted = re(
        &QUOTED,
        r"《([^《》\n]{4,60}?信息公开[^《》\n]{0,20}?报告)》",
    );
    if let Some(name) = quoted.captures_iter(head).find_map(|c| title_name(&c[1])) {
        return Some(name);
    }
    // The report naming its author: 现向社会公布北海市2021年度…报告, 由交口县人民政府办公室编制,
    // 请与铁佛镇人民政府联系.
    static SELF: OnceLock<Regex> = OnceLock::new();
    let self_named = re(
        &SELF,
        r"(?:向社会公开|向社会公布|现发布|现公布|现将)\s*(\p{Han}{2,30}?)\s*(?:19|20)\d\d\s*年|由\s*(\p{Han}{2,30}?)\s*(?:负责)?编制|请(?:与|联系)\s*(\p{Han}{2,30}?)\s*(?:联系|[,，(（])",
    );
    if let Some(name) = self_named
        .captures_iter(head)
        .filter_map(|c| {
            c.iter()
                .skip(1)
                .flatten()
                .next()
                .map(|m| m.as_str().to_owned())
        })
        .find(|n| looks_like_body_or_place(n, true))
    {
        return Some(name);
    }
    static SUBJECT: OnceLock<Regex> = OnceLock::new();
    let subject = re(
        &SUBJECT,
        r"(?m)(?:^|[。;；]|(?:19|20)\d\d\s*年度?\s*[,，]?|(?:领导下|指导下|部署下)[,，])\s*(\p{Han}{2,24}?)(?:认真|坚持|深入|全面|严格|进一步|积极|按照|继续|持续|紧紧|紧扣|以习近平|高度重视|始终|不断|扎实|切实|围绕|聚焦)",
    );
    let overview = head.find("总体情况").map_or(head, |i| &head[i..]);
    if let Some(name) = subject
        .captures_iter(overview)
        .map(|c| c[1].to_owned())
        .find(|n| looks_like_body_or_place(n, true))
    {
        return Some(name);
    }
    narrative_body(text)
}

/// The body named most often in the narrative, e.g. 常营地区办事处 or 左家庄街道.
fn narrative_body(text: &str) -> Option<String> {
    static BODY: OnceLock<Regex> = OnceLock::new();
    let body = re(
        &BODY,
        r"\p{Han}{2,8}?(?:街道办事处|地区办事处|乡人民政府|镇人民政府|街道|办事处)",
    );
    let mut counts: Vec<(String, usize)> = Vec::new();
    for m in body.find_iter(text) {
        let mut name = m.as_str();
        // Strip leading function words so 《左家庄街道 and 了左家庄街道 count alike.
        while let Some(c) = name.chars().next() {
            if FUNCTION_CHARS.contains(&c) {
                name = &name[c.len_utf8()..];
            } else {
                break;
            }
        }
        let stem = name
            .trim_end_matches("办事处")
            .trim_end_matches("街道")
            .trim_end_matches("地区")
            .trim_end_matches("乡人民政府")
            .trim_end_matches("镇人民政府");
        if stem.chars().count() < MIN_STEM_CHARS || stem.chars().count() > MAX_STEM_CHARS {
            continue;
        }
        match counts.iter_mut().find(|(n, _)| n == name) {
            Some((_, k)) => *k += 1,
            None => counts.push((name.to_owned(), 1)),
        }
    }
    counts.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then(b.0.chars().count().cmp(&a.0.chars().count()))
    });
    // One mention may be a phrase of a sentence (`主管领导为街道办事处`): a body is named again.
    counts
        .into_iter()
        .next()
        .filter(|(n, k)| *k >= MIN_MENTIONS && looks_like_body(n))
        .map(|(n, _)| n)
}

/// Provincial-level names, full and as commonly printed.
pub const PROVINCES: &[&str] = &[
    "北京市",
    "天津市",
    "上海市",
    "重庆市",
    "河北省",
    "山西省",
    "辽宁省",
    "吉林省",
    "黑龙江省",
    "江苏省",
    "浙江省",
    "安徽省",
    "福建省",
    "江西省",
    "山东省",
    "河南省",
    "湖北省",
    "湖南省",
    "广东省",
    "海南省",
    "四川省",
    "贵州省",
    "云南省",
    "陕西省",
    "甘肃省",
    "青海省",
    "台湾省",
    "内蒙古自治区",
    "广西壮族自治区",
    "西藏自治区",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
    "香港特别行政区",
    "澳门特别行政区",
];
pub const MUNICIPALITIES: &[&str] = &["北京市", "天津市", "上海市", "重庆市"];

/// Section 一 totals: (proactive_published, applications_received).
///
/// The wordings read (gathered from the corpus and from published reports):
/// - published: `主动公开政府信息478条`, `共公布政府信息2599条`, `累计公开政府信息244条`,
///   `公开各类信息26365条`, `主动公开本单位工作动态、…等信息130条`, `信息主动公开170篇`,
///   `主动公开的各类政府信息数量66件`;
/// - received: `共收到政府信息公开申请70件`, `新受理…申请1681件`, `收到申请政府信息公开请求1件`,
///   `共收到7件依申请公开件`, `共收到1条要求信息公开的申请`, and `未收到…申请` or
///   `没有收到…申请` for 0.
///
/// Not a total, so never read: a category (`其中…`, `其他应主动公开…`, a topic such as
/// `政府采购项目信息2536条`, one channel of a list `网站主动公开信息22条,政务服务网23条`), a
/// figure of another year (`上年`, `去年`), a cumulative one (`历年`, `以来`), a hedged one
/// (`约`, `余`, `万`), a range. Two different totals cancel out.
pub fn overview(section_one: &str) -> (Option<i64>, Option<i64>) {
    static PROACTIVE: OnceLock<Regex> = OnceLock::new();
    static RECEIVED: OnceLock<Regex> = OnceLock::new();
    static NONE_RECEIVED: OnceLock<Regex> = OnceLock::new();
    let proactive = re(
        &PROACTIVE,
        r"(?:主动公开|主动发布|累计公开|共公开|共公布|公开各类)[^,，;；。!?！？\n]{0,20}?信息[^,，;；。!?！？\n\d]{0,8}?(?P<n>\d[\d,]*(?:\.\d+)?)\s*(?P<h>余|多|万)?\s*(?:条|篇|件)|信息主动公开(?P<n2>\d[\d,]*)\s*(?P<h2>余|多)?\s*(?:条|篇)",
    );
    let received = re(
        &RECEIVED,
        r"(?:收到|受理|新收|接收)(?P<mid>[^,，;；。!?！？\n]{0,40}?)申请[^,，;；。!?！？\n\d]{0,8}?(?P<n>\d[\d,]*)\s*(?P<h>余|多)?\s*(?:件|次|项|宗)|(?:收到|受理|接收)(?P<n2>\d[\d,]*)\s*(?P<h2>余|多)?\s*(?:件|条)(?P<mid2>[^,，;；。!?！？\n\d]{0,10}?)申请",
    );
    let none_received = re(
        &NONE_RECEIVED,
        r"(?:未|没有)(?:收到|接到|接收到|受理)(?P<mid>[^,，;；。!?！？\n\d]{0,20}?)申请",
    );
    let p = exact_unique(proactive.captures_iter(section_one).filter_map(|c| {
        let whole = c.get(0)?;
        let (figure, hedge) = match c.name("n") {
            Some(n) => (n, c.name("h")),
            None => (c.name("n2")?, c.name("h2")),
        };
        let inside = &section_one[whole.start()..figure.start()];
        if not_a_total(section_one, whole.start(), whole.end())
            || names_a_topic(inside)
            || one_of_a_list(&section_one[whole.end()..])
        {
            return None;
        }
        let qualifier = hedge.is_some() || hedged(section_one, whole.start()) || is_hedge(inside);
        Some((figure.as_str().to_owned(), qualifier))
    }));
    let stated = received.captures_iter(section_one).filter_map(|c| {
        let whole = c.get(0)?;
        let (figure, hedge, middle) = match c.name("n") {
            Some(n) => (n, c.name("h"), c.name("mid")),
            None => (c.name("n2")?, c.name("h2"), c.name("mid2")),
        };
        let middle = middle.map_or("", |m| m.as_str());
        if not_application(middle) || not_a_total(section_one, whole.start(), whole.end()) {
            return None;
        }
        let inside = &section_one[whole.start()..figure.start()];
        let qualifier = hedge.is_some() || hedged(section_one, whole.start()) || is_hedge(inside);
        Some((figure.as_str().to_owned(), qualifier))
    });
    // 未收到…申请: none received, an exact 0.
    let none = none_received.captures_iter(section_one).filter_map(|c| {
        let whole = c.get(0)?;
        let middle = c.name("mid").map_or("", |m| m.as_str());
        (!not_application(middle) && !not_a_total(section_one, whole.start(), whole.end()))
            .then(|| ("0".to_owned(), false))
    });
    let r = exact_unique(stated.chain(none));
    (p, r)
}

/// What stands between 收到 and 申请 when the application is not a disclosure request
/// (a review, a lawsuit, a query).
fn not_application(middle: &str) -> bool {
    ["复议", "诉讼", "咨询", "投诉", "举报"]
        .iter()
        .any(|w| middle.contains(w))
}

/// Words before the figure that name one topic (`公开政府采购项目信息`): that figure is a
/// category. A list ending in 等 (`工作动态、公示公告等信息`) names everything published.
fn names_a_topic(words: &str) -> bool {
    const TOPICS: &[&str] = &[
        "项目", "采购", "领域", "重点", "专项", "疫情", "财政", "预算", "决算", "招标", "政策",
        "解读", "人事", "动态", "征地", "许可",
    ];
    !words.contains('等') && TOPICS.iter().any(|w| words.contains(w))
}

/// The figure matched at `start..end` is not the year's total: a category of a breakdown
/// (`其中…`, `其他应主动公开…`), one channel of a list (`网站主动公开信息22条,政务服务网23条`),
/// a figure of another year (`上年`, `去年`) or a cumulative one (`历年`, `以来`).
fn not_a_total(text: &str, start: usize, end: usize) -> bool {
    let before = &text[..start];
    let near: String = before
        .chars()
        .rev()
        .take(CATEGORY_CHARS)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let open = before.rfind(['(', '（']);
    let close = before.rfind([')', '）']);
    let in_breakdown =
        open.is_some_and(|o| close.is_none_or(|c| c < o) && before[o..].contains("其中"));
    // The clause the figure stands in, from the last stop before it.
    let clause_start = before
        .rfind(['。', ';', '；', '\n', ',', '，'])
        .map_or(0, |i| {
            i + before[i..].chars().next().map_or(1, char::len_utf8)
        });
    let clause = &text[clause_start..end];
    let other_year = [
        "上年",
        "去年",
        "上一年",
        "前年",
        "同比",
        "历年",
        "以来",
        "迄今",
        "至今",
    ]
    .iter()
    .any(|w| clause.contains(w));
    near.contains("其他")
        || near.ends_with('应')
        || in_breakdown
        || clause.contains("其中")
        || other_year
}

/// The text after a published figure goes on listing figures of the same kind without a
/// verb (`…22条,政务服务网23条,微信公众号185条`): the figure was one channel of that list.
/// A clause that says what it counts (`依申请公开18篇`, `通过网站发布信息51条`, `包括…`)
/// is a statement of its own.
fn one_of_a_list(after: &str) -> bool {
    const OWN_STATEMENT: &[&str] = &[
        "其中", "包括", "含", "涉及", "公开", "申请", "发布", "办结", "答复", "同比", "增长",
    ];
    const MAX_ITEM_CHARS: usize = 10;
    let Some(rest) = after.strip_prefix([',', '，', '、']) else {
        return false;
    };
    let head: String = rest
        .chars()
        .take_while(|c| !c.is_ascii_digit())
        .take(MAX_ITEM_CHARS + 1)
        .collect();
    let n = head.chars().count();
    if n == 0
        || n > MAX_ITEM_CHARS
        || !head.chars().all(is_han)
        || OWN_STATEMENT.iter().any(|w| head.contains(w))
    {
        return false;
    }
    let tail = &rest[head.len()..];
    let digits = tail.len() - tail.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    digits > 0 && tail[digits..].starts_with(['条', '篇', '件'])
}

/// 约/近/超过/逾 just before a figure make it inexact.
fn hedged(text: &str, at: usize) -> bool {
    let before = &text[..at];
    let tail: String = before
        .chars()
        .rev()
        .take(HEDGE_CHARS)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    is_hedge(&tail)
}

fn is_hedge(s: &str) -> bool {
    ["约", "近", "超过", "逾", "大约", "左右"]
        .iter()
        .any(|w| s.contains(w))
}

/// One exact figure: inexact figures are ignored, two different exact ones cancel out.
fn exact_unique(found: impl Iterator<Item = (String, bool)>) -> Option<i64> {
    let mut value: Option<i64> = None;
    for (digits, inexact) in found {
        if inexact || digits.contains('.') {
            continue;
        }
        let Ok(v) = digits.replace(',', "").parse::<i64>() else {
            continue;
        };
        match value {
            None => value = Some(v),
            Some(old) if old == v => {}
            Some(_) => return None,
        }
    }
    value
}

/// Section 六 fee figures: (notices, billed 元, collected 元).
pub fn fees(section_six: &str) -> (Option<i64>, Option<f64>, Option<f64>) {
    static NOTICES: OnceLock<Regex> = OnceLock::new();
    static NOTICES2: OnceLock<Regex> = OnceLock::new();
    static BILLED: OnceLock<Regex> = OnceLock::new();
    static COLLECTED: OnceLock<Regex> = OnceLock::new();
    static NONE: OnceLock<Regex> = OnceLock::new();
    let notices = re(
        &NOTICES,
        r"(?:发出|开具|送达|出具)[^,;。\n\d]{0,8}?(\d+)\s*(?:个|份|件|次)[^,;。\n\d]{0,6}?收费通知",
    );
    let notices2 = re(
        &NOTICES2,
        r"收费通知(?:书)?[^,;。\n\d]{0,6}?(\d+)\s*(?:个|份|件|次)",
    );
    let billed = re(
        &BILLED,
        r"通知[^,;。\n\d]{0,12}?金额[^,;。\n\d]{0,6}?(\d[\d,]*(?:\.\d+)?)\s*(万元|元)",
    );
    let collected = re(
        &COLLECTED,
        r"(?:实际收取|实收|收取|收缴)([^,;。\n\d]{0,24}?)(\d[\d,]*(?:\.\d+)?)\s*(万元|元)",
    );
    let none = re(
        &NONE,
        r"(?:未|没有|无)(?:收取|产生)[^,;。\n]{0,10}?(?:信息处理费|费用)",
    );

    let n = exact_unique(
        notices
            .captures_iter(section_six)
            .chain(notices2.captures_iter(section_six))
            .map(|c| (c[1].to_owned(), false)),
    );
    let money = |digits: &str, unit: &str| -> Option<f64> {
        let v: f64 = digits.replace(',', "").parse().ok()?;
        Some(if unit == "万元" {
            v * YUAN_PER_WAN
        } else {
            v
        })
    };
    let unique_money = |values: Vec<f64>| -> Option<f64> {
        let first = *values.first()?;
        values
            .iter()
            .all(|v| rules::same(*v, first))
            .then_some(first)
    };
    let b = unique_money(
        billed
            .captures_iter(section_six)
            .filter_map(|c| money(&c[1], &c[2]))
            .collect(),
    );
    let mut collected_values: Vec<f64> = collected
        .captures_iter(section_six)
        .filter(|c| !c[1].contains("通知"))
        .filter_map(|c| money(&c[2], &c[3]))
        .collect();
    if collected_values.is_empty() && none.is_match(section_six) {
        collected_values.push(0.0);
    }
    (n, b, unique_money(collected_values))
}

#[cfg(test)]
#[allow(clippy::type_complexity)]
mod tests {
    use super::*;

    #[test]
    fn reads_years() {
        let cases: &[(&str, Option<i32>)] = &[
            (
                "北京市朝阳区人民政府2019年政府信息公开工作年度报告",
                Some(2019),
            ),
            (
                "淮安市人民政府\n2024 年政府信息公开工作年度报告",
                Some(2024),
            ),
            ("XX局2021年度政府信息公开工作年度报告", Some(2021)),
            (
                "本报告所列数据的统计期限，自 2019 年 1 月 1 日起至 12 月 31 日止。",
                Some(2019),
            ),
            ("没有年份", None),
        ];
        for (text, want) in cases {
            assert_eq!(year(text, &titles(text)), *want, "{text}");
        }
    }

    #[test]
    fn reads_agencies() {
        let cases: &[(&str, Option<&str>)] = &[
            // A title broken over two lines; a year-first title; the report naming its author.
            (
                "北京市通州区张家湾镇人民政府2021年\n政府信息公开工作年度报告\n一、总体情况",
                Some("北京市通州区张家湾镇人民政府"),
            ),
            (
                "《2020年度如东县水务局信息公开工作年度报告》已经研究同意,现予公开发布。",
                Some("如东县水务局"),
            ),
            (
                "一、总体情况\n2021年我市认真贯彻。现向社会公布北海市2021年度政府信息公开工作年度报告。",
                Some("北海市"),
            ),
            (
                "如对报告有任何疑问,请联系交口县人民政府办公室(联系电话:0358)",
                Some("交口县人民政府办公室"),
            ),
            // A phrase of a sentence is no body; a breadcrumb is no title.
            ("主管领导为街道办事处工委委员、办事处副主任。", None),
            ("首页 > 区属街道信息公开目录 > 信息公开年报", None),
            (
                "北京市朝阳区人民政府2019年政府信息公开工作年度报告\n日期:2020",
                Some("北京市朝阳区人民政府"),
            ),
            (
                "北京市朝阳区黑庄户乡人民政府\n2020年政府信息公开工作年度报告",
                Some("北京市朝阳区黑庄户乡人民政府"),
            ),
            (
                "名 称 | 淮安市人民政府2024年政府信息公开工作年度报告 |",
                Some("淮安市人民政府"),
            ),
            (
                "为方便公众了解信息，常营地区办事处在主动公开。2019 年，常营地区办事处继续",
                Some("常营地区办事处"),
            ),
            (
                "制定了《左家庄街道信息公开制度》、《左家庄街道政务公开》，我街道领导",
                Some("左家庄街道"),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(agency(text, &titles(text)).as_deref(), *want, "{text}");
        }
    }

    #[test]
    fn reads_exact_overview_figures_only() {
        let cases: &[(&str, (Option<i64>, Option<i64>))] = &[
            ("本单位 2019 年共主动公开政府信息 66 条,全文电子化率达 100%。本单位 2019 年度共收到政府信息公开申请 2 件", (Some(66), Some(2))),
            ("市政府网站主动公开各类政府信息5500余条", (None, None)),
            ("动态更新主动公开全清单目录4411条,以全清单为公开标准,在区政府网站主动公开信息26164条", (Some(26164), None)),
            ("受理公民、法人或其他组织提出的政府信息公开申请2493件。", (None, Some(2493))),
            ("共收到政府信息公开申请 3 件,接受咨询 0 人次,政府信息公开的行政复议申请 0 件。", (None, Some(3))),
            ("2022年,我委收到政府信息公开申请0宗,无信息公开类行政复议。", (None, Some(0))),
            ("本年度全区共收到70件申请,及时依法答复。", (None, Some(70))),
            ("其中:其他应主动公开政府信息1053条", (None, None)),
            ("全年通过区政府信息公开网站共公开信息314条,其中,人员招录信息公开3条", (Some(314), None)),
            ("在主动公开信息中,机构职能类信息 1 条", (None, None)),
            ("主动公开政府信息约300条", (None, None)),
            ("收到申请5件。另收到申请6件", (None, None)),
        ];
        for (text, want) in cases {
            assert_eq!(overview(text), *want, "{text}");
        }
    }

    #[test]
    fn reads_the_wordings_of_real_reports() {
        let cases: &[(&str, (Option<i64>, Option<i64>))] = &[
            // Published: the wordings the corpus and published reports use.
            ("2023年,主动公开政府信息478条。", (Some(478), None)),
            ("全年通过政府网站公开各类信息26365条。", (Some(26365), None)),
            ("2025年累计公开政府信息244条。其中,通过县政府门户网站发布159条", (Some(244), None)),
            ("我局通过门户网站主动公开本单位工作动态、公示公告、供地出让、征地信息、财政资金等信息130条。", (Some(130), None)),
            ("2021年主动公开的各类政府信息数量66件。", (Some(66), None)),
            // A total and a topic's figure: the topic is a category.
            ("我区共公布政府信息2599条。今年累计公开政府采购项目信息2536条。", (Some(2599), None)),
            // One channel of a list is not the total.
            ("2020年度我局在政府网站主动公开信息22条,政务服务网23条,微信公众号185条。", (None, None)),
            // Another year, a cumulative figure, a breakdown, a range.
            ("上年主动公开政府信息300条。", (None, None)),
            ("历年累计公开政府信息5928条", (None, None)),
            ("主动公开政府信息100-200条", (None, None)),
            ("收到申请3-5件", (None, None)),
            ("共公开信息40条,其中主动公开政府信息12条", (Some(40), None)),
            // Two different totals: neither.
            ("主动公开政府信息109条。全年主动公开政府信息110条。", (None, None)),
            // Received.
            ("2024年全市新受理政府信息公开申请1681件,其中自然人申请1565件,法人或其他组织申请116件", (None, Some(1681))),
            ("本年度收到申请政府信息公开请求1件,4月24日收到", (None, Some(1))),
            ("2021年,沟赵办事处共收到7件依申请公开件,办结6件", (None, Some(7))),
            ("2022年我街共收到1条要求信息公开的申请,申请重大事项决策信息1条", (None, Some(1))),
            ("2021年我乡未收到群众政府信息公开申请。", (None, Some(0))),
            ("本年度我局没有收到要求公开政府信息的申请。", (None, Some(0))),
            ("全年未收到政府信息公开行政复议申请。", (None, None)),
            ("共收到3件行政复议申请", (None, None)),
            ("较去年收到申请20件", (None, None)),
            ("未收到申请。另收到申请2件", (None, None)),
        ];
        for (text, want) in cases {
            assert_eq!(overview(text), *want, "{text}");
        }
    }

    #[test]
    fn reads_fee_figures() {
        let cases: &[(&str, (Option<i64>, Option<f64>, Option<f64>))] = &[
            ("本年度朝阳区发出16个收费通知,发出缴费通知金额为1653元,收取信息处理费总金额为240元。", (Some(16), Some(1653.0), Some(240.0))),
            ("全年收取政府信息公开信息处理费 3940 元。", (None, None, Some(3940.0))),
            ("本年度未收取信息处理费。", (None, None, Some(0.0))),
            ("本报告的电子版可登录网站下载查阅。", (None, None, None)),
        ];
        for (text, want) in cases {
            assert_eq!(fees(text), *want, "{text}");
        }
    }
}
