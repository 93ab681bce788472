//! 2-D windows over NHWC images, the loops both interpreters' convolutions and pools share:
//! [`Window::taps`] visits the taps of one output pixel that fall inside the input, [`pool2d`]
//! folds them per channel, and [`transpose_conv2d`] gathers a transposed convolution per output
//! pixel from its tap tables. Each visits taps in one fixed order (kernel rows, then columns;
//! increasing input positions), so float results do not depend on which interpreter asks.

use crate::tensor::dims;
use crate::{invalid, InterpError};
use nibble_ir::{Func, Op};

/// A sliding window: kernel size, stride, top/left padding and dilation over an input of
/// `h`×`w` pixels.
pub(crate) struct Window {
    pub h: i64,
    pub w: i64,
    pub kh: usize,
    pub kw: usize,
    pub stride: [i64; 2],
    /// Top and left padding (the bottom and right only size the output).
    pub pad: [i64; 2],
    pub dilation: [i64; 2],
}

/// `op`'s integer array `key`, which must have `N` entries.
fn fixed<const N: usize>(op: &Op, key: &str) -> Result<[i64; N], InterpError> {
    let v = op.ints(key)?;
    v.as_slice()
        .try_into()
        .map_err(|_| invalid(op, format!("'{key}' needs {N} entries, has {}", v.len())))
}

/// Checks that `xs` is the shape of an NHWC image.
fn nhwc(op: &Op, xs: &[usize]) -> Result<(), InterpError> {
    match xs.len() {
        4 => Ok(()),
        n => Err(invalid(op, format!("needs an NHWC input, got rank {n}"))),
    }
}

impl Window {
    /// A convolution's window (attributes `pad`, `stride`, `dilation`) for a `kh`×`kw`
    /// kernel over an NHWC input of shape `xs`.
    pub fn conv(op: &Op, xs: &[usize], kh: usize, kw: usize) -> Result<Window, InterpError> {
        nhwc(op, xs)?;
        let pad: [i64; 4] = fixed(op, "pad")?;
        Ok(Window {
            h: xs[1] as i64,
            w: xs[2] as i64,
            kh,
            kw,
            stride: fixed(op, "stride")?,
            pad: [pad[0], pad[2]],
            dilation: fixed(op, "dilation")?,
        })
    }

    /// A pool's window (attributes `kernel`, `stride`, `pad`; no dilation) over an NHWC input
    /// of shape `xs`.
    pub fn pool(op: &Op, xs: &[usize]) -> Result<Window, InterpError> {
        nhwc(op, xs)?;
        let [kh, kw]: [i64; 2] = fixed(op, "kernel")?;
        let pad: [i64; 4] = fixed(op, "pad")?;
        Ok(Window {
            h: xs[1] as i64,
            w: xs[2] as i64,
            kh: kh.max(0) as usize,
            kw: kw.max(0) as usize,
            stride: fixed(op, "stride")?,
            pad: [pad[0], pad[2]],
            dilation: [1, 1],
        })
    }

    /// The input row of kernel row `ky` for output row `oy` (may lie outside the input).
    #[inline(always)]
    pub fn row(&self, oy: usize, ky: usize) -> i64 {
        oy as i64 * self.stride[0] - self.pad[0] + ky as i64 * self.dilation[0]
    }

    /// The input column of kernel column `kx` for output column `ox` (may lie outside).
    #[inline(always)]
    pub fn col(&self, ox: usize, kx: usize) -> i64 {
        ox as i64 * self.stride[1] - self.pad[1] + kx as i64 * self.dilation[1]
    }

    /// Calls `tap(ky, kx, pixel)` for every tap of output pixel (`oy`, `ox`) inside the input,
    /// kernel row by kernel row; `pixel = iy·w + ix` indexes the input's pixels.
    #[inline(always)]
    pub fn taps(&self, oy: usize, ox: usize, mut tap: impl FnMut(usize, usize, usize)) {
        for ky in 0..self.kh {
            let iy = self.row(oy, ky);
            if iy < 0 || iy >= self.h {
                continue;
            }
            for kx in 0..self.kw {
                let ix = self.col(ox, kx);
                if ix < 0 || ix >= self.w {
                    continue;
                }
                tap(ky, kx, (iy * self.w + ix) as usize);
            }
        }
    }
}

