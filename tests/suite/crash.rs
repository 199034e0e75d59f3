//! Durability against kill -9: the real binary serves, a client streams documents, the
//! server is killed with SIGKILL at a random moment, restarted on the same data directory,
//! and then the database must open, every acknowledged report must be there and readable,
//! and Aggregate must equal a recomputation from the stored reports.
//! NIANBAO_CRASH_TRIALS sets the number of trials (default 50); NIANBAO_SEED replays a run.

use std::path::Path;
use std::time::Duration;

use crate::common;

use common::{crash_docs, stream_until_killed, verify_store, Rng, Serve, Served};

fn spawn(dir: &Path) -> Served {
    Serve::new(dir)
        // Checkpoints every few reports: restarts load one and replay the rest.
        .args(["--index-checkpoint-reports", "7"])
        .start()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_reports_survive_sigkill() {
    let trials: u64 = std::env::var("NIANBAO_CRASH_TRIALS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let mut rng = Rng::from_env();
    let dir = tempfile::tempdir().unwrap();
    let mut acked: Vec<String> = Vec::new();
    let started = std::time::Instant::now();
    let mut stored = 0;
    for trial in 0..trials {
        let mut server = spawn(dir.path());
        let kill_after = rng.below(100) as usize;
        let delay = Duration::from_micros(rng.below(3000));
        acked.extend(
            stream_until_killed(&mut server, crash_docs(trial, 120), kill_after, delay).await,
        );

        // Restarted on the same directory (on a port of its own): it opens, and nothing
        // acknowledged is missing.
        let server = spawn(dir.path());
        stored = verify_store(server.channel().await, &acked, &format!("trial {trial}")).await;
    }
    eprintln!(
        "{trials} SIGKILL trials in {:.1} s: {} acknowledgements, {stored} reports stored, none lost",
        started.elapsed().as_secs_f64(),
        acked.len()
    );
    assert!(!acked.is_empty());
}
