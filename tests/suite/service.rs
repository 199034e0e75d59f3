//! End to end over a real socket: a server on 127.0.0.1:0 with a sled database in a temporary
//! directory, driven by tonic clients.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nianbao::pb::ingest_service_client::IngestServiceClient;
use nianbao::pb::report_service_client::ReportServiceClient;
use nianbao::pb::{
    AggregateRequest, Document, Filter, GetReportRequest, IngestResult, ListReportsRequest,
    Outcome, SummarizeFindingsRequest,
};
use nianbao::server::{run, ServerOptions};
use nianbao::store::Store;
use serde_json::Value;
use tokio::sync::oneshot;
use tonic::transport::Channel;
use tonic::Code;

struct Running {
    addr: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn start(dir: &Path, options: ServerOptions) -> Running {
        let store = Store::open(dir).expect("open store");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            run(listener, store, options, async {
                let _ = stopped.await;
            })
            .await
            .expect("server");
        });
        Running {
            addr,
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap();
    }

    async fn channel(&self) -> Channel {
        for _ in 0..50 {
            if let Ok(c) = Channel::from_shared(self.addr.clone())
                .unwrap()
                .connect()
                .await
            {
                return c;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("server did not come up at {}", self.addr);
    }
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Corpus files in upload order, with their expected JSON.
fn corpus_files() -> Vec<(String, Vec<u8>, Value)> {
    let mut out = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(corpus().join("expected"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for path in names {
        let exp: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let file = exp["file"].as_str().unwrap().to_owned();
        let bytes = std::fs::read(corpus().join(&file)).unwrap();
        out.push((file, bytes, exp));
    }
    out
}

fn doc(tag: &str, content: Vec<u8>) -> Document {
    Document {
        content,
        source: format!("file://{tag}"),
        tag: tag.to_owned(),
        ..Default::default()
    }
}

async fn stream_all(channel: Channel, docs: Vec<Document>) -> Vec<IngestResult> {
    let mut client = IngestServiceClient::new(channel);
    let response = client
        .ingest(tokio_stream::iter(docs))
        .await
        .expect("ingest");
    let mut stream = response.into_inner();
    let mut out = Vec::new();
    while let Some(r) = stream.message().await.expect("stream item") {
        out.push(r);
    }
    out
}

/// new_received.total by year over the latest revision of each (agency, year), from the
/// expected files in upload order (a later file of the same body and year supersedes).
fn expected_new_received_by_year(
    files: &[(String, Vec<u8>, Value)],
    parsed_agency: &BTreeMap<String, String>,
) -> BTreeMap<String, f64> {
    let mut latest: BTreeMap<(String, i64), f64> = BTreeMap::new();
    for (file, _, exp) in files {
        let Some(v) = exp["facts"]["applications.new_received.total"].as_f64() else {
            latest.remove(&(parsed_agency[file].clone(), exp["year"].as_i64().unwrap()));
            continue;
        };
        latest.insert(
            (parsed_agency[file].clone(), exp["year"].as_i64().unwrap()),
            v,
        );
    }
    let mut by_year = BTreeMap::new();
    for ((_, year), v) in latest {
        *by_year.entry(year.to_string()).or_insert(0.0) += v;
    }
    by_year
}

async fn new_received_by_year(channel: Channel) -> BTreeMap<String, f64> {
    let mut q = ReportServiceClient::new(channel);
    let r = q
        .aggregate(AggregateRequest {
            metrics: vec!["applications.new_received.total".into()],
            group_by: vec!["year".into()],
            sums_only: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    r.groups
        .into_iter()
        .filter(|g| g.sums[0].reports > 0)
        .map(|g| (g.key[0].clone(), g.sums[0].sum))
        .collect()
}

/// Rates by name, in the order asked; none with sums_only.
async fn rates_by_name(channel: Channel) {
    let mut q = ReportServiceClient::new(channel);
    let r = q
        .aggregate(AggregateRequest {
            rates: vec!["dispute_rate".into(), "disclosure_rate".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<&str> = r.groups[0].rates.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["dispute_rate", "disclosure_rate"]);
    let r = q
        .aggregate(AggregateRequest {
            sums_only: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(r.groups[0].rates.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_query_restart_and_reindex() {
    let dir = tempfile::tempdir().unwrap();
    let files = corpus_files();
    let server = Running::start(dir.path(), ServerOptions::default()).await;
    let channel = server.channel().await;

    // Every corpus file over one bidirectional stream: one answer each, in order.
    let docs: Vec<Document> = files.iter().map(|(f, b, _)| doc(f, b.clone())).collect();
    let results = stream_all(channel.clone(), docs).await;
    assert_eq!(results.len(), files.len());
    let mut parsed_agency = BTreeMap::new();
    for ((file, bytes, exp), r) in files.iter().zip(&results) {
        assert_eq!(r.tag, *file);
        assert_eq!(r.id, nianbao::store::report_id(bytes));
        let outcome = Outcome::try_from(r.outcome).unwrap();
        // The two huaian files are renditions of one report: the second is a rendition.
        if file == "huaian-city-2024.txt" {
            assert_eq!(outcome, Outcome::Rendition, "{file}");
            assert_eq!(
                r.supersedes,
                nianbao::store::report_id(
                    &files
                        .iter()
                        .find(|f| f.0 == "huaian-city-2024-layout.txt")
                        .unwrap()
                        .1
                )
            );
        } else {
            assert_eq!(outcome, Outcome::Stored, "{file}: {}", r.reason);
        }
        assert!(
            r.agency.contains(exp["agency_contains"].as_str().unwrap()),
            "{file}: {}",
            r.agency
        );
        assert_eq!(r.year.map(i64::from), exp["year"].as_i64());
        parsed_agency.insert(file.clone(), r.agency.clone());
    }
    rates_by_name(channel.clone()).await;

    // Each report reads back with the facts the parser gives, and its text on request.
    let mut q = ReportServiceClient::new(channel.clone());
    for (file, bytes, _) in &files {
        let id = nianbao::store::report_id(bytes);
        let got = q
            .get_report(GetReportRequest {
                id: id.clone(),
                include_text: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let report = got.report.unwrap();
        let local = nianbao::parse_document(bytes, &nianbao::Hints::default());
        assert_eq!(
            nianbao::catalogue::facts(&report),
            nianbao::catalogue::facts(&local),
            "{file}"
        );
        assert!(!got.text.is_empty());
        assert_eq!(
            got.text,
            nianbao::decode::decode(bytes, None, Default::default()).text
        );
    }

    // Aggregates equal the sums of the expected files (latest revisions).
    let want = expected_new_received_by_year(&files, &parsed_agency);
    assert_eq!(new_received_by_year(channel.clone()).await, want);

    // The same bytes again: duplicates, nothing changes.
    let again = stream_all(
        channel.clone(),
        files
            .iter()
            .take(3)
            .map(|(f, b, _)| doc(f, b.clone()))
            .collect(),
    )
    .await;
    assert!(again.iter().all(|r| r.outcome == Outcome::Duplicate as i32));
    let listed = q
        .list_reports(ListReportsRequest {
            filter: Some(Filter {
                all_revisions: true,
                ..Default::default()
            }),
            page_size: 0,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total, files.len() as u64);

    // Paging walks every latest report once.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = q
            .list_reports(ListReportsRequest {
                filter: None,
                page_size: 2,
                page_token: token.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.reports.into_iter().map(|r| r.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), files.len() - 1);
    seen.dedup();
    assert_eq!(seen.len(), files.len() - 1);

    // Findings summary carries the zuojiazhuang arithmetic errors.
    let summary = q
        .summarize_findings(SummarizeFindingsRequest { filter: None })
        .await
        .unwrap()
        .into_inner();
    assert!(summary
        .counts
        .iter()
        .any(|c| c.code == "OUTCOMES_SUM" && c.reports >= 1));

    server.stop().await;

    // A restart keeps everything.
    let server = Running::start(dir.path(), ServerOptions::default()).await;
    assert_eq!(new_received_by_year(server.channel().await).await, want);
    server.stop().await;

    // Reindex in place gives the same answers.
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store
            .reindex(|b: &[u8], h: &nianbao::Hints| nianbao::Reader::default().read_assessed(b, h))
            .unwrap(),
        files.len()
    );
    drop(store);
    let server = Running::start(dir.path(), ServerOptions::default()).await;
    assert_eq!(new_received_by_year(server.channel().await).await, want);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_document_mid_stream_is_rejected_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::default();
    options.limits.max_document_bytes = 64 * 1024;
    let server = Running::start(dir.path(), options).await;
    let files = corpus_files();
    let docs = vec![
        doc("good-1", files[0].1.clone()),
        doc("empty", Vec::new()),
        doc(
            "garbage",
            (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect(),
        ),
        doc("huge", vec![b'x'; 100 * 1024]),
        doc("good-2", files[2].1.clone()),
    ];
    let results = stream_all(server.channel().await, docs).await;
    let outcomes: Vec<(String, i32, String)> = results
        .iter()
        .map(|r| (r.tag.clone(), r.outcome, r.reason.clone()))
        .collect();
    assert_eq!(results.len(), 5, "{outcomes:?}");
    assert_eq!(results[0].outcome, Outcome::Stored as i32);
    assert_eq!(
        (results[1].outcome, results[1].reason.as_str()),
        (Outcome::Rejected as i32, "empty document")
    );
    assert_eq!(results[2].outcome, Outcome::Rejected as i32);
    assert!(
        results[2].reason.starts_with("not a report"),
        "{}",
        results[2].reason
    );
    assert_eq!(results[3].outcome, Outcome::Rejected as i32);
    assert!(
        results[3].reason.contains("size limit"),
        "{}",
        results[3].reason
    );
    assert_eq!(results[4].outcome, Outcome::Stored as i32);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_map_to_clear_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), ServerOptions::default()).await;
    let mut q = ReportServiceClient::new(server.channel().await);
    let e = q
        .get_report(GetReportRequest {
            id: "nope".into(),
            include_text: false,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("64 hex digits"), "{}", e.message());
    let e = q
        .get_report(GetReportRequest {
            id: "0".repeat(64),
            include_text: false,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = q
        .aggregate(AggregateRequest {
            metrics: vec!["applications.bogus".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("ListMetrics"));
    let e = q
        .aggregate(AggregateRequest {
            group_by: vec!["colour".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    for (request, says) in [
        (
            AggregateRequest {
                group_by: vec!["year".into(), "year".into()],
                ..Default::default()
            },
            "twice",
        ),
        (
            AggregateRequest {
                rates: vec!["speed".into()],
                ..Default::default()
            },
            "disclosure_rate",
        ),
        (
            AggregateRequest {
                rates: vec!["dispute_rate".into()],
                sums_only: true,
                ..Default::default()
            },
            "sums_only",
        ),
    ] {
        let e = q.aggregate(request).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert!(e.message().contains(says), "{}", e.message());
    }
    let e = q
        .list_reports(ListReportsRequest {
            filter: Some(Filter {
                severity: "fatal".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let e = q
        .list_reports(ListReportsRequest {
            page_token: "%%%".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);

    let mut health = tonic_health::pb::health_client::HealthClient::new(server.channel().await);
    let status = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "nianbao.v1.IngestService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        status.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    let metrics = q
        .list_metrics(nianbao::pb::ListMetricsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(metrics.metrics.len(), nianbao::catalogue::METRICS.len());
    assert!(metrics.rates.iter().any(|r| r.name == "disclosure_rate"));
    server.stop().await;
}

/// The stored report of a document's bytes, with every finding.
async fn fetch(q: &mut ReportServiceClient<Channel>, content: &[u8]) -> nianbao::pb::Report {
    let request = GetReportRequest {
        id: nianbao::store::report_id(content),
        include_text: false,
        ..Default::default()
    };
    q.get_report(request)
        .await
        .expect("stored")
        .into_inner()
        .report
        .expect("a report")
}

/// heizhuanghu-2020 re-dated to another year, with its carried-forward natural-person cell
/// (and total) set to `forward`.
fn heizhuanghu_as(year: i32, forward: u32) -> Vec<u8> {
    let text =
        std::fs::read_to_string(corpus().join("beijing-chaoyang-heizhuanghu-2020.txt")).unwrap();
    let mut text = text.replace(
        "2020年政府信息公开工作年度报告",
        &format!("{year}年政府信息公开工作年度报告"),
    );
    let at = text.find("四、结转下年度继续办理").unwrap();
    let row = &text[at..];
    let cells: Vec<usize> = row
        .match_indices("\t0\n")
        .map(|(i, _)| at + i)
        .take(7)
        .collect();
    for &i in [cells[0], cells[6]].iter().rev() {
        text.replace_range(i..i + 3, &format!("\t{forward}\n"));
    }
    text.into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_year_rules_across_stored_reports() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path(), ServerOptions::default()).await;
    let channel = server.channel().await;
    // 2019 carries 3 applications forward; the real 2020 report carries 0 over: a mismatch.
    // A 2021 report with the 2020 tables unchanged: a likely copy.
    let y2019 = heizhuanghu_as(2019, 3);
    let y2020 = std::fs::read(corpus().join("beijing-chaoyang-heizhuanghu-2020.txt")).unwrap();
    let y2021 = heizhuanghu_as(2021, 0);
    // Uploaded out of order: the 2020 report's cross-year findings appear once 2019 arrives.
    let results = stream_all(
        channel.clone(),
        vec![
            doc("2020", y2020.clone()),
            doc("2021", y2021.clone()),
            doc("2019", y2019),
        ],
    )
    .await;
    assert!(
        results.iter().all(|r| r.outcome == Outcome::Stored as i32),
        "{results:?}"
    );

    let mut q = ReportServiceClient::new(channel);
    let r2020 = fetch(&mut q, &y2020).await;
    let carry = r2020
        .findings
        .iter()
        .find(|f| f.code == "CARRY_OVER_MISMATCH")
        .expect("carry-over finding on 2020");
    assert_eq!(carry.path, "applications.carried_over.natural_person");
    assert_eq!((carry.expected, carry.actual), (Some(3.0), Some(0.0)));
    let r2021 = fetch(&mut q, &y2021).await;
    assert!(
        r2021.findings.iter().any(|f| f.code == "COPIED_REPORT"),
        "{:?}",
        r2021.findings
    );

    let summary = q
        .summarize_findings(SummarizeFindingsRequest { filter: None })
        .await
        .unwrap()
        .into_inner();
    let count = |code: &str| {
        summary
            .counts
            .iter()
            .find(|c| c.code == code)
            .map_or(0, |c| c.reports)
    };
    assert_eq!(count("CARRY_OVER_MISMATCH"), 1);
    assert_eq!(count("COPIED_REPORT"), 1);
    assert_eq!(count("FORMAT_YEAR"), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_answers_resource_exhausted_not_unbounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ServerOptions::default();
    // Memory for one document at a time, and no waiting for more.
    options.limits.memory_bytes = 1024;
    options.limits.memory_wait = std::time::Duration::ZERO;
    let server = Running::start(dir.path(), options).await;
    let files = corpus_files();
    let docs: Vec<Document> = files.iter().map(|(f, b, _)| doc(f, b.clone())).collect();
    let mut client = IngestServiceClient::new(server.channel().await);
    let mut stream = client
        .ingest(tokio_stream::iter(docs))
        .await
        .unwrap()
        .into_inner();
    let first = stream
        .message()
        .await
        .expect("first answer")
        .expect("an answer");
    assert_eq!(first.outcome, Outcome::Stored as i32);
    let mut status = None;
    loop {
        match stream.message().await {
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(e) => {
                status = Some(e);
                break;
            }
        }
    }
    let status = status.expect("an overloaded server must say so");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(
        status.message().contains("overloaded"),
        "{}",
        status.message()
    );
    // What was acknowledged is stored; the server still serves.
    let mut q = ReportServiceClient::new(server.channel().await);
    assert!(q
        .get_report(GetReportRequest {
            id: first.id,
            include_text: false,
            ..Default::default()
        })
        .await
        .is_ok());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_bounded_when_a_client_holds_a_stream_open() {
    let dir = tempfile::tempdir().unwrap();
    let options = ServerOptions {
        shutdown_grace: std::time::Duration::from_millis(300),
        ..Default::default()
    };
    let server = Running::start(dir.path(), options).await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Document>(1);
    let mut client = IngestServiceClient::new(server.channel().await);
    let files = corpus_files();
    tx.send(doc("one", files[0].1.clone())).await.unwrap();
    let mut stream = client
        .ingest(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    // The first document is answered; the client then keeps the stream open, sending nothing.
    let first = stream.message().await.unwrap().unwrap();
    assert_eq!(first.outcome, Outcome::Stored as i32);
    // The stop ends although the client never closes its stream: without the grace period's
    // cut it would wait for the client forever. The deadline only ends a hung test; it is
    // below the default grace, so the grace given here is the one that cut.
    const DEADLINE: std::time::Duration =
        std::time::Duration::from_secs(nianbao::server::DEFAULT_SHUTDOWN_GRACE_SECS - 5);
    tokio::time::timeout(DEADLINE, server.stop())
        .await
        .expect("the server stopped while a client held a stream open");
    // The cut-off connection's tasks hold the database until the client goes away (in the
    // binary, the process exits); then the directory opens again.
    drop((tx, stream, client));
    for _ in 0..100 {
        if Store::open(dir.path()).is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // What was acknowledged before the shutdown is there after it.
    let server = Running::start(dir.path(), ServerOptions::default()).await;
    let mut q = ReportServiceClient::new(server.channel().await);
    assert!(q
        .get_report(GetReportRequest {
            id: first.id,
            include_text: false,
            ..Default::default()
        })
        .await
        .is_ok());
    server.stop().await;
}

/// Regression: documents of one stream were committed in parse-completion order, so which
/// version became the revision depended on parse speed. The stream's order decides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_order_decides_revisions_not_parse_speed() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let server = Running::start(dir.path(), ServerOptions::default()).await;
        // The scrambled PDF text parses ~6x slower than its -layout twin (BENCHMARKS.md).
        let slow = std::fs::read(corpus().join("huaian-city-2024.txt")).unwrap();
        let fast = std::fs::read(corpus().join("huaian-city-2024-layout.txt")).unwrap();
        let results = stream_all(
            server.channel().await,
            vec![doc("slow", slow), doc("fast", fast)],
        )
        .await;
        let outcomes: Vec<(String, i32)> =
            results.iter().map(|r| (r.tag.clone(), r.outcome)).collect();
        assert_eq!(
            outcomes,
            vec![
                ("slow".into(), Outcome::Stored as i32),
                ("fast".into(), Outcome::Rendition as i32)
            ]
        );
        server.stop().await;
    }
}
