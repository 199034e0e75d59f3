//! Bytes to normalised plain text. PURE: no I/O.
//!
//! Owns the character encoding (UTF-8, UTF-16 with BOM, GB18030/GBK), HTML (tables become
//! tab-separated rows, rowspan/colspan leave empty cells, `&nbsp;` cells stay empty), and the
//! character normalisation every later step relies on: full-width ASCII forms to ASCII,
//! exotic spaces to a plain space, form feeds and CR to line breaks.

mod flat;
pub mod fold;

use encoding_rs::{Encoding, GB18030, UTF_16BE, UTF_16LE};
use scraper::{ElementRef, Html, Node};

/// The most cells one HTML table row may expand to; wider rows are clamped, so a hostile
/// `colspan` cannot allocate without bound.
const MAX_COLS: usize = 64;
/// The most rows one HTML table may expand to through rowspan.
const MAX_ROWS: usize = 4096;

/// What the client said the content is, when it said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContentHint {
    #[default]
    Unknown,
    Text,
    Html,
}

/// What [`decode`] found out about the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Normalised text: tables as tab-separated rows, one line per row or paragraph.
    pub text: String,
    /// The encoding the bytes were read in ("UTF-8", "GB18030", "UTF-16LE", ...).
    pub encoding: &'static str,
    /// True when the bytes were read as HTML.
    pub html: bool,
    /// True when some bytes were not valid in the detected encoding (replaced by U+FFFD).
    pub had_errors: bool,
}

/// Decodes `bytes`: the encoding is detected (BOM, then valid UTF-8, then GB18030, which
/// covers GBK and GB2312); `encoding_hint` (a WHATWG label such as "gbk") wins when given.
pub fn decode(bytes: &[u8], encoding_hint: Option<&str>, content: ContentHint) -> Decoded {
    // The common case, UTF-8 text, is normalised straight from the input bytes.
    if encoding_hint.is_none() && content != ContentHint::Html && Encoding::for_bom(bytes).is_none()
    {
        // simdutf8 checks the same UTF-8 as std, many bytes a step: std's check goes a
        // char at a time through Chinese text (about 5% of a parse before this).
        if let Ok(text) = simdutf8::basic::from_utf8(bytes) {
            if let Some(unescaped) = unescape_js_string(text) {
                return decode(unescaped.as_bytes(), None, content);
            }
            if content == ContentHint::Text || !looks_like_html(text) {
                return Decoded {
                    text: normalize(text),
                    encoding: "UTF-8",
                    html: false,
                    had_errors: false,
                };
            }
        }
    }
    let (raw, encoding, had_errors) = to_unicode(bytes, encoding_hint);
    let raw = unescape_js_string(&raw).unwrap_or(raw);
    let html = match content {
        ContentHint::Html => true,
        ContentHint::Text => false,
        ContentHint::Unknown => looks_like_html(&raw),
    };
    let flat = if html { html_to_text(&raw) } else { raw };
    Decoded {
        text: normalize(&flat),
        encoding,
        html,
        had_errors,
    }
}

fn to_unicode(bytes: &[u8], hint: Option<&str>) -> (String, &'static str, bool) {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return (text.into_owned(), enc.name(), errors);
    }
    if let Some(enc) = hint.and_then(|h| Encoding::for_label(h.trim().as_bytes())) {
        let (text, errors) = enc.decode_without_bom_handling(bytes);
        return (text.into_owned(), enc.name(), errors);
    }
    if let Ok(text) = simdutf8::basic::from_utf8(bytes) {
        return (text.to_owned(), "UTF-8", false);
    }
    if looks_like_utf16(bytes) {
        let enc = if bytes.iter().step_by(2).filter(|b| **b == 0).count() > bytes.len() / 4 {
            UTF_16BE
        } else {
            UTF_16LE
        };
        let (text, errors) = enc.decode_without_bom_handling(bytes);
        return (text.into_owned(), enc.name(), errors);
    }
    let (text, errors) = GB18030.decode_without_bom_handling(bytes);
    (text.into_owned(), GB18030.name(), errors)
}

