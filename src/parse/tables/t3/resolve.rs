//! What table 三's labels did not place: fused rows read by their own totals, unlabelled
//! rows paired with labels printed alone, the rest solved from the table's sums as a whole.

use super::place::Placing;
use super::{Floating, Pending};
use crate::model::catalogue;
use crate::model::finding::Code;
use crate::model::form::T3_COLUMNS;
use crate::model::rules::{column_sums, Rule, ROW_TOTAL};
use crate::parse::cells::Number;
use crate::parse::sheet::Sheet;
use crate::parse::solve;
use crate::parse::tables::printed;
use crate::parse::tables::whole::{self, RowValues, Solved};
use crate::pb::Template;

/// Places what the labels did not: rows printed apart from their labels, and rows whose
/// cells are fused or too few.
///
/// The steps: refuse to infer when the rows read in full already break a rule; pair the
/// unlabelled rows with the labels printed alone where the text prints them in matching
/// runs and the pairing keeps every rule; solve what is left of the table as a whole
/// ([`whole::solve`]); note what stays unread.
pub(super) fn resolve(table: Placing<'_>, sheet: &mut Sheet) {
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
