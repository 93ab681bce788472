// RUN: not %nibble opt %s --split-input-file --pass-pipeline='builtin.module(nibble-check-accumulators)' 2>&1 | FileCheck %s

// Accumulators that no int64 path holds are refused, naming the op, its location (the ONNX
// node), the accumulator, how its bound is made, the bound and the C type.

// A pool over 2^32 taps: its int64 window sum fits, but not the sum times its multiplier.
// CHECK: error: nibble-check-accumulators: 'tile.avg_pool2d' at loc("huge_pool"): its int64 rescaling may overflow: accumulator × multiplier = 1175979934698983915520 exceeds int64 (2^63 − 1)
func.func @huge_pool(%arg0: tensor<1x65536x65536x1xf32>) -> tensor<1x1x1x1xf32> {
  %0 = "tile.quantize"(%arg0) {scale = 7.8431372549019607E-3 : f64, zero_point = -128 : i32} : (tensor<1x65536x65536x1xf32>) -> tensor<1x65536x65536x1xi8>
  %1 = "tile.avg_pool2d"(%0) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = -128 : i32, kernel = array<i64: 65536, 65536>, multiplier = array<i32: 1073741824>, offset = 0 : i64, output_zp = -128 : i32, pad = array<i64: 0, 0, 0, 0>, shift = array<i32: 62>, stride = array<i64: 1, 1>} : (tensor<1x65536x65536x1xi8>) -> tensor<1x1x1x1xi8> loc("huge_pool")
  %2 = "tile.dequantize"(%1) {scale = 7.8431372549019607E-3 : f64, zero_point = -128 : i32} : (tensor<1x1x1x1xi8>) -> tensor<1x1x1x1xf32>
  return %2 : tensor<1x1x1x1xf32>
}

// -----

// A matmul reducing 40000 products of int8 operands with zero points -128: 40000 × 255 × 255.
// CHECK: error: nibble-check-accumulators: 'tile.matmul' at loc("attention"): its int32 accumulator may overflow: 40000 products × max|a − za| 255 × max|b − zb| 255 = 2601000000 exceeds int32 (2^31 − 1)
func.func @matmul(%arg0: tensor<1x2x40000xf32>, %arg1: tensor<1x40000x2xf32>) -> tensor<1x2x2xf32> {
  %0 = "tile.quantize"(%arg0) {scale = 5.000000e-01 : f64, zero_point = -128 : i32} : (tensor<1x2x40000xf32>) -> tensor<1x2x40000xi8>
  %1 = "tile.quantize"(%arg1) {scale = 5.000000e-01 : f64, zero_point = -128 : i32} : (tensor<1x40000x2xf32>) -> tensor<1x40000x2xi8>
  %2 = "tile.matmul"(%0, %1) {clamp_max = 127 : i32, clamp_min = -128 : i32, input_zp = -128 : i32, multiplier = array<i32: 1073741824>, offset = 0 : i64, output_zp = 0 : i32, rhs_zp = -128 : i32, shift = array<i32: 50>} : (tensor<1x2x40000xi8>, tensor<1x40000x2xi8>) -> tensor<1x2x2xi8> loc("attention")
  %3 = "tile.dequantize"(%2) {scale = 5.000000e-01 : f64, zero_point = 0 : i32} : (tensor<1x2x2xi8>) -> tensor<1x2x2xf32>
  return %3 : tensor<1x2x2xf32>
}

// -----

// A softmax over 200000 classes: its denominator, up to 200000 × 32768, needs 33 bits.
// CHECK: error: nibble-check-accumulators: 'tile.softmax' at loc("classes"): its denominator may overflow: 200000 terms × max exp 32768 = 6553600000 exceeds 2^32 − 1
func.func @softmax(%arg0: tensor<1x200000xf32>) -> tensor<1x200000xf32> {
  %0 = "tile.quantize"(%arg0) {scale = 5.000000e-01 : f64, zero_point = 0 : i32} : (tensor<1x200000xf32>) -> tensor<1x200000xi8>
  %1 = "tile.softmax"(%0) {clamp_max = 127 : i32, clamp_min = -128 : i32, exp_table = dense<32768> : tensor<256xi32>, frac_bits = 7 : i32, offset = 0 : i64, output_zp = 0 : i32} : (tensor<1x200000xi8>) -> tensor<1x200000xi8> loc("classes")
  %2 = "tile.dequantize"(%1) {scale = 7.8125E-3 : f64, zero_point = 0 : i32} : (tensor<1x200000xi8>) -> tensor<1x200000xf32>
  return %2 : tensor<1x200000xf32>
}

// -----

// A LayerNorm over 5000 channels: more than the runtime's row buffer.
// CHECK: error: nibble-check-accumulators: 'tile.layer_norm' at loc("norm"): its row buffer may overflow: 5000 channels (the runtime's is 4096) = 5000 exceeds the runtime's buffers (4096)
func.func @layer_norm(%arg0: tensor<1x5000xf32>) -> tensor<1x5000xf32> {
  %0 = "tile.quantize"(%arg0) {scale = 5.000000e-01 : f64, zero_point = 0 : i32} : (tensor<1x5000xf32>) -> tensor<1x5000xi8>
  %1 = "tile.layer_norm"(%0) {bias = array<i64: 0>, clamp_max = 127 : i32, clamp_min = -128 : i32, eps_term = 1 : i64, input_zp = 0 : i32, multiplier = array<i32: 1073741824>, offset = 0 : i64, output_zp = 0 : i32, shift = array<i32: 40>} : (tensor<1x5000xi8>) -> tensor<1x5000xi8> loc("norm")
  %2 = "tile.dequantize"(%1) {scale = 7.8125E-3 : f64, zero_point = 0 : i32} : (tensor<1x5000xi8>) -> tensor<1x5000xf32>
  return %2 : tensor<1x5000xf32>
}
