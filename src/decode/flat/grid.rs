//! The grid of a table that holds no other table: rows and columns as the tree walk lays
//! them out (rowspan and colspan leave empty cells).

use crate::decode::{MAX_COLS, MAX_ROWS};

/// The innermost table's grid as it is written.
pub(super) struct Grid {
    /// Rows still to be written (rows past [`MAX_ROWS`] are dropped, as the tree walk does).
    pub(super) rows_left: usize,
    /// How many more rows each column stays covered by a rowspan from above.
    pub(super) pending: Vec<usize>,
    /// The current row's cells, when a row is open.
    pub(super) cells: Option<Vec<String>>,
    pub(super) col: usize,
    /// The open cell's text and its spans.
    pub(super) cell: Option<(String, usize, usize)>,
}

impl Grid {
    /// A table's grid before its first row.
    pub(super) fn new() -> Self {
        Grid {
            rows_left: MAX_ROWS,
            pending: Vec::new(),
            cells: None,
            col: 0,
            cell: None,
        }
    }

    /// Fills the columns a rowspan from above still covers at the current position.
    pub(super) fn cover(&mut self, cells: &mut Vec<String>) {
        while self.col < self.pending.len() && self.pending[self.col] > 0 {
            self.pending[self.col] -= 1;
            cells.push(String::new());
            self.col += 1;
        }
    }

    /// Places the open cell, if any, on the current row.
    pub(super) fn place_cell(&mut self) {
        let Some((text, colspan, rowspan)) = self.cell.take() else {
            return;
        };
        let Some(mut cells) = self.cells.take() else {
            return;
        };
        self.cover(&mut cells);
        if self.col < MAX_COLS {
            // Most cells hold neither tabs nor line breaks, nor spaces at their ends: they
            // are moved onto the row as they are.
            let text = if text.bytes().any(|b| b == b'\t' || b == b'\n') {
                text.replace(['\t', '\n'], " ")
            } else {
                text
            };
            let trimmed = text.trim();
            let mut text = Some(if trimmed.len() == text.len() {
                text
            } else {
                trimmed.to_owned()
            });
            let colspan = colspan.min(MAX_COLS - self.col);
            for k in 0..colspan {
                cells.push(if k == 0 {
                    text.take().unwrap_or_default()
                } else {
                    String::new()
                });
                if self.pending.len() <= self.col + k {
                    self.pending.resize(self.col + k + 1, 0);
                }
                self.pending[self.col + k] = rowspan - 1;
            }
            self.col += colspan;
        }
        self.cells = Some(cells);
    }
}
