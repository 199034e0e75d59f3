//! Paragraphs and table rows of the Word binary formats (DOC, RTF) as HTML. PURE.
//!
//! Both formats describe a table row by its cells' right boundaries (DOC's `rgdxaCenter`,
//! RTF's `\cellx`), not by grid columns. A table's grid is the union of all its rows'
//! boundaries, as Word builds it: a cell covering several grid columns gets that colspan,
//! a row starting right of the grid's left edge leaves the skipped columns empty, a cell
//! continuing a horizontal merge gives its columns to the cell before it, and a cell
//! continuing a vertical merge is empty, as docx.rs does for DOCX. The text added is
//! counted against a budget of characters.

use super::Unreadable;

/// Boundaries closer than this (in twips, 1/1440 inch) are one grid line: rows typed
/// separately often differ by a twip or two where the eye sees one column edge.
const SAME_LINE: i32 = 10;

/// At most this many grid columns for one cell (as docx.rs bounds `w:gridSpan`).
const MAX_SPAN: usize = 64;

/// One cell of a row.
#[derive(Debug, Default, Clone)]
pub struct Cell {
    pub text: String,
    /// Right boundary in twips, when the row's properties give it.
    pub right: Option<i32>,
    /// Continues a horizontal merge from the cell on its left.
    pub merged_left: bool,
    /// Continues a vertical merge from the row above.
    pub merged_above: bool,
}

/// One table row: its cells and its left edge (twips), when known.
#[derive(Debug, Default, Clone)]
pub struct Row {
    pub cells: Vec<Cell>,
    pub left: Option<i32>,
}

/// The HTML being written, with the rows of the table being read held back until the
/// table ends (its grid needs every row).
pub struct Html {
    out: String,
    table: Vec<Row>,
    chars: usize,
    max_chars: usize,
    what: &'static str,
}

impl Html {
    /// `what` names the format in the message given when the text passes `max_chars`.
    pub fn new(max_chars: usize, what: &'static str) -> Html {
        Html {
            out: String::from("<html><body>\n"),
            table: Vec::new(),
            chars: 0,
            max_chars,
            what,
        }
    }

    fn count(&mut self, text: &str) -> Result<(), Unreadable> {
        self.chars = self.chars.saturating_add(text.chars().count());
        if self.chars > self.max_chars {
            return Err(Unreadable::new(format!(
                "{}的文字超过 {} 字的上限，已拒绝",
                self.what, self.max_chars
            )));
        }
        Ok(())
    }

    /// A paragraph outside tables; it ends the table being read, if any.
    pub fn paragraph(&mut self, text: &str) -> Result<(), Unreadable> {
        self.end_table();
        let text = text.trim();
        if text.is_empty() {
            return Ok(());
        }
        self.count(text)?;
        self.out.push_str("<p>");
        escape_into(&mut self.out, text);
        self.out.push_str("</p>\n");
        Ok(())
    }

    /// A table row; the first one opens a table.
    pub fn row(&mut self, row: Row) -> Result<(), Unreadable> {
        for cell in &row.cells {
            let text = cell.text.trim();
            if !text.is_empty() {
                self.count(text)?;
            }
        }
        self.table.push(row);
        Ok(())
    }

    /// Writes the table being read, if any.
    pub fn end_table(&mut self) {
        if self.table.is_empty() {
            return;
        }
        let rows = std::mem::take(&mut self.table);
        let grid = grid(&rows);
        self.out.push_str("<table>\n");
        for row in rows {
            self.write_row(row, &grid);
        }
        self.out.push_str("</table>\n");
    }

    fn write_row(&mut self, row: Row, grid: &[i32]) {
        // (text, span, merged above) of each cell as written.
        let mut cells: Vec<(String, usize, bool)> = Vec::new();
        let spans = spans(&row, grid);
        let before = spans.as_ref().map_or(0, |s| s.0);
        for (i, cell) in row.cells.into_iter().enumerate() {
            let span = spans
                .as_ref()
                .and_then(|s| s.1.get(i).copied())
                .unwrap_or(1);
            match cells.last_mut() {
                Some(last) if cell.merged_left => last.1 = (last.1 + span).min(MAX_SPAN),
                _ => cells.push((cell.text, span, cell.merged_above)),
            }
        }
        self.out.push_str("<tr>");
        for _ in 0..before {
            self.out.push_str("<td></td>");
        }
        for (text, span, merged_above) in cells {
            if span > 1 {
                self.out.push_str(&format!("<td colspan=\"{span}\">"));
            } else {
                self.out.push_str("<td>");
            }
            if !merged_above {
                let lines: Vec<&str> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect();
                escape_into(&mut self.out, &lines.join(" "));
            }
            self.out.push_str("</td>");
        }
        self.out.push_str("</tr>\n");
    }

