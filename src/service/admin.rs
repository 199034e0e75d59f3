//! nianbao.v1.AdminService: operators' calls against a live server.
//!
//! Backup streams a consistent cut of the store ([`crate::store::backup`]): the stamp, then
//! every report below it, then the count. The store is read on a blocking thread that owns
//! the work and feeds a bounded channel, so a slow client holds `BACKUP_QUEUE` records in
//! memory, not the store, and commits go on meanwhile; a client that goes away ends it.

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::pb::admin_service_server::AdminService;
use crate::pb::backup_chunk::Chunk;
use crate::pb::{BackupChunk, BackupHeader, BackupRequest, BackupTrailer};
use crate::store::backup::catalogue_id;
use crate::store::{Store, StoreError};

use super::{to_status, ServiceError};

/// Backup records read ahead of what the client has taken.
const BACKUP_QUEUE: usize = 16;

#[derive(Clone)]
pub struct AdminHandler {
    store: Store,
}

impl AdminHandler {
    pub fn new(store: Store) -> AdminHandler {
        AdminHandler { store }
    }
}

type Chunks = mpsc::Sender<Result<BackupChunk, Status>>;

/// Why a backup stream ended early.
enum Stop {
    /// The client went away: nothing more to send.
    Gone,
    /// The store failed; the client gets the status.
    Failed(StoreError),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Stop {
        Stop::Failed(e)
    }
}

/// Sends one chunk, waiting while the queue is full.
fn send(tx: &Chunks, chunk: Chunk) -> Result<(), Stop> {
    tx.blocking_send(Ok(BackupChunk { chunk: Some(chunk) }))
        .map_err(|_| Stop::Gone)
}

/// Streams the backup into `tx`; a store error ends the stream with its status.
fn stream_backup(store: &Store, tx: &Chunks) {
    match send_backup(store, tx) {
        Ok(records) => tracing::info!(records, "backup sent"),
        Err(Stop::Gone) => tracing::warn!("backup client went away; backup not finished"),
        Err(Stop::Failed(e)) => {
            tracing::error!(error = %e, "backup failed");
            let _ = tx.blocking_send(Err(to_status(ServiceError::Store(e))));
        }
    }
}

/// Header, records, trailer. Returns how many records were sent.
fn send_backup(store: &Store, tx: &Chunks) -> Result<u64, Stop> {
    let stamp = store.backup_stamp()?;
    tracing::info!(stamp, "backup begun");
    let header = BackupHeader {
        stamp,
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        catalogue: catalogue_id(),
    };
    send(tx, Chunk::Header(header))?;
    let mut records = 0;
    for record in store.backup_records(stamp)? {
        send(tx, Chunk::Record(record?))?;
        records += 1;
    }
    send(tx, Chunk::Trailer(BackupTrailer { records }))?;
    Ok(records)
}

#[tonic::async_trait]
impl AdminService for AdminHandler {
    type BackupStream = ReceiverStream<Result<BackupChunk, Status>>;

    async fn backup(
        &self,
        _request: Request<BackupRequest>,
    ) -> Result<Response<Self::BackupStream>, Status> {
        let (tx, rx) = mpsc::channel(BACKUP_QUEUE);
        let store = self.store.clone();
        // The stamp waits for the writer lock (a commit's sync): off the runtime's threads.
        tokio::task::spawn_blocking(move || stream_backup(&store, &tx));
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}
