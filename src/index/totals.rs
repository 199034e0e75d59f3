//! Exact per-year totals of every metric and rate, kept up to date as reports are indexed,
//! so that the commonest aggregate (sums by year over every body, or over a range of
//! years) is answered from a few numbers per year instead of a scan of every row. PURE.
//!
//! Sums are kept as integers: a metric (or rate) that ever receives a value with a
//! fraction, or one too large for an exact `f64`, is marked inexact in that year and such
//! queries fall back to the scan, so an answer from here always equals the scan's.

use std::collections::BTreeMap;

use super::codec::{damaged, put_u32, put_u64, SnapshotError, Source};
use super::column::Column;
use crate::model::catalogue::{self, METRICS};
use crate::model::rates::RATES;

/// Rows the rebuild reads each rate's paths for at a time (a buffer of cells a path).
const RATE_CHUNK: usize = 1 << 12;

/// The totals of one year (or of reports with no year).
#[derive(Debug, Clone, PartialEq)]
pub struct YearTotals {
    pub reports: i64,
    /// Per metric: (sum, reports printing it).
    pub sums: Vec<(i64, i64)>,
    /// Per rate: (numerator, denominator, reports printing every path it needs).
    pub rates: Vec<(i64, i64, i64)>,
    inexact_metric: Vec<bool>,
    inexact_rate: Vec<bool>,
}

impl YearTotals {
    fn new() -> YearTotals {
        YearTotals {
            reports: 0,
            sums: vec![(0, 0); METRICS.len()],
            rates: vec![(0, 0, 0); RATES.len()],
            inexact_metric: vec![false; METRICS.len()],
            inexact_rate: vec![false; RATES.len()],
        }
    }

    fn exact_for(&self, metrics: &[usize], rates: &[usize]) -> bool {
        metrics.iter().all(|&m| !self.inexact_metric[m])
            && rates.iter().all(|&r| !self.inexact_rate[r])
    }
}

/// Totals by year over every row, and over the latest revisions only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    all: BTreeMap<i32, YearTotals>,
    latest: BTreeMap<i32, YearTotals>,
}

/// `v` as an integer `f64` adds exactly, when it is one.
fn exact(v: f64) -> Option<i64> {
    // The cast saturates (and maps NaN to 0), so the round trip fails for every value
    // that is not an integer in i64's range.
    let i = v as i64;
    (i as f64 == v && i.abs() < 1 << 52).then_some(i)
}

/// A rate's numerator paths and signed denominator paths, as catalogue indices.
type RatePaths = (Vec<usize>, Vec<(i64, usize)>);

/// The [`RatePaths`] of each rate of [`RATES`].
fn rate_paths() -> &'static [RatePaths] {
    static PATHS: std::sync::OnceLock<Vec<RatePaths>> = std::sync::OnceLock::new();
    PATHS.get_or_init(|| {
        let index = |p: &str| catalogue::index_of(p).expect("rate path in catalogue");
        RATES
            .iter()
            .map(|def| {
                (
                    def.numerator.iter().map(|p| index(p)).collect(),
                    def.denominator
                        .iter()
                        .map(|(sign, p)| (*sign as i64, index(p)))
                        .collect(),
                )
            })
            .collect()
    })
}

/// A year's totals on disk: its year (u32), reports (u64), each metric's sum and reports
/// (2 × u64), each rate's three parts (3 × u64), then a byte a metric and a rate (1:
/// inexact).
fn year_bytes() -> usize {
    4 + 8 + METRICS.len() * (16 + 1) + RATES.len() * (24 + 1)
}

