// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize,nibble-lower-tile)' | FileCheck %s

// A unary activation becomes a 256-entry table over the int8 input codes, at the qnt and tile
// levels alike: sigmoid of [-4, 4] (scale 4/127) into [0, 1] (scale 1/127): code -128 → 2,
// code 0 → 64 (sigmoid(0) = 0.5), code 127 → 125.
// CHECK: "tile.lut"(%{{.*}}) {offset = {{[0-9]+}} : i64, table = dense<"0x02{{([0-9A-F]{254})}}40{{([0-9A-F]{252})}}7D"> : tensor<256xi8>} : (tensor<1x4xi8>) -> tensor<1x4xi8>
func.func @main(%arg0: tensor<1x4xf32>) -> tensor<1x4xf32> attributes {nibble.arg0_min = -4.0 : f64, nibble.arg0_max = 4.0 : f64} {
  %0 = tosa.sigmoid %arg0 {nibble.min = 0.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}