/// UTF-16 without a BOM: many zero bytes, which neither UTF-8 text nor GB18030 text has.
fn looks_like_utf16(bytes: &[u8]) -> bool {
    bytes.len() >= 4
        && bytes.len() % 2 == 0
        && memchr::memchr_iter(0, bytes).count() * 3 > bytes.len()
}

/// How many escaped attribute quotes (`=\"`) or `\uXXXX` escapes show a page lifted out of a
/// JavaScript or JSON string literal.
const MIN_ESCAPED_QUOTES: usize = 2;
const MIN_UNICODE_ESCAPES: usize = 8;

/// Scrapers that lift pages out of front-end data files deliver HTML still escaped as a JS or
/// JSON string (`<td colspan=\"3\">`, `\n`, `\u6536`). Such text is unescaped once; `None`
/// when the text does not look escaped (plain text keeps its backslashes).
fn unescape_js_string(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let quotes = memchr::memmem::find_iter(b, br#"=\""#)
        .take(MIN_ESCAPED_QUOTES)
        .count();
    let unicode = memchr::memmem::find_iter(b, br"\u")
        .filter(|&i| {
            b.get(i + 2..i + 6)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
        })
        .take(MIN_UNICODE_ESCAPES)
        .count();
    if quotes < MIN_ESCAPED_QUOTES && unicode < MIN_UNICODE_ESCAPES {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some(e @ ('"' | '\'' | '\\' | '/')) => {
                out.push(e);
                chars.next();
            }
            Some('n') => {
                out.push('\n');
                chars.next();
            }
            Some('t') => {
                out.push('\t');
                chars.next();
            }
            Some('r') => {
                out.push('\r');
                chars.next();
            }
            Some('u') => {
                let hex: String = chars.clone().skip(1).take(4).collect();
                match u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 4)
                {
                    Some(cp) => {
                        for _ in 0..5 {
                            chars.next();
                        }
                        // Surrogate halves do not make a char on their own: U+FFFD.
                        out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                    }
                    None => out.push(c),
                }
            }
            _ => out.push(c),
        }
    }
    Some(out)
}

/// How much of the start of a text is looked at for HTML tags.
const HTML_SNIFF_BYTES: usize = 4096;

/// True when the first `HTML_SNIFF_BYTES` of `text` hold one of the tags of a page, in any
/// case. Every tag starts with `<`, so only the places a `<` stands are compared (plain text
/// has few or none), with no lower-cased copy of the head.
fn looks_like_html(text: &str) -> bool {
    const TAGS: [&[u8]; 9] = [
        b"<html",
        b"<!doctype html",
        b"<body",
        b"<table",
        b"<div",
        b"<p>",
        b"<p ",
        b"<td",
        b"<br",
    ];
    let head = &text.as_bytes()[..text.len().min(HTML_SNIFF_BYTES)];
    memchr::memchr_iter(b'<', head).any(|at| {
        TAGS.iter().any(|tag| {
            head[at..]
                .get(..tag.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(tag))
        })
    })
}

/// Bytes that may start a sequence [`normalize`] replaces.
const LEADS: [bool; 256] = {
    let mut t = [false; 256];
    t[0x0B] = true;
    t[0x0C] = true;
    t[b'\r' as usize] = true;
    t[0xC2] = true;
    t[0xE2] = true;
    t[0xE3] = true;
    t[0xEF] = true;
    t
};

