//! Integer elementwise ops: requantization of a tensor, clamp, 256-entry lookup tables, and
//! tile.add / tile.mul with size-1 broadcasting and their rescaling.

use super::arith::{apply_scale, floor_shift};
use super::operands;
use super::requant::{self, check_shift, requant};
use crate::tensor::{broadcast_offsets, dims};
use crate::{invalid, InterpError};
use nibble_ir::{Func, Op};
use nibble_tile as tile;

/// tile.requant, clamp, lut, add and mul.
pub(super) fn eval(f: &Func, op: &Op, x: &[&[i32]]) -> Result<Vec<i32>, InterpError> {
    match op.name.as_str() {
        tile::ADD | tile::MUL => binary(f, op, operands(op, x)?),
        tile::REQUANT => {
            let [x] = operands(op, x)?;
            let channels = *dims(f, op.results[0]).last().unwrap_or(&1);
            let rq = requant::of(op, channels)?;
            let channel = |i: usize| i % channels.max(1);
            Ok(x.iter()
                .enumerate()
                .map(|(i, &v)| requant(v as i64 - rq.input_zp, &rq, channel(i)))
                .collect())
        }
        tile::CLAMP => {
            let [x] = operands(op, x)?;
            let tile::Clamp { min, max } = tile::Clamp::from_op(op)?;
            let (lo, hi) = (min as i32, max as i32);
            Ok(x.iter().map(|&v| v.clamp(lo, hi)).collect())
        }
        _ => {
            let [x] = operands(op, x)?;
            let table = tile::Lut::from_op(op)?.table;
            if table.len() != 256 {
                return Err(invalid(op, "the table needs 256 entries"));
            }
            let entry = |v: i32| table[(v + 128).clamp(0, 255) as usize] as i32;
            Ok(x.iter().map(|&v| entry(v)).collect())
        }
    }
}

/// tile.add and tile.mul: elementwise with size-1 broadcasting.
fn binary(f: &Func, op: &Op, [a, b]: [&[i32]; 2]) -> Result<Vec<i32>, InterpError> {
    let (sa, sb, so) = (
        dims(f, op.operands[0]),
        dims(f, op.operands[1]),
        dims(f, op.results[0]),
    );
    if sa.len() != so.len() || sb.len() != so.len() {
        return Err(invalid(op, "operands and result need the same rank"));
    }
    let (io, m, shift) = if op.name == tile::ADD {
        let p = tile::Add::from_op(op)?;
        (p.io, p.multiplier, p.shift)
    } else {
        let p = tile::Mul::from_op(op)?;
        (p.io, vec![p.multiplier as i32], p.shift)
    };
    let ([za, zb], zo) = (io.input_zp, io.output_zp);
    let (lo, hi) = (io.clamp_min, io.clamp_max);
    let shift = check_shift(op, shift)?;
    let mut out = Vec::with_capacity(so.iter().product());
    if op.name == tile::ADD {
        let [ma, mb] = m[..] else {
            return Err(invalid(op, "needs two multipliers"));
        };
        let (ma, mb) = (ma as i64, mb as i64);
        broadcast_offsets(&sa, &sb, &so, |i, j| {
            let acc = (a[i] as i64 - za) * ma + (b[j] as i64 - zb) * mb;
            let v = zo + floor_shift(acc + (1i64 << (shift - 1)), shift);
            out.push(v.clamp(lo, hi) as i32);
        });
    } else {
        let m = m[0];
        broadcast_offsets(&sa, &sb, &so, |i, j| {
            let p = (a[i] as i64 - za) * (b[j] as i64 - zb);
            out.push((zo + apply_scale(p, m, shift as i32)).clamp(lo, hi) as i32);
        });
    }
    Ok(out)
}
