/* nibble runtime kernels: see nibble_runtime.h. Integer-only. */
/* The kernels' inner loops are written to vectorize; GCC at -O2 uses a cost model too cheap to
 * vectorize reductions, so ask for its -O3 loop optimizations here (other compilers ignore
 * this guarded pragma). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
#include "nibble_runtime.h"

/* On x86-64 Linux with GCC, the hot kernels are also compiled for AVX2 and AVX-512 and the best
 * version is picked at load time (function multi-versioning); elsewhere this is empty. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define NB_HOT __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NB_HOT
#endif

/* v >> s with floor semantics, without relying on implementation-defined shifts of negatives. */
static inline int64_t nb_shr(int64_t v, int s) {
    return v >= 0 ? (v >> s) : ~((~v) >> s);
}

static inline int32_t nb_shr32(int32_t v, int s) {
    return v >= 0 ? (v >> s) : ~((~v) >> s);
}

int64_t nb_floor_shift(int64_t v, int s) {
    return nb_shr(v, s);
}

/* The requantization's rounding for s >= 1: (v + 2^(s-1)) >> s with floor semantics, computed
 * as ((v >> (s-1)) + 1) >> 1, the same value (write v = q*2^(s-1) + r with 0 <= r < 2^(s-1):
 * both are (q + 1) >> 1), so that loops over it vectorize (no 64-bit shift of a constant by
 * a per-lane count). */
static inline int64_t nb_round_shift(int64_t v, int s) {
    return nb_shr(nb_shr(v, s - 1) + 1, 1);
}

/* The fused activation's fixed-point input: the accumulator rescaled by channel c's
 * multiplier/shift, no zero point, within ±2^20 (hard-swish and swish epilogues). */
static inline int64_t nb_epilogue_input(int64_t acc, int32_t multiplier, int s) {
    const int64_t v = nb_round_shift(acc * (int64_t)multiplier, s);
    const int64_t lim = (int64_t)1 << 20;
    return v < -lim ? -lim : (v > lim ? lim : v);
}

/* The Q15 sigmoid of v (units of 2^-12) from a 257-entry table over [-8, 8], interpolated (swish
 * epilogues, squeeze-excite gates). */
static inline int64_t nb_sigmoid_q15(const int32_t *t, int64_t v) {
    const int64_t u = (v < -32768 ? -32768 : (v > 32767 ? 32767 : v)) + 32768;
    const int j = (int)(u >> 8);
    return t[j] + ((((int64_t)t[j + 1] - t[j]) * (u & 255) + 128) >> 8);
}

int32_t nb_requant(int64_t acc, const nb_rq *rq, int channel) {
    const int c = rq->channels == 1 ? 0 : channel;
    const int neg = acc < 0 && rq->neg_multiplier;
    if (rq->swish) {
        const nb_swish *w = rq->swish;
        const int64_t v = nb_epilogue_input(acc, rq->multiplier[c], rq->shift[c]);
        const int64_t sig = nb_sigmoid_q15(w->table, v);
        int64_t y;
        y = rq->output_zp + nb_round_shift(v * sig * w->multiplier + w->bias, w->shift);
        if (y < rq->clamp_min) y = rq->clamp_min;
        if (y > rq->clamp_max) y = rq->clamp_max;
        return (int32_t)y;
    }
    if (rq->hswish) {
        const nb_hswish *h = rq->hswish;
        const int64_t v = nb_epilogue_input(acc, rq->multiplier[c], rq->shift[c]);
        const int hc = h->channels == 1 ? 0 : channel;
        int64_t t, y;
        t = v + h->three;
        if (t < 0) t = 0;
        if (t > h->six) t = h->six;
        y = rq->output_zp + nb_round_shift(v * t * h->multiplier[hc] + h->bias[hc], h->shift[hc]);
        if (y < rq->clamp_min) y = rq->clamp_min;
        if (y > rq->clamp_max) y = rq->clamp_max;
        return (int32_t)y;
    }
    const int shift = neg ? rq->neg_shift[c] : rq->shift[c];
    const int64_t m = neg ? rq->neg_multiplier[c] : rq->multiplier[c];
    int64_t v = nb_round_shift(acc * m, shift);
    v += rq->output_zp;
    if (v < rq->clamp_min) v = rq->clamp_min;
    if (v > rq->clamp_max) v = rq->clamp_max;
    return (int32_t)v;
}

/* Element i of an int8 or int16 activation. */
static inline int32_t nb_ld(const void *p, long i, int bits) {
    return bits == 16 ? ((const int16_t *)p)[i] : ((const int8_t *)p)[i];
}

/* Stores v (within the element type's range) as element i of an int8 or int16 activation. */
static inline void nb_st(void *p, long i, int bits, int32_t v) {
    if (bits == 16) ((int16_t *)p)[i] = (int16_t)v;
    else ((int8_t *)p)[i] = (int8_t)v;
}

/* Stores n values (already within the element type's range) as int8 or int16. */
static inline void nb_store_row(const int32_t *v, int n, void *out, int bits) {
    int o;
    if (bits == 16) {
        int16_t *y = (int16_t *)out;
        for (o = 0; o < n; o++) y[o] = (int16_t)v[o];
    } else {
        int8_t *y = (int8_t *)out;
        for (o = 0; o < n; o++) y[o] = (int8_t)v[o];
    }
}

/* Requantizes n accumulators of channels c0.. in place (each result within the clamp range):
 * nb_requant's arithmetic, with the parameters hoisted out of the loop so compilers can
 * vectorize each case. */
