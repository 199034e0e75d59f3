//! The document's text as the compliance indicators see it: the six sections' numbered
//! headings (where they stand, how they are numbered), the spans between them, and the
//! similarity of two narratives. PURE.
//!
//! The parser finds sections leniently, to read the tables wherever they are
//! ([`crate::parse::sections`]); compliance asks something else — how the publisher
//! *numbered* them — so it reads only numbered headings (`三、收到和处理政府信息公开申请情况`).
//! A heading is recognised by its words, never by the layout around it: it may stand on its
//! own line or run on into the text (`一、总体情况2021年，我区…`).

use rustc_hash::FxHashSet;

/// The six sections, 1-based, as the format prints them (both the 2019 and the 2021 formats
/// print the same six headings).
pub const SECTION_TITLES: [&str; 6] = [
    "一、总体情况",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
    "五、存在的主要问题及改进情况",
    "六、其他需要报告的事项",
];

/// The section numerals, 1..=6.
const NUMERALS: [char; 6] = ['一', '二', '三', '四', '五', '六'];

/// Characters before a numeral that make it part of a number or a sub-item, not a heading.
const NOT_BEFORE: &str = "十百千万零〇两第（(〔[【";

/// What may stand between a heading's numeral and its title.
const SEPARATORS: [char; 5] = ['、', '.', '．', '，', ','];

/// How many characters after the separator a heading's title is looked for in: the longest
/// printed variant (四、因政府信息公开工作被申请行政复议、提起行政诉讼情况) names its
/// section within its first 20.
const TITLE_WINDOW: usize = 20;

/// The words that name each section in a heading's title (any variant the forms and
/// publishers print). The section whose word comes first in the title wins.
const SECTION_WORDS: [&[&str]; 6] = [
    &["总体情况", "总体概况", "基本情况", "概述"],
    &["主动公开"],
    &["收到和处理", "依申请", "处理政府信息公开申请"],
    &["行政复议", "行政诉讼"],
    &[
        "存在的主要问题",
        "主要问题",
        "存在问题",
        "存在的问题",
        "问题及改进",
    ],
    &["其他需要报告", "其他需报告", "其他事项", "需要报告的事项"],
];

/// Row labels of table 三 that are numbered like headings (一、本年新收… 四、结转下年度…):
/// a title starting with one of them is a row, not a section.
const TABLE_ROW_STARTS: [&str; 5] = ["本年新收", "上年结转", "本年度办理", "本年办理", "结转下年"];

/// What ends a heading's title: a line break, a sentence's end, or a list's separator (a
/// preamble listing 一、总体情况；二、… names the sections without heading them).
const TITLE_ENDS: [char; 7] = ['\n', '。', '；', ';', '：', ':', '\r'];

/// A list's separator right after a title: the occurrence is an item of a list.
const LIST_ENDS: [char; 2] = ['；', ';'];

/// A numbered section heading found in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// The numeral printed, 1..=6.
    pub numeral: u8,
    /// The section its title names, 1..=6.
    pub section: u8,
    /// Byte offsets of the heading (numeral to the end of its title's window).
    pub start: usize,
    pub end: usize,
    /// The title as printed (at most [`TITLE_WINDOW`] characters).
    pub title: String,
}

