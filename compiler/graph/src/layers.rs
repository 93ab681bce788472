//! The `nibble` domain's layers: single `tosa.custom` ops standing for chains of tosa ops
//! (`nibble-recognize-layers`) or for per-channel forms of an activation (`nibble-equalize`),
//! so that the quant level sees one op per layer and can give it one integer kernel. A layer
//! is written
//!
//! ```mlir
//! %y = tosa.custom %x, … {domain_name = "nibble", operator_name = "swish", implementation_attrs = "beta=1e0"}
//! ```
//!
//! [`Kind`] names the layers; [`Layer`] is one with its parameters typed. [`Layer::set_on`]
//! writes the three attributes (the parameters as `key=value,…` text) and [`Layer::from_op`]
//! (or a parameter struct's `from_op`) reads them back; nothing else parses the text.
//!
//! | `operator_name` | operands | parameters | function |
//! |---|---|---|---|
//! | `hard_swish` | x | | `x · clamp(x + 3, 0, 6) / 6` |
//! | `scaled_hard_swish` | x, s | | `hard_swish(s_c · x) / s_c` per channel c |
//! | `clamp_channels` | x, hi | [`ClampChannels`] | `clamp(x, min, hi_c)` per channel c |
//! | `hard_sigmoid` | x | [`HardSigmoid`] | `clamp(x·α + β, 0, 1)` |
//! | `gelu` | x | | `x · (erf(x/√2) + 1) / 2` |
//! | `swish` | x | [`Swish`] | `x · sigmoid(x·β)` (SiLU when β = 1) |
//! | `layer_norm` | x, γ, β | [`LayerNorm`] | `(x − mean) / √(var + ε) · γ + β` over the last axis |
//! | `prelu` | x, slope | | `x ≥ 0 ? x : x · slope` (one slope or one per channel) |
//! | `softmax` | x | | `exp(x) / Σ exp(x)` over the last axis |
//! | `squeeze_excite` | x, w₁, b₁, w₂, b₂ | [`SqueezeExcite`] | `x · gate(mean_hw(x))` |
//!
//! Channels are the last axis. The unary formulas are [`crate::activation::Activation`]'s.

use crate::squeeze_excite::SqueezeExcite;
use crate::{tosa, GraphError};
use nibble_ir::{Attr, Op, ValueId};

/// The `domain_name` of nibble's layers.
pub const DOMAIN: &str = "nibble";
/// The `tosa.custom` attribute naming the domain.
pub const DOMAIN_NAME: &str = "domain_name";
/// The `tosa.custom` attribute naming the layer ([`Kind::name`]).
pub const OPERATOR_NAME: &str = "operator_name";
/// The `tosa.custom` attribute holding the parameters, `key=value,…`.
pub const IMPLEMENTATION_ATTRS: &str = "implementation_attrs";

/// Which layer a `tosa.custom` op of domain `nibble` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    HardSwish,
    ScaledHardSwish,
    ClampChannels,
    HardSigmoid,
    Gelu,
    Swish,
    LayerNorm,
    Prelu,
    Softmax,
    SqueezeExcite,
}

impl Kind {
    /// Every layer.
    pub const ALL: [Kind; 10] = [
        Kind::HardSwish,
        Kind::ScaledHardSwish,
        Kind::ClampChannels,
        Kind::HardSigmoid,
        Kind::Gelu,
        Kind::Swish,
        Kind::LayerNorm,
        Kind::Prelu,
        Kind::Softmax,
        Kind::SqueezeExcite,
    ];

