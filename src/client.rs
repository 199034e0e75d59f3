//! The bulk uploader: streams files (directories recursively) to a server over the
//! bidirectional Ingest, with a bounded number of documents in flight, retries with backoff on
//! UNAVAILABLE and RESOURCE_EXHAUSTED, and a journal of acknowledged documents so that a re-run
//! after an interruption sends only what was not acknowledged.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, Semaphore};
use tonic::metadata::MetadataValue;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Request, Status};

use crate::model::id::report_id;
use crate::pb::ingest_service_client::IngestServiceClient;
use crate::pb::{Document, IngestResult, Outcome};

/// The defaults of `nianbao upload`'s flags.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:50051";
pub const DEFAULT_JOURNAL: &str = ".nianbao-upload.journal";
pub const DEFAULT_IN_FLIGHT: usize = 32;
pub const DEFAULT_MAX_RETRIES: u32 = 8;

/// What `nianbao upload` was asked to do.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// `http://host:port` or `https://host:port`.
    pub endpoint: String,
    pub paths: Vec<PathBuf>,
    /// Answers of earlier runs, one `id<TAB>path[<TAB>rejected: reason]` per line; appended as
    /// answers arrive, so a re-run sends only what was never answered.
    pub journal: PathBuf,
    /// Documents sent and not yet acknowledged, at most.
    pub in_flight: usize,
    pub token: Option<String>,
    /// PEM CA certificate for https endpoints with a private CA.
    pub ca_cert: Option<PathBuf>,
    /// Attempts after the first on UNAVAILABLE or RESOURCE_EXHAUSTED.
    pub max_retries: u32,
    pub progress: bool,
}

fn may_be_report(path: &Path) -> bool {
    match path.extension().and_then(|e| e.to_str()) {
        None => !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.')),
        Some(ext) => crate::extract::Kind::from_extension(ext).is_some(),
    }
}

/// The content type the uploader states for `path`, from its extension ("" if unknown: the
/// server then goes by the bytes alone).
fn content_type(path: &Path) -> &'static str {
    path.extension()
        .and_then(|e| e.to_str())
        .and_then(crate::extract::Kind::from_extension)
        .map_or("", crate::extract::Kind::mime)
}

/// What an upload did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Summary {
    pub files: u64,
    pub bytes: u64,
    pub stored: u64,
    pub duplicate: u64,
    pub revision: u64,
    /// Rejected documents by reason.
    pub rejected: BTreeMap<String, u64>,
    /// Skipped because an earlier run's journal holds their acknowledgement (rejections
    /// answered earlier count under `rejected`).
    pub already_acknowledged: u64,
    /// Sent but never acknowledged (the server kept failing), or unreadable.
    pub unacknowledged: Vec<(PathBuf, String)>,
}

impl Summary {
    /// True when every file was acknowledged and none rejected.
    pub fn ok(&self) -> bool {
        self.rejected.is_empty() && self.unacknowledged.is_empty()
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "files: {} ({:.1} MB)",
            self.files,
            self.bytes as f64 / 1e6
        )?;
        writeln!(f, "stored: {}", self.stored)?;
        writeln!(f, "duplicate: {}", self.duplicate)?;
        writeln!(f, "revision: {}", self.revision)?;
        writeln!(
            f,
            "already acknowledged (journal): {}",
            self.already_acknowledged
        )?;
        let rejected: u64 = self.rejected.values().sum();
        writeln!(f, "rejected: {rejected}")?;
        for (reason, n) in &self.rejected {
            writeln!(f, "  {n} × {reason}")?;
        }
        writeln!(f, "not acknowledged: {}", self.unacknowledged.len())?;
        for (path, why) in self.unacknowledged.iter().take(20) {
            writeln!(f, "  {}: {why}", path.display())?;
        }
        Ok(())
    }
}

/// Why an upload stopped early.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The endpoint could not be parsed or its TLS settings read.
    #[error("endpoint {endpoint}: {why}")]
    Endpoint { endpoint: String, why: String },
    /// The server refused in a way retrying cannot fix (UNAUTHENTICATED, INVALID_ARGUMENT, ...).
    #[error("server refused the upload: {0}")]
    Refused(Status),
    /// The journal could not be read or written.
    #[error("journal {path}: {error}")]
    Journal {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// Every file named in `paths`, and under the directories among them (walked recursively,
/// sorted per directory) every file that may be a report: a known document extension
/// (.txt .html .htm .pdf .docx .doc .xls .xlsx, images) or none at all (scrapers often save
/// pages without one). Other files in a folder (.json, .csv, .DS_Store) are not sent.
pub fn collect_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = paths.iter().rev().cloned().collect();
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = match std::fs::read_dir(&p) {
                Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                Err(_) => continue,
            };
            entries.retain(|e| e.is_dir() || may_be_report(e));
            entries.sort();
            stack.extend(entries.into_iter().rev());
        } else if p.is_file() {
            out.push(p);
        }
    }
    out
}

