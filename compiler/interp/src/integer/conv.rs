//! The integer layers with weights: convolution (plain, depthwise, transposed), fully connected
//! and the activation matmul, each accumulating in i64 from its i32 bias and requantizing per
//! output channel. The C kernels compute the same sums.

use super::operands;
use super::requant::{self, requant};
use crate::tensor::dims;
use crate::window::{self, Window};
use crate::{invalid, InterpError};
use nibble_ir::{Func, Op};
use nibble_tile as tile;

/// tile.conv2d, depthwise_conv2d, fully_connected, matmul and transpose_conv2d.
pub(super) fn eval(f: &Func, op: &Op, x: &[&[i32]]) -> Result<Vec<i32>, InterpError> {
    match op.name.as_str() {
        tile::CONV2D => conv2d(f, op, operands(op, x)?),
        tile::DEPTHWISE_CONV2D => depthwise_conv2d(f, op, operands(op, x)?),
        tile::FULLY_CONNECTED => fully_connected(f, op, operands(op, x)?),
        tile::TRANSPOSE_CONV2D => transpose_conv2d(f, op, operands(op, x)?),
        _ => matmul(f, op, operands(op, x)?),
    }
}

/// The shapes of a windowed layer's input, weights and result, all 4-D, and a bias of at
/// least `channels(weights)` values.
fn shapes(
    f: &Func,
    op: &Op,
    b: &[i32],
    channels: impl Fn(&[usize]) -> usize,
) -> Result<[Vec<usize>; 3], InterpError> {
    let (xs, ws, os) = (
        dims(f, op.operands[0]),
        dims(f, op.operands[1]),
        dims(f, op.results[0]),
    );
    if xs.len() != 4 || ws.len() != 4 || os.len() != 4 {
        return Err(invalid(op, "needs NHWC tensors and 4-D weights"));
    }
    if b.len() < channels(&ws) {
        return Err(invalid(op, format!("{} bias values", b.len())));
    }
    Ok([xs, ws, os])
}

/// NHWC convolution, OHWI weights; each tap adds its i32 dot product over the input channels.
fn conv2d(f: &Func, op: &Op, [x, w, b]: [&[i32]; 3]) -> Result<Vec<i32>, InterpError> {
    let [xs, ws, os] = shapes(f, op, b, |ws| ws[0])?;
    let rq = requant::of(op, ws[0])?;
    let (c, oc, kh, kw) = (xs[3], ws[0], ws[1], ws[2]);
    let window = Window::conv(op, &xs, kh, kw)?;
    let (oh, ow) = (os[1], os[2]);
    let zp = rq.input_zp as i32;
    let mut out = vec![0i32; oh * ow * oc];
    let mut acc = vec![0i64; oc];
    for oy in 0..oh {
        for ox in 0..ow {
            for (a, &bias) in acc.iter_mut().zip(b) {
                *a = bias as i64;
            }
            window.taps(oy, ox, |ky, kx, px| {
                let xv = &x[px * c..][..c];
                for (o, a) in acc.iter_mut().enumerate() {
                    let wv = &w[((o * kh + ky) * kw + kx) * c..][..c];
                    let s: i32 = xv.iter().zip(wv).map(|(&p, &q)| (p - zp) * q).sum();
                    *a += s as i64;
                }
            });
            for (o, &a) in acc.iter().enumerate() {
                out[(oy * ow + ox) * oc + o] = requant(a, &rq, o);
            }
        }
    }
    Ok(out)
}

