//! Which rows a query covers: a typed [`Selection`] (the service checks the proto's filter
//! into one), resolved against the index once per query into a [`Selector`] that keeps or
//! drops rows, visiting only a posting list when the selection names a small one.

use rustc_hash::FxHashSet as HashSet;

use super::column::{Ones, BLOCK};
use super::{division_prefix, Index, AGENCY, CODE_POSTINGS, NONE, NO_YEAR};
use crate::model::finding::Code;
use crate::pb::{Severity, Template};

/// Which reports a query covers. Empty strings and `None` select everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    /// A substring of the agency's name.
    pub agency: String,
    pub province: String,
    pub city: String,
    pub county: String,
    pub township: String,
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
    /// The format the tables print.
    pub template: Option<Template>,
    /// Reports with at least one finding of this severity.
    pub severity: Option<Severity>,
    /// Reports with at least one finding of this code.
    pub finding: Option<Code>,
    /// Every revision and rendition, not only the reading counted for each body and year.
    pub all_revisions: bool,
    /// A division code: reports at or under it ([`super::division_prefix`] form or padded).
    pub code: String,
    /// Publication dates as YYYYMMDD numbers, inclusive; a bound leaves out reports with
    /// no known date.
    pub published_from: Option<u32>,
    pub published_to: Option<u32>,
    /// Region levels (province, city, county, township) a report must have resolved: a
    /// ranking by place leaves out the reports it cannot place.
    pub placed: [bool; 4],
}

impl Index {
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

    /// Rows a selection covers, in storage order.
    pub fn select(&self, selection: &Selection) -> Vec<u32> {
        let selector = Selector::new(self, selection);
        if selector.nothing {
            return Vec::new();
        }
        let candidates = selector.candidates(self);
        let total = candidates
            .as_ref()
            .map_or(self.rows.len(), |(c, _)| c.len());
        self.select_part(&selector, candidates.as_ref(), 0..total)
            .rows()
            .collect()
    }

