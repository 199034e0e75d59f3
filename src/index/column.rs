//! One metric's values over every indexed report, stored as narrowly as the values seen so
//! far allow. PURE.
//!
//! Most cells of an annual report are small counts (0 in most rows), so a column starts as
//! one byte per report and widens to two or four when a larger value arrives; a value no
//! integer code can hold (a fraction, or a negative count outside a signed column) turns
//! the column into `f64`. The widest code of each width is the "absent" marker, so absent
//! cells cost no extra bitmap.

use super::codec::{take, SnapshotError};

/// A column on disk starts with its signedness (a byte), its width (a byte) and its length
/// (a u64).
pub const COLUMN_HEADER_BYTES: usize = 10;

/// One metric's column.
#[derive(Debug, Clone)]
pub struct Column {
    /// Signed counts are zig-zag coded, so small negative changes stay one byte.
    signed: bool,
    data: Data,
}

#[derive(Debug, Clone)]
enum Data {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    /// `NaN` marks an absent cell.
    F64(Vec<f64>),
}

/// Equal when they hold the same values at the same width (absent equals absent).
impl PartialEq for Column {
    fn eq(&self, other: &Column) -> bool {
        self.signed == other.signed
            && self.width() == other.width()
            && self.len() == other.len()
            && (0..self.len()).all(|i| self.get(i) == other.get(i))
    }
}

/// A fixed-width integer code with its absent marker.
trait Code: Copy {
    const ABSENT: Self;
    fn wide(self) -> u32;
}

macro_rules! code {
    ($t:ty) => {
        impl Code for $t {
            const ABSENT: $t = <$t>::MAX;
            fn wide(self) -> u32 {
                u32::from(self)
            }
        }
    };
}
code!(u8);
code!(u16);
code!(u32);

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(c: u32) -> f64 {
    let c = i64::from(c);
    ((c >> 1) ^ -(c & 1)) as f64
}

impl Column {
    pub fn new(signed: bool) -> Column {
        Column {
            signed,
            data: Data::U8(Vec::new()),
        }
    }

