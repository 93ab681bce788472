//! The qnt e-graph language.

use egg::{define_language, Id};
use std::fmt;
use std::str::FromStr;

/// A requantization's parameters: the exact fixed-point scale `multiplier · 2^-shift`, the
/// index of its result type in the bridge's type table, and the op it came from (for
/// locations and attributes on the way back).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scale {
    /// `(multiplier, shift)`: one for the tensor, or one per channel of the last dimension.
    pub factors: Vec<(i32, i32)>,
    pub ty: u32,
    pub origin: u32,
}

/// A clamp's bounds in stored integers, with the zero point and storage maximum of the clamped
/// type (a ReLU is `[zp, qmax]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bounds {
    pub lo: i64,
    pub hi: i64,
    pub zp: i64,
    pub qmax: i64,
    pub origin: u32,
}

/// An opaque op: a function argument or an op of the original function, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpRef {
    Arg(u32),
    Op(u32),
}

fn parse_ints<const N: usize>(s: &str, prefix: &str) -> Result<[i64; N], String> {
    let body = s
        .strip_prefix(prefix)
        .ok_or_else(|| format!("not a {prefix} leaf: {s}"))?;
    let v: Vec<i64> = body
        .split('/')
        .map(|x| x.parse::<i64>().map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    v.try_into().map_err(|_| format!("bad {prefix} leaf: {s}"))
}

impl FromStr for Scale {
    type Err = String;
    /// `scale:TY/ORIGIN/M:S,M:S,…`
    fn from_str(s: &str) -> Result<Self, String> {
        let body = s
            .strip_prefix("scale:")
            .ok_or_else(|| format!("not a scale leaf: {s}"))?;
        let mut parts = body.splitn(3, '/');
        let mut next = || parts.next().ok_or_else(|| format!("bad scale leaf: {s}"));
        let ty = next()?.parse().map_err(|e| format!("{e}"))?;
        let origin = next()?.parse().map_err(|e| format!("{e}"))?;
        let factors = next()?
            .split(',')
            .map(|f| {
                let (m, sh) = f.split_once(':').ok_or_else(|| format!("bad factor {f}"))?;
                Ok((
                    m.parse().map_err(|e| format!("{e}"))?,
                    sh.parse().map_err(|e| format!("{e}"))?,
                ))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Scale {
            factors,
            ty,
            origin,
        })
    }
}
impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let factors: Vec<String> = self
            .factors
            .iter()
            .map(|(m, s)| format!("{m}:{s}"))
            .collect();
        write!(f, "scale:{}/{}/{}", self.ty, self.origin, factors.join(","))
    }
}
impl FromStr for Bounds {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let [lo, hi, zp, qmax, o] = parse_ints::<5>(s, "bounds:")?;
        Ok(Bounds {
            lo,
            hi,
            zp,
            qmax,
            origin: o as u32,
        })
    }
}
impl fmt::Display for Bounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bounds:{}/{}/{}/{}/{}",
            self.lo, self.hi, self.zp, self.qmax, self.origin
        )
    }
}
impl FromStr for OpRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(i) = s.strip_prefix("arg") {
            return i.parse().map(OpRef::Arg).map_err(|e| format!("{e}"));
        }
        if let Some(i) = s.strip_prefix("op") {
            return i.parse().map(OpRef::Op).map_err(|e| format!("{e}"));
        }
        Err(format!("not an op reference: {s}"))
    }
}
impl fmt::Display for OpRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpRef::Arg(i) => write!(f, "arg{i}"),
            OpRef::Op(i) => write!(f, "op{i}"),
        }
    }
}

define_language! {
    /// `(requant <scale> x)`, `(clamp <bounds> x)`, opaque `(opN a b …)`, and the leaves.
    pub enum Qnt {
        "requant" = Requant([Id; 2]),
        "clamp" = Clamp([Id; 2]),
        Scale(Scale),
        Bounds(Bounds),
        Opaque(OpRef, Vec<Id>),
    }
}
