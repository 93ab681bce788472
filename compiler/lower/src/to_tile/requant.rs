//! The requantization records of tile ops (`tile::Requant`) read from the qnt ops they fuse:
//! plain multipliers and shifts, PReLU's two sides, and the output rescaling of the fixed-point
//! hard-swish / swish epilogues; and the per-tensor types a conversion reads.

use super::err;
use crate::LowerError;
use nibble_ir::{Attr, Func, Op, QuantType};
use nibble_tile as tile;

/// An integer-list attribute as i32s.
pub(super) fn i32_list(op: &Op, key: &str) -> Result<Vec<i32>, LowerError> {
    Ok(op.int_list(key)?.iter().map(|&v| v as i32).collect())
}

/// The per-tensor quantized types of operand `k` and of the result of `op`.
pub(super) fn quant_io(q: &Func, op: &Op, k: usize) -> Result<(QuantType, QuantType), LowerError> {
    let operand = op.operands.get(k).and_then(|&v| q.ty(v).quant());
    let result = op.results.first().and_then(|&v| q.ty(v).quant());
    match (operand, result) {
        (Some(i), Some(o)) => Ok((i, o)),
        _ => Err(err(
            op,
            format!("operand {k} and the result must be quantized per tensor"),
        )),
    }
}

/// The qnt op's attributes `keys`, carried to the tile op unchanged.
pub(super) fn carried<'k>(op: &Op, keys: &[&'k str]) -> Result<Vec<(&'k str, Attr)>, LowerError> {
    keys.iter()
        .map(|&k| {
            op.attrs
                .get(k)
                .cloned()
                .map(|a| (k, a))
                .ok_or_else(|| err(op, format!("missing attribute '{k}'")))
        })
        .collect()
}

/// Requantization from `iq` to `oq` (zero points, the full output range as clamp) with the
/// multipliers and shifts `op` holds under the given attribute names.
pub(super) fn requant_params(
    op: &Op,
    iq: QuantType,
    oq: QuantType,
    multiplier_key: &str,
    shift_key: &str,
) -> Result<tile::Requant, LowerError> {
    Ok(tile::Requant {
        input_zp: iq.zero_point,
        output_zp: oq.zero_point,
        multiplier: i32_list(op, multiplier_key)?,
        shift: i32_list(op, shift_key)?,
        clamp_min: oq.qmin(),
        clamp_max: oq.qmax(),
        neg: None,
        hswish: None,
        swish: None,
    })
}

/// The requantization of a `qnt.prelu`: its positive side as the multipliers, its negative side
/// as `neg`, one entry or the same number per channel for both.
pub(super) fn prelu_requant(
    op: &Op,
    input_zp: i64,
    oq: QuantType,
) -> Result<tile::Requant, LowerError> {
    let (mut pm, mut ps) = (i32_list(op, "pos_multiplier")?, i32_list(op, "pos_shift")?);
    let (mut nm, mut ns) = (i32_list(op, "neg_multiplier")?, i32_list(op, "neg_shift")?);
    let n = pm.len().max(nm.len());
    for v in [&mut pm, &mut ps, &mut nm, &mut ns] {
        if v.len() == 1 && n > 1 {
            *v = vec![v[0]; n];
        }
        if v.len() != n {
            return Err(err(
                op,
                "PReLU multipliers must have one entry or one per channel",
            ));
        }
    }
    Ok(tile::Requant {
        input_zp,
        output_zp: oq.zero_point,
        multiplier: pm,
        shift: ps,
        clamp_min: oq.qmin(),
        clamp_max: oq.qmax(),
        neg: Some((nm, ns)),
        hswish: None,
        swish: None,
    })
}

/// The requantization of a fused `qnt.hard_swish`: the accumulator rescaled to the
/// activation's fixed-point input (`mid_*`), then `[three, six, multiplier, shift, bias, …]`.
pub(super) fn hard_swish_requant(
    op: &Op,
    iq: QuantType,
    oq: QuantType,
) -> Result<tile::Requant, LowerError> {
    let mut rq = requant_params(op, iq, oq, "mid_multiplier", "mid_shift")?;
    let mut h = vec![op.int("three")?, op.int("six")?];
    h.extend(epilogue_out(op)?.concat());
    rq.hswish = Some(h);
    Ok(rq)
}

/// The requantization of a fused `qnt.swish`: the accumulator rescaled to the sigmoid
/// table's index (`mid_*`), then one output rescaling and the table.
pub(super) fn swish_requant(
    op: &Op,
    iq: QuantType,
    oq: QuantType,
) -> Result<tile::Requant, LowerError> {
    let mut rq = requant_params(op, iq, oq, "mid_multiplier", "mid_shift")?;
    let (_, table) = op.dense("sigmoid_table")?;
    let out = match epilogue_out(op)?[..] {
        [out] => out,
        _ => return Err(err(op, "swish takes one output multiplier")),
    };
    rq.swish = Some((out, nibble_ir::model::dense_i32(table)));
    Ok(rq)
}

/// The output rescaling of a fused activation (`qnt.hard_swish`, `qnt.swish`): `[multiplier,
/// shift, bias]` from its three equally long arrays, once or per output channel.
fn epilogue_out(op: &Op) -> Result<Vec<[i64; 3]>, LowerError> {
    let (m, s, b) = (
        op.int_list("multiplier")?,
        op.int_list("shift")?,
        op.int_list("bias")?,
    );
    if m.is_empty() || m.len() != s.len() || m.len() != b.len() {
        return Err(err(
            op,
            "multiplier, shift and bias must be equally long arrays",
        ));
    }
    Ok((0..m.len()).map(|c| [m[c], s[c], b[c]]).collect())
}
