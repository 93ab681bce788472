//! nibble's IR foundation: the function model every pass works on ([`Func`]), its MLIR text
//! form, and the MLIR context (upstream dialects plus our IRDL dialects) with the bridge
//! between MLIR modules and [`Func`].

pub mod diagnostics;
pub mod mlir;
pub mod model;
pub mod text;
pub mod verify;

pub use model::{Attr, Elem, Func, Op, QuantAxisType, QuantType, Type, ValueId};

/// Errors of the IR layer.
#[derive(Debug, thiserror::Error)]
pub enum IrError {
    #[error("{0}")]
    Parse(String),
    #[error("unsupported type '{0}'")]
    Type(String),
    #[error("cannot load dialect '{0}': {1}")]
    Dialect(String, String),
    #[error("{0}")]
    Structure(String),
    #[error("{0}")]
    Internal(String),
}
