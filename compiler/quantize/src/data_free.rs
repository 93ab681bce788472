//! Data-free ranges: activation ranges without a single calibration vector. Every value gets a
//! per-channel (last axis) Gaussian model — mean and standard deviation — propagated through the
//! graph from two sources of truth: the input's declared range (uniform over it) and the
//! statistics of BatchNormalization outputs (mean β, standard deviation |γ|, attached by the
//! importer as `nibble.bn_mean`/`nibble.bn_std` and kept on the conv they fold into) and of
//! LayerNorm outputs (β, |γ|). Between them: linear layers propagate means and variances through
//! their weights (inputs assumed independent), elementwise functions by numerical quadrature
//! over each channel's Gaussian, sums and products by the moment formulas. A value's range is
//! `[min_c(μ_c − kσ_c), max_c(μ_c + kσ_c)]`, within the image of a bounded function.

use crate::QuantError;
use nibble_graph::{attrs, tosa, Activation, Kind, Layer, SqueezeExcite};
use nibble_ir::{model, Func, Op, ValueId};
use std::collections::HashMap;

/// Per-channel Gaussian model of a value (one entry: per tensor), and the bounds it cannot
/// leave (from a bounded function), if known.
#[derive(Clone, Debug)]
struct Stats {
    mean: Vec<f64>,
    std: Vec<f64>,
    bounds: Option<(f64, f64)>,
}

impl Stats {
    /// The same statistics over `n` channels (a per-tensor one repeated), for a function with a
    /// per-channel parameter.
    fn widened(&self, n: usize) -> Stats {
        Stats {
            mean: (0..n).map(|c| self.at(c).0).collect(),
            std: (0..n).map(|c| self.at(c).1).collect(),
            bounds: None,
        }
    }
    /// No channels yet (see [`Stats::push`]).
    fn empty() -> Stats {
        Stats {
            mean: vec![],
            std: vec![],
            bounds: None,
        }
    }
    /// Appends a channel.
    fn push(&mut self, mean: f64, std: f64) {
        self.mean.push(mean);
        self.std.push(std);
    }
    fn tensor(mean: f64, std: f64) -> Stats {
        Stats {
            mean: vec![mean],
            std: vec![std],
            bounds: None,
        }
    }
    fn channels(&self) -> usize {
        self.mean.len()
    }
    fn at(&self, c: usize) -> (f64, f64) {
        let k = if self.mean.len() == 1 { 0 } else { c };
        (self.mean[k], self.std[k])
    }
    /// One Gaussian for the whole tensor (the mixture's mean and variance).
    fn merged(&self) -> Stats {
        let n = self.channels().max(1) as f64;
        let mean = self.mean.iter().sum::<f64>() / n;
        let second = self
            .mean
            .iter()
            .zip(&self.std)
            .map(|(m, s)| m * m + s * s)
            .sum::<f64>()
            / n;
        Stats {
            mean: vec![mean],
            std: vec![(second - mean * mean).max(0.0).sqrt()],
            bounds: self.bounds,
        }
    }
    fn range(&self, k: f64) -> (f64, f64) {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (m, s) in self.mean.iter().zip(&self.std) {
            lo = lo.min(m - k * s);
            hi = hi.max(m + k * s);
        }
        if let Some((a, b)) = self.bounds {
            (lo, hi) = (lo.max(a), hi.min(b));
        }
        if hi - lo <= 1e-6 || hi.is_nan() || lo.is_nan() {
            let c = (lo + hi) / 2.0;
            (lo, hi) = (c - 1e-3, c + 1e-3);
        }
        (lo, hi)
    }
}

/// Standard normal quadrature: 33 points over ±4σ with normalised Gaussian weights.
fn quadrature() -> Vec<(f64, f64)> {
    let pts: Vec<f64> = (0..33).map(|i| -4.0 + i as f64 * 0.25).collect();
    let w: Vec<f64> = pts.iter().map(|z| (-z * z / 2.0).exp()).collect();
    let total: f64 = w.iter().sum();
    pts.into_iter()
        .zip(w.into_iter().map(|x| x / total))
        .collect()
}

