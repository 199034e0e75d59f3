//! Any document to the text the reader reads. PURE: bytes in, text out; OCR, which needs an
//! outside engine, comes in through the [`Ocr`] trait.
//!
//! Owns the kind of a document ([`Kind`], from its bytes, then the client's content type)
//! and turns every kind into one form: lines of text, table rows as tab-separated cells.
//! Text and HTML go through [`crate::decode`]; PDF through glyph positions ([`pdf`]); Word
//! (DOCX) through its table XML with the merges expanded ([`docx`]); spreadsheets (XLSX, and
//! XLS/ET in an OLE2 file) through their cells as HTML tables ([`sheet`]); OFD through its
//! characters' positions like a PDF's glyphs ([`ofd`]); scans through OCR words placed like
//! glyphs ([`layout`]). A file none of these can read is [`Unreadable`] with the reason,
//! which the service rejects it with.

pub mod docx;
pub mod layout;
pub mod ofd;
pub mod pdf;
pub mod sheet;
mod zipped;

use crate::decode::{self, ContentHint};
use crate::model::finding::Code;

/// What a document is, by its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Html,
    Pdf,
    Docx,
    /// Legacy Word (OLE2 compound file).
    Doc,
    Xlsx,
    /// Legacy Excel and Kingsoft ET (BIFF in an OLE2 compound file).
    Xls,
    /// OFD (GB/T 33190), China's fixed-layout format.
    Ofd,
    Image,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Html => "html",
            Kind::Pdf => "pdf",
            Kind::Docx => "docx",
            Kind::Doc => "doc",
            Kind::Xlsx => "xlsx",
            Kind::Xls => "xls",
            Kind::Ofd => "ofd",
            Kind::Image => "image",
        }
    }

    /// The kind a file name's extension promises (the uploader picks files by it).
    pub fn from_extension(ext: &str) -> Option<Kind> {
        Some(match ext.to_ascii_lowercase().as_str() {
            "txt" | "text" => Kind::Text,
            "html" | "htm" | "shtml" | "xhtml" => Kind::Html,
            // Pages saved under the name of the script that served them.
            "jsp" | "jspx" | "asp" | "aspx" | "php" | "do" | "action" => Kind::Html,
            "pdf" => Kind::Pdf,
            "docx" => Kind::Docx,
            "doc" => Kind::Doc,
            "xlsx" | "xlsm" => Kind::Xlsx,
            "xls" | "et" | "ett" => Kind::Xls,
            "ofd" => Kind::Ofd,
            "png" | "jpg" | "jpeg" | "tif" | "tiff" | "bmp" | "gif" | "webp" => Kind::Image,
            _ => return None,
        })
    }

    /// The MIME type of this kind, as the uploader names it in `Document.content_type`.
    pub fn mime(self) -> &'static str {
        match self {
            Kind::Text => "text/plain",
            Kind::Html => "text/html",
            Kind::Pdf => "application/pdf",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind::Doc => "application/msword",
            Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Kind::Xls => "application/vnd.ms-excel",
            Kind::Ofd => "application/ofd",
            Kind::Image => "image",
        }
    }

    /// The kind a MIME type (or a bare name such as "pdf") names, if it names one.
    pub fn from_content_type(ct: &str) -> Option<Kind> {
        let ct = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        Some(match ct.as_str() {
            "text" | "text/plain" => Kind::Text,
            "html" | "text/html" | "application/xhtml+xml" => Kind::Html,
            "pdf" | "application/pdf" => Kind::Pdf,
            "docx" | "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
                Kind::Docx
            }
            "doc" | "application/msword" => Kind::Doc,
            "xlsx" | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
                Kind::Xlsx
            }
            "xls" | "application/vnd.ms-excel" => Kind::Xls,
            "ofd" | "application/ofd" => Kind::Ofd,
            "image" => Kind::Image,
            other if other.starts_with("image/") => Kind::Image,
            _ => return None,
        })
    }
}

