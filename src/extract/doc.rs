//! Word 97–2003 (.doc) and Kingsoft WPS Writer (.wps) to HTML with real cells. PURE.
//!
//! Both are OLE2 compound files holding a `WordDocument` stream (the Word binary format,
//! [MS-DOC]). Its FIB names the table stream (`0Table` or `1Table`) and where the CLX lies
//! in it; the CLX's piece table maps character positions to runs of 8-bit (cp1252) or
//! UTF-16 text in `WordDocument`. The main document is the first `ccpText` characters.
//!
//! Word marks structure with control characters: 0x0D ends a paragraph, 0x07 a table cell
//! or, when the paragraph carries `sprmPFTtp`, a table row (whose properties give the
//! cells' boundaries and merges, from which [`cells`](super::cells) builds the grid).
//! A nested table's cells end with 0x0D and give their text to the outer cell. Fields
//! (0x13 instructions 0x14 result 0x15) keep their result; pictures and objects are dropped.
//! Every offset read from the file is checked; streams are read within
//! [`Limits::max_stream`], pieces within [`Limits::max_pieces`], text within
//! [`Limits::max_chars`].

use super::cells::{take_row, Cell, Html};
use super::{Limits, Unreadable};
use std::io::{Cursor, Read};

/// The FIB's magic number.
const W_IDENT: u16 = 0xA5EC;
/// The magic number of Word 6.0 and Word 95 files.
const W_IDENT_WORD6: u16 = 0xA5DC;
/// Word 97's nFib; earlier versions (Word 6, Word 95) lay the FIB out otherwise.
const NFIB_WORD97: u16 = 0xC0;
/// The size of a formatted disk page (FKP) holding paragraph properties.
const PAGE: usize = 512;

/// The index of each (fc, lcb) pair in FibRgFcLcb97.
const PAIR_PLCF_BTE_PAPX: usize = 13;
const PAIR_CLX: usize = 33;

/// The paragraph and table sprms this reader acts on.
const SPRM_P_F_IN_TABLE: u16 = 0x2416;
const SPRM_P_F_TTP: u16 = 0x2417;
const SPRM_P_ITAP: u16 = 0x6649;
const SPRM_P_HUGE_PAPX: u16 = 0x6646;
const SPRM_P_CHG_TABS: u16 = 0xC615;
const SPRM_T_DEF_TABLE: u16 = 0xD608;
const SPRM_T_MERGE: u16 = 0x5624;
const SPRM_T_SPLIT: u16 = 0x5625;
const SPRM_T_VERT_MERGE: u16 = 0xD62B;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

