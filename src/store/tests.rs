//! The store's own tests: dedupe, revisions, reopen, checkpoints and replay.

use super::snapshots::SNAPSHOT;
use super::*;

fn doc(text: &str) -> NewDocument {
    let (report, basis) =
        crate::Reader::default().read_assessed(text.as_bytes(), &crate::Hints::default());
    NewDocument::new(
        report_id(text.as_bytes()),
        text.as_bytes(),
        Hints::default(),
        report,
        basis,
    )
    .unwrap()
}

fn with_checkpoints_every(rows: u64) -> StoreOptions {
    StoreOptions {
        checkpoint_rows: rows,
        ..StoreOptions::default()
    }
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nianbao-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn stores_dedupes_revises_and_survives_reopen() {
    let dir = tempdir("basic");
    let a = "某区人民政府2022年政府信息公开工作年度报告\n一、总体情况\n收到政府信息公开申请5件。";
    let b = "某区人民政府2022年政府信息公开工作年度报告\n一、总体情况\n收到政府信息公开申请6件。";
    {
        let store = Store::open(&dir).unwrap();
        let r = store.commit(vec![doc(a), doc(a)]).unwrap();
        assert_eq!(r[0].committed, Committed::Stored);
        assert_eq!(r[1].committed, Committed::Duplicate);
        let r = store.commit(vec![doc(b)]).unwrap();
        assert_eq!(
            r[0].committed,
            Committed::Revision {
                supersedes: report_id(a.as_bytes())
            }
        );
        assert_eq!(store.index().len(), 2);
    }
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.index().len(), 2);
    let got = store.get(&report_id(b.as_bytes())).unwrap().unwrap();
    assert_eq!(got.overview.unwrap().applications_received, Some(6));
    let (content, _) = store.document(&report_id(a.as_bytes())).unwrap().unwrap();
    assert_eq!(content, a.as_bytes());
    assert_eq!(store.index().revisions(&report_id(b.as_bytes())).len(), 2);
    assert!(matches!(store.get("xyz"), Err(StoreError::BadId(_))));
    assert!(store.get(&"0".repeat(64)).unwrap().is_none());
    let n = store
        .reindex(|b: &[u8], h: &crate::Hints| crate::Reader::default().read_assessed(b, h))
        .unwrap();
    assert_eq!(n, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_rescrape_that_differs_in_page_chrome_is_a_rendition_in_one_batch_or_two() {
    let dir = tempdir("renditions");
    let page = |views: u32| {
        format!(
            "某区人民政府2022年政府信息公开工作年度报告\n浏览次数：{views}\n一、总体情况\n收到政府信息公开申请5件。"
        )
    };
    let (a, b, c) = (page(10), page(11), page(12));
    let id = |t: &String| report_id(t.as_bytes());
    {
        let store = Store::open(&dir).unwrap();
        let r = store.commit(vec![doc(&a), doc(&b)]).unwrap();
        assert_eq!(r[0].committed, Committed::Stored);
        assert_eq!(r[1].committed, Committed::Rendition { of: id(&a) });
        let r = store.commit(vec![doc(&c)]).unwrap();
        assert_eq!(r[0].committed, Committed::Rendition { of: id(&a) });
        let index = store.index();
        assert_eq!(index.revisions(&id(&c)), vec![id(&a)]);
        assert_eq!(index.renditions(&id(&b)).0.len(), 3);
        assert_eq!(index.latest_id("某区人民政府", 2022), Some(id(&a)));
    }
    // A reopen (replay or snapshot) places them the same way.
    let store = Store::open(&dir).unwrap();
    assert_eq!(
        store.index().renditions(&id(&b)),
        (vec![id(&a), id(&b), id(&c)], id(&a))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every stored report as GetReport reads it (cross-year findings included), in seq order.
fn reports(store: &Store) -> Vec<Report> {
    let ids: Vec<String> = {
        let index = store.index();
        (0..index.len() as u32)
            .map(|i| crate::model::id::hex_of(index.id_bytes(i)))
            .collect()
    };
    ids.iter()
        .map(|id| store.get(id).unwrap().unwrap())
        .collect()
}

/// What the index answers, to compare a snapshot-loaded index with a rebuilt one:
/// every row's summary (findings counted, cross-year ones included), and an aggregate.
fn answers(store: &Store) -> (Vec<crate::pb::ReportSummary>, crate::pb::AggregateResponse) {
    let index = store.index();
    let all: Vec<usize> = (0..crate::model::rates::RATES.len()).collect();
    let m = crate::model::catalogue::index_of("overview.applications_received")
        .map_or(vec![], |m| vec![m]);
    let f = crate::index::Selection {
        all_revisions: true,
        ..Default::default()
    };
    (
        (0..index.len() as u32).map(|i| index.summary(i)).collect(),
        index.aggregate(&m, &all, &[crate::index::Dim::Year], &f),
    )
}

/// A real report (its tables give cross-year findings) made the report of `body`
/// (甲, 乙 or 丙) for 2019 + `year`, with `n` appended to make it distinct.
fn yearly(body: &str, year: u32, n: u32) -> String {
    let base = include_str!("../../tests/corpus/beijing-chaoyang-district-2022.txt");
    let district = match body {
        "甲区" => "朝阳区",
        "乙区" => "海淀区",
        _ => "东城区",
    };
    format!(
        "{}\n附：{n}\n",
        base.replace("朝阳区", district)
            .replace("2022", &(2019 + year % 4).to_string())
    )
}

/// Opens the store again after a crash (no close) with the snapshot it held, and
/// with none: both indexes answer alike. Returns how the first was loaded.
fn reopen_both_ways(dir: &Path) -> (IndexLoad, usize) {
    let store = Store::open(dir).unwrap();
    let load = store.index_load();
    let from_snapshot = answers(&store);
    let got = reports(&store);
    drop(store);
    let _ = std::fs::remove_file(dir.join(SNAPSHOT));
    let store = Store::open(dir).unwrap();
    assert_eq!(store.index_load(), IndexLoad::Rebuilt);
    assert_eq!(answers(&store), from_snapshot, "after {load:?}");
    assert_eq!(reports(&store), got, "after {load:?}");
    (load, from_snapshot.0.len())
}

#[test]
fn checkpoints_and_replay_give_the_rebuilt_index() {
    let dir = tempdir("checkpoint");
    let store = Store::open_with(&dir, with_checkpoints_every(5)).unwrap();
    // Batches of 3, 3, 2, 3, 2 from seq 1: checkpoints at stamps 7 and 12, so the
    // reports 12 and 13 are replayed: 丙's first 2019 report (its 2020 report, in the
    // snapshot without cross-year findings, now has them) and a revision of 乙's
    // 2019; replay must rewrite the cross-year findings of rows the snapshot holds.
    let batches: Vec<Vec<String>> = vec![
        vec![
            yearly("甲区", 0, 1),
            yearly("甲区", 1, 2),
            yearly("乙区", 1, 3),
        ],
        vec![
            yearly("乙区", 2, 4),
            yearly("甲区", 2, 5),
            yearly("甲区", 1, 6),
        ],
        vec![yearly("乙区", 0, 7), yearly("甲区", 3, 8)],
        vec![
            yearly("甲区", 2, 9),
            yearly("乙区", 1, 10),
            yearly("丙区", 1, 11),
        ],
        vec![yearly("丙区", 0, 12), yearly("乙区", 0, 13)],
    ];
    for batch in &batches {
        store
            .commit(batch.iter().map(|t| doc(t)).collect())
            .unwrap();
    }
    // A thread of its own puts the checkpoint in place; wait for it.
    let stamp = || {
        let bytes = std::fs::read(dir.join(SNAPSHOT)).ok()?;
        Some(Index::decode(&bytes).ok()?.1)
    };
    for _ in 0..500 {
        if stamp() == Some(12) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(stamp(), Some(12));
    let rows = answers(&store).0.len();
    let committed = reports(&store);
    assert!(committed
        .iter()
        .any(|r| r.findings.iter().any(|f| f.code == "COPIED_REPORT")));
    drop(store);
    assert_eq!(reports(&Store::open(&dir).unwrap()), committed);
    let (load, n) = reopen_both_ways(&dir);
    assert_eq!(n, rows);
    assert_eq!(load, IndexLoad::Snapshot { replayed: 2 });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_clean_close_leaves_a_snapshot_with_nothing_to_replay() {
    let dir = tempdir("snapshot");
    let store = Store::open(&dir).unwrap();
    store
        .commit((0..6).map(|n| doc(&yearly("某区", n, n))).collect())
        .unwrap();
    let before = answers(&store);
    store.close().unwrap();
    assert!(matches!(
        store.commit(vec![doc(&yearly("某区", 9, 9))]),
        Err(StoreError::Closed)
    ));
    drop(store);
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.index_load(), IndexLoad::Snapshot { replayed: 0 });
    assert_eq!(answers(&store), before);
    // The snapshot stays: a crash after more commits replays only those.
    store.commit(vec![doc(&yearly("某区", 7, 7))]).unwrap();
    drop(store);
    assert_eq!(
        reopen_both_ways(&dir),
        (IndexLoad::Snapshot { replayed: 1 }, before.0.len() + 1)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_clean_stop_right_after_a_checkpoint_leaves_one_whole_snapshot() {
    // The checkpoint of the last commit is still being synced on its thread when the
    // stop writes a snapshot with the same stamp.
    for round in 0..20 {
        let dir = tempdir(&format!("race-{round}"));
        let store = Store::open_with(&dir, with_checkpoints_every(1)).unwrap();
        store
            .commit((0..3).map(|n| doc(&yearly("某区", n, n + round))).collect())
            .unwrap();
        store.close().unwrap();
        let want = answers(&store);
        drop(store);
        let store = Store::open(&dir).unwrap();
        assert_eq!(store.index_load(), IndexLoad::Snapshot { replayed: 0 });
        assert_eq!(answers(&store), want);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_snapshot_that_does_not_fit_is_rebuilt_around() {
    let dir = tempdir("misfit");
    let other = tempdir("misfit-other");
    let store = Store::open(&dir).unwrap();
    store
        .commit((0..3).map(|n| doc(&yearly("某区", n, n))).collect())
        .unwrap();
    store.close().unwrap();
    drop(store);
    let kept = std::fs::read(dir.join(SNAPSHOT)).unwrap();
    let want = answers(&Store::open(&dir).unwrap());
    // Damaged: rebuilt.
    let mut bad = kept.clone();
    bad[20] ^= 1;
    std::fs::write(dir.join(SNAPSHOT), &bad).unwrap();
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.index_load(), IndexLoad::Rebuilt);
    assert_eq!(answers(&store), want);
    drop(store);
    // Another database's snapshot, of the same length: rebuilt.
    let store = Store::open(&other).unwrap();
    store
        .commit((3..6).map(|n| doc(&yearly("另区", n, n))).collect())
        .unwrap();
    store.close().unwrap();
    drop(store);
    std::fs::copy(other.join(SNAPSHOT), dir.join(SNAPSHOT)).unwrap();
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.index_load(), IndexLoad::Rebuilt);
    assert_eq!(answers(&store), want);
    // Reindexing removes the snapshot: reports change under stamps it has seen.
    store.close().unwrap();
    drop(store);
    let store = Store::open(&dir).unwrap();
    assert!(dir.join(SNAPSHOT).exists());
    store
        .reindex(|b: &[u8], h: &crate::Hints| crate::Reader::default().read_assessed(b, h))
        .unwrap();
    assert!(!dir.join(SNAPSHOT).exists());
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other);
}

/// Writes `texts` in the earlier layout (four trees keyed by id and seq), as that version
/// of the store did, without its cross-year findings (they are derived again).
fn write_four_trees(dir: &Path, texts: &[String]) {
    use prost::Message;
    let db = sled::open(dir).unwrap();
    let documents = db.open_tree("documents").unwrap();
    let reports = db.open_tree("reports").unwrap();
    let order = db.open_tree("order").unwrap();
    db.open_tree("cross").unwrap();
    for (i, text) in texts.iter().enumerate() {
        let seq = i as u64 + 1;
        let id = report_id(text.as_bytes());
        let key = crate::model::id::id_bytes(&id).unwrap();
        let mut report = crate::parse_document(text.as_bytes(), &crate::Hints::default());
        report.id = id;
        let document = crate::pb::StoredDocument {
            content_zstd: zstd::encode_all(text.as_bytes(), 3).unwrap(),
            content_len: text.len() as u64,
            seq,
            ..Default::default()
        };
        documents.insert(key, document.encode_to_vec()).unwrap();
        reports.insert(key, report.encode_to_vec()).unwrap();
        order.insert(seq.to_be_bytes(), &key).unwrap();
    }
    db.insert(b"next_seq", &(texts.len() as u64 + 1).to_be_bytes())
        .unwrap();
    db.flush().unwrap();
}

#[test]
fn a_directory_of_the_four_tree_layout_is_rewritten_as_one_log() {
    let dirs = tempfile::tempdir().unwrap();
    let texts: Vec<String> = (0..5).map(|n| yearly("甲区", n, n)).collect();
    let old = dirs.path().join("old");
    write_four_trees(&old, &texts);
    let fresh = Store::open(&dirs.path().join("fresh")).unwrap();
    fresh
        .commit(texts.iter().map(|t| doc(t)).collect())
        .unwrap();
    let store = Store::open(&old).unwrap();
    assert_eq!(store.index().len(), texts.len());
    assert_eq!(reports(&store), reports(&fresh));
    // The old layout kept no compliance basis: the reports are unscored until a reindex
    // reads their documents again, and otherwise answered alike.
    let (mut summaries, aggregate) = answers(&fresh);
    assert!(summaries.iter().all(|s| s.compliance_score.is_some()));
    let scored = summaries.clone();
    summaries.iter_mut().for_each(|s| {
        s.compliance_score = None;
        s.compliance_coverage = None;
    });
    assert_eq!(answers(&store), (summaries, aggregate.clone()));
    store
        .reindex(|b: &[u8], h: &crate::Hints| crate::Reader::default().read_assessed(b, h))
        .unwrap();
    assert_eq!(answers(&store), (scored, aggregate));
    let (content, _) = store
        .document(&report_id(texts[2].as_bytes()))
        .unwrap()
        .unwrap();
    assert_eq!(content, texts[2].as_bytes());
    // Commits go on after the last old seq; the old trees are gone.
    let more = store.commit(vec![doc(&yearly("乙区", 1, 9))]).unwrap();
    assert_eq!(more[0].committed, Committed::Stored);
    assert_eq!(
        store.index().seq(texts.len() as u32),
        texts.len() as u64 + 1
    );
    drop(store);
    let db = durable::open_db(&old).unwrap();
    assert!(!db.tree_names().iter().any(|n| n == b"order"));
}

/// Two bodies' reports of one year with the same narrative: each names the other as alike
/// (the later found the earlier; the earlier is scored again), each loses the indicator's
/// points, and the marks are the same after a reopen from the snapshot and a rebuild.
#[test]
fn reports_of_two_bodies_alike_name_each_other_and_lose_the_points() {
    use crate::compliance::{profile::default_profile, Others};
    use crate::index::Other;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let first = doc(&yearly("甲区", 3, 0));
    let other_year = doc(&yearly("丙区", 2, 0));
    store.commit(vec![first, other_year]).unwrap();
    let second = doc(&yearly("乙区", 3, 0));
    store.commit(vec![second]).unwrap();
    let marks = |store: &Store| {
        let index = store.index();
        (0..index.len() as u32)
            .map(|r| (index.other(r), index.score(r)))
            .collect::<Vec<_>>()
    };
    let got = marks(&store);
    assert_eq!(got[0].0, Other::Found(2));
    // Another year: never compared.
    assert_eq!(got[1].0, Other::NoneFound);
    assert_eq!(got[2].0, Other::Found(0));
    let ids: Vec<String> = reports(&store).into_iter().map(|r| r.id).collect();
    for (me, them) in [(0usize, 2usize), (2, 0)] {
        let report = store.get(&ids[me]).unwrap().unwrap();
        let basis = store.basis(&ids[me]).unwrap().unwrap();
        let other = store.get(&ids[them]).unwrap().unwrap();
        let theirs = store.basis(&ids[them]).unwrap().unwrap();
        let found = Others::Found(theirs.compared(&other));
        let a = basis.finish(&report, None, found, default_profile());
        let alone = basis.finish(&report, None, Others::NoneFound, default_profile());
        assert_eq!(got[me].1.map(|s| s.score), a.score);
        assert!(a.score < alone.score, "{:?} vs {:?}", a.score, alone.score);
    }
    drop(store);
    let (_, n) = reopen_both_ways(dir.path());
    assert_eq!(n, 3);
    assert_eq!(marks(&Store::open(dir.path()).unwrap()), got);
}

#[test]
fn a_record_is_kept_against_its_samples_and_an_older_record_still_reads() {
    use sha2::Digest;
    // Records compressed against the sample need it byte for byte: it never changes.
    let sha = |bytes: &[u8]| hex::encode(sha2::Sha256::digest(bytes));
    assert_eq!(
        sha(include_bytes!("basis-sample-1.json")),
        "ac31d8ffdc0ce0a767d6d12760dd57ef705b5a3786d0b0e56de3ec0910257ab0"
    );
    assert_eq!(
        sha(include_bytes!("report-sample-1.pb")),
        "655562dee5a8170dc420c282bb7237170f3c6aee188fb0ee19bee9daa6fffd2a"
    );
    assert_eq!(
        sha(include_bytes!("document-sample-1.txt")),
        "cc5e599b756cc65d04d05974423884720c34015fb5aac694900c7ee2f87e191b"
    );
    let text = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/corpus/real/jiangsu-huaian-hongze-district-2024.txt"),
    )
    .unwrap();
    let (report, basis) = crate::Reader::default().read_assessed(&text, &crate::Hints::default());
    let basis = basis.unwrap();
    let (content_zstd, content_prefix) = record::compress(&text).unwrap();
    assert_eq!(content_prefix, record::DOCUMENT_PREFIX);
    let document = crate::pb::StoredDocument {
        content_zstd,
        content_prefix,
        content_len: text.len() as u64,
        ..Default::default()
    };
    let id = crate::model::id::IdBytes::default();
    let bytes = record::encode(&id, &report, Some(&basis), document.clone(), &text).unwrap();
    let stored = record::decode(1, &bytes).unwrap();
    assert_eq!(stored.basis_prefix, record::BASIS_PREFIX);
    assert_eq!(stored.report_prefix, record::REPORT_PREFIX);
    assert_eq!(record::basis(&stored).unwrap(), Some(basis.clone()));
    assert_eq!(record::report(&stored).unwrap(), report);
    assert_eq!(record::document(&stored).unwrap().0, text);
    // Its narrative is the document's text: against the document it costs little.
    let json = serde_json::to_vec(&basis).unwrap();
    let alone = zstd::bulk::compress(&json, 3).unwrap();
    assert!(
        stored.basis_zstd.len() * 3 < alone.len(),
        "{} bytes against {} alone",
        stored.basis_zstd.len(),
        alone.len()
    );
    // The prefix is the frame's history, as `ref_prefix` makes it: a basis a server of
    // the last release compressed through `ref_prefix` reads here, and one written here
    // reads through a `ref_prefix` stream.
    let prefix = [record::BASIS_SAMPLE, &text[..]].concat();
    let mut cctx = zstd::zstd_safe::CCtx::create();
    cctx.set_parameter(zstd::zstd_safe::CParameter::CompressionLevel(3))
        .unwrap();
    cctx.ref_prefix(&prefix).unwrap();
    let mut by_prefix = Vec::with_capacity(zstd::zstd_safe::compress_bound(json.len()));
    cctx.compress2(&mut by_prefix, &json).unwrap();
    let last_release = crate::pb::StoredReport {
        basis_zstd: by_prefix,
        ..stored.clone()
    };
    assert_eq!(record::basis(&last_release).unwrap(), Some(basis.clone()));
    let mut streamed = Vec::new();
    std::io::Read::read_to_end(
        &mut zstd::stream::read::Decoder::with_ref_prefix(&stored.basis_zstd[..], &prefix).unwrap(),
        &mut streamed,
    )
    .unwrap();
    assert_eq!(streamed, json);
    // A record of an older server: the JSON and the report compressed alone, prefix 0.
    let older = crate::pb::StoredReport {
        basis_zstd: zstd::bulk::compress(&json, -1).unwrap(),
        basis_prefix: 0,
        report_zstd: zstd::bulk::compress(&prost::Message::encode_to_vec(&report), -1).unwrap(),
        report_prefix: 0,
        document: Some(crate::pb::StoredDocument {
            content_zstd: zstd::bulk::compress(&text, 1).unwrap(),
            content_prefix: 0,
            ..document
        }),
        ..stored.clone()
    };
    assert_eq!(record::document(&older).unwrap().0, text);
    assert_eq!(record::basis(&older).unwrap(), Some(basis));
    assert_eq!(record::report(&older).unwrap(), report);
    // A damaged basis, or one against a prefix this build does not know, is an error.
    for damaged in [
        crate::pb::StoredReport {
            basis_prefix: 7,
            ..stored.clone()
        },
        crate::pb::StoredReport {
            report_prefix: 7,
            ..stored.clone()
        },
        crate::pb::StoredReport {
            document: Some(crate::pb::StoredDocument {
                content_prefix: 7,
                ..stored.document.clone().unwrap()
            }),
            ..stored.clone()
        },
        crate::pb::StoredReport {
            basis_zstd: stored.basis_zstd[..stored.basis_zstd.len() / 2].to_vec(),
            ..stored.clone()
        },
    ] {
        let read = (
            record::basis(&damaged),
            record::report(&damaged),
            record::document(&damaged),
        );
        assert!(read.0.is_err() || read.1.is_err() || read.2.is_err());
    }
}

/// A replay after a crash sets the scores each commit kept rather than compares the reports
/// again, and computes the same ones when none are kept.
#[test]
fn a_replay_sets_the_scores_its_commits_kept_and_computes_the_same_without_them() {
    use crate::index::Other;
    let dir = tempfile::tempdir().unwrap();
    let marks = |store: &Store| {
        let index = store.index();
        (0..index.len() as u32)
            .map(|r| (index.other(r), index.score(r)))
            .collect::<Vec<_>>()
    };
    let options = StoreOptions {
        keep_scores_every: 1,
        ..with_checkpoints_every(1 << 20)
    };
    let store = Store::open_with(dir.path(), options).unwrap();
    // Two bodies alike, and a body's year before arriving after its year: each kind of
    // row a commit scores (its own, the one alike, the year after).
    for batch in [
        vec![yearly("甲区", 3, 0), yearly("丙区", 2, 0)],
        vec![yearly("乙区", 3, 0)],
        vec![yearly("甲区", 2, 1)],
    ] {
        store
            .commit(batch.iter().map(|t| doc(t)).collect())
            .unwrap();
    }
    let got = marks(&store);
    assert_eq!(got[0].0, Other::Found(2));
    assert!(got.iter().all(|(_, s)| s.is_some()), "{got:?}");
    let answered = answers(&store);
    // One entry a batch.
    assert_eq!(store.sled().unwrap().kept.len(), 3);
    // A crash: no snapshot; every report is replayed, with the scores kept.
    drop(store);
    assert!(!dir.path().join(SNAPSHOT).exists());
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.index_load(), IndexLoad::Rebuilt);
    assert_eq!(store.sled().unwrap().kept.len(), 3);
    assert_eq!(marks(&store), got);
    assert_eq!(answers(&store), answered);
    // The replay takes what is kept: a kept score changed by hand shows (the last
    // report's, which no later commit scores again).
    let last = 4u64.to_be_bytes();
    let kept =
        years::decode_batch(&store.sled().unwrap().kept.get(last).unwrap().unwrap()).unwrap();
    assert_eq!(
        years::decode_batch(&years::encode_batch(&kept)),
        Some(kept.clone())
    );
    let bytes = years::encode_batch(&kept);
    assert_eq!(years::decode_batch(&bytes[..bytes.len() - 1]), None);
    let mut changed = kept.clone();
    changed[0].1.set_first_score(Some(crate::index::Score {
        score: 12.5,
        coverage: 0.5,
    }));
    store
        .sled()
        .unwrap()
        .kept
        .insert(last, years::encode_batch(&changed))
        .unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.index().score(3).map(|s| s.score), Some(12.5));
    // None kept: the replay computes them, the same as the commits did.
    store.sled().unwrap().kept.clear().unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(marks(&store), got);
    assert_eq!(answers(&store), answered);
}

/// A reindex makes the scores again: none kept from the readings before it may come back
/// in a later replay.
#[test]
fn a_reindex_leaves_no_scores_kept_of_the_readings_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let options = || StoreOptions {
        keep_scores_every: 3,
        ..with_checkpoints_every(1 << 20)
    };
    let store = Store::open_with(dir.path(), options()).unwrap();
    // Two scores decided, not yet kept (fewer than 3).
    store
        .commit(vec![doc(&yearly("甲区", 3, 0)), doc(&yearly("丙区", 2, 0))])
        .unwrap();
    assert!(store.index().score(0).is_some());
    // A reading that assesses nothing: no score any more.
    let bare =
        |bytes: &[u8], hints: &crate::Hints| (crate::Reader::default().read(bytes, hints), None);
    assert_eq!(store.reindex(bare).unwrap(), 2);
    assert_eq!(store.index().score(0), None);
    store.commit(vec![doc(&yearly("乙区", 1, 0))]).unwrap();
    // A crash, then a replay of every report with what was kept.
    drop(store);
    let store = Store::open_with(dir.path(), options()).unwrap();
    assert_eq!(store.index().score(0), None);
    assert_eq!(store.index().score(1), None);
    assert!(store.index().score(2).is_some());
}

/// How many times the store opened sled again since it was opened.
fn reopened(store: &Store) -> u64 {
    store.sled().unwrap().reopened
}

#[test]
fn sled_is_opened_again_after_each_checkpoint_unless_a_backup_reads_it() {
    let dir = tempdir("reopen");
    let store = Store::open_with(&dir, with_checkpoints_every(2)).unwrap();
    store
        .commit(vec![doc(&yearly("甲区", 0, 1)), doc(&yearly("乙区", 0, 2))])
        .unwrap();
    assert_eq!(reopened(&store), 1);
    // A backup reading keeps the database open: the next checkpoint leaves it open ...
    let mut backup = store.backup_records(store.backup_stamp().unwrap()).unwrap();
    let first = backup.next().unwrap().unwrap();
    store
        .commit(vec![doc(&yearly("甲区", 1, 3)), doc(&yearly("乙区", 1, 4))])
        .unwrap();
    assert_eq!(reopened(&store), 1);
    // ... the backup reads on to its stamp ...
    let rest: Vec<_> = backup.collect::<Result<_, _>>().unwrap();
    assert_eq!(
        std::iter::once(first.seq)
            .chain(rest.iter().map(|r| r.seq))
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    // ... and the first commit after it reopens it, with no checkpoint due.
    store.commit(vec![doc(&yearly("丙区", 0, 5))]).unwrap();
    assert_eq!(reopened(&store), 2);
    let got = reports(&store);
    assert_eq!(got.len(), 5);
    // Every report reads after the reopens, and after an open with no close.
    drop(store);
    let store = Store::open(&dir).unwrap();
    assert_eq!(reports(&store), got);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The reports a commit keeps in hand for the next commits' scores are what a read of
/// their records gives, field for field, over every real report of the corpus (their
/// bases hold fractions, quotes and evidence of every kind): so a replay, which reads the
/// records, scores as the commits did.
#[test]
fn the_reports_kept_in_hand_are_what_their_records_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let real = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/real");
    let mut texts: Vec<_> = std::fs::read_dir(&real)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    texts.sort();
    let docs: Vec<NewDocument> = texts
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).unwrap();
            let (report, basis) =
                crate::Reader::default().read_assessed(&bytes, &crate::Hints::default());
            NewDocument::new(report_id(&bytes), &bytes, Hints::default(), report, basis).unwrap()
        })
        .collect();
    assert!(docs.len() > 50);
    store.commit(docs).unwrap();
    let seqs: Vec<u64> = {
        let index = store.index();
        (0..index.len() as u32).map(|r| index.seq(r)).collect()
    };
    assert!(seqs.len() > 50);
    let writer = store.writer();
    let mut with_basis = 0;
    for seq in seqs {
        let kept = writer.recent.get(seq).expect("kept in hand");
        let read = years::Records::compared(&store, seq).unwrap();
        assert_eq!(*kept, *read, "seq {seq}");
        with_basis += usize::from(read.1.is_some());
    }
    assert!(with_basis > 40, "{with_basis} with a basis");
}

