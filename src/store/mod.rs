//! Durable storage of reports in sled, and the in-memory [`Index`] fed from it. The ONLY
//! module that names sled.
//!
//! # Key layout
//!
//! | tree  | key                    | value                                               |
//! |-------|------------------------|-----------------------------------------------------|
//! | `log` | seq (u64 big-endian)   | `StoredReport`: id, Report (zstd), document (zstd)  |
//!
//! Each report is written once, appended under the next seq: a report exists once its
//! record does. Everything else is derived from the records in seq order and kept in
//! memory: ids, revisions, cross-year findings ([`years`]), the index; the index is
//! checkpointed to a snapshot file ([`snapshots`]) and what came after the snapshot is
//! replayed by a scan of the `log` from its stamp.
//!
//! # Rooms
//!
//! - this one: open, reads (`get`, `document`), close and reindex;
//! - [`record`]: the one record of a report;
//! - [`batch`]: one group commit (one sync per batch);
//! - [`years`]: rule 10's links between neighbouring years, for commit and replay;
//! - [`recent`]: the reports committed or read last, which the next commits' scores read
//!   in hand rather than from sled;
//! - [`snapshots`]: the index's snapshot, its checkpoints and the load at open;
//! - [`durable`]: what makes a commit durable on sled 0.34, the free-space guard, and
//!   sled closed and opened again after each checkpoint;
//! - [`migrate`]: a data directory of the earlier layout (four trees) rewritten as a `log`;
//! - [`backup`]: a consistent cut of the stored reports for a backup, and a restore into an
//!   empty directory through the commit path.

pub mod backup;
mod batch;
mod durable;
mod migrate;
mod recent;
mod record;
mod snapshots;
mod years;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use crate::index::Index;
pub use crate::model::hints::Hints;
use crate::model::id::{id_bytes, IdBytes};
use crate::pb::{Report, StoredReport};
pub use batch::{CommitResult, Committed, NewDocument};
pub use durable::{settle, DEFAULT_MIN_FREE, DEFAULT_MIN_FREE_MB};
pub use snapshots::CHECKPOINT_ROWS;

/// Report ids are the model's; named here too, where the store's callers look for them.
pub use crate::model::id::report_id;

/// What can go wrong in the store. Cloneable, so one failed batch can answer each of its
/// documents with the error itself.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// sled failed (I/O underneath, or corruption it detected).
    #[error("database error: {0}")]
    Db(sled::Error),
    /// Another process holds the database (sled's lock on its file).
    #[error("{dir} is in use by another process (a nianbao serve, reindex or restore on it?): stop that one first, or give this one another --data-dir")]
    Locked { dir: String },
    /// A file system call failed (open, fsync, directory listing).
    #[error("i/o error: {0}")]
    Io(Arc<std::io::Error>),
    /// A stored record does not decode.
    #[error("corrupt record {key}: {why}")]
    Corrupt { key: String, why: String },
    /// An id that is not 64 hex digits.
    #[error("not a report id: {0:?} (want 64 hex digits)")]
    BadId(String),
    /// The store was closed (the server is stopping); nothing more is written.
    #[error("the store is closed")]
    Closed,
    /// Too little free space to commit safely; nothing of the batch was written.
    #[error("disk full: {available} bytes free on the data directory's filesystem, {needed} needed to commit safely")]
    NoSpace { available: u64, needed: u64 },
    /// An earlier write failed; sled 0.34 cannot be trusted to write again in this process
    /// (it can hang in its next flush), so nothing more is written until a restart.
    #[error("an earlier write failed ({why}); restart the server to write again")]
    Failed { why: String, disk_full: bool },
    /// A restore into this directory did not finish: not every report of its backup is there.
    #[error("{dir}: a restore into it did not finish (it holds {marker}); empty the directory and run `nianbao restore` again", marker = backup::RESTORE_MARKER)]
    UnfinishedRestore { dir: String },
}

// Not `#[from]`: the message holds sled's, and a source would print it a second time.
impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> StoreError {
        StoreError::Db(e)
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> StoreError {
        StoreError::Io(Arc::new(e))
    }
}