fn i16_at(b: &[u8], at: usize) -> Option<i16> {
    u16_at(b, at).map(|v| v as i16)
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn slice(b: &[u8], at: u32, len: u32) -> Option<&[u8]> {
    let at = at as usize;
    b.get(at..at.checked_add(len as usize)?)
}

/// What the reader needs of the File Information Block.
#[derive(Debug)]
struct Fib {
    ccp_text: u32,
    table_1: bool,
    clx: (u32, u32),
    bte_papx: (u32, u32),
}

fn word6() -> Unreadable {
    Unreadable::new("Word 6.0/95 或更早版本的 .doc 文件暂不能读取：请另存为 .docx 或 PDF 后上传")
}

fn fib(word: &[u8]) -> Result<Fib, Unreadable> {
    let bad = || Unreadable::new("Word 文件（.doc）的文件信息块（FIB）有误，无法读取");
    if u16_at(word, 0) == Some(W_IDENT_WORD6) {
        return Err(word6());
    }
    if u16_at(word, 0) != Some(W_IDENT) {
        return Err(Unreadable::new(
            "WordDocument 流不以 Word 文件信息块开头，不是有效的 Word（.doc）或 WPS 文件",
        ));
    }
    let nfib = u16_at(word, 2).ok_or_else(bad)?;
    let flags = u16_at(word, 0x0A).ok_or_else(bad)?;
    if flags & 0x0100 != 0 {
        return Err(Unreadable::new("Word 文件（.doc）已加密，无法读取"));
    }
    if nfib < NFIB_WORD97 {
        return Err(word6());
    }
    // FibBase (32 bytes), csw + FibRgW, cslw + FibRgLw, cbRgFcLcb + FibRgFcLcb.
    let csw = u16_at(word, 32).ok_or_else(bad)? as usize;
    let lw = 34 + csw * 2;
    let cslw = u16_at(word, lw).ok_or_else(bad)? as usize;
    let ccp_text = u32_at(word, lw + 2 + 3 * 4).ok_or_else(bad)?;
    let fc_lcb = lw + 2 + cslw * 4;
    let pairs = u16_at(word, fc_lcb).ok_or_else(bad)? as usize;
    if pairs <= PAIR_CLX {
        return Err(bad());
    }
    let pair = |i: usize| -> Option<(u32, u32)> {
        let at = fc_lcb + 2 + i * 8;
        Some((u32_at(word, at)?, u32_at(word, at + 4)?))
    };
    Ok(Fib {
        ccp_text,
        table_1: flags & 0x0200 != 0,
        clx: pair(PAIR_CLX).ok_or_else(bad)?,
        bte_papx: pair(PAIR_PLCF_BTE_PAPX).ok_or_else(bad)?,
    })
}

/// A run of text: characters `cp..cp_end` stored from byte `fc` of `WordDocument`.
#[derive(Debug, Clone, Copy)]
struct Piece {
    cp: u32,
    cp_end: u32,
    fc: u32,
    /// One cp1252 byte a character; otherwise UTF-16LE.
    compressed: bool,
}

fn pieces(table: &[u8], fib: &Fib, limits: &Limits) -> Result<Vec<Piece>, Unreadable> {
    let bad = |what: &str| Unreadable::new(format!("Word 文件（.doc）的文字片段表有误：{what}"));
    let clx = slice(table, fib.clx.0, fib.clx.1).ok_or_else(|| bad("超出表格流"))?;
    let mut at = 0usize;
    // Prc entries (property modifiers of fast-saved files) come before the Pcdt.
    let plc = loop {
        match clx.get(at) {
            Some(1) => {
                let cb = u16_at(clx, at + 1).ok_or_else(|| bad("截断"))? as usize;
                at = at + 3 + cb;
            }
            Some(2) => {
                let lcb = u32_at(clx, at + 1).ok_or_else(|| bad("截断"))?;
                break slice(clx, (at + 5) as u32, lcb).ok_or_else(|| bad("截断"))?;
            }
            _ => return Err(bad("没有片段表")),
        }
    };
    let n = plc.len().saturating_sub(4) / 12;
    if n == 0 {
        return Err(bad("没有片段"));
    }
    if n > limits.max_pieces {
        return Err(Unreadable::new(format!(
            "Word 文件（.doc）的文字片段超过 {} 个的上限，已拒绝",
            limits.max_pieces
        )));
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let cp = u32_at(plc, i * 4).ok_or_else(|| bad("截断"))?;
        let cp_end = u32_at(plc, i * 4 + 4).ok_or_else(|| bad("截断"))?;
        let raw = u32_at(plc, (n + 1) * 4 + i * 8 + 2).ok_or_else(|| bad("截断"))?;
        if cp_end < cp || out.last().is_some_and(|p: &Piece| p.cp_end > cp) {
            return Err(bad("字符位置不递增"));
        }
        let compressed = raw & 0x4000_0000 != 0;
        let fc = raw & 0x3FFF_FFFF;
        out.push(Piece {
            cp,
            cp_end,
            fc: if compressed { fc / 2 } else { fc },
            compressed,
        });
    }
    Ok(out)
}

/// The table properties of a row: cell boundaries and merges.
#[derive(Debug, Default, Clone)]
struct Tap {
    /// itcMac + 1 boundaries, twips.
    bounds: Vec<i16>,
    /// For each cell: (first of horizontal merge, continues horizontal merge,
    /// vertically merged, restarts vertical merge).
    tcs: Vec<[bool; 4]>,
}

/// The paragraph properties the reader acts on.
#[derive(Debug, Default, Clone)]
struct Pap {
    in_table: bool,
    ttp: bool,
    tap: Option<Tap>,
}

/// The operand length of `sprm` whose operand starts `rest`.
fn operand_len(sprm: u16, rest: &[u8]) -> Option<usize> {
    Some(match sprm >> 13 {
        0 | 1 => 1,
        2 | 4 | 5 => 2,
        3 => 4,
        7 => 3,
        _ => match sprm {
            SPRM_T_DEF_TABLE => 2 + (u16_at(rest, 0)? as usize).checked_sub(1)?,
            SPRM_P_CHG_TABS if *rest.first()? == 255 => {
                // PChgTabsDelClose (cTabs, 4 bytes each) then PChgTabsAdd (cTabs, 3 each).
                let del = *rest.get(1)? as usize;
                let add = *rest.get(2 + del * 4)? as usize;
                1 + 1 + del * 4 + 1 + add * 3
            }
            _ => 1 + *rest.first()? as usize,
        },
    })
}

fn apply_grpprl(pap: &mut Pap, grpprl: &[u8], data: Option<&[u8]>, huge: bool) {
    let mut i = 0usize;
    while let Some(sprm) = u16_at(grpprl, i) {
        let Some(rest) = grpprl.get(i + 2..) else {
            break;
        };
        let Some(len) = operand_len(sprm, rest) else {
            break;
        };
        let Some(op) = rest.get(..len) else {
            break;
        };
        match sprm {
            SPRM_P_F_IN_TABLE => pap.in_table = op[0] != 0,
            SPRM_P_F_TTP => pap.ttp = op[0] != 0,
            SPRM_P_ITAP => pap.in_table |= u32_at(op, 0).unwrap_or(0) > 0,
            SPRM_P_HUGE_PAPX if !huge => {
                // The properties did not fit the page: they are in the Data stream.
                let huge_grpprl = data.and_then(|d| {
                    let at = u32_at(op, 0)?;
                    let cb = u16_at(d, at as usize)?;
                    slice(d, at.checked_add(2)?, cb as u32)
                });
                if let Some(g) = huge_grpprl {
                    apply_grpprl(pap, g, data, true);
                }
            }
            SPRM_T_DEF_TABLE => pap.tap = def_table(op.get(2..).unwrap_or(&[])),
            SPRM_T_MERGE | SPRM_T_SPLIT => {
                if let (Some(tap), Some(&first), Some(&lim)) =
                    (pap.tap.as_mut(), op.first(), op.get(1))
                {
                    let merge = sprm == SPRM_T_MERGE;
                    for (itc, tc) in tap.tcs.iter_mut().enumerate() {
                        if (first as usize..lim as usize).contains(&itc) {
                            tc[0] = merge && itc == first as usize;
                            tc[1] = merge && itc > first as usize;
                        }
                    }
                }
            }
            SPRM_T_VERT_MERGE => {
                if let (Some(tap), Some(&itc), Some(&flags)) =
                    (pap.tap.as_mut(), op.get(1), op.get(2))
                {
                    if let Some(tc) = tap.tcs.get_mut(itc as usize) {
                        tc[2] = flags & 1 != 0;
                        tc[3] = flags & 2 != 0;
                    }
                }
            }
            _ => {}
        }
        i = i + 2 + len;
    }
}

/// TDefTableOperand after its cb: itcMac, the boundaries, then up to itcMac TC80s.
fn def_table(op: &[u8]) -> Option<Tap> {
    let cells = *op.first()? as usize;
    let bounds = (0..=cells)
        .map(|i| i16_at(op, 1 + i * 2))
        .collect::<Option<Vec<_>>>()?;
    let tc_at = 1 + (cells + 1) * 2;
    let tcs = (0..cells)
        .map(|i| {
            let f = u16_at(op, tc_at + i * 20).unwrap_or(0);
            [f & 1 != 0, f & 2 != 0, f & 0x20 != 0, f & 0x40 != 0]
        })
        .collect();
    Some(Tap { bounds, tcs })
}

/// Paragraph properties by the file position of a paragraph's mark, through the
/// PlcBtePapx and its FKP pages.
struct Papx<'a> {
    word: &'a [u8],
    data: Option<&'a [u8]>,
    /// (first fc, page number) of each FKP.
    pages: Vec<(u32, u32)>,
    last_fc: u32,
}

