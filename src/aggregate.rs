//! Sums, rates and finding counts over stored reports. PURE: the store feeds it.
//!
//! [`Index`] holds what queries need of every stored report, maintained as reports are
//! written, so no query decodes a stored report: the dimensions (year, agency, region,
//! format, revision status, finding counts) per report, and one column per catalogue metric
//! (`NaN` for an absent cell).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use crate::catalogue::{self, METRICS};
use crate::finding::Code;
use crate::pb::{self, Finding, Report, Severity, Template};

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

/// What the index keeps of one stored report besides its cells.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub seq: u64,
    pub year: Option<i32>,
    agency: u32,
    region: [u32; 4],
    pub template: Template,
    /// False once a later revision of the same body and year is stored.
    pub latest: bool,
    /// (code, severity) of every finding, the report's own and the cross-year ones.
    findings: Vec<(Code, Severity)>,
    cross_start: usize,
    pub source: String,
}

impl Row {
    fn count(&self, severity: Severity) -> u32 {
        self.findings.iter().filter(|(_, s)| *s == severity).count() as u32
    }
}

/// Every stored report, as queries need it.
#[derive(Debug, Default)]
pub struct Index {
    strings: Interner,
    rows: Vec<Row>,
    columns: Vec<Vec<f64>>,
    by_id: HashMap<String, usize>,
    /// (agency, year) → rows of every revision, oldest first.
    bodies: HashMap<(u32, i32), Vec<usize>>,
}

/// The body a report belongs to: its agency and year, when it has both.
pub fn body_key(report: &Report) -> Option<(String, i32)> {
    let agency = report.agency.trim();
    match (agency.is_empty(), report.year) {
        (false, Some(year)) => Some((agency.to_owned(), year)),
        _ => None,
    }
}

fn finding_codes(findings: &[Finding]) -> impl Iterator<Item = (Code, Severity)> + '_ {
    findings
        .iter()
        .filter_map(|f| Some((Code::parse(&f.code)?, Severity::try_from(f.severity).ok()?)))
}

