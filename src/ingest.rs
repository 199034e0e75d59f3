//! The ingest pipeline: check, parse, group commit. Uses tokio, not tonic.
//!
//! Each document is checked (empty, over the size limit), holds a share of the global
//! memory budget while it is in flight, is read by one of the parse threads (one per core,
//! started with the pipeline and kept for its life), and is handed to the single writer
//! task through a bounded channel. The writer commits whatever has
//! queued up as one batch ([`Store::commit`] syncs once per batch) and answers every
//! document of the batch only after the sync.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

use crate::model::id::report_id;
use crate::pb::{Outcome, Report, Severity};
use crate::read::ToStore;
use crate::store::{Committed, NewDocument, Store, StoreError};
use crate::telemetry;
use crate::Hints;

/// Limits of the pipeline, from the command line.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest document accepted, in bytes.
    pub max_document_bytes: usize,
    /// Bytes of documents in flight across all streams.
    pub memory_bytes: usize,
    /// How long a document may wait for memory before the server answers overloaded.
    pub memory_wait: Duration,
    /// Most documents one batch commits.
    pub max_batch: usize,
}

/// The defaults of [`Limits`] (and of the command line's flags for them).
/// Scanned reports of 20–60 MB are common; a document larger than a message comes in parts
/// (`Document.size`), so this bounds only what one document may cost.
pub const DEFAULT_MAX_DOCUMENT_BYTES: usize = 256 << 20;
/// The largest gRPC message the server decodes by default (`serve --max-message-bytes`):
/// here, beside the document limit, so that the service and the client read it from the
/// ingest pipeline rather than from the server that sets it.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 16 << 20;
pub const DEFAULT_MEMORY_BYTES: usize = 256 << 20;
pub const DEFAULT_MEMORY_WAIT_SECS: u64 = 10;
pub const DEFAULT_MAX_BATCH: usize = 256;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_document_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
            memory_bytes: DEFAULT_MEMORY_BYTES,
            memory_wait: Duration::from_secs(DEFAULT_MEMORY_WAIT_SECS),
            max_batch: DEFAULT_MAX_BATCH,
        }
    }
}

/// Why the pipeline could not answer for a document (the document itself was fine).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The memory budget stayed full for the whole wait.
    #[error(
        "server overloaded: no memory for a {size}-byte document within {waited:?}; retry later"
    )]
    Overloaded { size: usize, waited: Duration },
    /// The server is shutting down and takes no new documents.
    #[error("server shutting down; retry on another instance or later")]
    ShuttingDown,
    /// The disk is full: nothing more can be stored until space returns.
    #[error("disk full: the document was not stored; free space on the data directory and retry")]
    DiskFull,
    /// The store failed; the batch was not acknowledged.
    #[error("storage failed, document not stored: {0}")]
    Store(#[from] StoreError),
    /// The parser panicked (a bug); the document was not stored.
    #[error("internal error while parsing the document")]
    ParserPanic,
    /// The commit of the document's batch panicked (a bug); nothing in it was acknowledged.
    #[error("internal error while storing the document")]
    CommitPanic,
}

/// A document as a client sent it.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    pub content: Vec<u8>,
    pub hints: Hints,
}

/// The answer for one document.
#[derive(Debug, Clone)]
pub struct Answer {
    pub outcome: Outcome,
    pub id: String,
    pub reason: String,
    pub supersedes: String,
    /// The stored (or parsed, when rejected) report; empty when rejected before parsing.
    pub report: Report,
}

impl Answer {
    fn rejected(reason: String) -> Answer {
        Answer {
            outcome: Outcome::Rejected,
            id: String::new(),
            reason,
            supersedes: String::new(),
            report: Report::default(),
        }
    }

    pub fn count(&self, severity: Severity) -> u32 {
        self.report
            .findings
            .iter()
            .filter(|f| f.severity == severity as i32)
            .count() as u32
    }
}

/// A document checked and parsed, or already answered (rejected, duplicate).
pub enum Prepared {
    Answered(Answer),
    Parsed {
        doc: NewDocument,
        permit: OwnedSemaphorePermit,
    },
}

/// An answer on its way: ready, or waiting for the writer's durable commit.
pub enum PendingAnswer {
    Ready(Box<Answer>),
    Waiting {
        id: String,
        answer: oneshot::Receiver<Result<(Committed, Report), IngestError>>,
        _permit: OwnedSemaphorePermit,
    },
}

