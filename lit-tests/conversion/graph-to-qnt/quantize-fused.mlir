// RUN: %nibble opt %s --split-input-file --pass-pipeline='builtin.module(nibble-fuse-activations,nibble-quantize)' | FileCheck %s --check-prefix=QNT
// RUN: %nibble opt %s --split-input-file --pass-pipeline='builtin.module(nibble-fuse-activations,nibble-quantize,nibble-lower-tile)' | FileCheck %s --check-prefix=TILE

// A hard-swish that alone reads a conv (marked fused by nibble-fuse-activations), with the affine steps after it (2·y − 0.5), is one
// fixed-point epilogue of the i32 accumulator: no int8 pre-activation tensor, one rounding.
// x in [-1, 1], weight 1 (both 1/127): accumulator scale 1/127². The activation's input scale
// s_v = max(|pre-activation|, 6)/2^15 = 6/32768: mid = (1/127²)/s_v = 0.338603 =
// 1454290288 · 2^-32, three = 3/s_v = 16384, six = 32768. Output [-1.5, 1.5] (1.5/127):
// a·s_v²/(6·s_out) = 2 · 9.4622e-7 → 2130706432 · 2^-51, cut to 24 bits: 16646144 · 2^-44;
// bias = b/s_out · 2^44 = -0.5 · 84.67 · 2^44 = -744735875880277.
// QNT-LABEL: func.func @hard_swish
// QNT: "qnt.hard_swish"(%{{.*}}) {bias = array<i64: -744735875880277>, mid_multiplier = array<i32: 1454290288>, mid_shift = array<i32: 32>, multiplier = array<i32: 16646144>, shift = array<i32: 44>, six = 32768 : i64, three = 16384 : i64}
// QNT-NOT: qnt.mul
// QNT-NOT: qnt.add
// TILE-LABEL: func.func @hard_swish
// TILE: "tile.conv2d"(%{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, dilation = array<i64: 1, 1>, hswish = array<i64: 16384, 32768, 16646144, 44, -744735875880277>, input_zp = 0 : i32, multiplier = array<i32: 1454290288>
// TILE-NOT: tile.lut
func.func @hard_swish(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
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

// -----

// A PReLU that alone reads a conv (marked fused by nibble-fuse-activations) rescales its i32 accumulator directly (one rounding, no int8
// pre-activation tensor): x and the output in [-1, 1] (1/127), weights 1/127, accumulator
// 1/127²; positive side (1/127²)/(1/127) = 1/127 = 1082196484 · 2^-37; slopes [0.25, -0.5]:
// 1082196484 · 2^-39 and -1082196484 · 2^-38. At the tile level the conv carries both sides.
// QNT-LABEL: func.func @prelu
// QNT: %[[A:.*]] = "qnt.conv2d"
// QNT-NEXT: "qnt.prelu"(%[[A]]) {neg_multiplier = array<i32: 1082196484, -1082196484>, neg_shift = array<i32: 39, 38>, pos_multiplier = array<i32: 1082196484, 1082196484>, pos_shift = array<i32: 37, 37>} : (tensor<1x2x2x2x!quant.uniform<i32:f32, 6.20001240002{{[0-9]*}}E-5>>)
// TILE-LABEL: func.func @prelu
// TILE: "tile.conv2d"(%{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, dilation = array<i64: 1, 1>, input_zp = 0 : i32, multiplier = array<i32: 1082196484, 1082196484>, neg_multiplier = array<i32: 1082196484, -1082196484>, neg_shift = array<i32: 39, 38>
// TILE-NOT: tile.requant
func.func @prelu(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x2xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %w = "tosa.const"() {values = dense<[[[[1.0]]], [[[0.5]]]]> : tensor<2x1x1x1xf32>} : () -> tensor<2x1x1x1xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %slope = "tosa.const"() {values = dense<[[[[0.25, -0.5]]]]> : tensor<1x1x1x2xf32>} : () -> tensor<1x1x1x2xf32>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %p = tosa.custom %c, %slope {domain_name = "nibble", implementation_attrs = "", operator_name = "prelu", nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x2xf32>, tensor<1x1x1x2xf32>) -> tensor<1x2x2x2xf32>
  return %p : tensor<1x2x2x2xf32>
}

// -----

// A swish (x·sigmoid(βx), β = 1) that alone reads a conv (marked fused by nibble-fuse-activations), with 2·y − 0.5 after it, is one
// fixed-point epilogue of the i32 accumulator. Accumulator scale 1/127²; v = βx in units of
// 2^-12: mid = (1/127²)/2^-12 = 0.25395 = 1090717716 · 2^-32. The sigmoid table is
// round(2^15·sigmoid((k − 128)/16)): 11 (0x0B), 12, … 16384 at k = 128 … 32757. Output
// [-1.25, 1.5] (1.5/127): 2 · 2^-12 · 2^-15 / (1.5/127) = 1.2616e-6 → 11097430 · 2^-43 (24
// bits); bias = -0.5 · (127/1.5) · 2^43 = -372367937940139.
// QNT-LABEL: func.func @swish
// QNT: "qnt.swish"(%{{.*}}) {bias = array<i64: -372367937940139>, mid_multiplier = array<i32: 1090717716>, mid_shift = array<i32: 32>, multiplier = array<i32: 11097430>, shift = array<i32: 43>, sigmoid_table = dense<"0x0B0000000C000000{{[0-9A-F]+}}"> : tensor<257xi32>}
// QNT-NOT: qnt.lut
// TILE-LABEL: func.func @swish
// TILE: "tile.conv2d"(%{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, dilation = array<i64: 1, 1>, input_zp = 0 : i32, multiplier = array<i32: 1090717716>, offset = 0 : i64, output_zp = 0 : i32, pad = array<i64: 0, 0, 0, 0>, shift = array<i32: 32>, sigmoid_table = dense<"0x0B0000000C000000{{[0-9A-F]+}}"> : tensor<257xi32>, stride = array<i64: 1, 1>, swish = array<i64: 11097430, 43, -372367937940139>
func.func @swish(%x: tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
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
