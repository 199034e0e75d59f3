//! Any document to the text the reader reads. PURE but for two parts that run programs,
//! each plugged in through a trait so that the rest never calls them: [`isolate`] (an
//! extraction in a worker process under the operating system's limits, as an [`Isolate`])
//! and `ocr` (feature `ocr`: tesseract as the [`Ocr`] engine for scans and images).
//!
//! Owns the kind of a document ([`Kind`], from its bytes, then the client's content type)
//! and turns every kind into one form: lines of text, table rows as tab-separated cells.
//! Text and HTML go through [`crate::decode`]; PDF through glyph positions ([`pdf`]); Word
//! (DOCX) through its table XML with the merges expanded ([`docx`]); Word 97–2003 and WPS
//! (.doc, .wps) through the piece table of the Word binary format ([`doc`]); RTF through its
//! control words ([`rtf`]); saved web pages (MHTML) through the page part of the MIME
//! message ([`mhtml`]); spreadsheets (XLSX, and XLS/ET in an OLE2 file) through their cells
//! as HTML tables ([`sheet`]); OFD through its characters' positions like a PDF's glyphs
//! ([`ofd`]); scans through OCR words placed like glyphs ([`layout`]). DOC, RTF, MHTML and
//! spreadsheets become HTML that the one HTML reader reads, tables as tab-separated cells. A
//! file none of these can read is [`Unreadable`] with the reason, which the service rejects
//! it with.

mod cells;
pub mod doc;
pub mod docx;
pub mod isolate;
pub mod layout;
pub mod mhtml;
#[cfg(feature = "ocr")]
pub mod ocr;
pub mod ofd;
pub mod pdf;
pub mod rtf;
pub mod sheet;
mod zipped;

use crate::decode::{self, ContentHint};
use crate::model::finding::Code;
pub use crate::model::kind::Kind;

const OLE2: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// The kind of `bytes`. The bytes decide where they are plain about it (a PDF header, a zip
/// holding word/document.xml, an OLE2 file holding a WordDocument stream, `{\rtf`, a MIME
/// message of a web page, an image signature); the content type only tells text from HTML
/// and a legacy Word file from a legacy Excel one.
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
        if utf16_contains(bytes, "WordDocument") {
            return Kind::Doc;
        }
        return match content_type {
            Some(Kind::Xls | Kind::Xlsx) => Kind::Xls,
            Some(Kind::Doc | Kind::Docx) => Kind::Doc,
            // The stream names are UTF-16 in the directory: "Workbook" / "WordDocument".
            _ if utf16_contains(bytes, "Workbook") || utf16_contains(bytes, "Book") => Kind::Xls,
            _ => Kind::Doc,
        };
    }
    if head.starts_with(b"{\\rtf") {
        return Kind::Rtf;
    }
    if mhtml::looks_like_mhtml(&bytes[..bytes.len().min(4096)]) {
        return Kind::Mhtml;
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

/// Bounds on what one document may cost to extract (sent to a worker as JSON).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    pub max_pages: usize,
    /// Glyphs read from one PDF; the pages after the budget are left unread, with a note.
    pub max_glyphs: usize,
    /// Bytes one zip entry (or all entries read) may decompress to.
    pub max_unzipped: u64,
    /// Bytes one stream of an OLE2 file (.doc, .wps) may hold to be read.
    pub max_stream: u64,
    /// Pieces of a Word binary file's piece table (a heavily edited file has thousands).
    pub max_pieces: usize,
    /// Characters of text one DOC, WPS or RTF file may give (a long report has 100,000).
    pub max_chars: usize,
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
            max_stream: 64 << 20,
            max_pieces: 1 << 18,
            max_chars: 8_000_000,
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

/// What to do when a scan meets a reader without OCR: turn it on, or (a build without the
/// engine) build it in.
const OCR_OFF: &str = if cfg!(feature = "ocr") {
    "未启用 OCR（用 --ocr 启用：serve/parse/reindex --ocr）"
} else {
    "本程序构建时未含 OCR（见 README：cargo build --release --features ocr，再用 --ocr 启用）"
};

/// What a client's content type asks of an extraction ([`crate::Hints::content_type`]): the
/// kind it names, whether text is HTML or plain, and an encoding label. The bytes win where
/// they are plain about their kind ([`detect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    pub encoding: Option<&'a str>,
    pub content: ContentHint,
    pub content_type: Option<Kind>,
}