/// Maps the characters later steps must not care about: full-width ASCII forms, exotic
/// spaces, minus signs, CR and form feeds. Zero-width characters are dropped.
///
/// Works on bytes: runs of bytes that need no change (all of ASCII but CR/VT/FF, and every
/// UTF-8 sequence outside the lead bytes C2, E2, E3, EF) are copied as they are.
pub fn normalize(text: &str) -> String {
    let b = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        // Skip to the next byte that may start a sequence to replace.
        match b[i..].iter().position(|&x| LEADS[x as usize]) {
            Some(k) => i += k,
            None => break,
        }
        let lead = b[i];
        // The replacement for the sequence at i, and its length.
        let (replacement, len): (&[u8], usize) = match lead {
            b'\r' if b.get(i + 1) == Some(&b'\n') => (b"", 1),
            b'\r' | 0x0B | 0x0C => (b"\n", 1),
            0xC2 => match b.get(i + 1) {
                Some(0xA0) => (b" ", 2),
                Some(0xAD) => (b"", 2),
                Some(0x85) => (b"\n", 2),
                _ => (&[], 0),
            },
            0xE2 => match (b.get(i + 1), b.get(i + 2)) {
                // U+2002..U+200A spaces, U+202F, U+205F.
                (Some(0x80), Some(0x82..=0x8A | 0xAF)) | (Some(0x81), Some(0x9F)) => (b" ", 3),
                // U+200B..U+200D zero-width.
                (Some(0x80), Some(0x8B..=0x8D)) => (b"", 3),
                // U+2013 en dash and U+2212 minus: a minus sign.
                (Some(0x80), Some(0x93)) | (Some(0x88), Some(0x92)) => (b"-", 3),
                // U+2028, U+2029 line and paragraph separators.
                (Some(0x80), Some(0xA8 | 0xA9)) => (b"\n", 3),
                _ => (&[], 0),
            },
            // U+3000 ideographic space.
            0xE3 if b.get(i + 1) == Some(&0x80) && b.get(i + 2) == Some(&0x80) => (b" ", 3),
            0xEF => match (b.get(i + 1), b.get(i + 2)) {
                (Some(0xBB), Some(0xBF)) => (b"", 3),
                // U+FF01..U+FF3F (EF BC 81..BF) and U+FF40..U+FF5E (EF BD 80..9E): ASCII forms.
                (Some(0xBC), Some(&c @ 0x81..=0xBF)) => {
                    flush(&mut out, &b[copied..i]);
                    out.push(c - 0x81 + 0x21);
                    i += 3;
                    copied = i;
                    continue;
                }
                (Some(0xBD), Some(&c @ 0x80..=0x9E)) => {
                    flush(&mut out, &b[copied..i]);
                    out.push(c - 0x80 + 0x60);
                    i += 3;
                    copied = i;
                    continue;
                }
                _ => (&[], 0),
            },
            _ => (&[], 0),
        };
        if len == 0 {
            i += 1;
            continue;
        }
        flush(&mut out, &b[copied..i]);
        out.extend_from_slice(replacement);
        i += len;
        copied = i;
    }
    flush(&mut out, &b[copied..]);
    debug_assert!(std::str::from_utf8(&out).is_ok());
    // SAFETY: `out` is `text` (valid UTF-8) with some whole UTF-8 sequences replaced by ASCII
    // bytes or removed; sequences are only ever matched from a lead byte through their last
    // continuation byte, so no sequence is split and the result is valid UTF-8.
    unsafe { String::from_utf8_unchecked(out) }
}

fn flush(out: &mut Vec<u8>, run: &[u8]) {
    out.extend_from_slice(run);
}

/// Flattens an HTML page to text: block elements become lines, each innermost `<table>`
/// becomes tab-separated rows laid out on its grid (spanned slots are empty cells).
pub fn html_to_text(html: &str) -> String {
    // html5ever's tree builder costs time quadratic in nesting depth; no report nests
    // deeply, so a hostile page is reduced to its text without building a tree (and
    // without the one-pass flattener's token list).
    if nesting_depth(html.as_bytes()) > MAX_HTML_DEPTH {
        return strip_tags(html);
    }
    // The common page needs no tree: one pass over its tags gives the same text.
    if let Some(text) = flat::flatten(html) {
        return text;
    }
    html_tree_to_text(html)
}

