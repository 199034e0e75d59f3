//! The one record the store writes per report ([`StoredReport`] in store.proto): its id, its
//! Report compressed apart (a replay reads it without the document), its compliance basis
//! and its document.

use prost::Message;

use super::{corrupt, Hints, StoreError};
use crate::compliance::Basis;
use crate::model::id::{hex_of, IdBytes, ID_BYTES};
use crate::pb::{Report, StoredDocument, StoredReport};

/// zstd levels of the stored document and report. Measured over the real corpus
/// (`examples/zstd_levels.rs`): documents at level 1 compress 2.04× in 10.6 µs against
/// 2.10× in 13.8 µs at zstd's default 3; reports at -1 3.33× in 3.5 µs against 3.47× in
/// 6.5 µs at 1. Compression is a third of the store's CPU per report; the disk stays under
/// the raw bytes either way.
const DOCUMENT_LEVEL: i32 = 1;
const REPORT_LEVEL: i32 = -1;

/// What a document is compressed against (`content_prefix` [`DOCUMENT_PREFIX`]): the
/// report's headings and every label of the 2019 and 2021 tables, one a line (made from the
/// catalogue's labels), which every report prints. Over the real corpus a document takes
/// 1,697 bytes against 1,947 compressed alone (`examples/basis_sizes.rs`). Never to change, like [`BASIS_SAMPLE`].
const DOCUMENT_SAMPLE: &[u8] = include_bytes!("document-sample-1.txt");

/// The `content_prefix` of a document compressed against [`DOCUMENT_SAMPLE`]; 0 is one
/// compressed alone (records and backups of an older server).
pub(super) const DOCUMENT_PREFIX: u32 = 1;

/// What a report is compressed against (`report_prefix` [`REPORT_PREFIX`]): the Reports of
/// three real reports as the reader gives them (淮安市洪泽区人民政府 2024, 松木塘镇 2022,
/// 闽侯县自然资源和规划局 2024), which hold the field tags, agency words and finding
/// messages every report repeats. Over the real corpus less the three sampled, a report
/// takes 780 bytes against 1,226 compressed alone (`examples/basis_sizes.rs`). Never to change, like
/// [`BASIS_SAMPLE`].
const REPORT_SAMPLE: &[u8] = include_bytes!("report-sample-1.pb");

/// The `report_prefix` of a report compressed against [`REPORT_SAMPLE`]; 0 is one
/// compressed alone (records of an older server).
pub(super) const REPORT_PREFIX: u32 = 1;

/// One compressor per thread and level, made once; and a context for the bases, whose
/// prefix is each report's own.
struct Compressors {
    document: zstd::bulk::Compressor<'static>,
    report: zstd::bulk::Compressor<'static>,
    basis: zstd::zstd_safe::CCtx<'static>,
}

impl Compressors {
    fn new() -> std::io::Result<Compressors> {
        Ok(Compressors {
            document: zstd::bulk::Compressor::with_dictionary(DOCUMENT_LEVEL, DOCUMENT_SAMPLE)?,
            report: zstd::bulk::Compressor::with_dictionary(REPORT_LEVEL, REPORT_SAMPLE)?,
            basis: zstd::zstd_safe::CCtx::create(),
        })
    }
}

thread_local! {
    static COMPRESSORS: std::cell::RefCell<Option<Compressors>> =
        const { std::cell::RefCell::new(None) };
}

/// Compresses `bytes` with the compressor `pick` chooses of this thread's.
fn compress_with(
    bytes: &[u8],
    pick: fn(&mut Compressors) -> &mut zstd::bulk::Compressor<'static>,
) -> std::io::Result<Vec<u8>> {
    with_local(&COMPRESSORS, Compressors::new, |c| pick(c).compress(bytes))
}

/// Calls `f` with this thread's value of `cell`, made by `make` at the thread's first call.
fn with_local<T: 'static, R>(
    cell: &'static std::thread::LocalKey<std::cell::RefCell<Option<T>>>,
    make: impl FnOnce() -> std::io::Result<T>,
    f: impl FnOnce(&mut T) -> std::io::Result<R>,
) -> std::io::Result<R> {
    cell.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = Some(make()?);
        }
        f(c.as_mut().expect("set above"))
    })
}

/// Compresses a document's bytes for its record, with what it is compressed against
/// (its `content_prefix`).
pub(super) fn compress(bytes: &[u8]) -> std::io::Result<(Vec<u8>, u32)> {
    Ok((compress_with(bytes, |c| &mut c.document)?, DOCUMENT_PREFIX))
}

/// A reader of a stored document's bytes.
pub(super) fn document_reader(
    document: &StoredDocument,
) -> std::io::Result<zstd::stream::read::Decoder<'static, &[u8]>> {
    sampled(
        &document.content_zstd,
        document.content_prefix,
        (DOCUMENT_PREFIX, DOCUMENT_SAMPLE),
    )
}

