//! The qnt ops that become one tile op each: host boundaries and constants, requantizations
//! (plain and PReLU), tables, clamps, pools, data movement, elementwise add/mul, and the
//! whole-layer ops (softmax, layer norm, squeeze-excite, resize) whose fixed-point parameters
//! the qnt level already holds.

use super::requant::{prelu_requant, quant_io, requant_of, rescale};
use super::{err, Converted, Cx};
use crate::LowerError;
use nibble_qnt as qnt;
use nibble_tile as tile;

/// `qnt.quantize`: the host input onto its grid.
pub(super) fn quantize(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let t =
        cx.q.ty(op.results[0])
            .quant()
            .ok_or_else(|| err(op, "result must be quantized"))?;
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let b = tile::Boundary {
        scale: t.scale,
        zero_point: t.zero_point,
    };
    let v = tile::quantize(&mut cx.f, x, ty, b);
    Ok(Converted::of(op, v))
}

/// `qnt.dequantize`: a model output back to f32.
pub(super) fn dequantize(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let t =
        cx.q.ty(op.operands[0])
            .quant()
            .ok_or_else(|| err(op, "operand must be quantized"))?;
    let (x, ty) = (cx.input(op, 0)?, cx.q.ty(op.results[0]).clone());
    let b = tile::Boundary {
        scale: t.scale,
        zero_point: t.zero_point,
    };
    let v = tile::dequantize(&mut cx.f, x, ty, b);
    Ok(Converted::of(op, v))
}

/// `qnt.const`: the same data on its storage type; weights on a grid below 8 bits (i4, i2) are
/// held as i8 values at the tile level (the layer's `weight_bits` names their grid).
pub(super) fn constant(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let value = qnt::Const::from_op(op)?.attr();
    let mut ty = cx.storage(op.results[0]);
    if matches!(ty.elem(), Some(nibble_ir::Elem::Int(b)) if *b < 8) {
        ty = ty.with_elem(nibble_ir::Elem::Int(8));
    }
    let v = tile::constant(&mut cx.f, ty, value);
    Ok(Converted::of(op, v))
}

/// A standalone `qnt.requant` (single rounding only).
pub(super) fn requant(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (iq, oq) = quant_io(cx.q, op, 0)?;
    let rq = requant_of(op, iq, oq)?;
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let v = tile::requant(&mut cx.f, x, ty, &rq);
    Ok(Converted::of(op, v))
}

/// A standalone `qnt.prelu`: a requantization with negative-side multipliers.
pub(super) fn prelu(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (iq, oq) = quant_io(cx.q, op, 0)?;
    let rq = prelu_requant(op, iq, oq)?;
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let v = tile::requant(&mut cx.f, x, ty, &rq);
    Ok(Converted::of(op, v))
}

/// `qnt.lut`: a 256-entry table on an 8-bit input.
pub(super) fn lut(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    if cx.q.ty(op.operands[0]).quant().map(|t| t.bits) != Some(8) {
        return Err(err(op, "lookup tables need an 8-bit input"));
    }
    let table = qnt::Lut::from_op(op)?.table;
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let v = tile::lut(&mut cx.f, x, ty, &tile::Lut { table });
    Ok(Converted::of(op, v))
}

/// `qnt.clamp` on its input's grid.
pub(super) fn clamp(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let x = cx.input(op, 0)?;
    let qnt::Clamp { min, max } = qnt::Clamp::from_op(op)?;
    let v = tile::clamp(&mut cx.f, x, &tile::Clamp { min, max });
    Ok(Converted::of(op, v))
}

/// `qnt.max_pool2d`.
pub(super) fn max_pool(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let window = qnt::Window::from_op(op)?;
    let v = tile::max_pool2d(&mut cx.f, x, ty, &tile::MaxPool2d { window });
    Ok(Converted::of(op, v))
}

/// `qnt.avg_pool2d` with its window-count multipliers.
pub(super) fn avg_pool(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (iq, oq) = quant_io(cx.q, op, 0)?;
    let pool = qnt::AvgPool2d::from_op(op)?;
    let rq = rescale(iq, oq, pool.multiplier, pool.shift);
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let p = tile::AvgPool2d {
        window: pool.window,
        rq,
        acc_bits: None,
    };
    let v = tile::avg_pool2d(&mut cx.f, x, ty, &p);
    Ok(Converted::of(op, v))
}

/// `qnt.transpose`.
pub(super) fn transpose(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let params = qnt::Transpose::from_op(op)?;
    let v = tile::transpose(&mut cx.f, x, ty, &tile::Transpose { params });
    Ok(Converted::of(op, v))
}

/// `qnt.reshape` (an alias of its input's buffer).
pub(super) fn reshape(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let v = tile::reshape(&mut cx.f, x, ty);
    Ok(Converted::of(op, v))
}

