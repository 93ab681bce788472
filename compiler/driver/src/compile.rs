//! `nibble compile` as two calls: [`Driver::prepare`] (the graph-level decisions that need
//! calibration vectors: equalization, ranges, GPTQ, bit widths) and [`Driver::emit`] (the
//! quantize and lower pipelines, then C). `emit` hands each output file to a sink as soon as
//! it exists, so a compile that fails at the quant level still leaves `model.graph.mlir` to
//! read.

use crate::options::{BitWidths, CompileOptions, WeightRounding};
use crate::{func_of, module_text, Driver, Error, Event, Observer, Samples, Stage};
use nibble_ir::Func;

/// The files a compile may produce (`nibble_kernels*`: the int8 microkernels, see
/// docs/kernels.md; `main.c`: the harness, which `nibble compile` writes only
/// with `--emit-main`; `model.npu.mlir` and `npu*`: the `npu` back end's). A compile removes
/// all of them from its output directory first, so files of another target never linger.
pub const OUTPUT_FILES: [&str; 20] = [
    "model.graph.mlir",
    "model.quant.mlir",
    "model.tile.mlir",
    "model.npu.mlir",
    "model.c",
    "model.h",
    "nibble_runtime.c",
    "nibble_runtime.h",
    "nibble_kernels.h",
    "nibble_kernels_internal.h",
    "nibble_kernels_c99.c",
    "nibble_kernels_avx2.c",
    "nibble_kernels_avx512.c",
    "nibble_kernels_neon.c",
    "npu.h",
    "npu_sim.c",
    "npu_target.h",
    "main.c",
    "target.toml",
    "manifest.json",
];

/// What a finished compile leaves besides its files: the tile-level program and its target.
pub struct Compiled {
    pub tile: Func,
    pub target: nibble_target::Target,
}

impl Compiled {
    /// Bytes of weights and biases the program stores.
    pub fn weight_bytes(&self) -> usize {
        weight_bytes(&self.tile)
    }
    /// The activation arena the memory plan asks for (None: no plan).
    pub fn arena_bytes(&self) -> Option<usize> {
        nibble_tile::arena_bytes(&self.tile)
    }
}

/// Bytes of the constants of a tile-level program as stored: int32 biases 4 bytes, weights on
/// a grid below 8 bits packed at its storage bits, the rest 1.
pub fn weight_bytes(t: &Func) -> usize {
    t.ops
        .iter()
        .filter(|o| o.name == nibble_tile::CONST)
        .map(|o| nibble_lower::schedule::engine::stored_bytes(t, o.results[0]) as usize)
        .sum()
}

/// Refuses calibration vectors holding inf or NaN (naming the vector and element), and warns
/// through `obs` when they are degenerate: all zeros, one constant, or |values| ≥ 1e30.
fn check_samples(samples: Samples, obs: &dyn Observer) -> Result<(), Error> {
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for (sample, x) in samples.iter().enumerate() {
        if let Some((index, &value)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite {
                sample,
                index,
                value,
            });
        }
        for &v in x {
            (lo, hi) = (lo.min(v), hi.max(v));
        }
    }
    let n = samples.len();
    let why = if samples.is_empty() {
        None
    } else if lo == 0.0 && hi == 0.0 {
        Some(format!("all {n} calibration vectors are zeros"))
    } else if lo == hi {
        Some(format!(
            "every value of the {n} calibration vectors is {lo}"
        ))
    } else if lo.abs().max(hi.abs()) >= 1e30 {
        Some(format!(
            "the calibration vectors hold values up to {:e} (|x| ≥ 1e30)",
            lo.abs().max(hi.abs())
        ))
    } else {
        None
    };
    if let Some(why) = why {
        obs.note(&Event::DegenerateCalibration(why));
    }
    Ok(())
}

