//! Rule 10 across the years of one body: the ONE place that links a report to its
//! neighbouring years, for commit, replay and rebuild alike.
//!
//! A report's cross-year findings compare it with the latest report of the same body for
//! the year before ([`crate::validate::cross_year`]). So when a report of year N is stored,
//! two sets of findings change: its own (against N - 1) and those of the latest report of
//! N + 1 (against it). Both are derived, never stored: [`insert`] computes them from what
//! the index holds of the reports compared (their year and cells, which is all rule 10
//! reads), and the index keeps the codes and the row each report was compared with. Commit
//! and replay call [`insert`] on the same reports in the same seq order, so a replay after
//! a crash gives what the commits gave; [`findings`] gives GetReport the findings again.

use crate::index::{Index, Placed};
use crate::model::form::body_key;
use crate::pb::{Finding, Report};
use crate::validate;

/// The cross-year findings of `report` given what the index holds of the report of its
/// body for the year before, if there is one.
pub(super) fn findings(before: Option<&Report>, report: &Report) -> Vec<Finding> {
    before.map_or_else(Vec::new, |before| validate::cross_year(before, report))
}

/// Adds a stored report (own findings only) to `index` among those of its body and year
/// (a first report, a revision or another rendition: [`Index::insert_after`]): its
/// cross-year findings against the year before's counted report, and, when it is counted
/// now, those of the year after's counted report against it. Returns where it was placed.
pub(super) fn insert(index: &mut Index, report: &Report, seq: u64) -> Option<Placed> {
    let body = body_key(report);
    let before = body
        .as_ref()
        .and_then(|(agency, year)| index.latest_row(agency, year - 1));
    let cross = findings(before.map(|row| index.facts(row)).as_ref(), report);
    let placed = index.insert_after(report, seq, &cross, before);
    let (Some((agency, year)), Some(at)) = (body, index.row_of(&report.id)) else {
        return placed;
    };
    if !index.is_counted(at) {
        return placed;
    }
    if let Some(next) = index.latest_row(&agency, year + 1) {
        let cross = validate::cross_year(report, &index.facts(next));
        index.set_cross(next, &cross, at);
    }
    placed
}
