//! The `tile` dialect (tile level): its IRDL definition, op names and typed builders.
//! Semantics: `docs/dialects/tile.md`.

use nibble_ir::{Attr, Func, Type, ValueId};

/// The IRDL source, loaded into every nibble context.
pub const IRDL: &str = include_str!("tile.irdl.mlir");

#[path = "dma.rs"]
mod dma;
pub use dma::*;

pub const QUANTIZE: &str = "tile.quantize";
pub const DEQUANTIZE: &str = "tile.dequantize";
pub const CONST: &str = "tile.const";
pub const CONV2D: &str = "tile.conv2d";
pub const DEPTHWISE_CONV2D: &str = "tile.depthwise_conv2d";
pub const FULLY_CONNECTED: &str = "tile.fully_connected";
pub const REQUANT: &str = "tile.requant";
pub const CLAMP: &str = "tile.clamp";
pub const MAX_POOL2D: &str = "tile.max_pool2d";
pub const TRANSPOSE: &str = "tile.transpose";
pub const RESHAPE: &str = "tile.reshape";
pub const LUT: &str = "tile.lut";
pub const AVG_POOL2D: &str = "tile.avg_pool2d";
pub const ADD: &str = "tile.add";
pub const MUL: &str = "tile.mul";
pub const SOFTMAX: &str = "tile.softmax";
pub const SLICE: &str = "tile.slice";
pub const CONCAT: &str = "tile.concat";
pub const MATMUL: &str = "tile.matmul";
pub const LAYER_NORM: &str = "tile.layer_norm";
pub const SQUEEZE_EXCITE: &str = "tile.squeeze_excite";
pub const RESIZE: &str = "tile.resize";
pub const TRANSPOSE_CONV2D: &str = "tile.transpose_conv2d";

/// The function attribute holding the bytes of the activation arena its memory plan needs.
pub const ARENA_ATTR: &str = "nibble.arena_bytes";

/// The activation arena a tile-level function's memory plan needs, if it has one.
pub fn arena_bytes(f: &Func) -> Option<usize> {
    match f.attrs.get(ARENA_ATTR) {
        Some(Attr::Int(n, _)) => Some(*n as usize),
        _ => None,
    }
}

/// Fixed-point requantization of a fused op: `out = clamp(zp_out + apply_scale(acc))`, with
/// one multiplier/shift for the tensor or one per output channel.
#[derive(Clone, Debug, PartialEq)]
pub struct Requant {
    pub input_zp: i64,
    pub output_zp: i64,
    pub multiplier: Vec<i32>,
    pub shift: Vec<i32>,
    pub clamp_min: i64,
    pub clamp_max: i64,
    /// Signed multipliers and shifts for negative accumulators (PReLU fused into the
    /// requantization), as many as `multiplier`; written as `neg_multiplier`/`neg_shift`.
    pub neg: Option<(Vec<i32>, Vec<i32>)>,
    /// Hard-swish fused into the requantization: `[three, six, multiplier, shift, bias, …]`, the
    /// last three once or once per output channel (`multiplier`/`shift` above then rescale the
    /// accumulator to the activation's fixed-point input); written as `hswish`.
    pub hswish: Option<Vec<i64>>,
    /// Swish fused into the requantization: `[multiplier, shift, bias]` and the sigmoid table
    /// (257 × Q15 over [-8, 8]); written as `swish` and `sigmoid_table`.
    pub swish: Option<([i64; 3], Vec<i32>)>,
}

impl Requant {
    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        let mut a = vec![
            ("input_zp", Attr::i32(self.input_zp)),
            ("output_zp", Attr::i32(self.output_zp)),
            ("multiplier", Attr::I32s(self.multiplier.clone())),
            ("shift", Attr::I32s(self.shift.clone())),
            ("clamp_min", Attr::i32(self.clamp_min)),
            ("clamp_max", Attr::i32(self.clamp_max)),
        ];
        if let Some((m, s)) = &self.neg {
            a.push(("neg_multiplier", Attr::I32s(m.clone())));
            a.push(("neg_shift", Attr::I32s(s.clone())));
        }
        if let Some(h) = &self.hswish {
            a.push(("hswish", Attr::I64s(h.clone())));
        }
        if let Some((p, table)) = &self.swish {
            a.push(("swish", Attr::I64s(p.to_vec())));
            let ty = Type::tensor(&[table.len() as i64], nibble_ir::Elem::Int(32));
            a.push(("sigmoid_table", Attr::dense_i32(ty, table)));
        }
        a
    }
}