/// Statistics of `f(X)` per channel, and its bounds: the image of `[μ − kσ, μ + kσ]`.
fn through(s: &Stats, k: f64, f: impl Fn(f64, usize) -> f64) -> Stats {
    let q = quadrature();
    let (mut mean, mut std) = (Vec::new(), Vec::new());
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for c in 0..s.channels() {
        let (m, sd) = s.at(c);
        let (mut e1, mut e2) = (0.0, 0.0);
        for &(z, w) in &q {
            let y = f(m + sd * z, c);
            e1 += w * y;
            e2 += w * y * y;
        }
        for i in 0..=32 {
            let y = f(m + sd * k * (i as f64 / 16.0 - 1.0), c);
            lo = lo.min(y);
            hi = hi.max(y);
        }
        mean.push(e1);
        std.push((e2 - e1 * e1).max(0.0).sqrt());
    }
    Stats {
        mean,
        std,
        bounds: Some((lo, hi)),
    }
}

fn unsupported(op: &Op, why: &str) -> QuantError {
    QuantError::DataFree(format!(
        "'{}'{}: {why}",
        op.name,
        op.loc
            .as_deref()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default()
    ))
}

/// Ranges for every value of `func` from the input range `input` and `k` standard deviations.
pub fn ranges(func: &Func, input: (f64, f64), k: f64) -> Result<crate::RangeTable, QuantError> {
    let (lo, hi) = input;
    let mut walk = Walk {
        func,
        k,
        consts: HashMap::new(),
        stats: HashMap::from([(
            func.args[0],
            Stats {
                mean: vec![(lo + hi) / 2.0],
                std: vec![(hi - lo) / 12f64.sqrt()],
                bounds: Some((lo, hi)),
            },
        )]),
    };
    for op in &func.ops {
        let r = op.results[0];
        match op.name.as_str() {
            tosa::CONST => {
                let (ty, bytes) = op.dense("values")?;
                if ty.elem() == Some(&nibble_ir::Elem::F32) {
                    let data = model::dense_f32(bytes).iter().map(|&v| v as f64).collect();
                    walk.consts
                        .insert(r, (ty.shape().unwrap_or(&[]).to_vec(), data));
                }
            }
            tosa::CONST_SHAPE => {}
            _ => {
                let out = walk.op(op)?;
                let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
                if !finite(&out.mean) || !finite(&out.std) {
                    return Err(unsupported(
                        op,
                        "its propagated mean or standard deviation is not finite (the model's \
                         statistics overflow here); give --calib to calibrate instead",
                    ));
                }
                walk.stats.insert(r, out);
            }
        }
    }
    Ok(walk.table())
}

/// The propagation under way: the constants and the statistics of every value so far.
struct Walk<'f> {
    func: &'f Func,
    /// Standard deviations a range spans each side of the mean.
    k: f64,
    /// f32 constants: shape and data.
    consts: HashMap<ValueId, (Vec<i64>, Vec<f64>)>,
    stats: HashMap<ValueId, Stats>,
}

/// The ops statistics propagate through, for the error on any other.
const SUPPORTED: &str = "data-free ranges cannot propagate through it (supported: conv, depthwise, matmul, add, sub, mul, clamp, pools, transpose, reshape, slice, concat, unary activations, prelu, softmax, layer_norm, squeeze_excite)";

