//! ONNX → graph level. Reads an ONNX model (protobuf) and builds a [`Func`] of upstream `tosa`
//! ops on float tensors in NHWC layout, weights as constants, one op location per ONNX node
//! (`loc("node_name")`) so every later diagnostic names the layer it came from.
//!
//! The function takes the model input in its ONNX layout (NCHW, batch fixed to 1) and returns
//! the model outputs in their ONNX layout.
//!
//! Layout of the crate:
//! - `model.rs`: [`import_bytes`], the walk over the graph;
//! - `importer.rs`: the importer's state and what a lowering reads from a node (inputs,
//!   attributes and their range checks);
//! - `emit.rs`: the tosa ops lowerings are made of, NCHW ⇄ NHWC;
//! - `tensor.rs`: decoding `TensorProto`s into constants;
//! - `shape_fold.rs`: evaluating shape computations at import;
//! - `qoperator.rs`: onnxruntime's QOperator ops rewritten into QDQ form before import;
//! - `dynamic.rs`: onnxruntime's dynamically quantized layers rewritten into float layers on
//!   the model's weight grids before import;
//! - `ops/`: one module per family of ONNX ops, each op's support-table row next to its
//!   lowering; the registry in `ops/mod.rs` is the only way from an op type to its import.

mod dynamic;
mod emit;
mod importer;
mod model;
mod ops;
mod qoperator;
mod shape_fold;
mod tensor;

use nibble_ir::Func;

#[allow(clippy::all)]
pub mod onnx {
    include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
}

pub use model::import_bytes;
pub use ops::{ops_markdown, supported_ops, OpSupport};

/// Import errors; each names the model element at fault.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read '{0}': {1}")]
    Io(String, std::io::Error),
    #[error("'{0}' is not a valid ONNX model: {1}")]
    Decode(String, String),
    #[error(
        "unsupported op '{op}' (node '{node}'); supported ops: {}",
        ops::supported_list()
    )]
    UnsupportedOp { op: String, node: String },
    #[error("node '{node}' ({op}): {msg}")]
    Node {
        op: String,
        node: String,
        msg: String,
    },
    #[error("{0}")]
    Model(String),
}

/// Imports an ONNX file.
/// `input_shape` fixes the input's shape (batch included) where the model leaves dimensions
/// dynamic; without it the batch becomes 1 and every other dimension must be known.
pub fn import_file(
    path: &std::path::Path,
    input_shape: Option<(&str, &[i64])>,
) -> Result<Func, ImportError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ImportError::Io(name.clone(), e))?;
    import_bytes(&bytes, &name, input_shape)
}

#[cfg(test)]
mod tests;
