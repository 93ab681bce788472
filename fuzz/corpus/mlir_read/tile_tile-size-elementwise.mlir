// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-tile-size{target=%S/Inputs/test-npu-1k.toml},nibble-schedule{target=%S/Inputs/test-npu-1k.toml},nibble-plan-memory{target=%S/Inputs/test-npu-1k.toml})' | FileCheck %s

// An elementwise op is tiled along two axes of its result: its first axis longer than 1 (rows)
// and the next (columns). Here one row of the clamp (1x1x16x64, 1 KiB) does not fit test-npu-1k's
// 1 KiB twice (input and output, double-buffered), so the columns are split too:
// `tile = [rows, columns]` (nibble-tile-size), and every load, clamp and store is a box of both.
// CHECK-LABEL: func.func @main
// CHECK-SAME: nibble.sram_peak_bytes = {{[0-9]+}}
// CHECK: "tile.dma_load"(%{{.*}}) {layer = "relu", sram_offset = {{[0-9]+}} : i64, start = array<i64: 0, 0, 0, 0>} : (tensor<1x4x16x64xi8>) -> tensor<1x1x[[C:[1-7]]]x64xi8>
// CHECK: "tile.dma_load"(%{{.*}}) {{{.*}}start = array<i64: 0, 0, [[C]], 0>} : (tensor<1x4x16x64xi8>) -> tensor<1x1x[[C]]x64xi8>
// CHECK: "tile.clamp"{{.*}} -> tensor<1x1x[[C]]x64xi8>
// CHECK: "tile.dma_store"{{.*}}start = array<i64: 0, 0, 0, 0>} : (tensor<1x1x[[C]]x64xi8>, tensor<1x4x16x64xi8>)
// CHECK: "tile.dma_store"{{.*}}start = array<i64: 0, 3, {{[0-9]+}}, 0>} : (tensor<1x1x{{[0-9]+}}x64xi8>, tensor<1x4x16x64xi8>)
func.func @main(%arg0: tensor<1x4x16x64xf32>) -> tensor<1x4x16x64xf32> {
  %0 = "tile.quantize"(%arg0) {scale = 5.0e-1 : f64, zero_point = 0 : i32} : (tensor<1x4x16x64xf32>) -> tensor<1x4x16x64xi8>
  %1 = "tile.clamp"(%0) {min = 0 : i32, max = 127 : i32, offset = 0 : i64} : (tensor<1x4x16x64xi8>) -> tensor<1x4x16x64xi8> loc("relu")
  %2 = "tile.dequantize"(%1) {scale = 5.0e-1 : f64, zero_point = 0 : i32} : (tensor<1x4x16x64xi8>) -> tensor<1x4x16x64xf32>
  return %2 : tensor<1x4x16x64xf32>
}
