//! `nibble-fold-requant`: folds chains of requantizations at the qnt level by equality
//! saturation (egg): `requant(requant(x))` becomes one requant whose fixed-point scale is the
//! exact product of the two (one final rounding), and a requant after a ReLU clamp moves before
//! it so the chain conv → requant → relu → requant collapses.
//!
//! Before:
//! ```mlir
//! %r = "qnt.requant"(%acc) {multiplier = M1, shift = S1} -> …<i8:f32, s1>
//! %c = "qnt.clamp"(%r) {min = 0, max = 127}
//! %o = "qnt.requant"(%c) {multiplier = M2, shift = S2} -> …<i8:f32, s2>
//! ```
//! After:
//! ```mlir
//! %r = "qnt.requant"(%acc) {multiplier = M1∘M2, shift = S} -> …<i8:f32, s2>
//! %o = "qnt.clamp"(%r) {min = 0, max = 127}
//! ```

use crate::{Options, PassInfo};
use nibble_ir::Func;

pub const PASS: PassInfo = PassInfo {
    name: "nibble-fold-requant",
    summary: "Fold requantization chains with e-graph rewriting (egg)",
    run,
};

#[tracing::instrument(skip_all, name = "nibble-fold-requant")]
fn run(f: &Func, _: &Options) -> Result<Func, String> {
    let (out, report) = nibble_eqsat::fold_requant(f).map_err(|e| e.to_string())?;
    tracing::info!(
        before = report.requants_before,
        after = report.requants_after,
        iterations = report.iterations,
        "requant chains folded"
    );
    Ok(out)
}
