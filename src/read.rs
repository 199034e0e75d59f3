//! One document: decode -> parse -> validate. No tonic, no sled, and no I/O of its own: a
//! [`Reader`] with an OCR engine reaches tesseract through it (none by default).
//!
//! This is the only place the three steps meet, so none of them knows the others: the
//! extractor ([`crate::extract`]) turns bytes into text, the parser ([`crate::parse`]) turns
//! text into a [`Report`] with the findings of reading, and the validator
//! ([`crate::validate`]) appends the findings of the domain rules. The extractor's own notes
//! (a page cut short, a font without a map) come last.

use crate::extract;
use crate::model::finding::{finding, Code};
use crate::parse::{self, Hints};
use crate::pb::Report;
use crate::validate;

/// How documents are read: the OCR engine for scans and images (none: they are reported
/// unreadable) and the bounds on extraction. The server and the command line build one.
#[derive(Clone, Default)]
pub struct Reader {
    pub ocr: Option<std::sync::Arc<dyn extract::Ocr>>,
    pub limits: extract::Limits,
}

impl Reader {
    /// [`parse_document_with`] this reader's OCR and limits.
    pub fn read(&self, bytes: &[u8], hints: &Hints) -> Report {
        parse_document_with(bytes, hints, self.ocr.as_deref(), &self.limits)
    }

    /// The text the table reader would see in `bytes`, or why there is none.
    pub fn text(&self, bytes: &[u8], hints: &Hints) -> Result<String, String> {
        extract::extract(
            bytes,
            hints.encoding.as_deref(),
            hints.content,
            hints.kind,
            self.ocr.as_deref(),
            &self.limits,
        )
        .map(|x| x.text)
        .map_err(|u| u.reason)
    }
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("ocr", &self.ocr.is_some())
            .field("limits", &self.limits)
            .finish()
    }
}

/// Extracts, parses and validates one document, without OCR.
pub fn parse_document(bytes: &[u8], hints: &Hints) -> Report {
    parse_document_with(bytes, hints, None, &extract::Limits::default())
}

/// Extracts (any kind; scans through `ocr` when given), parses and validates one document.
/// A document that cannot be read gives a report holding one UNREADABLE finding.
pub fn parse_document_with(
    bytes: &[u8],
    hints: &Hints,
    ocr: Option<&dyn extract::Ocr>,
    limits: &extract::Limits,
) -> Report {
    let extracted = extract::extract(
        bytes,
        hints.encoding.as_deref(),
        hints.content,
        hints.kind,
        ocr,
        limits,
    );
    match extracted {
        Ok(x) => {
            let mut report = parse::parse_text_as(&x.text, hints, x.ocr);
            validate::validate(&mut report);
            for note in x.notes {
                report
                    .findings
                    .push(finding(note.code, "", None, None, note.message));
            }
            report
        }
        Err(why) => Report {
            source: hints.source.clone().unwrap_or_default(),
            agency: hints.agency.clone().unwrap_or_default(),
            year: hints.year,
            findings: vec![finding(Code::Unreadable, "", None, None, why.reason)],
            ..Report::default()
        },
    }
}

/// Parses and validates normalised text (see [`crate::decode::normalize`]): what
/// [`parse_document`] does once the bytes are text.
pub fn read_text(text: &str, hints: &Hints) -> Report {
    let mut report = parse::parse_text(text, hints);
    validate::validate(&mut report);
    report
}
