/* nibble runtime: integer-only C99 kernels called by generated model.c.
 * Integer arithmetic only, without division or modulo. The numerics are docs/numerics.md; the Rust
 * integer interpreter (compiler/interp/src/integer.rs) is the reference they must match. */
#ifndef NIBBLE_RUNTIME_H
#define NIBBLE_RUNTIME_H
#include <stddef.h>
#include <stdint.h>

/* Fused requantization parameters: out = clamp(output_zp + apply_scale(acc)), with one
 * multiplier/shift (channels == 1) or one per output channel. A negative accumulator uses
 * neg_multiplier/neg_shift instead when they are set (PReLU fused into the requantization). */
typedef struct {
    int64_t three, six;
    /* The output rescaling: one entry (channels == 1) or one per output channel. */
    int channels;
    const int64_t *multiplier;
    const int32_t *shift;
    const int64_t *bias;
} nb_hswish;
typedef struct nb_swish {
    const int32_t *table;
    int64_t multiplier;
    int shift;
    int64_t bias;
} nb_swish;
typedef struct {
    int32_t input_zp, output_zp, clamp_min, clamp_max, channels;
    const int32_t *multiplier, *shift;
    const int32_t *neg_multiplier, *neg_shift;
    /* Hard-swish fused into the requantization (multiplier/shift then give its fixed-point
     * input v): out = clamp(zp + floor_shift(v * clamp(v + three, 0, six) * m[c] + bias[c] +
     * round, shift[c])). */
    const nb_hswish *hswish;
    /* Swish fused into the requantization: v = beta x in units of 2^-12 from multiplier/shift,
     * the sigmoid interpolated from table (257 x Q15 over [-8, 8]). */
    const struct nb_swish *swish;
} nb_rq;

/* floor(v / 2^s), written without relying on implementation-defined right shifts. */
int64_t nb_floor_shift(int64_t v, int s);
/* tosa.rescale SINGLE_ROUND: (v * multiplier + 2^(shift-1)) >> shift, then zp and clamp;
 * `channel` selects the multiplier/shift when they are per channel. */
int32_t nb_requant(int64_t acc, const nb_rq *rq, int channel);

/* Limits of the kernels (checked by the tile lowering). */
#define NB_MAX_PATCH 16384
#define NB_MAX_TILE_OC 256

/* Activations are int8 or int16 (symmetric: zero point 0) elements. Kernels that take either
 * have `const void *x, int x_bits` and `void *y, int y_bits` (bits 8 or 16), no _s8 suffix. */

/* NHWC conv with OHWI weights ([OC][KH*KW*C]), computed over tiles of tile_rows output rows x
 * tile_oc channels. */
void nb_conv2d(const void *x, int x_bits, int h, int w, int c, const int8_t *wt, int oc, int kh,
               int kw, const int32_t *bias, void *y, int y_bits, int oh, int ow, const int pad[4],
               const int stride[2], const int dil[2], const nb_rq *rq, int tile_rows, int tile_oc);
/* NHWC depthwise conv, weights [KH][KW][C] (multiplier 1); output channel c reads channel c. */
void nb_depthwise_conv2d(const void *x, int x_bits, int h, int w, int c, const int8_t *wt, int kh,
                         int kw, const int32_t *bias, void *y, int y_bits, int oh, int ow,
                         const int pad[4], const int stride[2], const int dil[2], const nb_rq *rq);
/* y[n][m] = requant(bias[m] + sum_k (x[n][k] - zp) * w[m][k]), tile_oc channels at a time. */
void nb_fully_connected(const void *x, int x_bits, int n, int k, const int8_t *wt, int m,
                        const int32_t *bias, void *y, int y_bits, const nb_rq *rq, int tile_oc);
/* Requantizes n values whose last dimension (channels) is rq->channels long or per tensor. */
void nb_requant_tensor(const void *x, int x_bits, int n, void *y, int y_bits, const nb_rq *rq);
/* y[i] = table[x[i] + 128]: any unary activation, tabulated at compile time. */
void nb_lut_s8(const int8_t *x, int n, int8_t *y, const int8_t table[256]);
void nb_clamp(const void *x, int bits, int n, void *y, int lo, int hi);
void nb_max_pool2d_s8(const int8_t *x, int h, int w, int c, int8_t *y, int oh, int ow,
                      const int kernel[2], const int stride[2], const int pad[4]);
/* Permutes dimensions: y.shape[k] = shape[perms[k]]; rank <= 6. */
void nb_transpose_s8(const int8_t *x, int rank, const int *shape, const int *perms, int8_t *y);
/* Unpacks n packed weights (4-bit: two a byte; 2-bit and ternary: four; binary: eight). */
void nb_unpack_s4(const uint8_t *src, int n, int8_t *dst);
void nb_unpack_s2(const uint8_t *src, int n, int8_t *dst);
void nb_unpack_b1(const uint8_t *src, int n, int8_t *dst);
void nb_copy_s8(const int8_t *x, int n, int8_t *y);
/* NHWC average pool: the sum of (x - input_zp) over the taps inside the input, requantized with
 * entry 0 of rq (rq->channels == 1: every window is full) or entry taps-1. */
void nb_avg_pool2d_s8(const int8_t *x, int h, int w, int c, int8_t *y, int oh, int ow,
                      const int kernel[2], const int stride[2], const int pad[4], const nb_rq *rq);
