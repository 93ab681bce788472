//! The squeeze-excite layer's parameters and its gate: `x[1,H,W,C] · gate(mean_hw(x))`, the
//! gate two 1×1 convolutions of the channel means with a hidden activation between them. The
//! float interpreter multiplies by the gate, data-free statistics scale each channel by it,
//! and `to_qnt` builds the layer's fixed-point parameters from the same parameters.

use crate::layers::Params;
use crate::GraphError;

/// The parameters of a `squeeze_excite` layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SqueezeExcite {
    /// The hidden ReLU's upper bound (unused with SiLU; +∞ in the text then).
    pub hidden_max: f64,
    /// The hidden activation is SiLU, a·sigmoid(a), instead of clamp(a, 0, hidden_max).
    pub silu: bool,
    /// The gate is g(α·z + β): a sigmoid, else a hard sigmoid clamp(·, 0, 1).
    pub alpha: f64,
    pub beta: f64,
    pub sigmoid: bool,
}

impl SqueezeExcite {
    /// Reads the parameters (`hidden_max`, `alpha`, `beta` needed; flags absent are false).
    pub(crate) fn read(p: &Params) -> Result<SqueezeExcite, GraphError> {
        Ok(SqueezeExcite {
            hidden_max: p.required("hidden_max")?,
            silu: p.flag("silu"),
            alpha: p.required("alpha")?,
            beta: p.required("beta")?,
            sigmoid: p.flag("sigmoid"),
        })
    }

    /// The parameters as text: `hidden_max` in f64, α and β as the f32 constants they come
    /// from, the flags 0 or 1.
    pub(crate) fn write(&self) -> String {
        format!(
            "hidden_max={:e},alpha={:e},beta={:e},sigmoid={},silu={}",
            self.hidden_max,
            self.alpha as f32,
            self.beta as f32,
            u8::from(self.sigmoid),
            u8::from(self.silu)
        )
    }

    /// The gate for channel means `mean`: g = clamp(α·(w2·h + b2) + β, 0, 1) (or the sigmoid
    /// of α·(w2·h + b2) + β), h = clamp(w1·mean + b1, 0, hidden_max) (or SiLU of it), w1
    /// [Cm,1,1,C] and w2 [C,1,1,Cm] (OHWI 1×1 convs), in f64.
    pub fn gate(
        &self,
        [w1, b1, w2, b2]: [&[f32]; 4],
        mean: &[f64],
    ) -> Result<Vec<f64>, GraphError> {
        let (c, cm) = (mean.len(), b1.len());
        if c == 0 || w1.len() != cm * c || w2.len() != c * cm || b2.len() != c {
            return Err(GraphError::Invalid(
                "squeeze_excite: weights must be [Cm,1,1,C] and [C,1,1,Cm], biases [Cm] and [C]"
                    .into(),
            ));
        }
        let dot = |w: &[f32], v: &[f64]| w.iter().zip(v).map(|(&w, &v)| w as f64 * v).sum::<f64>();
        let hidden: Vec<f64> = (0..cm)
            .map(|m| {
                let a = dot(&w1[m * c..][..c], mean) + b1[m] as f64;
                if self.silu {
                    a / (1.0 + (-a).exp())
                } else {
                    a.clamp(0.0, self.hidden_max)
                }
            })
            .collect();
        Ok((0..c)
            .map(|k| {
                let z = self.alpha * (dot(&w2[k * cm..][..cm], &hidden) + b2[k] as f64) + self.beta;
                if self.sigmoid {
                    1.0 / (1.0 + (-z).exp())
                } else {
                    z.clamp(0.0, 1.0)
                }
            })
            .collect())
    }
}
