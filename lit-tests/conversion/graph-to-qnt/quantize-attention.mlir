// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize)' | FileCheck %s --check-prefix=QNT
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize,nibble-lower-tile)' | FileCheck %s --check-prefix=TILE

// The transformer ops of a recogniser's neck, symmetric int8 (x in [-1, 1] → 1/127; LayerNorm,
// q, k in [-4, 4] → 4/127; q·kᵀ and the concat in [-8, 8] → 8/127):
// - layer_norm over N = 8: multiplier m·2^-s = γ·√N / (s_out·2^30) = γ · 8.36e-8, at most 46
//   fractional bits: γ = 1 → round(8.3637e-8 · 2^46) = 5885301, γ = 2 → 11770602, γ = -1 →
//   -5885300 (half up), γ = ½ → 2942651; bias = β/s_out · 2^46: ½ → 1117103813820416;
//   eps_term = N³ ε / s_in² = 512 · 1e-5 · 127² = 82.6 → 83;
// - slices keep the input's quantization; q·kᵀ (activation × activation) accumulates at
//   (4/127)² and requantizes by 2/127 = 1082196484 · 2^-36;
// - concat: q (4/127) is requantized to the output's 8/127 (0.5 = 2^30 · 2^-31) first.
// QNT: "qnt.layer_norm"(%{{.*}}) {bias = array<i64: 0, 0, 0, 0, 1117103813820416, 1117103813820416, 0, -558551906910208>, eps_term = 83 : i64, multiplier = array<i32: 5885301, 5885301, 5885301, 5885301, 11770602, 11770602, -5885300, 2942651>, shift = array<i32: 46, 46, 46, 46, 46, 46, 46, 46>}
// QNT: %[[Q:.*]] = "qnt.slice"(%{{.*}}) {start = array<i64: 0, 0, 0>} : (tensor<1x4x8x!quant.uniform<i8:f32, 0.0314{{[0-9]*}}>>) -> tensor<1x4x4x!quant.uniform<i8:f32, 0.0314{{[0-9]*}}>>
// QNT: "qnt.slice"(%{{.*}}) {start = array<i64: 0, 0, 4>}
// QNT: %[[A:.*]] = "qnt.matmul"(%[[Q]], %{{.*}}) : {{.*}} -> tensor<1x4x4x!quant.uniform<i32:f32, 9.920{{[0-9]*}}E-4>>
// QNT: %[[R:.*]] = "qnt.requant"(%[[A]]) {multiplier = 1082196484 : i32, rounding_mode = "SINGLE_ROUND", shift = 36 : i32}
// QNT: %[[Q2:.*]] = "qnt.requant"(%[[Q]]) {multiplier = 1073741824 : i32, rounding_mode = "SINGLE_ROUND", shift = 31 : i32}
// QNT: "qnt.concat"(%[[R]], %[[Q2]]) {axis = 2 : i32}
// TILE: "tile.layer_norm"(%{{.*}}) {bias = array<i64: 0, 0, 0, 0, 1117103813820416, 1117103813820416, 0, -558551906910208>, clamp_max = 127 : i32, clamp_min = -128 : i32, eps_term = 83 : i64, input_zp = 0 : i32
// TILE: "tile.slice"
// TILE: "tile.matmul"(%{{.*}}, %{{.*}}) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = 0 : i32, multiplier = array<i32: 1082196484>, offset = {{[0-9]+}} : i64, output_zp = 0 : i32, rhs_zp = 0 : i32, shift = array<i32: 36>}
// TILE-NOT: qnt.requant
// TILE: "tile.concat"(%{{.*}}, %{{.*}}) {axis = 2 : i32
func.func @main(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
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
