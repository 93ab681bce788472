//! Reference interpreters. [`float`] gives the meaning of the graph level (tosa, f32);
//! [`integer`] gives the bit-exact meaning of the tile level, which the generated C must match.
//!
//! Shared by both: row-major tensor helpers ([`tensor`]: transpose, slice, concat,
//! broadcasting offsets), 2-D windows over NHWC images ([`window`]: the taps of convolutions
//! and pools, transposed convolutions per output pixel), and the tap tables of resizing and
//! transposed convolution that codegen-c writes for the C kernels ([`taps`]).

pub mod float;
pub mod integer;
mod taps;
mod tensor;
mod window;

pub use taps::{resize_taps, tconv_taps};

/// Interpreter errors: an op the interpreter does not know, or inputs that do not fit.
#[derive(Debug, thiserror::Error)]
pub enum InterpError {
    #[error("the {level} interpreter does not support op '{op}'{loc}; supported: {supported}")]
    Unsupported {
        level: &'static str,
        op: String,
        loc: String,
        supported: String,
    },
    #[error("input has {got} elements per sample, the function expects {want} (shape {shape:?})")]
    InputSize {
        got: usize,
        want: usize,
        shape: Vec<i64>,
    },
    #[error(transparent)]
    Ir(#[from] nibble_ir::IrError),
    #[error(transparent)]
    Dialect(#[from] nibble_tile::DialectError),
    /// A graph-level op that does not hold what its name promises (a `nibble` layer without
    /// its parameters).
    #[error(transparent)]
    Graph(#[from] nibble_graph::GraphError),
    #[error("{0}")]
    Invalid(String),
}

impl InterpError {
    fn unsupported(level: &'static str, op: &nibble_ir::Op, supported: &str) -> InterpError {
        InterpError::Unsupported {
            level,
            op: op.name.clone(),
            loc: loc_suffix(op),
            supported: supported.into(),
        }
    }

    /// The error of an input sample of the wrong size for `f`.
    fn input_size(f: &nibble_ir::Func, got: usize) -> InterpError {
        InterpError::InputSize {
            got,
            want: f.ty(f.args[0]).num_elements(),
            shape: f.ty(f.args[0]).shape().unwrap_or(&[]).to_vec(),
        }
    }
}

/// ` at LOC` for an op with a location, else nothing.
pub(crate) fn loc_suffix(op: &nibble_ir::Op) -> String {
    op.loc
        .as_deref()
        .map(|l| format!(" at {l}"))
        .unwrap_or_default()
}

/// An invalid-op error: `'NAME' at LOC: msg`.
pub(crate) fn invalid(op: &nibble_ir::Op, msg: impl std::fmt::Display) -> InterpError {
    InterpError::Invalid(format!("'{}'{}: {msg}", op.name, loc_suffix(op)))
}
