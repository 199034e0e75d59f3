//! nianbao.v1.IngestService: the scraper's path.

use std::pin::Pin;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use tokio::sync::watch;
use tonic::{Request, Response, Status, Streaming};

use crate::ingest::{Answer, Incoming, Ingestor, Prepared, Reservation};
use crate::pb::ingest_service_server::IngestService;
use crate::pb::{Document, IngestResult, LimitsRequest, LimitsResponse, Outcome, Severity};
use crate::store::Hints;
use crate::telemetry;

use super::ServiceError;

/// Documents one stream may have in flight (parsing or waiting for the commit): enough to
/// fill a batch, few enough that a stream holds bounded memory.
pub const STREAM_IN_FLIGHT: usize = 64;

/// How long one Ingest stream may wait for its next document, and stay open in all.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    pub idle: Duration,
    pub max_age: Duration,
}

/// The defaults of [`StreamLimits`] (and of the command line's flags for them).
pub const DEFAULT_STREAM_IDLE_SECS: u64 = 120;
pub const DEFAULT_STREAM_MAX_AGE_SECS: u64 = 3600;

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            idle: Duration::from_secs(DEFAULT_STREAM_IDLE_SECS),
            max_age: Duration::from_secs(DEFAULT_STREAM_MAX_AGE_SECS),
        }
    }
}

/// The sizes the server accepts, as the Limits RPC tells them: a client that knows them
/// leaves out a file whose message would end its stream (OUT_OF_RANGE) instead of sending it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeLimits {
    /// The largest gRPC message decoded (`serve --max-message-bytes`).
    pub max_message_bytes: usize,
    /// The largest document read (`serve --max-document-bytes`).
    pub max_document_bytes: usize,
}

impl Default for SizeLimits {
    fn default() -> Self {
        SizeLimits {
            max_message_bytes: crate::ingest::DEFAULT_MAX_MESSAGE_BYTES,
            max_document_bytes: crate::ingest::DEFAULT_MAX_DOCUMENT_BYTES,
        }
    }
}

#[derive(Clone)]
pub struct IngestHandler {
    ingestor: Ingestor,
    in_flight: usize,
    limits: StreamLimits,
    sizes: SizeLimits,
    /// Turns true when the server begins to stop: streams take no new document after it.
    stopping: watch::Receiver<bool>,
}

impl IngestHandler {
    pub fn new(
        ingestor: Ingestor,
        in_flight: usize,
        limits: StreamLimits,
        sizes: SizeLimits,
        stopping: watch::Receiver<bool>,
    ) -> IngestHandler {
        IngestHandler {
            ingestor,
            in_flight: in_flight.max(1),
            limits,
            sizes,
            stopping,
        }
    }
}

/// What a stream's shutdown answers for the documents it did not take: the client sends them
/// again (the uploader retries UNAVAILABLE), to this server once restarted or to another.
fn stopped() -> Status {
    Status::unavailable(
        "server shutting down: every document answered on this stream stands; the ones not \
         answered were not taken: send them again later",
    )
}

fn to_limits(sizes: SizeLimits) -> LimitsResponse {
    LimitsResponse {
        max_message_bytes: sizes.max_message_bytes as u64,
        max_document_bytes: sizes.max_document_bytes as u64,
        accepts_parts: true,
    }
}

