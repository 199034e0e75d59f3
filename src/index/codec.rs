//! The bytes of a snapshot: little-endian numbers, checked counts, and why reading failed.
//! Shared by the snapshot and its columns.

/// The snapshot version this build writes (2: rows name the report their cross-year
/// findings compare with; 3: rows hold their division code, publication date and whether
/// they are a rendition; 5: columns bit-packed in blocks of 64 rows, and each row's
/// compliance score; 6: each row's coverage, narrative SimHash and like report of another
/// body beside its score; 7: a body and year's reports are those of one
/// [`crate::place::body`], so 淮安市洪泽区人民政府 and 洪泽区人民政府 count once; 8: the
/// per-year totals after the scores; 9: a column's block may keep its zeros apart from its
/// other codes; 10: each row holds its body). A version-9 snapshot is read as it is, its
/// bodies made again from each row's names ([`WITHOUT_BODIES`]); so is a version-8 one
/// (its blocks are all flat), and a version-7 one, its totals summed again from its
/// columns ([`TOTALS_SUMMED`]). An
/// older one is not read: the store rebuilds the index from its records, which hold what
/// the new columns are made of and which report of a body and year is counted.
pub(super) const VERSION: u32 = 10;

/// The first version whose rows hold their body.
pub(super) const BODIES: u32 = 10;

/// The version before [`BODIES`], read as it is: each row's body is made again from its
/// agency and region names ([`crate::place::body`], about a fifth of a load at 1M rows).
pub(super) const WITHOUT_BODIES: u32 = 9;

/// The version before [`VERSION`], read as it is: its columns' blocks are all flat.
pub(super) const FLAT_BLOCKS: u32 = 8;

/// The version before [`FLAT_BLOCKS`], read too: it holds no per-year totals, so they are summed
/// again from the columns as it is read (0.6–0.7 s of a restart at 1M reports).
pub(super) const TOTALS_SUMMED: u32 = 7;

/// Why a snapshot was not read. The store rebuilds the index from the stored reports then.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The file ends before what its counts announce.
    #[error("truncated: {wanted} bytes wanted, {left} left")]
    Truncated { wanted: usize, left: usize },
    /// The checksum does not match the bytes (a torn or damaged write).
    #[error("checksum mismatch")]
    Checksum,
    /// Not a snapshot of this version (or of [`WITHOUT_BODIES`], [`FLAT_BLOCKS`] or
    /// [`TOTALS_SUMMED`]).
    #[error("not a version-{VERSION} index snapshot")]
    NotASnapshot,
    /// Written for another metric catalogue: its columns do not line up with this one's.
    #[error("written for another metric catalogue")]
    OtherCatalogue,
    /// Its parts do not fit together (what does not, in words).
    #[error("damaged: {0}")]
    Damaged(String),
    /// The file could not be read (the reader's error, in words).
    #[error("read: {0}")]
    Read(String),
}

pub(super) fn damaged(why: impl std::fmt::Display) -> SnapshotError {
    SnapshotError::Damaged(why.to_string())
}

pub(super) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub(super) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub(super) fn get_u32(input: &mut &[u8]) -> Result<u32, SnapshotError> {
    Ok(u32::from_le_bytes(
        take(input, 4)?.try_into().expect("4 bytes"),
    ))
}

pub(super) fn get_u64(input: &mut &[u8]) -> Result<u64, SnapshotError> {
    Ok(u64::from_le_bytes(
        take(input, 8)?.try_into().expect("8 bytes"),
    ))
}

/// The first `n` bytes of `input`, advancing it; an error when fewer remain.
pub(super) fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], SnapshotError> {
    if input.len() < n {
        return Err(SnapshotError::Truncated {
            wanted: n,
            left: input.len(),
        });
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Ok(head)
}

/// A snapshot being read from the front, a piece at a time: the reader, the checksum of the
/// bytes read so far, and how many remain before the checksum. Pieces land in one reused
/// buffer, so reading holds no more than the largest piece besides the index it builds.
pub(super) struct Source<R> {
    reader: R,
    crc: crc32fast::Hasher,
    left: usize,
    buf: Vec<u8>,
}

impl<R: std::io::Read> Source<R> {
    /// A source of `len` bytes, the last [`CRC_BYTES`] of them the checksum.
    pub(super) fn new(reader: R, len: u64) -> Result<Source<R>, SnapshotError> {
        let len = usize::try_from(len).map_err(|_| damaged("length overflows"))?;
        let left = len.checked_sub(CRC_BYTES).ok_or(SnapshotError::Truncated {
            wanted: CRC_BYTES,
            left: len,
        })?;
        Ok(Source {
            reader,
            crc: crc32fast::Hasher::new(),
            left,
            buf: Vec::new(),
        })
    }

    /// The bytes left before the checksum.
    pub(super) fn left(&self) -> usize {
        self.left
    }

    /// The next `n` bytes; an error when fewer remain before the checksum.
    pub(super) fn take(&mut self, n: usize) -> Result<&[u8], SnapshotError> {
        if n > self.left {
            return Err(SnapshotError::Truncated {
                wanted: n,
                left: self.left,
            });
        }
        self.buf.resize(n, 0);
        self.reader
            .read_exact(&mut self.buf)
            .map_err(|e| SnapshotError::Read(e.to_string()))?;
        self.crc.update(&self.buf);
        self.left -= n;
        Ok(&self.buf)
    }

    pub(super) fn u32(&mut self) -> Result<u32, SnapshotError> {
        get_u32(&mut self.take(4)?)
    }

    pub(super) fn u64(&mut self) -> Result<u64, SnapshotError> {
        get_u64(&mut self.take(8)?)
    }

    /// A count of entries of at least `each` bytes, checked against the bytes left.
    pub(super) fn len(&mut self, each: usize) -> Result<usize, SnapshotError> {
        let n = usize::try_from(self.u64()?).map_err(|_| damaged("length overflows"))?;
        if n.checked_mul(each).is_none_or(|bytes| bytes > self.left) {
            return Err(damaged(format!("{n} entries do not fit in what is left")));
        }
        Ok(n)
    }

    /// Reads to the end: true when the checksum there matches every byte before it.
    pub(super) fn finish(mut self) -> Result<bool, SnapshotError> {
        const PIECE: usize = 1 << 20;
        while self.left > 0 {
            self.take(self.left.min(PIECE))?;
        }
        let mut crc = [0u8; CRC_BYTES];
        self.reader
            .read_exact(&mut crc)
            .map_err(|e| SnapshotError::Read(e.to_string()))?;
        Ok(self.crc.finalize() == u32::from_le_bytes(crc))
    }
}

/// The CRC-32 at the end of a snapshot.
pub(super) const CRC_BYTES: usize = 4;
