//! Range collection: the real range of every graph-level value over calibration vectors,
//! streamed one sample at a time (memory bounded by the model, not the data set), and attached
//! to the IR as `nibble.min`/`nibble.max` on each op and `nibble.arg0_min`/`nibble.arg0_max`
//! on the function.
//!
//! Methods: `minmax` (the observed extremes); the others make a second pass that builds a
//! 2048-bin histogram per value and clip the range where it pays:
//! - `percentile`: at the given percentile of |x| (ignores rare outliers);
//! - `mse`: the range `[α·min, α·max]` (α in 0.01 steps) whose 8-bit grid has the least expected
//!   squared error over the histogram (rounding error Δ²/12 inside, clipping error outside);
//! - `entropy`: the |x| threshold minimising the KL divergence between the histogram and its
//!   128-level quantization (TensorRT's calibration).
//!
//! The model's outputs always keep their min/max range (a clipped logit changes the answer).
//! `data-free` needs no vectors at all (data_free.rs).

use nibble_graph::{attrs, tosa, Kind};
use nibble_interp::float::FloatProgram;
use nibble_ir::{Attr, Func};

/// How ranges are derived from the calibration vectors.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RangeMethod {
    MinMax,
    /// Clip at this percentile of |x| (e.g. 99.99).
    Percentile(f64),
    /// Least expected squared error of the 8-bit grid; `symmetric`: the grid is centred on 0.
    Mse {
        symmetric: bool,
    },
    /// Least KL divergence between the |x| histogram and its 128-level quantization.
    Entropy,
    /// No vectors: Gaussian statistics propagated from the input range (lo, hi) and
    /// BatchNorm/LayerNorm parameters; ranges at ± `sigmas` standard deviations (data_free.rs).
    DataFree {
        input: (f64, f64),
        sigmas: f64,
    },
}

/// What calibration learns about every value.
#[derive(Clone, Debug)]
pub struct RangeTable {
    /// Observed `[min, max]` per value (None where never observed).
    pub ranges: Vec<Option<(f32, f32)>>,
    /// Per-channel (last axis) means of the values conv / fully connected layers read, for bias
    /// correction (sums and counts while calibrating).
    pub means: Vec<Option<(Vec<f64>, u64)>>,
    /// Σx² and the count of x per value: its mean square, against which a grid's rounding
    /// noise is measured (the 16-bit choice, choose_bits.rs).
    pub squares: Vec<(f64, u64)>,
}

impl RangeTable {
    pub fn new(values: usize) -> RangeTable {
        RangeTable {
            ranges: vec![None; values],
            means: vec![None; values],
            squares: vec![(0.0, 0); values],
        }
    }
    /// Accumulates the per-channel sums of value `v` (`channels` = its last dimension).
    fn observe_mean(&mut self, v: usize, data: &[f32], channels: usize) {
        let c = channels.max(1);
        let (sums, n) = self.means[v].get_or_insert_with(|| (vec![0.0; c], 0));
        for row in data.chunks_exact(c) {
            for (s, &x) in sums.iter_mut().zip(row) {
                *s += x as f64;
            }
            *n += 1;
        }
    }
    /// The per-channel mean of value `v`, where it was collected.
    pub fn mean(&self, v: usize) -> Option<Vec<f64>> {
        let (sums, n) = self.means[v].as_ref()?;
        Some(sums.iter().map(|s| s / (*n).max(1) as f64).collect())
    }
    /// The root mean square of value `v`, where it was observed.
    pub fn rms(&self, v: usize) -> Option<f64> {
        let (s, n) = self.squares[v];
        (n > 0).then(|| (s / n as f64).sqrt())
    }

    fn observe(&mut self, v: usize, data: &[f32]) {
        let (lo, hi) = self.ranges[v].unwrap_or((f32::INFINITY, f32::NEG_INFINITY));
        let (sq, mut n) = self.squares[v];
        // Eight independent lanes (vectorized; a fixed order, so reproducible); chunks holding a
        // NaN or an infinity take the scalar path, which skips those values.
        let (mut lo8, mut hi8, mut sq8) = ([lo; 8], [hi; 8], [0.0f64; 8]);
        for c in data.chunks(8) {
            if let Some(c) = <&[f32; 8]>::try_from(c)
                .ok()
                .filter(|c| c.iter().all(|x| x.is_finite()))
            {
                for l in 0..8 {
                    let x = c[l];
                    lo8[l] = if x < lo8[l] { x } else { lo8[l] };
                    hi8[l] = if x > hi8[l] { x } else { hi8[l] };
                    sq8[l] += (x as f64) * (x as f64);
                }
                n += 8;
                continue;
            }
            // The last, short chunk, or one holding a NaN or an infinity.
            for (l, &x) in c.iter().enumerate().filter(|(_, x)| x.is_finite()) {
                (lo8[l], hi8[l]) = (lo8[l].min(x), hi8[l].max(x));
                sq8[l] += (x as f64) * (x as f64);
                n += 1;
            }
        }
        let lo = lo8.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = hi8.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        self.ranges[v] = Some((lo, hi));
        self.squares[v] = (sq + sq8.iter().sum::<f64>(), n);
    }
}