    /// The rows `selector` keeps among candidates (or all rows) `part`.
    pub(super) fn select_part(
        &self,
        selector: &Selector<'_>,
        candidates: Option<&(Vec<u32>, Option<usize>)>,
        part: std::ops::Range<usize>,
    ) -> Picked {
        let mut picked = Picked::default();
        match candidates {
            Some((rows, known)) => {
                for &r in rows[part].iter() {
                    if selector.keeps(self, r, *known) {
                        picked.push(r);
                    }
                }
            }
            None if selector.hot_only() => {
                // Only the hot columns decide: the latest flags, the years and, for a
                // ranking by place, the place columns of the levels it needs. A block's
                // mask is made from them at once, with no row listed.
                let f = selector.selection;
                let ranged = f.year_from.is_some() || f.year_to.is_some();
                let years = f.year_from.unwrap_or(i32::MIN)..=f.year_to.unwrap_or(i32::MAX);
                // Per level a placed row is asked for: its slots, and the slot of no place.
                let levels: Vec<(&[u32], u32)> = selector
                    .unplaced
                    .map(|empty| {
                        (0..4)
                            .filter(|&level| f.placed[level])
                            .map(|level| {
                                let places = &self.places[1 + level];
                                (places.slots(), places.slot_or_none(empty))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                picked.blocks.reserve(part.len() / BLOCK + 2);
                let mut start = part.start;
                while start < part.end {
                    let b = start / BLOCK;
                    let end = ((b + 1) * BLOCK).min(part.end);
                    let mut mask = 0u64;
                    if f.all_revisions {
                        for r in start..end {
                            mask |= 1 << (r % BLOCK);
                        }
                    } else {
                        for (r, &latest) in (start..end).zip(&self.latest[start..end]) {
                            mask |= u64::from(latest) << (r % BLOCK);
                        }
                    }
                    if ranged || !levels.is_empty() {
                        for bit in Ones(mask) {
                            let r = b * BLOCK + bit;
                            let year = self.years[r];
                            if (ranged && (year == NO_YEAR || !years.contains(&year)))
                                || levels.iter().any(|(slots, unplaced)| slots[r] == *unplaced)
                            {
                                mask &= !(1 << bit);
                            }
                        }
                    }
                    picked.push_block(b as u32, mask);
                    start = end;
                }
            }
            None => {
                for r in part {
                    if selector.keeps(self, r as u32, None) {
                        picked.push(r as u32);
                    }
                }
            }
        }
        picked
    }
}

/// The rows a selection keeps, block by block of [`BLOCK`] rows: each block that holds
/// one with the mask of those it holds (bit `i`: the block's row `i`), blocks ascending.
/// A column is then read a block at a time, its absent cells skipped by their masks.
#[derive(Debug, Default)]
pub(super) struct Picked {
    pub(super) blocks: Vec<(u32, u64)>,
    /// How many rows in all.
    pub(super) len: usize,
}

impl Picked {
    /// Adds row `r`, past every row added so far.
    fn push(&mut self, r: u32) {
        let (b, bit) = (r / BLOCK as u32, r % BLOCK as u32);
        match self.blocks.last_mut() {
            Some((last, mask)) if *last == b => *mask |= 1 << bit,
            last => {
                debug_assert!(last.is_none_or(|(l, _)| *l < b), "rows in ascending order");
                self.blocks.push((b, 1 << bit));
            }
        }
        self.len += 1;
    }

    /// Adds block `b`'s rows of `mask`, past every block added so far.
    fn push_block(&mut self, b: u32, mask: u64) {
        if mask != 0 {
            self.blocks.push((b, mask));
            self.len += mask.count_ones() as usize;
        }
    }

    /// The rows, ascending.
    pub(super) fn rows(&self) -> PickedRows<'_> {
        PickedRows {
            blocks: self.blocks.iter(),
            base: 0,
            mask: 0,
        }
    }

    /// Each block with its mask and how many rows come before it: the row at `bit` is the
    /// `first + (mask & below(bit)).count_ones()`th.
    pub(super) fn blocks(&self) -> impl Iterator<Item = (usize, u64, usize)> + '_ {
        self.blocks.iter().scan(0usize, |first, &(b, mask)| {
            let at = *first;
            *first += mask.count_ones() as usize;
            Some((b as usize, mask, at))
        })
    }
}

/// The level `candidates` gives a code's posting list (after the four region levels).
const CODE_LEVEL: usize = 4;

/// Agency names matching a substring are read through their posting lists, not by a scan,
/// while their rows are fewer than one in this many of the index.
const AGENCY_LISTS_BELOW: usize = 4;

/// A selection resolved against the index once per query.
pub(super) struct Selector<'a> {
    pub(super) selection: &'a Selection,
    /// Region name ids the selection asks for, per level.
    region: [Option<u32>; 4],
    /// The id of the division code prefix the selection asks for.
    code: Option<u32>,
    /// The id of the empty name, when levels must be placed and some row has none.
    unplaced: Option<u32>,
    /// Agency name ids that contain the selection's substring.
    agencies: Option<HashSet<u32>>,
    /// The selection names something no stored report has.
    pub(super) nothing: bool,
}

impl<'a> Selector<'a> {
    pub(super) fn new(index: &Index, selection: &'a Selection) -> Selector<'a> {
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
            resolve(&selection.province),
            resolve(&selection.city),
            resolve(&selection.county),
            resolve(&selection.township),
        ];
        let code = resolve(division_prefix(selection.code.trim()));
        let agencies =
            (!selection.agency.is_empty()).then(|| index.agencies_containing(&selection.agency));
        nothing |= agencies.as_ref().is_some_and(HashSet::is_empty);
        let unplaced = if selection.placed.iter().any(|p| *p) {
            index.strings.get("")
        } else {
            None
        };
        Selector {
            selection,
            region,
            code,
            unplaced,
            agencies,
            nothing,
        }
    }

    /// True when the selection asks for nothing but a year range and revisions.
    pub(super) fn by_year_only(&self) -> bool {
        self.unplaced.is_none() && self.hot_only()
    }

