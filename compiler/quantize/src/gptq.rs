//! GPTQ weight rounding (Frantar et al. 2022, after Optimal Brain Quantization): round each
//! layer's weights to its int8 grid so that the layer's *output* error on the calibration
//! vectors is least, instead of each weight's own error. A weight row (one output channel) is
//! rounded one input at a time; each rounding error is spread over the row's weights not yet
//! rounded, along the inverse of `H = Σ x·xᵀ` over the layer's inputs x (im2col patches for
//! convolutions, rows for a matmul), inputs taken in order of decreasing `H_ii` ("act order").
//! The grid itself (the scales) is the one weight quantization
//! chooses (weights.rs): only the rounding changes.
//!
//! Layers: `tosa.conv2d`, `tosa.depthwise_conv2d` (multiplier 1; one H per channel) and
//! `tosa.matmul` by a constant, whose weight constant has no other user.
//!
//! Before (graph level, calibrated):
//! ```mlir
//! %w = "tosa.const"() {values = dense<[[0.1234, …]]>} ; %y = tosa.conv2d %x, %w, %b, …
//! ```
//! After: the weights are on the grid (`q·s`, |q| ≤ 127) and the layer records the grid, so
//! quantization (`to_qnt`) reproduces q exactly:
//! ```mlir
//! %w = "tosa.const"() {values = dense<[[0.1250, …]]>}
//! %y = tosa.conv2d %x, %w, %b, … {nibble.weight_scales = dense<[0.00390625, …]>}
//! ```

use crate::grids::{grid_scales, WeightWidth};
use crate::{QuantError, Scheme};
use nibble_graph::{attrs, tosa};
use nibble_interp::float::{patches, FloatProgram};
use nibble_ir::{model, Attr, Elem, Func, Op, Type};

/// The inputs' second moments of one layer: `groups` blocks of k×k (Σ x·xᵀ), one per
/// depthwise channel, or one.
pub struct Hessian {
    /// The layer's op index.
    pub op: usize,
    groups: usize,
    k: usize,
    h: Vec<f64>,
}

/// The layers GPTQ rounds: conv2d, depthwise conv (multiplier 1), matmul by a constant.
fn layer(f: &Func, op: &Op, producers: &[Option<usize>]) -> Option<(usize, usize)> {
    let w = *op.operands.get(1)?;
    let is_const = producers[w].is_some_and(|p| f.ops[p].name == tosa::CONST);
    let ws = f.ty(w).shape()?;
    let xs = f.ty(*op.operands.first()?).shape()?;
    match op.name.as_str() {
        tosa::CONV2D if is_const && ws.len() == 4 => Some((1, (ws[1] * ws[2] * ws[3]) as usize)),
        tosa::DEPTHWISE_CONV2D if is_const && ws.len() == 4 && ws[3] == 1 => {
            Some((ws[2] as usize, (ws[0] * ws[1]) as usize))
        }
        tosa::MATMUL if is_const && ws.len() == 3 && ws[0] == 1 && xs.len() == 3 => {
            Some((1, ws[1] as usize))
        }
        _ => None,
    }
}

/// `H = Σ x·xᵀ` of every rounded layer's inputs over the samples, streamed one sample at a time.
/// `tick` is called once per sample.
pub fn hessians<'a, I>(
    func: &Func,
    samples: I,
    mut tick: impl FnMut(),
) -> Result<Vec<Hessian>, QuantError>
where
    I: Iterator<Item = &'a [f32]>,
{
    let producers = func.producers();
    let mut hs: Vec<Hessian> = Vec::new();
    // The layers reading each value.
    let mut readers = vec![Vec::new(); func.values.len()];
    for (i, op) in func.ops.iter().enumerate() {
        if let Some((groups, k)) = layer(func, op, &producers) {
            readers[op.operands[0]].push(hs.len());
            hs.push(Hessian {
                op: i,
                groups,
                k,
                h: vec![0.0; groups * k * k],
            });
        }
    }
    let prog = FloatProgram::new(func)?;
    let mut failed = None;
    let mut accumulate = |hs: &mut Vec<Hessian>, v: usize, x: &[f32]| {
        for &l in &readers[v] {
            if let Err(e) = add_sample(func, &mut hs[l], x) {
                failed.get_or_insert(e);
            }
        }
    };
    for s in samples {
        accumulate(&mut hs, func.args[0], s);
        prog.run(s, |v, d| accumulate(&mut hs, v, d))?;
        tick();
    }
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(hs),
    }
}

