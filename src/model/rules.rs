//! The official form's arithmetic, written once: which figures of a report add up to which,
//! per format, and when two figures are equal. PURE.
//!
//! domain.md's rules 1-4 and the 2021 其他处理 subtotal, as data. Two kinds of sum:
//! - a [`ColumnSum`] adds rows of table 三 and holds in each of its seven columns: the
//!   balance (rule 1), the outcome rows (rule 2), 2021's 其他处理 rows ([`other_handling`]);
//! - a [`RowSum`] adds the leading cells of one row to its last: a table-三 row's six
//!   applicant columns to its total ([`ROW_TOTAL`], rule 3), a table-四 group's four results
//!   to its total ([`GROUP_TOTAL`], rule 4).
//!
//! The reader (`parse`) applies them to force, place or confirm cells; the validator
//! (`validate`) reports where a report breaks them. Neither restates a sum or its tolerance.
//! What a broken or unverifiable sum means (a finding, a withheld row, a reading dropped) is
//! the caller's business, not this room's.

use crate::model::form::{
    t3_outcome_rows, APPLICANT_KINDS, CARRIED_OVER, CLOSED, FORWARD, NEW, OTHER_HANDLING_TOTAL,
    T4_RESULTS,
};
use crate::pb::Template;

/// Two figures are equal when they differ by less than this. The form's sums add whole
/// counts (the reader never states a decimal count), which f64 adds exactly, so a sum is
/// off by 0 or by at least 1 and any margin below 1 decides alike: this one only absorbs
/// floating-point rounding. It is the reader's margin, the tightest any copy of these rules
/// used (the validator and the OCR check had 1e-6): no check is looser for being written
/// once. (Whether two readings state one figure is another question, with amounts:
/// `model::reading`.)
pub const TOLERANCE: f64 = 1e-9;

/// Whether `a` and `b` are the same figure (within [`TOLERANCE`]).
pub fn same(a: f64, b: f64) -> bool {
    (a - b).abs() < TOLERANCE
}

/// Whether `a` is at most `b` (within [`TOLERANCE`]): a sum with open addends still fits.
pub fn at_most(a: f64, b: f64) -> bool {
    a <= b + TOLERANCE
}

/// The sums of the form, as domain.md numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Rule 1 (勾稽关系, printed in the table): 本年新收 + 上年结转 = 办理结果总计 + 结转下年度.
    Balance,
    /// Rule 2: the outcome rows add up to （七）总计 (2019 has one 其他处理 row, 2021 three).
    Outcomes,
    /// 2021: （六）其他处理, where printed, is the sum of its three rows.
    OtherHandling,
    /// Rule 3: a table-三 row's six applicant columns add up to its total.
    RowTotal,
    /// Rule 4: a table-四 group's four results add up to its total.
    GroupTotal,
}

/// A sum that holds in each column of table 三: the rows of `parts` add up to the rows of
/// `whole` (full catalogue paths of rows).
#[derive(Clone, Copy, Debug)]
pub struct ColumnSum {
    pub rule: Rule,
    pub parts: &'static [&'static str],
    pub whole: &'static [&'static str],
}

impl ColumnSum {
    /// The row a broken sum is reported at: the last row of `whole` (结转下年度 for the
    /// balance, 总计 for the outcomes).
    pub fn at(&self) -> &'static str {
        self.whole.last().copied().unwrap_or_default()
    }

    /// Column `c` of the sum, given each row's cell: the sum of `parts` and the sum of
    /// `whole`, each `None` when one of its cells is absent.
    pub fn sides(
        &self,
        c: usize,
        cell: impl Fn(&str, usize) -> Option<f64>,
    ) -> (Option<f64>, Option<f64>) {
        let side = |rows: &[&str]| rows.iter().map(|r| cell(r, c)).sum::<Option<f64>>();
        (side(self.parts), side(self.whole))
    }

    /// Whether column `c` breaks the sum: every cell is present and the sides differ.
    pub fn fails(&self, c: usize, cell: impl Fn(&str, usize) -> Option<f64>) -> bool {
        matches!(self.sides(c, cell), (Some(p), Some(w)) if !same(p, w))
    }
}

/// Rule 1: 本年新收 + 上年结转 = 办理结果总计 + 结转下年度.
const BALANCE: ColumnSum = ColumnSum {
    rule: Rule::Balance,
    parts: &[NEW, CARRIED_OVER],
    whole: &[CLOSED, FORWARD],
};

/// The rows of table 三 that add up in every column, for a format: the balance (rule 1),
/// then the outcome rows (rule 2), the order the validator reports them in.
pub fn column_sums(template: Template) -> [ColumnSum; 2] {
    [
        BALANCE,
        ColumnSum {
            rule: Rule::Outcomes,
            parts: t3_outcome_rows(template),
            whole: &[CLOSED],
        },
    ]
}

/// 2021's three （六）其他处理 rows, whose sum is `other_handling.total`.
pub const OTHER_HANDLING_PARTS: [&str; 3] = [
    "applications.other_handling.overdue_correction",
    "applications.other_handling.unpaid_fee",
    "applications.other_handling.other",
];