/// Every numbered section heading of `text`, in text order. A numeral counts unless what
/// stands before it makes it part of a number or an item ([`NOT_BEFORE`]), and when a
/// separator follows; its title must name a section and must not be a table 三 row label.
pub fn headings(text: &str) -> Vec<Heading> {
    let mut out = Vec::new();
    let mut prev: Option<char> = None;
    for (at, c) in text.char_indices() {
        let before = prev;
        prev = Some(c);
        let Some(n) = NUMERALS.iter().position(|&x| x == c) else {
            continue;
        };
        // Fused text runs a figure or a unit into the heading (…432.52元三、收到…), so
        // only what makes the numeral part of a number or an item is refused: 十三、
        // 第三、 （三）, a letter.
        if before.is_some_and(|b| NOT_BEFORE.contains(b) || b.is_ascii_alphabetic()) {
            continue;
        }
        let rest = &text[at + c.len_utf8()..];
        let after_ws = rest.trim_start_matches([' ', '\u{3000}', '\t']);
        let Some(sep) = after_ws.chars().next().filter(|s| SEPARATORS.contains(s)) else {
            continue;
        };
        let title_from = &after_ws[sep.len_utf8()..];
        let title_from = title_from.trim_start_matches([' ', '\u{3000}', '\t']);
        let window: String = title_from
            .chars()
            .take_while(|ch| !TITLE_ENDS.contains(ch))
            .take(TITLE_WINDOW)
            .collect();
        let after_title = &title_from[window.len()..];
        if after_title.starts_with(LIST_ENDS) && window.chars().count() < TITLE_WINDOW {
            continue;
        }
        if TABLE_ROW_STARTS.iter().any(|r| window.starts_with(r)) {
            continue;
        }
        let Some(section) = section_of(&window) else {
            continue;
        };
        let end = text.len() - after_title.len();
        out.push(Heading {
            numeral: n as u8 + 1,
            section,
            start: at,
            end,
            title: window,
        });
    }
    out
}

/// The section a title names: the one whose word appears first in it.
fn section_of(title: &str) -> Option<u8> {
    SECTION_WORDS
        .iter()
        .enumerate()
        .filter_map(|(i, words)| {
            words
                .iter()
                .filter_map(|w| title.find(w))
                .min()
                .map(|at| (at, i))
        })
        .min()
        .map(|(_, i)| i as u8 + 1)
}

/// The headings that stand as the report's sections: for each section its first numbered
/// heading, when that heading's numeral is right.
#[derive(Debug, Clone, Default)]
pub struct Outline {
    pub headings: Vec<Heading>,
}

impl Outline {
    pub fn of(text: &str) -> Self {
        Outline {
            headings: headings(text),
        }
    }

    /// The first heading of section `s` (1..=6).
    pub fn first(&self, s: u8) -> Option<&Heading> {
        self.headings.iter().find(|h| h.section == s)
    }

    /// The span of section `s`'s body: from the end of its first heading to the start of
    /// the next heading of a later section; `bounded` says whether such a heading was found
    /// (else the span runs to the text's end, which may be cut short).
    pub fn span(&self, s: u8, text_len: usize) -> Option<Span> {
        let h = self.first(s)?;
        let next = self
            .headings
            .iter()
            .filter(|x| x.start >= h.end && x.section > s)
            .map(|x| x.start)
            .min();
        Some(Span {
            start: h.end,
            end: next.unwrap_or(text_len),
            bounded: next.is_some(),
        })
    }
}

/// A section's body in the text (byte offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    /// Whether the next section's heading closes it.
    pub bounded: bool,
}

