//! nibble's passes as MLIR passes, and the driver for pipelines that mix them with upstream
//! passes (`nibble opt --pass-pipeline='builtin.module(nibble-quantize,canonicalize)'`).
//!
//! Each pass lives in its own file with its doc comment; every one works on the module's single
//! function through [`nibble_ir::Func`] and replaces the module body with its result, which MLIR
//! verifies again.

mod absorb_bias;
mod check_accumulators;
mod choose_bits;
mod choose_widths;
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
mod registry;
mod schedule;
mod tile_size;

pub use choose_bits::{Choice, DEFAULT_BUDGET, DEFAULT_MAX_SQNR};
pub use choose_widths::{choose_widths, LayerChoice, WeightBudget, WidthOptions, Widths};
pub use pipeline::{run_pipeline, run_pipeline_with};
pub use registry::{Backend, Codegen, Dialect, Registry};

use nibble_graph::tosa;
use nibble_ir::{mlir::Mlir, Func, IrError};

/// The errors of this crate: a pipeline that does not parse or fails, and the passes' own
/// functions called directly.
#[derive(Debug, thiserror::Error)]
pub enum PassError {
    /// A pipeline element that names no registered pass: the name and the nibble passes.
    #[error("unknown pass '{0}': not a nibble pass ({1}) nor a registered MLIR pass")]
    Unknown(String, String),
    /// A registration that clashes with an earlier one.
    #[error("{0}")]
    Registry(String),
    #[error("invalid pass pipeline: {0}")]
    Syntax(String),
    /// The pipeline ran and failed: MLIR's diagnostics (`error: nibble-quantize: …`).
    #[error("{0}")]
    Failed(String),
    /// [`choose_bits`] could not quantize, lower or plan the graph it chooses for.
    #[error("{0}")]
    ChooseBits(String),
    /// A nibble pass's own failure (reported as a diagnostic on the module, after its name).
    #[error("{0}")]
    Body(String),
    /// A nibble pass printed IR that MLIR does not parse (a bug of the pass).
    #[error("{0} produced IR that MLIR rejects")]
    Rejected(&'static str),
    /// A nibble pass printed IR that parses but does not verify (a bug of the pass).
    #[error("{0} produced IR that does not verify")]
    Unverified(&'static str),
    /// The module a pass runs on is not one function nibble reads.
    #[error(transparent)]
    Ir(#[from] IrError),
}

/// `f` with `nibble.bits = 16` on the tensors `nibble-choose-bits` chooses under `cfg` (see
/// that pass), and the choices: what `nibble compile --bits auto` and `nibble report` call.
pub fn choose_bits(
    f: &Func,
    cfg: &nibble_lower::to_qnt::QuantConfig,
    max_sqnr: f64,
    budget: f64,
) -> Result<(Func, Vec<Choice>), PassError> {
    choose_bits::choose_bits(f, cfg, max_sqnr, budget).map_err(PassError::ChooseBits)
}

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
    if op.name != tosa::CONST {
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
    choose_widths::PASS,
    quantize::PASS,
    fold_requant::PASS,
    lower_tile::PASS,
    check_accumulators::PASS,
    tile_size::PASS,
    schedule::PASS,
    plan_memory::PASS,
];

/// An MLIR context with upstream dialects and passes plus nibble's own dialects (`qnt`,
/// `tile`): [`Registry::builtin`]'s.
pub fn context() -> Result<Mlir, IrError> {
    Registry::builtin().context()
}

/// The target named by the `target` option (default: `host`).
pub(crate) fn target_option(opts: &Options) -> Result<nibble_target::Target, String> {
    nibble_target::Target::load(opts.get("target").unwrap_or(nibble_target::DEFAULT))
        .map_err(|e| e.to_string())
}
