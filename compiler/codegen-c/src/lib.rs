//! C99 emission of a tile-level function.
//!
//! Writes `model.h`/`model.c` (the schedule: one runtime call per tile op, in order, over one
//! static arena laid out by the memory plan; weights as const arrays), the runtime kernels
//! (`nibble_runtime.h`/`.c` and the int8 microkernels `nibble_kernels*`, copied from
//! `runtime/c/`), and `main.c`, the only file with floats:
//! it reads a float32 `.npy` batch, quantizes each sample, runs the model, dequantizes and writes
//! `outK.npy`. `cc -std=c99 -O2 -Wall -Wextra -Werror *.c -o model` builds it.
//!
//! Modules, by what they write: [`schedule`] walks the ops (storage of every value, the host
//! boundary), [`kernels`] writes each op's runtime call by family, [`requant`] the `nb_rq`
//! records and their tables, [`arrays`] the C arrays and initializers, [`model`] `model.c`,
//! [`header`] `model.h`, [`harness`] the configuration of `main.c`, [`names`] comments and the
//! model id.

mod arrays;
pub mod ext;
mod harness;
mod header;
mod kernels;
mod model;
mod names;
mod packing;
mod prepack;
mod requant;
mod schedule;

pub use names::c_comment;

use nibble_ir::{Func, Op};

pub const RUNTIME_H: &str = include_str!("../../../runtime/c/nibble_runtime.h");
pub const RUNTIME_C: &str = include_str!("../../../runtime/c/nibble_runtime.c");
/// The int8 microkernels (runtime/c/nibble_kernels*.{h,c}, docs/kernels.md), copied beside
/// the runtime: (file name, contents).
pub const KERNEL_FILES: [(&str, &str); 6] = [
    (
        "nibble_kernels.h",
        include_str!("../../../runtime/c/nibble_kernels.h"),
    ),
    (
        "nibble_kernels_internal.h",
        include_str!("../../../runtime/c/nibble_kernels_internal.h"),
    ),
    (
        "nibble_kernels_c99.c",
        include_str!("../../../runtime/c/nibble_kernels_c99.c"),
    ),
    (
        "nibble_kernels_avx2.c",
        include_str!("../../../runtime/c/nibble_kernels_avx2.c"),
    ),
    (
        "nibble_kernels_avx512.c",
        include_str!("../../../runtime/c/nibble_kernels_avx512.c"),
    ),
    (
        "nibble_kernels_neon.c",
        include_str!("../../../runtime/c/nibble_kernels_neon.c"),
    ),
];
pub const MAIN_TEMPLATE: &str = include_str!("../../../runtime/c/main_template.c");

#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    #[error("cannot emit C for '{op}'{loc}: {msg}")]
    Op {
        op: String,
        loc: String,
        msg: String,
    },
    #[error(transparent)]
    Ir(#[from] nibble_ir::IrError),
    #[error(transparent)]
    Dialect(#[from] nibble_tile::DialectError),
}

/// An error located at `op`.
fn err(op: &Op, msg: impl Into<String>) -> CodegenError {
    CodegenError::Op {
        op: op.name.clone(),
        loc: op
            .loc
            .as_deref()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default(),
        msg: msg.into(),
    }
}

/// An error about the function as a whole.
fn func_err(msg: &str) -> CodegenError {
    CodegenError::Op {
        op: "func.func".into(),
        loc: String::new(),
        msg: msg.into(),
    }
}

/// The generated files: (file name, contents).
pub fn emit(f: &Func) -> Result<Vec<(String, String)>, CodegenError> {
    ext::emit_with(f, &mut ext::Plain)
}
