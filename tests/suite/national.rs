//! Serving other services at national scale, against the real binary over a real socket:
//! ranked and paged aggregates, and `nianbao export` to Parquet (read back by DuckDB), CSV
//! and JSON lines, whose sums must equal Aggregate's.

use std::path::{Path, PathBuf};
use std::process::Command;

use nianbao::pb::ingest_service_client::IngestServiceClient;
use nianbao::pb::report_service_client::ReportServiceClient;
use nianbao::pb::{AggregateRequest, AggregateResponse, Document, Filter, Group};
use tonic::transport::Channel;

use crate::common;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The real binary serving `dir` on a port of its own; killed when dropped.
async fn start(dir: &Path) -> (common::Served, Channel) {
    let server = common::Serve::new(dir).start();
    let channel = server.channel().await;
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

    // The whole ranking, made here from the unranked answer: largest sum first, ties by key,
    // and last the provinces where no report prints the metric.
    let mut want: Vec<&Group> = all.groups.iter().collect();
    let printed = |g: &Group| g.sums.iter().any(|s| s.metric == NEW && s.reports > 0);
    want.sort_by(|a, b| {
        printed(b)
            .cmp(&printed(a))
            .then(sum_of(b, NEW).total_cmp(&sum_of(a, NEW)))
    });

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

    // The schema an analyst gets: counts BIGINT, amounts DOUBLE, a missing place NULL (never
    // an empty string).
    let types = duckdb(&format!(
        "SELECT column_type FROM (DESCRIBE SELECT \"{NEW}\", \"proactive.fees.amount_wan_yuan\", \
         errors, year, township FROM '{path}')"
    ));
    assert_eq!(types, ["BIGINT", "DOUBLE", "BIGINT", "INTEGER", "VARCHAR"]);
    let empty = duckdb(&format!(
        "SELECT count(*) FILTER (WHERE township = '' OR city = '' OR published = ''), \
         count(*) FILTER (WHERE township IS NULL) > 0 FROM '{path}'"
    ));
    assert_eq!(empty, ["0\tTrue"]);

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
    // --excel: the same CSV after a UTF-8 byte-order mark.
    let excel = dir.path().join("excel.csv");
    let run = export(
        server.port,
        &["--province", &province, "--excel", excel.to_str().unwrap()],
    );
    assert!(run.status.success());
    let (plain, marked) = (std::fs::read(&csv).unwrap(), std::fs::read(&excel).unwrap());
    assert_eq!(&marked[..3], b"\xEF\xBB\xBF");
    assert_eq!(&marked[3..], &plain[..]);
    let fields: Vec<&str> = rows[0].split('\t').collect();
    assert_eq!(fields[0], filtered.reports.to_string());
    assert!(close(fields[1].parse().unwrap(), sum), "{rows:?} != {sum}");
    let run = export(
        server.port,
        &["--province", &province, "--format", "jsonl", "-"],
    );
    assert!(run.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(run.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, filtered.reports);
    // Keys in a fixed order, `id` first; a missing township is null.
    let text = String::from_utf8(run.stdout.clone()).unwrap();
    assert!(
        text.lines().all(|l| l.starts_with("{\"id\":\"")),
        "{text:.300}"
    );
    assert!(lines
        .iter()
        .all(|l| l["township"].is_null() || l["township"].as_str().is_some_and(|t| !t.is_empty())));
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

/// The reports of each province, as the hand labels of tests/corpus/places.tsv place the
/// real corpus (81 reports; 3 national bodies and 5 reports whose text names no place,
/// such as 我局 or 区投资促进局, have no province). Checked by hand against the labels: the
/// two Wuhan reports (the ecology bureau 2020, the Hanyang district office
/// 2022) name their place only inside a quoted document title, which the resolver does not
/// read as the body, so they are unplaced and 湖北省 counts 1 of its 3 labelled reports.
const PROVINCES_BY_REPORTS: &[(&str, u64)] = &[
    ("福建省", 17),
    ("上海市", 5),
    ("江苏省", 5),
    ("湖南省", 5),
    ("天津市", 4),
    ("陕西省", 4),
    ("云南省", 3),
    ("四川省", 3),
    ("山东省", 3),
    ("广东省", 3),
    ("浙江省", 3),
    ("辽宁省", 3),
    ("安徽省", 2),
    ("广西壮族自治区", 2),
    ("江西省", 2),
    ("河北省", 2),
    ("河南省", 2),
    ("甘肃省", 2),
    ("贵州省", 2),
    ("重庆市", 2),
    ("黑龙江省", 2),
    ("内蒙古自治区", 1),
    ("北京市", 1),
    ("吉林省", 1),
    ("宁夏回族自治区", 1),
    ("山西省", 1),
    ("新疆维吾尔自治区", 1),
    ("海南省", 1),
    ("湖北省", 1),
    ("西藏自治区", 1),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_corpus_ranks_by_province_as_its_hand_labels_place_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, channel) = start(dir.path()).await;
    ingest_real_reports(channel.clone()).await;
    let mut q = ReportServiceClient::new(channel);
    let ranking = aggregate(
        &mut q,
        AggregateRequest {
            metrics: vec![NEW.into()],
            group_by: vec!["province".into()],
            sums_only: true,
            order_by: "reports".into(),
            descending: true,
            ..Default::default()
        },
    )
    .await;
    let got: Vec<(String, u64)> = ranking
        .groups
        .iter()
        .map(|g| (g.key[0].clone(), g.reports))
        .collect();
    let want: Vec<(String, u64)> = PROVINCES_BY_REPORTS
        .iter()
        .map(|(p, n)| (p.to_string(), *n))
        .collect();
    assert_eq!(got, want, "the ranking by province");

    // The unplaced are a group of their own only when asked: the 3 national bodies, the 5
    // reports that name no place, the two Wuhan reports and 沐阳县 (an OCR misreading of 沭阳县:
    // no such county, and the text names no other place).
    let with_unplaced = aggregate(
        &mut q,
        AggregateRequest {
            metrics: vec![NEW.into()],
            group_by: vec!["province".into()],
            sums_only: true,
            include_unplaced: true,
            ..Default::default()
        },
    )
    .await;
    let unplaced = with_unplaced.groups.iter().find(|g| g.key[0].is_empty());
    assert_eq!(unplaced.map(|g| g.reports), Some(11));

    // The README's example: every body in Jiangsu by name and by code, with its levels.
    for filter in [
        Filter {
            province: "江苏省".into(),
            ..Default::default()
        },
        Filter {
            code: "320000".into(),
            ..Default::default()
        },
    ] {
        let list = q
            .list_reports(nianbao::pb::ListReportsRequest {
                filter: Some(filter),
                page_size: 100,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let mut places: Vec<(String, String, String)> = list
            .reports
            .iter()
            .map(|r| {
                let g = r.region.clone().unwrap_or_default();
                (g.city, g.county, g.code)
            })
            .collect();
        places.sort();
        assert_eq!(
            places,
            vec![
                ("南通市".into(), "如东县".into(), "320623".into()),
                ("泰州市".into(), "高港区".into(), "321203007".into()),
                ("淮安市".into(), "洪泽区".into(), "320813".into()),
                ("淮安市".into(), "洪泽区".into(), "320813".into()),
                ("镇江市".into(), "句容市".into(), "321183".into()),
            ],
        );
    }
}

/// One report published as a page, a PDF, a DOCX and a text extraction that scrambles
/// table 四 is counted once, with the rendition that reads the most.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renditions_of_one_report_count_once_with_their_best_reading() {
    use nianbao::pb::{GetReportRequest, Outcome};
    let dir = tempfile::tempdir().unwrap();
    let (_server, channel) = start(dir.path()).await;
    let mut ingest = IngestServiceClient::new(channel.clone());
    let mut q = ReportServiceClient::new(channel);
    // The scrambled text first, so that a later, fuller rendition has to take its place.
    let files = [
        "huaian-city-2024.txt",
        "files/huaian-city-2024.docx",
        "huaian-city-2024-layout.txt",
        "files/huaian-city-2024.pdf",
    ];
    let mut answers = Vec::new();
    for f in files {
        let answer = ingest
            .ingest_one(Document {
                content: std::fs::read(common::corpus_path(f)).unwrap(),
                source: f.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        answers.push(answer);
    }
    let outcomes: Vec<Outcome> = answers.iter().map(|a| a.outcome()).collect();
    assert_eq!(
        outcomes,
        vec![
            Outcome::Stored,
            Outcome::Rendition,
            Outcome::Rendition,
            Outcome::Rendition
        ],
        "{answers:?}"
    );
    let by_year = aggregate(
        &mut q,
        AggregateRequest {
            metrics: vec![NEW.into(), "litigation_direct.total".into()],
            group_by: vec!["year".into()],
            sums_only: true,
            filter: Some(Filter {
                agency: "淮安市人民政府".into(),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(by_year.groups.len(), 1);
    let g = &by_year.groups[0];
    assert_eq!(g.reports, 1, "one report, whatever its renditions");
    let litigation = g
        .sums
        .iter()
        .find(|s| s.metric == "litigation_direct.total")
        .unwrap();
    assert_eq!(
        litigation.reports, 1,
        "the counted rendition reads table 四"
    );
    let got = q
        .get_report(GetReportRequest {
            id: answers[0].id.clone(),
            include_text: false,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.renditions.len(), 4);
    assert_eq!(got.revisions, vec![answers[0].id.clone()]);
    assert_ne!(
        got.counted, answers[0].id,
        "the scrambled text is not counted"
    );
    assert!(got.changes.is_empty());
}

/// Runs `nianbao query --server … ARGS`; its exit code, stdout and stderr.
fn query(port: u16, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(["query", "--server", &format!("127.0.0.1:{port}")])
        .args(args)
        .output()
        .expect("run nianbao query");
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `nianbao query`, the analyst's command line, answers what the RPCs answer: the city
/// ranking of a year as Aggregate ranks it (in CSV, in JSON lines, in aligned columns and
/// page by page), the reports with a finding with that finding's paths and values, and
/// place names in their short form; a name that could be several places is refused naming
/// them, and a page token of another filter is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_analysts_command_line_answers_what_the_rpcs_answer() {
    use unicode_width::UnicodeWidthStr;
    let dir = tempfile::tempdir().unwrap();
    let (server, channel) = start(dir.path()).await;
    ingest_real_reports(channel.clone()).await;
    let mut q = ReportServiceClient::new(channel);
    let port = server.port;

    // The ranking by Aggregate: cities by new applications, largest first, every page.
    let ranked = aggregate(
        &mut q,
        AggregateRequest {
            metrics: vec![NEW.into()],
            group_by: vec!["city".into()],
            sums_only: true,
            order_by: NEW.into(),
            descending: true,
            limit: 1000,
            ..Default::default()
        },
    )
    .await;
    assert!(ranked.groups.len() >= 5, "{} cities", ranked.groups.len());
    let want: Vec<String> = ranked
        .groups
        .iter()
        .map(|g| {
            let s = &g.sums[0];
            let sum = if s.reports > 0 {
                format!("{}", s.sum)
            } else {
                String::new()
            };
            format!("{},{},{sum}", g.key[0], g.reports)
        })
        .collect();
    let top = ["top", NEW, "--by", "city"];
    let (code, out, err) = query(
        port,
        &[&top[..], &["--format", "csv", "--limit", "1000"]].concat(),
    );
    assert_eq!(code, Some(0), "{err}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(format!("city,reports,{NEW}").as_str()));
    assert_eq!(lines.collect::<Vec<_>>(), want);

    // Pages of 3 with --all: the same rows, the header once.
    let (code, paged, err) = query(
        port,
        &[&top[..], &["--format", "csv", "--limit", "3", "--all"]].concat(),
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(paged, out);
    // One page of 3: its rows, and on stderr the token of the next, which gives the rest.
    let (_, first, err) = query(
        port,
        &[&top[..], &["--format", "csv", "--limit", "3"]].concat(),
    );
    assert_eq!(first.lines().count(), 4);
    let token = err
        .split("--page-token ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap_or_else(|| panic!("no next page named: {err}"));
    let (_, second, _) = query(
        port,
        &[
            &top[..],
            &["--format", "csv", "--limit", "3", "--page-token", token],
        ]
        .concat(),
    );
    assert_eq!(
        second.lines().skip(1).collect::<Vec<_>>(),
        want[3..6.min(want.len())]
    );

    // JSON lines: one object a group, keys in column order, numbers as numbers.
    let (_, json, _) = query(
        port,
        &[&top[..], &["--format", "json", "--limit", "1000"]].concat(),
    );
    for (line, g) in json.lines().zip(&ranked.groups) {
        let keys: Vec<&str> = line
            .match_indices("\":")
            .map(|(at, _)| {
                let start = line[..at].rfind('"').unwrap() + 1;
                &line[start..at]
            })
            .collect();
        assert_eq!(keys, ["city", "reports", NEW], "{line}");
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["city"], g.key[0].as_str());
        assert_eq!(v["reports"].as_u64(), Some(g.reports));
    }

    // Aligned columns: every line ends its `reports` column at the same display width,
    // whatever the Chinese names before it.
    let (_, table, _) = query(
        port,
        &[&top[..], &["--format", "table", "--limit", "1000"]].concat(),
    );
    let ends: std::collections::BTreeSet<usize> = table
        .lines()
        .map(|l| {
            let reports_end = l
                .find("reports")
                .map(|at| at + "reports".len())
                .unwrap_or_else(|| {
                    // A data line: the city, spaces, then the report count.
                    let city_end = l.find(' ').unwrap();
                    let rest = &l[city_end..];
                    let digits_at = rest.find(|c: char| c.is_ascii_digit()).unwrap();
                    let digits_len = rest[digits_at..]
                        .find(' ')
                        .unwrap_or(rest.len() - digits_at);
                    city_end + digits_at + digits_len
                });
            l[..reports_end].width()
        })
        .collect();
    assert_eq!(ends.len(), 1, "columns not aligned:\n{table}");

    // The reports with one finding code, with where it is: the same reports as ListReports
    // with filter.finding, and SummarizeFindings with it counts only that code.
    let summary = q
        .summarize_findings(nianbao::pb::SummarizeFindingsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let common_code = summary
        .counts
        .iter()
        .filter(|c| c.reports >= 2)
        .max_by_key(|c| c.reports)
        .expect("a finding in two reports")
        .code
        .clone();
    let (code, listed, err) = query(
        port,
        &["findings", &common_code, "--format", "json", "--all"],
    );
    assert_eq!(code, Some(0), "{err}");
    let mut ids = std::collections::BTreeSet::new();
    let mut findings = 0;
    for line in listed.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["code"], common_code.as_str(), "{line}");
        ids.insert(v["id"].as_str().unwrap().to_owned());
        findings += 1;
    }
    let only = Filter {
        finding: common_code.clone(),
        ..Default::default()
    };
    let counted = q
        .summarize_findings(nianbao::pb::SummarizeFindingsRequest {
            filter: Some(only.clone()),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        counted.counts.iter().all(|c| c.code == common_code),
        "{counted:?}"
    );
    let total: u64 = counted.counts.iter().map(|c| c.findings).sum();
    assert_eq!(total, findings as u64);
    assert_eq!(counted.reports as usize, ids.len());

    // A short place name is the province it names; one that names several is refused.
    let (_, short, _) = query(port, &["reports", "--province", "江苏", "--format", "csv"]);
    let (_, full, _) = query(
        port,
        &["reports", "--province", "江苏省", "--format", "csv"],
    );
    assert!(short.lines().count() > 1, "{short}");
    assert_eq!(short, full);
    let (code, _, err) = query(port, &["reports", "--county", "朝阳"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("朝阳区") && err.contains("朝阳县"), "{err}");

    // A page token is good only for the filter it came from.
    let page = q
        .list_reports(nianbao::pb::ListReportsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let refused = q
        .list_reports(nianbao::pb::ListReportsRequest {
            filter: Some(only),
            page_size: 1,
            page_token: page.next_page_token,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().contains("another filter"),
        "{}",
        refused.message()
    );
}

/// The DOM of `url` as a real browser (headless chromium) builds it.
fn browser_dom(url: &str) -> String {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
            url,
        ])
        .output()
        .expect("chromium is missing: run scripts/install-browser.sh (scripts/test does)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A report's card and the ranking page, loaded in a real browser from a server holding the
/// real corpus: the card names the body and year, prints its table 三 with the figures the
/// report states, and marks the cells behind a finding with its severity and message; the
/// ranking page lists the provinces in Aggregate's order. The pages need the read scope:
/// no token is 401 (asking for Basic authentication), an ingest-only token 403.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_card_shows_a_real_report_in_a_browser() {
    const READ: &str = "read-token-0123456789abcdef";
    const INGEST: &str = "ingest-token-0123456789abcdef";
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, format!("{READ} read\n{INGEST} ingest\n")).unwrap();
    let mut server = common::Serve::new(&dir.path().join("data"))
        .args(["--metrics-listen", "127.0.0.1:0", "--auth-tokens"])
        .args([&tokens])
        .start();
    let grpc = server.addr.clone();
    let http = server.pages.clone().expect("the pages' address announced");
    let upload = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args([
            "upload",
            "--no-progress",
            "--server",
            &grpc,
            "--token",
            INGEST,
            "--journal",
        ])
        .arg(dir.path().join("journal"))
        .arg(root().join("tests/corpus/real"))
        .args(
            std::fs::read_dir(root().join("tests/corpus"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "txt")),
        )
        .output()
        .unwrap();
    assert_eq!(
        upload.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&upload.stdout)
    );

    // A report with an arithmetic finding (the document's own error) on table 三, found
    // through the CLI.
    let mut found = None;
    for code in ["ROW_TOTAL", "OUTCOMES_SUM", "BALANCE"] {
        let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
            .args([
                "query", "--server", &grpc, "--token", READ, "--format", "json", "--all",
            ])
            .args(["findings", code])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        found = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|f| {
                f["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("applications."))
            });
        if found.is_some() {
            break;
        }
    }
    let finding = found.expect("an arithmetic finding in table 三 of the corpus");
    let id = finding["id"].as_str().unwrap();
    let path = finding["path"].as_str().unwrap();
    // The cell it names, or the total of the row it names.
    let cell = match nianbao::catalogue::index_of(path) {
        Some(_) => path.to_owned(),
        None => format!("{path}.total"),
    };

    // What the store holds of it, to check the page against.
    let mut q = ReportServiceClient::new(server.channel().await);
    let mut request = tonic::Request::new(nianbao::pb::GetReportRequest {
        id: id.into(),
        include_compliance: true,
        ..Default::default()
    });
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {READ}").parse().unwrap());
    let answer = q.get_report(request).await.unwrap().into_inner();
    let report = answer.report.unwrap();
    // Its compliance: every indicator with a verdict; the arithmetic one fails, and the
    // document is at fault (it prints the sum that does not add up).
    let compliance = answer.compliance.expect("include_compliance answers it");
    assert_eq!(compliance.profile, "default");
    assert_eq!(
        compliance.indicators.len(),
        nianbao::compliance::IndicatorId::ALL.len(),
        "{compliance:?}"
    );
    let arithmetic = compliance
        .indicators
        .iter()
        .find(|i| i.id == "arithmetic")
        .unwrap();
    assert_eq!(
        (arithmetic.status.as_str(), arithmetic.fault.as_str()),
        ("FAIL", "publisher"),
        "{arithmetic:?}"
    );
    assert!(compliance.score.is_some_and(|s| s < compliance.max));
    assert!(compliance.deductions.is_empty() || compliance.score.is_some());

    let dom = browser_dom(&format!("http://reader:{READ}@{http}/reports/{id}"));
    assert!(
        dom.contains(&report.agency),
        "the card does not name {}",
        report.agency
    );
    assert!(dom.contains(&format!("{} 年", report.year.unwrap())));
    assert!(dom.contains("三、收到和处理政府信息公开申请情况"));
    // The score as GetReport gives it, and the arithmetic indicator's failure.
    let score = format!("{}", (compliance.score.unwrap() * 10.0).round() / 10.0);
    assert!(
        dom.contains(&format!("<strong>{score}</strong>")),
        "no score {score}"
    );
    let row = &dom[dom
        .find("data-indicator=\"arithmetic\"")
        .expect("the arithmetic row")..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("未通过") && row.contains("class=\"error\""),
        "{row}"
    );
    // Every figure of table 三 the report states is printed in its cell.
    let mut stated = 0;
    for (path, value) in nianbao::catalogue::facts(&report) {
        if !path.starts_with("applications.") {
            continue;
        }
        let at = dom
            .find(&format!("data-path=\"{path}\""))
            .unwrap_or_else(|| panic!("no cell for {path}"));
        let cell = &dom[at..at + dom[at..].find("</td>").unwrap()];
        let text = cell[cell.find('>').unwrap() + 1..]
            .split('<')
            .next()
            .unwrap();
        assert_eq!(text, format!("{value:.0}"), "{path}");
        stated += 1;
    }
    assert!(stated > 0, "the report states nothing in table 三");
    // The row's total cell is marked as an error, with the finding's message on it.
    let total = format!("data-path=\"{cell}\"");
    let before = &dom[..dom.find(&total).unwrap_or_else(|| panic!("no {total}"))];
    let open = &before[before.rfind("<td").unwrap()..];
    assert!(open.contains("error"), "{open}");
    assert!(dom.contains(finding["message"].as_str().unwrap()));

    // The ranking page: provinces in Aggregate's order.
    let dom = browser_dom(&format!("http://reader:{READ}@{http}/rankings?by=province"));
    assert!(dom.contains("江苏省") && dom.contains("北京市"), "{dom}");
    assert!(dom.find("江苏省").unwrap() < dom.find("北京市").unwrap());

    // The read scope: none is 401 with a Basic challenge, the ingest token 403.
    let status = |auth: Option<&str>| {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&http).unwrap();
        let header = auth.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
        write!(
            s,
            "GET / HTTP/1.1\r\nHost: x\r\n{header}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        answer
    };
    let none = status(None);
    assert!(none.starts_with("HTTP/1.1 401"), "{none}");
    assert!(
        none.to_ascii_lowercase()
            .contains("www-authenticate: basic"),
        "{none}"
    );
    assert!(status(Some(&format!("Bearer {INGEST}"))).starts_with("HTTP/1.1 403"));
    assert!(status(Some(&format!("Bearer {READ}"))).starts_with("HTTP/1.1 200"));
    server.kill();
}

/// Every counted report's (id, score) as ListReports gives them, by id.
async fn listed_scores(
    q: &mut ReportServiceClient<Channel>,
) -> std::collections::BTreeMap<String, Option<f64>> {
    let mut out = std::collections::BTreeMap::new();
    let mut token = String::new();
    loop {
        let page = q
            .list_reports(nianbao::pb::ListReportsRequest {
                page_size: 100,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        for r in page.reports {
            out.insert(r.id, r.compliance_score);
        }
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// GetReport's default-profile compliance of `id`.
async fn compliance_of(q: &mut ReportServiceClient<Channel>, id: &str) -> nianbao::pb::Compliance {
    q.get_report(nianbao::pb::GetReportRequest {
        id: id.into(),
        include_compliance: true,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .compliance
    .expect("include_compliance answers it")
}

/// The score stored per report is the one GetReport gives, is made again for a body's
/// year when the year before arrives after it, survives a clean stop and a SIGKILL, ranks
/// places by their mean with Aggregate, and is in every export format.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compliance_score_is_stored_rescored_ranked_and_exported() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut server, channel) = start(&data).await;
    let mut ingest = IngestServiceClient::new(channel.clone());
    let mut q = ReportServiceClient::new(channel.clone());
    let real = root().join("tests/corpus/real");
    let store = |name: &str| Document {
        content: std::fs::read(real.join(name)).unwrap(),
        source: name.into(),
        ..Default::default()
    };
    // The later year first: no year before to compare with yet.
    let later = ingest
        .ingest_one(store("fujian-pingtan-experimental-zone-2020.txt"))
        .await
        .unwrap()
        .into_inner()
        .id;
    let alone = compliance_of(&mut q, &later).await;
    // The cross-year indicators' reasons.
    let against = |c: &nianbao::pb::Compliance| -> Vec<String> {
        c.indicators
            .iter()
            .filter(|i| i.id == "carry_over" || i.id == "not_copied")
            .map(|i| i.reason.clone())
            .collect()
    };
    const NONE_BEFORE: &str = "没有上一年度的报告";
    assert_eq!(against(&alone), [NONE_BEFORE, NONE_BEFORE]);
    assert_eq!(alone.previous, "");
    assert_eq!(listed_scores(&mut q).await[&later], alone.score);
    // The year before arrives: the later year is scored against it, in GetReport and in
    // what ListReports and Aggregate read.
    let before = ingest
        .ingest_one(store("fujian-pingtan-experimental-zone-2019.txt"))
        .await
        .unwrap()
        .into_inner()
        .id;
    let linked = compliance_of(&mut q, &later).await;
    assert_eq!(linked.previous, before);
    assert!(
        against(&linked).iter().all(|r| r != NONE_BEFORE),
        "{linked:?}"
    );
    assert_eq!(listed_scores(&mut q).await[&later], linked.score);

    ingest_real_reports(channel).await;
    // 洪泽区 printed its name two ways (洪泽区人民政府 in 2023, 淮安市洪泽区人民政府 in 2024):
    // one body, so 2024 is scored against 2023.
    let id_of = |r: nianbao::pb::ListReportsResponse, year: i32| -> String {
        let mut ids: Vec<String> = r
            .reports
            .into_iter()
            .filter(|s| s.year == Some(year) && s.latest)
            .map(|s| s.id)
            .collect();
        assert_eq!(ids.len(), 1, "{ids:?}");
        ids.remove(0)
    };
    let hongze = q
        .list_reports(nianbao::pb::ListReportsRequest {
            filter: Some(Filter {
                agency: "洪泽区人民政府".into(),
                ..Default::default()
            }),
            page_size: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let (h2023, h2024) = (id_of(hongze.clone(), 2023), id_of(hongze, 2024));
    assert_eq!(compliance_of(&mut q, &h2024).await.previous, h2023);
    let scores = listed_scores(&mut q).await;
    let scored = scores.values().filter(|s| s.is_some()).count();
    assert!(
        scored > 40,
        "only {scored} of {} reports scored",
        scores.len()
    );
    for (id, score) in &scores {
        let c = compliance_of(&mut q, id).await;
        assert_eq!(*score, c.score, "{id}");
    }

    // Provinces ranked by their reports' mean score, highest first; each mean is the mean
    // of the scores ListReports gives for the reports the province counts. Every score
    // counts with a minimum coverage of 0.
    let ranking = |min: Option<f64>| AggregateRequest {
        group_by: vec!["province".into()],
        order_by: "compliance_score".into(),
        descending: true,
        min_compliance_coverage: min,
        ..Default::default()
    };
    let every = aggregate(&mut q, ranking(Some(0.0))).await;
    let means: Vec<f64> = every
        .groups
        .iter()
        .filter_map(|g| g.compliance.as_ref().unwrap().mean)
        .collect();
    assert!(means.len() > 10, "{every:?}");
    assert!(means.windows(2).all(|w| w[0] >= w[1]), "{means:?}");
    // By default a score counts only when it assessed half the profile or more: most of
    // the real corpus are 2,000-byte excerpts, scored on a fifth of it.
    let ranking = aggregate(&mut q, ranking(None)).await;
    let means: Vec<f64> = ranking
        .groups
        .iter()
        .filter_map(|g| g.compliance.as_ref().unwrap().mean)
        .collect();
    assert!(means.windows(2).all(|w| w[0] >= w[1]), "{means:?}");
    assert!(
        !means.is_empty() && means.len() < every.groups.len(),
        "{ranking:?}"
    );
    let top = &ranking.groups[0];
    let listed = q
        .list_reports(nianbao::pb::ListReportsRequest {
            filter: Some(Filter {
                province: top.key[0].clone(),
                ..Default::default()
            }),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .reports;
    let wide = |r: &&nianbao::pb::ReportSummary| r.compliance_coverage.unwrap() >= 0.5;
    let counted: Vec<f64> = listed
        .iter()
        .filter(|r| r.latest && r.compliance_score.is_some())
        .filter(wide)
        .filter_map(|r| r.compliance_score)
        .collect();
    let thin = listed
        .iter()
        .filter(|r| r.latest && r.compliance_score.is_some())
        .filter(|r| !wide(r))
        .count();
    let c = top.compliance.as_ref().unwrap();
    assert_eq!(c.scored, counted.len() as u64);
    assert_eq!(c.below_coverage, thin as u64);
    assert_eq!(c.min_coverage, 0.5);
    assert_eq!(c.scored + c.below_coverage + c.unscored, top.reports);
    let mean = counted.iter().sum::<f64>() / counted.len() as f64;
    assert!((c.mean.unwrap() - mean).abs() < 1e-9, "{c:?} vs {mean}");
    assert_eq!(c.profile, "default");

    // Exports carry the score: CSV and JSON lines as numbers, Parquet as DOUBLE.
    let jsonl = dir.path().join("reports.jsonl");
    let out = export(server.port, &["--format", "jsonl", jsonl.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in std::fs::read_to_string(&jsonl).unwrap().lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = row["id"].as_str().unwrap();
        // (serde_json's default float parser is not exact to the last bit.)
        match (row["compliance_score"].as_f64(), scores[id]) {
            (Some(a), Some(b)) => assert!(close(a, b), "{id}: {a} exported, {b} listed"),
            (a, b) => assert_eq!(a, b, "{id}"),
        }
    }
    let parquet = dir.path().join("reports.parquet");
    let out = export(server.port, &[parquet.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let typed = duckdb(&format!(
        "SELECT typeof(compliance_score), count(compliance_score) FROM '{}' GROUP BY 1",
        parquet.display()
    ));
    assert_eq!(typed, vec![format!("DOUBLE\t{scored}")]);

    // A clean stop (the index read back from its snapshot), then a SIGKILL (the reports
    // after the snapshot replayed from the records): the same scores.
    server.signal(libc::SIGTERM);
    let status = server.wait();
    assert!(status.success(), "{status:?}; stdout: {}", server.stdout());
    let (mut server, channel) = start(&data).await;
    let mut q = ReportServiceClient::new(channel.clone());
    assert_eq!(listed_scores(&mut q).await, scores);
    let mut ingest = IngestServiceClient::new(channel);
    // A report not stored yet, so that the restart after the SIGKILL replays it.
    let extra = ingest
        .ingest_one(Document {
            content: std::fs::read(root().join("tests/corpus/beijing-chaoyang-district-2022.txt"))
                .unwrap(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(extra.reason.is_empty(), "{extra:?}");
    let mut scores = scores;
    scores.extend(listed_scores(&mut q).await);
    assert!(scores[&extra.id].is_some());
    server.kill();
    let (_server, channel) = start(&data).await;
    let mut q = ReportServiceClient::new(channel.clone());
    assert_eq!(listed_scores(&mut q).await, scores);

    // Another body's report of 2020 that is 平潭's with the name changed: each names the
    // other as alike and fails not_copied_from_others; 平潭's stored score drops to what
    // GetReport now gives.
    let text = std::fs::read_to_string(real.join("fujian-pingtan-experimental-zone-2020.txt"))
        .unwrap()
        .replace("平潭综合实验区", "福清市");
    let copy = IngestServiceClient::new(channel)
        .ingest_one(Document {
            content: text.into_bytes(),
            source: "copy.txt".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(copy.reason.is_empty(), "{copy:?}");
    let failed = |c: &nianbao::pb::Compliance| {
        c.indicators
            .iter()
            .find(|i| i.id == "not_copied_from_others")
            .map(|i| (i.status.clone(), i.fault.clone()))
    };
    let theirs = compliance_of(&mut q, &copy.id).await;
    assert_eq!(theirs.other, later);
    assert_eq!(failed(&theirs), Some(("FAIL".into(), "publisher".into())));
    let ours = compliance_of(&mut q, &later).await;
    assert_eq!(ours.other, copy.id);
    assert_eq!(failed(&ours), Some(("FAIL".into(), "publisher".into())));
    let now = listed_scores(&mut q).await;
    assert_eq!(now[&later], ours.score);
    assert!(
        now[&later] < scores[&later],
        "{:?} vs {:?}",
        now[&later],
        scores[&later]
    );
}
