//! `nianbao backup` and `nianbao restore`: a running server's reports into a backup directory,
//! and a backup directory into a new data directory.
//!
//! Backup calls AdminService.Backup, for which the server takes a consistent cut of its store
//! ([`crate::store::backup`]), and writes the records to files as they arrive ([`crate::backup`]),
//! checking each one (seq order, below the stamp, a document that hashes to its id): memory
//! stays flat however many reports there are. The manifest is written last; a directory
//! without one holds no backup. A directory holding a backup is refused unless `--overwrite`,
//! and then the old backup stays valid until the new one is complete; a directory holding
//! anything else is always refused, and nothing in it is touched.
//!
//! Restore reads the backup twice: first to check all of it against its manifest, writing
//! nothing, so that a damaged backup is refused before the data directory exists; then to
//! store its records in the new data directory ([`crate::store::backup::Restore`]).

use std::path::{Path, PathBuf};

use tokio::sync::mpsc;
use tonic::{Status, Streaming};

use super::channel::{ConnectError, Remote};
use crate::backup as format;
use crate::backup::{FileEntry, FormatError, Manifest, RecordWriter, MANIFEST};
use crate::pb::admin_service_client::AdminServiceClient;
use crate::pb::backup_chunk::Chunk;
use crate::pb::{BackupChunk, BackupHeader, BackupRecord, BackupRequest};
use crate::store::backup::{catalogue_id, check_empty, check_record, Restore, MAX_RECORD_BYTES};

/// Records received and not yet written, at most.
const RECORD_QUEUE: usize = 64;

/// What `nianbao backup` was asked to do.
#[derive(Debug, Clone)]
pub struct BackupOptions {
    /// The backup directory: new, empty, or (with `overwrite`) holding a backup.
    pub dir: PathBuf,
    /// The server to back up.
    pub remote: Remote,
    pub overwrite: bool,
}

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupSummary {
    pub dir: PathBuf,
    pub stamp: u64,
    pub records: u64,
    pub files: usize,
    pub bytes: u64,
}

impl std::fmt::Display for BackupSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "backed up {} reports (all those stored before seq {}) to {}: {} files, {:.1} MB",
            self.records,
            self.stamp,
            self.dir.display(),
            self.files,
            self.bytes as f64 / 1e6
        )
    }
}

/// What a restore stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreSummary {
    pub data_dir: PathBuf,
    pub stamp: u64,
    pub records: u64,
}

impl std::fmt::Display for RestoreSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "restored {} reports (all those stored before seq {} on the server backed up) into {}",
            self.records,
            self.stamp,
            self.data_dir.display()
        )
    }
}

/// Why a backup or a restore stopped or refused.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The endpoint could not be parsed, or its TLS settings or the token read.
    #[error("endpoint {}: {}{}", .0.endpoint, if .0.token { "--token: " } else { "" }, .0.why)]
    Endpoint(ConnectError),
    /// The server refused the backup, or the stream broke off.
    #[error("the server's backup stream failed: {0}")]
    Stream(Status),
    /// The server sent what a backup stream does not hold.
    #[error("the server's backup stream is malformed: {0}")]
    Protocol(String),
    /// The backup directory holds a backup already.
    #[error("{dir}: holds a backup already ({MANIFEST}); pass --overwrite to replace it (the old one stays until the new one is complete)")]
    HoldsBackup { dir: PathBuf },
    /// The backup directory holds something that is not part of a backup.
    #[error("{dir}: holds {entry:?}, which is not part of a backup; back up into a new or empty directory")]
    NotABackupDir { dir: PathBuf, entry: String },
    /// The backup could not be written.
    #[error("writing the backup in {dir}: {source}")]
    Write { dir: PathBuf, source: FormatError },
    /// The backup to restore from does not check out; nothing was written.
    #[error("backup {dir} refused: {source}; nothing was restored")]
    Refused { dir: PathBuf, source: FormatError },
    /// The data directory to restore into is not a place a restore may write.
    #[error(transparent)]
    DataDir(crate::store::backup::RestoreError),
    /// A restore stopped after it began writing.
    #[error("restore into {data_dir} stopped: {why}; the directory holds an unfinished restore, which the server will not open: empty it and run restore again")]
    Unfinished { data_dir: PathBuf, why: String },
}

/// The error for a failure to write the backup in `dir`.
fn write_error(dir: &Path) -> impl Fn(FormatError) -> BackupError + Copy + '_ {
    move |source| BackupError::Write {
        dir: dir.to_owned(),
        source,
    }
}

/// [`write_error`] for an I/O error on `dir` itself.
fn dir_error(dir: &Path) -> impl Fn(std::io::Error) -> BackupError + Copy + '_ {
    move |error| {
        write_error(dir)(FormatError::Io {
            path: dir.to_owned(),
            error,
        })
    }
}

