//! The printed forms' shape, shared by the parser, the validator and the index. PURE.

use crate::pb::Report;

/// The body a report belongs to: its agency and year, when it has both.
pub fn body_key(report: &Report) -> Option<(String, i32)> {
    let agency = report.agency.trim();
    match (agency.is_empty(), report.year) {
        (false, Some(year)) => Some((agency.to_owned(), year)),
        _ => None,
    }
}