impl<'a> Request<'a> {
    /// The request a content type makes: a MIME type or a kind's short name, then an optional
    /// `charset` parameter; or, naming no kind, a bare encoding label ("gbk").
    pub fn of(content_type: &'a str) -> Request<'a> {
        let mut parts = content_type.split(';');
        let media = parts.next().unwrap_or("").trim();
        let charset = parts.find_map(|p| {
            let (key, value) = p.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case("charset")
                .then(|| value.trim().trim_matches('"'))
                .filter(|v| !v.is_empty())
        });
        let kind = Kind::from_content_type(media);
        let (content, bare) = match (media, kind) {
            ("", _) => (ContentHint::Unknown, None),
            (_, Some(Kind::Text)) => (ContentHint::Text, None),
            (_, Some(Kind::Html)) => (ContentHint::Html, None),
            (_, Some(_)) => (ContentHint::Unknown, None),
            (label, None) => (ContentHint::Unknown, Some(label)),
        };
        Request {
            encoding: charset.or(bare),
            content,
            content_type: kind,
        }
    }
}

/// Somewhere an extraction runs with its cost bounded by the operating system: a worker
/// process with memory and CPU limits ([`isolate`]).
pub trait Isolate: Send + Sync {
    fn extract(
        &self,
        bytes: &[u8],
        content_type: &str,
        limits: &Limits,
    ) -> Result<Extracted, Unreadable>;
}

/// The largest text or HTML document read where it arrives: their readers take time and
/// memory in proportion to the bytes (a few times them), so below this a document costs
/// little. Any other document is read in isolation ([`Isolate`]).
pub const IN_PLACE_MAX_BYTES: usize = 4 << 20;

/// Whether `bytes` are to be read in isolation: every kind but text and HTML, and text or
/// HTML over [`IN_PLACE_MAX_BYTES`].
pub fn needs_isolation(bytes: &[u8], content_type: &str) -> bool {
    bytes.len() > IN_PLACE_MAX_BYTES
        || !matches!(
            detect(bytes, Request::of(content_type).content_type),
            Kind::Text | Kind::Html
        )
}

/// The text of `bytes`, whatever their kind, read as the client's `content_type` asks
/// ([`Request::of`]).
pub fn extract(
    bytes: &[u8],
    content_type: &str,
    ocr: Option<&dyn Ocr>,
    limits: &Limits,
) -> Result<Extracted, Unreadable> {
    let Request {
        encoding,
        content,
        content_type,
    } = Request::of(content_type);
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
                return Err(Unreadable::new(format!(
                    "PDF 是扫描图像，没有文字层；{}",
                    OCR_OFF
                )));
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
        Kind::Rtf => {
            let html = guarded(|| rtf::to_html(bytes, limits))?;
            let d = decode::decode(html.as_bytes(), None, ContentHint::Html);
            Ok(plain(d.text, Vec::new()))
        }
        Kind::Mhtml => {
            let (html, charset) = guarded(|| mhtml::page(bytes))?;
            let d = decode::decode(&html, charset.as_deref(), ContentHint::Html);
            let mut notes = Vec::new();
            if d.had_errors {
                notes.push(Note {
                    code: Code::EncodingErrors,
                    message: format!("部分字节不是合法的 {} 编码，已替换", d.encoding),
                });
            }
            Ok(plain(d.text, notes))
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
            None => Err(Unreadable::new(format!(
                "图像文件需要 OCR 才能读取；{}",
                OCR_OFF
            ))),
        },
        Kind::Doc => {
            let html = guarded(|| doc::to_html(bytes, limits))?;
            let d = decode::decode(html.as_bytes(), None, ContentHint::Html);
            Ok(plain(d.text, Vec::new()))
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_word_processor_files_are_known_by_their_bytes_and_names() {
        let mut ole = OLE2.to_vec();
        ole.resize(512, 0);
        ole.extend("WordDocument".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(detect(&ole, None), Kind::Doc);
        assert_eq!(detect(&ole, Some(Kind::Xls)), Kind::Doc);
        assert_eq!(detect(b"{\\rtf1\\ansi x}", Some(Kind::Text)), Kind::Rtf);
        let mht = b"From: <Saved by Blink>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related;\r\n\ttype=\"text/html\"; boundary=\"x\"\r\n\r\n";
        assert_eq!(detect(mht, None), Kind::Mhtml);
        assert_eq!(detect(b"<p>MIME-Version: 1.0</p>", None), Kind::Text);
        for (ext, kind) in [
            ("wps", Kind::Doc),
            ("WPT", Kind::Doc),
            ("dot", Kind::Doc),
            ("rtf", Kind::Rtf),
            ("mht", Kind::Mhtml),
            ("mhtml", Kind::Mhtml),
        ] {
            assert_eq!(Kind::from_extension(ext), Some(kind), "{ext}");
        }
        for kind in [Kind::Doc, Kind::Rtf, Kind::Mhtml] {
            assert_eq!(Kind::from_content_type(kind.mime()), Some(kind));
            assert_eq!(Kind::from_content_type(kind.name()), Some(kind));
        }
    }

    /// What a content type asks: a kind (MIME or short name), text or HTML, and an encoding
    /// from a charset parameter or a bare label; nothing from an empty one.
    #[test]
    fn a_content_type_names_the_kind_the_content_and_the_encoding() {
        fn ask(ct: &str) -> (Option<Kind>, ContentHint, Option<&str>) {
            let r = Request::of(ct);
            (r.content_type, r.content, r.encoding)
        }
        assert_eq!(ask(""), (None, ContentHint::Unknown, None));
        assert_eq!(
            ask("text/plain"),
            (Some(Kind::Text), ContentHint::Text, None)
        );
        assert_eq!(ask("html"), (Some(Kind::Html), ContentHint::Html, None));
        assert_eq!(
            ask("Text/HTML; Charset=\"GBK\""),
            (Some(Kind::Html), ContentHint::Html, Some("GBK"))
        );
        assert_eq!(
            ask("text/plain;format=flowed; charset=big5"),
            (Some(Kind::Text), ContentHint::Text, Some("big5"))
        );
        assert_eq!(ask("gbk"), (None, ContentHint::Unknown, Some("gbk")));
        assert_eq!(
            ask("application/pdf"),
            (Some(Kind::Pdf), ContentHint::Unknown, None)
        );
        assert_eq!(
            ask("text/html; charset="),
            (Some(Kind::Html), ContentHint::Html, None)
        );
    }

    /// A charset the client states is how text is decoded (a BOM still wins): the same GBK
    /// bytes read as GB18030 without it and as Big5 with it.
    #[test]
    fn a_stated_charset_decodes_the_text() {
        let gbk = b"\xd5\xfe\xb8\xae"; // 政府 in GBK
        let read = |ct: &str| extract(gbk, ct, None, &Limits::default()).unwrap().text;
        assert_eq!(read("text/plain").trim(), "政府");
        assert_ne!(read("text/plain; charset=big5").trim(), "政府");
    }
}
