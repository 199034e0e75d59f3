//! One group commit: a batch of parsed documents written (one record each), synced, and only
//! then put in the index. On error nothing in the batch may be acknowledged.

use super::{id_key, record, years, Hints, Store, StoreError};
use crate::compliance::Basis;
use crate::index::Placed;
use crate::model::id::IdBytes;
use crate::pb::{Report, StoredDocument};

/// Reports whose scores are kept for a replay in one entry by default
/// ([`super::StoreOptions::keep_scores_every`]): a replay after a crash computes the scores
/// of fewer than this many (~0.6 ms each at 10k), and the store writes one entry of ~18 KB
/// for as many records (an entry a commit cost 650 bytes of disk a report at 10k; larger
/// entries go to sled's blob files, rewritten whole as the tree's nodes change).
pub(super) const KEEP_EVERY: usize = 256;

/// A parsed document on its way into the store: its record made already, on the caller's
/// thread, so the store's one writer only writes it.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub id: String,
    /// The document's length before compression.
    content_len: u64,
    /// The record to store ([`record`]).
    record: Vec<u8>,
    /// The report as it is stored (id and source set), in `record` already.
    report: Report,
    /// Its compliance basis, in `record` already.
    basis: Option<Basis>,
}

impl NewDocument {
    /// A document ready to commit. Compresses `content` and the report here, so that
    /// callers do it on their own threads rather than in the store's one writer.
    pub fn new(
        id: String,
        content: &[u8],
        hints: Hints,
        report: Report,
        basis: Option<Basis>,
    ) -> Result<Self, StoreError> {
        let (content_zstd, prefix) = record::compress(content)?;
        NewDocument::stored(id, content, (content_zstd, prefix), hints, report, basis)
    }

    /// A document whose bytes are compressed already, as a backup holds them: a restore
    /// stores them as they are ([`super::backup`] checks them against the id first).
    pub(super) fn compressed(
        id: String,
        content: &[u8],
        zstd: (Vec<u8>, u32),
        hints: Hints,
        report: Report,
        basis: Option<Basis>,
    ) -> Result<Self, StoreError> {
        NewDocument::stored(id, content, zstd, hints, report, basis)
    }

    /// The document of bytes `content`, compressed to `content_zstd` against its
    /// `content_prefix` ([`record::compress`]).
    fn stored(
        id: String,
        content: &[u8],
        (content_zstd, content_prefix): (Vec<u8>, u32),
        hints: Hints,
        mut report: Report,
        basis: Option<Basis>,
    ) -> Result<Self, StoreError> {
        let key: IdBytes = id_key(&id)?;
        let content_len = content.len() as u64;
        report.id = id.clone();
        report.source = hints.source.clone();
        let document = StoredDocument {
            content_zstd,
            content_len,
            source: hints.source,
            agency: hints.agency,
            year: hints.year,
            content_type: hints.content_type,
            seq: 0,
            published: hints.published,
            url: hints.url,
            content_prefix,
        };
        let record = record::encode(&key, &report, basis.as_ref(), document, content)?;
        Ok(NewDocument {
            id,
            content_len,
            record,
            report,
            basis,
        })
    }