/// One decompressor per thread and sample, made once: a decompressor made per record
/// zeroes its context and digests its sample each time (a fifth of the server's CPU
/// samples during a restart at 100k reports, perf). And a context for the bases.
struct Decompressors {
    document: zstd::bulk::Decompressor<'static>,
    report: zstd::bulk::Decompressor<'static>,
    basis: zstd::zstd_safe::DCtx<'static>,
}

impl Decompressors {
    fn new() -> std::io::Result<Decompressors> {
        Ok(Decompressors {
            document: zstd::bulk::Decompressor::with_dictionary(DOCUMENT_SAMPLE)?,
            report: zstd::bulk::Decompressor::with_dictionary(REPORT_SAMPLE)?,
            basis: zstd::zstd_safe::DCtx::create(),
        })
    }
}

thread_local! {
    static DECOMPRESSORS: std::cell::RefCell<Option<Decompressors>> =
        const { std::cell::RefCell::new(None) };
}

/// Frames that say they hold more than this are read by a stream, which grows its buffer
/// only as the frame gives bytes (a damaged header cannot make it reserve them).
const BULK_AT_MOST: u64 = 64 << 20;

/// The bytes of the zstd frame `zstd` compressed against the sample `(number, bytes)` when
/// its `prefix` is that number, alone when it is 0: through this thread's decompressor
/// (`pick`) when the frame says how many bytes it holds, as every frame this store
/// writes does; by a stream otherwise.
fn unpack_sampled(
    zstd: &[u8],
    prefix: u32,
    (number, sample): (u32, &[u8]),
    pick: fn(&mut Decompressors) -> &mut zstd::bulk::Decompressor<'static>,
) -> std::io::Result<Vec<u8>> {
    let size = zstd::zstd_safe::get_frame_content_size(zstd)
        .ok()
        .flatten()
        .filter(|&n| n <= BULK_AT_MOST);
    match (prefix, size) {
        (p, Some(size)) if p == number => with_local(&DECOMPRESSORS, Decompressors::new, |d| {
            pick(d).decompress(zstd, size as usize)
        }),
        _ => sampled(zstd, prefix, (number, sample)).and_then(read_all),
    }
}

/// A reader of the zstd frame `zstd`, compressed against the sample `(number, bytes)` when
/// its `prefix` is that number, alone when it is 0.
fn sampled<'a>(
    zstd: &'a [u8],
    prefix: u32,
    (number, sample): (u32, &[u8]),
) -> std::io::Result<zstd::stream::read::Decoder<'static, &'a [u8]>> {
    match prefix {
        0 => zstd::stream::read::Decoder::with_buffer(zstd),
        p if p == number => zstd::stream::read::Decoder::with_dictionary(zstd, sample),
        other => Err(std::io::Error::other(format!("unknown prefix {other}"))),
    }
}

/// Everything `decoder` gives.
fn read_all(mut decoder: impl std::io::Read) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    decoder.read_to_end(&mut out)?;
    Ok(out)
}

/// The record of `report` (id and source set), its compliance basis and its stored
/// `document`, whose bytes are `content` (the basis is compressed against them:
/// [`compress_basis`]).
pub(super) fn encode(
    id: &IdBytes,
    report: &Report,
    basis: Option<&Basis>,
    document: StoredDocument,
    content: &[u8],
) -> std::io::Result<Vec<u8>> {
    let (basis_zstd, basis_prefix) = compress_basis(basis, content)?;
    Ok(StoredReport {
        id: id.to_vec(),
        report_zstd: compress_with(&report.encode_to_vec(), |c| &mut c.report)?,
        document: Some(document),
        basis_zstd,
        basis_prefix,
        report_prefix: REPORT_PREFIX,
    }
    .encode_to_vec())
}

/// What a compliance basis is compressed against (`basis_prefix` [`BASIS_PREFIX`]): the
/// JSON of three real reports' bases, their narratives left out (淮安市洪泽区人民政府 2024,
/// 松木塘镇 2022, 闽侯县自然资源和规划局 2024), then the report's own document. The sample
/// holds the keys, reasons and evidence every basis repeats; the document holds the quotes
/// and the narrative. Over the real corpus less the three sampled, a basis takes 490 bytes
/// against 2,704 compressed alone (`examples/basis_sizes.rs`). Never to change: records compressed against it name
/// it by number, and a test (`store::tests`) pins its bytes; a new sample takes a new number.
pub(super) const BASIS_SAMPLE: &[u8] = include_bytes!("basis-sample-1.json");

/// The `basis_prefix` of a basis compressed against [`BASIS_SAMPLE`] and its document; 0
/// is one compressed alone (records of an older server).
pub(super) const BASIS_PREFIX: u32 = 1;

/// zstd level of the basis: with a prefix, level 3 finds more of it than -1 (796 against
/// 978 bytes a report over the real corpus, with a sample of one basis).
const BASIS_LEVEL: i32 = 3;

