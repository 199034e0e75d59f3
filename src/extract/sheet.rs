//! Spreadsheets to HTML tables: XLSX, and XLS and Kingsoft ET (both BIFF8 in an OLE2
//! compound file). PURE.
//!
//! calamine reads the cells; each visible worksheet becomes its name as a `<p>` and a
//! `<table>`, one `<tr>` per row and one `<td>` per column, which then go through the one
//! HTML reader. A merged region keeps its value in its first cell and leaves the others
//! empty, as a browser shows the same table; rows and columns empty throughout are left
//! out. Numbers print as a person reads them in the sheet: `3050`, never `3050.0` or `3.05e3`;
//! a formula gives the value its writer cached. A sheet calamine cannot read is left out with
//! a note; a workbook none of whose sheets can be read is [`Unreadable`].
//!
//! The work is bounded before calamine sees the file, since calamine trusts it. An XLSX's
//! zip is checked by [`zipped`](super::zipped) (stated sizes, compression ratio, then each
//! entry inflated no further than it states), and its shared-string count must fit the part
//! that holds them (calamine reserves room for the count it is told). An XLS's compound file
//! is opened by the `cfb` crate, which checks its sector chains; its workbook stream is
//! scanned record by record so that no sheet's stated or used area exceeds
//! [`Limits::max_cells`]; and calamine then reads a fresh compound file holding that stream
//! alone. Cells read from one workbook stop at [`Limits::max_cells`], with a note.

use super::cells::escape_into;
use super::zipped::Zip;
use super::{Kind, Limits, Note, Unreadable};
use crate::model::finding::Code;
use calamine::{
    Data, DataRef, Dimensions, ExcelDateTime, Reader, Sheet, SheetType, SheetVisible, Xls,
    XlsError, Xlsx, XlsxError,
};
use quick_xml::events::Event;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{Cursor, Read, Write};

/// What one workbook gave.
#[derive(Debug)]
pub struct SheetHtml {
    pub html: String,
    pub notes: Vec<Note>,
}

/// The visible worksheets of a workbook as HTML. `kind` says which container the bytes are
/// ([`Kind::Xlsx`] a zip, anything else an OLE2 compound file).
pub fn to_html(bytes: &[u8], kind: Kind, limits: &Limits) -> Result<SheetHtml, Unreadable> {
    let mut book = Book::new(limits);
    match kind {
        Kind::Xlsx => xlsx(bytes, limits, &mut book)?,
        _ => xls(bytes, limits, &mut book)?,
    }
    Ok(book.finish())
}

const ENCRYPTED: &str = "Excel 文件已加密（设有打开密码），无法读取";

fn broken(e: impl std::fmt::Display) -> Unreadable {
    Unreadable::new(format!("Excel 文件已损坏或不是有效的表格文件：{e}"))
}

fn xlsx(bytes: &[u8], limits: &Limits, book: &mut Book) -> Result<(), Unreadable> {
    let mut zip = Zip::open(bytes, "Excel 文件", limits)?;
    zip.verify()?;
    check_shared_strings(&mut zip)?;
    let mut wb = Xlsx::new(Cursor::new(bytes)).map_err(|e| match e {
        XlsxError::Password => Unreadable::new(ENCRYPTED),
        e => broken(e),
    })?;
    for sheet in worksheets(wb.sheets_metadata()) {
        if book.budget == 0 {
            book.cut_short(&sheet);
            break;
        }
        let mut read = || -> Result<_, XlsxError> {
            let merges = wb.merge_cells_by_sheet_name(&sheet)?;
            let mut cells = BTreeMap::new();
            let mut reader = wb.worksheet_cells_reader(&sheet)?;
            while let Some(cell) = reader.next_cell()? {
                let text = ref_text(cell.get_value());
                if text.is_empty() {
                    continue;
                }
                if book.budget == 0 {
                    book.cut_short(&sheet);
                    break;
                }
                book.budget -= 1;
                cells.insert(cell.get_position(), text);
            }
            Ok((cells, merges))
        };
        match read() {
            Ok((cells, merges)) => book.sheet(&sheet, cells, &merges),
            Err(e) => book.unreadable(&sheet, broken(e)),
        }
    }
    book.any_sheet()
}

