//! Table 三, the applications: seven columns a row, rows by their labels or, where a label is
//! unreadable, by the official order; a row that prints fewer cells placed by its grid, or by
//! the table's own sums when they force a single reading.

use super::{grid_cells, numbers_of, printed, LabelAt, Read, EPS};
use crate::model::catalogue;
use crate::model::finding::Code;
use crate::model::form::{
    t3_outcome_rows, t3_rows, APPLICANT_COLUMNS, APPLICANT_KINDS, CARRIED_OVER, CLOSED, FORWARD,
    NEW, OTHER_HANDLING_TOTAL, T3_COLUMNS, T3_TOTAL_COLUMN,
};
use crate::parse::cells::{cells, Cell, Number, Tok};
use crate::parse::labels::{t3_label, T3Label};
use crate::parse::sheet::Sheet;
use crate::parse::solve;
use crate::pb::Template;

/// A run of table 三's cells: a row label (when one was readable) and the cells up to the
/// next label, which may hold one row's numbers, several rows', or part of one.
struct Segment<'a> {
    label: Option<T3Label>,
    at: LabelAt,
    toks: Vec<Cell<'a>>,
}

/// A row whose printed cells did not fill its seven columns directly.
struct Pending<'a> {
    row: &'static str,
    nums: Vec<Number<'a>>,
}

/// One row's seven values (the applicant columns, then the total); a cell not read is `None`.
type RowValues = [Option<f64>; T3_COLUMNS];

/// Reads table 三 into `sheet`.
/// `cut`: the text ends inside this table (a page cut short), so its last printed row may stop
/// part-way: its cells are the first ones of the row, the rest are gone, not dropped.
///
/// The steps: cut the cells into segments at the row labels; place each segment's
/// numbers in the rows its label (or, without one, the official order) names; infer the rows
/// that printed too few or fused cells where the table's sums force one reading; store what
/// was placed.
pub fn read_t3(region: &str, template: Template, cut: bool, sheet: &mut Sheet) -> Read {
    let (segments, numbers) = segments(&cells(region));
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
    if table.by_order > 0 {
        sheet.note(
            Code::OrderRecovered,
            "applications",
            format!(
                "表三有 {} 行数字前无可读行标签，按官方行序放置",
                table.by_order
            ),
        );
    }
    resolve_pending(&mut table.placed, table.pending, template, sheet);
    store_placed(table.rows, &table.placed, table.subtotal_2021, sheet);
    Read { numbers }
}

