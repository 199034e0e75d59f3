//! Rich Text Format (.rtf) to HTML with real cells. PURE.
//!
//! A hand-written tokenizer: groups, control words and symbols, `\'hh` bytes decoded in
//! the code page of the current font's `\fcharset` or else the document's `\ansicpgN`
//! (936 is GBK), `\uN` characters followed by `\ucN` fallback characters to skip.
//! Destinations that hold no body text (`\*`-marked, the font, colour and style tables,
//! document info, pictures, objects, headers, footers, field instructions…) are skipped;
//! field results are kept. `\par` ends a paragraph, `\cell` a cell (`\intbl` paragraphs
//! belong to it), `\row` a row whose `\cellx` boundaries and `\clmrg`/`\clvmrg` merges
//! make the table's grid in [`cells`](super::cells). Groups nest at most
//! [`MAX_DEPTH`] deep and the text is bounded by [`Limits::max_chars`].

use super::cells::{take_row, Cell, Html};
use super::{Limits, Unreadable};
use encoding_rs::Encoding;

/// Groups may nest this deep; Word's deepest real nesting is a few dozen.
pub const MAX_DEPTH: usize = 256;

/// The code page of an RTF `\fcharset`, `None` for the document's own (`\ansicpg`).
fn charset_encoding(charset: i32) -> Option<&'static Encoding> {
    let label: &[u8] = match charset {
        128 => b"shift_jis",
        129 => b"euc-kr",
        134 => b"gbk",
        136 => b"big5",
        161 => b"windows-1253",
        162 => b"windows-1254",
        163 => b"windows-1258",
        177 => b"windows-1255",
        178 => b"windows-1256",
        186 => b"windows-1257",
        204 => b"windows-1251",
        222 => b"windows-874",
        238 => b"windows-1250",
        _ => return None,
    };
    Encoding::for_label(label)
}

/// The encoding of a Windows code page number (`\ansicpgN`).
fn codepage_encoding(cp: i32) -> Option<&'static Encoding> {
    match cp {
        936 => Some(encoding_rs::GBK),
        54936 => Some(encoding_rs::GB18030),
        950 => Some(encoding_rs::BIG5),
        932 => Some(encoding_rs::SHIFT_JIS),
        949 => Some(encoding_rs::EUC_KR),
        65001 => Some(encoding_rs::UTF_8),
        874 | 1250..=1258 => Encoding::for_label(format!("windows-{cp}").as_bytes()),
        _ => None,
    }
}

/// Destinations whose text is not body text.
fn skipped_destination(word: &[u8]) -> bool {
    matches!(
        word,
        b"colortbl"
            | b"stylesheet"
            | b"info"
            | b"pict"
            | b"object"
            | b"header"
            | b"headerl"
            | b"headerr"
            | b"headerf"
            | b"footer"
            | b"footerl"
            | b"footerr"
            | b"footerf"
            | b"footnote"
            | b"annotation"
            | b"fldinst"
            | b"listtable"
            | b"listoverridetable"
            | b"listtext"
            | b"pntext"
            | b"revtbl"
            | b"rsidtbl"
            | b"filetbl"
            | b"xmlnstbl"
            | b"themedata"
            | b"colorschememapping"
            | b"latentstyles"
            | b"datastore"
            | b"generator"
            | b"pgdsctbl"
            | b"nonesttables"
            | b"shp"
            | b"shpinst"
            | b"nonshppict"
            | b"shppict"
            | b"template"
            | b"userprops"
            | b"docvar"
            | b"xe"
            | b"tc"
            | b"ftnsep"
            | b"ftnsepc"
            | b"aftnsep"
            | b"aftnsepc"
    )
}

/// What a group sets and its end restores.
#[derive(Clone)]
struct State {
    /// Inside a destination whose text is dropped.
    skip: bool,
    /// Inside the font table.
    fonttbl: bool,
    /// Fallback characters after `\uN`.
    uc: usize,
    /// The current font's code page, when it has its own.
    font: Option<&'static Encoding>,
    in_table: bool,
}

