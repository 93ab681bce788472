//! The requantization record (`nb_rq`) of a kernel call, written from the op's
//! `tile::Requant`: its multiplier and shift arrays at file scope, and the tables of an
//! activation fused into it (PReLU's negative side, hard-swish, swish). The record's fields
//! follow `nb_rq` in `runtime/c/nibble_runtime.h`.

use crate::arrays::{c_array, fields, inline_array, int64};
use nibble_tile::{HardSwish, NegativeSide, Requant, Swish};
use std::fmt::Write;

/// Writes the tables of op number `i`'s requantization to `weights` and returns its `nb_rq`
/// initializer: `{ input_zp, output_zp, clamp_min, clamp_max, n, multipliers, shifts,
/// negative multipliers, negative shifts, hard-swish, swish }` (absent epilogues are 0).
pub(crate) fn initializer(rq: &Requant, i: usize, weights: &mut String) -> String {
    let (m, sh) = (&rq.multiplier, &rq.shift);
    inline_array(weights, "int32_t", &format!("nb_multiplier{i}"), m.len(), m);
    inline_array(weights, "int32_t", &format!("nb_shift{i}"), sh.len(), sh);
    let neg = rq.neg.as_ref().map(|n| negative_side(n, i, weights));
    let hswish = rq.hswish.as_ref().map(|h| hard_swish(h, i, weights));
    let swish = rq.swish.as_ref().map(|s| swish(s, i, weights));
    fields(&[
        &rq.input_zp,
        &rq.output_zp,
        &rq.clamp_min,
        &rq.clamp_max,
        &m.len(),
        &format!("nb_multiplier{i}"),
        &format!("nb_shift{i}"),
        &neg.unwrap_or_else(|| "0, 0".into()),
        &hswish.unwrap_or_else(|| "0".into()),
        &swish.unwrap_or_else(|| "0".into()),
    ])
}

/// PReLU fused into the requantization: the negative side's multipliers and shifts.
fn negative_side(n: &NegativeSide, i: usize, weights: &mut String) -> String {
    let (nm, ns) = (&n.multiplier, &n.shift);
    inline_array(
        weights,
        "int32_t",
        &format!("nb_neg_multiplier{i}"),
        nm.len(),
        nm,
    );
    inline_array(
        weights,
        "int32_t",
        &format!("nb_neg_shift{i}"),
        ns.len(),
        ns,
    );
    format!("nb_neg_multiplier{i}, nb_neg_shift{i}")
}

/// Hard-swish fused into the requantization: an `nb_hswish` record of `three`, `six` and the
/// output's multipliers, shifts and biases (once or per channel).
fn hard_swish(h: &HardSwish, i: usize, weights: &mut String) -> String {
    let n = h.out.len();
    let wide = |k: usize| h.out.iter().map(|t| int64(t[k])).collect::<Vec<_>>();
    let shifts: Vec<i64> = h.out.iter().map(|t| t[1]).collect();
    inline_array(weights, "int64_t", &format!("nb_hswish_m{i}"), n, &wide(0));
    inline_array(weights, "int32_t", &format!("nb_hswish_s{i}"), n, &shifts);
    inline_array(weights, "int64_t", &format!("nb_hswish_b{i}"), n, &wide(2));
    let record = fields(&[
        &int64(h.three),
        &int64(h.six),
        &n,
        &format!("nb_hswish_m{i}"),
        &format!("nb_hswish_s{i}"),
        &format!("nb_hswish_b{i}"),
    ]);
    let _ = writeln!(weights, "static const nb_hswish nb_hswish{i} = {record};");
    format!("&nb_hswish{i}")
}

/// Swish fused into the requantization: the sigmoid table and an `nb_swish` record of the
/// output's multiplier, shift and bias.
fn swish(s: &Swish, i: usize, weights: &mut String) -> String {
    let [multiplier, shift, bias] = s.out;
    let name = format!("nb_sigmoid{i}");
    c_array(weights, "int32_t", &name, s.table.iter());
    let record = fields(&[&name, &int64(multiplier), &shift, &int64(bias)]);
    let _ = writeln!(weights, "static const nb_swish nb_swish{i} = {record};");
    format!("&nb_swish{i}")
}
