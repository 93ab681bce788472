// RUN: split-file --leading-lines %s %t
// RUN: not %nibble opt %t/no-schedule.mlir 2>&1 | FileCheck %s --check-prefix=SCHEDULE
// RUN: not %nibble opt %t/clamp-type.mlir 2>&1 | FileCheck %s --check-prefix=CLAMP
// RUN: not %nibble opt %t/lut-type.mlir 2>&1 | FileCheck %s --check-prefix=LUT
// RUN: not %nibble opt %t/resize-mode.mlir 2>&1 | FileCheck %s --check-prefix=MODE
// RUN: not %nibble opt %t/hswish.mlir --pass-pipeline='builtin.module(nibble-tile-size)' 2>&1 | FileCheck %s --check-prefix=HSWISH
// What the IRDL definition (tile.irdl.mlir) rejects when a module is parsed, and what the typed
// readers reject of the optional fused fields IRDL does not declare; each case a part of this
// file (split-file keeps its line numbers) with the error expected at the line below its check.

//--- no-schedule.mlir
// A tile conv must carry its schedule: without `tile` it is rejected.
func.func @no_schedule(%x: tensor<1x4x4x1xi8>, %w: tensor<8x1x1x1xi8>, %b: tensor<8xi32>) -> tensor<1x4x4x8xi8> {
  // SCHEDULE: no-schedule.mlir:[[@LINE+1]]:8: error: 'tile.conv2d' op attribute "tile" is expected but not provided
  %1 = "tile.conv2d"(%x, %w, %b) {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>, input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 30>, clamp_min = 0 : i32, clamp_max = 127 : i32, offset = 16 : i64} : (tensor<1x4x4x1xi8>, tensor<8x1x1x1xi8>, tensor<8xi32>) -> tensor<1x4x4x8xi8>
  return %1 : tensor<1x4x4x8xi8>
}

//--- clamp-type.mlir
// A clamp keeps its operand's type.
func.func @clamp_widens(%x: tensor<4xi8>) -> tensor<4xi16> {
  // CLAMP: clamp-type.mlir:[[@LINE+1]]:8: error: expected 'tensor<4xi8>' but got 'tensor<4xi16>'
  %0 = "tile.clamp"(%x) {min = 0 : i32, max = 127 : i32, offset = 0 : i64} : (tensor<4xi8>) -> tensor<4xi16>
  return %0 : tensor<4xi16>
}

//--- lut-type.mlir
// A lookup table keeps its operand's type.
func.func @lut_reshapes(%x: tensor<4xi8>) -> tensor<2x2xi8> {
  // LUT: lut-type.mlir:[[@LINE+1]]:8: error: expected 'tensor<4xi8>' but got 'tensor<2x2xi8>'
  %0 = "tile.lut"(%x) {table = dense<1> : tensor<256xi8>, offset = 0 : i64} : (tensor<4xi8>) -> tensor<2x2xi8>
  return %0 : tensor<2x2xi8>
}

//--- resize-mode.mlir
// A resize is nearest or bilinear.
func.func @cubic(%x: tensor<1x2x2x1xi8>) -> tensor<1x4x4x1xi8> {
  // MODE: resize-mode.mlir:[[@LINE+1]]:8: error: '"cubic"' does not satisfy the constraint
  %0 = "tile.resize"(%x) {mode = "cubic", scale = array<i64: 4, 2, 4, 2>, image_offset = array<i64: -1, -1>, input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 30>, clamp_min = -128 : i32, clamp_max = 127 : i32, offset = 0 : i64} : (tensor<1x2x2x1xi8>) -> tensor<1x4x4x1xi8>
  return %0 : tensor<1x4x4x1xi8>
}

//--- hswish.mlir
// A fused hard-swish is [three, six, then multiplier, shift, bias once or per channel]: the
// typed reader refuses a list of another length (IRDL does not declare the optional fields).
func.func @short_hswish(%arg0: tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32> {
  %x = "tile.quantize"(%arg0) {scale = 5.0e-1 : f64, zero_point = 0 : i32} : (tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xi8>
  %w = "tile.const"() {value = dense<1> : tensor<1x1x1x1xi8>} : () -> tensor<1x1x1x1xi8>
  %b = "tile.const"() {value = dense<0> : tensor<1xi32>} : () -> tensor<1xi32>
  // HSWISH: 'tile.conv2d' at loc("{{.*}}hswish.mlir":[[@LINE+1]]:{{[0-9]+}}): hswish needs [three, six, then multiplier, shift, bias once or per output channel]
  %c = "tile.conv2d"(%x, %w, %b) {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>, input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 20>, clamp_min = -128 : i32, clamp_max = 127 : i32, hswish = array<i64: 3072, 6144, 1048576, 40>, tile = array<i64: 1, 1>, offset = 0 : i64} : (tensor<1x1x1x1xi8>, tensor<1x1x1x1xi8>, tensor<1xi32>) -> tensor<1x1x1x1xi8>
  %y = "tile.dequantize"(%c) {scale = 5.0e-1 : f64, zero_point = 0 : i32} : (tensor<1x1x1x1xi8>) -> tensor<1x1x1x1xf32>
  return %y : tensor<1x1x1x1xf32>
}
