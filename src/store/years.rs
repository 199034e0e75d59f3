//! Rule 10 across the years of one body: the ONE place that links a report to its
//! neighbouring years, for commit, replay and reindex alike.
//!
//! A report's cross-year findings compare it with the latest report of the same body for
//! the year before ([`crate::validate::cross_year`]). So when a report of year N is stored,
//! two sets of findings change: its own (against N - 1) and those of the latest report of
//! N + 1 (against it). Commit and reindex compute them with [`findings`]; the index then
//! takes the stored findings of the year after every body touched ([`relink`]), which is
//! also what a replay after a crash does.

use std::collections::HashSet;

use super::StoreError;
use crate::index::Index;
use crate::model::form::body_key;
use crate::pb::{Finding, Report};
use crate::validate;

/// The body and year whose latest report `report` is compared with: the year before.
pub(super) fn year_before(report: &Report) -> Option<(String, i32)> {
    body_key(report).map(|(agency, year)| (agency, year - 1))
}

/// The body and year whose latest report is compared with `report`: the year after.
pub(super) fn year_after(report: &Report) -> Option<(String, i32)> {
    body_key(report).map(|(agency, year)| (agency, year + 1))
}

/// The cross-year findings of `report` given the latest report of its body for the year
/// before, if there is one.
pub(super) fn findings(before: Option<&Report>, report: &Report) -> Vec<Finding> {
    before.map_or_else(Vec::new, |before| validate::cross_year(before, report))
}

/// The bodies and years whose year after has findings to take again.
#[derive(Default)]
pub(super) struct Touched {
    next_years: HashSet<(String, i32)>,
}

impl Touched {
    /// Notes that `report` was stored: its year after may compare against it now.
    pub(super) fn add(&mut self, report: &Report) {
        if let Some(next) = year_after(report) {
            self.next_years.insert(next);
        }
    }
}

/// Sets in `index` the stored cross-year findings (`stored(id)`) of every revision of the
/// years after the touched reports. Every revision: a revision superseded since got its
/// findings rewritten when it was the latest, and the index may hold older ones.
pub(super) fn relink(
    index: &mut Index,
    touched: &Touched,
    mut stored: impl FnMut(&str) -> Result<Vec<Finding>, StoreError>,
) -> Result<(), StoreError> {
    for (agency, year) in &touched.next_years {
        let Some(latest) = index.latest_id(agency, *year) else {
            continue;
        };
        for id in index.revisions(&latest) {
            let cross = stored(&id)?;
            index.set_cross(&id, &cross);
        }
    }
    Ok(())
}
