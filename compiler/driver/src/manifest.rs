//! `OUT/manifest.json`: what a compile produced, per layer and in total, for tools and bars to
//! read without parsing IR: the target, each layer's op, unit, widths, weight bytes, MACs,
//! and (accelerator targets) its estimated cycles with the roofline bound, the SRAM peak and
//! the total cycles, latency and frames per second at the target's clock (the static estimate
//! of `nibble_lower::estimate`, which the simulator's counts match). Host targets have no
//! cycle model: their cycle fields are `null`.

use crate::Error;
use nibble_ir::Func;
use nibble_lower::estimate::{estimate, Estimate};
use nibble_target::Target;
use std::fmt::Write;

/// A JSON string literal.
fn string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON number of a finite float (null otherwise).
fn number(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "null".into()
    }
}

/// `v` or `null`.
fn opt(v: Option<u64>) -> String {
    v.map_or("null".into(), |v| v.to_string())
}

/// The manifest of the tile program `tile` compiled for `target`.
pub fn manifest(tile: &Func, target: &Target) -> Result<String, Error> {
    let e: Estimate = estimate(tile, target)?;
    let cycles = !target.is_host();
    let c = |v: u64| opt(cycles.then_some(v));
    let mut layers = Vec::new();
    for l in &e.layers {
        let gemm = l.gemm.map_or("null".into(), |g| {
            format!("{{\"m\": {}, \"n\": {}, \"k\": {}}}", g.m, g.n, g.k)
        });
        let df = l.dataflow.as_deref().map_or("null".into(), string);
        layers.push(format!(
            "    {{\"name\": {}, \"op\": {}, \"engine\": {}, \"weight_bits\": {}, \"act_bits\": {}, \
             \"weight_bytes\": {}, \"macs\": {}, \"gemm\": {gemm}, \"dataflow\": {df}, \
             \"tiles\": {}, \"estimated_cycles\": {}, \"compute_cycles\": {}, \
             \"dma_cycles\": {}, \"dma_bytes\": {}, \"bound\": {}}}",
            string(&l.name),
            string(&l.op),
            string(if cycles { &l.engine } else { "cpu" }),
            l.weight_bits,
            l.act_bits,
            l.weight_bytes,
            l.macs,
            l.tiles,
            c(l.cycles),
            c(l.compute_cycles),
            c(l.dma_cycles),
            c(l.dma_bytes),
            if cycles { string(l.bound) } else { "null".into() },
        ));
    }
    let weight_bytes = crate::weight_bytes(tile);
    let arena = nibble_tile::arena_bytes(tile).unwrap_or(0);
    let macs: u64 = e.layers.iter().map(|l| l.macs).sum();
    let (lat, fps) = if cycles {
        (number(e.latency_us()), number(e.fps()))
    } else {
        ("null".into(), "null".into())
    };
    Ok(format!(
        "{{\n  \"target\": {}, \"kind\": {}, \"clock_mhz\": {},\n  \"sram_bytes\": {}, \
         \"sram_peak_bytes\": {}, \"estimated_cycles\": {},\n  \"layers\": [\n{}\n  ],\n  \
         \"totals\": {{\"weight_bytes\": {weight_bytes}, \"arena_bytes\": {arena}, \
         \"macs\": {macs}, \"sram_peak_bytes\": {}, \"estimated_cycles\": {}, \
         \"latency_us\": {lat}, \"fps\": {fps}}}\n}}\n",
        string(&target.name),
        string(&target.kind),
        number(target.clock_mhz),
        target.sram_bytes(),
        e.sram_peak_bytes,
        c(e.total_cycles),
        layers.join(",\n"),
        e.sram_peak_bytes,
        c(e.total_cycles),
    ))
}
