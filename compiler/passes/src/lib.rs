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
mod fuse_activations;
mod lower_tile;
mod pipeline;
mod plan_memory;
mod quantize;
mod recognize_layers;
mod tile_size;

pub use choose_bits::{choose_bits, Choice, DEFAULT_BUDGET, DEFAULT_MAX_SQNR};
pub use pipeline::{run_pipeline, PassError};

use nibble_ir::{mlir::Mlir, Func, IrError};

/// A nibble pass: its pipeline name (also its lit flag), what it does, and its body.
pub struct PassInfo {
    pub name: &'static str,
    pub summary: &'static str,
    pub run: fn(&Func, &Options) -> Result<Func, String>,
}

/// Options given in the pipeline string: `nibble-tile-size{target=path.toml}`.
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

/// The f32 data of a `tosa.const` value and the index of the op holding it.
fn const_f32(f: &Func, producers: &[Option<usize>], v: usize) -> Option<(usize, Vec<f32>)> {
    let i = producers[v]?;
    let op = &f.ops[i];
    if op.name != "tosa.const" {
        return None;
    }
    let (ty, bytes) = op.dense("values").ok()?;
    (ty.elem() == Some(&nibble_ir::Elem::F32)).then(|| (i, nibble_ir::model::dense_f32(bytes)))
}

/// Replaces op `i`'s dense f32 attribute `key` (a constant's `values`, a per-channel range),
/// keeping its type if it has one.
fn set_dense_f32(f: &mut Func, i: usize, key: &str, data: &[f32]) {
    let ty = match f.ops[i].dense(key) {
        Ok((t, _)) => t.clone(),
        Err(_) => nibble_ir::Type::tensor(&[data.len() as i64], nibble_ir::Elem::F32),
    };
    f.ops[i]
        .attrs
        .insert(key.into(), nibble_ir::Attr::dense_f32(ty, data));
}

/// Every nibble pass, in pipeline order.
pub const PASSES: &[PassInfo] = &[
    fold_constants::PASS,
    fold_batchnorm::PASS,
    recognize_layers::PASS,
    fuse_activations::PASS,
    dce::PASS,
    absorb_bias::PASS,
    equalize::PASS,
    choose_bits::PASS,
    quantize::PASS,
    fold_requant::PASS,
    lower_tile::PASS,
    tile_size::PASS,
    plan_memory::PASS,
];

/// An MLIR context with upstream dialects and passes plus the `qnt` and `tile` dialects.
pub fn context() -> Result<Mlir, IrError> {
    melior::utility::register_all_passes();
    Mlir::new(&[("qnt", nibble_qnt::IRDL), ("tile", nibble_tile::IRDL)])
}
