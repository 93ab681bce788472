// RUN: %nibble opt %s | FileCheck %s
// RUN: %nibble opt %s | %nibble opt | FileCheck %s

// Every op of the npu dialect parses, verifies against dialects/npu/npu.irdl.mlir (loaded from
// the registry the npu back end registers) and prints back.
// CHECK-LABEL: func.func @every_op
// CHECK: "npu.dma_load"(%arg0) {after = -1 : i64, id = 0 : i64, sram_offset = 0 : i64, start = array<i64: 0, 0, 0, 0>} : (tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
// CHECK: "npu.dma_load"(%arg1) {after = -1 : i64, id = 1 : i64, sram_offset = 128 : i64, start = array<i64: 0, 0, 0, 0>}
// CHECK: "npu.dma_wait"() {id = 2 : i64} : () -> ()
// CHECK: "npu.conv2d"({{.*}}) {{{.*}}dataflow = "ws"{{.*}}id = 3 : i64{{.*}}sram_offset = 512 : i64
// CHECK: "npu.fully_connected"({{.*}}) {{{.*}}dataflow = "os"{{.*}}id = 4 : i64
// CHECK: "npu.depthwise_conv2d"({{.*}}) {{{.*}}id = 5 : i64
// CHECK: "npu.max_pool2d"({{.*}}) {id = 6 : i64, kernel = array<i64: 2, 2>
// CHECK: "npu.avg_pool2d"({{.*}}) {{{.*}}id = 7 : i64
// CHECK: "npu.requant"({{.*}}) {{{.*}}id = 8 : i64
// CHECK: "npu.clamp"({{.*}}) {id = 9 : i64, max = 6 : i64, min = 0 : i64
// CHECK: "npu.lut"({{.*}}) {id = 10 : i64
// CHECK: "npu.add"({{.*}}) {{{.*}}id = 11 : i64
// CHECK: "npu.mul"({{.*}}) {{{.*}}id = 12 : i64
// CHECK: "npu.dma_store"({{.*}}) {after = 12 : i64, id = 13 : i64, offset = 0 : i64, start = array<i64: 0, 0, 0, 0>}
func.func @every_op(%x: tensor<1x4x4x8xi8>, %w: tensor<8x3x3x8xi8>, %b: tensor<8xi32>, %fw: tensor<8x128xi8>, %dw: tensor<3x3x8x1xi8>, %y: tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8> {
  %0 = "npu.dma_load"(%x) {id = 0 : i64, after = -1 : i64, start = array<i64: 0, 0, 0, 0>, sram_offset = 0 : i64} : (tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  %1 = "npu.dma_load"(%w) {id = 1 : i64, after = -1 : i64, start = array<i64: 0, 0, 0, 0>, sram_offset = 128 : i64} : (tensor<8x3x3x8xi8>) -> tensor<8x3x3x8xi8>
  %2 = "npu.dma_load"(%b) {id = 2 : i64, after = -1 : i64, start = array<i64: 0>, sram_offset = 704 : i64} : (tensor<8xi32>) -> tensor<8xi32>
  "npu.dma_wait"() {id = 2 : i64} : () -> ()
  %3 = "npu.conv2d"(%0, %1, %2) {id = 3 : i64, sram_offset = 512 : i64, dataflow = "ws", pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>, input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 36>, clamp_min = -128 : i32, clamp_max = 127 : i32} : (tensor<1x4x4x8xi8>, tensor<8x3x3x8xi8>, tensor<8xi32>) -> tensor<1x4x4x8xi8>
  %4 = "npu.fully_connected"(%3, %fw, %2) {id = 4 : i64, sram_offset = 768 : i64, dataflow = "os", input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 36>, clamp_min = -128 : i32, clamp_max = 127 : i32} : (tensor<1x4x4x8xi8>, tensor<8x128xi8>, tensor<8xi32>) -> tensor<1x8xi8>
  %5 = "npu.depthwise_conv2d"(%3, %dw, %2) {id = 5 : i64, sram_offset = 784 : i64, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>, input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 34>, clamp_min = -128 : i32, clamp_max = 127 : i32} : (tensor<1x4x4x8xi8>, tensor<3x3x8x1xi8>, tensor<8xi32>) -> tensor<1x4x4x8xi8>
  %6 = "npu.max_pool2d"(%5) {id = 6 : i64, sram_offset = 912 : i64, kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x4x4x8xi8>) -> tensor<1x2x2x8xi8>
  %7 = "npu.avg_pool2d"(%5) {id = 7 : i64, sram_offset = 944 : i64, kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 32>, clamp_min = -128 : i32, clamp_max = 127 : i32} : (tensor<1x4x4x8xi8>) -> tensor<1x2x2x8xi8>
  %8 = "npu.requant"(%5) {id = 8 : i64, sram_offset = 976 : i64, input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 31>, clamp_min = -128 : i32, clamp_max = 127 : i32} : (tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  %9 = "npu.clamp"(%8) {id = 9 : i64, sram_offset = 1104 : i64, min = 0 : i64, max = 6 : i64} : (tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  %10 = "npu.lut"(%9) {id = 10 : i64, sram_offset = 1232 : i64, table = dense<1> : tensor<256xi8>} : (tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  %11 = "npu.add"(%10, %9) {id = 11 : i64, sram_offset = 1360 : i64, input_zp = array<i32: 0, 0>, output_zp = 0 : i32, multiplier = array<i32: 1073741824, 1073741824>, shift = 31 : i32, clamp_min = -128 : i32, clamp_max = 127 : i32} : (tensor<1x4x4x8xi8>, tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  %12 = "npu.mul"(%11, %9) {id = 12 : i64, sram_offset = 1488 : i64, input_zp = array<i32: 0, 0>, output_zp = 0 : i32, multiplier = 1073741824 : i32, shift = 31 : i32, clamp_min = -128 : i32, clamp_max = 127 : i32} : (tensor<1x4x4x8xi8>, tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  %13 = "npu.dma_store"(%12, %y) {id = 13 : i64, after = 12 : i64, start = array<i64: 0, 0, 0, 0>, offset = 0 : i64} : (tensor<1x4x4x8xi8>, tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  return %13 : tensor<1x4x4x8xi8>
}
