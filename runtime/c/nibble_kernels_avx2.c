/* AVX2 kernels (x86-64 without AVX-512 VNNI): exact int16 multiply-adds (vpmaddwd), the same
 * packed weights as VNNI: a 16-byte chunk of a block is 4 channels x 4 k, sign-extended to 16
 * int16, multiplied against the row's 4 k values (int16, broadcast as 64 bits): each channel
 * gets two partial sums (k0k1, k2k3), added pairwise by vphaddd in the epilogue. */
#include "nibble_kernels_internal.h"
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define TGT __attribute__((target("avx2")))
#define KI static inline __attribute__((always_inline)) TGT

KI int64_t ld64(const void *p) {
    int64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* floor(v / 2^s) per int64 lane: logical shifts of v's one's complement where v < 0. */
KI __m256i sra64(__m256i v, __m256i s) {
    const __m256i sgn = _mm256_cmpgt_epi64(_mm256_setzero_si256(), v);
    return _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(v, sgn), s), sgn);
}
KI __m256i clamp64(__m256i v, __m256i lo, __m256i hi) {
    v = _mm256_blendv_epi8(v, lo, _mm256_cmpgt_epi64(lo, v));
    return _mm256_blendv_epi8(v, hi, _mm256_cmpgt_epi64(v, hi));
}
/* Low 64 bits of a * b (exact when the true product fits, as in the scalar code). */
KI __m256i mullo64(__m256i a, __m256i b) {
    const __m256i ll = _mm256_mul_epu32(a, b);
    const __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), b),
                                           _mm256_mul_epu32(a, _mm256_srli_epi64(b, 32)));
    return _mm256_add_epi64(ll, _mm256_slli_epi64(cross, 32));
}

/* Four accumulators of channels c..c+3 -> four int64 results within [lo, hi]. */
KI __m256i rq4(__m128i acc4, const nbk_packed *p, int c) {
    const __m256i a = _mm256_cvtepi32_epi64(acc4), one = _mm256_set1_epi64x(1);
    __m256i m = _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(p->mult + c)));
    __m256i s = _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(p->shift + c)));
    __m256i v;
    if (p->mode == NBK_SWISH) { /* swish: scalar */
        int32_t av[4];
        int64_t r[4];
        int i;
        _mm_storeu_si128((__m128i *)av, acc4);
        for (i = 0; i < 4; i++) r[i] = nbk_requant1(av[i], p, c + i);
        return _mm256_loadu_si256((const __m256i *)r);
    }
    if (p->mode == NBK_PRELU) {
        const __m256i neg = _mm256_cmpgt_epi64(_mm256_setzero_si256(), a);
        m = _mm256_blendv_epi8(m, _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(p->neg_mult + c))), neg);
        s = _mm256_blendv_epi8(s, _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(p->neg_shift + c))), neg);
    }
    v = _mm256_mul_epi32(a, m);
    v = sra64(_mm256_add_epi64(v, _mm256_sllv_epi64(one, _mm256_sub_epi64(s, one))), s);
    if (p->mode == NBK_HSWISH) {
        const __m256i lim = _mm256_set1_epi64x((int64_t)1 << 20), zero = _mm256_setzero_si256();
        const __m256i hs1 = _mm256_sub_epi64(_mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(p->hs_shift + c))), one);
        __m256i t;
        v = clamp64(v, _mm256_sub_epi64(zero, lim), lim);
        t = clamp64(_mm256_add_epi64(v, _mm256_set1_epi64x(p->three)), zero, _mm256_set1_epi64x(p->six));
        t = mullo64(mullo64(v, t), _mm256_loadu_si256((const __m256i *)(p->hs_mult + c)));
        t = _mm256_add_epi64(t, _mm256_loadu_si256((const __m256i *)(p->hs_bias + c)));
        v = sra64(_mm256_add_epi64(sra64(t, hs1), one), one);
    }
    v = _mm256_add_epi64(v, _mm256_set1_epi64x(p->out_zp));
    return clamp64(v, _mm256_set1_epi64x(p->lo), _mm256_set1_epi64x(p->hi));
}

