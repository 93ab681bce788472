/* AVX-512 VNNI kernels (x86-64, GCC/Clang; compiled for any x86-64: every function carries a
 * target attribute and is only called after CPU detection). */
#include "nibble_kernels_internal.h"
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define TGT __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
int nbk_avx512_ymm_tail = 1;
int nbk_avx512_vbmi = -1;

#define KI static inline __attribute__((always_inline)) TGT

KI int32_t ld32(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* ---- requantization, 8 channels per call (int64 lanes), exactly nbk_requant1 ------------- */

/* Eight accumulators (int32) of channels c..c+7 -> eight int8 (low 8 bytes). The products are
 * 64-bit (vpmuldq: acc and multiplier are int32); (v + 2^(s-1)) >> s with vpsravq equals the
 * scalar ((v >> (s-1)) + 1) >> 1 because |acc * m| < 2^62 leaves room for the rounding term. */
KI __m128i rq8(__m256i acc32, const nbk_packed *p, int c) {
    const __m512i a = _mm512_cvtepi32_epi64(acc32);
    if (p->mode == NBK_SWISH) { /* swish outside the wide path: scalar */
        int32_t av[8];
        int8_t r[16] = {0};
        int i;
        _mm256_storeu_si256((__m256i *)av, acc32);
        for (i = 0; i < 8; i++) r[i] = (int8_t)nbk_requant1(av[i], p, c + i);
        return _mm_loadu_si128((const __m128i *)r);
    }
    __m512i m = _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)(p->mult + c)));
    __m512i s = _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)(p->shift + c)));
    __m512i v;
    const __m512i one = _mm512_set1_epi64(1);
    if (p->mode == NBK_PRELU) {
        const __mmask8 neg = _mm512_cmplt_epi64_mask(a, _mm512_setzero_si512());
        m = _mm512_mask_blend_epi64(neg, m, _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)(p->neg_mult + c))));
        s = _mm512_mask_blend_epi64(neg, s, _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)(p->neg_shift + c))));
    }
    v = _mm512_mul_epi32(a, m);
    v = _mm512_srav_epi64(_mm512_add_epi64(v, _mm512_sllv_epi64(one, _mm512_sub_epi64(s, one))), s);
    if (p->mode == NBK_HSWISH) {
        const __m512i lim = _mm512_set1_epi64((int64_t)1 << 20);
        const __m512i hs1 = _mm512_sub_epi64(_mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)(p->hs_shift + c))), one);
        __m512i t;
        v = _mm512_min_epi64(_mm512_max_epi64(v, _mm512_sub_epi64(_mm512_setzero_si512(), lim)), lim);
        t = _mm512_add_epi64(v, _mm512_set1_epi64(p->three));
        t = _mm512_min_epi64(_mm512_max_epi64(t, _mm512_setzero_si512()), _mm512_set1_epi64(p->six));
        t = _mm512_mullo_epi64(_mm512_mullo_epi64(v, t), _mm512_loadu_si512(p->hs_mult + c));
        t = _mm512_add_epi64(t, _mm512_loadu_si512(p->hs_bias + c));
        v = _mm512_srai_epi64(_mm512_add_epi64(_mm512_srav_epi64(t, hs1), one), 1);
    }
    v = _mm512_add_epi64(v, _mm512_set1_epi64(p->out_zp));
    v = _mm512_max_epi64(v, _mm512_set1_epi64(p->lo));
    v = _mm512_min_epi64(v, _mm512_set1_epi64(p->hi));
    return _mm512_cvtepi64_epi8(v);
}

/* Sixteen accumulators of channels c..c+15 -> sixteen int8 (64-bit lanes throughout). */
KI __m128i rq16_64(__m512i acc, const nbk_packed *p, int c) {
    const __m128i lo = rq8(_mm512_castsi512_si256(acc), p, c);
    const __m128i hi = rq8(_mm512_extracti64x4_epi64(acc, 1), p, c + 8);
    return _mm_unpacklo_epi64(lo, hi);
}

/* The parameters of 16 channels in registers, loaded once per column of a tile. */
typedef struct {
    const nbk_packed *p;
    int c, mode, fast, wide;
    __m512i m, mo, sh, rnd, nm, nmo, nsh, nrnd, zp, lo, hi;
    __m512i hm_e, hm_o, hb_e, hb_o, hs1_e, hs1_o, three, six;
    /* wide: shifts and rounding terms 2^(s-1) of the even / odd channels as int64 lanes, and the
     * first rounding's clamp (+-2^20 for the activations, lo - zp .. hi - zp for plain) */
    __m512i s_e, s_o, r_e, r_o, c_lo, c_hi;
} col16;