    /// The layer's `operator_name`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::HardSwish => "hard_swish",
            Kind::ScaledHardSwish => "scaled_hard_swish",
            Kind::ClampChannels => "clamp_channels",
            Kind::HardSigmoid => "hard_sigmoid",
            Kind::Gelu => "gelu",
            Kind::Swish => "swish",
            Kind::LayerNorm => "layer_norm",
            Kind::Prelu => "prelu",
            Kind::Softmax => "softmax",
            Kind::SqueezeExcite => "squeeze_excite",
        }
    }

    /// The layer of an `operator_name`.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The layer `op` is: a `tosa.custom` of domain `nibble` with a known `operator_name`
    /// (its parameters unread); None for any other op.
    pub fn of(op: &Op) -> Option<Kind> {
        if op.name != tosa::CUSTOM || text(op, DOMAIN_NAME) != Some(DOMAIN) {
            return None;
        }
        Kind::from_name(text(op, OPERATOR_NAME)?)
    }
}

/// The string attribute `key` of `op`.
fn text<'a>(op: &'a Op, key: &str) -> Option<&'a str> {
    match op.attrs.get(key) {
        Some(Attr::Str(s)) => Some(s),
        _ => None,
    }
}

/// What `op` computes, for reports and table names: the `operator_name` of a custom op, else
/// the op name without `tosa.` (`conv2d`).
pub fn label(op: &Op) -> &str {
    text(op, OPERATOR_NAME).unwrap_or_else(|| tosa::short_name(&op.name))
}

/// A hard sigmoid `clamp(x·α + β, 0, 1)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HardSigmoid {
    pub alpha: f64,
    pub beta: f64,
}

/// A swish `x · sigmoid(x·β)`; β = 1 is SiLU.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Swish {
    pub beta: f64,
}

/// A LayerNorm over the last axis with variance offset ε.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNorm {
    pub epsilon: f64,
}

/// A clamp with one lower bound and per-channel upper bounds (the operand): a ReLU6 after
/// cross-layer equalization.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClampChannels {
    pub min: f64,
}

/// A layer with its parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    HardSwish,
    ScaledHardSwish,
    ClampChannels(ClampChannels),
    HardSigmoid(HardSigmoid),
    Gelu,
    Swish(Swish),
    LayerNorm(LayerNorm),
    Prelu,
    Softmax,
    SqueezeExcite(SqueezeExcite),
}

/// The `implementation_attrs` text of one op, read as `key=value` pairs separated by commas.
/// Parameters are numbers; a flag is a number, true unless 0.
pub(crate) struct Params<'a> {
    layer: &'static str,
    text: &'a str,
}

impl Params<'_> {
    /// The value of `key` (the first that parses as a number).
    pub(crate) fn get(&self, key: &str) -> Option<f64> {
        self.text.split(',').find_map(|kv| {
            kv.split_once('=')
                .filter(|(k, _)| *k == key)
                .and_then(|(_, v)| v.parse().ok())
        })
    }
    /// The value of `key`, which the layer needs.
    pub(crate) fn required(&self, key: &'static str) -> Result<f64, GraphError> {
        self.get(key).ok_or(GraphError::MissingParameter {
            layer: self.layer,
            key,
        })
    }
    /// A flag: absent is false.
    pub(crate) fn flag(&self, key: &str) -> bool {
        self.get(key).unwrap_or(0.0) != 0.0
    }
}

// Parameters are written at the precision they were found in: values taken from f32
// constants as the shortest decimal of the f32 (`{:e}` of the f32), others as f64. They read
// back as the f64 of that decimal. `model.graph.mlir` holds this text, so it is part of the
// output: the formats below must not change.

impl Layer {
    /// Which layer this is.
    pub fn kind(&self) -> Kind {
        match self {
            Layer::HardSwish => Kind::HardSwish,
            Layer::ScaledHardSwish => Kind::ScaledHardSwish,
            Layer::ClampChannels(_) => Kind::ClampChannels,
            Layer::HardSigmoid(_) => Kind::HardSigmoid,
            Layer::Gelu => Kind::Gelu,
            Layer::Swish(_) => Kind::Swish,
            Layer::LayerNorm(_) => Kind::LayerNorm,
            Layer::Prelu => Kind::Prelu,
            Layer::Softmax => Kind::Softmax,
            Layer::SqueezeExcite(_) => Kind::SqueezeExcite,
        }
    }

