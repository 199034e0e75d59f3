//! A report's body to the administrative divisions it belongs to: province, prefecture,
//! county, township, with the statistics bureau's code. PURE: the divisions are compiled in
//! (`divisions.tsv`, see `DATA.md`); no I/O.
//!
//! The rule is never to guess: a wrong place is worse than a missing one. The body is named
//! by the agency, else by the title, the publisher, the page's header or signature, else by
//! section 一. Its deepest division name is the subject; the shallower names beside it
//! narrow its candidates (北京市朝阳区). When a name exists in several places (朝阳区,
//! 城关镇), the candidates whose ancestors the text names elsewhere win (the header, the
//! signature, then the whole text); when the text does not decide, the place is resolved
//! only as deep as all remaining candidates agree, and [`Resolution::reason`] says why.
//! A department (县交通运输局) takes the place of its government, since only the place
//! names are read; a zone resolves to a division only where it governs one (平潭综合实验区).

mod body;
mod gazetteer;

use std::collections::HashSet;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use crate::decode::fold;
use crate::pb::{CountyKind, PlaceLevel, Region};
pub use body::{body, body_key, body_named};
pub use gazetteer::Level;
use gazetteer::{Candidate, Finder, Gazetteer};

/// The bytes after the heading 总体情况 where section 一 may name the body.
const SECTION_ONE_BYTES: usize = 900;
/// The non-empty lines at the top (page header) and the bottom (signature) of a text read
/// as anchors.
const HEAD_LINES: usize = 8;
const TAIL_LINES: usize = 8;
/// The bytes of an anchor line read: a longer line is narrative after its opening words.
const MAX_ANCHOR_LINE_BYTES: usize = 120;
/// How many characters after a stem a zone's word may start (大连|长兴岛|经济技术开发区).
const ZONE_WORD_WINDOW: usize = 8;
/// How many candidate places a reason lists.
const REASON_CANDIDATES: usize = 3;

/// Words that, right after a stem, say the stem names a place's body (淮安|人民政府).
const BODY_WORDS: &[&str] = &[
    "人民政府",
    "政府",
    "管委会",
    "管理委员会",
    "国资委",
    "发展和改革",
    "发改委",
    "统计局",
    "海关",
    "税务",
    "公安",
    "市场监督",
    "交通运输",
    "生态环境",
    "自然资源",
    "住房和城乡",
    "农业农村",
    "水利局",
    "水务局",
    "卫生健康",
    "卫健委",
    "教育局",
    "财政局",
    "商务局",
    "司法局",
    "民政局",
    "审计局",
    "文化和旅游",
    "文旅",
    "应急管理",
    "医疗保障",
    "医保局",
    "人力资源",
    "退役军人",
    "林业",
    "信访局",
    "行政审批",
    "政务服务",
    "投资促进",
];
/// Words of a zone's name (开发区, 新区): a stem shortly before one names the place the zone
/// lies in (郑州|高新区, 大连|长兴岛经济技术开发区).
const ZONE_WORDS: &[&str] = &[
    "高新技术产业开发区",
    "经济技术开发区",
    "经济开发区",
    "开发区",
    "高新区",
    "新区",
    "综合实验区",
    "示范区",
    "工业园区",
    "产业园区",
    "试验区",
];
/// Lines of a page that name the publisher.
const PUBLISHER_KEYS: &[&str] = &[
    "来源",
    "发布机构",
    "发文单位",
    "发布单位",
    "发文机关",
    "信息来源",
    "发布机关",
];
/// Names that mark a national body (no place of its own).
const NATIONAL_MARKS: &[&str] = &["国务院", "国家", "中华人民共和国", "中国"];
/// Ends of a national body's name (交通运输部, 海关总署), read only when it names no place.
const NATIONAL_ENDS: &[&str] = &["部", "总署", "总局"];

