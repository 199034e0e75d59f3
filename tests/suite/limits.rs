//! Limits and protocol abuse, each set explicitly and each shown to act: maximum message
//! size, concurrent streams per connection, HTTP/2 keepalive, Ingest stream idle timeout
//! and maximum stream age.

use crate::common;

use std::time::Duration;

use nianbao::pb::ingest_service_client::IngestServiceClient;
use nianbao::pb::report_service_client::ReportServiceClient;
use nianbao::pb::{Document, ListMetricsRequest, Outcome};
use nianbao::server::ServerOptions;
use nianbao::service::ingest::StreamLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::Channel;
use tonic::Code;

async fn start(options: ServerOptions) -> (Channel, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (addr, stop) = common::serve(dir.path(), options).await;
    // The server runs until the test's runtime ends.
    std::mem::forget(stop);
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    (channel, addr, dir)
}

fn corpus_doc(tag: &str) -> Document {
    let mut content = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/corpus/beijing-chaoyang-district-2022.txt"),
    )
    .unwrap();
    content.extend_from_slice(format!("\n附：{tag}\n").as_bytes());
    Document {
        content,
        tag: tag.into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_size_limit_refuses_the_message_not_the_connection() {
    let (channel, _, _dir) = start(ServerOptions {
        max_message_bytes: 1 << 20,
        ..Default::default()
    })
    .await;
    let mut ingest = IngestServiceClient::new(channel.clone());
    let e = ingest
        .ingest_one(Document {
            content: vec![b'x'; 2 << 20],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(e.code(), Code::ResourceExhausted | Code::OutOfRange),
        "{e:?}"
    );
    // The same connection still serves.
    let r = ingest
        .ingest_one(corpus_doc("after"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.outcome, Outcome::Stored as i32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_streams_per_connection_are_capped() {
    let (channel, _, _dir) = start(ServerOptions {
        max_concurrent_streams: 2,
        ..Default::default()
    })
    .await;
    // Two Ingest streams held open on one connection use up its streams...
    let mut held = Vec::new();
    for _ in 0..2 {
        let (tx, rx) = tokio::sync::mpsc::channel::<Document>(1);
        let stream = IngestServiceClient::new(channel.clone())
            .ingest(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
            .unwrap();
        held.push((tx, stream));
    }
    // ...so a third call on it waits for one of them to end: after it was made, each held
    // stream takes a document and answers it (a round trip on the same connection, a parse
    // longer than a ListMetrics), and the third is still unanswered.
    let mut q = ReportServiceClient::new(channel.clone());
    let third = tokio::spawn(async move { q.list_metrics(ListMetricsRequest {}).await });
    for (i, (tx, stream)) in held.iter_mut().enumerate() {
        tx.send(corpus_doc(&format!("held-{i}"))).await.unwrap();
        let answer = stream.get_mut().message().await.unwrap().unwrap();
        assert_ne!(answer.outcome, Outcome::Rejected as i32, "{answer:?}");
    }
    assert!(
        !third.is_finished(),
        "a third stream opened past the cap of 2"
    );
    held.pop();
    let r = tokio::time::timeout(Duration::from_secs(10), third)
        .await
        .expect("the third call goes through once a stream ends")
        .unwrap();
    assert!(r.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_never_answers_keepalive_pings_is_dropped() {
    let (_, addr, _dir) = start(ServerOptions {
        keepalive_interval: Duration::from_millis(300),
        keepalive_timeout: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    // A raw HTTP/2 client: preface and an empty SETTINGS frame, then silence (it never
    // answers a PING nor acknowledges the server's SETTINGS).
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    tcp.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap();
    // Read (and ignore) what the server sends until it closes the connection. The deadline
    // only ends a hung test; it is below the default keepalive (its first ping), so the
    // settings given here are the ones that dropped the peer.
    const DEADLINE: Duration = Duration::from_secs(nianbao::server::DEFAULT_KEEPALIVE_SECS - 5);
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(DEADLINE, async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "a silent peer was kept for {DEADLINE:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_stream_is_closed_after_its_answers() {
    let (channel, _, _dir) = start(ServerOptions {
        stream_limits: StreamLimits {
            idle: Duration::from_millis(400),
            max_age: Duration::from_secs(60),
        },
        ..Default::default()
    })
    .await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Document>(4);
    tx.send(corpus_doc("idle-1")).await.unwrap();
    let mut answers = IngestServiceClient::new(channel)
        .ingest(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    let first = answers.message().await.unwrap().unwrap();
    assert_eq!(first.outcome, Outcome::Stored as i32);
    // Then nothing is sent, and the stream is not closed by the client.
    let e = answers.message().await.unwrap_err();
    assert_eq!(e.code(), Code::DeadlineExceeded, "{e:?}");
    assert!(e.message().contains("no document for"), "{}", e.message());
    drop(tx);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_past_its_maximum_age_is_closed_and_what_it_sent_stands() {
    let (channel, _, _dir) = start(ServerOptions {
        stream_limits: StreamLimits {
            idle: Duration::from_secs(30),
            max_age: Duration::from_millis(800),
        },
        ..Default::default()
    })
    .await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Document>(4);
    let sender = tokio::spawn(async move {
        for i in 0..100 {
            if tx.send(corpus_doc(&format!("age-{i}"))).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut answers = IngestServiceClient::new(channel.clone())
        .ingest(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    let mut stored = Vec::new();
    let end = loop {
        match answers.message().await {
            Ok(Some(r)) => {
                // One body and year: the first is stored, the others are its revisions.
                assert!(
                    r.outcome == Outcome::Stored as i32
                        || r.outcome == Outcome::Revision as i32
                        || r.outcome == Outcome::Rendition as i32,
                    "{r:?}"
                );
                stored.push(r.id);
            }
            Ok(None) => panic!("the stream ended without the age limit"),
            Err(e) => break e,
        }
    };
    sender.abort();
    assert_eq!(end.code(), Code::Unavailable, "{end:?}");
    assert!(end.message().contains("new stream"), "{}", end.message());
    assert!(!stored.is_empty() && stored.len() < 100);
    common::verify_store(channel, &stored, "after the age limit").await;
}
