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

pub mod files;
pub mod manifest;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, Semaphore};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

use super::channel;
use crate::model::id::report_id;
use crate::pb::ingest_service_client::IngestServiceClient;
use crate::pb::{Document, IngestResult, LimitsRequest, LimitsResponse, Outcome};
use files::{FilesError, Found, Select};
use manifest::{Entry, Manifest, ManifestError, MANIFEST_NAMES};

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
    /// The sidecar manifest for every file; `None`: each uploaded folder's
    /// `nianbao-manifest.csv` / `.jsonl`, where it has one.
    pub manifest: Option<PathBuf>,
    /// Globs a file found under an uploaded folder must match (one of), relative to it.
    pub include: Vec<String>,
    /// Globs a file found under an uploaded folder must not match, relative to it.
    pub exclude: Vec<String>,
}

/// A file holding the same bytes as an earlier file of the same upload: not sent, answered
/// from the answer of the first.
#[derive(Debug, Clone, PartialEq)]
pub struct Repeat {
    pub path: PathBuf,
    /// The first file with these bytes, the one sent.
    pub first: PathBuf,
    /// The first file's rejection, which is the repeat's too; `None` when it was stored, a
    /// duplicate or a revision (the repeat is then a duplicate).
    pub rejected: Option<String>,
}

/// What an upload did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Summary {
    pub files: u64,
    pub bytes: u64,
    pub stored: u64,
    /// Documents the server held already, and repeats of a file answered in this upload.
    pub duplicate: u64,
    pub revision: u64,
    /// Other renditions of a report stored already (its PDF, a re-scrape).
    pub rendition: u64,
    /// Rejected documents by reason (by the server, or here when too large to send).
    pub rejected: BTreeMap<String, u64>,
    /// Of `rejected`, the files rejected in an earlier run (answered from the journal, or
    /// still too large for the same limit): they do not fail the upload.
    pub rejected_earlier: u64,
    /// Each rejected file that is not a repeat, with its reason (its key in `rejected`), in
    /// the order answered.
    pub rejected_files: Vec<(PathBuf, String)>,
    /// Skipped because an earlier run's journal holds their acknowledgement (rejections
    /// answered earlier count under `rejected`).
    pub already_acknowledged: u64,
    /// Sent but never acknowledged (the server kept failing), or unreadable.
    pub unacknowledged: Vec<(PathBuf, String)>,
    /// Files found in a folder that are no document nianbao reads (by their bytes), with
    /// why: not sent, not journaled, and no failure of the upload.
    pub skipped: Vec<(PathBuf, String)>,
    /// Repeats answered in this upload, in the order answered (each also counted under
    /// `duplicate` or `rejected`).
    pub repeats: Vec<Repeat>,
    /// The journal, named where the summary lists rejections in part.
    pub journal: PathBuf,
}

impl Summary {
    /// True when every file was acknowledged in this run or an earlier one, and nothing was
    /// rejected in this run (a rejection answered in an earlier run is not news).
    pub fn ok(&self) -> bool {
        self.rejected.values().sum::<u64>() <= self.rejected_earlier
            && self.unacknowledged.is_empty()
    }

