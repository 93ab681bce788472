// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-tile-size)' | FileCheck %s --check-prefix=HOST
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-tile-size{target=host})' | FileCheck %s --check-prefix=HOST
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-tile-size{target=%S/Inputs/tiny-host.toml})' | FileCheck %s --check-prefix=TINY
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-tile-size{target=generic-npu})' | FileCheck %s --check-prefix=NPU
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-tile-size{target=%S/Inputs/test-npu-1k.toml})' 2>&1 | FileCheck %s --check-prefix=TOOBIG

// nibble-tile-size replaces the one-tile schedule nibble-lower-tile leaves with tiles that fit
// the target's SRAM, and names the target; offsets and everything else stay as they are.
// host (the default; a 1 MiB cache budget): the conv's whole output is one tile (its 3x3x64
// weights of all 128 channels fit half the budget), the fully connected layer keeps 128 of its
// 256 channels per tile (weights + input + output fit); a depthwise conv is one tile.
// HOST-LABEL: func.func @main
// HOST-SAME: nibble.target = "host"
// HOST-NOT: nibble.arena_bytes
// HOST: "tile.conv2d"{{.*}}offset = 0 : i64{{.*}}tile = array<i64: 30, 128>}
// HOST: "tile.depthwise_conv2d"{{.*}}tile = array<i64: 28, 32>}
// HOST: "tile.fully_connected"{{.*}}tile = array<i64: 128>}

// A small host budget: the channels stop at its 4 MAC rows, one output row per tile.
// TINY-LABEL: func.func @main
// TINY-SAME: nibble.target = "tiny-host"
// TINY: "tile.conv2d"{{.*}}tile = array<i64: 1, 4>}
// TINY: "tile.depthwise_conv2d"{{.*}}tile = array<i64: 28, 32>}
// TINY: "tile.fully_connected"{{.*}}tile = array<i64: 1>}

// An accelerator (generic-npu, 64 KiB): the cost model's fastest tile whose double-buffered
// working set fits, for every layer it computes — the depthwise conv and the slice too are
// tiled (rows x channels, rows).
// NPU-LABEL: func.func @main
// NPU-SAME: nibble.target = "generic-npu"
// NPU: "tile.conv2d"{{.*}}tile = array<i64: 4, 16>}
// NPU: "tile.depthwise_conv2d"{{.*}}tile = array<i64: 4, 8>}
// NPU: "tile.fully_connected"{{.*}}tile = array<i64: 4>}

// 1 KiB of SRAM: even one output row of 1 channel of the conv (3 input rows of 32x64) does not
// fit twice: an error naming the layer and the SRAM it needs.
// TOOBIG: nibble-tile-size: cannot schedule 'tile.conv2d'{{.*}}: layer 'conv2d#3' needs {{[0-9]+}} bytes of SRAM even in its smallest tile (double-buffered); target 'test-npu-1k' has 1024
func.func @main(%arg0: tensor<1x32x32x64xf32>) -> tensor<1x256xf32> {
  %0 = "tile.quantize"(%arg0) {scale = 5.0e-1 : f64, zero_point = 0 : i32} : (tensor<1x32x32x64xf32>) -> tensor<1x32x32x64xi8>
  %w = "tile.const"() {value = dense<1> : tensor<128x3x3x64xi8>} : () -> tensor<128x3x3x64xi8>
  %b = "tile.const"() {value = dense<0> : tensor<128xi32>} : () -> tensor<128xi32>
  %1 = "tile.conv2d"(%0, %w, %b) {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>, input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 40>, clamp_min = -128 : i32, clamp_max = 127 : i32, tile = array<i64: 30, 128>, offset = 0 : i64} : (tensor<1x32x32x64xi8>, tensor<128x3x3x64xi8>, tensor<128xi32>) -> tensor<1x30x30x128xi8>
  %s = "tile.slice"(%1) {start = array<i64: 0, 0, 0, 0>, offset = 0 : i64} : (tensor<1x30x30x128xi8>) -> tensor<1x30x30x32xi8>
  %dw = "tile.const"() {value = dense<1> : tensor<3x3x32x1xi8>} : () -> tensor<3x3x32x1xi8>
  %db = "tile.const"() {value = dense<0> : tensor<32xi32>} : () -> tensor<32xi32>
  %2 = "tile.depthwise_conv2d"(%s, %dw, %db) {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>, input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 34>, clamp_min = -128 : i32, clamp_max = 127 : i32, tile = array<i64: 28, 32>, offset = 0 : i64} : (tensor<1x30x30x32xi8>, tensor<3x3x32x1xi8>, tensor<32xi32>) -> tensor<1x28x28x32xi8>
  %3 = "tile.reshape"(%2) {offset = 0 : i64} : (tensor<1x28x28x32xi8>) -> tensor<1x25088xi8>
  %4 = "tile.slice"(%3) {start = array<i64: 0, 0>, offset = 0 : i64} : (tensor<1x25088xi8>) -> tensor<1x4096xi8>
  %fw = "tile.const"() {value = dense<1> : tensor<256x4096xi8>} : () -> tensor<256x4096xi8>
  %fb = "tile.const"() {value = dense<0> : tensor<256xi32>} : () -> tensor<256xi32>
  %5 = "tile.fully_connected"(%4, %fw, %fb) {input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 42>, clamp_min = -128 : i32, clamp_max = 127 : i32, tile = array<i64: 256>, offset = 0 : i64} : (tensor<1x4096xi8>, tensor<256x4096xi8>, tensor<256xi32>) -> tensor<1x256xi8>
  %6 = "tile.dequantize"(%5) {scale = 2.5e-1 : f64, zero_point = 0 : i32} : (tensor<1x256xi8>) -> tensor<1x256xf32>
  return %6 : tensor<1x256xf32>
}
