/* npu_sim.c: a cycle-approximate simulator of nibble's example accelerator, implementing npu.h on
 * the host. Values are bit-exact: every tile op runs the portable kernel of nibble_runtime.c on
 * SRAM buffers (the integer interpreter's arithmetic). Cycles come from the target's cost table
 * (npu_target.h), the same integer formulas as nibble's static estimate (docs/targets.md):
 *   DMA:        setup + runs * ceil(run_bytes / dram_bytes_per_cycle) per transfer of a box
 *               (each contiguous run of the DRAM tensor in whole beats);
 *   MAC array:  SCALE-Sim's folds, ws: ceil(K*C/rate) * ceil(N/C) * (2R + C + M - 2),
 *               os: ceil(M/R) * ceil(N/C) * (R + C + ceil(K*R*C/rate) - 2), for the tile's GEMM
 *               (M output pixels, N output channels, K = kh*kw*c), rate = MACs per cycle at the
 *               weight width (x 8 / activation bits);
 *   vector:     ceil(ops / lanes); CPU: ceil(ops / ops_per_cycle), after both engines drain.
 * Two timelines, in program order each: the DMA engine and the compute engine; a DMA starts after
 * the command it names, a compute after the DMAs it waits for. At exit the last frame's cycles
 * per layer, the total, latency and frames per second are printed to stderr. Weights the memory
 * plan keeps resident in SRAM (npu_dma_preload) are copied in the first frame only and take no
 * frame cycles (their one-off cycles are reported as the preload): later frames read them where
 * the plan keeps them, so a plan that let anything overwrite them would compute wrong outputs. */
#include "npu.h"
#include <stdio.h>
#include <stdlib.h>

/* The SRAM (aligned for int32 tiles). */
static uint64_t npu_sram64[(NPU_SRAM_BYTES + 7) / 8];
#define SRAM ((uint8_t *)npu_sram64)

static uint64_t *done;        /* end cycle of each command of the frame */
static int n_done;
static uint64_t dma_free, comp_free, comp_wait, makespan;
static int n_layers, layer;
static const char *const *names;
static uint64_t *layer_cycles, *layer_compute, *layer_dma;
static long frames;
static uint64_t preload_cycles, preload_bytes; /* resident weights, copied in the first frame */
static int reported;

static void die(const char *what, int id) {
    fprintf(stderr, "npu: command %d: %s\n", id, what);
    exit(3);
}

static uint64_t ceil_div(uint64_t a, uint64_t b) {
    return (a + b - 1) / b;
}

/* A pointer to `bytes` of SRAM at `off`, checked. */
static uint8_t *sram(uint32_t off, uint64_t bytes, int id) {
    if ((uint64_t)off + bytes > (uint64_t)NPU_SRAM_BYTES) die("SRAM access out of range", id);
    return SRAM + off;
}

static void report(void) {
    int l;
    uint64_t total = 0;
    for (l = 0; l < n_layers; l++) total += layer_cycles[l];
    fprintf(stderr, "npu: target %s at %.0f MHz, %ld frame(s)\n", NPU_TARGET_NAME, NPU_CLOCK_MHZ,
            frames);
    for (l = 0; l < n_layers; l++)
        fprintf(stderr, "npu: layer %d %s: %llu cycles (compute %llu, dma %llu)\n", l, names[l],
                (unsigned long long)layer_cycles[l], (unsigned long long)layer_compute[l],
                (unsigned long long)layer_dma[l]);
    if (preload_bytes)
        fprintf(stderr, "npu: preload %llu bytes of resident weights once, %llu cycles\n",
                (unsigned long long)preload_bytes, (unsigned long long)preload_cycles);
    fprintf(stderr, "npu: total %llu cycles, latency %.3f us, %.1f FPS\n",
            (unsigned long long)total, (double)total / NPU_CLOCK_MHZ,
            total ? NPU_CLOCK_MHZ * 1e6 / (double)total : 0.0);
}

void npu_frame_begin(int commands, int layers, const char *const *layer_names) {
    int l;
    if (!reported) {
        reported = 1;
        atexit(report);
    }
    if (commands > n_done || layers != n_layers) {
        free(done);
        free(layer_cycles);
        free(layer_compute);
        free(layer_dma);
        done = malloc(sizeof(uint64_t) * (size_t)(commands > 0 ? commands : 1));
        layer_cycles = malloc(sizeof(uint64_t) * (size_t)(layers > 0 ? layers : 1));
        layer_compute = malloc(sizeof(uint64_t) * (size_t)(layers > 0 ? layers : 1));
        layer_dma = malloc(sizeof(uint64_t) * (size_t)(layers > 0 ? layers : 1));
        if (!done || !layer_cycles || !layer_compute || !layer_dma) die("out of memory", -1);
        n_done = commands;
    }
    n_layers = layers;
    names = layer_names;
    for (l = 0; l < layers; l++) layer_cycles[l] = layer_compute[l] = layer_dma[l] = 0;
    for (l = 0; l < commands; l++) done[l] = 0;
    dma_free = comp_free = comp_wait = makespan = 0;
    layer = 0;
}

