//! What makes a commit durable on sled 0.34, and what keeps the disk from filling under it.
//!
//! sled 0.34's `flush()` writes its log with `sync_file_range`, which does not sync file
//! metadata, and writes large values to blob files without syncing them. [`Store::sync`]
//! therefore follows `flush()` with `fsync` of the log file, of every blob file not yet
//! synced, and of the blob directory: whatever a commit reports as stored survives power
//! loss. sled also writes its `conf` file and its own snapshots unsynced; [`sync_files`]
//! syncs them at open and at [`settle`].
//!
//! sled 0.34 reads back at each open everything it logged since the last open, so the
//! store closes and opens it again after each index checkpoint ([`Store::reopen_sled`]),
//! and [`settle`] does once more after a clean stop: a start after a crash then reads only
//! sled's log since the last checkpoint, as the index replays only the reports since then.
//!
//! Disk full: sled 0.34 can hang in its next flush once a write has failed, so a commit is
//! refused *before* writing when the filesystem would keep less than the minimum free
//! space plus [`BATCH_SPACE_FACTOR`] times the batch's bytes ([`Store::check_space`]).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{Store, StoreError, KEPT, LOG};

/// sled's page cache. Queries never read sled (the index answers them), GetReport reads one
/// record, and commits append to the last leaf of one tree, so a small cache costs little;
/// sled's default (1 GiB) would dominate memory. 16 MiB since the store writes one tree
/// (issue 15: the server's peak at 1M reports was 848 MiB with 64 MiB).
const CACHE_BYTES: u64 = 16 << 20;

/// Free space a commit must leave by default, in MiB and in bytes: sled appends to its log
/// and allocates whole segments, and must never meet ENOSPC.
pub const DEFAULT_MIN_FREE_MB: u64 = 64;
pub const DEFAULT_MIN_FREE: u64 = DEFAULT_MIN_FREE_MB << 20;

/// A batch may need this many times its documents' bytes on disk: the compressed document,
/// the parsed report, sled's log and its segment copies.
const BATCH_SPACE_FACTOR: u64 = 4;

/// sled's threads can hold its file lock for a moment after the last handle of the
/// previous open in this process is dropped (its own tests wait for the lock for this
/// reason), so a held lock is retried this many times, this long apart (two seconds in
/// all); another process holding it still gets the error then.
const LOCK_RETRIES: u32 = 100;
const LOCK_RETRY_WAIT: Duration = Duration::from_millis(20);

/// How sled 0.34 says the lock is held: an `ErrorKind::Other` I/O error whose text is all
/// that tells it from other failures.
const LOCK_HELD: &str = "could not acquire lock";

/// The sled settings every open uses.
fn sled_config(dir: &Path) -> sled::Config {
    sled::Config::new()
        .path(dir)
        .cache_capacity(CACHE_BYTES)
        // No background flusher: every commit flushes and syncs itself (see the module
        // doc), so a timer adds only writes and hides a missing sync from the power-loss
        // test.
        .flush_every_ms(None)
}

/// Opens the database under `dir`, waiting out a lock the previous open in this process
/// may still hold (see [`LOCK_RETRIES`]).
pub(super) fn open_db(dir: &Path) -> Result<sled::Db, StoreError> {
    let mut tries = 0;
    loop {
        match sled_config(dir).open() {
            Err(sled::Error::Io(e))
                if tries < LOCK_RETRIES && e.to_string().contains(LOCK_HELD) =>
            {
                tries += 1;
                std::thread::sleep(LOCK_RETRY_WAIT);
            }
            Err(sled::Error::Io(e)) if e.to_string().contains(LOCK_HELD) => {
                return Err(StoreError::Locked {
                    dir: dir.display().to_string(),
                })
            }
            result => return Ok(result?),
        }
    }
}

/// The open database and the handles the store writes through. Held behind one slot
/// ([`Store::sled`]) so that it can be closed and opened again while the server runs
/// ([`Store::reopen_sled`]).
pub(super) struct Sled {
    pub(super) db: sled::Db,
    /// seq → the report's one record ([`super::record`]).
    pub(super) log: sled::Tree,
    /// The last seq of a run of commits → what they decided of the scores of their records
    /// ([`super::years::Scored`], [`super::years::encode_batch`]): a replay's shortcut,
    /// derived, written after the index every
    /// [`super::StoreOptions::keep_scores_every`] reports and never synced on its own (a
    /// replay computes what is missing), pruned below the snapshot in place.
    pub(super) kept: sled::Tree,
    /// sled's log file, synced after each flush (module doc).
    pub(super) log_file: File,
    /// How many times this store opened sled again before this open.
    pub(super) reopened: u64,
}

