//! Placed pieces of text (a PDF's glyphs, an OCR engine's words) to lines of text. PURE.
//!
//! Lines are found by baseline: a piece joins the line whose first baseline lies within
//! 0.45 of the font size above it, so a row's label and its numbers, set a point or two apart
//! in Word's cell alignment, stay one line. Within a line the pieces go in x order and a gap
//! wider than [`CELL_GAP`] em (a quarter em between two digits) becomes a tab: the cells of a
//! table row come out as tab-separated cells in the order of their columns, which is what
//! the table reader takes from any other format. Fake bold (one glyph drawn twice at nearly
//! the same place) is drawn once.

/// A piece of text and where it sits on its page (y grows downwards).
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub text: String,
    pub x0: f32,
    pub x1: f32,
    /// The baseline.
    pub y: f32,
    /// The font size (the height of a line of this text).
    pub size: f32,
}

/// A gap between pieces wider than this many ems separates two cells.
const CELL_GAP: f32 = 1.0;
/// Between two digits a smaller gap already separates two numbers.
const DIGIT_GAP: f32 = 0.25;
/// Baselines closer than this many ems are one line.
const SAME_LINE: f32 = 0.45;

fn numeric(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '.' | ',' | '%' | '-')
}

fn ascii_word(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// The lines of one page, top to bottom, cells separated by tabs.
pub fn page_text(mut pieces: Vec<Piece>, out: &mut String) {
    pieces.retain(|p| {
        !p.text.trim().is_empty()
            && p.x0.is_finite()
            && p.x1.is_finite()
            && p.y.is_finite()
            && p.size.is_finite()
            && p.size > 0.0
    });
    pieces.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x0.total_cmp(&b.x0)));
    let mut start = 0;
    while start < pieces.len() {
        let anchor = &pieces[start];
        let reach = anchor.y + SAME_LINE * anchor.size;
        let end = start + pieces[start..].iter().take_while(|p| p.y <= reach).count();
        let line = &mut pieces[start..end];
        line.sort_by(|a, b| a.x0.total_cmp(&b.x0));
        write_line(line, out);
        start = end;
    }
}

fn write_line(line: &[Piece], out: &mut String) {
    let mut prev: Option<&Piece> = None;
    for p in line {
        if let Some(q) = prev {
            let em = p.size.max(q.size);
            // Fake bold: the same glyph again, a fraction of an em away.
            if p.text == q.text && (p.x0 - q.x0).abs() < 0.3 * em && (p.y - q.y).abs() < 0.3 * em {
                continue;
            }
            let gap = p.x0 - q.x1;
            let last = q.text.chars().next_back().unwrap_or(' ');
            let first = p.text.chars().next().unwrap_or(' ');
            if gap > CELL_GAP * em || (numeric(last) && numeric(first) && gap > DIGIT_GAP * em) {
                out.push('\t');
            } else if ascii_word(last) && ascii_word(first) && gap > 0.15 * em {
                out.push(' ');
            }
        }
        out.push_str(&p.text);
        prev = Some(p);
    }
    if prev.is_some() {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glyph(c: &str, x: f32, y: f32, size: f32) -> Piece {
        let w = if c.is_ascii() { size / 2.0 } else { size };
        Piece {
            text: c.to_owned(),
            x0: x,
            x1: x + w,
            y,
            size,
        }
    }

    fn text_of(pieces: Vec<Piece>) -> String {
        let mut out = String::new();
        page_text(pieces, &mut out);
        out
    }

    #[test]
    fn a_row_label_and_its_numbers_set_apart_in_baseline_are_one_line_of_cells() {
        let mut p = vec![
            glyph("重", 143.0, 166.0, 7.5),
            glyph("复", 150.5, 166.0, 7.5),
        ];
        p.push(glyph("2", 264.0, 168.3, 7.5));
        p.push(glyph("5", 267.7, 168.3, 7.5));
        p.push(glyph("0", 301.6, 168.3, 7.5));
        p.push(glyph("2", 500.0, 168.3, 7.5));
        p.push(glyph("5", 503.8, 168.3, 7.5));
        // The next row, a line below.
        p.push(glyph("3", 143.0, 190.1, 7.5));
        assert_eq!(text_of(p), "重复\t25\t0\t25\n3\n");
    }

    #[test]
    fn pieces_come_out_in_x_order_whatever_order_they_were_drawn_in() {
        let p = vec![
            glyph("6", 101.0, 674.0, 7.5),
            glyph("7", 74.0, 674.0, 7.5),
            glyph("2", 77.7, 674.0, 7.5),
            glyph("4", 104.7, 674.0, 7.5),
        ];
        assert_eq!(text_of(p), "72\t64\n");
    }

    #[test]
    fn fake_bold_draws_once_and_justified_text_stays_one_cell() {
        let p = vec![
            glyph("四", 98.0, 497.8, 16.0),
            glyph("四", 98.3, 497.8, 16.0),
            glyph("、", 114.0, 497.8, 16.0),
            glyph("政", 130.0, 497.8, 16.0),
            glyph("政", 130.2, 497.9, 16.0),
        ];
        assert_eq!(text_of(p), "四、政\n");
    }

    #[test]
    fn digits_a_quarter_em_apart_are_two_numbers_and_words_keep_their_space() {
        let p = vec![
            glyph("1", 10.0, 50.0, 8.0),
            glyph("2", 16.5, 50.0, 8.0),
            glyph("a", 40.0, 50.0, 8.0),
            glyph("b", 46.0, 50.0, 8.0),
        ];
        assert_eq!(text_of(p), "1\t2\ta b\n");
    }

    #[test]
    fn blank_and_broken_pieces_are_dropped() {
        let mut p = vec![glyph(" ", 1.0, 1.0, 8.0), glyph("x", f32::NAN, 1.0, 8.0)];
        p.push(glyph("y", 1.0, 1.0, 0.0));
        assert_eq!(text_of(p), "");
    }
}
