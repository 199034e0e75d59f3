//! Text of one table region to a stream of cells. PURE.
//!
//! Lines split into cells on tabs, on pipes, or on runs of two or more spaces (the layouts of
//! domain.md). A cell is a number, a blank marker or text; text with trailing numbers
//! (`规章 1 0 11`, `规范性文件898989`) splits into its label and its numbers, the latter marked
//! as fused when no separator stood between them. Page numbers (`-4-`) are dropped.

use super::labels;

/// `text`'s lines exactly as [`str::lines`] gives them (split after each `\n`, one `\r`
/// before it dropped, no empty last line), found by the memchr crate's vector search rather
/// than the standard library's per-line searcher.
pub fn lines(text: &str) -> Lines<'_> {
    Lines {
        text,
        from: 0,
        breaks: memchr::memchr_iter(b'\n', text.as_bytes()),
    }
}

/// The iterator of [`lines`].
pub struct Lines<'a> {
    text: &'a str,
    from: usize,
    breaks: memchr::Memchr<'a>,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.from >= self.text.len() {
            return None;
        }
        match self.breaks.next() {
            Some(nl) => {
                let line = &self.text[self.from..nl];
                self.from = nl + 1;
                Some(line.strip_suffix('\r').unwrap_or(line))
            }
            None => {
                let line = &self.text[self.from..];
                self.from = self.text.len();
                Some(line)
            }
        }
    }
}

/// `s` split at every `sep` (an ASCII byte), exactly as `str::split(sep as char)` splits it.
struct SplitAscii<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for SplitAscii<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        match memchr::memchr(self.sep, s.as_bytes()) {
            Some(i) => {
                self.rest = Some(&s[i + 1..]);
                Some(&s[..i])
            }
            None => {
                self.rest = None;
                Some(s)
            }
        }
    }
}

/// A number as printed in a cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number<'a> {
    pub value: f64,
    /// No decimal point was printed.
    pub integer: bool,
    /// The digits as printed (without sign or unit).
    pub raw: &'a str,
    /// Printed glued to other digits or text, or with a leading zero (`000023`): the cell
    /// boundaries inside it are unknown.
    pub fused: bool,
    /// The unit printed in the cell, if any.
    pub unit: Unit,
    /// A plus sign was printed (`+81`): only 2019's 本年增/减 column is signed.
    pub plus: bool,
}

/// A unit printed inside a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    None,
    Yuan,
    WanYuan,
    /// 件, 条, 个, 项: a count.
    Count,
}

/// One cell of the stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tok<'a> {
    Text(&'a str),
    Num(Number<'a>),
    /// An empty cell or a blank marker (—, /, 无).
    Blank,
    /// A figure printed so that no number can be read from it (`--253`, `+-5`): placed as a
    /// blank, and reported with its text.
    Malformed(&'a str),
}

/// A cell with its place: `line` counts lines of the region, `col` cells within the line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell<'a> {
    pub tok: Tok<'a>,
    pub line: u32,
    pub col: u16,
    /// The line was split on tabs or pipes, so its empty cells are real cells.
    pub gridded: bool,
}

/// Splits a region into cells, line by line.
pub fn cells(region: &str) -> Vec<Cell<'_>> {
    let mut out = Vec::with_capacity(region.len() / 4);
    for (line_no, line) in lines(region).enumerate() {
        let line_no = line_no as u32;
        let trimmed = line.trim();
        if trimmed.is_empty() || is_page_number(trimmed) || is_rule_line(trimmed) {
            continue;
        }
        let has_tab = memchr::memchr(b'\t', line.as_bytes()).is_some();
        // One pipe is enough: crawled pages print one cell per line, each ending in ` |`.
        let pipes = !has_tab && memchr::memchr(b'|', trimmed.as_bytes()).is_some();
        let gridded = has_tab || pipes;
        let parts = if has_tab {
            Parts::Split(SplitAscii {
                rest: Some(line),
                sep: b'\t',
            })
        } else if pipes {
            let inner = trimmed.strip_prefix('|').unwrap_or(trimmed);
            let inner = inner.strip_suffix('|').unwrap_or(inner);
            Parts::Split(SplitAscii {
                rest: Some(inner),
                sep: b'|',
            })
        } else {
            Parts::Spaces(SpaceSplit { rest: trimmed })
        };
        let mut col: u16 = 0;
        for part in parts {
            let part = part.trim();
            let before = out.len();
            split_cell(part, line_no, col, gridded, &mut out);
            if out.len() == before && gridded {
                out.push(Cell {
                    tok: Tok::Blank,
                    line: line_no,
                    col,
                    gridded,
                });
            }
            col = col.saturating_add(1);
        }
    }
    out
}

