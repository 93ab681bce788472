//! qnt ops that normalise over channels, in fixed point: `qnt.softmax`, `qnt.layer_norm` and
//! `qnt.squeeze_excite`.

use crate::attr::{get, put, Attrs, DenseI32, DialectError, I32s, I64s, Op, Record, I32, I64};
use crate::keys::*;
use crate::{record, LAYER_NORM, SOFTMAX, SQUEEZE_EXCITE};
use nibble_ir::{Func, Type, ValueId};

record! {
    /// A `qnt.softmax`: `exp_table[d + 255]` = round(2^15 exp(s·d)), the output at
    /// 2^-`frac_bits`.
    pub struct Softmax for [SOFTMAX] {
        pub exp_table: Vec<i32> = EXP_TABLE as DenseI32,
        pub frac_bits: i64 = FRAC_BITS as I32,
    }
}

/// Fixed-point softmax over the last dimension; `exp_table[d + 255]` = round(2^15 exp(s·d)).
pub fn softmax(f: &mut Func, x: ValueId, ty: Type, exp_table: &[i32], frac_bits: i32) -> ValueId {
    let s = Softmax {
        exp_table: exp_table.to_vec(),
        frac_bits: frac_bits as i64,
    };
    f.push(SOFTMAX, &[x], ty, s.attrs())
}

record! {
    /// Fixed-point LayerNorm parameters, one entry per channel of the last dimension.
    pub struct LayerNorm for [LAYER_NORM] {
        pub multiplier: Vec<i32> = MULTIPLIER as I32s,
        pub shift: Vec<i32> = SHIFT as I32s,
        pub bias: Vec<i64> = BIAS as I64s,
        pub eps_term: i64 = EPS_TERM as I64,
    }
}

/// LayerNorm over the last dimension in fixed point (see qnt.irdl.mlir).
pub fn layer_norm(f: &mut Func, x: ValueId, ty: Type, p: &LayerNorm) -> ValueId {
    f.push(LAYER_NORM, &[x], ty, p.attrs())
}

/// The fixed-point parameters of `qnt.squeeze_excite` (see qnt.irdl.mlir).
#[derive(Clone, Debug, PartialEq)]
pub struct SqueezeExcite {
    pub pool: (i32, i32),
    pub hidden_multiplier: Vec<i32>,
    pub hidden_shift: Vec<i32>,
    pub hidden_max: i32,
    /// Empty: a ReLU hidden activation; else SiLU through this 257-entry Q15 sigmoid table.
    pub hidden_table: Vec<i32>,
    /// SiLU: the shift from v·sigmoid (2^-27) to the hidden scale; 0 for ReLU.
    pub hidden_out_shift: i32,
    pub gate_multiplier: Vec<i32>,
    pub gate_shift: Vec<i32>,
    /// Empty: a hard sigmoid gate; else the 257-entry Q15 sigmoid table of `qnt.swish`.
    pub gate_table: Vec<i32>,
    pub output: (i32, i32),
}

impl Record for SqueezeExcite {
    fn attrs(&self) -> Attrs {
        let mut a = Attrs::new();
        let scalars = [
            (POOL_MULTIPLIER, self.pool.0),
            (POOL_SHIFT, self.pool.1),
            (HIDDEN_MAX, self.hidden_max),
            (HIDDEN_OUT_SHIFT, self.hidden_out_shift),
            (MULTIPLIER, self.output.0),
            (SHIFT, self.output.1),
        ];
        for (k, v) in &scalars {
            put::<I32, i32>(&mut a, k, v);
        }
        let arrays = [
            (HIDDEN_MULTIPLIER, &self.hidden_multiplier),
            (HIDDEN_SHIFT, &self.hidden_shift),
            (HIDDEN_TABLE, &self.hidden_table),
            (GATE_MULTIPLIER, &self.gate_multiplier),
            (GATE_SHIFT, &self.gate_shift),
            (GATE_TABLE, &self.gate_table),
        ];
        for (k, v) in arrays {
            put::<I32s, Vec<i32>>(&mut a, k, v);
        }
        a
    }
    fn read(op: &Op) -> Result<Self, DialectError> {
        let int = |k| get::<I32, i32>(op, k);
        let ints = |k| get::<I32s, Vec<i32>>(op, k);
        Ok(SqueezeExcite {
            pool: (int(POOL_MULTIPLIER)?, int(POOL_SHIFT)?),
            hidden_multiplier: ints(HIDDEN_MULTIPLIER)?,
            hidden_shift: ints(HIDDEN_SHIFT)?,
            hidden_max: int(HIDDEN_MAX)?,
            hidden_table: ints(HIDDEN_TABLE)?,
            hidden_out_shift: int(HIDDEN_OUT_SHIFT)?,
            gate_multiplier: ints(GATE_MULTIPLIER)?,
            gate_shift: ints(GATE_SHIFT)?,
            gate_table: ints(GATE_TABLE)?,
            output: (int(MULTIPLIER)?, int(SHIFT)?),
        })
    }
}

impl SqueezeExcite {
    /// Reads a `qnt.squeeze_excite`.
    pub fn from_op(op: &Op) -> Result<SqueezeExcite, DialectError> {
        crate::attr::expect(op, &[SQUEEZE_EXCITE])?;
        SqueezeExcite::read(op)
    }
}

/// Squeeze-excite gate: `x · g(x)` with weights `w` = (w1, b1, w2, b2).
pub fn squeeze_excite(
    f: &mut Func,
    x: ValueId,
    w: [ValueId; 4],
    ty: Type,
    p: &SqueezeExcite,
) -> ValueId {
    f.push(SQUEEZE_EXCITE, &[x, w[0], w[1], w[2], w[3]], ty, p.attrs())
}
