//! `OUT/manifest.json`: what a compile produced, per layer and in total, for tools and bars to
//! read without parsing IR. Keys (stable; documented in `docs/manifest.md`):
//!
//! * top level: `target`, `kind`, `clock_mhz`, `sram_bytes`, `sram_peak_bytes`,
//!   `sram_preload_bytes` (weights kept resident in SRAM across runs, loaded once),
//!   `estimated_cycles`, `layers`, `totals`;
//! * per layer: `name` (ONNX node), `op`, `engine`, `weight_bits` (bits per stored weight:
//!   8, 4, 2 — also ternary —, 1 for binary), `weight_grid` (`8`, `4`, `2`, `ternary`,
//!   `binary`), `weight_values` (int8 constants read, incl. the two matrices of a
//!   squeeze-excite, on the op's grid), `act_bits`, `weight_bytes` (weights packed at their grid, plus
//!   biases), `macs`, `sensitivity_db` (output SQNR on the calibration vectors with only this
//!   layer's weights at each grid, `null` where it was not measured), `gemm`, `dataflow`,
//!   `tiles`, `estimated_cycles`, `compute_cycles`, `dma_cycles`, `dma_bytes`, `bound`;
//! * `totals`: `weight_bytes` (every constant as stored), `arena_bytes`, `weight_values`,
//!   `avg_weight_bits` (stored bits per weight value over all weight layers), `macs`,
//!   `sram_peak_bytes`, `estimated_cycles`, `latency_us`, `fps`.
//!
//! Cycle fields come from the static estimate (`nibble_lower::estimate`, which the npu
//! simulator's counts match); host targets have no cycle model, so they are `null` there.

use crate::Error;
use nibble_graph::attrs;
use nibble_ir::Func;
use nibble_lower::estimate::estimate;
use nibble_quantize::WeightWidth;
use nibble_target::Target;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Output SQNR in dB of a relative noise power (`null` when not finite).
fn sqnr_db(noise: f64) -> Value {
    let db = -10.0 * noise.log10();
    if db.is_finite() {
        json!((db * 100.0).round() / 100.0)
    } else {
        Value::Null
    }
}

/// Per weight layer of the prepared graph (by ONNX name), its measured output SQNR at each
/// grid (from `nibble.weight_noise`, present when the widths were chosen from measurements).
pub fn sensitivities(graph: &Func) -> HashMap<String, Value> {
    graph
        .ops
        .iter()
        .filter_map(|op| {
            let noise = op.dense_f32(attrs::WEIGHT_NOISE)?;
            let per: Map<String, Value> = WeightWidth::ALL
                .iter()
                .zip(&noise)
                .map(|(w, &n)| (w.name().to_string(), sqnr_db(f64::from(n))))
                .collect();
            Some((op.loc_name(), Value::Object(per)))
        })
        .collect()
}

/// The manifest of the tile program `tile` compiled for `target`; `sensitivity` from
/// [`sensitivities`] of the graph it came from.
pub fn manifest(
    tile: &Func,
    target: &Target,
    sensitivity: &HashMap<String, Value>,
) -> Result<String, Error> {
    let e = estimate(tile, target)?;
    let cycles = !target.is_host();
    let c = |v: u64| if cycles { json!(v) } else { Value::Null };
    let layers: Vec<Value> = e
        .layers
        .iter()
        .map(|l| {
            json!({
                "name": l.name,
                "op": l.op,
                "engine": if cycles { l.engine.as_str() } else { "cpu" },
                "weight_bits": l.weight_bits,
                "weight_grid": if l.weight_values > 0 { json!(l.weight_grid) } else { Value::Null },
                "weight_values": l.weight_values,
                "act_bits": l.act_bits,
                "weight_bytes": l.weight_bytes,
                "macs": l.macs,
                "sensitivity_db": sensitivity.get(&l.name).cloned().unwrap_or(Value::Null),
                "gemm": l.gemm.map(|g| json!({"m": g.m, "n": g.n, "k": g.k})),
                "dataflow": l.dataflow,
                "tiles": l.tiles,
                "estimated_cycles": c(l.cycles),
                "compute_cycles": c(l.compute_cycles),
                "dma_cycles": c(l.dma_cycles),
                "dma_bytes": c(l.dma_bytes),
                "bound": if cycles { json!(l.bound) } else { Value::Null },
            })
        })
        .collect();
    let values: u64 = e.layers.iter().map(|l| l.weight_values).sum();
    let bits: u64 = e.layers.iter().map(|l| l.weight_value_bits).sum();
    let avg_bits = if values == 0 {
        Value::Null
    } else {
        json!((bits as f64 / values as f64 * 1000.0).round() / 1000.0)
    };
    let finite = |x: f64| {
        if cycles && x.is_finite() {
            json!(x)
        } else {
            Value::Null
        }
    };
    let m = json!({
        "target": target.name,
        "kind": target.kind,
        "clock_mhz": target.clock_mhz,
        "sram_bytes": target.sram_bytes(),
        "sram_peak_bytes": e.sram_peak_bytes,
        "sram_preload_bytes": e.preload_bytes,
        "estimated_cycles": c(e.total_cycles),
        "layers": layers,
        "totals": {
            "weight_bytes": crate::weight_bytes(tile),
            "arena_bytes": nibble_tile::arena_bytes(tile).unwrap_or(0),
            "weight_values": values,
            "avg_weight_bits": avg_bits,
            "macs": e.layers.iter().map(|l| l.macs).sum::<u64>(),
            "sram_peak_bytes": e.sram_peak_bytes,
            "estimated_cycles": c(e.total_cycles),
            "latency_us": finite(e.latency_us()),
            "fps": finite(e.fps()),
        },
    });
    let mut text = serde_json::to_string_pretty(&m).map_err(|e| Error::Options(e.to_string()))?;
    text.push('\n');
    Ok(text)
}
