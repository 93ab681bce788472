// RUN: %nibble opt %s --split-input-file --pass-pipeline='builtin.module(nibble-equalize)' | FileCheck %s

// Conv A's two output channels have ranges |β| + 3γ = 0 + 3·1 = 3 and 0.5 + 3·0.5 = 2 (its
// BatchNorm statistics): s = [1, 2/3]. Channel 1 of A is divided by 2/3 (weights 0.3 → 0.45,
// bias 0.2 → 0.3, statistics 0.5 → 0.75), channel 1 of the depthwise conv B multiplied by 2/3
// (3.0 → 2.0); channel 0 is unchanged. Through the ReLU the function is the same.
// CHECK-LABEL: func.func @bn_statistics
// CHECK-DAG: dense<{{\[\[\[\[}}1.000000e+00]]], {{\[\[\[}}0.45{{[0-9]*}}]]]]> : tensor<2x1x1x1xf32>
// CHECK-DAG: dense<[1.000000e-01, 3.000000e-01]> : tensor<2xf32>
// CHECK-DAG: dense<{{\[\[\[\[}}1.000000e+00], [2.000000e+00]]]]> : tensor<1x1x2x1xf32>
// CHECK: tosa.conv2d {{.*}}nibble.bn_mean = dense<[0.000000e+00, 7.500000e-01]> : tensor<2xf32>, nibble.bn_std = dense<[1.000000e+00, 7.500000e-01]> : tensor<2xf32>
func.func @bn_statistics(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x2xf32> {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %wa = "tosa.const"() {values = dense<[[[[1.0]]], [[[0.3]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %ba = "tosa.const"() {values = dense<[0.1, 0.2]> : tensor<2xf32>} : () -> tensor<2xf32>
  %wb = "tosa.const"() {values = dense<[[[[1.0], [3.0]]]]> : tensor<1x1x2x1xf32>} : () -> tensor<1x1x2x1xf32>
  %bb = "tosa.const"() {values = dense<[0.0, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %a = tosa.conv2d %x, %wa, %ba, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.bn_mean = dense<[0.0, 0.5]> : tensor<2xf32>, nibble.bn_std = dense<[1.0, 0.5]> : tensor<2xf32>} : (tensor<1x2x2x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %r = tosa.clamp %a {min_val = 0.0 : f32, max_val = 3.40282347E+38 : f32} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %b = tosa.depthwise_conv2d %r, %wb, %bb, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<1x1x2x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  return %b : tensor<1x2x2x2xf32>
}

// -----

// Depthwise A → ReLU → pointwise conv B: weight ranges balanced (data-free quantization).
// A's channel ranges max|w| = [4, 0.25], B's weights reading them [1, 1]: s = sqrt(r_A / r_B)
// = [2, 0.5]. A's channel c is divided by s_c (weights 4 → 2, 0.25 → 0.5; bias 0.4 → 0.2,
// 0.1 → 0.2), B's weights reading it multiplied by s_c (1 → 2, 1 → 0.5): both ranges become
// sqrt(r_A · r_B) = [2, 0.5], and through the ReLU (positive scales) the function is the same.
// CHECK-LABEL: func.func @depthwise
// CHECK-DAG: dense<{{\[\[\[\[}}2.000000e+00], [5.000000e-01]]]]> : tensor<1x1x2x1xf32>
// CHECK-DAG: dense<2.000000e-01> : tensor<2xf32>
// CHECK-DAG: dense<{{\[\[\[\[}}2.000000e+00, 5.000000e-01]]]]> : tensor<1x1x1x2xf32>
func.func @depthwise(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x1xf32> {
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
