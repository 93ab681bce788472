//! Calls of the layers with weights: convolutions (plain, depthwise, transposed), fully
//! connected layers and activation products, each with its `nb_rq` requantization.

use super::{call, Kernel};
use crate::arrays::{c_array, int_arrays};
use crate::CodegenError;
use nibble_qnt::ConvWindow;
use nibble_tile as tile;

/// `pad[4]`, `stride[2]` and `dil[2]` of a convolution.
fn geometry(w: &ConvWindow) -> String {
    int_arrays(&[
        ("pad", 4, &w.pad),
        ("stride", 2, &w.stride),
        ("dil", 2, &w.dilation),
    ])
}

/// `nb_conv2d`: NHWC input, OHWI weights, computed in tiles of `tile = [rows, channels]`.
pub(super) fn conv2d(k: &mut Kernel) -> Result<(), CodegenError> {
    let xs = k.dims_of_rank(k.operand(0)?, 4)?;
    let ws = k.dims_of_rank(k.operand(1)?, 4)?;
    let os = k.dims_of_rank(k.result()?, 4)?;
    let p = tile::Conv2d::from_op(k.op)?;
    let [rows, channels] = p.tile;
    if channels > 256 {
        return Err(k.err("tile channels above the runtime's 256"));
    }
    let decl = format!("{} {}", geometry(&p.window), k.rq(&p.rq));
    let run = call(
        "nb_conv2d",
        &[
            &k.xb(0)?,
            &xs[1],
            &xs[2],
            &xs[3],
            &k.x(1)?,
            &ws[0],
            &ws[1],
            &ws[2],
            &k.x(2)?,
            &k.out()?,
            &os[1],
            &os[2],
            &"pad, stride, dil, &rq",
            &rows,
            &channels,
        ],
    );
    k.block(&[decl], &run);
    Ok(())
}

/// `nb_depthwise_conv2d`: weights [KH, KW, C, 1] (multiplier 1).
pub(super) fn depthwise_conv2d(k: &mut Kernel) -> Result<(), CodegenError> {
    let xs = k.dims_of_rank(k.operand(0)?, 4)?;
    let ws = k.dims_of_rank(k.operand(1)?, 4)?;
    let os = k.dims_of_rank(k.result()?, 4)?;
    if ws[3] != 1 {
        return Err(k.err("only depthwise multiplier 1 has a C kernel"));
    }
    let p = tile::Conv2d::from_op(k.op)?;
    let decl = format!("{} {}", geometry(&p.window), k.rq(&p.rq));
    let run = call(
        "nb_depthwise_conv2d",
        &[
            &k.xb(0)?,
            &xs[1],
            &xs[2],
            &xs[3],
            &k.x(1)?,
            &ws[0],
            &ws[1],
            &k.x(2)?,
            &k.out()?,
            &os[1],
            &os[2],
            &"pad, stride, dil, &rq",
        ],
    );
    k.block(&[decl], &run);
    Ok(())
}

/// `nb_fully_connected`: [N, K] by [M, K] weights, in tiles of `tile = [channels]`.
pub(super) fn fully_connected(k: &mut Kernel) -> Result<(), CodegenError> {
    let xs = k.dims_of_rank(k.operand(0)?, 2)?;
    let ws = k.dims_of_rank(k.operand(1)?, 2)?;
    let p = tile::FullyConnected::from_op(k.op)?;
    let [channels] = p.tile;
    let decl = k.rq(&p.rq);
    let run = call(
        "nb_fully_connected",
        &[
            &k.xb(0)?,
            &xs[0],
            &xs[1],
            &k.x(1)?,
            &ws[0],
            &k.x(2)?,
            &k.out()?,
            &"&rq",
            &channels,
        ],
    );
    k.block(&[decl], &run);
    Ok(())
}

/// `nb_matmul_s8`: the batched product of two activations, [B, N, K] by [B, K, M].
pub(super) fn matmul(k: &mut Kernel) -> Result<(), CodegenError> {
    let sa = k.dims_of_rank(k.operand(0)?, 3)?;
    let sb = k.dims_of_rank(k.operand(1)?, 3)?;
    let p = tile::Matmul::from_op(k.op)?;
    let decl = k.rq(&p.rq);
    let run = call(
        "nb_matmul_s8",
        &[
            &k.x(0)?,
            &k.x(1)?,
            &sa[0],
            &sa[1],
            &sa[2],
            &sb[2],
            &p.rhs_zp,
            &k.ptr("int8_t"),
            &"&rq",
        ],
    );
    k.block(&[decl], &run);
    Ok(())
}

/// Appends the taps of one axis of a transposed convolution as two tables: `NAME_startI`
/// (where each output index's pairs begin, one past the end last) and `NAME_tapsI` (the
/// (kernel, input) index pairs, then a padding pair).
fn tap_table(k: &mut Kernel, name: &str, taps: Vec<Vec<(usize, usize)>>) {
    let mut starts = vec![0usize];
    let mut pairs = Vec::new();
    for t in &taps {
        for &(kernel, input) in t {
            pairs.extend([kernel, input]);
        }
        starts.push(pairs.len() / 2);
    }
    let i = k.i;
    c_array(
        k.weights,
        "int32_t",
        &format!("{name}_start{i}"),
        starts.into_iter(),
    );
    let pairs = pairs.into_iter().chain([0, 0]);
    c_array(k.weights, "int32_t", &format!("{name}_taps{i}"), pairs);
}

/// `nb_transpose_conv2d_s8`: the (kernel, input) taps of every output row and column are
/// tables computed here, so the kernel does no index arithmetic.
pub(super) fn transpose_conv2d(k: &mut Kernel) -> Result<(), CodegenError> {
    let (xs, ws) = (k.dims(k.operand(0)?), k.dims(k.operand(1)?));
    let p = tile::TransposeConv2d::from_op(k.op)?;
    let (out_pad, stride) = (&p.window.out_pad, &p.window.stride);
    if xs.len() != 4 || ws.len() != 4 || out_pad.len() != 4 || stride.len() != 2 {
        return Err(k.err("needs NHWC tensors, OHWI weights, out_pad[4] and stride[2]"));
    }
    let os = k.dims_of_rank(k.result()?, 4)?;
    let axis = |a: usize| {
        nibble_interp::tconv_taps(
            os[a] as usize,
            xs[a] as usize,
            ws[a] as usize,
            stride[a - 1],
            out_pad[2 * (a - 1)],
        )
    };
    let (rows, cols) = (axis(1), axis(2));
    tap_table(k, "nb_tcy", rows);
    tap_table(k, "nb_tcx", cols);
    let decl = k.rq(&p.rq);
    let i = k.i;
    let tables = format!("nb_tcy_start{i}, nb_tcy_taps{i}, nb_tcx_start{i}, nb_tcx_taps{i}");
    let run = call(
        "nb_transpose_conv2d_s8",
        &[
            &k.x(0)?,
            &xs[2],
            &xs[3],
            &k.x(1)?,
            &ws[0],
            &ws[1],
            &ws[2],
            &k.x(2)?,
            &k.ptr("int8_t"),
            &os[1],
            &os[2],
            &tables,
            &"&rq",
        ],
    );
    k.block(&[decl], &run);
    Ok(())
}
