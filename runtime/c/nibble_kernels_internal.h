/* nibble_kernels: helpers shared by the ISA files (portable C, inlined into each). */
#ifndef NBK_INTERNAL_H
#define NBK_INTERNAL_H
#include <string.h>
#include "nibble_kernels.h"

#define NBK_MC_BYTES 16384

#if defined(__GNUC__)
#define NBK_INLINE static inline __attribute__((always_inline))
#define NBK_UNROLL _Pragma("GCC unroll 32")
#else
#define NBK_INLINE static inline
#define NBK_UNROLL
#endif

/* Pixel p of the output reads x + p * c directly: a 1x1, stride 1, unpadded conv (or FC). */
static inline int nbk_pointwise(const nbk_shape *s) {
    return s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->pt == 0 && s->pl == 0 &&
           s->pb == 0 && s->pr == 0 && s->oh == s->h && s->ow == s->w;
}

/* Rows of the A tile per block: about NBK_MC_BYTES of patches, a multiple of mr, at least mr. */
static inline int nbk_mc(int kp, int mr, int pixels) {
    int mc = NBK_MC_BYTES / kp;
    if (mc < mr) mc = mr;
    mc = (mc / mr) * mr;
    if (mc > ((pixels + mr - 1) / mr) * mr) mc = ((pixels + mr - 1) / mr) * mr;
    return mc;
}

/* The im2col patch of output pixel p as kp int8 values (OHWI order: ky, kx, c); taps outside
 * the input are zp, k >= K are 0. */
static inline void nbk_patch_row(const int8_t *x, const nbk_shape *s, int p, int8_t *dst, int zp,
                                 int kp) {
    const int oy = p / s->ow, ox = p - oy * s->ow, c = s->c;
    int ky, kx, k = 0;
    for (ky = 0; ky < s->kh; ky++) {
        const int iy = oy * s->sh - s->pt + ky * s->dh;
        for (kx = 0; kx < s->kw; kx++, k += c) {
            const int ix = ox * s->sw - s->pl + kx * s->dw;
            if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w)
                memset(dst + k, zp, (size_t)c);
            else
                memcpy(dst + k, x + ((long)iy * s->w + ix) * c, (size_t)c);
        }
    }
    for (; k < kp; k++) dst[k] = 0;
}
/* Depthwise zero-point row: rows[ky] of taps above/below the input point at zprow + pl*c, and
 * the paths read up to (pl + w - 1 + kw*dw) * c + 64 bytes past zprow. */
static inline size_t nbk_zprow_bytes(const nbk_shape *s) {
    return ((size_t)s->w + (size_t)s->pl + (size_t)s->pr + (size_t)s->kw * (size_t)s->dw + 1) *
               (size_t)s->c + 64;
}
#endif
