//! The publication date of a report: the one the client sent, else the one the text prints.
//! PURE: no I/O.
//!
//! Where a text prints its publication date:
//! - a page header's label: `发布日期：2024-01-15`, `发布时间：2024年01月15日 10:20`,
//!   `发表时间:`, a bare `日期:` or `时间:` standing as a field of its own (`来源：… 时间：…`);
//!   a document's `成文日期` / `发文日期` (a 信息公开目录 table, `| 发文日期 | 2026-01-16 |`);
//! - a header line that opens with the date and goes on to the page's fields
//!   (`2024-01-15 来源：…`, `2024年01月16日 来源: 上海普陀`);
//! - the date under the signature, alone on one of the last lines (`2024年1月15日`,
//!   `二〇二四年一月十五日`, `2024.1.15`, `2024/01/15`).
//!
//! Dates of the narrative (statistics periods, meetings, 截至2023年12月31日) stand in none of
//! these places and are never read. A date is plausible only after the report's year ends:
//! from 1 January of year + 1 to the end of year + 2 ([`plausible`]); with no year known,
//! only labelled dates are kept (a lone date line could be anything).
//!
//! Where the text prints several plausible dates, the first place in [`Place`]'s order that
//! holds one wins: the page's publication (发布) date, then the document's date (成文, 发文),
//! then the signature. Two different dates in the winning place are a contradiction the text
//! does not resolve: none is read (never guess).

use super::sheet::Sheet;
use super::Hints;
use crate::model::finding::Code;
use crate::pb::{DateSource, Publication};

/// A calendar date, checked: the month and day exist in that year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

/// The years a printed date may carry: the regulations' reports start in 2008; a later year
/// than this is a misreading.
const YEARS: std::ops::RangeInclusive<i32> = 1990..=2100;

impl Date {
    /// The date, if it exists on the calendar.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (YEARS.contains(&year) && (1..=days).contains(&day)).then_some(Date { year, month, day })
    }

    /// `YYYY-MM-DD`.
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Where a printed date stands, in the order of preference (the first wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    /// The page's publication date: 发布日期, 发布时间, 发表时间, a bare 日期 or 时间 field, or a
    /// header line opening with the date (`2024-01-15 来源：…`).
    Published,
    /// The document's own date: 成文日期, 发文日期.
    Written,
    /// The date under the signature at the end.
    Signature,
}

/// One date the text prints as a publication date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Printed {
    pub date: Date,
    pub place: Place,
    /// Printed after a label (发布日期：…); the others are known by where they stand.
    pub labelled: bool,
}

/// Labels of the page's publication date; specific enough to be read wherever they stand.
const PUBLISHED_LABELS: [&str; 4] = ["发布日期", "发布时间", "发表日期", "发表时间"];
/// Labels of the document's own date.
const WRITTEN_LABELS: [&str; 4] = ["成文日期", "成文时间", "发文日期", "发文时间"];
/// Bare labels, read only as a field of their own: at a line's start or after a space or a
/// field separator, never inside a word (统计时间, 截止日期, 更新时间).
const BARE_LABELS: [&str; 2] = ["日期", "时间"];
/// What a header line goes on to after its date (`2024-01-15 来源：…`).
const HEADER_FIELDS: [&str; 9] = [
    "来源",
    "信息来源",
    "作者",
    "浏览",
    "点击",
    "访问",
    "字体",
    "字号",
    "发布机构",
];
/// The characters that may stand between a label and its date (colons, spaces, the bars and
/// line breaks of a flattened table), at most [`LABEL_GAP`] of them.
const GAP_CHARS: [char; 8] = [':', '：', ' ', '\t', '\n', '|', '｜', '\u{a0}'];
const LABEL_GAP: usize = 16;
/// How many of the last non-empty lines may hold the signature's date: the signature stands
/// at the end, followed at most by a page footer (扫一扫在手机打开当前页, 打印, 关闭).
const SIGNATURE_LINES: usize = 8;

