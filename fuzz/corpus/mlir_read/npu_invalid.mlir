// RUN: not %nibble opt %s 2>&1 | FileCheck %s

// The npu ops verify against their IRDL definition: a DMA needs its dependency (`after`).
// CHECK: error: 'npu.dma_load' op attribute "after" is expected but not provided
func.func @no_after(%x: tensor<1x4xi8>) -> tensor<1x4xi8> {
  %0 = "npu.dma_load"(%x) {id = 0 : i64, start = array<i64: 0, 0>, sram_offset = 0 : i64} : (tensor<1x4xi8>) -> tensor<1x4xi8>
  return %0 : tensor<1x4xi8>
}