KI col16 col_load(const nbk_packed *p, int c) {
    col16 k;
    const __m512i one = _mm512_set1_epi32(1), k32 = _mm512_set1_epi32(32), k33 = _mm512_set1_epi32(33);
    __m512i s;
    k.p = p, k.c = c, k.mode = p->mode;
    k.fast = p->fast32 && p->mode != NBK_SWISH;
    k.wide = p->wide && p->mode != NBK_PRELU;
    k.m = _mm512_loadu_si512(p->mult + c);
    k.mo = _mm512_srli_epi64(k.m, 32);
    s = _mm512_loadu_si512(p->shift + c);
    k.sh = _mm512_sub_epi32(s, k32);
    k.rnd = _mm512_sllv_epi32(one, _mm512_sub_epi32(s, k33));
    k.s_e = _mm512_and_si512(s, _mm512_set1_epi64(0xffffffff));
    k.s_o = _mm512_srli_epi64(s, 32);
    k.r_e = _mm512_sllv_epi64(_mm512_set1_epi64(1), _mm512_sub_epi64(k.s_e, _mm512_set1_epi64(1)));
    k.r_o = _mm512_sllv_epi64(_mm512_set1_epi64(1), _mm512_sub_epi64(k.s_o, _mm512_set1_epi64(1)));
    if (k.mode == NBK_PLAIN) {
        k.c_lo = _mm512_set1_epi64((int64_t)p->lo - p->out_zp);
        k.c_hi = _mm512_set1_epi64((int64_t)p->hi - p->out_zp);
    } else {
        k.c_lo = _mm512_set1_epi64(-((int64_t)1 << 20));
        k.c_hi = _mm512_set1_epi64((int64_t)1 << 20);
    }
    k.zp = _mm512_set1_epi32(p->out_zp);
    k.lo = _mm512_set1_epi32(p->lo);
    k.hi = _mm512_set1_epi32(p->hi);
    if (k.mode == NBK_PRELU) {
        k.nm = _mm512_loadu_si512(p->neg_mult + c);
        k.nmo = _mm512_srli_epi64(k.nm, 32);
        s = _mm512_loadu_si512(p->neg_shift + c);
        k.nsh = _mm512_sub_epi32(s, k32);
        k.nrnd = _mm512_sllv_epi32(one, _mm512_sub_epi32(s, k33));
    } else {
        k.nm = k.nmo = k.nsh = k.nrnd = _mm512_setzero_si512();
    }
    if (k.mode == NBK_HSWISH || k.mode == NBK_SWISH) {
        k.hm_e = _mm512_loadu_si512(p->hs_mult_eo + c);
        k.hm_o = _mm512_loadu_si512(p->hs_mult_eo + c + 8);
        k.hb_e = _mm512_loadu_si512(p->hs_bias_eo + c);
        k.hb_o = _mm512_loadu_si512(p->hs_bias_eo + c + 8);
        k.hs1_e = _mm512_loadu_si512(p->hs_sh1_eo + c);
        k.hs1_o = _mm512_loadu_si512(p->hs_sh1_eo + c + 8);
        k.three = _mm512_set1_epi32((int32_t)p->three);
        k.six = _mm512_set1_epi32((int32_t)p->six);
    } else {
        k.hm_e = k.hm_o = k.hb_e = k.hb_o = k.hs1_e = k.hs1_o = k.three = k.six = _mm512_setzero_si512();
    }
    return k;
}

/* hard-swish's second rounding on int64 lanes: (v*t*m + bias + 2^(s-1)) >> s (the rounding
 * term is in hb: no overflow, checked at pack time), clamped (minus zp). */
KI __m512i hs_stage2(__m512i vt, __m512i hm, __m512i hb, __m512i hs, const col16 *k) {
    __m512i y = _mm512_add_epi64(_mm512_mullo_epi64(vt, hm), hb);
    y = _mm512_srav_epi64(y, hs);
    y = _mm512_max_epi64(y, _mm512_set1_epi64((int64_t)k->p->lo - k->p->out_zp));
    return _mm512_min_epi64(y, _mm512_set1_epi64((int64_t)k->p->hi - k->p->out_zp));
}

/* The Q15 sigmoid of 16 lanes v (|v| <= 2^20) from the 257-entry table: nbk_sigmoid_q15 (the
 * products (t1 - t0) * frac stay below 2^25 in 32 bits: entries are in [0, 2^16], checked at
 * pack time). */
KI __m512i sigmoid16(__m512i v, const int32_t *table) {
    const __m512i u = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(v, _mm512_set1_epi32(-32768)),
                                                        _mm512_set1_epi32(32767)),
                                       _mm512_set1_epi32(32768));
    const __m512i j = _mm512_srli_epi32(u, 8);
    const __m512i t0 = _mm512_i32gather_epi32(j, table, 4);
    const __m512i t1 = _mm512_i32gather_epi32(_mm512_add_epi32(j, _mm512_set1_epi32(1)), table, 4);
    const __m512i f = _mm512_and_si512(u, _mm512_set1_epi32(255));
    const __m512i d = _mm512_add_epi32(_mm512_mullo_epi32(_mm512_sub_epi32(t1, t0), f), _mm512_set1_epi32(128));
    return _mm512_add_epi32(t0, _mm512_srai_epi32(d, 8));
}

/* The first rounding on 64-bit even/odd lanes (any shift in [1, 62]: |acc * m| < 2^62), clamped
 * (k->c_lo .. k->c_hi), back in 32-bit lanes. */
KI __m512i wide_stage1(const col16 *k, __m512i acc) {
    __m512i e = _mm512_mul_epi32(acc, k->m);
    __m512i o = _mm512_mul_epi32(_mm512_srli_epi64(acc, 32), k->mo);
    e = _mm512_srav_epi64(_mm512_add_epi64(e, k->r_e), k->s_e);
    o = _mm512_srav_epi64(_mm512_add_epi64(o, k->r_o), k->s_o);
    e = _mm512_min_epi64(_mm512_max_epi64(e, k->c_lo), k->c_hi);
    o = _mm512_min_epi64(_mm512_max_epi64(o, k->c_lo), k->c_hi);
    return _mm512_mask_blend_epi32((__mmask16)0xAAAA, e, _mm512_slli_epi64(o, 32));
}

/* Hard-swish / swish after the first rounding: v (|v| <= 2^20, 32-bit lanes) times
 * clamp(v + three, 0, six) or the sigmoid of v, rescaled on 64-bit even/odd lanes, plus zp. */
