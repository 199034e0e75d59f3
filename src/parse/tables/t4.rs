//! Table 四, reviews and suits: fifteen cells in three groups of five, read in printed order,
//! or regrouped by the group totals when a PDF moved whole blocks.

use super::{numbers_of, printed, Read};
use crate::model::finding::Code;
use crate::model::form::{T4_CELLS, T4_GROUPS, T4_GROUP_CELLS, T4_PATHS};
use crate::model::rules::GROUP_TOTAL;
use crate::parse::cells::{cells, Cell, Number, Tok};
use crate::parse::sheet::Sheet;
use crate::parse::solve;

/// Reads table 四 into `sheet`.
///
/// The readings, first that holds: fifteen clean numbers (in printed order, or regrouped by
/// the group totals); a gridded row of fifteen cells, blanks included; fused digits that
/// split one way only. Else every group is noted unreadable.
pub fn read_t4(region: &str, sheet: &mut Sheet) -> Read {
    let toks = cells(region);
    let nums = numbers_of(&toks);
    let numbers = nums.len();
    if numbers == 0 {
        return Read { numbers };
    }
    // One stream of fifteen cells (blanks of a gridded row included) gives each its path.
    let stream = toks
        .iter()
        .filter(|c| !matches!(c.tok, Tok::Text(_)))
        .count();
    let paths = (stream == T4_CELLS).then_some(&T4_PATHS[..]);
    super::note_bad_signs(&toks, paths, "", sheet);
    let clean = nums.iter().all(|n| !n.fused && n.integer);
    if numbers == T4_CELLS && clean {
        read_stream(&nums, sheet);
        return Read { numbers };
    }
    if read_gridded_row(&toks, numbers, sheet) || read_fused(&nums, sheet) {
        return Read { numbers };
    }
    for group in T4_GROUPS {
        sheet.note(
            Code::RowUnreadable,
            group,
            format!(
                "表四印有 {numbers} 个数（{}），应有 {T4_CELLS} 个，无法确定各格",
                printed(&nums)
            ),
        );
    }
    Read { numbers }
}