/// Cuts table 三's cells at its row labels, and counts its numbers. The column headers
/// (总计, 其他) that precede the first row label open no segment; numbers before any label
/// open one without a label.
fn segments<'a>(toks: &[Cell<'a>]) -> (Vec<Segment<'a>>, usize) {
    let mut segments: Vec<Segment<'a>> = Vec::new();
    let mut started = false;
    let mut numbers = 0;
    for c in toks {
        match c.tok {
            Tok::Text(t) => {
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
                    toks: Vec::new(),
                });
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

/// A row's malformed or signed cells (`--253`, `+5`), reported at their cells when the row
/// is one gridded line of seven cells, else at the row.
fn note_bad_signs_t3(seg: &Segment<'_>, sheet: &mut Sheet) {
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
    super::note_bad_signs(toks, gridded.then_some(cells.as_slice()), row, sheet);
}

/// How many gridded rows must share a width before it is the table's usual one.
const USUAL_WIDTH_ROWS: usize = 3;

/// The usual width of a gridded row (its cells after the label, trailing blanks dropped),
/// when at least [`USUAL_WIDTH_ROWS`] rows share it: a row narrower than the others lost a
/// cell somewhere, so its positions prove nothing.
fn usual_width(segments: &[Segment<'_>]) -> Option<usize> {
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

/// Table 三 as its segments are placed, in the order the text prints them.
struct Placing<'a> {
    template: Template,
    /// The format's rows, in printed order.
    rows: &'static [&'static str],
    /// The text ends inside this table (see [`read_t3`]).
    cut: bool,
    /// See [`usual_width`].
    usual_width: Option<usize>,
    /// The last segment that prints a number: where a cut text stops.
    last_with_numbers: Option<usize>,
    /// Each row's values, once placed.
    placed: Vec<Option<RowValues>>,
    /// A 2021 table's printed 其他处理 subtotal (a row the 2021 format does not list).
    subtotal_2021: Option<RowValues>,
    /// Rows left for the sums to decide ([`resolve_pending`]).
    pending: Vec<Pending<'a>>,
    /// Rows placed by the official order, for want of a readable label.
    by_order: usize,
    /// The row the next unlabelled numbers go to.
    cursor: usize,
}

impl<'a> Placing<'a> {
    fn new(template: Template, cut: bool, segments: &[Segment<'a>]) -> Self {
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
            by_order: 0,
            cursor: 0,
        }
    }

    fn position(&self, path: &str) -> Option<usize> {
        self.rows.iter().position(|r| *r == path)
    }

    /// Places segment `at`: its numbers go to the row its label names (or the next row in
    /// order), as whole rows, as one short row, or, spanning rows without filling them, as
    /// rows that cannot be read.
    fn place(&mut self, at: usize, seg: &Segment<'a>, sheet: &mut Sheet) {
        let nums = numbers_of(&seg.toks);
        if nums.is_empty() {
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
        let Some(start) = self.first_row(seg.label) else {
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
        let clean = nums.iter().all(|n| !n.fused);
        if k % T3_COLUMNS == 0 && clean {
            self.place_whole_rows(seg, start, &nums, sheet);
        } else if k < T3_COLUMNS {
            self.place_short_row(at, seg, start, nums, clean, sheet);
        } else {
            self.place_spanning(start, nums, clean, sheet);
        }
    }

    /// The row a segment's first numbers belong to: the row its label names, or, without a
    /// label, the row after the last one placed.
    fn first_row(&self, label: Option<T3Label>) -> Option<usize> {
        match label {
            Some(T3Label::Row(p)) => self.position(p),
            Some(T3Label::Total) => self.position(CLOSED),
            Some(T3Label::OtherHandling) if self.template == Template::Template2021 => {
                self.position("applications.other_handling.overdue_correction")
            }
            Some(T3Label::OtherHandling) => self.position(OTHER_HANDLING_TOTAL),
            None => Some(self.cursor),
        }
    }

    /// Whole rows of seven clean numbers, from row `start` on; a row past the table's end or
    /// one already placed is noted and not taken.
    fn place_whole_rows(
        &mut self,
        seg: &Segment<'a>,
        start: usize,
        nums: &[Number<'a>],
        sheet: &mut Sheet,
    ) {
        let rows = self.rows;
        let m = nums.len() / T3_COLUMNS;
        for (j, chunk) in nums.chunks(T3_COLUMNS).enumerate() {
            let r = start + j;
            if r >= rows.len() {
                sheet.note(
                    Code::RowUnreadable,
                    "applications",
                    format!("表三多出一行数字（{}），未采用", printed(chunk)),
                );
                continue;
            }
            if self.placed[r].is_some() {
                sheet.note(
                    Code::RowUnreadable,
                    rows[r],
                    format!("该行重复出现，后一行（{}）未采用", printed(chunk)),
                );
                continue;
            }
            self.placed[r] = to_row(chunk, sheet, rows[r]);
        }
        if m > 1 || seg.label.is_none() {
            self.by_order += m - usize::from(seg.label.is_some());
        }
        self.cursor = start + m;
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
        } else if self.placed[start].is_none() && !self.pending.iter().any(|p| p.row == row) {
            self.pending.push(Pending { row, nums });
        }
        self.cursor = start + 1;
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
            for row in self.rows.iter().skip(start).take(span) {
                sheet.note(
                    Code::RowUnreadable,
                    *row,
                    format!(
                        "连续 {span} 行共印有 {k} 个数（{}），无法确定各行取值",
                        printed(&nums)
                    ),
                );
            }
        }
        self.cursor = start + span;
    }
}

/// Stores the placed rows, and a 2021 table's printed 其他处理 subtotal, into `sheet`.
fn store_placed(
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

/// A pending row and the readings its own row total allows.
struct Open<'a> {
    /// The row's index in the format's rows.
    r: usize,
    pending: Pending<'a>,
    candidates: Vec<Vec<f64>>,
}

/// Places the rows that printed fewer (or fused) cells, where the rules force one reading.
///
/// The steps: refuse to infer when the rows read in full already break a rule; give each
/// pending row the readings its own total allows; place the rows the column sums force one
/// at a time; then the rows that only force each other, together; note the rest.
fn resolve_pending(
    placed: &mut [Option<RowValues>],
    pending: Vec<Pending<'_>>,
    template: Template,
    sheet: &mut Sheet,
) {
    let rows = t3_rows(template);
    // Inference trusts the table's arithmetic: where the rows read in full already break a
    // rule, a sum could force a wrong reading, so nothing is inferred.
    if let Some(broken) = printed_rules_fail(placed, rows, template) {
        for p in pending {
            sheet.note(
                Code::RowUnreadable,
                p.row,
                format!(
                    "该行印有 {} 个数（{}），应有 {T3_COLUMNS} 个；表中{broken}不符合合计关系，不据合计推断",
                    p.nums.len(),
                    printed(&p.nums)
                ),
            );
        }
        return;
    }
    let mut open = open_rows(pending, rows);
    force_one_by_one(placed, &mut open, rows, template, sheet);
    force_jointly(placed, &open, rows, template, sheet);
    note_unresolved(placed, &open, sheet);
}

/// Each pending row with the readings its own row total allows.
fn open_rows<'a>(pending: Vec<Pending<'a>>, rows: &[&str]) -> Vec<Open<'a>> {
    let mut open: Vec<Open<'a>> = Vec::new();
    for p in pending {
        let Some(r) = rows.iter().position(|x| *x == p.row) else {
            continue;
        };
        let candidates = row_candidates(&p.nums);
        open.push(Open {
            r,
            pending: p,
            candidates,
        });
    }
    open
}

/// Rows the column sums force one at a time, until none moves: a row placed may force
/// the next.
fn force_one_by_one(
    placed: &mut [Option<RowValues>],
    open: &mut [Open<'_>],
    rows: &[&str],
    template: Template,
    sheet: &mut Sheet,
) {
    loop {
        let mut moved = false;
        for o in open.iter_mut() {
            if placed[o.r].is_some() {
                continue;
            }
            o.candidates
                .retain(|v| columns_hold(placed, rows, template, o.r, v));
            if let [one] = o.candidates.as_slice() {
                place_inferred(placed, sheet, o.r, &o.pending, one.clone());
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
}

/// Rows that only force each other: every combination of their readings, kept where all
/// column sums hold; a row is placed when every kept combination reads it alike. Tried only
/// for up to [`MAX_JOINT_COMBINATIONS`] combinations.
fn force_jointly(
    placed: &mut [Option<RowValues>],
    open: &[Open<'_>],
    rows: &[&str],
    template: Template,
    sheet: &mut Sheet,
) {
    let unresolved: Vec<usize> = (0..open.len())
        .filter(|&i| placed[open[i].r].is_none() && open[i].candidates.len() > 1)
        .collect();
    let combinations: usize = unresolved
        .iter()
        .map(|&i| open[i].candidates.len())
        .try_fold(1usize, |acc, n| acc.checked_mul(n))
        .unwrap_or(usize::MAX);
    if unresolved.len() <= 1 || combinations > MAX_JOINT_COMBINATIONS {
        return;
    }
    let agreed = agreed_readings(placed, open, &unresolved, combinations, rows, template);
    for (j, &i) in unresolved.iter().enumerate() {
        if let Some(Some(c)) = agreed[j] {
            let o = &open[i];
            let one = o.candidates[c].clone();
            place_inferred(placed, sheet, o.r, &o.pending, one);
        }
    }
}

/// For each of the `unresolved` open rows, over every combination of their readings whose
/// column sums all hold: `None` when no combination holds, `Some(Some(c))` when every one
/// that holds reads the row as its candidate `c`, `Some(None)` when they disagree.
fn agreed_readings(
    placed: &[Option<RowValues>],
    open: &[Open<'_>],
    unresolved: &[usize],
    combinations: usize,
    rows: &[&str],
    template: Template,
) -> Vec<Option<Option<usize>>> {
    let mut agreed: Vec<Option<Option<usize>>> = vec![None; unresolved.len()];
    let mut choice = vec![0usize; unresolved.len()];
    for mut k in 0..combinations {
        for (j, &i) in unresolved.iter().enumerate() {
            choice[j] = k % open[i].candidates.len();
            k /= open[i].candidates.len();
        }
        let mut trial = placed.to_vec();
        for (j, &i) in unresolved.iter().enumerate() {
            let v = &open[i].candidates[choice[j]];
            trial[open[i].r] = Some(std::array::from_fn(|c| Some(v[c])));
        }
        let holds = unresolved.iter().zip(&choice).all(|(&i, &c)| {
            columns_hold(&trial, rows, template, open[i].r, &open[i].candidates[c])
        });
        if !holds {
            continue;
        }
        for (j, &c) in choice.iter().enumerate() {
            let candidates = &open[unresolved[j]].candidates;
            agreed[j] = match agreed[j] {
                None => Some(Some(c)),
                Some(Some(prev)) if candidates[prev] == candidates[c] => Some(Some(prev)),
                _ => Some(None),
            };
        }
    }
    agreed
}

/// A finding for each open row the sums did not place: no reading holds, or several do.
fn note_unresolved(placed: &[Option<RowValues>], open: &[Open<'_>], sheet: &mut Sheet) {
    for o in open {
        if placed[o.r].is_some() {
            continue;
        }
        let why = if o.candidates.is_empty() {
            "且没有满足合计关系的读法".to_owned()
        } else {
            format!("有 {} 种满足合计关系的读法，无法确定", o.candidates.len())
        };
        let p = &o.pending;
        sheet.note(
            Code::RowUnreadable,
            p.row,
            format!(
                "该行印有 {} 个数（{}），应有 {T3_COLUMNS} 个，{why}",
                p.nums.len(),
                printed(&p.nums)
            ),
        );
    }
}

/// Which rule the rows read in full already break (a row total, an outcome sum, the balance),
/// or `None` when every rule they can be checked by holds.
fn printed_rules_fail(
    placed: &[Option<RowValues>],
    rows: &[&str],
    template: Template,
) -> Option<&'static str> {
    let full = |r: &Option<RowValues>| -> Option<[f64; T3_COLUMNS]> {
        let v = (*r)?;
        let mut out = [0.0; T3_COLUMNS];
        for (o, c) in out.iter_mut().zip(v) {
            *o = c?;
        }
        Some(out)
    };
    if placed.iter().filter_map(full).any(|v| !row_total_holds(&v)) {
        return Some("某行的总计");
    }
    let cell = |row: &str, c: usize| -> Option<f64> {
        let i = rows.iter().position(|x| *x == row)?;
        placed[i].and_then(|v| v[c])
    };
    for c in 0..T3_COLUMNS {
        let outcomes: Option<f64> = t3_outcome_rows(template).iter().map(|o| cell(o, c)).sum();
        if let (Some(sum), Some(total)) = (outcomes, cell(CLOSED, c)) {
            if (sum - total).abs() > EPS {
                return Some("办理结果之和与总计");
            }
        }
        if let [Some(a), Some(b), Some(x), Some(y)] = [
            cell(NEW, c),
            cell(CARRIED_OVER, c),
            cell(CLOSED, c),
            cell(FORWARD, c),
        ] {
            if (a + b - x - y).abs() > EPS {
                return Some("收到与办理的平衡关系");
            }
        }
    }
    None
}

/// The most combinations of several rows' readings tried together.
const MAX_JOINT_COMBINATIONS: usize = 4096;

/// The readings of one row's printed numbers that its own total allows: fused digits split
/// into seven cells. A row that prints fewer cells than it has is not filled in from the sums:
/// the value of a missing cell is not in the text, and where the document's own arithmetic is
/// wrong in that row (real tables are), a sum would state a wrong figure.
fn row_candidates(nums: &[Number<'_>]) -> Vec<Vec<f64>> {
    let mut candidates: Vec<Vec<f64>> = Vec::new();
    if nums.iter().any(|n| n.fused) {
        if let Some(found) = solve::splits(nums, T3_COLUMNS) {
            candidates.extend(found.into_iter().filter(|v| row_total_holds(v)));
        }
    }
    solve::distinct(candidates)
}

fn place_inferred(
    placed: &mut [Option<RowValues>],
    sheet: &mut Sheet,
    r: usize,
    p: &Pending<'_>,
    one: Vec<f64>,
) {
    let mut row = [None; T3_COLUMNS];
    for (c, v) in one.iter().enumerate() {
        row[c] = Some(*v);
        sheet.set_inferred_at(catalogue::children(p.row)[c], *v);
    }
    placed[r] = Some(row);
    sheet.note(
        Code::CellInferred,
        p.row,
        format!(
            "该行只印出 {} 个数（{}），按行列合计唯一确定为 {:?}",
            p.nums.len(),
            printed(&p.nums),
            one
        ),
    );
}

/// A row's six applicant cells add up to its total.
fn row_total_holds(v: &[f64]) -> bool {
    v.len() == T3_COLUMNS
        && (v[..APPLICANT_KINDS].iter().sum::<f64>() - v[T3_TOTAL_COLUMN]).abs() < EPS
}

/// The column sums (outcomes and balance) that involve row `r`, checked where every
/// other addend is known; an unknown addend leaves the check open.
fn columns_hold(
    placed: &[Option<RowValues>],
    rows: &[&str],
    template: Template,
    r: usize,
    v: &[f64],
) -> bool {
    let cell = |row: &str, c: usize| -> Option<f64> {
        let i = rows.iter().position(|x| *x == row)?;
        if i == r {
            return Some(v[c]);
        }
        placed[i].and_then(|vals| vals[c])
    };
    let outcomes = t3_outcome_rows(template);
    let in_outcomes = outcomes.contains(&rows[r]) || rows[r] == CLOSED;
    let in_balance = [NEW, CARRIED_OVER, CLOSED, FORWARD].contains(&rows[r]);
    for c in 0..T3_COLUMNS {
        if in_outcomes {
            let sum: Option<f64> = outcomes.iter().map(|o| cell(o, c)).sum();
            if let (Some(sum), Some(total)) = (sum, cell(CLOSED, c)) {
                if (sum - total).abs() > EPS {
                    return false;
                }
            }
        }
        if in_balance {
            let parts = [
                cell(NEW, c),
                cell(CARRIED_OVER, c),
                cell(CLOSED, c),
                cell(FORWARD, c),
            ];
            if let [Some(a), Some(b), Some(x), Some(y)] = parts {
                if (a + b - x - y).abs() > EPS {
                    return false;
                }
            }
        }
    }
    true
}

/// How many cells follow a label on its own gridded line (trailing blanks dropped), when the
/// row is all on that line.
fn gridded_width(label: LabelAt, toks: &[Cell<'_>]) -> Option<usize> {
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
