//! One document: decode -> parse -> validate. No tonic, no sled, and no I/O of its own: a
//! [`Reader`] with an OCR engine reaches tesseract through it (none by default).
//!
//! This is the only place the three steps meet, so none of them knows the others: the
//! extractor ([`crate::extract`]) turns bytes into text, the parser ([`crate::parse`]) turns
//! text into a [`Report`] with the findings of reading, and the validator
//! ([`crate::validate`]) appends the findings of the domain rules. The extractor's own notes
//! (a page cut short, a font without a map) come last.

use crate::compliance::{profile::default_profile, Basis};
use crate::extract;
use crate::model::finding::{finding, Code};
use crate::parse::{self, Hints};
use crate::pb::Report;
use crate::validate;

/// How documents are read: the OCR engine for scans and images (none: they are reported
/// unreadable), the bounds on extraction, and where extraction runs when the document's
/// kind needs its cost bounded from outside (a worker process: [`crate::extract::isolate`]; none:
/// here). The server and the command line build one.
#[derive(Clone, Default)]
pub struct Reader {
    pub ocr: Option<std::sync::Arc<dyn extract::Ocr>>,
    pub limits: extract::Limits,
    pub isolate: Option<std::sync::Arc<dyn extract::Isolate>>,
}

impl Reader {
    /// Extracts (any kind; scans through the OCR engine when there is one), parses and
    /// validates one document. A document that cannot be read gives a report holding one
    /// UNREADABLE finding.
    pub fn read(&self, bytes: &[u8], hints: &Hints) -> Report {
        report_of(self.extract(bytes, hints), hints)
    }

    /// [`Reader::read`], keeping the text the report was read from (`None` when the
    /// document could not be read): what [`crate::compliance::assess`] takes.
    pub fn read_with_text(&self, bytes: &[u8], hints: &Hints) -> (Report, Option<String>) {
        match self.extract(bytes, hints) {
            Ok(x) => {
                let text = x.text.clone();
                (report_of(Ok(x), hints), Some(text))
            }
            Err(why) => (report_of(Err(why), hints), None),
        }
    }

    /// [`Reader::read`], with what the report's own text decides of its compliance under
    /// the default profile ([`Basis::of`]): what the store keeps with a report, so that
    /// its score is finished beside its body's other years without reading it again.
    /// `None` when the document could not be read.
    pub fn read_assessed(&self, bytes: &[u8], hints: &Hints) -> (Report, Option<Basis>) {
        let (report, text) = self.read_with_text(bytes, hints);
        let basis = text.map(|text| Basis::of(&report, &text, default_profile()));
        (report, basis)
    }

    /// The text the table reader would see in `bytes`, or why there is none.
    pub fn text(&self, bytes: &[u8], hints: &Hints) -> Result<String, String> {
        self.extract(bytes, hints)
            .map(|x| x.text)
            .map_err(|u| u.reason)
    }

    /// The extraction of `bytes`: in isolation when this reader has it and the document
    /// needs it ([`extract::needs_isolation`]), else here.
    pub fn extract(
        &self,
        bytes: &[u8],
        hints: &Hints,
    ) -> Result<extract::Extracted, extract::Unreadable> {
        let request = extract::Request {
            encoding: hints.encoding.as_deref(),
            content: hints.content,
            content_type: hints.kind,
        };
        match &self.isolate {
            Some(isolate) if extract::needs_isolation(bytes, hints.kind) => {
                isolate.extract(bytes, request, &self.limits)
            }
            _ => self.extract_here(bytes, request),
        }
    }

    /// The extraction of `bytes` in this process, whatever their kind.
    pub fn extract_here(
        &self,
        bytes: &[u8],
        request: extract::Request<'_>,
    ) -> Result<extract::Extracted, extract::Unreadable> {
        extract::extract(
            bytes,
            request.encoding,
            request.content,
            request.content_type,
            self.ocr.as_deref(),
            &self.limits,
        )
    }
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("ocr", &self.ocr.is_some())
            .field("limits", &self.limits)
            .field("isolate", &self.isolate.is_some())
            .finish()
    }
}

/// Extracts, parses and validates one document, without OCR, in this process.
pub fn parse_document(bytes: &[u8], hints: &Hints) -> Report {
    Reader::default().read(bytes, hints)
}

/// The report of an extraction: parsed and validated, the extractor's notes last; or one
/// UNREADABLE finding.
fn report_of(extracted: Result<extract::Extracted, extract::Unreadable>, hints: &Hints) -> Report {
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