void npu_frame_end(void) {
    frames++;
}

void npu_layer(int l) {
    layer = l < n_layers ? l : n_layers - 1;
}

/* Records command `id` ending at `end` (busy `busy` cycles on the compute engine or DMA). */
static void finish(int id, uint64_t end, uint64_t busy, int is_dma) {
    if (id < 0 || id >= n_done) die("id out of range", id);
    done[id] = end;
    if (end > makespan) {
        if (layer >= 0 && layer < n_layers) layer_cycles[layer] += end - makespan;
        makespan = end;
    }
    if (layer >= 0 && layer < n_layers) {
        if (is_dma) layer_dma[layer] += busy;
        else layer_compute[layer] += busy;
    }
}

static uint64_t after_time(int after) {
    if (after < 0) return 0;
    if (after >= n_done) die("dependency out of range", after);
    return done[after];
}

/* The DMA cycles of a box: the set-up, then each contiguous run of the DRAM tensor (the dims
 * after the innermost one the box does not cover whole merge into one) in whole beats. */
static uint64_t box_cycles(int eb, int rank, const int *shape, const int *size) {
    uint64_t count = 1, elems = 1;
    int d = 0, k;
    for (k = rank - 1; k >= 0; k--)
        if (size[k] != shape[k]) {
            d = k;
            break;
        }
    for (k = 0; k < rank; k++) {
        if (k < d) count *= (uint64_t)size[k];
        else elems *= (uint64_t)size[k];
    }
    return NPU_DMA_SETUP_CYCLES + count * ceil_div(elems * (uint64_t)eb, NPU_DRAM_BYTES_PER_CYCLE);
}

/* Copies a box between a DRAM tensor and a contiguous SRAM tile. */
static void copy_box(int id, uint8_t *dram, int eb, int rank, const int *shape,
                         const int *start, const int *size, uint32_t off, int to_sram) {
    long stride[8], idx[8];
    uint64_t n = 1, rows, r, row_bytes;
    uint8_t *s;
    int k;
    if (rank < 1 || rank > 8) die("DMA rank out of range", id);
    for (k = 0; k < rank; k++) {
        if (start[k] < 0 || size[k] < 0 || start[k] + size[k] > shape[k]) die("DMA box outside the tensor", id);
        n *= (uint64_t)size[k];
        idx[k] = 0;
    }
    stride[rank - 1] = 1;
    for (k = rank - 2; k >= 0; k--) stride[k] = stride[k + 1] * shape[k + 1];
    s = sram(off, n * (uint64_t)eb, id);
    if (n == 0) return;
    row_bytes = (uint64_t)size[rank - 1] * (uint64_t)eb;
    rows = n / (uint64_t)size[rank - 1];
    for (r = 0; r < rows; r++) {
        long at = 0;
        uint64_t b;
        for (k = 0; k < rank; k++) at += (start[k] + idx[k]) * stride[k];
        for (b = 0; b < row_bytes; b++) {
            if (to_sram) s[r * row_bytes + b] = dram[at * eb + (long)b];
            else dram[at * eb + (long)b] = s[r * row_bytes + b];
        }
        for (k = rank - 2; k >= 0; k--) {
            if (++idx[k] < size[k]) break;
            idx[k] = 0;
        }
    }
}

static void dma(int id, int after, uint64_t cycles) {
    uint64_t start = dma_free, a = after_time(after);
    if (a > start) start = a;
    dma_free = start + cycles;
    finish(id, dma_free, cycles, 1);
}

void npu_dma_load(int id, int after, const void *dram, int elem_bytes, int rank, const int *shape,
                  const int *start, const int *size, uint32_t sram_off) {
    copy_box(id, (uint8_t *)(uintptr_t)dram, elem_bytes, rank, shape, start, size, sram_off, 1);
    dma(id, after, box_cycles(elem_bytes, rank, shape, size));
}

void npu_dma_preload(int id, const void *dram, int elem_bytes, int rank, const int *shape,
                     const int *start, const int *size, uint32_t sram_off) {
    int k;
    uint64_t n = 1;
    if (frames == 0) {
        copy_box(id, (uint8_t *)(uintptr_t)dram, elem_bytes, rank, shape, start, size, sram_off, 1);
        for (k = 0; k < rank; k++) n *= (uint64_t)size[k];
        preload_bytes += n * (uint64_t)elem_bytes;
        preload_cycles += box_cycles(elem_bytes, rank, shape, size);
    }
    finish(id, 0, 0, 1);
}

