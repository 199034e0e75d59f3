//! Sums, rates and finding counts over stored reports. PURE: the store feeds it.
//!
//! [`Index`] holds what queries need of every stored report, maintained as reports are
//! written, so no query decodes a stored report: per report a fixed-size row of its
//! dimensions (year, agency, region, format, revision status, where its finding codes and
//! source sit in two shared arenas), and one narrow [`Column`] per catalogue metric. Posting
//! lists by agency and by region name let a filtered query visit only the rows it selects.
//! [`Index::encode`] and [`Index::decode`] are the snapshot the store keeps across a clean
//! restart.

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::column::{take, Column};
use crate::model::catalogue::{self, MetricKind, METRICS};
use crate::model::finding::Code;
use crate::model::form::body_key;
use crate::model::id::id_bytes;
use crate::model::rates::{RateDef, RATES};
use crate::pb::{self, Finding, Report, Severity, Template};
use crate::totals::Totals;

/// A dimension to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    Year,
    Agency,
    Province,
    City,
    County,
    Township,
    Template,
}

impl Dim {
    pub const NAMES: &'static [&'static str] = &[
        "year", "agency", "province", "city", "county", "township", "template",
    ];

    pub fn parse(s: &str) -> Option<Dim> {
        Some(match s {
            "year" => Dim::Year,
            "agency" => Dim::Agency,
            "province" => Dim::Province,
            "city" => Dim::City,
            "county" => Dim::County,
            "township" => Dim::Township,
            "template" | "format" => Dim::Template,
            _ => return None,
        })
    }
}

/// A string table: every agency and region name is stored once.
#[derive(Debug, Default)]
struct Interner {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(s.to_owned());
        self.ids.insert(s.to_owned(), id);
        id
    }

    fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
}

/// No row, no string.
const NONE: u32 = u32::MAX;
/// The year of a report that printed none.
const NO_YEAR: i32 = i32::MIN;

/// What the index keeps of one stored report besides its id and cells.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Row {
    seq: u64,
    agency: u32,
    region: [u32; 4],
    /// The revision this one superseded, or [`NONE`].
    prev: u32,
    /// Its finding codes are `findings[findings .. findings + own + cross]` of the arena:
    /// the report's own, then the cross-year ones.
    findings: u32,
    own: u16,
    cross: u16,
    /// Its source is `sources[source .. source + source_len]`.
    source: u32,
    source_len: u32,
    year: i32,
    template: i32,
    /// False once a later revision of the same body and year is stored.
    latest: bool,
}

/// The row of each id. Ids are SHA-256 digests, so their first 8 bytes spread well: rows
/// are found by those (12 bytes an entry, not 36) and the full id is checked against the
/// index's `ids`. An id whose first 8 bytes another id has already goes to `clashes`
/// under all 32.
#[derive(Debug, Default)]
struct IdMap {
    short: HashMap<u64, u32>,
    clashes: HashMap<[u8; 32], u32>,
}

impl IdMap {
    fn short_key(id: &[u8; 32]) -> u64 {
        u64::from_le_bytes(id[..8].try_into().expect("8 bytes"))
    }

    /// The row of `id`; `ids` are the index's ids by row.
    fn get(&self, ids: &[[u8; 32]], id: &[u8; 32]) -> Option<u32> {
        match self.short.get(&Self::short_key(id)) {
            Some(&row) if ids[row as usize] == *id => Some(row),
            Some(_) => self.clashes.get(id).copied(),
            None => None,
        }
    }

    /// Records `row` for `id`; false (and nothing changed) when `id` has a row already.
    fn insert(&mut self, ids: &[[u8; 32]], id: [u8; 32], row: u32) -> bool {
        if self.get(ids, &id).is_some() {
            return false;
        }
        match self.short.entry(Self::short_key(&id)) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(row);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.clashes.insert(id, row);
            }
        }
        true
    }

    fn reserve(&mut self, n: usize) {
        self.short.reserve(n);
    }
}

/// Every stored report, as queries need it.
#[derive(Debug)]
pub struct Index {
    strings: Interner,
    rows: Vec<Row>,
    ids: Vec<[u8; 32]>,
    columns: Vec<Column>,
    /// Finding codes of every row, packed by [`pack`].
    findings: Vec<u16>,
    sources: String,
    // Derived from the fields above (rebuilt by `decode`).
    by_id: IdMap,
    /// (agency, year) → the latest revision's row.
    bodies: HashMap<(u32, i32), u32>,
    /// (0, agency) or (1 + region level, name) → rows, in storage order.
    postings: HashMap<(u8, u32), Vec<u32>>,
    /// Every agency name that has rows.
    agencies: Vec<u32>,
    /// Those names joined by NUL, and where each starts: an agency substring is searched
    /// for in one pass. `None` once a name holds a NUL (then each name is searched).
    agency_text: Option<(String, Vec<u32>)>,
    /// Each row's year and whether it is the latest revision, apart from the rows so that
    /// whole-index scans read 5 bytes a row, not a row's 80.
    years: Vec<i32>,
    latest: Vec<bool>,
    /// Exact sums per year, for aggregates by year over everything.
    totals: Totals,
}

impl Default for Index {
    fn default() -> Self {
        Index::new()
    }
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
            sources: String::new(),
            by_id: IdMap::default(),
            bodies: HashMap::default(),
            postings: HashMap::default(),
            agencies: Vec::new(),
            agency_text: Some((String::new(), Vec::new())),
            years: Vec::new(),
            latest: Vec::new(),
            totals: Totals::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn row_of(&self, id: &str) -> Option<u32> {
        self.by_id.get(&self.ids, &id_bytes(id)?)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.row_of(id).is_some()
    }

    /// A row's id as bytes.
    pub fn id_bytes(&self, row: u32) -> &[u8; 32] {
        &self.ids[row as usize]
    }

    fn id(&self, row: u32) -> String {
        hex::encode(self.ids[row as usize])
    }

    /// Ids of every revision of the body `id` belongs to, oldest first.
    pub fn revisions(&self, id: &str) -> Vec<String> {
        let Some(r) = self.row_of(id) else {
            return Vec::new();
        };
        let row = &self.rows[r as usize];
        let mut at = self
            .bodies
            .get(&(row.agency, row.year))
            .copied()
            .unwrap_or(r);
        let mut list = Vec::new();
        while at != NONE {
            list.push(self.id(at));
            at = self.rows[at as usize].prev;
        }
        list.reverse();
        list
    }

