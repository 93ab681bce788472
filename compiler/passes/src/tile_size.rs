//! `nibble-tile-size{target=NAME|PATH.toml}`: sizes the tiles of the tile level for a target
//! (default `host`) and records it as `nibble.target`.
//!
//! Host targets: each conv's `tile = [rows, channels]` is chosen weights-stationary so a
//! tile's working set (the input rows it reads, its weight slice, its outputs) fits the cache
//! budget (`memory.sram_bytes`), channels not below the MAC rows and at most the runtime's 256;
//! each fully connected layer's `tile = [channels]` so weight slice, input and outputs fit; a
//! depthwise conv is one tile.
//!
//! Accelerator targets: every layer the accelerator computes gets the tile whose DMA schedule
//! the cost model finds fastest among those whose working set — every operand's largest box
//! and the output tile, twice with double buffering — fits the SRAM: `[rows, channels]` for
//! convolutions and pooling, `[channels]` for fully connected layers, `[rows]` for elementwise
//! ops. A layer whose smallest tile does not fit is an error naming it and the SRAM it needs.
//! See `nibble_lower::tile_size`.
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
//! After (`tiny-host`, a host target with 64 KiB and 8 MAC rows):
//! ```mlir
//! func.func @main(…) attributes {nibble.target = "tiny-host"} {
//!   %1 = "tile.conv2d"(%0, %w, %b) {…, tile = array<i64: 6, 32>} : …
//! ```

use crate::{Options, PassInfo};
use nibble_ir::Func;

pub const PASS: PassInfo = PassInfo {
    name: "nibble-tile-size",
    summary:
        "Size the tile level's tiles for a target (option: target=NAME|PATH.toml, default host)",
    run,
};

#[tracing::instrument(skip_all, name = "nibble-tile-size")]
fn run(f: &Func, opts: &Options) -> Result<Func, String> {
    let target = crate::target_option(opts)?;
    let mut f = f.clone();
    nibble_lower::tile_size::size_tiles(&mut f, &target).map_err(|e| e.to_string())?;
    Ok(f)
}
