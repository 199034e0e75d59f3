//! Power loss: what the operating system had not synced is lost too. The server runs with
//! tests/powerloss/shim.c preloaded, which records the durable state of the data directory
//! (a file's content as of its last fsync, a directory's entries as of the directory's last
//! fsync). After SIGKILL at a random moment the directory is rebuilt from that record alone,
//! as a disk would hold it after the power went, and the server restarts on it: every
//! acknowledged report must be there. NIANBAO_POWERLOSS_TRIALS sets the trials (default 30).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common;

use common::{crash_docs, stream_until_killed, verify_store, Rng, Serve, Served};

fn build_shim(out: &Path) -> PathBuf {
    let so = out.join("powerloss-shim.so");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/powerloss/shim.c");
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-O2", "-o"])
        .arg(&so)
        .arg(&src)
        .args(["-ldl", "-lpthread"])
        .status()
        .expect("a C compiler (cc) to build the power-loss shim");
    assert!(status.success(), "building {}", src.display());
    so
}

fn spawn(dir: &Path, shim: Option<(&Path, &Path)>) -> Served {
    let mut c = Serve::new(dir)
        // Checkpoints every few reports: restarts load one and replay the rest.
        .args(["--index-checkpoint-reports", "7"])
        .stderr(Stdio::inherit());
    if let Some((so, image)) = shim {
        c = c
            .env("LD_PRELOAD", so)
            .env("NIANBAO_PL_DIR", dir)
            .env("NIANBAO_PL_IMAGE", image);
    }
    c.start()
}

/// The directory as the disk holds it after power loss: `image`'s record of `rel`.
fn rebuild(image: &Path, rel: &str, into: &Path) {
    std::fs::create_dir_all(into).unwrap();
    let key = if rel.is_empty() {
        ".".to_owned()
    } else {
        rel.replace('/', "%")
    };
    let Ok(names) = std::fs::read_to_string(image.join("dir").join(format!("{key}.names"))) else {
        return; // created, never synced: empty
    };
    for line in names.lines() {
        let mut f = line.split('\t');
        let (Some(name), Some(inode), Some(kind)) = (f.next(), f.next(), f.next()) else {
            panic!("bad names line {line:?}");
        };
        let child_rel = if rel.is_empty() {
            name.to_owned()
        } else {
            format!("{rel}/{name}")
        };
        if kind == "d" {
            rebuild(image, &child_rel, &into.join(name));
        } else {
            // Named durably; its content as of its last sync, or nothing if never synced.
            let content = std::fs::read(image.join("inode").join(inode)).unwrap_or_default();
            std::fs::write(into.join(name), content).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_reports_survive_power_loss() {
    let trials: u64 = std::env::var("NIANBAO_POWERLOSS_TRIALS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let mut rng = Rng::from_env();
    let work = tempfile::tempdir().unwrap();
    let shim = build_shim(work.path());
    let mut dir = work.path().join("data-0");
    std::fs::create_dir_all(&dir).unwrap();
    let mut acked: Vec<String> = Vec::new();
    let mut stored = 0;
    for trial in 0..trials {
        let image = work.path().join(format!("image-{trial}"));
        let mut server = spawn(&dir, Some((&shim, &image)));
        let kill_after = rng.below(80) as usize;
        let delay = Duration::from_micros(rng.below(3000));
        acked.extend(
            stream_until_killed(&mut server, crash_docs(trial, 100), kill_after, delay).await,
        );
        // The power goes: only what the record holds is on the disk.
        let next = work.path().join(format!("data-{}", trial + 1));
        rebuild(&image, "", &next);
        dir = next;

        // Restarted on the rebuilt directory, on a port of its own.
        let server = spawn(&dir, None);
        stored = verify_store(
            server.channel().await,
            &acked,
            &format!("power loss {trial}"),
        )
        .await;
    }
    eprintln!(
        "{trials} power-loss trials: {} acknowledgements, {stored} reports stored, none lost",
        acked.len()
    );
    assert!(!acked.is_empty());
}
