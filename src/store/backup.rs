//! Backup and restore, the store's side: a consistent cut of the stored reports, read while
//! commits go on, and an empty data directory filled from such a cut through the commit path.
//! What the backup looks like on disk is [`crate::backup`]'s business, not this room's.
//!
//! # The cut
//!
//! A report exists once its record in the `log` does; commits run one at a time under the
//! writer lock and take increasing seqs; a record is never rewritten (only `reindex`, which
//! runs offline, rewrites reports). So the stamp S, the next seq read under the writer lock
//! ([`Store::backup_stamp`]), names a set that never changes: the records below S, every one
//! of them synced and acknowledged. Reading them ([`Store::backup_records`]) holds no lock:
//! later commits only add seqs at or above S. Cross-year findings are not stored anywhere: a
//! restore derives them again by storing the reports in the same order.
//!
//! # Restore
//!
//! Into a new or empty directory only ([`check_empty`]): a directory holding anything is
//! refused and left as it is. [`Restore::begin`] writes a marker ([`RESTORE_MARKER`]) before
//! anything else and [`Restore::finish`] removes it last; [`Store::open_with`] refuses a
//! directory holding it, so a restore cut short (a crash, a full disk, a bad record) is never
//! served as if it were whole. Records go through the normal commit path in seq order, so
//! revisions and cross-year findings come out as the original commits made them:
//!
//! - the document is stored as the backup holds it, still compressed (no second compression,
//!   and the bytes are the ones the original server stored), after a check that it
//!   decompresses to its stated length and that its SHA-256 is its id ([`check_record`]);
//! - the report is stored as parsed then, not parsed again: a restore gives back what was
//!   acknowledged even when the parser has changed since (`nianbao reindex` parses everything
//!   again, when that is wanted).
//!
//! Seqs are given anew (1, 2, ...), in the backup's order: a gap in the original seqs does not
//! carry over, the order does.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::{
    corrupt, record, seq_of, Committed, Hints, NewDocument, Store, StoreError, StoreOptions,
};
use crate::model::catalogue;
use crate::model::id::{hex_of, report_id, ID_BYTES};
use crate::pb::{BackupRecord, StoredDocument, StoredReport};

/// The file a restore keeps in the data directory until every record is stored.
pub const RESTORE_MARKER: &str = "RESTORE_UNFINISHED";

/// The largest record a backup carries, in a gRPC message or a frame of a backup file: above
/// the largest document the server takes by default (256 MiB) with its report, and low
/// enough that a damaged length never makes a reader allocate gigabytes. `serve` refuses a
/// `--max-document-bytes` whose documents would not fit ([`MAX_BACKED_UP_DOCUMENT`]).
pub const MAX_RECORD_BYTES: usize = 320 << 20;

/// The largest document a backup record holds with room for its report and framing.
pub const MAX_BACKED_UP_DOCUMENT: usize = MAX_RECORD_BYTES - (32 << 20);

/// A restore commits this many documents at a time at most (one sync each), as ingest's
/// default batch does.
const RESTORE_BATCH_DOCUMENTS: usize = 256;

/// ... and at most this many compressed bytes, so that memory stays flat whatever the
/// documents' sizes.
const RESTORE_BATCH_BYTES: usize = 64 << 20;

/// The catalogue a backup's reports were aggregated with: [`catalogue::fingerprint`] as 16
/// hex digits.
pub fn catalogue_id() -> String {
    format!("{:016x}", catalogue::fingerprint())
}

impl Store {
    /// The stamp of a backup begun now: the next seq, read under the writer lock (held only
    /// for that read). Every report below it is synced and acknowledged; see the module doc.
    pub fn backup_stamp(&self) -> Result<u64, StoreError> {
        Ok(self.writer().next_seq)
    }

    /// The reports stored below `stamp`, in seq order, as backup records: read one at a
    /// time, with no lock held.
    pub fn backup_records(&self, stamp: u64) -> Result<BackupRecords, StoreError> {
        let sled = self.sled()?;
        Ok(BackupRecords {
            log: sled.log.range(..stamp.to_be_bytes()),
            _sled: sled,
        })
    }
}

