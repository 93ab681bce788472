//! `nibble report`: where accuracy goes. Every quantization configuration (scheme ×
//! granularity × range method) is compiled in-process to the tile level (by the driver, the
//! pipeline `nibble compile` runs, for `--target`) and run by the integer
//! interpreter on an evaluation set next to the FP32 graph (then the best one with the fixes:
//! bias correction, equalization, both, 16-bit activations where `--bits auto` chooses them): task metric (top-1 or CTC character accuracy with labels),
//! decisions equal to FP32 (class or decoded line), output SQNR and weight bytes per configuration; then, for the best
//! configuration, the SQNR of every quantized layer against its FP32 value (total) and against
//! its exact output from its own quantized inputs (own: a second float run that reads each
//! layer's quantized output in place of its float one, so a layer is not blamed for upstream
//! noise, nor for a constant offset that changes its signal power). This module evaluates;
//! `render` writes the text for the terminal and a self-contained HTML page with the per-layer
//! SQNR chart and accuracy against model size; `cmd::report` chooses the configurations.

pub mod render;

use crate::error::Res;
use nibble_driver::{Driver, QuantOptions, TargetOption, Unfolded};
use nibble_graph::{attrs, tosa};
use nibble_interp::float::FloatProgram;
use nibble_interp::integer::IntProgram;
use nibble_ir::{Func, ValueId};
use std::collections::HashMap;

/// One quantization configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub quant: QuantOptions,
    /// Index into the calibrated graphs (one per range method, and equalized variants).
    pub ranges: usize,
}

/// How configurations are compiled: the driver, for a target.
pub struct Compiler<'a> {
    pub driver: &'a Driver,
    pub target: &'a TargetOption,
}

/// The evaluation set and what to score it against.
pub struct EvalSet<'a> {
    pub samples: Vec<&'a [f32]>,
    pub task: crate::metrics::Task,
}

/// A configuration's end-to-end numbers (or why it failed).
pub struct Outcome {
    pub name: String,
    pub result: Result<Scores, crate::error::CliError>,
}

pub struct Scores {
    /// The task metric (top-1 or character accuracy) where there are labels.
    pub metric: Option<f64>,
    pub agreement: f64,
    pub sqnr: f64,
    pub weight_bytes: usize,
    /// The target the tile program was lowered for (its `nibble.target`).
    pub target: String,
    /// Estimated cycles per sample and frames per second on an accelerator target (none on a
    /// host target: no cycle model).
    pub speed: Option<(u64, f64)>,
}

/// Per-layer fidelity of one configuration.
pub struct Layer {
    pub name: String,
    /// The layer's output against FP32 (all the noise up to here).
    pub sqnr: f64,
    /// The layer's own rounding: its quantized output against its exact output computed in
    /// float from its quantized inputs (a fused chain of ops counts as one layer).
    pub own: f64,
}

pub fn config_name(c: &Config, range_names: &[String]) -> String {
    format!(
        "{} / {} / {}",
        c.quant.scheme().name(),
        c.quant.granularity.name(),
        range_names[c.ranges]
    )
}

fn db(sig: f64, noise: f64) -> f64 {
    if noise <= 0.0 {
        f64::INFINITY
    } else {
        10.0 * (sig / noise).log10()
    }
}

/// FP32 outputs of the graph for every sample.
pub fn float_outputs(g: &Func, set: &EvalSet) -> Res<Vec<Vec<Vec<f32>>>> {
    let p = FloatProgram::new(g)?;
    set.samples
        .iter()
        .map(|s| Ok(p.run(s, |_, _| {})?))
        .collect()
}

/// FP32 weight bytes of the graph (f32 constants).
pub fn float_weight_bytes(g: &Func) -> usize {
    g.ops
        .iter()
        .filter(|o| o.name == tosa::CONST)
        .map(|o| g.ty(o.results[0]))
        .filter(|t| t.elem() == Some(&nibble_ir::Elem::F32))
        .map(|t| t.num_elements() * 4)
        .sum()
}

/// The decisions of output 0 of every sample.
fn decisions(outs: &[Vec<Vec<f32>>], set: &EvalSet) -> Res<Vec<String>> {
    outs.iter().map(|o| set.task.decode(&o[0])).collect()
}

/// Scores the outputs `got` against FP32 `reference`: (task metric, decision agreement, SQNR
/// of all outputs).
fn score(
    got: &[Vec<Vec<f32>>],
    reference: &[Vec<Vec<f32>>],
    set: &EvalSet,
) -> Res<(Option<f64>, f64, f64)> {
    let (mut sig, mut noise) = (0.0, 0.0);
    for (g, r) in got.iter().zip(reference) {
        for (go, ro) in g.iter().zip(r) {
            for (&a, &b) in go.iter().zip(ro) {
                sig += (b as f64).powi(2);
                noise += ((a - b) as f64).powi(2);
            }
        }
    }
    let d = decisions(got, set)?;
    Ok((
        set.task.score(&d).map(|s| s.0),
        crate::metrics::agreement(&d, &decisions(reference, set)?),
        db(sig, noise),
    ))
}

/// The task metric of the FP32 outputs (where there are labels).
pub fn float_metric(reference: &[Vec<Vec<f32>>], set: &EvalSet) -> Res<Option<f64>> {
    Ok(set.task.score(&decisions(reference, set)?).map(|s| s.0))
}

