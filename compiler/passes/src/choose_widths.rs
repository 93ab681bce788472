//! `nibble-choose-widths{scheme=… granularity=… widths=8,4,… avg-weight-bits=B
//! max-weight-bytes=N act-budget=F wide=true|false}`: every weight layer's width and every
//! tensor's storage width, chosen by the width e-graph (`nibble_eqsat::widths`).
//!
//! Precondition: the graph carries the measured noise of each choice (`nibble.weight_noise` on
//! weight layers, `nibble.act_noise` on rounded results; `nibble_quantize::sensitivity`). The
//! pass describes the program as a width problem — its tensors (elements, noise, whether kernels
//! allow 16 bits: written and read only by ops with 16-bit kernels, as the qnt level says), its
//! ops (weight layers — squeeze-excites too, their two matrices on one grid — with their
//! parameters, MACs and measured noise per width; ops that round;
//! ops that only move values) — saturates the e-graph and extracts least predicted output noise
//! under the budgets: the weight bytes (`avg-weight-bits`: the average over all weight values,
//! layers nibble cannot narrow counted at 8; or `max-weight-bytes`) and the activation bytes
//! 16-bit tensors add (`act-budget`: a fraction of the most activation bytes live at once).
//! Postcondition: `nibble.weight_bits = "4"` (8, 4, 2, ternary, binary) on every weight layer
//! and `nibble.bits = 16` on the tensors stored in 16 bits, which `nibble-quantize` honours.
//!
//! Before:
//! ```mlir
//! %3 = tosa.conv2d %x, %w, %b, … {nibble.act_noise = dense<[2.1e-05, 3.2e-10]> : tensor<2xf32>,
//!        nibble.weight_noise = dense<[1.0e-06, 4.0e-05, 9.0e-04, 8.0e-04, 3.0e-03]> : tensor<5xf32>}
//! ```
//! After (`avg-weight-bits=4`):
//! ```mlir
//! %3 = tosa.conv2d %x, %w, %b, … {…, nibble.weight_bits = "4"}
//! ```

use crate::{Options, PassInfo};
use nibble_eqsat::widths::{self, Budget, Layer, OpDesc, OpKind, Problem, Solution, Value};
use nibble_graph::{attrs, tosa};
use nibble_ir::{Attr, Func};
use nibble_lower::to_qnt::{to_qnt_mapped, QuantConfig};
use nibble_lower::widths::wide_problem;
use nibble_quantize::sensitivity::{fused_readers, rounds, weight_operands};
use nibble_quantize::{peak_activation_bytes, WeightWidth};

pub const PASS: PassInfo = PassInfo {
    name: "nibble-choose-widths",
    summary:
        "Choose weight widths (8/4/2/ternary/binary) and 16-bit tensors with the width e-graph",
    run,
};

/// The weight budget.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WeightBudget {
    /// No limit: the least noise (every layer at 8 bits).
    None,
    /// Average bits over all weight values.
    AverageBits(f64),
    /// Bytes of all weights.
    Bytes(f64),
}

/// What the choice may do.
#[derive(Clone, Debug)]
pub struct WidthOptions {
    pub weights: WeightBudget,
    /// The widths weight layers may take (the target's).
    pub widths: Vec<WeightWidth>,
    /// Whether tensors may be 16-bit, and the fraction the activation bytes may grow.
    pub wide: bool,
    pub act_budget: f64,
    /// MACs per cycle at each width of [`WeightWidth::ALL`] (the target's; for tie-breaks).
    pub macs_per_cycle: [f64; 5],
    /// Layers whose width is given (`--weight-bits NAME=W`): op index and width.
    pub fixed: Vec<(usize, WeightWidth)>,
    /// Layers (op indices) that may not go below 4 bits (`nibble_quantize::sensitivity::
    /// end_layers`: the first layer and the heads, where the measured noise misleads most).
    pub floor4: Vec<usize>,
}

/// One weight layer's choice, for messages, the manifest and `nibble explain`.
#[derive(Clone, Debug)]
pub struct LayerChoice {
    /// The graph op, and the op's index in the width problem.
    pub op: usize,
    problem_op: usize,
    pub name: String,
    pub width: WeightWidth,
    pub params: u64,
    pub macs: u64,
    /// Measured noise at each width of [`WeightWidth::ALL`].
    pub noise: [f64; 5],
    pub allowed: Vec<WeightWidth>,
}

/// The outcome: the marked graph, each layer's choice, the tensors made 16-bit, the totals.
#[derive(Clone, Debug)]
pub struct Widths {
    pub graph: Func,
    pub layers: Vec<LayerChoice>,
    pub wide: Vec<String>,
    pub solution: Solution,
    /// Bytes of weights nibble keeps at 8 bits (layers it cannot narrow).
    pub fixed_weight_bytes: u64,
    pub weight_values: u64,
}

