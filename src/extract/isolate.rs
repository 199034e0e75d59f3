//! Extraction in a worker process under the operating system's limits.
//!
//! A PDF, a Word or Excel file, an OFD, an image (anything but text or HTML of a few MiB)
//! is extracted by a third-party library whose memory and time no caller can bound from
//! outside: one content stream may inflate to gigabytes, one page may hold millions of
//! operators. So the server hands such a document to a child process, `nianbao
//! extract-worker`, started for that document with an address-space limit (`RLIMIT_AS`), a
//! CPU-time limit (`RLIMIT_CPU`) and a wall-clock deadline, each a base plus a share per byte
//! of the document ([`Budget`]). The child reads the bytes on stdin and writes the extracted
//! text on stdout ([`answer`]); a child that breaks a limit is killed by the kernel (or by the
//! deadline), and the document alone is rejected with the budget it broke. Nothing a
//! document does in the child reaches the server's memory, and a crash of a library is the
//! child's.
//!
//! Also here: [`run`], one program run with its input on stdin under a deadline, for the
//! workers and for the OCR engine's tesseract and poppler runs.

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Extracted, Isolate, Kind, Limits, Note, Unreadable};
use crate::model::finding::Code;

/// The defaults of [`Budget`] (and of the command line's flags for it).
pub const DEFAULT_MEMORY_BYTES: u64 = 256 << 20;
pub const DEFAULT_CPU_SECS: u64 = 5;
/// With OCR, the worker also decodes page images (up to 512 MiB, `ocr::MAX_DECODED`), and
/// tesseract, which inherits the worker's limits, takes 3–10 s of CPU a page: a document
/// read with OCR on gets this much more memory and CPU, and its deadline this much more time.
pub const OCR_MEMORY_BYTES: u64 = 768 << 20;
pub const OCR_CPU_SECS: u64 = 120;
pub const OCR_WALL: Duration = Duration::from_secs(30 * 60);

/// What one document's extraction may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Address space of the worker: this, plus [`Budget::MEMORY_PER_BYTE`] times the
    /// document's size (its bytes are held while they are read).
    pub memory_bytes: u64,
    /// CPU seconds of the worker: this, plus one per MiB of the document.
    pub cpu_secs: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            memory_bytes: DEFAULT_MEMORY_BYTES,
            cpu_secs: DEFAULT_CPU_SECS,
        }
    }
}

impl Budget {
    const MEMORY_PER_BYTE: u64 = 3;

    /// The address space a document of `size` bytes is extracted in.
    pub fn memory(&self, size: usize) -> u64 {
        self.memory_bytes
            .saturating_add((size as u64).saturating_mul(Self::MEMORY_PER_BYTE))
    }

    /// The CPU seconds a document of `size` bytes may take.
    pub fn cpu(&self, size: usize) -> u64 {
        self.cpu_secs.saturating_add((size as u64) >> 20).max(1)
    }

    /// The wall-clock time it may take: twice its CPU time, and five seconds to start (a
    /// worker waiting for a core is not stuck).
    pub fn wall(&self, size: usize) -> Duration {
        Duration::from_secs(self.cpu(size).saturating_mul(2).saturating_add(5))
    }
}

/// Worker processes of this executable, one per document.
#[derive(Debug, Clone)]
pub struct Workers {
    exe: PathBuf,
    budget: Budget,
    ocr: bool,
}

impl Workers {
    /// Workers of the running executable (`nianbao extract-worker`), with OCR in them when
    /// `ocr` (the worker builds its own engine).
    pub fn new(budget: Budget, ocr: bool) -> std::io::Result<Workers> {
        Ok(Workers {
            exe: std::env::current_exe()?,
            budget,
            ocr,
        })
    }

    /// The worker's address-space limit, CPU seconds and deadline for a document of `size`
    /// bytes.
    fn limits(&self, size: usize) -> (u64, u64, Duration) {
        let (memory, cpu, wall) = (
            self.budget.memory(size),
            self.budget.cpu(size),
            self.budget.wall(size),
        );
        if self.ocr {
            (
                memory.saturating_add(OCR_MEMORY_BYTES),
                cpu.saturating_add(OCR_CPU_SECS),
                wall.saturating_add(OCR_WALL),
            )
        } else {
            (memory, cpu, wall)
        }
    }
}