    /// Records `path`'s rejection, found in the journal of an earlier run: `files` files (it
    /// and its repeats) under `reason`.
    fn rejected_earlier(&mut self, path: PathBuf, reason: &str, files: u64) {
        let reason = format!("{reason} (answered in an earlier run)");
        *self.rejected.entry(reason.clone()).or_default() += files;
        self.rejected_earlier += files;
        self.rejected_files.push((path, reason));
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
        self.list_repeats(f, "  ", None)?;
        writeln!(f, "revision: {}", self.revision)?;
        writeln!(f, "rendition: {}", self.rendition)?;
        writeln!(
            f,
            "already acknowledged (journal): {}",
            self.already_acknowledged
        )?;
        let rejected: u64 = self.rejected.values().sum();
        writeln!(f, "rejected: {rejected}")?;
        let mut budget = REJECTED_LISTED;
        for (reason, n) in &self.rejected {
            writeln!(f, "  {n} × {reason}")?;
            let files = self.rejected_files.iter().filter(|(_, r)| r == reason);
            for (path, _) in files.take(budget) {
                writeln!(f, "    {}", path.display())?;
                budget -= 1;
            }
            let repeats = self
                .repeats
                .iter()
                .filter(|r| r.rejected.as_ref() == Some(reason));
            for r in repeats.take(budget) {
                let (path, first) = (r.path.display(), r.first.display());
                writeln!(f, "    {path}: duplicate of {first}")?;
                budget -= 1;
            }
        }
        let listed = (REJECTED_LISTED - budget) as u64;
        if rejected > listed {
            writeln!(
                f,
                "  … and {} more rejected files: each with its reason in the journal {}",
                rejected - listed,
                self.journal.display()
            )?;
        }
        writeln!(f, "skipped (not a document): {}", self.skipped.len())?;
        for (path, why) in self.skipped.iter().take(REJECTED_LISTED) {
            writeln!(f, "  {}: {why}", path.display())?;
        }
        if let Some(more) = self.skipped.len().checked_sub(REJECTED_LISTED) {
            if more > 0 {
                writeln!(f, "  … and {more} more")?;
            }
        }
        writeln!(f, "not acknowledged: {}", self.unacknowledged.len())?;
        for (path, why) in self.unacknowledged.iter().take(REJECTED_LISTED) {
            writeln!(f, "  {}: {why}", path.display())?;
        }
        if let Some(more) = self.unacknowledged.len().checked_sub(REJECTED_LISTED) {
            if more > 0 {
                writeln!(f, "  … and {more} more; a re-run sends them again")?;
            }
        }
        Ok(())
    }
}

/// Rejected files named in the summary, at most (the rest are in the journal).
const REJECTED_LISTED: usize = 20;

/// Repeats listed under one count of the summary, at most this many (a mirror of a whole
/// site can repeat thousands of files).
const REPEATS_LISTED: usize = 20;