impl Totals {
    /// The totals as a snapshot keeps them: for every rows, then for the latest revisions,
    /// how many years, then each year ([`year_bytes`]).
    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        for map in [&self.all, &self.latest] {
            put_u64(out, map.len() as u64);
            for (&year, t) in map {
                put_u32(out, year as u32);
                put_u64(out, t.reports as u64);
                for &(sum, printed) in &t.sums {
                    put_u64(out, sum as u64);
                    put_u64(out, printed as u64);
                }
                for &(num, den, reports) in &t.rates {
                    for v in [num, den, reports] {
                        put_u64(out, v as u64);
                    }
                }
                out.extend(t.inexact_metric.iter().map(|&b| u8::from(b)));
                out.extend(t.inexact_rate.iter().map(|&b| u8::from(b)));
            }
        }
    }

    /// Totals written by [`Totals::encode`].
    pub(super) fn read<R: std::io::Read>(src: &mut Source<R>) -> Result<Totals, SnapshotError> {
        let mut totals = Totals::default();
        for latest in [false, true] {
            for _ in 0..src.len(year_bytes())? {
                let mut input = src.take(year_bytes())?;
                let input = &mut input;
                let year = super::codec::get_u32(input)? as i32;
                let mut t = YearTotals::new();
                let mut next = || super::codec::get_u64(input).map(|v| v as i64);
                t.reports = next()?;
                for sum in &mut t.sums {
                    *sum = (next()?, next()?);
                }
                for rate in &mut t.rates {
                    *rate = (next()?, next()?, next()?);
                }
                let flags = super::codec::take(input, METRICS.len() + RATES.len())?;
                for (slot, &b) in t
                    .inexact_metric
                    .iter_mut()
                    .chain(t.inexact_rate.iter_mut())
                    .zip(flags)
                {
                    *slot = match b {
                        0 => false,
                        1 => true,
                        _ => return Err(damaged("a year's totals hold a flag that is not 0 or 1")),
                    };
                }
                let map = if latest {
                    &mut totals.latest
                } else {
                    &mut totals.all
                };
                if map.insert(year, t).is_some() {
                    return Err(damaged(format!("the totals of year {year} twice")));
                }
            }
        }
        Ok(totals)
    }

    /// Adds (`sign` 1) or removes (`sign` -1) one row with cells `value(metric)`, in the
    /// all-revisions totals when `all` and the latest-revision totals when `latest`.
    pub fn account(
        &mut self,
        year: i32,
        (all, latest): (bool, bool),
        sign: i64,
        value: &dyn Fn(usize) -> Option<f64>,
    ) {
        let mut buckets: Vec<&mut YearTotals> = Vec::with_capacity(2);
        if all {
            buckets.push(self.all.entry(year).or_insert_with(YearTotals::new));
        }
        if latest {
            buckets.push(self.latest.entry(year).or_insert_with(YearTotals::new));
        }
        for t in &mut buckets {
            t.reports += sign;
        }
        for m in 0..METRICS.len() {
            if let Some(v) = value(m) {
                for t in &mut buckets {
                    add_metric(t, m, v, sign);
                }
            }
        }
        for (r, (num, den)) in rate_paths().iter().enumerate() {
            for t in &mut buckets {
                add_rate(t, r, num, den, value, sign);
            }
        }
    }

    /// Totals of every row from the index's columns (after loading a snapshot): one pass
    /// down each column.
    pub fn rebuild(years: &[i32], latest: &[bool], columns: &[Column]) -> Totals {
        let mut totals = Totals::default();
        // Each row's bucket: an index into `keys`.
        let mut keys: Vec<i32> = Vec::new();
        let bucket: Vec<usize> = years
            .iter()
            .map(|y| match keys.iter().position(|k| k == y) {
                Some(b) => b,
                None => {
                    keys.push(*y);
                    keys.len() - 1
                }
            })
            .collect();
        let mut all: Vec<YearTotals> = keys.iter().map(|_| YearTotals::new()).collect();
        let mut newest: Vec<YearTotals> = all.clone();
        for (r, &b) in bucket.iter().enumerate() {
            all[b].reports += 1;
            newest[b].reports += i64::from(latest[r]);
        }
        // Metrics in two halves on two threads, each into its own copy of the buckets.
        let half = columns.len() / 2;
        let sum_columns =
            |from: usize, to: usize, all: &mut [YearTotals], newest: &mut [YearTotals]| {
                for (m, column) in columns.iter().enumerate().take(to).skip(from) {
                    column.for_each_present(|r, v| {
                        add_metric(&mut all[bucket[r]], m, v, 1);
                        if latest[r] {
                            add_metric(&mut newest[bucket[r]], m, v, 1);
                        }
                    });
                }
            };
        let (mut all2, mut newest2) = (all.clone(), newest.clone());
        std::thread::scope(|scope| {
            scope.spawn(|| sum_columns(half, columns.len(), &mut all2, &mut newest2));
            sum_columns(0, half, &mut all, &mut newest);
        });
        for (mine, theirs) in all
            .iter_mut()
            .zip(&all2)
            .chain(newest.iter_mut().zip(&newest2))
        {
            for m in half..columns.len() {
                mine.sums[m] = theirs.sums[m];
                mine.inexact_metric[m] = theirs.inexact_metric[m];
            }
        }
        // Each rate's paths read a chunk of rows at a time into buffers, one scan of each
        // path's column a chunk (not a lookup a row and path).
        let rows: Vec<u32> = (0..years.len() as u32).collect();
        let widest = rate_paths().iter().map(|(n, d)| n.len() + d.len()).max();
        let mut cells = vec![vec![None; RATE_CHUNK]; widest.unwrap_or(0)];
        for (rate, (num, den)) in rate_paths().iter().enumerate() {
            let paths: Vec<usize> = num.iter().copied().chain(den.iter().map(|d| d.1)).collect();
            for (c, chunk) in rows.chunks(RATE_CHUNK).enumerate() {
                for (p, &m) in paths.iter().enumerate() {
                    columns[m].scan(chunk, |k, v| cells[p][k] = v);
                }
                for (k, r) in (c * RATE_CHUNK..).take(chunk.len()).enumerate() {
                    let cell = |m: usize| {
                        let p = paths.iter().position(|&q| q == m)?;
                        cells[p][k]
                    };
                    add_rate(&mut all[bucket[r]], rate, num, den, &cell, 1);
                    if latest[r] {
                        add_rate(&mut newest[bucket[r]], rate, num, den, &cell, 1);
                    }
                }
            }
        }
        for ((key, a), l) in keys.into_iter().zip(all).zip(newest) {
            totals.all.insert(key, a);
            totals.latest.insert(key, l);
        }
        totals
    }

    /// The years (within `years`, when given) with reports, and their totals, when every
    /// metric and rate asked for is exact in each; `None` sends the query to the scan.
    pub fn years(
        &self,
        latest_only: bool,
        years: Option<std::ops::RangeInclusive<i32>>,
        metrics: &[usize],
        rates: &[usize],
    ) -> Option<Vec<(i32, &YearTotals)>> {
        let map = if latest_only { &self.latest } else { &self.all };
        let mut out = Vec::new();
        for (&year, t) in map {
            if years.as_ref().is_some_and(|r| !r.contains(&year)) || t.reports == 0 {
                continue;
            }
            if !t.exact_for(metrics, rates) {
                return None;
            }
            out.push((year, t));
        }
        Some(out)
    }
}

