//! Traditional characters to simplified ones, one character for one, so that a byte offset
//! in the folded text is the same offset in the original. PURE.
//!
//! Mirror sites re-render reports in traditional characters (`規章`, `行政複議`); the labels
//! and headings are matched on the folded text, while names (the agency) are cut from the
//! original at the same offsets, so a body's name stays as printed.

use std::borrow::Cow;
use std::sync::OnceLock;

/// The CJK blocks the table covers (extension A and the unified ideographs): every
/// character there is three bytes in UTF-8, as is its simplified form.
const FIRST: u32 = 0x3400;
const LAST: u32 = 0x9FFF;

/// How far into a text the traditional markers are looked for.
const MARKER_WINDOW: usize = 3000;

/// `table[c - FIRST]` is the simplified form of `c`, or 0 when `c` is not traditional.
fn table() -> &'static [u16] {
    static TABLE: OnceLock<Vec<u16>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = vec![0u16; (LAST - FIRST + 1) as usize];
        let mut buf = String::new();
        for cp in FIRST..=LAST {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            buf.clear();
            buf.push(c);
            let s = simplet2s::convert(&buf);
            let mut chars = s.chars();
            if let (Some(o), None) = (chars.next(), chars.next()) {
                let o = o as u32;
                if o != cp && (FIRST..=LAST).contains(&o) {
                    t[(cp - FIRST) as usize] = o as u16;
                }
            }
        }
        t
    })
}

fn simplified(c: char) -> Option<char> {
    let cp = c as u32;
    if !(FIRST..=LAST).contains(&cp) {
        return None;
    }
    match table()[(cp - FIRST) as usize] {
        0 => None,
        o => char::from_u32(u32::from(o)),
    }
}

/// The text with traditional characters folded to simplified ones; borrowed when there are
/// none. The result has the same length and the same character boundaries as `text`.
pub fn to_simplified(text: &str) -> Cow<'_, str> {
    // Most reports are simplified throughout. A traditional text has some of the characters
    // no report can do without (公開, 報告, 資訊, 複議, 訴訟, 總計, 數量, 辦理, …); one
    // vectorised search for them decides, and a simplified text is not scanned further.
    static MARKERS: OnceLock<aho_corasick::AhoCorasick> = OnceLock::new();
    // Only whether one is present matters, which any match kind answers alike; a leftmost
    // kind lets the automaton use its vectorised (Teddy) prefilter, which the standard kind
    // cannot.
    let markers = MARKERS.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build([
                "開", "報", "資", "國", "會", "為", "關", "與", "處", "規", "機", "務", "請", "條",
                "複", "議", "訴", "訟", "總", "計", "體", "況", "數", "項", "辦",
            ])
            .expect("static patterns")
    });
    // Mirror sites convert whole pages: the title and section 一 show it.
    let mut head = text.len().min(MARKER_WINDOW);
    while !text.is_char_boundary(head) {
        head -= 1;
    }
    if !markers.is_match(&text[..head]) {
        return Cow::Borrowed(text);
    }
    let Some(first) = text.char_indices().find(|(_, c)| simplified(*c).is_some()) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..first.0]);
    for c in text[first.0..].chars() {
        out.push(simplified(c).unwrap_or(c));
    }
    debug_assert_eq!(out.len(), text.len());
    Cow::Owned(out)
}

/// A short string (a name) with every traditional character folded, without the marker test
/// [`to_simplified`] makes on a document's head: a name is too short to carry the markers.
pub fn name_to_simplified(name: &str) -> String {
    name.chars().map(|c| simplified(c).unwrap_or(c)).collect()
}

/// Text with pinyin glosses removed (`规(guī)章` → `规章`), which mirror sites insert after
/// characters, and for every byte offset of the result the offset of the same byte in the
/// input (one more entry for the end), so that a name found in the result can be cut from the
/// input as printed, glosses and all. `None` when the text has no gloss.
pub fn without_glosses(text: &str) -> Option<(String, Vec<u32>)> {
    static GLOSS: OnceLock<regex::Regex> = OnceLock::new();
    let gloss = GLOSS.get_or_init(|| {
        regex::Regex::new(r"[\p{Han}]\(([a-z\u{00E0}-\u{00FC}\u{0100}-\u{01DC}]{1,7})\)")
            .expect("static pattern")
    });
    let mut head = text.len().min(MARKER_WINDOW);
    while !text.is_char_boundary(head) {
        head -= 1;
    }
    if !gloss.is_match(&text[..head]) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut map: Vec<u32> = Vec::with_capacity(text.len() + 1);
    let mut copied = 0;
    for c in gloss.captures_iter(text) {
        let (Some(whole), Some(inner)) = (c.get(0), c.get(1)) else {
            continue;
        };
        // Keep everything up to the closing of the Han character, drop `(pinyin)`.
        let gloss_start = inner.start() - 1;
        out.push_str(&text[copied..gloss_start]);
        map.extend((copied..gloss_start).map(|i| i as u32));
        copied = whole.end();
    }
    out.push_str(&text[copied..]);
    map.extend((copied..text.len()).map(|i| i as u32));
    map.push(text.len() as u32);
    Some((out, map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_traditional_and_keeps_offsets() {
        let cases = [
            ("規章", "规章"),
            ("行政複議", "行政复议"),
            ("政府信息公開工作年度報告", "政府信息公开工作年度报告"),
            (
                "本年新收政府信息公开申请数量",
                "本年新收政府信息公开申请数量",
            ),
            ("廣州市國資委 2020", "广州市国资委 2020"),
        ];
        for (input, want) in cases {
            let got = to_simplified(input);
            assert_eq!(got, want, "{input}");
            assert_eq!(got.len(), input.len());
        }
        assert!(matches!(to_simplified("规章 12 |"), Cow::Borrowed(_)));
    }

    #[test]
    fn drops_pinyin_glosses_and_maps_offsets_back() {
        let text = "區(qū)投資促進(jìn)局 規(guī)章 (一) 3";
        let (clean, map) = without_glosses(text).expect("has glosses");
        assert_eq!(clean, "區投資促進局 規章 (一) 3");
        let at = clean.find("投資促進局").unwrap();
        let end = at + "投資促進局".len();
        assert_eq!(
            &text[map[at] as usize..map[end] as usize],
            "投資促進(jìn)局"
        );
        assert!(without_glosses("规章 (一) 第二十条第(五)项").is_none());
    }
}
