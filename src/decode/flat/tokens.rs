//! The page split into text, tags and comments, each tag classified by what it is to the
//! flattener; declines the tags and markup the one-pass walk does not follow.

use super::Declined;
use crate::decode::is_block;

/// What a tag is to the flattener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Table,
    Row,
    /// td or th: an end tag closes only its own kind.
    Cell {
        th: bool,
    },
    /// thead, tbody, tfoot.
    Section(u8),
    Caption,
    /// col, colgroup.
    Col,
    Br,
    /// A block element of [`is_block`] other than the table ones; the name's index.
    Block(u8),
    /// Any heading h1-h6: html5ever closes one heading with another's end tag.
    Heading,
    /// html, body, head: their start and end tags never end a line here.
    Root,
    /// script, style, title, noscript: their content is skipped.
    Hidden,
    /// Elements that change nothing but separate text nodes.
    Inline,
    /// An inline element of [`FORMATTING`]; the name's index. html5ever keeps it on its list
    /// of active formatting elements, and its end tag may move the blocks opened in it.
    Formatting(u8),
}

#[derive(Debug)]
pub(super) enum Token<'a> {
    /// Text between tags, character references not yet decoded.
    Text(&'a str),
    Start {
        kind: Kind,
        colspan: Option<&'a str>,
        rowspan: Option<&'a str>,
    },
    End(Kind),
    /// A comment or doctype: a node of its own, so it separates text nodes.
    Comment,
}

/// Block names the walk breaks lines at, other than the table ones and the headings.
pub(super) const BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "li",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "center",
    "dl",
    "dt",
    "dd",
    "main",
    "nav",
    "aside",
    "figure",
    "figcaption",
    "hr",
];

/// The index of "p" in [`BLOCKS`].
pub(super) const P: u8 = 0;

/// The formatting elements html5ever reopens and adopts (nobr is declined in [`classify`]).
const FORMATTING: &[&str] = &[
    "a", "b", "big", "code", "em", "font", "i", "s", "small", "strike", "strong", "tt", "u",
];

/// The index of "a" in [`FORMATTING`]: its start tag closes an open `a` as its end tag does.
pub(super) const A: u8 = 0;

fn classify(name: &str) -> Result<Kind, Declined> {
    Ok(match name {
        "table" => Kind::Table,
        "tr" => Kind::Row,
        "td" => Kind::Cell { th: false },
        "th" => Kind::Cell { th: true },
        "thead" => Kind::Section(0),
        "tbody" => Kind::Section(1),
        "tfoot" => Kind::Section(2),
        "caption" => Kind::Caption,
        "col" | "colgroup" => Kind::Col,
        "br" => Kind::Br,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => Kind::Heading,
        "html" | "body" | "head" => Kind::Root,
        "script" | "style" | "title" | "noscript" => Kind::Hidden,
        // Elements html5ever gives special parsing or tree rules this pass does not follow
        // (one match, not a scan of a list: every tag name comes here).
        "template" | "textarea" | "select" | "option" | "optgroup" | "svg" | "math"
        | "frameset" | "frame" | "iframe" | "xmp" | "plaintext" | "noembed" | "noframes"
        | "object" | "applet" | "marquee" | "listing" | "button" | "image" | "isindex"
        | "keygen" | "form" | "input" | "nobr" | "ruby" | "rb" | "rt" | "rp" | "rtc" | "menu"
        | "menuitem" | "dir" | "details" | "summary" | "dialog" | "hgroup" | "address"
        | "fieldset" | "legend" | "search" | "embed" | "param" | "source" | "track" | "area"
        | "basefont" | "bgsound" => return Err(()),
        _ => match BLOCKS.iter().position(|b| *b == name) {
            Some(i) => Kind::Block(i as u8),
            None if is_block(name) => return Err(()),
            None => match FORMATTING.iter().position(|f| *f == name) {
                Some(i) => Kind::Formatting(i as u8),
                None => Kind::Inline,
            },
        },
    })
}

/// Splits the page into text, tags and comments.
pub(super) fn tokenize(html: &str) -> Result<Vec<Token<'_>>, Declined> {
    let b = html.as_bytes();
    let mut tokens = Vec::with_capacity(b.len() / 16);
    let mut text_from = 0;
    let mut at = 0;
    let mut name_buf = String::new();
    while let Some(k) = memchr::memchr(b'<', &b[at..]) {
        let lt = at + k;
        let next = b.get(lt + 1).copied();
        let (token, end) = match next {
            Some(c) if c.is_ascii_alphabetic() => {
                let (name, attrs_from) = tag_name(b, lt + 1, &mut name_buf);
                let kind = classify(name)?;
                let (colspan, rowspan, end) = attributes(html, attrs_from)?;
                let token = Token::Start {
                    kind,
                    colspan,
                    rowspan,
                };
                if kind == Kind::Hidden {
                    // Raw text to the matching end tag (or the end of the page).
                    let body_from = end;
                    let name = name.to_owned();
                    let close = find_end_tag(b, body_from, &name).unwrap_or(b.len());
                    if name == "script"
                        && memchr::memmem::find(&b[body_from..close], b"<!--").is_some()
                    {
                        return Err(());
                    }
                    push_text(&mut tokens, html, text_from, lt);
                    tokens.push(token);
                    at = close;
                    text_from = close;
                    continue;
                }
                (token, end)
            }
            Some(b'/') => match b.get(lt + 2) {
                Some(c) if c.is_ascii_alphabetic() => {
                    let (name, attrs_from) = tag_name(b, lt + 2, &mut name_buf);
                    let kind = classify(name)?;
                    let (_, _, end) = attributes(html, attrs_from)?;
                    (Token::End(kind), end)
                }
                _ => return Err(()),
            },
            Some(b'!') => {
                if b[lt..].starts_with(b"<!--") {
                    let body = &b[lt + 4..];
                    if body.starts_with(b">") || body.starts_with(b"->") {
                        return Err(());
                    }
                    let close = memchr::memmem::find(body, b"-->").ok_or(())?;
                    if memchr::memmem::find(&body[..close + 1], b"--!>").is_some() {
                        return Err(());
                    }
                    (Token::Comment, lt + 4 + close + 3)
                } else {
                    let close = memchr::memchr(b'>', &b[lt..]).ok_or(())?;
                    if b[lt..lt + close].iter().any(|&c| c == b'"' || c == b'\'') {
                        return Err(());
                    }
                    (Token::Comment, lt + close + 1)
                }
            }
            Some(b'?') => {
                let close = memchr::memchr(b'>', &b[lt..]).ok_or(())?;
                (Token::Comment, lt + close + 1)
            }
            // A '<' that opens no tag is text.
            _ => {
                at = lt + 1;
                continue;
            }
        };
        push_text(&mut tokens, html, text_from, lt);
        tokens.push(token);
        at = end;
        text_from = end;
    }
    push_text(&mut tokens, html, text_from, b.len());
    Ok(tokens)
}

