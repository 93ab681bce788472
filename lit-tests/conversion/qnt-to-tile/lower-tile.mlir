// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-lower-tile,nibble-tile-size,nibble-plan-memory)' | FileCheck %s
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-lower-tile)' | FileCheck %s --check-prefix=CONV
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-lower-tile{target=generic-npu})' | FileCheck %s --check-prefix=CONV

!x = tensor<1x4x4x1x!quant.uniform<i8:f32, 0.0078740157480314959>>
!w = tensor<2x1x1x1x!quant.uniform<i8:f32, 0.0078740157480314959>>
!bias = tensor<2x!quant.uniform<i32:f32, 6.2000124000248E-5>>
!acc = tensor<1x4x4x2x!quant.uniform<i32:f32, 6.2000124000248E-5>>
!y = tensor<1x4x4x2x!quant.uniform<i8:f32, 0.015748031496062992>>

// conv + requant + relu fuse into one integer tile op with a schedule and a memory plan.
// CHECK-LABEL: func.func @main
// CHECK-SAME: nibble.arena_bytes = {{[0-9]+}} : i64
// CHECK-SAME: nibble.target = "host"
// CHECK: "tile.quantize"(%arg0) {scale = 0.0078740157480314959 : f64, zero_point = 0 : i32} : (tensor<1x4x4x1xf32>) -> tensor<1x4x4x1xi8>
// CHECK: "tile.const"() {value = dense<{{.*}}> : tensor<2x1x1x1xi8>}
// CHECK: "tile.conv2d"({{.*}}) {clamp_max = 127 : i32, clamp_min = 0 : i32, dilation = array<i64: 1, 1>, input_zp = 0 : i32, multiplier = array<i32: 1082168654>, offset = {{[0-9]+}} : i64, output_zp = 0 : i32, pad = array<i64: 0, 0, 0, 0>, shift = array<i32: 38>, stride = array<i64: 1, 1>, tile = array<i64: 4, 2>} : {{.*}} -> tensor<1x4x4x2xi8>
// CHECK-NOT: qnt.

// The conversion alone leaves the schedule to nibble-tile-size and nibble-plan-memory: one tile
// (the whole output), offsets 0, no target and no arena yet.
// CONV-LABEL: func.func @main
// CONV-NOT: nibble.arena_bytes
// CONV-NOT: nibble.target
// CONV: "tile.conv2d"({{.*}}) {clamp_max = 127 : i32, clamp_min = 0 : i32, {{.*}}, offset = 0 : i64, {{.*}}, tile = array<i64: 4, 2>}
// CONV-NOT: qnt.
func.func @main(%arg0: tensor<1x4x4x1xf32>) -> tensor<1x4x4x2xf32> {
  %0 = "qnt.quantize"(%arg0) : (tensor<1x4x4x1xf32>) -> !x
  %w = "qnt.const"() {value = dense<[[[[127]]], [[[-64]]]]> : tensor<2x1x1x1xi8>} : () -> !w
  %b = "qnt.const"() {value = dense<[4032, 0]> : tensor<2xi32>} : () -> !bias
  %1 = "qnt.conv2d"(%0, %w, %b) {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (!x, !w, !bias) -> !acc
  %2 = "qnt.requant"(%1) {multiplier = 1082168654 : i32, shift = 38 : i32, rounding_mode = "SINGLE_ROUND"} : (!acc) -> !y
  %3 = "qnt.clamp"(%2) {min = 0 : i64, max = 127 : i64} : (!y) -> !y
  %4 = "qnt.dequantize"(%3) : (!y) -> tensor<1x4x4x2xf32>
  return %4 : tensor<1x4x4x2xf32>
}
