//! The float interpreter: executes a graph-level function (upstream `tosa` ops on f32) one
//! sample at a time. Constants are decoded once in [`FloatProgram::new`]; convolutions run as
//! im2col + `matrixmultiply::sgemm`.

use crate::{advance, concat, dims, pool2d, slice, transpose, InterpError};
use nibble_ir::{model, Func};

/// The ops this interpreter executes.
const OPS: &[&str] = &[
    "tosa.const",
    "tosa.const_shape",
    "tosa.slice",
    "tosa.transpose",
    "tosa.conv2d",
    "tosa.clamp",
    "tosa.max_pool2d",
    "tosa.reshape",
    "tosa.matmul",
    "tosa.add",
    "tosa.sub",
    "tosa.mul",
    "tosa.exp",
    "tosa.reciprocal",
    "tosa.reduce_max",
    "tosa.reduce_sum",
    "tosa.depthwise_conv2d",
    "tosa.avg_pool2d",
    "tosa.sigmoid",
    "tosa.pow",
    "tosa.concat",
    "tosa.tanh",
    "tosa.erf",
    "tosa.pad",
    "tosa.transpose_conv2d",
    "tosa.resize",
    "tosa.custom",
];

/// A graph-level function prepared for repeated execution.
pub struct FloatProgram<'f> {
    func: &'f Func,
    consts: Vec<Option<Vec<f32>>>,
    /// Convolution weights transposed to [K, OC] once (a GEMM packs rows of B faster than
    /// columns), by the value of the OHWI constant.
    weights_t: std::collections::HashMap<usize, Vec<f32>>,
}

impl<'f> FloatProgram<'f> {
    pub fn new(func: &'f Func) -> Result<Self, InterpError> {
        let mut consts = vec![None; func.values.len()];
        for op in &func.ops {
            match op.name.as_str() {
                "tosa.const" => {
                    let (ty, bytes) = op.dense("values")?;
                    if ty.elem() == Some(&nibble_ir::Elem::F32) {
                        consts[op.results[0]] = Some(model::dense_f32(bytes));
                    }
                }
                name if OPS.contains(&name) => {}
                _ => return Err(InterpError::unsupported("float", op, &OPS.join(", "))),
            }
        }
        let mut weights_t = std::collections::HashMap::new();
        for op in func.ops.iter().filter(|o| o.name == "tosa.conv2d") {
            let w = op.operands[1];
            if let (Some(data), Some(&[oc, ..])) = (&consts[w], func.ty(w).shape()) {
                let (n, k) = (oc as usize, data.len() / (oc as usize).max(1));
                weights_t
                    .entry(w)
                    .or_insert_with(|| transpose(data, &[n, k], &[1, 0]));
            }
        }
        Ok(FloatProgram {
            func,
            consts,
            weights_t,
        })
    }

    /// Elements of one input sample.
    pub fn input_len(&self) -> usize {
        self.func.ty(self.func.args[0]).num_elements()
    }

    /// Runs one sample; `observe(value, data)` sees every op result (for calibration).
    pub fn run(
        &self,
        input: &[f32],
        mut observe: impl FnMut(usize, &[f32]),
    ) -> Result<Vec<Vec<f32>>, InterpError> {
        self.run_replacing(input, |v, d| {
            observe(v, d);
            None
        })
    }

