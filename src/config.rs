//! The command line: one clap-derive struct per command, with env fallbacks.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::client::channel::Remote;

#[derive(Debug, Parser)]
#[command(
    name = "nianbao",
    version,
    about = "政府信息公开工作年度报告: parse, validate, store, aggregate"
)]
pub struct Cli {
    /// Log as JSON lines instead of text.
    #[arg(long, global = true, env = "NIANBAO_LOG_JSON")]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse report files: one line per file (body, year, figures read, findings; NOT A
    /// REPORT or UNREADABLE with the reason, and exit 1), or JSON (--json, --facts).
    Parse(ParseArgs),
    /// Run the gRPC service (ingest, queries, health, reflection).
    Serve(ServeArgs),
    /// Parse every stored document again and rewrite its report in place.
    Reindex(ReindexArgs),
    /// Stream files or whole directories (recursively) to a server.
    Upload(UploadArgs),
    /// Write the facts of the reports a filter selects to a Parquet, CSV or JSON-lines file.
    Export(ExportArgs),
    /// Ask a running server: rankings, reports, findings, metrics (aligned tables in a
    /// terminal, CSV when piped, or --format).
    Query(QueryArgs),
    /// Back up every report a running server holds into a directory.
    Backup(BackupArgs),
    /// Restore a backup into a new (or empty) data directory.
    Restore(RestoreArgs),
    /// One document's extraction, in a worker process the server starts (not for people).
    #[command(hide = true)]
    ExtractWorker(WorkerArgs),
}

/// How the commands that talk to a server (upload, query, export, backup) reach it.
#[derive(Debug, Args)]
pub struct RemoteArgs {
    /// The server, http://host:port or https://host:port.
    #[arg(long, env = "NIANBAO_SERVER", default_value = crate::client::upload::DEFAULT_SERVER)]
    pub server: String,
    /// Bearer token, when the server requires one.
    #[arg(long, env = "NIANBAO_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// PEM CA certificate for an https server with a private CA.
    #[arg(long)]
    pub ca_cert: Option<PathBuf>,
}