/// The messages of a stream, ended by an error item when the client sends nothing for
/// `limits.idle` (counted only while the server waits for input), the stream reaches
/// `limits.max_age`, or the server begins to stop (UNAVAILABLE, at once: a document not yet
/// received is not taken). The error follows the answers for everything taken before it.
fn limited(
    docs: Streaming<Document>,
    limits: StreamLimits,
    stopping: watch::Receiver<bool>,
) -> impl Stream<Item = Result<Document, Status>> {
    let opened = Instant::now();
    futures::stream::unfold(Some((docs, stopping)), move |state| async move {
        let (mut docs, mut stopping) = state?;
        let age_left = limits.max_age.saturating_sub(opened.elapsed());
        let wait = limits.idle.min(age_left);
        if *stopping.borrow() {
            return Some((Err(stopped()), None));
        }
        let next = tokio::select! {
            biased;
            Ok(_) = stopping.wait_for(|stop| *stop) => return Some((Err(stopped()), None)),
            next = tokio::time::timeout(wait, docs.next()) => next,
        };
        match next {
            Ok(Some(item)) => Some((item, Some((docs, stopping)))),
            Ok(None) => None,
            Err(_) if age_left <= limits.idle => Some((
                Err(Status::unavailable(format!(
                    "stream open for {:?}, the most one stream may: every document answered \
                     on it stands; send the rest on a new stream",
                    limits.max_age
                ))),
                None,
            )),
            Err(_) => Some((
                Err(Status::deadline_exceeded(format!(
                    "no document for {:?}: stream closed after answering what it sent; open \
                     a new one to send more",
                    limits.idle
                ))),
                None,
            )),
        }
    })
}

/// A document as it came off a stream: whole in one message, put together from its parts
/// (its memory reserved before the first part was kept), or answered before it was kept.
enum Arrived {
    Whole(Document),
    Assembled(Document, Reservation),
    Answered(Box<Answer>, String),
}

/// The documents of a stream of messages, each document sent in parts (`Document.size`) put
/// together. A part that breaks the framing (a part carrying more than content, parts
/// longer than the size, a stream ending inside a document) ends the stream with
/// INVALID_ARGUMENT, after the answers for the documents before it.
fn assembled(
    messages: impl Stream<Item = Result<Document, Status>> + Send + 'static,
    ingestor: Ingestor,
) -> impl Stream<Item = Result<Arrived, Status>> {
    futures::stream::unfold(Some((Box::pin(messages), ingestor)), |state| async move {
        let (mut messages, ingestor) = state?;
        let first = match messages.next().await? {
            Ok(first) => first,
            Err(status) => return Some((Err(status), None)),
        };
        let held = first.content.len() as u64;
        if first.size == 0 || first.size == held {
            return Some((Ok(Arrived::Whole(first)), Some((messages, ingestor))));
        }
        match take_parts(&mut messages, first, &ingestor).await {
            Ok(arrived) => Some((Ok(arrived), Some((messages, ingestor)))),
            Err(status) => Some((Err(status), None)),
        }
    })
}

/// Receives the parts of the document `first` opens. Its memory is reserved for its whole
/// size before a part is kept; a document over the size limit is read off the stream and
/// dropped part by part, and answered REJECTED.
async fn take_parts(
    messages: &mut (impl Stream<Item = Result<Document, Status>> + Unpin),
    mut first: Document,
    ingestor: &Ingestor,
) -> Result<Arrived, Status> {
    let size = first.size;
    let tag = first.tag.clone();
    let mut received = first.content.len() as u64;
    if received > size {
        return Err(Status::invalid_argument(format!(
            "document {tag:?}: its content holds {received} bytes, more than its size of {size} bytes"
        )));
    }
    // Ok: the memory to keep the parts in; Err: the answer for a document not kept.
    let keep = match ingestor.check_size(size) {
        Some(answer) => Err(answer),
        None => Ok(ingestor
            .reserve(size as usize)
            .await
            .map_err(ServiceError::from)?),
    };
    let mut content = Vec::new();
    if keep.is_ok() {
        content.reserve_exact(size as usize);
        content.extend_from_slice(&first.content);
    }
    first.content = Vec::new();
    while received < size {
        let part = match messages.next().await {
            Some(Ok(part)) => part,
            Some(Err(status)) => return Err(status),
            None => {
                return Err(Status::invalid_argument(format!(
                    "the stream ended {received} bytes into document {tag:?} of {size} bytes: \
                     send all its parts"
                )))
            }
        };
        if let Some(field) = not_a_part(&part) {
            return Err(Status::invalid_argument(format!(
                "document {tag:?} has {received} of its {size} bytes: the next message must be \
                 a part carrying only content, and this one carries {field}"
            )));
        }
        received += part.content.len() as u64;
        if received > size {
            return Err(Status::invalid_argument(format!(
                "the parts of document {tag:?} hold more than its size of {size} bytes"
            )));
        }
        if keep.is_ok() {
            content.extend_from_slice(&part.content);
        }
    }
    match keep {
        Ok(reservation) => {
            first.content = content;
            first.size = 0;
            Ok(Arrived::Assembled(first, reservation))
        }
        Err(answer) => Ok(Arrived::Answered(Box::new(answer), tag)),
    }
}

