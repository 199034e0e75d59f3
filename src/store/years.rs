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

use super::recent::Compared;
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
    fn compared(&self, seq: u64) -> Result<Compared, StoreError>;
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
/// that one is scored again when it had none alike before.
///
/// Returns where it was placed, and what it decided of the scores ([`Scored`]). Given
/// `kept`, what the commit of this report decided (a replay), sets that instead of reading
/// and comparing the reports again, when it was made for this row.
pub(super) fn insert(
    index: &mut Index,
    new: Stored<'_>,
    records: &impl Records,
    kept: Option<&Scored>,
) -> (Option<Placed>, Option<Scored>) {
    let report = new.report;
    let body = body_key(report);
    let before = body
        .as_ref()
        .and_then(|(agency, year)| index.latest_row(agency, year - 1));
    let cross = findings(before.map(|row| index.facts(row)).as_ref(), report);
    let placed = index.insert_after(report, new.seq, &cross, before);
    let Some(at) = index.row_of(&report.id) else {
        return (placed, None);
    };
    let counted = index.is_counted(at);
    let next = match &body {
        Some((agency, year)) if counted => index.latest_row(agency, year + 1),
        _ => None,
    };
    if let Some(next) = next {
        let cross = validate::cross_year(report, &index.facts(next));
        index.set_cross(next, &cross, at);
    }
    if let Some(kept) = kept.filter(|k| k.fits(index, at, new.seq)) {
        kept.apply(index, at);
        return (placed, Some(kept.clone()));
    }
    let scored = score(index, at, new, records, next);
    (placed, Some(scored))
}

/// Scores the row `at` just inserted (see [`insert`]), the report of another body found
/// alike when it had none before, and the body's counted report of the year after
/// (`next`); what it set, as [`Scored`].
fn score(
    index: &mut Index,
    at: u32,
    new: Stored<'_>,
    records: &impl Records,
    next: Option<u32>,
) -> Scored {
    let known = Known {
        row: at,
        report: new.report,
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
    let mut rows = vec![at];
    if let (Other::Found(o), true) = (other, index.is_counted(at)) {
        if index.other(o) == Other::NoneFound {
            index.set_other(o, Other::Found(at));
            let score = rescore(index, o, &known, records);
            index.set_score(o, score);
            rows.push(o);
        }
    }
    if let Some(next) = next {
        let score = rescore(index, next, &known, records);
        index.set_score(next, score);
        rows.push(next);
    }
    Scored::of(index, hash, &rows)
}

/// What one insert decided of the scores: the inserted row's SimHash, and each row it
/// scored (itself, another body's report found alike, its body's year after) as the index
/// holds it after. The store keeps it beside the record, so that a replay sets the scores
/// rather than reads and compares the reports again; a replay without it (the entry not
/// yet written at a crash) computes them, which gives the same.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Scored {
    simhash: Option<u64>,
    /// (row, its seq, what the search of other bodies found for it, its score).
    rows: Vec<(u32, u64, Other, Option<Score>)>,
}

/// The [`Scored`] of a run of commits as the store keeps them, under the run's last seq: per
/// report its seq, the length of its [`Scored::encode`] and those bytes. One entry a run of
/// reports, not one a report: the store's tree stays small beside the records.
pub(super) fn encode_batch(scored: &[(u64, Scored)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (seq, s) in scored {
        let bytes = s.encode();
        out.extend_from_slice(&seq.to_le_bytes());
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&bytes);
    }
    out
}

/// [`encode_batch`]'s bytes back, in seq order; `None` when they are not such bytes.
pub(super) fn decode_batch(mut bytes: &[u8]) -> Option<Vec<(u64, Scored)>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (seq, rest) = bytes.split_first_chunk::<8>()?;
        let (len, rest) = rest.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len) as usize;
        let scored = Scored::decode(rest.get(..len)?)?;
        out.push((u64::from_le_bytes(*seq), scored));
        bytes = &rest[len..];
    }
    Some(out)
}

/// Bytes of one row of [`Scored::encode`]: row, seq, other (tag and row), score, coverage.
const SCORED_ROW_BYTES: usize = 4 + 8 + 1 + 4 + 8 + 8;

