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
pub const AVG_POOL2D: &str = "qnt.avg_pool2d";
pub const ADD: &str = "qnt.add";
pub const MUL: &str = "qnt.mul";
pub const PRELU: &str = "qnt.prelu";
pub const SOFTMAX: &str = "qnt.softmax";
pub const SLICE: &str = "qnt.slice";
pub const CONCAT: &str = "qnt.concat";
pub const MATMUL: &str = "qnt.matmul";
pub const LAYER_NORM: &str = "qnt.layer_norm";
pub const HARD_SWISH: &str = "qnt.hard_swish";
pub const SWISH: &str = "qnt.swish";
pub const RESIZE: &str = "qnt.resize";
pub const TRANSPOSE_CONV2D: &str = "qnt.transpose_conv2d";
pub const SQUEEZE_EXCITE: &str = "qnt.squeeze_excite";

/// The only rounding mode of this slice: tosa.rescale's SINGLE_ROUND (round half up).
pub const SINGLE_ROUND: &str = "SINGLE_ROUND";
/// Optional attribute of conv2d / depthwise_conv2d / fully_connected: the grid of the weights
/// when not 8-bit (`"4"`, `"2"`, `"ternary"`, `"binary"`; docs/numerics.md).
pub const WEIGHT_BITS: &str = "weight_bits";

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
pub fn max_pool2d(f: &mut Func, x: ValueId, ty: Type, window: Window) -> ValueId {
    f.push(MAX_POOL2D, &[x], ty, window.attrs())
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

/// An average pool whose requantization divides by the tap count: `multipliers`/`shifts` have
/// one entry (every window full) or one per tap count.
pub fn avg_pool2d(
    f: &mut Func,
    x: ValueId,
    ty: Type,
    window: Window,
    multipliers: &[i32],
    shifts: &[i32],
) -> ValueId {
    let mut attrs = window.attrs();
    attrs.extend([
        ("multiplier", Attr::I32s(multipliers.to_vec())),
        ("shift", Attr::I32s(shifts.to_vec())),
    ]);
    f.push(AVG_POOL2D, &[x], ty, attrs)
}

/// A pooling window.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub kernel: [i64; 2],
    pub stride: [i64; 2],
    pub pad: [i64; 4],
}

impl Window {
    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![
            ("kernel", Attr::I64s(self.kernel.to_vec())),
            ("stride", Attr::I64s(self.stride.to_vec())),
            ("pad", Attr::I64s(self.pad.to_vec())),
        ]
    }
}

/// `a + b` rescaled to `ty` with one rounding: multipliers for a and b, one shift.
pub fn add(
    f: &mut Func,
    a: ValueId,
    b: ValueId,
    ty: Type,
    multipliers: [i32; 2],
    shift: i32,
) -> ValueId {
    let attrs = vec![
        ("multiplier", Attr::I32s(multipliers.to_vec())),
        ("shift", Attr::i32(shift as i64)),
    ];
    f.push(ADD, &[a, b], ty, attrs)
}

/// `a · b` requantized to `ty`.
pub fn mul(f: &mut Func, a: ValueId, b: ValueId, ty: Type, multiplier: i32, shift: i32) -> ValueId {
    let attrs = vec![
        ("multiplier", Attr::i32(multiplier as i64)),
        ("shift", Attr::i32(shift as i64)),
    ];
    f.push(MUL, &[a, b], ty, attrs)
}

/// PReLU: `pos` scales the non-negative side, `neg` (signed) the other; each one entry or one
/// per channel.
pub fn prelu(
    f: &mut Func,
    x: ValueId,
    ty: Type,
    pos: (&[i32], &[i32]),
    neg: (&[i32], &[i32]),
) -> ValueId {
    let attrs = vec![
        ("pos_multiplier", Attr::I32s(pos.0.to_vec())),
        ("pos_shift", Attr::I32s(pos.1.to_vec())),
        ("neg_multiplier", Attr::I32s(neg.0.to_vec())),
        ("neg_shift", Attr::I32s(neg.1.to_vec())),
    ];
    f.push(PRELU, &[x], ty, attrs)
}

