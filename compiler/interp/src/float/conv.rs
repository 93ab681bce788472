//! Convolutions and products in f32: conv2d as im2col ([`patches`]) + GEMM, depthwise
//! convolution tap by tap, transposed convolution gathered per output pixel, and the batched
//! activation matmul.

use super::gemm::sgemm;
use super::Env;
use crate::tensor::dims;
use crate::window::{self, Window};
use crate::InterpError;
use nibble_graph::tosa;
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
        tosa::DEPTHWISE_CONV2D => depthwise_conv2d(f, op, x, w, env.read(op, 2)?),
        tosa::TRANSPOSE_CONV2D => transpose_conv2d(f, op, x, w, env.read(op, 2)?),
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
        tosa::DEPTHWISE_CONV2D => (ws[0], ws[1]),
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

#[cfg(test)]
mod tests {
    use super::*;
    use nibble_ir::{Attr, Elem, Func, Type};

    /// Deterministic values in [-1, 1).
    fn data(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / (1u32 << 23) as f32 - 1.0
            })
            .collect()
    }

    /// A function of one op `name`(x, w, b) with f32 tensors of the given shapes.
    fn one_op(name: &str, [xs, ws, os]: [&[i64]; 3], attrs: Vec<(&str, Attr)>) -> Func {
        let mut f = Func::new("t");
        let x = f.add_arg(Type::tensor(xs, Elem::F32));
        let w = f.new_value(Type::tensor(ws, Elem::F32));
        let b = f.new_value(Type::tensor(&[os[3]], Elem::F32));
        f.push(name, &[x, w, b], Type::tensor(os, Elem::F32), attrs);
        f
    }

    fn geometry(pad: [i64; 4], stride: [i64; 2], dil: [i64; 2]) -> Vec<(&'static str, Attr)> {
        vec![
            ("pad", Attr::I64s(pad.to_vec())),
            ("stride", Attr::I64s(stride.to_vec())),
            ("dilation", Attr::I64s(dil.to_vec())),
        ]
    }

    /// im2col written out tap by tap: the reference for both paths of [`patches`].
    fn naive_patches(x: &[f32], [h, w, c]: [i64; 3], k: i64, o: i64, geom: [i64; 3]) -> Vec<f32> {
        let [stride, pad, dil] = geom;
        let mut col = Vec::new();
        for oy in 0..o {
            for ox in 0..o {
                for ky in 0..k {
                    for kx in 0..k {
                        let (iy, ix) = (oy * stride - pad + ky * dil, ox * stride - pad + kx * dil);
                        for ch in 0..c {
                            let inside = (0..h).contains(&iy) && (0..w).contains(&ix);
                            col.push(if inside {
                                x[((iy * w + ix) * c + ch) as usize]
                            } else {
                                0.0
                            });
                        }
                    }
                }
            }
        }
        col
    }

    #[test]
    fn patches_match_tap_by_tap_im2col() {
        for (dil, o) in [(1, 3), (2, 2)] {
            let f = one_op(
                tosa::CONV2D,
                [&[1, 5, 5, 2], &[4, 3, 3, 2], &[1, o, o, 4]],
                geometry([1, 1, 1, 1], [2, 2], [dil, dil]),
            );
            let x = data(50, 1);
            let got = patches(&f, &f.ops[0], &x).unwrap();
            assert_eq!(
                got,
                naive_patches(&x, [5, 5, 2], 3, o, [2, 1, dil]),
                "dilation {dil}"
            );
        }
    }

    #[test]
    fn depthwise_rows_sum_like_the_pixel_loop() {
        let f = one_op(
            tosa::DEPTHWISE_CONV2D,
            [&[1, 7, 6, 3], &[3, 3, 3, 1], &[1, 4, 3, 3]],
            geometry([1, 1, 2, 1], [2, 2], [1, 2]),
        );
        let (x, w, b) = (data(126, 2), data(27, 3), data(3, 4));
        let got = depthwise_conv2d(&f, &f.ops[0], &x, &w, &b).unwrap();
        // Pixel by pixel, each channel's taps in kernel order.
        let window = Window::conv(&f.ops[0], &[1, 7, 6, 3], 3, 3).unwrap();
        let mut want = Vec::new();
        for oy in 0..4 {
            for ox in 0..3 {
                let mut o = b.clone();
                window.taps(oy, ox, |ky, kx, px| {
                    for ch in 0..3 {
                        o[ch] += x[px * 3 + ch] * w[(ky * 3 + kx) * 3 + ch];
                    }
                });
                want.extend(o);
            }
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&want));
    }

    #[test]
    fn transposed_conv_gathers_like_the_input_scatter() {
        let mut attrs = vec![("out_pad", Attr::I64s(vec![-1, 0, 0, 1]))];
        attrs.push(("stride", Attr::I64s(vec![2, 3])));
        let f = one_op(
            tosa::TRANSPOSE_CONV2D,
            [&[1, 3, 4, 2], &[5, 3, 2, 2], &[1, 5, 12, 5]],
            attrs,
        );
        let (x, w, b) = (data(24, 5), data(60, 6), data(5, 7));
        let got = transpose_conv2d(&f, &f.ops[0], &x, &w, &b).unwrap();
        // Every input pixel scatters its window onto the outputs it reaches.
        let (oh, ow, oc) = (5i64, 12i64, 5usize);
        let mut want: Vec<f32> = (0..oh * ow).flat_map(|_| b.clone()).collect();
        for iy in 0..3i64 {
            for ix in 0..4i64 {
                let xv = &x[((iy * 4 + ix) * 2) as usize..][..2];
                for ky in 0..3i64 {
                    for kx in 0..2i64 {
                        let (oy, ox) = (iy * 2 - 1 + ky, ix * 3 + kx);
                        if !(0..oh).contains(&oy) || !(0..ow).contains(&ox) {
                            continue;
                        }
                        for c in 0..oc {
                            let wv = &w[((c as i64 * 3 + ky) * 2 + kx) as usize * 2..][..2];
                            let dot = xv.iter().zip(wv).map(|(a, b)| a * b).sum::<f32>();
                            want[(oy * ow + ox) as usize * oc + c] += dot;
                        }
                    }
                }
            }
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&want));
    }
}
