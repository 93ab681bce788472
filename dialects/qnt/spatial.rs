//! qnt ops over windows and images: `qnt.max_pool2d`, `qnt.avg_pool2d` (windows as records)
//! and `qnt.resize` (its mode typed).

use crate::attr::{Attrs, Codec, DialectError, Flat, I32s, I64s, Op, Record, Str, FLAT, I32};
use crate::keys::{IMAGE_OFFSET, KERNEL, MODE, MULTIPLIER, PAD, SCALE, SHIFT, STRIDE};
use crate::{record, AVG_POOL2D, MAX_POOL2D, RESIZE};
use nibble_ir::{Func, Type, ValueId};

record! {
    /// A pooling window: kernel and stride [y, x], padding [top, bottom, left, right].
    #[derive(Copy)]
    pub struct Window for [MAX_POOL2D, AVG_POOL2D] {
        pub kernel: [i64; 2] = KERNEL as I64s,
        pub stride: [i64; 2] = STRIDE as I64s,
        pub pad: [i64; 4] = PAD as I64s,
    }
}

pub fn max_pool2d(f: &mut Func, x: ValueId, ty: Type, window: Window) -> ValueId {
    f.push(MAX_POOL2D, &[x], ty, window.attrs())
}

record! {
    /// A `qnt.avg_pool2d`: its window and one multiplier/shift (every window full) or one per
    /// tap count.
    pub struct AvgPool2d for [AVG_POOL2D] {
        pub window: Window = FLAT as Flat,
        pub multiplier: Vec<i32> = MULTIPLIER as I32s,
        pub shift: Vec<i32> = SHIFT as I32s,
    }
}

/// An average pool whose requantization divides by the tap count: `multipliers`/`shifts` have
/// one entry (every window full) or one per tap count.
pub fn avg_pool2d(
    f: &mut Func,
    x: ValueId,
    ty: Type,
    window: Window,
    multipliers: &[i32],
    shifts: &[i32],
) -> ValueId {
    let p = AvgPool2d {
        window,
        multiplier: multipliers.to_vec(),
        shift: shifts.to_vec(),
    };
    f.push(AVG_POOL2D, &[x], ty, p.attrs())
}

/// How a resize interpolates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResizeMode {
    Nearest,
    Bilinear,
}

impl ResizeMode {
    /// The mode's name in the `mode` attribute.
    pub fn name(self) -> &'static str {
        match self {
            ResizeMode::Nearest => "nearest",
            ResizeMode::Bilinear => "bilinear",
        }
    }
}

/// `mode = "nearest" | "bilinear"`.
impl Codec<ResizeMode> for Str {
    fn put(key: &'static str, v: &ResizeMode, out: &mut Attrs) {
        <Str as Codec<String>>::put(key, &v.name().to_string(), out)
    }
    fn get(op: &Op, key: &str) -> Result<ResizeMode, DialectError> {
        match <Str as Codec<String>>::get(op, key)?.as_str() {
            "nearest" => Ok(ResizeMode::Nearest),
            "bilinear" => Ok(ResizeMode::Bilinear),
            _ => Err(DialectError::invalid(
                op,
                "mode must be nearest or bilinear",
            )),
        }
    }
}

record! {
    /// The geometry of a resize (qnt and tile): `mode`, `scale` [ny, dy, nx, dx] and
    /// `image_offset` [oy, ox] as in tosa.resize.
    pub struct ResizeGeometry {
        pub mode: ResizeMode = MODE as Str,
        pub scale: [i64; 4] = SCALE as I64s,
        pub image_offset: [i64; 2] = IMAGE_OFFSET as I64s,
    }
}

record! {
    /// A `qnt.resize`: its geometry and the bilinear requantization.
    pub struct Resize for [RESIZE] {
        pub geometry: ResizeGeometry = FLAT as Flat,
        pub multiplier: i32 = MULTIPLIER as I32,
        pub shift: i32 = SHIFT as I32,
    }
}

/// tosa.resize on stored integers: `mode` "nearest" or "bilinear", `scale` [ny, dy, nx, dx],
/// `image_offset` [oy, ox]; bilinear requantizes by `multiplier`·2^-`shift`.
pub fn resize(
    f: &mut Func,
    x: ValueId,
    ty: Type,
    mode: &str,
    scale: &[i64],
    image_offset: &[i64],
    requant: (i32, i32),
) -> ValueId {
    let mode = match mode {
        "bilinear" => ResizeMode::Bilinear,
        _ => ResizeMode::Nearest,
    };
    let geometry = ResizeGeometry {
        mode,
        scale: fixed(scale),
        image_offset: fixed(image_offset),
    };
    let r = Resize {
        geometry,
        multiplier: requant.0,
        shift: requant.1,
    };
    f.push(RESIZE, &[x], ty, r.attrs())
}

/// The first `N` values of `v`, zero-filled.
fn fixed<const N: usize>(v: &[i64]) -> [i64; N] {
    let mut a = [0; N];
    for (d, s) in a.iter_mut().zip(v) {
        *d = *s;
    }
    a
}
