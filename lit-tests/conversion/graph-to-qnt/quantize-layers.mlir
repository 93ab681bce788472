// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize)' | FileCheck %s --check-prefix=QNT
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize,nibble-lower-tile)' | FileCheck %s --check-prefix=TILE

// Pools, elementwise ops, PReLU and softmax get integer forms whose fixed-point parameters follow
// from the scales (symmetric: x and the pool in [-1, 1] → 1/127; sums and products in [-2, 2] →
// 2/127):
// - global 2x2 average pool: (1/127) / (4 · 1/127) = 0.25 = 2^30 · 2^-32;
// - add with broadcast: both ratios (1/127)/(2/127) = 0.5 over one shift: 2^30 · 2^-31 each;
// - mul: (2/127 · 1/127) / (2/127) = 1/127 = 1082196484 · 2^-37 (2^37/127 rounded);
// - PReLU with slopes [0.25, 0.5, -1, 0]: positive side 1 = 2^30 · 2^-30; negative side
//   2^30·2^-32, 2^30·2^-31, -2^30·2^-30 (signed), 0; at the tile level a requant whose
//   negative inputs use the neg_* multipliers;
// - softmax: probabilities at 2^-7, table[k] = round(2^15 · exp((2/127)(k − 255))): 591 (0x24F) … 32768
//   (0x8000), little-endian i32.
// QNT: "qnt.avg_pool2d"(%{{.*}}) {kernel = array<i64: 2, 2>, multiplier = array<i32: 1073741824>, pad = array<i64: 0, 0, 0, 0>, shift = array<i32: 32>, stride = array<i64: 1, 1>}
// QNT: "qnt.add"(%{{.*}}, %{{.*}}) {multiplier = array<i32: 1073741824, 1073741824>, shift = 31 : i32}
// QNT: "qnt.mul"(%{{.*}}, %{{.*}}) {multiplier = 1082196484 : i32, shift = 37 : i32}
// QNT: "qnt.prelu"(%{{.*}}) {neg_multiplier = array<i32: 1073741824, 1073741824, -1073741824, 0>, neg_shift = array<i32: 32, 31, 30, 1>, pos_multiplier = array<i32: 1073741824, 1073741824, 1073741824, 1073741824>, pos_shift = array<i32: 30, 30, 30, 30>}
// QNT: "qnt.softmax"(%{{.*}}) {exp_table = dense<"0x4F020000{{[0-9A-F]+}}00800000"> : tensor<256xi32>, frac_bits = 7 : i32} : (tensor<1x2x2x4x!quant.uniform<i8:f32, 0.015748031{{[0-9]*}}>>) -> tensor<1x2x2x4x!quant.uniform<i8:f32, 7.812500e-03>>
// TILE: "tile.avg_pool2d"(%{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = 0 : i32, kernel = array<i64: 2, 2>, multiplier = array<i32: 1073741824>
// TILE: "tile.add"(%{{.*}}, %{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = array<i32: 0, 0>, multiplier = array<i32: 1073741824, 1073741824>
// TILE: "tile.mul"
// TILE: "tile.requant"(%{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = 0 : i32, multiplier = array<i32: 1073741824, 1073741824, 1073741824, 1073741824>, neg_multiplier = array<i32: 1073741824, 1073741824, -1073741824, 0>, neg_shift = array<i32: 32, 31, 30, 1>
// TILE: "tile.softmax"(%{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, exp_table = dense<"0x4F020000
func.func @main(%x: tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %slope = "tosa.const"() {values = dense<[[[[0.25, 0.5, -1.0, 0.0]]]]> : tensor<1x1x1x4xf32>} : () -> tensor<1x1x1x4xf32>
  %pool = tosa.avg_pool2d %x, %zp, %zp {acc_type = f32, kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x4xf32>
  %sum = tosa.add %x, %pool {nibble.min = -2.0 : f64, nibble.max = 2.0 : f64} : (tensor<1x2x2x4xf32>, tensor<1x1x1x4xf32>) -> tensor<1x2x2x4xf32>
  %prod = tosa.mul %sum, %pool, %shift {nibble.min = -2.0 : f64, nibble.max = 2.0 : f64} : (tensor<1x2x2x4xf32>, tensor<1x1x1x4xf32>, tensor<1xi8>) -> tensor<1x2x2x4xf32>
  %p = tosa.custom %prod, %slope {domain_name = "nibble", implementation_attrs = "", operator_name = "prelu", nibble.min = -2.0 : f64, nibble.max = 2.0 : f64} : (tensor<1x2x2x4xf32>, tensor<1x1x1x4xf32>) -> tensor<1x2x2x4xf32>
  %s = tosa.custom %p {domain_name = "nibble", implementation_attrs = "", operator_name = "softmax", nibble.min = 0.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  return %s : tensor<1x2x2x4xf32>
}