/* Eight accumulators of channels c..c+7 -> eight int8 in the low 8 bytes. */
KI __m128i rq8(__m256i acc, const nbk_packed *p, int c) {
    const __m256i lo = rq4(_mm256_castsi256_si128(acc), p, c);
    const __m256i hi = rq4(_mm256_extracti128_si256(acc, 1), p, c + 4);
    /* [c0 c4 c1 c5 | c2 c6 c3 c7] as dwords, then in order, then to bytes. */
    __m256i v = _mm256_blend_epi32(lo, _mm256_slli_epi64(hi, 32), 0xAA);
    v = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
    v = _mm256_packs_epi32(v, v);
    v = _mm256_packs_epi16(v, v);
    return _mm_unpacklo_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
}

/* The parameters of 8 channels in registers, loaded once per column of a tile. */
typedef struct {
    const nbk_packed *p;
    int c, mode, fast;
    __m256i m, mo, sh, rnd, nm, nmo, nsh, nrnd, zp, lo, hi;
    __m256i hm_e, hm_o, hb_e, hb_o, hs1_e, hs1_o, three, six;
} col8;

KI col8 col_load(const nbk_packed *p, int c) {
    col8 k;
    const __m256i one = _mm256_set1_epi32(1), k32 = _mm256_set1_epi32(32), k33 = _mm256_set1_epi32(33);
    __m256i s;
    k.p = p, k.c = c, k.mode = p->mode, k.fast = p->fast32 && p->mode != NBK_SWISH;
    k.m = _mm256_loadu_si256((const __m256i *)(p->mult + c));
    k.mo = _mm256_srli_epi64(k.m, 32);
    s = _mm256_loadu_si256((const __m256i *)(p->shift + c));
    k.sh = _mm256_sub_epi32(s, k32);
    k.rnd = _mm256_sllv_epi32(one, _mm256_sub_epi32(s, k33));
    k.zp = _mm256_set1_epi32(p->out_zp);
    k.lo = _mm256_set1_epi32(p->lo);
    k.hi = _mm256_set1_epi32(p->hi);
    k.nm = k.nmo = k.nsh = k.nrnd = _mm256_setzero_si256();
    k.hm_e = k.hm_o = k.hb_e = k.hb_o = k.hs1_e = k.hs1_o = k.three = k.six = _mm256_setzero_si256();
    if (k.mode == NBK_PRELU) {
        k.nm = _mm256_loadu_si256((const __m256i *)(p->neg_mult + c));
        k.nmo = _mm256_srli_epi64(k.nm, 32);
        s = _mm256_loadu_si256((const __m256i *)(p->neg_shift + c));
        k.nsh = _mm256_sub_epi32(s, k32);
        k.nrnd = _mm256_sllv_epi32(one, _mm256_sub_epi32(s, k33));
    }
    if (k.mode == NBK_HSWISH) {
        /* even channels c, c+2, c+4, c+6 and odd ones, from the [8 even][8 odd] blocks of 16 */
        const int e = (c & ~15) + (c & 15) / 2;
        k.hm_e = _mm256_loadu_si256((const __m256i *)(p->hs_mult_eo + e));
        k.hm_o = _mm256_loadu_si256((const __m256i *)(p->hs_mult_eo + e + 8));
        k.hb_e = _mm256_loadu_si256((const __m256i *)(p->hs_bias_eo + e));
        k.hb_o = _mm256_loadu_si256((const __m256i *)(p->hs_bias_eo + e + 8));
        k.hs1_e = _mm256_loadu_si256((const __m256i *)(p->hs_sh1_eo + e));
        k.hs1_o = _mm256_loadu_si256((const __m256i *)(p->hs_sh1_eo + e + 8));
        k.three = _mm256_set1_epi32((int32_t)p->three);
        k.six = _mm256_set1_epi32((int32_t)p->six);
    }
    return k;
}

