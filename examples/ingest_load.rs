//! Streams N distinct documents (corpus reports, each with a unique trailing line) over one
//! Ingest stream and reports documents/s and MB/s of durable acknowledgements:
//! cargo run --release --example ingest_load -- http://127.0.0.1:50051 N
use std::time::Instant;

use nianbao::pb::ingest_service_client::IngestServiceClient;
use nianbao::pb::{Document, Outcome};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().expect("ADDR");
    let n: usize = args.next().map_or(2000, |s| s.parse().expect("N"));
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    files.sort();
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let docs: Vec<Document> = (0..n)
        .map(|i| {
            let mut content = files[i % files.len()].clone();
            content.extend_from_slice(format!("\n附：负载 {stamp}-{i}\n").as_bytes());
            Document {
                content,
                ..Default::default()
            }
        })
        .collect();
    let bytes: usize = docs.iter().map(|d| d.content.len()).sum();
    let mut client = IngestServiceClient::connect(addr)
        .await
        .expect("connect")
        .max_decoding_message_size(64 << 20);
    let started = Instant::now();
    let mut stream = client
        .ingest(tokio_stream::iter(docs))
        .await
        .expect("ingest")
        .into_inner();
    let mut stored = 0;
    while let Some(r) = stream.message().await.expect("answer") {
        if r.outcome == Outcome::Stored as i32 || r.outcome == Outcome::Revision as i32 {
            stored += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{stored}/{n} stored in {secs:.2} s: {:.0} documents/s, {:.1} MB/s",
        n as f64 / secs,
        bytes as f64 / secs / 1e6
    );
}
