//! Each row's compliance under the default profile, as the store sets it: the score, how
//! much of the profile it assessed, its narrative's SimHash, and the row of another body
//! whose report of the same year the store found alike (or that it searched and found
//! none). Kept apart from the rows: a ranking by score reads 9 bytes a row.

use rustc_hash::FxHashMap as HashMap;

use super::codec::{damaged, SnapshotError, Source};

/// What the store's search of the year's other bodies found for a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Other {
    /// Not searched (a report stored without a compliance basis).
    NotSearched,
    /// Searched; no other body's report of the year is alike.
    NoneFound,
    /// The row of another body's report of the same year whose narrative is alike.
    Found(u32),
}

const NOT_SEARCHED: u32 = u32::MAX;
const NONE_FOUND: u32 = u32::MAX - 1;

impl Other {
    fn code(self) -> u32 {
        match self {
            Other::NotSearched => NOT_SEARCHED,
            Other::NoneFound => NONE_FOUND,
            Other::Found(r) => r,
        }
    }

    fn of(code: u32) -> Other {
        match code {
            NOT_SEARCHED => Other::NotSearched,
            NONE_FOUND => Other::NoneFound,
            r => Other::Found(r),
        }
    }
}

/// A row's score under the default profile and the share of the profile it assessed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    pub score: f64,
    /// 0–1 ([`crate::compliance::Assessment::coverage`]).
    pub coverage: f64,
}

/// The per-row columns.
#[derive(Debug, Default)]
pub(super) struct Scores {
    /// NaN: no score.
    score: Vec<f64>,
    /// Percent of the profile assessed, to the nearest.
    coverage: Vec<u8>,
    /// 0: no SimHash (no narrative, or too short).
    simhash: Vec<u64>,
    other: Vec<u32>,
    /// Derived: per year, the rows with a SimHash and their hashes, in row order.
    by_year: HashMap<i32, YearHashes>,
}

/// One year's SimHashes and their rows, in row order, side by side (12 bytes a row, not
/// the 16 of a vector of pairs): a search reads the hashes in one pass.
#[derive(Debug, Clone, Default)]
struct YearHashes {
    hashes: Vec<u64>,
    rows: Vec<u32>,
}

impl YearHashes {
    fn push(&mut self, hash: u64, row: u32) {
        self.hashes.push(hash);
        self.rows.push(row);
    }

    fn heap_bytes(&self) -> usize {
        self.hashes.capacity() * 8 + self.rows.capacity() * 4
    }
}

impl Scores {
    /// A new row: unscored, not searched.
    pub(super) fn push(&mut self) {
        self.score.push(f64::NAN);
        self.coverage.push(0);
        self.simhash.push(0);
        self.other.push(NOT_SEARCHED);
    }

    pub(super) fn len(&self) -> usize {
        self.score.len()
    }

    /// The bytes its vectors hold on the heap (the map of years counted by its lists).
    pub(super) fn heap_bytes(&self) -> usize {
        self.score.capacity() * 8
            + self.coverage.capacity()
            + self.simhash.capacity() * 8
            + self.other.capacity() * 4
            + self
                .by_year
                .values()
                .map(YearHashes::heap_bytes)
                .sum::<usize>()
    }

    pub(super) fn set(&mut self, r: u32, score: Option<Score>) {
        let r = r as usize;
        match score {
            Some(s) => {
                self.score[r] = s.score;
                self.coverage[r] = (s.coverage.clamp(0.0, 1.0) * 100.0).round() as u8;
            }
            None => {
                self.score[r] = f64::NAN;
                self.coverage[r] = 0;
            }
        }
    }

    /// Row `r`'s score and the percent of the profile it assessed, as kept: what a ranking
    /// compares with its minimum coverage, without going through a fraction.
    pub(super) fn percent(&self, r: u32) -> Option<(f64, u8)> {
        let s = self.score[r as usize];
        (!s.is_nan()).then(|| (s, self.coverage[r as usize]))
    }

    pub(super) fn get(&self, r: u32) -> Option<Score> {
        let s = self.score[r as usize];
        (!s.is_nan()).then(|| Score {
            score: s,
            coverage: f64::from(self.coverage[r as usize]) / 100.0,
        })
    }

    /// Sets row `r`'s SimHash (a row's is set once, as it is inserted) in year `year`.
    pub(super) fn set_simhash(&mut self, r: u32, year: i32, hash: Option<u64>) {
        let hash = hash.unwrap_or(0);
        self.simhash[r as usize] = hash;
        if hash != 0 {
            self.by_year.entry(year).or_default().push(hash, r);
        }
    }

