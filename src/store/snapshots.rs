//! The index across restarts: its snapshot file, the checkpoints that write it, and the load
//! at open.
//!
//! `index.snapshot` holds the whole index as it stood after the commits below its stamp
//! (a `seq`). A commit writes one when at least `max(checkpoint_rows, reports /
//! CHECKPOINT_SHARE)` reports came since the last (a checkpoint; encoding costs O(reports),
//! so its amortised cost per report stays constant), and [`Store::close`] writes one after
//! the last commit. Each is written to a temporary file, synced and renamed over the old one.
//!
//! Opening decodes the snapshot as it reads the file (never holding the file whole),
//! checks that its last row is the `log` record just below its stamp, then replays the
//! records from the stamp on, in seq order, as the commits did ([`super::years::insert`]).
//! What it gives equals a rebuild from every record, which is what opening does when the
//! snapshot is missing, unreadable or does not fit (a version-3 snapshot still reads).
//! [`Store::reindex`] rewrites records in place, so it removes the snapshot first.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::durable::ignore_gone;
use super::{record, seq_of, years, IndexLoad, Store, StoreError};
use crate::index::Index;
use crate::pb::{Report, StoredReport};

/// The index snapshot's file name in the data directory, and its name while written.
pub(super) const SNAPSHOT: &str = "index.snapshot";
const SNAPSHOT_TMP: &str = "index.snapshot.tmp";

/// Reports between two index checkpoints at the least, by default.
pub const CHECKPOINT_ROWS: u64 = 1 << 16;

/// A checkpoint waits for at least this share (1 / n) of the index's reports to come.
const CHECKPOINT_SHARE: u64 = 16;

/// The snapshot's writes go through a buffer of this size.
const WRITE_BUFFER: usize = 1 << 20;

/// The snapshot is read at open through a buffer of this size.
const READ_BUFFER: usize = 1 << 20;

