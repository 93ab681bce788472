//! The float GEMM under convolutions and matmuls: `matrixmultiply::sgemm`, with a direct path
//! for a single row (a fully connected layer at batch 1).

/// `c += a · b` (m×k by k×n, any strides; `c` row-major m×n).
#[allow(clippy::too_many_arguments)]
pub(super) fn sgemm(
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
