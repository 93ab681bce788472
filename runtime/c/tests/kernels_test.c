/* Bit-exactness test of nibble_kernels: every variant this CPU runs (AVX-512 VNNI with and
 * without its ymm tail and VBMI depthwise quads, AVX2, NEON, C99) against a reference made of
 * exact 64-bit sums and nibble_runtime.c's own nb_requant, on random shapes (odd channel counts,
 * strides, asymmetric padding, dilations, FC rows; plain, PReLU, hard-swish and swish
 * epilogues; fast32, wide and 64-bit requantization) and on the shared models' layer shapes. Also checks nb_conv2d and
 * nb_depthwise_conv2d on the first cases. The packing below (weights, folded biases, padded
 * requantization, fast32) is what the compiler is to do at compile time (docs/kernels.md).
 *   cc -std=c99 -O2 -I runtime/c runtime/c/tests/kernels_test.c runtime/c/nibble_*.c -o t && ./t N
 * Exit status 0 iff every output is bit-identical. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nibble_kernels.h"
#include "nibble_runtime.h"

typedef struct {
    const char *model, *kind;
    int h, w, c, oc, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, oh, ow;
} layer;
static const layer LAYERS[] = {
#include "kernels_layers.h"
};

static uint64_t rs = 88172645463325252ull;
static uint32_t rnd(void) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 11);
}
static int rr(int lo, int hi) { return (int)(lo + (int64_t)(rnd() % (uint32_t)((int64_t)hi - lo + 1))); }

/* ---- one problem: data, nb_rq, and the packed form --------------------------------------- */
typedef struct {
    nbk_shape s;
    int dw, mode;
    int8_t *x, *w;
    int32_t *bias, *mult, *shift, *nmult, *nshift, *hshift;
    int64_t *hmult, *hbias;
    int64_t three, six;
    int32_t table[257];
    nb_hswish hs;
    nb_swish sw;
    nb_rq rq;
} problem;

static void *xmalloc(size_t n) {
    void *p = calloc(n ? n : 1, 1);
    if (!p) exit(3);
    return p;
}

static void make_rq(problem *pb, int zp) {
    const int oc = pb->s.oc, mode = pb->mode, fast = rnd() % 2;
    int o;
    pb->mult = xmalloc(4 * (size_t)oc), pb->shift = xmalloc(4 * (size_t)oc);
    pb->nmult = xmalloc(4 * (size_t)oc), pb->nshift = xmalloc(4 * (size_t)oc);
    pb->hshift = xmalloc(4 * (size_t)oc);
    pb->hmult = xmalloc(8 * (size_t)oc), pb->hbias = xmalloc(8 * (size_t)oc);
    for (o = 0; o < oc; o++) {
        pb->mult[o] = (int32_t)((1u << 30) + (rnd() & ((1u << 30) - 1)));
        pb->shift[o] = rnd() % 16 == 0 ? rr(1, 40) : rr(30, 44);
        pb->nmult[o] = (int32_t)((1u << 30) + (rnd() & ((1u << 30) - 1))) * (rnd() & 1 ? -1 : 1);
        pb->nshift[o] = rr(30, 46);
        pb->hshift[o] = rr(36, 52);
        pb->hmult[o] = rr(1, 1 << 20);
        pb->hbias[o] = ((int64_t)rr(-(1 << 30), 1 << 30)) * ((int64_t)1 << rr(0, 8));
        if (mode == NBK_HSWISH || mode == NBK_SWISH) pb->shift[o] = rr(20, 32);
        if (fast) {
            pb->shift[o] = mode == NBK_HSWISH ? rr(33, 36) : (rnd() % 16 == 0 ? rr(33, 62) : rr(33, 44));
            pb->nshift[o] = rr(33, 46);
        }
    }
    pb->three = rr(1 << 8, 1 << 16);
    pb->six = 2 * pb->three;
    /* a sigmoid-like table (Q15, rising from 0 to 32768 with jitter); swish's output rescaling is
     * one triple for the tensor */
    for (o = 0; o < 257; o++) pb->table[o] = o * 128 + (o > 0 && o < 256 ? rr(-64, 64) : 0);
    if (mode == NBK_SWISH)
        for (o = 1; o < oc; o++) pb->hmult[o] = pb->hmult[0], pb->hshift[o] = pb->hshift[0], pb->hbias[o] = pb->hbias[0];
    memset(&pb->rq, 0, sizeof pb->rq);
    pb->rq.input_zp = zp;
    pb->rq.output_zp = rr(-20, 20);
    pb->rq.clamp_min = rnd() % 2 ? -128 : rr(-128, 0);
    pb->rq.clamp_max = rnd() % 2 ? 127 : rr(1, 127);
    pb->rq.channels = oc;
    pb->rq.multiplier = pb->mult;
    pb->rq.shift = pb->shift;
    if (mode == NBK_PRELU) pb->rq.neg_multiplier = pb->nmult, pb->rq.neg_shift = pb->nshift;
    if (mode == NBK_HSWISH) {
        pb->hs.three = pb->three, pb->hs.six = pb->six, pb->hs.channels = oc;
        pb->hs.multiplier = pb->hmult, pb->hs.shift = pb->hshift, pb->hs.bias = pb->hbias;
        pb->rq.hswish = &pb->hs;
    }
    if (mode == NBK_SWISH) {
        pb->sw.table = pb->table, pb->sw.multiplier = pb->hmult[0], pb->sw.shift = pb->hshift[0];
        pb->sw.bias = pb->hbias[0];
        pb->rq.swish = &pb->sw;
    }
}

