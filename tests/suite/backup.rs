//! Backup and restore against the real binary over a real socket: `nianbao serve` as a child
//! process, `nianbao backup` taken while a client keeps ingesting, `nianbao restore` into a
//! new directory, and a second server on it that must answer for every report acknowledged
//! before the backup began exactly as the first did then, and know nothing acknowledged
//! after. And the refusals: a restore into a non-empty directory, from a truncated or damaged
//! backup or from one without its manifest; a backup into a directory holding one.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nianbao::pb::ingest_service_client::IngestServiceClient;
use nianbao::pb::report_service_client::ReportServiceClient;
use nianbao::pb::{
    AggregateRequest, AggregateResponse, Document, Filter, GetReportRequest, GetReportResponse,
    ListReportsRequest, Outcome,
};
use prost::Message;
use tonic::transport::Channel;

use common::{connect, Serve};

/// Reports ingested before the backup: the corpus's texts and distinct variants of them.
const BEFORE: usize = 300;
/// Variants the concurrent client may ingest (it stops long before they run out).
const DURING: usize = 3000;
/// Reports the concurrent client acknowledges before the backup, and after it.
const SETTLE: usize = 3;

/// The report texts of the corpus: its top folder and `real/`.
fn corpus_texts() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<PathBuf> = [root.clone(), root.join("real")]
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

/// `n` distinct documents: the corpus's texts in turn, each with a line naming `batch` and
/// its number appended (repeats of one text are revisions of its body and year).
fn documents(texts: &[Vec<u8>], batch: &str, n: usize) -> Vec<Document> {
    (0..n)
        .map(|i| {
            let mut content = texts[i % texts.len()].clone();
            content.extend_from_slice(format!("\n附：{batch} {i}\n").as_bytes());
            Document {
                content,
                source: format!("{batch}/{i}.txt"),
                tag: format!("{batch}-{i}"),
                ..Default::default()
            }
        })
        .collect()
}

fn acknowledged(outcome: i32) -> bool {
    outcome == Outcome::Stored as i32
        || outcome == Outcome::Revision as i32
        || outcome == Outcome::Rendition as i32
}

/// Streams `docs` in; the ids acknowledged as stored.
async fn ingest(channel: Channel, docs: Vec<Document>) -> Vec<String> {
    let mut client = IngestServiceClient::new(channel);
    let mut answers = client
        .ingest(tokio_stream::iter(docs))
        .await
        .unwrap()
        .into_inner();
    let mut acked = Vec::new();
    while let Some(answer) = answers.message().await.unwrap() {
        if acknowledged(answer.outcome) {
            acked.push(answer.id);
        }
    }
    acked
}

/// A client that ingests `docs` one by one, each call made while holding `gate` (so the
/// test can pause it between two commits), until `stop`; the ids it had acknowledged.
struct Writer {
    gate: Arc<tokio::sync::Mutex<()>>,
    acked: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Writer {
    fn start(channel: Channel, docs: Vec<Document>) -> Writer {
        let gate = Arc::new(tokio::sync::Mutex::new(()));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let (gate, acked, stop) = (gate.clone(), acked.clone(), stop.clone());
            async move {
                let mut client = IngestServiceClient::new(channel);
                for doc in docs {
                    let _open = gate.lock().await;
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let answer = client.ingest_one(doc).await.unwrap().into_inner();
                    if acknowledged(answer.outcome) {
                        acked.lock().unwrap().push(answer.id);
                    }
                }
            }
        });
        Writer {
            gate,
            acked,
            stop,
            task,
        }
    }

    fn acked(&self) -> Vec<String> {
        self.acked.lock().unwrap().clone()
    }

    /// Waits until it has acknowledged `n` reports.
    async fn wait_for(&self, n: usize) {
        for _ in 0..2000 {
            if self.acked().len() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "the concurrent client acknowledged {} reports, not {n}",
            self.acked().len()
        );
    }

    async fn stop(self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        let acked = self.acked.clone();
        self.task.await.unwrap();
        let acked = acked.lock().unwrap().clone();
        acked
    }
}

