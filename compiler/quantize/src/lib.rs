//! Quantization math and range collection: how a real range becomes a scale, how a ratio of
//! scales becomes an int32 multiplier and a shift, and how calibration vectors become a range
//! table attached to the graph-level IR (`nibble.min` / `nibble.max` on every op).

pub mod fixed;
pub mod ranges;

pub use fixed::{compose, fixed_multiplier, FixedScale};
pub use ranges::{annotate, calibrate, RangeMethod, RangeTable};

#[derive(Debug, thiserror::Error)]
pub enum QuantError {
    #[error("the scale ratio {0:e} cannot be represented as an int32 multiplier with a shift in [1, 62]")]
    Ratio(f64),
    #[error(transparent)]
    Interp(#[from] nibble_interp::InterpError),
}

/// Symmetric scale for a real range at `bits`: `max(|min|, |max|) / (2^(bits-1) - 1)`.
pub fn symmetric_scale(min: f64, max: f64, bits: u32) -> f64 {
    let m = min.abs().max(max.abs());
    let qmax = ((1i64 << (bits - 1)) - 1) as f64;
    if m > 0.0 && m.is_finite() {
        m / qmax
    } else {
        1.0
    }
}

/// Round half away from zero, then clamp to `[lo, hi]`.
pub fn quantize_value(x: f64, scale: f64, lo: i64, hi: i64) -> i64 {
    let t = (x / scale).round();
    (t as i64).clamp(lo, hi)
}
