// RUN: not %nibble opt %s --split-input-file 2>%t.err | FileCheck %s
// RUN: FileCheck %s --check-prefix=ERR < %t.err
// RUN: not %nibble opt %s 2>&1 | FileCheck %s --check-prefix=WHOLE

// `--split-input-file` parses and processes each part between `// -----` lines on its own, as
// mlir-opt does: two parts may define the same alias and symbol, a part that fails prints
// nothing (its diagnostics name the line in the whole file) while the others are still printed,
// and the outputs are joined with `// -----`. Read whole, the file defines !t twice.
// CHECK-LABEL: func.func @same
// CHECK-SAME: tensor<2xf32>
// CHECK-NEXT: return
// CHECK: // -----
// CHECK-NEXT: module {
// CHECK-NEXT: func.func @same
// CHECK-SAME: tensor<4xf32>
// CHECK: // -----
// CHECK-NEXT: // -----
// CHECK-NEXT: module {
// CHECK-NEXT: func.func @last
!t = tensor<2xf32>
func.func @same(%arg0: !t) -> !t {
  return %arg0 : !t
}

// -----

// WHOLE: split-input-file.mlir:[[# @LINE + 1]]:1: error: redefinition of type alias id 't'
!t = tensor<4xf32>
func.func @same(%arg0: !t) -> !t {
  return %arg0 : !t
}

// -----

func.func @scalar(%arg0: i8) -> i8 {
  // ERR: split-input-file.mlir:[[# @LINE + 1]]:8: error: expected base type 'builtin.tensor' but got 'builtin.integer'
  %0 = "qnt.clamp"(%arg0) {min = 0 : i64, max = 127 : i64} : (i8) -> i8
  return %0 : i8
}

// -----

func.func @last() {
  return
}
