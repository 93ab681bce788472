//! Pooling: a max pool keeps its input's grid; an average pool rescales each window's sum by
//! `s_in / (taps · s_out)`, one multiplier per possible tap count when padding makes it vary.

use super::err;
use super::types::{multipliers, out_type};
use super::{Cx, Lowered};
use crate::LowerError;
use nibble_ir::{Elem, Op, Type};
use nibble_qnt as qnt;

/// The `kernel`, `stride` and `pad` of a pooling op.
fn pool_window(op: &Op) -> Result<qnt::Window, LowerError> {
    let (k, s, p) = (op.ints("kernel")?, op.ints("stride")?, op.ints("pad")?);
    if k.len() != 2 || s.len() != 2 || p.len() != 4 {
        return Err(err(op, "kernel, stride and pad need 2, 2 and 4 values"));
    }
    Ok(qnt::Window {
        kernel: [k[0], k[1]],
        stride: [s[0], s[1]],
        pad: [p[0], p[1], p[2], p[3]],
    })
}

/// `tosa.max_pool2d` on the input's grid.
pub(super) fn max_pool(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    let op = &cx.g.ops[i];
    let (x, q) = cx.quant_input(op, 0)?;
    let ty = Type::tensor(&cx.shape(op.results[0]), Elem::Quant(q));
    Ok(Lowered::Value(qnt::max_pool2d(
        &mut cx.f,
        x,
        ty,
        pool_window(op)?,
    )))
}

/// `tosa.avg_pool2d`. Windows without padding always hold kh·kw taps (floor mode): one
/// multiplier. With padding the divisor is the count of taps inside the input.
pub(super) fn avg_pool(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    let op = &cx.g.ops[i];
    let (x, q) = cx.quant_input(op, 0)?;
    let window = pool_window(op)?;
    let (ty, out) = out_type(op, &cx.shape(op.results[0]), cx.scheme())?;
    let taps = window.kernel[0] * window.kernel[1];
    let counts: Vec<i64> = if window.pad.iter().all(|&v| v == 0) {
        vec![taps]
    } else {
        (1..=taps).collect()
    };
    let (m, sh) = multipliers(counts.iter().map(|&c| q.scale / (c as f64 * out.scale)))?;
    Ok(Lowered::Value(qnt::avg_pool2d(
        &mut cx.f, x, ty, window, &m, &sh,
    )))
}
