//! Elementwise f32 arithmetic with tosa's size-1 broadcasting (add, sub, mul, pow), unary
//! arithmetic (exp, reciprocal, clamp) and reductions along one axis (reduce_max, reduce_sum).

use super::Env;
use crate::tensor::{broadcast_offsets, dims};
use crate::InterpError;
use nibble_graph::tosa;
use nibble_ir::{Func, Op};

/// The elementwise ops and reductions.
pub(super) fn eval(f: &Func, op: &Op, env: &mut Env) -> Result<Vec<f32>, InterpError> {
    match op.name.as_str() {
        tosa::ADD => binary(f, op, env, |a, b| a + b),
        tosa::SUB => binary(f, op, env, |a, b| a - b),
        tosa::MUL => binary(f, op, env, |a, b| a * b),
        tosa::POW => binary(f, op, env, f32::powf),
        tosa::EXP => Ok(env.read(op, 0)?.iter().map(|v| v.exp()).collect()),
        tosa::RECIPROCAL => Ok(env.read(op, 0)?.iter().map(|v| 1.0 / v).collect()),
        tosa::CLAMP => {
            let lo = op.float("min_val")? as f32;
            let hi = op.float("max_val")? as f32;
            let mut x = env.owned(op, 0)?;
            x.iter_mut().for_each(|v| *v = v.max(lo).min(hi));
            Ok(x)
        }
        tosa::REDUCE_MAX => reduce(f, op, env.read(op, 0)?, f32::NEG_INFINITY, f32::max),
        _ => reduce(f, op, env.read(op, 0)?, 0.0, |a, b| a + b),
    }
}

/// `g` of `op`'s two operands, broadcast to its result.
fn binary(
    f: &Func,
    op: &Op,
    env: &Env,
    g: impl Fn(f32, f32) -> f32,
) -> Result<Vec<f32>, InterpError> {
    let (sa, sb) = (dims(f, op.operands[0]), dims(f, op.operands[1]));
    let so = dims(f, op.results[0]);
    broadcast(env.read(op, 0)?, &sa, env.read(op, 1)?, &sb, &so, g).ok_or_else(|| {
        InterpError::Invalid(format!(
            "{}: operands and result need the same rank",
            op.name
        ))
    })
}

/// Folds the `axis` attribute's axis of a row-major tensor (kept with size 1).
fn reduce(
    f: &Func,
    op: &Op,
    x: &[f32],
    init: f32,
    g: impl Fn(f32, f32) -> f32,
) -> Result<Vec<f32>, InterpError> {
    let shape = dims(f, op.operands[0]);
    let axis = op.int("axis")?;
    let Some(axis) = usize::try_from(axis).ok().filter(|&a| a < shape.len()) else {
        return Err(InterpError::Invalid(format!(
            "{}: axis {axis} out of range",
            op.name
        )));
    };
    let outer: usize = shape[..axis].iter().product();
    let (len, inner): (usize, usize) = (shape[axis], shape[axis + 1..].iter().product());
    let mut out = vec![init; outer * inner];
    for o in 0..outer {
        for a in 0..len {
            let row = &x[(o * len + a) * inner..][..inner];
            for (acc, &v) in out[o * inner..][..inner].iter_mut().zip(row) {
                *acc = g(*acc, v);
            }
        }
    }
    Ok(out)
}

/// Elementwise `g` of two equal-rank tensors with size-1 broadcasting. Same shapes, a scalar
/// operand, and an operand that repeats along the leading dimensions (per-channel constants in
/// NHWC) take contiguous fast paths; anything else walks the index space (None if the ranks
/// differ).
fn broadcast(
    a: &[f32],
    sa: &[usize],
    b: &[f32],
    sb: &[usize],
    so: &[usize],
    g: impl Fn(f32, f32) -> f32,
) -> Option<Vec<f32>> {
    let n: usize = so.iter().product();
    // `x` covers a suffix of the output and repeats over the rest.
    let repeats = |sx: &[usize]| {
        let lead = sx.iter().take_while(|&&d| d == 1).count();
        sx[lead..] == so[lead..]
    };
    if a.len() == n && b.len() == n {
        return Some(a.iter().zip(b).map(|(&x, &y)| g(x, y)).collect());
    }
    if b.len() == 1 {
        return Some(a.iter().map(|&x| g(x, b[0])).collect());
    }
    if a.len() == 1 {
        return Some(b.iter().map(|&y| g(a[0], y)).collect());
    }
    if a.len() == n && repeats(sb) {
        let rows = a.chunks_exact(b.len());
        return Some(
            rows.flat_map(|row| row.iter().zip(b).map(|(&x, &y)| g(x, y)))
                .collect(),
        );
    }
    if b.len() == n && repeats(sa) {
        let rows = b.chunks_exact(a.len());
        return Some(
            rows.flat_map(|row| a.iter().zip(row).map(|(&x, &y)| g(x, y)))
                .collect(),
        );
    }
    if sa.len() != so.len() || sb.len() != so.len() {
        return None;
    }
    let mut out = Vec::with_capacity(n);
    broadcast_offsets(sa, sb, so, |i, j| out.push(g(a[i], b[j])));
    Some(out)
}
