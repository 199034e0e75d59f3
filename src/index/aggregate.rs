//! Sums, rates and finding counts per group of the selected reports.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use super::column::{below, BlockValues, Column, Ones, BLOCK};
use super::select::{Picked, Selector};
use super::{Index, Selection, AGENCY, NONE, NO_YEAR};
use crate::model::catalogue::{self, METRICS};
use crate::model::finding::Code;
use crate::model::form::template_name;
use crate::model::rates::{RateDef, RATES};
use crate::pb::{self, Severity};

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

    /// Where a place dimension's ids are in [`Index::places`] (the agency, or a region
    /// level); `None` for the year and the template.
    fn place(self) -> Option<usize> {
        match self {
            Dim::Agency => Some(AGENCY),
            Dim::Province => Some(1),
            Dim::City => Some(2),
            Dim::County => Some(3),
            Dim::Township => Some(4),
            Dim::Year | Dim::Template => None,
        }
    }
}

/// Most dimensions one aggregate groups by (each dimension once).
pub const MAX_DIMS: usize = 7;

/// What an aggregate's groups are ordered by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// The group key, dimension by dimension, as the names sort.
    #[default]
    Key,
    /// The group's report count.
    Reports,
    /// The sum of the query's `metrics[i]`.
    Sum(usize),
    /// The value of the query's `rates[i]`; groups without one come last.
    Rate(usize),
    /// The group's mean compliance score; groups without a scored report come last.
    Score,
}

/// A year as the group key prints it ("" for none), for ordering without allocating.
fn year_text(year: i32) -> ([u8; 12], usize) {
    use std::io::Write;
    let mut buf = [0u8; 12];
    if year == NO_YEAR {
        return (buf, 0);
    }
    let mut w = &mut buf[..];
    write!(w, "{year}").expect("an i32 fits in 12 bytes");
    let len = 12 - w.len();
    (buf, len)
}

/// Which groups of an aggregate are answered, in which order: one page of the ranking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ranking {
    pub order: Order,
    /// Largest first.
    pub descending: bool,
    /// Groups of the ranking skipped before the page.
    pub offset: usize,
    /// Groups in the page; `None` for all that follow the offset.
    pub limit: Option<usize>,
    /// Groups of fewer reports are left out.
    pub min_reports: u64,
    /// Also each group's mean compliance score (implied by [`Order::Score`]).
    pub compliance: bool,
    /// A report's score counts in its group's mean only when it assessed at least this
    /// percent of the profile (0–100); those below are counted apart.
    pub min_coverage: u8,
}

impl Index {
    /// Row `r`'s value of a dimension as a number (string id, year or template).
    fn dim_id(&self, r: usize, dim: Dim) -> u32 {
        match (dim, dim.place()) {
            (_, Some(level)) => self.places[level].name(r),
            (Dim::Year, None) => self.years[r] as u32,
            (_, None) => self.rows[r].template as u32,
        }
    }

    fn dim_name(&self, dim: Dim, id: u32) -> String {
        match dim {
            Dim::Year if id as i32 == NO_YEAR => String::new(),
            Dim::Year => (id as i32).to_string(),
            Dim::Template => template_name(id as i32).to_owned(),
            _ => self.strings.name(id).to_owned(),
        }
    }

