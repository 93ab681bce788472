//! Sensitivity: what each width choice costs at the network output, measured on calibration
//! vectors (float interpreter), for the width e-graph (`nibble-choose-widths`) to weigh.
//!
//! For every tensor T the program rounds of its own (a stored layer or op result, the input) and
//! every weight layer's output, one run per sample injects a probe at T — T's own 8-bit rounding
//! error on its calibrated grid — and measures the output's noise, relative to the output's
//! power (averaged over the outputs; a softmax output is measured at its logits). That gives
//! - `nibble.act_noise = [n8, n16]` on T's op: the noise T's 8-bit rounding adds (n16 = n8/2^16,
//!   the grid step 2^8 times finer);
//! - the gain G_T = output noise / probe power, the network's response to a small error at T.
//!
//! A weight layer L at width W changes its output by δ = L(x; Q_W(w) − w) (linear in the
//! weights, no bias), computed exactly on the same samples from L's observed inputs (a
//! squeeze-excite's two matrices share one grid, and its δ = x·(gate(Q_W(w)) − gate(w)) is
//! computed, not a product: `crate::squeeze_excite`); its noise is
//! G_T(L) · Σ‖δ‖², on the layer as `nibble.weight_noise = [w8, w4, w2, ternary, binary]`. The
//! gain is a linearisation, exact for small errors; the 2-bit, ternary and binary grids' errors
//! are too large for it, so for them δ itself is injected at the layer's output and the output
//! noise measured, on the first [`INJECT_SAMPLES`] samples. Cost: per
//! sample one checkpointed float run, then per probed tensor a run of the ops from that tensor
//! on (resumed from the checkpoint before it; the probes spread over the machine's threads),
//! plus one layer product per width.

use crate::grids::{grid_scales, WeightWidth};
use crate::squeeze_excite::SeWeights;
use crate::weights::channel_of;
use crate::{activation_params, QuantError, Scheme};
use nibble_graph::{attrs, tosa};
use nibble_interp::float::{patches, FloatProgram};
use nibble_ir::{model, Attr, Elem, Func, Op, Type};

/// Ops whose result holds exactly values of their inputs: no rounding of their own.
const MOVING: &[&str] = &[
    tosa::RESHAPE,
    tosa::TRANSPOSE,
    tosa::SLICE,
    tosa::CONCAT,
    tosa::MAX_POOL2D,
    tosa::CLAMP,
    tosa::PAD,
];

/// How weights are quantized (the grids the widths are measured on).
#[derive(Clone, Copy, Debug)]
pub struct SensitivityConfig {
    pub scheme: Scheme,
    pub per_channel: bool,
    pub clamp_sigma: Option<f64>,
    /// Also measure every rounded tensor's 8-bit noise (`nibble.act_noise`), which only the
    /// 16-bit activation choice reads; without it only the weight layers are probed (ppocr_rec:
    /// 43 probes a sample instead of a few hundred).
    pub activations: bool,
}

/// A weight layer: conv2d (OHWI), depthwise (KH,KW,C,1), matmul by a [1,K,M] constant, or a
/// squeeze-excite (its two matrices on one grid).
struct WeightLayer {
    op: usize,
    kind: LayerKind,
    /// A squeeze-excite's parameters and weights (its output change is not a product).
    se: Option<SeWeights>,
    /// Q_W(w) − w per width.
    deltas: Vec<Vec<f32>>,
    /// Σ‖δ‖² per width.
    local: Vec<f64>,
}

#[derive(Clone, Copy)]
enum LayerKind {
    Conv { oc: usize, k: usize },
    Depthwise { c: usize, taps: usize },
    Matmul { k: usize, m: usize },
    SqueezeExcite,
}

/// Whether op `i`'s result is rounded to a grid of its own (stored and not a pure move).
pub fn rounds(f: &Func, i: usize, fused_readers: &[bool]) -> bool {
    let op = &f.ops[i];
    let name = op.name.as_str();
    if name == tosa::CONST || name == tosa::CONST_SHAPE {
        return false;
    }
    // A layer whose activation is fused is rounded at the activation's result.
    if op.results.first().is_some_and(|&r| fused_readers[r]) {
        return false;
    }
    !MOVING.contains(&name) || op.attrs.contains_key(attrs::FUSED)
}