static inline void nb_requant_row(int32_t *acc, int n, const nb_rq *rq, int c0) {
    int32_t *out = acc;
    const int per = rq->channels != 1;
    const int64_t zp = rq->output_zp, lo = rq->clamp_min, hi = rq->clamp_max;
    /* This row's multipliers and shifts as arrays indexed by o (a per-tensor pair repeated), so
     * every loop below reads them the same way and vectorizes. */
    int32_t mbuf[NB_MAX_TILE_OC], sbuf[NB_MAX_TILE_OC];
    const int32_t *mul = mbuf, *sh = sbuf;
    int o;
    if (per) {
        mul = rq->multiplier + c0;
        sh = rq->shift + c0;
    } else {
        for (o = 0; o < n; o++) {
            mbuf[o] = rq->multiplier[0];
            sbuf[o] = rq->shift[0];
        }
    }
    if (rq->swish) {
        for (o = 0; o < n; o++) out[o] = nb_requant(acc[o], rq, c0 + o);
    } else if (rq->neg_multiplier) {
        /* PReLU: the negative side's multiplier and shift where the accumulator is negative. */
        for (o = 0; o < n; o++) {
            const int ch = per ? c0 + o : 0, neg = acc[o] < 0;
            const int s = neg ? rq->neg_shift[ch] : rq->shift[ch];
            const int64_t m = neg ? rq->neg_multiplier[ch] : rq->multiplier[ch];
            int64_t v = nb_round_shift(acc[o] * m, s) + zp;
            out[o] = (int32_t)(v < lo ? lo : (v > hi ? hi : v));
        }
    } else if (rq->hswish) {
        const nb_hswish *h = rq->hswish;
        const int64_t three = h->three, six = h->six;
        const int hper = h->channels != 1;
        for (o = 0; o < n; o++) {
            const int64_t v = nb_epilogue_input(acc[o], mul[o], sh[o]);
            const int hc = hper ? c0 + o : 0;
            int64_t t, y;
            t = v + three;
            t = t < 0 ? 0 : (t > six ? six : t);
            y = zp + nb_round_shift(v * t * h->multiplier[hc] + h->bias[hc], h->shift[hc]);
            out[o] = (int32_t)(y < lo ? lo : (y > hi ? hi : y));
        }
    } else {
        for (o = 0; o < n; o++) {
            int64_t v = nb_round_shift(acc[o] * (int64_t)mul[o], sh[o]) + zp;
            out[o] = (int32_t)(v < lo ? lo : (v > hi ? hi : v));
        }
    }
}

#define NB_PIX 4
#define NB_SMALL_K 32
#define NB_SMALL_OC 1024

/* acc[j][o] = bias[c0 + o] + sum over kk < k of rows[j][kk] * wt[c0 + o][kk], for the NB_PIX
 * int16 rows (those from np on are zero) and n output channels: each weight row is read once
 * for all rows (NB_PIX dot products in one loop, which compilers vectorize: sign-extend,
 * multiply-add); a single row skips the padding rows. Sums are exact in int32. */
static inline void nb_dot_rows(int16_t rows[NB_PIX][NB_MAX_PATCH], int np, const int8_t *wt, int k,
                               const int32_t *bias, int c0, int n,
                               int32_t acc[NB_PIX][NB_MAX_TILE_OC]) {
    int o, kk;
    for (o = 0; o < n; o++) {
        const int8_t *wr = wt + (long)(c0 + o) * k;
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        if (np == 1) {
            for (kk = 0; kk < k; kk++) a0 += rows[0][kk] * (int32_t)wr[kk];
        } else {
            for (kk = 0; kk < k; kk++) {
                const int32_t wv = wr[kk];
                a0 += rows[0][kk] * wv;
                a1 += rows[1][kk] * wv;
                a2 += rows[2][kk] * wv;
                a3 += rows[3][kk] * wv;
            }
        }
        acc[0][o] = bias[c0 + o] + a0;
        acc[1][o] = bias[c0 + o] + a1;
        acc[2][o] = bias[c0 + o] + a2;
        acc[3][o] = bias[c0 + o] + a3;
    }
}

