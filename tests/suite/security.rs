//! Access control and TLS over a real socket.

use crate::common;
use common::{a_document, with_token};

use nianbao::pb::ingest_service_client::IngestServiceClient;
use nianbao::pb::report_service_client::ReportServiceClient;
use nianbao::pb::ListMetricsRequest;
use nianbao::server::ServerOptions;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use tonic::Code;

const TOKEN: &str = "tok-3f9a7c1e-not-in-logs";

async fn start(
    options: ServerOptions,
) -> (String, tokio::sync::oneshot::Sender<()>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (addr, stop) = common::serve(dir.path(), options).await;
    (addr, stop, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_non_health_rpc_needs_the_token() {
    let (addr, stop, _dir) = start(ServerOptions {
        auth_token: Some(TOKEN.into()),
        ..Default::default()
    })
    .await;
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut q = ReportServiceClient::new(channel.clone());
    let mut i = IngestServiceClient::new(channel.clone());
    for token in [None, Some("wrong")] {
        let e = q
            .list_metrics(with_token(ListMetricsRequest {}, token))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "{token:?}");
        assert!(!e.message().contains(TOKEN));
        let e = i
            .ingest_one(with_token(a_document(), token))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated);
        let e = i
            .ingest(with_token(tokio_stream::iter(vec![a_document()]), token))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated);
    }
    assert!(q
        .list_metrics(with_token(ListMetricsRequest {}, Some(TOKEN)))
        .await
        .is_ok());
    assert!(i
        .ingest_one(with_token(a_document(), Some(TOKEN)))
        .await
        .is_ok());
    // Health stays open.
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    assert!(health
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new()
        })
        .await
        .is_ok());
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_tls_with_a_certificate_and_key() {
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert_pem, key_pem) = (cert.pem(), key_pair.serialize_pem());
    let options = ServerOptions {
        tls: Some((cert_pem.clone().into_bytes(), key_pem.into_bytes())),
        ..Default::default()
    };
    let (addr, stop, _dir) = start(options).await;
    let port = addr.rsplit(':').next().unwrap();
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&cert_pem))
        .domain_name("localhost");
    let channel = Channel::from_shared(format!("https://localhost:{port}"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let metrics = ReportServiceClient::new(channel)
        .list_metrics(ListMetricsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(!metrics.metrics.is_empty());
    // Plaintext against the TLS port fails.
    let plain = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await;
    if let Ok(plain) = plain {
        assert!(ReportServiceClient::new(plain)
            .list_metrics(ListMetricsRequest {})
            .await
            .is_err());
    }
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_never_reaches_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    // Logs go to a file: a pipe nobody reads until exit would fill up and block the server.
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = common::Serve::new(&dir.path().join("db"))
        .args(["--shutdown-grace-secs", "1"])
        .env("NIANBAO_AUTH_TOKEN", TOKEN)
        .env("RUST_LOG", "trace")
        .stderr(log)
        .start();
    let channel = server.channel().await;
    let mut i = IngestServiceClient::new(channel.clone());
    assert!(i
        .ingest_one(with_token(a_document(), Some(TOKEN)))
        .await
        .is_ok());
    let _ = i
        .ingest_one(with_token(a_document(), Some("wrong-token-also-secret")))
        .await;
    let _ = ReportServiceClient::new(channel)
        .list_metrics(with_token(ListMetricsRequest {}, Some(TOKEN)))
        .await;
    // SIGTERM: a graceful stop, so the logs are flushed.
    server.signal(libc::SIGTERM);
    assert!(server.wait().success());
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(logs.contains("serving"), "no logs captured:\n{logs}");
    assert!(!logs.contains(TOKEN), "the token appears in the logs");
    assert!(
        !logs.contains("wrong-token-also-secret"),
        "a presented token appears in the logs"
    );
}