/// Fixed-point softmax over the last dimension; `exp_table[d + 255]` = round(2^15 exp(s·d)).
pub fn softmax(f: &mut Func, x: ValueId, ty: Type, exp_table: &[i32], frac_bits: i32) -> ValueId {
    let attrs = vec![
        (
            "exp_table",
            Attr::dense_i32(
                Type::tensor(&[exp_table.len() as i64], nibble_ir::Elem::Int(32)),
                exp_table,
            ),
        ),
        ("frac_bits", Attr::i32(frac_bits as i64)),
    ];
    f.push(SOFTMAX, &[x], ty, attrs)
}

/// The box of `x` starting at `start` with the sizes of `ty`.
pub fn slice(f: &mut Func, x: ValueId, ty: Type, start: &[i64]) -> ValueId {
    f.push(SLICE, &[x], ty, vec![("start", Attr::I64s(start.to_vec()))])
}

/// Concatenation along `axis` of inputs quantized like `ty`.
pub fn concat(f: &mut Func, inputs: &[ValueId], ty: Type, axis: i64) -> ValueId {
    f.push(CONCAT, inputs, ty, vec![("axis", Attr::i32(axis))])
}

/// Batched activation × activation product into an i32 accumulator `ty`.
pub fn matmul(f: &mut Func, lhs: ValueId, rhs: ValueId, ty: Type) -> ValueId {
    f.push(MATMUL, &[lhs, rhs], ty, vec![])
}

/// Fixed-point LayerNorm parameters, one entry per channel of the last dimension.
pub struct LayerNorm {
    pub multiplier: Vec<i32>,
    pub shift: Vec<i32>,
    pub bias: Vec<i64>,
    pub eps_term: i64,
}

impl LayerNorm {
    pub fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![
            ("multiplier", Attr::I32s(self.multiplier.clone())),
            ("shift", Attr::I32s(self.shift.clone())),
            ("bias", Attr::I64s(self.bias.clone())),
            ("eps_term", Attr::i64(self.eps_term)),
        ]
    }
}

/// LayerNorm over the last dimension in fixed point (see qnt.irdl.mlir).
pub fn layer_norm(f: &mut Func, x: ValueId, ty: Type, p: &LayerNorm) -> ValueId {
    f.push(LAYER_NORM, &[x], ty, p.attrs())
}

/// The common parameters of a fixed-point activation epilogue of an i32 accumulator: `mid`
/// rescales it to the activation's input, `multiplier`/`shift`/`bias` the product to the output.
pub struct Epilogue {
    pub mid_multiplier: Vec<i32>,
    pub mid_shift: Vec<i32>,
    /// The activation's output rescaling: one entry, or one per output channel.
    pub multiplier: Vec<i32>,
    pub shift: Vec<i32>,
    pub bias: Vec<i64>,
}

impl Epilogue {
    fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![
            ("mid_multiplier", Attr::I32s(self.mid_multiplier.clone())),
            ("mid_shift", Attr::I32s(self.mid_shift.clone())),
            ("multiplier", Attr::I32s(self.multiplier.clone())),
            ("shift", Attr::I32s(self.shift.clone())),
            ("bias", Attr::I64s(self.bias.clone())),
        ]
    }
}

/// Fixed-point `a·hard_swish(y) + b` of an accumulator (see qnt.irdl.mlir).
pub fn hard_swish(
    f: &mut Func,
    acc: ValueId,
    ty: Type,
    p: &Epilogue,
    three: i64,
    six: i64,
) -> ValueId {
    let mut attrs = p.attrs();
    attrs.extend([("three", Attr::i64(three)), ("six", Attr::i64(six))]);
    f.push(HARD_SWISH, &[acc], ty, attrs)
}

/// Fixed-point `a·swish(y) + b` of an accumulator with the interpolated sigmoid `table` (257 ×
/// Q15 over [-8, 8]).
pub fn swish(f: &mut Func, acc: ValueId, ty: Type, p: &Epilogue, table: &[i32]) -> ValueId {
    let mut attrs = p.attrs();
    attrs.push((
        "sigmoid_table",
        Attr::dense_i32(
            Type::tensor(&[table.len() as i64], nibble_ir::Elem::Int(32)),
            table,
        ),
    ));
    f.push(SWISH, &[acc], ty, attrs)
}

