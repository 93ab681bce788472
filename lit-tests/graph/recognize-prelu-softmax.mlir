// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-recognize-layers)' | FileCheck %s

// PReLU (per channel and scalar slope, as the importer writes PRelu and LeakyRelu) and softmax
// over the last axis.
// CHECK-LABEL: func.func @prelu_softmax
// CHECK-DAG: %[[P:.*]] = tosa.custom %arg0, %{{.*}} {domain_name = "nibble", implementation_attrs = "", operator_name = "prelu"} : (tensor<1x2x2x3xf32>, tensor<1x1x1x3xf32>)
// CHECK-DAG: %[[L:.*]] = tosa.custom %arg0, %{{.*}} {domain_name = "nibble", implementation_attrs = "", operator_name = "prelu"} : (tensor<1x2x2x3xf32>, tensor<1x1x1x1xf32>)
// CHECK-DAG: %[[S:.*]] = tosa.custom %arg0 {domain_name = "nibble", implementation_attrs = "", operator_name = "softmax"}
// CHECK-NOT: tosa.exp
// CHECK: return %[[P]], %[[L]], %[[S]]
func.func @prelu_softmax(%x: tensor<1x2x2x3xf32>) -> (tensor<1x2x2x3xf32>, tensor<1x2x2x3xf32>, tensor<1x2x2x3xf32>) {
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %slope = "tosa.const"() {values = dense<[[[[0.25, 0.5, -1.0]]]]> : tensor<1x1x1x3xf32>} : () -> tensor<1x1x1x3xf32>
  %alpha = "tosa.const"() {values = dense<0.01> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %0 = tosa.clamp %x {min_val = 0.0 : f32, max_val = 3.40282347E+38 : f32} : (tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  %1 = tosa.clamp %x {min_val = -3.40282347E+38 : f32, max_val = 0.0 : f32} : (tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  %2 = tosa.mul %1, %slope, %shift : (tensor<1x2x2x3xf32>, tensor<1x1x1x3xf32>, tensor<1xi8>) -> tensor<1x2x2x3xf32>
  %p = tosa.add %0, %2 : (tensor<1x2x2x3xf32>, tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  %3 = tosa.clamp %x {min_val = 0.0 : f32, max_val = 3.40282347E+38 : f32} : (tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  %4 = tosa.clamp %x {min_val = -3.40282347E+38 : f32, max_val = 0.0 : f32} : (tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  %5 = tosa.mul %4, %alpha, %shift : (tensor<1x2x2x3xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x2x2x3xf32>
  %l = tosa.add %5, %3 : (tensor<1x2x2x3xf32>, tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  %6 = tosa.reduce_max %x {axis = 3 : i32} : (tensor<1x2x2x3xf32>) -> tensor<1x2x2x1xf32>
  %7 = tosa.sub %x, %6 : (tensor<1x2x2x3xf32>, tensor<1x2x2x1xf32>) -> tensor<1x2x2x3xf32>
  %8 = tosa.exp %7 : (tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  %9 = tosa.reduce_sum %8 {axis = 3 : i32} : (tensor<1x2x2x3xf32>) -> tensor<1x2x2x1xf32>
  %10 = tosa.reciprocal %9 : (tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32>
  %s = tosa.mul %8, %10, %shift : (tensor<1x2x2x3xf32>, tensor<1x2x2x1xf32>, tensor<1xi8>) -> tensor<1x2x2x3xf32>
  return %p, %l, %s : tensor<1x2x2x3xf32>, tensor<1x2x2x3xf32>, tensor<1x2x2x3xf32>
}
