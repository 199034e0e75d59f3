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

use super::StoreError;
use crate::compliance::profile::default_profile;
use crate::compliance::{Basis, Previous};
use crate::index::{Index, Placed};
use crate::model::form::body_key;
use crate::pb::{Finding, Report};
use crate::validate;

/// The cross-year findings of `report` given what the index holds of the report of its
/// body for the year before, if there is one.
pub(super) fn findings(before: Option<&Report>, report: &Report) -> Vec<Finding> {
    before.map_or_else(Vec::new, |before| validate::cross_year(before, report))
}

/// A report on its way into the index: as stored (own findings only), with its compliance
/// basis and its seq.
#[derive(Clone, Copy)]
pub(super) struct Stored<'a> {
    pub report: &'a Report,
    pub basis: Option<&'a Basis>,
    pub seq: u64,
}

/// Where the scores read the stored reports they compare with: the store's records.
pub(super) trait Records {
    /// The report stored under `seq` and its compliance basis.
    fn scored(&self, seq: u64) -> Result<(Report, Option<Basis>), StoreError>;
}

/// Adds a stored report (own findings only) to `index` among those of its body and year
/// (a first report, a revision or another rendition: [`Index::insert_after`]): its
/// cross-year findings against the year before's counted report, and, when it is counted
/// now, those of the year after's counted report against it. Its compliance score (the
/// default profile's, [`crate::compliance::Basis::finish`]) is made the same way: its own
/// against the year before's, and, when it is counted now, the year after's against it.
/// Returns where it was placed.
pub(super) fn insert(index: &mut Index, new: Stored<'_>, records: &impl Records) -> Option<Placed> {
    let report = new.report;
    let body = body_key(report);
    let before = body
        .as_ref()
        .and_then(|(agency, year)| index.latest_row(agency, year - 1));
    let cross = findings(before.map(|row| index.facts(row)).as_ref(), report);
    let placed = index.insert_after(report, new.seq, &cross, before);
    let Some(at) = index.row_of(&report.id) else {
        return placed;
    };
    let previous = before.and_then(|row| read(records, index.seq(row)));
    let previous = previous.as_ref().map(|(r, b)| (r, b.as_ref()));
    let score = new
        .basis
        .and_then(|basis| score_of(basis, report, previous));
    index.set_score(at, score);
    let Some((agency, year)) = body else {
        return placed;
    };
    if !index.is_counted(at) {
        return placed;
    }
    if let Some(next) = index.latest_row(&agency, year + 1) {
        let cross = validate::cross_year(report, &index.facts(next));
        index.set_cross(next, &cross, at);
        let score = read(records, index.seq(next)).and_then(|(after, basis)| {
            basis.and_then(|basis| score_of(&basis, &after, Some((report, new.basis))))
        });
        index.set_score(next, score);
    }
    placed
}

/// The default profile's score of `report` given its basis and the year before's report
/// and basis.
fn score_of(
    basis: &Basis,
    report: &Report,
    previous: Option<(&Report, Option<&Basis>)>,
) -> Option<f64> {
    let previous = previous.map(|(report, basis)| Previous {
        report,
        narrative: basis.and_then(|b| b.narrative.as_deref()),
    });
    basis.finish(report, previous, default_profile()).score
}

/// The stored report `seq` and its basis; a record that cannot be read is logged and
/// scored as absent (the open that read it fails on it anyway).
fn read(records: &impl Records, seq: u64) -> Option<(Report, Option<Basis>)> {
    records
        .scored(seq)
        .inspect_err(
            |e| tracing::warn!(seq, error = %e, "a report compared for its score cannot be read"),
        )
        .ok()
}
