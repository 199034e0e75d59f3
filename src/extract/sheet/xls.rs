//! XLS and Kingsoft ET (BIFF8 in an OLE2 compound file): the workbook stream taken out
//! through `cfb`, its BIFF records walked and checked against [`Limits::max_cells`] (formula
//! tokens taken out), and a fresh compound file holding that stream alone for calamine.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use calamine::{Reader, Xls, XlsError};

use super::book::{data_text, Book};
use super::{broken, worksheets, ENCRYPTED};
use crate::extract::{Limits, Unreadable};

pub(super) fn xls(bytes: &[u8], limits: &Limits, book: &mut Book) -> Result<(), Unreadable> {
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

/// The workbook records calamine slices without checking their length, with the bytes it
/// reads: BOF (version), CODEPAGE, DATEMODE, EXTERNSHEET (count) and BOUNDSHEET (offset,
/// visibility, type).
const GLOBAL_MINIMUMS: [(u16, &str, usize); 5] = [
    (0x0809, "BOF", 2),
    (0x0042, "CODEPAGE", 2),
    (0x0022, "DATEMODE", 2),
    (0x0017, "EXTERNSHEET", 2),
    (0x0085, "BOUNDSHEET", 6),
];

/// A record type calamine ignores, given to records it must not parse.
const IGNORED: u16 = 0x0000;

/// Walks the BIFF records as calamine will: the globals up to their EOF (a FILEPASS means
/// the workbook is encrypted, and a record shorter than calamine reads it, see
/// [`GLOBAL_MINIMUMS`], is refused), then each sheet from its BOUNDSHEET offset up to its EOF.
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
        if let Some(&(_, what, least)) = GLOBAL_MINIMUMS.iter().find(|m| m.0 == typ) {
            if data.len() < least {
                return Err(broken(format!("工作簿的 {what} 记录过短")));
            }
        }
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