const BINS: usize = 2048;

/// Histograms per value: of x over [min, max] (`signed`), else of |x| over [0, max |x|].
struct Histograms {
    signed: bool,
    /// (low edge, high edge) per value.
    edges: Vec<(f32, f32)>,
    counts: Vec<Vec<u64>>,
}

impl Histograms {
    fn new(table: &RangeTable, signed: bool) -> Histograms {
        let edges = table
            .ranges
            .iter()
            .map(|r| match (r, signed) {
                (Some((lo, hi)), true) => (*lo, *hi),
                (Some((lo, hi)), false) => (0.0, lo.abs().max(hi.abs())),
                (None, _) => (0.0, 0.0),
            })
            .collect::<Vec<_>>();
        Histograms {
            signed,
            counts: vec![Vec::new(); edges.len()],
            edges,
        }
    }
    fn observe(&mut self, v: usize, data: &[f32]) {
        let (lo, hi) = self.edges[v];
        if hi <= lo {
            return;
        }
        let c = &mut self.counts[v];
        if c.is_empty() {
            c.resize(BINS, 0);
        }
        let scale = BINS as f32 / (hi - lo);
        for &x in data {
            if x.is_finite() {
                let t = if self.signed { x - lo } else { x.abs() };
                c[((t * scale).max(0.0) as usize).min(BINS - 1)] += 1;
            }
        }
    }
    /// The |x| below which `p` percent of the observations of value `v` lie (bin upper edge).
    fn clip(&self, v: usize, p: f64) -> Option<f32> {
        let c = &self.counts[v];
        let total: u64 = c.iter().sum();
        if total == 0 {
            return None;
        }
        let want = (total as f64 * p / 100.0).ceil() as u64;
        let mut seen = 0;
        for (i, &n) in c.iter().enumerate() {
            seen += n;
            if seen >= want {
                return Some(self.edges[v].1 * (i + 1) as f32 / BINS as f32);
            }
        }
        Some(self.edges[v].1)
    }
    /// The range `[β·lo, α·hi]` (signed histogram; α, β in 0.01 steps, one factor when
    /// `symmetric`: `±α·max|x|`) with the least expected squared error of an 8-bit grid:
    /// Δ²/12 per value inside, the squared distance to the edge outside.
    fn mse(&self, v: usize, symmetric: bool) -> Option<(f32, f32)> {
        let c = &self.counts[v];
        if c.is_empty() {
            return None;
        }
        let (lo, hi) = (self.edges[v].0 as f64, self.edges[v].1 as f64);
        let w = (hi - lo) / BINS as f64;
        // Prefix sums of n, n·x, n·x² over bin centres: clipping error in O(1) per candidate.
        let (mut n0, mut n1, mut n2) = (vec![0.0f64], vec![0.0f64], vec![0.0f64]);
        for (j, &n) in c.iter().enumerate() {
            let (n, x) = (n as f64, lo + (j as f64 + 0.5) * w);
            n0.push(n0[j] + n);
            n1.push(n1[j] + n * x);
            n2.push(n2[j] + n * x * x);
        }
        // Bins whose centre lies below t.
        let below = |t: f64| (((t - lo) / w - 0.5).ceil().max(0.0) as usize).min(BINS);
        let err = |a: f64, b: f64, levels: f64| {
            let (ia, ib) = (below(a), below(b).max(below(a)));
            let (ib, ie) = (ib, BINS);
            let low = a * a * n0[ia] - 2.0 * a * n1[ia] + n2[ia];
            let (m0, m1, m2) = (n0[ie] - n0[ib], n1[ie] - n1[ib], n2[ie] - n2[ib]);
            let high = b * b * m0 - 2.0 * b * m1 + m2;
            let step = (b - a) / levels;
            low + high + (n0[ib] - n0[ia]) * step * step / 12.0
        };
        let f = |k: usize| k as f64 / 100.0;
        let mut best = (f64::INFINITY, 0.0, 0.0);
        if symmetric {
            let m = lo.abs().max(hi.abs());
            for ka in (1..=100).rev() {
                let e = err(-f(ka) * m, f(ka) * m, 254.0);
                if e < best.0 {
                    best = (e, -f(ka) * m, f(ka) * m);
                }
            }
        } else {
            let (lo0, hi0) = (lo.min(0.0), hi.max(0.0));
            for ka in (1..=100).rev() {
                for kb in (1..=100).rev() {
                    let (a, b) = (f(kb) * lo0, f(ka) * hi0);
                    let e = err(a, b, 255.0);
                    if e < best.0 {
                        best = (e, a, b);
                    }
                }
            }
        }
        Some((best.1 as f32, best.2 as f32))
    }
    /// The |x| threshold (|x| histogram) whose clipped distribution, quantized to 128 levels,
    /// diverges least (KL) from the observed one; candidates every 16 bins from 128.
    fn entropy(&self, v: usize) -> Option<f32> {
        if self.counts[v].iter().sum::<u64>() == 0 {
            return None;
        }
        // The spike of exact zeros (ReLU outputs) would dominate the divergence: bin 0 counts
        // as much as bin 1 (as NVIDIA's pytorch-quantization does).
        let mut c = self.counts[v].clone();
        c[0] = c[1];
        const LEVELS: usize = 128;
        let mut best = (f64::INFINITY, BINS);
        for i in (LEVELS..=BINS).step_by(16) {
            // P: the first i bins, the rest folded into the last one.
            let mut p: Vec<f64> = c[..i].iter().map(|&n| n as f64).collect();
            p[i - 1] += c[i..].iter().map(|&n| n as f64).sum::<f64>();
            // Q: the first i bins without the folded outliers, merged into LEVELS groups, each
            // group's mass spread over the bins where P is non-empty (so clipping costs).
            let mut q = vec![0.0f64; i];
            for l in 0..LEVELS {
                let (s, e) = (
                    l * i / LEVELS,
                    ((l + 1) * i / LEVELS).max(l * i / LEVELS + 1),
                );
                let mass: f64 = c[s..e].iter().map(|&n| n as f64).sum();
                let nonzero = p[s..e].iter().filter(|&&x| x > 0.0).count();
                if nonzero > 0 {
                    for j in s..e {
                        if p[j] > 0.0 {
                            q[j] = mass / nonzero as f64;
                        }
                    }
                }
            }
            let (sp, sq) = (p.iter().sum::<f64>(), q.iter().sum::<f64>());
            let kl: f64 = p
                .iter()
                .zip(&q)
                .filter(|(&a, _)| a > 0.0)
                .map(|(&a, &b)| (a / sp) * ((a / sp) / (b / sq).max(1e-30)).ln())
                .sum();
            if kl < best.0 {
                best = (kl, i);
            }
        }
        Some(self.edges[v].1 * best.1 as f32 / BINS as f32)
    }
}

