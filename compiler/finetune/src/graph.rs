//! The model as the trainer sees it: ONNX nodes in topological order with their integer
//! attributes, and the float initializers. The `nibble` binary fills it from the ONNX protobuf
//! and writes the trained [`Weight`]s back into the same file.

use crate::{Error, Res};
use std::collections::BTreeMap;

/// ONNX ops the trainer builds.
pub const SUPPORTED_OPS: [&str; 8] = [
    "Conv", "Gemm", "Relu", "Clip", "MaxPool", "Flatten", "Reshape", "Identity",
];

/// One ONNX node.
#[derive(Clone, Debug, Default)]
pub struct Node {
    pub name: String,
    pub op: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    /// Integer and integer-list attributes (`pads`, `strides`, `group`, `transB`, `axis`, …).
    pub ints: BTreeMap<String, Vec<i64>>,
    /// Float attributes (`alpha`, `beta`, Clip's `min`/`max` before opset 11).
    pub floats: BTreeMap<String, f32>,
}

impl Node {
    /// An integer attribute, or `default`.
    pub fn int(&self, key: &str, default: i64) -> i64 {
        self.ints
            .get(key)
            .and_then(|v| v.first().copied())
            .unwrap_or(default)
    }
}

/// A constant tensor (row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct Weight {
    pub dims: Vec<usize>,
    pub data: Vec<f32>,
}

/// A single-input, single-output model.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub input: String,
    /// The input's shape without the batch dimension.
    pub input_shape: Vec<usize>,
    pub output: String,
    pub nodes: Vec<Node>,
    /// Float initializers by name.
    pub weights: BTreeMap<String, Weight>,
    /// Integer initializers by name (Reshape's shape).
    pub int_consts: BTreeMap<String, Vec<i64>>,
}

impl Graph {
    /// Refuses ops the trainer cannot build, naming the first such node.
    pub fn check_ops(&self) -> Res<()> {
        match self
            .nodes
            .iter()
            .find(|n| !SUPPORTED_OPS.contains(&n.op.as_str()))
        {
            Some(n) => Err(Error::Unsupported {
                node: n.name.clone(),
                op: n.op.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Names of the trained weights: the weight and bias of every Conv and Gemm.
    pub fn trainable(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| n.op == "Conv" || n.op == "Gemm")
            .flat_map(|n| n.inputs.iter().skip(1).take(2))
            .filter(|i| self.weights.contains_key(*i))
            .cloned()
            .collect();
        names.dedup();
        names
    }

    /// How many nodes read `value`, and the first of them.
    pub fn readers(&self, value: &str) -> (usize, Option<&Node>) {
        let mut r = self
            .nodes
            .iter()
            .filter(|n| n.inputs.iter().any(|i| i == value));
        let first = r.next();
        (first.map_or(0, |_| 1) + r.count(), first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_op_is_named_with_the_supported_list() {
        let g = Graph {
            nodes: vec![Node {
                name: "Sm_3".into(),
                op: "Softmax".into(),
                ..Node::default()
            }],
            ..Graph::default()
        };
        let e = g.check_ops().unwrap_err().to_string();
        assert!(
            e.contains("'Sm_3'") && e.contains("Softmax") && e.contains("Conv, Gemm"),
            "{e}"
        );
    }
}
