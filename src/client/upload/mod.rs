//! The bulk uploader: streams files (directories recursively) to a server over the
//! bidirectional Ingest, with a bounded number of documents in flight, retries with backoff on
//! UNAVAILABLE and RESOURCE_EXHAUSTED, and a journal of acknowledged documents so that a re-run
//! after an interruption sends only what was not acknowledged.
//!
//! Files are read and hashed before anything is sent, and each distinct content is sent once:
//! scrapers save the same page under several names, and the server would only answer the
//! later copies DUPLICATE. A file holding the same bytes as an earlier file of the upload (a
//! repeat) is answered from its first copy's answer — a duplicate of that file, or rejected
//! for the same reason — and journaled under its own path. A stream is complete when every
//! document sent on it is answered; answers are matched by the tag the server echoes, so
//! nothing is counted twice, and a document answered before a stream broke is not resent.
//!
//! Before sending, the uploader asks the server for its size limits (the Limits RPC; an
//! older server without it is taken to have the default 16 MiB message limit and no parts).
//! A file larger than 1 MiB goes in parts (`Document.size`), so no file is limited by the
//! message size. A file larger than the server reads (or, to a server that takes no parts,
//! one whose message would end the whole stream with OUT_OF_RANGE) is rejected here, alone,
//! with its size and the limit, and journaled as `not sent`, so that a re-run checks it again
//! against the server's limits of that day.
//!
//! Which files are sent ([`files`]): the files named, and under the folders named the files
//! that may be reports and pass `--include` / `--exclude`, each folder read once.
//!
//! A sidecar manifest ([`manifest`]: `--manifest FILE`, else a `nianbao-manifest.csv` or
//! `.jsonl` in an uploaded folder) gives files their page URL and publication date; it is read
//! and checked before anything is sent.
//!
//! Where the answers go ([`journal`]): the journal a re-run reads back, the progress bar, and
//! the [`Summary`] the command prints ([`summary`]).

pub mod files;
mod journal;
pub mod manifest;
mod summary;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};
use tonic::{Code, Status};

use super::channel::{Authorized, ConnectError, Remote};
use crate::model::id::report_id;
use crate::pb::ingest_service_client::IngestServiceClient;
use crate::pb::{Document, IngestResult, LimitsRequest, LimitsResponse};
use files::{FilesError, Found, Select};
use journal::{read_journal, Answers, NOT_SENT};
use manifest::{Entry, Manifest, ManifestError, MANIFEST_NAMES};
pub use summary::{Repeat, Summary};

/// The defaults of `nianbao upload`'s flags.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:50051";
pub const DEFAULT_JOURNAL: &str = ".nianbao-upload.journal";

/// The journal of uploads to `server` when none is named: [`DEFAULT_JOURNAL`] with the
/// server's host and port in its name (`.nianbao-upload.127.0.0.1_50051.journal`), so that
/// what one server acknowledged never keeps a file from another.
pub fn default_journal(server: &str) -> PathBuf {
    let server = server.trim();
    let address = server
        .split_once("://")
        .map_or(server, |(_, rest)| rest)
        .trim_end_matches('/');
    let name: String = address
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = DEFAULT_JOURNAL.trim_end_matches(".journal");
    PathBuf::from(format!("{stem}.{name}.journal"))
}
pub const DEFAULT_IN_FLIGHT: usize = 32;
pub const DEFAULT_MAX_RETRIES: u32 = 8;

/// What `nianbao upload` was asked to do.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// The server to upload to.
    pub remote: Remote,
    pub paths: Vec<PathBuf>,
    /// Answers of earlier runs, one `id<TAB>path[<TAB>rejected: reason]` per line; appended as
    /// answers arrive, so a re-run sends only what was never answered.
    pub journal: PathBuf,
    /// Documents sent and not yet acknowledged, at most.
    pub in_flight: usize,
    /// Attempts after the first on UNAVAILABLE or RESOURCE_EXHAUSTED.
    pub max_retries: u32,
    pub progress: bool,
    /// The sidecar manifest for every file; `None`: each uploaded folder's
    /// `nianbao-manifest.csv` / `.jsonl`, where it has one.
    pub manifest: Option<PathBuf>,
    /// Globs a file found under an uploaded folder must match (one of), relative to it.
    pub include: Vec<String>,
    /// Globs a file found under an uploaded folder must not match, relative to it.
    pub exclude: Vec<String>,
}

