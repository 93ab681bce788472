// RUN: %nibble opt %s | %nibble opt | FileCheck %s
// Every qnt op parses, verifies against the IRDL definition and round-trips.

!x = tensor<1x4x4x2x!quant.uniform<i8:f32, 5.0e-1>>
// CHECK-LABEL: func.func @all_ops
// CHECK: "qnt.quantize"
// CHECK: "qnt.const"
// CHECK: "qnt.conv2d"
// CHECK: "qnt.requant"
// CHECK: "qnt.clamp"
// CHECK: "qnt.max_pool2d"
// CHECK: "qnt.transpose"
// CHECK: "qnt.reshape"
// CHECK: "qnt.fully_connected"
// CHECK: "qnt.dequantize"
func.func @all_ops(%arg0: tensor<1x4x4x2xf32>) -> tensor<1x3xf32> {
  %0 = "qnt.quantize"(%arg0) : (tensor<1x4x4x2xf32>) -> !x
  %w = "qnt.const"() {value = dense<1> : tensor<2x1x1x2xi8>} : () -> tensor<2x1x1x2x!quant.uniform<i8:f32, 1.0e-1>>
  %b = "qnt.const"() {value = dense<0> : tensor<2xi32>} : () -> tensor<2x!quant.uniform<i32:f32, 5.0e-2>>
  %1 = "qnt.conv2d"(%0, %w, %b) {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (!x, tensor<2x1x1x2x!quant.uniform<i8:f32, 1.0e-1>>, tensor<2x!quant.uniform<i32:f32, 5.0e-2>>) -> tensor<1x4x4x2x!quant.uniform<i32:f32, 5.0e-2>>
  %2 = "qnt.requant"(%1) {multiplier = 1073741824 : i32, shift = 33 : i32, rounding_mode = "SINGLE_ROUND"} : (tensor<1x4x4x2x!quant.uniform<i32:f32, 5.0e-2>>) -> !x
  %3 = "qnt.clamp"(%2) {min = 0 : i64, max = 127 : i64} : (!x) -> !x
  %4 = "qnt.max_pool2d"(%3) {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (!x) -> tensor<1x2x2x2x!quant.uniform<i8:f32, 5.0e-1>>
  %5 = "qnt.transpose"(%4) {perms = array<i32: 0, 3, 1, 2>} : (tensor<1x2x2x2x!quant.uniform<i8:f32, 5.0e-1>>) -> tensor<1x2x2x2x!quant.uniform<i8:f32, 5.0e-1>>
  %6 = "qnt.reshape"(%5) : (tensor<1x2x2x2x!quant.uniform<i8:f32, 5.0e-1>>) -> tensor<1x8x!quant.uniform<i8:f32, 5.0e-1>>
  %fw = "qnt.const"() {value = dense<1> : tensor<3x8xi8>} : () -> tensor<3x8x!quant.uniform<i8:f32, 1.0e-1>>
  %fb = "qnt.const"() {value = dense<0> : tensor<3xi32>} : () -> tensor<3x!quant.uniform<i32:f32, 5.0e-2>>
  %7 = "qnt.fully_connected"(%6, %fw, %fb) : (tensor<1x8x!quant.uniform<i8:f32, 5.0e-1>>, tensor<3x8x!quant.uniform<i8:f32, 1.0e-1>>, tensor<3x!quant.uniform<i32:f32, 5.0e-2>>) -> tensor<1x3x!quant.uniform<i32:f32, 5.0e-2>>
  %8 = "qnt.requant"(%7) {multiplier = 1073741824 : i32, shift = 33 : i32, rounding_mode = "SINGLE_ROUND"} : (tensor<1x3x!quant.uniform<i32:f32, 5.0e-2>>) -> tensor<1x3x!quant.uniform<i8:f32, 5.0e-1>>
  %9 = "qnt.dequantize"(%8) : (tensor<1x3x!quant.uniform<i8:f32, 5.0e-1>>) -> tensor<1x3xf32>
  return %9 : tensor<1x3xf32>
}
