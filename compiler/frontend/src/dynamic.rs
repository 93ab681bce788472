//! onnxruntime's dynamically quantized models (`quantize_dynamic`), rewritten before import into
//! float layers whose weights keep the model's grids. Dynamic quantization computes an
//! activation's scale at run time, which an integer-only program cannot; nibble gives those
//! activations static grids instead (calibrated on `--calib`, or data-free), and honours the
//! weights' integers and scales exactly as in a QDQ model (`ops/qdq.rs`).
//!
//! The pattern onnxruntime writes for each quantized layer, and what it becomes:
//!
//! Before: `(xq, xs, xz) = DynamicQuantizeLinear(x); s = Mul(xs, ws);
//!          yi = ConvInteger(xq, wq, xz, wz); yf = Cast(yi, to float); y = Mul(yf, s)`
//! After:  `w = DequantizeLinear(wq, ws, wz); y = Conv(x, w)` (MatMulInteger likewise)
//!
//! Any other use of a DynamicQuantizeLinear's outputs, or of an integer layer's result, is a
//! clear error naming the node.

use crate::onnx::NodeProto;
use crate::qoperator::node;
use crate::tensor::Const;
use crate::ImportError;
use std::collections::{HashMap, HashSet};

const DYNAMIC: &str = "DynamicQuantizeLinear";
const PATTERN: &str = "nibble reads dynamic quantization only in onnxruntime's pattern DynamicQuantizeLinear → ConvInteger/MatMulInteger → Cast to float → Mul by x_scale·w_scale, and gives the activations static grids";

/// The graph's nodes with every dynamically quantized layer rewritten (nodes unchanged when
/// the model has none).
pub(crate) fn rewrite(
    nodes: &[NodeProto],
    consts: &HashMap<String, Const>,
) -> Result<Vec<NodeProto>, ImportError> {
    if !nodes
        .iter()
        .any(|n| is_integer_layer(n) || n.op_type() == DYNAMIC)
    {
        return Ok(nodes.to_vec());
    }
    let mut readers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        for x in n.input.iter().filter(|x| !x.is_empty()) {
            readers.entry(x.as_str()).or_default().push(i);
        }
    }
    // The float tensor each DynamicQuantizeLinear output stands for.
    let mut quantized: HashMap<&str, (&str, usize)> = HashMap::new();
    for n in nodes.iter().filter(|n| n.op_type() == DYNAMIC) {
        let x = n.input.first().map(String::as_str).unwrap_or_default();
        for (k, o) in n.output.iter().enumerate() {
            quantized.insert(o.as_str(), (x, k));
        }
        if n.output.len() != 3 || x.is_empty() {
            return Err(error(
                n,
                "needs one input and three outputs (y, y_scale, y_zero_point)".into(),
            ));
        }
    }
    let mut replaced: HashMap<usize, Vec<NodeProto>> = HashMap::new();
    let mut dropped: HashSet<usize> = HashSet::new();
    let mut scale_muls = Vec::new();
    for (i, n) in nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| is_integer_layer(n))
    {
        let layer = Layer::find(nodes, &readers, &quantized, consts, n)?;
        dropped.extend([layer.cast, layer.mul]);
        scale_muls.push(layer.scale_mul);
        replaced.insert(i, layer.nodes(n));
    }
    // A scale product goes when only the dropped scaling Muls read it.
    for s in scale_muls {
        let read = nodes[s].output.iter().flat_map(|o| readers.get(o.as_str()));
        if read.flatten().all(|r| dropped.contains(r)) {
            dropped.insert(s);
        }
    }
    let mut out = Vec::with_capacity(nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        if let Some(new) = replaced.remove(&i) {
            out.extend(new);
        } else if !dropped.contains(&i) && n.op_type() != DYNAMIC {
            if let Some(x) = n.input.iter().find(|x| quantized.contains_key(x.as_str())) {
                return Err(error(
                    n,
                    format!("it reads '{x}', an output of {DYNAMIC}: {PATTERN}"),
                ));
            }
            out.push(n.clone());
        }
    }
    Ok(out)
}

fn is_integer_layer(n: &NodeProto) -> bool {
    matches!(n.op_type(), "ConvInteger" | "MatMulInteger")
}

