// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-plan-memory)' | FileCheck %s
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-plan-memory)' | %nibble opt --pass-pipeline='builtin.module(nibble-plan-memory)' | FileCheck %s

// nibble-plan-memory gives every activation buffer an offset into one arena by liveness (largest
// first, first fit, 16-byte aligned) and the function its size; planning again changes nothing.
// The conv's 128 bytes are live until the pool reads them: the pool goes above them (128); the
// reshape aliases the pool's buffer; the table's result, live to the end (the output reads it),
// reuses the conv's space (0). The host-boundary quantize and dequantize and the constants have
// no offset in the arena; tile sizes are left alone.
// CHECK-LABEL: func.func @main
// CHECK-SAME: nibble.arena_bytes = 160 : i64
// CHECK-NOT: nibble.target
// CHECK: "tile.quantize"
// CHECK-NOT: offset
// CHECK: "tile.conv2d"{{.*}}offset = 0 : i64{{.*}}tile = array<i64: 2, 8>}
// CHECK: "tile.max_pool2d"{{.*}}offset = 128 : i64
// CHECK: "tile.reshape"{{.*}}offset = 128 : i64
// CHECK: "tile.lut"{{.*}}offset = 0 : i64
// CHECK: "tile.dequantize"
// CHECK-NOT: offset
func.func @main(%arg0: tensor<1x4x4x1xf32>) -> tensor<1x32xf32> {
  %0 = "tile.quantize"(%arg0) {scale = 5.0e-1 : f64, zero_point = 0 : i32} : (tensor<1x4x4x1xf32>) -> tensor<1x4x4x1xi8>
  %w = "tile.const"() {value = dense<1> : tensor<8x1x1x1xi8>} : () -> tensor<8x1x1x1xi8>
  %b = "tile.const"() {value = dense<0> : tensor<8xi32>} : () -> tensor<8xi32>
  %1 = "tile.conv2d"(%0, %w, %b) {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>, input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 30>, clamp_min = 0 : i32, clamp_max = 127 : i32, tile = array<i64: 2, 8>, offset = 0 : i64} : (tensor<1x4x4x1xi8>, tensor<8x1x1x1xi8>, tensor<8xi32>) -> tensor<1x4x4x8xi8>
  %2 = "tile.max_pool2d"(%1) {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, offset = 0 : i64} : (tensor<1x4x4x8xi8>) -> tensor<1x2x2x8xi8>
  %3 = "tile.reshape"(%2) {offset = 0 : i64} : (tensor<1x2x2x8xi8>) -> tensor<1x32xi8>
  %4 = "tile.lut"(%3) {table = dense<3> : tensor<256xi8>, offset = 0 : i64} : (tensor<1x32xi8>) -> tensor<1x32xi8>
  %5 = "tile.dequantize"(%4) {scale = 2.5e-1 : f64, zero_point = 0 : i32} : (tensor<1x32xi8>) -> tensor<1x32xf32>
  return %5 : tensor<1x32xf32>
}
