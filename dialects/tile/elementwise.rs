//! tile elementwise ops: the standalone `tile.requant`, `tile.clamp`, `tile.lut`, and
//! `tile.add` / `tile.mul` with their zero points and rescaling.

use crate::keys::{MAX, MIN, MULTIPLIER, SHIFT, TABLE};
use crate::{scheduled, Binary, Requant, ADD, CLAMP, LUT, MUL, REQUANT};
use nibble_ir::{Func, Type, ValueId};
use nibble_qnt::attr::{DenseI8, Flat, I32s, Record, FLAT, I32};
use nibble_qnt::record;

/// A standalone requantization (the record is read with [`Requant::from_op`]).
pub fn requant(f: &mut Func, x: ValueId, ty: Type, rq: &Requant) -> ValueId {
    scheduled(f, REQUANT, &[x], ty, rq.attrs())
}

record! {
    /// A `tile.clamp` to [min, max].
    pub struct Clamp for [CLAMP] {
        pub min: i64 = MIN as I32,
        pub max: i64 = MAX as I32,
    }
}

pub fn clamp(f: &mut Func, x: ValueId, p: &Clamp) -> ValueId {
    let ty = f.ty(x).clone();
    scheduled(f, CLAMP, &[x], ty, p.attrs())
}

record! {
    /// A `tile.lut`: `out = table[in + 128]` (256 entries).
    pub struct Lut for [LUT] {
        pub table: Vec<i8> = TABLE as DenseI8,
    }
}

pub fn lut(f: &mut Func, x: ValueId, ty: Type, p: &Lut) -> ValueId {
    scheduled(f, LUT, &[x], ty, p.attrs())
}

record! {
    /// A `tile.add`: `(a − za)·ma + (b − zb)·mb`, one rounding shift.
    pub struct Add for [ADD] {
        pub io: Binary = FLAT as Flat,
        pub multiplier: Vec<i32> = MULTIPLIER as I32s,
        pub shift: i64 = SHIFT as I32,
    }
}

pub fn add(f: &mut Func, a: ValueId, b: ValueId, ty: Type, p: &Add) -> ValueId {
    scheduled(f, ADD, &[a, b], ty, p.attrs())
}

record! {
    /// A `tile.mul`: `apply_scale((a − za)(b − zb), multiplier, shift)`.
    pub struct Mul for [MUL] {
        pub io: Binary = FLAT as Flat,
        pub multiplier: i64 = MULTIPLIER as I32,
        pub shift: i64 = SHIFT as I32,
    }
}

pub fn mul(f: &mut Func, a: ValueId, b: ValueId, ty: Type, p: &Mul) -> ValueId {
    scheduled(f, MUL, &[a, b], ty, p.attrs())
}