/// Per value: read by an activation fused into its producer.
pub fn fused_readers(f: &Func) -> Vec<bool> {
    let mut out = vec![false; f.values.len()];
    for op in f.ops.iter().filter(|o| o.attrs.contains_key(attrs::FUSED)) {
        if let Some(&x) = op.operands.first() {
            out[x] = true;
        }
    }
    out
}

fn weight_layer(f: &Func, i: usize, cfg: &SensitivityConfig) -> Option<WeightLayer> {
    if let Some(se) = SeWeights::of(f, i) {
        return Some(WeightLayer {
            op: i,
            kind: LayerKind::SqueezeExcite,
            deltas: se.deltas(cfg),
            local: vec![0.0; WeightWidth::ALL.len()],
            se: Some(se),
        });
    }
    let (kind, axis, p) = layer_kind(f, i)?;
    let ws = f.ty(f.ops[i].operands[1]).shape()?.to_vec();
    let (ty, bytes) = f.ops[p].dense("values").ok()?;
    if ty.elem() != Some(&Elem::F32) {
        return None;
    }
    let wv = model::dense_f32(bytes);
    let deltas = WeightWidth::ALL
        .iter()
        .map(|&width| {
            let s = grid_scales(
                &wv,
                &ws,
                axis,
                cfg.per_channel,
                cfg.clamp_sigma,
                cfg.scheme,
                width,
            );
            let ch = channel_of(&ws, axis, s.len());
            wv.iter()
                .enumerate()
                .map(|(j, &x)| {
                    let sc = s[ch(j)];
                    (sc * width.quantize(x as f64, sc) as f64 - x as f64) as f32
                })
                .collect()
        })
        .collect();
    Some(WeightLayer {
        op: i,
        kind,
        deltas,
        local: vec![0.0; WeightWidth::ALL.len()],
        se: None,
    })
}

/// The weight layers of `f` (conv2d, depthwise conv, matmul by a constant, squeeze-excite):
/// the layers whose width can be chosen, by op index.
pub fn weight_layers(f: &Func) -> Vec<usize> {
    (0..f.ops.len())
        .filter(|&i| !weight_operands(f, i).is_empty())
        .collect()
}

/// The operands of op `i` holding weights on its grid: 1 of a conv, depthwise or matmul by a
/// constant, 1 and 3 (w1, w2) of a squeeze-excite, none of any other op.
pub fn weight_operands(f: &Func, i: usize) -> &'static [usize] {
    if layer_kind(f, i).is_some() {
        &[1]
    } else if SeWeights::of(f, i).is_some() {
        &[1, 3]
    } else {
        &[]
    }
}

/// The first weight layer and the heads (weight layers no other weight layer reads from,
/// directly or through other ops), by op index: the layers automatic width choices keep at 4
/// bits or more. Their measured noise misleads most — a head's small relative error at the
/// logits moves close decisions (ppocr_rec's CTC head at 2 bits: 19 % of lines decoded as FP32
/// decodes them; at 4 bits: 55 %), and a stem's error reaches every later layer.
pub fn end_layers(f: &Func) -> Vec<usize> {
    let layers = weight_layers(f);
    let mut out: Vec<usize> = layers.first().copied().into_iter().collect();
    // feeds[i]: op i's result reaches a weight layer (other than i) downstream.
    let mut feeds = vec![false; f.ops.len()];
    for i in (0..f.ops.len()).rev() {
        let reached = f.ops[i].results.iter().any(|&r| {
            (f.ops.iter().enumerate())
                .filter(|(_, o)| o.operands.contains(&r))
                .any(|(j, _)| layers.contains(&j) || feeds[j])
        });
        feeds[i] = reached;
    }
    out.extend(layers.iter().filter(|&&i| !feeds[i]));
    out.sort_unstable();
    out.dedup();
    out
}

