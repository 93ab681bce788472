//! `nibble-plan-memory`: the static memory plan of the tile level. Every activation buffer gets
//! an `offset` into one arena, buffers whose live ranges (over the op order) do not overlap
//! sharing space — first fit, largest first, 16-byte aligned — and the function gets the arena
//! size as `nibble.arena_bytes`, which the generated C allocates. A reshape aliases its input;
//! constants and host-boundary values (quantize, dequantize) live outside the arena, and what a
//! model output reads stays live to the end. See `nibble_lower::memory_plan`.
//!
//! On a scheduled program (after `nibble-schedule`) the arena is external memory: a
//! `tile.alloc` is a buffer its `tile.dma_store`s alias, and every SRAM tile gets an
//! `sram_offset` from the interference graph of the tiles' live ranges (a tile a DMA store reads
//! stays live until the next compute op ran, so that compute writes the other buffer); the
//! function gets `nibble.sram_peak_bytes`. With `target=NAME|PATH.toml` a peak above the
//! target's SRAM is an error naming the layer. See `nibble_lower::sram_plan`.
//!
//! Precondition: tile level (after `nibble-lower-tile`); every op a tile op. Postcondition:
//! every `offset` planned, `nibble.arena_bytes` set; nothing else changes.
//!
//! Before:
//! ```mlir
//! func.func @main(…) {
//!   %1 = "tile.conv2d"(%0, %w, %b) {…, offset = 0 : i64} : … -> tensor<1x4x4x8xi8>
//!   %2 = "tile.max_pool2d"(%1) {…, offset = 0 : i64} : … -> tensor<1x2x2x8xi8>
//!   %3 = "tile.lut"(%2) {offset = 0 : i64, …} : … -> tensor<1x2x2x8xi8>
//! ```
//! After:
//! ```mlir
//! func.func @main(…) attributes {nibble.arena_bytes = 160 : i64} {
//!   %1 = "tile.conv2d"(%0, %w, %b) {…, offset = 0 : i64} : … -> tensor<1x4x4x8xi8>
//!   %2 = "tile.max_pool2d"(%1) {…, offset = 128 : i64} : … -> tensor<1x2x2x8xi8>
//!   %3 = "tile.lut"(%2) {offset = 0 : i64, …} : … -> tensor<1x2x2x8xi8>
//! ```

use crate::{Options, PassInfo};
use nibble_ir::Func;

pub const PASS: PassInfo = PassInfo {
    name: "nibble-plan-memory",
    summary: "Plan the tile level's activation arena (liveness-based offsets, nibble.arena_bytes) and a scheduled program's SRAM (option: target=NAME|PATH.toml)",
    run,
};

#[tracing::instrument(skip_all, name = "nibble-plan-memory")]
fn run(f: &Func, opts: &Options) -> Result<Func, String> {
    let target = match opts.get("target") {
        Some(_) => Some(crate::target_option(opts)?),
        None => None,
    };
    let mut f = f.clone();
    nibble_lower::memory_plan::plan_memory_for(&mut f, target.as_ref())
        .map_err(|e| e.to_string())?;
    Ok(f)
}