impl PendingAnswer {
    pub async fn answer(self) -> Result<Answer, IngestError> {
        match self {
            PendingAnswer::Ready(answer) => Ok(*answer),
            PendingAnswer::Waiting {
                id,
                answer,
                _permit,
            } => {
                let (committed, report) = answer.await.map_err(|_| IngestError::ShuttingDown)??;
                let (outcome, supersedes) = match committed {
                    Committed::Stored => (Outcome::Stored, String::new()),
                    Committed::Duplicate => (Outcome::Duplicate, String::new()),
                    Committed::Revision { supersedes } => (Outcome::Revision, supersedes),
                    Committed::Rendition { of } => (Outcome::Rendition, of),
                };
                Ok(Answer {
                    outcome,
                    id,
                    reason: String::new(),
                    supersedes,
                    report,
                })
            }
        }
    }
}

struct Job {
    doc: NewDocument,
    reply: oneshot::Sender<Result<(Committed, Report), IngestError>>,
}

/// A cheap, cloneable handle on the pipeline.
#[derive(Clone)]
pub struct Ingestor {
    tx: mpsc::Sender<Job>,
    store: Store,
    memory: Arc<Semaphore>,
    /// The queue of the parse threads ([`start_parsers`]).
    parsers: std::sync::mpsc::Sender<Parse>,
    limits: Limits,
    reader: crate::Reader,
}

/// A document's share of the memory budget, held until it is answered.
pub struct Reservation(OwnedSemaphorePermit);

/// Units of the memory semaphore: 1 KiB, so a semaphore of u32 permits covers terabytes.
const MEMORY_UNIT: usize = 1024;

