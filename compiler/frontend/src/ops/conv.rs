//! Convolutions: Conv (group 1 as tosa.conv2d, depthwise as tosa.depthwise_conv2d, other
//! groups as per-group slices, convolutions and a concat) and ConvTranspose
//! (tosa.transpose_conv2d). Weights and bias are constants, rearranged to the tosa layouts;
//! activations are NHWC.

use super::pool::fit_window;
use super::{Import, OpSupport};
use crate::emit::f32t;
use crate::importer::{Importer, Val};
use crate::tensor::Const;
use crate::ImportError;
use nibble_graph::tosa;
use nibble_ir::{Attr, ValueId};

pub(super) const OPS: &[OpSupport] = &[
    OpSupport {
        op: "Conv",
        opsets: "1–21",
        attributes: "strides, pads, dilations, group (1, depthwise, or grouped: per-group slices, convs and a concat), auto_pad NOTSET/VALID",
        notes: "2-D; constant weights and bias",
        import: Import::Lower(conv),
    },
    OpSupport {
        op: "ConvTranspose",
        opsets: "1–21",
        attributes: "strides, pads, output_padding (group 1, dilations 1; no output_shape or auto_pad)",
        notes: "2-D; constant weights and bias; as tosa.transpose_conv2d",
        import: Import::Lower(conv_transpose),
    },
];

fn conv(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let x = imp.nhwc(x)?;
    let w = imp.konst(1)?;
    if w.dims.len() != 4 {
        return Err(imp.err(format!(
            "only 2-D convolution is supported (weight shape {:?})",
            w.dims
        )));
    }
    let k = imp.ints("kernel_shape", &w.dims[2..]);
    if k != w.dims[2..] {
        return Err(imp.err(format!(
            "kernel_shape {k:?} contradicts the weights' {:?}",
            &w.dims[2..]
        )));
    }
    let group = imp.int("group", 1);
    let bias = match imp.konst_opt(2)? {
        Some(b) => b.data,
        None => vec![0.0; w.dims[0].max(0) as usize],
    };
    let xs = imp.shape(x);
    let r = if group != 1 && !(group == xs[3] && w.dims[1] == 1) {
        grouped_conv(imp, x, &w, &bias, group)?
    } else if group != 1 {
        depthwise_conv(imp, x, &w, group)?
    } else {
        conv2d(imp, x, &w, &bias)?
    };
    Ok(vec![Val { id: r, nhwc: true }])
}

/// The node's strides, dilations and pads, each of 2 spatial dimensions.
type Window = (Vec<i64>, Vec<i64>, Vec<i64>);

/// The node's strides and dilations with `pads`, checked to describe 2 spatial dimensions.
fn window(imp: &Importer, pads: Vec<i64>) -> Result<Window, ImportError> {
    let strides = imp.ints("strides", &[1, 1]);
    let dil = imp.ints("dilations", &[1, 1]);
    if strides.len() != 2 || dil.len() != 2 || pads.len() != 4 {
        return Err(imp.err("strides, dilations and pads must describe 2 spatial dimensions"));
    }
    Ok((strides, dil, pads))
}

/// A 2-D convolution (group 1) of NHWC `x` with OIHW weights `w` and `bias`, the node's
/// strides, pads, dilations and auto_pad.
fn conv2d(imp: &mut Importer, x: ValueId, w: &Const, bias: &[f32]) -> Result<ValueId, ImportError> {
    let [oc, ic, kh, kw] = [w.dims[0], w.dims[1], w.dims[2], w.dims[3]];
    let xs = imp.shape(x);
    if xs[3] != ic {
        return Err(imp.err(format!("input has {} channels, weights expect {ic}", xs[3])));
    }
    if bias.len() as i64 != oc {
        return Err(imp.err(format!("bias has {} elements, expected {oc}", bias.len())));
    }
    let pads = match imp.string("auto_pad").as_deref() {
        None | Some("NOTSET") => imp.ints("pads", &[0, 0, 0, 0]),
        Some("VALID") => vec![0, 0, 0, 0],
        Some(p) => return Err(imp.err(format!("auto_pad = {p} is not supported (NOTSET, VALID)"))),
    };
    let (strides, dil, mut pads) = window(imp, pads)?;
    let ohwi = to_ohwi(&w.data, [oc, ic, kh, kw], false);
    let (x, xs, oh, ow) = conv_window(imp, x, &mut pads, [kh, kw], &dil, &strides)?;
    let wv = imp.constant(&[oc, kh, kw, ic], &ohwi);
    let bv = imp.constant(&[oc], bias);
    let z = imp.zero_point();
    let attrs = vec![
        ("acc_type", Attr::Raw("f32".into())),
        ("pad", Attr::I64s(vec![pads[0], pads[2], pads[1], pads[3]])),
        ("stride", Attr::I64s(strides)),
        ("dilation", Attr::I64s(dil)),
    ];
    Ok(imp.push(
        tosa::CONV2D,
        &[x, wv, bv, z, z],
        f32t(&[xs[0], oh, ow, oc]),
        attrs,
    ))
}

