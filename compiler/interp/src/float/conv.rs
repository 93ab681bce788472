//! Convolutions and products in f32: conv2d as im2col ([`patches`]) + GEMM, depthwise
//! convolution tap by tap, transposed convolution gathered per output pixel, and the batched
//! activation matmul.

use super::gemm::sgemm;
use super::Env;
use crate::tensor::dims;
use crate::window::{self, Window};
use crate::InterpError;
use nibble_ir::{Func, Op};

/// Convolution weights as the graph holds them (OHWI: [OC, K]) or transposed to [K, OC].
pub(super) enum Weights<'a> {
    Ohwi(&'a [f32]),
    KByN(&'a [f32]),
}

/// tosa.depthwise_conv2d, tosa.transpose_conv2d and tosa.matmul.
pub(super) fn eval(f: &Func, op: &Op, env: &Env) -> Result<Vec<f32>, InterpError> {
    let (x, w) = (env.read(op, 0)?, env.read(op, 1)?);
    match op.name.as_str() {
        "tosa.depthwise_conv2d" => depthwise_conv2d(f, op, x, w, env.read(op, 2)?),
        "tosa.transpose_conv2d" => transpose_conv2d(f, op, x, w, env.read(op, 2)?),
        _ => matmul(f, op, x, w),
    }
}

/// `oc` bias values (one per output channel, or one for all) from the operand `b`.
fn bias(op: &Op, b: &[f32], oc: usize, one_for_all: bool) -> Result<Vec<f32>, InterpError> {
    match b.len() {
        1 if one_for_all => Ok(vec![b[0]; oc]),
        n if n == oc || (n > oc && !one_for_all) => Ok(b[..oc].to_vec()),
        n => Err(InterpError::Invalid(format!(
            "{}: {n} bias values for {oc} output channels",
            op.name
        ))),
    }
}

/// NHWC convolution, OHWI weights: the input patches (or, pointwise, the input itself) times
/// the weights, accumulated onto the bias.
pub(super) fn conv2d(
    f: &Func,
    op: &Op,
    x: &[f32],
    w: Weights,
    b: &[f32],
) -> Result<Vec<f32>, InterpError> {
    let (xs, ws, os) = (
        dims(f, op.operands[0]),
        dims(f, op.operands[1]),
        dims(f, op.results[0]),
    );
    if xs.len() != 4 || ws.len() != 4 || os.len() != 4 {
        return Err(InterpError::Invalid(
            "tosa.conv2d: needs NHWC tensors and OHWI weights".into(),
        ));
    }
    let (c, oc, kh, kw) = (xs[3], ws[0], ws[1], ws[2]);
    let (oh, ow) = (os[1], os[2]);
    let k = kh * kw * c;
    // The output starts as the bias (one per channel, or one for all); the product accumulates
    // onto it.
    let bias = bias(op, b, oc, true)?;
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
pub fn patches(f: &Func, op: &Op, x: &[f32]) -> Result<Vec<f32>, InterpError> {
    let (xs, ws, os) = (
        dims(f, op.operands[0]),
        dims(f, op.operands[1]),
        dims(f, op.results[0]),
    );
    if ws.len() != 4 || os.len() != 4 {
        return Err(InterpError::Invalid(format!(
            "{}: needs 4-D weights and an NHWC result",
            op.name
        )));
    }
    let (kh, kw) = match op.name.as_str() {
        "tosa.depthwise_conv2d" => (ws[0], ws[1]),
        _ => (ws[1], ws[2]),
    };
    let window = Window::conv(op, &xs, kh, kw)?;
    let (h, wd, c) = (window.h, window.w, xs[3]);
    let (oh, ow) = (os[1], os[2]);
    let k = kh * kw * c;
    let mut col = vec![0.0f32; oh * ow * k];
    for oy in 0..oh {
        for ox in 0..ow {
            let row = &mut col[(oy * ow + ox) * k..][..k];
            if window.dilation[1] != 1 {
                window.taps(oy, ox, |ky, kx, px| {
                    row[(ky * kw + kx) * c..][..c].copy_from_slice(&x[px * c..][..c]);
                });
                continue;
            }
            // Undilated taps of one kernel row are adjacent input pixels: one copy.
            let x0 = window.col(ox, 0);
            let (k0, k1) = ((-x0).clamp(0, kw as i64), (wd - x0).clamp(0, kw as i64));
            for ky in 0..kh {
                let iy = window.row(oy, ky);
                if iy < 0 || iy >= h || k0 >= k1 {
                    continue;
                }
                let line = &x[(iy * wd) as usize * c..][..wd as usize * c];
                let n = (k1 - k0) as usize * c;
                row[(ky * kw + k0 as usize) * c..][..n]
                    .copy_from_slice(&line[(x0 + k0) as usize * c..][..n]);
            }
        }
    }
    Ok(col)
}

/// NHWC depthwise convolution, weights [KH, KW, C, M], output channel c·M + m.
fn depthwise_conv2d(
    f: &Func,
    op: &Op,
    x: &[f32],
    w: &[f32],
    b: &[f32],
) -> Result<Vec<f32>, InterpError> {
    let (xs, ws, os) = (
        dims(f, op.operands[0]),
        dims(f, op.operands[1]),
        dims(f, op.results[0]),
    );
    if ws.len() != 4 || os.len() != 4 {
        return Err(InterpError::Invalid(
            "tosa.depthwise_conv2d: needs [KH, KW, C, M] weights and an NHWC result".into(),
        ));
    }
    let (kh, kw, m) = (ws[0], ws[1], ws[3]);
    let window = Window::conv(op, &xs, kh, kw)?;
    let c = xs[3];
    let (oh, ow, oc) = (os[1], os[2], os[3]);
    let b = bias(op, b, oc, false)?;
    if m == 1 {
        return Ok(depthwise_rows(&window, (x, w, &b), [oh, ow, c]));
    }
    let mut out = vec![0.0f32; oh * ow * oc];
    for oy in 0..oh {
        for ox in 0..ow {
            let o = &mut out[(oy * ow + ox) * oc..][..oc];
            o.copy_from_slice(&b);
            window.taps(oy, ox, |ky, kx, px| {
                let xv = &x[px * c..][..c];
                let wv = &w[(ky * kw + kx) * c * m..][..c * m];
                for ch in 0..c {
                    for mm in 0..m {
                        o[ch * m + mm] += xv[ch] * wv[ch * m + mm];
                    }
                }
            });
        }
    }
    Ok(out)
}

/// Depthwise multiplier 1, row by row, tap by tap over the output pixels the tap reaches (no
/// per-pixel bounds checks): each pixel's channels are one multiply-add loop, and every output
/// still sums its taps in kernel order.
fn depthwise_rows(
    window: &Window,
    (x, w, b): (&[f32], &[f32], &[f32]),
    [oh, ow, c]: [usize; 3],
) -> Vec<f32> {
    let (h, wd, sx) = (window.h, window.w, window.stride[1]);
    let mut out = vec![0.0f32; oh * ow * c];
    if out.is_empty() {
        return out;
    }
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
        for ky in 0..window.kh {
            let iy = window.row(oy, ky);
            if iy < 0 || iy >= h {
                continue;
            }
            let xrow = &x[(iy * wd) as usize * c..][..wd as usize * c];
            for kx in 0..window.kw {
                let off = window.col(0, kx);
                let wv = &w[(ky * window.kw + kx) * c..][..c];
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
    out
}

/// NHWC transposed convolution (tosa semantics): output pixel (oy, ox) sums the input pixels
/// whose kernel window reaches it (`oy = iy·stride + out_pad_top + ky`), weights
/// [OC, KH, KW, IC], in increasing input order.
fn transpose_conv2d(
    f: &Func,
    op: &Op,
    x: &[f32],
    w: &[f32],
    b: &[f32],
) -> Result<Vec<f32>, InterpError> {
    let oc = dims(f, op.operands[1]).first().copied().unwrap_or(0);
    let b = bias(op, b, oc, false)?;
    window::transpose_conv2d(
        f,
        op,
        (x, w),
        |o| b[o],
        |acc, xv, wv| acc + xv.iter().zip(wv).map(|(a, b)| a * b).sum::<f32>(),
        |acc, _| acc,
    )
}

/// Batched product [B, M, K] · [B, K, N].
fn matmul(f: &Func, op: &Op, x: &[f32], w: &[f32]) -> Result<Vec<f32>, InterpError> {
    let (a, b) = (dims(f, op.operands[0]), dims(f, op.operands[1]));
    if a.len() != 3 || b.len() != 3 {
        return Err(InterpError::Invalid(
            "tosa.matmul: operands must be [B,M,K] and [B,K,N]".into(),
        ));
    }
    let (batch, m, k, n) = (a[0], a[1], a[2], b[2]);
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
    Ok(out)
}
