//! Squeeze-excite (the `nibble` layer `squeeze_excite`) as one `qnt.squeeze_excite`: its two 1×1 layers'
//! weights on the op's grid (`nibble.weight_bits`: 8, 4, 2, ternary or binary, per output
//! channel as a conv's; recorded as the qnt op's `weight_bits`) and i32 biases (w2 and b2
//! with the gate's α, β folded in), and the fixed-point
//! parameters of the pool, the hidden activation (ReLU-like with a cap, or SiLU through the
//! interpolated sigmoid) and the gate (hard sigmoid in Q15, or the interpolated sigmoid), sized
//! so every 64-bit rescaling stays exact (see qnt.irdl.mlir).

use super::layers::mark_width;
use super::tables::sigmoid_table;
use super::types::multipliers;
use super::weights::{on_grid, quantize_bias, quantize_weights_along, raise_for_bias, width_of};
use super::{err, Cx, Lowered, QuantConfig};
use crate::LowerError;
use nibble_graph::SqueezeExcite;
use nibble_ir::{Op, QuantType};
use nibble_qnt as qnt;
use nibble_quantize::{fixed_multiplier, grid_scales, WeightWidth};

/// `P` holds 128 × the channel means on x's grid: |P| < 2^15 for 8-bit inputs.
const SE_POOL_BITS: i32 = 7;
/// SiLU's minimum, a·sigmoid(a) at a ≈ −1.2785.
const SILU_MIN: f64 = -0.2785;
/// The hidden activation's levels over its bound (2^24), and the gate's one (Q15).
const SE_HIDDEN_BITS: u32 = 24;
const SE_GATE_ONE: f64 = 32768.0;

/// One of the two 1×1 layers: weights [rows, cols], their scales, the bias and the
/// accumulator scales the bias is stored at.
struct Layer {
    w: Vec<f32>,
    shape: [i64; 2],
    s: Vec<f64>,
    b: Vec<f32>,
    a: Vec<f64>,
}

/// A squeeze-excite op's quantization: its two layers and the fixed-point parameters.
struct SqueezeExciteParams {
    first: Layer,
    second: Layer,
    fixed: qnt::SqueezeExcite,
}

/// `tosa.custom` squeeze_excite with constant weights and biases.
pub(super) fn squeeze_excite(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    let op = &cx.g.ops[i];
    let (x, qx) = cx.quant_input(op, 0)?;
    let w: Vec<Vec<f32>> = (1..5)
        .map(|k| {
            op.operands
                .get(k)
                .and_then(|v| cx.consts.get(v))
                .map(|c| c.1.clone())
        })
        .collect::<Option<_>>()
        .ok_or_else(|| err(op, "the weights and biases must be constant"))?;
    let scheme = cx.scheme();
    let (ty, out) = super::types::out_type(op, &cx.shape(op.results[0]), scheme)?;
    let xs = cx.shape(op.operands[0]);
    let width = width_of(op)?;
    let p = params(op, &xs, qx, out.scale, &w, width, cx.cfg)?;
    let f = &mut cx.f;
    let (l1, l2) = (&p.first, &p.second);
    let w1 = quantize_weights_along(f, &l1.shape, &l1.w, 0, l1.s.clone(), scheme, None, width);
    let b1 = quantize_bias(f, &l1.b, &l1.a);
    let w2 = quantize_weights_along(f, &l2.shape, &l2.w, 0, l2.s.clone(), scheme, None, width);
    let b2 = quantize_bias(f, &l2.b, &l2.a);
    let v = qnt::squeeze_excite(f, x, [w1.value, b1, w2.value, b2], ty, &p.fixed);
    mark_width(cx, v, width);
    Ok(Lowered::Value(v))
}

/// Scale `k` of `s`: one for every channel, or one per channel.
fn ch(s: &[f64], k: usize) -> f64 {
    s[if s.len() == 1 { 0 } else { k }]
}

/// Σ_k |q[r, k]| of each row r of the weights `w` (rows of `cols`) at scales `s` on the grid
/// of `width`.
fn abs_sums(w: &[f32], rows: usize, cols: usize, s: &[f64], width: WeightWidth) -> Vec<i64> {
    (0..rows)
        .map(|r| {
            (0..cols)
                .map(|k| on_grid(width, w[r * cols + k], ch(s, r)).abs())
                .sum()
        })
        .collect()
}

