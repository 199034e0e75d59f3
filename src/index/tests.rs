//! The index's own tests: rows, revisions, selections, aggregates and snapshots.

use super::select::Selector;
use super::*;
use crate::model::rates::RATES;

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
        region: Some(
            crate::place::resolve(&crate::place::Clues {
                agency,
                text: agency,
                titles: &[],
                source: None,
                url: None,
                year: Some(year),
            })
            .region,
        ),
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
    let r = index.aggregate(&[m], &[], &[Dim::Year], &Selection::default());
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
        &Selection {
            all_revisions: true,
            ..Default::default()
        },
    );
    assert_eq!(all.groups[0].sums[0].sum, 49.0);

    let county = index.aggregate(
        &[m],
        &[0, 5],
        &[Dim::County],
        &Selection {
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
    let r = index.aggregate(&[pending], &[], &[], &Selection::default());
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
    let count = |f: Selection| index.select(&f).len();
    assert_eq!(
        count(Selection {
            year_from: Some(2020),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        count(Selection {
            city: "淮安市".into(),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        count(Selection {
            city: "南京市".into(),
            ..Default::default()
        }),
        0
    );
    assert_eq!(
        count(Selection {
            severity: Some(Severity::Error),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        count(Selection {
            template: Some(Template::Template2019),
            ..Default::default()
        }),
        0
    );
    let s = index.summarize(&Selection::default());
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
        let filter = Selection {
            year_from: from,
            year_to: to,
            all_revisions,
            ..Default::default()
        };
        let scan = index.aggregate_by(&metrics, &rates, &group_by, &filter, &Ranking::default(), false);
        // Without fractions the totals must answer (the comparison is not vacuous).
        if reports.iter().all(|r| r.3 != 0) {
            let selector = Selector::new(&index, &filter);
            proptest::prop_assert!(index.answer_from_totals(&selector, &metrics, &rates, &group_by).is_some());
        }
        proptest::prop_assert_eq!(
            &index.aggregate_by(&metrics, &rates, &group_by, &filter, &Ranking::default(), true),
            &scan
        );
        let bytes = index.encode(7);
        let (back, _) = Index::decode(&bytes).unwrap();
        proptest::prop_assert_eq!(
            &back.aggregate_by(&metrics, &rates, &group_by, &filter, &Ranking::default(), true),
            &scan
        );
        // The totals a snapshot keeps are those the index had. A version-7 snapshot keeps
        // none: they are summed again from its columns, and answer as the scan does (a
        // metric stays inexact in the totals kept once a superseded report gave it a
        // fraction, so the two may differ in what they leave to the scan).
        proptest::prop_assert_eq!(&back.totals, &index.totals);
        let (v7, _) = Index::decode(&as_version_7(&encoded_as(&index, 9, 7), &index)).unwrap();
        proptest::prop_assert_eq!(
            &v7.aggregate_by(&metrics, &rates, &group_by, &filter, &Ranking::default(), true),
            &scan
        );
    }
}

/// `index` in snapshot `version` (rows without their body before version 10).
fn encoded_as(index: &Index, version: u32, next_seq: u64) -> Vec<u8> {
    let mut out = Vec::new();
    index.encode_as(version, next_seq, &mut out).unwrap();
    out
}

/// `bytes`, `index`'s snapshot as version 9 wrote it, as version 7 wrote it: no per-year
/// totals.
fn as_version_7(bytes: &[u8], index: &Index) -> Vec<u8> {
    let mut totals = Vec::new();
    index.totals.encode(&mut totals);
    let end = bytes.len() - 4 - totals.len();
    assert_eq!(&bytes[end..bytes.len() - 4], &totals[..]);
    let mut old = bytes[..end].to_vec();
    old[4..8].copy_from_slice(&7u32.to_le_bytes());
    let crc = crc32fast::hash(&old);
    old.extend_from_slice(&crc.to_le_bytes());
    old
}

/// SummarizeFindings with a severity counts only the findings of that severity in the
/// reports it selects (it used to count all their findings).
#[test]
fn summarize_with_a_severity_counts_only_its_findings() {
    let mut index = Index::new();
    let mut r = report("x", "淮安市人民政府", 2024, 1.0, 1.0, 1.0);
    for code in [Code::RowTotal, Code::CellBlank] {
        r.findings
            .push(crate::model::finding::finding(code, "", None, None, ""));
    }
    index.insert(&r, 1, &[]);
    let codes = |severity: Option<Severity>| {
        let s = index.summarize(&Selection {
            severity,
            ..Default::default()
        });
        let codes: Vec<String> = s.counts.iter().map(|c| c.code.clone()).collect();
        (s.reports, codes)
    };
    assert_eq!(
        codes(None),
        (1, vec!["ROW_TOTAL".into(), "CELL_BLANK".into()])
    );
    assert_eq!(codes(Some(Severity::Error)), (1, vec!["ROW_TOTAL".into()]));
    assert_eq!(
        codes(Some(Severity::Warning)),
        (1, vec!["CELL_BLANK".into()])
    );
    assert_eq!(codes(Some(Severity::Info)), (0, vec![]));
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
    assert_eq!(back.places, index.places);
    assert_eq!(back.columns, index.columns);
    assert_eq!(back.revisions(&hex_id("c")), vec![hex_id("a"), hex_id("c")]);
    assert_eq!(
        back.latest_id("北京市朝阳区人民政府", 2022),
        Some(hex_id("c"))
    );
    let f = Selection {
        all_revisions: true,
        province: "北京市".into(),
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
fn an_older_snapshot_is_not_read() {
    let mut index = Index::new();
    index.insert(&report("r", "淮安市人民政府", 2024, 1.0, 1.0, 1.0), 1, &[]);
    let bytes = index.encode(2);
    assert!(Index::decode(&bytes).is_ok());
    // Versions 3 to 6 counted a body's reports by the agency as printed: the store
    // rebuilds the index from its records rather than read them. (Version 7 reads:
    // `year_totals_answer_as_the_scan_does`.)
    for version in [3u32, 5, 6] {
        let mut old = bytes.clone();
        old[4..8].copy_from_slice(&version.to_le_bytes());
        let n = old.len() - 4;
        let crc = crc32fast::hash(&old[..n]);
        old[n..].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(Index::decode(&old).err(), Some(SnapshotError::NotASnapshot));
    }
}

/// Version 8 wrote every block flat, as version 9 still may, and versions 8 and 9 wrote no
/// body in a row: their snapshots read as they are, each value where it was, each row's
/// body made again from its names.
#[test]
fn versions_8_and_9_read_as_they_are() {
    let mut index = Index::new();
    for i in 0..200u32 {
        let r = report(
            &format!("r{i}"),
            &format!("某市第{}局", i / 3),
            2019 + (i % 3) as i32,
            f64::from(i % 7 + 1),
            f64::from(i % 5 + 1),
            f64::from(i % 3 + 1),
        );
        index.insert(&r, u64::from(i), &[]);
    }
    for version in [8u32, 9] {
        let old = encoded_as(&index, version, 200);
        assert!(
            old.len() < index.encode(200).len(),
            "a row without its body is shorter"
        );
        let (back, next) = Index::decode(&old).unwrap();
        assert_eq!(next, 200);
        assert_eq!(back.len(), 200);
        for r in 0..200u32 {
            for m in 0..catalogue::METRICS.len() {
                assert_eq!(back.value(r, m), index.value(r, m), "row {r}, metric {m}");
            }
            assert_eq!(back.rows[r as usize], index.rows[r as usize], "row {r}");
        }
        assert_eq!(back.encode(200), index.encode(200));
    }
    // A version this build does not know is not read.
    let mut old = index.encode(200);
    let n = old.len() - 4;
    old[4..8].copy_from_slice(&11u32.to_le_bytes());
    let crc = crc32fast::hash(&old[..n]);
    old[n..].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(Index::decode(&old).err(), Some(SnapshotError::NotASnapshot));
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
            .map(|_| crate::model::finding::finding(Code::CarryOverMismatch, "y", None, None, ""))
            .collect()
    };
    for n in [2, 1, 3, 0] {
        let a = index.row_of(&hex_id("a")).unwrap();
        index.set_cross(a, &cross(n), 1);
        assert_eq!(index.before(a), Some(1));
        let s = index.summarize(&Selection::default());
        let of = |code: &str| s.counts.iter().find(|c| c.code == code).map(|c| c.findings);
        assert_eq!(of("ROW_TOTAL"), Some(1), "after {n}");
        assert_eq!(of("CARRY_OVER_MISMATCH"), (n > 0).then_some(n as u64));
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// A page of a ranking is the same slice of the whole ranking made the slow way: every
    /// group in key order, those below `min_reports` left out, a stable sort by the value
    /// (groups without one last), then cut. A group's mean score is made here from the
    /// reports' scores that assessed at least `min_coverage` percent.
    #[test]
    fn a_ranked_page_is_a_slice_of_the_whole_ranking(
        reports in proptest::collection::vec(
            (0u8..9, 2019i32..2023, 0u32..40, 0u32..40, 0u32..40, proptest::option::of((0u8..101, 0u8..101))), 1..80),
        order in 0usize..5,
        descending in proptest::bool::ANY,
        offset in 0usize..12,
        limit in proptest::option::of(1usize..8),
        min_reports in 0u64..4,
        min_coverage in 0u8..101,
        by_agency_alone in proptest::bool::ANY,
    ) {
        let mut index = Index::new();
        let mut means: HashMap<Vec<String>, (f64, u64, u64)> = HashMap::default();
        for (i, (body, year, new, closed, disclosed, score)) in reports.iter().enumerate() {
            let agency = format!("测试{body}县人民政府");
            let r = report(&format!("r{i}"), &agency, *year, *new as f64, *closed as f64, (*disclosed).min(*closed) as f64);
            index.insert(&r, i as u64 + 1, &[]);
            index.set_score(
                i as u32,
                score.map(|(s, c)| Score { score: f64::from(s), coverage: f64::from(c) / 100.0 }),
            );
        }
        // Only the reading counted for a body and year is in a ranking.
        for (i, (body, year, .., score)) in reports.iter().enumerate() {
            if !index.is_counted(i as u32) {
                continue;
            }
            let mut key = vec![format!("测试{body}县人民政府"), year.to_string()];
            key.truncate(if by_agency_alone { 1 } else { 2 });
            let group = means.entry(key).or_default();
            match score {
                Some((s, c)) if *c >= min_coverage => {
                    group.0 += f64::from(*s);
                    group.1 += 1;
                }
                Some(_) => group.2 += 1,
                None => {}
            }
        }
        let mean = |g: &pb::Group| {
            let (sum, n, _) = means[&g.key];
            (n > 0).then(|| sum / n as f64)
        };
        let m = catalogue::index_of("applications.new_received.total").unwrap();
        let order = [Order::Key, Order::Reports, Order::Sum(0), Order::Rate(0), Order::Score][order];
        // By one named dimension, groups tied at the page's cut are chosen by name apart.
        let dims = if by_agency_alone { &[Dim::Agency][..] } else { &[Dim::Agency, Dim::Year][..] };
        let every = Ranking { compliance: true, min_coverage, ..Ranking::default() };
        let all = index.rank(&[m], &[0], dims, &Selection::default(), &every);
        let mut want: Vec<&pb::Group> =
            all.groups.iter().filter(|g| g.reports >= min_reports).collect();
        let value = |g: &pb::Group| match order {
            Order::Key => None,
            Order::Reports => Some(g.reports as f64),
            Order::Sum(_) => (g.sums[0].reports > 0).then_some(g.sums[0].sum),
            Order::Rate(_) => g.rates[0].value,
            Order::Score => mean(g),
        };
        for g in &all.groups {
            let c = g.compliance.as_ref().unwrap();
            proptest::prop_assert_eq!(c.mean, mean(g));
            proptest::prop_assert_eq!(c.below_coverage, means[&g.key].2);
            proptest::prop_assert_eq!(c.scored + c.below_coverage + c.unscored, g.reports);
        }
        match order {
            Order::Key if descending => want.reverse(),
            Order::Key => {}
            _ => want.sort_by(|a, b| match (value(a), value(b)) {
                (Some(x), Some(y)) if descending => y.total_cmp(&x),
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }),
        }
        let ranking =
            Ranking { order, descending, offset, limit, min_reports, compliance: true, min_coverage };
        let got = index.rank(&[m], &[0], dims, &Selection::default(), &ranking);
        proptest::prop_assert_eq!(got.total_groups as usize, want.len());
        proptest::prop_assert_eq!(got.reports, all.reports);
        let end = limit.map_or(want.len(), |l| (offset + l).min(want.len()));
        let want: Vec<&pb::Group> = want[offset.min(end)..end].to_vec();
        let got: Vec<&pb::Group> = got.groups.iter().collect();
        proptest::prop_assert_eq!(got, want);
    }
}

/// Two parts of a split aggregate merge group by group, through the table (one small
/// dimension) and through the hash map (anything else) alike.
#[test]
fn partials_merge_by_table_and_by_hash_alike() {
    use super::aggregate::Partial;
    let part = |keys: &[[u32; 2]], reports: &[u64]| Partial {
        keys: keys
            .iter()
            .map(|k| {
                let mut key = [0u32; MAX_DIMS];
                key[..2].copy_from_slice(k);
                key
            })
            .collect(),
        reports: reports.to_vec(),
        sums: vec![(
            reports.iter().map(|&r| r as f64 * 10.0).collect(),
            reports.to_vec(),
        )],
        rates: vec![reports
            .iter()
            .map(|&r| (r as f64, 2.0 * r as f64, r))
            .collect()],
        scores: Vec::new(),
        slotted: false,
    };
    for second in [0u32, 7] {
        let a = part(&[[5, second], [9, second]], &[1, 2]);
        let b = part(&[[9, second], [2, second]], &[4, 8]);
        let m = a.merge(b);
        let firsts: Vec<u32> = m.keys.iter().map(|k| k[0]).collect();
        assert_eq!(firsts, vec![5, 9, 2], "second dimension {second}");
        assert_eq!(m.reports, vec![1, 6, 8]);
        assert_eq!(m.sums[0].0, vec![10.0, 60.0, 80.0]);
        assert_eq!(
            m.rates[0],
            vec![(1.0, 2.0, 1), (6.0, 12.0, 6), (8.0, 16.0, 8)]
        );
    }
}

#[test]
fn a_rows_facts_are_the_cells_and_year_of_its_report() {
    let text = include_str!("../../tests/corpus/beijing-chaoyang-district-2022.txt");
    let mut parsed = crate::parse_document(text.as_bytes(), &crate::Hints::default());
    parsed.id = hex_id("a");
    // A fraction and a negative change: the columns that hold them widen.
    catalogue::set(
        &mut parsed,
        catalogue::index_of("proactive.fees.amount_wan_yuan").unwrap(),
        Some(0.25),
    );
    catalogue::set(
        &mut parsed,
        catalogue::index_of("proactive.penalty.change").unwrap(),
        Some(-3.0),
    );
    let mut index = Index::new();
    let small = report("b", "某局", 2021, 1.0, 2.0, 3.0);
    index.insert(&small, 1, &[]);
    index.insert(&parsed, 2, &[]);
    let facts = index.facts(1);
    assert_eq!(facts.year, parsed.year);
    assert_eq!(catalogue::facts(&facts), catalogue::facts(&parsed));
    assert!(catalogue::facts(&facts).len() > 100);
    assert_eq!(catalogue::facts(&index.facts(0)), catalogue::facts(&small));
}

/// `report` with one cell unset, as a reading that could not read it.
fn without(mut r: Report, path: &str) -> Report {
    catalogue::set(&mut r, catalogue::index_of(path).unwrap(), None);
    r
}

#[test]
fn renditions_of_one_report_count_once_with_the_reading_that_states_most() {
    let mut index = Index::new();
    let agency = "江苏省淮安市人民政府";
    // The scrambled text first: it could not read the disclosed cell.
    let scrambled = without(
        report("txt", agency, 2024, 30.0, 30.0, 10.0),
        "applications.disclosed.total",
    );
    assert_eq!(
        index.insert_after(&scrambled, 1, &[], None),
        Some(Placed::New)
    );
    // The PDF reads every cell the text read, and one more: counted from now on.
    let pdf = report("pdf", agency, 2024, 30.0, 30.0, 10.0);
    assert_eq!(
        index.insert_after(&pdf, 2, &[], None),
        Some(Placed::Rendition {
            of: hex_id("txt"),
            counted: true
        })
    );
    // A re-scrape that reads the same as the scrambled text: a rendition, not counted.
    let rescrape = without(
        report("txt2", agency, 2024, 30.0, 30.0, 10.0),
        "applications.disclosed.total",
    );
    assert_eq!(
        index.insert_after(&rescrape, 3, &[], None),
        Some(Placed::Rendition {
            of: hex_id("pdf"),
            counted: false
        })
    );
    let m = catalogue::index_of("applications.new_received.total").unwrap();
    let d = catalogue::index_of("applications.disclosed.total").unwrap();
    let sums = |index: &Index, selection: &Selection| {
        let r = index.aggregate(&[m, d], &[], &[Dim::Year], selection);
        r.groups
            .iter()
            .map(|g| (g.reports, g.sums[0].sum, g.sums[1].sum))
            .collect::<Vec<_>>()
    };
    let all = Selection {
        all_revisions: true,
        ..Default::default()
    };
    assert_eq!(sums(&index, &Selection::default()), vec![(1, 30.0, 10.0)]);
    assert_eq!(sums(&index, &all), vec![(3, 90.0, 10.0)]);
    // The body is named without its province: one 淮安市 exists.
    assert_eq!(index.latest_id("淮安市人民政府", 2024), Some(hex_id("pdf")));
    assert_eq!(index.revisions(&hex_id("pdf")), vec![hex_id("txt")]);
    let every = vec![hex_id("txt"), hex_id("pdf"), hex_id("txt2")];
    assert_eq!(
        index.renditions(&hex_id("txt2")),
        (every.clone(), hex_id("pdf"))
    );
    assert!(index.changes(&hex_id("pdf")).is_empty());

    // A corrected report: one figure differs. It is a revision, counted alone.
    let corrected = report("fix", agency, 2024, 31.0, 30.0, 10.0);
    assert_eq!(
        index.insert_after(&corrected, 4, &[], None),
        Some(Placed::Revision {
            supersedes: hex_id("pdf")
        })
    );
    assert_eq!(sums(&index, &Selection::default()), vec![(1, 31.0, 10.0)]);
    assert_eq!(
        index.revisions(&hex_id("txt")),
        vec![hex_id("txt"), hex_id("fix")]
    );
    assert_eq!(index.renditions(&hex_id("txt")), (every, String::new()));
    let changes = index.changes(&hex_id("fix"));
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].path, "applications.new_received.total");
    assert_eq!(
        (changes[0].expected, changes[0].actual),
        (Some(30.0), Some(31.0))
    );
    assert!(changes[0].message.contains(&hex_id("pdf")));

    // The snapshot keeps which row is counted and which are renditions.
    let (back, _) = Index::decode(&index.encode(5)).unwrap();
    assert_eq!(back.rows, index.rows);
    assert_eq!(back.places, index.places);
    assert_eq!(sums(&back, &Selection::default()), vec![(1, 31.0, 10.0)]);
    assert_eq!(
        back.renditions(&hex_id("pdf")),
        index.renditions(&hex_id("pdf"))
    );
    assert_eq!(back.changes(&hex_id("fix")), changes);
}

#[test]
fn a_division_code_selects_every_report_at_or_under_it() {
    let mut index = Index::new();
    let placed = |id: &str, agency: &str, code: &str, province: &str, published: &str| {
        let mut r = report(id, agency, 2023, 1.0, 1.0, 1.0);
        r.region = Some(pb::Region {
            province: province.into(),
            code: code.into(),
            ..Default::default()
        });
        if !published.is_empty() {
            r.publication = Some(pb::Publication {
                date: published.into(),
                ..Default::default()
            });
        }
        r
    };
    for (i, r) in [
        placed("a", "淮安市人民政府", "320800", "江苏省", "2024-03-20"),
        placed("b", "洪泽区人民政府", "320813", "江苏省", "2024-01-15"),
        placed("c", "高良涧街道办事处", "320813001", "江苏省", ""),
        placed("d", "句容市水利局", "321183", "江苏省", "2024-02-01"),
        placed("e", "杭州市人民政府", "330100", "浙江省", "2024-03-01"),
        placed("f", "某局", "", "", "2024-03-01"),
    ]
    .iter()
    .enumerate()
    {
        index.insert(r, i as u64, &[]);
    }
    let ids = |selection: Selection| -> Vec<String> {
        let mut ids: Vec<String> = index
            .select(&selection)
            .into_iter()
            .map(|r| index.summary(r).agency)
            .collect();
        ids.sort();
        ids
    };
    let by_code = |code: &str| {
        ids(Selection {
            code: division_prefix(code).into(),
            ..Default::default()
        })
    };
    assert_eq!(by_code("320000").len(), 4);
    assert_eq!(
        by_code("320800"),
        vec!["洪泽区人民政府", "淮安市人民政府", "高良涧街道办事处"]
    );
    assert_eq!(
        by_code("320813"),
        vec!["洪泽区人民政府", "高良涧街道办事处"]
    );
    assert_eq!(by_code("320813001"), vec!["高良涧街道办事处"]);
    assert!(by_code("370000").is_empty());
    let dated = ids(Selection {
        published_from: Some(20240201),
        published_to: Some(20240301),
        ..Default::default()
    });
    assert_eq!(dated, vec!["句容市水利局", "杭州市人民政府", "某局"]);
    // A grouping by province leaves out the report with no province unless asked.
    let m = catalogue::index_of("applications.new_received.total").unwrap();
    let groups = |placed: [bool; 4]| {
        let r = index.aggregate(
            &[m],
            &[],
            &[Dim::Province],
            &Selection {
                placed,
                ..Default::default()
            },
        );
        r.groups
            .iter()
            .map(|g| (g.key[0].clone(), g.reports))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        groups([true, false, false, false]),
        vec![("江苏省".into(), 4), ("浙江省".into(), 1)]
    );
    assert_eq!(groups([false; 4]).len(), 3);
    assert_eq!(
        index.summary(2).region.unwrap().level,
        pb::PlaceLevel::Township as i32
    );
}

#[test]
fn a_body_printed_with_and_without_its_city_is_one_body() {
    let mut index = Index::new();
    // 洪泽区's own reports: 2023 printed 洪泽区人民政府, 2024 淮安市洪泽区人民政府.
    let y2023 = report("2023", "洪泽区人民政府", 2023, 90.0, 90.0, 10.0);
    let y2024 = report("2024", "淮安市洪泽区人民政府", 2024, 95.0, 95.0, 12.0);
    assert_eq!(index.insert_after(&y2023, 1, &[], None), Some(Placed::New));
    assert_eq!(index.insert_after(&y2024, 2, &[], None), Some(Placed::New));
    let (body, year) = crate::place::body_key(&y2024).unwrap();
    assert_eq!((body.as_str(), year), ("洪泽区人民政府", 2024));
    // The year before is found from the 2024 report's body.
    assert_eq!(index.latest_id(&body, 2023), Some(hex_id("2023")));
    // A rendition of 2024 under the shorter name is the same body and year: counted once.
    let again = report("again", "洪泽区人民政府", 2024, 95.0, 95.0, 12.0);
    assert_eq!(
        index.insert_after(&again, 3, &[], None),
        Some(Placed::Rendition {
            of: hex_id("2024"),
            counted: false
        })
    );
    let m = catalogue::index_of("applications.new_received.total").unwrap();
    let r = index.aggregate(&[m], &[], &[Dim::Year], &Selection::default());
    let by_year: Vec<(u64, f64)> = r
        .groups
        .iter()
        .map(|g| (g.reports, g.sums[0].sum))
        .collect();
    assert_eq!(by_year, vec![(1, 90.0), (1, 95.0)]);
    // The snapshot gives the same bodies back.
    let (back, _) = Index::decode(&index.encode(4)).unwrap();
    assert_eq!(back.latest_id(&body, 2024), Some(hex_id("2024")));
    assert_eq!(
        back.revisions(&hex_id("2024")),
        index.revisions(&hex_id("2024"))
    );
    // 朝阳区 names two districts: 北京市朝阳区人民政府 stays apart from a bare 朝阳区人民政府.
    let beijing = report("bj", "北京市朝阳区人民政府", 2024, 5.0, 5.0, 1.0);
    let bare = report("bare", "朝阳区人民政府", 2024, 7.0, 7.0, 1.0);
    assert_eq!(
        index.insert_after(&beijing, 5, &[], None),
        Some(Placed::New)
    );
    assert_eq!(index.insert_after(&bare, 6, &[], None), Some(Placed::New));
}

/// Two slotted parts (grouped by one place: a group is its slot) merge slot by slot, and
/// compact to the groups with a report, as two parts with keys merge.
#[test]
fn slotted_partials_merge_as_keyed_ones() {
    use super::aggregate::Partial;
    let slotted = |reports: &[u64]| Partial {
        keys: Vec::new(),
        reports: reports.to_vec(),
        sums: vec![(
            reports.iter().map(|&r| r as f64 * 10.0).collect(),
            reports.iter().map(|&r| r / 2).collect(),
        )],
        rates: vec![reports
            .iter()
            .map(|&r| (r as f64, 2.0 * r as f64, r))
            .collect()],
        scores: Vec::new(),
        slotted: true,
    };
    let (a, b) = (&[0, 3, 0, 1, 0][..], &[2, 1, 0, 0, 0][..]);
    let merged = slotted(a).merge(slotted(b)).compact();
    let keyed = slotted(a).compact().merge(slotted(b).compact());
    let firsts = |p: &Partial| p.keys.iter().map(|k| k[0]).collect::<Vec<u32>>();
    assert_eq!(firsts(&merged), vec![0, 1, 3]);
    assert_eq!(merged.reports, vec![2, 4, 1]);
    assert_eq!(merged.sums[0], (vec![20.0, 40.0, 10.0], vec![1, 1, 0]));
    assert_eq!(
        merged.rates[0],
        vec![(2.0, 4.0, 2), (4.0, 8.0, 4), (1.0, 2.0, 1)]
    );
    // The keyed merge keeps first-seen order; the same groups with the same sums.
    let mut got: Vec<_> = firsts(&keyed).into_iter().zip(keyed.reports).collect();
    got.sort_unstable();
    assert_eq!(got, vec![(0, 2), (1, 4), (3, 1)]);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    /// Whatever path a selection takes (a region's posting list, the hot columns' masks,
    /// or every row asked), it keeps the rows the per-row test keeps; and an aggregate by
    /// city, read a block at a time, sums what the rows' values sum. Over more than one
    /// block of rows, some unplaced, some superseded, some fractional.
    #[test]
    fn selections_and_block_reads_agree_with_the_rows_one_by_one(
        reports in proptest::collection::vec(
            (0u8..40, 0u8..3, 2019i32..2023, proptest::option::of(0u32..50), proptest::option::of(0u32..50), 0u8..20),
            1..300),
        province in proptest::option::of(0u8..3),
        from in proptest::option::of(2018i32..2024),
        all_revisions in proptest::bool::ANY,
        placed in proptest::bool::ANY,
        template in proptest::bool::ANY,
    ) {
        let provinces = ["江苏省", "浙江省", ""];
        let paths = ["applications.new_received.total", "applications.closed_total.total"];
        let mut index = Index::new();
        for (i, (body, place, year, a, b, fraction)) in reports.iter().enumerate() {
            let mut r = Report {
                id: hex_id(&format!("r{i}")),
                agency: format!("机关{body}"),
                year: Some(*year),
                template: Template::Template2021 as i32,
                ..Default::default()
            };
            let p = provinces[*place as usize];
            r.region = Some(pb::Region {
                province: p.into(),
                city: if p.is_empty() { String::new() } else { format!("{p}{}市", body % 4) },
                ..Default::default()
            });
            for (path, cell) in paths.iter().zip([a, b]) {
                if let (Some(m), Some(v)) = (catalogue::index_of(path), cell) {
                    let v = f64::from(*v) + if *fraction == 0 { 0.5 } else { 0.0 };
                    catalogue::set(&mut r, m, Some(v));
                }
            }
            index.insert(&r, i as u64, &[]);
        }
        let selection = Selection {
            province: province.map(|p| provinces[p as usize].to_owned()).unwrap_or_default(),
            year_from: from,
            all_revisions,
            placed: [placed, placed, false, false],
            template: template.then_some(Template::Template2021),
            ..Default::default()
        };
        let selector = Selector::new(&index, &selection);
        let by_row: Vec<u32> = if selector.nothing {
            Vec::new()
        } else {
            (0..index.len() as u32).filter(|&r| selector.keeps(&index, r, None)).collect()
        };
        let rows = index.select(&selection);
        proptest::prop_assert_eq!(&rows, &by_row);
        let metrics: Vec<usize> = paths.iter().filter_map(|p| catalogue::index_of(p)).collect();
        let got = index.aggregate_by(&metrics, &[], &[Dim::City], &selection, &Ranking::default(), false);
        let mut want: std::collections::BTreeMap<String, Vec<(f64, u64)>> = Default::default();
        let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
        for &r in &rows {
            let city = index.strings.name(index.places[2].name(r as usize)).to_owned();
            *counts.entry(city.clone()).or_default() += 1;
            let sums = want.entry(city).or_insert_with(|| vec![(0.0, 0); metrics.len()]);
            for (s, &m) in sums.iter_mut().zip(&metrics) {
                if let Some(v) = index.value(r, m) {
                    s.0 += v;
                    s.1 += 1;
                }
            }
        }
        proptest::prop_assert_eq!(got.groups.len(), want.len());
        for g in &got.groups {
            proptest::prop_assert_eq!(g.reports, counts[&g.key[0]]);
            let sums: Vec<(f64, u64)> = g.sums.iter().map(|s| (s.sum, s.reports)).collect();
            proptest::prop_assert_eq!(&sums, &want[&g.key[0]]);
        }
    }
}

proptest::proptest! {
    /// The string table gives each name one id, in the order names first came, and gives
    /// the name back from its id; a name never interned has no id. A plain map is the model.
    #[test]
    fn each_name_has_one_id_and_reads_back(
        names in proptest::collection::vec("[a-c市区县\\x00]{0,4}", 0..60),
        absent in "[d-f]{1,3}",
    ) {
        let mut table = Interner::default();
        let mut model: std::collections::HashMap<String, u32> = Default::default();
        for name in &names {
            let next = model.len() as u32;
            let want = *model.entry(name.clone()).or_insert(next);
            proptest::prop_assert_eq!(table.intern(name), want);
        }
        proptest::prop_assert_eq!(table.len(), model.len());
        for (name, &id) in &model {
            proptest::prop_assert_eq!(table.get(name), Some(id));
            proptest::prop_assert_eq!(table.name(id), name.as_str());
        }
        let by_id: Vec<&str> = table.names().collect();
        proptest::prop_assert_eq!(by_id.len(), model.len());
        proptest::prop_assert_eq!(table.get(&absent), None);
    }
}

proptest::proptest! {
    /// The id map finds each id's row and no row for an id it was not given, whether ids
    /// share their first bytes or not; an id given twice keeps its first row. Enough ids
    /// that lookups meet slots of other ids whose tags match.
    #[test]
    fn each_id_finds_its_row(
        ids in proptest::collection::vec((0u8..16, 0u8..16, 0u8..16), 0..2000),
        absent in (16u8..32, 0u8..16),
    ) {
        let id = |(a, b, c): (u8, u8, u8)| {
            let mut bytes = [0u8; 32];
            bytes[0] = a;
            bytes[15] = b;
            bytes[31] = c;
            bytes
        };
        let mut map = IdMap::default();
        let mut rows: Vec<IdBytes> = Vec::new();
        let mut model: std::collections::HashMap<IdBytes, u32> = Default::default();
        for &t in &ids {
            let key = id(t);
            let fresh = !model.contains_key(&key);
            rows.push(key);
            let row = rows.len() as u32 - 1;
            proptest::prop_assert_eq!(map.insert(&rows, key, row), fresh);
            model.entry(key).or_insert(row);
        }
        for (key, &row) in &model {
            proptest::prop_assert_eq!(map.get(&rows, key), Some(row));
        }
        proptest::prop_assert_eq!(map.get(&rows, &id((absent.0, absent.1, 0))), None);
    }
}

proptest::proptest! {
    /// Front-coded sources give back each source pushed, one by one and walked in order,
    /// whatever they share with the one before (multi-byte characters cut anywhere).
    #[test]
    fn sources_read_back_as_pushed(
        sources in proptest::collection::vec("(https://[a-c]{0,3}\\.gov\\.cn/)?[a-c市区/]{0,6}", 0..80),
    ) {
        let mut kept = sources::Sources::default();
        for s in &sources {
            kept.push(s);
        }
        proptest::prop_assert_eq!(kept.len(), sources.len());
        for (i, s) in sources.iter().enumerate() {
            proptest::prop_assert_eq!(&kept.get(i), s);
        }
        let mut walk = kept.walk();
        for s in &sources {
            proptest::prop_assert_eq!(walk.next_source(), s.as_str());
        }
    }
}

#[test]
fn a_snapshot_keeps_each_rows_source() {
    let mut index = Index::new();
    let sources = [
        "https://a.gov.cn/xxgk/2021/1.html",
        "",
        "https://a.gov.cn/xxgk/2021/2.html",
        "http://b.gov.cn/公开/年报.html",
    ];
    for (i, source) in sources.iter().enumerate() {
        let mut r = report(&format!("s{i}"), &format!("某局{i}"), 2021, 1.0, 1.0, 1.0);
        r.source = (*source).to_owned();
        index.insert(&r, i as u64, &[]);
    }
    let (back, _) = Index::decode(&index.encode(9)).expect("decode");
    for i in 0..sources.len() as u32 {
        assert_eq!(back.summary(i).source, sources[i as usize]);
        assert_eq!(index.summary(i).source, sources[i as usize]);
    }
}

proptest::proptest! {
    /// The heads give each body and year its newest row, and none to a body and year that
    /// has no row; a plain map is the model.
    #[test]
    fn heads_give_the_newest_row_of_each_body_and_year(
        keys in proptest::collection::vec((0u32..300, 2018i32..2024), 0..1500),
    ) {
        let mut heads = Heads::default();
        let mut rows: Vec<Row> = Vec::new();
        let mut model: std::collections::HashMap<(u32, i32), u32> = Default::default();
        for &(body, year) in &keys {
            rows.push(Row {
                seq: rows.len() as u64,
                code: 0,
                published: 0,
                prev: NONE,
                body,
                before: NONE,
                findings: 0,
                own: 0,
                cross: 0,
                year,
                template: 0,
                latest: true,
                rendition: false,
            });
            let at = rows.len() as u32 - 1;
            heads.set(&rows, at);
            model.insert((body, year), at);
        }
        for (&(body, year), &row) in &model {
            proptest::prop_assert_eq!(heads.get(&rows, body, year), Some(row));
        }
        proptest::prop_assert_eq!(heads.get(&rows, 300, 2020), None);
        proptest::prop_assert_eq!(heads.get(&rows, 0, 2030), None);
    }
}

proptest::proptest! {
    /// A place level gives each row back the name it was pushed with, whether pushed one by
    /// one or through a table of names seen (as a snapshot's load does); it has one slot a
    /// distinct name, numbered in the order names first came. A plain vector is the model.
    #[test]
    fn a_place_level_gives_each_row_its_name(
        names in proptest::collection::vec((0u32..40, proptest::bool::ANY), 0..200),
    ) {
        let mut level = places::Level::default();
        let mut seen = Vec::new();
        for &(name, through_seen) in &names {
            if through_seen {
                level.push_seen(name, &mut seen);
            } else {
                level.push(name);
            }
        }
        let mut distinct: Vec<u32> = Vec::new();
        for (r, &(name, _)) in names.iter().enumerate() {
            proptest::prop_assert_eq!(level.name(r), name);
            if !distinct.contains(&name) {
                distinct.push(name);
            }
            let slot = level.slots()[r];
            proptest::prop_assert_eq!(distinct[slot as usize], name);
            proptest::prop_assert_eq!(level.name_of_slot(slot), name);
        }
        proptest::prop_assert_eq!(level.width(), distinct.len());
        for name in 0u32..41 {
            let want = distinct.iter().position(|&d| d == name).map(|s| s as u32);
            proptest::prop_assert_eq!(level.slot_of(name), want);
            proptest::prop_assert_eq!(level.slot_or_none(name), want.unwrap_or(NONE));
        }
    }
}
