//! `nibble-equalize{scheme=…}`: cross-layer equalization of activation ranges. A layer whose
//! output channels have very different ranges wastes a per-tensor int8 grid on its small
//! channels. Where a conv A feeds a depthwise conv B alone — directly or through a ReLU
//! `clamp(x, 0, +∞)`, which commutes with positive scaling (`relu(x/s) = relu(x)/s`) — channel c
//! of A can be divided by s_c (its weights and bias) and B's channel c multiplied by s_c without
//! changing the function. Choosing `s_c = r_c / max r` (r_c the range of the channel B reads:
//! observed on calibration vectors where `nibble.channel_min/max` are present — `nibble compile
//! --equalize` writes them — else from BatchNorm statistics `|β| + 3γ`, else from the weight
//! row's norm) gives every channel the range of the widest one. Scales are clamped to [1/64, 1].
//!
//! Through a ReLU6 (any `clamp(x, 0, N)`) the clamp becomes `clamp_channels(y, N/s)` (min 0):
//! the same function, and at the quant level the plain clamp at the grid's top, since every
//! bound N/s_c ≥ N is at or above it (not under pow2, whose grid reaches above the range).
//!
//! Through a hard-swish (which does not commute with scaling) the same holds if the hard-swish
//! becomes `scaled_hard_swish(y, s)` = `hard_swish(s_c·y) / s_c`: quantized, it is the conv's
//! fixed-point epilogue with one output multiplier per channel. Its dip to −⅜ grows to −⅜/s_c,
//! so s_c ≥ dip_c / max r keeps it inside the range. Only under `scheme=symmetric`: pow2 has no
//! such epilogue, and under an asymmetric grid (whose width counts the dips) it cost as much as
//! it gained on ppocr_cls.
//!
//!
//! A depthwise conv A feeding a conv B (the pointwise conv of a MobileNet block), again alone
//! and through at most a ReLU, is equalized for its weights instead (data-free quantization,
//! Nagel et al. 2019): a depthwise conv's channels often have weight ranges far apart, which a
//! per-tensor int8 grid cannot hold. `s_c = sqrt(r_A,c / r_B,c)`, r_A,c = max|A's weights of
//! channel c| and r_B,c = max|B's weights reading channel c|, gives both the range
//! `sqrt(r_A,c · r_B,c)`; clamped to [1/64, 64].
//!
//! Precondition: graph level after `nibble-fold-batchnorm` (biases folded into the convs).
//! Postcondition: same function; A's weights, bias and `nibble.bn_*` statistics and B's weights
//! rescaled per channel; hard-swishes between them rescaled; no `nibble.channel_min/max` left.
//!
//! Before:
//! ```mlir
//! %a = tosa.conv2d %x, %wa, %ba, … ; %b = tosa.depthwise_conv2d %a, %wb, %bb, …
//! ```
//! After:
//! ```mlir
//! %a = tosa.conv2d %x, %wa', %ba', … ; %b = tosa.depthwise_conv2d %a, %wb', %bb, …
//! // wa'[c] = wa[c] / s_c, ba'[c] = ba[c] / s_c, wb'[…, c] = wb[…, c] · s_c
//! ```

use crate::{const_f32, set_dense_f32, Options, PassInfo};
use nibble_graph::activation::{hard_swish_f64, HARD_SWISH_DIP};
use nibble_graph::{attrs, tosa, ClampChannels, Kind, Layer};
use nibble_ir::{Attr, Elem, Func, Op, Type, ValueId};
use nibble_quantize::Scheme;

pub const PASS: PassInfo = PassInfo {
    name: "nibble-equalize",
    summary: "Cross-layer equalization: a conv's output ranges into the depthwise conv it feeds; depthwise and pointwise weight ranges",
    run,
};

/// Layer A (op `a`) and the layer B (op `b`) that alone reads its output, through the
/// activations `path` (op indices, in order).
struct Pair {
    a: usize,
    b: usize,
    /// A is a depthwise conv (B a conv): weights are balanced; else A is a conv (B a
    /// depthwise conv): output ranges are.
    a_depthwise: bool,
    path: Vec<usize>,
    /// A hard-swish on the path (it becomes `scaled_hard_swish`).
    hswish: Option<usize>,
    /// A ReLU-N `clamp(x, 0, N)` on the path, and N (it becomes `clamp_channels`).
    relu_n: Option<(usize, f64)>,
}

/// The constants of a pair: A's weights and bias, B's weights, each with the index of the op
/// holding it, and A's output channels.
struct Weights {
    wa: (usize, Vec<f32>),
    ba: (usize, Vec<f32>),
    wb: (usize, Vec<f32>),
    oc: usize,
    /// Weights of A per output channel.
    per: usize,
}