/// The 2021 format's 其他处理 subtotal: its three rows add up to `other_handling.total`,
/// which the format does not list (a table may print it; else it is derived). `None` in
/// any other format, where 其他处理 is one row.
pub fn other_handling(template: Template) -> Option<ColumnSum> {
    (template == Template::Template2021).then_some(ColumnSum {
        rule: Rule::OtherHandling,
        parts: &OTHER_HANDLING_PARTS,
        whole: &[OTHER_HANDLING_TOTAL],
    })
}

/// A sum within one row of cells: the first `parts` cells add up to the next, the total.
#[derive(Clone, Copy, Debug)]
pub struct RowSum {
    pub rule: Rule,
    pub parts: usize,
}

impl RowSum {
    /// The cell that holds the total (after the parts).
    pub const fn total(&self) -> usize {
        self.parts
    }

    /// Cells in a row the sum covers: the parts and the total.
    pub const fn cells(&self) -> usize {
        self.parts + 1
    }

    /// Whether a row of exactly [`Self::cells`] values keeps the sum.
    pub fn holds(&self, row: &[f64]) -> bool {
        row.len() == self.cells() && same(row[..self.parts].iter().sum::<f64>(), row[self.total()])
    }

    /// Whether a row of exactly [`Self::cells`] cells is all present and keeps the sum.
    pub fn holds_printed(&self, row: &[Option<f64>]) -> bool {
        if row.len() != self.cells() {
            return false;
        }
        match (
            row[self.total()],
            row[..self.parts].iter().copied().sum::<Option<f64>>(),
        ) {
            (Some(t), Some(s)) => same(t, s),
            _ => false,
        }
    }
}

/// Rule 3: in each row of table 三 the six applicant columns add up to the total.
pub const ROW_TOTAL: RowSum = RowSum {
    rule: Rule::RowTotal,
    parts: APPLICANT_KINDS,
};

/// Rule 4: in each group of table 四 the four results (维持, 纠正, 其他, 尚未审结) add up to
/// the total.
pub const GROUP_TOTAL: RowSum = RowSum {
    rule: Rule::GroupTotal,
    parts: T4_RESULTS,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::form::{t3_rows, T3_COLUMNS, T3_TOTAL_COLUMN, T4_GROUP_CELLS};

    #[test]
    fn same_forgives_rounding_only() {
        assert!(same(0.1 + 0.2, 0.3));
        assert!(same(5.0, 5.0));
        assert!(!same(5.0, 6.0));
        assert!(!same(1e6, 1e6 + 1.0));
        assert!(at_most(3.0, 3.0) && at_most(0.1 + 0.2, 0.3) && !at_most(4.0, 3.0));
    }

    #[test]
    fn the_row_sums_fit_the_form() {
        assert_eq!(ROW_TOTAL.cells(), T3_COLUMNS);
        assert_eq!(ROW_TOTAL.total(), T3_TOTAL_COLUMN);
        assert_eq!(GROUP_TOTAL.cells(), T4_GROUP_CELLS);
        assert!(ROW_TOTAL.holds(&[1.0, 2.0, 0.0, 0.0, 0.0, 3.0, 6.0]));
        assert!(!ROW_TOTAL.holds(&[1.0, 2.0, 0.0, 0.0, 0.0, 3.0, 7.0]));
        // A row of another width is no row of the sum.
        assert!(!ROW_TOTAL.holds(&[1.0, 1.0]));
        assert!(GROUP_TOTAL.holds_printed(&[
            Some(72.0),
            Some(64.0),
            Some(178.0),
            Some(37.0),
            Some(351.0)
        ]));
        assert!(!GROUP_TOTAL.holds_printed(&[
            Some(72.0),
            None,
            Some(178.0),
            Some(37.0),
            Some(351.0)
        ]));
    }

    #[test]
    fn the_column_sums_name_rows_of_the_format() {
        for t in [Template::Template2019, Template::Template2021] {
            let rows = t3_rows(t);
            for sum in column_sums(t) {
                for r in sum.parts.iter().chain(sum.whole) {
                    assert!(rows.contains(r), "{t:?} {:?} {r}", sum.rule);
                }
            }
        }
        let sums = column_sums(Template::Template2019);
        assert_eq!((sums[0].at(), sums[1].at()), (FORWARD, CLOSED));
        // 2021's subtotal adds rows the format lists into one it does not.
        let rows = t3_rows(Template::Template2021);
        let sub = other_handling(Template::Template2021).unwrap();
        assert!(sub.parts.iter().all(|r| rows.contains(r)));
        assert!(!rows.contains(&sub.at()));
        assert!(other_handling(Template::Template2019).is_none());
    }

    #[test]
    fn a_column_sum_fails_only_when_every_cell_is_present() {
        let sum = column_sums(Template::Template2019)[0];
        let cell = |row: &str, _c: usize| match row {
            NEW => Some(5.0),
            CARRIED_OVER => Some(1.0),
            CLOSED => Some(4.0),
            _ => None,
        };
        // 结转下年度 absent: unverifiable, not failed.
        assert!(!sum.fails(0, cell));
        assert_eq!(sum.sides(0, cell), (Some(6.0), None));
        // 5 + 1 = 4 + 2 holds; 5 + 1 = 4 + 3 fails.
        let holds = |row: &str, c: usize| cell(row, c).or(Some(2.0));
        assert_eq!(sum.sides(0, holds), (Some(6.0), Some(6.0)));
        assert!(!sum.fails(0, holds));
        let off = |row: &str, c: usize| cell(row, c).or(Some(3.0));
        assert!(sum.fails(0, off));
    }
}