NB_HOT void nb_conv2d(const void *x, int x_bits, int h, int w, int c, const int8_t *wt, int oc, int kh,
               int kw, const int32_t *bias, void *y, int y_bits, int oh, int ow, const int pad[4],
               const int stride[2], const int dil[2], const nb_rq *rq, int tile_rows, int tile_oc) {
    /* NB_PIX output pixels at a time: their receptive fields are gathered into int16 patches
     * with the zero point removed (taps outside the input are 0), then each output channel's
     * weight row (OHWI: [OC][KH*KW*C]) is read once for all of them — NB_PIX dot products in
     * one loop, which compilers vectorize (sign-extend, multiply-add). Sums are exact in int32,
     * so the order does not change the result. 16-bit inputs (no zero point) are copied. */
    static int16_t patch[NB_PIX][NB_MAX_PATCH];
    int32_t acc[NB_PIX][NB_MAX_TILE_OC];
    const int k = kh * kw * c;
    const int32_t zp = rq->input_zp;
    const int ybytes = y_bits >> 3;
    /* At most NB_SMALL_K taps: the weights transposed to [K][OC] int16 once per call. */
    static int16_t wtr[NB_SMALL_K * NB_SMALL_OC];
    const int small = k <= NB_SMALL_K && oc <= NB_SMALL_OC;
    int r0, c0, o, ky, kx, i, kk, j;
    if (small)
        for (o = 0; o < oc; o++)
            for (kk = 0; kk < k; kk++) wtr[(long)kk * oc + o] = wt[(long)o * k + kk];
    for (r0 = 0; r0 < oh; r0 += tile_rows) {
        const int r1 = r0 + tile_rows < oh ? r0 + tile_rows : oh;
        int oy = r0, ox = 0;
        while (oy < r1) {
            char *out[NB_PIX];
            int np = 0;
            /* The next (up to) NB_PIX pixels of this row tile, in row-major order. */
            for (np = 0; np < NB_PIX && oy < r1; np++) {
                int16_t *dst = patch[np];
                out[np] = (char *)y + ((long)oy * ow + ox) * oc * ybytes;
                for (ky = 0; ky < kh; ky++) {
                    const int iy = oy * stride[0] - pad[0] + ky * dil[0];
                    for (kx = 0; kx < kw; kx++, dst += c) {
                        const int ix = ox * stride[1] - pad[2] + kx * dil[1];
                        if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                            for (i = 0; i < c; i++) dst[i] = 0;
                        } else if (x_bits == 16) {
                            const int16_t *src = (const int16_t *)x + ((long)iy * w + ix) * c;
                            for (i = 0; i < c; i++) dst[i] = src[i];
                        } else {
                            const int8_t *src = (const int8_t *)x + ((long)iy * w + ix) * c;
                            for (i = 0; i < c; i++) dst[i] = (int16_t)(src[i] - zp);
                        }
                    }
                }
                if (++ox == ow) {
                    ox = 0;
                    oy++;
                }
            }
            for (j = np; j < NB_PIX; j++)
                for (kk = 0; kk < k; kk++) patch[j][kk] = 0;
            for (c0 = 0; c0 < oc; c0 += tile_oc) {
                const int n = (c0 + tile_oc < oc ? c0 + tile_oc : oc) - c0;
                if (small) {
                    /* Few taps: vectorize over output channels instead (no reductions). */
                    for (j = 0; j < NB_PIX; j++)
                        for (o = 0; o < n; o++) acc[j][o] = bias[c0 + o];
                    for (kk = 0; kk < k; kk++) {
                        const int16_t *wk = wtr + (long)kk * oc + c0;
                        const int32_t x0 = patch[0][kk], x1 = patch[1][kk], x2 = patch[2][kk],
                                      x3 = patch[3][kk];
                        for (o = 0; o < n; o++) {
                            const int32_t wv = wk[o];
                            acc[0][o] += x0 * wv;
                            acc[1][o] += x1 * wv;
                            acc[2][o] += x2 * wv;
                            acc[3][o] += x3 * wv;
                        }
                    }
                } else {
                    nb_dot_rows(patch, np, wt, k, bias, c0, n, acc);
                }
                for (j = 0; j < np; j++) {
                    nb_requant_row(acc[j], n, rq, c0);
                    nb_store_row(acc[j], n, out[j] + (long)c0 * ybytes, y_bits);
                }
            }
        }
    }
}

NB_HOT void nb_depthwise_conv2d(const void *x, int x_bits, int h, int w, int c, const int8_t *wt, int kh,
                         int kw, const int32_t *bias, void *y, int y_bits, int oh, int ow,
                         const int pad[4], const int stride[2], const int dil[2], const nb_rq *rq) {
    int32_t acc[NB_MAX_TILE_OC];
    const int32_t zp = rq->input_zp;
    int oy, ox, ky, kx, ch, c0;
    for (oy = 0; oy < oh; oy++) {
        for (ox = 0; ox < ow; ox++) {
            const long out = ((long)oy * ow + ox) * c;
            for (c0 = 0; c0 < c; c0 += NB_MAX_TILE_OC) {
                int n = c - c0 < NB_MAX_TILE_OC ? c - c0 : NB_MAX_TILE_OC;
                for (ch = 0; ch < n; ch++) acc[ch] = bias[c0 + ch];
                for (ky = 0; ky < kh; ky++) {
                    int iy = oy * stride[0] - pad[0] + ky * dil[0];
                    if (iy < 0 || iy >= h) continue;
                    for (kx = 0; kx < kw; kx++) {
                        int ix = ox * stride[1] - pad[2] + kx * dil[1];
                        const long at = ((long)iy * w + ix) * c + c0;
                        const int8_t *wv;
                        if (ix < 0 || ix >= w) continue;
                        wv = wt + ((long)ky * kw + kx) * c + c0;
                        if (x_bits == 16) {
                            const int16_t *xv = (const int16_t *)x + at;
                            for (ch = 0; ch < n; ch++) acc[ch] += (int32_t)xv[ch] * (int32_t)wv[ch];
                        } else {
                            /* |(x - zp) * w| <= 255 * 127 fits int16: multiply in 16-bit lanes. */
                            const int8_t *xv = (const int8_t *)x + at;
                            for (ch = 0; ch < n; ch++)
                                acc[ch] += (int16_t)((int16_t)(xv[ch] - zp) * (int16_t)wv[ch]);
                        }
                    }
                }
                nb_requant_row(acc, n, rq, c0);
                nb_store_row(acc, n, (char *)y + (out + c0) * (y_bits >> 3), y_bits);
            }
        }
    }
}