KI __m128i act_stage2(const col16 *k, __m512i v) {
    __m512i t, e, o;
    if (k->mode == NBK_SWISH)
        t = sigmoid16(v, k->p->sw_table);
    else
        t = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(v, k->three), _mm512_setzero_si512()), k->six);
    e = hs_stage2(_mm512_mul_epi32(v, t), k->hm_e, k->hb_e, k->hs1_e, k);
    o = hs_stage2(_mm512_mul_epi32(_mm512_srli_epi64(v, 32), _mm512_srli_epi64(t, 32)), k->hm_o, k->hb_o, k->hs1_o, k);
    v = _mm512_mask_blend_epi32((__mmask16)0xAAAA, e, _mm512_slli_epi64(o, 32));
    return _mm512_cvtepi32_epi8(_mm512_add_epi32(v, k->zp));
}

/* Sixteen accumulators -> sixteen int8, nbk_requant1 exactly. */
KI __m128i col_rq(const col16 *k, __m512i acc) {
    __m512i m = k->m, mo = k->mo, sh = k->sh, rnd = k->rnd, v, e, o;
    if (!k->fast && k->wide) {
        v = wide_stage1(k, acc);
        if (k->mode == NBK_PLAIN) return _mm512_cvtepi32_epi8(_mm512_add_epi32(v, k->zp));
        return act_stage2(k, v);
    }
    if (!k->fast) return rq16_64(acc, k->p, k->c);
    if (k->mode == NBK_PRELU) {
        const __mmask16 neg = _mm512_cmplt_epi32_mask(acc, _mm512_setzero_si512());
        m = _mm512_mask_blend_epi32(neg, m, k->nm);
        mo = _mm512_mask_blend_epi32((__mmask16)(neg >> 1), mo, k->nmo);
        sh = _mm512_mask_blend_epi32(neg, sh, k->nsh);
        rnd = _mm512_mask_blend_epi32(neg, rnd, k->nrnd);
    }
    /* High halves of the 64-bit products acc * m, even lanes and odd lanes. */
    e = _mm512_mul_epi32(acc, m);
    o = _mm512_mul_epi32(_mm512_srli_epi64(acc, 32), mo);
    v = _mm512_mask_blend_epi32((__mmask16)0xAAAA, _mm512_srli_epi64(e, 32), o);
    v = _mm512_srav_epi32(_mm512_add_epi32(v, rnd), sh);
    if (k->mode == NBK_HSWISH) {
        const __m512i lim = _mm512_set1_epi32(1 << 20);
        v = _mm512_min_epi32(_mm512_max_epi32(v, _mm512_sub_epi32(_mm512_setzero_si512(), lim)), lim);
        return act_stage2(k, v);
    }
    v = _mm512_add_epi32(v, k->zp);
    v = _mm512_min_epi32(_mm512_max_epi32(v, k->lo), k->hi);
    return _mm512_cvtepi32_epi8(v);
}

KI __m128i rq16(__m512i acc, const nbk_packed *p, int c) {
    const col16 k = col_load(p, c);
    return col_rq(&k, acc);
}

/* ---- conv / FC: GEMM microkernel over an A tile of u8 patches ---------------------------- */

/* MR rows (output pixels) x NV blocks of 16 channels, full K. a: u8 rows of lda bytes; w: the
 * packed block of the first channel block (blocks wbs bytes apart). acc starts from the folded
 * bias (bias_u: the +128 of the activations is subtracted there). */
KI void ukr(const int MR, const int NV, const uint8_t *a, int lda, int kq, const int8_t *w,
            long wbs, const nbk_packed *p, int n0, int mr, int8_t *y, int ldy) {
    __m512i acc[16][8];
    int q;
    NBK_UNROLL for (int v = 0; v < NV; v++) {
        const __m512i b = _mm512_loadu_si512(p->bias_u + n0 + 16 * v);
        NBK_UNROLL for (int r = 0; r < MR; r++) acc[r][v] = b;
    }
    for (q = 0; q < kq; q++) {
        __m512i wv[8];
        NBK_UNROLL for (int v = 0; v < NV; v++) wv[v] = _mm512_loadu_si512(w + v * wbs + q * 64);
        NBK_UNROLL for (int r = 0; r < MR; r++) {
            const __m512i b = _mm512_set1_epi32(ld32(a + (long)r * lda + 4 * q));
            NBK_UNROLL for (int v = 0; v < NV; v++) acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], b, wv[v]);
        }
    }
    NBK_UNROLL for (int v = 0; v < NV; v++) {
        const int c = n0 + 16 * v, rem = p->oc - c;
        const __mmask16 km = rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (rem > 0 ? rem : 0)) - 1);
        const col16 k = col_load(p, c);
        NBK_UNROLL for (int r = 0; r < MR; r++) {
            if (r < mr) _mm_mask_storeu_epi8(y + (long)r * ldy + c, km, col_rq(&k, acc[r][v]));
        }
    }
}

/* ---- 8-channel (ymm) variants: a last block with at most 8 channels (OC 8, 24, 40, 88, 200,
 * ...) wastes no lanes: ymm vpdpbusd has the same MAC rate per useful lane on cores that split
 * zmm into two halves (Zen 4), and the epilogue does half the work. ------------------------ */
typedef struct {
    const nbk_packed *p;
    int c, mode, fast;
    __m256i m, mo, sh, rnd, nm, nmo, nsh, nrnd, zp, lo, hi;
    __m256i hm_e, hm_o, hb_e, hb_o, hs_e, hs_o, three, six;
} col8;