/// What a place name a user typed means at `level` (a query's filter): the name itself when
/// a division of that level bears it, else the one full name whose short form it is (江苏 →
/// 江苏省, 淮安 → 淮安市, 广西 → 广西壮族自治区). `Err` holds the full names it could mean:
/// none, or several (朝阳 → 朝阳区, 朝阳县).
pub fn full_name(level: Level, given: &str) -> Result<&'static str, Vec<&'static str>> {
    use std::sync::OnceLock;
    // Per level: (a name or a stem, a full name it stands for), sorted and without repeats.
    static NAMES: OnceLock<[Vec<(&'static str, &'static str)>; 4]> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let mut by_level: [Vec<(&'static str, &'static str)>; 4] = Default::default();
        for d in &gazetteer::get().divisions {
            let list = &mut by_level[d.level() as usize];
            list.push((d.name, d.name));
            if let Some(stem) = gazetteer::stem(d) {
                list.push((stem, d.name));
            }
        }
        for list in &mut by_level {
            list.sort_unstable();
            list.dedup();
            list.shrink_to_fit();
        }
        by_level
    });
    let given = given.trim();
    let list = &names[level as usize];
    let from = list.partition_point(|&(key, _)| key < given);
    let full: Vec<&'static str> = list[from..]
        .iter()
        .take_while(|&&(key, _)| key == given)
        .map(|&(_, full)| full)
        .collect();
    if let Some(&name) = full.iter().find(|&&f| f == given) {
        return Ok(name);
    }
    match full.as_slice() {
        [] => Err(Vec::new()),
        [one] => Ok(one),
        _ => Err(full),
    }
}

/// What the resolver reads of one report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clues<'a> {
    /// The body's name as the report prints it (may be traditional).
    pub agency: &'a str,
    /// The whole text, folded to simplified characters.
    pub text: &'a str,
    /// The title lines [`crate::parse::meta::titles`] found.
    pub titles: &'a [String],
    /// The publisher the client sent.
    pub source: Option<&'a str>,
    /// The page's URL the client sent (read only as a header line).
    pub url: Option<&'a str>,
    /// The report's year: names are read as of that year.
    pub year: Option<i32>,
}

/// Where a body is, and, when it is not (or not as deep as its name goes), why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resolution {
    pub region: Region,
    /// Why the place is unresolved or resolved less deep than the body's name goes; `None`
    /// when resolved as named, or for a national body, which has no place.
    pub reason: Option<String>,
}

/// One name found in a string: where, and the divisions it may be (as of the year).
#[derive(Debug, Clone)]
struct Mention {
    name: String,
    divisions: Vec<u32>,
}

impl Mention {
    fn deepest(&self, gz: &Gazetteer) -> Level {
        self.divisions
            .iter()
            .map(|&i| gz.divisions[i as usize].level())
            .max()
            .unwrap_or(Level::Province)
    }
}

/// Resolves a report's body to the divisions; see the module doc for the rules.
pub fn resolve(clues: &Clues) -> Resolution {
    let gz = gazetteer::get();
    let agency = fold::name_to_simplified(clues.agency);
    let year = clues.year;

    let mut subject = mentions(gz, &gz.all, &agency, false);
    if subject.is_empty() && is_national(&agency) {
        return Resolution::default();
    }
    let anchors = anchor_text(clues);
    if subject.is_empty() {
        subject = clues
            .titles
            .iter()
            .map(|t| mentions(gz, &gz.all, &fold::name_to_simplified(t), true))
            .find(|m| !m.is_empty())
            .unwrap_or_default();
    }
    if subject.is_empty() {
        subject = anchors
            .lines()
            .map(|l| mentions(gz, &gz.all, l, true))
            .find(|m| !m.is_empty())
            .unwrap_or_default();
    }
    if subject.is_empty() {
        subject = section_one_body(gz, clues.text);
    }
    if subject.is_empty() {
        return Resolution {
            region: Region::default(),
            reason: Some(
                "文中未写明机关所在地：机关名称、标题、发布机构、页眉、落款和总体情况中都没有可查的地名"
                    .to_owned(),
            ),
        };
    }

    let (named, mut candidates) = narrow(gz, &subject);
    if distinct_codes(gz, &candidates) > 1 {
        let anchor_codes = codes(gz, &mentions(gz, &gz.all, &anchors, false));
        candidates = best_supported(gz, candidates, &anchor_codes);
    }
    if distinct_codes(gz, &candidates) > 1 {
        let text_codes = codes(gz, &mentions(gz, &gz.upper, clues.text, false));
        candidates = best_supported(gz, candidates, &text_codes);
    }
    // Names of other years (a town merged away, a 县 renamed 区) give way to the year's.
    if distinct_codes(gz, &candidates) > 1 {
        let valid: Vec<u32> = candidates
            .iter()
            .copied()
            .filter(|&c| gz.divisions[c as usize].valid_in(year))
            .collect();
        if !valid.is_empty() {
            candidates = valid;
        }
    }
    let named_level = named.deepest(gz);
    let (region, level) = common_region(gz, &candidates, year);
    let reason = (level < Some(named_level)).then(|| ambiguity(gz, &named.name, &candidates, year));
    Resolution { region, reason }
}

