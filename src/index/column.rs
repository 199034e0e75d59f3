//! One metric's values over every indexed report, bit-packed in blocks of 64 rows. PURE.
//!
//! Most cells of an annual report are small counts, 0 in most rows, and a row prints only
//! the cells of its template. So a column keeps, per block of [`BLOCK`] rows, a presence
//! mask (which rows print the cell) and the codes of the rows that do, packed at the width
//! of the block's largest code: a block whose printed cells are all 0 costs its mask and
//! nothing else. Signed counts are zig-zag coded so small negative changes stay narrow. A
//! value no integer code holds (a fraction, a count past `u32::MAX`, a signed one past 2^30) turns the column
//! into plain `f64`s (`NaN` absent), as does a column whose codes outgrow a `u32` bit offset.
//!
//! Adding a column is adding a catalogue metric: nothing here knows which metric it holds.

use std::io::Read;

use super::codec::{damaged, put_u32, put_u64, SnapshotError, Source};

/// Rows per block: one `u64` presence mask.
pub const BLOCK: usize = 64;

/// A column on disk starts with its signedness (a byte), its kind (a byte) and its length
/// (a u64).
pub const COLUMN_HEADER_BYTES: usize = 10;

/// The kind byte of a bit-packed column on disk, and of one held as `f64`s.
const PACKED: u8 = 0;
const FLOATS: u8 = 8;

/// One metric's column.
#[derive(Debug, Clone)]
pub struct Column {
    /// Signed counts are zig-zag coded.
    signed: bool,
    len: usize,
    data: Data,
}

#[derive(Debug, Clone)]
enum Data {
    Packed(Packed),
    /// `NaN` marks an absent cell.
    Floats(Vec<f64>),
}

/// The codes of a column, block by block. Every block but the last (the open one, whose
/// codes wait in `open` until its 64 rows are in) is packed into `bits`, one of two ways:
/// - **flat**: each printed row's code at the block's width;
/// - **zeros apart** (the width byte's [`ZEROS_APART`] bit): a bit per printed row, set
///   when its code is not 0, then those codes less one at the block's width. Chosen when
///   shorter, as it is when most printed cells are 0 and a few are not.
#[derive(Debug, Clone, Default)]
struct Packed {
    /// Per block: bit `i` is set when the block's row `i` prints the cell.
    present: Vec<u64>,
    /// Per [`GROUP`] packed blocks: the bit offset in `bits` of the first one's codes.
    base: Vec<u32>,
    /// Per packed block: the bit offset of its codes from its group's base.
    offset: Vec<u16>,
    /// Per packed block: the width of each of its codes in bits (0 to 32), with
    /// [`ZEROS_APART`] set when its zeros are kept apart.
    width: Vec<u8>,
    /// The packed codes, little-endian within and across words.
    bits: Vec<u64>,
    /// The bits of `bits` in use.
    used: u64,
    /// The codes of the open block's printed rows, in row order.
    open: Vec<u32>,
}

/// Packed blocks per base offset. A block is at most 64 + 64 × 32 bits, so a group's
/// offsets fit 16 bits.
const GROUP: usize = 16;

/// The flag of a block's width byte whose zeros are kept apart.
const ZEROS_APART: u8 = 0x80;

/// The longest a packed block can be, in bits: a bit and a 32-bit code per row.
const MAX_BLOCK_BITS: u64 = (BLOCK as u64) * 33;

/// How a packed block reads: where its codes start, their width, and whether its zeros
/// are apart.
#[derive(Debug, Clone, Copy)]
struct Layout {
    start: u64,
    width: u8,
    zeros_apart: bool,
}

impl Layout {
    /// The block's length in bits, given its printed rows and, for one with zeros apart,
    /// its codes that are not 0.
    fn bits(self, printed: u32, nonzero: u32) -> u64 {
        if self.zeros_apart {
            u64::from(printed) + u64::from(nonzero) * u64::from(self.width)
        } else {
            u64::from(printed) * u64::from(self.width)
        }
    }
}

