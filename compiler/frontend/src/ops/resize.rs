//! Resize over H×W as tosa.resize: ONNX's scales or sizes and coordinate transformation
//! become tosa's integer scale (numerator, denominator), offset and border per dimension.

use super::{Import, OpSupport};
use crate::emit::f32t;
use crate::importer::{Importer, Val};
use crate::ImportError;
use nibble_graph::tosa;
use nibble_ir::Attr;

pub(super) const OPS: &[OpSupport] = &[OpSupport {
    op: "Resize",
    opsets: "11–21",
    attributes: "mode (nearest, linear), coordinate_transformation_mode (asymmetric, half_pixel, pytorch_half_pixel, align_corners), nearest_mode",
    notes: "over H×W; constant scales (ratios of small integers) or sizes",
    import: Import::Lower(resize),
}];

/// One spatial dimension: input length, output length, scale numerator and denominator.
type Dim = (i64, i64, i64, i64);

/// The largest length, scale numerator or denominator of a dimension (the importer's element
/// limit): tosa's border, (o - 1)·2d − (i − 1)·2n, then fits in i64.
const MAX_LEN: i64 = 1 << 28;

fn resize(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let x = imp.nhwc(x)?;
    let xs = imp.shape(x);
    if imp.opset < 11 {
        return Err(imp.err("Resize before opset 11 is not supported"));
    }
    let mode = imp.string("mode").unwrap_or_else(|| "nearest".into());
    let ctm = imp
        .string("coordinate_transformation_mode")
        .unwrap_or_else(|| "half_pixel".into());
    let nearest = imp
        .string("nearest_mode")
        .unwrap_or_else(|| "round_prefer_floor".into());
    let dims = spatial_dims(imp, &imp.onnx_shape(Val { id: x, nhwc: true }))?;
    let tosa_mode = match mode.as_str() {
        "nearest" => "NEAREST_NEIGHBOR",
        "linear" => "BILINEAR",
        m => return Err(imp.err(format!("mode '{m}' is not supported (nearest, linear)"))),
    };
    let (mut scale, mut offset, mut border) = (Vec::new(), Vec::new(), Vec::new());
    for &(i, o, n, d) in &dims {
        let (n2, d2, off) = tosa_scale(imp, &ctm, (i, o, n, d))?;
        // tosa nearest rounds half up; shift the offset for the other ONNX roundings.
        let off = if mode == "nearest" {
            match nearest.as_str() {
                "round_prefer_ceil" => off,
                "round_prefer_floor" => off - 1,
                "floor" => off - n2 / 2,
                "ceil" => off + n2 / 2 - 1,
                m => return Err(imp.err(format!("nearest_mode '{m}' is not supported"))),
            }
        } else {
            off
        };
        scale.extend([n2, d2]);
        offset.push(off);
        border.push((o - 1) * d2 - (i - 1) * n2 + off);
    }
    let (sv, ov, bv) = (
        imp.const_shape(&scale),
        imp.const_shape(&offset),
        imp.const_shape(&border),
    );
    let out = [xs[0], dims[0].1, dims[1].1, xs[3]];
    let r = imp.push(
        tosa::RESIZE,
        &[x, sv, ov, bv],
        f32t(&out),
        vec![("mode", Attr::Raw(format!("#tosa.resize_mode<{tosa_mode}>")))],
    );
    Ok(vec![Val { id: r, nhwc: true }])
}

/// H and W of the NCHW input shape `onnx_in` with their output lengths and scales, from the
/// constant sizes (input 3) or scales (input 2; ratios with a denominator up to 64).
fn spatial_dims(imp: &Importer, onnx_in: &[i64]) -> Result<Vec<Dim>, ImportError> {
    let mut dims = Vec::new();
    if imp.has_input(3) {
        let sizes = imp.konst(3)?.ints();
        if sizes.len() != 4 || sizes[0] != onnx_in[0] || sizes[1] != onnx_in[1] {
            return Err(imp.err(format!("sizes {sizes:?} must keep N and C of {onnx_in:?}")));
        }
        for k in 2..4 {
            dims.push((onnx_in[k], sizes[k], sizes[k], onnx_in[k]));
        }
    } else if imp.has_input(2) {
        let scales = imp.konst(2)?.data;
        if scales.len() != 4 || scales[0] != 1.0 || scales[1] != 1.0 {
            return Err(imp.err(format!("scales {scales:?} must be 1 for N and C")));
        }
        for k in 2..4 {
            let (n, d) = (1..=64)
                .find_map(|d| {
                    let n = (scales[k] as f64 * d as f64).round() as i64;
                    (n > 0 && (n as f32 / d as f32) == scales[k]).then_some((n, d))
                })
                .ok_or_else(|| {
                    imp.err(format!(
                        "scale {} is not a ratio of small integers",
                        scales[k]
                    ))
                })?;
            let o = (onnx_in[k] as f64 * scales[k] as f64).floor() as i64;
            dims.push((onnx_in[k], o, n, d));
        }
    } else {
        return Err(imp.err("Resize needs scales or sizes"));
    }
    if let Some(&(i, o, _, _)) = dims
        .iter()
        .find(|&&(i, o, n, d)| [i, o, n, d].iter().any(|v| !(1..=MAX_LEN).contains(v)))
    {
        return Err(imp.err(format!(
            "cannot resize a length of {i} to {o} (each must be 1 to {MAX_LEN})"
        )));
    }
    Ok(dims)
}

/// tosa's scale numerator, denominator and offset of one dimension under ONNX's
/// `coordinate_transformation_mode`, doubled so half-pixel offsets and nearest-mode shifts are
/// integers.
fn tosa_scale(
    imp: &Importer,
    ctm: &str,
    (i, o, n, d): Dim,
) -> Result<(i64, i64, i64), ImportError> {
    let (n2, d2) = (2 * n, 2 * d);
    Ok(match ctm {
        "asymmetric" => (n2, d2, 0),
        "half_pixel" | "pytorch_half_pixel" if o > 1 || ctm == "half_pixel" => (n2, d2, d - n),
        "pytorch_half_pixel" => (2, 2, 0),
        "align_corners" if o > 1 && i > 1 => (2 * (o - 1), 2 * (i - 1), 0),
        "align_corners" => (2, 2, 0),
        m => return Err(imp.err(format!("coordinate_transformation_mode '{m}' is not supported (asymmetric, half_pixel, pytorch_half_pixel, align_corners)"))),
    })
}
