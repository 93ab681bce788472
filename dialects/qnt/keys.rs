//! The attribute keys of the qnt ops, each spelled once; the tile dialect uses them too (its
//! own keys are in `nibble_tile::keys`). Builders and readers name attributes only through
//! these constants.

pub const VALUE: &str = "value";
pub const PAD: &str = "pad";
pub const STRIDE: &str = "stride";
pub const DILATION: &str = "dilation";
pub const KERNEL: &str = "kernel";
pub const OUT_PAD: &str = "out_pad";
pub const MULTIPLIER: &str = "multiplier";
pub const SHIFT: &str = "shift";
pub const ROUNDING_MODE: &str = "rounding_mode";
pub const MIN: &str = "min";
pub const MAX: &str = "max";
pub const PERMS: &str = "perms";
pub const TABLE: &str = "table";
pub const FUNCTION: &str = "function";
pub const POS_MULTIPLIER: &str = "pos_multiplier";
pub const POS_SHIFT: &str = "pos_shift";
pub const NEG_MULTIPLIER: &str = "neg_multiplier";
pub const NEG_SHIFT: &str = "neg_shift";
pub const EXP_TABLE: &str = "exp_table";
pub const FRAC_BITS: &str = "frac_bits";
pub const START: &str = "start";
pub const AXIS: &str = "axis";
pub const BIAS: &str = "bias";
pub const EPS_TERM: &str = "eps_term";
pub const MID_MULTIPLIER: &str = "mid_multiplier";
pub const MID_SHIFT: &str = "mid_shift";
pub const THREE: &str = "three";
pub const SIX: &str = "six";
pub const SIGMOID_TABLE: &str = "sigmoid_table";
pub const MODE: &str = "mode";
pub const SCALE: &str = "scale";
pub const IMAGE_OFFSET: &str = "image_offset";
pub const POOL_MULTIPLIER: &str = "pool_multiplier";
pub const POOL_SHIFT: &str = "pool_shift";
pub const HIDDEN_MULTIPLIER: &str = "hidden_multiplier";
pub const HIDDEN_SHIFT: &str = "hidden_shift";
pub const HIDDEN_MAX: &str = "hidden_max";
pub const HIDDEN_TABLE: &str = "hidden_table";
pub const HIDDEN_OUT_SHIFT: &str = "hidden_out_shift";
pub const GATE_MULTIPLIER: &str = "gate_multiplier";
pub const GATE_SHIFT: &str = "gate_shift";
pub const GATE_TABLE: &str = "gate_table";

/// Every key above (the IRDL test checks that each attribute the definition declares is one).
pub const ALL: &[&str] = &[
    VALUE,
    PAD,
    STRIDE,
    DILATION,
    KERNEL,
    OUT_PAD,
    MULTIPLIER,
    SHIFT,
    ROUNDING_MODE,
    MIN,
    MAX,
    PERMS,
    TABLE,
    FUNCTION,
    POS_MULTIPLIER,
    POS_SHIFT,
    NEG_MULTIPLIER,
    NEG_SHIFT,
    EXP_TABLE,
    FRAC_BITS,
    START,
    AXIS,
    BIAS,
    EPS_TERM,
    MID_MULTIPLIER,
    MID_SHIFT,
    THREE,
    SIX,
    SIGMOID_TABLE,
    MODE,
    SCALE,
    IMAGE_OFFSET,
    POOL_MULTIPLIER,
    POOL_SHIFT,
    HIDDEN_MULTIPLIER,
    HIDDEN_SHIFT,
    HIDDEN_MAX,
    HIDDEN_TABLE,
    HIDDEN_OUT_SHIFT,
    GATE_MULTIPLIER,
    GATE_SHIFT,
    GATE_TABLE,
];
/// Optional on conv2d / depthwise_conv2d / fully_connected (qnt and tile): the grid of the
/// weights when not 8-bit (`"4"`, `"2"`, `"ternary"`, `"binary"`; docs/numerics.md).
pub const WEIGHT_BITS: &str = "weight_bits";
