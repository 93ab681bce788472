//! Quantization math and range collection: how a real range becomes a scale, how a ratio of
//! scales becomes an int32 multiplier and a shift, and how calibration vectors become a range
//! table attached to the graph-level IR (`nibble.min` / `nibble.max` on every op).

pub mod bits;
pub mod data_free;
pub mod fixed;
pub mod gptq;
pub mod grids;
pub mod ranges;
pub mod sensitivity;
mod squeeze_excite;
pub mod weights;

pub use bits::{peak_activation_bytes, set_bits};
pub use fixed::{compose, fixed_multiplier, shared_shift, signed_multiplier, FixedScale};
pub use gptq::{hessians, round_weights, Rounded};
pub use grids::{grid_scales, layer_width, WeightWidth};
pub use ranges::{annotate, annotate_channel_ranges, calibrate, RangeMethod, RangeTable};
pub use weights::{channel_of, weight_scales};

#[derive(Debug, thiserror::Error)]
pub enum QuantError {
    #[error("the scale ratio {0:e} cannot be represented as an int32 multiplier with a shift in [1, 62]")]
    Ratio(f64),
    #[error(transparent)]
    Interp(#[from] nibble_interp::InterpError),
    #[error(transparent)]
    Graph(#[from] nibble_graph::GraphError),
    #[error(transparent)]
    Ir(#[from] nibble_ir::IrError),
    #[error("data-free ranges: {0}")]
    DataFree(String),
    #[error("{0}")]
    Width(String),
    #[error("no node named '{0}' in the model (names are ONNX node names, as `nibble report` lists them)")]
    UnknownNode(String),
}

/// How real values map to integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Scales are powers of two: every requantization is a rounding shift.
    Pow2,
    /// Zero point 0, scale max|x| / (2^(b−1) − 1).
    Symmetric,
    /// Activations use the whole integer range with a zero point; weights stay symmetric.
    Asymmetric,
}

impl std::str::FromStr for Scheme {
    type Err = String;
    fn from_str(s: &str) -> Result<Scheme, String> {
        match s {
            "pow2" => Ok(Scheme::Pow2),
            "symmetric" => Ok(Scheme::Symmetric),
            "asymmetric" => Ok(Scheme::Asymmetric),
            _ => Err(format!(
                "unknown scheme '{s}' (pow2, symmetric, asymmetric)"
            )),
        }
    }
}

/// The smallest power of two ≥ `scale`.
fn pow2_at_least(scale: f64) -> f64 {
    let mut p = scale.log2().ceil().exp2();
    while p < scale {
        p *= 2.0;
    }
    p
}

/// Scale and zero point of an activation with real range [min, max] at `bits` (signed storage).
pub fn activation_params(min: f64, max: f64, bits: u32, scheme: Scheme) -> (f64, i64) {
    match scheme {
        Scheme::Symmetric => (symmetric_scale(min, max, bits), 0),
        Scheme::Pow2 => (pow2_at_least(symmetric_scale(min, max, bits)), 0),
        Scheme::Asymmetric => {
            let (lo, hi) = (min.min(0.0), max.max(0.0));
            let levels = ((1i64 << bits) - 1) as f64;
            if !(hi - lo > 0.0 && (hi - lo).is_finite()) {
                return (1.0, 0);
            }
            let scale = (hi - lo) / levels;
            let qmin = -(1i64 << (bits - 1));
            let zp = ((qmin as f64) - lo / scale).round() as i64;
            (scale, zp.clamp(qmin, (1i64 << (bits - 1)) - 1))
        }
    }
}

/// Scale of a weight tensor with the given real range (weights are symmetric in every scheme;
/// power-of-two under `Pow2`).
pub fn weight_scale(min: f64, max: f64, bits: u32, scheme: Scheme) -> f64 {
    // A channel of (sub)normal-tiny weights is a zero channel: a scale near 1e-45 would make
    // its accumulator scale underflow f32 (the quant type's expressed type).
    if min.abs().max(max.abs()) < 1e-30 {
        return 1.0;
    }
    let s = symmetric_scale(min, max, bits);
    if scheme == Scheme::Pow2 {
        pow2_at_least(s)
    } else {
        s
    }
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

#[cfg(test)]
mod scheme_tests {
    use super::*;
    #[test]
    fn schemes_cover_the_range() {
        let (s, zp) = activation_params(-1.0, 3.0, 8, Scheme::Asymmetric);
        assert!((s - 4.0 / 255.0).abs() < 1e-12);
        // 0 is exactly representable and the ends map inside [-128, 127].
        assert_eq!(zp, -128 + 64);
        assert!((zp as f64 + 3.0 / s).round() <= 127.0 && (zp as f64 - 1.0 / s).round() >= -128.0);
        let (p, zp) = activation_params(-0.3, 5.0, 8, Scheme::Pow2);
        assert_eq!((p, zp), (0.0625, 0));
        assert!(5.0 / p <= 127.0);
        assert_eq!(
            activation_params(-2.0, 1.0, 8, Scheme::Symmetric),
            (2.0 / 127.0, 0)
        );
        assert_eq!(weight_scale(-0.5, 0.25, 8, Scheme::Pow2), 0.0078125); // 0.5/127 rounded up to 2^-7
    }
}
