// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-fold-requant)' | FileCheck %s

!acc = tensor<1x8x!quant.uniform<i32:f32, 1.0e-4>>
!a = tensor<1x8x!quant.uniform<i8:f32, 2.0e-2>>
!b = tensor<1x8x!quant.uniform<i8:f32, 1.0e-2>>

// requant(0.5^..) -> relu -> requant folds into one requant whose multiplier is the exact
// product of the two fixed-point scales, followed by the relu.
// 1e-4/2e-2 = 0.005 = 1374389535 * 2^-38 ; 2e-2/1e-2 = 2 = 1073741824 * 2^-29
// product = 1374389535 * 2^-37
// CHECK-LABEL: func.func @chain
// CHECK: %[[R:.*]] = "qnt.requant"(%arg0) {multiplier = 1374389535 : i32, rounding_mode = "SINGLE_ROUND", shift = 37 : i32} : {{.*}} -> tensor<1x8x!quant.uniform<i8:f32, 1.000000e-02>>
// CHECK-NEXT: %[[C:.*]] = "qnt.clamp"(%[[R]]) {max = 127 : i64, min = 0 : i64}
// CHECK-NEXT: "qnt.dequantize"(%[[C]])
// CHECK-NOT: qnt.requant
func.func @chain(%arg0: !acc) -> tensor<1x8xf32> {
  %0 = "qnt.requant"(%arg0) {multiplier = 1374389535 : i32, shift = 38 : i32, rounding_mode = "SINGLE_ROUND"} : (!acc) -> !a
  %1 = "qnt.clamp"(%0) {min = 0 : i64, max = 127 : i64} : (!a) -> !a
  %2 = "qnt.requant"(%1) {multiplier = 1073741824 : i32, shift = 29 : i32, rounding_mode = "SINGLE_ROUND"} : (!a) -> !b
  %3 = "qnt.dequantize"(%2) : (!b) -> tensor<1x8xf32>
  return %3 : tensor<1x8xf32>
}
