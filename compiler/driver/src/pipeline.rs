//! The pass pipelines the driver runs, built in one place from typed options: a new pass, or a
//! pass split in several, changes [`pass_pipeline`] and nothing else. Every pipeline runs in
//! MLIR's pass manager (`nibble_passes::run_pipeline`), which verifies the IR after each pass,
//! and is what `nibble opt --pass-pipeline=…` accepts, so any step can be replayed by hand.

use crate::options::{QuantOptions, Scheme, TargetOption};

/// A step of the compile that is a pass pipeline.
#[derive(Clone, Copy, Debug)]
pub enum Stage<'a> {
    /// Graph-level clean-up after import: fold constants and BatchNorm, recognise layers, fuse
    /// activations into their layer, drop dead ops. Every imported model goes through it.
    Cleanup,
    /// Cross-layer equalization for `scheme` on the channel ranges in the graph, after
    /// high-bias absorption with `absorb_bias`.
    Equalize { scheme: Scheme, absorb_bias: bool },
    /// Calibrated graph → qnt level, requantization chains folded.
    Quantize(&'a QuantOptions),
    /// qnt → tile level for a target: converted, tiles sized, scheduled (accelerator
    /// targets: DMA and loop order), memory planned (arena; SRAM checked against the target).
    Lower(&'a TargetOption),
}

/// The pipeline of `stage`, as `nibble opt --pass-pipeline` takes it.
pub fn pass_pipeline(stage: Stage) -> String {
    let passes = match stage {
        Stage::Cleanup => "nibble-fold-constants,nibble-fold-batchnorm,nibble-recognize-layers,nibble-fuse-activations,nibble-dce".to_string(),
        Stage::Equalize { scheme, absorb_bias } => format!(
            "{}nibble-equalize{{scheme={}}}",
            if absorb_bias { "nibble-absorb-bias," } else { "" },
            scheme.name()
        ),
        Stage::Quantize(q) => format!(
            "nibble-quantize{{scheme={} granularity={}{}{}}},nibble-fold-requant",
            q.scheme().name(),
            q.granularity.name(),
            q.clamp_sigma
                .map(|k| format!(" clamp-sigma={k}"))
                .unwrap_or_default(),
            if q.bias_correction {
                " bias-correction=true"
            } else {
                ""
            }
        ),
        Stage::Lower(t) => format!(
            "nibble-lower-tile,nibble-check-accumulators,nibble-tile-size{{target={0}}},nibble-schedule{{target={0}}},\
             nibble-plan-memory{{target={0}}}",
            t.target
        ),
    };
    format!("builtin.module({passes})")
}
