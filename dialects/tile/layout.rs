//! tile data movement: `tile.transpose`, `tile.reshape` (an alias of its input), `tile.slice`
//! and `tile.concat`, each with the attributes of its qnt op (`params`).

use crate::{scheduled, CONCAT, RESHAPE, SLICE, TRANSPOSE};
use nibble_ir::{Func, Type, ValueId};
use nibble_qnt::attr::{Flat, Record, FLAT};
use nibble_qnt::record;

record! {
    /// A `tile.transpose`: the permutation of `qnt.transpose`.
    pub struct Transpose for [TRANSPOSE] {
        pub params: nibble_qnt::Transpose = FLAT as Flat,
    }
}

record! {
    /// A `tile.slice`: where the box starts, as in `qnt.slice` (its sizes are the result's).
    pub struct Slice for [SLICE] {
        pub params: nibble_qnt::Slice = FLAT as Flat,
    }
}

record! {
    /// A `tile.concat`: the axis of `qnt.concat`.
    pub struct Concat for [CONCAT] {
        pub params: nibble_qnt::Concat = FLAT as Flat,
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
