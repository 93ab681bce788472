// RUN: not %nibble opt %s 2>&1 | FileCheck %s
// qnt ops take tensors only.
// CHECK: invalid-operand.mlir:5:8: error: expected base type 'builtin.tensor' but got 'builtin.integer'
func.func @scalar(%arg0: i8) -> i8 {
  %0 = "qnt.clamp"(%arg0) {min = 0 : i64, max = 127 : i64} : (i8) -> i8
  return %0 : i8
}