/// tosa.resize on stored integers: `mode` "nearest" or "bilinear", `scale` [ny, dy, nx, dx],
/// `image_offset` [oy, ox]; bilinear requantizes by `multiplier`·2^-`shift`.
pub fn resize(
    f: &mut Func,
    x: ValueId,
    ty: Type,
    mode: &str,
    scale: &[i64],
    image_offset: &[i64],
    requant: (i32, i32),
) -> ValueId {
    let attrs = vec![
        ("mode", Attr::Str(mode.into())),
        ("scale", Attr::I64s(scale.to_vec())),
        ("image_offset", Attr::I64s(image_offset.to_vec())),
        ("multiplier", Attr::i32(requant.0 as i64)),
        ("shift", Attr::i32(requant.1 as i64)),
    ];
    f.push(RESIZE, &[x], ty, attrs)
}

/// Transposed convolution into an i32 accumulator `ty` (see qnt.irdl.mlir).
pub fn transpose_conv2d(
    f: &mut Func,
    x: ValueId,
    w: ValueId,
    b: ValueId,
    ty: Type,
    out_pad: &[i64],
    stride: &[i64],
) -> ValueId {
    let attrs = vec![
        ("out_pad", Attr::I64s(out_pad.to_vec())),
        ("stride", Attr::I64s(stride.to_vec())),
    ];
    f.push(TRANSPOSE_CONV2D, &[x, w, b], ty, attrs)
}

/// The fixed-point parameters of `qnt.squeeze_excite` (see qnt.irdl.mlir).
pub struct SqueezeExcite {
    pub pool: (i32, i32),
    pub hidden_multiplier: Vec<i32>,
    pub hidden_shift: Vec<i32>,
    pub hidden_max: i32,
    /// Empty: a ReLU hidden activation; else SiLU through this 257-entry Q15 sigmoid table.
    pub hidden_table: Vec<i32>,
    /// SiLU: the shift from v·sigmoid (2^-27) to the hidden scale; 0 for ReLU.
    pub hidden_out_shift: i32,
    pub gate_multiplier: Vec<i32>,
    pub gate_shift: Vec<i32>,
    /// Empty: a hard sigmoid gate; else the 257-entry Q15 sigmoid table of `qnt.swish`.
    pub gate_table: Vec<i32>,
    pub output: (i32, i32),
}

impl SqueezeExcite {
    pub fn attrs(&self) -> Vec<(&'static str, Attr)> {
        vec![
            ("pool_multiplier", Attr::i32(self.pool.0 as i64)),
            ("pool_shift", Attr::i32(self.pool.1 as i64)),
            (
                "hidden_multiplier",
                Attr::I32s(self.hidden_multiplier.clone()),
            ),
            ("hidden_shift", Attr::I32s(self.hidden_shift.clone())),
            ("hidden_max", Attr::i32(self.hidden_max as i64)),
            ("hidden_table", Attr::I32s(self.hidden_table.clone())),
            ("hidden_out_shift", Attr::i32(self.hidden_out_shift as i64)),
            ("gate_multiplier", Attr::I32s(self.gate_multiplier.clone())),
            ("gate_shift", Attr::I32s(self.gate_shift.clone())),
            ("gate_table", Attr::I32s(self.gate_table.clone())),
            ("multiplier", Attr::i32(self.output.0 as i64)),
            ("shift", Attr::i32(self.output.1 as i64)),
        ]
    }
}

/// Squeeze-excite gate: `x · g(x)` with weights `w` = (w1, b1, w2, b2).
pub fn squeeze_excite(
    f: &mut Func,
    x: ValueId,
    w: [ValueId; 4],
    ty: Type,
    p: &SqueezeExcite,
) -> ValueId {
    f.push(SQUEEZE_EXCITE, &[x, w[0], w[1], w[2], w[3]], ty, p.attrs())
}
