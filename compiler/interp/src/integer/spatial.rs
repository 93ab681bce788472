//! Integer pooling (over the shared window loop) and resizing (over the shared tap tables).

use super::operands;
use super::requant::{self, requant};
use crate::tensor::dims;
use crate::window::pool2d;
use crate::{invalid, InterpError};
use nibble_ir::{Func, Op};
use nibble_qnt::ResizeMode;
use nibble_tile as tile;

/// tile.max_pool2d, avg_pool2d and resize.
pub(super) fn eval(f: &Func, op: &Op, x: &[&[i32]]) -> Result<Vec<i32>, InterpError> {
    let [x] = operands(op, x)?;
    let (xs, os) = (dims(f, op.operands[0]), dims(f, op.results[0]));
    match op.name.as_str() {
        tile::MAX_POOL2D => pool2d(op, x, &xs, &os, -128, i32::max, |a, _| a),
        tile::AVG_POOL2D => avg_pool2d(op, x, &xs, &os),
        _ => resize(op, x, &xs, &os),
    }
}

/// NHWC average pool: the sum of the taps inside the input, requantized by the multiplier of
/// its tap count (one entry: every window is full).
fn avg_pool2d(op: &Op, x: &[i32], xs: &[usize], os: &[usize]) -> Result<Vec<i32>, InterpError> {
    let tile::AvgPool2d { window, rq } = tile::AvgPool2d::from_op(op)?;
    let taps = window.kernel.iter().product::<i64>().max(1) as usize;
    requant::check(op, &rq, taps)?;
    pool2d(
        op,
        x,
        xs,
        os,
        0i64,
        |a, v| a + (v as i64 - rq.input_zp),
        |a, taps| requant(a, &rq, taps.max(1) - 1),
    )
}

/// tosa.resize on stored integers (see `qnt.resize` in qnt.irdl.mlir).
fn resize(op: &Op, x: &[i32], xs: &[usize], os: &[usize]) -> Result<Vec<i32>, InterpError> {
    let tile::Resize { geometry, rq } = tile::Resize::from_op(op)?;
    let (scale, off) = (geometry.scale, geometry.image_offset);
    if xs.len() != 4 || os.len() != 4 || scale.iter().any(|&v| v <= 0) {
        return Err(invalid(
            op,
            "needs NHWC tensors, scale [ny, dy, nx, dx] > 0 and image_offset [oy, ox]",
        ));
    }
    let bilinear = geometry.mode == ResizeMode::Bilinear;
    requant::check(op, &rq, 1)?;
    let ty = crate::resize_taps(os[1], xs[1] as i64, scale[0], scale[1], off[0], bilinear);
    let tx = crate::resize_taps(os[2], xs[2] as i64, scale[2], scale[3], off[1], bilinear);
    let (w, c) = (xs[2], xs[3]);
    let (ny, nx) = (scale[0], scale[2]);
    let mut out = Vec::with_capacity(os[1] * os[2] * c);
    for &(y0, y1, fy) in &ty {
        for &(x0, x1, fx) in &tx {
            for ch in 0..c {
                let at = |y: usize, xx: usize| x[(y * w + xx) * c + ch] as i64 - rq.input_zp;
                if bilinear {
                    let top = at(y0, x0) * (nx - fx) + at(y0, x1) * fx;
                    let bottom = at(y1, x0) * (nx - fx) + at(y1, x1) * fx;
                    out.push(requant(top * (ny - fy) + bottom * fy, &rq, 0));
                } else {
                    out.push(x[(y0 * w + x0) * c + ch]);
                }
            }
        }
    }
    Ok(out)
}
