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
//! # Durability
//!
//! sled 0.34's `flush()` writes its log with `sync_file_range`, which does not sync file
//! metadata, and writes large values to blob files without syncing them. [`Store::commit`]
//! therefore follows `flush()` with `fsync` of the log file, of every blob file not yet
//! synced, and of the blob directory, before it returns: whatever it reports as stored
//! survives power loss. One call commits a whole batch (group commit).
//!
//! # Index snapshot
//!
//! `index.snapshot` holds the whole index as it stood after the commits below its stamp
//! (a `seq`). A commit writes one when at least `max(65,536, reports / 16)` reports came
//! since the last (a checkpoint; encoding costs O(reports), so its amortised cost per
//! report stays constant), and [`Store::close`] writes one after the last commit. Each is
//! written to a temporary file, synced and renamed over the old one.
//!
//! Opening loads the snapshot, checks that its last row is the `order` entry just below
//! its stamp, then replays the `order` entries from the stamp on, as the commits did: each
//! report with its cross-year findings as stored, then the cross-year findings of every
//! revision of the year after, which such a commit rewrote. What it gives equals a rebuild
//! from the `order`, `reports` and `cross` trees, which is what opening does when the
//! snapshot is missing, unreadable or does not fit. [`Store::reindex`] rewrites reports in
//! place, so it removes the snapshot first.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

use prost::Message;

use crate::decode::ContentHint;
use crate::index::Index;
use crate::model::form::body_key;
use crate::model::id::{id_bytes, IdBytes};
use crate::pb::{CrossYearFindings, Finding, Report, StoredDocument};
use crate::validate;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled failed (I/O underneath, or corruption it detected).
    #[error("database error: {0}")]
    Db(#[from] sled::Error),
    /// A file system call failed (open, fsync, directory listing).
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
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
}

impl StoreError {
    /// True when the disk is full: the caller should refuse new work, not fail.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::NoSpace { .. } => return true,
            StoreError::Failed { disk_full, .. } => return *disk_full,
            _ => {}
        }
        let io = match self {
            StoreError::Io(e) => Some(e),
            StoreError::Db(sled::Error::Io(e)) => Some(e),
            _ => None,
        };
        io.is_some_and(|e| {
            e.raw_os_error() == Some(28) || e.kind() == std::io::ErrorKind::StorageFull
        })
    }
}

/// Report ids are the model's; named here too, where the store's callers look for them.
pub use crate::model::id::report_id;

fn id_key(id: &str) -> Result<IdBytes, StoreError> {
    id_bytes(id).ok_or_else(|| StoreError::BadId(id.to_owned()))
}

/// What the client sent with a document.
#[derive(Debug, Clone, Default)]
pub struct DocumentHints {
    pub source: String,
    pub agency: Option<String>,
    pub year: Option<i32>,
    pub content_type: String,
}

impl DocumentHints {
    /// The parser's hints for these.
    pub fn parse_hints(&self) -> crate::Hints {
        let ct = self.content_type.trim().to_ascii_lowercase();
        let kind = crate::extract::Kind::from_content_type(&ct);
        let (content, encoding) = match (ct.as_str(), kind) {
            ("", _) => (ContentHint::Unknown, None),
            (_, Some(crate::extract::Kind::Text)) => (ContentHint::Text, None),
            (_, Some(crate::extract::Kind::Html)) => (ContentHint::Html, None),
            (_, Some(_)) => (ContentHint::Unknown, None),
            (other, None) => (ContentHint::Unknown, Some(other.to_owned())),
        };
        crate::Hints {
            agency: self.agency.clone(),
            year: self.year,
            encoding,
            content,
            kind,
            source: Some(self.source.clone()),
        }
    }
}

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

struct Inner {
    db: sled::Db,
    documents: sled::Tree,
    reports: sled::Tree,
    cross: sled::Tree,
    order: sled::Tree,
    index: RwLock<Index>,
    dir: PathBuf,
    log_file: File,
    synced_blobs: Mutex<HashSet<OsString>>,
    /// Free bytes a commit leaves on the filesystem at the least (see [`Store::commit`]).
    min_free: std::sync::atomic::AtomicU64,
    /// Set by the first failed write: the reason, and whether the disk was full.
    failed: Mutex<Option<(String, bool)>>,
    /// Serialises commits: one writer at a time keeps seq numbers and revisions in order.
    commit_lock: Mutex<Writer>,
    /// Reports between two index checkpoints at the least (see the module doc).
    checkpoint_rows: std::sync::atomic::AtomicU64,
    snapshots: Arc<Snapshots>,
    /// Checkpoint threads that may still be running.
    checkpoints: Mutex<Vec<std::thread::JoinHandle<()>>>,
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

/// How [`Store::open`] got its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexLoad {
    /// From the snapshot, then `replayed` reports stored after it.
    Snapshot { replayed: u64 },
    /// From the stored reports (no snapshot, or one that does not fit).
    Rebuilt,
}

