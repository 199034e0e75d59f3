//! Who may call what. A bearer token carries scopes (`ingest`, `read`, `admin`); a gRPC
//! service needs one scope, decided from the request path alone. Health and reflection stay
//! open (load balancers and grpcurl need them, and they reveal nothing stored); every other
//! service not named in `access` below needs `admin`, so a service added later is closed until
//! someone decides otherwise here.
//!
//! The check is a tower layer over the whole router, not a tonic interceptor per service:
//! an interceptor never sees the path, and a layer cannot be forgotten when a service is added.
//!
//! Tokens come from `--auth-token` (one token with every scope) and from a token file
//! (`--auth-tokens`, re-read on SIGHUP; the format is on [`TokenSet::parse`]). They are kept as
//! SHA-256 digests only. A presented token is hashed and compared with every known digest in
//! constant time, without stopping at a match, so the time taken tells neither which token
//! matched nor how much of one. No error and no log line carries token text: errors name line
//! numbers, logs name counts and scopes.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll};

use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use tonic::codegen::Service;
use tonic::Status;

/// The shortest token a token file accepts. 16 bytes of hex is 64 bits, beyond guessing
/// over a network; `openssl rand -hex 32` makes a 64-byte one.
pub const MIN_TOKEN_BYTES: usize = 16;

/// What a token may do; each gRPC service needs one (see `access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// IngestService: store documents.
    Ingest,
    /// ReportService: read reports, aggregates and findings.
    Read,
    /// AdminService, and any service not otherwise listed.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Ingest, Scope::Read, Scope::Admin];

    /// The name written in token files and error messages.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }

    fn from_name(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.name() == name)
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of scopes, as bits (so that it can be selected in constant time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scopes(u8);

impl Scopes {
    pub const ALL: Scopes = Scopes(0b111);

    pub fn has(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    fn with(self, scope: Scope) -> Scopes {
        Scopes(self.0 | scope.bit())
    }
}

/// What one line of a token file gets wrong. Never holds, and never prints, the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineProblem {
    /// A token without scopes would let nobody in; almost surely a forgotten column.
    #[error("the token has no scope (write `TOKEN ingest`, `TOKEN read,admin`, …)")]
    NoScope,
    /// A scope that is not ingest, read or admin. Its text is shown only when it is too
    /// short to be a token (a misspelt scope); a longer one may be a token written in the
    /// wrong column.
    #[error("scope {position} on the line{} is not one of ingest, read, admin", .word.as_ref().map(|w| format!(" ({w:?})")).unwrap_or_default())]
    UnknownScope {
        position: usize,
        word: Option<String>,
    },
    /// Too short to be a secret.
    #[error(
        "the token is shorter than {MIN_TOKEN_BYTES} bytes (make one with `openssl rand -hex 32`)"
    )]
    TooShort,
    /// A header value cannot carry it reliably.
    #[error("the token has a character other than visible ASCII (letters, digits, punctuation)")]
    NotVisibleAscii,
    /// The same token twice: which scopes were meant?
    #[error("the same token as line {first_line}")]
    Duplicate { first_line: usize },
}

/// A token file that cannot be used; the message names the file and line, never a token.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    /// Missing, unreadable, or not UTF-8.
    #[error("token file {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// One line is wrong.
    #[error("token file {}: line {line}: {problem}", .path.display())]
    Line {
        path: PathBuf,
        line: usize,
        problem: LineProblem,
    },
}

/// One known token: its digest and scopes.
struct Entry {
    digest: [u8; 32],
    scopes: Scopes,
}

/// Known tokens, as digests with their scopes: the trusted form of a token file.
#[derive(Default)]
pub struct TokenSet {
    entries: Vec<Entry>,
}