void npu_dma_store(int id, int after, void *dram, int elem_bytes, int rank, const int *shape,
                   const int *start, const int *size, uint32_t sram_off) {
    copy_box(id, (uint8_t *)dram, elem_bytes, rank, shape, start, size, sram_off, 0);
    dma(id, after, box_cycles(elem_bytes, rank, shape, size));
}

void npu_dma_wait(int id) {
    const uint64_t t = after_time(id);
    if (t > comp_wait) comp_wait = t;
}

/* A compute command of `cycles`. */
static void compute(int id, uint64_t cycles) {
    uint64_t start = comp_free > comp_wait ? comp_free : comp_wait;
    comp_free = start + cycles;
    finish(id, comp_free, cycles, 0);
}

static uint64_t mac_cycles(int dataflow, int weight_bits, int act_bits, uint64_t m, uint64_t n,
                           uint64_t k) {
    const uint64_t r = NPU_ROWS, c = NPU_COLS;
    uint64_t rate = npu_macs_per_cycle(weight_bits);
    if (!rate) rate = npu_macs_per_cycle(8);
    rate = rate * 8 / (uint64_t)(act_bits < 8 ? 8 : act_bits);
    if (!rate) rate = 1;
    if (!m || !n || !k) return 0;
    if (dataflow == NPU_WS) return ceil_div(k * c, rate) * ceil_div(n, c) * (2 * r + c + m - 2);
    return ceil_div(m, r) * ceil_div(n, c) * (r + c + ceil_div(k * r * c, rate) - 2);
}

static uint64_t vector_cycles(uint64_t ops) {
    return ceil_div(ops, NPU_VECTOR_LANES);
}

/* Bytes of n elements of `bits`. */
static uint64_t nbytes(uint64_t n, int bits) {
    return n * (uint64_t)(bits > 8 ? bits / 8 : 1);
}

void npu_conv2d(int id, int dataflow, int weight_bits, uint32_t x, int x_bits, int h, int w,
                int c, uint32_t wt, int oc, int kh, int kw, uint32_t bias, uint32_t y, int y_bits,
                int oh, int ow, const int pad[4], const int stride[2], const int dil[2],
                const nb_rq *rq) {
    const uint64_t k = (uint64_t)kh * kw * c;
    void *xp = sram(x, nbytes((uint64_t)h * w * c, x_bits), id);
    const int8_t *wp = (const int8_t *)sram(wt, (uint64_t)oc * k, id);
    const int32_t *bp = (const int32_t *)(void *)sram(bias, (uint64_t)oc * 4, id);
    void *yp = sram(y, nbytes((uint64_t)oh * ow * oc, y_bits), id);
    nb_conv2d(xp, x_bits, h, w, c, wp, oc, kh, kw, bp, yp, y_bits, oh, ow, pad, stride, dil, rq,
              oh, oc < NB_MAX_TILE_OC ? oc : NB_MAX_TILE_OC);
    compute(id, mac_cycles(dataflow, weight_bits, x_bits, (uint64_t)oh * ow, (uint64_t)oc, k));
}

void npu_fully_connected(int id, int dataflow, int weight_bits, uint32_t x, int x_bits, int n,
                         int k, uint32_t wt, int m, uint32_t bias, uint32_t y, int y_bits,
                         const nb_rq *rq) {
    void *xp = sram(x, nbytes((uint64_t)n * k, x_bits), id);
    const int8_t *wp = (const int8_t *)sram(wt, (uint64_t)m * k, id);
    const int32_t *bp = (const int32_t *)(void *)sram(bias, (uint64_t)m * 4, id);
    void *yp = sram(y, nbytes((uint64_t)n * m, y_bits), id);
    nb_fully_connected(xp, x_bits, n, k, wp, m, bp, yp, y_bits, rq, m < NB_MAX_TILE_OC ? m : NB_MAX_TILE_OC);
    compute(id, mac_cycles(dataflow, weight_bits, x_bits, (uint64_t)n, (uint64_t)m, (uint64_t)k));
}