/// The journal: id → `None` when stored, `Some(reason)` when rejected.
fn read_journal(path: &Path) -> Result<HashMap<String, Option<String>>, UploadError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text
            .lines()
            .filter_map(|l| {
                let mut parts = l.splitn(3, '\t');
                let id = parts.next().filter(|id| id.len() == 64)?;
                let _path = parts.next();
                let rejected = parts
                    .next()
                    .and_then(|r| r.strip_prefix("rejected: "))
                    .map(str::to_owned);
                Some((id.to_owned(), rejected))
            })
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashMap::new()),
        Err(error) => Err(UploadError::Journal {
            path: path.to_owned(),
            error,
        }),
    }
}

async fn connect(options: &UploadOptions) -> Result<Channel, UploadError> {
    let bad = |why: String| UploadError::Endpoint {
        endpoint: options.endpoint.clone(),
        why,
    };
    let mut endpoint =
        Endpoint::from_shared(options.endpoint.clone()).map_err(|e| bad(e.to_string()))?;
    if options.endpoint.starts_with("https://") {
        let mut tls = ClientTlsConfig::new().with_native_roots();
        if let Some(ca) = &options.ca_cert {
            let pem = std::fs::read(ca)
                .map_err(|e| bad(format!("CA certificate {}: {e}", ca.display())))?;
            tls = tls.ca_certificate(Certificate::from_pem(pem));
        }
        endpoint = endpoint.tls_config(tls).map_err(|e| bad(e.to_string()))?;
    }
    Ok(endpoint.tcp_nodelay(true).connect_lazy())
}

/// A file waiting to be acknowledged.
struct Pending {
    path: PathBuf,
    id: String,
    len: u64,
}

/// Uploads everything under `options.paths`; see the module doc.
pub async fn upload(options: UploadOptions) -> Result<Summary, UploadError> {
    // Never upload the journal itself, when it lies inside an uploaded directory.
    let journal_path = std::fs::canonicalize(&options.journal).ok();
    let files: Vec<PathBuf> = collect_files(&options.paths)
        .into_iter()
        .filter(|f| journal_path.is_none() || std::fs::canonicalize(f).ok() != journal_path)
        .collect();
    let journaled = read_journal(&options.journal)?;
    let mut journal = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&options.journal)
        .map_err(|error| UploadError::Journal {
            path: options.journal.clone(),
            error,
        })?;
    let mut summary = Summary {
        files: files.len() as u64,
        ..Default::default()
    };
    let mut pending: Vec<Pending> = Vec::new();
    for path in files {
        match std::fs::read(&path) {
            Ok(bytes) => {
                summary.bytes += bytes.len() as u64;
                let id = report_id(&bytes);
                match journaled.get(&id) {
                    Some(None) => summary.already_acknowledged += 1,
                    Some(Some(reason)) => {
                        *summary
                            .rejected
                            .entry(format!("{reason} (answered in an earlier run)"))
                            .or_default() += 1
                    }
                    None => {
                        pending.push(Pending {
                            path,
                            id,
                            len: bytes.len() as u64,
                        });
                    }
                }
            }
            Err(e) => summary
                .unacknowledged
                .push((path, format!("unreadable: {e}"))),
        }
    }
    let bar = progress_bar(options.progress, pending.len() as u64);
    let channel = connect(&options).await?;
    let started = Instant::now();
    let mut sent_bytes = 0u64;
    let mut attempt = 0u32;
    let mut backoff = Duration::from_millis(250);
    while !pending.is_empty() {
        let outcome = stream_once(&channel, &options, &pending, |result, p| {
            record(&mut summary, result);
            let _ = if result.outcome == Outcome::Rejected as i32 {
                writeln!(
                    journal,
                    "{}\t{}\trejected: {}",
                    p.id,
                    p.path.display(),
                    result.reason.replace(['\t', '\n'], " ")
                )
            } else {
                writeln!(journal, "{}\t{}", p.id, p.path.display())
            };
            sent_bytes += p.len;
            bar.inc(1);
            let secs = started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!("{:.1} MB/s", sent_bytes as f64 / 1e6 / secs));
        })
        .await;
        let _ = journal.flush();
        let (done, error) = outcome;
        pending.retain(|p| !done.contains(&p.id));
        match error {
            None => break,
            Some(status)
                if matches!(
                    status.code(),
                    Code::Unavailable | Code::ResourceExhausted | Code::Unknown | Code::Cancelled
                ) =>
            {
                attempt += 1;
                if attempt > options.max_retries {
                    for p in pending.drain(..) {
                        summary
                            .unacknowledged
                            .push((p.path, format!("{}: {}", status.code(), status.message())));
                    }
                    break;
                }
                tracing::warn!(code = ?status.code(), message = status.message(), documents = pending.len(), ?backoff, "retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
            Some(status) => {
                bar.finish_and_clear();
                return Err(UploadError::Refused(status));
            }
        }
    }
    bar.finish_and_clear();
    Ok(summary)
}

