//! One group commit: a batch of parsed documents written, synced, and only then put in the
//! index. On error nothing in the batch may be acknowledged.

use std::borrow::Cow;

use prost::Message;

use super::{id_key, years, DocumentHints, Store, StoreError};
use crate::model::form::body_key;
use crate::pb::{CrossYearFindings, Finding, Report, StoredDocument};

/// zstd level for stored documents: level 3 is zstd's default balance of speed and size.
const ZSTD_LEVEL: i32 = 3;

/// A parsed document on its way into the store.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub id: String,
    /// The document's length and its bytes as stored (compressed).
    content_len: u64,
    content_zstd: Vec<u8>,
    pub hints: DocumentHints,
    /// The parsed report (its `id` is set by the store).
    pub report: Report,
}

impl NewDocument {
    /// A document ready to commit. Compresses `content` here, so that callers do it on
    /// their own threads rather than in the store's one writer.
    pub fn new(
        id: String,
        content: &[u8],
        hints: DocumentHints,
        report: Report,
    ) -> Result<Self, StoreError> {
        thread_local! {
            static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
                const { std::cell::RefCell::new(None) };
        }
        let content_zstd = COMPRESSOR.with(|c| {
            let mut c = c.borrow_mut();
            if c.is_none() {
                *c = Some(zstd::bulk::Compressor::new(ZSTD_LEVEL)?);
            }
            c.as_mut().expect("set above").compress(content)
        })?;
        Ok(NewDocument {
            id,
            content_len: content.len() as u64,
            content_zstd,
            hints,
            report,
        })
    }
}

impl NewDocument {
    /// A document whose bytes are compressed already, as a backup holds them: a restore
    /// stores them as they are ([`super::backup`] checks them against the id first).
    pub(super) fn compressed(
        id: String,
        content_len: u64,
        content_zstd: Vec<u8>,
        hints: DocumentHints,
        report: Report,
    ) -> Self {
        NewDocument {
            id,
            content_len,
            content_zstd,
            hints,
            report,
        }
    }

    /// Bytes of the document as stored (compressed).
    pub(super) fn compressed_len(&self) -> usize {
        self.content_zstd.len()
    }
}

/// What committing one document did.
#[derive(Debug, Clone, PartialEq)]
pub enum Committed {
    Stored,
    Duplicate,
    /// A new version of a body's report for a year already stored.
    Revision {
        supersedes: String,
    },
}

/// One committed document: the outcome and the report as stored.
#[derive(Debug, Clone)]
pub struct CommitResult {
    pub committed: Committed,
    pub report: Report,
}

/// The reports of the batch being committed, not yet in the index, with lookups by id and
/// by body so a batch of n reports costs n lookups, not n².
#[derive(Default)]
struct Batch {
    /// (seq, report, cross-year findings), in commit order.
    reports: Vec<(u64, Report, Vec<Finding>)>,
    by_id: rustc_hash::FxHashMap<String, usize>,
    /// (agency, year) → the latest of the batch's reports of that body.
    latest: rustc_hash::FxHashMap<(String, i32), usize>,
}

impl Batch {
    fn get(&self, id: &str) -> Option<&Report> {
        self.by_id.get(id).map(|&i| &self.reports[i].1)
    }

    fn latest(&self, agency: &str, year: i32) -> Option<&Report> {
        self.latest
            .get(&(agency.to_owned(), year))
            .map(|&i| &self.reports[i].1)
    }

    fn set_cross(&mut self, id: &str, cross: Vec<Finding>) {
        if let Some(&i) = self.by_id.get(id) {
            self.reports[i].2 = cross;
        }
    }

    fn push(&mut self, seq: u64, report: Report, cross: Vec<Finding>, body: Option<(String, i32)>) {
        let i = self.reports.len();
        self.by_id.insert(report.id.clone(), i);
        if let Some(body) = body {
            self.latest.insert(body, i);
        }
        self.reports.push((seq, report, cross));
    }
}

impl Store {
    /// Commits a batch durably: every document is stored (or found a duplicate), the
    /// data are synced to disk, and only then is the index updated. On error nothing in
    /// the batch may be acknowledged.
    ///
    /// Disk full: the batch is refused before anything is written when the disk would
    /// keep too little free space, and after a failed write nothing more is written in
    /// this process (see [`super::durable`]).
    pub fn commit(&self, docs: Vec<NewDocument>) -> Result<Vec<CommitResult>, StoreError> {
        self.check_space(docs.iter().map(|d| d.content_len).sum())?;
        let result = self.commit_batch(docs);
        if let Err(e) = &result {
            self.note_failure(e);
        }
        result
    }