/// GetReport with its text, for every id.
async fn reports(
    q: &mut ReportServiceClient<Channel>,
    ids: &BTreeSet<String>,
) -> BTreeMap<String, GetReportResponse> {
    let mut out = BTreeMap::new();
    for id in ids {
        let answer = q
            .get_report(GetReportRequest {
                id: id.clone(),
                include_text: true,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("GetReport {id}: {e}"))
            .into_inner();
        out.insert(id.clone(), answer);
    }
    out
}

/// Aggregate of a few metrics (and every rate) by year and by province, over the latest
/// revisions and over all of them.
async fn aggregates(q: &mut ReportServiceClient<Channel>) -> Vec<AggregateResponse> {
    let mut out = Vec::new();
    for group_by in ["year", "province"] {
        for all_revisions in [false, true] {
            let answer = q
                .aggregate(AggregateRequest {
                    metrics: vec![
                        "applications.new_received.total".into(),
                        "applications.closed_total.total".into(),
                        "review.total".into(),
                        "litigation_direct.total".into(),
                    ],
                    group_by: vec![group_by.into()],
                    filter: Some(Filter {
                        all_revisions,
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            assert!(!answer.groups.is_empty(), "no groups by {group_by}");
            out.push(answer);
        }
    }
    out
}

/// Every stored report's id (every revision).
async fn stored_ids(q: &mut ReportServiceClient<Channel>) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut page_token = String::new();
    loop {
        let page = q
            .list_reports(ListReportsRequest {
                filter: Some(Filter {
                    all_revisions: true,
                    ..Default::default()
                }),
                page_size: 1000,
                page_token,
            })
            .await
            .unwrap()
            .into_inner();
        ids.extend(page.reports.into_iter().map(|r| r.id));
        if page.next_page_token.is_empty() {
            return ids;
        }
        page_token = page.next_page_token;
    }
}

/// What differs between two answers for `id`, byte for byte; `None` when nothing does.
fn difference(id: &str, want: &GetReportResponse, got: &GetReportResponse) -> Option<String> {
    if want.encode_to_vec() == got.encode_to_vec() {
        return None;
    }
    let what = if want.report != got.report {
        "the report"
    } else if want.text != got.text {
        "the text"
    } else {
        "the revisions"
    };
    Some(format!("{id}: {what} differs"))
}

/// `nianbao`, logging warnings only, without colour.
fn nianbao() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nianbao"));
    c.env("RUST_LOG", "warn").env("NO_COLOR", "1");
    c
}

/// `nianbao backup DIR --server URL MORE...`, to completion.
fn backup_cmd(url: &str, dir: &Path, more: &[&str]) -> Output {
    nianbao()
        .arg("backup")
        .arg(dir)
        .args(["--server", url])
        .args(more)
        .output()
        .expect("run nianbao backup")
}

/// `nianbao restore DIR --data-dir DATA_DIR`, to completion.
fn restore_cmd(dir: &Path, data_dir: &Path) -> Output {
    nianbao()
        .arg("restore")
        .arg(dir)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("run nianbao restore")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn succeeded(out: &Output, what: &str) {
    assert!(out.status.success(), "{what} failed: {}", stderr(out));
}

/// The backup's manifest, as JSON.
fn manifest(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("MANIFEST.json")).unwrap();
    serde_json::from_str::<serde_json::Value>(&text).unwrap()["manifest"].clone()
}

/// Starts `nianbao backup` and returns once it has its stamp (it logs "backup begun"):
/// the child, and a thread that drains its log until it exits.
fn start_backup(url: &str, dir: &Path) -> (Child, std::thread::JoinHandle<String>) {
    let mut child = nianbao()
        .arg("backup")
        .arg(dir)
        .args(["--server", url])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nianbao backup");
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        log.push_str(&line);
        log.push('\n');
        if line.contains("backup begun") {
            let rest = std::thread::spawn(move || {
                lines
                    .map_while(Result::ok)
                    .fold(log, |log, l| log + &l + "\n")
            });
            return (child, rest);
        }
    }
    let status = child.wait().unwrap();
    panic!("nianbao backup ended ({status}) before it had its stamp:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_ingesting_restores_what_was_acknowledged_before_it() {
    let tmp = tempfile::tempdir().unwrap();
    let texts = corpus_texts();
    let live = Serve::new(&tmp.path().join("live")).start();
    let channel = connect(live.port).await;
    let mut q = ReportServiceClient::new(channel.clone());
    let mut before: BTreeSet<String> = ingest(channel.clone(), documents(&texts, "before", BEFORE))
        .await
        .into_iter()
        .collect();
    assert!(before.len() > BEFORE * 9 / 10, "{} stored", before.len());

    // A client keeps ingesting. It is paused between two commits while the expected
    // answers are read and until the backup has its stamp, so that they are the server's
    // answers at the stamp; it goes on while the backup streams.
    let writer = Writer::start(channel.clone(), documents(&texts, "during", DURING));
    writer.wait_for(SETTLE).await;
    let paused = writer.gate.lock().await;
    before.extend(writer.acked());
    let want_reports = reports(&mut q, &before).await;
    let want_aggregates = aggregates(&mut q).await;
    let backup_dir = tmp.path().join("backup");
    let (mut backup, log) = tokio::task::spawn_blocking({
        let (url, dir) = (live.url(), backup_dir.clone());
        move || start_backup(&url, &dir)
    })
    .await
    .unwrap();
    let at_stamp = writer.acked().len();
    drop(paused);
    let status = tokio::task::spawn_blocking(move || backup.wait().unwrap())
        .await
        .unwrap();
    let log = log.join().unwrap();
    assert!(status.success(), "nianbao backup failed:\n{log}");
    let at_end = writer.acked().len();
    writer.wait_for(at_end + SETTLE).await;
    let during = writer.stop().await;
    let after: Vec<&String> = during[at_stamp..].iter().collect();
    eprintln!(
        "{} reports before the stamp; {} acknowledged while the backup streamed, {} after it",
        before.len(),
        at_end - at_stamp,
        during.len() - at_end
    );
    assert_eq!(manifest(&backup_dir)["records"], before.len() as u64);

    let restored_dir = tmp.path().join("restored");
    succeeded(&restore_cmd(&backup_dir, &restored_dir), "nianbao restore");
    let restored = Serve::new(&restored_dir).start();
    let mut r = ReportServiceClient::new(connect(restored.port).await);

    assert_eq!(stored_ids(&mut r).await, before, "the restored reports");
    let got_reports = reports(&mut r, &before).await;
    let differences: Vec<String> = before
        .iter()
        .filter_map(|id| difference(id, &want_reports[id], &got_reports[id]))
        .collect();
    assert!(differences.is_empty(), "{differences:#?}");
    assert_eq!(aggregates(&mut r).await, want_aggregates);
    for id in after {
        let answer = r
            .get_report(GetReportRequest {
                id: id.clone(),
                include_text: false,
                ..Default::default()
            })
            .await;
        assert_eq!(
            answer.map(|_| ()).unwrap_err().code(),
            tonic::Code::NotFound,
            "{id}, acknowledged after the stamp, was restored"
        );
    }
}

/// Names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A copy of the backup in `from` at `to`, with `damage` done to its (only) record file.
fn damaged_copy(from: &Path, to: &Path, damage: impl Fn(&mut Vec<u8>)) {
    std::fs::create_dir(to).unwrap();
    for name in names(from) {
        let mut bytes = std::fs::read(from.join(&name)).unwrap();
        if name.ends_with(".nbk") {
            damage(&mut bytes);
        }
        std::fs::write(to.join(&name), bytes).unwrap();
    }
}

/// Runs a restore that must be refused: its message must say `why`, and the data directory
/// must not have been created.
fn refused_restore(backup: &Path, data_dir: &Path, why: &str) {
    let out = restore_cmd(backup, data_dir);
    assert!(
        !out.status.success(),
        "restore of {} succeeded",
        backup.display()
    );
    let said = stderr(&out);
    assert!(said.contains(why), "want {why:?} in: {said}");
    assert!(said.contains("nothing was restored"), "{said}");
    assert!(!data_dir.exists(), "{} was created", data_dir.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_backups_and_occupied_directories_are_refused_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let live = Serve::new(&tmp.path().join("live")).start();
    let acked = ingest(
        connect(live.port).await,
        documents(&corpus_texts(), "small", 20),
    )
    .await;
    let dir = tmp.path().join("backup");
    succeeded(&backup_cmd(&live.url(), &dir, &[]), "nianbao backup");
    let first = std::fs::read(dir.join("MANIFEST.json")).unwrap();
    assert_eq!(manifest(&dir)["records"], acked.len() as u64);

    // A directory that holds a backup: refused, unless --overwrite; then the new backup
    // replaces the old files.
    let out = backup_cmd(&live.url(), &dir, &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("holds a backup already"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(dir.join("MANIFEST.json")).unwrap(), first);
    succeeded(
        &backup_cmd(&live.url(), &dir, &["--overwrite"]),
        "nianbao backup --overwrite",
    );
    assert_eq!(names(&dir), ["MANIFEST.json", "records-2-000001.nbk"]);

    // A directory that holds anything else: refused, even with --overwrite.
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    let out = backup_cmd(&live.url(), &other, &["--overwrite"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not part of a backup"),
        "{}",
        stderr(&out)
    );
    assert_eq!(names(&other), ["notes.txt"]);

    // A data directory that is not empty: refused and untouched.
    let full = tmp.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("keep.txt"), "mine").unwrap();
    let out = restore_cmd(&dir, &full);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
    assert_eq!(names(&full), ["keep.txt"]);
    assert_eq!(
        std::fs::read_to_string(full.join("keep.txt")).unwrap(),
        "mine"
    );

    // Damaged backups: refused before the data directory exists.
    let truncated = tmp.path().join("truncated");
    damaged_copy(&dir, &truncated, |b| b.truncate(b.len() / 2));
    refused_restore(&truncated, &tmp.path().join("from-truncated"), "truncated");
    let flipped = tmp.path().join("flipped");
    damaged_copy(&dir, &flipped, |b| {
        let middle = b.len() / 2;
        b[middle] ^= 0x01;
    });
    refused_restore(&flipped, &tmp.path().join("from-flipped"), "damaged");
    let unfinished = tmp.path().join("unfinished");
    damaged_copy(&dir, &unfinished, |_| {});
    std::fs::remove_file(unfinished.join("MANIFEST.json")).unwrap();
    refused_restore(
        &unfinished,
        &tmp.path().join("from-unfinished"),
        "no MANIFEST.json",
    );

    // The good one restores, and a second restore into the same directory is refused.
    let data = tmp.path().join("restored");
    succeeded(&restore_cmd(&dir, &data), "nianbao restore");
    let out = restore_cmd(&dir, &data);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
    let restored = Serve::new(&data).start();
    let mut r = ReportServiceClient::new(connect(restored.port).await);
    assert_eq!(stored_ids(&mut r).await, acked.into_iter().collect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_a_server_with_a_token_needs_the_token() {
    let tmp = tempfile::tempdir().unwrap();
    let live = Serve::new(&tmp.path().join("live"))
        .args(["--auth-token", "s3cret"])
        .start();
    let url = live.url();
    let dir = tmp.path().join("backup");
    let out = backup_cmd(&url, &dir, &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("missing bearer token"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.join("MANIFEST.json").exists());
    succeeded(
        &backup_cmd(&url, &dir, &["--token", "s3cret"]),
        "nianbao backup --token",
    );
    assert_eq!(manifest(&dir)["records"], 0);
}
