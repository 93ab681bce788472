//! Layers with an i32 accumulator: a conv / depthwise / transposed conv / fully connected op
//! and the `qnt.requant`, `qnt.prelu`, `qnt.hard_swish` or `qnt.swish` that alone reads its
//! accumulator (and a `qnt.clamp` after that) become one tile op with the fused requantization;
//! an attention `qnt.matmul` and its requant likewise. The runtime's limits on the reduction
//! (16384 taps, an int32 accumulator that cannot overflow) are checked here.

use super::requant::{hard_swish_requant, prelu_requant, quant_io, requant_of, swish_requant};
use super::{err, Converted, Cx};
use crate::widths::layer_overflow;
use crate::LowerError;
use nibble_ir::{Op, QuantType, ValueId};
use nibble_qnt as qnt;
use nibble_tile as tile;

/// The fused requantization of layer op `i`: the epilogue op reading its accumulator and a
/// clamp after it, marked converted. Returns the requantization, the qnt value it ends in and
/// the layer's input type.
fn fuse_epilogue(
    cx: &mut Cx<'_>,
    i: usize,
) -> Result<(tile::Requant, ValueId, QuantType), LowerError> {
    let q = cx.q;
    let op = &q.ops[i];
    // The accumulator must feed exactly one requant or PReLU (optionally followed by a clamp).
    let rq_i = match cx.only_user(op.results[0]) {
        Some(r)
            if matches!(
                q.ops[r].name.as_str(),
                qnt::REQUANT | qnt::PRELU | qnt::HARD_SWISH | qnt::SWISH
            ) =>
        {
            r
        }
        _ => return Err(err(
            op,
            "its i32 accumulator must be used by exactly one qnt.requant, qnt.prelu, qnt.hard_swish or qnt.swish",
        )),
    };
    let rq_op = &q.ops[rq_i];
    cx.done[rq_i] = true;
    let mut result = rq_op.results[0];
    let out_q = q
        .ty(result)
        .quant()
        .ok_or_else(|| err(rq_op, "result must be quantized"))?;
    let in_q = q
        .ty(op.operands[0])
        .quant()
        .ok_or_else(|| err(op, "input must be quantized"))?;
    let mut rq = match rq_op.name.as_str() {
        qnt::PRELU => prelu_requant(rq_op, in_q, out_q)?,
        qnt::HARD_SWISH => hard_swish_requant(rq_op, in_q, out_q)?,
        qnt::SWISH => swish_requant(rq_op, in_q, out_q)?,
        _ => requant_of(rq_op, in_q, out_q)?,
    };
    if let Some(c) = cx
        .only_user(result)
        .filter(|&c| q.ops[c].name == qnt::CLAMP)
    {
        let clamp = qnt::Clamp::from_op(&q.ops[c])?;
        rq.clamp_min = rq.clamp_min.max(clamp.min);
        rq.clamp_max = rq.clamp_max.min(clamp.max);
        cx.done[c] = true;
        result = q.ops[c].results[0];
    }
    Ok((rq, result, in_q))
}

/// The C kernels gather at most 16384 taps per output and accumulate in int32: |bias| +
/// Σ|w|·max|x - zp| must fit.
fn check_reduction(cx: &Cx<'_>, op: &Op, in_q: QuantType) -> Result<(), LowerError> {
    let ws = cx.shape(op.operands[1]);
    let k: i64 = if op.name == qnt::DEPTHWISE_CONV2D {
        ws.iter().take(2).product()
    } else {
        ws.iter().skip(1).product()
    };
    if k > 16384 {
        return Err(err(
            op,
            format!(
                "a reduction over {k} taps exceeds the runtime's 16384-tap patch; split the layer"
            ),
        ));
    }
    let x_max = if in_q.bits == 16 { 32768 } else { 255 };
    if let Some((c, b, sw)) = layer_overflow(cx.q, op, x_max) {
        return Err(err(op, format!("its int32 accumulator may overflow: output channel {c} has |bias| {b} + Σ|w| {sw} × {x_max} ≥ 2^31{}", if in_q.bits == 16 { " (its input is 16-bit: keep that tensor at 8 bits)" } else { "; split the layer" })));
    }
    Ok(())
}

