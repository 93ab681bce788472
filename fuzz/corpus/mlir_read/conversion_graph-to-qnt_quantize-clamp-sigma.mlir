// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize)' | FileCheck %s --check-prefix=FULL
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize{clamp-sigma=1})' | FileCheck %s --check-prefix=CLAMP
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize{clamp-sigma=-1})' 2>&1 | FileCheck %s --check-prefix=BAD

// Weight clamping: seven weights of ±0.1 and one of 1.0 (mean 0.1375, σ 0.3389). Without it
// the scale is 1/127 and the small weights get 13 levels; clamped at mean + 1σ = 0.4764 the
// scale is 0.4764/127 = 0.0037511, the small weights get 27 and the outlier saturates at 127.
// FULL: "qnt.const"() {value = dense<{{\[\[\[\[}}13, -13, 13, -13, 13, -13, 13, 127{{\]\]\]\]}}> : tensor<1x1x1x8xi8>} : () -> tensor<1x1x1x8x!quant.uniform<i8:f32, 0.0078740157480314959>>
// CLAMP: "qnt.const"() {value = dense<{{\[\[\[\[}}27, -27, 27, -27, 27, -27, 27, 127{{\]\]\]\]}}> : tensor<1x1x1x8xi8>} : () -> tensor<1x1x1x8x!quant.uniform<i8:f32, 0.0037510712{{[0-9]*}}>>
// BAD: clamp-sigma must be a positive number, got '-1'
func.func @main(%x: tensor<1x1x1x8xf32>) -> tensor<1x1x1x1xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %w = "tosa.const"() {values = dense<[[[[0.1, -0.1, 0.1, -0.1, 0.1, -0.1, 0.1, 1.0]]]]> : tensor<1x1x1x8xf32>} : () -> tensor<1x1x1x8xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -2.0 : f64, nibble.max = 2.0 : f64} : (tensor<1x1x1x8xf32>, tensor<1x1x1x8xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x1xf32>
  return %c : tensor<1x1x1x1xf32>
}