KI __m256i hs_stage2(__m256i vt, __m256i hm, __m256i hb, __m256i hs, const col8 *k) {
    __m256i y = _mm256_add_epi64(mullo64(vt, hm), hb);
    y = sra64(y, hs);
    return clamp64(y, _mm256_set1_epi64x((int64_t)k->p->lo - k->p->out_zp),
                   _mm256_set1_epi64x((int64_t)k->p->hi - k->p->out_zp));
}

/* Eight accumulators -> eight int8 (low 8 bytes), nbk_requant1 exactly; 32-bit lanes when
 * fast32 (see nbk.h), else the 64-bit path. */
KI __m128i col_rq(const col8 *k, __m256i acc) {
    __m256i m = k->m, mo = k->mo, sh = k->sh, rnd = k->rnd, v, e, o;
    if (!k->fast) return rq8(acc, k->p, k->c);
    if (k->mode == NBK_PRELU) {
        const __m256i neg = _mm256_cmpgt_epi32(_mm256_setzero_si256(), acc);
        m = _mm256_blendv_epi8(m, k->nm, neg);
        mo = _mm256_blendv_epi8(mo, k->nmo, _mm256_srli_epi64(neg, 32));
        sh = _mm256_blendv_epi8(sh, k->nsh, neg);
        rnd = _mm256_blendv_epi8(rnd, k->nrnd, neg);
    }
    e = _mm256_mul_epi32(acc, m);
    o = _mm256_mul_epi32(_mm256_srli_epi64(acc, 32), mo);
    v = _mm256_blend_epi32(_mm256_srli_epi64(e, 32), o, 0xAA);
    v = _mm256_srav_epi32(_mm256_add_epi32(v, rnd), sh);
    if (k->mode == NBK_HSWISH) {
        const __m256i lim = _mm256_set1_epi32(1 << 20), zero = _mm256_setzero_si256();
        __m256i t;
        v = _mm256_min_epi32(_mm256_max_epi32(v, _mm256_sub_epi32(zero, lim)), lim);
        t = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, k->three), zero), k->six);
        e = hs_stage2(_mm256_mul_epi32(v, t), k->hm_e, k->hb_e, k->hs1_e, k);
        o = hs_stage2(_mm256_mul_epi32(_mm256_srli_epi64(v, 32), _mm256_srli_epi64(t, 32)), k->hm_o, k->hb_o, k->hs1_o, k);
        v = _mm256_add_epi32(_mm256_blend_epi32(e, _mm256_slli_epi64(o, 32), 0xAA), k->zp);
    } else {
        v = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, k->zp), k->lo), k->hi);
    }
    v = _mm256_packs_epi32(v, v);
    v = _mm256_packs_epi16(v, v);
    return _mm_unpacklo_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
}

KI void store8(int8_t *y, __m128i v, int n) {
    if (n >= 8) {
        _mm_storel_epi64((__m128i *)y, v);
    } else if (n > 0) {
        int8_t t[16];
        _mm_storeu_si128((__m128i *)t, v);
        memcpy(y, t, (size_t)n);
    }
}