static void make_problem(problem *pb, const nbk_shape *s, int dw, int mode, int zp) {
    const long xn = (long)s->h * s->w * s->c;
    const long wn = dw ? (long)s->kh * s->kw * s->c : (long)s->oc * s->kh * s->kw * s->c;
    long i;
    pb->s = *s, pb->dw = dw, pb->mode = mode;
    pb->x = xmalloc((size_t)xn), pb->w = xmalloc((size_t)wn), pb->bias = xmalloc(4 * (size_t)s->oc);
    for (i = 0; i < xn; i++) pb->x[i] = (int8_t)rr(-128, 127);
    for (i = 0; i < wn; i++) pb->w[i] = (int8_t)rr(-127, 127);
    for (i = 0; i < s->oc; i++) pb->bias[i] = rr(-(1 << 16), 1 << 16);
    make_rq(pb, zp);
}

static void free_problem(problem *pb) {
    free(pb->x), free(pb->w), free(pb->bias), free(pb->mult), free(pb->shift), free(pb->nmult);
    free(pb->nshift), free(pb->hshift), free(pb->hmult), free(pb->hbias);
}

/* The packed form's storage (the compiler's const arrays). */
typedef struct {
    int8_t *w, *w8, *wq;
    int32_t *w32, *bias_s, *bias_u, *mult, *shift, *nmult, *nshift, *hshift;
    int64_t *hmult, *hbias, *hm_eo, *hb_eo, *hs_eo;
} store;

static int32_t *pad32(const int32_t *src, int n, int np, int32_t fill) {
    int32_t *d = xmalloc(4 * (size_t)np);
    int i;
    for (i = 0; i < np; i++) d[i] = i < n ? src[i] : fill;
    return d;
}
static int64_t *pad64(const int64_t *src, int n, int np) {
    int64_t *d = xmalloc(8 * (size_t)np);
    int i;
    for (i = 0; i < n; i++) d[i] = src[i];
    return d;
}

