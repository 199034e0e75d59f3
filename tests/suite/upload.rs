//! `nianbao upload` against a real server: summary and exit code, the journal-driven re-run,
//! retries while the server is not up yet, folders that hold the same file twice, the
//! sidecar manifest of URLs and publication dates, a file too large for the server, and the
//! edges a cron job meets (a missing path, an endpoint without a scheme, no server).

use crate::common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::{Stream, StreamExt};
use nianbao::pb::ingest_service_server::{IngestService, IngestServiceServer};
use nianbao::pb::report_service_client::ReportServiceClient;
use nianbao::pb::{
    DateSource, Document, Filter, GetReportRequest, IngestResult, ListReportsRequest, Outcome,
    Publication,
};
use nianbao::server::ServerOptions;
use tonic::{Request, Response, Status, Streaming};

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

/// `nianbao upload --no-progress --max-retries 2 --journal JOURNAL ARGS...`: its exit code
/// and its stdout and stderr.
async fn upload_args(journal: &Path, args: &[&str]) -> (Option<i32>, String) {
    let journal = journal.to_owned();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
            .args(["upload", "--no-progress", "--max-retries", "2", "--journal"])
            .arg(journal)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    })
    .await
    .unwrap()
}

/// Runs [`upload`] off the test's runtime (the server shares it).
async fn upload_blocking(server: &str, journal: &Path, files: &Path) -> (bool, String) {
    let (server, journal, files) = (server.to_owned(), journal.to_owned(), files.to_owned());
    tokio::task::spawn_blocking(move || upload(&server, &journal, &files))
        .await
        .unwrap()
}

/// A server in this process on a fresh port with its store in `data`: its `http://` address
/// and the sender that stops it.
async fn start(data: &Path) -> (String, tokio::sync::oneshot::Sender<()>) {
    let (addr, stop) = common::serve(data, ServerOptions::default()).await;
    (format!("http://{addr}"), stop)
}