/// Runs the float program over the samples (twice unless `minmax`), collecting a range per
/// value. `tick` is called once per sample and pass (for a progress bar).
pub fn calibrate<'a, I>(
    func: &Func,
    samples: I,
    method: RangeMethod,
    mut tick: impl FnMut(),
) -> Result<RangeTable, crate::QuantError>
where
    I: Iterator<Item = &'a [f32]> + Clone,
{
    if let RangeMethod::DataFree { input, sigmas } = method {
        return crate::data_free::ranges(func, input, sigmas);
    }
    let prog = FloatProgram::new(func)?;
    let mut table = RangeTable::new(func.values.len());
    // The inputs of conv / fully connected layers also get per-channel means (bias correction).
    let mut read_by_layer = vec![0usize; func.values.len()];
    for op in func.ops.iter().filter(|o| is_layer(o)) {
        let v = op.operands[0];
        read_by_layer[v] = *func.ty(v).shape().and_then(|s| s.last()).unwrap_or(&1) as usize;
    }
    for s in samples.clone() {
        table.observe(func.args[0], s);
        prog.run(s, |v, d| {
            table.observe(v, d);
            if read_by_layer[v] > 0 {
                table.observe_mean(v, d, read_by_layer[v]);
            }
        })?;
        tick();
    }
    if method == RangeMethod::MinMax {
        return Ok(table);
    }
    let mut hist = Histograms::new(&table, matches!(method, RangeMethod::Mse { .. }));
    for s in samples {
        hist.observe(func.args[0], s);
        prog.run(s, |v, d| hist.observe(v, d))?;
        tick();
    }
    // The model's outputs keep their full range: a clipped logit changes the answer.
    for (v, r) in table
        .ranges
        .iter_mut()
        .enumerate()
        .filter(|(v, _)| !func.returns.contains(v))
    {
        let Some((lo, hi)) = *r else { continue };
        let clipped = match method {
            RangeMethod::MinMax | RangeMethod::DataFree { .. } => None,
            RangeMethod::Percentile(p) => hist.clip(v, p).map(|c| (-c, c)),
            RangeMethod::Entropy => hist.entropy(v).map(|c| (-c, c)),
            RangeMethod::Mse { symmetric } => hist.mse(v, symmetric),
        };
        if let Some((a, b)) = clipped {
            *r = Some((lo.max(a), hi.min(b)));
        }
    }
    Ok(table)
}

