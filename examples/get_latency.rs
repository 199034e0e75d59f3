//! Times GetReport round trips against a running server (a profiling aid):
//! cargo run --release --example get_latency -- http://127.0.0.1:50051 ID [N]
use std::time::Instant;

use nianbao::pb::report_service_client::ReportServiceClient;
use nianbao::pb::GetReportRequest;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().expect("ADDR");
    let id = args.next().expect("ID");
    let n: usize = args.next().map_or(1000, |s| s.parse().expect("N"));
    let mut client = ReportServiceClient::connect(addr).await.expect("connect");
    for include_text in [false, true] {
        let started = Instant::now();
        for _ in 0..n {
            client
                .get_report(GetReportRequest {
                    id: id.clone(),
                    include_text,
                    ..Default::default()
                })
                .await
                .expect("get");
        }
        println!(
            "include_text={include_text}: {:.1} µs per call",
            started.elapsed().as_secs_f64() * 1e6 / n as f64
        );
    }
}
