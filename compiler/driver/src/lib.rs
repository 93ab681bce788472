//! The compile driver: one typed [`CompileOptions`] (also the command-line flags), the pass
//! pipelines made from it ([`pipeline::pass_pipeline`]), and the steps between import and C
//! that `nibble compile`, `nibble report`, `nibble run` and the tests share, so they cannot
//! diverge. The driver returns IR and file contents; it writes nothing and prints nothing
//! (progress and notes go to an [`Observer`]); the `nibble` binary writes and prints.
//!
//! ```text
//! model.onnx ─import─▶ graph ─Cleanup─▶ graph ─equalize/calibrate/GPTQ/bits (prepare)─▶
//!   calibrated graph ─Quantize─▶ qnt ─Lower{target}─▶ tile ─emit─▶ model.c, model.h, …
//! ```

mod compile;
mod error;
mod grids;
pub mod manifest;
mod observe;
pub mod options;
pub mod parse;
pub mod pipeline;
mod steps;
mod widths;

pub use compile::{weight_bytes, Compiled, OUTPUT_FILES};
pub use error::Error;
pub use grids::{model_grids, ModelGrids};
pub use nibble_passes::{Choice, Widths, DEFAULT_BUDGET, DEFAULT_MAX_SQNR};
pub use observe::{Event, Observer, Quiet};
pub use options::{
    BitWidths, CompileOptions, Granularity, InputShape, QuantOptions, RangeOptions, Ranges, Scheme,
    TargetOption, WeightRounding,
};
pub use pipeline::{pass_pipeline, Stage};
pub use steps::{Samples, Unfolded};
pub use widths::target_widths;

use melior::ir::Module;
use nibble_ir::diagnostics::Diagnostic;
use nibble_ir::mlir::{read_func, Mlir};
use nibble_ir::Func;
use nibble_passes::{Backend, Registry};
use std::path::Path;

/// An MLIR context with the registry's dialects and passes, and the compile steps run in it.
pub struct Driver {
    mlir: Mlir,
    registry: Registry,
}

/// nibble's own dialects and passes and the `host` back end (portable C, `nibble-codegen-c`):
/// what a vendor's `register` function adds to.
pub fn registry() -> Registry {
    let mut r = Registry::builtin();
    let host = Backend {
        kind: nibble_target::HOST_KIND.into(),
        schedule: None,
        lower: None,
        ir_file: None,
        codegen: |f, _| nibble_codegen_c::emit(f).map_err(|e| e.to_string()),
    };
    r.add_backend(host).expect("the first back end");
    r
}

impl Driver {
    /// A driver with [`registry`]: nibble without vendor extensions.
    pub fn new() -> Result<Driver, Error> {
        Driver::with_registry(registry())
    }

    /// A driver whose context loads `registry`'s dialects and whose pipelines find its passes
    /// and back ends.
    pub fn with_registry(registry: Registry) -> Result<Driver, Error> {
        Ok(Driver {
            mlir: registry.context()?,
            registry,
        })
    }

    /// The registry this driver compiles with.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// An ONNX model as imported (graph level, before clean-up).
    pub fn import_onnx(&self, model: &Path, shape: Option<&InputShape>) -> Result<Func, Error> {
        Ok(nibble_frontend::import_file(
            model,
            shape.map(|s| (s.name.as_str(), s.dims.as_slice())),
        )?)
    }

    /// An ONNX model at the graph level after the clean-up pipeline, what every command
    /// compiles or runs.
    pub fn import(&self, model: &Path, shape: Option<&InputShape>) -> Result<Func, Error> {
        let f = self.import_onnx(model, shape)?;
        self.run_stage(&f, Stage::Cleanup)
    }

    /// `f` as verified MLIR text.
    pub fn text(&self, f: &Func) -> Result<String, Error> {
        Ok(module_text(&self.mlir.module_of(f)?))
    }

    /// The function of an MLIR module given as text (parsed and verified); `source` names it
    /// in diagnostics (a file name).
    pub fn parse(&self, text: &str, source: &str) -> Result<Func, Error> {
        let m = self.mlir.parse(text, source)?;
        read_func(m.as_operation()).map_err(|e| Error::NotAFunction(source.into(), e))
    }

    /// Runs a pipeline given as text over a module given as text, like `mlir-opt`; returns
    /// the resulting module's text.
    pub fn opt(&self, text: &str, source: &str, pipeline: &str) -> Result<String, Error> {
        let mut m = self.mlir.parse(text, source)?;
        if !pipeline.trim().is_empty() {
            nibble_passes::run_pipeline_with(&self.registry, &self.mlir, &mut m, pipeline)?;
        }
        Ok(module_text(&m))
    }

    /// Runs `f` with this driver and returns, with its result, the MLIR diagnostics emitted
    /// meanwhile as records (an error of `f` then carries no diagnostic text): what
    /// `nibble opt --verify-diagnostics` checks.
    pub fn capture<R>(&self, f: impl FnOnce(&Driver) -> R) -> (R, Vec<Diagnostic>) {
        self.mlir.capture(|| f(self))
    }

    /// `f` after the pipeline of `stage` (through MLIR, verified).
    pub fn run_stage(&self, f: &Func, stage: Stage) -> Result<Func, Error> {
        let mut m = self.module(f)?;
        self.run_on(&mut m, stage)?;
        func_of(&m)
    }

    /// `f` as a verified MLIR module.
    fn module(&self, f: &Func) -> Result<Module<'_>, Error> {
        Ok(self.mlir.module_of(f)?)
    }

    /// Runs the pipeline of `stage` on module `m` (the lowering for a target whose back end
    /// schedules its own way: that back end's pipeline).
    fn run_on(&self, m: &mut Module, stage: Stage) -> Result<(), Error> {
        if let Stage::Lower(t) = stage {
            let target = t.load()?;
            if let Some(own) = self.backend(&target).ok().and_then(|b| b.schedule) {
                return self.run_text(
                    m,
                    &format!("builtin.module(nibble-lower-tile,{})", own(&t.target)),
                );
            }
        }
        self.run_text(m, &pass_pipeline(stage))
    }

    /// Runs the pipeline `text` on module `m`.
    fn run_text(&self, m: &mut Module, text: &str) -> Result<(), Error> {
        Ok(nibble_passes::run_pipeline_with(
            &self.registry,
            &self.mlir,
            m,
            text,
        )?)
    }

    /// A qnt-level function lowered to the tile level for `target` (what the qnt level means).
    pub fn lower_qnt(&self, q: &Func, target: &TargetOption) -> Result<Func, Error> {
        self.run_stage(q, Stage::Lower(target))
    }

    /// A calibrated graph quantized with `quant` and lowered for `target`: the tile program
    /// `nibble compile` would emit C for, as `nibble report` evaluates it.
    pub fn to_tile(
        &self,
        graph: &Func,
        quant: &QuantOptions,
        target: &TargetOption,
    ) -> Result<Func, Error> {
        let mut m = self.module(graph)?;
        self.run_on(&mut m, Stage::Quantize(quant))?;
        self.run_on(&mut m, Stage::Lower(target))?;
        func_of(&m)
    }
}

/// The function of a module.
fn func_of(m: &Module) -> Result<Func, Error> {
    Ok(read_func(m.as_operation())?)
}

/// A module's text as nibble writes it (one trailing newline).
fn module_text(m: &Module) -> String {
    format!("{}\n", m.as_operation().to_string().trim_end())
}
