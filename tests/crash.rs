//! Durability against kill -9: the real binary serves, a client streams documents, the
//! server is killed with SIGKILL at a moment that varies per trial, restarted on the same data
//! directory, and every acknowledged report must be there and readable.
//! NIANBAO_CRASH_TRIALS sets the number of trials (default 3).

use std::path::Path;
use std::process::{Child, Command, Stdio};

mod common;

use common::{connect, free_port};
use nianbao::pb::ingest_service_client::IngestServiceClient;
use nianbao::pb::report_service_client::ReportServiceClient;
use nianbao::pb::{Document, GetReportRequest, Outcome};

fn spawn(dir: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nianbao serve")
}

fn corpus_docs(trial: u64, n: usize) -> Vec<Document> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    (0..n)
        .map(|i| {
            // Each document distinct: the same report with a trailing line of its own.
            let mut content = std::fs::read(&files[i % files.len()]).unwrap();
            content.extend_from_slice(format!("\n附：上传批次 {trial}-{i}\n").as_bytes());
            Document {
                content,
                tag: format!("{trial}-{i}"),
                ..Default::default()
            }
        })
        .collect()
}

/// A deterministic spread of kill moments over the trials.
fn kill_after(trial: u64) -> usize {
    (trial.wrapping_mul(2_654_435_761) % 120) as usize + 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_reports_survive_sigkill() {
    let trials: u64 = std::env::var("NIANBAO_CRASH_TRIALS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    let mut acked: Vec<String> = Vec::new();
    for trial in 0..trials {
        let port = free_port();
        let mut child = spawn(dir.path(), port);
        let channel = connect(port).await;
        let (tx, rx) = tokio::sync::mpsc::channel::<Document>(16);
        let docs = corpus_docs(trial, 200);
        tokio::spawn(async move {
            for d in docs {
                if tx.send(d).await.is_err() {
                    break;
                }
            }
        });
        let mut client = IngestServiceClient::new(channel);
        let mut stream = client
            .ingest(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
            .unwrap()
            .into_inner();
        let stop_at = kill_after(trial);
        let mut seen = 0;
        while let Ok(Some(r)) = stream.message().await {
            if r.outcome == Outcome::Stored as i32
                || r.outcome == Outcome::Revision as i32
                || r.outcome == Outcome::Duplicate as i32
            {
                acked.push(r.id);
            }
            seen += 1;
            if seen == stop_at {
                child.kill().unwrap(); // SIGKILL
                break;
            }
        }
        let _ = child.wait();
        drop(stream);

        // Restarted on the same directory: the database opens and every ack is there.
        let port = free_port();
        let mut child = spawn(dir.path(), port);
        let mut q = ReportServiceClient::new(connect(port).await);
        for id in &acked {
            let got = q
                .get_report(GetReportRequest {
                    id: id.clone(),
                    include_text: true,
                })
                .await;
            let got = got
                .unwrap_or_else(|e| panic!("trial {trial}: acknowledged {id} lost: {e}"))
                .into_inner();
            assert!(got.report.is_some() && !got.text.is_empty());
        }
        child.kill().unwrap();
        let _ = child.wait();
    }
    assert!(!acked.is_empty());
}
