// RUN: %nibble opt %s --verify-diagnostics --pass-pipeline='builtin.module(nibble-quantize,nibble-fold-requant,nibble-lower-tile)'

// A 16-bit tensor read by a lookup table (a 256-entry table needs an 8-bit input) is refused,
// naming the reader and what reads 16 bits (on the module: `@unknown`).
// expected-error @unknown {{its result cannot be 16-bit: 'qnt.lut' at loc("sig") reads it; only qnt.conv2d, qnt.depthwise_conv2d, qnt.fully_connected, qnt.requant, qnt.clamp, qnt.add, qnt.mul, qnt.layer_norm, qnt.reshape read 16 bits}}
func.func @main(%x: tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %w = "tosa.const"() {values = dense<0.5> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %bias = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %a = tosa.conv2d %x, %w, %bias, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.bits = 16 : i64, nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x1xf32> loc("conv")
  %s = tosa.sigmoid %a {nibble.min = 0.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32> loc("sig")
  return %s : tensor<1x1x1x1xf32>
}
