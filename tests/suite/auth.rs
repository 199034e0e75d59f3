//! Scoped tokens, against the real binary over a real socket: `nianbao serve --auth-tokens
//! FILE` gives each token the scopes its line lists; IngestService needs `ingest`,
//! ReportService `read`, AdminService and every unlisted service `admin`; health and
//! reflection stay open. SIGHUP re-reads the file (a bad one keeps the tokens in force), a bad
//! file stops the start, and no token text ever reaches an error or a log line.

use crate::common;
use common::{a_document, with_token, Serve, Served};

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use nianbao::pb::ingest_service_client::IngestServiceClient;
use nianbao::pb::report_service_client::ReportServiceClient;
use nianbao::pb::{ListReportsRequest, Outcome};
use tonic::transport::Channel;
use tonic::{Code, Status};

const INGEST: &str = "ingest-only-7f3a9c1e5b";
const READER: &str = "read-only-2d8e4f6a0c1b";
const ADMIN: &str = "admin-only-9b7d5f3e1a2c";
const ALL: &str = "every-scope-4c6e8a0b2d4f";
const LATER: &str = "added-later-1a3c5e7f9b2d";
const WRONG: &str = "wrong-token-5e6f7a8b9c0d";
const EVERY_TOKEN: [&str; 6] = [INGEST, READER, ADMIN, ALL, LATER, WRONG];

/// How long a server may take to reload its tokens.
const PATIENCE: Duration = Duration::from_secs(20);

fn token_file_text() -> String {
    format!(
        "# the tokens of the auth tests\n\
         {INGEST} ingest          # the uploader\n\
         \n\
         {READER} read\n\
         {ADMIN} admin\n\
         {ALL} ingest, read, admin\n"
    )
}

/// `nianbao serve` in a child process ([`Served`]), logging at info into a file in a
/// directory of its own (its data in `db`, its log in `server.log`).
struct Server {
    served: Served,
    dir: tempfile::TempDir,
}

/// A server that exited instead of serving, and what it logged.
struct Refused {
    status: ExitStatus,
    dir: tempfile::TempDir,
}

impl Server {
    /// Serves with `args` after the usual ones, its data and log in a directory of its own.
    fn start(args: &[&str]) -> Server {
        Server::start_in(tempfile::tempdir().unwrap(), args, &[])
    }

    /// Serves with its data (`db`) and log (`server.log`) in `dir`, `env` set.
    fn start_in(dir: tempfile::TempDir, args: &[&str], env: &[(&str, &Path)]) -> Server {
        match Server::try_start_in(dir, args, env) {
            Ok(server) => server,
            Err(refused) => panic!(
                "nianbao serve exited ({}):\n{}",
                refused.status,
                logs_in(&refused.dir)
            ),
        }
    }

    /// [`Server::start_in`], or the exit of a server that does not start.
    fn try_start_in(
        dir: tempfile::TempDir,
        args: &[&str],
        env: &[(&str, &Path)],
    ) -> Result<Server, Refused> {
        let mut command = Serve::new(&dir.path().join("db"))
            .args(args)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stderr(std::fs::File::create(dir.path().join("server.log")).unwrap());
        for (key, value) in env {
            command = command.env(key, value);
        }
        match command.try_start() {
            Ok(served) => Ok(Server { served, dir }),
            Err(status) => Err(Refused { status, dir }),
        }
    }

    /// Serves with `--auth-tokens FILE`, FILE holding `text`; returns the server and FILE.
    fn with_token_file(text: &str) -> (Server, PathBuf) {
        let (dir, file) = token_dir(text);
        let server = Server::start_in(dir, &["--auth-tokens", file.to_str().unwrap()], &[]);
        (server, file)
    }

    async fn channel(&self) -> Channel {
        self.served.channel().await
    }

    fn hangup(&self) {
        self.served.signal(libc::SIGHUP);
    }

    fn logs(&self) -> String {
        logs_in(&self.dir)
    }
}

