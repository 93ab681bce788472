//! `--emit onnx-qdq`: the compiled model as QDQ ONNX carrying nibble's decisions.
//!
//! The exporter rewrites the ONNX model nibble compiled, not the qnt IR: every ONNX node stays
//! the float op it is (onnxruntime runs it, in NCHW), and nibble's decisions are put around it:
//!
//! - the model input and the output of every node an activation result of the qnt level is
//!   located at get `QuantizeLinear` → `DequantizeLinear` with that result's scale and zero
//!   point (int8; int16 for 16-bit results, which raises the opset to 21);
//! - every conv / depthwise / fully connected layer's weights become an int8 initializer of
//!   nibble's integers (transposed back to the ONNX layout) read through a per-channel
//!   `DequantizeLinear` (axis of the output channel), its bias an int32 initializer on the
//!   accumulator's grid (input scale × weight scale) through a `DequantizeLinear`; weights on
//!   a grid narrower than 8 bits stay int8 values inside the narrower range (opset 13, no
//!   int4 packing). A BatchNormalization nibble folded into the conv before it is dropped
//!   (the folded weights carry it); the Add of a MatMul's bias reads nibble's bias.
//! - an activation nibble fused into its layer gets the layer's grid on its own output (the
//!   layer's result stays float, as nibble never rounds it); ReLU and data movement after a
//!   tensor with a grid repeat that grid.
//!
//! What is not nibble's arithmetic: onnxruntime computes each float op between a DQ and a Q
//! in float and rounds once at the Q (half to even), where nibble requantizes with
//! fixed-point multipliers (round half away); activations nibble fuses (ReLU, hard-swish, …)
//! or computes as lookup tables are the model's float ops here; ops inside a layer nibble
//! recognises (LayerNorm's reductions, a squeeze-excite's gate) stay float. The scales are
//! float32 in ONNX, nibble's f64 rounded.

use super::decisions::{ActGrid, Decisions, WeightLayer};
use nibble_frontend::onnx::{
    attribute_proto, AttributeProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
};
use std::collections::{BTreeSet, HashMap};

const FLOAT: i32 = 1;
const INT8: i32 = 3;
const INT16: i32 = 5;
const INT32: i32 = 6;

/// The QDQ model: `model` with nibble's decisions `d` around its nodes.
pub fn export(model: &ModelProto, d: &Decisions) -> Result<ModelProto, String> {
    let mut m = model.clone();
    let g = m.graph.as_mut().ok_or("the model has no graph")?;
    let old = std::mem::take(&mut g.node);
    check_opset(model, &old)?;
    let mut inits: HashMap<String, TensorProto> = g
        .initializer
        .iter()
        .map(|t| (t.name().to_string(), t.clone()))
        .collect();
    // Constant nodes (Paddle's exports keep their weights in them) count as initializers.
    for n in old.iter().filter(|n| n.op_type() == "Constant") {
        if let (Some(t), Some(out)) = (
            n.attribute
                .iter()
                .find(|a| a.name() == "value")
                .and_then(|a| a.t.as_ref()),
            n.output.first(),
        ) {
            inits.insert(out.clone(), t.clone());
        }
    }
    let folded = folded_nodes(&old, d);
    let mut b = Builder::default();
    let mut rename: HashMap<String, String> = HashMap::new();
    if let Some(grid) = d.input {
        let x = g
            .input
            .first()
            .ok_or("the model has no input")?
            .name()
            .to_string();
        let dq = format!("{x}_dq");
        b.qdq(&x, &dq, grid);
        rename.insert(x, dq);
    }
    // The grid of each tensor with a Q/DQ pair, for the data movement after it.
    let mut grids: HashMap<String, ActGrid> = HashMap::new();
    if let (Some(grid), Some(x)) = (d.input, rename.values().next()) {
        grids.insert(x.clone(), grid);
    }
    let mut exported = BTreeSet::new();
    for (i, node) in old.iter().enumerate() {
        if folded.values().any(|&j| j == i) {
            continue;
        }
        let mut node = node.clone();
        for input in &mut node.input {
            if let Some(r) = rename.get(input) {
                *input = r.clone();
            }
        }
        let name = label(&node);
        let mut grid = d.acts.get(&name).copied().or_else(|| {
            KEEPS_GRID
                .contains(&node.op_type())
                .then(|| node.input.first().and_then(|i| grids.get(i)).copied())
                .flatten()
        });
        if let Some(layer) = d.layers.get(&name) {
            let absorbed = folded.get(&i).map(|&j| &old[j]);
            let bias = b.weights(&mut node, layer, &inits, absorbed.is_none())?;
            exported.insert(name.clone());
            match (absorbed, bias) {
                (Some(bn), None) => node.output[0] = bn.output[0].clone(),
                // MatMul + Add of the bias: the Add reads nibble's bias, the grid is the sum's.
                (Some(add), Some(bias)) => {
                    b.nodes.push(node.clone());
                    let mut add = add.clone();
                    add.input = vec![node.output[0].clone(), bias];
                    node = add;
                }
                (None, Some(_)) => {
                    return Err(format!(
                        "node '{name}' (MatMul): nibble's layer has a bias and no Add of a constant reads the MatMul"
                    ))
                }
                (None, None) => {}
            }
        }
        if node.output.is_empty() {
            grid = None;
        }
        let Some(grid) = grid else {
            b.nodes.push(node);
            continue;
        };
        let t = node.output[0].clone();
        grids.insert(t.clone(), grid);
        let float = format!("{t}_float");
        node.output[0] = float.clone();
        b.nodes.push(node);
        b.qdq(&float, &t, grid);
    }
    if let Some(missing) = d.layers.keys().find(|k| !exported.contains(*k)) {
        return Err(format!(
            "nibble's weight layer '{missing}' is no Conv, Gemm or MatMul node of the model; it cannot be exported"
        ));
    }
    g.node = b.nodes;
    g.initializer.extend(b.inits);
    // The float weights replaced: initializers and Constant nodes nothing reads any more.
    let used: BTreeSet<String> = g
        .node
        .iter()
        .flat_map(|n| n.input.iter().cloned())
        .chain(g.output.iter().map(|o| o.name().to_string()))
        .collect();
    g.node
        .retain(|n| n.op_type() != "Constant" || n.output.iter().any(|o| used.contains(o)));
    let kept: Vec<TensorProto> = g
        .initializer
        .iter()
        .filter(|t| used.contains(t.name()))
        .cloned()
        .collect();
    g.initializer = kept;
    let opset = if b.wide { 21 } else { 13 };
    set_opset(&mut m, opset);
    Ok(m)
}

