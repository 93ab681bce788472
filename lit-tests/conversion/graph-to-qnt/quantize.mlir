// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize)' | FileCheck %s

// A calibrated conv + ReLU: weights become i8 constants, the bias i32 at sx*sw, the conv
// accumulates in i32 and each tensor is requantized to the scale of its own range.
// CHECK-LABEL: func.func @main
// CHECK: "qnt.quantize"(%arg0) {{.*}} -> tensor<1x4x4x1x!quant.uniform<i8:f32, 0.007874
// CHECK: "qnt.const"() {value = dense<[{{\[\[\[}}127]]], {{\[\[\[}}-64]]]]> : tensor<2x1x1x1xi8>}
// CHECK: "qnt.const"() {value = dense<{{.*}}> : tensor<2xi32>} : () -> tensor<2x!quant.uniform<i32:f32
// CHECK: %[[ACC:.*]] = "qnt.conv2d"({{.*}}) -> tensor<1x4x4x2x!quant.uniform<i32:f32
// CHECK: %[[R:.*]] = "qnt.requant"(%[[ACC]]) {multiplier = {{[0-9]+}} : i32, rounding_mode = "SINGLE_ROUND", shift = {{[0-9]+}} : i32} {{.*}} -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.015748
// CHECK: %[[C:.*]] = "qnt.clamp"(%[[R]]) {max = 127 : i64, min = 0 : i64}
// CHECK: %[[O:.*]] = "qnt.requant"(%[[C]]) {{.*}} -> tensor<1x4x4x2x!quant.uniform<i8:f32, 0.011811
// CHECK: "qnt.dequantize"(%[[O]]) {{.*}} -> tensor<1x4x4x2xf32>
func.func @main(%arg0: tensor<1x4x4x1xf32>) -> tensor<1x4x4x2xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %w = "tosa.const"() {values = dense<[[[[1.0]]], [[[-0.5]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %b = "tosa.const"() {values = dense<[0.25, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %0 = tosa.conv2d %arg0, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -2.0 : f64, nibble.max = 1.25 : f64} : (tensor<1x4x4x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x2xf32>
  %1 = tosa.clamp %0 {min_val = 0.0 : f32, max_val = 3.40282347E+38 : f32, nibble.min = 0.0 : f64, nibble.max = 1.5 : f64} : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
  return %1 : tensor<1x4x4x2xf32>
}
