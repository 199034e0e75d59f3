//! Tables 二, 三 and 四: a region's cells to catalogue values. PURE.
//!
//! Rows are anchored on their labels where the labels are readable; numbers that follow no
//! label of their own (PDF text scrambles merged label cells) take the next rows in the
//! official order; a row that prints fewer cells than it has is placed by its grid position
//! when the line is gridded, else by the arithmetic rules when they force a single reading,
//! else left absent with a finding.

use super::cells::{cells, Cell, Number, Tok, Unit};
use super::labels::{t2_label_split, t3_label, T2Row, T3Label};
use super::sheet::Sheet;
use super::solve;
use crate::model::catalogue;
use crate::model::finding::Code;
use crate::model::form::{
    t3_outcome_rows, t3_rows, APPLICANT_COLUMNS, CARRIED_OVER, CLOSED, FORWARD, NEW, T4_PATHS,
};
use crate::pb::{ExtraRow, Template};

/// The most extra rows one report keeps: a real table 二 has a handful; more is not a
/// report, and must not grow the stored report without bound.
const MAX_EXTRA_ROWS: usize = 64;

/// How many numbers a region held, so the caller can tell a missing table.
pub struct Read {
    pub numbers: usize,
}

fn numbers_of<'a>(toks: &[Cell<'a>]) -> Vec<Number<'a>> {
    toks.iter()
        .filter_map(|c| match c.tok {
            Tok::Num(n) => Some(n),
            _ => None,
        })
        .collect()
}

fn printed(nums: &[Number<'_>]) -> String {
    nums.iter().map(|n| n.raw).collect::<Vec<_>>().join(" ")
}

/// The cells after a label on the label's own gridded line, when every number of the row is
/// on that line: trailing blanks dropped, and leading blanks (merged label columns) dropped
/// while the row is wider than `width`. `None` unless exactly `width` cells remain.
fn grid_cells<'a>(
    label: Option<(u32, u16)>,
    toks: &[Cell<'a>],
    width: usize,
) -> Option<Vec<Option<Number<'a>>>> {
    let (line, _) = label?;
    if toks.is_empty() || toks.iter().any(|c| c.line != line || !c.gridded) {
        return None;
    }
    let mut row: Vec<Option<Number<'a>>> = toks
        .iter()
        .map(|c| match c.tok {
            Tok::Num(n) => Some(n),
            _ => None,
        })
        .collect();
    while row.last().is_some_and(Option::is_none) {
        row.pop();
    }
    let leading = row.iter().take_while(|c| c.is_none()).count();
    let skip = leading.min(row.len().saturating_sub(width));
    (row.len() - skip == width).then(|| row.split_off(skip))
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

// ---------------------------------------------------------------------------------------
// Table 二
// ---------------------------------------------------------------------------------------

enum T2Target {
    Row(T2Row),
    Extra { label: String },
}

/// Reads table 二 into `sheet`.
pub fn read_t2(region: &str, template: Template, sheet: &mut Sheet) -> Read {
    let toks = cells(region);
    let mut read = Read { numbers: 0 };
    let mut target: Option<(T2Target, Option<(u32, u16)>)> = None;
    let mut row_toks: Vec<Cell<'_>> = Vec::new();
    let mut rows = T2Rows {
        template,
        amount_unit: amount_header_unit(region),
        // Some 2019 tables head the middle column 本年数量 (a count, or the change?).
        change_headed: region.contains('增') || region.contains('减'),
        seen: Vec::new(),
    };
    // The row whose split rows (行政检查, 行政确认) are being read.
    let mut split_parent: Option<T2Row> = None;

    for c in &toks {
        match c.tok {
            Tok::Text(t) => {
                if let Some((row, sub)) = t2_label_split(t) {
                    rows.flush(target.take(), &row_toks, sheet);
                    row_toks.clear();
                    split_parent = None;
                    target = Some(match sub {
                        Some(sub) => {
                            split_parent = Some(row);
                            (
                                T2Target::Extra {
                                    label: format!("{}/{sub}", row_label(row)),
                                },
                                Some((c.line, c.col)),
                            )
                        }
                        None => (T2Target::Row(row), Some((c.line, c.col))),
                    });
                    continue;
                }
                let has_numbers = row_toks.iter().any(|c| matches!(c.tok, Tok::Num(_)));
                match &mut target {
                    // A label under a row that printed no numbers: a split row (行政检查).
                    Some((T2Target::Row(parent), at)) if !has_numbers && !is_t2_header(t) => {
                        split_parent = Some(*parent);
                        let label = format!("{}/{}", row_label(*parent), t.trim());
                        *at = Some((c.line, c.col));
                        target = Some((T2Target::Extra { label }, *at));
                        row_toks.clear();
                    }
                    // A label broken across cells.
                    Some((T2Target::Extra { label }, at)) if !has_numbers && !is_t2_header(t) => {
                        label.push_str(t.trim());
                        *at = Some((c.line, c.col));
                    }
                    _ => {
                        rows.flush(target.take(), &row_toks, sheet);
                        row_toks.clear();
                        if is_t2_header(t) {
                            split_parent = None;
                        } else {
                            // The next split row of the same parent, or a row of its own.
                            let label = match split_parent {
                                Some(parent) => format!("{}/{}", row_label(parent), t.trim()),
                                None => t.trim().to_owned(),
                            };
                            target = Some((T2Target::Extra { label }, Some((c.line, c.col))));
                        }
                    }
                }
            }
            Tok::Num(_) | Tok::Blank => {
                if matches!(c.tok, Tok::Num(_)) {
                    read.numbers += 1;
                }
                if target.is_some() {
                    row_toks.push(*c);
                }
            }
        }
    }
    rows.flush(target.take(), &row_toks, sheet);
    read
}

/// Header cells of table 二 (column titles, 第二十条 markers) are not row labels.
fn is_t2_header(t: &str) -> bool {
    let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    [
        "信息内容",
        "数量",
        "件数",
        "第二十条",
        "金额",
        "增/减",
        "增减",
        "项目",
        "单位",
    ]
    .iter()
    .any(|w| compact.contains(w))
}

fn row_label(row: T2Row) -> &'static str {
    match row {
        T2Row::Regulations => "规章",
        T2Row::NormativeDocuments => "规范性文件",
        T2Row::Licensing => "行政许可",
        T2Row::OtherServices => "其他对外管理服务事项",
        T2Row::Penalty => "行政处罚",
        T2Row::Enforcement => "行政强制",
        T2Row::Fees => "行政事业性收费",
        T2Row::Procurement => "政府集中采购",
    }
}

