//! Builds the gRPC server (ingest, queries, health, reflection, the token check, limits) and
//! runs it until the shutdown future resolves; then health goes NOT_SERVING, the listener
//! closes, in-flight requests finish, the writer commits what is queued, and the store is
//! synced and closed (writing the index snapshot).

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Identity, Server, ServerTlsConfig};

use crate::ingest::{Ingestor, Limits};
use crate::pb::admin_service_server::AdminServiceServer;
use crate::pb::ingest_service_server::IngestServiceServer;
use crate::pb::report_service_server::ReportServiceServer;
use crate::service::admin::AdminHandler;
use crate::service::auth::{Gate, TokenFile};
use crate::service::ingest::{IngestHandler, SizeLimits, StreamLimits};
use crate::service::query::QueryHandler;
use crate::store::Store;

/// How the server runs; built from `nianbao serve`'s flags.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub limits: Limits,
    /// Largest gRPC message, in either direction.
    pub max_message_bytes: usize,
    /// Documents one Ingest stream may have in flight.
    pub stream_in_flight: usize,
    /// Concurrent HTTP/2 streams per connection.
    pub max_concurrent_streams: u32,
    /// HTTP/2 keepalive ping interval; a peer that does not answer within the timeout is dropped.
    pub keepalive_interval: Duration,
    pub keepalive_timeout: Duration,
    /// Idle and age limits of one Ingest stream.
    pub stream_limits: StreamLimits,
    /// How long shutdown waits for in-flight work before giving up on it.
    pub shutdown_grace: Duration,
    /// Bearer token with every scope (ingest, read, admin); health and reflection stay open.
    pub auth_token: Option<String>,
    /// Tokens with the scopes each one lists (`--auth-tokens`); reload it to apply a new file.
    pub auth_tokens: Option<TokenFile>,
    /// PEM certificate chain and private key: serve TLS instead of plaintext.
    pub tls: Option<(Vec<u8>, Vec<u8>)>,
    /// How documents are read (OCR on or off, extraction limits).
    pub reader: crate::Reader,
}

/// The defaults of [`ServerOptions`] (and of the command line's flags for them).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
pub use crate::ingest::DEFAULT_MAX_MESSAGE_BYTES;
pub const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 128;
pub const DEFAULT_KEEPALIVE_SECS: u64 = 30;
pub const DEFAULT_KEEPALIVE_TIMEOUT_SECS: u64 = 20;
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 20;

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            limits: Limits::default(),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            stream_in_flight: crate::service::ingest::STREAM_IN_FLIGHT,
            max_concurrent_streams: DEFAULT_MAX_CONCURRENT_STREAMS,
            keepalive_interval: Duration::from_secs(DEFAULT_KEEPALIVE_SECS),
            keepalive_timeout: Duration::from_secs(DEFAULT_KEEPALIVE_TIMEOUT_SECS),
            stream_limits: StreamLimits::default(),
            shutdown_grace: Duration::from_secs(DEFAULT_SHUTDOWN_GRACE_SECS),
            auth_token: None,
            auth_tokens: None,
            tls: None,
            reader: crate::Reader::default(),
        }
    }
}

/// Largest header block a request may send (metadata, token included).
const MAX_HEADER_LIST_BYTES: u32 = 16 << 10;
/// Streams a client may open and reset before the server has accepted them (HTTP/2 rapid
/// reset, CVE-2023-44487), per connection.
const MAX_PENDING_RESETS: usize = 64;
/// HTTP/2 flow-control windows. h2 closes a connection (GOAWAY ENHANCE_YOUR_CALM) once the
/// small DATA frames it holds unread cost more framing overhead than a budget of half the
/// connection window; a client streaming tiny documents faster than they are parsed sends
/// one small frame per document. A stream window of 64 KiB bounds a stream's unread
/// frames to about 8,000 (of 8 bytes, a gRPC message of a 1-byte document); a connection
/// window of 8 MiB gives a budget of 4 MiB, enough for two such streams at once. (With
/// hyper's defaults, 1 MiB each, a stream of tiny documents was cut off: tests/suite/hostile.rs.)
const STREAM_WINDOW: u32 = 64 << 10;
const CONNECTION_WINDOW: u32 = 8 << 20;