/// The per-channel (last axis) ranges of the results of conv, depthwise conv, clamp and
/// hard-swish ops over the samples, written as `nibble.channel_min` / `nibble.channel_max` on
/// them: what cross-layer equalization (`nibble-equalize`) balances when it has data.
pub fn annotate_channel_ranges<'a, I>(
    func: &mut Func,
    samples: I,
    mut tick: impl FnMut(),
) -> Result<(), crate::QuantError>
where
    I: Iterator<Item = &'a [f32]>,
{
    let wanted = |op: &nibble_ir::Op| {
        matches!(
            op.name.as_str(),
            tosa::CONV2D | tosa::DEPTHWISE_CONV2D | tosa::CLAMP
        ) || Kind::of(op) == Some(Kind::HardSwish)
    };
    let mut ranges: Vec<Option<(Vec<f32>, Vec<f32>)>> = vec![None; func.values.len()];
    for op in func.ops.iter().filter(|o| wanted(o)) {
        let r = op.results[0];
        let c = *func.ty(r).shape().and_then(|s| s.last()).unwrap_or(&1) as usize;
        ranges[r] = Some((vec![f32::INFINITY; c], vec![f32::NEG_INFINITY; c]));
    }
    let prog = FloatProgram::new(func)?;
    for s in samples {
        prog.run(s, |v, d| {
            if let Some((lo, hi)) = &mut ranges[v] {
                for row in d.chunks_exact(lo.len().max(1)) {
                    for ((l, h), &x) in lo.iter_mut().zip(hi.iter_mut()).zip(row) {
                        (*l, *h) = (l.min(x), h.max(x));
                    }
                }
            }
        })?;
        tick();
    }
    for op in func.ops.iter_mut() {
        let Some(Some((lo, hi))) = op.results.first().map(|&r| &ranges[r]) else {
            continue;
        };
        let ty = nibble_ir::Type::tensor(&[lo.len() as i64], nibble_ir::Elem::F32);
        op.attrs
            .insert(attrs::CHANNEL_MIN.into(), Attr::dense_f32(ty.clone(), lo));
        op.attrs
            .insert(attrs::CHANNEL_MAX.into(), Attr::dense_f32(ty, hi));
    }
    Ok(())
}

/// Conv, depthwise conv and matmul by a constant: the layers bias correction adjusts.
pub fn is_layer(op: &nibble_ir::Op) -> bool {
    matches!(
        op.name.as_str(),
        tosa::CONV2D | tosa::DEPTHWISE_CONV2D | tosa::MATMUL
    )
}

