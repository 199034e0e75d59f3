//! The in-memory index of stored reports: what every query reads. PURE: the store feeds
//! it, and nothing here does I/O.
//!
//! [`Index`] holds what queries need of every stored report, maintained as reports are
//! written, so no query decodes a stored report: per report a fixed-size row of its
//! dimensions (year, agency, region, format, revision status, where its finding codes sit
//! in a shared arena), its source apart, and one narrow [`Column`] per catalogue metric. Posting
//! lists by agency and by region name let a filtered query visit only the rows it selects.
//!
//! The rooms:
//! - this one: the rows, ids, revisions and arenas; insert, cross-year findings, summaries
//!   and the pages of ListReports;
//! - [`select`]: a typed [`Selection`] resolved against the index into rows, kept as a
//!   mask a block of 64 rows;
//! - [`aggregate`]: sums, rates and finding counts per group, each column read a block at
//!   a time at the selected rows;
//! - [`totals`]: exact per-year totals that answer the commonest aggregates without a scan;
//! - [`column`](mod@column): one metric's values, bit-packed in blocks of 64 rows;
//! - [`compliance`](mod@compliance): each row's compliance score and what the search for
//!   a like report of another body found;
//! - [`snapshot`]: the binary form the store keeps across a restart;
//! - [`sources`]: each row's source, front-coded.

pub mod aggregate;
pub mod codec;
pub mod column;
pub mod compliance;
mod places;
pub mod select;
pub mod snapshot;
pub mod sources;
pub mod totals;

#[cfg(test)]
mod tests;

use rustc_hash::FxHashMap as HashMap;

use crate::model::catalogue::{self, MetricKind, METRICS};
use crate::model::finding::Code;
use crate::model::id::{id_bytes, IdBytes};
use crate::model::reading;
use crate::pb::{self, Finding, Report, Severity, Template};
use crate::place::body_key;
pub use aggregate::{Dim, Order, Ranking, MAX_DIMS};
pub use codec::SnapshotError;
use column::Column;
use compliance::Scores;
pub use compliance::{Other, Score};
use places::Level;
pub use select::Selection;
use sources::Sources;
use totals::Totals;

/// A string table: every agency and region name is stored once, in one text, and found
/// again through a table of ids hashed by the name they stand for.
#[derive(Debug, Default)]
struct Interner {
    /// Every name, one after another.
    text: String,
    /// Where each name ends in `text`; it starts where the one before ends.
    ends: Vec<usize>,
    /// Each name's id, placed by the hash of the name.
    ids: hashbrown::HashTable<u32>,
    hasher: std::hash::RandomState,
}

impl Interner {
    fn hash(&self, s: &str) -> u64 {
        std::hash::BuildHasher::hash_one(&self.hasher, s)
    }

    fn intern(&mut self, s: &str) -> u32 {
        let hash = self.hash(s);
        if let Some(&id) = self.ids.find(hash, |&id| self.name(id) == s) {
            return id;
        }
        let id = self.ends.len() as u32;
        self.text.push_str(s);
        self.ends.push(self.text.len());
        let Interner {
            text,
            ends,
            ids,
            hasher,
        } = self;
        ids.insert_unique(hash, id, |&other| {
            std::hash::BuildHasher::hash_one(&*hasher, name_in(text, ends, other))
        });
        id
    }

    fn get(&self, s: &str) -> Option<u32> {
        self.ids
            .find(self.hash(s), |&id| self.name(id) == s)
            .copied()
    }

    fn name(&self, id: u32) -> &str {
        name_in(&self.text, &self.ends, id)
    }

    /// How many names it holds.
    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Every name, by id.
    fn names(&self) -> impl Iterator<Item = &str> {
        (0..self.len() as u32).map(|id| self.name(id))
    }

    fn heap_bytes(&self) -> usize {
        self.text.capacity()
            + self.ends.capacity() * std::mem::size_of::<usize>()
            + hash_table_bytes(self.ids.capacity(), 4)
    }
}

/// Name `id` of an [`Interner`]'s `text` and `ends`.
fn name_in<'a>(text: &'a str, ends: &[usize], id: u32) -> &'a str {
    let id = id as usize;
    let start = if id == 0 { 0 } else { ends[id - 1] };
    &text[start..ends[id]]
}

/// The heap bytes of a hashbrown table of `cap` entries of `entry` bytes: its buckets and
/// control bytes.
fn hash_table_bytes(cap: usize, entry: usize) -> usize {
    let buckets = if cap == 0 {
        0
    } else {
        (cap * 8 / 7).next_power_of_two()
    };
    buckets * (entry + 1)
}

