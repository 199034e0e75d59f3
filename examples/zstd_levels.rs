//! zstd cost and ratio per stored document and report, by level, over the real corpus (a
//! measurement aid for the store's record): cargo run --release --example zstd_levels
use prost::Message;
use std::time::Instant;

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/real");
    let docs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let reports: Vec<Vec<u8>> = docs
        .iter()
        .map(|d| nianbao::parse_document(d, &Default::default()).encode_to_vec())
        .collect();
    for (what, set) in [("documents", &docs), ("reports", &reports)] {
        let raw: usize = set.iter().map(Vec::len).sum();
        for level in [-3, -1, 1, 2, 3] {
            let mut c = zstd::bulk::Compressor::new(level).unwrap();
            let rounds = 20;
            let mut out = 0;
            let t = Instant::now();
            for _ in 0..rounds {
                out = set
                    .iter()
                    .map(|d| c.compress(d).unwrap().len())
                    .sum::<usize>();
            }
            let us = t.elapsed().as_secs_f64() * 1e6 / (rounds * set.len()) as f64;
            println!(
                "{what:>9} level {level:>2}: {:>6.0} B -> {:>6.0} B ({:.2}x), {us:.1} µs each, {:.0} MB/s",
                raw as f64 / set.len() as f64,
                out as f64 / set.len() as f64,
                raw as f64 / out as f64,
                raw as f64 * rounds as f64 / t.elapsed().as_secs_f64() / 1e6
            );
        }
    }
}