impl Weights {
    /// A's channel of weight j: OHWI rows for a conv, the last-but-one axis for a depthwise.
    fn chan_a(&self, pair: &Pair, j: usize) -> usize {
        if pair.a_depthwise {
            j % self.oc
        } else {
            j / self.per
        }
    }
}

/// An activation made per channel: op index, its per-channel operand, and true for a
/// hard-swish's scales s (false for a ReLU-N's bounds N/s).
type Rewrite = (usize, Vec<f64>, bool);

#[tracing::instrument(skip_all, name = "nibble-equalize")]
fn run(f: &Func, opts: &Options) -> Result<Func, String> {
    let scheme: Scheme = opts.get("scheme").unwrap_or("symmetric").parse()?;
    let mut f = f.clone();
    let producers = f.producers();
    let uses = f.use_counts();
    let mut pairs = 0;
    let mut changed: Vec<Rewrite> = Vec::new();
    for a in 0..f.ops.len() {
        let Some(pair) = find_pair(&f, &uses, a, scheme) else {
            continue;
        };
        let Some(w) = weights(&f, &producers, &uses, &pair) else {
            continue;
        };
        let s = if pair.a_depthwise {
            weight_balance(&pair, &w)
        } else {
            match range_balance(&f, &pair, &w) {
                Some(s) => s,
                None => continue,
            }
        };
        // A hard-swish's scale is stored as f32: divide A by exactly that value.
        let s: Vec<f64> = match pair.hswish {
            Some(_) => s.iter().map(|&k| k as f32 as f64).collect(),
            None => s,
        };
        if let Some((r, n)) = pair.relu_n {
            // N/s_c ≥ N (s ≤ 1) ≥ every value the grid holds.
            let hi: Vec<f64> = s.iter().map(|&k| n / k).collect();
            changed.push((r, hi, false));
        }
        rescale(&mut f, &pair, &w, &s);
        if let Some(h) = pair.hswish {
            changed.push((h, s, true));
        }
        pairs += 1;
    }
    make_per_channel(&mut f, changed);
    // Per-channel ranges were for this pass; A's and its activation's are stale now.
    for op in &mut f.ops {
        op.attrs.remove(attrs::CHANNEL_MIN);
        op.attrs.remove(attrs::CHANNEL_MAX);
    }
    tracing::info!(pairs, "layer pairs equalized");
    Ok(f)
}

/// Whether `op` is `clamp(x, 0, N)` with N in `bounds`.
fn relu_with(op: &Op, bounds: impl Fn(f64) -> bool) -> bool {
    op.name == tosa::CLAMP
        && op.float("min_val").ok() == Some(0.0)
        && op.float("max_val").is_ok_and(bounds)
}

/// The pair with A = op `a`: A's output, through an optional activation, read by one conv
/// alone — a depthwise conv after a conv, a conv after a depthwise conv.
fn find_pair(f: &Func, uses: &[usize], a: usize, scheme: Scheme) -> Option<Pair> {
    let a_depthwise = match f.ops[a].name.as_str() {
        tosa::CONV2D => false,
        tosa::DEPTHWISE_CONV2D => true,
        _ => return None,
    };
    let mut pair = Pair {
        a,
        b: 0,
        a_depthwise,
        path: Vec::new(),
        hswish: None,
        relu_n: None,
    };
    let mut v = f.ops[a].results[0];
    let next = |v: ValueId| f.ops.iter().position(|o| o.operands.first() == Some(&v));
    loop {
        if uses[v] != 1 || f.returns.contains(&v) {
            return None;
        }
        let u = next(v)?;
        let op = &f.ops[u];
        let first = pair.path.is_empty() && !a_depthwise;
        if relu_with(op, |m| m >= f32::MAX as f64) {
            pair.path.push(u);
        } else if relu_with(op, |m| m > 0.0 && m < f32::MAX as f64)
            && first
            && scheme != Scheme::Pow2
        {
            // A ReLU6 (any clamp(x, 0, N)) between a conv and a depthwise conv: the clamp
            // becomes per channel, clamp(y, 0, N/s_c) — at or above the grid's top, so the
            // quantized program clamps at the top as before (not under pow2, whose grid's
            // top lies above the range).
            pair.relu_n = Some((u, op.float("max_val").unwrap_or(6.0)));
            pair.path.push(u);
        } else if Kind::of(op) == Some(Kind::HardSwish) && first && scheme == Scheme::Symmetric {
            // A hard-swish between a conv and a depthwise conv, under a symmetric grid (pow2's
            // shift-only requantization has no per-channel hard-swish epilogue; under an
            // asymmetric grid the dips' growth cost as much as the balance gained).
            pair.hswish = Some(u);
            pair.path.push(u);
        } else if (op.name == tosa::DEPTHWISE_CONV2D && !a_depthwise)
            || (op.name == tosa::CONV2D && a_depthwise)
        {
            pair.b = u;
            return Some(pair);
        } else {
            return None;
        }
        v = op.results[0];
    }
}

