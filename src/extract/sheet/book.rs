//! The workbook being written as HTML, the one shape every spreadsheet becomes: a sheet's
//! cells, its merged regions cleared as a browser shows them, and each cell's text as the
//! sheet shows it.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use calamine::{Data, DataRef, Dimensions, ExcelDateTime};

use super::SheetHtml;
use crate::extract::cells::escape_into;
use crate::extract::{Limits, Note, Unreadable};
use crate::model::finding::Code;

/// The workbook being written as HTML.
pub(super) struct Book {
    html: String,
    notes: Vec<Note>,
    /// Cells the workbook may still give.
    pub(super) budget: usize,
    max_cells: usize,
    cut: bool,
    /// Why the first sheet that failed did.
    failed: Option<Unreadable>,
}

impl Book {
    pub(super) fn new(limits: &Limits) -> Book {
        Book {
            html: String::from("<html><body>\n"),
            notes: Vec::new(),
            budget: limits.max_cells,
            max_cells: limits.max_cells,
            cut: false,
            failed: None,
        }
    }

    pub(super) fn cut_short(&mut self, sheet: &str) {
        if !self.cut {
            self.cut = true;
            self.notes.push(Note {
                code: Code::RowMissing,
                message: format!(
                    "Excel 文件的单元格超过每份文件 {} 个的上限，自工作表“{sheet}”起未读完",
                    self.max_cells
                ),
            });
        }
    }

    /// One sheet's cells (row, column) → text, with its merged regions.
    pub(super) fn sheet(
        &mut self,
        name: &str,
        mut cells: BTreeMap<(u32, u32), String>,
        merges: &[Dimensions],
    ) {
        clear_merged(&mut cells, merges, self.max_cells);
        let rows: BTreeSet<u32> = cells.keys().map(|&(r, _)| r).collect();
        let cols: BTreeSet<u32> = cells.keys().map(|&(_, c)| c).collect();
        if cells.is_empty() {
            return;
        }
        let area = rows.len() as u64 * cols.len() as u64;
        if area > self.max_cells as u64 {
            self.notes.push(Note {
                code: Code::TableMissing,
                message: format!(
                    "工作表“{name}”的单元格分布在 {} 行 {} 列中，超过 {} 个单元格的上限，未读",
                    rows.len(),
                    cols.len(),
                    self.max_cells
                ),
            });
            return;
        }
        self.html.push_str("<p>");
        escape_into(&mut self.html, name);
        self.html.push_str("</p>\n<table>\n");
        for &row in &rows {
            self.html.push_str("<tr>");
            for &col in &cols {
                self.html.push_str("<td>");
                if let Some(text) = cells.get(&(row, col)) {
                    escape_into(&mut self.html, text);
                }
                self.html.push_str("</td>");
            }
            self.html.push_str("</tr>\n");
        }
        self.html.push_str("</table>\n");
    }

    /// A sheet that could not be read: left out with a note (the others still count).
    pub(super) fn unreadable(&mut self, sheet: &str, why: Unreadable) {
        self.failed.get_or_insert_with(|| why.clone());
        self.notes.push(Note {
            code: Code::TableMissing,
            message: format!("工作表“{sheet}”无法读取，未读：{}", why.reason),
        });
    }

    /// Whether anything was read: a workbook whose every sheet failed is unreadable.
    pub(super) fn any_sheet(&mut self) -> Result<(), Unreadable> {
        match self.failed.take() {
            Some(why) if !self.html.contains("<table>") => Err(why),
            _ => Ok(()),
        }
    }

    pub(super) fn finish(mut self) -> SheetHtml {
        self.html.push_str("</body></html>\n");
        SheetHtml {
            html: self.html,
            notes: self.notes,
        }
    }
}

/// Empties every cell of a merged region but its first, as a browser shows the region.
/// Regions are clipped to the cells' bounding box, and no more than `max_cells` positions
/// are looked at in all (regions may overlap in a hostile file).
fn clear_merged(cells: &mut BTreeMap<(u32, u32), String>, merges: &[Dimensions], max_cells: usize) {
    let (Some(&(first, _)), Some(&(last, _))) = (cells.keys().next(), cells.keys().next_back())
    else {
        return;
    };
    let mut covered = HashSet::new();
    let mut looked = 0usize;
    for m in merges {
        let (r0, c0) = m.start;
        let (r1, c1) = m.end;
        if r1 < r0 || c1 < c0 {
            continue;
        }
        for row in r0.max(first)..=r1.min(last) {
            let keys: Vec<(u32, u32)> = cells
                .range((row, c0)..=(row, c1))
                .map(|(&k, _)| k)
                .filter(|&k| k != (r0, c0))
                .collect();
            looked += keys.len() + 1;
            covered.extend(keys);
            if looked > max_cells {
                break;
            }
        }
        if looked > max_cells {
            break;
        }
    }
    for k in covered {
        cells.remove(&k);
    }
}

/// A cell's text as the sheet shows it; lines of a wrapped cell joined by a space.
pub(super) fn ref_text(value: &DataRef<'_>) -> String {
    let raw = match value {
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => number(*f),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        DataRef::DateTime(d) => date(d),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => e.to_string(),
        DataRef::Empty => String::new(),
    };
    one_line(&raw)
}

pub(super) fn data_text(value: &Data) -> String {
    let raw = match value {
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number(*f),
        Data::String(s) => s.clone(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Data::DateTime(d) => date(d),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
        Data::Empty => String::new(),
    };
    one_line(&raw)
}

fn one_line(raw: &str) -> String {
    let mut out = String::new();
    for line in raw.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(line);
    }
    out
}

/// A number as the sheet's General format shows it: an integral value (or one a formula's
/// rounding left a hair off) without a decimal point, any other with its decimals and never
/// an exponent.
pub(super) fn number(f: f64) -> String {
    if !f.is_finite() {
        return String::new();
    }
    let r = f.round();
    if (f - r).abs() <= 1e-9 * f.abs().max(1.0) {
        return format!("{:.0}", r + 0.0);
    }
    let s = format!("{f:.10}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// A date cell as year-month-day (and the time when it has one); a duration as its number.
fn date(d: &ExcelDateTime) -> String {
    if !d.is_datetime() {
        return number(d.as_f64());
    }
    let (y, m, day, h, min, s, _) = d.to_ymd_hms_milli();
    if (h, min, s) == (0, 0, 0) {
        format!("{y}-{m:02}-{day:02}")
    } else {
        format!("{y}-{m:02}-{day:02} {h:02}:{min:02}:{s:02}")
    }
}
