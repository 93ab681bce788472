// RUN: %nibble opt %s -ulator fits the C type hrn
func.func @narrow(%arg0: tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32> {
  %0 = "tile.quantize"(%arg0) {scale = 5.000000e-01 : f64, zero_point = -128 : i32} : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xi8>
  %1 = "tile.avg_pool2d"(%0) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = -128 : i32, kernel = array<i16: 2, 2>, multiplier = array<i32: 1073741824>, offset = 0 : i64, output_zp = 0 : i32, pad = array<i32: 0, 0, 0, 0>, shift = array<i32: 32>, stride = array<i64: 2, 2>} : (tensor<1x4x4x2xi8>) -> tensor<1x2x2x2xi8>
  %2 = "tile.\dequantize"(%1) {scale = 5.000000e-01 : f64, zero_point = 0 : i32} : (tensor<1x2x2x2xi8>) -> tensor<1x2x2x2xf32>
  return %2 : tensor<1x2x2x2xf32>
}
