//! Times the system bench's rankings against a running server (a profiling aid):
//! cargo run --release --example rank_latency -- http://127.0.0.1:50051 [N [WORD]]
//! Prints each ranking's p50, p99 and slowest call over N calls (300 by default); with
//! WORD, only the rankings whose name holds it.
use std::time::Instant;

use nianbao::pb::report_service_client::ReportServiceClient;
use nianbao::pb::AggregateRequest;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().expect("ADDR");
    let n: usize = args.next().map_or(300, |s| s.parse().expect("N"));
    let word = args.next().unwrap_or_default();
    let mut client = ReportServiceClient::connect(addr).await.expect("connect");
    let queries = [
        (
            "top 20 agencies by new applications",
            AggregateRequest {
                metrics: vec!["applications.new_received.total".into()],
                group_by: vec!["agency".into()],
                sums_only: true,
                order_by: "applications.new_received.total".into(),
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
            "top 10 provinces by compliance score",
            AggregateRequest {
                group_by: vec!["province".into()],
                order_by: "compliance_score".into(),
                sums_only: true,
                descending: true,
                limit: 10,
                ..Default::default()
            },
        ),
    ];
    for (what, q) in queries.into_iter().filter(|(what, _)| what.contains(&word)) {
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            client.aggregate(q.clone()).await.expect("aggregate");
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let slowest = times.iter().copied().fold(0.0, f64::max);
        times.sort_by(f64::total_cmp);
        let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
        println!(
            "{what}: p50 {:.2} ms, p99 {:.2} ms, slowest {slowest:.2} ms",
            at(0.5),
            at(0.99)
        );
    }
}
