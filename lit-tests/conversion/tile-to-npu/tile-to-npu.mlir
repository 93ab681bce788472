// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-schedule{target=%S/../../tile/Inputs/test-npu-tiles.toml},nibble-plan-memory{target=%S/../../tile/Inputs/test-npu-tiles.toml},nibble-lower-npu{target=%S/../../tile/Inputs/test-npu-tiles.toml})' | FileCheck %s
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-schedule{target=%S/../../tile/Inputs/test-npu.toml},nibble-plan-memory{target=%S/../../tile/Inputs/test-npu.toml},nibble-lower-npu{target=%S/../../tile/Inputs/test-npu.toml})' | FileCheck %s --check-prefix=PLAN
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-lower-npu{target=%S/../../tile/Inputs/test-npu.toml})' 2>&1 | FileCheck %s --check-prefix=UNSCHEDULED
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-schedule{target=%S/../../tile/Inputs/test-npu.toml},nibble-plan-memory,nibble-lower-npu{target=host})' 2>&1 | FileCheck %s --check-prefix=HOST

// nibble-lower-npu: every op of a scheduled, planned tile program becomes one npu command with
// its id (its index). A DMA names the compute command it must wait for (`after`): none for the
// first loads, the conv whose output a store copies, the conv that last read the SRAM buffer a
// load overwrites. A compute op is preceded by a wait for the last DMA it depends on. The lut
// the accelerator lacks stays a tile op (the CPU runs it) with an id.
// CHECK-LABEL: func.func @main
// CHECK-SAME: npu.commands = 41 : i64
// CHECK: "tile.alloc"() {layer = "conv"
// CHECK-NEXT: "npu.dma_load"(%0) {after = -1 : i64, id = 4 : i64, layer = "conv", sram_offset = {{[0-9]+}} : i64, start = array<i64: 0, 0, 0, 0>}
// CHECK-NEXT: "npu.dma_load"({{.*}}) {after = -1 : i64, id = 5 : i64
// CHECK-NEXT: "npu.dma_load"({{.*}}) {after = -1 : i64, id = 6 : i64
// CHECK-NEXT: "npu.dma_load"({{.*}}) {after = -1 : i64, id = 7 : i64
// CHECK-NEXT: "npu.dma_load"({{.*}}) {after = -1 : i64, id = 8 : i64
// CHECK-NEXT: "npu.dma_wait"() {id = 6 : i64} : () -> ()
// CHECK-NEXT: %[[C:.*]] = "npu.conv2d"({{.*}}) {{{.*}}dataflow = "os"{{.*}}id = 9 : i64
// CHECK-NEXT: "npu.dma_store"(%[[C]], {{.*}}) {after = 9 : i64, id = 10 : i64
// CHECK-NEXT: "npu.dma_load"(%0) {after = -1 : i64, id = 11 : i64
// CHECK-NEXT: "npu.dma_load"({{.*}}) {after = 9 : i64, id = 12 : i64
// CHECK: "npu.max_pool2d"
// CHECK: "tile.lut"{{.*}}cpu = {{.*}}id = {{[0-9]+}} : i64
// CHECK: "npu.fully_connected"
// CHECK-NOT: "tile.dma_

// With the memory plan across layers (test-npu): the weights kept in SRAM are npu.dma_loads
// marked `preload` that wait for nothing; the pool reads the conv's resident output with no
// DMA between them.
// PLAN: "npu.dma_load"({{.*}}) {after = -1 : i64, id = {{[0-9]+}} : i64, layer = "preload", preload = true
// PLAN: %[[C:.*]] = "npu.conv2d"
// PLAN-NOT: "npu.dma_store"
// PLAN: "npu.max_pool2d"(%[[C]])

// UNSCHEDULED: nibble-lower-npu: needs a scheduled, memory-planned tile program (nibble-schedule, nibble-plan-memory first)
// HOST: nibble-lower-npu: target 'host' is a host target: it has no npu
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
