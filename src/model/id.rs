//! Report ids: the SHA-256 of a document's bytes, written as 64 hex digits. PURE.

use sha2::{Digest, Sha256};

/// Bytes in a report id (a SHA-256 digest).
pub const ID_BYTES: usize = 32;

/// A report id as bytes: how the store keys and the index rows hold it.
pub type IdBytes = [u8; ID_BYTES];

/// The hex SHA-256 of a document's bytes: its report id.
pub fn report_id(content: &[u8]) -> String {
    hex::encode(Sha256::digest(content))
}

/// A report id (64 hex digits) as bytes; `None` for anything else.
pub fn id_bytes(id: &str) -> Option<IdBytes> {
    let mut out = [0u8; ID_BYTES];
    hex::decode_to_slice(id, &mut out).ok()?;
    Some(out)
}

/// Bytes (an id, or any key) as lower-case hex.
pub fn hex_of(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_what_is_not_one() {
        let id = report_id(b"abc");
        assert_eq!(id.len(), 2 * ID_BYTES);
        assert_eq!(hex_of(&id_bytes(&id).unwrap()), id);
        assert_eq!(id_bytes("xyz"), None);
        assert_eq!(id_bytes(&id[1..]), None);
    }
}