impl<'a> Papx<'a> {
    fn new(word: &'a [u8], table: &[u8], data: Option<&'a [u8]>, fib: &Fib) -> Papx<'a> {
        let plc = slice(table, fib.bte_papx.0, fib.bte_papx.1).unwrap_or(&[]);
        // One FKP page per 512 bytes of WordDocument at most.
        let n = (plc.len().saturating_sub(4) / 8).min(word.len() / PAGE);
        let pages = (0..n)
            .filter_map(|i| Some((u32_at(plc, i * 4)?, u32_at(plc, (n + 1) * 4 + i * 4)?)))
            .collect();
        Papx {
            word,
            data,
            pages,
            last_fc: u32_at(plc, n * 4).unwrap_or(0),
        }
    }

    /// The properties of the paragraph whose mark is at byte `fc`; `None` when the file
    /// gives none there.
    fn at(&self, fc: u32) -> Option<Pap> {
        if fc >= self.last_fc {
            return None;
        }
        let i = self.pages.partition_point(|&(first, _)| first <= fc);
        let (_, pn) = *self.pages.get(i.checked_sub(1)?)?;
        let start = ((pn & 0x3F_FFFF) as usize).checked_mul(PAGE)?;
        let page = self.word.get(start..start.checked_add(PAGE)?)?;
        let crun = page[PAGE - 1] as usize;
        let fcs = (0..=crun)
            .map(|j| u32_at(page, j * 4))
            .collect::<Option<Vec<_>>>()?;
        let j = fcs.windows(2).position(|w| w[0] <= fc && fc < w[1])?;
        let b_offset = *page.get((crun + 1) * 4 + j * 13)? as usize * 2;
        let mut pap = Pap::default();
        if b_offset == 0 {
            return Some(pap);
        }
        let cb = *page.get(b_offset)? as usize;
        let (from, len) = if cb == 0 {
            (b_offset + 2, *page.get(b_offset + 1)? as usize * 2)
        } else {
            (b_offset + 1, (cb * 2).checked_sub(1)?)
        };
        // GrpPrlAndIstd: the style index, then the sprms.
        let grpprl = page.get(from..from.checked_add(len)?)?.get(2..)?;
        apply_grpprl(&mut pap, grpprl, self.data, false);
        Some(pap)
    }
}

