//! The importer's state while it walks the graph, and what a lowering reads from the node at
//! hand: its inputs (activations or constants), its attributes (range-checked before use),
//! the shapes of values, and errors that name the node.
//!
//! Writing graph-level ops is in `emit.rs`; each ONNX op's lowering is in `ops/`.

use crate::onnx::{AttributeProto, NodeProto};
use crate::ops::qdq::{ActGrid, WeightGrid};
use crate::tensor::Const;
use crate::ImportError;
use nibble_ir::{Func, ValueId};
use std::collections::HashMap;

/// The largest stride, dilation, kernel size, pad or group an attribute may hold.
const MAX_WINDOW: i64 = 1 << 16;
/// The most elements one tensor of the graph may hold (2^28: 1 GiB of float32).
const MAX_ELEMENTS: i64 = 1 << 28;

/// A value of the graph being built, with its layout.
#[derive(Clone, Copy)]
pub(crate) struct Val {
    pub id: ValueId,
    /// True when the ONNX tensor is NCHW but is stored NHWC at the graph level.
    pub nhwc: bool,
}

/// The function being built and what is known of the ONNX names so far.
pub(crate) struct Importer<'a> {
    pub f: Func,
    /// ONNX tensor name → graph value, for tensors computed at run time.
    pub vals: HashMap<String, Val>,
    /// ONNX tensor name → constant, for initializers, Constants and folded shape computations.
    pub consts: HashMap<String, Const>,
    /// The node being imported (a placeholder while the graph outputs are returned).
    pub node: &'a NodeProto,
    /// The shared zero point operand of tosa convolutions, pools and matmuls, once made.
    pub zero: Option<ValueId>,
    /// The opset of the default ONNX domain.
    pub opset: i64,
    /// Integer constants (initializers, QuantizeLinear of constants) → their ONNX element type.
    pub int_types: HashMap<String, i32>,
    /// Quantized run-time tensors (QuantizeLinear outputs, data movement on them) → their grid.
    pub qgrids: HashMap<String, ActGrid>,
    /// Constants a DequantizeLinear made of integers → the grid of those integers.
    pub wgrids: HashMap<String, WeightGrid>,
}

