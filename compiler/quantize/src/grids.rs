//! Weight grids below 8 bits: which integers a weight layer's weights may take, and the scale of
//! each output channel chosen for the least squared error.
//!
//! | width | integers q (real = s·q) | storage | scale s per channel |
//! |---|---|---|---|
//! | `8` | [−127, 127] | i8 | max\|w\| / 127 (as always) |
//! | `4` | [−7, 7] | i4, two per byte | least squared error over clip ratios |
//! | `2` | [−2, 1] (two's complement 2-bit) | i2, four per byte | least squared error |
//! | `ternary` | {−1, 0, 1} | 2 bits | TWN start (Δ = 0.7·mean\|w\|), Lloyd-refined: s = mean of \|w\| above s/2 |
//! | `binary` | {−1, 1} | 1 bit, eight per byte | mean\|w\| (XNOR-Net: least squares) |
//!
//! Integers are nearest on the grid (binary: the sign, 0 → +1). Under the pow2 scheme a scale is
//! the power of two of least error. The integer arithmetic of a layer is the same at every
//! width (`acc = bias + Σ (x − zp)·q`); only the range of q differs.

use crate::{weight_scales, Scheme};
use std::fmt;
use std::str::FromStr;

/// The grid of a weight layer's weights (its [`nibble_graph::attrs::WEIGHT_BITS`]).
pub fn layer_width(op: &nibble_ir::Op) -> Result<WeightWidth, String> {
    match op.attrs.get(nibble_graph::attrs::WEIGHT_BITS) {
        None => Ok(WeightWidth::W8),
        Some(nibble_ir::Attr::Str(s)) => s.parse(),
        Some(other) => Err(format!(
            "{} must be a string, not {other}",
            nibble_graph::attrs::WEIGHT_BITS
        )),
    }
}

/// A weight grid. See the module doc.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WeightWidth {
    W8,
    W4,
    W2,
    Ternary,
    Binary,
}

impl WeightWidth {
    pub const ALL: [WeightWidth; 5] = [
        WeightWidth::W8,
        WeightWidth::W4,
        WeightWidth::W2,
        WeightWidth::Ternary,
        WeightWidth::Binary,
    ];
    /// Bits per weight in the packed C arrays.
    pub fn storage_bits(self) -> u32 {
        match self {
            WeightWidth::W8 => 8,
            WeightWidth::W4 => 4,
            WeightWidth::W2 | WeightWidth::Ternary => 2,
            WeightWidth::Binary => 1,
        }
    }
    /// The smallest and largest integer of the grid.
    pub fn range(self) -> (i64, i64) {
        match self {
            WeightWidth::W8 => (-127, 127),
            WeightWidth::W4 => (-7, 7),
            WeightWidth::W2 => (-2, 1),
            WeightWidth::Ternary | WeightWidth::Binary => (-1, 1),
        }
    }
    /// Whether `q` is on the grid.
    pub fn holds(self, q: i64) -> bool {
        let (lo, hi) = self.range();
        (lo..=hi).contains(&q) && !(self == WeightWidth::Binary && q == 0)
    }
    /// The name in flags, attributes (`weight_bits`) and the manifest.
    pub fn name(self) -> &'static str {
        match self {
            WeightWidth::W8 => "8",
            WeightWidth::W4 => "4",
            WeightWidth::W2 => "2",
            WeightWidth::Ternary => "ternary",
            WeightWidth::Binary => "binary",
        }
    }
    /// Index in [`WeightWidth::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
    /// The integer of `x` at scale `s`: nearest on the grid (binary: the sign).
    pub fn quantize(self, x: f64, s: f64) -> i64 {
        if self == WeightWidth::Binary {
            return if x < 0.0 { -1 } else { 1 };
        }
        let (lo, hi) = self.range();
        ((x / s).round() as i64).clamp(lo, hi)
    }
}

impl FromStr for WeightWidth {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        WeightWidth::ALL
            .into_iter()
            .find(|w| w.name() == s)
            .ok_or_else(|| format!("'{s}' is not a weight width (8, 4, 2, ternary, binary)"))
    }
}

impl fmt::Display for WeightWidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Squared error of `values` on the grid of `width` at scale `s`.
fn error(values: &[f32], width: WeightWidth, s: f64) -> f64 {
    values
        .iter()
        .map(|&x| {
            let x = x as f64;
            (x - s * width.quantize(x, s) as f64).powi(2)
        })
        .sum()
}

