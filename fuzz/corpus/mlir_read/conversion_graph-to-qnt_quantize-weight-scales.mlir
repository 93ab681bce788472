// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize{granularity=channel})' | FileCheck %s
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize{granularity=tensor})' 2>&1 | FileCheck %s --check-prefix=BAD

// Weights rounded by GPTQ (`nibble compile --weight-rounding gptq`) carry the grid they were
// rounded for, `nibble.weight_scales`: quantization uses it instead of the weights' own range,
// so 0.5 at 1/128 and -0.25 at 1/256 are stored as 64 and -64 (their own ranges would give
// ±127 at 0.5/127 and 0.25/127).
// CHECK: "qnt.const"() {value = dense<{{\[\[\[\[}}64]]], {{\[\[\[}}-64]]]]> : tensor<2x1x1x1xi8>} : () -> tensor<2x1x1x1x!quant.uniform<i8:f32:0, {7.812500e-03,3.906250e-03}>>
// The grid is per channel: quantizing per tensor is refused, not silently re-rounded.
// BAD: error: {{.*}}loc("conv"){{.*}}its weights were rounded for 2 scale(s) (nibble.weight_scales), but this granularity needs 1: round them with the same --granularity
func.func @main(%arg0: tensor<1x4x4x1xf32>) -> tensor<1x4x4x2xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %w = "tosa.const"() {values = dense<[[[[0.5]]], [[[-0.25]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %b = "tosa.const"() {values = dense<[0.25, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %0 = tosa.conv2d %arg0, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -2.0 : f64, nibble.max = 1.25 : f64, nibble.weight_scales = dense<[0.0078125, 0.00390625]> : tensor<2xf32>} : (tensor<1x4x4x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x2xf32> loc("conv")
  return %0 : tensor<1x4x4x2xf32>
}