fn push_text<'a>(tokens: &mut Vec<Token<'a>>, html: &'a str, from: usize, to: usize) {
    if from < to {
        tokens.push(Token::Text(&html[from..to]));
    }
}

/// The lower-cased tag name starting at `from` and where its attributes start.
fn tag_name<'b>(b: &[u8], from: usize, buf: &'b mut String) -> (&'b str, usize) {
    let len = b[from..]
        .iter()
        .position(|&c| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0C | b'/' | b'>'))
        .unwrap_or(b.len() - from);
    buf.clear();
    let name = &b[from..from + len];
    if name.is_ascii() {
        buf.extend(name.iter().map(|&c| char::from(c.to_ascii_lowercase())));
    } else {
        // The name ends at ASCII bytes only, so it is whole UTF-8.
        buf.push_str(&String::from_utf8_lossy(name));
        buf.make_ascii_lowercase();
    }
    (buf.as_str(), from + len)
}

/// Reads attributes from `from` to the tag's closing `>`: the first colspan and rowspan
/// values, and the index after the `>`.
#[allow(clippy::type_complexity)]
fn attributes(html: &str, from: usize) -> Result<(Option<&str>, Option<&str>, usize), Declined> {
    let b = html.as_bytes();
    let (mut colspan, mut rowspan) = (None, None);
    let mut i = from;
    let is_space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0C);
    loop {
        while i < b.len() && (is_space(b[i]) || b[i] == b'/') {
            i += 1;
        }
        match b.get(i) {
            None => return Err(()),
            Some(b'>') => return Ok((colspan, rowspan, i + 1)),
            Some(b'=' | b'"' | b'\'' | b'<') => return Err(()),
            _ => {}
        }
        let name_from = i;
        while i < b.len() && !is_space(b[i]) && !matches!(b[i], b'/' | b'>' | b'=') {
            i += 1;
        }
        let name = &b[name_from..i];
        while i < b.len() && is_space(b[i]) {
            i += 1;
        }
        let mut value = None;
        if b.get(i) == Some(&b'=') {
            i += 1;
            while i < b.len() && is_space(b[i]) {
                i += 1;
            }
            match b.get(i) {
                None => return Err(()),
                Some(&q @ (b'"' | b'\'')) => {
                    let close = memchr::memchr(q, &b[i + 1..]).ok_or(())?;
                    value = Some(&html[i + 1..i + 1 + close]);
                    i += close + 2;
                }
                Some(b'>') => return Err(()),
                _ => {
                    let from = i;
                    while i < b.len() && !is_space(b[i]) && b[i] != b'>' {
                        i += 1;
                    }
                    value = Some(&html[from..i]);
                }
            }
        }
        if let Some(v) = value {
            if v.contains('&') {
                return Err(());
            }
            if name.eq_ignore_ascii_case(b"colspan") && colspan.is_none() {
                colspan = Some(v);
            } else if name.eq_ignore_ascii_case(b"rowspan") && rowspan.is_none() {
                rowspan = Some(v);
            }
        } else if name.eq_ignore_ascii_case(b"colspan") || name.eq_ignore_ascii_case(b"rowspan") {
            return Err(());
        }
    }
}

/// Where `</name` (any case, then a space, `/` or `>`) starts at or after `from`.
fn find_end_tag(b: &[u8], from: usize, name: &str) -> Option<usize> {
    let mut at = from;
    while let Some(k) = memchr::memmem::find(&b[at..], b"</") {
        let start = at + k;
        let after = start + 2 + name.len();
        if b.len() >= after
            && b[start + 2..after].eq_ignore_ascii_case(name.as_bytes())
            && matches!(
                b.get(after),
                None | Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0C | b'/' | b'>')
            )
        {
            return Some(start);
        }
        at = start + 2;
    }
    None
}

/// For each table start tag in page order: whether another table opens inside it.
pub(super) fn nested_tables(tokens: &[Token<'_>]) -> Vec<bool> {
    let mut nested = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    for t in tokens {
        match t {
            Token::Start {
                kind: Kind::Table, ..
            } => {
                if let Some(&outer) = open.last() {
                    nested[outer] = true;
                }
                open.push(nested.len());
                nested.push(false);
            }
            Token::End(Kind::Table) => {
                open.pop();
            }
            _ => {}
        }
    }
    nested
}