/* MR rows x NCH chunks of 4 channels from channel n0 (a multiple of 4), full K. */
KI void ukr(const int MR, const int NCH, const int16_t *a, int lda, int kq, const int8_t *w,
            long wbs, const nbk_packed *p, int n0, int mr, int8_t *y, int ldy) {
    __m256i acc[4][4];
    const int8_t *wp[4];
    int q;
    NBK_UNROLL for (int ch = 0; ch < NCH; ch++) {
        const int g = n0 / 4 + ch;
        wp[ch] = w + (long)(g >> 2) * wbs + (g & 3) * 16;
        NBK_UNROLL for (int r = 0; r < MR; r++) acc[r][ch] = _mm256_setzero_si256();
    }
    for (q = 0; q < kq; q++) {
        __m256i b[4];
        NBK_UNROLL for (int r = 0; r < MR; r++) b[r] = _mm256_set1_epi64x(ld64(a + (long)r * lda + 4 * q));
        NBK_UNROLL for (int ch = 0; ch < NCH; ch++) {
            const __m256i wv = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wp[ch] + q * 64)));
            NBK_UNROLL for (int r = 0; r < MR; r++)
                acc[r][ch] = _mm256_add_epi32(acc[r][ch], _mm256_madd_epi16(b[r], wv));
        }
    }
    NBK_UNROLL for (int ch = 0; ch < NCH; ch += 2) {
        const int c = n0 + 4 * ch;
        const __m256i bias = _mm256_loadu_si256((const __m256i *)(p->bias_s + c));
        const col8 k = col_load(p, c);
        NBK_UNROLL for (int r = 0; r < MR; r++) {
            if (r < mr) {
                const __m256i hi = ch + 1 < NCH ? acc[r][ch + 1] : _mm256_setzero_si256();
                const __m256i sum = _mm256_add_epi32(
                    _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[r][ch], hi), 0xD8), bias);
                store8(y + (long)r * ldy + c, col_rq(&k, sum), p->oc - c);
            }
        }
    }
}

typedef void (*ukr_fn)(const int16_t *, int, int, const int8_t *, long, const nbk_packed *, int,
                       int, int8_t *, int);
#define DEF(MR, NCH)                                                                                \
    static TGT void ukr_##MR##_##NCH(const int16_t *a, int lda, int kq, const int8_t *w, long wbs,  \
                                     const nbk_packed *p, int n0, int mr, int8_t *y, int ldy) {     \
        ukr(MR, NCH, a, lda, kq, w, wbs, p, n0, mr, y, ldy);                                        \
    }
DEF(1, 1) DEF(1, 2) DEF(1, 3) DEF(1, 4)
DEF(2, 1) DEF(2, 2) DEF(2, 3) DEF(2, 4)
DEF(4, 1) DEF(4, 2)
static const ukr_fn ukr1[5] = {0, ukr_1_1, ukr_1_2, ukr_1_3, ukr_1_4};
static const ukr_fn ukr2[5] = {0, ukr_2_1, ukr_2_2, ukr_2_3, ukr_2_4};
static const ukr_fn ukr4[3] = {0, ukr_4_1, ukr_4_2};

/* n int8 -> int16. */
KI void widen(int16_t *d, const int8_t *s, long n) {
    long i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(d + i), _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(s + i))));
    for (; i < n; i++) d[i] = s[i];
}

/* The patch of output pixel (oy, ox) as kp int16 (taps outside the input are zp, k >= K 0);
 * a kernel row whose taps are all inside and adjacent is one run of kw*c bytes. */
KI void patch_row_i16(const int8_t *x, const nbk_shape *s, int oy, int ox, int16_t *dst, int zp, int kp) {
    const int c = s->c, run = s->kw * c, ix0 = ox * s->sw - s->pl;
    const int colok = s->dw == 1 && ix0 >= 0 && ix0 + s->kw - 1 < s->w;
    int ky, kx, k = 0, i;
    for (ky = 0; ky < s->kh; ky++) {
        const int iy = oy * s->sh - s->pt + ky * s->dh;
        const int rowok = iy >= 0 && iy < s->h;
        const int8_t *src = x + ((long)iy * s->w + ix0) * c;
        if (rowok && colok) {
            widen(dst + k, src, run);
            k += run;
            continue;
        }
        for (kx = 0; kx < s->kw; kx++, k += c) {
            const int ix = ix0 + kx * s->dw;
            if (rowok && ix >= 0 && ix < s->w) widen(dst + k, src + (long)kx * s->dw * c, c);
            else for (i = 0; i < c; i++) dst[k + i] = (int16_t)zp;
        }
    }
    for (; k < kp; k++) dst[k] = 0;
}

