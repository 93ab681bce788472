//! `nibble-tile-size{target=generic-npu|PATH.toml}`: sizes the tiles of the tile level for a
//! target (default `generic-npu`) and records it as `nibble.target`. Each conv's `tile =
//! [rows, channels]` is chosen weights-stationary so a tile's working set (the input rows it
//! reads, its weight slice, its outputs) fits the target's SRAM, channels not below the MAC
//! rows and at most the runtime's 256; each fully connected layer's `tile = [channels]` so
//! weight slice, input and outputs fit; a depthwise conv is one tile. See
//! `nibble_lower::tile_size`. A target with another schedule replaces this pass.
//!
//! Precondition: tile level (after `nibble-lower-tile`); every op a tile op. Postcondition: the
//! same ops, `tile` set for the target; nothing else changes.
//!
//! Before:
//! ```mlir
//! func.func @main(…) {
//!   %1 = "tile.conv2d"(%0, %w, %b) {…, stride = array<i64: 1, 1>, tile = array<i64: 64, 64>}
//!          : (tensor<1x64x64x64xi8>, tensor<64x3x3x64xi8>, tensor<64xi32>) -> tensor<1x64x64x64xi8>
//! ```
//! After (`generic-npu`, 64 KiB):
//! ```mlir
//! func.func @main(…) attributes {nibble.target = "generic-npu"} {
//!   %1 = "tile.conv2d"(%0, %w, %b) {…, tile = array<i64: 6, 32>} : …
//! ```

use crate::{Options, PassInfo};
use nibble_ir::Func;
use nibble_target::Target;

pub const PASS: PassInfo = PassInfo {
    name: "nibble-tile-size",
    summary: "Size the tile level's tiles for a target (option: target=generic-npu|PATH.toml)",
    run,
};

#[tracing::instrument(skip_all, name = "nibble-tile-size")]
fn run(f: &Func, opts: &Options) -> Result<Func, String> {
    let target =
        Target::load(opts.get("target").unwrap_or("generic-npu")).map_err(|e| e.to_string())?;
    let mut f = f.clone();
    nibble_lower::tile_size::size_tiles(&mut f, &target).map_err(|e| e.to_string())?;
    Ok(f)
}
