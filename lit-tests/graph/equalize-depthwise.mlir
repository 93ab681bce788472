// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-equalize)' | FileCheck %s

// Depthwise A → ReLU → pointwise conv B: weight ranges balanced (data-free quantization).
// A's channel ranges max|w| = [4, 0.25], B's weights reading them [1, 1]: s = sqrt(r_A / r_B)
// = [2, 0.5]. A's channel c is divided by s_c (weights 4 → 2, 0.25 → 0.5; bias 0.4 → 0.2,
// 0.1 → 0.2), B's weights reading it multiplied by s_c (1 → 2, 1 → 0.5): both ranges become
// sqrt(r_A · r_B) = [2, 0.5], and through the ReLU (positive scales) the function is the same.
// CHECK-DAG: dense<{{\[\[\[\[}}2.000000e+00], [5.000000e-01]]]]> : tensor<1x1x2x1xf32>
// CHECK-DAG: dense<2.000000e-01> : tensor<2xf32>
// CHECK-DAG: dense<{{\[\[\[\[}}2.000000e+00, 5.000000e-01]]]]> : tensor<1x1x1x2xf32>
func.func @main(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x1xf32> {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %wa = "tosa.const"() {values = dense<[[[[4.0], [0.25]]]]> : tensor<1x1x2x1xf32>} : () -> tensor<1x1x2x1xf32>
  %ba = "tosa.const"() {values = dense<[0.4, 0.1]> : tensor<2xf32>} : () -> tensor<2xf32>
  %wb = "tosa.const"() {values = dense<[[[[1.0, 1.0]]]]> : tensor<1x1x1x2xf32>} : () -> tensor<1x1x1x2xf32>
  %bb = "tosa.const"() {values = dense<[0.0]> : tensor<1xf32>} : () -> tensor<1xf32>
  %a = tosa.depthwise_conv2d %x, %wa, %ba, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<1x1x2x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %r = tosa.clamp %a {min_val = 0.0 : f32, max_val = 3.40282347E+38 : f32} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %b = tosa.conv2d %r, %wb, %bb, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<1x1x1x2xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x1xf32>
  return %b : tensor<1x2x2x1xf32>
}