impl TokenSet {
    /// Reads a token file's text. One token per line, then its scopes, separated by commas
    /// or spaces:
    ///
    /// ```text
    /// # the uploader on the crawl machine
    /// 3f1c9a7e5b2d4c8e0a6f1b3d5c7e9a0b  ingest
    /// 9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a  read, admin   # the dashboard
    /// ```
    ///
    /// `#` starts a comment at the start of a line or after a space; blank lines are
    /// skipped. A token is at least [`MIN_TOKEN_BYTES`] of visible ASCII, appears once, and
    /// has at least one scope. Scopes do not imply each other: a token that should do
    /// everything lists all three.
    pub fn parse(text: &str) -> Result<TokenSet, (usize, LineProblem)> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut seen: HashMap<[u8; 32], usize> = HashMap::new();
        let mut entries = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let Some((token, scopes)) = parse_line(line).map_err(|p| (number, p))? else {
                continue;
            };
            let digest = digest(token.as_bytes());
            if let Some(&first_line) = seen.get(&digest) {
                return Err((number, LineProblem::Duplicate { first_line }));
            }
            seen.insert(digest, number);
            entries.push(Entry { digest, scopes });
        }
        Ok(TokenSet { entries })
    }

    /// One token with every scope (`--auth-token`).
    fn single(token: &str) -> TokenSet {
        TokenSet {
            entries: vec![Entry {
                digest: digest(token.as_bytes()),
                scopes: Scopes::ALL,
            }],
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many tokens have `scope`.
    pub fn count(&self, scope: Scope) -> usize {
        self.entries.iter().filter(|e| e.scopes.has(scope)).count()
    }

    /// Whether `digest` is known, and its scopes: every entry is compared, in constant time.
    fn lookup(&self, digest: &[u8; 32]) -> (Choice, u8) {
        let mut found = Choice::from(0);
        let mut bits = 0u8;
        for entry in &self.entries {
            let same = entry.digest[..].ct_eq(&digest[..]);
            found |= same;
            bits |= u8::conditional_select(&0, &entry.scopes.0, same);
        }
        (found, bits)
    }
}

fn digest(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

/// One line: `None` when blank or a comment, else its token and scopes.
fn parse_line(line: &str) -> Result<Option<(&str, Scopes)>, LineProblem> {
    let line = strip_comment(line);
    let mut fields = line.split_whitespace();
    let Some(token) = fields.next() else {
        return Ok(None);
    };
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(LineProblem::NotVisibleAscii);
    }
    if token.len() < MIN_TOKEN_BYTES {
        return Err(LineProblem::TooShort);
    }
    let mut scopes = Scopes::default();
    let names = fields.flat_map(|f| f.split(',')).filter(|n| !n.is_empty());
    for (index, name) in names.enumerate() {
        let scope = Scope::from_name(name).ok_or_else(|| LineProblem::UnknownScope {
            position: index + 1,
            word: (name.len() < MIN_TOKEN_BYTES).then(|| name.to_owned()),
        })?;
        scopes = scopes.with(scope);
    }
    if scopes == Scopes::default() {
        return Err(LineProblem::NoScope);
    }
    Ok(Some((token, scopes)))
}

/// The line before its comment: a `#` at the start or after whitespace.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let start = (0..bytes.len())
        .find(|&i| bytes[i] == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()));
    start.map_or(line, |i| &line[..i])
}

/// The token file of `--auth-tokens`: a cheap handle to the tokens in force, which
/// [`TokenFile::reload`] swaps for the file's new content, or leaves alone if it is bad.
#[derive(Clone)]
pub struct TokenFile {
    inner: Arc<Loaded>,
}

struct Loaded {
    path: PathBuf,
    tokens: RwLock<Arc<TokenSet>>,
}

impl TokenFile {
    /// Reads and checks the file; logs how many tokens have which scope.
    pub fn load(path: &Path) -> Result<TokenFile, TokenFileError> {
        let tokens = read_token_file(path)?;
        log_loaded(path, &tokens);
        Ok(TokenFile {
            inner: Arc::new(Loaded {
                path: path.to_owned(),
                tokens: RwLock::new(Arc::new(tokens)),
            }),
        })
    }

