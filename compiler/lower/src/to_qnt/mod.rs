//! Graph → qnt: per-tensor INT8 quantization (scheme pow2, symmetric or asymmetric) from the
//! range attributes left by calibration (`nibble.min`/`nibble.max`).
//!
//! Every activation gets its own scale (and, asymmetric, zero point) from its own range; weights
//! get `max|w|/127` (a power of two under pow2); biases are
//! i32 at `input_scale · weight_scale`. Accumulators are i32 and each is followed by a
//! `qnt.requant` to the op's output scale, so a ReLU with its own range yields a
//! requant → clamp → requant chain that `nibble-fold-requant` folds.
//!
//! Before (graph):
//! ```mlir
//! %1 = tosa.conv2d %0, %w, %b, %zp, %zp {…, nibble.min = -3.1, nibble.max = 4.2}
//! %2 = tosa.clamp %1 {min_val = 0.0, max_val = 3.4e38, nibble.min = 0.0, nibble.max = 4.2}
//! ```
//! After (qnt):
//! ```mlir
//! %a = "qnt.conv2d"(%x, %wq, %bq) : (…i8…) -> tensor<…x!quant.uniform<i32:f32, sx·sw>>
//! %r = "qnt.requant"(%a) {multiplier, shift, rounding_mode} -> tensor<…x!quant.uniform<i8:f32, s1>>
//! %c = "qnt.clamp"(%r) {min = 0, max = 127}
//! %o = "qnt.requant"(%c) {…} -> tensor<…x!quant.uniform<i8:f32, s2>>
//! ```

use crate::{loc, LowerError};
use nibble_ir::{model, Attr, Elem, Func, Op, QuantAxisType, QuantType, Type, ValueId};
use nibble_qnt as qnt;
use nibble_quantize::{
    activation_params, channel_of, fixed_multiplier, quantize_value, shared_shift,
    signed_multiplier, weight_scale, weight_scales, Scheme, BITS_ATTR, FUSED_ATTR,
    WEIGHT_SCALES_ATTR,
};
use std::collections::HashMap;

const BITS: u32 = 8;

/// A quantized activation type for the real range [lo, hi].
fn act_type(shape: &[i64], lo: f64, hi: f64, bits: u32, scheme: Scheme) -> Type {
    let (scale, zero_point) = activation_params(lo, hi, bits, scheme);
    Type::tensor(
        shape,
        Elem::Quant(QuantType {
            bits,
            scale,
            zero_point,
        }),
    )
}

/// The `kernel`, `stride` and `pad` of a pooling op.
fn pool_window(op: &Op) -> Result<qnt::Window, LowerError> {
    let (k, s, p) = (op.ints("kernel")?, op.ints("stride")?, op.ints("pad")?);
    if k.len() != 2 || s.len() != 2 || p.len() != 4 {
        return Err(err(op, "kernel, stride and pad need 2, 2 and 4 values"));
    }
    Ok(qnt::Window {
        kernel: [k[0], k[1]],
        stride: [s[0], s[1]],
        pad: [p[0], p[1], p[2], p[3]],
    })
}

/// The quantized type `op`'s result gets from its own calibrated range, at the bit width its
/// `nibble.bits` decision asks for (8 when it has none). 16-bit activations are symmetric in
/// every scheme (zero point 0; a power-of-two scale under pow2), as in TFLite's 16×8 mode: the
/// kernels then read them without a zero point.
fn out_type(op: &Op, shape: &[i64], scheme: Scheme) -> Result<(Type, QuantType), LowerError> {
    let (lo, hi) = range(op)?;
    let ty = match bits_of(op)? {
        8 => act_type(shape, lo, hi, BITS, scheme),
        bits => {
            let scheme = match scheme {
                Scheme::Pow2 => Scheme::Pow2,
                _ => Scheme::Symmetric,
            };
            act_type(shape, lo, hi, bits, scheme)
        }
    };
    let q = ty.quant().ok_or_else(|| err(op, "no quantized type"))?;
    Ok((ty, q))
}

/// The bit width chosen for `op`'s result (`nibble.bits`, 8 or 16; 8 when absent).
fn bits_of(op: &Op) -> Result<u32, LowerError> {
    match op.attrs.get(BITS_ATTR) {
        None => Ok(BITS),
        Some(_) => match op.int(BITS_ATTR)? {
            8 => Ok(8),
            16 => Ok(16),
            b => Err(err(
                op,
                format!("{BITS_ATTR} = {b}: activations are 8 or 16 bits"),
            )),
        },
    }
}

/// The stored integer of real value `x` under `q`: zp + round(x / scale), saturated to the type.
fn stored(q: &QuantType, x: f64) -> i64 {
    q.zero_point + quantize_value(x, q.scale, q.qmin() - q.zero_point, q.qmax() - q.zero_point)
}

fn qtype(shape: &[i64], bits: u32, scale: f64) -> Type {
    Type::tensor(
        shape,
        Elem::Quant(QuantType {
            bits,
            scale,
            zero_point: 0,
        }),
    )
}

fn err(op: &Op, msg: impl Into<String>) -> LowerError {
    LowerError::Quantize {
        op: op.name.clone(),
        loc: loc(op),
        msg: msg.into(),
    }
}

fn range(op: &Op) -> Result<(f64, f64), LowerError> {
    match (op.float("nibble.min"), op.float("nibble.max")) {
        (Ok(lo), Ok(hi)) => Ok((lo, hi)),
        _ => Err(err(op, "it has no range (nibble.min/nibble.max); calibrate first (nibble compile --calib) or annotate the op")),
    }
}

/// How to quantize: the scheme, the weight granularity and optional weight clamping.
#[derive(Clone, Copy, Debug)]
pub struct QuantConfig {
    pub scheme: Scheme,
    /// One weight scale per output channel of conv / fully connected layers.
    pub per_channel: bool,
    /// Clamp conv / fully connected weights to mean ± K·σ (per channel with `per_channel`)
    /// before choosing their scale: rare large weights saturate, the rest gain resolution.
    pub clamp_sigma: Option<f64>,
    /// Subtract the expected output error of the quantized weights, `(Q(W) − W)·E[x]`, from
    /// each conv / fully connected bias, E[x] the layer's `nibble.input_mean` (from the
    /// calibration vectors, or from data-free statistics).
    pub bias_correction: bool,
}

impl QuantConfig {
    pub fn new(scheme: Scheme, per_channel: bool) -> QuantConfig {
        QuantConfig {
            scheme,
            per_channel,
            clamp_sigma: None,
            bias_correction: false,
        }
    }
}

/// Converts a calibrated graph-level function to the qnt level.
pub fn to_qnt(g: &Func, cfg: &QuantConfig) -> Result<Func, LowerError> {
    Ok(to_qnt_mapped(g, cfg)?.0)
}

