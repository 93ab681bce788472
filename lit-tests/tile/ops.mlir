// RUN: %nibble opt %s | %nibble opt | FileCheck %s
// tile ops parse, verify against the IRDL definition and round-trip.
// CHECK-LABEL: func.func @ops
// CHECK: "tile.quantize"
// CHECK: "tile.conv2d"
// CHECK-SAME: tile = array<i64: 2, 8>
// CHECK: "tile.max_pool2d"
// CHECK: "tile.reshape"
// CHECK: "tile.fully_connected"
// CHECK: "tile.dequantize"
func.func @ops(%arg0: tensor<1x4x4x1xf32>) -> tensor<1x2xf32> {
  %0 = "tile.quantize"(%arg0) {scale = 5.0e-1 : f64, zero_point = 0 : i32, offset = 0 : i64} : (tensor<1x4x4x1xf32>) -> tensor<1x4x4x1xi8>
  %w = "tile.const"() {value = dense<1> : tensor<8x1x1x1xi8>} : () -> tensor<8x1x1x1xi8>
  %b = "tile.const"() {value = dense<0> : tensor<8xi32>} : () -> tensor<8xi32>
  %1 = "tile.conv2d"(%0, %w, %b) {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>, input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 30>, clamp_min = 0 : i32, clamp_max = 127 : i32, tile = array<i64: 2, 8>, offset = 16 : i64} : (tensor<1x4x4x1xi8>, tensor<8x1x1x1xi8>, tensor<8xi32>) -> tensor<1x4x4x8xi8>
  %2 = "tile.max_pool2d"(%1) {kernel = array<i64: 4, 4>, stride = array<i64: 4, 4>, pad = array<i64: 0, 0, 0, 0>, offset = 0 : i64} : (tensor<1x4x4x8xi8>) -> tensor<1x1x1x8xi8>
  %3 = "tile.reshape"(%2) {offset = 0 : i64} : (tensor<1x1x1x8xi8>) -> tensor<1x8xi8>
  %fw = "tile.const"() {value = dense<1> : tensor<2x8xi8>} : () -> tensor<2x8xi8>
  %fb = "tile.const"() {value = dense<0> : tensor<2xi32>} : () -> tensor<2xi32>
  %4 = "tile.fully_connected"(%3, %fw, %fb) {input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 31>, clamp_min = -128 : i32, clamp_max = 127 : i32, tile = array<i64: 2>, offset = 16 : i64} : (tensor<1x8xi8>, tensor<2x8xi8>, tensor<2xi32>) -> tensor<1x2xi8>
  %5 = "tile.dequantize"(%4) {scale = 2.5e-1 : f64, zero_point = 0 : i32} : (tensor<1x2xi8>) -> tensor<1x2xf32>
  return %5 : tensor<1x2xf32>
}
