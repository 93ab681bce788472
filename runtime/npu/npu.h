/* npu.h: the intrinsics API of nibble's example accelerator (dialects/npu, docs/dialects/npu.md).
 * A program is a sequence of commands, each with a program-unique id: DMA transfers between
 * external memory (DRAM: the arena and the constant arrays) and the on-chip SRAM, run in order
 * by the DMA engine; tile ops on SRAM, run in order by the compute engine (the MAC array:
 * npu_conv2d, npu_fully_connected; the vector unit: the others). A DMA starts after command
 * `after` (-1: none) has finished; npu_dma_wait holds the compute engine until a DMA finished.
 * SRAM operands are byte offsets into the SRAM. Ops the accelerator lacks run on the controller
 * CPU (the runtime's nb_* kernels on DRAM), announced by npu_cpu. The cost table of the target
 * is npu_target.h (generated). runtime/npu/npu_sim.c implements this API on the host: values
 * bit-exact (the runtime's kernels on SRAM buffers), cycles from the cost table. */
#ifndef NPU_H
#define NPU_H
#include <stdint.h>
#include "nibble_runtime.h"
#include "npu_target.h"

/* MAC-array dataflows (SCALE-Sim's): weight and output stationary. */
#define NPU_WS 0
#define NPU_OS 1

/* A frame (one run of the model): `commands` ids, `layers` layers with their names. */
void npu_frame_begin(int commands, int layers, const char *const *layer_names);
void npu_frame_end(void);
/* The commands that follow belong to layer `layer`. */
void npu_layer(int layer);

/* Starts copying the box [start, start + size) of a row-major DRAM tensor of `shape` (rank <= 8,
 * elements of elem_bytes) to the contiguous SRAM tile at `sram`. */
void npu_dma_load(int id, int after, const void *dram, int elem_bytes, int rank, const int *shape,
                  const int *start, const int *size, uint32_t sram);
/* A load of weights kept resident in SRAM across frames (chosen by the memory plan): the box is
 * copied once, before the first frame (its cycles are reported as the preload, not per frame);
 * later frames find it in SRAM where the plan keeps it. */
void npu_dma_preload(int id, const void *dram, int elem_bytes, int rank, const int *shape,
                     const int *start, const int *size, uint32_t sram);
/* Starts copying the SRAM tile at `sram` into the box of a DRAM tensor. */
void npu_dma_store(int id, int after, void *dram, int elem_bytes, int rank, const int *shape,
                   const int *start, const int *size, uint32_t sram);
/* The compute engine waits until DMA command `id` has finished. */
void npu_dma_wait(int id);

/* MAC array: conv of an NHWC tile, OHWI weights, i32 bias, fused requantization (nb_conv2d's
 * arithmetic); weight_bits is the width the array multiplies. */
void npu_conv2d(int id, int dataflow, int weight_bits, uint32_t x, int x_bits, int h, int w,
                int c, uint32_t wt, int oc, int kh, int kw, uint32_t bias, uint32_t y, int y_bits,
                int oh, int ow, const int pad[4], const int stride[2], const int dil[2],
                const nb_rq *rq);
/* MAC array: [n, k] x [m, k]^T + bias with fused requantization. */
void npu_fully_connected(int id, int dataflow, int weight_bits, uint32_t x, int x_bits, int n,
                         int k, uint32_t wt, int m, uint32_t bias, uint32_t y, int y_bits,
                         const nb_rq *rq);

/* Vector unit. */
void npu_depthwise_conv2d(int id, uint32_t x, int x_bits, int h, int w, int c, uint32_t wt, int kh,
                          int kw, uint32_t bias, uint32_t y, int y_bits, int oh, int ow,
                          const int pad[4], const int stride[2], const int dil[2],
                          const nb_rq *rq);
void npu_max_pool2d(int id, uint32_t x, int h, int w, int c, uint32_t y, int oh, int ow,
                    const int kernel[2], const int stride[2], const int pad[4]);
void npu_avg_pool2d(int id, uint32_t x, int h, int w, int c, uint32_t y, int oh, int ow,
                    const int kernel[2], const int stride[2], const int pad[4], const nb_rq *rq);
void npu_requant(int id, uint32_t x, int x_bits, int n, uint32_t y, int y_bits, const nb_rq *rq);
void npu_clamp(int id, uint32_t x, int bits, int n, uint32_t y, int lo, int hi);
void npu_lut(int id, uint32_t x, int n, uint32_t y, const int8_t table[256]);
/* Elementwise add / mul (nb_add / nb_mul): operands of equal rank (<= 6), size-1 dims broadcast. */
void npu_add(int id, uint32_t a, int a_bits, const int *a_shape, uint32_t b, int b_bits,
             const int *b_shape, uint32_t y, int y_bits, int rank, const int *out_shape,
             const nb_binary *p);
void npu_mul(int id, uint32_t a, int a_bits, const int *a_shape, uint32_t b, int b_bits,
             const int *b_shape, uint32_t y, int y_bits, int rank, const int *out_shape,
             const nb_binary *p);

/* The controller CPU runs command `id` (`ops` operations) on DRAM after both engines drain. */
void npu_cpu(int id, uint64_t ops);

#endif