impl Driver {
    /// The graph-level decisions of a compile on an imported graph: equalization (with
    /// `--equalize`), ranges from `samples` (or data-free), GPTQ weight rounding, 16-bit
    /// activations. The result carries all of them as attributes, ready for [`Driver::emit`].
    pub fn prepare(
        &self,
        mut f: Func,
        samples: Samples,
        opts: &CompileOptions,
        obs: &dyn Observer,
    ) -> Result<Func, Error> {
        opts.check(!samples.is_empty())?;
        nibble_lower::to_qnt::check_quantizable(&f)?;
        check_samples(samples, obs)?;
        if opts.equalize {
            f = self.equalize(&f, opts.quant.scheme(), samples, opts.absorb_bias, obs)?;
        }
        let method = opts.ranges.method(&opts.range, opts.quant.scheme());
        obs.begin(samples.len() * opts.ranges.passes(), "calibrating");
        f = self.calibrate(&f, samples, method, || obs.tick())?;
        obs.end();
        let (g, widths) = self.decide_widths(f, samples, opts, obs)?;
        f = g;
        if let Some(w) = &widths {
            obs.note(&Event::Widths(w));
        }
        if opts.rounding(!samples.is_empty()) == WeightRounding::Gptq {
            obs.begin(samples.len(), "weight rounding (GPTQ)");
            let rounded = self.round_weights(&mut f, samples, &opts.quant, || obs.tick())?;
            obs.end();
            obs.note(&Event::Gptq {
                layers: rounded.len(),
                nearest_error: rounded.iter().map(|r| r.nearest_error).sum(),
                gptq_error: rounded.iter().map(|r| r.gptq_error).sum(),
            });
        }
        if let Some(BitWidths::Names(names)) = &opts.bits {
            for (name, b) in names {
                nibble_quantize::set_bits(&mut f, std::slice::from_ref(name), *b)?;
            }
        }
        Ok(f)
    }

    /// A prepared graph through the quantize and lower pipelines to C: `sink(name, text)` gets
    /// each file of [`OUTPUT_FILES`] as soon as it exists (the IR of each level, then the C).
    pub fn emit<E: From<Error>>(
        &self,
        graph: &Func,
        opts: &CompileOptions,
        mut sink: impl FnMut(&str, &str) -> Result<(), E>,
    ) -> Result<Compiled, E> {
        let target = opts.target.load()?;
        let backend = self.backend(&target)?;
        let mut quant = opts.quant.clone();
        quant.resolve_for(&target)?;
        let mut m = self.module(graph)?;
        sink(OUTPUT_FILES[0], &module_text(&m))?;
        self.run_on(&mut m, Stage::Quantize(&quant))?;
        sink(OUTPUT_FILES[1], &module_text(&m))?;
        self.run_on(&mut m, Stage::Lower(&opts.target))?;
        sink(OUTPUT_FILES[2], &module_text(&m))?;
        let tile = func_of(&m)?;
        if let (Some(lower), Some(file)) = (backend.lower, &backend.ir_file) {
            self.run_text(
                &mut m,
                &format!("builtin.module({})", lower(&opts.target.target)),
            )?;
            sink(file, &module_text(&m))?;
        }
        let lowered = func_of(&m)?;
        for (name, text) in (backend.codegen)(&lowered, &target).map_err(Error::Backend)? {
            sink(&name, &text)?;
        }
        let source = nibble_target::Target::source(&opts.target.target).map_err(Error::from)?;
        sink("target.toml", &source)?;
        let sensitivity = crate::manifest::sensitivities(graph);
        sink(
            "manifest.json",
            &crate::manifest::manifest(&tile, &target, &sensitivity)?,
        )?;
        Ok(Compiled { tile, target })
    }

    /// The back end for `target`'s kind.
    pub fn backend(
        &self,
        target: &nibble_target::Target,
    ) -> Result<&nibble_passes::Backend, Error> {
        self.registry
            .backend(&target.kind)
            .ok_or_else(|| Error::NoBackend(target.kind.clone(), self.registry.kinds().join(", ")))
    }

    /// [`Driver::prepare`] then [`Driver::emit`].
    pub fn compile<E: From<Error>>(
        &self,
        graph: Func,
        samples: Samples,
        opts: &CompileOptions,
        obs: &dyn Observer,
        sink: impl FnMut(&str, &str) -> Result<(), E>,
    ) -> Result<Compiled, E> {
        let g = self.prepare(graph, samples, opts, obs)?;
        self.emit(&g, opts, sink)
    }
}
