//! tile host boundary, constants and layers with weights: quantize/dequantize, const,
//! conv2d/depthwise_conv2d (window, requantization, tile [rows, channels]), fully_connected
//! (tile [channels]), matmul and transpose_conv2d, each with its fused requantization.

use crate::keys::{RHS_ZP, SCALE, TILE, VALUE, WEIGHT_BITS, ZERO_POINT};
use crate::{scheduled, Requant};
use crate::{
    CONST, CONV2D, DEPTHWISE_CONV2D, DEQUANTIZE, FULLY_CONNECTED, MATMUL, QUANTIZE,
    TRANSPOSE_CONV2D,
};
use nibble_ir::{Attr, Func, Op, Type, ValueId};
use nibble_qnt::attr::{DialectError, Flat, I64s, Opt, Record, Str, F64, FLAT, I32};
use nibble_qnt::{record, ConvWindow, TransposeWindow};

/// The ops whose operand 1 is a layer's weights (a constant with a `weight_bits` grid).
pub const WEIGHT_LAYERS: &[&str] = &[CONV2D, DEPTHWISE_CONV2D, FULLY_CONNECTED, TRANSPOSE_CONV2D];

/// Whether `op` is a weight layer ([`WEIGHT_LAYERS`]).
pub fn is_weight_layer(op: &Op) -> bool {
    WEIGHT_LAYERS.contains(&op.name.as_str())
}

/// The operands of `op` that are weights on its `weight_bits` grid: operand 1 of a weight
/// layer, operands 1 and 3 (w1, w2) of `tile.squeeze_excite`, none of any other op.
pub fn weight_operands(op: &Op) -> &'static [usize] {
    if is_weight_layer(op) {
        &[1]
    } else if op.name == crate::SQUEEZE_EXCITE {
        &[1, 3]
    } else {
        &[]
    }
}

/// Whether `op` reads value `v` as weights on its grid ([`weight_operands`]).
pub fn reads_as_weights(op: &Op, v: ValueId) -> bool {
    weight_operands(op)
        .iter()
        .any(|&k| op.operands.get(k) == Some(&v))
}

record! {
    /// The host boundary (`tile.quantize` of the input, `tile.dequantize` of an output):
    /// `real = scale · (q − zero_point)`.
    pub struct Boundary for [QUANTIZE, DEQUANTIZE] {
        pub scale: f64 = SCALE as F64,
        pub zero_point: i64 = ZERO_POINT as I32,
    }
}

pub fn quantize(f: &mut Func, x: ValueId, ty: Type, b: Boundary) -> ValueId {
    f.push(QUANTIZE, &[x], ty, b.attrs())
}
pub fn dequantize(f: &mut Func, x: ValueId, ty: Type, b: Boundary) -> ValueId {
    f.push(DEQUANTIZE, &[x], ty, b.attrs())
}

/// The data of a `tile.const`.
pub fn const_data(op: &Op) -> Result<nibble_qnt::Const<'_>, DialectError> {
    nibble_qnt::Const::of(op, &[CONST])
}

pub fn constant(f: &mut Func, ty: Type, value: Attr) -> ValueId {
    f.push(CONST, &[], ty, vec![(VALUE, value)])
}

record! {
    /// A convolution (`tile.conv2d`, `tile.depthwise_conv2d`): window, requantization, and
    /// its schedule, output tiles of [rows, channels].
    pub struct Conv2d for [CONV2D, DEPTHWISE_CONV2D] {
        pub window: ConvWindow = FLAT as Flat,
        pub rq: Requant = FLAT as Flat,
        pub tile: [i64; 2] = TILE as I64s,
        /// The weights' grid when not 8-bit (the weights are i8 values on it).
        pub weight_bits: Option<String> = WEIGHT_BITS as Opt<Str>,
    }
}

/// A convolution: `name` is [`CONV2D`] or [`DEPTHWISE_CONV2D`].
pub fn conv2d(f: &mut Func, name: &str, xwb: [ValueId; 3], ty: Type, p: &Conv2d) -> ValueId {
    scheduled(f, name, &xwb, ty, p.attrs())
}

record! {
    /// A `tile.fully_connected`: requantization and its schedule, tiles of [channels].
    pub struct FullyConnected for [FULLY_CONNECTED] {
        pub rq: Requant = FLAT as Flat,
        pub tile: [i64; 1] = TILE as I64s,
        /// The weights' grid when not 8-bit.
        pub weight_bits: Option<String> = WEIGHT_BITS as Opt<Str>,
    }
}

pub fn fully_connected(f: &mut Func, xwb: [ValueId; 3], ty: Type, p: &FullyConnected) -> ValueId {
    scheduled(f, FULLY_CONNECTED, &xwb, ty, p.attrs())
}

record! {
    /// A `tile.matmul` of two activations: the requantization (`input_zp` is the left
    /// operand's) and the right operand's zero point.
    pub struct Matmul for [MATMUL] {
        pub rq: Requant = FLAT as Flat,
        pub rhs_zp: i64 = RHS_ZP as I32,
    }
}

pub fn matmul(f: &mut Func, lhs: ValueId, rhs: ValueId, ty: Type, p: &Matmul) -> ValueId {
    scheduled(f, MATMUL, &[lhs, rhs], ty, p.attrs())
}

record! {
    /// A `tile.transpose_conv2d`: its geometry and requantization.
    pub struct TransposeConv2d for [TRANSPOSE_CONV2D] {
        pub window: TransposeWindow = FLAT as Flat,
        pub rq: Requant = FLAT as Flat,
    }
}

pub fn transpose_conv2d(f: &mut Func, xwb: [ValueId; 3], ty: Type, p: &TransposeConv2d) -> ValueId {
    scheduled(f, TRANSPOSE_CONV2D, &xwb, ty, p.attrs())
}
