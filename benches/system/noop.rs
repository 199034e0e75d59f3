//! The no-op ingest server: the same tonic service and messages, answering every document
//! at once without parsing or storing it. Its throughput is the ceiling of the transport.

use std::pin::Pin;

use futures::{Stream, StreamExt};
use nianbao::pb::ingest_service_server::{IngestService, IngestServiceServer};
use nianbao::pb::{Document, IngestResult, Outcome};
use tonic::{Request, Response, Status, Streaming};

struct Noop;

fn answer(doc: Document) -> IngestResult {
    IngestResult {
        outcome: Outcome::Stored as i32,
        tag: doc.tag,
        ..Default::default()
    }
}

#[tonic::async_trait]
impl IngestService for Noop {
    type IngestStream = Pin<Box<dyn Stream<Item = Result<IngestResult, Status>> + Send>>;

    async fn ingest(
        &self,
        request: Request<Streaming<Document>>,
    ) -> Result<Response<Self::IngestStream>, Status> {
        let stream = request.into_inner().map(|doc| doc.map(answer));
        Ok(Response::new(Box::pin(stream)))
    }

    async fn ingest_one(
        &self,
        request: Request<Document>,
    ) -> Result<Response<IngestResult>, Status> {
        Ok(Response::new(answer(request.into_inner())))
    }

    async fn limits(
        &self,
        _request: Request<nianbao::pb::LimitsRequest>,
    ) -> Result<Response<nianbao::pb::LimitsResponse>, Status> {
        Err(Status::unimplemented("the no-op server states no limits"))
    }
}

/// Serves the no-op service on 127.0.0.1:`port` until killed.
pub fn serve(port: u16) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener).map(|s| {
            s.inspect(|s| {
                let _ = s.set_nodelay(true);
            })
        });
        tonic::transport::Server::builder()
            .add_service(IngestServiceServer::new(Noop).max_decoding_message_size(16 << 20))
            .serve_with_incoming(incoming)
            .await
            .expect("serve");
    });
}
