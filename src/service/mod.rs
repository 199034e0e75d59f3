//! Thin tonic handlers: check the request, call the library, map errors once. On the
//! server's side these and [`crate::server`] are the only modules that name tonic; the
//! client room ([`crate::client`]: upload, query, export, backup) is their other side.

pub mod admin;
mod assess;
pub mod auth;
mod coverage;
pub mod ingest;
pub mod query;
mod request;
pub mod web;

use tonic::Status;

use crate::ingest::IngestError;
use crate::store::StoreError;

/// Every error a handler can return, mapped to a gRPC status in [`to_status`].
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request is malformed; the message says what to fix.
    #[error("{0}")]
    InvalidArgument(String),
    /// No such report.
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The one place errors become statuses.
pub fn to_status(error: ServiceError) -> Status {
    match error {
        ServiceError::InvalidArgument(m) => Status::invalid_argument(m),
        ServiceError::NotFound(m) => Status::not_found(m),
        ServiceError::Store(StoreError::BadId(id)) => Status::invalid_argument(format!(
            "not a report id: {id:?} (want the 64 hex digits IngestOne returned)"
        )),
        ServiceError::Store(e) if e.is_disk_full() => Status::resource_exhausted(e.to_string()),
        ServiceError::Store(e) => {
            tracing::error!(error = %e, "store error");
            Status::internal(format!("storage error: {e}"))
        }
        ServiceError::Ingest(e @ IngestError::Overloaded { .. }) => {
            Status::resource_exhausted(e.to_string())
        }
        ServiceError::Ingest(e @ IngestError::DiskFull) => {
            Status::resource_exhausted(e.to_string())
        }
        ServiceError::Ingest(e @ IngestError::ShuttingDown) => Status::unavailable(e.to_string()),
        ServiceError::Ingest(IngestError::Store(e)) => to_status(ServiceError::Store(e)),
        ServiceError::Ingest(e @ IngestError::ParserPanic) => {
            tracing::error!("parser panicked");
            Status::internal(e.to_string())
        }
        ServiceError::Ingest(e @ IngestError::CommitPanic) => {
            tracing::error!("batch commit panicked");
            Status::internal(e.to_string())
        }
    }
}

impl From<ServiceError> for Status {
    fn from(e: ServiceError) -> Status {
        to_status(e)
    }
}