/// The backup record of the record stored under `key`.
fn backup_record(key: &[u8], bytes: &[u8]) -> Result<BackupRecord, StoreError> {
    let seq = seq_of(key)?;
    let stored = record::decode(seq, bytes)?;
    let report = record::report(&stored)?;
    let mut document = stored
        .document
        .ok_or_else(|| corrupt(&hex_of(&stored.id), "the record has no document"))?;
    document.seq = seq;
    Ok(BackupRecord {
        seq,
        id: stored.id,
        document: Some(document),
        report: Some(report),
        basis_zstd: stored.basis_zstd,
        basis_prefix: stored.basis_prefix,
    })
}

/// The records of a backup, from [`Store::backup_records`].
pub struct BackupRecords {
    log: sled::Iter,
    /// Keeps the database open (not reopened after a checkpoint) while the backup reads it;
    /// dropped after `log`.
    _sled: std::sync::Arc<super::durable::Sled>,
}

impl Iterator for BackupRecords {
    type Item = Result<BackupRecord, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.log.next()?;
        Some(
            entry
                .map_err(StoreError::from)
                .and_then(|(key, bytes)| backup_record(&key, &bytes)),
        )
    }
}

/// A backup record that does not hold what it says.
#[derive(Debug, Clone, thiserror::Error)]
#[error("record seq {seq} (id {id}): {why}")]
pub struct BadRecord {
    pub seq: u64,
    /// The id as hex (as much of it as there is).
    pub id: String,
    pub why: String,
}

fn bad(record: &BackupRecord, why: impl Into<String>) -> BadRecord {
    BadRecord {
        seq: record.seq,
        id: hex_of(&record.id),
        why: why.into(),
    }
}

/// Why a restore refused, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The data directory holds something already; it was left as it was.
    #[error("{dir}: not empty (it holds {entry:?}); restore writes only into a new or empty directory and has left this one as it was")]
    NotEmpty { dir: PathBuf, entry: String },
    /// The data directory's path is not a directory.
    #[error("{dir}: not a directory")]
    NotADirectory { dir: PathBuf },
    /// The data directory could not be read or written.
    #[error("{dir}: {error}")]
    Io { dir: PathBuf, error: std::io::Error },
    /// A record that cannot be restored.
    #[error(transparent)]
    BadRecord(#[from] BadRecord),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn io_error(dir: &Path) -> impl FnOnce(std::io::Error) -> RestoreError + '_ {
    move |error| RestoreError::Io {
        dir: dir.to_owned(),
        error,
    }
}

/// Checks that `dir` is missing or an empty directory: where a restore may write.
pub fn check_empty(dir: &Path) -> Result<(), RestoreError> {
    let mut entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            return Err(RestoreError::NotADirectory {
                dir: dir.to_owned(),
            })
        }
        Err(e) => return Err(io_error(dir)(e)),
    };
    match entries.next() {
        None => Ok(()),
        Some(entry) => Err(RestoreError::NotEmpty {
            dir: dir.to_owned(),
            entry: entry
                .map_err(io_error(dir))?
                .file_name()
                .to_string_lossy()
                .into_owned(),
        }),
    }
}

/// Refuses `dir` when a restore into it did not finish (see the module doc).
pub(super) fn refuse_unfinished_restore(dir: &Path) -> Result<(), StoreError> {
    if dir.join(RESTORE_MARKER).try_exists()? {
        return Err(StoreError::UnfinishedRestore {
            dir: dir.display().to_string(),
        });
    }
    Ok(())
}

/// Checks that `record` can be restored: it has an id, a document and a report, and the
/// document decompresses to its stated length and hashes to the id.
pub fn check_record(record: &BackupRecord) -> Result<(), BadRecord> {
    checked_content(record).map(drop)
}

/// [`check_record`], giving the document's bytes.
fn checked_content(record: &BackupRecord) -> Result<Vec<u8>, BadRecord> {
    if record.id.len() != ID_BYTES {
        return Err(bad(record, format!("an id of {} bytes", record.id.len())));
    }
    let (Some(document), Some(_)) = (&record.document, &record.report) else {
        return Err(bad(record, "no document or no report"));
    };
    let content = decompress(document).map_err(|why| bad(record, why))?;
    if report_id(&content) != hex_of(&record.id) {
        return Err(bad(
            record,
            "the document's SHA-256 is not its id: the document is damaged",
        ));
    }
    Ok(content)
}