/// [`html_to_text`] through html5ever's tree: for every page, at a tree's cost.
fn html_tree_to_text(html: &str) -> String {
    let doc = Html::parse_document(html);
    let mut out = String::with_capacity(html.len() / 2);
    // Iterative walk: deeply nested pages must not overflow the stack.
    let mut stack: Vec<Step> = vec![Step::Enter(doc.tree.root().id())];
    while let Some(step) = stack.pop() {
        let id = match step {
            Step::Enter(id) => id,
            Step::Break => {
                line_break(&mut out);
                continue;
            }
        };
        let Some(node) = doc.tree.get(id) else {
            continue;
        };
        match node.value() {
            Node::Text(t) => push_collapsed(t, &mut out),
            Node::Element(el) => {
                let name = el.name();
                if matches!(
                    name,
                    "script" | "style" | "head" | "noscript" | "template" | "title"
                ) {
                    continue;
                }
                if name == "br" {
                    line_break(&mut out);
                    continue;
                }
                if name == "table" {
                    if let Some(table) = ElementRef::wrap(node) {
                        if !has_nested_table(table) {
                            line_break(&mut out);
                            write_table(table, &mut out);
                            line_break(&mut out);
                            continue;
                        }
                    }
                }
                let block = is_block(name);
                if block {
                    line_break(&mut out);
                    stack.push(Step::Break);
                } else if matches!(name, "td" | "th") {
                    // A cell of a layout table: keep its words apart from the next cell's.
                    stack.push(Step::Break);
                }
                let children: Vec<_> = node.children().map(|c| c.id()).collect();
                stack.extend(children.into_iter().rev().map(Step::Enter));
            }
            _ => {
                let children: Vec<_> = node.children().map(|c| c.id()).collect();
                stack.extend(children.into_iter().rev().map(Step::Enter));
            }
        }
    }
    out
}

/// Deepest element nesting handed to the HTML tree builder.
pub const MAX_HTML_DEPTH: usize = 256;

/// Elements whose end tag is optional or absent: they do not deepen the nesting count.
const UNNESTED: &[&[u8]] = &[
    b"p",
    b"li",
    b"td",
    b"th",
    b"tr",
    b"tbody",
    b"thead",
    b"tfoot",
    b"option",
    b"dt",
    b"dd",
    b"br",
    b"img",
    b"hr",
    b"meta",
    b"input",
    b"link",
    b"col",
    b"area",
    b"base",
    b"wbr",
    b"source",
    b"embed",
    b"param",
    b"track",
    b"colgroup",
    b"caption",
];

/// An upper estimate of the deepest nesting of elements, by counting start and end tags
/// (one pass over the bytes, no allocation).
fn nesting_depth(html: &[u8]) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut at = 0;
    while let Some(i) = memchr::memchr(b'<', &html[at..]) {
        let tag = &html[at + i + 1..];
        at += i + 1;
        if let Some(rest) = tag.strip_prefix(b"/") {
            if rest.first().is_some_and(u8::is_ascii_alphabetic) {
                depth = depth.saturating_sub(1);
            }
            continue;
        }
        if !tag.first().is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        let len = tag
            .iter()
            .position(|b| !b.is_ascii_alphanumeric())
            .unwrap_or(tag.len());
        let name = &tag[..len];
        if UNNESTED.iter().any(|u| u.eq_ignore_ascii_case(name)) {
            continue;
        }
        depth += 1;
        max = max.max(depth);
    }
    max
}

/// The text of an HTML page without its markup: tags become line breaks, the common
/// entities are decoded. For pages the tree builder must not see.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        match rest[open..].find('>') {
            Some(close) => {
                line_break(&mut out);
                rest = &rest[open + close + 1..];
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.replace("&nbsp;", "\u{a0}")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

enum Step {
    Enter(ego_tree::NodeId),
    Break,
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "li"
            | "ul"
            | "ol"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "tr"
            | "table"
            | "tbody"
            | "thead"
            | "tfoot"
            | "blockquote"
            | "pre"
            | "center"
            | "dl"
            | "dt"
            | "dd"
            | "form"
            | "main"
            | "nav"
            | "aside"
            | "figure"
            | "figcaption"
            | "caption"
            | "hr"
            | "body"
            | "html"
    )
}