    /// Reads the file again. If it is good, its tokens apply from the next request on (on
    /// every connection); if not, the tokens in force stay and the error says why.
    pub fn reload(&self) -> Result<(), TokenFileError> {
        let tokens = read_token_file(&self.inner.path)?;
        log_loaded(&self.inner.path, &tokens);
        *self
            .inner
            .tokens
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(tokens);
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The tokens in force (the lock is held only to clone the handle).
    pub fn tokens(&self) -> Arc<TokenSet> {
        self.inner
            .tokens
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl fmt::Debug for TokenFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenFile")
            .field("path", &self.inner.path)
            .field("tokens", &self.tokens().len())
            .finish()
    }
}

fn read_token_file(path: &Path) -> Result<TokenSet, TokenFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| TokenFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    TokenSet::parse(&text).map_err(|(line, problem)| TokenFileError::Line {
        path: path.to_owned(),
        line,
        problem,
    })
}

fn log_loaded(path: &Path, tokens: &TokenSet) {
    tracing::info!(
        path = %path.display(),
        tokens = tokens.len(),
        ingest = tokens.count(Scope::Ingest),
        read = tokens.count(Scope::Read),
        admin = tokens.count(Scope::Admin),
        "auth tokens loaded"
    );
    if tokens.is_empty() {
        tracing::warn!(path = %path.display(), "the token file lists no tokens: every call but health and reflection is refused");
    }
}

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Open,
    Needs(Scope),
}

/// What a request to `path` (`/package.Service/Method`) needs, and the service it names.
fn access(path: &str) -> (&str, Access) {
    use crate::pb::{ingest_service_server, report_service_server};
    use tonic_health::pb::health_server;
    use tonic_reflection::pb::{v1, v1alpha};
    let service = path
        .strip_prefix('/')
        .and_then(|p| p.split_once('/'))
        .map_or(path, |(service, _)| service);
    let access = match service {
        health_server::SERVICE_NAME
        | v1::server_reflection_server::SERVICE_NAME
        | v1alpha::server_reflection_server::SERVICE_NAME => Access::Open,
        ingest_service_server::SERVICE_NAME => Access::Needs(Scope::Ingest),
        report_service_server::SERVICE_NAME => Access::Needs(Scope::Read),
        "nianbao.v1.AdminService" => Access::Needs(Scope::Admin),
        // A service nobody has thought about here: admin only, until someone does.
        _ => Access::Needs(Scope::Admin),
    };
    (service, access)
}

const MISSING_TOKEN: &str = "missing bearer token: send the header `authorization: Bearer <token>`";

/// The token of an `authorization: Bearer <token>` header.
fn bearer(headers: &http::HeaderMap) -> Option<&[u8]> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    Some(token.as_bytes())
}

/// The check in front of every service: the tokens of `--auth-token` and `--auth-tokens`.
/// With neither, every service is open. As a tower [`Layer`](tower_layer::Layer) it wraps the
/// server's whole router.
#[derive(Clone, Default)]
pub struct Gate {
    single: Option<Arc<TokenSet>>,
    file: Option<TokenFile>,
}

impl Gate {
    /// `single` has every scope (an empty string counts as unset, as it always has);
    /// `file` gives each of its tokens the scopes it lists.
    pub fn new(single: Option<&str>, file: Option<TokenFile>) -> Gate {
        let single = single.filter(|t| !t.is_empty());
        if single.is_some_and(|t| t.len() < MIN_TOKEN_BYTES) {
            tracing::warn!("--auth-token is shorter than {MIN_TOKEN_BYTES} bytes: easy to guess");
        }
        Gate {
            single: single.map(|t| Arc::new(TokenSet::single(t))),
            file,
        }
    }

    /// No token configured: every service is open.
    pub fn is_open(&self) -> bool {
        self.single.is_none() && self.file.is_none()
    }

    /// Lets a request to `path` with `headers` through, or says why not: UNAUTHENTICATED
    /// without a known token, PERMISSION_DENIED (naming the scope) with a token lacking it.
    pub fn admit(&self, path: &str, headers: &http::HeaderMap) -> Result<(), Status> {
        let (service, Access::Needs(scope)) = access(path) else {
            return Ok(());
        };
        if self.is_open() {
            return Ok(());
        }
        let token = bearer(headers).ok_or_else(|| Status::unauthenticated(MISSING_TOKEN))?;
        let scopes = self
            .scopes_of(token)
            .ok_or_else(|| Status::unauthenticated("wrong bearer token"))?;
        if scopes.has(scope) {
            Ok(())
        } else {
            Err(Status::permission_denied(format!(
                "this token lacks the `{}` scope, which {service} needs",
                scope.name()
            )))
        }
    }