/* Per-channel constants (compile-time work): folded biases, padded requantization, fast32. */
static void pack_consts(nbk_packed *p, store *st, const problem *pb, int ocp, const int64_t *wsum) {
    const int oc = pb->s.oc, zp = pb->rq.input_zp;
    int o;
    p->oc = oc, p->ocp = ocp;
    st->bias_s = xmalloc(4 * (size_t)ocp), st->bias_u = xmalloc(4 * (size_t)ocp);
    for (o = 0; o < oc; o++) {
        st->bias_s[o] = (int32_t)(uint32_t)((uint64_t)pb->bias[o] - (uint64_t)((int64_t)zp * wsum[o]));
        st->bias_u[o] = (int32_t)(uint32_t)((uint64_t)pb->bias[o] - (uint64_t)(((int64_t)zp + 128) * wsum[o]));
    }
    p->bias_s = st->bias_s, p->bias_u = st->bias_u;
    p->mode = pb->mode, p->zp = zp, p->out_zp = pb->rq.output_zp;
    p->lo = pb->rq.clamp_min, p->hi = pb->rq.clamp_max;
    p->mult = st->mult = pad32(pb->mult, oc, ocp, 1 << 30);
    p->shift = st->shift = pad32(pb->shift, oc, ocp, 40);
    p->neg_mult = p->mult, p->neg_shift = p->shift;
    if (pb->mode == NBK_PRELU) {
        p->neg_mult = st->nmult = pad32(pb->nmult, oc, ocp, 1 << 30);
        p->neg_shift = st->nshift = pad32(pb->nshift, oc, ocp, 40);
    }
    p->fast32 = 1;
    p->wide = pb->mode != NBK_PRELU;
    for (o = 0; o < ocp; o++) {
        if (p->shift[o] < 33 || p->shift[o] > 62) p->fast32 = 0;
        if (p->neg_shift[o] < 33 || p->neg_shift[o] > 62) p->fast32 = 0;
    }
    if (pb->mode == NBK_SWISH) {
        /* table entries within [0, 2^16]; |2^36 m| + |bias| + 2^(s-1) < 2^62 holds for the test's
         * constants (m <= 2^20, |bias| < 2^38, s <= 52) */
        p->fast32 = 0;
        p->sw_table = pb->table;
    }
    if (pb->mode == NBK_HSWISH || pb->mode == NBK_SWISH) {
        p->three = pb->three, p->six = pb->six;
        p->hs_shift = st->hshift = pad32(pb->hshift, oc, ocp, 40);
        p->hs_mult = st->hmult = pad64(pb->hmult, oc, ocp);
        p->hs_bias = st->hbias = pad64(pb->hbias, oc, ocp);
        st->hm_eo = xmalloc(8 * (size_t)ocp), st->hb_eo = xmalloc(8 * (size_t)ocp);
        st->hs_eo = xmalloc(8 * (size_t)ocp);
        for (o = 0; o < ocp; o++) {
            const int g = o & ~15, j = o & 15, src = g + (j < 8 ? 2 * j : 2 * (j - 8) + 1);
            st->hm_eo[o] = p->hs_mult[src];
            st->hb_eo[o] = p->hs_bias[src] + ((int64_t)1 << (p->hs_shift[src] - 1));
            st->hs_eo[o] = p->hs_shift[src];
        }
        p->hs_mult_eo = st->hm_eo, p->hs_bias_eo = st->hb_eo, p->hs_sh1_eo = st->hs_eo;
        /* the test's hard-swish constants keep |2^20 six m| + |bias| + 2^(s-1) < 2^62 */
        if (!(p->three > -((int64_t)1 << 30) && p->three < ((int64_t)1 << 30) && p->six >= 0 &&
              p->six < ((int64_t)1 << 31)))
            p->fast32 = p->wide = 0;
    }
}

static void pack_conv(nbk_packed *p, store *st, const problem *pb) {
    const nbk_shape *s = &pb->s;
    const int k = s->kh * s->kw * s->c, kp = (k + 3) & ~3, oc = s->oc, ocp = (oc + 15) & ~15;
    int64_t *wsum = xmalloc(8 * (size_t)oc);
    int o, kk;
    memset(p, 0, sizeof *p);
    p->k = k, p->kp = kp;
    st->w = xmalloc((size_t)ocp * (size_t)kp);
    for (o = 0; o < oc; o++)
        for (kk = 0; kk < k; kk++) {
            const int8_t v = pb->w[(long)o * k + kk];
            st->w[((long)(o >> 4) * (kp / 4) + kk / 4) * 64 + (o & 15) * 4 + (kk & 3)] = v;
            wsum[o] += v;
        }
    p->w = st->w;
    pack_consts(p, st, pb, ocp, wsum);
    free(wsum);
}

