//! Integer kernels of the tile level beyond convolution: average pooling, elementwise add and
//! mul with rescaling, fixed-point softmax, activation matmul, LayerNorm and squeeze-excite. Bit-exact definitions: the C runtime
//! (`runtime/c/nibble_runtime.c`) implements the same arithmetic; docs/numerics.md states it.

use crate::integer::{apply_scale, floor_shift, interpolated_sigmoid, requant, Rq};
use crate::{dims, loc_suffix, pool2d, InterpError};
use nibble_ir::{Func, Op};

fn invalid(op: &Op, msg: impl std::fmt::Display) -> InterpError {
    InterpError::Invalid(format!("'{}'{}: {msg}", op.name, loc_suffix(op)))
}

fn check_shift(op: &Op, shift: i64) -> Result<u32, InterpError> {
    if (1..=62).contains(&shift) {
        Ok(shift as u32)
    } else {
        Err(invalid(op, format!("shift {shift} is outside [1, 62]")))
    }
}

/// NHWC average pool: the sum of the taps inside the input, requantized by the multiplier of
/// its tap count (one entry: every window is full).
pub fn avg_pool2d(f: &Func, op: &Op, x: &[i32]) -> Result<Vec<i32>, InterpError> {
    let k = op.ints("kernel")?;
    let window = k.iter().product::<i64>().max(1) as usize;
    let rq = Rq::with_keys(op, window, "multiplier", "shift")?;
    let (xs, os) = (dims(f, op.operands[0]), dims(f, op.results[0]));
    pool2d(
        op,
        x,
        &xs,
        &os,
        0i64,
        |a, v| a + (v as i64 - rq.input_zp),
        |a, taps| requant(a, &rq, taps.max(1) - 1),
    )
}

/// Calls `g(i, j)` with the flat offsets into `a` (shape `sa`) and `b` (shape `sb`) of every
/// element of the broadcast output (shape `so`), in row-major order.
fn broadcast2(sa: &[usize], sb: &[usize], so: &[usize], mut g: impl FnMut(usize, usize)) {
    let strides = |s: &[usize]| {
        let mut st = vec![0usize; so.len()];
        let mut acc = 1;
        for k in (0..so.len()).rev() {
            st[k] = if s[k] == 1 { 0 } else { acc };
            acc *= s[k];
        }
        st
    };
    let (ta, tb) = (strides(sa), strides(sb));
    let n: usize = so.iter().product();
    let mut idx = vec![0usize; so.len()];
    let (mut i, mut j) = (0usize, 0usize);
    for _ in 0..n {
        g(i, j);
        for k in (0..so.len()).rev() {
            idx[k] += 1;
            i += ta[k];
            j += tb[k];
            if idx[k] < so[k] {
                break;
            }
            i -= ta[k] * so[k];
            j -= tb[k] * so[k];
            idx[k] = 0;
        }
    }
}

/// tile.add and tile.mul: elementwise with size-1 broadcasting.
pub fn binary(f: &Func, op: &Op, a: &[i32], b: &[i32]) -> Result<Vec<i32>, InterpError> {
    let (sa, sb, so) = (
        dims(f, op.operands[0]),
        dims(f, op.operands[1]),
        dims(f, op.results[0]),
    );
    if sa.len() != so.len() || sb.len() != so.len() {
        return Err(invalid(op, "operands and result need the same rank"));
    }
    let zp = op.int_list("input_zp")?;
    if zp.len() != 2 {
        return Err(invalid(op, "input_zp needs two entries"));
    }
    let (za, zb, zo) = (zp[0], zp[1], op.int("output_zp")?);
    let (lo, hi) = (op.int("clamp_min")?, op.int("clamp_max")?);
    let shift = check_shift(op, op.int("shift")?)?;
    let mut out = Vec::with_capacity(so.iter().product());
    if op.name == "tile.add" {
        let m = op.int_list("multiplier")?;
        if m.len() != 2 {
            return Err(invalid(op, "needs two multipliers"));
        }
        broadcast2(&sa, &sb, &so, |i, j| {
            let acc = (a[i] as i64 - za) * m[0] + (b[j] as i64 - zb) * m[1];
            let v = zo + floor_shift(acc + (1i64 << (shift - 1)), shift);
            out.push(v.clamp(lo, hi) as i32);
        });
    } else {
        let m = op.int("multiplier")? as i32;
        broadcast2(&sa, &sb, &so, |i, j| {
            let p = (a[i] as i64 - za) * (b[j] as i64 - zb);
            out.push((zo + apply_scale(p, m, shift as i32)).clamp(lo, hi) as i32);
        });
    }
    Ok(out)
}