fn line_break(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// Appends HTML text to `to`: each run of HTML whitespace (the source's line breaks too)
/// becomes one space, and none at the start of a line or after a space, so the result does
/// not depend on how the text was split into nodes (`a<b> b</b>` reads "a b").
/// `&nbsp;` (U+00A0) is kept for [`normalize`] to turn into a space.
fn push_collapsed(text: &str, to: &mut String) {
    const WS: [char; 5] = [' ', '\t', '\n', '\r', '\u{000C}'];
    let mut words = text.split(WS);
    // The first piece is not preceded by whitespace of this text.
    if let Some(first) = words.next() {
        to.push_str(first);
    }
    for word in words {
        if !to.is_empty() && !to.ends_with([' ', '\n']) {
            to.push(' ');
        }
        to.push_str(word);
    }
}

fn has_nested_table(table: ElementRef<'_>) -> bool {
    table
        .descendants()
        .skip(1)
        .any(|n| matches!(n.value(), Node::Element(e) if e.name() == "table"))
}

/// A `colspan`/`rowspan` attribute's value as a span of at least 1 and at most `max`.
fn span(value: Option<&str>, max: usize) -> usize {
    value
        .and_then(|v| v.trim().trim_end_matches(';').parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, max)
}

/// Lays the rows of one table out on a grid and writes them tab-separated.
fn write_table(table: ElementRef<'_>, out: &mut String) {
    // Rows of this table only (through thead/tbody/tfoot), in document order.
    let rows: Vec<ElementRef<'_>> = table
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| e.value().name() == "tr")
        .take(MAX_ROWS)
        .collect();
    // `pending[c]` = how many more rows column c stays covered by a rowspan from above.
    let mut pending: Vec<usize> = Vec::new();
    for row in rows {
        let mut cells: Vec<String> = Vec::new();
        let mut col = 0;
        let place = |cells: &mut Vec<String>, pending: &mut Vec<usize>, col: &mut usize| {
            while *col < pending.len() && pending[*col] > 0 {
                pending[*col] -= 1;
                cells.push(String::new());
                *col += 1;
            }
        };
        for cell in row
            .children()
            .filter_map(ElementRef::wrap)
            .filter(|e| matches!(e.value().name(), "td" | "th"))
        {
            place(&mut cells, &mut pending, &mut col);
            if col >= MAX_COLS {
                break;
            }
            let text = cell_text(cell);
            let colspan = span(cell.value().attr("colspan"), MAX_COLS - col);
            let rowspan = span(cell.value().attr("rowspan"), MAX_ROWS);
            for k in 0..colspan {
                cells.push(if k == 0 { text.clone() } else { String::new() });
                if pending.len() <= col + k {
                    pending.resize(col + k + 1, 0);
                }
                pending[col + k] = rowspan - 1;
            }
            col += colspan;
        }
        place(&mut cells, &mut pending, &mut col);
        line_break(out);
        out.push_str(&cells.join("\t"));
        line_break(out);
    }
}