/// The input a convolution window of `kernel` taps (dilated) reads after `fit_window`, and
/// the output height and width; an empty output is an error.
fn conv_window(
    imp: &mut Importer,
    x: ValueId,
    pads: &mut [i64],
    kernel: [i64; 2],
    dil: &[i64],
    strides: &[i64],
) -> Result<(ValueId, Vec<i64>, i64, i64), ImportError> {
    let span = [dil[0] * (kernel[0] - 1) + 1, dil[1] * (kernel[1] - 1) + 1];
    let (x, xs) = fit_window(imp, x, pads, span, strides)?;
    let oh = (xs[1] + pads[0] + pads[2] - span[0]) / strides[0] + 1;
    let ow = (xs[2] + pads[1] + pads[3] - span[1]) / strides[1] + 1;
    if oh <= 0 || ow <= 0 {
        return Err(imp.err("the output would be empty"));
    }
    Ok((x, xs, oh, ow))
}

/// A grouped convolution as `group` convolutions over channel slices, concatenated.
fn grouped_conv(
    imp: &mut Importer,
    x: ValueId,
    w: &Const,
    bias: &[f32],
    group: i64,
) -> Result<ValueId, ImportError> {
    let xs = imp.shape(x);
    let [oc, icg] = [w.dims[0], w.dims[1]];
    if group <= 0 || xs[3] != icg * group || oc % group != 0 || bias.len() as i64 != oc {
        return Err(imp.err(format!(
            "group = {group}: input channels {} must be group × {icg} and output channels {oc} a multiple of group",
            xs[3]
        )));
    }
    let ocg = oc / group;
    let per = (w.data.len() as i64 / oc) as usize;
    let mut parts = Vec::new();
    for g in 0..group {
        let xg = imp.slice(x, &[0, 0, 0, g * icg], &[xs[0], xs[1], xs[2], icg]);
        let (o0, o1) = ((g * ocg) as usize, ((g + 1) * ocg) as usize);
        let wg = Const {
            dims: vec![ocg, icg, w.dims[2], w.dims[3]],
            data: w.data[o0 * per..o1 * per].to_vec(),
        };
        parts.push(conv2d(imp, xg, &wg, &bias[o0..o1])?);
    }
    let mut out = imp.shape(parts[0]);
    out[3] = oc;
    Ok(imp.push(
        tosa::CONCAT,
        &parts,
        f32t(&out),
        vec![("axis", Attr::i32(3))],
    ))
}

/// Depthwise convolution (group = input channels), as tosa.depthwise_conv2d.
fn depthwise_conv(
    imp: &mut Importer,
    x: ValueId,
    w: &Const,
    group: i64,
) -> Result<ValueId, ImportError> {
    let xs = imp.shape(x);
    let [oc, icg, kh, kw] = [w.dims[0], w.dims[1], w.dims[2], w.dims[3]];
    if group != xs[3] || icg != 1 || oc % group != 0 {
        return Err(imp.err(format!("group = {group} is supported only as a depthwise convolution (group = input channels = {})", xs[3])));
    }
    let mult = oc / group;
    let hwcm = to_hwcm(&w.data, [group, mult, kh, kw]);
    let bias = match imp.konst_opt(2)? {
        Some(b) => b.data,
        None => vec![0.0; oc as usize],
    };
    let pads = imp.ints("pads", &[0, 0, 0, 0]);
    if !matches!(imp.string("auto_pad").as_deref(), None | Some("NOTSET")) {
        return Err(imp.err("auto_pad is not supported on depthwise convolutions"));
    }
    let (strides, dil, mut pads) = window(imp, pads)?;
    let (x, xs, oh, ow) = conv_window(imp, x, &mut pads, [kh, kw], &dil, &strides)?;
    let wv = imp.constant(&[kh, kw, group, mult], &hwcm);
    let bv = imp.constant(&[oc], &bias);
    let z = imp.zero_point();
    let attrs = vec![
        ("acc_type", Attr::Raw("f32".into())),
        ("pad", Attr::I64s(vec![pads[0], pads[2], pads[1], pads[3]])),
        ("stride", Attr::I64s(strides)),
        ("dilation", Attr::I64s(dil)),
    ];
    Ok(imp.push(
        tosa::DEPTHWISE_CONV2D,
        &[x, wv, bv, z, z],
        f32t(&[xs[0], oh, ow, oc]),
        attrs,
    ))
}

