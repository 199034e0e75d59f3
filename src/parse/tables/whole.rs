//! Table 三 solved as a whole. PURE.
//!
//! The rows their labels placed are fixed. A row printed under its label with fused or too
//! few cells offers the readings its own total allows. Rows printed with no label of their
//! own may stand in any row the labels left empty, in any order: where they were printed
//! proves nothing. A row nothing fills is a count the text does not give (any whole number
//! from 0 up).
//!
//! Every combination is tried, within [`MAX_NODES`] steps, against the table's rules
//! ([`crate::model::rules`]), column by column: 新收 + 上年结转 = 总计 + 结转下年; the outcome
//! rows add up to 总计; a 2021 table's printed 其他处理 subtotal equals its three rows. A cell
//! is stated only when every combination that keeps the rules gives it the same value.

use crate::model::form::{CARRIED_OVER, CLOSED, FORWARD, NEW, T3_COLUMNS};
use crate::model::rules::{self, at_most, column_sums, other_handling};
use crate::pb::Template;

/// One row's seven values (the applicant columns, then the total); `None` is a cell whose
/// value the text does not give.
pub type RowValues = [Option<f64>; T3_COLUMNS];

/// The most search steps one table may take; beyond it nothing is inferred.
const MAX_NODES: usize = 200_000;

/// What the text gives for one table 三.
pub struct Problem<'a> {
    pub template: Template,
    /// The format's rows, in printed order.
    pub rows: &'static [&'static str],
    /// Each row placed by its label, with its cells.
    pub fixed: &'a [Option<RowValues>],
    /// Rows whose label is read but whose printed cells allow several readings: the row's
    /// index and its readings. A row offering no reading counts as not given.
    pub open: Vec<(usize, Vec<[f64; T3_COLUMNS]>)>,
    /// Rows printed with no label of their own.
    pub floating: Vec<RowValues>,
    /// A 2021 table's printed 其他处理 subtotal.
    pub subtotal: Option<RowValues>,
}

/// The search's answer.
#[derive(Debug, PartialEq)]
pub enum Solved {
    /// Per row of the format, each cell every combination that keeps the rules agrees on
    /// (`None` for the fixed rows, which need no inferring), and how many combinations
    /// keep them (counted until the answer could not change).
    Agreed {
        cells: Vec<RowValues>,
        combinations: usize,
    },
    /// No combination keeps the rules: the printed figures contradict them.
    Contradiction,
    /// The search exceeded its bound: nothing is inferred.
    TooLarge,
}

/// One equation of a column: the sum of `lhs` rows (plus `lhs_const`) equals the sum of `rhs`.
struct Equation {
    lhs: Vec<usize>,
    rhs: Vec<usize>,
    /// A printed value that stands on the left side (the 2021 subtotal).
    constant: Option<f64>,
}

/// What one row may be during the search.
enum Options {
    Fixed(RowValues),
    Readings(Vec<[f64; T3_COLUMNS]>),
    /// Empty after the labels: not given, or one of the unlabelled rows.
    Empty,
}

/// Agreement so far of one cell over the combinations that keep the rules.
#[derive(Clone, Copy, PartialEq)]
enum Agree {
    Unseen,
    Value(f64),
    Differs,
}

/// Solves `p`; see the module's documentation.
pub fn solve(p: &Problem<'_>) -> Solved {
    let n = p.rows.len();
    let eqs = equations(p);
    let mut options: Vec<Options> = (0..n)
        .map(|r| match p.fixed.get(r).copied().flatten() {
            Some(v) => Options::Fixed(v),
            None => Options::Empty,
        })
        .collect();
    for (r, readings) in &p.open {
        if matches!(options[*r], Options::Empty) && !readings.is_empty() {
            options[*r] = Options::Readings(readings.clone());
        }
    }
    // Identical unlabelled rows are one kind with a count: which of them stands where
    // changes nothing.
    let mut kinds: Vec<(RowValues, usize)> = Vec::new();
    for f in &p.floating {
        match kinds.iter_mut().find(|(v, _)| same(v, f)) {
            Some((_, k)) => *k += 1,
            None => kinds.push((*f, 1)),
        }
    }
    let empty = options
        .iter()
        .filter(|o| matches!(o, Options::Empty))
        .count();
    if p.floating.len() > empty {
        return Solved::Contradiction;
    }
    let mut s = Search {
        eqs,
        options,
        order: search_order(p.rows),
        assigned: vec![None; n],
        kinds,
        agree: vec![[Agree::Unseen; T3_COLUMNS]; n],
        nodes: 0,
        combinations: 0,
        settled: false,
    };
    // Rows whose readings break a rule on their own, given the fixed rows, are dropped
    // first: it shrinks the search and changes no answer.
    s.prune_readings();
    let left_empty = empty;
    if !s.descend(0, left_empty) {
        return Solved::TooLarge;
    }
    if s.combinations == 0 {
        return Solved::Contradiction;
    }
    let cells = (0..n)
        .map(|r| {
            if matches!(s.options[r], Options::Fixed(_)) {
                return [None; T3_COLUMNS];
            }
            std::array::from_fn(|c| match s.agree[r][c] {
                Agree::Value(v) => Some(v),
                _ => None,
            })
        })
        .collect();
    Solved::Agreed {
        cells,
        combinations: s.combinations,
    }
}

