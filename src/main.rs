use std::process::ExitCode;

use clap::Parser;
use nianbao::commands::{self, broken_pipe};
use nianbao::config::{Cli, Command};

/// jemalloc, not glibc's malloc: the server's ingest took 11 % less CPU a report with it,
/// measured side by side at 200k reports (BENCHMARKS, round nine).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_json);
    let result = match cli.command {
        Command::Parse(args) => commands::parse_files(args),
        Command::Serve(args) => commands::serve(args),
        Command::Reindex(args) => commands::reindex(args),
        Command::Upload(args) => commands::upload(args),
        Command::Export(args) => commands::export(args),
        Command::Query(args) => commands::query(args),
        Command::Backup(args) => commands::backup(args),
        Command::Restore(args) => commands::restore(args),
        Command::ExtractWorker(args) => commands::extract_worker(args),
    };
    match result {
        Ok(code) => code,
        // The reader of our output went away (`| head`): it has what it wanted.
        Err(e) if broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nianbao: {}", message(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, each said once: a cause whose text its error already quotes is
/// not repeated (`refused: X; nothing was restored: X`).
fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn init_tracing(json: bool) {
    use tracing_subscriber::fmt::format::FmtSpan;
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    // One line as each RPC and each commit batch ends, with its span fields and duration.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
