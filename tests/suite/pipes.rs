//! Regression: `nianbao parse FILE | head` and `nianbao export - | head` ended with
//! `nianbao: writing to stdout: Broken pipe (os error 32)` and a failing exit status. A reader
//! that goes away has what it wanted: the commands end quietly, exit 0.

use crate::common;

use std::path::Path;
use std::process::{Command, Stdio};

use nianbao::pb::ingest_service_client::IngestServiceClient;
use nianbao::pb::Document;
use nianbao::server::ServerOptions;

/// Runs `nianbao ARGS` with its stdout a pipe whose reader is closed at once (before the
/// command writes: `| head -0`); returns its exit code and stderr.
fn with_closed_stdout(args: &[String]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn parse_into_a_closed_pipe_ends_quietly() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/huaian-city-2024.txt")
        .display()
        .to_string();
    for flags in [&[][..], &["--json"], &["--facts"], &["--text"]] {
        let mut args = vec!["parse".to_owned()];
        args.extend(flags.iter().map(|f| f.to_string()));
        // More output than a pipe buffers, should the reader not be gone yet.
        args.extend(std::iter::repeat_n(file.clone(), 40));
        let (code, stderr) = with_closed_stdout(&args);
        assert_eq!(code, Some(0), "{flags:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{flags:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_into_a_closed_pipe_ends_quietly() {
    let data = tempfile::tempdir().unwrap();
    let (addr, stop) = common::serve(data.path(), ServerOptions::default()).await;
    let port = addr.rsplit(':').next().unwrap().parse().unwrap();
    let mut ingest = IngestServiceClient::new(common::connect(port).await);
    let content = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/huaian-city-2024.txt"),
    )
    .unwrap();
    ingest
        .ingest_one(Document {
            content,
            ..Default::default()
        })
        .await
        .unwrap();
    for format in ["csv", "jsonl"] {
        let args: Vec<String> = ["export", "--server", &addr, "--format", format, "-"]
            .iter()
            .map(|a| a.to_string())
            .collect();
        let (code, stderr) = tokio::task::spawn_blocking(move || with_closed_stdout(&args))
            .await
            .unwrap();
        assert_eq!(code, Some(0), "{format}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{format}: {stderr}");
    }
    let _ = stop.send(());
}