/// The pair's constants, if they are constants no other op reads and B reads A's channels as
/// expected.
fn weights(f: &Func, producers: &[Option<usize>], uses: &[usize], pair: &Pair) -> Option<Weights> {
    let (op_a, op_b) = (&f.ops[pair.a], &f.ops[pair.b]);
    let wa = const_f32(f, producers, op_a.operands[1])?;
    let ba = const_f32(f, producers, op_a.operands[2])?;
    let wb = const_f32(f, producers, op_b.operands[1])?;
    let oc = ba.1.len();
    let wb_shape = f.ty(op_b.operands[1]).shape().unwrap_or(&[]);
    let wa_shape = f.ty(op_a.operands[1]).shape().unwrap_or(&[]);
    // B reads A's channel c at weight j with j % oc == c: depthwise [KH, KW, C, 1], conv
    // OHWI [O, KH, KW, C].
    let b_fits = wb_shape.len() == 4
        && if pair.a_depthwise {
            wb_shape[3] as usize == oc
        } else {
            wb_shape[2] as usize == oc && wb_shape[3] == 1
        };
    if oc == 0
        || wa.1.len() % oc != 0
        || !b_fits
        || (pair.a_depthwise && wa_shape.get(3) != Some(&1))
        || [wa.0, ba.0, wb.0]
            .iter()
            .any(|&i| uses[f.ops[i].results[0]] != 1)
    {
        return None;
    }
    let per = wa.1.len() / oc;
    Some(Weights {
        wa,
        ba,
        wb,
        oc,
        per,
    })
}

/// A depthwise A and a conv B: balance the weight ranges of A's channel c and of B's weights
/// reading it, `s_c = sqrt(r_A,c / r_B,c)`.
fn weight_balance(pair: &Pair, w: &Weights) -> Vec<f64> {
    let (mut ra, mut rb) = (vec![0f64; w.oc], vec![0f64; w.oc]);
    for (j, &x) in w.wa.1.iter().enumerate() {
        let c = w.chan_a(pair, j);
        ra[c] = ra[c].max((x as f64).abs());
    }
    for (j, &x) in w.wb.1.iter().enumerate() {
        rb[j % w.oc] = rb[j % w.oc].max((x as f64).abs());
    }
    ra.iter()
        .zip(&rb)
        .map(|(&x, &y)| {
            if x > 0.0 && y > 0.0 {
                (x / y).sqrt().clamp(1.0 / 64.0, 64.0)
            } else {
                1.0
            }
        })
        .collect()
}

/// A conv A and a depthwise B: `s_c = r_c / max r` over the ranges of the channels B reads
/// (clamped to [1/64, 1]; through a hard-swish at least its dip's share); None when no
/// channel has a range.
fn range_balance(f: &Func, pair: &Pair, w: &Weights) -> Option<Vec<f64>> {
    let (r, dip) = channel_ranges(f, pair, w);
    let top = r.iter().cloned().fold(0.0f64, f64::max);
    if top.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return None;
    }
    // Through a hard-swish, channel c's dip grows to dip_c / s_c: s_c ≥ dip_c / top keeps it
    // within the (symmetric) range.
    Some(
        r.iter()
            .zip(&dip)
            .map(|(&x, &dc)| ((x / top).max(dc / top)).clamp(1.0 / 64.0, 1.0))
            .collect(),
    )
}