/// The unit the amount headers of table 二 print: 元, 万元, or none (the 2019 template's
/// bare 采购总金额).
fn amount_header_unit(region: &str) -> Unit {
    let compact: String = region.chars().filter(|c| !c.is_whitespace()).collect();
    let mentions_yuan = compact.contains("(元)")
        || compact.contains("（元）")
        || compact.contains("单位:元")
        || compact.contains("单位：元");
    if compact.contains("万元") {
        Unit::WanYuan
    } else if mentions_yuan {
        Unit::Yuan
    } else {
        Unit::None
    }
}

/// What every row of one table 二 is read with: the format, the amount unit, whether the
/// 2019 middle column is headed as a change (本年增/减), the rows seen.
struct T2Rows {
    template: Template,
    amount_unit: Unit,
    change_headed: bool,
    seen: Vec<T2Row>,
}

impl T2Rows {
    fn flush(
        &mut self,
        target: Option<(T2Target, Option<(u32, u16)>)>,
        toks: &[Cell<'_>],
        sheet: &mut Sheet,
    ) {
        flush_t2(target, toks, self, sheet);
    }
}

fn flush_t2(
    target: Option<(T2Target, Option<(u32, u16)>)>,
    toks: &[Cell<'_>],
    ctx: &mut T2Rows,
    sheet: &mut Sheet,
) {
    let template = ctx.template;
    let seen = &mut ctx.seen;
    let Some((target, at)) = target else { return };
    let nums = numbers_of(toks);
    match target {
        T2Target::Extra { label } => {
            if nums.is_empty() {
                return;
            }
            if sheet.extra_rows.len() >= MAX_EXTRA_ROWS {
                if sheet.extra_rows.len() == MAX_EXTRA_ROWS {
                    sheet.note(
                        Code::ExtraRow,
                        "proactive",
                        format!("表二目录外的行超过 {MAX_EXTRA_ROWS} 行，其余未保留"),
                    );
                    sheet.extra_rows.push(ExtraRow {
                        table: "proactive".into(),
                        label: "…".into(),
                        cells: Vec::new(),
                    });
                }
                return;
            }
            let cells: Vec<String> = toks
                .iter()
                .map(|c| match c.tok {
                    Tok::Num(n) => n.raw.to_owned(),
                    _ => String::new(),
                })
                .collect();
            sheet.note(
                Code::ExtraRow,
                "proactive",
                format!("表二有目录外的行「{label}」：{}", printed(&nums)),
            );
            sheet.extra_rows.push(ExtraRow {
                table: "proactive".into(),
                label,
                cells,
            });
        }
        T2Target::Row(row) => {
            let columns = row.columns(template);
            if columns.is_empty() {
                if !nums.is_empty() {
                    sheet.extra_rows.push(ExtraRow {
                        table: "proactive".into(),
                        label: row_label(row).into(),
                        cells: nums.iter().map(|n| n.raw.to_owned()).collect(),
                    });
                }
                return;
            }
            if seen.contains(&row) {
                if !nums.is_empty() {
                    sheet.note(
                        Code::RowUnreadable,
                        row.path(),
                        format!(
                            "「{}」行重复出现，后一行（{}）未采用",
                            row_label(row),
                            printed(&nums)
                        ),
                    );
                }
                return;
            }
            if nums.is_empty() {
                // A parent row whose figures are in split rows, or a label repeated in a header.
                return;
            }
            seen.push(row);
            let values: Option<Vec<Option<Number<'_>>>> = if nums.len() == columns.len()
                && nums.iter().all(|n| !n.fused || columns.len() == 1)
            {
                Some(nums.iter().copied().map(Some).collect())
            } else if let Some(grid) = grid_cells(at, toks, columns.len())
                // A blank first cell could be a merged label's filler with a cell dropped
                // further on: the positions prove nothing.
                .filter(|g| g.first().is_some_and(Option::is_some))
            {
                Some(grid)
            } else {
                forced_split(&nums, columns.len())
            };
            let Some(values) = values else {
                sheet.note(
                    Code::RowUnreadable,
                    row.path(),
                    format!(
                        "「{}」行印有 {} 个数（{}），应有 {} 列，无法确定各列取值",
                        row_label(row),
                        nums.len(),
                        printed(&nums),
                        columns.len()
                    ),
                );
                return;
            };
            let previous = columns
                .iter()
                .position(|c| *c == "previous")
                .and_then(|i| values.get(i).copied().flatten())
                .map(|n| n.value);
            for (col, value) in columns.iter().zip(values) {
                let path = format!("{}.{col}", row.path());
                match value {
                    None => sheet.note(
                        Code::CellBlank,
                        path,
                        format!("「{}」行该列为空", row_label(row)),
                    ),
                    // A column headed 本年数量 gives the change only when last year's count
                    // was 0 (then the count and the change are one figure).
                    Some(n) if *col == "change" && !ctx.change_headed && previous != Some(0.0) => {
                        sheet.note_values(
                            Code::Ambiguous,
                            path,
                            None,
                            Some(n.value),
                            format!(
                                "「{}」行中间一列的表头不是「本年增/减」：「{}」可能是本年数量，也可能是增减，未采用",
                                row_label(row),
                                n.raw
                            ),
                        );
                    }
                    Some(n) => store_t2_cell(sheet, &path, col, n, ctx.amount_unit),
                }
            }
        }
    }
}

/// A fused token split into `width` cells when exactly one split exists.
fn forced_split<'a>(nums: &[Number<'a>], width: usize) -> Option<Vec<Option<Number<'a>>>> {
    let readings = solve::distinct(solve::splits(nums, width)?);
    match readings.as_slice() {
        [one] => Some(
            one.iter()
                .map(|v| {
                    Some(Number {
                        value: *v,
                        integer: true,
                        raw: nums[0].raw,
                        fused: true,
                        unit: Unit::None,
                    })
                })
                .collect(),
        ),
        _ => None,
    }
}

