// RUN: %nibble opt %s | %nibble opt | FileCheck %s
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-tile-size,nibble-plan-memory)' | FileCheck %s --check-prefix=PLAN
// Every tile op (all 23) parses, verifies against the IRDL definition and round-trips; with the
// optional fused fields (neg_multiplier/neg_shift, hswish, swish and sigmoid_table) on the
// layers. Scheduling re-reads every op through its typed reader and checks element types.
// (This function is what nibble-lower-tile makes of lit-tests/qnt/ops.mlir.)
// CHECK-LABEL: func.func @all_ops
// CHECK: "tile.quantize"
// CHECK: "tile.const"
// CHECK: "tile.conv2d"
// CHECK: "tile.depthwise_conv2d"
// CHECK-SAME: neg_multiplier = array<i32: 107374182>, neg_shift = array<i32: 33>
// CHECK: "tile.conv2d"
// CHECK-SAME: hswish = array<i64: 3072, 6144, 1048576, 40, 0>
// CHECK: "tile.conv2d"
// CHECK-SAME: sigmoid_table = dense<16384> : tensor<257xi32>, stride = array<i64: 1, 1>, swish = array<i64: 1048576, 40, 0>
// CHECK: "tile.add"
// CHECK: "tile.clamp"
// CHECK: "tile.mul"
// CHECK: "tile.lut"
// CHECK: "tile.max_pool2d"
// CHECK: "tile.avg_pool2d"
// CHECK: "tile.resize"
// CHECK: "tile.transpose_conv2d"
// CHECK: "tile.squeeze_excite"
// CHECK: "tile.requant"
// CHECK: "tile.slice"
// CHECK: "tile.concat"
// CHECK: "tile.add"
// CHECK: "tile.transpose"
// CHECK: "tile.reshape"
// CHECK: "tile.matmul"
// CHECK: "tile.layer_norm"
// CHECK: "tile.softmax"
// CHECK: "tile.reshape"
// CHECK: "tile.fully_connected"
// CHECK: "tile.dequantize"
// PLAN: func.func @all_ops({{.*}} attributes {nibble.arena_bytes = 128 : i64, nibble.target = "host"}
// PLAN: "tile.conv2d"{{.*}}offset = 0 : i64{{.*}}tile = array<i64: 4, 2>
// PLAN: "tile.fully_connected"{{.*}}tile = array<i64: 3>
func.func @all_ops(%arg0: tensor<1x4x4x2xf32>) -> tensor<1x3xf32> {
  %0 = "tile.quantize"(%arg0) {scale = 5.000000e-01 : f64, zero_point = 0 : i32} : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xi8>
  %1 = "tile.const"() {value = dense<1> : tensor<2x1x1x2xi8>} : () -> tensor<2x1x1x2xi8>
  %2 = "tile.const"() {value = dense<0> : tensor<2xi32>} : () -> tensor<2xi32>
  %3 = "tile.conv2d"(%0, %1, %2) {clamp_max = 127 : i32, clamp_min = 0 : i32, dilation = array<i64: 1, 1>, input_zp = 0 : i32, multiplier = array<i32: 1073741824>, offset = 0 : i64, output_zp = 0 : i32, pad = array<i64: 0, 0, 0, 0>, shift = array<i32: 33>, stride = array<i64: 1, 1>, tile = array<i64: 4, 2>} : (tensor<1x4x4x2xi8>, tensor<2x1x1x2xi8>, tensor<2xi32>) -> tensor<1x4x4x2xi8>
  %4 = "tile.const"() {value = dense<1> : tensor<1x1x2x1xi8>} : () -> tensor<1x1x2x1xi8>
  %5 = "tile.depthwise_conv2d"(%3, %4, %2) {clamp_max = 127 : i32, clamp_min = -128 : i32, dilation = array<i64: 1, 1>, input_zp = 0 : i32, multiplier = array<i32: 1073741824>, neg_multiplier = array<i32: 107374182>, neg_shift = array<i32: 33>, offset = 32 : i64, output_zp = 0 : i32, pad = array<i64: 0, 0, 0, 0>, shift = array<i32: 33>, stride = array<i64: 1, 1>, tile = array<i64: 4, 2>} : (tensor<1x4x4x2xi8>, tensor<1x1x2x1xi8>, tensor<2xi32>) -> tensor<1x4x4x2xi8>
  %6 = "tile.conv2d"(%5, %1, %2) {clamp_max = 127 : i32, clamp_min = -128 : i32, dilation = array<i64: 1, 1>, hswish = array<i64: 3072, 6144, 1048576, 40, 0>, input_zp = 0 : i32, multiplier = array<i32: 1073741824>, offset = 64 : i64, output_zp = 0 : i32, pad = array<i64: 0, 0, 0, 0>, shift = array<i32: 20>, stride = array<i64: 1, 1>, tile = array<i64: 4, 2>} : (tensor<1x4x4x2xi8>, tensor<2x1x1x2xi8>, tensor<2xi32>) -> tensor<1x4x4x2xi8>
  %7 = "tile.conv2d"(%6, %1, %2) {clamp_max = 127 : i32, clamp_min = -128 : i32, dilation = array<i64: 1, 1>, input_zp = 0 : i32, multiplier = array<i32: 1073741824>, offset = 96 : i64, output_zp = 0 : i32, pad = array<i64: 0, 0, 0, 0>, shift = array<i32: 20>, sigmoid_table = dense<16384> : tensor<257xi32>, stride = array<i64: 1, 1>, swish = array<i64: 1048576, 40, 0>, tile = array<i64: 4, 2>} : (tensor<1x4x4x2xi8>, tensor<2x1x1x2xi8>, tensor<2xi32>) -> tensor<1x4x4x2xi8>
  %8 = "tile.add"(%7, %3) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = array<i32: 0, 0>, multiplier = array<i32: 1073741824, 1073741824>, offset = 64 : i64, output_zp = 0 : i32, shift = 31 : i32} : (tensor<1x4x4x2xi8>, tensor<1x4x4x2xi8>) -> tensor<1x4x4x2xi8>
  %9 = "tile.clamp"(%8) {max = 127 : i32, min = 0 : i32, offset = 0 : i64} : (tensor<1x4x4x2xi8>) -> tensor<1x4x4x2xi8>
  %10 = "tile.mul"(%9, %5) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = array<i32: 0, 0>, multiplier = 1073741824 : i32, offset = 64 : i64, output_zp = 0 : i32, shift = 31 : i32} : (tensor<1x4x4x2xi8>, tensor<1x4x4x2xi8>) -> tensor<1x4x4x2xi8>
  %11 = "tile.lut"(%10) {offset = 0 : i64, table = dense<1> : tensor<256xi8>} : (tensor<1x4x4x2xi8>) -> tensor<1x4x4x2xi8>
  %12 = "tile.max_pool2d"(%11) {kernel = array<i64: 2, 2>, offset = 64 : i64, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : (tensor<1x4x4x2xi8>) -> tensor<1x2x2x2xi8>
  %13 = "tile.avg_pool2d"(%11) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = 0 : i32, kernel = array<i64: 2, 2>, multiplier = array<i32: 1073741824>, offset = 32 : i64, output_zp = 0 : i32, pad = array<i64: 0, 0, 0, 0>, shift = array<i32: 32>, stride = array<i64: 2, 2>} : (tensor<1x4x4x2xi8>) -> tensor<1x2x2x2xi8>
  %14 = "tile.resize"(%13) {clamp_max = 127 : i32, clamp_min = -128 : i32, image_offset = array<i64: -1, -1>, input_zp = 0 : i32, mode = "nearest", multiplier = array<i32: 1073741824>, offset = 0 : i64, output_zp = 0 : i32, scale = array<i64: 4, 2, 4, 2>, shift = array<i32: 30>} : (tensor<1x2x2x2xi8>) -> tensor<1x4x4x2xi8>
  %15 = "tile.const"() {value = dense<1> : tensor<2x2x2x2xi8>} : () -> tensor<2x2x2x2xi8>
  %16 = "tile.transpose_conv2d"(%12, %15, %2) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = 0 : i32, multiplier = array<i32: 1073741824>, offset = 32 : i64, out_pad = array<i64: 0, 0, 0, 0>, output_zp = 0 : i32, shift = array<i32: 33>, stride = array<i64: 2, 2>} : (tensor<1x2x2x2xi8>, tensor<2x2x2x2xi8>, tensor<2xi32>) -> tensor<1x4x4x2xi8>
  %17 = "tile.const"() {value = dense<1> : tensor<1x2xi8>} : () -> tensor<1x2xi8>
  %18 = "tile.const"() {value = dense<0> : tensor<1xi32>} : () -> tensor<1xi32>
  %19 = "tile.const"() {value = dense<1> : tensor<2x1xi8>} : () -> tensor<2x1xi8>
  %20 = "tile.squeeze_excite"(%16, %17, %18, %19, %2) {clamp_max = 127 : i32, clamp_min = -128 : i32, gate_multiplier = array<i32: 1073741824, 1073741824>, gate_shift = array<i32: 30, 30>, gate_table = array<i32>, hidden_max = 32767 : i32, hidden_multiplier = array<i32: 1073741824>, hidden_out_shift = 0 : i32, hidden_shift = array<i32: 30>, hidden_table = array<i32>, input_zp = 0 : i32, multiplier = 1073741824 : i32, offset = 64 : i64, output_zp = 0 : i32, pool_multiplier = 1073741824 : i32, pool_shift = 30 : i32, shift = 45 : i32} : (tensor<1x4x4x2xi8>, tensor<1x2xi8>, tensor<1xi32>, tensor<2x1xi8>, tensor<2xi32>) -> tensor<1x4x4x2xi8>
  %21 = "tile.requant"(%14) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = 0 : i32, multiplier = array<i32: 1073741824>, offset = 32 : i64, output_zp = 0 : i32, shift = array<i32: 30>} : (tensor<1x4x4x2xi8>) -> tensor<1x4x4x2xi8>
  %22 = "tile.slice"(%20) {offset = 96 : i64, start = array<i64: 0, 2, 0, 0>} : (tensor<1x4x4x2xi8>) -> tensor<1x2x4x2xi8>
  %23 = "tile.concat"(%22, %22) {axis = 1 : i32, offset = 0 : i64} : (tensor<1x2x4x2xi8>, tensor<1x2x4x2xi8>) -> tensor<1x4x4x2xi8>
  %24 = "tile.add"(%23, %21) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = array<i32: 0, 0>, multiplier = array<i32: 1073741824, 1073741824>, offset = 64 : i64, output_zp = 0 : i32, shift = 31 : i32} : (tensor<1x4x4x2xi8>, tensor<1x4x4x2xi8>) -> tensor<1x4x4x2xi8>
  %25 = "tile.transpose"(%24) {offset = 0 : i64, perms = array<i32: 0, 3, 1, 2>} : (tensor<1x4x4x2xi8>) -> tensor<1x2x4x4xi8>
  %26 = "tile.reshape"(%25) {offset = 0 : i64} : (tensor<1x2x4x4xi8>) -> tensor<2x4x4xi8>
  %27 = "tile.matmul"(%26, %26) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = 0 : i32, multiplier = array<i32: 1073741824>, offset = 32 : i64, output_zp = 0 : i32, rhs_zp = 0 : i32, shift = array<i32: 31>} : (tensor<2x4x4xi8>, tensor<2x4x4xi8>) -> tensor<2x4x4xi8>
  %28 = "tile.layer_norm"(%27) {bias = array<i64: 0, 0, 0, 0>, clamp_max = 127 : i32, clamp_min = -128 : i32, eps_term = 1 : i64, input_zp = 0 : i32, multiplier = array<i32: 1073741824, 1073741824, 1073741824, 1073741824>, offset = 0 : i64, output_zp = 0 : i32, shift = array<i32: 40, 40, 40, 40>} : (tensor<2x4x4xi8>) -> tensor<2x4x4xi8>
  %29 = "tile.softmax"(%28) {clamp_max = 127 : i32, clamp_min = -128 : i32, exp_table = dense<32768> : tensor<256xi32>, frac_bits = 7 : i32, offset = 32 : i64, output_zp = 0 : i32} : (tensor<2x4x4xi8>) -> tensor<2x4x4xi8>
  %30 = "tile.reshape"(%29) {offset = 32 : i64} : (tensor<2x4x4xi8>) -> tensor<1x32xi8>
  %31 = "tile.const"() {value = dense<1> : tensor<3x32xi8>} : () -> tensor<3x32xi8>
  %32 = "tile.const"() {value = dense<0> : tensor<3xi32>} : () -> tensor<3xi32>
  %33 = "tile.fully_connected"(%30, %31, %32) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = 0 : i32, multiplier = array<i32: 1073741824>, offset = 0 : i64, output_zp = 0 : i32, shift = array<i32: 30>, tile = array<i64: 3>} : (tensor<1x32xi8>, tensor<3x32xi8>, tensor<3xi32>) -> tensor<1x3xi8>
  %34 = "tile.dequantize"(%33) {scale = 5.000000e-01 : f64, zero_point = 0 : i32} : (tensor<1x3xi8>) -> tensor<1x3xf32>
  return %34 : tensor<1x3xf32>
}