/// `floor(2^k / s)` for s > 0, k ≤ 62, by restoring division: one shift, compare and
/// subtraction per quotient bit, as hardware without a divider computes it.
pub fn reciprocal(s: i64, k: u32) -> i64 {
    let (mut q, mut rem) = (0i64, 0i64);
    for i in (0..=k).rev() {
        rem = (rem << 1) | (i == k) as i64;
        q <<= 1;
        if rem >= s {
            rem -= s;
            q |= 1;
        }
    }
    q
}

/// Fixed-point softmax over the last dimension (see `qnt.softmax` in qnt.irdl.mlir).
pub fn softmax(f: &Func, op: &Op, x: &[i32]) -> Result<Vec<i32>, InterpError> {
    let c = *dims(f, op.results[0]).last().unwrap_or(&1);
    let (_, bytes) = op.dense("exp_table")?;
    let table = nibble_ir::model::dense_i32(bytes);
    if table.len() != 256 || c == 0 || c > 1 << 17 {
        return Err(invalid(
            op,
            "needs a 256-entry exp table and 1..=131072 classes",
        ));
    }
    let frac = op.int("frac_bits")?;
    let zo = op.int("output_zp")?;
    let (lo, hi) = (op.int("clamp_min")?, op.int("clamp_max")?);
    let mut out = Vec::with_capacity(x.len());
    let mut e = vec![0i64; c];
    for row in x.chunks_exact(c) {
        let m = *row.iter().max().unwrap_or(&0);
        let mut sum = 0i64;
        for (ei, &v) in e.iter_mut().zip(row) {
            *ei = table[(v - m + 255).clamp(0, 255) as usize] as i64;
            sum += *ei;
        }
        let sum = sum.max(1);
        let k = 30 + (64 - sum.leading_zeros());
        let r = reciprocal(sum, k);
        let sh = k - frac as u32;
        out.extend(
            e.iter().map(|&ei| {
                (zo + floor_shift(ei * r + (1i64 << (sh - 1)), sh)).clamp(lo, hi) as i32
            }),
        );
    }
    Ok(out)
}

