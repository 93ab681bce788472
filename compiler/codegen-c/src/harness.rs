//! `main.c`: the float I/O harness, the only generated file with floats. The template
//! (`runtime/c/main_template.c`) reads a float32 `.npy` batch, quantizes each sample, runs the
//! model, dequantizes and writes `outK.npy`; this module writes its configuration: the model-id
//! check, the input's shape and quantization, and each output's size, dequantization and shape.

use crate::arrays::list;
use crate::schedule::Schedule;
use crate::MAIN_TEMPLATE;
use nibble_ir::text::float_literal;
use nibble_ir::Func;

/// `main.c` for a schedule whose input has shape `in_shape`, headed by the model-id `check`.
pub(crate) fn main_c(f: &Func, s: &Schedule, in_shape: &[i64], check: &str) -> String {
    let outs = &s.outputs;
    let elems: Vec<usize> = outs.iter().map(|o| f.ty(o.value).num_elements()).collect();
    let scales: Vec<String> = outs.iter().map(|o| float_literal(o.scale)).collect();
    let zps: Vec<i64> = outs.iter().map(|o| o.zero_point).collect();
    // Each output's shape after the batch, as the text of an .npy header tuple.
    let tails: Vec<String> = outs
        .iter()
        .map(|o| {
            let dims = f.ty(o.result).shape().unwrap_or(&[]);
            let tail: String = dims.iter().skip(1).map(|d| format!("{d}, ")).collect();
            format!("\"{tail}\"")
        })
        .collect();
    let bufs: Vec<String> = (0..outs.len()).map(|k| format!("(qout)[{k}]")).collect();
    let config = [
        format!("static const long in_shape[] = {{{}}};", list(in_shape)),
        format!(
            "static const double in_scale = {};",
            float_literal(s.input.scale)
        ),
        format!("static const int in_zp = {};", s.input.zero_point),
        format!("#define NUM_OUT {}", outs.len()),
        format!(
            "static const long out_elems[NUM_OUT] = {{{}}};",
            list(&elems)
        ),
        format!(
            "static const double out_scale[NUM_OUT] = {{{}}};",
            list(&scales)
        ),
        format!("static const int out_zp[NUM_OUT] = {{{}}};", list(&zps)),
        format!(
            "static const char *out_shape_tail[NUM_OUT] = {{{}}};",
            list(&tails)
        ),
        format!(
            "#define RUN_MODEL(in, qout) nibble_model_run(in, {})",
            list(&bufs)
        ),
    ]
    .map(|line| line + "\n")
    .concat();
    MAIN_TEMPLATE.replace("/*@CONFIG@*/", &format!("{check}{config}"))
}
