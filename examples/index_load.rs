//! The in-memory index alone at N reports (no gRPC, no sled): build time, aggregate
//! latencies for the benchmark's queries (two of them rankings), snapshot encode/decode time and size.
//! cargo run --release --example index_load -- N
//! With `--snapshot PATH [OUT]`: reads a store's snapshot and prints where its memory goes;
//! with OUT, writes it again there in this build's snapshot version.
use std::time::Instant;

use nianbao::index::{Dim, Index, Order, Ranking, Score, Selection};
use nianbao::pb;

/// A benchmark query: name, metrics, rates, dimensions, filter, order and page.
type Query = (
    &'static str,
    Vec<usize>,
    Vec<usize>,
    Vec<Dim>,
    Selection,
    Ranking,
);

fn main() {
    let first = std::env::args().nth(1);
    if first.as_deref() == Some("--snapshot") {
        let path = std::env::args().nth(2).expect("--snapshot PATH");
        let file = std::fs::File::open(&path).expect("open the snapshot");
        let len = file.metadata().expect("its length").len();
        let t = Instant::now();
        let (index, next_seq) =
            Index::read_from(std::io::BufReader::new(file), len).expect("decode");
        println!(
            "{path}: {len} bytes, {} rows, read in {:.2} s; resident {} MiB",
            index.len(),
            t.elapsed().as_secs_f64(),
            resident_mib()
        );
        print_memory(&index, index.len());
        if let Some(out) = std::env::args().nth(3) {
            let mut file =
                std::io::BufWriter::new(std::fs::File::create(&out).expect("create OUT"));
            index.encode_to(next_seq, &mut file).expect("write OUT");
            std::io::Write::flush(&mut file).expect("write OUT");
            println!("written again to {out}");
        }
        return;
    }
    let n: usize = first.map_or(1_000_000, |s| s.parse().expect("N"));
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut base = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for p in names
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
    {
        let bytes = std::fs::read(p).unwrap();
        base.push(nianbao::parse_document(&bytes, &Default::default()));
    }
    let provinces = ["北京市", "江苏省", "浙江省", "广东省", "四川省", "河南省"];
    let t = Instant::now();
    let mut index = Index::new();
    for i in 0..n {
        let mut r = base[i % base.len()].clone();
        let body = i / 6;
        let province = provinces[body % provinces.len()];
        let city = format!("{}市{}", province, body % 97);
        r.agency = format!("{city}第{body}局");
        r.year = Some(2019 + (i % 6) as i32);
        r.source = format!("https://www.gov.example/xxgk/{body}/{}/ndbg.html", i % 6);
        r.region = Some(pb::Region {
            province: province.into(),
            city,
            ..Default::default()
        });
        // Ids as the store makes them: SHA-256 of the content.
        r.id = nianbao::store::report_id(&(i as u64).to_le_bytes());
        index.insert(&r, i as u64, &[]);
        // Scores as the store sets them: most rows scored, some not.
        let score = (i % 10 != 0).then(|| Score {
            score: (i * 37 % 1000) as f64 / 10.0,
            coverage: 0.5 + (i % 50) as f64 / 100.0,
        });
        index.set_score(i as u32, score);
    }
    println!(
        "built {n} rows in {:.2} s; resident {} MiB",
        t.elapsed().as_secs_f64(),
        resident_mib()
    );
    print_memory(&index, n);
    let metric = nianbao::catalogue::index_of("applications.new_received.total")
        .or_else(|| nianbao::catalogue::index_of("applications.new"))
        .unwrap_or(0);
    let rate = 0;
    let queries: Vec<Query> = vec![
        (
            "everything by year",
            vec![metric],
            vec![],
            vec![Dim::Year],
            Selection::default(),
            Ranking::default(),
        ),
        (
            "top 20 agencies by new applications",
            vec![metric],
            vec![],
            vec![Dim::Agency],
            Selection::default(),
            Ranking {
                order: Order::Sum(0),
                descending: true,
                limit: Some(20),
                ..Default::default()
            },
        ),
        (
            "top 10 cities by disclosure rate, at least 30 reports",
            vec![],
            vec![rate],
            vec![Dim::City],
            Selection::default(),
            Ranking {
                order: Order::Rate(0),
                descending: true,
                limit: Some(10),
                min_reports: 30,
                ..Default::default()
            },
        ),
        (
            "provinces by compliance score (placed)",
            vec![],
            vec![],
            vec![Dim::Province],
            Selection {
                placed: [true, false, false, false],
                ..Default::default()
            },
            Ranking {
                order: Order::Score,
                descending: true,
                min_coverage: 60,
                ..Default::default()
            },
        ),
        (
            "rate by city, one province",
            vec![],
            vec![rate],
            vec![Dim::City],
            Selection {
                province: "江苏省".into(),
                ..Default::default()
            },
            Ranking::default(),
        ),
        (
            "one agency",
            vec![metric],
            vec![],
            vec![Dim::Year],
            Selection {
                agency: format!("第{}局", n / 12),
                ..Default::default()
            },
            Ranking::default(),
        ),
    ];
    let only = std::env::var("ONLY").unwrap_or_default();
    // The city ranking again as the service asks it: reports with no city left out.
    let mut queries = queries;
    let mut placed = queries[2].clone();
    placed.0 = "top 10 cities by disclosure rate, at least 30 reports (placed)";
    placed.4.placed[1] = true;
    queries.push(placed);
    for (name, metrics, rates, dims, filter, ranking) in &queries {
        if !name.contains(only.as_str()) {
            continue;
        }
        let mut times = Vec::new();
        let mut groups = 0;
        let faults = minor_faults();
        let reps: usize = std::env::var("REPS").map_or(50, |v| v.parse().expect("REPS"));
        for _ in 0..reps {
            let t = Instant::now();
            let a = index.rank(metrics, rates, dims, filter, ranking);
            times.push(t.elapsed().as_secs_f64() * 1e3);
            groups = a.groups.len();
        }
        let faults = (minor_faults() - faults) / reps as u64;
        times.sort_by(f64::total_cmp);
        println!(
            "{name}: {groups} groups, p50 {:.2} ms, max {:.2} ms, {faults} page faults a call",
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
    let t = Instant::now();
    let bytes = index.encode(n as u64);
    println!(
        "snapshot: {} bytes ({:.0} B/row, checksum {:08x}), encoded in {:.2} s",
        bytes.len(),
        bytes.len() as f64 / n as f64,
        u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().expect("4 bytes")),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let (back, _) = Index::decode(&bytes).expect("decode");
    let parts = back.heap_bytes();
    println!(
        "decoded index heap: {} MiB",
        parts.iter().map(|p| p.1).sum::<usize>() >> 20
    );
    println!(
        "decoded in {:.2} s ({} rows)",
        t.elapsed().as_secs_f64(),
        back.len()
    );
}

/// This process's resident memory.
/// Where the index's heap goes, part by part, and how its columns are filled.
fn print_memory(index: &Index, n: usize) {
    let parts = index.heap_bytes();
    let total: usize = parts.iter().map(|p| p.1).sum();
    println!("index heap: {} MiB", total >> 20);
    for (part, bytes) in &parts {
        println!(
            "  {part}: {:.1} MiB ({:.1} B/row)",
            *bytes as f64 / 1048576.0,
            *bytes as f64 / n as f64
        );
    }
    let profile = index.column_profile();
    let printed: usize = profile.iter().map(|p| p.printed).sum();
    let zeros: usize = profile.iter().map(|p| p.zeros).sum();
    let mut shares: Vec<f64> = profile
        .iter()
        .map(|p| p.printed as f64 / n as f64)
        .collect();
    shares.sort_by(f64::total_cmp);
    println!(
        "{} columns; cells printed {:.1} a row; columns printed by no row {}, by < 10% {}, by > 90% {}; median share {:.2}",
        profile.len(),
        printed as f64 / n as f64,
        shares.iter().filter(|&&s| s == 0.0).count(),
        shares.iter().filter(|&&s| s < 0.1).count(),
        shares.iter().filter(|&&s| s > 0.9).count(),
        shares[shares.len() / 2]
    );
    println!(
        "cells printing 0: {:.1} a row ({:.0} % of the printed)",
        zeros as f64 / n as f64,
        zeros as f64 * 100.0 / printed.max(1) as f64
    );
}

fn resident_mib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    (pages * 4096) >> 20
}

/// This process's minor page faults so far (field 10 of /proc/self/stat).
fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which ends with the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    rest.split_whitespace()
        .nth(7)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0)
}