fn store_t2_cell(sheet: &mut Sheet, path: &str, column: &str, n: Number<'_>, header_unit: Unit) {
    if column == "amount_wan_yuan" {
        let wan = match (n.unit, header_unit) {
            (Unit::WanYuan, _) | (Unit::None | Unit::Count, Unit::WanYuan) => n.value,
            (Unit::Yuan, _) | (Unit::None | Unit::Count, Unit::Yuan) => n.value / 10_000.0,
            // Zero is zero in either unit.
            _ if n.value == 0.0 => 0.0,
            _ => {
                sheet.note_values(
                    Code::Ambiguous,
                    path,
                    None,
                    Some(n.value),
                    format!("金额「{}」及其表头都未注明单位（元或万元），未采用", n.raw),
                );
                return;
            }
        };
        sheet.set(path, wan);
        return;
    }
    if !n.integer {
        sheet.note_values(
            Code::NotInteger,
            path,
            None,
            Some(n.value),
            format!("计数「{}」不是整数，未采用", n.raw),
        );
        return;
    }
    sheet.set(path, n.value);
    if n.fused {
        sheet.note(
            Code::CellInferred,
            path,
            format!("数字「{}」粘连，按列数唯一拆分", n.raw),
        );
    }
}

// ---------------------------------------------------------------------------------------
// Table 三
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Table 四
// ---------------------------------------------------------------------------------------

