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

use std::cell::RefCell;
use std::rc::Rc;

use super::StoreError;
use crate::compliance::profile::default_profile;
use crate::compliance::{text, Basis, Others, Previous};
use crate::index::{Index, Other, Placed, Score};
use crate::pb::{Finding, Report};
use crate::place::body_key;
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
        read: RefCell::new(Vec::new()),
    };
    let shingles = new.basis.and_then(Basis::shingles);
    let hash = shingles.and_then(text::Shingles::simhash);
    index.set_simhash(at, hash);
    let other = match (new.basis, hash, shingles) {
        (Some(_), Some(hash), Some(shingles)) => alike(index, at, hash, shingles, &known, records),
        (Some(_), ..) => Other::NoneFound,
        (None, ..) => Other::NotSearched,
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
/// the one of these `shingles` (SimHash within [`text::SIMHASH_NEAR`] bits, then
/// [`text::Shingles::alike`] under the default profile's threshold).
fn alike(
    index: &Index,
    at: u32,
    hash: u64,
    shingles: &text::Shingles,
    known: &Known<'_>,
    records: &impl Records,
) -> Other {
    let threshold = default_profile().copy_across_threshold;
    let candidates: Vec<u32> = index
        .near(at, hash, text::SIMHASH_NEAR)
        .take(CONFIRM_AT_MOST)
        .collect();
    for o in candidates {
        let Some(theirs) = fetch(index, o, known, records) else {
            continue;
        };
        if let Some(theirs) = theirs.1.as_ref().and_then(Basis::shingles) {
            if shingles.alike(theirs, threshold) {
                return Other::Found(o);
            }
        }
    }
    Other::NoneFound
}

/// A stored report and its basis, as read once for one insert.
type Read = Rc<(Report, Option<Basis>)>;

/// The report just inserted, in hand (its row is scored without reading it back), and the
/// reports read for it so far: each is read, and its narrative's shingles made, once.
struct Known<'a> {
    row: u32,
    report: &'a Report,
    basis: Option<&'a Basis>,
    read: RefCell<Vec<(u32, Read)>>,
}

/// The report in `row` and its basis, read from the records once per insert (`None` for
/// the report in hand, or one that cannot be read).
fn fetch(index: &Index, row: u32, known: &Known<'_>, records: &impl Records) -> Option<Read> {
    if row == known.row {
        return None;
    }
    if let Some((_, r)) = known.read.borrow().iter().find(|(at, _)| *at == row) {
        return Some(r.clone());
    }
    let r = Rc::new(read(records, index.seq(row))?);
    known.read.borrow_mut().push((row, r.clone()));
    Some(r)
}

/// Row `row`'s report and basis as the scores compare with it.
fn compared<'a>(row: u32, known: &'a Known<'_>, read: Option<&'a Read>) -> Option<Previous<'a>> {
    if row == known.row {
        return Some(match known.basis {
            Some(b) => b.compared(known.report),
            None => bare(known.report),
        });
    }
    let (report, basis) = &**read?;
    Some(match basis {
        Some(b) => b.compared(report),
        None => bare(report),
    })
}

/// A report without a basis: no narrative to compare.
fn bare(report: &Report) -> Previous<'_> {
    Previous {
        report,
        narrative: None,
        shingles: None,
    }
}

/// The default profile's score of the report in `row`: its basis finished beside its
/// body's counted report of the year before and the other body's report alike, as the
/// index names them now.
fn rescore(index: &Index, row: u32, known: &Known<'_>, records: &impl Records) -> Option<Score> {
    let this = fetch(index, row, known, records);
    let (report, basis) = match &this {
        None if row == known.row => (known.report, known.basis?),
        None => return None,
        Some(r) => (&r.0, r.1.as_ref()?),
    };
    let before = body_key(report).and_then(|(agency, year)| index.latest_row(&agency, year - 1));
    let before_read = before.and_then(|p| fetch(index, p, known, records));
    let previous = before.and_then(|p| compared(p, known, before_read.as_ref()));
    let other_read;
    let others = match index.other(row) {
        Other::NotSearched => Others::NotSearched,
        Other::NoneFound => Others::NoneFound,
        Other::Found(o) => {
            other_read = fetch(index, o, known, records);
            // A record alike that cannot be read now: scored as not searched, not clean.
            compared(o, known, other_read.as_ref()).map_or(Others::NotSearched, Others::Found)
        }
    };
    let assessment = basis.finish(report, previous, others, default_profile());
    assessment.score.map(|score| Score {
        score,
        coverage: assessment.coverage,
    })
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
