//! The commands of the command line, one function each (`nianbao parse`, `serve`,
//! `reindex`, `upload`, `export`, `query`, `backup`, `restore`, `extract-worker`): each
//! takes its parsed arguments ([`crate::config`]), does its work through the rooms below,
//! and says how the process should exit. `main` only parses the line, sets up logging and
//! prints an error.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::{
    BackupArgs, ExportArgs, ParseArgs, QueryArgs, ReindexArgs, RestoreArgs, ServeArgs, UploadArgs,
    WorkerArgs,
};
use crate::{output, Hints};

/// Whether `e` comes from writing to a pipe whose reader has gone.
pub fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes `text` to standard output (`print!` would panic on a closed pipe).
fn print(text: impl std::fmt::Display) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{text}")
        .and_then(|()| stdout.flush())
        .context("writing to stdout")
}

/// `nianbao parse`: each file read as the server reads it, printed as a verdict, JSON,
/// facts, text or a compliance score; exit 1 when one is not a report or cannot be read.
pub fn parse_files(args: ParseArgs) -> anyhow::Result<ExitCode> {
    let reader = crate::config::reader(&args.read).map_err(anyhow::Error::msg)?;
    let mut stdout = std::io::stdout().lock();
    let mut failed = false;
    for file in &args.files {
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("nianbao: {}: {e}", file.display());
                failed = true;
                continue;
            }
        };
        let hints = args.hints(file);
        if args.text {
            match reader.text(&bytes, &hints) {
                Ok(text) => write!(stdout, "{text}").context("writing to stdout")?,
                Err(why) => {
                    eprintln!("nianbao: {}: {why}", file.display());
                    failed = true;
                }
            }
            continue;
        }
        if args.score {
            let (report, text) = reader.read_with_text(&bytes, &hints);
            let name = file.display().to_string();
            writeln!(stdout, "{}", score(&args, &reader, &name, &report, text)?)?;
            continue;
        }
        let report = reader.read(&bytes, &hints);
        let refusal = crate::read::refusal(&report);
        // --facts is for programs (the scorer): its JSON says what a non-report is.
        failed |= refusal.is_some() && !args.facts;
        let text = if args.facts {
            serde_json::to_string(&output::facts_json(&report))?
        } else if args.json {
            serde_json::to_string_pretty(&output::report_json(&report))?
        } else {
            let kind = crate::extract::Request::of(&hints.content_type).content_type;
            let kind = crate::extract::detect(&bytes, kind).name();
            let name = file.display().to_string();
            output::verdict(&name, kind, &report, refusal.as_deref())
        };
        writeln!(stdout, "{text}").context("writing to stdout")?;
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `parse --score`: the report's compliance under `--profile`, beside `--previous`.
fn score(
    args: &ParseArgs,
    reader: &crate::Reader,
    name: &str,
    report: &crate::pb::Report,
    text: Option<String>,
) -> anyhow::Result<String> {
    let profile = crate::config::profile(&args.profile).map_err(anyhow::Error::msg)?;
    let previous = match &args.previous {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("--previous {}", path.display()))?;
            // The flags name the report scored, not the one before it.
            let hints = Hints {
                agency: None,
                year: None,
                ..args.hints(path)
            };
            let (r, t) = reader.read_with_text(&bytes, &hints);
            Some((r, t.unwrap_or_default()))
        }
        None => None,
    };
    let previous = previous.as_ref().map(|(r, t)| (r, t.as_str()));
    let text = text.unwrap_or_default();
    let assessment = crate::compliance::assess(report, &text, previous, &profile);
    Ok(if args.json {
        serde_json::to_string_pretty(&assessment)?
    } else {
        crate::compliance::render::text(name, &assessment)
    })
}

/// `nianbao serve`: the gRPC server (and the pages and metrics, when asked) on the data
/// directory, until SIGINT or SIGTERM; then the database is settled.
pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    crate::server::limit_malloc_arenas();
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    let data_dir = args.data_dir.clone();
    let code = runtime.block_on(async {
        // Settings first: a bad TLS or token file stops the start before the database opens.
        let options = args
            .options()
            .context("reading the TLS files, the token file and the OCR setup")?;
        // The port before the database: a port in use leaves no new data directory behind.
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| {
                format!(
                    "listening on {} (another server on that port? --listen another, or port 0 for any)",
                    args.listen
                )
            })?;
        let http = match &args.metrics_listen {
            Some(addr) => Some(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("--metrics-listen {addr}"))?,
            ),
            None => None,
        };
        let store = crate::store::Store::open_with(&args.data_dir, args.store_options())
            .with_context(|| format!("opening the database in {}", args.data_dir.display()))?;
        let _pid = crate::server::PidFile::write(&args.data_dir)
            .with_context(|| format!("writing the pid file in {}", args.data_dir.display()))?;
        let mut pages = String::new();
        if let Some(listener) = http {
            let metrics = crate::telemetry::install().context("starting the metrics recorder")?;
            let addr = listener.local_addr().context("the metrics address")?;
            crate::server::spawn_pages(listener, store.clone(), &options, metrics, shutdown_signal());
            pages = format!(", pages and metrics on http://{addr}/");
        }
        #[cfg(unix)]
        if let Some(tokens) = options.auth_tokens.clone() {
            reload_on_hangup(tokens).context("listening for SIGHUP")?;
        }
        // One line on stdout once the port and the database are ready, for people and for
        // scripts that start a server on port 0.
        let addr = listener.local_addr().context("the listening address")?;
        print(format_args!(
            "nianbao serving on {addr} (data in {}, pid {}{pages})\n",
            args.data_dir.display(),
            std::process::id()
        ))?;
        crate::server::run(listener, store, options, shutdown_signal()).await?;
        anyhow::Ok(ExitCode::SUCCESS)
    })?;
    // Every task, and with them the store, ends with the runtime; then the database is
    // settled so that the next start is quick.
    runtime.shutdown_timeout(std::time::Duration::from_secs(10));
    if let Err(e) = crate::store::settle(&data_dir) {
        tracing::warn!(error = %e, "database not settled; the next start reads sled's log");
    }
    Ok(code)
}

