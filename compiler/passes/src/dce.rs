//! `nibble-dce`: dead-code elimination. Removes every op none of whose results is used (by an op
//! or the function's return), repeatedly, so chains that only fed dead ops go too; constants left
//! behind by earlier rewrites are the usual case. Works at every level (graph, qnt, tile): the
//! ops of all three are free of side effects.
//!
//! Before:
//! ```mlir
//! %c = "tosa.const"() … ; %d = tosa.mul %x, %c, %s …   // %d unused
//! return %x
//! ```
//! After:
//! ```mlir
//! return %x
//! ```

use crate::{Options, PassInfo};
use nibble_ir::Func;

pub const PASS: PassInfo = PassInfo {
    name: "nibble-dce",
    summary: "Remove ops whose results are never used",
    run,
};

#[tracing::instrument(skip_all, name = "nibble-dce")]
fn run(f: &Func, _: &Options) -> Result<Func, String> {
    let mut f = f.clone();
    let before = f.ops.len();
    f.compact();
    tracing::info!(removed = before - f.ops.len(), "dead ops removed");
    Ok(f)
}
