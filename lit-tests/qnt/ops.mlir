// RUN: %nibble opt %s | %nibble opt | FileCheck %s
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-lower-tile)' | FileCheck %s --check-prefix=TILE
// Every qnt op (all 26) parses, verifies against the IRDL definition, round-trips, passes the
// element-type check and lowers to the tile level.

!q = !quant.uniform<i8:f32, 5.0e-1>
!w = !quant.uniform<i8:f32, 1.0e-1>
!acc = !quant.uniform<i32:f32, 5.0e-2>
!mm = !quant.uniform<i32:f32, 2.5e-1>
!p = !quant.uniform<i8:f32, 7.8125e-3>
!fc = !quant.uniform<i32:f32, 7.8125e-4>
// CHECK-LABEL: func.func @all_ops
// CHECK: "qnt.quantize"
// CHECK: "qnt.const"
// CHECK: "qnt.conv2d"
// CHECK: "qnt.requant"
// CHECK-SAME: rounding_mode = "SINGLE_ROUND"
// CHECK: "qnt.clamp"
// CHECK: "qnt.depthwise_conv2d"
// CHECK: "qnt.prelu"
// CHECK: "qnt.hard_swish"
// CHECK: "qnt.swish"
// CHECK: "qnt.add"
// CHECK: "qnt.mul"
// CHECK: "qnt.lut"
// CHECK: "qnt.max_pool2d"
// CHECK: "qnt.avg_pool2d"
// CHECK: "qnt.resize"
// CHECK: "qnt.transpose_conv2d"
// CHECK: "qnt.squeeze_excite"
// CHECK: "qnt.slice"
// CHECK: "qnt.concat"
// CHECK: "qnt.transpose"
// CHECK: "qnt.reshape"
// CHECK: "qnt.matmul"
// CHECK: "qnt.layer_norm"
// CHECK: "qnt.softmax"
// CHECK: "qnt.fully_connected"
// CHECK: "qnt.dequantize"
// TILE-LABEL: func.func @all_ops
// TILE: "tile.quantize"
// TILE: "tile.conv2d"
// TILE-SAME: clamp_max = 127 : i32, clamp_min = 0 : i32
// TILE: "tile.depthwise_conv2d"
// TILE-SAME: neg_multiplier = array<i32: 107374182>
// TILE: "tile.conv2d"
// TILE-SAME: hswish = array<i64: 3072, 6144, 1048576, 40, 0>
// TILE: "tile.conv2d"
// TILE-SAME: swish = array<i64: 1048576, 40, 0>
// TILE: "tile.add"
// TILE: "tile.clamp"
// TILE: "tile.mul"
// TILE: "tile.lut"
// TILE: "tile.max_pool2d"
// TILE: "tile.avg_pool2d"
// TILE: "tile.resize"
// TILE: "tile.transpose_conv2d"
// TILE: "tile.squeeze_excite"
// TILE: "tile.requant"
// TILE: "tile.slice"
// TILE: "tile.concat"
// TILE: "tile.transpose"
// TILE: "tile.reshape"
// TILE: "tile.matmul"
// TILE: "tile.layer_norm"
// TILE: "tile.softmax"
// TILE: "tile.fully_connected"
// TILE: "tile.dequantize"
func.func @all_ops(%arg0: tensor<1x4x4x2xf32>) -> tensor<1x3xf32> {
  %x = "qnt.quantize"(%arg0) : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2x!q>
  %w = "qnt.const"() {value = dense<1> : tensor<2x1x1x2xi8>} : () -> tensor<2x1x1x2x!w>
  %b = "qnt.const"() {value = dense<0> : tensor<2xi32>} : () -> tensor<2x!acc>
  %c1 = "qnt.conv2d"(%x, %w, %b) {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2x!q>, tensor<2x1x1x2x!w>, tensor<2x!acc>) -> tensor<1x4x4x2x!acc>
  %r1 = "qnt.requant"(%c1) {multiplier = 1073741824 : i32, shift = 33 : i32, rounding_mode = "SINGLE_ROUND"} : (tensor<1x4x4x2x!acc>) -> tensor<1x4x4x2x!q>
  %relu = "qnt.clamp"(%r1) {min = 0 : i64, max = 127 : i64} : (tensor<1x4x4x2x!q>) -> tensor<1x4x4x2x!q>
  %dw = "qnt.const"() {value = dense<1> : tensor<1x1x2x1xi8>} : () -> tensor<1x1x2x1x!w>
  %c2 = "qnt.depthwise_conv2d"(%relu, %dw, %b) {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2x!q>, tensor<1x1x2x1x!w>, tensor<2x!acc>) -> tensor<1x4x4x2x!acc>
  %pr = "qnt.prelu"(%c2) {pos_multiplier = array<i32: 1073741824>, pos_shift = array<i32: 33>, neg_multiplier = array<i32: 107374182>, neg_shift = array<i32: 33>} : (tensor<1x4x4x2x!acc>) -> tensor<1x4x4x2x!q>
  %c3 = "qnt.conv2d"(%pr, %w, %b) {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2x!q>, tensor<2x1x1x2x!w>, tensor<2x!acc>) -> tensor<1x4x4x2x!acc>
  %hs = "qnt.hard_swish"(%c3) {mid_multiplier = array<i32: 1073741824>, mid_shift = array<i32: 20>, three = 3072 : i64, six = 6144 : i64, multiplier = array<i32: 1048576>, shift = array<i32: 40>, bias = array<i64: 0>} : (tensor<1x4x4x2x!acc>) -> tensor<1x4x4x2x!q>
  %c4 = "qnt.conv2d"(%hs, %w, %b) {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2x!q>, tensor<2x1x1x2x!w>, tensor<2x!acc>) -> tensor<1x4x4x2x!acc>
  %sw = "qnt.swish"(%c4) {mid_multiplier = array<i32: 1073741824>, mid_shift = array<i32: 20>, multiplier = array<i32: 1048576>, shift = array<i32: 40>, bias = array<i64: 0>, sigmoid_table = dense<16384> : tensor<257xi32>} : (tensor<1x4x4x2x!acc>) -> tensor<1x4x4x2x!q>
  %add = "qnt.add"(%sw, %relu) {multiplier = array<i32: 1073741824, 1073741824>, shift = 31 : i32} : (tensor<1x4x4x2x!q>, tensor<1x4x4x2x!q>) -> tensor<1x4x4x2x!q>
  %sum = "qnt.clamp"(%add) {min = 0 : i64, max = 127 : i64} : (tensor<1x4x4x2x!q>) -> tensor<1x4x4x2x!q>
  %mul = "qnt.mul"(%sum, %pr) {multiplier = 1073741824 : i32, shift = 31 : i32} : (tensor<1x4x4x2x!q>, tensor<1x4x4x2x!q>) -> tensor<1x4x4x2x!q>
  %lut = "qnt.lut"(%mul) {table = dense<1> : tensor<256xi8>, function = "sigmoid"} : (tensor<1x4x4x2x!q>) -> tensor<1x4x4x2x!q>
  %mp = "qnt.max_pool2d"(%lut) {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x4x4x2x!q>) -> tensor<1x2x2x2x!q>
  %ap = "qnt.avg_pool2d"(%lut) {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, multiplier = array<i32: 1073741824>, shift = array<i32: 32>} : (tensor<1x4x4x2x!q>) -> tensor<1x2x2x2x!q>
  %up = "qnt.resize"(%ap) {mode = "nearest", scale = array<i64: 4, 2, 4, 2>, image_offset = array<i64: -1, -1>, multiplier = 1073741824 : i32, shift = 30 : i32} : (tensor<1x2x2x2x!q>) -> tensor<1x4x4x2x!q>
  %tw = "qnt.const"() {value = dense<1> : tensor<2x2x2x2xi8>} : () -> tensor<2x2x2x2x!w>
  %tc = "qnt.transpose_conv2d"(%mp, %tw, %b) {out_pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : (tensor<1x2x2x2x!q>, tensor<2x2x2x2x!w>, tensor<2x!acc>) -> tensor<1x4x4x2x!acc>
  %tr = "qnt.requant"(%tc) {multiplier = 1073741824 : i32, shift = 33 : i32, rounding_mode = "SINGLE_ROUND"} : (tensor<1x4x4x2x!acc>) -> tensor<1x4x4x2x!q>
  %w1 = "qnt.const"() {value = dense<1> : tensor<1x2xi8>} : () -> tensor<1x2x!w>
  %b1 = "qnt.const"() {value = dense<0> : tensor<1xi32>} : () -> tensor<1x!acc>
  %w2 = "qnt.const"() {value = dense<1> : tensor<2x1xi8>} : () -> tensor<2x1x!w>
  %se = "qnt.squeeze_excite"(%tr, %w1, %b1, %w2, %b) {pool_multiplier = 1073741824 : i32, pool_shift = 30 : i32, hidden_multiplier = array<i32: 1073741824>, hidden_shift = array<i32: 30>, hidden_max = 32767 : i32, hidden_table = array<i32>, hidden_out_shift = 0 : i32, gate_multiplier = array<i32: 1073741824, 1073741824>, gate_shift = array<i32: 30, 30>, gate_table = array<i32>, multiplier = 1073741824 : i32, shift = 45 : i32} : (tensor<1x4x4x2x!q>, tensor<1x2x!w>, tensor<1x!acc>, tensor<2x1x!w>, tensor<2x!acc>) -> tensor<1x4x4x2x!q>
  %up2 = "qnt.requant"(%up) {multiplier = 1073741824 : i32, shift = 30 : i32, rounding_mode = "SINGLE_ROUND"} : (tensor<1x4x4x2x!q>) -> tensor<1x4x4x2x!q>
  %sl = "qnt.slice"(%se) {start = array<i64: 0, 2, 0, 0>} : (tensor<1x4x4x2x!q>) -> tensor<1x2x4x2x!q>
  %cat = "qnt.concat"(%sl, %sl) {axis = 1 : i32} : (tensor<1x2x4x2x!q>, tensor<1x2x4x2x!q>) -> tensor<1x4x4x2x!q>
  %both = "qnt.add"(%cat, %up2) {multiplier = array<i32: 1073741824, 1073741824>, shift = 31 : i32} : (tensor<1x4x4x2x!q>, tensor<1x4x4x2x!q>) -> tensor<1x4x4x2x!q>
  %tp = "qnt.transpose"(%both) {perms = array<i32: 0, 3, 1, 2>} : (tensor<1x4x4x2x!q>) -> tensor<1x2x4x4x!q>
  %rows = "qnt.reshape"(%tp) : (tensor<1x2x4x4x!q>) -> tensor<2x4x4x!q>
  %mm = "qnt.matmul"(%rows, %rows) : (tensor<2x4x4x!q>, tensor<2x4x4x!q>) -> tensor<2x4x4x!mm>
  %mr = "qnt.requant"(%mm) {multiplier = 1073741824 : i32, shift = 31 : i32, rounding_mode = "SINGLE_ROUND"} : (tensor<2x4x4x!mm>) -> tensor<2x4x4x!q>
  %ln = "qnt.layer_norm"(%mr) {multiplier = array<i32: 1073741824, 1073741824, 1073741824, 1073741824>, shift = array<i32: 40, 40, 40, 40>, bias = array<i64: 0, 0, 0, 0>, eps_term = 1 : i64} : (tensor<2x4x4x!q>) -> tensor<2x4x4x!q>
  %sm = "qnt.softmax"(%ln) {exp_table = dense<32768> : tensor<256xi32>, frac_bits = 7 : i32} : (tensor<2x4x4x!q>) -> tensor<2x4x4x!p>
  %flat = "qnt.reshape"(%sm) : (tensor<2x4x4x!p>) -> tensor<1x32x!p>
  %fw = "qnt.const"() {value = dense<1> : tensor<3x32xi8>} : () -> tensor<3x32x!w>
  %fb = "qnt.const"() {value = dense<0> : tensor<3xi32>} : () -> tensor<3x!fc>
  %fc = "qnt.fully_connected"(%flat, %fw, %fb) : (tensor<1x32x!p>, tensor<3x32x!w>, tensor<3x!fc>) -> tensor<1x3x!fc>
  %o = "qnt.requant"(%fc) {multiplier = 1073741824 : i32, shift = 30 : i32, rounding_mode = "SINGLE_ROUND"} : (tensor<1x3x!fc>) -> tensor<1x3x!q>
  %y = "qnt.dequantize"(%o) : (tensor<1x3x!q>) -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}
