//! Squeeze-excite in f32 (`nibble-recognize-layers`): x[1,H,W,C] · gate(mean_hw(x)), its
//! parameters, and the gate the quantizer's data-free statistics also read.

use crate::InterpError;
use nibble_ir::Op;

/// The parameters of a `nibble.squeeze_excite` op.
pub struct SqueezeExcite {
    /// The hidden ReLU's upper bound (unused with SiLU).
    pub hidden_max: f64,
    /// The hidden activation is SiLU, a·sigmoid(a), instead of clamp(a, 0, hidden_max).
    pub silu: bool,
    /// The gate is g(α·z + β): a sigmoid, else a hard sigmoid clamp(·, 0, 1).
    pub alpha: f64,
    pub beta: f64,
    pub sigmoid: bool,
}

/// The parameters of a `nibble.squeeze_excite` op (see [`SqueezeExcite`]).
pub fn squeeze_excite_params(op: &Op) -> Result<SqueezeExcite, InterpError> {
    let p = |k: &str| {
        op.custom_param(k)
            .ok_or_else(|| InterpError::Invalid(format!("squeeze_excite: missing parameter '{k}'")))
    };
    let flag = |k: &str| op.custom_param(k).unwrap_or(0.0) != 0.0;
    Ok(SqueezeExcite {
        hidden_max: p("hidden_max")?,
        silu: flag("silu"),
        alpha: p("alpha")?,
        beta: p("beta")?,
        sigmoid: flag("sigmoid"),
    })
}

/// Squeeze-excite of x (shape `shape`, NHWC) with weights w1, b1, w2, b2.
pub(super) fn eval(op: &Op, inputs: &[&[f32]], shape: &[usize]) -> Result<Vec<f32>, InterpError> {
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
    let gate: Vec<f32> = squeeze_excite_gate(op, [w1, b1, w2, b2], &mean)?
        .iter()
        .map(|&g| g as f32)
        .collect();
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks_exact(c) {
        out.extend(row.iter().zip(&gate).map(|(&v, &g)| v * g));
    }
    Ok(out)
}

/// A squeeze-excite op's gate for channel means `mean`: g = clamp(α·(w2·h + b2) + β, 0, 1) (or
/// the sigmoid of α·(w2·h + b2) + β),
/// h = clamp(w1·mean + b1, 0, hidden_max) (or SiLU of it), w1 [Cm,1,1,C] and w2 [C,1,1,Cm]
/// (OHWI 1×1 convs).
pub fn squeeze_excite_gate(
    op: &Op,
    [w1, b1, w2, b2]: [&[f32]; 4],
    mean: &[f64],
) -> Result<Vec<f64>, InterpError> {
    let p = squeeze_excite_params(op)?;
    let (c, cm) = (mean.len(), b1.len());
    if c == 0 || w1.len() != cm * c || w2.len() != c * cm || b2.len() != c {
        return Err(InterpError::Invalid(
            "squeeze_excite: weights must be [Cm,1,1,C] and [C,1,1,Cm], biases [Cm] and [C]".into(),
        ));
    }
    let dot = |w: &[f32], v: &[f64]| w.iter().zip(v).map(|(&w, &v)| w as f64 * v).sum::<f64>();
    let hidden: Vec<f64> = (0..cm)
        .map(|m| {
            let a = dot(&w1[m * c..][..c], mean) + b1[m] as f64;
            if p.silu {
                a / (1.0 + (-a).exp())
            } else {
                a.clamp(0.0, p.hidden_max)
            }
        })
        .collect();
    Ok((0..c)
        .map(|k| {
            let z = p.alpha * (dot(&w2[k * cm..][..cm], &hidden) + b2[k] as f64) + p.beta;
            if p.sigmoid {
                1.0 / (1.0 + (-z).exp())
            } else {
                z.clamp(0.0, 1.0)
            }
        })
        .collect())
}
