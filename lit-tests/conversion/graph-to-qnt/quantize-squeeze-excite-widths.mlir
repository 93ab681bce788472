// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize)' | FileCheck %s --check-prefix=QNT
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize,nibble-lower-tile)' | FileCheck %s --check-prefix=TILE

// A squeeze-excite on the 4-bit grid (`nibble.weight_bits = "4"`): both matrices on [-7, 7] at
// their least-error scales — w1 = 0.5 → 7 at 0.5/7, w2 = α·1 = 0.2 → 7 at 0.2/7 — typed i4, and
// the grid named on the qnt and tile ops (`weight_bits`). The fixed point follows the scales as
// at 8 bits (quantize-layers.mlir):
// - b1 = 0.1 at (1/127)/128 · 0.5/7 → 0.1 · 127 · 128 · 14 = 22758;
// - |h| ≤ 4 · 7 · 0.5/7 · 128/127 + 0.1 = 2.1157; the second sum (2·7 · 2.1157 + 0.5/(0.2/7))
//   / 2^30 is small now, so the 2^24 levels of h decide: 2.1157 / 2^24 → 2^-22 (2^-20 at 8 bits),
//   hidden_max = ceil(2.1157 · 2^22) = 8874091;
// - b2 = 0.5 at 2^-22 · 0.2/7 → 73400319 (0.2 as f32).
// QNT-LABEL: func.func @squeeze_excite_4bit
// QNT: %[[W1:.*]] = "qnt.const"() {value = dense<7> : tensor<2x4xi8>} : () -> tensor<2x4x!quant.uniform<i4:
// QNT: %[[B1:.*]] = "qnt.const"() {value = dense<22758> : tensor<2xi32>}
// QNT: %[[W2:.*]] = "qnt.const"() {value = dense<7> : tensor<4x2xi8>} : () -> tensor<4x2x!quant.uniform<i4:
// QNT: %[[B2:.*]] = "qnt.const"() {value = dense<73400319> : tensor<4xi32>}
// QNT: "qnt.squeeze_excite"(%{{.*}}, %[[W1]], %[[B1]], %[[W2]], %[[B2]]) {{.*}}hidden_max = 8874091 : i32{{.*}}weight_bits = "4"
// TILE-LABEL: func.func @squeeze_excite_4bit
// TILE: "tile.squeeze_excite"({{.*}}weight_bits = "4"{{.*}} : (tensor<1x2x2x4xi8>, tensor<2x4xi8>, tensor<2xi32>, tensor<4x2xi8>, tensor<4xi32>) -> tensor<1x2x2x4xi8>
func.func @squeeze_excite_4bit(%x: tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %w1 = "tosa.const"() {values = dense<0.5> : tensor<2x1x1x4xf32>} : () -> tensor<2x1x1x4xf32>
  %b1 = "tosa.const"() {values = dense<0.1> : tensor<2xf32>} : () -> tensor<2xf32>
  %w2 = "tosa.const"() {values = dense<1.0> : tensor<4x1x1x2xf32>} : () -> tensor<4x1x1x2xf32>
  %b2 = "tosa.const"() {values = dense<0.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %y = tosa.custom %x, %w1, %b1, %w2, %b2 {domain_name = "nibble", implementation_attrs = "hidden_max=3.4028234663852886e38,alpha=2e-1,beta=5e-1,sigmoid=0", operator_name = "squeeze_excite", nibble.min = -1.0 : f64, nibble.max = 1.0 : f64, nibble.weight_bits = "4"} : (tensor<1x2x2x4xf32>, tensor<2x1x1x4xf32>, tensor<2xf32>, tensor<4x1x1x2xf32>, tensor<4xf32>) -> tensor<1x2x2x4xf32>
  return %y : tensor<1x2x2x4xf32>
}
