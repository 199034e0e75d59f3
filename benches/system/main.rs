//! The system benchmark of BENCHMARKS.md, in one run:
//!
//!     scripts/bench-system            # 10k, 100k and 1M reports
//!     cargo bench --bench system -- --reports 10000 --streams 4
//!
//! For each corpus size N it generates N realistic reports (gen.rs), then measures: parse +
//! validate MB/s on one core beside a memchr line count over the same bytes; ingest over
//! loopback into a no-op tonic server and into the real server (a child process, durable
//! acknowledgements), with documents/s, MB/s and the server's CPU time per report; the real
//! server's peak RSS and bytes on disk per report; p50/p99 of six aggregate queries (three of them rankings, one by the compliance score), and of
//! the same group-bys in DuckDB over the same facts in memory (scripts/duckdb_compare.py, when
//! DUCKDB_PYTHON names a Python with duckdb); restart-to-serving after a clean stop and after
//! SIGKILL at the end of the ingest. It prints a Markdown table per size and writes it to target/bench-system.md.

mod gen;
mod noop;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nianbao::pb::ingest_service_client::IngestServiceClient;
use nianbao::pb::report_service_client::ReportServiceClient;
use nianbao::pb::{AggregateRequest, Document, Filter, Outcome};
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;

const NOOP_ENV: &str = "NIANBAO_BENCH_NOOP_PORT";

fn main() {
    if let Ok(port) = std::env::var(NOOP_ENV) {
        noop::serve(port.parse().expect("port"));
        return;
    }
    let mut sizes = vec![10_000usize];
    let mut streams = 4usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--reports" => {
                sizes = args
                    .next()
                    .expect("--reports N[,N...]")
                    .split(',')
                    .map(|s| s.trim().parse().expect("a count"))
                    .collect()
            }
            "--streams" => streams = args.next().expect("--streams N").parse().expect("N"),
            "--bench" => {}
            other => panic!("unknown argument {other}; use --reports N[,N...] --streams N"),
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (patterns, unusable) = gen::patterns(&root.join("tests/corpus"));
    let mut report = String::new();
    let _ = writeln!(
        report,
        "Machine: {} cores; {} concurrent ingest streams. Patterns: {}. Not usable as \
         patterns: {}.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        streams,
        patterns
            .iter()
            .map(|p| format!("{}{}", p.name, if p.scalable { "" } else { " (unscaled)" }))
            .collect::<Vec<_>>()
            .join(", "),
        if unusable.is_empty() {
            "none".to_owned()
        } else {
            unusable.join("; ")
        }
    );
    report.push_str(&parse_by_layout(&patterns));
    for &n in &sizes {
        let section = run_size(root, &patterns, n, streams);
        println!("{section}");
        report.push_str(&section);
    }
    let out = root.join("target/bench-system.md");
    std::fs::write(&out, &report).expect("write the report");
    eprintln!("written to {}", out.display());
}

/// Parse + validate time per report of each pattern (one core, 200 reports each).
fn parse_by_layout(patterns: &[gen::Pattern]) -> String {
    let mut out =
        String::from("| layout (pattern) | KB/report | µs/report | MB/s |\n|---|---|---|---|\n");
    // The parser's automata and tables are built on first use: not part of any layout's time.
    for p in patterns {
        std::hint::black_box(nianbao::parse_document(
            &gen::sample(p, 0).content,
            &gen::sample(p, 0).hints(),
        ));
    }
    for p in patterns {
        let docs: Vec<gen::Generated> = (0..200).map(|b| gen::sample(p, b)).collect();
        let bytes: usize = docs.iter().map(|d| d.content.len()).sum();
        let t = Instant::now();
        for d in &docs {
            std::hint::black_box(nianbao::parse_document(&d.content, &d.hints()));
        }
        let secs = t.elapsed().as_secs_f64();
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.0} | {:.1} |",
            p.name,
            bytes as f64 / 200.0 / 1e3,
            secs / 200.0 * 1e6,
            bytes as f64 / secs / 1e6
        );
    }
    out.push('\n');
    out
}