impl Scored {
    fn of(index: &Index, simhash: Option<u64>, rows: &[u32]) -> Scored {
        Scored {
            simhash,
            rows: rows
                .iter()
                .map(|&r| (r, index.seq(r), index.other(r), index.score(r)))
                .collect(),
        }
    }

    /// True when it was made for the report of `seq` inserted next into `index` (at the
    /// next row): a replay needs no compliance basis for that report then.
    pub(super) fn fits_next(&self, index: &Index, seq: u64) -> bool {
        self.fits(index, index.len() as u32, seq)
    }

    /// True when it was made for the report of `seq` at row `at`: its first row is that
    /// one, and every other row it names holds the report of the seq it names.
    fn fits(&self, index: &Index, at: u32, seq: u64) -> bool {
        self.rows
            .first()
            .is_some_and(|&(r, s, ..)| r == at && s == seq)
            && self.rows[1..]
                .iter()
                .all(|&(r, s, ..)| r != at && (r as usize) < index.len() && index.seq(r) == s)
    }

    /// Sets the score of its first row (a test's hand-made entry).
    #[cfg(test)]
    pub(super) fn set_first_score(&mut self, score: Option<Score>) {
        self.rows[0].3 = score;
    }

    fn apply(&self, index: &mut Index, at: u32) {
        index.set_simhash(at, self.simhash);
        for &(r, _, other, score) in &self.rows {
            index.set_other(r, other);
            index.set_score(r, score);
        }
    }

    /// Little-endian: the SimHash (0 for none), then per row its row, seq, other (a tag:
    /// 0 not searched, 1 none found, 2 found, and the row found), score and coverage (NaN
    /// for no score).
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + SCORED_ROW_BYTES * self.rows.len());
        out.extend_from_slice(&self.simhash.unwrap_or(0).to_le_bytes());
        for &(r, seq, other, score) in &self.rows {
            out.extend_from_slice(&r.to_le_bytes());
            out.extend_from_slice(&seq.to_le_bytes());
            let (tag, found) = match other {
                Other::NotSearched => (0u8, 0u32),
                Other::NoneFound => (1, 0),
                Other::Found(o) => (2, o),
            };
            out.push(tag);
            out.extend_from_slice(&found.to_le_bytes());
            let (score, coverage) = score.map_or((f64::NAN, f64::NAN), |s| (s.score, s.coverage));
            out.extend_from_slice(&score.to_le_bytes());
            out.extend_from_slice(&coverage.to_le_bytes());
        }
        out
    }

    /// [`Scored::encode`]'s bytes back; `None` when they are not such bytes.
    fn decode(bytes: &[u8]) -> Option<Scored> {
        let (hash, rest) = bytes.split_first_chunk::<8>()?;
        if rest.len() % SCORED_ROW_BYTES != 0 {
            return None;
        }
        let simhash = Some(u64::from_le_bytes(*hash)).filter(|&h| h != 0);
        let mut rows = Vec::with_capacity(rest.len() / SCORED_ROW_BYTES);
        for row in rest.chunks_exact(SCORED_ROW_BYTES) {
            let u32_at = |i: usize| u32::from_le_bytes(row[i..i + 4].try_into().expect("4"));
            let u64_at = |i: usize| u64::from_le_bytes(row[i..i + 8].try_into().expect("8"));
            let other = match row[12] {
                0 => Other::NotSearched,
                1 => Other::NoneFound,
                2 => Other::Found(u32_at(13)),
                _ => return None,
            };
            let (score, coverage) = (f64::from_bits(u64_at(17)), f64::from_bits(u64_at(25)));
            let score = (!score.is_nan()).then_some(Score { score, coverage });
            rows.push((u32_at(0), u64_at(4), other, score));
        }
        Some(Scored { simhash, rows })
    }
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
type Read = Compared;

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
    let r = read(records, index.seq(row))?;
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
fn read(records: &impl Records, seq: u64) -> Option<Compared> {
    records
        .compared(seq)
        .inspect_err(
            |e| tracing::warn!(seq, error = %e, "a report compared for its score cannot be read"),
        )
        .ok()
}