/// No row, no string.
const NONE: u32 = u32::MAX;
/// The agency and the four region levels: [`Index::places`].
const PLACES: usize = 5;
/// Where the agency is in [`Index::places`]; region level `l` is at `1 + l`.
const AGENCY: usize = 0;
/// The year of a report that printed none.
const NO_YEAR: i32 = i32::MIN;

/// What the index keeps of one stored report besides its id and cells.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Row {
    seq: u64,
    /// Its place's division code (an interned name; empty when unresolved).
    code: u32,
    /// Its publication date as the number YYYYMMDD, or 0 when unknown.
    published: u32,
    /// The report of the same body and year stored just before it, or [`NONE`].
    prev: u32,
    /// Its body ([`crate::place::body`]'s name, interned), or [`NONE`] when it has no
    /// agency or no year (then it is no body's and year's).
    body: u32,
    /// The row its cross-year findings compare it with (the latest report of its body for
    /// the year before, when they were made), or [`NONE`].
    before: u32,
    /// Its finding codes are `findings[findings .. findings + own + cross]` of the arena:
    /// the report's own, then the cross-year ones.
    findings: u32,
    own: u16,
    cross: u16,
    year: i32,
    template: i32,
    /// True while it is the reading queries count for its body and year: the best
    /// rendition of the latest revision.
    latest: bool,
    /// True when it is another rendition of the reading `prev` belongs to (the same
    /// report); false when it starts a reading of its own (the first, or a revision).
    rendition: bool,
}

/// One column's share of the index (see [`Index::column_profile`]).
#[derive(Debug, Clone, Copy)]
pub struct ColumnProfile {
    pub printed: usize,
    pub zeros: usize,
    pub heap: usize,
}

/// Where [`Index::insert_after`] put a report among those of its body and year.
#[derive(Debug, Clone, PartialEq)]
pub enum Placed {
    /// The first of its body and year, or a report without agency or year.
    New,
    /// A reading that differs from the one counted (`supersedes`): a corrected report,
    /// counted from now on.
    Revision { supersedes: String },
    /// Another rendition of the report counted (`of`); `counted` when it states more
    /// figures and so is the one counted from now on.
    Rendition { of: String, counted: bool },
}

/// The row of each id: a table of row numbers, placed by a hash folded from the id's 32
/// bytes and checked against the index's `ids` (5 bytes a slot, not the 12 of a map from
/// the id's first 8 bytes and the 36 of one from the whole id). Ids are SHA-256 digests of
/// what was stored, so their bytes spread well; ids that share their first bytes (hand-made
/// ones) still spread by their others.
#[derive(Debug, Default)]
struct IdMap {
    rows: hashbrown::HashTable<u32>,
}

