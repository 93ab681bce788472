// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-equalize{scheme=symmetric})' | FileCheck %s
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-equalize{scheme=asymmetric})' | FileCheck %s --check-prefix=ASYM
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-equalize{scheme=symmetric},nibble-fuse-activations,nibble-quantize{granularity=channel})' | FileCheck %s --check-prefix=QNT
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-equalize{scheme=symmetric},nibble-fuse-activations,nibble-quantize{scheme=pow2})' 2>&1 | FileCheck %s --check-prefix=POW2

// Conv A → hard-swish → depthwise conv B, with the hard-swish's channel ranges observed on
// calibration vectors (nibble.channel_min/max, as `nibble compile --equalize` writes them):
// [−0.375, 4] and [−0.375, 1]. s = [1, 1/4] (each channel to the top, 4; the dip −0.375/s stays
// within it): A's channel 1 is divided by 1/4 (weight 0.3 → 1.2, bias 0.2 → 0.8), B's channel 1
// multiplied by it (3 → 0.75), and the hard-swish becomes hard_swish(s_c·y)/s_c with s a
// constant — the same function. The channel ranges are dropped (stale).
// CHECK-DAG: dense<{{\[\[\[\[}}1.000000e+00]]], {{\[\[\[}}1.200000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK-DAG: dense<[1.000000e-01, 8.000000e-01]> : tensor<2xf32>
// CHECK-DAG: dense<{{\[\[\[\[}}1.000000e+00], [7.500000e-01]]]]> : tensor<1x1x2x1xf32>
// CHECK: %[[S:.*]] = "tosa.const"() <{values = dense<[1.000000e+00, 2.500000e-01]> : tensor<2xf32>}>
// CHECK: tosa.custom %{{.*}}, %[[S]] {domain_name = "nibble", implementation_attrs = "", {{.*}}operator_name = "scaled_hard_swish"}
// CHECK-NOT: nibble.channel_max
// Under an asymmetric grid the pair is left (the dips' growth costs as much as the balance).
// ASYM-NOT: scaled_hard_swish
// ASYM: operator_name = "hard_swish"
// ASYM-NOT: scaled_hard_swish
// Quantized, the rescaled hard-swish is the conv's epilogue with one output multiplier per
// channel (channel 1's output is divided by 1/4: a multiplier 4× channel 0's).
// QNT: "qnt.hard_swish"(%{{.*}}) {bias = array<i64: 0, 0>, mid_multiplier = array<i32: {{[0-9]+}}, {{[0-9]+}}>, mid_shift = array<i32: {{[0-9]+}}, {{[0-9]+}}>, multiplier = array<i32: [[M:[0-9]+]], [[M]]>, shift = array<i32: [[SH:[0-9]+]], {{[0-9]+}}>
// Equalized for another scheme than pow2, the rescaled hard-swish cannot be quantized under it:
// POW2: a hard-swish rescaled per channel (by nibble-equalize) is quantized only as the epilogue of the conv / fully connected layer it alone reads, which pow2 does not use
func.func @main(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x2xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %wa = "tosa.const"() {values = dense<[[[[1.0]]], [[[0.3]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %ba = "tosa.const"() {values = dense<[0.1, 0.2]> : tensor<2xf32>} : () -> tensor<2xf32>
  %wb = "tosa.const"() {values = dense<[[[[1.0], [3.0]]]]> : tensor<1x1x2x1xf32>} : () -> tensor<1x1x2x1xf32>
  %bb = "tosa.const"() {values = dense<[0.0, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %a = tosa.conv2d %x, %wa, %ba, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -1.0 : f64, nibble.max = 4.0 : f64} : (tensor<1x2x2x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %h = tosa.custom %a {domain_name = "nibble", implementation_attrs = "", operator_name = "hard_swish", nibble.min = -0.375 : f64, nibble.max = 4.0 : f64, nibble.channel_min = dense<[-0.375, -0.375]> : tensor<2xf32>, nibble.channel_max = dense<[4.0, 1.0]> : tensor<2xf32>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %b = tosa.depthwise_conv2d %h, %wb, %bb, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -1.0 : f64, nibble.max = 4.0 : f64} : (tensor<1x2x2x2xf32>, tensor<1x1x2x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  return %b : tensor<1x2x2x2xf32>
}