    /// The id of the latest stored report of a body and year, if any.
    pub fn latest_id(&self, agency: &str, year: i32) -> Option<String> {
        let a = self.strings.get(agency)?;
        self.bodies.get(&(a, year)).map(|&r| self.id(r))
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

    /// Adds a stored report; a report of a body and year already held becomes the latest
    /// revision. Returns the id of the revision it supersedes, if any. Reports whose id is
    /// not 64 hex digits (the store never makes one) are not indexed.
    pub fn insert(&mut self, report: &Report, seq: u64, cross: &[Finding]) -> Option<String> {
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
        // Sources beyond 4 GiB in all are not kept (far past any planned size).
        let (source, source_len) = match u32::try_from(self.sources.len() + report.source.len()) {
            Ok(_) => {
                let start = self.sources.len() as u32;
                self.sources.push_str(&report.source);
                (start, report.source.len() as u32)
            }
            Err(_) => (0, 0),
        };
        let mut prev = NONE;
        let mut superseded = None;
        if let Some((_, year)) = body_key(report) {
            if let Some(old) = self.bodies.insert((agency, year), at) {
                self.rows[old as usize].latest = false;
                self.latest[old as usize] = false;
                let columns = &self.columns;
                self.totals
                    .account(year, (false, true), -1, &|m| columns[m].get(old as usize));
                prev = old;
                superseded = Some(self.id(old));
            }
        }
        self.rows.push(Row {
            seq,
            agency,
            region,
            prev,
            findings,
            own,
            cross,
            source,
            source_len,
            year: report.year.unwrap_or(NO_YEAR),
            template: Template::try_from(report.template).unwrap_or(Template::Unknown) as i32,
            latest: true,
        });
        self.years.push(self.rows[at as usize].year);
        self.latest.push(true);
        self.ids.push(key);
        self.by_id.insert(&self.ids, key, at);
        for (m, column) in self.columns.iter_mut().enumerate() {
            column.push(catalogue::get(report, m));
        }
        let columns = &self.columns;
        self.totals
            .account(self.years[at as usize], (true, true), 1, &|m| {
                columns[m].get(at as usize)
            });
        self.post_row(at);
        superseded
    }

    fn post_row(&mut self, at: u32) {
        let row = self.rows[at as usize];
        if !self.strings.name(row.agency).is_empty() {
            self.post((0, row.agency), at);
        }
        for (level, name) in row.region.iter().enumerate() {
            if !self.strings.name(*name).is_empty() {
                self.post((1 + level as u8, *name), at);
            }
        }
    }

    /// Replaces the cross-year findings of a stored report.
    pub fn set_cross(&mut self, id: &str, cross: &[Finding]) {
        let Some(r) = self.row_of(id) else { return };
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

    /// Agency ids whose name contains `needle`.
    fn agencies_containing(&self, needle: &str) -> HashSet<u32> {
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let mut found = HashSet::default();
        match &self.agency_text {
            Some((text, starts)) if !needle.contains('\0') => {
                let text = text.as_bytes();
                let mut at = 0;
                while let Some(k) = finder.find(&text[at..]) {
                    // The name the match starts in (names hold no NUL, so it ends there too).
                    let i = starts.partition_point(|&s| s as usize <= at + k) - 1;
                    found.insert(self.agencies[i]);
                    at = starts.get(i + 1).map_or(text.len(), |&s| s as usize);
                }
            }
            _ => {
                for &a in &self.agencies {
                    if finder.find(self.strings.name(a).as_bytes()).is_some() {
                        found.insert(a);
                    }
                }
            }
        }
        found
    }

    /// Rows a filter selects, in storage order.
    pub fn select(&self, filter: &pb::Filter) -> Vec<u32> {
        let selector = Selector::new(self, filter);
        if selector.nothing {
            return Vec::new();
        }
        let candidates = selector.candidates(self);
        let total = candidates
            .as_ref()
            .map_or(self.rows.len(), |(c, _)| c.len());
        self.select_part(&selector, candidates.as_ref(), 0..total)
    }

    /// The rows `selector` keeps among candidates (or all rows) `part`.
    fn select_part(
        &self,
        selector: &Selector<'_>,
        candidates: Option<&(Vec<u32>, Option<usize>)>,
        part: std::ops::Range<usize>,
    ) -> Vec<u32> {
        match candidates {
            Some((rows, known)) => rows[part]
                .iter()
                .copied()
                .filter(|&r| selector.keeps(self, r, *known))
                .collect(),
            None if selector.by_year_only() => {
                // Only the hot columns decide.
                let f = selector.filter;
                let ranged = f.year_from.is_some() || f.year_to.is_some();
                let years = f.year_from.unwrap_or(i32::MIN)..=f.year_to.unwrap_or(i32::MAX);
                part.filter(|&r| {
                    (f.all_revisions || self.latest[r])
                        && (!ranged || (self.years[r] != NO_YEAR && years.contains(&self.years[r])))
                })
                .map(|r| r as u32)
                .collect()
            }
            None => part
                .map(|r| r as u32)
                .filter(|&r| selector.keeps(self, r, None))
                .collect(),
        }
    }

    pub fn summary(&self, i: u32) -> pb::ReportSummary {
        let row = &self.rows[i as usize];
        let start = row.source as usize;
        pb::ReportSummary {
            id: self.id(i),
            agency: self.strings.name(row.agency).to_owned(),
            year: (row.year != NO_YEAR).then_some(row.year),
            template: row.template,
            region: Some(pb::Region {
                province: self.strings.name(row.region[0]).to_owned(),
                city: self.strings.name(row.region[1]).to_owned(),
                county: self.strings.name(row.region[2]).to_owned(),
                township: self.strings.name(row.region[3]).to_owned(),
            }),
            errors: self.count(row, Severity::Error),
            warnings: self.count(row, Severity::Warning),
            infos: self.count(row, Severity::Info),
            source: self.sources[start..start + row.source_len as usize].to_owned(),
            latest: row.latest,
        }
    }

    pub fn seq(&self, i: u32) -> u64 {
        self.rows[i as usize].seq
    }

    /// A row's value of a dimension as a number (string id, year or template).
    fn dim_id(row: &Row, dim: Dim) -> u32 {
        match dim {
            Dim::Year => row.year as u32,
            Dim::Agency => row.agency,
            Dim::Province => row.region[0],
            Dim::City => row.region[1],
            Dim::County => row.region[2],
            Dim::Township => row.region[3],
            Dim::Template => row.template as u32,
        }
    }

    fn dim_name(&self, dim: Dim, id: u32) -> String {
        match dim {
            Dim::Year if id as i32 == NO_YEAR => String::new(),
            Dim::Year => (id as i32).to_string(),
            Dim::Template => crate::output::template_name(id as i32).to_owned(),
            _ => self.strings.name(id).to_owned(),
        }
    }

    /// The group of every selected row, and each group's dimension values.
    fn group(&self, rows: &[u32], group_by: &[Dim]) -> (Vec<u32>, Vec<[u32; MAX_DIMS]>) {
        /// Single-dimension values below this are grouped through a table, not a hash.
        const DENSE: u32 = 1 << 20;
        let mut keys: Vec<[u32; MAX_DIMS]> = Vec::new();
        let mut dense: Vec<u32> = Vec::new();
        let mut hashed: HashMap<[u32; MAX_DIMS], u32> = HashMap::default();
        let mut of = Vec::with_capacity(rows.len());
        let by_year = group_by == [Dim::Year];
        for &r in rows {
            let mut key = [0u32; MAX_DIMS];
            if by_year {
                key[0] = self.years[r as usize] as u32;
            } else {
                let row = &self.rows[r as usize];
                for (k, dim) in group_by.iter().take(MAX_DIMS).enumerate() {
                    key[k] = Index::dim_id(row, *dim);
                }
            }
            let g = if group_by.len() <= 1 && key[0] < DENSE {
                let slot = key[0] as usize;
                if slot >= dense.len() {
                    dense.resize(slot + 1, NONE);
                }
                if dense[slot] == NONE {
                    dense[slot] = keys.len() as u32;
                    keys.push(key);
                }
                dense[slot]
            } else {
                *hashed.entry(key).or_insert_with(|| {
                    keys.push(key);
                    keys.len() as u32 - 1
                })
            };
            of.push(g);
        }
        (of, keys)
    }

    /// Sums of `metrics` (catalogue indices) and the rates `rates` (indices into [`RATES`])
    /// per group of the selected reports.
    pub fn aggregate(
        &self,
        metrics: &[usize],
        rates: &[usize],
        group_by: &[Dim],
        filter: &pb::Filter,
    ) -> pb::AggregateResponse {
        self.aggregate_by(metrics, rates, group_by, filter, true)
    }

    /// [`Index::aggregate`], from the per-year totals when `totals` and they can answer.
    fn aggregate_by(
        &self,
        metrics: &[usize],
        rates: &[usize],
        group_by: &[Dim],
        filter: &pb::Filter,
        totals: bool,
    ) -> pb::AggregateResponse {
        /// Selections of at least this many candidate rows are split over two threads.
        const SPLIT_AT: usize = 1 << 17;
        let selector = Selector::new(self, filter);
        let candidates = (!selector.nothing)
            .then(|| selector.candidates(self))
            .flatten();
        let total = match (&candidates, selector.nothing) {
            (_, true) => 0,
            (Some((c, _)), _) => c.len(),
            (None, _) => self.rows.len(),
        };
        let whole = totals
            .then(|| self.answer_from_totals(&selector, metrics, rates, group_by))
            .flatten();
        let split = whole.is_none()
            && total >= SPLIT_AT
            && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
        let part = |range: std::ops::Range<usize>| {
            let rows = self.select_part(&selector, candidates.as_ref(), range);
            self.partial(&rows, metrics, rates, group_by)
        };
        let whole = if let Some(whole) = whole {
            whole
        } else if split {
            let (a, b) = std::thread::scope(|scope| {
                let first = scope.spawn(|| part(0..total / 2));
                let second = part(total / 2..total);
                (first.join().expect("aggregate thread"), second)
            });
            a.merge(b)
        } else {
            part(0..total)
        };
        let mut named: BTreeMap<Vec<String>, usize> = BTreeMap::new();
        for (g, key) in whole.keys.iter().enumerate() {
            let names = group_by
                .iter()
                .enumerate()
                .map(|(k, d)| self.dim_name(*d, key[k]))
                .collect();
            named.insert(names, g);
        }
        pb::AggregateResponse {
            group_by: group_by
                .iter()
                .map(|d| Dim::NAMES[*d as usize].to_owned())
                .collect(),
            reports: whole.reports.iter().sum(),
            groups: named
                .into_iter()
                .map(|(key, g)| pb::Group {
                    key,
                    reports: whole.reports[g],
                    sums: metrics
                        .iter()
                        .zip(&whole.sums)
                        .map(|(&m, (sum, present))| pb::MetricSum {
                            metric: METRICS[m].path.to_owned(),
                            sum: sum[g],
                            reports: present[g],
                            missing: whole.reports[g] - present[g],
                        })
                        .collect(),
                    rates: rates
                        .iter()
                        .zip(&whole.rates)
                        .map(|(&r, per_group)| {
                            let (num, den, reports) = per_group[g];
                            RATES[r].to_rate(num, den, reports)
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// The aggregate from the per-year totals, when the query is one they answer exactly:
    /// grouped by year or not at all, filtered by years and revisions only.
    fn answer_from_totals(
        &self,
        selector: &Selector<'_>,
        metrics: &[usize],
        rates: &[usize],
        group_by: &[Dim],
    ) -> Option<Partial> {
        if selector.nothing || !selector.by_year_only() || !matches!(group_by, [] | [Dim::Year]) {
            return None;
        }
        let f = selector.filter;
        let ranged = f.year_from.is_some() || f.year_to.is_some();
        let range = ranged.then(|| f.year_from.unwrap_or(i32::MIN)..=f.year_to.unwrap_or(i32::MAX));
        // A range never selects reports without a year (NO_YEAR is below every range).
        let range = range.map(|r| (*r.start()).max(NO_YEAR + 1)..=*r.end());
        let years = self.totals.years(!f.all_revisions, range, metrics, rates)?;
        let mut out = Partial {
            keys: Vec::new(),
            reports: Vec::new(),
            sums: metrics.iter().map(|_| (Vec::new(), Vec::new())).collect(),
            rates: rates.iter().map(|_| Vec::new()).collect(),
        };
        for (year, t) in years {
            let mut key = [0u32; MAX_DIMS];
            if !group_by.is_empty() {
                key[0] = year as u32;
            }
            let g = match out.keys.iter().position(|k| *k == key) {
                Some(g) => g,
                None => {
                    out.keys.push(key);
                    out.reports.push(0);
                    out.sums.iter_mut().for_each(|(s, p)| {
                        s.push(0.0);
                        p.push(0);
                    });
                    out.rates.iter_mut().for_each(|r| r.push((0.0, 0.0, 0)));
                    out.keys.len() - 1
                }
            };
            out.reports[g] += t.reports as u64;
            for ((sum, present), &m) in out.sums.iter_mut().zip(metrics) {
                sum[g] += t.sums[m].0 as f64;
                present[g] += t.sums[m].1 as u64;
            }
            for (rate, &r) in out.rates.iter_mut().zip(rates) {
                let (n, d, k) = t.rates[r];
                rate[g].0 += n as f64;
                rate[g].1 += d as f64;
                rate[g].2 += k as u64;
            }
        }
        Some(out)
    }

    /// The groups, report counts, sums and rate parts of some selected rows.
    fn partial(
        &self,
        rows: &[u32],
        metrics: &[usize],
        rates: &[usize],
        group_by: &[Dim],
    ) -> Partial {
        let (group_of, keys) = self.group(rows, group_by);
        let n = keys.len();
        let mut reports = vec![0u64; n];
        for &g in &group_of {
            reports[g as usize] += 1;
        }
        let sums = metrics
            .iter()
            .map(|&m| {
                let (mut sum, mut present) = (vec![0.0; n], vec![0u64; n]);
                self.columns[m].scan(rows, |k, v| {
                    if let Some(v) = v {
                        let g = group_of[k] as usize;
                        sum[g] += v;
                        present[g] += 1;
                    }
                });
                (sum, present)
            })
            .collect();
        let rates = rates
            .iter()
            .map(|&r| self.rate_sums(&RATES[r], rows, &group_of, n))
            .collect();
        Partial {
            keys,
            reports,
            sums,
            rates,
        }
    }

    /// (numerator, denominator, reports) of one rate per group, over the rows that print
    /// every path the rate needs.
    fn rate_sums(
        &self,
        def: &RateDef,
        rows: &[u32],
        group_of: &[u32],
        groups: usize,
    ) -> Vec<(f64, f64, u64)> {
        let mut num = vec![0.0; rows.len()];
        let mut den = vec![0.0; rows.len()];
        let mut whole = vec![true; rows.len()];
        for (into_num, sign, path) in def
            .numerator
            .iter()
            .map(|p| (true, 1.0, *p))
            .chain(def.denominator.iter().map(|(s, p)| (false, *s, *p)))
        {
            let column = &self.columns[catalogue::index_of(path).expect("rate path in catalogue")];
            let acc = if into_num { &mut num } else { &mut den };
            column.scan(rows, |k, v| match v {
                Some(v) => acc[k] += sign * v,
                None => whole[k] = false,
            });
        }
        let mut out = vec![(0.0, 0.0, 0u64); groups];
        for (k, &g) in group_of.iter().enumerate() {
            if whole[k] {
                let o = &mut out[g as usize];
                o.0 += num[k];
                o.1 += den[k];
                o.2 += 1;
            }
        }
        out
    }

    /// Finding counts by code and severity over the selected reports.
    pub fn summarize(&self, filter: &pb::Filter) -> pb::SummarizeFindingsResponse {
        let mut counts: BTreeMap<(Code, i32), (u64, u64)> = BTreeMap::new();
        let rows = self.select(filter);
        for &r in &rows {
            let mut seen: Vec<(Code, Severity)> = Vec::new();
            for (code, severity) in self.codes(&self.rows[r as usize]) {
                let entry = counts.entry((code, severity as i32)).or_default();
                entry.0 += 1;
                if !seen.contains(&(code, severity)) {
                    seen.push((code, severity));
                    entry.1 += 1;
                }
            }
        }
        pb::SummarizeFindingsResponse {
            reports: rows.len() as u64,
            counts: counts
                .into_iter()
                .map(|((code, severity), (findings, reports))| pb::FindingCount {
                    code: code.as_str().to_owned(),
                    severity,
                    rule: u32::from(code.rule()),
                    findings,
                    reports,
                })
                .collect(),
        }
    }
}

/// An aggregate over part of the selected rows: per group (in `keys` order) its report
/// count, each metric's (sum, reports printing it) and each rate's (numerator,
/// denominator, reports).
struct Partial {
    keys: Vec<[u32; MAX_DIMS]>,
    reports: Vec<u64>,
    sums: Vec<(Vec<f64>, Vec<u64>)>,
    rates: Vec<Vec<(f64, f64, u64)>>,
}

impl Partial {
    /// Adds `other`'s groups into these.
    fn merge(mut self, other: Partial) -> Partial {
        let mut at: HashMap<[u32; MAX_DIMS], usize> =
            self.keys.iter().enumerate().map(|(g, k)| (*k, g)).collect();
        for (h, key) in other.keys.iter().enumerate() {
            let g = *at.entry(*key).or_insert_with(|| {
                self.keys.push(*key);
                self.reports.push(0);
                for (sum, present) in &mut self.sums {
                    sum.push(0.0);
                    present.push(0);
                }
                for rate in &mut self.rates {
                    rate.push((0.0, 0.0, 0));
                }
                self.keys.len() - 1
            });
            self.reports[g] += other.reports[h];
            for ((sum, present), (s2, p2)) in self.sums.iter_mut().zip(&other.sums) {
                sum[g] += s2[h];
                present[g] += p2[h];
            }
            for (rate, r2) in self.rates.iter_mut().zip(&other.rates) {
                rate[g].0 += r2[h].0;
                rate[g].1 += r2[h].1;
                rate[g].2 += r2[h].2;
            }
        }
        self
    }
}

/// Most dimensions one aggregate groups by (each dimension once).
pub const MAX_DIMS: usize = 7;

/// A filter resolved against the index once per query.
struct Selector<'a> {
    filter: &'a pb::Filter,
    /// Region name ids the filter asks for, per level.
    region: [Option<u32>; 4],
    /// Agency name ids that contain the filter's substring.
    agencies: Option<HashSet<u32>>,
    severity: Option<Severity>,
    /// The filter names something no stored report has.
    nothing: bool,
}

impl<'a> Selector<'a> {
    fn new(index: &Index, filter: &'a pb::Filter) -> Selector<'a> {
        let mut nothing = false;
        let mut resolve = |s: &str| {
            if s.is_empty() {
                return None;
            }
            let id = index.strings.get(s);
            nothing |= id.is_none();
            Some(id.unwrap_or(NONE))
        };
        let region = [
            resolve(&filter.province),
            resolve(&filter.city),
            resolve(&filter.county),
            resolve(&filter.township),
        ];
        let agencies =
            (!filter.agency.is_empty()).then(|| index.agencies_containing(&filter.agency));
        nothing |= agencies.as_ref().is_some_and(HashSet::is_empty);
        Selector {
            filter,
            region,
            agencies,
            severity: match filter.severity.as_str() {
                "error" => Some(Severity::Error),
                "warning" => Some(Severity::Warning),
                "info" => Some(Severity::Info),
                _ => None,
            },
            nothing,
        }
    }

    /// True when the filter asks for nothing but a year range and revisions.
    fn by_year_only(&self) -> bool {
        self.region.iter().all(Option::is_none)
            && self.agencies.is_none()
            && self.severity.is_none()
            && self.filter.template.is_empty()
    }

    /// The rows of the smallest posting list the filter names, when it names one small
    /// enough to beat a scan of every row.
    /// With them, the region level every one of them has (when they came from a region's
    /// list).
    fn candidates(&self, index: &Index) -> Option<(Vec<u32>, Option<usize>)> {
        let mut best: Option<(&[u32], usize)> = None;
        for (level, want) in self.region.iter().enumerate() {
            if let Some(id) = want {
                let list = index
                    .postings
                    .get(&(1 + level as u8, *id))
                    .map_or(&[][..], Vec::as_slice);
                if best.is_none_or(|(b, _)| list.len() < b.len()) {
                    best = Some((list, level));
                }
            }
        }
        if let Some(agencies) = &self.agencies {
            let lists: Vec<&Vec<u32>> = agencies
                .iter()
                .filter_map(|a| index.postings.get(&(0, *a)))
                .collect();
            let total: usize = lists.iter().map(|l| l.len()).sum();
            if best.is_none_or(|(b, _)| total < b.len()) && total < index.rows.len() / 4 {
                let mut all: Vec<u32> = lists.into_iter().flatten().copied().collect();
                all.sort_unstable();
                return Some((all, None));
            }
        }
        best.map(|(list, level)| (list.to_vec(), Some(level)))
    }

    /// True when row `r` passes the filter; `known` is a region level every candidate row
    /// already has (the posting list they came from), not checked again.
    fn keeps(&self, index: &Index, r: u32, known: Option<usize>) -> bool {
        let f = self.filter;
        // The hot columns first: most rows are decided without reading the row.
        if !f.all_revisions && !index.latest[r as usize] {
            return false;
        }
        let year = index.years[r as usize];
        if (f.year_from.is_some() || f.year_to.is_some())
            && (year == NO_YEAR
                || f.year_from.is_some_and(|from| year < from)
                || f.year_to.is_some_and(|to| year > to))
        {
            return false;
        }
        let rest = self
            .region
            .iter()
            .enumerate()
            .any(|(level, want)| want.is_some() && Some(level) != known);
        if !rest
            && self.filter.template.is_empty()
            && self.severity.is_none()
            && self.agencies.is_none()
        {
            return true;
        }
        let row = &index.rows[r as usize];
        for (level, (want, have)) in self.region.iter().zip(row.region).enumerate() {
            if Some(level) != known && want.is_some_and(|id| id != have) {
                return false;
            }
        }
        if !f.template.is_empty() && crate::output::template_name(row.template) != f.template {
            return false;
        }
        if let Some(s) = self.severity {
            if !index.codes(row).any(|(_, sev)| sev == s) {
                return false;
            }
        }
        if let Some(agencies) = &self.agencies {
            if !agencies.contains(&row.agency) {
                return false;
            }
        }
        true
    }
}

/// The snapshot format: magic, version, a fingerprint of the catalogue (columns follow its
/// order), the store's next sequence number, the arenas, rows, ids and columns, and a CRC-32
/// of everything before it.
const MAGIC: &[u8; 4] = b"NBIX";
const VERSION: u32 = 1;

fn catalogue_fingerprint() -> u64 {
    // FNV-1a over every path and kind, so a changed catalogue never reads old columns.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for m in METRICS {
        for b in m.path.bytes().chain([0, m.kind as u8]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn get_u32(input: &mut &[u8]) -> Result<u32, String> {
    Ok(u32::from_le_bytes(
        take(input, 4)?.try_into().expect("4 bytes"),
    ))
}

fn get_u64(input: &mut &[u8]) -> Result<u64, String> {
    Ok(u64::from_le_bytes(
        take(input, 8)?.try_into().expect("8 bytes"),
    ))
}

fn get_len(input: &mut &[u8], each: usize) -> Result<usize, String> {
    let n = usize::try_from(get_u64(input)?).map_err(|_| "length overflows".to_owned())?;
    if n.checked_mul(each).is_none_or(|bytes| bytes > input.len()) {
        return Err(format!("{n} entries do not fit in what is left"));
    }
    Ok(n)
}

/// Where [`Index::encode_to`] gathers bytes before writing them, keeping the checksum.
struct Sink<'w, W: std::io::Write> {
    out: Vec<u8>,
    w: &'w mut W,
    crc: crc32fast::Hasher,
}

impl<'w, W: std::io::Write> Sink<'w, W> {
    const SPILL: usize = 1 << 20;

    fn new(w: &'w mut W) -> Self {
        Sink {
            out: Vec::with_capacity(Self::SPILL + (1 << 16)),
            w,
            crc: crc32fast::Hasher::new(),
        }
    }

    fn spill_if_full(&mut self) -> std::io::Result<()> {
        if self.out.len() >= Self::SPILL {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> std::io::Result<()> {
        self.crc.update(&self.out);
        self.w.write_all(&self.out)?;
        self.out.clear();
        Ok(())
    }

    /// Writes `bytes` past the buffer (which must be empty).
    fn write_direct(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        debug_assert!(self.out.is_empty());
        self.crc.update(bytes);
        self.w.write_all(bytes)
    }

    /// Writes what is gathered, then the checksum of everything written.
    fn finish(mut self) -> std::io::Result<()> {
        self.spill()?;
        let crc = self.crc.finalize();
        self.w.write_all(&crc.to_le_bytes())
    }
}

impl Index {
    /// The whole index as bytes, stamped with the store's `next_seq`.
    pub fn encode(&self, next_seq: u64) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_to(next_seq, &mut out)
            .expect("writing to a Vec cannot fail");
        out
    }

    /// [`Index::encode`] written to `w` a megabyte at a time, so that a large index is
    /// never held twice in memory.
    pub fn encode_to(&self, next_seq: u64, w: &mut impl std::io::Write) -> std::io::Result<()> {
        let mut sink = Sink::new(w);
        let out = &mut sink.out;
        out.extend_from_slice(MAGIC);
        put_u32(out, VERSION);
        put_u64(out, catalogue_fingerprint());
        put_u64(out, next_seq);
        put_u64(out, self.strings.names.len() as u64);
        for name in &self.strings.names {
            put_u32(&mut sink.out, name.len() as u32);
            sink.out.extend_from_slice(name.as_bytes());
            sink.spill_if_full()?;
        }
        put_u64(&mut sink.out, self.rows.len() as u64);
        for row in &self.rows {
            let out = &mut sink.out;
            put_u64(out, row.seq);
            for v in [
                row.agency,
                row.region[0],
                row.region[1],
                row.region[2],
                row.region[3],
            ] {
                put_u32(out, v);
            }
            for v in [
                row.prev,
                row.findings,
                u32::from(row.own),
                u32::from(row.cross),
            ] {
                put_u32(out, v);
            }
            for v in [
                row.source,
                row.source_len,
                row.year as u32,
                row.template as u32,
            ] {
                put_u32(out, v);
            }
            out.push(u8::from(row.latest));
            sink.spill_if_full()?;
        }
        for id in &self.ids {
            sink.out.extend_from_slice(id);
            sink.spill_if_full()?;
        }
        put_u64(&mut sink.out, self.findings.len() as u64);
        for chunk in self.findings.chunks(1 << 16) {
            for f in chunk {
                sink.out.extend_from_slice(&f.to_le_bytes());
            }
            sink.spill_if_full()?;
        }
        put_u64(&mut sink.out, self.sources.len() as u64);
        sink.spill()?;
        sink.write_direct(self.sources.as_bytes())?;
        put_u64(&mut sink.out, self.columns.len() as u64);
        for c in &self.columns {
            c.encode(&mut sink.out);
            sink.spill_if_full()?;
        }
        sink.finish()
    }

    /// Reads a snapshot written by [`Index::encode`]: the index and the `next_seq` it was
    /// stamped with. Every offset is checked, so a damaged file is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<(Index, u64), String> {
        let Some((body, crc)) = bytes.split_last_chunk::<4>() else {
            return Err("shorter than a header".into());
        };
        if crc32fast::hash(body) != u32::from_le_bytes(*crc) {
            return Err("checksum mismatch".into());
        }
        let input = &mut &body[..];
        if take(input, 4)? != MAGIC || get_u32(input)? != VERSION {
            return Err("not a version-1 index snapshot".into());
        }
        if get_u64(input)? != catalogue_fingerprint() {
            return Err("written for another metric catalogue".into());
        }
        let next_seq = get_u64(input)?;
        let mut index = Index::new();
        for _ in 0..get_len(input, 4)? {
            let n = get_u32(input)? as usize;
            let name = std::str::from_utf8(take(input, n)?).map_err(|e| e.to_string())?;
            if index.strings.intern(name) as usize != index.strings.names.len() - 1 {
                return Err(format!("string {name:?} twice"));
            }
        }
        let strings = index.strings.names.len() as u32;
        let n = get_len(input, 61)?;
        for at in 0..n as u32 {
            let seq = get_u64(input)?;
            let mut v = [0u32; 13];
            for x in &mut v {
                *x = get_u32(input)?;
            }
            let row = Row {
                seq,
                agency: v[0],
                region: [v[1], v[2], v[3], v[4]],
                prev: v[5],
                findings: v[6],
                own: u16::try_from(v[7]).map_err(|e| e.to_string())?,
                cross: u16::try_from(v[8]).map_err(|e| e.to_string())?,
                source: v[9],
                source_len: v[10],
                year: v[11] as i32,
                template: v[12] as i32,
                latest: take(input, 1)?[0] != 0,
            };
            if v[..5].iter().any(|&s| s >= strings) || (row.prev != NONE && row.prev >= at) {
                return Err(format!("row {at} points outside the index"));
            }
            index.rows.push(row);
        }
        for _ in 0..n {
            index
                .ids
                .push(take(input, 32)?.try_into().expect("32 bytes"));
        }
        for _ in 0..get_len(input, 2)? {
            let f = u16::from_le_bytes(take(input, 2)?.try_into().expect("2 bytes"));
            unpack(f).ok_or("unknown finding code")?;
            index.findings.push(f);
        }
        let len = get_len(input, 1)?;
        index.sources = String::from_utf8(take(input, len)?.to_vec()).map_err(|e| e.to_string())?;
        if get_len(input, 10)? != METRICS.len() {
            return Err("column count differs from the catalogue".into());
        }
        for c in &mut index.columns {
            *c = Column::decode_from(input)?;
            if c.len() != n {
                return Err("a column's length differs from the row count".into());
            }
        }
        if !input.is_empty() {
            return Err("bytes after the last column".into());
        }
        index.by_id.reserve(n);
        index.bodies.reserve(n);
        index.years.reserve(n);
        index.latest.reserve(n);
        for at in 0..n as u32 {
            let row = index.rows[at as usize];
            let end = row.findings as usize + usize::from(row.own) + usize::from(row.cross);
            let source_end = row.source as usize + row.source_len as usize;
            if end > index.findings.len()
                || !index.sources.is_char_boundary(row.source as usize)
                || source_end > index.sources.len()
                || !index.sources.is_char_boundary(source_end)
            {
                return Err(format!("row {at} points outside its arenas"));
            }
            if !index.by_id.insert(&index.ids, index.ids[at as usize], at) {
                return Err(format!("row {at} repeats an id"));
            }
            index.years.push(row.year);
            index.latest.push(row.latest);
            if row.latest && row.year != NO_YEAR && !index.strings.name(row.agency).is_empty() {
                index.bodies.insert((row.agency, row.year), at);
            }
            index.post_row(at);
        }
        index.totals = Totals::rebuild(&index.years, &index.latest, &index.columns);
        Ok((index, next_seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64-hex-digit id from a short name, as the store would make.
    fn hex_id(name: &str) -> String {
        format!("{:0>64}", hex::encode(name))
    }

    #[test]
    fn ids_sharing_their_first_bytes_keep_their_own_rows() {
        // hex_id pads with zeros: these ids share their first 8 bytes (and more).
        let mut index = Index::new();
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            index.insert(
                &report(name, "某局", 2020 + i as i32, 1.0, 1.0, 1.0),
                i as u64,
                &[],
            );
        }
        // And one that differs from "a" in its first byte only.
        let mut other = report("a", "某局", 2019, 1.0, 1.0, 1.0);
        other.id = format!("ff{}", &hex_id("a")[2..]);
        index.insert(&other, 9, &[]);
        let ids: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|n| hex_id(n))
            .chain([other.id.clone()])
            .collect();
        let (back, _) = Index::decode(&index.encode(10)).unwrap();
        for index in [&index, &back] {
            for (row, id) in ids.iter().enumerate() {
                assert_eq!(index.row_of(id), Some(row as u32));
            }
            assert!(!index.contains(&hex_id("d")));
            assert_eq!(index.len(), 4);
        }
        // A second insert of a held id adds nothing.
        index.insert(&report("b", "某局", 2030, 1.0, 1.0, 1.0), 11, &[]);
        assert_eq!(index.len(), 4);
    }

    fn report(
        id: &str,
        agency: &str,
        year: i32,
        new_total: f64,
        closed: f64,
        disclosed: f64,
    ) -> Report {
        let mut r = Report {
            id: hex_id(id),
            agency: agency.into(),
            year: Some(year),
            template: Template::Template2021 as i32,
            region: Some(crate::parse::meta::region(agency)),
            ..Default::default()
        };
        let set = |r: &mut Report, p: &str, v: f64| {
            catalogue::set(r, catalogue::index_of(p).unwrap(), Some(v))
        };
        set(&mut r, "applications.new_received.total", new_total);
        set(&mut r, "applications.closed_total.total", closed);
        set(&mut r, "applications.disclosed.total", disclosed);
        set(&mut r, "applications.partially_disclosed.total", 0.0);
        r
    }

    #[test]
    fn sums_group_and_revisions() {
        let mut index = Index::new();
        index.insert(
            &report("a", "北京市朝阳区人民政府", 2022, 10.0, 10.0, 5.0),
            1,
            &[],
        );
        index.insert(
            &report("b", "北京市海淀区人民政府", 2022, 20.0, 20.0, 20.0),
            2,
            &[],
        );
        index.insert(
            &report("c", "北京市朝阳区人民政府", 2023, 7.0, 7.0, 7.0),
            3,
            &[],
        );
        // A revision of a: only the latest counts by default.
        let superseded = index.insert(
            &report("d", "北京市朝阳区人民政府", 2022, 12.0, 12.0, 6.0),
            4,
            &[],
        );
        assert_eq!(superseded, Some(hex_id("a")));
        assert_eq!(
            index.revisions(&hex_id("d")),
            vec![hex_id("a"), hex_id("d")]
        );
        assert_eq!(index.revisions(&hex_id("a")), index.revisions(&hex_id("d")));
        assert_eq!(index.revisions(&hex_id("b")), vec![hex_id("b")]);

        let m = catalogue::index_of("applications.new_received.total").unwrap();
        let r = index.aggregate(&[m], &[], &[Dim::Year], &pb::Filter::default());
        let by_year: Vec<(String, f64)> = r
            .groups
            .iter()
            .map(|g| (g.key[0].clone(), g.sums[0].sum))
            .collect();
        assert_eq!(by_year, vec![("2022".into(), 32.0), ("2023".into(), 7.0)]);
        let all = index.aggregate(
            &[m],
            &[],
            &[],
            &pb::Filter {
                all_revisions: true,
                ..Default::default()
            },
        );
        assert_eq!(all.groups[0].sums[0].sum, 49.0);

        let county = index.aggregate(
            &[m],
            &[0, 5],
            &[Dim::County],
            &pb::Filter {
                agency: "朝阳".into(),
                ..Default::default()
            },
        );
        assert_eq!(county.groups.len(), 1);
        assert_eq!(county.groups[0].key, vec!["朝阳区".to_owned()]);
        let rate = county.groups[0]
            .rates
            .iter()
            .find(|r| r.name == "disclosure_rate")
            .unwrap();
        assert_eq!(
            (rate.numerator, rate.denominator, rate.reports),
            (13.0, 19.0, 2)
        );
        assert!(rate.small_sample);
        // Missing metrics are counted, not summed as 0.
        let pending = catalogue::index_of("review.pending").unwrap();
        let r = index.aggregate(&[pending], &[], &[], &pb::Filter::default());
        assert_eq!(
            (r.groups[0].sums[0].reports, r.groups[0].sums[0].missing),
            (0, 3)
        );
    }

    #[test]
    fn filters_by_year_region_and_severity() {
        let mut index = Index::new();
        let mut bad = report("x", "淮安市人民政府", 2024, 1.0, 1.0, 1.0);
        bad.findings.push(crate::model::finding::finding(
            Code::RowTotal,
            "applications.disclosed.total",
            None,
            None,
            "",
        ));
        index.insert(&bad, 1, &[]);
        index.insert(
            &report("y", "北京市朝阳区人民政府", 2019, 1.0, 1.0, 1.0),
            2,
            &[],
        );
        let count = |f: pb::Filter| index.select(&f).len();
        assert_eq!(
            count(pb::Filter {
                year_from: Some(2020),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            count(pb::Filter {
                city: "淮安市".into(),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            count(pb::Filter {
                city: "南京市".into(),
                ..Default::default()
            }),
            0
        );
        assert_eq!(
            count(pb::Filter {
                severity: "error".into(),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            count(pb::Filter {
                template: "2019".into(),
                ..Default::default()
            }),
            0
        );
        let s = index.summarize(&pb::Filter::default());
        assert_eq!(s.counts.len(), 1);
        assert_eq!(
            (
                s.counts[0].code.as_str(),
                s.counts[0].findings,
                s.counts[0].reports
            ),
            ("ROW_TOTAL", 1, 1)
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// Whatever the per-year totals answer equals the scan's answer: after revisions,
        /// with fractional and absent cells and reports without a year, for year ranges and
        /// both revision settings, and again after a snapshot round trip.
        #[test]
        fn year_totals_answer_as_the_scan_does(
            reports in proptest::collection::vec(
                (0u8..5, proptest::option::of(2019i32..2023), proptest::collection::vec(
                    proptest::option::of(0u32..50), 4), 0u8..12),
                1..60),
            from in proptest::option::of(2018i32..2024),
            to in proptest::option::of(2018i32..2024),
            all_revisions in proptest::bool::ANY,
            by_year in proptest::bool::ANY,
        ) {
            let paths = [
                "applications.new_received.total",
                "applications.disclosed.total",
                "applications.closed_total.total",
                "proactive.fees.amount_wan_yuan",
            ];
            let mut index = Index::new();
            for (i, (body, year, cells, fraction)) in reports.iter().enumerate() {
                let mut r = Report {
                    id: hex_id(&format!("r{i}")),
                    agency: format!("机关{body}"),
                    year: *year,
                    ..Default::default()
                };
                for (path, cell) in paths.iter().zip(cells) {
                    if let (Some(m), Some(v)) = (catalogue::index_of(path), cell) {
                        let v = f64::from(*v) + if *fraction == 0 { 0.25 } else { 0.0 };
                        catalogue::set(&mut r, m, Some(v));
                    }
                }
                index.insert(&r, i as u64, &[]);
            }
            let metrics: Vec<usize> = paths.iter().filter_map(|p| catalogue::index_of(p)).collect();
            let rates: Vec<usize> = (0..RATES.len()).collect();
            let group_by = if by_year { vec![Dim::Year] } else { vec![] };
            let filter = pb::Filter {
                year_from: from,
                year_to: to,
                all_revisions,
                ..Default::default()
            };
            let scan = index.aggregate_by(&metrics, &rates, &group_by, &filter, false);
            // Without fractions the totals must answer (the comparison is not vacuous).
            if reports.iter().all(|r| r.3 != 0) {
                let selector = Selector::new(&index, &filter);
                proptest::prop_assert!(index.answer_from_totals(&selector, &metrics, &rates, &group_by).is_some());
            }
            proptest::prop_assert_eq!(
                &index.aggregate_by(&metrics, &rates, &group_by, &filter, true),
                &scan
            );
            let (back, _) = Index::decode(&index.encode(7)).unwrap();
            proptest::prop_assert_eq!(
                &back.aggregate_by(&metrics, &rates, &group_by, &filter, true),
                &scan
            );
        }
    }

    #[test]
    fn snapshot_round_trips_and_rejects_damage() {
        let mut index = Index::new();
        let mut a = report("a", "北京市朝阳区人民政府", 2022, 10.0, 10.0, 5.0);
        a.source = "https://example.gov.cn/朝阳/2022".into();
        a.findings.push(crate::model::finding::finding(
            Code::RowTotal,
            "applications.disclosed.total",
            None,
            None,
            "",
        ));
        index.insert(&a, 1, &[]);
        index.insert(
            &report("b", "北京市朝阳区人民政府", 2023, 300.0, 7.0, 7.0),
            2,
            &[],
        );
        index.insert(
            &report("c", "北京市朝阳区人民政府", 2022, 12.0, 12.0, 6.0),
            3,
            &[],
        );
        let bytes = index.encode(4);
        let (back, next) = Index::decode(&bytes).unwrap();
        assert_eq!(next, 4);
        assert_eq!(back.rows, index.rows);
        assert_eq!(back.columns, index.columns);
        assert_eq!(back.revisions(&hex_id("c")), vec![hex_id("a"), hex_id("c")]);
        assert_eq!(
            back.latest_id("北京市朝阳区人民政府", 2022),
            Some(hex_id("c"))
        );
        let f = pb::Filter {
            all_revisions: true,
            city: "北京市".into(),
            ..Default::default()
        };
        let m = catalogue::index_of("applications.new_received.total").unwrap();
        let all: Vec<usize> = (0..RATES.len()).collect();
        assert_eq!(
            back.aggregate(&[m], &all, &[Dim::Year], &f),
            index.aggregate(&[m], &all, &[Dim::Year], &f)
        );
        assert_eq!(back.summarize(&f), index.summarize(&f));
        assert_eq!(back.summary(0), index.summary(0));
        // Any flipped byte or cut tail is an error, not a panic or a wrong index.
        for at in (0..bytes.len()).step_by(7) {
            let mut bad = bytes.clone();
            bad[at] ^= 0x20;
            assert!(Index::decode(&bad).is_err(), "flip at {at}");
        }
        assert!(Index::decode(&bytes[..bytes.len() / 2]).is_err());
        assert!(Index::decode(&[]).is_err());
    }

    #[test]
    fn set_cross_replaces_only_cross_year_codes() {
        let mut index = Index::new();
        let mut a = report("a", "淮安市人民政府", 2024, 1.0, 1.0, 1.0);
        a.findings.push(crate::model::finding::finding(
            Code::RowTotal,
            "x",
            None,
            None,
            "",
        ));
        index.insert(&a, 1, &[]);
        index.insert(&report("b", "淮安市人民政府", 2023, 1.0, 1.0, 1.0), 2, &[]);
        let cross = |n: usize| -> Vec<Finding> {
            (0..n)
                .map(|_| {
                    crate::model::finding::finding(Code::CarryOverMismatch, "y", None, None, "")
                })
                .collect()
        };
        for n in [2, 1, 3, 0] {
            index.set_cross(&hex_id("a"), &cross(n));
            let s = index.summarize(&pb::Filter::default());
            let of = |code: &str| s.counts.iter().find(|c| c.code == code).map(|c| c.findings);
            assert_eq!(of("ROW_TOTAL"), Some(1), "after {n}");
            assert_eq!(of("CARRY_OVER_MISMATCH"), (n > 0).then_some(n as u64));
        }
    }
}