    /// The rows of `year` whose SimHash is within `near` bits of `hash`, in row order.
    pub(super) fn near(&self, year: i32, hash: u64, near: u32) -> impl Iterator<Item = u32> + '_ {
        self.by_year.get(&year).into_iter().flat_map(move |y| {
            y.hashes
                .iter()
                .zip(&y.rows)
                .filter(move |(&h, _)| (h ^ hash).count_ones() <= near)
                .map(|(_, &r)| r)
        })
    }

    pub(super) fn set_other(&mut self, r: u32, other: Other) {
        self.other[r as usize] = other.code();
    }

    pub(super) fn other(&self, r: u32) -> Other {
        Other::of(self.other[r as usize])
    }

    /// Appends the columns to a snapshot.
    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        for s in &self.score {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out.extend_from_slice(&self.coverage);
        for h in &self.simhash {
            out.extend_from_slice(&h.to_le_bytes());
        }
        for o in &self.other {
            out.extend_from_slice(&o.to_le_bytes());
        }
    }

    /// Reads `n` rows' columns written by [`Scores::encode`]; `years` are the rows' years.
    pub(super) fn read<R: std::io::Read>(
        src: &mut Source<R>,
        years: &[i32],
    ) -> Result<Scores, SnapshotError> {
        const AT_ONCE: usize = 1 << 12;
        let n = years.len();
        let mut scores = Scores::default();
        scores.score.reserve_exact(n);
        while scores.score.len() < n {
            let k = (n - scores.score.len()).min(AT_ONCE);
            for s in src.take(k * 8)?.chunks_exact(8) {
                let s = f64::from_le_bytes(s.try_into().expect("8 bytes"));
                if !(s.is_nan() || s.is_finite()) {
                    return Err(damaged("a score that is not a number"));
                }
                scores.score.push(s);
            }
        }
        scores.coverage.reserve_exact(n);
        while scores.coverage.len() < n {
            let k = (n - scores.coverage.len()).min(AT_ONCE);
            let part = src.take(k)?;
            if part.iter().any(|&c| c > 100) {
                return Err(damaged("a coverage over 100 %"));
            }
            scores.coverage.extend_from_slice(part);
        }
        scores.simhash.reserve_exact(n);
        while scores.simhash.len() < n {
            let k = (n - scores.simhash.len()).min(AT_ONCE);
            for h in src.take(k * 8)?.chunks_exact(8) {
                scores
                    .simhash
                    .push(u64::from_le_bytes(h.try_into().expect("8 bytes")));
            }
        }
        scores.other.reserve_exact(n);
        while scores.other.len() < n {
            let k = (n - scores.other.len()).min(AT_ONCE);
            for o in src.take(k * 4)?.chunks_exact(4) {
                let o = u32::from_le_bytes(o.try_into().expect("4 bytes"));
                if o < NONE_FOUND && o as usize >= n {
                    return Err(damaged("a row alike names a row past the end"));
                }
                scores.other.push(o);
            }
        }
        for (r, (&hash, &year)) in scores.simhash.iter().zip(years).enumerate() {
            if hash != 0 {
                scores.by_year.entry(year).or_default().push(hash, r as u32);
            }
        }
        Ok(scores)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The rows near a hash are those a pass over every row finds, in row order.
        #[test]
        fn near_rows_are_those_a_pass_over_every_row_finds(
            rows in proptest::collection::vec(
                (2019i32..2022, proptest::prop_oneof![
                    1 => proptest::prelude::Just(0u64),
                    2 => proptest::prelude::Just(0xF0F0_F0F0_F0F0_F0F0u64),
                    4 => proptest::prelude::any::<u64>(),
                ]),
                0..200,
            ),
            probe in proptest::prelude::any::<u64>(),
            near in 0u32..40,
        ) {
            let mut scores = Scores::default();
            for (r, &(year, hash)) in rows.iter().enumerate() {
                scores.push();
                scores.set_simhash(r as u32, year, (hash != 0).then_some(hash));
            }
            for probe in [probe, 0xF0F0_F0F0_F0F0_F0F0, 0xF0F0_F0F0_F0F0_F0F1] {
                for year in 2019..2022 {
                    let want: Vec<u32> = rows
                        .iter()
                        .enumerate()
                        .filter(|(_, &(y, h))| y == year && h != 0 && (h ^ probe).count_ones() <= near)
                        .map(|(r, _)| r as u32)
                        .collect();
                    let got: Vec<u32> = scores.near(year, probe, near).collect();
                    proptest::prop_assert_eq!(got, want);
                }
            }
        }
    }
}