/// Page numbers of PDF text: `-4-`, `— 4 —`, `第 4 页`, `4/12`.
fn is_page_number(s: &str) -> bool {
    // Page numbers are short and hold digits; most lines are neither.
    if s.len() > 24 || !s.bytes().any(|b| b.is_ascii_digit()) {
        return false;
    }
    let t = labels::without_whitespace(s);
    let inner = t
        .trim_start_matches(['-', '—', '–', '─'])
        .trim_end_matches(['-', '—', '–', '─']);
    let dashed = inner.len() < t.len()
        && t.starts_with(['-', '—', '–', '─'])
        && t.ends_with(['-', '—', '–', '─']);
    if dashed && !inner.is_empty() && inner.len() <= 4 && inner.bytes().all(|b| b.is_ascii_digit())
    {
        return true;
    }
    if let Some(rest) = t.strip_prefix('第') {
        let rest = rest.split("共").next().unwrap_or(rest);
        if let Some(n) = rest.strip_suffix('页') {
            return !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
        }
    }
    false
}

/// Markdown table rules (`|---|:--|`) and box-drawing lines carry no cells.
fn is_rule_line(s: &str) -> bool {
    s.len() >= 3
        && matches!(s.as_bytes()[0], b'|' | b'-' | b':' | b'+' | b'=' | 0xE2)
        && s.chars()
            .all(|c| matches!(c, '|' | '-' | ':' | '+' | '=' | ' ' | '─' | '━' | '┼' | '│'))
}

/// A line's parts: split on one separator (tab or pipe), or on runs of spaces.
enum Parts<'a> {
    Split(SplitAscii<'a>),
    Spaces(SpaceSplit<'a>),
}

impl<'a> Iterator for Parts<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        match self {
            Parts::Split(split) => split.next(),
            Parts::Spaces(spaces) => spaces.next(),
        }
    }
}

/// Splits on runs of two or more spaces (pdftotext -layout columns).
struct SpaceSplit<'a> {
    rest: &'a str,
}

impl<'a> Iterator for SpaceSplit<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        match memchr::memmem::find(self.rest.as_bytes(), b"  ") {
            Some(i) => {
                let part = &self.rest[..i];
                self.rest = self.rest[i..].trim_start_matches(' ');
                Some(part)
            }
            None => Some(std::mem::take(&mut self.rest)),
        }
    }
}

fn is_blank_marker(s: &str) -> bool {
    matches!(
        s,
        "" | "-" | "--" | "—" | "——" | "/" | "／" | "\\" | "无" | "空" | "空白" | "-—"
    )
}

/// One separator-delimited cell, possibly several tokens.
fn split_cell<'a>(part: &'a str, line: u32, col: u16, gridded: bool, out: &mut Vec<Cell<'a>>) {
    let push = |out: &mut Vec<Cell<'a>>, tok| {
        out.push(Cell {
            tok,
            line,
            col,
            gridded,
        })
    };
    if part.is_empty() {
        return;
    }
    if is_blank_marker(part) {
        push(out, Tok::Blank);
        return;
    }
    if let Some(n) = read_number(part) {
        push(out, Tok::Num(n));
        return;
    }
    if is_doubled_sign(part) {
        push(out, Tok::Malformed(part));
        return;
    }
    // Space-separated words: trailing numeric words are cells of their own.
    if part.contains(' ') && part.as_bytes().last().is_some_and(u8::is_ascii_digit) {
        let mut head = part;
        let mut tail_start = part.len();
        while let Some(i) = head.rfind(' ') {
            let word = &head[i + 1..];
            if !word.is_empty() && read_number(word).is_none() {
                break;
            }
            tail_start = i + 1;
            head = head[..i].trim_end();
            if !head.contains(' ') && read_number(head).is_some() {
                tail_start = 0;
                break;
            }
        }
        if tail_start < part.len() {
            if tail_start > 0 {
                split_glued(part[..tail_start].trim_end(), line, col, gridded, out);
            }
            for w in part[tail_start..].split(' ').filter(|w| !w.is_empty()) {
                if let Some(n) = read_number(w) {
                    push(out, Tok::Num(n));
                }
            }
            return;
        }
    }
    split_glued(part, line, col, gridded, out);
}

