//! Tables: a unary activation on int8 as a 256-entry `qnt.lut` (with the scalar steps after
//! it folded in), and the fixed-point tables other ops interpolate or index: the Q15 sigmoid
//! of `qnt.swish` and `qnt.squeeze_excite`, and the Q15 exponential of `qnt.softmax`.

use super::elementwise::elementwise_chain;
use super::types::{out_type, stored, BITS};
use super::{err, Cx, Lowered};
use crate::LowerError;
use nibble_graph::layers::label;
use nibble_graph::Activation;
use nibble_ir::Op;
use nibble_qnt as qnt;

/// Whether `op` is a unary activation the conversion tabulates (tosa.sigmoid/tanh/erf, nibble
/// hard_swish/hard_sigmoid/swish/gelu).
pub(super) fn is_table(op: &Op) -> bool {
    Activation::of(op).ok().flatten().is_some()
}

/// A unary activation on int8 is a 256-entry table: dequantize every input code, apply the
/// function, quantize to the output's own range. Scalar affine steps and clamps that follow
/// (`a·f(x) + b`, as in learnable-affine blocks) join the table, so the chain rounds once.
pub(super) fn lookup_table(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    let g = cx.g;
    let op = &g.ops[i];
    let (x, q) = cx.quant_input(op, 0)?;
    let act = Activation::of(op)
        .map_err(|e| err(op, e.to_string()))?
        .ok_or_else(|| err(op, "no activation function"))?;
    let (last, steps) = elementwise_chain(g, i, &cx.uses, &cx.consts);
    let last_op = &g.ops[last];
    let (ty, out) = out_type(last_op, &cx.shape(last_op.results[0]), cx.scheme())?;
    if out.bits != BITS {
        return Err(err(
            last_op,
            "a lookup table writes 8-bit values: this result cannot be 16-bit",
        ));
    }
    let table: Vec<i8> = (-128i64..=127)
        .map(|code| {
            let x = act.apply((q.scale * (code - q.zero_point) as f64) as f32) as f64;
            let y = steps.iter().fold(x, |y, s| s.apply(y));
            stored(&out, y) as i8
        })
        .collect();
    let value = qnt::lut(&mut cx.f, x, ty, &table, label(op));
    Ok(Lowered::Chain { last, value })
}

/// `round(2^15 · sigmoid((k − 128) / 16))` for k in 0..=256: the sigmoid over [-8, 8] that
/// `qnt.swish` and `qnt.squeeze_excite` interpolate.
pub(super) fn sigmoid_table() -> Vec<i32> {
    (0..=256)
        .map(|k| (32768.0 / (1.0 + (-(k as f64 - 128.0) / 16.0).exp())).round() as i32)
        .collect()
}

/// `round(2^15 · exp(s · (k − 255)))` for k in 0..256: `qnt.softmax`'s exponential of the
/// distance below a row's maximum, for inputs at scale `s`.
pub(super) fn exp_table(s: f64) -> Vec<i32> {
    (0..256)
        .map(|k| ((s * (k - 255) as f64).exp() * 32768.0).round() as i32)
        .collect()
}
