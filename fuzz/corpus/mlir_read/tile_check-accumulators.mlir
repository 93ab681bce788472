// RUN: %nibble opt %s --split-input-file --pass-pipeline='builtin.module(nibble-check-accumulators)' | FileCheck %s

// nibble-check-accumulators proves each accumulator fits the C type holding it. A global
// average pool over 2100 × 4096 pixels with input_zp = -128 sums up to 8601600 × 255 =
// 2193408000 > 2^31 − 1: its window sum is widened to int64 (acc_bits = 64); a 2 × 2 pool
// (4 × 255) is left as it is.
// CHECK-LABEL: func.func @wide
// CHECK: "tile.avg_pool2d"{{.*}}acc_bits = 64 : i64
func.func @wide(%arg0: tensor<1x2100x4096x1xf32>) -> tensor<1x1x1x1xf32> {
  %0 = "tile.quantize"(%arg0) {scale = 7.8431372549019607E-3 : f64, zero_point = -128 : i32} : (tensor<1x2100x4096x1xf32>) -> tensor<1x2100x4096x1xi8>
  %1 = "tile.avg_pool2d"(%0) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = -128 : i32, kernel = array<i64: 2100, 4096>, multiplier = array<i32: 1073741824>, offset = 0 : i64, output_zp = -128 : i32, pad = array<i64: 0, 0, 0, 0>, shift = array<i32: 53>, stride = array<i64: 1, 1>} : (tensor<1x2100x4096x1xi8>) -> tensor<1x1x1x1xi8>
  %2 = "tile.dequantize"(%1) {scale = 7.8431372549019607E-3 : f64, zero_point = -128 : i32} : (tensor<1x1x1x1xi8>) -> tensor<1x1x1x1xf32>
  return %2 : tensor<1x1x1x1xf32>
}

// -----

// CHECK-LABEL: func.func @narrow
// CHECK-NOT: acc_bits
// CHECK: return
func.func @narrow(%arg0: tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32> {
  %0 = "tile.quantize"(%arg0) {scale = 5.000000e-01 : f64, zero_point = -128 : i32} : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xi8>
  %1 = "tile.avg_pool2d"(%0) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = -128 : i32, kernel = array<i64: 2, 2>, multiplier = array<i32: 1073741824>, offset = 0 : i64, output_zp = 0 : i32, pad = array<i64: 0, 0, 0, 0>, shift = array<i32: 32>, stride = array<i64: 2, 2>} : (tensor<1x4x4x2xi8>) -> tensor<1x2x2x2xi8>
  %2 = "tile.dequantize"(%1) {scale = 5.000000e-01 : f64, zero_point = 0 : i32} : (tensor<1x2x2x2xi8>) -> tensor<1x2x2x2xf32>
  return %2 : tensor<1x2x2x2xf32>
}