/// The cell definitions of the row being read (`\trowd` … `\cellx`).
#[derive(Default)]
struct RowDef {
    left: i32,
    rights: Vec<i32>,
    /// (continues a horizontal merge, continues a vertical merge) of each cell.
    merges: Vec<(bool, bool)>,
    pending: (bool, bool),
}

struct Reader<'a> {
    src: &'a [u8],
    at: usize,
    stack: Vec<State>,
    state: State,
    codepage: &'static Encoding,
    fonts: Vec<(i32, &'static Encoding)>,
    font_being_defined: i32,
    /// `\'hh` and raw 8-bit bytes waiting to be decoded together (a GBK character is two).
    bytes: Vec<u8>,
    /// Fallback characters still to skip after a `\uN`.
    to_skip: usize,
    /// A high surrogate waiting for its low half.
    high: Option<u16>,
    html: Html,
    para: String,
    cell: String,
    row: Vec<Cell>,
    def: RowDef,
    chars: usize,
    max_chars: usize,
}

fn too_long(max: usize) -> Unreadable {
    Unreadable::new(format!("RTF 文件的文字超过 {max} 字的上限，已拒绝"))
}

impl Reader<'_> {
    fn text(&mut self, c: char) -> Result<(), Unreadable> {
        if self.state.skip || self.state.fonttbl {
            return Ok(());
        }
        self.chars += 1;
        if self.chars > self.max_chars {
            return Err(too_long(self.max_chars));
        }
        self.para.push(c);
        Ok(())
    }

    /// Decodes the waiting bytes in the current code page.
    fn flush_bytes(&mut self) -> Result<(), Unreadable> {
        if self.bytes.is_empty() {
            return Ok(());
        }
        let bytes = std::mem::take(&mut self.bytes);
        let encoding = self.state.font.unwrap_or(self.codepage);
        let (text, _) = encoding.decode_without_bom_handling(&bytes);
        for c in text.chars() {
            self.text(c)?;
        }
        Ok(())
    }

    /// One byte of text, or a fallback character being skipped.
    fn byte(&mut self, b: u8) -> Result<(), Unreadable> {
        if self.to_skip > 0 {
            self.to_skip -= 1;
            return Ok(());
        }
        if self.state.skip || self.state.fonttbl {
            return Ok(());
        }
        self.bytes.push(b);
        Ok(())
    }

    fn unicode(&mut self, n: i32) -> Result<(), Unreadable> {
        self.flush_bytes()?;
        let unit = (n as i64).rem_euclid(65536) as u16;
        let c = match (self.high.take(), unit) {
            (_, 0xD800..=0xDBFF) => {
                self.high = Some(unit);
                None
            }
            (Some(hi), 0xDC00..=0xDFFF) => {
                char::decode_utf16([hi, unit]).next().and_then(Result::ok)
            }
            (_, u) => char::from_u32(u.into()),
        };
        if let Some(c) = c {
            self.text(c)?;
        }
        self.to_skip = self.state.uc;
        Ok(())
    }

    fn par(&mut self) -> Result<(), Unreadable> {
        if self.state.skip || self.state.fonttbl {
            return Ok(());
        }
        if self.state.in_table {
            self.cell.push_str(&std::mem::take(&mut self.para));
            self.cell.push('\n');
        } else {
            self.end_row(false)?;
            let para = std::mem::take(&mut self.para);
            self.html.paragraph(&para)?;
        }
        Ok(())
    }

    fn end_cell(&mut self) {
        let mut text = std::mem::take(&mut self.cell);
        text.push_str(&std::mem::take(&mut self.para));
        self.row.push(Cell {
            text,
            ..Cell::default()
        });
    }

    /// Ends the row being read: at `\row` (`defined`) with its cell definitions, or when a
    /// paragraph outside the table comes first.
    fn end_row(&mut self, defined: bool) -> Result<(), Unreadable> {
        let Some(mut row) = take_row(&mut self.row, &mut self.cell, &mut self.para) else {
            return Ok(());
        };
        if defined && self.def.rights.len() == row.cells.len() {
            row.left = Some(self.def.left);
            for (i, cell) in row.cells.iter_mut().enumerate() {
                cell.right = self.def.rights.get(i).copied();
                let (left, above) = self.def.merges.get(i).copied().unwrap_or_default();
                cell.merged_left = left;
                cell.merged_above = above;
            }
        }
        self.html.row(row)
    }

    fn control(&mut self, word: &[u8], param: Option<i32>) -> Result<(), Unreadable> {
        if self.state.fonttbl {
            match word {
                b"f" => self.font_being_defined = param.unwrap_or(0),
                b"fcharset" => {
                    if let Some(enc) = param.and_then(charset_encoding) {
                        if self.fonts.len() < 4096 {
                            self.fonts.push((self.font_being_defined, enc));
                        }
                    }
                }
                _ => {}
            }
            return Ok(());
        }
        match word {
            b"ansicpg" => {
                if let Some(enc) = param.and_then(codepage_encoding) {
                    self.codepage = enc;
                }
            }
            b"fonttbl" => self.state.fonttbl = true,
            b"uc" => self.state.uc = param.unwrap_or(1).clamp(0, 16) as usize,
            b"u" => return self.unicode(param.unwrap_or(0)),
            b"f" => {
                let n = param.unwrap_or(0);
                self.state.font = self.fonts.iter().find(|f| f.0 == n).map(|f| f.1);
            }
            b"bin" => {
                // Binary data of `param` bytes follows.
                let n = param.unwrap_or(0).max(0) as usize;
                self.at = self.at.saturating_add(n).min(self.src.len());
            }
            w if skipped_destination(w) => self.state.skip = true,
            _ if self.state.skip => {}
            b"par" | b"sect" => self.par()?,
            b"pard" => self.state.in_table = false,
            b"intbl" => self.state.in_table = true,
            b"line" | b"page" => self.text('\n')?,
            b"tab" | b"emspace" | b"enspace" | b"qmspace" => self.text(' ')?,
            b"emdash" => self.text('—')?,
            b"endash" => self.text('–')?,
            b"bullet" => self.text('•')?,
            b"lquote" => self.text('‘')?,
            b"rquote" => self.text('’')?,
            b"ldblquote" => self.text('“')?,
            b"rdblquote" => self.text('”')?,
            b"cell" => self.end_cell(),
            b"nestcell" | b"nestrow" => self.text('\n')?,
            b"row" => self.end_row(true)?,
            b"trowd" => self.def = RowDef::default(),
            b"trleft" => self.def.left = param.unwrap_or(0),
            b"clmrg" => self.def.pending.0 = true,
            b"clvmrg" => self.def.pending.1 = true,
            b"cellx" if self.def.rights.len() < 4096 => {
                self.def.rights.push(param.unwrap_or(0));
                self.def.merges.push(std::mem::take(&mut self.def.pending));
            }
            _ => {}
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), Unreadable> {
        while let Some(&b) = self.src.get(self.at) {
            self.at += 1;
            match b {
                b'{' => {
                    self.flush_bytes()?;
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(Unreadable::new(format!(
                            "RTF 文件的分组嵌套超过 {MAX_DEPTH} 层，文件结构异常，已拒绝"
                        )));
                    }
                    self.stack.push(self.state.clone());
                    self.to_skip = 0;
                }
                b'}' => {
                    self.flush_bytes()?;
                    self.to_skip = 0;
                    match self.stack.pop() {
                        Some(state) => self.state = state,
                        None => break,
                    }
                }
                b'\\' => self.escape()?,
                b'\r' | b'\n' => {}
                b'\t' => {
                    self.flush_bytes()?;
                    self.text(' ')?;
                }
                b => self.byte(b)?,
            }
        }
        self.flush_bytes()?;
        Ok(())
    }

    /// What follows a backslash.
    fn escape(&mut self) -> Result<(), Unreadable> {
        let Some(&c) = self.src.get(self.at) else {
            return Ok(());
        };
        self.at += 1;
        if c == b'\'' {
            let hex = self.src.get(self.at..self.at + 2).and_then(|h| {
                let h = std::str::from_utf8(h).ok()?;
                u8::from_str_radix(h, 16).ok()
            });
            if let Some(b) = hex {
                self.at += 2;
                self.byte(b)?;
            }
            return Ok(());
        }
        self.flush_bytes()?;
        if c.is_ascii_alphabetic() {
            let start = self.at - 1;
            while self.src.get(self.at).is_some_and(u8::is_ascii_alphabetic) && self.at - start < 32
            {
                self.at += 1;
            }
            let word = &self.src[start..self.at];
            let num_start = self.at;
            if self.src.get(self.at) == Some(&b'-') {
                self.at += 1;
            }
            while self.src.get(self.at).is_some_and(u8::is_ascii_digit) && self.at - num_start < 11
            {
                self.at += 1;
            }
            let param = std::str::from_utf8(&self.src[num_start..self.at])
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .map(|n| n.clamp(i32::MIN as i64, i32::MAX as i64) as i32);
            if self.src.get(self.at) == Some(&b' ') {
                self.at += 1;
            }
            let word = word.to_vec();
            if self.to_skip > 0 && word != b"u" {
                self.to_skip -= 1;
                return Ok(());
            }
            return self.control(&word, param);
        }
        if self.to_skip > 0 {
            self.to_skip -= 1;
            return Ok(());
        }
        match c {
            b'\\' | b'{' | b'}' => self.byte(c)?,
            b'~' => self.text(' ')?,
            b'_' => self.text('-')?,
            b'\r' | b'\n' => self.par()?,
            // `{\*\dest …}`: a destination a reader that does not know it skips.
            b'*' => self.state.skip = true,
            _ => {}
        }
        Ok(())
    }
}

