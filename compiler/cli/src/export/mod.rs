//! `nibble compile --emit …`: the compiled model in formats other toolchains read, made from
//! nibble's decisions at the qnt level (`decisions`): QDQ ONNX (`onnx_qdq`).

mod decisions;
mod onnx_qdq;

use crate::error::{CliError, Res};
use nibble_frontend::onnx::ModelProto;
use nibble_ir::Func;
use prost::Message;
use std::path::Path;

/// The files the exporters may write (removed from OUT by every compile first).
pub const FILES: &[&str] = &["model.qdq.onnx"];

/// A format `--emit` writes next to the C.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Emit {
    /// OUT/model.qdq.onnx: QuantizeLinear/DequantizeLinear around the model's float ops with
    /// nibble's scales, zero points and integer weights (onnxruntime runs it).
    OnnxQdq,
}

/// Writes the `emit` formats of the compiled model `onnx` (its ONNX file) whose prepared
/// graph level is `graph` and qnt level `qnt` into `out`; returns the names written.
pub fn write(emit: &[Emit], onnx: &Path, graph: &Func, qnt: &Func, out: &Path) -> Res<Vec<String>> {
    let mut written = Vec::new();
    if emit.is_empty() {
        return Ok(written);
    }
    let d = decisions::read(graph, qnt).map_err(|e| CliError::Input(format!("--emit: {e}")))?;
    for e in emit {
        match e {
            Emit::OnnxQdq => {
                if !d.float_layers.is_empty() {
                    eprintln!(
                        "warning: --emit onnx-qdq: {} layers keep the model's float weights (their outputs keep nibble's grids): {}",
                        d.float_layers.len(),
                        d.float_layers.join(", ")
                    );
                }
                let bytes = std::fs::read(onnx)
                    .map_err(|err| CliError::Read(onnx.display().to_string(), err))?;
                let model = ModelProto::decode(bytes.as_slice()).map_err(|err| {
                    CliError::Input(format!("'{}' is no ONNX model: {err}", onnx.display()))
                })?;
                let q = onnx_qdq::export(&model, &d)
                    .map_err(|err| CliError::Input(format!("--emit onnx-qdq: {err}")))?;
                let path = out.join("model.qdq.onnx");
                std::fs::write(&path, q.encode_to_vec())
                    .map_err(|err| CliError::Write(path.display().to_string(), err))?;
                written.push("model.qdq.onnx".to_string());
            }
        }
    }
    Ok(written)
}