/// Compiles and evaluates one configuration.
pub fn evaluate(
    compiler: &Compiler,
    g: &Func,
    c: &Config,
    name: String,
    set: &EvalSet,
    reference: &[Vec<Vec<f32>>],
    tick: &dyn Fn(),
) -> Outcome {
    let result = (|| {
        let t = compiler.driver.to_tile(g, &c.quant, compiler.target)?;
        let target = compiler.target.load()?;
        let speed = if target.is_host() {
            None
        } else {
            let e = nibble_lower::estimate::estimate(&t, &target)
                .map_err(nibble_driver::Error::from)?;
            Some((e.total_cycles, e.fps()))
        };
        let p = IntProgram::new(&t)?;
        let mut got = Vec::with_capacity(set.samples.len());
        for s in &set.samples {
            got.push(p.run(s)?);
            tick();
        }
        let (metric, agreement, sqnr) = score(&got, reference, set)?;
        Ok(Scores {
            metric,
            agreement,
            sqnr,
            weight_bytes: nibble_driver::weight_bytes(&t),
            target: match t.attrs.get("nibble.target") {
                Some(nibble_ir::Attr::Str(name)) => name.clone(),
                _ => String::new(),
            },
            speed,
        })
    })();
    Outcome { name, result }
}

/// Per-layer SQNR of configuration `c`: every graph value that has a per-tensor quantized
/// counterpart at the tile level, dequantized and compared with its FP32 value. Measured on the
/// program before requant folding, so every layer's own output is observable.
pub fn layers(
    compiler: &Compiler,
    g: &Func,
    c: &Config,
    set: &EvalSet,
    tick: &dyn Fn(),
) -> Res<Vec<Layer>> {
    let u = compiler
        .driver
        .to_tile_unfolded(g, &c.quant, compiler.target)?;
    let watched = watched(g, &u);
    let by_tile: HashMap<ValueId, usize> =
        watched.iter().enumerate().map(|(i, w)| (w.1, i)).collect();
    let by_graph: HashMap<ValueId, usize> =
        watched.iter().enumerate().map(|(i, w)| (w.0, i)).collect();
    let fp = FloatProgram::new(g)?;
    let ip = IntProgram::new(&u.tile)?;
    // (signal, noise) sums: against FP32, and against the layer's exact output from its
    // quantized inputs.
    let mut acc = vec![(0f64, 0f64); watched.len()];
    let mut own = vec![(0f64, 0f64); watched.len()];
    let mut floats: Vec<Option<Vec<f32>>> = vec![None; g.values.len()];
    let mut dequantized: Vec<Option<Vec<f32>>> = vec![None; watched.len()];
    for s in &set.samples {
        fp.run(s, |v, d| {
            if by_graph.contains_key(&v) {
                floats[v] = Some(d.to_vec());
            }
        })?;
        ip.run_observed(s, |v, ints| {
            let Some(&i) = by_tile.get(&v) else { return };
            let (_, _, scale, zp) = watched[i];
            dequantized[i] = Some(
                ints.iter()
                    .map(|&q| (scale * (q as i64 - zp) as f64) as f32)
                    .collect(),
            );
        })?;
        for (i, &(gv, ..)) in watched.iter().enumerate() {
            if let (Some(x), Some(y)) = (floats[gv].as_ref(), dequantized[i].as_ref()) {
                add_noise(&mut acc[i], x, y);
            }
        }
        fp.run_replacing(s, |v, d| {
            let &i = by_graph.get(&v)?;
            let y = dequantized[i].as_ref()?;
            add_noise(&mut own[i], d, y);
            Some(y.clone())
        })?;
        tick();
    }
    let producers = g.producers();
    Ok(watched
        .iter()
        .enumerate()
        .map(|(i, &(gv, ..))| Layer {
            name: layer_name(&g.ops[producers[gv].unwrap_or(0)]),
            sqnr: db(acc[i].0, acc[i].1),
            own: db(own[i].0, own[i].1),
        })
        .collect())
}

/// The graph values with a per-tensor quantized counterpart at the tile level, in program
/// order: (graph value, tile value, scale, zero point).
fn watched(g: &Func, u: &Unfolded) -> Vec<(ValueId, ValueId, f64, i64)> {
    let mut watched = Vec::new();
    for op in &g.ops {
        let Some(&r) = op.results.first() else {
            continue;
        };
        let (Some(&qv), true) = (u.graph_to_qnt.get(&r), op.name != tosa::CONST) else {
            continue;
        };
        let (Some(&tv), Some(qty)) = (u.qnt_to_tile.get(&qv), u.qnt.ty(qv).quant()) else {
            continue;
        };
        if u.qnt.ty(qv).num_elements() == g.ty(r).num_elements() {
            watched.push((r, tv, qty.scale, qty.zero_point));
        }
    }
    watched
}

/// A layer as the report names it: its ONNX node and op (`Relu_2 (Relu)`), `16-bit` if wide.
fn layer_name(op: &nibble_ir::Op) -> String {
    let mut what = nibble_graph::layers::label(op).to_string();
    if op.int(attrs::BITS).ok() == Some(16) {
        what.push_str(", 16-bit");
    }
    format!("{} ({what})", op.loc_name())
}

/// Adds the power of `reference` and of `reference − got` to `(signal, noise)`.
fn add_noise(sums: &mut (f64, f64), reference: &[f32], got: &[f32]) {
    for (&x, &y) in reference.iter().zip(got) {
        sums.0 += (x as f64).powi(2);
        sums.1 += (x as f64 - y as f64).powi(2);
    }
}