impl Isolate for Workers {
    fn extract(
        &self,
        bytes: &[u8],
        content_type: &str,
        limits: &Limits,
    ) -> Result<Extracted, Unreadable> {
        let (memory, cpu, wall) = self.limits(bytes.len());
        let mut cmd = Command::new(&self.exe);
        cmd.arg("extract-worker")
            .args(["--content-type", content_type])
            .args([
                "--limits",
                &serde_json::to_string(limits).unwrap_or_default(),
            ])
            .env("RUST_LOG", "off")
            // The address-space limit counts what the allocator keeps mapped: glibc's
            // arenas (one here), and the address space jemalloc, the binary's allocator
            // (src/main.rs), keeps for reuse once freed unless told to give it back. With
            // it kept, the operator flood of tests/suite/binary.rs broke the 256 MiB budget
            // it stays under with glibc.
            .env("MALLOC_ARENA_MAX", "1")
            .env("_RJEM_MALLOC_CONF", "retain:false");
        if self.ocr {
            cmd.arg("--ocr");
        }
        // SAFETY: the closure runs in the forked child before exec and only calls
        // setrlimit, which is async-signal-safe; it allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                limit(libc::RLIMIT_AS, memory, memory)?;
                // The soft limit sends SIGXCPU; the hard one, a second later, SIGKILL.
                limit(libc::RLIMIT_CPU, cpu, cpu + 1)?;
                limit(libc::RLIMIT_CORE, 0, 0)
            });
        }
        let ran = run(&mut cmd, bytes, wall, MAX_ANSWER_BYTES)
            .map_err(|e| Unreadable::new(format!("提取进程无法运行：{e}")))?;
        if ran.status.success() {
            return read_answer(&ran.stdout);
        }
        Err(Unreadable::new(broken_budget(&ran, memory, cpu)))
    }
}

/// The largest answer a worker writes: text of the limits' glyphs and pages, and then some.
const MAX_ANSWER_BYTES: usize = 256 << 20;

