//! Parse + validate throughput on the corpus and on the real-world corpus, beside a memchr line count over the same bytes,
//! and the same document repeated to show the cost grows linearly with size.
//! Run: cargo bench --bench parse

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nianbao::{parse_document, Hints};

fn corpus() -> Vec<(String, Vec<u8>)> {
    read_dir("tests/corpus")
}

/// The texts of one corpus folder, by name.
fn read_dir(folder: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "txt").then(|| {
                (
                    p.file_stem().unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                )
            })
        })
        .collect();
    files.sort();
    files
}

fn bench(c: &mut Criterion) {
    let files = corpus();
    let all: usize = files.iter().map(|(_, b)| b.len()).sum();
    let hints = Hints::default();

    let mut group = c.benchmark_group("corpus");
    group.throughput(Throughput::Bytes(all as u64));
    group.bench_function("parse_validate_all_7", |b| {
        b.iter(|| {
            for (_, bytes) in &files {
                black_box(parse_document(black_box(bytes), &hints));
            }
        })
    });
    group.bench_function("memchr_line_count_all_7", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|(_, bytes)| memchr::memchr_iter(b'\n', black_box(bytes)).count())
                .sum::<usize>()
        })
    });
    group.finish();

    // The real-world corpus: reports as scrapers deliver them (mostly pages cut at ~2 KB).
    let real = read_dir("tests/corpus/real");
    let real_bytes: usize = real.iter().map(|(_, b)| b.len()).sum();
    let mut group = c.benchmark_group("real");
    group.throughput(Throughput::Bytes(real_bytes as u64));
    group.bench_function(format!("parse_validate_all_{}", real.len()), |b| {
        b.iter(|| {
            for (_, bytes) in &real {
                black_box(parse_document(black_box(bytes), &hints));
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("file");
    for (name, bytes) in &files {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name.as_str(), |b| {
            b.iter(|| parse_document(black_box(bytes), &hints))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("growth");
    let one = files
        .iter()
        .find(|(n, _)| n == "beijing-chaoyang-district-2022")
        .map(|(_, b)| b.clone())
        .unwrap();
    for copies in [1usize, 10, 100] {
        let doc = one.repeat(copies);
        group.throughput(Throughput::Bytes(doc.len() as u64));
        group.bench_function(format!("x{copies}"), |b| {
            b.iter(|| parse_document(black_box(&doc), &hints))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
