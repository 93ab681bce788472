//! `nibble compile --emit …`: the compiled model in formats other toolchains read, made from
//! nibble's decisions at the qnt level (`decisions`): QDQ ONNX (`onnx_qdq`); and the tile
//! program's integers as upstream TOSA (`tosa`).

mod decisions;
mod onnx_qdq;
mod tosa;

use crate::error::{CliError, Res};
use nibble_frontend::onnx::ModelProto;
use nibble_ir::Func;
use prost::Message;
use std::path::Path;

/// The files the exporters may write (removed from OUT by every compile first).
pub const FILES: &[&str] = &["model.qdq.onnx", "model.tosa.mlir"];

/// A format `--emit` writes next to the C.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Emit {
    /// OUT/model.qdq.onnx: QuantizeLinear/DequantizeLinear around the model's float ops with
    /// nibble's scales, zero points and integer weights (onnxruntime runs it).
    OnnxQdq,
    /// OUT/model.tosa.mlir: the integer program as upstream TOSA 1.0 (conv2d with zero points,
    /// rescale with nibble's multipliers and shifts, table), verified by MLIR before it is written.
    Tosa,
}

/// The levels of one compile that the exporters read: the prepared graph level, the qnt level
/// and the tile program.
pub struct Levels<'a> {
    pub graph: &'a Func,
    pub qnt: &'a Func,
    pub tile: &'a Func,
}

/// Writes the `emit` formats of the compiled model `onnx` (its ONNX file) into `out`; returns
/// the names written.
pub fn write(emit: &[Emit], onnx: &Path, levels: &Levels, out: &Path) -> Res<Vec<String>> {
    let mut written = Vec::new();
    for e in emit {
        match e {
            Emit::Tosa => {
                let f = tosa::export(levels.tile)
                    .map_err(|err| CliError::Input(format!("--emit tosa: {err}")))?;
                let text = nibble_ir::text::print_module(&f);
                // MLIR's tosa verifiers check what is written.
                let mlir = nibble_ir::mlir::Mlir::new(&[])
                    .map_err(|err| CliError::Input(err.to_string()))?;
                let invalid = |err: String| {
                    CliError::Input(format!("--emit tosa: nibble produced invalid TOSA: {err}"))
                };
                let mut module = mlir
                    .parse(&text, "model.tosa.mlir")
                    .map_err(|e| invalid(e.to_string()))?;
                nibble_passes::run_pipeline(&mlir, &mut module, tosa::VALIDATE)
                    .map_err(|e| invalid(e.to_string()))?;
                let path = out.join("model.tosa.mlir");
                std::fs::write(&path, text)
                    .map_err(|err| CliError::Write(path.display().to_string(), err))?;
                written.push("model.tosa.mlir".to_string());
            }
            Emit::OnnxQdq => {
                let d = decisions::read(levels.graph, levels.qnt)
                    .map_err(|e| CliError::Input(format!("--emit: {e}")))?;
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