/// A compliance basis as its record keeps it: its JSON compressed against
/// [`BASIS_SAMPLE`] and the document's bytes `content`, with the prefix's number; empty
/// for none.
pub(super) fn compress_basis(
    basis: Option<&Basis>,
    content: &[u8],
) -> std::io::Result<(Vec<u8>, u32)> {
    let Some(basis) = basis else {
        return Ok((Vec::new(), 0));
    };
    let json = serde_json::to_vec(basis).map_err(std::io::Error::other)?;
    let prefix = [BASIS_SAMPLE, content].concat();
    let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(json.len()));
    // The prefix is raw content (the sample is JSON, not a zstd dictionary), read as the
    // frame's history: what `ref_prefix` would give, through a context kept for the
    // thread (a context made per basis was 2 % of the server's CPU during ingest, perf).
    with_local(&COMPRESSORS, Compressors::new, |c| {
        c.basis
            .compress_using_dict(&mut out, &json, &prefix, BASIS_LEVEL)
            .map_err(zstd_error)
    })?;
    Ok((out, BASIS_PREFIX))
}

fn zstd_error(code: usize) -> std::io::Error {
    std::io::Error::other(zstd::zstd_safe::get_error_name(code))
}

/// The bytes of a basis compressed against `prefix`: through this thread's context when
/// the frame says its size (every frame [`compress_basis`] writes does), by a stream
/// otherwise.
fn unpack_basis(zstd: &[u8], prefix: &[u8]) -> std::io::Result<Vec<u8>> {
    let size = zstd::zstd_safe::get_frame_content_size(zstd)
        .ok()
        .flatten()
        .filter(|&n| n <= BULK_AT_MOST);
    let Some(size) = size else {
        return zstd::stream::read::Decoder::with_ref_prefix(zstd, prefix).and_then(read_all);
    };
    let mut out = Vec::with_capacity(size as usize);
    with_local(&DECOMPRESSORS, Decompressors::new, |d| {
        d.basis
            .decompress_using_dict(&mut out, zstd, prefix)
            .map_err(zstd_error)
    })?;
    Ok(out)
}

/// The record's compliance basis; `None` when it has none (the text was not read, or the
/// record came from an older server).
pub(super) fn basis(record: &StoredReport) -> Result<Option<Basis>, StoreError> {
    if record.basis_zstd.is_empty() {
        return Ok(None);
    }
    let id = || hex_of(&record.id);
    let bad = |e: &dyn std::fmt::Display| corrupt(&id(), &format!("compliance basis: {e}"));
    let json = match record.basis_prefix {
        0 => zstd::decode_all(record.basis_zstd.as_slice()),
        BASIS_PREFIX => {
            let (content, _) = document(record)?;
            let prefix = [BASIS_SAMPLE, &content].concat();
            unpack_basis(&record.basis_zstd, &prefix)
        }
        other => return Err(bad(&format!("unknown prefix {other}"))),
    }
    .map_err(|e| bad(&e))?;
    serde_json::from_slice(&json).map(Some).map_err(|e| bad(&e))
}

/// A record as read from the `log` tree under `seq`.
pub(super) fn decode(seq: u64, bytes: &[u8]) -> Result<StoredReport, StoreError> {
    let record =
        StoredReport::decode(bytes).map_err(|e| corrupt(&format!("seq {seq}"), &e.to_string()))?;
    if record.id.len() != ID_BYTES {
        return Err(corrupt(
            &format!("seq {seq}"),
            "the record has no report id",
        ));
    }
    Ok(record)
}

/// The record's Report, as acknowledged.
pub(super) fn report(record: &StoredReport) -> Result<Report, StoreError> {
    let bad = |e: &dyn std::fmt::Display| corrupt(&hex_of(&record.id), &format!("report: {e}"));
    let bytes = unpack_sampled(
        &record.report_zstd,
        record.report_prefix,
        (REPORT_PREFIX, REPORT_SAMPLE),
        |d| &mut d.report,
    )
    .map_err(|e| bad(&e))?;
    Report::decode(bytes.as_slice()).map_err(|e| bad(&e))
}

/// The record's document: its bytes and hints.
pub(super) fn document(record: &StoredReport) -> Result<(Vec<u8>, Hints), StoreError> {
    let id = hex_of(&record.id);
    let doc = record
        .document
        .as_ref()
        .ok_or_else(|| corrupt(&id, "the record has no document"))?;
    let content = unpack_sampled(
        &doc.content_zstd,
        doc.content_prefix,
        (DOCUMENT_PREFIX, DOCUMENT_SAMPLE),
        |d| &mut d.document,
    )
    .map_err(|e| corrupt(&id, &format!("document: {e}")))?;
    let hints = Hints {
        source: doc.source.clone(),
        agency: doc.agency.clone(),
        year: doc.year,
        content_type: doc.content_type.clone(),
        published: doc.published.clone(),
        url: doc.url.clone(),
    };
    Ok((content, hints))
}