static void pack_dw(nbk_dw_packed *d, store *st, const problem *pb) {
    const nbk_shape *s = &pb->s;
    const int taps = s->kh * s->kw, c = s->c, cp = (c + 15) & ~15;
    int64_t *wsum = xmalloc(8 * (size_t)c);
    int t, ch;
    memset(d, 0, sizeof *d);
    d->p.k = d->p.kp = taps;
    st->w32 = xmalloc(4 * (size_t)taps * (size_t)cp), st->w8 = xmalloc((size_t)taps * (size_t)cp);
    st->wq = xmalloc((size_t)(cp / 16) * (size_t)s->kh * 128);
    for (t = 0; t < taps; t++)
        for (ch = 0; ch < c; ch++) {
            const int8_t v = pb->w[(long)t * c + ch];
            st->w32[(long)t * cp + ch] = (int32_t)(uint16_t)(int16_t)v;
            st->w8[(long)t * cp + ch] = v;
            wsum[ch] += v;
        }
    if (s->kw <= 5)
        for (ch = 0; ch < c; ch++) {
            int ky, kx;
            for (ky = 0; ky < s->kh; ky++)
                for (kx = 0; kx < s->kw; kx++) {
                    int8_t *q = st->wq + ((long)(ch >> 4) * s->kh + ky) * 128;
                    const int8_t v = pb->w[(long)(ky * s->kw + kx) * c + ch];
                    if (kx < 4) q[(ch & 15) * 4 + kx] = v;
                    else q[64 + (ch & 15) * 4 + 3] = v;
                }
        }
    d->w32 = st->w32, d->w8 = st->w8, d->wq = st->wq;
    pack_consts(&d->p, st, pb, cp, wsum);
    free(wsum);
}

static void free_store(store *st) {
    free(st->w), free(st->w8), free(st->wq), free(st->w32), free(st->bias_s), free(st->bias_u);
    free(st->mult), free(st->shift), free(st->nmult), free(st->nshift), free(st->hshift);
    free(st->hmult), free(st->hbias), free(st->hm_eo), free(st->hb_eo), free(st->hs_eo);
    memset(st, 0, sizeof *st);
}

/* The scratch bytes a layer needs (a static buffer the compiler
 * would size with the largest over the model). */
static size_t scratch_bytes(const nbk_shape *s) {
    const size_t kp = (size_t)((s->kh * s->kw * s->c + 3) & ~3);
    size_t rows = 16384 / kp;
    const size_t plane = ((size_t)(s->oh - 1) * s->sh + (size_t)(s->kh - 1) * s->dh + 1) *
                         ((size_t)(s->ow - 1) * s->sw + (size_t)s->kw + 8) * 16 + 128;
    if (rows < 32) rows = 32;
    return plane + (rows + 32) * kp * 2 +
           ((size_t)s->w + (size_t)s->pl + (size_t)s->pr + (size_t)s->kw * (size_t)s->dw + 1) *
               (size_t)s->c + kp + 4096;
}

/* ---- reference: exact sums, then nibble's nb_requant -------------------------------------- */
static void reference(const problem *pb, int8_t *y) {
    const nbk_shape *s = &pb->s;
    const int zp = pb->rq.input_zp;
    int oy, ox, o, ky, kx, ch;
    for (oy = 0; oy < s->oh; oy++)
        for (ox = 0; ox < s->ow; ox++)
            for (o = 0; o < s->oc; o++) {
                int64_t acc = pb->bias[o];
                for (ky = 0; ky < s->kh; ky++)
                    for (kx = 0; kx < s->kw; kx++) {
                        const int iy = oy * s->sh - s->pt + ky * s->dh, ix = ox * s->sw - s->pl + kx * s->dw;
                        const int8_t *xp = pb->x + ((long)iy * s->w + ix) * s->c;
                        if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) continue;
                        if (pb->dw) {
                            acc += (int64_t)(xp[o] - zp) * pb->w[(long)(ky * s->kw + kx) * s->c + o];
                        } else {
                            const int8_t *wp = pb->w + (((long)o * s->kh + ky) * s->kw + kx) * s->c;
                            for (ch = 0; ch < s->c; ch++) acc += (int64_t)(xp[ch] - zp) * wp[ch];
                        }
                    }
                y[((long)oy * s->ow + ox) * s->oc + o] = (int8_t)nb_requant(acc, &pb->rq, o);
            }
}

