//! Table 三, the applications: seven columns a row, rows by their labels; a row that prints
//! fewer cells placed by its grid; rows printed apart from their labels paired with the
//! labels printed elsewhere, or placed where the table's sums force them; never by the order
//! they are printed in.
//!
//! The steps, one part each: [`segments`](mod@segments) cuts the cells at the row labels and reads how
//! each run of cells is printed; [`place`] puts each run's numbers in the row its label
//! names; [`resolve`] places what the labels did not, by the labels printed elsewhere or the
//! table's sums.

mod place;
mod resolve;
mod segments;

use super::{LabelAt, Read};
use crate::parse::cells::{cells, Cell, Number};
use crate::parse::labels::T3Label;
use crate::parse::sheet::Sheet;
use crate::parse::tables::whole::RowValues;
use crate::pb::Template;
use place::{store_placed, Placing};
use segments::{note_bad_signs_t3, segments, without_header_lines};

/// A run of table 三's cells: a row label (when one was readable) and the cells up to the
/// next label, which may hold one row's numbers, several rows', or part of one.
struct Segment<'a> {
    label: Option<T3Label>,
    at: LabelAt,
    /// The label stands on a line split into cells (a table row), not on a line of text.
    label_gridded: bool,
    toks: Vec<Cell<'a>>,
}

/// A row whose printed cells did not fill its seven columns directly.
struct Pending<'a> {
    row: &'static str,
    nums: Vec<Number<'a>>,
}

/// A row of seven numbers printed with no label of its own: the extra rows after a label's
/// own, or numbers before any label.
struct Floating<'a> {
    /// The segment it was printed in.
    seg: usize,
    nums: Vec<Number<'a>>,
}

impl Floating<'_> {
    /// The row's values; a number that is not a whole count is a cell not given.
    fn values(&self) -> RowValues {
        std::array::from_fn(|c| self.nums.get(c).filter(|n| n.integer).map(|n| n.value))
    }
}

/// Reads table 三 into `sheet`.
/// `cut`: the text ends inside this table (a page cut short), so its last printed row may stop
/// part-way: its cells are the first ones of the row, the rest are gone, not dropped.
///
/// The steps: cut the cells into segments at the row labels; place each segment's
/// numbers in the row its label names; store what was placed; then place the rows printed
/// apart from their labels, and read the rows that printed fused cells, where the labels
/// printed elsewhere or the table's sums decide them ([`resolve`](resolve::resolve)).
pub fn read_t3(region: &str, template: Template, cut: bool, sheet: &mut Sheet) -> Read {
    let (segments, numbers) = segments(&without_header_lines(cells(region)));
    if numbers == 0 {
        return Read { numbers };
    }
    for seg in &segments {
        note_bad_signs_t3(seg, sheet);
    }
    let mut table = Placing::new(template, cut, &segments);
    for (at, seg) in segments.iter().enumerate() {
        table.place(at, seg, sheet);
    }
    store_placed(table.rows, &table.placed, table.subtotal_2021, sheet);
    resolve::resolve(table, sheet);
    Read { numbers }
}