/// Every report the server holds, every revision: ids, as many as it holds.
async fn stored_ids(server: &str) -> Vec<String> {
    let port = server.rsplit(':').next().unwrap().parse().unwrap();
    let mut q = ReportServiceClient::new(common::connect(port).await);
    let listed = q
        .list_reports(ListReportsRequest {
            filter: Some(Filter {
                all_revisions: true,
                ..Default::default()
            }),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.next_page_token.is_empty());
    listed.reports.into_iter().map(|r| r.id).collect()
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
        "revision: 0",
        "rendition: 1",
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
    // A port held but not listening (connections are refused); the upload starts against
    // it, and the server comes up there once the uploader says it is retrying.
    let socket = common::unlistened_port();
    let server = format!("http://{}", socket.local_addr().unwrap());
    let journal = files.path().join("journal");
    let mut uploader = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(["upload", "--no-progress", "--max-retries", "6"])
        .args(["--server", &server, "--journal"])
        .arg(&journal)
        .arg(files.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (retrying, retried) = tokio::sync::oneshot::channel();
    let stderr = tokio::task::spawn_blocking({
        let stderr = uploader.stderr.take().unwrap();
        move || {
            use std::io::BufRead;
            let mut retrying = Some(retrying);
            let mut text = String::new();
            for line in std::io::BufReader::new(stderr).lines() {
                let line = line.unwrap();
                if line.contains("retrying") {
                    if let Some(retrying) = retrying.take() {
                        let _ = retrying.send(());
                    }
                }
                text.push_str(&line);
                text.push('\n');
            }
            text
        }
    });
    retried
        .await
        .expect("the uploader ended without retrying against a port nobody listens on");
    let stop = common::serve_on(
        socket.listen(1024).unwrap(),
        data.path(),
        ServerOptions::default(),
    )
    .await;
    let (ok, out) = {
        let out = tokio::task::spawn_blocking(move || uploader.wait_with_output().unwrap())
            .await
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned() + &stderr.await.unwrap(),
        )
    };
    assert!(ok, "{out}");
    assert!(
        out.contains("stored: 6") && out.contains("rendition: 1"),
        "{out}"
    );
    assert!(
        out.contains("retrying"),
        "the first attempts must have failed and been retried:\n{out}"
    );
    let _ = stop.send(());
}

/// Regression: a folder holding the same file twice ended its first stream with "the server
/// closed the stream before answering every document" (the uploader waited for an answer per
/// distinct id but counted answers per file) and only finished on a retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_of_a_folder_holding_one_report_twice_takes_one_pass() {
    let files = tempfile::tempdir().unwrap();
    corpus_dir(files.path());
    std::fs::remove_file(files.path().join("nested/empty.txt")).unwrap();
    // The same report saved a second time under another name, as scrapers do.
    let first = files.path().join("beijing-chaoyang-district-2022.txt");
    let repeat = files
        .path()
        .join("nested/朝阳区2022年政府信息公开工作年度报告.txt");
    std::fs::copy(&first, &repeat).unwrap();
    let data = tempfile::tempdir().unwrap();
    let (server, stop) = start(data.path()).await;
    let journal = files.path().join("journal");

    let (ok, out) = upload_blocking(&server, &journal, files.path()).await;
    assert!(ok, "every file answered, none rejected: exit 0:\n{out}");
    for line in [
        "files: 8",
        "stored: 6",
        "duplicate: 1",
        "revision: 0",
        "rendition: 1",
        "rejected: 0",
        "not acknowledged: 0",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    let named = format!("{}: duplicate of {}", repeat.display(), first.display());
    assert!(out.contains(&named), "{named:?} missing from:\n{out}");
    assert!(
        !out.contains("retrying"),
        "one pass, no retried stream:\n{out}"
    );
    let ids = stored_ids(&server).await;
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(
        (ids.len(), distinct.len()),
        (7, 7),
        "each distinct report stored once"
    );
    let journaled = std::fs::read_to_string(&journal).unwrap();
    let id = nianbao::store::report_id(&std::fs::read(&first).unwrap());
    for path in [&first, &repeat] {
        let line = format!("{id}\t{}", path.display());
        assert!(
            journaled.lines().any(|l| l == line),
            "{line:?} missing from the journal:\n{journaled}"
        );
    }

    // Re-run, with the report saved a third time: every file was answered before, by its
    // path or by its bytes; nothing is sent.
    std::fs::copy(&first, files.path().join("nested/again.txt")).unwrap();
    let (ok, out) = upload_blocking(&server, &journal, files.path()).await;
    assert!(ok, "{out}");
    for line in [
        "files: 9",
        "stored: 0",
        "duplicate: 0",
        "already acknowledged (journal): 9",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    assert_eq!(stored_ids(&server).await.len(), 7);
    let _ = stop.send(());
}

/// A repeated file that is not a report is rejected for both paths, for the same reason, and
/// (as any rejection) makes the exit status non-zero; the journal answers both on a re-run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_rejects_both_copies_of_a_repeated_non_report_alike() {
    let files = tempfile::tempdir().unwrap();
    let negative = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/negative/gansu-hezheng-statistical-bulletin-2022.txt");
    let first: PathBuf = files.path().join("bulletin.txt");
    let repeat: PathBuf = files.path().join("bulletin (1).txt");
    for path in [&first, &repeat] {
        std::fs::copy(&negative, path).unwrap();
    }
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/corpus/beijing-chaoyang-district-2022.txt"),
        files.path().join("report.txt"),
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let (server, stop) = start(data.path()).await;
    let journal = files.path().join("journal");

    let (ok, out) = upload_blocking(&server, &journal, files.path()).await;
    assert!(!ok, "rejected files make the exit status non-zero:\n{out}");
    for line in [
        "files: 3",
        "stored: 1",
        "duplicate: 0",
        "rejected: 2",
        "2 × not a report",
        "not acknowledged: 0",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    // "bulletin (1).txt" sorts before "bulletin.txt": it is the copy sent.
    let named = format!("{}: duplicate of {}", first.display(), repeat.display());
    assert!(out.contains(&named), "{named:?} missing from:\n{out}");
    assert!(!out.contains("retrying"), "{out}");

    // Nothing new was rejected in the re-run: exit 0, the rejections still named.
    let (ok, out) = upload_blocking(&server, &journal, files.path()).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("already acknowledged (journal): 1")
            && out.contains("rejected: 2")
            && out.contains("(answered in an earlier run)")
            && out.contains(&format!("    {}\n", first.display())),
        "{out}"
    );
    let _ = stop.send(());
}

/// An Ingest server whose first stream breaks after its first answer (UNAVAILABLE, as from a
/// server restarting mid-upload); later streams answer every document STORED.
#[derive(Clone, Default)]
struct BreaksFirstStream {
    streams: Arc<AtomicUsize>,
}

type Answers = Pin<Box<dyn Stream<Item = Result<IngestResult, Status>> + Send>>;

#[tonic::async_trait]
impl IngestService for BreaksFirstStream {
    type IngestStream = Answers;

    async fn ingest(
        &self,
        request: Request<Streaming<Document>>,
    ) -> Result<Response<Answers>, Status> {
        let answers = request.into_inner().map(|doc| {
            let doc = doc?;
            Ok(IngestResult {
                outcome: Outcome::Stored as i32,
                id: nianbao::store::report_id(&doc.content),
                tag: doc.tag,
                ..Default::default()
            })
        });
        if self.streams.fetch_add(1, Ordering::SeqCst) > 0 {
            return Ok(Response::new(Box::pin(answers)));
        }
        let broken = futures::stream::iter([Err(Status::unavailable("restarting"))]);
        Ok(Response::new(Box::pin(answers.take(1).chain(broken))))
    }

    async fn ingest_one(&self, _: Request<Document>) -> Result<Response<IngestResult>, Status> {
        Err(Status::unimplemented("not in this test"))
    }

    /// Like a server older than the Limits RPC: the uploader assumes the default limit.
    async fn limits(
        &self,
        _: Request<nianbao::pb::LimitsRequest>,
    ) -> Result<Response<nianbao::pb::LimitsResponse>, Status> {
        Err(Status::unimplemented("older than the Limits RPC"))
    }
}

/// A stream that breaks after answering a document with a repeat: the repeat is answered with
/// it (not dropped as answered, not sent again), the rest is sent on the retry, and every
/// file is counted and journaled once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_counts_each_file_once_across_a_broken_stream() {
    let files = tempfile::tempdir().unwrap();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let names = ["a.txt", "a (1).txt", "b.txt"];
    for (name, source) in names.iter().zip([
        "beijing-chaoyang-district-2022.txt",
        "beijing-chaoyang-district-2022.txt",
        "huaian-city-2024.txt",
    ]) {
        std::fs::copy(corpus.join(source), files.path().join(name)).unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = format!("http://{}", listener.local_addr().unwrap());
    let service = BreaksFirstStream::default();
    let streams = service.streams.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(IngestServiceServer::new(service))
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(listener),
                async {
                    let _ = stopped.await;
                },
            ),
    );
    let journal = files.path().join("journal");

    let (ok, out) = upload_blocking(&server, &journal, files.path()).await;
    assert!(ok, "{out}");
    assert_eq!(streams.load(Ordering::SeqCst), 2, "one retry:\n{out}");
    // "a (1).txt" sorts first: it is sent, answered on the broken stream, "a.txt" with it.
    for line in [
        "files: 3",
        "stored: 2",
        "duplicate: 1",
        "not acknowledged: 0",
        "retrying",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    let named = format!(
        "{}: duplicate of {}",
        files.path().join("a.txt").display(),
        files.path().join("a (1).txt").display()
    );
    assert!(out.contains(&named), "{named:?} missing from:\n{out}");
    let journaled = std::fs::read_to_string(&journal).unwrap();
    for name in names {
        let path = files.path().join(name).display().to_string();
        let lines = journaled.lines().filter(|l| l.ends_with(&path)).count();
        assert_eq!(lines, 1, "{path} journaled once:\n{journaled}");
    }
    let _ = stop.send(());
}

