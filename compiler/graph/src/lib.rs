//! The graph level's vocabulary, defined once: the upstream `tosa` op names it is made of
//! ([`tosa`]), the `nibble.*` attributes passes leave for each other ([`attrs`]), the `nibble`
//! domain's `tosa.custom` layers with typed parameters ([`layers`], [`squeeze_excite`]), and
//! the activation formulas the float interpreter, the quantizer and data-free statistics share
//! ([`activation`]).
//!
//! Depends on `nibble-ir` alone, like the dialect crates of the other levels (`nibble-qnt`,
//! `nibble-tile`): the importer, the graph passes, calibration, `to_qnt` and the float
//! interpreter all read their names and formulas from here.

pub mod activation;
pub mod attrs;
pub mod layers;
pub mod squeeze_excite;
pub mod tosa;

pub use activation::Activation;
pub use layers::{ClampChannels, HardSigmoid, Kind, Layer, LayerNorm, Swish};
pub use squeeze_excite::SqueezeExcite;

/// A graph-level op that does not hold what its name promises.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphError {
    #[error("tosa.custom {layer}: missing parameter '{key}'")]
    MissingParameter {
        layer: &'static str,
        key: &'static str,
    },
    #[error("'{got}' is not a nibble {want} layer")]
    NotLayer { want: &'static str, got: String },
    #[error("{0}")]
    Invalid(String),
}

#[cfg(test)]
mod tests;