/// Text with digits glued to it (`规范性文件898989`, crawler text) splits into alternating text
/// and fused-number tokens. Digits that belong to the text stay there: item numbers at the
/// start of a label (`1.属于`, `3、其他`), dates (`2019年`), ordinals (`第20条`), percentages.
fn split_glued<'a>(s: &'a str, line: u32, col: u16, gridded: bool, out: &mut Vec<Cell<'a>>) {
    let push = |out: &mut Vec<Cell<'a>>, tok| {
        out.push(Cell {
            tok,
            line,
            col,
            gridded,
        })
    };
    let bytes = s.as_bytes();
    let mut text_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len()
            && (bytes[i].is_ascii_digit()
                || (bytes[i] == b'.' && i + 1 < bytes.len() && bytes[i + 1].is_ascii_digit()))
        {
            i += 1;
        }
        let before = s[text_start..start].trim();
        let rest = &s[i..];
        // `230 000023`: a run after a space that follows a number is the next cell, not the
        // item number of a label.
        let after_number = before.is_empty()
            && start > text_start
            && out
                .last()
                .is_some_and(|c| c.line == line && c.col == col && matches!(c.tok, Tok::Num(_)));
        // Crawler text runs a row's cells into the next label's item number
        // (`国家秘密00000002.其他法律…`, `00 0 0 00 02.其他法律…`): items are numbered 1-9,
        // so the run's last digit is the next label's and the digits before it are cells.
        if (!before.is_empty() || after_number)
            && i - start >= 2
            && rest.starts_with(['.', '、'])
            && rest[1..].starts_with(|c: char| !c.is_ascii())
            && !before.ends_with('第')
            && !before.ends_with('(')
            && bytes[start..i].iter().all(u8::is_ascii_digit)
        {
            i -= 1;
        }
        let rest = &s[i..];
        // `35-15`: a signed cell glued to the one before it (2019's 本年增/减).
        let signed = before == "-"
            && out
                .last()
                .is_some_and(|c| c.line == line && matches!(c.tok, Tok::Num(_)));
        if signed {
            let run = &s[start - 1..i];
            if let Some(mut n) = read_number(run) {
                n.fused = true;
                push(out, Tok::Num(n));
                text_start = i;
                continue;
            }
        }
        let part_of_text = (before.is_empty() && !after_number)
            || before.ends_with('第')
            || before.ends_with('(')
            || rest.starts_with(['.', '、', ')', '．', '%', '年', '月', '日', '号']);
        if part_of_text {
            continue;
        }
        if !before.is_empty() {
            push(out, Tok::Text(before));
        }
        let run = &s[start..i];
        let mut n = read_number(run).unwrap_or(Number {
            value: 0.0,
            integer: true,
            raw: run,
            fused: true,
            unit: Unit::None,
            plus: false,
        });
        n.fused = true;
        if rest.starts_with("万元") {
            n.unit = Unit::WanYuan;
            i += "万元".len();
        } else if rest.starts_with('元') {
            n.unit = Unit::Yuan;
            i += '元'.len_utf8();
        } else if rest.starts_with(['件', '条', '个', '项']) {
            n.unit = Unit::Count;
            i += rest.chars().next().map_or(0, char::len_utf8);
        }
        push(out, Tok::Num(n));
        text_start = i;
    }
    let text = s[text_start..].trim();
    if !text.is_empty() {
        push(out, Tok::Text(text));
    }
}

