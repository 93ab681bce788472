// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-fuse-activations,nibble-quantize)' | FileCheck %s --check-prefix=QNT
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-fuse-activations,nibble-quantize,nibble-lower-tile)' | FileCheck %s --check-prefix=TILE

// A PReLU that alone reads a conv (marked fused by nibble-fuse-activations) rescales its i32 accumulator directly (one rounding, no int8
// pre-activation tensor): x and the output in [-1, 1] (1/127), weights 1/127, accumulator
// 1/127²; positive side (1/127²)/(1/127) = 1/127 = 1082196484 · 2^-37; slopes [0.25, -0.5]:
// 1082196484 · 2^-39 and -1082196484 · 2^-38. At the tile level the conv carries both sides.
// QNT: %[[A:.*]] = "qnt.conv2d"
// QNT-NEXT: "qnt.prelu"(%[[A]]) {neg_multiplier = array<i32: 1082196484, -1082196484>, neg_shift = array<i32: 39, 38>, pos_multiplier = array<i32: 1082196484, 1082196484>, pos_shift = array<i32: 37, 37>} : (tensor<1x2x2x2x!quant.uniform<i32:f32, 6.20001240002{{[0-9]*}}E-5>>)
// TILE: "tile.conv2d"(%{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, dilation = array<i64: 1, 1>, input_zp = 0 : i32, multiplier = array<i32: 1082196484, 1082196484>, neg_multiplier = array<i32: 1082196484, -1082196484>, neg_shift = array<i32: 39, 38>
// TILE-NOT: tile.requant
func.func @main(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x2xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %w = "tosa.const"() {values = dense<[[[[1.0]]], [[[0.5]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %slope = "tosa.const"() {values = dense<[[[[0.25, -0.5]]]]> : tensor<1x1x1x2xf32>} : () -> tensor<1x1x1x2xf32>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %p = tosa.custom %c, %slope {domain_name = "nibble", implementation_attrs = "", operator_name = "prelu", nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x2xf32>, tensor<1x1x1x2xf32>) -> tensor<1x2x2x2xf32>
  return %p : tensor<1x2x2x2xf32>
}
