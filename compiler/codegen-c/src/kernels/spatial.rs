//! Calls of the ops that slide a window or resample an NHWC image: max and average pooling
//! and resizing.

use super::{call, Kernel};
use crate::arrays::{c_array, int_arrays};
use crate::CodegenError;
use nibble_qnt::{ResizeMode, Window};
use nibble_tile as tile;

/// `kernel[2]`, `stride[2]` and `pad[4]` of a pooling window.
fn window(w: &Window) -> String {
    int_arrays(&[
        ("kernel", 2, &w.kernel),
        ("stride", 2, &w.stride),
        ("pad", 4, &w.pad),
    ])
}

/// `nb_max_pool2d_s8`.
pub(super) fn max_pool2d(k: &mut Kernel) -> Result<(), CodegenError> {
    let xs = k.dims_of_rank(k.operand(0)?, 4)?;
    let os = k.dims_of_rank(k.result()?, 4)?;
    let decl = window(&tile::MaxPool2d::from_op(k.op)?.window);
    let run = call(
        "nb_max_pool2d_s8",
        &[
            &k.x(0)?,
            &xs[1],
            &xs[2],
            &xs[3],
            &k.ptr("int8_t"),
            &os[1],
            &os[2],
            &"kernel, stride, pad",
        ],
    );
    k.block(&[decl], &run);
    Ok(())
}

/// `nb_avg_pool2d_s8`: the window sum requantized by the multiplier of its tap count.
pub(super) fn avg_pool2d(k: &mut Kernel) -> Result<(), CodegenError> {
    let xs = k.dims_of_rank(k.operand(0)?, 4)?;
    let os = k.dims_of_rank(k.result()?, 4)?;
    let p = tile::AvgPool2d::from_op(k.op)?;
    let decl = format!("{} {}", window(&p.window), k.rq(&p.rq));
    let run = call(
        "nb_avg_pool2d_s8",
        &[
            &k.x(0)?,
            &xs[1],
            &xs[2],
            &xs[3],
            &k.ptr("int8_t"),
            &os[1],
            &os[2],
            &"kernel, stride, pad, &rq",
        ],
    );
    k.block(&[decl], &run);
    Ok(())
}

/// `nb_resize_s8`: the taps of every output row and column are tables computed here (no
/// division at run time): low index, high index, weight of the high one.
pub(super) fn resize(k: &mut Kernel) -> Result<(), CodegenError> {
    let xs = k.dims(k.operand(0)?);
    let p = tile::Resize::from_op(k.op)?;
    let (scale, off) = (p.geometry.scale, p.geometry.image_offset);
    let bilinear = p.geometry.mode == ResizeMode::Bilinear;
    if xs.len() != 4 || scale.iter().any(|&v| v <= 0) {
        return Err(
            k.err("needs NHWC tensors, scale [ny, dy, nx, dx] > 0 and image_offset [oy, ox]")
        );
    }
    let os = k.dims_of_rank(k.result()?, 4)?;
    let i = k.i;
    for (axis, name) in [(1, "nb_ry"), (2, "nb_rx")] {
        let (n, d) = (scale[2 * (axis - 1)], scale[2 * axis - 1]);
        let taps =
            nibble_interp::resize_taps(os[axis] as usize, xs[axis], n, d, off[axis - 1], bilinear);
        let flat = taps.iter().flat_map(|&(a, b, w)| [a as i64, b as i64, w]);
        c_array(k.weights, "int32_t", &format!("{name}{i}"), flat);
    }
    let decl = k.rq(&p.rq);
    let run = call(
        "nb_resize_s8",
        &[
            &k.x(0)?,
            &xs[2],
            &xs[3],
            &k.ptr("int8_t"),
            &os[1],
            &os[2],
            &format!("nb_ry{i}, nb_rx{i}"),
            &scale[0],
            &scale[2],
            &(bilinear as i32),
            &"&rq",
        ],
    );
    k.block(&[decl], &run);
    Ok(())
}