/// Reads a cell that is exactly one number: `12`, `-105`, `5.2898`, `1,234`, `3件`, `5.2万元`.
pub fn read_number(cell: &str) -> Option<Number<'_>> {
    let s = cell.trim();
    let (s, unit) = if let Some(x) = s.strip_suffix("万元") {
        (x, Unit::WanYuan)
    } else if let Some(x) = s.strip_suffix('元') {
        (x, Unit::Yuan)
    } else if let Some(x) = s.strip_suffix(['件', '条', '个', '项']) {
        (x, Unit::Count)
    } else {
        (s, Unit::None)
    };
    let s = s.trim_end();
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, s[1..].trim_start()),
        b'+' => (false, s[1..].trim_start()),
        _ => (false, s),
    };
    let bytes = digits.as_bytes();
    if bytes.is_empty() || !bytes[0].is_ascii_digit() || !bytes[bytes.len() - 1].is_ascii_digit() {
        return None;
    }
    let mut dots = 0;
    let mut commas = 0;
    for &b in bytes {
        match b {
            b'0'..=b'9' => {}
            b'.' => dots += 1,
            b',' => commas += 1,
            _ => return None,
        }
    }
    if dots > 1 {
        return None;
    }
    if dots == 0 && commas == 0 && bytes.len() <= 15 {
        // The common cell, a plain integer: below 2^53, so its value is exact, as `parse`
        // would give it.
        let value = bytes
            .iter()
            .fold(0u64, |v, &b| v * 10 + u64::from(b - b'0')) as f64;
        return Some(Number {
            value: if negative { -value } else { value },
            integer: true,
            raw: digits,
            fused: bytes.len() > 1 && bytes[0] == b'0',
            unit,
            plus: s.starts_with('+'),
        });
    }
    let plain: std::borrow::Cow<'_, str> = if commas > 0 {
        // Thousands separators only: 1,234,567(.89)
        let int_part = digits.split('.').next().unwrap_or("");
        let groups: Vec<&str> = int_part.split(',').collect();
        if groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3) {
            return None;
        }
        digits.replace(',', "").into()
    } else {
        digits.into()
    };
    let value: f64 = plain.parse().ok()?;
    let int_digits = plain.split('.').next().unwrap_or("");
    Some(Number {
        value: if negative { -value } else { value },
        integer: dots == 0,
        raw: digits,
        fused: int_digits.len() > 1 && int_digits.starts_with('0'),
        unit,
        plus: s.starts_with('+'),
    })
}

/// Two or more signs before a figure (`--253`, `+-5`, `- -3`): no number is read from it.
fn is_doubled_sign(cell: &str) -> bool {
    let digits = cell.trim_start_matches(['-', '+', '−', '－', '＋', ' ']);
    let signs = cell[..cell.len() - digits.len()]
        .chars()
        .filter(|c| *c != ' ')
        .count();
    signs >= 2 && read_number(digits).is_some()
}

