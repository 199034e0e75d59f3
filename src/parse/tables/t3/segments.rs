//! Table 三's cells cut into segments at its row labels, and how a segment is printed: its
//! width on a gridded line, its label apart from its rows, one cell per line.

use super::Segment;
use crate::model::catalogue;
use crate::model::form::T3_COLUMNS;
use crate::parse::cells::{Cell, Number, Tok};
use crate::parse::labels::{t3_label, T3Label};
use crate::parse::sheet::Sheet;
use crate::parse::tables::LabelAt;

/// Cuts table 三's cells at its row labels, and counts its numbers. The column headers
/// (总计, 其他) that precede the first row label open no segment; numbers before any label
/// open one without a label.
pub(super) fn segments<'a>(toks: &[Cell<'a>]) -> (Vec<Segment<'a>>, usize) {
    let mut segments: Vec<Segment<'a>> = Vec::new();
    let mut started = false;
    let mut numbers = 0;
    for c in toks {
        match c.tok {
            Tok::Text(text) => {
                // Text that runs several labels together (`…其政府信息公开申请3.其他（七）总计`)
                // is read label by label: the one before the numbers is the last.
                for t in label_pieces(text) {
                    let Some(label) = t3_label(t) else { continue };
                    // Column headers (总计, 其他) precede the first row label.
                    let header_word = matches!(
                        label,
                        T3Label::Total | T3Label::Row("applications.other_handling.other")
                    );
                    if !started && header_word {
                        continue;
                    }
                    started = true;
                    segments.push(Segment {
                        label: Some(label),
                        at: Some((c.line, c.col)),
                        label_gridded: c.gridded,
                        toks: Vec::new(),
                    });
                }
            }
            Tok::Num(_) | Tok::Blank | Tok::Malformed(_) => {
                if matches!(c.tok, Tok::Num(_)) {
                    numbers += 1;
                    started = true;
                }
                if segments.is_empty() {
                    segments.push(Segment {
                        label: None,
                        at: None,
                        label_gridded: false,
                        toks: Vec::new(),
                    });
                }
                if let Some(seg) = segments.last_mut() {
                    seg.toks.push(*c);
                }
            }
        }
    }
    (segments, numbers)
}