void npu_depthwise_conv2d(int id, uint32_t x, int x_bits, int h, int w, int c, uint32_t wt, int kh,
                          int kw, uint32_t bias, uint32_t y, int y_bits, int oh, int ow,
                          const int pad[4], const int stride[2], const int dil[2],
                          const nb_rq *rq) {
    void *xp = sram(x, nbytes((uint64_t)h * w * c, x_bits), id);
    const int8_t *wp = (const int8_t *)sram(wt, (uint64_t)kh * kw * c, id);
    const int32_t *bp = (const int32_t *)(void *)sram(bias, (uint64_t)c * 4, id);
    void *yp = sram(y, nbytes((uint64_t)oh * ow * c, y_bits), id);
    nb_depthwise_conv2d(xp, x_bits, h, w, c, wp, kh, kw, bp, yp, y_bits, oh, ow, pad, stride, dil, rq);
    compute(id, vector_cycles((uint64_t)oh * ow * c * kh * kw));
}

void npu_max_pool2d(int id, uint32_t x, int h, int w, int c, uint32_t y, int oh, int ow,
                    const int kernel[2], const int stride[2], const int pad[4]) {
    const int8_t *xp = (const int8_t *)sram(x, (uint64_t)h * w * c, id);
    int8_t *yp = (int8_t *)sram(y, (uint64_t)oh * ow * c, id);
    nb_max_pool2d_s8(xp, h, w, c, yp, oh, ow, kernel, stride, pad);
    compute(id, vector_cycles((uint64_t)oh * ow * c * kernel[0] * kernel[1]));
}

void npu_avg_pool2d(int id, uint32_t x, int h, int w, int c, uint32_t y, int oh, int ow,
                    const int kernel[2], const int stride[2], const int pad[4], const nb_rq *rq) {
    const int8_t *xp = (const int8_t *)sram(x, (uint64_t)h * w * c, id);
    int8_t *yp = (int8_t *)sram(y, (uint64_t)oh * ow * c, id);
    nb_avg_pool2d_s8(xp, h, w, c, yp, oh, ow, kernel, stride, pad, rq);
    compute(id, vector_cycles((uint64_t)oh * ow * c * kernel[0] * kernel[1]));
}

void npu_requant(int id, uint32_t x, int x_bits, int n, uint32_t y, int y_bits, const nb_rq *rq) {
    nb_requant_tensor(sram(x, nbytes((uint64_t)n, x_bits), id), x_bits, n,
                      sram(y, nbytes((uint64_t)n, y_bits), id), y_bits, rq);
    compute(id, vector_cycles((uint64_t)n));
}

void npu_clamp(int id, uint32_t x, int bits, int n, uint32_t y, int lo, int hi) {
    nb_clamp(sram(x, nbytes((uint64_t)n, bits), id), bits, n, sram(y, nbytes((uint64_t)n, bits), id),
             lo, hi);
    compute(id, vector_cycles((uint64_t)n));
}

void npu_lut(int id, uint32_t x, int n, uint32_t y, const int8_t table[256]) {
    nb_lut_s8((const int8_t *)sram(x, (uint64_t)n, id), n, (int8_t *)sram(y, (uint64_t)n, id), table);
    compute(id, vector_cycles((uint64_t)n));
}

/* Elements of a shape. */
static uint64_t elems(int rank, const int *shape) {
    uint64_t n = 1;
    int k;
    for (k = 0; k < rank; k++) n *= (uint64_t)shape[k];
    return n;
}

void npu_add(int id, uint32_t a, int a_bits, const int *a_shape, uint32_t b, int b_bits,
             const int *b_shape, uint32_t y, int y_bits, int rank, const int *out_shape,
             const nb_binary *p) {
    const uint64_t n = elems(rank, out_shape);
    nb_add(sram(a, nbytes(elems(rank, a_shape), a_bits), id), a_bits, a_shape,
           sram(b, nbytes(elems(rank, b_shape), b_bits), id), b_bits, b_shape,
           sram(y, nbytes(n, y_bits), id), y_bits, rank, out_shape, p);
    compute(id, vector_cycles(2 * n));
}

void npu_mul(int id, uint32_t a, int a_bits, const int *a_shape, uint32_t b, int b_bits,
             const int *b_shape, uint32_t y, int y_bits, int rank, const int *out_shape,
             const nb_binary *p) {
    const uint64_t n = elems(rank, out_shape);
    nb_mul(sram(a, nbytes(elems(rank, a_shape), a_bits), id), a_bits, a_shape,
           sram(b, nbytes(elems(rank, b_shape), b_bits), id), b_bits, b_shape,
           sram(y, nbytes(n, y_bits), id), y_bits, rank, out_shape, p);
    compute(id, vector_cycles(2 * n));
}

void npu_cpu(int id, uint64_t ops) {
    const uint64_t cycles = ceil_div(ops, NPU_CPU_OPS_PER_CYCLE);
    uint64_t start = dma_free > comp_free ? dma_free : comp_free;
    if (comp_wait > start) start = comp_wait;
    dma_free = comp_free = start + cycles;
    finish(id, dma_free, cycles, 0);
}
