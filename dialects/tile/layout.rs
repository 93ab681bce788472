//! tile data movement: `tile.transpose`, `tile.reshape` (an alias of its input), `tile.slice`
//! and `tile.concat`.

use crate::keys::{AXIS, PERMS, START};
use crate::{scheduled, CONCAT, RESHAPE, SLICE, TRANSPOSE};
use nibble_ir::{Func, Type, ValueId};
use nibble_qnt::attr::{I32s, I64s, Record, I32};
use nibble_qnt::record;

record! {
    /// A `tile.transpose`'s permutation.
    pub struct Transpose for [TRANSPOSE] {
        pub perms: Vec<i32> = PERMS as I32s,
    }
}

record! {
    /// A `tile.slice`: where the box starts (its sizes are the result's).
    pub struct Slice for [SLICE] {
        pub start: Vec<i64> = START as I64s,
    }
}

record! {
    /// A `tile.concat`'s axis.
    pub struct Concat for [CONCAT] {
        pub axis: i64 = AXIS as I32,
    }
}

pub fn transpose(f: &mut Func, x: ValueId, ty: Type, p: &Transpose) -> ValueId {
    scheduled(f, TRANSPOSE, &[x], ty, p.attrs())
}

pub fn reshape(f: &mut Func, x: ValueId, ty: Type) -> ValueId {
    scheduled(f, RESHAPE, &[x], ty, vec![])
}

/// Copies the box of `x` at `start` with the sizes of `ty`.
pub fn slice(f: &mut Func, x: ValueId, ty: Type, p: &Slice) -> ValueId {
    scheduled(f, SLICE, &[x], ty, p.attrs())
}

/// Concatenation along `axis`.
pub fn concat(f: &mut Func, inputs: &[ValueId], ty: Type, p: &Concat) -> ValueId {
    scheduled(f, CONCAT, inputs, ty, p.attrs())
}
