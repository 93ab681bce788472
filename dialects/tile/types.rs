//! The element types of the tile ops (docs/dialects/tile.md): plain integers, i8 or i16
//! activations, i8 weights, i32 biases, f32 at the host boundary. The checker and the reason
//! this is not IRDL are in `nibble_qnt::types`.

use crate::*;
use nibble_ir::Func;
use nibble_qnt::types::{
    check, sig, Signature, Storage, Widths, ACT, ACT_OR_ACC, DATA, F32, I32, I8,
};

/// One signature per tile op.
pub const SIGNATURES: &[Signature] = &[
    sig(QUANTIZE, &[F32], ACT),
    sig(DEQUANTIZE, &[ACT], F32),
    sig(CONST, &[], DATA),
    sig(CONV2D, &[ACT, I8, I32], ACT),
    sig(DEPTHWISE_CONV2D, &[ACT, I8, I32], ACT),
    sig(FULLY_CONNECTED, &[ACT, I8, I32], ACT),
    sig(TRANSPOSE_CONV2D, &[I8, I8, I32], I8),
    sig(MATMUL, &[I8, I8], I8),
    sig(REQUANT, &[ACT_OR_ACC], ACT),
    sig(CLAMP, &[ACT], ACT),
    sig(LUT, &[I8], I8),
    sig(MAX_POOL2D, &[I8], I8),
    sig(AVG_POOL2D, &[I8], I8),
    sig(ADD, &[ACT, ACT], ACT),
    sig(MUL, &[ACT, ACT], ACT),
    sig(SOFTMAX, &[I8], I8),
    sig(LAYER_NORM, &[ACT], I8),
    sig(SQUEEZE_EXCITE, &[I8, I8, I32, I8, I32], I8),
    sig(RESIZE, &[I8], I8),
    sig(RESHAPE, &[ACT], ACT),
    sig(TRANSPOSE, &[I8], I8),
    sig(SLICE, &[I8], I8),
    sig(CONCAT, &[I8], I8),
    sig(ALLOC, &[], MOVED),
    sig(DMA_LOAD, &[MOVED], MOVED),
    sig(DMA_STORE, &[MOVED, MOVED], MOVED),
];

/// What the data-movement ops copy: activations, accumulators, biases and weights on any grid.
const MOVED: Widths = &[2, 4, 8, 16, 32];

/// Checks the element types of every tile op of `f`.
pub fn check_types(f: &Func) -> Result<(), DialectError> {
    check(f, SIGNATURES, Storage::Plain)
}
