//! `nibble-fold-batchnorm`: folds per-channel affine ops that follow a convolution — the
//! BatchNormalization the importer turns into `tosa.mul` + `tosa.add` by constants, and any
//! scalar or per-output-channel scale/shift — into the convolution's weights and bias, so the
//! quant level sees one op per layer.
//!
//! Precondition: graph level (tosa, f32). A `tosa.mul`/`tosa.add` folds when one operand is a
//! single-use `tosa.conv2d`/`tosa.depthwise_conv2d` with constant weights and bias, and the other
//! a `tosa.const` holding one value or one value per output channel (shape [1,1,1,C]).
//! Postcondition: same function, affine ops folded (dead constants removed).
//!
//! Before:
//! ```mlir
//! %c = tosa.conv2d %x, %w, %b, %zp, %zp {…} : … -> tensor<1x24x96x8xf32>
//! %s = tosa.mul %c, %scale, %shift : (…, tensor<1x1x1x8xf32>, tensor<1xi8>) -> …
//! %y = tosa.add %s, %shift2 : (…, tensor<1x1x1x8xf32>) -> …
//! ```
//! After:
//! ```mlir
//! %y = tosa.conv2d %x, %w', %b', %zp, %zp {…}   // w' = w·scale, b' = b·scale + shift2
//! ```

use crate::{const_f32, Options, PassInfo};
use nibble_graph::tosa;
use nibble_ir::{Attr, Func, Op, ValueId};

pub const PASS: PassInfo = PassInfo {
    name: "nibble-fold-batchnorm",
    summary: "Fold per-channel scale/shift (BatchNormalization) into the preceding convolution",
    run,
};

/// Per-output-channel values of a constant operand (broadcast from one value), if it is one.
fn per_channel(
    f: &Func,
    producers: &[Option<usize>],
    v: ValueId,
    channels: usize,
) -> Option<Vec<f32>> {
    let shape = f.ty(v).shape()?;
    let data = const_f32(f, producers, v)?.1;
    let leading_ones = shape.iter().rev().skip(1).all(|&d| d == 1);
    match data.len() {
        1 => Some(vec![data[0]; channels]),
        n if n == channels && leading_ones && shape.last() == Some(&(channels as i64)) => {
            Some(data)
        }
        _ => None,
    }
}

#[tracing::instrument(skip_all, name = "nibble-fold-batchnorm")]
fn run(f: &Func, _: &Options) -> Result<Func, String> {
    let mut f = f.clone();
    let mut folded = 0;
    loop {
        let producers = f.producers();
        let uses = f.use_counts();
        // Find one foldable (affine op, conv) pair.
        let found = f.ops.iter().enumerate().find_map(|(i, op)| {
            if op.name != tosa::MUL && op.name != tosa::ADD {
                return None;
            }
            let (a, b) = (op.operands[0], op.operands[1]);
            for (act, k) in [(a, b), (b, a)] {
                let ci = producers[act]?;
                let conv = &f.ops[ci];
                if !matches!(conv.name.as_str(), tosa::CONV2D | tosa::DEPTHWISE_CONV2D)
                    || uses[act] != 1
                {
                    continue;
                }
                let channels = *f.ty(act).shape()?.last()? as usize;
                if f.ty(op.results[0]) != f.ty(act) {
                    continue;
                }
                if let Some(vals) = per_channel(&f, &producers, k, channels) {
                    return Some((i, ci, vals));
                }
            }
            None
        });
        let Some((ai, ci, vals)) = found else { break };
        let conv = f.ops[ci].clone();
        let w = const_f32(&f, &producers, conv.operands[1])
            .map(|c| c.1)
            .ok_or("convolution weights must be constant")?;
        let b = const_f32(&f, &producers, conv.operands[2])
            .map(|c| c.1)
            .ok_or("convolution bias must be constant")?;
        let oc = vals.len();
        let (w, b) = if f.ops[ai].name == tosa::MUL {
            // conv2d weights are [OC, …] (channel-major); depthwise [KH, KW, C, M] (channel-minor).
            let w: Vec<f32> = if conv.name == tosa::CONV2D {
                let per = w.len() / oc;
                w.iter()
                    .enumerate()
                    .map(|(j, &x)| x * vals[j / per])
                    .collect()
            } else {
                w.iter()
                    .enumerate()
                    .map(|(j, &x)| x * vals[j % oc])
                    .collect()
            };
            (
                w,
                b.iter()
                    .zip(&vals)
                    .map(|(&x, &s)| x * s)
                    .collect::<Vec<f32>>(),
            )
        } else {
            (
                w,
                b.iter()
                    .zip(&vals)
                    .map(|(&x, &s)| x + s)
                    .collect::<Vec<f32>>(),
            )
        };
        // New constants right before the conv; the conv takes the affine op's place and result.
        let wty = f.ty(conv.operands[1]).clone();
        let bty = f.ty(conv.operands[2]).clone();
        let wv = f.new_value(wty.clone());
        let bv = f.new_value(bty.clone());
        let mk = |v: ValueId, ty, data: &[f32], loc: &Option<String>| Op {
            name: tosa::CONST.into(),
            operands: vec![],
            results: vec![v],
            attrs: [("values".to_string(), Attr::dense_f32(ty, data))]
                .into_iter()
                .collect(),
            loc: loc.clone(),
        };
        let affine = f.ops[ai].clone();
        let mut new_conv = conv.clone();
        new_conv.operands[1] = wv;
        new_conv.operands[2] = bv;
        new_conv.results = affine.results.clone();
        // BatchNormalization's output statistics (for data-free ranges) move with the result.
        for (k, v) in affine
            .attrs
            .iter()
            .filter(|(k, _)| k.starts_with("nibble.bn_"))
        {
            new_conv.attrs.insert(k.clone(), v.clone());
        }
        let mut ops = Vec::with_capacity(f.ops.len() + 1);
        for (j, op) in f.ops.drain(..).enumerate() {
            if j == ci {
                ops.push(mk(wv, wty.clone(), &w, &conv.loc));
                ops.push(mk(bv, bty.clone(), &b, &conv.loc));
            } else if j == ai {
                ops.push(new_conv.clone());
            } else {
                ops.push(op);
            }
        }
        f.ops = ops;
        folded += 1;
    }
    f.compact();
    tracing::info!(folded, "affine ops folded into convolutions");
    Ok(f)
}