/* nibble's nb_conv2d / nb_depthwise_conv2d on the same problem. */
static void run_generic(const problem *pb, int8_t *y) {
    const nbk_shape *s = &pb->s;
    const int pad[4] = {s->pt, s->pb, s->pl, s->pr}, stride[2] = {s->sh, s->sw}, dil[2] = {s->dh, s->dw};
    if (pb->dw)
        nb_depthwise_conv2d(pb->x, 8, s->h, s->w, s->c, pb->w, s->kh, s->kw, pb->bias, y, 8, s->oh,
                            s->ow, pad, stride, dil, &pb->rq);
    else
        nb_conv2d(pb->x, 8, s->h, s->w, s->c, pb->w, s->oc, s->kh, s->kw, pb->bias, y, 8, s->oh,
                  s->ow, pad, stride, dil, &pb->rq, s->oh, s->oc < 256 ? s->oc : 256);
}

/* ---- the variants -------------------------------------------------------------------------- */
typedef struct {
    const char *name;
    nbk_conv_fn conv;
    nbk_dw_fn dw;
    int ymm_tail, vbmi; /* AVX-512 switches */
} variant;
static variant V[8];
static int nv;

static void add(const char *name, nbk_conv_fn conv, nbk_dw_fn dw, int ymm_tail, int vbmi) {
    V[nv].name = name, V[nv].conv = conv, V[nv].dw = dw, V[nv].ymm_tail = ymm_tail, V[nv].vbmi = vbmi;
    nv++;
}

static void init_variants(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
        add("avx512vnni", nbk_conv_avx512vnni, nbk_dw_avx512, 1, -1);
        add("avx512vnni-zmm-only-no-vbmi", nbk_conv_avx512vnni, nbk_dw_avx512, 0, 0);
    }
    if (__builtin_cpu_supports("avx2")) add("avx2", nbk_conv_avx2, nbk_dw_avx2, 1, -1);
#endif
#if defined(__aarch64__)
    add("neon", nbk_conv_neon, nbk_dw_neon, 1, -1);
#endif
    add("c99", nbk_conv_c99, nbk_dw_c99, 1, -1);
}

static void run_variant(const variant *v, const problem *pb, const nbk_packed *pk,
                        const nbk_dw_packed *dk, int8_t *y, void *scratch) {
#if defined(__x86_64__) && defined(__GNUC__)
    nbk_avx512_ymm_tail = v->ymm_tail, nbk_avx512_vbmi = v->vbmi;
#endif
    if (pb->dw) v->dw(pb->x, &pb->s, dk, y, scratch);
    else v->conv(pb->x, &pb->s, pk, y, scratch);
}

/* Runs every variant (and nb_conv2d / nb_depthwise_conv2d if `generic`) on one problem; returns
 * how many disagree with the reference. */
static int test_case(const nbk_shape *s0, int dw, int mode, int zp, int generic, int verbose) {
    problem pb;
    nbk_packed pk;
    nbk_dw_packed dk;
    store st;
    nbk_shape s = *s0;
    long yn, j;
    int8_t *ref, *y;
    void *scratch;
    int i, bad = 0;
    if (dw) s.oc = s.c;
    s.oh = (s.h + s.pt + s.pb - s.dh * (s.kh - 1) - 1) / s.sh + 1;
    s.ow = (s.w + s.pl + s.pr - s.dw * (s.kw - 1) - 1) / s.sw + 1;
    if (s.oh < 1 || s.ow < 1 || s.h + s.pt + s.pb < s.dh * (s.kh - 1) + 1 ||
        s.w + s.pl + s.pr < s.dw * (s.kw - 1) + 1)
        return 0;
    make_problem(&pb, &s, dw, mode, zp);
    yn = (long)s.oh * s.ow * s.oc;
    ref = xmalloc((size_t)yn), y = xmalloc((size_t)yn);
    scratch = xmalloc(scratch_bytes(&s));
    reference(&pb, ref);
    memset(&st, 0, sizeof st);
    if (dw) pack_dw(&dk, &st, &pb);
    else pack_conv(&pk, &st, &pb);
    for (i = -1; i < nv; i++) {
        const char *name = i < 0 ? "nb_conv2d/nb_depthwise_conv2d" : V[i].name;
        if (i < 0 && !generic) continue;
        memset(y, 0x5a, (size_t)yn);
        if (i < 0) run_generic(&pb, y);
        else run_variant(&V[i], &pb, &pk, &dk, y, scratch);
        for (j = 0; j < yn && y[j] == ref[j]; j++) continue;
        if (j < yn) {
            bad++;
            if (verbose)
                printf("MISMATCH %s %s mode %d zp %d fast32 %d wide %d: %dx%dx%d oc %d k %dx%d s %dx%d "
                       "p %d,%d,%d,%d d %dx%d -> %dx%d at %ld: %d vs %d\n",
                       name, dw ? "dw" : "conv", mode, zp, dw ? dk.p.fast32 : pk.fast32,
                       dw ? dk.p.wide : pk.wide, s.h, s.w,
                       s.c, s.oc, s.kh, s.kw, s.sh, s.sw, s.pt, s.pl, s.pb, s.pr, s.dh, s.dw, s.oh,
                       s.ow, j, y[j], ref[j]);
        }
    }
    free_store(&st);
    free(ref), free(y), free(scratch);
    free_problem(&pb);
    return bad;
}

