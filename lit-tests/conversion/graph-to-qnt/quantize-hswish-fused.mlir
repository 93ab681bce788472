// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-fuse-activations,nibble-quantize)' | FileCheck %s --check-prefix=QNT
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-fuse-activations,nibble-quantize,nibble-lower-tile)' | FileCheck %s --check-prefix=TILE

// A hard-swish that alone reads a conv (marked fused by nibble-fuse-activations), with the affine steps after it (2·y − 0.5), is one
// fixed-point epilogue of the i32 accumulator: no int8 pre-activation tensor, one rounding.
// x in [-1, 1], weight 1 (both 1/127): accumulator scale 1/127². The activation's input scale
// s_v = max(|pre-activation|, 6)/2^15 = 6/32768: mid = (1/127²)/s_v = 0.338603 =
// 1454290288 · 2^-32, three = 3/s_v = 16384, six = 32768. Output [-1.5, 1.5] (1.5/127):
// a·s_v²/(6·s_out) = 2 · 9.4622e-7 → 2130706432 · 2^-51, cut to 24 bits: 16646144 · 2^-44;
// bias = b/s_out · 2^44 = -0.5 · 84.67 · 2^44 = -744735875880277.
// QNT: "qnt.hard_swish"(%{{.*}}) {bias = array<i64: -744735875880277>, mid_multiplier = array<i32: 1454290288>, mid_shift = array<i32: 32>, multiplier = array<i32: 16646144>, shift = array<i32: 44>, six = 32768 : i64, three = 16384 : i64}
// QNT-NOT: qnt.mul
// QNT-NOT: qnt.add
// TILE: "tile.conv2d"(%{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, dilation = array<i64: 1, 1>, hswish = array<i64: 16384, 32768, 16646144, 44, -744735875880277>, input_zp = 0 : i32, multiplier = array<i32: 1454290288>
// TILE-NOT: tile.lut
func.func @main(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %w = "tosa.const"() {values = dense<1.0> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %two = "tosa.const"() {values = dense<2.0> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %half = "tosa.const"() {values = dense<0.5> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x1xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x1xf32>
  %h = tosa.custom %c {domain_name = "nibble", implementation_attrs = "", operator_name = "hard_swish", nibble.min = -0.375 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32>
  %m = tosa.mul %h, %two, %shift {nibble.min = -0.75 : f64, nibble.max = 2.0 : f64} : (tensor<1x2x2x1xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x2x2x1xf32>
  %y = tosa.sub %m, %half {nibble.min = -1.5 : f64, nibble.max = 1.5 : f64} : (tensor<1x2x2x1xf32>, tensor<1x1x1x1xf32>) -> tensor<1x2x2x1xf32>
  return %y : tensor<1x2x2x1xf32>
}
