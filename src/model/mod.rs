//! The shared vocabulary every other room speaks. PURE: no I/O, and nothing here imports a
//! room above it.
//!
//! - [`catalogue`]: the metric table derived from the proto at build time (paths, labels,
//!   formats) and path-based access to a Report's cells.
//! - [`finding`]: the stable finding codes, their severities and the Finding constructor.
//! - [`form`]: the shape of the printed forms (tables, rows, columns) and the body key.
//! - [`hash`]: the 64-bit mixer the SimHash and the index's tables hash with.
//! - [`hints`]: what a client says with a document (source, agency, year, content type,
//!   publication), in one shape from the service to the reader and the store.
//! - [`rates`]: the rates of domain.md.
//! - [`rules`]: the form's sums (which figures add up to which, per format) and the one
//!   tolerance for "equal", used by the reader and the validator alike.
//! - [`reading`]: whether two readings of one body and year are one report (renditions)
//!   or two (a revision), and which rendition is counted.
//! - [`id`]: report ids (SHA-256 of the document) and their hex and byte forms.
//! - [`kind`]: the kinds of document (text, HTML, PDF, DOCX …), their MIME types and file
//!   extensions.

pub mod catalogue;
pub mod finding;
pub mod form;
pub mod hash;
pub mod hints;
pub mod id;
pub mod kind;
pub mod rates;
pub mod reading;
pub mod rules;
