//! Table 三's segments placed in the rows their labels name: whole rows, short rows by
//! their grid, the cut last row; what cannot be placed so waits for [`super::resolve`].

use super::segments::{gridded_width, one_cell_per_line, printed_apart, usual_width};
use super::{Floating, Pending, Segment};
use crate::model::catalogue;
use crate::model::finding::Code;
use crate::model::form::{
    t3_rows, APPLICANT_COLUMNS, CLOSED, OTHER_HANDLING_TOTAL, T3_COLUMNS, T3_TOTAL_COLUMN,
};
use crate::model::rules::ROW_TOTAL;
use crate::parse::cells::{Number, Tok};
use crate::parse::labels::T3Label;
use crate::parse::sheet::Sheet;
use crate::parse::tables::whole::RowValues;
use crate::parse::tables::{grid_cells, numbers_of, printed};
use crate::pb::Template;

/// Table 三 as its segments are placed, in the order the text prints them.
pub(super) struct Placing<'a> {
    pub(super) template: Template,
    /// The format's rows, in printed order.
    pub(super) rows: &'static [&'static str],
    /// The text ends inside this table (see [`read_t3`](super::read_t3)).
    pub(super) cut: bool,
    /// See [`usual_width`].
    pub(super) usual_width: Option<usize>,
    /// The last segment that prints a number: where a cut text stops.
    pub(super) last_with_numbers: Option<usize>,
    /// Each row's values, once placed.
    pub(super) placed: Vec<Option<RowValues>>,
    /// A 2021 table's printed 其他处理 subtotal (a row the 2021 format does not list).
    pub(super) subtotal_2021: Option<RowValues>,
    /// Rows left for the sums to decide ([`resolve`](super::resolve::resolve)).
    pub(super) pending: Vec<Pending<'a>>,
    /// Rows of seven numbers printed with no label of their own.
    pub(super) floating: Vec<Floating<'a>>,
    /// Row labels printed with no number after them, `(segment, row)`: where labels were
    /// printed apart from their numbers.
    pub(super) loose: Vec<(usize, usize)>,
    /// Whether each segment prints a number.
    pub(super) numbered: Vec<bool>,
    /// `(segment, row)` for each segment whose label names the row its numbers start.
    pub(super) anchors: Vec<(usize, usize)>,
}