    /// The scopes of `token` across both sources, or `None` if neither knows it.
    fn scopes_of(&self, token: &[u8]) -> Option<Scopes> {
        let digest = digest(token);
        let mut found = Choice::from(0);
        let mut bits = 0u8;
        let from_file = self.file.as_ref().map(TokenFile::tokens);
        for set in self.single.iter().chain(from_file.iter()) {
            let (f, b) = set.lookup(&digest);
            found |= f;
            bits |= b;
        }
        bool::from(found).then_some(Scopes(bits))
    }
}

impl<S> tower_layer::Layer<S> for Gate {
    type Service = Gated<S>;

    fn layer(&self, inner: S) -> Gated<S> {
        Gated {
            inner,
            gate: self.clone(),
        }
    }
}

/// A service behind the [`Gate`]: a refused request is answered with its status here and
/// never reaches `inner`.
#[derive(Clone)]
pub struct Gated<S> {
    inner: S,
    gate: Gate,
}

impl<S, B, ResBody> Service<http::Request<B>> for Gated<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>>,
    ResBody: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = futures::future::Either<
        S::Future,
        std::future::Ready<Result<http::Response<ResBody>, S::Error>>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        use futures::future::Either;
        match self.gate.admit(request.uri().path(), request.headers()) {
            Ok(()) => Either::Left(self.inner.call(request)),
            Err(status) => Either::Right(std::future::ready(Ok(status.into_http()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INGEST: &str = "ingest-token-0123456789";
    const READER: &str = "reader-token-0123456789";
    const ADMIN: &str = "admin-token-0123456789";

    fn headers(authorization: Option<&str>) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        if let Some(a) = authorization {
            h.insert(http::header::AUTHORIZATION, a.parse().unwrap());
        }
        h
    }

    fn bearer_of(token: &str) -> http::HeaderMap {
        headers(Some(&format!("Bearer {token}")))
    }

    fn scopes_of(text: &str, token: &str) -> Option<Scopes> {
        let set = TokenSet::parse(text).unwrap();
        let (found, bits) = set.lookup(&digest(token.as_bytes()));
        bool::from(found).then_some(Scopes(bits))
    }

    #[test]
    fn parses_tokens_scopes_comments_and_blank_lines() {
        let text = format!(
            "\u{feff}# tokens\n\n{INGEST} ingest\r\n  {READER}\tread, admin   # the dashboard\n\
             {ADMIN} admin,ingest,read,\nlong#hash#inside#token read\n"
        );
        let set = TokenSet::parse(&text).unwrap();
        assert_eq!(set.len(), 4);
        assert_eq!(
            (
                set.count(Scope::Ingest),
                set.count(Scope::Read),
                set.count(Scope::Admin)
            ),
            (2, 3, 2)
        );
        let ingest = scopes_of(&text, INGEST).unwrap();
        assert!(ingest.has(Scope::Ingest) && !ingest.has(Scope::Read) && !ingest.has(Scope::Admin));
        let reader = scopes_of(&text, READER).unwrap();
        assert!(!reader.has(Scope::Ingest) && reader.has(Scope::Read) && reader.has(Scope::Admin));
        assert_eq!(scopes_of(&text, ADMIN), Some(Scopes::ALL));
        assert!(scopes_of(&text, "long#hash#inside#token").is_some());
        assert_eq!(scopes_of(&text, "ingest-token-012345678"), None);
        assert!(TokenSet::parse("# only a comment\n\n").unwrap().is_empty());
    }

    #[test]
    fn bad_lines_name_the_line_and_never_the_token() {
        let secret = "s3cret-s3cret-s3cret";
        let cases = [
            (format!("{secret}\n"), 1, LineProblem::NoScope),
            (format!("# c\n{secret}  # read\n"), 2, LineProblem::NoScope),
            (
                format!("{secret} read,write\n"),
                1,
                LineProblem::UnknownScope {
                    position: 2,
                    word: Some("write".into()),
                },
            ),
            // Columns swapped: the token is read as a scope, and not shown.
            (
                format!("{INGEST} ingest\nread {secret}\n"),
                2,
                LineProblem::TooShort,
            ),
            (
                format!("{INGEST} ingest\nreadreadreadreadread {secret}\n"),
                2,
                LineProblem::UnknownScope {
                    position: 1,
                    word: None,
                },
            ),
            ("s3cret read\n".to_owned(), 1, LineProblem::TooShort),
            (format!("{secret}é read\n"), 1, LineProblem::NotVisibleAscii),
            (
                format!("{secret} read\n\n{secret} ingest\n"),
                3,
                LineProblem::Duplicate { first_line: 1 },
            ),
        ];
        for (text, line, problem) in cases {
            let Err((got_line, got)) = TokenSet::parse(&text) else {
                panic!("accepted {text:?}");
            };
            assert_eq!((got_line, &got), (line, &problem), "{text:?}");
            let message = TokenFileError::Line {
                path: "tokens".into(),
                line: got_line,
                problem: got,
            }
            .to_string();
            assert!(message.contains(&format!("line {line}:")), "{message}");
            assert!(!message.contains("s3cret"), "{message}");
        }
    }

    #[test]
    fn each_service_needs_its_scope() {
        let cases = [
            ("/grpc.health.v1.Health/Check", Access::Open),
            ("/grpc.health.v1.Health/Watch", Access::Open),
            (
                "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                Access::Open,
            ),
            (
                "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                Access::Open,
            ),
            (
                "/nianbao.v1.IngestService/IngestOne",
                Access::Needs(Scope::Ingest),
            ),
            (
                "/nianbao.v1.IngestService/Ingest",
                Access::Needs(Scope::Ingest),
            ),
            // The uploader asks before it sends: the same rule as Ingest.
            (
                "/nianbao.v1.IngestService/Limits",
                Access::Needs(Scope::Ingest),
            ),
            (
                "/nianbao.v1.ReportService/ListReports",
                Access::Needs(Scope::Read),
            ),
            (
                "/nianbao.v1.AdminService/Backup",
                Access::Needs(Scope::Admin),
            ),
            (
                "/nianbao.v1.FutureService/Anything",
                Access::Needs(Scope::Admin),
            ),
            ("/grpc.health.v1.Healthy/Check", Access::Needs(Scope::Admin)),
            ("/", Access::Needs(Scope::Admin)),
            ("", Access::Needs(Scope::Admin)),
        ];
        for (path, want) in cases {
            assert_eq!(access(path).1, want, "{path}");
        }
    }

    fn a_file(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("tokens");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn the_gate_answers_unauthenticated_or_permission_denied() {
        let dir = tempfile::tempdir().unwrap();
        let path = a_file(
            dir.path(),
            &format!("{INGEST} ingest\n{READER} read\n{ADMIN} admin\n"),
        );
        let gate = Gate::new(None, Some(TokenFile::load(&path).unwrap()));
        let ingest = "/nianbao.v1.IngestService/IngestOne";
        let read = "/nianbao.v1.ReportService/ListReports";
        let admin = "/nianbao.v1.AdminService/Backup";
        assert!(gate.admit(ingest, &bearer_of(INGEST)).is_ok());
        assert!(gate
            .admit(ingest, &headers(Some(&format!("bearer {INGEST}"))))
            .is_ok());
        assert!(gate.admit(read, &bearer_of(READER)).is_ok());
        assert!(gate.admit(admin, &bearer_of(ADMIN)).is_ok());
        assert!(gate
            .admit("/grpc.health.v1.Health/Check", &headers(None))
            .is_ok());
        for (path, token, scope) in [
            (read, INGEST, "read"),
            (admin, INGEST, "admin"),
            (ingest, READER, "ingest"),
            (ingest, ADMIN, "ingest"),
            (read, ADMIN, "read"),
        ] {
            let e = gate.admit(path, &bearer_of(token)).unwrap_err();
            assert_eq!(e.code(), tonic::Code::PermissionDenied, "{path} {token}");
            assert!(
                e.message().contains(&format!("`{scope}`")),
                "{}",
                e.message()
            );
            assert!(!e.message().contains(token));
        }
        for bad in [
            None,
            Some(format!("Bearer {INGEST}x")),
            Some(format!("Bearer {}", &INGEST[1..])),
            Some(INGEST.to_owned()),
            Some(format!("Basic {INGEST}")),
        ] {
            let e = gate.admit(ingest, &headers(bad.as_deref())).unwrap_err();
            assert_eq!(e.code(), tonic::Code::Unauthenticated, "{bad:?}");
            assert!(!e.message().contains(INGEST));
        }
    }

    #[test]
    fn the_single_token_has_every_scope_and_no_token_leaves_it_open() {
        let open = Gate::new(None, None);
        let single = Gate::new(Some("s3cret"), None);
        let empty = Gate::new(Some(""), None);
        for path in [
            "/nianbao.v1.IngestService/IngestOne",
            "/nianbao.v1.ReportService/ListReports",
            "/nianbao.v1.AdminService/Backup",
        ] {
            assert!(open.admit(path, &headers(None)).is_ok());
            assert!(empty.admit(path, &headers(None)).is_ok());
            assert!(single.admit(path, &bearer_of("s3cret")).is_ok());
            let e = single.admit(path, &bearer_of("s3cre")).unwrap_err();
            assert_eq!(e.code(), tonic::Code::Unauthenticated);
        }
    }

    #[test]
    fn the_single_token_and_the_file_work_together() {
        let dir = tempfile::tempdir().unwrap();
        let path = a_file(dir.path(), &format!("{READER} read\n"));
        let gate = Gate::new(Some(ADMIN), Some(TokenFile::load(&path).unwrap()));
        let ingest = "/nianbao.v1.IngestService/IngestOne";
        assert!(gate.admit(ingest, &bearer_of(ADMIN)).is_ok());
        let e = gate.admit(ingest, &bearer_of(READER)).unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
    }

    #[test]
    fn a_reload_swaps_the_tokens_and_a_bad_file_keeps_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = a_file(dir.path(), &format!("{INGEST} ingest\n"));
        let file = TokenFile::load(&path).unwrap();
        let gate = Gate::new(None, Some(file.clone()));
        let ingest = "/nianbao.v1.IngestService/IngestOne";
        assert!(gate.admit(ingest, &bearer_of(INGEST)).is_ok());

        a_file(dir.path(), &format!("{READER} ingest\n"));
        file.reload().unwrap();
        assert!(gate.admit(ingest, &bearer_of(READER)).is_ok());
        let e = gate.admit(ingest, &bearer_of(INGEST)).unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unauthenticated);

        a_file(
            dir.path(),
            &format!("{INGEST} ingest\n{ADMIN} everything\n"),
        );
        let e = file.reload().unwrap_err();
        assert!(e.to_string().contains("line 2:"), "{e}");
        assert!(gate.admit(ingest, &bearer_of(READER)).is_ok());
        assert!(gate.admit(ingest, &bearer_of(INGEST)).is_err());

        std::fs::remove_file(&path).unwrap();
        assert!(matches!(file.reload(), Err(TokenFileError::Read { .. })));
        assert!(gate.admit(ingest, &bearer_of(READER)).is_ok());
        assert!(!format!("{file:?}").contains(READER));
    }

    #[test]
    fn an_empty_file_refuses_everyone() {
        let dir = tempfile::tempdir().unwrap();
        let path = a_file(dir.path(), "# nobody yet\n");
        let gate = Gate::new(None, Some(TokenFile::load(&path).unwrap()));
        let e = gate
            .admit("/nianbao.v1.ReportService/ListReports", &bearer_of(READER))
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unauthenticated);
    }
}
