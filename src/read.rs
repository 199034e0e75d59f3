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
use crate::model::hints::Hints;
use crate::parse;
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
    /// the default profile ([`Basis::of`]), whatever the report is: what `nianbao reindex`
    /// keeps with every stored record it reads again. `None` when the document could not
    /// be read.
    pub fn read_assessed(&self, bytes: &[u8], hints: &Hints) -> (Report, Option<Basis>) {
        let (report, text) = self.read_with_text(bytes, hints);
        assessed(report, text)
    }

    /// [`Reader::read_assessed`] for a document on its way to the store: the report with its
    /// basis when it is to be stored, or the report with why it is refused ([`refusal`]). A
    /// refused document is not assessed: the basis is made only for a report the store keeps,
    /// and for it is the same as [`Reader::read_assessed`]'s.
    pub fn read_to_store(&self, bytes: &[u8], hints: &Hints) -> ToStore {
        let (report, text) = self.read_with_text(bytes, hints);
        match refusal(&report) {
            Some(why) => ToStore::Refused(report, why),
            None => {
                let (report, basis) = assessed(report, text);
                ToStore::Report(report, basis)
            }
        }
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
        let content_type = hints.content_type.as_str();
        match &self.isolate {
            Some(isolate) if extract::needs_isolation(bytes, content_type) => {
                isolate.extract(bytes, content_type, &self.limits)
            }
            _ => self.extract_here(bytes, content_type),
        }
    }

    /// The extraction of `bytes` in this process, whatever their kind.
    pub fn extract_here(
        &self,
        bytes: &[u8],
        content_type: &str,
    ) -> Result<extract::Extracted, extract::Unreadable> {
        extract::extract(bytes, content_type, self.ocr.as_deref(), &self.limits)
    }
}

/// A document read on its way to the store ([`Reader::read_to_store`]).
#[derive(Debug)]
pub enum ToStore {
    /// A report to store, with its basis (`None` only when there was no text, which a report
    /// not refused always has).
    Report(Report, Option<Basis>),
    /// Refused: the report as read, and why ([`refusal`]).
    Refused(Report, String),
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

/// Why a read document is refused rather than stored, if it is: the parser's NOT_A_REPORT
/// finding (no report title, no sections, no tables; see `parse::not_a_report`) or its
/// UNREADABLE finding (a broken or encrypted PDF, a zip bomb, a legacy Office file, a scan with
/// OCR off: see `extract`). The one rule: ingest answers REJECTED by it, `nianbao parse`
/// prints NOT A REPORT or UNREADABLE by it.
pub fn refusal(report: &Report) -> Option<String> {
    report.findings.iter().find_map(|f| {
        if f.code == Code::NotAReport.as_str() {
            Some(format!("not a report: {}", f.message))
        } else if f.code == Code::Unreadable.as_str() {
            Some(format!("unreadable: {}", f.message))
        } else {
            None
        }
    })
}

/// A report with its basis under the default profile, made from the text it was read from
/// (none when there was no text).
fn assessed(report: Report, text: Option<String>) -> (Report, Option<Basis>) {
    let basis = text.map(|text| Basis::of(&report, &text, default_profile()));
    (report, basis)
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
            source: hints.source.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A document ingest refuses is not assessed; a report the store keeps gets the basis
    /// `read_assessed` gives it (issue 27: the basis was made for refused documents too).
    #[test]
    fn the_basis_is_made_only_for_what_the_store_keeps() {
        let reader = Reader::default();
        let hints = Hints::default();
        let news = include_str!("../tests/corpus/negative/beijing-government-work-report-2024.txt");
        match reader.read_to_store(news.as_bytes(), &hints) {
            ToStore::Refused(report, why) => {
                assert_eq!(Some(why), refusal(&report));
                assert!(reader.read_assessed(news.as_bytes(), &hints).1.is_some());
            }
            ToStore::Report(..) => panic!("a government work report is not a yearly report"),
        }
        let text = include_str!("../tests/corpus/beijing-chaoyang-district-2022.txt");
        match reader.read_to_store(text.as_bytes(), &hints) {
            ToStore::Report(report, basis) => {
                assert!(basis.is_some());
                assert_eq!(
                    (report, basis),
                    reader.read_assessed(text.as_bytes(), &hints)
                );
            }
            ToStore::Refused(_, why) => panic!("a yearly report refused: {why}"),
        }
        let unreadable = b"%PDF-1.4 cut short";
        assert!(matches!(
            reader.read_to_store(unreadable, &hints),
            ToStore::Refused(_, why) if why.starts_with("unreadable")
        ));
    }
}