/// Equal when they hold the same values (absent equals absent) in the same representation.
impl PartialEq for Column {
    fn eq(&self, other: &Column) -> bool {
        self.signed == other.signed
            && self.len == other.len
            && self.is_packed() == other.is_packed()
            && (0..self.len).all(|i| self.get(i) == other.get(i))
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(c: u32) -> f64 {
    let c = i64::from(c);
    ((c >> 1) ^ -(c & 1)) as f64
}

/// The bits a code needs (0 for 0).
fn bits_of(c: u32) -> u8 {
    (32 - c.leading_zeros()) as u8
}

impl Packed {
    /// `n` bits (at most 64) at bit offset `at`.
    fn read_bits(&self, at: u64, n: u32) -> u64 {
        if n == 0 {
            return 0;
        }
        let word = (at / 64) as usize;
        let shift = at % 64;
        let mut v = self.bits[word] >> shift;
        if shift + u64::from(n) > 64 {
            v |= self.bits[word + 1] << (64 - shift);
        }
        if n == 64 {
            v
        } else {
            v & ((1u64 << n) - 1)
        }
    }

    /// The `w`-bit code at bit offset `at`.
    fn read(&self, at: u64, w: u8) -> u32 {
        self.read_bits(at, u32::from(w)) as u32
    }

    /// Appends the low `n` bits (at most 64) of `v`.
    fn append(&mut self, v: u64, n: u32) {
        if n == 0 {
            return;
        }
        let word = (self.used / 64) as usize;
        let shift = self.used % 64;
        if word >= self.bits.len() {
            self.bits.push(0);
        }
        self.bits[word] |= v << shift;
        if shift + u64::from(n) > 64 {
            self.bits.push(v >> (64 - shift));
        }
        self.used += u64::from(n);
    }

    /// How packed block `b` reads.
    fn layout(&self, b: usize) -> Layout {
        let w = self.width[b];
        Layout {
            start: u64::from(self.base[b / GROUP]) + u64::from(self.offset[b]),
            width: w & !ZEROS_APART,
            zeros_apart: w & ZEROS_APART != 0,
        }
    }

    /// Records that the next packed block starts at bit `at` (at or past the one before),
    /// or `None` when it lies past its group's 16-bit offsets.
    fn place(&mut self, at: u64) -> Option<()> {
        let b = self.offset.len();
        if b % GROUP == 0 {
            self.base.push(u32::try_from(at).ok()?);
        }
        let from = u64::from(self.base[b / GROUP]);
        self.offset.push(u16::try_from(at.checked_sub(from)?).ok()?);
        Some(())
    }

    /// Packs the open block's codes, flat or with their zeros apart, whichever is shorter.
    fn close_block(&mut self) {
        let flat = self.open.iter().copied().map(bits_of).max().unwrap_or(0);
        let nonzero = self.open.iter().filter(|&&c| c != 0).count() as u64;
        let less_one = self
            .open
            .iter()
            .filter(|&&c| c != 0)
            .map(|&c| bits_of(c - 1))
            .max()
            .unwrap_or(0);
        let printed = self.open.len() as u64;
        let apart = printed + nonzero * u64::from(less_one) < printed * u64::from(flat);
        self.place(self.used)
            .expect("a group of blocks spans less than 16 bits of offset");
        let open = std::mem::take(&mut self.open);
        if apart {
            self.width.push(less_one | ZEROS_APART);
            let flags = open
                .iter()
                .enumerate()
                .fold(0u64, |m, (k, &c)| m | u64::from(c != 0) << k);
            self.append(flags, printed as u32);
            for &c in open.iter().filter(|&&c| c != 0) {
                self.append(u64::from(c - 1), u32::from(less_one));
            }
        } else {
            self.width.push(flat);
            for &c in &open {
                self.append(u64::from(c), u32::from(flat));
            }
        }
        self.open = open;
        self.open.clear();
    }

    /// The codes of block `b`'s printed rows, into `out` (in row order); how many.
    fn unpack(&self, b: usize, out: &mut [u32; BLOCK]) -> usize {
        let n = self.present[b].count_ones() as usize;
        if b == self.offset.len() {
            out[..n].copy_from_slice(&self.open);
            return n;
        }
        let Layout {
            start,
            width,
            zeros_apart,
        } = self.layout(b);
        let mut at = start;
        if zeros_apart {
            let flags = self.read_bits(at, n as u32);
            at += n as u64;
            out[..n].fill(0);
            for k in Ones(flags) {
                out[k] = self.read(at, width) + 1;
                at += u64::from(width);
            }
        } else {
            for slot in &mut out[..n] {
                *slot = self.read(at, width);
                at += u64::from(width);
            }
        }
        n
    }

    /// The code of packed block `b`'s printed row of rank `rank`.
    fn code_at(&self, b: usize, rank: u32) -> u32 {
        let Layout {
            start,
            width,
            zeros_apart,
        } = self.layout(b);
        if !zeros_apart {
            return self.read(start + u64::from(rank) * u64::from(width), width);
        }
        let flags = self.read_bits(start, rank + 1);
        if flags >> rank == 0 {
            return 0;
        }
        let printed = u64::from(self.present[b].count_ones());
        let before = u64::from((flags & below(rank as usize)).count_ones());
        self.read(start + printed + before * u64::from(width), width) + 1
    }

    /// The code of row `i`, when it prints the cell.
    fn code(&self, i: usize) -> Option<u32> {
        let (b, bit) = (i / BLOCK, i % BLOCK);
        let mask = self.present[b];
        if mask >> bit & 1 == 0 {
            return None;
        }
        let rank = (mask & below(bit)).count_ones();
        if b == self.offset.len() {
            return Some(self.open[rank as usize]);
        }
        Some(self.code_at(b, rank))
    }

    fn heap_bytes(&self) -> usize {
        self.present.capacity() * 8
            + self.base.capacity() * 4
            + self.offset.capacity() * 2
            + self.width.capacity()
            + self.bits.capacity() * 8
            + self.open.capacity() * 4
    }
}

/// The set bits of a mask, lowest first, as bit positions.
#[derive(Debug, Clone, Copy)]
pub struct Ones(pub u64);

impl Iterator for Ones {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let bit = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        Some(bit)
    }
}

/// The mask of the bits below `bit`.
#[inline]
pub fn below(bit: usize) -> u64 {
    (1u64 << bit) - 1
}

/// Some rows of one block and their values (see [`Column::read_block`]).
#[derive(Debug, Clone)]
pub struct BlockValues {
    /// Bit `i`: the block's row `i` was asked for and prints the cell.
    pub present: u64,
    /// The value of each row `present` names, at its bit; the others are stale.
    pub values: [f64; BLOCK],
}

impl Default for BlockValues {
    fn default() -> BlockValues {
        BlockValues {
            present: 0,
            values: [0.0; BLOCK],
        }
    }
}

/// See [`Column::cursor`].
pub struct Cursor<'a> {
    column: &'a Column,
    /// The block whose codes `codes` holds.
    block: usize,
    codes: [u32; BLOCK],
}