/// calamine reserves room for as many shared strings as the part says it holds: the part
/// must be able to hold them (`<si/>` is five bytes).
fn check_shared_strings(zip: &mut Zip<'_>) -> Result<(), Unreadable> {
    for name in zip.names_ending_with("sharedstrings.xml") {
        let Some(xml) = zip.read(&name)? else {
            continue;
        };
        let mut reader = quick_xml::Reader::from_reader(xml.as_slice());
        let mut buf = Vec::new();
        loop {
            match reader.read_event_into(&mut buf) {
                Ok(Event::Start(e) | Event::Empty(e)) => {
                    for a in e.attributes().flatten() {
                        let key = a.key.local_name();
                        if key.as_ref() != b"uniqueCount" && key.as_ref() != b"count" {
                            continue;
                        }
                        let stated: u64 = std::str::from_utf8(&a.value)
                            .ok()
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if stated > xml.len() as u64 / 5 + 1 {
                            return Err(broken(format!(
                                "{name} 声称有 {stated} 个字符串，远超其内容所能容纳"
                            )));
                        }
                    }
                    break;
                }
                Ok(Event::Eof) | Err(_) => break,
                _ => {}
            }
            buf.clear();
        }
    }
    Ok(())
}

fn xls(bytes: &[u8], limits: &Limits, book: &mut Book) -> Result<(), Unreadable> {
    let (name, mut stream) = workbook_stream(bytes, limits)?;
    check_biff(&mut stream, limits)?;
    let clean = fresh_compound_file(&name, &stream)?;
    let mut wb = Xls::new(Cursor::new(clean)).map_err(|e| match e {
        XlsError::Password => Unreadable::new(ENCRYPTED),
        e => broken(e),
    })?;
    for sheet in worksheets(wb.sheets_metadata()) {
        if book.budget == 0 {
            book.cut_short(&sheet);
            break;
        }
        let read = wb
            .merge_cells_by_sheet_name(&sheet)
            .and_then(|merges| Ok((merges, wb.worksheet_range(&sheet)?)));
        let (merges, range) = match read {
            Ok(read) => read,
            Err(e) => {
                book.unreadable(&sheet, broken(e));
                continue;
            }
        };
        let (top, left) = range.start().unwrap_or((0, 0));
        let mut cells = BTreeMap::new();
        for (row, col, value) in range.used_cells() {
            let text = data_text(value);
            if text.is_empty() {
                continue;
            }
            if book.budget == 0 {
                book.cut_short(&sheet);
                break;
            }
            book.budget -= 1;
            cells.insert((top + row as u32, left + col as u32), text);
        }
        book.sheet(&sheet, cells, &merges);
    }
    book.any_sheet()
}

/// The names of the visible worksheets, in workbook order (a hidden sheet often keeps a
/// draft's figures; a chart sheet has no cells).
fn worksheets(sheets: &[Sheet]) -> Vec<String> {
    sheets
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet && s.visible == SheetVisible::Visible)
        .map(|s| s.name.clone())
        .collect()
}

/// The workbook stream of an OLE2 file ("Workbook" in BIFF8, "Book" in BIFF5), read through
/// the `cfb` crate, which refuses sector chains that loop or cross.
fn workbook_stream(bytes: &[u8], limits: &Limits) -> Result<(String, Vec<u8>), Unreadable> {
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| {
        Unreadable::new(format!(
            "Excel 文件（.xls/.et）已损坏，不是有效的 OLE 复合文档：{e}"
        ))
    })?;
    let mut name = None;
    for entry in file.read_root_storage() {
        if !entry.is_stream() {
            continue;
        }
        let n = entry.name();
        if n.eq_ignore_ascii_case("EncryptedPackage") {
            return Err(Unreadable::new(ENCRYPTED));
        }
        if n.eq_ignore_ascii_case("Workbook") || (n.eq_ignore_ascii_case("Book") && name.is_none())
        {
            name = Some((n.to_owned(), entry.len()));
        }
    }
    let Some((name, len)) = name else {
        return Err(Unreadable::new(
            "文件是 OLE 复合文档，但不含 Excel 工作簿（没有 Workbook 流），不是有效的 .xls/.et 文件",
        ));
    };
    if len > limits.max_unzipped {
        return Err(Unreadable::new(format!(
            "Excel 文件的工作簿数据有 {} MiB，超过 {} MiB 的上限",
            len >> 20,
            limits.max_unzipped >> 20
        )));
    }
    let mut stream = Vec::new();
    file.open_stream(format!("/{name}"))
        .and_then(|s| s.take(limits.max_unzipped).read_to_end(&mut stream))
        .map_err(|e| Unreadable::new(format!("Excel 文件的工作簿数据无法读取：{e}")))?;
    Ok((name, stream))
}

