// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize{bias-correction=true})' | FileCheck %s --check-prefix=BC
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize)' | FileCheck %s --check-prefix=PLAIN

// Bias correction: weights [1.0, 0.3] per tensor (scale 1/127) round 0.3 to 38/127 = 0.29921;
// with the input's mean 2.0 (`nibble.input_mean`, left by calibration) the second output is
// expected 2·(0.29921 − 0.3) = −0.00157 too low, so its bias becomes +0.00157: at the
// accumulator scale 1/127² that is 25.4 → 25. The first weight is exact: bias 0.
// BC: "qnt.const"() {value = dense<[0, 25]> : tensor<2xi32>}
// PLAIN: "qnt.const"() {value = dense<0> : tensor<2xi32>}
func.func @main(%x: tensor<1x1x1x1xf32>) -> tensor<1x1x1x2xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %w = "tosa.const"() {values = dense<[[[[1.0]]], [[[0.3]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -1.0 : f64, nibble.max = 1.0 : f64, nibble.input_mean = dense<2.0> : tensor<1xf32>} : (tensor<1x1x1x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x2xf32>
  return %c : tensor<1x1x1x2xf32>
}
