//! Hostile input against the real binary, all at once, while a well-behaved client keeps
//! reading and writing: streams of garbage bytes, documents over the size limit and a
//! message over the message limit, a flood of tiny documents (NIANBAO_TINY_DOCS, default
//! 1,000,000), empty documents, invalid UTF-8, deeply nested and enormous HTML, slow
//! clients that hold streams open without sending, and many concurrent streams. Every
//! attack gets answers (or a clear status), the server never dies, and the good client is
//! served throughout; its latencies are printed for RELIABILITY.md.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{connect, Serve, Served};
use nianbao::pb::ingest_service_client::IngestServiceClient;
use nianbao::pb::report_service_client::ReportServiceClient;
use nianbao::pb::{AggregateRequest, Document, GetReportRequest, Outcome};
use tonic::transport::Channel;

fn spawn(dir: &Path) -> Served {
    Serve::new(dir)
        .args(["--stream-idle-secs", "5", "--max-document-bytes", "8388608"])
        .start()
}

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(common::corpus_path(name)).unwrap()
}

fn doc(content: Vec<u8>, content_type: &str) -> Document {
    Document {
        content,
        content_type: content_type.into(),
        ..Default::default()
    }
}

/// Sends `docs` on one stream; returns (answers by outcome name, the status that ended the
/// stream early, if any).
async fn stream(
    channel: Channel,
    docs: impl Iterator<Item = Document> + Send + 'static,
) -> (Vec<(i32, String)>, Option<tonic::Status>) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Document>(64);
    tokio::spawn(async move {
        for d in docs {
            if tx.send(d).await.is_err() {
                break;
            }
        }
    });
    let mut client = IngestServiceClient::new(channel)
        .max_encoding_message_size(64 << 20)
        .max_decoding_message_size(64 << 20);
    let mut answers = match client
        .ingest(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
    {
        Ok(a) => a.into_inner(),
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut out = Vec::new();
    loop {
        match answers.message().await {
            Ok(Some(r)) => out.push((r.outcome, r.reason)),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

fn rejected_all(answers: &[(i32, String)], n: usize, why: &str, what: &str) {
    assert_eq!(answers.len(), n, "{what}: every document answered");
    for (outcome, reason) in answers {
        assert_eq!(*outcome, Outcome::Rejected as i32, "{what}");
        assert!(reason.contains(why), "{what}: {reason}");
    }
}

fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_clients_do_not_stop_the_good_one() {
    let tiny: usize = std::env::var("NIANBAO_TINY_DOCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path());
    let port = server.port;
    let good = connect(port).await;
    let known = IngestServiceClient::new(good.clone())
        .ingest_one(doc(corpus("beijing-chaoyang-district-2022.txt"), ""))
        .await
        .unwrap()
        .into_inner()
        .id;

    // The good client: a GetReport, an Aggregate and an IngestOne in turn until told to stop.
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let good_client = tokio::spawn({
        let channel = good.clone();
        async move {
            let mut q = ReportServiceClient::new(channel.clone());
            let mut w = IngestServiceClient::new(channel);
            let mut latencies: Vec<f64> = Vec::new();
            let base = corpus("beijing-chaoyang-heizhuanghu-2020.txt");
            let mut i = 0u64;
            while !*stop_rx.borrow_and_update() {
                let t = Instant::now();
                match i % 3 {
                    0 => {
                        q.get_report(GetReportRequest {
                            id: known.clone(),
                            include_text: false,
                            ..Default::default()
                        })
                        .await
                        .expect("good GetReport");
                    }
                    1 => {
                        q.aggregate(AggregateRequest {
                            metrics: vec!["applications.new_received.total".into()],
                            group_by: vec!["year".into()],
                            ..Default::default()
                        })
                        .await
                        .expect("good Aggregate");
                    }
                    _ => {
                        let mut content = base.clone();
                        content.extend_from_slice(format!("\n附：{i}\n").as_bytes());
                        let r = w
                            .ingest_one(doc(content, ""))
                            .await
                            .expect("good IngestOne")
                            .into_inner();
                        assert_ne!(r.outcome, Outcome::Rejected as i32, "{}", r.reason);
                    }
                }
                latencies.push(t.elapsed().as_secs_f64() * 1e3);
                i += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            latencies
        }
    });

    let started = Instant::now();
    let mut attacks = tokio::task::JoinSet::new();
    // Attackers use connections of their own, as other processes would.
    let attacker = || async move { connect(port).await };

    // Garbage: four streams of random bytes, 1-64 KiB each.
    for s in 0..4u64 {
        let c = attacker().await;
        attacks.spawn(async move {
            let docs = (0..200u64).map(move |i| {
                doc(
                    garbage(s * 1000 + i, 1024 + (i as usize * 331) % 65_000),
                    "",
                )
            });
            let (answers, end) = stream(c, docs).await;
            assert!(end.is_none(), "garbage stream ended: {end:?}");
            assert_eq!(answers.len(), 200);
            assert!(answers.iter().all(|(o, _)| *o == Outcome::Rejected as i32));
            "garbage: 4 streams × 200 documents of random bytes, all rejected".to_string()
        });
    }
    // Empty documents and invalid UTF-8.
    let c = attacker().await;
    attacks.spawn(async move {
        let (answers, end) = stream(c, (0..1000).map(|_| doc(Vec::new(), ""))).await;
        assert!(end.is_none());
        rejected_all(&answers, 1000, "empty", "empty documents");
        "empty: 1000 empty documents, all rejected as empty".to_string()
    });
    let c = attacker().await;
    attacks.spawn(async move {
        let docs = (0..200u64).map(|i| {
            let mut b = corpus("beijing-chaoyang-district-2022.txt");
            // Break the UTF-8 every 97 bytes with a lone continuation or an over-long lead.
            for k in (0..b.len()).step_by(97) {
                b[k] = if (k as u64 + i) % 2 == 0 { 0x80 } else { 0xC0 };
            }
            doc(b, "")
        });
        let (answers, end) = stream(c, docs).await;
        assert!(end.is_none());
        assert_eq!(answers.len(), 200);
        "invalid UTF-8: 200 reports with a broken byte every 97, all answered".to_string()
    });
    // Over the document limit (8 MiB) but within the message limit: rejected alone.
    let c = attacker().await;
    attacks.spawn(async move {
        let (answers, end) = stream(c.clone(), (0..3).map(|_| doc(vec![b'a'; 9 << 20], ""))).await;
        assert!(end.is_none());
        rejected_all(&answers, 3, "size limit", "over-limit documents");
        // Over the message limit (16 MiB): the stream ends with a clear status.
        let (_, end) = stream(c, std::iter::once(doc(vec![b'a'; 20 << 20], ""))).await;
        let end = end.expect("a 20 MiB message is refused");
        assert!(
            matches!(
                end.code(),
                tonic::Code::ResourceExhausted | tonic::Code::OutOfRange
            ),
            "{end:?}"
        );
        "size: 3 documents of 9 MiB rejected alone; a 20 MiB message refused".to_string()
    });
    // Deeply nested and enormous HTML.
    let c = attacker().await;
    attacks.spawn(async move {
        let nested = "<div>".repeat(1_000_000) + "规章" + &"</div>".repeat(500_000);
        let mut table = String::from("<table>");
        while table.len() < 7 << 20 {
            table.push_str("<tr><td rowspan=9999 colspan=9999>1</td><td>2</td></tr>");
        }
        let sizes = (nested.len() as f64 / 1e6, table.len() as f64 / 1e6);
        let docs = vec![doc(nested.into_bytes(), "html"), doc(table.into_bytes(), "html")];
        let t = Instant::now();
        let (answers, end) = stream(c, docs.into_iter()).await;
        assert!(end.is_none(), "{end:?}");
        assert_eq!(answers.len(), 2);
        format!(
            "HTML: {:.1} MB nested a million deep and {:.1} MB of spanning cells, answered in {:.1} s",
            sizes.0,
            sizes.1,
            t.elapsed().as_secs_f64()
        )
    });
    // Slow clients: 50 streams opened and left silent; the idle limit (5 s here) ends them.
    for _ in 0..5 {
        let c = attacker().await;
        attacks.spawn(async move {
            let mut held = Vec::new();
            for _ in 0..10 {
                let (tx, rx) = tokio::sync::mpsc::channel::<Document>(1);
                let r = IngestServiceClient::new(c.clone())
                    .ingest(tokio_stream::wrappers::ReceiverStream::new(rx))
                    .await
                    .unwrap();
                held.push((tx, r.into_inner()));
            }
            for (_tx, mut answers) in held {
                let e = answers.message().await.expect_err("idle stream closed");
                assert_eq!(e.code(), tonic::Code::DeadlineExceeded);
            }
            "slow: 10 silent streams closed by the idle limit".to_string()
        });
    }
    // Many concurrent streams: 200 over 10 connections, 5 real reports each.
    for k in 0..10u64 {
        let c = attacker().await;
        attacks.spawn(async move {
            let mut set = tokio::task::JoinSet::new();
            for s in 0..20u64 {
                let c = c.clone();
                set.spawn(async move {
                    let docs = (0..5u64).map(move |i| {
                        let mut b = corpus("beijing-chaoyang-changying-2019.txt");
                        b.extend_from_slice(format!("\n附：{k}-{s}-{i}\n").as_bytes());
                        doc(b, "")
                    });
                    stream(c, docs).await
                });
            }
            while let Some(r) = set.join_next().await {
                let (answers, end) = r.unwrap();
                assert!(end.is_none(), "{end:?}");
                assert_eq!(answers.len(), 5);
                assert!(answers.iter().all(|(o, _)| *o != Outcome::Rejected as i32));
            }
            "many: 20 concurrent streams of 5 reports, all stored".to_string()
        });
    }
    // The flood of tiny documents, on one stream.
    let c = attacker().await;
    attacks.spawn(async move {
        let t = Instant::now();
        let (answers, end) =
            stream(c, (0..tiny).map(|i| doc(format!("{i}").into_bytes(), ""))).await;
        assert!(end.is_none(), "{end:?}");
        assert_eq!(answers.len(), tiny);
        format!(
            "tiny: {tiny} documents of 1-7 bytes on one stream, all answered in {:.1} s ({:.0}/s)",
            t.elapsed().as_secs_f64(),
            tiny as f64 / t.elapsed().as_secs_f64()
        )
    });

    while let Some(done) = attacks.join_next().await {
        eprintln!("{}", done.expect("attack task"));
    }
    let _ = stop_tx.send(true);
    let mut latencies = good_client.await.expect("good client");
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    eprintln!(
        "good client during {:.1} s of attacks: {} calls, all served; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        started.elapsed().as_secs_f64(),
        latencies.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
    assert!(!latencies.is_empty());
}

/// `data` zlib-compressed, as a PDF's FlateDecode stream holds it.
fn deflated(data: impl Iterator<Item = Vec<u8>>) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    for block in data {
        z.write_all(&block).unwrap();
    }
    z.finish().unwrap()
}

/// A PDF whose one page's content stream inflates to `gib` GiB of spaces (about 1 MB a GiB).
fn pdf_bomb(gib: usize) -> Vec<u8> {
    let block = vec![b' '; 1 << 20];
    let stream = deflated((0..gib << 10).map(|_| block.clone()));
    common::pdf_pages(&[stream], "/Filter /FlateDecode")
}

/// A PDF of `millions` million text-showing operators in one text object (a few tens of
/// KB compressed, 6 bytes an operator inflated).
fn operator_flood(millions: usize) -> Vec<u8> {
    let ops = b"(a)Tj\n".repeat(100_000);
    let head = std::iter::once(b"BT /F1 9 Tf 10 10 Td\n".to_vec());
    let tail = std::iter::once(b"ET".to_vec());
    let stream = deflated(
        head.chain((0..millions * 10).map(|_| ops.clone()))
            .chain(tail),
    );
    common::pdf_pages(&[stream], "/Filter /FlateDecode")
}

/// A PDF whose page tree holds `n` pages, each drawing one glyph.
fn page_flood(n: usize) -> Vec<u8> {
    let page = b"BT /F1 9 Tf 10 10 Td (1) Tj ET".to_vec();
    common::pdf_pages(&vec![page; n], "")
}

/// A PDF whose content nests `depth` arrays (an operand of an operator).
fn deep_nesting(depth: usize) -> Vec<u8> {
    let mut content = b"[".repeat(depth);
    content.extend(b"]".repeat(depth));
    content.extend_from_slice(b" TJ");
    common::pdf_pages(
        &[deflated(std::iter::once(content))],
        "/Filter /FlateDecode",
    )
}

/// An image declared a million pixels a side, with a few bytes of data.
fn huge_image() -> Vec<u8> {
    common::pdf_of(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
          /Resources << /XObject << /Im0 5 0 R >> >> >>"
            .to_vec(),
        common::pdf_stream("", b"q 595 0 0 842 0 0 cm /Im0 Do Q"),
        common::pdf_stream(
            "/Type /XObject /Subtype /Image /Width 1000000 /Height 1000000 /ColorSpace \
             /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode",
            &deflated(std::iter::once(vec![0u8; 1 << 20])),
        ),
    ])
}

/// Peak resident memory of process `pid` (VmHWM), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib << 10
}

/// Decompression bombs, operator floods, deep nesting, a huge image and a flood of pages,
/// many at once on several streams, against the real server with its default budgets:
/// each is answered alone (rejected with the budget it broke, or read within its bounds),
/// real reports sent meanwhile on another stream are all stored, and the server's own peak
/// memory stays within its document budget plus a margin: the bombs inflate in worker
/// processes, each under its own address-space and CPU limits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bombs_are_bounded_and_rejected_alone_while_reports_are_read() {
    const MEMORY: u64 = 256 << 20;
    const MARGIN: u64 = 160 << 20;
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path());
    let port = server.port;
    let pdf_bomb = pdf_bomb(2);
    assert!(pdf_bomb.len() < 3 << 20, "{}", pdf_bomb.len());
    // A zip whose `bomb` entry inflates to 1 GiB of spaces, beside small `others`.
    let zip_bomb = |others: &[(&str, &[u8])], bomb: &str| {
        let mut z = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut z);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        for (name, bytes) in others {
            zip.start_file(*name, opts).unwrap();
            std::io::Write::write_all(&mut zip, bytes).unwrap();
        }
        zip.start_file(bomb, opts).unwrap();
        let block = vec![b' '; 1 << 20];
        for _ in 0..1024 {
            std::io::Write::write_all(&mut zip, &block).unwrap();
        }
        zip.finish().unwrap();
        z.into_inner()
    };
    let docx_bomb = zip_bomb(&[], "word/document.xml");
    let xlsx_bomb = zip_bomb(
        &[("xl/workbook.xml", b"<workbook><sheets><sheet name=\"1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>")],
        "xl/worksheets/sheet1.xml",
    );
    let ofd_bomb = zip_bomb(
        &[
            ("OFD.xml", b"<ofd:OFD><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"),
            ("Doc_0/Document.xml", b"<ofd:Document><ofd:Pages><ofd:Page ID=\"1\" BaseLoc=\"Pages/Page_0/Content.xml\"/></ofd:Pages></ofd:Document>"),
        ],
        "Doc_0/Pages/Page_0/Content.xml",
    );
    let mut attacks = tokio::task::JoinSet::new();
    let hostile: Vec<(&str, Vec<u8>, &str)> = vec![
        ("pdf-bomb", pdf_bomb.clone(), "内存预算"),
        ("operator-flood", operator_flood(30), "预算"),
        ("docx-bomb", docx_bomb, "解压"),
        ("xlsx-bomb", xlsx_bomb, "压缩炸弹"),
        ("ofd-bomb", ofd_bomb, "压缩炸弹"),
        ("deep-nesting", deep_nesting(1_000_000), ""),
        ("huge-image", huge_image(), ""),
        ("page-flood", page_flood(20_000), ""),
    ];
    for (name, bytes, why) in hostile {
        let c = connect(port).await;
        attacks.spawn(async move {
            let t = Instant::now();
            let (answers, end) = stream(c, std::iter::once(doc(bytes, ""))).await;
            assert!(end.is_none(), "{name}: {end:?}");
            assert_eq!(answers.len(), 1, "{name}");
            let (outcome, reason) = &answers[0];
            assert_eq!(*outcome, Outcome::Rejected as i32, "{name}: {reason}");
            assert!(reason.contains(why), "{name}: {reason}");
            format!(
                "{name}: rejected in {:.1} s: {reason}",
                t.elapsed().as_secs_f64()
            )
        });
    }
    // Twelve PDF bombs at once, on four streams.
    for s in 0..4 {
        let c = connect(port).await;
        let bomb = pdf_bomb.clone();
        attacks.spawn(async move {
            let t = Instant::now();
            let (answers, end) = stream(c, (0..3).map(move |_| doc(bomb.clone(), ""))).await;
            assert!(end.is_none(), "{end:?}");
            rejected_all(&answers, 3, "内存预算", "pdf bombs");
            format!(
                "3 PDF bombs on stream {s}: rejected in {:.1} s",
                t.elapsed().as_secs_f64()
            )
        });
    }
    // Meanwhile, real reports on their own stream, all stored.
    let c = connect(port).await;
    attacks.spawn(async move {
        let names = [
            "beijing-chaoyang-district-2022.txt",
            "huaian-city-2024.txt",
            "files/huaian-city-2024.pdf",
            "files/huaian-city-2024.docx",
            "files/hongze-district-2023.pdf",
        ];
        let docs: Vec<Document> = names.iter().map(|n| doc(corpus(n), "")).collect();
        let (answers, end) = stream(c, docs.into_iter()).await;
        assert!(end.is_none(), "{end:?}");
        assert_eq!(answers.len(), names.len());
        for ((outcome, reason), name) in answers.iter().zip(names) {
            assert_ne!(*outcome, Outcome::Rejected as i32, "{name}: {reason}");
        }
        "5 real reports (text, PDF, DOCX) stored meanwhile".to_string()
    });
    while let Some(done) = attacks.join_next().await {
        eprintln!("{}", done.expect("attack task"));
    }
    let peak = peak_rss(server.pid());
    eprintln!("server peak RSS: {} MiB", peak >> 20);
    assert!(
        peak < MEMORY + MARGIN,
        "the server's peak memory {} MiB is over its budget",
        peak >> 20
    );
}