/// A record the replay cannot read ends the open with an error that names it, whether it
/// comes after the snapshot or the index is rebuilt from every record; the records are
/// unpacked on a thread of their own, which stops with the replay.
#[test]
fn a_damaged_record_ends_the_replay_with_an_error() {
    let dir = tempdir("damaged-replay");
    let store = Store::open(&dir).unwrap();
    store
        .commit((0..40).map(|n| doc(&yearly("某区", n, n))).collect())
        .unwrap();
    store.close().unwrap();
    drop(store);
    let store = Store::open(&dir).unwrap();
    store
        .commit((40..300).map(|n| doc(&yearly("某区", n, n))).collect())
        .unwrap();
    drop(store);
    // The 41st record, after the snapshot's stamp, made unreadable.
    {
        let db = sled::open(&dir).unwrap();
        let log = db.open_tree(LOG).unwrap();
        let (key, _) = log.iter().nth(40).unwrap().unwrap();
        log.insert(key, &b"\xff\xff\xff not a record"[..]).unwrap();
        db.flush().unwrap();
    }
    let why = |e: StoreError| e.to_string();
    let first = Store::open(&dir).map(|_| ()).map_err(why);
    assert!(
        first.as_ref().is_err_and(|e| e.contains("seq")),
        "{first:?}"
    );
    std::fs::remove_file(dir.join(SNAPSHOT)).unwrap();
    let rebuilt = Store::open(&dir).map(|_| ()).map_err(why);
    assert_eq!(rebuilt, first);
    let _ = std::fs::remove_dir_all(&dir);
}
