// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-equalize)' | FileCheck %s
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-equalize{scheme=pow2})' | FileCheck %s --check-prefix=POW2
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-equalize,nibble-quantize)' | FileCheck %s --check-prefix=QNT

// Conv A → ReLU6 → depthwise conv B, the ReLU6's channel ranges observed on calibration vectors:
// [0, 4] and [0, 1]. s = [1, 1/4]: A's channel 1 is divided by 1/4 (0.3 → 1.2, bias 0.2 → 0.8),
// B's multiplied (3 → 0.75), and the ReLU6 becomes clamp(y, 0, 6/s_c) per channel — [6, 24]:
// the same function.
// CHECK-DAG: dense<{{\[\[\[\[}}1.000000e+00]]], {{\[\[\[}}1.200000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK-DAG: dense<{{\[\[\[\[}}1.000000e+00], [7.500000e-01]]]]> : tensor<1x1x2x1xf32>
// CHECK: %[[HI:.*]] = "tosa.const"() <{values = dense<[6.000000e+00, 2.400000e+01]> : tensor<2xf32>}>
// CHECK: tosa.custom %{{.*}}, %[[HI]] {domain_name = "nibble", implementation_attrs = "min=0", {{.*}}operator_name = "clamp_channels"}
// Under pow2 the grid's top lies above the range, where the bounds would differ: left alone.
// POW2: tosa.clamp
// POW2-NOT: clamp_channels
// Quantized, every bound is at or above the output grid's top (4): a plain clamp at the top.
// QNT: "qnt.clamp"(%{{.*}}) {max = 127 : i64, min = 0 : i64}
func.func @main(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x2xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %wa = "tosa.const"() {values = dense<[[[[1.0]]], [[[0.3]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %ba = "tosa.const"() {values = dense<[0.1, 0.2]> : tensor<2xf32>} : () -> tensor<2xf32>
  %wb = "tosa.const"() {values = dense<[[[[1.0], [3.0]]]]> : tensor<1x1x2x1xf32>} : () -> tensor<1x1x2x1xf32>
  %bb = "tosa.const"() {values = dense<[0.0, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %a = tosa.conv2d %x, %wa, %ba, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -1.0 : f64, nibble.max = 4.0 : f64} : (tensor<1x2x2x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %r = tosa.clamp %a {min_val = 0.0 : f32, max_val = 6.0 : f32, nibble.min = 0.0 : f64, nibble.max = 4.0 : f64, nibble.channel_min = dense<[0.0, 0.0]> : tensor<2xf32>, nibble.channel_max = dense<[4.0, 1.0]> : tensor<2xf32>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %b = tosa.depthwise_conv2d %r, %wb, %bb, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -1.0 : f64, nibble.max = 4.0 : f64} : (tensor<1x2x2x2xf32>, tensor<1x1x2x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  return %b : tensor<1x2x2x2xf32>
}
