//! The requantization records of tile ops (`tile::Requant`) from the qnt ops they fuse, read
//! through the qnt dialect's typed readers: plain multipliers and shifts (`qnt.requant`,
//! `qnt.avg_pool2d`, `qnt.resize`), PReLU's two sides, and the output rescaling of the
//! fixed-point hard-swish / swish epilogues; and the per-tensor types a conversion reads.

use super::err;
use crate::LowerError;
use nibble_ir::{Func, Op, QuantType};
use nibble_qnt as qnt;
use nibble_tile as tile;

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

/// Requantization from `iq` to `oq` (zero points, the full output range as clamp) by
/// `multiplier` and `shift`, no fused activation.
pub(super) fn rescale(
    iq: QuantType,
    oq: QuantType,
    multiplier: Vec<i32>,
    shift: Vec<i32>,
) -> tile::Requant {
    tile::Requant {
        input_zp: iq.zero_point,
        output_zp: oq.zero_point,
        multiplier,
        shift,
        clamp_min: oq.qmin(),
        clamp_max: oq.qmax(),
        neg: None,
        hswish: None,
        swish: None,
    }
}

/// The requantization of a `qnt.requant` from `iq` to `oq` (single rounding only).
pub(super) fn requant_of(
    op: &Op,
    iq: QuantType,
    oq: QuantType,
) -> Result<tile::Requant, LowerError> {
    let r = qnt::Requant::from_op(op)?;
    if r.rounding_mode != qnt::SINGLE_ROUND {
        return Err(err(
            op,
            "only rounding_mode = \"SINGLE_ROUND\" is supported",
        ));
    }
    let (m, s) = r.scale.lists();
    Ok(rescale(iq, oq, m, s))
}

/// The requantization of a `qnt.prelu`: its positive side as the multipliers, its negative side
/// as `neg`, one entry or the same number per channel for both.
pub(super) fn prelu_requant(
    op: &Op,
    iq: QuantType,
    oq: QuantType,
) -> Result<tile::Requant, LowerError> {
    let p = qnt::Prelu::from_op(op)?;
    let (mut pm, mut ps) = (p.pos_multiplier, p.pos_shift);
    let (mut nm, mut ns) = (p.neg_multiplier, p.neg_shift);
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
    let mut rq = rescale(iq, oq, pm, ps);
    rq.neg = Some(tile::NegativeSide {
        multiplier: nm,
        shift: ns,
    });
    Ok(rq)
}

/// The requantization of a fused `qnt.hard_swish`: the accumulator rescaled to the
/// activation's fixed-point input (`mid_*`), then `three`, `six` and the output rescaling.
pub(super) fn hard_swish_requant(
    op: &Op,
    iq: QuantType,
    oq: QuantType,
) -> Result<tile::Requant, LowerError> {
    let h = qnt::HardSwish::from_op(op)?;
    let out = h.epilogue.triples(op)?;
    let mut rq = rescale(iq, oq, h.epilogue.mid_multiplier, h.epilogue.mid_shift);
    rq.hswish = Some(tile::HardSwish {
        three: h.three,
        six: h.six,
        out,
    });
    Ok(rq)
}

/// The requantization of a fused `qnt.swish`: the accumulator rescaled to the sigmoid
/// table's index (`mid_*`), then one output rescaling and the table.
pub(super) fn swish_requant(
    op: &Op,
    iq: QuantType,
    oq: QuantType,
) -> Result<tile::Requant, LowerError> {
    let s = qnt::Swish::from_op(op)?;
    let out = match s.epilogue.triples(op)?[..] {
        [out] => out,
        _ => return Err(err(op, "swish takes one output multiplier")),
    };
    let mut rq = rescale(iq, oq, s.epilogue.mid_multiplier, s.epilogue.mid_shift);
    rq.swish = Some(tile::Swish {
        out,
        table: s.sigmoid_table,
    });
    Ok(rq)
}
