//! LayerNorm (the `nibble` layer `layer_norm`, last axis) as one `qnt.layer_norm`, and the fixed-point
//! parameters it computes with (see qnt.irdl.mlir).

use super::types::out_type;
use super::{err, Cx, Lowered};
use crate::LowerError;
use nibble_graph::LayerNorm;
use nibble_qnt as qnt;
use nibble_quantize::signed_multiplier;

/// `tosa.custom` layer_norm with constant gamma and beta.
pub(super) fn layer_norm(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    let op = &cx.g.ops[i];
    let (x, q) = cx.quant_input(op, 0)?;
    let (ty, out) = out_type(op, &cx.shape(op.results[0]), cx.scheme())?;
    let eps = LayerNorm::from_op(op)
        .map_err(|e| err(op, e.to_string()))?
        .epsilon;
    let n = *cx.shape(op.operands[0]).last().unwrap_or(&1);
    let gamma = cx.constant(op, 1, "gamma and beta must be constant")?;
    let beta = cx.constant(op, 2, "gamma and beta must be constant")?;
    let p = layer_norm_params(&gamma, &beta, n, eps, q.scale, out.scale).map_err(|m| err(op, m))?;
    Ok(Lowered::Value(qnt::layer_norm(&mut cx.f, x, ty, &p)))
}

/// The fixed-point parameters of `qnt.layer_norm` for `n` channels with `gamma`, `beta`, `eps`
/// and the input/output scales.
fn layer_norm_params(
    gamma: &[f32],
    beta: &[f32],
    n: i64,
    eps: f64,
    s_in: f64,
    s_out: f64,
) -> Result<qnt::LayerNorm, String> {
    let c = n as usize;
    if !(1..=4096).contains(&n) || gamma.len() != c || beta.len() != c {
        return Err(format!(
            "layer_norm needs 1..=4096 channels with one gamma and beta each (got {n}, {}, {})",
            gamma.len(),
            beta.len()
        ));
    }
    let eps_term = (n as f64).powi(3) * eps / (s_in * s_in);
    if !(0.0..4e18).contains(&eps_term) {
        return Err(format!(
            "epsilon {eps:e} at input scale {s_in:e} overflows the fixed-point variance"
        ));
    }
    let (mut multiplier, mut shift, mut bias) = (Vec::new(), Vec::new(), Vec::new());
    for (&g, &b) in gamma.iter().zip(beta) {
        let ratio = g as f64 * (n as f64).sqrt() / (s_out * 2f64.powi(30));
        let (mut m, mut sh) = match signed_multiplier(ratio) {
            Ok(fs) if ratio != 0.0 => (fs.multiplier as i64, fs.shift),
            _ => (0, 1),
        };
        // Keep t·m + bias within i64: at most 46 fractional bits (a tiny gamma loses precision
        // it cannot use anyway).
        while sh > 46 {
            m = (m + 1).div_euclid(2);
            sh -= 1;
        }
        multiplier.push(m as i32);
        shift.push(sh);
        bias.push((b as f64 / s_out * (sh as f64).exp2()).round() as i64);
    }
    Ok(qnt::LayerNorm {
        multiplier,
        shift,
        bias,
        eps_term: eps_term.round() as i64,
    })
}