/// The stored document's bytes, when they decompress to exactly `content_len` bytes.
fn decompress(document: &StoredDocument) -> Result<Vec<u8>, String> {
    let decoder = record::document_reader(document)
        .map_err(|e| format!("the document does not decompress: {e}"))?;
    // One byte more than stated at most: enough to tell a longer document, never a bomb.
    let mut content = Vec::new();
    decoder
        .take(document.content_len.saturating_add(1))
        .read_to_end(&mut content)
        .map_err(|e| format!("the document does not decompress: {e}"))?;
    if content.len() as u64 != document.content_len {
        return Err(format!(
            "the document decompresses to {} bytes, not the {} stated",
            content.len(),
            document.content_len
        ));
    }
    Ok(content)
}

/// `record`, checked, as a document to commit: its bytes as stored, its report as parsed.
fn to_document(record: BackupRecord) -> Result<NewDocument, BadRecord> {
    let content = checked_content(&record)?;
    let id = hex_of(&record.id);
    let (Some(document), Some(report)) = (record.document, record.report) else {
        return Err(BadRecord {
            seq: record.seq,
            id,
            why: "no document or no report".into(),
        });
    };
    let seq = record.seq;
    let bad = |why: String| BadRecord {
        seq,
        id: id.clone(),
        why,
    };
    let basis = record::basis(&StoredReport {
        id: record.id.clone(),
        basis_zstd: record.basis_zstd,
        basis_prefix: record.basis_prefix,
        document: Some(document.clone()),
        ..StoredReport::default()
    })
    .map_err(|e| bad(e.to_string()))?;
    let StoredDocument {
        content_zstd,
        content_prefix,
        content_len: _,
        source,
        agency,
        year,
        content_type,
        seq: _,
        published,
        url,
    } = document;
    let hints = Hints {
        source,
        agency,
        year,
        content_type,
        published,
        url,
    };
    let zstd = (content_zstd, content_prefix);
    NewDocument::compressed(id.clone(), &content, zstd, hints, report, basis)
        .map_err(|e| bad(e.to_string()))
}

/// A restore under way: records in, committed in batches, in seq order. See the module doc.
pub struct Restore {
    store: Store,
    dir: PathBuf,
    /// The documents of the next commit, with the seq each had in the backup.
    batch: Vec<NewDocument>,
    seqs: Vec<u64>,
    batch_bytes: usize,
    last_seq: Option<u64>,
    restored: u64,
}

impl Restore {
    /// Starts a restore into `dir`, which must be missing or empty: writes the marker, then
    /// creates the store.
    pub fn begin(dir: &Path) -> Result<Restore, RestoreError> {
        check_empty(dir)?;
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        put_marker(dir).map_err(io_error(dir))?;
        let store = Store::open_unchecked(dir, StoreOptions::default())?;
        Ok(Restore {
            store,
            dir: dir.to_owned(),
            batch: Vec::new(),
            seqs: Vec::new(),
            batch_bytes: 0,
            last_seq: None,
            restored: 0,
        })
    }

    /// Adds the next record (seqs must increase); commits when a batch is full.
    pub fn add(&mut self, record: BackupRecord) -> Result<(), RestoreError> {
        if let Some(last) = self.last_seq.filter(|&last| record.seq <= last) {
            return Err(bad(
                &record,
                format!("comes after seq {last}: the records are not in seq order"),
            )
            .into());
        }
        self.last_seq = Some(record.seq);
        let seq = record.seq;
        let document = to_document(record)?;
        self.batch_bytes += document.stored_len();
        self.batch.push(document);
        self.seqs.push(seq);
        if self.batch.len() >= RESTORE_BATCH_DOCUMENTS || self.batch_bytes >= RESTORE_BATCH_BYTES {
            self.commit()?;
        }
        Ok(())
    }

    /// Commits the batch; a document stored twice means a backup that holds it twice.
    fn commit(&mut self) -> Result<(), RestoreError> {
        let documents = std::mem::take(&mut self.batch);
        let seqs = std::mem::take(&mut self.seqs);
        self.batch_bytes = 0;
        for (result, seq) in self.store.commit(documents)?.into_iter().zip(seqs) {
            if result.committed == Committed::Duplicate {
                return Err(BadRecord {
                    seq,
                    id: result.report.id,
                    why: "the backup holds this document twice".into(),
                }
                .into());
            }
            self.restored += 1;
        }
        Ok(())
    }

    /// Commits what is left, closes the store (writing its index snapshot), settles the
    /// database and removes the marker. Returns how many reports were restored.
    pub fn finish(mut self) -> Result<u64, RestoreError> {
        self.commit()?;
        self.store.close()?;
        let Restore {
            store,
            dir,
            restored,
            ..
        } = self;
        drop(store);
        super::settle(&dir)?;
        remove_marker(&dir).map_err(io_error(&dir))?;
        Ok(restored)
    }
}

