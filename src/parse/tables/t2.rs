//! Table 二, the proactive disclosures: rows found by their labels, each row's cells by the
//! columns its format prints; rows the catalogue does not have kept as extra rows.

use super::{grid_cells, numbers_of, printed, LabelAt, Read};
use crate::model::finding::Code;
use crate::parse::cells::{cells, Cell, Number, Tok, Unit};
use crate::parse::labels::{self, t2_label_split, T2Row};
use crate::parse::sheet::Sheet;
use crate::parse::solve;
use crate::pb::{ExtraRow, Template};

/// Yuan in one 万元 (ten thousand yuan), the unit of table 二's `amount_wan_yuan` cells.
const YUAN_PER_WAN: f64 = 10_000.0;

/// The most extra rows one report keeps: a real table 二 has a handful; more is not a
/// report, and must not grow the stored report without bound.
const MAX_EXTRA_ROWS: usize = 64;

/// What a table 二 label names: a catalogue row, or a row the catalogue does not have.
enum T2Target {
    Row(T2Row),
    Extra { label: String },
}

/// Reads table 二 into `sheet`.
pub fn read_t2(region: &str, template: Template, sheet: &mut Sheet) -> Read {
    let toks = cells(region);
    let mut read = Read { numbers: 0 };
    let mut target: Option<(T2Target, LabelAt)> = None;
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
            Tok::Num(_) | Tok::Blank | Tok::Malformed(_) => {
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
    let compact = labels::without_whitespace(t);
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
    let compact = labels::without_whitespace(region);
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
    /// Stores the row just read (its label's target and the cells after the label): a
    /// catalogue row into its cells, any other row as an extra row.
    fn flush(&mut self, target: Option<(T2Target, LabelAt)>, toks: &[Cell<'_>], sheet: &mut Sheet) {
        let Some((target, at)) = target else { return };
        let nums = numbers_of(toks);
        match target {
            T2Target::Extra { label } => keep_extra_row(label, toks, &nums, sheet),
            T2Target::Row(row) => self.store_row(row, at, toks, &nums, sheet),
        }
    }

    /// A catalogue row: read once (a repeat is noted, not taken), its printed numbers put in
    /// the columns its format prints, or a finding when they cannot be.
    fn store_row(
        &mut self,
        row: T2Row,
        at: LabelAt,
        toks: &[Cell<'_>],
        nums: &[Number<'_>],
        sheet: &mut Sheet,
    ) {
        let columns = row.columns(self.template);
        if columns.is_empty() {
            keep_unprinted_row(row, nums, sheet);
            return;
        }
        if self.seen.contains(&row) {
            if !nums.is_empty() {
                sheet.note(
                    Code::RowUnreadable,
                    row.path(),
                    format!(
                        "「{}」行重复出现，后一行（{}）未采用",
                        row_label(row),
                        printed(nums)
                    ),
                );
            }
            return;
        }
        let malformed: Vec<&str> = toks
            .iter()
            .filter_map(|c| match c.tok {
                Tok::Malformed(t) => Some(t),
                _ => None,
            })
            .collect();
        if nums.is_empty() {
            // A parent row whose figures are in split rows, or a label repeated in a header.
            note_malformed(row, &malformed, sheet);
            return;
        }
        self.seen.push(row);
        let Some(values) = row_values(nums, at, toks, columns) else {
            note_malformed(row, &malformed, sheet);
            sheet.note(
                Code::RowUnreadable,
                row.path(),
                format!(
                    "「{}」行印有 {} 个数（{}），应有 {} 列，无法确定各列取值",
                    row_label(row),
                    nums.len(),
                    printed(nums),
                    columns.len()
                ),
            );
            return;
        };
        // Fused digits that split several ways: the cells the splits disagree on are not
        // blank, they are undecided.
        if nums.iter().any(|n| n.fused) && grid_cells(at, toks, columns.len()).is_none() {
            let readings = split_readings(nums, columns);
            if readings.len() > 1 {
                let shown: Vec<String> = readings.iter().map(|r| format!("{r:?}")).collect();
                sheet.note(
                    Code::Ambiguous,
                    row.path(),
                    format!(
                        "「{}」行的数字粘连（{}），有 {} 种拆分：{}；各种拆分不一致的列未采用",
                        row_label(row),
                        printed(nums),
                        readings.len(),
                        shown.join("、")
                    ),
                );
                for (col, v) in columns.iter().zip(&values) {
                    if let Some(n) = v {
                        let path = format!("{}.{col}", row.path());
                        store_t2_cell(sheet, &path, col, *n, self.amount_unit);
                    }
                }
                return;
            }
        }
        // A malformed cell is placed as a blank: when they pair one to one, each blank column
        // is reported with the text printed there.
        let blanks = values.iter().filter(|v| v.is_none()).count();
        let printed_in_blanks = if blanks == malformed.len() {
            malformed
        } else {
            note_malformed(row, &malformed, sheet);
            Vec::new()
        };
        self.store_values(row, columns, values, &printed_in_blanks, sheet);
    }

    /// A row's cells, column by column: a blank is noted; the 2019 middle column is taken as
    /// the change only when its header or the row's own figures say it is one.
    fn store_values(
        &self,
        row: T2Row,
        columns: &[&str],
        values: Vec<Option<Number<'_>>>,
        printed_in_blanks: &[&str],
        sheet: &mut Sheet,
    ) {
        let mut printed_in_blanks = printed_in_blanks.iter();
        let previous = columns
            .iter()
            .position(|c| *c == "previous")
            .and_then(|i| values.get(i).copied().flatten())
            .map(|n| n.value);
        for (col, value) in columns.iter().zip(values) {
            let path = format!("{}.{col}", row.path());
            match value {
                None => match printed_in_blanks.next() {
                    Some(text) => sheet.note(
                        Code::NotInteger,
                        path,
                        format!(
                            "「{}」行该列印为「{text}」，不是可读的数，未采用",
                            row_label(row)
                        ),
                    ),
                    None => sheet.note(
                        Code::CellBlank,
                        path,
                        format!("「{}」行该列为空", row_label(row)),
                    ),
                },
                // Only 2019's 本年增/减 is signed: a plus sign elsewhere is reported, the
                // figure kept.
                Some(n) if n.plus && *col != "change" => {
                    sheet.note_values(
                        Code::NotInteger,
                        path.clone(),
                        None,
                        Some(n.value),
                        format!(
                            "「{}」行该列印为「+{}」：只有「本年增/减」一列带正负号",
                            row_label(row),
                            n.raw
                        ),
                    );
                    store_t2_cell(sheet, &path, col, n, self.amount_unit);
                }
                // A column headed 本年数量 gives the change only when last year's count
                // was 0 (then the count and the change are one figure).
                Some(n) if *col == "change" && !self.change_headed && previous != Some(0.0) => {
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
                Some(n) => store_t2_cell(sheet, &path, col, n, self.amount_unit),
            }
        }
    }
}

/// Cells of a row printed so that no number can be read (`--253`): reported with their text,
/// at the row since their columns are not known.
fn note_malformed(row: T2Row, malformed: &[&str], sheet: &mut Sheet) {
    for text in malformed {
        sheet.note(
            Code::NotInteger,
            row.path(),
            format!(
                "「{}」行有单元格印为「{text}」，不是可读的数，未采用",
                row_label(row)
            ),
        );
    }
}

/// The cells of a row `width` columns wide, by the first reading that holds: one number a
/// column as printed (fused digits only in a one-column row), else the row's grid positions,
/// else the one way its fused digits split.
fn row_values<'a>(
    nums: &[Number<'a>],
    at: LabelAt,
    toks: &[Cell<'a>],
    columns: &[&str],
) -> Option<Vec<Option<Number<'a>>>> {
    let width = columns.len();
    if nums.len() == width && nums.iter().all(|n| !n.fused || width == 1) {
        Some(nums.iter().copied().map(Some).collect())
    } else if let Some(grid) = grid_cells(at, toks, width)
        // A blank first cell could be a merged label's filler with a cell dropped
        // further on: the positions prove nothing.
        .filter(|g| g.first().is_some_and(Option::is_some))
    {
        Some(grid)
    } else {
        forced_split(nums, columns)
    }
}

/// A row the catalogue does not have (行政检查 under 其他对外管理服务事项, say): kept as
/// printed with a finding, up to [`MAX_EXTRA_ROWS`]; one more marks that the rest were cut.
fn keep_extra_row(label: String, toks: &[Cell<'_>], nums: &[Number<'_>], sheet: &mut Sheet) {
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
        format!("表二有目录外的行「{label}」：{}", printed(nums)),
    );
    sheet.extra_rows.push(ExtraRow {
        table: "proactive".into(),
        label,
        cells,
    });
}

/// A catalogue row its format does not print (其他对外管理服务事项 in a 2021 table): its
/// figures are kept as an extra row, without a finding.
fn keep_unprinted_row(row: T2Row, nums: &[Number<'_>], sheet: &mut Sheet) {
    if !nums.is_empty() {
        sheet.extra_rows.push(ExtraRow {
            table: "proactive".into(),
            label: row_label(row).into(),
            cells: nums.iter().map(|n| n.raw.to_owned()).collect(),
        });
    }
}

/// A fused token split into the row's columns: each cell every split agrees on (only 2019's
/// 本年增/减 may be negative), `None` where they differ; `None` when no split exists or no
/// cell is agreed.
fn forced_split<'a>(nums: &[Number<'a>], columns: &[&str]) -> Option<Vec<Option<Number<'a>>>> {
    let readings = split_readings(nums, columns);
    let first = readings.first()?;
    let cells: Vec<Option<Number<'a>>> = (0..columns.len())
        .map(|c| {
            readings
                .iter()
                .all(|r| (r[c] - first[c]).abs() < f64::EPSILON)
                .then(|| Number {
                    value: first[c],
                    integer: true,
                    raw: nums[0].raw,
                    fused: true,
                    unit: Unit::None,
                    plus: false,
                })
        })
        .collect();
    cells.iter().any(Option::is_some).then_some(cells)
}

/// The ways a row's fused digits split into its columns (only 本年增/减 negative).
fn split_readings(nums: &[Number<'_>], columns: &[&str]) -> Vec<Vec<f64>> {
    let Some(found) = solve::splits(nums, columns.len()) else {
        return Vec::new();
    };
    solve::distinct(found)
        .into_iter()
        .filter(|r| {
            r.iter()
                .zip(columns)
                .all(|(v, c)| *v >= 0.0 || *c == "change")
        })
        .collect()
}

fn store_t2_cell(sheet: &mut Sheet, path: &str, column: &str, n: Number<'_>, header_unit: Unit) {
    if column == "amount_wan_yuan" {
        let wan = match (n.unit, header_unit) {
            (Unit::WanYuan, _) | (Unit::None | Unit::Count, Unit::WanYuan) => n.value,
            (Unit::Yuan, _) | (Unit::None | Unit::Count, Unit::Yuan) => n.value / YUAN_PER_WAN,
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
