//! Disk full: the data directory on a 32 MiB tmpfs. The server must refuse new documents
//! with a clear status once the disk is full, acknowledge nothing it did not store, lose
//! nothing already stored, keep answering queries, and take documents again once space
//! returns (after growing the filesystem, with at most a restart). Needs root for mount.

use std::path::Path;
use std::process::Command;

use crate::common;

use common::{connect, verify_store, Serve, Served};
use nianbao::pb::ingest_service_client::IngestServiceClient;
use nianbao::pb::{Document, Outcome};

fn mount(dir: &Path, size: &str, remount: bool) {
    let opts = if remount {
        format!("remount,size={size}")
    } else {
        format!("size={size}")
    };
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &opts, "tmpfs"])
        .arg(dir)
        .status()
        .expect("mount (this test needs root and tmpfs)");
    assert!(
        status.success(),
        "mount -o {opts} failed: this test needs root"
    );
}

struct Unmount<'a>(&'a Path);

impl Drop for Unmount<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0).status();
    }
}

fn spawn(dir: &Path) -> Served {
    Serve::new(dir).args(["--min-free-mb", "4"]).start()
}

/// Distinct, incompressible-ish documents: a corpus report plus 16 KB of varied digits.
fn doc(i: usize) -> Document {
    let base = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/corpus/beijing-chaoyang-district-2022.txt"),
    )
    .unwrap();
    let mut content = base;
    let mut x = (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    content.extend_from_slice(b"\n\xe9\x99\x84\xef\xbc\x9a");
    for _ in 0..16_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        content.push(b'0' + (x % 10) as u8);
    }
    Document {
        content,
        tag: i.to_string(),
        ..Default::default()
    }
}

/// Sends documents `from..to` on one stream; returns the acknowledged ids and the status
/// that ended the stream early, if any.
async fn send(port: u16, from: usize, to: usize) -> (Vec<String>, Option<tonic::Status>) {
    let mut client = IngestServiceClient::new(connect(port).await);
    let docs: Vec<Document> = (from..to).map(doc).collect();
    let mut answers = client
        .ingest(tokio_stream::iter(docs))
        .await
        .unwrap()
        .into_inner();
    let mut acked = Vec::new();
    loop {
        match answers.message().await {
            Ok(Some(r)) => {
                assert!(
                    r.outcome == Outcome::Stored as i32
                        || r.outcome == Outcome::Revision as i32
                        || r.outcome == Outcome::Rendition as i32,
                    "{r:?}"
                );
                acked.push(r.id);
            }
            Ok(None) => return (acked, None),
            Err(status) => return (acked, Some(status)),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_refuses_clearly_loses_nothing_and_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fs");
    std::fs::create_dir_all(&dir).unwrap();
    mount(&dir, "32m", false);
    let _unmount = Unmount(&dir);
    let data = dir.join("data");

    let server = spawn(&data);
    let port = server.port;
    let mut acked = Vec::new();
    let mut refused = None;
    let mut next = 0;
    // Fill the disk: 30 documents a stream until one stream is refused.
    for _ in 0..200 {
        let (ids, status) = send(port, next, next + 30).await;
        next += 30;
        acked.extend(ids);
        if let Some(s) = status {
            refused = Some(s);
            break;
        }
    }
    let refused = refused.expect("32 MiB never filled up");
    eprintln!(
        "disk full after {} acknowledged documents: {:?} {}",
        acked.len(),
        refused.code(),
        refused.message()
    );
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
    assert!(
        refused.message().contains("disk full"),
        "{}",
        refused.message()
    );
    // Still full: refused again, clearly, and queries are still answered.
    let (more, status) = send(port, next, next + 5).await;
    next += 5;
    assert!(
        more.is_empty()
            || status.is_none()
            || status.as_ref().unwrap().code() == tonic::Code::ResourceExhausted
    );
    acked.extend(more);
    verify_store(connect(port).await, &acked, "while the disk is full").await;

    // Space returns.
    mount(&dir, "256m", true);
    let (more, status) = send(port, next, next + 20).await;
    let recovered_live = status.is_none() && more.len() == 20;
    acked.extend(more);
    next += 20;
    if !recovered_live {
        eprintln!("not taking documents after space returned ({status:?}); restarting");
    }
    // SIGKILL, and a restart on the same data, on a port of its own.
    drop(server);
    let server = spawn(&data);
    let port = server.port;
    let (more, status) = send(port, next, next + 20).await;
    assert!(
        status.is_none(),
        "after space returned and a restart: {status:?}"
    );
    assert_eq!(more.len(), 20);
    acked.extend(more);
    let stored = verify_store(connect(port).await, &acked, "after space returned").await;
    eprintln!(
        "recovered {} a restart; {stored} reports stored, every acknowledged one among them",
        if recovered_live { "without" } else { "after" }
    );
}
