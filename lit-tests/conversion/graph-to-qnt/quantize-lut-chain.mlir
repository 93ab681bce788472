// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize)' | FileCheck %s

// Scalar affine steps after an activation join its table, so `2·sigmoid(x) − 1` rounds once:
// x in [-4, 4] (scale 4/127), the result in [-1, 1] (scale 1/127): code -128 → round(127 ·
// (2·sigmoid(-4.03) − 1)) = -123 (0x85), code 0 → 0, code 127 → 122 (0x7A). No qnt.mul or
// qnt.add remains.
// CHECK: "qnt.lut"(%{{.*}}) {function = "sigmoid", table = dense<"0x85{{([0-9A-F]{254})}}00{{([0-9A-F]{252})}}7A"> : tensor<256xi8>}
// CHECK-NOT: qnt.mul
// CHECK-NOT: qnt.add
func.func @main(%arg0: tensor<1x4xf32>) -> tensor<1x4xf32> attributes {nibble.arg0_min = -4.0 : f64, nibble.arg0_max = 4.0 : f64} {
  %two = "tosa.const"() {values = dense<2.0> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %one = "tosa.const"() {values = dense<1.0> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %0 = tosa.sigmoid %arg0 {nibble.min = 0.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %1 = tosa.mul %two, %0, %shift {nibble.min = 0.0 : f64, nibble.max = 2.0 : f64} : (tensor<1x1xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %2 = tosa.sub %1, %one {nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xf32>
  return %2 : tensor<1x4xf32>
}