    /// True when the selection asks for nothing but a year range, revisions and placed
    /// levels: what the hot columns decide.
    fn hot_only(&self) -> bool {
        self.region.iter().all(Option::is_none)
            && self.code.is_none()
            && self.selection.published_from.is_none()
            && self.selection.published_to.is_none()
            && self.agencies.is_none()
            && self.selection.severity.is_none()
            && self.selection.finding.is_none()
            && self.selection.template.is_none()
    }

    /// The rows of the smallest posting list the selection names, when it names one small
    /// enough to beat a scan of every row.
    /// With them, the region level every one of them has (when they came from a region's
    /// list).
    pub(super) fn candidates(&self, index: &Index) -> Option<(Vec<u32>, Option<usize>)> {
        let mut best: Option<(&[u32], usize)> = None;
        // The code's list is level 4 here: `keeps` checks a code like a region level.
        let wanted = self
            .region
            .iter()
            .enumerate()
            .map(|(level, want)| (1 + level as u8, level, want))
            .chain(std::iter::once((CODE_POSTINGS, CODE_LEVEL, &self.code)));
        for (key, level, want) in wanted {
            if let Some(id) = want {
                let list = index
                    .postings
                    .get(&(key, *id))
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
            if best.is_none_or(|(b, _)| total < b.len())
                && total < index.rows.len() / AGENCY_LISTS_BELOW
            {
                let mut all: Vec<u32> = lists.into_iter().flatten().copied().collect();
                all.sort_unstable();
                return Some((all, None));
            }
        }
        best.map(|(list, level)| (list.to_vec(), Some(level)))
    }

    /// True when row `r` passes the selection; `known` is a region level every candidate row
    /// already has (the posting list they came from), not checked again.
    pub(super) fn keeps(&self, index: &Index, r: u32, known: Option<usize>) -> bool {
        let f = self.selection;
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
            .any(|(level, want)| want.is_some() && Some(level) != known)
            || (self.code.is_some() && known != Some(CODE_LEVEL));
        let dated = f.published_from.is_some() || f.published_to.is_some();
        if !rest
            && !dated
            && self.unplaced.is_none()
            && f.template.is_none()
            && f.severity.is_none()
            && f.finding.is_none()
            && self.agencies.is_none()
        {
            return true;
        }
        let row = &index.rows[r as usize];
        let region = |level: usize| index.places[1 + level].name(r as usize);
        for (level, want) in self.region.iter().enumerate() {
            if Some(level) != known && want.is_some_and(|id| id != region(level)) {
                return false;
            }
        }
        if let Some(empty) = self.unplaced {
            if (0..4).any(|level| f.placed[level] && region(level) == empty) {
                return false;
            }
        }
        if let (Some(want), false) = (self.code, known == Some(CODE_LEVEL)) {
            let prefix = index.strings.name(want);
            if !index.strings.name(row.code).starts_with(prefix) {
                return false;
            }
        }
        if dated
            && (row.published == 0
                || f.published_from.is_some_and(|from| row.published < from)
                || f.published_to.is_some_and(|to| row.published > to))
        {
            return false;
        }
        if f.template
            .is_some_and(|t| Template::try_from(row.template).unwrap_or(Template::Unknown) != t)
        {
            return false;
        }
        if let Some(s) = f.severity {
            if !index.codes(row).any(|(_, sev)| sev == s) {
                return false;
            }
        }
        if let Some(c) = f.finding {
            if !index.codes(row).any(|(code, _)| code == c) {
                return false;
            }
        }
        if let Some(agencies) = &self.agencies {
            if !agencies.contains(&index.places[AGENCY].name(r as usize)) {
                return false;
            }
        }
        true
    }
}

/// See [`Picked::rows`].
pub(super) struct PickedRows<'a> {
    blocks: std::slice::Iter<'a, (u32, u64)>,
    /// The first row of the block `mask` is left of.
    base: u32,
    mask: u64,
}

impl Iterator for PickedRows<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        while self.mask == 0 {
            let &(b, mask) = self.blocks.next()?;
            self.base = b * BLOCK as u32;
            self.mask = mask;
        }
        let bit = self.mask.trailing_zeros();
        self.mask &= self.mask - 1;
        Some(self.base + bit)
    }
}
