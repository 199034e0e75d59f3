use std::collections::BTreeMap;

use super::summary::{REJECTED_LISTED, REPEATS_LISTED};
use super::*;
use crate::pb::Outcome;

#[test]
fn plan_sends_each_distinct_content_once() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = [
        ("a.txt", "report a"),
        ("b.txt", "report b"),
        ("a (1).txt", "report a"),
        ("old.txt", "sent before"),
        ("old copy.txt", "sent before"),
        ("a (2).txt", "report a"),
    ]
    .iter()
    .map(|(name, text)| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    })
    .collect();
    let journaled = HashMap::from([(report_id(b"sent before"), None)]);
    let mut summary = Summary::default();
    let found = files
        .iter()
        .map(|path| Found {
            path: path.clone(),
            root: Some(dir.path().to_owned()),
        })
        .collect();
    let pending = plan(found, &journaled, &Manifest::default(), &mut summary);
    let planned: Vec<(&Path, Vec<&Path>)> = pending
        .iter()
        .map(|p| {
            (
                p.path.as_path(),
                p.repeats.iter().map(|r| r.as_path()).collect(),
            )
        })
        .collect();
    assert_eq!(
        planned,
        [
            (files[0].as_path(), vec![&*files[2], &*files[5]]),
            (files[1].as_path(), vec![]),
        ]
    );
    assert_eq!(pending[0].id, report_id(b"report a"));
    assert_eq!(summary.already_acknowledged, 2);
    assert_eq!(summary.bytes, 3 * 8 + 8 + 2 * 11);
}

fn answered(outcome: Outcome, id: &str, reason: &str) -> IngestResult {
    IngestResult {
        outcome: outcome as i32,
        id: id.into(),
        reason: reason.into(),
        ..Default::default()
    }
}

/// Answers `doc` with each outcome: the summary and the journal lines it leaves.
fn answer_with_repeat(outcome: Outcome, reason: &str) -> (Summary, String) {
    let doc = Pending {
        path: "a.txt".into(),
        id: "i".repeat(64),
        len: 8,
        repeats: vec!["mirror/a.txt".into()],
        entry: Entry::default(),
        content_type: "",
    };
    let result = answered(outcome, &doc.id, reason);
    let mut answers = Answers::new(
        Summary::default(),
        Vec::new(),
        indicatif::ProgressBar::hidden(),
    );
    answers.answer(&doc, &result);
    let journal = String::from_utf8(answers.journal.clone()).unwrap();
    (answers.finish(), journal)
}

#[test]
fn a_repeat_is_answered_from_its_first_copy() {
    let id = "i".repeat(64);
    for (outcome, stored, duplicate, revision) in [
        (Outcome::Stored, 1, 1, 0),
        (Outcome::Duplicate, 0, 2, 0),
        (Outcome::Revision, 0, 1, 1),
    ] {
        let (summary, journal) = answer_with_repeat(outcome, "");
        assert_eq!(
            (summary.stored, summary.duplicate, summary.revision),
            (stored, duplicate, revision),
            "{outcome:?}"
        );
        assert!(summary.ok() && summary.rejected.is_empty());
        assert_eq!(journal, format!("{id}\ta.txt\n{id}\tmirror/a.txt\n"));
        assert!(
            summary.to_string().contains(&format!(
                "duplicate: {duplicate}\n  mirror/a.txt: duplicate of a.txt\n"
            )),
            "{summary}"
        );
    }
}

#[test]
fn a_repeat_of_a_rejected_file_is_rejected_alike() {
    let id = "i".repeat(64);
    let (summary, journal) = answer_with_repeat(Outcome::Rejected, "not a report:\tno title");
    assert_eq!(summary.duplicate, 0);
    assert_eq!(
        summary.rejected,
        BTreeMap::from([("not a report:\tno title".to_owned(), 2)])
    );
    assert!(!summary.ok());
    assert_eq!(
        journal,
        format!(
            "{id}\ta.txt\trejected: not a report: no title\n\
             {id}\tmirror/a.txt\trejected: not a report: no title\n"
        )
    );
    let shown = summary.to_string();
    assert!(
        shown.contains("duplicate: 0\nrevision")
            && shown.contains(
                "  2 × not a report:\tno title\n    a.txt\n    mirror/a.txt: duplicate of a.txt\n"
            ),
        "{shown}"
    );
    // Read back, both paths' rejection is answered by the journal on a re-run.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("journal"), &journal).unwrap();
    let read = read_journal(&dir.path().join("journal")).unwrap();
    assert_eq!(
        read.get(&id),
        Some(&Some("not a report: no title".to_owned()))
    );
}