const OLE2: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// The kind of `bytes`. The bytes decide where they are plain about it (a PDF header, a zip
/// holding word/document.xml, an image signature); the content type only tells text from
/// HTML and a legacy Word file from a legacy Excel one.
pub fn detect(bytes: &[u8], content_type: Option<Kind>) -> Kind {
    let head = &bytes[..bytes.len().min(1024)];
    if memchr::memmem::find(head, b"%PDF-").is_some() {
        return Kind::Pdf;
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return match docx::office_kind(bytes) {
            Some(kind) => kind,
            None if ofd::is_ofd(bytes) => Kind::Ofd,
            None => content_type.unwrap_or(Kind::Docx),
        };
    }
    if bytes.starts_with(OLE2) {
        return match content_type {
            Some(Kind::Xls | Kind::Xlsx) => Kind::Xls,
            Some(Kind::Doc | Kind::Docx) => Kind::Doc,
            // The stream names are UTF-16 in the directory: "Workbook" / "WordDocument".
            _ if utf16_contains(bytes, "Workbook") || utf16_contains(bytes, "Book") => Kind::Xls,
            _ => Kind::Doc,
        };
    }
    if is_image(head) {
        return Kind::Image;
    }
    match content_type {
        Some(k @ (Kind::Text | Kind::Html)) => k,
        _ => Kind::Text,
    }
}

fn utf16_contains(bytes: &[u8], name: &str) -> bool {
    let needle: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    memchr::memmem::find(bytes, &needle).is_some()
}

fn is_image(head: &[u8]) -> bool {
    head.starts_with(b"\x89PNG\r\n\x1a\n")
        || head.starts_with(&[0xFF, 0xD8, 0xFF])
        || head.starts_with(b"GIF87a")
        || head.starts_with(b"GIF89a")
        || head.starts_with(b"II*\0")
        || head.starts_with(b"MM\0*")
        || head.starts_with(b"BM")
        || (head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP")
}

/// Bounds on what one document may cost to extract.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_pages: usize,
    /// Glyphs read from one PDF; the pages after the budget are left unread, with a note.
    pub max_glyphs: usize,
    /// Bytes one zip entry (or all entries read) may decompress to.
    pub max_unzipped: u64,
    /// Cells read from one spreadsheet (and the area its sheets may span): a report's
    /// tables fill a few thousand.
    pub max_cells: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pages: 500,
            max_glyphs: 2_000_000,
            max_unzipped: 64 << 20,
            max_cells: 100_000,
        }
    }
}

/// A finding the extraction makes about the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub code: Code,
    pub message: String,
}

/// Why a document cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub reason: String,
}

impl Unreadable {
    pub fn new(reason: impl Into<String>) -> Unreadable {
        Unreadable {
            reason: reason.into(),
        }
    }
}

/// One recognised word of a scanned page, in pixels of the page image.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    pub left: f32,
    pub top: f32,
    pub width: f32,
    pub height: f32,
}

/// An OCR engine: the words of each page of a scanned document (an image file, or the
/// pages of a PDF given by number).
pub trait Ocr: Send + Sync {
    fn image(&self, bytes: &[u8]) -> Result<Vec<Word>, String>;
    fn pdf_pages(&self, bytes: &[u8], pages: &[usize]) -> Result<Vec<Vec<Word>>, String>;
}

/// The text of a document, and what reading it found.
#[derive(Debug)]
pub struct Extracted {
    pub text: String,
    pub kind: Kind,
    /// The text comes from OCR (ours or a scanner's invisible layer): a figure may be
    /// misread, so the reader states only the figures its tables' rules confirm.
    pub ocr: bool,
    pub notes: Vec<Note>,
}