/// Accepted connections with TCP_NODELAY: small gRPC responses must not wait for Nagle's
/// algorithm and the peer's delayed ACK (40 ms per unary call without it).
fn incoming(
    listener: TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt;
    TcpListenerStream::new(listener).map(|conn| {
        let conn = conn?;
        conn.set_nodelay(true)?;
        Ok(conn)
    })
}

/// One span per RPC: the method and a request id (the client's `x-request-id`, else one
/// made here). Never the metadata itself: it may carry the bearer token.
fn rpc_span(request: &http::Request<()>) -> tracing::Span {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            format!(
                "r{}",
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            )
        });
    tracing::info_span!("rpc", method = request.uri().path(), request_id = %id)
}

/// Says at startup which tokens guard the services (never the tokens themselves).
fn log_auth(options: &ServerOptions) {
    let single = options.auth_token.as_deref().is_some_and(|t| !t.is_empty());
    match &options.auth_tokens {
        Some(file) => tracing::info!(
            token_file = %file.path().display(),
            auth_token = single,
            "auth on: tokens with scopes (the file is re-read on SIGHUP)"
        ),
        None if single => tracing::info!("auth on: --auth-token, with every scope"),
        None => tracing::info!("auth off: every service is open (see --auth-tokens)"),
    }
}

