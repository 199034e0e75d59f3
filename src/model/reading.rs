//! Two readings of one body's report for one year: renditions of the same report, or
//! different reports (a revision). PURE.
//!
//! A body publishes its yearly report once, in several renditions (the HTML page, its PDF
//! attachment, a DOCX, re-scrapes that differ in page chrome), and sometimes publishes a
//! corrected report. Two readings are renditions of one report when no figure that both
//! state differs; the rendition that states the most figures is the one queries count, since
//! the reader never states a figure it is not sure of (a scrambled text reads fewer, never
//! other ones).

use crate::model::catalogue::{self, METRICS};
use crate::pb::Report;

/// Two figures are the same when they differ by less than this (amounts are printed with
/// at most four decimals). Not the form's [`crate::model::rules::TOLERANCE`]: this compares
/// every figure of two readings, amounts in 万元 included, not a sum of whole counts, and
/// keeps its own value so that which readings are renditions does not change.
const SAME: f64 = 1e-6;

/// A figure both readings state, and differently: the metric's catalogue index, then the
/// first reading's value and the second's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difference {
    pub metric: usize,
    pub first: f64,
    pub second: f64,
}

/// Every figure `a` and `b` both state with different values, in catalogue order.
pub fn differences(a: &Report, b: &Report) -> Vec<Difference> {
    (0..METRICS.len())
        .filter_map(|m| match (catalogue::get(a, m), catalogue::get(b, m)) {
            (Some(x), Some(y)) if (x - y).abs() >= SAME => Some(Difference {
                metric: m,
                first: x,
                second: y,
            }),
            _ => None,
        })
        .collect()
}

/// True when `a` and `b` read as the same report: no figure both state differs.
pub fn same_report(a: &Report, b: &Report) -> bool {
    (0..METRICS.len()).all(|m| match (catalogue::get(a, m), catalogue::get(b, m)) {
        (Some(x), Some(y)) => (x - y).abs() < SAME,
        _ => true,
    })
}

/// The figures a reading states.
pub fn figures(report: &Report) -> usize {
    (0..METRICS.len())
        .filter(|&m| catalogue::get(report, m).is_some())
        .count()
}

/// True when `new`, a rendition of the report `counted` reads, should be counted instead:
/// it states more figures. On a tie the rendition counted already stays.
pub fn better(new: &Report, counted: &Report) -> bool {
    figures(new) > figures(counted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::{ApplicantCounts, Applications, Outcomes};

    fn report(new_total: Option<i64>, review: Option<i64>) -> Report {
        Report {
            applications: Some(Applications {
                new_received: Some(ApplicantCounts {
                    total: new_total,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            review: Some(Outcomes {
                total: review,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_reading_that_states_less_is_the_same_report_and_not_better() {
        let full = report(Some(12), Some(3));
        let scrambled = report(Some(12), None);
        assert!(same_report(&full, &scrambled));
        assert!(differences(&full, &scrambled).is_empty());
        assert!(!better(&scrambled, &full));
        assert!(better(&full, &scrambled));
        assert!(!better(&full, &full.clone()), "a tie keeps the counted one");
    }

    #[test]
    fn one_figure_that_differs_makes_another_report() {
        let a = report(Some(12), Some(3));
        let b = report(Some(13), Some(3));
        assert!(!same_report(&a, &b));
        let d = differences(&a, &b);
        assert_eq!(d.len(), 1);
        assert_eq!(METRICS[d[0].metric].path, "applications.new_received.total");
        assert_eq!((d[0].first, d[0].second), (12.0, 13.0));
    }
}
