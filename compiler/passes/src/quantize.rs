//! `nibble-quantize{scheme=pow2|symmetric|asymmetric granularity=tensor|channel clamp-sigma=K bias-correction=true}`: graph level →
//! qnt level: activations at 8 bits from their calibrated ranges `nibble.min`/`nibble.max` (16
//! where `nibble.bits = 16` asks), int8 weights; symmetric and per tensor by default, `channel`
//! gives conv/FC weights one scale per output channel. Fused activations (`nibble.fused`) become
//! the epilogue of their layer. See `nibble_lower::to_qnt` for the before/after IR.
//!
//! Precondition: a graph-level (tosa, f32) function whose ops carry ranges.
//! Postcondition: a qnt-level function: f32 in, `qnt.quantize`, integer ops, `qnt.dequantize`.

use crate::{Options, PassInfo};
use nibble_ir::Func;

pub const PASS: PassInfo = PassInfo {
    name: "nibble-quantize",
    summary:
        "Quantize a calibrated graph-level function to the qnt dialect (8-bit activations, 16 where nibble.bits asks; int8 weights)",
    run,
};

#[tracing::instrument(skip_all, name = "nibble-quantize")]
fn run(f: &Func, opts: &Options) -> Result<Func, String> {
    nibble_lower::to_qnt::to_qnt(f, &config(opts)?).map_err(|e| e.to_string())
}

/// The quantization options (`scheme`, `granularity`, `clamp-sigma`, `bias-correction`).
pub(crate) fn config(opts: &Options) -> Result<nibble_lower::to_qnt::QuantConfig, String> {
    let scheme = opts.get("scheme").unwrap_or("symmetric").parse()?;
    let per_channel = match opts.get("granularity").unwrap_or("tensor") {
        "tensor" => false,
        "channel" => true,
        g => return Err(format!("unknown granularity '{g}' (tensor, channel)")),
    };
    let clamp_sigma = match opts.get("clamp-sigma") {
        None => None,
        Some(k) => match k.parse::<f64>() {
            Ok(k) if k > 0.0 => Some(k),
            _ => return Err(format!("clamp-sigma must be a positive number, got '{k}'")),
        },
    };
    let bias_correction = match opts.get("bias-correction").unwrap_or("false") {
        "true" => true,
        "false" => false,
        b => return Err(format!("bias-correction must be true or false, got '{b}'")),
    };
    Ok(nibble_lower::to_qnt::QuantConfig {
        scheme,
        per_channel,
        clamp_sigma,
        bias_correction,
    })
}
