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
//!
//! Its parts: [`mod@xlsx`], [`mod@xls`] (with the BIFF checks), and the shared HTML [`book`].

mod book;
#[cfg(test)]
mod tests;
mod xls;
mod xlsx;

use calamine::{Sheet, SheetType, SheetVisible};

use super::{Kind, Limits, Note, Unreadable};
use book::Book;
use xls::xls;
use xlsx::xlsx;

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

/// The names of the visible worksheets, in workbook order (a hidden sheet often keeps a
/// draft's figures; a chart sheet has no cells).
fn worksheets(sheets: &[Sheet]) -> Vec<String> {
    sheets
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet && s.visible == SheetVisible::Visible)
        .map(|s| s.name.clone())
        .collect()
}
