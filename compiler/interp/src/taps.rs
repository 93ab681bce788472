//! Tap tables of the ops that gather from computed input positions: resizing and transposed
//! convolution. The interpreters iterate them, and codegen-c writes them into the generated C
//! so the kernels do no index arithmetic (and no division) at run time.

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