impl<'a> Importer<'a> {
    /// The node's name, or its first output where the exporter left the name empty.
    pub fn label(&self) -> String {
        if self.node.name().is_empty() {
            self.node.output.first().cloned().unwrap_or_default()
        } else {
            self.node.name().to_string()
        }
    }
    /// An error about the current node.
    pub fn err(&self, msg: impl Into<String>) -> ImportError {
        ImportError::Node {
            op: self.node.op_type().to_string(),
            node: self.label(),
            msg: msg.into(),
        }
    }
    pub fn attr(&self, name: &str) -> Option<&'a AttributeProto> {
        self.node.attribute.iter().find(|a| a.name() == name)
    }
    pub fn ints(&self, name: &str, default: &[i64]) -> Vec<i64> {
        self.attr(name)
            .map(|a| a.ints.clone())
            .unwrap_or_else(|| default.to_vec())
    }
    pub fn int(&self, name: &str, default: i64) -> i64 {
        self.attr(name).and_then(|a| a.i).unwrap_or(default)
    }
    pub fn float(&self, name: &str, default: f32) -> f32 {
        self.attr(name).and_then(|a| a.f).unwrap_or(default)
    }
    pub fn string(&self, name: &str) -> Option<String> {
        self.attr(name)
            .and_then(|a| a.s.as_ref())
            .map(|s| String::from_utf8_lossy(s).into_owned())
    }
    /// True when the node has a non-empty input `i` (optional inputs may be left empty).
    pub fn has_input(&self, i: usize) -> bool {
        self.node.input.get(i).is_some_and(|n| !n.is_empty())
    }
    /// The name of input `i`, which must be given.
    fn input_name(&self, i: usize) -> Result<&'a String, ImportError> {
        let node = self.node;
        node.input
            .get(i)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| self.err(format!("input {i} is missing")))
    }
    /// Input `i` as a run-time value.
    pub fn input(&self, i: usize) -> Result<Val, ImportError> {
        let name = self.input_name(i)?;
        self.vals.get(name).copied().ok_or_else(|| self.err(format!("input '{name}' is not defined before this node (missing initializer, or the graph is cyclic or not topologically sorted)")))
    }
    /// Input `i` as a constant.
    pub fn konst(&self, i: usize) -> Result<Const, ImportError> {
        let name = self.input_name(i)?;
        self.consts.get(name).cloned().ok_or_else(|| {
            self.err(format!(
                "input '{name}' must be a constant (an initializer)"
            ))
        })
    }
    /// Input `i` as a constant when the node gives it (optional inputs).
    pub fn konst_opt(&self, i: usize) -> Result<Option<Const>, ImportError> {
        if self.has_input(i) {
            self.konst(i).map(Some)
        } else {
            Ok(None)
        }
    }
    /// The shape of a graph value (empty for a non-tensor).
    pub fn shape(&self, v: ValueId) -> Vec<i64> {
        self.f.ty(v).shape().unwrap_or(&[]).to_vec()
    }
    /// The ONNX-layout shape of a value.
    pub fn onnx_shape(&self, v: Val) -> Vec<i64> {
        let s = self.shape(v.id);
        if v.nhwc {
            vec![s[0], s[3], s[1], s[2]]
        } else {
            s
        }
    }

    /// Range checks of the attributes every windowed or flagged op reads, before any of them is
    /// used in arithmetic: strides, dilations and kernel sizes in [1, MAX_WINDOW], pads in
    /// [0, MAX_WINDOW], flags 0 or 1, group at least 1, float parameters finite.
    pub fn check_attributes(&self) -> Result<(), ImportError> {
        for a in &self.node.attribute {
            let name = a.name();
            let bad = |what: &str| {
                self.err(format!(
                    "attribute {name} = {:?}{:?} must be {what}",
                    a.ints,
                    a.i.into_iter().collect::<Vec<_>>()
                ))
            };
            match name {
                "strides" | "dilations" | "kernel_shape" => {
                    if a.ints.iter().any(|&v| !(1..=MAX_WINDOW).contains(&v)) {
                        return Err(bad(&format!("from 1 to {MAX_WINDOW}")));
                    }
                }
                "pads" | "output_padding" => {
                    if a.ints.iter().any(|&v| !(0..=MAX_WINDOW).contains(&v)) {
                        return Err(bad(&format!("from 0 to {MAX_WINDOW}")));
                    }
                }
                "ceil_mode"
                | "count_include_pad"
                | "transA"
                | "transB"
                | "keepdims"
                | "noop_with_empty_axes" => {
                    if !matches!(a.i, None | Some(0) | Some(1)) {
                        return Err(bad("0 or 1"));
                    }
                }
                "group" => {
                    if !matches!(a.i, Some(g) if (1..=MAX_WINDOW).contains(&g)) {
                        return Err(bad(&format!("from 1 to {MAX_WINDOW}")));
                    }
                }
                _ => {
                    if a.f.is_some_and(|f| !f.is_finite()) {
                        return Err(self.err(format!(
                            "attribute {name} = {} must be finite",
                            a.f.unwrap_or(0.0)
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// Every value the node added (the ops from `first_op` on) has a static shape of at most
    /// MAX_ELEMENTS elements.
    pub fn check_sizes(&self, first_op: usize) -> Result<(), ImportError> {
        for op in &self.f.ops[first_op..] {
            for &r in &op.results {
                let Some(shape) = self.f.ty(r).shape() else {
                    continue;
                };
                let n = shape
                    .iter()
                    .try_fold(1i64, |n, &d| n.checked_mul(d.max(0)))
                    .filter(|&n| n <= MAX_ELEMENTS);
                if n.is_none() {
                    return Err(self.err(format!(
                        "its result of shape {shape:?} would hold more than {MAX_ELEMENTS} elements"
                    )));
                }
            }
        }
        Ok(())
    }
}
