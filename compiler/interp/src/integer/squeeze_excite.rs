//! Integer squeeze-excite (see `qnt.squeeze_excite` in qnt.irdl.mlir): the channel sums of
//! x rescaled to means, two 1×1 layers (a ReLU or SiLU hidden activation, a hard or table
//! sigmoid gate) in fixed point, and x rescaled by its channel's gate.

use super::arith::{apply_scale, floor_shift, interpolated_sigmoid};
use super::operands;
use super::requant::check_shift;
use crate::tensor::dims;
use crate::{invalid, InterpError};
use nibble_ir::{Func, Op};
use nibble_tile as tile;

/// The attributes of a tile.squeeze_excite op with `c` channels and `cm` hidden channels.
struct Params {
    hidden_multiplier: Vec<i64>,
    hidden_shift: Vec<i64>,
    gate_multiplier: Vec<i64>,
    gate_shift: Vec<i64>,
    /// The pooled means' (multiplier, shift) and the output's.
    pool: (i32, i32),
    out: (i32, i32),
    input_zp: i64,
    output_zp: i64,
    clamp: (i64, i64),
    hidden_max: i64,
    /// The hidden SiLU's and the gate's Q15 sigmoid tables (empty: ReLU, hard sigmoid).
    hidden_table: Vec<i64>,
    gate_table: Vec<i64>,
    hidden_out_shift: i64,
}

impl Params {
    fn of(op: &Op, c: usize, cm: usize) -> Result<Params, InterpError> {
        let tile::SqueezeExcite { params: p, io, .. } = tile::SqueezeExcite::from_op(op)?;
        let wide = |v: Vec<i32>| v.into_iter().map(i64::from).collect::<Vec<i64>>();
        let (hm, hs) = (wide(p.hidden_multiplier), wide(p.hidden_shift));
        let (gm, gs) = (wide(p.gate_multiplier), wide(p.gate_shift));
        if hm.len() != cm || hs.len() != cm || gm.len() != c || gs.len() != c {
            return Err(shape_error(op));
        }
        for &s in hs.iter().chain(&gs) {
            check_shift(op, s)?;
        }
        for (_, s) in [p.pool, p.output] {
            check_shift(op, s as i64)?;
        }
        let (hidden_table, gate_table) = (wide(p.hidden_table), wide(p.gate_table));
        for t in [&hidden_table, &gate_table] {
            if !t.is_empty() && t.len() != 257 {
                return Err(invalid(op, "a sigmoid table needs 257 entries (or none)"));
            }
        }
        let hidden_out_shift = p.hidden_out_shift as i64;
        if !hidden_table.is_empty() {
            check_shift(op, hidden_out_shift)?;
        }
        Ok(Params {
            hidden_multiplier: hm,
            hidden_shift: hs,
            gate_multiplier: gm,
            gate_shift: gs,
            pool: p.pool,
            out: p.output,
            input_zp: io.input_zp,
            output_zp: io.output_zp,
            clamp: (io.clamp_min, io.clamp_max),
            hidden_max: p.hidden_max as i64,
            hidden_table,
            gate_table,
            hidden_out_shift,
        })
    }
}

fn shape_error(op: &Op) -> InterpError {
    invalid(
        op,
        "needs w1 [Cm,C], b1 [Cm], w2 [C,Cm], b2 [C] and one hidden multiplier/shift per Cm, \
         one gate multiplier/shift per C",
    )
}

/// Squeeze-excite gate in fixed point: operands x, w1, b1, w2, b2.
pub(super) fn eval(f: &Func, op: &Op, x: &[&[i32]]) -> Result<Vec<i32>, InterpError> {
    let [x, w1, b1, w2, b2] = operands(op, x)?;
    let c = *dims(f, op.results[0]).last().unwrap_or(&1);
    let cm = b1.len();
    if c == 0 || w1.len() != cm * c || w2.len() != c * cm || b2.len() != c {
        return Err(shape_error(op));
    }
    let p = Params::of(op, c, cm)?;
    let mut sums = vec![0i64; c];
    for row in x.chunks_exact(c) {
        for (s, &v) in sums.iter_mut().zip(row) {
            *s += v as i64 - p.input_zp;
        }
    }
    let pooled: Vec<i64> = sums
        .iter()
        .map(|&s| apply_scale(s, p.pool.0, p.pool.1))
        .collect();
    let dot = |w: &[i32], v: &[i64]| w.iter().zip(v).map(|(&w, &v)| w as i64 * v).sum::<i64>();
    let hidden: Vec<i64> = (0..cm)
        .map(|m| {
            let a = dot(&w1[m * c..][..c], &pooled) + b1[m] as i64;
            let v = apply_scale(a, p.hidden_multiplier[m] as i32, p.hidden_shift[m] as i32);
            if p.hidden_table.is_empty() {
                v.clamp(0, p.hidden_max)
            } else {
                // SiLU: v·sigmoid(v), v in units of 2^-12.
                let s = interpolated_sigmoid(&p.hidden_table, v);
                let shift = p.hidden_out_shift;
                floor_shift(v * s + (1 << (shift - 1)), shift as u32)
            }
        })
        .collect();
    let gate: Vec<i64> = (0..c)
        .map(|k| {
            let z = apply_scale(
                dot(&w2[k * cm..][..cm], &hidden) + b2[k] as i64,
                p.gate_multiplier[k] as i32,
                p.gate_shift[k] as i32,
            );
            if p.gate_table.is_empty() {
                return z.clamp(0, 1 << 15);
            }
            interpolated_sigmoid(&p.gate_table, z)
        })
        .collect();
    let (zi, zo, (lo, hi), out) = (p.input_zp, p.output_zp, p.clamp, p.out);
    Ok(x.chunks_exact(c)
        .flat_map(|row| {
            row.iter().zip(&gate).map(|(&v, &g)| {
                (zo + apply_scale((v as i64 - zi) * g, out.0, out.1)).clamp(lo, hi) as i32
            })
        })
        .collect())
}