/// The scales of the weights `w` of `shape` (rows are output channels) on the grid of
/// `width`, as `cfg` says (per channel or per tensor; 8 bits: max|w|/127, clamped with
/// `clamp_sigma`; below: the least-squared-error scale of `nibble_quantize::grids`).
fn scales(w: &[f32], shape: &[i64; 2], width: WeightWidth, cfg: &QuantConfig) -> Vec<f64> {
    let (pc, cs) = (cfg.per_channel, cfg.clamp_sigma);
    grid_scales(w, shape, 0, pc, cs, cfg.scheme, width)
}

/// The first layer at pool scale `sp` = sx / 128 (scales raised for its bias), Σ|w1| of each
/// hidden channel's integer weights, and the largest |h| any input can give (x's grid bounds
/// its mean) or the activation's cap.
fn first_layer(
    w: &[Vec<f32>],
    [cm, c]: [usize; 2],
    qx: QuantType,
    (silu, hidden_max): (bool, f64),
    width: WeightWidth,
    cfg: &QuantConfig,
) -> (Layer, Vec<i64>, f64) {
    let (scheme, sx) = (cfg.scheme, qx.scale);
    let sp = sx / (1 << SE_POOL_BITS) as f64;
    let shape = [cm as i64, c as i64];
    let s1 = raise_for_bias(scales(&w[0], &shape, width, cfg), &w[1], sp, scheme);
    let p_max = sx * (qx.qmax() - qx.zero_point).max(qx.zero_point - qx.qmin()) as f64;
    let abs1 = abs_sums(&w[0], cm, c, &s1, width);
    let bound = (0..cm)
        .map(|m| abs1[m] as f64 * ch(&s1, m) * p_max + w[1][m].abs() as f64)
        .fold(if silu { SILU_MIN.abs() } else { 0.0 }, f64::max)
        .min(hidden_max);
    // The first product is at sx / 128 · s1[m].
    let a: Vec<f64> = (0..cm).map(|m| sp * ch(&s1, m)).collect();
    let layer = Layer {
        w: w[0].clone(),
        shape,
        s: s1,
        b: w[1].clone(),
        a,
    };
    (layer, abs1, bound)
}

/// The second layer with the gate's affine step folded in, α·(w2·h + b2) + β, and Σ|w2| of
/// each channel's integer weights. Its accumulator scales wait for the hidden scale.
fn second_layer(
    w: &[Vec<f32>],
    [c, cm]: [usize; 2],
    (alpha, beta): (f64, f64),
    width: WeightWidth,
    cfg: &QuantConfig,
) -> (Layer, Vec<i64>) {
    let w2: Vec<f32> = w[2].iter().map(|&v| (alpha * v as f64) as f32).collect();
    let b2: Vec<f32> = w[3]
        .iter()
        .map(|&v| (alpha * v as f64 + beta) as f32)
        .collect();
    let shape = [c as i64, cm as i64];
    let s2 = scales(&w2, &shape, width, cfg);
    let abs2 = abs_sums(&w2, c, cm, &s2, width);
    let layer = Layer {
        w: w2,
        shape,
        s: s2,
        b: b2,
        a: Vec::new(),
    };
    (layer, abs2)
}

/// The power of two giving |h| up to 2^24 levels, coarser only where a channel's second sum
/// Σ|w2|·|h| + |b2| would reach 2^30. (SiLU's product v·sigmoid is at 2^-27: its shift to the
/// hidden scale must stay ≥ 1.)
fn hidden_scale(bound: f64, abs2: &[i64], b2: &[f32], s2: &[f64], silu: bool) -> f64 {
    let second = (0..abs2.len())
        .map(|k| (abs2[k] as f64 * bound + (b2[k] as f64 / ch(s2, k)).abs()) / (1u64 << 30) as f64)
        .fold(0.0, f64::max);
    let floor = if silu { 2f64.powi(-26) } else { 0.0 };
    match (bound / (1u64 << SE_HIDDEN_BITS) as f64)
        .max(second)
        .max(floor)
    {
        v if v > 0.0 => v.log2().ceil().exp2(),
        _ => 1.0,
    }
}