/// The kind of layer op `i` is, and its weights' output-channel axis.
fn layer_kind(f: &Func, i: usize) -> Option<(LayerKind, usize, usize)> {
    let op = &f.ops[i];
    let w = *op.operands.get(1)?;
    let p = f.producers()[w]?;
    if f.ops[p].name != tosa::CONST {
        return None;
    }
    let ws = f.ty(w).shape()?;
    let (kind, axis) = match (op.name.as_str(), ws) {
        (tosa::CONV2D, &[oc, kh, kw, ic]) => (
            LayerKind::Conv {
                oc: oc as usize,
                k: (kh * kw * ic) as usize,
            },
            0,
        ),
        (tosa::DEPTHWISE_CONV2D, &[kh, kw, c, 1]) => (
            LayerKind::Depthwise {
                c: c as usize,
                taps: (kh * kw) as usize,
            },
            2,
        ),
        (tosa::MATMUL, &[1, k, m]) => (
            LayerKind::Matmul {
                k: k as usize,
                m: m as usize,
            },
            2,
        ),
        _ => return None,
    };
    Some((kind, axis, p))
}

/// The rows a layer multiplies: its input (matmul) or its patches (convolutions).
fn rows_of(f: &Func, l: &WeightLayer, x: &[f32]) -> Result<Vec<f32>, QuantError> {
    Ok(match l.kind {
        LayerKind::Matmul { .. } | LayerKind::SqueezeExcite => x.to_vec(),
        _ => patches(f, &f.ops[l.op], x)?,
    })
}

/// L(x; δw): the layer's output change for weight change `dw`, from its `rows`, in the layout
/// of its output (NHWC, or rows × M); a squeeze-excite's exact change (its input is its rows).
fn product(l: &WeightLayer, rows: &[f32], dw: &[f32]) -> Vec<f32> {
    match l.kind {
        LayerKind::SqueezeExcite => {
            (l.se.as_ref()).map_or_else(Vec::new, |se| se.output_change(rows, dw))
        }
        LayerKind::Conv { oc, k } | LayerKind::Matmul { k, m: oc } => {
            let n = rows.len() / k;
            let mut out = vec![0.0f32; n * oc];
            // Conv: δw is [OC, K] (read transposed); matmul: δw is [K, M].
            let (rs, cs) = match l.kind {
                LayerKind::Conv { .. } => (1, k as isize),
                _ => (oc as isize, 1),
            };
            // SAFETY: rows is n×k row-major, δw k×oc with the strides above, out n×oc.
            unsafe {
                matrixmultiply::sgemm(
                    n,
                    k,
                    oc,
                    1.0,
                    rows.as_ptr(),
                    k as isize,
                    1,
                    dw.as_ptr(),
                    rs,
                    cs,
                    0.0,
                    out.as_mut_ptr(),
                    oc as isize,
                    1,
                );
            }
            out
        }
        LayerKind::Depthwise { c, taps } => rows
            .chunks_exact(c * taps)
            .flat_map(|row| {
                (0..c).map(move |ch| (0..taps).map(|t| row[t * c + ch] * dw[t * c + ch]).sum())
            })
            .collect(),
    }
}

/// Σ‖L(x; δw)‖² of one sample's layer input `x`, for each width's δw.
fn add_local(f: &Func, l: &mut WeightLayer, x: &[f32]) -> Result<(), QuantError> {
    let rows = rows_of(f, l, x)?;
    for k in 0..l.deltas.len() {
        let out = product(l, &rows, &l.deltas[k]);
        l.local[k] += out.iter().map(|&v| (v as f64).powi(2)).sum::<f64>();
    }
    Ok(())
}

/// The 8-bit rounding error of `data` on the grid of `op`'s calibrated range.
fn probe(op: &Op, data: &[f32], scheme: Scheme) -> Option<Vec<f32>> {
    let (lo, hi) = (op.float(attrs::MIN).ok()?, op.float(attrs::MAX).ok()?);
    let (s, zp) = activation_params(lo, hi, 8, scheme);
    let (qlo, qhi) = (-128 - zp, 127 - zp);
    Some(
        data.iter()
            .map(|&x| {
                let q = ((x as f64 / s).round() as i64).clamp(qlo, qhi);
                (q as f64 * s - x as f64) as f32
            })
            .collect(),
    )
}

/// Relative noise of `y` against `reference`, averaged over the outputs (sums over samples).
struct OutputNoise {
    err: Vec<f64>,
    power: Vec<f64>,
}

