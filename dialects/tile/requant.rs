//! The fused requantization of the tile level, [`Requant`]: `out = clamp(zp_out +
//! apply_scale(acc))` with one multiplier/shift for the tensor or one per output channel, and
//! optionally an activation fused into it (PReLU's negative side, hard-swish, swish). One
//! record, read and written by every op that carries it, and the interpreter, the C code and
//! the lowering all go through it. Also the zero points and clamp of ops without multipliers
//! ([`Io`], [`Binary`]).

use crate::keys::*;
use crate::{
    AVG_POOL2D, CONV2D, DEPTHWISE_CONV2D, FULLY_CONNECTED, MATMUL, REQUANT, RESIZE,
    TRANSPOSE_CONV2D,
};
use nibble_qnt::attr::{
    get, put, Attrs, Codec, DenseI32, DialectError, Flat, I32s, I64s, Op, Opt, I32,
};
use nibble_qnt::record;

record! {
    /// Signed multipliers and shifts for negative accumulators (PReLU fused into the
    /// requantization), as many as the requantization's; `neg_multiplier`/`neg_shift`.
    pub struct NegativeSide {
        pub multiplier: Vec<i32> = NEG_MULTIPLIER as I32s,
        pub shift: Vec<i32> = NEG_SHIFT as I32s,
    }
}

/// Hard-swish fused into the requantization (the requantization's multipliers give the
/// activation's fixed-point input): `three`, `six` and the output's `[multiplier, shift,
/// bias]` once or once per output channel; written as one list `hswish = [three, six, m, s,
/// bias, …]`.
#[derive(Clone, Debug, PartialEq)]
pub struct HardSwish {
    pub three: i64,
    pub six: i64,
    pub out: Vec<[i64; 3]>,
}

/// The codec of [`HardSwish`]: one `array<i64: three, six, m, s, bias, …>`.
pub struct HswishList;

impl Codec<HardSwish> for HswishList {
    fn put(key: &'static str, v: &HardSwish, out: &mut Attrs) {
        let mut list = vec![v.three, v.six];
        list.extend(v.out.concat());
        put::<I64s, Vec<i64>>(out, key, &list);
    }
    fn get(op: &Op, key: &str) -> Result<HardSwish, DialectError> {
        match &get::<I64s, Vec<i64>>(op, key)?[..] {
            [three, six, rest @ ..] if rest.len() % 3 == 0 && !rest.is_empty() => Ok(HardSwish {
                three: *three,
                six: *six,
                out: rest.chunks_exact(3).map(|t| [t[0], t[1], t[2]]).collect(),
            }),
            _ => Err(DialectError::invalid(
                op,
                "hswish needs [three, six, then multiplier, shift, bias once or per output channel]",
            )),
        }
    }
}

record! {
    /// Swish fused into the requantization: the output's `[multiplier, shift, bias]` (`swish`)
    /// and the interpolated sigmoid table (`sigmoid_table`, 257 × Q15 over [-8, 8]).
    pub struct Swish {
        pub out: [i64; 3] = SWISH as I64s,
        pub table: Vec<i32> = SIGMOID_TABLE as DenseI32,
    }
}

record! {
    /// Fixed-point requantization of a fused op: `out = clamp(zp_out + apply_scale(acc))`,
    /// with one multiplier/shift for the tensor or one per output channel (an average pool: per
    /// tap count), and at most one activation fused into it.
    pub struct Requant for [
        CONV2D, DEPTHWISE_CONV2D, FULLY_CONNECTED, REQUANT, AVG_POOL2D, MATMUL, RESIZE,
        TRANSPOSE_CONV2D
    ] {
        pub input_zp: i64 = INPUT_ZP as I32,
        pub output_zp: i64 = OUTPUT_ZP as I32,
        pub multiplier: Vec<i32> = MULTIPLIER as I32s,
        pub shift: Vec<i32> = SHIFT as I32s,
        pub clamp_min: i64 = CLAMP_MIN as I32,
        pub clamp_max: i64 = CLAMP_MAX as I32,
        pub neg: Option<NegativeSide> = NEG_MULTIPLIER as Opt<Flat>,
        pub hswish: Option<HardSwish> = HSWISH as Opt<HswishList>,
        pub swish: Option<Swish> = SWISH as Opt<Flat>,
    }
}

record! {
    /// The zero points and output clamp of an op that keeps its own fixed-point parameters
    /// (layer norm, squeeze-excite).
    pub struct Io {
        pub input_zp: i64 = INPUT_ZP as I32,
        pub output_zp: i64 = OUTPUT_ZP as I32,
        pub clamp_min: i64 = CLAMP_MIN as I32,
        pub clamp_max: i64 = CLAMP_MAX as I32,
    }
}

record! {
    /// The integer parameters of a binary elementwise op: both operands' zero points, the
    /// output's, and its clamp.
    pub struct Binary {
        pub input_zp: [i64; 2] = INPUT_ZP as I32s,
        pub output_zp: i64 = OUTPUT_ZP as I32,
        pub clamp_min: i64 = CLAMP_MIN as I32,
        pub clamp_max: i64 = CLAMP_MAX as I32,
    }
}