/// The snapshot file: written by one writer at a time, never by an older checkpoint over a
/// newer one. ([`Store::reindex`] and [`Store::close`] wait for running checkpoints.)
pub(super) struct Snapshots {
    dir: PathBuf,
    /// Held while the file is replaced or removed: the stamp of the one in place.
    pub(super) in_place: Mutex<Option<u64>>,
    /// Snapshots encoded so far (names their temporary files).
    written: AtomicU64,
    /// Checkpoint threads that may still be running.
    running: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl Snapshots {
    pub(super) fn new(dir: &Path) -> Snapshots {
        Snapshots {
            dir: dir.to_owned(),
            in_place: Mutex::new(None),
            written: AtomicU64::new(0),
            running: Mutex::new(Vec::new()),
        }
    }

    /// Encodes `index` (stamped `seq`) to a temporary file, not yet synced.
    fn encode(&self, index: &Index, seq: u64) -> Result<(File, PathBuf), StoreError> {
        // A name of its own: a checkpoint still being synced and the snapshot of a clean
        // stop may carry the same stamp.
        let n = self.written.fetch_add(1, Ordering::Relaxed);
        let tmp = self.dir.join(format!("{SNAPSHOT_TMP}.{seq}.{n}"));
        let file = File::create(&tmp)?;
        let mut w = std::io::BufWriter::with_capacity(WRITE_BUFFER, file);
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

    /// Encodes, syncs and puts in place a snapshot of `index` stamped `seq`, now.
    pub(super) fn write(&self, index: &Index, seq: u64) -> Result<(), StoreError> {
        let (file, tmp) = self.encode(index, seq)?;
        self.install(file, &tmp, seq)?;
        Ok(())
    }

    /// Removes the snapshot.
    pub(super) fn remove(&self) -> Result<(), StoreError> {
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
    pub(super) fn remove_leftovers(&self) -> Result<(), StoreError> {
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

    /// Waits for checkpoints still being synced and put in place.
    pub(super) fn wait(&self) {
        let running = std::mem::take(&mut *self.running.lock().unwrap_or_else(|p| p.into_inner()));
        for handle in running {
            let _ = handle.join();
        }
    }

    /// Writes a checkpoint of `index` stamped `seq`: encoded here, synced and put in place
    /// on a thread of its own. A checkpoint that fails is logged; the next one tries again.
    fn checkpoint(self: &Arc<Self>, index: &Index, seq: u64) {
        let started = std::time::Instant::now();
        let (file, tmp) = match self.encode(index, seq) {
            Ok(encoded) => encoded,
            Err(e) => {
                tracing::warn!(error = %e, "index checkpoint not written");
                return;
            }
        };
        let encode_ms = started.elapsed().as_millis() as u64;
        let snapshots = Arc::clone(self);
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
                let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
                running.retain(|h| !h.is_finished());
                running.push(handle);
            }
            Err(e) => tracing::warn!(error = %e, "index checkpoint not written"),
        }
    }
}

impl Store {
    /// Writes a checkpoint stamped `next_seq` when enough reports came since the last
    /// (`checkpointed`, updated); true when it did. The caller holds the commit lock, so
    /// the index holds exactly the reports below `next_seq`.
    pub(super) fn checkpoint_if_due(&self, checkpointed: &mut u64, next_seq: u64) -> bool {
        let index = self.index();
        let every = self
            .inner
            .options
            .checkpoint_rows
            .max(1)
            .max(index.len() as u64 / CHECKPOINT_SHARE);
        if next_seq - (*checkpointed).min(next_seq) >= every {
            *checkpointed = next_seq;
            self.inner.snapshots.checkpoint(&index, next_seq);
            return true;
        }
        false
    }

    /// Loads the index at open: from the snapshot and the reports stored after it, or
    /// rebuilt from every stored report (`next_seq` is one past the last). Returns how,
    /// and the stamp of the snapshot used.
    pub(super) fn load_index(&self, next_seq: u64) -> Result<(IndexLoad, Option<u64>), StoreError> {
        let started = std::time::Instant::now();
        if let Some((mut index, seq)) = self.read_snapshot(next_seq)? {
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
            return Ok((IndexLoad::Snapshot { replayed }, Some(seq)));
        }
        let mut index = Index::new();
        self.replay(&mut index, 0)?;
        *self.inner.index.write().unwrap_or_else(|p| p.into_inner()) = index;
        tracing::info!(
            reports = self.index().len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "index rebuilt from the stored reports"
        );
        Ok((IndexLoad::Rebuilt, None))
    }

    /// The snapshot and its stamp, when it is there, reads, and fits the stored records.
    fn read_snapshot(&self, next_seq: u64) -> Result<Option<(Index, u64)>, StoreError> {
        let file = match File::open(self.inner.dir.join(SNAPSHOT)) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        // Decoded as it is read, so the file is never held whole beside the index.
        let len = file.metadata()?.len();
        read_ahead(&file, len);
        let reader = std::io::BufReader::with_capacity(READ_BUFFER, file);
        let (index, seq) = match Index::read_from(reader, len) {
            Ok(decoded) => decoded,
            Err(why) => {
                tracing::warn!(%why, "index snapshot unreadable; rebuilding");
                return Ok(None);
            }
        };
        // Its last row must be the last record below its stamp: a snapshot of another
        // database, or one written before a rollback, does not fit.
        let last_below = match self.sled()?.log.range(..seq.to_be_bytes()).next_back() {
            Some(entry) => {
                let (key, bytes) = entry?;
                let seq = seq_of(&key)?;
                Some((seq, record::decode(seq, &bytes)?.id))
            }
            None => None,
        };
        let last_row = index.len().checked_sub(1).map(|i| {
            let i = i as u32;
            (index.seq(i), index.id_bytes(i).to_vec())
        });
        if last_below != last_row || seq > next_seq {
            tracing::warn!(
                snapshot = seq,
                store = next_seq,
                "index snapshot does not fit the stored reports; rebuilding"
            );
            return Ok(None);
        }
        Ok(Some((index, seq)))
    }

    /// Adds the reports stored from `seq` on to `index`, in seq order, as their commits
    /// did (see the module doc): a scan of the `log`. Returns how many.
    /// The records are read and unpacked on a second thread, a little ahead of the index.
    fn replay(&self, index: &mut Index, seq: u64) -> Result<u64, StoreError> {
        /// Records unpacked ahead of the index, at most.
        const AHEAD: usize = 256;
        type Unpacked = Result<(u64, StoredReport, Report), StoreError>;
        let sled = self.sled()?;
        let mut kept = Kept::from(sled.kept.range(seq.to_be_bytes()..));
        let log = &sled.log;
        std::thread::scope(|scope| {
            let (send, unpacked) = std::sync::mpsc::sync_channel::<Unpacked>(AHEAD);
            scope.spawn(move || {
                for entry in log.range(seq.to_be_bytes()..) {
                    let one = entry.map_err(StoreError::from).and_then(|(key, bytes)| {
                        let seq = seq_of(&key)?;
                        let stored = record::decode(seq, &bytes)?;
                        let report = record::report(&stored)?;
                        Ok((seq, stored, report))
                    });
                    let failed = one.is_err();
                    // A closed channel: the replay stopped at an error.
                    if send.send(one).is_err() || failed {
                        break;
                    }
                }
            });
            let mut count = 0;
            for one in unpacked {
                let (seq, stored, report) = one?;
                self.replay_one(index, &mut kept, seq, &stored, &report)?;
                count += 1;
            }
            Ok(count)
        })
    }

    /// Indexes one record of a replay.
    fn replay_one(
        &self,
        index: &mut Index,
        kept: &mut Kept,
        seq: u64,
        stored: &StoredReport,
        report: &Report,
    ) -> Result<(), StoreError> {
        // What the commit decided of the scores, when kept: the basis is not needed.
        let kept = kept.take(seq)?.filter(|k| k.fits_next(index, seq));
        let basis = match kept {
            Some(_) => None,
            None => record::basis(stored)?,
        };
        let new = years::Stored {
            report,
            basis: basis.as_ref(),
            seq,
        };
        years::insert(index, new, self, kept.as_ref());
        Ok(())
    }

    /// Writes the snapshot of a clean stop, stamped `seq`, unless one with that stamp is in
    /// place already (the caller has waited for running checkpoints).
    pub(super) fn write_final_snapshot(&self, seq: u64) -> Result<(), StoreError> {
        let snapshots = &self.inner.snapshots;
        if *snapshots.in_place.lock().unwrap_or_else(|p| p.into_inner()) == Some(seq) {
            return Ok(());
        }
        snapshots.write(&self.index(), seq)
    }
}

/// Asks the kernel to read the whole of `file` (`len` bytes) into its cache now, so that a
/// load decodes while the disk reads, rather than wait for each buffer in turn (after a
/// crash, or a backup that pushed the snapshot out of the cache, a load at 1M rows waited
/// about 0.8 s on the disk). Only a hint: where it is not known or fails, nothing changes.
fn read_ahead(file: &File, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let len = libc::off_t::try_from(len).unwrap_or(0);
        // SAFETY: the descriptor is open for as long as `file` is borrowed; the call reads
        // no memory of ours.
        unsafe {
            libc::posix_fadvise(file.as_raw_fd(), 0, len, libc::POSIX_FADV_SEQUENTIAL);
            libc::posix_fadvise(file.as_raw_fd(), 0, len, libc::POSIX_FADV_WILLNEED);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, len);
}

/// The scores kept for a replay ([`super::durable::Sled::kept`]), read in seq order beside the
/// records: each entry a run of commits', under its last seq.
struct Kept {
    entries: sled::Iter,
    batch: std::collections::VecDeque<(u64, years::Scored)>,
}

impl From<sled::Iter> for Kept {
    fn from(entries: sled::Iter) -> Kept {
        Kept {
            entries,
            batch: Default::default(),
        }
    }
}

impl Kept {
    /// What the commit of `seq` kept, if anything; seqs are asked in increasing order.
    fn take(&mut self, seq: u64) -> Result<Option<years::Scored>, StoreError> {
        loop {
            while self.batch.front().is_some_and(|&(s, _)| s < seq) {
                self.batch.pop_front();
            }
            match self.batch.front() {
                Some(&(s, _)) if s == seq => return Ok(self.batch.pop_front().map(|(_, k)| k)),
                Some(_) => return Ok(None),
                None => {}
            }
            let Some((_, bytes)) = self.entries.next().transpose()? else {
                return Ok(None);
            };
            // An entry that does not decode is skipped: the replay computes its scores.
            self.batch
                .extend(years::decode_batch(&bytes).unwrap_or_default());
        }
    }
}