/// Adds one sample's inputs `x` of the layer to its Hessian.
fn add_sample(f: &Func, hs: &mut Hessian, x: &[f32]) -> Result<(), nibble_interp::InterpError> {
    let op = &f.ops[hs.op];
    let (k, groups) = (hs.k, hs.groups);
    let rows = match op.name.as_str() {
        tosa::MATMUL => x.to_vec(),
        _ => patches(f, op, x)?,
    };
    let width = k * groups;
    let n = rows.len() / width;
    if groups == 1 {
        // Σ over rows of x·xᵀ = XᵀX, in f32 per sample, summed in f64.
        let mut c = vec![0.0f32; k * k];
        // SAFETY: X is n×k row-major (strides k, 1), read as Xᵀ (strides 1, k); C is k×k.
        unsafe {
            matrixmultiply::sgemm(
                k,
                n,
                k,
                1.0,
                rows.as_ptr(),
                1,
                k as isize,
                rows.as_ptr(),
                k as isize,
                1,
                0.0,
                c.as_mut_ptr(),
                k as isize,
                1,
            );
        }
        for (h, &v) in hs.h.iter_mut().zip(&c) {
            *h += v as f64;
        }
        return Ok(());
    }
    // Depthwise: patch rows are tap-major (tap·C + channel); channel c's block gets the taps'
    // products, accumulated as [tap][tap][channel] so the channel loop is contiguous (f32 within
    // a sample, like the sgemm above).
    let mut acc = vec![0.0f32; k * k * groups];
    for row in rows.chunks_exact(width) {
        for t1 in 0..k {
            let a = &row[t1 * groups..][..groups];
            for t2 in t1..k {
                let b = &row[t2 * groups..][..groups];
                let dst = &mut acc[(t1 * k + t2) * groups..][..groups];
                for ((d, &u), &v) in dst.iter_mut().zip(a).zip(b) {
                    *d += u * v;
                }
            }
        }
    }
    for c in 0..groups {
        let h = &mut hs.h[c * k * k..][..k * k];
        for t1 in 0..k {
            for t2 in t1..k {
                let v = acc[(t1 * k + t2) * groups + c] as f64;
                h[t1 * k + t2] += v;
                if t2 != t1 {
                    h[t2 * k + t1] += v;
                }
            }
        }
    }
    Ok(())
}

/// What rounding did to one layer: its output error `Σ_rows (w − q)ᵀ H (w − q)` on the
/// calibration inputs with nearest rounding and with GPTQ.
#[derive(Clone, Debug)]
pub struct Rounded {
    /// The layer's ONNX node (or op name).
    pub name: String,
    pub nearest_error: f64,
    pub gptq_error: f64,
}

/// One layer's weights rounded on one grid: the weights (`q·s`, in the layer's layout), the
/// scales, and the layer's output errors with nearest rounding and with GPTQ's.
pub struct LayerRounding {
    pub width: WeightWidth,
    pub weights: Vec<f32>,
    pub scales: Vec<f32>,
    pub nearest_error: f64,
    pub gptq_error: f64,
}

