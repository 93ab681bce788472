// RUN: split-file --leading-lines %s %t
// RUN: not %nibble opt %t/weights.mlir --pass-pipeline='builtin.module(nibble-lower-tile)' 2>&1 | FileCheck %s --check-prefix=WEIGHTS
// RUN: not %nibble opt %t/bias.mlir --pass-pipeline='builtin.module(nibble-lower-tile)' 2>&1 | FileCheck %s --check-prefix=BIAS
// RUN: not %nibble opt %t/plain.mlir --pass-pipeline='builtin.module(nibble-lower-tile)' 2>&1 | FileCheck %s --check-prefix=PLAIN
// RUN: not %nibble opt %t/lut-accumulator.mlir --pass-pipeline='builtin.module(nibble-lower-tile)' 2>&1 | FileCheck %s --check-prefix=LUT
// RUN: not %nibble opt %t/requant-to-i32.mlir --pass-pipeline='builtin.module(nibble-lower-tile)' 2>&1 | FileCheck %s --check-prefix=ACC
// Element types the semantics fix: i8 or i16 activations, i8 weights, i32 biases and
// accumulators. IRDL cannot constrain the element type of a builtin tensor, so each op's
// element types are declared in dialects/qnt/types.rs and checked before the lowering to tile:
// a wrong one is an error naming the op, its location, the operand and the types it allows.