/// The facts of one generated report for the DuckDB side.
struct Facts {
    agency: String,
    year: i32,
    province: String,
    city: String,
    values: [Option<f64>; 4],
}

fn run_size(root: &Path, patterns: &[gen::Pattern], n: usize, streams: usize) -> String {
    assert!(
        n / 6 < gen::MAX_BODIES,
        "at most {} reports",
        gen::MAX_BODIES * 6
    );
    let mut out = String::new();
    let _ = writeln!(out, "### {n} reports\n");
    eprintln!("[{n}] generating");
    let started = Instant::now();
    let mut docs = Vec::with_capacity(n);
    let mut facts = Vec::with_capacity(n);
    let (mut broken, mut html) = (0usize, 0usize);
    for i in 0..n {
        let g = gen::report(patterns, i);
        let values = match g.facts {
            Some(v) => v,
            None => {
                broken += 1;
                let r = nianbao::parse_document(&g.content, &g.hints());
                gen::METRICS
                    .map(|m| nianbao::catalogue::get(&r, nianbao::catalogue::index_of(m).unwrap()))
            }
        };
        html += usize::from(g.html);
        // The place the server resolves from the text, whose agency names it.
        let region = nianbao::place::resolve(&nianbao::place::Clues {
            agency: &g.agency,
            text: &g.agency,
            titles: &[],
            source: None,
            url: None,
            year: Some(g.year),
        })
        .region;
        facts.push(Facts {
            agency: g.agency.clone(),
            year: g.year,
            province: region.province,
            city: region.city,
            values,
        });
        docs.push(Document {
            content: g.content,
            source: g.source,
            agency: Some(g.agency.clone()),
            year: Some(g.year),
            content_type: if g.html { "html".into() } else { String::new() },
            ..Default::default()
        });
    }
    let docs = std::sync::Arc::new(docs);
    let bytes: usize = docs.iter().map(|d| d.content.len()).sum();
    eprintln!(
        "[{n}] generated {:.0} MB in {:.1} s",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let mismatches = self_check(&docs, &facts);
    let _ = writeln!(
        out,
        "Corpus: {n} reports, {:.1} MB ({:.1} KB average), {} bodies × 6 years, {html} as HTML, \
         {broken} deliberately broken; generator self-check (every 97th report parsed): \
         {mismatches}.\n",
        bytes as f64 / 1e6,
        bytes as f64 / n as f64 / 1e3,
        n.div_ceil(6),
    );

    // 1. Parse + validate on one core, beside memchr.
    let sample = &docs[..n.min(3000)];
    let sample_bytes: usize = sample.iter().map(|d| d.content.len()).sum();
    let t = Instant::now();
    let mut findings = 0usize;
    for d in sample {
        let hints = hints_of(d);
        findings += nianbao::parse_document(&d.content, &hints).findings.len();
    }
    let parse_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut lines = 0usize;
    for _ in 0..20 {
        for d in sample {
            lines += memchr::memchr_iter(b'\n', &d.content).count();
        }
    }
    let memchr_secs = t.elapsed().as_secs_f64() / 20.0;
    std::hint::black_box((findings, lines));

    // 1b. The parse-bound rate: parse + validate alone on as many threads as the server
    // has cores, each over the whole sample, with each thread's own CPU time.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let t = Instant::now();
    let thread_cpu: f64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut findings = 0usize;
                    for d in sample {
                        findings += nianbao::parse_document(&d.content, &hints_of(d))
                            .findings
                            .len();
                    }
                    std::hint::black_box(findings);
                    thread_cpu_seconds()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("parse thread"))
            .sum()
    });
    let bound_secs = t.elapsed().as_secs_f64();
    let bound_reports = (threads * sample.len()) as f64;
    let parse_bound_rate = bound_reports / bound_secs;
    let parse_cpu_us = thread_cpu / bound_reports * 1e6;

    let _ = writeln!(out, "| measure | value |\n|---|---|");
    let _ = writeln!(
        out,
        "| parse + validate, one core ({} reports) | {:.1} MB/s ({:.0} µs/report) |",
        sample.len(),
        sample_bytes as f64 / parse_secs / 1e6,
        parse_secs / sample.len() as f64 * 1e6
    );
    let _ = writeln!(
        out,
        "| parse + validate alone on {threads} threads (the parse-bound rate) | {parse_bound_rate:.0} reports/s, {parse_cpu_us:.0} CPU-µs/report |"
    );
    let _ = writeln!(
        out,
        "| memchr line count, same bytes | {:.0} MB/s |",
        sample_bytes as f64 / memchr_secs / 1e6
    );

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // 2. The no-op server.
    eprintln!("[{n}] ingest into the no-op server");
    let port = free_port();
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .env(NOOP_ENV, port.to_string())
        .stdout(Stdio::null())
        .spawn()
        .expect("start the no-op server");
    let noop = runtime.block_on(ingest(port, &docs, streams));
    let noop_cpu = cpu_seconds(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let _ = writeln!(
        out,
        "| ingest, no-op tonic server | {:.0} reports/s, {:.1} MB/s, {:.0} server CPU-µs/report |",
        n as f64 / noop.secs,
        bytes as f64 / noop.secs / 1e6,
        noop_cpu / n as f64 * 1e6
    );

    // 3. The real server.
    eprintln!("[{n}] ingest into nianbao");
    let data = tempfile::Builder::new()
        .prefix("nianbao-bench-")
        .tempdir_in(root.join("target"))
        .expect("data dir");
    let port = free_port();
    let mut child = spawn_server(data.path(), port);
    runtime.block_on(wait_serving(port, Duration::from_secs(60)));
    let real = runtime.block_on(ingest(port, &docs, streams));
    let cpu = cpu_seconds(child.id());
    let rss = peak_rss(child.id());
    let disk = disk_bytes(data.path());
    let _ = writeln!(
        out,
        "| ingest, nianbao (durable acks) | {:.0} reports/s, {:.1} MB/s, {:.0} server CPU-µs/report; {:.0}% of no-op |",
        n as f64 / real.secs,
        bytes as f64 / real.secs / 1e6,
        cpu / n as f64 * 1e6,
        noop.secs / real.secs * 100.0
    );
    let _ = writeln!(
        out,
        "| ingest against parse alone | {:.0}% of the parse-bound rate; server CPU a report {:.2}× parse + validate's on {threads} threads ({:.2}× on one core) |",
        n as f64 / real.secs / parse_bound_rate * 100.0,
        cpu / n as f64 * 1e6 / parse_cpu_us,
        cpu / n as f64 / (parse_secs / sample.len() as f64)
    );
    let _ = writeln!(
        out,
        "| outcomes | {} |",
        real.outcomes
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "| peak RSS of the server during ingest | {:.0} MiB |",
        rss as f64 / 1048576.0
    );
    let _ = writeln!(
        out,
        "| disk after ingest | {:.1} MB, {:.0} bytes/report (raw {:.0}) |",
        disk as f64 / 1e6,
        disk as f64 / n as f64,
        bytes as f64 / n as f64
    );

    // 4. Queries, nianbao then DuckDB over the same facts.
    let probe = &facts[facts.len() / 2];
    drop(docs);
    let queries = queries(&probe.province, &probe.agency);
    let ours = runtime.block_on(time_queries(port, &queries));
    // Right after the ingest the kernel is still writing back the database's pages and
    // sled its segments; the same queries once the machine is idle again.
    let waited = wait_idle(Duration::from_secs(180));
    let idle = runtime.block_on(time_queries(port, &queries));
    let duck = duckdb(root, &facts, &probe.province, &probe.agency);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Queries right after the ingest, and again once the machine was idle (waited \
         {waited:.0} s for 2 s of at least 90% idle CPU): p50 / p99 (slowest, call #) over 300 \
         calls.\n"
    );
    let _ = writeln!(
        out,
        "| query | nianbao, right after ingest | nianbao, machine idle | DuckDB | same answer |\n|---|---|---|---|---|"
    );
    let cell = |(p50, p99, (slowest, at), _): &(f64, f64, (f64, usize), Answer)| {
        format!("{p50:.2} / {p99:.2} ms ({slowest:.2} ms, #{at})")
    };
    let mut differing = Vec::new();
    for (((name, _), after), quiet) in queries.iter().zip(&ours).zip(&idle) {
        let (duck_cell, same) = match duck.as_ref().and_then(|d| d.get(*name)) {
            Some(d) => (
                format!("{:.2} / {:.2} ms", d.0, d.1),
                if same_answer(&after.3, &d.2) && same_answer(&quiet.3, &d.2) {
                    "yes"
                } else {
                    "NO"
                },
            ),
            None => ("-".into(), "-"),
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {duck_cell} | {same} |",
            cell(after),
            cell(quiet)
        );
        if same == "NO" {
            differing.push((
                name,
                quiet.3.clone(),
                duck.as_ref().map(|d| d[*name].2.clone()),
            ));
        }
    }
    // Where an answer differs from DuckDB's, its first groups side by side.
    for (name, ours, theirs) in differing {
        let show = |a: &Answer| {
            a.iter()
                .take(5)
                .map(|(k, v)| format!("{k:?} {v}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let _ = writeln!(
            out,
            "\n{name}: nianbao {} groups ({}); DuckDB {} groups ({})",
            ours.len(),
            show(&ours),
            theirs.as_ref().map_or(0, Vec::len),
            theirs.as_ref().map(show).unwrap_or_default()
        );
    }

    // 4b. Export and backup against the running server: time, and the peak memory of the
    // client and of the server while they ran.
    eprintln!("[{n}] export and backup");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| export or backup of every report | time | client peak RSS | server peak RSS | output |\n|---|---|---|---|---|"
    );
    let out_dir = data.path().join("out");
    let server_url = format!("http://127.0.0.1:{port}");
    let parquet = out_dir.join("reports.parquet");
    let backup = out_dir.join("backup");
    std::fs::create_dir_all(&out_dir).expect("output dir");
    for (what, args, output) in [
        (
            "nianbao export (Parquet)",
            vec![
                "export".to_owned(),
                "--server".to_owned(),
                server_url.clone(),
                parquet.display().to_string(),
            ],
            parquet.clone(),
        ),
        (
            "nianbao backup",
            vec![
                "backup".to_owned(),
                "--server".to_owned(),
                server_url.clone(),
                backup.display().to_string(),
            ],
            backup.clone(),
        ),
    ] {
        // Writing 5 to clear_refs resets the server's VmHWM to its current RSS.
        let _ = std::fs::write(format!("/proc/{}/clear_refs", child.id()), "5");
        let (secs, client_rss) = run_measured(&args);
        let size = match std::fs::metadata(&output) {
            Ok(m) if m.is_file() => m.len(),
            _ => disk_bytes(&output),
        };
        let _ = writeln!(
            out,
            "| {what} | {secs:.1} s ({:.0} reports/s) | {} MiB | {} MiB | {:.1} MB |",
            n as f64 / secs,
            client_rss >> 20,
            peak_rss(child.id()) >> 20,
            size as f64 / 1e6
        );
    }
    let _ = std::fs::remove_dir_all(&out_dir);

    // 5. Restart. First SIGKILL at the end of the ingest: sled replays its log since it
    // was opened, the index loads its last checkpoint and replays what came after. Then a
    // clean stop (index snapshot, sled settled) and a start after it.
    eprintln!("[{n}] restarts");
    let _ = child.kill();
    let _ = child.wait();
    let t = Instant::now();
    let mut child = spawn_server(data.path(), port);
    runtime.block_on(wait_serving(port, Duration::from_secs(600)));
    let crashed = t.elapsed().as_secs_f64();
    let t = Instant::now();
    terminate(&mut child);
    let stop_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut child = spawn_server(data.path(), port);
    runtime.block_on(wait_serving(port, Duration::from_secs(600)));
    let clean = t.elapsed().as_secs_f64();
    terminate(&mut child);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Restart to serving (health SERVING and an aggregate answered): {crashed:.2} s after \
         SIGKILL at the end of the ingest (sled's log replayed, the index's last checkpoint \
         loaded and the reports after it replayed); {clean:.2} s after a clean stop (which \
         took {stop_secs:.2} s: index snapshot written, sled opened once more and closed).\n"
    );
    // NIANBAO_BENCH_KEEP keeps the data directory, to start a server on it later.
    if std::env::var_os("NIANBAO_BENCH_KEEP").is_some() {
        eprintln!("[{n}] data kept in {}", data.keep().display());
    }
    out
}