/// The walk through the main document's characters.
struct Walk<'a> {
    papx: Papx<'a>,
    html: Html,
    para: String,
    /// The paragraphs of the cell being read.
    cell: String,
    row: Vec<Cell>,
    /// Fields open now, and how many of them are still in their instructions.
    fields: Vec<bool>,
    hidden: usize,
    last: char,
}

impl Walk<'_> {
    fn push(&mut self, c: char, fc: u32) -> Result<(), Unreadable> {
        let last = std::mem::replace(&mut self.last, c);
        match c {
            '\r' => {
                let pap = self.papx.at(fc).unwrap_or_default();
                if pap.in_table {
                    self.cell.push_str(&std::mem::take(&mut self.para));
                    self.cell.push('\n');
                } else {
                    self.end_row(None)?;
                    self.html.paragraph(&std::mem::take(&mut self.para))?;
                }
            }
            '\u{7}' => {
                let ttp = match self.papx.at(fc) {
                    Some(pap) if pap.ttp => Some(pap.tap),
                    Some(_) => None,
                    // No properties: a mark right after a cell's mark ends the row.
                    None if last == '\u{7}' && self.para.is_empty() => Some(None),
                    None => None,
                };
                match ttp {
                    Some(tap) => self.end_row(Some(tap.unwrap_or_default()))?,
                    None => {
                        let mut text = std::mem::take(&mut self.cell);
                        text.push_str(&std::mem::take(&mut self.para));
                        self.row.push(Cell {
                            text,
                            ..Cell::default()
                        });
                    }
                }
            }
            '\u{13}' => {
                self.fields.push(false);
                self.hidden += 1;
            }
            '\u{14}' => {
                if let Some(in_result) = self.fields.last_mut() {
                    if !*in_result {
                        *in_result = true;
                        self.hidden -= 1;
                    }
                }
            }
            '\u{15}' => {
                if self.fields.pop() == Some(false) {
                    self.hidden -= 1;
                }
            }
            _ if self.hidden > 0 => {}
            '\u{b}' | '\u{c}' => self.para.push('\n'),
            '\t' => self.para.push(' '),
            '\u{1e}' => self.para.push('-'),
            c if (c as u32) < 0x20 => {}
            c => self.para.push(c),
        }
        Ok(())
    }

    /// Ends the row being read: at its row mark with the row's properties, or with
    /// `None` when a paragraph outside the table comes first.
    fn end_row(&mut self, tap: Option<Tap>) -> Result<(), Unreadable> {
        let Some(mut row) = take_row(&mut self.row, &mut self.cell, &mut self.para) else {
            return Ok(());
        };
        if let Some(tap) = tap.filter(|t| t.tcs.len() == row.cells.len()) {
            row.left = tap.bounds.first().map(|&x| x.into());
            for (i, cell) in row.cells.iter_mut().enumerate() {
                cell.right = tap.bounds.get(i + 1).map(|&x| x.into());
                if let Some(tc) = tap.tcs.get(i) {
                    cell.merged_left = tc[1] && !tc[0];
                    cell.merged_above = tc[2] && !tc[3];
                }
            }
        }
        self.html.row(row)
    }
}

