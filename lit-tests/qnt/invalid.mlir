// RUN: not %nibble opt %s 2>&1 | FileCheck %s
// The IRDL definition rejects a requant without its multiplier, naming the file and line.
// CHECK: invalid.mlir:7:8: error: 'qnt.requant' op attribute "multiplier" is expected but not provided
!a = tensor<4x!quant.uniform<i8:f32, 2.0e-2>>
func.func @missing_multiplier(%arg0: !a) -> !a {
  // The op below is line 7.
  %0 = "qnt.requant"(%arg0) {shift = 30 : i32, rounding_mode = "SINGLE_ROUND"} : (!a) -> !a
  return %0 : !a
}
