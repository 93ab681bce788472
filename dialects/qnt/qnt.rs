//! The `qnt` dialect (quant level): its IRDL definition, op names and typed builders.
//! Semantics: `docs/dialects/qnt.md`.

use nibble_ir::{Attr, Func, Type, ValueId};

/// The IRDL source, loaded into every nibble context.
pub const IRDL: &str = include_str!("qnt.irdl.mlir");

pub const QUANTIZE: &str = "qnt.quantize";
pub const DEQUANTIZE: &str = "qnt.dequantize";
pub const CONST: &str = "qnt.const";
pub const CONV2D: &str = "qnt.conv2d";
pub const DEPTHWISE_CONV2D: &str = "qnt.depthwise_conv2d";
pub const FULLY_CONNECTED: &str = "qnt.fully_connected";
pub const REQUANT: &str = "qnt.requant";
pub const CLAMP: &str = "qnt.clamp";
pub const MAX_POOL2D: &str = "qnt.max_pool2d";
pub const RESHAPE: &str = "qnt.reshape";
pub const TRANSPOSE: &str = "qnt.transpose";
pub const LUT: &str = "qnt.lut";

/// The only rounding mode of this slice: tosa.rescale's SINGLE_ROUND (round half up).
pub const SINGLE_ROUND: &str = "SINGLE_ROUND";

pub fn quantize(f: &mut Func, x: ValueId, ty: Type) -> ValueId {
    f.push(QUANTIZE, &[x], ty, vec![])
}
pub fn dequantize(f: &mut Func, x: ValueId, ty: Type) -> ValueId {
    f.push(DEQUANTIZE, &[x], ty, vec![])
}
/// A constant of quantized type `ty` holding storage integers `value` (a dense attribute).
pub fn constant(f: &mut Func, ty: Type, value: Attr) -> ValueId {
    f.push(CONST, &[], ty, vec![("value", value)])
}
/// A convolution op `name` with its window attributes.
#[allow(clippy::too_many_arguments)]
fn windowed(
    f: &mut Func,
    name: &str,
    x: ValueId,
    w: ValueId,
    b: ValueId,
    ty: Type,
    pad: [i64; 4],
    stride: [i64; 2],
    dilation: [i64; 2],
) -> ValueId {
    let attrs = vec![
        ("pad", Attr::I64s(pad.to_vec())),
        ("stride", Attr::I64s(stride.to_vec())),
        ("dilation", Attr::I64s(dilation.to_vec())),
    ];
    f.push(name, &[x, w, b], ty, attrs)
}
#[allow(clippy::too_many_arguments)]
pub fn conv2d(
    f: &mut Func,
    x: ValueId,
    w: ValueId,
    b: ValueId,
    ty: Type,
    pad: [i64; 4],
    stride: [i64; 2],
    dilation: [i64; 2],
) -> ValueId {
    windowed(f, CONV2D, x, w, b, ty, pad, stride, dilation)
}
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv2d(
    f: &mut Func,
    x: ValueId,
    w: ValueId,
    b: ValueId,
    ty: Type,
    pad: [i64; 4],
    stride: [i64; 2],
    dilation: [i64; 2],
) -> ValueId {
    windowed(f, DEPTHWISE_CONV2D, x, w, b, ty, pad, stride, dilation)
}
pub fn fully_connected(f: &mut Func, x: ValueId, w: ValueId, b: ValueId, ty: Type) -> ValueId {
    f.push(FULLY_CONNECTED, &[x, w, b], ty, vec![])
}
pub fn requant(f: &mut Func, x: ValueId, ty: Type, multiplier: i32, shift: i32) -> ValueId {
    let attrs = vec![
        ("multiplier", Attr::i32(multiplier as i64)),
        ("shift", Attr::i32(shift as i64)),
        ("rounding_mode", Attr::Str(SINGLE_ROUND.into())),
    ];
    f.push(REQUANT, &[x], ty, attrs)
}
/// A per-channel requantization: one multiplier/shift per channel of the last dimension.
pub fn requant_per_channel(
    f: &mut Func,
    x: ValueId,
    ty: Type,
    multipliers: &[i32],
    shifts: &[i32],
) -> ValueId {
    let attrs = vec![
        ("multiplier", Attr::I32s(multipliers.to_vec())),
        ("shift", Attr::I32s(shifts.to_vec())),
        ("rounding_mode", Attr::Str(SINGLE_ROUND.into())),
    ];
    f.push(REQUANT, &[x], ty, attrs)
}

pub fn clamp(f: &mut Func, x: ValueId, min: i64, max: i64) -> ValueId {
    let ty = f.ty(x).clone();
    f.push(
        CLAMP,
        &[x],
        ty,
        vec![("min", Attr::i64(min)), ("max", Attr::i64(max))],
    )
}
pub fn max_pool2d(
    f: &mut Func,
    x: ValueId,
    ty: Type,
    kernel: [i64; 2],
    stride: [i64; 2],
    pad: [i64; 4],
) -> ValueId {
    let attrs = vec![
        ("kernel", Attr::I64s(kernel.to_vec())),
        ("stride", Attr::I64s(stride.to_vec())),
        ("pad", Attr::I64s(pad.to_vec())),
    ];
    f.push(MAX_POOL2D, &[x], ty, attrs)
}
pub fn reshape(f: &mut Func, x: ValueId, ty: Type) -> ValueId {
    f.push(RESHAPE, &[x], ty, vec![])
}
pub fn transpose(f: &mut Func, x: ValueId, ty: Type, perms: &[i32]) -> ValueId {
    f.push(
        TRANSPOSE,
        &[x],
        ty,
        vec![("perms", Attr::I32s(perms.to_vec()))],
    )
}

/// A 256-entry i8 lookup table applied elementwise (`function` names what it computes).
pub fn lut(f: &mut Func, x: ValueId, ty: Type, table: &[i8], function: &str) -> ValueId {
    let attrs = vec![
        (
            "table",
            Attr::dense_i8(Type::tensor(&[256], nibble_ir::Elem::Int(8)), table),
        ),
        ("function", Attr::Str(function.into())),
    ];
    f.push(LUT, &[x], ty, attrs)
}