/// The field other than content a part carries, if it carries one: a part is the next piece
/// of a document's bytes and nothing else (and not empty).
fn not_a_part(part: &Document) -> Option<&'static str> {
    let Document {
        content,
        source,
        agency,
        year,
        content_type,
        tag,
        published,
        url,
        size,
    } = part;
    [
        (content.is_empty(), "no content"),
        (!source.is_empty(), "a source"),
        (agency.is_some(), "an agency"),
        (year.is_some(), "a year"),
        (!content_type.is_empty(), "a content type"),
        (!tag.is_empty(), "a tag"),
        (!published.is_empty(), "a publication date"),
        (!url.is_empty(), "a URL"),
        (*size != 0, "a size"),
    ]
    .into_iter()
    .find_map(|(carries, what)| carries.then_some(what))
}

fn check_document(doc: Document) -> (Incoming, String) {
    let Document {
        content,
        source,
        agency,
        year,
        content_type,
        tag,
        published,
        url,
        size: _,
    } = doc;
    let hints = Hints {
        source,
        agency: agency.filter(|a| !a.trim().is_empty()),
        year,
        content_type,
        published: published.trim().to_owned(),
        url: url.trim().to_owned(),
    };
    (Incoming { content, hints }, tag)
}

fn to_result(answer: Answer, tag: String) -> IngestResult {
    IngestResult {
        outcome: answer.outcome as i32,
        errors: answer.count(Severity::Error),
        warnings: answer.count(Severity::Warning),
        infos: answer.count(Severity::Info),
        id: answer.id,
        agency: answer.report.agency,
        year: answer.report.year,
        template: answer.report.template,
        reason: answer.reason,
        tag,
        supersedes: answer.supersedes,
    }
}

async fn handle(ingestor: Ingestor, doc: Document) -> Result<IngestResult, Status> {
    let (incoming, tag) = check_document(doc);
    let _counted = InFlight::new(incoming.content.len());
    let answer = ingestor
        .ingest(incoming)
        .await
        .map_err(ServiceError::from)?;
    Ok(counted(to_result(answer, tag)))
}

/// Counts a document in flight from receipt to answer (also when its future is dropped).
struct InFlight;

impl InFlight {
    fn new(bytes: usize) -> InFlight {
        metrics::counter!(telemetry::DOCUMENT_BYTES).increment(bytes as u64);
        metrics::gauge!(telemetry::IN_FLIGHT).increment(1.0);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!(telemetry::IN_FLIGHT).decrement(1.0);
    }
}

/// Records an answer's outcome.
fn counted(result: IngestResult) -> IngestResult {
    let outcome = match Outcome::try_from(result.outcome).unwrap_or(Outcome::Unspecified) {
        Outcome::Stored => "stored",
        Outcome::Duplicate => "duplicate",
        Outcome::Revision => "revision",
        Outcome::Rendition => "rendition",
        Outcome::Rejected | Outcome::Unspecified => "rejected",
    };
    metrics::counter!(telemetry::DOCUMENTS, "outcome" => outcome).increment(1);
    result
}

type ResultStream = Pin<Box<dyn Stream<Item = Result<IngestResult, Status>> + Send>>;

#[tonic::async_trait]
impl IngestService for IngestHandler {
    type IngestStream = ResultStream;