//--- weights.mlir
!x = tensor<1x4x4x2x!quant.uniform<i8:f32, 5.0e-1>>
!acc = tensor<1x4x4x2x!quant.uniform<i32:f32, 5.0e-2>>
func.func @i32_weights(%arg0: tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> {
  %x = "qnt.quantize"(%arg0) : (tensor<1x4x4x2xf32>) -> !x
  %w = "qnt.const"() {value = dense<1> : tensor<2x1x1x2xi32>} : () -> tensor<2x1x1x2x!quant.uniform<i32:f32, 1.0e-1>>
  %b = "qnt.const"() {value = dense<0> : tensor<2xi32>} : () -> tensor<2x!quant.uniform<i32:f32, 5.0e-2>>
  // WEIGHTS: nibble-lower-tile: 'qnt.conv2d' at loc("{{.*}}weights.mlir":[[@LINE+1]]:{{[0-9]+}}): operand 1 must be quantized i8 or quantized i4 or quantized i2, got tensor<2x1x1x2x!quant.uniform<i32:f32, {{.*}}>>
  %c = "qnt.conv2d"(%x, %w, %b) {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (!x, tensor<2x1x1x2x!quant.uniform<i32:f32, 1.0e-1>>, tensor<2x!quant.uniform<i32:f32, 5.0e-2>>) -> !acc
  %r = "qnt.requant"(%c) {multiplier = 1073741824 : i32, shift = 33 : i32, rounding_mode = "SINGLE_ROUND"} : (!acc) -> !x
  %y = "qnt.dequantize"(%r) : (!x) -> tensor<1x4x4x2xf32>
  return %y : tensor<1x4x4x2xf32>
}

//--- bias.mlir
!x = tensor<1x4x4x2x!quant.uniform<i8:f32, 5.0e-1>>
!acc = tensor<1x4x4x2x!quant.uniform<i32:f32, 5.0e-2>>
func.func @narrow_bias(%arg0: tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> {
  %x = "qnt.quantize"(%arg0) : (tensor<1x4x4x2xf32>) -> !x
  %w = "qnt.const"() {value = dense<1> : tensor<2x1x1x2xi8>} : () -> tensor<2x1x1x2x!quant.uniform<i8:f32, 1.0e-1>>
  %b = "qnt.const"() {value = dense<0> : tensor<2xi8>} : () -> tensor<2x!quant.uniform<i8:f32, 5.0e-2>>
  // BIAS: 'qnt.conv2d' at loc("{{.*}}bias.mlir":[[@LINE+1]]:{{[0-9]+}}): operand 2 must be quantized i32, got tensor<2x!quant.uniform<i8:f32, {{.*}}>>
  %c = "qnt.conv2d"(%x, %w, %b) {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (!x, tensor<2x1x1x2x!quant.uniform<i8:f32, 1.0e-1>>, tensor<2x!quant.uniform<i8:f32, 5.0e-2>>) -> !acc
  %r = "qnt.requant"(%c) {multiplier = 1073741824 : i32, shift = 33 : i32, rounding_mode = "SINGLE_ROUND"} : (!acc) -> !x
  %y = "qnt.dequantize"(%r) : (!x) -> tensor<1x4x4x2xf32>
  return %y : tensor<1x4x4x2xf32>
}

//--- plain.mlir
// qnt tensors carry their quantization: plain integers are the tile level's.
!x = tensor<1x4x4x2x!quant.uniform<i8:f32, 5.0e-1>>
!acc = tensor<1x4x4x2x!quant.uniform<i32:f32, 5.0e-2>>
func.func @plain_weights(%arg0: tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> {
  %x = "qnt.quantize"(%arg0) : (tensor<1x4x4x2xf32>) -> !x
  %w = "qnt.const"() {value = dense<1> : tensor<2x1x1x2xi8>} : () -> tensor<2x1x1x2xi8>
  // PLAIN: 'qnt.const' at loc("{{.*}}plain.mlir":[[@LINE-1]]:{{[0-9]+}}): the result must be quantized i8 or quantized i4 or quantized i2 or quantized i32, got tensor<2x1x1x2xi8>
  %b = "qnt.const"() {value = dense<0> : tensor<2xi32>} : () -> tensor<2x!quant.uniform<i32:f32, 5.0e-2>>
  %c = "qnt.conv2d"(%x, %w, %b) {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (!x, tensor<2x1x1x2xi8>, tensor<2x!quant.uniform<i32:f32, 5.0e-2>>) -> !acc
  %r = "qnt.requant"(%c) {multiplier = 1073741824 : i32, shift = 33 : i32, rounding_mode = "SINGLE_ROUND"} : (!acc) -> !x
  %y = "qnt.dequantize"(%r) : (!x) -> tensor<1x4x4x2xf32>
  return %y : tensor<1x4x4x2xf32>
}

//--- lut-accumulator.mlir
// A lookup table reads i8, not a 32-bit accumulator.
!x = tensor<1x4x4x2x!quant.uniform<i8:f32, 5.0e-1>>
!acc = tensor<1x4x4x2x!quant.uniform<i32:f32, 5.0e-2>>
func.func @lut_of_accumulator(%arg0: tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> {
  %x = "qnt.quantize"(%arg0) : (tensor<1x4x4x2xf32>) -> !x
  %w = "qnt.const"() {value = dense<1> : tensor<2x1x1x2xi8>} : () -> tensor<2x1x1x2x!quant.uniform<i8:f32, 1.0e-1>>
  %b = "qnt.const"() {value = dense<0> : tensor<2xi32>} : () -> tensor<2x!quant.uniform<i32:f32, 5.0e-2>>
  %c = "qnt.conv2d"(%x, %w, %b) {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (!x, tensor<2x1x1x2x!quant.uniform<i8:f32, 1.0e-1>>, tensor<2x!quant.uniform<i32:f32, 5.0e-2>>) -> !acc
  // LUT: 'qnt.lut' at loc("{{.*}}lut-accumulator.mlir":[[@LINE+1]]:{{[0-9]+}}): operand 0 must be quantized i8, got tensor<1x4x4x2x!quant.uniform<i32:f32, {{.*}}>>
  %l = "qnt.lut"(%c) {table = dense<1> : tensor<256xi8>, function = "sigmoid"} : (!acc) -> !x
  %y = "qnt.dequantize"(%l) : (!x) -> tensor<1x4x4x2xf32>
  return %y : tensor<1x4x4x2xf32>
}

//--- requant-to-i32.mlir
// A requantization makes an activation (i8 or i16), not another accumulator.
!x = tensor<4x!quant.uniform<i8:f32, 5.0e-1>>
!acc = tensor<4x!quant.uniform<i32:f32, 5.0e-2>>
func.func @requant_to_accumulator(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %x = "qnt.quantize"(%arg0) : (tensor<4xf32>) -> !x
  // ACC: 'qnt.requant' at loc("{{.*}}requant-to-i32.mlir":[[@LINE+1]]:{{[0-9]+}}): the result must be quantized i8 or quantized i16, got tensor<4x!quant.uniform<i32:f32, {{.*}}>>
  %r = "qnt.requant"(%x) {multiplier = 1073741824 : i32, shift = 30 : i32, rounding_mode = "SINGLE_ROUND"} : (!x) -> !acc
  %y = "qnt.dequantize"(%r) : (!acc) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
