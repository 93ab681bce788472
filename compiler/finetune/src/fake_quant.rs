//! Fake quantization with a straight-through estimator (STE).
//!
//! Weights: per output channel, `w̃ = s·q(w, s)` on the caller's grid ([`WeightGrid`]: nibble's
//! own scales and rounding at the requested width). The forward value is exactly `w̃`; the
//! gradient passes to `w` unchanged where `w/s` lies within the grid's range (± half a step)
//! and is zero where the grid clips it.
//!
//! Activations: per tensor, `x̃ = s·(clamp(round(x/s + zp), lo, hi) − zp)` with the scale and
//! zero point the caller derives from the calibrated range ([`ActGrid`]); gradient 1 inside the
//! clamp, 0 outside.

use crate::Res;
use candle_core::{DType, Tensor};

/// A weight grid: the per-channel scale and the integer of a value (nibble's rule at a width).
pub trait WeightGrid {
    /// The scale of one output channel's weights, given in nibble's layout order (Conv: kernel
    /// rows, columns, input channels; Gemm: input features).
    fn channel_scale(&self, values: &[f32]) -> f64;
    /// The integer of `x` at scale `s`.
    fn level(&self, x: f64, s: f64) -> i64;
    /// The smallest and largest integer.
    fn range(&self) -> (i64, i64);
}

/// An activation grid: scale and zero point of a calibrated real range, and the integer range.
pub trait ActGrid {
    /// Scale and zero point of the range `[min, max]`.
    fn params(&self, min: f64, max: f64) -> (f64, i64);
    /// The smallest and largest integer.
    fn range(&self) -> (i64, i64);
}

/// Where one output channel's weights sit in a row-major weight: `channel(o)` lists the flat
/// indices of output channel `o` in nibble's layout order.
pub struct Channels {
    pub count: usize,
    pub index: Box<dyn Fn(usize) -> Vec<usize>>,
}

impl Channels {
    /// A conv weight `[O, I, KH, KW]`: channel o in (kh, kw, i) order (nibble's OHWI).
    pub fn conv(dims: &[usize]) -> Channels {
        let (o, i, kh, kw) = (dims[0], dims[1], dims[2], dims[3]);
        Channels {
            count: o,
            index: Box::new(move |c| {
                let mut v = Vec::with_capacity(i * kh * kw);
                for y in 0..kh {
                    for x in 0..kw {
                        for k in 0..i {
                            v.push(((c * i + k) * kh + y) * kw + x);
                        }
                    }
                }
                v
            }),
        }
    }
    /// A Gemm weight: `[out, in]` (`trans_b`) or `[in, out]`.
    pub fn gemm(dims: &[usize], trans_b: bool) -> Channels {
        let (r, c) = (dims[0], dims[1]);
        if trans_b {
            Channels {
                count: r,
                index: Box::new(move |o| (o * c..(o + 1) * c).collect()),
            }
        } else {
            Channels {
                count: c,
                index: Box::new(move |o| (0..r).map(|k| k * c + o).collect()),
            }
        }
    }
}

/// The fake-quantized values of `w` and the STE mask (1 where the gradient passes).
pub fn quantize_weights(
    w: &[f32],
    channels: &Channels,
    grid: &dyn WeightGrid,
) -> (Vec<f32>, Vec<f32>) {
    let (lo, hi) = grid.range();
    let mut out = vec![0f32; w.len()];
    let mut mask = vec![0f32; w.len()];
    for c in 0..channels.count {
        let idx = (channels.index)(c);
        let values: Vec<f32> = idx.iter().map(|&j| w[j]).collect();
        let s = grid.channel_scale(&values);
        for &j in &idx {
            let x = w[j] as f64;
            out[j] = (s * grid.level(x, s) as f64) as f32;
            let t = x / s;
            mask[j] = f32::from(t >= lo as f64 - 0.5 && t <= hi as f64 + 0.5);
        }
    }
    (out, mask)
}

