//! Integer data movement: reshape, transpose, slice and concat over the shared tensor helpers.

use super::operands;
use crate::tensor::{concat, dims, slice, transpose};
use crate::{invalid, InterpError};
use nibble_ir::{Func, Op};
use nibble_tile as tile;

/// tile.reshape, transpose, slice and concat.
pub(super) fn eval(f: &Func, op: &Op, x: &[&[i32]]) -> Result<Vec<i32>, InterpError> {
    let os = dims(f, op.results[0]);
    if op.name == tile::CONCAT {
        let parts: Vec<_> = x
            .iter()
            .zip(&op.operands)
            .map(|(&d, &v)| (d, dims(f, v)))
            .collect();
        let axis = tile::Concat::from_op(op)?.params.axis;
        return match usize::try_from(axis) {
            Ok(axis) if axis < os.len() => Ok(concat(&parts, axis, &os)),
            _ => Err(invalid(op, format!("axis {axis} out of range"))),
        };
    }
    let [x] = operands(op, x)?;
    let xs = dims(f, op.operands[0]);
    Ok(match op.name.as_str() {
        tile::RESHAPE => x.to_vec(),
        tile::TRANSPOSE => {
            let perms = tile::Transpose::from_op(op)?.params.perms;
            let perms: Vec<usize> = perms.iter().map(|&p| p as usize).collect();
            transpose(x, &xs, &perms)
        }
        _ => slice(x, &xs, &tile::Slice::from_op(op)?.params.start, &os),
    })
}
