//! Table 三, the applications: seven columns a row, rows by their labels or, where a label is
//! unreadable, by the official order; a row that prints fewer cells placed by its grid, or by
//! the table's own sums when they force a single reading.

use super::{grid_cells, numbers_of, printed, Read};
use crate::model::catalogue;
use crate::model::finding::Code;
use crate::model::form::{
    t3_outcome_rows, t3_rows, APPLICANT_COLUMNS, CARRIED_OVER, CLOSED, FORWARD, NEW,
};
use crate::parse::cells::{cells, Cell, Number, Tok};
use crate::parse::labels::{t3_label, T3Label};
use crate::parse::sheet::Sheet;
use crate::parse::solve;
use crate::pb::Template;

struct Segment<'a> {
    label: Option<T3Label>,
    at: Option<(u32, u16)>,
    toks: Vec<Cell<'a>>,
}

/// A row whose printed cells did not fill its seven columns directly.
struct Pending<'a> {
    row: &'static str,
    nums: Vec<Number<'a>>,
}

/// Reads table 三 into `sheet`.
/// `cut`: the text ends inside this table (a page cut short), so its last printed row may stop
/// part-way: its cells are the first ones of the row, the rest are gone, not dropped.
pub fn read_t3(region: &str, template: Template, cut: bool, sheet: &mut Sheet) -> Read {
    let toks = cells(region);
    let mut segments: Vec<Segment<'_>> = Vec::new();
    let mut started = false;
    let mut numbers = 0;
    for c in &toks {
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
            Tok::Num(_) | Tok::Blank => {
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
    if numbers == 0 {
        return Read { numbers };
    }

    let rows = t3_rows(template);
    let position = |p: &str| rows.iter().position(|r| *r == p);
    let mut placed: Vec<Option<[Option<f64>; 7]>> = vec![None; rows.len()];
    let mut subtotal_2021: Option<[Option<f64>; 7]> = None;
    let mut pending: Vec<Pending<'_>> = Vec::new();
    let mut by_order = 0usize;
    let mut cursor = 0usize;

    // The usual width of a gridded row (its cells after the label, trailing blanks dropped):
    // a row narrower than the others lost a cell somewhere, so its positions prove nothing.
    let usual_width = {
        let mut counts: Vec<(usize, usize)> = Vec::new();
        for seg in &segments {
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
            .filter(|(_, k)| *k >= 3)
            .map(|(w, _)| *w)
    };
    let last_with_numbers = segments
        .iter()
        .rposition(|seg| seg.toks.iter().any(|c| matches!(c.tok, Tok::Num(_))));
    for (at, seg) in segments.iter().enumerate() {
        let nums = numbers_of(&seg.toks);
        if nums.is_empty() {
            continue;
        }
        let k = nums.len();
        let start = match seg.label {
            Some(T3Label::Row(p)) => position(p),
            Some(T3Label::Total) => position("applications.closed_total"),
            Some(T3Label::OtherHandling) if template == Template::Template2021 => {
                if k == 7 {
                    // A 2021 table printing the 其他处理 subtotal row.
                    subtotal_2021 = to_row(&nums, sheet, "applications.other_handling.total");
                    continue;
                }
                position("applications.other_handling.overdue_correction")
            }
            Some(T3Label::OtherHandling) => position("applications.other_handling.total"),
            None => Some(cursor),
        };
        let Some(start) = start else {
            sheet.note(
                Code::RowUnreadable,
                "applications",
                format!(
                    "表三的行标签与表格式不符，其数字（{}）未采用",
                    printed(&nums)
                ),
            );
            continue;
        };
        let clean = nums.iter().all(|n| !n.fused);
        if k % 7 == 0 && clean {
            let m = k / 7;
            for (j, chunk) in nums.chunks(7).enumerate() {
                let r = start + j;
                if r >= rows.len() {
                    sheet.note(
                        Code::RowUnreadable,
                        "applications",
                        format!("表三多出一行数字（{}），未采用", printed(chunk)),
                    );
                    continue;
                }
                if placed[r].is_some() {
                    sheet.note(
                        Code::RowUnreadable,
                        rows[r],
                        format!("该行重复出现，后一行（{}）未采用", printed(chunk)),
                    );
                    continue;
                }
                placed[r] = to_row(chunk, sheet, rows[r]);
            }
            if m > 1 || seg.label.is_none() {
                by_order += m - usize::from(seg.label.is_some());
            }
            cursor = start + m;
        } else if k < 7 {
            // Only where the row is one gridded line of numbers with no blank cell: elsewhere
            // a dropped blank could stand anywhere in it.
            let one_full_line = seg.at.is_some_and(|(line, _)| {
                seg.toks
                    .iter()
                    .all(|c| c.line == line && c.gridded && matches!(c.tok, Tok::Num(_)))
            });
            if cut && clean && one_full_line && Some(at) == last_with_numbers {
                // The page stops inside this row: what is printed is its first cells.
                let mut row = [None; 7];
                for (c, n) in nums.iter().enumerate() {
                    row[c] = n.integer.then_some(n.value);
                }
                placed[start] = Some(row);
                sheet.note(
                    Code::RowMissing,
                    rows[start],
                    format!("文本在这一行中止：只印出前 {k} 格，其余各格缺失"),
                );
            } else if let Some(grid) = grid_cells(seg.at, &seg.toks, 7).filter(|g| {
                // A blank first cell could be a merged label's filler as well as a blank
                // 自然人 cell, with a cell dropped further on: the positions prove nothing.
                g.first().is_some_and(Option::is_some)
                    && usual_width.is_none_or(|w| gridded_width(seg.at, &seg.toks) == Some(w))
            }) {
                placed[start] = Some(grid_row(&grid, sheet, rows[start]));
            } else if placed[start].is_none() && !pending.iter().any(|p| p.row == rows[start]) {
                pending.push(Pending {
                    row: rows[start],
                    nums,
                });
            }
            cursor = start + 1;
        } else {
            // More than one row's numbers, but not whole rows: which row lost a cell, or
            // where fused digits split, only arithmetic could tell; try row by row is unsound.
            let span = k.div_ceil(7);
            if span == 1 || !clean {
                if !pending.iter().any(|p| p.row == rows[start]) {
                    pending.push(Pending {
                        row: rows[start],
                        nums,
                    });
                }
            } else {
                for row in rows.iter().skip(start).take(span) {
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
            cursor = start + span;
        }
    }
    if by_order > 0 {
        sheet.note(
            Code::OrderRecovered,
            "applications",
            format!("表三有 {by_order} 行数字前无可读行标签，按官方行序放置"),
        );
    }

    resolve_pending(&mut placed, pending, template, sheet);

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
                sheet.set_at(
                    catalogue::children("applications.other_handling.total")[c],
                    *v,
                );
            }
        }
    }
    Read { numbers }
}

/// Seven printed numbers as a row; a non-integer count is absent with a finding.
fn to_row(nums: &[Number<'_>], sheet: &mut Sheet, row: &str) -> Option<[Option<f64>; 7]> {
    let grid: Vec<Option<Number<'_>>> = nums.iter().copied().map(Some).collect();
    Some(grid_row(&grid, sheet, row))
}

fn grid_row(grid: &[Option<Number<'_>>], sheet: &mut Sheet, row: &str) -> [Option<f64>; 7] {
    let mut out = [None; 7];
    for (c, cell) in grid.iter().enumerate().take(7) {
        let path = || format!("{row}.{}", APPLICANT_COLUMNS[c]);
        match cell {
            None => sheet.note(Code::CellBlank, path(), "该单元格为空"),
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

/// Places the rows that printed fewer (or fused) cells, where the rules force one reading.
fn resolve_pending(
    placed: &mut [Option<[Option<f64>; 7]>],
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
                    "该行印有 {} 个数（{}），应有 7 个；表中{broken}不符合合计关系，不据合计推断",
                    p.nums.len(),
                    printed(&p.nums)
                ),
            );
        }
        return;
    }
    // Each pending row with the readings its own row total allows.
    let mut open: Vec<(usize, Pending<'_>, Vec<Vec<f64>>)> = Vec::new();
    for p in pending {
        let Some(r) = rows.iter().position(|x| *x == p.row) else {
            continue;
        };
        let candidates = row_candidates(&p.nums);
        open.push((r, p, candidates));
    }
    // Rows the column sums force one at a time, until none moves: a row placed may force
    // the next.
    loop {
        let mut moved = false;
        for (r, p, candidates) in &mut open {
            if placed[*r].is_some() {
                continue;
            }
            candidates.retain(|v| columns_hold(placed, rows, template, *r, v));
            if let [one] = candidates.as_slice() {
                place_inferred(placed, sheet, *r, p, one.clone());
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    // Rows that only force each other: every combination of their readings, kept where all
    // column sums hold; a row is placed when every kept combination reads it alike.
    let unresolved: Vec<usize> = (0..open.len())
        .filter(|&i| placed[open[i].0].is_none() && open[i].2.len() > 1)
        .collect();
    let combinations: usize = unresolved
        .iter()
        .map(|&i| open[i].2.len())
        .try_fold(1usize, |acc, n| acc.checked_mul(n))
        .unwrap_or(usize::MAX);
    if unresolved.len() > 1 && combinations <= MAX_JOINT_COMBINATIONS {
        let mut agreed: Vec<Option<Option<usize>>> = vec![None; unresolved.len()];
        let mut choice = vec![0usize; unresolved.len()];
        for mut k in 0..combinations {
            for (j, &i) in unresolved.iter().enumerate() {
                choice[j] = k % open[i].2.len();
                k /= open[i].2.len();
            }
            let mut trial = placed.to_vec();
            for (j, &i) in unresolved.iter().enumerate() {
                let v = &open[i].2[choice[j]];
                trial[open[i].0] = Some(std::array::from_fn(|c| Some(v[c])));
            }
            let holds = unresolved
                .iter()
                .zip(&choice)
                .all(|(&i, &c)| columns_hold(&trial, rows, template, open[i].0, &open[i].2[c]));
            if !holds {
                continue;
            }
            for (j, &c) in choice.iter().enumerate() {
                agreed[j] = match agreed[j] {
                    None => Some(Some(c)),
                    Some(Some(prev)) if open[unresolved[j]].2[prev] == open[unresolved[j]].2[c] => {
                        Some(Some(prev))
                    }
                    _ => Some(None),
                };
            }
        }
        for (j, &i) in unresolved.iter().enumerate() {
            if let Some(Some(c)) = agreed[j] {
                let (r, p, candidates) = &open[i];
                let one = candidates[c].clone();
                place_inferred(placed, sheet, *r, p, one);
            }
        }
    }
    for (r, p, candidates) in &open {
        if placed[*r].is_some() {
            continue;
        }
        let why = if candidates.is_empty() {
            "且没有满足合计关系的读法".to_owned()
        } else {
            format!("有 {} 种满足合计关系的读法，无法确定", candidates.len())
        };
        sheet.note(
            Code::RowUnreadable,
            p.row,
            format!(
                "该行印有 {} 个数（{}），应有 7 个，{why}",
                p.nums.len(),
                printed(&p.nums)
            ),
        );
    }
}

/// Which rule the rows read in full already break (a row total, an outcome sum, the balance),
/// or `None` when every rule they can be checked by holds.
fn printed_rules_fail(
    placed: &[Option<[Option<f64>; 7]>],
    rows: &[&str],
    template: Template,
) -> Option<&'static str> {
    let full = |r: &Option<[Option<f64>; 7]>| -> Option<[f64; 7]> {
        let v = (*r)?;
        let mut out = [0.0; 7];
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
    for c in 0..7 {
        let outcomes: Option<f64> = t3_outcome_rows(template).iter().map(|o| cell(o, c)).sum();
        if let (Some(sum), Some(total)) = (outcomes, cell(CLOSED, c)) {
            if (sum - total).abs() > 1e-9 {
                return Some("办理结果之和与总计");
            }
        }
        if let [Some(a), Some(b), Some(x), Some(y)] = [
            cell(NEW, c),
            cell(CARRIED_OVER, c),
            cell(CLOSED, c),
            cell(FORWARD, c),
        ] {
            if (a + b - x - y).abs() > 1e-9 {
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
        if let Some(found) = solve::splits(nums, 7) {
            candidates.extend(found.into_iter().filter(|v| row_total_holds(v)));
        }
    }
    solve::distinct(candidates)
}

fn place_inferred(
    placed: &mut [Option<[Option<f64>; 7]>],
    sheet: &mut Sheet,
    r: usize,
    p: &Pending<'_>,
    one: Vec<f64>,
) {
    let mut row = [None; 7];
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

fn row_total_holds(v: &[f64]) -> bool {
    v.len() == 7 && (v[..6].iter().sum::<f64>() - v[6]).abs() < 1e-9
}

/// The column sums (outcomes and balance) that involve row `r`, checked where every
/// other addend is known; an unknown addend leaves the check open.
fn columns_hold(
    placed: &[Option<[Option<f64>; 7]>],
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
    for c in 0..7 {
        if in_outcomes {
            let sum: Option<f64> = outcomes.iter().map(|o| cell(o, c)).sum();
            if let (Some(sum), Some(total)) = (sum, cell(CLOSED, c)) {
                if (sum - total).abs() > 1e-9 {
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
                if (a + b - x - y).abs() > 1e-9 {
                    return false;
                }
            }
        }
    }
    true
}

/// How many cells follow a label on its own gridded line (trailing blanks dropped), when the
/// row is all on that line.
fn gridded_width(label: Option<(u32, u16)>, toks: &[Cell<'_>]) -> Option<usize> {
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
