/* nibble's int8 convolution / fully-connected / depthwise microkernels (SIMD per ISA, chosen at
 * run time), called by generated model.c for layers with 8-bit activations.
 *
 * Semantics = nb_conv2d / nb_depthwise_conv2d / nb_fully_connected of nibble_runtime.c with int8
 * activations: acc[o] = bias[o] + sum_k (x[k] - input_zp) * w[o][k] (exact int32), then
 * nb_requant (tosa.rescale SINGLE_ROUND, 64-bit products; optional PReLU, hard-swish or swish
 * epilogue).
 * docs/kernels.md has the design and the exactness arguments.
 * Tested by runtime/c/tests/kernels_test.c; generated model.c calls nbk_conv2d / nbk_depthwise
 * with the packed form below written at compile time (compiler/codegen-c/src/prepack.rs).
 *
 * One packed weight layout serves every ISA (AVX-512 VNNI, AVX2, NEON, portable C), to be written
 * by the compiler into model.c at compile time:
 *   blocks of 16 output channels, in each block [Kp/4][16][4] int8:
 *   wp[(b*Kp/4 + q)*64 + j*4 + t] = w[16*b + j][4*q + t]   (0 beyond OC or K)
 * K is the im2col patch length kh*kw*C (OHWI order), Kp = K rounded up to 4.
 * The input zero point is folded into the bias at compile time:
 *   bias_s[o] = bias[o] - zp * sum_k w[o][k]            (signed int8 activations)
 *   bias_u[o] = bias[o] - (zp + 128) * sum_k w[o][k]    (activations as u8 = x + 128, VNNI)
 * (both mod 2^32) and taps outside the input read the value zp (so x - zp = 0 there). */
#ifndef NIBBLE_KERNELS_H
#define NIBBLE_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/* NHWC input h x w x c, oc output channels, kernel kh x kw, strides, pads (top, left, bottom,
 * right), dilations, output oh x ow. A fully connected layer is h = 1, w = rows, 1x1. */
typedef struct {
    int h, w, c, oc, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, oh, ow;
} nbk_shape;

/* Requantization modes (nb_rq's plain / PReLU / hard-swish / swish cases). Swish uses the
 * hard-swish arrays for its output rescaling (the one nb_swish triple repeated per channel) and
 * sw_table (nb_swish.table) in place of clamp(v + three, 0, six). */
enum { NBK_PLAIN = 0, NBK_PRELU = 1, NBK_HSWISH = 2, NBK_SWISH = 3 };

/* Packed weights and per-channel constants, padded to Ocp = OC rounded up to 16 (padding
 * channels: zero weights, multiplier 2^30, shift 40). Arrays a mode does not use are NULL,
 * except neg_mult/neg_shift, which alias mult/shift outside PReLU. */
typedef struct {
    int k, kp, oc, ocp;
    const int8_t *w; /* packed, (ocp/16) * kp * 16 bytes */
    const int32_t *bias_s, *bias_u;
    const int32_t *mult, *shift, *neg_mult, *neg_shift, *hs_shift;
    const int64_t *hs_mult, *hs_bias;
    int mode;
    int32_t zp, out_zp, lo, hi;
    int64_t three, six;
    /* fast32: every shift (and PReLU shift) in [33, 62] and, for hard-swish, |three| < 2^30,
     * 0 <= six < 2^31, |2^20 * six * hs_mult| + |hs_bias| + 2^(hs_shift-1) < 2^62: then
     * floor((acc*m + 2^(s-1)) / 2^s) = (hi32(acc*m) + 2^(s-33)) >> (s-32) exactly, so
     * requantization runs in 32-bit lanes. */
    int fast32;
    /* hard-swish constants per block of 16 channels as [8 even channels][8 odd channels]
     * (int64 lanes next to the even/odd 64-bit products); hs_bias_eo has the rounding term
     * 2^(hs_shift-1) folded in. */
    const int64_t *hs_mult_eo, *hs_bias_eo, *hs_sh1_eo;
    /* wide: fast32's conditions on the activation (hard-swish as above; swish: every table
     * entry in [0, 2^16] and |2^36 * hs_mult| + |hs_bias| + 2^(hs_shift-1) < 2^62) without the
     * shift range, mode not PReLU: the first rounding then runs on 64-bit even/odd lanes
     * (any shift in [1, 62]) and the rest as fast32. Never set together with fast32 for swish
     * (kernels that only know fast32 take their 64-bit path). */
    int wide;
    const int32_t *sw_table; /* swish: 257 x Q15 sigmoid over [-8, 8] (nb_swish.table) */
} nbk_packed;

/* Depthwise (multiplier 1): the same per-channel constants in p (k = kh*kw, oc = c, p.w unused),
 * weights per tap as int32 (w & 0xffff: the int16 pair (w, 0) for vpdpwssd / vpmaddwd)
 * [kh*kw][cp] and as int8 [kh*kw][cp] (NEON / C), and the AVX-512 VBMI quads (kw <= 5): per block
 * of 16 channels and kernel row, two 64-byte vectors of 16 x 4 int8: q0 = w[ky][0..3] (zeros past
 * kw), q1 = (0, 0, 0, w[ky][4]) for kw == 5. [cp/16][kh][2][64]. Cp = C rounded up to 16. */