    async fn ingest(
        &self,
        request: Request<Streaming<Document>>,
    ) -> Result<Response<Self::IngestStream>, Status> {
        // Three stages, each bounded by `in_flight`, each keeping stream order: documents are
        // checked and parsed concurrently; queued for the writer one by one in stream order
        // (so the stream's order decides revisions); their durable answers awaited
        // concurrently. A fast client is slowed by HTTP/2 flow control, not by our memory.
        // A transport error ends the stream; so does a server-side failure (overload,
        // shutdown, storage), after the answers for the documents before it.
        let (prepare, submit) = (self.ingestor.clone(), self.ingestor.clone());
        let messages = limited(request.into_inner(), self.limits, self.stopping.clone());
        let answers = assembled(messages, self.ingestor.clone())
            .map(move |arrived| {
                let ingestor = prepare.clone();
                async move {
                    let (prepared, tag, counted) = match arrived? {
                        Arrived::Answered(answer, tag) => {
                            let counted = InFlight::new(0);
                            (Prepared::Answered(*answer), tag, counted)
                        }
                        Arrived::Whole(doc) => {
                            let (incoming, tag) = check_document(doc);
                            let counted = InFlight::new(incoming.content.len());
                            let prepared = ingestor.prepare(incoming).await;
                            (prepared.map_err(ServiceError::from)?, tag, counted)
                        }
                        Arrived::Assembled(doc, reservation) => {
                            let (incoming, tag) = check_document(doc);
                            let counted = InFlight::new(incoming.content.len());
                            let prepared = ingestor.prepare_reserved(incoming, reservation).await;
                            (prepared.map_err(ServiceError::from)?, tag, counted)
                        }
                    };
                    Ok::<_, Status>((prepared, tag, counted))
                }
            })
            .buffered(self.in_flight)
            .then(move |prepared| {
                let ingestor = submit.clone();
                async move {
                    let (prepared, tag, counted) = prepared?;
                    let pending = ingestor
                        .submit(prepared)
                        .await
                        .map_err(ServiceError::from)?;
                    Ok::<_, Status>((pending, tag, counted))
                }
            })
            .map(|pending| async move {
                let (pending, tag, _counted) = pending?;
                let answer = pending.answer().await.map_err(ServiceError::from)?;
                Ok(counted(to_result(answer, tag)))
            })
            .buffered(self.in_flight)
            .scan(false, |failed, item: Result<IngestResult, Status>| {
                if *failed {
                    return futures::future::ready(None);
                }
                *failed = item.is_err();
                futures::future::ready(Some(item))
            });
        Ok(Response::new(Box::pin(answers)))
    }

    async fn ingest_one(
        &self,
        request: Request<Document>,
    ) -> Result<Response<IngestResult>, Status> {
        let doc = request.get_ref();
        if doc.size != 0 && doc.size != doc.content.len() as u64 {
            return Err(Status::invalid_argument(format!(
                "IngestOne takes a whole document: content holds {} bytes of a size of {}; \
                 send a document in parts on Ingest",
                doc.content.len(),
                doc.size
            )));
        }
        Ok(Response::new(
            handle(self.ingestor.clone(), request.into_inner()).await?,
        ))
    }

    async fn limits(
        &self,
        _request: Request<LimitsRequest>,
    ) -> Result<Response<LimitsResponse>, Status> {
        Ok(Response::new(to_limits(self.sizes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The handler answers the sizes it was built with (no network: the RPC reads no state).
    #[tokio::test]
    async fn limits_answers_the_configured_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(dir.path()).unwrap();
        let (ingestor, _writer) = Ingestor::start(
            store,
            crate::ingest::Limits::default(),
            crate::Reader::default(),
        );
        let sizes = SizeLimits {
            max_message_bytes: 1000,
            max_document_bytes: 900,
        };
        let (_stop, stopping) = watch::channel(false);
        let handler = IngestHandler::new(ingestor, 4, StreamLimits::default(), sizes, stopping);
        let got = handler
            .limits(Request::new(LimitsRequest {}))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((got.max_message_bytes, got.max_document_bytes), (1000, 900));
    }
}
