//! qnt requantizations: `qnt.requant` (per tensor or per channel), `qnt.prelu` (a rescaling
//! per sign), and the fixed-point activation epilogues of an accumulator, `qnt.hard_swish` and
//! `qnt.swish`.

use crate::attr::{
    get, put, Attrs, DenseI32, DialectError, Flat, I32s, Op, Record, Str, FLAT, I32, I64,
};
use crate::keys::*;
use crate::{record, HARD_SWISH, PRELU, REQUANT, SINGLE_ROUND, SWISH};
use nibble_ir::{Attr, Func, Type, ValueId};

/// The rescaling of a `qnt.requant`: one multiplier and shift for the tensor (integer
/// attributes), or one per channel of the last dimension (i32 arrays).
#[derive(Clone, Debug, PartialEq)]
pub enum Scale {
    Tensor {
        multiplier: i32,
        shift: i32,
    },
    Channel {
        multiplier: Vec<i32>,
        shift: Vec<i32>,
    },
}

impl Scale {
    /// The multipliers and shifts as lists (one entry per tensor).
    pub fn lists(&self) -> (Vec<i32>, Vec<i32>) {
        match self {
            Scale::Tensor { multiplier, shift } => (vec![*multiplier], vec![*shift]),
            Scale::Channel { multiplier, shift } => (multiplier.clone(), shift.clone()),
        }
    }
}

/// A `qnt.requant`: its rescaling and rounding mode.
#[derive(Clone, Debug, PartialEq)]
pub struct Requant {
    pub scale: Scale,
    pub rounding_mode: String,
}

impl Record for Requant {
    fn attrs(&self) -> Attrs {
        let mut a = Attrs::new();
        match &self.scale {
            Scale::Tensor { multiplier, shift } => {
                put::<I32, i32>(&mut a, MULTIPLIER, multiplier);
                put::<I32, i32>(&mut a, SHIFT, shift);
            }
            Scale::Channel { multiplier, shift } => {
                put::<I32s, Vec<i32>>(&mut a, MULTIPLIER, multiplier);
                put::<I32s, Vec<i32>>(&mut a, SHIFT, shift);
            }
        }
        put::<Str, String>(&mut a, ROUNDING_MODE, &self.rounding_mode);
        a
    }
    fn read(op: &Op) -> Result<Self, DialectError> {
        let scalar = |k| matches!(op.attrs.get(k), Some(Attr::Int(..)));
        let scale = if scalar(MULTIPLIER) && scalar(SHIFT) {
            Scale::Tensor {
                multiplier: get::<I32, i32>(op, MULTIPLIER)?,
                shift: get::<I32, i32>(op, SHIFT)?,
            }
        } else {
            Scale::Channel {
                multiplier: get::<I32s, Vec<i32>>(op, MULTIPLIER)?,
                shift: get::<I32s, Vec<i32>>(op, SHIFT)?,
            }
        };
        let rounding_mode = get::<Str, String>(op, ROUNDING_MODE)?;
        Ok(Requant {
            scale,
            rounding_mode,
        })
    }
}

impl Requant {
    /// Reads a `qnt.requant`.
    pub fn from_op(op: &Op) -> Result<Requant, DialectError> {
        crate::attr::expect(op, &[REQUANT])?;
        Requant::read(op)
    }
}

/// A per-tensor requantization with single rounding.
pub fn requant(f: &mut Func, x: ValueId, ty: Type, multiplier: i32, shift: i32) -> ValueId {
    let rq = Requant {
        scale: Scale::Tensor { multiplier, shift },
        rounding_mode: SINGLE_ROUND.into(),
    };
    f.push(REQUANT, &[x], ty, rq.attrs())
}

/// A per-channel requantization: one multiplier/shift per channel of the last dimension.
pub fn requant_per_channel(
    f: &mut Func,
    x: ValueId,
    ty: Type,
    multipliers: &[i32],
    shifts: &[i32],
) -> ValueId {
    let rq = Requant {
        scale: Scale::Channel {
            multiplier: multipliers.to_vec(),
            shift: shifts.to_vec(),
        },
        rounding_mode: SINGLE_ROUND.into(),
    };
    f.push(REQUANT, &[x], ty, rq.attrs())
}

