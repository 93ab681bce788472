//! The `nibble.*` attributes of the graph level: what the importer, calibration and the graph
//! passes leave on ops (and on the function) for the passes after them. Each key is defined
//! here once; who writes and who reads it is said next to it. The values' MLIR text is part of
//! `model.graph.mlir`, so a key never changes spelling.

/// Every nibble attribute key starts with this (a rewrite that replaces an op's attributes
/// keeps these).
pub const PREFIX: &str = "nibble.";

// The importer (compiler/frontend).

/// On the function: the model's input name (ONNX).
pub const INPUT: &str = "nibble.input";
/// On the function: the model's output names, comma-separated (ONNX).
pub const OUTPUTS: &str = "nibble.outputs";
/// A BatchNormalization output's per-channel mean β (dense f32), kept on the conv it folds
/// into (`nibble-fold-batchnorm`); read by data-free ranges and `nibble-equalize`.
pub const BN_MEAN: &str = "nibble.bn_mean";
/// A BatchNormalization output's per-channel standard deviation |γ| (dense f32); see
/// [`BN_MEAN`].
pub const BN_STD: &str = "nibble.bn_std";
/// The BatchNormalization statistics, which move (and are rescaled) together.
pub const BN_STATS: [&str; 2] = [BN_MEAN, BN_STD];

// Grids an already-quantized model fixes (QDQ ONNX: compiler/frontend/src/ops/qdq.rs): honoured
// by `nibble-quantize` instead of a grid derived from the calibrated range.

/// An op result's scale on the 8-bit grid the model quantized it to (f64).
pub const SCALE: &str = "nibble.scale";
/// That grid's zero point as a stored int8 value (i64; a uint8 zero point z is z − 128).
pub const ZERO_POINT: &str = "nibble.zero_point";
/// The keys of a result's grid: a rewrite that replaces the op producing the result keeps them.
pub const GRID: [&str; 2] = [SCALE, ZERO_POINT];
/// On the function: the input's grid (f64 scale, i64 zero point), see [`SCALE`].
pub const ARG0_SCALE: &str = "nibble.arg0_scale";
/// See [`ARG0_SCALE`].
pub const ARG0_ZERO_POINT: &str = "nibble.arg0_zero_point";

// Calibration (compiler/quantize/src/ranges.rs, data_free.rs): read by `nibble-quantize`.

/// On the function: the input's calibrated range (f64).
pub const ARG0_MIN: &str = "nibble.arg0_min";
/// See [`ARG0_MIN`].
pub const ARG0_MAX: &str = "nibble.arg0_max";
/// An op result's calibrated range (f64).
pub const MIN: &str = "nibble.min";
/// See [`MIN`].
pub const MAX: &str = "nibble.max";
/// An op result's root mean square on the calibration vectors (f64; `nibble-choose-bits`).
pub const RMS: &str = "nibble.rms";
/// A conv / fully connected layer's per-input-channel mean (dense f32; bias correction).
pub const INPUT_MEAN: &str = "nibble.input_mean";
/// Per-channel (last axis) observed minimum of a conv, depthwise conv, clamp or hard-swish
/// result (dense f32): what `nibble-equalize` and `nibble-absorb-bias` balance, removed by
/// `nibble-equalize`.
pub const CHANNEL_MIN: &str = "nibble.channel_min";
/// See [`CHANNEL_MIN`].
pub const CHANNEL_MAX: &str = "nibble.channel_max";

// Decisions, each a pass's or a compile step's, read by `nibble-quantize`.

/// A unit attribute: the activation is computed in the epilogue of the layer whose output it
/// reads (`nibble-fuse-activations`).
pub const FUSED: &str = "nibble.fused";
/// An op result's bit width, 8 or 16 (absent: 8; `nibble-choose-bits`, `--bits`).
pub const BITS: &str = "nibble.bits";
/// A layer's weight scales, one per tensor or per output channel, that GPTQ rounded its
/// weights for (dense f32).
pub const WEIGHT_SCALES: &str = "nibble.weight_scales";
/// A weight layer's grid: `"8"`, `"4"`, `"2"`, `"ternary"` or `"binary"` (absent: 8;
/// `--weight-bits`, `nibble-choose-widths`).
pub const WEIGHT_BITS: &str = "nibble.weight_bits";

// Measurements for the width choice (compiler/quantize/src/sensitivity.rs), read by
// `nibble-choose-widths`.

/// A weight layer's measured output noise at each width 8, 4, 2, ternary, binary (dense f32,
/// relative to the output's power).
pub const WEIGHT_NOISE: &str = "nibble.weight_noise";
/// A rounded tensor's measured output noise stored in 8 and in 16 bits (dense f32).
pub const ACT_NOISE: &str = "nibble.act_noise";
