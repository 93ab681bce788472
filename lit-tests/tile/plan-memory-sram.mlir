// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-plan-memory{target=%S/Inputs/test-npu.toml})' | FileCheck %s
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-plan-memory{target=%S/Inputs/test-npu-1k.toml})' 2>&1 | FileCheck %s --check-prefix=SMALL

// The memory plan of a scheduled program: the DRAM arena holds the tile.alloc (its stores alias
// it), and every SRAM tile gets an sram_offset. The two input tiles are live together (the
// second is loaded before the first conv: double buffering) and so are the two conv outputs
// (the store of the first still runs while the second conv writes), so each pair lands in two
// buffers; the weights stay where they are. The peak is what the target must hold.
// CHECK-LABEL: func.func @main
// CHECK-SAME: nibble.arena_bytes = 256 : i64
// CHECK-SAME: nibble.sram_peak_bytes = 1232 : i64
// CHECK: "tile.alloc"() {layer = "conv", offset = 0 : i64}
// CHECK: "tile.dma_load"(%0) {layer = "conv", sram_offset = [[X0:[0-9]+]] : i64, start = array<i64: 0, 0, 0, 0>}
// CHECK: "tile.dma_load"(%0) {layer = "conv", sram_offset = [[X1:[0-9]+]] : i64, start = array<i64: 0, 4, 0, 0>}
// CHECK-NOT: sram_offset = [[X0]] : i64, start = array<i64: 0, 4
// CHECK: "tile.conv2d"{{.*}}sram_offset = [[C0:[0-9]+]] : i64
// CHECK: "tile.dma_store"({{.*}}) {layer = "conv", offset = 0 : i64, start = array<i64: 0, 0, 0, 0>}
// CHECK: "tile.conv2d"{{.*}}sram_offset = {{[0-9]+}} : i64
// CHECK: "tile.dma_store"({{.*}}) {layer = "conv", offset = 0 : i64, start = array<i64: 0, 4, 0, 0>}

// SMALL: nibble-plan-memory: cannot schedule 'tile.dma_load' at {{.*}}: layer 'conv' needs 1232 bytes of SRAM as planned; target 'test-npu-1k' has 1024
func.func @main(%arg0: tensor<1x8x8x16xf32>) -> tensor<1x8x8x4xf32> {
  %0 = "tile.quantize"(%arg0) {scale = 5.0e-1 : f64, zero_point = 0 : i32} : (tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xi8>
  %w = "tile.const"() {value = dense<1> : tensor<4x1x1x16xi8>} : () -> tensor<4x1x1x16xi8>
  %b = "tile.const"() {value = dense<0> : tensor<4xi32>} : () -> tensor<4xi32>
  %y = "tile.alloc"() {offset = 0 : i64, layer = "conv"} : () -> tensor<1x8x8x4xi8>
  %x0 = "tile.dma_load"(%0) {start = array<i64: 0, 0, 0, 0>, sram_offset = 0 : i64, layer = "conv"} : (tensor<1x8x8x16xi8>) -> tensor<1x4x8x16xi8>
  %wt = "tile.dma_load"(%w) {start = array<i64: 0, 0, 0, 0>, sram_offset = 0 : i64, layer = "conv"} : (tensor<4x1x1x16xi8>) -> tensor<4x1x1x16xi8>
  %bt = "tile.dma_load"(%b) {start = array<i64: 0>, sram_offset = 0 : i64, layer = "conv"} : (tensor<4xi32>) -> tensor<4xi32>
  %x1 = "tile.dma_load"(%0) {start = array<i64: 0, 4, 0, 0>, sram_offset = 0 : i64, layer = "conv"} : (tensor<1x8x8x16xi8>) -> tensor<1x4x8x16xi8>
  %c0 = "tile.conv2d"(%x0, %wt, %bt) {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>, input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 34>, clamp_min = -128 : i32, clamp_max = 127 : i32, tile = array<i64: 4, 4>, offset = 0 : i64, sram_offset = 0 : i64, dataflow = "ws", layer = "conv"} : (tensor<1x4x8x16xi8>, tensor<4x1x1x16xi8>, tensor<4xi32>) -> tensor<1x4x8x4xi8>
  %y1 = "tile.dma_store"(%c0, %y) {start = array<i64: 0, 0, 0, 0>, offset = 0 : i64, layer = "conv"} : (tensor<1x4x8x4xi8>, tensor<1x8x8x4xi8>) -> tensor<1x8x8x4xi8>
  %c1 = "tile.conv2d"(%x1, %wt, %bt) {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>, input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 34>, clamp_min = -128 : i32, clamp_max = 127 : i32, tile = array<i64: 4, 4>, offset = 0 : i64, sram_offset = 0 : i64, dataflow = "ws", layer = "conv"} : (tensor<1x4x8x16xi8>, tensor<4x1x1x16xi8>, tensor<4xi32>) -> tensor<1x4x8x4xi8>
  %y2 = "tile.dma_store"(%c1, %y1) {start = array<i64: 0, 4, 0, 0>, offset = 0 : i64, layer = "conv"} : (tensor<1x4x8x4xi8>, tensor<1x8x8x4xi8>) -> tensor<1x8x8x4xi8>
  %o = "tile.dequantize"(%y2) {scale = 2.5e-1 : f64, zero_point = 0 : i32} : (tensor<1x8x8x4xi8>) -> tensor<1x8x8x4xf32>
  return %o : tensor<1x8x8x4xf32>
}
