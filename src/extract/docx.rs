//! Word (DOCX) to HTML with real cells. PURE.
//!
//! A DOCX is a zip holding `word/document.xml`. Its tables are read cell by cell: a cell
//! spanning grid columns (`w:gridSpan`) becomes a cell with that colspan, a cell continuing
//! a vertical merge (`w:vMerge` without `restart`) an empty cell, as a browser shows the
//! same table's HTML; `w:gridBefore` leaves the skipped grid columns empty. A table nested
//! in a cell gives its text to that cell. The HTML then goes through the one HTML reader.
//! Zip entries are read within [`Limits::max_unzipped`], whatever size they declare.

use super::cells::escape_into;
use super::{Kind, Limits, Unreadable};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::io::{Cursor, Read};

/// DOCX or XLSX, by the entries of the zip; `None` when it is neither or no zip at all.
pub fn office_kind(bytes: &[u8]) -> Option<Kind> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let mut names = archive.file_names();
    names.find_map(|n| match n {
        "word/document.xml" => Some(Kind::Docx),
        "xl/workbook.xml" => Some(Kind::Xlsx),
        _ => None,
    })
}

fn unzip_entry(bytes: &[u8], name: &str, limits: &Limits) -> Result<Vec<u8>, Unreadable> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| Unreadable::new(format!("Word 文件不是有效的 zip 压缩包：{e}")))?;
    let entry = archive
        .by_name(name)
        .map_err(|_| Unreadable::new(format!("Word 文件缺少 {name}，不是有效的 .docx 文件")))?;
    if entry.encrypted() {
        return Err(Unreadable::new("Word 文件已加密，无法读取"));
    }
    let mut out = Vec::new();
    entry
        .take(limits.max_unzipped + 1)
        .read_to_end(&mut out)
        .map_err(|e| Unreadable::new(format!("Word 文件的 {name} 无法解压：{e}")))?;
    if out.len() as u64 > limits.max_unzipped {
        return Err(Unreadable::new(format!(
            "Word 文件的 {name} 解压后超过 {} MiB 的上限（疑为压缩炸弹），已拒绝",
            limits.max_unzipped >> 20
        )));
    }
    Ok(out)
}

/// One cell being read.
#[derive(Default)]
struct Cell {
    text: String,
    span: usize,
    /// Continues a vertical merge from the row above.
    merged: bool,
}

/// The reader's state in the body.
#[derive(Default)]
struct Walk {
    html: String,
    /// Text of the paragraph being read (outside tables) or of the cell (inside).
    para: String,
    /// Table nesting depth; only the outermost table's cells become cells.
    depth: usize,
    row: Vec<Cell>,
    cell: Option<Cell>,
    grid_before: usize,
    in_text: bool,
}

fn val(e: &BytesStart<'_>) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == b"val")
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
}

impl Walk {
    fn start(&mut self, e: &BytesStart<'_>, empty: bool) {
        match e.local_name().as_ref() {
            b"tbl" => {
                self.depth += 1;
                if self.depth == 1 {
                    self.flush_para();
                    self.html.push_str("<table>");
                }
            }
            b"tr" if self.depth == 1 => {
                self.row.clear();
                self.grid_before = 0;
            }
            b"gridBefore" if self.depth == 1 => {
                self.grid_before = val(e).and_then(|v| v.parse().ok()).unwrap_or(0).min(64);
            }
            b"tc" if self.depth == 1 => {
                self.cell = Some(Cell {
                    span: 1,
                    ..Cell::default()
                });
            }
            b"gridSpan" if self.depth == 1 => {
                if let Some(cell) = self.cell.as_mut() {
                    cell.span = val(e)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(1)
                        .clamp(1, 64);
                }
            }
            b"vMerge" if self.depth == 1 => {
                if let Some(cell) = self.cell.as_mut() {
                    cell.merged = val(e).is_none_or(|v| v != "restart");
                }
            }
            b"t" if !empty => self.in_text = true,
            b"tab" => self.para.push(' '),
            b"br" | b"cr" => self.para.push('\n'),
            _ => {}
        }
    }

    fn end(&mut self, name: &[u8]) {
        match name {
            b"t" => self.in_text = false,
            b"p" => {
                if self.depth == 0 {
                    self.flush_para();
                } else {
                    self.para.push('\n');
                }
            }
            b"tc" if self.depth == 1 => {
                if let Some(mut cell) = self.cell.take() {
                    cell.text = std::mem::take(&mut self.para);
                    self.row.push(cell);
                }
            }
            b"tr" if self.depth == 1 => self.flush_row(),
            b"tbl" => {
                if self.depth == 1 {
                    self.html.push_str("</table>\n");
                }
                self.depth = self.depth.saturating_sub(1);
            }
            _ => {}
        }
    }

    fn flush_para(&mut self) {
        let text = std::mem::take(&mut self.para);
        if !text.trim().is_empty() {
            self.html.push_str("<p>");
            escape_into(&mut self.html, text.trim());
            self.html.push_str("</p>\n");
        }
    }

