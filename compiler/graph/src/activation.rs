//! Unary activations and their formulas in f32 ([`Activation`]), and which graph op computes
//! which ([`Activation::of`]). The float interpreter executes them; the quantizer's lookup
//! tables and fused epilogues (`to_qnt`) and the data-free statistics read the same formulas.

use crate::layers::{HardSigmoid, Kind, Swish};
use crate::{tosa, GraphError};
use nibble_ir::Op;

/// A unary elementwise activation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Sigmoid,
    Tanh,
    Erf,
    HardSwish,
    HardSigmoid { alpha: f32, beta: f32 },
    Swish { beta: f32 },
    Gelu,
}

/// The lowest value of hard-swish, −⅜ (at x = −3/2): how far below zero it dips.
pub const HARD_SWISH_DIP: f64 = 0.375;

/// Hard-swish in f64, `x · clamp(x + 3, 0, 6) / 6`, for estimates made in f64 (the f32 form
/// the graph computes is [`Activation::HardSwish`]).
pub fn hard_swish_f64(x: f64) -> f64 {
    x * (x + 3.0).clamp(0.0, 6.0) / 6.0
}

/// erf(x): its Taylor series in f64 for |x| < 3 (about 1e-12 after cancellation), and
/// Abramowitz & Stegun 7.1.26 (error below 1.5e-7) in the tails, where erf is within 2e-5 of ±1.
pub fn erf(x: f32) -> f32 {
    let x = x as f64;
    if x.abs() >= 3.0 {
        let t = 1.0 / (1.0 + 0.3275911 * x.abs());
        let poly = t
            * (0.254829592
                + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        return (1.0 - poly * (-x * x).exp()).copysign(x) as f32;
    }
    let (mut term, mut sum, x2) = (x, x, x * x);
    for n in 1..80 {
        term *= -x2 / n as f64;
        let add = term / (2 * n + 1) as f64;
        sum += add;
        if add.abs() < 1e-17 {
            break;
        }
    }
    (2.0 / std::f64::consts::PI.sqrt() * sum) as f32
}

impl Activation {
    /// The activation of a unary elementwise op: `tosa.sigmoid`, `tosa.tanh`, `tosa.erf` and
    /// the `nibble` layers hard_swish, hard_sigmoid, swish and gelu; None for any other op
    /// (an error for one of those layers without its parameters).
    pub fn of(op: &Op) -> Result<Option<Activation>, GraphError> {
        Ok(Some(match op.name.as_str() {
            tosa::SIGMOID => Activation::Sigmoid,
            tosa::TANH => Activation::Tanh,
            tosa::ERF => Activation::Erf,
            tosa::CUSTOM => match Kind::of(op) {
                Some(Kind::HardSwish) => Activation::HardSwish,
                Some(Kind::HardSigmoid) => {
                    let p = HardSigmoid::from_op(op)?;
                    Activation::HardSigmoid {
                        alpha: p.alpha as f32,
                        beta: p.beta as f32,
                    }
                }
                Some(Kind::Swish) => Activation::Swish {
                    beta: Swish::from_op(op)?.beta as f32,
                },
                Some(Kind::Gelu) => Activation::Gelu,
                _ => return Ok(None),
            },
            _ => return Ok(None),
        }))
    }

    /// The function at one point (inlined into each kind's loop in [`Activation::map`]).
    #[inline(always)]
    pub fn apply(self, v: f32) -> f32 {
        match self {
            Activation::Sigmoid => 1.0 / (1.0 + (-v).exp()),
            Activation::Tanh => v.tanh(),
            Activation::Erf => erf(v),
            Activation::HardSwish => v * (v + 3.0).clamp(0.0, 6.0) * (1.0 / 6.0),
            Activation::HardSigmoid { alpha, beta } => (v * alpha + beta).clamp(0.0, 1.0),
            Activation::Swish { beta } => v / (1.0 + (-beta * v).exp()),
            Activation::Gelu => v * (erf(v * std::f32::consts::FRAC_1_SQRT_2) + 1.0) * 0.5,
        }
    }

    /// The function over a buffer it overwrites: one loop per kind, so each is compiled (and
    /// vectorised) on its own instead of calling through a pointer per element.
    pub fn apply_in_place(self, x: &mut [f32]) {
        fn each(x: &mut [f32], f: impl Fn(f32) -> f32) {
            x.iter_mut().for_each(|v| *v = f(*v));
        }
        match self {
            Activation::Sigmoid => each(x, |v| Activation::Sigmoid.apply(v)),
            Activation::Tanh => each(x, f32::tanh),
            Activation::Erf => each(x, erf),
            Activation::HardSwish => each(x, |v| Activation::HardSwish.apply(v)),
            a @ Activation::HardSigmoid { .. } => each(x, |v| a.apply(v)),
            a @ Activation::Swish { .. } => each(x, |v| a.apply(v)),
            Activation::Gelu => each(x, |v| Activation::Gelu.apply(v)),
        }
    }

    /// The function over a tensor.
    pub fn map(self, x: &[f32]) -> Vec<f32> {
        let mut y = x.to_vec();
        self.apply_in_place(&mut y);
        y
    }
}