/// Whether `fixed` alone (every other row not given) keeps the rules: a check that rows
/// placed some other way contradict no sum.
pub fn consistent(
    template: Template,
    rows: &'static [&'static str],
    fixed: &[Option<RowValues>],
) -> bool {
    let p = Problem {
        template,
        rows,
        fixed,
        open: Vec::new(),
        floating: Vec::new(),
        subtotal: None,
    };
    let eqs = equations(&p);
    let values: Vec<Option<RowValues>> = fixed.to_vec();
    eqs.iter().all(|(c, e)| holds(e, *c, &values))
}

/// The rows in the order they are decided: the four of the balance first, so that their
/// equation is checked early, then the outcome rows.
fn search_order(rows: &[&str]) -> Vec<usize> {
    let mut order: Vec<usize> = [CLOSED, NEW, CARRIED_OVER, FORWARD]
        .iter()
        .filter_map(|name| rows.iter().position(|r| r == name))
        .collect();
    for r in 0..rows.len() {
        if !order.contains(&r) {
            order.push(r);
        }
    }
    order
}

/// The rules as equations per column: `(column, equation)`. A sum is an equation when all
/// its rows are the format's; 2021's 其他处理 subtotal, not a row of the format, stands as
/// the printed constant on the left.
fn equations(p: &Problem<'_>) -> Vec<(usize, Equation)> {
    let at = |rows: &[&str]| -> Option<Vec<usize>> {
        rows.iter()
            .map(|name| p.rows.iter().position(|r| r == name))
            .collect()
    };
    let sums: Vec<(Vec<usize>, Vec<usize>)> = column_sums(p.template)
        .iter()
        .filter_map(|s| Some((at(s.parts)?, at(s.whole)?)))
        .collect();
    let subtotal = other_handling(p.template).and_then(|s| at(s.parts));
    let mut eqs = Vec::new();
    for c in 0..T3_COLUMNS {
        for (parts, whole) in &sums {
            eqs.push((
                c,
                Equation {
                    lhs: parts.clone(),
                    rhs: whole.clone(),
                    constant: None,
                },
            ));
        }
        if let (Some(Some(v)), Some(parts)) = (p.subtotal.map(|s| s[c]), &subtotal) {
            eqs.push((
                c,
                Equation {
                    lhs: Vec::new(),
                    rhs: parts.clone(),
                    constant: Some(v),
                },
            ));
        }
    }
    eqs
}

/// Whether equation `e` of column `c` can still hold: a row not decided, or a cell not
/// given, is any whole number from 0 up.
fn holds(e: &Equation, c: usize, values: &[Option<RowValues>]) -> bool {
    let side = |rows: &[usize]| -> (f64, bool) {
        let mut known = 0.0;
        let mut open = false;
        for &r in rows {
            match values[r].and_then(|v| v[c]) {
                Some(x) => known += x,
                None => open = true,
            }
        }
        (known, open)
    };
    let (mut l, l_open) = side(&e.lhs);
    l += e.constant.unwrap_or(0.0);
    let (r, r_open) = side(&e.rhs);
    match (l_open, r_open) {
        (false, false) => rules::same(l, r),
        (true, false) => at_most(l, r),
        (false, true) => at_most(r, l),
        (true, true) => true,
    }
}

/// Two rows are one when every cell is the same figure or absent in both.
fn same(a: &RowValues, b: &RowValues) -> bool {
    a.iter().zip(b).all(|(x, y)| match (x, y) {
        (Some(x), Some(y)) => rules::same(*x, *y),
        (None, None) => true,
        _ => false,
    })
}

