//! Table 三, the applications: seven columns a row, rows by their labels; a row that prints
//! fewer cells placed by its grid; rows printed apart from their labels paired with the
//! labels printed elsewhere, or placed where the table's sums force them; never by the order
//! they are printed in.

use super::{grid_cells, numbers_of, printed, LabelAt, Read};
use crate::model::catalogue;
use crate::model::finding::Code;
use crate::model::form::{
    t3_rows, APPLICANT_COLUMNS, CLOSED, OTHER_HANDLING_TOTAL, T3_COLUMNS, T3_TOTAL_COLUMN,
};
use crate::model::rules::{column_sums, Rule, ROW_TOTAL};
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
    /// The label stands on a line split into cells (a table row), not on a line of text.
    label_gridded: bool,
    toks: Vec<Cell<'a>>,
}

/// A row whose printed cells did not fill its seven columns directly.
struct Pending<'a> {
    row: &'static str,
    nums: Vec<Number<'a>>,
}

use super::whole::{self, RowValues, Solved};

/// A row of seven numbers printed with no label of its own: the extra rows after a label's
/// own, or numbers before any label.
struct Floating<'a> {
    /// The segment it was printed in.
    seg: usize,
    nums: Vec<Number<'a>>,
}

/// Reads table 三 into `sheet`.
/// `cut`: the text ends inside this table (a page cut short), so its last printed row may stop
/// part-way: its cells are the first ones of the row, the rest are gone, not dropped.
///
/// The steps: cut the cells into segments at the row labels; place each segment's
/// numbers in the row its label names; store what was placed; then place the rows printed
/// apart from their labels, and read the rows that printed fused cells, where the labels
/// printed elsewhere or the table's sums decide them ([`resolve`]).
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
    resolve(table, sheet);
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
fn without_header_lines(toks: Vec<Cell<'_>>) -> Vec<Cell<'_>> {
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
    /// Rows left for the sums to decide ([`resolve`]).
    pending: Vec<Pending<'a>>,
    /// Rows of seven numbers printed with no label of their own.
    floating: Vec<Floating<'a>>,
    /// Row labels printed with no number after them, `(segment, row)`: where labels were
    /// printed apart from their numbers.
    loose: Vec<(usize, usize)>,
    /// Whether each segment prints a number.
    numbered: Vec<bool>,
    /// `(segment, row)` for each segment whose label names the row its numbers start.
    anchors: Vec<(usize, usize)>,
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
    fn place(&mut self, at: usize, seg: &Segment<'a>, sheet: &mut Sheet) {
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

/// Places what the labels did not: rows printed apart from their labels, and rows whose
/// cells are fused or too few.
///
/// The steps: refuse to infer when the rows read in full already break a rule; pair the
/// unlabelled rows with the labels printed alone where the text prints them in matching
/// runs and the pairing keeps every rule; solve what is left of the table as a whole
/// ([`whole::solve`]); note what stays unread.
fn resolve(table: Placing<'_>, sheet: &mut Sheet) {
    let Placing {
        template,
        rows,
        mut placed,
        subtotal_2021,
        pending,
        mut floating,
        loose,
        numbered,
        anchors,
        ..
    } = table;
    if floating.is_empty() && pending.is_empty() {
        return;
    }
    // A fused row whose digits split only one way under its own total is read by itself.
    // The others, with their readings, are left for the whole table to decide.
    let mut left = Vec::with_capacity(pending.len());
    let mut open: Vec<(usize, Vec<[f64; T3_COLUMNS]>)> = Vec::with_capacity(pending.len());
    for p in pending {
        let Some(r) = rows.iter().position(|x| *x == p.row) else {
            continue;
        };
        let readings = row_candidates(&p.nums);
        match readings.as_slice() {
            [one] if placed[r].is_none() => {
                let v = one.map(Some);
                set_inferred_row(p.row, &v, sheet);
                note_pending(&p, &v, 1, 1, sheet);
                placed[r] = Some(v);
            }
            _ => {
                left.push(p);
                open.push((r, readings));
            }
        }
    }
    let pending = left;
    // Inference trusts the table's arithmetic: where the rows read in full already break a
    // rule, a sum could force a wrong reading, so nothing is inferred.
    let floating_broken = floating.iter().any(|f| {
        let v = f.values();
        v.iter().all(Option::is_some) && !ROW_TOTAL.holds(&v.map(|x| x.unwrap_or(0.0)))
    });
    let broken = printed_rules_fail(&placed, rows, template)
        .or_else(|| floating_broken.then_some("某行的总计"));
    if let Some(broken) = broken {
        for p in &pending {
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
        note_floating_left(
            &floating,
            &format!("表中{broken}不符合合计关系，不据合计推断"),
            sheet,
        );
        return;
    }
    let is_pending = |r: usize| pending.iter().any(|p| p.row == rows[r]);
    let loose: Vec<(usize, usize)> = loose
        .into_iter()
        .filter(|&(_, r)| placed[r].is_none() && !is_pending(r))
        .collect();
    if let Some(pairs) = pair_with_loose_labels(&floating, &loose, &numbered, &anchors) {
        let mut trial = placed.clone();
        for &(f, r) in &pairs {
            trial[r] = Some(floating[f].values());
        }
        if whole::consistent(template, rows, &trial) {
            for &(f, r) in &pairs {
                let f = &floating[f];
                set_inferred_row(rows[r], &f.values(), sheet);
                sheet.note(
                    Code::OrderRecovered,
                    rows[r],
                    format!(
                        "该行数字（{}）与行标签分开印出，按另行印出的行标签依次配对放置",
                        printed(&f.nums)
                    ),
                );
            }
            placed = trial;
            floating.clear();
        }
    }
    if floating.is_empty() && pending.is_empty() {
        return;
    }
    let problem = whole::Problem {
        template,
        rows,
        fixed: &placed,
        open,
        floating: floating.iter().map(Floating::values).collect(),
        subtotal: subtotal_2021,
    };
    match whole::solve(&problem) {
        Solved::Agreed {
            cells,
            combinations,
        } => {
            for (p, (r, readings)) in pending.iter().zip(&problem.open) {
                let got = &cells[*r];
                set_inferred_row(p.row, got, sheet);
                note_pending(p, got, readings.len(), combinations, sheet);
            }
            let mut stated = 0;
            for (r, got) in cells.iter().enumerate() {
                if placed[r].is_some() || problem.open.iter().any(|(o, _)| *o == r) {
                    continue;
                }
                if got.iter().any(Option::is_some) {
                    set_inferred_row(rows[r], got, sheet);
                    let full = got.iter().all(Option::is_some);
                    stated += usize::from(full);
                    sheet.note(
                        Code::OrderRecovered,
                        rows[r],
                        format!(
                            "表中未印标签的数字行，按行列合计关系{}确定在此行：{}",
                            if full { "唯一" } else { "部分" },
                            shown(got)
                        ),
                    );
                }
            }
            if stated < floating.len() {
                note_floating_left(
                    &floating,
                    &format!("合计关系只能确定其中 {stated} 行的位置（共 {combinations} 种放法）"),
                    sheet,
                );
            }
        }
        Solved::Contradiction => {
            for p in &pending {
                note_pending(p, &[None; T3_COLUMNS], 0, 0, sheet);
            }
            note_floating_left(&floating, "放在任何空行都不满足合计关系", sheet);
        }
        Solved::TooLarge => {
            for p in &pending {
                sheet.note(
                    Code::RowUnreadable,
                    p.row,
                    format!(
                        "该行印有 {} 个数（{}），应有 {T3_COLUMNS} 个，可能的读法过多，未推断",
                        p.nums.len(),
                        printed(&p.nums)
                    ),
                );
            }
            note_floating_left(&floating, "可能的放法过多，未推断", sheet);
        }
    }
}

impl Floating<'_> {
    /// The row's values; a number that is not a whole count is a cell not given.
    fn values(&self) -> RowValues {
        std::array::from_fn(|c| self.nums.get(c).filter(|n| n.integer).map(|n| n.value))
    }
}

/// The unlabelled rows paired with the row labels printed alone: only where the text
/// prints them in runs that match one to one (as many runs of unlabelled rows as of lone
/// labels, each run next to its partner and as long, the labels in the format's order), as
/// a PDF's text does when it moves a merged label cell after or before its rows.
/// `(floating row, table row)`.
fn pair_with_loose_labels(
    floating: &[Floating<'_>],
    loose: &[(usize, usize)],
    numbered: &[bool],
    anchors: &[(usize, usize)],
) -> Option<Vec<(usize, usize)>> {
    if floating.is_empty() || loose.len() != floating.len() {
        return None;
    }
    // (segment, is a label, floating index or table row), in printed order.
    let mut items: Vec<(usize, bool, usize)> = floating
        .iter()
        .enumerate()
        .map(|(i, f)| (f.seg, false, i))
        .chain(loose.iter().map(|&(seg, r)| (seg, true, r)))
        .collect();
    // In one segment a label printed apart comes before its rows.
    items.sort_by_key(|&(seg, label, _)| (seg, !label));
    // Runs: unlabelled rows of one segment; labels with no segment that prints numbers
    // between them.
    let mut runs: Vec<(bool, Vec<usize>)> = Vec::new();
    let mut last_seg = None;
    for (seg, label, x) in items {
        let joins = runs.last().is_some_and(|(kind, _)| *kind == label)
            && last_seg.is_some_and(|s: usize| {
                if label {
                    !numbered[s + 1..seg].iter().any(|&n| n)
                } else {
                    s == seg
                }
            });
        if joins {
            if let Some((_, xs)) = runs.last_mut() {
                xs.push(x);
            }
        } else {
            runs.push((label, vec![x]));
        }
        last_seg = Some(seg);
    }
    if runs.len() % 2 != 0 {
        return None;
    }
    let labels_first = runs[0].0;
    let mut pairs = Vec::new();
    for pair in runs.chunks(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.0 != labels_first || b.0 == labels_first || a.1.len() != b.1.len() {
            return None;
        }
        let (labels, values) = if labels_first {
            (&a.1, &b.1)
        } else {
            (&b.1, &a.1)
        };
        if labels.windows(2).any(|w| w[0] >= w[1]) {
            return None;
        }
        pairs.extend(values.iter().copied().zip(labels.iter().copied()));
    }
    // The labels must also fit where the rows were printed: between the rows whose labels
    // were printed with them just before and just after (a converter that scrambles its
    // loose labels pairs nothing).
    let fits = pairs.iter().all(|&(f, r)| {
        let seg = floating[f].seg;
        let before = anchors
            .iter()
            .rev()
            .find(|(s, _)| *s <= seg)
            .map(|&(_, row)| row);
        let after = anchors.iter().find(|(s, _)| *s > seg).map(|&(_, row)| row);
        before.is_none_or(|b| b < r) && after.is_none_or(|a| r < a)
    });
    fits.then_some(pairs)
}

/// Sets the given cells of `row` as inferred.
fn set_inferred_row(row: &str, values: &RowValues, sheet: &mut Sheet) {
    for (&i, v) in catalogue::children(row).iter().zip(values) {
        if let Some(v) = v {
            sheet.set_inferred_at(i, *v);
        }
    }
}

/// A row's cells as the message shows them: `_` for a cell not stated.
fn shown(values: &RowValues) -> String {
    values
        .iter()
        .map(|v| v.map_or_else(|| "_".to_owned(), |x| x.to_string()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The finding for a row read under its label with fused or too few cells.
fn note_pending(
    p: &Pending<'_>,
    got: &RowValues,
    readings: usize,
    combinations: usize,
    sheet: &mut Sheet,
) {
    let n = p.nums.len();
    let text = printed(&p.nums);
    if got.iter().all(Option::is_some) {
        sheet.note(
            Code::CellInferred,
            p.row,
            format!(
                "该行只印出 {n} 个数（{text}），按行列合计唯一确定为 {}",
                shown(got)
            ),
        );
        return;
    }
    let why = if readings == 0 {
        "且没有满足合计关系的读法".to_owned()
    } else if combinations == 0 {
        "其读法都不满足合计关系".to_owned()
    } else {
        format!("合计关系不能确定其读法（只确定了 {}）", shown(got))
    };
    sheet.note(
        Code::RowUnreadable,
        p.row,
        format!("该行印有 {n} 个数（{text}），应有 {T3_COLUMNS} 个，{why}"),
    );
}

/// The finding for unlabelled rows left unplaced.
fn note_floating_left(floating: &[Floating<'_>], why: &str, sheet: &mut Sheet) {
    if floating.is_empty() {
        return;
    }
    let text: Vec<String> = floating.iter().map(|f| printed(&f.nums)).collect();
    sheet.note(
        Code::RowUnreadable,
        "applications",
        format!(
            "表三有 {} 行数字前无可读行标签（{}），{why}，不按印出顺序放置，未采用",
            floating.len(),
            text.join("；")
        ),
    );
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
    if placed.iter().filter_map(full).any(|v| !ROW_TOTAL.holds(&v)) {
        return Some("某行的总计");
    }
    let cell = |row: &str, c: usize| -> Option<f64> {
        let i = rows.iter().position(|x| *x == row)?;
        placed[i].and_then(|v| v[c])
    };
    // The outcome sum is named first where a column breaks both.
    let sums = column_sums(template);
    for c in 0..T3_COLUMNS {
        for (rule, why) in [
            (Rule::Outcomes, "办理结果之和与总计"),
            (Rule::Balance, "收到与办理的平衡关系"),
        ] {
            if sums.iter().any(|s| s.rule == rule && s.fails(c, cell)) {
                return Some(why);
            }
        }
    }
    None
}

/// The readings of one row's printed numbers that its own total allows: fused digits split
/// into seven cells. A row that prints fewer cells than it has is not filled in from the sums:
/// the value of a missing cell is not in the text, and where the document's own arithmetic is
/// wrong in that row (real tables are), a sum would state a wrong figure.
fn row_candidates(nums: &[Number<'_>]) -> Vec<[f64; T3_COLUMNS]> {
    let mut candidates: Vec<Vec<f64>> = Vec::new();
    if nums.iter().any(|n| n.fused) {
        if let Some(found) = solve::splits(nums, T3_COLUMNS) {
            candidates.extend(
                found
                    .into_iter()
                    .filter(|v| v.iter().all(|x| *x >= 0.0) && ROW_TOTAL.holds(v)),
            );
        }
    }
    solve::distinct(candidates)
        .into_iter()
        .filter_map(|v| <[f64; T3_COLUMNS]>::try_from(v).ok())
        .collect()
}

/// Whether `seg`'s label stands on a line of text and its numbers on table lines of their
/// own, each a whole row of seven numbers with no label cell.
fn printed_apart(seg: &Segment<'_>) -> bool {
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
fn one_cell_per_line<'a>(toks: &[Cell<'a>]) -> Option<Vec<Option<Number<'a>>>> {
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
