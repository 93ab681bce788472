//! nibble's quantization decisions as the exporters need them, read from the qnt level
//! (`model.quant.mlir` after `nibble-fold-requant`): the grid of every activation tensor
//! (its `!quant.uniform` element type), keyed by the ONNX node its op is located at, and every
//! weight layer's integer weights, per-channel scales and int32 bias.

use nibble_ir::{Attr, Elem, Func, Op, Type};
use std::collections::BTreeMap;

/// A per-tensor activation grid: `real = scale · (q − zero_point)`, q of `bits` (8 or 16).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActGrid {
    pub bits: u32,
    pub scale: f64,
    pub zero_point: i64,
}

/// A conv, depthwise conv or fully connected layer's stored integers, in the qnt layout
/// (conv OHWI, depthwise [KH, KW, C, 1], fully connected [OC, IC]).
#[derive(Clone, Debug)]
pub struct WeightLayer {
    /// The qnt op (`qnt.conv2d`, `qnt.depthwise_conv2d`, `qnt.fully_connected`).
    pub op: String,
    pub shape: Vec<i64>,
    pub weights: Vec<i8>,
    /// One scale per output channel (one for a per-tensor grid).
    pub scales: Vec<f64>,
    /// The int32 bias on the accumulator's grid (input scale × weight scale per channel).
    pub bias: Vec<i32>,
    /// The accumulator's scale per channel (one for a per-tensor grid).
    pub bias_scales: Vec<f64>,
}

/// Everything an exporter carries over from the qnt level.
#[derive(Debug, Default)]
pub struct Decisions {
    /// The grid the model input is quantized to.
    pub input: Option<ActGrid>,
    /// The grid of the last activation result located at each ONNX node.
    pub acts: BTreeMap<String, ActGrid>,
    /// The weight layers by ONNX node.
    pub layers: BTreeMap<String, WeightLayer>,
    /// Layers whose integer weights the exporters do not carry (transposed convolutions,
    /// squeeze-excite gates): `node (qnt op)`.
    pub float_layers: Vec<String>,
}

/// qnt ops with weights of their own that the ONNX export leaves to the model's float ops.
const UNEXPORTED_WEIGHTS: &[&str] = &["qnt.transpose_conv2d", "qnt.squeeze_excite"];

/// Reads the decisions of a qnt-level function `f` compiled from the graph-level `graph`.
/// An activation nibble fused into the layer before it (`nibble.fused` at the graph level) is
/// no op of the qnt level: the layer's requantization, located at the layer, computes it, so
/// its grid is moved to the activation's node, the layer's own result staying unrounded.
pub fn read(graph: &Func, f: &Func) -> Result<Decisions, String> {
    let mut d = read_qnt(f)?;
    let producers = graph.producers();
    for op in graph
        .ops
        .iter()
        .filter(|o| o.attrs.contains_key(nibble_graph::attrs::FUSED))
    {
        let Some(layer) = op.operands.first().and_then(|&v| producers[v]) else {
            continue;
        };
        if let Some(g) = d.acts.remove(&graph.ops[layer].loc_name()) {
            d.acts.insert(op.loc_name(), g);
        }
    }
    Ok(d)
}

fn read_qnt(f: &Func) -> Result<Decisions, String> {
    if f.args.len() != 1 {
        return Err(format!(
            "the model has {} inputs; the exporters take one",
            f.args.len()
        ));
    }
    let producers = f.producers();
    let mut d = Decisions::default();
    for op in &f.ops {
        let loc = op.loc_name();
        match op.name.as_str() {
            "qnt.const" | "qnt.dequantize" => continue,
            // The model input's (through data movement at most: NCHW → NHWC).
            "qnt.quantize" => {
                if d.input.is_none() {
                    d.input = act_grid(f.ty(op.results[0]));
                }
                continue;
            }
            "qnt.conv2d" | "qnt.depthwise_conv2d" | "qnt.fully_connected" => {
                let konst = |i: usize| {
                    producers[op.operands[i]]
                        .map(|p| &f.ops[p])
                        .filter(|p| p.name == "qnt.const")
                        .ok_or_else(|| {
                            format!("{} at {loc}: operand {i} is not a constant", op.name)
                        })
                };
                let layer = weight_layer(op, f, konst(1)?, konst(2)?)?;
                if d.layers.insert(loc.clone(), layer).is_some() {
                    return Err(format!(
                        "node '{loc}' is more than one weight layer at the qnt level (a grouped convolution?); it cannot be exported"
                    ));
                }
            }
            name if UNEXPORTED_WEIGHTS.contains(&name) => {
                d.float_layers.push(format!("{loc} ({name})"));
            }
            _ => {}
        }
        if let Some(g) = op.results.first().and_then(|&r| act_grid(f.ty(r))) {
            d.acts.insert(loc, g);
        }
    }
    Ok(d)
}

/// The grid of an 8- or 16-bit per-tensor quantized type.
fn act_grid(t: &Type) -> Option<ActGrid> {
    t.quant()
        .filter(|q| q.bits == 8 || q.bits == 16)
        .map(|q| ActGrid {
            bits: q.bits,
            scale: q.scale,
            zero_point: q.zero_point,
        })
}

fn weight_layer(op: &Op, f: &Func, w: &Op, b: &Op) -> Result<WeightLayer, String> {
    let loc = op.loc_name();
    let wt = f.ty(w.results[0]);
    let scales = match wt.elem() {
        Some(Elem::QuantAxis(q)) => q.scales.clone(),
        Some(Elem::Quant(q)) if q.zero_point == 0 => vec![q.scale],
        _ => {
            return Err(format!(
                "{} at {loc}: weights are not on a symmetric grid",
                op.name
            ))
        }
    };
    let weights: Vec<i8> = match w.attrs.get("value") {
        Some(Attr::Dense(t, bytes)) if t.elem() == Some(&Elem::Int(8)) => {
            bytes.iter().map(|&b| b as i8).collect()
        }
        _ => {
            return Err(format!(
                "{} at {loc}: weights are not int8 constants",
                op.name
            ))
        }
    };
    let bias_scales = match f.ty(b.results[0]).elem() {
        Some(Elem::QuantAxis(q)) => q.scales.clone(),
        Some(Elem::Quant(q)) => vec![q.scale],
        _ => return Err(format!("{} at {loc}: the bias has no grid", op.name)),
    };
    let bias: Vec<i32> = match b.attrs.get("value") {
        Some(Attr::Dense(t, bytes)) if t.elem() == Some(&Elem::Int(32)) => {
            nibble_ir::model::dense_i32(bytes)
        }
        _ => return Err(format!("{} at {loc}: bias is not int32 constants", op.name)),
    };
    Ok(WeightLayer {
        op: op.name.clone(),
        shape: wt.shape().unwrap_or(&[]).to_vec(),
        weights,
        scales,
        bias,
        bias_scales,
    })
}
