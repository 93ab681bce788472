// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-recognize-layers)' | FileCheck %s

// Swish as exporters write it: x · sigmoid(x · β) (β = 1 in PP-OCRv4's neck) and x · sigmoid(x).
// CHECK-LABEL: func.func @swish
// CHECK-DAG: %[[A:.*]] = tosa.custom %arg0 {domain_name = "nibble", implementation_attrs = "beta=1.5e0", operator_name = "swish"}
// CHECK-DAG: %[[B:.*]] = tosa.custom %arg0 {domain_name = "nibble", implementation_attrs = "beta=1e0", operator_name = "swish"}
// CHECK-NOT: tosa.sigmoid
// CHECK: return %[[A]], %[[B]]
func.func @swish(%x: tensor<1x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>) {
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %beta = "tosa.const"() {values = dense<1.5> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %0 = tosa.mul %x, %beta, %shift : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %1 = tosa.sigmoid %0 : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %a = tosa.mul %x, %1, %shift : (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %2 = tosa.sigmoid %x : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %b = tosa.mul %2, %x, %shift : (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  return %a, %b : tensor<1x4xf32>, tensor<1x4xf32>
}
