// RUN: not %nibble opt %s 2>&1 | FileCheck %s

// A MAC-array op needs its dataflow.
// CHECK: error: 'npu.conv2d' op attribute "dataflow" is expected but not provided
func.func @no_dataflow(%x: tensor<1x4x4x8xi8>, %w: tensor<8x1x1x8xi8>, %b: tensor<8xi32>) -> tensor<1x4x4x8xi8> {
  %0 = "npu.conv2d"(%x, %w, %b) {id = 3 : i64, sram_offset = 512 : i64, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>, input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 36>, clamp_min = -128 : i32, clamp_max = 127 : i32} : (tensor<1x4x4x8xi8>, tensor<8x1x1x8xi8>, tensor<8xi32>) -> tensor<1x4x4x8xi8>
  return %0 : tensor<1x4x4x8xi8>
}