/// The export is opset 13 at least (per-axis DequantizeLinear); refuses a model of an older
/// opset holding an op whose attributes became inputs by 13.
fn check_opset(model: &ModelProto, nodes: &[NodeProto]) -> Result<(), String> {
    let opset = model
        .opset_import
        .iter()
        .find(|o| matches!(o.domain(), "" | "ai.onnx"))
        .map_or(1, |o| o.version());
    if opset >= 13 {
        return Ok(());
    }
    match nodes.iter().find(|n| {
        matches!(n.op_type(), "Squeeze" | "Unsqueeze" | "ReduceSum" | "Split")
            && n.attribute.iter().any(|a| matches!(a.name(), "axes" | "split"))
    }) {
        Some(n) => Err(format!(
            "node '{}' ({}) has the opset {opset} form, which opset 13 (that per-channel DequantizeLinear needs) changed; upgrade the model to opset 13 first",
            label(n),
            n.op_type()
        )),
        None => Ok(()),
    }
}

/// Ops whose output is on their input's grid when nibble gives it none of its own: a ReLU
/// nibble fused into the layer before it (whose grid starts at 0 or below), data movement.
const KEEPS_GRID: &[&str] = &[
    "Relu",
    "MaxPool",
    "Flatten",
    "Reshape",
    "Transpose",
    "Squeeze",
    "Unsqueeze",
];

/// The node's name, or its first output when unnamed (as the importer locates it).
fn label(n: &NodeProto) -> String {
    if n.name().is_empty() {
        n.output.first().cloned().unwrap_or_default()
    } else {
        n.name().to_string()
    }
}

/// Layer node index → index of the node nibble folded into it: the BatchNormalization that
/// alone reads a Conv (in the folded weights), the Add that alone reads a MatMul (its bias).
fn folded_nodes(nodes: &[NodeProto], d: &Decisions) -> HashMap<usize, usize> {
    let mut out = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let absorbs = match n.op_type() {
            "Conv" => "BatchNormalization",
            "MatMul" => "Add",
            _ => continue,
        };
        if !d.layers.contains_key(&label(n)) {
            continue;
        }
        let readers: Vec<usize> = nodes
            .iter()
            .enumerate()
            .filter(|(_, r)| r.input.contains(&n.output[0]))
            .map(|(j, _)| j)
            .collect();
        if let [j] = readers[..] {
            if nodes[j].op_type() == absorbs {
                out.insert(i, j);
            }
        }
    }
    out
}

fn set_opset(m: &mut ModelProto, version: i64) {
    for o in &mut m.opset_import {
        if matches!(o.domain(), "" | "ai.onnx") {
            o.version = Some(o.version().max(version));
            return;
        }
    }
    m.opset_import.push(OperatorSetIdProto {
        domain: Some(String::new()),
        version: Some(version),
    });
}

