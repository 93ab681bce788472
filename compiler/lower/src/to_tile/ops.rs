//! The qnt ops that become one tile op each: host boundaries and constants, requantizations
//! (plain and PReLU), tables, clamps, pools, data movement, elementwise add/mul, and the
//! whole-layer ops (softmax, layer norm, squeeze-excite, resize) whose fixed-point parameters
//! the qnt level already holds.

use super::requant::{carried, i32_list, prelu_requant, quant_io, requant_params};
use super::{err, Converted, Cx};
use crate::LowerError;
use nibble_ir::Attr;
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
    let v = tile::quantize(&mut cx.f, x, ty, t.scale, t.zero_point);
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
    let v = tile::dequantize(&mut cx.f, x, ty, t.scale, t.zero_point);
    Ok(Converted::of(op, v))
}

/// `qnt.const`: the same data on its storage type.
pub(super) fn constant(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (ty, bytes) = op.dense("value")?;
    let value = Attr::Dense(ty.clone(), bytes.to_vec());
    let ty = cx.storage(op.results[0]);
    let v = tile::constant(&mut cx.f, ty, value);
    Ok(Converted::of(op, v))
}

/// A standalone `qnt.requant` (single rounding only).
pub(super) fn requant(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (iq, oq) = quant_io(cx.q, op, 0)?;
    let rq = requant_params(op, iq, oq, "multiplier", "shift")?;
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let v = tile::requant(&mut cx.f, x, ty, rq);
    if op.attrs.get("rounding_mode") != Some(&Attr::Str(qnt::SINGLE_ROUND.into())) {
        return Err(err(
            op,
            "only rounding_mode = \"SINGLE_ROUND\" is supported",
        ));
    }
    Ok(Converted::of(op, v))
}

/// A standalone `qnt.prelu`: a requantization with negative-side multipliers.
pub(super) fn prelu(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (iq, oq) = quant_io(cx.q, op, 0)?;
    let rq = prelu_requant(op, iq.zero_point, oq)?;
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let v = tile::requant(&mut cx.f, x, ty, rq);
    Ok(Converted::of(op, v))
}

/// `qnt.lut`: a 256-entry table on an 8-bit input.
pub(super) fn lut(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    if cx.q.ty(op.operands[0]).quant().map(|t| t.bits) != Some(8) {
        return Err(err(op, "lookup tables need an 8-bit input"));
    }
    let (ty, bytes) = op.dense("table")?;
    let table = Attr::Dense(ty.clone(), bytes.to_vec());
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let v = tile::lut(&mut cx.f, x, ty, table);
    Ok(Converted::of(op, v))
}

/// `qnt.clamp` on its input's grid.
pub(super) fn clamp(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let x = cx.input(op, 0)?;
    let v = tile::clamp(&mut cx.f, x, op.int("min")?, op.int("max")?);
    Ok(Converted::of(op, v))
}

/// `qnt.max_pool2d`.
pub(super) fn max_pool(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let (k, s, p) = (op.ints("kernel")?, op.ints("stride")?, op.ints("pad")?);
    let v = tile::max_pool2d(&mut cx.f, x, ty, &k, &s, &p);
    Ok(Converted::of(op, v))
}

/// `qnt.avg_pool2d` with its window-count multipliers.
pub(super) fn avg_pool(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (iq, oq) = quant_io(cx.q, op, 0)?;
    let rq = requant_params(op, iq, oq, "multiplier", "shift")?;
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let (k, s, p) = (op.ints("kernel")?, op.ints("stride")?, op.ints("pad")?);
    let v = tile::avg_pool2d(&mut cx.f, x, ty, &k, &s, &p, rq);
    Ok(Converted::of(op, v))
}

/// `qnt.transpose`.
pub(super) fn transpose(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let perms: Vec<i32> = op.ints("perms")?.iter().map(|&p| p as i32).collect();
    let v = tile::transpose(&mut cx.f, x, ty, &perms);
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
    let v = tile::slice(&mut cx.f, x, ty, &op.ints("start")?);
    Ok(Converted::of(op, v))
}

/// `qnt.concat` (its inputs are already on the output's grid).
pub(super) fn concat(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let inputs = (0..op.operands.len())
        .map(|k| cx.input(op, k))
        .collect::<Result<Vec<_>, _>>()?;
    let ty = cx.storage(op.results[0]);
    let v = tile::concat(&mut cx.f, &inputs, ty, op.int("axis")?);
    Ok(Converted::of(op, v))
}

