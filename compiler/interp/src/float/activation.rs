//! `tosa.sigmoid`, `tosa.tanh` and `tosa.erf` in f32; their formulas (and those of the
//! `nibble` domain's unary layers) are [`nibble_graph::Activation`]'s.

use super::Env;
use crate::InterpError;
use nibble_graph::Activation;
use nibble_ir::Op;

/// tosa.tanh, tosa.erf and tosa.sigmoid.
pub(super) fn eval(op: &Op, env: &mut Env) -> Result<Vec<f32>, InterpError> {
    let act = Activation::of(op)?
        .ok_or_else(|| InterpError::Invalid(format!("{} has no activation function", op.name)))?;
    let mut x = env.owned(op, 0)?;
    act.apply_in_place(&mut x);
    Ok(x)
}
