// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-absorb-bias)' | FileCheck %s

// Channel 0 of conv A never fell below 0.5 on the calibration vectors (nibble.channel_min), so
// relu(x) = relu(x − 0.5) + 0.5 there: A's bias gives up 0.5 (0.75 → 0.25), the 1×1 conv B's
// bias takes W_B·[0.5, 0] = [2·0.5, −1·0.5] (→ [1.0, −0.5]); channel 1 (minimum −1) keeps its
// bias. A's channel ranges move down with it.
// CHECK-DAG: dense<[2.500000e-01, 1.000000e-01]> : tensor<2xf32>
// CHECK-DAG: dense<[1.000000e+00, -5.000000e-01]> : tensor<2xf32>
// CHECK: tosa.conv2d {{.*}}nibble.channel_max = dense<[3.500000e+00, 2.000000e+00]> : tensor<2xf32>, nibble.channel_min = dense<[0.000000e+00, -1.000000e+00]> : tensor<2xf32>
// A padded conv reads zeros at the border, which the shift would turn into −0.5: left alone.
// CHECK: dense<[7.500000e-01, 1.000000e-01]> : tensor<2xf32>
// CHECK: tosa.conv2d {{.*}}nibble.channel_min = dense<[5.000000e-01, -1.000000e+00]>
// CHECK: pad = array<i64: 1, 1, 1, 1>
func.func @main(%x: tensor<1x2x2x1xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %wa = "tosa.const"() {values = dense<[[[[1.0]]], [[[0.3]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %ba = "tosa.const"() {values = dense<[0.75, 0.1]> : tensor<2xf32>} : () -> tensor<2xf32>
  %wb = "tosa.const"() {values = dense<[[[[2.0, 1.0]]], [[[-1.0, 3.0]]]]> : tensor<2x1x1x2xf32>} : () -> tensor<2x1x1x2xf32>
  %bb = "tosa.const"() {values = dense<[0.0, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %a = tosa.conv2d %x, %wa, %ba, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.channel_min = dense<[0.5, -1.0]> : tensor<2xf32>, nibble.channel_max = dense<[4.0, 2.0]> : tensor<2xf32>} : (tensor<1x2x2x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %r = tosa.clamp %a {min_val = 0.0 : f32, max_val = 3.40282347E+38 : f32} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %b = tosa.conv2d %r, %wb, %bb, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %wc = "tosa.const"() {values = dense<[[[[1.0]]], [[[0.3]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %bc = "tosa.const"() {values = dense<[0.75, 0.1]> : tensor<2xf32>} : () -> tensor<2xf32>
  %wd = "tosa.const"() {values = dense<1.0> : tensor<2x3x3x2xf32>} : () -> tensor<2x3x3x2xf32>
  %bd = "tosa.const"() {values = dense<[0.0, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %c = tosa.conv2d %x, %wc, %bc, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.channel_min = dense<[0.5, -1.0]> : tensor<2xf32>, nibble.channel_max = dense<[4.0, 2.0]> : tensor<2xf32>} : (tensor<1x2x2x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %rc = tosa.clamp %c {min_val = 0.0 : f32, max_val = 3.40282347E+38 : f32} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %d = tosa.conv2d %rc, %wd, %bd, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<2x3x3x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  return %b, %d : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
}