/// Rounds the weights of the layer of `hs` on the grid of each width of `widths` (the scales
/// `scheme`, `per_channel` and `clamp_sigma` give at that width); GPTQ unless `nearest`. The
/// factorisation of H is done once for all widths. `None`: the layer's weights are not a float
/// constant.
pub fn round_layer(
    func: &Func,
    hs: &Hessian,
    widths: &[WeightWidth],
    scheme: Scheme,
    per_channel: bool,
    clamp_sigma: Option<f64>,
    nearest: bool,
) -> Result<Option<Vec<LayerRounding>>, QuantError> {
    let op = &func.ops[hs.op];
    let Some(ci) = func.producers()[op.operands[1]] else {
        return Ok(None);
    };
    let (wty, bytes) = func.ops[ci].dense("values")?;
    if wty.elem() != Some(&Elem::F32) {
        return Ok(None);
    }
    let w = model::dense_f32(bytes);
    // The weights as rows (output channels) × k (inputs, in H's order), and back.
    let (r, k) = (w.len() / hs.k, hs.k);
    let to_rows: Box<dyn Fn(usize, usize) -> usize> = match op.name.as_str() {
        // [O, KH, KW, I]: row o is contiguous.
        tosa::CONV2D => Box::new(move |o, j| o * k + j),
        // [KH, KW, C, 1]: channel c, tap t at t·C + c.
        tosa::DEPTHWISE_CONV2D => Box::new(move |c, t| t * r + c),
        // [1, K, M]: output m, input j at j·M + m.
        _ => Box::new(move |m, j| j * r + m),
    };
    let mut rows = vec![0.0f32; w.len()];
    for o in 0..r {
        for j in 0..k {
            rows[o * k + j] = w[to_rows(o, j)];
        }
    }
    let groups: Vec<Group> = (0..hs.groups)
        .map(|g| Group::new(&hs.h[g * k * k..][..k * k], k, nearest))
        .collect();
    let mut out = Vec::new();
    for &width in widths {
        let scales: Vec<f64> = grid_scales(
            &rows,
            &[r as i64, k as i64],
            0,
            per_channel,
            clamp_sigma,
            scheme,
            width,
        )
        .iter()
        .map(|&s| s as f32 as f64)
        .collect();
        let scale = |o: usize| scales[if scales.len() == 1 { 0 } else { o }];
        let mut errors = (0.0, 0.0);
        let mut rounded = vec![0.0f32; w.len()];
        for (g, group) in groups.iter().enumerate() {
            let group_rows = if hs.groups == 1 { 0..r } else { g..g + 1 };
            for o in group_rows {
                let q = group.round(&rows[o * k..][..k], scale(o), width, &mut errors);
                for (j, &qj) in q.iter().enumerate() {
                    rounded[to_rows(o, j)] = (qj as f64 * scale(o)) as f32;
                }
            }
        }
        out.push(LayerRounding {
            width,
            weights: rounded,
            scales: scales.iter().map(|&s| s as f32).collect(),
            nearest_error: errors.0,
            gptq_error: errors.1,
        });
    }
    Ok(Some(out))
}

/// Rounds every layer with a Hessian (see the module doc) on its grid (`nibble.weight_bits`,
/// 8 bits without it) with the scales `scheme`, `per_channel` and `clamp_sigma` give; returns
/// each layer's errors. A layer whose weights are shared with another op keeps nearest rounding
/// (listed with equal errors).
pub fn round_weights(
    func: &mut Func,
    hessians: &[Hessian],
    scheme: Scheme,
    per_channel: bool,
    clamp_sigma: Option<f64>,
) -> Result<Vec<Rounded>, QuantError> {
    let uses = func.use_counts();
    let mut out = Vec::new();
    for hs in hessians {
        let op = &func.ops[hs.op];
        let name = match op.loc_name() {
            n if n.is_empty() => op.name.clone(),
            n => n,
        };
        let width = crate::grids::layer_width(op).map_err(QuantError::Width)?;
        let wv = op.operands[1];
        let shared = uses[wv] > 1;
        let rounding = round_layer(func, hs, &[width], scheme, per_channel, clamp_sigma, shared)?;
        let Some(l) = rounding.and_then(|mut v| v.pop()) else {
            continue;
        };
        out.push(Rounded {
            name,
            nearest_error: l.nearest_error,
            gptq_error: l.gptq_error,
        });
        if shared {
            continue;
        }
        let Some(ci) = func.producers()[wv] else {
            continue;
        };
        let wty = func.ops[ci].dense("values")?.0.clone();
        func.ops[ci]
            .attrs
            .insert("values".into(), Attr::dense_f32(wty, &l.weights));
        func.ops[hs.op].attrs.insert(
            attrs::WEIGHT_SCALES.into(),
            Attr::dense_f32(Type::tensor(&[l.scales.len() as i64], Elem::F32), &l.scales),
        );
    }
    Ok(out)
}

