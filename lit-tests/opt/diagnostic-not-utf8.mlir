// A diagnostic quoting bytes that are not UTF-8 (the escape \de in an op name) is an error
// message, not a panic (found by fuzz/fuzz_targets/mlir_read.rs).
// RUN: not %nibble opt %s 2>&1 | FileCheck %s
// CHECK: error:
func.func @f() {
  "tile.\de"() : () -> ()
  return
}
