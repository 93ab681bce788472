// RUN: %nibble opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(nibble-quantize)'

// nibble-quantize reports its failures on the module (no line: `@unknown`), naming the op by
// its location.

// An op without a calibrated range is reported with its location, never left in float.
// expected-error @unknown {{nibble-quantize: cannot quantize 'tosa.clamp' at loc("relu1"): it has no range}}
func.func @no_range(%arg0: tensor<1x4xf32>) -> tensor<1x4xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %0 = tosa.clamp %arg0 {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x4xf32>) -> tensor<1x4xf32> loc("relu1")
  return %0 : tensor<1x4xf32>
}

// -----

// A per-channel upper bound below the output grid's top (1 < 4) would need a per-channel
// integer clamp, which no kernel has: refused, naming the op (nibble-equalize never makes one).
// expected-error @unknown {{cannot quantize 'tosa.custom' at loc("relu6"): a per-channel upper bound (1) below the output grid's top (4) has no integer form}}
func.func @clamp_channels(%arg0: tensor<1x2xf32>) -> tensor<1x2xf32> attributes {nibble.arg0_min = -4.0 : f64, nibble.arg0_max = 4.0 : f64} {
  %hi = "tosa.const"() {values = dense<[6.0, 1.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %0 = tosa.custom %arg0, %hi {domain_name = "nibble", implementation_attrs = "min=0", operator_name = "clamp_channels", nibble.min = 0.0 : f64, nibble.max = 4.0 : f64} : (tensor<1x2xf32>, tensor<2xf32>) -> tensor<1x2xf32> loc("relu6")
  return %0 : tensor<1x2xf32>
}
