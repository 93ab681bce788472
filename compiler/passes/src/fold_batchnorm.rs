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
use nibble_graph::{attrs, tosa};
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

/// One foldable pair: the affine op (index), the convolution it alone reads (index), and the
/// affine op's per-channel values.
type Foldable = (usize, usize, Vec<f32>);

/// The first affine op that reads a single-use convolution and a per-channel constant.
fn find_foldable(f: &Func, producers: &[Option<usize>], uses: &[usize]) -> Option<Foldable> {
    f.ops.iter().enumerate().find_map(|(i, op)| {
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
            if let Some(vals) = per_channel(f, producers, k, channels) {
                return Some((i, ci, vals));
            }
        }
        None
    })
}

/// The convolution's weights and bias with the affine op `affine` (a scale or a shift per
/// output channel, `vals`) folded in.
fn fold(conv: &Op, affine: &Op, w: Vec<f32>, b: Vec<f32>, vals: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let oc = vals.len();
    if affine.name != tosa::MUL {
        return (w, b.iter().zip(vals).map(|(&x, &s)| x + s).collect());
    }
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
    (w, b.iter().zip(vals).map(|(&x, &s)| x * s).collect())
}

#[tracing::instrument(skip_all, name = "nibble-fold-batchnorm")]
fn run(f: &Func, _: &Options) -> Result<Func, String> {
    let mut f = f.clone();
    let mut folded = 0;
    loop {
        let producers = f.producers();
        let uses = f.use_counts();
        let Some((ai, ci, vals)) = find_foldable(&f, &producers, &uses) else {
            break;
        };
        let conv = f.ops[ci].clone();
        let w = const_f32(&f, &producers, conv.operands[1])
            .map(|c| c.1)
            .ok_or("convolution weights must be constant")?;
        let b = const_f32(&f, &producers, conv.operands[2])
            .map(|c| c.1)
            .ok_or("convolution bias must be constant")?;
        let (w, b) = fold(&conv, &f.ops[ai], w, b, &vals);
        replace(&mut f, ai, ci, &w, &b, &vals);
        folded += 1;
    }
    f.compact();
    tracing::info!(folded, "affine ops folded into convolutions");
    Ok(f)
}

/// Puts the folded weights `w` and bias `b` in new constants right before convolution `ci`,
/// and the convolution in the place (and with the result) of affine op `ai`. A grid the model
/// fixed moves with the result (`nibble.scale`, `nibble.zero_point`), and weight scales it
/// fixed are multiplied by |scale| of their channel: the integer weights stay the model's.
fn replace(f: &mut Func, ai: usize, ci: usize, w: &[f32], b: &[f32], vals: &[f32]) {
    let conv = f.ops[ci].clone();
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
        .filter(|(k, _)| attrs::BN_STATS.contains(&k.as_str()) || attrs::GRID.contains(&k.as_str()))
    {
        new_conv.attrs.insert(k.clone(), v.clone());
    }
    let scaled = conv
        .dense_f32(attrs::WEIGHT_SCALES)
        .filter(|_| affine.name == tosa::MUL);
    if let Some(s) = scaled {
        let s: Vec<f32> = (s.iter().enumerate())
            .map(|(c, s)| s * vals[c % vals.len()].abs())
            .collect();
        let ty = nibble_ir::Type::tensor(&[s.len() as i64], nibble_ir::Elem::F32);
        new_conv
            .attrs
            .insert(attrs::WEIGHT_SCALES.into(), Attr::dense_f32(ty, &s));
    }
    let mut ops = Vec::with_capacity(f.ops.len() + 1);
    for (j, op) in f.ops.drain(..).enumerate() {
        if j == ci {
            ops.push(mk(wv, wty.clone(), w, &conv.loc));
            ops.push(mk(bv, bty.clone(), b, &conv.loc));
        } else if j == ai {
            ops.push(new_conv.clone());
        } else {
            ops.push(op);
        }
    }
    f.ops = ops;
}