/// `qnt.slice`.
pub(super) fn slice(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let params = qnt::Slice::from_op(op)?;
    let v = tile::slice(&mut cx.f, x, ty, &tile::Slice { params });
    Ok(Converted::of(op, v))
}

/// `qnt.concat` (its inputs are already on the output's grid).
pub(super) fn concat(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let inputs = (0..op.operands.len())
        .map(|k| cx.input(op, k))
        .collect::<Result<Vec<_>, _>>()?;
    let ty = cx.storage(op.results[0]);
    let params = qnt::Concat::from_op(op)?;
    let v = tile::concat(&mut cx.f, &inputs, ty, &tile::Concat { params });
    Ok(Converted::of(op, v))
}

/// `qnt.add` / `qnt.mul` with their zero points and the output's full range as clamp.
pub(super) fn add_mul(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (aq, oq) = quant_io(cx.q, op, 0)?;
    let (bq, _) = quant_io(cx.q, op, 1)?;
    let io = tile::Binary {
        input_zp: [aq.zero_point, bq.zero_point],
        output_zp: oq.zero_point,
        clamp_min: oq.qmin(),
        clamp_max: oq.qmax(),
    };
    let (a, b, ty) = (
        cx.input(op, 0)?,
        cx.input(op, 1)?,
        cx.storage(op.results[0]),
    );
    let v = if op.name == qnt::ADD {
        let qnt::Add { multiplier, shift } = qnt::Add::from_op(op)?;
        let shift = shift as i64;
        let p = tile::Add {
            io,
            multiplier,
            shift,
        };
        tile::add(&mut cx.f, a, b, ty, &p)
    } else {
        let qnt::Mul { multiplier, shift } = qnt::Mul::from_op(op)?;
        let (multiplier, shift) = (multiplier as i64, shift as i64);
        let p = tile::Mul {
            io,
            multiplier,
            shift,
        };
        tile::mul(&mut cx.f, a, b, ty, &p)
    };
    Ok(Converted::of(op, v))
}

/// `qnt.softmax` with its exponential table.
pub(super) fn softmax(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (_, oq) = quant_io(cx.q, op, 0)?;
    let s = qnt::Softmax::from_op(op)?;
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let p = tile::Softmax {
        exp_table: s.exp_table,
        frac_bits: s.frac_bits,
        output_zp: oq.zero_point,
        clamp_min: oq.qmin(),
        clamp_max: oq.qmax(),
    };
    let v = tile::softmax(&mut cx.f, x, ty, &p);
    Ok(Converted::of(op, v))
}

/// `qnt.layer_norm`. Σ (c·x - Σx)² stays within 64 bits: c³·2^32 < 2^63 for 16-bit inputs.
pub(super) fn layer_norm(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (iq, oq) = quant_io(cx.q, op, 0)?;
    if iq.bits == 16 && *cx.shape(op.operands[0]).last().unwrap_or(&1) > 1024 {
        return Err(err(op, "a 16-bit input needs at most 1024 channels per row (the fixed-point variance would overflow)"));
    }
    let params = qnt::LayerNorm::from_op(op)?;
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let io = io(iq, oq);
    let v = tile::layer_norm(&mut cx.f, x, ty, &tile::LayerNorm { params, io });
    Ok(Converted::of(op, v))
}

/// The zero points of `iq` and `oq` and the full output range as clamp.
fn io(iq: nibble_ir::QuantType, oq: nibble_ir::QuantType) -> tile::Io {
    tile::Io {
        input_zp: iq.zero_point,
        output_zp: oq.zero_point,
        clamp_min: oq.qmin(),
        clamp_max: oq.qmax(),
    }
}

/// `qnt.squeeze_excite` with its weights and biases (and their grid, `weight_bits`).
pub(super) fn squeeze_excite(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (iq, oq) = quant_io(cx.q, op, 0)?;
    let params = qnt::SqueezeExcite::from_op(op)?;
    let x = cx.input(op, 0)?;
    let weights = [
        cx.input(op, 1)?,
        cx.input(op, 2)?,
        cx.input(op, 3)?,
        cx.input(op, 4)?,
    ];
    let ty = cx.storage(op.results[0]);
    let weight_bits = match op.attrs.get(qnt::keys::WEIGHT_BITS) {
        Some(nibble_ir::Attr::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let p = tile::SqueezeExcite {
        params,
        io: io(iq, oq),
        weight_bits,
    };
    let v = tile::squeeze_excite(&mut cx.f, x, weights, ty, &p);
    Ok(Converted::of(op, v))
}

/// `qnt.resize`, nearest or bilinear, with its one multiplier.
pub(super) fn resize(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (iq, oq) = quant_io(cx.q, op, 0)?;
    let r = qnt::Resize::from_op(op)?;
    let rq = rescale(iq, oq, vec![r.multiplier], vec![r.shift]);
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let p = tile::Resize {
        geometry: r.geometry,
        rq,
    };
    let v = tile::resize(&mut cx.f, x, ty, &p);
    Ok(Converted::of(op, v))
}
