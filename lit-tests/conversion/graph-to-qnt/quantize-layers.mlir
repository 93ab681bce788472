// RUN: %nibble opt %s --split-input-file --pass-pipeline='builtin.module(nibble-quantize)' | FileCheck %s --check-prefix=QNT
// RUN: %nibble opt %s --split-input-file --pass-pipeline='builtin.module(nibble-quantize,nibble-lower-tile)' | FileCheck %s --check-prefix=TILE

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
// QNT-LABEL: func.func @layers
// QNT: "qnt.avg_pool2d"(%{{.*}}) {kernel = array<i64: 2, 2>, multiplier = array<i32: 1073741824>, pad = array<i64: 0, 0, 0, 0>, shift = array<i32: 32>, stride = array<i64: 1, 1>}
// QNT: "qnt.add"(%{{.*}}, %{{.*}}) {multiplier = array<i32: 1073741824, 1073741824>, shift = 31 : i32}
// QNT: "qnt.mul"(%{{.*}}, %{{.*}}) {multiplier = 1082196484 : i32, shift = 37 : i32}
// QNT: "qnt.prelu"(%{{.*}}) {neg_multiplier = array<i32: 1073741824, 1073741824, -1073741824, 0>, neg_shift = array<i32: 32, 31, 30, 1>, pos_multiplier = array<i32: 1073741824, 1073741824, 1073741824, 1073741824>, pos_shift = array<i32: 30, 30, 30, 30>}
// QNT: "qnt.softmax"(%{{.*}}) {exp_table = dense<"0x4F020000{{[0-9A-F]+}}00800000"> : tensor<256xi32>, frac_bits = 7 : i32} : (tensor<1x2x2x4x!quant.uniform<i8:f32, 0.015748031{{[0-9]*}}>>) -> tensor<1x2x2x4x!quant.uniform<i8:f32, 7.812500e-03>>
// TILE-LABEL: func.func @layers
// TILE: "tile.avg_pool2d"(%{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = 0 : i32, kernel = array<i64: 2, 2>, multiplier = array<i32: 1073741824>
// TILE: "tile.add"(%{{.*}}, %{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = array<i32: 0, 0>, multiplier = array<i32: 1073741824, 1073741824>
// TILE: "tile.mul"
// TILE: "tile.requant"(%{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = 0 : i32, multiplier = array<i32: 1073741824, 1073741824, 1073741824, 1073741824>, neg_multiplier = array<i32: 1073741824, 1073741824, -1073741824, 0>, neg_shift = array<i32: 32, 31, 30, 1>
// TILE: "tile.softmax"(%{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, exp_table = dense<"0x4F020000
func.func @layers(%x: tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
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

// -----

// The transformer ops of a recogniser's neck, symmetric int8 (x in [-1, 1] → 1/127; LayerNorm,
// q, k in [-4, 4] → 4/127; q·kᵀ and the concat in [-8, 8] → 8/127):
// - layer_norm over N = 8: multiplier m·2^-s = γ·√N / (s_out·2^30) = γ · 8.36e-8, at most 46
//   fractional bits: γ = 1 → round(8.3637e-8 · 2^46) = 5885301, γ = 2 → 11770602, γ = -1 →
//   -5885300 (half up), γ = ½ → 2942651; bias = β/s_out · 2^46: ½ → 1117103813820416;
//   eps_term = N³ ε / s_in² = 512 · 1e-5 · 127² = 82.6 → 83;
// - slices keep the input's quantization; q·kᵀ (activation × activation) accumulates at
//   (4/127)² and requantizes by 2/127 = 1082196484 · 2^-36;
// - concat: q (4/127) is requantized to the output's 8/127 (0.5 = 2^30 · 2^-31) first.
// QNT-LABEL: func.func @attention
// QNT: "qnt.layer_norm"(%{{.*}}) {bias = array<i64: 0, 0, 0, 0, 1117103813820416, 1117103813820416, 0, -558551906910208>, eps_term = 83 : i64, multiplier = array<i32: 5885301, 5885301, 5885301, 5885301, 11770602, 11770602, -5885300, 2942651>, shift = array<i32: 46, 46, 46, 46, 46, 46, 46, 46>}
// QNT: %[[Q:.*]] = "qnt.slice"(%{{.*}}) {start = array<i64: 0, 0, 0>} : (tensor<1x4x8x!quant.uniform<i8:f32, 0.0314{{[0-9]*}}>>) -> tensor<1x4x4x!quant.uniform<i8:f32, 0.0314{{[0-9]*}}>>
// QNT: "qnt.slice"(%{{.*}}) {start = array<i64: 0, 0, 4>}
// QNT: %[[A:.*]] = "qnt.matmul"(%[[Q]], %{{.*}}) : {{.*}} -> tensor<1x4x4x!quant.uniform<i32:f32, 9.920{{[0-9]*}}E-4>>
// QNT: %[[R:.*]] = "qnt.requant"(%[[A]]) {multiplier = 1082196484 : i32, rounding_mode = "SINGLE_ROUND", shift = 36 : i32}
// QNT: %[[Q2:.*]] = "qnt.requant"(%[[Q]]) {multiplier = 1073741824 : i32, rounding_mode = "SINGLE_ROUND", shift = 31 : i32}
// QNT: "qnt.concat"(%[[R]], %[[Q2]]) {axis = 2 : i32}
// TILE-LABEL: func.func @attention
// TILE: "tile.layer_norm"(%{{.*}}) {bias = array<i64: 0, 0, 0, 0, 1117103813820416, 1117103813820416, 0, -558551906910208>, clamp_max = 127 : i32, clamp_min = -128 : i32, eps_term = 83 : i64, input_zp = 0 : i32
// TILE: "tile.slice"
// TILE: "tile.matmul"(%{{.*}}, %{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = 0 : i32, multiplier = array<i32: 1082196484>, offset = {{[0-9]+}} : i64, output_zp = 0 : i32, rhs_zp = 0 : i32, shift = array<i32: 36>}
// TILE-NOT: qnt.requant
// TILE: "tile.concat"(%{{.*}}, %{{.*}}) {axis = 2 : i32
func.func @attention(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %gamma = "tosa.const"() {values = dense<[[[1.0, 1.0, 1.0, 1.0, 2.0, 2.0, -1.0, 0.5]]]> : tensor<1x1x8xf32>} : () -> tensor<1x1x8xf32>
  %beta = "tosa.const"() {values = dense<[[[0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.0, -0.25]]]> : tensor<1x1x8xf32>} : () -> tensor<1x1x8xf32>
  %ln = tosa.custom %x, %gamma, %beta {domain_name = "nibble", implementation_attrs = "epsilon=1e-5", operator_name = "layer_norm", nibble.min = -4.0 : f64, nibble.max = 4.0 : f64} : (tensor<1x4x8xf32>, tensor<1x1x8xf32>, tensor<1x1x8xf32>) -> tensor<1x4x8xf32>
  %s0 = tosa.const_shape {values = dense<[0, 0, 0]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %s4 = tosa.const_shape {values = dense<[0, 0, 4]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %sz = tosa.const_shape {values = dense<[1, 4, 4]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %q = tosa.slice %ln, %s0, %sz {nibble.min = -4.0 : f64, nibble.max = 4.0 : f64} : (tensor<1x4x8xf32>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<1x4x4xf32>
  %k = tosa.slice %ln, %s4, %sz {nibble.min = -4.0 : f64, nibble.max = 4.0 : f64} : (tensor<1x4x8xf32>, !tosa.shape<3>, !tosa.shape<3>) -> tensor<1x4x4xf32>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>, nibble.min = -4.0 : f64, nibble.max = 4.0 : f64} : (tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  %att = tosa.matmul %q, %kt, %zp, %zp {nibble.min = -8.0 : f64, nibble.max = 8.0 : f64} : (tensor<1x4x4xf32>, tensor<1x4x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4xf32>
  %cat = tosa.concat %att, %q {axis = 2 : i32, nibble.min = -8.0 : f64, nibble.max = 8.0 : f64} : (tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x4x8xf32>
  return %cat : tensor<1x4x8xf32>
}

// -----

// Resize on stored integers. Bilinear 2× (scale [4, 2, 4, 2], weights in quarters): the sum of
// four taps is at s_in/16, requantized to the output's scale (both 1/127): 1/16 = 2^30 · 2^-34.
// Nearest keeps the input's quantization and copies.
// QNT-LABEL: func.func @resize
// QNT: "qnt.resize"(%{{.*}}) {image_offset = array<i64: -1, -1>, mode = "bilinear", multiplier = 1073741824 : i32, scale = array<i64: 4, 2, 4, 2>, shift = 34 : i32}
// QNT: "qnt.resize"(%{{.*}}) {image_offset = array<i64: 0, 0>, mode = "nearest", {{.*}}} : (tensor<1x2x2x1x!quant.uniform<i8:f32, 0.0078740157{{[0-9]*}}>>) -> tensor<1x4x4x1x!quant.uniform<i8:f32, 0.0078740157{{[0-9]*}}>>
// TILE-LABEL: func.func @resize
// TILE: "tile.resize"(%{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, image_offset = array<i64: -1, -1>, input_zp = 0 : i32, mode = "bilinear", multiplier = array<i32: 1073741824>
func.func @resize(%x: tensor<1x2x2x1xf32>) -> (tensor<1x4x4x1xf32>, tensor<1x4x4x1xf32>) attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %scale = tosa.const_shape {values = dense<[4, 2, 4, 2]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %off = tosa.const_shape {values = dense<[-1, -1]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %zero = tosa.const_shape {values = dense<[0, 0]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %border = tosa.const_shape {values = dense<[1, 1]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %two = tosa.const_shape {values = dense<[2, 2]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %b = tosa.resize %x, %scale, %off, %border {mode = BILINEAR, nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x1xf32>, !tosa.shape<4>, !tosa.shape<2>, !tosa.shape<2>) -> tensor<1x4x4x1xf32>
  %n = tosa.resize %x, %scale, %zero, %two {mode = NEAREST_NEIGHBOR, nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x1xf32>, !tosa.shape<4>, !tosa.shape<2>, !tosa.shape<2>) -> tensor<1x4x4x1xf32>
  return %b, %n : tensor<1x4x4x1xf32>, tensor<1x4x4x1xf32>
}

// -----

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
// QNT-LABEL: func.func @squeeze_excite
// QNT: %[[W1:.*]] = "qnt.const"() {value = dense<127> : tensor<2x4xi8>}
// QNT: %[[B1:.*]] = "qnt.const"() {value = dense<412902> : tensor<2xi32>}
// QNT: %[[W2:.*]] = "qnt.const"() {value = dense<127> : tensor<4x2xi8>}
// QNT: %[[B2:.*]] = "qnt.const"() {value = dense<332922875> : tensor<4xi32>}
// QNT: "qnt.squeeze_excite"(%{{.*}}, %[[W1]], %[[B1]], %[[W2]], %[[B2]]) {gate_multiplier = array<i32: 1731514400, 1731514400, 1731514400, 1731514400>, gate_shift = array<i32: 45, 45, 45, 45>, gate_table = array<i32>, hidden_max = 2218523 : i32, hidden_multiplier = array<i32: 1090717716, 1090717716>, hidden_out_shift = 0 : i32, hidden_shift = array<i32: 32, 32>, hidden_table = array<i32>, multiplier = 1073741824 : i32, pool_multiplier = 1073741824 : i32, pool_shift = 25 : i32, shift = 45 : i32}
// QNT: "qnt.squeeze_excite"(%{{.*}}) {gate_multiplier = array<i32: 1082196484, 1082196484, 1082196484, 1082196484>, gate_shift = array<i32: 45, 45, 45, 45>, gate_table = array<i32: 11, {{.*}}, 32757>
// QNT-NOT: qnt.avg_pool2d
// QNT-NOT: qnt.fully_connected
// TILE-LABEL: func.func @squeeze_excite
// TILE: "tile.squeeze_excite"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, gate_multiplier = array<i32: 1731514400, 1731514400, 1731514400, 1731514400>, gate_shift = array<i32: 45, 45, 45, 45>, gate_table = array<i32>, hidden_max = 2218523 : i32, hidden_multiplier = array<i32: 1090717716, 1090717716>, hidden_out_shift = 0 : i32, hidden_shift = array<i32: 32, 32>, hidden_table = array<i32>, input_zp = 0 : i32, multiplier = 1073741824 : i32, offset = {{[0-9]+}} : i64, output_zp = 0 : i32, pool_multiplier = 1073741824 : i32, pool_shift = 25 : i32, shift = 45 : i32} : (tensor<1x2x2x4xi8>, tensor<2x4xi8>, tensor<2xi32>, tensor<4x2xi8>, tensor<4xi32>) -> tensor<1x2x2x4xi8>
func.func @squeeze_excite(%x: tensor<1x2x2x4xf32>) -> (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %w1 = "tosa.const"() {values = dense<0.5> : tensor<2x1x1x4xf32>} : () -> tensor<2x1x1x4xf32>
  %b1 = "tosa.const"() {values = dense<0.1> : tensor<2xf32>} : () -> tensor<2xf32>
  %w2 = "tosa.const"() {values = dense<1.0> : tensor<4x1x1x2xf32>} : () -> tensor<4x1x1x2xf32>
  %b2 = "tosa.const"() {values = dense<0.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %y = tosa.custom %x, %w1, %b1, %w2, %b2 {domain_name = "nibble", implementation_attrs = "hidden_max=3.4028234663852886e38,alpha=2e-1,beta=5e-1,sigmoid=0", operator_name = "squeeze_excite", nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x4xf32>, tensor<2x1x1x4xf32>, tensor<2xf32>, tensor<4x1x1x2xf32>, tensor<4xf32>) -> tensor<1x2x2x4xf32>
  %z = tosa.custom %x, %w1, %b1, %w2, %b2 {domain_name = "nibble", implementation_attrs = "hidden_max=3.4028234663852886e38,alpha=1e0,beta=0e0,sigmoid=1", operator_name = "squeeze_excite", nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x4xf32>, tensor<2x1x1x4xf32>, tensor<2xf32>, tensor<4x1x1x2xf32>, tensor<4xf32>) -> tensor<1x2x2x4xf32>
  return %y, %z : tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>
}