impl Cursor<'_> {
    /// Row `r`'s value; fastest when rows come in ascending order.
    #[inline]
    pub fn at(&mut self, r: usize) -> Option<f64> {
        let column = self.column;
        match &column.data {
            Data::Packed(p) => {
                let (b, bit) = (r / BLOCK, r % BLOCK);
                let mask = p.present[b];
                if mask >> bit & 1 == 0 {
                    return None;
                }
                if b != self.block {
                    p.unpack(b, &mut self.codes);
                    self.block = b;
                }
                let rank = (mask & below(bit)).count_ones() as usize;
                Some(column.decode(self.codes[rank]))
            }
            Data::Floats(d) => {
                let v = d[r];
                (!v.is_nan()).then_some(v)
            }
        }
    }
}

impl Column {
    pub fn new(signed: bool) -> Column {
        Column {
            signed,
            len: 0,
            data: Data::Packed(Packed::default()),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True while the column is bit-packed (not yet turned into `f64`s).
    pub fn is_packed(&self) -> bool {
        matches!(self.data, Data::Packed(_))
    }

    /// The bytes its values hold on the heap.
    pub fn heap_bytes(&self) -> usize {
        match &self.data {
            Data::Packed(p) => p.heap_bytes(),
            Data::Floats(v) => v.capacity() * 8,
        }
    }

    /// The integer code of `v`, when it has one.
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
            if v < 0.0 || v > f64::from(u32::MAX) {
                return None;
            }
            v as u64
        };
        u32::try_from(c).ok()
    }