/// The range of each channel B reads (after the activation, if any), and how far below zero
/// a hard-swish takes it: observed on the calibration vectors (`nibble.channel_min/max`) where
/// there are some, else expected from BatchNorm statistics (mean ± 3σ, before the activation;
/// a hard-swish dips to −⅜), else the weight row's norm.
fn channel_ranges(f: &Func, pair: &Pair, w: &Weights) -> (Vec<f64>, Vec<f64>) {
    let op_a = &f.ops[pair.a];
    let read = pair.path.last().map_or(op_a, |&u| &f.ops[u]);
    let oc = w.oc;
    match (
        read.dense_f32(attrs::CHANNEL_MIN),
        read.dense_f32(attrs::CHANNEL_MAX),
        op_a.dense_f32(attrs::BN_MEAN),
        op_a.dense_f32(attrs::BN_STD),
    ) {
        (Some(lo), Some(hi), _, _) if lo.len() == oc && hi.len() == oc => lo
            .iter()
            .zip(&hi)
            .map(|(&l, &u)| match pair.hswish {
                Some(_) => ((u as f64).max(0.0), (-l as f64).max(0.0)),
                None => ((l as f64).abs().max((u as f64).abs()), 0.0),
            })
            .unzip(),
        (_, _, Some(m), Some(s)) if m.len() == oc && s.len() == oc => m
            .iter()
            .zip(&s)
            .map(|(&m, &s)| match (pair.hswish, pair.relu_n) {
                (Some(_), _) => (
                    hard_swish_f64(m as f64 + 3.0 * s as f64).max(0.0),
                    HARD_SWISH_DIP,
                ),
                (_, Some((_, n))) => ((m.abs() as f64 + 3.0 * s as f64).min(n), 0.0),
                _ => (m.abs() as f64 + 3.0 * s as f64, 0.0),
            })
            .unzip(),
        _ => (0..oc)
            .map(|c| {
                let norm = w.wa.1[c * w.per..(c + 1) * w.per]
                    .iter()
                    .map(|&x| (x as f64).powi(2))
                    .sum::<f64>()
                    .sqrt();
                (norm, 0.0)
            })
            .unzip(),
    }
}

/// Divides A's channel c (weights, bias, BatchNorm statistics) by s_c and multiplies B's
/// weights reading it by s_c.
fn rescale(f: &mut Func, pair: &Pair, w: &Weights, s: &[f64]) {
    let wa2: Vec<f32> =
        w.wa.1
            .iter()
            .enumerate()
            .map(|(j, &x)| (x as f64 / s[w.chan_a(pair, j)]) as f32)
            .collect();
    let ba2: Vec<f32> =
        w.ba.1
            .iter()
            .zip(s)
            .map(|(&b, &k)| (b as f64 / k) as f32)
            .collect();
    // B's weights reading channel c: j % C (depthwise [KH, KW, C, 1] or OHWI).
    let wb2: Vec<f32> =
        w.wb.1
            .iter()
            .enumerate()
            .map(|(j, &x)| (x as f64 * s[j % w.oc]) as f32)
            .collect();
    set_dense_f32(f, w.wa.0, "values", &wa2);
    set_dense_f32(f, w.ba.0, "values", &ba2);
    set_dense_f32(f, w.wb.0, "values", &wb2);
    for key in attrs::BN_STATS {
        if let Some(vals) = f.ops[pair.a].dense_f32(key) {
            let scaled: Vec<f32> = vals
                .iter()
                .zip(s)
                .map(|(&x, &k)| (x as f64 / k) as f32)
                .collect();
            let ty = Type::tensor(&[w.oc as i64], Elem::F32);
            f.ops[pair.a]
                .attrs
                .insert(key.into(), Attr::dense_f32(ty, &scaled));
        }
    }
}

/// Each rescaled hard-swish becomes `scaled_hard_swish(y, s)` = hard_swish(s_c·y) / s_c (A's
/// channel c now holds y = x / s_c); each ReLU-N `clamp_channels(y, N/s)` (min 0). The
/// per-channel operand is a new constant right before the op.
fn make_per_channel(f: &mut Func, mut changed: Vec<Rewrite>) {
    changed.sort_by_key(|c| std::cmp::Reverse(c.0));
    for (i, per_channel, hswish) in changed {
        let ty = Type::tensor(&[per_channel.len() as i64], Elem::F32);
        let data: Vec<f32> = per_channel.iter().map(|&k| k as f32).collect();
        let sv = f.new_value(ty.clone());
        let konst = Op {
            name: tosa::CONST.into(),
            operands: vec![],
            results: vec![sv],
            attrs: [("values".to_string(), Attr::dense_f32(ty, &data))]
                .into_iter()
                .collect(),
            loc: f.ops[i].loc.clone(),
        };
        let op = &mut f.ops[i];
        op.operands.push(sv);
        if hswish {
            Layer::ScaledHardSwish.set_on(op);
        } else {
            // The clamp's bounds are the operand and `min` now; its nibble attributes stay.
            op.attrs.retain(|k, _| k.starts_with(attrs::PREFIX));
            Layer::ClampChannels(ClampChannels { min: 0.0 }).set_on(op);
        }
        f.ops.insert(i, konst);
    }
}
