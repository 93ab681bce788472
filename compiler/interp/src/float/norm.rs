//! Normalisations over the last axis in f32: the `nibble` domain's LayerNorm (statistics in
//! f64) and softmax.

use crate::InterpError;
use nibble_graph::LayerNorm;

/// LayerNorm over rows of `c` channels: `inputs` are x, gamma and beta (one per channel); ε
/// is taken at f32 precision, as the graph's constants.
pub(super) fn layer_norm(
    p: LayerNorm,
    inputs: &[&[f32]],
    c: usize,
) -> Result<Vec<f32>, InterpError> {
    let eps = p.epsilon as f32 as f64;
    let x = inputs[0];
    let operand = |k: usize| inputs.get(k).copied().unwrap_or(&[]);
    let (gamma, beta) = (operand(1), operand(2));
    if gamma.len() != c || beta.len() != c {
        return Err(InterpError::Invalid(
            "layer_norm: gamma and beta need one value per channel".into(),
        ));
    }
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks_exact(c.max(1)) {
        let mean = row.iter().map(|&v| v as f64).sum::<f64>() / c as f64;
        let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / c as f64;
        let inv = 1.0 / (var + eps).sqrt();
        let normed = row.iter().zip(gamma).zip(beta);
        out.extend(
            normed.map(|((&v, &g), &b)| ((v as f64 - mean) * inv * g as f64 + b as f64) as f32),
        );
    }
    Ok(out)
}

/// Softmax over rows of `c` values.
pub(super) fn softmax(x: &[f32], c: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks_exact(c.max(1)) {
        let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let start = out.len();
        out.extend(row.iter().map(|&v| (v - m).exp()));
        let inv = 1.0 / out[start..].iter().sum::<f32>();
        out[start..].iter_mut().for_each(|v| *v *= inv);
    }
    out
}