KI col8 col8_load(const nbk_packed *p, int c) {
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
    k.hm_e = k.hm_o = k.hb_e = k.hb_o = k.hs_e = k.hs_o = k.three = k.six = _mm256_setzero_si256();
    if (k.mode == NBK_PRELU) {
        k.nm = _mm256_loadu_si256((const __m256i *)(p->neg_mult + c));
        k.nmo = _mm256_srli_epi64(k.nm, 32);
        s = _mm256_loadu_si256((const __m256i *)(p->neg_shift + c));
        k.nsh = _mm256_sub_epi32(s, k32);
        k.nrnd = _mm256_sllv_epi32(one, _mm256_sub_epi32(s, k33));
    }
    if (k.mode == NBK_HSWISH) {
        const int e = (c & ~15) + (c & 15) / 2;
        k.hm_e = _mm256_loadu_si256((const __m256i *)(p->hs_mult_eo + e));
        k.hm_o = _mm256_loadu_si256((const __m256i *)(p->hs_mult_eo + e + 8));
        k.hb_e = _mm256_loadu_si256((const __m256i *)(p->hs_bias_eo + e));
        k.hb_o = _mm256_loadu_si256((const __m256i *)(p->hs_bias_eo + e + 8));
        k.hs_e = _mm256_loadu_si256((const __m256i *)(p->hs_sh1_eo + e));
        k.hs_o = _mm256_loadu_si256((const __m256i *)(p->hs_sh1_eo + e + 8));
        k.three = _mm256_set1_epi32((int32_t)p->three);
        k.six = _mm256_set1_epi32((int32_t)p->six);
    }
    return k;
}

KI __m256i hs8_stage2(__m256i vt, __m256i hm, __m256i hb, __m256i hs, const col8 *k) {
    __m256i y = _mm256_srav_epi64(_mm256_add_epi64(_mm256_mullo_epi64(vt, hm), hb), hs);
    y = _mm256_max_epi64(y, _mm256_set1_epi64x((int64_t)k->p->lo - k->p->out_zp));
    return _mm256_min_epi64(y, _mm256_set1_epi64x((int64_t)k->p->hi - k->p->out_zp));
}

/* Eight accumulators -> eight int8 (low 8 bytes): col_rq on 8 lanes. */
KI __m128i col8_rq(const col8 *k, __m256i acc) {
    __m256i m = k->m, mo = k->mo, sh = k->sh, rnd = k->rnd, v, e, o;
    if (!k->fast) return rq8(acc, k->p, k->c);
    if (k->mode == NBK_PRELU) {
        const __mmask8 neg = _mm256_cmplt_epi32_mask(acc, _mm256_setzero_si256());
        m = _mm256_mask_blend_epi32(neg, m, k->nm);
        mo = _mm256_mask_blend_epi32((__mmask8)(neg >> 1), mo, k->nmo);
        sh = _mm256_mask_blend_epi32(neg, sh, k->nsh);
        rnd = _mm256_mask_blend_epi32(neg, rnd, k->nrnd);
    }
    e = _mm256_mul_epi32(acc, m);
    o = _mm256_mul_epi32(_mm256_srli_epi64(acc, 32), mo);
    v = _mm256_mask_blend_epi32((__mmask8)0xAA, _mm256_srli_epi64(e, 32), o);
    v = _mm256_srav_epi32(_mm256_add_epi32(v, rnd), sh);
    if (k->mode == NBK_HSWISH) {
        const __m256i lim = _mm256_set1_epi32(1 << 20);
        __m256i t;
        v = _mm256_min_epi32(_mm256_max_epi32(v, _mm256_sub_epi32(_mm256_setzero_si256(), lim)), lim);
        t = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, k->three), _mm256_setzero_si256()), k->six);
        e = hs8_stage2(_mm256_mul_epi32(v, t), k->hm_e, k->hb_e, k->hs_e, k);
        o = hs8_stage2(_mm256_mul_epi32(_mm256_srli_epi64(v, 32), _mm256_srli_epi64(t, 32)), k->hm_o, k->hb_o, k->hs_o, k);
        v = _mm256_mask_blend_epi32((__mmask8)0xAA, e, _mm256_slli_epi64(o, 32));
        return _mm256_cvtepi32_epi8(_mm256_add_epi32(v, k->zp));
    }
    v = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, k->zp), k->lo), k->hi);
    return _mm256_cvtepi32_epi8(v);
}

/* MR rows x the first 8 channels of block n0/16 (channels n0..n0+7, at most 8 valid). */
KI void ukr_y8(const int MR, const uint8_t *a, int lda, int kq, const int8_t *w,
             const nbk_packed *p, int n0, int mr, int8_t *y, int ldy) {
    __m256i acc[16];
    const int rem = p->oc - n0;
    const __mmask16 km = (__mmask16)((1u << (rem < 8 ? rem : 8)) - 1);
    const col8 k = col8_load(p, n0);
    int q;
    NBK_UNROLL for (int r = 0; r < MR; r++) acc[r] = _mm256_loadu_si256((const __m256i *)(p->bias_u + n0));
    for (q = 0; q < kq; q++) {
        const __m256i wv = _mm256_loadu_si256((const __m256i *)(w + q * 64));
        NBK_UNROLL for (int r = 0; r < MR; r++)
            acc[r] = _mm256_dpbusd_epi32(acc[r], _mm256_set1_epi32(ld32(a + (long)r * lda + 4 * q)), wv);
    }
    NBK_UNROLL for (int r = 0; r < MR; r++)
        if (r < mr) _mm_mask_storeu_epi8(y + (long)r * ldy + n0, km, col8_rq(&k, acc[r]));
}

typedef void (*ukr8_fn)(const uint8_t *, int, int, const int8_t *, const nbk_packed *, int, int,
                        int8_t *, int);
