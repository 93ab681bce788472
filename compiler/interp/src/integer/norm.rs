//! Integer normalisations over the last axis: fixed-point softmax and LayerNorm (see
//! `qnt.softmax` and `qnt.layer_norm` in qnt.irdl.mlir), with division and square root done by
//! shifts and subtractions.

use super::arith::{floor_shift, isqrt, reciprocal};
use super::operands;
use super::requant::check_shift;
use crate::tensor::dims;
use crate::{invalid, InterpError};
use nibble_ir::{Func, Op};
use nibble_tile as tile;

/// tile.softmax and tile.layer_norm.
pub(super) fn eval(f: &Func, op: &Op, x: &[&[i32]]) -> Result<Vec<i32>, InterpError> {
    let [x] = operands(op, x)?;
    let c = *dims(f, op.results[0]).last().unwrap_or(&1);
    match op.name.as_str() {
        tile::SOFTMAX => softmax(op, x, c),
        _ => layer_norm(op, x, c),
    }
}

/// Fixed-point softmax over rows of `c` values.
fn softmax(op: &Op, x: &[i32], c: usize) -> Result<Vec<i32>, InterpError> {
    let p = tile::Softmax::from_op(op)?;
    let table = p.exp_table;
    if table.len() != 256 || c == 0 || c > 1 << 17 {
        return Err(invalid(
            op,
            "needs a 256-entry exp table and 1..=131072 classes",
        ));
    }
    let (frac, zo) = (p.frac_bits, p.output_zp);
    let (lo, hi) = (p.clamp_min, p.clamp_max);
    let mut out = Vec::with_capacity(x.len());
    let mut e = vec![0i64; c];
    for row in x.chunks_exact(c) {
        let m = *row.iter().max().unwrap_or(&0);
        let mut sum = 0i64;
        for (ei, &v) in e.iter_mut().zip(row) {
            *ei = table[(v - m + 255).clamp(0, 255) as usize] as i64;
            sum += *ei;
        }
        let sum = sum.max(1);
        let k = 30 + (64 - sum.leading_zeros());
        let r = reciprocal(sum, k);
        let sh = k - frac as u32;
        out.extend(
            e.iter().map(|&ei| {
                (zo + floor_shift(ei * r + (1i64 << (sh - 1)), sh)).clamp(lo, hi) as i32
            }),
        );
    }
    Ok(out)
}

/// Fixed-point LayerNorm over rows of `c` channels.
fn layer_norm(op: &Op, x: &[i32], c: usize) -> Result<Vec<i32>, InterpError> {
    let tile::LayerNorm { params, io } = tile::LayerNorm::from_op(op)?;
    let (m, sh, bias) = (params.multiplier, params.shift, params.bias);
    if c == 0 || c > 4096 || m.len() != c || sh.len() != c || bias.len() != c {
        return Err(invalid(
            op,
            "needs 1..=4096 channels and one multiplier, shift and bias each",
        ));
    }
    for &s in &sh {
        check_shift(op, s as i64)?;
    }
    let (zi, zo, eps) = (io.input_zp, io.output_zp, params.eps_term);
    let (lo, hi) = (io.clamp_min, io.clamp_max);
    let n = c as i64;
    let mut out = Vec::with_capacity(x.len());
    let mut cs = vec![0i64; c];
    for row in x.chunks_exact(c) {
        let sum: i64 = row.iter().map(|&v| v as i64 - zi).sum();
        let mut q = eps.max(0) as u64;
        for (ci, &v) in cs.iter_mut().zip(row) {
            *ci = n * (v as i64 - zi) - sum;
            q += (*ci * *ci) as u64;
        }
        let r = (isqrt(q) as i64).max(1);
        let inv = reciprocal(r, 46);
        for (i, &ci) in cs.iter().enumerate() {
            let t = floor_shift(ci * inv + (1 << 15), 16);
            let s = sh[i] as u32;
            let y = zo + floor_shift(t * m[i] as i64 + bias[i] + (1i64 << (s - 1)), s);
            out.push(y.clamp(lo, hi) as i32);
        }
    }
    Ok(out)
}
