// RUN: not %nibble opt %s --split-input-file --verify-diagnostics 2>&1 | FileCheck %s

// `--verify-diagnostics` fails on a mismatch either way, naming the line: a diagnostic no
// annotation expects, an annotation no diagnostic fulfils, the right text with the wrong
// severity, a nibble pass's failure (on the module, hence `@unknown`) expected on a line.

func.func @unexpected(%arg0: i8) -> i8 {
  // CHECK-DAG: verify-diagnostics-mismatch.mlir:[[# @LINE + 1]]:8: error: unexpected error: expected base type 'builtin.tensor' but got 'builtin.integer'
  %0 = "qnt.clamp"(%arg0) {min = 0 : i64, max = 127 : i64} : (i8) -> i8
  return %0 : i8
}

// -----

func.func @not_produced(%arg0: tensor<4xi8>) -> tensor<4xi8> {
  // CHECK-DAG: verify-diagnostics-mismatch.mlir:[[# @LINE + 1]]:6: error: expected error "no such error" was not produced
  // expected-error @+1 {{no such error}}
  return %arg0 : tensor<4xi8>
}

// -----

func.func @severity(%arg0: i8) -> i8 {
  // CHECK-DAG: verify-diagnostics-mismatch.mlir:[[# @LINE + 1]]:6: error: 'error' diagnostic emitted when expecting a 'warning'
  // expected-warning @+1 {{expected base type 'builtin.tensor'}}
  %0 = "qnt.clamp"(%arg0) {min = 0 : i64, max = 127 : i64} : (i8) -> i8
  return %0 : i8
}