fn read_stream(
    file: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    name: &str,
    limits: &Limits,
) -> Result<Vec<u8>, Unreadable> {
    let stream = file
        .open_stream(name)
        .map_err(|e| Unreadable::new(format!("Word 文件（.doc）的 {name} 流无法打开：{e}")))?;
    if stream.len() > limits.max_stream {
        return Err(Unreadable::new(format!(
            "Word 文件（.doc）的 {name} 流超过 {} MiB 的上限，已拒绝",
            limits.max_stream >> 20
        )));
    }
    let mut out = Vec::new();
    stream
        .take(limits.max_stream)
        .read_to_end(&mut out)
        .map_err(|e| Unreadable::new(format!("Word 文件（.doc）的 {name} 流无法读取：{e}")))?;
    Ok(out)
}

/// The main document of a .doc or .wps as HTML: paragraphs as `<p>`, tables as rows of
/// cells with their merges.
pub fn to_html(bytes: &[u8], limits: &Limits) -> Result<String, Unreadable> {
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| {
        Unreadable::new(format!(
            "Word 文件（.doc/.wps）的 OLE 复合文件结构有误：{e}"
        ))
    })?;
    if !file.is_stream("/WordDocument") {
        return Err(Unreadable::new(
            "OLE 文件中没有 WordDocument 流：不是 Word 97–2003（.doc）或 WPS 文字文件（早期 WPS 格式暂不能读取），请另存为 .docx 或 PDF 后上传",
        ));
    }
    let word = read_stream(&mut file, "/WordDocument", limits)?;
    let fib = fib(&word)?;
    let table_name = if fib.table_1 { "/1Table" } else { "/0Table" };
    let table = read_stream(&mut file, table_name, limits)?;
    let data = if file.is_stream("/Data") {
        read_stream(&mut file, "/Data", limits).ok()
    } else {
        None
    };
    if fib.ccp_text as usize > limits.max_chars {
        return Err(Unreadable::new(format!(
            "Word 文件（.doc）的正文超过 {} 字的上限，已拒绝",
            limits.max_chars
        )));
    }
    let pieces = pieces(&table, &fib, limits)?;
    let mut walk = Walk {
        papx: Papx::new(&word, &table, data.as_deref(), &fib),
        html: Html::new(limits.max_chars, "Word 文件（.doc）"),
        para: String::new(),
        cell: String::new(),
        row: Vec::new(),
        fields: Vec::new(),
        hidden: 0,
        last: '\0',
    };
    let outside = || Unreadable::new("Word 文件（.doc）的文字片段指向 WordDocument 流之外");
    for piece in pieces {
        if piece.cp >= fib.ccp_text {
            break;
        }
        let count = piece.cp_end.min(fib.ccp_text) - piece.cp;
        if piece.compressed {
            let bytes = slice(&word, piece.fc, count).ok_or_else(outside)?;
            for (k, &b) in bytes.iter().enumerate() {
                walk.push(cp1252(b), piece.fc + k as u32)?;
            }
        } else {
            let len = count.checked_mul(2).ok_or_else(outside)?;
            let bytes = slice(&word, piece.fc, len).ok_or_else(outside)?;
            let units = bytes
                .chunks_exact(2)
                .map(|u| u16::from_le_bytes([u[0], u[1]]));
            let mut k = 0u32;
            for c in char::decode_utf16(units) {
                let (c, width) = match c {
                    Ok(c) => (c, c.len_utf16() as u32),
                    Err(_) => (char::REPLACEMENT_CHARACTER, 1),
                };
                walk.push(c, piece.fc + k * 2)?;
                k += width;
            }
        }
    }
    walk.end_row(None)?;
    let para = std::mem::take(&mut walk.para);
    walk.html.paragraph(&para)?;
    Ok(walk.html.finish())
}

