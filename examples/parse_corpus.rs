//! Parse + validate on the system benchmark's generated corpus alone (benches/system/gen.rs),
//! without the ingest, the server or DuckDB: the "one core" figure of BENCHMARKS.md in seconds.
//!
//!     cargo run --release --example parse_corpus -- time [N] [ROUNDS]   # MB/s and µs a report
//!     cargo run --release --example parse_corpus -- dump [N] DIR        # every report's Debug form
//!     cargo run --release --example parse_corpus -- assess [N] [ROUNDS] # parse + compliance basis
//!     cargo run --release --example parse_corpus -- dump-assessed [N] DIR
//!
//! `time` parses reports 0..N (3,000 by default, the system benchmark's sample) ROUNDS times
//! (5) after one warm-up round and prints each round and the best. `dump` writes report `i`'s
//! parsed Report as `DIR/i.txt`, so two builds' outputs can be compared byte for byte.
//! `assess` and `dump-assessed` do the same through `Reader::read_assessed`, which also makes
//! the compliance basis, as the server's parse threads do at ingest.

#[path = "../benches/system/gen.rs"]
#[allow(dead_code)]
mod gen;

use std::path::Path;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "time".to_owned());
    let n: usize = args.next().map_or(3000, |s| s.parse().expect("N"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (patterns, _) = gen::patterns(&root.join("tests/corpus"));
    let docs: Vec<gen::Generated> = (0..n).map(|i| gen::report(&patterns, i)).collect();
    let hints: Vec<nianbao::Hints> = docs.iter().map(gen::Generated::hints).collect();
    match mode.as_str() {
        "time" | "assess" => {
            let rounds: usize = args.next().map_or(5, |s| s.parse().expect("ROUNDS"));
            let bytes: usize = docs.iter().map(|d| d.content.len()).sum();
            let reader = nianbao::Reader::default();
            let round = || {
                let t = Instant::now();
                for (d, h) in docs.iter().zip(&hints) {
                    if mode == "assess" {
                        std::hint::black_box(reader.read_assessed(&d.content, h));
                    } else {
                        std::hint::black_box(nianbao::parse_document(&d.content, h));
                    }
                }
                t.elapsed().as_secs_f64()
            };
            round();
            let mut best = f64::MAX;
            for r in 0..rounds {
                let secs = round();
                best = best.min(secs);
                println!(
                    "round {r}: {:.1} MB/s, {:.1} µs a report",
                    bytes as f64 / secs / 1e6,
                    secs / n as f64 * 1e6
                );
            }
            println!(
                "best of {rounds}: {:.1} MB/s, {:.1} µs a report ({n} reports, {:.1} MB)",
                bytes as f64 / best / 1e6,
                best / n as f64 * 1e6,
                bytes as f64 / 1e6
            );
        }
        "dump" => {
            let dir = std::path::PathBuf::from(args.next().expect("DIR"));
            std::fs::create_dir_all(&dir).expect("create DIR");
            for (i, (d, h)) in docs.iter().zip(&hints).enumerate() {
                let report = nianbao::parse_document(&d.content, h);
                std::fs::write(dir.join(format!("{i}.txt")), format!("{report:#?}\n"))
                    .expect("write");
            }
        }
        "dump-assessed" => {
            let dir = std::path::PathBuf::from(args.next().expect("DIR"));
            std::fs::create_dir_all(&dir).expect("create DIR");
            let reader = nianbao::Reader::default();
            for (i, (d, h)) in docs.iter().zip(&hints).enumerate() {
                let (report, basis) = reader.read_assessed(&d.content, h);
                std::fs::write(
                    dir.join(format!("{i}.txt")),
                    format!("{report:#?}\n{basis:#?}\n"),
                )
                .expect("write");
            }
        }
        other => panic!("unknown mode {other}: time, assess, dump or dump-assessed"),
    }
}