fn limit(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> std::io::Result<()> {
    let value = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: setrlimit reads the struct we pass; no memory is shared.
    if unsafe { libc::setrlimit(resource, &value) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Why a worker that did not answer stopped, in the words of the budget it broke.
fn broken_budget(ran: &Ran, memory: u64, cpu: u64) -> String {
    let mib = memory >> 20;
    if ran.timed_out {
        return format!(
            "提取超出时间预算（{} 秒），已中止：文件结构异常或过于复杂",
            ran.waited.as_secs()
        );
    }
    let stderr = String::from_utf8_lossy(&ran.stderr);
    let out_of_memory = stderr.contains("memory allocation of") || stderr.contains("out of memory");
    match ran.status.signal() {
        Some(libc::SIGXCPU) | Some(libc::SIGKILL) => {
            format!("提取超出 CPU 时间预算（{cpu} 秒），已中止：文件结构异常或过于复杂")
        }
        _ if out_of_memory => {
            format!("提取超出内存预算（{mib} MiB），已中止：文件解压或展开后过大")
        }
        Some(signal) => format!("提取进程异常退出（信号 {signal}），已拒绝该文件"),
        None => {
            let last = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            format!("提取进程异常退出（{}）：{last}", ran.status)
        }
    }
}

/// What a worker writes on stdout: the extraction or why there is none.
#[derive(Serialize, Deserialize)]
enum Answer {
    Read {
        text: String,
        kind: String,
        ocr: bool,
        notes: Vec<(String, String)>,
    },
    Unreadable(String),
}

/// A worker's answer for `result`, as it writes it.
pub fn answer(result: Result<Extracted, Unreadable>) -> Vec<u8> {
    let answer = match result {
        Ok(x) => Answer::Read {
            text: x.text,
            kind: x.kind.name().to_owned(),
            ocr: x.ocr,
            notes: x
                .notes
                .into_iter()
                .map(|n| (n.code.as_str().to_owned(), n.message))
                .collect(),
        },
        Err(why) => Answer::Unreadable(why.reason),
    };
    serde_json::to_vec(&answer).unwrap_or_default()
}

fn read_answer(stdout: &[u8]) -> Result<Extracted, Unreadable> {
    let garbled = || Unreadable::new("提取进程的回答无法读取，已拒绝该文件");
    match serde_json::from_slice::<Answer>(stdout).map_err(|_| garbled())? {
        Answer::Read {
            text,
            kind,
            ocr,
            notes,
        } => Ok(Extracted {
            text,
            kind: Kind::from_content_type(&kind).ok_or_else(garbled)?,
            ocr,
            notes: notes
                .into_iter()
                .filter_map(|(code, message)| {
                    Some(Note {
                        code: Code::parse(&code)?,
                        message,
                    })
                })
                .collect(),
        }),
        Answer::Unreadable(reason) => Err(Unreadable::new(reason)),
    }
}

/// How a program run by [`run`] ended.
#[derive(Debug)]
pub struct Ran {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    /// Its last 64 KiB at most.
    pub stderr: Vec<u8>,
    /// Killed at the deadline.
    pub timed_out: bool,
    pub waited: Duration,
}

/// Runs `cmd` with `input` on its stdin, its stdout kept up to `max_output` bytes (the rest
/// read and dropped), and kills it at `deadline`. Errors only when it cannot be started.
pub fn run(
    cmd: &mut Command,
    input: &[u8],
    deadline: Duration,
    max_output: usize,
) -> std::io::Result<Ran> {
    const MAX_STDERR: u64 = 64 << 10;
    let started = std::time::Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let (mut stdin, mut stdout, mut stderr) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let pid = child.id() as libc::pid_t;
    let (done, watched) = mpsc::channel::<()>();
    let (stdout_bytes, stderr_bytes, timed_out) = std::thread::scope(|s| {
        s.spawn(move || {
            // A program that exits early closes the pipe; its status tells why.
            if let Some(stdin) = stdin.as_mut() {
                let _ = stdin.write_all(input);
            }
            drop(stdin);
        });
        let errors = s.spawn(move || {
            let mut buf = Vec::new();
            if let Some(stderr) = stderr.as_mut() {
                let _ = stderr.take(MAX_STDERR).read_to_end(&mut buf);
                let _ = std::io::copy(stderr, &mut std::io::sink());
            }
            buf
        });
        let watchdog = s.spawn(move || match watched.recv_timeout(deadline) {
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // The child is not reaped before this thread is joined, so the pid is still
                // ours (at worst a zombie) when it is signalled.
                // SAFETY: kill only sends a signal.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                true
            }
            _ => false,
        });
        let mut out = Vec::new();
        if let Some(stdout) = stdout.as_mut() {
            let _ = stdout.take(max_output as u64).read_to_end(&mut out);
            let _ = std::io::copy(stdout, &mut std::io::sink());
        }
        drop(done);
        let timed_out = watchdog.join().unwrap_or(false);
        (out, errors.join().unwrap_or_default(), timed_out)
    });
    let status = child.wait()?;
    Ok(Ran {
        status,
        stdout: stdout_bytes,
        stderr: stderr_bytes,
        timed_out,
        waited: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_grow_with_the_document() {
        let b = Budget::default();
        assert_eq!(b.memory(0), 256 << 20);
        assert_eq!(b.memory(10 << 20), (256 << 20) + (30 << 20));
        assert_eq!(b.cpu(0), 5);
        assert_eq!(b.cpu(60 << 20), 65);
        assert_eq!(b.wall(0), Duration::from_secs(15));
    }

    #[test]
    fn an_answer_reads_back() {
        let x = Extracted {
            text: "一、总体情况\n".into(),
            kind: Kind::Pdf,
            ocr: true,
            notes: vec![Note {
                code: Code::TableMissing,
                message: "第 3 页未读".into(),
            }],
        };
        let back = read_answer(&answer(Ok(x))).unwrap();
        assert_eq!(
            (back.text.as_str(), back.kind, back.ocr),
            ("一、总体情况\n", Kind::Pdf, true)
        );
        assert_eq!(back.notes[0].code, Code::TableMissing);
        let err = read_answer(&answer(Err(Unreadable::new("加密")))).unwrap_err();
        assert_eq!(err.reason, "加密");
        assert!(read_answer(b"{").is_err());
    }

    /// A worker names the kind it read; every kind's name must read back.
    #[test]
    fn every_kind_name_reads_back() {
        for kind in [
            Kind::Text,
            Kind::Html,
            Kind::Pdf,
            Kind::Docx,
            Kind::Doc,
            Kind::Xlsx,
            Kind::Xls,
            Kind::Image,
            Kind::Rtf,
            Kind::Mhtml,
            Kind::Ofd,
        ] {
            assert_eq!(Kind::from_content_type(kind.name()), Some(kind), "{kind:?}");
        }
    }

    #[test]
    fn run_kills_at_the_deadline_and_keeps_output_bounded() {
        let ran = run(
            Command::new("sh").args(["-c", "head -c 100000 /dev/zero; sleep 30"]),
            b"",
            Duration::from_millis(300),
            1000,
        )
        .unwrap();
        assert!(ran.timed_out);
        assert_eq!(ran.stdout.len(), 1000);
        let ran = run(
            &mut Command::new("cat"),
            b"abc",
            Duration::from_secs(30),
            10,
        )
        .unwrap();
        assert!(ran.status.success() && !ran.timed_out);
        assert_eq!(ran.stdout, b"abc");
    }
}
