//! Integer data movement: reshape, transpose, slice and concat over the shared tensor helpers.

use super::operands;
use crate::tensor::{concat, dims, slice, transpose};
use crate::{invalid, InterpError};
use nibble_ir::{Func, Op};

/// tile.reshape, transpose, slice and concat.
pub(super) fn eval(f: &Func, op: &Op, x: &[&[i32]]) -> Result<Vec<i32>, InterpError> {
    let os = dims(f, op.results[0]);
    if op.name == "tile.concat" {
        let parts: Vec<_> = x
            .iter()
            .zip(&op.operands)
            .map(|(&d, &v)| (d, dims(f, v)))
            .collect();
        let axis = op.int("axis")?;
        return match usize::try_from(axis) {
            Ok(axis) if axis < os.len() => Ok(concat(&parts, axis, &os)),
            _ => Err(invalid(op, format!("axis {axis} out of range"))),
        };
    }
    let [x] = operands(op, x)?;
    let xs = dims(f, op.operands[0]);
    Ok(match op.name.as_str() {
        "tile.reshape" => x.to_vec(),
        "tile.transpose" => {
            let perms: Vec<usize> = op.ints("perms")?.iter().map(|&p| p as usize).collect();
            transpose(x, &xs, &perms)
        }
        _ => slice(x, &xs, &op.ints("start")?, &os),
    })
}