/// Every date the text prints as its publication date, in text order within each kind.
pub fn printed(text: &str) -> Vec<Printed> {
    let mut out = Vec::new();
    let labels = PUBLISHED_LABELS
        .iter()
        .map(|l| (*l, Place::Published, false))
        .chain(WRITTEN_LABELS.iter().map(|l| (*l, Place::Written, false)))
        .chain(BARE_LABELS.iter().map(|l| (*l, Place::Published, true)));
    // Every label ends in a bare label (日期 or 时间), so one pass for each bare label finds
    // them all: a label's matches are the bare label's matches preceded by its prefix, in the
    // same text order as `match_indices` (no label overlaps itself).
    let bare_hits: [Vec<usize>; 2] =
        BARE_LABELS.map(|b| memchr::memmem::find_iter(text.as_bytes(), b).collect());
    for (label, place, bare) in labels {
        let (k, suffix) = BARE_LABELS
            .iter()
            .enumerate()
            .find(|(_, b)| label.ends_with(**b))
            .expect("every label ends in a bare label");
        let prefix = &label[..label.len() - suffix.len()];
        let starts = bare_hits[k]
            .iter()
            .filter(|&&p| p >= prefix.len() && text.as_bytes()[..p].ends_with(prefix.as_bytes()))
            .map(|&p| p - prefix.len());
        for at in starts {
            if bare && !field_start(&text[..at]) {
                continue;
            }
            let after = &text[at + label.len()..];
            let gap: usize = after
                .chars()
                .take(LABEL_GAP)
                .take_while(|c| GAP_CHARS.contains(c))
                .map(char::len_utf8)
                .sum();
            if let Some((date, _)) = date_at(&after[gap..]) {
                out.push(Printed {
                    date,
                    place,
                    labelled: true,
                });
            }
        }
    }
    for line in super::cells::lines(text) {
        let line =
            line.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '•' | '·' | '|'));
        if let Some((date, len)) = date_at(line) {
            let rest = skip_time(&line[len..]).trim_start();
            if HEADER_FIELDS.iter().any(|f| rest.starts_with(f)) {
                out.push(Printed {
                    date,
                    place: Place::Published,
                    labelled: false,
                });
            }
        }
    }
    let last: Vec<&str> = text
        .lines()
        .rev()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(SIGNATURE_LINES)
        .collect();
    for line in last.into_iter().rev() {
        if let Some((date, len)) = date_at(line) {
            if len == line.len() {
                out.push(Printed {
                    date,
                    place: Place::Signature,
                    labelled: false,
                });
            }
        }
    }
    out
}

/// True when a bare label at the end of `before` starts a field of its own: at the text's or
/// a line's start, or after a space, a bullet or a separator.
fn field_start(before: &str) -> bool {
    before.chars().next_back().is_none_or(|c| {
        c.is_whitespace()
            || matches!(
                c,
                '|' | '｜'
                    | '•'
                    | '·'
                    | ':'
                    | '：'
                    | ';'
                    | '；'
                    | ','
                    | '，'
                    | '>'
                    | '】'
                    | ']'
                    | '）'
                    | ')'
            )
    })
}

/// A date plausible as the publication of a report on `year`: from 1 January of the next
/// year to the end of the year after (art. 49 sets 31 January and 31 March; late
/// publications and re-publications come within the following year).
pub fn plausible(date: Date, year: i32) -> bool {
    (year + 1..=year + 2).contains(&date.year)
}

/// The publication date the text prints, by the order of [`Place`]; `None` when it prints
/// none, or two different ones in the winning place. See the module doc.
pub fn read(text: &str, year: Option<i32>) -> Option<Date> {
    let kept: Vec<Printed> = printed(text)
        .into_iter()
        .filter(|p| match year {
            Some(y) => plausible(p.date, y),
            None => p.labelled,
        })
        .collect();
    let best = kept.iter().map(|p| p.place).min()?;
    let mut dates = kept.iter().filter(|p| p.place == best).map(|p| p.date);
    let first = dates.next()?;
    dates.all(|d| d == first).then_some(first)
}

/// A client's date: `YYYY-MM-DD`, `YYYY/MM/DD` or `YYYY年M月D日` (one- or two-digit months
/// and days), a real calendar date; `None` for anything else.
pub fn client_date(s: &str) -> Option<Date> {
    let s = s.trim();
    if !s
        .chars()
        .all(|c| c.is_ascii_digit() || "-/年月日".contains(c))
    {
        return None;
    }
    date_at(s)
        .filter(|(_, len)| *len == s.len())
        .map(|(d, _)| d)
}

