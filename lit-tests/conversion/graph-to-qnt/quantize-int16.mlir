// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize{scheme=asymmetric})' | FileCheck %s
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize{scheme=asymmetric},nibble-fold-requant,nibble-lower-tile)' | FileCheck %s --check-prefix=TILE

// `nibble.bits = 16` on %b: its result is 16-bit and symmetric in every scheme (zero point 0,
// scale 40/32767 = 0.0012207403790398877); the conv reading it takes the i16 tensor, and at the
// tile level both are int16 storage. The other activations stay asymmetric int8.
// CHECK: "qnt.conv2d"(%{{.*}}) {{.*}} -> tensor<1x1x1x1x!quant.uniform<i32:f32
// CHECK: "qnt.requant"({{.*}}) -> tensor<1x1x1x1x!quant.uniform<i8:f32, 0.0078431372549019607:-1>>
// CHECK: "qnt.requant"({{.*}}) -> tensor<1x1x1x1x!quant.uniform<i16:f32, 0.0012207403790398877>>
// CHECK: "qnt.conv2d"({{.*}}) {{.*}} : (tensor<1x1x1x1x!quant.uniform<i16:f32, 0.0012207403790398877>>
// TILE: "tile.conv2d"({{.*}}) {{.*}}clamp_max = 32767 : i32, clamp_min = -32768 : i32{{.*}} -> tensor<1x1x1x1xi16>
// TILE: "tile.conv2d"({{.*}}) {{.*}}input_zp = 0 : i32{{.*}} : (tensor<1x1x1x1xi16>, {{.*}}) -> tensor<1x1x1x1xi8>
func.func @main(%x: tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %w = "tosa.const"() {values = dense<0.5> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %bias = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %a = tosa.conv2d %x, %w, %bias, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x1xf32>
  %b = tosa.conv2d %a, %w, %bias, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.bits = 16 : i64, nibble.min = -40.0 : f64, nibble.max = 40.0 : f64} : (tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x1xf32>
  %c = tosa.conv2d %b, %w, %bias, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -40.0 : f64, nibble.max = 40.0 : f64} : (tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x1xf32>
  return %c : tensor<1x1x1x1xf32>
}