/// At most `max` characters of `s`, with an ellipsis when cut: a quote for the evidence.
pub fn quote(s: &str, max: usize) -> String {
    let s = s.trim();
    let mut out: String = s.chars().take(max).collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

/// The number of Han characters in `s`: how much a narrative says, layout aside.
pub fn han_count(s: &str) -> usize {
    s.chars().filter(|c| is_han(*c)).count()
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

/// Characters per shingle. Six Han characters (about two words) rarely repeat by chance
/// between two reports of different content, while a copied sentence shares all its
/// shingles.
pub const SHINGLE: usize = 6;

/// The similarity of two narratives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    /// Share of `a`'s shingles found in `b` (containment): how much of this year's text is
    /// last year's. The 宿迁 rule's 重复率.
    pub share: f64,
    /// |a ∩ b| / |a ∪ b|.
    pub jaccard: f64,
    /// How many distinct shingles `a` has.
    pub shingles: usize,
}

/// The characters a shingle is made of: Han characters, letters and digits, with every digit
/// as 0 (a year or a count changed is still the same sentence); punctuation, spaces and
/// layout drop out.
fn normalised(s: &str) -> Vec<char> {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .map(|c| if c.is_ascii_digit() { '0' } else { c })
        .collect()
}

/// The character-shingle similarity of `a` to `b` ([`SHINGLE`] characters). Shingles are
/// compared by a 64-bit hash (the one [`simhash`] sums): two distinct shingles of a pair of
/// reports share one with odds of about one in 10^12.
pub fn similarity(a: &str, b: &str) -> Similarity {
    let (a, b) = (shingles(a), shingles(b));
    let common = a.intersection(&b).count();
    similarity_of(common, a.len(), b.len())
}

fn similarity_of(common: usize, a: usize, b: usize) -> Similarity {
    let union = a + b - common;
    Similarity {
        share: if a == 0 {
            0.0
        } else {
            common as f64 / a as f64
        },
        jaccard: if union == 0 {
            0.0
        } else {
            common as f64 / union as f64
        },
        shingles: a,
    }
}

/// The hashes of a text's distinct shingles.
fn shingles(s: &str) -> FxHashSet<u64> {
    normalised(s).windows(SHINGLE).map(shingle_hash).collect()
}

/// Narratives with fewer distinct shingles than this get no [`simhash`]: too short for a
/// near-duplicate to mean copying (the indicators' own floor for a share).
pub const SIMHASH_MIN_SHINGLES: usize = 100;

/// The 64-bit SimHash of a narrative's [`SHINGLE`]-character shingles (as [`similarity`]
/// normalises them), or `None` for a narrative of fewer than [`SIMHASH_MIN_SHINGLES`]
/// distinct shingles. Two narratives sharing most of their shingles differ in few bits
/// ([`simhash_distance`]), so the store finds a near-duplicate among a year's reports by
/// comparing 8 bytes a report, then confirms it with [`similarity`] on the two texts. The
/// hash of a shingle is FNV-1a then a SplitMix64 finaliser: fixed here, never the
/// standard library's (whose output may change between releases), because the value is
/// kept in the index's snapshot. Never 0, which the index reads as "none".
pub fn simhash(narrative: &str) -> Option<u64> {
    let shingles = shingles(narrative);
    if shingles.len() < SIMHASH_MIN_SHINGLES {
        return None;
    }
    let mut votes = [0i32; 64];
    for h in shingles {
        for (bit, vote) in votes.iter_mut().enumerate() {
            *vote += if h >> bit & 1 == 1 { 1 } else { -1 };
        }
    }
    let h = votes
        .iter()
        .enumerate()
        .fold(0u64, |h, (bit, &v)| h | u64::from(v > 0) << bit);
    Some(h.max(1))
}

/// Two [`simhash`]es at most this many bits apart are candidates for a near-duplicate, to be
/// confirmed on the texts. Narratives sharing 80 % of their shingles differ in about 10 of
/// the 64 bits (σ ≈ 3), unrelated ones in 32 (σ = 4): 14 finds nine in ten such pairs and
/// almost never an unrelated one.
pub const SIMHASH_NEAR: u32 = 14;

/// How many bits two [`simhash`]es differ in.
pub fn simhash_distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

fn shingle_hash(shingle: &[char]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &c in shingle {
        for b in (c as u32).to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Whether two narratives are alike: more than `threshold` of either's shingles found in
/// the other (containment both ways, since one may be the other with more added).
pub fn alike(a: &str, b: &str, threshold: f64) -> bool {
    let (a, b) = (shingles(a), shingles(b));
    let common = a.intersection(&b).count();
    similarity_of(common, a.len(), b.len()).share > threshold
        || similarity_of(common, b.len(), a.len()).share > threshold
}

/// The narrative sections (一, 五, 六) as far as the text bounds them, concatenated (section
/// 六 to the end); `None` when none is found: what the copying indicators compare.
pub fn narrative(text: &str) -> Option<String> {
    narrative_in(text, &Outline::of(text))
}

/// [`narrative`] with the text's outline made already.
pub fn narrative_in(text: &str, outline: &Outline) -> Option<String> {
    let mut out = String::new();
    for s in [1u8, 5, 6] {
        if let Some(span) = outline.span(s, text.len()) {
            if s == 6 || span.bounded {
                out.push_str(&text[span.start..span.end]);
                out.push('\n');
            }
        }
    }
    (!out.is_empty()).then_some(out)
}