impl Walk<'_> {
    /// The size of `v`'s last axis (its channels).
    fn last_dim(&self, v: ValueId) -> usize {
        *self.func.ty(v).shape().and_then(|s| s.last()).unwrap_or(&1) as usize
    }
    /// The statistics of `op`'s operand `k`.
    fn get(&self, op: &Op, k: usize) -> Result<&Stats, QuantError> {
        self.stats
            .get(&op.operands[k])
            .ok_or_else(|| unsupported(op, &format!("operand {k} has no statistics")))
    }
    /// `op`'s operand `k` if it is a constant: shape and data.
    fn konst(&self, op: &Op, k: usize) -> Option<&(Vec<i64>, Vec<f64>)> {
        self.consts.get(&op.operands[k])
    }
    /// The data of constant operand `k`, or the error `what`.
    fn data(&self, op: &Op, k: usize, what: &str) -> Result<Vec<f64>, QuantError> {
        self.konst(op, k)
            .map(|c| c.1.clone())
            .ok_or_else(|| unsupported(op, what))
    }
    /// Per-channel view of a constant operand broadcast against `c` channels.
    fn channel_const(&self, op: &Op, k: usize, c: usize) -> Option<Vec<f64>> {
        let (_, data) = self.konst(op, k)?;
        match data.len() {
            1 => Some(vec![data[0]; c]),
            n if n == c => Some(data.clone()),
            _ => None,
        }
    }

    /// The statistics of `op`'s result: BatchNorm statistics where the op carries them, else
    /// propagated by the op's family.
    fn op(&self, op: &Op) -> Result<Stats, QuantError> {
        let f64s = |v: Vec<f32>| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
        if let (Some(m), Some(s)) = (op.dense_f32(attrs::BN_MEAN), op.dense_f32(attrs::BN_STD)) {
            return Ok(Stats {
                mean: f64s(m),
                std: f64s(s),
                bounds: None,
            });
        }
        match op.name.as_str() {
            tosa::TRANSPOSE | tosa::RESHAPE | tosa::SLICE => self.movement(op),
            tosa::MAX_POOL2D | tosa::AVG_POOL2D => Ok(self.get(op, 0)?.clone()),
            tosa::CONCAT => self.concat(op),
            tosa::CONV2D | tosa::DEPTHWISE_CONV2D => self.conv(op),
            tosa::MATMUL => self.matmul(op),
            tosa::ADD | tosa::SUB | tosa::MUL => self.arith(op),
            tosa::CUSTOM if Kind::of(op).is_some_and(|k| Walk::LAYERS.contains(&k)) => {
                self.layer(op)
            }
            tosa::CLAMP => {
                let (a, b) = (op.float("min_val")?, op.float("max_val")?);
                Ok(through(self.get(op, 0)?, self.k, |v, _| v.clamp(a, b)))
            }
            _ => match Activation::of(op)? {
                Some(f) => Ok(through(self.get(op, 0)?, self.k, |v, _| {
                    f.apply(v as f32) as f64
                })),
                None => Err(unsupported(op, SUPPORTED)),
            },
        }
    }

    /// Transpose, reshape, slice: the channels' statistics where the last axis stays the
    /// channels, else one for the tensor.
    fn movement(&self, op: &Op) -> Result<Stats, QuantError> {
        let (x, r) = (self.get(op, 0)?, op.results[0]);
        let same_last = self.last_dim(op.operands[0]) == self.last_dim(r);
        let keeps_channels = (op.name == tosa::RESHAPE || op.name == tosa::SLICE) && same_last
            || op.name == tosa::TRANSPOSE
                && op.ints("perms").ok().and_then(|p| p.last().copied())
                    == Some(p_last(self.func, op));
        Ok(if keeps_channels || x.channels() == 1 {
            x.clone()
        } else {
            x.merged()
        })
    }

    /// Concat: the parts' channels side by side on the last axis, else one mixture.
    fn concat(&self, op: &Op) -> Result<Stats, QuantError> {
        let axis = op.int("axis")? as usize;
        let rank = self.func.ty(op.results[0]).shape().map_or(0, |s| s.len());
        let parts: Vec<Stats> = (0..op.operands.len())
            .map(|k| self.get(op, k).cloned())
            .collect::<Result<_, _>>()?;
        let mut s = Stats::empty();
        if axis + 1 == rank {
            for (p, &v) in parts.iter().zip(&op.operands) {
                for c in 0..self.last_dim(v) {
                    let (m, d) = p.at(c);
                    s.mean.push(m);
                    s.std.push(d);
                }
            }
            Ok(s)
        } else {
            for p in &parts {
                let m = p.merged();
                s.mean.push(m.mean[0]);
                s.std.push(m.std[0]);
            }
            Ok(s.merged())
        }
    }

    /// Conv (OHWI) and depthwise conv ([KH, KW, C, 1]) with constant weights and bias: means
    /// and variances through the taps, inputs independent.
    fn conv(&self, op: &Op) -> Result<Stats, QuantError> {
        let x = self.get(op, 0)?;
        let ((ws, w), (_, b)) = match (self.konst(op, 1), self.konst(op, 2)) {
            (Some(w), Some(b)) => (w, b),
            _ => return Err(unsupported(op, "weights and bias must be constant")),
        };
        let mut s = Stats::empty();
        if op.name == tosa::CONV2D {
            // OHWI: tap j of output o reads input channel j % C.
            let (oc, c) = (ws[0] as usize, *ws.last().unwrap_or(&1) as usize);
            let per = w.len() / oc.max(1);
            for o in 0..oc {
                let (mut m, mut v) = (b[o], 0.0);
                for (j, &wj) in w[o * per..(o + 1) * per].iter().enumerate() {
                    let (mi, si) = x.at(j % c);
                    m += wj * mi;
                    v += wj * wj * si * si;
                }
                s.push(m, v.sqrt());
            }
        } else {
            // [KH, KW, C, 1]: channel c sums its own taps.
            let c = ws[2] as usize;
            for (ch, &bias) in b.iter().enumerate().take(c) {
                let (mi, si) = x.at(ch);
                let (mut m, mut v) = (bias, 0.0);
                for tap in w.iter().skip(ch).step_by(c) {
                    m += tap * mi;
                    v += tap * tap * si * si;
                }
                s.push(m, v.sqrt());
            }
        }
        Ok(s)
    }

    /// Matmul by a constant [1, K, M] (per output column), or of two activations (one
    /// mixture each).
    fn matmul(&self, op: &Op) -> Result<Stats, QuantError> {
        let a = self.get(op, 0)?;
        if let Some((bs, w)) = self.konst(op, 1) {
            // [1, K, M]: output m sums input channels k.
            let (kk, mm) = (bs[1] as usize, bs[2] as usize);
            let mut s = Stats::empty();
            for m in 0..mm {
                let (mut mu, mut v) = (0.0, 0.0);
                for k in 0..kk {
                    let (mi, si) = a.at(k);
                    mu += w[k * mm + m] * mi;
                    v += w[k * mm + m].powi(2) * si * si;
                }
                s.push(mu, v.sqrt());
            }
            Ok(s)
        } else {
            let (a, b) = (a.merged(), self.get(op, 1)?.merged());
            let n = self.last_dim(op.operands[0]) as f64;
            let (ma, sa, mb, sb) = (a.mean[0], a.std[0], b.mean[0], b.std[0]);
            let var = sa * sa * sb * sb + sa * sa * mb * mb + sb * sb * ma * ma;
            Ok(Stats::tensor(n * ma * mb, (n * var).sqrt()))
        }
    }

    /// Add, sub, mul of two activations (moment formulas) or of an activation and a constant
    /// holding one value or one per channel.
    fn arith(&self, op: &Op) -> Result<Stats, QuantError> {
        let mul = op.name == tosa::MUL;
        let sign = if op.name == tosa::SUB { -1.0 } else { 1.0 };
        let (sa, sb) = (
            self.stats.get(&op.operands[0]),
            self.stats.get(&op.operands[1]),
        );
        let mut s = Stats::empty();
        match (sa, sb) {
            (Some(a), Some(b)) => {
                for ch in 0..a.channels().max(b.channels()) {
                    let ((ma, da), (mb, db)) = (a.at(ch), b.at(ch));
                    if mul {
                        let var = da * da * db * db + da * da * mb * mb + db * db * ma * ma;
                        s.push(ma * mb, var.sqrt());
                    } else {
                        s.push(ma + sign * mb, (da * da + db * db).sqrt());
                    }
                }
            }
            (Some(x), None) | (None, Some(x)) => {
                let x_first = sa.is_some();
                let kc = if x_first { 1 } else { 0 };
                let one = self.konst(op, kc).map_or(0, |c| c.1.len()) == 1;
                let n = x
                    .channels()
                    .max(if one { 1 } else { self.last_dim(op.results[0]) });
                let cv = self.channel_const(op, kc, n).ok_or_else(|| {
                    unsupported(
                        op,
                        "a constant operand must hold one value or one per channel",
                    )
                })?;
                for (ch, &k) in cv.iter().enumerate() {
                    let (m, d) = x.at(ch);
                    let (m, d) = match (op.name.as_str(), x_first) {
                        (tosa::MUL, _) => (m * k, d * k.abs()),
                        (tosa::ADD, _) => (m + k, d),
                        (_, true) => (m - k, d),
                        _ => (k - m, d),
                    };
                    s.push(m, d);
                }
            }
            (None, None) => return Err(unsupported(op, "no activation operand")),
        }
        Ok(s)
    }

    /// The `nibble` layers statistics propagate through other than the unary activations.
    const LAYERS: [Kind; 6] = [
        Kind::Softmax,
        Kind::LayerNorm,
        Kind::Prelu,
        Kind::ClampChannels,
        Kind::ScaledHardSwish,
        Kind::SqueezeExcite,
    ];

    /// A layer of [`Walk::LAYERS`].
    fn layer(&self, op: &Op) -> Result<Stats, QuantError> {
        let k = self.k;
        let r = op.results[0];
        Ok(match Layer::from_op(op)? {
            Some(Layer::Softmax) => {
                let n = self.last_dim(r) as f64;
                Stats {
                    mean: vec![1.0 / n],
                    std: vec![(1.0 / n).sqrt()],
                    bounds: Some((0.0, 1.0)),
                }
            }
            Some(Layer::LayerNorm(_)) => {
                let (Some((_, g)), Some((_, b))) = (self.konst(op, 1), self.konst(op, 2)) else {
                    return Err(unsupported(op, "gamma and beta must be constant"));
                };
                Stats {
                    mean: b.clone(),
                    std: g.iter().map(|v| v.abs()).collect(),
                    bounds: None,
                }
            }
            Some(Layer::Prelu) => {
                let x = self.get(op, 0)?;
                let slope = self.data(op, 1, "the slope must be constant")?;
                let wide = x.widened(x.channels().max(slope.len()));
                let at = |c: usize| slope[if slope.len() == 1 { 0 } else { c }];
                through(&wide, k, |v, c| if v >= 0.0 { v } else { v * at(c) })
            }
            Some(Layer::ClampChannels(p)) => {
                let x = self.get(op, 0)?;
                let hi = self.data(op, 1, "the upper bound must be constant")?;
                through(&x.widened(hi.len()), k, |v, c| v.max(p.min).min(hi[c]))
            }
            Some(Layer::ScaledHardSwish) => {
                let x = self.get(op, 0)?;
                let s = self.data(op, 1, "the scale must be constant")?;
                let h = Activation::HardSwish;
                through(&x.widened(s.len()), k, |v, c| {
                    h.apply((v * s[c]) as f32) as f64 / s[c]
                })
            }
            Some(Layer::SqueezeExcite(p)) => self.squeeze_excite(op, p)?,
            _ => return Err(unsupported(op, SUPPORTED)),
        })
    }

    /// Squeeze-excite: each channel scaled by the gate its mean opens.
    fn squeeze_excite(&self, op: &Op, p: SqueezeExcite) -> Result<Stats, QuantError> {
        let x = self.get(op, 0)?.widened(self.last_dim(op.results[0]));
        let w: Vec<Vec<f32>> = (1..5)
            .map(|i| {
                self.konst(op, i)
                    .map(|c| c.1.iter().map(|&v| v as f32).collect())
            })
            .collect::<Option<_>>()
            .ok_or_else(|| unsupported(op, "the weights must be constant"))?;
        let gate = p.gate([&w[0], &w[1], &w[2], &w[3]], &x.mean)?;
        Ok(Stats {
            mean: x.mean.iter().zip(&gate).map(|(m, g)| m * g).collect(),
            std: x.std.iter().zip(&gate).map(|(d, g)| d * g).collect(),
            bounds: None,
        })
    }

    /// The range table: each value's range, mean square, and the layers' input means.
    fn table(&self) -> crate::RangeTable {
        let (func, k) = (self.func, self.k);
        let mut table = crate::RangeTable::new(func.values.len());
        for (v, s) in &self.stats {
            let (lo, hi) = s.range(k);
            table.ranges[*v] = Some((lo as f32, hi as f32));
            // The mean square of the channel mixture: mean² + variance, one "observation".
            let m = s.merged();
            table.squares[*v] = (m.mean[0].powi(2) + m.std[0].powi(2), 1);
        }
        // The layers' input means (analytic bias correction), per channel of the last axis.
        for op in func.ops.iter().filter(|o| crate::ranges::is_layer(o)) {
            let v = op.operands[0];
            if let Some(s) = self.stats.get(&v) {
                let c = self.last_dim(v);
                table.means[v] = Some(((0..c).map(|ch| s.at(ch).0).collect(), 1));
            }
        }
        table
    }
}