/// `toks` without the column-header lines a converter repeats inside the table (`| 类别 |
/// 数据1 | … | 数据6 | 总计 |`, `| 项目 | 本年新收件数 | … | 总计 |`): a gridded line that ends in a
/// 总计 cell after at least two other text cells. A row of the table ends in its total, a
/// number.
pub(super) fn without_header_lines(toks: Vec<Cell<'_>>) -> Vec<Cell<'_>> {
    let mut header_lines: Vec<u32> = Vec::new();
    let mut start = 0;
    while start < toks.len() {
        let line = toks[start].line;
        let end = start + toks[start..].iter().take_while(|c| c.line == line).count();
        let cells = &toks[start..end];
        let last = cells.iter().rev().find(|c| !matches!(c.tok, Tok::Blank));
        let ends_in_total = last
            .is_some_and(|c| matches!(c.tok, Tok::Text(t) if t3_label(t) == Some(T3Label::Total)));
        let texts = cells
            .iter()
            .filter(|c| matches!(c.tok, Tok::Text(_)))
            .count();
        if cells.iter().all(|c| c.gridded) && ends_in_total && texts >= 3 {
            header_lines.push(line);
        }
        start = end;
    }
    if header_lines.is_empty() {
        return toks;
    }
    toks.into_iter()
        .filter(|c| !header_lines.contains(&c.line))
        .collect()
}

/// `text` cut before each item number it prints after other text (`（七）`, `三、`, `3.`,
/// `2、`): one piece per label when a converter ran labels together.
fn label_pieces(text: &str) -> Vec<&str> {
    fn numeral(c: char) -> bool {
        matches!(
            c,
            '一' | '二' | '三' | '四' | '五' | '六' | '七' | '八' | '九'
        )
    }
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices();
    let Some((_, mut prev)) = chars.next() else {
        return pieces;
    };
    let mut cur = chars.next();
    while let Some((i, ch)) = cur {
        let following = chars.next();
        let next = following.map(|(_, c)| c);
        let starts_item = match ch {
            '（' | '(' => next.is_some_and(numeral),
            c if numeral(c) => next == Some('、') && !numeral(prev),
            c if c.is_ascii_digit() => {
                matches!(next, Some('.' | '．' | '、')) && !prev.is_ascii_digit()
            }
            _ => false,
        };
        if starts_item {
            // Pieces are never empty: a cut is made only after the first character.
            pieces.push(&text[start..i]);
            start = i;
        }
        prev = ch;
        cur = following;
    }
    pieces.push(&text[start..]);
    pieces
}

/// A row's malformed or signed cells (`--253`, `+5`), reported at their cells when the row
/// is one gridded line of seven cells, else at the row.
pub(super) fn note_bad_signs_t3(seg: &Segment<'_>, sheet: &mut Sheet) {
    let row = match seg.label {
        Some(T3Label::Row(path)) => path,
        Some(T3Label::Total) => "applications.closed_total",
        Some(T3Label::OtherHandling) => "applications.other_handling",
        None => "applications",
    };
    let cells: Vec<&str> = catalogue::children(row)
        .iter()
        .map(|&i| catalogue::METRICS[i].path)
        .collect();
    // Blanks at either end of a gridded line are fillers of merged cells, not columns.
    let line = seg.at.map(|(line, _)| line);
    let on_line = |c: &Cell<'_>| c.gridded && Some(c.line) == line;
    let toks = if seg.toks.iter().all(on_line) {
        let first = seg.toks.iter().position(|c| !matches!(c.tok, Tok::Blank));
        let last = seg.toks.iter().rposition(|c| !matches!(c.tok, Tok::Blank));
        match (first, last) {
            (Some(a), Some(b)) if b + 1 - a == cells.len() => &seg.toks[a..=b],
            _ => &seg.toks[..],
        }
    } else {
        &seg.toks[..]
    };
    let gridded = toks.iter().all(on_line) && !cells.is_empty();
    crate::parse::tables::note_bad_signs(toks, gridded.then_some(cells.as_slice()), row, sheet);
}

/// How many gridded rows must share a width before it is the table's usual one.
const USUAL_WIDTH_ROWS: usize = 3;

/// The usual width of a gridded row (its cells after the label, trailing blanks dropped),
/// when at least [`USUAL_WIDTH_ROWS`] rows share it: a row narrower than the others lost a
/// cell somewhere, so its positions prove nothing.
pub(super) fn usual_width(segments: &[Segment<'_>]) -> Option<usize> {
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for seg in segments {
        if let Some(n) = gridded_width(seg.at, &seg.toks) {
            match counts.iter_mut().find(|(w, _)| *w == n) {
                Some((_, k)) => *k += 1,
                None => counts.push((n, 1)),
            }
        }
    }
    counts
        .iter()
        .max_by_key(|(_, k)| *k)
        .filter(|(_, k)| *k >= USUAL_WIDTH_ROWS)
        .map(|(w, _)| *w)
}

/// Whether `seg`'s label stands on a line of text and its numbers on table lines of their
/// own, each a whole row of seven numbers with no label cell.
pub(super) fn printed_apart(seg: &Segment<'_>) -> bool {
    let Some((label_line, _)) = seg.at else {
        return false;
    };
    if seg.label_gridded || seg.toks.is_empty() {
        return false;
    }
    if seg.toks.iter().any(|c| !c.gridded || c.line == label_line) {
        return false;
    }
    seg.toks.chunk_by(|a, b| a.line == b.line).all(|line| {
        // Blank cells at either end are a label cell's or the grid's fillers; a blank
        // among the numbers makes the line no whole row.
        let first = line.iter().position(|c| !matches!(c.tok, Tok::Blank));
        let last = line.iter().rposition(|c| !matches!(c.tok, Tok::Blank));
        match (first, last) {
            (Some(a), Some(b)) => {
                b + 1 - a == T3_COLUMNS && line[a..=b].iter().all(|c| matches!(c.tok, Tok::Num(_)))
            }
            _ => false,
        }
    })
}

/// A row printed one cell per gridded line, seven lines with a blank (a lone `|`) among
/// them: its cells in order, `None` for a blank. `None` when the row is not so printed.
pub(super) fn one_cell_per_line<'a>(toks: &[Cell<'a>]) -> Option<Vec<Option<Number<'a>>>> {
    let data: Vec<&Cell<'a>> = toks
        .iter()
        .filter(|c| !matches!(c.tok, Tok::Text(_)))
        .collect();
    if data.len() != T3_COLUMNS || !data.iter().any(|c| matches!(c.tok, Tok::Blank)) {
        return None;
    }
    let own_lines = data.windows(2).all(|w| w[0].line < w[1].line)
        && data.iter().all(|c| c.gridded && c.col == 0);
    own_lines.then(|| {
        data.iter()
            .map(|c| match c.tok {
                Tok::Num(n) => Some(n),
                _ => None,
            })
            .collect()
    })
}

/// How many cells follow a label on its own gridded line (trailing blanks dropped), when the
/// row is all on that line.
pub(super) fn gridded_width(label: LabelAt, toks: &[Cell<'_>]) -> Option<usize> {
    let (line, _) = label?;
    if toks.is_empty() || toks.iter().any(|c| c.line != line || !c.gridded) {
        return None;
    }
    let trailing = toks
        .iter()
        .rev()
        .take_while(|c| matches!(c.tok, Tok::Blank))
        .count();
    Some(toks.len() - trailing)
}
