// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-choose-widths{avg-weight-bits=6 wide=false})' | FileCheck %s --check-prefix=SIX
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-choose-widths{avg-weight-bits=4 wide=false})' | FileCheck %s --check-prefix=FOUR
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-choose-widths{avg-weight-bits=2 wide=false})' | FileCheck %s --check-prefix=TWO
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-choose-widths{avg-weight-bits=5 widths=8,4 wide=false})' | FileCheck %s --check-prefix=LIMITED
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-choose-widths{avg-weight-bits=0.5 wide=false})' 2>&1 | FileCheck %s --check-prefix=INFEASIBLE
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-choose-widths{avg-weight-bits=4 max-weight-bytes=10})' 2>&1 | FileCheck %s --check-prefix=BOTH

// Two layers of 64 weights each. %a is sensitive (4 bits add 1e-2 of output noise), %b is not
// (4 bits add 1e-5). The extraction minimises the summed noise within the weight budget.
// 6 average bits: 8 + 4 — the budget buys %a its 8 bits, %b goes to 4.
// SIX: %[[A:.*]] = tosa.conv2d %arg0, {{.*}}nibble.weight_bits = "8"
// SIX: tosa.conv2d %[[A]], {{.*}}nibble.weight_bits = "4"
// 4 average bits: 8 + 1 (binary, 4.5) does not fit; 4 + 4 is the only choice with %a above 2.
// FOUR: %[[A:.*]] = tosa.conv2d %arg0, {{.*}}nibble.weight_bits = "4"
// FOUR: tosa.conv2d %[[A]], {{.*}}nibble.weight_bits = "4"
// 2 average bits: %a on the ternary grid (5e-2 < 1e-1 of 2-bit), %b on a 2-bit grid.
// TWO: %[[A:.*]] = tosa.conv2d %arg0, {{.*}}nibble.weight_bits = "ternary"
// TWO: tosa.conv2d %[[A]], {{.*}}nibble.weight_bits = "{{2|ternary}}"
// Only 8 and 4 allowed, 5 average bits: 4 + 4 (8 + 4 is 6).
// LIMITED: %[[A:.*]] = tosa.conv2d %arg0, {{.*}}nibble.weight_bits = "4"
// LIMITED: tosa.conv2d %[[A]], {{.*}}nibble.weight_bits = "4"
// INFEASIBLE: no choice of widths fits the weight budget: the smallest reachable is 16 bytes (1.00 average bits over 128 weights)
// BOTH: give avg-weight-bits or max-weight-bytes, not both
func.func @main(%x: tensor<1x1x1x8xf32>) -> tensor<1x1x1x8xf32> attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %w = "tosa.const"() {values = dense<0.5> : tensor<8x1x1x8xf32>} : () -> tensor<8x1x1x8xf32>
  %bias = "tosa.const"() {values = dense<0.0> : tensor<8xf32>} : () -> tensor<8xf32>
  %a = tosa.conv2d %x, %w, %bias, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -4.0 : f64, nibble.max = 4.0 : f64, nibble.rms = 1.0 : f64, nibble.weight_noise = dense<[1.0e-06, 1.0e-02, 1.0e-01, 5.0e-02, 3.0e-01]> : tensor<5xf32>} : (tensor<1x1x1x8xf32>, tensor<8x1x1x8xf32>, tensor<8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x8xf32>
  %w2 = "tosa.const"() {values = dense<0.25> : tensor<8x1x1x8xf32>} : () -> tensor<8x1x1x8xf32>
  %b = tosa.conv2d %a, %w2, %bias, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -8.0 : f64, nibble.max = 8.0 : f64, nibble.rms = 1.0 : f64, nibble.weight_noise = dense<[1.0e-06, 1.0e-05, 1.0e-03, 1.0e-03, 1.0e-02]> : tensor<5xf32>} : (tensor<1x1x1x8xf32>, tensor<8x1x1x8xf32>, tensor<8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x8xf32>
  return %b : tensor<1x1x1x8xf32>
}
