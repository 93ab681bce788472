//! `nibble-lower-tile`: the qnt → tile conversion. Every qnt op becomes its integer-only tile
//! op on plain integer tensors; the `qnt.requant` (or PReLU / hard-swish / swish epilogue, and a
//! `qnt.clamp` after it) that alone reads a conv's, fully connected layer's or matmul's i32
//! accumulator is fused into that op's requantization fields. 16-bit activations are checked
//! (kernels that read and write them, accumulator overflow). See `nibble_lower::to_tile`.
//!
//! The schedule is left to the next passes, which a target may replace: tiled ops get one tile,
//! the whole output, until `nibble-tile-size{target=…}`; every `offset` is 0 and there is no
//! `nibble.arena_bytes` until `nibble-plan-memory`. `nibble compile` runs
//! `nibble-lower-tile,nibble-tile-size{target=…},nibble-plan-memory`. The option `target=` is
//! still accepted (and must name a valid target), so pipelines written when this pass also
//! sized tiles keep parsing; sizing is `nibble-tile-size`'s job.
//!
//! Precondition: qnt level (after `nibble-quantize`, usually `nibble-fold-requant`).
//! Postcondition: tile level, unscheduled.
//!
//! Before:
//! ```mlir
//! %a = "qnt.conv2d"(%x, %w, %b) {…} : (…) -> tensor<1x4x4x2x!quant.uniform<i32:f32, 6.2E-5>>
//! %r = "qnt.requant"(%a) {multiplier = 1082168654 : i32, shift = 38 : i32, …} -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.0157>>
//! %c = "qnt.clamp"(%r) {max = 127 : i64, min = 0 : i64}
//! ```
//! After:
//! ```mlir
//! %c = "tile.conv2d"(%x, %w, %b) {clamp_max = 127 : i32, clamp_min = 0 : i32, multiplier = array<i32: 1082168654>,
//!        offset = 0 : i64, shift = array<i32: 38>, tile = array<i64: 4, 2>, …} : (…) -> tensor<1x4x4x2xi8>
//! ```

use crate::{Options, PassInfo};
use nibble_ir::Func;
use nibble_target::Target;

pub const PASS: PassInfo = PassInfo {
    name: "nibble-lower-tile",
    summary: "Convert the qnt dialect to the tile dialect (unscheduled: then nibble-tile-size, nibble-plan-memory)",
    run,
};

#[tracing::instrument(skip_all, name = "nibble-lower-tile")]
fn run(f: &Func, opts: &Options) -> Result<Func, String> {
    if let Some(t) = opts.get("target") {
        Target::load(t).map_err(|e| e.to_string())?;
    }
    nibble_lower::to_tile::convert(f).map_err(|e| e.to_string())
}