NB_HOT void nb_fully_connected(const void *x, int x_bits, int n, int k, const int8_t *wt, int m,
                        const int32_t *bias, void *y, int y_bits, const nb_rq *rq, int tile_oc) {
    /* Output channels in tiles (their weight rows stay in cache), input rows in blocks of
     * NB_PIX: the block's rows, zero point removed, as int16 (like the conv's patches); each
     * weight row is read once per block for NB_PIX dot products in one loop, and each row's
     * tile of accumulators is requantized at once. Sums are exact in int32. */
    static int16_t rows[NB_PIX][NB_MAX_PATCH];
    int32_t acc[NB_PIX][NB_MAX_TILE_OC];
    const int32_t zp = rq->input_zp;
    const int ybytes = y_bits >> 3, tile = tile_oc < NB_MAX_TILE_OC ? tile_oc : NB_MAX_TILE_OC;
    int r0, c0, j, kk;
    for (c0 = 0; c0 < m; c0 += tile) {
        const int cnt = (c0 + tile < m ? c0 + tile : m) - c0;
        for (r0 = 0; r0 < n; r0 += NB_PIX) {
            const int np = n - r0 < NB_PIX ? n - r0 : NB_PIX;
            for (j = 0; j < NB_PIX; j++) {
                int16_t *dst = rows[j];
                if (j >= np) {
                    for (kk = 0; kk < k; kk++) dst[kk] = 0;
                } else if (x_bits == 16) {
                    const int16_t *src = (const int16_t *)x + (long)(r0 + j) * k;
                    for (kk = 0; kk < k; kk++) dst[kk] = src[kk];
                } else {
                    const int8_t *src = (const int8_t *)x + (long)(r0 + j) * k;
                    for (kk = 0; kk < k; kk++) dst[kk] = (int16_t)(src[kk] - zp);
                }
            }
            nb_dot_rows(rows, np, wt, k, bias, c0, cnt, acc);
            for (j = 0; j < np; j++) {
                nb_requant_row(acc[j], cnt, rq, c0);
                nb_store_row(acc[j], cnt, (char *)y + ((long)(r0 + j) * m + c0) * ybytes, y_bits);
            }
        }
    }
}

void nb_requant_tensor(const void *x, int x_bits, int n, void *y, int y_bits, const nb_rq *rq) {
    int i, c = 0;
    for (i = 0; i < n; i++) {
        nb_st(y, i, y_bits, nb_requant((int64_t)nb_ld(x, i, x_bits) - rq->input_zp, rq, c));
        if (++c == rq->channels) c = 0;
    }
}

void nb_lut_s8(const int8_t *x, int n, int8_t *y, const int8_t table[256]) {
    int i;
    for (i = 0; i < n; i++) y[i] = table[x[i] + 128];
}

void nb_clamp(const void *x, int bits, int n, void *y, int lo, int hi) {
    int i;
    for (i = 0; i < n; i++) {
        const int32_t v = nb_ld(x, i, bits);
        nb_st(y, i, bits, v < lo ? lo : (v > hi ? hi : v));
    }
}

NB_HOT void nb_max_pool2d_s8(const int8_t *x, int h, int w, int c, int8_t *y, int oh, int ow,
                             const int kernel[2], const int stride[2], const int pad[4]) {
    int oy, ox, ch, ky, kx;
    for (oy = 0; oy < oh; oy++) {
        for (ox = 0; ox < ow; ox++) {
            int8_t *o = y + ((long)oy * ow + ox) * c;
            for (ch = 0; ch < c; ch++) o[ch] = -128;
            for (ky = 0; ky < kernel[0]; ky++) {
                int iy = oy * stride[0] - pad[0] + ky;
                if (iy < 0 || iy >= h) continue;
                for (kx = 0; kx < kernel[1]; kx++) {
                    int ix = ox * stride[1] - pad[2] + kx;
                    const int8_t *xv;
                    if (ix < 0 || ix >= w) continue;
                    xv = x + ((long)iy * w + ix) * c;
                    for (ch = 0; ch < c; ch++) o[ch] = xv[ch] > o[ch] ? xv[ch] : o[ch];
                }
            }
        }
    }
}

void nb_transpose_s8(const int8_t *x, int rank, const int *shape, const int *perms, int8_t *y) {
    long in_strides[6], strides[6], total = 1;
    int idx[6], out_shape[6], k;
    long n;
    in_strides[rank - 1] = 1;
    for (k = rank - 2; k >= 0; k--) in_strides[k] = in_strides[k + 1] * shape[k + 1];
    for (k = 0; k < rank; k++) {
        out_shape[k] = shape[perms[k]];
        strides[k] = in_strides[perms[k]];
        idx[k] = 0;
        total *= shape[k];
    }
    for (n = 0; n < total; n++) {
        long off = 0;
        for (k = 0; k < rank; k++) off += idx[k] * strides[k];
        y[n] = x[off];
        for (k = rank - 1; k >= 0; k--) {
            if (++idx[k] < out_shape[k]) break;
            idx[k] = 0;
        }
    }
}

/* Packed weights (docs/dialects/tile.md): n values, lowest bits first. 4- and 2-bit fields are
 * two's complement; a binary bit is +1 when set, -1 when clear. */
void nb_unpack_s4(const uint8_t *src, int n, int8_t *dst) {
    int i;
    for (i = 0; i < n; i++) {
        int v = (src[i >> 1] >> ((i & 1) * 4)) & 15;
        dst[i] = (int8_t)(v - ((v & 8) << 1));
    }
}

