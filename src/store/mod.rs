//! Durable storage of reports in sled, and the in-memory [`Index`] fed from it. The ONLY
//! module that names sled.
//!
//! # Key layout
//!
//! | tree        | key                         | value                                  |
//! |-------------|-----------------------------|----------------------------------------|
//! | `documents` | id (32 bytes, SHA-256)      | `StoredDocument` (zstd bytes + hints)  |
//! | `reports`   | id                          | `Report` as parsed, with its findings  |
//! | `cross`     | id                          | `CrossYearFindings` (rule 10)          |
//! | `order`     | seq (u64 big-endian)        | id                                     |
//! | default     | `next_seq`                  | u64 big-endian                         |
//!
//! A report exists once its `order` entry does: `order` is written last in a batch, so a
//! crash mid-batch leaves at most unreferenced `documents`/`reports` entries, overwritten
//! when the same bytes come again.
//!
//! # Rooms
//!
//! - this one: open, reads (`get`, `document`), close and reindex;
//! - [`batch`]: one group commit (one sync per batch);
//! - [`years`]: rule 10's links between neighbouring years, for commit, replay and reindex;
//! - [`snapshots`]: the index's snapshot, its checkpoints and the load at open;
//! - [`durable`]: what makes a commit durable on sled 0.34, and the free-space guard;
//! - [`backup`]: a consistent cut of the stored reports for a backup, and a restore into an
//!   empty directory through the commit path.

pub mod backup;
mod batch;
mod durable;
mod snapshots;
mod years;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use prost::Message;

use crate::index::Index;
use crate::model::id::{hex_of, id_bytes, IdBytes};
use crate::pb::{CrossYearFindings, Finding, Report, StoredDocument};
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
    Db(#[from] sled::Error),
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

/// What the client sent with a document, kept with it.
#[derive(Debug, Clone, Default)]
pub struct DocumentHints {
    pub source: String,
    pub agency: Option<String>,
    pub year: Option<i32>,
    pub content_type: String,
}

/// How a store is tuned; the command line sets these.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Free bytes a commit leaves on the filesystem at the least (see [`durable`]).
    pub min_free_bytes: u64,
    /// Reports between two index checkpoints at the least (see [`snapshots`]).
    pub checkpoint_rows: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            min_free_bytes: DEFAULT_MIN_FREE,
            checkpoint_rows: CHECKPOINT_ROWS,
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
    db: sled::Db,
    documents: sled::Tree,
    reports: sled::Tree,
    cross: sled::Tree,
    order: sled::Tree,
    index: RwLock<Index>,
    dir: PathBuf,
    options: StoreOptions,
    log_file: File,
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
}

/// Where the database lives unless the command line says otherwise.
pub const DEFAULT_DATA_DIR: &str = "./data";