impl Ingestor {
    /// Starts the writer task and the parse threads; they end when every Ingestor clone is
    /// dropped and their queues are drained (so dropping the handles is the graceful stop).
    pub fn start(
        store: Store,
        limits: Limits,
        reader: crate::Reader,
    ) -> (Ingestor, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(limits.max_batch * 4);
        let writer = tokio::spawn(write_batches(store.clone(), rx, limits.max_batch));
        let permits = (limits.memory_bytes / MEMORY_UNIT).max(1);
        let memory = Arc::new(Semaphore::new(permits));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        (
            Ingestor {
                tx,
                store,
                memory,
                parsers: start_parsers(cores),
                limits,
                reader,
            },
            writer,
        )
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Checks, parses and durably stores one document.
    pub async fn ingest(&self, doc: Incoming) -> Result<Answer, IngestError> {
        let prepared = self.prepare(doc).await?;
        self.submit(prepared).await?.answer().await
    }

    /// Checks a document, takes its share of the memory budget and parses it. Documents of
    /// one stream may be prepared concurrently; [`Ingestor::submit`] must then be called in
    /// stream order, so that the order of a stream decides which version is the revision.
    pub async fn prepare(&self, doc: Incoming) -> Result<Prepared, IngestError> {
        let size = doc.content.len();
        if let Some(answer) = self.check_size(size as u64) {
            return Ok(Prepared::Answered(answer));
        }
        let reservation = self.reserve(size).await?;
        self.prepare_reserved(doc, reservation).await
    }

    /// The rejection of a document of `size` bytes before anything is read, if it has one:
    /// empty, or over the document limit.
    pub fn check_size(&self, size: u64) -> Option<Answer> {
        if size == 0 {
            return Some(Answer::rejected("empty document".into()));
        }
        let max = self.limits.max_document_bytes;
        (size > max as u64).then(|| {
            Answer::rejected(format!(
                "over the size limit: {size} bytes > {max} bytes (serve --max-document-bytes)"
            ))
        })
    }

    /// Takes `size` bytes of the memory budget (all of it for a document larger than the
    /// budget), waiting at most `--memory-wait-secs`. A document sent in parts reserves its
    /// whole size before its first part is kept, so parts never hold more than the budget.
    pub async fn reserve(&self, size: usize) -> Result<Reservation, IngestError> {
        let units = size.div_ceil(MEMORY_UNIT).clamp(1, self.memory_units()) as u32;
        let permit = tokio::time::timeout(
            self.limits.memory_wait,
            self.memory.clone().acquire_many_owned(units),
        )
        .await
        .map_err(|_| IngestError::Overloaded {
            size,
            waited: self.limits.memory_wait,
        })?
        .map_err(|_| IngestError::ShuttingDown)?;
        Ok(Reservation(permit))
    }

    /// [`Ingestor::prepare`] for a document whose memory is already reserved.
    pub async fn prepare_reserved(
        &self,
        doc: Incoming,
        reservation: Reservation,
    ) -> Result<Prepared, IngestError> {
        let (reply, read) = oneshot::channel();
        let job = Parse {
            doc,
            reservation,
            store: self.store.clone(),
            reader: self.reader.clone(),
            reply,
        };
        self.parsers
            .send(job)
            .map_err(|_| IngestError::ShuttingDown)?;
        // A parse thread answers every document it takes, a panic included: a reply dropped
        // unanswered means the thread itself died.
        let (read, reservation) = read.await.map_err(|_| IngestError::ParserPanic)??;
        match read {
            Read::Known(id) => {
                let report = self.store.get(&id)?.unwrap_or_default();
                Ok(Prepared::Answered(Answer {
                    outcome: Outcome::Duplicate,
                    id,
                    reason: String::new(),
                    supersedes: String::new(),
                    report,
                }))
            }
            Read::Refused(report, why) => Ok(Prepared::Answered(Answer {
                report,
                ..Answer::rejected(why)
            })),
            Read::New(doc) => Ok(Prepared::Parsed {
                doc,
                permit: reservation.0,
            }),
        }
    }

    /// Queues a prepared document for the writer (in call order) and returns the pending
    /// answer, which resolves once the document's batch is durable.
    pub async fn submit(&self, prepared: Prepared) -> Result<PendingAnswer, IngestError> {
        match prepared {
            Prepared::Answered(answer) => Ok(PendingAnswer::Ready(Box::new(answer))),
            Prepared::Parsed { doc, permit } => {
                let (reply, answer) = oneshot::channel();
                let id = doc.id.clone();
                self.tx
                    .send(Job { doc, reply })
                    .await
                    .map_err(|_| IngestError::ShuttingDown)?;
                Ok(PendingAnswer::Waiting {
                    id,
                    answer,
                    _permit: permit,
                })
            }
        }
    }

    fn memory_units(&self) -> usize {
        (self.limits.memory_bytes / MEMORY_UNIT).max(1)
    }
}

/// A document for the parse threads, with what reading it needs (handles, dropped once it is
/// read, so that no thread holds the store between documents); answered on `reply` with its
/// memory reservation, which it holds until then.
struct Parse {
    doc: Incoming,
    reservation: Reservation,
    store: Store,
    reader: crate::Reader,
    reply: oneshot::Sender<Result<(Read, Reservation), IngestError>>,
}

/// What a parse thread made of a document.
enum Read {
    /// Stored already (the same bytes): answered without reading it again.
    Known(String),
    /// Refused ([`crate::read::refusal`]): the report as read, and why.
    Refused(Report, String),
    /// To be stored.
    New(NewDocument),
}

/// Starts `count` parse threads (one per core) on one queue and returns its sending end.
///
/// They are long-lived threads rather than a blocking task per document: a document costs a
/// message on the queue and a reply, not a task and a hand-off to whichever blocking thread
/// is free, and the same few threads (their allocator caches and the parser's per-thread
/// caches warm) read every document. `count` bounds the reads at once, and so the
/// extraction workers: one per core. The queue is unbounded: what waits on it is bounded by
/// the streams' documents in flight and by the memory budget each of them holds a share of.
///
/// One document a message, not a stream's batch: a batch sent to one thread would read a
/// single stream's documents one after the other on one core while the others idle, and
/// the documents of a stream come ready one at a time off HTTP/2 anyway; the threads take
/// the next document as each finishes, which keeps every core busy with one stream or many.
///
/// A thread ends when every sender is dropped and the queue is empty (what was taken is
/// read and answered); one that cannot be started is a broken system, a panic at startup.
fn start_parsers(count: usize) -> std::sync::mpsc::Sender<Parse> {
    let (tx, rx) = std::sync::mpsc::channel::<Parse>();
    let queue = Arc::new(Mutex::new(rx));
    for n in 0..count {
        let queue = queue.clone();
        std::thread::Builder::new()
            .name(format!("nianbao-parse-{n}"))
            .spawn(move || parse_documents(&queue))
            .expect("starting a parse thread");
    }
    tx
}

/// One parse thread: takes the next document off the queue, reads it and answers, until the
/// queue closes. A panic while reading is answered as that document's
/// [`IngestError::ParserPanic`], and the thread goes on to the next document. A document whose stream is gone
/// (no one waits for its answer) is dropped unread.
fn parse_documents(queue: &Mutex<std::sync::mpsc::Receiver<Parse>>) {
    loop {
        // The lock is held while waiting: the one thread waiting takes the next document.
        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(Parse {
            doc,
            reservation,
            store,
            reader,
            reply,
        }) = next
        else {
            return;
        };
        if reply.is_closed() {
            continue;
        }
        let read = std::panic::catch_unwind(AssertUnwindSafe(|| read(doc, &store, &reader)))
            .unwrap_or(Err(IngestError::ParserPanic));
        drop((store, reader));
        let _ = reply.send(read.map(|read| (read, reservation)));
    }
}

/// Reads one document for the store, unless its bytes are stored already.
fn read(doc: Incoming, store: &Store, reader: &crate::Reader) -> Result<Read, IngestError> {
    let Incoming { content, hints } = doc;
    let id = report_id(&content);
    if store.contains(&id) {
        return Ok(Read::Known(id));
    }
    Ok(match reader.read_to_store(&content, &hints) {
        ToStore::Report(report, basis) => {
            Read::New(NewDocument::new(id, &content, hints, report, basis)?)
        }
        ToStore::Refused(report, why) => Read::Refused(report, why),
    })
}

/// The writer: takes what has queued up, commits it as one batch, answers after the sync.
async fn write_batches(store: Store, mut rx: mpsc::Receiver<Job>, max_batch: usize) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let (docs, replies): (Vec<NewDocument>, Vec<_>) =
            jobs.into_iter().map(|j| (j.doc, j.reply)).unzip();
        let count = docs.len();
        let span = tracing::info_span!("commit", documents = count);
        let started = std::time::Instant::now();
        let store2 = store.clone();
        let result =
            tokio::task::spawn_blocking(move || span.in_scope(|| store2.commit(docs))).await;
        metrics::histogram!(telemetry::BATCH_SECONDS).record(started.elapsed().as_secs_f64());
        metrics::histogram!(telemetry::BATCH_DOCUMENTS).record(count as f64);
        match result {
            Ok(Ok(results)) => {
                metrics::gauge!(telemetry::STORE_BYTES).set(store.size_on_disk() as f64);
                metrics::gauge!(telemetry::STORE_REPORTS).set(store.index().len() as f64);
                tracing::debug!(
                    documents = count,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "batch committed"
                );
                for (reply, r) in replies.into_iter().zip(results) {
                    let _ = reply.send(Ok((r.committed, r.report)));
                }
            }
            Ok(Err(e)) => {
                tracing::error!(documents = count, error = %e, "batch commit failed; nothing in it acknowledged");
                for reply in replies {
                    let err = if e.is_disk_full() {
                        IngestError::DiskFull
                    } else if matches!(e, StoreError::Closed) {
                        IngestError::ShuttingDown
                    } else {
                        IngestError::Store(e.clone())
                    };
                    let _ = reply.send(Err(err));
                }
            }
            Err(_) => {
                tracing::error!(
                    documents = count,
                    "batch commit panicked; nothing in it acknowledged"
                );
                for reply in replies {
                    let _ = reply.send(Err(IngestError::CommitPanic));
                }
            }
        }
    }
    if let Err(e) = store.sync() {
        tracing::error!(error = %e, "final sync failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An extraction that panics on every document it is given (a bug in a reader).
    struct Panics;

    impl crate::extract::Isolate for Panics {
        fn extract(
            &self,
            _bytes: &[u8],
            _content_type: &str,
            _limits: &crate::extract::Limits,
        ) -> Result<crate::extract::Extracted, crate::extract::Unreadable> {
            panic!("a reader's bug");
        }
    }

    fn incoming(content: &[u8]) -> Incoming {
        Incoming {
            content: content.to_vec(),
            hints: Hints::default(),
        }
    }

    /// A panic while reading is that document's ParserPanic alone: the parse threads go on,
    /// more panics than threads included, and the documents after it are read and stored
    /// in their order; a document's memory is given back whatever its answer.
    #[tokio::test]
    async fn a_panic_in_the_parse_threads_fails_its_document_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let reader = crate::Reader {
            isolate: Some(Arc::new(Panics)),
            ..crate::Reader::default()
        };
        let limits = Limits::default();
        let (ingestor, _writer) = Ingestor::start(store, limits.clone(), reader);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        for n in 0..cores + 2 {
            let pdf = format!("%PDF-1.4 {n}");
            let got = ingestor.ingest(incoming(pdf.as_bytes())).await;
            assert!(matches!(got, Err(IngestError::ParserPanic)), "{n}");
        }
        let text = include_str!("../tests/corpus/beijing-chaoyang-district-2022.txt");
        let other = include_str!("../tests/corpus/beijing-chaoyang-district-2019.txt");
        let (first, second) = tokio::join!(
            ingestor.ingest(incoming(text.as_bytes())),
            ingestor.ingest(incoming(other.as_bytes())),
        );
        assert_eq!(first.unwrap().outcome, Outcome::Stored);
        assert_eq!(second.unwrap().outcome, Outcome::Stored);
        let again = ingestor.ingest(incoming(text.as_bytes())).await.unwrap();
        assert_eq!(again.outcome, Outcome::Duplicate);
        assert_eq!(
            ingestor.memory.available_permits(),
            ingestor.memory_units(),
            "every reservation given back"
        );
    }
}