    /// The report as it is stored (id and source set).
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// Bytes of the record as stored.
    pub(super) fn stored_len(&self) -> usize {
        self.record.len()
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
    /// Another rendition of a report stored already (the same body, year and figures).
    Rendition {
        of: String,
    },
}

/// One committed document: the outcome and the report as stored.
#[derive(Debug, Clone)]
pub struct CommitResult {
    pub committed: Committed,
    pub report: Report,
}

/// The reports of the batch being committed, not yet in the index, with lookups by id and
/// by body so a batch of n reports costs n lookups, not n². Reports stay in the batch's
/// results (what the caller gets back); this names them there.
#[derive(Default)]
struct Batch {
    /// (seq, position in the results) of each stored report, in commit order.
    stored: Vec<(u64, usize)>,
    /// Report id → position in the results.
    by_id: rustc_hash::FxHashMap<String, usize>,
}

impl Batch {
    fn push(&mut self, seq: u64, at: usize, id: &str) {
        self.stored.push((seq, at));
        self.by_id.insert(id.to_owned(), at);
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
        let sled = self.sled()?;
        let mut next_seq = writer.next_seq;
        let mut results = Vec::with_capacity(docs.len());
        let mut fresh = Batch::default();
        let mut bases = Vec::with_capacity(docs.len());
        for doc in docs {
            if let Some(duplicate) = self.duplicate(&doc.id, &fresh, &results)? {
                results.push(duplicate);
                continue;
            }
            sled.log.insert(next_seq.to_be_bytes(), doc.record)?;
            fresh.push(next_seq, results.len(), &doc.id);
            bases.push(doc.basis);
            // Where it stands among its body's reports is the index's to say, below.
            results.push(CommitResult {
                committed: Committed::Stored,
                report: doc.report,
            });
            next_seq += 1;
        }
        drop(sled);
        self.sync()?;
        writer.next_seq = next_seq;
        let mut kept = Vec::with_capacity(fresh.stored.len());
        {
            let mut index = self.inner.index.write().unwrap_or_else(|p| p.into_inner());
            for (&(seq, at), basis) in fresh.stored.iter().zip(bases) {
                let stored = years::Stored {
                    report: &results[at].report,
                    basis: basis.as_ref(),
                    seq,
                };
                let records = super::Committing {
                    store: self,
                    recent: std::cell::RefCell::new(&mut writer.recent),
                };
                let (placed, scored) = years::insert(&mut index, stored, &records, None);
                // What a read of its record would give: the report as encoded, the basis
                // as its JSON reads back (see `recent`).
                let compared = std::sync::Arc::new((results[at].report.clone(), basis));
                writer.recent.put(seq, compared);
                results[at].committed = match placed {
                    Some(Placed::Revision { supersedes }) => Committed::Revision { supersedes },
                    Some(Placed::Rendition { of, .. }) => Committed::Rendition { of },
                    Some(Placed::New) | None => Committed::Stored,
                };
                kept.extend(scored.map(|s| (seq, s)));
            }
        }
        self.keep_scores(&mut writer.scored, kept);
        if self.checkpoint_if_due(&mut writer.checkpointed, next_seq) {
            writer.reopen_due = true;
        }
        if writer.reopen_due {
            writer.reopen_due = !self.reopen_sled();
        }
        Ok(results)
    }

    /// Keeps what the commits of `scored` decided of the scores for a replay (see
    /// [`super::durable::Sled::kept`]): gathered in `pending`, written as one entry under its last
    /// seq once it holds [`super::StoreOptions::keep_scores_every`] reports; then entries
    /// wholly below the snapshot in place are pruned. The batch is acknowledged whatever
    /// happens here: a replay without them computes them.
    pub(super) fn keep_scores(
        &self,
        pending: &mut Vec<(u64, years::Scored)>,
        scored: Vec<(u64, years::Scored)>,
    ) {
        pending.extend(scored);
        if pending.len() >= self.inner.options.keep_scores_every.max(1) {
            self.write_kept(pending);
        }
    }

    /// Writes `pending` as one entry of kept scores (see [`Store::keep_scores`]), if it
    /// holds any, and empties it.
    pub(super) fn write_kept(&self, pending: &mut Vec<(u64, years::Scored)>) {
        let Some(&(last, _)) = pending.last() else {
            return;
        };
        let write = || -> Result<(), StoreError> {
            let kept = &self.sled()?.kept;
            kept.insert(last.to_be_bytes(), years::encode_batch(pending))?;
            let stamp = *self
                .inner
                .snapshots
                .in_place
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(stamp) = stamp {
                let old: Vec<_> = kept
                    .range(..stamp.to_be_bytes())
                    .keys()
                    .collect::<Result<_, _>>()?;
                for key in old {
                    kept.remove(key)?;
                }
            }
            Ok(())
        };
        if let Err(e) = write() {
            tracing::warn!(error = %e, "scores not kept for a replay (it will compute them)");
        }
        pending.clear();
    }

    /// The answer for a document stored already, in this batch (whose `results` so far
    /// are given) or before it.
    fn duplicate(
        &self,
        id: &str,
        fresh: &Batch,
        results: &[CommitResult],
    ) -> Result<Option<CommitResult>, StoreError> {
        let report = match fresh.by_id.get(id) {
            Some(&at) => results[at].report.clone(),
            None if self.contains(id) => self.get(id)?.unwrap_or_default(),
            None => return Ok(None),
        };
        Ok(Some(CommitResult {
            committed: Committed::Duplicate,
            report,
        }))
    }
}