/// Parses every 97th generated report and counts those whose agency, year or metrics differ
/// from what the generator says they print.
fn self_check(docs: &[Document], facts: &[Facts]) -> String {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (i, (d, f)) in docs.iter().zip(facts).enumerate().step_by(97) {
        let hints = hints_of(d);
        let r = nianbao::parse_document(&d.content, &hints);
        let values = gen::METRICS
            .map(|m| nianbao::catalogue::get(&r, nianbao::catalogue::index_of(m).unwrap()));
        checked += 1;
        if r.agency != f.agency || r.year != Some(f.year) || values != f.values {
            if std::env::var_os("NIANBAO_BENCH_EXPLAIN").is_some() {
                eprintln!(
                    "report {i}: parsed {:?} {:?} {values:?}, generated {:?} {} {:?}",
                    r.agency, r.year, f.agency, f.year, f.values
                );
            }
            wrong.push(i);
        }
    }
    format!(
        "{} of {checked} differ{}",
        wrong.len(),
        if wrong.is_empty() {
            String::new()
        } else {
            format!(" (first: report {})", wrong[0])
        }
    )
}

/// The hints the server takes from a Document.
fn hints_of(d: &Document) -> nianbao::Hints {
    nianbao::Hints {
        agency: d.agency.clone(),
        year: d.year,
        content_type: d.content_type.clone(),
        ..Default::default()
    }
}

