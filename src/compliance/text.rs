//! The document's text as the compliance indicators see it: the six sections' numbered
//! headings (where they stand, how they are numbered), the spans between them, and the
//! similarity of two narratives. PURE.
//!
//! The parser finds sections leniently, to read the tables wherever they are
//! ([`crate::parse::sections`]); compliance asks something else — how the publisher
//! *numbered* them — so it reads only numbered headings (`三、收到和处理政府信息公开申请情况`).
//! A heading is recognised by its words, never by the layout around it: it may stand on its
//! own line or run on into the text (`一、总体情况2021年，我区…`).

use crate::model::hash::mix;

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

/// The section numerals, 1..=6 (一 二 三 四 五 六), in UTF-8.
const NUMERAL_BYTES: [[u8; 3]; 6] = [
    *b"\xE4\xB8\x80",
    *b"\xE4\xBA\x8C",
    *b"\xE4\xB8\x89",
    *b"\xE5\x9B\x9B",
    *b"\xE4\xBA\x94",
    *b"\xE5\x85\xAD",
];

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
    // Each numeral is found by memchr's vectorised search (a numeral's lead byte never
    // continues a character, so every match starts one), then read in text order.
    let mut numerals: Vec<(usize, usize)> = NUMERAL_BYTES
        .iter()
        .enumerate()
        .flat_map(|(n, b)| memchr::memmem::find_iter(text.as_bytes(), b).map(move |at| (at, n)))
        .collect();
    numerals.sort_unstable();
    numerals
        .into_iter()
        .filter_map(|(at, n)| heading_at(text, at, n))
        .collect()
}

/// The heading whose numeral (`n`, 0-based) stands at byte `at` of `text`, if it is one.
fn heading_at(text: &str, at: usize, n: usize) -> Option<Heading> {
    let before = text[..at].chars().next_back();
    // Fused text runs a figure or a unit into the heading (…432.52元三、收到…), so only
    // what makes the numeral part of a number or an item is refused: 十三、 第三、 （三）,
    // a letter.
    if before.is_some_and(|b| NOT_BEFORE.contains(b) || b.is_ascii_alphabetic()) {
        return None;
    }
    let rest = &text[at + NUMERAL_BYTES[n].len()..];
    let after_ws = rest.trim_start_matches([' ', '\u{3000}', '\t']);
    let sep = after_ws.chars().next().filter(|s| SEPARATORS.contains(s))?;
    let title_from = &after_ws[sep.len_utf8()..];
    let title_from = title_from.trim_start_matches([' ', '\u{3000}', '\t']);
    let window_len = title_from
        .char_indices()
        .take_while(|(_, ch)| !TITLE_ENDS.contains(ch))
        .take(TITLE_WINDOW)
        .last()
        .map_or(0, |(i, ch)| i + ch.len_utf8());
    let window = &title_from[..window_len];
    let after_title = &title_from[window_len..];
    if after_title.starts_with(LIST_ENDS) && window.chars().count() < TITLE_WINDOW {
        return None;
    }
    if TABLE_ROW_STARTS.iter().any(|r| window.starts_with(r)) {
        return None;
    }
    let section = section_of(window)?;
    Some(Heading {
        numeral: n as u8 + 1,
        section,
        start: at,
        end: text.len() - after_title.len(),
        title: window.to_owned(),
    })
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

/// A text's distinct shingles, sorted: made once, compared with any number of others. A
/// shingle is [`SHINGLE`] characters of the text without punctuation, spaces and layout
/// (Han characters, letters and digits, every digit as 0: a year or a count changed is
/// still the same sentence), packed into 126 bits (21 a character) and hashed to 64: two
/// distinct shingles of a pair of reports share a hash with odds of about one in 10^12.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shingles(Vec<u64>);

/// Whether a character is part of a shingle: a letter or a digit (Han characters looked up
/// first: they are most of a report, and the Unicode tables are the slow way).
fn shingled(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        is_han(c) || c.is_alphanumeric()
    }
}

/// Bits of one character in a packed shingle (every scalar value fits).
const CHAR_BITS: usize = 21;

impl Shingles {
    pub fn of(text: &str) -> Shingles {
        let mask: u128 = (1u128 << (CHAR_BITS * SHINGLE)) - 1;
        let mut out = Vec::with_capacity(text.len() / 3);
        let (mut key, mut seen) = (0u128, 0usize);
        for c in text.chars().filter(|&c| shingled(c)) {
            let c = if c.is_ascii_digit() { '0' } else { c };
            key = ((key << CHAR_BITS) | u128::from(u32::from(c))) & mask;
            seen += 1;
            if seen >= SHINGLE {
                out.push(mix(key as u64 ^ mix((key >> 64) as u64)));
            }
        }
        out.sort_unstable();
        out.dedup();
        Shingles(out)
    }