#define DEF8(MR)                                                                                   \
    static TGT void ukr8_##MR(const uint8_t *a, int lda, int kq, const int8_t *w,                  \
                              const nbk_packed *p, int n0, int mr, int8_t *y, int ldy) {           \
        ukr_y8(MR, a, lda, kq, w, p, n0, mr, y, ldy);                                              \
    }
DEF8(1) DEF8(6) DEF8(8) DEF8(12) DEF8(16)

typedef void (*ukr_fn)(const uint8_t *, int, int, const int8_t *, long, const nbk_packed *, int,
                       int, int8_t *, int);
#define DEF(MR, NV)                                                                                \
    static TGT void ukr_##MR##_##NV(const uint8_t *a, int lda, int kq, const int8_t *w, long wbs,  \
                                    const nbk_packed *p, int n0, int mr, int8_t *y, int ldy) {     \
        ukr(MR, NV, a, lda, kq, w, wbs, p, n0, mr, y, ldy);                                        \
    }
DEF(1, 1) DEF(1, 2) DEF(1, 3) DEF(1, 4) DEF(1, 5) DEF(1, 6) DEF(1, 7) DEF(1, 8)
DEF(6, 1) DEF(6, 2) DEF(6, 3) DEF(6, 4)
DEF(8, 1) DEF(8, 2) DEF(8, 3)
DEF(12, 1) DEF(12, 2)
DEF(16, 1)
static const ukr_fn ukr1[9] = {0, ukr_1_1, ukr_1_2, ukr_1_3, ukr_1_4, ukr_1_5, ukr_1_6, ukr_1_7, ukr_1_8};
static const ukr_fn ukr6[5] = {0, ukr_6_1, ukr_6_2, ukr_6_3, ukr_6_4};
static const ukr_fn ukr8[4] = {0, ukr_8_1, ukr_8_2, ukr_8_3};
static const ukr_fn ukr12[3] = {0, ukr_12_1, ukr_12_2};
static const ukr_fn ukr16[2] = {0, ukr_16_1};

/* n bytes of int8 to u8 (x ^ 0x80 = x + 128). */
static TGT void xor_copy(uint8_t *d, const int8_t *s, long n) {
    const __m512i k80 = _mm512_set1_epi8((char)0x80);
    long i = 0;
    for (; i + 64 <= n; i += 64)
        _mm512_storeu_si512(d + i, _mm512_xor_si512(_mm512_loadu_si512(s + i), k80));
    if (i < n) {
        const __mmask64 m = ((__mmask64)1 << (n - i)) - 1;
        _mm512_mask_storeu_epi8(d + i, m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, s + i), k80));
    }
}

/* n bytes (n <= 64 per masked op) x ^ 0x80 from src to dst. */
KI void xcopy_small(uint8_t *dst, const int8_t *src, int n, __m512i k80) {
    int i;
    for (i = 0; i + 64 <= n; i += 64)
        _mm512_storeu_si512(dst + i, _mm512_xor_si512(_mm512_loadu_si512(src + i), k80));
    if (i < n) {
        const __mmask64 m = ((__mmask64)1 << (n - i)) - 1;
        _mm512_mask_storeu_epi8(dst + i, m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, src + i), k80));
    }
}

/* The patch of output pixel (oy, ox) as kp u8 (x ^ 0x80; taps outside the input are zp ^ 0x80,
 * k >= K are 0x80). A kernel row whose taps are all inside and adjacent (dilation 1) is one
 * contiguous run of kw*c input bytes: one masked copy. */
KI void patch_row_u8(const int8_t *x, const nbk_shape *s, int oy, int ox, uint8_t *dst, int zp, int kp) {
    const int c = s->c, run = s->kw * c;
    const __m512i k80 = _mm512_set1_epi8((char)0x80), zv = _mm512_set1_epi8((char)(zp ^ 0x80));
    const int ix0 = ox * s->sw - s->pl;
    const int colok = s->dw == 1 && ix0 >= 0 && ix0 + s->kw - 1 < s->w;
    int ky, kx, k = 0;
    for (ky = 0; ky < s->kh; ky++) {
        const int iy = oy * s->sh - s->pt + ky * s->dh;
        const int rowok = iy >= 0 && iy < s->h;
        const int8_t *src = x + ((long)iy * s->w + ix0) * c;
        if (rowok && colok) {
            xcopy_small(dst + k, src, run, k80);
            k += run;
            continue;
        }
        for (kx = 0; kx < s->kw; kx++, k += c) {
            const int ix = ix0 + kx * s->dw;
            if (rowok && ix >= 0 && ix < s->w) {
                xcopy_small(dst + k, src + (long)kx * s->dw * c, c, k80);
            } else {
                int i;
                for (i = 0; i + 64 <= c; i += 64) _mm512_storeu_si512(dst + k + i, zv);
                if (i < c) _mm512_mask_storeu_epi8(dst + k + i, ((__mmask64)1 << (c - i)) - 1, zv);
            }
        }
    }
    if (k < kp) _mm512_mask_storeu_epi8(dst + k, ((__mmask64)1 << (kp - k)) - 1, k80);
}