/// Why an upload stopped early.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The endpoint could not be parsed, its TLS settings read or the token sent.
    #[error("endpoint {}: {}", .0.endpoint, .0.why)]
    Endpoint(ConnectError),
    /// The server refused in a way retrying cannot fix (UNAUTHENTICATED, INVALID_ARGUMENT, ...).
    #[error("server refused the upload: {0}")]
    Refused(Status),
    /// The server did not answer before the retries ran out (nothing was sent).
    #[error("server {endpoint} unreachable after {attempts} attempts: {code:?}: {message}")]
    Unreachable {
        endpoint: String,
        attempts: u32,
        code: Code,
        message: String,
    },
    /// A path to upload does not exist, or a glob is malformed (nothing was sent).
    #[error(transparent)]
    Files(#[from] FilesError),
    /// The journal could not be read or written.
    #[error("journal {path}: {error}")]
    Journal {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A manifest could not be read or is malformed (nothing was sent).
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

/// The Ingest client, its every request carrying the token.
type Client = IngestServiceClient<Authorized>;

/// The client of the server (see [`super::channel`]); nothing is sent yet.
fn connect(options: &UploadOptions) -> Result<Client, UploadError> {
    let (channel, bearer) = options.remote.connect().map_err(UploadError::Endpoint)?;
    Ok(IngestServiceClient::with_interceptor(channel, bearer))
}

/// A distinct document waiting to be acknowledged: the first file holding its bytes, and the
/// later files of this upload holding the same bytes (answered with it, never sent).
struct Pending {
    path: PathBuf,
    id: String,
    len: u64,
    repeats: Vec<PathBuf>,
    /// What the manifest says of `path` (URL, publication date).
    entry: Entry,
    /// The content type it is sent with ([`files::judge`]).
    content_type: &'static str,
}

impl Pending {
    /// The files this document's answer answers.
    fn files(&self) -> u64 {
        1 + self.repeats.len() as u64
    }
}

/// Uploads everything under `options.paths`; see the module doc.
pub async fn upload(options: UploadOptions) -> Result<Summary, UploadError> {
    let select = Select::new(&options.include, &options.exclude)?;
    let manifest = read_manifests(&options)?;
    let files = files_to_send(&options, &select)?;
    let journaled = read_journal(&options.journal)?;
    let client = connect(&options)?;
    let journal = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&options.journal)
        .map_err(|error| UploadError::Journal {
            path: options.journal.clone(),
            error,
        })?;
    let mut summary = Summary {
        files: files.len() as u64,
        journal: options.journal.clone(),
        ..Default::default()
    };
    let pending = plan(files, &journaled, &manifest, &mut summary);
    let bar = progress_bar(options.progress, pending.iter().map(Pending::files).sum());
    let mut answers = Answers::new(summary, journal, bar);
    if pending.is_empty() {
        return Ok(answers.finish());
    }
    let limits = match server_limits(&client, &options).await {
        Ok(limits) => limits,
        Err(e) => {
            answers.finish();
            return Err(e);
        }
    };
    let mut pending = leave_out_too_large(pending, &limits, &journaled, &mut answers);
    let mut attempt = 0u32;
    let mut backoff = FIRST_BACKOFF;
    while !pending.is_empty() {
        let (done, error) = stream_once(&client, &options, &limits, &pending, |result, p| {
            answers.answer(p, result)
        })
        .await;
        answers.flush();
        pending = pending
            .into_iter()
            .enumerate()
            .filter_map(|(i, p)| (!done.contains(&i)).then_some(p))
            .collect();
        match error {
            None => break,
            Some(status) if retryable(status.code()) => {
                attempt += 1;
                if attempt > options.max_retries {
                    let why = format!("{}: {}", status.code(), status.message());
                    for p in pending.drain(..) {
                        answers.unacknowledged(p, &why);
                    }
                    break;
                }
                tracing::warn!(code = ?status.code(), message = status.message(), documents = pending.len(), ?backoff, "retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Some(status) => {
                answers.finish();
                return Err(UploadError::Refused(status));
            }
        }
    }
    Ok(answers.finish())
}

/// The first wait before a retry, doubled on each retry up to [`MAX_BACKOFF`]: a server
/// restarting takes a few seconds, an overloaded one frees memory within its
/// `--memory-wait-secs`.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Codes worth another attempt: the server is down, restarting or overloaded, or the
/// connection broke.
fn retryable(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable | Code::ResourceExhausted | Code::Unknown | Code::Cancelled
    )
}

/// The sizes a server without the Limits RPC (older than it) accepts: tonic's default
/// message limit, which `serve --max-message-bytes` also defaults to. Its document limit is
/// unknown (0): it rejects a larger document alone, so the uploader need not know it.
fn limits_of_an_older_server() -> LimitsResponse {
    LimitsResponse {
        max_message_bytes: crate::ingest::DEFAULT_MAX_MESSAGE_BYTES as u64,
        max_document_bytes: 0,
        accepts_parts: false,
    }
}

/// The server's size limits (Limits RPC), retried like a stream while the server is down;
/// UNIMPLEMENTED (an older server) gives [`limits_of_an_older_server`].
async fn server_limits(
    client: &Client,
    options: &UploadOptions,
) -> Result<LimitsResponse, UploadError> {
    let mut client = client.clone();
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 0u32;
    loop {
        let status = match client.limits(LimitsRequest {}).await {
            Ok(limits) => {
                let limits = limits.into_inner();
                tracing::debug!(?limits, "server limits");
                return Ok(limits);
            }
            Err(status) => status,
        };
        match status.code() {
            Code::Unimplemented => {
                let limits = limits_of_an_older_server();
                tracing::info!(
                    max_message_bytes = limits.max_message_bytes,
                    "the server does not tell its limits (older than the Limits RPC): assuming the default"
                );
                return Ok(limits);
            }
            code if retryable(code) && attempt < options.max_retries => {
                attempt += 1;
                tracing::warn!(code = ?status.code(), message = status.message(), ?backoff, "retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            code if retryable(code) => {
                return Err(UploadError::Unreachable {
                    endpoint: options.remote.endpoint.clone(),
                    attempts: attempt + 1,
                    code,
                    message: status.message().to_owned(),
                })
            }
            _ => return Err(UploadError::Refused(status)),
        }
    }
}

/// Why a document cannot be sent to a server with `limits`, if it cannot: its content is
/// larger than the server reads, or (to a server that takes no parts) its message, the
/// Document as [`stream_once`] sends it, is larger than the server decodes.
fn too_large(doc: &Pending, limits: &LimitsResponse) -> Option<String> {
    let message = message_len(doc);
    if !limits.accepts_parts && message > limits.max_message_bytes {
        return Some(format!(
            "{NOT_SENT}{} bytes as a message, over the server's message limit of {} bytes (serve --max-message-bytes)",
            message, limits.max_message_bytes
        ));
    }
    if limits.max_document_bytes > 0 && doc.len > limits.max_document_bytes {
        return Some(format!(
            "{NOT_SENT}{} bytes, over the server's document limit of {} bytes (serve --max-document-bytes)",
            doc.len, limits.max_document_bytes
        ));
    }
    None
}

/// The encoded size of the Document that carries `doc`, at most: its tag is counted at the
/// widest an index can print.
fn message_len(doc: &Pending) -> u64 {
    use prost::Message;
    let mut shell = document(doc, usize::MAX, Vec::new());
    shell.content = Vec::new();
    let content = prost::encoding::key_len(1) as u64
        + prost::encoding::encoded_len_varint(doc.len) as u64
        + doc.len;
    shell.encoded_len() as u64 + content
}

/// The Document that sends `path`'s `content`, tagged `tag`.
fn document(doc: &Pending, tag: usize, content: Vec<u8>) -> Document {
    Document {
        content,
        content_type: doc.content_type.to_string(),
        source: doc.path.display().to_string(),
        tag: tag.to_string(),
        published: doc.entry.published.clone(),
        url: doc.entry.url.clone(),
        ..Default::default()
    }
}

/// Answers the documents too large for the server as rejected, here, without sending
/// them, and returns the rest. A file rejected so in an earlier run, for the same size and
/// limit, is a rejection of that run; a larger limit lets it be sent.
fn leave_out_too_large<W: Write>(
    pending: Vec<Pending>,
    limits: &LimitsResponse,
    journaled: &HashMap<String, Option<String>>,
    answers: &mut Answers<W>,
) -> Vec<Pending> {
    let mut sendable = Vec::with_capacity(pending.len());
    for doc in pending {
        let Some(reason) = too_large(&doc, limits) else {
            sendable.push(doc);
            continue;
        };
        if journaled.get(&doc.id) == Some(&Some(reason.clone())) {
            answers.earlier(doc, &reason);
        } else {
            tracing::warn!(path = %doc.path.display(), %reason, "not sent");
            answers.not_sent(&doc, reason);
        }
    }
    sendable
}

/// The files under `options.paths`, without the journal and the manifests when they lie
/// inside an uploaded directory.
fn files_to_send(options: &UploadOptions, select: &Select) -> Result<Vec<Found>, FilesError> {
    let skip: Vec<PathBuf> = [Some(&options.journal), options.manifest.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    Ok(files::collect_files(&options.paths, select)?
        .into_iter()
        .filter(|f| !is_manifest(&f.path))
        .filter(|f| {
            skip.is_empty() || !std::fs::canonicalize(&f.path).is_ok_and(|f| skip.contains(&f))
        })
        .collect())
}

fn is_manifest(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| MANIFEST_NAMES.contains(&n))
}

/// The manifest named by `--manifest`, else those in the uploaded folders (recursively), all
/// read and checked.
fn read_manifests(options: &UploadOptions) -> Result<Manifest, UploadError> {
    let mut manifest = Manifest::default();
    if let Some(path) = &options.manifest {
        manifest.read(path)?;
        return Ok(manifest);
    }
    let folders: Vec<PathBuf> = options
        .paths
        .iter()
        .filter(|p| p.is_dir())
        .cloned()
        .collect();
    let mut found: Vec<PathBuf> = files::walk(&folders)?
        .into_iter()
        .map(|f| f.path)
        .filter(|p| is_manifest(p))
        .collect();
    found.sort();
    for path in found {
        manifest.read(&path)?;
    }
    Ok(manifest)
}

/// Reads every file once: counts its bytes, answers from the journal what an earlier run
/// answered, and returns the rest as distinct documents in file order, each file with the
/// same bytes as an earlier one a repeat of that one. A file journaled as too large to
/// send is planned again: the server's limits may have grown.
fn plan(
    files: Vec<Found>,
    journaled: &HashMap<String, Option<String>>,
    manifest: &Manifest,
    summary: &mut Summary,
) -> Vec<Pending> {
    let mut pending: Vec<Pending> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for found in files {
        let path = found.path.clone();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                summary
                    .unacknowledged
                    .push((path, format!("unreadable: {e}")));
                continue;
            }
        };
        let content_type = match files::judge(&found, &bytes) {
            Ok(content_type) => content_type,
            Err(why) => {
                summary.skipped.push((path, why));
                continue;
            }
        };
        summary.bytes += bytes.len() as u64;
        let id = report_id(&bytes);
        let answered = journaled
            .get(&id)
            .filter(|a| !a.as_deref().is_some_and(|r| r.starts_with(NOT_SENT)));
        match answered {
            Some(None) => summary.already_acknowledged += 1,
            Some(Some(reason)) => summary.rejected_earlier(path, reason, 1),
            None => match by_id.get(&id) {
                Some(&first) => pending[first].repeats.push(path),
                None => {
                    by_id.insert(id.clone(), pending.len());
                    let entry = manifest.get(&path).cloned().unwrap_or_default();
                    pending.push(Pending {
                        path,
                        id,
                        len: bytes.len() as u64,
                        repeats: Vec::new(),
                        entry,
                        content_type,
                    });
                }
            },
        }
    }
    pending
}

