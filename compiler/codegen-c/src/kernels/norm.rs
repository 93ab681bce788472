//! Calls of the ops that normalise over channels: softmax, LayerNorm (one row per position
//! of the last axis) and squeeze-excite (a gate per channel from the spatial mean).

use super::{call, Kernel};
use crate::arrays::{c_array, fields, int64};
use crate::CodegenError;
use nibble_tile as tile;

/// The length of the last axis (1 for a scalar) and the number of rows of that length.
fn rows(k: &Kernel) -> Result<(i64, i64), CodegenError> {
    let c = *k.dims(k.result()?).last().unwrap_or(&1);
    Ok((c, k.result_elems()? as i64 / c.max(1)))
}

/// `nb_softmax_s8` over the last axis, with the op's 256-entry exp table (`nb_exp{i}`).
pub(super) fn softmax(k: &mut Kernel) -> Result<(), CodegenError> {
    let p = tile::Softmax::from_op(k.op)?;
    if p.exp_table.len() != 256 {
        return Err(k.err("the exp table needs 256 entries"));
    }
    let name = format!("nb_exp{}", k.i);
    c_array(k.weights, "int32_t", &name, p.exp_table.iter());
    let (c, rows) = rows(k)?;
    let run = call(
        "nb_softmax_s8",
        &[
            &k.x(0)?,
            &rows,
            &c,
            &k.ptr("int8_t"),
            &name,
            &p.frac_bits,
            &p.output_zp,
            &p.clamp_min,
            &p.clamp_max,
        ],
    );
    k.line(&run);
    Ok(())
}

/// `nb_layer_norm_rows`: per-channel multipliers, shifts and 64-bit biases at file scope, the
/// rest in an `nb_layer_norm` record.
pub(super) fn layer_norm(k: &mut Kernel) -> Result<(), CodegenError> {
    let tile::LayerNorm { params, io } = tile::LayerNorm::from_op(k.op)?;
    let (m, sh, b) = (&params.multiplier, &params.shift, &params.bias);
    let i = k.i;
    c_array(k.weights, "int32_t", &format!("nb_multiplier{i}"), m.iter());
    c_array(k.weights, "int32_t", &format!("nb_shift{i}"), sh.iter());
    let wide = b.iter().map(|&v| int64(v));
    c_array(k.weights, "int64_t", &format!("nb_bias{i}"), wide);
    let params = fields(&[
        &io.input_zp,
        &io.output_zp,
        &io.clamp_min,
        &io.clamp_max,
        &int64(params.eps_term),
        &format!("nb_multiplier{i}"),
        &format!("nb_shift{i}"),
        &format!("nb_bias{i}"),
    ]);
    let (c, rows) = rows(k)?;
    let run = call(
        "nb_layer_norm_rows",
        &[&k.xb(0)?, &rows, &c, &k.ptr("int8_t"), &"&p"],
    );
    k.block(&[format!("static const nb_layer_norm p = {params};")], &run);
    Ok(())
}

/// `nb_squeeze_excite_s8`: an 8-bit NHWC input, its two 1×1 layers' weights as operands, their
/// per-channel multipliers and shifts and the sigmoid tables (or NULL) at file scope, the
/// rest in an `nb_squeeze_excite` record.
pub(super) fn squeeze_excite(k: &mut Kernel) -> Result<(), CodegenError> {
    let tile::SqueezeExcite { params: p, io, .. } = tile::SqueezeExcite::from_op(k.op)?;
    let i = k.i;
    let xs = k.dims(k.operand(0)?);
    let Some(&cm) = k.dims(k.operand(2)?).first() else {
        return Err(k.err("the hidden bias needs a shape [Cm]"));
    };
    let c = *xs.last().unwrap_or(&1);
    if xs.len() != 4 || c > 4096 || cm > 4096 || k.bits(k.operand(0)?) != 8 {
        return Err(k.err(
            "the C kernel needs an 8-bit NHWC input with at most 4096 channels and 4096 \
             hidden channels",
        ));
    }
    for (name, values) in [
        ("hidden_multiplier", &p.hidden_multiplier),
        ("hidden_shift", &p.hidden_shift),
        ("gate_multiplier", &p.gate_multiplier),
        ("gate_shift", &p.gate_shift),
    ] {
        c_array(
            k.weights,
            "int32_t",
            &format!("nb_{name}{i}"),
            values.iter(),
        );
    }
    // A sigmoid table, or NULL when it is empty.
    let mut table = |name: &str, t: &[i32]| {
        if t.is_empty() {
            return "NULL".to_string();
        }
        let name = format!("nb_{name}{i}");
        c_array(k.weights, "int32_t", &name, t.iter());
        name
    };
    let hidden_table = table("hidden_table", &p.hidden_table);
    let gate_table = table("gate_table", &p.gate_table);
    let params = fields(&[
        &p.pool.0,
        &p.pool.1,
        &format!("nb_hidden_multiplier{i}, nb_hidden_shift{i}"),
        &p.hidden_max,
        &hidden_table,
        &p.hidden_out_shift,
        &format!("nb_gate_multiplier{i}, nb_gate_shift{i}"),
        &gate_table,
        &p.output.0,
        &p.output.1,
        &io.input_zp,
        &io.output_zp,
        &io.clamp_min,
        &io.clamp_max,
    ]);
    let run = call(
        "nb_squeeze_excite_s8",
        &[
            &k.x(0)?,
            &(xs[1] * xs[2]),
            &c,
            &cm,
            &k.x(1)?,
            &k.x(2)?,
            &k.x(3)?,
            &k.x(4)?,
            &k.ptr("int8_t"),
            &"&p",
        ],
    );
    k.block(
        &[format!("static const nb_squeeze_excite p = {params};")],
        &run,
    );
    Ok(())
}
