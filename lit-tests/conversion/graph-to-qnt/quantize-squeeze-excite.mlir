// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize)' | FileCheck %s --check-prefix=QNT
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize,nibble-lower-tile)' | FileCheck %s --check-prefix=TILE

// A squeeze-excite gate is one integer op; it needs only its input's and output's ranges (both
// [-1, 1]: 1/127). Over a 2×2 input (symmetric, per tensor):
// - pool: P = 128 · mean on x's grid: 128/4 = 32 = 2^30 · 2^-25;
// - w1 = 0.5 → 127 at 0.5/127; b1 = 0.1 at (1/127)/128 · 0.5/127 → 412902;
// - |h| ≤ 4 · 0.5 · 128/127 + 0.1 = 2.1157 (x's grid reaches -128/127); the hidden scale is the
//   power of two keeping the second sum below 2^30: (2·127 · 2.1157 + 0.5 / (0.2/127)) / 2^30
//   → 2^-20; hidden_max = ceil(2.1157 · 2^20) = 2218523; hidden multiplier
//   (1/127/128 · 0.5/127) / 2^-20 = 1090717716 · 2^-32;
// - the gate's α = 0.2, β = 0.5 folded: w2 = 0.2 → 127 at 0.2/127 (0.2 as f32), b2 = 0.5 at
//   2^-20 · 0.2/127 → 332922875; gate multiplier 2^-20 · 0.2/127 · 2^15 = 1731514400 · 2^-45;
// - output: (1/127) / (2^15 · 1/127) = 2^30 · 2^-45.
// A sigmoid gate (sigmoid=1, same weights, α = 1, β = 0: w2 = 1 → 127 at 1/127, the same
// hidden scale 2^-20 since b2 = 0) takes its input in units of 2^-12: 2^-20 · (1/127) · 2^12
// = 2^-8/127 = 1082196484 · 2^-45, and the interpolated sigmoid table of qnt.swish
// (round(2^15·sigmoid((k − 128)/16)): 11 … 32757).
// QNT: %[[W1:.*]] = "qnt.const"() {value = dense<127> : tensor<2x4xi8>}
// QNT: %[[B1:.*]] = "qnt.const"() {value = dense<412902> : tensor<2xi32>}
// QNT: %[[W2:.*]] = "qnt.const"() {value = dense<127> : tensor<4x2xi8>}
// QNT: %[[B2:.*]] = "qnt.const"() {value = dense<332922875> : tensor<4xi32>}
// QNT: "qnt.squeeze_excite"(%{{.*}}, %[[W1]], %[[B1]], %[[W2]], %[[B2]]) {gate_multiplier = array<i32: 1731514400, 1731514400, 1731514400, 1731514400>, gate_shift = array<i32: 45, 45, 45, 45>, gate_table = array<i32>, hidden_max = 2218523 : i32, hidden_multiplier = array<i32: 1090717716, 1090717716>, hidden_out_shift = 0 : i32, hidden_shift = array<i32: 32, 32>, hidden_table = array<i32>, multiplier = 1073741824 : i32, pool_multiplier = 1073741824 : i32, pool_shift = 25 : i32, shift = 45 : i32}
// QNT: "qnt.squeeze_excite"(%{{.*}}) {gate_multiplier = array<i32: 1082196484, 1082196484, 1082196484, 1082196484>, gate_shift = array<i32: 45, 45, 45, 45>, gate_table = array<i32: 11, {{.*}}, 32757>
// QNT-NOT: qnt.avg_pool2d
// QNT-NOT: qnt.fully_connected
// TILE: "tile.squeeze_excite"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, gate_multiplier = array<i32: 1731514400, 1731514400, 1731514400, 1731514400>, gate_shift = array<i32: 45, 45, 45, 45>, gate_table = array<i32>, hidden_max = 2218523 : i32, hidden_multiplier = array<i32: 1090717716, 1090717716>, hidden_out_shift = 0 : i32, hidden_shift = array<i32: 32, 32>, hidden_table = array<i32>, input_zp = 0 : i32, multiplier = 1073741824 : i32, offset = {{[0-9]+}} : i64, output_zp = 0 : i32, pool_multiplier = 1073741824 : i32, pool_shift = 25 : i32, shift = 45 : i32} : (tensor<1x2x2x4xi8>, tensor<2x4xi8>, tensor<2xi32>, tensor<4x2xi8>, tensor<4xi32>) -> tensor<1x2x2x4xi8>
func.func @main(%x: tensor<1x2x2x4xf32>) -> (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %w1 = "tosa.const"() {values = dense<0.5> : tensor<2x1x1x4xf32>} : () -> tensor<2x1x1x4xf32>
  %b1 = "tosa.const"() {values = dense<0.1> : tensor<2xf32>} : () -> tensor<2xf32>
  %w2 = "tosa.const"() {values = dense<1.0> : tensor<4x1x1x2xf32>} : () -> tensor<4x1x1x2xf32>
  %b2 = "tosa.const"() {values = dense<0.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %y = tosa.custom %x, %w1, %b1, %w2, %b2 {domain_name = "nibble", implementation_attrs = "hidden_max=3.4028234663852886e38,alpha=2e-1,beta=5e-1,sigmoid=0", operator_name = "squeeze_excite", nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x4xf32>, tensor<2x1x1x4xf32>, tensor<2xf32>, tensor<4x1x1x2xf32>, tensor<4xf32>) -> tensor<1x2x2x4xf32>
  %z = tosa.custom %x, %w1, %b1, %w2, %b2 {domain_name = "nibble", implementation_attrs = "hidden_max=3.4028234663852886e38,alpha=1e0,beta=0e0,sigmoid=1", operator_name = "squeeze_excite", nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x4xf32>, tensor<2x1x1x4xf32>, tensor<2xf32>, tensor<4x1x1x2xf32>, tensor<4xf32>) -> tensor<1x2x2x4xf32>
  return %y, %z : tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>
}