    fn decode(&self, c: u32) -> f64 {
        if self.signed {
            unzigzag(c)
        } else {
            f64::from(c)
        }
    }

    pub fn push(&mut self, value: Option<f64>) {
        let code = value.map(|v| self.code(v));
        match &mut self.data {
            Data::Floats(d) => d.push(value.unwrap_or(f64::NAN)),
            // Room for another block of the widest codes under a u32 bit offset.
            Data::Packed(p)
                if code != Some(None) && p.used + MAX_BLOCK_BITS < u64::from(u32::MAX) =>
            {
                let bit = self.len % BLOCK;
                if bit == 0 {
                    p.present.push(0);
                }
                if let Some(Some(c)) = code {
                    *p.present.last_mut().expect("a block") |= 1 << bit;
                    p.open.push(c);
                }
                if bit == BLOCK - 1 {
                    p.close_block();
                }
            }
            Data::Packed(_) => {
                self.turn_to_floats();
                return self.push(value);
            }
        }
        self.len += 1;
    }

    /// Turns the column into `f64`s.
    fn turn_to_floats(&mut self) {
        let values: Vec<f64> = (0..self.len)
            .map(|i| self.get(i).unwrap_or(f64::NAN))
            .collect();
        self.data = Data::Floats(values);
    }

    pub fn get(&self, i: usize) -> Option<f64> {
        match &self.data {
            Data::Packed(p) => p.code(i).map(|c| self.decode(c)),
            Data::Floats(d) => Some(d[i]).filter(|v| !v.is_nan()),
        }
    }

    /// Calls `f(k, value)` for each `rows[k]`, in order. Rows in ascending order (what
    /// selections give) unpack each block once.
    pub fn scan(&self, rows: &[u32], mut f: impl FnMut(usize, Option<f64>)) {
        let mut cursor = self.cursor();
        for (k, &r) in rows.iter().enumerate() {
            f(k, cursor.at(r as usize));
        }
    }

