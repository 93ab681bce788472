//! Equality saturation at the qnt level with egg.
//!
//! - [`lang`]: the e-graph language — `requant` and `clamp` as interpreted nodes whose
//!   parameters are typed leaves (exact fixed-point scales, integer bounds), every other op an
//!   opaque node that rules never look inside.
//! - [`rules`]: the rewrite rules, one table per topic.
//! - [`bridge`]: any single-result qnt function ⇄ e-graph, and extraction back to a function.
//!
//! Runs are deterministic: iteration and node limits only (no wall-clock limit binds).

pub mod bridge;
pub mod lang;
pub mod rules;
pub mod widths;

pub use bridge::fold_requant;

#[derive(Debug, thiserror::Error)]
pub enum EqsatError {
    #[error("the e-graph bridge supports single-result ops only; '{0}' has {1} results")]
    MultiResult(String, usize),
    #[error("{0}")]
    Invalid(String),
}
