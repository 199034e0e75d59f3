//! nianbao (年报): parse, validate, store and aggregate the yearly government-information-
//! disclosure reports (政府信息公开工作年度报告) of Chinese government bodies.
//!
//! # Layout
//!
//! Each room owns one concern; imports run from the rooms at the top of this list down to
//! the ones at the bottom, never back up.
//!
//! - [`commands`]: the commands of the command line, one function each, that `main` runs.
//! - [`config`]: the command line, one clap struct per command.
//! - [`server`]: builds the server (health, reflection, limits) and runs it until shutdown.
//! - [`service`]: thin tonic handlers and the one error-to-status mapping.
//! - [`client`]: the commands that talk to a server, one part each, over one
//!   [`client::channel`] (scheme, TLS, bearer token): the bulk uploader (`nianbao upload`:
//!   [`client::upload`], with its sidecar manifest of URLs and publication dates,
//!   [`client::upload::manifest`]), the analyst's questions (`nianbao query`:
//!   [`client::query`], printed by [`client::table`]), `nianbao export` ([`client::export`]:
//!   a server's Export stream into Parquet, CSV or JSON lines), and `nianbao backup` /
//!   `nianbao restore` ([`client::backup`]).
//! - [`backup`]: the backup directory on disk: its record files and the manifest that
//!   vouches for them, each checked before a restore writes anything.
//! - [`ingest`]: the ingest pipeline: checks, memory budget, reading, the group-commit
//!   writer.
//! - [`store`]: the ONLY module that names sled; durable group commit, revisions, the
//!   years of one body (rule 10), index snapshots, reindex.
//! - [`index`]: PURE. The in-memory index of stored reports: selections, sums, rates,
//!   finding counts, and its snapshot form.
//! - [`compliance`]: PURE. One report's compliance: indicators (timeliness, sections,
//!   tables, contents, arithmetic, across years) each PASS / FAIL / NOT_ASSESSABLE with its
//!   evidence and whose fault, and a score under a profile (`profiles/`).
//! - [`read`]: one document, read: extract → parse → validate (the only place the
//!   three meet).
//! - [`validate`]: PURE. A Report to the findings of the domain rules, and the cross-year
//!   check over two reports of one body.
//! - [`parse`]: PURE. Plain text to a [`pb::Report`]: metadata, tables 二/三/四, section 一
//!   and 六 figures, the publication date ([`parse::published`]), and the findings of
//!   reading (blank, fused or unplaceable cells).
//! - [`place`]: PURE. A report's body to the administrative divisions (province,
//!   prefecture, county, township and code) from the names its text gives, never guessed.
//! - [`extract`]: the text of a document of any kind (text, HTML, MHTML, PDF, OFD, DOCX,
//!   DOC/WPS, RTF, XLSX/XLS/ET; scans through [`extract::Ocr`]); extraction in a worker
//!   process under memory, CPU and wall-clock limits ([`extract::isolate`]), and running a
//!   program under a deadline; `extract::ocr` (feature `ocr`): tesseract as the OCR engine.
//! - [`decode`]: PURE. Bytes (UTF-8, GB18030/GBK, HTML or text) to normalised plain text.
//! - [`output`]: proto3 JSON and the `--facts` JSON shape.
//! - [`model`]: PURE. The shared vocabulary: catalogue, findings, the forms' shape, rates,
//!   report ids, the kinds of document.
//! - [`telemetry`]: the Prometheus exporter and the metric names.
//! - [`pb`]: the prost-generated messages of `proto/nianbao/v1`.

// The rooms' docs name the private rooms they are made of; `cargo doc
// --document-private-items` (CI) renders them, so those links are meant.
#![allow(rustdoc::private_intra_doc_links)]

pub mod backup;
pub mod client;
pub mod commands;
pub mod compliance;
pub mod config;
pub mod decode;
pub mod extract;
pub mod index;
pub mod ingest;
pub mod model;
pub mod output;
pub mod parse;
pub mod pb;
pub mod place;
pub mod read;
pub mod server;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod validate;

pub use model::hints::Hints;
pub use model::{catalogue, finding};
pub use read::{parse_document, Reader};