impl OutputNoise {
    fn new(n: usize) -> Self {
        OutputNoise {
            err: vec![0.0; n],
            power: vec![0.0; n],
        }
    }
    fn add(&mut self, y: &[Vec<f32>], reference: &[Vec<f32>]) {
        for (k, (a, b)) in y.iter().zip(reference).enumerate() {
            self.err[k] += a
                .iter()
                .zip(b)
                .map(|(&u, &v)| ((u - v) as f64).powi(2))
                .sum::<f64>();
            self.power[k] += b.iter().map(|&v| (v as f64).powi(2)).sum::<f64>();
        }
    }
    fn relative(&self) -> f64 {
        let n = self.err.len().max(1) as f64;
        self.err
            .iter()
            .zip(&self.power)
            .map(|(e, p)| if *p > 0.0 { e / p } else { 0.0 })
            .sum::<f64>()
            / n
    }
}

/// The value the noise of output `r` is measured on: the logits of a softmax output (through
/// reshapes and transposes), else `r` itself. A saturated classifier's probabilities hide
/// large errors (ppocr_cls: a binary stem changed its 2-class output by 1e-20 on some samples)
/// that move its decisions on others; its logits show them.
fn watched(f: &Func, r: usize) -> usize {
    let producers = f.producers();
    let mut v = r;
    while let Some(p) = producers[v] {
        let op = &f.ops[p];
        match op.name.as_str() {
            tosa::RESHAPE | tosa::TRANSPOSE => v = op.operands[0],
            _ if nibble_graph::layers::Kind::of(op)
                == Some(nibble_graph::layers::Kind::Softmax) =>
            {
                return op.operands[0]
            }
            _ => return r,
        }
    }
    r
}

/// The grids measured by injecting each layer's exact output error, by index in
/// [`WeightWidth::ALL`] (2-bit, ternary, binary): their errors are too large for the gain's
/// linearisation (mnist_cnn: the e-graph's mix at 4 average bits predicted better than uniform
/// 4-bit weights and gave 15.7 dB against 30.9).
const INJECTED: [usize; 3] = [2, 3, 4];
/// The samples (the first ones) the injected grids are measured on.
const INJECT_SAMPLES: usize = 8;

/// One perturbed run: probe `j` at a tensor, or layer `k` on grid `INJECTED[w]`.
#[derive(Clone, Copy)]
enum Job {
    Probe(usize),
    Layer(usize, usize),
}

