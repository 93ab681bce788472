//! Weight scales: symmetric 8-bit, one per tensor or one per output channel, optionally from a
//! range clamped to mean ± K·σ. Shared by weight quantization (`to_qnt`) and weight rounding
//! (gptq.rs), which must agree on the grid.

use crate::{weight_scale, Scheme};

/// The output channel of element `j` of a weight tensor of `shape` with channels along `axis`
/// (0 when `channels` is 1).
pub fn channel_of(shape: &[i64], axis: usize, channels: usize) -> impl Fn(usize) -> usize {
    let inner = shape[axis + 1..].iter().product::<i64>().max(1) as usize;
    move |j| {
        if channels <= 1 {
            0
        } else {
            (j / inner) % channels
        }
    }
}

/// 8-bit symmetric scales of `w` (of `shape`): one, or one per channel along `axis`; with
/// `clamp_sigma` K each range is clamped to mean ± K·σ (values beyond saturate).
pub fn weight_scales(
    w: &[f32],
    shape: &[i64],
    axis: usize,
    per_channel: bool,
    clamp_sigma: Option<f64>,
    scheme: Scheme,
) -> Vec<f64> {
    let channels = if per_channel { shape[axis] as usize } else { 1 };
    let channel = channel_of(shape, axis, channels);
    let mut ranges = vec![(0.0f64, 0.0f64); channels.max(1)];
    for (j, &x) in w.iter().enumerate() {
        let r = &mut ranges[channel(j)];
        *r = (r.0.min(x as f64), r.1.max(x as f64));
    }
    if let Some(k) = clamp_sigma {
        // mean ± k·σ per channel, within the observed range.
        let mut moments = vec![(0.0f64, 0.0f64, 0usize); ranges.len()];
        for (j, &x) in w.iter().enumerate() {
            let m = &mut moments[channel(j)];
            *m = (m.0 + x as f64, m.1 + (x as f64).powi(2), m.2 + 1);
        }
        for (r, &(s1, s2, n)) in ranges.iter_mut().zip(&moments) {
            let n = n.max(1) as f64;
            let (mean, var) = (s1 / n, (s2 / n - (s1 / n).powi(2)).max(0.0));
            let (a, b) = (mean - k * var.sqrt(), mean + k * var.sqrt());
            *r = (r.0.max(a.min(0.0)), r.1.min(b.max(0.0)));
        }
    }
    ranges
        .iter()
        .map(|&(lo, hi)| weight_scale(lo, hi, 8, scheme))
        .collect()
}
