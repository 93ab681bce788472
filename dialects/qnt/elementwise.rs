//! qnt elementwise ops: `qnt.clamp`, `qnt.lut` (a 256-entry table) and the rescaled binary
//! ops `qnt.add` and `qnt.mul`.

use crate::attr::{DenseI8, I32s, Record, Str, I32, I64};
use crate::keys::{FUNCTION, MAX, MIN, MULTIPLIER, SHIFT, TABLE};
use crate::{record, ADD, CLAMP, LUT, MUL};
use nibble_ir::{Func, Type, ValueId};

record! {
    /// A `qnt.clamp` of stored integers to [min, max].
    pub struct Clamp for [CLAMP] {
        pub min: i64 = MIN as I64,
        pub max: i64 = MAX as I64,
    }
}

pub fn clamp(f: &mut Func, x: ValueId, min: i64, max: i64) -> ValueId {
    let ty = f.ty(x).clone();
    f.push(CLAMP, &[x], ty, Clamp { min, max }.attrs())
}

record! {
    /// A `qnt.lut`: `out = table[in + 128]`; `function` names what it computes (informative).
    pub struct Lut for [LUT] {
        pub table: Vec<i8> = TABLE as DenseI8,
        pub function: String = FUNCTION as Str,
    }
}

/// A 256-entry i8 lookup table applied elementwise (`function` names what it computes).
pub fn lut(f: &mut Func, x: ValueId, ty: Type, table: &[i8], function: &str) -> ValueId {
    let l = Lut {
        table: table.to_vec(),
        function: function.into(),
    };
    f.push(LUT, &[x], ty, l.attrs())
}

record! {
    /// A `qnt.add`: the multipliers of a and b, and one shift.
    pub struct Add for [ADD] {
        pub multiplier: Vec<i32> = MULTIPLIER as I32s,
        pub shift: i32 = SHIFT as I32,
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
    let p = Add {
        multiplier: multipliers.to_vec(),
        shift,
    };
    f.push(ADD, &[a, b], ty, p.attrs())
}

record! {
    /// A `qnt.mul`: the product's multiplier and shift.
    pub struct Mul for [MUL] {
        pub multiplier: i32 = MULTIPLIER as I32,
        pub shift: i32 = SHIFT as I32,
    }
}

/// `a · b` requantized to `ty`.
pub fn mul(f: &mut Func, a: ValueId, b: ValueId, ty: Type, multiplier: i32, shift: i32) -> ValueId {
    f.push(MUL, &[a, b], ty, Mul { multiplier, shift }.attrs())
}