/// Sums at or past this are no longer exact in the scan's `f64`.
const EXACT_LIMIT: i64 = 1 << 53;

fn add_metric(t: &mut YearTotals, m: usize, v: f64, sign: i64) {
    match exact(v) {
        Some(i) => {
            t.sums[m].0 += sign * i;
            t.sums[m].1 += sign;
            if t.sums[m].0.abs() >= EXACT_LIMIT {
                t.inexact_metric[m] = true;
            }
        }
        None => t.inexact_metric[m] = true,
    }
}

/// Adds one row's part of rate `r` when the row prints every path the rate needs.
fn add_rate(
    t: &mut YearTotals,
    r: usize,
    num: &[usize],
    den: &[(i64, usize)],
    cell: &dyn Fn(usize) -> Option<f64>,
    sign: i64,
) {
    let mut n = 0i64;
    let mut d = 0i64;
    for &m in num {
        match cell(m) {
            None => return,
            Some(v) => match exact(v) {
                Some(i) => n += i,
                None => {
                    t.inexact_rate[r] = true;
                    return;
                }
            },
        }
    }
    for &(s, m) in den {
        match cell(m) {
            None => return,
            Some(v) => match exact(v) {
                Some(i) => d += s * i,
                None => {
                    t.inexact_rate[r] = true;
                    return;
                }
            },
        }
    }
    let o = &mut t.rates[r];
    o.0 += sign * n;
    o.1 += sign * d;
    o.2 += sign;
    if o.0.abs() >= EXACT_LIMIT || o.1.abs() >= EXACT_LIMIT {
        t.inexact_rate[r] = true;
    }
}