/// The report's publication: the client's date when it is a valid one (else a HINT_MISMATCH
/// finding says it was ignored), else the text's ([`read`]); the URL the client sent. `None`
/// when there is neither a date nor a URL.
pub fn publication(
    text: &str,
    year: Option<i32>,
    hints: &Hints,
    sheet: &mut Sheet,
) -> Option<Publication> {
    let client = hints.published().map(str::trim).filter(|s| !s.is_empty());
    let from_client = client.and_then(|s| {
        let date = client_date(s);
        if date.is_none() {
            sheet.note(
                Code::HintMismatch,
                "publication.date",
                format!("客户端提供的发布日期「{s}」不是有效日期（应为 YYYY-MM-DD），已忽略"),
            );
        }
        date
    });
    let dated = match from_client {
        Some(d) => Some((d, DateSource::Client)),
        None => read(text, year).map(|d| (d, DateSource::Text)),
    };
    let url = hints.url().map(str::trim).unwrap_or_default();
    if dated.is_none() && url.is_empty() {
        return None;
    }
    let (date, date_source) = dated.map_or((String::new(), DateSource::Unspecified), |(d, s)| {
        (d.iso(), s)
    });
    Some(Publication {
        date,
        date_source: date_source as i32,
        url: url.to_owned(),
    })
}

/// After a date, a time of day (` 10:20`, ` 15:22:00`) skipped.
fn skip_time(s: &str) -> &str {
    let t = s.trim_start();
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let h = digits(t);
    if !(1..=2).contains(&h) || !t[h..].starts_with(':') {
        return s;
    }
    let mut rest = &t[h + 1..];
    let m = digits(rest);
    if m != 2 {
        return s;
    }
    rest = &rest[m..];
    if let Some(sec) = rest.strip_prefix(':') {
        if digits(sec) == 2 {
            rest = &sec[2..];
        }
    }
    rest
}

/// The date `s` starts with, and its length in bytes: Arabic digits (ASCII or full-width)
/// as `2024-01-15`, `2024/1/15`, `2024.1.15`, `2024年1月15日` (spaces allowed around 年月日,
/// as PDF text prints them), or Chinese numerals as `二〇二四年一月十五日`.
pub fn date_at(s: &str) -> Option<(Date, usize)> {
    arabic_date(s).or_else(|| chinese_date(s))
}

/// A reader over a string's characters that knows how many bytes it consumed.
struct Cursor<'a> {
    s: &'a str,
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.s[self.at..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        let ok = self.peek() == Some(c);
        if ok {
            self.at += c.len_utf8();
        }
        ok
    }

    fn spaces(&mut self) {
        while self.peek().is_some_and(|c| c == ' ' || c == '\u{3000}') {
            self.bump();
        }
    }

    /// Up to `max` decimal digits (ASCII or full-width): their value and count.
    fn number(&mut self, max: usize) -> (u32, usize) {
        let (mut value, mut n) = (0, 0);
        while n < max {
            let Some(d) = self.peek().and_then(digit) else {
                break;
            };
            self.bump();
            value = value * 10 + d;
            n += 1;
        }
        (value, n)
    }
}

fn digit(c: char) -> Option<u32> {
    match c {
        '0'..='9' => c.to_digit(10),
        '０'..='９' => Some(c as u32 - '０' as u32),
        _ => None,
    }
}

/// The separators of a numeric date; `年` is followed by `月` and an optional `日`, the others
/// repeat (`2024-01-15`, not `2024-01/15`).
const SEPARATORS: [char; 7] = ['年', '-', '/', '.', '．', '－', '／'];

fn arabic_date(s: &str) -> Option<(Date, usize)> {
    let mut c = Cursor { s, at: 0 };
    let (year, n) = c.number(4);
    if n != 4 {
        return None;
    }
    c.spaces();
    let sep = c.bump().filter(|x| SEPARATORS.contains(x))?;
    c.spaces();
    let (month, n) = c.number(2);
    if n == 0 {
        return None;
    }
    c.spaces();
    if !c.eat(if sep == '年' { '月' } else { sep }) {
        return None;
    }
    c.spaces();
    let (day, n) = c.number(2);
    if n == 0 || c.peek().and_then(digit).is_some() {
        return None;
    }
    if sep == '年' {
        let before = c.at;
        c.spaces();
        if !c.eat('日') && !c.eat('号') {
            c.at = before;
        }
    }
    Date::new(year as i32, month, day).map(|d| (d, c.at))
}

