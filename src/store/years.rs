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
use crate::compliance::{text, Basis, Others, Previous};
use crate::index::{Index, Other, Placed, Score};
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
/// now, those of the year after's counted report against it.
///
/// Its compliance score (the default profile's, [`crate::compliance::Basis::finish`]) is
/// made the same way: its own against the year before's, and, when it is counted now, the
/// year after's against it. Its narrative is looked for among the counted reports of other
/// bodies of its year ([`alike`]); the first one alike is named in both reports' rows, and
/// that one is scored again when it had none alike before. Returns where it was placed.
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
    let known = Known {
        row: at,
        report,
        basis: new.basis,
    };
    let narrative = new.basis.and_then(|b| b.narrative.as_deref());
    let hash = narrative.and_then(text::simhash);
    index.set_simhash(at, hash);
    let other = match (new.basis, hash) {
        (None, _) => Other::NotSearched,
        (Some(_), None) => Other::NoneFound,
        (Some(_), Some(hash)) => alike(index, at, hash, narrative.unwrap_or_default(), records),
    };
    index.set_other(at, other);
    let score = rescore(index, at, &known, records);
    index.set_score(at, score);
    let counted = index.is_counted(at);
    if let (Other::Found(o), true) = (other, counted) {
        if index.other(o) == Other::NoneFound {
            index.set_other(o, Other::Found(at));
            let score = rescore(index, o, &known, records);
            index.set_score(o, score);
        }
    }
    let Some((agency, year)) = body else {
        return placed;
    };
    if !counted {
        return placed;
    }
    if let Some(next) = index.latest_row(&agency, year + 1) {
        let cross = validate::cross_year(report, &index.facts(next));
        index.set_cross(next, &cross, at);
        let score = rescore(index, next, &known, records);
        index.set_score(next, score);
    }
    placed
}

/// Candidates [`alike`] confirms on the texts at most (each a record read): enough for a
/// year where many bodies print one template's sentences, bounded for one where thousands
/// do.
const CONFIRM_AT_MOST: usize = 4;

/// The first counted report of another body of row `at`'s year whose narrative is like
/// `narrative` (SimHash within [`text::SIMHASH_NEAR`] bits, then
/// [`crate::compliance::text::alike`] under the default profile's threshold).
fn alike(index: &Index, at: u32, hash: u64, narrative: &str, records: &impl Records) -> Other {
    let threshold = default_profile().copy_across_threshold;
    let candidates: Vec<u32> = index
        .near(at, hash, text::SIMHASH_NEAR)
        .take(CONFIRM_AT_MOST)
        .collect();
    for o in candidates {
        let Some((_, Some(basis))) = read(records, index.seq(o)) else {
            continue;
        };
        if let Some(theirs) = basis.narrative.as_deref() {
            if text::alike(narrative, theirs, threshold) {
                return Other::Found(o);
            }
        }
    }
    Other::NoneFound
}

/// The report just inserted, in hand: its row is scored without reading it back.
struct Known<'a> {
    row: u32,
    report: &'a Report,
    basis: Option<&'a Basis>,
}

/// The report in `row` and its basis: the one in hand, or read from the records.
fn fetch(
    index: &Index,
    row: u32,
    known: &Known<'_>,
    records: &impl Records,
) -> Option<(Report, Option<Basis>)> {
    if row == known.row {
        return Some((known.report.clone(), known.basis.cloned()));
    }
    read(records, index.seq(row))
}

/// The default profile's score of the report in `row`: its basis finished beside its
/// body's counted report of the year before and the other body's report alike, as the
/// index names them now.
fn rescore(index: &Index, row: u32, known: &Known<'_>, records: &impl Records) -> Option<Score> {
    let owned;
    let (report, basis) = if row == known.row {
        (known.report, known.basis?)
    } else {
        owned = read(records, index.seq(row))?;
        (&owned.0, owned.1.as_ref()?)
    };
    let previous = body_key(report)
        .and_then(|(agency, year)| index.latest_row(&agency, year - 1))
        .and_then(|p| fetch(index, p, known, records));
    let other = match index.other(row) {
        Other::NotSearched => None,
        Other::NoneFound => Some(None),
        Other::Found(o) => Some(Some(fetch(index, o, known, records))),
    };
    let others = match &other {
        None => Others::NotSearched,
        Some(None) => Others::NoneFound,
        // A record alike that cannot be read now: scored as not searched, not as clean.
        Some(Some(None)) => Others::NotSearched,
        Some(Some(Some(o))) => Others::Found(as_compared(o)),
    };
    let assessment = basis.finish(
        report,
        previous.as_ref().map(as_compared),
        others,
        default_profile(),
    );
    assessment.score.map(|score| Score {
        score,
        coverage: assessment.coverage,
    })
}

/// A report and its basis as the indicators compare with it.
fn as_compared((report, basis): &(Report, Option<Basis>)) -> Previous<'_> {
    Previous {
        report,
        narrative: basis.as_ref().and_then(|b| b.narrative.as_deref()),
    }
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