    /// The group of every selected row, and each group's dimension values.
    fn group(&self, rows: &Picked, group_by: &[Dim]) -> (Vec<u32>, Vec<[u32; MAX_DIMS]>) {
        let mut keys: Vec<[u32; MAX_DIMS]> = Vec::new();
        let mut dense: Vec<u32> = Vec::new();
        let mut hashed: HashMap<[u32; MAX_DIMS], u32> = HashMap::default();
        let mut of = Vec::with_capacity(rows.len);
        for r in rows.rows() {
            let mut key = [0u32; MAX_DIMS];
            for (k, dim) in group_by.iter().take(MAX_DIMS).enumerate() {
                key[k] = self.dim_id(r as usize, *dim);
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
        selection: &Selection,
    ) -> pb::AggregateResponse {
        self.aggregate_by(
            metrics,
            rates,
            group_by,
            selection,
            &Ranking::default(),
            true,
        )
    }

    /// [`Index::aggregate`], ordered and cut to one page by `ranking`.
    pub fn rank(
        &self,
        metrics: &[usize],
        rates: &[usize],
        group_by: &[Dim],
        selection: &Selection,
        ranking: &Ranking,
    ) -> pb::AggregateResponse {
        self.aggregate_by(metrics, rates, group_by, selection, ranking, true)
    }

    /// [`Index::aggregate`], from the per-year totals when `totals` and they can answer.
    pub(super) fn aggregate_by(
        &self,
        metrics: &[usize],
        rates: &[usize],
        group_by: &[Dim],
        selection: &Selection,
        ranking: &Ranking,
        totals: bool,
    ) -> pb::AggregateResponse {
        /// Selections of at least this many candidate rows are split over two threads.
        const SPLIT_AT: usize = 1 << 17;
        let selector = Selector::new(self, selection);
        let candidates = (!selector.nothing)
            .then(|| selector.candidates(self))
            .flatten();
        let total = match (&candidates, selector.nothing) {
            (_, true) => 0,
            (Some((c, _)), _) => c.len(),
            (None, _) => self.rows.len(),
        };
        let scores =
            (ranking.compliance || ranking.order == Order::Score).then_some(ranking.min_coverage);
        // The per-year totals keep no scores.
        let whole = (totals && scores.is_none())
            .then(|| self.answer_from_totals(&selector, metrics, rates, group_by))
            .flatten();
        let split = whole.is_none()
            && total >= SPLIT_AT
            && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
        let part = |range: std::ops::Range<usize>| {
            let rows = self.select_part(&selector, candidates.as_ref(), range);
            self.partial(&rows, metrics, rates, group_by, scores)
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
        let (page, total_groups) = self.order_groups(&whole, group_by, ranking);
        pb::AggregateResponse {
            group_by: group_by
                .iter()
                .map(|d| Dim::NAMES[*d as usize].to_owned())
                .collect(),
            reports: whole.reports.iter().sum(),
            total_groups: total_groups as u64,
            next_page_token: String::new(),
            groups: page
                .into_iter()
                .map(|g| {
                    let g = g as usize;
                    pb::Group {
                        key: group_by
                            .iter()
                            .enumerate()
                            .map(|(k, d)| self.dim_name(*d, self.key_of(&whole, group_by, g)[k]))
                            .collect(),
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
                        compliance: scores.map(|min| {
                            let s = whole.scores[g];
                            pb::GroupCompliance {
                                mean: s.mean(),
                                scored: s.scored,
                                unscored: whole.reports[g] - s.scored - s.thin,
                                profile: crate::compliance::profile::DEFAULT_PROFILE.to_owned(),
                                coverage: (s.scored > 0).then(|| s.coverage / s.scored as f64),
                                below_coverage: s.thin,
                                min_coverage: f64::from(min) / 100.0,
                            }
                        }),
                    }
                })
                .collect(),
        }
    }

    /// Group `g`'s key in `whole`, grouped by `group_by`: a slotted partial's group is a
    /// slot of the place it is grouped by, keyed by the slot's name.
    fn key_of(&self, whole: &Partial, group_by: &[Dim], g: usize) -> [u32; MAX_DIMS] {
        let mut key = whole.key(g);
        if whole.slotted {
            let level = group_by[0]
                .place()
                .expect("only a place's partial is slotted");
            key[0] = self.places[level].name_of_slot(key[0]);
        }
        key
    }

    /// The groups of one page of `ranking`, in order, and how many groups rank in all.
    /// Only the groups up to the page's end are sorted (a selection finds them first), so
    /// the top 20 of 100,000 groups cost a pass, not a sort.
    fn order_groups(
        &self,
        whole: &Partial,
        group_by: &[Dim],
        ranking: &Ranking,
    ) -> (Vec<u32>, usize) {
        // A slot no selected report has is no group.
        let least = ranking.min_reports.max(1);
        let mut groups: Vec<u32> = (0..whole.reports.len() as u32)
            .filter(|&g| whole.reports[g as usize] >= least)
            .collect();
        let total = groups.len();
        let value = |g: u32| -> Option<f64> {
            let g = g as usize;
            match ranking.order {
                Order::Key => None,
                Order::Reports => Some(whole.reports[g] as f64),
                // A group where no report prints the metric has no sum to rank: it goes
                // last either way, after the groups whose sum is 0.
                Order::Sum(i) => whole
                    .sums
                    .get(i)
                    .and_then(|(sum, printed)| (printed[g] > 0).then(|| sum[g])),
                Order::Rate(i) => whole.rates.get(i).and_then(|r| {
                    let (num, den, _) = r[g];
                    (den != 0.0).then(|| num / den)
                }),
                Order::Score => whole.scores.get(g).and_then(ScoreSum::mean),
            }
        };
        let by_value = |a: &u32, b: &u32| -> Ordering {
            match ranking.order {
                Order::Key => Ordering::Equal,
                _ => match (value(*a), value(*b)) {
                    (Some(x), Some(y)) if ranking.descending => y.total_cmp(&x),
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => Ordering::Equal,
                },
            }
        };
        let cmp = |a: &u32, b: &u32| -> Ordering {
            by_value(a, b).then_with(|| {
                let by_key = self.cmp_keys(
                    &self.key_of(whole, group_by, *a as usize),
                    &self.key_of(whole, group_by, *b as usize),
                    group_by,
                );
                match (ranking.order, ranking.descending) {
                    (Order::Key, true) => by_key.reverse(),
                    _ => by_key,
                }
            })
        };
        let start = ranking.offset.min(total);
        let end = ranking
            .limit
            .map_or(total, |limit| start.saturating_add(limit).min(total));
        if end < total && end > 0 {
            if ranking.order == Order::Key {
                groups.select_nth_unstable_by(end - 1, cmp);
                groups.truncate(end);
            } else {
                // By value first, each group's value read into a key whose order is the
                // ranking's (integers compared, not values looked up in the sums): the
                // page's last key found by keeping the best keys so far in a heap as long
                // as the page, then the groups better than it, and among those tied with
                // it the first by name, as many as the page has room for.
                let rank_key = |g: u32| -> (bool, u64) {
                    match value(g) {
                        Some(x) if ranking.descending => (false, !ordered_bits(x)),
                        Some(x) => (false, ordered_bits(x)),
                        None => (true, 0),
                    }
                };
                let last = if end <= HEAP_CUT_AT {
                    let mut best = std::collections::BinaryHeap::with_capacity(end + 1);
                    for &g in &groups {
                        let key = rank_key(g);
                        if best.len() < end {
                            best.push(key);
                        } else if best.peek().is_some_and(|worst| key < *worst) {
                            best.pop();
                            best.push(key);
                        }
                    }
                    *best.peek().expect("a page of at least one group")
                } else {
                    let mut keys: Vec<(bool, u64)> = groups.iter().map(|&g| rank_key(g)).collect();
                    *keys.select_nth_unstable(end - 1).1
                };
                let (mut better, mut tied) = (Vec::with_capacity(end), Vec::new());
                for &g in &groups {
                    match rank_key(g).cmp(&last) {
                        Ordering::Less => better.push(g),
                        Ordering::Equal => tied.push(g),
                        Ordering::Greater => {}
                    }
                }
                let room = end - better.len();
                if room < tied.len() {
                    self.first_by_key(&mut tied, room, whole, group_by);
                }
                better.append(&mut tied);
                groups = better;
            }
        }
        groups.sort_unstable_by(cmp);
        groups.truncate(end);
        (groups.split_off(start), total)
    }

    /// Cuts `groups` (tied by value) to the `room` first in the order of their keys' names.
    /// Grouped by one named dimension, each name is looked up once and compared with the
    /// last of the best kept so far (many groups tie at a cut: every body with no
    /// application, ranked from the fewest).
    fn first_by_key(&self, groups: &mut Vec<u32>, room: usize, whole: &Partial, group_by: &[Dim]) {
        let named = matches!(group_by, [d] if !matches!(d, Dim::Year | Dim::Template));
        if named {
            let name = |g: u32| {
                self.strings
                    .name(self.key_of(whole, group_by, g as usize)[0])
            };
            let mut best: std::collections::BinaryHeap<(&str, u32)> =
                std::collections::BinaryHeap::with_capacity(room + 1);
            for &g in groups.iter() {
                let entry = (name(g), g);
                if best.len() < room {
                    best.push(entry);
                } else if best.peek().is_some_and(|worst| entry.0 < worst.0) {
                    best.pop();
                    best.push(entry);
                }
            }
            *groups = best.into_iter().map(|(_, g)| g).collect();
        } else {
            groups.select_nth_unstable_by(room - 1, |a, b| {
                self.cmp_keys(
                    &self.key_of(whole, group_by, *a as usize),
                    &self.key_of(whole, group_by, *b as usize),
                    group_by,
                )
            });
            groups.truncate(room);
        }
    }

    /// Two group keys in the order of their names, dimension by dimension (as the keys of
    /// the answer sort), without making the names.
    fn cmp_keys(&self, a: &[u32; MAX_DIMS], b: &[u32; MAX_DIMS], group_by: &[Dim]) -> Ordering {
        for (k, dim) in group_by.iter().enumerate() {
            let (x, y) = (a[k], b[k]);
            if x == y {
                continue;
            }
            let order = match dim {
                Dim::Year => {
                    let ((a, n), (b, m)) = (year_text(x as i32), year_text(y as i32));
                    a[..n].cmp(&b[..m])
                }
                Dim::Template => template_name(x as i32).cmp(template_name(y as i32)),
                _ => self.strings.name(x).cmp(self.strings.name(y)),
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    }

    /// The aggregate from the per-year totals, when the query is one they answer exactly:
    /// grouped by year or not at all, filtered by years and revisions only.
    pub(super) fn answer_from_totals(
        &self,
        selector: &Selector<'_>,
        metrics: &[usize],
        rates: &[usize],
        group_by: &[Dim],
    ) -> Option<Partial> {
        if selector.nothing || !selector.by_year_only() || !matches!(group_by, [] | [Dim::Year]) {
            return None;
        }
        let f = selector.selection;
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
            scores: Vec::new(),
            slotted: false,
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

    /// The groups, report counts, sums and rate parts of some selected rows, and with
    /// `scores` (the minimum coverage, in percent) their compliance scores' sums.
    fn partial(
        &self,
        rows: &Picked,
        metrics: &[usize],
        rates: &[usize],
        group_by: &[Dim],
        scores: Option<u8>,
    ) -> Partial {
        // Grouped by one place alone, a group is the row's slot at that level: no table
        // maps ids to groups, the counts are arrays as long as the level has names, and
        // the two halves of a split aggregate line up, so their merge adds arrays
        // ([`Partial::slotted`]; [`Index::key_of`] names a slot).
        if let [dim] = group_by {
            if let Some(level) = dim.place() {
                let places = &self.places[level];
                let slots = places.slots();
                let group = |r: usize, _: usize| slots[r] as usize;
                return self.tally(rows, group, places.width(), None, metrics, rates, scores);
            }
        }
        let (group_of, keys) = self.group(rows, group_by);
        let n = keys.len();
        let group = |_: usize, k: usize| group_of[k] as usize;
        self.tally(rows, group, n, Some(keys), metrics, rates, scores)
    }

    /// [`Index::partial`] with each row's group given by `group(row, k)` (`k`: the row's
    /// place among the selected rows), one of `n`; the groups' keys, or `None` when they
    /// are slots ([`Partial::slotted`]).
    #[allow(clippy::too_many_arguments)]
    fn tally(
        &self,
        rows: &Picked,
        group: impl Fn(usize, usize) -> usize + Copy,
        n: usize,
        keys: Option<Vec<[u32; MAX_DIMS]>>,
        metrics: &[usize],
        rates: &[usize],
        scores: Option<u8>,
    ) -> Partial {
        let mut reports = vec![0u64; n];
        for (k, r) in rows.rows().enumerate() {
            reports[group(r as usize, k)] += 1;
        }
        let sums = metrics
            .iter()
            .map(|&m| {
                let (mut sum, mut present) = (vec![0.0; n], vec![0u64; n]);
                let mut block = BlockValues::default();
                for (b, mask, first) in rows.blocks() {
                    self.columns[m].read_block(b, mask, &mut block);
                    for bit in Ones(block.present) {
                        let k = first + (mask & below(bit)).count_ones() as usize;
                        let g = group(b * BLOCK + bit, k);
                        sum[g] += block.values[bit];
                        present[g] += 1;
                    }
                }
                (sum, present)
            })
            .collect();
        let rates = rates
            .iter()
            .map(|&r| self.rate_sums(&RATES[r], rows, group, n))
            .collect();
        let mut score_sums = Vec::new();
        if let Some(min) = scores {
            score_sums = vec![ScoreSum::default(); n];
            for (k, r) in rows.rows().enumerate() {
                if let Some((score, percent)) = self.scores.percent(r) {
                    score_sums[group(r as usize, k)].add(score, percent, min);
                }
            }
        }
        Partial {
            slotted: keys.is_none(),
            keys: keys.unwrap_or_default(),
            reports,
            sums,
            rates,
            scores: score_sums,
        }
    }

    /// (numerator, denominator, reports) of one rate per group, over the rows that print
    /// every path the rate needs: block by block, each path read at the rows that printed
    /// every path before it (a row is given up at its first missing path). Summed in the
    /// order of the rate's paths, as the per-year totals sum.
    fn rate_sums(
        &self,
        def: &RateDef,
        rows: &Picked,
        group: impl Fn(usize, usize) -> usize,
        groups: usize,
    ) -> Vec<(f64, f64, u64)> {
        let column = |path: &str| {
            let m = catalogue::index_of(path).expect("rate path in catalogue");
            &self.columns[m]
        };
        let paths: Vec<(f64, &Column)> = def
            .numerator
            .iter()
            .map(|p| (1.0, column(p)))
            .chain(def.denominator.iter().map(|(sign, p)| (*sign, column(p))))
            .collect();
        let numerators = def.numerator.len();
        let mut values = vec![BlockValues::default(); paths.len()];
        let mut out = vec![(0.0, 0.0, 0u64); groups];
        for (b, mask, first) in rows.blocks() {
            let mut every = mask;
            for ((_, column), block) in paths.iter().zip(&mut values) {
                column.read_block(b, every, block);
                every = block.present;
                if every == 0 {
                    break;
                }
            }
            for bit in Ones(every) {
                let mut num = 0.0;
                for block in &values[..numerators] {
                    num += block.values[bit];
                }
                let mut den = 0.0;
                for ((sign, _), block) in paths[numerators..].iter().zip(&values[numerators..]) {
                    den += *sign * block.values[bit];
                }
                let k = first + (mask & below(bit)).count_ones() as usize;
                let o = &mut out[group(b * BLOCK + bit, k)];
                o.0 += num;
                o.1 += den;
                o.2 += 1;
            }
        }
        out
    }

    /// Finding counts by code and severity over the selected reports.
    pub fn summarize(&self, selection: &Selection) -> pb::SummarizeFindingsResponse {
        let mut counts: BTreeMap<(Code, i32), (u64, u64)> = BTreeMap::new();
        let rows = self.select(selection);
        for &r in &rows {
            let mut seen: Vec<(Code, Severity)> = Vec::new();
            for (code, severity) in self.codes(&self.rows[r as usize]) {
                // A filter by severity or code selects the reports with such a finding
                // and counts only those findings.
                if selection.severity.is_some_and(|s| s != severity)
                    || selection.finding.is_some_and(|c| c != code)
                {
                    continue;
                }
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
pub(super) struct Partial {
    pub(super) keys: Vec<[u32; MAX_DIMS]>,
    pub(super) reports: Vec<u64>,
    pub(super) sums: Vec<(Vec<f64>, Vec<u64>)>,
    pub(super) rates: Vec<Vec<(f64, f64, u64)>>,
    /// Per group, its compliance scores' sums; empty when not asked for.
    pub(super) scores: Vec<ScoreSum>,
    /// True when group `g` is slot `g` of one place level, for every slot of the level
    /// (those no selected row has count 0 reports, and are no group), and `keys` is empty:
    /// [`Partial::key`] gives a slot's key (the slot), and [`Partial::compact`] turns it
    /// into groups with keys for a merge with a keyed partial.
    pub(super) slotted: bool,
}

/// A group's compliance scores: those that count (assessed enough of the profile) summed,
/// and those that assessed too little counted apart.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct ScoreSum {
    sum: f64,
    scored: u64,
    /// Σ coverage of the scores summed.
    coverage: f64,
    /// Scored reports left out for assessing too little.
    thin: u64,
}

impl ScoreSum {
    /// Adds a score that assessed `percent` of the profile (in whole percent, as the index
    /// keeps it: compared as it is, with no rounding a row).
    fn add(&mut self, score: f64, percent: u8, min_coverage: u8) {
        if percent >= min_coverage {
            self.sum += score;
            self.scored += 1;
            self.coverage += f64::from(percent) / 100.0;
        } else {
            self.thin += 1;
        }
    }

    fn merge(&mut self, other: &ScoreSum) {
        self.sum += other.sum;
        self.scored += other.scored;
        self.coverage += other.coverage;
        self.thin += other.thin;
    }

    fn mean(&self) -> Option<f64> {
        (self.scored > 0).then(|| self.sum / self.scored as f64)
    }
}

impl Partial {
    /// Group `g`'s key.
    pub(super) fn key(&self, g: usize) -> [u32; MAX_DIMS] {
        if self.slotted {
            let mut key = [0u32; MAX_DIMS];
            key[0] = g as u32;
            key
        } else {
            self.keys[g]
        }
    }

    /// The groups with a selected report, each with its key, in the order of their slots
    /// (see [`Partial::slotted`]); a partial with keys as it is.
    pub(super) fn compact(self) -> Partial {
        if !self.slotted {
            return self;
        }
        let live: Vec<usize> = (0..self.reports.len())
            .filter(|&g| self.reports[g] > 0)
            .collect();
        let gather = |v: &[u64]| -> Vec<u64> { live.iter().map(|&g| v[g]).collect() };
        Partial {
            keys: live
                .iter()
                .map(|&g| {
                    let mut key = [0u32; MAX_DIMS];
                    key[0] = g as u32;
                    key
                })
                .collect(),
            reports: gather(&self.reports),
            sums: self
                .sums
                .iter()
                .map(|(sum, present)| (live.iter().map(|&g| sum[g]).collect(), gather(present)))
                .collect(),
            rates: self
                .rates
                .iter()
                .map(|rate| live.iter().map(|&g| rate[g]).collect())
                .collect(),
            scores: if self.scores.is_empty() {
                Vec::new()
            } else {
                live.iter().map(|&g| self.scores[g]).collect()
            },
            slotted: false,
        }
    }

    /// Adds `other`'s groups into these.
    pub(super) fn merge(self, other: Partial) -> Partial {
        if self.slotted && other.slotted && self.reports.len() == other.reports.len() {
            return self.add_slots(&other);
        }
        let (this, other) = (self.compact(), other.compact());
        this.merge_keyed(other)
    }

    /// [`Partial::merge`] of two slotted partials over the same strings: slot by slot.
    fn add_slots(mut self, other: &Partial) -> Partial {
        let add = |a: &mut [u64], b: &[u64]| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        add(&mut self.reports, &other.reports);
        for ((sum, present), (s2, p2)) in self.sums.iter_mut().zip(&other.sums) {
            sum.iter_mut().zip(s2).for_each(|(x, y)| *x += y);
            add(present, p2);
        }
        for (rate, r2) in self.rates.iter_mut().zip(&other.rates) {
            for (x, y) in rate.iter_mut().zip(r2) {
                x.0 += y.0;
                x.1 += y.1;
                x.2 += y.2;
            }
        }
        for (x, y) in self.scores.iter_mut().zip(&other.scores) {
            x.merge(y);
        }
        self
    }

    /// [`Partial::merge`] of two partials with keys.
    fn merge_keyed(mut self, other: Partial) -> Partial {
        let mut at = GroupMap::new(&self.keys, &other.keys);
        // At most every group of `other` is new: room for them at once, not by doubling
        // while they come.
        let more = other.keys.len();
        self.keys.reserve(more);
        self.reports.reserve(more);
        for (sum, present) in &mut self.sums {
            sum.reserve(more);
            present.reserve(more);
        }
        for rate in &mut self.rates {
            rate.reserve(more);
        }
        if !other.scores.is_empty() {
            self.scores.reserve(more);
        }
        for (h, key) in other.keys.iter().enumerate() {
            let g = at.entry(*key, || {
                self.keys.push(*key);
                self.reports.push(0);
                for (sum, present) in &mut self.sums {
                    sum.push(0.0);
                    present.push(0);
                }
                for rate in &mut self.rates {
                    rate.push((0.0, 0.0, 0));
                }
                if !other.scores.is_empty() {
                    self.scores.push(ScoreSum::default());
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
            if let Some(s) = other.scores.get(h) {
                self.scores[g].merge(s);
            }
        }
        self
    }
}

/// The bits of `x` as an integer in the order of [`f64::total_cmp`].
fn ordered_bits(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | 1 << 63
    }
}

/// Values of one dimension below this are grouped through a table, not a hash.
const DENSE: u32 = 1 << 20;

/// A ranking's page ending at most this far in is cut by a heap as long as the page (one
/// comparison for most groups); a longer one by a selection over every group's key.
const HEAP_CUT_AT: usize = 4096;

/// Group keys to group numbers, for merging partials: a table by the first dimension's
/// value when every key has only that one and it is small (grouping by one dimension, the
/// rankings' case: 166,000 agencies merge in a pass), a hash map otherwise.
enum GroupMap {
    Dense(Vec<u32>),
    Hashed(HashMap<[u32; MAX_DIMS], usize>),
}

impl GroupMap {
    /// The map of `keys` (group g has `keys[g]`), ready for the keys of `more`.
    fn new(keys: &[[u32; MAX_DIMS]], more: &[[u32; MAX_DIMS]]) -> GroupMap {
        let one_small_dim = |k: &[u32; MAX_DIMS]| k[0] < DENSE && k[1..].iter().all(|&v| v == 0);
        if keys.iter().chain(more).all(one_small_dim) {
            let size = keys
                .iter()
                .chain(more)
                .map(|k| k[0] as usize + 1)
                .max()
                .unwrap_or(0);
            let mut table = vec![NONE; size];
            for (g, k) in keys.iter().enumerate() {
                table[k[0] as usize] = g as u32;
            }
            GroupMap::Dense(table)
        } else {
            GroupMap::Hashed(keys.iter().enumerate().map(|(g, k)| (*k, g)).collect())
        }
    }

    /// The group of `key`, made by `insert` when there is none yet.
    fn entry(&mut self, key: [u32; MAX_DIMS], insert: impl FnOnce() -> usize) -> usize {
        match self {
            GroupMap::Dense(table) => {
                let slot = &mut table[key[0] as usize];
                if *slot == NONE {
                    *slot = insert() as u32;
                }
                *slot as usize
            }
            GroupMap::Hashed(map) => *map.entry(key).or_insert_with(insert),
        }
    }
}
