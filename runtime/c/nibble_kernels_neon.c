/* AArch64 NEON kernels: the same packed weights as VNNI/AVX2. A 16-byte chunk of a block is
 * 4 channels x 4 k; with the dot-product extension (sdot, ARMv8.2+) vdotq_laneq_s32 multiplies
 * it by one 4-byte quad of a row (signed x signed: no +128, the zero point is folded into
 * bias_s and padding reads zp); without it, vmull_s8 + vpadalq_s16 (|x * w| <= 128 * 127 fits
 * int16, a pair of them int32) give two partial sums per channel, added by vpaddq_s32.
 * Requantization: fast32 (shifts >= 33) is vqdmulhq_s32 (floor(acc*m / 2^31), never saturating:
 * m != INT32_MIN) then vrshlq_s32 by -(s-31), which rounds half up without overflow:
 * floor((acc*m + 2^(s-1)) / 2^s) exactly; otherwise 64-bit vmull_s32 products. Hard-swish and
 * swish epilogues use the scalar code (not vectorised here). */
#include "nibble_kernels_internal.h"
#if defined(__aarch64__)
#include <arm_neon.h>

/* Four accumulators of channels c..c+3 -> four int32 results within [lo, hi]. */
static inline int32x4_t rq4(int32x4_t acc, const nbk_packed *p, int c) {
    int32x4_t m = vld1q_s32(p->mult + c), s = vld1q_s32(p->shift + c), v;
    const int32x4_t lo = vdupq_n_s32(p->lo - p->out_zp), hi = vdupq_n_s32(p->hi - p->out_zp);
    if (p->mode == NBK_HSWISH || p->mode == NBK_SWISH) {
        int32_t a[4], r[4];
        int i;
        vst1q_s32(a, acc);
        for (i = 0; i < 4; i++) r[i] = nbk_requant1(a[i], p, c + i);
        return vld1q_s32(r);
    }
    if (p->mode == NBK_PRELU) {
        const uint32x4_t neg = vcltq_s32(acc, vdupq_n_s32(0));
        m = vbslq_s32(neg, vld1q_s32(p->neg_mult + c), m);
        s = vbslq_s32(neg, vld1q_s32(p->neg_shift + c), s);
    }
    if (p->fast32) {
        v = vrshlq_s32(vqdmulhq_s32(acc, m), vsubq_s32(vdupq_n_s32(31), s));
    } else {
        const int64x2_t one = vdupq_n_s64(1);
        const int64x2_t s_lo = vmovl_s32(vget_low_s32(s)), s_hi = vmovl_high_s32(s);
        int64x2_t e = vmull_s32(vget_low_s32(acc), vget_low_s32(m));
        int64x2_t o = vmull_high_s32(acc, m);
        /* (v + 2^(s-1)) >> s, arithmetic (vshlq by a negative count) */
        e = vshlq_s64(vaddq_s64(e, vshlq_s64(one, vsubq_s64(s_lo, one))), vnegq_s64(s_lo));
        o = vshlq_s64(vaddq_s64(o, vshlq_s64(one, vsubq_s64(s_hi, one))), vnegq_s64(s_hi));
        v = vcombine_s32(vqmovn_s64(e), vqmovn_s64(o)); /* saturation keeps the clamp exact */
    }
    v = vminq_s32(vmaxq_s32(v, lo), hi);
    return vaddq_s32(v, vdupq_n_s32(p->out_zp));
}

/* Sixteen accumulators -> sixteen int8. */
static inline int8x16_t rq16(const int32x4_t a[4], const nbk_packed *p, int c) {
    const int16x8_t l = vcombine_s16(vqmovn_s32(rq4(a[0], p, c)), vqmovn_s32(rq4(a[1], p, c + 4)));
    const int16x8_t h = vcombine_s16(vqmovn_s32(rq4(a[2], p, c + 8)), vqmovn_s32(rq4(a[3], p, c + 12)));
    return vcombine_s8(vqmovn_s16(l), vqmovn_s16(h));
}

static inline void store16(int8_t *y, int8x16_t v, int n) {
    if (n >= 16) {
        vst1q_s8(y, v);
    } else if (n > 0) {
        int8_t t[16];
        vst1q_s8(t, v);
        memcpy(y, t, (size_t)n);
    }
}

