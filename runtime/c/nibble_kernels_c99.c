/* nibble_kernels: the portable C99 kernels (any compiler, any CPU: the reference of the SIMD
 * variants and the fallback), reading the packed layout with scalar code that compilers may
 * vectorize over the 16 channels of a block; and the run-time choice of variant. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
#include "nibble_kernels_internal.h"

void nbk_conv_c99(const int8_t *x, const nbk_shape *s, const nbk_packed *p, int8_t *y,
                  void *scratch) {
    enum { MR = 4 };
    const int P = s->oh * s->ow, kp = p->kp, kq = kp / 4, nb = p->ocp / 16, oc = p->oc, c = s->c;
    const int pw = nbk_pointwise(s);
    int8_t *A = (int8_t *)scratch;
    const int mc = nbk_mc(kp, MR, P);
    int p0;
    for (p0 = 0; p0 < P; p0 += mc) {
        const int n = P - p0 < mc ? P - p0 : mc;
        int i, b, m0;
        for (i = 0; i < n; i++) {
            if (pw) {
                memcpy(A + (long)i * kp, x + (long)(p0 + i) * c, (size_t)c);
                memset(A + (long)i * kp + c, 0, (size_t)(kp - c));
            } else {
                nbk_patch_row(x, s, p0 + i, A + (long)i * kp, p->zp, kp);
            }
        }
        for (b = 0; b < nb; b++) {
            const int8_t *wb = p->w + (long)b * kp * 16;
            for (m0 = 0; m0 < n; m0 += MR) {
                const int mr = n - m0 < MR ? n - m0 : MR;
                int32_t acc[MR][16];
                int r, j, q;
                for (r = 0; r < MR; r++)
                    for (j = 0; j < 16; j++) acc[r][j] = p->bias_s[b * 16 + j];
                for (q = 0; q < kq; q++) {
                    const int8_t *wq = wb + q * 64;
                    for (r = 0; r < mr; r++) {
                        const int8_t *ar = A + (long)(m0 + r) * kp + 4 * q;
                        const int32_t a0 = ar[0], a1 = ar[1], a2 = ar[2], a3 = ar[3];
                        for (j = 0; j < 16; j++)
                            acc[r][j] += a0 * wq[4 * j] + a1 * wq[4 * j + 1] + a2 * wq[4 * j + 2] +
                                         a3 * wq[4 * j + 3];
                    }
                }
                for (r = 0; r < mr; r++) {
                    int8_t *yr = y + (long)(p0 + m0 + r) * oc;
                    for (j = 0; j < 16 && b * 16 + j < oc; j++)
                        yr[b * 16 + j] = (int8_t)nbk_requant1(acc[r][j], p, b * 16 + j);
                }
            }
        }
    }
}

void nbk_dw_c99(const int8_t *x, const nbk_shape *s, const nbk_dw_packed *d, int8_t *y,
                void *scratch) {
    const int c = s->c, cp = d->p.ocp;
    int8_t *zprow = (int8_t *)scratch;
    int32_t acc[256];
    int oy, ox, ky, kx, c0, ch;
    memset(zprow, d->p.zp, nbk_zprow_bytes(s));
    for (oy = 0; oy < s->oh; oy++)
        for (ox = 0; ox < s->ow; ox++)
            for (c0 = 0; c0 < c; c0 += 256) {
                const int n = c - c0 < 256 ? c - c0 : 256;
                int8_t *out = y + ((long)oy * s->ow + ox) * c + c0;
                for (ch = 0; ch < n; ch++) acc[ch] = d->p.bias_s[c0 + ch];
                for (ky = 0; ky < s->kh; ky++) {
                    const int iy = oy * s->sh - s->pt + ky * s->dh;
                    for (kx = 0; kx < s->kw; kx++) {
                        const int ix = ox * s->sw - s->pl + kx * s->dw;
                        const int8_t *src = (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w)
                                                ? zprow
                                                : x + ((long)iy * s->w + ix) * c + c0;
                        const int8_t *wv = d->w8 + (long)(ky * s->kw + kx) * cp + c0;
                        for (ch = 0; ch < n; ch++) acc[ch] += (int32_t)src[ch] * wv[ch];
                    }
                }
                for (ch = 0; ch < n; ch++) out[ch] = (int8_t)nbk_requant1(acc[ch], &d->p, c0 + ch);
            }
}

/* Run-time kernel choice: CPU detection once, then a function pointer. */
nbk_conv_fn nbk_conv_best(const char **name) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
        if (name) *name = "avx512vnni";
        return nbk_conv_avx512vnni;
    }
    if (__builtin_cpu_supports("avx2")) {
        if (name) *name = "avx2";
        return nbk_conv_avx2;
    }
#elif defined(__aarch64__)
    if (name) *name = "neon";
    return nbk_conv_neon;
#endif
    if (name) *name = "c99";
    return nbk_conv_c99;
}

nbk_dw_fn nbk_dw_best(const char **name) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
        if (name) *name = "avx512";
        return nbk_dw_avx512;
    }
    if (__builtin_cpu_supports("avx2")) {
        if (name) *name = "avx2";
        return nbk_dw_avx2;
    }
#elif defined(__aarch64__)
    if (name) *name = "neon";
    return nbk_dw_neon;
#endif
    if (name) *name = "c99";
    return nbk_dw_c99;
}

void nbk_conv2d(const int8_t *x, const nbk_shape *s, const nbk_packed *p, int8_t *y, void *scratch) {
    static nbk_conv_fn f = 0;
    if (!f) f = nbk_conv_best(0);
    f(x, s, p, y, scratch);
}

void nbk_depthwise(const int8_t *x, const nbk_shape *s, const nbk_dw_packed *p, int8_t *y,
                   void *scratch) {
    static nbk_dw_fn f = 0;
    if (!f) f = nbk_dw_best(0);
    f(x, s, p, y, scratch);
}