impl Index {
    pub fn new() -> Index {
        Index {
            columns: vec![Vec::new(); METRICS.len()],
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    pub fn row(&self, id: &str) -> Option<&Row> {
        self.by_id.get(id).map(|&i| &self.rows[i])
    }

    /// Ids of every revision of the body `id` belongs to, oldest first.
    pub fn revisions(&self, id: &str) -> Vec<String> {
        let Some(&i) = self.by_id.get(id) else {
            return Vec::new();
        };
        let row = &self.rows[i];
        match row.year.and_then(|y| self.bodies.get(&(row.agency, y))) {
            Some(list) => list.iter().map(|&r| self.rows[r].id.clone()).collect(),
            None => vec![row.id.clone()],
        }
    }

    /// The latest stored report of a body and year, if any.
    pub fn latest_of(&self, agency: &str, year: i32) -> Option<&Row> {
        let a = self.strings.get(agency)?;
        let list = self.bodies.get(&(a, year))?;
        list.iter().map(|&r| &self.rows[r]).find(|r| r.latest)
    }

    /// Adds a stored report; a report of a body and year already held becomes the latest
    /// revision. Returns the id of the revision it supersedes, if any.
    pub fn insert(&mut self, report: &Report, seq: u64, cross: &[Finding]) -> Option<String> {
        if self.by_id.contains_key(&report.id) {
            return None;
        }
        let region = report.region.clone().unwrap_or_default();
        let agency = self.strings.intern(report.agency.trim());
        let region = [
            self.strings.intern(&region.province),
            self.strings.intern(&region.city),
            self.strings.intern(&region.county),
            self.strings.intern(&region.township),
        ];
        let mut findings: Vec<(Code, Severity)> = finding_codes(&report.findings).collect();
        let cross_start = findings.len();
        findings.extend(finding_codes(cross));
        let index = self.rows.len();
        let mut superseded = None;
        if let Some((_, year)) = body_key(report) {
            let list = self.bodies.entry((agency, year)).or_default();
            if let Some(&prev) = list.iter().rev().find(|&&r| self.rows[r].latest) {
                self.rows[prev].latest = false;
                superseded = Some(self.rows[prev].id.clone());
            }
            list.push(index);
        }
        self.rows.push(Row {
            id: report.id.clone(),
            seq,
            year: report.year,
            agency,
            region,
            template: Template::try_from(report.template).unwrap_or(Template::Unknown),
            latest: true,
            findings,
            cross_start,
            source: report.source.clone(),
        });
        for (m, column) in self.columns.iter_mut().enumerate() {
            column.push(catalogue::get(report, m).unwrap_or(f64::NAN));
        }
        self.by_id.insert(report.id.clone(), index);
        superseded
    }

    /// Replaces the cross-year findings of a stored report.
    pub fn set_cross(&mut self, id: &str, cross: &[Finding]) {
        let Some(&i) = self.by_id.get(id) else { return };
        let row = &mut self.rows[i];
        row.findings.truncate(row.cross_start);
        row.findings.extend(finding_codes(cross));
    }

    /// Rows a filter selects, in storage order.
    pub fn select<'a>(&'a self, filter: &'a pb::Filter) -> impl Iterator<Item = usize> + 'a {
        let selector = Selector::new(self, filter);
        (0..self.rows.len()).filter(move |&i| selector.keeps(self, i))
    }

    pub fn summary(&self, i: usize) -> pb::ReportSummary {
        let row = &self.rows[i];
        pb::ReportSummary {
            id: row.id.clone(),
            agency: self.strings.name(row.agency).to_owned(),
            year: row.year,
            template: row.template as i32,
            region: Some(pb::Region {
                province: self.strings.name(row.region[0]).to_owned(),
                city: self.strings.name(row.region[1]).to_owned(),
                county: self.strings.name(row.region[2]).to_owned(),
                township: self.strings.name(row.region[3]).to_owned(),
            }),
            errors: row.count(Severity::Error),
            warnings: row.count(Severity::Warning),
            infos: row.count(Severity::Info),
            source: row.source.clone(),
            latest: row.latest,
        }
    }

    pub fn seq(&self, i: usize) -> u64 {
        self.rows[i].seq
    }

    fn dim_value(&self, i: usize, dim: Dim) -> String {
        let row = &self.rows[i];
        match dim {
            Dim::Year => row.year.map_or_else(String::new, |y| y.to_string()),
            Dim::Agency => self.strings.name(row.agency).to_owned(),
            Dim::Province => self.strings.name(row.region[0]).to_owned(),
            Dim::City => self.strings.name(row.region[1]).to_owned(),
            Dim::County => self.strings.name(row.region[2]).to_owned(),
            Dim::Township => self.strings.name(row.region[3]).to_owned(),
            Dim::Template => crate::output::template_name(row.template as i32).to_owned(),
        }
    }

    /// Sums of `metrics` (catalogue indices) per group, with the standard rates.
    pub fn aggregate(
        &self,
        metrics: &[usize],
        group_by: &[Dim],
        filter: &pb::Filter,
    ) -> pb::AggregateResponse {
        let mut groups: BTreeMap<Vec<String>, GroupAcc> = BTreeMap::new();
        let rate_cols = RateColumns::get();
        let mut total = 0u64;
        for i in self.select(filter) {
            total += 1;
            let key: Vec<String> = group_by.iter().map(|d| self.dim_value(i, *d)).collect();
            let acc = groups
                .entry(key)
                .or_insert_with(|| GroupAcc::new(metrics.len()));
            acc.reports += 1;
            for (k, &m) in metrics.iter().enumerate() {
                let v = self.columns[m][i];
                if v.is_nan() {
                    acc.missing[k] += 1;
                } else {
                    acc.sums[k] += v;
                    acc.present[k] += 1;
                }
            }
            for (r, def) in RATES.iter().enumerate() {
                let num: Option<f64> = def
                    .numerator
                    .iter()
                    .map(|p| rate_cols.value(self, p, i))
                    .sum();
                let den = def.denominator.iter().try_fold(0.0, |acc, (sign, p)| {
                    rate_cols.value(self, p, i).map(|v| acc + sign * v)
                });
                if let (Some(n), Some(d)) = (num, den) {
                    acc.rates[r].0 += n;
                    acc.rates[r].1 += d;
                    acc.rates[r].2 += 1;
                }
            }
        }
        pb::AggregateResponse {
            group_by: group_by
                .iter()
                .map(|d| Dim::NAMES[*d as usize].to_owned())
                .collect(),
            reports: total,
            groups: groups
                .into_iter()
                .map(|(key, acc)| pb::Group {
                    key,
                    reports: acc.reports,
                    sums: metrics
                        .iter()
                        .enumerate()
                        .map(|(k, &m)| pb::MetricSum {
                            metric: METRICS[m].path.to_owned(),
                            sum: acc.sums[k],
                            reports: acc.present[k],
                            missing: acc.missing[k],
                        })
                        .collect(),
                    rates: RATES
                        .iter()
                        .zip(&acc.rates)
                        .map(|(def, (n, d, reports))| def.to_rate(*n, *d, *reports))
                        .collect(),
                })
                .collect(),
        }
    }

    /// Finding counts by code and severity over the selected reports.
    pub fn summarize(&self, filter: &pb::Filter) -> pb::SummarizeFindingsResponse {
        let mut counts: BTreeMap<(Code, i32), (u64, u64)> = BTreeMap::new();
        let mut reports = 0u64;
        for i in self.select(filter) {
            reports += 1;
            let mut seen: Vec<(Code, Severity)> = Vec::new();
            for &(code, severity) in &self.rows[i].findings {
                let entry = counts.entry((code, severity as i32)).or_default();
                entry.0 += 1;
                if !seen.contains(&(code, severity)) {
                    seen.push((code, severity));
                    entry.1 += 1;
                }
            }
        }
        pb::SummarizeFindingsResponse {
            reports,
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

/// A filter resolved against the index once per query.
struct Selector<'a> {
    filter: &'a pb::Filter,
    region: [Option<Option<u32>>; 4],
    agency_match: std::cell::RefCell<HashMap<u32, bool>>,
    severity: Option<Severity>,
}

impl<'a> Selector<'a> {
    fn new(index: &Index, filter: &'a pb::Filter) -> Selector<'a> {
        let resolve = |s: &str| (!s.is_empty()).then(|| index.strings.get(s));
        Selector {
            filter,
            region: [
                resolve(&filter.province),
                resolve(&filter.city),
                resolve(&filter.county),
                resolve(&filter.township),
            ],
            agency_match: Default::default(),
            severity: match filter.severity.as_str() {
                "error" => Some(Severity::Error),
                "warning" => Some(Severity::Warning),
                "info" => Some(Severity::Info),
                _ => None,
            },
        }
    }

    fn keeps(&self, index: &Index, i: usize) -> bool {
        let row = &index.rows[i];
        let f = self.filter;
        if !f.all_revisions && !row.latest {
            return false;
        }
        if f.year_from.is_some() || f.year_to.is_some() {
            let Some(y) = row.year else { return false };
            if f.year_from.is_some_and(|from| y < from) || f.year_to.is_some_and(|to| y > to) {
                return false;
            }
        }
        for (want, have) in self.region.iter().zip(row.region) {
            match want {
                None => {}
                Some(None) => return false,
                Some(Some(id)) if *id != have => return false,
                Some(Some(_)) => {}
            }
        }
        if !f.template.is_empty() && crate::output::template_name(row.template as i32) != f.template
        {
            return false;
        }
        if let Some(s) = self.severity {
            if !row.findings.iter().any(|(_, sev)| *sev == s) {
                return false;
            }
        }
        if !f.agency.is_empty() {
            let mut cache = self.agency_match.borrow_mut();
            let hit = *cache
                .entry(row.agency)
                .or_insert_with(|| index.strings.name(row.agency).contains(f.agency.as_str()));
            if !hit {
                return false;
            }
        }
        true
    }
}

struct GroupAcc {
    reports: u64,
    sums: Vec<f64>,
    present: Vec<u64>,
    missing: Vec<u64>,
    rates: Vec<(f64, f64, u64)>,
}

impl GroupAcc {
    fn new(n: usize) -> GroupAcc {
        GroupAcc {
            reports: 0,
            sums: vec![0.0; n],
            present: vec![0; n],
            missing: vec![0; n],
            rates: vec![(0.0, 0.0, 0); RATES.len()],
        }
    }
}

/// A rate of domain.md: sum of numerator paths over (signed) sum of denominator paths.
pub struct RateDef {
    pub name: &'static str,
    pub numerator: &'static [&'static str],
    pub denominator: &'static [(f64, &'static str)],
}

/// Below this denominator a rate is noisy (domain.md: about 30 closed applications).
const SMALL_SAMPLE: f64 = 30.0;

pub const RATES: &[RateDef] = &[
    RateDef {
        name: "disclosure_rate",
        numerator: &[
            "applications.disclosed.total",
            "applications.partially_disclosed.total",
        ],
        denominator: &[(1.0, "applications.closed_total.total")],
    },
    RateDef {
        name: "not_held_rate",
        numerator: &["applications.unavailable.not_held.total"],
        denominator: &[(1.0, "applications.closed_total.total")],
    },
    RateDef {
        name: "review_correction_rate",
        numerator: &["review.corrected"],
        denominator: &[(1.0, "review.total"), (-1.0, "review.pending")],
    },
    RateDef {
        name: "litigation_direct_correction_rate",
        numerator: &["litigation_direct.corrected"],
        denominator: &[
            (1.0, "litigation_direct.total"),
            (-1.0, "litigation_direct.pending"),
        ],
    },
    RateDef {
        name: "litigation_after_review_correction_rate",
        numerator: &["litigation_after_review.corrected"],
        denominator: &[
            (1.0, "litigation_after_review.total"),
            (-1.0, "litigation_after_review.pending"),
        ],
    },
    RateDef {
        name: "dispute_rate",
        numerator: &["review.total", "litigation_direct.total"],
        denominator: &[(1.0, "applications.new_received.total")],
    },
];

impl RateDef {
    pub fn definition(&self) -> String {
        let den: Vec<String> = self
            .denominator
            .iter()
            .enumerate()
            .map(|(i, (sign, p))| match (i, *sign < 0.0) {
                (0, _) => (*p).to_owned(),
                (_, true) => format!("- {p}"),
                (_, false) => format!("+ {p}"),
            })
            .collect();
        format!("({}) / ({})", self.numerator.join(" + "), den.join(" "))
    }

    pub fn to_rate(&self, numerator: f64, denominator: f64, reports: u64) -> pb::Rate {
        pb::Rate {
            name: self.name.to_owned(),
            value: (denominator != 0.0).then(|| numerator / denominator),
            numerator,
            denominator,
            definition: self.definition(),
            reports,
            small_sample: denominator < SMALL_SAMPLE,
        }
    }
}

/// Column indices of the paths the rates use (resolved once).
struct RateColumns(HashMap<&'static str, usize>);

impl RateColumns {
    fn get() -> &'static RateColumns {
        static COLS: std::sync::OnceLock<RateColumns> = std::sync::OnceLock::new();
        COLS.get_or_init(|| {
            let mut map = HashMap::default();
            for def in RATES {
                for p in def
                    .numerator
                    .iter()
                    .chain(def.denominator.iter().map(|(_, p)| p))
                {
                    map.insert(*p, catalogue::index_of(p).expect("rate path in catalogue"));
                }
            }
            RateColumns(map)
        })
    }

    fn value(&self, index: &Index, path: &str, i: usize) -> Option<f64> {
        let v = index.columns[*self.0.get(path)?][i];
        (!v.is_nan()).then_some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(
        id: &str,
        agency: &str,
        year: i32,
        new_total: f64,
        closed: f64,
        disclosed: f64,
    ) -> Report {
        let mut r = Report {
            id: id.into(),
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
        assert_eq!(superseded.as_deref(), Some("a"));
        assert_eq!(index.revisions("d"), vec!["a", "d"]);

        let m = catalogue::index_of("applications.new_received.total").unwrap();
        let r = index.aggregate(&[m], &[Dim::Year], &pb::Filter::default());
        let by_year: Vec<(String, f64)> = r
            .groups
            .iter()
            .map(|g| (g.key[0].clone(), g.sums[0].sum))
            .collect();
        assert_eq!(by_year, vec![("2022".into(), 32.0), ("2023".into(), 7.0)]);
        let all = index.aggregate(
            &[m],
            &[],
            &pb::Filter {
                all_revisions: true,
                ..Default::default()
            },
        );
        assert_eq!(all.groups[0].sums[0].sum, 49.0);

        let county = index.aggregate(
            &[m],
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
        let r = index.aggregate(&[pending], &[], &pb::Filter::default());
        assert_eq!(
            (r.groups[0].sums[0].reports, r.groups[0].sums[0].missing),
            (0, 3)
        );
    }

    #[test]
    fn filters_by_year_region_and_severity() {
        let mut index = Index::new();
        let mut bad = report("x", "淮安市人民政府", 2024, 1.0, 1.0, 1.0);
        bad.findings.push(crate::finding::finding(
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
        let count = |f: pb::Filter| index.select(&f).count();
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
}