struct Ingested {
    secs: f64,
    outcomes: BTreeMap<String, usize>,
}

/// Streams every document over `streams` concurrent Ingest streams; times until the last answer.
async fn ingest(port: u16, docs: &std::sync::Arc<Vec<Document>>, streams: usize) -> Ingested {
    let channel = connect(port).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..streams {
        let docs = docs.clone();
        let mut client = IngestServiceClient::new(channel.clone())
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(64 << 20);
        tasks.push(tokio::spawn(async move {
            let (tx, rx) = tokio::sync::mpsc::channel::<Document>(256);
            tokio::spawn(async move {
                for d in docs.iter().skip(s).step_by(streams) {
                    if tx.send(d.clone()).await.is_err() {
                        break;
                    }
                }
            });
            let mut answers = client
                .ingest(tokio_stream::wrappers::ReceiverStream::new(rx))
                .await
                .expect("ingest")
                .into_inner();
            let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
            while let Some(r) = answers.message().await.expect("answer") {
                let name = Outcome::try_from(r.outcome)
                    .map_or("?", |o| o.as_str_name())
                    .trim_start_matches("OUTCOME_")
                    .to_lowercase();
                *outcomes.entry(name).or_default() += 1;
            }
            outcomes
        }));
    }
    let mut outcomes = BTreeMap::new();
    for t in tasks {
        for (k, v) in t.await.expect("stream task") {
            *outcomes.entry(k).or_default() += v;
        }
    }
    Ingested {
        secs: started.elapsed().as_secs_f64(),
        outcomes,
    }
}

