//! Elementwise arithmetic: `tosa.add`/`tosa.sub`/`tosa.mul` of two tensors (either may be a
//! float constant, quantized per tensor) rescaled to the output's range, and the chains of
//! scalar steps (`·c`, `+c`, `c−y`, clamps) after an activation that a table or an epilogue
//! absorbs.

use super::types::out_type;
use super::{Consts, Cx, Lowered};
use crate::LowerError;
use nibble_graph::{attrs, tosa};
use nibble_ir::Func;
use nibble_qnt as qnt;
use nibble_quantize::{fixed_multiplier, shared_shift};

/// `a ± b`: each input rescaled to the output grid with one shared shift.
pub(super) fn add_sub(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    let op = &cx.g.ops[i];
    let (a, qa) = cx.operand(op, 0)?;
    let (b, qb) = cx.operand(op, 1)?;
    let (ty, out) = out_type(op, &cx.shape(op.results[0]), cx.scheme())?;
    let so = out.scale;
    let sign = if op.name == tosa::SUB { -1.0 } else { 1.0 };
    let (m, sh) = shared_shift(&[qa.scale / so, sign * qb.scale / so])?;
    Ok(Lowered::Value(qnt::add(
        &mut cx.f,
        a,
        b,
        ty,
        [m[0], m[1]],
        sh,
    )))
}

/// `a · b`: the product rescaled by `sa · sb / s_out`.
pub(super) fn mul(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    let op = &cx.g.ops[i];
    let (a, qa) = cx.operand(op, 0)?;
    let (b, qb) = cx.operand(op, 1)?;
    let (ty, out) = out_type(op, &cx.shape(op.results[0]), cx.scheme())?;
    let fs = fixed_multiplier(qa.scale * qb.scale / out.scale)?;
    Ok(Lowered::Value(qnt::mul(
        &mut cx.f,
        a,
        b,
        ty,
        fs.multiplier,
        fs.shift,
    )))
}

/// A scalar elementwise step after an activation.
#[derive(Clone, Copy, Debug)]
pub(super) enum Step {
    Mul(f64),
    Add(f64),
    /// `c − y`.
    SubFrom(f64),
    Clamp(f64, f64),
}

impl Step {
    pub(super) fn apply(self, y: f64) -> f64 {
        match self {
            Step::Mul(c) => y * c,
            Step::Add(c) => y + c,
            Step::SubFrom(c) => c - y,
            Step::Clamp(lo, hi) => y.clamp(lo, hi),
        }
    }
}

/// The step graph op `u` applies to its operand `v`, if it is a scalar mul/add/sub by a
/// constant or a clamp.
fn step_of(g: &Func, u: usize, v: usize, consts: &Consts<'_>) -> Option<Step> {
    let user = &g.ops[u];
    let scalar = |k: usize| {
        consts
            .get(&user.operands[k])
            .filter(|c| c.1.len() == 1)
            .map(|c| c.1[0] as f64)
    };
    Some(match user.name.as_str() {
        tosa::MUL | tosa::ADD | tosa::SUB if user.operands.len() >= 2 => {
            let (c, x_first) = match (user.operands[0] == v, user.operands[1] == v) {
                (true, false) => (scalar(1), true),
                (false, true) => (scalar(0), false),
                _ => (None, true),
            };
            let c = c?;
            match (user.name.as_str(), x_first) {
                (tosa::MUL, _) => Step::Mul(c),
                (tosa::ADD, _) => Step::Add(c),
                (_, true) => Step::Add(-c),
                _ => Step::SubFrom(c),
            }
        }
        tosa::CLAMP => match (user.float("min_val"), user.float("max_val")) {
            (Ok(lo), Ok(hi)) => Step::Clamp(lo, hi),
            _ => return None,
        },
        _ => return None,
    })
}

/// The calibrated scalar mul/add/sub-by-constant and clamp ops that alone follow op `i` in a
/// chain: the last op's index and the steps in order.
pub(super) fn elementwise_chain(
    g: &Func,
    i: usize,
    uses: &[usize],
    consts: &Consts<'_>,
) -> (usize, Vec<Step>) {
    let (mut last, mut steps) = (i, Vec::new());
    loop {
        let v = g.ops[last].results[0];
        if uses[v] != 1 || g.returns.contains(&v) {
            break;
        }
        let Some(u) = g.ops.iter().position(|o| o.operands.contains(&v)) else {
            break;
        };
        let Some(step) = step_of(g, u, v, consts) else {
            break;
        };
        if g.ops[u].float(attrs::MIN).is_err() {
            break;
        }
        steps.push(step);
        last = u;
    }
    (last, steps)
}

/// The ops of the chain after op `i` up to `last` (each the single user of the one before).
pub(super) fn chain_ops(g: &Func, i: usize, last: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut k = i;
    while k != last {
        let v = g.ops[k].results[0];
        match g.ops.iter().position(|o| o.operands.contains(&v)) {
            Some(u) => {
                out.push(u);
                k = u;
            }
            None => break,
        }
    }
    out
}
