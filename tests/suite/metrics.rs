//! Prometheus metrics over HTTP from the real binary, on only when --metrics-listen is set.

use std::io::{Read, Write};

use crate::common;

use common::Serve;
use nianbao::pb::ingest_service_client::IngestServiceClient;
use nianbao::pb::report_service_client::ReportServiceClient;
use nianbao::pb::{Document, ListMetricsRequest};

fn scrape(port: u16) -> String {
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut body = String::new();
    conn.read_to_string(&mut body).unwrap();
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_documents_batches_and_queries() {
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::new(dir.path())
        .args(["--metrics-listen", "127.0.0.1:0"])
        .start();
    // The metrics listener is bound before the server says where it serves; it is the port
    // the server listens on beside its gRPC one.
    let ports = server.listening_ports();
    let http = match ports
        .iter()
        .filter(|&&p| p != server.port)
        .collect::<Vec<_>>()[..]
    {
        [&http] => http,
        _ => panic!(
            "want the gRPC port {} and one metrics port: {ports:?}",
            server.port
        ),
    };
    let channel = server.channel().await;
    let content = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/beijing-chaoyang-district-2022.txt"
    ))
    .unwrap();
    let mut ingest = IngestServiceClient::new(channel.clone());
    ingest
        .ingest_one(Document {
            content: content.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    ingest
        .ingest_one(Document {
            content,
            ..Default::default()
        })
        .await
        .unwrap();
    ingest.ingest_one(Document::default()).await.unwrap();
    ReportServiceClient::new(channel)
        .list_metrics(ListMetricsRequest {})
        .await
        .unwrap();

    let body = scrape(http);
    for line in [
        "nianbao_documents_total{outcome=\"stored\"} 1",
        "nianbao_documents_total{outcome=\"duplicate\"} 1",
        "nianbao_documents_total{outcome=\"rejected\"} 1",
        "nianbao_documents_in_flight 0",
        "nianbao_batch_commit_seconds_count 1",
        "nianbao_query_seconds_count{rpc=\"list_metrics\"} 1",
        "nianbao_store_reports 1",
    ] {
        assert!(
            body.lines().any(|l| l == line),
            "{line:?} missing from:\n{body}"
        );
    }
}