/// 64-bit products: each sum (below 2^31) times its 31-bit multiplier stays below 2^62.
fn check_sums(
    op: &Op,
    first: &Layer,
    abs1: &[i64],
    second: &Layer,
    abs2: &[i64],
    h_max: i32,
) -> Result<(), LowerError> {
    let limit = (1i64 << 31) as f64;
    for (m, &s) in abs1.iter().enumerate() {
        if (s << 15) as f64 + (first.b[m] as f64 / first.a[m]).abs() >= limit {
            return Err(err(op, format!("hidden channel {m}: Σ|w1| × 2^15 + |b1| reaches 2^31 (its 64-bit rescaling could overflow)")));
        }
    }
    for (k, &s) in abs2.iter().enumerate() {
        if (s * h_max as i64) as f64 + (second.b[k] as f64 / second.a[k]).abs() >= limit {
            return Err(err(op, format!("channel {k}: Σ|w2| × hidden_max + |b2| reaches 2^31 (its 64-bit rescaling could overflow)")));
        }
    }
    Ok(())
}

/// The quantization of squeeze-excite `op` on input `qx` of shape `xs`, with weights and
/// biases `w` = [w1, b1, w2, b2] (weights on the grid of `width`), to an output at
/// `out_scale`. The multipliers take each channel's scale, whatever its grid.
fn params(
    op: &Op,
    xs: &[i64],
    qx: QuantType,
    out_scale: f64,
    w: &[Vec<f32>],
    width: WeightWidth,
    cfg: &QuantConfig,
) -> Result<SqueezeExciteParams, LowerError> {
    let se = SqueezeExcite::from_op(op).map_err(|e| err(op, e.to_string()))?;
    // SiLU is unbounded above like a ReLU and dips to −0.2785 below.
    let hidden_max = if se.silu {
        f64::INFINITY
    } else {
        se.hidden_max
    };
    if qx.bits != 8 || xs.len() != 4 {
        return Err(err(op, "squeeze-excite reads an 8-bit NHWC activation"));
    }
    let (hw, c) = ((xs[1] * xs[2]) as f64, xs[3] as usize);
    let cm = w[1].len();
    if w[0].len() != cm * c || w[2].len() != c * cm || w[3].len() != c {
        return Err(err(
            op,
            "weights must be [Cm,1,1,C] and [C,1,1,Cm], biases [Cm] and [C]",
        ));
    }
    let sx = qx.scale;
    let pool = fixed_multiplier((1 << SE_POOL_BITS) as f64 / hw)?;
    let (first, abs1, bound) = first_layer(w, [cm, c], qx, (se.silu, hidden_max), width, cfg);
    let (mut second, abs2) = second_layer(w, [c, cm], (se.alpha, se.beta), width, cfg);
    let sh = hidden_scale(bound, &abs2, &second.b, &second.s, se.silu);
    let h_max = if hidden_max <= bound {
        (hidden_max / sh).floor()
    } else {
        (bound / sh).ceil()
    } as i32;
    // ReLU: the accumulator rescaled to the hidden scale. SiLU: to units of 2^-12 (the sigmoid
    // table's index), then v·sigmoid(v) (at 2^-27) shifted to the hidden scale.
    let (hidden_multiplier, hidden_shift) =
        multipliers(
            first
                .a
                .iter()
                .map(|a| if se.silu { a * 4096.0 } else { a / sh }),
        )?;
    let hidden_out_shift = if se.silu {
        27 + sh.log2().round() as i32
    } else {
        0
    };
    second.a = (0..c).map(|k| sh * ch(&second.s, k)).collect();
    // The gate's input in its fixed point: the hard sigmoid's in Q15 (its output directly), the
    // sigmoid's in units of 2^-12 (the index of the interpolated sigmoid table).
    let unit = if se.sigmoid { 4096.0 } else { SE_GATE_ONE };
    let (gate_multiplier, gate_shift) = multipliers(second.a.iter().map(|a| a * unit))?;
    check_sums(op, &first, &abs1, &second, &abs2, h_max)?;
    let output = fixed_multiplier(sx / (SE_GATE_ONE * out_scale))?;
    let table = |on: bool| if on { sigmoid_table() } else { Vec::new() };
    Ok(SqueezeExciteParams {
        first,
        second,
        fixed: qnt::SqueezeExcite {
            pool: (pool.multiplier, pool.shift),
            hidden_multiplier,
            hidden_shift,
            hidden_max: h_max,
            hidden_table: table(se.silu),
            hidden_out_shift,
            gate_multiplier,
            gate_shift,
            gate_table: table(se.sigmoid),
            output: (output.multiplier, output.shift),
        },
    })
}