#[test]
fn many_repeats_are_listed_in_part() {
    let repeats = (0..REPEATS_LISTED + 3)
        .map(|i| Repeat {
            path: format!("copy-{i}.txt").into(),
            first: "a.txt".into(),
            rejected: None,
        })
        .collect();
    let summary = Summary {
        duplicate: REPEATS_LISTED as u64 + 3,
        repeats,
        ..Default::default()
    };
    let shown = summary.to_string();
    assert_eq!(
        shown.matches(": duplicate of a.txt").count(),
        REPEATS_LISTED
    );
    assert!(shown.contains("  … and 3 more duplicates"), "{shown}");
}

#[test]
fn answer_tags_name_pending_documents() {
    assert_eq!(tagged("0", 2), Some(0));
    assert_eq!(tagged("1", 2), Some(1));
    assert_eq!(tagged("2", 2), None);
    assert_eq!(tagged("", 2), None);
    assert_eq!(tagged("a.txt", 2), None);
}

fn pending(path: &str, content: &[u8]) -> Pending {
    Pending {
        path: path.into(),
        id: report_id(content),
        len: content.len() as u64,
        repeats: vec![],
        entry: Entry {
            url: "https://example.gov.cn/a.html".into(),
            published: "2024-01-15".into(),
        },
        content_type: "text/plain",
    }
}

/// The size checked is the Document message sent, never smaller: at the limit a file
/// is sent, a byte over it is not.
#[test]
fn too_large_counts_the_whole_message() {
    use prost::Message;
    for len in [0usize, 1, 127, 128, 16_383, 16_384, 70_000] {
        let content = vec![b'x'; len];
        let doc = pending("2023/朝阳区.txt", &content);
        let sent = document(&doc, 12345, content).encoded_len() as u64;
        let counted = message_len(&doc);
        assert!(
            counted >= sent && counted - sent < 20,
            "{len}: {counted} {sent}"
        );
        let at = |max_message_bytes| LimitsResponse {
            accepts_parts: false,
            max_message_bytes,
            max_document_bytes: 0,
        };
        assert_eq!(too_large(&doc, &at(counted)), None);
        let over = too_large(&doc, &at(counted - 1)).unwrap();
        assert_eq!(
            over,
            format!(
                "not sent: {counted} bytes as a message, over the server's message limit \
                 of {} bytes (serve --max-message-bytes)",
                counted - 1
            )
        );
    }
    let doc = pending("a.txt", &[b'x'; 100]);
    let limits = LimitsResponse {
        accepts_parts: false,
        max_message_bytes: 1 << 20,
        max_document_bytes: 99,
    };
    assert!(too_large(&doc, &limits)
        .unwrap()
        .contains("100 bytes, over the server's document limit of 99 bytes"));
}

