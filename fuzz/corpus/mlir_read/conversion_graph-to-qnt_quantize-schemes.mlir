// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize{scheme=pow2})' | FileCheck %s --check-prefix=POW2
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize{scheme=asymmetric})' | FileCheck %s --check-prefix=ASYM
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize{scheme=ternary})' 2>&1 | FileCheck %s --check-prefix=BAD

// Input range [-1, 3]: pow2 picks 2^-5 (3/127 rounded up to a power of two); asymmetric
// spreads [-1, 3] over 255 steps with zero point -64.
// POW2: "qnt.quantize"(%arg0) {{.*}} -> tensor<1x4x!quant.uniform<i8:f32, 3.125000e-02>>
// POW2: "qnt.clamp"({{.*}}) {max = 96 : i64, min = 0 : i64}
// ASYM: "qnt.quantize"(%arg0) {{.*}} -> tensor<1x4x!quant.uniform<i8:f32, 0.015686274509803921:-64>>
// ASYM: "qnt.clamp"({{.*}}) {max = 127 : i64, min = -64 : i64}
// BAD: unknown scheme 'ternary' (pow2, symmetric, asymmetric)
func.func @main(%arg0: tensor<1x4xf32>) -> tensor<1x4xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 3.0 : f64} {
  %0 = tosa.clamp %arg0 {min_val = 0.0 : f32, max_val = 3.0 : f32, nibble.min = 0.0 : f64, nibble.max = 3.0 : f64} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}