/// Reads table 四 into `sheet`.
pub fn read_t4(region: &str, sheet: &mut Sheet) -> Read {
    let toks = cells(region);
    let nums = numbers_of(&toks);
    let numbers = nums.len();
    if numbers == 0 {
        return Read { numbers };
    }
    let clean = nums.iter().all(|n| !n.fused && n.integer);
    if numbers == 15 && clean {
        let stream: Vec<f64> = nums.iter().map(|n| n.value).collect();
        if groups_hold(&stream) {
            store_t4(sheet, stream.iter().map(|v| Some(*v)));
            return Read { numbers };
        }
        let readings = solve::recover_group_order(&stream);
        match readings.as_slice() {
            [] => {
                // No order makes the groups add up: as printed, and the validator reports
                // the sums that fail.
                store_t4(sheet, stream.iter().map(|v| Some(*v)));
            }
            [one] => store_recovered_t4(sheet, one, &nums),
            // Several groupings, one review group (the group that opens the stream): that
            // group is stated, the litigation groups are not.
            [first, rest @ ..] if rest.iter().all(|r| r[..5] == first[..5]) => {
                store_t4(sheet, first[..5].iter().map(|v| Some(*v)));
                for path in ["litigation_direct", "litigation_after_review"] {
                    sheet.note(
                        Code::Ambiguous,
                        path,
                        format!(
                            "表四的数字未按表格顺序排列（{}），两组行政诉讼数字有 {} 种分法都符合合计关系，均未采用",
                            printed(&nums),
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
                        printed(&nums),
                        several.len()
                    ),
                );
            }
        }
        return Read { numbers };
    }
    // A gridded data row: its empty cells are blank cells.
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
        while grid.len() > 15 && grid.last().is_some_and(Option::is_none) {
            grid.pop();
        }
        if grid.len() == 15 && grid.iter().flatten().count() == numbers {
            for (path, cell) in T4_PATHS.iter().zip(&grid) {
                match cell {
                    Some(n) if n.integer && !n.fused => sheet.set(path, n.value),
                    Some(n) => sheet.note(
                        Code::NotInteger,
                        *path,
                        format!("「{}」不是可读的整数", n.raw),
                    ),
                    None => sheet.note(Code::CellBlank, *path, "该单元格为空"),
                }
            }
            return Read { numbers };
        }
    }
    // Fused digits that split one way only.
    if let Some(found) = solve::splits(&nums, 15) {
        let ok: Vec<Vec<f64>> = solve::distinct(found)
            .into_iter()
            .filter(|v| groups_hold(v))
            .collect();
        if let [one] = ok.as_slice() {
            for (path, v) in T4_PATHS.iter().zip(one) {
                sheet.set_inferred(path, *v);
            }
            sheet.note(
                Code::CellInferred,
                "review",
                format!("表四数字粘连（{}），按各组合计关系唯一拆分", printed(&nums)),
            );
            return Read { numbers };
        }
    }
    for group in ["review", "litigation_direct", "litigation_after_review"] {
        sheet.note(
            Code::RowUnreadable,
            group,
            format!(
                "表四印有 {numbers} 个数（{}），应有 15 个，无法确定各格",
                printed(&nums)
            ),
        );
    }
    Read { numbers }
}

/// Table 四 read in another order than printed (PDF text moves whole blocks): the group
/// totals split the numbers into three groups, and the group that opens the stream follows
/// the 行政复议 header, which comes first; but nothing in the numbers tells 未经复议直接起诉
/// from 复议后起诉 (both orders satisfy every rule), so those two groups are stated only when
/// the printed order holds (read before any search): here they are listed in an AMBIGUOUS
/// finding. (Two blocks standing whole and in turn prove nothing: a scramble can put either
/// first.)
fn store_recovered_t4(sheet: &mut Sheet, one: &[f64; 15], nums: &[Number<'_>]) {
    store_t4(sheet, one[..5].iter().map(|v| Some(*v)));
    let group = |g: usize| {
        one[g * 5..g * 5 + 5]
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

fn groups_hold(v: &[f64]) -> bool {
    v.len() == 15
        && (0..3).all(|g| (v[g * 5..g * 5 + 4].iter().sum::<f64>() - v[g * 5 + 4]).abs() < 1e-9)
}

fn store_t4(sheet: &mut Sheet, values: impl Iterator<Item = Option<f64>>) {
    for (path, v) in T4_PATHS.iter().zip(values) {
        if let Some(v) = v {
            sheet.set(path, v);
        }
    }
}
