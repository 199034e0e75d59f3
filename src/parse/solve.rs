//! Readings forced by arithmetic. PURE.
//!
//! Never guess: each function returns every reading the printed text allows, and the
//! callers keep one only when it is the only one left after the table's sums are checked.

use super::cells::Number;
use crate::model::form::{T4_CELLS, T4_GROUP_CELLS};
use crate::model::rules::{self, GROUP_TOTAL};

/// The most candidate readings one row may produce; beyond it the row is unreadable.
const MAX_CANDIDATES: usize = 20_000;
/// The most digits one cell may have: no count or amount of one body's year is longer.
const MAX_CELL_DIGITS: usize = 12;

/// Every way to read `tokens` as exactly `parts` cells. A token printed on its own is one
/// cell; a fused token (digits printed without separators) may be several cells, split at
/// digit boundaries with no cell starting with a `0` unless it is `0`. `None` when the
/// number of readings exceeds `MAX_CANDIDATES`.
pub fn splits(tokens: &[Number<'_>], parts: usize) -> Option<Vec<Vec<f64>>> {
    let mut out = Vec::new();
    let mut current = Vec::with_capacity(parts);
    let ok = split_rec(tokens, parts, &mut current, &mut out);
    ok.then_some(out)
}

fn split_rec(
    tokens: &[Number<'_>],
    parts: usize,
    current: &mut Vec<f64>,
    out: &mut Vec<Vec<f64>>,
) -> bool {
    let Some((first, rest)) = tokens.split_first() else {
        if current.len() == parts {
            out.push(current.clone());
        }
        return out.len() <= MAX_CANDIDATES;
    };
    let remaining = parts.saturating_sub(current.len());
    // Each later token needs at least one cell.
    if remaining < tokens.len() {
        return true;
    }
    if !splittable(first) {
        current.push(first.value);
        let ok = split_rec(rest, parts, current, out);
        current.pop();
        return ok;
    }
    let digits = first.raw.as_bytes();
    let max_cells = (remaining - rest.len()).min(digits.len());
    // The later tokens can take at most `rest_cells` cells, so this one must take the rest:
    // splits into fewer cells could never fill the row, and are not enumerated.
    let rest_cells: usize = rest.iter().map(most_cells).sum();
    let min_cells = remaining.saturating_sub(rest_cells);
    let mut cuts = Vec::with_capacity(max_cells);
    // A sign shows where the token's first cell starts, not where it ends: `-720` glued to
    // text may be -7 and 20.
    let negative = first.value < 0.0;
    split_digits(digits, 0, min_cells, max_cells, &mut cuts, &mut |cells| {
        let before = current.len();
        current.extend_from_slice(cells);
        if negative {
            current[before] = -current[before];
        }
        let ok = split_rec(rest, parts, current, out);
        current.truncate(before);
        ok
    })
}

/// A fused run of digits, whose cell boundaries are unknown; a sign before it (`-720`)
/// marks where its first cell starts.
fn splittable(n: &Number<'_>) -> bool {
    n.fused && n.integer && n.raw.bytes().all(|b| b.is_ascii_digit())
}

/// The most cells `n` may be read as: one per digit when it may be split, else one.
fn most_cells(n: &Number<'_>) -> usize {
    if splittable(n) {
        n.raw.len()
    } else {
        1
    }
}

/// Calls `emit` with every split of `digits[start..]` into at least `min_cells` and at most
/// `max_cells` numbers.
fn split_digits(
    digits: &[u8],
    start: usize,
    min_cells: usize,
    max_cells: usize,
    acc: &mut Vec<f64>,
    emit: &mut dyn FnMut(&[f64]) -> bool,
) -> bool {
    if start == digits.len() {
        return acc.is_empty() || acc.len() < min_cells || emit(acc);
    }
    // The cells left cannot hold the digits left, or the digits left (one cell each at
    // most) cannot make the cells still needed: no split down this path.
    if acc.len() == max_cells
        || digits.len() - start > (max_cells - acc.len()) * MAX_CELL_DIGITS
        || acc.len() + (digits.len() - start) < min_cells
    {
        return true;
    }
    // A cell starting with 0 is the single digit 0.
    let longest = if digits[start] == b'0' {
        1
    } else {
        digits.len() - start
    };
    for len in 1..=longest.min(MAX_CELL_DIGITS) {
        let value = digits[start..start + len]
            .iter()
            .fold(0f64, |v, d| v * 10.0 + f64::from(d - b'0'));
        acc.push(value);
        let ok = split_digits(digits, start + len, min_cells, max_cells, acc, emit);
        acc.pop();
        if !ok {
            return false;
        }
    }
    true
}

/// The distinct vectors of `candidates`, in first-seen order.
pub fn distinct(candidates: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let mut out: Vec<Vec<f64>> = Vec::new();
    for c in candidates {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Table 四's fifteen numbers read in an order other than the printed one (PDF text moves
/// whole blocks): every assignment of the numbers to the three groups (upheld, corrected,
/// other, pending, total) where each group's total is the sum of its four outcomes, the
/// numbers of each group keep their stream order, and the groups are ordered by where they
/// start. Every such reading is returned (in the printed 15-number order): preferring the one
/// that moves the fewest blocks would be a guess, and a wrong one where several hold.
pub fn recover_group_order(stream: &[f64]) -> Vec<[f64; T4_CELLS]> {
    if stream.len() != T4_CELLS {
        return Vec::new();
    }
    let mut found: Vec<[f64; T4_CELLS]> = Vec::new();
    // Group 0 opens at the first number, each later group at the first number no earlier
    // group took; a group is its opening number and four later ones, the last its total.
    let all = (1u16 << T4_CELLS) - 1;
    for_each_group(stream, all, &mut |g0| {
        for_each_group(stream, all & !g0, &mut |g1| {
            let g2 = all & !g0 & !g1;
            if !is_group(stream, g2) {
                return;
            }
            let mut reading = [0f64; T4_CELLS];
            for (g, mask) in [g0, g1, g2].into_iter().enumerate() {
                for (slot, i) in positions(mask).enumerate() {
                    reading[g * T4_GROUP_CELLS + slot] = stream[i];
                }
            }
            if !found.contains(&reading) {
                found.push(reading);
            }
        });
    });
    found
}

/// The set bits of `mask`, lowest first.
fn positions(mask: u16) -> impl Iterator<Item = usize> {
    (0..u16::BITS as usize).filter(move |i| mask & (1 << i) != 0)
}

/// True when `mask` holds five numbers of `stream` whose last is the sum of the other four.
fn is_group(stream: &[f64], mask: u16) -> bool {
    if mask.count_ones() as usize != GROUP_TOTAL.cells() {
        return false;
    }
    let mut sum = 0.0;
    let mut last = 0.0;
    for (k, i) in positions(mask).enumerate() {
        if k < GROUP_TOTAL.parts {
            sum += stream[i];
        } else {
            last = stream[i];
        }
    }
    rules::same(sum, last)
}

/// Calls `found` with every group that opens at the lowest position of `free` and takes
/// four more positions of `free` (the groups whose total holds).
fn for_each_group(stream: &[f64], free: u16, found: &mut dyn FnMut(u16)) {
    if free == 0 {
        return;
    }
    let open = free.trailing_zeros() as usize;
    let rest: Vec<usize> = positions(free).filter(|&i| i > open).collect();
    let n = rest.len();
    for a in 0..n {
        for b in a + 1..n {
            for c in b + 1..n {
                for d in c + 1..n {
                    let mask =
                        1 << open | 1 << rest[a] | 1 << rest[b] | 1 << rest[c] | 1 << rest[d];
                    if is_group(stream, mask) {
                        found(mask);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::cells::{read_number, Unit};

    fn fused(raw: &str) -> Number<'_> {
        let mut n = read_number(raw).unwrap();
        n.fused = true;
        n
    }

    #[test]
    fn splits_fused_digits_only_where_forced() {
        // Seven digits into seven cells: one reading.
        let r = splits(&[fused("2000002")], 7).unwrap();
        assert_eq!(r, vec![vec![2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0]]);
        // Six digits into three cells: many readings.
        assert!(splits(&[fused("898989")], 3).unwrap().len() > 1);
        // Zeros cannot lead a cell: 000 is three zeros.
        assert_eq!(splits(&[fused("000")], 3).unwrap(), vec![vec![0.0; 3]]);
        // Separate tokens are never split.
        let sep = [read_number("12").unwrap(), read_number("3").unwrap()];
        assert_eq!(splits(&sep, 2).unwrap(), vec![vec![12.0, 3.0]]);
        assert!(splits(&sep, 3).unwrap().is_empty());
    }

    /// The first implementation: every assignment of each number to a group, in stream
    /// order. Slow (hundreds of µs) but plainly right; the oracle for the subset search.
    fn exhaustive(stream: &[f64]) -> Vec<[f64; 15]> {
        fn assign(
            stream: &[f64],
            i: usize,
            owner: &mut [usize; 15],
            filled: &mut [usize; 3],
            done: &mut dyn FnMut(&[usize; 15]),
        ) {
            if i == stream.len() {
                return done(owner);
            }
            for g in 0..3 {
                if filled[g] == 0 && g > 0 && filled[g - 1] == 0 {
                    break;
                }
                if filled[g] == 5 {
                    continue;
                }
                if filled[g] == 4 {
                    let sum: f64 = (0..i).filter(|&j| owner[j] == g).map(|j| stream[j]).sum();
                    if !rules::same(sum, stream[i]) {
                        continue;
                    }
                }
                owner[i] = g;
                filled[g] += 1;
                assign(stream, i + 1, owner, filled, done);
                filled[g] -= 1;
            }
        }
        let mut all = Vec::new();
        assign(
            stream,
            0,
            &mut [usize::MAX; 15],
            &mut [0; 3],
            &mut |owner| {
                let mut reading = [0f64; T4_CELLS];
                let mut pos = [0usize; 15];
                let mut filled = [0usize; 3];
                for i in 0..15 {
                    pos[i] = owner[i] * 5 + filled[owner[i]];
                    filled[owner[i]] += 1;
                    reading[pos[i]] = stream[i];
                }
                all.push(reading);
            },
        );
        let mut found: Vec<[f64; 15]> = Vec::new();
        for r in all {
            if !found.contains(&r) {
                found.push(r);
            }
        }
        found
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Valid tables (small figures, so several readings often hold) with blocks of the
        /// stream moved, and arbitrary streams: the subset search finds what the exhaustive
        /// one finds.
        #[test]
        fn group_order_matches_exhaustive_search(
            outcomes in proptest::collection::vec(0u8..4, 12),
            cut in 0usize..15,
            len in 1usize..8,
            arbitrary in proptest::collection::vec(0u8..6, 15),
            valid in proptest::bool::ANY,
        ) {
            let stream: Vec<f64> = if valid {
                let mut printed = Vec::new();
                for g in outcomes.chunks(4) {
                    printed.extend(g.iter().map(|&v| f64::from(v)));
                    printed.push(g.iter().map(|&v| f64::from(v)).sum());
                }
                // Move the block [cut, cut + len) to the end.
                let end = (cut + len).min(15);
                let mut moved: Vec<f64> = printed[..cut].to_vec();
                moved.extend_from_slice(&printed[end..]);
                moved.extend_from_slice(&printed[cut..end]);
                moved
            } else {
                arbitrary.iter().map(|&v| f64::from(v)).collect()
            };
            // The same readings; their order does not matter (the parser states a reading only
            // when it is the only one).
            let sorted = |mut v: Vec<[f64; 15]>| {
                v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
                v
            };
            proptest::prop_assert_eq!(sorted(recover_group_order(&stream)), sorted(exhaustive(&stream)));
        }
    }

    #[test]
    fn recovers_table_four_blocks_moved_by_pdf_text() {
        // huaian-city-2024.txt prints 72 64 178 37, then 12 1 1 6, then 351, ...
        let stream = [
            72., 64., 178., 37., 12., 1., 1., 6., 351., 13., 4., 8., 1., 26., 20.,
        ];
        // Two groupings hold (one `1` may belong to either litigation group); both give the
        // review group.
        let r = recover_group_order(&stream);
        assert_eq!(r.len(), 2);
        assert!(
            r.contains(&[72., 64., 178., 37., 351., 12., 1., 1., 6., 20., 13., 4., 8., 1., 26.])
        );
        assert!(r.iter().all(|g| g[..5] == [72., 64., 178., 37., 351.]));
        // The printed order is one of the groupings (the caller keeps it, when it holds,
        // before any search).
        let printed = [1., 0., 0., 0., 1., 0., 0., 0., 2., 2., 0., 0., 0., 0., 0.];
        let readings = recover_group_order(&printed);
        assert!(readings.contains(&printed));
        let _ = Unit::None;
    }
}