/// The nodes and initializers being written.
#[derive(Default)]
struct Builder {
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    /// Whether a 16-bit grid needs opset 21.
    wide: bool,
}

impl Builder {
    /// `from` → QuantizeLinear → DequantizeLinear → `to` on `grid`.
    fn qdq(&mut self, from: &str, to: &str, grid: ActGrid) {
        let (scale, zp) = (format!("{to}_scale"), format!("{to}_zero_point"));
        self.inits
            .push(float_tensor(&scale, &[], &[grid.scale as f32]));
        self.inits.push(if grid.bits == 16 {
            self.wide = true;
            int_tensor(&zp, &[], INT16, &(grid.zero_point as i16).to_le_bytes())
        } else {
            int_tensor(&zp, &[], INT8, &[grid.zero_point as i8 as u8])
        });
        let q = format!("{to}_quantized");
        self.nodes
            .push(node("QuantizeLinear", &q, &[from, &scale, &zp], &q, None));
        self.nodes
            .push(node("DequantizeLinear", to, &[&q, &scale, &zp], to, None));
    }

    /// Replaces `n`'s weight and bias inputs with nibble's integers through DequantizeLinear;
    /// for a MatMul, which has no bias input, returns the dequantized bias when not 0. With
    /// `check`, the dequantized weights must be close to the model's float weights (a
    /// guard against a wrong layout; a folded BatchNormalization changes them).
    fn weights(
        &mut self,
        n: &mut NodeProto,
        l: &WeightLayer,
        inits: &HashMap<String, TensorProto>,
        check: bool,
    ) -> Result<Option<String>, String> {
        let name = label(n);
        let w = n
            .input
            .get(1)
            .and_then(|w| inits.get(w))
            .ok_or_else(|| format!("node '{name}': its weights are no initializer"))?;
        let (ints, axis) = onnx_layout(n, l, &w.dims)
            .map_err(|e| format!("node '{name}' ({}): {e}", n.op_type()))?;
        let oc = l.bias.len();
        if check {
            close_to_model(&ints, l, axis, &w.dims, w)
                .map_err(|e| format!("node '{name}': {e}"))?;
        }
        let base = format!("{name}_weight");
        let (scale, zp) = (format!("{base}_scale"), format!("{base}_zero_point"));
        let per = |v: usize| {
            if l.scales.len() == 1 {
                vec![]
            } else {
                vec![v as i64]
            }
        };
        let scales: Vec<f32> = l.scales.iter().map(|&s| s as f32).collect();
        self.inits.push(float_tensor(&scale, &per(oc), &scales));
        self.inits
            .push(int_tensor(&zp, &per(oc), INT8, &vec![0; l.scales.len()]));
        let bytes: Vec<u8> = ints.iter().map(|&v| v as u8).collect();
        self.inits
            .push(int_tensor(&format!("{base}_int8"), &w.dims, INT8, &bytes));
        let axis_attr = (l.scales.len() > 1).then_some(axis);
        self.nodes.push(node(
            "DequantizeLinear",
            &base,
            &[&format!("{base}_int8"), &scale, &zp],
            &base,
            axis_attr,
        ));
        n.input[1] = base;
        if n.op_type() == "MatMul" && l.bias.iter().all(|&b| b == 0) {
            return Ok(None);
        }
        let bias = format!("{name}_bias");
        let bscale: Vec<f32> = if l.bias_scales.len() == 1 {
            vec![l.bias_scales[0] as f32]
        } else {
            l.bias_scales.iter().map(|&s| s as f32).collect()
        };
        let bdims = if bscale.len() == 1 {
            vec![]
        } else {
            vec![oc as i64]
        };
        self.inits
            .push(float_tensor(&format!("{bias}_scale"), &bdims, &bscale));
        let zeros = vec![0u8; 4 * bscale.len()];
        self.inits.push(int_tensor(
            &format!("{bias}_zero_point"),
            &bdims,
            INT32,
            &zeros,
        ));
        let raw: Vec<u8> = l.bias.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.inits.push(int_tensor(
            &format!("{bias}_int32"),
            &[oc as i64],
            INT32,
            &raw,
        ));
        self.nodes.push(node(
            "DequantizeLinear",
            &bias,
            &[
                &format!("{bias}_int32"),
                &format!("{bias}_scale"),
                &format!("{bias}_zero_point"),
            ],
            &bias,
            (bscale.len() > 1).then_some(0),
        ));
        if n.op_type() == "MatMul" {
            return Ok(Some(bias));
        }
        if n.input.len() > 2 {
            n.input[2] = bias;
        } else {
            n.input.push(bias);
        }
        Ok(None)
    }
}

