//! Clients nobody here wrote, against a real server: grpcurl (reflection only, no proto files)
//! and a Python client generated from proto/ by grpcio-tools. scripts/install-interop.sh
//! installs both into ./.venv (scripts/test runs it first).

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use nianbao::server::ServerOptions;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn venv_tool(name: &str) -> PathBuf {
    let path = root().join(".venv/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/install-interop.sh (scripts/test does)",
        path.display()
    );
    path
}

async fn start(dir: &Path) -> (String, tokio::sync::oneshot::Sender<()>) {
    common::serve(dir, ServerOptions::default()).await
}

/// Runs grpcurl with `args`, the request JSON on stdin when given; returns stdout.
fn grpcurl(addr: &str, args: &[&str], body: Option<&str>) -> String {
    let mut cmd = Command::new(venv_tool("grpcurl"));
    cmd.arg("-plaintext");
    if body.is_some() {
        cmd.args(["-d", "@"]);
    }
    cmd.arg(addr)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run grpcurl");
    if let Some(body) = body {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "grpcurl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpcurl_with_reflection_only() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, stop) = start(dir.path()).await;
    let run = |args: &'static [&'static str], body: Option<String>| {
        let addr = addr.clone();
        tokio::task::spawn_blocking(move || grpcurl(&addr, args, body.as_deref()))
    };

    let list = run(&["list"], None).await.unwrap();
    for service in [
        "grpc.health.v1.Health",
        "nianbao.v1.IngestService",
        "nianbao.v1.ReportService",
    ] {
        assert!(
            list.lines().any(|l| l == service),
            "{service} not listed:\n{list}"
        );
    }
    let described = run(&["describe", "nianbao.v1.ReportService"], None)
        .await
        .unwrap();
    assert!(described.contains("rpc Aggregate"), "{described}");
    let described = run(&["describe", "nianbao.v1.Report"], None).await.unwrap();
    assert!(described.contains("applications"), "{described}");
    let health: Value =
        serde_json::from_str(&run(&["grpc.health.v1.Health/Check"], None).await.unwrap()).unwrap();
    assert_eq!(health["status"], "SERVING");

    let bytes =
        std::fs::read(root().join("tests/corpus/beijing-chaoyang-district-2022.txt")).unwrap();
    let body = serde_json::json!({
        "content": base64::engine::general_purpose::STANDARD.encode(&bytes),
        "source": "beijing-chaoyang-district-2022.txt",
    });
    let ingested: Value = serde_json::from_str(
        &run(
            &["nianbao.v1.IngestService/IngestOne"],
            Some(body.to_string()),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(ingested["outcome"], "OUTCOME_STORED");
    let id = ingested["id"].as_str().unwrap().to_owned();
    assert_eq!(id, nianbao::store::report_id(&bytes));

    let got: Value = serde_json::from_str(
        &run(
            &["nianbao.v1.ReportService/GetReport"],
            Some(serde_json::json!({ "id": id }).to_string()),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(got["report"]["agency"], "北京市朝阳区人民政府");
    assert_eq!(
        got["report"]["applications"]["newReceived"]["total"],
        "2209"
    );

    let agg =
        serde_json::json!({"metrics": ["applications.new_received.total"], "group_by": ["year"]});
    let agg: Value = serde_json::from_str(
        &run(
            &["nianbao.v1.ReportService/Aggregate"],
            Some(agg.to_string()),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(agg["groups"][0]["key"][0], "2022");
    assert_eq!(agg["groups"][0]["sums"][0]["sum"], 2209.0);

    let metrics: Value = serde_json::from_str(
        &run(&["nianbao.v1.ReportService/ListMetrics"], None)
            .await
            .unwrap(),
    )
    .unwrap();
    let paths: Vec<&str> = metrics["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"applications.new_received.total") && paths.contains(&"review.corrected")
    );
    let _ = stop.send(());
}

/// Python stubs generated from proto/ by grpcio-tools, in a temporary directory.
fn python_stubs(python: &Path) -> tempfile::TempDir {
    let generated = tempfile::tempdir().unwrap();
    let protos: Vec<PathBuf> = ["report", "service", "store"]
        .iter()
        .map(|p| root().join(format!("proto/nianbao/v1/{p}.proto")))
        .collect();
    let status = Command::new(python)
        .args(["-m", "grpc_tools.protoc"])
        .arg(format!("-I{}", root().join("proto").display()))
        .arg(format!("--python_out={}", generated.path().display()))
        .arg(format!("--grpc_python_out={}", generated.path().display()))
        .args(&protos)
        .status()
        .unwrap();
    assert!(status.success(), "grpcio-tools failed to compile proto/");
    generated
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_grpcio_scraper_streams_the_corpus() {
    let python = venv_tool("python");
    let generated = python_stubs(&python);

    let dir = tempfile::tempdir().unwrap();
    let (addr, stop) = start(dir.path()).await;
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(root().join("tests/interop/scraper.py"))
            .arg(&addr)
            .arg(root().join("tests/corpus"))
            .arg(generated.path())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "scraper failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["answers"], 7);
    assert!(report["problems"].as_array().unwrap().is_empty());
    let _ = stop.send(());
}

/// The same document twice in one stream, from a client without retries: the stream completes
/// with two answers, STORED then DUPLICATE, one id, each tag echoed (what `nianbao upload`
/// once took for a stream cut short).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_grpcio_scraper_sends_one_document_twice() {
    let python = venv_tool("python");
    let generated = python_stubs(&python);
    let dir = tempfile::tempdir().unwrap();
    let (addr, stop) = start(dir.path()).await;
    let name = "beijing-chaoyang-district-2022.txt";
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(root().join("tests/interop/scraper.py"))
            .arg(&addr)
            .arg(root().join("tests/corpus"))
            .arg(generated.path())
            .args(["--twice", name])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "scraper failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["answers"], 2);
    assert_eq!(
        report["outcomes"],
        serde_json::json!(["OUTCOME_STORED", "OUTCOME_DUPLICATE"])
    );
    let id =
        nianbao::store::report_id(&std::fs::read(root().join("tests/corpus").join(name)).unwrap());
    assert_eq!(report["ids"], serde_json::json!([id, id]));
    assert_eq!(
        report["tags"],
        serde_json::json!([format!("{name}#1"), format!("{name}#2")])
    );
    assert!(report["problems"].as_array().unwrap().is_empty());
    let _ = stop.send(());
}

/// The commands of a shell block: a command goes on over a line ending in `\\` and over
/// lines inside quotes.
fn commands(block: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in block.lines() {
        if current.is_empty() && line.trim_start().starts_with('#') {
            continue; // a comment, whose apostrophes quote nothing
        }
        current.push_str(line);
        current.push('\n');
        let singles = current.matches('\'').count();
        let doubles = current.matches('"').count() - current.matches("\\\"").count();
        if singles % 2 == 0 && doubles % 2 == 0 && !line.ends_with('\\') {
            out.push(std::mem::take(&mut current));
        }
    }
    out.push(current);
    out
}

/// The README's commands, as a newcomer pastes them, run against a real server holding the
/// test corpus: every grpcurl, query, export and parse example exits 0 (those that start a
/// server or need tokens, root or OCR are left out). The server is told to listen on port 0
/// and says where it listens; `data/nianbao.pid` names it while it runs.
#[test]
fn the_readme_examples_run() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let data = tempfile::tempdir().unwrap();
    let server = common::Serve::new(data.path()).start();
    let addr = server.addr.clone();
    let pid = std::fs::read_to_string(data.path().join("nianbao.pid")).unwrap();
    assert_eq!(pid.trim(), server.pid().to_string());
    let work = tempfile::tempdir().unwrap();
    let corpus = root().join("tests/corpus");
    let bin = env!("CARGO_BIN_EXE_nianbao");
    let path = format!(
        "{}:{}",
        root().join(".venv/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let has = |tool: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .env("PATH", &path)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    // The corpus first, as a newcomer's upload would store it.
    let upload = Command::new(bin)
        .args(["upload", "--no-progress", "--server", &addr, "--journal"])
        .arg(work.path().join("journal"))
        .arg(corpus.join("real"))
        .output()
        .unwrap();
    assert_eq!(
        upload.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&upload.stdout)
    );

    let mut ran = 0;
    for block in readme.split("```sh\n").skip(1) {
        let block = &block[..block.find("```").unwrap()];
        if ["-- serve", "sudo", "Bearer", "tokens", "mktemp"]
            .iter()
            .any(|w| block.contains(w))
        {
            continue;
        }
        for command in commands(block) {
            let command = command.trim();
            if command.is_empty() || command.starts_with('#') {
                continue;
            }
            if command.contains("| jq") && !has("jq") {
                continue;
            }
            let command = command
                .replace("cargo run --release --", bin)
                .replace("127.0.0.1:50051", &addr)
                .replace("tests/corpus/", &format!("{}/", corpus.display()));
            let out = Command::new("bash")
                .args(["-c", &command])
                .current_dir(work.path())
                .env("PATH", &path)
                .env("NIANBAO_SERVER", &addr)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "README command failed: {command}\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            ran += 1;
        }
    }
    assert!(ran >= 25, "only {ran} README commands ran");
    drop(server);
}