fn error(n: &NodeProto, msg: String) -> ImportError {
    ImportError::Node {
        op: n.op_type().to_string(),
        node: if n.name().is_empty() {
            n.output.first().cloned().unwrap_or_default()
        } else {
            n.name().to_string()
        },
        msg,
    }
}

/// One matched layer: its float input, weights and their grid, and the nodes it replaces.
struct Layer<'a> {
    x: &'a str,
    w: &'a str,
    w_scale: &'a str,
    w_zero_point: Option<&'a str>,
    y: &'a str,
    cast: usize,
    mul: usize,
    scale_mul: usize,
}

impl<'a> Layer<'a> {
    fn find(
        nodes: &'a [NodeProto],
        readers: &HashMap<&str, Vec<usize>>,
        quantized: &HashMap<&'a str, (&'a str, usize)>,
        consts: &HashMap<String, Const>,
        n: &'a NodeProto,
    ) -> Result<Self, ImportError> {
        let fail = |what: &str| Err(error(n, format!("{what}: {PATTERN}")));
        let input = |i: usize| n.input.get(i).map(String::as_str).unwrap_or_default();
        let Some(&(x, 0)) = quantized.get(input(0)) else {
            return fail("its input is not a DynamicQuantizeLinear's result");
        };
        let (w, w_zero_point) = (input(1), Some(input(3)).filter(|z| !z.is_empty()));
        if !consts.contains_key(w) {
            return fail("its weights are not a constant");
        }
        let only_reader = |t: &str| match readers.get(t).map(Vec::as_slice) {
            Some(&[r]) => Some(r),
            _ => None,
        };
        let y_int = n.output.first().map(String::as_str).unwrap_or_default();
        let Some(cast) = only_reader(y_int).filter(|&c| {
            let c = &nodes[c];
            c.op_type() == "Cast" && c.attribute.iter().any(|a| a.name() == "to" && a.i() == 1)
        }) else {
            return fail("its integer result is not read by one Cast to float");
        };
        let y_float = nodes[cast]
            .output
            .first()
            .map(String::as_str)
            .unwrap_or_default();
        let Some(mul) = only_reader(y_float).filter(|&m| nodes[m].op_type() == "Mul") else {
            return fail("the Cast is not read by one Mul");
        };
        let m = &nodes[mul];
        let s = m.input.iter().find(|i| i.as_str() != y_float);
        let scale_mul = nodes
            .iter()
            .position(|p| p.op_type() == "Mul" && s.is_some_and(|s| p.output.contains(s)));
        let Some(scale_mul) = scale_mul else {
            return fail("the result is not scaled by a Mul of x_scale and w_scale");
        };
        let sm = &nodes[scale_mul];
        let x_scale_ok = sm
            .input
            .iter()
            .any(|i| quantized.get(i.as_str()) == Some(&(x, 1)));
        let w_scale = sm.input.iter().find(|i| consts.contains_key(i.as_str()));
        let (true, Some(w_scale)) = (x_scale_ok, w_scale) else {
            return fail(
                "the scale is not the product of this input's x_scale and a constant w_scale",
            );
        };
        let y = m.output.first().map(String::as_str).unwrap_or_default();
        Ok(Layer {
            x,
            w,
            w_scale,
            w_zero_point,
            y,
            cast,
            mul,
            scale_mul,
        })
    }

    /// `DequantizeLinear` of the weights (per output channel: axis 0 of conv weights, the last
    /// of a matrix) and the float layer, which keeps the node's name and attributes.
    fn nodes(&self, n: &NodeProto) -> Vec<NodeProto> {
        let conv = n.op_type() == "ConvInteger";
        let name = if n.name().is_empty() {
            self.y
        } else {
            n.name()
        };
        let w = format!("{name}/w");
        let mut grid = vec![self.w.to_string(), self.w_scale.to_string()];
        grid.extend(self.w_zero_point.map(str::to_string));
        let dq = node(
            "DequantizeLinear",
            &format!("{name}/dequantize w"),
            &grid,
            &w,
            Some(if conv { 0 } else { -1 }),
        );
        let op = if conv { "Conv" } else { "MatMul" };
        let mut layer = node(op, name, &[self.x.to_string(), w], self.y, None);
        layer.attribute = n.attribute.clone();
        vec![dq, layer]
    }
}