/// Writes the marker, durably, before anything else goes into `dir`.
fn put_marker(dir: &Path) -> std::io::Result<()> {
    let file = std::fs::File::create(dir.join(RESTORE_MARKER))?;
    (&file).write_all(
        b"nianbao restore is writing this data directory, or was stopped before it finished.\n\
          The server will not open it. Empty the directory and run `nianbao restore` again.\n",
    )?;
    file.sync_all()?;
    std::fs::File::open(dir)?.sync_all()
}

/// Removes the marker, durably: the restore is complete.
fn remove_marker(dir: &Path) -> std::io::Result<()> {
    std::fs::remove_file(dir.join(RESTORE_MARKER))?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::Report;
    use crate::store::report_id;

    /// A real report made the report of `district` for `year`, with `n` appended to make it
    /// distinct: repeats are revisions, neighbouring years give cross-year findings.
    fn doc(district: &str, year: u32, n: u32) -> NewDocument {
        doc_read_as(district, year, n, |_| {})
    }

    /// [`doc`], its report changed by `edit` before it is stored.
    fn doc_read_as(
        district: &str,
        year: u32,
        n: u32,
        edit: impl FnOnce(&mut Report),
    ) -> NewDocument {
        let base = include_str!("../../tests/corpus/beijing-chaoyang-district-2022.txt");
        let text = format!(
            "{}\n附：{n}\n",
            base.replace("朝阳区", district)
                .replace("2022", &year.to_string())
        );
        let (mut report, basis) =
            crate::Reader::default().read_assessed(text.as_bytes(), &crate::Hints::default());
        edit(&mut report);
        NewDocument::new(
            report_id(text.as_bytes()),
            text.as_bytes(),
            Hints {
                source: format!("{district}-{year}-{n}.txt"),
                ..Default::default()
            },
            report,
            basis,
        )
        .unwrap()
    }

    /// Every stored report as GetReport reads it (cross-year findings included), with its
    /// revisions and its document, in seq order.
    type Answer = (crate::pb::Report, Vec<String>, Vec<u8>);

    fn answers(store: &Store) -> Vec<Answer> {
        let ids: Vec<String> = {
            let index = store.index();
            (0..index.len() as u32)
                .map(|i| hex_of(index.id_bytes(i)))
                .collect()
        };
        ids.iter()
            .map(|id| {
                let report = store.get(id).unwrap().unwrap();
                let revisions = store.index().revisions(id);
                let (content, _) = store.document(id).unwrap().unwrap();
                (report, revisions, content)
            })
            .collect()
    }

    fn restore_all(dir: &Path, records: &[BackupRecord]) -> Result<u64, RestoreError> {
        let mut restore = Restore::begin(dir)?;
        for record in records {
            restore.add(record.clone())?;
        }
        restore.finish()
    }

    #[test]
    fn a_restore_gives_back_the_cut_with_its_revisions_and_cross_year_findings() {
        let dirs = tempfile::tempdir().unwrap();
        let store = Store::open(&dirs.path().join("live")).unwrap();
        store
            .commit(vec![
                doc("甲区", 2020, 1),
                doc("甲区", 2021, 1),
                doc("乙区", 2021, 1),
            ])
            .unwrap();
        // A revision of 甲区 2020 rewrites the cross-year findings of its 2021.
        store.commit(vec![doc("甲区", 2020, 2)]).unwrap();
        let at_stamp = answers(&store);
        let stamp = store.backup_stamp().unwrap();

        // Commits after the stamp: a report of 乙区 2020 and another revision of 甲区
        // 2020 rewrite findings of reports in the cut; none of it is in the backup.
        store
            .commit(vec![doc("乙区", 2020, 1), doc("甲区", 2020, 3)])
            .unwrap();
        assert_ne!(answers(&store)[..at_stamp.len()], at_stamp[..]);
        let records: Vec<BackupRecord> = store
            .backup_records(stamp)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(records.len(), at_stamp.len());
        assert_eq!(
            records.iter().map(|r| r.seq).collect::<Vec<_>>(),
            (1..stamp).collect::<Vec<_>>()
        );

        let restored_dir = dirs.path().join("restored");
        assert_eq!(restore_all(&restored_dir, &records).unwrap(), 4);
        assert!(!restored_dir.join(RESTORE_MARKER).exists());
        let restored = Store::open(&restored_dir).unwrap();
        assert_eq!(answers(&restored), at_stamp);
        assert!(at_stamp
            .iter()
            .any(|(r, _, _)| r.findings.iter().any(|f| f.code == "COPIED_REPORT")));
    }

    #[test]
    fn a_restore_keeps_each_report_as_it_was_parsed_then() {
        let dirs = tempfile::tempdir().unwrap();
        let live = Store::open(&dirs.path().join("live")).unwrap();
        // A report no parser of today gives for its document: an older parser's reading.
        let then = doc_read_as("甲区", 2020, 1, |r| {
            r.agency = "an older parser's reading".into()
        });
        let id = then.id.clone();
        live.commit(vec![then]).unwrap();
        let records: Vec<BackupRecord> = live
            .backup_records(live.backup_stamp().unwrap())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let dir = dirs.path().join("restored");
        restore_all(&dir, &records).unwrap();
        let restored = Store::open(&dir).unwrap().get(&id).unwrap().unwrap();
        assert_eq!(restored.agency, "an older parser's reading");
        assert_eq!(restored, live.get(&id).unwrap().unwrap());
    }

    #[test]
    fn restore_writes_only_into_a_new_or_empty_directory() {
        let dirs = tempfile::tempdir().unwrap();
        let full = dirs.path().join("full");
        std::fs::create_dir(&full).unwrap();
        std::fs::write(full.join("keep.txt"), "mine").unwrap();
        let Err(e) = Restore::begin(&full) else {
            panic!("a directory holding a file was restored into");
        };
        assert!(
            matches!(e, RestoreError::NotEmpty { ref entry, .. } if entry == "keep.txt"),
            "{e}"
        );
        let names: Vec<_> = std::fs::read_dir(&full).unwrap().collect();
        assert_eq!(names.len(), 1);
        assert_eq!(
            std::fs::read_to_string(full.join("keep.txt")).unwrap(),
            "mine"
        );

        let file = dirs.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        assert!(matches!(
            Restore::begin(&file),
            Err(RestoreError::NotADirectory { .. })
        ));

        let empty = dirs.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        assert_eq!(restore_all(&empty, &[]).unwrap(), 0);
        assert_eq!(Store::open(&empty).unwrap().index().len(), 0);
    }

    #[test]
    fn an_unfinished_restore_is_never_opened() {
        let dirs = tempfile::tempdir().unwrap();
        let live = Store::open(&dirs.path().join("live")).unwrap();
        live.commit(vec![doc("甲区", 2020, 1)]).unwrap();
        let records: Vec<BackupRecord> = live
            .backup_records(live.backup_stamp().unwrap())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let dir = dirs.path().join("cut-short");
        let mut restore = Restore::begin(&dir).unwrap();
        restore.add(records[0].clone()).unwrap();
        drop(restore);
        let Err(e) = Store::open(&dir) else {
            panic!("an unfinished restore was opened");
        };
        assert!(matches!(e, StoreError::UnfinishedRestore { .. }), "{e}");
        assert!(e.to_string().contains("nianbao restore"), "{e}");
    }

    #[test]
    fn a_backup_that_is_not_consistent_is_refused() {
        let dirs = tempfile::tempdir().unwrap();
        let live = Store::open(&dirs.path().join("live")).unwrap();
        live.commit(vec![doc("甲区", 2020, 1), doc("甲区", 2021, 1)])
            .unwrap();
        let records: Vec<BackupRecord> = live
            .backup_records(live.backup_stamp().unwrap())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();

        // Out of order.
        let swapped = [records[1].clone(), records[0].clone()];
        let e = restore_all(&dirs.path().join("swapped"), &swapped).unwrap_err();
        assert!(e.to_string().contains("not in seq order"), "{e}");

        // The same document twice.
        let mut again = records[0].clone();
        again.seq = 5;
        let twice = [records[0].clone(), again];
        let e = restore_all(&dirs.path().join("twice"), &twice).unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");

        // A document that is not what its length or id say.
        let mut short = records[0].clone();
        short.document.as_mut().unwrap().content_len -= 1;
        assert!(check_record(&short)
            .unwrap_err()
            .why
            .contains("decompresses to"));
        let mut other = records[0].clone();
        other.id = records[1].id.clone();
        assert!(check_record(&other).unwrap_err().why.contains("not its id"));
        let mut no_report = records[0].clone();
        no_report.report = None;
        assert!(check_record(&no_report)
            .unwrap_err()
            .why
            .contains("no report"));
    }
}