/// Transposed convolution (group 1, dilation 1) with explicit pads and output padding.
fn conv_transpose(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let x = imp.nhwc(x)?;
    let w = imp.konst(1)?;
    if w.dims.len() != 4 {
        return Err(imp.err("only 2-D ConvTranspose is supported"));
    }
    if imp.ints("kernel_shape", &w.dims[2..]) != w.dims[2..] {
        return Err(imp.err("kernel_shape contradicts the weights"));
    }
    if imp.int("group", 1) != 1 || imp.ints("dilations", &[1, 1]) != [1, 1] {
        return Err(imp.err("only group 1 and dilation 1 are supported"));
    }
    if imp.attr("output_shape").is_some()
        || !matches!(imp.string("auto_pad").as_deref(), None | Some("NOTSET"))
    {
        return Err(
            imp.err("output_shape and auto_pad are not supported (give pads and output_padding)")
        );
    }
    let [ic, oc, kh, kw] = [w.dims[0], w.dims[1], w.dims[2], w.dims[3]];
    let xs = imp.shape(x);
    if xs[3] != ic {
        return Err(imp.err(format!("input has {} channels, weights expect {ic}", xs[3])));
    }
    let s = imp.ints("strides", &[1, 1]);
    let p = imp.ints("pads", &[0, 0, 0, 0]);
    let op_ = imp.ints("output_padding", &[0, 0]);
    // Lengths and bounds first: the output size below is computed from them.
    let within = |v: &[i64], n: usize, lo: i64| {
        v.len() == n && v.iter().all(|&x| (lo..=1 << 16).contains(&x))
    };
    if !within(&s, 2, 1) || !within(&p, 4, 0) || !within(&op_, 2, 0) {
        return Err(imp.err(format!(
            "strides {s:?} (2 values from 1), pads {p:?} (4) and output_padding {op_:?} (2) must be at most 2^16"
        )));
    }
    let ohwi = to_ohwi(&w.data, [oc, ic, kh, kw], true);
    let bias = match imp.konst_opt(2)? {
        Some(b) => b.data,
        None => vec![0.0; oc as usize],
    };
    // tosa: out = (in − 1)·stride + out_pad_before + out_pad_after + k
    let out_pad = vec![-p[0], -p[2] + op_[0], -p[1], -p[3] + op_[1]];
    let oh = (xs[1] - 1).saturating_mul(s[0]) + out_pad[0] + out_pad[1] + kh;
    let ow = (xs[2] - 1).saturating_mul(s[1]) + out_pad[2] + out_pad[3] + kw;
    let wv = imp.constant(&[oc, kh, kw, ic], &ohwi);
    let bv = imp.constant(&[oc], &bias);
    let z = imp.zero_point();
    let attrs = vec![
        ("acc_type", Attr::Raw("f32".into())),
        ("out_pad", Attr::I64s(out_pad)),
        ("stride", Attr::I64s(s)),
    ];
    let r = imp.push(
        tosa::TRANSPOSE_CONV2D,
        &[x, wv, bv, z, z],
        f32t(&[xs[0], oh, ow, oc]),
        attrs,
    );
    Ok(vec![Val { id: r, nhwc: true }])
}

/// Convolution weights as OHWI (`[OC, KH, KW, IC]`, the layout of tosa and the kernels) from
/// ONNX's OIHW (Conv), or IOHW when `input_major` (ConvTranspose).
fn to_ohwi(w: &[f32], [oc, ic, kh, kw]: [i64; 4], input_major: bool) -> Vec<f32> {
    let mut ohwi = vec![0.0f32; w.len()];
    for o in 0..oc {
        for i in 0..ic {
            let src = if input_major { i * oc + o } else { o * ic + i };
            for y in 0..kh {
                for xk in 0..kw {
                    ohwi[(((o * kh + y) * kw + xk) * ic + i) as usize] =
                        w[((src * kh + y) * kw + xk) as usize];
                }
            }
        }
    }
    ohwi
}

/// Depthwise weights `[OC, 1, KH, KW]` as tosa's `[KH, KW, C, M]`, with oc = c·M + m.
fn to_hwcm(w: &[f32], [group, mult, kh, kw]: [i64; 4]) -> Vec<f32> {
    let mut hwcm = vec![0.0f32; w.len()];
    for c in 0..group {
        for m in 0..mult {
            for y in 0..kh {
                for xk in 0..kw {
                    hwcm[(((y * kw + xk) * group + c) * mult + m) as usize] =
                        w[((((c * mult + m) * kh) + y) * kw + xk) as usize];
                }
            }
        }
    }
    hwcm
}
