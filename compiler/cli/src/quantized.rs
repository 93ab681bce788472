//! Compiling an already-quantized model (QDQ ONNX): its grids are honoured, and what it leaves
//! unquantized is said loudly. Without `--calib` the results the model gives no grid take
//! data-free ranges (from the input's grid); with it, they are calibrated.

use crate::error::{CliError, Res};
use nibble_driver::{model_grids, CompileOptions, Ranges, WeightRounding};
use nibble_ir::Func;

/// Adjusts `opts` to a model that carries its grids and prints what it fixes and what nibble
/// decides itself; nothing for a float model. Refuses the options that would change weights
/// the model has already rounded to its grids: equalization (rescales them), GPTQ (re-rounds
/// them) and `--weight-bits auto` (re-chooses their widths).
pub fn quantized_model(graph: &Func, opts: &mut CompileOptions, has_vectors: bool) -> Res<()> {
    let g = model_grids(graph);
    if !g.any() {
        return Ok(());
    }
    let refused = [
        (opts.equalize, "--equalize (it rescales the weights)"),
        (
            opts.weight_rounding == Some(WeightRounding::Gptq),
            "--weight-rounding gptq (it re-rounds the weights)",
        ),
        (
            opts.weight_bits.all.is_none(),
            "--weight-bits auto (it re-chooses the weights' widths)",
        ),
    ];
    if let Some((_, flag)) = refused.iter().find(|r| r.0 && g.weights > 0) {
        return Err(CliError::Input(format!(
            "the model is already quantized ({} weight layers on its own grids): {flag} would \
             change what it fixed; drop the flag, or compile the float model",
            g.weights
        )));
    }
    let source = if has_vectors {
        "calibrated on --calib".to_string()
    } else if opts.ranges == Ranges::DEFAULT {
        // The default needs vectors; a quantized model needs them only for what it leaves out.
        opts.ranges = Ranges::DataFree;
        if let Some(r) = g.input_range {
            opts.range.input_range = r;
        }
        "data-free ranges (give --calib to calibrate them)".to_string()
    } else {
        format!("--ranges {}", opts.ranges.name(&opts.range))
    };
    eprintln!(
        "the model is quantized: {} results and {} weight layers keep its grids",
        g.fixed, g.weights
    );
    let list = |v: &[(String, String)]| {
        v.iter()
            .map(|(op, loc)| format!("{loc} ({op})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !g.missing.is_empty() {
        eprintln!(
            "warning: {} results have no grid in the model; nibble quantizes them to 8 bits from {source}: {}",
            g.missing.len(),
            list(&g.missing)
        );
    }
    if !g.float_weights.is_empty() {
        eprintln!(
            "warning: {} weight layers are float in the model; nibble quantizes their weights itself (--weight-bits): {}",
            g.float_weights.len(),
            list(&g.float_weights)
        );
    }
    Ok(())
}
