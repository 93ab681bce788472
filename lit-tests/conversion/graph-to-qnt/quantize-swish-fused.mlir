// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-fuse-activations,nibble-quantize)' | FileCheck %s --check-prefix=QNT
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-fuse-activations,nibble-quantize,nibble-lower-tile)' | FileCheck %s --check-prefix=TILE

// A swish (x·sigmoid(βx), β = 1) that alone reads a conv (marked fused by nibble-fuse-activations), with 2·y − 0.5 after it, is one
// fixed-point epilogue of the i32 accumulator. Accumulator scale 1/127²; v = βx in units of
// 2^-12: mid = (1/127²)/2^-12 = 0.25395 = 1090717716 · 2^-32. The sigmoid table is
// round(2^15·sigmoid((k − 128)/16)): 11 (0x0B), 12, … 16384 at k = 128 … 32757. Output
// [-1.25, 1.5] (1.5/127): 2 · 2^-12 · 2^-15 / (1.5/127) = 1.2616e-6 → 11097430 · 2^-43 (24
// bits); bias = -0.5 · (127/1.5) · 2^43 = -372367937940139.
// QNT: "qnt.swish"(%{{.*}}) {bias = array<i64: -372367937940139>, mid_multiplier = array<i32: 1090717716>, mid_shift = array<i32: 32>, multiplier = array<i32: 11097430>, shift = array<i32: 43>, sigmoid_table = dense<"0x0B0000000C000000{{[0-9A-F]+}}"> : tensor<257xi32>}
// QNT-NOT: qnt.lut
// TILE: "tile.conv2d"(%{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, dilation = array<i64: 1, 1>, input_zp = 0 : i32, multiplier = array<i32: 1090717716>, offset = 0 : i64, output_zp = 0 : i32, pad = array<i64: 0, 0, 0, 0>, shift = array<i32: 32>, sigmoid_table = dense<"0x0B0000000C000000{{[0-9A-F]+}}"> : tensor<257xi32>, stride = array<i64: 1, 1>, swish = array<i64: 11097430, 43, -372367937940139>
func.func @main(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %w = "tosa.const"() {values = dense<1.0> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %two = "tosa.const"() {values = dense<2.0> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %half = "tosa.const"() {values = dense<0.5> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x1xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x1xf32>
  %h = tosa.custom %c {domain_name = "nibble", operator_name = "swish", implementation_attrs = "beta=1e0", nibble.min = -0.28 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32>
  %m = tosa.mul %h, %two, %shift {nibble.min = -0.75 : f64, nibble.max = 2.0 : f64} : (tensor<1x2x2x1xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x2x2x1xf32>
  %y = tosa.sub %m, %half {nibble.min = -1.25 : f64, nibble.max = 1.5 : f64} : (tensor<1x2x2x1xf32>, tensor<1x1x1x1xf32>) -> tensor<1x2x2x1xf32>
  return %y : tensor<1x2x2x1xf32>
}