/// The snapshot file: written by one writer at a time, never by an older checkpoint over a
/// newer one. ([`Store::reindex`] and [`Store::close`] wait for running checkpoints.)
struct Snapshots {
    dir: PathBuf,
    /// Held while the file is replaced or removed: the stamp of the one in place.
    in_place: Mutex<Option<u64>>,
    /// Snapshots encoded so far (names their temporary files).
    written: std::sync::atomic::AtomicU64,
}

impl Snapshots {
    /// Encodes `index` (stamped `seq`) to a temporary file, not yet synced.
    fn encode(&self, index: &Index, seq: u64) -> Result<(File, PathBuf), StoreError> {
        // A name of its own: a checkpoint still being synced and the snapshot of a clean
        // stop may carry the same stamp.
        let n = self
            .written
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = self.dir.join(format!("{SNAPSHOT_TMP}.{seq}.{n}"));
        let file = File::create(&tmp)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        index.encode_to(seq, &mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        Ok((file, tmp))
    }

    /// Syncs the encoded file and puts it in place, unless a newer one is there already.
    /// True when put in place.
    fn install(&self, file: File, tmp: &Path, seq: u64) -> Result<bool, StoreError> {
        file.sync_all()?;
        drop(file);
        let mut in_place = self.in_place.lock().unwrap_or_else(|p| p.into_inner());
        if in_place.is_some_and(|s| s > seq) {
            std::fs::remove_file(tmp)?;
            return Ok(false);
        }
        std::fs::rename(tmp, self.dir.join(SNAPSHOT))?;
        File::open(&self.dir)?.sync_all()?;
        *in_place = Some(seq);
        Ok(true)
    }

    /// Removes the snapshot.
    fn remove(&self) -> Result<(), StoreError> {
        let mut in_place = self.in_place.lock().unwrap_or_else(|p| p.into_inner());
        match std::fs::remove_file(self.dir.join(SNAPSHOT)) {
            Ok(()) => File::open(&self.dir)?.sync_all()?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        *in_place = None;
        Ok(())
    }

    /// Removes temporary files a crash left behind.
    fn remove_leftovers(&self) -> Result<(), StoreError> {
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(SNAPSHOT_TMP)
            {
                ignore_gone(std::fs::remove_file(entry.path()))?;
            }
        }
        Ok(())
    }
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

/// A cheap, cloneable handle on the database.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

const NEXT_SEQ: &[u8] = b"next_seq";
/// sled's page cache. Queries never read sled (the index answers them), and GetReport reads
/// one record, so a small cache costs little; sled's default (1 GiB) would dominate memory.
const CACHE_BYTES: u64 = 64 << 20;
/// Free space a commit must leave by default: sled appends to its log and allocates whole
/// segments, and must never meet ENOSPC (see [`Store::commit`]).
pub const DEFAULT_MIN_FREE: u64 = 64 << 20;

/// Bytes available to this process on the filesystem holding `dir`.
fn available_bytes(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other("data directory path holds a NUL byte"))?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `path` is a valid NUL-terminated string and `st` points to writable memory of
    // the right type; statvfs writes only into it.
    let r = unsafe { libc::statvfs(path.as_ptr(), st.as_mut_ptr()) };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: statvfs returned 0, so it filled `st`.
    let st = unsafe { st.assume_init() };
    // The field types differ between platforms (u32 on some 32-bit ones).
    #[allow(clippy::unnecessary_cast)]
    Ok((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}
/// The index snapshot's file name in the data directory, and its name while written.
const SNAPSHOT: &str = "index.snapshot";
const SNAPSHOT_TMP: &str = "index.snapshot.tmp";
/// zstd level for stored documents: level 3 is zstd's default balance of speed and size.
const ZSTD_LEVEL: i32 = 3;

/// The sled settings every open uses.
fn sled_config(dir: &Path) -> sled::Config {
    sled::Config::new()
        .path(dir)
        .cache_capacity(CACHE_BYTES)
        // No background flusher: every commit flushes and syncs itself (see Durability),
        // so a timer adds only writes and hides a missing sync from the power-loss test.
        .flush_every_ms(None)
}

/// Reports between two index checkpoints at the least.
pub const CHECKPOINT_ROWS: u64 = 1 << 16;

/// Opens the database under `dir`. sled's threads can hold its file lock for a moment
/// after the last handle of the previous open in this process is dropped (its own tests
/// wait for the lock for this reason), so a held lock is retried for up to two seconds;
/// another process holding it still gets the error then.
fn open_db(dir: &Path) -> Result<sled::Db, StoreError> {
    let mut tries = 0;
    loop {
        match sled_config(dir).open() {
            Err(sled::Error::Io(e))
                if tries < 100 && e.to_string().contains("could not acquire lock") =>
            {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            result => return Ok(result?),
        }
    }
}

/// sled writes its `conf` file and its snapshots without syncing them (the power-loss
/// test found `conf` empty after a simulated power cut): syncs every file in `dir`, then
/// the directory.
fn sync_files(dir: &Path) -> Result<(), StoreError> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            // A file renamed away since the listing has nothing left to sync here.
            if let Some(file) = ignore_gone(File::open(entry.path()))? {
                file.sync_all()?;
            }
        }
    }
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// `Ok(None)` for a file that is not there (any more), the result otherwise.
fn ignore_gone<T>(result: std::io::Result<T>) -> std::io::Result<Option<T>> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl Store {
    /// Opens (or creates) the database under `dir` and loads the index.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir)?;
        let started = std::time::Instant::now();
        let db = open_db(dir)?;
        // sled 0.34 reads back all it logged since the database was last opened.
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            bytes = db.size_on_disk().unwrap_or(0),
            "sled opened"
        );
        let log_file = File::open(dir.join("db"))?;
        sync_files(dir)?;
        let store = Store {
            inner: Arc::new(Inner {
                documents: db.open_tree("documents")?,
                reports: db.open_tree("reports")?,
                cross: db.open_tree("cross")?,
                order: db.open_tree("order")?,
                db,
                index: RwLock::new(Index::new()),
                dir: dir.to_owned(),
                log_file,
                synced_blobs: Mutex::new(HashSet::new()),
                min_free: std::sync::atomic::AtomicU64::new(DEFAULT_MIN_FREE),
                failed: Mutex::new(None),
                commit_lock: Mutex::new(Writer {
                    closed: false,
                    checkpointed: 0,
                }),
                checkpoint_rows: std::sync::atomic::AtomicU64::new(CHECKPOINT_ROWS),
                snapshots: Arc::new(Snapshots {
                    dir: dir.to_owned(),
                    in_place: Mutex::new(None),
                    written: std::sync::atomic::AtomicU64::new(0),
                }),
                checkpoints: Mutex::new(Vec::new()),
                loaded: std::sync::OnceLock::new(),
            }),
        };
        store.inner.snapshots.remove_leftovers()?;
        store.load_index()?;
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

    /// Sets how many reports come between two index checkpoints at the least (tests use
    /// small numbers; the default is [`CHECKPOINT_ROWS`]).
    pub fn set_checkpoint_rows(&self, rows: u64) {
        self.inner
            .checkpoint_rows
            .store(rows.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// Opens the database under `dir` once more and closes it again, after a clean stop
    /// (no `Store` may be open on it). sled 0.34 reads back everything it logged since the
    /// database was last opened, at every open; a shutdown checkpoint: doing it here
    /// means the next start reads only what came after. Measured at 1M reports (16.6 GB):
    /// the first open after the ingest took 10.7 s, the one after it 0.6 s.
    pub fn settle(dir: &Path) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        let db = open_db(dir)?;
        db.flush()?;
        drop(db);
        sync_files(dir)?;
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "database settled for the next start"
        );
        Ok(())
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

    fn load_index(&self) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        if let Some((mut index, seq)) = self.read_snapshot()? {
            let loaded_ms = started.elapsed().as_millis() as u64;
            let replayed = self.replay(&mut index, seq)?;
            tracing::info!(
                reports = index.len(),
                replayed,
                loaded_ms,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "index loaded from its snapshot and the reports stored after it"
            );
            *self.inner.index.write().unwrap_or_else(|p| p.into_inner()) = index;
            *self
                .inner
                .snapshots
                .in_place
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(seq);
            self.inner
                .commit_lock
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .checkpointed = seq;
            let _ = self.inner.loaded.set(IndexLoad::Snapshot { replayed });
            return Ok(());
        }
        self.rebuild_index()?;
        tracing::info!(
            reports = self.index().len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "index rebuilt from the stored reports"
        );
        let _ = self.inner.loaded.set(IndexLoad::Rebuilt);
        Ok(())
    }

    /// The snapshot and its stamp, when it is there, reads, and fits the stored `order`.
    fn read_snapshot(&self) -> Result<Option<(Index, u64)>, StoreError> {
        let bytes = match std::fs::read(self.inner.dir.join(SNAPSHOT)) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let (index, seq) = match Index::decode(&bytes) {
            Ok(decoded) => decoded,
            Err(why) => {
                tracing::warn!(%why, "index snapshot unreadable; rebuilding");
                return Ok(None);
            }
        };
        drop(bytes);
        // Its last row must be the last `order` entry below its stamp: a snapshot of
        // another database, or one written before a rollback, does not fit.
        let last_below = match self.inner.order.range(..seq.to_be_bytes()).next_back() {
            Some(entry) => {
                let (key, id) = entry?;
                Some((seq_of(&key)?, id.to_vec()))
            }
            None => None,
        };
        let last_row = index.len().checked_sub(1).map(|i| {
            let i = i as u32;
            (index.seq(i), index.id_bytes(i).to_vec())
        });
        let next_seq = self.next_seq()?;
        if last_below != last_row || seq > next_seq.max(1) {
            tracing::warn!(
                snapshot = seq,
                store = next_seq,
                "index snapshot does not fit the stored reports; rebuilding"
            );
            return Ok(None);
        }
        Ok(Some((index, seq)))
    }

    /// Adds the reports stored from `seq` on to `index`, as their commits did (see the
    /// module doc). Returns how many.
    fn replay(&self, index: &mut Index, seq: u64) -> Result<u64, StoreError> {
        let mut next_years = HashSet::new();
        let replayed = self.insert_stored(index, seq, |report| {
            if let Some((agency, year)) = body_key(report) {
                next_years.insert((agency, year + 1));
            }
        })?;
        for (agency, year) in next_years {
            let Some(latest) = index.latest_id(&agency, year) else {
                continue;
            };
            for id in index.revisions(&latest) {
                let cross = self.cross_of(&id_key(&id)?)?;
                index.set_cross(&id, &cross);
            }
        }
        Ok(replayed)
    }

    /// Inserts into `index` the reports the `order` entries from `from` on name, in order,
    /// with their cross-year findings as stored; `each` sees every report. Returns how many.
    fn insert_stored(
        &self,
        index: &mut Index,
        from: u64,
        mut each: impl FnMut(&Report),
    ) -> Result<u64, StoreError> {
        let mut count = 0;
        for entry in self.inner.order.range(from.to_be_bytes()..) {
            let (key, id) = entry?;
            let report = self.stored_report(&id)?;
            index.insert(&report, seq_of(&key)?, &self.cross_of(&id)?);
            each(&report);
            count += 1;
        }
        Ok(count)
    }

    /// The report stored under `id` (one the `order` tree names).
    fn stored_report(&self, id: &[u8]) -> Result<Report, StoreError> {
        let Some(bytes) = self.inner.reports.get(id)? else {
            return Err(corrupt(
                &hex::encode(id),
                "order names a report that is not stored",
            ));
        };
        Report::decode(bytes.as_ref()).map_err(|e| corrupt(&hex::encode(id), &e.to_string()))
    }

    /// Syncs, stops all further commits and writes the index snapshot. Reads still work.
    pub fn close(&self) -> Result<(), StoreError> {
        let mut writer = self
            .inner
            .commit_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if writer.closed {
            return Ok(());
        }
        writer.closed = true;
        // No checkpoint thread outlives the close (it would race the next open).
        self.wait_for_checkpoints();
        self.sync()?;
        let seq = self.next_seq()?;
        let snapshots = &self.inner.snapshots;
        if *snapshots.in_place.lock().unwrap_or_else(|p| p.into_inner()) == Some(seq) {
            return Ok(());
        }
        let (file, tmp) = snapshots.encode(&self.index(), seq)?;
        snapshots.install(file, &tmp, seq)?;
        writer.checkpointed = seq;
        Ok(())
    }

    /// Writes an index checkpoint stamped `seq` (the caller holds the commit lock, so the
    /// index holds exactly the reports below `seq`): encoded here, synced and put in place
    /// on a thread of its own. A checkpoint that fails is logged; the next one tries again.
    fn checkpoint(&self, seq: u64) {
        let started = std::time::Instant::now();
        let snapshots = Arc::clone(&self.inner.snapshots);
        let (file, tmp) = match snapshots.encode(&self.index(), seq) {
            Ok(encoded) => encoded,
            Err(e) => {
                tracing::warn!(error = %e, "index checkpoint not written");
                return;
            }
        };
        let encode_ms = started.elapsed().as_millis() as u64;
        let install = move || match snapshots.install(file, &tmp, seq) {
            Ok(placed) => tracing::info!(
                seq,
                placed,
                encode_ms,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "index checkpoint"
            ),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                tracing::warn!(error = %e, "index checkpoint not written");
            }
        };
        match std::thread::Builder::new()
            .name("index-checkpoint".into())
            .spawn(install)
        {
            Ok(handle) => {
                let mut running = self
                    .inner
                    .checkpoints
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                running.retain(|h| !h.is_finished());
                running.push(handle);
            }
            Err(e) => tracing::warn!(error = %e, "index checkpoint not written"),
        }
    }