    fn flush_row(&mut self) {
        self.html.push_str("<tr>");
        for _ in 0..self.grid_before {
            self.html.push_str("<td></td>");
        }
        for cell in self.row.drain(..) {
            if cell.span > 1 {
                self.html
                    .push_str(&format!("<td colspan=\"{}\">", cell.span));
            } else {
                self.html.push_str("<td>");
            }
            if !cell.merged {
                let lines: Vec<&str> = cell.text.lines().map(str::trim).collect();
                escape_into(&mut self.html, lines.join(" ").trim());
            }
            self.html.push_str("</td>");
        }
        self.html.push_str("</tr>\n");
    }
}

/// The body of a DOCX as HTML: paragraphs as `<p>`, tables with their merges.
pub fn to_html(bytes: &[u8], limits: &Limits) -> Result<String, Unreadable> {
    let xml = unzip_entry(bytes, "word/document.xml", limits)?;
    let mut reader = Reader::from_reader(xml.as_slice());
    let mut walk = Walk::default();
    let mut buf = Vec::new();
    walk.html.push_str("<html><body>\n");
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| {
            Unreadable::new(format!(
                "Word 文件的正文 XML 有误（第 {} 字节）：{e}",
                reader.buffer_position()
            ))
        })?;
        match event {
            Event::Start(e) => walk.start(&e, false),
            Event::Empty(e) => walk.start(&e, true),
            Event::End(e) => walk.end(e.local_name().as_ref()),
            Event::Text(t) if walk.in_text => {
                let text = t
                    .decode()
                    .map_err(|e| Unreadable::new(format!("Word 文件的文字编码有误：{e}")))?;
                walk.para.push_str(&text);
            }
            Event::GeneralRef(r) if walk.in_text => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match &*r {
                        b"amp" => Some('&'),
                        b"lt" => Some('<'),
                        b"gt" => Some('>'),
                        b"quot" => Some('"'),
                        b"apos" => Some('\''),
                        _ => None,
                    },
                };
                walk.para.extend(c);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    walk.flush_para();
    walk.html.push_str("</body></html>\n");
    Ok(walk.html)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn docx(body: &str) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("word/document.xml", options).unwrap();
        let xml = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
        );
        zip.write_all(xml.as_bytes()).unwrap();
        zip.finish().unwrap();
        out.into_inner()
    }

    fn cell(props: &str, text: &str) -> String {
        format!("<w:tc><w:tcPr>{props}</w:tcPr><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>")
    }

    #[test]
    fn merges_expand_into_cells_as_a_browser_shows_them() {
        let row1 = format!(
            "<w:tr>{}{}{}</w:tr>",
            cell(r#"<w:vMerge w:val="restart"/>"#, "行政复议"),
            cell(r#"<w:gridSpan w:val="2"/>"#, "结果"),
            cell("", "总计")
        );
        let row2 = format!(
            "<w:tr>{}{}{}{}</w:tr>",
            cell("<w:vMerge/>", ""),
            cell("", "1"),
            cell("", "2"),
            cell("", "3")
        );
        let body = format!("<w:p><w:r><w:t>四、情况</w:t></w:r></w:p><w:tbl>{row1}{row2}</w:tbl>");
        let html = to_html(&docx(&body), &Limits::default()).unwrap();
        assert!(html.contains("<p>四、情况</p>"), "{html}");
        assert!(
            html.contains(r#"<tr><td>行政复议</td><td colspan="2">结果</td><td>总计</td></tr>"#),
            "{html}"
        );
        assert!(
            html.contains("<tr><td></td><td>1</td><td>2</td><td>3</td></tr>"),
            "{html}"
        );
    }

    #[test]
    fn entities_runs_and_nested_tables_read_as_text_of_their_cell() {
        let inner = "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>内</w:t></w:r></w:p></w:tc></w:tr></w:tbl>";
        let body = format!(
            "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>A&amp;</w:t></w:r><w:r><w:t xml:space=\"preserve\">B&#20013;</w:t></w:r></w:p>{inner}</w:tc></w:tr></w:tbl>"
        );
        let html = to_html(&docx(&body), &Limits::default()).unwrap();
        assert!(html.contains("<tr><td>A&amp;B中 内</td></tr>"), "{html}");
    }

    #[test]
    fn a_zip_bomb_entry_is_refused_whatever_size_it_declares() {
        let big = format!("<w:p><w:r><w:t>{}</w:t></w:r></w:p>", "0".repeat(4096));
        let limits = Limits {
            max_unzipped: 1024,
            ..Limits::default()
        };
        let err = to_html(&docx(&big), &limits).unwrap_err();
        assert!(err.reason.contains("压缩炸弹"), "{}", err.reason);
    }

    #[test]
    fn broken_files_are_unreadable_with_a_reason() {
        assert!(to_html(b"PK\x03\x04garbage", &Limits::default()).is_err());
        let err = to_html(&docx("<w:p><w:r><w:t>x</w:p>"), &Limits::default()).unwrap_err();
        assert!(err.reason.contains("XML"), "{}", err.reason);
        assert_eq!(office_kind(&docx("")), Some(Kind::Docx));
        assert_eq!(office_kind(b"not a zip"), None);
    }
}
