// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-no-such-pass)' 2>&1 | FileCheck %s
// CHECK: error: unknown pass 'nibble-no-such-pass': not a nibble pass (nibble-fold-constants, nibble-fold-batchnorm, nibble-recognize-layers, nibble-fuse-activations, nibble-dce, nibble-absorb-bias, nibble-equalize, nibble-choose-bits, nibble-choose-widths, nibble-quantize, nibble-fold-requant, nibble-lower-tile, nibble-check-accumulators, nibble-tile-size, nibble-schedule, nibble-plan-memory, nibble-lower-npu) nor a registered MLIR pass
func.func @f() {
  return
}