/// One Hessian block `h` (k×k) prepared for rounding its rows: the inputs in order of
/// decreasing H_ii (GPTQ's "act order": the inputs whose errors matter most are rounded first,
/// while the most weights remain to compensate) and the inverse factor of H in that order
/// (None where the weights keep nearest rounding: shared with another op, or H singular).
struct Group<'h> {
    h: &'h [f64],
    k: usize,
    order: Vec<usize>,
    u: Option<Vec<f64>>,
}

impl Group<'_> {
    fn new(h: &[f64], k: usize, shared: bool) -> Group<'_> {
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| h[b * k + b].total_cmp(&h[a * k + a]).then(a.cmp(&b)));
        let hp: Vec<f64> = (0..k * k)
            .map(|ij| h[order[ij / k] * k + order[ij % k]])
            .collect();
        let u = if shared { None } else { inverse_factor(&hp, k) };
        Group { h, k, order, u }
    }

    /// Rounds one row of weights on the grid of `width` at scale `s`, adding its output error with nearest rounding
    /// and with the rounding chosen to `errors`.
    fn round(&self, row: &[f32], s: f64, width: WeightWidth, errors: &mut (f64, f64)) -> Vec<i8> {
        let (h, k, order) = (self.h, self.k, &self.order);
        let row: Vec<f64> = row.iter().map(|&v| v as f64).collect();
        let nearest: Vec<i8> = row.iter().map(|&v| width.quantize(v, s) as i8).collect();
        let err = |qs: &[i8]| {
            let d: Vec<f64> = row
                .iter()
                .zip(qs)
                .map(|(&v, &q)| v - q as f64 * s)
                .collect();
            quadratic(h, &d)
        };
        let chosen = match &self.u {
            Some(u) => {
                let permuted: Vec<f64> = order.iter().map(|&j| row[j]).collect();
                let qp = gptq_row(&permuted, s, u, k, width);
                let mut q = vec![0i8; k];
                for (p, &j) in order.iter().enumerate() {
                    q[j] = qp[p];
                }
                q
            }
            None => nearest.clone(),
        };
        errors.0 += err(&nearest);
        errors.1 += err(&chosen);
        chosen
    }
}

/// `dᵀ H d`.
fn quadratic(h: &[f64], d: &[f64]) -> f64 {
    let k = d.len();
    (0..k).map(|i| d[i] * dot(&h[i * k..][..k], d)).sum()
}

/// One row of GPTQ: inputs in order, each rounded error `e` divided by `U[i][i]` and subtracted,
/// scaled by `U[i][j]`, from the inputs j > i not yet rounded (U: [`inverse_factor`]).
fn gptq_row(row: &[f64], s: f64, u: &[f64], k: usize, width: WeightWidth) -> Vec<i8> {
    let mut w = row.to_vec();
    let mut q = vec![0i8; k];
    for i in 0..k {
        q[i] = width.quantize(w[i], s) as i8;
        let e = (w[i] - q[i] as f64 * s) / u[i * k + i];
        for (wj, &uij) in w[i + 1..].iter_mut().zip(&u[i * k + i + 1..(i + 1) * k]) {
            *wj -= e * uij;
        }
    }
    q
}

