//! tile normalisations: `tile.softmax`, `tile.layer_norm` and `tile.squeeze_excite`, the qnt
//! ops' fixed-point parameters with their zero points and clamp explicit.

use crate::keys::{CLAMP_MAX, CLAMP_MIN, EXP_TABLE, FRAC_BITS, OUTPUT_ZP, WEIGHT_BITS};
use crate::{scheduled, Io, LAYER_NORM, SOFTMAX, SQUEEZE_EXCITE};
use nibble_ir::{Func, Type, ValueId};
use nibble_qnt::attr::{DenseI32, Flat, Opt, Record, Str, FLAT, I32};
use nibble_qnt::record;

record! {
    /// A `tile.softmax` (see `qnt.softmax`) with its output zero point and clamp.
    pub struct Softmax for [SOFTMAX] {
        pub exp_table: Vec<i32> = EXP_TABLE as DenseI32,
        pub frac_bits: i64 = FRAC_BITS as I32,
        pub output_zp: i64 = OUTPUT_ZP as I32,
        pub clamp_min: i64 = CLAMP_MIN as I32,
        pub clamp_max: i64 = CLAMP_MAX as I32,
    }
}

pub fn softmax(f: &mut Func, x: ValueId, ty: Type, p: &Softmax) -> ValueId {
    scheduled(f, SOFTMAX, &[x], ty, p.attrs())
}

record! {
    /// A `tile.layer_norm`: the qnt op's parameters and the zero points and clamp.
    pub struct LayerNorm for [LAYER_NORM] {
        pub params: nibble_qnt::LayerNorm = FLAT as Flat,
        pub io: Io = FLAT as Flat,
    }
}

pub fn layer_norm(f: &mut Func, x: ValueId, ty: Type, p: &LayerNorm) -> ValueId {
    scheduled(f, LAYER_NORM, &[x], ty, p.attrs())
}

record! {
    /// A `tile.squeeze_excite`: the qnt op's parameters, the zero points and clamp, and the
    /// grid of its two weight matrices when not 8-bit (i8 values on it, as a layer's).
    pub struct SqueezeExcite for [SQUEEZE_EXCITE] {
        pub params: nibble_qnt::SqueezeExcite = FLAT as Flat,
        pub io: Io = FLAT as Flat,
        pub weight_bits: Option<String> = WEIGHT_BITS as Opt<Str>,
    }
}

/// Squeeze-excite of `x` with weights `w` = (w1, b1, w2, b2).
pub fn squeeze_excite(
    f: &mut Func,
    x: ValueId,
    w: [ValueId; 4],
    ty: Type,
    p: &SqueezeExcite,
) -> ValueId {
    scheduled(
        f,
        SQUEEZE_EXCITE,
        &[x, w[0], w[1], w[2], w[3]],
        ty,
        p.attrs(),
    )
}
