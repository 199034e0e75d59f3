//! One 64-bit mixer for the hashes built here. PURE.

/// SplitMix64's finaliser: every bit of the input moves about half the output's. The
/// narrative's SimHash is made of it (and kept in snapshots), so it must not change.
pub fn mix(mut h: u64) -> u64 {
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}