/// `w` fake-quantized: forward value `quantized`, gradient `mask · ∂L/∂w̃` to `w`.
pub fn ste(w: &Tensor, quantized: Vec<f32>, mask: Vec<f32>) -> Res<Tensor> {
    let q = Tensor::from_vec(quantized, w.shape(), w.device())?;
    let m = Tensor::from_vec(mask, w.shape(), w.device())?;
    Ok((q + (w - w.detach())?.mul(&m)?)?)
}

/// `x` fake-quantized on the grid of scale `s`, zero point `zp`, integers `[lo, hi]`.
pub fn activation(x: &Tensor, s: f64, zp: i64, (lo, hi): (i64, i64)) -> Res<Tensor> {
    let t = ((x / s)? + zp as f64)?;
    let q = ((t.round()?.clamp(lo as f32, hi as f32)? - zp as f64)? * s)?;
    let inside = t
        .ge(lo as f64 - 0.5)?
        .mul(&t.le(hi as f64 + 0.5)?)?
        .to_dtype(DType::F32)?;
    Ok((q.detach() + (x - x.detach())?.mul(&inside)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    /// A 2-bit-like grid: [−2, 1], scale max|w|/2.
    struct Two;
    impl WeightGrid for Two {
        fn channel_scale(&self, v: &[f32]) -> f64 {
            v.iter().fold(0f64, |m, &x| m.max((x as f64).abs())) / 2.0
        }
        fn level(&self, x: f64, s: f64) -> i64 {
            ((x / s).round() as i64).clamp(-2, 1)
        }
        fn range(&self) -> (i64, i64) {
            (-2, 1)
        }
    }

    #[test]
    fn conv_channels_follow_ohwi_order() {
        let c = Channels::conv(&[2, 3, 1, 2]);
        // channel 1, (kh 0, kw 0, i 0..3) then (kw 1): flat OIHW indices.
        assert_eq!((c.index)(1), vec![6, 8, 10, 7, 9, 11]);
        let g = Channels::gemm(&[3, 2], false);
        assert_eq!((g.index)(1), vec![1, 3, 5]);
    }

    #[test]
    fn weight_forward_is_the_grid_and_the_gradient_passes_inside() {
        let w = [0.9f32, -0.4, 0.2, -1.0, 0.6, 2.0];
        let ch = Channels::gemm(&[2, 3], true);
        let (q, mask) = quantize_weights(&w, &ch, &Two);
        // Channel 0: s = 0.45, levels 2→1 (clipped), −1, 0; channel 1: s = 1, levels −1, 1, 1 (2 clipped).
        assert_eq!(q, vec![0.45, -0.45, 0.0, -1.0, 1.0, 1.0]);
        assert_eq!(mask, vec![0.0, 1.0, 1.0, 1.0, 1.0, 0.0]);
        let var = Var::from_vec(w.to_vec(), (2, 3), &Device::Cpu).unwrap();
        let y = ste(var.as_tensor(), q.clone(), mask.clone()).unwrap();
        assert_eq!(y.flatten_all().unwrap().to_vec1::<f32>().unwrap(), q);
        let coef = Tensor::new(&[[1f32, 2., 3.], [4., 5., 6.]], &Device::Cpu).unwrap();
        let g = y.mul(&coef).unwrap().sum_all().unwrap().backward().unwrap();
        let grad = g.get(var.as_tensor()).unwrap().flatten_all().unwrap();
        assert_eq!(grad.to_vec1::<f32>().unwrap(), vec![0., 2., 3., 4., 5., 0.]);
    }

    #[test]
    fn activation_rounds_clamps_and_passes_gradient_inside() {
        let var = Var::from_vec(vec![-3.0f32, -0.26, 0.26, 0.74, 5.0], 5, &Device::Cpu).unwrap();
        let y = activation(var.as_tensor(), 0.5, 0, (-2, 1)).unwrap();
        assert_eq!(y.to_vec1::<f32>().unwrap(), vec![-1.0, -0.5, 0.5, 0.5, 0.5]);
        let g = y.sum_all().unwrap().backward().unwrap();
        let grad = g.get(var.as_tensor()).unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(grad, vec![0., 1., 1., 1., 0.]);
    }
}
