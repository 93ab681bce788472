//! Pooling: MaxPool (floor or ceil mode), AveragePool and GlobalAveragePool as tosa.max_pool2d
//! and tosa.avg_pool2d on NHWC activations, with the window fitting tosa needs.

use super::{Import, OpSupport};
use crate::emit::f32t;
use crate::importer::{Importer, Val};
use crate::ImportError;
use nibble_graph::tosa;
use nibble_ir::{Attr, ValueId};

pub(super) const OPS: &[OpSupport] = &[
    OpSupport {
        op: "AveragePool",
        opsets: "7–21",
        attributes: "kernel_shape, strides, pads, count_include_pad (0, or 1 without pads)",
        notes: "ceil_mode 0",
        import: Import::Lower(average_pool),
    },
    OpSupport {
        op: "GlobalAveragePool",
        opsets: "1–21",
        attributes: "",
        notes: "as tosa.avg_pool2d over H×W",
        import: Import::Lower(global_average_pool),
    },
    OpSupport {
        op: "MaxPool",
        opsets: "1–21",
        attributes: "kernel_shape, strides, pads, ceil_mode",
        notes: "2-D, dilations 1",
        import: Import::Lower(max_pool),
    },
];

/// The node's kernel_shape, strides and pads, each of 2 spatial dimensions.
type Window = (Vec<i64>, Vec<i64>, Vec<i64>);

fn window(imp: &Importer) -> Result<Window, ImportError> {
    let k = imp.ints("kernel_shape", &[]);
    let s = imp.ints("strides", &[1, 1]);
    let p = imp.ints("pads", &[0, 0, 0, 0]);
    if k.len() != 2 || s.len() != 2 || p.len() != 4 {
        return Err(imp.err("kernel_shape, strides and pads must describe 2 spatial dimensions"));
    }
    Ok((k, s, p))
}

/// A pooling op's output length along one dimension (ceil mode: the last window must start
/// inside the input or the leading pad).
fn pooled_len(ceil: bool, len: i64, pb: i64, pe: i64, k: i64, s: i64) -> i64 {
    let span = len + pb + pe - k;
    let mut o = if ceil {
        (span + s - 1) / s + 1
    } else {
        span / s + 1
    };
    if ceil && (o - 1) * s >= len + pb {
        o -= 1;
    }
    o
}

fn max_pool(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let mut x = imp.nhwc(x)?;
    let (k, s, mut p) = window(imp)?;
    if imp.ints("dilations", &[1, 1]) != [1, 1] {
        return Err(imp.err("dilations other than 1 are not supported"));
    }
    let mut xs = imp.shape(x);
    let ceil = imp.int("ceil_mode", 0) != 0;
    let oh = pooled_len(ceil, xs[1], p[0], p[2], k[0], s[0]);
    let ow = pooled_len(ceil, xs[2], p[1], p[3], k[1], s[1]);
    // Extra end padding (ceil mode) so the windows tile the padded input exactly;
    // padding never wins a max.
    p[2] += ((oh - 1) * s[0] + k[0] - (xs[1] + p[0] + p[2])).max(0);
    p[3] += ((ow - 1) * s[1] + k[1] - (xs[2] + p[1] + p[3])).max(0);
    // tosa.max_pool2d needs the window to tile the input exactly; floor mode drops
    // the trailing rows/columns no window reads, so slice them off.
    let (need_h, need_w) = (
        (oh - 1) * s[0] + k[0] - p[0] - p[2],
        (ow - 1) * s[1] + k[1] - p[1] - p[3],
    );
    if need_h != xs[1] || need_w != xs[2] {
        x = imp.slice(x, &[0, 0, 0, 0], &[xs[0], need_h, need_w, xs[3]]);
        xs = imp.shape(x);
    }
    let attrs = vec![
        ("kernel", Attr::I64s(k)),
        ("stride", Attr::I64s(s)),
        ("pad", Attr::I64s(vec![p[0], p[2], p[1], p[3]])),
    ];
    let r = imp.push(tosa::MAX_POOL2D, &[x], f32t(&[xs[0], oh, ow, xs[3]]), attrs);
    Ok(vec![Val { id: r, nhwc: true }])
}

fn average_pool(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let x = imp.nhwc(x)?;
    let (k, s, mut p) = window(imp)?;
    if imp.int("ceil_mode", 0) != 0 {
        return Err(imp.err("ceil_mode = 1 is not supported for AveragePool"));
    }
    if imp.int("count_include_pad", 0) != 0 && p.iter().any(|&v| v != 0) {
        return Err(imp.err("count_include_pad = 1 with padding is not supported"));
    }
    let (x, xs) = fit_window(imp, x, &mut p, [k[0], k[1]], &s)?;
    let oh = (xs[1] + p[0] + p[2] - k[0]) / s[0] + 1;
    let ow = (xs[2] + p[1] + p[3] - k[1]) / s[1] + 1;
    let r = avg_pool2d(imp, x, [xs[0], oh, ow, xs[3]], k, s, p);
    Ok(vec![Val { id: r, nhwc: true }])
}

fn global_average_pool(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let x = imp.nhwc(x)?;
    let xs = imp.shape(x);
    let kernel = vec![xs[1], xs[2]];
    let r = avg_pool2d(imp, x, [xs[0], 1, 1, xs[3]], kernel, vec![1, 1], vec![0; 4]);
    Ok(vec![Val { id: r, nhwc: true }])
}

/// tosa.avg_pool2d of NHWC `x` to shape `out`, pads in ONNX order [top, left, bottom, right].
fn avg_pool2d(
    imp: &mut Importer,
    x: ValueId,
    out: [i64; 4],
    kernel: Vec<i64>,
    stride: Vec<i64>,
    p: Vec<i64>,
) -> ValueId {
    let z = imp.zero_point();
    let attrs = vec![
        ("acc_type", Attr::Raw("f32".into())),
        ("kernel", Attr::I64s(kernel)),
        ("stride", Attr::I64s(stride)),
        ("pad", Attr::I64s(vec![p[0], p[2], p[1], p[3]])),
    ];
    imp.push(tosa::AVG_POOL2D, &[x, z, z], f32t(&out), attrs)
}

/// tosa needs windows to tile the padded input exactly; ONNX floors. Trailing rows/columns
/// no window reads are dropped: first from the end padding (`pads` in ONNX order
/// [top, left, bottom, right]), then by slicing the input. Returns the input and its shape.
pub(super) fn fit_window(
    imp: &mut Importer,
    x: ValueId,
    pads: &mut [i64],
    window: [i64; 2],
    strides: &[i64],
) -> Result<(ValueId, Vec<i64>), ImportError> {
    let xs = imp.shape(x);
    let mut keep = [xs[1], xs[2]];
    for d in 0..2 {
        let span = xs[1 + d] + pads[d] + pads[2 + d] - window[d];
        if span < 0 {
            return Err(imp.err("the window is larger than the padded input"));
        }
        let mut excess = span % strides[d];
        let cut = excess.min(pads[2 + d]);
        pads[2 + d] -= cut;
        excess -= cut;
        keep[d] -= excess;
    }
    if keep == [xs[1], xs[2]] {
        return Ok((x, xs));
    }
    let sliced = imp.slice(x, &[0, 0, 0, 0], &[xs[0], keep[0], keep[1], xs[3]]);
    Ok((sliced, imp.shape(sliced)))
}
