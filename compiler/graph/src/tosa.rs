//! The upstream `tosa` ops the graph level is made of: the importer writes them, the graph
//! passes match and rewrite them, the float interpreter executes them and `to_qnt` converts
//! them. One constant per op name, so a misspelt name is a compile error, not an op that
//! silently never matches.

pub const CONST: &str = "tosa.const";
pub const CONST_SHAPE: &str = "tosa.const_shape";

pub const CONV2D: &str = "tosa.conv2d";
pub const DEPTHWISE_CONV2D: &str = "tosa.depthwise_conv2d";
pub const TRANSPOSE_CONV2D: &str = "tosa.transpose_conv2d";
pub const MATMUL: &str = "tosa.matmul";
pub const AVG_POOL2D: &str = "tosa.avg_pool2d";
pub const MAX_POOL2D: &str = "tosa.max_pool2d";

pub const ADD: &str = "tosa.add";
pub const SUB: &str = "tosa.sub";
pub const MUL: &str = "tosa.mul";
pub const POW: &str = "tosa.pow";
pub const EXP: &str = "tosa.exp";
pub const RECIPROCAL: &str = "tosa.reciprocal";
pub const CLAMP: &str = "tosa.clamp";
pub const SIGMOID: &str = "tosa.sigmoid";
pub const TANH: &str = "tosa.tanh";
pub const ERF: &str = "tosa.erf";
pub const REDUCE_SUM: &str = "tosa.reduce_sum";
pub const REDUCE_MAX: &str = "tosa.reduce_max";

pub const RESHAPE: &str = "tosa.reshape";
pub const TRANSPOSE: &str = "tosa.transpose";
pub const SLICE: &str = "tosa.slice";
pub const CONCAT: &str = "tosa.concat";
pub const PAD: &str = "tosa.pad";
pub const RESIZE: &str = "tosa.resize";

/// A layer of the `nibble` domain (see [`crate::layers`]).
pub const CUSTOM: &str = "tosa.custom";

/// The dialect's prefix of every op name.
pub const PREFIX: &str = "tosa.";

/// An op name without the `tosa.` prefix (`conv2d`), for reports and table names; other names
/// unchanged.
pub fn short_name(name: &str) -> &str {
    name.strip_prefix(PREFIX).unwrap_or(name)
}

/// Whether `name` is a constant (`tosa.const` or `tosa.const_shape`).
pub fn is_constant(name: &str) -> bool {
    name == CONST || name == CONST_SHAPE
}
