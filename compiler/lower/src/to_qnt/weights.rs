//! Weights and biases as `qnt.const`: symmetric int8 weights per tensor or per output channel
//! (scales from the weights' range, or those GPTQ rounded them for), raised where a bias would
//! not fit its int32; biases at the accumulator scale, optionally bias-corrected.

use super::types::{qtype, BITS};
use super::{err, QuantConfig};
use crate::LowerError;
use nibble_graph::attrs;
use nibble_ir::{Attr, Elem, Func, Op, QuantAxisType, Type, ValueId};
use nibble_qnt as qnt;
use nibble_quantize::{
    channel_of, grid_scales, layer_width, quantize_value, weight_scale, Scheme, WeightWidth,
};

/// The grid of a layer's weights (`nibble.weight_bits`; 8 bits without it).
pub(super) fn width_of(op: &Op) -> Result<WeightWidth, LowerError> {
    layer_width(op).map_err(|m| err(op, m))
}

/// The weight scales of a conv / fully connected layer: those its weights were rounded for
/// (`nibble.weight_scales`, gptq.rs), else from the weights at the layer's width as `cfg` says.
pub(super) fn layer_scales(
    op: &Op,
    w: &[f32],
    shape: &[i64],
    axis: usize,
    cfg: &QuantConfig,
) -> Result<Vec<f64>, LowerError> {
    let channels = if cfg.per_channel {
        shape[axis] as usize
    } else {
        1
    };
    match op.dense_f32(attrs::WEIGHT_SCALES) {
        None => Ok(grid_scales(
            w,
            shape,
            axis,
            cfg.per_channel,
            cfg.clamp_sigma,
            cfg.scheme,
            width_of(op)?,
        )),
        Some(s) if s.len() == channels => Ok(s.iter().map(|&v| v as f64).collect()),
        Some(s) => Err(err(op, format!("its weights were rounded for {} scale(s) ({}), but this granularity needs {channels}: round them with the same --granularity", s.len(), attrs::WEIGHT_SCALES))),
    }
}

/// Quantized weights: the constant, its scales (as raised for the bias) and the dequantized
/// weights.
pub(super) struct Weights {
    pub value: ValueId,
    pub scales: Vec<f64>,
    pub dequantized: Vec<f64>,
}

/// Symmetric weights on the grid of `width` at the given scales (one for the tensor, or one per
/// output channel along `axis`: 0 of OHWI conv weights and [M, K] matrices, 2 of depthwise
/// [KH,KW,C,1]); stored as i8 values, typed with the width's storage bits (i8, i4, i2).
/// With `bias` (one per output channel, and the input scale), a channel's scale is raised where
/// needed so its int32 bias stays within ±2^30 (a near-dead channel of tiny weights and a
/// BatchNorm-folded bias would otherwise saturate it).
pub(super) fn quantize_weights_along(
    f: &mut Func,
    shape: &[i64],
    w: &[f32],
    axis: usize,
    mut scales: Vec<f64>,
    scheme: Scheme,
    bias: Option<(&[f32], f64)>,
    width: WeightWidth,
) -> Weights {
    let channel = channel_of(shape, axis, scales.len());
    if let Some((b, sx)) = bias {
        scales = raise_for_bias(scales, b, sx, scheme);
    }
    let q: Vec<i8> = w
        .iter()
        .enumerate()
        .map(|(j, &x)| on_grid(width, x, scales[channel(j)]) as i8)
        .collect();
    let bits = match width {
        WeightWidth::W8 => BITS,
        w => w.storage_bits().max(2),
    };
    let ty = match scales.as_slice() {
        [s] => qtype(shape, bits, *s),
        _ => Type::tensor(
            shape,
            Elem::QuantAxis(QuantAxisType {
                bits,
                axis: axis as u32,
                scales: scales.clone(),
            }),
        ),
    };
    let attr = Attr::dense_i8(Type::tensor(shape, Elem::Int(8)), &q);
    let dequantized = q
        .iter()
        .enumerate()
        .map(|(j, &v)| v as f64 * scales[channel(j)])
        .collect();
    Weights {
        value: qnt::constant(f, ty, attr),
        scales,
        dequantized,
    }
}

/// The integer of weight `x` at scale `s` on the grid of `width` (8 bits: nearest in
/// [−127, 127], as every 8-bit weight is rounded).
pub(super) fn on_grid(width: WeightWidth, x: f32, s: f64) -> i64 {
    match width {
        WeightWidth::W8 => quantize_value(x as f64, s, -127, 127),
        _ => width.quantize(x as f64, s),
    }
}

/// int32 biases at the accumulator scales (one, or one per channel).
pub(super) fn quantize_bias(f: &mut Func, b: &[f32], scales: &[f64]) -> ValueId {
    let q: Vec<i32> = b
        .iter()
        .enumerate()
        .map(|(c, &x)| {
            quantize_value(
                x as f64,
                scales[if scales.len() == 1 { 0 } else { c }],
                i32::MIN as i64 + 1,
                i32::MAX as i64,
            ) as i32
        })
        .collect();
    let shape = [b.len() as i64];
    let attr = Attr::dense_i32(Type::tensor(&shape, Elem::Int(32)), &q);
    let ty = match scales {
        [s] => qtype(&shape, 32, *s),
        _ => Type::tensor(
            &shape,
            Elem::QuantAxis(QuantAxisType {
                bits: 32,
                axis: 0,
                scales: scales.to_vec(),
            }),
        ),
    };
    qnt::constant(f, ty, attr)
}

/// Weight scales raised where a channel's bias would not fit ±2^30 at `input_scale` × scale.
pub(super) fn raise_for_bias(
    mut scales: Vec<f64>,
    bias: &[f32],
    input_scale: f64,
    scheme: Scheme,
) -> Vec<f64> {
    let n = scales.len();
    for (c, &v) in bias.iter().enumerate() {
        let s = &mut scales[if n == 1 { 0 } else { c.min(n - 1) }];
        let need = (v as f64).abs() / (input_scale * 2f64.powi(30));
        if *s < need {
            *s = weight_scale(-127.0 * need, 127.0 * need, BITS, scheme);
        }
    }
    scales
}

/// `b − correction`, per output channel.
pub(super) fn corrected(b: &[f32], correction: &[f64]) -> Vec<f32> {
    b.iter()
        .zip(correction)
        .map(|(&b, &c)| (b as f64 - c) as f32)
        .collect()
}

/// The per-input-channel means calibration left on a layer (`nibble.input_mean`).
pub(super) fn mean_of(op: &Op) -> Option<Vec<f64>> {
    Some(
        op.dense_f32(attrs::INPUT_MEAN)?
            .iter()
            .map(|&v| v as f64)
            .collect(),
    )
}