impl StoreError {
    /// True when the disk is full: the caller should refuse new work, not fail.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::NoSpace { .. } => true,
            StoreError::Failed { disk_full, .. } => *disk_full,
            StoreError::Io(e) => durable::is_disk_full(e),
            StoreError::Db(sled::Error::Io(e)) => durable::is_disk_full(e),
            _ => false,
        }
    }
}

fn id_key(id: &str) -> Result<IdBytes, StoreError> {
    id_bytes(id).ok_or_else(|| StoreError::BadId(id.to_owned()))
}

/// How a store is tuned; the command line sets these.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Free bytes a commit leaves on the filesystem at the least (see [`durable`]).
    pub min_free_bytes: u64,
    /// Reports between two index checkpoints at the least (see [`snapshots`]).
    pub checkpoint_rows: u64,
    /// Reports whose scores are kept for a replay in one entry ([`durable::Sled::kept`]): a replay
    /// after a crash computes the scores of fewer than this many.
    pub keep_scores_every: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            min_free_bytes: DEFAULT_MIN_FREE,
            checkpoint_rows: CHECKPOINT_ROWS,
            keep_scores_every: batch::KEEP_EVERY,
        }
    }
}

/// How [`Store::open`] got its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexLoad {
    /// From the snapshot, then `replayed` reports stored after it.
    Snapshot { replayed: u64 },
    /// From the stored reports (no snapshot, or one that does not fit).
    Rebuilt,
}

/// A cheap, cloneable handle on the database.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    /// The database and its trees ([`durable::Sled`]), taken out for each read or write.
    /// Closed and opened again after a checkpoint ([`Store::reopen_sled`]); `None` only
    /// when that open failed.
    sled: RwLock<Option<Arc<durable::Sled>>>,
    index: RwLock<Index>,
    dir: PathBuf,
    options: StoreOptions,
    synced_blobs: Mutex<HashSet<OsString>>,
    /// Set by the first failed write: the reason, and whether the disk was full.
    failed: Mutex<Option<(String, bool)>>,
    /// Serialises commits: one writer at a time keeps seq numbers and revisions in order.
    commit_lock: Mutex<Writer>,
    snapshots: Arc<snapshots::Snapshots>,
    /// How the index was loaded at open.
    loaded: std::sync::OnceLock<IndexLoad>,
}

/// What the one writer keeps.
struct Writer {
    /// True once the store is closed.
    closed: bool,
    /// The stamp of the last snapshot written or loaded; 0 when there is none.
    checkpointed: u64,
    /// The seq the next stored report gets: one past the last record's.
    next_seq: u64,
    /// What the last commits decided of the scores, not yet kept ([`Inner::sled`]'s `kept`).
    scored: Vec<(u64, years::Scored)>,
    /// True from a checkpoint until sled is opened again after it ([`Store::reopen_sled`]
    /// waits for a moment when no backup reads it).
    reopen_due: bool,
    /// The reports committed or read last, which the next commits' scores read in hand.
    recent: recent::Recent,
}

/// Where the database lives unless the command line says otherwise.
pub const DEFAULT_DATA_DIR: &str = "./data";

/// The name of the tree of records.
const LOG: &str = "log";

/// The name of the tree of scores kept for replays ([`durable::Sled::kept`]).
const KEPT: &str = "scored";

