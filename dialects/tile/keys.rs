//! The attribute keys of the tile ops: the qnt keys they share, and their own (zero points,
//! clamps, the fused epilogues, the schedule). Builders and readers name attributes only
//! through these constants.

pub use nibble_qnt::keys::*;

pub const ZERO_POINT: &str = "zero_point";
pub const INPUT_ZP: &str = "input_zp";
pub const OUTPUT_ZP: &str = "output_zp";
pub const RHS_ZP: &str = "rhs_zp";
pub const CLAMP_MIN: &str = "clamp_min";
pub const CLAMP_MAX: &str = "clamp_max";
pub const HSWISH: &str = "hswish";
pub const SWISH: &str = "swish";
pub const TILE: &str = "tile";
pub const OFFSET: &str = "offset";

/// The keys of the tile level only (the IRDL test checks each declared attribute is a qnt key
/// or one of these).
pub const TILE_ONLY: &[&str] = &[
    ZERO_POINT, INPUT_ZP, OUTPUT_ZP, RHS_ZP, CLAMP_MIN, CLAMP_MAX, HSWISH, SWISH, TILE, OFFSET,
];