#[tracing::instrument(skip_all, name = "nibble-choose-widths")]
fn run(f: &Func, opts: &Options) -> Result<Func, String> {
    let cfg = crate::quantize::config(opts)?;
    let number = |key: &str| -> Result<Option<f64>, String> {
        opts.get(key)
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .ok_or_else(|| format!("{key} must be a non-negative number, got '{v}'"))
            })
            .transpose()
    };
    let weights = match (number("avg-weight-bits")?, number("max-weight-bytes")?) {
        (Some(b), None) => WeightBudget::AverageBits(b),
        (None, Some(n)) => WeightBudget::Bytes(n),
        (None, None) => WeightBudget::None,
        _ => return Err("give avg-weight-bits or max-weight-bytes, not both".into()),
    };
    let widths = match opts.get("widths") {
        None => WeightWidth::ALL.to_vec(),
        Some(list) => list
            .split(',')
            .map(|w| w.trim().parse())
            .collect::<Result<Vec<WeightWidth>, String>>()?,
    };
    let o = WidthOptions {
        weights,
        widths,
        wide: opts.get("wide") != Some("false"),
        act_budget: number("act-budget")?.unwrap_or(1.0),
        macs_per_cycle: [1.0; 5],
        fixed: Vec::new(),
        floor4: Vec::new(),
    };
    Ok(choose_widths(f, &cfg, &o)?.graph)
}

/// The elements of a value's static shape.
fn elements(f: &Func, v: usize) -> u64 {
    f.ty(v)
        .shape()
        .map_or(1, |s| s.iter().product::<i64>().max(0) as u64)
}

/// Values whose kernels allow 16 bits (see the module doc).
fn wide_values(f: &Func, cfg: &QuantConfig) -> Result<Vec<bool>, String> {
    let (q8, map) = to_qnt_mapped(f, cfg).map_err(|e| e.to_string())?;
    let mut wide = vec![false; f.values.len()];
    for op in &f.ops {
        let Some(&r) = op.results.first() else {
            continue;
        };
        let Some(&v) = map.get(&r) else { continue };
        let aliases = q8
            .ops
            .iter()
            .any(|q| q.results.contains(&v) && q.name == nibble_qnt::RESHAPE);
        wide[r] =
            op.attrs.contains_key(attrs::ACT_NOISE) && !aliases && wide_problem(&q8, v).is_none();
    }
    Ok(wide)
}

/// The width problem of `f` (see the module doc), and each weight layer's facts.
fn problem(
    f: &Func,
    wide: &[bool],
    o: &WidthOptions,
) -> Result<(Problem, Vec<LayerChoice>), String> {
    let producers = f.producers();
    let is_const = |v: usize| producers[v].is_some_and(|p| tosa::is_constant(&f.ops[p].name));
    let fused = fused_readers(f);
    let noise = |op: &nibble_ir::Op, key: &str, n: usize| -> Result<Option<Vec<f64>>, String> {
        match op.dense_f32(key) {
            None => Ok(None),
            Some(v) if v.len() == n => Ok(Some(v.iter().map(|&x| x as f64).collect())),
            Some(v) => Err(format!(
                "'{}' at {}: {key} has {} values, not {n}",
                op.name,
                op.loc_name(),
                v.len()
            )),
        }
    };
    let mut values: Vec<Value> = (0..f.values.len())
        .map(|v| Value {
            elements: elements(f, v),
            noise: [0.0, 0.0],
            readers: 0,
            wide: o.wide && wide[v],
        })
        .collect();
    let mut ops = Vec::new();
    let mut layers = Vec::new();
    for (i, op) in f.ops.iter().enumerate() {
        if is_const(op.results[0]) || op.results.len() != 1 {
            continue;
        }
        let out = op.results[0];
        if let Some(n) = noise(op, attrs::ACT_NOISE, 2)? {
            values[out].noise = [n[0], n[1]];
        }
        let kind = match noise(op, attrs::WEIGHT_NOISE, 5)? {
            Some(n) => {
                let weights = weight_operands(f, i);
                let params: u64 = (weights.iter())
                    .filter_map(|&k| op.operands.get(k))
                    .map(|&v| elements(f, v))
                    .sum();
                // Each output value takes params / (output channels) MACs; a squeeze-excite's
                // weights multiply the channel means once.
                let channels = f
                    .ty(out)
                    .shape()
                    .and_then(|s| s.last())
                    .map_or(1, |&c| c.max(1) as u64);
                let macs = match weights {
                    [_, _] => params,
                    _ => elements(f, out) * params / channels,
                };
                let layer = Layer {
                    params,
                    macs,
                    widths: match o.fixed.iter().find(|(j, _)| *j == i) {
                        Some(&(_, w)) => vec![w],
                        None if o.floor4.contains(&i) => {
                            let wide: Vec<WeightWidth> = (o.widths.iter())
                                .filter(|w| w.storage_bits() >= 4)
                                .copied()
                                .collect();
                            if wide.is_empty() {
                                o.widths.clone()
                            } else {
                                wide
                            }
                        }
                        None => o.widths.clone(),
                    },
                    noise: [n[0], n[1], n[2], n[3], n[4]],
                    macs_per_cycle: o.macs_per_cycle,
                };
                layers.push(LayerChoice {
                    op: i,
                    problem_op: ops.len(),
                    name: op.loc_name(),
                    width: WeightWidth::W8,
                    params,
                    macs: layer.macs,
                    noise: layer.noise,
                    allowed: layer.widths.clone(),
                });
                OpKind::Layer(layer)
            }
            None if rounds(f, i, &fused) || op.attrs.contains_key(attrs::ACT_NOISE) => {
                OpKind::Rounding
            }
            None => OpKind::Moving,
        };
        let inputs: Vec<u32> = op
            .operands
            .iter()
            .filter(|&&v| !is_const(v))
            .map(|&v| v as u32)
            .collect();
        ops.push(OpDesc {
            name: format!("{} {}", op.name, op.loc_name()),
            wide_inputs: inputs.iter().map(|&v| values[v as usize].wide).collect(),
            wide_output: values[out].wide,
            inputs,
            output: out as u32,
            kind,
        });
    }
    let problem = Problem {
        values,
        args: f.args.iter().map(|&a| a as u32).collect(),
        ops,
        outputs: f.returns.iter().map(|&r| r as u32).collect(),
    };
    Ok((problem, layers))
}

