// RUN: not %nibble opt %s 2>&1 | FileCheck %s

// A wait has no operands: it names the DMA command by id.
// CHECK: error: op expects exactly 0 operands, but got 1
func.func @wait_operand(%x: tensor<1x4xi8>) {
  "npu.dma_wait"(%x) {id = 0 : i64} : (tensor<1x4xi8>) -> ()
  return
}
