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
use nibble_ir::{Attr, Func, ValueId};

pub const PASS: PassInfo = PassInfo {
    name: "nibble-equalize",
    summary: "Cross-layer equalization: a conv's output ranges into the depthwise conv it feeds; depthwise and pointwise weight ranges",
    run,
};

#[tracing::instrument(skip_all, name = "nibble-equalize")]
fn run(f: &Func, opts: &Options) -> Result<Func, String> {
    let scheme: nibble_quantize::Scheme = opts.get("scheme").unwrap_or("symmetric").parse()?;
    let mut f = f.clone();
    let producers = f.producers();
    let uses = f.use_counts();
    let mut pairs = 0;
    // Activations made per channel: (op index, per-channel operand, true for a hard-swish's s,
    // false for a ReLU-N's bounds N/s).
    let mut changed: Vec<(usize, Vec<f64>, bool)> = Vec::new();
    for a in 0..f.ops.len() {
        let a_depthwise = match f.ops[a].name.as_str() {
            "tosa.conv2d" => false,
            "tosa.depthwise_conv2d" => true,
            _ => continue,
        };
        // A's output, through an optional ReLU, read by one conv alone: a depthwise conv after
        // a conv, a conv after a depthwise conv.
        let mut v = f.ops[a].results[0];
        let mut path = Vec::new();
        let mut hswish = None;
        // A ReLU-N clamp(x, 0, N) on the path, and N.
        let mut relu_n: Option<(usize, f64)> = None;
        let next = |v: ValueId| f.ops.iter().position(|o| o.operands.first() == Some(&v));
        let b = loop {
            if uses[v] != 1 || f.returns.contains(&v) {
                break None;
            }
            let Some(u) = next(v) else { break None };
            match f.ops[u].name.as_str() {
                "tosa.clamp"
                    if f.ops[u].float("min_val").ok() == Some(0.0)
                        && f.ops[u]
                            .float("max_val")
                            .is_ok_and(|m| m >= f32::MAX as f64) =>
                {
                    path.push(u);
                    v = f.ops[u].results[0];
                }
                // A ReLU6 (any clamp(x, 0, N)) between a conv and a depthwise conv: the clamp
                // becomes per channel, clamp(y, 0, N/s_c) — at or above the grid's top, so the
                // quantized program clamps at the top as before (not under pow2, whose grid's
                // top lies above the range).
                "tosa.clamp"
                    if f.ops[u].float("min_val").ok() == Some(0.0)
                        && f.ops[u]
                            .float("max_val")
                            .is_ok_and(|m| m > 0.0 && m < f32::MAX as f64)
                        && !a_depthwise
                        && path.is_empty()
                        && scheme != nibble_quantize::Scheme::Pow2 =>
                {
                    relu_n = Some((u, f.ops[u].float("max_val").unwrap_or(6.0)));
                    path.push(u);
                    v = f.ops[u].results[0];
                }
                // A hard-swish between a conv and a depthwise conv, under a symmetric grid (pow2's
                // shift-only requantization has no per-channel hard-swish epilogue; under an
                // asymmetric grid the dips' growth cost as much as the balance gained).
                "tosa.custom"
                    if f.ops[u].custom_name() == "hard_swish"
                        && !a_depthwise
                        && path.is_empty()
                        && scheme == nibble_quantize::Scheme::Symmetric =>
                {
                    hswish = Some(u);
                    path.push(u);
                    v = f.ops[u].results[0];
                }
                "tosa.depthwise_conv2d" if !a_depthwise => break Some(u),
                "tosa.conv2d" if a_depthwise => break Some(u),
                _ => break None,
            }
        };
        let Some(b) = b else { continue };
        let (op_a, op_b) = (f.ops[a].clone(), f.ops[b].clone());
        let (Some((wa_i, wa)), Some((ba_i, ba)), Some((wb_i, wb))) = (
            const_f32(&f, &producers, op_a.operands[1]),
            const_f32(&f, &producers, op_a.operands[2]),
            const_f32(&f, &producers, op_b.operands[1]),
        ) else {
            continue;
        };
        let oc = ba.len();
        let wb_shape = f.ty(op_b.operands[1]).shape().unwrap_or(&[]).to_vec();
        let wa_shape = f.ty(op_a.operands[1]).shape().unwrap_or(&[]).to_vec();
        // B reads A's channel c at weight j with j % oc == c: depthwise [KH, KW, C, 1], conv
        // OHWI [O, KH, KW, C].
        let b_fits = wb_shape.len() == 4
            && if a_depthwise {
                wb_shape[3] as usize == oc
            } else {
                wb_shape[2] as usize == oc && wb_shape[3] == 1
            };
        if oc == 0
            || wa.len() % oc != 0
            || !b_fits
            || (a_depthwise && wa_shape.get(3) != Some(&1))
            || [wa_i, ba_i, wb_i]
                .iter()
                .any(|&i| uses[f.ops[i].results[0]] != 1)
        {
            continue;
        }
        // A's channel of weight j: OHWI rows for a conv, the last-but-one axis for a depthwise.
        let per = wa.len() / oc;
        let chan_a = |j: usize| if a_depthwise { j % oc } else { j / per };
        let s: Vec<f64> = if a_depthwise {
            // Balance the weight ranges of A's channel c and of B's weights reading it.
            let (mut ra, mut rb) = (vec![0f64; oc], vec![0f64; oc]);
            for (j, &w) in wa.iter().enumerate() {
                ra[chan_a(j)] = ra[chan_a(j)].max((w as f64).abs());
            }
            for (j, &w) in wb.iter().enumerate() {
                rb[j % oc] = rb[j % oc].max((w as f64).abs());
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
        } else {
            // The range of each channel B reads (after the activation, if any), and how far
            // below zero a hard-swish takes it: observed on the calibration vectors
            // (`nibble.channel_min/max`) where there are some, else expected from BatchNorm
            // statistics (mean ± 3σ, before the activation; a hard-swish dips to −⅜), else the
            // weight row's norm.
            let read = path.last().map_or(&op_a, |&u| &f.ops[u]);
            let h = |x: f64| x * (x + 3.0).clamp(0.0, 6.0) / 6.0;
            let (r, dip): (Vec<f64>, Vec<f64>) = match (
                read.dense_f32("nibble.channel_min"),
                read.dense_f32("nibble.channel_max"),
                op_a.dense_f32("nibble.bn_mean"),
                op_a.dense_f32("nibble.bn_std"),
            ) {
                (Some(lo), Some(hi), _, _) if lo.len() == oc && hi.len() == oc => lo
                    .iter()
                    .zip(&hi)
                    .map(|(&l, &u)| match hswish {
                        Some(_) => ((u as f64).max(0.0), (-l as f64).max(0.0)),
                        None => ((l as f64).abs().max((u as f64).abs()), 0.0),
                    })
                    .unzip(),
                (_, _, Some(m), Some(s)) if m.len() == oc && s.len() == oc => m
                    .iter()
                    .zip(&s)
                    .map(|(&m, &s)| match (hswish, relu_n) {
                        (Some(_), _) => (h(m as f64 + 3.0 * s as f64).max(0.0), 0.375),
                        (_, Some((_, n))) => ((m.abs() as f64 + 3.0 * s as f64).min(n), 0.0),
                        _ => (m.abs() as f64 + 3.0 * s as f64, 0.0),
                    })
                    .unzip(),
                _ => (0..oc)
                    .map(|c| {
                        let norm = wa[c * per..(c + 1) * per]
                            .iter()
                            .map(|&w| (w as f64).powi(2))
                            .sum::<f64>()
                            .sqrt();
                        (norm, 0.0)
                    })
                    .unzip(),
            };
            let top = r.iter().cloned().fold(0.0f64, f64::max);
            if top.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                continue;
            }
            // Through a hard-swish, channel c's dip grows to dip_c / s_c: s_c ≥ dip_c / top keeps
            // it within the (symmetric) range.
            r.iter()
                .zip(&dip)
                .map(|(&x, &dc)| ((x / top).max(dc / top)).clamp(1.0 / 64.0, 1.0))
                .collect()
        };
        // A hard-swish's scale is stored as f32: divide A by exactly that value.
        let s: Vec<f64> = match hswish {
            Some(_) => s.iter().map(|&k| k as f32 as f64).collect(),
            None => s,
        };
        if let Some((r, n)) = relu_n {
            // N/s_c ≥ N (s ≤ 1) ≥ every value the grid holds.
            let hi: Vec<f64> = s.iter().map(|&k| n / k).collect();
            changed.push((r, hi, false));
        }
        let wa2: Vec<f32> = wa
            .iter()
            .enumerate()
            .map(|(j, &w)| (w as f64 / s[chan_a(j)]) as f32)
            .collect();
        let ba2: Vec<f32> = ba
            .iter()
            .zip(&s)
            .map(|(&b, &k)| (b as f64 / k) as f32)
            .collect();
        // B's weights reading channel c: j % C (depthwise [KH, KW, C, 1] or OHWI).
        let wb2: Vec<f32> = wb
            .iter()
            .enumerate()
            .map(|(j, &w)| (w as f64 * s[j % oc]) as f32)
            .collect();
        set_dense_f32(&mut f, wa_i, "values", &wa2);
        set_dense_f32(&mut f, ba_i, "values", &ba2);
        set_dense_f32(&mut f, wb_i, "values", &wb2);
        for key in ["nibble.bn_mean", "nibble.bn_std"] {
            if let Some(vals) = op_a.dense_f32(key) {
                let scaled: Vec<f32> = vals
                    .iter()
                    .zip(&s)
                    .map(|(&x, &k)| (x as f64 / k) as f32)
                    .collect();
                let ty = nibble_ir::Type::tensor(&[oc as i64], nibble_ir::Elem::F32);
                f.ops[a]
                    .attrs
                    .insert(key.into(), Attr::dense_f32(ty, &scaled));
            }
        }
        if let Some(h) = hswish {
            changed.push((h, s, true));
        }
        pairs += 1;
    }
    // Each rescaled hard-swish becomes `scaled_hard_swish(y, s)` = hard_swish(s_c·y) / s_c (A's
    // channel c now holds y = x / s_c); each ReLU-N `clamp_channels(y, N/s)` (min 0). The
    // per-channel operand is a new constant right before the op.
    changed.sort_by_key(|c| std::cmp::Reverse(c.0));
    for (i, per_channel, hswish) in changed {
        let ty = nibble_ir::Type::tensor(&[per_channel.len() as i64], nibble_ir::Elem::F32);
        let data: Vec<f32> = per_channel.iter().map(|&k| k as f32).collect();
        let sv = f.new_value(ty.clone());
        let konst = nibble_ir::Op {
            name: "tosa.const".into(),
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
            op.attrs.insert(
                "operator_name".into(),
                Attr::Str("scaled_hard_swish".into()),
            );
        } else {
            op.name = "tosa.custom".into();
            let kept = op.attrs.iter().filter(|(k, _)| k.starts_with("nibble."));
            let kept: Vec<(String, Attr)> = kept.map(|(k, v)| (k.clone(), v.clone())).collect();
            op.attrs = [
                ("domain_name".to_string(), Attr::Str("nibble".into())),
                (
                    "operator_name".to_string(),
                    Attr::Str("clamp_channels".into()),
                ),
                (
                    "implementation_attrs".to_string(),
                    Attr::Str("min=0".into()),
                ),
            ]
            .into_iter()
            .chain(kept)
            .collect();
        }
        f.ops.insert(i, konst);
    }
    // Per-channel ranges were for this pass; A's and its activation's are stale now.
    for op in &mut f.ops {
        op.attrs.remove("nibble.channel_min");
        op.attrs.remove("nibble.channel_max");
    }
    tracing::info!(pairs, "layer pairs equalized");
    Ok(f)
}
