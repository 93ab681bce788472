// RUN: %nibble opt %s --pass-pipeline='builtin.module(canonicalize,nibble-fold-requant,cse)' | FileCheck %s

!a = tensor<4x!quant.uniform<i8:f32, 2.0e-2>>

// Upstream and nibble passes run in one pass manager: canonicalize folds the tosa add of zero,
// nibble-fold-requant folds the requant pair.
// CHECK-LABEL: func.func @mixed
// CHECK-NOT: tosa.add
// CHECK: "qnt.requant"(%arg1) {multiplier = 1073741824 : i32, rounding_mode = "SINGLE_ROUND", shift = 28 : i32}
// CHECK-NOT: "qnt.requant"
func.func @mixed(%arg0: tensor<4xf32>, %arg1: !a) -> (tensor<4xf32>, !a) {
  %z = "tosa.const"() {values = dense<0.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %0 = tosa.add %arg0, %z : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = "qnt.requant"(%arg1) {multiplier = 1073741824 : i32, shift = 30 : i32, rounding_mode = "SINGLE_ROUND"} : (!a) -> !a
  %2 = "qnt.requant"(%1) {multiplier = 1073741824 : i32, shift = 28 : i32, rounding_mode = "SINGLE_ROUND"} : (!a) -> !a
  return %0, %2 : tensor<4xf32>, !a
}
