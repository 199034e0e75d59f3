//! The reports committed or read last, kept in hand for the scores of the commits after
//! them.
//!
//! A commit scores a report against its body's report of the year before, most often
//! committed moments before (a scraper sends a body's years together), and against the
//! first report of another body found alike, the same one for every body that prints a
//! shared template's sentences. Reading one back from sled costs its record's three
//! decompressions, the basis's JSON and its narrative's shingles: at 1M reports, 11 % of
//! the server's CPU samples, all under the commit lock. What is kept here is what that
//! read gives, field for field: a report read, or one committed as encoded with the basis
//! whose JSON reads back exactly (serde_json reads floats exactly with `float_roundtrip`),
//! so a replay reading the records scores as the commits did. PURE: no I/O.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::compliance::Basis;
use crate::pb::Report;

/// A stored report and its basis, as the scores compare with it.
pub(super) type Compared = Arc<(Report, Option<Basis>)>;

/// How many reports are kept: the last this many committed or read.
pub(super) const KEPT: usize = 512;

/// The last [`KEPT`] reports committed or read, by seq.
#[derive(Debug, Default)]
pub(super) struct Recent {
    kept: VecDeque<(u64, Compared)>,
}

impl Recent {
    /// The report committed under `seq`, when it is among the last kept.
    pub(super) fn get(&self, seq: u64) -> Option<Compared> {
        self.kept
            .iter()
            .rev()
            .find(|(s, _)| *s == seq)
            .map(|(_, c)| Arc::clone(c))
    }

    /// Keeps the report just committed or read under `seq` (not kept already), forgetting
    /// the oldest beyond [`KEPT`].
    pub(super) fn put(&mut self, seq: u64, compared: Compared) {
        if self.kept.len() == KEPT {
            self.kept.pop_front();
        }
        self.kept.push_back((seq, compared));
    }

    /// Forgets every report (their records are about to be rewritten).
    pub(super) fn clear(&mut self) {
        self.kept.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_reports_committed_and_forgets_the_oldest() {
        let mut recent = Recent::default();
        let report = |agency: &str| {
            Arc::new((
                Report {
                    agency: agency.into(),
                    ..Default::default()
                },
                None,
            ))
        };
        for seq in 0..(KEPT as u64 + 3) {
            recent.put(seq, report(&seq.to_string()));
        }
        assert!(recent.get(0).is_none());
        assert!(recent.get(2).is_none());
        assert_eq!(recent.get(3).unwrap().0.agency, "3");
        let last = KEPT as u64 + 2;
        assert_eq!(recent.get(last).unwrap().0.agency, last.to_string());
        assert!(recent.get(last + 1).is_none());
        recent.clear();
        assert!(recent.get(last).is_none());
    }
}