    /// A reader of this column's values at rows asked in ascending order, which unpacks
    /// each block once: several columns read row by row side by side.
    pub fn cursor(&self) -> Cursor<'_> {
        Cursor {
            column: self,
            block: usize::MAX,
            codes: [0; BLOCK],
        }
    }

    /// The values of block `b` at the rows of `want` (bit `i`: the block's row `i`) that
    /// print the cell, into `out`. Each value is read where it lies: a block of which a
    /// query wants a few rows costs those few.
    #[inline]
    pub fn read_block(&self, b: usize, want: u64, out: &mut BlockValues) {
        match &self.data {
            Data::Packed(p) => {
                let mask = p.present.get(b).copied().unwrap_or(0);
                out.present = mask & want;
                if out.present == 0 {
                    return;
                }
                if b == p.offset.len() {
                    for bit in Ones(out.present) {
                        let rank = (mask & below(bit)).count_ones() as usize;
                        out.values[bit] = self.decode(p.open[rank]);
                    }
                    return;
                }
                let Layout {
                    start,
                    width: w,
                    zeros_apart,
                } = p.layout(b);
                if w == 0 && !zeros_apart {
                    for bit in Ones(out.present) {
                        out.values[bit] = 0.0;
                    }
                } else if out.present.count_ones() * 4 >= mask.count_ones() {
                    // Most printed rows wanted: the codes read in a row.
                    let mut codes = [0u32; BLOCK];
                    p.unpack(b, &mut codes);
                    for (k, bit) in Ones(mask).enumerate() {
                        out.values[bit] = self.decode(codes[k]);
                    }
                } else if zeros_apart {
                    for bit in Ones(out.present) {
                        let rank = (mask & below(bit)).count_ones();
                        out.values[bit] = self.decode(p.code_at(b, rank));
                    }
                } else {
                    for bit in Ones(out.present) {
                        let rank = u64::from((mask & below(bit)).count_ones());
                        out.values[bit] = self.decode(p.read(start + rank * u64::from(w), w));
                    }
                }
            }
            Data::Floats(d) => {
                let base = b * BLOCK;
                let mut present = 0;
                for bit in Ones(want) {
                    if let Some(&v) = d.get(base + bit).filter(|v| !v.is_nan()) {
                        present |= 1 << bit;
                        out.values[bit] = v;
                    }
                }
                out.present = present;
            }
        }
    }

    /// Every printed value with its row, in row order: one pass over the blocks, each
    /// unpacked once, absent rows skipped by their bits (a scan of every row asks each).
    pub fn for_each_present(&self, mut f: impl FnMut(usize, f64)) {
        match &self.data {
            Data::Packed(p) => {
                let mut codes = [0u32; BLOCK];
                for (b, &mask) in p.present.iter().enumerate() {
                    if mask == 0 {
                        continue;
                    }
                    p.unpack(b, &mut codes);
                    for (k, bit) in Ones(mask).enumerate() {
                        f(b * BLOCK + bit, self.decode(codes[k]));
                    }
                }
            }
            Data::Floats(d) => {
                for (r, &v) in d.iter().enumerate() {
                    if !v.is_nan() {
                        f(r, v);
                    }
                }
            }
        }
    }

    /// Appends the column to `out`: signedness, kind and length, then for a packed column
    /// the masks, the packed blocks' bit offsets (u32) and width bytes, the packed words and the open
    /// block's codes, each array after its length; for `f64`s, the values.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(self.signed));
        out.push(if self.is_packed() { PACKED } else { FLOATS });
        put_u64(out, self.len as u64);
        match &self.data {
            Data::Packed(p) => {
                p.present.iter().for_each(|&m| put_u64(out, m));
                (0..p.offset.len()).for_each(|b| put_u32(out, p.layout(b).start as u32));
                out.extend_from_slice(&p.width);
                put_u64(out, p.used);
                put_u64(out, p.bits.len() as u64);
                p.bits.iter().for_each(|&w| put_u64(out, w));
                p.open.iter().for_each(|&c| put_u32(out, c));
            }
            Data::Floats(d) => d
                .iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
        }
    }

    /// Reads a column written by [`Column::encode`] from `src`. Every offset is checked
    /// against the masks and widths, so a damaged column is an error, never a panic.
    pub(super) fn read_from<R: Read>(src: &mut Source<R>) -> Result<Column, SnapshotError> {
        let (signed, kind, len) = header(src)?;
        let data = match kind {
            PACKED => {
                let blocks = len.div_ceil(BLOCK);
                let closed = len / BLOCK;
                let mut p = Packed {
                    present: words(src, blocks)?,
                    ..Packed::default()
                };
                let starts = u32s(src, closed)?;
                p.width = src.take(closed)?.to_vec();
                p.used = src.u64()?;
                let n = src.len(8)?;
                p.bits = words(src, n)?;
                if blocks > closed {
                    p.open = u32s(src, p.present[closed].count_ones() as usize)?;
                }
                check(&mut p, &starts, len)?;
                Data::Packed(p)
            }
            FLOATS => Data::Floats(
                src.take(len.checked_mul(8).ok_or_else(|| damaged("column size"))?)?
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
            ),
            k => return Err(damaged(format!("column kind {k}"))),
        };
        Ok(Column { signed, len, data })
    }
}

/// A column's signedness, kind (or width) and length.
fn header<R: Read>(src: &mut Source<R>) -> Result<(bool, u8, usize), SnapshotError> {
    let head = src.take(COLUMN_HEADER_BYTES)?;
    let signed = match head[0] {
        0 => false,
        1 => true,
        b => return Err(damaged(format!("column signedness byte {b}"))),
    };
    let kind = head[1];
    let len = u64::from_le_bytes(head[2..10].try_into().expect("8 bytes"));
    let len = usize::try_from(len).map_err(|_| damaged("column length overflows"))?;
    Ok((signed, kind, len))
}

