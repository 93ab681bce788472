// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize{granularity=channel},nibble-fold-requant)' | FileCheck %s
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize{granularity=row})' 2>&1 | FileCheck %s --check-prefix=BAD

// Weights [1.0] and [-0.5] get one scale each (1/127 and 0.5/127, both stored as ±127); the
// bias and accumulator are per channel along their channel axis, and the requant carries one
// multiplier/shift per channel — still folded with the ReLU's requant by the e-graph.
// CHECK: "qnt.const"() {value = dense<{{\[\[\[\[}}127]]], {{\[\[\[}}-127]]]]> : tensor<2x1x1x1xi8>} : () -> tensor<2x1x1x1x!quant.uniform<i8:f32:0, {0.0078740157480314959,0.003937007874015748}>>
// CHECK: -> tensor<2x!quant.uniform<i32:f32:0, {
// CHECK: "qnt.conv2d"{{.*}} -> tensor<1x4x4x2x!quant.uniform<i32:f32:3, {
// CHECK: "qnt.requant"({{.*}}) {multiplier = array<i32: {{[0-9]+}}, {{[0-9]+}}>, rounding_mode = "SINGLE_ROUND", shift = array<i32: {{[0-9]+}}, {{[0-9]+}}>}
// CHECK-NEXT: "qnt.clamp"
// CHECK-NOT: "qnt.requant"
// BAD: unknown granularity 'row' (tensor, channel)
func.func @main(%arg0: tensor<1x4x4x1xf32>) -> tensor<1x4x4x2xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %w = "tosa.const"() {values = dense<[[[[1.0]]], [[[-0.5]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %b = "tosa.const"() {values = dense<[0.25, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %0 = tosa.conv2d %arg0, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -2.0 : f64, nibble.max = 1.25 : f64} : (tensor<1x4x4x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x2xf32>
  %1 = tosa.clamp %0 {min_val = 0.0 : f32, max_val = 3.40282347E+38 : f32, nibble.min = 0.0 : f64, nibble.max = 1.5 : f64} : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
  return %1 : tensor<1x4x4x2xf32>
}