/// `二〇二四年一月十五日`: the year digit by digit, the month and day as numbers (十五,
/// 二十三); 日 required.
fn chinese_date(s: &str) -> Option<(Date, usize)> {
    let mut c = Cursor { s, at: 0 };
    let mut year = 0;
    for _ in 0..4 {
        year = year * 10 + c.bump().and_then(chinese_digit)?;
    }
    c.spaces();
    if !c.eat('年') {
        return None;
    }
    c.spaces();
    let month = chinese_number(&mut c)?;
    c.spaces();
    if !c.eat('月') {
        return None;
    }
    c.spaces();
    let day = chinese_number(&mut c)?;
    c.spaces();
    if !c.eat('日') {
        return None;
    }
    Date::new(year as i32, month, day).map(|d| (d, c.at))
}

fn chinese_digit(c: char) -> Option<u32> {
    Some(match c {
        '〇' | '零' | '○' | 'Ｏ' | 'O' | 'o' => 0,
        '一' => 1,
        '二' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

/// 一 … 九, 十, 十五, 二十, 二十三, 三十一.
fn chinese_number(c: &mut Cursor) -> Option<u32> {
    let first = c.peek()?;
    let tens = if first == '十' {
        1
    } else {
        let d = chinese_digit(first).filter(|d| *d > 0)?;
        c.bump();
        if c.peek() != Some('十') {
            return Some(d);
        }
        d
    };
    c.bump(); // 十
    let ones = c.peek().and_then(chinese_digit).filter(|d| *d > 0);
    if ones.is_some() {
        c.bump();
    }
    Some(tens * 10 + ones.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<String> {
        date_at(s).map(|(d, _)| d.iso())
    }

    #[test]
    fn dates_in_every_printed_form() {
        for (text, want) in [
            ("2024-01-15", Some("2024-01-15")),
            ("2024/01/15", Some("2024-01-15")),
            ("2024.1.15", Some("2024-01-15")),
            ("2024年1月15日", Some("2024-01-15")),
            ("2024年01月15日 10:20", Some("2024-01-15")),
            ("2024 年 1 月 15 日", Some("2024-01-15")),
            ("２０２４年１月１５日", Some("2024-01-15")),
            ("２０２４－０１－１５", Some("2024-01-15")),
            ("二〇二四年一月十五日", Some("2024-01-15")),
            ("二○二一年十二月三十一日", Some("2021-12-31")),
            ("二〇二〇年二月二十日", Some("2020-02-20")),
            ("二〇二〇年十月十日", Some("2020-10-10")),
            ("2024-02-30", None),
            ("2023-02-29", None),
            ("2024-02-29", Some("2024-02-29")),
            ("2024-13-01", None),
            ("2024-01/15", None),
            ("2024-01-150", None),
            ("2024年1月", None),
            ("12024-01-15", None),
        ] {
            assert_eq!(d(text).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn client_dates_in_three_forms() {
        for (text, want) in [
            ("2024-01-15", Some("2024-01-15")),
            (" 2024/1/5 ", Some("2024-01-05")),
            ("2024年1月15日", Some("2024-01-15")),
            ("2024-02-30", None),
            ("2024.01.15", None),
            ("15/01/2024", None),
            ("2024-01-15T10:00:00", None),
            ("yesterday", None),
        ] {
            assert_eq!(
                client_date(text).map(|d| d.iso()).as_deref(),
                want,
                "{text}"
            );
        }
    }

    #[test]
    fn the_publication_date_where_the_text_prints_it() {
        let y = Some(2023);
        for (text, year, want) in [
            // Page header labels.
            ("标题\n发布日期：2024-01-15\n正文", y, Some("2024-01-15")),
            (
                "发布时间：2024年01月15日 10:20 来源：某局",
                y,
                Some("2024-01-15"),
            ),
            (
                "信息来源:统计局 发表时间:2024-01-08 字体",
                y,
                Some("2024-01-08"),
            ),
            (
                "来源：某县人民政府 时间：2024-02-08 16:34",
                y,
                Some("2024-02-08"),
            ),
            ("日期:2024-03-30 16:30    来源:某区", y, Some("2024-03-30")),
            (
                "| 发布机构 | 某街道 | 发文日期 | 2024-01-16 |",
                y,
                Some("2024-01-16"),
            ),
            (
                "  • 成文日期:\n\n    2024-01-12\n\n  • 公开方式:",
                y,
                Some("2024-01-12"),
            ),
            // A header line opening with the date.
            ("2024年01月16日 来源: 某区司法局", y, Some("2024-01-16")),
            ("2024-01-15 10:20 来源：某局", y, Some("2024-01-15")),
            // The signature.
            (
                "六、其他需要报告的事项\n无。\n\n某街道办事处\n2024年1月20日\n",
                y,
                Some("2024-01-20"),
            ),
            ("某乡人民政府\n二〇二四年一月十五日", y, Some("2024-01-15")),
            ("某乡人民政府\n2024.1.15", y, Some("2024-01-15")),
            // 发布 before 成文 before the signature.
            (
                "成文日期：2024-01-10\n发布日期：2024-01-15\n…\n某局\n2024年1月9日",
                y,
                Some("2024-01-15"),
            ),
            (
                "成文日期：2024-01-10\n…\n某局\n2024年1月9日",
                y,
                Some("2024-01-10"),
            ),
            // Narrative dates are not publication dates.
            ("截至2023年12月31日，共公开信息", y, None),
            ("统计期限为2023年1月1日至2023年12月31日。", y, None),
            ("统计时间：2024-01-05", y, None),
            ("更新时间：2024-01-05", y, None),
            ("2024年1月10日召开会议，部署工作", y, None),
            // Outside the plausible window: before the year ends, or years later.
            (
                "天津市武清区人民政府 2023年12月3日星期二\n发布时间：2024-01-07",
                y,
                Some("2024-01-07"),
            ),
            ("发布日期：2023-12-20", y, None),
            ("发布日期：2026-01-20", y, None),
            // Two different dates in the winning place: none.
            ("发布日期：2024-01-15\n发布时间：2024-01-18", y, None),
            // No year: only labelled dates.
            ("发布日期：2024-01-15", None, Some("2024-01-15")),
            ("某局\n2024年1月9日", None, None),
        ] {
            let got = read(text, year).map(|d| d.iso());
            assert_eq!(got.as_deref(), want, "{text}");
        }
    }

    fn hints(published: Option<&str>, url: Option<&str>) -> Hints {
        Hints {
            published: published.unwrap_or_default().to_owned(),
            url: url.unwrap_or_default().to_owned(),
            ..Default::default()
        }
    }

    #[test]
    fn the_client_date_wins_and_a_bad_one_is_noted() {
        let text = "发布日期：2024-01-15";
        let mut sheet = Sheet::default();
        let p = publication(
            text,
            Some(2023),
            &hints(Some("2024/2/1"), Some("http://x/a.htm")),
            &mut sheet,
        )
        .unwrap();
        assert_eq!(
            (p.date.as_str(), p.date_source, p.url.as_str()),
            ("2024-02-01", DateSource::Client as i32, "http://x/a.htm")
        );
        assert!(sheet.findings.is_empty());

        let p = publication(
            text,
            Some(2023),
            &hints(Some("2024-02-30"), None),
            &mut sheet,
        )
        .unwrap();
        assert_eq!(
            (p.date.as_str(), p.date_source),
            ("2024-01-15", DateSource::Text as i32)
        );
        assert_eq!(sheet.findings.len(), 1);
        assert_eq!(sheet.findings[0].code, Code::HintMismatch.as_str());
        assert_eq!(sheet.findings[0].path, "publication.date");

        let mut sheet = Sheet::default();
        assert_eq!(
            publication("无日期", Some(2023), &hints(None, None), &mut sheet),
            None
        );
        let p = publication(
            "无日期",
            Some(2023),
            &hints(None, Some("http://x")),
            &mut sheet,
        )
        .unwrap();
        assert_eq!(
            (p.date.as_str(), p.date_source),
            ("", DateSource::Unspecified as i32)
        );
    }
}
