//! Where the server's answers go: the journal of answered documents (one
//! `id<TAB>path[<TAB>rejected: reason]` line per file, read back by a re-run), the
//! [`Summary`], and the progress bar.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use super::{Pending, Repeat, Summary, UploadError};
use crate::pb::{IngestResult, Outcome};

/// The start of the reason journaled for a file too large to send: a re-run checks such a
/// file again against the server's limits instead of taking the journal's word.
pub(super) const NOT_SENT: &str = "not sent: ";

/// The journal: id → `None` when stored, `Some(reason)` when rejected.
pub(super) fn read_journal(path: &Path) -> Result<HashMap<String, Option<String>>, UploadError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text
            .lines()
            .filter_map(|l| {
                let mut parts = l.splitn(3, '\t');
                let id = parts.next().filter(|id| id.len() == 64)?;
                let _path = parts.next();
                let rejected = parts
                    .next()
                    .and_then(|r| r.strip_prefix("rejected: "))
                    .map(str::to_owned);
                Some((id.to_owned(), rejected))
            })
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashMap::new()),
        Err(error) => Err(UploadError::Journal {
            path: path.to_owned(),
            error,
        }),
    }
}

/// Where answers go: the summary, a journal line per file, the progress bar.
pub(super) struct Answers<W: Write> {
    summary: Summary,
    pub(super) journal: W,
    bar: indicatif::ProgressBar,
    started: Instant,
    sent_bytes: u64,
}

impl<W: Write> Answers<W> {
    pub(super) fn new(summary: Summary, journal: W, bar: indicatif::ProgressBar) -> Answers<W> {
        Answers {
            summary,
            journal,
            bar,
            started: Instant::now(),
            sent_bytes: 0,
        }
    }

    /// The server's answer for `doc`: its first file's, and its repeats'.
    pub(super) fn answer(&mut self, doc: &Pending, result: &IngestResult) {
        record(&mut self.summary, result);
        if let Some(reason) = rejection(result) {
            let file = (doc.path.clone(), reason.to_owned());
            self.summary.rejected_files.push(file);
        }
        self.journal_line(&doc.id, &doc.path, result);
        for path in &doc.repeats {
            let rejected = rejection(result).map(str::to_owned);
            match &rejected {
                Some(reason) => *self.summary.rejected.entry(reason.clone()).or_default() += 1,
                None => self.summary.duplicate += 1,
            }
            self.summary.repeats.push(Repeat {
                path: path.clone(),
                first: doc.path.clone(),
                rejected,
            });
            self.journal_line(&doc.id, path, result);
        }
        self.sent_bytes += doc.len;
        self.bar.inc(doc.files());
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = self.sent_bytes as f64 / 1e6 / secs;
        self.bar.set_message(format!("{rate:.1} MB/s"));
    }

    /// `doc` is too large for the server: rejected here (with its repeats), never sent.
    pub(super) fn not_sent(&mut self, doc: &Pending, reason: String) {
        let result = IngestResult {
            outcome: Outcome::Rejected as i32,
            id: doc.id.clone(),
            reason,
            ..Default::default()
        };
        self.answer(doc, &result);
    }

    /// `doc` and its repeats were rejected in an earlier run, for `reason`, and would be
    /// again.
    pub(super) fn earlier(&mut self, doc: Pending, reason: &str) {
        self.bar.inc(doc.files());
        for path in std::iter::once(doc.path).chain(doc.repeats) {
            self.summary.rejected_earlier(path, reason, 1);
        }
    }

    /// `doc` was never answered: nor were its repeats.
    pub(super) fn unacknowledged(&mut self, doc: Pending, why: &str) {
        let unacknowledged = &mut self.summary.unacknowledged;
        unacknowledged.push((doc.path, why.to_owned()));
        unacknowledged.extend(doc.repeats.into_iter().map(|p| (p, why.to_owned())));
    }

    /// Appends `path`'s answer to the journal (best effort: a lost line only means that a
    /// re-run sends the file again).
    fn journal_line(&mut self, id: &str, path: &Path, result: &IngestResult) {
        let path = path.display();
        let _ = match rejection(result) {
            Some(reason) => {
                let reason = reason.replace(['\t', '\n'], " ");
                writeln!(self.journal, "{id}\t{path}\trejected: {reason}")
            }
            None => writeln!(self.journal, "{id}\t{path}"),
        };
    }

    pub(super) fn flush(&mut self) {
        let _ = self.journal.flush();
    }

    pub(super) fn finish(mut self) -> Summary {
        self.flush();
        self.bar.finish_and_clear();
        self.summary
    }
}

/// The reason of a rejection; `None` for an answer that stored or found the document.
fn rejection(result: &IngestResult) -> Option<&str> {
    match Outcome::try_from(result.outcome).unwrap_or(Outcome::Unspecified) {
        Outcome::Stored | Outcome::Duplicate | Outcome::Revision | Outcome::Rendition => None,
        Outcome::Rejected | Outcome::Unspecified => Some(&result.reason),
    }
}

fn record(summary: &mut Summary, result: &IngestResult) {
    match Outcome::try_from(result.outcome).unwrap_or(Outcome::Unspecified) {
        Outcome::Stored => summary.stored += 1,
        Outcome::Duplicate => summary.duplicate += 1,
        Outcome::Revision => summary.revision += 1,
        Outcome::Rendition => summary.rendition += 1,
        Outcome::Rejected | Outcome::Unspecified => {
            *summary.rejected.entry(result.reason.clone()).or_default() += 1
        }
    }
}