/// The last axis index of a transpose's input (a transpose keeps channels when it maps the
/// last axis to the last axis).
fn p_last(func: &Func, op: &Op) -> i64 {
    func.ty(op.operands[0])
        .shape()
        .map_or(0, |s| s.len() as i64 - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nibble_ir::{Attr, Elem, Type};

    fn konst(f: &mut Func, shape: &[i64], data: &[f32]) -> ValueId {
        let ty = Type::tensor(shape, Elem::F32);
        f.push(
            tosa::CONST,
            &[],
            ty.clone(),
            vec![("values", Attr::dense_f32(ty, data))],
        )
    }

    /// input [-1, 1] → 1×1 conv (2 channels; the first with BatchNorm statistics β = 1,
    /// |γ| = 0.5) → ReLU → add of both channels' mean.
    #[test]
    fn batchnorm_statistics_and_linear_propagation() {
        let mut f = Func::new("main");
        let x = f.add_arg(Type::tensor(&[1, 1, 1, 2], Elem::F32));
        let w = konst(&mut f, &[2, 1, 1, 2], &[1.0, 0.0, 0.0, 2.0]);
        let b = konst(&mut f, &[2], &[0.0, 0.5]);
        let t = Type::tensor(&[1, 1, 1, 2], Elem::F32);
        let c = f.push(tosa::CONV2D, &[x, w, b], t.clone(), vec![]);
        let relu = f.push(
            tosa::CLAMP,
            &[c],
            t.clone(),
            vec![
                ("min_val", Attr::Float(0.0, "f32".into())),
                ("max_val", Attr::Float(3.4e38, "f32".into())),
            ],
        );
        f.returns.push(relu);
        // Without statistics: channel 0 = x0 (uniform [-1, 1]: σ = 1/√3), channel 1 = 2·x1 + ½.
        let table = ranges(&f, (-1.0, 1.0), 6.0).unwrap();
        let s3 = 1.0 / 3f64.sqrt();
        let (lo, hi) = table.ranges[c].unwrap();
        assert!((lo as f64 - (0.5 - 12.0 * s3)).abs() < 1e-5, "{lo}");
        assert!((hi as f64 - (0.5 + 12.0 * s3)).abs() < 1e-5, "{hi}");
        // ReLU: bounded below by 0; above, the rectified Gaussian's own μ + 6σ, inside the
        // image of the input's range.
        let (lo, hi) = table.ranges[relu].unwrap();
        assert_eq!(lo, 0.0);
        assert!(hi > 4.0 && (hi as f64) < 0.5 + 12.0 * s3, "{hi}");
        // With BatchNorm statistics the conv's range comes from them.
        let ci = f.ops.iter().position(|o| o.name == tosa::CONV2D).unwrap();
        let stats = |v: &[f32]| Attr::dense_f32(Type::tensor(&[2], Elem::F32), v);
        f.ops[ci]
            .attrs
            .insert(attrs::BN_MEAN.into(), stats(&[1.0, 0.0]));
        f.ops[ci]
            .attrs
            .insert(attrs::BN_STD.into(), stats(&[0.5, 0.1]));
        let table = ranges(&f, (-1.0, 1.0), 6.0).unwrap();
        assert_eq!(table.ranges[c], Some((-2.0, 4.0)));
    }

    /// Statistics that overflow f64 (a huge input range through a huge weight) are an error
    /// naming the op, not an infinite range.
    #[test]
    fn overflowing_statistics_are_an_error() {
        let mut f = Func::new("main");
        let x = f.add_arg(Type::tensor(&[1, 1, 1, 1], Elem::F32));
        let w = konst(&mut f, &[1, 1, 1, 1], &[3e38]);
        let b = konst(&mut f, &[1], &[0.0]);
        let c = f.push(
            tosa::CONV2D,
            &[x, w, b],
            Type::tensor(&[1, 1, 1, 1], Elem::F32),
            vec![],
        );
        f.returns.push(c);
        let e = ranges(&f, (-1e300, 1e300), 6.0).unwrap_err().to_string();
        assert!(e.contains(tosa::CONV2D) && e.contains("not finite"), "{e}");
    }

    #[test]
    fn unsupported_ops_are_named() {
        let mut f = Func::new("main");
        let x = f.add_arg(Type::tensor(&[1, 4], Elem::F32));
        let r = f.push(
            tosa::RECIPROCAL,
            &[x],
            Type::tensor(&[1, 4], Elem::F32),
            vec![],
        );
        f.returns.push(r);
        let e = ranges(&f, (-1.0, 1.0), 6.0).unwrap_err().to_string();
        assert!(
            e.contains(tosa::RECIPROCAL) && e.contains("cannot propagate"),
            "{e}"
        );
    }
}