/// The key under which the default tree keeps the next seq.
const NEXT_SEQ: &[u8] = b"next_seq";

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
        let db = durable::open_db(dir)?;
        // sled 0.34 reads back all it logged since the database was last opened.
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            bytes = db.size_on_disk().unwrap_or(0),
            "sled opened"
        );
        let log_file = File::open(dir.join("db"))?;
        durable::sync_files(dir)?;
        let store = Store {
            inner: Arc::new(Inner {
                documents: db.open_tree("documents")?,
                reports: db.open_tree("reports")?,
                cross: db.open_tree("cross")?,
                order: db.open_tree("order")?,
                db,
                index: RwLock::new(Index::new()),
                dir: dir.to_owned(),
                options,
                log_file,
                synced_blobs: Mutex::new(HashSet::new()),
                failed: Mutex::new(None),
                commit_lock: Mutex::new(Writer {
                    closed: false,
                    checkpointed: 0,
                }),
                snapshots: Arc::new(snapshots::Snapshots::new(dir)),
                loaded: std::sync::OnceLock::new(),
            }),
        };
        store.inner.snapshots.remove_leftovers()?;
        let (load, stamp) = store.load_index()?;
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

    fn next_seq(&self) -> Result<u64, StoreError> {
        Ok(match self.inner.db.get(NEXT_SEQ)? {
            Some(b) => u64::from_be_bytes(
                b.as_ref()
                    .try_into()
                    .map_err(|_| corrupt("next_seq", "not a u64"))?,
            ),
            None => 1,
        })
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
        let seq = self.next_seq()?;
        self.write_final_snapshot(seq)?;
        writer.checkpointed = seq;
        Ok(())
    }

    /// The report stored under `id` (one the `order` tree names).
    fn stored_report(&self, id: &[u8]) -> Result<Report, StoreError> {
        let Some(bytes) = self.inner.reports.get(id)? else {
            return Err(corrupt(
                &hex_of(id),
                "order names a report that is not stored",
            ));
        };
        Report::decode(bytes.as_ref()).map_err(|e| corrupt(&hex_of(id), &e.to_string()))
    }

    /// The report stored under `id` with its own findings only, if it is stored.
    fn own_report(&self, id: &str) -> Result<Option<Report>, StoreError> {
        let Some(bytes) = self.inner.reports.get(id_key(id)?)? else {
            return Ok(None);
        };
        Ok(Some(
            Report::decode(bytes.as_ref()).map_err(|e| corrupt(id, &e.to_string()))?,
        ))
    }

    /// The stored cross-year findings of the report under `key`.
    fn cross_of(&self, key: &[u8]) -> Result<Vec<Finding>, StoreError> {
        match self.inner.cross.get(key)? {
            Some(b) => Ok(CrossYearFindings::decode(b.as_ref())
                .map_err(|e| corrupt(&hex_of(key), &e.to_string()))?
                .findings),
            None => Ok(Vec::new()),
        }
    }

    /// [`Store::cross_of`] by hex id.
    fn cross_of_id(&self, id: &str) -> Result<Vec<Finding>, StoreError> {
        self.cross_of(&id_key(id)?)
    }

    /// The in-memory index, for queries. Hold the guard briefly: a commit waits for it.
    pub fn index(&self) -> RwLockReadGuard<'_, Index> {
        self.inner.index.read().unwrap_or_else(|p| p.into_inner())
    }

    /// True when a report with this id is stored (and durable).
    pub fn contains(&self, id: &str) -> bool {
        self.index().contains(id)
    }

    /// A stored report with every finding, its own and the cross-year ones.
    pub fn get(&self, id: &str) -> Result<Option<Report>, StoreError> {
        let key = id_key(id)?;
        if !self.contains(id) {
            return Ok(None);
        }
        let Some(mut report) = self.own_report(id)? else {
            return Ok(None);
        };
        report.findings.extend(self.cross_of(&key)?);
        Ok(Some(report))
    }

    /// The stored document's bytes and hints.
    pub fn document(&self, id: &str) -> Result<Option<(Vec<u8>, DocumentHints)>, StoreError> {
        let key = id_key(id)?;
        let Some(bytes) = self.inner.documents.get(key)? else {
            return Ok(None);
        };
        let doc =
            StoredDocument::decode(bytes.as_ref()).map_err(|e| corrupt(id, &e.to_string()))?;
        let content = zstd::decode_all(doc.content_zstd.as_slice())
            .map_err(|e| corrupt(id, &e.to_string()))?;
        let hints = DocumentHints {
            source: doc.source,
            agency: doc.agency,
            year: doc.year,
            content_type: doc.content_type,
        };
        Ok(Some((content, hints)))
    }

    /// Parses every stored document again with `parse` (given the hints stored with it, in
    /// the form `parse` takes) and rewrites its report in place, then rebuilds the
    /// cross-year findings and the index. Returns how many were reparsed.
    pub fn reindex<H>(&self, parse: impl Fn(&[u8], &H) -> Report) -> Result<usize, StoreError>
    where
        H: for<'h> From<&'h DocumentHints>,
    {
        let mut writer = self.writer();
        if writer.closed {
            return Err(StoreError::Closed);
        }
        // Reports are rewritten in place, under stamps the snapshot has seen: no checkpoint
        // may be put in place after the removal (none starts: the commit lock is held).
        self.inner.snapshots.wait();
        self.inner.snapshots.remove()?;
        writer.checkpointed = 0;
        let mut reports: Vec<Report> = Vec::new();
        let mut index = Index::new();
        for entry in self.inner.order.iter() {
            let (seq, key) = entry?;
            let id = hex_of(&key);
            let Some((content, hints)) = self.document(&id)? else {
                return Err(corrupt(&id, "document missing for a stored report"));
            };
            let mut report = parse(&content, &H::from(&hints));
            report.id = id;
            report.source = hints.source;
            self.inner.reports.insert(&key, report.encode_to_vec())?;
            index.insert(&report, seq_of(&seq)?, &[]);
            reports.push(report);
        }
        // Cross-year findings: each report against the latest of the year before.
        let position: std::collections::HashMap<&str, usize> = reports
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        for report in &reports {
            let before = years::year_before(report)
                .and_then(|(agency, year)| index.latest_id(&agency, year))
                .and_then(|id| position.get(id.as_str()).map(|&i| &reports[i]));
            let cross = years::findings(before, report);
            self.put_cross(&id_key(&report.id)?, &cross)?;
            index.set_cross(&report.id, &cross);
        }
        self.sync()?;
        *self.inner.index.write().unwrap_or_else(|p| p.into_inner()) = index;
        Ok(reports.len())
    }

    /// Bytes the database occupies on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.inner.db.size_on_disk().unwrap_or(0)
    }
}

/// An `order` key as the seq it encodes.
fn seq_of(key: &[u8]) -> Result<u64, StoreError> {
    Ok(u64::from_be_bytes(
        key.try_into()
            .map_err(|_| corrupt("order", "key is not a u64"))?,
    ))
}

fn corrupt(key: &str, why: &str) -> StoreError {
    StoreError::Corrupt {
        key: key.to_owned(),
        why: why.to_owned(),
    }
}