fn record(summary: &mut Summary, result: &IngestResult) {
    match Outcome::try_from(result.outcome).unwrap_or(Outcome::Unspecified) {
        Outcome::Stored => summary.stored += 1,
        Outcome::Duplicate => summary.duplicate += 1,
        Outcome::Revision => summary.revision += 1,
        Outcome::Rejected | Outcome::Unspecified => {
            *summary.rejected.entry(result.reason.clone()).or_default() += 1
        }
    }
}

/// One Ingest stream over the pending files, `in_flight` at a time. Returns the ids answered
/// and the status that ended the stream early, if one did.
async fn stream_once(
    channel: &Channel,
    options: &UploadOptions,
    pending: &[Pending],
    mut on_answer: impl FnMut(&IngestResult, &Pending),
) -> (HashSet<String>, Option<Status>) {
    let mut done = HashSet::new();
    let by_tag: HashMap<String, usize> = (0..pending.len()).map(|i| (i.to_string(), i)).collect();
    let window = Arc::new(Semaphore::new(options.in_flight.max(1)));
    let (tx, rx) = mpsc::channel::<Document>(options.in_flight.max(1));
    let paths: Vec<PathBuf> = pending.iter().map(|p| p.path.clone()).collect();
    let producer_window = window.clone();
    let producer = tokio::spawn(async move {
        for (i, path) in paths.into_iter().enumerate() {
            let Ok(permit) = producer_window.clone().acquire_owned().await else {
                break;
            };
            permit.forget();
            let Ok(content) = tokio::fs::read(&path).await else {
                continue;
            };
            let doc = Document {
                content,
                content_type: content_type(&path).to_string(),
                source: path.display().to_string(),
                tag: i.to_string(),
                ..Default::default()
            };
            if tx.send(doc).await.is_err() {
                break;
            }
        }
    });
    let mut request = Request::new(tokio_stream::wrappers::ReceiverStream::new(rx));
    if let Some(token) = &options.token {
        if let Ok(value) = MetadataValue::try_from(format!("Bearer {token}")) {
            request.metadata_mut().insert("authorization", value);
        }
    }
    let mut client = IngestServiceClient::new(channel.clone());
    let mut stream = match client.ingest(request).await {
        Ok(r) => r.into_inner(),
        Err(status) => {
            producer.abort();
            return (done, Some(status));
        }
    };
    let mut error = None;
    loop {
        match stream.message().await {
            Ok(Some(result)) => {
                window.add_permits(1);
                if let Some(&i) = by_tag.get(&result.tag) {
                    on_answer(&result, &pending[i]);
                    done.insert(pending[i].id.clone());
                }
                if done.len() == pending.len() {
                    break;
                }
            }
            Ok(None) => {
                if done.len() < pending.len() {
                    error = Some(Status::unavailable(
                        "the server closed the stream before answering every document",
                    ));
                }
                break;
            }
            Err(status) => {
                error = Some(status);
                break;
            }
        }
    }
    producer.abort();
    (done, error)
}

fn progress_bar(show: bool, len: u64) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    let style = indicatif::ProgressStyle::with_template(
        "{bar:40} {pos}/{len} documents  {per_sec}  {msg}  eta {eta}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_files_recursively_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("b/c")).unwrap();
        for f in [
            "a.txt",
            "b/x.html",
            "b/c/y.txt",
            "b/r.PDF",
            "b/r.docx",
            "b/s.jpg",
            "b/12345",
            "b/notes.json",
            "b/.DS_Store",
        ] {
            std::fs::write(dir.path().join(f), f).unwrap();
        }
        let mut roots = vec![dir.path().to_owned()];
        roots.push(dir.path().join("b/notes.json")); // named on its own: sent
        let files = collect_files(&roots);
        let names: Vec<String> = files
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "a.txt",
                "b/12345",
                "b/c/y.txt",
                "b/r.PDF",
                "b/r.docx",
                "b/s.jpg",
                "b/x.html",
                "b/notes.json"
            ]
        );
        assert_eq!(content_type(Path::new("b/r.PDF")), "application/pdf");
        assert_eq!(content_type(Path::new("b/12345")), "");
    }

    #[test]
    fn summary_is_ok_only_without_rejections_or_gaps() {
        let mut s = Summary {
            stored: 3,
            ..Default::default()
        };
        assert!(s.ok());
        s.rejected.insert("empty document".into(), 1);
        assert!(!s.ok());
        assert!(s.to_string().contains("1 × empty document"));
    }
}