/// NHWC pooling of `x` (shape `xs`) into shape `os`: for every output pixel, each window tap
/// inside the input is folded into the pixel's per-channel accumulators (starting at `init`) by
/// `step`, and `finish(accumulator, taps)` gives the output (padding taps are not counted).
pub(crate) fn pool2d<T: Copy, A: Copy, R: Copy + Default>(
    op: &Op,
    x: &[T],
    xs: &[usize],
    os: &[usize],
    init: A,
    step: impl Fn(A, T) -> A,
    finish: impl Fn(A, usize) -> R,
) -> Result<Vec<R>, InterpError> {
    let window = Window::pool(op, xs)?;
    nhwc(op, os)?;
    let c = xs[3];
    let mut out = vec![R::default(); os[1] * os[2] * c];
    let mut acc = vec![init; c];
    for oy in 0..os[1] {
        for ox in 0..os[2] {
            acc.iter_mut().for_each(|a| *a = init);
            let mut taps = 0;
            window.taps(oy, ox, |_, _, px| {
                taps += 1;
                for (a, &xv) in acc.iter_mut().zip(&x[px * c..][..c]) {
                    *a = step(*a, xv);
                }
            });
            let o = &mut out[(oy * os[2] + ox) * c..][..c];
            for (ov, &a) in o.iter_mut().zip(&acc) {
                *ov = finish(a, taps);
            }
        }
    }
    Ok(out)
}

/// A transposed convolution (NHWC input, OHWI weights, attributes `out_pad` [4] and `stride`
/// [2]) computed per output pixel and channel `o`: the accumulator starts at `init(o)`, and
/// `tap(acc, input pixel, weight row)` folds in every (input pixel, kernel tap) that reaches it,
/// in increasing input order (rows, then columns); `finish(acc, o)` gives the output.
pub(crate) fn transpose_conv2d<T, A, R>(
    f: &Func,
    op: &Op,
    (x, w): (&[T], &[T]),
    init: impl Fn(usize) -> A,
    tap: impl Fn(A, &[T], &[T]) -> A,
    finish: impl Fn(A, usize) -> R,
) -> Result<Vec<R>, InterpError> {
    let (xs, ws, os) = (
        dims(f, op.operands[0]),
        dims(f, op.operands[1]),
        dims(f, op.results[0]),
    );
    let (out_pad, stride) = (op.ints("out_pad")?, op.ints("stride")?);
    if xs.len() != 4 || ws.len() != 4 || os.len() != 4 || out_pad.len() != 4 || stride.len() != 2 {
        return Err(invalid(
            op,
            "needs NHWC tensors, OHWI weights, out_pad[4] and stride[2]",
        ));
    }
    let (wd, ic) = (xs[2], xs[3]);
    let (oc, kh, kw) = (ws[0], ws[1], ws[2]);
    let rows = crate::tconv_taps(os[1], xs[1], kh, stride[0], out_pad[0]);
    let cols = crate::tconv_taps(os[2], xs[2], kw, stride[1], out_pad[2]);
    let mut out = Vec::with_capacity(os[1] * os[2] * oc);
    for row in &rows {
        for col in &cols {
            for o in 0..oc {
                let mut acc = init(o);
                for &(ky, iy) in row {
                    for &(kx, ix) in col {
                        let xv = &x[(iy * wd + ix) * ic..][..ic];
                        let wv = &w[((o * kh + ky) * kw + kx) * ic..][..ic];
                        acc = tap(acc, xv, wv);
                    }
                }
                out.push(finish(acc, o));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_skip_the_padding_in_kernel_order() {
        let window = Window {
            h: 3,
            w: 3,
            kh: 3,
            kw: 3,
            stride: [2, 2],
            pad: [1, 1],
            dilation: [1, 1],
        };
        let mut seen = Vec::new();
        window.taps(0, 0, |ky, kx, px| seen.push((ky, kx, px)));
        assert_eq!(seen, [(1, 1, 0), (1, 2, 1), (2, 1, 3), (2, 2, 4)]);
        seen.clear();
        window.taps(1, 1, |ky, kx, px| seen.push((ky, kx, px)));
        assert_eq!(seen, [(0, 0, 4), (0, 1, 5), (1, 0, 7), (1, 1, 8)]);
    }
}