impl Summary {
    /// Lists the repeats answered as `rejected` (`None`: the duplicates), one per line.
    fn list_repeats(
        &self,
        f: &mut std::fmt::Formatter<'_>,
        indent: &str,
        rejected: Option<&String>,
    ) -> std::fmt::Result {
        let mut repeats = self
            .repeats
            .iter()
            .filter(|r| r.rejected.as_ref() == rejected);
        for r in repeats.by_ref().take(REPEATS_LISTED) {
            let (path, first) = (r.path.display(), r.first.display());
            writeln!(f, "{indent}{path}: duplicate of {first}")?;
        }
        match repeats.count() {
            0 => Ok(()),
            more => writeln!(
                f,
                "{indent}… and {more} more duplicates of files of this upload"
            ),
        }
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

/// The start of the reason journaled for a file too large to send: a re-run checks such a
/// file again against the server's limits instead of taking the journal's word.
const NOT_SENT: &str = "not sent: ";

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

/// The channel to the server, after checking that the token can be sent.
fn connect(options: &UploadOptions) -> Result<Channel, UploadError> {
    let bad = |why: String| UploadError::Endpoint {
        endpoint: options.endpoint.clone(),
        why,
    };
    if let Some(token) = &options.token {
        channel::bearer_value(token).map_err(bad)?;
    }
    channel::connect(&options.endpoint, options.ca_cert.as_deref()).map_err(bad)
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
    let channel = connect(&options)?;
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
    let limits = match server_limits(&channel, &options).await {
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
        let (done, error) = stream_once(&channel, &options, &limits, &pending, |result, p| {
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
    channel: &Channel,
    options: &UploadOptions,
) -> Result<LimitsResponse, UploadError> {
    let mut client = IngestServiceClient::new(channel.clone());
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 0u32;
    loop {
        let mut request = Request::new(LimitsRequest {});
        if let Some(token) = &options.token {
            if let Ok(value) = channel::bearer_value(token) {
                request.metadata_mut().insert("authorization", value);
            }
        }
        let status = match client.limits(request).await {
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
                    endpoint: options.endpoint.clone(),
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

/// Where answers go: the summary, a journal line per file, the progress bar.
struct Answers<W: Write> {
    summary: Summary,
    journal: W,
    bar: indicatif::ProgressBar,
    started: Instant,
    sent_bytes: u64,
}

impl<W: Write> Answers<W> {
    fn new(summary: Summary, journal: W, bar: indicatif::ProgressBar) -> Answers<W> {
        Answers {
            summary,
            journal,
            bar,
            started: Instant::now(),
            sent_bytes: 0,
        }
    }

    /// The server's answer for `doc`: its first file's, and its repeats'.
    fn answer(&mut self, doc: &Pending, result: &IngestResult) {
        record(&mut self.summary, result);
        if let Some(reason) = rejection(result) {
            let file = (doc.path.clone(), reason.to_owned());
            self.summary.rejected_files.push(file);
        }
        self.journal_line(&doc.id, &doc.path, result);
        for path in &doc.repeats {
            let rejected = rejection(result).map(str::to_owned);
            match &rejected {
                Some(reason) => *self.summary.rejected.entry(reason.clone()).or_default() += 1,
                None => self.summary.duplicate += 1,
            }
            self.summary.repeats.push(Repeat {
                path: path.clone(),
                first: doc.path.clone(),
                rejected,
            });
            self.journal_line(&doc.id, path, result);
        }
        self.sent_bytes += doc.len;
        self.bar.inc(doc.files());
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = self.sent_bytes as f64 / 1e6 / secs;
        self.bar.set_message(format!("{rate:.1} MB/s"));
    }

    /// `doc` is too large for the server: rejected here (with its repeats), never sent.
    fn not_sent(&mut self, doc: &Pending, reason: String) {
        let result = IngestResult {
            outcome: Outcome::Rejected as i32,
            id: doc.id.clone(),
            reason,
            ..Default::default()
        };
        self.answer(doc, &result);
    }

    /// `doc` and its repeats were rejected in an earlier run, for `reason`, and would be
    /// again.
    fn earlier(&mut self, doc: Pending, reason: &str) {
        self.bar.inc(doc.files());
        for path in std::iter::once(doc.path).chain(doc.repeats) {
            self.summary.rejected_earlier(path, reason, 1);
        }
    }

    /// `doc` was never answered: nor were its repeats.
    fn unacknowledged(&mut self, doc: Pending, why: &str) {
        let unacknowledged = &mut self.summary.unacknowledged;
        unacknowledged.push((doc.path, why.to_owned()));
        unacknowledged.extend(doc.repeats.into_iter().map(|p| (p, why.to_owned())));
    }

    /// Appends `path`'s answer to the journal (best effort: a lost line only means that a
    /// re-run sends the file again).
    fn journal_line(&mut self, id: &str, path: &Path, result: &IngestResult) {
        let path = path.display();
        let _ = match rejection(result) {
            Some(reason) => {
                let reason = reason.replace(['\t', '\n'], " ");
                writeln!(self.journal, "{id}\t{path}\trejected: {reason}")
            }
            None => writeln!(self.journal, "{id}\t{path}"),
        };
    }

    fn flush(&mut self) {
        let _ = self.journal.flush();
    }

    fn finish(mut self) -> Summary {
        self.flush();
        self.bar.finish_and_clear();
        self.summary
    }
}

/// The reason of a rejection; `None` for an answer that stored or found the document.
fn rejection(result: &IngestResult) -> Option<&str> {
    match Outcome::try_from(result.outcome).unwrap_or(Outcome::Unspecified) {
        Outcome::Stored | Outcome::Duplicate | Outcome::Revision | Outcome::Rendition => None,
        Outcome::Rejected | Outcome::Unspecified => Some(&result.reason),
    }
}

fn record(summary: &mut Summary, result: &IngestResult) {
    match Outcome::try_from(result.outcome).unwrap_or(Outcome::Unspecified) {
        Outcome::Stored => summary.stored += 1,
        Outcome::Duplicate => summary.duplicate += 1,
        Outcome::Revision => summary.revision += 1,
        Outcome::Rendition => summary.rendition += 1,
        Outcome::Rejected | Outcome::Unspecified => {
            *summary.rejected.entry(result.reason.clone()).or_default() += 1
        }
    }
}

/// One Ingest stream over the pending documents, `in_flight` at a time, each tagged with its
/// index in `pending`. Calls `on_answer` once per document answered; returns the indices
/// answered and the status that ended the stream early, if one did.
async fn stream_once(
    channel: &Channel,
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
    let mut request = Request::new(tokio_stream::wrappers::ReceiverStream::new(rx));
    if let Some(token) = &options.token {
        if let Ok(value) = channel::bearer_value(token) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_sends_each_distinct_content_once() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<PathBuf> = [
            ("a.txt", "report a"),
            ("b.txt", "report b"),
            ("a (1).txt", "report a"),
            ("old.txt", "sent before"),
            ("old copy.txt", "sent before"),
            ("a (2).txt", "report a"),
        ]
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect();
        let journaled = HashMap::from([(report_id(b"sent before"), None)]);
        let mut summary = Summary::default();
        let found = files
            .iter()
            .map(|path| Found {
                path: path.clone(),
                root: Some(dir.path().to_owned()),
            })
            .collect();
        let pending = plan(found, &journaled, &Manifest::default(), &mut summary);
        let planned: Vec<(&Path, Vec<&Path>)> = pending
            .iter()
            .map(|p| {
                (
                    p.path.as_path(),
                    p.repeats.iter().map(|r| r.as_path()).collect(),
                )
            })
            .collect();
        assert_eq!(
            planned,
            [
                (files[0].as_path(), vec![&*files[2], &*files[5]]),
                (files[1].as_path(), vec![]),
            ]
        );
        assert_eq!(pending[0].id, report_id(b"report a"));
        assert_eq!(summary.already_acknowledged, 2);
        assert_eq!(summary.bytes, 3 * 8 + 8 + 2 * 11);
    }

    fn answered(outcome: Outcome, id: &str, reason: &str) -> IngestResult {
        IngestResult {
            outcome: outcome as i32,
            id: id.into(),
            reason: reason.into(),
            ..Default::default()
        }
    }

    /// Answers `doc` with each outcome: the summary and the journal lines it leaves.
    fn answer_with_repeat(outcome: Outcome, reason: &str) -> (Summary, String) {
        let doc = Pending {
            path: "a.txt".into(),
            id: "i".repeat(64),
            len: 8,
            repeats: vec!["mirror/a.txt".into()],
            entry: Entry::default(),
            content_type: "",
        };
        let result = answered(outcome, &doc.id, reason);
        let mut answers = Answers::new(
            Summary::default(),
            Vec::new(),
            indicatif::ProgressBar::hidden(),
        );
        answers.answer(&doc, &result);
        let journal = String::from_utf8(answers.journal.clone()).unwrap();
        (answers.finish(), journal)
    }

    #[test]
    fn a_repeat_is_answered_from_its_first_copy() {
        let id = "i".repeat(64);
        for (outcome, stored, duplicate, revision) in [
            (Outcome::Stored, 1, 1, 0),
            (Outcome::Duplicate, 0, 2, 0),
            (Outcome::Revision, 0, 1, 1),
        ] {
            let (summary, journal) = answer_with_repeat(outcome, "");
            assert_eq!(
                (summary.stored, summary.duplicate, summary.revision),
                (stored, duplicate, revision),
                "{outcome:?}"
            );
            assert!(summary.ok() && summary.rejected.is_empty());
            assert_eq!(journal, format!("{id}\ta.txt\n{id}\tmirror/a.txt\n"));
            assert!(
                summary.to_string().contains(&format!(
                    "duplicate: {duplicate}\n  mirror/a.txt: duplicate of a.txt\n"
                )),
                "{summary}"
            );
        }
    }

    #[test]
    fn a_repeat_of_a_rejected_file_is_rejected_alike() {
        let id = "i".repeat(64);
        let (summary, journal) = answer_with_repeat(Outcome::Rejected, "not a report:\tno title");
        assert_eq!(summary.duplicate, 0);
        assert_eq!(
            summary.rejected,
            BTreeMap::from([("not a report:\tno title".to_owned(), 2)])
        );
        assert!(!summary.ok());
        assert_eq!(
            journal,
            format!(
                "{id}\ta.txt\trejected: not a report: no title\n\
                 {id}\tmirror/a.txt\trejected: not a report: no title\n"
            )
        );
        let shown = summary.to_string();
        assert!(
            shown.contains("duplicate: 0\nrevision")
                && shown.contains(
                    "  2 × not a report:\tno title\n    a.txt\n    mirror/a.txt: duplicate of a.txt\n"
                ),
            "{shown}"
        );
        // Read back, both paths' rejection is answered by the journal on a re-run.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("journal"), &journal).unwrap();
        let read = read_journal(&dir.path().join("journal")).unwrap();
        assert_eq!(
            read.get(&id),
            Some(&Some("not a report: no title".to_owned()))
        );
    }

    #[test]
    fn many_repeats_are_listed_in_part() {
        let repeats = (0..REPEATS_LISTED + 3)
            .map(|i| Repeat {
                path: format!("copy-{i}.txt").into(),
                first: "a.txt".into(),
                rejected: None,
            })
            .collect();
        let summary = Summary {
            duplicate: REPEATS_LISTED as u64 + 3,
            repeats,
            ..Default::default()
        };
        let shown = summary.to_string();
        assert_eq!(
            shown.matches(": duplicate of a.txt").count(),
            REPEATS_LISTED
        );
        assert!(shown.contains("  … and 3 more duplicates"), "{shown}");
    }

    #[test]
    fn answer_tags_name_pending_documents() {
        assert_eq!(tagged("0", 2), Some(0));
        assert_eq!(tagged("1", 2), Some(1));
        assert_eq!(tagged("2", 2), None);
        assert_eq!(tagged("", 2), None);
        assert_eq!(tagged("a.txt", 2), None);
    }

    fn pending(path: &str, content: &[u8]) -> Pending {
        Pending {
            path: path.into(),
            id: report_id(content),
            len: content.len() as u64,
            repeats: vec![],
            entry: Entry {
                url: "https://example.gov.cn/a.html".into(),
                published: "2024-01-15".into(),
            },
            content_type: "text/plain",
        }
    }

    /// The size checked is the Document message sent, never smaller: at the limit a file
    /// is sent, a byte over it is not.
    #[test]
    fn too_large_counts_the_whole_message() {
        use prost::Message;
        for len in [0usize, 1, 127, 128, 16_383, 16_384, 70_000] {
            let content = vec![b'x'; len];
            let doc = pending("2023/朝阳区.txt", &content);
            let sent = document(&doc, 12345, content).encoded_len() as u64;
            let counted = message_len(&doc);
            assert!(
                counted >= sent && counted - sent < 20,
                "{len}: {counted} {sent}"
            );
            let at = |max_message_bytes| LimitsResponse {
                accepts_parts: false,
                max_message_bytes,
                max_document_bytes: 0,
            };
            assert_eq!(too_large(&doc, &at(counted)), None);
            let over = too_large(&doc, &at(counted - 1)).unwrap();
            assert_eq!(
                over,
                format!(
                    "not sent: {counted} bytes as a message, over the server's message limit \
                     of {} bytes (serve --max-message-bytes)",
                    counted - 1
                )
            );
        }
        let doc = pending("a.txt", &[b'x'; 100]);
        let limits = LimitsResponse {
            accepts_parts: false,
            max_message_bytes: 1 << 20,
            max_document_bytes: 99,
        };
        assert!(too_large(&doc, &limits)
            .unwrap()
            .contains("100 bytes, over the server's document limit of 99 bytes"));
    }

    /// A file too large for the server is rejected here and journaled as not sent; in a
    /// re-run with the same limit it is a rejection of that earlier run (exit 0), and with a
    /// larger limit it is sent.
    #[test]
    fn a_file_too_large_is_rejected_alone_and_checked_again_on_a_rerun() {
        let dir = tempfile::tempdir().unwrap();
        let big_path = dir.path().join("big.txt");
        std::fs::write(&big_path, [b'x'; 1000]).unwrap();
        let small = pending("small.txt", b"small");
        let big = Pending {
            entry: Entry::default(), // as planned without a manifest below
            ..pending(big_path.to_str().unwrap(), &[b'x'; 1000])
        };
        let limits = LimitsResponse {
            accepts_parts: false,
            max_message_bytes: 500,
            max_document_bytes: 0,
        };
        let mut answers = Answers::new(
            Summary::default(),
            Vec::new(),
            indicatif::ProgressBar::hidden(),
        );
        let sendable =
            leave_out_too_large(vec![small, big], &limits, &HashMap::new(), &mut answers);
        assert_eq!(sendable.len(), 1);
        assert_eq!(sendable[0].path, Path::new("small.txt"));
        let journal = String::from_utf8(answers.journal.clone()).unwrap();
        let summary = answers.finish();
        assert!(!summary.ok(), "a new rejection fails the run");
        assert_eq!(summary.rejected_files.len(), 1);
        let reason = &summary.rejected_files[0].1;
        assert!(reason.starts_with("not sent: 1"), "{reason}");
        let listed = format!("  1 × {reason}\n    {}\n", big_path.display());
        assert!(summary.to_string().contains(&listed), "{summary}");

        // The journal read back: the file is planned again, not taken as answered.
        std::fs::write(dir.path().join("journal"), &journal).unwrap();
        let journaled = read_journal(&dir.path().join("journal")).unwrap();
        let mut summary = Summary::default();
        let planned = plan(
            vec![Found {
                path: dir.path().join("big.txt"),
                root: None,
            }],
            &journaled,
            &Manifest::default(),
            &mut summary,
        );
        assert_eq!(planned.len(), 1);
        assert_eq!(summary.already_acknowledged + summary.rejected_earlier, 0);
        // Same limit: rejected again, as in the earlier run.
        let mut answers = Answers::new(summary, Vec::new(), indicatif::ProgressBar::hidden());
        let sendable = leave_out_too_large(planned, &limits, &journaled, &mut answers);
        assert!(sendable.is_empty());
        assert!(answers.journal.is_empty(), "nothing new to journal");
        let summary = answers.finish();
        assert!(summary.ok(), "{summary}");
        assert_eq!(summary.rejected_earlier, 1);
        // A larger limit: sent.
        let mut summary = Summary::default();
        let planned = plan(
            vec![Found {
                path: dir.path().join("big.txt"),
                root: None,
            }],
            &journaled,
            &Manifest::default(),
            &mut summary,
        );
        let mut answers = Answers::new(summary, Vec::new(), indicatif::ProgressBar::hidden());
        let larger = LimitsResponse {
            accepts_parts: false,
            max_message_bytes: 2000,
            max_document_bytes: 0,
        };
        assert_eq!(
            leave_out_too_large(planned, &larger, &journaled, &mut answers).len(),
            1
        );
    }

    #[test]
    fn rejected_files_are_named_up_to_a_cap_then_the_journal() {
        let mut summary = Summary {
            journal: "/var/lib/up.journal".into(),
            ..Default::default()
        };
        for i in 0..REJECTED_LISTED + 5 {
            let reason = if i % 2 == 0 {
                "empty document"
            } else {
                "not a report"
            };
            *summary.rejected.entry(reason.into()).or_default() += 1;
            summary
                .rejected_files
                .push((format!("r{i}.txt").into(), reason.into()));
        }
        let shown = summary.to_string();
        let named = (0..REJECTED_LISTED + 5)
            .filter(|i| shown.contains(&format!("    r{i}.txt\n")))
            .count();
        assert_eq!(named, REJECTED_LISTED, "{shown}");
        assert!(
            shown.contains(
                "  … and 5 more rejected files: each with its reason in the journal /var/lib/up.journal\n"
            ),
            "{shown}"
        );
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
        // Rejections answered in an earlier run are not news: exit 0.
        let mut s = Summary::default();
        s.rejected_earlier(PathBuf::from("a.txt"), "empty document", 1);
        assert!(s.ok());
        assert!(s
            .to_string()
            .contains("1 × empty document (answered in an earlier run)\n    a.txt\n"));
        s.unacknowledged
            .push(("b.txt".into(), "UNAVAILABLE".into()));
        assert!(!s.ok());
    }
}