impl RemoteArgs {
    /// The server these flags name.
    pub fn remote(&self) -> Remote {
        let RemoteArgs {
            server,
            token,
            ca_cert,
        } = self;
        Remote {
            endpoint: server.clone(),
            token: token.clone(),
            ca_cert: ca_cert.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(subcommand)]
    pub question: QuestionArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// table, csv or json (JSON lines); by default a table on a terminal, CSV otherwise.
    #[arg(long, global = true, value_enum)]
    pub format: Option<crate::client::table::Style>,
    /// Rows a page (groups, reports); 0 for the server's default.
    #[arg(long, global = true, default_value_t = 20)]
    pub limit: u32,
    /// Go on from the page an earlier answer named (its `--page-token`).
    #[arg(long, global = true, default_value = "")]
    pub page_token: String,
    /// Every page, one after another.
    #[arg(long, global = true, conflicts_with = "page_token")]
    pub all: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum QuestionArgs {
    /// Groups ranked by a metric, a rate or `reports`:
    /// `nianbao query top applications.new_received.total --by city --year 2023`.
    Top {
        /// A metric path (`nianbao query metrics` lists them), a rate name, `reports`, or
        /// `compliance_score` (the mean score of the group's reports).
        order: String,
        /// What to group by, comma-separated: year, agency, province, city, county,
        /// township, template.
        #[arg(long, value_delimiter = ',', required = true)]
        by: Vec<String>,
        /// More metrics to show beside it (repeat or comma-separate).
        #[arg(long, value_delimiter = ',')]
        also: Vec<String>,
        /// Smallest first.
        #[arg(long)]
        ascending: bool,
        /// Leave out groups of fewer reports than this.
        #[arg(long, default_value_t = 0)]
        min_reports: u64,
        /// With `compliance_score`: a report's score counts in its group's mean only when
        /// it assessed at least this share (0–1) of the profile's weights [server default
        /// 0.5].
        #[arg(long)]
        min_coverage: Option<f64>,
        /// Keep, as a group with an empty name, the reports the grouped place level does not know.
        #[arg(long)]
        include_unplaced: bool,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// The reports a filter selects.
    Reports {
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Finding counts by code; with a CODE, the reports that have it, with each finding's
    /// path, values and message.
    Findings {
        /// A finding code (ROW_TOTAL, BALANCE, CELL_BLANK, …).
        #[arg(value_name = "CODE")]
        finding_code: Option<String>,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// The metric paths and rate names queries take.
    Metrics,
}

impl QueryArgs {
    pub fn remote(&self) -> Remote {
        self.remote.remote()
    }

    pub fn question(&self) -> Result<crate::client::query::Question, String> {
        use crate::client::query::Question;
        Ok(match &self.question {
            QuestionArgs::Top {
                order,
                by,
                also,
                ascending,
                min_reports,
                min_coverage,
                include_unplaced,
                filter,
            } => Question::Top {
                order: order.trim().to_owned(),
                by: by.iter().map(|b| b.trim().to_owned()).collect(),
                also: also.iter().map(|a| a.trim().to_owned()).collect(),
                ascending: *ascending,
                min_reports: *min_reports,
                min_coverage: *min_coverage,
                include_unplaced: *include_unplaced,
                filter: filter.to_filter(),
            },
            QuestionArgs::Reports { filter } => Question::Reports {
                filter: filter.to_filter(),
            },
            QuestionArgs::Findings {
                finding_code,
                filter,
            } => {
                let mut filter = filter.to_filter();
                if let Some(code) = finding_code {
                    if !filter.finding.is_empty() && !filter.finding.eq_ignore_ascii_case(code) {
                        return Err(format!(
                            "findings {code} --finding {}: name one code",
                            filter.finding
                        ));
                    }
                    filter.finding = code.trim().to_owned();
                }
                Question::Findings { filter }
            }
            QuestionArgs::Metrics => Question::Metrics,
        })
    }
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup directory: new or empty (or holding a backup, with --overwrite).
    pub dir: PathBuf,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Replace the backup DIR holds (it stays valid until the new one is complete).
    #[arg(long)]
    pub overwrite: bool,
}

impl BackupArgs {
    pub fn options(&self) -> crate::client::backup::BackupOptions {
        let BackupArgs {
            dir,
            remote,
            overwrite,
        } = self;
        crate::client::backup::BackupOptions {
            dir: dir.clone(),
            remote: remote.remote(),
            overwrite: *overwrite,
        }
    }
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A backup directory written by `nianbao backup`.
    pub dir: PathBuf,
    /// The data directory to create: new or empty (no server may be running on it).
    #[arg(long, env = "NIANBAO_DATA_DIR", default_value = crate::store::DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The file to write (`-`: standard output, for CSV and JSON lines).
    pub output: PathBuf,
    /// parquet, csv or jsonl; by default the output's extension (.parquet, .csv, .jsonl).
    #[arg(long, value_enum)]
    pub format: Option<crate::client::export::Format>,
    /// CSV for Excel: start the file with a UTF-8 byte-order mark, so that Excel on a Chinese
    /// Windows does not read it as GBK.
    #[arg(long)]
    pub excel: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
}

impl ExportArgs {
    pub fn options(&self) -> Result<crate::client::export::ExportOptions, String> {
        use crate::client::export::Format;
        let format = match self.format {
            Some(f) => f,
            None => match self.output.extension().and_then(|e| e.to_str()) {
                Some("parquet") => Format::Parquet,
                Some("csv") => Format::Csv,
                Some("jsonl" | "ndjson") => Format::Jsonl,
                _ => {
                    return Err(format!(
                        "{}: say --format parquet, csv or jsonl (the extension does not tell)",
                        self.output.display()
                    ))
                }
            },
        };
        if self.excel && format != Format::Csv {
            return Err(
                "--excel is for CSV: a byte-order mark has no place in Parquet or JSON lines"
                    .into(),
            );
        }
        Ok(crate::client::export::ExportOptions {
            remote: self.remote.remote(),
            format,
            output: self.output.clone(),
            excel: self.excel,
            filter: self.filter.to_filter(),
        })
    }
}

/// Which reports a command that queries a server covers (the proto's Filter).
#[derive(Debug, Args, Default)]
pub struct FilterArgs {
    /// Reports of this year only.
    #[arg(long, conflicts_with_all = ["year_from", "year_to"])]
    pub year: Option<i32>,
    /// Reports of this year or later.
    #[arg(long)]
    pub year_from: Option<i32>,
    /// Reports of this year or earlier.
    #[arg(long)]
    pub year_to: Option<i32>,
    /// Agencies whose name contains this.
    #[arg(long, default_value = "")]
    pub agency: String,
    /// A province: 江苏省, or its short form 江苏.
    #[arg(long, default_value = "")]
    pub province: String,
    /// A prefecture-level city: 淮安市, or 淮安.
    #[arg(long, default_value = "")]
    pub city: String,
    #[arg(long, default_value = "")]
    pub county: String,
    #[arg(long, default_value = "")]
    pub township: String,
    /// A division code: every report at or under it (320000 Jiangsu, 320800 Huai'an).
    #[arg(long, default_value = "")]
    pub code: String,
    /// Reports published on or after this date (YYYY-MM-DD).
    #[arg(long, default_value = "")]
    pub published_from: String,
    /// Reports published on or before this date (YYYY-MM-DD).
    #[arg(long, default_value = "")]
    pub published_to: String,
    /// 2019, 2021 or unknown.
    #[arg(long, default_value = "")]
    pub template: String,
    /// Reports with at least one finding of this severity (error, warning, info).
    #[arg(long, default_value = "")]
    pub severity: String,
    /// Reports with at least one finding of this code (ROW_TOTAL, CELL_BLANK, …).
    #[arg(long, default_value = "")]
    pub finding: String,
    /// Every revision and rendition, not only the report counted for each body and year.
    #[arg(long)]
    pub all_revisions: bool,
}

impl FilterArgs {
    pub fn to_filter(&self) -> crate::pb::Filter {
        crate::pb::Filter {
            year_from: self.year.or(self.year_from),
            year_to: self.year.or(self.year_to),
            agency: self.agency.clone(),
            province: self.province.clone(),
            city: self.city.clone(),
            county: self.county.clone(),
            township: self.township.clone(),
            template: self.template.clone(),
            severity: self.severity.clone(),
            all_revisions: self.all_revisions,
            code: self.code.clone(),
            published_from: self.published_from.clone(),
            published_to: self.published_to.clone(),
            finding: self.finding.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Files or directories to upload.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Journal of acknowledged documents; a re-run skips what it lists [default:
    /// `.nianbao-upload.HOST_PORT.journal`, one per server, so that another server is sent
    /// everything].
    #[arg(long, env = "NIANBAO_UPLOAD_JOURNAL")]
    pub journal: Option<PathBuf>,
    /// Documents sent and not yet acknowledged, at most.
    #[arg(long, default_value_t = crate::client::upload::DEFAULT_IN_FLIGHT)]
    pub in_flight: usize,
    /// Retries (with backoff) on UNAVAILABLE and RESOURCE_EXHAUSTED.
    #[arg(long, default_value_t = crate::client::upload::DEFAULT_MAX_RETRIES)]
    pub max_retries: u32,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Sidecar manifest giving files their page URL and publication date: CSV with the header
    /// `path,url,published`, or JSON lines (`.jsonl`) `{"path": …, "url": …, "published": …}`;
    /// paths relative to the manifest's folder or absolute. Without it, an uploaded folder's
    /// `nianbao-manifest.csv` or `nianbao-manifest.jsonl` is used.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Send only the files under an uploaded folder whose path relative to it matches this
    /// glob (repeatable; `*` crosses `/`: `--include '*.pdf'`, `--include '2023/**'`).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Leave out the files under an uploaded folder whose path relative to it matches this
    /// glob (repeatable; wins over --include: `--exclude '**/drafts/**'`).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
}

impl UploadArgs {
    pub fn options(&self) -> crate::client::upload::UploadOptions {
        let UploadArgs {
            paths,
            remote,
            journal,
            in_flight,
            max_retries,
            no_progress,
            manifest,
            include,
            exclude,
        } = self;
        crate::client::upload::UploadOptions {
            remote: remote.remote(),
            paths: paths.clone(),
            journal: journal
                .clone()
                .unwrap_or_else(|| crate::client::upload::default_journal(&remote.server)),
            in_flight: *in_flight,
            max_retries: *max_retries,
            progress: !*no_progress,
            manifest: manifest.clone(),
            include: include.clone(),
            exclude: exclude.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "NIANBAO_LISTEN", default_value = crate::server::DEFAULT_LISTEN)]
    pub listen: String,
    /// Directory of the embedded sled database.
    #[arg(long, env = "NIANBAO_DATA_DIR", default_value = crate::store::DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// Largest gRPC message accepted or sent, in bytes.
    #[arg(long, env = "NIANBAO_MAX_MESSAGE_BYTES", default_value_t = crate::server::DEFAULT_MAX_MESSAGE_BYTES)]
    pub max_message_bytes: usize,
    /// Largest document accepted, in bytes; larger ones are rejected alone.
    #[arg(long, env = "NIANBAO_MAX_DOCUMENT_BYTES", default_value_t = crate::ingest::DEFAULT_MAX_DOCUMENT_BYTES)]
    pub max_document_bytes: usize,
    /// Bytes of documents in flight across all streams; beyond it new documents wait, then
    /// get RESOURCE_EXHAUSTED.
    #[arg(long, env = "NIANBAO_MEMORY_BYTES", default_value_t = crate::ingest::DEFAULT_MEMORY_BYTES)]
    pub memory_bytes: usize,
    /// Seconds a document may wait for memory before RESOURCE_EXHAUSTED.
    #[arg(long, env = "NIANBAO_MEMORY_WAIT_SECS", default_value_t = crate::ingest::DEFAULT_MEMORY_WAIT_SECS)]
    pub memory_wait_secs: u64,
    /// Documents one Ingest stream may have in flight.
    #[arg(long, env = "NIANBAO_STREAM_IN_FLIGHT", default_value_t = crate::service::ingest::STREAM_IN_FLIGHT)]
    pub stream_in_flight: usize,
    /// Concurrent streams per HTTP/2 connection.
    #[arg(long, env = "NIANBAO_MAX_CONCURRENT_STREAMS", default_value_t = crate::server::DEFAULT_MAX_CONCURRENT_STREAMS)]
    pub max_concurrent_streams: u32,
    /// Seconds between HTTP/2 keepalive pings; a peer that does not answer one within
    /// --keepalive-timeout-secs is disconnected.
    #[arg(long, env = "NIANBAO_KEEPALIVE_SECS", default_value_t = crate::server::DEFAULT_KEEPALIVE_SECS)]
    pub keepalive_secs: u64,
    #[arg(long, env = "NIANBAO_KEEPALIVE_TIMEOUT_SECS", default_value_t = crate::server::DEFAULT_KEEPALIVE_TIMEOUT_SECS)]
    pub keepalive_timeout_secs: u64,
    /// An Ingest stream that sends no document for this many seconds is closed
    /// (DEADLINE_EXCEEDED, after the answers for what it sent).
    #[arg(long, env = "NIANBAO_STREAM_IDLE_SECS", default_value_t = crate::service::ingest::DEFAULT_STREAM_IDLE_SECS)]
    pub stream_idle_secs: u64,
    /// An Ingest stream open this long is closed (UNAVAILABLE: open a new one), after the
    /// answers for what it sent.
    #[arg(long, env = "NIANBAO_STREAM_MAX_AGE_SECS", default_value_t = crate::service::ingest::DEFAULT_STREAM_MAX_AGE_SECS)]
    pub stream_max_age_secs: u64,
    /// Free space (MiB) every commit must leave on the data directory's filesystem; below
    /// it, documents are refused with RESOURCE_EXHAUSTED ("disk full") and nothing is written.
    #[arg(long, env = "NIANBAO_MIN_FREE_MB", default_value_t = crate::store::DEFAULT_MIN_FREE_MB)]
    pub min_free_mb: u64,
    /// Reports stored between two checkpoints of the query index at the least (it is
    /// also at least a sixteenth of all stored); after a crash, only the reports since the
    /// last checkpoint are read back into the index.
    #[arg(long, env = "NIANBAO_INDEX_CHECKPOINT_REPORTS", default_value_t = crate::store::CHECKPOINT_ROWS)]
    pub index_checkpoint_reports: u64,
    /// Most documents one commit batch (one fsync) holds.
    #[arg(long, env = "NIANBAO_MAX_BATCH", default_value_t = crate::ingest::DEFAULT_MAX_BATCH)]
    pub max_batch: usize,
    /// Seconds shutdown waits for in-flight work.
    #[arg(long, env = "NIANBAO_SHUTDOWN_GRACE_SECS", default_value_t = crate::server::DEFAULT_SHUTDOWN_GRACE_SECS)]
    pub shutdown_grace_secs: u64,
    /// Require `authorization: Bearer <token>` on every service but health and reflection;
    /// this token has every scope (ingest, read, admin).
    #[arg(long, env = "NIANBAO_AUTH_TOKEN", hide_env_values = true)]
    pub auth_token: Option<String>,
    /// Token file: one `<token> <scope>[,<scope>...]` a line (scopes ingest, read, admin; `#`
    /// comments), re-read on SIGHUP. A bad file stops the start; on SIGHUP it keeps the old tokens.
    #[arg(long, env = "NIANBAO_AUTH_TOKENS")]
    pub auth_tokens: Option<PathBuf>,
    /// PEM certificate chain: serve TLS (with --tls-key).
    #[arg(long, env = "NIANBAO_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "NIANBAO_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTP on this address (off unless set): Prometheus metrics at /metrics, and
    /// pages for people (a report's card, rankings) behind the read scope.
    #[arg(long, env = "NIANBAO_METRICS_LISTEN", alias = "http-listen")]
    pub metrics_listen: Option<String>,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Args)]
pub struct ReindexArgs {
    /// Directory of the embedded sled database (the server must not be running on it).
    #[arg(long, env = "NIANBAO_DATA_DIR", default_value = crate::store::DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
}

impl ServeArgs {
    /// How the store is tuned.
    pub fn store_options(&self) -> crate::store::StoreOptions {
        crate::store::StoreOptions {
            min_free_bytes: self.min_free_mb.saturating_mul(1 << 20),
            checkpoint_rows: self.index_checkpoint_reports,
            ..crate::store::StoreOptions::default()
        }
    }

    /// The server options these flags set (TLS files and the token file are read here).
    /// Destructured so that a new flag must be wired.
    pub fn options(&self) -> std::io::Result<crate::server::ServerOptions> {
        let ServeArgs {
            listen: _,
            data_dir: _,
            min_free_mb: _,
            index_checkpoint_reports: _,
            metrics_listen: _,
            read: read_args,
            auth_token,
            auth_tokens,
            tls_cert,
            tls_key,
            max_message_bytes,
            max_document_bytes,
            memory_bytes,
            memory_wait_secs,
            stream_in_flight,
            max_concurrent_streams,
            keepalive_secs,
            keepalive_timeout_secs,
            stream_idle_secs,
            stream_max_age_secs,
            max_batch,
            shutdown_grace_secs,
        } = self;
        let secs = |s: &u64| std::time::Duration::from_secs((*s).max(1));
        let backed_up = crate::store::backup::MAX_BACKED_UP_DOCUMENT;
        if *max_document_bytes > backed_up {
            return Err(std::io::Error::other(format!(
                "--max-document-bytes {max_document_bytes} is over {backed_up}, the largest \
                 document a backup can carry"
            )));
        }
        let tls = match (tls_cert, tls_key) {
            (Some(cert), Some(key)) => Some((read(cert)?, read(key)?)),
            _ => None,
        };
        let auth_tokens = auth_tokens
            .as_deref()
            .map(crate::service::auth::TokenFile::load)
            .transpose()
            .map_err(std::io::Error::other)?;
        Ok(crate::server::ServerOptions {
            limits: crate::ingest::Limits {
                max_document_bytes: *max_document_bytes,
                memory_bytes: *memory_bytes,
                memory_wait: std::time::Duration::from_secs(*memory_wait_secs),
                max_batch: (*max_batch).max(1),
            },
            max_message_bytes: *max_message_bytes,
            stream_in_flight: *stream_in_flight,
            max_concurrent_streams: *max_concurrent_streams,
            keepalive_interval: secs(keepalive_secs),
            keepalive_timeout: secs(keepalive_timeout_secs),
            stream_limits: crate::service::ingest::StreamLimits {
                idle: secs(stream_idle_secs),
                max_age: secs(stream_max_age_secs),
            },
            shutdown_grace: std::time::Duration::from_secs(*shutdown_grace_secs),
            auth_token: auth_token.clone(),
            auth_tokens,
            tls,
            reader: reader(read_args).map_err(std::io::Error::other)?,
        })
    }
}

/// How documents are read, for the commands that read them (serve, parse, reindex).
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Read scanned PDF pages and images by OCR (tesseract chi_sim; needs a build with
    /// `--features ocr` and the tesseract-ocr, tesseract-ocr-chi-sim, poppler-utils packages).
    #[arg(long, env = "NIANBAO_OCR")]
    pub ocr: bool,
    /// Address space one document's extraction may take, in bytes, plus three times the
    /// document's size (and 768 MiB more with --ocr, for page images). Every document but
    /// text or HTML under 4 MiB is extracted in a worker process under this limit; one that
    /// breaks it is rejected alone.
    #[arg(long, env = "NIANBAO_EXTRACT_MEMORY_BYTES", default_value_t = crate::extract::isolate::DEFAULT_MEMORY_BYTES)]
    pub extract_memory_bytes: u64,
    /// CPU seconds one document's extraction may take, plus one per MiB of the document
    /// (wall clock: twice that, plus five seconds).
    #[arg(long, env = "NIANBAO_EXTRACT_CPU_SECS", default_value_t = crate::extract::isolate::DEFAULT_CPU_SECS)]
    pub extract_cpu_secs: u64,
    /// Extract every document in this process, without worker processes or their limits
    /// (faster for trusted files; a hostile file can then take unbounded memory and time).
    #[arg(long, env = "NIANBAO_EXTRACT_IN_PROCESS")]
    pub extract_in_process: bool,
}

/// The document reader the flags ask for: with OCR (tesseract, when this build has it and
/// the machine has the programs) or without; extraction in worker processes under the
/// budget, or in this process.
/// The scoring profile `--profile` names: a shipped one by name, else a JSON file.
pub fn profile(arg: &str) -> Result<crate::compliance::Profile, String> {
    if let Some(p) = crate::compliance::profile::builtin(arg) {
        return Ok(p);
    }
    let json = std::fs::read_to_string(arg).map_err(|e| {
        let names: Vec<&str> = crate::compliance::profile::builtin_names().collect();
        format!(
            "--profile {arg}: not a shipped profile ({}) and not a readable file: {e}",
            names.join(", ")
        )
    })?;
    crate::compliance::Profile::from_json(&json).map_err(|e| format!("--profile {arg}: {e}"))
}

pub fn reader(args: &ReadArgs) -> Result<crate::Reader, String> {
    let isolate = if args.extract_in_process {
        None
    } else {
        let budget = crate::extract::isolate::Budget {
            memory_bytes: args.extract_memory_bytes,
            cpu_secs: args.extract_cpu_secs,
        };
        let workers = crate::extract::isolate::Workers::new(budget, args.ocr)
            .map_err(|e| format!("cannot find this executable to start extraction workers: {e}"))?;
        Some(std::sync::Arc::new(workers) as std::sync::Arc<dyn crate::extract::Isolate>)
    };
    Ok(crate::Reader {
        isolate,
        ..engine(args.ocr)?
    })
}

/// The reader with the OCR engine (or none), extracting in this process: what a worker
/// runs.
pub fn engine(ocr: bool) -> Result<crate::Reader, String> {
    if !ocr {
        return Ok(crate::Reader::default());
    }
    #[cfg(feature = "ocr")]
    {
        let engine = crate::extract::ocr::Tesseract::find().map_err(|e| format!("--ocr: {e}"))?;
        Ok(crate::Reader {
            ocr: Some(std::sync::Arc::new(engine)),
            ..crate::Reader::default()
        })
    }
    #[cfg(not(feature = "ocr"))]
    Err("--ocr: this nianbao was built without OCR; build it with `cargo build --release --features ocr`".into())
}

/// `nianbao extract-worker`: one document on stdin, its extraction on stdout (started by
/// the server for each document it reads in isolation; not for people).
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The client's content type, as sent (`Hints::content_type`).
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    pub content_type: String,
    #[arg(long)]
    pub ocr: bool,
    /// The extraction's limits, as JSON (`extract::Limits`).
    #[arg(long)]
    pub limits: String,
}

fn read(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Report files: text (UTF-8, GB18030, UTF-16), HTML, saved web pages (.mht), PDF, OFD,
    /// Word (.docx, .doc), WPS (.wps), RTF, spreadsheets (.xlsx, .xls, .et); images and
    /// scanned PDFs with OCR on.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print one flat JSON object per file: agency, year, template, facts by path, findings
    /// (exit 0 whenever every file could be opened: the JSON says what a non-report is).
    #[arg(long)]
    pub facts: bool,
    /// Print each report whole as proto3 JSON (what GetReport answers), instead of one line.
    #[arg(long, conflicts_with_all = ["facts", "text"])]
    pub json: bool,
    /// The agency, for documents that do not print it (the text wins when it does).
    #[arg(long)]
    pub agency: Option<String>,
    /// The report year, for documents that do not print it (the text wins when it does).
    #[arg(long)]
    pub year: Option<i32>,
    /// The encoding (a WHATWG label such as gbk), when detection should not decide.
    #[arg(long)]
    pub encoding: Option<String>,
    /// Read the files as HTML (default: detected).
    #[arg(long)]
    pub html: bool,
    /// Print the text read from each file (what the table reader sees) instead of JSON.
    #[arg(long, conflicts_with = "facts")]
    pub text: bool,
    /// Print each report's compliance indicators and score (with --json: the assessment as
    /// JSON).
    #[arg(long, conflicts_with_all = ["facts", "text"])]
    pub score: bool,
    /// The scoring profile: a shipped one by name (default, quanzhou-licheng, suqian) or a
    /// JSON file.
    #[arg(long, requires = "score", default_value = crate::compliance::profile::DEFAULT_PROFILE)]
    pub profile: String,
    /// The same body's report of the year before, for the cross-year indicators (carry-over,
    /// copied text).
    #[arg(long, requires = "score")]
    pub previous: Option<PathBuf>,
    #[command(flatten)]
    pub read: ReadArgs,
}

impl ParseArgs {
    /// The hints `parse` gives the reader for `file`: its path as the source, the flags, and
    /// as its content type the kind its extension names (`--html`: HTML) with the
    /// `--encoding` as a charset. A text file's extension says nothing the bytes do not:
    /// they tell plain text from a page, as for a file sent without a content type.
    pub fn hints(&self, file: &std::path::Path) -> crate::Hints {
        use crate::model::kind::Kind;
        let kind = if self.html {
            Some(Kind::Html)
        } else {
            file.extension()
                .and_then(|e| e.to_str())
                .and_then(Kind::from_extension)
                .filter(|k| *k != Kind::Text)
        };
        let content_type = match (kind, &self.encoding) {
            (Some(kind), Some(label)) => format!("{}; charset={label}", kind.mime()),
            (Some(kind), None) => kind.mime().to_owned(),
            (None, Some(label)) => label.clone(),
            (None, None) => String::new(),
        };
        crate::Hints {
            source: file.display().to_string(),
            agency: self.agency.clone(),
            year: self.year,
            content_type,
            ..Default::default()
        }
    }
}
