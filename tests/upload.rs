//! `nianbao upload` against a real server: summary and exit code, the journal-driven re-run,
//! and retries while the server is not up yet.

mod common;

use std::path::Path;
use std::process::Command;

use nianbao::server::ServerOptions;

fn corpus_dir(into: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    std::fs::create_dir_all(into.join("nested")).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "txt") {
            std::fs::copy(&p, into.join(p.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(into.join("nested/empty.txt"), b"").unwrap();
}

fn upload(server: &str, journal: &Path, files: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args([
            "upload",
            "--no-progress",
            "--max-retries",
            "6",
            "--server",
            server,
            "--journal",
        ])
        .arg(journal)
        .arg(files)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_summarises_and_resumes() {
    let files = tempfile::tempdir().unwrap();
    corpus_dir(files.path());
    let data = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = format!("http://{}", listener.local_addr().unwrap());
    let stop = common::serve_on(listener, data.path(), ServerOptions::default()).await;
    let journal = files.path().join("journal");

    let (ok, out) = tokio::task::spawn_blocking({
        let (server, journal, dir) = (server.clone(), journal.clone(), files.path().to_owned());
        move || upload(&server, &journal, &dir)
    })
    .await
    .unwrap();
    assert!(
        !ok,
        "a rejected file makes the exit status non-zero:\n{out}"
    );
    for line in [
        "files: 8",
        "stored: 6",
        "revision: 1",
        "rejected: 1",
        "1 × empty document",
        "not acknowledged: 0",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    // Re-run: nothing is sent again.
    std::fs::remove_file(files.path().join("nested/empty.txt")).unwrap();
    let (ok, out) = tokio::task::spawn_blocking({
        let (server, journal, dir) = (server.clone(), journal.clone(), files.path().to_owned());
        move || upload(&server, &journal, &dir)
    })
    .await
    .unwrap();
    assert!(ok, "{out}");
    assert!(
        out.contains("stored: 0") && out.contains("already acknowledged (journal): 7"),
        "{out}"
    );
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_retries_until_the_server_is_up() {
    let files = tempfile::tempdir().unwrap();
    corpus_dir(files.path());
    std::fs::remove_file(files.path().join("nested/empty.txt")).unwrap();
    let data = tempfile::tempdir().unwrap();
    // Reserve a port, start the upload against it, bring the server up a little later.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = format!("http://127.0.0.1:{port}");
    let journal = files.path().join("journal");
    let uploading = tokio::task::spawn_blocking({
        let dir = files.path().to_owned();
        move || upload(&server, &journal, &dir)
    });
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let stop = common::serve_on(listener, data.path(), ServerOptions::default()).await;
    let (ok, out) = uploading.await.unwrap();
    assert!(ok, "{out}");
    assert!(
        out.contains("stored: 6") && out.contains("revision: 1"),
        "{out}"
    );
    assert!(
        out.contains("retrying"),
        "the first attempts must have failed and been retried:\n{out}"
    );
    let _ = stop.send(());
}