TGT void nbk_conv_avx2(const int8_t *x, const nbk_shape *s, const nbk_packed *p, int8_t *y,
                       void *scratch) {
    const int P = s->oh * s->ow, kp = p->kp, kq = kp / 4, oc = p->oc, c = s->c;
    const int nch = (oc + 3) / 4;
    const long wbs = (long)kp * 16;
    const int pw = nbk_pointwise(s);
    const ukr_fn *tab;
    int MR, NCH, mc, p0;
    int16_t *A = (int16_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    int8_t *stage;
    if (P < 2) {
        MR = 1, NCH = nch < 4 ? nch : 4, tab = ukr1;
    } else if (nch >= 4) {
        MR = 2, NCH = 4, tab = ukr2;
    } else {
        MR = 4, NCH = 2, tab = ukr4;
    }
    mc = nbk_mc(kp * 2, MR, P);
    stage = (int8_t *)(A + (size_t)(mc + 4) * kp);
    for (p0 = 0; p0 < P; p0 += mc) {
        const int n = P - p0 < mc ? P - p0 : mc, nr = ((n + MR - 1) / MR) * MR;
        int i, g, m0;
        if (pw && kp == c) {
            widen(A, x + (long)p0 * c, (long)n * c);
        } else if (pw) {
            for (i = 0; i < n; i++) {
                memcpy(stage, x + (long)(p0 + i) * c, (size_t)c);
                memset(stage + c, 0, (size_t)(kp - c));
                widen(A + (long)i * kp, stage, kp);
            }
        } else {
            int oy = p0 / s->ow, ox = p0 - oy * s->ow;
            for (i = 0; i < n; i++) {
                patch_row_i16(x, s, oy, ox, A + (long)i * kp, p->zp, kp);
                if (++ox == s->ow) ox = 0, oy++;
            }
        }
        if (nr > n) memset(A + (long)n * kp, 0, (size_t)(nr - n) * kp * 2);
        for (g = 0; g < nch; g += NCH) {
            const int k = nch - g < NCH ? nch - g : NCH;
            const ukr_fn f = tab[k];
            for (m0 = 0; m0 < n; m0 += MR)
                f(A + (long)m0 * kp, kp, kq, p->w, wbs, p, 4 * g, n - m0 < MR ? n - m0 : MR,
                  y + (long)(p0 + m0) * oc, oc);
        }
    }
}

/* ---- depthwise: 8 channels per ymm, vpmaddwd of sign-extended x against (w, 0) ---------- */

KI __m256i ld8x(const int8_t *src, int n) {
    if (n >= 8) return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)src));
    {
        int8_t t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        memcpy(t, src, (size_t)n);
        return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)t));
    }
}

KI __m256i dw_border(const int8_t *const *rows, const int8_t *zprow, const nbk_shape *s,
                     const int32_t *w32, int cp, int ox, int cb, int n, __m256i acc) {
    int ky, kx;
    for (ky = 0; ky < s->kh; ky++)
        for (kx = 0; kx < s->kw; kx++) {
            const int ix = ox * s->sw - s->pl + kx * s->dw;
            const int8_t *src = (ix < 0 || ix >= s->w) ? zprow + cb : rows[ky] + (long)ix * s->c + cb;
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(ld8x(src, n), _mm256_loadu_si256((const __m256i *)(w32 + (long)(ky * s->kw + kx) * cp + cb))));
        }
    return acc;
}

KI void dw_interior(const int PX, const int KH, const int KW, const int8_t *const *rows,
                    const nbk_shape *s, const nbk_dw_packed *d, int ox, int cb, int8_t *yrow) {
    const int c = s->c, cp = d->p.ocp, sw = s->sw;
    const __m256i bias = _mm256_loadu_si256((const __m256i *)(d->p.bias_s + cb));
    __m256i acc[8];
    NBK_UNROLL for (int u = 0; u < PX; u++) acc[u] = bias;
    NBK_UNROLL for (int ky = 0; ky < KH; ky++) {
        const int8_t *row = rows[ky] + (long)(ox * sw - s->pl) * c + cb;
        NBK_UNROLL for (int kx = 0; kx < KW; kx++) {
            const __m256i wv = _mm256_loadu_si256((const __m256i *)(d->w32 + (long)(ky * KW + kx) * cp + cb));
            const int8_t *src = row + (long)kx * s->dw * c;
            NBK_UNROLL for (int u = 0; u < PX; u++)
                acc[u] = _mm256_add_epi32(acc[u], _mm256_madd_epi16(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(src + (long)u * sw * c))), wv));
        }
    }
    {
        const col8 k = col_load(&d->p, cb);
        NBK_UNROLL for (int u = 0; u < PX; u++)
            _mm_storel_epi64((__m128i *)(yrow + (long)(ox + u) * c + cb), col_rq(&k, acc[u]));
    }
}

