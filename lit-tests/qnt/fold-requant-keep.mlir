// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-fold-requant)' | FileCheck %s

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