/// The body of an RTF file as HTML: paragraphs as `<p>`, tables as rows of cells.
pub fn to_html(bytes: &[u8], limits: &Limits) -> Result<String, Unreadable> {
    if !bytes.starts_with(b"{\\rtf") {
        return Err(Unreadable::new("不是 RTF 文件（应以 {\\rtf 开头）"));
    }
    let mut reader = Reader {
        src: bytes,
        at: 0,
        stack: Vec::new(),
        state: State {
            skip: false,
            fonttbl: false,
            uc: 1,
            font: None,
            in_table: false,
        },
        codepage: encoding_rs::WINDOWS_1252,
        fonts: Vec::new(),
        font_being_defined: 0,
        bytes: Vec::new(),
        to_skip: 0,
        high: None,
        html: Html::new(limits.max_chars, "RTF 文件"),
        para: String::new(),
        cell: String::new(),
        row: Vec::new(),
        def: RowDef::default(),
        chars: 0,
        max_chars: limits.max_chars,
    };
    reader.run()?;
    reader.end_row(false)?;
    let para = std::mem::take(&mut reader.para);
    reader.html.paragraph(&para)?;
    Ok(reader.html.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{self, ContentHint};

    fn text(rtf: &str) -> Result<String, Unreadable> {
        let html = to_html(rtf.as_bytes(), &Limits::default())?;
        Ok(decode::decode(html.as_bytes(), None, ContentHint::Html).text)
    }

    #[test]
    fn a_gbk_table_reads_as_tab_separated_cells() {
        let rtf = r"{\rtf1\ansi\ansicpg936\deff0{\fonttbl{\f0\fnil\fcharset134 \'cb\'ce\'cc\'e5;}}
{\colortbl;\red0\green0\blue0;}{\*\generator Test;}{\info{\author \'d5\'c5}}
\pard\plain \f0 \'d7\'dc\'cc\'e5\'c7\'e9\'bf\'f6\par
\trowd\trleft0\cellx2000\cellx4000\pard\intbl\'c9\'ea\'c7\'eb\cell 12\cell\row
\trowd\trleft0\cellx2000\cellx4000\pard\intbl 2\cell 3\cell\row
\pard \'bd\'e1\'ca\'f8\par}";
        let t = text(rtf).unwrap();
        assert!(t.contains("总体情况\n"), "{t:?}");
        assert!(t.contains("申请\t12\n2\t3\n"), "{t:?}");
        assert!(t.contains("结束"), "{t:?}");
        assert!(!t.contains("张") && !t.contains("Test"), "{t:?}");
    }

    #[test]
    fn unicode_escapes_skip_their_fallback_characters() {
        let t =
            text(r"{\rtf1\ansi\uc1\u20013?\uc2 \u22269\'b9\'fa\u-30000??\u25991 xyz\par}").unwrap();
        // \u-30000 is U+8AD0; \u25991 (文) skips the two characters after it.
        assert_eq!(t.trim(), "中国\u{8AD0}文z");
    }

    #[test]
    fn a_font_charset_decodes_its_bytes_in_a_western_document() {
        let rtf = r"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0 Arial;}{\f1\fcharset134 SimSun;}}
\f0 caf\'e9 {\f1 \'d6\'d0}\'e9\par}";
        assert_eq!(text(rtf).unwrap().trim(), "café 中é");
    }

    #[test]
    fn fields_keep_their_result_and_drop_their_instructions() {
        let rtf = r#"{\rtf1 {\field{\*\fldinst HYPERLINK "http://x"}{\fldrslt \u38142?\u25509?}} and {\pict\pngblip 89504e47}\par}"#;
        let t = text(rtf).unwrap();
        assert_eq!(t.trim(), "链接 and");
    }

    #[test]
    fn merged_cells_span_the_columns_they_cover() {
        let rtf = r"{\rtf1
\trowd\clmgf\cellx1000\clmrg\cellx2000\cellx3000\pard\intbl a\cell\cell b\cell\row
\trowd\cellx1000\cellx2000\cellx3000\pard\intbl 1\cell 2\cell 3\cell\row
\trowd\clvmgf\cellx1500\cellx3000\pard\intbl v\cell w\cell\row
\trowd\clvmrg\cellx1500\cellx3000\pard\intbl stale\cell x\cell\row\pard\par}";
        let html = to_html(rtf.as_bytes(), &Limits::default()).unwrap();
        assert!(
            html.contains("<tr><td colspan=\"3\">a</td><td>b</td></tr>"),
            "{html}"
        );
        // The grid has lines at 0, 1000, 1500, 2000, 3000.
        assert!(
            html.contains("<tr><td colspan=\"2\">v</td><td colspan=\"2\">w</td></tr>"),
            "{html}"
        );
        assert!(
            html.contains("<tr><td colspan=\"2\"></td><td colspan=\"2\">x</td></tr>"),
            "{html}"
        );
    }

    #[test]
    fn groups_nested_too_deep_are_unreadable() {
        let mut rtf = String::from(r"{\rtf1 ");
        rtf.push_str(&"{".repeat(100_000));
        rtf.push('x');
        rtf.push_str(&"}".repeat(100_000));
        rtf.push('}');
        let err = text(&rtf).unwrap_err();
        assert!(err.reason.contains("嵌套"), "{}", err.reason);
        let mut ok = String::from(r"{\rtf1 ");
        ok.push_str(&"{".repeat(200));
        ok.push_str(r"\u28145?");
        ok.push_str(&"}".repeat(200));
        ok.push('}');
        assert_eq!(text(&ok).unwrap().trim(), "深");
    }

    #[test]
    fn a_huge_unicode_run_is_bounded() {
        let rtf = format!(r"{{\rtf1 {}}}", r"\u20013?".repeat(200_000));
        let limits = Limits {
            max_chars: 100_000,
            ..Limits::default()
        };
        let err = to_html(rtf.as_bytes(), &limits).unwrap_err();
        assert!(err.reason.contains("上限"), "{}", err.reason);
    }

    #[test]
    fn hostile_bytes_never_panic() {
        for rtf in [
            &b"{\\rtf"[..],
            b"{\\rtf1 \\'",
            b"{\\rtf1 \\'zz\\u",
            b"{\\rtf1 \\u-99999999999999999999 \\uc99999999999 x}",
            b"{\\rtf1 \\bin999999999999 }",
            b"{\\rtf1 }}}}}}\\cell\\row\\cell\\par",
            b"{\\rtf1 \\trowd\\cellx-5\\cellx-9\\intbl a\\cell\\row}",
            b"{\\rtf1 \xff\xfe\\'d6 \\u55357 \\u56832 \\u56832}",
        ] {
            let _ = to_html(rtf, &Limits::default());
        }
        assert!(to_html(b"not rtf", &Limits::default()).is_err());
    }
}