impl Store {
    /// Opens (or creates) the database under `dir` with the default options.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, StoreOptions::default())
    }

    /// Opens (or creates) the database under `dir` and loads the index. Refuses a
    /// directory a restore did not finish filling.
    pub fn open_with(dir: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        backup::refuse_unfinished_restore(dir)?;
        Store::open_unchecked(dir, options)
    }

    /// [`Store::open_with`], but a restore's own open, under its marker.
    fn open_unchecked(dir: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir)?;
        let started = std::time::Instant::now();
        let sled = durable::open_sled(dir)?;
        // sled 0.34 reads back all it logged since the database was last opened.
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            bytes = sled.db.size_on_disk().unwrap_or(0),
            "sled opened"
        );
        migrate::from_four_trees(&sled.db, &sled.log, dir)?;
        durable::sync_files(dir)?;
        let next_seq = last_seq(&sled.log)?.map_or(1, |seq| seq + 1);
        let store = Store {
            inner: Arc::new(Inner {
                sled: RwLock::new(Some(Arc::new(sled))),
                index: RwLock::new(Index::new()),
                dir: dir.to_owned(),
                options,
                synced_blobs: Mutex::new(HashSet::new()),
                failed: Mutex::new(None),
                commit_lock: Mutex::new(Writer {
                    closed: false,
                    checkpointed: 0,
                    next_seq,
                    scored: Vec::new(),
                    reopen_due: false,
                    recent: recent::Recent::default(),
                }),
                snapshots: Arc::new(snapshots::Snapshots::new(dir)),
                loaded: std::sync::OnceLock::new(),
            }),
        };
        store.inner.snapshots.remove_leftovers()?;
        let (load, stamp) = store.load_index(next_seq)?;
        if let Some(stamp) = stamp {
            store.writer().checkpointed = stamp;
        }
        let _ = store.inner.loaded.set(load);
        Ok(store)
    }

    /// How the index was loaded when the store opened.
    pub fn index_load(&self) -> IndexLoad {
        self.inner
            .loaded
            .get()
            .copied()
            .unwrap_or(IndexLoad::Rebuilt)
    }

    /// The one writer's state; held, it keeps every other commit out.
    fn writer(&self) -> MutexGuard<'_, Writer> {
        self.inner
            .commit_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Syncs, stops all further commits and writes the index snapshot. Reads still work.
    pub fn close(&self) -> Result<(), StoreError> {
        let mut writer = self.writer();
        if writer.closed {
            return Ok(());
        }
        writer.closed = true;
        // No checkpoint thread outlives the close (it would race the next open).
        self.inner.snapshots.wait();
        self.sync()?;
        let seq = writer.next_seq;
        self.write_final_snapshot(seq)?;
        writer.checkpointed = seq;
        Ok(())
    }

    /// The database and its trees, for one read or write: hold the handle only as long as
    /// that takes, since sled is opened again after a checkpoint only when no handle is
    /// out ([`Store::reopen_sled`]).
    fn sled(&self) -> Result<Arc<durable::Sled>, StoreError> {
        let slot = self.inner.sled.read().unwrap_or_else(|p| p.into_inner());
        match &*slot {
            Some(sled) => Ok(Arc::clone(sled)),
            None => Err(self.failed().unwrap_or(StoreError::Closed)),
        }
    }

    /// The record stored under `seq` (one the index names).
    fn record(&self, seq: u64) -> Result<StoredReport, StoreError> {
        match self.sled()?.log.get(seq.to_be_bytes())? {
            Some(bytes) => record::decode(seq, &bytes),
            None => Err(corrupt(
                &format!("seq {seq}"),
                "the index names a report that is not stored",
            )),
        }
    }

    /// The compliance basis stored with the report `id` (see [`crate::compliance::Basis`]);
    /// `None` when it is not stored or has none.
    pub fn basis(&self, id: &str) -> Result<Option<crate::compliance::Basis>, StoreError> {
        match self.seq_of_id(id)? {
            Some(seq) => record::basis(&self.record(seq)?),
            None => Ok(None),
        }
    }

    /// The in-memory index, for queries. Hold the guard briefly: a commit waits for it.
    pub fn index(&self) -> RwLockReadGuard<'_, Index> {
        self.inner.index.read().unwrap_or_else(|p| p.into_inner())
    }

    /// True when a report with this id is stored (and durable).
    pub fn contains(&self, id: &str) -> bool {
        self.index().contains(id)
    }

    /// The seq a report id is stored under, if it is stored.
    fn seq_of_id(&self, id: &str) -> Result<Option<u64>, StoreError> {
        id_key(id)?;
        let index = self.index();
        Ok(index.row_of(id).map(|row| index.seq(row)))
    }

    /// A stored report with every finding, its own and the cross-year ones.
    pub fn get(&self, id: &str) -> Result<Option<Report>, StoreError> {
        id_key(id)?;
        let (seq, before) = {
            let index = self.index();
            let Some(row) = index.row_of(id) else {
                return Ok(None);
            };
            (index.seq(row), index.before(row).map(|b| index.facts(b)))
        };
        let mut report = record::report(&self.record(seq)?)?;
        let cross = years::findings(before.as_ref(), &report);
        report.findings.extend(cross);
        Ok(Some(report))
    }

    /// The stored document's bytes and hints.
    pub fn document(&self, id: &str) -> Result<Option<(Vec<u8>, Hints)>, StoreError> {
        match self.seq_of_id(id)? {
            Some(seq) => Ok(Some(record::document(&self.record(seq)?)?)),
            None => Ok(None),
        }
    }

    /// Parses every stored document again with `parse` (given the hints stored with it)
    /// and rewrites its record in place, then rebuilds the index (and with it the
    /// cross-year findings). Returns how many were reparsed.
    pub fn reindex(
        &self,
        parse: impl Fn(&[u8], &Hints) -> (Report, Option<crate::compliance::Basis>),
    ) -> Result<usize, StoreError> {
        let mut writer = self.writer();
        if writer.closed {
            return Err(StoreError::Closed);
        }
        // Reports are rewritten in place, under stamps the snapshot has seen: no checkpoint
        // may be put in place after the removal (none starts: the commit lock is held).
        self.inner.snapshots.wait();
        self.inner.snapshots.remove()?;
        // The scores kept are those of the old readings: made again below.
        let sled = self.sled()?;
        sled.kept.clear()?;
        writer.scored.clear();
        writer.recent.clear();
        writer.checkpointed = 0;
        let mut index = Index::new();
        let mut count = 0;
        for entry in sled.log.range(..writer.next_seq.to_be_bytes()) {
            let (key, bytes) = entry?;
            let seq = seq_of(&key)?;
            let stored = record::decode(seq, &bytes)?;
            let (content, hints) = record::document(&stored)?;
            let (mut report, basis) = parse(&content, &hints);
            report.id = crate::model::id::hex_of(&stored.id);
            report.source = hints.source;
            let id: IdBytes = id_key(&report.id)?;
            let document = stored.document.unwrap_or_default();
            let record = record::encode(&id, &report, basis.as_ref(), document, &content)?;
            sled.log.insert(&key, record)?;
            let new = years::Stored {
                report: &report,
                basis: basis.as_ref(),
                seq,
            };
            if let (_, Some(scored)) = years::insert(&mut index, new, self, None) {
                self.keep_scores(&mut writer.scored, vec![(seq, scored)]);
            }
            count += 1;
        }
        self.write_kept(&mut writer.scored);
        self.sync()?;
        *self.inner.index.write().unwrap_or_else(|p| p.into_inner()) = index;
        Ok(count)
    }

    /// Bytes the database occupies on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.sled()
            .ok()
            .and_then(|sled| sled.db.size_on_disk().ok())
            .unwrap_or(0)
    }
}

