//! Integer elementwise ops: requantization of a tensor, clamp, 256-entry lookup tables, and
//! tile.add / tile.mul with size-1 broadcasting and their rescaling.

use super::arith::{apply_scale, floor_shift};
use super::operands;
use super::requant::{check_shift, requant, Rq};
use crate::tensor::{broadcast_offsets, dims};
use crate::{invalid, loc_suffix, InterpError};
use nibble_ir::{Func, Op};

/// tile.requant, clamp, lut, add and mul.
pub(super) fn eval(f: &Func, op: &Op, x: &[&[i32]]) -> Result<Vec<i32>, InterpError> {
    match op.name.as_str() {
        "tile.add" | "tile.mul" => binary(f, op, operands(op, x)?),
        "tile.requant" => {
            let [x] = operands(op, x)?;
            let channels = *dims(f, op.results[0]).last().unwrap_or(&1);
            let rq = Rq::of(op, channels)?;
            let channel = |i: usize| i % channels.max(1);
            Ok(x.iter()
                .enumerate()
                .map(|(i, &v)| requant(v as i64 - rq.input_zp, &rq, channel(i)))
                .collect())
        }
        "tile.clamp" => {
            let [x] = operands(op, x)?;
            let (lo, hi) = (op.int("min")? as i32, op.int("max")? as i32);
            Ok(x.iter().map(|&v| v.clamp(lo, hi)).collect())
        }
        _ => {
            let [x] = operands(op, x)?;
            let (_, table) = op.dense("table")?;
            if table.len() != 256 {
                return Err(InterpError::Invalid(format!(
                    "tile.lut{}: the table needs 256 entries",
                    loc_suffix(op)
                )));
            }
            let entry = |v: i32| table[(v + 128).clamp(0, 255) as usize] as i8 as i32;
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
    let zp = op.int_list("input_zp")?;
    if zp.len() != 2 {
        return Err(invalid(op, "input_zp needs two entries"));
    }
    let (za, zb, zo) = (zp[0], zp[1], op.int("output_zp")?);
    let (lo, hi) = (op.int("clamp_min")?, op.int("clamp_max")?);
    let shift = check_shift(op, op.int("shift")?)?;
    let mut out = Vec::with_capacity(so.iter().product());
    if op.name == "tile.add" {
        let m = op.int_list("multiplier")?;
        if m.len() != 2 {
            return Err(invalid(op, "needs two multipliers"));
        }
        broadcast_offsets(&sa, &sb, &so, |i, j| {
            let acc = (a[i] as i64 - za) * m[0] + (b[j] as i64 - zb) * m[1];
            let v = zo + floor_shift(acc + (1i64 << (shift - 1)), shift);
            out.push(v.clamp(lo, hi) as i32);
        });
    } else {
        let m = op.int("multiplier")? as i32;
        broadcast_offsets(&sa, &sb, &so, |i, j| {
            let p = (a[i] as i64 - za) * (b[j] as i64 - zb);
            out.push((zo + apply_scale(p, m, shift as i32)).clamp(lo, hi) as i32);
        });
    }
    Ok(out)
}
