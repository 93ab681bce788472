// RUN: split-file --leading-lines %s %t
// RUN: not %nibble opt %t/missing-attribute.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not %nibble opt %t/scalar-operand.mlir 2>&1 | FileCheck %s --check-prefix=SCALAR
// RUN: not %nibble opt %t/clamp-type.mlir 2>&1 | FileCheck %s --check-prefix=CLAMP
// RUN: not %nibble opt %t/rounding-mode.mlir 2>&1 | FileCheck %s --check-prefix=ROUNDING
// RUN: not %nibble opt %t/resize-mode.mlir 2>&1 | FileCheck %s --check-prefix=MODE
// What the IRDL definition (qnt.irdl.mlir) rejects when a module is parsed, each case a part of
// this file (split-file keeps its line numbers) with the error expected at the line below its
// check. (Element types, which IRDL cannot constrain, are invalid-types.mlir.)

//--- missing-attribute.mlir
!a = tensor<4x!quant.uniform<i8:f32, 2.0e-2>>
func.func @missing_multiplier(%arg0: !a) -> !a {
  // MISSING: missing-attribute.mlir:[[@LINE+1]]:8: error: 'qnt.requant' op attribute "multiplier" is expected but not provided
  %0 = "qnt.requant"(%arg0) {shift = 30 : i32, rounding_mode = "SINGLE_ROUND"} : (!a) -> !a
  return %0 : !a
}

//--- scalar-operand.mlir
// qnt ops take tensors only.
func.func @scalar(%arg0: i8) -> i8 {
  // SCALAR: scalar-operand.mlir:[[@LINE+1]]:8: error: expected base type 'builtin.tensor' but got 'builtin.integer'
  %0 = "qnt.clamp"(%arg0) {min = 0 : i64, max = 127 : i64} : (i8) -> i8
  return %0 : i8
}

//--- clamp-type.mlir
// A clamp keeps its operand's type: one constraint variable for both.
!a = tensor<4x!quant.uniform<i8:f32, 2.0e-2>>
!b = tensor<4x!quant.uniform<i8:f32, 4.0e-2>>
func.func @clamp_rescales(%arg0: !a) -> !b {
  // CLAMP: clamp-type.mlir:[[@LINE+1]]:8: error: expected 'tensor<4x!quant.uniform<i8:f32, 2.000000e-02>>' but got 'tensor<4x!quant.uniform<i8:f32, 4.000000e-02>>'
  %0 = "qnt.clamp"(%arg0) {min = 0 : i64, max = 127 : i64} : (!a) -> !b
  return %0 : !b
}

//--- rounding-mode.mlir
// SINGLE_ROUND is the only rounding mode.
!a = tensor<4x!quant.uniform<i8:f32, 2.0e-2>>
func.func @double_round(%arg0: !a) -> !a {
  // ROUNDING: rounding-mode.mlir:[[@LINE+1]]:8: error: expected '"SINGLE_ROUND"' but got '"DOUBLE_ROUND"'
  %0 = "qnt.requant"(%arg0) {multiplier = 1073741824 : i32, shift = 30 : i32, rounding_mode = "DOUBLE_ROUND"} : (!a) -> !a
  return %0 : !a
}

//--- resize-mode.mlir
// A resize is nearest or bilinear.
!a = tensor<1x2x2x1x!quant.uniform<i8:f32, 2.0e-2>>
!b = tensor<1x4x4x1x!quant.uniform<i8:f32, 2.0e-2>>
func.func @cubic(%arg0: !a) -> !b {
  // MODE: resize-mode.mlir:[[@LINE+1]]:8: error: '"cubic"' does not satisfy the constraint
  %0 = "qnt.resize"(%arg0) {mode = "cubic", scale = array<i64: 4, 2, 4, 2>, image_offset = array<i64: -1, -1>, multiplier = 1073741824 : i32, shift = 30 : i32} : (!a) -> !b
  return %0 : !b
}