KI void dw_run(const int KH, const int KW, const int8_t *x, const nbk_shape *s,
               const nbk_dw_packed *d, int8_t *y, void *scratch) {
    const int c = s->c, cp = d->p.ocp;
    int8_t *zprow = (int8_t *)scratch;
    const int8_t *rows[64];
    int oy, ox, ky, cb, ox_lo, ox_hi;
    memset(zprow, d->p.zp, nbk_zprow_bytes(s));
    ox_lo = (s->pl + s->sw - 1) / s->sw;
    ox_hi = s->w - 1 - (s->kw - 1) * s->dw + s->pl;
    ox_hi = ox_hi < 0 ? 0 : ox_hi / s->sw + 1;
    if (ox_hi > s->ow) ox_hi = s->ow;
    if (ox_lo > ox_hi) ox_lo = ox_hi;
    if (KH == 0) ox_lo = ox_hi = s->ow; /* generic kernel size: every pixel on the border path */
    for (oy = 0; oy < s->oh; oy++) {
        int8_t *yrow = y + (long)oy * s->ow * c;
        for (ky = 0; ky < s->kh; ky++) {
            const int iy = oy * s->sh - s->pt + ky * s->dh;
            rows[ky] = (iy < 0 || iy >= s->h) ? zprow + (long)s->pl * c : x + (long)iy * s->w * c;
        }
        for (cb = 0; cb < c; cb += 8) {
            const int n = c - cb;
            for (ox = 0; ox < ox_lo; ox++) {
                const __m256i acc = dw_border(rows, zprow, s, d->w32, cp, ox, cb, n,
                                              _mm256_loadu_si256((const __m256i *)(d->p.bias_s + cb)));
                store8(yrow + (long)ox * c + cb, rq8(acc, &d->p, cb), n);
            }
            if (KH > 0 && n >= 8) {
                for (; ox + 8 <= ox_hi; ox += 8) dw_interior(8, KH, KW, rows, s, d, ox, cb, yrow);
                for (; ox < ox_hi; ox++) dw_interior(1, KH, KW, rows, s, d, ox, cb, yrow);
            }
            for (; ox < s->ow; ox++) {
                const __m256i acc = dw_border(rows, zprow, s, d->w32, cp, ox, cb, n,
                                              _mm256_loadu_si256((const __m256i *)(d->p.bias_s + cb)));
                store8(yrow + (long)ox * c + cb, rq8(acc, &d->p, cb), n);
            }
        }
    }
}

static TGT void dw_3x3(const int8_t *x, const nbk_shape *s, const nbk_dw_packed *d, int8_t *y, void *t) {
    dw_run(3, 3, x, s, d, y, t);
}
static TGT void dw_5x5(const int8_t *x, const nbk_shape *s, const nbk_dw_packed *d, int8_t *y, void *t) {
    dw_run(5, 5, x, s, d, y, t);
}
static TGT void dw_any(const int8_t *x, const nbk_shape *s, const nbk_dw_packed *d, int8_t *y, void *t) {
    dw_run(0, 0, x, s, d, y, t);
}

TGT void nbk_dw_avx2(const int8_t *x, const nbk_shape *s, const nbk_dw_packed *d, int8_t *y,
                     void *scratch) {
    if (s->kh == 3 && s->kw == 3) dw_3x3(x, s, d, y, scratch);
    else if (s->kh == 5 && s->kw == 5) dw_5x5(x, s, d, y, scratch);
    else dw_any(x, s, d, y, scratch);
}
#endif
