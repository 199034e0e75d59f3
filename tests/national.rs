//! Serving other services at national scale, against the real binary over a real socket:
//! ranked and paged aggregates, and `nianbao export` to Parquet (read back by DuckDB), CSV
//! and JSON lines, whose sums must equal Aggregate's.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use nianbao::pb::ingest_service_client::IngestServiceClient;
use nianbao::pb::report_service_client::ReportServiceClient;
use nianbao::pb::{AggregateRequest, AggregateResponse, Document, Filter, Group};
use tonic::transport::Channel;

mod common;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The real binary serving `dir` on a fresh port; killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(dir: &Path) -> (Server, Channel) {
    let port = common::free_port();
    let child = common::serve_command(dir, port)
        .spawn()
        .expect("start nianbao serve");
    let server = Server { child, port };
    let channel = common::connect(port).await;
    (server, channel)
}

/// Stores every real report of tests/corpus/real (bodies of 20-odd provinces and levels).
async fn ingest_real_reports(channel: Channel) -> usize {
    let mut ingest = IngestServiceClient::new(channel);
    let dir = root().join("tests/corpus/real");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt" || e == "html"))
        .collect();
    files.sort();
    let mut stored = 0;
    for file in &files {
        let answer = ingest
            .ingest_one(Document {
                content: std::fs::read(file).unwrap(),
                source: file.display().to_string(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        stored += usize::from(answer.reason.is_empty());
    }
    assert!(stored > 40, "only {stored} real reports stored");
    stored
}

const NEW: &str = "applications.new_received.total";

async fn aggregate(
    q: &mut ReportServiceClient<Channel>,
    request: AggregateRequest,
) -> AggregateResponse {
    q.aggregate(request).await.unwrap().into_inner()
}

fn sum_of(g: &Group, metric: &str) -> f64 {
    g.sums.iter().find(|s| s.metric == metric).unwrap().sum
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rankings_are_ordered_paged_and_cut() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, channel) = start(dir.path()).await;
    ingest_real_reports(channel.clone()).await;
    let mut q = ReportServiceClient::new(channel);
    let by_province = AggregateRequest {
        metrics: vec![NEW.into()],
        group_by: vec!["province".into()],
        sums_only: true,
        ..Default::default()
    };
    let all = aggregate(&mut q, by_province.clone()).await;
    assert!(all.groups.len() >= 4, "{} provinces", all.groups.len());
    assert_eq!(all.total_groups as usize, all.groups.len());
    assert!(all.next_page_token.is_empty());

    // The whole ranking, made here from the unranked answer: largest sum first, ties by key.
    let mut want: Vec<&Group> = all.groups.iter().collect();
    want.sort_by(|a, b| sum_of(b, NEW).total_cmp(&sum_of(a, NEW)));

    // Pages of 2 until the token runs out give the ranking, in order, once.
    let mut got: Vec<Group> = Vec::new();
    let mut token = String::new();
    loop {
        let page = aggregate(
            &mut q,
            AggregateRequest {
                order_by: NEW.into(),
                descending: true,
                limit: 2,
                page_token: token.clone(),
                ..by_province.clone()
            },
        )
        .await;
        assert!(page.groups.len() <= 2);
        assert_eq!(page.total_groups, all.total_groups);
        assert_eq!(page.reports, all.reports);
        got.extend(page.groups);
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(got.iter().collect::<Vec<_>>(), want);

    // min_reports leaves small groups out, and ordering by a rate puts groups without a
    // value last.
    let counted = aggregate(
        &mut q,
        AggregateRequest {
            order_by: "reports".into(),
            descending: true,
            min_reports: 3,
            ..by_province.clone()
        },
    )
    .await;
    let big = all.groups.iter().filter(|g| g.reports >= 3).count();
    assert_eq!(counted.total_groups as usize, big);
    assert!(counted
        .groups
        .windows(2)
        .all(|w| w[0].reports >= w[1].reports));
    let rated = aggregate(
        &mut q,
        AggregateRequest {
            metrics: vec![],
            group_by: vec!["province".into()],
            order_by: "disclosure_rate".into(),
            descending: true,
            ..Default::default()
        },
    )
    .await;
    let values: Vec<Option<f64>> = rated
        .groups
        .iter()
        .map(|g| {
            g.rates
                .iter()
                .find(|r| r.name == "disclosure_rate")
                .unwrap()
                .value
        })
        .collect();
    let present = values.iter().take_while(|v| v.is_some()).count();
    assert!(values[present..].iter().all(Option::is_none), "{values:?}");
    assert!(values[..present]
        .windows(2)
        .all(|w| w[0].unwrap() >= w[1].unwrap()));

    // Clear errors: an unknown order, a rate under sums_only, a token of another query.
    for (request, needle) in [
        (
            AggregateRequest {
                order_by: "size".into(),
                ..by_province.clone()
            },
            "order_by \"size\"",
        ),
        (
            AggregateRequest {
                order_by: "dispute_rate".into(),
                ..by_province.clone()
            },
            "sums_only",
        ),
    ] {
        let e = q.aggregate(request).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        assert!(e.message().contains(needle), "{}", e.message());
    }
    let first = aggregate(
        &mut q,
        AggregateRequest {
            order_by: NEW.into(),
            limit: 2,
            ..by_province.clone()
        },
    )
    .await;
    let e = q
        .aggregate(AggregateRequest {
            order_by: "reports".into(),
            limit: 2,
            page_token: first.next_page_token,
            ..by_province.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().contains("another query"), "{}", e.message());
}

/// Sums of the same numbers added in another order agree to rounding.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn export(port: u16, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(["export", "--server", &format!("http://127.0.0.1:{port}")])
        .args(args)
        .output()
        .expect("run nianbao export")
}

/// Runs DuckDB (the venv's Python) on `sql`; returns its rows as text lines, tab-separated.
fn duckdb(sql: &str) -> Vec<String> {
    let python = root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/install-interop.sh (scripts/test does)",
        python.display()
    );
    let script = "import duckdb, sys\nfor row in duckdb.sql(sys.argv[1]).fetchall():\n    print('\\t'.join('' if v is None else str(v) for v in row))\n";
    let out = Command::new(python)
        .args(["-c", script, sql])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "duckdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_read_back_with_the_sums_of_aggregate() {
    let dir = tempfile::tempdir().unwrap();
    let (server, channel) = start(dir.path()).await;
    let stored = ingest_real_reports(channel.clone()).await;
    let mut q = ReportServiceClient::new(channel);
    let metrics = [
        NEW,
        "applications.closed_total.total",
        "review.total",
        "fee_collection.billed_yuan",
    ];
    let by_year = aggregate(
        &mut q,
        AggregateRequest {
            metrics: metrics.iter().map(|m| (*m).to_owned()).collect(),
            group_by: vec!["year".into()],
            sums_only: true,
            ..Default::default()
        },
    )
    .await;

    let out = dir.path().join("reports.parquet");
    let run = export(server.port, &[out.to_str().unwrap()]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(&format!("exported {} reports", by_year.reports)),
        "{stderr}"
    );

    // DuckDB reads the file: one row per latest report, and per year the same sums (and the
    // same count of reports printing each metric) as Aggregate.
    let path = out.display().to_string();
    let rows = duckdb(&format!(
        "SELECT count(*), count(DISTINCT id) FROM '{path}'"
    ));
    assert_eq!(rows, vec![format!("{0}\t{0}", by_year.reports)]);
    assert!(by_year.reports as usize <= stored);
    for metric in metrics {
        let rows = duckdb(&format!(
            "SELECT coalesce(CAST(year AS VARCHAR), ''), sum(\"{metric}\"), count(\"{metric}\") \
             FROM '{path}' GROUP BY 1 ORDER BY 1"
        ));
        assert_eq!(rows.len(), by_year.groups.len(), "{metric}: {rows:?}");
        for (row, g) in rows.iter().zip(&by_year.groups) {
            let s = g.sums.iter().find(|s| s.metric == metric).unwrap();
            let fields: Vec<&str> = row.split('\t').collect();
            assert_eq!(fields[0], g.key[0], "{metric}");
            assert_eq!(fields[2], s.reports.to_string(), "{metric} {}", g.key[0]);
            match fields[1] {
                "" => assert_eq!(s.reports, 0, "{metric} {}", g.key[0]),
                sum => assert!(
                    close(sum.parse().unwrap(), s.sum),
                    "{metric} {}: {sum} != {}",
                    g.key[0],
                    s.sum
                ),
            }
        }
    }

    // CSV and JSON lines of a filtered selection hold the same reports as Aggregate counts.
    let province = by_year_first_province(&mut q).await;
    let filtered = aggregate(
        &mut q,
        AggregateRequest {
            metrics: vec![NEW.into()],
            sums_only: true,
            filter: Some(Filter {
                province: province.clone(),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await;
    let csv = dir.path().join("one.csv");
    let run = export(
        server.port,
        &["--province", &province, csv.to_str().unwrap()],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let rows = duckdb(&format!(
        "SELECT count(*), sum(CAST(\"{NEW}\" AS DOUBLE)) FROM read_csv('{}', header = true)",
        csv.display()
    ));
    let sum = filtered.groups[0].sums[0].sum;
    let fields: Vec<&str> = rows[0].split('\t').collect();
    assert_eq!(fields[0], filtered.reports.to_string());
    assert!(close(fields[1].parse().unwrap(), sum), "{rows:?} != {sum}");
    let run = export(
        server.port,
        &["--province", &province, "--format", "jsonl", "-"],
    );
    assert!(run.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, filtered.reports);
    let total: f64 = lines.iter().filter_map(|l| l[NEW].as_f64()).sum();
    assert_eq!(total, sum);
    assert!(lines.iter().all(|l| l["province"] == province.as_str()));

    // A bad request is a clear error and leaves no file behind.
    let bad = dir.path().join("bad.parquet");
    let run = export(server.port, &["--template", "2020", bad.to_str().unwrap()]);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("filter.template"));
    assert!(!bad.exists());
    let run = export(server.port, &["--format", "parquet", "-"]);
    assert!(!run.status.success());
}

/// The named province with the most reports.
async fn by_year_first_province(q: &mut ReportServiceClient<Channel>) -> String {
    let top = aggregate(
        q,
        AggregateRequest {
            group_by: vec!["province".into()],
            sums_only: true,
            order_by: "reports".into(),
            descending: true,
            limit: 2,
            ..Default::default()
        },
    )
    .await;
    let named = top.groups.iter().find(|g| !g.key[0].is_empty()).unwrap();
    named.key[0].clone()
}

/// An answer without a limit holds at most 4,000 groups: more is INVALID_ARGUMENT asking for
/// pages, and the same groups come out page by page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaged_answer_of_too_many_groups_asks_for_pages() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, channel) = start(dir.path()).await;
    let bodies = 4_001;
    let docs: Vec<Document> = (0..bodies)
        .map(|i| Document {
            content: format!(
                "测试{i}县人民政府2022年政府信息公开工作年度报告\n一、总体情况\n收到政府信息公开申请{}件。\n",
                i % 50
            )
            .into_bytes(),
            // The agency as the scraper knows it (the title's short form is not read as one).
            agency: Some(format!("测试{i}县人民政府")),
            tag: i.to_string(),
            ..Default::default()
        })
        .collect();
    let mut ingest = IngestServiceClient::new(channel.clone());
    let mut answers = ingest
        .ingest(tokio_stream::iter(docs))
        .await
        .unwrap()
        .into_inner();
    let mut stored = 0;
    while let Some(answer) = answers.message().await.unwrap() {
        assert!(answer.reason.is_empty(), "{}", answer.reason);
        stored += 1;
    }
    assert_eq!(stored, bodies);
    let mut q = ReportServiceClient::new(channel);
    let by_agency = AggregateRequest {
        metrics: vec!["overview.applications_received".into()],
        group_by: vec!["agency".into()],
        sums_only: true,
        ..Default::default()
    };
    let e = q.aggregate(by_agency.clone()).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().contains("4001 groups"), "{}", e.message());
    let e = q
        .aggregate(AggregateRequest {
            limit: 4_001,
            ..by_agency.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    let (mut seen, mut token) = (0, String::new());
    loop {
        let page = aggregate(
            &mut q,
            AggregateRequest {
                limit: 4_000,
                page_token: token,
                ..by_agency.clone()
            },
        )
        .await;
        assert_eq!(page.total_groups, bodies as u64);
        seen += page.groups.len();
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, bodies);
}
