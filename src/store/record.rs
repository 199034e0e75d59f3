//! The one record the store writes per report ([`StoredReport`] in store.proto): its id, its
//! Report compressed apart (a replay reads it without the document), its compliance basis
//! and its document.

use prost::Message;

use super::{corrupt, DocumentHints, StoreError};
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

/// One compressor per thread and level, made once.
struct Compressors {
    document: zstd::bulk::Compressor<'static>,
    report: zstd::bulk::Compressor<'static>,
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
    COMPRESSORS.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = Some(Compressors {
                document: zstd::bulk::Compressor::new(DOCUMENT_LEVEL)?,
                report: zstd::bulk::Compressor::new(REPORT_LEVEL)?,
            });
        }
        pick(c.as_mut().expect("set above")).compress(bytes)
    })
}

/// Compresses a document's bytes for its record.
pub(super) fn compress(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    compress_with(bytes, |c| &mut c.document)
}

/// The record of `report` (id and source set), its compliance basis (its JSON compressed
/// already: [`compress_basis`]; empty for none) and its stored `document`.
pub(super) fn encode(
    id: &IdBytes,
    report: &Report,
    basis_zstd: Vec<u8>,
    document: StoredDocument,
) -> std::io::Result<Vec<u8>> {
    Ok(StoredReport {
        id: id.to_vec(),
        report_zstd: compress_with(&report.encode_to_vec(), |c| &mut c.report)?,
        document: Some(document),
        basis_zstd,
    }
    .encode_to_vec())
}

/// A compliance basis as its record keeps it: JSON, compressed like the report.
pub(super) fn compress_basis(basis: Option<&Basis>) -> std::io::Result<Vec<u8>> {
    match basis {
        Some(basis) => {
            let json = serde_json::to_vec(basis).map_err(std::io::Error::other)?;
            compress_with(&json, |c| &mut c.report)
        }
        None => Ok(Vec::new()),
    }
}

/// The record's compliance basis; `None` when it has none (the text was not read, or the
/// record came from an older server).
pub(super) fn basis(record: &StoredReport) -> Result<Option<Basis>, StoreError> {
    if record.basis_zstd.is_empty() {
        return Ok(None);
    }
    let id = || hex_of(&record.id);
    let json = zstd::decode_all(record.basis_zstd.as_slice())
        .map_err(|e| corrupt(&id(), &format!("compliance basis: {e}")))?;
    serde_json::from_slice(&json)
        .map(Some)
        .map_err(|e| corrupt(&id(), &format!("compliance basis: {e}")))
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
    let id = || hex_of(&record.id);
    let bytes = zstd::decode_all(record.report_zstd.as_slice())
        .map_err(|e| corrupt(&id(), &format!("report: {e}")))?;
    Report::decode(bytes.as_slice()).map_err(|e| corrupt(&id(), &format!("report: {e}")))
}

/// The record's document: its bytes and hints.
pub(super) fn document(record: &StoredReport) -> Result<(Vec<u8>, DocumentHints), StoreError> {
    let id = hex_of(&record.id);
    let doc = record
        .document
        .as_ref()
        .ok_or_else(|| corrupt(&id, "the record has no document"))?;
    let content = zstd::decode_all(doc.content_zstd.as_slice())
        .map_err(|e| corrupt(&id, &format!("document: {e}")))?;
    let hints = DocumentHints {
        source: doc.source.clone(),
        agency: doc.agency.clone(),
        year: doc.year,
        content_type: doc.content_type.clone(),
        published: doc.published.clone(),
        url: doc.url.clone(),
    };
    Ok((content, hints))
}
