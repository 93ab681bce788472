// RUN: %nibble opt %s --split-input-file --verify-diagnostics
// RUN: %nibble opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(nibble-dce)' | FileCheck %s

// `--verify-diagnostics` checks the diagnostics against the `expected-*` annotations (MLIR's
// syntax) and succeeds when they agree: here on the line itself, a line below (`@+N`), the
// next line without an annotation (`@below`), with a regular expression (`-re`), and a note
// at the other definition. A part without diagnostics is processed as usual.
// CHECK: // -----
// CHECK: // -----
// CHECK: // -----
// CHECK-NEXT: module {
// CHECK-NEXT: func.func @fine
!a = tensor<4x!quant.uniform<i8:f32, 2.0e-2>>
func.func @missing_multiplier(%arg0: !a) -> !a {
  %0 = "qnt.requant"(%arg0) {shift = 30 : i32, rounding_mode = "SINGLE_ROUND"} : (!a) -> !a // expected-error {{'qnt.requant' op attribute "multiplier" is expected but not provided}}
  return %0 : !a
}

// -----

func.func @scalar(%arg0: i8) -> i8 {
  // expected-error-re @+1 {{expected base type '{{builtin\.[a-z]+}}' but got 'builtin.integer'}}
  %0 = "qnt.clamp"(%arg0) {min = 0 : i64, max = 127 : i64} : (i8) -> i8
  return %0 : i8
}

// -----

// expected-note @below {{see existing symbol definition here}}
func.func @twice() {
  return
}
// expected-error @below {{redefinition of symbol named 'twice'}}
func.func @twice() {
  return
}

// -----

func.func @fine(%arg0: tensor<2xf32>) -> tensor<2xf32> {
  return %arg0 : tensor<2xf32>
}