/// The subject: the deepest name of the string that every shallower name beside it agrees
/// with, its candidates narrowed to those inside the shallower names. A name the others
/// contradict is dropped (a false hit, or a division the text misnames).
fn narrow(gz: &Gazetteer, subject: &[Mention]) -> (Mention, Vec<u32>) {
    let mut order: Vec<&Mention> = subject.iter().collect();
    order.sort_by_key(|m| std::cmp::Reverse(m.deepest(gz)));
    for (k, m) in order.iter().enumerate() {
        let mut cands = m.divisions.clone();
        let mut consistent = true;
        for other in &order[k + 1..] {
            if other.deepest(gz) >= m.deepest(gz) {
                continue;
            }
            let inside: Vec<u32> = cands
                .iter()
                .copied()
                .filter(|&c| {
                    other
                        .divisions
                        .iter()
                        .any(|&a| gz.divisions[c as usize].within(&gz.divisions[a as usize]))
                })
                .collect();
            if inside.is_empty() {
                consistent = false;
                break;
            }
            cands = inside;
        }
        if consistent {
            return ((*m).clone(), cands);
        }
    }
    let last = order[order.len() - 1];
    (last.clone(), last.divisions.clone())
}

/// The candidates with the most ancestors in `named` (the codes the text names), when any
/// has one; all of them otherwise.
fn best_supported(gz: &Gazetteer, candidates: Vec<u32>, named: &HashSet<&str>) -> Vec<u32> {
    let score = |c: u32| {
        let code = gz.divisions[c as usize].code;
        [2, 4, 6]
            .iter()
            .filter(|&&n| n < code.len() && named.contains(&code[..n]))
            .count()
    };
    let best = candidates.iter().map(|&c| score(c)).max().unwrap_or(0);
    if best == 0 {
        return candidates;
    }
    candidates
        .into_iter()
        .filter(|&c| score(c) == best)
        .collect()
}

/// The codes the mentions name, with the ancestors of a mention that names one place only
/// (泰州市 names 江苏省 too; 朝阳区 names neither 北京市 nor 吉林省).
fn codes<'g>(gz: &'g Gazetteer, mentions: &[Mention]) -> HashSet<&'g str> {
    let mut out = HashSet::new();
    for m in mentions {
        let mut own: Vec<&str> = m
            .divisions
            .iter()
            .map(|&i| gz.divisions[i as usize].code)
            .collect();
        own.sort_unstable();
        own.dedup();
        if let [one] = own[..] {
            for n in [2, 4, 6] {
                if n < one.len() {
                    out.insert(&one[..n]);
                }
            }
        }
        out.extend(own);
    }
    out
}

fn distinct_codes(gz: &Gazetteer, candidates: &[u32]) -> usize {
    let set: HashSet<&str> = candidates
        .iter()
        .map(|&i| gz.divisions[i as usize].code)
        .collect();
    set.len()
}

/// The deepest division all candidates lie in (or are), as a Region, and its level.
fn common_region(gz: &Gazetteer, candidates: &[u32], year: Option<i32>) -> (Region, Option<Level>) {
    let codes: Vec<&str> = candidates
        .iter()
        .map(|&i| gz.divisions[i as usize].code)
        .collect();
    let mut region = Region::default();
    let mut deepest = None;
    for level in [
        Level::Province,
        Level::Prefecture,
        Level::County,
        Level::Township,
    ] {
        let n = level.code_len();
        let Some(first) = codes.first().filter(|c| c.len() >= n).map(|c| &c[..n]) else {
            break;
        };
        if !codes.iter().all(|c| c.len() >= n && &c[..n] == first) {
            break;
        }
        // The name the text used, where a candidate is this division; else the year's name.
        // A county directly under a province has no prefecture: its prefix names none.
        let used = candidates
            .iter()
            .map(|&i| &gz.divisions[i as usize])
            .find(|d| d.code == first)
            .map(|d| d.name);
        let Some(name) = used.or_else(|| gz.name_of(first, year)) else {
            if level == Level::Prefecture {
                continue;
            }
            break;
        };
        match level {
            Level::Province => region.province = name.to_owned(),
            Level::Prefecture => region.city = name.to_owned(),
            Level::County => {
                region.county = name.to_owned();
                region.county_kind = county_kind(name) as i32;
            }
            Level::Township => region.township = name.to_owned(),
        }
        region.code = match level {
            Level::Township => first.to_owned(),
            _ => format!("{first:0<6}"),
        };
        region.level = match level {
            Level::Province => PlaceLevel::Province,
            Level::Prefecture => PlaceLevel::Prefecture,
            Level::County => PlaceLevel::County,
            Level::Township => PlaceLevel::Township,
        } as i32;
        deepest = Some(level);
    }
    (region, deepest)
}

