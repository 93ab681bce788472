//! Squeeze-excite in f32 (`nibble-recognize-layers`): x[1,H,W,C] · gate(mean_hw(x)), the gate
//! [`nibble_graph::SqueezeExcite::gate`] of the channel means.

use crate::InterpError;
use nibble_graph::SqueezeExcite;

/// Squeeze-excite of x (shape `shape`, NHWC) with weights w1, b1, w2, b2.
pub(super) fn eval(
    p: SqueezeExcite,
    inputs: &[&[f32]],
    shape: &[usize],
) -> Result<Vec<f32>, InterpError> {
    let [x, w1, b1, w2, b2] = inputs else {
        return Err(InterpError::Invalid(
            "squeeze_excite needs 5 operands (x, w1, b1, w2, b2)".into(),
        ));
    };
    let c = (*shape.last().unwrap_or(&1)).max(1);
    // f32 channel sums (relative error ~1e-7·√(H·W), far inside the 1e-4 contract).
    let mut sum = vec![0.0f32; c];
    for row in x.chunks_exact(c) {
        for (m, &v) in sum.iter_mut().zip(row) {
            *m += v;
        }
    }
    let hw = (x.len() / c) as f64;
    let mean: Vec<f64> = sum.iter().map(|&s| s as f64 / hw).collect();
    let gate: Vec<f32> = p
        .gate([w1, b1, w2, b2], &mean)?
        .iter()
        .map(|&g| g as f32)
        .collect();
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks_exact(c) {
        out.extend(row.iter().zip(&gate).map(|(&v, &g)| v * g));
    }
    Ok(out)
}