typedef struct {
    nbk_packed p;
    const int32_t *w32;
    const int8_t *w8;
    const int8_t *wq;
} nbk_dw_packed;

/* Entry points: y NHWC int8 [oh][ow][oc]; x NHWC int8 [h][w][c]; scratch: at least the bytes
 * of scratch_bytes in runtime/c/tests/kernels_test.c, 64-byte slack included. The best kernels
 * this CPU runs are chosen on the first call (__builtin_cpu_supports on x86-64). Depthwise
 * needs kh <= 64. */
void nbk_conv2d(const int8_t *x, const nbk_shape *s, const nbk_packed *p, int8_t *y, void *scratch);
void nbk_depthwise(const int8_t *x, const nbk_shape *s, const nbk_dw_packed *p, int8_t *y,
                   void *scratch);

/* The variants, for tests. */
typedef void (*nbk_conv_fn)(const int8_t *x, const nbk_shape *s, const nbk_packed *p, int8_t *y,
                            void *scratch);
typedef void (*nbk_dw_fn)(const int8_t *x, const nbk_shape *s, const nbk_dw_packed *p, int8_t *y,
                          void *scratch);
void nbk_conv_c99(const int8_t *x, const nbk_shape *s, const nbk_packed *p, int8_t *y, void *scratch);
void nbk_dw_c99(const int8_t *x, const nbk_shape *s, const nbk_dw_packed *p, int8_t *y, void *scratch);
#if defined(__x86_64__) && defined(__GNUC__)
void nbk_conv_avx512vnni(const int8_t *x, const nbk_shape *s, const nbk_packed *p, int8_t *y, void *scratch);
void nbk_dw_avx512(const int8_t *x, const nbk_shape *s, const nbk_dw_packed *p, int8_t *y, void *scratch);
void nbk_conv_avx2(const int8_t *x, const nbk_shape *s, const nbk_packed *p, int8_t *y, void *scratch);
void nbk_dw_avx2(const int8_t *x, const nbk_shape *s, const nbk_dw_packed *p, int8_t *y, void *scratch);
/* Test switches of the AVX-512 kernels: the ymm kernel for a last block of <= 8 channels (1),
 * the VBMI depthwise quads (-1: when the CPU has VBMI, 0: never). */
extern int nbk_avx512_ymm_tail, nbk_avx512_vbmi;
#endif
#if defined(__aarch64__)
void nbk_conv_neon(const int8_t *x, const nbk_shape *s, const nbk_packed *p, int8_t *y, void *scratch);
void nbk_dw_neon(const int8_t *x, const nbk_shape *s, const nbk_dw_packed *p, int8_t *y, void *scratch);
#endif
/* The variant nbk_conv2d / nbk_depthwise use, and its name. */
nbk_conv_fn nbk_conv_best(const char **name);
nbk_dw_fn nbk_dw_best(const char **name);

/* Scalar requantization of one accumulator of channel o: nb_requant's arithmetic. */
static inline int64_t nbk_shr(int64_t v, int s) {
    return v >= 0 ? (v >> s) : ~((~v) >> s);
}
static inline int64_t nbk_round_shift(int64_t v, int s) {
    return nbk_shr(nbk_shr(v, s - 1) + 1, 1);
}
/* nb_sigmoid_q15: the Q15 sigmoid of v (units of 2^-12) interpolated from a 257-entry table. */
static inline int64_t nbk_sigmoid_q15(const int32_t *t, int64_t v) {
    const int64_t u = (v < -32768 ? -32768 : (v > 32767 ? 32767 : v)) + 32768;
    const int j = (int)(u >> 8);
    return t[j] + ((((int64_t)t[j + 1] - t[j]) * (u & 255) + 128) >> 8);
}
static inline int32_t nbk_requant1(int32_t acc, const nbk_packed *p, int o) {
    int64_t v;
    if (p->mode == NBK_HSWISH || p->mode == NBK_SWISH) {
        int64_t t;
        const int64_t lim = (int64_t)1 << 20;
        v = nbk_round_shift((int64_t)acc * p->mult[o], p->shift[o]);
        v = v < -lim ? -lim : (v > lim ? lim : v);
        if (p->mode == NBK_SWISH) {
            t = nbk_sigmoid_q15(p->sw_table, v);
        } else {
            t = v + p->three;
            t = t < 0 ? 0 : (t > p->six ? p->six : t);
        }
        v = nbk_round_shift(v * t * p->hs_mult[o] + p->hs_bias[o], p->hs_shift[o]);
    } else if (p->mode == NBK_PRELU && acc < 0) {
        v = nbk_round_shift((int64_t)acc * p->neg_mult[o], p->neg_shift[o]);
    } else {
        v = nbk_round_shift((int64_t)acc * p->mult[o], p->shift[o]);
    }
    v += p->out_zp;
    return (int32_t)(v < p->lo ? p->lo : (v > p->hi ? p->hi : v));
}
#endif