/// Opens the database under `dir` and the store's trees in it.
pub(super) fn open_sled(dir: &Path) -> Result<Sled, StoreError> {
    let db = open_db(dir)?;
    let log_file = File::open(dir.join("db"))?;
    let log = db.open_tree(LOG)?;
    let kept = db.open_tree(KEPT)?;
    Ok(Sled {
        db,
        log,
        kept,
        log_file,
        reopened: 0,
    })
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

/// Syncs every file in `dir`, then the directory (sled leaves `conf` and its snapshots
/// unsynced: the power-loss test found `conf` empty after a simulated power cut).
pub(super) fn sync_files(dir: &Path) -> Result<(), StoreError> {
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

/// Syncs every file of the database, its blobs too, and their directories: after a write
/// that no [`Store`] tracks (a migration at open).
pub(super) fn sync_every_file(dir: &Path) -> Result<(), StoreError> {
    sync_files(dir)?;
    let blobs = dir.join("blobs");
    if blobs.is_dir() {
        sync_files(&blobs)?;
    }
    Ok(())
}

/// `Ok(None)` for a file that is not there (any more), the result otherwise.
pub(super) fn ignore_gone<T>(result: std::io::Result<T>) -> std::io::Result<Option<T>> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// True when an I/O error says the disk is full.
pub(super) fn is_disk_full(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ENOSPC) || e.kind() == std::io::ErrorKind::StorageFull
}

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

impl Store {
    /// Refuses a batch of `bytes` document bytes, before anything is written, when an
    /// earlier write failed or the disk would keep too little free space (module doc).
    pub(super) fn check_space(&self, bytes: u64) -> Result<(), StoreError> {
        if let Some(failed) = self.failed() {
            return Err(failed);
        }
        let needed = self.inner.options.min_free_bytes + BATCH_SPACE_FACTOR * bytes;
        let available = available_bytes(&self.inner.dir)?;
        if available < needed {
            return Err(StoreError::NoSpace { available, needed });
        }
        Ok(())
    }

    /// The error every write gets after an earlier one failed (module doc), if one did.
    pub(super) fn failed(&self) -> Option<StoreError> {
        let failed = self.inner.failed.lock().unwrap_or_else(|p| p.into_inner());
        failed
            .clone()
            .map(|(why, disk_full)| StoreError::Failed { why, disk_full })
    }

    /// Closes sled and opens it again, after a checkpoint (the caller holds the commit
    /// lock, and has synced every commit). sled 0.34 reads back at each open all it logged
    /// since the last ([`settle`]): a server that ran a day without this reads a day's log
    /// when it starts after a crash (9–10 s at 1M reports). Reopened at each checkpoint, it
    /// reads at most what came since the last, as the index replays at most that.
    ///
    /// Readers block on the slot meanwhile. A handle still out (a backup reading) keeps the
    /// old database open, so then nothing happens and the caller tries again at its next
    /// commit. True when sled was reopened, or when that failed (then nothing more is
    /// written or read until a restart, as after a failed write).
    pub(super) fn reopen_sled(&self) -> bool {
        let mut slot = self.inner.sled.write().unwrap_or_else(|p| p.into_inner());
        let old = match slot.take() {
            Some(sled) if Arc::strong_count(&sled) == 1 => sled,
            other => {
                *slot = other;
                return false;
            }
        };
        let started = std::time::Instant::now();
        let reopened = old.reopened + 1;
        let flushed = old.db.flush();
        drop(old);
        let dir = &self.inner.dir;
        let opened = flushed
            .map_err(StoreError::from)
            .and_then(|_| open_sled(dir))
            .and_then(|sled| sync_files(dir).map(|()| sled));
        match opened {
            Ok(sled) => {
                *slot = Some(Arc::new(Sled { reopened, ..sled }));
                tracing::info!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    reopened,
                    "sled opened again after a checkpoint"
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "sled not opened again after a checkpoint");
                *self.inner.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some((
                    format!("the database could not be opened again after a checkpoint: {e}"),
                    e.is_disk_full(),
                ));
            }
        }
        true
    }

    /// Remembers a failed write: nothing more is written in this process (module doc).
    pub(super) fn note_failure(&self, e: &StoreError) {
        if matches!(e, StoreError::Db(_) | StoreError::Io(_)) {
            *self.inner.failed.lock().unwrap_or_else(|p| p.into_inner()) =
                Some((e.to_string(), e.is_disk_full()));
        }
    }

    /// Makes everything written so far durable (see the module doc).
    pub fn sync(&self) -> Result<(), StoreError> {
        let sled = self.sled()?;
        sled.db.flush()?;
        sled.log_file.sync_all()?;
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
                    // A blob sled removed since the listing (its value was replaced or
                    // removed: a tree node rewritten, a kept score pruned) holds nothing
                    // to sync. Before this, that race failed a commit at 1M reports.
                    if let Some(file) = ignore_gone(File::open(entry.path()))? {
                        file.sync_all()?;
                        synced.insert(entry.file_name());
                        any = true;
                    }
                }
            }
            if any {
                File::open(&blobs)?.sync_all()?;
            }
        }
        Ok(())
    }
}
