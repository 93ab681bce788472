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
use nibble_interp::float::unary_activation;
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
    let mut consts: HashMap<ValueId, (Vec<i64>, Vec<f64>)> = HashMap::new();
    let mut stats: HashMap<ValueId, Stats> = HashMap::new();
    let (lo, hi) = input;
    stats.insert(
        func.args[0],
        Stats {
            mean: vec![(lo + hi) / 2.0],
            std: vec![(hi - lo) / 12f64.sqrt()],
            bounds: Some((lo, hi)),
        },
    );
    let last_dim = |v: ValueId| *func.ty(v).shape().and_then(|s| s.last()).unwrap_or(&1) as usize;
    for op in &func.ops {
        let r = op.results[0];
        match op.name.as_str() {
            "tosa.const" => {
                let (ty, bytes) = op.dense("values")?;
                if ty.elem() == Some(&nibble_ir::Elem::F32) {
                    let data = model::dense_f32(bytes).iter().map(|&v| v as f64).collect();
                    consts.insert(r, (ty.shape().unwrap_or(&[]).to_vec(), data));
                }
                continue;
            }
            "tosa.const_shape" => continue,
            _ => {}
        }
        let get = |k: usize| -> Result<&Stats, QuantError> {
            stats
                .get(&op.operands[k])
                .ok_or_else(|| unsupported(op, &format!("operand {k} has no statistics")))
        };
        let konst = |k: usize| consts.get(&op.operands[k]);
        // Per-channel view of a constant operand broadcast against `c` channels.
        let channel_const = |k: usize, c: usize| -> Option<Vec<f64>> {
            let (_, data) = konst(k)?;
            match data.len() {
                1 => Some(vec![data[0]; c]),
                n if n == c => Some(data.clone()),
                _ => None,
            }
        };
        let f64s = |v: Vec<f32>| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
        let out = if let (Some(m), Some(s)) = (
            op.dense_f32("nibble.bn_mean"),
            op.dense_f32("nibble.bn_std"),
        ) {
            Stats {
                mean: f64s(m),
                std: f64s(s),
                bounds: None,
            }
        } else {
            match op.name.as_str() {
                "tosa.transpose" | "tosa.reshape" | "tosa.slice" => {
                    let x = get(0)?;
                    let keeps_channels = op.name == "tosa.reshape" && last_dim(op.operands[0]) == last_dim(r)
                        || op.name == "tosa.slice" && last_dim(op.operands[0]) == last_dim(r)
                        || op.name == "tosa.transpose"
                            && op.ints("perms").ok().and_then(|p| p.last().copied())
                                == Some(p_last(func, op));
                    if keeps_channels || x.channels() == 1 {
                        x.clone()
                    } else {
                        x.merged()
                    }
                }
                "tosa.max_pool2d" | "tosa.avg_pool2d" => get(0)?.clone(),
                "tosa.concat" => {
                    let axis = op.int("axis")? as usize;
                    let rank = func.ty(r).shape().map_or(0, |s| s.len());
                    let parts: Vec<Stats> = (0..op.operands.len()).map(|k| get(k).cloned()).collect::<Result<_, _>>()?;
                    if axis + 1 == rank {
                        let mut s = Stats { mean: vec![], std: vec![], bounds: None };
                        for (p, &v) in parts.iter().zip(&op.operands) {
                            for c in 0..last_dim(v) {
                                let (m, d) = p.at(c);
                                s.mean.push(m);
                                s.std.push(d);
                            }
                        }
                        s
                    } else {
                        let mut s = Stats { mean: vec![], std: vec![], bounds: None };
                        for p in &parts {
                            let m = p.merged();
                            s.mean.push(m.mean[0]);
                            s.std.push(m.std[0]);
                        }
                        s.merged()
                    }
                }
                "tosa.conv2d" | "tosa.depthwise_conv2d" => {
                    let x = get(0)?;
                    let ((ws, w), (_, b)) = match (konst(1), konst(2)) {
                        (Some(w), Some(b)) => (w, b),
                        _ => return Err(unsupported(op, "weights and bias must be constant")),
                    };
                    let mut s = Stats { mean: vec![], std: vec![], bounds: None };
                    if op.name == "tosa.conv2d" {
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
                            s.mean.push(m);
                            s.std.push(v.sqrt());
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
                            s.mean.push(m);
                            s.std.push(v.sqrt());
                        }
                    }
                    s
                }
                "tosa.matmul" => {
                    let a = get(0)?;
                    if let Some((bs, w)) = konst(1) {
                        // [1, K, M]: output m sums input channels k.
                        let (kk, mm) = (bs[1] as usize, bs[2] as usize);
                        let mut s = Stats { mean: vec![], std: vec![], bounds: None };
                        for m in 0..mm {
                            let (mut mu, mut v) = (0.0, 0.0);
                            for k in 0..kk {
                                let (mi, si) = a.at(k);
                                mu += w[k * mm + m] * mi;
                                v += w[k * mm + m].powi(2) * si * si;
                            }
                            s.mean.push(mu);
                            s.std.push(v.sqrt());
                        }
                        s
                    } else {
                        let (a, b) = (a.merged(), get(1)?.merged());
                        let n = func.ty(op.operands[0]).shape().and_then(|s| s.last()).copied().unwrap_or(1) as f64;
                        let (ma, sa, mb, sb) = (a.mean[0], a.std[0], b.mean[0], b.std[0]);
                        Stats::tensor(n * ma * mb, (n * (sa * sa * sb * sb + sa * sa * mb * mb + sb * sb * ma * ma)).sqrt())
                    }
                }
                "tosa.add" | "tosa.sub" | "tosa.mul" => {
                    let c = last_dim(r);
                    let sign = if op.name == "tosa.sub" { -1.0 } else { 1.0 };
                    let (sa, sb) = (stats.get(&op.operands[0]), stats.get(&op.operands[1]));
                    let mut s = Stats { mean: vec![], std: vec![], bounds: None };
                    match (sa, sb) {
                        (Some(a), Some(b)) => {
                            let n = a.channels().max(b.channels());
                            for ch in 0..n {
                                let ((ma, da), (mb, db)) = (a.at(ch), b.at(ch));
                                let (m, d) = if op.name == "tosa.mul" {
                                    (ma * mb, (da * da * db * db + da * da * mb * mb + db * db * ma * ma).sqrt())
                                } else {
                                    (ma + sign * mb, (da * da + db * db).sqrt())
                                };
                                s.mean.push(m);
                                s.std.push(d);
                            }
                        }
                        (Some(x), None) | (None, Some(x)) => {
                            let kc = if sa.is_some() { 1 } else { 0 };
                            let x_first = sa.is_some();
                            let n = x.channels().max(if konst(kc).map_or(0, |c| c.1.len()) == 1 { 1 } else { c });
                            let cv = channel_const(kc, n).ok_or_else(|| unsupported(op, "a constant operand must hold one value or one per channel"))?;
                            for (ch, &k) in cv.iter().enumerate() {
                                let (m, d) = x.at(ch);
                                let (m, d) = match (op.name.as_str(), x_first) {
                                    ("tosa.mul", _) => (m * k, d * k.abs()),
                                    ("tosa.add", _) => (m + k, d),
                                    (_, true) => (m - k, d),
                                    _ => (k - m, d),
                                };
                                s.mean.push(m);
                                s.std.push(d);
                            }
                        }
                        (None, None) => return Err(unsupported(op, "no activation operand")),
                    }
                    s
                }
                "tosa.custom" if op.custom_name() == "softmax" => {
                    let n = last_dim(r) as f64;
                    Stats { mean: vec![1.0 / n], std: vec![(1.0 / n).sqrt()], bounds: Some((0.0, 1.0)) }
                }
                "tosa.custom" if op.custom_name() == "layer_norm" => {
                    let (Some((_, g)), Some((_, b))) = (konst(1), konst(2)) else {
                        return Err(unsupported(op, "gamma and beta must be constant"));
                    };
                    Stats { mean: b.clone(), std: g.iter().map(|v| v.abs()).collect(), bounds: None }
                }
                "tosa.custom" if op.custom_name() == "prelu" => {
                    let x = get(0)?;
                    let slope = konst(1).map(|c| c.1.clone()).ok_or_else(|| unsupported(op, "the slope must be constant"))?;
                    let n = x.channels().max(slope.len());
                    let wide = x.widened(n);
                    through(&wide, k, |v, c| if v >= 0.0 { v } else { v * slope[if slope.len() == 1 { 0 } else { c }] })
                }
                "tosa.custom" if op.custom_name() == "clamp_channels" => {
                    let x = get(0)?;
                    let hi = konst(1).map(|c| c.1.clone()).ok_or_else(|| unsupported(op, "the upper bound must be constant"))?;
                    let lo = op.custom_param("min").ok_or_else(|| unsupported(op, "no min"))?;
                    let wide = x.widened(hi.len());
                    through(&wide, k, |v, c| v.max(lo).min(hi[c]))
                }
                "tosa.custom" if op.custom_name() == "scaled_hard_swish" => {
                    let x = get(0)?;
                    let s = konst(1).map(|c| c.1.clone()).ok_or_else(|| unsupported(op, "the scale must be constant"))?;
                    let wide = x.widened(s.len());
                    let h = nibble_interp::float::Activation::HardSwish;
                    through(&wide, k, |v, c| h.apply((v * s[c]) as f32) as f64 / s[c])
                }
                "tosa.custom" if op.custom_name() == "squeeze_excite" => {
                    // Each channel scaled by the gate its mean opens.
                    let x = get(0)?.widened(last_dim(r));
                    let w: Vec<Vec<f32>> = (1..5).map(|i| konst(i).map(|c| c.1.iter().map(|&v| v as f32).collect())).collect::<Option<_>>().ok_or_else(|| unsupported(op, "the weights must be constant"))?;
                    let gate = nibble_interp::float::squeeze_excite_gate(op, [&w[0], &w[1], &w[2], &w[3]], &x.mean)?;
                    Stats { mean: x.mean.iter().zip(&gate).map(|(m, g)| m * g).collect(), std: x.std.iter().zip(&gate).map(|(d, g)| d * g).collect(), bounds: None }
                }
                "tosa.clamp" => {
                    let (a, b) = (op.float("min_val")?, op.float("max_val")?);
                    through(get(0)?, k, |v, _| v.clamp(a, b))
                }
                _ => match unary_activation(op)? {
                    Some(f) => through(get(0)?, k, |v, _| f.apply(v as f32) as f64),
                    None => {
                        return Err(unsupported(
                            op,
                            "data-free ranges cannot propagate through it (supported: conv, depthwise, matmul, add, sub, mul, clamp, pools, transpose, reshape, slice, concat, unary activations, prelu, softmax, layer_norm, squeeze_excite)",
                        ))
                    }
                },
            }
        };
        stats.insert(r, out);
    }
    let mut table = crate::RangeTable::new(func.values.len());
    for (v, s) in &stats {
        let (lo, hi) = s.range(k);
        table.ranges[*v] = Some((lo as f32, hi as f32));
        // The mean square of the channel mixture: mean² + variance, one "observation".
        let m = s.merged();
        table.squares[*v] = (m.mean[0].powi(2) + m.std[0].powi(2), 1);
    }
    // The layers' input means (analytic bias correction), per channel of the last axis.
    for op in func.ops.iter().filter(|o| crate::ranges::is_layer(o)) {
        let v = op.operands[0];
        if let Some(s) = stats.get(&v) {
            let c = *func.ty(v).shape().and_then(|s| s.last()).unwrap_or(&1) as usize;
            table.means[v] = Some(((0..c).map(|ch| s.at(ch).0).collect(), 1));
        }
    }
    Ok(table)
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
            "tosa.const",
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
        let c = f.push("tosa.conv2d", &[x, w, b], t.clone(), vec![]);
        let relu = f.push(
            "tosa.clamp",
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
        let ci = f.ops.iter().position(|o| o.name == "tosa.conv2d").unwrap();
        let stats = |v: &[f32]| Attr::dense_f32(Type::tensor(&[2], Elem::F32), v);
        f.ops[ci]
            .attrs
            .insert("nibble.bn_mean".into(), stats(&[1.0, 0.0]));
        f.ops[ci]
            .attrs
            .insert("nibble.bn_std".into(), stats(&[0.5, 0.1]));
        let table = ranges(&f, (-1.0, 1.0), 6.0).unwrap();
        assert_eq!(table.ranges[c], Some((-2.0, 4.0)));
    }

    #[test]
    fn unsupported_ops_are_named() {
        let mut f = Func::new("main");
        let x = f.add_arg(Type::tensor(&[1, 4], Elem::F32));
        let r = f.push(
            "tosa.reciprocal",
            &[x],
            Type::tensor(&[1, 4], Elem::F32),
            vec![],
        );
        f.returns.push(r);
        let e = ranges(&f, (-1.0, 1.0), 6.0).unwrap_err().to_string();
        assert!(
            e.contains("tosa.reciprocal") && e.contains("cannot propagate"),
            "{e}"
        );
    }
}