/// A compound file holding `stream` alone, written here: calamine's own compound-file
/// reader follows sector chains without checking them, so it reads only what we wrote.
/// Version 3 (512-byte sectors), as Excel writes: calamine refuses a version 4 file whose
/// root has no mini stream, which is what a workbook stream of 4 KiB or more leaves.
fn fresh_compound_file(name: &str, stream: &[u8]) -> Result<Vec<u8>, Unreadable> {
    let write = || -> std::io::Result<Vec<u8>> {
        let mut file =
            cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new()))?;
        let mut s = file.create_stream(format!("/{name}"))?;
        s.write_all(stream)?;
        drop(s);
        file.flush()?;
        Ok(file.into_inner().into_inner())
    };
    write().map_err(|e| Unreadable::new(format!("Excel 文件的工作簿数据无法读取：{e}")))
}

/// How many cells a sheet's DIMENSIONS record may state: calamine reserves that many cells
/// up front (a writer counts formatted blank cells too, so more than the cells read).
const STATED_CELLS_PER_CELL: u64 = 16;

/// A record type calamine ignores, given to records it must not parse.
const IGNORED: u16 = 0x0000;

/// Walks the BIFF records as calamine will: the globals up to their EOF (a FILEPASS means
/// the workbook is encrypted), then each sheet from its BOUNDSHEET offset up to its EOF.
/// Refuses a sheet whose DIMENSIONS is inconsistent or states more than
/// [`STATED_CELLS_PER_CELL`] × [`Limits::max_cells`], workbooks whose cells' bounding boxes
/// (which calamine allocates in full) add up to more than [`Limits::max_cells`], and sheets
/// that overlap (which would make calamine read the same records again and again).
///
/// On the way it takes out the formulas' token streams, whose parser trusts them (a cut one
/// panics): a FORMULA keeps its cached value and states no tokens, and defined names
/// (LBL), which only formulas use, are turned into records calamine ignores. Lengths stay,
/// so the BOUNDSHEET offsets still hold.
fn check_biff(stream: &mut [u8], limits: &Limits) -> Result<(), Unreadable> {
    let too_big = |what: String| {
        Unreadable::new(format!(
            "Excel 文件的{what}，超过每份文件 {} 个单元格的上限",
            limits.max_cells
        ))
    };
    let mut offsets = Vec::new();
    unparsed_formulas(stream, 0);
    for (typ, data) in records(stream, 0) {
        match typ {
            0x002F => return Err(Unreadable::new(ENCRYPTED)),
            0x0085 if data.len() >= 4 => {
                offsets.push(u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize);
            }
            0x000A => break,
            _ => {}
        }
    }
    const MAX_SHEETS: usize = 1024;
    if offsets.len() > MAX_SHEETS {
        return Err(broken(format!("工作表多达 {} 个", offsets.len())));
    }
    let mut scanned = 0usize;
    let mut area_total: u64 = 0;
    for &offset in &offsets {
        unparsed_formulas(stream, offset);
        let mut bbox: Option<(u32, u32, u32, u32)> = None;
        let mut depth = 0usize;
        let mut seen_bof = false;
        for (typ, data) in records(stream, offset) {
            scanned += 4 + data.len();
            if depth > 0 {
                match typ {
                    0x0809 => depth += 1,
                    0x000A => depth -= 1,
                    _ => {}
                }
                continue;
            }
            let u16_at = |i: usize| u32::from(u16::from_le_bytes([data[i], data[i + 1]]));
            let mut touch = |row: u32, col: u32| {
                bbox = Some(match bbox {
                    None => (row, row, col, col),
                    Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(col), c1.max(col)),
                });
            };
            match typ {
                0x0809 if seen_bof => depth += 1,
                0x0809 => seen_bof = true,
                0x000A => break,
                0x0200 => {
                    let stated =
                        stated_cells(data).ok_or_else(|| broken("工作表的 DIMENSIONS 记录有误"))?;
                    if stated > STATED_CELLS_PER_CELL * limits.max_cells as u64 {
                        return Err(too_big(format!("工作表声明有 {stated} 个单元格")));
                    }
                }
                0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 if data.len() >= 4 => {
                    touch(u16_at(0), u16_at(2));
                }
                0x00BD => {
                    // MULRK: row, first column, 6 bytes a cell, last column. calamine
                    // subtracts the columns before it checks them.
                    let (first, last) = match data.len() {
                        n if n >= 6 => (u16_at(2), u16_at(n - 2)),
                        _ => return Err(broken("工作表的 MULRK 记录过短")),
                    };
                    if last < first || data.len() != 6 + 6 * (last - first + 1) as usize {
                        return Err(broken("工作表的 MULRK 记录列号有误"));
                    }
                    touch(u16_at(0), first);
                    touch(u16_at(0), last);
                }
                _ => {}
            }
        }
        if let Some((r0, r1, c0, c1)) = bbox {
            area_total += u64::from(r1 - r0 + 1) * u64::from(c1 - c0 + 1);
        }
        if area_total > limits.max_cells as u64 {
            return Err(too_big(format!(
                "工作表占据的区域共有 {area_total} 个单元格"
            )));
        }
        if scanned > stream.len() {
            return Err(broken("工作表的记录相互重叠"));
        }
    }
    Ok(())
}

