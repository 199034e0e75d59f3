//! XLSX: the zip checked before calamine reads it, and the shared strings' stated count
//! against the part that holds them.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Reader, Xlsx, XlsxError};
use quick_xml::events::Event;

use super::book::{ref_text, Book};
use super::{broken, worksheets, ENCRYPTED};
use crate::extract::zipped::Zip;
use crate::extract::{Limits, Unreadable};

pub(super) fn xlsx(bytes: &[u8], limits: &Limits, book: &mut Book) -> Result<(), Unreadable> {
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