/// What a server logged into `dir`/server.log.
fn logs_in(dir: &tempfile::TempDir) -> String {
    std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default()
}

/// Starts a server that must refuse to start; fails if it serves.
fn refused(dir: tempfile::TempDir, args: &[&str]) -> (ExitStatus, String) {
    match Server::try_start_in(dir, args, &[]) {
        Ok(server) => panic!(
            "the server started despite a bad token file: {}",
            server.logs()
        ),
        Err(Refused { status, dir }) => (status, logs_in(&dir)),
    }
}

/// A directory with a token file `tokens` holding `text`.
fn token_dir(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens");
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

async fn ingest_one(channel: &Channel, token: Option<&str>) -> Result<(), Status> {
    let answer = IngestServiceClient::new(channel.clone())
        .ingest_one(with_token(a_document(), token))
        .await?
        .into_inner();
    assert!(
        answer.outcome == Outcome::Stored as i32 || answer.outcome == Outcome::Duplicate as i32,
        "{answer:?}"
    );
    Ok(())
}

/// Ingest, the bidirectional stream: refused before any document is answered.
async fn ingest_stream(channel: &Channel, token: Option<&str>) -> Result<(), Status> {
    let documents = tokio_stream::iter(vec![a_document()]);
    let mut answers = IngestServiceClient::new(channel.clone())
        .ingest(with_token(documents, token))
        .await?
        .into_inner();
    while answers.message().await?.is_some() {}
    Ok(())
}

async fn list_reports(channel: &Channel, token: Option<&str>) -> Result<(), Status> {
    ReportServiceClient::new(channel.clone())
        .list_reports(with_token(ListReportsRequest::default(), token))
        .await
        .map(|_| ())
}

/// A unary call of an empty message to `path`, whatever service it names (there need be
/// none: past the token check, the router answers UNIMPLEMENTED).
async fn call_path(
    channel: &Channel,
    path: &'static str,
    token: Option<&str>,
) -> Result<(), Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.unwrap();
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    let path = http::uri::PathAndQuery::from_static(path);
    grpc.unary(with_token((), token), path, codec)
        .await
        .map(|_| ())
}

/// No such method on AdminService: with the `admin` scope, the router's UNIMPLEMENTED.
const ADMIN_PATH: &str = "/nianbao.v1.AdminService/NoSuchMethodForTheAuthTests";
/// A service nobody listed: admin only.
const UNLISTED_PATH: &str = "/nianbao.v1.FutureService/Anything";

fn code(result: Result<(), Status>) -> Code {
    match result {
        Ok(()) => Code::Ok,
        Err(status) => {
            for token in EVERY_TOKEN {
                assert!(!status.message().contains(token), "{status:?}");
            }
            status.code()
        }
    }
}

/// The PERMISSION_DENIED of a call lacking `scope`, which it names.
fn assert_denied(result: Result<(), Status>, scope: &str) {
    let status = result.expect_err("permission denied");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(
        status.message().contains(&format!("`{scope}`")),
        "{status:?}"
    );
    for token in EVERY_TOKEN {
        assert!(!status.message().contains(token), "{status:?}");
    }
}

fn assert_no_token_in(logs: &str) {
    for token in EVERY_TOKEN {
        assert!(
            !logs.contains(token),
            "a token appears in the logs:\n{logs}"
        );
    }
}

