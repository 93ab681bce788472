//! What rescales a value to an op's own range: a plain `qnt.requant`, a clamp on the grid it
//! clamps, a PReLU (`qnt.prelu`), and the fused activation epilogues of conv / fully connected
//! layers: an activation marked `nibble.fused` is applied to the i32 accumulator itself
//! (`qnt.prelu`, or one fixed-point `qnt.hard_swish` / `qnt.swish` with the scalar affine
//! steps after it), so the pre-activation value is never rounded to its own grid.

use super::elementwise::{chain_ops, elementwise_chain, Step};
use super::tables::sigmoid_table;
use super::types::{multipliers, out_type, range, stored};
use super::{err, Cx, Lowered};
use crate::LowerError;
use nibble_graph::{attrs, tosa, ClampChannels, Kind, Layer};
use nibble_ir::{Func, Op, QuantType, ValueId};
use nibble_qnt as qnt;
use nibble_quantize::{fixed_multiplier, signed_multiplier, Scheme};

/// A standalone clamp: `tosa.clamp`, or `clamp_channels`.
pub(super) fn clamp(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    let op = &cx.g.ops[i];
    let (x, q) = cx.quant_input(op, 0)?;
    Ok(Lowered::Value(clamp_to_range(cx, x, q, op)?))
}

/// A standalone PReLU (a `qnt.prelu` between two activation grids).
pub(super) fn prelu(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    let op = &cx.g.ops[i];
    let (x, q) = cx.quant_input(op, 0)?;
    let slope = cx.constant(op, 1, "the slope must be constant")?;
    let scheme = cx.scheme();
    let out = prelu_to_range(&mut cx.f, x, &[q.scale], &slope, op, scheme)?;
    Ok(Lowered::Value(out))
}

/// A `scaled_hard_swish` that no layer's epilogue took.
pub(super) fn scaled_hard_swish(cx: &mut Cx<'_>, i: usize) -> Result<Lowered, LowerError> {
    Err(err(&cx.g.ops[i], "a hard-swish rescaled per channel (by nibble-equalize) is quantized only as the epilogue of the conv / fully connected layer it alone reads, which pow2 does not use (equalize with scheme=pow2 leaves hard-swish alone)"))
}

