// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-fold-constants)' | FileCheck %s

// Ops on constants are evaluated at compile time; ops reading the argument stay.
// CHECK-LABEL: func.func @fold
// CHECK: %[[C:.*]] = "tosa.const"() <{values = dense<[1.250000e+00, 2.250000e+00]> : tensor<2xf32>}>
// CHECK-NOT: tosa.reciprocal
// CHECK: %[[R:.*]] = tosa.add %arg0, %[[C]]
// CHECK: return %[[R]]
func.func @fold(%arg0: tensor<2xf32>) -> tensor<2xf32> {
  %a = "tosa.const"() {values = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %b = "tosa.const"() {values = dense<4.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %c = tosa.reciprocal %b : (tensor<2xf32>) -> tensor<2xf32>
  %d = tosa.add %a, %c : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %e = tosa.add %arg0, %d : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %e : tensor<2xf32>
}