/// The text of `bytes`, whatever their kind.
pub fn extract(
    bytes: &[u8],
    encoding: Option<&str>,
    content: ContentHint,
    content_type: Option<Kind>,
    ocr: Option<&dyn Ocr>,
    limits: &Limits,
) -> Result<Extracted, Unreadable> {
    let kind = detect(bytes, content_type);
    let plain = |text: String, notes| Extracted {
        text,
        kind,
        ocr: false,
        notes,
    };
    match kind {
        Kind::Text | Kind::Html => {
            let content = match (content, kind) {
                (ContentHint::Unknown, Kind::Html) if content_type.is_some() => ContentHint::Html,
                (c, _) => c,
            };
            let d = decode::decode(bytes, encoding, content);
            let mut notes = Vec::new();
            if d.had_errors {
                notes.push(Note {
                    code: Code::EncodingErrors,
                    message: format!("部分字节不是合法的 {} 编码，已替换", d.encoding),
                });
            }
            Ok(Extracted {
                text: d.text,
                kind: if d.html { Kind::Html } else { Kind::Text },
                ocr: false,
                notes,
            })
        }
        Kind::Pdf => {
            let read = guarded(|| pdf::extract(bytes, limits))?;
            let mut notes = read.notes;
            let mut page_texts = read.page_texts;
            let mut ocr_used = read.ocr_layer;
            // With OCR on, a scanner's invisible text layer is read again by our engine, whose
            // ruling-line removal suits tables: on the Huai'an scanned page the scanner's layer
            // gives no confirmed figure, ours 87.
            let mut to_read = read.scanned_pages.clone();
            if ocr.is_some() {
                to_read.extend(&read.layer_pages);
                to_read.sort_unstable();
            }
            if !to_read.is_empty() {
                match ocr {
                    Some(engine) => {
                        let pages = engine
                            .pdf_pages(bytes, &to_read)
                            .map_err(|e| Unreadable::new(format!("OCR 失败：{e}")))?;
                        for (&index, words) in to_read.iter().zip(pages) {
                            if let Some(slot) = page_texts.get_mut(index) {
                                slot.clear();
                                layout::page_text(words_to_pieces(words), slot);
                            }
                        }
                        ocr_used = true;
                    }
                    None => notes.push(Note {
                        code: Code::TableMissing,
                        message: format!(
                            "PDF 共 {} 页，其中 {} 页是扫描图像、没有文字层；未启用 OCR，这些页未读",
                            read.pages,
                            read.scanned_pages.len()
                        ),
                    }),
                }
            }
            let text = page_texts.concat();
            if text.trim().is_empty() && ocr.is_none() && !read.scanned_pages.is_empty() {
                return Err(Unreadable::new(
                    "PDF 是扫描图像，没有文字层；本服务未启用 OCR（见 README：--features ocr）",
                ));
            }
            let text = decode::normalize(&text);
            Ok(Extracted {
                text,
                kind,
                ocr: ocr_used,
                notes,
            })
        }
        Kind::Docx => {
            let html = guarded(|| docx::to_html(bytes, limits))?;
            let d = decode::decode(html.as_bytes(), None, ContentHint::Html);
            Ok(plain(d.text, Vec::new()))
        }
        Kind::Image => match ocr {
            Some(engine) => {
                let words = engine
                    .image(bytes)
                    .map_err(|e| Unreadable::new(format!("OCR 失败：{e}")))?;
                let mut text = String::new();
                layout::page_text(words_to_pieces(words), &mut text);
                let text = decode::normalize(&text);
                Ok(Extracted {
                    text,
                    kind,
                    ocr: true,
                    notes: Vec::new(),
                })
            }
            None => Err(Unreadable::new(
                "图像文件需要 OCR 才能读取；本服务未启用 OCR（见 README：--features ocr）",
            )),
        },
        Kind::Doc => Err(Unreadable::new(
            "旧版 Word 文件（.doc）暂不能读取：请另存为 .docx 或 PDF 后上传",
        )),
        Kind::Xls | Kind::Xlsx => {
            let read = guarded(|| sheet::to_html(bytes, kind, limits))?;
            let d = decode::decode(read.html.as_bytes(), None, ContentHint::Html);
            Ok(plain(d.text, read.notes))
        }
        Kind::Ofd => {
            let read = guarded(|| ofd::extract(bytes, limits))?;
            let text = decode::normalize(&read.page_texts.concat());
            Ok(Extracted {
                text,
                kind,
                ocr: read.ocr_layer,
                notes: read.notes,
            })
        }
    }
}

/// Runs a third-party extractor so that a panic in it becomes an unreadable document
/// instead of taking the process down.
fn guarded<T>(f: impl FnOnce() -> Result<T, Unreadable>) -> Result<T, Unreadable> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(Unreadable::new(
            "文件结构异常，解析器无法读取（提取时出错，已拒绝该文件）",
        ))
    })
}

/// OCR words as pieces: the word's height stands for the font size.
fn words_to_pieces(words: Vec<Word>) -> Vec<Piece> {
    words
        .into_iter()
        .map(|w| Piece {
            text: w.text,
            x0: w.left,
            x1: w.left + w.width,
            y: w.top + w.height,
            size: w.height,
        })
        .collect()
}

use layout::Piece;
