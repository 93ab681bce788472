//! Quantization-aware fine-tuning (`nibble finetune`): a small ONNX-shaped graph ([`Graph`]) is
//! built as a candle computation ([`net`]) whose weights pass through fake quantization on the
//! grids nibble will compile them to ([`fake_quant`], with a straight-through estimator), and
//! trained with cross-entropy and Adam ([`train`]). The crate knows nothing of MLIR or of
//! nibble's quantizer: the caller passes the grids as [`WeightGrid`] and [`ActGrid`], so the
//! `nibble` binary plugs in `nibble_quantize`'s own functions and the unit tests here build
//! fast.

pub mod fake_quant;
pub mod graph;
pub mod net;
pub mod train;

pub use fake_quant::{ActGrid, WeightGrid};
pub use graph::{Graph, Node, Weight, SUPPORTED_OPS};
pub use train::{train, Observer, Options, Summary};

/// Why fine-tuning cannot start or failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An op the trainer cannot build.
    #[error("node '{node}' is a {op}, which `nibble finetune` does not support (supported: {})", SUPPORTED_OPS.join(", "))]
    Unsupported { node: String, op: String },
    /// A graph or data that does not fit (shapes, labels, attributes).
    #[error("{0}")]
    Input(String),
    /// The tensor library failed.
    #[error("tensor computation failed: {0}")]
    Candle(#[from] candle_core::Error),
}

/// Results of this crate.
pub type Res<T> = Result<T, Error>;