#[cfg(test)]
#[allow(clippy::type_complexity)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        cells(s)
            .into_iter()
            .map(|c| match c.tok {
                Tok::Text(t) => format!("T:{t}"),
                Tok::Num(n) if n.fused => format!("F:{}", n.raw),
                Tok::Num(n) => format!("N:{}", n.value),
                Tok::Blank => "B".to_owned(),
                Tok::Malformed(t) => format!("M:{t}"),
            })
            .collect()
    }

    #[test]
    fn lines_and_splits_are_the_standard_ones() {
        for text in [
            "",
            "\n",
            "\n\n",
            "a",
            "a\n",
            "a\nb",
            "a\r\nb\r\n",
            "a\rb\r",
            "\r\n\r",
            "规章\t1\t|2||\n\t\n|",
        ] {
            assert_eq!(
                lines(text).collect::<Vec<_>>(),
                text.lines().collect::<Vec<_>>(),
                "{text:?}"
            );
            for sep in [b'\t', b'|'] {
                let split = SplitAscii {
                    rest: Some(text),
                    sep,
                };
                assert_eq!(
                    split.collect::<Vec<_>>(),
                    text.split(char::from(sep)).collect::<Vec<_>>(),
                    "{text:?}"
                );
            }
        }
    }

    #[test]
    fn reads_numbers() {
        let cases: &[(&str, Option<(f64, bool, bool)>)] = &[
            ("0", Some((0.0, true, false))),
            ("2209", Some((2209.0, true, false))),
            ("-105", Some((-105.0, true, false))),
            ("+3", Some((3.0, true, false))),
            ("5.2898", Some((5.2898, false, false))),
            ("16265.755", Some((16265.755, false, false))),
            ("1,234,567", Some((1234567.0, true, false))),
            ("000023", Some((23.0, true, true))),
            ("3件", Some((3.0, true, false))),
            ("12,34", None),
            ("1.2.3", None),
            ("100%", None),
            ("规章", None),
            ("1.", None),
            ("", None),
            ("-", None),
            ("--253", None),
            ("+-5", None),
        ];
        for (input, want) in cases {
            let got = read_number(input).map(|n| (n.value, n.integer, n.fused));
            assert_eq!(got, *want, "{input:?}");
        }
        assert_eq!(
            read_number("5.2万元").map(|n| (n.value, n.unit)),
            Some((5.2, Unit::WanYuan))
        );
        assert_eq!(
            read_number("3940元").map(|n| (n.value, n.unit)),
            Some((3940.0, Unit::Yuan))
        );
        // A printed plus sign is kept: only the 2019 change column is signed.
        assert_eq!(
            read_number("+22").map(|n| (n.value, n.plus)),
            Some((22.0, true))
        );
        assert_eq!(read_number("22").map(|n| n.plus), Some(false));
    }

    #[test]
    fn splits_the_layouts_of_domain_md() {
        let cases: &[(&str, &[&str])] = &[
            ("规章\t0\t0\t0", &["T:规章", "N:0", "N:0", "N:0"]),
            (
                "行政事业性收费\t0\t0\t",
                &["T:行政事业性收费", "N:0", "N:0", "B"],
            ),
            ("| 规章 | 0 | 0 | 0 |", &["T:规章", "N:0", "N:0", "N:0"]),
            ("|||规章|1|", &["B", "B", "T:规章", "N:1"]),
            (
                "规章            1          0        11",
                &["T:规章", "N:1", "N:0", "N:11"],
            ),
            ("规章 1 0 11", &["T:规章", "N:1", "N:0", "N:11"]),
            ("规范性文件898989", &["T:规范性文件", "F:898989"]),
            ("230 000023", &["N:230", "F:000023"]),
            ("1.属于国家秘密", &["T:1.属于国家秘密"]),
            ("3、其他\t5", &["T:3、其他", "N:5"]),
            (
                "(三) 1. 属于国家秘密\t0",
                &["T:(三) 1. 属于国家秘密", "N:0"],
            ),
            ("第二十条第(九)项", &["T:第二十条第(九)项"]),
            ("-4-", &[]),
            ("第 3 页", &[]),
            ("|---|---|", &[]),
            ("\t95", &["B", "N:95"]),
            (
                "采购总金额（万元，保留四位小数）",
                &["T:采购总金额（万元，保留四位小数）"],
            ),
            (
                "行政处罚\t177\t-105\t73",
                &["T:行政处罚", "N:177", "N:-105", "N:73"],
            ),
            // A doubled sign is no number: kept as printed, for a finding.
            (
                "行政处罚\t177\t--253\t73",
                &["T:行政处罚", "N:177", "M:--253", "N:73"],
            ),
            (
                "| 行政许可 | 0 | +-5 | 3 |",
                &["T:行政许可", "N:0", "M:+-5", "N:3"],
            ),
            (
                "规章000规范性文件898989",
                &["T:规章", "F:000", "T:规范性文件", "F:898989"],
            ),
        ];
        for (input, want) in cases {
            assert_eq!(toks(input), *want, "{input:?}");
        }
    }
}
