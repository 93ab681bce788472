// RUN: not %nibble opt %s 2>&1 | FileCheck %s
// A tile conv must carry its schedule: without `tile` it is rejected.
// CHECK: error: 'tile.conv2d' op attribute "tile" is expected but not provided
func.func @no_schedule(%x: tensor<1x4x4x1xi8>, %w: tensor<8x1x1x1xi8>, %b: tensor<8xi32>) -> tensor<1x4x4x8xi8> {
  %1 = "tile.conv2d"(%x, %w, %b) {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>, input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 30>, clamp_min = 0 : i32, clamp_max = 127 : i32, offset = 16 : i64} : (tensor<1x4x4x1xi8>, tensor<8x1x1x1xi8>, tensor<8xi32>) -> tensor<1x4x4x8xi8>
  return %1 : tensor<1x4x4x8xi8>
}
