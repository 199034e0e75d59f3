//! Readings forced by arithmetic. PURE.
//!
//! Never guess: each function returns every reading the printed text allows, and the
//! callers keep one only when it is the only one left after the table's sums are checked.

use super::cells::Number;

/// The most candidate readings one row may produce; beyond it the row is unreadable.
const MAX_CANDIDATES: usize = 20_000;
/// The most digits one cell may have: no count or amount of one body's year is longer.
const MAX_CELL_DIGITS: usize = 12;

/// Every way to read `tokens` as exactly `parts` cells. A token printed on its own is one
/// cell; a fused token (digits printed without separators) may be several cells, split at
/// digit boundaries with no cell starting with a `0` unless it is `0`. `None` when the
/// number of readings exceeds [`MAX_CANDIDATES`].
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
    let splittable = first.fused && first.integer && first.raw.bytes().all(|b| b.is_ascii_digit());
    if !splittable {
        current.push(first.value);
        let ok = split_rec(rest, parts, current, out);
        current.pop();
        return ok;
    }
    let digits = first.raw.as_bytes();
    let max_cells = (remaining - rest.len()).min(digits.len());
    let mut cuts = Vec::with_capacity(max_cells);
    split_digits(digits, 0, max_cells, &mut cuts, &mut |cells| {
        let before = current.len();
        current.extend_from_slice(cells);
        let ok = split_rec(rest, parts, current, out);
        current.truncate(before);
        ok
    })
}

/// Calls `emit` with every split of `digits[start..]` into at most `max_cells` numbers.
fn split_digits(
    digits: &[u8],
    start: usize,
    max_cells: usize,
    acc: &mut Vec<f64>,
    emit: &mut dyn FnMut(&[f64]) -> bool,
) -> bool {
    if start == digits.len() {
        return acc.is_empty() || emit(acc);
    }
    // The cells left cannot hold the digits left: no split down this path.
    if acc.len() == max_cells || digits.len() - start > (max_cells - acc.len()) * MAX_CELL_DIGITS {
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
        let ok = split_digits(digits, start + len, max_cells, acc, emit);
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
/// start. Among those, the readings that move the fewest blocks. Returns the readings in the
/// printed 15-number order.
pub fn recover_group_order(stream: &[f64]) -> Vec<[f64; 15]> {
    if stream.len() != 15 {
        return Vec::new();
    }
    let mut best: Vec<[f64; 15]> = Vec::new();
    let mut best_breaks = usize::MAX;
    let mut owner = [usize::MAX; 15];
    let mut slot = [0usize; 15];
    assign(
        stream,
        0,
        &mut owner,
        &mut slot,
        &mut [0; 3],
        &mut |owner, slot| {
            let mut reading = [0f64; 15];
            let mut official_pos = [0usize; 15];
            for i in 0..15 {
                official_pos[i] = owner[i] * 5 + slot[i];
                reading[official_pos[i]] = stream[i];
            }
            for g in 0..3 {
                let sum: f64 = reading[g * 5..g * 5 + 4].iter().sum();
                if (sum - reading[g * 5 + 4]).abs() > 1e-9 {
                    return;
                }
            }
            let breaks = (1..15)
                .filter(|&i| official_pos[i] != official_pos[i - 1] + 1)
                .count();
            if breaks < best_breaks {
                best_breaks = breaks;
                best.clear();
            }
            if breaks == best_breaks && !best.contains(&reading) {
                best.push(reading);
            }
        },
    );
    best
}

fn assign(
    stream: &[f64],
    i: usize,
    owner: &mut [usize; 15],
    slot: &mut [usize; 15],
    filled: &mut [usize; 3],
    done: &mut dyn FnMut(&[usize; 15], &[usize; 15]),
) {
    if i == stream.len() {
        done(owner, slot);
        return;
    }
    for g in 0..3 {
        // Groups start in order: group g may open only after group g-1 has.
        if filled[g] == 0 && g > 0 && filled[g - 1] == 0 {
            break;
        }
        if filled[g] == 5 {
            continue;
        }
        // A group's total (its fifth number) must equal the sum of its first four.
        if filled[g] == 4 {
            let sum: f64 = (0..i).filter(|&j| owner[j] == g).map(|j| stream[j]).sum();
            if (sum - stream[i]).abs() > 1e-9 {
                continue;
            }
        }
        owner[i] = g;
        slot[i] = filled[g];
        filled[g] += 1;
        assign(stream, i + 1, owner, slot, filled, done);
        filled[g] -= 1;
        owner[i] = usize::MAX;
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

    #[test]
    fn recovers_table_four_blocks_moved_by_pdf_text() {
        // huaian-city-2024.txt prints 72 64 178 37, then 12 1 1 6, then 351, ...
        let stream = [
            72., 64., 178., 37., 12., 1., 1., 6., 351., 13., 4., 8., 1., 26., 20.,
        ];
        let r = recover_group_order(&stream);
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0],
            [72., 64., 178., 37., 351., 12., 1., 1., 6., 20., 13., 4., 8., 1., 26.]
        );
        // In printed order, the printed order wins with no block moved.
        let printed = [1., 0., 0., 0., 1., 0., 0., 0., 2., 2., 0., 0., 0., 0., 0.];
        assert_eq!(recover_group_order(&printed), vec![printed]);
        let _ = Unit::None;
    }
}
