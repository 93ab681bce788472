//! qnt layers with weights and constants: conv2d, depthwise_conv2d and transpose_conv2d (their
//! windows as records), fully_connected and matmul (no attributes), and `qnt.const`.

use crate::attr::{DialectError, I64s, Record};
use crate::keys::{DILATION, OUT_PAD, PAD, STRIDE, VALUE};
use crate::{record, CONST, CONV2D, DEPTHWISE_CONV2D, FULLY_CONNECTED, MATMUL, TRANSPOSE_CONV2D};
use nibble_ir::{Attr, Func, Op, Type, ValueId};

record! {
    /// The window of a convolution (qnt and tile conv2d, depthwise_conv2d): padding
    /// [top, bottom, left, right], stride and dilation [y, x].
    pub struct ConvWindow for [CONV2D, DEPTHWISE_CONV2D] {
        pub pad: [i64; 4] = PAD as I64s,
        pub stride: [i64; 2] = STRIDE as I64s,
        pub dilation: [i64; 2] = DILATION as I64s,
    }
}

record! {
    /// The geometry of a transposed convolution: `out_pad` [top, bottom, left, right] and
    /// `stride` [y, x].
    pub struct TransposeWindow for [TRANSPOSE_CONV2D] {
        pub out_pad: Vec<i64> = OUT_PAD as I64s,
        pub stride: Vec<i64> = STRIDE as I64s,
    }
}

/// A constant's data: its dense attribute's type and little-endian bytes.
#[derive(Clone, Copy, Debug)]
pub struct Const<'a> {
    pub ty: &'a Type,
    pub bytes: &'a [u8],
}

impl<'a> Const<'a> {
    /// The data of `op`, one of the constant ops `names` (`qnt.const`, `tile.const`).
    pub fn of(op: &'a Op, names: &[&str]) -> Result<Const<'a>, DialectError> {
        crate::attr::expect(op, names)?;
        match op.attrs.get(VALUE) {
            Some(Attr::Dense(ty, bytes)) => Ok(Const { ty, bytes }),
            _ => Err(DialectError::Attr {
                op: op.name.clone(),
                loc: crate::attr::loc(op),
                key: VALUE.into(),
                what: "dense elements",
            }),
        }
    }
    /// The data of a `qnt.const`.
    pub fn from_op(op: &'a Op) -> Result<Const<'a>, DialectError> {
        Const::of(op, &[CONST])
    }
    /// The attribute holding the data.
    pub fn attr(&self) -> Attr {
        Attr::Dense(self.ty.clone(), self.bytes.to_vec())
    }
}

/// A constant of quantized type `ty` holding storage integers `value` (a dense attribute).
pub fn constant(f: &mut Func, ty: Type, value: Attr) -> ValueId {
    f.push(CONST, &[], ty, vec![(VALUE, value)])
}

/// A convolution op `name` with its window.
fn windowed(f: &mut Func, name: &str, xwb: [ValueId; 3], ty: Type, w: ConvWindow) -> ValueId {
    f.push(name, &xwb, ty, w.attrs())
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
    let window = ConvWindow {
        pad,
        stride,
        dilation,
    };
    windowed(f, CONV2D, [x, w, b], ty, window)
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
    let window = ConvWindow {
        pad,
        stride,
        dilation,
    };
    windowed(f, DEPTHWISE_CONV2D, [x, w, b], ty, window)
}

pub fn fully_connected(f: &mut Func, x: ValueId, w: ValueId, b: ValueId, ty: Type) -> ValueId {
    f.push(FULLY_CONNECTED, &[x, w, b], ty, vec![])
}

/// Batched activation × activation product into an i32 accumulator `ty`.
pub fn matmul(f: &mut Func, lhs: ValueId, rhs: ValueId, ty: Type) -> ValueId {
    f.push(MATMUL, &[lhs, rhs], ty, vec![])
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
    let window = TransposeWindow {
        out_pad: out_pad.to_vec(),
        stride: stride.to_vec(),
    };
    f.push(TRANSPOSE_CONV2D, &[x, w, b], ty, window.attrs())
}