/// Takes the formula tokens out of the records from `offset` on (see [`check_biff`]).
fn unparsed_formulas(stream: &mut [u8], offset: usize) {
    let mut at = offset;
    while at + 4 <= stream.len() {
        let typ = u16::from_le_bytes([stream[at], stream[at + 1]]);
        let len = usize::from(u16::from_le_bytes([stream[at + 2], stream[at + 3]]));
        if at + 4 + len > stream.len() {
            break;
        }
        match typ {
            // FORMULA: value at 6..14, the token stream's length at 20..22.
            0x0006 if len >= 22 => stream[at + 4 + 20..at + 4 + 22].fill(0),
            0x0006 | 0x0018 => stream[at..at + 2].copy_from_slice(&IGNORED.to_le_bytes()),
            _ => {}
        }
        at += 4 + len;
    }
}

/// The records of a BIFF stream from `offset`: (type, data), until the stream ends or a
/// record runs past it.
fn records(stream: &[u8], offset: usize) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = stream.get(offset..).unwrap_or(&[]);
    std::iter::from_fn(move || {
        if rest.len() < 4 {
            return None;
        }
        let typ = u16::from_le_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_le_bytes([rest[2], rest[3]]));
        let data = rest.get(4..4 + len)?;
        rest = &rest[4 + len..];
        Some((typ, data))
    })
}

/// The cells a DIMENSIONS record states, as calamine computes them; `None` when calamine's
/// arithmetic on it would underflow.
fn stated_cells(data: &[u8]) -> Option<u64> {
    let u16_at = |i: usize| u64::from(u16::from_le_bytes([data[i], data[i + 1]]));
    let u32_at = |i: usize| {
        u64::from(u32::from_le_bytes([
            data[i],
            data[i + 1],
            data[i + 2],
            data[i + 3],
        ]))
    };
    let (rf, rl, mut cf, cl) = match data.len() {
        10 => (u16_at(0), u16_at(2), u16_at(4), u16_at(6)),
        14 | 16 => (u32_at(0), u32_at(4), u16_at(8), u16_at(10)),
        // calamine refuses the record itself.
        _ => return Some(0),
    };
    if cf > 0xFF || cl < cf {
        cf = 0;
    }
    if rl == 0 || cl == 0 {
        return Some(1);
    }
    let rows = (rl - 1).checked_sub(rf)? + 1;
    let cols = (cl - 1).checked_sub(cf)? + 1;
    Some(rows * cols)
}

/// The workbook being written as HTML.
struct Book {
    html: String,
    notes: Vec<Note>,
    /// Cells the workbook may still give.
    budget: usize,
    max_cells: usize,
    cut: bool,
    /// Why the first sheet that failed did.
    failed: Option<Unreadable>,
}

impl Book {
    fn new(limits: &Limits) -> Book {
        Book {
            html: String::from("<html><body>\n"),
            notes: Vec::new(),
            budget: limits.max_cells,
            max_cells: limits.max_cells,
            cut: false,
            failed: None,
        }
    }