/// `qnt.add` / `qnt.mul` with their zero points and the output's full range as clamp.
pub(super) fn add_mul(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (aq, oq) = quant_io(cx.q, op, 0)?;
    let (bq, _) = quant_io(cx.q, op, 1)?;
    let p = tile::Binary {
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
    let shift = op.int("shift")? as i32;
    let v = if op.name == qnt::ADD {
        tile::add(&mut cx.f, a, b, ty, p, &i32_list(op, "multiplier")?, shift)
    } else {
        tile::mul(&mut cx.f, a, b, ty, p, op.int("multiplier")? as i32, shift)
    };
    Ok(Converted::of(op, v))
}

/// `qnt.softmax` with its exponential table.
pub(super) fn softmax(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (_, oq) = quant_io(cx.q, op, 0)?;
    let (ty, bytes) = op.dense("exp_table")?;
    let table = Attr::Dense(ty.clone(), bytes.to_vec());
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let frac_bits = op.int("frac_bits")?;
    let clamp = (oq.qmin(), oq.qmax());
    let v = tile::softmax(&mut cx.f, x, ty, table, frac_bits, oq.zero_point, clamp);
    Ok(Converted::of(op, v))
}

/// `qnt.layer_norm`. Σ (c·x - Σx)² stays within 64 bits: c³·2^32 < 2^63 for 16-bit inputs.
pub(super) fn layer_norm(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (iq, oq) = quant_io(cx.q, op, 0)?;
    if iq.bits == 16 && *cx.shape(op.operands[0]).last().unwrap_or(&1) > 1024 {
        return Err(err(op, "a 16-bit input needs at most 1024 channels per row (the fixed-point variance would overflow)"));
    }
    let params = carried(op, &["multiplier", "shift", "bias", "eps_term"])?;
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let zps = (iq.zero_point, oq.zero_point);
    let v = tile::layer_norm(&mut cx.f, x, ty, params, zps, (oq.qmin(), oq.qmax()));
    Ok(Converted::of(op, v))
}

/// The fixed-point parameters `qnt.squeeze_excite` carries to the tile op.
const SQUEEZE_EXCITE_PARAMS: &[&str] = &[
    "pool_multiplier",
    "pool_shift",
    "hidden_multiplier",
    "hidden_shift",
    "hidden_max",
    "hidden_table",
    "hidden_out_shift",
    "gate_multiplier",
    "gate_shift",
    "gate_table",
    "multiplier",
    "shift",
];

/// `qnt.squeeze_excite` with its weights and biases.
pub(super) fn squeeze_excite(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (iq, oq) = quant_io(cx.q, op, 0)?;
    let params = carried(op, SQUEEZE_EXCITE_PARAMS)?;
    let x = cx.input(op, 0)?;
    let weights = [
        cx.input(op, 1)?,
        cx.input(op, 2)?,
        cx.input(op, 3)?,
        cx.input(op, 4)?,
    ];
    let ty = cx.storage(op.results[0]);
    let zps = (iq.zero_point, oq.zero_point);
    let clamp = (oq.qmin(), oq.qmax());
    let v = tile::squeeze_excite(&mut cx.f, x, weights, ty, params, zps, clamp);
    Ok(Converted::of(op, v))
}

/// `qnt.resize`, nearest or bilinear, with its one multiplier.
pub(super) fn resize(cx: &mut Cx<'_>, i: usize) -> Result<Converted, LowerError> {
    let op = &cx.q.ops[i];
    let (iq, oq) = quant_io(cx.q, op, 0)?;
    let mut rq = requant_params(op, iq, oq, "multiplier", "shift")?;
    rq.multiplier = vec![op.int("multiplier")? as i32];
    rq.shift = vec![op.int("shift")? as i32];
    let mode = match op.attrs.get("mode") {
        Some(Attr::Str(m)) if m == "nearest" || m == "bilinear" => m.clone(),
        _ => return Err(err(op, "mode must be \"nearest\" or \"bilinear\"")),
    };
    let (x, ty) = (cx.input(op, 0)?, cx.storage(op.results[0]));
    let (scale, offset) = (op.ints("scale")?, op.ints("image_offset")?);
    let v = tile::resize(&mut cx.f, x, ty, &mode, &scale, &offset, rq);
    Ok(Converted::of(op, v))
}