/// The scale of one channel's weights at `width` (see the module doc).
pub fn channel_scale(values: &[f32], width: WeightWidth, scheme: Scheme) -> f64 {
    let max = values.iter().fold(0.0f64, |m, &x| m.max((x as f64).abs()));
    if max < 1e-30 || !max.is_finite() {
        return 1.0;
    }
    let mean_abs = values.iter().map(|&x| (x as f64).abs()).sum::<f64>() / values.len() as f64;
    let s = match width {
        WeightWidth::W8 => max / 127.0,
        WeightWidth::Binary => mean_abs,
        WeightWidth::Ternary => lloyd_ternary(values, mean_abs),
        WeightWidth::W4 | WeightWidth::W2 => {
            // Clip ratios from 5 % to 100 % of the largest magnitude, least error wins (ties:
            // the larger scale).
            let top = width.range().1.max(-width.range().0) as f64;
            (1..=96)
                .map(|k| max * (0.05 + 0.95 * k as f64 / 96.0) / top)
                .map(|s| (error(values, width, s), s))
                .fold((f64::INFINITY, max / top), |best, c| {
                    if c.0 <= best.0 {
                        c
                    } else {
                        best
                    }
                })
                .1
        }
    };
    match scheme {
        Scheme::Pow2 => {
            let lo = s.log2().floor().exp2();
            if error(values, width, lo) < error(values, width, 2.0 * lo) {
                lo
            } else {
                2.0 * lo
            }
        }
        _ => s,
    }
}

/// Ternary scale: start from TWN's threshold 0.7·mean|w|, then alternate nearest assignment
/// (threshold s/2) and the least-squares scale of the assignment (mean of the kept |w|).
fn lloyd_ternary(values: &[f32], mean_abs: f64) -> f64 {
    let kept_mean = |threshold: f64| {
        let (sum, n) = values
            .iter()
            .map(|&x| (x as f64).abs())
            .filter(|&a| a > threshold)
            .fold((0.0, 0usize), |(s, n), a| (s + a, n + 1));
        (n > 0).then(|| sum / n as f64)
    };
    let mut s = kept_mean(0.7 * mean_abs).unwrap_or(mean_abs);
    for _ in 0..16 {
        match kept_mean(s / 2.0) {
            Some(next) if (next - s).abs() > 1e-12 * s => s = next,
            _ => break,
        }
    }
    s
}

/// Scales of `w` (of `shape`, output channels along `axis`) at `width`: one, or one per channel.
/// At 8 bits this is [`weight_scales`] exactly (with its `clamp_sigma`).
pub fn grid_scales(
    w: &[f32],
    shape: &[i64],
    axis: usize,
    per_channel: bool,
    clamp_sigma: Option<f64>,
    scheme: Scheme,
    width: WeightWidth,
) -> Vec<f64> {
    if width == WeightWidth::W8 {
        return weight_scales(w, shape, axis, per_channel, clamp_sigma, scheme);
    }
    let channels = if per_channel { shape[axis] as usize } else { 1 };
    let channel = crate::channel_of(shape, axis, channels);
    let mut rows = vec![Vec::new(); channels.max(1)];
    for (j, &x) in w.iter().enumerate() {
        rows[channel(j)].push(x);
    }
    rows.iter()
        .map(|r| channel_scale(r, width, scheme))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaussian(n: usize) -> Vec<f32> {
        // A deterministic bell-shaped sample (sum of uniforms).
        let mut state = 12345u64;
        (0..n)
            .map(|_| {
                (0..4)
                    .map(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                        ((state >> 33) as f64 / (1u64 << 31) as f64) - 0.5
                    })
                    .sum::<f64>() as f32
            })
            .collect()
    }

    #[test]
    fn fewer_bits_more_error_and_every_integer_on_its_grid() {
        let w = gaussian(4096);
        let mut last = 0.0;
        for width in WeightWidth::ALL {
            let s = channel_scale(&w, width, Scheme::Symmetric);
            for &x in &w {
                assert!(width.holds(width.quantize(x as f64, s)));
            }
            let e = error(&w, width, s);
            assert!(e >= last, "{width}: {e} < {last}");
            last = e;
        }
    }

    #[test]
    fn searched_scales_beat_max_abs_and_ternary_is_a_fixed_point() {
        let w = gaussian(4096);
        let max = w.iter().fold(0.0f64, |m, &x| m.max((x as f64).abs()));
        for width in [WeightWidth::W4, WeightWidth::W2] {
            let s = channel_scale(&w, width, Scheme::Symmetric);
            assert!(error(&w, width, s) < error(&w, width, max / width.range().1 as f64));
        }
        let s = channel_scale(&w, WeightWidth::Ternary, Scheme::Symmetric);
        let kept: Vec<f64> = w
            .iter()
            .map(|&x| (x as f64).abs())
            .filter(|&a| a > s / 2.0)
            .collect();
        let mean = kept.iter().sum::<f64>() / kept.len() as f64;
        assert!((mean - s).abs() < 1e-9 * s);
        let b = channel_scale(&w, WeightWidth::Binary, Scheme::Symmetric);
        let p = channel_scale(&w, WeightWidth::W4, Scheme::Pow2);
        assert_eq!(p, p.log2().round().exp2());
        assert!(b > 0.0 && WeightWidth::Binary.quantize(0.0, b) == 1);
    }
}