    pub fn len(&self) -> usize {
        match &self.data {
            Data::U8(v) => v.len(),
            Data::U16(v) => v.len(),
            Data::U32(v) => v.len(),
            Data::F64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes per value currently used (1, 2, 4 or 8).
    pub fn width(&self) -> usize {
        match &self.data {
            Data::U8(_) => 1,
            Data::U16(_) => 2,
            Data::U32(_) => 4,
            Data::F64(_) => 8,
        }
    }

    /// The integer code of `v`, when it has one below `u32::MAX`.
    fn code(&self, v: f64) -> Option<u32> {
        if v.fract() != 0.0 || !v.is_finite() {
            return None;
        }
        let c = if self.signed {
            if v.abs() >= f64::from(1u32 << 30) {
                return None;
            }
            zigzag(v as i64)
        } else {
            if v < 0.0 || v >= f64::from(u32::MAX) {
                return None;
            }
            v as u64
        };
        u32::try_from(c).ok().filter(|&c| c < u32::MAX)
    }

    fn decode(&self, c: u32) -> f64 {
        if self.signed {
            unzigzag(c)
        } else {
            f64::from(c)
        }
    }

    pub fn push(&mut self, value: Option<f64>) {
        let Some(v) = value else {
            match &mut self.data {
                Data::U8(d) => d.push(u8::ABSENT),
                Data::U16(d) => d.push(u16::ABSENT),
                Data::U32(d) => d.push(u32::ABSENT),
                Data::F64(d) => d.push(f64::NAN),
            }
            return;
        };
        match self.code(v) {
            Some(c) => {
                if c >= u32::from(u16::MAX) {
                    self.widen_to(4);
                } else if c >= u32::from(u8::MAX) {
                    self.widen_to(2);
                }
                match &mut self.data {
                    Data::U8(d) => d.push(c as u8),
                    Data::U16(d) => d.push(c as u16),
                    Data::U32(d) => d.push(c),
                    Data::F64(d) => d.push(v),
                }
            }
            None => {
                self.widen_to(8);
                if let Data::F64(d) = &mut self.data {
                    d.push(v);
                }
            }
        }
    }

    /// Re-codes every value at `width` bytes or more (never narrows).
    fn widen_to(&mut self, width: usize) {
        if self.width() >= width {
            return;
        }
        let values: Vec<Option<f64>> = (0..self.len()).map(|i| self.get(i)).collect();
        self.data = match width {
            2 => Data::U16(Vec::with_capacity(values.len())),
            4 => Data::U32(Vec::with_capacity(values.len())),
            _ => Data::F64(Vec::with_capacity(values.len())),
        };
        for v in values {
            // Every old value has a code at the new width.
            self.push(v);
        }
    }

    pub fn get(&self, i: usize) -> Option<f64> {
        fn at<C: Code>(col: &Column, d: &[C], i: usize) -> Option<f64> {
            let c = d[i];
            (c.wide() != C::ABSENT.wide()).then(|| col.decode(c.wide()))
        }
        match &self.data {
            Data::U8(d) => at(self, d, i),
            Data::U16(d) => at(self, d, i),
            Data::U32(d) => at(self, d, i),
            Data::F64(d) => Some(d[i]).filter(|v| !v.is_nan()),
        }
    }

    /// Calls `f(k, value)` for each `rows[k]`, in order: one pass with the width decided once.
    pub fn scan(&self, rows: &[u32], mut f: impl FnMut(usize, Option<f64>)) {
        fn each<C: Code>(
            col: &Column,
            d: &[C],
            rows: &[u32],
            f: &mut impl FnMut(usize, Option<f64>),
        ) {
            for (k, &r) in rows.iter().enumerate() {
                let c = d[r as usize];
                f(
                    k,
                    (c.wide() != C::ABSENT.wide()).then(|| col.decode(c.wide())),
                );
            }
        }
        match &self.data {
            Data::U8(d) => each(self, d, rows, &mut f),
            Data::U16(d) => each(self, d, rows, &mut f),
            Data::U32(d) => each(self, d, rows, &mut f),
            Data::F64(d) => {
                for (k, &r) in rows.iter().enumerate() {
                    let v = d[r as usize];
                    f(k, (!v.is_nan()).then_some(v));
                }
            }
        }
    }

    /// Appends the column to `out`: signedness, width, length, values little-endian.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(self.signed));
        out.push(self.width() as u8);
        out.extend_from_slice(&(self.len() as u64).to_le_bytes());
        match &self.data {
            Data::U8(d) => out.extend_from_slice(d),
            Data::U16(d) => d
                .iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
            Data::U32(d) => d
                .iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
            Data::F64(d) => d
                .iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
        }
    }

    /// Reads a column written by [`Column::encode`] from the front of `input`, advancing it.
    pub fn decode_from(input: &mut &[u8]) -> Result<Column, SnapshotError> {
        let head = take(input, COLUMN_HEADER_BYTES)?;
        let signed = match head[0] {
            0 => false,
            1 => true,
            b => {
                return Err(SnapshotError::Damaged(format!(
                    "column signedness byte {b}"
                )))
            }
        };
        let width = usize::from(head[1]);
        let len = u64::from_le_bytes(head[2..10].try_into().expect("8 bytes"));
        let len = usize::try_from(len)
            .map_err(|_| SnapshotError::Damaged("column length overflows".into()))?;
        let size = len
            .checked_mul(width)
            .ok_or_else(|| SnapshotError::Damaged("column size overflows".into()))?;
        let bytes = take(input, size)?;
        let data = match width {
            1 => Data::U8(bytes.to_vec()),
            2 => Data::U16(
                bytes
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect(),
            ),
            4 => Data::U32(
                bytes
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
                    .collect(),
            ),
            8 => Data::F64(
                bytes
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
            ),
            w => return Err(SnapshotError::Damaged(format!("column width {w}"))),
        };
        Ok(Column { signed, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widens_only_as_values_demand_and_keeps_every_value() {
        let cases: &[(bool, &[Option<f64>], usize)] = &[
            (false, &[Some(0.0), None, Some(254.0)], 1),
            (false, &[Some(1.0), Some(255.0), None], 2),
            (false, &[None, Some(70_000.0), Some(3.0)], 4),
            (false, &[Some(2.0), Some(1.5), None], 8),
            (false, &[Some(-1.0), Some(4.0)], 8),
            (true, &[Some(-1.0), Some(4.0), None, Some(-127.0)], 1),
            (true, &[Some(-200.0), Some(0.0)], 2),
            (false, &[Some(4_294_967_294.0), Some(1e12)], 8),
        ];
        for (signed, values, width) in cases {
            let mut c = Column::new(*signed);
            for v in *values {
                c.push(*v);
            }
            assert_eq!(c.width(), *width, "{values:?}");
            let back: Vec<Option<f64>> = (0..c.len()).map(|i| c.get(i)).collect();
            assert_eq!(&back, values);
            let mut scanned = Vec::new();
            c.scan(&[2.min(values.len() as u32 - 1), 0], |k, v| {
                scanned.push((k, v))
            });
            assert_eq!(scanned[1], (1, values[0]));
            let mut bytes = Vec::new();
            c.encode(&mut bytes);
            let mut input = bytes.as_slice();
            assert_eq!(Column::decode_from(&mut input).unwrap(), c);
            assert!(input.is_empty());
            assert!(Column::decode_from(&mut &bytes[..bytes.len() - 1]).is_err());
        }
    }
}