/// Fifteen clean numbers: in printed order when the groups add up; else in the one order
/// the group totals allow, or, when several allow it, only what they agree on.
fn read_stream(nums: &[Number<'_>], sheet: &mut Sheet) {
    let stream: Vec<f64> = nums.iter().map(|n| n.value).collect();
    if groups_hold(&stream) {
        store_t4(sheet, stream.iter().map(|v| Some(*v)));
        return;
    }
    let readings = solve::recover_group_order(&stream);
    match readings.as_slice() {
        [] => {
            // No order makes the groups add up: as printed, and the validator reports
            // the sums that fail.
            store_t4(sheet, stream.iter().map(|v| Some(*v)));
        }
        [one] => store_recovered_t4(sheet, one, nums),
        // Several groupings, one review group (the group that opens the stream): that
        // group is stated, the litigation groups are not.
        [first, rest @ ..]
            if rest
                .iter()
                .all(|r| r[..T4_GROUP_CELLS] == first[..T4_GROUP_CELLS]) =>
        {
            store_t4(sheet, first[..T4_GROUP_CELLS].iter().map(|v| Some(*v)));
            for path in ["litigation_direct", "litigation_after_review"] {
                sheet.note(
                    Code::Ambiguous,
                    path,
                    format!(
                        "表四的数字未按表格顺序排列（{}），两组行政诉讼数字有 {} 种分法都符合合计关系，均未采用",
                        printed(nums),
                        rest.len() + 1
                    ),
                );
            }
        }
        several => {
            sheet.note(
                Code::Ambiguous,
                "review",
                format!(
                    "表四的数字未按表格顺序排列（{}），有 {} 种分组都符合合计关系，未采用",
                    printed(nums),
                    several.len()
                ),
            );
        }
    }
}

/// A gridded data row of fifteen cells holding every number: its empty cells are blank
/// cells. False when no line of the table is one.
fn read_gridded_row(toks: &[Cell<'_>], numbers: usize, sheet: &mut Sheet) -> bool {
    for row in toks.chunk_by(|a, b| a.line == b.line) {
        let data =
            row.iter().all(|c| !matches!(c.tok, Tok::Text(_))) && row.iter().all(|c| c.gridded);
        if !data {
            continue;
        }
        let mut grid: Vec<Option<Number<'_>>> = row
            .iter()
            .map(|c| match c.tok {
                Tok::Num(n) => Some(n),
                _ => None,
            })
            .collect();
        while grid.len() > T4_CELLS && grid.last().is_some_and(Option::is_none) {
            grid.pop();
        }
        if grid.len() == T4_CELLS && grid.iter().flatten().count() == numbers {
            for (path, cell) in T4_PATHS.iter().zip(&grid) {
                match cell {
                    Some(n) if n.integer && !n.fused => sheet.set(path, n.value),
                    Some(n) => sheet.note(
                        Code::NotInteger,
                        *path,
                        format!("「{}」不是可读的整数", n.raw),
                    ),
                    None => sheet.note(
                        Code::CellBlank,
                        *path,
                        format!("「{}」为空", crate::model::catalogue::label_of(path)),
                    ),
                }
            }
            return true;
        }
    }
    false
}

/// Fused digits that split into fifteen cells one way only (the group totals holding).
/// False when they split no way or several.
fn read_fused(nums: &[Number<'_>], sheet: &mut Sheet) -> bool {
    let Some(found) = solve::splits(nums, T4_CELLS) else {
        return false;
    };
    let ok: Vec<Vec<f64>> = solve::distinct(found)
        .into_iter()
        .filter(|v| v.iter().all(|x| *x >= 0.0) && groups_hold(v))
        .collect();
    let [one] = ok.as_slice() else {
        return false;
    };
    for (path, v) in T4_PATHS.iter().zip(one) {
        sheet.set_inferred(path, *v);
    }
    sheet.note(
        Code::CellInferred,
        "review",
        format!("表四数字粘连（{}），按各组合计关系唯一拆分", printed(nums)),
    );
    true
}

/// Table 四 read in another order than printed (PDF text moves whole blocks): the group
/// totals split the numbers into three groups, and the group that opens the stream follows
/// the 行政复议 header, which comes first; but nothing in the numbers tells 未经复议直接起诉
/// from 复议后起诉 (both orders satisfy every rule), so those two groups are stated only when
/// the printed order holds (read before any search): here they are listed in an AMBIGUOUS
/// finding. (Two blocks standing whole and in turn prove nothing: a scramble can put either
/// first.)
fn store_recovered_t4(sheet: &mut Sheet, one: &[f64; T4_CELLS], nums: &[Number<'_>]) {
    store_t4(sheet, one[..T4_GROUP_CELLS].iter().map(|v| Some(*v)));
    let group = |g: usize| {
        one[g * T4_GROUP_CELLS..(g + 1) * T4_GROUP_CELLS]
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    for path in ["litigation_direct", "litigation_after_review"] {
        sheet.note(
            Code::Ambiguous,
            path,
            format!(
                "表四的数字未按表格顺序排列（{}）：两组行政诉讼数字「{}」与「{}」都符合合计关系，\
                 无法确定哪一组是未经复议直接起诉、哪一组是复议后起诉，均未采用",
                printed(nums),
                group(1),
                group(2)
            ),
        );
    }
}

/// Fifteen values whose every group's four results add up to its total.
fn groups_hold(v: &[f64]) -> bool {
    v.len() == T4_CELLS && v.chunks(T4_GROUP_CELLS).all(|g| GROUP_TOTAL.holds(g))
}

/// Sets table 四's cells, in printed order, to the values given (fewer: the first cells).
fn store_t4(sheet: &mut Sheet, values: impl Iterator<Item = Option<f64>>) {
    for (path, v) in T4_PATHS.iter().zip(values) {
        if let Some(v) = v {
            sheet.set(path, v);
        }
    }
}
