//! The element types the semantics fix, per op: which storage widths each operand and the
//! result may have (an i8 or i16 activation, i8 weights — i4, i2 on a grid below 8 bits — i32
//! biases and accumulators, f32 at the host boundary). IRDL cannot say this of a builtin
//! tensor (`irdl.parametric` takes only IRDL-defined types, `irdl.is` only one exact type), so
//! the dialects state it here as data, next to their op lists, and [`check`] verifies a
//! function against it; the IRDL definitions keep what IRDL can express (attribute values,
//! operands that share one type).

use crate::attr::{loc, DialectError};
use nibble_ir::{Elem, Func, Op, Type};

/// Storage widths in bits; 0 stands for f32.
pub type Widths = &'static [u32];

pub const F32: Widths = &[0];
pub const I8: Widths = &[8];
pub const I32: Widths = &[32];
/// An activation: 8 or 16 bits.
pub const ACT: Widths = &[8, 16];
/// An activation or an accumulator.
pub const ACT_OR_ACC: Widths = &[8, 16, 32];
/// A layer's weights: 8 bits, or a grid below 8 bits typed with its storage bits (4; 2 for
/// 2-bit, ternary and binary grids; `--weight-bits`).
pub const WEIGHTS: Widths = &[8, 4, 2];
/// Stored weights or biases (the tile level holds weights below 8 bits as i8 values).
pub const DATA: Widths = &[8, 32];
/// A qnt constant: weights on any grid, or biases.
pub const QNT_DATA: Widths = &[8, 4, 2, 32];

/// The element types of one op: one entry per operand (the last one repeats for variadic
/// operands), and the result's.
#[derive(Clone, Copy, Debug)]
pub struct Signature {
    pub op: &'static str,
    pub operands: &'static [Widths],
    pub result: Widths,
}

/// The signature of `op`: its operands' and its result's widths.
pub const fn sig(op: &'static str, operands: &'static [Widths], result: Widths) -> Signature {
    Signature {
        op,
        operands,
        result,
    }
}

/// Whether a dialect's tensors are quantized (`!quant.uniform<iN:f32, …>`, qnt) or plain
/// integers (`iN`, tile); f32 is plain in both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    Quantized,
    Plain,
}

/// The width of `ty`'s elements in `storage` (0 for f32), or None if it is not one of them.
fn width(ty: &Type, storage: Storage) -> Option<u32> {
    match (ty.elem()?, storage) {
        (Elem::F32, _) => Some(0),
        (Elem::Quant(q), Storage::Quantized) => Some(q.bits),
        (Elem::QuantAxis(q), Storage::Quantized) => Some(q.bits),
        (Elem::Int(b), Storage::Plain) => Some(*b),
        _ => None,
    }
}

/// `widths` as text: `i8 or i16`, `f32`.
fn names(widths: Widths, storage: Storage) -> String {
    let name = |&b: &u32| match (b, storage) {
        (0, _) => "f32".to_string(),
        (b, Storage::Quantized) => format!("quantized i{b}"),
        (b, Storage::Plain) => format!("i{b}"),
    };
    widths.iter().map(name).collect::<Vec<_>>().join(" or ")
}

/// Checks `op`'s operands and result against `sig`.
pub fn check_op(f: &Func, op: &Op, sig: &Signature, storage: Storage) -> Result<(), DialectError> {
    let operands = op.operands.iter().enumerate().map(|(k, &v)| {
        let w = sig
            .operands
            .get(k)
            .or(sig.operands.last())
            .copied()
            .unwrap_or(&[]);
        (format!("operand {k}"), v, w)
    });
    let results = op
        .results
        .iter()
        .map(|&v| ("the result".to_string(), v, sig.result));
    for (what, v, allowed) in operands.chain(results) {
        let ty = f.ty(v);
        if !width(ty, storage).is_some_and(|w| allowed.contains(&w)) {
            let allowed = names(allowed, storage);
            return Err(DialectError::Type {
                op: op.name.clone(),
                loc: loc(op),
                msg: format!("{what} must be {allowed}, got {ty}"),
            });
        }
    }
    Ok(())
}

/// Checks every op of `f` that `signatures` describes (ops of other dialects are skipped).
pub fn check(f: &Func, signatures: &[Signature], storage: Storage) -> Result<(), DialectError> {
    for op in &f.ops {
        if let Some(sig) = signatures.iter().find(|s| s.op == op.name) {
            check_op(f, op, sig, storage)?;
        }
    }
    Ok(())
}

/// The element types of the qnt ops (docs/dialects/qnt.md). A 16-bit activation is read and
/// written only where the kernels can (`nibble_lower::widths` says which); these are the
/// widths the ops themselves define.
pub const SIGNATURES: &[Signature] = {
    use crate::*;
    &[
        sig(QUANTIZE, &[F32], ACT),
        sig(DEQUANTIZE, &[ACT], F32),
        sig(CONST, &[], QNT_DATA),
        sig(CONV2D, &[ACT, WEIGHTS, I32], I32),
        sig(DEPTHWISE_CONV2D, &[ACT, WEIGHTS, I32], I32),
        sig(FULLY_CONNECTED, &[ACT, WEIGHTS, I32], I32),
        sig(TRANSPOSE_CONV2D, &[I8, I8, I32], I32),
        sig(MATMUL, &[I8, I8], I32),
        sig(REQUANT, &[ACT_OR_ACC], ACT),
        sig(CLAMP, &[ACT], ACT),
        sig(PRELU, &[ACT_OR_ACC], ACT),
        sig(HARD_SWISH, &[I32], ACT),
        sig(SWISH, &[I32], ACT),
        sig(LUT, &[I8], I8),
        sig(MAX_POOL2D, &[I8], I8),
        sig(AVG_POOL2D, &[I8], I8),
        sig(ADD, &[ACT, ACT], ACT),
        sig(MUL, &[ACT, ACT], ACT),
        sig(SOFTMAX, &[I8], I8),
        sig(LAYER_NORM, &[ACT], I8),
        sig(SQUEEZE_EXCITE, &[I8, WEIGHTS, I32, WEIGHTS, I32], I8),
        sig(RESIZE, &[I8], I8),
        sig(RESHAPE, &[ACT], ACT),
        sig(TRANSPOSE, &[I8], I8),
        sig(SLICE, &[I8], I8),
        sig(CONCAT, &[I8], I8),
    ]
};

/// Checks the element types of every qnt op of `f`.
pub fn check_types(f: &Func) -> Result<(), DialectError> {
    check(f, SIGNATURES, Storage::Quantized)
}