    /// Waits for checkpoints still being synced and put in place.
    fn wait_for_checkpoints(&self) {
        let running = std::mem::take(
            &mut *self
                .inner
                .checkpoints
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        for handle in running {
            let _ = handle.join();
        }
    }

    fn rebuild_index(&self) -> Result<(), StoreError> {
        let mut index = Index::new();
        self.insert_stored(&mut index, 0, |_| {})?;
        *self.inner.index.write().unwrap_or_else(|p| p.into_inner()) = index;
        Ok(())
    }

    fn cross_of(&self, key: &[u8]) -> Result<Vec<Finding>, StoreError> {
        match self.inner.cross.get(key)? {
            Some(b) => Ok(CrossYearFindings::decode(b.as_ref())
                .map_err(|e| corrupt(&hex::encode(key), &e.to_string()))?
                .findings),
            None => Ok(Vec::new()),
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

    /// A stored report with every finding, its own and the cross-year ones.
    pub fn get(&self, id: &str) -> Result<Option<Report>, StoreError> {
        let key = id_key(id)?;
        if !self.contains(id) {
            return Ok(None);
        }
        let Some(bytes) = self.inner.reports.get(key)? else {
            return Ok(None);
        };
        let mut report = Report::decode(bytes.as_ref()).map_err(|e| corrupt(id, &e.to_string()))?;
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

    /// The stored document as normalised text.
    pub fn text(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.document(id)?.map(|(content, hints)| {
            crate::Reader::default()
                .text(&content, &hints.parse_hints())
                .unwrap_or_else(|why| why)
        }))
    }

    /// Commits a batch durably: every document is stored (or found a duplicate), the
    /// data are synced to disk, and only then is the index updated. On error nothing in
    /// the batch may be acknowledged.
    ///
    /// Disk full: sled 0.34 can hang in its next flush once a write has failed, so the store
    /// refuses a batch *before* writing when the filesystem would keep less than the minimum
    /// free space (set by [`Store::set_min_free_bytes`]) plus four times the batch's bytes;
    /// and should a write fail anyway, it writes nothing more in this process.
    pub fn commit(&self, docs: Vec<NewDocument>) -> Result<Vec<CommitResult>, StoreError> {
        if let Some((why, disk_full)) = self
            .inner
            .failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Err(StoreError::Failed { why, disk_full });
        }
        let bytes: u64 = docs.iter().map(|d| d.content_len).sum();
        let needed = self
            .inner
            .min_free
            .load(std::sync::atomic::Ordering::Relaxed)
            + 4 * bytes;
        let available = available_bytes(&self.inner.dir)?;
        if available < needed {
            return Err(StoreError::NoSpace { available, needed });
        }
        let result = self.commit_batch(docs);
        if let Err(e @ (StoreError::Db(_) | StoreError::Io(_))) = &result {
            *self.inner.failed.lock().unwrap_or_else(|p| p.into_inner()) =
                Some((e.to_string(), e.is_disk_full()));
        }
        result
    }

    /// Sets the free space every commit must leave on the data directory's filesystem.
    pub fn set_min_free_bytes(&self, bytes: u64) {
        self.inner
            .min_free
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    fn commit_batch(&self, docs: Vec<NewDocument>) -> Result<Vec<CommitResult>, StoreError> {
        let mut writer = self
            .inner
            .commit_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if writer.closed {
            return Err(StoreError::Closed);
        }
        let mut next_seq = self.next_seq()?;
        let mut results = Vec::with_capacity(docs.len());
        let mut fresh = Batch::default();
        for doc in docs {
            let key = id_key(&doc.id)?;
            if let Some(r) = fresh.get(&doc.id) {
                results.push(CommitResult {
                    committed: Committed::Duplicate,
                    report: r.clone(),
                });
                continue;
            }
            if self.contains(&doc.id) {
                results.push(CommitResult {
                    committed: Committed::Duplicate,
                    report: self.get(&doc.id)?.unwrap_or_default(),
                });
                continue;
            }
            let mut report = doc.report;
            report.id = doc.id.clone();
            report.source = doc.hints.source.clone();
            let body = body_key(&report);
            let committed = match self.latest_before(body.as_ref(), &fresh) {
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
                seq: next_seq,
            };
            self.inner.documents.insert(key, stored.encode_to_vec())?;
            self.inner.reports.insert(key, report.encode_to_vec())?;
            // Rule 10 against the year before, and the next year's report against this one.
            let mut cross = Vec::new();
            if let Some((agency, year)) = &body {
                if let Some(prev) = self.latest_report(agency, year - 1, &fresh)? {
                    cross = validate::cross_year(&prev, &report);
                }
                if let Some(next) = self.latest_report(agency, year + 1, &fresh)? {
                    let next_cross = validate::cross_year(&report, &next);
                    let next_id = next.id.clone();
                    self.inner.cross.insert(
                        id_key(&next_id)?,
                        CrossYearFindings {
                            findings: next_cross.clone(),
                        }
                        .encode_to_vec(),
                    )?;
                    fresh.set_cross(&next_id, next_cross);
                }
            }
            self.inner.cross.insert(
                key,
                CrossYearFindings {
                    findings: cross.clone(),
                }
                .encode_to_vec(),
            )?;
            self.inner.order.insert(next_seq.to_be_bytes(), &key)?;
            results.push(CommitResult {
                committed,
                report: report.clone(),
            });
            fresh.push(next_seq, report, cross, body);
            next_seq += 1;
        }
        self.inner.db.insert(NEXT_SEQ, &next_seq.to_be_bytes())?;
        self.sync()?;

        let mut index = self.inner.index.write().unwrap_or_else(|p| p.into_inner());
        for (seq, report, cross) in &fresh.reports {
            index.insert(report, *seq, cross);
        }
        // Cross-year findings recomputed for reports stored earlier.
        for (_, report, _) in &fresh.reports {
            if let Some((year, agency)) = report.year.zip(Some(report.agency.trim())) {
                if let Some(next) = index.latest_id(agency, year + 1) {
                    if fresh.get(&next).is_none() {
                        let cross = self.cross_of(&id_key(&next)?)?;
                        index.set_cross(&next, &cross);
                    }
                }
            }
        }
        let every = (self.inner.checkpoint_rows)
            .load(std::sync::atomic::Ordering::Relaxed)
            .max(index.len() as u64 / 16);
        drop(index);
        if next_seq - writer.checkpointed.min(next_seq) >= every {
            writer.checkpointed = next_seq;
            self.checkpoint(next_seq);
        }
        Ok(results)
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
    ) -> Result<Option<std::borrow::Cow<'b, Report>>, StoreError> {
        if let Some(r) = fresh.latest(agency, year) {
            return Ok(Some(std::borrow::Cow::Borrowed(r)));
        }
        let id = self.index().latest_id(agency, year);
        match id {
            Some(id) => {
                let Some(bytes) = self.inner.reports.get(id_key(&id)?)? else {
                    return Ok(None);
                };
                Ok(Some(std::borrow::Cow::Owned(
                    Report::decode(bytes.as_ref()).map_err(|e| corrupt(&id, &e.to_string()))?,
                )))
            }
            None => Ok(None),
        }
    }

    /// Makes everything written so far durable (see the module doc).
    pub fn sync(&self) -> Result<(), StoreError> {
        self.inner.db.flush()?;
        self.inner.log_file.sync_all()?;
        let blobs = self.inner.dir.join("blobs");
        if blobs.is_dir() {
            let mut synced = self
                .inner
                .synced_blobs
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let mut any = false;
            for entry in std::fs::read_dir(&blobs)? {
                let entry = entry?;
                if !synced.contains(&entry.file_name()) {
                    File::open(entry.path())?.sync_all()?;
                    synced.insert(entry.file_name());
                    any = true;
                }
            }
            if any {
                File::open(&blobs)?.sync_all()?;
            }
        }
        Ok(())
    }

    /// Parses every stored document again with `parse` and rewrites its report in place,
    /// then rebuilds the cross-year findings and the index. Returns how many were reparsed.
    pub fn reindex(
        &self,
        parse: impl Fn(&[u8], &crate::Hints) -> Report,
    ) -> Result<usize, StoreError> {
        let mut writer = self
            .inner
            .commit_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if writer.closed {
            return Err(StoreError::Closed);
        }
        // Reports are rewritten in place, under stamps the snapshot has seen: no checkpoint
        // may be put in place after the removal (none starts: the commit lock is held).
        self.wait_for_checkpoints();
        self.inner.snapshots.remove()?;
        writer.checkpointed = 0;
        let mut count = 0;
        let mut reports: Vec<Report> = Vec::new();
        for entry in self.inner.order.iter() {
            let (_, key) = entry?;
            let id = hex::encode(&key);
            let Some((content, hints)) = self.document(&id)? else {
                return Err(corrupt(&id, "document missing for a stored report"));
            };
            let mut report = parse(&content, &hints.parse_hints());
            report.id = id;
            report.source = hints.source;
            self.inner.reports.insert(&key, report.encode_to_vec())?;
            reports.push(report);
            count += 1;
        }
        // Cross-year findings: each report against the latest of the year before.
        let mut index = Index::new();
        let mut seqs = Vec::new();
        for entry in self.inner.order.iter() {
            let (seq, _) = entry?;
            seqs.push(seq_of(&seq)?);
        }
        for (report, seq) in reports.iter().zip(&seqs) {
            index.insert(report, *seq, &[]);
        }
        let position: std::collections::HashMap<&str, usize> = reports
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        for report in &reports {
            let cross = body_key(report)
                .and_then(|(agency, year)| index.latest_id(&agency, year - 1))
                .and_then(|prev| position.get(prev.as_str()).map(|&i| &reports[i]))
                .map(|prev| validate::cross_year(prev, report))
                .unwrap_or_default();
            self.inner.cross.insert(
                id_key(&report.id)?,
                CrossYearFindings {
                    findings: cross.clone(),
                }
                .encode_to_vec(),
            )?;
            index.set_cross(&report.id, &cross);
        }
        self.sync()?;
        *self.inner.index.write().unwrap_or_else(|p| p.into_inner()) = index;
        Ok(count)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> NewDocument {
        let report = crate::parse_document(text.as_bytes(), &crate::Hints::default());
        NewDocument::new(
            report_id(text.as_bytes()),
            text.as_bytes(),
            DocumentHints::default(),
            report,
        )
        .unwrap()
    }

    fn tempdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("nianbao-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn stores_dedupes_revises_and_survives_reopen() {
        let dir = tempdir("basic");
        let a =
            "某区人民政府2022年政府信息公开工作年度报告\n一、总体情况\n收到政府信息公开申请5件。";
        let b =
            "某区人民政府2022年政府信息公开工作年度报告\n一、总体情况\n收到政府信息公开申请6件。";
        {
            let store = Store::open(&dir).unwrap();
            let r = store.commit(vec![doc(a), doc(a)]).unwrap();
            assert_eq!(r[0].committed, Committed::Stored);
            assert_eq!(r[1].committed, Committed::Duplicate);
            let r = store.commit(vec![doc(b)]).unwrap();
            assert_eq!(
                r[0].committed,
                Committed::Revision {
                    supersedes: report_id(a.as_bytes())
                }
            );
            assert_eq!(store.index().len(), 2);
        }
        let store = Store::open(&dir).unwrap();
        assert_eq!(store.index().len(), 2);
        let got = store.get(&report_id(b.as_bytes())).unwrap().unwrap();
        assert_eq!(got.overview.unwrap().applications_received, Some(6));
        assert_eq!(store.text(&report_id(a.as_bytes())).unwrap().unwrap(), a);
        assert_eq!(store.index().revisions(&report_id(b.as_bytes())).len(), 2);
        assert!(matches!(store.get("xyz"), Err(StoreError::BadId(_))));
        assert!(store.get(&"0".repeat(64)).unwrap().is_none());
        let n = store.reindex(crate::parse_document).unwrap();
        assert_eq!(n, 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// What the index answers, to compare a snapshot-loaded index with a rebuilt one:
    /// every row's summary (findings counted, cross-year ones included), and an aggregate.
    fn answers(store: &Store) -> (Vec<crate::pb::ReportSummary>, crate::pb::AggregateResponse) {
        let index = store.index();
        let all: Vec<usize> = (0..crate::model::rates::RATES.len()).collect();
        let m = crate::model::catalogue::index_of("overview.applications_received")
            .map_or(vec![], |m| vec![m]);
        let f = crate::index::Selection {
            all_revisions: true,
            ..Default::default()
        };
        (
            (0..index.len() as u32).map(|i| index.summary(i)).collect(),
            index.aggregate(&m, &all, &[crate::index::Dim::Year], &f),
        )
    }

    /// A real report (its tables give cross-year findings) made the report of `body`
    /// (甲, 乙 or 丙) for 2019 + `year`, with `n` appended to make it distinct.
    fn yearly(body: &str, year: u32, n: u32) -> String {
        let base = include_str!("../tests/corpus/beijing-chaoyang-district-2022.txt");
        let district = match body {
            "甲区" => "朝阳区",
            "乙区" => "海淀区",
            _ => "东城区",
        };
        format!(
            "{}\n附：{n}\n",
            base.replace("朝阳区", district)
                .replace("2022", &(2019 + year % 4).to_string())
        )
    }

    /// Opens the store again after a crash (no close) with the snapshot it held, and
    /// with none: both indexes answer alike. Returns how the first was loaded.
    fn reopen_both_ways(dir: &Path) -> (IndexLoad, usize) {
        let store = Store::open(dir).unwrap();
        let load = store.index_load();
        let from_snapshot = answers(&store);
        drop(store);
        let _ = std::fs::remove_file(dir.join(SNAPSHOT));
        let store = Store::open(dir).unwrap();
        assert_eq!(store.index_load(), IndexLoad::Rebuilt);
        assert_eq!(answers(&store), from_snapshot, "after {load:?}");
        (load, from_snapshot.0.len())
    }

    #[test]
    fn checkpoints_and_replay_give_the_rebuilt_index() {
        let dir = tempdir("checkpoint");
        let store = Store::open(&dir).unwrap();
        store.set_checkpoint_rows(5);
        // Batches of 3, 3, 2, 3, 2 from seq 1: checkpoints at stamps 7 and 12, so the
        // reports 12 and 13 are replayed: 丙's first 2019 report (its 2020 report, in the
        // snapshot without cross-year findings, now has them) and a revision of 乙's
        // 2019; replay must rewrite the cross-year findings of rows the snapshot holds.
        let batches: Vec<Vec<String>> = vec![
            vec![
                yearly("甲区", 0, 1),
                yearly("甲区", 1, 2),
                yearly("乙区", 1, 3),
            ],
            vec![
                yearly("乙区", 2, 4),
                yearly("甲区", 2, 5),
                yearly("甲区", 1, 6),
            ],
            vec![yearly("乙区", 0, 7), yearly("甲区", 3, 8)],
            vec![
                yearly("甲区", 2, 9),
                yearly("乙区", 1, 10),
                yearly("丙区", 1, 11),
            ],
            vec![yearly("丙区", 0, 12), yearly("乙区", 0, 13)],
        ];
        for batch in &batches {
            store
                .commit(batch.iter().map(|t| doc(t)).collect())
                .unwrap();
        }
        // A thread of its own puts the checkpoint in place; wait for it.
        let stamp = || {
            let bytes = std::fs::read(dir.join(SNAPSHOT)).ok()?;
            Some(Index::decode(&bytes).ok()?.1)
        };
        for _ in 0..500 {
            if stamp() == Some(12) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(stamp(), Some(12));
        let rows = answers(&store).0.len();
        drop(store);
        let (load, n) = reopen_both_ways(&dir);
        assert_eq!(n, rows);
        assert_eq!(load, IndexLoad::Snapshot { replayed: 2 });
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_clean_close_leaves_a_snapshot_with_nothing_to_replay() {
        let dir = tempdir("snapshot");
        let store = Store::open(&dir).unwrap();
        store
            .commit((0..6).map(|n| doc(&yearly("某区", n, n))).collect())
            .unwrap();
        let before = answers(&store);
        store.close().unwrap();
        assert!(matches!(
            store.commit(vec![doc(&yearly("某区", 9, 9))]),
            Err(StoreError::Closed)
        ));
        drop(store);
        let store = Store::open(&dir).unwrap();
        assert_eq!(store.index_load(), IndexLoad::Snapshot { replayed: 0 });
        assert_eq!(answers(&store), before);
        // The snapshot stays: a crash after more commits replays only those.
        store.commit(vec![doc(&yearly("某区", 7, 7))]).unwrap();
        drop(store);
        assert_eq!(
            reopen_both_ways(&dir),
            (IndexLoad::Snapshot { replayed: 1 }, before.0.len() + 1)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_clean_stop_right_after_a_checkpoint_leaves_one_whole_snapshot() {
        // The checkpoint of the last commit is still being synced on its thread when the
        // stop writes a snapshot with the same stamp.
        for round in 0..20 {
            let dir = tempdir(&format!("race-{round}"));
            let store = Store::open(&dir).unwrap();
            store.set_checkpoint_rows(1);
            store
                .commit((0..3).map(|n| doc(&yearly("某区", n, n + round))).collect())
                .unwrap();
            store.close().unwrap();
            let want = answers(&store);
            drop(store);
            let store = Store::open(&dir).unwrap();
            assert_eq!(store.index_load(), IndexLoad::Snapshot { replayed: 0 });
            assert_eq!(answers(&store), want);
            drop(store);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }

    #[test]
    fn a_snapshot_that_does_not_fit_is_rebuilt_around() {
        let dir = tempdir("misfit");
        let other = tempdir("misfit-other");
        let store = Store::open(&dir).unwrap();
        store
            .commit((0..3).map(|n| doc(&yearly("某区", n, n))).collect())
            .unwrap();
        store.close().unwrap();
        drop(store);
        let kept = std::fs::read(dir.join(SNAPSHOT)).unwrap();
        let want = answers(&Store::open(&dir).unwrap());
        // Damaged: rebuilt.
        let mut bad = kept.clone();
        bad[20] ^= 1;
        std::fs::write(dir.join(SNAPSHOT), &bad).unwrap();
        let store = Store::open(&dir).unwrap();
        assert_eq!(store.index_load(), IndexLoad::Rebuilt);
        assert_eq!(answers(&store), want);
        drop(store);
        // Another database's snapshot, of the same length: rebuilt.
        let store = Store::open(&other).unwrap();
        store
            .commit((3..6).map(|n| doc(&yearly("另区", n, n))).collect())
            .unwrap();
        store.close().unwrap();
        drop(store);
        std::fs::copy(other.join(SNAPSHOT), dir.join(SNAPSHOT)).unwrap();
        let store = Store::open(&dir).unwrap();
        assert_eq!(store.index_load(), IndexLoad::Rebuilt);
        assert_eq!(answers(&store), want);
        // Reindexing removes the snapshot: reports change under stamps it has seen.
        store.close().unwrap();
        drop(store);
        let store = Store::open(&dir).unwrap();
        assert!(dir.join(SNAPSHOT).exists());
        store.reindex(crate::parse_document).unwrap();
        assert!(!dir.join(SNAPSHOT).exists());
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&other);
    }
}
