//! Fixtures shared by the end-to-end tests: servers in-process and as a child process (on
//! port 0, each saying where it listens), and the public documents of ../shared.
#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nianbao::server::{run, ServerOptions};
use nianbao::store::Store;
use tonic::transport::Channel;

/// A channel to 127.0.0.1:`port`, waiting up to five seconds for the server to listen.
pub async fn connect(port: u16) -> Channel {
    for _ in 0..200 {
        if let Ok(c) = Channel::from_shared(format!("http://127.0.0.1:{port}"))
            .unwrap()
            .connect()
            .await
        {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no server on port {port}");
}

/// A server in this process on `listener`, with a store in `dir`; send on the returned
/// sender to stop it.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    dir: &Path,
    options: ServerOptions,
) -> tokio::sync::oneshot::Sender<()> {
    let store = Store::open(dir).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        run(listener, store, options, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    stop
}

/// [`serve_on`] a fresh port: returns "127.0.0.1:port" and the stop sender.
pub async fn serve(
    dir: &Path,
    options: ServerOptions,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    (addr, serve_on(listener, dir, options).await)
}

/// After a crash: every acknowledged report is stored and readable with its text, and
/// Aggregate's sums equal a recomputation from the stored reports themselves (read one by
/// one with GetReport). Returns how many reports are stored. Panics with `what` on a loss.
pub async fn verify_store(channel: Channel, acked: &[String], what: &str) -> usize {
    use nianbao::pb::report_service_client::ReportServiceClient;
    use nianbao::pb::{AggregateRequest, GetReportRequest, ListReportsRequest};
    use std::collections::BTreeMap;

    let mut q = ReportServiceClient::new(channel);
    for id in acked {
        let got = q
            .get_report(GetReportRequest {
                id: id.clone(),
                include_text: true,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{what}: acknowledged {id} lost: {e}"))
            .into_inner();
        assert!(
            got.report.is_some() && !got.text.is_empty(),
            "{what}: {id} unreadable"
        );
    }
    const METRICS: [&str; 3] = [
        "applications.new_received.total",
        "applications.closed_total.total",
        "review.total",
    ];
    // Every revision, not only the latest: every stored report is recomputed.
    let every = nianbao::pb::Filter {
        all_revisions: true,
        ..Default::default()
    };
    let mut want: BTreeMap<String, [f64; 3]> = BTreeMap::new();
    let mut token = String::new();
    let mut stored = 0;
    loop {
        let page = q
            .list_reports(ListReportsRequest {
                page_size: 500,
                page_token: token,
                filter: Some(every.clone()),
            })
            .await
            .unwrap_or_else(|e| panic!("{what}: ListReports: {e}"))
            .into_inner();
        for summary in &page.reports {
            stored += 1;
            let report = q
                .get_report(GetReportRequest {
                    id: summary.id.clone(),
                    include_text: false,
                    ..Default::default()
                })
                .await
                .unwrap_or_else(|e| panic!("{what}: listed {} unreadable: {e}", summary.id))
                .into_inner()
                .report
                .unwrap();
            let year = report.year.map_or_else(String::new, |y| y.to_string());
            let sums = want.entry(year).or_default();
            for (k, m) in METRICS.iter().enumerate() {
                let i = nianbao::catalogue::index_of(m).unwrap();
                sums[k] += nianbao::catalogue::get(&report, i).unwrap_or(0.0);
            }
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let got = q
        .aggregate(AggregateRequest {
            metrics: METRICS.iter().map(|m| m.to_string()).collect(),
            group_by: vec!["year".into()],
            sums_only: true,
            filter: Some(every),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("{what}: Aggregate: {e}"))
        .into_inner();
    let got: BTreeMap<String, [f64; 3]> = got
        .groups
        .iter()
        .map(|g| {
            (
                g.key[0].clone(),
                [g.sums[0].sum, g.sums[1].sum, g.sums[2].sum],
            )
        })
        .collect();
    assert_eq!(
        got, want,
        "{what}: aggregates differ from the stored reports"
    );
    assert_eq!(got.is_empty(), stored == 0);
    stored
}

/// A small deterministic random generator (xorshift), seeded per run and printed, so a
/// failing trial can be replayed with NIANBAO_SEED.
pub struct Rng(pub u64);

impl Rng {
    pub fn from_env() -> Rng {
        let seed = std::env::var("NIANBAO_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("seed {seed} (set NIANBAO_SEED={seed} to replay)");
        Rng(seed)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Documents for the crash tests: corpus reports, each made distinct by a trailing line;
/// the repeats of one corpus report are revisions of its body and year.
pub fn crash_docs(trial: u64, n: usize) -> Vec<nianbao::pb::Document> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let texts: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    (0..n)
        .map(|i| {
            let mut content = texts[i % texts.len()].clone();
            content.extend_from_slice(format!("\n附：上传批次 {trial}-{i}\n").as_bytes());
            nianbao::pb::Document {
                content,
                tag: format!("{trial}-{i}"),
                ..Default::default()
            }
        })
        .collect()
}

/// Streams `docs` and kills the server after `kill_after` answers (or when the stream ends);
/// returns the ids it acknowledged as durable.
pub async fn stream_until_killed(
    server: &mut Served,
    docs: Vec<nianbao::pb::Document>,
    kill_after: usize,
    extra_delay: Duration,
) -> Vec<String> {
    let channel = server.channel().await;
    let (tx, rx) = tokio::sync::mpsc::channel::<nianbao::pb::Document>(16);
    tokio::spawn(async move {
        for d in docs {
            if tx.send(d).await.is_err() {
                break;
            }
        }
    });
    let mut client = nianbao::pb::ingest_service_client::IngestServiceClient::new(channel);
    let mut acked = Vec::new();
    let mut stream = client
        .ingest(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    let mut seen = 0;
    while seen < kill_after {
        match stream.message().await {
            Ok(Some(r)) => {
                if r.outcome == nianbao::pb::Outcome::Stored as i32
                    || r.outcome == nianbao::pb::Outcome::Revision as i32
                    || r.outcome == nianbao::pb::Outcome::Duplicate as i32
                {
                    acked.push(r.id);
                }
                seen += 1;
            }
            _ => break,
        }
    }
    // Kill between answers, or a little later, while the next batch is being written.
    tokio::time::sleep(extra_delay).await;
    server.kill(); // SIGKILL
    acked
}

/// How long a `nianbao serve` child may take to say where it listens (a restart after a kill
/// replays sled's log first).
const ANNOUNCE_PATIENCE: Duration = Duration::from_secs(120);

/// What `nianbao serve` prints on stdout, once, when its port and database are ready.
const ANNOUNCEMENT: &str = "nianbao serving on ";

/// `nianbao serve` to start as a child process, on port 0 unless told otherwise, with its data
/// in a directory; quiet (warnings only, no output kept) unless told otherwise. The real binary,
/// for the tests that kill it, signal it, fill its disk or read its logs.
pub struct Serve {
    data_dir: PathBuf,
    listen: String,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    stderr: Option<Stdio>,
}

impl Serve {
    /// `nianbao serve --listen 127.0.0.1:0 --data-dir DATA_DIR`.
    pub fn new(data_dir: &Path) -> Serve {
        Serve {
            data_dir: data_dir.to_owned(),
            listen: "127.0.0.1:0".into(),
            args: Vec::new(),
            env: Vec::new(),
            stderr: None,
        }
    }

    /// Listens on `addr` instead of port 0: for a restart that clients already running must
    /// find where they left the server.
    pub fn listen(mut self, addr: &str) -> Serve {
        self.listen = addr.to_owned();
        self
    }

    /// More arguments after the usual ones.
    pub fn args<I, S>(mut self, args: I) -> Serve
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// An environment variable for the server (RUST_LOG overrides the quiet default).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Serve {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Where the server's log goes (a file, or the test's stderr with `Stdio::inherit()`).
    pub fn stderr(mut self, stderr: impl Into<Stdio>) -> Serve {
        self.stderr = Some(stderr.into());
        self
    }

    /// Starts the server and waits for it to say where it listens; panics if it exits first.
    pub fn start(self) -> Served {
        let data_dir = self.data_dir.clone();
        self.try_start().unwrap_or_else(|status| {
            panic!(
                "nianbao serve on {} exited before serving: {status}",
                data_dir.display()
            )
        })
    }

    /// Starts the server and waits for it to say where it listens, or for it to exit (the
    /// exit status: a start that must fail).
    pub fn try_start(self) -> Result<Served, ExitStatus> {
        let mut c = Command::new(env!("CARGO_BIN_EXE_nianbao"));
        c.args(["serve", "--listen", &self.listen, "--data-dir"])
            .arg(&self.data_dir)
            .args(&self.args)
            .stdout(Stdio::piped());
        // NIANBAO_TEST_SERVER_LOG=<filter> shows the servers' logs at that level (to debug a
        // failing test).
        match std::env::var("NIANBAO_TEST_SERVER_LOG") {
            Ok(filter) => c.env("RUST_LOG", filter),
            Err(_) => c.env("RUST_LOG", "warn").stderr(Stdio::null()),
        };
        c.envs(self.env);
        if let Some(stderr) = self.stderr {
            c.stderr(stderr);
        }
        let mut child = c.spawn().expect("start nianbao serve");
        // A thread reads the announcement, then keeps reading (a server writing to a closed
        // pipe would fail), so that the test can read the rest if it wants.
        let stdout = child.stdout.take().unwrap();
        let rest = Arc::new(Mutex::new(String::new()));
        let (announced, announcement) = std::sync::mpsc::channel();
        std::thread::spawn({
            let rest = rest.clone();
            move || {
                let mut lines = BufReader::new(stdout).lines();
                let Some(Ok(first)) = lines.next() else {
                    return; // exited before serving: the sender drops
                };
                let _ = announced.send(first);
                for line in lines.map_while(Result::ok) {
                    let mut rest = rest.lock().unwrap_or_else(|e| e.into_inner());
                    rest.push_str(&line);
                    rest.push('\n');
                }
            }
        });
        let line = match announcement.recv_timeout(ANNOUNCE_PATIENCE) {
            Ok(line) => line,
            Err(RecvTimeoutError::Disconnected) => return Err(child.wait().unwrap()),
            Err(RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("nianbao serve said nothing for {ANNOUNCE_PATIENCE:?}");
            }
        };
        let addr: SocketAddr = line
            .strip_prefix(ANNOUNCEMENT)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("no address in nianbao serve's first line: {line:?}"));
        let pages = line
            .split("pages and metrics on http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .map(str::to_owned);
        Ok(Served {
            child,
            addr: addr.to_string(),
            port: addr.port(),
            pages,
            stdout: rest,
        })
    }
}

/// A `nianbao serve` child that has said where it listens; killed (SIGKILL) when dropped.
pub struct Served {
    child: Child,
    /// "127.0.0.1:PORT", as announced.
    pub addr: String,
    pub port: u16,
    /// "127.0.0.1:PORT" of the pages and metrics (`--metrics-listen`), as announced.
    pub pages: Option<String>,
    stdout: Arc<Mutex<String>>,
}

impl Served {
    /// "http://127.0.0.1:PORT".
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A channel to the server.
    pub async fn channel(&self) -> Channel {
        connect(self.port).await
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (libc::SIGTERM, SIGHUP, ...) to the server.
    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill sends a signal to our own child; no memory is involved.
        let sent = unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        assert_eq!(sent, 0, "kill -{signal} {}", self.child.id());
    }

    /// SIGKILL, and the exit collected.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the server to exit (after a signal).
    pub fn wait(&mut self) -> ExitStatus {
        self.child.wait().unwrap()
    }

    /// What the server printed on stdout after its announcement, so far.
    pub fn stdout(&self) -> String {
        self.stdout
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The TCP ports the server listens on (its gRPC port, and the metrics port if it was
    /// given --metrics-listen): its sockets (/proc/PID/fd) that the kernel lists as listening.
    pub fn listening_ports(&self) -> Vec<u16> {
        let pid = self.child.id();
        let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .filter_map(|l| {
                let l = l.to_str()?;
                Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
            })
            .collect();
        let mut ports = Vec::new();
        for table in ["tcp", "tcp6"] {
            let text =
                std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
            for line in text.lines().skip(1) {
                let f: Vec<&str> = line.split_whitespace().collect();
                // local_address is f[1] ("0100007F:1F90"), st f[3] (0A: LISTEN), inode f[9].
                if f.len() > 9 && f[3] == "0A" && inodes.iter().any(|i| i == f[9]) {
                    let port = f[1].rsplit(':').next().unwrap();
                    ports.push(u16::from_str_radix(port, 16).unwrap());
                }
            }
        }
        ports
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port that nobody listens on for as long as the socket lives: bound, never listening, so
/// that connections to it are refused (and no other test can take it). `listen` on it later
/// serves on a port that clients were already trying.
pub fn unlistened_port() -> tokio::net::TcpSocket {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    socket
}

/// A file of the corpus shared with other projects (`../shared/corpus/files/NAME`, beside this
/// checkout): the real reports and other public documents, which are not this project's to
/// keep. Panics, saying so, when `../shared` is missing.
pub fn shared_file(name: &str) -> PathBuf {
    let dir = shared_files();
    let file = dir.join(name);
    assert!(
        file.is_file(),
        "{} is missing: these tests read the public documents of ../shared/corpus/files",
        file.display()
    );
    file
}

/// The public documents the tests read from `../shared/corpus/files` (they were once copied
/// into `tests/corpus/files`): real reports, a blank template, a non-report, scans.
pub const SHARED_FILES: [&str; 8] = [
    "blank-template-2021.docx",
    "cjk-font-without-tounicode-gbk.pdf",
    "cjk-font-without-tounicode-ucs2.pdf",
    "hongze-district-2023.pdf",
    "huaian-city-2024.pdf",
    "not-a-report-department-accounts-2024.pdf",
    "scanned-page-huaian-2024-p5-ocr-layer.pdf",
    "scanned-page-huaian-2024-p5.png",
];

/// A corpus file named as under `tests/corpus` ("files/huaian-city-2024.pdf"): the project's
/// own, or, for a document of `files/` the project does not keep, the shared one
/// ([`shared_file`]).
pub fn corpus_path(relative: &str) -> PathBuf {
    let own = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(relative);
    match relative.strip_prefix("files/") {
        Some(name) if !own.exists() => shared_file(name),
        _ => own,
    }
}

/// `../shared/corpus/files` beside this checkout; panics, saying so, when it is missing.
pub fn shared_files() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/files");
    assert!(
        dir.is_dir(),
        "{} is missing: these tests read the public documents (real reports, a template) from \
         ../shared/corpus/files beside the checkout, which CI provides",
        dir.display()
    );
    dir
}

/// `nianbao parse --facts FILE` through the real binary, as JSON.
pub fn parse_facts(file: &Path) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("parse")
        .arg("--facts")
        .arg(file)
        .output()
        .expect("run nianbao");
    assert!(
        out.status.success(),
        "nianbao parse {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("facts JSON")
}

/// The problems (none when right) of reading the file an expected reading names, through
/// `nianbao parse --facts`: facts exact, optional right if given, absent unset, issues reported,
/// agency, year and template.
pub fn check_expected(root: &Path, expected: &Path) -> Vec<String> {
    use serde_json::Value;
    let exp: Value = serde_json::from_str(&std::fs::read_to_string(expected).unwrap()).unwrap();
    let file = exp["file"].as_str().unwrap();
    let own = root.join(file);
    let got = parse_facts(&match file.strip_prefix("files/") {
        Some(name) if !own.exists() => shared_file(name),
        _ => own,
    });
    let facts = &got["facts"];
    let mut problems = Vec::new();
    let num = |v: &Value| v.as_f64();
    for (path, want) in exp["facts"].as_object().unwrap() {
        let want = want.as_f64().unwrap();
        match num(&facts[path]) {
            Some(have) if (have - want).abs() < 1e-9 => {}
            have => problems.push(format!("{file}: fact {path} want {want} got {have:?}")),
        }
    }
    for (path, want) in exp["optional"].as_object().unwrap() {
        if let Some(have) = num(&facts[path]) {
            if (have - want.as_f64().unwrap()).abs() > 1e-9 {
                problems.push(format!("{file}: optional {path} want {want} got {have}"));
            }
        }
    }
    for path in exp["absent"].as_array().unwrap() {
        let path = path.as_str().unwrap();
        if !facts[path].is_null() {
            problems.push(format!(
                "{file}: {path} must be absent, got {}",
                facts[path]
            ));
        }
    }
    for issue in exp["issues"].as_array().unwrap() {
        let prefix = issue["path_prefix"].as_str().unwrap();
        let reported = got["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"].as_str().unwrap().starts_with(prefix));
        if !reported {
            problems.push(format!("{file}: no finding at {prefix} ({})", issue["why"]));
        }
    }
    let agency = got["agency"].as_str().unwrap_or("");
    if !agency.contains(exp["agency_contains"].as_str().unwrap()) {
        problems.push(format!(
            "{file}: agency {agency:?} lacks {}",
            exp["agency_contains"]
        ));
    }
    if got["year"] != exp["year"] {
        problems.push(format!("{file}: year {} != {}", got["year"], exp["year"]));
    }
    if got["template"] != exp["template"] {
        problems.push(format!(
            "{file}: template {} != {}",
            got["template"], exp["template"]
        ));
    }
    problems
}

/// `message` with `authorization: Bearer <token>` when a token is given.
pub fn with_token<T>(message: T, token: Option<&str>) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    if let Some(t) = token {
        r.metadata_mut().insert(
            "authorization",
            tonic::metadata::MetadataValue::try_from(format!("Bearer {t}")).unwrap(),
        );
    }
    r
}

/// A real report of the corpus, as a Document with no hints.
pub fn a_document() -> nianbao::pb::Document {
    let content = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/beijing-chaoyang-district-2022.txt"
    ))
    .unwrap();
    nianbao::pb::Document {
        content,
        ..Default::default()
    }
}

/// A PDF of `objects` (numbered from 1; the first must be the catalog), with its
/// cross-reference table, as a real writer makes one.
#[allow(dead_code)]
pub fn pdf_of(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
    );
    for at in &offsets {
        out.extend_from_slice(format!("{at:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A stream object: `dict` (without /Length) and its `data`.
#[allow(dead_code)]
pub fn pdf_stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut body = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(b"\nendstream");
    body
}

/// A one-font PDF whose pages draw `contents` (each already encoded for `filter`, e.g.
/// "/Filter /FlateDecode" or "").
#[allow(dead_code)]
pub fn pdf_pages(contents: &[Vec<u8>], filter: &str) -> Vec<u8> {
    let n = contents.len();
    let kids: Vec<String> = (0..n).map(|p| format!("{} 0 R", 4 + 2 * p)).collect();
    let mut objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).into_bytes(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ];
    for (p, content) in contents.iter().enumerate() {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {} 0 R \
                 /Resources << /Font << /F1 3 0 R >> >> >>",
                5 + 2 * p
            )
            .into_bytes(),
        );
        objects.push(pdf_stream(filter, content));
    }
    pdf_of(&objects)
}

/// A PDF of `pages` scanned pages and no text: each page draws one grey image of
/// `image_bytes` bytes of noise (which no filter compresses), as a scanner's output is
/// mostly image.
#[allow(dead_code)]
pub fn scanned_pdf(pages: usize, image_bytes: usize) -> Vec<u8> {
    let side = (image_bytes as f64).sqrt() as usize;
    let kids: Vec<String> = (0..pages).map(|p| format!("{} 0 R", 3 + 3 * p)).collect();
    let mut objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            kids.join(" ")
        )
        .into_bytes(),
    ];
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for p in 0..pages {
        let (content, image) = (4 + 3 * p, 5 + 3 * p);
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content} 0 R \
                 /Resources << /XObject << /Im0 {image} 0 R >> >> >>"
            )
            .into_bytes(),
        );
        objects.push(pdf_stream("", b"q 595 0 0 842 0 0 cm /Im0 Do Q"));
        let noise: Vec<u8> = (0..side * side)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        objects.push(pdf_stream(
            &format!(
                "/Type /XObject /Subtype /Image /Width {side} /Height {side} /ColorSpace \
                 /DeviceGray /BitsPerComponent 8"
            ),
            &noise,
        ));
    }
    pdf_of(&objects)
}