/// A byte of a compressed piece: Windows-1252, where every byte is one character.
fn cp1252(b: u8) -> char {
    /// 0x80..=0x9F, where Windows-1252 differs from Latin-1 (as the WHATWG maps them).
    const HIGH: [u16; 32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ];
    match b {
        0x80..=0x9F => char::from_u32(HIGH[(b - 0x80) as usize].into()).unwrap_or('\u{fffd}'),
        b => b.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{self, ContentHint};
    use std::io::Write;

    const FIXTURE: &[u8] = include_bytes!("../../tests/corpus/files/huaian-city-2024.doc");

    fn text(bytes: &[u8]) -> Result<String, Unreadable> {
        let html = to_html(bytes, &Limits::default())?;
        Ok(decode::decode(html.as_bytes(), None, ContentHint::Html).text)
    }

    /// A compound file with a Word 97 FIB, one piece of `ccp` characters at `fc`, and
    /// `text` stored from byte 1024 of WordDocument.
    fn synthetic(flags: u16, fc: u32, ccp: u32, text: &[u8]) -> Vec<u8> {
        let mut word = vec![0u8; 1024];
        word[0..2].copy_from_slice(&W_IDENT.to_le_bytes());
        word[2..4].copy_from_slice(&0xC1u16.to_le_bytes());
        word[0x0A..0x0C].copy_from_slice(&(flags | 0x0200).to_le_bytes());
        word[32..34].copy_from_slice(&14u16.to_le_bytes());
        let lw = 34 + 28;
        word[lw..lw + 2].copy_from_slice(&22u16.to_le_bytes());
        word[lw + 14..lw + 18].copy_from_slice(&ccp.to_le_bytes());
        let fc_lcb = lw + 2 + 88;
        word[fc_lcb..fc_lcb + 2].copy_from_slice(&93u16.to_le_bytes());
        let clx_at = fc_lcb + 2 + PAIR_CLX * 8;
        // CLX: a Pcdt holding PlcPcd [0, ccp] and one PCD.
        let mut clx = vec![2u8];
        clx.extend(16u32.to_le_bytes());
        clx.extend(0u32.to_le_bytes());
        clx.extend(ccp.to_le_bytes());
        clx.extend([0, 0]);
        clx.extend(fc.to_le_bytes());
        clx.extend([0, 0]);
        word[clx_at..clx_at + 4].copy_from_slice(&0u32.to_le_bytes());
        word[clx_at + 4..clx_at + 8].copy_from_slice(&(clx.len() as u32).to_le_bytes());
        word.extend_from_slice(text);
        let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        file.create_stream("/WordDocument")
            .unwrap()
            .write_all(&word)
            .unwrap();
        file.create_stream("/1Table")
            .unwrap()
            .write_all(&clx)
            .unwrap();
        file.flush().unwrap();
        file.into_inner().into_inner()
    }

    #[test]
    fn the_fixture_reads_with_its_table_cells_as_tabs() {
        let t = text(FIXTURE).unwrap();
        assert!(
            t.starts_with("淮安市人民政府2024年政府信息公开工作年度报告\n"),
            "{t}"
        );
        assert!(t.contains("\n规章\t1\t0\t11\n"), "{t}");
        assert!(t.contains("\n行政许可\t447228\t\t\n"), "{t}");
        assert!(
            t.contains("\t(一)予以公开\t\t1288\t21\t0\t0\t50\t3\t1362\n"),
            "{t}"
        );
    }

    #[test]
    fn compressed_and_utf16_pieces_read_with_fields_and_objects() {
        // Compressed: the FC has bit 30 set and counts bytes twice.
        let doc = synthetic(0, 0x4000_0000 | 2048, 6, b"ab\x01c\r\x0c");
        assert_eq!(text(&doc).unwrap().trim(), "abc");
        let utf16: Vec<u8> = "申\u{13} PAGE \u{14}请\u{15}表\r"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let doc = synthetic(0, 1024, 13, &utf16);
        assert_eq!(text(&doc).unwrap().trim(), "申请表");
    }

    #[test]
    fn an_encrypted_file_says_so() {
        let err = to_html(&synthetic(0x0100, 1024, 1, b"\r\0"), &Limits::default()).unwrap_err();
        assert!(err.reason.contains("加密"), "{}", err.reason);
    }

    #[test]
    fn a_piece_outside_the_stream_is_unreadable() {
        for fc in [1 << 29, 0x3FFF_FFFF, 0x4000_0000 | 0x3FFF_FFFF, 1030] {
            let err = to_html(&synthetic(0, fc, 100, b"ab\r"), &Limits::default()).unwrap_err();
            assert!(err.reason.contains("之外"), "{fc}: {}", err.reason);
        }
        let err = to_html(&synthetic(0, 1024, u32::MAX, b"ab\r"), &Limits::default()).unwrap_err();
        assert!(err.reason.contains("上限"), "{}", err.reason);
    }

    #[test]
    fn truncated_and_garbage_files_are_unreadable() {
        for len in [0, 8, 512, 4096, FIXTURE.len() / 3, FIXTURE.len() - 1] {
            assert!(
                to_html(&FIXTURE[..len], &Limits::default()).is_err(),
                "{len}"
            );
        }
        let mut garbage = FIXTURE[..8].to_vec();
        garbage.extend((0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        assert!(to_html(&garbage, &Limits::default()).is_err());
    }

    /// Every FAT entry of the fixture's first FAT sector turned back on an earlier sector:
    /// chains that loop are refused or cut, never followed for ever.
    #[test]
    fn a_cyclic_fat_never_hangs_or_panics() {
        let fat_sector = u32::from_le_bytes(FIXTURE[0x4C..0x50].try_into().unwrap()) as usize;
        let fat_at = 512 * (fat_sector + 1);
        for entry in 1..128usize {
            let mut bytes = FIXTURE.to_vec();
            let at = fat_at + entry * 4;
            bytes[at..at + 4].copy_from_slice(&((entry as u32) - 1).to_le_bytes());
            let _ = to_html(&bytes, &Limits::default());
            bytes[at..at + 4].copy_from_slice(&(entry as u32).to_le_bytes());
            let _ = to_html(&bytes, &Limits::default());
        }
    }

    #[test]
    fn every_byte_of_the_fib_and_tables_flipped_never_panics() {
        // The first 16 KiB past the header hold the directory, WordDocument's FIB and text.
        for at in (512..FIXTURE.len().min(16 << 10)).step_by(29) {
            let mut bytes = FIXTURE.to_vec();
            bytes[at] ^= 0xFF;
            let _ = to_html(&bytes, &Limits::default());
        }
    }

    #[test]
    fn a_long_document_is_bounded() {
        let limits = Limits {
            max_chars: 100,
            ..Limits::default()
        };
        let err = to_html(FIXTURE, &limits).unwrap_err();
        assert!(err.reason.contains("上限"), "{}", err.reason);
    }
}