/// The text of one cell on one line: inner line breaks become spaces.
fn cell_text(cell: ElementRef<'_>) -> String {
    let mut s = String::new();
    for t in cell.text() {
        push_collapsed(t, &mut s);
    }
    s.replace(['\t', '\n'], " ").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_encodings() {
        let text = "二、主动公开政府信息情况 规章 ３";
        let (gbk, _, _) = GB18030.encode(text);
        let cases: &[(&[u8], Option<&str>, &str)] = &[
            (text.as_bytes(), None, "UTF-8"),
            (&gbk, None, "gb18030"),
            (&gbk, Some("gbk"), "GBK"),
            (b"\xEF\xBB\xBFabc", None, "UTF-8"),
        ];
        for (bytes, hint, enc) in cases {
            let d = decode(bytes, *hint, ContentHint::Unknown);
            assert!(
                d.encoding.eq_ignore_ascii_case(enc),
                "{} vs {enc}",
                d.encoding
            );
            assert!(!d.had_errors);
        }
        let d = decode(&gbk, None, ContentHint::Unknown);
        assert_eq!(d.text, "二、主动公开政府信息情况 规章 3");
    }

    #[test]
    fn html_escaped_in_a_js_string_is_unescaped() {
        let text = r#""<table><tr><td colspan=\"2\">\u89c4\u7ae0</td><td class=\"n\">3</td></tr></table>\n""#;
        let d = decode(text.as_bytes(), None, ContentHint::Unknown);
        assert!(d.html);
        assert!(d.text.contains("规章\t\t3"), "{:?}", d.text);
        // Plain text keeps its backslashes.
        assert_eq!(unescape_js_string(r#"a\nb =\"x"#), None);
    }

    #[test]
    fn normalizes_full_width_and_spaces() {
        let cases = [
            ("（一）予以公开", "(一)予以公开"),
            ("１２３，４５６", "123,456"),
            ("a\u{3000}b\u{00A0}c", "a b c"),
            ("x\r\ny", "x\ny"),
            ("x\u{000C}y", "x\ny"),
            ("－１０５", "-105"),
            ("a\u{200B}b", "ab"),
            ("ｚ～！", "z~!"),
            ("x\ry", "x\ny"),
            ("\u{FEFF}规章\u{2028}3", "规章\n3"),
            ("中文（１）\u{2013}", "中文(1)-"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input), want, "{input}");
        }
    }

    #[test]
    fn html_tables_become_tab_rows_with_spans() {
        let html = r#"<html><body><p>二、主动公开政府信息情况</p>
            <table><tr><td rowspan="2">其他对外管理服务事项</td><td>行政检查</td><td>0</td></tr>
            <tr><td>行政确认</td><td>&nbsp;</td></tr>
            <tr><td colspan="2">规章</td><td>3</td></tr></table><p>五、存在的主要问题</p></body></html>"#;
        let d = decode(html.as_bytes(), None, ContentHint::Unknown);
        assert!(d.html);
        assert_eq!(
            d.text,
            "二、主动公开政府信息情况\n其他对外管理服务事项\t行政检查\t0\n\t行政确认\t\n规章\t\t3\n五、存在的主要问题\n"
        );
    }

    #[test]
    fn hostile_spans_are_clamped() {
        let html = r#"<table><tr><td colspan="99999999" rowspan="99999999">x</td></tr><tr><td>1</td></tr></table>"#;
        let d = decode(html.as_bytes(), None, ContentHint::Html);
        assert!(d
            .text
            .lines()
            .all(|l| l.split('\t').count() <= MAX_COLS + 1));
    }

    #[test]
    fn hostile_nesting_skips_the_tree_builder_in_linear_time() {
        for n in [1_000usize, 100_000] {
            let html = "<div><span>".repeat(n) + "规章" + &"</span></div>".repeat(n);
            assert!(nesting_depth(html.as_bytes()) > MAX_HTML_DEPTH);
            let d = decode(html.as_bytes(), None, ContentHint::Html);
            assert!(d.text.contains("规章"));
        }
        assert!(nesting_depth(b"<p>a<p>b<table><tr><td>x<tr><td>y</table>") <= 2);
        assert_eq!(
            nesting_depth(b"<div><div></div><div><b>x</b></div></div>"),
            3
        );
    }

    #[test]
    fn deeply_nested_html_does_not_overflow() {
        let html = "<div>".repeat(2_000) + "规章" + &"</div>".repeat(2_000);
        let d = decode(html.as_bytes(), None, ContentHint::Html);
        assert!(d.text.contains("规章"));
    }
}