    /// The document's HTML.
    pub fn finish(mut self) -> String {
        self.end_table();
        self.out.push_str("</body></html>\n");
        self.out
    }
}

/// The boundaries of a row whose every cell has one, left edge first, if they increase.
fn boundaries(row: &Row) -> Option<Vec<i32>> {
    let mut out = vec![row.left?];
    for cell in &row.cells {
        let right = cell.right?;
        if right <= *out.last()? {
            return None;
        }
        out.push(right);
    }
    Some(out)
}

/// The grid lines of a table: every row's boundaries, those closer than [`SAME_LINE`] as one.
fn grid(rows: &[Row]) -> Vec<i32> {
    let mut lines: Vec<i32> = rows.iter().filter_map(boundaries).flatten().collect();
    lines.sort_unstable();
    let mut grid: Vec<i32> = Vec::new();
    for x in lines {
        match grid.last() {
            Some(&last) if x.saturating_sub(last) < SAME_LINE => {}
            _ => grid.push(x),
        }
    }
    grid
}

/// The index of the grid line at `x`.
fn line_of(grid: &[i32], x: i32) -> Option<usize> {
    grid.iter()
        .position(|&g| (g.saturating_sub(x)).abs() < SAME_LINE)
}

/// The empty grid columns before a row and the span of each of its cells, when the row
/// gives its boundaries.
fn spans(row: &Row, grid: &[i32]) -> Option<(usize, Vec<usize>)> {
    let bounds = boundaries(row)?;
    let lines: Vec<usize> = bounds
        .iter()
        .map(|&x| line_of(grid, x))
        .collect::<Option<_>>()?;
    let before = (*lines.first()?).min(MAX_SPAN);
    let spans = lines
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]).clamp(1, MAX_SPAN))
        .collect();
    Some((before, spans))
}

/// The row being read, ended: the text after its last cell mark (`cell`, then `para`) as a
/// last cell when it holds any; `None` when the row holds nothing.
pub fn take_row(row: &mut Vec<Cell>, cell: &mut String, para: &mut String) -> Option<Row> {
    let rest = std::mem::take(cell) + &std::mem::take(para);
    if !rest.trim().is_empty() {
        row.push(Cell {
            text: rest,
            ..Cell::default()
        });
    }
    (!row.is_empty()).then(|| Row {
        cells: std::mem::take(row),
        left: None,
    })
}

/// `text` with the characters HTML gives a meaning escaped.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(text: &str, right: i32) -> Cell {
        Cell {
            text: text.into(),
            right: Some(right),
            ..Cell::default()
        }
    }

    #[test]
    fn a_wide_cell_spans_the_grid_columns_it_covers() {
        let mut html = Html::new(1000, "测试");
        html.row(Row {
            cells: vec![cell("合计", 2000), cell("5", 3000)],
            left: Some(0),
        })
        .unwrap();
        html.row(Row {
            cells: vec![cell("a", 1000), cell("b", 2000), cell("c", 3000)],
            left: Some(4),
        })
        .unwrap();
        html.paragraph("完").unwrap();
        let out = html.finish();
        assert!(
            out.contains("<tr><td colspan=\"2\">合计</td><td>5</td></tr>"),
            "{out}"
        );
        assert!(out.contains("<tr><td>a</td><td>b</td><td>c</td></tr>\n</table>\n<p>完</p>"));
    }

    #[test]
    fn merged_cells_give_their_columns_left_and_their_text_up() {
        let mut html = Html::new(1000, "测试");
        let mut cont = cell("", 2000);
        cont.merged_left = true;
        let mut below = cell("x", 3000);
        below.merged_above = true;
        html.row(Row {
            cells: vec![cell("a", 1000), cont, below],
            left: Some(0),
        })
        .unwrap();
        let out = html.finish();
        assert!(
            out.contains("<tr><td colspan=\"2\">a</td><td></td></tr>"),
            "{out}"
        );
    }

    #[test]
    fn text_past_the_budget_is_refused() {
        let mut html = Html::new(3, "测试文件");
        assert!(html.paragraph("一二三").is_ok());
        let err = html.paragraph("四").unwrap_err();
        assert!(err.reason.contains("上限"), "{}", err.reason);
    }
}