/// Batched activation product [B,N,K] · [B,K,M] with the fused requantization.
pub fn matmul(f: &Func, op: &Op, a: &[i32], b: &[i32]) -> Result<Vec<i32>, InterpError> {
    let (sa, sb) = (dims(f, op.operands[0]), dims(f, op.operands[1]));
    if sa.len() != 3 || sb.len() != 3 || sa[0] != sb[0] || sa[2] != sb[1] {
        return Err(invalid(op, "operands must be [B,N,K] and [B,K,M]"));
    }
    let (bn, n, k, m) = (sa[0], sa[1], sa[2], sb[2]);
    let rq = Rq::of(op, 1)?;
    let zb = op.int("rhs_zp")?;
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

/// `floor(sqrt(v))` bit by bit (shifts, compares and subtractions only).
pub fn isqrt(v: u64) -> u64 {
    let (mut x, mut r) = (v, 0u64);
    let mut bit = 1u64 << 62;
    while bit > v {
        bit >>= 2;
    }
    while bit != 0 {
        if x >= r + bit {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    r
}

/// Fixed-point LayerNorm over the last dimension (see `qnt.layer_norm` in qnt.irdl.mlir).
pub fn layer_norm(f: &Func, op: &Op, x: &[i32]) -> Result<Vec<i32>, InterpError> {
    let c = *dims(f, op.results[0]).last().unwrap_or(&1);
    let (m, sh, bias) = (
        op.int_list("multiplier")?,
        op.int_list("shift")?,
        op.int_list("bias")?,
    );
    if c == 0 || c > 4096 || m.len() != c || sh.len() != c || bias.len() != c {
        return Err(invalid(
            op,
            "needs 1..=4096 channels and one multiplier, shift and bias each",
        ));
    }
    for &s in &sh {
        check_shift(op, s)?;
    }
    let (zi, zo, eps) = (
        op.int("input_zp")?,
        op.int("output_zp")?,
        op.int("eps_term")?,
    );
    let (lo, hi) = (op.int("clamp_min")?, op.int("clamp_max")?);
    let n = c as i64;
    let mut out = Vec::with_capacity(x.len());
    let mut cs = vec![0i64; c];
    for row in x.chunks_exact(c) {
        let sum: i64 = row.iter().map(|&v| v as i64 - zi).sum();
        let mut q = eps.max(0) as u64;
        for (ci, &v) in cs.iter_mut().zip(row) {
            *ci = n * (v as i64 - zi) - sum;
            q += (*ci * *ci) as u64;
        }
        let r = (isqrt(q) as i64).max(1);
        let inv = reciprocal(r, 46);
        for (i, &ci) in cs.iter().enumerate() {
            let t = floor_shift(ci * inv + (1 << 15), 16);
            let s = sh[i] as u32;
            let y = zo + floor_shift(t * m[i] + bias[i] + (1i64 << (s - 1)), s);
            out.push(y.clamp(lo, hi) as i32);
        }
    }
    Ok(out)
}

/// tosa.resize on stored integers (see `qnt.resize` in qnt.irdl.mlir).
pub fn resize(f: &Func, op: &Op, x: &[i32]) -> Result<Vec<i32>, InterpError> {
    let (xs, os) = (dims(f, op.operands[0]), dims(f, op.results[0]));
    let (scale, off) = (op.ints("scale")?, op.ints("image_offset")?);
    if xs.len() != 4
        || os.len() != 4
        || scale.len() != 4
        || off.len() != 2
        || scale.iter().any(|&v| v <= 0)
    {
        return Err(invalid(
            op,
            "needs NHWC tensors, scale [ny, dy, nx, dx] > 0 and image_offset [oy, ox]",
        ));
    }
    let bilinear = match op.attrs.get("mode") {
        Some(nibble_ir::Attr::Str(m)) if m == "bilinear" => true,
        Some(nibble_ir::Attr::Str(m)) if m == "nearest" => false,
        _ => return Err(invalid(op, "mode must be nearest or bilinear")),
    };
    let rq = Rq::of(op, 1)?;
    let ty = crate::resize_taps(os[1], xs[1] as i64, scale[0], scale[1], off[0], bilinear);
    let tx = crate::resize_taps(os[2], xs[2] as i64, scale[2], scale[3], off[1], bilinear);
    let (w, c) = (xs[2], xs[3]);
    let (ny, nx) = (scale[0], scale[2]);
    let mut out = Vec::with_capacity(os[1] * os[2] * c);
    for &(y0, y1, fy) in &ty {
        for &(x0, x1, fx) in &tx {
            for ch in 0..c {
                let at = |y: usize, xx: usize| x[(y * w + xx) * c + ch] as i64 - rq.input_zp;
                if bilinear {
                    let top = at(y0, x0) * (nx - fx) + at(y0, x1) * fx;
                    let bottom = at(y1, x0) * (nx - fx) + at(y1, x1) * fx;
                    out.push(requant(top * (ny - fy) + bottom * fy, &rq, 0));
                } else {
                    out.push(x[(y0 * w + x0) * c + ch]);
                }
            }
        }
    }
    Ok(out)
}

/// Transposed convolution, OHWI weights, with the fused requantization (output-centric over the
/// taps of each output row and column).
pub fn transpose_conv2d(
    f: &Func,
    op: &Op,
    x: &[i32],
    w: &[i32],
    b: &[i32],
) -> Result<Vec<i32>, InterpError> {
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
    let rq = Rq::of(op, oc)?;
    let ty = crate::tconv_taps(os[1], xs[1], kh, stride[0], out_pad[0]);
    let tx = crate::tconv_taps(os[2], xs[2], kw, stride[1], out_pad[2]);
    let mut out = Vec::with_capacity(os[1] * os[2] * oc);
    for rows in &ty {
        for cols in &tx {
            for o in 0..oc {
                let mut acc = b[o] as i64;
                for &(ky, iy) in rows {
                    for &(kx, ix) in cols {
                        let xv = &x[(iy * wd + ix) * ic..][..ic];
                        let wv = &w[((o * kh + ky) * kw + kx) * ic..][..ic];
                        acc += xv
                            .iter()
                            .zip(wv)
                            .map(|(&a, &q)| (a as i64 - rq.input_zp) * q as i64)
                            .sum::<i64>();
                    }
                }
                out.push(requant(acc, &rq, o));
            }
        }
    }
    Ok(out)
}

/// Squeeze-excite gate in fixed point (see `qnt.squeeze_excite` in qnt.irdl.mlir).
pub fn squeeze_excite(
    f: &Func,
    op: &Op,
    x: &[i32],
    w: [&[i32]; 4],
) -> Result<Vec<i32>, InterpError> {
    let c = *dims(f, op.results[0]).last().unwrap_or(&1);
    let [w1, b1, w2, b2] = w;
    let cm = b1.len();
    let (hm, hs) = (
        op.int_list("hidden_multiplier")?,
        op.int_list("hidden_shift")?,
    );
    let (gm, gs) = (op.int_list("gate_multiplier")?, op.int_list("gate_shift")?);
    if c == 0
        || w1.len() != cm * c
        || w2.len() != c * cm
        || b2.len() != c
        || hm.len() != cm
        || hs.len() != cm
        || gm.len() != c
        || gs.len() != c
    {
        return Err(invalid(op, "needs w1 [Cm,C], b1 [Cm], w2 [C,Cm], b2 [C] and one hidden multiplier/shift per Cm, one gate multiplier/shift per C"));
    }
    for &s in hs.iter().chain(&gs) {
        check_shift(op, s)?;
    }
    let scale = |k: &str| -> Result<(i32, i32), InterpError> {
        let (m, s) = (
            op.int(&format!("{k}multiplier"))?,
            op.int(&format!("{k}shift"))?,
        );
        check_shift(op, s)?;
        Ok((m as i32, s as i32))
    };
    let (pool, out) = (scale("pool_")?, scale("")?);
    let (zi, zo) = (op.int("input_zp")?, op.int("output_zp")?);
    let (lo, hi, h_max) = (
        op.int("clamp_min")?,
        op.int("clamp_max")?,
        op.int("hidden_max")?,
    );
    let mut sums = vec![0i64; c];
    for row in x.chunks_exact(c) {
        for (s, &v) in sums.iter_mut().zip(row) {
            *s += v as i64 - zi;
        }
    }
    let pooled: Vec<i64> = sums
        .iter()
        .map(|&s| apply_scale(s, pool.0, pool.1))
        .collect();
    let dot = |w: &[i32], v: &[i64]| w.iter().zip(v).map(|(&w, &v)| w as i64 * v).sum::<i64>();
    let table = op.int_list("gate_table")?;
    let hidden_table = op.int_list("hidden_table")?;
    let out_shift = op.int("hidden_out_shift")?;
    for t in [&hidden_table, &table] {
        if !t.is_empty() && t.len() != 257 {
            return Err(invalid(op, "a sigmoid table needs 257 entries (or none)"));
        }
    }
    if !hidden_table.is_empty() {
        check_shift(op, out_shift)?;
    }
    let hidden: Vec<i64> = (0..cm)
        .map(|m| {
            let a = dot(&w1[m * c..][..c], &pooled) + b1[m] as i64;
            let v = apply_scale(a, hm[m] as i32, hs[m] as i32);
            if hidden_table.is_empty() {
                v.clamp(0, h_max)
            } else {
                // SiLU: v·sigmoid(v), v in units of 2^-12.
                let s = interpolated_sigmoid(&hidden_table, v);
                floor_shift(v * s + (1 << (out_shift - 1)), out_shift as u32)
            }
        })
        .collect();
    let gate: Vec<i64> = (0..c)
        .map(|k| {
            let z = apply_scale(
                dot(&w2[k * cm..][..cm], &hidden) + b2[k] as i64,
                gm[k] as i32,
                gs[k] as i32,
            );
            if table.is_empty() {
                return z.clamp(0, 1 << 15);
            }
            interpolated_sigmoid(&table, z)
        })
        .collect();
    Ok(x.chunks_exact(c)
        .flat_map(|row| {
            row.iter().zip(&gate).map(|(&v, &g)| {
                (zo + apply_scale((v as i64 - zi) * g, out.0, out.1)).clamp(lo, hi) as i32
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn isqrt_is_floor_sqrt() {
        for v in [
            0u64,
            1,
            2,
            3,
            4,
            15,
            16,
            17,
            99,
            100,
            1 << 40,
            (1 << 62) + 12345,
            u64::MAX >> 1,
        ] {
            let r = isqrt(v);
            assert!(r * r <= v && (r + 1) * (r + 1) > v, "{v}");
        }
    }

    #[test]
    fn reciprocal_is_floor_division() {
        for (s, k) in [
            (3i64, 10u32),
            (32768, 46),
            (123_456_789, 57),
            (1, 20),
            (7, 3),
        ] {
            assert_eq!(reciprocal(s, k), (1i64 << k) / s, "{s} {k}");
        }
    }
    #[test]
    fn broadcast_walks_size_one_dimensions() {
        let mut seen = Vec::new();
        broadcast2(&[1, 2, 3], &[1, 1, 3], &[1, 2, 3], |i, j| seen.push((i, j)));
        assert_eq!(seen, [(0, 0), (1, 1), (2, 2), (3, 0), (4, 1), (5, 2)]);
        seen.clear();
        broadcast2(&[2, 1], &[1, 3], &[2, 3], |i, j| seen.push((i, j)));
        assert_eq!(seen, [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]);
    }
}