    fn cut_short(&mut self, sheet: &str) {
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
    fn sheet(
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
    fn unreadable(&mut self, sheet: &str, why: Unreadable) {
        self.failed.get_or_insert_with(|| why.clone());
        self.notes.push(Note {
            code: Code::TableMissing,
            message: format!("工作表“{sheet}”无法读取，未读：{}", why.reason),
        });
    }

    /// Whether anything was read: a workbook whose every sheet failed is unreadable.
    fn any_sheet(&mut self) -> Result<(), Unreadable> {
        match self.failed.take() {
            Some(why) if !self.html.contains("<table>") => Err(why),
            _ => Ok(()),
        }
    }

    fn finish(mut self) -> SheetHtml {
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
fn ref_text(value: &DataRef<'_>) -> String {
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

fn data_text(value: &Data) -> String {
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
fn number(f: f64) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::zipped::tests::{zero_bomb, zip_of};

    const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    const BOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/></Relationships>"#;
    const BOOK: &str = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="表三" sheetId="1" r:id="rId1"/><sheet name="草稿" sheetId="2" state="hidden" r:id="rId2"/></sheets></workbook>"#;

    fn sheet_xml(rows: &str, merges: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData>{merges}</worksheet>"#
        )
    }

    fn xlsx_of(sheet1: &str) -> Vec<u8> {
        let hidden = sheet_xml(r#"<row r="1"><c r="A1"><v>999</v></c></row>"#, "");
        zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("_rels/.rels", RELS.as_bytes()),
            ("xl/workbook.xml", BOOK.as_bytes()),
            ("xl/_rels/workbook.xml.rels", BOOK_RELS.as_bytes()),
            ("xl/worksheets/sheet1.xml", sheet1.as_bytes()),
            ("xl/worksheets/sheet2.xml", hidden.as_bytes()),
        ])
    }

    fn s(r: &str, text: &str) -> String {
        format!(r#"<c r="{r}" t="inlineStr"><is><t>{text}</t></is></c>"#)
    }

    #[test]
    fn an_xlsx_sheet_becomes_its_name_and_a_table_with_merges_as_a_browser_shows_them() {
        let rows = format!(
            r#"<row r="1">{}{}</row><row r="2">{}<c r="B2"><v>3050</v></c><c r="C2"><v>1E6</v></c></row><row r="4">{}<c r="B4"><f>B2+1</f><v>3051.0000000000005</v></c><c r="C4"><v>0.25</v></c></row>"#,
            s("A1", "申请人情况"),
            s("B1", "旧值"),
            s("A2", "一、本年新收"),
            s("A4", "其中&amp;合计")
        );
        let xml = sheet_xml(
            &rows,
            r#"<mergeCells count="1"><mergeCell ref="A1:C1"/></mergeCells>"#,
        );
        let read = to_html(&xlsx_of(&xml), Kind::Xlsx, &Limits::default()).unwrap();
        let html = read.html;
        assert!(html.contains("<p>表三</p>\n<table>"), "{html}");
        assert!(
            html.contains("<tr><td>申请人情况</td><td></td><td></td></tr>"),
            "{html}"
        );
        assert!(
            html.contains("<tr><td>一、本年新收</td><td>3050</td><td>1000000</td></tr>"),
            "{html}"
        );
        assert!(
            html.contains("<tr><td>其中&amp;合计</td><td>3051</td><td>0.25</td></tr>"),
            "{html}"
        );
        assert!(!html.contains("草稿") && !html.contains("999"), "{html}");
        assert!(read.notes.is_empty());
    }

    #[test]
    fn an_xlsx_through_extract_gives_tab_separated_cells() {
        let rows = format!(
            r#"<row r="1">{}<c r="B1"><v>72</v></c><c r="C1"><v>64</v></c></row>"#,
            s("A1", "行政复议")
        );
        let bytes = xlsx_of(&sheet_xml(&rows, ""));
        assert_eq!(super::super::detect(&bytes, None), Kind::Xlsx);
        let got = super::super::extract(
            &bytes,
            None,
            crate::decode::ContentHint::Unknown,
            None,
            None,
            &Limits::default(),
        )
        .unwrap();
        assert!(got.text.contains("行政复议\t72\t64"), "{:?}", got.text);
    }

    #[test]
    fn a_sheet_that_cannot_be_read_is_left_out_with_a_note() {
        let book = BOOK.replace(r#" state="hidden""#, "");
        let rows = format!(
            r#"<row r="1">{}<c r="B1"><v>7</v></c></row>"#,
            s("A1", "规章")
        );
        let bytes = zip_of(&[
            ("_rels/.rels", RELS.as_bytes()),
            ("xl/workbook.xml", book.as_bytes()),
            ("xl/_rels/workbook.xml.rels", BOOK_RELS.as_bytes()),
            ("xl/worksheets/sheet1.xml", sheet_xml(&rows, "").as_bytes()),
            (
                "xl/worksheets/sheet2.xml",
                b"<worksheet><sheetData><row><c><v>1",
            ),
        ]);
        let read = to_html(&bytes, Kind::Xlsx, &Limits::default()).unwrap();
        assert!(
            read.html.contains("<tr><td>规章</td><td>7</td></tr>"),
            "{}",
            read.html
        );
        assert!(read.notes[0].message.contains("草稿"), "{:?}", read.notes);
        // When no sheet can be read, the workbook cannot.
        let bytes = zip_of(&[
            ("_rels/.rels", RELS.as_bytes()),
            ("xl/workbook.xml", book.as_bytes()),
            ("xl/_rels/workbook.xml.rels", BOOK_RELS.as_bytes()),
        ]);
        assert!(to_html(&bytes, Kind::Xlsx, &Limits::default()).is_err());
    }

    #[test]
    fn cells_stop_at_the_budget_with_a_note() {
        let rows: String = (1..=50)
            .map(|r| format!(r#"<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>"#))
            .collect();
        let limits = Limits {
            max_cells: 10,
            ..Limits::default()
        };
        let read = to_html(&xlsx_of(&sheet_xml(&rows, "")), Kind::Xlsx, &limits).unwrap();
        assert_eq!(read.html.matches("<tr>").count(), 10, "{}", read.html);
        assert_eq!(read.notes.len(), 1);
        // Cells far apart: a small count spanning a huge area is not drawn.
        let rows = r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="9000"><c r="XFD9000"><v>2</v></c></row><row r="5000"><c r="M5000"><v>3</v></c></row>"#;
        let limits = Limits {
            max_cells: 8,
            ..Limits::default()
        };
        let read = to_html(&xlsx_of(&sheet_xml(rows, "")), Kind::Xlsx, &limits).unwrap();
        assert!(!read.html.contains("<table>"), "{}", read.html);
        assert!(read.notes[0].message.contains("上限"), "{:?}", read.notes);
    }

    #[test]
    fn extensions_and_content_types_name_the_spreadsheet_and_ofd_kinds() {
        for (ext, kind) in [
            ("xls", Kind::Xls),
            ("ET", Kind::Xls),
            ("ett", Kind::Xls),
            ("xlsx", Kind::Xlsx),
            ("xlsm", Kind::Xlsx),
            ("ofd", Kind::Ofd),
        ] {
            assert_eq!(Kind::from_extension(ext), Some(kind), "{ext}");
            assert_eq!(Kind::from_content_type(kind.mime()), Some(kind), "{ext}");
            assert_eq!(Kind::from_content_type(kind.name()), Some(kind), "{ext}");
        }
        assert_eq!(Kind::Ofd.mime(), "application/ofd");
    }

    #[test]
    fn numbers_print_as_the_sheet_shows_them() {
        for (f, want) in [
            (3050.0, "3050"),
            (1e6, "1000000"),
            (1e21, "1000000000000000000000"),
            (-0.0, "0"),
            (2.9999999999999996, "3"),
            (0.1 + 0.2, "0.3"),
            (12.5, "12.5"),
            (-7.25, "-7.25"),
            (f64::NAN, ""),
        ] {
            assert_eq!(number(f), want, "{f}");
        }
    }

    #[test]
    fn an_xlsx_bomb_is_refused_without_inflating_it() {
        let started = std::time::Instant::now();
        let others: Vec<(&str, &[u8])> = vec![
            ("_rels/.rels", RELS.as_bytes()),
            ("xl/workbook.xml", BOOK.as_bytes()),
            ("xl/_rels/workbook.xml.rels", BOOK_RELS.as_bytes()),
        ];
        for stated in [1u32 << 30, 2048] {
            let bytes = zero_bomb(&others, "xl/worksheets/sheet1.xml", 1 << 30, stated);
            let err = to_html(&bytes, Kind::Xlsx, &Limits::default()).unwrap_err();
            assert!(err.reason.contains("压缩"), "{}", err.reason);
        }
        assert!(started.elapsed().as_secs() < 20);
    }

    #[test]
    fn a_shared_string_count_the_part_cannot_hold_is_refused() {
        let sst = r#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="999999999999999"><si><t>a</t></si></sst>"#;
        let bytes = zip_of(&[
            ("_rels/.rels", RELS.as_bytes()),
            ("xl/workbook.xml", BOOK.as_bytes()),
            ("xl/_rels/workbook.xml.rels", BOOK_RELS.as_bytes()),
            ("xl/sharedStrings.xml", sst.as_bytes()),
            ("xl/worksheets/sheet1.xml", sheet_xml("", "").as_bytes()),
        ]);
        let err = to_html(&bytes, Kind::Xlsx, &Limits::default()).unwrap_err();
        assert!(err.reason.contains("字符串"), "{}", err.reason);
    }

    #[test]
    fn broken_and_truncated_workbooks_are_unreadable() {
        let good = xlsx_of(&sheet_xml(r#"<row r="1"><c r="A1"><v>1</v></c></row>"#, ""));
        for cut in [10, good.len() / 3, good.len() - 30] {
            assert!(to_html(&good[..cut], Kind::Xlsx, &Limits::default()).is_err());
        }
        let deep = format!("{}{}", "<x>".repeat(100_000), "</x>".repeat(100_000));
        let _ = to_html(&xlsx_of(&deep), Kind::Xlsx, &Limits::default());
        assert!(to_html(b"not a workbook", Kind::Xls, &Limits::default()).is_err());
        assert!(to_html(&good, Kind::Xls, &Limits::default()).is_err());
    }

    /// One BIFF record.
    fn rec(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut out = typ.to_le_bytes().to_vec();
        out.extend((data.len() as u16).to_le_bytes());
        out.extend(data);
        out
    }

    /// A BIFF8 workbook stream with one sheet named `name` holding `cells` (its records).
    fn biff(name: &str, globals: &[u8], cells: &[u8]) -> Vec<u8> {
        let bof = |dt: u16| {
            let mut d = 0x0600u16.to_le_bytes().to_vec();
            d.extend(dt.to_le_bytes());
            d.extend([0u8; 12]);
            rec(0x0809, &d)
        };
        let name16: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let boundsheet = |pos: u32| {
            let mut d = pos.to_le_bytes().to_vec();
            d.extend([0, 0, name.encode_utf16().count() as u8, 1]);
            d.extend(&name16);
            rec(0x0085, &d)
        };
        let head_len = bof(5).len() + globals.len() + boundsheet(0).len() + rec(0x000A, &[]).len();
        let mut out = bof(5);
        out.extend(globals);
        out.extend(boundsheet(head_len as u32));
        out.extend(rec(0x000A, &[]));
        out.extend(bof(0x10));
        out.extend(cells);
        out.extend(rec(0x000A, &[]));
        out
    }

    fn number_rec(row: u16, col: u16, v: f64) -> Vec<u8> {
        let mut d = row.to_le_bytes().to_vec();
        d.extend(col.to_le_bytes());
        d.extend(0u16.to_le_bytes());
        d.extend(v.to_le_bytes());
        rec(0x0203, &d)
    }

    fn label_rec(row: u16, col: u16, text: &str) -> Vec<u8> {
        let mut d = row.to_le_bytes().to_vec();
        d.extend(col.to_le_bytes());
        d.extend(0u16.to_le_bytes());
        d.extend((text.encode_utf16().count() as u16).to_le_bytes());
        d.push(1);
        d.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        rec(0x0204, &d)
    }

    fn ole(streams: &[(&str, &[u8])]) -> Vec<u8> {
        let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        for (name, bytes) in streams {
            let mut s = file.create_stream(format!("/{name}")).unwrap();
            s.write_all(bytes).unwrap();
        }
        file.flush().unwrap();
        file.into_inner().into_inner()
    }

    #[test]
    fn an_xls_sheet_reads_through_calamine() {
        let mut cells = label_rec(0, 0, "行政复议");
        cells.extend(number_rec(0, 1, 72.0));
        cells.extend(number_rec(0, 3, 1e6));
        let bytes = ole(&[("Workbook", &biff("表四", &[], &cells))]);
        assert_eq!(super::super::detect(&bytes, None), Kind::Xls);
        let read = to_html(&bytes, Kind::Xls, &Limits::default()).unwrap();
        assert!(read.html.contains("<p>表四</p>"), "{}", read.html);
        assert!(
            read.html
                .contains("<tr><td>行政复议</td><td>72</td><td>1000000</td></tr>"),
            "{}",
            read.html
        );
    }

    #[test]
    fn a_formula_gives_its_cached_value_whatever_its_tokens_say() {
        // A FORMULA whose token stream claims 50 bytes and has 2 (calamine's parser would
        // slice past the record), and a defined name with a cut formula.
        let mut formula = 0u16.to_le_bytes().to_vec();
        formula.extend(1u16.to_le_bytes());
        formula.extend(0u16.to_le_bytes());
        formula.extend(3050f64.to_le_bytes());
        formula.extend([0u8; 6]);
        formula.extend(50u16.to_le_bytes());
        formula.extend([0x1F, 0x00]);
        let mut cells = label_rec(0, 0, "总计");
        cells.extend(rec(0x0006, &formula));
        cells.extend(rec(0x0006, &formula[..20]));
        let lbl = rec(
            0x0018,
            &[0, 0, 0, 1, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'x', 0x3a],
        );
        let bytes = ole(&[("Workbook", &biff("表", &lbl, &cells))]);
        let read = to_html(&bytes, Kind::Xls, &Limits::default()).unwrap();
        assert!(
            read.html.contains("<tr><td>总计</td><td>3050</td></tr>"),
            "{}",
            read.html
        );
    }

    #[test]
    fn hostile_xls_files_are_refused_before_calamine_reads_them() {
        let limits = Limits::default();
        // A DIMENSIONS record stating four billion rows (calamine would reserve them all).
        let mut dims = 0u32.to_le_bytes().to_vec();
        dims.extend(u32::MAX.to_le_bytes());
        dims.extend([0, 0, 0xFF, 0, 0, 0]);
        let bytes = ole(&[("Workbook", &biff("a", &[], &rec(0x0200, &dims)))]);
        let err = to_html(&bytes, Kind::Xls, &limits).unwrap_err();
        assert!(err.reason.contains("上限"), "{}", err.reason);
        // A DIMENSIONS record whose last row comes before its first.
        let mut dims = 9u32.to_le_bytes().to_vec();
        dims.extend(2u32.to_le_bytes());
        dims.extend([0, 0, 2, 0, 0, 0]);
        let bytes = ole(&[("Workbook", &biff("a", &[], &rec(0x0200, &dims)))]);
        assert!(to_html(&bytes, Kind::Xls, &limits).is_err());
        // Two cells at opposite corners: a bounding box of 65536 x 256 cells.
        let mut cells = number_rec(0, 0, 1.0);
        cells.extend(number_rec(65535, 255, 2.0));
        let bytes = ole(&[("Workbook", &biff("a", &[], &cells))]);
        let err = to_html(&bytes, Kind::Xls, &limits).unwrap_err();
        assert!(err.reason.contains("上限"), "{}", err.reason);
        // A MULRK whose last column comes before its first (calamine subtracts them), one
        // whose length disagrees with its columns, and a good one beside them.
        let mulrk = |first: u16, last: u16, cells: usize| {
            let mut d = 0u16.to_le_bytes().to_vec();
            d.extend(first.to_le_bytes());
            d.extend(std::iter::repeat_n([0u8, 0, 0x02, 0, 0, 0], cells).flatten());
            d.extend(last.to_le_bytes());
            rec(0x00BD, &d)
        };
        for bad in [mulrk(5, 2, 1), mulrk(0, 3, 2), rec(0x00BD, &[0, 0, 1])] {
            let bytes = ole(&[("Workbook", &biff("a", &[], &bad))]);
            let err = to_html(&bytes, Kind::Xls, &limits).unwrap_err();
            assert!(err.reason.contains("MULRK"), "{}", err.reason);
        }
        let bytes = ole(&[("Workbook", &biff("a", &[], &mulrk(1, 2, 2)))]);
        assert!(to_html(&bytes, Kind::Xls, &limits).is_ok());
        // Encrypted: a FILEPASS record, or an encrypted OOXML package in OLE.
        let bytes = ole(&[("Workbook", &biff("a", &rec(0x002F, &[1, 0]), &[]))]);
        let err = to_html(&bytes, Kind::Xls, &limits).unwrap_err();
        assert!(err.reason.contains("加密"), "{}", err.reason);
        let bytes = ole(&[("EncryptionInfo", b"x"), ("EncryptedPackage", b"y")]);
        let err = to_html(&bytes, Kind::Xls, &limits).unwrap_err();
        assert!(err.reason.contains("加密"), "{}", err.reason);
        // No workbook at all, and a record running past the stream's end.
        let bytes = ole(&[("WordDocument", b"x")]);
        assert!(to_html(&bytes, Kind::Xls, &limits).is_err());
        let mut cut = biff("a", &[], &number_rec(0, 0, 1.0));
        cut.truncate(cut.len() - 7);
        let bytes = ole(&[("Workbook", &cut)]);
        let _ = to_html(&bytes, Kind::Xls, &limits);
    }
}