/// `f` annotated with the measured noise (see the module doc), from `samples`.
pub fn measure(
    f: &Func,
    samples: &[&[f32]],
    cfg: &SensitivityConfig,
    mut tick: impl FnMut(),
) -> Result<Func, QuantError> {
    let fused = fused_readers(f);
    let mut layers: Vec<WeightLayer> = (0..f.ops.len())
        .filter_map(|i| weight_layer(f, i, cfg))
        .collect();
    // Probed ops: every rounded result and every weight layer's output.
    let probed: Vec<usize> = (0..f.ops.len())
        .filter(|&i| (cfg.activations && rounds(f, i, &fused)) || layers.iter().any(|l| l.op == i))
        .filter(|&i| f.ops[i].results.len() == 1)
        .collect();
    let prog = FloatProgram::new(f)?;
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); f.values.len()];
    for (k, l) in layers.iter().enumerate() {
        readers[f.ops[l.op].operands[0]].push(k);
    }
    let watch: Vec<usize> = f.returns.iter().map(|&r| watched(f, r)).collect();
    let mut noise: Vec<OutputNoise> = probed
        .iter()
        .map(|_| OutputNoise::new(f.returns.len()))
        .collect();
    let mut direct: Vec<Vec<OutputNoise>> = (layers.iter())
        .map(|_| {
            INJECTED
                .iter()
                .map(|_| OutputNoise::new(f.returns.len()))
                .collect()
        })
        .collect();
    let mut probe_power = vec![0.0f64; probed.len()];
    let mut failed: Option<QuantError> = None;
    for (si, &x) in samples.iter().enumerate() {
        let inject = si < INJECT_SAMPLES;
        // Reference run: outputs, each layer's input products (and inputs), each probe.
        let mut probes: Vec<Option<Vec<f32>>> = vec![None; probed.len()];
        let mut inputs: Vec<Option<Vec<f32>>> = vec![None; layers.len()];
        for &k in &readers[f.args[0]] {
            add_local(f, &mut layers[k], x)?;
            if inject {
                inputs[k] = Some(x.to_vec());
            }
        }
        let mut reference: Vec<Vec<f32>> = vec![Vec::new(); watch.len()];
        let (_, checkpoints) = prog.run_checkpointed(x, &probed, |v, d| {
            for (k, _) in watch.iter().enumerate().filter(|(_, &w)| w == v) {
                reference[k] = d.to_vec();
            }
            for &k in &readers[v] {
                if let Err(e) = add_local(f, &mut layers[k], d) {
                    failed.get_or_insert(e);
                }
                if inject {
                    inputs[k] = Some(d.to_vec());
                }
            }
            if let Some(j) = probed.iter().position(|&i| f.ops[i].results[0] == v) {
                probes[j] = probe(&f.ops[probed[j]], d, cfg.scheme);
            }
        })?;
        if let Some(e) = failed.take() {
            return Err(e);
        }
        // Each perturbed run re-runs only the ops from its tensor on, spread over threads.
        let mut jobs: Vec<Job> = (0..probed.len())
            .filter(|&j| probes[j].is_some())
            .map(Job::Probe)
            .collect();
        for k in (0..layers.len()).filter(|&k| inputs[k].is_some()) {
            jobs.extend((0..INJECTED.len()).map(|w| Job::Layer(k, w)));
        }
        let run = |job: Job| -> Result<Vec<Vec<f32>>, QuantError> {
            let (op, delta) = match job {
                Job::Probe(j) => (probed[j], probes[j].clone().unwrap_or_default()),
                Job::Layer(k, w) => {
                    let l = &layers[k];
                    let rows = rows_of(f, l, inputs[k].as_deref().unwrap_or_default())?;
                    (l.op, product(l, &rows, &l.deltas[INJECTED[w]]))
                }
            };
            let cp = (checkpoints.iter().find(|c| c.op() == op)).ok_or_else(|| {
                QuantError::Width(format!("sensitivity: no checkpoint at op {op}"))
            })?;
            let target = f.ops[op].results[0];
            // Outputs computed before the perturbation keep their reference.
            let mut y = reference.clone();
            prog.resume(cp, |v, d| {
                let new: Option<Vec<f32>> =
                    (v == target).then(|| d.iter().zip(&delta).map(|(a, b)| a + b).collect());
                for (k, _) in watch.iter().enumerate().filter(|(_, &w)| w == v) {
                    y[k] = new.clone().unwrap_or_else(|| d.to_vec());
                }
                new
            })?;
            Ok(y)
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let outputs = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (jobs, run) = (&jobs, &run);
                    s.spawn(move || {
                        (jobs.iter().skip(t).step_by(threads))
                            .map(|&job| (job, run(job)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect::<Vec<_>>()
        });
        for (job, y) in outputs {
            match job {
                Job::Probe(j) => {
                    let p = probes[j].as_deref().unwrap_or_default();
                    probe_power[j] += p.iter().map(|&v| (v as f64).powi(2)).sum::<f64>();
                    noise[j].add(&y?, &reference);
                }
                Job::Layer(k, w) => direct[k][w].add(&y?, &reference),
            }
        }
        tick();
    }
    let mut g = f.clone();
    let dense = |v: &[f64]| {
        let data: Vec<f32> = v.iter().map(|&x| x as f32).collect();
        Attr::dense_f32(Type::tensor(&[data.len() as i64], Elem::F32), &data)
    };
    for (j, &i) in probed.iter().enumerate() {
        let n8 = noise[j].relative();
        if cfg.activations && rounds(f, i, &fused) {
            g.ops[i]
                .attrs
                .insert(attrs::ACT_NOISE.into(), dense(&[n8, n8 / 65536.0]));
        }
        if let Some(k) = layers.iter().position(|l| l.op == i) {
            let gain = if probe_power[j] > 0.0 {
                n8 / probe_power[j]
            } else {
                0.0
            };
            let mut w: Vec<f64> = layers[k].local.iter().map(|&e| gain * e).collect();
            if !samples.is_empty() {
                for (m, &wi) in INJECTED.iter().enumerate() {
                    w[wi] = direct[k][m].relative();
                }
            }
            g.ops[i].attrs.insert(attrs::WEIGHT_NOISE.into(), dense(&w));
        }
    }
    Ok(g)
}