static void random_shape(nbk_shape *s, int dw) {
    memset(s, 0, sizeof *s);
    if (!dw && rnd() % 6 == 0) { /* fully connected: rows x K -> OC */
        s->h = 1, s->w = rr(1, 50), s->c = rr(1, 300), s->oc = rr(1, 150), s->kh = s->kw = 1;
        s->sh = s->sw = s->dh = s->dw = 1;
        return;
    }
    s->h = rr(1, 24), s->w = rr(1, 24), s->c = dw ? rr(1, 100) : rr(1, 70), s->oc = rr(1, 90);
    s->kh = rr(1, 5), s->kw = rr(1, 5);
    if (rnd() % 3 == 0) s->kh = s->kw = (rnd() % 2) ? 3 : 5;
    if (rnd() % 4 == 0) s->kh = s->kw = 1;
    s->sh = rr(1, 3), s->sw = rr(1, 3), s->dh = rr(1, 2), s->dw = rr(1, 2);
    if (rnd() % 2) s->sh = s->sw = s->dh = s->dw = 1;
    s->pt = rr(0, 3), s->pb = rr(0, 3), s->pl = rr(0, 3), s->pr = rr(0, 3);
    if (rnd() % 4 == 0) s->pt = s->pb = s->pl = s->pr = 0;
}

int main(int argc, char **argv) {
    const int n = argc > 1 ? atoi(argv[1]) : 1000;
    int t, bad = 0, cases = 0, failed = 0;
    const char *best;
    init_variants();
    nbk_conv_best(&best);
    printf("dispatch picks %s; variants:", best);
    for (t = 0; t < nv; t++) printf(" %s", V[t].name);
    printf("\n");
    for (t = 0; t < n; t++) {
        nbk_shape s;
        const int dw = rnd() % 3 == 0, mode = rr(0, 3), zp = rnd() % 3 == 0 ? 0 : rr(-128, 127);
        int b;
        random_shape(&s, dw);
        b = test_case(&s, dw, mode, zp, t < n / 10, bad < 20);
        bad += b, failed += b > 0, cases++;
    }
    /* The shared models' layer shapes, spatially cropped to keep the reference quick. */
    for (t = 0; t < (int)(sizeof LAYERS / sizeof LAYERS[0]); t++) {
        const layer *L = &LAYERS[t];
        const nbk_shape s = {L->h < 12 ? L->h : 12, L->w < 12 ? L->w : 12, L->c, L->oc, L->kh, L->kw,
                             L->sh, L->sw, L->pt, L->pl, L->pb, L->pr, L->dh, L->dw, 0, 0};
        const int b = test_case(&s, !strcmp(L->kind, "dw"), t % 4, rr(-128, 127), 0, bad < 20);
        bad += b, failed += b > 0, cases++;
    }
    printf("%d cases x %d variants: %d passed, %d failed\n", cases, nv, cases - failed, failed);
    return bad != 0;
}
