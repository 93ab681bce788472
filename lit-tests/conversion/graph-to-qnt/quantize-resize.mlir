// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize)' | FileCheck %s --check-prefix=QNT
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize,nibble-lower-tile)' | FileCheck %s --check-prefix=TILE

// Resize on stored integers. Bilinear 2× (scale [4, 2, 4, 2], weights in quarters): the sum of
// four taps is at s_in/16, requantized to the output's scale (both 1/127): 1/16 = 2^30 · 2^-34.
// Nearest keeps the input's quantization and copies.
// QNT: "qnt.resize"(%{{.*}}) {image_offset = array<i64: -1, -1>, mode = "bilinear", multiplier = 1073741824 : i32, scale = array<i64: 4, 2, 4, 2>, shift = 34 : i32}
// QNT: "qnt.resize"(%{{.*}}) {image_offset = array<i64: 0, 0>, mode = "nearest", {{.*}}} : (tensor<1x2x2x1x!quant.uniform<i8:f32, 0.0078740157{{[0-9]*}}>>) -> tensor<1x4x4x1x!quant.uniform<i8:f32, 0.0078740157{{[0-9]*}}>>
// TILE: "tile.resize"(%{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, image_offset = array<i64: -1, -1>, input_zp = 0 : i32, mode = "bilinear", multiplier = array<i32: 1073741824>
func.func @main(%x: tensor<1x2x2x1xf32>) -> (tensor<1x4x4x1xf32>, tensor<1x4x4x1xf32>) attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %scale = tosa.const_shape {values = dense<[4, 2, 4, 2]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %off = tosa.const_shape {values = dense<[-1, -1]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %zero = tosa.const_shape {values = dense<[0, 0]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %border = tosa.const_shape {values = dense<[1, 1]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %two = tosa.const_shape {values = dense<[2, 2]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %b = tosa.resize %x, %scale, %off, %border {mode = BILINEAR, nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x1xf32>, !tosa.shape<4>, !tosa.shape<2>, !tosa.shape<2>) -> tensor<1x4x4x1xf32>
  %n = tosa.resize %x, %scale, %zero, %two {mode = NEAREST_NEIGHBOR, nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x1xf32>, !tosa.shape<4>, !tosa.shape<2>, !tosa.shape<2>) -> tensor<1x4x4x1xf32>
  return %b, %n : tensor<1x4x4x1xf32>, tensor<1x4x4x1xf32>
}