/// Bytes of every weight constant of `f` at 8 bits (one byte per value), and their count.
fn all_weight_values(f: &Func, layers: &[LayerChoice]) -> (u64, u64) {
    let producers = f.producers();
    let mut total = 0u64;
    for op in &f.ops {
        if !matches!(
            op.name.as_str(),
            "tosa.conv2d"
                | "tosa.depthwise_conv2d"
                | "tosa.transpose_conv2d"
                | "tosa.matmul"
                | "tosa.custom"
        ) {
            continue;
        }
        for &v in op.operands.iter().skip(1) {
            let constant = producers[v].is_some_and(|p| f.ops[p].name == tosa::CONST);
            let shape = f.ty(v).shape().unwrap_or(&[]);
            // Weights: constants of rank 2 or more (biases are vectors).
            if constant && shape.len() >= 2 {
                total += elements(f, v);
            }
        }
    }
    let choosable: u64 = layers.iter().map(|l| l.params).sum();
    (total.saturating_sub(choosable), total)
}

/// Chooses the widths of `f` under `o` (see the module doc).
pub fn choose_widths(f: &Func, cfg: &QuantConfig, o: &WidthOptions) -> Result<Widths, String> {
    let wide = wide_values(f, cfg)?;
    let (problem, mut layers) = problem(f, &wide, o)?;
    let (fixed, total) = all_weight_values(f, &layers);
    let weight_bytes = match o.weights {
        WeightBudget::None => None,
        WeightBudget::AverageBits(b) => Some(b * total as f64 / 8.0 - fixed as f64),
        WeightBudget::Bytes(n) => Some(n - fixed as f64),
    };
    let none = vec![false; f.values.len()];
    let budget = Budget {
        weight_bytes,
        extra_act_bytes: Some(o.act_budget * peak_activation_bytes(f, &none) as f64),
    };
    let solution = widths::solve(&problem, &budget).map_err(|e| match e {
        widths::WidthError::Infeasible => {
            let least: u64 = layers
                .iter()
                .map(|l| {
                    let w = l.allowed.iter().map(|w| w.storage_bits()).min().unwrap_or(8);
                    (l.params * w as u64).div_ceil(8)
                })
                .sum::<u64>()
                + fixed;
            format!(
                "no choice of widths fits the weight budget: the smallest reachable is {least} bytes ({:.2} average bits over {total} weights)",
                8.0 * least as f64 / total.max(1) as f64
            )
        }
        e => e.to_string(),
    })?;
    let mut g = f.clone();
    for l in &mut layers {
        let Some(form) = solution.forms[l.problem_op] else {
            continue;
        };
        l.width = form.weights.unwrap_or(WeightWidth::W8);
        g.ops[l.op]
            .attrs
            .insert(attrs::WEIGHT_BITS.into(), Attr::Str(l.width.name().into()));
    }
    let mut wide_names = Vec::new();
    for (i, op) in f.ops.iter().enumerate() {
        if op.results.first().is_some_and(|&r| solution.wide[r]) {
            g.ops[i].attrs.insert(attrs::BITS.into(), Attr::i64(16));
            wide_names.push(op.loc_name());
        }
    }
    Ok(Widths {
        graph: g,
        layers,
        wide: wide_names,
        solution,
        fixed_weight_bytes: fixed,
        weight_values: total,
    })
}
