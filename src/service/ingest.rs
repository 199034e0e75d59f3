//! nianbao.v1.IngestService: the scraper's path.

use std::pin::Pin;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

use crate::ingest::{Answer, Incoming, Ingestor};
use crate::pb::ingest_service_server::IngestService;
use crate::pb::{Document, IngestResult, LimitsRequest, LimitsResponse, Outcome, Severity};
use crate::store::DocumentHints;
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
}

impl IngestHandler {
    pub fn new(
        ingestor: Ingestor,
        in_flight: usize,
        limits: StreamLimits,
        sizes: SizeLimits,
    ) -> IngestHandler {
        IngestHandler {
            ingestor,
            in_flight: in_flight.max(1),
            limits,
            sizes,
        }
    }
}

fn to_limits(sizes: SizeLimits) -> LimitsResponse {
    LimitsResponse {
        max_message_bytes: sizes.max_message_bytes as u64,
        max_document_bytes: sizes.max_document_bytes as u64,
    }
}

/// The documents of a stream, ended by an error item when the client sends nothing for
/// `limits.idle` (counted only while the server waits for input) or the stream reaches
/// `limits.max_age`. The error follows the answers for everything sent before it.
fn limited(
    docs: Streaming<Document>,
    limits: StreamLimits,
) -> impl Stream<Item = Result<Document, Status>> {
    let opened = Instant::now();
    futures::stream::unfold(Some(docs), move |docs| async move {
        let mut docs = docs?;
        let age_left = limits.max_age.saturating_sub(opened.elapsed());
        let wait = limits.idle.min(age_left);
        match tokio::time::timeout(wait, docs.next()).await {
            Ok(Some(item)) => Some((item, Some(docs))),
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
    } = doc;
    let hints = DocumentHints {
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
        let answers = limited(request.into_inner(), self.limits)
            .map(move |doc| {
                let ingestor = prepare.clone();
                async move {
                    let (incoming, tag) = check_document(doc?);
                    let counted = InFlight::new(incoming.content.len());
                    let prepared = ingestor
                        .prepare(incoming)
                        .await
                        .map_err(ServiceError::from)?;
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
        let handler = IngestHandler::new(ingestor, 4, StreamLimits::default(), sizes);
        let got = handler
            .limits(Request::new(LimitsRequest {}))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((got.max_message_bytes, got.max_document_bytes), (1000, 900));
    }
}