pub fn quantize(f: &mut Func, x: ValueId, ty: Type, scale: f64, zero_point: i64) -> ValueId {
    f.push(
        QUANTIZE,
        &[x],
        ty,
        vec![
            ("scale", Attr::f64(scale)),
            ("zero_point", Attr::i32(zero_point)),
        ],
    )
}
pub fn dequantize(f: &mut Func, x: ValueId, ty: Type, scale: f64, zero_point: i64) -> ValueId {
    f.push(
        DEQUANTIZE,
        &[x],
        ty,
        vec![
            ("scale", Attr::f64(scale)),
            ("zero_point", Attr::i32(zero_point)),
        ],
    )
}
pub fn constant(f: &mut Func, ty: Type, value: Attr) -> ValueId {
    f.push(CONST, &[], ty, vec![("value", value)])
}
/// A convolution op `name` with fused requantization, window attributes and schedule.
#[allow(clippy::too_many_arguments)]
fn windowed(
    f: &mut Func,
    name: &str,
    x: ValueId,
    w: ValueId,
    b: ValueId,
    ty: Type,
    pad: &[i64],
    stride: &[i64],
    dilation: &[i64],
    rq: Requant,
    tile: [i64; 2],
) -> ValueId {
    let mut attrs = rq.attrs();
    attrs.extend([
        ("pad", Attr::I64s(pad.to_vec())),
        ("stride", Attr::I64s(stride.to_vec())),
        ("dilation", Attr::I64s(dilation.to_vec())),
        ("tile", Attr::I64s(tile.to_vec())),
        ("offset", Attr::i64(0)),
    ]);
    f.push(name, &[x, w, b], ty, attrs)
}
#[allow(clippy::too_many_arguments)]
pub fn conv2d(
    f: &mut Func,
    x: ValueId,
    w: ValueId,
    b: ValueId,
    ty: Type,
    pad: &[i64],
    stride: &[i64],
    dilation: &[i64],
    rq: Requant,
    tile: [i64; 2],
) -> ValueId {
    windowed(f, CONV2D, x, w, b, ty, pad, stride, dilation, rq, tile)
}
#[allow(clippy::too_many_arguments)]
pub fn depthwise_conv2d(
    f: &mut Func,
    x: ValueId,
    w: ValueId,
    b: ValueId,
    ty: Type,
    pad: &[i64],
    stride: &[i64],
    dilation: &[i64],
    rq: Requant,
    tile: [i64; 2],
) -> ValueId {
    windowed(
        f,
        DEPTHWISE_CONV2D,
        x,
        w,
        b,
        ty,
        pad,
        stride,
        dilation,
        rq,
        tile,
    )
}
pub fn fully_connected(
    f: &mut Func,
    x: ValueId,
    w: ValueId,
    b: ValueId,
    ty: Type,
    rq: Requant,
    tile: i64,
) -> ValueId {
    let mut attrs = rq.attrs();
    attrs.extend([("tile", Attr::I64s(vec![tile])), ("offset", Attr::i64(0))]);
    f.push(FULLY_CONNECTED, &[x, w, b], ty, attrs)
}
pub fn requant(f: &mut Func, x: ValueId, ty: Type, rq: Requant) -> ValueId {
    let mut attrs = rq.attrs();
    attrs.push(("offset", Attr::i64(0)));
    f.push(REQUANT, &[x], ty, attrs)
}
pub fn clamp(f: &mut Func, x: ValueId, min: i64, max: i64) -> ValueId {
    let ty = f.ty(x).clone();
    f.push(
        CLAMP,
        &[x],
        ty,
        vec![
            ("min", Attr::i32(min)),
            ("max", Attr::i32(max)),
            ("offset", Attr::i64(0)),
        ],
    )
}
pub fn max_pool2d(
    f: &mut Func,
    x: ValueId,
    ty: Type,
    kernel: &[i64],
    stride: &[i64],
    pad: &[i64],
) -> ValueId {
    let attrs = vec![
        ("kernel", Attr::I64s(kernel.to_vec())),
        ("stride", Attr::I64s(stride.to_vec())),
        ("pad", Attr::I64s(pad.to_vec())),
        ("offset", Attr::i64(0)),
    ];
    f.push(MAX_POOL2D, &[x], ty, attrs)
}
pub fn transpose(f: &mut Func, x: ValueId, ty: Type, perms: &[i32]) -> ValueId {
    f.push(
        TRANSPOSE,
        &[x],
        ty,
        vec![
            ("perms", Attr::I32s(perms.to_vec())),
            ("offset", Attr::i64(0)),
        ],
    )
}
pub fn reshape(f: &mut Func, x: ValueId, ty: Type) -> ValueId {
    f.push(RESHAPE, &[x], ty, vec![("offset", Attr::i64(0))])
}

