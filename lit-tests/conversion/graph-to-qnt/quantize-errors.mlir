// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize)' 2>&1 | FileCheck %s

// An op without a calibrated range is reported with its location, never left in float.
// CHECK: error: {{.*}}nibble-quantize: cannot quantize 'tosa.clamp' at loc("relu1"): it has no range
func.func @main(%arg0: tensor<1x4xf32>) -> tensor<1x4xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %0 = tosa.clamp %arg0 {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x4xf32>) -> tensor<1x4xf32> loc("relu1")
  return %0 : tensor<1x4xf32>
}
