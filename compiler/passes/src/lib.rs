//! nibble's passes as MLIR passes, and the driver for pipelines that mix them with upstream
//! passes (`nibble opt --pass-pipeline='builtin.module(nibble-quantize,canonicalize)'`).
//!
//! Each pass lives in its own file with its doc comment; every one works on the module's single
//! function through [`nibble_ir::Func`] and replaces the module body with its result, which MLIR
//! verifies again.

mod absorb_bias;
mod choose_bits;
mod dce;
mod equalize;
mod fold_batchnorm;
mod fold_constants;
mod fold_requant;
mod lower_tile;
mod pipeline;
mod quantize;
mod recognize_layers;

pub use choose_bits::{choose_bits, Choice, DEFAULT_BUDGET, DEFAULT_MAX_SQNR};
pub use pipeline::{run_pipeline, PassError};

use nibble_ir::{mlir::Mlir, Func, IrError};

/// A nibble pass: its pipeline name (also its lit flag), what it does, and its body.
pub struct PassInfo {
    pub name: &'static str,
    pub summary: &'static str,
    pub run: fn(&Func, &Options) -> Result<Func, String>,
}

/// Options given in the pipeline string: `nibble-lower-tile{target=path.toml}`.
#[derive(Default, Debug, Clone)]
pub struct Options(pub Vec<(String, String)>);

impl Options {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Every nibble pass, in pipeline order.
pub const PASSES: &[PassInfo] = &[
    fold_constants::PASS,
    fold_batchnorm::PASS,
    recognize_layers::PASS,
    dce::PASS,
    absorb_bias::PASS,
    equalize::PASS,
    choose_bits::PASS,
    quantize::PASS,
    fold_requant::PASS,
    lower_tile::PASS,
];

/// An MLIR context with upstream dialects and passes plus the `qnt` and `tile` dialects.
pub fn context() -> Result<Mlir, IrError> {
    melior::utility::register_all_passes();
    Mlir::new(&[("qnt", nibble_qnt::IRDL), ("tile", nibble_tile::IRDL)])
}