TGT void nbk_conv_avx512vnni(const int8_t *x, const nbk_shape *s, const nbk_packed *p, int8_t *y,
                             void *scratch) {
    const int P = s->oh * s->ow, kp = p->kp, kq = kp / 4, nb = p->ocp / 16, oc = p->oc, c = s->c;
    const long wbs = (long)kp * 16;
    const int pw = nbk_pointwise(s);
    const ukr_fn *tab;
    ukr8_fn tail8;
    /* a last block of at most 8 channels goes through the ymm kernel */
    const int nb16 = (oc & 15) && (oc & 15) <= 8 && nbk_avx512_ymm_tail ? nb - 1 : nb;
    int MR, NV, mc, p0;
    uint8_t *A = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    if (P < 4) {
        MR = 1, NV = nb < 8 ? nb : 8, tab = ukr1;
    } else if (nb >= 4) {
        MR = 6, NV = 4, tab = ukr6;
    } else if (nb == 3) {
        MR = 8, NV = 3, tab = ukr8;
    } else if (nb == 2) {
        MR = 12, NV = 2, tab = ukr12;
    } else {
        MR = 16, NV = 1, tab = ukr16;
    }
    if (nb16 == 0 && P >= 4) MR = 16, tab = ukr16; /* OC <= 8: only the ymm kernel runs */
    tail8 = MR == 1 ? ukr8_1 : MR == 6 ? ukr8_6 : MR == 8 ? ukr8_8 : MR == 12 ? ukr8_12 : ukr8_16;
    mc = nbk_mc(kp, MR, P);
    for (p0 = 0; p0 < P; p0 += mc) {
        const int n = P - p0 < mc ? P - p0 : mc, nr = ((n + MR - 1) / MR) * MR;
        int i, b, m0;
        /* The A tile: n rows of kp u8 (rows n..nr-1 are computed but not stored). */
        if (pw && kp == c) {
            xor_copy(A, x + (long)p0 * c, (long)n * c);
        } else if (pw) {
            for (i = 0; i < n; i++) {
                memset(A + (long)i * kp + c, 0x80, (size_t)(kp - c));
                xor_copy(A + (long)i * kp, x + (long)(p0 + i) * c, c);
            }
        } else {
            int oy = p0 / s->ow, ox = p0 - oy * s->ow;
            for (i = 0; i < n; i++) {
                patch_row_u8(x, s, oy, ox, A + (long)i * kp, p->zp, kp);
                if (++ox == s->ow) ox = 0, oy++;
            }
        }
        if (nr > n) memset(A + (long)n * kp, 0x80, (size_t)(nr - n) * kp);
        for (b = 0; b < nb16; b += NV) {
            const int nv = nb16 - b < NV ? nb16 - b : NV;
            const ukr_fn f = tab[nv];
            for (m0 = 0; m0 < n; m0 += MR)
                f(A + (long)m0 * kp, kp, kq, p->w + (long)b * wbs, wbs, p, b * 16,
                  n - m0 < MR ? n - m0 : MR, y + (long)(p0 + m0) * oc, oc);
        }
        if (nb16 < nb)
            for (m0 = 0; m0 < n; m0 += MR)
                tail8(A + (long)m0 * kp, kp, kq, p->w + (long)nb16 * wbs, p, nb16 * 16,
                      n - m0 < MR ? n - m0 : MR, y + (long)(p0 + m0) * oc, oc);
    }
}

/* ---- depthwise: lanes = 16 channels, vpdpwssd of sign-extended x against (w, 0) --------- */

/* One output pixel's 16 channels (cb..) where some taps fall outside: those read zp. */
KI __m512i dw_border(const int8_t *const *rows, const int8_t *zprow, const nbk_shape *s,
                     const int32_t *w32, int cp, int ox, int cb, __mmask16 km, __m512i acc) {
    int ky, kx;
    for (ky = 0; ky < s->kh; ky++) {
        for (kx = 0; kx < s->kw; kx++) {
            const int ix = ox * s->sw - s->pl + kx * s->dw;
            const int8_t *src = (ix < 0 || ix >= s->w) ? zprow + cb : rows[ky] + (long)ix * s->c + cb;
            const __m512i xv = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(km, src));
            acc = _mm512_dpwssd_epi32(acc, xv, _mm512_loadu_si512(w32 + (long)(ky * s->kw + kx) * cp + cb));
        }
    }
    return acc;
}

/* PX interior pixels (every tap inside the input) from ox, channels cb..cb+15. */
KI void dw_interior(const int PX, const int KH, const int KW, const int8_t *const *rows,
                    const nbk_shape *s, const nbk_dw_packed *d, int ox, int cb, __mmask16 km,
                    int8_t *yrow) {
    const int c = s->c, cp = d->p.ocp, sw = s->sw;
    const __m512i bias = _mm512_loadu_si512(d->p.bias_s + cb);
    __m512i acc[8];
    NBK_UNROLL for (int u = 0; u < PX; u++) acc[u] = bias;
    NBK_UNROLL for (int ky = 0; ky < KH; ky++) {
        const int8_t *row = rows[ky] + (long)(ox * sw - s->pl) * c + cb;
        NBK_UNROLL for (int kx = 0; kx < KW; kx++) {
            const __m512i wv = _mm512_loadu_si512(d->w32 + (long)(ky * KW + kx) * cp + cb);
            const int8_t *src = row + (long)kx * s->dw * c;
            NBK_UNROLL for (int u = 0; u < PX; u++) {
                const __m512i xv = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(km, src + (long)u * sw * c));
                acc[u] = _mm512_dpwssd_epi32(acc[u], xv, wv);
            }
        }
    }
    {
        const col16 k = col_load(&d->p, cb);
        NBK_UNROLL for (int u = 0; u < PX; u++)
            _mm_mask_storeu_epi8(yrow + (long)(ox + u) * c + cb, km, col_rq(&k, acc[u]));
    }
}