/// A 256-entry i8 lookup table: `out = table[in + 128]`.
pub fn lut(f: &mut Func, x: ValueId, ty: Type, table: Attr) -> ValueId {
    f.push(
        LUT,
        &[x],
        ty,
        vec![("table", table), ("offset", Attr::i64(0))],
    )
}

/// Average pool with fused requantization (`rq` holds one entry or one per tap count).
pub fn avg_pool2d(
    f: &mut Func,
    x: ValueId,
    ty: Type,
    kernel: &[i64],
    stride: &[i64],
    pad: &[i64],
    rq: Requant,
) -> ValueId {
    let mut attrs = vec![
        ("kernel", Attr::I64s(kernel.to_vec())),
        ("stride", Attr::I64s(stride.to_vec())),
        ("pad", Attr::I64s(pad.to_vec())),
    ];
    attrs.extend(rq.attrs());
    attrs.push(("offset", Attr::i64(0)));
    f.push(AVG_POOL2D, &[x], ty, attrs)
}

/// The integer parameters of a binary elementwise op.
#[derive(Clone, Debug, PartialEq)]
pub struct Binary {
    pub input_zp: [i64; 2],
    pub output_zp: i64,
    pub clamp_min: i64,
    pub clamp_max: i64,
}

impl Binary {
    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![
            (
                "input_zp",
                Attr::I32s(self.input_zp.iter().map(|&z| z as i32).collect()),
            ),
            ("output_zp", Attr::i32(self.output_zp)),
            ("clamp_min", Attr::i32(self.clamp_min)),
            ("clamp_max", Attr::i32(self.clamp_max)),
            ("offset", Attr::i64(0)),
        ]
    }
}

pub fn add(
    f: &mut Func,
    a: ValueId,
    b: ValueId,
    ty: Type,
    p: Binary,
    multipliers: &[i32],
    shift: i32,
) -> ValueId {
    let mut attrs = p.attrs();
    attrs.push(("multiplier", Attr::I32s(multipliers.to_vec())));
    attrs.push(("shift", Attr::i32(shift as i64)));
    f.push(ADD, &[a, b], ty, attrs)
}

pub fn mul(
    f: &mut Func,
    a: ValueId,
    b: ValueId,
    ty: Type,
    p: Binary,
    multiplier: i32,
    shift: i32,
) -> ValueId {
    let mut attrs = p.attrs();
    attrs.push(("multiplier", Attr::i32(multiplier as i64)));
    attrs.push(("shift", Attr::i32(shift as i64)));
    f.push(MUL, &[a, b], ty, attrs)
}

/// Fixed-point softmax over the last dimension.
pub fn softmax(
    f: &mut Func,
    x: ValueId,
    ty: Type,
    exp_table: Attr,
    frac_bits: i64,
    output_zp: i64,
    clamp: (i64, i64),
) -> ValueId {
    let attrs = vec![
        ("exp_table", exp_table),
        ("frac_bits", Attr::i32(frac_bits)),
        ("output_zp", Attr::i32(output_zp)),
        ("clamp_min", Attr::i32(clamp.0)),
        ("clamp_max", Attr::i32(clamp.1)),
        ("offset", Attr::i64(0)),
    ];
    f.push(SOFTMAX, &[x], ty, attrs)
}

