//! The bytes of a snapshot: little-endian numbers, checked counts, and why reading failed.
//! Shared by the snapshot and its columns.

/// The snapshot version this build writes and reads (2: rows name the report their
/// cross-year findings compare with; 3: rows hold their division code, publication date
/// and whether they are a rendition; 4: each row's compliance score).
pub(super) const VERSION: u32 = 4;

/// Why a snapshot was not read. The store rebuilds the index from the stored reports then.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The file ends before what its counts announce.
    #[error("truncated: {wanted} bytes wanted, {left} left")]
    Truncated { wanted: usize, left: usize },
    /// The checksum does not match the bytes (a torn or damaged write).
    #[error("checksum mismatch")]
    Checksum,
    /// Not a snapshot of this version.
    #[error("not a version-{VERSION} index snapshot")]
    NotASnapshot,
    /// Written for another metric catalogue: its columns do not line up with this one's.
    #[error("written for another metric catalogue")]
    OtherCatalogue,
    /// Its parts do not fit together (what does not, in words).
    #[error("damaged: {0}")]
    Damaged(String),
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

/// A count of entries of at least `each` bytes, checked against the bytes left.
pub(super) fn get_len(input: &mut &[u8], each: usize) -> Result<usize, SnapshotError> {
    let n = usize::try_from(get_u64(input)?).map_err(|_| damaged("length overflows"))?;
    if n.checked_mul(each).is_none_or(|bytes| bytes > input.len()) {
        return Err(damaged(format!("{n} entries do not fit in what is left")));
    }
    Ok(n)
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