/// Requantizes `v` to the scale and zero point of `op`'s own range (nothing if it has them).
pub(super) fn requant_to_range(
    f: &mut Func,
    v: ValueId,
    op: &Op,
    scheme: Scheme,
) -> Result<ValueId, LowerError> {
    let (ty, out) = out_type(op, f.ty(v).shape().unwrap_or(&[]), scheme)?;
    // A per-channel accumulator needs one multiplier per channel.
    if let Some(qa) = f.ty(v).quant_axis().cloned() {
        let (mults, shifts) = multipliers(qa.scales.iter().map(|s| s / out.scale))?;
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

/// A clamp (`tosa.clamp`, or the `clamp_channels` of cross-layer equalization: per-channel upper
/// bounds at or above the output grid's top, which are the grid's own saturation) of `x` (type
/// `q`), then requantized to the clamp's own range (nothing if `x` already has it).
fn clamp_to_range(
    cx: &mut Cx<'_>,
    x: ValueId,
    q: QuantType,
    op: &Op,
) -> Result<ValueId, LowerError> {
    let scheme = cx.scheme();
    let c = if op.name == tosa::CLAMP {
        let (lo, hi) = (op.float("min_val")?, op.float("max_val")?);
        qnt::clamp(&mut cx.f, x, stored(&q, lo), stored(&q, hi))
    } else {
        let lo = ClampChannels::from_op(op)
            .map_err(|e| err(op, e.to_string()))?
            .min;
        let hi = cx.constant(op, 1, "the upper bounds must be constant")?;
        let (_, out) = out_type(op, cx.f.ty(x).shape().unwrap_or(&[]), scheme)?;
        let top = out.scale * (out.qmax() - out.zero_point) as f64;
        if let Some(&b) = hi.iter().find(|&&b| (b as f64) < top * (1.0 - 1e-6)) {
            return Err(err(op, format!("a per-channel upper bound ({b}) below the output grid's top ({top}) has no integer form")));
        }
        qnt::clamp(&mut cx.f, x, stored(&q, lo), q.qmax())
    };
    requant_to_range(&mut cx.f, c, op, scheme)
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

/// The activation marked `nibble.fused` (by `nibble-fuse-activations`) that alone reads `v`.
fn fused_user(g: &Func, v: ValueId, uses: &[usize]) -> Option<usize> {
    if uses[v] != 1 || g.returns.contains(&v) {
        return None;
    }
    g.ops
        .iter()
        .position(|o| o.operands.first() == Some(&v) && o.attrs.contains_key(attrs::FUSED))
}

/// Applies the activation that alone reads op `i` (a conv or fully connected layer whose i32
/// accumulator is `acc`) to the accumulator itself, so the pre-activation value is never
/// rounded to 8 bits: a clamp on the clamp's grid; a PReLU as `qnt.prelu`; a hard-swish or
/// swish, together with the scalar affine steps after it (`a·y + b`), as one fixed-point
/// `qnt.hard_swish` / `qnt.swish` (see qnt.irdl.mlir; not under pow2, whose requantizations
/// must stay shifts). Returns the last fused op and the result, or None.
pub(super) fn activation_epilogue(
    cx: &mut Cx<'_>,
    acc: ValueId,
    acc_scales: &[f64],
    i: usize,
) -> Result<Option<(usize, ValueId)>, LowerError> {
    let g = cx.g;
    let Some(h) = fused_user(g, g.ops[i].results[0], &cx.uses) else {
        return Ok(None);
    };
    let act = &g.ops[h];
    let kind = Kind::of(act);
    let scheme = cx.scheme();
    if act.name == tosa::CLAMP || kind == Some(Kind::ClampChannels) {
        // Rescaled straight to the clamp's range: its bounds apply on that grid.
        let r = requant_to_range(&mut cx.f, acc, act, scheme)?;
        let q =
            cx.f.ty(r)
                .quant()
                .ok_or_else(|| err(act, "not quantized per tensor"))?;
        return Ok(Some((h, clamp_to_range(cx, r, q, act)?)));
    }
    if kind == Some(Kind::Prelu) {
        let slope = cx.constant(act, 1, "the slope must be constant")?;
        let out = prelu_to_range(&mut cx.f, acc, acc_scales, &slope, act, scheme)?;
        return Ok(Some((h, out)));
    }
    if scheme == Scheme::Pow2 {
        return Ok(None);
    }
    let Some(smooth) = Smooth::of(cx, h)? else {
        return Ok(None);
    };
    smooth.lower(cx, acc, acc_scales, i).map(Some)
}

/// A fused hard-swish or swish: graph op `h`, what it is, and for a hard-swish rescaled per
/// channel by cross-layer equalization (`hard_swish(s_c·y) / s_c`), the scales `s_c`.
struct Smooth {
    h: usize,
    kind: Kind,
    hswish: bool,
    beta: f64,
    scaled: Option<Vec<f64>>,
}

/// The affine map `a·y + b` of the scalar steps after an activation, up to graph op `last`.
struct Affine {
    a: f64,
    b: f64,
    last: usize,
}

/// The activation's fixed-point input `v = x / s_v` and the scale `unit` of the product
/// `v·(…)` it computes.
struct InputGrid {
    s_v: f64,
    unit: f64,
}

impl Smooth {
    /// Graph op `h` as a fused hard-swish or swish, or None (another activation, or a swish
    /// without a positive β).
    fn of(cx: &Cx<'_>, h: usize) -> Result<Option<Smooth>, LowerError> {
        let act = &cx.g.ops[h];
        let Some(kind) = Kind::of(act) else {
            return Ok(None);
        };
        let scaled: Option<Vec<f64>> = match kind {
            Kind::ScaledHardSwish => Some(
                act.operands
                    .get(1)
                    .and_then(|k| cx.consts.get(k))
                    .map(|c| c.1.iter().map(|&v| v as f64).collect::<Vec<f64>>())
                    .filter(|s: &Vec<f64>| s.iter().all(|&v| v > 0.0))
                    .ok_or_else(|| err(act, "the scale must be a positive constant"))?,
            ),
            _ => None,
        };
        let hswish = kind == Kind::HardSwish || scaled.is_some();
        let beta = match (kind, Layer::from_op(act)) {
            (Kind::Swish, Ok(Some(Layer::Swish(p)))) if p.beta > 0.0 => p.beta,
            _ if hswish => 1.0,
            _ => return Ok(None),
        };
        Ok(Some(Smooth {
            h,
            kind,
            hswish,
            beta,
            scaled,
        }))
    }

    /// The scale the activation's input gets in channel `c` (1 unless scaled).
    fn scale_of(&self, c: usize) -> f64 {
        self.scaled.as_ref().map_or(1.0, |s| s[c])
    }

    /// The affine prefix of the scalar steps after the activation (up to the first clamp).
    fn affine(&self, cx: &Cx<'_>) -> Affine {
        let (end, steps) = elementwise_chain(cx.g, self.h, &cx.uses, &cx.consts);
        let ops = chain_ops(cx.g, self.h, end);
        let (mut a, mut b, mut last) = (1.0f64, 0.0f64, self.h);
        for (s, &k) in steps.iter().zip(&ops) {
            (a, b) = match *s {
                Step::Mul(c) => (a * c, b * c),
                Step::Add(c) => (a, b + c),
                Step::SubFrom(c) => (-a, c - b),
                Step::Clamp(..) => break,
            };
            last = k;
        }
        Affine { a, b, last }
    }

    /// Hard-swish: 2^15 steps over the larger of the calibrated pre-activation magnitude of
    /// layer `layer` and 6 (six = 6/s_v ≤ 2^15); swish: β·x in units of 2^-12, the sigmoid
    /// table's index.
    fn input_grid(&self, layer: &Op, channels: usize) -> Result<InputGrid, LowerError> {
        Ok(if self.hswish {
            let (lo, hi) = range(layer)?;
            let widest = (0..channels)
                .map(|c| self.scale_of(c))
                .fold(0.0f64, f64::max);
            let s_v = (lo.abs().max(hi.abs()) * widest).max(6.0) / 32768.0;
            InputGrid {
                s_v,
                unit: s_v * s_v / 6.0,
            }
        } else {
            let s_v = 2f64.powi(-12) / self.beta;
            InputGrid {
                s_v,
                unit: s_v * 2f64.powi(-15),
            }
        })
    }

    /// The epilogue on accumulator `acc` of layer `i`: per channel c the activation's input
    /// is s_c times the accumulator's value, its output divided by s_c.
    fn lower(
        &self,
        cx: &mut Cx<'_>,
        acc: ValueId,
        acc_scales: &[f64],
        i: usize,
    ) -> Result<(usize, ValueId), LowerError> {
        let g = cx.g;
        let affine = self.affine(cx);
        let channels = self.scaled.as_ref().map_or(acc_scales.len(), |s| s.len());
        if acc_scales.len() != 1 && acc_scales.len() != channels {
            return Err(err(
                &g.ops[self.h],
                format!(
                    "{} scales for an accumulator of {} channels",
                    channels,
                    acc_scales.len()
                ),
            ));
        }
        let acc_scale = |c: usize| acc_scales[if acc_scales.len() == 1 { 0 } else { c }];
        let grid = self.input_grid(&g.ops[i], channels)?;
        let (mid_multiplier, mid_shift) =
            multipliers((0..channels).map(|c| acc_scale(c) * self.scale_of(c) / grid.s_v))?;
        let last_op = &g.ops[affine.last];
        let (ty, out) = out_type(last_op, cx.f.ty(acc).shape().unwrap_or(&[]), cx.scheme())?;
        let mut p = qnt::Epilogue {
            mid_multiplier,
            mid_shift,
            multiplier: Vec::new(),
            shift: Vec::new(),
            bias: Vec::new(),
        };
        self.output_rescale(&mut p, last_op, &affine, &grid, out)?;
        let r = if self.hswish {
            let (three, six) = ((3.0 / grid.s_v).round(), (6.0 / grid.s_v).round());
            qnt::hard_swish(&mut cx.f, acc, ty, &p, three as i64, six as i64)
        } else {
            qnt::swish(&mut cx.f, acc, ty, &p, &sigmoid_table())
        };
        Ok((affine.last, r))
    }

    /// The product's rescaling to the output grid with the affine step folded in, once or per
    /// scaled channel: a 24-bit multiplier and at most 50 fractional bits, so v·t·m + bias
    /// stays below 2^62: `p`'s multipliers, shifts and biases.
    fn output_rescale(
        &self,
        p: &mut qnt::Epilogue,
        last_op: &Op,
        affine: &Affine,
        grid: &InputGrid,
        out: QuantType,
    ) -> Result<(), LowerError> {
        for c in 0..self.scaled.as_ref().map_or(1, |s| s.len()) {
            let ratio = affine.a * grid.unit / (self.scale_of(c) * out.scale);
            let fs = signed_multiplier(ratio).map_err(|e| err(last_op, e.to_string()))?;
            let (mut m, mut sh) = (fs.multiplier as i64, fs.shift);
            while m.abs() >= 1 << 24 || sh > 50 {
                m = (m + 1).div_euclid(2);
                sh -= 1;
            }
            if sh < 1 {
                return Err(err(
                    last_op,
                    format!("the {} rescaling {ratio:e} is too large", self.kind.name()),
                ));
            }
            p.multiplier.push(m as i32);
            p.shift.push(sh);
            p.bias
                .push((affine.b / out.scale * (sh as f64).exp2()).round() as i64);
        }
        Ok(())
    }
}