impl IdMap {
    fn hash(id: &IdBytes) -> u64 {
        let word = |i: usize| u64::from_le_bytes(id[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        (word(0) ^ word(1).rotate_left(17) ^ word(2).rotate_left(31) ^ word(3).rotate_left(47))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    /// The row of `id`; `ids` are the index's ids by row.
    fn get(&self, ids: &[IdBytes], id: &IdBytes) -> Option<u32> {
        self.rows
            .find(Self::hash(id), |&row| ids[row as usize] == *id)
            .copied()
    }

    /// Records `row` for `id`; false (and nothing changed) when `id` has a row already.
    /// Every row in the table has its id in `ids`.
    fn insert(&mut self, ids: &[IdBytes], id: IdBytes, row: u32) -> bool {
        if self.get(ids, &id).is_some() {
            return false;
        }
        self.rows
            .insert_unique(Self::hash(&id), row, |&r| Self::hash(&ids[r as usize]));
        true
    }

    fn reserve(&mut self, ids: &[IdBytes], n: usize) {
        self.rows.reserve(n, |&r| Self::hash(&ids[r as usize]));
    }

    fn heap_bytes(&self) -> usize {
        hash_table_bytes(self.rows.capacity(), 4)
    }
}

/// (body, year) → the newest row of that body and year: a table of row numbers placed by
/// a hash of the row's body and year (5 bytes a slot, not the 13 of a map keyed by both).
#[derive(Debug, Default)]
struct Heads {
    rows: hashbrown::HashTable<u32>,
}

impl Heads {
    fn hash(body: u32, year: i32) -> u64 {
        // Mixed: body ids are small and sequential, years few.
        crate::model::hash::mix((u64::from(body) << 32) | u64::from(year as u32))
    }

    /// True of a row (of `rows`) of `body` and `year`.
    fn of(rows: &[Row], body: u32, year: i32) -> impl Fn(&u32) -> bool + '_ {
        move |&r| {
            let row = &rows[r as usize];
            row.body == body && row.year == year
        }
    }

    /// The newest row of `body` and `year`; `rows` are the index's rows.
    fn get(&self, rows: &[Row], body: u32, year: i32) -> Option<u32> {
        self.rows
            .find(Self::hash(body, year), Self::of(rows, body, year))
            .copied()
    }

    /// Makes row `at` (in `rows`, with a body) the newest of its body and year.
    fn set(&mut self, rows: &[Row], at: u32) {
        let (body, year) = (rows[at as usize].body, rows[at as usize].year);
        let hash = Self::hash(body, year);
        let rehash = |&r: &u32| Self::hash(rows[r as usize].body, rows[r as usize].year);
        match self.rows.find_mut(hash, Self::of(rows, body, year)) {
            Some(head) => *head = at,
            None => {
                self.rows.insert_unique(hash, at, rehash);
            }
        }
    }

    /// Room for `n` more heads, so that a snapshot's load does not grow the table (each
    /// growth reads the body and year of every row in it).
    fn reserve(&mut self, rows: &[Row], n: usize) {
        self.rows.reserve(n, |&r| {
            Self::hash(rows[r as usize].body, rows[r as usize].year)
        });
    }

    fn heap_bytes(&self) -> usize {
        hash_table_bytes(self.rows.capacity(), 4)
    }
}

/// One page of ListReports.
#[derive(Debug, Default)]
pub struct Page {
    pub reports: Vec<pb::ReportSummary>,
    /// The seq the next page starts after, when more remain.
    pub next_after: Option<u64>,
    /// How many reports the selection covers in all.
    pub total: u64,
}

/// Every stored report, as queries need it.
#[derive(Debug)]
pub struct Index {
    strings: Interner,
    rows: Vec<Row>,
    ids: Vec<IdBytes>,
    columns: Vec<Column>,
    /// Finding codes of every row, packed by [`pack`].
    findings: Vec<u16>,
    /// Each row's source.
    sources: Sources,
    // Derived from the fields above (rebuilt by `decode`).
    by_id: IdMap,
    /// (body, year) → the newest row, where the chain of `prev` starts; the body is
    /// [`crate::place::body`]'s name, interned. The row counted
    /// for a body and year (the best rendition of the latest revision) is the one row of
    /// its chain flagged `latest`, found by walking it (see [`Index::counted_from`]).
    heads: Heads,
    /// (0, agency) or (1 + region level, name) → rows, in storage order.
    postings: HashMap<(u8, u32), Vec<u32>>,
    /// Every agency name that has rows.
    agencies: Vec<u32>,
    /// Those names joined by NUL, and where each starts: an agency substring is searched
    /// for in one pass. `None` once a name holds a NUL (then each name is searched).
    agency_text: Option<(String, Vec<u32>)>,
    /// Each row's agency (`places[AGENCY]`) and region name per level (`places[1 + level]`),
    /// as slots of the level's names: apart from the rows, so that grouping by one reads 4
    /// bytes a row, not a row's cache line, and counts into an array as long as the level
    /// has names.
    places: [Level; PLACES],
    /// Each row's year and whether it is the latest revision, apart from the rows so that
    /// whole-index scans read 5 bytes a row, not a row's 56.
    years: Vec<i32>,
    latest: Vec<bool>,
    /// Each row's compliance under the default profile, set by the store as it links the
    /// report to its neighbouring years and to like reports of other bodies.
    scores: Scores,
    /// Exact sums per year, for aggregates by year over everything.
    totals: Totals,
}

impl Default for Index {
    fn default() -> Self {
        Index::new()
    }
}

/// The posting lists of division codes: (CODE_POSTINGS, a code prefix) → rows.
const CODE_POSTINGS: u8 = 5;

/// The prefixes of a division code that name the divisions it lies in, from the province
/// down: `320813001` → `32`, `3208`, `320813`, `320813001`. A six-digit code ends in
/// zeros above county level (`320800` is the prefecture `3208`).
pub fn code_prefixes(code: &str) -> Vec<&str> {
    let code = code.trim();
    if code.len() < 2 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Vec::new();
    }
    let own = division_prefix(code);
    [2, 4, 6, 9]
        .into_iter()
        .filter(|&n| n <= own.len())
        .map(|n| &own[..n])
        .collect()
}

/// A division code without the zeros that pad it to six digits: `320000` → `32`, `320800`
/// → `3208`, `320813` → `320813`; a township's nine digits stay.
pub fn division_prefix(code: &str) -> &str {
    let mut own = code;
    if own.len() == 6 {
        while own.len() > 2 && own.ends_with("00") {
            own = &own[..own.len() - 2];
        }
    }
    own
}

/// The level of the division a code names.
pub fn level_of_code(code: &str) -> pb::PlaceLevel {
    match division_prefix(code).len() {
        2 => pb::PlaceLevel::Province,
        4 => pb::PlaceLevel::Prefecture,
        6 => pb::PlaceLevel::County,
        9.. => pb::PlaceLevel::Township,
        _ => pb::PlaceLevel::Unspecified,
    }
}

/// A date number YYYYMMDD as YYYY-MM-DD, or empty for 0.
fn date_text(n: u32) -> String {
    match n {
        0 => String::new(),
        n => format!("{:04}-{:02}-{:02}", n / 10_000, n / 100 % 100, n % 100),
    }
}

/// A report's division code, or empty.
fn region_code(report: &Report) -> String {
    report
        .region
        .as_ref()
        .map_or_else(String::new, |r| r.code.trim().to_owned())
}

/// A report's publication date as the number YYYYMMDD, or 0.
fn published_number(report: &Report) -> u32 {
    report
        .publication
        .as_ref()
        .and_then(|p| date_number(&p.date))
        .unwrap_or(0)
}

/// A date YYYY-MM-DD as the number YYYYMMDD (so dates compare as numbers).
pub fn date_number(date: &str) -> Option<u32> {
    let mut parts = date.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let (y, m, d): (u32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    ((1..=9999).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d))
        .then_some(y * 10_000 + m * 100 + d)
}

/// A finding's code and severity in 16 bits.
fn pack(code: Code, severity: Severity) -> u16 {
    let c = Code::ALL.iter().position(|&k| k == code).unwrap_or(0) as u16;
    (c << 2) | (severity as u16 & 3)
}

fn unpack(p: u16) -> Option<(Code, Severity)> {
    let code = *Code::ALL.get(usize::from(p >> 2))?;
    Some((code, Severity::try_from(i32::from(p & 3)).ok()?))
}

fn packed(findings: &[Finding]) -> impl Iterator<Item = u16> + '_ {
    findings.iter().filter_map(|f| {
        Some(pack(
            Code::parse(&f.code)?,
            Severity::try_from(f.severity).ok()?,
        ))
    })
}