/* nb_avg_pool2d_s8 with an int64 window sum: the compiler calls it where an int32 sum could
 * overflow (acc_bits = 64: more than 8421504 taps of 255). */
void nb_avg_pool2d_wide_s8(const int8_t *x, int h, int w, int c, int8_t *y, int oh, int ow,
                           const int kernel[2], const int stride[2], const int pad[4],
                           const nb_rq *rq);
/* Parameters of an elementwise binary op. add: out = zp + floor_shift((a - a_zp) * a_multiplier
 * + (b - b_zp) * b_multiplier + 2^(shift-1), shift); mul: out = zp + apply_scale((a - a_zp) *
 * (b - b_zp), a_multiplier, shift); then clamp. */
typedef struct {
    int32_t a_zp, b_zp, output_zp, clamp_min, clamp_max, a_multiplier, b_multiplier, shift;
} nb_binary;
/* Elementwise over out_shape (rank <= 6); a and b have the same rank, size-1 dimensions
 * broadcast. */
void nb_add(const void *a, int a_bits, const int *a_shape, const void *b, int b_bits,
            const int *b_shape, void *y, int y_bits, int rank, const int *out_shape,
            const nb_binary *p);
void nb_mul(const void *a, int a_bits, const int *a_shape, const void *b, int b_bits,
            const int *b_shape, void *y, int y_bits, int rank, const int *out_shape,
            const nb_binary *p);
/* Softmax over rows of c values in fixed point, no division (docs/numerics.md). */
void nb_softmax_s8(const int8_t *x, int rows, int c, int8_t *y, const int32_t exp_table[256],
                   int frac_bits, int32_t output_zp, int32_t clamp_min, int32_t clamp_max);
/* Copies the box of x (rank <= 6) at start with sizes out_shape. */
void nb_slice_s8(const int8_t *x, int rank, const int *shape, const int *start,
                 const int *out_shape, int8_t *y);
/* One input of a concatenation: for o < outer, copy chunk bytes of x to y + o * out_chunk + at. */
void nb_concat_part_s8(const int8_t *x, int outer, int chunk, int8_t *y, int out_chunk, int at);
/* y[t][i][j] = requant(sum_k (a[t][i][k] - rq->input_zp) * (b[t][k][j] - b_zp)); a [batch][n][k],
 * b [batch][k][m]. */
void nb_matmul_s8(const int8_t *a, const int8_t *b, int batch, int n, int k, int m, int32_t b_zp,
                  int8_t *y, const nb_rq *rq);
/* Fixed-point LayerNorm parameters (docs/numerics.md): per channel a signed multiplier, a shift
 * and an int64 bias at 2^shift. */
typedef struct {
    int32_t input_zp, output_zp, clamp_min, clamp_max;
    int64_t eps_term;
    const int32_t *multiplier, *shift;
    const int64_t *bias;
} nb_layer_norm;
/* LayerNorm over rows of c values (c <= 4096), no division: integer square root and restoring
 * division. */
void nb_layer_norm_rows(const void *x, int x_bits, int rows, int c, int8_t *y, const nb_layer_norm *p);
/* tosa.resize, NHWC: ry/rx hold (low index, high index, weight of high) per output row/column
 * (weights in units of ny/nx). Nearest copies y[low][low]; bilinear requantizes the weighted sum
 * of four taps (zero point removed). */
void nb_resize_s8(const int8_t *x, int w, int c, int8_t *y, int oh, int ow, const int32_t *ry,
                  const int32_t *rx, int ny, int nx, int bilinear, const nb_rq *rq);
/* Transposed convolution, OHWI weights: output (oy, ox) sums the taps listed for its row
 * (ty_taps[2*ty_start[oy] ..], pairs of kernel row, input row) and column (same for tx). */
void nb_transpose_conv2d_s8(const int8_t *x, int w, int ic, const int8_t *wt, int oc, int kh,
                            int kw, const int32_t *bias, int8_t *y, int oh, int ow,
                            const int32_t *ty_start, const int32_t *ty_taps,
                            const int32_t *tx_start, const int32_t *tx_taps, const nb_rq *rq);
/* Squeeze-excite parameters (qnt.squeeze_excite in docs/dialects/qnt.md). */
typedef struct {
    int32_t pool_multiplier, pool_shift;
    const int32_t *hidden_multiplier, *hidden_shift;
    int32_t hidden_max;
    const int32_t *hidden_table; /* NULL: ReLU hidden activation; else SiLU through this table */
    int32_t hidden_out_shift;    /* SiLU: v * sigmoid(v) (2^-27) to the hidden scale */
    const int32_t *gate_multiplier, *gate_shift;
    const int32_t *gate_table; /* NULL: hard sigmoid gate; else 257 x Q15 sigmoid (as swish) */
    int32_t multiplier, shift, input_zp, output_zp, clamp_min, clamp_max;
} nb_squeeze_excite;
/* y = x * gate(mean over hw of x), x [hw][c] (c, cm <= 4096): channel sums, the two 1x1
 * products (w1 [cm][c], w2 [c][cm]) in 64 bits, the gate in Q15. */
void nb_squeeze_excite_s8(const int8_t *x, int hw, int c, int cm, const int8_t *w1,
                          const int32_t *b1, const int8_t *w2, const int32_t *b2, int8_t *y,
                          const nb_squeeze_excite *p);
#endif
