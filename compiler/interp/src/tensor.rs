//! Row-major tensor helpers shared by both interpreters: shapes, odometer indexing,
//! transpose, slice, concat, and the offsets of a broadcasting elementwise op.

/// The shape of value `v` of `f` (empty for a scalar).
pub(crate) fn dims(f: &nibble_ir::Func, v: usize) -> Vec<usize> {
    f.ty(v)
        .shape()
        .unwrap_or(&[])
        .iter()
        .map(|&d| d as usize)
        .collect()
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

/// Calls `g(i, j)` with the flat offsets into `a` (shape `sa`) and `b` (shape `sb`) of every
/// element of the broadcast output (shape `so`, the rank of both), in row-major order.
pub(crate) fn broadcast_offsets(
    sa: &[usize],
    sb: &[usize],
    so: &[usize],
    mut g: impl FnMut(usize, usize),
) {
    // Strides of an operand over the output's index space: 0 along its size-1 dimensions.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_walks_size_one_dimensions() {
        let mut seen = Vec::new();
        broadcast_offsets(&[1, 2, 3], &[1, 1, 3], &[1, 2, 3], |i, j| seen.push((i, j)));
        assert_eq!(seen, [(0, 0), (1, 1), (2, 2), (3, 0), (4, 1), (5, 2)]);
        seen.clear();
        broadcast_offsets(&[2, 1], &[1, 3], &[2, 3], |i, j| seen.push((i, j)));
        assert_eq!(seen, [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]);
    }

    #[test]
    fn transpose_slice_concat() {
        let x: Vec<i32> = (0..6).collect();
        assert_eq!(transpose(&x, &[2, 3], &[1, 0]), [0, 3, 1, 4, 2, 5]);
        assert_eq!(slice(&x, &[2, 3], &[0, 1], &[2, 2]), [1, 2, 4, 5]);
        let parts = [(&x[..2], vec![1, 2]), (&x[2..], vec![1, 4])];
        assert_eq!(concat(&parts, 1, &[1, 6]), x);
    }
}