KI void dw_run(const int KH, const int KW, const int8_t *x, const nbk_shape *s,
               const nbk_dw_packed *d, int8_t *y, void *scratch) {
    const int c = s->c, cp = d->p.ocp;
    int8_t *zprow = (int8_t *)scratch;
    const int8_t *rows[16];
    int oy, ox, ky, cb, ox_lo, ox_hi;
    memset(zprow, d->p.zp, nbk_zprow_bytes(s));
    /* Interior columns: ox*sw - pl >= 0 and ox*sw - pl + (kw-1)*dw <= w-1. */
    ox_lo = (s->pl + s->sw - 1) / s->sw;
    ox_hi = s->w - 1 - (s->kw - 1) * s->dw + s->pl;
    ox_hi = ox_hi < 0 ? 0 : ox_hi / s->sw + 1;
    if (ox_hi > s->ow) ox_hi = s->ow;
    if (ox_lo > ox_hi) ox_lo = ox_hi;
    for (oy = 0; oy < s->oh; oy++) {
        int8_t *yrow = y + (long)oy * s->ow * c;
        for (ky = 0; ky < s->kh; ky++) {
            const int iy = oy * s->sh - s->pt + ky * s->dh;
            rows[ky] = (iy < 0 || iy >= s->h) ? zprow + (long)s->pl * c : x + (long)iy * s->w * c;
        }
        /* rows[] of missing input rows point into the zero-point row, shifted so that the
         * interior path's negative-free offsets stay inside it. */
        for (cb = 0; cb < c; cb += 16) {
            const int rem = c - cb;
            const __mmask16 km = rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1);
            for (ox = 0; ox < ox_lo; ox++) {
                const __m512i acc = dw_border(rows, zprow, s, d->w32, cp, ox, cb, km,
                                              _mm512_loadu_si512(d->p.bias_s + cb));
                _mm_mask_storeu_epi8(yrow + (long)ox * c + cb, km, rq16(acc, &d->p, cb));
            }
            for (; ox + 8 <= ox_hi; ox += 8) dw_interior(8, KH, KW, rows, s, d, ox, cb, km, yrow);
            for (; ox + 4 <= ox_hi; ox += 4) dw_interior(4, KH, KW, rows, s, d, ox, cb, km, yrow);
            for (; ox < ox_hi; ox++) dw_interior(1, KH, KW, rows, s, d, ox, cb, km, yrow);
            for (; ox < s->ow; ox++) {
                const __m512i acc = dw_border(rows, zprow, s, d->w32, cp, ox, cb, km,
                                              _mm512_loadu_si512(d->p.bias_s + cb));
                _mm_mask_storeu_epi8(yrow + (long)ox * c + cb, km, rq16(acc, &d->p, cb));
            }
        }
    }
}

/* ---- depthwise with VBMI: quads of 4 horizontal taps x 16 channels for vpdpbusd ----------
 * Per block of 16 channels the input is first copied into a plane of u8 (x ^ 0x80), padded with
 * zp ^ 0x80 all around, 16 bytes per pixel: then the 64 bytes at pixel j hold pixels j..j+3 and
 * one vpermb turns them into 16 lanes of (p_j, p_j+1, p_j+2, p_j+3) of one channel: a quad that
 * vpdpbusd multiplies by 4 taps of that channel. Taps kx 0..3 use the quad at the window's
 * first pixel; a fifth tap (kw 5) uses the next pixel's quad with weights (0, 0, 0, w4). The
 * folded bias_u absorbs the +128 and the zero point, as for conv. Dilation 1 along x. */
#define TGTB __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vbmi")))
#define KIB static inline __attribute__((always_inline)) TGTB

KIB void dwq_plane(const int8_t *x, const nbk_shape *s, int cb, int zp, uint8_t *plane, int ph, int pw) {
    const int c = s->c, rem = c - cb;
    const __mmask16 km = rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1);
    const __m128i k80 = _mm_set1_epi8((char)0x80), zv = _mm_set1_epi8((char)(zp ^ 0x80));
    int r, j;
    for (r = 0; r < ph; r++) {
        const int iy = r - s->pt;
        uint8_t *row = plane + (long)r * pw * 16;
        if (iy < 0 || iy >= s->h) {
            for (j = 0; j < pw; j++) _mm_storeu_si128((__m128i *)(row + j * 16), zv);
            continue;
        }
        for (j = 0; j < pw; j++) {
            const int ix = j - s->pl;
            __m128i v = zv;
            if (ix >= 0 && ix < s->w)
                v = _mm_xor_si128(_mm_maskz_loadu_epi8(km, x + ((long)iy * s->w + ix) * c + cb), k80);
            _mm_storeu_si128((__m128i *)(row + j * 16), v);
        }
    }
}