struct Search {
    eqs: Vec<(usize, Equation)>,
    options: Vec<Options>,
    order: Vec<usize>,
    /// Each row's values once decided; `None` while not decided.
    assigned: Vec<Option<RowValues>>,
    /// The unlabelled rows not yet placed, by kind.
    kinds: Vec<(RowValues, usize)>,
    agree: Vec<[Agree; T3_COLUMNS]>,
    nodes: usize,
    combinations: usize,
    /// Every cell that could be inferred already differs between combinations: searching
    /// on changes no answer.
    settled: bool,
}

impl Search {
    fn rules_hold(&self) -> bool {
        self.eqs.iter().all(|(c, e)| holds(e, *c, &self.assigned))
    }

    fn prune_readings(&mut self) {
        for (r, opt) in self.options.iter().enumerate() {
            if let Options::Fixed(v) = opt {
                self.assigned[r] = Some(*v);
            }
        }
        for r in 0..self.options.len() {
            let Options::Readings(readings) = &self.options[r] else {
                continue;
            };
            let mut kept = Vec::with_capacity(readings.len());
            for v in readings.clone() {
                self.assigned[r] = Some(v.map(Some));
                if self.rules_hold() {
                    kept.push(v);
                }
            }
            self.assigned[r] = None;
            self.options[r] = Options::Readings(kept);
        }
    }

