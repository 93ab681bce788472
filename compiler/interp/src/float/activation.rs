//! Unary activations in f32: their formulas ([`Activation`]), which op computes which
//! ([`unary_activation`]), and tosa.sigmoid/tanh/erf. The quantizer's lookup tables and fused
//! epilogues and the data-free statistics read the same formulas.

use super::Env;
use crate::InterpError;
use nibble_ir::Op;

/// tosa.tanh, tosa.erf and tosa.sigmoid.
pub(super) fn eval(op: &Op, env: &mut Env) -> Result<Vec<f32>, InterpError> {
    let act = unary_activation(op)?
        .ok_or_else(|| InterpError::Invalid(format!("{} has no activation function", op.name)))?;
    let mut x = env.owned(op, 0)?;
    act.apply_in_place(&mut x);
    Ok(x)
}

/// erf(x): its Taylor series in f64 for |x| < 3 (about 1e-12 after cancellation), and
/// Abramowitz & Stegun 7.1.26 (error below 1.5e-7) in the tails, where erf is within 2e-5 of ±1.
fn erf(x: f32) -> f32 {
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

impl Activation {
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

/// The activation of a unary elementwise op (tosa.sigmoid/tanh/erf and the `nibble` custom
/// hard_swish, hard_sigmoid, swish and gelu), shared by this interpreter, the lookup tables and
/// fused epilogues the quantizer builds, and data-free statistics; None for any other op.
pub fn unary_activation(op: &Op) -> Result<Option<Activation>, InterpError> {
    Ok(Some(match op.name.as_str() {
        "tosa.sigmoid" => Activation::Sigmoid,
        "tosa.tanh" => Activation::Tanh,
        "tosa.erf" => Activation::Erf,
        "tosa.custom" => {
            let text = |k: &str| match op.attrs.get(k) {
                Some(nibble_ir::Attr::Str(s)) => s.clone(),
                _ => String::new(),
            };
            if text("domain_name") != "nibble" {
                return Ok(None);
            }
            let param = |key: &str| -> Result<f32, InterpError> {
                op.custom_param(key).map(|v| v as f32).ok_or_else(|| {
                    InterpError::Invalid(format!("tosa.custom: missing parameter '{key}'"))
                })
            };
            match text("operator_name").as_str() {
                "hard_swish" => Activation::HardSwish,
                "hard_sigmoid" => Activation::HardSigmoid {
                    alpha: param("alpha")?,
                    beta: param("beta")?,
                },
                "swish" => Activation::Swish {
                    beta: param("beta")?,
                },
                "gelu" => Activation::Gelu,
                _ => return Ok(None),
            }
        }
        _ => return Ok(None),
    }))
}