    /// How many distinct shingles.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many shingles both have.
    pub fn common(&self, other: &Shingles) -> usize {
        let (mut i, mut j, mut n) = (0, 0, 0);
        let (a, b) = (&self.0, &other.0);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    n += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        n
    }

    /// The similarity of these shingles' text to `other`'s.
    pub fn similarity(&self, other: &Shingles) -> Similarity {
        similarity_of(self.common(other), self.len(), other.len())
    }

    /// Whether the two texts are alike: more than `threshold` of either's shingles found
    /// in the other (containment both ways, since one may be the other with more added).
    pub fn alike(&self, other: &Shingles, threshold: f64) -> bool {
        let common = self.common(other);
        similarity_of(common, self.len(), other.len()).share > threshold
            || similarity_of(common, other.len(), self.len()).share > threshold
    }

    /// The 64-bit SimHash of the text, or `None` under [`SIMHASH_MIN_SHINGLES`] distinct
    /// shingles. It is summed over the [`SIMHASH_SAMPLE`] shingles of smallest hash (a
    /// sample two texts share in the measure they share shingles), so its cost does not
    /// grow with the text. Two texts sharing most of their shingles differ in few bits
    /// ([`simhash_distance`]): the store finds a near-duplicate among a year's reports by
    /// comparing 8 bytes a report, then confirms it on the texts. The hash is fixed here
    /// (a SplitMix64 finaliser), never the standard library's, whose output may change
    /// between releases: the value is kept in the index's snapshot. Never 0, which the
    /// index reads as "none".
    pub fn simhash(&self) -> Option<u64> {
        if self.len() < SIMHASH_MIN_SHINGLES {
            return None;
        }
        // Sorted already: the smallest hashes come first.
        let mut votes = [0i32; 64];
        for &h in self.0.iter().take(SIMHASH_SAMPLE) {
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
}

/// The character-shingle similarity of `a` to `b` ([`SHINGLE`] characters).
pub fn similarity(a: &str, b: &str) -> Similarity {
    Shingles::of(a).similarity(&Shingles::of(b))
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

/// Narratives with fewer distinct shingles than this get no SimHash: too short for a
/// near-duplicate to mean copying (the indicators' own floor for a share).
pub const SIMHASH_MIN_SHINGLES: usize = 100;

/// Shingles a SimHash is summed over at most.
pub const SIMHASH_SAMPLE: usize = 256;

/// [`Shingles::simhash`] of a narrative.
pub fn simhash(narrative: &str) -> Option<u64> {
    Shingles::of(narrative).simhash()
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

/// Whether two narratives are alike ([`Shingles::alike`]).
pub fn alike(a: &str, b: &str, threshold: f64) -> bool {
    Shingles::of(a).alike(&Shingles::of(b), threshold)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// [`headings`] walking every character, as it did before the search.
    fn headings_char_by_char(text: &str) -> Vec<Heading> {
        const NUMERALS: [char; 6] = ['一', '二', '三', '四', '五', '六'];
        text.char_indices()
            .filter_map(|(at, c)| {
                let n = NUMERALS.iter().position(|&x| x == c)?;
                heading_at(text, at, n)
            })
            .collect()
    }

    #[test]
    fn the_numeral_bytes_are_the_numerals() {
        assert_eq!(NUMERAL_BYTES.concat(), "一二三四五六".as_bytes());
    }

    proptest::proptest! {
        /// The numerals found by search give exactly the headings the character walk gives.
        #[test]
        fn headings_from_searched_numerals_are_those_by_characters(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "一", "二", "三", "四", "五", "六", "七", "十", "第", "（", "a", "、", ".",
                    "，", " ", "\u{3000}", "\t", "\n", "。", "；", "：", "总体情况", "主动公开",
                    "收到和处理政府信息公开申请情况", "行政复议", "存在的主要问题",
                    "其他需要报告的事项", "本年新收", "2021年", "432.52元", "乙", "丁",
                ]),
                0..80,
            )
        ) {
            let text: String = pieces.concat();
            proptest::prop_assert_eq!(headings(&text), headings_char_by_char(&text));
        }
    }
}