/// Serves on `listener` until `shutdown` resolves, then stops gracefully.
pub async fn run(
    listener: TcpListener,
    store: Store,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let (ingestor, writer) = Ingestor::start(
        store.clone(),
        options.limits.clone(),
        options.reader.clone(),
    );
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<IngestServiceServer<IngestHandler>>()
        .await;
    health
        .set_serving::<ReportServiceServer<QueryHandler>>()
        .await;

    // Reflection describes our services and grpc.health.v1, so grpcurl can call both.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(crate::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection().build_v1().expect("descriptor sets are valid");
    let reflection_v1alpha = reflection()
        .build_v1alpha()
        .expect("descriptor sets are valid");

    let gate = Gate::new(options.auth_token.as_deref(), options.auth_tokens.clone());
    log_auth(&options);
    // Turned on when the stop begins: open Ingest streams take no new document after it.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let ingest = IngestServiceServer::new(IngestHandler::new(
        ingestor,
        options.stream_in_flight,
        options.stream_limits,
        SizeLimits {
            max_message_bytes: options.max_message_bytes,
            max_document_bytes: options.limits.max_document_bytes,
        },
        stop_rx,
    ))
    .max_decoding_message_size(options.max_message_bytes)
    .max_encoding_message_size(options.max_message_bytes);
    let query = ReportServiceServer::new(QueryHandler::new(store.clone(), options.reader.clone()))
        .max_decoding_message_size(options.max_message_bytes)
        .max_encoding_message_size(options.max_message_bytes);
    // A backup record is a whole stored document with its report: the limit is the
    // backup's own, not the one for documents coming in.
    let admin = AdminServiceServer::new(AdminHandler::new(store.clone()))
        .max_encoding_message_size(crate::store::backup::MAX_RECORD_BYTES);

    let addr = listener.local_addr().ok();
    tracing::info!(?addr, "serving");
    let reporter = health.clone();
    let (begun_tx, begun_rx) = tokio::sync::oneshot::channel::<()>();
    let stopping = async move {
        shutdown.await;
        tracing::info!("shutting down: health NOT_SERVING, ingest streams take no new document, finishing in-flight requests");
        let _ = stop_tx.send(true);
        reporter
            .set_not_serving::<IngestServiceServer<IngestHandler>>()
            .await;
        reporter
            .set_not_serving::<ReportServiceServer<QueryHandler>>()
            .await;
        reporter
            .set_service_status("", tonic_health::ServingStatus::NotServing)
            .await;
        let _ = begun_tx.send(());
    };
    let mut builder = Server::builder();
    if let Some((cert, key)) = &options.tls {
        builder =
            builder.tls_config(ServerTlsConfig::new().identity(Identity::from_pem(cert, key)))?;
    }
    let serving = builder
        .trace_fn(rpc_span)
        .max_concurrent_streams(options.max_concurrent_streams)
        // Headers are small in gRPC; a flood of them, or of reset streams, is an attack.
        .http2_max_header_list_size(MAX_HEADER_LIST_BYTES)
        .http2_max_pending_accept_reset_streams(Some(MAX_PENDING_RESETS))
        .initial_stream_window_size(Some(STREAM_WINDOW))
        .initial_connection_window_size(Some(CONNECTION_WINDOW))
        .http2_keepalive_interval(Some(options.keepalive_interval))
        .http2_keepalive_timeout(Some(options.keepalive_timeout))
        .tcp_keepalive(Some(Duration::from_secs(60)))
        // Every service, present and future, behind the token check (health and reflection
        // pass it open): see service::auth.
        .layer(gate)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(ingest)
        .add_service(query)
        .add_service(admin)
        .serve_with_incoming_shutdown(incoming(listener), stopping);
    // Requests in flight get `shutdown_grace` to finish; a client holding a stream open
    // longer is cut off, so the process always exits in bounded time.
    let deadline = async {
        if begun_rx.await.is_ok() {
            tokio::time::sleep(options.shutdown_grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let served = tokio::select! {
        r = serving => r,
        () = deadline => {
            tracing::warn!(grace = ?options.shutdown_grace, "requests still open after the grace period; closing them");
            Ok(())
        }
    };
    // The handlers (and their Ingestor handles) are gone: the writer drains and syncs.
    if tokio::time::timeout(options.shutdown_grace, writer)
        .await
        .is_err()
    {
        tracing::error!("writer did not finish within the shutdown grace period");
        if let Err(e) = store.sync() {
            tracing::error!(error = %e, "final sync failed");
        }
    } else {
        // Everything is committed: sync and leave the index snapshot for a quick restart.
        let store2 = store.clone();
        match tokio::task::spawn_blocking(move || store2.close()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "closing the store failed"),
            Err(e) => tracing::error!(error = %e, "closing the store panicked"),
        }
    }
    tracing::info!("stopped");
    served
}

/// Caps glibc's malloc arenas at two before any thread starts. By default every thread that
/// allocates may get an arena of its own (up to 8 per core), and the parsing and sled
/// threads leave each one fragmented: measured at 100k reports, the server's peak RSS was
/// 355 MiB with the default and 260 MiB with two arenas, at the same ingest rate.
/// `MALLOC_ARENA_MAX` in the environment still wins. A no-op on other C libraries.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; called before other threads.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

/// `nianbao.pid` in the data directory while a server runs there: the process to signal
/// (`kill -HUP "$(cat data/nianbao.pid)"` reloads the token file), never another nianbao's.
/// Removed when dropped, at a clean stop.
pub struct PidFile(std::path::PathBuf);

/// The pid file's name in the data directory.
pub const PID_FILE: &str = "nianbao.pid";

impl PidFile {
    pub fn write(data_dir: &std::path::Path) -> std::io::Result<PidFile> {
        let path = data_dir.join(PID_FILE);
        std::fs::write(&path, format!("{}\n", std::process::id()))?;
        Ok(PidFile(path))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Serves the HTTP side (metrics and the pages, [`crate::service::web`]) on `listener` in a
/// task of its own, behind the same tokens as the gRPC services, until `shutdown`.
pub fn spawn_pages(
    listener: tokio::net::TcpListener,
    store: Store,
    options: &ServerOptions,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let gate = Gate::new(options.auth_token.as_deref(), options.auth_tokens.clone());
    let router = crate::service::web::router(store, gate, Some(metrics), options.reader.clone());
    tokio::spawn(async move {
        if let Err(e) = crate::service::web::serve(listener, router, shutdown).await {
            tracing::error!(error = %e, "the HTTP side stopped");
        }
    });
}
