// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-dce)' | FileCheck %s

// The mul and the constant only it reads are dead; the clamp that reaches the return stays.
// CHECK-LABEL: func.func @main
// CHECK-NOT: tosa.mul
// CHECK-NOT: 2.500000e+00
// CHECK: %[[C:.*]] = tosa.clamp %arg0
// CHECK-NEXT: return %[[C]]
func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %s = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %k = "tosa.const"() {values = dense<2.5> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %dead = tosa.mul %x, %k, %s : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %c = tosa.clamp %x {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  return %c : tensor<1x4xf32>
}