/// `n` little-endian u64s.
fn words<R: Read>(src: &mut Source<R>, n: usize) -> Result<Vec<u64>, SnapshotError> {
    let bytes = src.take(n.checked_mul(8).ok_or_else(|| damaged("size"))?)?;
    Ok(bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect())
}

/// `n` little-endian u32s.
fn u32s<R: Read>(src: &mut Source<R>, n: usize) -> Result<Vec<u32>, SnapshotError> {
    let bytes = src.take(n.checked_mul(4).ok_or_else(|| damaged("size"))?)?;
    Ok(bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect())
}

/// Checks that a decoded column's blocks fit together, and places them: each packed block
/// starts where the one before ends, widths are at most 32 (and no flag but
/// [`ZEROS_APART`] is set), the last bit is inside the words, no row past the length is
/// marked, and the open block holds a code per marked row.
fn check(p: &mut Packed, starts: &[u32], len: usize) -> Result<(), SnapshotError> {
    let words_bits = p.bits.len() as u64 * 64;
    let mut at = 0u64;
    for (b, &start) in starts.iter().enumerate() {
        let w = p.width[b];
        if w & !ZEROS_APART > 32 || u64::from(start) != at {
            return Err(damaged(format!(
                "column block {b} does not follow the one before"
            )));
        }
        let printed = p.present[b].count_ones();
        let nonzero = if w & ZEROS_APART != 0 {
            if u64::from(start) + u64::from(printed) > words_bits {
                return Err(damaged("column codes do not fill their words"));
            }
            p.read_bits(u64::from(start), printed).count_ones()
        } else {
            0
        };
        p.place(at)
            .ok_or_else(|| damaged(format!("column block {b} lies past its group")))?;
        at += p.layout(b).bits(printed, nonzero);
    }
    if at != p.used || p.used.div_ceil(64) != p.bits.len() as u64 || p.used >= u64::from(u32::MAX) {
        return Err(damaged("column codes do not fill their words"));
    }
    if len % BLOCK != 0 {
        let last = p.present[len / BLOCK];
        if last >> (len % BLOCK) != 0 || last.count_ones() as usize != p.open.len() {
            return Err(damaged("column's open block does not match its mask"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::Strategy as _;

    /// A column read back from its bytes (followed by a checksum's room, unchecked).
    fn read(bytes: &[u8]) -> Result<(Column, usize), SnapshotError> {
        let mut with_crc = bytes.to_vec();
        with_crc.extend_from_slice(&[0; 4]);
        let mut src = Source::new(with_crc.as_slice(), with_crc.len() as u64)?;
        let c = Column::read_from(&mut src)?;
        Ok((c, src.left()))
    }

    fn round_trip(c: &Column) {
        let mut bytes = Vec::new();
        c.encode(&mut bytes);
        assert_eq!(read(&bytes).unwrap(), (c.clone(), 0));
        assert!(read(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn packs_only_as_values_demand_and_keeps_every_value() {
        let cases: &[(bool, &[Option<f64>], bool)] = &[
            (false, &[Some(0.0), None, Some(254.0)], true),
            (false, &[Some(1.0), Some(255.0), None], true),
            (false, &[None, Some(70_000.0), Some(3.0)], true),
            (false, &[Some(2.0), Some(1.5), None], false),
            (false, &[Some(-1.0), Some(4.0)], false),
            (true, &[Some(-1.0), Some(4.0), None, Some(-127.0)], true),
            (true, &[Some(-200.0), Some(0.0)], true),
            (false, &[Some(4_294_967_295.0), Some(1e12)], false),
        ];
        for (signed, values, packed) in cases {
            let mut c = Column::new(*signed);
            for v in *values {
                c.push(*v);
            }
            assert_eq!(c.is_packed(), *packed, "{values:?}");
            let back: Vec<Option<f64>> = (0..c.len()).map(|i| c.get(i)).collect();
            assert_eq!(&back, values);
            let mut scanned = Vec::new();
            c.scan(&[2.min(values.len() as u32 - 1), 0], |k, v| {
                scanned.push((k, v))
            });
            assert_eq!(scanned[1], (1, values[0]));
            round_trip(&c);
        }
    }

    #[test]
    fn a_block_of_zeros_costs_its_mask_alone() {
        let mut c = Column::new(false);
        for i in 0..BLOCK * 4 {
            c.push((i % 3 != 0).then_some(0.0));
        }
        let Data::Packed(p) = &c.data else {
            panic!("packed")
        };
        assert_eq!(p.used, 0);
        assert!(p.bits.is_empty());
        round_trip(&c);
    }

    /// The packed block `b` of a column, as (its width byte, its length in bits).
    fn block(c: &Column, b: usize) -> (u8, u64) {
        let Data::Packed(p) = &c.data else {
            panic!("packed")
        };
        let end = if b + 1 < p.offset.len() {
            p.layout(b + 1).start
        } else {
            p.used
        };
        (p.width[b], end - p.layout(b).start)
    }

    #[test]
    fn a_block_of_zeros_and_a_few_counts_keeps_its_zeros_apart() {
        let mut values = vec![Some(0.0); BLOCK];
        values[3] = Some(1000.0);
        values[40] = Some(7.0);
        values[41] = None;
        let mut c = Column::new(false);
        for v in values.iter().chain(&values) {
            c.push(*v);
        }
        // 63 printed rows: flat, 63 codes of 10 bits; apart, 63 flags and two codes of
        // 10 bits (999 and 6).
        assert_eq!(block(&c, 0), (10 | ZEROS_APART, 63 + 2 * 10));
        for (i, v) in values.iter().chain(&values).enumerate() {
            assert_eq!(c.get(i), *v, "row {i}");
        }
        round_trip(&c);
        // Counts all of a size stay flat.
        let mut flat = Column::new(false);
        for i in 0..BLOCK {
            flat.push(Some(f64::from(i as u32 % 4 + 4)));
        }
        assert_eq!(block(&flat, 0), (3, 64 * 3));
        round_trip(&flat);
    }

    #[test]
    fn a_damaged_block_of_zeros_apart_is_an_error() {
        let mut c = Column::new(false);
        for i in 0..BLOCK * 2 {
            c.push(Some(if i % 20 == 0 { 300.0 } else { 0.0 }));
        }
        assert_eq!(block(&c, 0).0, 9 | ZEROS_APART);
        let mut bytes = Vec::new();
        c.encode(&mut bytes);
        // The width bytes follow the header, two masks and two starts.
        let width_at = COLUMN_HEADER_BYTES + 2 * 8 + 2 * 4;
        assert_eq!(bytes[width_at], 9 | ZEROS_APART);
        for bad in [
            33 | ZEROS_APART,
            0x40 | 9,
            10 | ZEROS_APART,
            8 | ZEROS_APART,
            9,
        ] {
            let mut damaged = bytes.clone();
            damaged[width_at] = bad;
            assert!(read(&damaged).is_err(), "width byte {bad:#x}");
        }
        // A flag cleared: the block is shorter than the start of the next says.
        let mut damaged = bytes.clone();
        let bits_at = width_at + 2 + 16;
        damaged[bits_at] &= !1;
        assert!(read(&damaged).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Packed columns across many blocks (no value that turns them into floats).
        #[test]
        fn packed_blocks_hold_what_a_vector_holds(
            values in proptest::collection::vec(
                proptest::option::of(proptest::prop_oneof![
                    4 => (0u32..4).prop_map(f64::from),
                    2 => (0u32..70_000).prop_map(f64::from),
                    1 => (0u32..u32::MAX).prop_map(f64::from),
                ]),
                0..700,
            ),
            // Share of the rows forced to 0 (most blocks of real columns are mostly 0).
            zeros in 0u32..4,
        ) {
            let values: Vec<Option<f64>> = values
                .iter()
                .enumerate()
                .map(|(i, v)| if (i as u32 * 7 + 3) % 4 < zeros { v.map(|_| 0.0) } else { *v })
                .collect();
            let mut c = Column::new(false);
            for v in &values {
                c.push(*v);
            }
            proptest::prop_assert!(c.is_packed());
            for (i, w) in values.iter().enumerate() {
                proptest::prop_assert_eq!(c.get(i), *w);
            }
            let rows: Vec<u32> = (0..values.len() as u32).collect();
            let mut got = Vec::new();
            c.scan(&rows, |_, v| got.push(v));
            proptest::prop_assert_eq!(&got, &values);
            // Whole blocks, every row and every third row (read in a row, and one by one).
            let mut out = BlockValues::default();
            for want in [u64::MAX, 0x9249_2492_4924_9249] {
                for b in 0..values.len().div_ceil(BLOCK) {
                    c.read_block(b, want, &mut out);
                    for bit in Ones(want) {
                        let w = values.get(b * BLOCK + bit).copied().flatten();
                        proptest::prop_assert_eq!(out.present >> bit & 1 == 1, w.is_some());
                        if let Some(w) = w {
                            proptest::prop_assert_eq!(out.values[bit], w);
                        }
                    }
                }
            }
            let mut present = Vec::new();
            c.for_each_present(|r, v| present.push((r, v)));
            let want: Vec<(usize, f64)> = values.iter().enumerate().filter_map(|(r, v)| v.map(|v| (r, v))).collect();
            proptest::prop_assert_eq!(present, want);
            let mut bytes = Vec::new();
            c.encode(&mut bytes);
            proptest::prop_assert_eq!(read(&bytes).unwrap(), (c, 0));
        }

        /// Against the slow way: a plain vector of the values pushed.
        #[test]
        fn holds_what_a_vector_holds(
            signed in proptest::bool::ANY,
            values in proptest::collection::vec(
                proptest::option::of(proptest::prop_oneof![
                    8 => (0u32..4).prop_map(f64::from),
                    4 => (0u32..70_000).prop_map(f64::from),
                    1 => (-300i32..300).prop_map(f64::from),
                    1 => proptest::prelude::Just(4_294_967_295.0),
                    1 => proptest::prelude::Just(2.5),
                ]),
                0..400,
            ),
            picks in proptest::collection::vec(0usize..400, 0..50),
        ) {
            let mut c = Column::new(signed);
            let mut want = Vec::new();
            for v in &values {
                c.push(*v);
                want.push(*v);
            }
            proptest::prop_assert_eq!(c.len(), want.len());
            for (i, w) in want.iter().enumerate() {
                proptest::prop_assert_eq!(c.get(i), *w);
            }
            let mut rows: Vec<u32> = picks.iter().filter(|&&p| p < want.len()).map(|&p| p as u32).collect();
            let mut got = Vec::new();
            c.scan(&rows, |k, v| got.push((k, v)));
            proptest::prop_assert_eq!(got, rows.iter().enumerate().map(|(k, &r)| (k, want[r as usize])).collect::<Vec<_>>());
            rows.sort_unstable();
            let mut got = Vec::new();
            c.scan(&rows, |_, v| got.push(v));
            proptest::prop_assert_eq!(got, rows.iter().map(|&r| want[r as usize]).collect::<Vec<_>>());
            // Block by block, at the picked rows (and past the last block: nothing).
            let mut out = BlockValues::default();
            for b in 0..=want.len() / BLOCK + 1 {
                let asked = rows
                    .iter()
                    .filter(|&&r| r as usize / BLOCK == b)
                    .fold(0u64, |m, &r| m | 1 << (r as usize % BLOCK));
                c.read_block(b, asked, &mut out);
                let mut expected = 0u64;
                for bit in Ones(asked) {
                    if let Some(v) = want[b * BLOCK + bit] {
                        expected |= 1 << bit;
                        proptest::prop_assert_eq!(out.values[bit], v);
                    }
                }
                proptest::prop_assert_eq!(out.present, expected);
            }
            let mut bytes = Vec::new();
            c.encode(&mut bytes);
            proptest::prop_assert_eq!(read(&bytes).unwrap(), (c, 0));
        }
    }
}