type Query = (&'static str, AggregateRequest);

fn queries(province: &str, agency: &str) -> Vec<Query> {
    vec![
        (
            "new applications by year, everything",
            AggregateRequest {
                metrics: vec![gen::METRICS[0].into()],
                group_by: vec!["year".into()],
                sums_only: true,
                ..Default::default()
            },
        ),
        (
            "disclosure rate by city, one province",
            AggregateRequest {
                group_by: vec!["city".into()],
                rates: vec!["disclosure_rate".into()],
                filter: Some(Filter {
                    province: province.into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
        (
            "top 20 agencies by new applications, everything",
            AggregateRequest {
                metrics: vec![gen::METRICS[0].into()],
                group_by: vec!["agency".into()],
                sums_only: true,
                order_by: gen::METRICS[0].into(),
                descending: true,
                limit: 20,
                ..Default::default()
            },
        ),
        (
            "top 10 cities by disclosure rate, at least 30 reports",
            AggregateRequest {
                group_by: vec!["city".into()],
                rates: vec!["disclosure_rate".into()],
                order_by: "disclosure_rate".into(),
                descending: true,
                limit: 10,
                min_reports: 30,
                ..Default::default()
            },
        ),
        (
            "top 10 provinces by compliance score (default coverage)",
            AggregateRequest {
                group_by: vec!["province".into()],
                order_by: "compliance_score".into(),
                sums_only: true,
                descending: true,
                limit: 10,
                ..Default::default()
            },
        ),
        (
            "one agency across its years",
            AggregateRequest {
                metrics: vec![gen::METRICS[0].into()],
                group_by: vec!["year".into()],
                sums_only: true,
                filter: Some(Filter {
                    agency: agency.into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
    ]
}

/// A query's answer as (group key, value) pairs, for comparing with DuckDB's.
type Answer = Vec<(String, f64)>;

/// Per query: p50, p99, the slowest call, its position, and the answer.
async fn time_queries(port: u16, queries: &[Query]) -> Vec<(f64, f64, (f64, usize), Answer)> {
    let mut client = ReportServiceClient::new(connect(port).await);
    let mut out = Vec::new();
    for (_, q) in queries {
        let mut times = Vec::new();
        let mut answer = Vec::new();
        for _ in 0..300 {
            let t = Instant::now();
            let r = client
                .aggregate(q.clone())
                .await
                .expect("aggregate")
                .into_inner();
            times.push(t.elapsed().as_secs_f64() * 1e3);
            answer = r
                .groups
                .iter()
                .map(|g| {
                    let v = match (&g.compliance, g.rates.first()) {
                        (Some(c), _) => c.mean.unwrap_or(f64::NAN),
                        (None, Some(rate)) => rate.value.unwrap_or(f64::NAN),
                        (None, None) => g.sums[0].sum,
                    };
                    (g.key.join("/"), v)
                })
                .collect();
        }
        let slowest =
            times.iter().enumerate().fold(
                (0.0, 0),
                |best, (k, &t)| if t > best.0 { (t, k + 1) } else { best },
            );
        let (p50, p99) = percentiles(&mut times);
        out.push((p50, p99, slowest, answer));
    }
    out
}

/// Waits until the machine's CPUs were at least 90% idle over 2 s in a row (from
/// /proc/stat), at most `limit`; returns the seconds waited.
fn wait_idle(limit: Duration) -> f64 {
    fn cpu_times() -> Option<(u64, u64)> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let line = stat.lines().next()?;
        let v: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok())
            .collect();
        // idle + iowait, and the total.
        Some((v.get(3)? + v.get(4)?, v.iter().sum()))
    }
    let started = Instant::now();
    while started.elapsed() < limit {
        let Some((idle0, total0)) = cpu_times() else {
            break;
        };
        std::thread::sleep(Duration::from_secs(2));
        let Some((idle1, total1)) = cpu_times() else {
            break;
        };
        let busy = 1.0 - (idle1 - idle0) as f64 / (total1 - total0).max(1) as f64;
        if busy <= 0.10 {
            break;
        }
    }
    started.elapsed().as_secs_f64()
}

fn percentiles(times: &mut [f64]) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.99))
}

fn same_answer(a: &Answer, b: &Answer) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|((ka, va), (kb, vb))| {
            ka == kb
                && ((va - vb).abs() <= 1e-9 * va.abs().max(1.0) || (va.is_nan() && vb.is_nan()))
        })
}

/// p50, p99 (ms) and the answer of each query in DuckDB, by query name.
type DuckTimes = BTreeMap<String, (f64, f64, Answer)>;

fn duckdb(root: &Path, facts: &[Facts], province: &str, agency: &str) -> Option<DuckTimes> {
    let python = std::env::var("DUCKDB_PYTHON").ok()?;
    let csv = root.join("target/bench-facts.csv");
    let mut text = String::from(
        "agency,year,province,city,new_received,disclosed,partially_disclosed,closed_total\n",
    );
    for f in facts {
        let v: Vec<String> = f
            .values
            .iter()
            .map(|v| v.map_or(String::new(), |v| v.to_string()))
            .collect();
        let _ = writeln!(
            text,
            "{},{},{},{},{}",
            f.agency,
            f.year,
            f.province,
            f.city,
            v.join(",")
        );
    }
    std::fs::write(&csv, text).expect("write facts");
    let output = Command::new(python)
        .arg(root.join("scripts/duckdb_compare.py"))
        .args([csv.as_os_str(), province.as_ref(), agency.as_ref()])
        .output()
        .expect("run duckdb_compare.py");
    if !output.status.success() {
        eprintln!(
            "duckdb_compare.py failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let mut out = BTreeMap::new();
    for (name, v) in json.as_object()? {
        let answer = v["answer"]
            .as_array()?
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap_or("").to_owned(),
                    p[1].as_f64().unwrap_or(f64::NAN),
                )
            })
            .collect();
        out.insert(
            name.clone(),
            (v["p50_ms"].as_f64()?, v["p99_ms"].as_f64()?, answer),
        );
    }
    Some(out)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Starts the server, under the program `SERVER_WRAP` names when set (`SERVER_WRAP=heaptrack`
/// records where its memory goes; the measures of that run are the wrapper's, not the server's).
fn spawn_server(dir: &Path, port: u16) -> Child {
    let mut cmd = match std::env::var_os("SERVER_WRAP") {
        Some(wrapper) => {
            let mut c = Command::new(wrapper);
            c.arg(env!("CARGO_BIN_EXE_nianbao"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_nianbao")),
    };
    cmd.args([
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--data-dir",
    ])
    .arg(dir)
    // The store's lines say how a restart's time splits between sled and the index.
    .env("RUST_LOG", "warn,nianbao::store=info")
    .stdout(Stdio::null())
    .spawn()
    .expect("start nianbao serve")
}

/// SIGTERM, then wait for the exit.
fn terminate(child: &mut Child) {
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
}

async fn connect(port: u16) -> Channel {
    for _ in 0..2000 {
        if let Ok(c) = Channel::from_shared(format!("http://127.0.0.1:{port}"))
            .expect("uri")
            .connect()
            .await
        {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("no server on port {port}");
}

/// Waits until health says SERVING and an aggregate is answered.
async fn wait_serving(port: u16, limit: Duration) {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(c) = Channel::from_shared(format!("http://127.0.0.1:{port}"))
            .expect("uri")
            .connect()
            .await
        {
            let mut health = tonic_health::pb::health_client::HealthClient::new(c.clone());
            let serving = health
                .check(tonic_health::pb::HealthCheckRequest::default())
                .await
                .is_ok_and(|r| r.into_inner().status == ServingStatus::Serving as i32);
            let answered = ReportServiceClient::new(c)
                .aggregate(AggregateRequest {
                    sums_only: true,
                    ..Default::default()
                })
                .await
                .is_ok();
            if serving && answered {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("server on {port} not serving within {limit:?}");
}

/// User + system CPU seconds of a process so far.
/// The CPU time the calling thread has used, in seconds.
fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for clock_gettime to write.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(r, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the command name: state is field 3, utime 14 and stime 15 (1-based in proc(5)).
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&k| fields.get(k).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    ticks as f64 / 100.0
}

/// The peak resident set (VmHWM) of a process, in bytes.
/// Runs the nianbao binary with `args` to the end; its wall time and peak RSS (VmHWM, read
/// every 20 ms while it runs).
fn run_measured(args: &[String]) -> (f64, u64) {
    let t = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("run nianbao");
    let mut rss = 0;
    loop {
        rss = rss.max(peak_rss(child.id()));
        match child.try_wait().expect("wait") {
            Some(status) => {
                assert!(status.success(), "nianbao {args:?} failed");
                return (t.elapsed().as_secs_f64(), rss);
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Bytes the files under `dir` occupy on disk (allocated blocks).
fn disk_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    let mut stack: Vec<PathBuf> = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let Ok(m) = e.metadata() else { continue };
            if m.is_dir() {
                stack.push(e.path());
            } else {
                total += m.blocks() * 512;
            }
        }
    }
    total
}