fn county_kind(name: &str) -> CountyKind {
    if name.ends_with("林区") || name.ends_with("特区") {
        CountyKind::County
    } else if name.ends_with('区') {
        CountyKind::District
    } else if name.ends_with('市') {
        CountyKind::CountyCity
    } else {
        CountyKind::County
    }
}

/// 文中只写「朝阳区」，北京市朝阳区、吉林省长春市朝阳区都有，无法确定.
fn ambiguity(gz: &Gazetteer, name: &str, candidates: &[u32], year: Option<i32>) -> String {
    let mut paths: Vec<String> = Vec::new();
    for &c in candidates {
        let code = gz.divisions[c as usize].code;
        let path: String = [2, 4, 6, 9]
            .iter()
            .filter(|&&n| n <= code.len())
            .filter_map(|&n| gz.name_of(&code[..n], year))
            .collect();
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    let shown = paths
        .iter()
        .take(REASON_CANDIDATES)
        .cloned()
        .collect::<Vec<_>>()
        .join("、");
    let more = if paths.len() > REASON_CANDIDATES {
        format!("等{}处", paths.len())
    } else {
        String::new()
    };
    format!("文中只写「{name}」，{shown}{more}都有，无法确定")
}

fn is_national(agency: &str) -> bool {
    let name = agency.split(['(', '（']).next().unwrap_or(agency);
    !name.is_empty()
        && (NATIONAL_MARKS.iter().any(|m| name.starts_with(m))
            || NATIONAL_ENDS.iter().any(|e| name.ends_with(e)))
}

/// The lines that name the publisher: the source the client sent, the URL, the publisher
/// lines of the head, the page's first lines and the signature.
fn anchor_text(clues: &Clues) -> String {
    let mut out = String::new();
    for s in [clues.source, clues.url].into_iter().flatten() {
        out.push_str(&fold::name_to_simplified(s));
        out.push('\n');
    }
    let lines = clues
        .text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| head_of(l, MAX_ANCHOR_LINE_BYTES));
    for l in publisher_lines(clues.text).take(HEAD_LINES) {
        out.push_str(l);
        out.push('\n');
    }
    for l in lines.clone().take(HEAD_LINES) {
        out.push_str(l);
        out.push('\n');
    }
    let tail: Vec<&str> = lines.rev().take(TAIL_LINES).collect();
    for l in tail.into_iter().rev() {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// The lines of `text` that hold one of [`PUBLISHER_KEYS`] within their first
/// [`MAX_ANCHOR_LINE_BYTES`] once trimmed, trimmed and cut so, in order. One automaton pass
/// over the whole text finds the keys; only the lines around them are looked at.
fn publisher_lines(text: &str) -> impl Iterator<Item = &str> {
    static KEYS: LazyLock<AhoCorasick> =
        LazyLock::new(|| AhoCorasick::new(PUBLISHER_KEYS).expect("fixed keys build"));
    let bytes = text.as_bytes();
    let mut last_start = None;
    KEYS.find_iter(text).filter_map(move |m| {
        let start = memchr::memrchr(b'\n', &bytes[..m.start()]).map_or(0, |i| i + 1);
        if last_start == Some(start) {
            return None;
        }
        let end = memchr::memchr(b'\n', &bytes[m.end()..]).map_or(text.len(), |i| m.end() + i);
        let line = head_of(text[start..end].trim(), MAX_ANCHOR_LINE_BYTES);
        // The line's first key is its leftmost: past the cut, so are the others.
        let cut_at = line.as_ptr() as usize - text.as_ptr() as usize + line.len();
        if m.end() > cut_at {
            return None;
        }
        last_start = Some(start);
        Some(line)
    })
}

/// The first `bytes` of `s` (cut back to a character boundary).
fn head_of(s: &str, bytes: usize) -> &str {
    let mut end = bytes.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The body as section 一 names it: a place name right before a body word (北海市政府门户
/// 网站, 通榆县政府信息公开工作), outside quoted titles (《武汉市政府信息公开规定》).
fn section_one_body(gz: &Gazetteer, text: &str) -> Vec<Mention> {
    let Some(at) = text.find("总体情况") else {
        return Vec::new();
    };
    let part = head_of(&text[at..], SECTION_ONE_BYTES);
    for m in gz.all.automaton.find_iter(part) {
        let before = &part[..m.start()];
        let quoted = before
            .rfind('《')
            .is_some_and(|o| before.rfind('》').is_none_or(|c| c < o));
        if quoted || !BODY_WORDS.iter().any(|w| part[m.end()..].starts_with(w)) {
            continue;
        }
        let found = mentions(gz, &gz.all, &part[m.start()..m.end()], false);
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

/// The division names in `s` (of any edition), stems only where the text around says they
/// are places; with `skip_quoted`, not the names inside a quoted title (《湖北省…办法》).
fn mentions(gz: &Gazetteer, finder: &Finder, s: &str, skip_quoted: bool) -> Vec<Mention> {
    let raw: Vec<_> = finder.automaton.find_iter(s).collect();
    let mut out: Vec<Option<Mention>> = vec![None; raw.len()];
    // Right to left: a stem is a place when a body or zone word follows, or a division
    // inside it does (上海|普陀, 江苏|淮安市).
    for k in (0..raw.len()).rev() {
        let m = raw[k];
        let cands: &[Candidate] = &finder.candidates[m.pattern().as_usize()];
        let rest = &s[m.end()..];
        let stem_ok = BODY_WORDS.iter().any(|w| rest.starts_with(w))
            || zone_follows(rest)
            || raw.get(k + 1).is_some_and(|next| {
                next.start() == m.end()
                    && finder.candidates[next.pattern().as_usize()]
                        .iter()
                        .any(|n| {
                            cands.iter().any(|c| {
                                c.stem
                                    && gz.divisions[n.division as usize]
                                        .within(&gz.divisions[c.division as usize])
                            })
                        })
            });
        let all: Vec<u32> = cands
            .iter()
            .filter(|c| !c.stem || stem_ok)
            .map(|c| c.division)
            .collect();
        if all.is_empty() {
            continue;
        }
        let quoted = skip_quoted && {
            let before = &s[..m.start()];
            before
                .rfind('《')
                .is_some_and(|o| before.rfind('》').is_none_or(|c| c < o))
        };
        if quoted {
            continue;
        }
        out[k] = Some(Mention {
            name: s[m.start()..m.end()].to_owned(),
            divisions: all,
        });
    }
    out.into_iter().flatten().collect()
}

/// True when a zone's word starts within a few characters, with no break before it.
fn zone_follows(rest: &str) -> bool {
    let mut chars = rest.char_indices();
    for _ in 0..ZONE_WORD_WINDOW {
        let Some((i, c)) = chars.next() else {
            return false;
        };
        if !('\u{4e00}'..='\u{9fff}').contains(&c) {
            return false;
        }
        if ZONE_WORDS.iter().any(|w| rest[i..].starts_with(w)) {
            return true;
        }
    }
    false
}

/// The divisions at `level` under the division `prefix` (a code without its padding zeros:
/// `32`, `3208`, `320813`), as of the gazetteer's edition of `year` (the latest for a later
/// year), in code order: what the coverage register expects a report from. Empty when
/// `level` is not below the prefix's.
pub fn divisions_under(prefix: &str, level: Level, year: i32) -> Vec<(&'static str, &'static str)> {
    let gz = gazetteer::get();
    let mut out: Vec<(&'static str, &'static str)> = gz
        .divisions
        .iter()
        .filter(|d| {
            d.code.len() == level.code_len()
                && d.code.len() > prefix.len()
                && d.code.starts_with(prefix)
                && d.valid_in(Some(year))
        })
        .map(|d| (d.code, d.name))
        .collect();
    out.sort_unstable();
    out.dedup_by_key(|d| d.0);
    out
}

/// The name of the division `code` (without its padding zeros: `32`, `3208`, `320813`) as
/// of `year`.
pub fn name_of(code: &str, year: i32) -> Option<&'static str> {
    gazetteer::get().name_of(code.trim(), Some(year))
}

/// The gazetteer edition a year's divisions are read from.
pub fn edition_of(year: i32) -> i32 {
    gazetteer::edition_of(year)
}

#[cfg(test)]
mod tests;
