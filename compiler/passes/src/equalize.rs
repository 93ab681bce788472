//! `nibble-equalize`: cross-layer equalization of activation ranges. A layer whose output
//! channels have very different ranges wastes a per-tensor int8 grid on its small channels. Where
//! a conv A feeds a depthwise conv B alone — directly or through a ReLU `clamp(x, 0, +∞)`, which
//! commutes with positive scaling (`relu(x/s) = relu(x)/s`; ReLU6 and hard-swish do not) —
//! channel c of A can be divided by s_c (its weights and bias) and B's channel c multiplied by
//! s_c without changing the function. Choosing `s_c = r_c / max r` (r_c the channel's expected
//! range: from BatchNorm statistics `|β| + 3γ` where the importer kept them, else from the
//! weight row's norm) gives every channel the range of the widest one. B's weights are quantized
//! per channel (`--granularity channel`), so scaling them costs nothing there. Scales are clamped
//! to [1/64, 1].
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
//! rescaled per channel.
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

use crate::{Options, PassInfo};
use nibble_ir::{model, Attr, Func, ValueId};

pub const PASS: PassInfo = PassInfo {
    name: "nibble-equalize",
    summary: "Cross-layer equalization: a conv's output ranges into the depthwise conv it feeds; depthwise and pointwise weight ranges",
    run,
};

/// The f32 data of a `tosa.const` value and its op index.
fn konst(f: &Func, producers: &[Option<usize>], v: ValueId) -> Option<(usize, Vec<f32>)> {
    let i = producers[v]?;
    let op = &f.ops[i];
    if op.name != "tosa.const" {
        return None;
    }
    let (ty, bytes) = op.dense("values").ok()?;
    (ty.elem() == Some(&nibble_ir::Elem::F32)).then(|| (i, model::dense_f32(bytes)))
}

fn set_const(f: &mut Func, i: usize, data: &[f32]) {
    let ty = f.ops[i].dense("values").map(|(t, _)| t.clone());
    if let Ok(ty) = ty {
        f.ops[i]
            .attrs
            .insert("values".into(), Attr::dense_f32(ty, data));
    }
}

#[tracing::instrument(skip_all, name = "nibble-equalize")]
fn run(f: &Func, _: &Options) -> Result<Func, String> {
    let mut f = f.clone();
    let producers = f.producers();
    let uses = f.use_counts();
    let mut pairs = 0;
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
                "tosa.depthwise_conv2d" if !a_depthwise => break Some(u),
                "tosa.conv2d" if a_depthwise => break Some(u),
                _ => break None,
            }
        };
        let Some(b) = b else { continue };
        let (op_a, op_b) = (f.ops[a].clone(), f.ops[b].clone());
        let (Some((wa_i, wa)), Some((ba_i, ba)), Some((wb_i, wb))) = (
            konst(&f, &producers, op_a.operands[1]),
            konst(&f, &producers, op_a.operands[2]),
            konst(&f, &producers, op_b.operands[1]),
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
            // Expected range of each output channel of A.
            let r: Vec<f64> = match (
                op_a.dense_f32("nibble.bn_mean"),
                op_a.dense_f32("nibble.bn_std"),
            ) {
                (Some(m), Some(s)) if m.len() == oc && s.len() == oc => m
                    .iter()
                    .zip(&s)
                    .map(|(&m, &s)| m.abs() as f64 + 3.0 * s as f64)
                    .collect(),
                _ => (0..oc)
                    .map(|c| {
                        wa[c * per..(c + 1) * per]
                            .iter()
                            .map(|&w| (w as f64).powi(2))
                            .sum::<f64>()
                            .sqrt()
                    })
                    .collect(),
            };
            let top = r.iter().cloned().fold(0.0f64, f64::max);
            if top.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                continue;
            }
            r.iter()
                .map(|&x| (x / top).clamp(1.0 / 64.0, 1.0))
                .collect()
        };
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
        set_const(&mut f, wa_i, &wa2);
        set_const(&mut f, ba_i, &ba2);
        set_const(&mut f, wb_i, &wb2);
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
        pairs += 1;
    }
    tracing::info!(pairs, "layer pairs equalized");
    Ok(f)
}
