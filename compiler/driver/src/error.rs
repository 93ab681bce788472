//! The driver's error: every crate's error converts into it with `?` (`#[from]`), plus the
//! driver's own refusals of option combinations. Its text is what `nibble` prints.

use nibble_ir::IrError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Import(#[from] nibble_frontend::ImportError),
    #[error(transparent)]
    Ir(#[from] IrError),
    /// A pass pipeline that does not parse or fails (MLIR's diagnostics, `error: …`).
    #[error(transparent)]
    Pass(#[from] nibble_passes::PassError),
    #[error(transparent)]
    Quant(#[from] nibble_quantize::QuantError),
    #[error(transparent)]
    Lower(#[from] nibble_lower::LowerError),
    #[error(transparent)]
    Codegen(#[from] nibble_codegen_c::CodegenError),
    #[error(transparent)]
    Target(#[from] nibble_target::TargetError),
    /// A module that parses but is not one function nibble can read; names its source.
    #[error("{0}: {1}")]
    NotAFunction(String, IrError),
    /// A calibration vector holding inf or NaN: `sample` (from 0), element `index` of it.
    #[error("calibration vector {sample} of the model input holds {value} at element {index}: calibration values must be finite")]
    NonFinite {
        sample: usize,
        index: usize,
        value: f32,
    },
    /// A target whose kind no registered back end serves.
    #[error("no back end for target kind '{0}' (registered: {1})")]
    NoBackend(String, String),
    /// A back end's code generator failed.
    #[error("{0}")]
    Backend(String),
    /// Options that contradict each other or lack the data they need.
    #[error("{0}")]
    Options(String),
}