impl Index {
    pub fn new() -> Index {
        Index {
            strings: Interner::default(),
            rows: Vec::new(),
            ids: Vec::new(),
            columns: METRICS
                .iter()
                .map(|m| Column::new(m.kind == MetricKind::SignedCount))
                .collect(),
            findings: Vec::new(),
            sources: Sources::default(),
            by_id: IdMap::default(),
            heads: Heads::default(),
            postings: HashMap::default(),
            agencies: Vec::new(),
            agency_text: Some((String::new(), Vec::new())),
            places: Default::default(),
            years: Vec::new(),
            latest: Vec::new(),
            scores: Scores::default(),
            totals: Totals::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Where the index's heap bytes go, part by part (capacities, hash tables estimated
    /// from their bucket counts): what `examples/index_load.rs` prints.
    pub fn heap_bytes(&self) -> Vec<(&'static str, usize)> {
        use std::mem::size_of;
        let table = hash_table_bytes;
        let postings: usize = self.postings.values().map(|l| l.capacity() * 4).sum();
        vec![
            ("columns", self.columns.iter().map(Column::heap_bytes).sum()),
            ("rows", self.rows.capacity() * size_of::<Row>()),
            ("ids", self.ids.capacity() * size_of::<IdBytes>()),
            ("id map", self.by_id.heap_bytes()),
            ("heads", self.heads.heap_bytes()),
            (
                "postings",
                postings + table(self.postings.capacity(), 8 + size_of::<Vec<u32>>()),
            ),
            (
                "strings",
                self.strings.heap_bytes()
                    + self.agencies.capacity() * 4
                    + self
                        .agency_text
                        .as_ref()
                        .map_or(0, |(t, s)| t.capacity() + s.capacity() * 4),
            ),
            ("findings", self.findings.capacity() * 2),
            ("sources", self.sources.heap_bytes()),
            (
                "years + latest",
                self.years.capacity() * 4 + self.latest.capacity(),
            ),
            ("places", self.places.iter().map(Level::heap_bytes).sum()),
            ("scores", self.scores.heap_bytes()),
        ]
    }

    /// Per catalogue metric: how many rows print it, how many of those print 0, and the
    /// bytes its column holds.
    pub fn column_profile(&self) -> Vec<ColumnProfile> {
        self.columns
            .iter()
            .map(|c| {
                let values = (0..c.len()).filter_map(|i| c.get(i));
                let (mut printed, mut zeros) = (0, 0);
                for v in values {
                    printed += 1;
                    zeros += usize::from(v == 0.0);
                }
                ColumnProfile {
                    printed,
                    zeros,
                    heap: c.heap_bytes(),
                }
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The row of a report id.
    pub fn row_of(&self, id: &str) -> Option<u32> {
        self.by_id.get(&self.ids, &id_bytes(id)?)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.row_of(id).is_some()
    }

    /// A row's id as bytes.
    pub fn id_bytes(&self, row: u32) -> &IdBytes {
        &self.ids[row as usize]
    }

    pub fn id(&self, row: u32) -> String {
        hex::encode(self.ids[row as usize])
    }

    /// Every row of the body and year row `r` belongs to, oldest first.
    fn chain(&self, r: u32) -> Vec<u32> {
        let row = &self.rows[r as usize];
        let mut at = match row.body {
            NONE => r,
            body => self.heads.get(&self.rows, body, row.year).unwrap_or(r),
        };
        let mut list = Vec::new();
        while at != NONE {
            list.push(at);
            at = self.rows[at as usize].prev;
        }
        list.reverse();
        list
    }

    /// Ids of every revision of the body and year `id` belongs to, oldest first: for each
    /// reading, the rendition that brought it.
    pub fn revisions(&self, id: &str) -> Vec<String> {
        let Some(r) = self.row_of(id) else {
            return Vec::new();
        };
        self.chain(r)
            .into_iter()
            .filter(|&at| !self.rows[at as usize].rendition)
            .map(|at| self.id(at))
            .collect()
    }

    /// Ids of every rendition of the report `id` is a rendition of (its reading), oldest
    /// first, and the id of the one counted (empty when that reading is superseded).
    pub fn renditions(&self, id: &str) -> (Vec<String>, String) {
        let Some(r) = self.row_of(id) else {
            return (Vec::new(), String::new());
        };
        let mut groups: Vec<Vec<u32>> = Vec::new();
        for at in self.chain(r) {
            match groups.last_mut() {
                Some(group) if self.rows[at as usize].rendition => group.push(at),
                _ => groups.push(vec![at]),
            }
        }
        let group = groups
            .into_iter()
            .find(|g| g.contains(&r))
            .unwrap_or_else(|| vec![r]);
        let counted = group
            .iter()
            .find(|&&at| self.latest[at as usize])
            .map_or_else(String::new, |&at| self.id(at));
        (group.into_iter().map(|at| self.id(at)).collect(), counted)
    }

    /// The figures where the reading of `id` differs from the reading it superseded (the
    /// rendition that was counted for it), as REVISION_CHANGED findings naming both.
    pub fn changes(&self, id: &str) -> Vec<Finding> {
        let Some(r) = self.row_of(id) else {
            return Vec::new();
        };
        let chain = self.chain(r);
        let Some(pos) = chain.iter().position(|&at| at == r) else {
            return Vec::new();
        };
        // The start of this reading, then the rows of the reading before it.
        let start = chain[..=pos]
            .iter()
            .rposition(|&at| !self.rows[at as usize].rendition)
            .unwrap_or(0);
        if start == 0 {
            return Vec::new();
        }
        let first = chain[..start]
            .iter()
            .rposition(|&at| !self.rows[at as usize].rendition)
            .unwrap_or(0);
        // Counted for that reading: the renditions in order, a later one only when better.
        let mut counted = self.facts(chain[first]);
        for &at in &chain[first + 1..start] {
            let facts = self.facts(at);
            if reading::better(&facts, &counted) {
                counted = facts;
            }
        }
        let mine = self.facts(r);
        reading::differences(&counted, &mine)
            .into_iter()
            .map(|d| {
                let path = METRICS[d.metric].path;
                crate::model::finding::finding(
                    Code::RevisionChanged,
                    path,
                    Some(d.first),
                    Some(d.second),
                    format!(
                        "与此前的 {} 所读不同：{} → {}",
                        counted.id, d.first, d.second
                    ),
                )
            })
            .collect()
    }

    /// True when row `r` is the reading counted for its body and year.
    pub fn is_counted(&self, r: u32) -> bool {
        self.latest[r as usize]
    }

    /// The id of the report counted for a body and year, if any.
    pub fn latest_id(&self, body: &str, year: i32) -> Option<String> {
        self.latest_row(body, year).map(|r| self.id(r))
    }

    /// The body row `r`'s report is from ([`crate::place::body`] over what the row holds:
    /// the agency and the division names it was placed in).
    fn body_of(&self, r: u32) -> &str {
        let name = |p: usize| self.strings.name(self.places[p].name(r as usize));
        let year = Some(self.years[r as usize]).filter(|&y| y != NO_YEAR);
        crate::place::body(name(AGENCY), [name(1), name(2), name(3), name(4)], year)
    }

    /// [`Index::body_of`] row `r`, interned: most bodies are their agency, whose name is
    /// interned already.
    pub(super) fn body_id(&mut self, r: u32) -> u32 {
        match self.strings.get(self.body_of(r)) {
            Some(id) => id,
            None => {
                let body = self.body_of(r).to_owned();
                self.strings.intern(&body)
            }
        }
    }

    /// The row of the report counted for a body (as [`crate::place::body_key`] names it)
    /// and year, if any.
    pub fn latest_row(&self, body: &str, year: i32) -> Option<u32> {
        let a = self.strings.get(body)?;
        self.counted_from(self.heads.get(&self.rows, a, year)?)
    }

    /// The row counted among `head` and the rows before it in its chain: the one flagged
    /// latest. A chain is as long as its body and year has renditions and revisions (one
    /// to three rows in practice), so a walk costs less than a map of counted rows
    /// (12 MiB a million rows).
    fn counted_from(&self, head: u32) -> Option<u32> {
        let mut at = head;
        while at != NONE {
            if self.latest[at as usize] {
                return Some(at);
            }
            at = self.rows[at as usize].prev;
        }
        None
    }

    /// The row a row's cross-year findings compare it with, if any.
    pub fn before(&self, row: u32) -> Option<u32> {
        Some(self.rows[row as usize].before).filter(|&b| b != NONE)
    }

    /// What the index holds of a row's report: its id, year and every cell. Rule 10 and
    /// the per-row comparisons read no more than that (see [`crate::validate::cross_year`]).
    pub fn facts(&self, row: u32) -> Report {
        let at = row as usize;
        let mut report = Report {
            id: self.id(row),
            year: Some(self.rows[at].year).filter(|&y| y != NO_YEAR),
            ..Report::default()
        };
        for (m, column) in self.columns.iter().enumerate() {
            if let Some(v) = column.get(at) {
                catalogue::set(&mut report, m, Some(v));
            }
        }
        report
    }

    fn post(&mut self, key: (u8, u32), row: u32) {
        let list = self.postings.entry(key).or_default();
        list.push(row);
        if list.len() == 1 && key.0 == 0 {
            self.agencies.push(key.1);
            let name = self.strings.name(key.1);
            match &mut self.agency_text {
                Some(_) if name.contains('\0') => self.agency_text = None,
                Some((text, starts)) => {
                    starts.push(text.len() as u32);
                    text.push_str(name);
                    text.push('\0');
                }
                None => {}
            }
        }
    }

    /// Adds a stored report (see [`Index::insert_after`]). Returns the id of the report it
    /// supersedes or is a rendition of, if any.
    pub fn insert(&mut self, report: &Report, seq: u64, cross: &[Finding]) -> Option<String> {
        match self.insert_after(report, seq, cross, None)? {
            Placed::New => None,
            Placed::Revision { supersedes } => Some(supersedes),
            Placed::Rendition { of, .. } => Some(of),
        }
    }

    /// Adds a stored report, with the row its cross-year findings `cross` compare it with.
    /// A report of a body and year already held is another rendition of the counted one
    /// when no figure both state differs ([`reading::same_report`]), and is counted instead
    /// when it states more; otherwise it is a revision, counted from now on. Reports whose
    /// id is not 64 hex digits (the store never makes one) are not indexed (`None`).
    pub fn insert_after(
        &mut self,
        report: &Report,
        seq: u64,
        cross: &[Finding],
        before: Option<u32>,
    ) -> Option<Placed> {
        let key = id_bytes(&report.id)?;
        if self.by_id.get(&self.ids, &key).is_some() {
            return None;
        }
        let at = self.rows.len() as u32;
        let region = report.region.clone().unwrap_or_default();
        let agency = self.strings.intern(report.agency.trim());
        let region = [
            self.strings.intern(&region.province),
            self.strings.intern(&region.city),
            self.strings.intern(&region.county),
            self.strings.intern(&region.township),
        ];
        let findings = self.findings.len() as u32;
        self.findings.extend(packed(&report.findings));
        let own = (self.findings.len() as u32 - findings) as u16;
        self.findings.extend(packed(cross));
        let cross = (self.findings.len() as u32 - findings - u32::from(own)) as u16;
        let code = self.strings.intern(&region_code(report));
        let published = published_number(report);
        let mut prev = NONE;
        let mut body_id = NONE;
        let mut placed = Placed::New;
        let mut counted = true;
        if let Some((body, year)) = body_key(report) {
            body_id = self.strings.intern(&body);
            prev = self.heads.get(&self.rows, body_id, year).unwrap_or(NONE);
            if let Some(old) = self.counted_from(prev) {
                let held = self.facts(old);
                placed = if reading::same_report(&held, report) {
                    counted = reading::better(report, &held);
                    Placed::Rendition {
                        of: self.id(old),
                        counted,
                    }
                } else {
                    Placed::Revision {
                        supersedes: self.id(old),
                    }
                };
                if counted {
                    self.rows[old as usize].latest = false;
                    self.latest[old as usize] = false;
                    let columns = &self.columns;
                    self.totals
                        .account(year, (false, true), -1, &|m| columns[m].get(old as usize));
                }
            }
        }
        self.places[AGENCY].push(agency);
        for (level, name) in region.into_iter().enumerate() {
            self.places[1 + level].push(name);
        }
        self.rows.push(Row {
            seq,
            code,
            published,
            prev,
            body: body_id,
            before: before.unwrap_or(NONE),
            findings,
            own,
            cross,
            year: report.year.unwrap_or(NO_YEAR),
            template: Template::try_from(report.template).unwrap_or(Template::Unknown) as i32,
            latest: counted,
            rendition: matches!(placed, Placed::Rendition { .. }),
        });
        if body_id != NONE {
            self.heads.set(&self.rows, at);
        }
        self.years.push(self.rows[at as usize].year);
        self.latest.push(counted);
        self.scores.push();
        self.ids.push(key);
        self.sources.push(&report.source);
        self.by_id.insert(&self.ids, key, at);
        for (m, column) in self.columns.iter_mut().enumerate() {
            column.push(catalogue::get(report, m));
        }
        let columns = &self.columns;
        self.totals
            .account(self.years[at as usize], (true, counted), 1, &|m| {
                columns[m].get(at as usize)
            });
        self.post_row(at);
        Some(placed)
    }

    fn post_row(&mut self, at: u32) {
        let row = self.rows[at as usize];
        for k in 0..PLACES {
            let name = self.places[k].name(at as usize);
            if !self.strings.name(name).is_empty() {
                self.post((k as u8, name), at);
            }
        }
        let code = self.strings.name(row.code).to_owned();
        for prefix in code_prefixes(&code) {
            let id = self.strings.intern(prefix);
            self.post((CODE_POSTINGS, id), at);
        }
    }

    /// Sets the compliance score of the report in row `r` (`None`: it has none).
    pub fn set_score(&mut self, r: u32, score: Option<Score>) {
        self.scores.set(r, score);
    }

    /// The compliance score of the report in row `r` under the default profile, if it has
    /// one.
    pub fn score(&self, r: u32) -> Option<Score> {
        self.scores.get(r)
    }

    /// The counted rows of `year` placed at or under the division `prefix` (a code without
    /// its padding zeros), in storage order, each with its agency and division code.
    pub fn counted_under(&self, prefix: &str, year: i32) -> Vec<(u32, &str, &str)> {
        let Some(id) = self.strings.get(prefix) else {
            return Vec::new();
        };
        self.postings
            .get(&(CODE_POSTINGS, id))
            .into_iter()
            .flatten()
            .filter(|&&r| self.latest[r as usize] && self.years[r as usize] == year)
            .map(|&r| {
                (
                    r,
                    self.strings.name(self.places[AGENCY].name(r as usize)),
                    self.strings.name(self.rows[r as usize].code),
                )
            })
            .collect()
    }

    /// Row `r`'s agency as its report names it.
    pub fn agency(&self, r: u32) -> &str {
        self.strings.name(self.places[AGENCY].name(r as usize))
    }

    /// Row `r`'s value of catalogue metric `m`, when its report prints it.
    pub fn value(&self, r: u32, m: usize) -> Option<f64> {
        self.columns[m].get(r as usize)
    }

    /// Sets the SimHash of row `r`'s narrative ([`crate::compliance::text::simhash`]).
    pub fn set_simhash(&mut self, r: u32, hash: Option<u64>) {
        let year = self.years[r as usize];
        self.scores.set_simhash(r, year, hash);
    }

    /// The counted rows of row `r`'s year, of other bodies, whose narrative's SimHash is
    /// within `near` bits of `hash`, in storage order: candidates for a like report, to be
    /// confirmed on the texts.
    pub fn near(&self, r: u32, hash: u64, near: u32) -> impl Iterator<Item = u32> + '_ {
        let body = self.body_of(r);
        self.scores
            .near(self.years[r as usize], hash, near)
            .filter(move |&o| o != r && self.latest[o as usize] && self.body_of(o) != body)
    }

    /// Records what the search for a like report of another body found for row `r`.
    pub fn set_other(&mut self, r: u32, other: Other) {
        self.scores.set_other(r, other);
    }

    /// What the search for a like report of another body found for row `r`.
    pub fn other(&self, r: u32) -> Other {
        self.scores.other(r)
    }

    /// Replaces the cross-year findings of the report in row `r`, now made against the
    /// report in row `before`.
    pub fn set_cross(&mut self, r: u32, cross: &[Finding], before: u32) {
        self.rows[r as usize].before = before;
        let row = self.rows[r as usize];
        let start = row.findings as usize;
        let own_end = start + usize::from(row.own);
        let new: Vec<u16> = packed(cross).collect();
        if new.len() <= usize::from(row.cross) {
            self.findings[own_end..own_end + new.len()].copy_from_slice(&new);
        } else {
            // Move the row's codes to the end of the arena (the old place is left unused).
            let own: Vec<u16> = self.findings[start..own_end].to_vec();
            self.rows[r as usize].findings = self.findings.len() as u32;
            self.findings.extend(own);
            self.findings.extend_from_slice(&new);
        }
        self.rows[r as usize].cross = new.len() as u16;
    }

    fn codes(&self, row: &Row) -> impl Iterator<Item = (Code, Severity)> + '_ {
        let start = row.findings as usize;
        let end = start + usize::from(row.own) + usize::from(row.cross);
        self.findings[start..end].iter().filter_map(|&p| unpack(p))
    }

    fn count(&self, row: &Row, severity: Severity) -> u32 {
        self.codes(row).filter(|(_, s)| *s == severity).count() as u32
    }

    pub fn summary(&self, i: u32) -> pb::ReportSummary {
        let row = &self.rows[i as usize];
        let place = |k: usize| {
            self.strings
                .name(self.places[k].name(i as usize))
                .to_owned()
        };
        pb::ReportSummary {
            id: self.id(i),
            agency: place(AGENCY),
            year: (row.year != NO_YEAR).then_some(row.year),
            template: row.template,
            region: Some(pb::Region {
                province: place(1),
                city: place(2),
                county: place(3),
                township: place(4),
                code: self.strings.name(row.code).to_owned(),
                level: level_of_code(self.strings.name(row.code)) as i32,
                ..Default::default()
            }),
            errors: self.count(row, Severity::Error),
            warnings: self.count(row, Severity::Warning),
            infos: self.count(row, Severity::Info),
            source: self.sources.get(i as usize),
            latest: row.latest,
            published: date_text(row.published),
            findings: Vec::new(),
            compliance_score: self.score(i).map(|s| s.score),
            compliance_coverage: self.score(i).map(|s| s.coverage),
        }
    }

    /// A row's facts for export: its summary, then one value per catalogue metric.
    pub fn export_row(&self, i: u32) -> pb::ExportRow {
        let summary = self.summary(i);
        let mut values = Vec::with_capacity(self.columns.len());
        let mut absent = Vec::new();
        for (m, column) in self.columns.iter().enumerate() {
            match column.get(i as usize) {
                Some(v) => values.push(v),
                None => {
                    values.push(0.0);
                    absent.push(m as u32);
                }
            }
        }
        pb::ExportRow {
            id: summary.id,
            agency: summary.agency,
            region: summary.region,
            year: summary.year,
            template: summary.template,
            latest: summary.latest,
            errors: summary.errors,
            warnings: summary.warnings,
            infos: summary.infos,
            source: summary.source,
            values,
            absent,
            published: summary.published,
            compliance_score: summary.compliance_score,
            compliance_coverage: summary.compliance_coverage,
        }
    }

    pub fn seq(&self, i: u32) -> u64 {
        self.rows[i as usize].seq
    }

    /// One page of the reports a selection covers, in storage order: at most `size` of
    /// those stored after `after` (a seq; 0 for the first page).
    pub fn page(&self, selection: &Selection, after: u64, size: usize) -> Page {
        let mut page = Page::default();
        let mut last_seq = after;
        for i in self.select(selection) {
            page.total += 1;
            let seq = self.seq(i);
            if seq <= after {
                continue;
            }
            if page.reports.len() < size {
                page.reports.push(self.summary(i));
                last_seq = seq;
            } else if page.next_after.is_none() {
                // More remain: the next page starts after the last report of this one.
                page.next_after = Some(last_seq);
            }
        }
        page
    }
}