    /// Runs one sample; `replace(value, data)` sees every op result and may return what the
    /// ops after it read instead (e.g. its quantized counterpart, to measure each layer's own
    /// rounding).
    pub fn run_replacing(
        &self,
        input: &[f32],
        mut replace: impl FnMut(usize, &[f32]) -> Option<Vec<f32>>,
    ) -> Result<Vec<Vec<f32>>, InterpError> {
        let f = self.func;
        let want = self.input_len();
        if input.len() != want {
            return Err(InterpError::InputSize {
                got: input.len(),
                want,
                shape: f.ty(f.args[0]).shape().unwrap_or(&[]).to_vec(),
            });
        }
        let mut vals: Vec<Option<std::borrow::Cow<[f32]>>> = vec![None; f.values.len()];
        vals[f.args[0]] = Some(input.into());
        let uses = f.use_counts();
        let mut remaining = uses.clone();
        let mut shapes: std::collections::HashMap<usize, Vec<i64>> =
            std::collections::HashMap::new();
        for op in &f.ops {
            let r = op.results[0];
            let get = |i: usize| read(&vals, op, i);
            let out: Vec<f32> = match op.name.as_str() {
                "tosa.const" => {
                    vals[r] = self.consts[r].as_deref().map(Into::into);
                    continue;
                }
                "tosa.const_shape" => {
                    let (_, bytes) = op.dense("values")?;
                    shapes.insert(r, model::dense_i64(bytes));
                    continue;
                }
                "tosa.slice" => {
                    let start = shapes.get(&op.operands[1]).ok_or_else(|| {
                        InterpError::Invalid("tosa.slice start must be a tosa.const_shape".into())
                    })?;
                    slice(get(0)?, &dims(f, op.operands[0]), start, &dims(f, r))
                }
                "tosa.transpose" => {
                    let perms: Vec<usize> = op.ints("perms")?.iter().map(|&p| p as usize).collect();
                    transpose(get(0)?, &dims(f, op.operands[0]), &perms)
                }
                "tosa.reshape" => get(0)?.to_vec(),
                "tosa.clamp" => {
                    let lo = op.float("min_val")? as f32;
                    let hi = op.float("max_val")? as f32;
                    let clamp = |v: f32| v.max(lo).min(hi);
                    match dying(&mut vals, &remaining, op.operands[0]) {
                        Some(mut x) => {
                            x.iter_mut().for_each(|v| *v = clamp(*v));
                            x
                        }
                        None => read(&vals, op, 0)?.iter().map(|&v| clamp(v)).collect(),
                    }
                }
                "tosa.sub" => broadcast(
                    get(0)?,
                    &dims(f, op.operands[0]),
                    get(1)?,
                    &dims(f, op.operands[1]),
                    &dims(f, r),
                    |a, b| a - b,
                ),
                "tosa.mul" => broadcast(
                    get(0)?,
                    &dims(f, op.operands[0]),
                    get(1)?,
                    &dims(f, op.operands[1]),
                    &dims(f, r),
                    |a, b| a * b,
                ),
                "tosa.exp" => get(0)?.iter().map(|v| v.exp()).collect(),
                "tosa.tanh" | "tosa.erf" | "tosa.sigmoid" => {
                    let act = unary_activation(op)?.ok_or_else(|| {
                        InterpError::Invalid(format!("{} has no activation function", op.name))
                    })?;
                    act.map(get(0)?)
                }
                "tosa.custom" => match unary_activation(op)? {
                    Some(act) if op.operands.len() == 1 => {
                        match dying(&mut vals, &remaining, op.operands[0]) {
                            Some(mut x) => {
                                act.apply_in_place(&mut x);
                                x
                            }
                            None => act.map(read(&vals, op, 0)?),
                        }
                    }
                    _ => {
                        let inputs: Vec<&[f32]> =
                            (0..op.operands.len()).map(&get).collect::<Result<_, _>>()?;
                        custom(op, &inputs, &dims(f, op.operands[0]))?
                    }
                },
                "tosa.pad" => {
                    let pads = shapes.get(&op.operands[1]).ok_or_else(|| {
                        InterpError::Invalid("tosa.pad padding must be a tosa.const_shape".into())
                    })?;
                    let value = self.consts[op.operands[2]]
                        .as_deref()
                        .and_then(|c| c.first().copied())
                        .unwrap_or(0.0);
                    pad(get(0)?, &dims(f, op.operands[0]), pads, value, &dims(f, r))
                }
                "tosa.transpose_conv2d" => transpose_conv2d(f, op, get(0)?, get(1)?, get(2)?)?,
                "tosa.resize" => {
                    let shape_of = |k: usize| {
                        shapes.get(&op.operands[k]).ok_or_else(|| {
                            InterpError::Invalid(
                                "tosa.resize parameters must be tosa.const_shape".into(),
                            )
                        })
                    };
                    let bilinear = matches!(op.attrs.get("mode"), Some(nibble_ir::Attr::Raw(m)) if m.contains("BILINEAR"));
                    resize(
                        get(0)?,
                        &dims(f, op.operands[0]),
                        &dims(f, r),
                        shape_of(1)?,
                        shape_of(2)?,
                        bilinear,
                    )
                }
                "tosa.pow" => broadcast(
                    get(0)?,
                    &dims(f, op.operands[0]),
                    get(1)?,
                    &dims(f, op.operands[1]),
                    &dims(f, r),
                    f32::powf,
                ),
                "tosa.concat" => {
                    let parts = op
                        .operands
                        .iter()
                        .map(|&v| {
                            vals[v].as_deref().map(|d| (d, dims(f, v))).ok_or_else(|| {
                                InterpError::Invalid("tosa.concat reads an undefined value".into())
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    concat(&parts, op.int("axis")? as usize, &dims(f, r))
                }
                "tosa.depthwise_conv2d" => depthwise_conv2d(f, op, get(0)?, get(1)?, get(2)?)?,
                "tosa.avg_pool2d" => {
                    avg_pool2d(op, get(0)?, &dims(f, op.operands[0]), &dims(f, r))?
                }
                "tosa.reciprocal" => get(0)?.iter().map(|v| 1.0 / v).collect(),
                "tosa.reduce_max" => reduce(
                    get(0)?,
                    &dims(f, op.operands[0]),
                    op.int("axis")? as usize,
                    f32::NEG_INFINITY,
                    f32::max,
                ),
                "tosa.reduce_sum" => reduce(
                    get(0)?,
                    &dims(f, op.operands[0]),
                    op.int("axis")? as usize,
                    0.0,
                    |a, b| a + b,
                ),
                "tosa.add" => broadcast_add(
                    get(0)?,
                    &dims(f, op.operands[0]),
                    get(1)?,
                    &dims(f, op.operands[1]),
                    &dims(f, r),
                ),
                "tosa.matmul" => {
                    let (a, b) = (dims(f, op.operands[0]), dims(f, op.operands[1]));
                    let (batch, m, k, n) = (a[0], a[1], a[2], b[2]);
                    let (x, w) = (get(0)?, get(1)?);
                    let mut out = vec![0.0f32; batch * m * n];
                    for i in 0..batch {
                        sgemm(
                            m,
                            k,
                            n,
                            &x[i * m * k..],
                            k,
                            1,
                            &w[i * k * n..],
                            n,
                            1,
                            &mut out[i * m * n..],
                        );
                    }
                    out
                }
                "tosa.conv2d" => {
                    let w = match self.weights_t.get(&op.operands[1]) {
                        Some(t) => Weights::KByN(t),
                        None => Weights::Ohwi(get(1)?),
                    };
                    conv2d(f, op, get(0)?, w, get(2)?)?
                }
                "tosa.max_pool2d" => pool2d(
                    op,
                    get(0)?,
                    &dims(f, op.operands[0]),
                    &dims(f, r),
                    f32::NEG_INFINITY,
                    // f32::max without its NaN case (a NaN tap is skipped either way): one
                    // vector max per lane group.
                    |a, x| if x > a { x } else { a },
                    |a, _| a,
                )?,
                _ => return Err(InterpError::unsupported("float", op, &OPS.join(", "))),
            };
            let out = replace(r, &out).unwrap_or(out);
            vals[r] = Some(out.into());
            for &o in &op.operands {
                remaining[o] -= 1;
                if remaining[o] == 0 && !f.returns.contains(&o) && o != f.args[0] {
                    vals[o] = None;
                }
            }
        }
        f.returns
            .iter()
            .map(|&r| {
                vals[r]
                    .as_deref()
                    .map(|v| v.to_vec())
                    .ok_or_else(|| InterpError::Invalid("a returned value is undefined".into()))
            })
            .collect()
    }
}

/// The data of `op`'s operand `k`.
fn read<'v>(
    vals: &'v [Option<std::borrow::Cow<[f32]>>],
    op: &nibble_ir::Op,
    k: usize,
) -> Result<&'v [f32], InterpError> {
    vals[op.operands[k]]
        .as_deref()
        .ok_or_else(|| InterpError::Invalid(format!("'{}' reads an undefined value", op.name)))
}

/// The data of `v` to reuse as an op's result buffer when that op is its last reader and it
/// owns it (not the input sample or a constant).
fn dying(
    vals: &mut [Option<std::borrow::Cow<[f32]>>],
    remaining: &[usize],
    v: usize,
) -> Option<Vec<f32>> {
    match vals[v] {
        Some(std::borrow::Cow::Owned(_)) if remaining[v] == 1 => {
            vals[v].take().map(|d| d.into_owned())
        }
        _ => None,
    }
}

/// `c += a · b` (m×k by k×n, any strides; `c` row-major m×n).
#[allow(clippy::too_many_arguments)]
fn sgemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
    rsb: usize,
    csb: usize,
    c: &mut [f32],
) {
    assert!(
        a.len() > (m - 1) * rsa + (k - 1) * csa
            && b.len() > (k - 1) * rsb + (n - 1) * csb
            && c.len() >= m * n
    );
    // A single row against row-major B (a fully connected layer at batch 1): accumulate rows
    // of B directly; packing B for a blocked GEMM would cost more than the product.
    if m == 1 && csb == 1 {
        let out = &mut c[..n];
        // Four rows of B per pass over the output: a quarter of its loads and stores.
        let mut kk = 0;
        while kk + 4 <= k {
            let av = [0, 1, 2, 3].map(|d| a[(kk + d) * csa]);
            let [b0, b1, b2, b3] = [0, 1, 2, 3].map(|d| &b[(kk + d) * rsb..][..n]);
            for ((((o, &x0), &x1), &x2), &x3) in out.iter_mut().zip(b0).zip(b1).zip(b2).zip(b3) {
                *o += av[0] * x0 + av[1] * x1 + av[2] * x2 + av[3] * x3;
            }
            kk += 4;
        }
        for kk in kk..k {
            let av = a[kk * csa];
            for (o, &bv) in out.iter_mut().zip(&b[kk * rsb..][..n]) {
                *o += av * bv;
            }
        }
        return;
    }
    // SAFETY: the bounds above cover every element sgemm reads or writes.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa as isize,
            csa as isize,
            b.as_ptr(),
            rsb as isize,
            csb as isize,
            1.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

fn broadcast_add(a: &[f32], sa: &[usize], b: &[f32], sb: &[usize], so: &[usize]) -> Vec<f32> {
    broadcast(a, sa, b, sb, so, |x, y| x + y)
}

/// Folds `axis` of a row-major tensor (the axis is kept with size 1).
fn reduce(
    x: &[f32],
    shape: &[usize],
    axis: usize,
    init: f32,
    op: impl Fn(f32, f32) -> f32,
) -> Vec<f32> {
    let outer: usize = shape[..axis].iter().product();
    let (len, inner): (usize, usize) = (shape[axis], shape[axis + 1..].iter().product());
    let mut out = vec![init; outer * inner];
    for o in 0..outer {
        for a in 0..len {
            let row = &x[(o * len + a) * inner..][..inner];
            for (acc, &v) in out[o * inner..][..inner].iter_mut().zip(row) {
                *acc = op(*acc, v);
            }
        }
    }
    out
}

/// Elementwise `op` of two equal-rank tensors with size-1 broadcasting. Same shapes, a scalar
/// operand, and an operand that repeats along the leading dimensions (per-channel constants in
/// NHWC) take contiguous fast paths; anything else walks the index space.
fn broadcast(
    a: &[f32],
    sa: &[usize],
    b: &[f32],
    sb: &[usize],
    so: &[usize],
    op: impl Fn(f32, f32) -> f32,
) -> Vec<f32> {
    let n: usize = so.iter().product();
    // `x` covers a suffix of the output and repeats over the rest.
    let repeats = |sx: &[usize]| {
        let lead = sx.iter().take_while(|&&d| d == 1).count();
        sx[lead..] == so[lead..]
    };
    if a.len() == n && b.len() == n {
        return a.iter().zip(b).map(|(&x, &y)| op(x, y)).collect();
    }
    if b.len() == 1 {
        return a.iter().map(|&x| op(x, b[0])).collect();
    }
    if a.len() == 1 {
        return b.iter().map(|&y| op(a[0], y)).collect();
    }
    if a.len() == n && repeats(sb) {
        return a
            .chunks_exact(b.len())
            .flat_map(|row| row.iter().zip(b).map(|(&x, &y)| op(x, y)))
            .collect();
    }
    if b.len() == n && repeats(sa) {
        return b
            .chunks_exact(a.len())
            .flat_map(|row| a.iter().zip(row).map(|(&x, &y)| op(x, y)))
            .collect();
    }
    let rank = so.len();
    let strides = |s: &[usize]| {
        let mut st = vec![0usize; rank];
        let mut acc = 1;
        for k in (0..rank).rev() {
            st[k] = if s[k] == 1 { 0 } else { acc };
            acc *= s[k];
        }
        st
    };
    let (ta, tb) = (strides(sa), strides(sb));
    let mut idx = vec![0usize; rank];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let ia: usize = idx.iter().zip(&ta).map(|(i, s)| i * s).sum();
        let ib: usize = idx.iter().zip(&tb).map(|(i, s)| i * s).sum();
        out.push(op(a[ia], b[ib]));
        advance(&mut idx, so);
    }
    out
}

/// Convolution weights as the graph holds them (OHWI: [OC, K]) or transposed to [K, OC].
enum Weights<'a> {
    Ohwi(&'a [f32]),
    KByN(&'a [f32]),
}

fn conv2d(
    f: &Func,
    op: &nibble_ir::Op,
    x: &[f32],
    w: Weights,
    b: &[f32],
) -> Result<Vec<f32>, InterpError> {
    let (xs, ws, os) = (
        dims(f, op.operands[0]),
        dims(f, op.operands[1]),
        dims(f, op.results[0]),
    );
    let (c, oc, kh, kw) = (xs[3], ws[0], ws[1], ws[2]);
    let (oh, ow) = (os[1], os[2]);
    let k = kh * kw * c;
    // The output starts as the bias (one per channel, or one for all); the product accumulates
    // onto it.
    let bias: Vec<f32> = match b.len() {
        1 => vec![b[0]; oc],
        n if n == oc => b.to_vec(),
        n => {
            return Err(InterpError::Invalid(format!(
                "tosa.conv2d: {n} bias values for {oc} output channels"
            )))
        }
    };
    let mut out = Vec::with_capacity(oh * ow * oc);
    for _ in 0..oh * ow {
        out.extend_from_slice(&bias);
    }
    // A pointwise convolution reads the input as it is: no im2col copy.
    let pointwise = kh == 1
        && kw == 1
        && op.ints("stride")? == [1, 1]
        && op.ints("pad")?.iter().all(|&p| p == 0);
    // B = the weights as [K, OC]: strides (row, column).
    let (w, rsb, csb) = match w {
        Weights::Ohwi(w) => (w, 1, k),
        Weights::KByN(w) => (w, oc, 1),
    };
    if pointwise {
        sgemm(oh * ow, k, oc, x, k, 1, w, rsb, csb, &mut out);
        return Ok(out);
    }
    let col = patches(f, op, x)?;
    sgemm(oh * ow, k, oc, &col, k, 1, w, rsb, csb, &mut out);
    Ok(out)
}

/// The input patches a conv2d or depthwise conv reads (im2col): one row per output pixel of
/// `kh·kw·c` values, tap-major (`(ky·kw + kx)·c + channel`, the order of OHWI weights), zero
/// where a tap falls in the padding.
pub fn patches(f: &Func, op: &nibble_ir::Op, x: &[f32]) -> Result<Vec<f32>, InterpError> {
    let (xs, ws, os) = (
        dims(f, op.operands[0]),
        dims(f, op.operands[1]),
        dims(f, op.results[0]),
    );
    let (pad, stride, dil) = (op.ints("pad")?, op.ints("stride")?, op.ints("dilation")?);
    let (h, wd, c) = (xs[1] as i64, xs[2] as i64, xs[3]);
    let (kh, kw) = match op.name.as_str() {
        "tosa.depthwise_conv2d" => (ws[0], ws[1]),
        _ => (ws[1], ws[2]),
    };
    let (oh, ow) = (os[1], os[2]);
    let k = kh * kw * c;
    let mut col = vec![0.0f32; oh * ow * k];
    for oy in 0..oh {
        for ox in 0..ow {
            let row = &mut col[(oy * ow + ox) * k..][..k];
            let x0 = ox as i64 * stride[1] - pad[2];
            for ky in 0..kh {
                let iy = oy as i64 * stride[0] - pad[0] + ky as i64 * dil[0];
                if iy < 0 || iy >= h {
                    continue;
                }
                let line = &x[(iy * wd) as usize * c..][..wd as usize * c];
                if dil[1] == 1 {
                    // Undilated taps of one kernel row are adjacent input pixels: one copy.
                    let (k0, k1) = ((-x0).clamp(0, kw as i64), (wd - x0).clamp(0, kw as i64));
                    if k0 < k1 {
                        let n = (k1 - k0) as usize * c;
                        row[(ky * kw + k0 as usize) * c..][..n]
                            .copy_from_slice(&line[(x0 + k0) as usize * c..][..n]);
                    }
                    continue;
                }
                for kx in 0..kw {
                    let ix = x0 + kx as i64 * dil[1];
                    if ix >= 0 && ix < wd {
                        row[(ky * kw + kx) * c..][..c]
                            .copy_from_slice(&line[ix as usize * c..][..c]);
                    }
                }
            }
        }
    }
    Ok(col)
}

/// NHWC depthwise convolution, weights [KH, KW, C, M], output channel c·M + m.
fn depthwise_conv2d(
    f: &Func,
    op: &nibble_ir::Op,
    x: &[f32],
    w: &[f32],
    b: &[f32],
) -> Result<Vec<f32>, InterpError> {
    let (xs, ws, os) = (
        dims(f, op.operands[0]),
        dims(f, op.operands[1]),
        dims(f, op.results[0]),
    );
    let pad = op.ints("pad")?;
    let stride = op.ints("stride")?;
    let dil = op.ints("dilation")?;
    let (h, wd, c) = (xs[1] as i64, xs[2] as i64, xs[3]);
    let (kh, kw, m) = (ws[0], ws[1], ws[3]);
    let (oh, ow, oc) = (os[1], os[2], os[3]);
    let mut out = vec![0.0f32; oh * ow * oc];
    if m == 1 {
        // Row by row, tap by tap over the output pixels the tap reaches (no per-pixel bounds
        // checks): each pixel's channels are one multiply-add loop.
        let (sy, sx, dy, dx) = (stride[0], stride[1], dil[0], dil[1]);
        // The output columns whose tap at offset `off` falls inside the input.
        let cols = |off: i64| -> std::ops::Range<usize> {
            let lo = if off >= 0 { 0 } else { (-off + sx - 1) / sx };
            let hi = if wd - off <= 0 {
                0
            } else {
                (wd - off + sx - 1) / sx
            };
            (lo.max(0) as usize).min(ow)..(hi.max(0) as usize).min(ow)
        };
        for (oy, row) in out.chunks_exact_mut(ow * c).enumerate() {
            for o in row.chunks_exact_mut(c) {
                o.copy_from_slice(&b[..c]);
            }
            for ky in 0..kh {
                let iy = oy as i64 * sy - pad[0] + ky as i64 * dy;
                if iy < 0 || iy >= h {
                    continue;
                }
                let xrow = &x[(iy * wd) as usize * c..][..wd as usize * c];
                for kx in 0..kw {
                    let off = kx as i64 * dx - pad[2];
                    let wv = &w[(ky * kw + kx) * c..][..c];
                    for ox in cols(off) {
                        let ix = (ox as i64 * sx + off) as usize;
                        let (o, xv) = (&mut row[ox * c..][..c], &xrow[ix * c..][..c]);
                        for ((ov, &xi), &wi) in o.iter_mut().zip(xv).zip(wv) {
                            *ov += xi * wi;
                        }
                    }
                }
            }
        }
        return Ok(out);
    }
    for oy in 0..oh {
        for ox in 0..ow {
            let o = &mut out[(oy * ow + ox) * oc..][..oc];
            o.copy_from_slice(&b[..oc]);
            for ky in 0..kh {
                let iy = oy as i64 * stride[0] - pad[0] + ky as i64 * dil[0];
                if iy < 0 || iy >= h {
                    continue;
                }
                for kx in 0..kw {
                    let ix = ox as i64 * stride[1] - pad[2] + kx as i64 * dil[1];
                    if ix < 0 || ix >= wd {
                        continue;
                    }
                    let xv = &x[((iy * wd + ix) as usize) * c..][..c];
                    let wv = &w[(ky * kw + kx) * c * m..][..c * m];
                    if m == 1 {
                        for ((ov, &xi), &wi) in o.iter_mut().zip(xv).zip(wv) {
                            *ov += xi * wi;
                        }
                    } else {
                        for ch in 0..c {
                            for mm in 0..m {
                                o[ch * m + mm] += xv[ch] * wv[ch * m + mm];
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

/// NHWC average pooling; padded taps are not counted (count_include_pad = false).
fn avg_pool2d(
    op: &nibble_ir::Op,
    x: &[f32],
    xs: &[usize],
    os: &[usize],
) -> Result<Vec<f32>, InterpError> {
    pool2d(
        op,
        x,
        xs,
        os,
        0.0f32,
        |a, v| a + v,
        |a, taps| a * (1.0 / taps.max(1) as f32),
    )
}

/// erf(x): its Taylor series in f64 for |x| < 3 (about 1e-12 after cancellation), and
/// Abramowitz & Stegun 7.1.26 (error below 1.5e-7) in the tails, where erf is within 2e-5 of ±1.
fn erf(x: f32) -> f32 {
    let x = x as f64;
    if x.abs() >= 3.0 {
        let t = 1.0 / (1.0 + 0.3275911 * x.abs());
        let poly = t
            * (0.254829592
                + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        return (1.0 - poly * (-x * x).exp()).copysign(x) as f32;
    }
    let (mut term, mut sum, x2) = (x, x, x * x);
    for n in 1..80 {
        term *= -x2 / n as f64;
        let add = term / (2 * n + 1) as f64;
        sum += add;
        if add.abs() < 1e-17 {
            break;
        }
    }
    (2.0 / std::f64::consts::PI.sqrt() * sum) as f32
}

/// Constant padding of a row-major tensor; `pads` is [begin0, end0, begin1, end1, …].
fn pad(x: &[f32], shape: &[usize], pads: &[i64], value: f32, out_shape: &[usize]) -> Vec<f32> {
    let rank = shape.len();
    let n: usize = out_shape.iter().product();
    let mut out = vec![value; n];
    let mut idx = vec![0usize; rank];
    for &v in x {
        let mut off = 0;
        for k in 0..rank {
            off = off * out_shape[k] + idx[k] + pads[2 * k] as usize;
        }
        out[off] = v;
        advance(&mut idx, shape);
    }
    out
}

/// NHWC transposed convolution (tosa semantics): every input pixel scatters its kernel window
/// to `iy·stride + out_pad_top + ky` (rows outside the output are dropped), weights [OC,KH,KW,IC].
fn transpose_conv2d(
    f: &Func,
    op: &nibble_ir::Op,
    x: &[f32],
    w: &[f32],
    b: &[f32],
) -> Result<Vec<f32>, InterpError> {
    let (xs, ws, os) = (
        dims(f, op.operands[0]),
        dims(f, op.operands[1]),
        dims(f, op.results[0]),
    );
    let out_pad = op.ints("out_pad")?;
    let stride = op.ints("stride")?;
    let (h, wd, ic) = (xs[1], xs[2], xs[3]);
    let (oc, kh, kw) = (ws[0], ws[1], ws[2]);
    let (oh, ow) = (os[1] as i64, os[2] as i64);
    let mut out = vec![0.0f32; os[1] * os[2] * oc];
    for px in out.chunks_exact_mut(oc) {
        px.copy_from_slice(&b[..oc]);
    }
    for iy in 0..h {
        for ix in 0..wd {
            let xv = &x[(iy * wd + ix) * ic..][..ic];
            for ky in 0..kh {
                let oy = iy as i64 * stride[0] + out_pad[0] + ky as i64;
                if oy < 0 || oy >= oh {
                    continue;
                }
                for kx in 0..kw {
                    let ox = ix as i64 * stride[1] + out_pad[2] + kx as i64;
                    if ox < 0 || ox >= ow {
                        continue;
                    }
                    let o = &mut out[((oy * ow + ox) as usize) * oc..][..oc];
                    for (c, ov) in o.iter_mut().enumerate() {
                        let wv = &w[((c * kh + ky) * kw + kx) * ic..][..ic];
                        *ov += xv.iter().zip(wv).map(|(a, b)| a * b).sum::<f32>();
                    }
                }
            }
        }
    }
    Ok(out)
}

/// tosa.resize on f32 NHWC: output row `oy` samples input `y = oy·d + offset` in units of 1/n;
/// nearest rounds half up, bilinear interpolates between clamped neighbours.
fn resize(
    x: &[f32],
    xs: &[usize],
    os: &[usize],
    scale: &[i64],
    offset: &[i64],
    bilinear: bool,
) -> Vec<f32> {
    let (ih, iw, c) = (xs[1] as i64, xs[2] as i64, xs[3]);
    let (oh, ow) = (os[1], os[2]);
    let ty = crate::resize_taps(oh, ih, scale[0], scale[1], offset[0], bilinear);
    let tx = crate::resize_taps(ow, iw, scale[2], scale[3], offset[1], bilinear);
    let mut out = vec![0.0f32; oh * ow * c];
    for oy in 0..oh {
        let (y0, y1, fy) = ty[oy];
        let fy = fy as f32 / scale[0] as f32;
        for ox in 0..ow {
            let (x0, x1, fx) = tx[ox];
            let fx = fx as f32 / scale[2] as f32;
            let px = |y: usize, xx: usize| &x[(y * iw as usize + xx) * c..][..c];
            let o = &mut out[(oy * ow + ox) * c..][..c];
            let (a, b, cc, dd) = (px(y0, x0), px(y0, x1), px(y1, x0), px(y1, x1));
            for k in 0..c {
                let top = a[k] * (1.0 - fx) + b[k] * fx;
                let bottom = cc[k] * (1.0 - fx) + dd[k] * fx;
                o[k] = top * (1.0 - fy) + bottom * fy;
            }
        }
    }
    out
}

/// A unary elementwise activation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Sigmoid,
    Tanh,
    Erf,
    HardSwish,
    HardSigmoid { alpha: f32, beta: f32 },
    Swish { beta: f32 },
    Gelu,
}

impl Activation {
    /// The function at one point (inlined into each kind's loop in [`Activation::map`]).
    #[inline(always)]
    pub fn apply(self, v: f32) -> f32 {
        match self {
            Activation::Sigmoid => 1.0 / (1.0 + (-v).exp()),
            Activation::Tanh => v.tanh(),
            Activation::Erf => erf(v),
            Activation::HardSwish => v * (v + 3.0).clamp(0.0, 6.0) * (1.0 / 6.0),
            Activation::HardSigmoid { alpha, beta } => (v * alpha + beta).clamp(0.0, 1.0),
            Activation::Swish { beta } => v / (1.0 + (-beta * v).exp()),
            Activation::Gelu => v * (erf(v * std::f32::consts::FRAC_1_SQRT_2) + 1.0) * 0.5,
        }
    }

    /// The function over a buffer it overwrites: one loop per kind, so each is compiled (and
    /// vectorised) on its own instead of calling through a pointer per element.
    pub fn apply_in_place(self, x: &mut [f32]) {
        fn each(x: &mut [f32], f: impl Fn(f32) -> f32) {
            x.iter_mut().for_each(|v| *v = f(*v));
        }
        match self {
            Activation::Sigmoid => each(x, |v| Activation::Sigmoid.apply(v)),
            Activation::Tanh => each(x, f32::tanh),
            Activation::Erf => each(x, erf),
            Activation::HardSwish => each(x, |v| Activation::HardSwish.apply(v)),
            a @ Activation::HardSigmoid { .. } => each(x, |v| a.apply(v)),
            a @ Activation::Swish { .. } => each(x, |v| a.apply(v)),
            Activation::Gelu => each(x, |v| Activation::Gelu.apply(v)),
        }
    }

    /// The function over a tensor.
    pub fn map(self, x: &[f32]) -> Vec<f32> {
        let mut y = x.to_vec();
        self.apply_in_place(&mut y);
        y
    }
}

/// The activation of a unary elementwise op (tosa.sigmoid/tanh/erf and the `nibble` custom
/// hard_swish, hard_sigmoid, swish and gelu), shared by this interpreter, the lookup tables and
/// fused epilogues the quantizer builds, and data-free statistics; None for any other op.
pub fn unary_activation(op: &nibble_ir::Op) -> Result<Option<Activation>, InterpError> {
    Ok(Some(match op.name.as_str() {
        "tosa.sigmoid" => Activation::Sigmoid,
        "tosa.tanh" => Activation::Tanh,
        "tosa.erf" => Activation::Erf,
        "tosa.custom" => {
            let text = |k: &str| match op.attrs.get(k) {
                Some(nibble_ir::Attr::Str(s)) => s.clone(),
                _ => String::new(),
            };
            if text("domain_name") != "nibble" {
                return Ok(None);
            }
            let param = |key: &str| -> Result<f32, InterpError> {
                op.custom_param(key).map(|v| v as f32).ok_or_else(|| {
                    InterpError::Invalid(format!("tosa.custom: missing parameter '{key}'"))
                })
            };
            match text("operator_name").as_str() {
                "hard_swish" => Activation::HardSwish,
                "hard_sigmoid" => Activation::HardSigmoid {
                    alpha: param("alpha")?,
                    beta: param("beta")?,
                },
                "swish" => Activation::Swish {
                    beta: param("beta")?,
                },
                "gelu" => Activation::Gelu,
                _ => return Ok(None),
            }
        }
        _ => return Ok(None),
    }))
}

/// The `nibble` domain's `tosa.custom` layers (see the `nibble-recognize-layers` pass).
fn custom(op: &nibble_ir::Op, inputs: &[&[f32]], shape: &[usize]) -> Result<Vec<f32>, InterpError> {
    let text = |k: &str| match op.attrs.get(k) {
        Some(nibble_ir::Attr::Str(s)) => s.clone(),
        _ => String::new(),
    };
    let (domain, name) = (text("domain_name"), text("operator_name"));
    let param = |key: &str| -> Result<f32, InterpError> {
        op.custom_param(key).map(|v| v as f32).ok_or_else(|| {
            InterpError::Invalid(format!("tosa.custom {name}: missing parameter '{key}'"))
        })
    };
    let x = inputs[0];
    if let Some(act) = unary_activation(op)? {
        return Ok(act.map(x));
    }
    Ok(match (domain.as_str(), name.as_str()) {
        ("nibble", "layer_norm") => {
            let eps = param("epsilon")? as f64;
            let c = *shape.last().unwrap_or(&1);
            let (gamma, beta) = (inputs.get(1).copied().unwrap_or(&[]), inputs.get(2).copied().unwrap_or(&[]));
            if gamma.len() != c || beta.len() != c {
                return Err(InterpError::Invalid("layer_norm: gamma and beta need one value per channel".into()));
            }
            let mut out = Vec::with_capacity(x.len());
            for row in x.chunks_exact(c) {
                let mean = row.iter().map(|&v| v as f64).sum::<f64>() / c as f64;
                let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / c as f64;
                let inv = 1.0 / (var + eps).sqrt();
                out.extend(row.iter().zip(gamma).zip(beta).map(|((&v, &g), &b)| ((v as f64 - mean) * inv * g as f64 + b as f64) as f32));
            }
            out
        }
        ("nibble", "prelu") => {
            let c = *shape.last().unwrap_or(&1);
            let slope = inputs.get(1).copied().unwrap_or(&[]);
            if slope.len() != 1 && slope.len() != c {
                return Err(InterpError::Invalid("prelu: the slope needs one value or one per channel".into()));
            }
            let slopes: Vec<f32> = match slope {
                [s] => vec![*s; c],
                _ => slope.to_vec(),
            };
            let mut out = Vec::with_capacity(x.len());
            for row in x.chunks_exact(c.max(1)) {
                out.extend(row.iter().zip(&slopes).map(|(&v, &s)| if v >= 0.0 { v } else { v * s }));
            }
            out
        }
        ("nibble", "scaled_hard_swish") => {
            // hard_swish(s_c·x) / s_c per channel c (a hard-swish after cross-layer equalization).
            let c = *shape.last().unwrap_or(&1);
            let s = inputs.get(1).copied().unwrap_or(&[]);
            if s.len() != c || s.iter().any(|v| v.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)) {
                return Err(InterpError::Invalid("scaled_hard_swish: the scale needs one positive value per channel".into()));
            }
            let mut out = Vec::with_capacity(x.len());
            for row in x.chunks_exact(c.max(1)) {
                out.extend(row.iter().zip(s).map(|(&v, &k)| Activation::HardSwish.apply(v * k) / k));
            }
            out
        }
        ("nibble", "clamp_channels") => {
            // clamp(x, min, max_c) per channel c (a ReLU6 after cross-layer equalization).
            let c = *shape.last().unwrap_or(&1);
            let (lo, hi) = (param("min")?, inputs.get(1).copied().unwrap_or(&[]));
            if hi.len() != c {
                return Err(InterpError::Invalid("clamp_channels: the upper bound needs one value per channel".into()));
            }
            let mut out = Vec::with_capacity(x.len());
            for row in x.chunks_exact(c.max(1)) {
                out.extend(row.iter().zip(hi).map(|(&v, &m)| v.max(lo).min(m)));
            }
            out
        }
        ("nibble", "squeeze_excite") => squeeze_excite(op, inputs, shape)?,
        ("nibble", "softmax") => {
            let c = *shape.last().unwrap_or(&1);
            let mut out = Vec::with_capacity(x.len());
            for row in x.chunks_exact(c) {
                let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let start = out.len();
                out.extend(row.iter().map(|&v| (v - m).exp()));
                let inv = 1.0 / out[start..].iter().sum::<f32>();
                out[start..].iter_mut().for_each(|v| *v *= inv);
            }
            out
        }
        _ => return Err(InterpError::Invalid(format!("tosa.custom '{domain}.{name}' is not supported (nibble: hard_swish, scaled_hard_swish, clamp_channels, hard_sigmoid, gelu, swish, layer_norm, prelu, softmax, squeeze_excite)"))),
    })
}

/// The parameters of a `nibble.squeeze_excite` op.
pub struct SqueezeExcite {
    /// The hidden ReLU's upper bound (unused with SiLU).
    pub hidden_max: f64,
    /// The hidden activation is SiLU, a·sigmoid(a), instead of clamp(a, 0, hidden_max).
    pub silu: bool,
    /// The gate is g(α·z + β): a sigmoid, else a hard sigmoid clamp(·, 0, 1).
    pub alpha: f64,
    pub beta: f64,
    pub sigmoid: bool,
}

/// The parameters of a `nibble.squeeze_excite` op (see [`SqueezeExcite`]).
pub fn squeeze_excite_params(op: &nibble_ir::Op) -> Result<SqueezeExcite, InterpError> {
    let p = |k: &str| {
        op.custom_param(k)
            .ok_or_else(|| InterpError::Invalid(format!("squeeze_excite: missing parameter '{k}'")))
    };
    let flag = |k: &str| op.custom_param(k).unwrap_or(0.0) != 0.0;
    Ok(SqueezeExcite {
        hidden_max: p("hidden_max")?,
        silu: flag("silu"),
        alpha: p("alpha")?,
        beta: p("beta")?,
        sigmoid: flag("sigmoid"),
    })
}

/// Squeeze-excite (`nibble-recognize-layers`): x[1,H,W,C] · gate(mean_hw(x)).
fn squeeze_excite(
    op: &nibble_ir::Op,
    inputs: &[&[f32]],
    shape: &[usize],
) -> Result<Vec<f32>, InterpError> {
    let [x, w1, b1, w2, b2] = inputs else {
        return Err(InterpError::Invalid(
            "squeeze_excite needs 5 operands (x, w1, b1, w2, b2)".into(),
        ));
    };
    let c = (*shape.last().unwrap_or(&1)).max(1);
    // f32 channel sums (relative error ~1e-7·√(H·W), far inside the 1e-4 contract).
    let mut sum = vec![0.0f32; c];
    for row in x.chunks_exact(c) {
        for (m, &v) in sum.iter_mut().zip(row) {
            *m += v;
        }
    }
    let hw = (x.len() / c) as f64;
    let mean: Vec<f64> = sum.iter().map(|&s| s as f64 / hw).collect();
    let gate: Vec<f32> = squeeze_excite_gate(op, [w1, b1, w2, b2], &mean)?
        .iter()
        .map(|&g| g as f32)
        .collect();
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks_exact(c) {
        out.extend(row.iter().zip(&gate).map(|(&v, &g)| v * g));
    }
    Ok(out)
}

/// A squeeze-excite op's gate for channel means `mean`: g = clamp(α·(w2·h + b2) + β, 0, 1) (or
/// the sigmoid of α·(w2·h + b2) + β),
/// h = clamp(w1·mean + b1, 0, hidden_max) (or SiLU of it), w1 [Cm,1,1,C] and w2 [C,1,1,Cm]
/// (OHWI 1×1 convs).
pub fn squeeze_excite_gate(
    op: &nibble_ir::Op,
    [w1, b1, w2, b2]: [&[f32]; 4],
    mean: &[f64],
) -> Result<Vec<f64>, InterpError> {
    let p = squeeze_excite_params(op)?;
    let (c, cm) = (mean.len(), b1.len());
    if c == 0 || w1.len() != cm * c || w2.len() != c * cm || b2.len() != c {
        return Err(InterpError::Invalid(
            "squeeze_excite: weights must be [Cm,1,1,C] and [C,1,1,Cm], biases [Cm] and [C]".into(),
        ));
    }
    let dot = |w: &[f32], v: &[f64]| w.iter().zip(v).map(|(&w, &v)| w as f64 * v).sum::<f64>();
    let hidden: Vec<f64> = (0..cm)
        .map(|m| {
            let a = dot(&w1[m * c..][..c], mean) + b1[m] as f64;
            if p.silu {
                a / (1.0 + (-a).exp())
            } else {
                a.clamp(0.0, p.hidden_max)
            }
        })
        .collect();
    Ok((0..c)
        .map(|k| {
            let z = p.alpha * (dot(&w2[k * cm..][..cm], &hidden) + b2[k] as f64) + p.beta;
            if p.sigmoid {
                1.0 / (1.0 + (-z).exp())
            } else {
                z.clamp(0.0, 1.0)
            }
        })
        .collect())
}