/// [`to_qnt`], also returning which qnt value holds each graph value (for per-layer reports).
pub fn to_qnt_mapped(
    g: &Func,
    cfg: &QuantConfig,
) -> Result<(Func, HashMap<ValueId, ValueId>), LowerError> {
    let scheme = cfg.scheme;
    let mut f = Func::new(&g.name);
    f.attrs = g
        .attrs
        .iter()
        .filter(|(k, _)| !k.starts_with("nibble.arg0_"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let arg = f.add_arg(g.ty(g.args[0]).clone());
    let (lo, hi) = match (
        g.attrs.get("nibble.arg0_min"),
        g.attrs.get("nibble.arg0_max"),
    ) {
        (Some(Attr::Float(lo, _)), Some(Attr::Float(hi, _))) => (*lo, *hi),
        _ => {
            return Err(LowerError::Quantize {
                op: "func.func".into(),
                loc: String::new(),
                msg: "the input has no range (nibble.arg0_min/max); calibrate first".into(),
            })
        }
    };
    let shape = g.ty(g.args[0]).shape().unwrap_or(&[]).to_vec();
    let x = qnt::quantize(&mut f, arg, act_type(&shape, lo, hi, BITS, scheme));

    let mut map: HashMap<ValueId, ValueId> = HashMap::new();
    map.insert(g.args[0], x);
    let mut consts: HashMap<ValueId, (&Type, Vec<f32>)> = HashMap::new();
    let uses = g.use_counts();
    let mut shapes: HashMap<ValueId, Vec<i64>> = HashMap::new();
    let mut skip = vec![false; g.ops.len()];
    for op in g.ops.iter().filter(|o| o.name == "tosa.const") {
        let (ty, bytes) = op.dense("values")?;
        consts.insert(op.results[0], (ty, model::dense_f32(bytes)));
    }
    for (i, op) in g.ops.iter().enumerate() {
        if skip[i] {
            continue;
        }
        let shape = |v: ValueId| g.ty(v).shape().unwrap_or(&[]).to_vec();
        let input = |k: usize| {
            map.get(&op.operands[k]).copied().ok_or_else(|| err(op, format!("operand {k} is not a quantized tensor (a constant where an activation is expected?)")))
        };
        // An activation operand and its per-tensor quantized type.
        let quant_input = |f: &Func, k: usize| -> Result<(ValueId, QuantType), LowerError> {
            let x = input(k)?;
            let q = f
                .ty(x)
                .quant()
                .ok_or_else(|| err(op, "input is not quantized"))?;
            Ok((x, q))
        };
        let start = f.ops.len();
        // An activation operand, or a float constant quantized per tensor (symmetric int8).
        let operand = |f: &mut Func, k: usize| -> Result<(ValueId, QuantType), LowerError> {
            let v = match map.get(&op.operands[k]) {
                Some(&v) => v,
                None => {
                    let (ty, c) = consts.get(&op.operands[k]).cloned().ok_or_else(|| {
                        err(
                            op,
                            format!("operand {k} is neither an activation nor a constant"),
                        )
                    })?;
                    let s = ty.shape().unwrap_or(&[]).to_vec();
                    let sc = weight_scales(&c, &s, 0, false, None, scheme);
                    quantize_weights_along(f, &s, &c, 0, sc, scheme, None).0
                }
            };
            let q = f
                .ty(v)
                .quant()
                .ok_or_else(|| err(op, format!("operand {k} is not quantized per tensor")))?;
            Ok((v, q))
        };
        let out = match op.name.as_str() {
            "tosa.const" => continue,
            "tosa.const_shape" => {
                let (_, bytes) = op.dense("values")?;
                shapes.insert(op.results[0], model::dense_i64(bytes));
                continue;
            }
            "tosa.slice" => {
                // A slice at the origin that only feeds max pools drops rows/columns no window
                // reads (floor-mode pooling): the pool can read the unsliced tensor.
                let at_origin = shapes
                    .get(&op.operands[1])
                    .is_some_and(|s| s.iter().all(|&v| v == 0));
                let only_pools = g
                    .ops
                    .iter()
                    .filter(|o| o.operands.contains(&op.results[0]))
                    .all(|o| o.name == "tosa.max_pool2d");
                if at_origin && only_pools {
                    map.insert(op.results[0], input(0)?);
                    continue;
                }
                let start = shapes
                    .get(&op.operands[1])
                    .cloned()
                    .ok_or_else(|| err(op, "the slice start must be constant"))?;
                let (x, q) = quant_input(&f, 0)?;
                qnt::slice(
                    &mut f,
                    x,
                    Type::tensor(&shape(op.results[0]), Elem::Quant(q)),
                    &start,
                )
            }
            "tosa.resize" => {
                let (x, q) = quant_input(&f, 0)?;
                let param = |k: usize| {
                    shapes
                        .get(&op.operands[k])
                        .cloned()
                        .ok_or_else(|| err(op, "resize parameters must be constant"))
                };
                let (scale, offset) = (param(1)?, param(2)?);
                if scale.len() != 4 || offset.len() != 2 || scale.iter().any(|&v| v <= 0) {
                    return Err(err(
                        op,
                        "resize needs scale [ny, dy, nx, dx] > 0 and offset [oy, ox]",
                    ));
                }
                let bilinear =
                    matches!(op.attrs.get("mode"), Some(Attr::Raw(m)) if m.contains("BILINEAR"));
                let os = shape(op.results[0]);
                if bilinear {
                    // The sum of four weighted taps is at scale s_in / (ny·nx).
                    let (ty, out) = out_type(op, &os, scheme)?;
                    let fs =
                        fixed_multiplier(q.scale / ((scale[0] * scale[2]) as f64 * out.scale))?;
                    qnt::resize(
                        &mut f,
                        x,
                        ty,
                        "bilinear",
                        &scale,
                        &offset,
                        (fs.multiplier, fs.shift),
                    )
                } else {
                    let ty = Type::tensor(&os, Elem::Quant(q));
                    qnt::resize(&mut f, x, ty, "nearest", &scale, &offset, (1 << 30, 30))
                }
            }
            "tosa.concat" => {
                // Every input is requantized to the output's range, then copied.
                let (ty, out) = out_type(op, &shape(op.results[0]), scheme)?;
                let mut inputs = Vec::new();
                for k in 0..op.operands.len() {
                    let (x, q) = operand(&mut f, k)?;
                    inputs.push(if q == out {
                        x
                    } else {
                        let fs = fixed_multiplier(q.scale / out.scale)?;
                        let t = Type::tensor(&shape(op.operands[k]), Elem::Quant(out));
                        qnt::requant(&mut f, x, t, fs.multiplier, fs.shift)
                    });
                }
                qnt::concat(&mut f, &inputs, ty, op.int("axis")?)
            }
            "tosa.custom" if op.custom_name() == "layer_norm" => {
                let (x, q) = quant_input(&f, 0)?;
                let (ty, out) = out_type(op, &shape(op.results[0]), scheme)?;
                let param = |k: usize| {
                    consts
                        .get(&op.operands[k])
                        .map(|c| c.1.clone())
                        .ok_or_else(|| err(op, "gamma and beta must be constant"))
                };
                let eps = op
                    .custom_param("epsilon")
                    .ok_or_else(|| err(op, "missing epsilon"))?;
                let n = *shape(op.operands[0]).last().unwrap_or(&1);
                let p = layer_norm_params(&param(1)?, &param(2)?, n, eps, q.scale, out.scale)
                    .map_err(|m| err(op, m))?;
                qnt::layer_norm(&mut f, x, ty, &p)
            }
            "tosa.transpose" => {
                let (x, q) = quant_input(&f, 0)?;
                qnt::transpose(
                    &mut f,
                    x,
                    Type::tensor(&shape(op.results[0]), Elem::Quant(q)),
                    &op.ints("perms")?
                        .iter()
                        .map(|&p| p as i32)
                        .collect::<Vec<_>>(),
                )
            }
            "tosa.reshape" => {
                let (x, q) = quant_input(&f, 0)?;
                qnt::reshape(
                    &mut f,
                    x,
                    Type::tensor(&shape(op.results[0]), Elem::Quant(q)),
                )
            }
            "tosa.max_pool2d" => {
                let (x, q) = quant_input(&f, 0)?;
                let ty = Type::tensor(&shape(op.results[0]), Elem::Quant(q));
                qnt::max_pool2d(&mut f, x, ty, pool_window(op)?)
            }
            "tosa.clamp" | "tosa.custom"
                if op.name == "tosa.clamp" || op.custom_name() == "clamp_channels" =>
            {
                let (x, q) = quant_input(&f, 0)?;
                clamp_to_range(&mut f, x, q, op, &consts, scheme)?
            }
            "tosa.custom" if op.custom_name() == "scaled_hard_swish" => {
                return Err(err(op, "a hard-swish rescaled per channel (by nibble-equalize) is quantized only as the epilogue of the conv / fully connected layer it alone reads, which pow2 does not use (equalize with scheme=pow2 leaves hard-swish alone)"));
            }
            "tosa.sigmoid" | "tosa.tanh" | "tosa.erf" | "tosa.custom"
                if nibble_interp::float::unary_activation(op)
                    .ok()
                    .flatten()
                    .is_some() =>
            {
                // A unary activation on int8 is a 256-entry table: dequantize every input code,
                // apply the function, quantize to the output's own range. Scalar affine steps and
                // clamps that follow (`a·f(x) + b`, as in learnable-affine blocks) join the table,
                // so the chain rounds once.
                let (x, q) = quant_input(&f, 0)?;
                let act = nibble_interp::float::unary_activation(op)
                    .map_err(|e| err(op, e.to_string()))?
                    .ok_or_else(|| err(op, "no activation function"))?;
                let (last, steps) = elementwise_chain(g, i, &uses, &consts);
                for k in chain_ops(g, i, last) {
                    skip[k] = true;
                }
                let last_op = &g.ops[last];
                let (ty, out) = out_type(last_op, &shape(last_op.results[0]), scheme)?;
                if out.bits != BITS {
                    return Err(err(
                        last_op,
                        "a lookup table writes 8-bit values: this result cannot be 16-bit",
                    ));
                }
                let table: Vec<i8> = (-128i64..=127)
                    .map(|code| {
                        let x = act.apply((q.scale * (code - q.zero_point) as f64) as f32) as f64;
                        let y = steps.iter().fold(x, |y, s| s.apply(y));
                        stored(&out, y) as i8
                    })
                    .collect();
                let name = match op.attrs.get("operator_name") {
                    Some(Attr::Str(n)) => n.clone(),
                    _ => op.name.trim_start_matches("tosa.").to_string(),
                };
                let out = qnt::lut(&mut f, x, ty, &table, &name);
                set_locs(&mut f, start, op);
                map.insert(last_op.results[0], out);
                continue;
            }
            "tosa.avg_pool2d" => {
                let (x, q) = quant_input(&f, 0)?;
                let window = pool_window(op)?;
                let (ty, out) = out_type(op, &shape(op.results[0]), scheme)?;
                // Windows without padding always hold kh·kw taps (floor mode): one multiplier.
                // With padding the divisor is the count of taps inside the input.
                let taps = window.kernel[0] * window.kernel[1];
                let counts: Vec<i64> = if window.pad.iter().all(|&v| v == 0) {
                    vec![taps]
                } else {
                    (1..=taps).collect()
                };
                let (mut m, mut sh) = (Vec::new(), Vec::new());
                for c in counts {
                    let fs = fixed_multiplier(q.scale / (c as f64 * out.scale))?;
                    m.push(fs.multiplier);
                    sh.push(fs.shift);
                }
                qnt::avg_pool2d(&mut f, x, ty, window, &m, &sh)
            }
            "tosa.add" | "tosa.sub" => {
                let (a, qa) = operand(&mut f, 0)?;
                let (b, qb) = operand(&mut f, 1)?;
                let (ty, out) = out_type(op, &shape(op.results[0]), scheme)?;
                let so = out.scale;
                let sign = if op.name == "tosa.sub" { -1.0 } else { 1.0 };
                let (m, sh) = shared_shift(&[qa.scale / so, sign * qb.scale / so])?;
                qnt::add(&mut f, a, b, ty, [m[0], m[1]], sh)
            }
            "tosa.mul" => {
                let (a, qa) = operand(&mut f, 0)?;
                let (b, qb) = operand(&mut f, 1)?;
                let (ty, out) = out_type(op, &shape(op.results[0]), scheme)?;
                let so = out.scale;
                let fs = fixed_multiplier(qa.scale * qb.scale / so)?;
                qnt::mul(&mut f, a, b, ty, fs.multiplier, fs.shift)
            }
            "tosa.custom" if op.custom_name() == "prelu" => {
                let (x, q) = quant_input(&f, 0)?;
                let (_, slope) = consts
                    .get(&op.operands[1])
                    .cloned()
                    .ok_or_else(|| err(op, "the slope must be constant"))?;
                prelu_to_range(&mut f, x, &[q.scale], &slope, op, scheme)?
            }
            "tosa.custom" if op.custom_name() == "squeeze_excite" => {
                let (x, qx) = quant_input(&f, 0)?;
                let w: Vec<Vec<f32>> = (1..5)
                    .map(|k| consts.get(&op.operands[k]).map(|c| c.1.clone()))
                    .collect::<Option<_>>()
                    .ok_or_else(|| err(op, "the weights and biases must be constant"))?;
                let (ty, out) = out_type(op, &shape(op.results[0]), scheme)?;
                let xs = shape(op.operands[0]);
                let p = squeeze_excite_params(op, &xs, qx, out.scale, &w, cfg)?;
                let weights = |f: &mut Func, shape: &[i64; 2], w: &[f32], s: &[f64]| {
                    quantize_weights_along(f, shape, w, 0, s.to_vec(), scheme, None).0
                };
                let ws = [
                    weights(&mut f, &p.w1_shape, &p.w1, &p.s1),
                    quantize_bias(&mut f, &p.b1, &p.a1),
                    weights(&mut f, &p.w2_shape, &p.w2, &p.s2),
                    quantize_bias(&mut f, &p.b2, &p.a2),
                ];
                qnt::squeeze_excite(&mut f, x, ws, ty, &p.fixed)
            }
            "tosa.custom" if op.custom_name() == "softmax" => {
                // Probabilities in [0, 1): 2^-8 with zero point -128 when asymmetric, else 2^-7.
                let (x, q) = quant_input(&f, 0)?;
                let (frac_bits, zero_point) = match scheme {
                    Scheme::Asymmetric => (8, -128),
                    _ => (7, 0),
                };
                let ty = Type::tensor(
                    &shape(op.results[0]),
                    Elem::Quant(QuantType {
                        bits: BITS,
                        scale: (-(frac_bits as f64)).exp2(),
                        zero_point,
                    }),
                );
                let table: Vec<i32> = (0..256)
                    .map(|k| ((q.scale * (k - 255) as f64).exp() * 32768.0).round() as i32)
                    .collect();
                qnt::softmax(&mut f, x, ty, &table, frac_bits)
            }
            "tosa.conv2d" | "tosa.depthwise_conv2d" | "tosa.transpose_conv2d" => {
                let depthwise = op.name == "tosa.depthwise_conv2d";
                let (x, qx) = quant_input(&f, 0)?;
                let sx = qx.scale;
                let (wty, w) = consts
                    .get(&op.operands[1])
                    .cloned()
                    .ok_or_else(|| err(op, "weights must be constant"))?;
                let (_, b) = consts
                    .get(&op.operands[2])
                    .cloned()
                    .ok_or_else(|| err(op, "bias must be constant"))?;
                let ws = wty.shape().unwrap_or(&[]).to_vec();
                if depthwise && (ws.len() != 4 || ws[3] != 1) {
                    return Err(err(op, "only depthwise multiplier 1 is supported"));
                }
                // Output channels: axis 0 of OHWI conv weights, axis 2 of depthwise [KH,KW,C,1].
                let axis = if depthwise { 2 } else { 0 };
                let scales = layer_scales(op, &w, &ws, axis, cfg)?;
                let (wq, sw, wd) =
                    quantize_weights_along(&mut f, &ws, &w, axis, scales, scheme, Some((&b, sx)));
                let b = match mean_of(op).filter(|_| cfg.bias_correction) {
                    // OHWI: tap j of output o reads input channel j % C; depthwise [KH,KW,C,1]:
                    // element j belongs to channel j % C.
                    Some(mean) if mean.len() == ws[if depthwise { 2 } else { 3 }] as usize => {
                        let c = mean.len();
                        let oc = b.len();
                        let mut corr = vec![0.0f64; oc];
                        for (j, (&q, &x)) in wd.iter().zip(&w).enumerate() {
                            let o = if depthwise { j % c } else { j / (w.len() / oc) };
                            corr[o] += (q - x as f64) * mean[j % c];
                        }
                        corrected(&b, &corr)
                    }
                    _ => b,
                };
                let acc_scales: Vec<f64> = sw.iter().map(|s| sx * s).collect();
                let bq = quantize_bias(&mut f, &b, &acc_scales);
                let acc_ty = acc_type(&shape(op.results[0]), &acc_scales);
                let acc = if op.name == "tosa.transpose_conv2d" {
                    let (p, s) = (op.ints("out_pad")?, op.ints("stride")?);
                    if p.len() != 4 || s.len() != 2 {
                        return Err(err(op, "out_pad and stride need 4 and 2 values"));
                    }
                    qnt::transpose_conv2d(&mut f, x, wq, bq, acc_ty, &p, &s)
                } else {
                    let (p, s, d) = (op.ints("pad")?, op.ints("stride")?, op.ints("dilation")?);
                    let build = if depthwise {
                        qnt::depthwise_conv2d
                    } else {
                        qnt::conv2d
                    };
                    build(
                        &mut f,
                        x,
                        wq,
                        bq,
                        acc_ty,
                        [p[0], p[1], p[2], p[3]],
                        [s[0], s[1]],
                        [d[0], d[1]],
                    )
                };
                // A PReLU, hard-swish or swish that alone reads the conv rescales its
                // accumulator directly.
                if let Some((last, out)) =
                    activation_epilogue(&mut f, acc, &acc_scales, g, i, &uses, &consts, scheme)?
                {
                    for k in chain_ops(g, i, last) {
                        skip[k] = true;
                    }
                    set_locs(&mut f, start, op);
                    map.insert(g.ops[last].results[0], out);
                    continue;
                }
                requant_to_range(&mut f, acc, op, scheme)?
            }
            "tosa.matmul" => {
                // x[1,N,K] · B[1,K,M], followed by reshape to [N,M] and + bias[1,M]: fully connected.
                let (x, q) = quant_input(&f, 0)?;
                let Some((bty, bw)) = consts.get(&op.operands[1]).cloned() else {
                    // Activation × activation (attention): an i32 accumulator at sa·sb.
                    let (b, qb) = quant_input(&f, 1)?;
                    let (sa, sb) = (shape(op.operands[0]), shape(op.operands[1]));
                    if sa.len() != 3 || sb.len() != 3 || sa[0] != sb[0] || sa[2] != sb[1] {
                        return Err(err(op, "matmul operands must be [B,N,K] and [B,K,M]"));
                    }
                    let acc = qnt::matmul(
                        &mut f,
                        x,
                        b,
                        qtype(&shape(op.results[0]), 32, q.scale * qb.scale),
                    );
                    let out = requant_to_range(&mut f, acc, op, scheme)?;
                    set_locs(&mut f, start, op);
                    map.insert(op.results[0], out);
                    continue;
                };
                let bs = bty.shape().unwrap_or(&[]).to_vec();
                let xs = shape(op.operands[0]);
                if xs[0] != 1 || bs[0] != 1 {
                    return Err(err(op, "only batch-1 matmul is supported"));
                }
                let (n, k, m) = (xs[1], xs[2], bs[2]);
                // Look for the reshape → add(bias) that the importer emits for Gemm.
                let user = |v: ValueId| g.ops.iter().position(|o| o.operands.contains(&v));
                let mut last = i;
                let mut bias = vec![0.0f32; m as usize];
                // The exporter may reshape more than once ([1,N,M] → [N,M] → [1,N,M]).
                let mut chain = Vec::new();
                let mut v = op.results[0];
                while let Some(r) =
                    user(v).filter(|&r| g.ops[r].name == "tosa.reshape" && uses[v] == 1)
                {
                    chain.push(r);
                    v = g.ops[r].results[0];
                }
                if let Some(a) = user(v)
                    .filter(|&a| g.ops[a].name == "tosa.add" && uses[v] == 1 && !chain.is_empty())
                {
                    let other = g.ops[a].operands.iter().copied().find(|&o| o != v);
                    if let Some((_, c)) = other.and_then(|o| consts.get(&o)) {
                        if c.len() == m as usize {
                            bias = c.clone();
                            for &r in &chain {
                                skip[r] = true;
                            }
                            skip[a] = true;
                            last = a;
                        }
                    }
                }
                let x2 = qnt::reshape(&mut f, x, Type::tensor(&[n, k], Elem::Quant(q)));
                // weights as [M, K]
                let mut wt = vec![0.0f32; (m * k) as usize];
                for kk in 0..k as usize {
                    for mm in 0..m as usize {
                        wt[mm * k as usize + kk] = bw[kk * m as usize + mm];
                    }
                }
                let scales = layer_scales(op, &wt, &[m, k], 0, cfg)?;
                let (wq, sw, wd) = quantize_weights_along(
                    &mut f,
                    &[m, k],
                    &wt,
                    0,
                    scales,
                    scheme,
                    Some((&bias, q.scale)),
                );
                if let Some(mean) =
                    mean_of(op).filter(|m| cfg.bias_correction && m.len() == k as usize)
                {
                    let (mu, ku) = (m as usize, k as usize);
                    let corr: Vec<f64> = (0..mu)
                        .map(|o| {
                            (0..ku)
                                .map(|kk| (wd[o * ku + kk] - wt[o * ku + kk] as f64) * mean[kk])
                                .sum()
                        })
                        .collect();
                    bias = corrected(&bias, &corr);
                }
                let acc_scales: Vec<f64> = sw.iter().map(|s| q.scale * s).collect();
                let bq = quantize_bias(&mut f, &bias, &acc_scales);
                let acc = qnt::fully_connected(&mut f, x2, wq, bq, acc_type(&[n, m], &acc_scales));
                let out = match activation_epilogue(
                    &mut f,
                    acc,
                    &acc_scales,
                    g,
                    last,
                    &uses,
                    &consts,
                    scheme,
                )? {
                    Some((end, out)) => {
                        for k in chain_ops(g, last, end) {
                            skip[k] = true;
                        }
                        last = end;
                        out
                    }
                    None => requant_to_range(&mut f, acc, &g.ops[last], scheme)?,
                };
                let last_op = &g.ops[last];
                let want = shape(last_op.results[0]);
                let out = if f.ty(out).shape() != Some(want.as_slice()) {
                    let elem = f.ty(out).elem().cloned().unwrap_or(Elem::F32);
                    qnt::reshape(&mut f, out, Type::tensor(&want, elem))
                } else {
                    out
                };
                map.insert(last_op.results[0], out);
                set_locs(&mut f, start, op);
                continue;
            }
            _ => {
                return Err(err(op, "no quantized form in this version; quantizable ops: tosa.conv2d, tosa.depthwise_conv2d, tosa.transpose_conv2d, tosa.matmul (by a constant, + bias), tosa.add, tosa.sub, tosa.mul, tosa.avg_pool2d, tosa.max_pool2d, tosa.clamp, tosa.transpose, tosa.reshape, tosa.slice, tosa.concat, tosa.resize (nearest, bilinear), nibble prelu, softmax and layer_norm (last axis), and unary activations as lookup tables (tosa.sigmoid, tosa.tanh, tosa.erf, nibble hard_swish/hard_sigmoid/gelu)"));
            }
        };
        set_locs(&mut f, start, op);
        map.insert(op.results[0], out);
    }
    // A 16-bit decision must have made a 16-bit tensor (an ONNX node may import as several
    // ops, all marked: one of them is enough). Ops that keep their input's type (pools,
    // transposes, reshapes, slices) and ops fused into the next one have none of their own, and
    // ignoring the decision silently would hide it.
    let made_wide = |o: &Op| {
        o.results
            .first()
            .and_then(|r| map.get(r))
            .and_then(|&v| f.ty(v).quant())
            .is_some_and(|t| t.bits == 16)
    };
    let marked = |o: &&Op| bits_of(o).ok() == Some(16);
    for op in g.ops.iter().filter(marked) {
        let node = op.loc_name();
        let same_node = |o: &&Op| match node.as_str() {
            "" => std::ptr::eq(*o, op),
            _ => o.loc_name() == node,
        };
        let found = g.ops.iter().filter(marked).filter(same_node).any(made_wide);
        if !found {
            return Err(err(op, format!("{BITS_ATTR} = 16, but its result is not a tensor of its own at the quant level (it keeps its input's type, or is fused into the op after it): choose the producer, or the last op of the fused layer")));
        }
    }
    for &r in &g.returns {
        let v = *map.get(&r).ok_or_else(|| LowerError::Quantize {
            op: "func.return".into(),
            loc: String::new(),
            msg: "a returned value was not quantized".into(),
        })?;
        let out = qnt::dequantize(&mut f, v, g.ty(r).clone());
        f.returns.push(out);
    }
    Ok((f, map))
}

fn set_locs(f: &mut Func, start: usize, op: &Op) {
    for o in &mut f.ops[start..] {
        if o.loc.is_none() {
            o.loc = op.loc.clone();
        }
    }
}

/// Requantizes `v` to the scale and zero point of `op`'s own range (nothing if it has them).
fn requant_to_range(
    f: &mut Func,
    v: ValueId,
    op: &Op,
    scheme: Scheme,
) -> Result<ValueId, LowerError> {
    let (ty, out) = out_type(op, f.ty(v).shape().unwrap_or(&[]), scheme)?;
    // A per-channel accumulator needs one multiplier per channel.
    if let Some(qa) = f.ty(v).quant_axis().cloned() {
        let (mut mults, mut shifts) = (Vec::new(), Vec::new());
        for s in &qa.scales {
            let fs = fixed_multiplier(s / out.scale)?;
            mults.push(fs.multiplier);
            shifts.push(fs.shift);
        }
        return Ok(qnt::requant_per_channel(f, v, ty, &mults, &shifts));
    }
    let q = f
        .ty(v)
        .quant()
        .ok_or_else(|| err(op, "input is not quantized"))?;
    if q == out {
        return Ok(v);
    }
    let fs = fixed_multiplier(q.scale / out.scale)?;
    Ok(qnt::requant(f, v, ty, fs.multiplier, fs.shift))
}

/// The i32 accumulator type: per tensor, or per channel along the last (NHWC channel) axis.
fn acc_type(shape: &[i64], scales: &[f64]) -> Type {
    match scales {
        [s] => qtype(shape, 32, *s),
        _ => Type::tensor(
            shape,
            Elem::QuantAxis(QuantAxisType {
                bits: 32,
                axis: shape.len() as u32 - 1,
                scales: scales.to_vec(),
            }),
        ),
    }
}

/// The weight scales of a conv / fully connected layer: those its weights were rounded for
/// (`nibble.weight_scales`, gptq.rs), else from the weights' range as `cfg` says.
fn layer_scales(
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
    match op.dense_f32(WEIGHT_SCALES_ATTR) {
        None => Ok(weight_scales(w, shape, axis, cfg.per_channel, cfg.clamp_sigma, cfg.scheme)),
        Some(s) if s.len() == channels => Ok(s.iter().map(|&v| v as f64).collect()),
        Some(s) => Err(err(op, format!("its weights were rounded for {} scale(s) ({WEIGHT_SCALES_ATTR}), but this granularity needs {channels}: round them with the same --granularity", s.len()))),
    }
}

/// Symmetric int8 weights at the given scales (one for the tensor, or one per output channel
/// along `axis`: 0 of OHWI conv weights and [M, K] matrices, 2 of depthwise [KH,KW,C,1]).
/// With `bias` (one per output channel, and the input scale), a channel's scale is raised where
/// needed so its int32 bias stays within ±2^30 (a near-dead channel of tiny weights and a
/// BatchNorm-folded bias would otherwise saturate it). Returns the constant, its scales and the
/// dequantized weights.
fn quantize_weights_along(
    f: &mut Func,
    shape: &[i64],
    w: &[f32],
    axis: usize,
    mut scales: Vec<f64>,
    scheme: Scheme,
    bias: Option<(&[f32], f64)>,
) -> (ValueId, Vec<f64>, Vec<f64>) {
    let channel = channel_of(shape, axis, scales.len());
    if let Some((b, sx)) = bias {
        scales = raise_for_bias(scales, b, sx, scheme);
    }
    let q: Vec<i8> = w
        .iter()
        .enumerate()
        .map(|(j, &x)| quantize_value(x as f64, scales[channel(j)], -127, 127) as i8)
        .collect();
    let ty = match scales.as_slice() {
        [s] => qtype(shape, BITS, *s),
        _ => Type::tensor(
            shape,
            Elem::QuantAxis(QuantAxisType {
                bits: BITS,
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
    (qnt::constant(f, ty, attr), scales, dequantized)
}

/// int32 biases at the accumulator scales (one, or one per channel).
fn quantize_bias(f: &mut Func, b: &[f32], scales: &[f64]) -> ValueId {
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

/// The fixed-point parameters of `qnt.layer_norm` (see qnt.irdl.mlir) for `n` channels with
/// `gamma`, `beta`, `eps` and the input/output scales.
fn layer_norm_params(
    gamma: &[f32],
    beta: &[f32],
    n: i64,
    eps: f64,
    s_in: f64,
    s_out: f64,
) -> Result<qnt::LayerNorm, String> {
    let c = n as usize;
    if !(1..=4096).contains(&n) || gamma.len() != c || beta.len() != c {
        return Err(format!(
            "layer_norm needs 1..=4096 channels with one gamma and beta each (got {n}, {}, {})",
            gamma.len(),
            beta.len()
        ));
    }
    let eps_term = (n as f64).powi(3) * eps / (s_in * s_in);
    if !(0.0..4e18).contains(&eps_term) {
        return Err(format!(
            "epsilon {eps:e} at input scale {s_in:e} overflows the fixed-point variance"
        ));
    }
    let (mut multiplier, mut shift, mut bias) = (Vec::new(), Vec::new(), Vec::new());
    for (&g, &b) in gamma.iter().zip(beta) {
        let ratio = g as f64 * (n as f64).sqrt() / (s_out * 2f64.powi(30));
        let (mut m, mut sh) = match signed_multiplier(ratio) {
            Ok(fs) if ratio != 0.0 => (fs.multiplier as i64, fs.shift),
            _ => (0, 1),
        };
        // Keep t·m + bias within i64: at most 46 fractional bits (a tiny gamma loses precision
        // it cannot use anyway).
        while sh > 46 {
            m = (m + 1).div_euclid(2);
            sh -= 1;
        }
        multiplier.push(m as i32);
        shift.push(sh);
        bias.push((b as f64 / s_out * (sh as f64).exp2()).round() as i64);
    }
    Ok(qnt::LayerNorm {
        multiplier,
        shift,
        bias,
        eps_term: eps_term.round() as i64,
    })
}

/// `qnt.prelu` of `x` (scale one, or per channel of the last axis: a conv accumulator) to the
/// range of the PReLU `op`: the non-negative side rescales by `s_in / s_out`, the negative side
/// by the signed `slope · s_in / s_out`, per channel wherever either varies.
fn prelu_to_range(
    f: &mut Func,
    x: ValueId,
    in_scales: &[f64],
    slope: &[f32],
    op: &Op,
    scheme: Scheme,
) -> Result<ValueId, LowerError> {
    let (ty, out) = out_type(op, f.ty(x).shape().unwrap_or(&[]), scheme)?;
    let n = in_scales.len().max(slope.len());
    let c = *f.ty(x).shape().unwrap_or(&[]).last().unwrap_or(&1) as usize;
    if n != 1 && n != c
        || in_scales.len() != 1 && in_scales.len() != n
        || slope.len() != 1 && slope.len() != n
    {
        return Err(err(
            op,
            format!(
                "{} slopes and {} input scales for {c} channels",
                slope.len(),
                in_scales.len()
            ),
        ));
    }
    let at = |v: &[f64], k: usize| v[if v.len() == 1 { 0 } else { k }];
    let slope: Vec<f64> = slope.iter().map(|&a| a as f64).collect();
    let (mut pm, mut ps, mut nm, mut ns) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for k in 0..n {
        let s = at(in_scales, k) / out.scale;
        let pos = fixed_multiplier(s)?;
        let neg = signed_multiplier(at(&slope, k) * s)?;
        pm.push(pos.multiplier);
        ps.push(pos.shift);
        nm.push(neg.multiplier);
        ns.push(neg.shift);
    }
    Ok(qnt::prelu(f, x, ty, (&pm, &ps), (&nm, &ns)))
}

/// A scalar elementwise step after an activation.
#[derive(Clone, Copy, Debug)]
enum Step {
    Mul(f64),
    Add(f64),
    /// `c − y`.
    SubFrom(f64),
    Clamp(f64, f64),
}

impl Step {
    fn apply(self, y: f64) -> f64 {
        match self {
            Step::Mul(c) => y * c,
            Step::Add(c) => y + c,
            Step::SubFrom(c) => c - y,
            Step::Clamp(lo, hi) => y.clamp(lo, hi),
        }
    }
}

/// The calibrated scalar mul/add/sub-by-constant and clamp ops that alone follow op `i` in a
/// chain: the last op's index and the steps in order.
fn elementwise_chain(
    g: &Func,
    i: usize,
    uses: &[usize],
    consts: &HashMap<ValueId, (&Type, Vec<f32>)>,
) -> (usize, Vec<Step>) {
    let (mut last, mut steps) = (i, Vec::new());
    loop {
        let v = g.ops[last].results[0];
        if uses[v] != 1 || g.returns.contains(&v) {
            break;
        }
        let Some(u) = g.ops.iter().position(|o| o.operands.contains(&v)) else {
            break;
        };
        let user = &g.ops[u];
        let scalar = |k: usize| {
            consts
                .get(&user.operands[k])
                .filter(|c| c.1.len() == 1)
                .map(|c| c.1[0] as f64)
        };
        let step = match user.name.as_str() {
            "tosa.mul" | "tosa.add" | "tosa.sub" if user.operands.len() >= 2 => {
                let (c, x_first) = match (user.operands[0] == v, user.operands[1] == v) {
                    (true, false) => (scalar(1), true),
                    (false, true) => (scalar(0), false),
                    _ => (None, true),
                };
                let Some(c) = c else { break };
                match (user.name.as_str(), x_first) {
                    ("tosa.mul", _) => Step::Mul(c),
                    ("tosa.add", _) => Step::Add(c),
                    (_, true) => Step::Add(-c),
                    _ => Step::SubFrom(c),
                }
            }
            "tosa.clamp" => match (user.float("min_val"), user.float("max_val")) {
                (Ok(lo), Ok(hi)) => Step::Clamp(lo, hi),
                _ => break,
            },
            _ => break,
        };
        if user.float("nibble.min").is_err() {
            break;
        }
        steps.push(step);
        last = u;
    }
    (last, steps)
}

/// The ops of the chain after op `i` up to `last` (each the single user of the one before).
fn chain_ops(g: &Func, i: usize, last: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut k = i;
    while k != last {
        let v = g.ops[k].results[0];
        match g.ops.iter().position(|o| o.operands.contains(&v)) {
            Some(u) => {
                out.push(u);
                k = u;
            }
            None => break,
        }
    }
    out
}

/// Applies the activation that alone reads op `i` (a conv or fully connected layer whose i32
/// accumulator is `acc`) to the accumulator itself, so the pre-activation value is never
/// rounded to 8 bits: a PReLU as `qnt.prelu`; a hard-swish or swish, together with the scalar
/// affine steps after it (`a·y + b`), as one fixed-point `qnt.hard_swish` / `qnt.swish` (see
/// qnt.irdl.mlir; not under pow2, whose requantizations must stay shifts). Returns the last
/// fused op and the result, or None.
#[allow(clippy::too_many_arguments)]
fn activation_epilogue(
    f: &mut Func,
    acc: ValueId,
    acc_scales: &[f64],
    g: &Func,
    i: usize,
    uses: &[usize],
    consts: &HashMap<ValueId, (&Type, Vec<f32>)>,
    scheme: Scheme,
) -> Result<Option<(usize, ValueId)>, LowerError> {
    let Some(h) = fused_user(g, g.ops[i].results[0], uses) else {
        return Ok(None);
    };
    let act = &g.ops[h];
    let kind = act.custom_name();
    if act.name == "tosa.clamp" || kind == "clamp_channels" {
        // Rescaled straight to the clamp's range: its bounds apply on that grid.
        let r = requant_to_range(f, acc, act, scheme)?;
        let q = f
            .ty(r)
            .quant()
            .ok_or_else(|| err(act, "not quantized per tensor"))?;
        return Ok(Some((h, clamp_to_range(f, r, q, act, consts, scheme)?)));
    }
    if kind == "prelu" {
        let slope = consts
            .get(&act.operands[1])
            .map(|c| c.1.clone())
            .ok_or_else(|| err(act, "the slope must be constant"))?;
        return Ok(Some((
            h,
            prelu_to_range(f, acc, acc_scales, &slope, act, scheme)?,
        )));
    }
    if scheme == Scheme::Pow2 {
        return Ok(None);
    }
    // A hard-swish rescaled per channel by cross-layer equalization: hard_swish(s_c·y) / s_c.
    let scaled: Option<Vec<f64>> = match kind {
        "scaled_hard_swish" => {
            let s = g.ops[h]
                .operands
                .get(1)
                .and_then(|k| consts.get(k))
                .map(|c| c.1.iter().map(|&v| v as f64).collect::<Vec<f64>>())
                .filter(|s: &Vec<f64>| s.iter().all(|&v| v > 0.0))
                .ok_or_else(|| err(&g.ops[h], "the scale must be a positive constant"))?;
            Some(s)
        }
        _ => None,
    };
    let hswish = kind == "hard_swish" || scaled.is_some();
    let beta = match g.ops[h].custom_param("beta") {
        Some(b) if kind == "swish" && b > 0.0 => b,
        _ if hswish => 1.0,
        _ => return Ok(None),
    };
    // The affine prefix of the steps after it.
    let (end, steps) = elementwise_chain(g, h, uses, consts);
    let ops = chain_ops(g, h, end);
    let (mut a, mut b, mut last) = (1.0f64, 0.0f64, h);
    for (s, &k) in steps.iter().zip(&ops) {
        (a, b) = match *s {
            Step::Mul(c) => (a * c, b * c),
            Step::Add(c) => (a, b + c),
            Step::SubFrom(c) => (-a, c - b),
            Step::Clamp(..) => break,
        };
        last = k;
    }
    // Per channel c: the activation's input is s_c times the accumulator's value (1 unless
    // scaled), its output divided by s_c.
    let channels = scaled.as_ref().map_or(acc_scales.len(), |s| s.len());
    let scale_of = |c: usize| scaled.as_ref().map_or(1.0, |s| s[c]);
    let acc_scale = |c: usize| acc_scales[if acc_scales.len() == 1 { 0 } else { c }];
    // The activation's fixed-point input v = x / s_v. Hard-swish: 2^15 steps over the larger of
    // the calibrated pre-activation magnitude and 6 (six = 6/s_v ≤ 2^15); swish: β·x in units
    // of 2^-12, the sigmoid table's index. The product v·(…) then has a scale `unit`.
    let (s_v, unit) = if hswish {
        let (lo, hi) = range(&g.ops[i])?;
        let widest = (0..channels).map(scale_of).fold(0.0f64, f64::max);
        let s_v = (lo.abs().max(hi.abs()) * widest).max(6.0) / 32768.0;
        (s_v, s_v * s_v / 6.0)
    } else {
        let s_v = 2f64.powi(-12) / beta;
        (s_v, s_v * 2f64.powi(-15))
    };
    let (mut mid_m, mut mid_s) = (Vec::new(), Vec::new());
    for c in 0..channels {
        let fs = fixed_multiplier(acc_scale(c) * scale_of(c) / s_v)?;
        mid_m.push(fs.multiplier);
        mid_s.push(fs.shift);
    }
    let last_op = &g.ops[last];
    let (ty, out) = out_type(last_op, f.ty(acc).shape().unwrap_or(&[]), scheme)?;
    let (mut mult, mut shift, mut bias) = (Vec::new(), Vec::new(), Vec::new());
    for c in 0..scaled.as_ref().map_or(1, |s| s.len()) {
        let ratio = a * unit / (scale_of(c) * out.scale);
        let fs = signed_multiplier(ratio).map_err(|e| err(last_op, e.to_string()))?;
        // A 24-bit multiplier and at most 50 fractional bits: v·t·m + bias stays below 2^62.
        let (mut m, mut sh) = (fs.multiplier as i64, fs.shift);
        while m.abs() >= 1 << 24 || sh > 50 {
            m = (m + 1).div_euclid(2);
            sh -= 1;
        }
        if sh < 1 {
            return Err(err(
                last_op,
                format!("the {kind} rescaling {ratio:e} is too large"),
            ));
        }
        mult.push(m as i32);
        shift.push(sh);
        bias.push((b / out.scale * (sh as f64).exp2()).round() as i64);
    }
    let p = qnt::Epilogue {
        mid_multiplier: mid_m,
        mid_shift: mid_s,
        multiplier: mult,
        shift,
        bias,
    };
    let r = if hswish {
        qnt::hard_swish(
            f,
            acc,
            ty,
            &p,
            (3.0 / s_v).round() as i64,
            (6.0 / s_v).round() as i64,
        )
    } else {
        qnt::swish(f, acc, ty, &p, &sigmoid_table())
    };
    Ok(Some((last, r)))
}

/// `round(2^15 · sigmoid((k − 128) / 16))` for k in 0..=256: the sigmoid over [-8, 8] that
/// `qnt.swish` interpolates.
fn sigmoid_table() -> Vec<i32> {
    (0..=256)
        .map(|k| (32768.0 / (1.0 + (-(k as f64 - 128.0) / 16.0).exp())).round() as i32)
        .collect()
}

/// `b − correction`, per output channel.
fn corrected(b: &[f32], correction: &[f64]) -> Vec<f32> {
    b.iter()
        .zip(correction)
        .map(|(&b, &c)| (b as f64 - c) as f32)
        .collect()
}

/// The per-input-channel means calibration left on a layer (`nibble.input_mean`).
fn mean_of(op: &Op) -> Option<Vec<f64>> {
    Some(
        op.dense_f32("nibble.input_mean")?
            .iter()
            .map(|&v| v as f64)
            .collect(),
    )
}

/// A squeeze-excite op's quantization (see `qnt.squeeze_excite`): its weights (w2 and b2 with
/// the hard sigmoid's α, β folded in) with their scales, the accumulator scales a1, a2 the
/// biases are stored at, and the fixed-point parameters.
struct SqueezeExciteParams {
    w1: Vec<f32>,
    w1_shape: [i64; 2],
    s1: Vec<f64>,
    b1: Vec<f32>,
    a1: Vec<f64>,
    w2: Vec<f32>,
    w2_shape: [i64; 2],
    s2: Vec<f64>,
    b2: Vec<f32>,
    a2: Vec<f64>,
    fixed: qnt::SqueezeExcite,
}

/// `P` holds 128 × the channel means on x's grid: |P| < 2^15 for 8-bit inputs.
const SE_POOL_BITS: i32 = 7;
/// SiLU's minimum, a·sigmoid(a) at a ≈ −1.2785.
const SILU_MIN: f64 = -0.2785;
/// The hidden activation's levels over its bound (2^24), and the gate's one (Q15).
const SE_HIDDEN_BITS: u32 = 24;
const SE_GATE_ONE: f64 = 32768.0;

fn squeeze_excite_params(
    op: &Op,
    xs: &[i64],
    qx: QuantType,
    out_scale: f64,
    w: &[Vec<f32>],
    cfg: &QuantConfig,
) -> Result<SqueezeExciteParams, LowerError> {
    let se = nibble_interp::float::squeeze_excite_params(op).map_err(|e| err(op, e.to_string()))?;
    let (alpha, beta) = (se.alpha, se.beta);
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
    let scheme = cfg.scheme;
    let sx = qx.scale;
    let pool = fixed_multiplier((1 << SE_POOL_BITS) as f64 / hw)?;
    // P is at scale sx / 128; the first product at sx / 128 · s1[m].
    let sp = sx / (1 << SE_POOL_BITS) as f64;
    let (w1_shape, w2_shape) = ([cm as i64, c as i64], [c as i64, cm as i64]);
    let s1 = weight_scales(
        &w[0],
        &w1_shape,
        0,
        cfg.per_channel,
        cfg.clamp_sigma,
        scheme,
    );
    let s1 = raise_for_bias(s1, &w[1], sp, scheme);
    let ch = |s: &[f64], k: usize| s[if s.len() == 1 { 0 } else { k }];
    let a1: Vec<f64> = (0..cm).map(|m| sp * ch(&s1, m)).collect();
    // The largest |h| any input can give (x's grid bounds its mean), or the activation's cap.
    let p_max = sx * (qx.qmax() - qx.zero_point).max(qx.zero_point - qx.qmin()) as f64;
    // Σ_c |w1[m,c]| of each hidden channel's int8 weights.
    let abs1: Vec<i64> = (0..cm)
        .map(|m| {
            (0..c)
                .map(|k| quantize_value(w[0][m * c + k] as f64, ch(&s1, m), -127, 127).abs())
                .sum()
        })
        .collect();
    let bound = (0..cm)
        .map(|m| abs1[m] as f64 * ch(&s1, m) * p_max + w[1][m].abs() as f64)
        .fold(if se.silu { SILU_MIN.abs() } else { 0.0 }, f64::max)
        .min(hidden_max);
    // The gate's affine step folded into the second product: α·(w2·h + b2) + β.
    let w2: Vec<f32> = w[2].iter().map(|&v| (alpha * v as f64) as f32).collect();
    let b2: Vec<f32> = w[3]
        .iter()
        .map(|&v| (alpha * v as f64 + beta) as f32)
        .collect();
    let s2 = weight_scales(&w2, &w2_shape, 0, cfg.per_channel, cfg.clamp_sigma, scheme);
    // Σ_m |w2[c,m]| of each channel's int8 weights.
    let abs2: Vec<i64> = (0..c)
        .map(|k| {
            (0..cm)
                .map(|m| quantize_value(w2[k * cm + m] as f64, ch(&s2, k), -127, 127).abs())
                .sum()
        })
        .collect();
    // The hidden scale: the power of two giving |h| up to 2^24 levels, coarser only where a
    // channel's second sum Σ|w2|·|h| + |b2| would reach 2^30.
    let second = (0..c)
        .map(|k| (abs2[k] as f64 * bound + (b2[k] as f64 / ch(&s2, k)).abs()) / (1u64 << 30) as f64)
        .fold(0.0, f64::max);
    // (SiLU's product v·sigmoid is at 2^-27: its shift to the hidden scale must stay ≥ 1.)
    let floor = if se.silu { 2f64.powi(-26) } else { 0.0 };
    let sh = match (bound / (1u64 << SE_HIDDEN_BITS) as f64)
        .max(second)
        .max(floor)
    {
        v if v > 0.0 => v.log2().ceil().exp2(),
        _ => 1.0,
    };
    let h_max = if hidden_max <= bound {
        (hidden_max / sh).floor()
    } else {
        (bound / sh).ceil()
    } as i32;
    // ReLU: the accumulator rescaled to the hidden scale. SiLU: to units of 2^-12 (the sigmoid
    // table's index), then v·sigmoid(v) (at 2^-27) shifted to the hidden scale.
    let (mut hidden_multiplier, mut hidden_shift) = (Vec::new(), Vec::new());
    for a in &a1 {
        let fs = fixed_multiplier(if se.silu { a * 4096.0 } else { a / sh })?;
        hidden_multiplier.push(fs.multiplier);
        hidden_shift.push(fs.shift);
    }
    let hidden_out_shift = if se.silu {
        27 + sh.log2().round() as i32
    } else {
        0
    };
    let a2: Vec<f64> = (0..c).map(|k| sh * ch(&s2, k)).collect();
    // The gate's input in its fixed point: the hard sigmoid's in Q15 (its output directly), the
    // sigmoid's in units of 2^-12 (the index of the interpolated sigmoid table).
    let unit = if se.sigmoid { 4096.0 } else { SE_GATE_ONE };
    let (mut gate_multiplier, mut gate_shift) = (Vec::new(), Vec::new());
    for a in &a2 {
        let fs = fixed_multiplier(a * unit)?;
        gate_multiplier.push(fs.multiplier);
        gate_shift.push(fs.shift);
    }
    // 64-bit products: each sum (below 2^31) times its 31-bit multiplier stays below 2^62.
    let limit = (1i64 << 31) as f64;
    for m in 0..cm {
        if (abs1[m] << 15) as f64 + (w[1][m] as f64 / a1[m]).abs() >= limit {
            return Err(err(op, format!("hidden channel {m}: Σ|w1| × 2^15 + |b1| reaches 2^31 (its 64-bit rescaling could overflow)")));
        }
    }
    for k in 0..c {
        if (abs2[k] * h_max as i64) as f64 + (b2[k] as f64 / a2[k]).abs() >= limit {
            return Err(err(op, format!("channel {k}: Σ|w2| × hidden_max + |b2| reaches 2^31 (its 64-bit rescaling could overflow)")));
        }
    }
    let output = fixed_multiplier(sx / (SE_GATE_ONE * out_scale))?;
    Ok(SqueezeExciteParams {
        w1: w[0].clone(),
        w1_shape,
        s1,
        b1: w[1].clone(),
        a1,
        w2,
        w2_shape,
        s2,
        b2,
        a2,
        fixed: qnt::SqueezeExcite {
            pool: (pool.multiplier, pool.shift),
            hidden_multiplier,
            hidden_shift,
            hidden_max: h_max,
            hidden_table: if se.silu { sigmoid_table() } else { Vec::new() },
            hidden_out_shift,
            gate_multiplier,
            gate_shift,
            gate_table: if se.sigmoid {
                sigmoid_table()
            } else {
                Vec::new()
            },
            output: (output.multiplier, output.shift),
        },
    })
}

/// Weight scales raised where a channel's bias would not fit ±2^30 at `input_scale` × scale.
fn raise_for_bias(
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

/// A clamp (`tosa.clamp`, or the `clamp_channels` of cross-layer equalization: per-channel upper
/// bounds at or above the output grid's top, which are the grid's own saturation) of `x` (type
/// `q`), then requantized to the clamp's own range (nothing if `x` already has it).
fn clamp_to_range(
    f: &mut Func,
    x: ValueId,
    q: QuantType,
    op: &Op,
    consts: &HashMap<ValueId, (&Type, Vec<f32>)>,
    scheme: Scheme,
) -> Result<ValueId, LowerError> {
    let c = if op.name == "tosa.clamp" {
        let (lo, hi) = (op.float("min_val")?, op.float("max_val")?);
        qnt::clamp(f, x, stored(&q, lo), stored(&q, hi))
    } else {
        let lo = op
            .custom_param("min")
            .ok_or_else(|| err(op, "clamp_channels needs a min"))?;
        let hi = consts
            .get(&op.operands[1])
            .map(|c| c.1.clone())
            .ok_or_else(|| err(op, "the upper bounds must be constant"))?;
        let (_, out) = out_type(op, f.ty(x).shape().unwrap_or(&[]), scheme)?;
        let top = out.scale * (out.qmax() - out.zero_point) as f64;
        if let Some(&b) = hi.iter().find(|&&b| (b as f64) < top * (1.0 - 1e-6)) {
            return Err(err(op, format!("a per-channel upper bound ({b}) below the output grid's top ({top}) has no integer form")));
        }
        qnt::clamp(f, x, stored(&q, lo), q.qmax())
    };
    requant_to_range(f, c, op, scheme)
}

/// The activation marked `nibble.fused` (by `nibble-fuse-activations`) that alone reads `v`.
fn fused_user(g: &Func, v: ValueId, uses: &[usize]) -> Option<usize> {
    if uses[v] != 1 || g.returns.contains(&v) {
        return None;
    }
    g.ops
        .iter()
        .position(|o| o.operands.first() == Some(&v) && o.attrs.contains_key(FUSED_ATTR))
}
