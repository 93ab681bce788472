//! tile ops over windows and images: `tile.max_pool2d`, `tile.avg_pool2d` (with its
//! requantization per tap count) and `tile.resize` (with its requantization).

use crate::{scheduled, Requant, AVG_POOL2D, MAX_POOL2D, RESIZE};
use nibble_ir::{Func, Type, ValueId};
use nibble_qnt::attr::{Flat, Record, FLAT};
use nibble_qnt::{record, ResizeGeometry, Window};

record! {
    /// A `tile.max_pool2d` (padding never wins).
    pub struct MaxPool2d for [MAX_POOL2D] {
        pub window: Window = FLAT as Flat,
    }
}

pub fn max_pool2d(f: &mut Func, x: ValueId, ty: Type, p: &MaxPool2d) -> ValueId {
    scheduled(f, MAX_POOL2D, &[x], ty, p.attrs())
}

record! {
    /// A `tile.avg_pool2d`: its window and requantization (one entry: every window is full;
    /// else entry taps − 1).
    pub struct AvgPool2d for [AVG_POOL2D] {
        pub window: Window = FLAT as Flat,
        pub rq: Requant = FLAT as Flat,
    }
}

pub fn avg_pool2d(f: &mut Func, x: ValueId, ty: Type, p: &AvgPool2d) -> ValueId {
    scheduled(f, AVG_POOL2D, &[x], ty, p.attrs())
}

record! {
    /// A `tile.resize`: the geometry of `qnt.resize` and its requantization.
    pub struct Resize for [RESIZE] {
        pub geometry: ResizeGeometry = FLAT as Flat,
        pub rq: Requant = FLAT as Flat,
    }
}

pub fn resize(f: &mut Func, x: ValueId, ty: Type, p: &Resize) -> ValueId {
    scheduled(f, RESIZE, &[x], ty, p.attrs())
}