/// Polls `check` until it holds, or fails after [`PATIENCE`].
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingest_token_ingests_and_cannot_read() {
    let (server, _) = Server::with_token_file(&token_file_text());
    let channel = server.channel().await;
    ingest_one(&channel, Some(INGEST)).await.unwrap();
    ingest_stream(&channel, Some(INGEST)).await.unwrap();
    assert_denied(list_reports(&channel, Some(INGEST)).await, "read");
    assert_denied(call_path(&channel, ADMIN_PATH, Some(INGEST)).await, "admin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_token_reads_and_cannot_ingest() {
    // The file through the environment this time.
    let (dir, file) = token_dir(&token_file_text());
    let server = Server::start_in(dir, &[], &[("NIANBAO_AUTH_TOKENS", &file)]);
    let channel = server.channel().await;
    list_reports(&channel, Some(READER)).await.unwrap();
    assert_denied(ingest_one(&channel, Some(READER)).await, "ingest");
    assert_denied(ingest_stream(&channel, Some(READER)).await, "ingest");
    assert_denied(call_path(&channel, ADMIN_PATH, Some(READER)).await, "admin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_scope_guards_admin_and_unlisted_services() {
    let (server, _) = Server::with_token_file(&token_file_text());
    let channel = server.channel().await;
    for path in [ADMIN_PATH, UNLISTED_PATH] {
        for token in [ADMIN, ALL] {
            assert_eq!(
                code(call_path(&channel, path, Some(token)).await),
                Code::Unimplemented,
                "{path}"
            );
        }
        assert_denied(call_path(&channel, path, Some(INGEST)).await, "admin");
        assert_denied(call_path(&channel, path, Some(READER)).await, "admin");
        assert_eq!(
            code(call_path(&channel, path, None).await),
            Code::Unauthenticated
        );
    }
    // Scopes do not imply each other: admin alone neither ingests nor reads.
    assert_denied(ingest_one(&channel, Some(ADMIN)).await, "ingest");
    assert_denied(list_reports(&channel, Some(ADMIN)).await, "read");
    ingest_one(&channel, Some(ALL)).await.unwrap();
    list_reports(&channel, Some(ALL)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_a_wrong_one_is_unauthenticated_and_health_stays_open() {
    let (server, _) = Server::with_token_file(&token_file_text());
    let channel = server.channel().await;
    for token in [None, Some(WRONG), Some(&INGEST[1..])] {
        assert_eq!(
            code(ingest_one(&channel, token).await),
            Code::Unauthenticated
        );
        assert_eq!(
            code(ingest_stream(&channel, token).await),
            Code::Unauthenticated
        );
        assert_eq!(
            code(list_reports(&channel, token).await),
            Code::Unauthenticated
        );
        assert_eq!(
            code(call_path(&channel, ADMIN_PATH, token).await),
            Code::Unauthenticated
        );
    }
    // Health and reflection answer without a token.
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let serving = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        serving.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    let request = ServerReflectionRequest {
        message_request: Some(MessageRequest::ListServices(String::new())),
        ..Default::default()
    };
    let mut answers = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.message().await.unwrap().expect("an answer");
    assert!(
        format!("{answer:?}").contains("nianbao.v1.IngestService"),
        "{answer:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_token_file() {
    let (server, file) = Server::with_token_file(&token_file_text());
    let channel = server.channel().await;
    ingest_one(&channel, Some(INGEST)).await.unwrap();
    assert_eq!(
        code(ingest_one(&channel, Some(LATER)).await),
        Code::Unauthenticated
    );

    // INGEST goes, LATER comes; written whole and renamed into place, as an editor would.
    let next = file.with_extension("new");
    std::fs::write(
        &next,
        format!("{LATER} ingest\n{READER} read\n{ADMIN} admin\n"),
    )
    .unwrap();
    std::fs::rename(&next, &file).unwrap();
    server.hangup();

    // The connection opened before the reload sees the new tokens.
    eventually("the new token to work", || async {
        ingest_one(&channel, Some(LATER)).await.is_ok()
    })
    .await;
    assert_eq!(
        code(ingest_one(&channel, Some(INGEST)).await),
        Code::Unauthenticated
    );
    let fresh = server.channel().await;
    assert_eq!(
        code(ingest_one(&fresh, Some(INGEST)).await),
        Code::Unauthenticated
    );
    ingest_one(&fresh, Some(LATER)).await.unwrap();
    list_reports(&fresh, Some(READER)).await.unwrap();

    let logs = server.logs();
    assert_eq!(
        logs.matches("auth tokens loaded").count(),
        2,
        "one load at start, one on SIGHUP:\n{logs}"
    );
    assert!(logs.contains("tokens=4"), "{logs}");
    assert!(logs.contains("tokens=3"), "{logs}");
    assert_no_token_in(&logs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_file_on_sighup_keeps_the_tokens_in_force() {
    let (server, file) = Server::with_token_file(&token_file_text());
    let channel = server.channel().await;
    ingest_one(&channel, Some(INGEST)).await.unwrap();

    // Line 2 names a scope that does not exist: the whole file is refused.
    std::fs::write(&file, format!("{LATER} ingest\n{READER} read,write\n")).unwrap();
    server.hangup();
    eventually("the reload error in the logs", || async {
        server.logs().contains("not reloaded")
    })
    .await;
    ingest_one(&channel, Some(INGEST)).await.unwrap();
    list_reports(&channel, Some(READER)).await.unwrap();
    assert_eq!(
        code(ingest_one(&channel, Some(LATER)).await),
        Code::Unauthenticated
    );

    // A missing file likewise.
    std::fs::remove_file(&file).unwrap();
    server.hangup();
    eventually("the second reload error", || async {
        server.logs().matches("not reloaded").count() == 2
    })
    .await;
    ingest_one(&channel, Some(INGEST)).await.unwrap();

    let logs = server.logs();
    assert!(logs.contains("line 2"), "{logs}");
    assert_no_token_in(&logs);
}

#[test]
fn a_bad_token_file_stops_the_start_without_showing_tokens() {
    let cases = [
        (format!("{INGEST} ingest\n{READER} write\n"), "line 2"),
        (format!("# c\n\n{INGEST}\n"), "line 3"),
        (format!("{INGEST} ingest\n{INGEST} read\n"), "line 2"),
        ("short-secret read\n".to_owned(), "line 1"),
        // Columns swapped: the token is in the scope column.
        (format!("ingest {READER}\n"), "line 1"),
    ];
    for (text, line) in cases {
        let (dir, file) = token_dir(&text);
        let (status, stderr) = refused(dir, &["--auth-tokens", file.to_str().unwrap()]);
        assert!(!status.success(), "{text:?}: started");
        assert!(
            stderr.contains("token file") && stderr.contains(line),
            "{text:?}: {stderr}"
        );
        assert!(!stderr.contains("short-secret"), "{stderr}");
        assert_no_token_in(&stderr);
    }
    let (status, stderr) = refused(
        tempfile::tempdir().unwrap(),
        &["--auth-tokens", "/nonexistent/nianbao-tokens"],
    );
    assert!(!status.success());
    assert!(stderr.contains("/nonexistent/nianbao-tokens"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_single_auth_token_has_every_scope() {
    let server = Server::start(&["--auth-token", ALL]);
    let channel = server.channel().await;
    ingest_one(&channel, Some(ALL)).await.unwrap();
    list_reports(&channel, Some(ALL)).await.unwrap();
    assert_eq!(
        code(call_path(&channel, ADMIN_PATH, Some(ALL)).await),
        Code::Unimplemented
    );
    for token in [None, Some(WRONG)] {
        assert_eq!(
            code(list_reports(&channel, token).await),
            Code::Unauthenticated
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_single_token_and_a_token_file_work_together() {
    let (dir, file) = token_dir(&format!("{READER} read\n"));
    let file = file.to_str().unwrap();
    let server = Server::start_in(dir, &["--auth-token", ALL, "--auth-tokens", file], &[]);
    let channel = server.channel().await;
    ingest_one(&channel, Some(ALL)).await.unwrap();
    list_reports(&channel, Some(READER)).await.unwrap();
    assert_denied(ingest_one(&channel, Some(READER)).await, "ingest");
    assert_no_token_in(&server.logs());
}