/// The seq of the last record in `log`, if it holds any.
fn last_seq(log: &sled::Tree) -> Result<Option<u64>, StoreError> {
    log.last()?.map(|(key, _)| seq_of(&key)).transpose()
}

/// A `log` key as the seq it encodes.
fn seq_of(key: &[u8]) -> Result<u64, StoreError> {
    Ok(u64::from_be_bytes(
        key.try_into()
            .map_err(|_| corrupt("log", "key is not a u64"))?,
    ))
}

fn corrupt(key: &str, why: &str) -> StoreError {
    StoreError::Corrupt {
        key: key.to_owned(),
        why: why.to_owned(),
    }
}

impl years::Records for Store {
    fn compared(&self, seq: u64) -> Result<recent::Compared, StoreError> {
        let record = self.record(seq)?;
        Ok(Arc::new((
            record::report(&record)?,
            record::basis(&record)?,
        )))
    }
}

/// The records as a commit reads them: the reports committed or read last from
/// [`recent::Recent`], the others from sled (and then kept there).
struct Committing<'a> {
    store: &'a Store,
    recent: std::cell::RefCell<&'a mut recent::Recent>,
}

impl years::Records for Committing<'_> {
    fn compared(&self, seq: u64) -> Result<recent::Compared, StoreError> {
        if let Some(compared) = self.recent.borrow().get(seq) {
            return Ok(compared);
        }
        let compared = self.store.compared(seq)?;
        self.recent.borrow_mut().put(seq, Arc::clone(&compared));
        Ok(compared)
    }
}
