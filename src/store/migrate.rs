//! A data directory of the earlier layout, rewritten as a `log` at open.
//!
//! That layout kept four trees keyed by report id (`documents`, `reports`, `cross`) and by
//! seq (`order`, naming the id), and the next seq in the default tree. Its reports are
//! copied into the `log` under their seqs, the copy is made durable, and only then are the
//! old trees dropped, `order` last: while `order` is there the migration is unfinished, and
//! the next open goes on from the last record copied. The cross-year findings are not
//! copied; they are derived again (see [`super::years`]).

use std::path::Path;

use prost::Message;

use super::{corrupt, durable, last_seq, record, StoreError};
use crate::model::id::{hex_of, IdBytes};
use crate::pb::{Report, StoredDocument};

/// The trees of the earlier layout, `order` last.
const OLD_TREES: [&str; 4] = ["documents", "reports", "cross", "order"];

/// The key under which the earlier layout kept the next seq.
const OLD_NEXT_SEQ: &[u8] = b"next_seq";

/// Copies the reports of the earlier layout into `log`, if `db` (opened on `dir`) holds
/// them, and makes the copy durable before the old trees go. Returns how many were copied.
pub(super) fn from_four_trees(
    db: &sled::Db,
    log: &sled::Tree,
    dir: &Path,
) -> Result<u64, StoreError> {
    if !db.tree_names().iter().any(|name| name == b"order") {
        return Ok(0);
    }
    let started = std::time::Instant::now();
    let order = db.open_tree("order")?;
    let documents = db.open_tree("documents")?;
    let reports = db.open_tree("reports")?;
    let from = last_seq(log)?.map_or(0, |seq| seq + 1);
    let mut copied = 0;
    for entry in order.range(from.to_be_bytes()..) {
        let (key, id) = entry?;
        let id: IdBytes = id
            .as_ref()
            .try_into()
            .map_err(|_| corrupt("order", "value is not a report id"))?;
        let missing = |what| corrupt(&hex_of(&id), what);
        let document = documents
            .get(id)?
            .ok_or_else(|| missing("order names a document that is not stored"))?;
        let document = StoredDocument::decode(document.as_ref())
            .map_err(|e| corrupt(&hex_of(&id), &e.to_string()))?;
        let report = reports
            .get(id)?
            .ok_or_else(|| missing("order names a report that is not stored"))?;
        let report =
            Report::decode(report.as_ref()).map_err(|e| corrupt(&hex_of(&id), &e.to_string()))?;
        log.insert(&key, record::encode(&id, &report, None, document, &[])?)?;
        copied += 1;
    }
    db.flush()?;
    durable::sync_every_file(dir)?;
    db.remove(OLD_NEXT_SEQ)?;
    for name in OLD_TREES {
        db.drop_tree(name)?;
    }
    db.flush()?;
    durable::sync_every_file(dir)?;
    tracing::info!(
        copied,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "data directory of the earlier layout (four trees) rewritten as one log"
    );
    Ok(copied)
}
