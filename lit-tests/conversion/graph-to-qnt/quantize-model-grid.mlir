// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize)' | FileCheck %s
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize{scheme=pow2})' 2>&1 | FileCheck %s --check-prefix=POW2

// An already-quantized model (QDQ import) fixes its grids: `nibble.arg0_scale`/`arg0_zero_point`
// for the input and `nibble.scale`/`nibble.zero_point` on an op are used as they are, while its
// ranges (nibble.min/max, here far wider) would give other grids.
// CHECK: func.func @main(%arg0: tensor<1x4x4x1xf32>)
// CHECK: "qnt.quantize"(%arg0) {{.*}} -> tensor<1x4x4x1x!quant.uniform<i8:f32, 3.000000e-02:-5>>
// CHECK: "qnt.requant"{{.*}} -> tensor<1x4x4x2x!quant.uniform<i8:f32, 1.250000e-02:-128>>
// A power-of-two scheme cannot requantize to the model's scale: refused, not re-gridded.
// POW2: error: {{.*}}cannot quantize {{.*}}the model fixes scale 0.03, not a power of two
func.func @main(%arg0: tensor<1x4x4x1xf32>) -> tensor<1x4x4x2xf32> attributes {nibble.arg0_min = -10.0 : f64, nibble.arg0_max = 10.0 : f64, nibble.arg0_scale = 0.03 : f64, nibble.arg0_zero_point = -5 : i64} {
  %w = "tosa.const"() {values = dense<[[[[0.5]]], [[[-0.25]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %b = "tosa.const"() {values = dense<[0.25, 0.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %0 = tosa.conv2d %arg0, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -20.0 : f64, nibble.max = 20.0 : f64, nibble.scale = 0.0125 : f64, nibble.zero_point = -128 : i64} : (tensor<1x4x4x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x2xf32> loc("conv")
  return %0 : tensor<1x4x4x2xf32>
}
