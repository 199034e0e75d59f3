//! nianbao (年报): parse, validate, store and aggregate the yearly government-information-
//! disclosure reports (政府信息公开工作年度报告) of Chinese government bodies.
//!
//! # Layout
//!
//! Data flows one way; each module owns one step.
//!
//! - [`pb`]: the prost-generated messages of `proto/nianbao/v1`; [`pb::Report`] is the field
//!   catalogue.
//! - [`catalogue`]: the metric table derived from the proto at build time (paths, labels,
//!   formats) and path-based access to a Report's cells.
//! - [`decode`]: PURE. Bytes (UTF-8, GB18030/GBK, HTML or text) to normalised plain text.
//! - [`parse`]: PURE. Plain text to a [`pb::Report`]: metadata, tables 二/三/四, section 一 and
//!   六 figures, and the findings of reading (blank, fused or unplaceable cells).
//! - [`validate`]: PURE. A Report to the findings of the domain rules, and the cross-year
//!   check over two reports of one body.
//! - [`read`]: PURE. One document: decode, parse, validate (the only place the three meet).
//! - [`finding`]: the stable finding codes, their severities and the Finding constructor.
//! - [`output`]: proto3 JSON and the `--facts` JSON shape.
//! - [`aggregate`]: PURE. The in-memory index of stored reports: sums, rates, finding counts.
//! - [`store`]: the ONLY module that names sled; durable group commit, revisions, reindex.
//! - [`ingest`]: the ingest pipeline: checks, memory budget, parsing, the group-commit writer.
//! - [`service`]: thin tonic handlers and the one error-to-status mapping.
//! - [`server`]: builds the server (health, reflection, limits) and runs it until shutdown.
//! - [`client`]: the bulk uploader (`nianbao upload`).
//! - [`telemetry`]: the Prometheus exporter and the metric names.
//! - [`config`]: the command line, one clap struct per command.

pub mod aggregate;
pub mod client;
pub mod column;
pub mod config;
pub mod decode;
pub mod extract;
pub mod ingest;
pub mod model;
#[cfg(feature = "ocr")]
pub mod ocr;
pub mod output;
pub mod parse;
pub mod read;
pub mod server;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod totals;
pub mod validate;

/// The generated protobuf messages (package `nianbao.v1`).
#[allow(clippy::all, missing_docs)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/nianbao.v1.rs"));

    /// The encoded FileDescriptorSet of every proto (for reflection and JSON).
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/nianbao_descriptor.bin"));
}

pub use model::{catalogue, finding};
pub use parse::Hints;
pub use read::{parse_document, Reader};
