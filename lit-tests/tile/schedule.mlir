// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-schedule{target=%S/Inputs/test-npu-tiles.toml},nibble-plan-memory{target=%S/Inputs/test-npu-tiles.toml})' | FileCheck %s --check-prefix=DB
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-schedule{target=%S/Inputs/test-npu-single.toml},nibble-plan-memory{target=%S/Inputs/test-npu-single.toml})' | FileCheck %s --check-prefix=SINGLE
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-schedule{target=host})' | FileCheck %s --check-prefix=HOST
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-schedule{target=%S/Inputs/test-npu-tiles.toml},nibble-schedule{target=%S/Inputs/test-npu-tiles.toml})' | FileCheck %s --check-prefix=TWICE
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-schedule{target=%S/Inputs/test-npu-tiles.toml},nibble-plan-memory{target=%S/Inputs/test-npu-tiles.toml},nibble-check-accumulators)' | FileCheck %s --check-prefix=CHECKED
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-schedule{target=%S/Inputs/test-npu.toml},nibble-plan-memory{target=%S/Inputs/test-npu.toml})' | FileCheck %s --check-prefix=PLAN
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-schedule{target=%S/Inputs/test-npu-3k.toml},nibble-plan-memory{target=%S/Inputs/test-npu-3k.toml})' | FileCheck %s --check-prefix=SMALL

// nibble-schedule turns each layer the accelerator computes into explicit data movement on the
// tiles its `tile` attribute asks for: a DRAM tensor for the result (tile.alloc), loads of the
// boxes a tile reads (input rows with their halo, a channel slice of weights and bias), the
// layer's own op on the SRAM tiles (padding at the tile's edges, the channel slice of the
// per-channel fields), a store of its output box. test-npu lacks lookup tables: the lut stays a
// whole-tensor op the CPU runs, marked with the reason. Here the conv is 2 row blocks x 2
// channel blocks; the cost model picks the output-stationary order (rows outer, the weight
// slices streamed), and the MAC array's dataflow with it.

// With double buffering the next tile's loads come before the current tile's compute:
// DB-LABEL: func.func @main
// DB-SAME: nibble.sram_peak_bytes =
// DB: %[[Y:.*]] = "tile.alloc"() {layer = "conv", offset = 0 : i64} : () -> tensor<1x8x8x16xi8>
// DB-NEXT: %[[X0:.*]] = "tile.dma_load"(%0) {layer = "conv", sram_offset = {{[0-9]+}} : i64, start = array<i64: 0, 0, 0, 0>} : (tensor<1x8x8x4xi8>) -> tensor<1x5x8x4xi8>
// DB-NEXT: %[[W0:.*]] = "tile.dma_load"({{.*}}) {{{.*}}start = array<i64: 0, 0, 0, 0>} : (tensor<16x3x3x4xi8>) -> tensor<8x3x3x4xi8>
// DB-NEXT: %[[B0:.*]] = "tile.dma_load"({{.*}}) {{{.*}}start = array<i64: 0>} : (tensor<16xi32>) -> tensor<8xi32>
// DB-NEXT: "tile.dma_load"({{.*}}) {{{.*}}start = array<i64: 8, 0, 0, 0>} : (tensor<16x3x3x4xi8>) -> tensor<8x3x3x4xi8>
// DB-NEXT: "tile.dma_load"({{.*}}) {{{.*}}start = array<i64: 8>} : (tensor<16xi32>) -> tensor<8xi32>
// DB-NEXT: %[[C0:.*]] = "tile.conv2d"(%[[X0]], %[[W0]], %[[B0]]) {{{.*}}dataflow = "os"{{.*}}layer = "conv"{{.*}}pad = array<i64: 1, 0, 1, 1>{{.*}}sram_offset = {{.*}}tile = array<i64: 4, 8>} : (tensor<1x5x8x4xi8>, tensor<8x3x3x4xi8>, tensor<8xi32>) -> tensor<1x4x8x8xi8>
// DB-NEXT: %[[Y1:.*]] = "tile.dma_store"(%[[C0]], %[[Y]]) {layer = "conv", offset = 0 : i64, start = array<i64: 0, 0, 0, 0>}
// DB-NEXT: "tile.dma_load"(%0) {{{.*}}start = array<i64: 0, 3, 0, 0>} : (tensor<1x8x8x4xi8>) -> tensor<1x5x8x4xi8>
// DB: "tile.conv2d"{{.*}}pad = array<i64: 0, 1, 1, 1>
// DB: "tile.dma_store"{{.*}}start = array<i64: 0, 4, 0, 8>
// DB: "tile.alloc"() {layer = "pool"
// DB: "tile.max_pool2d"{{.*}}layer = "pool"{{.*}}sram_offset
// DB: "tile.lut"{{.*}}cpu = "a lookup table: the vector unit has none"{{.*}}layer = "sigmoid"{{.*}}-> tensor<1x4x4x16xi8>
// The fully connected layer: the input once, two channel slices of the weights (5 each).
// DB: "tile.alloc"() {layer = "fc"
// DB-NEXT: "tile.dma_load"{{.*}} -> tensor<1x256xi8>
// DB: "tile.fully_connected"{{.*}}layer = "fc"{{.*}}tile = array<i64: 5>} : (tensor<1x256xi8>, tensor<5x256xi8>, tensor<5xi32>) -> tensor<1x5xi8>
// DB: "tile.dma_store"{{.*}}start = array<i64: 0, 5>} : (tensor<1x5xi8>, tensor<1x10xi8>)
// DB: "tile.dequantize"