    /// The layer `op` is, with its parameters; None for an op that is no nibble layer, an
    /// error for a layer missing a parameter it needs.
    pub fn from_op(op: &Op) -> Result<Option<Layer>, GraphError> {
        let Some(kind) = Kind::of(op) else {
            return Ok(None);
        };
        let p = Params {
            layer: kind.name(),
            text: text(op, IMPLEMENTATION_ATTRS).unwrap_or(""),
        };
        Ok(Some(match kind {
            Kind::HardSwish => Layer::HardSwish,
            Kind::ScaledHardSwish => Layer::ScaledHardSwish,
            Kind::ClampChannels => Layer::ClampChannels(ClampChannels {
                min: p.required("min")?,
            }),
            Kind::HardSigmoid => Layer::HardSigmoid(HardSigmoid {
                alpha: p.required("alpha")?,
                beta: p.required("beta")?,
            }),
            Kind::Gelu => Layer::Gelu,
            Kind::Swish => Layer::Swish(Swish {
                beta: p.required("beta")?,
            }),
            Kind::LayerNorm => Layer::LayerNorm(LayerNorm {
                epsilon: p.required("epsilon")?,
            }),
            Kind::Prelu => Layer::Prelu,
            Kind::Softmax => Layer::Softmax,
            Kind::SqueezeExcite => Layer::SqueezeExcite(SqueezeExcite::read(&p)?),
        }))
    }

    /// The parameters as `implementation_attrs` text.
    pub fn implementation_attrs(&self) -> String {
        match self {
            Layer::ClampChannels(p) => format!("min={}", p.min),
            Layer::HardSigmoid(p) => format!("alpha={:e},beta={:e}", p.alpha as f32, p.beta as f32),
            Layer::Swish(p) => format!("beta={:e}", p.beta as f32),
            Layer::LayerNorm(p) => format!("epsilon={:e}", p.epsilon as f32),
            Layer::SqueezeExcite(p) => p.write(),
            Layer::HardSwish
            | Layer::ScaledHardSwish
            | Layer::Gelu
            | Layer::Prelu
            | Layer::Softmax => String::new(),
        }
    }

    /// Makes `op` this layer: a `tosa.custom` of domain `nibble` with this name and these
    /// parameters. Its other attributes stay.
    pub fn set_on(&self, op: &mut Op) {
        op.name = tosa::CUSTOM.into();
        let attrs = [
            (DOMAIN_NAME, DOMAIN.to_string()),
            (OPERATOR_NAME, self.kind().name().to_string()),
            (IMPLEMENTATION_ATTRS, self.implementation_attrs()),
        ];
        for (k, v) in attrs {
            op.attrs.insert(k.into(), Attr::Str(v));
        }
    }

    /// A new op of this layer: `result = tosa.custom(operands)` at `loc`.
    pub fn op(&self, operands: Vec<ValueId>, result: ValueId, loc: Option<String>) -> Op {
        let mut op = Op {
            name: tosa::CUSTOM.into(),
            operands,
            results: vec![result],
            attrs: Default::default(),
            loc,
        };
        self.set_on(&mut op);
        op
    }
}

/// `from_op` of each parameter struct: the parameters of an op of that layer.
macro_rules! typed_reader {
    ($($t:ident),*) => {$(
        impl $t {
            /// The parameters of `op`, a layer of this kind; an error for any other op or a
            /// missing parameter.
            pub fn from_op(op: &Op) -> Result<$t, GraphError> {
                match Layer::from_op(op)? {
                    Some(Layer::$t(p)) => Ok(p),
                    _ => Err(GraphError::NotLayer {
                        want: Kind::$t.name(),
                        got: label(op).to_string(),
                    }),
                }
            }
        }
    )*};
}

typed_reader!(ClampChannels, HardSigmoid, Swish, LayerNorm, SqueezeExcite);