/// nibble's integers in the layout of the ONNX node's weight initializer (`dims`), and the
/// axis of the output channel there.
fn onnx_layout(n: &NodeProto, l: &WeightLayer, dims: &[i64]) -> Result<(Vec<i8>, i64), String> {
    let count: i64 = dims.iter().product();
    if count as usize != l.weights.len() {
        return Err(format!(
            "the model's weights {dims:?} and nibble's {:?} differ in size",
            l.shape
        ));
    }
    let s: Vec<usize> = l.shape.iter().map(|&d| d as usize).collect();
    let gemm_trans_b = n
        .attribute
        .iter()
        .find(|a| a.name() == "transB")
        .map(|a| a.i())
        .unwrap_or(0);
    match (n.op_type(), l.op.as_str()) {
        ("Conv", "qnt.conv2d") => {
            // OHWI → OIHW.
            let (o, kh, kw, i) = (s[0], s[1], s[2], s[3]);
            let mut out = Vec::with_capacity(l.weights.len());
            for oo in 0..o {
                for ii in 0..i {
                    for h in 0..kh {
                        for w in 0..kw {
                            out.push(l.weights[((oo * kh + h) * kw + w) * i + ii]);
                        }
                    }
                }
            }
            Ok((out, 0))
        }
        ("Conv", "qnt.depthwise_conv2d") => {
            // [KH, KW, C, 1] → [C, 1, KH, KW].
            let (kh, kw, c) = (s[0], s[1], s[2]);
            let mut out = Vec::with_capacity(l.weights.len());
            for cc in 0..c {
                for h in 0..kh {
                    for w in 0..kw {
                        out.push(l.weights[(h * kw + w) * c + cc]);
                    }
                }
            }
            Ok((out, 0))
        }
        ("Gemm", "qnt.fully_connected") if gemm_trans_b == 1 => Ok((l.weights.clone(), 0)),
        ("Gemm" | "MatMul", "qnt.fully_connected") => {
            // [OC, IC] → [IC, OC].
            let (oc, ic) = (s[0], s[1]);
            let out = (0..ic)
                .flat_map(|i| (0..oc).map(move |o| (o, i)))
                .map(|(o, i)| l.weights[o * ic + i])
                .collect();
            Ok((out, 1))
        }
        (op, q) => Err(format!(
            "nibble computes it as {q}, which has no export to {op}"
        )),
    }
}

/// The dequantized integers are within 0.9 of the weights' norm of the model's float
/// weights (ternary and binary grids are 0.4–0.6 away; a transposed layout about 1.4).
fn close_to_model(
    ints: &[i8],
    l: &WeightLayer,
    axis: i64,
    dims: &[i64],
    w: &TensorProto,
) -> Result<(), String> {
    let float = float_data(w)?;
    let inner: i64 = dims[axis as usize + 1..].iter().product();
    let channels = dims[axis as usize];
    let (mut err, mut norm) = (0f64, 0f64);
    for (k, (&q, &x)) in ints.iter().zip(&float).enumerate() {
        let c = (k as i64 / inner % channels) as usize;
        let s = l.scales[if l.scales.len() == 1 { 0 } else { c }];
        err += (q as f64 * s - x as f64).powi(2);
        norm += (x as f64).powi(2);
    }
    if err > 0.81 * norm {
        return Err(format!(
            "nibble's weights are not the model's (relative error {:.2}); the layer cannot be exported",
            (err / norm.max(1e-30)).sqrt()
        ));
    }
    Ok(())
}

fn float_data(t: &TensorProto) -> Result<Vec<f32>, String> {
    match (&t.raw_data, t.data_type()) {
        (Some(raw), FLOAT) if !raw.is_empty() => Ok(raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()),
        (_, FLOAT) => Ok(t.float_data.clone()),
        (_, other) => Err(format!(
            "weights '{}' are of data type {other}, not float",
            t.name()
        )),
    }
}

fn float_tensor(name: &str, dims: &[i64], v: &[f32]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(FLOAT),
        raw_data: Some(v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        ..Default::default()
    }
}

fn int_tensor(name: &str, dims: &[i64], ty: i32, raw: &[u8]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(ty),
        raw_data: Some(raw.to_vec()),
        ..Default::default()
    }
}

fn node(op: &str, name: &str, inputs: &[&str], output: &str, axis: Option<i64>) -> NodeProto {
    NodeProto {
        op_type: Some(op.into()),
        name: Some(name.into()),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        attribute: axis
            .map(|a| AttributeProto {
                name: Some("axis".into()),
                r#type: Some(attribute_proto::AttributeType::Int as i32),
                i: Some(a),
                ..Default::default()
            })
            .into_iter()
            .collect(),
        ..Default::default()
    }
}
