//! The `nibble` domain's `tosa.custom` layers ([`nibble_graph::layers`], made by the
//! `nibble-recognize-layers` and `nibble-equalize` passes): unary activations in place,
//! per-channel elementwise layers here (PReLU, `scaled_hard_swish`, `clamp_channels`),
//! normalisations in [`super::norm`] and squeeze-excite in [`super::squeeze_excite`].

use super::{norm, squeeze_excite, Env};
use crate::tensor::dims;
use crate::InterpError;
use nibble_graph::{Activation, Kind, Layer};
use nibble_ir::{Func, Op};

/// A `tosa.custom` op.
pub(super) fn eval(f: &Func, op: &Op, env: &mut Env) -> Result<Vec<f32>, InterpError> {
    if op.operands.is_empty() {
        return Err(InterpError::Invalid("tosa.custom needs an operand".into()));
    }
    match Activation::of(op)? {
        Some(act) if op.operands.len() == 1 => {
            let mut x = env.owned(op, 0)?;
            act.apply_in_place(&mut x);
            Ok(x)
        }
        _ => custom(op, &env.read_all(op)?, &dims(f, op.operands[0])),
    }
}

/// A custom layer of `inputs` (the first of shape `shape`).
fn custom(op: &Op, inputs: &[&[f32]], shape: &[usize]) -> Result<Vec<f32>, InterpError> {
    let x = inputs[0];
    if let Some(act) = Activation::of(op)? {
        return Ok(act.map(x));
    }
    // The channels (last axis) and the per-channel operand `k`.
    let c = *shape.last().unwrap_or(&1);
    let per_channel = |k: usize| inputs.get(k).copied().unwrap_or(&[]);
    match Layer::from_op(op)? {
        Some(Layer::LayerNorm(p)) => norm::layer_norm(p, inputs, c),
        Some(Layer::Softmax) => Ok(norm::softmax(x, c)),
        Some(Layer::SqueezeExcite(p)) => squeeze_excite::eval(p, inputs, shape),
        Some(Layer::Prelu) => prelu(x, per_channel(1), c),
        Some(Layer::ScaledHardSwish) => scaled_hard_swish(x, per_channel(1), c),
        Some(Layer::ClampChannels(p)) => clamp_channels(x, p.min as f32, per_channel(1), c),
        _ => Err(unknown(op)),
    }
}

/// The error of a custom op no layer of the `nibble` domain.
fn unknown(op: &Op) -> InterpError {
    let text = |k: &str| match op.attrs.get(k) {
        Some(nibble_ir::Attr::Str(s)) => s.as_str(),
        _ => "",
    };
    let domain = text(nibble_graph::layers::DOMAIN_NAME);
    let name = text(nibble_graph::layers::OPERATOR_NAME);
    let known: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
    InterpError::Invalid(format!(
        "tosa.custom '{domain}.{name}' is not supported ({}: {})",
        nibble_graph::layers::DOMAIN,
        known.join(", ")
    ))
}

/// `g(value, channel parameter)` over the rows of `x` (`c` channels a row).
fn per_channel(x: &[f32], params: &[f32], c: usize, g: impl Fn(f32, f32) -> f32) -> Vec<f32> {
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks_exact(c.max(1)) {
        out.extend(row.iter().zip(params).map(|(&v, &p)| g(v, p)));
    }
    out
}

/// PReLU: x where x ≥ 0, else x·slope (one slope, or one per channel).
fn prelu(x: &[f32], slope: &[f32], c: usize) -> Result<Vec<f32>, InterpError> {
    if slope.len() != 1 && slope.len() != c {
        return Err(InterpError::Invalid(
            "prelu: the slope needs one value or one per channel".into(),
        ));
    }
    let slopes: Vec<f32> = match slope {
        [s] => vec![*s; c],
        _ => slope.to_vec(),
    };
    Ok(per_channel(
        x,
        &slopes,
        c,
        |v, s| if v >= 0.0 { v } else { v * s },
    ))
}

/// hard_swish(s_c·x) / s_c per channel c (a hard-swish after cross-layer equalization).
fn scaled_hard_swish(x: &[f32], s: &[f32], c: usize) -> Result<Vec<f32>, InterpError> {
    let positive = |v: &f32| v.partial_cmp(&0.0) == Some(std::cmp::Ordering::Greater);
    if s.len() != c || !s.iter().all(positive) {
        return Err(InterpError::Invalid(
            "scaled_hard_swish: the scale needs one positive value per channel".into(),
        ));
    }
    Ok(per_channel(x, s, c, |v, k| {
        Activation::HardSwish.apply(v * k) / k
    }))
}

/// clamp(x, min, max_c) per channel c (a ReLU6 after cross-layer equalization).
fn clamp_channels(x: &[f32], lo: f32, hi: &[f32], c: usize) -> Result<Vec<f32>, InterpError> {
    if hi.len() != c {
        return Err(InterpError::Invalid(
            "clamp_channels: the upper bound needs one value per channel".into(),
        ));
    }
    Ok(per_channel(x, hi, c, |v, m| v.max(lo).min(m)))
}
