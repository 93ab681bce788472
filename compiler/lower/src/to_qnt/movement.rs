//! Data movement: slices, transposes and reshapes keep their input's grid; a concat
//! requantizes every input to the output's range; a resize keeps the grid (nearest) or rescales
//! the sum of its four taps (bilinear).

use super::err;
use super::types::out_type;
use super::{Cx, Lowered};
use crate::LowerError;
use nibble_graph::tosa;
use nibble_ir::{Attr, Elem, Type};
use nibble_qnt as qnt;
use nibble_quantize::fixed_multiplier;

/// `tosa.slice` with a constant start. A slice at the origin that only feeds max pools drops
/// rows/columns no window reads (floor-mode pooling): the pool can read the unsliced tensor.
pub(super) fn slice(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    let g = cx.g;
    let op = &g.ops[i];
    let at_origin = cx
        .shapes
        .get(&op.operands[1])
        .is_some_and(|s| s.iter().all(|&v| v == 0));
    let only_pools = g
        .ops
        .iter()
        .filter(|o| o.operands.contains(&op.results[0]))
        .all(|o| o.name == tosa::MAX_POOL2D);
    if at_origin && only_pools {
        return Ok(Lowered::Value(cx.input(op, 0)?));
    }
    let start = cx
        .shapes
        .get(&op.operands[1])
        .cloned()
        .ok_or_else(|| err(op, "the slice start must be constant"))?;
    let (x, q) = cx.quant_input(op, 0)?;
    let ty = Type::tensor(&cx.shape(op.results[0]), Elem::Quant(q));
    Ok(Lowered::Value(qnt::slice(&mut cx.f, x, ty, &start)))
}

/// `tosa.resize` with constant scale [ny, dy, nx, dx] and offset [oy, ox].
pub(super) fn resize(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    let op = &cx.g.ops[i];
    let (x, q) = cx.quant_input(op, 0)?;
    let param = |k: usize| {
        cx.shapes
            .get(&op.operands[k])
            .cloned()
            .ok_or_else(|| err(op, "resize parameters must be constant"))
    };
    let (scale, offset) = (param(1)?, param(2)?);
    if scale.len() != 4 || offset.len() != 2 || scale.iter().any(|&v| v <= 0) {
        return Err(err(
            op,
            "resize needs scale [ny, dy, nx, dx] > 0 and offset [oy, ox]",
        ));
    }
    let bilinear = matches!(op.attrs.get("mode"), Some(Attr::Raw(m)) if m.contains("BILINEAR"));
    let os = cx.shape(op.results[0]);
    let out = if bilinear {
        // The sum of four weighted taps is at scale s_in / (ny·nx).
        let (ty, out) = out_type(op, &os, cx.scheme())?;
        let fs = fixed_multiplier(q.scale / ((scale[0] * scale[2]) as f64 * out.scale))?;
        let rq = (fs.multiplier, fs.shift);
        qnt::resize(&mut cx.f, x, ty, "bilinear", &scale, &offset, rq)
    } else {
        let ty = Type::tensor(&os, Elem::Quant(q));
        qnt::resize(&mut cx.f, x, ty, "nearest", &scale, &offset, (1 << 30, 30))
    };
    Ok(Lowered::Value(out))
}

/// `tosa.concat`: every input is requantized to the output's range, then copied.
pub(super) fn concat(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    let op = &cx.g.ops[i];
    let (ty, out) = out_type(op, &cx.shape(op.results[0]), cx.scheme())?;
    let mut inputs = Vec::new();
    for k in 0..op.operands.len() {
        let (x, q) = cx.operand(op, k)?;
        inputs.push(if q == out {
            x
        } else {
            let fs = fixed_multiplier(q.scale / out.scale)?;
            let t = Type::tensor(&cx.shape(op.operands[k]), Elem::Quant(out));
            qnt::requant(&mut cx.f, x, t, fs.multiplier, fs.shift)
        });
    }
    Ok(Lowered::Value(qnt::concat(
        &mut cx.f,
        &inputs,
        ty,
        op.int("axis")?,
    )))
}

/// `tosa.transpose` on the input's grid.
pub(super) fn transpose(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    let op = &cx.g.ops[i];
    let (x, q) = cx.quant_input(op, 0)?;
    let ty = Type::tensor(&cx.shape(op.results[0]), Elem::Quant(q));
    let perms: Vec<i32> = op.ints("perms")?.iter().map(|&p| p as i32).collect();
    Ok(Lowered::Value(qnt::transpose(&mut cx.f, x, ty, &perms)))
}

/// `tosa.reshape` on the input's grid.
pub(super) fn reshape(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    let op = &cx.g.ops[i];
    let (x, q) = cx.quant_input(op, 0)?;
    let ty = Type::tensor(&cx.shape(op.results[0]), Elem::Quant(q));
    Ok(Lowered::Value(qnt::reshape(&mut cx.f, x, ty)))
}