/// Writes the range table into the function as attributes: `nibble.min`/`nibble.max` and
/// `nibble.rms` (root mean square) on every op, and `nibble.input_mean` (per input channel) on conv / fully connected layers.
pub fn annotate(func: &mut Func, table: &RangeTable) {
    if let Some((lo, hi)) = table.ranges[func.args[0]] {
        func.attrs
            .insert(attrs::ARG0_MIN.into(), Attr::f64(lo as f64));
        func.attrs
            .insert(attrs::ARG0_MAX.into(), Attr::f64(hi as f64));
    }
    for op in &mut func.ops {
        if tosa::is_constant(&op.name) {
            continue;
        }
        if let Some((lo, hi)) = op.results.first().and_then(|&r| table.ranges[r]) {
            op.attrs.insert(attrs::MIN.into(), Attr::f64(lo as f64));
            op.attrs.insert(attrs::MAX.into(), Attr::f64(hi as f64));
        }
        if let Some(rms) = op.results.first().and_then(|&r| table.rms(r)) {
            op.attrs.insert(attrs::RMS.into(), Attr::f64(rms));
        }
        if is_layer(op) {
            if let Some(m) = table.mean(op.operands[0]) {
                let data: Vec<f32> = m.iter().map(|&x| x as f32).collect();
                let ty = nibble_ir::Type::tensor(&[data.len() as i64], nibble_ir::Elem::F32);
                op.attrs
                    .insert(attrs::INPUT_MEAN.into(), Attr::dense_f32(ty, &data));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nibble_ir::{Elem, Type};

    /// y = clamp(clamp(x)) over samples with one outlier; the inner clamp is a hidden value.
    fn func() -> Func {
        let mut f = Func::new("main");
        let x = f.add_arg(Type::tensor(&[1, 1000], Elem::F32));
        let attrs = || {
            vec![
                ("min_val", Attr::Float(-1e30, "f32".into())),
                ("max_val", Attr::Float(1e30, "f32".into())),
            ]
        };
        let h = f.push(
            tosa::CLAMP,
            &[x],
            Type::tensor(&[1, 1000], Elem::F32),
            attrs(),
        );
        let y = f.push(
            tosa::CLAMP,
            &[h],
            Type::tensor(&[1, 1000], Elem::F32),
            attrs(),
        );
        f.returns.push(y);
        f
    }

    #[test]
    fn percentile_clips_outliers_and_minmax_keeps_them() {
        let mut data: Vec<f32> = (0..1000).map(|i| (i as f32 / 1000.0) - 0.5).collect();
        data[7] = 100.0; // one outlier in a thousand
        let f = func();
        let mm = calibrate(&f, data.chunks_exact(1000), RangeMethod::MinMax, || {}).unwrap();
        let pc = calibrate(
            &f,
            data.chunks_exact(1000),
            RangeMethod::Percentile(99.0),
            || {},
        )
        .unwrap();
        let (h, y) = (f.ops[0].results[0], f.returns[0]);
        assert_eq!(mm.ranges[h], Some((-0.5, 100.0)));
        // The mean square: the outlier's 100² dominates the ramp's ≈ 1/12.
        let want = data.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / 1000.0;
        assert!((mm.rms(h).unwrap() - want.sqrt()).abs() < 1e-9);
        let (lo, hi) = pc.ranges[h].unwrap();
        assert_eq!(lo, -0.5);
        assert!(hi > 0.45 && hi < 0.6, "clipped max {hi}");
        // The output keeps its full range.
        assert_eq!(pc.ranges[y], Some((-0.5, 100.0)));
        // Entropy stays inside the observed range.
        let t = calibrate(&f, data.chunks_exact(1000), RangeMethod::Entropy, || {}).unwrap();
        let (lo, hi) = t.ranges[h].unwrap();
        assert!(
            lo >= -0.5 && hi <= 100.0 && hi > 0.4,
            "entropy: [{lo}, {hi}]"
        );
        // MSE keeps it: one error of 99² outweighs the rounding of a thousand values.
        let t = calibrate(
            &f,
            data.chunks_exact(1000),
            RangeMethod::Mse { symmetric: false },
            || {},
        )
        .unwrap();
        assert_eq!(t.ranges[h].map(|r| r.1), Some(100.0));
    }

    #[test]
    fn mse_clips_a_rare_near_outlier_and_keeps_the_low_end() {
        // 100 000 values in [-0.5, 0.5) and one at 1.0: clipping near 0.75 costs (0.25)² once
        // and saves Δ²/12 on every other value.
        let mut data: Vec<f32> = (0..100_000).map(|i| i as f32 / 100_000.0 - 0.5).collect();
        data[3] = 1.0;
        let mut f = Func::new("main");
        let x = f.add_arg(Type::tensor(&[1, 100_000], Elem::F32));
        let attrs = vec![
            ("min_val", Attr::Float(-1e30, "f32".into())),
            ("max_val", Attr::Float(1e30, "f32".into())),
        ];
        let h = f.push(
            tosa::CLAMP,
            &[x],
            Type::tensor(&[1, 100_000], Elem::F32),
            attrs.clone(),
        );
        let y = f.push(
            tosa::CLAMP,
            &[h],
            Type::tensor(&[1, 100_000], Elem::F32),
            attrs,
        );
        f.returns.push(y);
        let t = calibrate(
            &f,
            data.chunks_exact(100_000),
            RangeMethod::Mse { symmetric: false },
            || {},
        )
        .unwrap();
        let (lo, hi) = t.ranges[h].unwrap();
        assert!(
            (lo + 0.5).abs() < 0.01 && hi > 0.6 && hi < 0.9,
            "[{lo}, {hi}]"
        );
    }
}