/// Backs up the server at `options.remote` into `options.dir`; see the module doc.
pub async fn backup(options: BackupOptions) -> Result<BackupSummary, BackupError> {
    let generation = prepare_dir(&options.dir, options.overwrite)?;
    let (channel, bearer) = options.remote.connect().map_err(BackupError::Endpoint)?;
    let mut client = AdminServiceClient::with_interceptor(channel, bearer)
        .max_decoding_message_size(MAX_RECORD_BYTES);
    let mut stream = client
        .backup(BackupRequest {})
        .await
        .map_err(BackupError::Stream)?
        .into_inner();
    let header = header(&mut stream).await?;
    tracing::info!(
        stamp = header.stamp,
        server = %options.remote.endpoint,
        "backup begun: receiving every report stored before the stamp"
    );
    std::fs::create_dir_all(&options.dir).map_err(dir_error(&options.dir))?;
    let (tx, rx) = mpsc::channel(RECORD_QUEUE);
    let dir = options.dir.clone();
    let stamp = header.stamp;
    let writer = tokio::task::spawn_blocking(move || write_records(&dir, generation, stamp, rx));
    let received = receive(&mut stream, &tx).await;
    drop(tx);
    let files = match writer.await {
        Ok(written) => written?,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
    received?;
    let manifest = Manifest::new(stamp, header.catalogue, header.server_version, files);
    format::write_manifest(&options.dir, &manifest).map_err(write_error(&options.dir))?;
    format::remove_stale(&options.dir, &manifest).map_err(write_error(&options.dir))?;
    Ok(BackupSummary {
        dir: options.dir,
        stamp,
        records: manifest.records,
        files: manifest.files.len(),
        bytes: manifest.files.iter().map(|f| f.bytes).sum(),
    })
}

/// Checks that `dir` may take a backup; the generation of the files the backup writes there
/// (a missing `dir` is created once the server has answered).
fn prepare_dir(dir: &Path, overwrite: bool) -> Result<u64, BackupError> {
    let io = dir_error(dir);
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(1),
        Err(e) => return Err(io(e)),
    };
    let mut holds_backup = false;
    for entry in entries {
        let name = entry
            .map_err(io)?
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name == MANIFEST {
            holds_backup = true;
        } else if !format::is_backup_file(&name) {
            return Err(BackupError::NotABackupDir {
                dir: dir.to_owned(),
                entry: name,
            });
        }
    }
    if holds_backup && !overwrite {
        return Err(BackupError::HoldsBackup {
            dir: dir.to_owned(),
        });
    }
    format::next_generation(dir).map_err(write_error(dir))
}

/// The next chunk of the stream, which must be there.
async fn next_chunk(stream: &mut Streaming<BackupChunk>) -> Result<Chunk, BackupError> {
    match stream.message().await.map_err(BackupError::Stream)? {
        Some(BackupChunk { chunk: Some(chunk) }) => Ok(chunk),
        Some(BackupChunk { chunk: None }) => Err(BackupError::Protocol("an empty chunk".into())),
        None => Err(BackupError::Protocol(
            "the stream ended before its trailer: the backup is incomplete".into(),
        )),
    }
}

/// The stream's first chunk, its header.
async fn header(stream: &mut Streaming<BackupChunk>) -> Result<BackupHeader, BackupError> {
    match next_chunk(stream).await? {
        Chunk::Header(header) => Ok(header),
        _ => Err(BackupError::Protocol("no header first".into())),
    }
}

/// Passes the records on to the writer until the trailer, whose count must be theirs.
async fn receive(
    stream: &mut Streaming<BackupChunk>,
    tx: &mpsc::Sender<BackupRecord>,
) -> Result<(), BackupError> {
    let mut received = 0;
    loop {
        match next_chunk(stream).await? {
            Chunk::Record(record) => {
                if tx.send(record).await.is_err() {
                    // The writer stopped; its error says why.
                    return Ok(());
                }
                received += 1;
            }
            Chunk::Trailer(trailer) if trailer.records == received => return Ok(()),
            Chunk::Trailer(trailer) => {
                return Err(BackupError::Protocol(format!(
                    "the server sent {} records and {received} arrived",
                    trailer.records
                )))
            }
            Chunk::Header(_) => return Err(BackupError::Protocol("a second header".into())),
        }
    }
}

/// Checks and writes the records as they come; the files written, for the manifest.
fn write_records(
    dir: &Path,
    generation: u64,
    stamp: u64,
    mut rx: mpsc::Receiver<BackupRecord>,
) -> Result<Vec<FileEntry>, BackupError> {
    let write_error = write_error(dir);
    let mut writer = RecordWriter::new(dir, generation, format::SEGMENT_BYTES);
    let mut last = None;
    while let Some(record) = rx.blocking_recv() {
        format::check_seq(stamp, last, &record)
            .map_err(|e| BackupError::Protocol(e.to_string()))?;
        check_record(&record).map_err(|e| BackupError::Protocol(e.to_string()))?;
        last = Some(record.seq);
        writer.write(&record).map_err(write_error)?;
    }
    writer.finish().map_err(write_error)
}

/// Restores the backup in `dir` into `data_dir`, which must be missing or empty; see the
/// module doc. No server may run on `data_dir`.
pub fn restore(dir: &Path, data_dir: &Path) -> Result<RestoreSummary, BackupError> {
    check_empty(data_dir).map_err(BackupError::DataDir)?;
    let refused = |source| BackupError::Refused {
        dir: dir.to_owned(),
        source,
    };
    let manifest = format::read_manifest(dir).map_err(refused)?;
    if manifest.catalogue != catalogue_id() {
        tracing::warn!(
            backup = %manifest.catalogue,
            this = %catalogue_id(),
            "the backup comes from a server with another metric catalogue: its reports are \
             restored as they were parsed; `nianbao reindex` parses them again with this one"
        );
    }
    format::verify(dir, &manifest).map_err(refused)?;
    tracing::info!(
        records = manifest.records,
        stamp = manifest.stamp,
        "backup checked; restoring"
    );
    let mut restore = Restore::begin(data_dir).map_err(BackupError::DataDir)?;
    let unfinished = |why: String| BackupError::Unfinished {
        data_dir: data_dir.to_owned(),
        why,
    };
    for record in format::Records::new(dir, &manifest) {
        let record = record.map_err(|e| unfinished(format!("backup {}: {e}", dir.display())))?;
        restore.add(record).map_err(|e| unfinished(e.to_string()))?;
    }
    let records = restore.finish().map_err(|e| unfinished(e.to_string()))?;
    Ok(RestoreSummary {
        data_dir: data_dir.to_owned(),
        stamp: manifest.stamp,
        records,
    })
}