/* MR rows x one block of 16 channels, full K. */
#define MR 4
static void ukr(const int8_t *a, int lda, int kq, const int8_t *w, const nbk_packed *p, int n0,
                int mr, int8_t *y, int ldy) {
    int32x4_t acc[MR][4];
    int r, j, q = 0;
    for (j = 0; j < 4; j++) {
        const int32x4_t b = vld1q_s32(p->bias_s + n0 + 4 * j);
        for (r = 0; r < MR; r++) acc[r][j] = b;
    }
#if defined(__ARM_FEATURE_DOTPROD)
    for (; q + 4 <= kq; q += 4) {
        int8x16_t av[MR];
        for (r = 0; r < MR; r++) av[r] = vld1q_s8(a + (long)r * lda + 4 * q);
#define STEP(L)                                                                                   \
        for (j = 0; j < 4; j++) {                                                                 \
            const int8x16_t wv = vld1q_s8(w + (q + L) * 64 + j * 16);                             \
            for (r = 0; r < MR; r++) acc[r][j] = vdotq_laneq_s32(acc[r][j], wv, av[r], L);        \
        }
        STEP(0) STEP(1) STEP(2) STEP(3)
#undef STEP
    }
    for (; q < kq; q++) {
        int8x16_t av[MR];
        int32_t t;
        for (r = 0; r < MR; r++) {
            memcpy(&t, a + (long)r * lda + 4 * q, 4);
            av[r] = vreinterpretq_s8_s32(vdupq_n_s32(t));
        }
        for (j = 0; j < 4; j++) {
            const int8x16_t wv = vld1q_s8(w + q * 64 + j * 16);
            for (r = 0; r < MR; r++) acc[r][j] = vdotq_s32(acc[r][j], wv, av[r]);
        }
    }
#else
    {
        /* two partial sums per channel: lo holds channels 4j, 4j+1, hi 4j+2, 4j+3 */
        int32x4_t part[MR][8];
        for (r = 0; r < MR; r++)
            for (j = 0; j < 8; j++) part[r][j] = vdupq_n_s32(0);
        for (; q < kq; q++) {
            int8x16_t av[MR];
            int32_t t;
            for (r = 0; r < MR; r++) {
                memcpy(&t, a + (long)r * lda + 4 * q, 4);
                av[r] = vreinterpretq_s8_s32(vdupq_n_s32(t));
            }
            for (j = 0; j < 4; j++) {
                const int8x16_t wv = vld1q_s8(w + q * 64 + j * 16);
                for (r = 0; r < MR; r++) {
                    part[r][2 * j] = vpadalq_s16(part[r][2 * j], vmull_s8(vget_low_s8(wv), vget_low_s8(av[r])));
                    part[r][2 * j + 1] = vpadalq_s16(part[r][2 * j + 1], vmull_high_s8(wv, av[r]));
                }
            }
        }
        for (r = 0; r < MR; r++)
            for (j = 0; j < 4; j++)
                acc[r][j] = vaddq_s32(acc[r][j], vpaddq_s32(part[r][2 * j], part[r][2 * j + 1]));
    }
#endif
    for (r = 0; r < mr; r++) store16(y + (long)r * ldy + n0, rq16(acc[r], p, n0), p->oc - n0);
}

void nbk_conv_neon(const int8_t *x, const nbk_shape *s, const nbk_packed *p, int8_t *y,
                   void *scratch) {
    const int P = s->oh * s->ow, kp = p->kp, kq = kp / 4, nb = p->ocp / 16, oc = p->oc, c = s->c;
    const int pw = nbk_pointwise(s), mc = nbk_mc(kp, MR, P);
    int8_t *A = (int8_t *)scratch;
    int p0;
    for (p0 = 0; p0 < P; p0 += mc) {
        const int n = P - p0 < mc ? P - p0 : mc, nr = ((n + MR - 1) / MR) * MR;
        int i, b, m0;
        for (i = 0; i < n; i++) {
            if (pw) {
                memcpy(A + (long)i * kp, x + (long)(p0 + i) * c, (size_t)c);
                memset(A + (long)i * kp + c, 0, (size_t)(kp - c));
            } else {
                nbk_patch_row(x, s, p0 + i, A + (long)i * kp, p->zp, kp);
            }
        }
        if (nr > n) memset(A + (long)n * kp, 0, (size_t)(nr - n) * kp);
        for (b = 0; b < nb; b++)
            for (m0 = 0; m0 < n; m0 += MR)
                ukr(A + (long)m0 * kp, kp, kq, p->w + (long)b * kp * 16, p, 16 * b,
                    n - m0 < MR ? n - m0 : MR, y + (long)(p0 + m0) * oc, oc);
    }
}

/* Depthwise: 16 channels per step, int16 products widened into int32 (vmlal_s16). */
void nbk_dw_neon(const int8_t *x, const nbk_shape *s, const nbk_dw_packed *d, int8_t *y,
                 void *scratch) {
    const int c = s->c, cp = d->p.ocp;
    int8_t *zprow = (int8_t *)scratch;
    int oy, ox, ky, kx, cb;
    memset(zprow, d->p.zp, nbk_zprow_bytes(s));
    for (oy = 0; oy < s->oh; oy++)
        for (ox = 0; ox < s->ow; ox++)
            for (cb = 0; cb < c; cb += 16) {
                const int n = c - cb;
                int32x4_t acc[4];
                int j;
                for (j = 0; j < 4; j++) acc[j] = vld1q_s32(d->p.bias_s + cb + 4 * j);
                for (ky = 0; ky < s->kh; ky++) {
                    const int iy = oy * s->sh - s->pt + ky * s->dh;
                    for (kx = 0; kx < s->kw; kx++) {
                        const int ix = ox * s->sw - s->pl + kx * s->dw;
                        const int8_t *src = (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w)
                                                ? zprow
                                                : x + ((long)iy * s->w + ix) * c + cb;
                        const int8x16_t wv = vld1q_s8(d->w8 + (long)(ky * s->kw + kx) * cp + cb);
                        int8x16_t xv;
                        int16x8_t xl, xh, wl, wh;
                        if (n >= 16) {
                            xv = vld1q_s8(src);
                        } else {
                            int8_t t[16] = {0};
                            memcpy(t, src, (size_t)n);
                            xv = vld1q_s8(t);
                        }
                        xl = vmovl_s8(vget_low_s8(xv)), xh = vmovl_high_s8(xv);
                        wl = vmovl_s8(vget_low_s8(wv)), wh = vmovl_high_s8(wv);
                        acc[0] = vmlal_s16(acc[0], vget_low_s16(xl), vget_low_s16(wl));
                        acc[1] = vmlal_high_s16(acc[1], xl, wl);
                        acc[2] = vmlal_s16(acc[2], vget_low_s16(xh), vget_low_s16(wh));
                        acc[3] = vmlal_high_s16(acc[3], xh, wh);
                    }
                }
                store16(y + ((long)oy * s->ow + ox) * c + cb, rq16(acc, &d->p, cb), n);
            }
}
#else
typedef int nbk_neon_unused;
#endif