/// A file too large for the server is rejected here and journaled as not sent; in a
/// re-run with the same limit it is a rejection of that earlier run (exit 0), and with a
/// larger limit it is sent.
#[test]
fn a_file_too_large_is_rejected_alone_and_checked_again_on_a_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let big_path = dir.path().join("big.txt");
    std::fs::write(&big_path, [b'x'; 1000]).unwrap();
    let small = pending("small.txt", b"small");
    let big = Pending {
        entry: Entry::default(), // as planned without a manifest below
        ..pending(big_path.to_str().unwrap(), &[b'x'; 1000])
    };
    let limits = LimitsResponse {
        accepts_parts: false,
        max_message_bytes: 500,
        max_document_bytes: 0,
    };
    let mut answers = Answers::new(
        Summary::default(),
        Vec::new(),
        indicatif::ProgressBar::hidden(),
    );
    let sendable = leave_out_too_large(vec![small, big], &limits, &HashMap::new(), &mut answers);
    assert_eq!(sendable.len(), 1);
    assert_eq!(sendable[0].path, Path::new("small.txt"));
    let journal = String::from_utf8(answers.journal.clone()).unwrap();
    let summary = answers.finish();
    assert!(!summary.ok(), "a new rejection fails the run");
    assert_eq!(summary.rejected_files.len(), 1);
    let reason = &summary.rejected_files[0].1;
    assert!(reason.starts_with("not sent: 1"), "{reason}");
    let listed = format!("  1 × {reason}\n    {}\n", big_path.display());
    assert!(summary.to_string().contains(&listed), "{summary}");

    // The journal read back: the file is planned again, not taken as answered.
    std::fs::write(dir.path().join("journal"), &journal).unwrap();
    let journaled = read_journal(&dir.path().join("journal")).unwrap();
    let mut summary = Summary::default();
    let planned = plan(
        vec![Found {
            path: dir.path().join("big.txt"),
            root: None,
        }],
        &journaled,
        &Manifest::default(),
        &mut summary,
    );
    assert_eq!(planned.len(), 1);
    assert_eq!(summary.already_acknowledged + summary.rejected_earlier, 0);
    // Same limit: rejected again, as in the earlier run.
    let mut answers = Answers::new(summary, Vec::new(), indicatif::ProgressBar::hidden());
    let sendable = leave_out_too_large(planned, &limits, &journaled, &mut answers);
    assert!(sendable.is_empty());
    assert!(answers.journal.is_empty(), "nothing new to journal");
    let summary = answers.finish();
    assert!(summary.ok(), "{summary}");
    assert_eq!(summary.rejected_earlier, 1);
    // A larger limit: sent.
    let mut summary = Summary::default();
    let planned = plan(
        vec![Found {
            path: dir.path().join("big.txt"),
            root: None,
        }],
        &journaled,
        &Manifest::default(),
        &mut summary,
    );
    let mut answers = Answers::new(summary, Vec::new(), indicatif::ProgressBar::hidden());
    let larger = LimitsResponse {
        accepts_parts: false,
        max_message_bytes: 2000,
        max_document_bytes: 0,
    };
    assert_eq!(
        leave_out_too_large(planned, &larger, &journaled, &mut answers).len(),
        1
    );
}

#[test]
fn rejected_files_are_named_up_to_a_cap_then_the_journal() {
    let mut summary = Summary {
        journal: "/var/lib/up.journal".into(),
        ..Default::default()
    };
    for i in 0..REJECTED_LISTED + 5 {
        let reason = if i % 2 == 0 {
            "empty document"
        } else {
            "not a report"
        };
        *summary.rejected.entry(reason.into()).or_default() += 1;
        summary
            .rejected_files
            .push((format!("r{i}.txt").into(), reason.into()));
    }
    let shown = summary.to_string();
    let named = (0..REJECTED_LISTED + 5)
        .filter(|i| shown.contains(&format!("    r{i}.txt\n")))
        .count();
    assert_eq!(named, REJECTED_LISTED, "{shown}");
    assert!(
        shown.contains(
            "  … and 5 more rejected files: each with its reason in the journal /var/lib/up.journal\n"
        ),
        "{shown}"
    );
}

#[test]
fn summary_is_ok_only_without_rejections_or_gaps() {
    let mut s = Summary {
        stored: 3,
        ..Default::default()
    };
    assert!(s.ok());
    s.rejected.insert("empty document".into(), 1);
    assert!(!s.ok());
    assert!(s.to_string().contains("1 × empty document"));
    // Rejections answered in an earlier run are not news: exit 0.
    let mut s = Summary::default();
    s.rejected_earlier(PathBuf::from("a.txt"), "empty document", 1);
    assert!(s.ok());
    assert!(s
        .to_string()
        .contains("1 × empty document (answered in an earlier run)\n    a.txt\n"));
    s.unacknowledged
        .push(("b.txt".into(), "UNAVAILABLE".into()));
    assert!(!s.ok());
}

#[test]
fn each_server_has_its_own_default_journal() {
    let j = |s: &str| super::default_journal(s).display().to_string();
    assert_eq!(
        j("http://127.0.0.1:50051"),
        ".nianbao-upload.127.0.0.1_50051.journal"
    );
    assert_eq!(j("127.0.0.1:50051"), j("http://127.0.0.1:50051"));
    assert_eq!(
        j("https://nianbao.example.org/"),
        ".nianbao-upload.nianbao.example.org.journal"
    );
    assert_ne!(j("http://127.0.0.1:50051"), j("http://127.0.0.1:50052"));
    assert!(!j("http://[::1]:50051").contains('/'));
}
