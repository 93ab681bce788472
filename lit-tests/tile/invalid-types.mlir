// RUN: split-file --leading-lines %s %t
// RUN: not %nibble opt %t/weights.mlir --pass-pipeline='builtin.module(nibble-plan-memory)' 2>&1 | FileCheck %s --check-prefix=WEIGHTS
// RUN: not %nibble opt %t/accumulator.mlir --pass-pipeline='builtin.module(nibble-tile-size)' 2>&1 | FileCheck %s --check-prefix=ACC
// RUN: not %nibble opt %t/wide-lut.mlir --pass-pipeline='builtin.module(nibble-plan-memory)' 2>&1 | FileCheck %s --check-prefix=LUT
// RUN: not %nibble opt %t/float-constant.mlir --pass-pipeline='builtin.module(nibble-plan-memory)' 2>&1 | FileCheck %s --check-prefix=CONST
// Element types the semantics fix: i8 or i16 activations, i8 weights, i32 biases, f32 only at
// the host boundary. IRDL cannot constrain the element type of a builtin tensor, so each op's
// element types are declared in dialects/tile/types.rs and checked by tile sizing, memory
// planning, the integer interpreter and codegen: a wrong one is an error naming the op, its
// location, the operand and the types it allows.

//--- weights.mlir
func.func @wide_weights(%arg0: tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32> {
  %x = "tile.quantize"(%arg0) {scale = 5.0e-1 : f64, zero_point = 0 : i32} : (tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xi8>
  %w = "tile.const"() {value = dense<1> : tensor<1x1x1x1xi32>} : () -> tensor<1x1x1x1xi32>
  %b = "tile.const"() {value = dense<0> : tensor<1xi32>} : () -> tensor<1xi32>
  // WEIGHTS: nibble-plan-memory: 'tile.conv2d' at loc("{{.*}}weights.mlir":[[@LINE+1]]:{{[0-9]+}}): operand 1 must be i8, got tensor<1x1x1x1xi32>
  %c = "tile.conv2d"(%x, %w, %b) {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>, input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 31>, clamp_min = -128 : i32, clamp_max = 127 : i32, tile = array<i64: 1, 1>, offset = 0 : i64} : (tensor<1x1x1x1xi8>, tensor<1x1x1x1xi32>, tensor<1xi32>) -> tensor<1x1x1x1xi8>
  %y = "tile.dequantize"(%c) {scale = 5.0e-1 : f64, zero_point = 0 : i32} : (tensor<1x1x1x1xi8>) -> tensor<1x1x1x1xf32>
  return %y : tensor<1x1x1x1xf32>
}

//--- accumulator.mlir
// A tile layer's requantization is fused: it writes an activation, not its i32 accumulator.
func.func @accumulator_out(%arg0: tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32> {
  %x = "tile.quantize"(%arg0) {scale = 5.0e-1 : f64, zero_point = 0 : i32} : (tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xi8>
  %w = "tile.const"() {value = dense<1> : tensor<1x1x1x1xi8>} : () -> tensor<1x1x1x1xi8>
  %b = "tile.const"() {value = dense<0> : tensor<1xi32>} : () -> tensor<1xi32>
  // ACC: nibble-tile-size: 'tile.conv2d' at loc("{{.*}}accumulator.mlir":[[@LINE+1]]:{{[0-9]+}}): the result must be i8 or i16, got tensor<1x1x1x1xi32>
  %c = "tile.conv2d"(%x, %w, %b) {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>, input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 31>, clamp_min = -128 : i32, clamp_max = 127 : i32, tile = array<i64: 1, 1>, offset = 0 : i64} : (tensor<1x1x1x1xi8>, tensor<1x1x1x1xi8>, tensor<1xi32>) -> tensor<1x1x1x1xi32>
  %r = "tile.requant"(%c) {input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 31>, clamp_min = -128 : i32, clamp_max = 127 : i32, offset = 0 : i64} : (tensor<1x1x1x1xi32>) -> tensor<1x1x1x1xi8>
  %y = "tile.dequantize"(%r) {scale = 5.0e-1 : f64, zero_point = 0 : i32} : (tensor<1x1x1x1xi8>) -> tensor<1x1x1x1xf32>
  return %y : tensor<1x1x1x1xf32>
}

//--- wide-lut.mlir
// A 256-entry table reads i8.
func.func @wide_lut(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %x = "tile.quantize"(%arg0) {scale = 5.0e-1 : f64, zero_point = 0 : i32} : (tensor<4xf32>) -> tensor<4xi16>
  // LUT: 'tile.lut' at loc("{{.*}}wide-lut.mlir":[[@LINE+1]]:{{[0-9]+}}): operand 0 must be i8, got tensor<4xi16>
  %l = "tile.lut"(%x) {table = dense<1> : tensor<256xi8>, offset = 0 : i64} : (tensor<4xi16>) -> tensor<4xi16>
  %y = "tile.dequantize"(%l) {scale = 5.0e-1 : f64, zero_point = 0 : i32} : (tensor<4xi16>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

//--- float-constant.mlir
// Floats live only at the host boundary: constants are i8 weights or i32 biases.
func.func @float_constant(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %x = "tile.quantize"(%arg0) {scale = 5.0e-1 : f64, zero_point = 0 : i32} : (tensor<4xf32>) -> tensor<4xi8>
  // CONST: 'tile.const' at loc("{{.*}}float-constant.mlir":[[@LINE+1]]:{{[0-9]+}}): the result must be i8 or i32, got tensor<4xf32>
  %c = "tile.const"() {value = dense<1.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %y = "tile.dequantize"(%x) {scale = 5.0e-1 : f64, zero_point = 0 : i32} : (tensor<4xi8>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