/// The upper-triangular U with `(H + λI)⁻¹ = UᵀU` (λ = 1 % of H's mean diagonal; an input never
/// seen gets H_ii = 1), or None if H is not positive definite even so.
///
/// With J the reversal permutation and `J H J = L Lᵀ` (Cholesky), `H = R Rᵀ` for the upper
/// triangular `R = J L J`, so `H⁻¹ = R⁻ᵀ R⁻¹` and `U = R⁻¹ = J L⁻¹ J`: one Cholesky and one
/// triangular inverse.
fn inverse_factor(h: &[f64], k: usize) -> Option<Vec<f64>> {
    let mean = (0..k).map(|i| h[i * k + i]).sum::<f64>() / k as f64;
    let damp = 0.01 * if mean > 0.0 { mean } else { 1.0 };
    // A = J (H + λI) J.
    let mut a = vec![0.0f64; k * k];
    for i in 0..k {
        for j in 0..k {
            a[i * k + j] = h[(k - 1 - i) * k + (k - 1 - j)];
        }
        let d = &mut a[i * k + i];
        if *d == 0.0 {
            *d = 1.0;
        }
        *d += damp;
    }
    // Row-wise Cholesky in place: L[i][j] = (A[i][j] − L[i][..j]·L[j][..j]) / L[j][j].
    for i in 0..k {
        for j in 0..=i {
            let (lo, hi) = a.split_at_mut(i * k);
            let li = &hi[..k];
            let lj = if j == i { li } else { &lo[j * k..][..k] };
            let v = li[j] - dot(&li[..j], &lj[..j]);
            let v = if j == i {
                if v.is_nan() || v <= 0.0 {
                    return None;
                }
                v.sqrt()
            } else {
                v / lj[j]
            };
            a[i * k + j] = v;
        }
    }
    // M = L⁻¹ row by row: M[i] = (e_i − Σ_{p<i} L[i][p]·M[p]) / L[i][i].
    let mut m = vec![0.0f64; k * k];
    for i in 0..k {
        let (done, rest) = m.split_at_mut(i * k);
        let mi = &mut rest[..k];
        mi[i] = 1.0;
        for p in 0..i {
            let l = a[i * k + p];
            for (x, &y) in mi[..=p].iter_mut().zip(&done[p * k..][..=p]) {
                *x -= l * y;
            }
        }
        let d = a[i * k + i];
        for x in &mut mi[..=i] {
            *x /= d;
        }
    }
    // U = J M J.
    let mut u = vec![0.0f64; k * k];
    for i in 0..k {
        for j in i..k {
            u[i * k + j] = m[(k - 1 - i) * k + (k - 1 - j)];
        }
    }
    Some(u)
}

/// A dot product in eight independent lanes (vectorizes; fixed order, so deterministic).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f64>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// U from `inverse_factor` satisfies UᵀU = (H + λI)⁻¹ on a random SPD matrix.
    #[test]
    fn inverse_factor_is_the_upper_cholesky_of_the_inverse() {
        let k = 13;
        let mut seed = 7u64;
        let mut rnd = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as f64 / (1u64 << 31) as f64) - 0.5
        };
        let x: Vec<f64> = (0..k * 40).map(|_| rnd()).collect();
        let mut h = vec![0.0; k * k];
        for r in x.chunks_exact(k) {
            for i in 0..k {
                for j in 0..k {
                    h[i * k + j] += r[i] * r[j];
                }
            }
        }
        let u = inverse_factor(&h, k).unwrap();
        let damp = 0.01 * (0..k).map(|i| h[i * k + i]).sum::<f64>() / k as f64;
        // (H + λI) · UᵀU = I.
        for i in 0..k {
            for j in 0..k {
                let v: f64 = (0..k)
                    .map(|p| {
                        let hp = h[i * k + p] + if i == p { damp } else { 0.0 };
                        hp * (0..k).map(|q| u[q * k + p] * u[q * k + j]).sum::<f64>()
                    })
                    .sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((v - want).abs() < 1e-9, "({i},{j}) = {v}");
            }
        }
        for i in 0..k {
            assert!(u[i * k + i] > 0.0);
            for j in 0..i {
                assert_eq!(u[i * k + j], 0.0);
            }
        }
    }

    /// Two strongly correlated inputs: GPTQ's output error is below nearest rounding's, and a
    /// weight already on the grid stays there.
    #[test]
    fn gptq_lowers_the_output_error() {
        let k = 2;
        // x2 ≈ x1: rounding w1 down can be compensated by w2 up.
        let h = vec![1.0, 0.99, 0.99, 1.0];
        let u = inverse_factor(&h, k).unwrap();
        let s = 0.1;
        let row = [0.14, 0.14]; // nearest: 0.1, 0.1 (error −0.08 on x1 + x2)
        let q = gptq_row(&row, s, &u, k, WeightWidth::W8);
        let err = |q: &[i8]| {
            let d: Vec<f64> = row.iter().zip(q).map(|(&v, &q)| v - q as f64 * s).collect();
            quadratic(&h, &d)
        };
        assert_eq!(q, vec![1, 2]);
        assert!(err(&q) < err(&[1, 1]) / 4.0);
        assert_eq!(
            gptq_row(&[0.3, -0.2], s, &u, k, WeightWidth::W8),
            vec![3, -2]
        );
    }
}