/// Re-reads the token file on every SIGHUP, from now on; a bad file keeps the tokens in force.
#[cfg(unix)]
fn reload_on_hangup(tokens: crate::service::auth::TokenFile) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            if let Err(e) = tokens.reload() {
                tracing::error!(error = %e, "SIGHUP: token file not reloaded; the previous tokens stay in force");
            }
        }
    });
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// `nianbao reindex`: every stored document read again with today's reader.
pub fn reindex(args: ReindexArgs) -> anyhow::Result<ExitCode> {
    let store = crate::store::Store::open(&args.data_dir)
        .with_context(|| format!("opening the database in {}", args.data_dir.display()))?;
    let reader = crate::config::reader(&args.read).map_err(anyhow::Error::msg)?;
    let count = store
        .reindex(|bytes, hints: &crate::Hints| reader.read_assessed(bytes, hints))
        .context("reindexing")?;
    store.close().context("closing the database")?;
    tracing::info!(reports = count, "reindexed");
    print(format_args!(
        "reindexed {count} reports in {}\n",
        args.data_dir.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// `nianbao upload`: a folder or files streamed to a server; exit 1 when one was rejected
/// or left unacknowledged, 2 when the upload could not run.
pub fn upload(args: UploadArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    let summary = match runtime.block_on(crate::client::upload::upload(args.options())) {
        Ok(summary) => summary,
        // A path that does not exist, a malformed manifest or glob, a server that cannot be
        // reached or refuses: a usage or connection error's exit status, for cron jobs.
        Err(e) => {
            eprintln!("nianbao: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    // Exit 1 only for news: a file rejected or left unacknowledged in this run.
    let code = if summary.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    match print(&summary) {
        Err(e) if !broken_pipe(&e) => Err(e),
        _ => Ok(code),
    }
}

/// `nianbao export`: every report a server holds, as Parquet, CSV or JSON lines.
pub fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let options = args.options().map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    let summary = match runtime.block_on(crate::client::export::export(options)) {
        Ok(summary) => summary,
        // `nianbao export - | head`: the reader has what it wanted.
        Err(crate::client::export::ExportError::Write { error, .. })
            if error.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            return Ok(ExitCode::SUCCESS)
        }
        Err(e) => return Err(e.into()),
    };
    eprintln!(
        "exported {} reports to {}",
        summary.reports,
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Asks the server one question and prints the answer's pages; a person at a terminal gets
/// aligned columns and, on standard error, how many matched and how to see the next page.
pub fn query(args: QueryArgs) -> anyhow::Result<ExitCode> {
    use crate::client::table::Style;
    use std::io::IsTerminal;
    let question = args.question().map_err(anyhow::Error::msg)?;
    let style = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        Style::Table
    } else {
        Style::Csv
    });
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    let pages = crate::client::query::Pages {
        style,
        limit: args.limit,
        page_token: args.page_token.clone(),
        all: args.all,
    };
    runtime.block_on(crate::client::query::answer(
        &args.remote(),
        &question,
        &pages,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// `nianbao backup`: a server's reports into a backup directory.
pub fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    let summary = runtime.block_on(crate::client::backup::backup(args.options()))?;
    print(summary)?;
    Ok(ExitCode::SUCCESS)
}

/// `nianbao restore`: a backup directory into an empty data directory.
pub fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let summary = crate::client::backup::restore(&args.dir, &args.data_dir)?;
    print(summary)?;
    Ok(ExitCode::SUCCESS)
}

/// One document on stdin, its extraction on stdout (see `crate::isolate`).
pub fn extract_worker(args: WorkerArgs) -> anyhow::Result<ExitCode> {
    use std::io::Read;
    let reader = crate::config::engine(args.ocr).map_err(anyhow::Error::msg)?;
    let reader = crate::Reader {
        limits: serde_json::from_str(&args.limits).context("--limits")?,
        ..reader
    };
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .context("reading the document")?;
    let answer = crate::extract::isolate::answer(reader.extract_here(&bytes, &args.content_type));
    drop(bytes);
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&answer).and_then(|()| stdout.flush())?;
    Ok(ExitCode::SUCCESS)
}