/// `qnt.conv2d`, `qnt.depthwise_conv2d`, `qnt.transpose_conv2d` and `qnt.fully_connected` with
/// their epilogue. Tiled ops get one tile, the whole output, until `nibble-tile-size` sizes
/// them for a target.
pub(super) fn layer(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let q = cx.q;
    let op = &q.ops[i];
    let (rq, result, in_q) = fuse_epilogue(cx, i)?;
    let (x, w, b) = (cx.input(op, 0)?, cx.input(op, 1)?, cx.input(op, 2)?);
    let out_ty = cx.storage(result);
    check_reduction(cx, op, in_q)?;
    let os = cx.shape(op.results[0]);
    let whole = || match os[..] {
        [_, rows, _, channels] => Ok([rows, channels]),
        _ => Err(err(op, "its result must be NHWC")),
    };
    let channels = *cx.shape(op.operands[1]).first().unwrap_or(&1);
    let weight_bits = match op.attrs.get(qnt::keys::WEIGHT_BITS) {
        Some(nibble_ir::Attr::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let f = &mut cx.f;
    let value = match op.name.as_str() {
        qnt::TRANSPOSE_CONV2D => {
            let window = qnt::TransposeWindow::from_op(op)?;
            let p = tile::TransposeConv2d { window, rq };
            tile::transpose_conv2d(f, [x, w, b], out_ty, &p)
        }
        qnt::DEPTHWISE_CONV2D | qnt::CONV2D => {
            let window = qnt::ConvWindow::from_op(op)?;
            let name = if op.name == qnt::CONV2D {
                tile::CONV2D
            } else {
                tile::DEPTHWISE_CONV2D
            };
            let p = tile::Conv2d {
                window,
                rq,
                tile: whole()?,
                weight_bits: weight_bits.clone(),
            };
            tile::conv2d(f, name, [x, w, b], out_ty, &p)
        }
        _ => {
            let p = tile::FullyConnected {
                rq,
                tile: [channels],
                weight_bits: weight_bits.clone(),
            };
            tile::fully_connected(f, [x, w, b], out_ty, &p)
        }
    };
    Ok(Converted { result, value })
}

/// `qnt.matmul` of two activations and the requant that alone reads its accumulator.
pub(super) fn matmul(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let q = cx.q;
    let op = &q.ops[i];
    let rq_i = match cx.only_user(op.results[0]) {
        Some(r) if q.ops[r].name == qnt::REQUANT => r,
        _ => {
            return Err(err(
                op,
                "its i32 accumulator must be used by exactly one qnt.requant",
            ))
        }
    };
    cx.done[rq_i] = true;
    let result = q.ops[rq_i].results[0];
    let (aq, _) = quant_io(q, op, 0)?;
    let (bq, _) = quant_io(q, op, 1)?;
    let (_, oq) = quant_io(q, &q.ops[rq_i], 0)?;
    let k = cx.shape(op.operands[0]).get(2).copied().unwrap_or(0);
    if k * 255 * 255 >= 1i64 << 31 {
        return Err(err(
            op,
            format!("a reduction over {k} products may overflow the int32 accumulator"),
        ));
    }
    let rq = requant_of(&q.ops[rq_i], aq, oq)?;
    let (a, b) = (cx.input(op, 0)?, cx.input(op, 1)?);
    let ty = cx.storage(result);
    let p = tile::Matmul {
        rq,
        rhs_zp: bq.zero_point,
    };
    let value = tile::matmul(&mut cx.f, a, b, ty, &p);
    Ok(Converted { result, value })
}