    /// Decides the rows from `self.order[i]` on; `empty_left` counts the empty rows not yet
    /// decided. `false` when the bound is exceeded.
    fn descend(&mut self, i: usize, empty_left: usize) -> bool {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return false;
        }
        if self.settled {
            return true;
        }
        if !self.rules_hold() {
            return true;
        }
        let Some(&r) = self.order.get(i) else {
            self.record();
            return true;
        };
        let choices: Vec<RowValues> = match &self.options[r] {
            Options::Fixed(v) => vec![*v],
            Options::Readings(readings) => readings.iter().map(|v| v.map(Some)).collect(),
            Options::Empty => {
                let unplaced: usize = self.kinds.iter().map(|(_, k)| k).sum();
                let mut out = Vec::new();
                // Left not given only while the other empty rows can still take every
                // unlabelled row.
                if unplaced < empty_left {
                    out.push([None; T3_COLUMNS]);
                }
                out.extend(self.kinds.iter().filter(|(_, k)| *k > 0).map(|(v, _)| *v));
                out
            }
        };
        let is_empty = matches!(self.options[r], Options::Empty);
        for v in choices {
            let kind = is_empty
                .then(|| {
                    self.kinds
                        .iter()
                        .position(|(k, n)| *n > 0 && same(k, &v) && v.iter().any(Option::is_some))
                })
                .flatten();
            if let Some(k) = kind {
                self.kinds[k].1 -= 1;
            }
            self.assigned[r] = Some(v);
            let ok = self.descend(i + 1, empty_left - usize::from(is_empty));
            self.assigned[r] = None;
            if let Some(k) = kind {
                self.kinds[k].1 += 1;
            }
            if !ok {
                return false;
            }
        }
        true
    }

    /// A combination that keeps every rule: each cell's agreement is updated.
    fn record(&mut self) {
        if self.kinds.iter().any(|(_, k)| *k > 0) {
            return;
        }
        self.combinations += 1;
        let mut open = false;
        for (r, opt) in self.options.iter().enumerate() {
            if matches!(opt, Options::Fixed(_)) {
                continue;
            }
            let v = self.assigned[r].unwrap_or([None; T3_COLUMNS]);
            for (a, cell) in self.agree[r].iter_mut().zip(v) {
                *a = match (*a, cell) {
                    (Agree::Unseen, Some(x)) => Agree::Value(x),
                    (Agree::Value(y), Some(x)) if rules::same(x, y) => Agree::Value(y),
                    _ => Agree::Differs,
                };
                open |= *a != Agree::Differs;
            }
        }
        self.settled = !open;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::form::t3_rows;

    fn row(v: [f64; 7]) -> Option<RowValues> {
        Some(v.map(Some))
    }

    fn at(rows: &[&str], name: &str) -> usize {
        rows.iter().position(|r| r.ends_with(name)).unwrap()
    }

    /// A 2021 table: new 5, carried 0, disclosed 3, not_held 2, closed 5, forward 0; every
    /// other row zero.
    fn table() -> Vec<Option<RowValues>> {
        let rows = t3_rows(Template::Template2021);
        let mut t = vec![row([0.0; 7]); rows.len()];
        t[at(rows, "new_received")] = row([5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 5.0]);
        t[at(rows, ".disclosed")] = row([3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0]);
        t[at(rows, "not_held")] = row([2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0]);
        t[at(rows, "closed_total")] = row([5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 5.0]);
        t
    }

    fn problem(fixed: &[Option<RowValues>], floating: Vec<RowValues>) -> Solved {
        let p = Problem {
            template: Template::Template2021,
            rows: t3_rows(Template::Template2021),
            fixed,
            open: Vec::new(),
            floating,
            subtotal: None,
        };
        solve(&p)
    }

    #[test]
    fn two_unlabelled_outcome_rows_that_could_swap_stay_unset() {
        let rows = t3_rows(Template::Template2021);
        let mut t = table();
        let (d, n) = (at(rows, ".disclosed"), at(rows, "not_held"));
        let floating = vec![t[d].unwrap(), t[n].unwrap()];
        t[d] = None;
        t[n] = None;
        let Solved::Agreed { cells, .. } = problem(&t, floating) else {
            panic!("a combination keeps the rules")
        };
        // Each could be either: only the columns both print alike are stated.
        assert_eq!(cells[d][0], None);
        assert_eq!(cells[d][1], Some(0.0));
        assert_eq!(cells[n][6], None);
    }

    #[test]
    fn the_balance_forces_an_unlabelled_row() {
        let rows = t3_rows(Template::Template2021);
        let mut t = table();
        let new = at(rows, "new_received");
        let floating = vec![t[new].unwrap()];
        t[new] = None;
        // Only 新收 is empty, and only there does 5 keep the balance.
        let Solved::Agreed { cells, .. } = problem(&t, floating) else {
            panic!("a combination keeps the rules")
        };
        assert_eq!(cells[new], t[at(rows, "closed_total")].unwrap());
    }

    #[test]
    fn an_unlabelled_row_that_fits_nowhere_is_a_contradiction() {
        let t = table();
        assert_eq!(problem(&t, vec![[Some(1.0); 7]]), Solved::Contradiction);
    }

    #[test]
    fn zero_rows_into_as_many_empty_rows_are_forced() {
        let rows = t3_rows(Template::Template2021);
        let mut t = table();
        let empties: Vec<usize> = (0..rows.len())
            .filter(|&r| rows[r].contains("withheld"))
            .collect();
        for &r in &empties {
            t[r] = None;
        }
        let floating = vec![[Some(0.0); 7]; empties.len()];
        let Solved::Agreed { cells, .. } = problem(&t, floating) else {
            panic!("a combination keeps the rules")
        };
        for &r in &empties {
            assert_eq!(cells[r], [Some(0.0); 7]);
        }
    }

    #[test]
    fn an_empty_row_beyond_the_unlabelled_ones_keeps_every_cell_open() {
        let rows = t3_rows(Template::Template2021);
        let mut t = table();
        let (a, b) = (at(rows, "state_secret"), at(rows, "prohibited_by_law"));
        t[a] = None;
        t[b] = None;
        // One zero row for two empty rows: either could be the one not printed, and a row
        // not printed may hold any count the sums allow (here 0 too, but the text does not
        // say so).
        let Solved::Agreed { cells, .. } = problem(&t, vec![[Some(0.0); 7]]) else {
            panic!("a combination keeps the rules")
        };
        assert_eq!(cells[a], [None; 7]);
        assert_eq!(cells[b], [None; 7]);
    }

    #[test]
    fn readings_of_a_fused_row_are_chosen_by_the_sums() {
        let rows = t3_rows(Template::Template2021);
        let mut t = table();
        let d = at(rows, ".disclosed");
        t[d] = None;
        let p = Problem {
            template: Template::Template2021,
            rows,
            fixed: &t,
            open: vec![(
                d,
                vec![
                    [3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0],
                    [0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 3.0],
                ],
            )],
            floating: Vec::new(),
            subtotal: None,
        };
        let Solved::Agreed {
            cells,
            combinations,
        } = solve(&p)
        else {
            panic!("a combination keeps the rules")
        };
        assert_eq!(combinations, 1);
        assert_eq!(cells[d], [3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0].map(Some));
    }
}