/// The publication a stored report carries (GetReport over the socket).
async fn publication_of(server: &str, content: &[u8]) -> Option<Publication> {
    let port = server.rsplit(':').next().unwrap().parse().unwrap();
    let mut q = ReportServiceClient::new(common::connect(port).await);
    let id = nianbao::model::id::report_id(content);
    let got = q
        .get_report(GetReportRequest {
            id,
            include_text: false,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    got.report.unwrap().publication
}

/// A folder's `nianbao-manifest.csv` gives its files their URL and publication date (the
/// client's date wins over the text's); a file it does not name keeps the date its text
/// prints; the manifest itself is not uploaded. A malformed manifest stops the upload before
/// anything is sent, with exit status 2 and the line named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_sends_the_manifest_dates_and_urls() {
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/real");
    let files = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(files.path().join("2023")).unwrap();
    let copy = |name: &str, to: &str| {
        let to = files.path().join(to);
        std::fs::copy(real.join(name), &to).unwrap();
        std::fs::read(to).unwrap()
    };
    // Prints 发布时间: 2024-01-22; the manifest says otherwise, and wins.
    let renhuai = copy(
        "guizhou-renhuai-houshan-township-2023.txt",
        "2023/后山乡.txt",
    );
    // Prints no date.
    let tongzhou = copy("beijing-tongzhou-zhangjiawan-town-2021.txt", "张家湾镇.txt");
    // Not in the manifest: prints 2024年01月16日 来源: 上海普陀 at its head.
    let putuo = copy(
        "shanghai-putuo-justice-bureau-2023.txt",
        "2023/普陀区司法局.txt",
    );
    std::fs::write(
        files.path().join("nianbao-manifest.csv"),
        "path,url,published\n\
         2023/后山乡.txt,http://www.rh.gov.cn/a.html,2024/2/3\n\
         \"张家湾镇.txt\",\"http://www.bjtzh.gov.cn/b.html?x=1,2\",2022年1月20日\n",
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let (server, stop) = start(data.path()).await;
    let journal = files.path().join("journal");

    let (ok, out) = upload_blocking(&server, &journal, files.path()).await;
    assert!(ok, "{out}");
    for line in ["files: 3", "stored: 3", "rejected: 0"] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    let client = DateSource::Client as i32;
    let p = publication_of(&server, &renhuai).await.unwrap();
    assert_eq!(
        (p.date.as_str(), p.date_source, p.url.as_str()),
        ("2024-02-03", client, "http://www.rh.gov.cn/a.html")
    );
    let p = publication_of(&server, &tongzhou).await.unwrap();
    assert_eq!(
        (p.date.as_str(), p.date_source, p.url.as_str()),
        ("2022-01-20", client, "http://www.bjtzh.gov.cn/b.html?x=1,2")
    );
    let p = publication_of(&server, &putuo).await.unwrap();
    assert_eq!(
        (p.date.as_str(), p.date_source, p.url.as_str()),
        ("2024-01-16", DateSource::Text as i32, "")
    );

    // A malformed manifest (JSON lines, a date that does not exist on line 2): exit 2,
    // nothing sent.
    let bad = tempfile::tempdir().unwrap();
    std::fs::copy(
        real.join("hubei-qianjiang-yuyang-town-2022.txt"),
        bad.path().join("渔洋镇.txt"),
    )
    .unwrap();
    std::fs::write(
        bad.path().join("nianbao-manifest.jsonl"),
        "{\"path\": \"渔洋镇.txt\", \"url\": \"http://x/a\"}\n\
         {\"path\": \"other.txt\", \"published\": \"2023-02-29\"}\n",
    )
    .unwrap();
    let out = tokio::task::spawn_blocking({
        let (server, journal, dir) = (server.clone(), journal.clone(), bad.path().to_owned());
        move || {
            Command::new(env!("CARGO_BIN_EXE_nianbao"))
                .args(["upload", "--no-progress", "--server", &server, "--journal"])
                .arg(journal)
                .arg(dir)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("nianbao-manifest.jsonl, line 2") && stderr.contains("2023-02-29"),
        "{stderr}"
    );
    assert_eq!(
        stored_ids(&server).await.len(),
        3,
        "nothing of the bad folder sent"
    );
    let _ = stop.send(());
}

/// Regression: a file larger than the server's message limit ended the whole stream with
/// OUT_OF_RANGE ("decoded message length too large"): no summary, the files after it never
/// sent, and every re-run stopped at the same file. Now the uploader asks the server's
/// limits and sends a document larger than a message in parts, which the server puts
/// together and reads as any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_sends_a_file_over_the_message_limit_in_parts() {
    const LIMIT: usize = 32 << 10;
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let files = tempfile::tempdir().unwrap();
    std::fs::copy(
        corpus.join("beijing-chaoyang-district-2022.txt"),
        files.path().join("a.txt"),
    )
    .unwrap();
    // A real report padded with blank lines to seven parts of the 16 KiB the uploader sends
    // this server, between two small ones.
    let mut big = std::fs::read(corpus.join("huaian-city-2024.txt")).unwrap();
    big.resize(3 * LIMIT + 17, b'\n');
    std::fs::write(files.path().join("b.txt"), &big).unwrap();
    std::fs::copy(
        corpus.join("beijing-chaoyang-zuojiazhuang-2019.txt"),
        files.path().join("c.txt"),
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let options = ServerOptions {
        max_message_bytes: LIMIT,
        ..Default::default()
    };
    let (addr, stop) = common::serve(data.path(), options).await;
    let server = format!("http://{addr}");
    let journal = files.path().join("journal");
    let dir = files.path().to_str().unwrap();

    let (code, out) = upload_args(&journal, &["--server", &server, dir]).await;
    assert_eq!(code, Some(0), "{out}");
    for line in [
        "files: 3",
        "stored: 3",
        "rejected: 0",
        "not acknowledged: 0",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    // Put together byte for byte: the id is the SHA-256 of the whole file, and its figures
    // are the unpadded report's.
    let id = nianbao::store::report_id(&big);
    assert!(stored_ids(&server).await.contains(&id));
    let port = addr.rsplit(':').next().unwrap().parse().unwrap();
    let report = ReportServiceClient::new(common::connect(port).await)
        .get_report(GetReportRequest {
            id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .report
        .unwrap();
    let whole = nianbao::read::parse_document(
        &std::fs::read(corpus.join("huaian-city-2024.txt")).unwrap(),
        &Default::default(),
    );
    assert_eq!(report.applications, whole.applications);
    let _ = stop.send(());
}

/// A folder holding a 60 MB scanned PDF between small reports: the scan goes in parts and is
/// answered alone (rejected: no text layer, OCR off), every other file is stored, and a
/// re-run sends nothing again. A server whose document limit is below the scan's size
/// leaves it out, named, with that limit, and takes the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_of_a_folder_with_a_60_mb_scan() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let files = tempfile::tempdir().unwrap();
    std::fs::copy(
        corpus.join("beijing-chaoyang-district-2022.txt"),
        files.path().join("a.txt"),
    )
    .unwrap();
    let scan = common::scanned_pdf(6, 10 << 20);
    assert!(scan.len() > 60_000_000, "{}", scan.len());
    let scan_path = files.path().join("b-scan.pdf");
    std::fs::write(&scan_path, &scan).unwrap();
    std::fs::copy(
        corpus.join("beijing-chaoyang-zuojiazhuang-2019.txt"),
        files.path().join("c.txt"),
    )
    .unwrap();
    // Files that are no document: skipped by their bytes, named with why.
    std::fs::write(files.path().join("notes.json"), b"{\"page\": 1}").unwrap();
    std::fs::write(
        files.path().join("scraper.so"),
        b"\x7fELF\x02\x01\x01\0\0\0",
    )
    .unwrap();
    let journal = files.path().join("journal");
    let dir = files.path().to_str().unwrap();

    // A server that reads documents up to 32 MiB: the scan is left out, the rest stored.
    let data = tempfile::tempdir().unwrap();
    let small = ServerOptions {
        limits: nianbao::ingest::Limits {
            max_document_bytes: 32 << 20,
            ..Default::default()
        },
        ..Default::default()
    };
    let (addr, stop) = common::serve(data.path(), small).await;
    let server = format!("http://{addr}");
    let (code, out) = upload_args(&journal, &["--server", &server, dir]).await;
    assert_eq!(code, Some(1), "{out}");
    for line in [
        "stored: 2",
        "rejected: 1",
        "over the server's document limit of 33554432 bytes (serve --max-document-bytes)",
        &format!("    {}\n", scan_path.display()),
        "skipped (not a document): 2",
        "notes.json: text, but a .json file",
        "scraper.so: a binary file of no kind nianbao reads",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    let _ = stop.send(());

    // The default server (256 MiB): the scan goes in parts and is read, alone.
    let (server, stop) = start(data.path()).await;
    let (code, out) = upload_args(&journal, &["--server", &server, dir]).await;
    assert_eq!(code, Some(1), "a scan rejected in this run: exit 1\n{out}");
    for line in [
        "stored: 0",
        "already acknowledged (journal): 2",
        "rejected: 1",
        "扫描图像",
        &format!("    {}\n", scan_path.display()),
        "not acknowledged: 0",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    // Again: nothing is sent, the scan's rejection is the earlier run's.
    let (code, out) = upload_args(&journal, &["--server", &server, dir]).await;
    assert_eq!(code, Some(0), "{out}");
    for line in [
        "already acknowledged (journal): 2",
        "(answered in an earlier run)",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    let _ = stop.send(());
}

/// The edges a cron job meets: a path that does not exist is a usage error (exit 2, the
/// path named), not `files: 0`; an endpoint without a scheme is taken as http:// (it used to
/// be retried for ~36 s); no server at all is a connection error (exit 2); `--exclude`
/// leaves files out by their path under the folder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_edges_exit_codes_schemes_and_globs() {
    let files = tempfile::tempdir().unwrap();
    corpus_dir(files.path());
    let journal = files.path().join("journal");
    let missing = files.path().join("nonexistent");
    let (code, out) = upload_args(
        &journal,
        &["--server", "http://127.0.0.1:1", missing.to_str().unwrap()],
    )
    .await;
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains(&missing.display().to_string()), "{out}");
    assert!(!out.contains("files: 0"), "{out}");

    // Nobody listens on a port held but not listening.
    let dead = common::unlistened_port();
    let (code, out) = upload_args(
        &journal,
        &[
            "--server",
            &dead.local_addr().unwrap().to_string(),
            files.path().to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(
        code,
        Some(2),
        "nobody listening: a connection error:\n{out}"
    );
    // Given up after its retries (--max-retries 2), not retried on and on.
    assert!(out.contains("unreachable after 3 attempts"), "{out}");
    assert!(!journal.exists() || std::fs::read_to_string(&journal).unwrap().is_empty());

    let data = tempfile::tempdir().unwrap();
    let (addr, stop) = common::serve(data.path(), ServerOptions::default()).await;
    let (code, out) = upload_args(
        &journal,
        &[
            "--server",
            &addr,
            "--exclude",
            "nested/**",
            "--exclude",
            "*2019*",
            files.path().to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, Some(0), "{out}");
    // Seven reports and nested/empty.txt; three of 2019 and the empty one left out.
    for line in ["files: 4", "stored: 3", "rendition: 1", "rejected: 0"] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    let _ = stop.send(());
}

/// The parts protocol over a raw Ingest stream: a whole document, one in three parts, one
/// over the document limit in parts (read off and answered REJECTED, not kept), another
/// whole one, each answered once and in order; then a part carrying a tag, which breaks the
/// framing, ends the stream with INVALID_ARGUMENT after those answers. IngestOne refuses a
/// first part.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_takes_documents_in_parts_and_refuses_broken_framing() {
    use nianbao::pb::ingest_service_client::IngestServiceClient;
    let data = tempfile::tempdir().unwrap();
    let options = ServerOptions {
        limits: nianbao::ingest::Limits {
            max_document_bytes: 64 << 10,
            ..Default::default()
        },
        ..Default::default()
    };
    let (addr, stop) = common::serve(data.path(), options).await;
    let port = addr.rsplit(':').next().unwrap().parse().unwrap();
    let mut client = IngestServiceClient::new(common::connect(port).await);
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let read = |name: &str| std::fs::read(corpus.join(name)).unwrap();
    let whole = |content: Vec<u8>, tag: &str| Document {
        content,
        tag: tag.into(),
        ..Default::default()
    };
    let part = |content: &[u8]| Document {
        content: content.to_vec(),
        ..Default::default()
    };
    let b = read("huaian-city-2024.txt");
    let third = b.len() / 3;
    let over = vec![b'x'; 100 << 10];
    let mut messages = vec![
        whole(read("beijing-chaoyang-district-2022.txt"), "a"),
        Document {
            size: b.len() as u64,
            ..whole(b[..third].to_vec(), "b")
        },
        part(&b[third..2 * third]),
        part(&b[2 * third..]),
        Document {
            size: over.len() as u64,
            ..whole(over[..40 << 10].to_vec(), "over")
        },
        part(&over[40 << 10..80 << 10]),
        part(&over[80 << 10..]),
        whole(read("beijing-chaoyang-zuojiazhuang-2019.txt"), "c"),
        Document {
            size: 1000,
            ..whole(vec![b'y'; 10], "broken")
        },
    ];
    messages.push(whole(vec![b'z'; 10], "a tag where a part belongs"));
    let mut answers = client
        .ingest(futures::stream::iter(messages))
        .await
        .unwrap()
        .into_inner();
    let mut got = Vec::new();
    let end = loop {
        match answers.message().await {
            Ok(Some(result)) => got.push(result),
            Ok(None) => break None,
            Err(status) => break Some(status),
        }
    };
    let tags: Vec<&str> = got.iter().map(|r| r.tag.as_str()).collect();
    assert_eq!(tags, ["a", "b", "over", "c"]);
    assert_eq!(got[1].outcome, Outcome::Stored as i32, "{:?}", got[1]);
    assert_eq!(got[1].id, nianbao::store::report_id(&b));
    assert_eq!(got[2].outcome, Outcome::Rejected as i32);
    assert!(
        got[2]
            .reason
            .contains("over the size limit: 102400 bytes > 65536 bytes"),
        "{:?}",
        got[2]
    );
    let end = end.expect("the broken framing ends the stream");
    assert_eq!(end.code(), tonic::Code::InvalidArgument, "{end:?}");
    assert!(end.message().contains("carries a tag"), "{end:?}");

    let refused = client
        .ingest_one(Document {
            size: 1000,
            ..whole(vec![b'y'; 10], "one")
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{refused:?}");
    let _ = stop.send(());
}

/// SIGTERM in the middle of a large upload: the server takes no new document at once
/// (its open stream answers UNAVAILABLE after the answers for what it took), commits and
/// acknowledges what it took, and exits; the uploader retries, and once the server is back
/// it finishes. Nothing acknowledged is lost, no file is answered twice, and the server
/// stored at most what the uploader had in flight beyond the answers it had seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_in_the_middle_of_an_upload_loses_nothing_and_stops_taking_documents() {
    const FILES: usize = 4000;
    const IN_FLIGHT: usize = 32;
    let files = tempfile::tempdir().unwrap();
    for (i, doc) in common::crash_docs(23, FILES).into_iter().enumerate() {
        std::fs::write(files.path().join(format!("{i:05}.txt")), doc.content).unwrap();
    }
    let data = tempfile::tempdir().unwrap();
    let mut server = common::Serve::new(data.path())
        .args(["--shutdown-grace-secs", "60"])
        .start();
    // The restart listens where the first server did, where the uploader keeps retrying.
    let addr = server.addr.clone();
    let journal = files.path().join("journal");
    let mut uploader = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args([
            "upload",
            "--no-progress",
            "--max-retries",
            "20",
            "--in-flight",
        ])
        .arg(IN_FLIGHT.to_string())
        .args(["--server", &server.url(), "--journal"])
        .arg(&journal)
        .arg(files.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = |journal: &Path| {
        std::fs::read_to_string(journal)
            .map(|j| j.lines().count())
            .unwrap_or(0)
    };
    while lines(&journal) < 300 {
        assert!(
            uploader.try_wait().unwrap().is_none(),
            "the upload ended early"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.signal(libc::SIGTERM);
    let answered_at_term = lines(&journal);
    let exit = tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap();
    assert!(
        exit.success(),
        "the server's graceful stop failed: {exit:?}"
    );
    let answered_at_exit = lines(&journal);
    assert!(
        answered_at_exit < FILES,
        "the upload finished before the stop"
    );
    {
        let store = nianbao::store::Store::open(data.path()).unwrap();
        let stored = store.index().len();
        // What was stored is what was answered plus, at most, what the uploader had sent
        // and not yet seen answered when the signal came (its window), and what it sent
        // in the moment the server took to notice the signal (each answer then frees a
        // place in the window: at most another window's worth). Before, open streams went
        // on taking new documents for the whole grace period: thousands more.
        assert!(
            stored <= answered_at_term + 2 * IN_FLIGHT,
            "{stored} stored, {answered_at_term} answered at SIGTERM: the stream kept taking documents"
        );
        for line in std::fs::read_to_string(&journal).unwrap().lines() {
            let id = line.split('\t').next().unwrap();
            assert!(store.contains(id), "acknowledged {id} lost");
        }
    }
    let server = common::Serve::new(data.path())
        .listen(&addr)
        .args(["--shutdown-grace-secs", "60"])
        .start();
    let out = tokio::task::spawn_blocking(move || uploader.wait_with_output().unwrap())
        .await
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("not acknowledged: 0"), "{text}");
    let journaled = std::fs::read_to_string(&journal).unwrap();
    let mut paths = HashSet::new();
    for line in journaled.lines() {
        let path = line.split('\t').nth(1).unwrap();
        assert!(paths.insert(path.to_owned()), "{path} answered twice");
        assert!(!line.contains("rejected"), "{line}");
    }
    assert_eq!(paths.len(), FILES);
    drop(server); // SIGKILL
    let store = nianbao::store::Store::open(data.path()).unwrap();
    for line in journaled.lines() {
        assert!(store.contains(line.split('\t').next().unwrap()));
    }
    eprintln!(
        "SIGTERM after {answered_at_term} answers: {} more answered before the exit, {FILES} in all after the restart",
        answered_at_exit - answered_at_term
    );
}
