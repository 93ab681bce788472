// RUN: %nibble opt %s --split-input-file --pass-pipeline='builtin.module(nibble-fold-requant)' | FileCheck %s

!acc = tensor<1x8x!quant.uniform<i32:f32, 1.0e-4>>
!a = tensor<1x8x!quant.uniform<i8:f32, 2.0e-2:-100>>
!b = tensor<1x8x!quant.uniform<i8:f32, 1.0e-2:-128>>

// With zero points, a ReLU is [zp, qmax] of its type: the requant moves before it and the
// ReLU becomes [zp_out, qmax] = [-128, 127] after it.
// CHECK-LABEL: func.func @asym
// CHECK: %[[R:.*]] = "qnt.requant"(%arg0) {multiplier = 1374389535 : i32, rounding_mode = "SINGLE_ROUND", shift = 37 : i32}
// CHECK-NEXT: "qnt.clamp"(%[[R]]) {max = 127 : i64, min = -128 : i64}
// CHECK-NOT: qnt.requant
func.func @asym(%arg0: !acc) -> tensor<1x8xf32> {
  %0 = "qnt.requant"(%arg0) {multiplier = 1374389535 : i32, shift = 38 : i32, rounding_mode = "SINGLE_ROUND"} : (!acc) -> !a
  %1 = "qnt.clamp"(%0) {min = -100 : i64, max = 127 : i64} : (!a) -> !a
  %2 = "qnt.requant"(%1) {multiplier = 1073741824 : i32, shift = 29 : i32, rounding_mode = "SINGLE_ROUND"} : (!a) -> !b
  %3 = "qnt.dequantize"(%2) : (!b) -> tensor<1x8xf32>
  return %3 : tensor<1x8xf32>
}

// -----

!a = tensor<4x!quant.uniform<i8:f32, 2.0e-2>>
!b = tensor<4x!quant.uniform<i8:f32, 1.0e-2>>

// A clamp that is not a ReLU ([-10, 100] here) does not commute with rescaling: both requants stay.
// CHECK-LABEL: func.func @not_relu
// CHECK: "qnt.requant"
// CHECK: "qnt.clamp"({{.*}}) {max = 100 : i64, min = -10 : i64}
// CHECK: "qnt.requant"
func.func @not_relu(%arg0: !a) -> tensor<4xf32> {
  %0 = "qnt.requant"(%arg0) {multiplier = 1073741824 : i32, shift = 30 : i32, rounding_mode = "SINGLE_ROUND"} : (!a) -> !a
  %1 = "qnt.clamp"(%0) {min = -10 : i64, max = 100 : i64} : (!a) -> !a
  %2 = "qnt.requant"(%1) {multiplier = 1073741824 : i32, shift = 29 : i32, rounding_mode = "SINGLE_ROUND"} : (!a) -> !b
  %3 = "qnt.dequantize"(%2) : (!b) -> tensor<4xf32>
  return %3 : tensor<4xf32>
}
