// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize)' 2>&1 | FileCheck %s

// A per-channel upper bound below the output grid's top (1 < 4) would need a per-channel
// integer clamp, which no kernel has: refused, naming the op (nibble-equalize never makes one).
// CHECK: error: {{.*}}cannot quantize 'tosa.custom' at loc("relu6"): a per-channel upper bound (1) below the output grid's top (4) has no integer form
func.func @main(%arg0: tensor<1x2xf32>) -> tensor<1x2xf32> attributes {nibble.arg0_min = -4.0 : f64, nibble.arg0_max = 4.0 : f64} {
  %hi = "tosa.const"() {values = dense<[6.0, 1.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %0 = tosa.custom %arg0, %hi {domain_name = "nibble", implementation_attrs = "min=0", operator_name = "clamp_channels", nibble.min = 0.0 : f64, nibble.max = 4.0 : f64} : (tensor<1x2xf32>, tensor<2xf32>) -> tensor<1x2xf32> loc("relu6")
  return %0 : tensor<1x2xf32>
}
