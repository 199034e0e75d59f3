//! The one record the store writes per report ([`StoredReport`] in store.proto): its id, its
//! Report compressed apart (a replay reads it without the document), and its document.

use prost::Message;

use super::{corrupt, DocumentHints, StoreError};
use crate::model::id::{hex_of, IdBytes, ID_BYTES};
use crate::pb::{Report, StoredDocument, StoredReport};

/// zstd level for stored documents and reports: level 3 is zstd's default balance of speed
/// and size.
const ZSTD_LEVEL: i32 = 3;

/// Compresses `bytes` with this thread's compressor (made once per thread).
pub(super) fn compress(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    thread_local! {
        static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = Some(zstd::bulk::Compressor::new(ZSTD_LEVEL)?);
        }
        c.as_mut().expect("set above").compress(bytes)
    })
}

/// The record of `report` (id and source set) and its stored `document`.
pub(super) fn encode(
    id: &IdBytes,
    report: &Report,
    document: StoredDocument,
) -> std::io::Result<Vec<u8>> {
    Ok(StoredReport {
        id: id.to_vec(),
        report_zstd: compress(&report.encode_to_vec())?,
        document: Some(document),
    }
    .encode_to_vec())
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
    };
    Ok((content, hints))
}
