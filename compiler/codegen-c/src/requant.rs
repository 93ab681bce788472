//! The requantization record (`nb_rq`) of a kernel call: its multiplier and shift arrays at
//! file scope, and the tables of an activation fused into it (PReLU's negative side,
//! hard-swish, swish). The record's fields follow `nb_rq` in `runtime/c/nibble_runtime.h`.

use crate::arrays::{c_array, fields, inline_array, int64};
use crate::{err, CodegenError};
use nibble_ir::{model, Op};
use std::fmt::Write;

/// Writes the tables of op number `i`'s requantization to `weights` and returns its `nb_rq`
/// initializer: `{ input_zp, output_zp, clamp_min, clamp_max, n, multipliers, shifts,
/// negative multipliers, negative shifts, hard-swish, swish }` (absent epilogues are 0).
pub(crate) fn initializer(op: &Op, i: usize, weights: &mut String) -> Result<String, CodegenError> {
    let (m, sh) = (op.int_list("multiplier")?, op.int_list("shift")?);
    inline_array(
        weights,
        "int32_t",
        &format!("nb_multiplier{i}"),
        m.len(),
        &m,
    );
    inline_array(weights, "int32_t", &format!("nb_shift{i}"), sh.len(), &sh);
    let neg = negative_side(op, i, weights)?;
    let hswish = hard_swish(op, i, weights)?;
    let swish = swish(op, i, weights)?;
    Ok(fields(&[
        &op.int("input_zp")?,
        &op.int("output_zp")?,
        &op.int("clamp_min")?,
        &op.int("clamp_max")?,
        &m.len(),
        &format!("nb_multiplier{i}"),
        &format!("nb_shift{i}"),
        &neg,
        &hswish,
        &swish,
    ]))
}

/// PReLU fused into the requantization: the negative side's multipliers and shifts, else
/// none (`0, 0`).
fn negative_side(op: &Op, i: usize, weights: &mut String) -> Result<String, CodegenError> {
    if !op.attrs.contains_key("neg_multiplier") {
        return Ok("0, 0".to_string());
    }
    let (nm, ns) = (op.int_list("neg_multiplier")?, op.int_list("neg_shift")?);
    inline_array(
        weights,
        "int32_t",
        &format!("nb_neg_multiplier{i}"),
        nm.len(),
        &nm,
    );
    inline_array(
        weights,
        "int32_t",
        &format!("nb_neg_shift{i}"),
        ns.len(),
        &ns,
    );
    Ok(format!("nb_neg_multiplier{i}, nb_neg_shift{i}"))
}

/// Hard-swish fused into the requantization (`hswish = [three, six, then multiplier, shift,
/// bias once or per channel]`): an `nb_hswish` record, else none (`0`).
fn hard_swish(op: &Op, i: usize, weights: &mut String) -> Result<String, CodegenError> {
    if !op.attrs.contains_key("hswish") {
        return Ok("0".to_string());
    }
    let h = op.int_list("hswish")?;
    let [three, six, ref out @ ..] = h[..] else {
        return Err(err(op, "hswish needs [three, six, …]"));
    };
    let column = |k: usize| out.iter().skip(k).step_by(3).copied().collect::<Vec<i64>>();
    let wide = |k: usize| column(k).into_iter().map(int64).collect::<Vec<_>>();
    let n = out.len() / 3;
    inline_array(weights, "int64_t", &format!("nb_hswish_m{i}"), n, &wide(0));
    inline_array(
        weights,
        "int32_t",
        &format!("nb_hswish_s{i}"),
        n,
        &column(1),
    );
    inline_array(weights, "int64_t", &format!("nb_hswish_b{i}"), n, &wide(2));
    let record = fields(&[
        &int64(three),
        &int64(six),
        &n,
        &format!("nb_hswish_m{i}"),
        &format!("nb_hswish_s{i}"),
        &format!("nb_hswish_b{i}"),
    ]);
    let _ = writeln!(weights, "static const nb_hswish nb_hswish{i} = {record};");
    Ok(format!("&nb_hswish{i}"))
}

/// Swish fused into the requantization (`swish = [multiplier, shift, bias]` and its
/// `sigmoid_table`): an `nb_swish` record, else none (`0`).
fn swish(op: &Op, i: usize, weights: &mut String) -> Result<String, CodegenError> {
    if !op.attrs.contains_key("swish") {
        return Ok("0".to_string());
    }
    let p = op.int_list("swish")?;
    let (_, table) = op.dense("sigmoid_table")?;
    let [multiplier, shift, bias, ..] = p[..] else {
        return Err(err(op, "swish needs [multiplier, shift, bias]"));
    };
    let name = format!("nb_sigmoid{i}");
    c_array(
        weights,
        "int32_t",
        &name,
        model::dense_i32(table).into_iter(),
    );
    let record = fields(&[&name, &int64(multiplier), &shift, &int64(bias)]);
    let _ = writeln!(weights, "static const nb_swish nb_swish{i} = {record};");
    Ok(format!("&nb_swish{i}"))
}