/// One Ingest stream over the pending documents, `in_flight` at a time, each tagged with its
/// index in `pending`. Calls `on_answer` once per document answered; returns the indices
/// answered and the status that ended the stream early, if one did.
async fn stream_once(
    client: &Client,
    options: &UploadOptions,
    limits: &LimitsResponse,
    pending: &[Pending],
    mut on_answer: impl FnMut(&IngestResult, &Pending),
) -> (HashSet<usize>, Option<Status>) {
    let part = part_bytes(limits);
    let mut done = HashSet::new();
    let window = Arc::new(Semaphore::new(options.in_flight.max(1)));
    let (tx, rx) = mpsc::channel::<Document>(options.in_flight.max(1));
    // Each document with no content yet: the producer reads it when the window lets it.
    let shells: Vec<(PathBuf, Document)> = pending
        .iter()
        .enumerate()
        .map(|(i, p)| (p.path.clone(), document(p, i, Vec::new())))
        .collect();
    let producer_window = window.clone();
    let producer = tokio::spawn(async move {
        for (path, shell) in shells {
            let Ok(permit) = producer_window.clone().acquire_owned().await else {
                break;
            };
            permit.forget();
            let Ok(content) = tokio::fs::read(&path).await else {
                continue;
            };
            for message in in_parts(Document { content, ..shell }, part) {
                if tx.send(message).await.is_err() {
                    return;
                }
            }
        }
    });
    let request = tokio_stream::wrappers::ReceiverStream::new(rx);
    let mut stream = match client.clone().ingest(request).await {
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
                if let Some(i) = tagged(&result.tag, pending.len()) {
                    if done.insert(i) {
                        on_answer(&result, &pending[i]);
                    }
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

/// The size of the parts a document larger than it is sent in, to a server that takes parts
/// (`None`: one message each). Parts of 1 MiB keep every message far below any message limit
/// and let HTTP/2 interleave the stream's other documents.
fn part_bytes(limits: &LimitsResponse) -> Option<usize> {
    const PART_BYTES: u64 = 1 << 20;
    limits
        .accepts_parts
        .then(|| PART_BYTES.min(limits.max_message_bytes / 2).max(1) as usize)
}

/// The messages that send `doc`: itself, or with `part` bytes of parts its first, carrying
/// every other field and the whole size, then the next parts, each only content.
fn in_parts(mut doc: Document, part: Option<usize>) -> impl Iterator<Item = Document> {
    let rest = match part {
        Some(part) if doc.content.len() > part => {
            let rest = doc.content.split_off(part);
            doc.size = (part + rest.len()) as u64;
            rest
        }
        _ => Vec::new(),
    };
    let part = part.unwrap_or(1).max(1);
    let parts = (0..rest.len().div_ceil(part)).map(move |k| Document {
        content: rest[k * part..rest.len().min((k + 1) * part)].to_vec(),
        ..Default::default()
    });
    std::iter::once(doc).chain(parts)
}

/// The index in `pending` an answer's echoed tag names, if it names one.
fn tagged(tag: &str, pending: usize) -> Option<usize> {
    tag.parse().ok().filter(|&i| i < pending)
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
