//! `nibble-lower-tile`: qnt level → tile level for a target (option `target=` a TOML file or
//! `generic-npu`, the default): fuses requant/clamp into conv and fully-connected ops, sizes
//! tiles to the target's SRAM and MAC array, and plans memory. See `nibble_lower::to_tile` for
//! the before/after IR.

use crate::{Options, PassInfo};
use nibble_ir::Func;
use nibble_target::Target;

pub const PASS: PassInfo = PassInfo {
    name: "nibble-lower-tile",
    summary: "Lower the qnt dialect to the tile dialect for a target (option: target=generic-npu|PATH.toml)",
    run,
};

#[tracing::instrument(skip_all, name = "nibble-lower-tile")]
fn run(f: &Func, opts: &Options) -> Result<Func, String> {
    let target =
        Target::load(opts.get("target").unwrap_or("generic-npu")).map_err(|e| e.to_string())?;
    nibble_lower::to_tile::to_tile(f, &target).map_err(|e| e.to_string())
}
