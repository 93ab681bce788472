// RUN: %nibble opt %s --split-input-file --pass-pipeline='builtin.module(nibble-quantize)' | FileCheck %s --check-prefix=QNT
// RUN: %nibble opt %s --split-input-file --pass-pipeline='builtin.module(nibble-quantize,nibble-lower-tile)' | FileCheck %s --check-prefix=TILE

// A unary activation becomes a 256-entry table over the int8 input codes, at the qnt and tile
// levels alike: sigmoid of [-4, 4] (scale 4/127) into [0, 1] (scale 1/127): code -128 → 2,
// code 0 → 64 (sigmoid(0) = 0.5), code 127 → 125.
// TILE-LABEL: func.func @sigmoid
// TILE: "tile.lut"(%{{.*}}) {offset = {{[0-9]+}} : i64, table = dense<"0x02{{([0-9A-F]{254})}}40{{([0-9A-F]{252})}}7D"> : tensor<256xi8>} : (tensor<1x4xi8>) -> tensor<1x4xi8>
func.func @sigmoid(%arg0: tensor<1x4xf32>) -> tensor<1x4xf32> attributes {nibble.arg0_min = -4.0 : f64, nibble.arg0_max = 4.0 : f64} {
  %0 = tosa.sigmoid %arg0 {nibble.min = 0.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}

// -----

// Scalar affine steps after an activation join its table, so `2·sigmoid(x) − 1` rounds once:
// x in [-4, 4] (scale 4/127), the result in [-1, 1] (scale 1/127): code -128 → round(127 ·
// (2·sigmoid(-4.03) − 1)) = -123 (0x85), code 0 → 0, code 127 → 122 (0x7A). No qnt.mul or
// qnt.add remains.
// QNT-LABEL: func.func @affine_sigmoid
// QNT: "qnt.lut"(%{{.*}}) {function = "sigmoid", table = dense<"0x85{{([0-9A-F]{254})}}00{{([0-9A-F]{252})}}7A"> : tensor<256xi8>}
// QNT-NOT: qnt.mul
// QNT-NOT: qnt.add
func.func @affine_sigmoid(%arg0: tensor<1x4xf32>) -> tensor<1x4xf32> attributes {nibble.arg0_min = -4.0 : f64, nibble.arg0_max = 4.0 : f64} {
  %two = "tosa.const"() {values = dense<2.0> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %one = "tosa.const"() {values = dense<1.0> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %0 = tosa.sigmoid %arg0 {nibble.min = 0.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %1 = tosa.mul %two, %0, %shift {nibble.min = 0.0 : f64, nibble.max = 2.0 : f64} : (tensor<1x1xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %2 = tosa.sub %1, %one {nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xf32>
  return %2 : tensor<1x4xf32>
}