impl<'a> Placing<'a> {
    pub(super) fn new(template: Template, cut: bool, segments: &[Segment<'a>]) -> Self {
        let rows = t3_rows(template);
        Placing {
            template,
            rows,
            cut,
            usual_width: usual_width(segments),
            last_with_numbers: segments
                .iter()
                .rposition(|seg| seg.toks.iter().any(|c| matches!(c.tok, Tok::Num(_)))),
            placed: vec![None; rows.len()],
            subtotal_2021: None,
            pending: Vec::new(),
            floating: Vec::new(),
            loose: Vec::new(),
            numbered: segments
                .iter()
                .map(|seg| seg.toks.iter().any(|c| matches!(c.tok, Tok::Num(_))))
                .collect(),
            anchors: Vec::new(),
        }
    }

    fn position(&self, path: &str) -> Option<usize> {
        self.rows.iter().position(|r| *r == path)
    }

    /// Places segment `at`: its numbers go to the row its label names, as a whole row, as
    /// one short row, or, spanning rows without filling them, as rows that cannot be read;
    /// whole rows beyond the label's own, and numbers before any label, have no label.
    pub(super) fn place(&mut self, at: usize, seg: &Segment<'a>, sheet: &mut Sheet) {
        let nums = numbers_of(&seg.toks);
        if nums.is_empty() {
            if let Some(r) = seg.label.and_then(|l| self.loose_row(l)) {
                // A label broken across lines names its row twice in a row.
                if self.loose.last().map(|l| l.1) != Some(r) {
                    self.loose.push((at, r));
                }
            }
            return;
        }
        let clean = nums.iter().all(|n| !n.fused);
        if clean && seg.label.is_some() && printed_apart(seg) {
            // A label on a line of text, then table rows that print no label cell: a
            // converter moved the label out of its row, and which row it was is not shown.
            if let Some(r) = seg.label.and_then(|l| self.loose_row(l)) {
                self.loose.push((at, r));
            }
            self.place_unlabelled(at, nums, clean, sheet);
            return;
        }
        let k = nums.len();
        if seg.label == Some(T3Label::OtherHandling)
            && self.template == Template::Template2021
            && k == T3_COLUMNS
        {
            // A 2021 table printing the 其他处理 subtotal row.
            self.subtotal_2021 = to_row(&nums, sheet, OTHER_HANDLING_TOTAL);
            return;
        }
        let Some(label) = seg.label else {
            self.place_unlabelled(at, nums, clean, sheet);
            return;
        };
        let Some(start) = self.first_row(label) else {
            sheet.note(
                Code::RowUnreadable,
                "applications",
                format!(
                    "表三的行标签与表格式不符，其数字（{}）未采用",
                    printed(&nums)
                ),
            );
            return;
        };
        self.anchors.push((at, start));
        if k % T3_COLUMNS == 0 && clean {
            self.place_whole_rows(at, start, &nums, sheet);
        } else if k < T3_COLUMNS {
            self.place_short_row(at, seg, start, nums, clean, sheet);
        } else {
            self.place_spanning(start, nums, clean, sheet);
        }
    }

    /// The row a label names when it stands alone with no number after it; a 2021
    /// 其他处理 is the heading of three rows, not a row.
    fn loose_row(&self, label: T3Label) -> Option<usize> {
        match label {
            T3Label::OtherHandling if self.template == Template::Template2021 => None,
            l => self.first_row(l),
        }
    }

    /// The row a label names.
    fn first_row(&self, label: T3Label) -> Option<usize> {
        match label {
            T3Label::Row(p) => self.position(p),
            T3Label::Total => self.position(CLOSED),
            T3Label::OtherHandling if self.template == Template::Template2021 => {
                self.position("applications.other_handling.overdue_correction")
            }
            T3Label::OtherHandling => self.position(OTHER_HANDLING_TOTAL),
        }
    }

    /// Numbers before any row label: whole rows of seven clean numbers wait for their
    /// labels or the sums; anything else cannot be placed.
    fn place_unlabelled(
        &mut self,
        at: usize,
        nums: Vec<Number<'a>>,
        clean: bool,
        sheet: &mut Sheet,
    ) {
        if clean && nums.len() % T3_COLUMNS == 0 {
            for chunk in nums.chunks(T3_COLUMNS) {
                self.floating.push(Floating {
                    seg: at,
                    nums: chunk.to_vec(),
                });
            }
        } else {
            sheet.note(
                Code::RowUnreadable,
                "applications",
                format!(
                    "表三有 {} 个数前无可读行标签（{}），无法确定属于哪些行，未采用",
                    nums.len(),
                    printed(&nums)
                ),
            );
        }
    }

    /// Whole rows of seven clean numbers after the label of row `start`: the first is that
    /// row's; the others have no label of their own. A row already placed is noted and not
    /// taken.
    fn place_whole_rows(
        &mut self,
        at: usize,
        start: usize,
        nums: &[Number<'a>],
        sheet: &mut Sheet,
    ) {
        let rows = self.rows;
        // Several rows after one label: cut every seven only when each piece is a row by its
        // own total; a PDF's text may interleave rows cell by cell.
        let holds = |chunk: &[Number<'_>]| {
            ROW_TOTAL.holds(&chunk.iter().map(|n| n.value).collect::<Vec<_>>())
        };
        if nums.len() > T3_COLUMNS && !nums.chunks(T3_COLUMNS).all(holds) {
            sheet.note(
                Code::RowUnreadable,
                rows[start],
                format!(
                    "该行标签后印有 {} 个数（{}），每七个一行时有行的总计不符，无法确定各行取值",
                    nums.len(),
                    printed(nums)
                ),
            );
            return;
        }
        let (own, rest) = nums.split_at(T3_COLUMNS);
        if self.placed[start].is_some() {
            sheet.note(
                Code::RowUnreadable,
                rows[start],
                format!("该行重复出现，后一行（{}）未采用", printed(own)),
            );
        } else {
            self.placed[start] = to_row(own, sheet, rows[start]);
        }
        for chunk in rest.chunks(T3_COLUMNS) {
            self.floating.push(Floating {
                seg: at,
                nums: chunk.to_vec(),
            });
        }
    }

    /// A row that prints fewer than seven numbers: the first cells of a row the text stops
    /// in, else a gridded row placed by its cell positions, else a row for the sums to decide.
    fn place_short_row(
        &mut self,
        at: usize,
        seg: &Segment<'a>,
        start: usize,
        nums: Vec<Number<'a>>,
        clean: bool,
        sheet: &mut Sheet,
    ) {
        let row = self.rows[start];
        // Only where the row is one gridded line of numbers with no blank cell: elsewhere
        // a dropped blank could stand anywhere in it.
        let one_full_line = seg.at.is_some_and(|(line, _)| {
            seg.toks
                .iter()
                .all(|c| c.line == line && c.gridded && matches!(c.tok, Tok::Num(_)))
        });
        if self.cut && clean && one_full_line && Some(at) == self.last_with_numbers {
            // The page stops inside this row: what is printed is its first cells.
            let mut values = [None; T3_COLUMNS];
            for (c, n) in nums.iter().enumerate() {
                values[c] = n.integer.then_some(n.value);
            }
            self.placed[start] = Some(values);
            sheet.note(
                Code::RowMissing,
                row,
                format!("文本在这一行中止：只印出前 {} 格，其余各格缺失", nums.len()),
            );
        } else if let Some(grid) = grid_cells(seg.at, &seg.toks, T3_COLUMNS).filter(|g| {
            // A blank first cell could be a merged label's filler as well as a blank
            // 自然人 cell, with a cell dropped further on: the positions prove nothing.
            g.first().is_some_and(Option::is_some)
                && self
                    .usual_width
                    .is_none_or(|w| gridded_width(seg.at, &seg.toks) == Some(w))
        }) {
            self.placed[start] = Some(grid_row(&grid, sheet, row));
        } else if let Some(grid) = one_cell_per_line(&seg.toks) {
            // Crawled pages print one cell per line (`0 |`, a lone `|` for an empty cell):
            // seven such lines are the row's seven cells, blanks included.
            self.placed[start] = Some(grid_row(&grid, sheet, row));
        } else if self.placed[start].is_none() && !self.pending.iter().any(|p| p.row == row) {
            self.pending.push(Pending { row, nums });
        }
    }

    /// More than one row's numbers, but not whole rows: which row lost a cell, or where
    /// fused digits split, only arithmetic could tell; trying row by row is unsound. Numbers
    /// that may be one row's (fused) wait for the sums; several rows' are not read.
    fn place_spanning(
        &mut self,
        start: usize,
        nums: Vec<Number<'a>>,
        clean: bool,
        sheet: &mut Sheet,
    ) {
        let k = nums.len();
        let span = k.div_ceil(T3_COLUMNS);
        if span == 1 || !clean {
            if !self.pending.iter().any(|p| p.row == self.rows[start]) {
                self.pending.push(Pending {
                    row: self.rows[start],
                    nums,
                });
            }
        } else {
            sheet.note(
                Code::RowUnreadable,
                self.rows[start],
                format!(
                    "该行标签后印有 {k} 个数（{}），多于一行又不成整行，无法确定各行取值",
                    printed(&nums)
                ),
            );
        }
    }
}

/// Stores the placed rows, and a 2021 table's printed 其他处理 subtotal, into `sheet`.
pub(super) fn store_placed(
    rows: &[&str],
    placed: &[Option<RowValues>],
    subtotal_2021: Option<RowValues>,
    sheet: &mut Sheet,
) {
    for (r, values) in placed.iter().enumerate() {
        if let Some(values) = values {
            let cells = catalogue::children(rows[r]);
            for (&i, v) in cells.iter().zip(values) {
                if let Some(v) = v {
                    sheet.set_at(i, *v);
                }
            }
        }
    }
    if let Some(values) = subtotal_2021 {
        for (c, v) in values.iter().enumerate() {
            if let Some(v) = v {
                sheet.set_at(catalogue::children(OTHER_HANDLING_TOTAL)[c], *v);
            }
        }
    }
}

/// Seven printed numbers as a row; a non-integer count is absent with a finding.
fn to_row(nums: &[Number<'_>], sheet: &mut Sheet, row: &str) -> Option<RowValues> {
    let grid: Vec<Option<Number<'_>>> = nums.iter().copied().map(Some).collect();
    Some(grid_row(&grid, sheet, row))
}

/// A row's cells as values: a blank or non-integer cell is absent, with a finding.
fn grid_row(grid: &[Option<Number<'_>>], sheet: &mut Sheet, row: &str) -> RowValues {
    let mut out = [None; T3_COLUMNS];
    for (c, cell) in grid.iter().enumerate().take(T3_COLUMNS) {
        let path = || format!("{row}.{}", APPLICANT_COLUMNS[c]);
        match cell {
            None => {
                // The row's total, when printed, says the blank is a cell left out.
                let total = match grid.get(T3_TOTAL_COLUMN) {
                    Some(Some(t)) if c != T3_TOTAL_COLUMN => format!("，该行总计印为「{}」", t.raw),
                    _ => String::new(),
                };
                let path = path();
                let label = catalogue::label_of(&path);
                sheet.note(Code::CellBlank, path, format!("「{label}」为空{total}"));
            }
            Some(n) if !n.integer => sheet.note_values(
                Code::NotInteger,
                path(),
                None,
                Some(n.value),
                format!("申请件数「{}」不是整数，未采用", n.raw),
            ),
            Some(n) => out[c] = Some(n.value),
        }
    }
    out
}