/// Copies the box of `x` at `start` with the sizes of `ty`.
pub fn slice(f: &mut Func, x: ValueId, ty: Type, start: &[i64]) -> ValueId {
    let attrs = vec![
        ("start", Attr::I64s(start.to_vec())),
        ("offset", Attr::i64(0)),
    ];
    f.push(SLICE, &[x], ty, attrs)
}

/// Concatenation along `axis`.
pub fn concat(f: &mut Func, inputs: &[ValueId], ty: Type, axis: i64) -> ValueId {
    let attrs = vec![("axis", Attr::i32(axis)), ("offset", Attr::i64(0))];
    f.push(CONCAT, inputs, ty, attrs)
}

/// Batched activation × activation product with fused requantization (`rq.input_zp` is the
/// left operand's zero point).
pub fn matmul(
    f: &mut Func,
    lhs: ValueId,
    rhs: ValueId,
    ty: Type,
    rq: Requant,
    rhs_zp: i64,
) -> ValueId {
    let mut attrs = rq.attrs();
    attrs.extend([("rhs_zp", Attr::i32(rhs_zp)), ("offset", Attr::i64(0))]);
    f.push(MATMUL, &[lhs, rhs], ty, attrs)
}

/// `params` with the zero points, the output clamp and the arena offset (0 until planned).
fn with_io(
    mut params: Vec<(&str, Attr)>,
    zero_points: (i64, i64),
    clamp: (i64, i64),
) -> Vec<(&str, Attr)> {
    params.extend([
        ("input_zp", Attr::i32(zero_points.0)),
        ("output_zp", Attr::i32(zero_points.1)),
        ("clamp_min", Attr::i32(clamp.0)),
        ("clamp_max", Attr::i32(clamp.1)),
        ("offset", Attr::i64(0)),
    ]);
    params
}

/// Fixed-point LayerNorm: `params` are the qnt op's (multiplier, shift, bias, eps_term).
pub fn layer_norm(
    f: &mut Func,
    x: ValueId,
    ty: Type,
    params: Vec<(&str, Attr)>,
    zero_points: (i64, i64),
    clamp: (i64, i64),
) -> ValueId {
    f.push(LAYER_NORM, &[x], ty, with_io(params, zero_points, clamp))
}

/// tosa.resize on stored integers with its requantization (see qnt.resize).
pub fn resize(
    f: &mut Func,
    x: ValueId,
    ty: Type,
    mode: &str,
    scale: &[i64],
    image_offset: &[i64],
    rq: Requant,
) -> ValueId {
    let mut attrs = rq.attrs();
    attrs.extend([
        ("mode", Attr::Str(mode.into())),
        ("scale", Attr::I64s(scale.to_vec())),
        ("image_offset", Attr::I64s(image_offset.to_vec())),
        ("offset", Attr::i64(0)),
    ]);
    f.push(RESIZE, &[x], ty, attrs)
}

/// Transposed convolution with fused requantization.
#[allow(clippy::too_many_arguments)]
pub fn transpose_conv2d(
    f: &mut Func,
    x: ValueId,
    w: ValueId,
    b: ValueId,
    ty: Type,
    out_pad: &[i64],
    stride: &[i64],
    rq: Requant,
) -> ValueId {
    let mut attrs = rq.attrs();
    attrs.extend([
        ("out_pad", Attr::I64s(out_pad.to_vec())),
        ("stride", Attr::I64s(stride.to_vec())),
        ("offset", Attr::i64(0)),
    ]);
    f.push(TRANSPOSE_CONV2D, &[x, w, b], ty, attrs)
}

/// Squeeze-excite: `params` are the qnt op's fixed-point attributes; `w` = (w1, b1, w2, b2).
pub fn squeeze_excite(
    f: &mut Func,
    x: ValueId,
    w: [ValueId; 4],
    ty: Type,
    params: Vec<(&str, Attr)>,
    zero_points: (i64, i64),
    clamp: (i64, i64),
) -> ValueId {
    let attrs = with_io(params, zero_points, clamp);
    f.push(SQUEEZE_EXCITE, &[x, w[0], w[1], w[2], w[3]], ty, attrs)
}
