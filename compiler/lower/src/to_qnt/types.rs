//! The quantized types the conversion gives values: activations on the grid of their own
//! calibrated range (`nibble.min`/`nibble.max`) at the width `nibble.bits` asks for, i32
//! accumulators per tensor or per output channel, and the fixed-point multipliers between grids.

use super::err;
use crate::LowerError;
use nibble_graph::attrs;
use nibble_ir::{Attr, Elem, Op, QuantAxisType, QuantType, Type};
use nibble_quantize::{activation_params, fixed_multiplier, quantize_value, Scheme};

/// The default activation and weight width.
pub(super) const BITS: u32 = 8;

/// A quantized activation type for the real range [lo, hi].
pub(super) fn act_type(shape: &[i64], lo: f64, hi: f64, bits: u32, scheme: Scheme) -> Type {
    let (scale, zero_point) = activation_params(lo, hi, bits, scheme);
    Type::tensor(
        shape,
        Elem::Quant(QuantType {
            bits,
            scale,
            zero_point,
        }),
    )
}

/// A per-tensor quantized type with zero point 0.
pub(super) fn qtype(shape: &[i64], bits: u32, scale: f64) -> Type {
    Type::tensor(
        shape,
        Elem::Quant(QuantType {
            bits,
            scale,
            zero_point: 0,
        }),
    )
}

/// The i32 accumulator type: per tensor, or per channel along the last (NHWC channel) axis.
pub(super) fn acc_type(shape: &[i64], scales: &[f64]) -> Type {
    match scales {
        [s] => qtype(shape, 32, *s),
        _ => Type::tensor(
            shape,
            Elem::QuantAxis(QuantAxisType {
                bits: 32,
                axis: shape.len() as u32 - 1,
                scales: scales.to_vec(),
            }),
        ),
    }
}

/// The calibrated range of `op`'s result.
pub(super) fn range(op: &Op) -> Result<(f64, f64), LowerError> {
    match (op.float(attrs::MIN), op.float(attrs::MAX)) {
        (Ok(lo), Ok(hi)) => Ok((lo, hi)),
        _ => Err(err(op, "it has no range (nibble.min/nibble.max); calibrate first (nibble compile --calib) or annotate the op")),
    }
}

/// The bit width chosen for `op`'s result (`nibble.bits`, 8 or 16; 8 when absent).
pub(super) fn bits_of(op: &Op) -> Result<u32, LowerError> {
    match op.attrs.get(attrs::BITS) {
        None => Ok(BITS),
        Some(_) => match op.int(attrs::BITS)? {
            8 => Ok(8),
            16 => Ok(16),
            b => Err(err(
                op,
                format!("{} = {b}: activations are 8 or 16 bits", attrs::BITS),
            )),
        },
    }
}

/// The quantized type `op`'s result gets from its own calibrated range, at the bit width its
/// `nibble.bits` decision asks for (8 when it has none). 16-bit activations are symmetric in
/// every scheme (zero point 0; a power-of-two scale under pow2), as in TFLite's 16×8 mode: the
/// kernels then read them without a zero point.
pub(super) fn out_type(
    op: &Op,
    shape: &[i64],
    scheme: Scheme,
) -> Result<(Type, QuantType), LowerError> {
    if let Some(q) = model_grid(op, &op.attrs, attrs::GRID, scheme)? {
        return Ok((Type::tensor(shape, Elem::Quant(q)), q));
    }
    let (lo, hi) = range(op)?;
    let ty = match bits_of(op)? {
        8 => act_type(shape, lo, hi, BITS, scheme),
        bits => {
            let scheme = match scheme {
                Scheme::Pow2 => Scheme::Pow2,
                _ => Scheme::Symmetric,
            };
            act_type(shape, lo, hi, bits, scheme)
        }
    };
    let q = ty.quant().ok_or_else(|| err(op, "no quantized type"))?;
    Ok((ty, q))
}

/// The 8-bit grid an already-quantized model fixed for a result (`keys`: scale and zero point,
/// on `op` or, for the input, on the function), if it has one. Under the pow2 scheme its scale
/// must be a power of two.
pub(super) fn model_grid(
    op: &Op,
    attrs: &std::collections::BTreeMap<String, Attr>,
    keys: [&str; 2],
    scheme: Scheme,
) -> Result<Option<QuantType>, LowerError> {
    let (scale, zero_point) = match (attrs.get(keys[0]), attrs.get(keys[1])) {
        (Some(Attr::Float(s, _)), Some(Attr::Int(z, _))) => (*s, *z),
        (None, None) => return Ok(None),
        _ => {
            return Err(err(
                op,
                format!("{} and {} must be a float and an integer", keys[0], keys[1]),
            ))
        }
    };
    let q = QuantType {
        bits: BITS,
        scale,
        zero_point,
    };
    if !(scale.is_finite() && scale > 0.0) || !(q.qmin()..=q.qmax()).contains(&zero_point) {
        return Err(err(
            op,
            format!(
                "the model's grid (scale {scale}, zero point {zero_point}) is not an 8-bit grid"
            ),
        ));
    }
    if scheme == Scheme::Pow2 && scale.log2().fract() != 0.0 {
        return Err(err(op, format!("the model fixes scale {scale}, not a power of two, which this power-of-two target cannot requantize to")));
    }
    Ok(Some(q))
}

/// The stored integer of real value `x` under `q`: zp + round(x / scale), saturated to the type.
pub(super) fn stored(q: &QuantType, x: f64) -> i64 {
    q.zero_point + quantize_value(x, q.scale, q.qmin() - q.zero_point, q.qmax() - q.zero_point)
}

/// The fixed-point multipliers and shifts of `ratios`, in order.
pub(super) fn multipliers(
    ratios: impl IntoIterator<Item = f64>,
) -> Result<(Vec<i32>, Vec<i32>), LowerError> {
    let (mut m, mut sh) = (Vec::new(), Vec::new());
    for r in ratios {
        let fs = fixed_multiplier(r)?;
        m.push(fs.multiplier);
        sh.push(fs.shift);
    }
    Ok((m, sh))
}
