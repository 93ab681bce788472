//! Reference interpreters. [`float`] gives the meaning of the graph level (tosa, f32);
//! [`integer`] gives the bit-exact meaning of the tile level, which the generated C must match.

pub mod float;
pub mod integer;
pub mod integer_layers;

/// Interpreter errors: an op the interpreter does not know, or inputs that do not fit.
#[derive(Debug, thiserror::Error)]
pub enum InterpError {
    #[error("the {level} interpreter does not support op '{op}'{loc}; supported: {supported}")]
    Unsupported {
        level: &'static str,
        op: String,
        loc: String,
        supported: String,
    },
    #[error("input has {got} elements per sample, the function expects {want} (shape {shape:?})")]
    InputSize {
        got: usize,
        want: usize,
        shape: Vec<i64>,
    },
    #[error(transparent)]
    Ir(#[from] nibble_ir::IrError),
    #[error("{0}")]
    Invalid(String),
}

impl InterpError {
    fn unsupported(level: &'static str, op: &nibble_ir::Op, supported: &str) -> InterpError {
        InterpError::Unsupported {
            level,
            op: op.name.clone(),
            loc: loc_suffix(op),
            supported: supported.into(),
        }
    }
}

/// NHWC pooling of `x` (shape `xs`) into shape `os`: for every output pixel, each window tap
/// inside the input is folded into the pixel's per-channel accumulators (starting at `init`) by
/// `step`, and `finish(accumulator, taps)` gives the output (padding taps are not counted).
pub(crate) fn pool2d<T: Copy, A: Copy, R: Copy + Default>(
    op: &nibble_ir::Op,
    x: &[T],
    xs: &[usize],
    os: &[usize],
    init: A,
    step: impl Fn(A, T) -> A,
    finish: impl Fn(A, usize) -> R,
) -> Result<Vec<R>, InterpError> {
    let k = op.ints("kernel")?;
    let s = op.ints("stride")?;
    let p = op.ints("pad")?;
    let (h, w, c) = (xs[1] as i64, xs[2] as i64, xs[3]);
    let mut out = vec![R::default(); os[1] * os[2] * c];
    let mut acc = vec![init; c];
    for oy in 0..os[1] {
        for ox in 0..os[2] {
            acc.iter_mut().for_each(|a| *a = init);
            let mut taps = 0;
            for ky in 0..k[0] {
                let iy = oy as i64 * s[0] - p[0] + ky;
                for kx in 0..k[1] {
                    let ix = ox as i64 * s[1] - p[2] + kx;
                    if iy < 0 || iy >= h || ix < 0 || ix >= w {
                        continue;
                    }
                    taps += 1;
                    for (a, &xv) in acc.iter_mut().zip(&x[((iy * w + ix) as usize) * c..][..c]) {
                        *a = step(*a, xv);
                    }
                }
            }
            let o = &mut out[(oy * os[2] + ox) * c..][..c];
            for (ov, &a) in o.iter_mut().zip(&acc) {
                *ov = finish(a, taps);
            }
        }
    }
    Ok(out)
}

/// Advances a row-major multi-index over `shape` by one element (odometer order).
pub(crate) fn advance(idx: &mut [usize], shape: &[usize]) {
    for k in (0..idx.len()).rev() {
        idx[k] += 1;
        if idx[k] < shape[k] {
            return;
        }
        idx[k] = 0;
    }
}

pub(crate) fn loc_suffix(op: &nibble_ir::Op) -> String {
    op.loc
        .as_deref()
        .map(|l| format!(" at {l}"))
        .unwrap_or_default()
}

/// Shape helpers shared by both interpreters.
pub(crate) fn dims(f: &nibble_ir::Func, v: usize) -> Vec<usize> {
    f.ty(v)
        .shape()
        .unwrap_or(&[])
        .iter()
        .map(|&d| d as usize)
        .collect()
}

/// Permutes a row-major tensor: `out.shape[k] = shape[perms[k]]`. The innermost output
/// dimension is copied with a fixed input stride; the outer index advances like an odometer.
pub(crate) fn transpose<T: Copy>(x: &[T], shape: &[usize], perms: &[usize]) -> Vec<T> {
    let rank = shape.len();
    if rank == 0 || x.is_empty() {
        return x.to_vec();
    }
    let out_shape: Vec<usize> = perms.iter().map(|&p| shape[p]).collect();
    let mut in_strides = vec![1; rank];
    for k in (0..rank - 1).rev() {
        in_strides[k] = in_strides[k + 1] * shape[k + 1];
    }
    let strides: Vec<usize> = perms.iter().map(|&p| in_strides[p]).collect();
    let (inner, inner_stride) = (out_shape[rank - 1], strides[rank - 1]);
    let mut out = Vec::with_capacity(x.len());
    let mut idx = vec![0usize; rank - 1];
    let mut base = 0usize;
    for _ in 0..x.len() / inner {
        out.extend((0..inner).map(|i| x[base + i * inner_stride]));
        for k in (0..rank - 1).rev() {
            idx[k] += 1;
            base += strides[k];
            if idx[k] < out_shape[k] {
                break;
            }
            base -= strides[k] * out_shape[k];
            idx[k] = 0;
        }
    }
    out
}

/// Copies the window `[start, start + out_shape)` of a row-major tensor.
pub(crate) fn slice<T: Copy>(
    x: &[T],
    shape: &[usize],
    start: &[i64],
    out_shape: &[usize],
) -> Vec<T> {
    let rank = shape.len();
    let mut strides = vec![1usize; rank];
    for k in (0..rank.saturating_sub(1)).rev() {
        strides[k] = strides[k + 1] * shape[k + 1];
    }
    let n: usize = out_shape.iter().product();
    let mut out = Vec::with_capacity(n);
    if rank == 0 || n == 0 {
        out.extend(x.iter().take(n));
        return out;
    }
    // Row by row: the last axis is a contiguous run of the input.
    let last = out_shape[rank - 1];
    let rows = &out_shape[..rank - 1];
    let mut idx = vec![0usize; rank - 1];
    for _ in 0..n / last {
        let off: usize = (0..rank)
            .map(|k| (idx.get(k).copied().unwrap_or(0) + start[k] as usize) * strides[k])
            .sum();
        out.extend_from_slice(&x[off..][..last]);
        advance(&mut idx, rows);
    }
    out
}

/// Concatenates row-major tensors (data, shape) along `axis`.
pub(crate) fn concat<T: Copy>(
    parts: &[(&[T], Vec<usize>)],
    axis: usize,
    out_shape: &[usize],
) -> Vec<T> {
    let outer: usize = out_shape[..axis].iter().product();
    let mut out = Vec::with_capacity(out_shape.iter().product());
    for o in 0..outer {
        for (data, s) in parts {
            let chunk: usize = s[axis..].iter().product();
            out.extend_from_slice(&data[o * chunk..][..chunk]);
        }
    }
    out
}

/// The source taps of one resized axis (tosa.resize): for each output index, the low and high
/// input indices and the high one's weight in units of `n` (`scale = n/d`, `offset` in units of
/// `1/n`). Nearest neighbour rounds half up to one index (weight 0).
pub fn resize_taps(
    out_len: usize,
    in_len: i64,
    n: i64,
    d: i64,
    offset: i64,
    bilinear: bool,
) -> Vec<(usize, usize, i64)> {
    (0..out_len)
        .map(|o| {
            let y = o as i64 * d + offset;
            let i = y.div_euclid(n);
            let frac = y - i * n;
            if bilinear {
                (
                    i.clamp(0, in_len - 1) as usize,
                    (i + 1).clamp(0, in_len - 1) as usize,
                    frac,
                )
            } else {
                let j = if 2 * frac >= n { i + 1 } else { i };
                let j = j.clamp(0, in_len - 1) as usize;
                (j, j, 0)
            }
        })
        .collect()
}

/// The taps of one axis of a transposed convolution: for each output index, the (kernel index,
/// input index) pairs with `out = in·stride + pad + k` inside both ranges, in increasing input
/// order.
pub fn tconv_taps(
    out_len: usize,
    in_len: usize,
    k: usize,
    stride: i64,
    pad: i64,
) -> Vec<Vec<(usize, usize)>> {
    let mut taps = vec![Vec::new(); out_len];
    for i in 0..in_len {
        for kk in 0..k {
            let o = i as i64 * stride + pad + kk as i64;
            if (0..out_len as i64).contains(&o) {
                taps[o as usize].push((kk, i));
            }
        }
    }
    taps
}
