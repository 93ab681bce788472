//! `nibble-schedule{target=NAME|PATH.toml}`: the DMA schedule of the tile level for an
//! accelerator target. Each layer the accelerator computes becomes explicit data movement and
//! compute on SRAM tiles, in an order that is the schedule: a `tile.alloc` of the result in
//! external memory (DRAM), `tile.dma_load`s of the boxes a tile reads (input rows with their
//! halo, a channel slice of the weights and bias; a block is loaded once while consecutive
//! tiles share it), the layer's own op on those tiles (the padding at the tile's edges and the
//! channel slice of per-channel requantization set on it), and a `tile.dma_store` of its
//! output box. The loop order (weight- or output-stationary, with the MAC array's dataflow of
//! the same name) is chosen per layer by the cost model; with double buffering (the target's
//! `memory.double_buffer`) the loads of tile i+1 come before the compute of tile i. Layers the
//! accelerator lacks stay whole-tensor ops marked `cpu = "<reason>"` (the controller CPU runs
//! them on DRAM). Every scheduled op names its `layer`. Tile sizes come from `tile` (run
//! `nibble-tile-size{target=…}` first); `sram_offset`s from `nibble-plan-memory{target=…}`
//! after. See `nibble_lower::schedule`. Host targets get no schedule.
//!
//! Precondition: tile level, unscheduled. Postcondition: the same values, computed through DRAM
//! tensors and SRAM tiles (`nibble run` gives bit-identical outputs).
//!
//! Before (`npu-mcu`, `tile = [13, 32]`: two row tiles):
//! ```mlir
//! %4 = "tile.conv2d"(%1, %2, %3) {pad = array<i64: 0, 0, 0, 0>, tile = array<i64: 13, 32>, …}
//!        : (tensor<1x28x28x1xi8>, tensor<32x3x3x1xi8>, tensor<32xi32>) -> tensor<1x26x26x32xi8>
//! ```
//! After:
//! ```mlir
//! %a = "tile.alloc"() {layer = "conv1", offset = 0 : i64} : () -> tensor<1x26x26x32xi8>
//! %x0 = "tile.dma_load"(%1) {layer = "conv1", sram_offset = 0 : i64, start = array<i64: 0, 0, 0, 0>} : … -> tensor<1x15x28x1xi8>
//! %w = "tile.dma_load"(%2) {…, start = array<i64: 0, 0, 0, 0>} : … -> tensor<32x3x3x1xi8>
//! %b = "tile.dma_load"(%3) {…, start = array<i64: 0>} : … -> tensor<32xi32>
//! %x1 = "tile.dma_load"(%1) {…, start = array<i64: 0, 13, 0, 0>} : … -> tensor<1x15x28x1xi8>
//! %c0 = "tile.conv2d"(%x0, %w, %b) {dataflow = "ws", layer = "conv1", sram_offset = 0 : i64, tile = array<i64: 13, 32>, …} : … -> tensor<1x13x26x32xi8>
//! %y1 = "tile.dma_store"(%c0, %a) {layer = "conv1", offset = 0 : i64, start = array<i64: 0, 0, 0, 0>} : …
//! %c1 = "tile.conv2d"(%x1, %w, %b) {…} : … -> tensor<1x13x26x32xi8>
//! %y2 = "tile.dma_store"(%c1, %y1) {…, start = array<i64: 0, 13, 0, 0>} : …
//! ```

use crate::{Options, PassInfo};
use nibble_ir::Func;

pub const PASS: PassInfo = PassInfo {
    name: "nibble-schedule",
    summary:
        "DMA schedule of the tile level for an accelerator target (option: target=NAME|PATH.toml)",
    run,
};

#[tracing::instrument(skip_all, name = "nibble-schedule")]
fn run(f: &Func, opts: &Options) -> Result<Func, String> {
    let target = crate::target_option(opts)?;
    nibble_lower::schedule::schedule(f, &target).map_err(|e| e.to_string())
}