record! {
    /// A `qnt.prelu`: the non-negative side's and the (signed) negative side's multipliers and
    /// shifts, each one entry or one per channel.
    pub struct Prelu for [PRELU] {
        pub pos_multiplier: Vec<i32> = POS_MULTIPLIER as I32s,
        pub pos_shift: Vec<i32> = POS_SHIFT as I32s,
        pub neg_multiplier: Vec<i32> = NEG_MULTIPLIER as I32s,
        pub neg_shift: Vec<i32> = NEG_SHIFT as I32s,
    }
}

/// PReLU: `pos` scales the non-negative side, `neg` (signed) the other; each one entry or one
/// per channel.
pub fn prelu(
    f: &mut Func,
    x: ValueId,
    ty: Type,
    pos: (&[i32], &[i32]),
    neg: (&[i32], &[i32]),
) -> ValueId {
    let p = Prelu {
        pos_multiplier: pos.0.to_vec(),
        pos_shift: pos.1.to_vec(),
        neg_multiplier: neg.0.to_vec(),
        neg_shift: neg.1.to_vec(),
    };
    f.push(PRELU, &[x], ty, p.attrs())
}

record! {
    /// The common parameters of a fixed-point activation epilogue of an i32 accumulator: `mid`
    /// rescales it to the activation's input, `multiplier`/`shift`/`bias` the product to the
    /// output.
    pub struct Epilogue for [HARD_SWISH, SWISH] {
        pub mid_multiplier: Vec<i32> = MID_MULTIPLIER as I32s,
        pub mid_shift: Vec<i32> = MID_SHIFT as I32s,
        /// The activation's output rescaling: one entry, or one per output channel.
        pub multiplier: Vec<i32> = MULTIPLIER as I32s,
        pub shift: Vec<i32> = SHIFT as I32s,
        pub bias: Vec<i64> = BIAS as crate::attr::I64s,
    }
}

impl Epilogue {
    /// The output rescaling as `[multiplier, shift, bias]` triples, once or per output channel
    /// (the three arrays must be equally long and not empty).
    pub fn triples(&self, op: &Op) -> Result<Vec<[i64; 3]>, DialectError> {
        let (m, s, b) = (&self.multiplier, &self.shift, &self.bias);
        if m.is_empty() || m.len() != s.len() || m.len() != b.len() {
            return Err(DialectError::invalid(
                op,
                "multiplier, shift and bias must be equally long arrays",
            ));
        }
        Ok((0..m.len())
            .map(|c| [m[c] as i64, s[c] as i64, b[c]])
            .collect())
    }
}

record! {
    /// A `qnt.hard_swish`: its epilogue and `three`, `six` at the activation's input scale.
    pub struct HardSwish for [HARD_SWISH] {
        pub epilogue: Epilogue = FLAT as Flat,
        pub three: i64 = THREE as I64,
        pub six: i64 = SIX as I64,
    }
}

record! {
    /// A `qnt.swish`: its epilogue and the interpolated sigmoid table (257 × Q15 over [-8, 8]).
    pub struct Swish for [SWISH] {
        pub epilogue: Epilogue = FLAT as Flat,
        pub sigmoid_table: Vec<i32> = SIGMOID_TABLE as DenseI32,
    }
}

/// Fixed-point `a·hard_swish(y) + b` of an accumulator (see qnt.irdl.mlir).
pub fn hard_swish(
    f: &mut Func,
    acc: ValueId,
    ty: Type,
    p: &Epilogue,
    three: i64,
    six: i64,
) -> ValueId {
    let h = HardSwish {
        epilogue: p.clone(),
        three,
        six,
    };
    f.push(HARD_SWISH, &[acc], ty, h.attrs())
}

/// Fixed-point `a·swish(y) + b` of an accumulator with the interpolated sigmoid `table` (257 ×
/// Q15 over [-8, 8]).
pub fn swish(f: &mut Func, acc: ValueId, ty: Type, p: &Epilogue, table: &[i32]) -> ValueId {
    let s = Swish {
        epilogue: p.clone(),
        sigmoid_table: table.to_vec(),
    };
    f.push(SWISH, &[acc], ty, s.attrs())
}
