// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-choose-bits)' | FileCheck %s
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-choose-bits{max-sqnr=10})' | FileCheck %s --check-prefix=STRICT
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-choose-bits{budget=0})' | FileCheck %s --check-prefix=STRICT
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-choose-bits{budget=-1})' 2>&1 | FileCheck %s --check-prefix=BAD

// The 8-bit SQNR of each tensor from its range and RMS (symmetric: step = max|x|/127):
// %a: ±1, RMS 0.5 → 10·log10(0.25 / ((1/127)²/12)) = 46.8 dB: 8 bits are enough.
// %b: ±40, RMS 0.5 → 10·log10(0.25 / ((40/127)²/12)) = 14.8 dB < 30: 16 bits, read by a conv.
// %c: ±40, RMS 0.5, but read by a sigmoid (a 256-entry table): stays 8-bit.
// %d: ±40, RMS 0.5, a model output (the host boundary is 8-bit): stays 8-bit.
// CHECK: %[[A:.*]] = tosa.conv2d %arg0, {{.*}}nibble.max = 1.0
// CHECK-NOT: nibble.bits
// CHECK: %[[B:.*]] = tosa.conv2d %[[A]], {{.*}}nibble.bits = 16 : i64, nibble.max = 4.0{{.*}}e+01
// CHECK-NOT: nibble.bits
// CHECK: return
// With max-sqnr 10 dB no tensor qualifies; with a budget of 0 extra bytes none fits.
// STRICT-NOT: nibble.bits
// BAD: budget must be a non-negative number, got '-1'
func.func @main(%x: tensor<1x1x1x1xf32>) -> (tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>) attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %w = "tosa.const"() {values = dense<0.5> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %bias = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %a = tosa.conv2d %x, %w, %bias, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -1.0 : f64, nibble.max = 1.0 : f64, nibble.rms = 0.5 : f64} : (tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x1xf32>
  %b = tosa.conv2d %a, %w, %bias, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -40.0 : f64, nibble.max = 40.0 : f64, nibble.rms = 0.5 : f64} : (tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x1xf32>
  %c = tosa.conv2d %b, %w, %bias, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -40.0 : f64, nibble.max = 40.0 : f64, nibble.rms = 0.5 : f64} : (tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x1xf32>
  %s = tosa.sigmoid %c {nibble.min = 0.0 : f64, nibble.max = 1.0 : f64, nibble.rms = 0.5 : f64} : (tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32>
  %d = tosa.conv2d %a, %w, %bias, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -40.0 : f64, nibble.max = 40.0 : f64, nibble.rms = 0.5 : f64} : (tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x1xf32>
  return %s, %d : tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>
}