    fn commit_batch(&self, docs: Vec<NewDocument>) -> Result<Vec<CommitResult>, StoreError> {
        let mut writer = self.writer();
        if writer.closed {
            return Err(StoreError::Closed);
        }
        let mut next_seq = self.next_seq()?;
        let mut results = Vec::with_capacity(docs.len());
        let mut fresh = Batch::default();
        for doc in docs {
            if let Some(duplicate) = self.duplicate(&doc.id, &fresh)? {
                results.push(duplicate);
                continue;
            }
            results.push(self.write_one(doc, next_seq, &mut fresh)?);
            next_seq += 1;
        }
        self.inner
            .db
            .insert(super::NEXT_SEQ, &next_seq.to_be_bytes())?;
        self.sync()?;
        self.index_batch(fresh)?;
        self.checkpoint_if_due(&mut writer.checkpointed, next_seq);
        Ok(results)
    }

    /// The answer for a document stored already, in this batch or before it.
    fn duplicate(&self, id: &str, fresh: &Batch) -> Result<Option<CommitResult>, StoreError> {
        let report = match fresh.get(id) {
            Some(r) => r.clone(),
            None if self.contains(id) => self.get(id)?.unwrap_or_default(),
            None => return Ok(None),
        };
        Ok(Some(CommitResult {
            committed: Committed::Duplicate,
            report,
        }))
    }

    /// Writes one new document under `seq`: its document and report records, its
    /// cross-year findings and those of the year after, then its `order` entry (last: the
    /// report exists once that is written).
    fn write_one(
        &self,
        doc: NewDocument,
        seq: u64,
        fresh: &mut Batch,
    ) -> Result<CommitResult, StoreError> {
        let key = id_key(&doc.id)?;
        let mut report = doc.report;
        report.id = doc.id.clone();
        report.source = doc.hints.source.clone();
        let body = body_key(&report);
        let committed = match self.latest_before(body.as_ref(), fresh) {
            Some(prev) => Committed::Revision { supersedes: prev },
            None => Committed::Stored,
        };
        let stored = StoredDocument {
            content_len: doc.content_len,
            content_zstd: doc.content_zstd,
            source: doc.hints.source,
            agency: doc.hints.agency,
            year: doc.hints.year,
            content_type: doc.hints.content_type,
            seq,
        };
        self.inner.documents.insert(key, stored.encode_to_vec())?;
        self.inner.reports.insert(key, report.encode_to_vec())?;
        // Rule 10 against the year before, and the year after's report against this one.
        let before = match years::year_before(&report) {
            Some((agency, year)) => self.latest_report(&agency, year, fresh)?,
            None => None,
        };
        let cross = years::findings(before.as_deref(), &report);
        if let Some((agency, year)) = years::year_after(&report) {
            if let Some(next) = self.latest_report(&agency, year, fresh)? {
                let next_cross = years::findings(Some(&report), &next);
                let next_id = next.id.clone();
                self.put_cross(&id_key(&next_id)?, &next_cross)?;
                fresh.set_cross(&next_id, next_cross);
            }
        }
        self.put_cross(&key, &cross)?;
        self.inner.order.insert(seq.to_be_bytes(), &key)?;
        let result = CommitResult {
            committed,
            report: report.clone(),
        };
        fresh.push(seq, report, cross, body);
        Ok(result)
    }

    /// Writes the cross-year findings of the report under `key`.
    pub(super) fn put_cross(&self, key: &[u8], findings: &[Finding]) -> Result<(), StoreError> {
        self.inner.cross.insert(
            key,
            CrossYearFindings {
                findings: findings.to_vec(),
            }
            .encode_to_vec(),
        )?;
        Ok(())
    }

    /// Puts a synced batch in the index, then takes the rewritten cross-year findings of
    /// the years after its reports ([`years::relink`]).
    fn index_batch(&self, fresh: Batch) -> Result<(), StoreError> {
        let mut index = self.inner.index.write().unwrap_or_else(|p| p.into_inner());
        let mut touched = years::Touched::default();
        for (seq, report, cross) in &fresh.reports {
            index.insert(report, *seq, cross);
            touched.add(report);
        }
        years::relink(&mut index, &touched, |id| self.cross_of_id(id))
    }

    /// The latest stored revision of a body and year, in the batch or the index.
    fn latest_before(&self, body: Option<&(String, i32)>, fresh: &Batch) -> Option<String> {
        let (agency, year) = body?;
        if let Some(r) = fresh.latest(agency, *year) {
            return Some(r.id.clone());
        }
        self.index().latest_id(agency, *year)
    }

    /// The latest report of `agency` for `year`, from the batch or the store.
    fn latest_report<'b>(
        &self,
        agency: &str,
        year: i32,
        fresh: &'b Batch,
    ) -> Result<Option<Cow<'b, Report>>, StoreError> {
        if let Some(r) = fresh.latest(agency, year) {
            return Ok(Some(Cow::Borrowed(r)));
        }
        let id = self.index().latest_id(agency, year);
        match id {
            Some(id) => Ok(self.own_report(&id)?.map(Cow::Owned)),
            None => Ok(None),
        }
    }
}
