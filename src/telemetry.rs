//! Prometheus metrics (served over HTTP with the pages when `--metrics-listen` is set) and the names of
//! every metric in one place. Recording is a no-op until the exporter is installed.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Documents answered, by outcome (stored, duplicate, revision, rejected).
pub const DOCUMENTS: &str = "nianbao_documents_total";
/// Bytes of documents received.
pub const DOCUMENT_BYTES: &str = "nianbao_document_bytes_total";
/// Seconds one commit batch took (writes, flush, fsync).
pub const BATCH_SECONDS: &str = "nianbao_batch_commit_seconds";
/// Documents per commit batch.
pub const BATCH_DOCUMENTS: &str = "nianbao_batch_documents";
/// Documents received and not yet answered.
pub const IN_FLIGHT: &str = "nianbao_documents_in_flight";
/// Seconds a query RPC took, by RPC.
pub const QUERY_SECONDS: &str = "nianbao_query_seconds";
/// Bytes the database occupies on disk.
pub const STORE_BYTES: &str = "nianbao_store_bytes";
/// Reports stored (all revisions).
pub const STORE_REPORTS: &str = "nianbao_store_reports";

/// Installs the Prometheus recorder (inside a tokio runtime); the returned handle renders
/// the metrics, which the server's HTTP side serves at `/metrics` ([`crate::service::web`]).
pub fn install() -> Result<PrometheusHandle, metrics_exporter_prometheus::BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Suffix("_seconds".into()),
            &[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ],
        )?
        .set_buckets_for_metric(
            Matcher::Full(BATCH_DOCUMENTS.into()),
            &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0],
        )?
        .install_recorder()
}