// Without: each tile's loads follow the previous tile's store.
// SINGLE: "tile.dma_load"(%0) {{{.*}}start = array<i64: 0, 0, 0, 0>}
// SINGLE-NEXT: "tile.dma_load"
// SINGLE-NEXT: "tile.dma_load"
// SINGLE-NEXT: "tile.conv2d"
// SINGLE-NEXT: "tile.dma_store"
// SINGLE-NEXT: "tile.dma_load"({{.*}}) {{{.*}}start = array<i64: 8, 0, 0, 0>}
// SINGLE-NEXT: "tile.dma_load"
// SINGLE-NEXT: "tile.conv2d"
// SINGLE-NEXT: "tile.dma_store"

// The memory plan across layers (test-npu, 16 KiB: the default; the checks above run it off).
// The cost model keeps the conv's output resident in SRAM: the conv runs whole, the pool reads
// its SRAM tile (no store, no load), and every weight and bias box stays in SRAM across runs
// (`preload`, at the top, above the frame's own buffers: the peak includes them).
// PLAN-LABEL: func.func @main
// PLAN-SAME: nibble.sram_peak_bytes = 4544
// PLAN-COUNT-6: "tile.dma_load"({{.*}}) {layer = "preload", preload = true, sram_offset = {{[0-9]+}} : i64
// PLAN: %[[X:.*]] = "tile.dma_load"({{.*}}) {layer = "conv"
// PLAN-NEXT: %[[C:.*]] = "tile.conv2d"(%[[X]], {{.*}}layer = "conv"{{.*}}resident = true{{.*}} -> tensor<1x8x8x16xi8>
// PLAN-NOT: "tile.dma_store"(%[[C]]
// PLAN: "tile.max_pool2d"(%[[C]])
// PLAN-NOT: "tile.dma_load"({{.*}}) {layer = "fc", sram_offset = {{.*}}} : (tensor<10x256xi8>)
// PLAN: "tile.fully_connected"
// With 3 KiB only the biases stay (the fc's weight slices are loaded every run): a different
// schedule from the same tiles.
// SMALL-LABEL: func.func @main
// SMALL-SAME: nibble.sram_peak_bytes = 2960
// SMALL-COUNT-3: "tile.dma_load"({{.*}}) {layer = "preload", preload = true
// SMALL-NOT: preload = true
// SMALL: "tile.conv2d"{{.*}}resident = true
// SMALL: "tile.dma_load"({{.*}}) {layer = "fc", sram_offset = {{.*}}} : (tensor<10x256xi8>) -> tensor<5x256xi8>

// A host target gets no schedule.
// HOST-NOT: tile.dma_load
// HOST: "tile.conv2d"(%0, %1, %2) {{.*}}tile = array<i64: 4, 8>} : (tensor<1x8x8x4xi8>
// HOST-NOT: tile.dma_load

// The accumulator check (and so the integer interpreter) sees through the schedule: the
// weights and biases of a tile are boxes of constants, not unknown SRAM contents.
// CHECKED: "tile.dma_load"
// CHECKED: "tile.conv2d"
// CHECKED: return

// A scheduled program is left as it is.
// TWICE-COUNT-1: "tile.alloc"() {layer = "conv"
// TWICE-NOT: "tile.alloc"() {layer = "conv"
func.func @main(%arg0: tensor<1x8x8x4xf32>) -> tensor<1x10xf32> {
  %0 = "tile.quantize"(%arg0) {scale = 5.0e-1 : f64, zero_point = 0 : i32} : (tensor<1x8x8x4xf32>) -> tensor<1x8x8x4xi8>
  %w = "tile.const"() {value = dense<1> : tensor<16x3x3x4xi8>} : () -> tensor<16x3x3x4xi8>
  %b = "tile.const"() {value = dense<2> : tensor<16xi32>} : () -> tensor<16xi32>
  %1 = "tile.conv2d"(%0, %w, %b) {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>, input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 33>, clamp_min = -128 : i32, clamp_max = 127 : i32, tile = array<i64: 4, 8>, offset = 0 : i64} : (tensor<1x8x8x4xi8>, tensor<16x3x3x4xi8>, tensor<16xi32>) -> tensor<1x8x8x16xi8> loc("conv")
  %2 = "tile.max_pool2d"(%1) {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, offset = 0 : i64} : (tensor<1x8x8x16xi8>) -> tensor<1x4x4x16xi8> loc("pool")
  %3 = "tile.lut"(%2) {table = dense<3> : tensor<256xi8>, offset = 0 : i64} : (tensor<1x4x4x16xi8>) -> tensor<1x4x4x16xi8> loc("sigmoid")
  %4 = "tile.reshape"(%3) {offset = 0 : i64} : (tensor<1x4x4x16xi8>) -> tensor<1x256xi8> loc("flatten")
  %fw = "tile.const"() {value = dense<1> : tensor<10x256xi8>} : () -> tensor<10x256xi8>
  %fb = "tile.const"() {value = dense<0> : tensor<10xi32>} : () -> tensor<10xi32>
  %5 = "tile.fully_connected"(%4, %fw, %fb) {input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 36>, clamp_min = -128 : i32, clamp_max = 127 : i32, tile = array<i64: 5>, offset = 0 : i64} : (tensor<1x256xi8>, tensor<10x256xi8>, tensor<10xi32>) -> tensor<1x10xi8> loc("fc")
  %6 = "tile.dequantize"(%5) {scale = 2.5e-1 : f64, zero_point = 0 : i32} : (tensor<1x10xi8>) -> tensor<1x10xf32>
  return %6 : tensor<1x10xf32>
}
