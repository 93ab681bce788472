//! The data movement of scheduled programs: `tile.alloc` (a DRAM tensor, zero here: every
//! element is stored before it is read), `tile.dma_load` (a box of a tensor) and
//! `tile.dma_store` (a tensor with a box replaced). Where values live (DRAM, SRAM) does not
//! change them, so a scheduled program computes what the unscheduled one does.

use crate::tensor::{advance, dims, slice};
use crate::{invalid, InterpError};
use nibble_ir::{Func, Op};

/// The box `[start, start + size)` as usize, checked to lie inside `shape`.
fn check_box(op: &Op, shape: &[usize], size: &[usize]) -> Result<Vec<i64>, InterpError> {
    let start = op.ints("start")?;
    let inside = start.len() == shape.len()
        && size.len() == shape.len()
        && (start.iter().zip(size).zip(shape))
            .all(|((&s, &n), &d)| s >= 0 && (s as usize).checked_add(n).is_some_and(|e| e <= d));
    if !inside {
        return Err(invalid(
            op,
            format!("box at {start:?} of size {size:?} is not inside {shape:?}"),
        ));
    }
    Ok(start)
}

/// tile.alloc: a tensor of the result's shape.
pub(super) fn alloc(f: &Func, op: &Op) -> Vec<i32> {
    vec![0; f.ty(op.results[0]).num_elements()]
}

/// tile.dma_load: the box of the source at `start`, of the result's shape.
pub(super) fn load(f: &Func, op: &Op, x: &[i32]) -> Result<Vec<i32>, InterpError> {
    let (xs, os) = (dims(f, op.operands[0]), dims(f, op.results[0]));
    let start = check_box(op, &xs, &os)?;
    Ok(slice(x, &xs, &start, &os))
}

/// tile.dma_store: `dest` (owned: updated in place) with the box at `start` set to `tile`.
pub(super) fn store(
    f: &Func,
    op: &Op,
    tile: &[i32],
    mut dest: Vec<i32>,
) -> Result<Vec<i32>, InterpError> {
    let (ts, ds) = (dims(f, op.operands[0]), dims(f, op.operands[1]));
    let start = check_box(op, &ds, &ts)?;
    let rank = ds.len();
    if rank == 0 || tile.is_empty() {
        return Ok(dest);
    }
    let mut strides = vec![1usize; rank];
    for k in (0..rank - 1).rev() {
        strides[k] = strides[k + 1] * ds[k + 1];
    }
    // Row by row: the last axis of the box is a contiguous run of the destination.
    let last = ts[rank - 1];
    let mut idx = vec![0usize; rank - 1];
    for row in tile.chunks(last) {
        let off: usize = (0..rank)
            .map(|k| (idx.get(k).copied().unwrap_or(0) + start[k] as usize) * strides[k])
            .sum();
        dest[off..][..last].copy_from_slice(row);
        advance(&mut idx, &ts[..rank - 1]);
    }
    Ok(dest)
}