/* PX output pixels from ox of output row oy, channels cb.. (block index b). */
KIB void dwq_px(const int PX, const int KH, const int KW, const int SW, const uint8_t *plane, int pw,
                const nbk_shape *s, const nbk_dw_packed *d, int oy, int ox, int b, int cb,
                __mmask16 km, int8_t *y) {
    const __m512i idx = _mm512_set_epi8(63, 47, 31, 15, 62, 46, 30, 14, 61, 45, 29, 13, 60, 44, 28, 12,
                                        59, 43, 27, 11, 58, 42, 26, 10, 57, 41, 25, 9, 56, 40, 24, 8,
                                        55, 39, 23, 7, 54, 38, 22, 6, 53, 37, 21, 5, 52, 36, 20, 4,
                                        51, 35, 19, 3, 50, 34, 18, 2, 49, 33, 17, 1, 48, 32, 16, 0);
    const __m512i bias = _mm512_loadu_si512(d->p.bias_u + cb);
    __m512i acc[8];
    NBK_UNROLL for (int u = 0; u < PX; u++) acc[u] = bias;
    NBK_UNROLL for (int ky = 0; ky < KH; ky++) {
        const uint8_t *base = plane + ((long)(oy * s->sh + ky * s->dh) * pw + (long)ox * SW) * 16;
        const int8_t *wq = d->wq + ((long)b * KH + ky) * 128;
        const __m512i w0 = _mm512_loadu_si512(wq);
        __m512i q[18];
        NBK_UNROLL for (int j = 0; j < (PX - 1) * SW + 1 + (KW == 5); j++)
            q[j] = _mm512_permutexvar_epi8(idx, _mm512_loadu_si512(base + j * 16));
        NBK_UNROLL for (int u = 0; u < PX; u++) acc[u] = _mm512_dpbusd_epi32(acc[u], q[u * SW], w0);
        if (KW == 5) {
            const __m512i w1 = _mm512_loadu_si512(wq + 64);
            NBK_UNROLL for (int u = 0; u < PX; u++) acc[u] = _mm512_dpbusd_epi32(acc[u], q[u * SW + 1], w1);
        }
    }
    {
        const col16 k = col_load(&d->p, cb);
        NBK_UNROLL for (int u = 0; u < PX; u++)
            _mm_mask_storeu_epi8(y + ((long)oy * s->ow + ox + u) * s->c + cb, km, col_rq(&k, acc[u]));
    }
}

KIB void dwq_run(const int KH, const int KW, const int SW, const int8_t *x, const nbk_shape *s,
                 const nbk_dw_packed *d, int8_t *y, void *scratch) {
    const int c = s->c;
    const int ph = (s->oh - 1) * s->sh + (s->kh - 1) * s->dh + 1, pw = (s->ow - 1) * s->sw + s->kw + 8;
    uint8_t *plane = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    int cb, oy, ox;
    for (cb = 0; cb < c; cb += 16) {
        const int rem = c - cb;
        const __mmask16 km = rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1);
        dwq_plane(x, s, cb, d->p.zp, plane, ph, pw);
        for (oy = 0; oy < s->oh; oy++) {
            for (ox = 0; ox + 8 <= s->ow; ox += 8) dwq_px(8, KH, KW, SW, plane, pw, s, d, oy, ox, cb / 16, cb, km, y);
            for (; ox < s->ow; ox++) dwq_px(1, KH, KW, SW, plane, pw, s, d, oy, ox, cb / 16, cb, km, y);
        }
    }
}

#define DWQ(KH, KW, SW)                                                                            \
    static TGTB void dwq_##KH##_##KW##_##SW(const int8_t *x, const nbk_shape *s,                   \
                                            const nbk_dw_packed *d, int8_t *y, void *t) {          \
        dwq_run(KH, KW, SW, x, s, d, y, t);                                                        \
    }
DWQ(3, 3, 1) DWQ(3, 3, 2) DWQ(5, 5, 1) DWQ(5, 5, 2)

/* The VBMI quad kernel when it applies (returns 0 otherwise). */
static int dwq(const int8_t *x, const nbk_shape *s, const nbk_dw_packed *d, int8_t *y, void *t) {
    if (nbk_avx512_vbmi < 0) {
        __builtin_cpu_init();
        nbk_avx512_vbmi = __builtin_cpu_supports("avx512vbmi") != 0;
    }
    if (!nbk_avx512_vbmi || s->dw != 1 || s->kh != s->kw || (s->kw != 3 && s->kw != 5) || s->sw > 2) return 0;
    if (s->kw == 3) (s->sw == 1 ? dwq_3_3_1 : dwq_3_3_2)(x, s, d, y, t);
    else (s->sw == 1 ? dwq_5_5_1 : dwq_5_5_2)(x, s, d, y, t);
    return 1;
}

static TGT void dw_3x3(const int8_t *x, const nbk_shape *s, const nbk_dw_packed *d, int8_t *y, void *t) {
    dw_run(3, 3, x, s, d, y, t);
}
static TGT void dw_5x5(const int8_t *x, const nbk_shape *s, const nbk_dw_packed *d, int8_t *y, void *t) {
    dw_run(5, 5, x, s, d, y, t);
}

TGT void nbk_dw_avx512(const int8_t *x, const nbk_shape *s, const nbk_dw_packed *d, int8_t *y,
                       void *scratch) {
    if (dwq(x, s, d, y, scratch)) {
        return;
    } else if (s->kh == 3 && s->kw == 3) {
        dw_3x3(x, s, d, y, scratch);
    } else if (s->kh == 5 && s->kw == 5) {
        dw_5x5(x, s, d, y, scratch);
    } else {
        /* Any other kernel: every pixel through the border path. */
        const int c = s->c, cp = d->p.ocp;
        int8_t *zprow = (int8_t *)scratch;
        const int8_t *rows[64];
        int oy, ox, ky, cb;
        memset(zprow, d->p.zp, nbk_zprow_bytes(s));
        for (oy = 0; oy < s->oh; oy++) {
            for (ky = 0; ky < s->kh; ky++) {
                const int iy = oy * s->sh - s->pt + ky * s->dh;
                rows[ky] = (iy < 0 || iy >= s->h) ? zprow + (long)s->pl * c : x + (long)iy * s->w * c;
            }
            for (ox = 0; ox < s->ow; ox++)
                for (cb = 0; cb < c; cb += 16) {
                    const int rem = c - cb;
                    const __mmask16 km = rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1);
                    const __m512i acc = dw_border(rows, zprow, s, d->w32, cp, ox, cb, km,
                                                  _mm512_loadu_si512(d->p.bias_s + cb));
                    _mm_mask_storeu_epi8(y + ((long)oy * s->ow + ox) * c + cb, km, rq16(acc, &d->p, cb));
                }
        }
    }
}
#endif
