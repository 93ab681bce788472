//! `nibble-check-accumulators`: proves that every accumulator of the tile level fits the C type
//! that holds it, from the operands' element types and zero points, the ops' shapes (taps,
//! reduced lengths, channels) and their constant parameters — the analysis of
//! `nibble_interp::accumulators`, which lists each op's sums and products. Where only an average
//! pool's int32 window sum can overflow (a global pool over millions of pixels), the sum is
//! widened: `acc_bits = 64` (the runtime's `nb_avg_pool2d_wide_s8`). Any other accumulator
//! that cannot be proven to fit is an error naming the op, its location (the ONNX node), the
//! bound and the type. The integer interpreter refuses the same programs, so neither wraps.
//!
//! Precondition: tile level (after `nibble-lower-tile`). Postcondition: every accumulator is
//! proven to fit; the only change is `acc_bits = 64` on average pools that need it.
//! `nibble compile` runs it right after `nibble-lower-tile`.
//!
//! Before (8601600 taps × max|x − zp| 255 > 2^31 − 1):
//! ```mlir
//! %1 = "tile.avg_pool2d"(%0) {kernel = array<i64: 2100, 4096>, input_zp = -128 : i32, …}
//! ```
//! After:
//! ```mlir
//! %1 = "tile.avg_pool2d"(%0) {acc_bits = 64 : i64, kernel = array<i64: 2100, 4096>, …}
//! ```

use crate::{Options, PassInfo};
use nibble_interp::accumulators;
use nibble_ir::{Attr, Func};
use nibble_tile as tile;

pub const PASS: PassInfo = PassInfo {
    name: "nibble-check-accumulators",
    summary: "Prove every tile-level accumulator fits its C type (widen average pools to int64, else refuse)",
    run,
};

#[tracing::instrument(skip_all, name = "nibble-check-accumulators")]
fn run(f: &Func, _: &Options) -> Result<Func, String> {
    let mut f = f.clone();
    // Widening changes only the window sums' type: check again until nothing is left to widen.
    loop {
        let overflows = accumulators::check(&f).map_err(|e| e.to_string())?;
        if let Some(o) = overflows.iter().find(|o| !o.widen) {
            return Err(o.to_string());
        }
        if overflows.is_empty() {
            return Ok(f);
        }
        for o in &overflows {
            tracing::info!(op = %o.at, bound = %o.bound, "average pool sum widened to int64");
            f.ops[o.op]
                .attrs
                .insert(tile::keys::ACC_BITS.into(), Attr::i64(64));
        }
    }
}
