//! Plain text to a Report. PURE.
pub mod cells;
