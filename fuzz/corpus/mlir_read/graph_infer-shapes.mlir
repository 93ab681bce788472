// RUN: %nibble opt %s --pass-pipeline='builtin.module(func.func(tosa-infer-shapes))' | FileCheck %s

// Shape inference at the graph level is upstream's tosa-infer-shapes, run through nibble opt
// (nibble's importer already writes static shapes; this refines hand-written or partially
// typed IR before nibble's own passes, which require static shapes).
// CHECK-LABEL: func.func @infer
// CHECK: tosa.add {{.*}} -> tensor<2x3xf32>
// CHECK: tosa.clamp {{.*}} -> tensor<2x3xf32>
func.func @infer(%a: tensor<2x3xf32>, %b: tensor<1x3xf32>) -> tensor<*xf32> {
  %0 = tosa.add %a, %b : (tensor<2x3xf32>, tensor<1x3xf32>) -> tensor<?x?xf32>
  %1 = tosa.clamp %0 {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<?x?xf32>) -> tensor<*xf32>
  return %1 : tensor<*xf32>
}