void nb_unpack_s2(const uint8_t *src, int n, int8_t *dst) {
    int i;
    for (i = 0; i < n; i++) {
        int v = (src[i >> 2] >> ((i & 3) * 2)) & 3;
        dst[i] = (int8_t)(v - ((v & 2) << 1));
    }
}

void nb_unpack_b1(const uint8_t *src, int n, int8_t *dst) {
    int i;
    for (i = 0; i < n; i++) dst[i] = (int8_t)(((src[i >> 3] >> (i & 7)) & 1) * 2 - 1);
}

void nb_copy_s8(const int8_t *x, int n, int8_t *y) {
    int i;
    for (i = 0; i < n; i++) y[i] = x[i];
}

static int8_t nb_sat8(int64_t v, int32_t lo, int32_t hi) {
    return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

NB_HOT void nb_avg_pool2d_s8(const int8_t *x, int h, int w, int c, int8_t *y, int oh, int ow,
                      const int kernel[2], const int stride[2], const int pad[4], const nb_rq *rq) {
    int32_t acc[NB_MAX_TILE_OC];
    const int32_t zp = rq->input_zp;
    int oy, ox, ky, kx, ch, c0;
    for (oy = 0; oy < oh; oy++) {
        for (ox = 0; ox < ow; ox++) {
            int8_t *out = y + ((long)oy * ow + ox) * c;
            for (c0 = 0; c0 < c; c0 += NB_MAX_TILE_OC) {
                int n = c - c0 < NB_MAX_TILE_OC ? c - c0 : NB_MAX_TILE_OC, taps = 0;
                for (ch = 0; ch < n; ch++) acc[ch] = 0;
                for (ky = 0; ky < kernel[0]; ky++) {
                    int iy = oy * stride[0] - pad[0] + ky;
                    if (iy < 0 || iy >= h) continue;
                    for (kx = 0; kx < kernel[1]; kx++) {
                        int ix = ox * stride[1] - pad[2] + kx;
                        const int8_t *xv;
                        if (ix < 0 || ix >= w) continue;
                        taps++;
                        xv = x + ((long)iy * w + ix) * c + c0;
                        for (ch = 0; ch < n; ch++) acc[ch] += (int32_t)xv[ch] - zp;
                    }
                }
                {
                    const int j = rq->channels == 1 ? 0 : (taps > 0 ? taps - 1 : 0);
                    for (ch = 0; ch < n; ch++) out[c0 + ch] = (int8_t)nb_requant(acc[ch], rq, j);
                }
            }
        }
    }
}

void nb_avg_pool2d_wide_s8(const int8_t *x, int h, int w, int c, int8_t *y, int oh, int ow,
                           const int kernel[2], const int stride[2], const int pad[4],
                           const nb_rq *rq) {
    const int32_t zp = rq->input_zp;
    int oy, ox, ky, kx, ch;
    for (oy = 0; oy < oh; oy++) {
        for (ox = 0; ox < ow; ox++) {
            int8_t *out = y + ((long)oy * ow + ox) * c;
            for (ch = 0; ch < c; ch++) {
                int64_t acc = 0;
                long taps = 0;
                for (ky = 0; ky < kernel[0]; ky++) {
                    int iy = oy * stride[0] - pad[0] + ky;
                    if (iy < 0 || iy >= h) continue;
                    for (kx = 0; kx < kernel[1]; kx++) {
                        int ix = ox * stride[1] - pad[2] + kx;
                        if (ix < 0 || ix >= w) continue;
                        taps++;
                        acc += (int32_t)x[((long)iy * w + ix) * c + ch] - zp;
                    }
                }
                {
                    const int j = rq->channels == 1 ? 0 : (taps > 0 ? (int)taps - 1 : 0);
                    out[ch] = (int8_t)nb_requant(acc, rq, j);
                }
            }
        }
    }
}

/* Strides of a broadcast operand over out_shape (0 along its size-1 dimensions). */
static void nb_broadcast_strides(int rank, const int *shape, const int *out_shape, long *st) {
    long acc = 1;
    int k;
    for (k = rank - 1; k >= 0; k--) {
        st[k] = shape[k] == 1 && out_shape[k] != 1 ? 0 : acc;
        acc *= shape[k];
    }
}

static void nb_elementwise(const void *a, int a_bits, const int *a_shape, const void *b,
                           int b_bits, const int *b_shape, void *y, int y_bits, int rank,
                           const int *out_shape, const nb_binary *p, int is_mul) {
    long sa[6], sb[6], outer = 1, o, ia = 0, ib = 0;
    int idx[6], k, i;
    const int last = rank > 0 ? out_shape[rank - 1] : 1;
    const int64_t round = (int64_t)1 << (p->shift - 1);
    nb_broadcast_strides(rank, a_shape, out_shape, sa);
    nb_broadcast_strides(rank, b_shape, out_shape, sb);
    for (k = 0; k + 1 < rank; k++) {
        outer *= out_shape[k];
        idx[k] = 0;
    }
    for (o = 0; o < outer; o++) {
        const long la = rank > 0 ? sa[rank - 1] : 0, lb = rank > 0 ? sb[rank - 1] : 0;
        int32_t row[256];
        int i0;
        /* The row in chunks of 256: computed in int32, then stored as int8 or int16. */
        for (i0 = 0; i0 < last; i0 += 256) {
            const int n = last - i0 < 256 ? last - i0 : 256;
            for (i = 0; i < n; i++) {
                const int64_t va = (int64_t)nb_ld(a, ia + (i0 + i) * la, a_bits) - p->a_zp;
                const int64_t vb = (int64_t)nb_ld(b, ib + (i0 + i) * lb, b_bits) - p->b_zp;
                const int64_t v = is_mul ? nb_floor_shift(va * vb * p->a_multiplier + round, p->shift)
                                         : nb_floor_shift(va * p->a_multiplier + vb * p->b_multiplier + round, p->shift);
                const int64_t t = p->output_zp + v;
                row[i] = (int32_t)(t < p->clamp_min ? p->clamp_min : (t > p->clamp_max ? p->clamp_max : t));
            }
            nb_store_row(row, n, (char *)y + (o * last + i0) * (y_bits >> 3), y_bits);
        }
        for (k = rank - 2; k >= 0; k--) {
            idx[k]++;
            ia += sa[k];
            ib += sb[k];
            if (idx[k] < out_shape[k]) break;
            ia -= sa[k] * out_shape[k];
            ib -= sb[k] * out_shape[k];
            idx[k] = 0;
        }
    }
}

void nb_add(const void *a, int a_bits, const int *a_shape, const void *b, int b_bits,
            const int *b_shape, void *y, int y_bits, int rank, const int *out_shape,
            const nb_binary *p) {
    nb_elementwise(a, a_bits, a_shape, b, b_bits, b_shape, y, y_bits, rank, out_shape, p, 0);
}

void nb_mul(const void *a, int a_bits, const int *a_shape, const void *b, int b_bits,
            const int *b_shape, void *y, int y_bits, int rank, const int *out_shape,
            const nb_binary *p) {
    nb_elementwise(a, a_bits, a_shape, b, b_bits, b_shape, y, y_bits, rank, out_shape, p, 1);
}

/* floor(2^k / s), s > 0, k <= 62: restoring division, one shift/compare/subtract per bit. */
static int64_t nb_reciprocal(int64_t s, int k) {
    int64_t q = 0, rem = 0;
    int i;
    for (i = k; i >= 0; i--) {
        rem = (rem << 1) | (i == k ? 1 : 0);
        q <<= 1;
        if (rem >= s) {
            rem -= s;
            q |= 1;
        }
    }
    return q;
}

/* Softmax over rows: the exps are exp_table[x - max + 255] (256 possible values per row), so
 * a row longer than 256 first maps each of the 256 indices to its output byte (the same
 * arithmetic, once per value), then looks its elements up. */
NB_HOT void nb_softmax_s8(const int8_t *x, int rows, int c, int8_t *y, const int32_t exp_table[256],
                   int frac_bits, int32_t output_zp, int32_t clamp_min, int32_t clamp_max) {
    int8_t lut[256];
    int r, i;
    for (r = 0; r < rows; r++) {
        const int8_t *xr = x + (long)r * c;
        int8_t *yr = y + (long)r * c;
        int32_t m = -128;
        int64_t sum = 0, rcp;
        int bits = 0, k, sh;
        for (i = 0; i < c; i++) if (xr[i] > m) m = xr[i];
        for (i = 0; i < c; i++) sum += exp_table[xr[i] - m + 255];
        if (sum < 1) sum = 1;
        while ((sum >> bits) != 0) bits++;
        k = 30 + bits;
        rcp = nb_reciprocal(sum, k);
        sh = k - frac_bits;
        if (c > 256) {
            /* index d = x - m + 255 is in [255 - (m + 128), 255] */
            for (i = 255 - (m + 128); i < 256; i++)
                lut[i] = nb_sat8(output_zp + nb_round_shift((int64_t)exp_table[i] * rcp, sh),
                                 clamp_min, clamp_max);
            for (i = 0; i < c; i++) yr[i] = lut[xr[i] - m + 255];
            continue;
        }
        for (i = 0; i < c; i++) {
            int64_t v = nb_round_shift((int64_t)exp_table[xr[i] - m + 255] * rcp, sh);
            yr[i] = nb_sat8(output_zp + v, clamp_min, clamp_max);
        }
    }
}

void nb_slice_s8(const int8_t *x, int rank, const int *shape, const int *start,
                 const int *out_shape, int8_t *y) {
    long strides[6], total = 1, n;
    int idx[6], k;
    strides[rank - 1] = 1;
    for (k = rank - 2; k >= 0; k--) strides[k] = strides[k + 1] * shape[k + 1];
    for (k = 0; k < rank; k++) {
        idx[k] = 0;
        total *= out_shape[k];
    }
    for (n = 0; n < total; n++) {
        long off = 0;
        for (k = 0; k < rank; k++) off += (long)(idx[k] + start[k]) * strides[k];
        y[n] = x[off];
        for (k = rank - 1; k >= 0; k--) {
            if (++idx[k] < out_shape[k]) break;
            idx[k] = 0;
        }
    }
}

void nb_concat_part_s8(const int8_t *x, int outer, int chunk, int8_t *y, int out_chunk, int at) {
    int o;
    for (o = 0; o < outer; o++) nb_copy_s8(x + (long)o * chunk, chunk, y + (long)o * out_chunk + at);
}

/* Rows of y are accumulated along k with row i of a as scalars and rows of b as vectors
 * (contiguous j: the loop vectorizes), then requantized as a row, when the requantization is
 * per tensor (then nb_requant_row's channel index does not matter); else element by element. */
NB_HOT void nb_matmul_s8(const int8_t *a, const int8_t *b, int batch, int n, int k, int m,
                         int32_t b_zp, int8_t *y, const nb_rq *rq) {
    int32_t acc[NB_MAX_TILE_OC];
    int t, i, j, kk, j0;
    const int rowwise = rq->channels == 1 && (!rq->hswish || rq->hswish->channels == 1);
    for (t = 0; t < batch; t++) {
        const int8_t *at = a + (long)t * n * k, *bt = b + (long)t * k * m;
        int8_t *yt = y + (long)t * n * m;
        for (i = 0; i < n; i++) {
            if (rowwise) {
                for (j0 = 0; j0 < m; j0 += NB_MAX_TILE_OC) {
                    const int w = m - j0 < NB_MAX_TILE_OC ? m - j0 : NB_MAX_TILE_OC;
                    for (j = 0; j < w; j++) acc[j] = 0;
                    for (kk = 0; kk < k; kk++) {
                        const int32_t av = (int32_t)at[(long)i * k + kk] - rq->input_zp;
                        const int8_t *br = bt + (long)kk * m + j0;
                        for (j = 0; j < w; j++) acc[j] += av * ((int32_t)br[j] - b_zp);
                    }
                    nb_requant_row(acc, w, rq, 0);
                    for (j = 0; j < w; j++) yt[(long)i * m + j0 + j] = (int8_t)acc[j];
                }
                continue;
            }
            for (j = 0; j < m; j++) {
                int32_t sum = 0;
                for (kk = 0; kk < k; kk++)
                    sum += ((int32_t)at[(long)i * k + kk] - rq->input_zp) * ((int32_t)bt[(long)kk * m + j] - b_zp);
                yt[(long)i * m + j] = (int8_t)nb_requant(sum, rq, 0);
            }
        }
    }
}

/* floor(sqrt(v)) bit by bit: shifts, compares and subtractions. */
static uint64_t nb_isqrt(uint64_t v) {
    uint64_t x = v, r = 0, bit = (uint64_t)1 << 62;
    while (bit > v) bit >>= 2;
    while (bit != 0) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return r;
}

void nb_layer_norm_rows(const void *x, int x_bits, int rows, int c, int8_t *y, const nb_layer_norm *p) {
    static int64_t cs[4096];
    int r, i;
    for (r = 0; r < rows; r++) {
        const long r0 = (long)r * c;
        int8_t *yr = y + (long)r * c;
        int64_t sum = 0, rt, inv;
        uint64_t q = (uint64_t)(p->eps_term > 0 ? p->eps_term : 0);
        for (i = 0; i < c; i++) sum += (int64_t)nb_ld(x, r0 + i, x_bits) - p->input_zp;
        for (i = 0; i < c; i++) {
            cs[i] = (int64_t)c * ((int64_t)nb_ld(x, r0 + i, x_bits) - p->input_zp) - sum;
            q += (uint64_t)(cs[i] * cs[i]);
        }
        rt = (int64_t)nb_isqrt(q);
        if (rt < 1) rt = 1;
        inv = nb_reciprocal(rt, 46);
        for (i = 0; i < c; i++) {
            const int64_t t = nb_floor_shift(cs[i] * inv + ((int64_t)1 << 15), 16);
            const int s = p->shift[i];
            const int64_t v = nb_round_shift(t * p->multiplier[i] + p->bias[i], s);
            yr[i] = nb_sat8(p->output_zp + v, p->clamp_min, p->clamp_max);
        }
    }
}

void nb_resize_s8(const int8_t *x, int w, int c, int8_t *y, int oh, int ow, const int32_t *ry,
                  const int32_t *rx, int ny, int nx, int bilinear, const nb_rq *rq) {
    const int32_t zp = rq->input_zp;
    int oy, ox, ch;
    for (oy = 0; oy < oh; oy++) {
        const int32_t y0 = ry[3 * oy], y1 = ry[3 * oy + 1], fy = ry[3 * oy + 2];
        for (ox = 0; ox < ow; ox++) {
            const int32_t x0 = rx[3 * ox], x1 = rx[3 * ox + 1], fx = rx[3 * ox + 2];
            const int8_t *a = x + ((long)y0 * w + x0) * c, *b = x + ((long)y0 * w + x1) * c;
            const int8_t *cc = x + ((long)y1 * w + x0) * c, *d = x + ((long)y1 * w + x1) * c;
            int8_t *out = y + ((long)oy * ow + ox) * c;
            if (!bilinear) {
                for (ch = 0; ch < c; ch++) out[ch] = a[ch];
                continue;
            }
            for (ch = 0; ch < c; ch++) {
                const int64_t top = (int64_t)(a[ch] - zp) * (nx - fx) + (int64_t)(b[ch] - zp) * fx;
                const int64_t bottom = (int64_t)(cc[ch] - zp) * (nx - fx) + (int64_t)(d[ch] - zp) * fx;
                out[ch] = (int8_t)nb_requant(top * (ny - fy) + bottom * fy, rq, 0);
            }
        }
    }
}

void nb_transpose_conv2d_s8(const int8_t *x, int w, int ic, const int8_t *wt, int oc, int kh,
                            int kw, const int32_t *bias, int8_t *y, int oh, int ow,
                            const int32_t *ty_start, const int32_t *ty_taps,
                            const int32_t *tx_start, const int32_t *tx_taps, const nb_rq *rq) {
    const int32_t zp = rq->input_zp;
    int oy, ox, o, a, b, i;
    for (oy = 0; oy < oh; oy++) {
        for (ox = 0; ox < ow; ox++) {
            int8_t *out = y + ((long)oy * ow + ox) * oc;
            for (o = 0; o < oc; o++) {
                int32_t acc = bias[o];
                for (a = ty_start[oy]; a < ty_start[oy + 1]; a++) {
                    const int ky = ty_taps[2 * a], iy = ty_taps[2 * a + 1];
                    for (b = tx_start[ox]; b < tx_start[ox + 1]; b++) {
                        const int kx = tx_taps[2 * b], ix = tx_taps[2 * b + 1];
                        const int8_t *xv = x + ((long)iy * w + ix) * ic;
                        const int8_t *wv = wt + (((long)o * kh + ky) * kw + kx) * ic;
                        for (i = 0; i < ic; i++) acc += ((int32_t)xv[i] - zp) * wv[i];
                    }
                }
                out[o] = (int8_t)nb_requant(acc, rq, o);
            }
        }
    }
}

/* The squeeze-excite output pass in 32-bit lanes: y = sat(zp_out + round_shift((x - zp_in) *
 * gate * multiplier, shift)) with the product formed as ((x - zp_in) * gate) * multiplier:
 * |x - zp_in| <= 255 and |gate| <= 2^15 make the first factor an exact int32 (< 2^23), the
 * 64-bit product stays below 2^54, and for shift s in [33, 62] the rounding term 2^(s-1) is a
 * multiple of 2^32, so (P + 2^(s-1)) >> s = ((P >> 32) + 2^(s-33)) >> (s-32) (arithmetic
 * shifts, i.e. floor division): only the product's high word is needed (exactly the 64-bit
 * path's value). */
static inline void nb_se_scale32(const int8_t *x, int hw, int c, const int32_t *gate, int8_t *y,
                                 const nb_squeeze_excite *p) {
    const int32_t zp = p->input_zp, mult = p->multiplier, sh = p->shift - 32;
    const int32_t rnd = (int32_t)1 << (p->shift - 33), out_zp = p->output_zp;
    const int32_t lo = p->clamp_min - out_zp, hi = p->clamp_max - out_zp;
    long i, n = (long)hw * c;
    int k;
    /* rows of c channels; the gate of element k of a row is gate[k] */
    for (i = 0; i < n; i += c) {
        const int8_t *row = x + i;
        int8_t *out = y + i;
        for (k = 0; k < c; k++) {
            const int32_t dg = (row[k] - zp) * gate[k];
            const int32_t hi32 = (int32_t)nb_shr((int64_t)dg * mult, 32);
            int32_t v = nb_shr32(hi32 + rnd, sh);
            v = v < lo ? lo : (v > hi ? hi : v);
            out[k] = (int8_t)(v + out_zp);
        }
    }
}

NB_HOT void nb_squeeze_excite_s8(const int8_t *x, int hw, int c, int cm, const int8_t *w1,
                                 const int32_t *b1, const int8_t *w2, const int32_t *b2,
                                 int8_t *y, const nb_squeeze_excite *p) {
    /* Channel sums in int32 (|sum| <= 255 * hw), the rest in 64 bits; the output pass reads one
     * 64-bit factor gate * multiplier per channel (the same product, one multiply), or the
     * 32-bit gate itself on the fast path (nb_se_scale32). */
    static int32_t sums[4096], gate[4096];
    static int64_t pooled[4096], hidden[4096], factor[4096];
    int i, k, m, fast = p->shift >= 33 && p->shift <= 62 && p->input_zp >= -128 && p->input_zp <= 127;
    for (k = 0; k < c; k++) sums[k] = 0;
    for (i = 0; i < hw; i++) {
        const int8_t *row = x + (long)i * c;
        for (k = 0; k < c; k++) sums[k] += row[k];
    }
    for (k = 0; k < c; k++)
        pooled[k] = nb_round_shift(((int64_t)sums[k] - (int64_t)hw * p->input_zp) * p->pool_multiplier,
                                   p->pool_shift);
    for (m = 0; m < cm; m++) {
        int64_t a = b1[m], h;
        for (k = 0; k < c; k++) a += (int64_t)w1[(long)m * c + k] * pooled[k];
        h = nb_round_shift(a * p->hidden_multiplier[m], p->hidden_shift[m]);
        if (p->hidden_table)
            hidden[m] = nb_round_shift(h * nb_sigmoid_q15(p->hidden_table, h), p->hidden_out_shift);
        else
            hidden[m] = h < 0 ? 0 : (h > p->hidden_max ? p->hidden_max : h);
    }
    for (k = 0; k < c; k++) {
        int64_t z = b2[k], g;
        for (m = 0; m < cm; m++) z += (int64_t)w2[(long)k * cm + m] * hidden[m];
        g = nb_round_shift(z * p->gate_multiplier[k], p->gate_shift[k]);
        if (p->gate_table) {
            g = nb_sigmoid_q15(p->gate_table, g);
        } else {
            g = g < 0 ? 0 : (g > 32768 ? 32768 : g);
        }
        factor[k] = g * p->multiplier;
        gate[k] = (int32_t)g;
        fast &= g >= -32768 && g <= 32768;
    }
    if (fast) {
        nb_se_scale32(x, hw, c, gate, y, p);
        return;
    }
    for (i = 0; i < hw; i++) {
        const int8_t *row = x + (long)i * c;
        int8_t *out = y + (long)i * c;
        for (k = 0; k < c; k++) {
            const int64_t v = nb_round_shift(((int64_t)row[k] - p->input_zp) * factor[k], p->shift);
            out[k] = nb_sat8(p->output_zp + v, p->clamp_min, p->clamp_max);
        }
    }
}