/// NHWC depthwise convolution, weights [KH, KW, C, 1]: output channel c sums input channel c.
fn depthwise_conv2d(f: &Func, op: &Op, [x, w, b]: [&[i32]; 3]) -> Result<Vec<i32>, InterpError> {
    let [xs, ws, os] = shapes(f, op, b, |ws| ws[2])?;
    let rq = requant::of(op, os[3])?;
    let (kh, kw) = (ws[0], ws[1]);
    let window = Window::conv(op, &xs, kh, kw)?;
    let c = xs[3];
    let (oh, ow) = (os[1], os[2]);
    let mut out = vec![0i32; oh * ow * c];
    let mut acc = vec![0i64; c];
    for oy in 0..oh {
        for ox in 0..ow {
            for (a, &bias) in acc.iter_mut().zip(b) {
                *a = bias as i64;
            }
            window.taps(oy, ox, |ky, kx, px| {
                let (xv, wv) = (&x[px * c..][..c], &w[(ky * kw + kx) * c..][..c]);
                for ((a, &p), &q) in acc.iter_mut().zip(xv).zip(wv) {
                    *a += (p as i64 - rq.input_zp) * q as i64;
                }
            });
            for (ch, &a) in acc.iter().enumerate() {
                out[(oy * ow + ox) * c + ch] = requant(a, &rq, ch);
            }
        }
    }
    Ok(out)
}

/// [N, K] by [M, K] weights plus bias.
fn fully_connected(f: &Func, op: &Op, [x, w, b]: [&[i32]; 3]) -> Result<Vec<i32>, InterpError> {
    let (xs, ws) = (dims(f, op.operands[0]), dims(f, op.operands[1]));
    if xs.len() != 2 || ws.len() != 2 || b.len() < ws[0] {
        return Err(invalid(
            op,
            "needs [N, K] input, [M, K] weights and M biases",
        ));
    }
    let rq = requant::of(op, ws[0])?;
    let (n, k, m) = (xs[0], xs[1], ws[0]);
    let mut out = Vec::with_capacity(n * m);
    for i in 0..n {
        let xr = &x[i * k..][..k];
        for o in 0..m {
            let acc: i64 = b[o] as i64
                + xr.iter()
                    .zip(&w[o * k..][..k])
                    .map(|(&a, &b)| (a as i64 - rq.input_zp) * b as i64)
                    .sum::<i64>();
            out.push(requant(acc, &rq, o));
        }
    }
    Ok(out)
}

/// Batched activation product [B,N,K] · [B,K,M] with the fused requantization.
fn matmul(f: &Func, op: &Op, [a, b]: [&[i32]; 2]) -> Result<Vec<i32>, InterpError> {
    let (sa, sb) = (dims(f, op.operands[0]), dims(f, op.operands[1]));
    if sa.len() != 3 || sb.len() != 3 || sa[0] != sb[0] || sa[2] != sb[1] {
        return Err(invalid(op, "operands must be [B,N,K] and [B,K,M]"));
    }
    let (bn, n, k, m) = (sa[0], sa[1], sa[2], sb[2]);
    let tile::Matmul { rq, rhs_zp: zb } = tile::Matmul::from_op(op)?;
    requant::check(op, &rq, 1)?;
    let mut out = Vec::with_capacity(bn * n * m);
    for t in 0..bn {
        let (at, bt) = (&a[t * n * k..][..n * k], &b[t * k * m..][..k * m]);
        for i in 0..n {
            for j in 0..m {
                let acc: i64 = (0..k)
                    .map(|kk| (at[i * k + kk] as i64 - rq.input_zp) * (bt[kk * m + j] as i64 - zb))
                    .sum();
                out.push(requant(acc, &rq, 0));
            }
        }
    }
    Ok(out)
}

/// Transposed convolution, OHWI weights, with the fused requantization (output-centric over the
/// taps of each output row and column).
fn transpose_conv2d(f: &Func, op: &Op, [x, w, b]: [&[i32]; 3]) -> Result<Vec<i32>, InterpError> {
    let oc = dims(f, op.operands[1]).first().copied().unwrap_or(0);
    if b.len() < oc {
        return Err(invalid(
            op,
            format!("{} bias values for {oc} channels", b.len()),
        ));
    }
    let rq = requant::of(op, oc)?;
    let zp = rq.input_zp;
    window::transpose_conv2d(
        f,
        op,
        (x, w),
        |o| b[o] as i64,
        |acc, xv, wv| {
            acc + xv
                .iter()
                .zip(wv)
                .map(|(&a, &q)| (a as i64 - zp) * q as i64)
                .sum::<i64>()
        },
        |acc, o| requant(acc, &rq, o),
    )
}
