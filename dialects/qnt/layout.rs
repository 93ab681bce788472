//! qnt data movement: `qnt.transpose`, `qnt.reshape` (no attributes), `qnt.slice` and
//! `qnt.concat`.

use crate::attr::{I32s, I64s, Record, I32};
use crate::keys::{AXIS, PERMS, START};
use crate::{record, CONCAT, RESHAPE, SLICE, TRANSPOSE};
use nibble_ir::{Func, Type, ValueId};

record! {
    /// A `qnt.transpose`'s permutation.
    pub struct Transpose for [TRANSPOSE] {
        pub perms: Vec<i32> = PERMS as I32s,
    }
}

record! {
    /// A `qnt.slice`: where the box starts (its sizes are the result's).
    pub struct Slice for [SLICE] {
        pub start: Vec<i64> = START as I64s,
    }
}

record! {
    /// A `qnt.concat`'s axis.
    pub struct Concat for [CONCAT] {
        pub axis: i64 = AXIS as I32,
    }
}

pub fn reshape(f: &mut Func, x: ValueId, ty: Type) -> ValueId {
    f.push(RESHAPE, &[x], ty, vec![])
}

pub fn transpose(f: &mut Func, x: ValueId, ty: Type, perms: &[i32]) -> ValueId {
    let t = Transpose {
        perms: perms.to_vec(),
    };
    f.push(TRANSPOSE, &[x], ty, t.attrs())
}

/// The box of `x` starting at `start` with the sizes of `ty`.
pub fn slice(f: &mut Func, x: ValueId, ty: Type, start: &[i64]) -> ValueId {
    let s = Slice {
        start: start.to_vec(),
    };
    f.push(SLICE, &[x], ty, s.attrs())
}

/// Concatenation along `axis` of inputs quantized like `ty`.
pub fn concat(f: &mut Func, inputs: &[ValueId], ty: Type, axis: i64) -> ValueId {
    f.push(CONCAT, inputs, ty, Concat { axis }.attrs())
}
