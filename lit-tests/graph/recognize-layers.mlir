// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-recognize-layers)' | FileCheck %s

// Decomposed layers as the importer writes them become single tosa.custom ops.
// CHECK-LABEL: func.func @layers
// CHECK-DAG: %[[HS:.*]] = tosa.custom %arg0 {domain_name = "nibble", implementation_attrs = "", operator_name = "hard_swish"}
// CHECK-DAG: %[[HS2:.*]] = tosa.custom %arg0 {domain_name = "nibble", implementation_attrs = "", operator_name = "hard_swish"}
// CHECK-DAG: %[[SIG:.*]] = tosa.custom %arg0 {domain_name = "nibble", implementation_attrs = "alpha=2e-1,beta=5e-1", operator_name = "hard_sigmoid"}
// CHECK-DAG: %[[GELU:.*]] = tosa.custom %arg0 {domain_name = "nibble", implementation_attrs = "", operator_name = "gelu"}
// CHECK-DAG: %[[LN:.*]] = tosa.custom %arg0, %{{.*}}, %{{.*}} {domain_name = "nibble", implementation_attrs = "epsilon=1e-5", operator_name = "layer_norm"}
// CHECK-NOT: tosa.erf
// CHECK-NOT: tosa.reciprocal
// CHECK: return %[[HS]], %[[HS2]], %[[SIG]], %[[GELU]], %[[LN]]
func.func @layers(%x: tensor<1x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>) {
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %three = "tosa.const"() {values = dense<3.0> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %sixth = "tosa.const"() {values = dense<0.166666672> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %half = "tosa.const"() {values = dense<0.5> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %one = "tosa.const"() {values = dense<1.0> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %fifth = "tosa.const"() {values = dense<0.2> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %rsqrt2 = "tosa.const"() {values = dense<0.707106769> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  // hard-swish: x · clamp(x + 3, 0, 6) · ⅙
  %0 = tosa.add %x, %three : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xf32>
  %1 = tosa.clamp %0 {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %2 = tosa.mul %x, %1, %shift : (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %hs = tosa.mul %2, %sixth, %shift : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  // hard-swish: x · clamp(x·⅙ + ½, 0, 1)
  %3 = tosa.mul %x, %sixth, %shift : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %4 = tosa.add %3, %half : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xf32>
  %5 = tosa.clamp %4 {min_val = 0.0 : f32, max_val = 1.0 : f32} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %hs2 = tosa.mul %5, %x, %shift : (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  // hard-sigmoid: clamp(x·0.2 + ½, 0, 1)
  %6 = tosa.mul %x, %fifth, %shift : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %7 = tosa.add %6, %half : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xf32>
  %sig = tosa.clamp %7 {min_val = 0.0 : f32, max_val = 1.0 : f32} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  // GELU: x · (erf(x/√2) + 1) · ½
  %8 = tosa.mul %x, %rsqrt2, %shift : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %9 = tosa.erf %8 : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %10 = tosa.add %9, %one : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xf32>
  %11 = tosa.mul %x, %10, %shift : (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %gelu = tosa.mul %11, %half, %shift : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  // LayerNorm over the last axis (4 channels), ε = 1e-5
  %quarter = "tosa.const"() {values = dense<0.25> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %eps = "tosa.const"() {values = dense<1.0e-5> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %gamma = "tosa.const"() {values = dense<[[1.0, 2.0, 3.0, 4.0]]> : tensor<1x4xf32>} : () -> tensor<1x4xf32>
  %beta = "tosa.const"() {values = dense<[[0.0, 0.5, 0.0, -0.5]]> : tensor<1x4xf32>} : () -> tensor<1x4xf32>
  %12 = tosa.reduce_sum %x {axis = 1 : i32} : (tensor<1x4xf32>) -> tensor<1x1xf32>
  %13 = tosa.mul %12, %quarter, %shift : (tensor<1x1xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x1xf32>
  %14 = tosa.sub %x, %13 : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xf32>
  %15 = tosa.mul %14, %14, %shift : (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %16 = tosa.reduce_sum %15 {axis = 1 : i32} : (tensor<1x4xf32>) -> tensor<1x1xf32>
  %17 = tosa.mul %16, %quarter, %shift : (tensor<1x1xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x1xf32>
  %18 = tosa.add %17, %eps : (tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<1x1xf32>
  %19 = tosa.pow %18, %half : (tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<1x1xf32>
  %20 = tosa.reciprocal %19 : (tensor<1x1xf32>) -> tensor<1x1xf32>
  %21 = tosa.mul %14, %20, %shift : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %22 = tosa.mul %21, %gamma, %shift : (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %ln = tosa.add %22, %beta : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  return %hs, %hs2, %sig, %gelu, %ln : tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>
}
