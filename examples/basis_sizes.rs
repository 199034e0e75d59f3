//! Bytes a stored record spends on its document, report and compliance basis, each
//! compressed alone and against what the store compresses it against (`store/record.rs`),
//! averaged over a folder of documents (a measuring aid):
//! cargo run --release --example basis_sizes -- DIR
use prost::Message;

const DOCUMENT_SAMPLE: &[u8] = include_bytes!("../src/store/document-sample-1.txt");
const REPORT_SAMPLE: &[u8] = include_bytes!("../src/store/report-sample-1.pb");
const BASIS_SAMPLE: &[u8] = include_bytes!("../src/store/basis-sample-1.json");

fn alone(bytes: &[u8], level: i32) -> usize {
    zstd::bulk::compress(bytes, level).unwrap().len()
}

fn against(bytes: &[u8], prefix: &[u8], level: i32) -> usize {
    use std::io::Write;
    let mut e = zstd::stream::write::Encoder::with_ref_prefix(Vec::new(), level, prefix).unwrap();
    e.write_all(bytes).unwrap();
    e.finish().unwrap().len()
}

fn main() {
    let dir = std::env::args().nth(1).expect("DIR");
    let reader = nianbao::Reader::default();
    let names = [
        "raw document",
        "document alone (zstd 1)",
        "document against the form's sample (1)",
        "report alone (-1)",
        "report against the sample reports (-1)",
        "basis JSON",
        "basis alone (-1)",
        "basis against the sample bases and its document (3)",
    ];
    let mut sums = [0usize; 8];
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() || path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let (report, basis) = reader.read_assessed(&bytes, &Default::default());
        let Some(basis) = basis else { continue };
        let json = serde_json::to_vec(&basis).unwrap();
        let report = report.encode_to_vec();
        let row = [
            bytes.len(),
            alone(&bytes, 1),
            against(&bytes, DOCUMENT_SAMPLE, 1),
            alone(&report, -1),
            against(&report, REPORT_SAMPLE, -1),
            json.len(),
            alone(&json, -1),
            against(&json, &[BASIS_SAMPLE, &bytes].concat(), 3),
        ];
        for (s, v) in sums.iter_mut().zip(row) {
            *s += v;
        }
        n += 1;
    }
    for (name, s) in names.iter().zip(sums) {
        println!("{name:>52}: {:>6.0} B a report", s as f64 / n as f64);
    }
    println!("{n} reports");
}
