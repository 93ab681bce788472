//! Softmax (the `nibble` layer `softmax`, last axis): probabilities in [0, 1) on a fixed grid, 2^-8 with
//! zero point -128 when asymmetric, else 2^-7, from a Q15 exponential table of the input's grid.

use super::tables::exp_table;
use super::types::BITS;
use super::{Cx, Lowered};
use crate::LowerError;
use nibble_ir::{Elem, QuantType, Type};
use nibble_qnt as qnt;
use nibble_quantize::Scheme;

/// `tosa.custom` softmax as one `qnt.softmax`.
pub(super) fn softmax(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    let op = &cx.g.ops[i];
    let (x, q) = cx.quant_input(op, 0)?;
    let (frac_bits, zero_point) = match cx.scheme() {
        Scheme::Asymmetric => (8, -128),
        _ => (7, 0),
    };
    let ty = Type::tensor(
        &cx.shape(op.results[0]),
        Elem::Quant(QuantType {
            bits: BITS,
            scale: (-(frac_bits as f64)).exp2(),
            zero_point,
        }),
    );
    let table = exp_table(q.scale);
    Ok(Lowered::Value(qnt::softmax(
        &mut cx.f, x, ty, &table, frac_bits,
    )))
}
